//! E-mail and the account: verifying an address, resetting a forgotten password, changing the
//! address, refusing kinds of mail (the one-click unsubscribe links and the preferences).
//!
//! The helpers (`forgot_password`, `reset_password`…) are the web pages' way in as well.

use super::views::AccountView;
use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth, ClientIp},
    AppState,
};
use axum::{extract::State, http::StatusCode, Json};
use cenacle_core::{
    account_mail,
    accounts::{self, Session},
    mail, welcome, ScopedFutureExt,
};
use cenacle_domain::mail::MailKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the mailed link (`?token=…`).
    pub token: String,
}

/// The answer to requests that must not tell whether an address is known.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// Always `accepted`: a mail went out if the address is an account's.
    pub status: &'static str,
}

const ACCEPTED: Accepted = Accepted { status: "accepted" };

/// Counts a request that mails `address` for the client at `ip` (see
/// `rate_limit::MailRequestLimits`).
fn limit_mail_request(state: &AppState, ip: &str, address: &str) -> ApiResult<()> {
    state
        .limits
        .mail_requests
        .hit(ip, address)
        .map_err(super::account::retry_after)
}

/// Asks for a password reset link from a client at `ip`: the same answer whether the address
/// is known.
pub async fn forgot_password(state: &AppState, ip: &str, email: &str) -> ApiResult<()> {
    let ctx = &state.ctx;
    let email = email.trim();
    limit_mail_request(state, ip, email)?;
    ctx.transaction(|conn| account_mail::request_password_reset(conn, ctx, email).scope_boxed())
        .await?;
    Ok(())
}

/// "I forgot my password": mails a single-use link to reset it, if the address is an
/// account's. The answer is the same (status and body) whether it is or not.
#[utoipa::path(post, path = "/api/v1/account/password/forgot", tag = "account",
    request_body = EmailRequest,
    responses(
        (status = 202, body = Accepted),
        (status = 422, description = "not an e-mail address", body = ErrorBody),
        (status = 429, description = "too many such requests from this client or for this address (`rate_limited`)", body = ErrorBody),
    ))]
