//! Instance administration: accounts list, roles, approvals, invitations, first-admin setup.

use crate::{
    accounts::{PreparedAccount, Session},
    mail_rules::KindRules,
    secrets::{new_secret, secret_hash},
    Conn, Context, CoreError,
};
use cenacle_db::{
    accounts::{self as store, Account},
    mail::{self as mail_store, RetryParked},
};
use cenacle_domain::{AccountStatus, Permission, Role, ValidationError};
use chrono::{Duration, Utc};

pub use crate::caller::require;
pub use cenacle_db::mail::{DroppedMail, ParkedMailView, RetryOutcome};

/// Accounts after `after_id` in creation order, one more than `limit` asked for so that the
/// caller knows whether another page exists.
pub async fn list_accounts(
    conn: &mut Conn,
    session: &Session,
    after_id: i64,
    limit: i64,
    status: Option<AccountStatus>,
) -> Result<Vec<Account>, CoreError> {
    require(session, Permission::ListAccounts)?;
    Ok(store::list_after(conn, after_id, limit, status).await?)
}

/// Changes a role by username: for the API (an admin's session) and the command line
/// (`session = None`: whoever can run the binary against the database is trusted).
pub async fn set_role(
    conn: &mut Conn,
    session: Option<&Session>,
    username: &str,
    role: Role,
) -> Result<Account, CoreError> {
    if let Some(session) = session {
        require(session, Permission::ChangeRoles)?;
    }
    let account = store::find_by_username(conn, username)
        .await?
        .ok_or(CoreError::NotFound("account"))?;
    // Demoting the last admin would leave nobody able to hand out roles.
    if account.role == Role::Admin && role != Role::Admin && store::count_admins(conn).await? <= 1 {
        return Err(CoreError::Conflict("last_admin"));
    }
    store::set_role(conn, account.person_id, role).await?;
    Ok(Account { role, ..account })
}

/// Lets a pending registration in.
pub async fn approve_registration(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    username: &str,
) -> Result<Account, CoreError> {
    require(session, Permission::ApproveRegistrations)?;
    let account = store::find_by_username(conn, username)
        .await?
        .ok_or(CoreError::NotFound("account"))?;
    if account.status != AccountStatus::PendingApproval {
        return Err(CoreError::Conflict("not_pending"));
    }
    store::set_status(conn, account.person_id, AccountStatus::Active).await?;
    let account = Account {
        status: AccountStatus::Active,
        ..account
    };
    // The newcomer is greeted now, as a sign-up let in at once is (panel, mail, post).
    crate::welcome::greet_approved(conn, ctx, &account).await?;
    Ok(account)
}

pub struct IssuedInvite {
    pub code: String,
    pub expires_at: chrono::DateTime<Utc>,
}

pub async fn create_invite(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
) -> Result<IssuedInvite, CoreError> {
    require(session, Permission::CreateInvites)?;
    let code = new_secret("inv_");
    let expires_at = Utc::now() + Duration::days(ctx.settings.accounts.invite_ttl_days.into());
    store::insert_invite(
        conn,
        session.account.person_id,
        &secret_hash(&code),
        expires_at,
    )
    .await?;
    Ok(IssuedInvite { code, expires_at })
}

/// When the instance has no admin yet, stores and returns a fresh one-time setup token that
/// lets its holder create the first admin (`POST /api/v1/setup`). Returns `None` once an admin
/// exists. The token is for the operator's eyes: print it, never log it.
pub async fn issue_setup_token_if_needed(conn: &mut Conn) -> Result<Option<String>, CoreError> {
    if store::count_admins(conn).await? > 0 {
        return Ok(None);
    }
    let token = new_secret("setup_");
    store::replace_setup_token(conn, &secret_hash(&token)).await?;
    Ok(Some(token))
}

/// Creates the first admin (`account`, prepared with the admin role before the caller's
/// transaction) with the setup token; the token is spent in the same transaction, so two
/// people racing with one token cannot both become admin.
pub async fn complete_setup(
    conn: &mut Conn,
    setup_token: &str,
    account: &PreparedAccount,
) -> Result<Account, CoreError> {
    if account.role() != Role::Admin {
        return Err(CoreError::Internal(
            "the first account must be an admin".into(),
        ));
    }
    if !store::spend_setup_token(conn, &secret_hash(setup_token)).await? {
        return Err(CoreError::InvalidSetupToken);
    }
    Ok(store::insert_account(conn, &account.as_new(true)).await?)
}

/// How much votes from another instance count in reputation (1 by default, 0 = nothing).
pub async fn set_instance_weight(
    conn: &mut Conn,
    session: &Session,
    host: &str,
    weight: f64,
) -> Result<(), CoreError> {
    require(session, Permission::BlockInstances)?;
    if !(0.0..=10.0).contains(&weight) || weight.is_nan() {
        return Err(ValidationError {
            field: "weight",
            code: "out_of_range",
        }
        .into());
    }
    cenacle_db::engagement::set_instance_weight(conn, &host.to_ascii_lowercase(), weight).await?;
    Ok(())
}

/// Outbox events parked after their last attempt, after `after_id`, oldest first (admins).
pub async fn failed_outbox_events(
    conn: &mut Conn,
    session: &Session,
    after_id: i64,
    limit: i64,
) -> Result<Vec<cenacle_db::federation::FailedEvent>, CoreError> {
    require(session, Permission::ManageFederation)?;
    Ok(cenacle_db::federation::failed_outbox_events(conn, after_id, limit).await?)
}

