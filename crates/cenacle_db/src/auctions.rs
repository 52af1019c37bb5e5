//! Auctions, their bids and the escrow ledger (`points_hold`). Every function runs in the
//! caller's transaction. Lock order, for every writer: the auction's row, then the balances of
//! the people involved in person order (see `cenacle_core::auctions`).

use crate::{DbError, PrepareOnce};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Integer, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Auction {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub reward_id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub starting_price: i64,
    #[diesel(sql_type = BigInt)]
    pub min_increment: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub reserve: Option<i64>,
    #[diesel(sql_type = Integer)]
    pub extension_seconds: i32,
    /// open, won, unsold or cancelled.
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub order_id: Option<i64>,
    /// The leading bid: its id, bidder and amount.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub leading_bid_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub leading_bidder: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub leading_amount: Option<i64>,
    /// The bid that won, once settled.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub winner_id: Option<i64>,
    /// Whether the lot's unit (and code) was reserved when put up (auctions opened before
    /// lots reserved theirs took nothing and give nothing back).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub lot_reserved: bool,
}

const AUCTION_SELECT: &str = "SELECT a.id, a.reward_id, a.starts_at, a.ends_at, a.starting_price, \
    a.min_increment, a.reserve, a.extension_seconds, a.status, a.order_id, \
    l.id AS leading_bid_id, l.person_id AS leading_bidder, l.amount AS leading_amount, \
    (SELECT w.person_id FROM bid w WHERE w.auction_id = a.id AND w.status = 'won') AS winner_id, \
    a.lot_reserved \
    FROM auction a LEFT JOIN bid l ON l.auction_id = a.id AND l.status = 'leading'";

pub struct NewAuction {
    pub reward_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub starting_price: i64,
    pub min_increment: i64,
    pub reserve: Option<i64>,
    pub extension_seconds: i32,
    pub created_by: i64,
    pub lot_reserved: bool,
}

pub async fn insert_auction(
    conn: &mut AsyncPgConnection,
    a: &NewAuction,
) -> Result<Auction, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Id = diesel::sql_query(
        "INSERT INTO auction (reward_id, starts_at, ends_at, starting_price, min_increment, reserve, \
           extension_seconds, created_by, lot_reserved) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING id",
    )
    .bind::<BigInt, _>(a.reward_id)
    .bind::<Timestamptz, _>(a.starts_at)
    .bind::<Timestamptz, _>(a.ends_at)
    .bind::<BigInt, _>(a.starting_price)
    .bind::<BigInt, _>(a.min_increment)
    .bind::<Nullable<BigInt>, _>(a.reserve)
    .bind::<Integer, _>(a.extension_seconds)
    .bind::<BigInt, _>(a.created_by)
    .bind::<diesel::sql_types::Bool, _>(a.lot_reserved)
    .prepared()
    .get_result(conn)
    .await?;
    auction(conn, id.id, false)
        .await?
        .ok_or(DbError::Query(diesel::result::Error::NotFound))
}

/// An auction with its leading bid; with `lock`, its row locked for the rest of the
/// transaction (bids, settling and cancelling take it first).
pub async fn auction(
    conn: &mut AsyncPgConnection,
    id: i64,
    lock: bool,
) -> Result<Option<Auction>, DbError> {
    // Locked first, then read by a statement of its own: its snapshot, taken once the lock is
    // granted, sees the bid that the previous holder made lead. (`FOR UPDATE OF a` in the read
    // itself would wait for the lock and still return the leading bid of its older snapshot.)
    if lock {
        diesel::sql_query("SELECT id FROM auction WHERE id = $1 FOR UPDATE")
            .bind::<BigInt, _>(id)
            .prepared()
            .execute(conn)
            .await?;
    }
    Ok(
        diesel::sql_query(format!("{AUCTION_SELECT} WHERE a.id = $1"))
            .bind::<BigInt, _>(id)
            .prepared()
            .get_result(conn)
            .await
            .optional()?,
    )
}

/// Open auctions (soonest end first), or the latest of all.
pub async fn auctions(
    conn: &mut AsyncPgConnection,
    open_only: bool,
) -> Result<Vec<Auction>, DbError> {
    Ok(diesel::sql_query(format!(
        "{AUCTION_SELECT} WHERE a.status = 'open' OR NOT $1 \
         ORDER BY CASE WHEN a.status = 'open' THEN a.ends_at END, a.id DESC LIMIT 200"
    ))
    .bind::<diesel::sql_types::Bool, _>(open_only)
    .load(conn)
    .await?)
}

