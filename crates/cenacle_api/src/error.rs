//! One error type for the whole API: a status, a stable snake_case code, a translated message
//! and optional details, rendered as `{"error": {"code", "message", "details"}}`.

use crate::i18n;
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use cenacle_core::{model::DbError, CoreError};
// The one name core does not re-export yet (see the port's notes): only matched on here.
use cenacle_core::model::ConstraintViolation;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub details: Option<Value>,
    /// Seconds, for 429 and 503 (the `Retry-After` header).
    pub retry_after: Option<u64>,
}

/// Every code the API can answer with, for the translation test and the docs.
pub const ALL_CODES: &[&str] = &[
    "invalid_credentials",
    "not_a_moderator_of_group",
    "moderation_not_through_group",
    "content_outside_group",
    "unauthenticated",
    "account_pending_approval",
    "account_suspended",
    "banned_from_instance",
    "unknown_instance",
    "post_not_pending",
    "post_moved",
    "not_banned",
    "author_banned",
    "person_banned",
    "forbidden",
    "registrations_closed",
    "invite_required",
    "invalid_invite",
    "invalid_setup_token",
    "not_found",
    "route_not_found",
    "method_not_allowed",
    "username_taken",
    "name_taken",
    "email_taken",
    "already_exists",
    "last_admin",
    "not_pending",
    "mail_not_parked",
    "mail_no_longer_wanted",
    "validation_failed",
    "constraint_violated",
    "invalid_reference",
    "malformed_json",
    "invalid_body",
    "unsupported_media_type",
    "payload_too_large",
    "invalid_query",
    "invalid_cursor",
    "rate_limited",
    "database_unavailable",
    "database_busy",
    "database_conflict",
    "internal_error",
    "instance_blocked",
    "owner_cannot_leave",
    "group_exists",
    "proposal_closed",
    "insufficient_reputation",
    "balance_would_be_negative",
    "bounty_running",
    "bounty_ended",
    "question_closed",
    "badge_held",
    "contest_closed",
    "remote_unavailable",
    "idempotency_key_reused",
    "invalid_idempotency_key",
    "moderation_reason_too_long",
    "post_not_published",
    "moderation_expiry_in_past",
    "champion_person_remote",
    "champion_person_suspended",
    "champion_already_in_programme",
    "champion_no_invitation",
    "champion_not_active",
    "champion_no_charter",
    "champion_charter_outdated",
    "champion_objective_negative",
    "champion_objective_unknown_metric",
    "champion_group_unsuitable",
    "champion_tools_not_a_champion",
    "champion_tools_charter_not_accepted",
    "champion_tools_not_their_group",
    "champion_reason_required",
    "champion_person_pending",
    "group_programme_only",
    "badge_programme_only",
    "champion_move_visibility",
    "champion_own_answer",
    "champion_group_name_taken",
    "unknown_report_reason",
    "report_closed",
    "banned_from_group",
    "cannot_ban_moderator",
    "out_of_stock",
    "insufficient_points",
    "redemption_limit_reached",
    "reward_not_available",
    "reward_not_eligible",
    "address_required",
    "order_transition_not_allowed",
    "auction_not_started",
    "auction_ended",
    "auction_closed",
    "bid_too_low",
    "already_highest_bidder",
    "reward_stock_unlimited",
    "stock_below_reserved",
    "stock_below_zero",
    "reward_not_stocked",
    "email_not_verified",
    "token_invalid",
    "token_used",
    "token_expired",
    "unsubscribe_link_invalid",
    "email_disabled",
    "unknown_mail_kind",
    "unknown_notification_kind",
    "unknown_notification_delivery",
    "unknown_time_zone",
    "unknown_template_variable",
    "template_unclosed_variable",
    "quiz_without_correct_answer",
    "single_choice_with_several_answers",
    "pass_mark_out_of_range",
    "lesson_order_gaps",
    "quiz_after_unknown_lesson",
    "course_audience_incomplete",
    "prerequisites_unmet",
    "course_not_open_to_you",
    "not_enrolled",
    "quiz_attempts_exhausted",
    "quiz_cooling_down",
    "attempt_already_submitted",
    "answer_invalid",
    "course_without_lessons",
    "quiz_without_questions",
    "course_not_draft",
    "course_has_attempts",
    "course_audience_visibility_locked",
    "prerequisite_cycle",
    "prerequisite_not_published",
    "course_is_draft",
    "builtin_course_prerequisites",
];

