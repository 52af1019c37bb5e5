use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use cenacle_core::CoreError;
use serde_json::json;

/// Why a federation request or task failed. Fetch routes answer 404 for what is not served;
/// the inbox has its own answers for refused activities (`inbox::Answer`).
#[derive(Debug, thiserror::Error)]
pub enum ApubError {
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("signature: {0}")]
    Unauthorized(String),
    #[error("blocked: {0}")]
    Blocked(String),
    /// A remote actor our rules refuse (its endpoints elsewhere, its host an IP literal).
    #[error("actor refused: {0}")]
    RefusedActor(String),
    #[error("not found")]
    NotFound,
    #[error("federation: {0}")]
    Federation(#[from] activitypub_federation::error::Error),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("internal: {0}")]
    Internal(String),
}

/// Seconds a peer should wait before retrying when we are overloaded.
pub const RETRY_AFTER_SECS: u64 = 2;

/// Why a URL was not fetched: its instance is blocked (or outside the allow-list); set by
/// the fetches' blocklist check (`http_client::BlocklistVerifier`).
pub(crate) const BLOCKED_INSTANCE: &str = "the instance is blocked";

/// Whether a fetch was refused because its instance is blocked: the inbox acknowledges and
/// ignores the activity that needed it, the API says the instance is blocked.
pub fn refused_as_blocked(e: &activitypub_federation::error::Error) -> bool {
    matches!(e, activitypub_federation::error::Error::UrlVerificationError(why) if *why == BLOCKED_INSTANCE)
}

impl ApubError {
    pub fn status(&self) -> StatusCode {
        use activitypub_federation::error::Error as F;
        match self {
            ApubError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApubError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApubError::Blocked(_) | ApubError::RefusedActor(_) => StatusCode::FORBIDDEN,
            ApubError::NotFound => StatusCode::NOT_FOUND,
            // A fetch refused because its instance is blocked: our rule, as `Blocked`.
            ApubError::Federation(e) if refused_as_blocked(e) => StatusCode::FORBIDDEN,
            ApubError::Federation(e) => match e {
                F::ActivityBodyDigestInvalid | F::ActivitySignatureInvalid | F::Other(_) => {
                    StatusCode::UNAUTHORIZED
                }
                F::ParseReceivedActivity { .. } | F::UrlVerificationError(_) | F::UrlParse(_) => {
                    StatusCode::BAD_REQUEST
                }
                // The signer could not be fetched, so the signature cannot be checked.
                F::NotFound
                | F::FetchInvalidContentType(_)
                | F::FetchWrongId(_)
                | F::ParseFetchedObject(..) => StatusCode::UNAUTHORIZED,
                F::RequestLimit | F::ResponseBodyLimit => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            },
            ApubError::Core(e) if e.is_overloaded() => StatusCode::SERVICE_UNAVAILABLE,
            ApubError::Core(CoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            ApubError::Core(
                CoreError::Validation(_)
                | CoreError::Moderation(_)
                | CoreError::ModerationRefused(_),
            ) => StatusCode::BAD_REQUEST,
            ApubError::Core(CoreError::Forged(_)) => StatusCode::FORBIDDEN,
            ApubError::Core(_) | ApubError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> ApubError {
        ApubError::Internal(e.to_string())
    }
}

impl IntoResponse for ApubError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::INTERNAL_SERVER_ERROR || status == StatusCode::BAD_GATEWAY {
            tracing::error!(error = %self, "federation request failed");
        }
        let code = status
            .canonical_reason()
            .unwrap_or("error")
            .to_lowercase()
            .replace(' ', "_");
        // The reason of a refusal tells the other server what to fix; our own faults stay ours.
        let message = match &self {
            ApubError::Malformed(why)
            | ApubError::Unauthorized(why)
            | ApubError::Blocked(why)
            | ApubError::RefusedActor(why) => why.clone(),
            _ => code.replace('_', " "),
        };
        let body = json!({ "error": { "code": code, "message": message } });
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        response
    }
}

/// Inside a transaction, where use cases speak `CoreError`: ours become internal errors,
/// theirs pass through unchanged (an overloaded pool stays a 503).
impl From<ApubError> for CoreError {
    fn from(e: ApubError) -> Self {
        match e {
            ApubError::Core(core) => core,
            other => CoreError::Internal(other.to_string()),
        }
    }
}
