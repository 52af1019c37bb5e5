//! Registering, logging in and out, and a member's own profile.

use crate::{account_mail, identity, journey};
use crate::{
    hash_password,
    secrets::{new_secret, secret_hash},
    verify_password, Conn, Context, CoreError,
};
use cenacle_config::EmailVerification;
use cenacle_config::Settings;
use cenacle_db::accounts::{self as store, Account, NewAccount, PersonProfileChange};
use cenacle_db::actors::LocalIdentity;
use cenacle_domain::{
    decide_registration, onboarding::StepKind, validate_email, validate_password, validate_profile,
    validate_username, AccountStatus, Language, ProfileChange, RegistrationDecision,
    RegistrationRefusal, Role, ValidationError,
};
use chrono::{Duration, Utc};

const TOKEN_PREFIX: &str = "cen_";

pub struct Registration<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub email: Option<&'a str>,
    pub language: Option<Language>,
    /// Required when registration is invite only; lets its holder skip approval.
    pub invite_code: Option<&'a str>,
    /// Shown to whoever approves the registration.
    pub reason: Option<&'a str>,
    /// The newcomer agreed to be greeted by name in the welcome group (off unless asked).
    pub welcome_post: bool,
}

/// Registers a member under the instance's registration mode. The account is active at once,
/// or pending approval, or refused. `account` was prepared (validated, password hashed, keys
/// made) before the caller's transaction opened: see [`PreparedAccount::prepare`].
pub async fn register(
    conn: &mut Conn,
    ctx: &Context,
    mut account: PreparedAccount,
    reg: Registration<'_>,
) -> Result<Account, CoreError> {
    let now = Utc::now();
    let invite_hash = reg.invite_code.map(secret_hash);
    let has_invite = match &invite_hash {
        Some(hash) if store::invite_is_usable(conn, hash, now).await? => true,
        Some(_) => return Err(CoreError::InvalidInvite),
        None => false,
    };
    account.status = match decide_registration(ctx.settings.accounts.registration_mode, has_invite)
    {
        RegistrationDecision::Create(status) => status,
        RegistrationDecision::Refuse(RegistrationRefusal::Closed) => {
            return Err(CoreError::RegistrationClosed)
        }
        RegistrationDecision::Refuse(RegistrationRefusal::InviteRequired) => {
            return Err(CoreError::InviteRequired)
        }
    };
    if ctx.settings.email.verification == EmailVerification::Required && account.email.is_none() {
        return Err(ValidationError {
            field: "email",
            code: "email_required",
        }
        .into());
    }
    account.language = reg.language.unwrap_or_default();
    account.reason = reg.reason.map(str::to_owned);
    // The account and the invitation's use commit together (the caller's transaction): an
    // invitation raced for by two registrations lets exactly one in.
    let created = store::insert_account(conn, &account.as_new(false)).await?;
    // Queued with the account: it is sent only if the registration commits.
    account_mail::send_verification(conn, ctx, &created).await?;
    if let Some(hash) = &invite_hash {
        if !store::use_invite(conn, hash, created.person_id, now).await? {
            return Err(CoreError::InvalidInvite);
        }
    }
    Ok(created)
}

/// Creates an active account directly with a role, bypassing the registration mode: for
/// `cenacle admin create-user`. Its address counts as verified (the admin vouches for it).
pub async fn create_account(
    conn: &mut Conn,
    account: &PreparedAccount,
) -> Result<Account, CoreError> {
    Ok(store::insert_account(conn, &account.as_new(true)).await?)
}

/// Checks a new password against the account's rules and hashes it: done before the
/// transaction that stores it (hashing is slow).
pub async fn prepare_password(username: &str, password: &str) -> Result<String, CoreError> {
    validate_password(password, username)?;
    hash_password(password).await
}

/// Whether `password` is the account's (for changes that ask for it again).
pub async fn check_password(account: &Account, password: &str) -> Result<(), CoreError> {
    if verify_password(password, Some(&account.password_hash)).await {
        Ok(())
    } else {
        Err(CoreError::InvalidCredentials)
    }
}

/// An account validated and with its password hashed, not stored yet. Hashing happens before a
/// connection or transaction is taken, so slow argon2 work never holds database resources.
pub struct PreparedAccount {
    username: String,
    identity: LocalIdentity,
    email: Option<String>,
    password_hash: String,
    role: Role,
    language: Language,
    status: AccountStatus,
    reason: Option<String>,
}

impl PreparedAccount {
    pub async fn prepare(
        settings: &Settings,
        username: &str,
        password: &str,
        email: Option<&str>,
        role: Role,
    ) -> Result<Self, CoreError> {
        validate_username(username)?;
        validate_password(password, username)?;
        if let Some(email) = email {
            validate_email(email)?;
        }
        Ok(Self {
            identity: identity::person_identity(settings, username).await?,
            username: username.to_owned(),
            email: email.map(str::to_owned),
            password_hash: hash_password(password).await?,
            role,
            language: Language::default(),
            status: AccountStatus::Active,
            reason: None,
        })
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub(crate) fn as_new(&self, email_verified: bool) -> NewAccount<'_> {
        NewAccount {
            username: &self.username,
            identity: &self.identity,
            email: self.email.as_deref(),
            password_hash: &self.password_hash,
            role: self.role,
            language: self.language,
            status: self.status,
            registration_reason: self.reason.as_deref(),
            email_verified,
        }
    }
}

/// A new login token, shown to its owner once.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: chrono::DateTime<Utc>,
    pub account: Account,
}

