//! `/api/v1/admin/federation/outbox/failed` and `/api/v1/admin/mail/parked`: what the
//! federation and mail queues gave up on, for admins. An outbox event (one of our members'
//! actions to send) that keeps failing is parked after its last attempt, so that it never
//! holds back the others; so is a mail after `email.max_attempts`, or at once when the SMTP
//! server refuses it for good. Admins see them here, with their error, and can put them back
//! in line once the cause (a relay's settings, a DNS record) is mended.

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth},
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
use serde::{Deserialize, Serialize};
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

#[derive(Serialize, ToSchema)]
pub struct ParkedMailView {
    pub id: i64,
    /// Which kind of mail, e.g. `verify_email`, `password_reset`, `notifications`.
    pub kind: String,
    /// The recipient's address (the bodies are never shown: they may carry a token).
    pub to_address: String,
    pub subject: String,
    pub attempts: i32,
    /// The SMTP server's last refusal, or why the attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub parked_at: DateTime<Utc>,
}

/// Mails parked after their last attempt or a permanent refusal, oldest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/mail/parked", tag = "admin", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<ParkedMailView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn parked_mails(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<ParkedMailView>>> {
    let limit = page.limit()?;
    let mut conn = state.ctx.conn().await?;
    let rows = admin::parked_mails(&mut conn, &session, page.after_id()?, limit + 1).await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |m| m.id,
        |m| ParkedMailView {
            id: m.id,
            kind: m.kind,
            to_address: m.to_address,
            subject: m.subject,
            attempts: m.attempts,
            last_error: m.last_error,
            created_at: m.created_at,
            parked_at: m.parked_at,
        },
    )))
}

/// Put a parked mail back in line, due now with its attempts reset (admins only). 404
/// `mail_not_parked` when no parked mail has this id (it was sent, is already queued, or
/// never existed). 409 `mail_no_longer_wanted` when the mail was deleted instead of put back:
/// the rules it was queued under would not queue it now (its recipient refused its kind or,
/// for a notification or a digest, no longer has it mailed, was suspended or changed
/// address; what its notification tells of was taken down since or is in a private group
/// the recipient left; its onboarding rule was disabled or deleted, or its stop condition
/// met); a second retry answers 404.
#[utoipa::path(post, path = "/api/v1/admin/mail/parked/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_mail(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let retry = state
        .ctx
        .transaction(|conn| admin::retry_parked_mail(conn, &session, id).scope_boxed())
        .await?;
    match retry {
        admin::MailRetry::Retried => Ok(StatusCode::NO_CONTENT),
        // Refused only now, the deletion committed: an error inside the transaction would
        // have undone it.
        admin::MailRetry::Dropped => Err(CoreError::Conflict("mail_no_longer_wanted").into()),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryMails {
    /// Only mails to recipients at this domain (e.g. `example.org`, without case); every
    /// parked mail when absent. An empty or blank domain is refused (422
    /// `validation_failed`), never taken for "all".
    #[serde(default)]
    pub domain: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RetriedMails {
    /// How many parked mails went back in line.
    pub retried: usize,
    /// How many parked mails were deleted instead, no longer wanted: the rules they were
    /// queued under would not queue them now (their recipient refused their kind or, for a
    /// notification or a digest, no longer has it mailed, was suspended or changed address;
    /// what their notification tells of was taken down since or is in a private group the
    /// recipient left; their onboarding rule was disabled or deleted, or its stop condition
    /// met).
    pub dropped: usize,
    /// Which were deleted, oldest first: their ids and kinds only, never their addresses or
    /// bodies. The first 100 at most; `dropped` counts them all.
    pub dropped_mails: Vec<DroppedMailView>,
    /// More were deleted than `dropped_mails` lists (more than 100): `dropped` is the whole
    /// count.
    pub dropped_mails_truncated: bool,
}

/// A parked mail a retry deleted, no longer wanted.
#[derive(Serialize, ToSchema)]
pub struct DroppedMailView {
    /// The id it had in the list of parked mails.
    pub id: i64,
    /// Which kind of mail, e.g. `notifications`, `digest`, `password_reset`.
    pub kind: String,
}

/// Put every parked mail (or those to one recipient domain) back in line, due now with their
/// attempts reset, and delete those no longer wanted (admins only), saying how many and which
/// (the first 100) by id and kind.
#[utoipa::path(post, path = "/api/v1/admin/mail/parked/retry", tag = "admin", security(("bearer" = [])),
    request_body = RetryMails,
    responses((status = 200, body = RetriedMails), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn retry_mails(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<RetryMails>,
) -> ApiResult<Json<RetriedMails>> {
    let domain = req.domain.as_deref();
    let outcome = state
        .ctx
        .transaction(|conn| admin::retry_parked_mails(conn, &session, domain).scope_boxed())
        .await?;
    Ok(Json(RetriedMails {
        retried: outcome.retried,
        dropped: outcome.dropped,
        dropped_mails_truncated: outcome.dropped_mails_truncated(),
        dropped_mails: outcome
            .dropped_mails
            .into_iter()
            .map(|m| DroppedMailView {
                id: m.id,
                kind: m.kind,
            })
            .collect(),
    }))
}
