//! The gift shop's rules: when a member may redeem a reward (its window, their eligibility,
//! their limits, the stock, their available points), how an order moves through fulfilment,
//! and how far a community manager may adjust a stock by hand. Pure: the caller reads the facts
//! (under the reward's row lock) and asks here.

use crate::ValidationError;
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};

/// Why a redemption, a bid or a fulfilment step is refused: a stable code for the API (with
/// its English and French messages there), and whether it is the request's fault (invalid) or
/// the state's (conflict) or the member's standing (forbidden).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.code())]
pub enum ShopRefusal {
    OutOfStock,
    InsufficientPoints,
    RedemptionLimitReached,
    RewardNotAvailable,
    RewardNotEligible,
    AddressRequired,
    OrderTransitionNotAllowed,
    AuctionNotStarted,
    AuctionEnded,
    AuctionClosed,
    BidTooLow,
    AlreadyHighestBidder,
    /// A restock or adjustment of a reward whose stock is unlimited.
    StockUnlimited,
    /// A write-off of more units than are free: some of those on hand are promised to open
    /// orders or auction lots (refuse or cancel those first).
    StockBelowReserved,
    /// A write-off of more units than there are, promised ones included.
    StockBelowZero,
    /// A stock adjustment of a digital reward: its units are its codes (uploaded, handed out),
    /// not a count kept by hand.
    RewardNotStocked,
}

/// How the API answers a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalStatus {
    Invalid,
    Conflict,
    Forbidden,
}

impl ShopRefusal {
    pub fn code(self) -> &'static str {
        use ShopRefusal::*;
        match self {
            OutOfStock => "out_of_stock",
            InsufficientPoints => "insufficient_points",
            RedemptionLimitReached => "redemption_limit_reached",
            RewardNotAvailable => "reward_not_available",
            RewardNotEligible => "reward_not_eligible",
            AddressRequired => "address_required",
            OrderTransitionNotAllowed => "order_transition_not_allowed",
            AuctionNotStarted => "auction_not_started",
            AuctionEnded => "auction_ended",
            AuctionClosed => "auction_closed",
            BidTooLow => "bid_too_low",
            AlreadyHighestBidder => "already_highest_bidder",
            StockUnlimited => "reward_stock_unlimited",
            StockBelowReserved => "stock_below_reserved",
            StockBelowZero => "stock_below_zero",
            RewardNotStocked => "reward_not_stocked",
        }
    }

    pub fn status(self) -> RefusalStatus {
        use ShopRefusal::*;
        match self {
            RewardNotEligible => RefusalStatus::Forbidden,
            AddressRequired | BidTooLow | RewardNotStocked => RefusalStatus::Invalid,
            _ => RefusalStatus::Conflict,
        }
    }

    pub const ALL: [ShopRefusal; 16] = [
        ShopRefusal::OutOfStock,
        ShopRefusal::InsufficientPoints,
        ShopRefusal::RedemptionLimitReached,
        ShopRefusal::RewardNotAvailable,
        ShopRefusal::RewardNotEligible,
        ShopRefusal::AddressRequired,
        ShopRefusal::OrderTransitionNotAllowed,
        ShopRefusal::AuctionNotStarted,
        ShopRefusal::AuctionEnded,
        ShopRefusal::AuctionClosed,
        ShopRefusal::BidTooLow,
        ShopRefusal::AlreadyHighestBidder,
        ShopRefusal::StockUnlimited,
        ShopRefusal::StockBelowReserved,
        ShopRefusal::StockBelowZero,
        ShopRefusal::RewardNotStocked,
    ];
}

/// The calendar period a per-period limit counts over (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitPeriod {
    Day,
    /// The ISO week, from Monday.
    Week,
    Month,
}

