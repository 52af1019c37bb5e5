//! `/api/v1/account/*`: registering, logging in and out, one's own profile.

use super::views::AccountView;
use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, Auth, ClientIp},
    AppState,
};
use axum::{extract::State, http::StatusCode, Json};
use cenacle_core::{
    accounts::{self, PreparedAccount, Registration},
    CoreError, ScopedFutureExt,
};
use cenacle_domain::{Language, ProfileChange, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–30 characters: lowercase letters, digits and `_`.
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    pub email: Option<String>,
    #[schema(value_type = Option<String>, example = "fr")]
    pub language: Option<Language>,
    /// Required when the instance is invite only.
    pub invite_code: Option<String>,
    /// Why you want to join; shown to whoever approves registrations.
    pub reason: Option<String>,
    /// Agree to be welcomed by name in the instance's welcome group (default: no).
    #[serde(default)]
    pub welcome_post: bool,
}

/// Register a new account. Depending on the instance's registration mode the account is active
/// at once (`status: active`) or waits for approval (`status: pending_approval`).
#[utoipa::path(post, path = "/api/v1/account/register", tag = "account",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = AccountView),
        (status = 403, description = "registrations closed, or an invitation is required", body = ErrorBody),
        (status = 409, description = "username or e-mail taken", body = ErrorBody),
        (status = 422, description = "invalid field", body = ErrorBody),
        (status = 429, description = "too many registrations from this address", body = ErrorBody),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    let account = register_account(&state, &ip, &req).await?;
    Ok((StatusCode::CREATED, Json(AccountView::private(account))))
}

/// Registers an account for a client at `ip` (limited per address): the API's and the web
/// pages' way in alike.
pub async fn register_account(
    state: &AppState,
    ip: &str,
    req: &RegisterRequest,
) -> ApiResult<cenacle_core::model::Account> {
    state.limits.register_per_ip.hit(ip).map_err(retry_after)?;
    // Validated and hashed before any connection is taken.
    let prepared = PreparedAccount::prepare(
        &state.ctx.settings,
        &req.username,
        &req.password,
        req.email.as_deref(),
        Role::Member,
    )
    .await?;
    let ctx = &state.ctx;
    Ok(ctx
        .transaction(|conn| {
            let registration = Registration {
                username: &req.username,
                password: &req.password,
                email: req.email.as_deref(),
                language: req.language,
                invite_code: req.invite_code.as_deref(),
                reason: req.reason.as_deref(),
                welcome_post: req.welcome_post,
            };
            let welcome_post = registration.welcome_post;
            async move {
                let created = accounts::register(conn, ctx, prepared, registration).await?;
                // The welcome (panel, mail, post in the welcome group) commits with the account.
                cenacle_core::welcome::greet_newcomer(conn, ctx, &created, welcome_post).await?;
                Ok(created)
            }
            .scope_boxed()
        })
        .await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; keep it secret.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub account: AccountView,
}

/// Log in with a username and password; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/account/login", tag = "account",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "wrong username or password (`invalid_credentials`; also when the password was changed, or the account removed, while it was being checked)", body = ErrorBody),
        (status = 403, description = "account pending approval (`account_pending_approval`) or suspended (`account_suspended`), its e-mail address not verified where required (`email_not_verified`), or banned from the instance (`banned_from_instance`)", body = ErrorBody),
        (status = 429, description = "too many attempts; see Retry-After", body = ErrorBody),
        (status = 503, description = "`database_busy`: a ban of this account being written kept the log-in waiting past the bound, or no database connection was free; retry after `Retry-After`", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let issued = log_in(&state, &ip, &req.username, &req.password).await?;
    Ok(Json(LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
        account: AccountView::private(issued.account),
    }))
}

/// Checks a password and issues a session token, for the API's bearer tokens and the web
/// pages' session cookie alike. Only wrong passwords count against the account, and only from
/// where they came (see `rate_limit`): a guesser elsewhere can slow a member down, never lock
/// them out.
pub async fn log_in(
    state: &AppState,
    ip: &str,
    username: &str,
    password: &str,
) -> ApiResult<accounts::IssuedToken> {
    let attempt = state
        .limits
        .login
        .admit(ip, username)
        .await
        .map_err(retry_after)?;
    let account = accounts::login_account(&mut *state.ctx.conn().await?, username).await?;
    let issued = match accounts::check_login_password(account, password).await {
        Ok(account) => {
            let ctx = &state.ctx;
            ctx.transaction(|conn| accounts::open_session(conn, ctx, account).scope_boxed())
                .await
        }
        Err(refused) => Err(refused),
    };
    if matches!(issued, Err(CoreError::InvalidCredentials)) {
        attempt.wrong_password();
    }
    Ok(issued?)
}

pub(crate) fn retry_after(wait: std::time::Duration) -> ApiError {
    ApiError::rate_limited(wait.as_secs().max(1))
}

/// The account behind the bearer token.
#[utoipa::path(get, path = "/api/v1/account/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = AccountView), (status = 401, body = ErrorBody)))]
pub async fn me(Auth(session): Auth) -> Json<AccountView> {
    Json(AccountView::private(session.account))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub expertise_tags: Option<Vec<String>>,
    #[schema(value_type = Option<String>, example = "en")]
    pub language: Option<Language>,
}

/// Change one's profile; absent fields stay as they are.
#[utoipa::path(patch, path = "/api/v1/account/me", tag = "account", security(("bearer" = [])),
    request_body = ProfileUpdate,
    responses((status = 200, body = AccountView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<ProfileUpdate>,
) -> ApiResult<Json<AccountView>> {
    let change = ProfileChange {
        display_name: req.display_name,
        bio: req.bio,
        avatar_url: req.avatar_url,
        expertise_tags: req.expertise_tags,
        language: req.language,
    };
    let account = state
        .ctx
        .transaction(|conn| accounts::update_profile(conn, &session, change).scope_boxed())
        .await?;
    Ok(Json(AccountView::private(account)))
}

/// Revoke the token used for this request.
#[utoipa::path(post, path = "/api/v1/account/logout", tag = "account", security(("bearer" = [])),
    responses((status = 204, description = "token revoked"), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, Auth(session): Auth) -> ApiResult<StatusCode> {
    state
        .ctx
        .transaction(|conn| accounts::logout(conn, &session).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct LogoutAllResponse {
    /// How many tokens were revoked, this one included.
    pub revoked: usize,
}

/// Revoke every token of the account (log out on every device).
#[utoipa::path(post, path = "/api/v1/account/logout-all", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = LogoutAllResponse), (status = 401, body = ErrorBody)))]
pub async fn logout_all(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<LogoutAllResponse>> {
    let revoked = state
        .ctx
        .transaction(|conn| accounts::logout_everywhere(conn, &session).scope_boxed())
        .await?;
    Ok(Json(LogoutAllResponse { revoked }))
}
