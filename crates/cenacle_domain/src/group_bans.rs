//! Bans from a group: whether one is in force. Time is an input, so an expired ban simply
//! stops counting — no job lifts it. (A new ban's expiry is checked by
//! `moderation::check_expiry`.)

use chrono::{DateTime, Utc};

/// Whether a ban ending at `expires_at` (None: never) still holds at `now`.
pub fn in_force(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_none_or(|at| at > now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn an_expired_ban_stops_counting_by_itself() {
        let now = Utc::now();
        assert!(in_force(None, now));
        assert!(in_force(Some(now + Duration::minutes(1)), now));
        assert!(!in_force(Some(now - Duration::minutes(1)), now));
    }
}