/// Puts a parked outbox event back in line (admins), e.g. once what made it fail is mended.
pub async fn retry_outbox_event(
    conn: &mut Conn,
    session: &Session,
    id: i64,
) -> Result<(), CoreError> {
    require(session, Permission::ManageFederation)?;
    if cenacle_db::federation::retry_failed_outbox_event(conn, id).await? {
        Ok(())
    } else {
        Err(CoreError::NotFound("outbox_event"))
    }
}

/// Mails parked after their last attempt or a permanent refusal, after `after_id`, oldest
/// first (admins): to whom, what, and the SMTP server's last word; never their bodies.
pub async fn parked_mails(
    conn: &mut Conn,
    session: &Session,
    after_id: i64,
    limit: i64,
) -> Result<Vec<ParkedMailView>, CoreError> {
    require(session, Permission::ManageMailQueue)?;
    Ok(mail_store::parked_mails(conn, after_id, limit).await?)
}

/// How many of the mails a retry deleted it names (by id and kind) to the admin and in the
/// log line, oldest first; the count is always whole. A retry of thousands of mails no longer
/// wanted must not answer, nor log, thousands of rows.
pub const DROPPED_NAMED_AT_MOST: usize = 100;

/// What happened to the one parked mail an admin asked to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailRetry {
    /// Back in line.
    Retried,
    /// Deleted instead: the rules it was queued under would not queue it now (its member
    /// refused its kind or, for a notification or a digest, no longer has it mailed; was
    /// suspended or changed address; its link expired or was spent; what its notification
    /// or digest tells of was taken down since, or is in a private group the member left; a
    /// digest older than its cadence's period; its onboarding rule was disabled or deleted,
    /// or its stop condition met). Callers answer
    /// `mail_no_longer_wanted` once the transaction is committed (an error would undo the
    /// deletion).
    Dropped,
}

/// Puts a parked mail back in line, due now with its attempts reset (admins), once what made
/// it fail is mended; or deletes it when it is no longer wanted (see
/// [`mail_store::retry_parked_mails`]). `NotFound("parked_mail")` (`mail_not_parked`) when no
/// parked mail has this id: a mail that was sent has left the queue, so "sent" and "never
/// existed" cannot be told apart, and both mean there is nothing to retry.
pub async fn retry_parked_mail(
    conn: &mut Conn,
    session: &Session,
    id: i64,
) -> Result<MailRetry, CoreError> {
    require(session, Permission::ManageMailQueue)?;
    let outcome = retry(conn, RetryParked::One(id)).await?;
    tracing::info!(
        admin = session.account.person_id,
        mail = id,
        retried = outcome.retried,
        dropped = outcome.dropped,
        dropped_mails = ?dropped_for_log(&outcome),
        "an admin retried a parked mail"
    );
    match outcome {
        RetryOutcome { retried: 1, .. } => Ok(MailRetry::Retried),
        RetryOutcome { dropped: 1, .. } => Ok(MailRetry::Dropped),
        _ => Err(CoreError::NotFound("parked_mail")),
    }
}

/// The store's retry of `which`, under the kinds' rules, naming at most
/// [`DROPPED_NAMED_AT_MOST`] of the mails it deletes.
async fn retry(conn: &mut Conn, which: RetryParked<'_>) -> Result<RetryOutcome, CoreError> {
    let rules = KindRules::new();
    let named = DROPPED_NAMED_AT_MOST as i64;
    Ok(mail_store::retry_parked_mails(conn, which, &rules.for_store(), named).await?)
}

/// The mails a retry dropped as the logs keep them: `id:kind`, never an address.
fn dropped_for_log(outcome: &RetryOutcome) -> Vec<String> {
    outcome
        .dropped_mails
        .iter()
        .map(|m| format!("{}:{}", m.id, m.kind))
        .collect()
}

/// Puts every parked mail to a recipient at `domain` back in line (all of them when `None`:
/// a mended relay or DNS record concerns every mail), in one statement, and deletes those no
/// longer wanted; returns how many of each, and which were deleted. An empty or blank domain
/// is refused, not taken for "all": only its absence means all.
pub async fn retry_parked_mails(
    conn: &mut Conn,
    session: &Session,
    domain: Option<&str>,
) -> Result<RetryOutcome, CoreError> {
    require(session, Permission::ManageMailQueue)?;
    let domain = domain.map(str::trim);
    if domain.is_some_and(str::is_empty) {
        return Err(ValidationError {
            field: "domain",
            code: "empty",
        }
        .into());
    }
    // A domain is what follows the `@`: anything else would match nothing, silently.
    if domain.is_some_and(|d| d.contains(|c: char| c == '@' || c.is_whitespace()) || d.len() > 253)
    {
        return Err(ValidationError {
            field: "domain",
            code: "invalid",
        }
        .into());
    }
    let outcome = retry(conn, RetryParked::ToDomain(domain)).await?;
    // Which were dropped, by id and kind (never their addresses: the logs outlive them), the
    // first `DROPPED_NAMED_AT_MOST` only.
    tracing::info!(
        admin = session.account.person_id,
        domain = domain.unwrap_or("*"),
        retried = outcome.retried,
        dropped = outcome.dropped,
        dropped_mails = ?dropped_for_log(&outcome),
        dropped_mails_truncated = outcome.dropped_mails_truncated(),
        "an admin retried parked mails"
    );
    Ok(outcome)
}
