//! Requests a client may retry safely (`Idempotency-Key`, as payment APIs do): the first
//! answer is kept in the same transaction as the action and given again for the same key and
//! request; the same key with another request is refused (`IdempotencyKeyReused`), nothing
//! written.

use crate::{Conn, Context, CoreError};
use cenacle_db::idempotency::{self as store, Claim};
use sha2::{Digest, Sha256};

/// A request's fingerprint: its action and the fields that decide what it does.
pub(crate) fn fingerprint(action: &str, fields: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(action.as_bytes());
    for field in fields {
        // Length-prefixed, so that fields cannot run into one another.
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Claims `key` for `actor`'s request: `None` when it is new (do the action, then
/// [`remember`] its answer), the first answer when the same request was made with it before.
pub(crate) async fn claim(
    conn: &mut Conn,
    actor: i64,
    key: &str,
    action: &str,
    request: &str,
) -> Result<Option<String>, CoreError> {
    match store::claim(conn, actor, key, action, request).await? {
        Claim::New => Ok(None),
        Claim::Used {
            action: used_for,
            request_hash,
            response,
        } => {
            if used_for != action || request_hash != request {
                return Err(CoreError::IdempotencyKeyReused);
            }
            // Written in the same transaction as the claim: a committed claim has it.
            response
                .map(Some)
                .ok_or_else(|| CoreError::Internal("idempotent request without its answer".into()))
        }
    }
}

/// Keeps the answer of a request whose key was claimed, to give it again.
pub(crate) async fn remember(
    conn: &mut Conn,
    actor: i64,
    key: &str,
    response: &str,
) -> Result<(), CoreError> {
    Ok(store::store_response(conn, actor, key, response).await?)
}

/// Forgets keys older than `limits.idempotency_key_retention_hours`, up to `limit` of them;
/// returns how many (call again while it returns `limit`). A client retrying after that
/// claims its key anew: a grant still pays once (its ledger row is keyed by the client's key),
/// and answers the balance of then; another grant under that key is refused as a reused key.
pub async fn prune_expired(conn: &mut Conn, ctx: &Context, limit: i64) -> Result<usize, CoreError> {
    let hours = ctx.settings.limits.idempotency_key_retention_hours;
    Ok(store::prune(conn, i32::try_from(hours).unwrap_or(i32::MAX), limit).await?)
}
