//! Point auctions: community managers put a reward up; members bid points held in escrow
//! (available = balance − held); an outbid releases the points at once; a bid near the end
//! extends it (anti-sniping); at the end the leading bid at or above the reserve wins, its
//! hold is captured as a spend and an order is created for fulfilment.
//!
//! Every writer locks the auction's row first, then the balances of the people involved in
//! person order: bids on one auction apply one after the other, so the accepted bids are
//! exactly a serial history. Every hold and release is a `points_hold` row (see
//! `cenacle_db::auctions::insert_leading_bid` and `close_bid`), checked by `cenacle admin audit`.

use crate::{accounts::Session, caller::require, Caller, Conn, Context, CoreError};
use cenacle_db::{
    auctions::{self as store, Auction, Bid, NewAuction},
    engagement as ledger,
    shop::{self as shop_store, NewOrder, StockMove, StockReason},
};
use cenacle_domain::{
    auctions::{check_bid, extended_end, wins, AuctionState},
    shop::ShopRefusal,
    Permission, ValidationError,
};
use chrono::{DateTime, Duration, Utc};

fn invalid(field: &'static str, code: &'static str) -> CoreError {
    ValidationError { field, code }.into()
}

/// What a community manager sets when putting a reward up.
#[derive(Debug, Clone)]
pub struct AuctionInput {
    pub reward_id: i64,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
    pub starting_price: i64,
    pub min_increment: i64,
    pub reserve: Option<i64>,
    /// Anti-sniping window and extension, in minutes (default `shop.auction_extension_minutes`);
    /// `extension_seconds` wins when given.
    pub extension_seconds: Option<i32>,
}

pub async fn create_auction(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    input: &AuctionInput,
) -> Result<Auction, CoreError> {
    require(session, Permission::ManageRewards)?;
    let now = Utc::now();
    let starts_at = input.starts_at.unwrap_or(now);
    if input.ends_at <= starts_at || input.ends_at <= now {
        return Err(invalid("ends_at", "not_after_start"));
    }
    if input.starting_price <= 0 {
        return Err(invalid("starting_price", "out_of_range"));
    }
    if input.min_increment <= 0 {
        return Err(invalid("min_increment", "out_of_range"));
    }
    if input.reserve.is_some_and(|r| r <= 0) {
        return Err(invalid("reserve", "out_of_range"));
    }
    let default_extension = ctx
        .settings
        .shop
        .auction_extension_minutes
        .saturating_mul(60);
    let extension_seconds = input
        .extension_seconds
        .unwrap_or(i32::try_from(default_extension).unwrap_or(i32::MAX));
    if !(0..=86_400).contains(&extension_seconds) {
        return Err(invalid("extension_seconds", "out_of_range"));
    }
    // Under the reward's lock, as redemptions take it: a lot and a redemption racing for the
    // last unit apply one after the other, and the second finds none.
    let reward = shop_store::reward_for_update(conn, input.reward_id)
        .await?
        .ok_or(CoreError::NotFound("reward"))?;
    if crate::shop::units_left(&reward).is_some_and(|left| left < 1) {
        return Err(ShopRefusal::OutOfStock.into());
    }
    let auction = store::insert_auction(
        conn,
        &NewAuction {
            reward_id: input.reward_id,
            starts_at,
            ends_at: input.ends_at,
            starting_price: input.starting_price,
            min_increment: input.min_increment,
            reserve: input.reserve,
            extension_seconds,
            created_by: session.account.person_id,
            lot_reserved: true,
        },
    )
    .await?;
    // The lot's unit (and a digital reward's code) leaves the shelf now, each with its ledger
    // row: handed to the winner's order, or back when the lot does not sell.
    shop_store::move_stock(
        conn,
        &StockMove {
            reward_id: reward.id,
            delta: -1,
            reason: StockReason::AuctionReserved,
            order_id: None,
            auction_id: Some(auction.id),
            by: Some(session.account.person_id),
        },
    )
    .await?;
    if reward.kind == "digital" && !shop_store::reserve_code(conn, reward.id, auction.id).await? {
        // Counted free under the reward's lock: refused whole (the transaction rolls back).
        return Err(ShopRefusal::OutOfStock.into());
    }
    Ok(auction)
}