impl LimitPeriod {
    pub fn parse(s: &str) -> Option<LimitPeriod> {
        match s {
            "day" => Some(LimitPeriod::Day),
            "week" => Some(LimitPeriod::Week),
            "month" => Some(LimitPeriod::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LimitPeriod::Day => "day",
            LimitPeriod::Week => "week",
            LimitPeriod::Month => "month",
        }
    }

    /// When the period holding `now` began.
    pub fn start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let day = now.date_naive();
        let first = match self {
            LimitPeriod::Day => day,
            LimitPeriod::Week => {
                day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
            }
            LimitPeriod::Month => day.with_day(1).unwrap_or(day),
        };
        first.and_time(NaiveTime::MIN).and_utc()
    }
}

/// What a reward asks of a redemption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardTerms {
    pub price: i64,
    pub physical: bool,
    /// None: unlimited (a digital reward is also bounded by its free codes).
    pub stock: Option<i64>,
    /// Orders per member, ever (refused and cancelled ones not counted).
    pub limit_per_member: Option<i64>,
    /// Orders per member per calendar period.
    pub limit_per_period: Option<(i64, LimitPeriod)>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    pub min_rank_score: Option<i64>,
    /// A badge the member must hold.
    pub requires_badge: bool,
    pub champions_only: bool,
}

/// What the member and the reward stand at, read under the reward's row lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedemptionFacts {
    pub now: DateTime<Utc>,
    pub rank_score: i64,
    pub holds_required_badge: bool,
    pub active_champion: bool,
    /// The member's live orders of this reward, ever and in the current period.
    pub orders_ever: i64,
    pub orders_in_period: i64,
    /// Units left: the stock, and for a digital reward its free codes too.
    pub units_left: Option<i64>,
    /// Balance less what auctions hold.
    pub available_points: i64,
    pub address_given: bool,
}

/// Whether `now` is inside the reward's availability window (from inclusive, until exclusive).
pub fn within_window(terms: &RewardTerms, now: DateTime<Utc>) -> bool {
    terms.available_from.is_none_or(|from| now >= from)
        && terms.available_until.is_none_or(|until| now < until)
}

/// Whether the member may have this reward at all: rank, badge, champions only.
pub fn eligible(terms: &RewardTerms, facts: &RedemptionFacts) -> bool {
    terms
        .min_rank_score
        .is_none_or(|min| facts.rank_score >= min)
        && (!terms.requires_badge || facts.holds_required_badge)
        && (!terms.champions_only || facts.active_champion)
}

/// Decides a redemption. The order of the checks is the order a member would fix them in:
/// the window and eligibility (nothing to do), their limits, then the stock, then points.
pub fn check_redemption(terms: &RewardTerms, facts: &RedemptionFacts) -> Result<(), ShopRefusal> {
    if !within_window(terms, facts.now) {
        return Err(ShopRefusal::RewardNotAvailable);
    }
    if !eligible(terms, facts) {
        return Err(ShopRefusal::RewardNotEligible);
    }
    if terms
        .limit_per_member
        .is_some_and(|limit| facts.orders_ever >= limit)
        || terms
            .limit_per_period
            .is_some_and(|(limit, _)| facts.orders_in_period >= limit)
    {
        return Err(ShopRefusal::RedemptionLimitReached);
    }
    if facts.units_left.is_some_and(|left| left < 1) {
        return Err(ShopRefusal::OutOfStock);
    }
    if facts.available_points < terms.price {
        return Err(ShopRefusal::InsufficientPoints);
    }
    if terms.physical && !facts.address_given {
        return Err(ShopRefusal::AddressRequired);
    }
    Ok(())
}

/// Why a community manager adjusts a reward's stock by hand: the short list a write-off or an
/// arrival is recorded under (free text goes beside it, in the note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdjustmentReason {
    Damaged,
    Lost,
    /// Handed out for free (at an event, to a partner).
    GivenAway,
    /// Units that came in.
    Received,
    /// A count put right, either way.
    Correction,
}

