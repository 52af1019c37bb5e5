//! Local accounts: person + local_user rows, login tokens, invitations, the setup token.

use crate::{
    schema::{auth_token, invite, local_user, person, setup_token},
    DbError,
};
use cenacle_domain::{AccountStatus, Language, Role};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// A local account as the rest of the program sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub person_id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub expertise_tags: Vec<String>,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: Role,
    pub language: Language,
    pub status: AccountStatus,
    pub registration_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the member proved they receive mail at `email` (None: not yet, or no address).
    pub email_verified_at: Option<DateTime<Utc>>,
}

type AccountColumns = (
    person::id,
    person::username,
    person::display_name,
    person::bio,
    person::avatar_url,
    person::expertise_tags,
    local_user::email,
    local_user::password_hash,
    local_user::role,
    local_user::language,
    local_user::status,
    local_user::registration_reason,
    local_user::created_at,
    local_user::email_verified_at,
);
const ACCOUNT_COLUMNS: AccountColumns = (
    person::id,
    person::username,
    person::display_name,
    person::bio,
    person::avatar_url,
    person::expertise_tags,
    local_user::email,
    local_user::password_hash,
    local_user::role,
    local_user::language,
    local_user::status,
    local_user::registration_reason,
    local_user::created_at,
    local_user::email_verified_at,
);

type AccountRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn account_from_row(row: AccountRow) -> Result<Account, DbError> {
    let (
        id,
        username,
        display_name,
        bio,
        avatar_url,
        tags,
        email,
        hash,
        role,
        lang,
        status,
        reason,
        created,
        verified,
    ) = row;
    Ok(Account {
        person_id: id,
        username,
        display_name,
        bio,
        avatar_url,
        expertise_tags: tags,
        email,
        password_hash: hash,
        role: role.parse().map_err(|e| DbError::Corrupt(format!("{e}")))?,
        language: Language::parse(&lang)
            .ok_or_else(|| DbError::Corrupt(format!("language `{lang}`")))?,
        status: status.parse().map_err(DbError::Corrupt)?,
        registration_reason: reason,
        created_at: created,
        email_verified_at: verified,
    })
}

fn accounts() -> diesel::dsl::InnerJoin<local_user::table, person::table> {
    local_user::table.inner_join(person::table)
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub identity: &'a crate::actors::LocalIdentity,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub role: Role,
    pub language: Language,
    pub status: AccountStatus,
    pub registration_reason: Option<&'a str>,
    /// Accounts an admin creates are taken as verified.
    pub email_verified: bool,
}

/// Creates the person and its local account together. Call inside a transaction when the
/// account must appear together with other writes (an invitation used, the setup token spent).
pub async fn insert_account(
    conn: &mut AsyncPgConnection,
    new: &NewAccount<'_>,
) -> Result<Account, DbError> {
    let person_id: i64 = diesel::insert_into(person::table)
        .values((
            person::username.eq(new.username),
            person::local.eq(true),
            person::ap_id.eq(&new.identity.ap_id),
            person::inbox_url.eq(&new.identity.inbox_url),
            person::shared_inbox_url.eq(&new.identity.shared_inbox_url),
            person::public_key_pem.eq(&new.identity.public_key_pem),
            person::private_key_pem.eq(&new.identity.private_key_pem),
        ))
        .returning(person::id)
        .get_result(conn)
        .await?;
    diesel::insert_into(local_user::table)
        .values((
            local_user::person_id.eq(person_id),
            local_user::email.eq(new.email),
            local_user::password_hash.eq(new.password_hash),
            local_user::role.eq(new.role.as_str()),
            local_user::language.eq(new.language.as_str()),
            local_user::status.eq(new.status.as_str()),
            local_user::registration_reason.eq(new.registration_reason),
            local_user::email_verified_at.eq(new
                .email_verified
                .then(Utc::now)
                .filter(|_| new.email.is_some())),
        ))
        .execute(conn)
        .await?;
    find_by_id(conn, person_id)
        .await?
        .ok_or_else(|| DbError::Corrupt("account vanished after insert".into()))
}