/// The JSON shape of every error, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorContent,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorContent {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub code: String,
    /// Human-readable text in the request's language (French or English).
    pub message: String,
    /// Extra facts about the error (the field at fault, the limit...), or null.
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            code,
            details: None,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found")
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated")
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut err = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            .with_details(json!({ "retry_after_seconds": retry_after_secs }));
        err.retry_after = Some(retry_after_secs);
        err
    }

    /// The database had no connection free in time: come back in a moment.
    pub fn database_busy() -> Self {
        let mut err = Self::new(StatusCode::SERVICE_UNAVAILABLE, "database_busy");
        err.retry_after = Some(RETRY_AFTER_SECS);
        err
    }

    /// The database cannot be reached at all.
    pub fn database_unavailable() -> Self {
        let mut err = Self::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable");
        err.retry_after = Some(RETRY_AFTER_SECS);
        err
    }

    pub fn invalid_query(problem: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query")
            .with_details(json!({ "problem": problem.into() }))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = i18n::message(self.code, i18n::current_language());
        let body = json!({
            "error": { "code": self.code, "message": message, "details": self.details }
        });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750: tell the client which scheme to use, and whether its token was refused.
            let challenge = if self.code == "invalid_credentials" {
                r#"Bearer realm="cenacle""#
            } else {
                r#"Bearer realm="cenacle", error="invalid_token""#
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        use CoreError::*;
        if err.is_overloaded() {
            tracing::warn!(error = %err, "the database is busy: asked the client to retry");
            return Self::database_busy();
        }
        match err {
            // A notification preference names its own mistake (a kind or a delivery), as does
            // a time zone PostgreSQL does not know.
            Validation(v)
                if matches!(
                    v.code,
                    "unknown_notification_kind"
                        | "unknown_notification_delivery"
                        | "unknown_time_zone"
                ) =>
            {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, v.code)
                    .with_details(json!({ "field": v.field }))
            }
            Validation(v) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
                .with_details(json!({ "field": v.field, "reason": v.code })),
            InvalidCredentials => Self::new(StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Unauthenticated => Self::unauthenticated(),
            AccountPendingApproval => Self::new(StatusCode::FORBIDDEN, "account_pending_approval"),
            AccountSuspended => Self::new(StatusCode::FORBIDDEN, "account_suspended"),
            EmailNotVerified => Self::new(StatusCode::FORBIDDEN, "email_not_verified"),
            TokenInvalid => Self::new(StatusCode::BAD_REQUEST, "token_invalid"),
            TokenUsed => Self::new(StatusCode::GONE, "token_used"),
            TokenExpired => Self::new(StatusCode::GONE, "token_expired"),
            BadUnsubscribeLink => Self::new(StatusCode::FORBIDDEN, "unsubscribe_link_invalid"),
            BannedFromInstance => Self::new(StatusCode::FORBIDDEN, "banned_from_instance"),
            NotFound("instance") => Self::new(StatusCode::NOT_FOUND, "unknown_instance"),
            // As the outbox's `outbox_event_not_parked`: sent, already back in line, or never
            // there, there is no such mail to retry.
            NotFound("parked_mail") => Self::new(StatusCode::NOT_FOUND, "mail_not_parked"),
            Forbidden(permission) => Self::new(StatusCode::FORBIDDEN, "forbidden")
                .with_details(json!({ "permission": format!("{permission:?}") })),
            // The moderators' rule names its refusal (cenacle_domain::moderators).
            NotAllowed(code)
                if matches!(
                    code,
                    "not_a_moderator_of_group"
                        | "moderation_not_through_group"
                        | "content_outside_group"
                        | "email_disabled"
                ) =>
            {
                Self::new(StatusCode::FORBIDDEN, code)
            }
            NotAllowed(action) => Self::new(StatusCode::FORBIDDEN, "forbidden")
                .with_details(json!({ "action": action })),
            InsufficientReputation(threshold) => {
                Self::new(StatusCode::FORBIDDEN, "insufficient_reputation")
                    .with_details(json!({ "threshold": threshold }))
            }
            RegistrationClosed => Self::new(StatusCode::FORBIDDEN, "registrations_closed"),
            InviteRequired => Self::new(StatusCode::FORBIDDEN, "invite_required"),
            InvalidInvite => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_invite"),
            InvalidSetupToken => Self::new(StatusCode::FORBIDDEN, "invalid_setup_token"),
            NotFound(what) => Self::not_found().with_details(json!({ "resource": what })),
            TooLarge(limit) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
                .with_details(json!({ "limit_bytes": limit })),
            Conflict(code) => Self::new(StatusCode::CONFLICT, conflict_code(code)),
            Champion(refusal) => {
                use cenacle_domain::champions::RefusalKind;
                let status = match refusal.kind() {
                    RefusalKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                    RefusalKind::Conflict => StatusCode::CONFLICT,
                    RefusalKind::Forbidden => StatusCode::FORBIDDEN,
                };
                Self::new(status, refusal.code())
            }
            Moderation(refusal) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, refusal.code()),
            Shop(refusal) => {
                use cenacle_domain::shop::RefusalStatus;
                let status = match refusal.status() {
                    RefusalStatus::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                    RefusalStatus::Conflict => StatusCode::CONFLICT,
                    RefusalStatus::Forbidden => StatusCode::FORBIDDEN,
                };
                Self::new(status, refusal.code())
            }
            // Every bounty refusal is a conflict with the state of one question, named in the
            // details: a ban that removes someone's content may take down many.
            Bounty(refusal) => Self::new(StatusCode::CONFLICT, refusal.code())
                .with_details(json!({ "post_id": refusal.post_id() })),
            ModerationRefused(refusal) => Self::new(
                StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN),
                refusal.code(),
            ),
            IdempotencyKeyReused => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            // Raised for activities from other servers, never by the API; mapped all the same.
            Forged(forgery) => Self::new(StatusCode::FORBIDDEN, "forbidden")
                .with_details(json!({ "rule": forgery.rule() })),
            // The template's field and the variable at fault, for the editor to point at.
            Template { field, error } => match error {
                cenacle_domain::onboarding::TemplateError::UnknownVariable(variable) => Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_template_variable",
                )
                .with_details(json!({ "field": field, "variable": variable })),
                cenacle_domain::onboarding::TemplateError::Unclosed => Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "template_unclosed_variable",
                )
                .with_details(json!({ "field": field })),
            },
            Training(refusal) => training_refusal(&refusal),
            Database(db) => from_database_error(&db),
            Internal(message) => internal(&message),
        }
    }
}

