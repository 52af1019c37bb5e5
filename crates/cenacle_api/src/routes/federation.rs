//! `/api/v1/resolve` and `/api/v1/follows`: finding people and groups anywhere on the
//! fediverse, and following them.

use super::groups::GroupView;
use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth},
    AppState,
};
use axum::{extract::State, http::StatusCode, Json};
use cenacle_apub::follows::{self, Resolved};
use cenacle_core::Caller;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// `!group@host`, `@person@host`, `name@host`, or an actor URL.
    pub q: String,
}

#[derive(Serialize, ToSchema)]
pub struct PersonSummary {
    pub ap_id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub handle: String,
    pub local: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResolvedView {
    Person(PersonSummary),
    Group(GroupView),
}

async fn view(state: &AppState, caller: &Caller, resolved: Resolved) -> ApiResult<ResolvedView> {
    Ok(match resolved {
        Resolved::Person(p) => {
            let row = p.row;
            let host = row
                .handle_host()
                .map(str::to_owned)
                .unwrap_or_else(|| cenacle_core::identity::local_host(&state.ctx.settings));
            ResolvedView::Person(PersonSummary {
                ap_id: row.ap_id.clone().unwrap_or_default(),
                handle: format!("{}@{host}", row.username),
                username: row.username,
                display_name: row.display_name,
                local: row.local,
            })
        }
        Resolved::Group(g) => {
            let mut conn = state.ctx.conn().await?;
            let followers =
                cenacle_core::groups::follower_count(&mut conn, &g.row, caller.into()).await?;
            ResolvedView::Group(GroupView::new(g.row, followers))
        }
    })
}

/// Find a person or group by handle or URL, here or on another server (fetched and cached).
#[utoipa::path(get, path = "/api/v1/resolve", tag = "federation", security(("bearer" = [])),
    params(ResolveQuery),
    responses((status = 200, body = ResolvedView), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(query): ApiQuery<ResolveQuery>,
) -> ApiResult<Json<ResolvedView>> {
    let resolved = follows::resolve(&state.federation, &query.q).await?;
    Ok(Json(view(&state, &Caller::from(&session), resolved).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowRequest {
    /// Handle or URL of the group or person to follow.
    pub target: String,
}

#[derive(Serialize, ToSchema)]
pub struct FollowView {
    /// ActivityPub id of what is followed.
    pub target: String,
    /// `pending` until the remote server accepts, then `accepted`.
    pub state: String,
    /// The group's title as this instance last heard it (kept current by the group's Updates).
    pub title: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// Follow a group or person, here or on another server.
#[utoipa::path(post, path = "/api/v1/follows", tag = "federation", security(("bearer" = [])),
    request_body = FollowRequest,
    responses((status = 202, body = FollowView), (status = 404, body = ErrorBody)))]
pub async fn follow(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<FollowRequest>,
) -> ApiResult<(StatusCode, Json<FollowView>)> {
    let (target, follow_state) = follows::follow(&state.federation, &session, &req.target).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(FollowView {
            target: target.id().to_string(),
            title: match &target {
                Resolved::Group(g) => Some(g.row.title.clone()),
                Resolved::Person(_) => None,
            },
            state: follow_state,
            created_at: None,
        }),
    ))
}

/// What I follow, with each follow's state.
#[utoipa::path(get, path = "/api/v1/follows", tag = "federation", security(("bearer" = [])),
    responses((status = 200, body = Vec<FollowView>)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Vec<FollowView>>> {
    let rows = follows::my_follows(&state.federation, &session).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(r, title)| FollowView {
                target: r.target_ap_id,
                state: r.state,
                title,
                created_at: Some(r.created_at),
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnfollowQuery {
    /// ActivityPub id of what to stop following.
    pub target: String,
}

/// Stop following (an Undo is sent to remote servers).
#[utoipa::path(delete, path = "/api/v1/follows", tag = "federation", security(("bearer" = [])),
    params(UnfollowQuery),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn unfollow(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(query): ApiQuery<UnfollowQuery>,
) -> ApiResult<StatusCode> {
    follows::unfollow(&state.federation, &session, &query.target).await?;
    Ok(StatusCode::NO_CONTENT)
}
