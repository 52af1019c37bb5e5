//! The gift shop's rows: rewards, their codes, orders, and what the shop reads of a member
//! (their live orders, badge, champion term, available points). Every function runs in the
//! caller's transaction; the locks taken here are named, since their order is what keeps
//! concurrent redemptions from double-spending (see `cenacle_core::shop`).

use crate::{DbError, PrepareOnce};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A reward of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Reward {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name_en: String,
    #[diesel(sql_type = Text)]
    pub name_fr: String,
    #[diesel(sql_type = Text)]
    pub description_en: String,
    #[diesel(sql_type = Text)]
    pub description_fr: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub image_media_id: Option<i64>,
    /// `physical` or `digital`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub price: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub stock: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub limit_per_member: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub limit_per_period: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub limit_period: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub available_from: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub available_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub min_rank_score: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub required_badge_id: Option<i64>,
    #[diesel(sql_type = Bool)]
    pub champions_only: bool,
    #[diesel(sql_type = Bool)]
    pub in_shop: bool,
    /// Codes neither handed out nor reserved by an auction lot (digital rewards).
    #[diesel(sql_type = BigInt)]
    pub free_codes: i64,
}

const REWARD_COLUMNS: &str = "r.id, r.name_en, r.name_fr, r.description_en, r.description_fr, \
    r.image_media_id, r.kind, r.price, r.stock, r.limit_per_member, r.limit_per_period, \
    r.limit_period, r.available_from, r.available_until, r.min_rank_score, r.required_badge_id, \
    r.champions_only, r.in_shop, \
    (SELECT count(*) FROM reward_code c WHERE c.reward_id = r.id AND c.order_id IS NULL \
       AND c.auction_id IS NULL) AS free_codes";

/// A reward to add to the catalogue.
pub struct NewReward<'a> {
    pub name_en: &'a str,
    pub name_fr: &'a str,
    pub description_en: &'a str,
    pub description_fr: &'a str,
    pub image_media_id: Option<i64>,
    pub kind: &'a str,
    pub price: i64,
    pub stock: Option<i64>,
    pub limit_per_member: Option<i32>,
    pub limit_per_period: Option<i32>,
    pub limit_period: Option<&'a str>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    pub min_rank_score: Option<i64>,
    pub required_badge_id: Option<i64>,
    pub champions_only: bool,
    pub in_shop: bool,
    pub created_by: i64,
}

pub async fn insert_reward(
    conn: &mut AsyncPgConnection,
    r: &NewReward<'_>,
) -> Result<Reward, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Id = diesel::sql_query(
        "INSERT INTO reward (name_en, name_fr, description_en, description_fr, image_media_id, kind, \
           price, stock, initial_stock, limit_per_member, limit_per_period, limit_period, \
           available_from, available_until, min_rank_score, required_badge_id, champions_only, \
           in_shop, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         RETURNING id",
    )
    .bind::<Text, _>(r.name_en)
    .bind::<Text, _>(r.name_fr)
    .bind::<Text, _>(r.description_en)
    .bind::<Text, _>(r.description_fr)
    .bind::<Nullable<BigInt>, _>(r.image_media_id)
    .bind::<Text, _>(r.kind)
    .bind::<BigInt, _>(r.price)
    .bind::<Nullable<BigInt>, _>(r.stock)
    .bind::<Nullable<Integer>, _>(r.limit_per_member)
    .bind::<Nullable<Integer>, _>(r.limit_per_period)
    .bind::<Nullable<Text>, _>(r.limit_period)
    .bind::<Nullable<Timestamptz>, _>(r.available_from)
    .bind::<Nullable<Timestamptz>, _>(r.available_until)
    .bind::<Nullable<BigInt>, _>(r.min_rank_score)
    .bind::<Nullable<BigInt>, _>(r.required_badge_id)
    .bind::<Bool, _>(r.champions_only)
    .bind::<Bool, _>(r.in_shop)
    .bind::<BigInt, _>(r.created_by)
    .prepared()
    .get_result(conn)
    .await?;
    reward(conn, id.id)
        .await?
        .ok_or(DbError::Query(diesel::result::Error::NotFound))
}

