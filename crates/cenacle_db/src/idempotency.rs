//! Requests a client may retry safely with an `Idempotency-Key`: the first answer is kept, in
//! the same transaction as the action, and given again for the same key and body.

use crate::{schema::idempotent_request, DbError};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// What a key holds when it is claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: do the action, then [`store_response`] in the same transaction.
    New,
    /// The key was used before: with this request's hash and answer.
    Used {
        action: String,
        request_hash: String,
        response: Option<String>,
    },
}

/// Claims `key` for `actor`. A request with the same key running at the same moment waits
/// here until the first one commits (then it finds it used) or rolls back (then it claims it):
/// the unique key serialises them.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    key: &str,
    action: &str,
    request_hash: &str,
) -> Result<Claim, DbError> {
    let inserted = diesel::insert_into(idempotent_request::table)
        .values((
            idempotent_request::actor_id.eq(actor_id),
            idempotent_request::key.eq(key),
            idempotent_request::action.eq(action),
            idempotent_request::request_hash.eq(request_hash),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let (action, request_hash, response) = idempotent_request::table
        .find((actor_id, key))
        .select((
            idempotent_request::action,
            idempotent_request::request_hash,
            idempotent_request::response,
        ))
        .first(conn)
        .await?;
    Ok(Claim::Used {
        action,
        request_hash,
        response,
    })
}

/// Keeps the answer to give again for a claimed key.
pub async fn store_response(
    conn: &mut AsyncPgConnection,
    actor_id: i64,
    key: &str,
    response: &str,
) -> Result<(), DbError> {
    diesel::update(idempotent_request::table.find((actor_id, key)))
        .set(idempotent_request::response.eq(response))
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets keys claimed more than `max_age_hours` ago, up to `limit` of them; returns how many
/// (call again while it returns `limit`).
pub async fn prune(
    conn: &mut AsyncPgConnection,
    max_age_hours: i32,
    limit: i64,
) -> Result<usize, DbError> {
    use diesel::sql_types::{BigInt, Int4};
    Ok(diesel::sql_query(
        "DELETE FROM idempotent_request WHERE (actor_id, key) IN \
         (SELECT actor_id, key FROM idempotent_request \
          WHERE created_at < now() - $1 * interval '1 hour' LIMIT $2)",
    )
    .bind::<Int4, _>(max_age_hours)
    .bind::<BigInt, _>(limit)
    .execute(conn)
    .await?)
}