pub async fn forgot(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<EmailRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    forgot_password(&state, &ip, &req.email).await?;
    Ok((StatusCode::ACCEPTED, Json(ACCEPTED)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub token: String,
    /// The new password (at least 10 characters).
    pub password: String,
}

/// Spends a reset token: the password changes and every session of the account ends.
pub async fn reset_password(state: &AppState, token: &str, password: &str) -> ApiResult<()> {
    let ctx = &state.ctx;
    let account = {
        let mut conn = ctx.conn().await?;
        account_mail::password_reset_account(&mut conn, token).await?
    };
    // Checked and hashed with no connection held; the token is checked again when spent.
    let hash = accounts::prepare_password(&account.username, password).await?;
    ctx.transaction(|conn| {
        async move {
            let account = account_mail::reset_password(conn, token, &hash).await?;
            welcome::mail_welcome_if_owed(conn, ctx, &account).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(())
}

/// Choose a new password with the token of a reset mail. The token works once; every session
/// of the account ends.
#[utoipa::path(post, path = "/api/v1/account/password/reset", tag = "account",
    request_body = ResetRequest,
    responses(
        (status = 204, description = "password changed"),
        (status = 400, description = "unknown token (`token_invalid`)", body = ErrorBody),
        (status = 410, description = "token used (`token_used`) or expired (`token_expired`)", body = ErrorBody),
        (status = 422, description = "password refused", body = ErrorBody),
    ))]
pub async fn reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ResetRequest>,
) -> ApiResult<StatusCode> {
    reset_password(&state, &req.token, &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Spends a verification token; the newcomer gets the welcome mail they were owed while their
/// address was unverified (the welcome goes only to verified addresses), in the same
/// transaction. The three ways an address is proven — this, an address change's confirmation
/// and a password reset — each do.
pub async fn verify_email(
    state: &AppState,
    token: &str,
) -> ApiResult<cenacle_core::model::Account> {
    let ctx = &state.ctx;
    Ok(ctx
        .transaction(|conn| {
            async move {
                let account = account_mail::verify_email(conn, token).await?;
                welcome::mail_welcome_if_owed(conn, ctx, &account).await?;
                Ok(account)
            }
            .scope_boxed()
        })
        .await?)
}

/// Verify the account's address with the token of the verification mail.
#[utoipa::path(post, path = "/api/v1/account/email/verify", tag = "account",
    request_body = TokenRequest,
    responses(
        (status = 200, body = AccountView),
        (status = 400, description = "unknown token", body = ErrorBody),
        (status = 410, description = "token used or expired", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<Json<AccountView>> {
    let account = verify_email(&state, &req.token).await?;
    Ok(Json(AccountView::private(account)))
}

/// Send the verification mail again (when signing in is refused with `email_not_verified`).
/// The same answer whether the address is known.
#[utoipa::path(post, path = "/api/v1/account/email/resend", tag = "account",
    request_body = EmailRequest,
    responses(
        (status = 202, body = Accepted),
        (status = 422, description = "not an e-mail address", body = ErrorBody),
        (status = 429, description = "too many such requests from this client or for this address (`rate_limited`)", body = ErrorBody),
    ))]
pub async fn resend(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<EmailRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let ctx = &state.ctx;
    let email = req.email.trim();
    limit_mail_request(&state, &ip, email)?;
    ctx.transaction(|conn| account_mail::resend_verification(conn, ctx, email).scope_boxed())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(ACCEPTED)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeEmailRequest {
    pub new_email: String,
    /// The account's current password.
    pub password: String,
}

/// Asks to change the caller's address: a link goes to the new one, a notice to the old one.
pub async fn change_email(
    state: &AppState,
    ip: &str,
    session: &Session,
    new_email: &str,
    password: &str,
) -> ApiResult<()> {
    let new_email = new_email.trim();
    limit_mail_request(state, ip, new_email)?;
    accounts::check_password(&session.account, password).await?;
    let ctx = &state.ctx;
    ctx.transaction(|conn| {
        account_mail::request_email_change(conn, ctx, &session.account, new_email).scope_boxed()
    })
    .await?;
    Ok(())
}

/// Change the account's address. It changes once the link mailed to the new address is
/// followed; the old address is told.
#[utoipa::path(post, path = "/api/v1/account/email/change", tag = "account", security(("bearer" = [])),
    request_body = ChangeEmailRequest,
    responses(
        (status = 202, body = Accepted),
        (status = 401, description = "wrong password or not signed in", body = ErrorBody),
        (status = 409, description = "address taken (`email_taken`)", body = ErrorBody),
        (status = 422, description = "not an e-mail address", body = ErrorBody),
        (status = 429, description = "too many such requests from this client or for this address (`rate_limited`)", body = ErrorBody),
    ))]
pub async fn change(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Auth(session): Auth,
    ApiJson(req): ApiJson<ChangeEmailRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    change_email(&state, &ip, &session, &req.new_email, &req.password).await?;
    Ok((StatusCode::ACCEPTED, Json(ACCEPTED)))
}

pub async fn confirm_email(
    state: &AppState,
    token: &str,
) -> ApiResult<cenacle_core::model::Account> {
    let ctx = &state.ctx;
    Ok(ctx
        .transaction(|conn| {
            async move {
                let account = account_mail::confirm_email_change(conn, token).await?;
                welcome::mail_welcome_if_owed(conn, ctx, &account).await?;
                Ok(account)
            }
            .scope_boxed()
        })
        .await?)
}

/// Confirm a new address with the token mailed to it: it becomes the account's.
#[utoipa::path(post, path = "/api/v1/account/email/confirm", tag = "account",
    request_body = TokenRequest,
    responses(
        (status = 200, body = AccountView),
        (status = 400, description = "unknown token", body = ErrorBody),
        (status = 409, description = "the address was taken meanwhile", body = ErrorBody),
        (status = 410, description = "token used or expired", body = ErrorBody),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<Json<AccountView>> {
    let account = confirm_email(&state, &req.token).await?;
    Ok(Json(AccountView::private(account)))
}

/// A signed unsubscribe link's query: who, which kind, the signature.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    /// The member.
    pub p: i64,
    /// The kind of mail (`notifications`, `digest`, `onboarding`).
    pub k: String,
    /// The link's signature.
    pub s: String,
}

pub async fn unsubscribe_member(state: &AppState, q: &UnsubscribeQuery) -> ApiResult<MailKind> {
    Ok(state
        .ctx
        .transaction(|conn| mail::unsubscribe(conn, q.p, &q.k, &q.s).scope_boxed())
        .await?)
}

#[derive(Serialize, ToSchema)]
pub struct Unsubscribed {
    /// The kind of mail no longer sent.
    pub kind: &'static str,
}

/// One-click unsubscribe (RFC 8058): the URL of a mail's `List-Unsubscribe` header, which mail
/// clients POST to (the body, `List-Unsubscribe=One-Click`, is not needed). A link whose
/// signature does not match changes nothing.
#[utoipa::path(post, path = "/api/v1/email/unsubscribe", tag = "account",
    params(UnsubscribeQuery),
    responses(
        (status = 200, body = Unsubscribed),
        (status = 403, description = "bad signature (`unsubscribe_link_invalid`)", body = ErrorBody),
    ))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<UnsubscribeQuery>,
) -> ApiResult<Json<Unsubscribed>> {
    let kind = unsubscribe_member(&state, &q).await?;
    Ok(Json(Unsubscribed {
        kind: kind.as_str(),
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MailPreference {
    /// `notifications`, `digest` or `onboarding` (mails about the account itself cannot be
    /// refused).
    pub kind: String,
    pub receive: bool,
}

async fn preferences_of(state: &AppState, person_id: i64) -> ApiResult<Vec<MailPreference>> {
    let mut conn = state.ctx.conn().await?;
    let refused = mail::opted_out_kinds(&mut conn, person_id).await?;
    Ok(MailKind::ALL
        .into_iter()
        .filter(|k| !k.is_transactional())
        .map(|k| MailPreference {
            kind: k.as_str().to_owned(),
            receive: !refused.contains(&k),
        })
        .collect())
}

/// Which kinds of mail the caller receives.
#[utoipa::path(get, path = "/api/v1/account/email/preferences", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Vec<MailPreference>), (status = 401, body = ErrorBody)))]
pub async fn preferences(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Vec<MailPreference>>> {
    Ok(Json(
        preferences_of(&state, session.account.person_id).await?,
    ))
}

/// Choose which kinds of mail to receive; kinds not listed stay as they are.
#[utoipa::path(put, path = "/api/v1/account/email/preferences", tag = "account", security(("bearer" = [])),
    request_body = Vec<MailPreference>,
    responses(
        (status = 200, body = Vec<MailPreference>),
        (status = 401, body = ErrorBody),
        (status = 422, description = "unknown kind, or one that cannot be refused", body = ErrorBody),
    ))]
pub async fn set_preferences(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<Vec<MailPreference>>,
) -> ApiResult<Json<Vec<MailPreference>>> {
    let mut changes = Vec::new();
    for p in &req {
        let kind = MailKind::parse(&p.kind)
            .filter(|k| !k.is_transactional())
            .ok_or_else(|| {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_mail_kind")
                    .with_details(serde_json::json!({ "kind": p.kind }))
            })?;
        changes.push((kind, p.receive));
    }
    let person_id = session.account.person_id;
    state
        .ctx
        .transaction(|conn| {
            async move {
                for (kind, receive) in changes {
                    mail::set_mail_preference(conn, person_id, kind, receive).await?;
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(preferences_of(&state, person_id).await?))
}