impl From<cenacle_apub::ApubError> for ApiError {
    fn from(err: cenacle_apub::ApubError) -> Self {
        use cenacle_apub::ApubError as A;
        match err {
            A::Core(core) => core.into(),
            A::NotFound => ApiError::not_found(),
            A::Malformed(problem) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_query")
                .with_details(json!({ "problem": problem })),
            A::Blocked(_) => ApiError::new(StatusCode::FORBIDDEN, "instance_blocked"),
            A::Federation(e) if cenacle_apub::http_client::refused_as_blocked(&e) => {
                ApiError::new(StatusCode::FORBIDDEN, "instance_blocked")
            }
            A::Federation(activitypub_federation_error) => {
                // A remote server did not answer as expected: not our client's fault, not ours.
                tracing::info!(error = %activitypub_federation_error, "remote lookup failed");
                ApiError::new(StatusCode::BAD_GATEWAY, "remote_unavailable")
                    .with_details(json!({ "problem": activitypub_federation_error.to_string() }))
            }
            other => internal(&other.to_string()),
        }
    }
}

/// A training refusal: its status by kind; a cool-down says when it ends.
fn training_refusal(refusal: &cenacle_domain::training::TrainingRefusal) -> ApiError {
    use cenacle_domain::training::{TrainingRefusal, TrainingStatus};
    let status = match refusal.status() {
        TrainingStatus::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        TrainingStatus::Forbidden => StatusCode::FORBIDDEN,
        TrainingStatus::Conflict => StatusCode::CONFLICT,
    };
    let error = ApiError::new(status, refusal.code());
    match refusal {
        TrainingRefusal::CoolingDown { until } => {
            error.with_details(json!({ "until": until.to_rfc3339() }))
        }
        _ => error,
    }
}

