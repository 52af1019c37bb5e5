//! `/api/v1/admin/federation/outbox/failed`: what the federation queue gave up on, for admins.
//! An outbox event (one of our members' actions to send) that keeps failing is parked after
//! its last attempt, so that it never holds back the others; admins see it here, with its
//! error, and can put it back in line once the cause is mended.

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiQuery, Auth},
    pagination::{Page, PageQuery},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{admin, CoreError, ScopedFutureExt};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct FailedEventView {
    pub id: i64,
    /// What happened, e.g. `post_created`, `group_updated`.
    pub kind: String,
    /// The id of the post, comment or group it is about.
    pub subject_id: i64,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub failed_at: DateTime<Utc>,
}

/// Outbox events parked after their last failed attempt, oldest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/federation/outbox/failed", tag = "admin", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<FailedEventView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn failed_events(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<FailedEventView>>> {
    let limit = page.limit()?;
    let mut conn = state.ctx.conn().await?;
    let rows =
        admin::failed_outbox_events(&mut conn, &session, page.after_id()?, limit + 1).await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |e| e.id,
        |e| FailedEventView {
            id: e.id,
            kind: e.kind,
            subject_id: e.subject_id,
            attempts: e.attempts,
            last_error: e.last_error,
            created_at: e.created_at,
            failed_at: e.failed_at,
        },
    )))
}

/// Put a parked outbox event back in line, its attempts reset (admins only).
#[utoipa::path(post, path = "/api/v1/admin/federation/outbox/failed/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retry_event(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let result = state
        .ctx
        .transaction(|conn| admin::retry_outbox_event(conn, &session, id).scope_boxed())
        .await;
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(CoreError::NotFound(_)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "outbox_event_not_parked",
        )),
        Err(other) => Err(other.into()),
    }
}
