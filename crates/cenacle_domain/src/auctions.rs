//! Point auctions: the next minimum bid, which bids are accepted, the anti-sniping extension
//! and the winner. Pure: the caller reads the auction under its row lock and asks here.

use crate::shop::ShopRefusal;
use chrono::{DateTime, Duration, Utc};

/// An auction as a bid sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuctionState {
    pub open: bool,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub starting_price: i64,
    pub min_increment: i64,
    /// The leading bid: (bidder, amount).
    pub leading: Option<(i64, i64)>,
    /// A bid this close to the end pushes the end back by as much (0: no extension).
    pub extension: Duration,
}

/// The least the next bid may be: the starting price first, then the leading amount plus the
/// increment.
pub fn next_minimum(state: &AuctionState) -> i64 {
    match state.leading {
        None => state.starting_price,
        Some((_, amount)) => amount.saturating_add(state.min_increment),
    }
}

/// Decides a bid of `amount` by `bidder`, who has `available` points (balance less holds,
/// their earlier bids on this auction being released already when outbid).
pub fn check_bid(
    state: &AuctionState,
    now: DateTime<Utc>,
    bidder: i64,
    amount: i64,
    available: i64,
) -> Result<(), ShopRefusal> {
    if !state.open {
        return Err(ShopRefusal::AuctionClosed);
    }
    if now < state.starts_at {
        return Err(ShopRefusal::AuctionNotStarted);
    }
    if now >= state.ends_at {
        return Err(ShopRefusal::AuctionEnded);
    }
    if state.leading.is_some_and(|(leader, _)| leader == bidder) {
        return Err(ShopRefusal::AlreadyHighestBidder);
    }
    if amount < next_minimum(state) {
        return Err(ShopRefusal::BidTooLow);
    }
    if amount > available {
        return Err(ShopRefusal::InsufficientPoints);
    }
    Ok(())
}

/// Anti-sniping: a bid accepted within the last `extension` before the end extends the end by
/// `extension` (the "a bid in the last N minutes extends the end by N minutes"), so
/// that others always have that long to answer. None: the end stays.
pub fn extended_end(state: &AuctionState, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (state.extension > Duration::zero() && state.ends_at - now <= state.extension)
        .then(|| state.ends_at + state.extension)
}

/// Whether the leading amount wins at the end: at or above the reserve, if any.
pub fn wins(leading_amount: i64, reserve: Option<i64>) -> bool {
    reserve.is_none_or(|reserve| leading_amount >= reserve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap() + Duration::seconds(s)
    }

    fn state() -> AuctionState {
        AuctionState {
            open: true,
            starts_at: t(0),
            ends_at: t(3600),
            starting_price: 100,
            min_increment: 10,
            leading: None,
            extension: Duration::minutes(5),
        }
    }

    #[test]
    fn the_first_bid_needs_the_starting_price_the_next_the_increment() {
        let s = state();
        assert_eq!(next_minimum(&s), 100);
        assert_eq!(
            check_bid(&s, t(1), 7, 99, 1000),
            Err(ShopRefusal::BidTooLow)
        );
        assert_eq!(check_bid(&s, t(1), 7, 100, 1000), Ok(()));
        let led = AuctionState {
            leading: Some((7, 100)),
            ..s
        };
        assert_eq!(next_minimum(&led), 110);
        assert_eq!(
            check_bid(&led, t(1), 8, 109, 1000),
            Err(ShopRefusal::BidTooLow)
        );
        assert_eq!(check_bid(&led, t(1), 8, 110, 1000), Ok(()));
    }

    #[test]
    fn bids_outside_the_run_by_the_leader_or_beyond_points_are_refused() {
        let s = AuctionState {
            leading: Some((7, 100)),
            ..state()
        };
        assert_eq!(
            check_bid(&s, t(-1), 8, 200, 1000),
            Err(ShopRefusal::AuctionNotStarted)
        );
        assert_eq!(
            check_bid(&s, t(3600), 8, 200, 1000),
            Err(ShopRefusal::AuctionEnded)
        );
        assert_eq!(
            check_bid(&s, t(1), 7, 200, 1000),
            Err(ShopRefusal::AlreadyHighestBidder)
        );
        assert_eq!(
            check_bid(&s, t(1), 8, 200, 199),
            Err(ShopRefusal::InsufficientPoints)
        );
        let closed = AuctionState { open: false, ..s };
        assert_eq!(
            check_bid(&closed, t(1), 8, 200, 1000),
            Err(ShopRefusal::AuctionClosed)
        );
    }

    #[test]
    fn a_bid_in_the_last_minutes_extends_the_end_by_as_many() {
        let s = state();
        assert_eq!(extended_end(&s, t(3600 - 301)), None);
        assert_eq!(extended_end(&s, t(3600 - 300)), Some(t(3900)));
        assert_eq!(extended_end(&s, t(3600 - 30)), Some(t(3900)));
        let none = AuctionState {
            extension: Duration::zero(),
            ..s
        };
        assert_eq!(extended_end(&none, t(3599)), None);
    }

    #[test]
    fn the_leading_bid_wins_at_or_above_the_reserve() {
        assert!(wins(100, None));
        assert!(wins(100, Some(100)));
        assert!(!wins(99, Some(100)));
    }
}
