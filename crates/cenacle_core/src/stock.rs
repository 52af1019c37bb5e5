//! A reward's stock changed by hand: a community manager writes units off (damaged, lost, given
//! away at an event), adds units received, or puts a count right — each with a reason from a
//! short list and a note, as one row of the stock ledger (`stock_movement`) like every other
//! stock change, so that `cenacle admin audit`'s sum (initial stock plus movements) covers it.
//!
//! An adjustment takes the reward's row lock, the one every redemption, lot and refund of it
//! takes first: it and a redemption apply one after the other, and a write-off can take only
//! units still free — never one an order or a lot already holds (those left the stock when
//! taken).
//!
//! A digital reward's units are its codes (uploaded, and handed out with its orders); its
//! stock, if any, is a cap on how many sell, which only a correction changes.

use crate::{accounts::Session, caller::require, Conn, CoreError};
use cenacle_db::shop::{self as store, NewAdjustment, StockAdjustment};
use cenacle_domain::{
    shop::{check_adjustment, within_free_units, write_off_refusal, ShopRefusal},
    Permission, ValidationError,
};

/// Longest note, in characters (the table's CHECK says the same).
pub const NOTE_MAX: usize = 500;

/// What a community manager asks.
#[derive(Debug, Clone, Default)]
pub struct AdjustmentInput {
    /// Negative: units written off; positive: units added.
    pub delta: i64,
    /// `damaged`, `lost`, `given_away`, `received` or `correction`.
    pub reason: String,
    /// Free text (blank: none).
    pub note: Option<String>,
}

/// Adjusts a limited reward's stock (community managers and admins, as for editing rewards),
/// in the caller's transaction. Refused, nothing changed: 422 for a reason not on the list, a
/// change of 0 or beyond a million, or one going against its reason (a "damaged" unit gained),
/// and 422 `reward_not_stocked` for a digital reward's units damaged, lost, given away or
/// received (its units are its codes; a correction changes its cap); 409 `reward_stock_unlimited`,
/// `stock_below_reserved` (more than the free units: the rest are promised to open orders or
/// lots) or `stock_below_zero` (more than there are).
pub async fn adjust_stock(
    conn: &mut Conn,
    session: &Session,
    reward_id: i64,
    input: &AdjustmentInput,
) -> Result<StockAdjustment, CoreError> {
    require(session, Permission::ManageRewards)?;
    let reason = check_adjustment(input.reason.trim(), input.delta)?;
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX) {
        return Err(ValidationError {
            field: "note",
            code: "too_long",
        }
        .into());
    }
    // The lock every redemption, lot and refund of this reward takes first: none of them moves
    // its stock until this transaction ends. (A shipment can still turn a promised unit into a
    // sent one meanwhile: that only changes which refusal a write-off past the free units gets.)
    let reward = store::reward_for_update(conn, reward_id)
        .await?
        .ok_or(CoreError::NotFound("reward"))?;
    if !reason.applies_to(&reward.kind) {
        return Err(ShopRefusal::RewardNotStocked.into());
    }
    let stock = reward.stock.ok_or(ShopRefusal::StockUnlimited)?;
    if !within_free_units(stock, input.delta) {
        // Past the free units: what open orders and lots hold (read under the same lock) tells
        // a write-off of promised units from one of units that do not exist.
        let reserved = store::units_reserved(conn, reward_id).await?;
        return Err(write_off_refusal(stock, reserved, input.delta).into());
    }
    store::record_adjustment(
        conn,
        &NewAdjustment {
            reward_id,
            delta: input.delta,
            reason: reason.as_str(),
            note,
            by: session.account.person_id,
        },
    )
    .await?
    // The statement's own guard refused what the lock allowed: only a writer that changed the
    // stock without the lock could do that. Refused all the same, nothing written.
    .ok_or(ShopRefusal::StockBelowZero.into())
}

/// A reward's changes by hand (adjustments and restocks), newest first: up to `limit` of those
/// before the change `before` (community managers and admins).
pub async fn adjustments(
    conn: &mut Conn,
    session: &Session,
    reward_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<StockAdjustment>, CoreError> {
    require(session, Permission::ManageRewards)?;
    // An unknown reward is a 404, not an empty history.
    crate::shop::reward(conn, reward_id).await?;
    Ok(store::stock_adjustments(conn, reward_id, before, limit).await?)
}

/// The last `per_reward` changes by hand of each of `reward_ids`, for the shop page of
/// community managers (one query for the whole catalogue).
pub async fn recent_adjustments(
    conn: &mut Conn,
    session: &Session,
    reward_ids: &[i64],
    per_reward: i64,
) -> Result<Vec<StockAdjustment>, CoreError> {
    require(session, Permission::ManageRewards)?;
    Ok(store::recent_stock_adjustments(conn, reward_ids, per_reward).await?)
}
