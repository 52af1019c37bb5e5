//! Bans from a group: when one may be set and whether one is in force. Time is an input, so
//! an expired ban simply stops counting — no job lifts it.

use crate::reports::ModerationRefusal;
use chrono::{DateTime, Utc};

/// A new ban's end must be in the future (None: for good).
pub fn check_expiry(
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), ModerationRefusal> {
    match expires_at {
        Some(at) if at <= now => Err(ModerationRefusal::BanExpiryInPast),
        _ => Ok(()),
    }
}

/// Whether a ban ending at `expires_at` still holds at `now`.
pub fn in_force(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_none_or(|at| at > now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_ban_ends_in_the_future_or_never() {
        let now = Utc::now();
        assert_eq!(check_expiry(None, now), Ok(()));
        assert_eq!(check_expiry(Some(now + Duration::hours(1)), now), Ok(()));
        assert_eq!(
            check_expiry(Some(now - Duration::seconds(1)), now),
            Err(ModerationRefusal::BanExpiryInPast)
        );
    }

    #[test]
    fn an_expired_ban_stops_counting_by_itself() {
        let now = Utc::now();
        assert!(in_force(None, now));
        assert!(in_force(Some(now + Duration::minutes(1)), now));
        assert!(!in_force(Some(now - Duration::minutes(1)), now));
    }
}