impl AdjustmentReason {
    pub const ALL: [AdjustmentReason; 5] = [
        AdjustmentReason::Damaged,
        AdjustmentReason::Lost,
        AdjustmentReason::GivenAway,
        AdjustmentReason::Received,
        AdjustmentReason::Correction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AdjustmentReason::Damaged => "damaged",
            AdjustmentReason::Lost => "lost",
            AdjustmentReason::GivenAway => "given_away",
            AdjustmentReason::Received => "received",
            AdjustmentReason::Correction => "correction",
        }
    }

    pub fn parse(s: &str) -> Option<AdjustmentReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this reason applies to a reward of `kind`. A digital reward's units are its
    /// codes (uploaded, handed out with its orders): nothing of it is damaged, lost, given away
    /// or received, and its stock, if any, is only a cap on how many sell — which a correction
    /// puts right, either way.
    pub fn applies_to(self, kind: &str) -> bool {
        kind != "digital" || self == AdjustmentReason::Correction
    }

    /// Whether `delta` goes the way this reason says: a unit damaged, lost or given away
    /// leaves the stock, a unit received enters it; a correction goes either way.
    pub fn allows(self, delta: i64) -> bool {
        match self {
            AdjustmentReason::Damaged | AdjustmentReason::Lost | AdjustmentReason::GivenAway => {
                delta < 0
            }
            AdjustmentReason::Received => delta > 0,
            AdjustmentReason::Correction => delta != 0,
        }
    }
}

/// Most units one adjustment moves, either way.
pub const ADJUSTMENT_MAX: i64 = 1_000_000;

/// Checks an adjustment's request on its own: a known reason, a change of 1 to
/// [`ADJUSTMENT_MAX`] units going the way the reason says. Returns the reason.
pub fn check_adjustment(reason: &str, delta: i64) -> Result<AdjustmentReason, ValidationError> {
    let reason = AdjustmentReason::parse(reason).ok_or(ValidationError {
        field: "reason",
        code: "unknown",
    })?;
    if delta == 0 || delta.unsigned_abs() > ADJUSTMENT_MAX.unsigned_abs() {
        return Err(ValidationError {
            field: "delta",
            code: "out_of_range",
        });
    }
    if !reason.allows(delta) {
        return Err(ValidationError {
            field: "delta",
            code: if delta > 0 {
                "write_off_positive"
            } else {
                "received_negative"
            },
        });
    }
    Ok(reason)
}

/// Decides an adjustment of a limited reward's stock (read under its row lock): `stock` is the
/// units free to sell; those on hand but promised to open orders and auction lots are already
/// out of it. A write-off may take only free units — the promised ones are someone's. When it
/// would go past them, [`write_off_refusal`] says why, from the promised units (counted only
/// then).
pub fn within_free_units(stock: i64, delta: i64) -> bool {
    stock + delta >= 0
}

/// Why a write-off past the `stock` free units is refused, given the units `reserved` for open
/// orders and lots: it takes promised units, or more units than there are at all.
pub fn write_off_refusal(stock: i64, reserved: i64, delta: i64) -> ShopRefusal {
    debug_assert!(
        !within_free_units(stock, delta),
        "not a refusal: {stock} {delta}"
    );
    if stock + reserved + delta >= 0 {
        ShopRefusal::StockBelowReserved
    } else {
        ShopRefusal::StockBelowZero
    }
}

/// Where an order is in its fulfilment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Requested,
    Approved,
    Shipped,
    Delivered,
    Refused,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Requested,
        OrderStatus::Approved,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Refused,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Requested => "requested",
            OrderStatus::Approved => "approved",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Refused => "refused",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Refused or cancelled: the points come back and the unit goes back in stock.
    pub fn refunds(self) -> bool {
        matches!(self, OrderStatus::Refused | OrderStatus::Cancelled)
    }

    /// Whether a community manager may move an order from `self` to `to`: forward along
    /// requested → approved → shipped → delivered (approved may be delivered by hand), or out
    /// (refused before approval, cancelled before shipping). Nothing leaves a final state, so
    /// a refund happens at most once.
    pub fn may_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Requested, Approved | Refused | Cancelled)
                | (Approved, Shipped | Delivered | Cancelled)
                | (Shipped, Delivered)
        )
    }
}