/// Puts an unsold (or cancelled) lot's unit and code back on the shelf, with their ledger
/// rows. The reward's row must be locked (`reward_for_update`).
async fn release_lot(conn: &mut Conn, auction: &Auction) -> Result<(), CoreError> {
    if !auction.lot_reserved {
        return Ok(());
    }
    shop_store::move_stock(
        conn,
        &StockMove {
            reward_id: auction.reward_id,
            delta: 1,
            reason: StockReason::AuctionReleased,
            order_id: None,
            auction_id: Some(auction.id),
            by: None,
        },
    )
    .await?;
    shop_store::release_reserved_code(conn, auction.id).await?;
    Ok(())
}

pub async fn auction(conn: &mut Conn, id: i64) -> Result<(Auction, Vec<Bid>), CoreError> {
    let auction = store::auction(conn, id, false)
        .await?
        .ok_or(CoreError::NotFound("auction"))?;
    let bids = store::bids(conn, id).await?;
    Ok((auction, bids))
}

pub async fn auctions(conn: &mut Conn, open_only: bool) -> Result<Vec<Auction>, CoreError> {
    Ok(store::auctions(conn, open_only).await?)
}

fn state(a: &Auction) -> AuctionState {
    AuctionState {
        open: a.status == "open",
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        starting_price: a.starting_price,
        min_increment: a.min_increment,
        leading: a.leading_bidder.zip(a.leading_amount),
        extension: Duration::seconds(i64::from(a.extension_seconds)),
    }
}

/// Locks the balances of `people` in person order (created at 0 when missing).
async fn lock_balances(conn: &mut Conn, people: &[i64]) -> Result<(), CoreError> {
    let mut people = people.to_vec();
    people.sort_unstable();
    people.dedup();
    for person in people {
        ledger::lock_points(conn, person).await?;
    }
    Ok(())
}

/// A member bids `amount` points. Refused — nothing held — below the next minimum, outside the
/// auction's run, against themselves, or beyond their available points. Accepted: the amount
/// is held (a `points_hold` row), the previous leader's hold released at once, and a bid in
/// the last minutes extends the end. Returns the bid and the auction as it now stands.
pub async fn bid(
    conn: &mut Conn,
    caller: &Caller,
    auction_id: i64,
    amount: i64,
) -> Result<(Bid, Auction), CoreError> {
    if !caller.is_local() {
        return Err(CoreError::NotAllowed("bid"));
    }
    let auction = store::auction(conn, auction_id, true)
        .await?
        .ok_or(CoreError::NotFound("auction"))?;
    let state = state(&auction);
    let now = Utc::now();
    let mut people = vec![caller.person_id];
    people.extend(auction.leading_bidder);
    lock_balances(conn, &people).await?;
    let available = shop_store::available_points(conn, caller.person_id).await?;
    check_bid(&state, now, caller.person_id, amount, available.points())?;
    // Every statement from the auction's lock to the commit is waited for by the other bids on
    // it: the fewer, the more bids a hot auction takes per second.
    release_leading(conn, &auction, "outbid").await?;
    let bid = store::insert_leading_bid(conn, auction.id, caller.person_id, amount).await?;
    let extended = extended_end(&state, now);
    if let Some(end) = extended {
        store::set_end(conn, auction.id, end).await?;
    }
    // The auction as it now stands, known without reading it again.
    let auction = Auction {
        ends_at: extended.unwrap_or(auction.ends_at),
        leading_bid_id: Some(bid.id),
        leading_bidder: Some(bid.person_id),
        leading_amount: Some(bid.amount),
        ..auction
    };
    Ok((bid, auction))
}

/// A community manager cancels a running auction: the leading hold is released (a row), the
/// lot's unit and code go back on the shelf, the auction closed without a winner.
pub async fn cancel_auction(
    conn: &mut Conn,
    session: &Session,
    auction_id: i64,
) -> Result<Auction, CoreError> {
    require(session, Permission::ManageRewards)?;
    let auction = store::auction(conn, auction_id, true)
        .await?
        .ok_or(CoreError::NotFound("auction"))?;
    if auction.status != "open" {
        return Err(ShopRefusal::AuctionClosed.into());
    }
    // The reward's row before the balance, as redemptions take them.
    shop_store::reward_for_update(conn, auction.reward_id).await?;
    lock_balances(conn, auction.leading_bidder.as_slice()).await?;
    release_leading(conn, &auction, "cancelled").await?;
    release_lot(conn, &auction).await?;
    store::close_auction(conn, auction.id, "cancelled", None).await?;
    store::auction(conn, auction.id, false)
        .await?
        .ok_or(CoreError::NotFound("auction"))
}