/// A log-in in three steps, so that no connection is held while the password is checked (a
/// hash waits its turn for a core, `secrets::verify_password`, and a burst of log-ins holding
/// their connections meanwhile would take the pool from every other request): the account
/// named ([`login_account`]), its password checked without a connection
/// ([`check_login_password`]), then a bearer token issued ([`open_session`]), which reads the
/// account again: it may have changed while the hash waited. Unknown user and wrong password
/// answer the same, in the same time.
pub async fn login_account(conn: &mut Conn, username: &str) -> Result<Option<Account>, CoreError> {
    Ok(store::find_by_username(conn, username).await?)
}

/// The account whose password `password` is ([`login_account`]'s), or `InvalidCredentials`.
pub async fn check_login_password(
    account: Option<Account>,
    password: &str,
) -> Result<Account, CoreError> {
    let stored_hash = account.as_ref().map(|a| a.password_hash.as_str());
    if !verify_password(password, stored_hash).await {
        return Err(CoreError::InvalidCredentials);
    }
    account.ok_or(CoreError::InvalidCredentials)
}

/// Issues a bearer token to an account whose password was checked (`checked`, as
/// [`login_account`] read it), unless it may not log in (pending, suspended, its e-mail
/// unverified where required, banned from the instance), or is gone, or its password changed
/// since: the account is read again, held, in the caller's transaction, which writes the
/// token. The hash took its time, queued behind others: a
/// suspension, a ban or a password reset committed meanwhile must not let in the log-in that
/// read the account before it.
pub async fn open_session(
    conn: &mut Conn,
    ctx: &Context,
    checked: Account,
) -> Result<IssuedToken, CoreError> {
    let person_id = checked.person_id;
    // The standing first, as every reader of a ban takes it, before any row (the order of
    // `hold_group_bans_with_removal_for_ban`): a ban committed before this is read below; one
    // after waits for the token, and its revocation of every token of the member finds it.
    cenacle_db::federation::hold_person_standing_for_reading_by_id(conn, person_id).await?;
    // Then the account row, shared: a status or password change waits for the token, or the
    // token for it, and this reads it.
    let account = store::find_by_id_for_session(conn, person_id)
        .await?
        // Gone meanwhile: answered as an unknown user, which says nothing of it.
        .ok_or(CoreError::InvalidCredentials)?;
    // A password changed meanwhile (a reset; the same password hashes anew, salted): the one
    // checked is no longer proof, so nothing more is said, as for a wrong one.
    if account.password_hash != checked.password_hash {
        return Err(CoreError::InvalidCredentials);
    }
    ensure_may_log_in(&account)?;
    if ctx.settings.email.verification == EmailVerification::Required
        && account.email.is_some()
        && account.email_verified_at.is_none()
    {
        return Err(CoreError::EmailNotVerified);
    }
    // Banned from the instance (see `instance_moderation`): no new session until it ends.
    if cenacle_db::instance_moderation::active_ban(conn, person_id)
        .await?
        .is_some()
    {
        return Err(CoreError::BannedFromInstance);
    }
    let token = new_secret(TOKEN_PREFIX);
    let expires_at = Utc::now() + Duration::days(ctx.settings.accounts.token_ttl_days.into());
    store::insert_token(conn, person_id, &secret_hash(&token), expires_at).await?;
    Ok(IssuedToken {
        token,
        expires_at,
        account,
    })
}

fn ensure_may_log_in(account: &Account) -> Result<(), CoreError> {
    match account.status {
        AccountStatus::Active => Ok(()),
        AccountStatus::PendingApproval => Err(CoreError::AccountPendingApproval),
        AccountStatus::Suspended => Err(CoreError::AccountSuspended),
    }
}

pub use crate::caller::Session;

/// The session a bearer token proves (the daily visit is recorded by the caller, see
/// `rewards::record_visit`).
pub async fn authenticate(conn: &mut Conn, token: &str) -> Result<Session, CoreError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(CoreError::Unauthenticated);
    }
    let (account, token_id) = store::find_by_token(conn, &secret_hash(token), Utc::now())
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    // A suspension takes effect on tokens already issued.
    ensure_may_log_in(&account).map_err(|_| CoreError::Unauthenticated)?;
    // So does a ban from the instance: banning revokes the member's tokens, but a token issued
    // by a login that read no ban just before the ban committed would outlive it otherwise.
    if cenacle_db::instance_moderation::active_ban(conn, account.person_id)
        .await?
        .is_some()
    {
        return Err(CoreError::BannedFromInstance);
    }
    Ok(Session { account, token_id })
}

pub async fn logout(conn: &mut Conn, session: &Session) -> Result<(), CoreError> {
    store::revoke_token(conn, session.token_id).await?;
    Ok(())
}

/// Revokes every token of the caller (every device); returns how many.
pub async fn logout_everywhere(conn: &mut Conn, session: &Session) -> Result<usize, CoreError> {
    Ok(store::revoke_all_tokens(conn, session.account.person_id).await?)
}

pub async fn update_profile(
    conn: &mut Conn,
    session: &Session,
    change: ProfileChange,
) -> Result<Account, CoreError> {
    let change = validate_profile(change)?;
    let person_id = session.account.person_id;
    let stored = PersonProfileChange {
        display_name: change.display_name,
        bio: change.bio,
        avatar_url: change.avatar_url,
        expertise_tags: change.expertise_tags,
    };
    if let Some(avatar) = &stored.avatar_url {
        crate::media::hold_uploads_named_in(conn, &[avatar]).await?;
    }
    store::update_profile(conn, person_id, &stored, change.language).await?;
    journey::pay_finished_steps(conn, person_id, StepKind::CompleteProfile).await?;
    store::find_by_id(conn, person_id)
        .await?
        .ok_or(CoreError::NotFound("account"))
}
