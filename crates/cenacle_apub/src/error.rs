use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use cenacle_core::CoreError;
use cenacle_db::DbError;
use serde_json::json;

/// Why a federation request or task failed. Inbox answers follow DESIGN.md §6: 400 malformed,
/// 401 missing or bad signature, 403 blocked, 404 unknown actor.
#[derive(Debug, thiserror::Error)]
pub enum ApubError {
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("signature: {0}")]
    Unauthorized(String),
    #[error("blocked: {0}")]
    Blocked(String),
    #[error("not found")]
    NotFound,
    #[error("federation: {0}")]
    Federation(#[from] activitypub_federation::error::Error),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DbError> for ApubError {
    fn from(e: DbError) -> Self {
        ApubError::Core(CoreError::Database(e))
    }
}

impl From<diesel::result::Error> for ApubError {
    fn from(e: diesel::result::Error) -> Self {
        ApubError::Core(CoreError::Database(DbError::Query(e)))
    }
}

impl ApubError {
    pub fn status(&self) -> StatusCode {
        use activitypub_federation::error::Error as F;
        match self {
            ApubError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApubError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApubError::Blocked(_) => StatusCode::FORBIDDEN,
            ApubError::NotFound => StatusCode::NOT_FOUND,
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
            ApubError::Core(CoreError::NotFound(_)) => StatusCode::NOT_FOUND,
            ApubError::Core(CoreError::Validation(_)) => StatusCode::BAD_REQUEST,
            ApubError::Core(_) | ApubError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApubError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "federation request failed");
        }
        let body = json!({ "error": status.canonical_reason().unwrap_or("error").to_lowercase().replace(' ', "_") });
        (status, Json(body)).into_response()
    }
}
