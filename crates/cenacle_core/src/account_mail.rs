//! What an address is for: verifying it, resetting a forgotten password through it, and
//! changing it (confirmed from the new address, the old one told).
//!
//! Tokens are random, e-mailed once and kept only as SHA-256; each is spent once and expires.
//! Asking for a reset or a new verification mail answers the same whether the address is
//! known: the work done is the same up to the mail queued.

use crate::{
    mail::{link_base, queue_to},
    mail_rules::{CHANGE, RESET, VERIFY},
    secrets::{new_secret, secret_hash},
    Conn, Context, CoreError,
};
use cenacle_db::{account_tokens as store, accounts as account_store, accounts::Account};
use cenacle_domain::{
    mail::{self as templates, token_state, MailKind, TokenState},
    validate_email, AccountStatus,
};
use chrono::{Duration, Utc};

/// Mails a verification link for the account's address (registration, or asked again).
pub async fn send_verification(
    conn: &mut Conn,
    ctx: &Context,
    account: &Account,
) -> Result<(), CoreError> {
    let Some(address) = account.email.as_deref() else {
        return Ok(());
    };
    if !ctx.settings.email.enabled {
        return Ok(());
    }
    let token = new_secret("cev_");
    let expires = Utc::now() + Duration::hours(ctx.settings.email.verify_token_ttl_hours.into());
    store::insert_token(
        conn,
        account.person_id,
        VERIFY,
        &secret_hash(&token),
        Some(address),
        expires,
    )
    .await?;
    let link = format!("{}/email/verify?token={token}", link_base(ctx));
    let content = templates::verify_email(
        account.language,
        &ctx.settings.server.instance_name,
        &account.username,
        &link,
        expires,
    );
    queue_to(
        conn,
        ctx,
        Some(account.person_id),
        address,
        MailKind::VerifyEmail,
        content,
        account.language,
    )
    .await
}

/// Sends a new verification link to `email` if it is an account's unverified address; answers
/// the same otherwise.
pub async fn resend_verification(
    conn: &mut Conn,
    ctx: &Context,
    email: &str,
) -> Result<(), CoreError> {
    validate_email(email)?;
    match account_store::find_by_email(conn, email).await? {
        Some(account) if account.email_verified_at.is_none() => {
            send_verification(conn, ctx, &account).await
        }
        _ => same_work_as_a_token(conn).await,
    }
}

/// What an unknown address costs: a token drawn and hashed and a lookup of it, as a known
/// address's token is drawn, hashed and stored (the mail itself is queued, not sent, inside
/// the request).
async fn same_work_as_a_token(conn: &mut Conn) -> Result<(), CoreError> {
    let token = new_secret("cer_");
    store::find_token_for_update(conn, RESET, &secret_hash(&token)).await?;
    Ok(())
}

/// Spends a token of `purpose`: its row, refused when unknown, used or expired.
async fn spend(
    conn: &mut Conn,
    purpose: &str,
    token: &str,
) -> Result<store::StoredToken, CoreError> {
    let stored = peek(conn, purpose, token).await?;
    store::spend_tokens(conn, stored.person_id, purpose).await?;
    Ok(stored)
}

/// Ends every mailed link of the member (of every purpose).
async fn end_links(conn: &mut Conn, person_id: i64) -> Result<(), CoreError> {
    for purpose in [VERIFY, RESET, CHANGE] {
        store::spend_tokens(conn, person_id, purpose).await?;
    }
    Ok(())
}

/// The token of `purpose`, locked, if it may be spent now.
async fn peek(
    conn: &mut Conn,
    purpose: &str,
    token: &str,
) -> Result<store::StoredToken, CoreError> {
    let stored = store::find_token_for_update(conn, purpose, &secret_hash(token))
        .await?
        .ok_or(CoreError::TokenInvalid)?;
    match token_state(stored.used_at, stored.expires_at, Utc::now()) {
        TokenState::Usable => Ok(stored),
        TokenState::Used => Err(CoreError::TokenUsed),
        TokenState::Expired => Err(CoreError::TokenExpired),
    }
}

async fn account_of(conn: &mut Conn, person_id: i64) -> Result<Account, CoreError> {
    account_store::find_by_id(conn, person_id)
        .await?
        .ok_or(CoreError::TokenInvalid)
}

/// Follows a verification link: the address it was sent to is verified (if it is still the
/// account's).
pub async fn verify_email(conn: &mut Conn, token: &str) -> Result<Account, CoreError> {
    let stored = spend(conn, VERIFY, token).await?;
    let address = stored.email.as_deref().unwrap_or_default();
    if !store::mark_email_verified(conn, stored.person_id, address).await? {
        return Err(CoreError::TokenInvalid);
    }
    account_of(conn, stored.person_id).await
}