/// Releases the leading bid's hold (its status becoming `status`), if any. The leader's
/// balance must be locked already (in person order with the others the caller takes).
async fn release_leading(
    conn: &mut Conn,
    auction: &Auction,
    status: &str,
) -> Result<(), CoreError> {
    if let (Some(leading), Some(leader), Some(held)) = (
        auction.leading_bid_id,
        auction.leading_bidder,
        auction.leading_amount,
    ) {
        store::close_bid(conn, leader, leading, held, status, status).await?;
    }
    Ok(())
}

/// The ledger reason of an auction's winning spend.
pub const WON: &str = "auction_won";

/// Settles auctions past their end: the leading bid at or above the reserve wins — its hold
/// is released and the amount spent by a ledger row (`auction:<id>:won`) in the same
/// transaction, and an order is created for fulfilment, the lot's unit going with it (a
/// digital reward's reserved code handed out); otherwise its hold is released, the lot's unit
/// and code go back on the shelf and the auction closes unsold. A winner whose
/// balance no longer covers the bid (a reward reversed since left a debt) cannot pay: the bid
/// is released and the auction closes unsold. Returns how many were settled. Safe with
/// several servers (rows claimed SKIP LOCKED).
///
/// One auction per call, so per transaction: settling takes the reward's row, then the
/// winner's balance, the order bids and redemptions take them in; a batch would lock several
/// winners' balances in auction order and could deadlock with a bid (or another server's
/// settler) taking them in person order. Callers loop until it returns 0.
pub async fn settle_ended_auctions(conn: &mut Conn) -> Result<usize, CoreError> {
    let due = store::due_auctions(conn, 1).await?;
    for id in &due {
        let Some(auction) = store::auction(conn, *id, false).await? else {
            continue;
        };
        let (Some(bid_id), Some(winner), Some(amount)) = (
            auction.leading_bid_id,
            auction.leading_bidder,
            auction.leading_amount,
        ) else {
            shop_store::reward_for_update(conn, auction.reward_id).await?;
            release_lot(conn, &auction).await?;
            store::close_auction(conn, auction.id, "unsold", None).await?;
            continue;
        };
        // The reward's row before the balance, as redemptions and refunds take them.
        shop_store::reward_for_update(conn, auction.reward_id).await?;
        lock_balances(conn, &[winner]).await?;
        let available = shop_store::available_points(conn, winner).await?;
        // What the balance covers besides this bid's own hold.
        let can_pay = available.points() >= 0;
        if !wins(amount, auction.reserve) || !can_pay {
            release_leading(conn, &auction, "lost").await?;
            release_lot(conn, &auction).await?;
            store::close_auction(conn, auction.id, "unsold", None).await?;
            continue;
        }
        store::close_bid(conn, winner, bid_id, amount, "won", "captured").await?;
        let reward = shop_store::reward(conn, auction.reward_id)
            .await?
            .ok_or(CoreError::NotFound("reward"))?;
        let digital = reward.kind == "digital";
        let order = shop_store::insert_order(
            conn,
            &NewOrder {
                reward_id: reward.id,
                person_id: winner,
                auction_id: Some(auction.id),
                price: amount,
                status: "requested",
                delivery_address: None,
                ledger_key_pattern: &format!("auction:{}:won", auction.id),
            },
        )
        .await?;
        // A fresh order's key was never paid: a refusal here would be an order with nothing
        // taken for it.
        if !ledger::record_points(conn, winner, -amount, WON, &order.ledger_key, None).await? {
            return Err(CoreError::Internal(format!(
                "auction {}: its winning spend was already recorded",
                auction.id
            )));
        }
        // The code the lot reserved; an auction opened before lots reserved theirs takes a
        // free one if any is left.
        let code = if auction.lot_reserved {
            shop_store::hand_reserved_code(conn, auction.id, order.id).await?
        } else if digital {
            shop_store::take_code(conn, reward.id, order.id).await?
        } else {
            None
        };
        if code.is_some() {
            shop_store::set_order_status(conn, order.id, "delivered", None, None, None).await?;
        }
        store::close_auction(conn, auction.id, "won", Some(order.id)).await?;
    }
    Ok(due.len())
}
