//! When to retry a failed delivery.
//!
//! Exponential backoff from one minute, doubling, capped at twelve hours between attempts,
//! with ±20 % jitter so that deliveries that failed together do not retry together. Fourteen
//! attempts span about two days (1+2+4+…+512 min ≈ 17 h, then three 12 h waits).

use std::time::Duration;

pub const MAX_ATTEMPTS: u32 = 14;
/// The default wait after the first failure; configurable (`federation.retry_first_delay_seconds`)
/// so that tests need not wait a minute.
pub const FIRST_DELAY_SECS: f64 = 60.0;
const MAX_DELAY_SECS: f64 = 12.0 * 3600.0;

/// What an HTTP answer (or its absence) means for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    /// The receiver refused it for good (4xx other than 408 and 429): retrying cannot help.
    Rejected,
    /// A network error, a timeout, 408, 429 or 5xx: worth another try.
    Failed,
}

pub fn classify_status(status: Option<u16>) -> DeliveryOutcome {
    match status {
        Some(200..=299) => DeliveryOutcome::Delivered,
        Some(408) | Some(429) => DeliveryOutcome::Failed,
        Some(400..=499) => DeliveryOutcome::Rejected,
        _ => DeliveryOutcome::Failed,
    }
}

/// The wait before the next attempt after `attempts_made` failed attempts, or `None` when the
/// delivery should be given up. `first_delay_secs` is the first wait; `jitter` a random number
/// in [0, 1).
pub fn retry_delay(attempts_made: u32, first_delay_secs: f64, jitter: f64) -> Option<Duration> {
    if attempts_made == 0 || attempts_made >= MAX_ATTEMPTS {
        return None;
    }
    let base = (first_delay_secs * 2f64.powi(attempts_made as i32 - 1)).min(MAX_DELAY_SECS);
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Some(Duration::from_secs_f64(base * factor))
}

/// Attempts an outbox event gets before it is parked as failed (its error kept for an admin):
/// turning an event into activities fails only on a bug or a broken row, which retrying for
/// days will not mend, while parking it lets everything behind it go.
pub const OUTBOX_MAX_ATTEMPTS: u32 = 5;

/// The wait before an outbox event that failed `attempts_made` times is tried again, or `None`
/// when it is parked. The same doubling as deliveries, from `first_delay_secs`.
pub fn outbox_retry_delay(
    attempts_made: u32,
    first_delay_secs: f64,
    jitter: f64,
) -> Option<Duration> {
    if attempts_made >= OUTBOX_MAX_ATTEMPTS {
        return None;
    }
    retry_delay(attempts_made, first_delay_secs, jitter)
}

/// The longest wait between two probes of a dead instance.
const MAX_PROBE_SECS: f64 = 24.0 * 3600.0;

/// The wait before the next NodeInfo probe of a dead instance after `failed_probes` probes
/// that found it still down: `first_secs`, doubling, at most a day.
pub fn probe_delay(failed_probes: u32, first_secs: f64) -> Duration {
    let secs = first_secs * 2f64.powi(failed_probes.min(30) as i32);
    Duration::from_secs_f64(secs.min(MAX_PROBE_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_events_are_parked_after_their_last_attempt() {
        assert_eq!(
            outbox_retry_delay(1, 0.2, 0.5),
            Some(Duration::from_millis(200))
        );
        assert!(outbox_retry_delay(OUTBOX_MAX_ATTEMPTS - 1, 0.2, 0.5).is_some());
        assert_eq!(outbox_retry_delay(OUTBOX_MAX_ATTEMPTS, 0.2, 0.5), None);
    }

    #[test]
    fn probes_back_off_to_daily() {
        assert_eq!(probe_delay(0, 600.0), Duration::from_secs(600));
        assert_eq!(probe_delay(3, 600.0), Duration::from_secs(4800));
        assert_eq!(probe_delay(10, 600.0), Duration::from_secs(86_400));
        assert_eq!(probe_delay(u32::MAX, 600.0), Duration::from_secs(86_400));
    }

    #[test]
    fn backoff_doubles_then_caps_and_stops_after_about_two_days() {
        assert_eq!(
            retry_delay(1, FIRST_DELAY_SECS, 0.5),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_delay(2, FIRST_DELAY_SECS, 0.5),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_delay(12, FIRST_DELAY_SECS, 0.5),
            Some(Duration::from_secs(12 * 3600))
        );
        assert_eq!(retry_delay(MAX_ATTEMPTS, FIRST_DELAY_SECS, 0.5), None);
        let total: f64 = (1..MAX_ATTEMPTS)
            .map(|n| retry_delay(n, FIRST_DELAY_SECS, 0.5).unwrap().as_secs_f64())
            .sum();
        let days = total / 86400.0;
        assert!((1.8..2.6).contains(&days), "{days} days");
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let low = retry_delay(3, FIRST_DELAY_SECS, 0.0).unwrap().as_secs_f64();
        let high = retry_delay(3, FIRST_DELAY_SECS, 0.999)
            .unwrap()
            .as_secs_f64();
        assert!((low - 192.0).abs() < 0.01 && high < 288.0 && high > 287.0);
    }

    #[test]
    fn statuses() {
        assert_eq!(classify_status(Some(202)), DeliveryOutcome::Delivered);
        assert_eq!(classify_status(Some(401)), DeliveryOutcome::Rejected);
        assert_eq!(classify_status(Some(429)), DeliveryOutcome::Failed);
        assert_eq!(classify_status(Some(503)), DeliveryOutcome::Failed);
        assert_eq!(classify_status(None), DeliveryOutcome::Failed);
    }
}