pub async fn find_by_id(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<Account>, DbError> {
    let row = accounts()
        .filter(person::id.eq(id))
        .select(ACCOUNT_COLUMNS)
        .first::<AccountRow>(conn)
        .await
        .optional()?;
    row.map(account_from_row).transpose()
}

/// The local account whose address is `email` (compared without case, as the unique index).
pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> Result<Option<Account>, DbError> {
    let row = accounts()
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(local_user.email) = lower(")
                .bind::<diesel::sql_types::Text, _>(email.to_owned())
                .sql(")"),
        )
        .select(ACCOUNT_COLUMNS)
        .first::<AccountRow>(conn)
        .await
        .optional()?;
    row.map(account_from_row).transpose()
}

/// The account `person_id` as it stands now, its `local_user` row held `FOR SHARE` until the
/// transaction ends: for a log-in about to issue a token to the account it read before its
/// password check. A change of its status or password hash committed before this waits, and
/// is seen (READ COMMITTED reads the newest row once the lock is granted); one after it waits
/// for the token to commit, and a password reset's revocation of every token then finds it.
/// Only that row: the `person` row (profile, keys) is no part of whether one may log in, and
/// its writers need not wait for a log-in. None when the account is gone.
pub async fn find_by_id_for_session(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Option<Account>, DbError> {
    let held = local_user::table
        .find(person_id)
        .select(local_user::person_id)
        .for_share()
        .first::<i64>(conn)
        .await
        .optional()?;
    match held {
        // A statement of its own, after the lock: its snapshot includes what the lock waited
        // for.
        Some(_) => find_by_id(conn, person_id).await,
        None => Ok(None),
    }
}

pub async fn find_by_username(
    conn: &mut AsyncPgConnection,
    username: &str,
) -> Result<Option<Account>, DbError> {
    let row = accounts()
        .filter(person::username.eq(username))
        .filter(person::local.eq(true))
        .select(ACCOUNT_COLUMNS)
        .first::<AccountRow>(conn)
        .await
        .optional()?;
    row.map(account_from_row).transpose()
}

/// Accounts in id order after `after_id`, at most `limit`: keyset pagination, stable while
/// accounts are added.
pub async fn list_after(
    conn: &mut AsyncPgConnection,
    after_id: i64,
    limit: i64,
    status: Option<AccountStatus>,
) -> Result<Vec<Account>, DbError> {
    let mut query = accounts()
        .filter(person::id.gt(after_id))
        .select(ACCOUNT_COLUMNS)
        .order(person::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(local_user::status.eq(status.as_str()));
    }
    let rows = query.load::<AccountRow>(conn).await?;
    rows.into_iter().map(account_from_row).collect()
}

pub async fn count_admins(conn: &mut AsyncPgConnection) -> Result<i64, DbError> {
    Ok(local_user::table
        .filter(local_user::role.eq(Role::Admin.as_str()))
        .count()
        .get_result(conn)
        .await?)
}

/// Returns false when no such account exists.
pub async fn set_role(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    role: Role,
) -> Result<bool, DbError> {
    let n = diesel::update(local_user::table.find(person_id))
        .set(local_user::role.eq(role.as_str()))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

pub async fn set_status(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    status: AccountStatus,
) -> Result<bool, DbError> {
    let n = diesel::update(local_user::table.find(person_id))
        .set(local_user::status.eq(status.as_str()))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// A profile edit: `None` keeps the stored value.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = person)]
pub struct PersonProfileChange {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub expertise_tags: Option<Vec<String>>,
}

pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    change: &PersonProfileChange,
    language: Option<Language>,
) -> Result<(), DbError> {
    conn.transaction::<_, DbError, _>(async |conn| {
        diesel::update(person::table.find(person_id))
            .set((change, person::updated_at.eq(diesel::dsl::now)))
            .execute(conn)
            .await?;
        if let Some(language) = language {
            diesel::update(local_user::table.find(person_id))
                .set(local_user::language.eq(language.as_str()))
                .execute(conn)
                .await?;
        }
        Ok(())
    })
    .await
}

// ---- login tokens ----

pub async fn insert_token(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(diesel::insert_into(auth_token::table)
        .values((
            auth_token::person_id.eq(person_id),
            auth_token::token_hash.eq(token_hash),
            auth_token::expires_at.eq(expires_at),
        ))
        .returning(auth_token::id)
        .get_result(conn)
        .await?)
}

/// The account behind a live token (not revoked, not expired) and the token's id.
pub async fn find_by_token(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<(Account, i64)>, DbError> {
    let row = auth_token::table
        .inner_join(local_user::table.inner_join(person::table))
        .filter(auth_token::token_hash.eq(token_hash))
        .filter(auth_token::revoked_at.is_null())
        .filter(auth_token::expires_at.gt(now))
        .select((ACCOUNT_COLUMNS, auth_token::id))
        .first::<(AccountRow, i64)>(conn)
        .await
        .optional()?;
    row.map(|(account, id)| Ok((account_from_row(account)?, id)))
        .transpose()
}

pub async fn revoke_token(conn: &mut AsyncPgConnection, token_id: i64) -> Result<(), DbError> {
    diesel::update(
        auth_token::table
            .find(token_id)
            .filter(auth_token::revoked_at.is_null()),
    )
    .set(auth_token::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes every live token of an account; returns how many.
pub async fn revoke_all_tokens(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        auth_token::table
            .filter(auth_token::person_id.eq(person_id))
            .filter(auth_token::revoked_at.is_null()),
    )
    .set(auth_token::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?)
}

// ---- invitations ----

pub async fn insert_invite(
    conn: &mut AsyncPgConnection,
    created_by: i64,
    code_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(diesel::insert_into(invite::table)
        .values((
            invite::created_by.eq(created_by),
            invite::code_hash.eq(code_hash),
            invite::expires_at.eq(expires_at),
        ))
        .returning(invite::id)
        .get_result(conn)
        .await?)
}

/// Marks an unused, unexpired invitation as used by `person_id`. A single conditional UPDATE,
/// so two registrations racing for one invitation cannot both win. Returns false when the
/// invitation is unknown, used or expired.
pub async fn use_invite(
    conn: &mut AsyncPgConnection,
    code_hash: &[u8],
    person_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = diesel::update(
        invite::table
            .filter(invite::code_hash.eq(code_hash))
            .filter(invite::used_at.is_null())
            .filter(invite::expires_at.gt(now)),
    )
    .set((invite::used_by.eq(person_id), invite::used_at.eq(now)))
    .execute(conn)
    .await?;
    Ok(n == 1)
}

pub async fn invite_is_usable(
    conn: &mut AsyncPgConnection,
    code_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n: i64 = invite::table
        .filter(invite::code_hash.eq(code_hash))
        .filter(invite::used_at.is_null())
        .filter(invite::expires_at.gt(now))
        .count()
        .get_result(conn)
        .await?;
    Ok(n > 0)
}

// ---- setup token ----

/// Stores a new setup token hash, replacing an unused one (a restart before setup prints a
/// fresh token; the old one stops working).
pub async fn replace_setup_token(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> Result<(), DbError> {
    diesel::insert_into(setup_token::table)
        .values((
            setup_token::id.eq(1),
            setup_token::token_hash.eq(token_hash),
        ))
        .on_conflict(setup_token::id)
        .do_update()
        .set((
            setup_token::token_hash.eq(token_hash),
            setup_token::created_at.eq(diesel::dsl::now),
            setup_token::used_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Spends the setup token if it matches and is unused; returns whether it did.
pub async fn spend_setup_token(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> Result<bool, DbError> {
    let n = diesel::update(
        setup_token::table
            .filter(setup_token::token_hash.eq(token_hash))
            .filter(setup_token::used_at.is_null()),
    )
    .set(setup_token::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    Ok(n == 1)
}
