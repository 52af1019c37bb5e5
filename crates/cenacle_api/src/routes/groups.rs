//! `/api/v1/groups`: the minimal groups federation needs (the groups work extends it).

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, Auth, MaybeAuth},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{admin, groups, model::Group, Caller, ScopedFutureExt};
use cenacle_domain::{content::Visibility, Permission};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct GroupView {
    pub name: String,
    pub title: String,
    pub description: String,
    /// The group's ActivityPub id; follow it from any fediverse server.
    pub ap_id: String,
    /// `name@host`, for searching from other servers (`!name@host` on Lemmy).
    pub handle: String,
    pub local: bool,
    pub visibility: String,
    /// How many follow the group; absent for a remote group, and for a private group to
    /// those who are not in it.
    pub followers: Option<i64>,
    pub rules: String,
    pub tags: Vec<String>,
    pub avatar_url: Option<String>,
    pub banner_url: Option<String>,
    pub dislikes_enabled: bool,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
}

impl GroupView {
    pub fn new(group: Group, followers: Option<i64>) -> Self {
        Self {
            handle: format!("{}@{}", group.name, group.instance_host),
            name: group.name,
            title: group.title,
            description: group.description,
            ap_id: group.ap_id,
            local: group.local,
            visibility: group.visibility,
            followers,
            rules: group.rules,
            tags: group.tags,
            avatar_url: group.avatar_url,
            banner_url: group.banner_url,
            dislikes_enabled: group.dislikes_enabled,
            archived: group.archived_at.is_some(),
            created_at: group.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// Lowercase letters, digits and `_`; becomes the group's handle.
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// `public` (default: anyone reads and posts), `restricted` (anyone reads, members post) or
    /// `private` (members only; never federated publicly).
    #[serde(default = "public")]
    #[schema(value_type = String, example = "public")]
    pub visibility: Visibility,
}

fn public() -> Visibility {
    Visibility::Public
}

/// Create a group (admins and community managers).
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", security(("bearer" = [])),
    request_body = CreateGroup,
    responses((status = 201, body = GroupView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<CreateGroup>,
) -> ApiResult<(StatusCode, Json<GroupView>)> {
    // Refused before the group's keys are made (slow work), and again by the use case.
    admin::require(&session, Permission::ManageGroups)?;
    let prepared = groups::prepare_group(
        &state.ctx,
        &req.name,
        &req.title,
        &req.description,
        req.visibility,
    )
    .await?;
    let group = state
        .ctx
        .transaction(|conn| groups::create_group(conn, &session, &prepared).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(GroupView::new(group, Some(0)))))
}

/// A local group.
#[utoipa::path(get, path = "/api/v1/groups/{name}", tag = "groups",
    params(("name" = String, Path)),
    responses((status = 200, body = GroupView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    Path(name): Path<String>,
) -> ApiResult<Json<GroupView>> {
    let mut conn = state.ctx.conn().await?;
    let group = groups::local_group(&mut conn, &name).await?;
    let caller = session.as_ref().map(Caller::from);
    let followers = groups::follower_count(&mut conn, &group, caller.as_ref().into()).await?;
    Ok(Json(GroupView::new(group, followers)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    pub title: Option<String>,
    pub description: Option<String>,
    /// The group's rules (Markdown).
    pub rules: Option<String>,
    pub tags: Option<Vec<String>>,
    pub avatar_url: Option<String>,
    pub banner_url: Option<String>,
    /// Allow dislikes on the group's posts and comments.
    pub dislikes_enabled: Option<bool>,
    /// Archived groups are read-only.
    pub archived: Option<bool>,
}

/// Edit a group's settings (its owner and moderators, community managers); followers on other
/// servers receive an Update.
#[utoipa::path(patch, path = "/api/v1/groups/{name}", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path)),
    request_body = UpdateGroup,
    responses((status = 200, body = GroupView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<UpdateGroup>,
) -> ApiResult<Json<GroupView>> {
    let change = groups::GroupSettingsChange {
        title: req.title,
        description: req.description,
        rules: req.rules,
        tags: req.tags,
        avatar_url: req.avatar_url,
        banner_url: req.banner_url,
        dislikes_enabled: req.dislikes_enabled,
        archived: req.archived,
    };
    let caller = Caller::from(&session);
    let (caller, name) = (&caller, &name);
    let (group, followers) = state
        .ctx
        .transaction(|conn| {
            async move {
                let group = groups::update_group(conn, caller, name, change).await?;
                let followers = groups::follower_count(conn, &group, caller.into()).await?;
                Ok((group, followers))
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(GroupView::new(group, followers)))
}