pub async fn reward(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<Reward>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {REWARD_COLUMNS} FROM reward r WHERE r.id = $1"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?)
}

/// The reward, its row locked for the rest of the transaction: every redemption of one reward
/// takes this lock first (then the member's balance), so they apply one after the other
/// against its stock, its codes and the member's limits.
pub async fn reward_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<Reward>, DbError> {
    let locked = diesel::sql_query("SELECT id FROM reward WHERE id = $1 FOR UPDATE")
        .bind::<BigInt, _>(id)
        .prepared()
        .execute(conn)
        .await?;
    if locked == 0 {
        return Ok(None);
    }
    reward(conn, id).await
}

/// The shop's catalogue (or every reward, auction lots included), newest first.
pub async fn rewards(
    conn: &mut AsyncPgConnection,
    shop_only: bool,
) -> Result<Vec<Reward>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {REWARD_COLUMNS} FROM reward r WHERE r.in_shop OR NOT $1 ORDER BY r.id DESC LIMIT 500"
    ))
    .bind::<Bool, _>(shop_only)
    .load(conn)
    .await?)
}

/// What a community manager may change of a reward after creating it (its stock moves only
/// by restocks, adjustments and orders, each a ledger row).
pub struct RewardEdit<'a> {
    pub name_en: &'a str,
    pub name_fr: &'a str,
    pub description_en: &'a str,
    pub description_fr: &'a str,
    pub price: i64,
    pub limit_per_member: Option<i32>,
    pub limit_per_period: Option<i32>,
    pub limit_period: Option<&'a str>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
}

/// Rewrites a reward's terms. Returns whether it exists.
pub async fn update_reward(
    conn: &mut AsyncPgConnection,
    id: i64,
    e: &RewardEdit<'_>,
) -> Result<bool, DbError> {
    Ok(diesel::sql_query(
        "UPDATE reward SET name_en = $2, name_fr = $3, description_en = $4, description_fr = $5, \
           price = $6, limit_per_member = $7, limit_per_period = $8, limit_period = $9, \
           available_from = $10, available_until = $11 \
         WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(e.name_en)
    .bind::<Text, _>(e.name_fr)
    .bind::<Text, _>(e.description_en)
    .bind::<Text, _>(e.description_fr)
    .bind::<BigInt, _>(e.price)
    .bind::<Nullable<Integer>, _>(e.limit_per_member)
    .bind::<Nullable<Integer>, _>(e.limit_per_period)
    .bind::<Nullable<Text>, _>(e.limit_period)
    .bind::<Nullable<Timestamptz>, _>(e.available_from)
    .bind::<Nullable<Timestamptz>, _>(e.available_until)
    .prepared()
    .execute(conn)
    .await?
        == 1)
}

/// Why a reward's stock or code pool moved (`stock_movement.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockReason {
    /// A community manager added units (or, for codes, uploaded some).
    Restock,
    /// A redemption (or an auction's order) took a unit or a code.
    Order,
    /// A refused or cancelled order gave its unit back.
    OrderReleased,
    /// An auction lot reserved its unit or code when put up.
    AuctionReserved,
    /// A lot that did not sell (or was cancelled) gave it back.
    AuctionReleased,
    /// Codes uploaded to a digital reward's pool.
    CodesAdded,
    /// A community manager adjusted the stock by hand, with a reason (see
    /// [`record_adjustment`]).
    Adjustment,
}

impl StockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StockReason::Restock => "restock",
            StockReason::Order => "order",
            StockReason::OrderReleased => "order_released",
            StockReason::AuctionReserved => "auction_reserved",
            StockReason::AuctionReleased => "auction_released",
            StockReason::CodesAdded => "codes_added",
            StockReason::Adjustment => "adjustment",
        }
    }
}

/// One move of a reward's stock, and what it is for.
#[derive(Debug, Clone, Copy)]
pub struct StockMove {
    pub reward_id: i64,
    /// −1 reserved, +1 released, +n restocked.
    pub delta: i64,
    pub reason: StockReason,
    pub order_id: Option<i64>,
    pub auction_id: Option<i64>,
    pub by: Option<i64>,
}

