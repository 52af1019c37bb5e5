//! What a member is told about, and how they want to hear it: the kinds of notification, the
//! delivery each kind may be set to, and who must never be told.

use crate::ValidationError;
use std::str::FromStr;

/// Every kind of notification. The stable names are the API's, the preferences' and the
/// database's (a CHECK lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Someone answered my question or replied to my post or comment.
    Reply,
    /// My answer was accepted.
    AnswerAccepted,
    /// People liked my post or comment (one unread row per piece of content, counting them).
    Like,
    /// An idea I posted or voted for changed status.
    IdeaStatus,
    /// I was awarded a badge.
    BadgeAwarded,
    /// My request to join a private group was approved or declined.
    JoinRequest,
    /// A moderator removed or restored my content, or closed my report.
    Moderation,
    /// My question has answers and none accepted for a while.
    AcceptReminder,
    /// My answer won a bounty (awarded by its sponsor, or half of it when it ran out).
    BountyWon,
    /// A contest closed with me among its winners.
    ContestResult,
    /// Someone mentioned me (`@me`) in a post or comment.
    Mention,
    /// A community manager took a step of the champions programme for me: invited me,
    /// published a charter I must accept, renewed, removed or did not renew me.
    Champion,
    /// I reached a higher rank (told once per rank, never of a rank lost).
    RankReached,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::Reply,
        Kind::AnswerAccepted,
        Kind::Like,
        Kind::IdeaStatus,
        Kind::BadgeAwarded,
        Kind::JoinRequest,
        Kind::Moderation,
        Kind::AcceptReminder,
        Kind::BountyWon,
        Kind::ContestResult,
        Kind::Mention,
        Kind::Champion,
        Kind::RankReached,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reply => "reply",
            Kind::AnswerAccepted => "answer_accepted",
            Kind::Like => "like",
            Kind::IdeaStatus => "idea_status",
            Kind::BadgeAwarded => "badge_awarded",
            Kind::JoinRequest => "join_request",
            Kind::Moderation => "moderation",
            Kind::AcceptReminder => "accept_reminder",
            Kind::BountyWon => "bounty_won",
            Kind::ContestResult => "contest_result",
            Kind::Mention => "mention",
            Kind::Champion => "champion",
            Kind::RankReached => "rank_reached",
        }
    }

    /// Kinds folded into one unread row per object (its actors counted) instead of one row
    /// each: a popular answer gives "12 people liked it", not twelve lines.
    pub fn grouped(self) -> bool {
        self == Kind::Like
    }

    /// The delivery of a kind the member never set. What is addressed to them alone and
    /// rare (a reply to them, their answer accepted, a join request's decision, a moderator's
    /// decision on their content or report, a bounty or a contest won, a mention, a step of
    /// the champions programme) is mailed at once: that is what brings them back.
    /// Frequent or self-paced news (likes, idea statuses, badges, ranks, the accept reminder)
    /// stays in the app unless they ask.
    pub fn default_delivery(self) -> Delivery {
        match self {
            Kind::Reply
            | Kind::AnswerAccepted
            | Kind::JoinRequest
            | Kind::Moderation
            | Kind::BountyWon
            | Kind::ContestResult
            | Kind::Mention
            | Kind::Champion => Delivery::EmailImmediate,
            Kind::Like
            | Kind::IdeaStatus
            | Kind::BadgeAwarded
            | Kind::AcceptReminder
            | Kind::RankReached => Delivery::InApp,
        }
    }
}

impl FromStr for Kind {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(ValidationError {
                field: "kind",
                code: "unknown_notification_kind",
            })
    }
}

/// How a member wants to hear of one kind. Only `Off` changes what is stored here: the other
/// values all create the in-app notification; the e-mail ones are read by the mail queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    #[default]
    InApp,
    EmailImmediate,
    EmailDaily,
    EmailWeekly,
    Off,
}

impl Delivery {
    pub const ALL: [Delivery; 5] = [
        Delivery::InApp,
        Delivery::EmailImmediate,
        Delivery::EmailDaily,
        Delivery::EmailWeekly,
        Delivery::Off,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::InApp => "in_app",
            Delivery::EmailImmediate => "email_immediate",
            Delivery::EmailDaily => "email_daily",
            Delivery::EmailWeekly => "email_weekly",
            Delivery::Off => "off",
        }
    }

    /// Whether a notification of a kind set so is created at all.
    pub fn creates(self) -> bool {
        self != Delivery::Off
    }

    /// When a notification of a kind set so is mailed: at once, in the daily or the weekly
    /// digest, or never (the stored word of `notification.mail_due`).
    pub fn mail_cadence(self) -> Option<&'static str> {
        match self {
            Delivery::EmailImmediate => Some("immediate"),
            Delivery::EmailDaily => Some("daily"),
            Delivery::EmailWeekly => Some("weekly"),
            Delivery::InApp | Delivery::Off => None,
        }
    }
}

impl FromStr for Delivery {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Delivery::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or(ValidationError {
                field: "delivery",
                code: "unknown_notification_delivery",
            })
    }
}

/// Who a notification goes to and what it is about, as far as the rules need to know.
#[derive(Debug, Clone, Copy)]
pub struct Audience {
    /// The recipient is one of our members (remote people are told by their own server).
    pub recipient_local: bool,
    /// The recipient is the person who acted.
    pub recipient_is_actor: bool,
    /// The content is in a private group.
    pub private_group: bool,
    /// The recipient belongs to that group.
    pub recipient_member: bool,
}

/// Whether a notification may be created at all: never of one's own action, never for a
/// remote person, never revealing a private group's content to someone outside it.
pub fn may_notify(a: Audience) -> bool {
    a.recipient_local && !a.recipient_is_actor && (!a.private_group || a.recipient_member)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audience() -> Audience {
        Audience {
            recipient_local: true,
            recipient_is_actor: false,
            private_group: false,
            recipient_member: false,
        }
    }

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        }
        for d in Delivery::ALL {
            assert_eq!(d.as_str().parse::<Delivery>().unwrap(), d);
        }
        assert!("nope".parse::<Kind>().is_err());
        assert!("email".parse::<Delivery>().is_err());
    }

    #[test]
    fn only_off_suppresses() {
        assert!(!Delivery::Off.creates());
        assert!(Delivery::EmailWeekly.creates());
        assert_eq!(Delivery::default(), Delivery::InApp);
    }

    #[test]
    fn replies_are_mailed_at_once_by_default_likes_are_not() {
        assert_eq!(Kind::Reply.default_delivery(), Delivery::EmailImmediate);
        assert_eq!(Kind::Like.default_delivery(), Delivery::InApp);
        assert_eq!(Delivery::EmailImmediate.mail_cadence(), Some("immediate"));
        assert_eq!(Delivery::EmailWeekly.mail_cadence(), Some("weekly"));
        assert_eq!(Delivery::InApp.mail_cadence(), None);
    }

    #[test]
    fn nobody_is_told_of_their_own_action_nor_remote_people() {
        assert!(may_notify(audience()));
        assert!(!may_notify(Audience {
            recipient_is_actor: true,
            ..audience()
        }));
        assert!(!may_notify(Audience {
            recipient_local: false,
            ..audience()
        }));
    }

    #[test]
    fn private_content_only_to_members() {
        let private = Audience {
            private_group: true,
            ..audience()
        };
        assert!(!may_notify(private));
        assert!(may_notify(Audience {
            recipient_member: true,
            ..private
        }));
    }
}
