//! Reward points: balances, history, and the grants and corrections of community managers.
//! Points are earned by contributions in `rewards`.

use crate::{accounts::Session, admin::require, Conn, CoreError};
use cenacle_db::engagement::{self as ledger, PointsEntry, ReputationEvent};
use cenacle_domain::{Permission, ValidationError};

/// A community manager's grant (or, negative, correction) of points, with its reason. A
/// correction can never take the balance below zero (the balance's CHECK refuses it: 409
/// `balance_would_be_negative`). Returns the new balance.
pub async fn grant_points(
    conn: &mut Conn,
    admin: &Session,
    person_id: i64,
    delta: i64,
    reason: &str,
) -> Result<i64, CoreError> {
    require(admin, Permission::ManageGroups)?;
    if reason.trim().is_empty() {
        return Err(ValidationError {
            field: "reason",
            code: "empty",
        }
        .into());
    }
    let key = format!(
        "grant:{}:{}",
        admin.account.person_id,
        crate::identity::random_id()
    );
    ledger::record_points(
        conn,
        person_id,
        delta,
        &format!("grant: {}", reason.trim()),
        &key,
        Some(admin.account.person_id),
    )
    .await?;
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
