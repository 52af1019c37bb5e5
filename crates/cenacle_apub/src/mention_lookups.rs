//! The instance-wide bounds on looking up the people members name (`mentions`): the lookups
//! run before the use case that stores the text checks that its member may publish there, so
//! any signed-in member can make this server ask others; this bounds what that costs.
//! Texts naming the same person at the same time share one lookup.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};
use tokio::sync::{watch, Semaphore, SemaphorePermit};

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

/// A few lookups at once, one per name, and a name that could not be found not asked for
/// again for ten minutes.
pub struct MentionLookups {
    at_once: Semaphore,
    /// Names (lower case) that could not be found, and when.
    not_found: Mutex<HashMap<String, Instant>>,
    /// Names (lower case) being looked up: each with what tells the texts waiting for that
    /// lookup whether it asked, and that it has ended (its sender goes when it does). One per
    /// lookup task running, gone with it: bounded by those tasks, which cost more.
    in_flight: Mutex<HashMap<String, watch::Receiver<bool>>>,
}

impl Default for MentionLookups {
    fn default() -> Self {
        MentionLookups {
            at_once: Semaphore::new(LOOKUPS_AT_ONCE),
            not_found: Mutex::default(),
            in_flight: Mutex::default(),
        }
    }
}

/// Who looks a name up: the first text naming it, or one naming it while that lookup runs.
pub(crate) enum Lookup<'a> {
    /// This text looks the name up; others naming it meanwhile wait for it until this ends.
    Leads(Leading<'a>),
    /// Another text is looking the name up: [`Joined::ended`] waits for it.
    Joins(Joined),
}

/// A lookup another text leads, which this one waits for.
pub(crate) struct Joined(watch::Receiver<bool>);

impl Joined {
    /// Waits until the lookup joined has ended: whether it asked the name's server (`false`:
    /// it got no turn, and this text may try for one itself).
    pub(crate) async fn ended(mut self) -> bool {
        // Errs once the leading lookup's sender has gone: its end. What it said last is
        // whether it asked.
        while self.0.changed().await.is_ok() {}
        let asked = *self.0.borrow();
        asked
    }
}

/// A lookup of a name this text leads: while it lives, texts naming the same person wait for
/// it rather than ask the other server again (issue 16: concurrent texts naming one due
/// handle each started a lookup, up to the instance's eight at once for one name).
pub(crate) struct Leading<'a> {
    lookups: &'a MentionLookups,
    name: String,
    /// Says that this lookup asks; dropped with it, telling the texts waiting that it ended.
    ends: watch::Sender<bool>,
}

impl Leading<'_> {
    /// This lookup has its turn and asks: the texts waiting for it need not.
    pub(crate) fn asks(&self) {
        self.ends.send_replace(true);
    }
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        // Only this lookup put its name there, and no other can while it runs.
        let mut in_flight = self
            .lookups
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        in_flight.remove(&self.name);
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

    /// Leads the lookup of `handle`, or joins the one running: one lookup per name at a time,
    /// whatever its case.
    pub(crate) fn lead_or_join(&self, handle: &str) -> Lookup<'_> {
        let name = handle.to_lowercase();
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(running) = in_flight.get(&name) {
            return Lookup::Joins(Joined(running.clone()));
        }
        let (ends, ended) = watch::channel(false);
        in_flight.insert(name.clone(), ended);
        Lookup::Leads(Leading {
            lookups: self,
            name,
            ends,
        })
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

    #[tokio::test]
    async fn a_name_looked_up_is_looked_up_once_at_a_time_whatever_its_case() {
        let lookups = MentionLookups::default();
        let Lookup::Leads(leading) = lookups.lead_or_join("mallory@elsewhere.example") else {
            panic!("the first text leads");
        };
        let Lookup::Joins(joined) = lookups.lead_or_join("Mallory@Elsewhere.example") else {
            panic!("a second text joins, whatever the name's case");
        };
        let other = lookups.lead_or_join("nobody@elsewhere.example");
        assert!(
            matches!(other, Lookup::Leads(_)),
            "another name is looked up at once"
        );

        let mut waiting = Box::pin(joined.ended());
        assert!(
            futures::FutureExt::now_or_never(&mut waiting).is_none(),
            "waits while the lookup runs"
        );
        leading.asks();
        assert!(
            futures::FutureExt::now_or_never(&mut waiting).is_none(),
            "and while it asks: what it stores tags the waiting text"
        );
        drop(leading);
        let asked = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the joined text learns the lookup has ended");
        assert!(asked, "and that it asked");

        let Lookup::Leads(no_turn) = lookups.lead_or_join("mallory@elsewhere.example") else {
            panic!("once ended, the next text looks the name up again");
        };
        let Lookup::Joins(joined) = lookups.lead_or_join("mallory@elsewhere.example") else {
            panic!("a second text joins");
        };
        drop(no_turn);
        assert!(
            !joined.ended().await,
            "a lookup that got no turn tells its waiters it did not ask"
        );
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
