//! The gift shop: the catalogue community managers keep, and members redeeming rewards with
//! their points.
//!
//! A redemption is one transaction that locks, in this order, the reward's row, then the
//! member's balance: concurrent redemptions of one reward apply one after the other, each
//! seeing the stock, codes, limits and balance the previous one left. The debit is a ledger
//! row (`order:<id>`), and the balance's CHECKs refuse a debit it does not cover, holds
//! included, should anything slip past the rule.

use crate::{accounts::Session, caller::require, people, Caller, Conn, Context, CoreError};
use cenacle_db::{
    badges as badge_store, engagement as ledger,
    shop::{self as store, NewOrder, NewReward, Order, Reward, RewardEdit, StockMove, StockReason},
};
use cenacle_domain::{
    shop::{check_redemption, LimitPeriod, RedemptionFacts, RewardTerms, ShopRefusal},
    Permission, ValidationError,
};
use chrono::{DateTime, Utc};

/// What a community manager puts in the catalogue.
#[derive(Debug, Clone, Default)]
pub struct RewardInput {
    pub name_en: String,
    pub name_fr: String,
    pub description_en: String,
    pub description_fr: String,
    pub image_media_id: Option<i64>,
    /// `physical` or `digital`.
    pub kind: String,
    pub price: i64,
    pub stock: Option<i64>,
    pub limit_per_member: Option<i32>,
    /// (limit, `day` | `week` | `month`).
    pub limit_per_period: Option<(i32, String)>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    pub min_rank_score: Option<i64>,
    /// A badge's slug.
    pub required_badge: Option<String>,
    pub champions_only: bool,
    /// False: only put up in auctions.
    pub in_shop: bool,
}

fn invalid(field: &'static str, code: &'static str) -> CoreError {
    ValidationError { field, code }.into()
}

/// Longest name and description, in characters.
const NAME_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 5_000;
/// Most codes uploaded at once, and longest code.
pub const CODES_MAX: usize = 10_000;
const CODE_MAX: usize = 200;
/// Longest delivery address.
pub(crate) const ADDRESS_MAX: usize = 1_000;

/// What a community manager may change of a reward once created: its names, descriptions,
/// price, window and limits (its stock moves only by restocks, adjustments and orders, each a
/// ledger row).
#[derive(Debug, Clone, Default)]
pub struct RewardTermsInput {
    pub name_en: String,
    pub name_fr: String,
    pub description_en: String,
    pub description_fr: String,
    pub price: i64,
    pub limit_per_member: Option<i32>,
    /// (limit, `day` | `week` | `month`).
    pub limit_per_period: Option<(i32, String)>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
}

/// The terms checked, names trimmed and the period parsed: (limit, period).
fn checked_terms(input: &RewardTermsInput) -> Result<Option<(i32, &'static str)>, CoreError> {
    for (field, text) in [("name_en", &input.name_en), ("name_fr", &input.name_fr)] {
        let n = text.trim().chars().count();
        if n == 0 || n > NAME_MAX {
            return Err(invalid(field, "length"));
        }
    }
    for (field, text) in [
        ("description_en", &input.description_en),
        ("description_fr", &input.description_fr),
    ] {
        if text.chars().count() > DESCRIPTION_MAX {
            return Err(invalid(field, "too_long"));
        }
    }
    if input.price <= 0 {
        return Err(invalid("price", "out_of_range"));
    }
    if input.limit_per_member.is_some_and(|l| l < 1) {
        return Err(invalid("limit_per_member", "out_of_range"));
    }
    let period = match &input.limit_per_period {
        None => None,
        Some((limit, period)) => {
            if *limit < 1 {
                return Err(invalid("limit_per_period", "out_of_range"));
            }
            let period = LimitPeriod::parse(period).ok_or(invalid("period", "unknown"))?;
            Some((*limit, period.as_str()))
        }
    };
    if let (Some(from), Some(until)) = (input.available_from, input.available_until) {
        if from >= until {
            return Err(invalid("available_until", "before_start"));
        }
    }
    Ok(period)
}

/// Adds a reward to the catalogue (community managers and admins).
pub async fn create_reward(
    conn: &mut Conn,
    session: &Session,
    input: &RewardInput,
) -> Result<Reward, CoreError> {
    require(session, Permission::ManageRewards)?;
    let period = checked_terms(&input.terms())?;
    if !matches!(input.kind.as_str(), "physical" | "digital") {
        return Err(invalid("kind", "unknown"));
    }
    if input.stock.is_some_and(|s| s < 0) {
        return Err(invalid("stock", "out_of_range"));
    }
    let required_badge_id = match &input.required_badge {
        None => None,
        Some(slug) => Some(
            badge_store::badge_by_slug(conn, slug)
                .await?
                .ok_or(CoreError::NotFound("badge"))?
                .id,
        ),
    };
    Ok(store::insert_reward(
        conn,
        &NewReward {
            name_en: input.name_en.trim(),
            name_fr: input.name_fr.trim(),
            description_en: &input.description_en,
            description_fr: &input.description_fr,
            image_media_id: input.image_media_id,
            kind: &input.kind,
            price: input.price,
            stock: input.stock,
            limit_per_member: input.limit_per_member,
            limit_per_period: period.map(|(l, _)| l),
            limit_period: period.map(|(_, p)| p),
            available_from: input.available_from,
            available_until: input.available_until,
            min_rank_score: input.min_rank_score,
            required_badge_id,
            champions_only: input.champions_only,
            in_shop: input.in_shop,
            created_by: session.account.person_id,
        },
    )
    .await?)
}

