//! Extractors that turn axum's plain-text rejections into our JSON errors, and find out who
//! is calling.

use crate::{error::ApiError, AppState};
use axum::{
    extract::{
        rejection::JsonRejection, rejection::QueryRejection, ConnectInfo, FromRequest,
        FromRequestParts, Request,
    },
    http::{header, request::Parts, StatusCode},
};
use cenacle_core::{
    accounts::{authenticate, Session},
    rewards, ScopedFutureExt,
};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::net::SocketAddr;

/// `axum::Json` with our error format: 400 for broken JSON (naming the problem), 422 for JSON
/// of the wrong shape, 415 without a JSON content type, 413 over the body limit.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let problem = rejection.body_text();
    let (status, code) = match &rejection {
        JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
        JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        JsonRejection::MissingJsonContentType(_) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
        }
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        }
        _ => (StatusCode::BAD_REQUEST, "malformed_json"),
    };
    ApiError::new(status, code).with_details(json!({ "problem": problem }))
}

/// `axum::extract::Query` with our error format.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|r: QueryRejection| ApiError::invalid_query(r.body_text()))
    }
}

/// The caller, proven by `Authorization: Bearer <token>`. Refuses with 401 and a
/// `WWW-Authenticate` challenge otherwise. The first authenticated request of the day pays
/// the daily visit, in its own transaction, before the handler runs.
pub struct Auth(pub Session);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::unauthenticated)?;
        Ok(Auth(session_of_token(state, token).await?))
    }
}

/// The session a token proves, whether it came as a bearer token (the API) or in the session
/// cookie (the web pages). The first authenticated request of the day pays the daily visit,
/// in its own transaction, before the handler runs.
pub async fn session_of_token(state: &AppState, token: &str) -> Result<Session, ApiError> {
    let session = {
        // A read on its own connection, given back before the handler takes one.
        let mut conn = state.ctx.conn().await?;
        authenticate(&mut conn, token).await?
    };
    let ctx = &state.ctx;
    let person = session.account.person_id;
    if !rewards::visit_paid_today(ctx, person) {
        let day = ctx
            .transaction(|conn| rewards::record_visit(conn, ctx, person).scope_boxed())
            .await?;
        // Remembered only once committed: a rolled-back visit is paid on the next request.
        rewards::remember_visit(ctx, person, day);
    }
    Ok(session)
}

/// The caller if a bearer token is sent (refused with 401 if it is bad), `None` if not: for
/// pages anyone may read but members see more of.
pub struct MaybeAuth(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(MaybeAuth(None));
        }
        Auth::from_request_parts(parts, state)
            .await
            .map(|Auth(s)| MaybeAuth(Some(s)))
    }
}

/// The client's address for per-address limits: the TCP peer, or, when the peer is one of
/// `server.trusted_proxies`, the right-most `X-Forwarded-For` entry that is not (see
/// `cenacle_domain::client_address`); an IPv6 client counted by its /64
/// (`cenacle_domain::limit_key`).
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientIp("unknown".into()));
        };
        let forwarded_for = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        let client = cenacle_domain::client_address(
            peer.ip(),
            forwarded_for,
            &state.ctx.settings.server.trusted_proxies,
        );
        Ok(ClientIp(cenacle_domain::limit_key(client)))
    }
}

/// The client's `Idempotency-Key` header, if any: 1 to 255 visible ASCII characters, else
/// 400 `invalid_idempotency_key`.
pub struct IdempotencyKey(pub Option<String>);

/// The longest key accepted (payment APIs allow about as much).
pub const IDEMPOTENCY_KEY_MAX: usize = 255;

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| {
                (1..=IDEMPOTENCY_KEY_MAX).contains(&k.len())
                    && k.bytes().all(|b| b.is_ascii_graphic())
            })
            .ok_or_else(|| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_idempotency_key").with_details(
                    json!({ "max_length": IDEMPOTENCY_KEY_MAX, "allowed": "visible ASCII" }),
                )
            })?;
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}
