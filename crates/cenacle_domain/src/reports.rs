//! Reports: the reasons a group offers, what a report may say, and the refusals of the
//! report and group-ban use cases (with their stable codes).

use crate::ValidationError;

/// The reasons every group offers until its moderators set their own list: (code, English
/// label, French label).
pub const DEFAULT_REASONS: [(&str, &str, &str); 5] = [
    ("spam", "Spam or advertising", "Spam ou publicité"),
    ("harassment", "Harassment or hate", "Harcèlement ou haine"),
    (
        "off_topic",
        "Off-topic for this group",
        "Hors sujet pour ce groupe",
    ),
    ("illegal", "Illegal content", "Contenu illégal"),
    ("other", "Something else", "Autre chose"),
];

/// The reason of a report that came from another server: its text is free, so it is kept
/// as the report's text under this code.
pub const REMOTE_REASON: &str = "other";

/// Longest free text of a report (the column's check says the same).
pub const MAX_REPORT_TEXT: usize = 5000;
/// Most reasons a group may list.
pub const MAX_REASONS: usize = 30;

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    Open,
    /// A moderator acted on it (removed the content, banned the person…).
    Resolved,
    /// A moderator found nothing to act on.
    Dismissed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Open => "open",
            ReportStatus::Resolved => "resolved",
            ReportStatus::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<ReportStatus> {
        Some(match s {
            "open" => ReportStatus::Open,
            "resolved" => ReportStatus::Resolved,
            "dismissed" => ReportStatus::Dismissed,
            _ => return None,
        })
    }
}

/// Why a report or a ban is refused; each has a stable code the API answers with (and the
/// inbox logs when it acknowledges an activity it does not apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationRefusal {
    /// The reason code is not in the group's list.
    UnknownReportReason,
    /// The report was already resolved or dismissed.
    ReportClosed,
    /// The person is banned from the group (until the ban ends).
    BannedFromGroup,
    /// A group's moderators (and its owner) cannot be banned from it.
    CannotBanModerator,
    /// There is no ban in force to lift.
    NotBanned,
    /// A post cannot be put in a group on its author's behalf (a moderator's approval of their
    /// held post, a champion's move of it) while they are banned from the group or from the
    /// instance.
    AuthorBanned,
    /// A person banned from the group or from the instance is not let in, nor raised, on
    /// anyone's say while the ban lasts: a moderator neither approves their request to join,
    /// nor invites them, nor gives them a role that lets them in or raises them (lowering a
    /// banned moderator goes on), nor does a remote moderator's `Add` list them among a group
    /// of ours' moderators (their own join, request and use of an invitation are
    /// `BannedFromGroup`, or banned from the instance).
    PersonBanned,
}

impl ModerationRefusal {
    pub const ALL: [ModerationRefusal; 7] = [
        ModerationRefusal::UnknownReportReason,
        ModerationRefusal::ReportClosed,
        ModerationRefusal::BannedFromGroup,
        ModerationRefusal::CannotBanModerator,
        ModerationRefusal::NotBanned,
        ModerationRefusal::AuthorBanned,
        ModerationRefusal::PersonBanned,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ModerationRefusal::UnknownReportReason => "unknown_report_reason",
            ModerationRefusal::ReportClosed => "report_closed",
            ModerationRefusal::BannedFromGroup => "banned_from_group",
            ModerationRefusal::CannotBanModerator => "cannot_ban_moderator",
            ModerationRefusal::NotBanned => "not_banned",
            ModerationRefusal::AuthorBanned => "author_banned",
            ModerationRefusal::PersonBanned => "person_banned",
        }
    }

    /// Invalid input (422), a conflict with the current state (409) or not allowed (403).
    pub fn status(self) -> u16 {
        match self {
            ModerationRefusal::UnknownReportReason => 422,
            ModerationRefusal::ReportClosed
            | ModerationRefusal::NotBanned
            | ModerationRefusal::AuthorBanned
            | ModerationRefusal::PersonBanned => 409,
            ModerationRefusal::BannedFromGroup | ModerationRefusal::CannotBanModerator => 403,
        }
    }
}

/// The reason codes a group offers: its own list, or the defaults when it has none.
pub fn offered_codes(own: &[String]) -> Vec<String> {
    if own.is_empty() {
        DEFAULT_REASONS.iter().map(|r| r.0.to_owned()).collect()
    } else {
        own.to_vec()
    }
}

/// A member's report: its reason must be one the group offers, its text bounded.
pub fn check_report(code: &str, text: &str, offered: &[String]) -> Result<(), ReportError> {
    if !offered.iter().any(|c| c == code) {
        return Err(ReportError::Refused(ModerationRefusal::UnknownReportReason));
    }
    if text.chars().count() > MAX_REPORT_TEXT {
        return Err(ReportError::Invalid(ValidationError {
            field: "text",
            code: "too_long",
        }));
    }
    Ok(())
}

/// A report refused: by the moderation rules, or as malformed input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    Refused(ModerationRefusal),
    Invalid(ValidationError),
}