impl RewardInput {
    fn terms(&self) -> RewardTermsInput {
        RewardTermsInput {
            name_en: self.name_en.clone(),
            name_fr: self.name_fr.clone(),
            description_en: self.description_en.clone(),
            description_fr: self.description_fr.clone(),
            price: self.price,
            limit_per_member: self.limit_per_member,
            limit_per_period: self.limit_per_period.clone(),
            available_from: self.available_from,
            available_until: self.available_until,
        }
    }
}

/// A community manager rewrites a reward's names, descriptions, price, window and limits
/// (refused whole when any is invalid). Orders already made keep the price they paid.
pub async fn edit_reward(
    conn: &mut Conn,
    session: &Session,
    reward_id: i64,
    input: &RewardTermsInput,
) -> Result<Reward, CoreError> {
    require(session, Permission::ManageRewards)?;
    let period = checked_terms(input)?;
    // Under the reward's lock, as redemptions read it: one sees the old terms or the new.
    store::reward_for_update(conn, reward_id)
        .await?
        .ok_or(CoreError::NotFound("reward"))?;
    store::update_reward(
        conn,
        reward_id,
        &RewardEdit {
            name_en: input.name_en.trim(),
            name_fr: input.name_fr.trim(),
            description_en: &input.description_en,
            description_fr: &input.description_fr,
            price: input.price,
            limit_per_member: input.limit_per_member,
            limit_per_period: period.map(|(l, _)| l),
            limit_period: period.map(|(_, p)| p),
            available_from: input.available_from,
            available_until: input.available_until,
        },
    )
    .await?;
    reward(conn, reward_id).await
}

/// Most units added by one restock.
pub const RESTOCK_MAX: i64 = 1_000_000;

/// A community manager adds `quantity` units to a limited reward's stock (a `restock` ledger
/// row). An unlimited reward has no stock to add to (409 `reward_stock_unlimited`).
pub async fn restock(
    conn: &mut Conn,
    session: &Session,
    reward_id: i64,
    quantity: i64,
) -> Result<Reward, CoreError> {
    require(session, Permission::ManageRewards)?;
    if !(1..=RESTOCK_MAX).contains(&quantity) {
        return Err(invalid("quantity", "out_of_range"));
    }
    limited_stock_for_update(conn, reward_id).await?;
    store::move_stock(
        conn,
        &StockMove {
            reward_id,
            delta: quantity,
            reason: StockReason::Restock,
            order_id: None,
            auction_id: None,
            by: Some(session.account.person_id),
        },
    )
    .await?;
    self::reward(conn, reward_id).await
}

/// Locks a reward's row for a change of its stock by hand (the lock every redemption, lot and
/// refund of it takes first) and returns its stock: 404 when there is no such reward, 409
/// `reward_stock_unlimited` when it has no stock to change.
pub(crate) async fn limited_stock_for_update(
    conn: &mut Conn,
    reward_id: i64,
) -> Result<i64, CoreError> {
    store::reward_for_update(conn, reward_id)
        .await?
        .ok_or(CoreError::NotFound("reward"))?
        .stock
        .ok_or(ShopRefusal::StockUnlimited.into())
}

/// Adds codes to a digital reward's pool (blank lines skipped, duplicates ignored). Returns how
/// many were added.
pub async fn add_codes(
    conn: &mut Conn,
    session: &Session,
    reward_id: i64,
    codes: &[String],
) -> Result<usize, CoreError> {
    require(session, Permission::ManageRewards)?;
    let reward = store::reward(conn, reward_id)
        .await?
        .ok_or(CoreError::NotFound("reward"))?;
    if reward.kind != "digital" {
        return Err(invalid("codes", "not_digital"));
    }
    let codes: Vec<String> = codes
        .iter()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    if codes.is_empty() || codes.len() > CODES_MAX {
        return Err(invalid("codes", "count"));
    }
    if codes.iter().any(|c| c.chars().count() > CODE_MAX) {
        return Err(invalid("codes", "too_long"));
    }
    // Under the reward's lock, as redemptions and lots count its free codes.
    store::reward_for_update(conn, reward_id).await?;
    Ok(store::add_codes(conn, reward_id, &codes, session.account.person_id).await?)
}