/// Adds codes to a digital reward's pool (a code already there is skipped), with the ledger
/// row of how many were added. Returns how many.
pub async fn add_codes(
    conn: &mut AsyncPgConnection,
    reward_id: i64,
    codes: &[String],
    by: i64,
) -> Result<usize, DbError> {
    use diesel::sql_types::Array;
    #[derive(QueryableByName)]
    struct Added {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let added: Added = diesel::sql_query(
        "WITH ins AS (INSERT INTO reward_code (reward_id, code) SELECT $1, unnest($2::text[]) \
                      ON CONFLICT DO NOTHING RETURNING 1), \
              added AS (SELECT count(*) AS n FROM ins), \
              moved AS (INSERT INTO stock_movement (reward_id, pool, delta, reason, created_by) \
                        SELECT $1, 'codes', n, 'codes_added', $3 FROM added WHERE n > 0) \
         SELECT n FROM added",
    )
    .bind::<BigInt, _>(reward_id)
    .bind::<Array<Text>, _>(codes)
    .bind::<BigInt, _>(by)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(usize::try_from(added.n).unwrap_or(0))
}

#[derive(QueryableByName)]
struct Code {
    #[diesel(sql_type = Text)]
    code: String,
}

/// Takes the reward's oldest free code for an order (`order_id`) or an auction lot
/// (`auction_id`, reserved until the lot sells), with its ledger row; None when none is left.
/// A code locked by another transaction is skipped, so that two never get the same one (the
/// unique `order_id` and `auction_id` are the backstop).
async fn claim_code(
    conn: &mut AsyncPgConnection,
    reward_id: i64,
    order_id: Option<i64>,
    auction_id: Option<i64>,
    reason: StockReason,
) -> Result<Option<String>, DbError> {
    let code: Option<Code> = diesel::sql_query(
        "WITH c AS (UPDATE reward_code SET order_id = $2, auction_id = $3 WHERE id = ( \
                      SELECT id FROM reward_code WHERE reward_id = $1 AND order_id IS NULL \
                      AND auction_id IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                    RETURNING code), \
              moved AS (INSERT INTO stock_movement (reward_id, pool, delta, reason, order_id, auction_id) \
                        SELECT $1, 'codes', -1, $4, $2, $3 FROM c) \
         SELECT code FROM c",
    )
    .bind::<BigInt, _>(reward_id)
    .bind::<Nullable<BigInt>, _>(order_id)
    .bind::<Nullable<BigInt>, _>(auction_id)
    .bind::<Text, _>(reason.as_str())
    .prepared()
    .get_result(conn)
    .await
    .optional()?;
    Ok(code.map(|c| c.code))
}

/// Hands the reward's oldest free code to `order_id`; None when none is left.
pub async fn take_code(
    conn: &mut AsyncPgConnection,
    reward_id: i64,
    order_id: i64,
) -> Result<Option<String>, DbError> {
    claim_code(conn, reward_id, Some(order_id), None, StockReason::Order).await
}

/// Reserves the reward's oldest free code for an auction lot; false when none is left.
pub async fn reserve_code(
    conn: &mut AsyncPgConnection,
    reward_id: i64,
    auction_id: i64,
) -> Result<bool, DbError> {
    Ok(claim_code(
        conn,
        reward_id,
        None,
        Some(auction_id),
        StockReason::AuctionReserved,
    )
    .await?
    .is_some())
}

/// Hands the code an auction lot reserved to the winner's order (it left the free pool when
/// reserved: no ledger row). None when the lot reserved none.
pub async fn hand_reserved_code(
    conn: &mut AsyncPgConnection,
    auction_id: i64,
    order_id: i64,
) -> Result<Option<String>, DbError> {
    let code: Option<Code> = diesel::sql_query(
        "UPDATE reward_code SET order_id = $2 WHERE auction_id = $1 AND order_id IS NULL \
         RETURNING code",
    )
    .bind::<BigInt, _>(auction_id)
    .bind::<BigInt, _>(order_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?;
    Ok(code.map(|c| c.code))
}

/// Frees the code an unsold (or cancelled) lot reserved, with its ledger row.
pub async fn release_reserved_code(
    conn: &mut AsyncPgConnection,
    auction_id: i64,
) -> Result<(), DbError> {
    diesel::sql_query(
        "WITH c AS (UPDATE reward_code SET auction_id = NULL \
                    WHERE auction_id = $1 AND order_id IS NULL RETURNING reward_id) \
         INSERT INTO stock_movement (reward_id, pool, delta, reason, auction_id) \
         SELECT reward_id, 'codes', 1, 'auction_released', $1 FROM c",
    )
    .bind::<BigInt, _>(auction_id)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a limited reward's stock, with its ledger row, in one statement; unlimited ones stay
/// (and write none). The stock's CHECK refuses going below zero. Returns whether it moved.
pub async fn move_stock(conn: &mut AsyncPgConnection, m: &StockMove) -> Result<bool, DbError> {
    Ok(diesel::sql_query(
        "WITH r AS (UPDATE reward SET stock = stock + $2 WHERE id = $1 AND stock IS NOT NULL \
                    RETURNING id) \
         INSERT INTO stock_movement (reward_id, pool, delta, reason, order_id, auction_id, created_by) \
         SELECT id, 'stock', $2, $3, $4, $5, $6 FROM r",
    )
    .bind::<BigInt, _>(m.reward_id)
    .bind::<BigInt, _>(m.delta)
    .bind::<Text, _>(m.reason.as_str())
    .bind::<Nullable<BigInt>, _>(m.order_id)
    .bind::<Nullable<BigInt>, _>(m.auction_id)
    .bind::<Nullable<BigInt>, _>(m.by)
    .prepared()
    .execute(conn)
    .await?
        == 1)
}

// ---- stock changed by hand ----

/// A change of a reward's stock made by hand, as its history lists it: an adjustment, or a
/// restock (the older way to add units, listed beside them).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct StockAdjustment {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub reward_id: i64,
    #[diesel(sql_type = BigInt)]
    pub delta: i64,
    /// The adjustment's reason (`damaged`, `lost`, `given_away`, `received`, `correction`),
    /// or `restock`.
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub note: Option<String>,
    /// Who made it (None once their person is gone).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub by_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub by_username: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const ADJUSTMENT_COLUMNS: &str = "m.id, m.reward_id, m.delta, \
    COALESCE(m.adjustment_reason, m.reason) AS reason, m.note, m.created_by AS by_id, \
    p.username AS by_username, m.created_at";

/// The movements a history of changes by hand lists (`stock_movement_manual_idx`).
const MANUAL: &str = "m.reason IN ('restock', 'adjustment')";

/// An adjustment to record.
pub struct NewAdjustment<'a> {
    pub reward_id: i64,
    /// Negative: written off; positive: added.
    pub delta: i64,
    /// One of the adjustment reasons (`cenacle_domain::shop::AdjustmentReason`).
    pub reason: &'a str,
    pub note: Option<&'a str>,
    pub by: i64,
}

/// Adjusts a limited reward's stock by hand, with its ledger row, in one statement. Guarded:
/// the stock never goes below zero whatever the caller read (the caller decides under the
/// reward's row lock; this guard and the stock's CHECK are the backstop). Returns the
/// adjustment, or None when the guard refused it (or the reward is unlimited or gone).
pub async fn record_adjustment(
    conn: &mut AsyncPgConnection,
    a: &NewAdjustment<'_>,
) -> Result<Option<StockAdjustment>, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Option<Id> = diesel::sql_query(
        "WITH r AS (UPDATE reward SET stock = stock + $2 \
                    WHERE id = $1 AND stock IS NOT NULL AND stock + $2 >= 0 RETURNING id) \
         INSERT INTO stock_movement (reward_id, pool, delta, reason, adjustment_reason, note, created_by) \
         SELECT id, 'stock', $2, $6, $3, $4, $5 FROM r \
         RETURNING id",
    )
    .bind::<BigInt, _>(a.reward_id)
    .bind::<BigInt, _>(a.delta)
    .bind::<Text, _>(a.reason)
    .bind::<Nullable<Text>, _>(a.note)
    .bind::<BigInt, _>(a.by)
    .bind::<Text, _>(StockReason::Adjustment.as_str())
    .prepared()
    .get_result(conn)
    .await
    .optional()?;
    match id {
        Some(id) => stock_adjustment(conn, id.id).await,
        None => Ok(None),
    }
}

pub async fn stock_adjustment(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<StockAdjustment>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {ADJUSTMENT_COLUMNS} FROM stock_movement m LEFT JOIN person p ON p.id = m.created_by \
         WHERE m.id = $1 AND {MANUAL}"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?)
}

/// A reward's changes by hand, newest first: up to `limit` of those before `before` (all when
/// None).
pub async fn stock_adjustments(
    conn: &mut AsyncPgConnection,
    reward_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<StockAdjustment>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {ADJUSTMENT_COLUMNS} FROM stock_movement m LEFT JOIN person p ON p.id = m.created_by \
         WHERE m.reward_id = $1 AND {MANUAL} AND ($2::bigint IS NULL OR m.id < $2) \
         ORDER BY m.id DESC LIMIT $3"
    ))
    .bind::<BigInt, _>(reward_id)
    .bind::<Nullable<BigInt>, _>(before)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// The last `per_reward` changes by hand of each of `reward_ids`, newest first within each.
