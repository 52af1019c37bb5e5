//! Tokens e-mailed to members (address verification, password reset, address change), the
//! password and address changes they allow, and the verified mark.

use crate::DbError;
use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{BigInt, Bytea, Nullable, Text, Timestamptz},
    OptionalExtension, QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

pub async fn insert_token(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    purpose: &str,
    token_hash: &[u8],
    email: Option<&str>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO account_token (person_id, purpose, token_hash, email, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(purpose)
    .bind::<Bytea, _>(token_hash)
    .bind::<Nullable<Text>, _>(email)
    .bind::<Timestamptz, _>(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A token as stored, whatever its state (the caller tells used from expired).
#[derive(Debug, Clone, QueryableByName)]
pub struct StoredToken {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub used_at: Option<DateTime<Utc>>,
}

/// The token with this hash and purpose, locked until the transaction ends (two requests
/// spending it at once: the second waits, then sees it used).
pub async fn find_token_for_update(
    conn: &mut AsyncPgConnection,
    purpose: &str,
    token_hash: &[u8],
) -> Result<Option<StoredToken>, DbError> {
    Ok(diesel::sql_query(
        "SELECT id, person_id, email, expires_at, used_at FROM account_token \
         WHERE purpose = $1 AND token_hash = $2 FOR UPDATE",
    )
    .bind::<Text, _>(purpose)
    .bind::<Bytea, _>(token_hash)
    .get_result(conn)
    .await
    .optional()?)
}

/// Marks a token used, and every other live token of the same member and purpose (a newer
/// reset mail makes older ones useless, and spending one spends them all).
pub async fn spend_tokens(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    purpose: &str,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE account_token SET used_at = now() \
         WHERE person_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(purpose)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the address verified, if it is still `email` (an address changed since the token was
/// sent is not verified by it). Returns whether it did.
pub async fn mark_email_verified(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    email: &str,
) -> Result<bool, DbError> {
    let n = diesel::sql_query(
        "UPDATE local_user SET email_verified_at = COALESCE(email_verified_at, now()) \
         WHERE person_id = $1 AND lower(email) = lower($2)",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(email)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Replaces the address by a verified one (the unique index refuses one taken meanwhile).
pub async fn change_email(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    email: &str,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE local_user SET email = $2, email_verified_at = now() WHERE person_id = $1",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(email)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    password_hash: &str,
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE local_user SET password_hash = $2 WHERE person_id = $1")
        .bind::<BigInt, _>(person_id)
        .bind::<Text, _>(password_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether some local account other than `person_id` uses `email`.
pub async fn email_taken(
    conn: &mut AsyncPgConnection,
    email: &str,
    person_id: i64,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        person_id: i64,
    }
    Ok(diesel::sql_query(
        "SELECT person_id FROM local_user WHERE lower(email) = lower($1) AND person_id <> $2",
    )
    .bind::<Text, _>(email)
    .bind::<BigInt, _>(person_id)
    .get_result::<Found>(conn)
    .await
    .optional()?
    .is_some())
}
