//! Bounties' rules that need nothing stored: why a step is refused, and what becomes of a
//! running bounty whose question goes.

use chrono::{DateTime, Utc};

/// Why a bounty step is refused — one reason so far: a stable code for the API (with its
/// English and French messages there), a conflict with the question's state (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.code())]
pub enum BountyRefusal {
    /// A bounty runs on the question — open: neither awarded nor settled, even past its end
    /// while the settler has not run yet. No second one can be offered, and neither the
    /// question's author nor the bounty's sponsor can take it down (its author's deletion, as
    /// on Stack Overflow; their deletion or removal as a moderator): a take-down would hand
    /// the whole escrow back to the sponsor and let an author-sponsor escape the lapse rule, or
    /// a sponsor who moderates take their escrow back. `post_id` names the question: a ban
    /// that removes someone's content may take down many, and the moderator needs to know
    /// which one holds it back.
    Running { post_id: i64 },
}

impl BountyRefusal {
    /// One refusal of each kind (their questions made up), for the tests that check every
    /// code is listed and mapped.
    pub const ALL: [BountyRefusal; 1] = [BountyRefusal::Running { post_id: 1 }];

    pub fn code(self) -> &'static str {
        match self {
            BountyRefusal::Running { .. } => "bounty_running",
        }
    }

    /// The question the refusal is about.
    pub fn post_id(self) -> i64 {
        match self {
            BountyRefusal::Running { post_id } => post_id,
        }
    }
}

/// What becomes of a running bounty whose question went (deleted or removed, by whoever) at
/// `gone_at`: cancelled and its escrow refunded when the question went before the end
/// (`true`) — nobody could answer it any more —; otherwise its time was up first, and the
/// lapse rule settles it when the settler runs, as any other (`false`).
pub fn refunded_when_gone(ends_at: DateTime<Utc>, gone_at: DateTime<Utc>) -> bool {
    gone_at < ends_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_question_gone_before_the_end_refunds_and_after_it_leaves_the_lapse_rule() {
        let end = Utc::now();
        assert!(refunded_when_gone(end, end - Duration::seconds(1)));
        // At the end exactly, the time is up (the settler takes bounties with `ends_at <= now`).
        assert!(!refunded_when_gone(end, end));
        assert!(!refunded_when_gone(end, end + Duration::hours(1)));
    }

    #[test]
    fn every_refusal_has_its_code() {
        assert_eq!(
            BountyRefusal::Running { post_id: 1 }.code(),
            "bounty_running"
        );
        assert_eq!(BountyRefusal::Running { post_id: 7 }.post_id(), 7);
    }
}