pub async fn recent_stock_adjustments(
    conn: &mut AsyncPgConnection,
    reward_ids: &[i64],
    per_reward: i64,
) -> Result<Vec<StockAdjustment>, DbError> {
    use diesel::sql_types::Array;
    Ok(diesel::sql_query(format!(
        "SELECT {ADJUSTMENT_COLUMNS} FROM unnest($1::bigint[]) AS w(reward_id) \
         CROSS JOIN LATERAL (SELECT * FROM stock_movement m WHERE m.reward_id = w.reward_id \
                             AND {MANUAL} ORDER BY m.id DESC LIMIT $2) m \
         LEFT JOIN person p ON p.id = m.created_by \
         ORDER BY m.reward_id, m.id DESC"
    ))
    .bind::<Array<BigInt>, _>(reward_ids)
    .bind::<BigInt, _>(per_reward)
    .load(conn)
    .await?)
}

/// Units of a reward on hand but promised, so no longer in its stock: those of its open orders
/// (requested or approved: not shipped yet; an auction's order only when its lot took a unit)
/// and of its open auction lots that reserved one.
pub async fn units_reserved(conn: &mut AsyncPgConnection, reward_id: i64) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Reserved {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let reserved: Reserved = diesel::sql_query(
        // The marker names this statement in the logs and to the test that checks when it runs.
        "/* units_reserved */ \
         SELECT (SELECT count(*) FROM reward_order o LEFT JOIN auction a ON a.id = o.auction_id \
                 WHERE o.reward_id = $1 AND o.status IN ('requested', 'approved') \
                   AND (o.auction_id IS NULL OR a.lot_reserved)) \
              + (SELECT count(*) FROM auction a \
                 WHERE a.reward_id = $1 AND a.status = 'open' AND a.lot_reserved) AS n",
    )
    .bind::<BigInt, _>(reward_id)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(reserved.n)
}

