//! Orders after redemption: what a member sees of theirs, and the fulfilment steps community
//! managers take (approved → shipped → delivered; or refused / cancelled, which gives the
//! points back by a ledger row offsetting the debit and the unit back to the stock).

use crate::{accounts::Session, caller::require, Caller, Conn, Context, CoreError};
use cenacle_db::{
    auctions as auction_store, engagement as ledger,
    shop::{self as store, MonthPoints, Order, PendingCount, Reward, StockMove, StockReason},
};
use cenacle_domain::{
    shop::{address_erased_at, OrderStatus, ShopRefusal},
    Permission, ValidationError,
};
use chrono::Utc;

/// Longest tracking note.
const NOTE_MAX: usize = 1_000;

/// A member's orders, newest first (with their codes and tracking notes).
pub async fn my_orders(conn: &mut Conn, caller: &Caller) -> Result<Vec<Order>, CoreError> {
    Ok(store::orders_of(conn, caller.person_id).await?)
}

/// Orders waiting on community managers.
pub async fn pending(conn: &mut Conn, session: &Session) -> Result<Vec<Order>, CoreError> {
    require(session, Permission::ManageRewards)?;
    Ok(store::pending_orders(conn).await?)
}

/// Moves an order along its fulfilment (community managers). Refusing or cancelling refunds
/// exactly what was taken, by a ledger row offsetting the debit, and releases the unit of
/// stock; delivering schedules the address's erasure after `shop.address_retention_days`.
/// Locks the order, then the reward, then the member's balance: the order every other writer
/// of these rows follows after the reward's.
pub async fn set_status(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    order_id: i64,
    to: &str,
    tracking_note: Option<&str>,
) -> Result<Order, CoreError> {
    require(session, Permission::ManageRewards)?;
    let to = OrderStatus::parse(to).ok_or(ValidationError {
        field: "status",
        code: "unknown",
    })?;
    let note = tracking_note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX) {
        return Err(ValidationError {
            field: "tracking_note",
            code: "too_long",
        }
        .into());
    }
    let order = store::order(conn, order_id, true)
        .await?
        .ok_or(CoreError::NotFound("order"))?;
    let from = OrderStatus::parse(&order.status)
        .ok_or_else(|| CoreError::Internal(format!("order status {}", order.status)))?;
    if !from.may_become(to) {
        return Err(ShopRefusal::OrderTransitionNotAllowed.into());
    }
    if to.refunds() {
        // The reward's row before the balance, as redemptions take them.
        store::reward_for_update(conn, order.reward_id).await?;
        ledger::lock_points(conn, order.person_id).await?;
        // An order's debit is always there to give back: a refusal that found none would
        // refund nothing while saying it did.
        if ledger::reverse_points(conn, &order.ledger_key, ledger::Reversal::Undone)
            .await?
            .is_none()
        {
            return Err(CoreError::Internal(format!(
                "order {}: no debit to give back",
                order.id
            )));
        }
        // The order's unit goes back on the shelf, with its ledger row: a redemption's, or an
        // auction's lot reserved when put up (an auction opened before lots reserved theirs
        // took none).
        let took_unit = match order.auction_id {
            None => true,
            Some(auction) => auction_store::auction(conn, auction, false)
                .await?
                .is_some_and(|a| a.lot_reserved),
        };
        if took_unit {
            store::move_stock(
                conn,
                &StockMove {
                    reward_id: order.reward_id,
                    delta: 1,
                    reason: StockReason::OrderReleased,
                    order_id: Some(order.id),
                    auction_id: order.auction_id,
                    by: Some(session.account.person_id),
                },
            )
            .await?;
        }
    }
    // Every end of an order starts the address's retention, not only a delivery: a refused or
    // cancelled order keeps no address longer than a delivered one.
    let erase_after = matches!(
        to,
        OrderStatus::Delivered | OrderStatus::Refused | OrderStatus::Cancelled
    )
    .then(|| address_erased_at(Utc::now(), ctx.settings.shop.address_retention_days));
    store::set_order_status(
        conn,
        order.id,
        to.as_str(),
        note,
        Some(session.account.person_id),
        erase_after,
    )
    .await?;
    if erase_after.is_some() {
        // A retention of 0 erases at delivery.
        store::erase_due_addresses(conn).await?;
    }
    store::order(conn, order.id, false)
        .await?
        .ok_or(CoreError::NotFound("order"))
}

/// A member gives (or corrects) the delivery address of their own order of a physical reward
/// before it ships: an auction's winner gives it after the auction, since a bid asks none.
pub async fn set_address(
    conn: &mut Conn,
    caller: &Caller,
    order_id: i64,
    address: &str,
) -> Result<Order, CoreError> {
    let address = address.trim();
    if address.is_empty() || address.chars().count() > crate::shop::ADDRESS_MAX {
        return Err(ValidationError {
            field: "address",
            code: "length",
        }
        .into());
    }
    let order = store::order(conn, order_id, true)
        .await?
        .filter(|o| o.person_id == caller.person_id)
        .ok_or(CoreError::NotFound("order"))?;
    let physical = store::reward(conn, order.reward_id)
        .await?
        .is_some_and(|r| r.kind == "physical");
    let open = matches!(order.status.as_str(), "requested" | "approved");
    if !physical || !open {
        return Err(ShopRefusal::OrderTransitionNotAllowed.into());
    }
    store::set_order_address(conn, order.id, address).await?;
    store::order(conn, order.id, false)
        .await?
        .ok_or(CoreError::NotFound("order"))
}

/// Erases the delivery addresses whose retention ran out (the settler's upkeep).
pub async fn erase_expired_addresses(conn: &mut Conn) -> Result<usize, CoreError> {
    Ok(store::erase_due_addresses(conn).await?)
}

/// The reports community managers export.
pub enum Report {
    /// Points issued vs spent per month.
    Points(Vec<MonthPoints>),
    /// Every reward's stock and free codes.
    Stock(Vec<Reward>),
    /// Orders waiting per reward and state.
    Fulfilment(Vec<PendingCount>),
}

pub async fn report(conn: &mut Conn, session: &Session, kind: &str) -> Result<Report, CoreError> {
    require(session, Permission::ManageRewards)?;
    Ok(match kind {
        "points" => Report::Points(store::points_by_month(conn).await?),
        "stock" => Report::Stock(store::rewards(conn, false).await?),
        "fulfilment" => Report::Fulfilment(store::pending_counts(conn).await?),
        _ => return Err(CoreError::NotFound("report")),
    })
}
