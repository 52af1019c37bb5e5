//! A moderator's removal and restore of a post or comment (distinct from an author's
//! delete): the content is hidden from everyone but the group's moderators and its author,
//! who see it marked removed with the reason; federated as Lemmy 1.0 reads it.

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, Auth},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use cenacle_core::{moderation, Caller, ScopedFutureExt};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovalRequest {
    /// Shown to the author and the group's moderators, in the moderation log, and sent to
    /// other servers.
    pub reason: String,
}

/// Remove a post: the group's moderators (local or remote, as listed) and the instance's
/// admins and community managers. While a bounty runs on a question, neither its author nor
/// the bounty's sponsor may remove it (409 `bounty_running`); another moderator's removal
/// cancels the bounty and refunds its sponsor if its end is still to come, and leaves it to
/// the lapse rule otherwise.
#[utoipa::path(post, path = "/api/v1/posts/{id}/removal", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RemovalRequest,
    responses((status = 204), (status = 403, description = "`not_a_moderator_of_group`: not a moderator of the group the post is in", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "a bounty runs on the question, and you asked it or sponsor the bounty (`bounty_running`, `details.post_id` naming the question)", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_post(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RemovalRequest>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let (caller, reason) = (&caller, req.reason.as_str());
    state
        .ctx
        .transaction(|conn| moderation::remove_post(conn, caller, id, reason).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a removed post.
#[utoipa::path(delete, path = "/api/v1/posts/{id}/removal", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn restore_post(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let caller = &caller;
    state
        .ctx
        .transaction(|conn| moderation::restore_post(conn, caller, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a comment or answer.
#[utoipa::path(post, path = "/api/v1/comments/{id}/removal", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RemovalRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove_comment(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RemovalRequest>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let (caller, reason) = (&caller, req.reason.as_str());
    state
        .ctx
        .transaction(|conn| moderation::remove_comment(conn, caller, id, reason).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restore a removed comment or answer.
#[utoipa::path(delete, path = "/api/v1/comments/{id}/removal", tag = "posts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn restore_comment(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let caller = &caller;
    state
        .ctx
        .transaction(|conn| moderation::restore_comment(conn, caller, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