fn conflict_code(code: &'static str) -> &'static str {
    match code {
        "last_admin"
        | "not_pending"
        | "owner_cannot_leave"
        | "group_exists"
        | "proposal_closed"
        | "bounty_running"
        | "bounty_ended"
        | "question_closed"
        | "badge_held"
        | "contest_closed"
        | "post_not_pending"
        | "post_moved"
        | "not_banned"
        | "post_not_published"
        | "email_taken"
        | "mail_no_longer_wanted" => code,
        _ => "already_exists",
    }
}

/// The one place where database constraint names become client errors: a unique violation is
/// a 409 (with a specific code where we know the constraint), a check or reference violation
/// a 422; anything else is our fault (500).
fn from_database_error(err: &DbError) -> ApiError {
    match err.constraint_violation() {
        Some(ConstraintViolation::Unique(name)) => {
            let code = match name {
                "person_local_username_key" => "username_taken",
                // People and groups share one name space (WebFinger answers one actor).
                "local_actor_name_key" => "name_taken",
                "local_user_email_key" => "email_taken",
                // One running bounty per question (partial unique index). A backstop: the
                // offer maps it itself, naming the question (`details.post_id`).
                "bounty_open_post_key" => "bounty_running",
                _ => "already_exists",
            };
            ApiError::new(StatusCode::CONFLICT, code)
        }
        // Spending or correcting more points than the balance holds: a conflict with the
        // current state, not a malformed request.
        Some(ConstraintViolation::Check("points_balance_not_negative")) => {
            ApiError::new(StatusCode::CONFLICT, "balance_would_be_negative")
        }
        // Spending or holding what auctions already hold (the shop's rules refuse it first;
        // this is the backstop).
        Some(ConstraintViolation::Check("points_balance_covers_holds")) => {
            ApiError::new(StatusCode::CONFLICT, "insufficient_points")
        }
        // A unit reserved past the last (the rule refuses it first under the reward's lock).
        Some(ConstraintViolation::Check("reward_stock_not_negative")) => {
            ApiError::new(StatusCode::CONFLICT, "out_of_stock")
        }
        Some(ConstraintViolation::Check(name)) | Some(ConstraintViolation::NotNull(name)) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "constraint_violated")
                .with_details(json!({ "constraint": name }))
        }
        Some(ConstraintViolation::ForeignKey(name)) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference")
                .with_details(json!({ "constraint": name }))
        }
        None => match err {
            DbError::PoolTimeout | DbError::LockBusy => ApiError::database_busy(),
            // Rolled back by the database because of a concurrent request: nothing was written,
            // and the same request retried should go through.
            _ if err.is_transient_conflict() => {
                let mut conflict =
                    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database_conflict");
                conflict.retry_after = Some(RETRY_AFTER_SECS);
                conflict
            }
            DbError::Pool(_) => {
                tracing::error!(error = %err, "database unavailable");
                ApiError::database_unavailable()
            }
            _ => internal(&err.to_string()),
        },
    }
}

fn internal(message: &str) -> ApiError {
    // The details stay in the log (with the request id); the client only learns it failed.
    tracing::error!(error = message, "internal error");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
}