/// A member's points: their balance, what leading bids hold of it, and what their open
/// bounties hold (taken from the balance when offered, so not part of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct PointsStanding {
    #[diesel(sql_type = BigInt)]
    pub balance: i64,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
    #[diesel(sql_type = BigInt)]
    pub in_open_bounties: i64,
}

pub async fn points_standing(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<PointsStanding, DbError> {
    Ok(diesel::sql_query(
        "SELECT COALESCE((SELECT balance FROM points_balance WHERE person_id = $1), 0) AS balance, \
                COALESCE((SELECT held FROM points_balance WHERE person_id = $1), 0) AS held, \
                COALESCE((SELECT SUM(amount) FROM bounty WHERE sponsor_id = $1 AND status = 'open'), 0)::bigint \
                  AS in_open_bounties",
    )
    .bind::<BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await?)
}

/// What the shop reads of a member for one reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct MemberStanding {
    /// Live (neither refused nor cancelled) orders of the reward, ever and since `since`.
    #[diesel(sql_type = BigInt)]
    pub orders_ever: i64,
    #[diesel(sql_type = BigInt)]
    pub orders_since: i64,
    #[diesel(sql_type = Bool)]
    pub holds_badge: bool,
    #[diesel(sql_type = Bool)]
    pub active_champion: bool,
}

