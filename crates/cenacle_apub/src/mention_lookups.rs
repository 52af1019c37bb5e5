//! The instance-wide bounds on looking up the people members name (`mentions`): the lookups
//! run before the use case that stores the text checks that its member may publish there, so
//! any signed-in member can make this server ask others; this bounds what that costs.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Lookups of named people running at once, instance-wide; the others wait their turn, but no
/// longer than their text waits for them (then they give up: a flood of texts cannot queue
/// lookups without end).
const LOOKUPS_AT_ONCE: usize = 8;
/// How long a name its server could not give (not found, the server down, too slow or
/// refused; not our own database failing) is not asked for again: long enough that a text
/// posted over and over does not ask each time, short enough that someone who has just
/// signed up elsewhere is found soon.
const FAILURE_REMEMBERED: Duration = Duration::from_secs(600);
/// Names remembered as not found, at most: the memory a flood of made-up names can take.
const FAILURES_KEPT: usize = 10_000;

/// A few lookups at once, and a name that could not be found not asked for again for ten
/// minutes.
pub struct MentionLookups {
    at_once: Semaphore,
    /// Names (lower case) that could not be found, and when.
    not_found: Mutex<HashMap<String, Instant>>,
}

impl Default for MentionLookups {
    fn default() -> Self {
        MentionLookups {
            at_once: Semaphore::new(LOOKUPS_AT_ONCE),
            not_found: Mutex::default(),
        }
    }
}

impl MentionLookups {
    /// Waits for a turn to look someone up, `patience` at most (`None`: none came).
    pub(crate) async fn turn(&self, patience: Duration) -> Option<SemaphorePermit<'_>> {
        match tokio::time::timeout(patience, self.at_once.acquire()).await {
            Ok(Ok(permit)) => Some(permit),
            // Closed (never) or out of patience.
            Ok(Err(_)) | Err(_) => None,
        }
    }

    /// Whether `handle` could not be found less than [`FAILURE_REMEMBERED`] before `now`.
    pub(crate) fn recently_not_found(&self, handle: &str, now: Instant) -> bool {
        let not_found = self.not_found.lock().unwrap_or_else(|e| e.into_inner());
        not_found
            .get(&handle.to_lowercase())
            .is_some_and(|at| now.duration_since(*at) < FAILURE_REMEMBERED)
    }

    /// Remembers that `handle` could not be found at `now`. When [`FAILURES_KEPT`] names are
    /// remembered, the expired ones go; if none has, this one is not remembered (it is asked
    /// for again next time: the bound on lookups at once still holds).
    pub(crate) fn remember_not_found(&self, handle: &str, now: Instant) {
        let mut not_found = self.not_found.lock().unwrap_or_else(|e| e.into_inner());
        if not_found.len() >= FAILURES_KEPT {
            not_found.retain(|_, at| now.duration_since(*at) < FAILURE_REMEMBERED);
        }
        if not_found.len() < FAILURES_KEPT {
            not_found.insert(handle.to_lowercase(), now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_not_found_is_remembered_for_ten_minutes_whatever_its_case() {
        let lookups = MentionLookups::default();
        let start = Instant::now();
        assert!(!lookups.recently_not_found("nobody@elsewhere.example", start));
        lookups.remember_not_found("Nobody@Elsewhere.example", start);
        let later = |seconds| start + Duration::from_secs(seconds);
        assert!(lookups.recently_not_found("nobody@elsewhere.example", later(599)));
        assert!(!lookups.recently_not_found("nobody@elsewhere.example", later(600)));
        assert!(!lookups.recently_not_found("somebody@elsewhere.example", later(1)));
    }

    #[tokio::test]
    async fn no_turn_comes_while_every_lookup_is_taken_and_one_comes_when_one_ends() {
        let lookups = MentionLookups::default();
        let patience = Duration::from_millis(20);
        let mut taken = Vec::new();
        for _ in 0..LOOKUPS_AT_ONCE {
            taken.push(lookups.turn(patience).await.expect("a free turn"));
        }
        assert!(lookups.turn(patience).await.is_none());
        taken.pop();
        assert!(lookups.turn(patience).await.is_some());
    }

    #[test]
    fn a_full_memory_makes_room_from_expired_names_only() {
        let lookups = MentionLookups::default();
        let start = Instant::now();
        for n in 0..FAILURES_KEPT {
            lookups.remember_not_found(&format!("n{n}@elsewhere.example"), start);
        }
        let soon = start + Duration::from_secs(1);
        lookups.remember_not_found("late@elsewhere.example", soon);
        assert!(!lookups.recently_not_found("late@elsewhere.example", soon));
        assert!(lookups.recently_not_found("n0@elsewhere.example", soon));

        let expired = start + FAILURE_REMEMBERED;
        lookups.remember_not_found("late@elsewhere.example", expired);
        assert!(lookups.recently_not_found("late@elsewhere.example", expired));
        assert_eq!(lookups.not_found.lock().unwrap().len(), 1);
    }
}