/// Seconds a client should wait before retrying when the database is busy or unreachable.
pub const RETRY_AFTER_SECS: u64 = 2;

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(err: impl Into<ApiError>) -> (StatusCode, &'static str, Option<String>) {
        let err = err.into();
        let code = err.code;
        let response = err.into_response();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        (response.status(), code, retry)
    }

    /// A post moved meanwhile is a conflict of its own (the client looks the post up again),
    /// not the generic `already_exists` an unlisted conflict code would fall back to.
    #[test]
    fn a_post_moved_meanwhile_is_409_post_moved() {
        assert_eq!(
            answer(CoreError::Conflict("post_moved")),
            (StatusCode::CONFLICT, "post_moved", None)
        );
    }

    #[test]
    fn a_busy_pool_is_503_database_busy_with_retry_after() {
        let busy = (
            StatusCode::SERVICE_UNAVAILABLE,
            "database_busy",
            Some("2".to_owned()),
        );
        assert_eq!(answer(CoreError::Database(DbError::PoolTimeout)), busy);
        // A lock held past its bounded wait (a block being written): retry shortly.
        assert_eq!(answer(CoreError::Database(DbError::LockBusy)), busy);
        // Through the federation layer's error too.
        assert_eq!(
            answer(cenacle_apub::ApubError::Core(CoreError::Database(
                DbError::PoolTimeout
            ))),
            busy
        );
        assert_eq!(
            answer(CoreError::Database(DbError::Pool("closed".into()))),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                Some("2".to_owned())
            )
        );
    }

    #[test]
    fn every_champions_refusal_has_a_listed_code_and_its_status() {
        use cenacle_domain::champions::{ChampionRefusal, RefusalKind};
        for refusal in ChampionRefusal::ALL {
            assert!(ALL_CODES.contains(&refusal.code()), "{}", refusal.code());
            let status = match refusal.kind() {
                RefusalKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                RefusalKind::Conflict => StatusCode::CONFLICT,
                RefusalKind::Forbidden => StatusCode::FORBIDDEN,
            };
            assert_eq!(
                answer(CoreError::Champion(refusal)),
                (status, refusal.code(), None)
            );
        }
    }

    #[test]
    fn every_shop_refusal_has_a_listed_code() {
        use cenacle_domain::shop::ShopRefusal;
        for refusal in ShopRefusal::ALL {
            assert!(ALL_CODES.contains(&refusal.code()), "{}", refusal.code());
        }
        // A write-off the stock cannot give is the state's conflict, not a malformed request.
        for refusal in [ShopRefusal::StockBelowReserved, ShopRefusal::StockBelowZero] {
            assert_eq!(
                answer(CoreError::Shop(refusal)),
                (StatusCode::CONFLICT, refusal.code(), None)
            );
        }
        // A digital reward is never stocked by hand: the request's fault, whatever the state.
        assert_eq!(
            answer(CoreError::Shop(ShopRefusal::RewardNotStocked)),
            (StatusCode::UNPROCESSABLE_ENTITY, "reward_not_stocked", None)
        );
    }

    #[test]
    fn every_bounty_refusal_is_a_listed_409() {
        use cenacle_domain::bounties::BountyRefusal;
        for refusal in BountyRefusal::ALL {
            assert!(ALL_CODES.contains(&refusal.code()), "{}", refusal.code());
            assert_eq!(
                answer(CoreError::Bounty(refusal)),
                (StatusCode::CONFLICT, refusal.code(), None)
            );
            assert_eq!(
                ApiError::from(CoreError::Bounty(refusal)).details,
                Some(json!({"post_id": refusal.post_id()})),
                "the question named"
            );
        }
    }

    #[test]
    fn a_refused_moderation_input_is_422_with_its_code() {
        use cenacle_domain::moderation::ModerationInputError as E;
        for refusal in [E::ReasonTooLong, E::ExpiryInThePast] {
            assert!(ALL_CODES.contains(&refusal.code()), "{}", refusal.code());
            assert_eq!(
                answer(CoreError::Moderation(refusal)),
                (StatusCode::UNPROCESSABLE_ENTITY, refusal.code(), None)
            );
        }
    }

    #[test]
    fn every_moderation_refusal_has_a_listed_code_and_its_status() {
        use cenacle_domain::reports::ModerationRefusal;
        for refusal in ModerationRefusal::ALL {
            assert!(ALL_CODES.contains(&refusal.code()), "{}", refusal.code());
            let (status, code, _) = answer(CoreError::ModerationRefused(refusal));
            assert_eq!((status.as_u16(), code), (refusal.status(), refusal.code()));
        }
    }

    #[test]
    fn every_training_refusal_has_a_listed_code() {
        use cenacle_domain::training::TrainingRefusal;
        for code in TrainingRefusal::CODES {
            assert!(ALL_CODES.contains(&code), "{code}");
        }
        let until = chrono::Utc::now();
        let err = ApiError::from(CoreError::Training(TrainingRefusal::CoolingDown { until }));
        assert_eq!(
            (err.status, err.code),
            (StatusCode::CONFLICT, "quiz_cooling_down")
        );
        assert_eq!(
            err.details.unwrap()["until"].as_str(),
            Some(until.to_rfc3339().as_str())
        );
    }

    #[test]
    fn a_forged_activity_is_403() {
        let forged = CoreError::Forged(cenacle_domain::origin::Forgery::NotCreatedByActor);
        assert_eq!(answer(forged), (StatusCode::FORBIDDEN, "forbidden", None));
    }
}