pub async fn member_standing(
    conn: &mut AsyncPgConnection,
    reward_id: i64,
    person_id: i64,
    since: DateTime<Utc>,
    badge_id: Option<i64>,
) -> Result<MemberStanding, DbError> {
    Ok(diesel::sql_query(
        "SELECT count(o.id) AS orders_ever, count(o.id) FILTER (WHERE o.created_at >= $3) AS orders_since, \
           EXISTS (SELECT 1 FROM badge_award w WHERE w.person_id = $2 AND w.badge_id = $4 \
                   AND w.revoked_at IS NULL) AS holds_badge, \
           EXISTS (SELECT 1 FROM champion c WHERE c.person_id = $2 AND c.status = 'active') AS active_champion \
         FROM reward_order o \
         WHERE o.reward_id = $1 AND o.person_id = $2 AND o.status NOT IN ('refused', 'cancelled')",
    )
    .bind::<BigInt, _>(reward_id)
    .bind::<BigInt, _>(person_id)
    .bind::<Timestamptz, _>(since)
    .bind::<Nullable<BigInt>, _>(badge_id)
    .prepared()
    .get_result(conn)
    .await?)
}

/// A member's balance and what auctions hold of it. Read after `engagement::lock_points`, so
/// that both stay as read until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Available {
    #[diesel(sql_type = BigInt)]
    pub balance: i64,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
}

impl Available {
    pub fn points(&self) -> i64 {
        self.balance - self.held
    }
}

pub async fn available_points(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Available, DbError> {
    Ok(diesel::sql_query(
        "SELECT COALESCE(MAX(balance), 0) AS balance, COALESCE(MAX(held), 0) AS held \
         FROM points_balance WHERE person_id = $1",
    )
    .bind::<BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await?)
}

// ---- orders ----

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Order {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub reward_id: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub auction_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub price: i64,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub ledger_key: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub tracking_note: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub delivery_address: Option<String>,
    /// The digital code handed to it, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub code: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const ORDER_COLUMNS: &str = "o.id, o.reward_id, o.person_id, o.auction_id, o.price, o.status, \
    o.ledger_key, o.tracking_note, o.delivery_address, \
    (SELECT c.code FROM reward_code c WHERE c.order_id = o.id) AS code, o.created_at, o.updated_at";

/// A new order (its id is in its ledger key, so the key is written once the id is known).
pub struct NewOrder<'a> {
    pub reward_id: i64,
    pub person_id: i64,
    pub auction_id: Option<i64>,
    pub price: i64,
    pub status: &'a str,
    pub delivery_address: Option<&'a str>,
    /// `{}` is replaced by the order's id.
    pub ledger_key_pattern: &'a str,
}

pub async fn insert_order(
    conn: &mut AsyncPgConnection,
    o: &NewOrder<'_>,
) -> Result<Order, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Id = diesel::sql_query(
        "WITH n AS (SELECT nextval('reward_order_id_seq') AS id) \
         INSERT INTO reward_order (id, reward_id, person_id, auction_id, price, status, ledger_key, delivery_address) \
         SELECT n.id, $1, $2, $3, $4, $5, replace($6, '{}', n.id::text), $7 FROM n \
         RETURNING id",
    )
    .bind::<BigInt, _>(o.reward_id)
    .bind::<BigInt, _>(o.person_id)
    .bind::<Nullable<BigInt>, _>(o.auction_id)
    .bind::<BigInt, _>(o.price)
    .bind::<Text, _>(o.status)
    .bind::<Text, _>(o.ledger_key_pattern)
    .bind::<Nullable<Text>, _>(o.delivery_address)
    .prepared()
    .get_result(conn)
    .await?;
    order(conn, id.id, false)
        .await?
        .ok_or(DbError::Query(diesel::result::Error::NotFound))
}

