//! Reward points: balances, history, and the grants and corrections of community managers.
//! Points are earned by contributions in `rewards`.

use crate::{accounts::Session, caller::require, idempotency, Conn, CoreError};
use cenacle_db::{
    engagement::{self as ledger, LedgerDifference, PointsEntry, ReputationEvent},
    shop::PointsStanding,
};
use cenacle_domain::{Permission, ValidationError};

/// A community manager's grant (or, negative, correction) of points, with its reason. A
/// correction can never take the balance below zero, nor deepen a debt left by reversals
/// (the balance's CHECK refuses it: 409 `balance_would_be_negative`). Returns the new balance.
///
/// With an `idempotency_key` (the client's, per admin), a retried request pays once: the same
/// key with the same grant answers the first call's balance again; with another grant it is
/// refused (`IdempotencyKeyReused`), nothing written. A refused grant (no reason, a balance
/// that would go negative) spends no key.
pub async fn grant_points(
    conn: &mut Conn,
    admin: &Session,
    person_id: i64,
    delta: i64,
    reason: &str,
    idempotency_key: Option<&str>,
) -> Result<i64, CoreError> {
    require(admin, Permission::ManageGroups)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ValidationError {
            field: "reason",
            code: "empty",
        }
        .into());
    }
    let by = admin.account.person_id;
    const ACTION: &str = "grant_points";
    if let Some(key) = idempotency_key {
        let request = idempotency::fingerprint(
            ACTION,
            &[&person_id.to_string(), &delta.to_string(), reason],
        );
        if let Some(answer) = idempotency::claim(conn, by, key, ACTION, &request).await? {
            return answer
                .parse()
                .map_err(|_| CoreError::Internal("stored grant answer".into()));
        }
    }
    let source_key = match idempotency_key {
        Some(key) => format!("grant:{by}:key:{key}"),
        None => format!("grant:{by}:{}", crate::identity::random_id()),
    };
    let reason = format!("grant: {reason}");
    let paid =
        ledger::record_points(conn, person_id, delta, &reason, &source_key, Some(by)).await?;
    // Already paid under this key: a retry whose key expired (see `idempotency`) and was
    // claimed anew. The same grant answers the balance; another grant with the same key pays
    // nothing, so it is refused as a reused key rather than answered as if it had paid.
    if !paid {
        let first = ledger::points_row_by_key(conn, &source_key).await?;
        if first != Some((person_id, delta, reason)) {
            return Err(CoreError::IdempotencyKeyReused);
        }
    }
    let balance = ledger::points_balance_of(conn, person_id).await?;
    if let Some(key) = idempotency_key {
        idempotency::remember(conn, by, key, &balance.to_string()).await?;
    }
    Ok(balance)
}

/// Every cached total its ledger contradicts (points balances, debts included; reputations,
/// the exact sums from 1 that are shown floored at 1; likes received, today's capped earnings;
/// the escrow of auctions; every reward's stock and free codes against their movements), each
/// naming its person or reward: empty when the books are right. For `cenacle admin audit` and the tests.
pub async fn audit(conn: &mut Conn) -> Result<Vec<LedgerDifference>, CoreError> {
    Ok(ledger::ledger_differences(conn).await?)
}

/// A person's points as they stand: balance, what leading bids hold of it (available =
/// balance − held), and what their open bounties hold (already out of the balance).
pub async fn standing(conn: &mut Conn, person_id: i64) -> Result<PointsStanding, CoreError> {
    Ok(cenacle_db::shop::points_standing(conn, person_id).await?)
}

/// A person's reward points balance.
pub async fn balance(conn: &mut Conn, person_id: i64) -> Result<i64, CoreError> {
    Ok(ledger::points_balance_of(conn, person_id).await?)
}

/// A person's balance and their ledger rows before `before_id` (newest first).
pub async fn points_history(
    conn: &mut Conn,
    person_id: i64,
    before_id: i64,
    limit: i64,
) -> Result<(i64, Vec<PointsEntry>), CoreError> {
    let balance = ledger::points_balance_of(conn, person_id).await?;
    let rows = ledger::points_history(conn, person_id, before_id, limit).await?;
    Ok((balance, rows))
}

/// A person's reputation and its events before `before_id` (newest first).
pub async fn reputation_history(
    conn: &mut Conn,
    person_id: i64,
    before_id: i64,
    limit: i64,
) -> Result<(i64, Vec<ReputationEvent>), CoreError> {
    let reputation = ledger::reputation_of(conn, person_id).await?;
    let rows = ledger::reputation_history(conn, person_id, before_id, limit).await?;
    Ok((reputation, rows))
}