/// Whether `code` may name a reason: lowercase ASCII letters, digits and `_`, starting with a
/// letter, at most 40 characters (the column's check says the same).
pub fn is_reason_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && code.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A group's new list of reasons: (code, label) pairs, codes well-formed and distinct, labels
/// 1 to 200 characters, at least one and at most [`MAX_REASONS`].
pub fn validate_reason_list(list: &[(String, String)]) -> Result<(), ValidationError> {
    let invalid = |code| ValidationError {
        field: "reasons",
        code,
    };
    if list.is_empty() || list.len() > MAX_REASONS {
        return Err(invalid("count"));
    }
    for (i, (code, label)) in list.iter().enumerate() {
        if !is_reason_code(code) {
            return Err(invalid("code"));
        }
        if list[..i].iter().any(|(c, _)| c == code) {
            return Err(invalid("duplicate"));
        }
        let len = label.trim().chars().count();
        if len == 0 || len > 200 {
            return Err(invalid("label"));
        }
    }
    Ok(())
}

/// The reason code and text of a report that came from another server: Lemmy sends its
/// reason in `summary`, Mastodon its comment in `content`. A text that starts with one of the
/// group's codes (another Cénacle sends `code` or `code: text`, see [`outgoing_reason`]) keeps
/// it; anything else is "other" with the whole text.
pub fn incoming_reason(text: &str, offered: &[String]) -> (String, String) {
    let trimmed = text.trim();
    let (head, rest) = match trimmed.split_once(':') {
        Some((head, rest)) => (head, rest.trim()),
        None => (trimmed, ""),
    };
    let cut = |s: &str| s.chars().take(MAX_REPORT_TEXT).collect::<String>();
    match offered.iter().find(|c| c.as_str() == head) {
        Some(code) => (code.clone(), cut(rest)),
        None => (REMOTE_REASON.to_owned(), cut(trimmed)),
    }
}

/// The text of the `Flag` we send: the reason code, then the reporter's text, so that Lemmy
/// and Mastodon moderators read both (`summary` / `content`), and another Cénacle reads the
/// code back with [`incoming_reason`] when there is no text.
pub fn outgoing_reason(code: &str, text: &str) -> String {
    if text.trim().is_empty() {
        code.to_owned()
    } else {
        format!("{code}: {}", text.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<String> {
        offered_codes(&[])
    }

    #[test]
    fn a_group_without_its_own_list_offers_the_defaults() {
        assert_eq!(
            defaults(),
            ["spam", "harassment", "off_topic", "illegal", "other"]
        );
        assert_eq!(offered_codes(&["rude".into()]), ["rude"]);
    }

    #[test]
    fn a_report_needs_an_offered_reason_and_bounded_text() {
        assert_eq!(check_report("spam", "buy now", &defaults()), Ok(()));
        assert_eq!(
            check_report("boring", "", &defaults()),
            Err(ReportError::Refused(ModerationRefusal::UnknownReportReason))
        );
        assert!(matches!(
            check_report("spam", &"x".repeat(MAX_REPORT_TEXT + 1), &defaults()),
            Err(ReportError::Invalid(_))
        ));
    }

    #[test]
    fn reason_lists_are_checked() {
        let ok = vec![("spam".to_owned(), "Spam".to_owned())];
        assert!(validate_reason_list(&ok).is_ok());
        assert!(validate_reason_list(&[]).is_err());
        let bad_code = vec![("Spam!".to_owned(), "Spam".to_owned())];
        assert_eq!(validate_reason_list(&bad_code).unwrap_err().code, "code");
        let dup = vec![
            ("spam".to_owned(), "Spam".to_owned()),
            ("spam".to_owned(), "Again".to_owned()),
        ];
        assert_eq!(validate_reason_list(&dup).unwrap_err().code, "duplicate");
        let blank = vec![("spam".to_owned(), "  ".to_owned())];
        assert_eq!(validate_reason_list(&blank).unwrap_err().code, "label");
    }

    #[test]
    fn reasons_travel_as_text_and_come_back_as_codes() {
        assert_eq!(outgoing_reason("spam", ""), "spam");
        assert_eq!(outgoing_reason("spam", " ads "), "spam: ads");
        assert_eq!(
            incoming_reason("spam", &defaults()),
            ("spam".into(), String::new())
        );
        assert_eq!(
            incoming_reason(&outgoing_reason("spam", "ads"), &defaults()),
            ("spam".into(), "ads".into())
        );
        assert_eq!(
            incoming_reason("Ce message est une arnaque", &defaults()),
            ("other".into(), "Ce message est une arnaque".into())
        );
        assert_eq!(
            incoming_reason("Attention : arnaque", &defaults()),
            ("other".into(), "Attention : arnaque".into())
        );
    }

    #[test]
    fn every_refusal_has_a_distinct_code() {
        let mut codes: Vec<_> = ModerationRefusal::ALL.iter().map(|r| r.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ModerationRefusal::ALL.len());
        assert_eq!(ModerationRefusal::UnknownReportReason.status(), 422);
    }
}
