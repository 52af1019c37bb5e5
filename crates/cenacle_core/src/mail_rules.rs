//! The rules a queued mail is held to, by kind, for the store to ask again of a mail before
//! it is tried again: when an admin puts parked mails back in line
//! (`admin::retry_parked_mails`), and when a worker claims a mail it tried before
//! (`mail::claim_mails`). What decides them lives where each kind of mail is queued; this
//! module only gathers them, importing none of the modules that queue mails (they import it).

use crate::notifications::mailed_at_once_table;
use cenacle_db::mail::StillWanted;
use cenacle_domain::{digest::Cadence, mail::MailKind};
use chrono::Duration;

/// The purposes of the tokens the account mails' links carry (`account_token.purpose`).
pub(crate) const VERIFY: &str = "verify_email";
pub(crate) const RESET: &str = "reset_password";
pub(crate) const CHANGE: &str = "change_email";

/// The mails carrying a link, and the purpose of its token (one is worth sending again only
/// while such a token is live).
pub(crate) const LINKS: [(MailKind, &str); 3] = [
    (MailKind::VerifyEmail, VERIFY),
    (MailKind::PasswordReset, RESET),
    (MailKind::ConfirmNewEmail, CHANGE),
];

/// The queue-time rules of [`crate::mail::enqueue_mail`] and the account mails, by kind, for
/// the store to check a mail against before it is tried again.
pub(crate) struct KindRules {
    always_sent: Vec<&'static str>,
    to_any_address: [&'static str; 2],
    link_kinds: Vec<&'static str>,
    link_purposes: Vec<&'static str>,
    at_once_kinds: Vec<&'static str>,
    at_once_preferences: Vec<Option<&'static str>>,
    digest_cadences: Vec<&'static str>,
    digest_deliveries: Vec<&'static str>,
    digest_periods: Vec<i64>,
}

impl KindRules {
    pub(crate) fn new() -> KindRules {
        let (at_once_kinds, at_once_preferences) = mailed_at_once_table().into_iter().unzip();
        KindRules {
            always_sent: MailKind::ALL
                .into_iter()
                .filter(|k| k.is_transactional())
                .map(MailKind::as_str)
                .collect(),
            // The confirmation goes to the new address (not the account's until confirmed),
            // the notice of the request to the old one (not the account's any more once
            // confirmed): both are still the right recipient.
            to_any_address: [
                MailKind::ConfirmNewEmail.as_str(),
                MailKind::EmailChanged.as_str(),
            ],
            link_kinds: LINKS.iter().map(|(kind, _)| kind.as_str()).collect(),
            link_purposes: LINKS.iter().map(|(_, purpose)| *purpose).collect(),
            // `notifications::notify`'s own rule, as a table: what it would mark to be mailed
            // at once today.
            at_once_kinds,
            at_once_preferences,
            // Who the digest run sends each cadence to (`Cadence::delivery`; the condition
            // itself is the store's `digests::subscribed`).
            digest_cadences: Cadence::ALL.into_iter().map(Cadence::as_str).collect(),
            digest_deliveries: Cadence::ALL.into_iter().map(Cadence::delivery).collect(),
            digest_periods: Cadence::ALL
                .into_iter()
                .map(|c| digest_period(c).num_seconds())
                .collect(),
        }
    }

    pub(crate) fn for_store(&self) -> StillWanted<'_> {
        StillWanted {
            always_sent: &self.always_sent,
            to_any_address: &self.to_any_address,
            link_kinds: &self.link_kinds,
            link_purposes: &self.link_purposes,
            notification_kind: MailKind::Notifications.as_str(),
            at_once_kinds: &self.at_once_kinds,
            at_once_preferences: &self.at_once_preferences,
            digest_kind: MailKind::Digest.as_str(),
            digest_cadences: &self.digest_cadences,
            digest_deliveries: &self.digest_deliveries,
            digest_periods: &self.digest_periods,
        }
    }
}

/// How long a digest of `cadence` is still worth sending: until the next one of its cadence
/// is due (the store's `wanted` says why an older one is dropped).
fn digest_period(cadence: Cadence) -> Duration {
    match cadence {
        Cadence::Daily => Duration::days(1),
        Cadence::Weekly => Duration::days(7),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules handed to the store pair each notification kind with its preference and
    /// each cadence with its delivery, place by place: pairs shifted or swapped would ask a
    /// parked mail another preference than the one that decided it.
    #[test]
    fn the_store_is_handed_the_rules_in_pairs() {
        let rules = KindRules::new();
        let store = rules.for_store();
        let at_once: Vec<_> = store
            .at_once_kinds
            .iter()
            .zip(store.at_once_preferences)
            .map(|(kind, stored)| (*kind, *stored))
            .collect();
        assert!(at_once.contains(&("reply", None)));
        assert!(at_once.contains(&("like", Some("email_immediate"))));
        assert!(!at_once.contains(&("like", None)));
        assert!(!at_once.contains(&("reply", Some("email_daily"))));
        let digests: Vec<_> = store
            .digest_cadences
            .iter()
            .zip(store.digest_deliveries)
            .map(|(cadence, delivery)| (*cadence, *delivery))
            .collect();
        assert_eq!(
            digests,
            [("daily", "email_daily"), ("weekly", "email_weekly")]
        );
        let periods: Vec<_> = store
            .digest_cadences
            .iter()
            .zip(store.digest_periods)
            .map(|(cadence, period)| (*cadence, *period))
            .collect();
        assert_eq!(periods, [("daily", 86_400), ("weekly", 7 * 86_400)]);
        assert_eq!(
            (store.notification_kind, store.digest_kind),
            ("notifications", "digest")
        );
    }
}