/// Open auctions past their end, their rows locked and skipped by other settlers.
pub async fn due_auctions(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<i64>, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let ids: Vec<Id> = diesel::sql_query(
        "SELECT id FROM auction WHERE status = 'open' AND ends_at <= now() \
         ORDER BY ends_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind::<BigInt, _>(limit)
    .prepared()
    .load(conn)
    .await?;
    Ok(ids.into_iter().map(|i| i.id).collect())
}

pub async fn set_end(
    conn: &mut AsyncPgConnection,
    id: i64,
    ends_at: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::sql_query("UPDATE auction SET ends_at = $2 WHERE id = $1")
        .bind::<BigInt, _>(id)
        .bind::<Timestamptz, _>(ends_at)
        .prepared()
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn close_auction(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: &str,
    order_id: Option<i64>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE auction SET status = $2, order_id = $3, settled_at = now() WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(status)
    .bind::<Nullable<BigInt>, _>(order_id)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Bid {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub auction_id: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// A new leading bid and the hold of its amount (an escrow row, the cached `held` moved), in one
/// statement. The previous leader must be released first ([`close_bid`]): one bid leads at a
/// time. The bidder's balance row must exist and be locked (`engagement::lock_points`).
pub async fn insert_leading_bid(
    conn: &mut AsyncPgConnection,
    auction_id: i64,
    person_id: i64,
    amount: i64,
) -> Result<Bid, DbError> {
    Ok(diesel::sql_query(format!(
        "WITH b AS (INSERT INTO bid (auction_id, person_id, amount, status) \
                    VALUES ($1, $2, $3, 'leading') \
                    RETURNING id, auction_id, person_id, amount, status, created_at), \
              h AS (INSERT INTO points_hold (person_id, bid_id, delta, reason) \
                    SELECT person_id, id, amount, 'bid' FROM b RETURNING person_id, delta), \
              m AS ({MOVE_HELD}) \
         SELECT * FROM b"
    ))
    .bind::<BigInt, _>(auction_id)
    .bind::<BigInt, _>(person_id)
    .bind::<BigInt, _>(amount)
    .prepared()
    .get_result(conn)
    .await?)
}

/// An auction's bids, newest first.
pub async fn bids(conn: &mut AsyncPgConnection, auction_id: i64) -> Result<Vec<Bid>, DbError> {
    Ok(diesel::sql_query(
        "SELECT id, auction_id, person_id, amount, status, created_at FROM bid \
         WHERE auction_id = $1 ORDER BY id DESC LIMIT 500",
    )
    .bind::<BigInt, _>(auction_id)
    .prepared()
    .load(conn)
    .await?)
}

/// Moves the cached `held` by the escrow rows of `h` (person, delta). A hold clears `may_owe`,
/// so that the balance's CHECK refuses a hold it does not cover (`points_balance_covers_holds`);
/// a release leaves it as it was.
const MOVE_HELD: &str = "UPDATE points_balance b SET held = b.held + h.delta, \
    may_owe = CASE WHEN h.delta > 0 THEN FALSE ELSE b.may_owe END \
    FROM h WHERE b.person_id = h.person_id";

/// Ends a bid's hold: the bid takes `status` (outbid, lost, cancelled, won) and its `held`
/// amount is released by an escrow row with `reason`, the cached `held` moved — in one
/// statement. The bidder's balance row must exist and be locked (`engagement::lock_points`).
pub async fn close_bid(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    bid_id: i64,
    held: i64,
    status: &str,
    reason: &str,
) -> Result<(), DbError> {
    diesel::sql_query(format!(
        "WITH s AS (UPDATE bid SET status = $4 WHERE id = $2), \
              h AS (INSERT INTO points_hold (person_id, bid_id, delta, reason) \
                    VALUES ($1, $2, -$3::bigint, $5) RETURNING person_id, delta) \
         {MOVE_HELD}"
    ))
    .bind::<BigInt, _>(person_id)
    .bind::<BigInt, _>(bid_id)
    .bind::<BigInt, _>(held)
    .bind::<Text, _>(status)
    .bind::<Text, _>(reason)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}