/// The shop's catalogue (`shop_only`), or every reward (auction lots too).
pub async fn catalogue(conn: &mut Conn, shop_only: bool) -> Result<Vec<Reward>, CoreError> {
    Ok(store::rewards(conn, shop_only).await?)
}

pub async fn reward(conn: &mut Conn, id: i64) -> Result<Reward, CoreError> {
    store::reward(conn, id)
        .await?
        .ok_or(CoreError::NotFound("reward"))
}

/// A reward's terms, as the rules read them.
fn terms(reward: &Reward) -> RewardTerms {
    RewardTerms {
        price: reward.price,
        physical: reward.kind == "physical",
        stock: reward.stock,
        limit_per_member: reward.limit_per_member.map(i64::from),
        limit_per_period: reward
            .limit_per_period
            .zip(reward.limit_period.as_deref().and_then(LimitPeriod::parse))
            .map(|(l, p)| (i64::from(l), p)),
        available_from: reward.available_from,
        available_until: reward.available_until,
        min_rank_score: reward.min_rank_score,
        requires_badge: reward.required_badge_id.is_some(),
        champions_only: reward.champions_only,
    }
}

/// Units a reward has left: its stock, and for a digital reward its free codes too.
pub(crate) fn units_left(reward: &Reward) -> Option<i64> {
    let codes = (reward.kind == "digital").then_some(reward.free_codes);
    match (reward.stock, codes) {
        (Some(s), Some(c)) => Some(s.min(c)),
        (s, c) => s.or(c),
    }
}

/// The ledger reason of a redemption's debit.
pub const REDEEMED: &str = "reward_redeemed";

/// A member redeems a reward: the order, the debit (ledger row), the unit of stock and (for a
/// digital reward) its code, all in the caller's transaction. A physical reward needs a
/// delivery address (erased after delivery, see `orders`). Refused with a clear code — and
/// nothing taken — outside the window, when not eligible, over a limit, out of stock, or
/// beyond the points available (balance less what auctions hold).
pub async fn redeem(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    reward_id: i64,
    address: Option<&str>,
) -> Result<Order, CoreError> {
    // Only our members hold points.
    if !caller.is_local() {
        return Err(CoreError::NotAllowed("redeem"));
    }
    let address = address.map(str::trim).filter(|a| !a.is_empty());
    if address.is_some_and(|a| a.chars().count() > ADDRESS_MAX) {
        return Err(invalid("address", "too_long"));
    }
    // Lock order: the reward, then the member's balance (see the module's notes).
    let reward = store::reward_for_update(conn, reward_id)
        .await?
        .filter(|r| r.in_shop)
        .ok_or(CoreError::NotFound("reward"))?;
    let terms = terms(&reward);
    let now = Utc::now();
    let since = terms
        .limit_per_period
        .map_or(now, |(_, period)| period.start(now));
    let standing = store::member_standing(
        conn,
        reward.id,
        caller.person_id,
        since,
        reward.required_badge_id,
    )
    .await?;
    let rank_score = match terms.min_rank_score {
        Some(_) => people::rank_of(conn, ctx, caller.person_id).await?.0,
        None => 0,
    };
    ledger::lock_points(conn, caller.person_id).await?;
    let available = store::available_points(conn, caller.person_id).await?;
    check_redemption(
        &terms,
        &RedemptionFacts {
            now,
            rank_score,
            holds_required_badge: standing.holds_badge,
            active_champion: standing.active_champion,
            orders_ever: standing.orders_ever,
            orders_in_period: standing.orders_since,
            units_left: units_left(&reward),
            available_points: available.points(),
            address_given: address.is_some(),
        },
    )?;
    let digital = reward.kind == "digital";
    let order = store::insert_order(
        conn,
        &NewOrder {
            reward_id: reward.id,
            person_id: caller.person_id,
            auction_id: None,
            price: reward.price,
            // A code is handed out at once: nothing left to fulfil.
            status: if digital { "delivered" } else { "requested" },
            delivery_address: if digital { None } else { address },
            ledger_key_pattern: "order:{}",
        },
    )
    .await?;
    let debited = ledger::record_points(
        conn,
        caller.person_id,
        -reward.price,
        REDEEMED,
        &order.ledger_key,
        None,
    )
    .await?;
    // A fresh order's key was never paid: an order must never exist with nothing taken.
    if !debited {
        return Err(CoreError::Internal(format!(
            "order {}: its debit was already recorded",
            order.id
        )));
    }
    store::move_stock(
        conn,
        &StockMove {
            reward_id: reward.id,
            delta: -1,
            reason: StockReason::Order,
            order_id: Some(order.id),
            auction_id: None,
            by: None,
        },
    )
    .await?;
    if digital && store::take_code(conn, reward.id, order.id).await?.is_none() {
        // Counted free under the reward's lock: only a code uploaded and taken by another
        // path at once could be missing. Refused whole (the transaction rolls back).
        return Err(ShopRefusal::OutOfStock.into());
    }
    store::order(conn, order.id, false)
        .await?
        .ok_or(CoreError::NotFound("order"))
}