/// When a delivered order's address is erased: after the retention the law asks (0: at once).
pub fn address_erased_at(delivered_at: DateTime<Utc>, retention_days: u32) -> DateTime<Utc> {
    delivered_at + Duration::days(i64::from(retention_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap()
    }

    fn terms() -> RewardTerms {
        RewardTerms {
            price: 100,
            physical: false,
            stock: Some(1),
            limit_per_member: None,
            limit_per_period: None,
            available_from: None,
            available_until: None,
            min_rank_score: None,
            requires_badge: false,
            champions_only: false,
        }
    }

    fn facts() -> RedemptionFacts {
        RedemptionFacts {
            now: at(2, 12),
            rank_score: 0,
            holds_required_badge: false,
            active_champion: false,
            orders_ever: 0,
            orders_in_period: 0,
            units_left: Some(1),
            available_points: 100,
            address_given: false,
        }
    }

    #[test]
    fn a_member_with_the_price_redeems_the_last_unit() {
        assert_eq!(check_redemption(&terms(), &facts()), Ok(()));
    }

    #[test]
    fn no_unit_left_is_out_of_stock_and_too_few_points_insufficient() {
        let none_left = RedemptionFacts {
            units_left: Some(0),
            ..facts()
        };
        assert_eq!(
            check_redemption(&terms(), &none_left),
            Err(ShopRefusal::OutOfStock)
        );
        let poor = RedemptionFacts {
            available_points: 99,
            ..facts()
        };
        assert_eq!(
            check_redemption(&terms(), &poor),
            Err(ShopRefusal::InsufficientPoints)
        );
        let unlimited = RedemptionFacts {
            units_left: None,
            ..facts()
        };
        assert_eq!(check_redemption(&terms(), &unlimited), Ok(()));
    }

    #[test]
    fn the_window_includes_its_start_and_excludes_its_end() {
        let t = RewardTerms {
            available_from: Some(at(2, 12)),
            available_until: Some(at(3, 12)),
            ..terms()
        };
        assert!(within_window(&t, at(2, 12)));
        assert!(!within_window(&t, at(2, 11)));
        assert!(!within_window(&t, at(3, 12)));
        let late = RedemptionFacts {
            now: at(3, 12),
            ..facts()
        };
        assert_eq!(
            check_redemption(&t, &late),
            Err(ShopRefusal::RewardNotAvailable)
        );
    }

    #[test]
    fn eligibility_asks_rank_badge_and_champions() {
        let t = RewardTerms {
            min_rank_score: Some(50),
            requires_badge: true,
            champions_only: true,
            ..terms()
        };
        let ok = RedemptionFacts {
            rank_score: 50,
            holds_required_badge: true,
            active_champion: true,
            ..facts()
        };
        assert_eq!(check_redemption(&t, &ok), Ok(()));
        for f in [
            RedemptionFacts {
                rank_score: 49,
                ..ok
            },
            RedemptionFacts {
                holds_required_badge: false,
                ..ok
            },
            RedemptionFacts {
                active_champion: false,
                ..ok
            },
        ] {
            assert_eq!(
                check_redemption(&t, &f),
                Err(ShopRefusal::RewardNotEligible)
            );
        }
    }

    #[test]
    fn limits_count_live_orders_ever_and_per_period() {
        let t = RewardTerms {
            limit_per_member: Some(3),
            limit_per_period: Some((1, LimitPeriod::Week)),
            stock: None,
            ..terms()
        };
        let f = RedemptionFacts {
            orders_ever: 2,
            orders_in_period: 0,
            ..facts()
        };
        assert_eq!(check_redemption(&t, &f), Ok(()));
        for f in [
            RedemptionFacts {
                orders_ever: 3,
                ..f
            },
            RedemptionFacts {
                orders_in_period: 1,
                ..f
            },
        ] {
            assert_eq!(
                check_redemption(&t, &f),
                Err(ShopRefusal::RedemptionLimitReached)
            );
        }
    }

    #[test]
    fn periods_start_at_midnight_monday_and_the_first() {
        // 2 December 2026 is a Wednesday.
        assert_eq!(LimitPeriod::Day.start(at(2, 12)), at(2, 0));
        assert_eq!(
            LimitPeriod::Week.start(at(2, 12)),
            Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
        );
        assert_eq!(LimitPeriod::Month.start(at(2, 12)), at(1, 0));
    }

    #[test]
    fn a_physical_reward_needs_an_address() {
        let t = RewardTerms {
            physical: true,
            ..terms()
        };
        assert_eq!(
            check_redemption(&t, &facts()),
            Err(ShopRefusal::AddressRequired)
        );
    }

    #[test]
    fn orders_move_forward_or_out_once() {
        use OrderStatus::*;
        assert!(Requested.may_become(Approved));
        assert!(Approved.may_become(Shipped));
        assert!(Shipped.may_become(Delivered));
        assert!(Requested.may_become(Refused));
        assert!(Approved.may_become(Cancelled));
        for final_state in [Delivered, Refused, Cancelled] {
            for to in OrderStatus::ALL {
                assert!(!final_state.may_become(to), "{final_state:?} → {to:?}");
            }
        }
        assert!(
            !Shipped.may_become(Cancelled),
            "what left cannot be refunded"
        );
        assert!(Refused.refunds() && Cancelled.refunds() && !Delivered.refunds());
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn an_adjustment_goes_the_way_its_reason_says_and_never_eats_promised_units() {
        assert_eq!(
            check_adjustment("damaged", -2),
            Ok(AdjustmentReason::Damaged)
        );
        assert_eq!(
            check_adjustment("received", 5),
            Ok(AdjustmentReason::Received)
        );
        assert_eq!(
            check_adjustment("correction", -1),
            Ok(AdjustmentReason::Correction)
        );
        assert_eq!(
            check_adjustment("correction", 1),
            Ok(AdjustmentReason::Correction)
        );
        let code = |r: Result<AdjustmentReason, ValidationError>| r.map_err(|e| (e.field, e.code));
        assert_eq!(
            code(check_adjustment("stolen", -1)),
            Err(("reason", "unknown"))
        );
        assert_eq!(
            code(check_adjustment("lost", 0)),
            Err(("delta", "out_of_range"))
        );
        assert_eq!(
            code(check_adjustment("correction", -ADJUSTMENT_MAX - 1)),
            Err(("delta", "out_of_range"))
        );
        assert_eq!(
            code(check_adjustment("given_away", 3)),
            Err(("delta", "write_off_positive"))
        );
        assert_eq!(
            code(check_adjustment("received", -3)),
            Err(("delta", "received_negative"))
        );
        for r in AdjustmentReason::ALL {
            assert_eq!(AdjustmentReason::parse(r.as_str()), Some(r));
        }

        // 3 free, 2 promised: 3 may go, the 4th and 5th are promised, the 6th does not exist.
        assert!(within_free_units(3, -3));
        assert!(within_free_units(3, 4));
        assert!(!within_free_units(3, -4));
        assert_eq!(write_off_refusal(3, 2, -4), ShopRefusal::StockBelowReserved);
        assert_eq!(write_off_refusal(3, 2, -5), ShopRefusal::StockBelowReserved);
        assert_eq!(write_off_refusal(3, 2, -6), ShopRefusal::StockBelowZero);
        assert!(!within_free_units(0, -1));
        assert_eq!(write_off_refusal(0, 0, -1), ShopRefusal::StockBelowZero);
    }

    #[test]
    fn refusal_codes_are_distinct() {
        let mut codes: Vec<_> = ShopRefusal::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ShopRefusal::ALL.len());
    }
}
