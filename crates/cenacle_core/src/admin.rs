//! Instance administration: accounts list, roles, approvals, invitations, first-admin setup.

use crate::{
    accounts::{PreparedAccount, Session},
    secrets::{new_secret, secret_hash},
    Context, CoreError,
};
use cenacle_db::accounts::{self as store, Account};
use cenacle_domain::{AccountStatus, Permission, Role};
use chrono::{Duration, Utc};
use diesel_async::AsyncConnection;

pub fn require(session: &Session, permission: Permission) -> Result<(), CoreError> {
    if session.account.role.allows(permission) {
        Ok(())
    } else {
        Err(CoreError::Forbidden(permission))
    }
}

/// Accounts after `after_id` in creation order, one more than `limit` asked for so that the
/// caller knows whether another page exists.
pub async fn list_accounts(
    ctx: &Context,
    session: &Session,
    after_id: i64,
    limit: i64,
    status: Option<AccountStatus>,
) -> Result<Vec<Account>, CoreError> {
    require(session, Permission::ListAccounts)?;
    let mut conn = ctx.conn().await?;
    Ok(store::list_after(&mut conn, after_id, limit, status).await?)
}

/// Changes a role by username: for the API (an admin's session) and the command line
/// (`session = None`: whoever can run the binary against the database is trusted).
pub async fn set_role(
    ctx: &Context,
    session: Option<&Session>,
    username: &str,
    role: Role,
) -> Result<Account, CoreError> {
    if let Some(session) = session {
        require(session, Permission::ChangeRoles)?;
    }
    let mut conn = ctx.conn().await?;
    let account = store::find_by_username(&mut conn, username)
        .await?
        .ok_or(CoreError::NotFound("account"))?;
    // Demoting the last admin would leave nobody able to hand out roles.
    if account.role == Role::Admin
        && role != Role::Admin
        && store::count_admins(&mut conn).await? <= 1
    {
        return Err(CoreError::Conflict("last_admin"));
    }
    store::set_role(&mut conn, account.person_id, role).await?;
    Ok(Account { role, ..account })
}

/// Lets a pending registration in.
pub async fn approve_registration(
    ctx: &Context,
    session: &Session,
    username: &str,
) -> Result<Account, CoreError> {
    require(session, Permission::ApproveRegistrations)?;
    let mut conn = ctx.conn().await?;
    let account = store::find_by_username(&mut conn, username)
        .await?
        .ok_or(CoreError::NotFound("account"))?;
    if account.status != AccountStatus::PendingApproval {
        return Err(CoreError::Conflict("not_pending"));
    }
    store::set_status(&mut conn, account.person_id, AccountStatus::Active).await?;
    Ok(Account {
        status: AccountStatus::Active,
        ..account
    })
}

pub struct IssuedInvite {
    pub code: String,
    pub expires_at: chrono::DateTime<Utc>,
}

pub async fn create_invite(ctx: &Context, session: &Session) -> Result<IssuedInvite, CoreError> {
    require(session, Permission::CreateInvites)?;
    let code = new_secret("inv_");
    let expires_at = Utc::now() + Duration::days(ctx.settings.accounts.invite_ttl_days.into());
    let mut conn = ctx.conn().await?;
    store::insert_invite(
        &mut conn,
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
pub async fn issue_setup_token_if_needed(ctx: &Context) -> Result<Option<String>, CoreError> {
    let mut conn = ctx.conn().await?;
    if store::count_admins(&mut conn).await? > 0 {
        return Ok(None);
    }
    let token = new_secret("setup_");
    store::replace_setup_token(&mut conn, &secret_hash(&token)).await?;
    Ok(Some(token))
}

/// Creates the first admin with the setup token; the token is spent in the same transaction,
/// so two people racing with one token cannot both become admin.
pub async fn complete_setup(
    ctx: &Context,
    setup_token: &str,
    username: &str,
    password: &str,
    email: Option<&str>,
) -> Result<Account, CoreError> {
    let account =
        PreparedAccount::prepare(&ctx.settings, username, password, email, Role::Admin).await?;
    let hash = secret_hash(setup_token);
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, CoreError, _>(async |conn| {
        if !store::spend_setup_token(conn, &hash).await? {
            return Err(CoreError::InvalidSetupToken);
        }
        Ok(store::insert_account(conn, &account.as_new()).await?)
    })
    .await
}

/// Blocks or unblocks another instance (admins only).
pub async fn set_instance_blocked(
    ctx: &Context,
    session: &Session,
    host: &str,
    blocked: bool,
) -> Result<(), CoreError> {
    require(session, Permission::BlockInstances)?;
    let mut conn = ctx.conn().await?;
    cenacle_db::federation::set_blocked(&mut conn, &host.to_ascii_lowercase(), blocked).await?;
    Ok(())
}