/// "I forgot my password": mails a single-use reset link if `email` is an account's address,
/// and answers the same if not.
pub async fn request_password_reset(
    conn: &mut Conn,
    ctx: &Context,
    email: &str,
) -> Result<(), CoreError> {
    validate_email(email)?;
    let account = account_store::find_by_email(conn, email)
        .await?
        .filter(|a| a.status != AccountStatus::Suspended);
    let (Some(account), true) = (account, ctx.settings.email.enabled) else {
        return same_work_as_a_token(conn).await;
    };
    let address = account.email.clone().unwrap_or_default();
    let token = new_secret("cer_");
    let expires = Utc::now() + Duration::minutes(ctx.settings.email.reset_token_ttl_minutes.into());
    store::insert_token(
        conn,
        account.person_id,
        RESET,
        &secret_hash(&token),
        Some(&address),
        expires,
    )
    .await?;
    let link = format!("{}/password/reset?token={token}", link_base(ctx));
    let content = templates::password_reset(
        account.language,
        &ctx.settings.server.instance_name,
        &account.username,
        &link,
        expires,
    );
    queue_to(
        conn,
        ctx,
        Some(account.person_id),
        &address,
        MailKind::PasswordReset,
        content,
        account.language,
    )
    .await
}

/// The account a reset token is for, without spending it: its username is needed to check
/// the new password (and the password hashed) before the transaction that spends it.
pub async fn password_reset_account(conn: &mut Conn, token: &str) -> Result<Account, CoreError> {
    let stored = peek(conn, RESET, token).await?;
    account_of(conn, stored.person_id).await
}

/// Spends a reset token: the password becomes `password_hash` (made by
/// [`crate::accounts::prepare_password`]), every session ends, and the address the link went
/// to counts as verified.
pub async fn reset_password(
    conn: &mut Conn,
    token: &str,
    password_hash: &str,
) -> Result<Account, CoreError> {
    let stored = spend(conn, RESET, token).await?;
    // Every other mailed link ends too: an address change asked by whoever knew the old
    // password (the reason for a reset) must not survive it.
    end_links(conn, stored.person_id).await?;
    store::set_password_hash(conn, stored.person_id, password_hash).await?;
    account_store::revoke_all_tokens(conn, stored.person_id).await?;
    if let Some(address) = &stored.email {
        store::mark_email_verified(conn, stored.person_id, address).await?;
    }
    account_of(conn, stored.person_id).await
}

/// Asks to change the account's address to `new_email`: a confirmation link goes to the new
/// address, and the old one (if any) is told.
pub async fn request_email_change(
    conn: &mut Conn,
    ctx: &Context,
    account: &Account,
    new_email: &str,
) -> Result<(), CoreError> {
    validate_email(new_email)?;
    if store::email_taken(conn, new_email, account.person_id).await? {
        return Err(CoreError::Conflict("email_taken"));
    }
    if !ctx.settings.email.enabled {
        return Err(CoreError::NotAllowed("email_disabled"));
    }
    let token = new_secret("cec_");
    let expires = Utc::now() + Duration::hours(ctx.settings.email.change_token_ttl_hours.into());
    store::insert_token(
        conn,
        account.person_id,
        CHANGE,
        &secret_hash(&token),
        Some(new_email),
        expires,
    )
    .await?;
    let base = link_base(ctx);
    let instance = &ctx.settings.server.instance_name;
    let link = format!("{base}/email/confirm?token={token}");
    let confirm = templates::confirm_new_email(
        account.language,
        instance,
        &account.username,
        &link,
        expires,
    );
    queue_to(
        conn,
        ctx,
        Some(account.person_id),
        new_email,
        MailKind::ConfirmNewEmail,
        confirm,
        account.language,
    )
    .await?;
    if let Some(old) = account.email.as_deref() {
        let notice = templates::email_change_requested(
            account.language,
            instance,
            &account.username,
            new_email,
            &format!("{base}/password/forgot"),
        );
        queue_to(
            conn,
            ctx,
            Some(account.person_id),
            old,
            MailKind::EmailChanged,
            notice,
            account.language,
        )
        .await?;
    }
    Ok(())
}

/// Follows a new address's confirmation link: it becomes the account's (verified) address.
pub async fn confirm_email_change(conn: &mut Conn, token: &str) -> Result<Account, CoreError> {
    let stored = spend(conn, CHANGE, token).await?;
    let address = stored.email.as_deref().ok_or(CoreError::TokenInvalid)?;
    if store::email_taken(conn, address, stored.person_id).await? {
        return Err(CoreError::Conflict("email_taken"));
    }
    store::change_email(conn, stored.person_id, address).await?;
    // Links sent to the old address (verification, password reset) work no more.
    end_links(conn, stored.person_id).await?;
    account_of(conn, stored.person_id).await
}
