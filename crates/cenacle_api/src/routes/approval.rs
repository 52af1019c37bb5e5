//! A group's approval queue: its settings, its pending posts, and moderators' decisions.

use super::posts::{detail, local_host, post_view, Authors, PostDetailView, PostView};
use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth},
    pagination::{Page, PageQuery},
    AppState,
};
use axum::{
    extract::{Path, State},
    Json,
};
use cenacle_core::{approval, groups, Caller, ScopedFutureExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A group's approval settings. Whatever they say, posts from an instance our admins limited
/// always wait; the group's moderators never do.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSettingsView {
    /// Hold posts for approval at all.
    pub enabled: bool,
    /// A member's first this many posts in the group wait (0 to 1000).
    #[serde(default)]
    pub first_posts: i32,
    /// Posts of members below this reputation wait.
    #[serde(default)]
    pub min_reputation: i64,
}

impl From<approval::Settings> for ApprovalSettingsView {
    fn from(s: approval::Settings) -> Self {
        Self {
            enabled: s.enabled,
            first_posts: s.first_posts,
            min_reputation: s.min_reputation,
        }
    }
}

/// A group's approval settings (its moderators).
#[utoipa::path(get, path = "/api/v1/groups/{name}/approval", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 200, body = ApprovalSettingsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn settings(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<ApprovalSettingsView>> {
    let caller = Caller::from(&session);
    let mut conn = state.ctx.conn().await?;
    let group = groups::local_group(&mut conn, &name).await?;
    let settings = approval::settings(&mut conn, &caller, &group).await?;
    Ok(Json(settings.into()))
}

/// Change a group's approval settings (its moderators).
#[utoipa::path(put, path = "/api/v1/groups/{name}/approval", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path)), request_body = ApprovalSettingsView,
    responses((status = 200, body = ApprovalSettingsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_settings(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<ApprovalSettingsView>,
) -> ApiResult<Json<ApprovalSettingsView>> {
    let caller = Caller::from(&session);
    let (caller, name) = (&caller, &name);
    let settings = approval::Settings {
        enabled: req.enabled,
        first_posts: req.first_posts,
        min_reputation: req.min_reputation,
    };
    let saved = state
        .ctx
        .transaction(|conn| {
            async move {
                let group = groups::local_group(conn, name).await?;
                approval::set_settings(conn, caller, &group, settings).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PendingQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A group's posts waiting for approval, oldest first (its moderators).
#[utoipa::path(get, path = "/api/v1/groups/{name}/pending", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path), PendingQuery),
    responses((status = 200, body = Page<PostView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pending(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<PendingQuery>,
) -> ApiResult<Json<Page<PostView>>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let caller = Caller::from(&session);
    let mut conn = state.ctx.conn().await?;
    let group = groups::local_group(&mut conn, &name).await?;
    let posts =
        approval::pending_posts(&mut conn, &caller, &group, page.after_id()?, limit + 1).await?;
    let ids: Vec<i64> = posts.iter().map(|p| p.author_id).collect();
    let authors = Authors::load(&mut conn, &ids).await?;
    let host = local_host(&state);
    Ok(Json(Page::from_rows(
        posts,
        limit,
        |p| p.id,
        |p| post_view(p, &group.name, &authors, &host),
    )))
}

/// Approve a post waiting for approval (a moderator of its group): it is published now, as if
/// just posted — it federates and counts. Refused while its author is banned from the group or
/// the instance (409 `author_banned`), and once it was removed (403). Decided in the group the
/// post is in when the approval commits: one a champion moved it into meanwhile answers 404 to
/// a moderator of the group it left only.
#[utoipa::path(post, path = "/api/v1/posts/{id}/approve", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = PostDetailView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, description = "`database_busy`: a ban being written kept this waiting past the bound, or no database connection was free; retry after `Retry-After`", body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = Caller::from(&session);
    let (state, caller) = (&state, &caller);
    let view = state
        .ctx
        .transaction(|conn| {
            async move {
                approval::approve(conn, &state.ctx, caller, id).await?;
                detail(conn, state, Some(caller), id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Shown to the author.
    #[serde(default)]
    pub reason: String,
}

/// Reject a post waiting for approval (a moderator of its group): never published; its author
/// sees the reason. Decided in the group the post is in when the rejection commits, as an
/// approval (404 to a moderator of the group a move took it out of).
#[utoipa::path(post, path = "/api/v1/posts/{id}/reject", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RejectRequest,
    responses((status = 200, body = PostDetailView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, description = "the reason is too long", body = ErrorBody), (status = 503, description = "`database_busy`: a ban being written kept this waiting past the bound, or no database connection was free; retry after `Retry-After`", body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RejectRequest>,
) -> ApiResult<Json<PostDetailView>> {
    let caller = Caller::from(&session);
    let (state, caller, reason) = (&state, &caller, &req.reason);
    let view = state
        .ctx
        .transaction(|conn| {
            async move {
                approval::reject(conn, caller, id, reason).await?;
                detail(conn, state, Some(caller), id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(view))
}