/// An order; with `lock`, its row locked for the rest of the transaction (every fulfilment
/// step takes it first, then the reward's, then the member's balance).
pub async fn order(
    conn: &mut AsyncPgConnection,
    id: i64,
    lock: bool,
) -> Result<Option<Order>, DbError> {
    if lock {
        diesel::sql_query("SELECT id FROM reward_order WHERE id = $1 FOR UPDATE")
            .bind::<BigInt, _>(id)
            .prepared()
            .execute(conn)
            .await?;
    }
    Ok(diesel::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM reward_order o WHERE o.id = $1"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .await
    .optional()?)
}

/// Moves an order to `status` (with the manager's tracking note when given; the address to
/// be erased after `erase_after`).
pub async fn set_order_status(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: &str,
    tracking_note: Option<&str>,
    by: Option<i64>,
    erase_after: Option<DateTime<Utc>>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE reward_order SET status = $2, tracking_note = COALESCE($3, tracking_note), \
           updated_by = $4, updated_at = now(), \
           address_erase_after = COALESCE($5, address_erase_after) \
         WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(status)
    .bind::<Nullable<Text>, _>(tracking_note)
    .bind::<Nullable<BigInt>, _>(by)
    .bind::<Nullable<Timestamptz>, _>(erase_after)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_order_address(
    conn: &mut AsyncPgConnection,
    id: i64,
    address: &str,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE reward_order SET delivery_address = $2, updated_at = now() WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(address)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// Erases the delivery addresses whose retention ran out. Returns how many.
pub async fn erase_due_addresses(conn: &mut AsyncPgConnection) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "UPDATE reward_order SET delivery_address = NULL \
         WHERE delivery_address IS NOT NULL AND address_erase_after <= now()",
    )
    .prepared()
    .execute(conn)
    .await?)
}

/// A member's orders, newest first.
pub async fn orders_of(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Vec<Order>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM reward_order o WHERE o.person_id = $1 ORDER BY o.id DESC LIMIT 500"
    ))
    .bind::<BigInt, _>(person_id)
    .load(conn)
    .await?)
}

/// Orders waiting on community managers (requested, approved, shipped), oldest first.
pub async fn pending_orders(conn: &mut AsyncPgConnection) -> Result<Vec<Order>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {ORDER_COLUMNS} FROM reward_order o \
         WHERE o.status IN ('requested', 'approved', 'shipped') ORDER BY o.id LIMIT 1000"
    ))
    .load(conn)
    .await?)
}

// ---- reports ----

/// Points issued (every earning, grant and their reversals) and spent (redemptions and auction
/// wins, net of refunds) in one calendar month (UTC).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct MonthPoints {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = BigInt)]
    pub issued: i64,
    #[diesel(sql_type = BigInt)]
    pub spent: i64,
}

/// The ledger reasons of spending in the shop and at auctions.
pub const SPEND_REASONS: [&str; 2] = ["reward_redeemed", "auction_won"];

pub async fn points_by_month(conn: &mut AsyncPgConnection) -> Result<Vec<MonthPoints>, DbError> {
    Ok(diesel::sql_query(
        "SELECT to_char(date_trunc('month', created_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month, \
                COALESCE(SUM(delta) FILTER (WHERE reason NOT IN ('reward_redeemed', 'auction_won')), 0)::bigint AS issued, \
                COALESCE(-SUM(delta) FILTER (WHERE reason IN ('reward_redeemed', 'auction_won')), 0)::bigint AS spent \
         FROM points_ledger GROUP BY 1 ORDER BY 1",
    )
    .prepared()
    .load(conn)
    .await?)
}

/// Orders waiting in each fulfilment state, per reward.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct PendingCount {
    #[diesel(sql_type = BigInt)]
    pub reward_id: i64,
    #[diesel(sql_type = Text)]
    pub name_en: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub orders: i64,
}

pub async fn pending_counts(conn: &mut AsyncPgConnection) -> Result<Vec<PendingCount>, DbError> {
    Ok(diesel::sql_query(
        "SELECT r.id AS reward_id, r.name_en, o.status, count(*) AS orders \
         FROM reward_order o JOIN reward r ON r.id = o.reward_id \
         WHERE o.status IN ('requested', 'approved', 'shipped') \
         GROUP BY r.id, r.name_en, o.status ORDER BY r.id, o.status",
    )
    .prepared()
    .load(conn)
    .await?)
}
