//! Digests: when a member's daily or weekly summary falls due (at an hour of their local
//! time), and its FR/EN text.

use crate::{
    mail::{escape_html, greeting, MailContent},
    Language,
};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};

/// How often a member wants their summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Daily,
    /// On Mondays.
    Weekly,
}

impl Cadence {
    pub const ALL: [Cadence; 2] = [Cadence::Daily, Cadence::Weekly];

    /// The stored word (`notification.mail_due`, `digest_sent.cadence`).
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
        }
    }

    /// The notification delivery that puts a kind in this digest.
    pub fn delivery(self) -> &'static str {
        match self {
            Cadence::Daily => "email_daily",
            Cadence::Weekly => "email_weekly",
        }
    }
}

/// The latest moment at or before `now` when a digest of `cadence` was due for a member
/// `utc_offset_minutes` from UTC: `hour`:00 of their local day (a Monday for a weekly one).
/// A digest is owed when this moment is later than the one the last digest was sent for.
pub fn latest_slot(
    now: DateTime<Utc>,
    utc_offset_minutes: i32,
    hour: u32,
    cadence: Cadence,
) -> DateTime<Utc> {
    let offset = Duration::minutes(i64::from(utc_offset_minutes));
    let local = (now + offset).naive_utc();
    let at = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or_default();
    let mut slot = local.date().and_time(at);
    if slot > local {
        slot -= Duration::days(1);
    }
    if cadence == Cadence::Weekly {
        slot -= Duration::days(i64::from(slot.weekday().num_days_from_monday()));
    }
    slot.and_utc() - offset
}

/// A UTC offset a member may set, in minutes (UTC−12:00 to UTC+14:00).
pub fn valid_utc_offset(minutes: i32) -> bool {
    (-720..=840).contains(&minutes)
}

/// What a digest holds, each line already written in the member's language; each section's
/// item is (text, link).
#[derive(Debug, Default, Clone)]
pub struct DigestContent {
    pub notifications: Vec<(String, String)>,
    pub new_answers: Vec<(String, String)>,
    pub unanswered: Vec<(String, String)>,
    pub top_ideas: Vec<(String, String)>,
}

impl DigestContent {
    pub fn is_empty(&self) -> bool {
        self.notifications.is_empty()
            && self.new_answers.is_empty()
            && self.unanswered.is_empty()
            && self.top_ideas.is_empty()
    }
}

/// The digest mail.
pub fn digest_mail(
    language: Language,
    instance: &str,
    username: &str,
    cadence: Cadence,
    content: &DigestContent,
) -> MailContent {
    let fr = language == Language::Fr;
    let subject = match (cadence, fr) {
        (Cadence::Daily, true) => format!("Votre résumé du jour sur {instance}"),
        (Cadence::Daily, false) => format!("Your daily summary on {instance}"),
        (Cadence::Weekly, true) => format!("Votre résumé de la semaine sur {instance}"),
        (Cadence::Weekly, false) => format!("Your weekly summary on {instance}"),
    };
    let sections = [
        (
            &content.notifications,
            if fr { "Pour vous" } else { "For you" },
        ),
        (
            &content.new_answers,
            if fr {
                "Nouvelles réponses dans vos groupes"
            } else {
                "New answers in your groups"
            },
        ),
        (
            &content.unanswered,
            if fr {
                "Questions qui attendent une réponse"
            } else {
                "Questions waiting for an answer"
            },
        ),
        (
            &content.top_ideas,
            if fr { "Idées en vue" } else { "Top ideas" },
        ),
    ];
    let hello = greeting(username, language);
    let mut text = format!("{hello}\n\n");
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body>\n<p>{}</p>\n",
        escape_html(&hello)
    );
    for (items, heading) in sections {
        if items.is_empty() {
            continue;
        }
        text.push_str(&format!("## {heading}\n"));
        html.push_str(&format!("<h2>{}</h2>\n<ul>\n", escape_html(heading)));
        for (line, link) in items {
            text.push_str(&format!("- {line}\n  {link}\n"));
            html.push_str(&format!(
                "<li><a href=\"{}\">{}</a></li>\n",
                escape_html(link),
                escape_html(line)
            ));
        }
        text.push('\n');
        html.push_str("</ul>\n");
    }
    let footer = if fr {
        format!("{instance} — vous recevez ce résumé selon vos préférences de notification.")
    } else {
        format!("{instance} — you receive this summary by your notification preferences.")
    };
    text.push_str(&format!("-- \n{footer}\n"));
    html.push_str(&format!(
        "<hr>\n<p><small>{}</small></p>\n</body></html>\n",
        escape_html(&footer)
    ));
    MailContent {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn the_daily_slot_is_the_latest_local_hour_passed() {
        // 2026-12-02 07:30 UTC, a member at UTC+1: 08:30 local, so today's 08:00 (07:00 UTC).
        assert_eq!(
            latest_slot(at(2026, 12, 2, 7, 30), 60, 8, Cadence::Daily),
            at(2026, 12, 2, 7, 0)
        );
        // A member at UTC−5: 02:30 local, so yesterday's 08:00 (13:00 UTC yesterday).
        assert_eq!(
            latest_slot(at(2026, 12, 2, 7, 30), -300, 8, Cadence::Daily),
            at(2026, 12, 1, 13, 0)
        );
    }

    #[test]
    fn the_weekly_slot_is_on_a_monday() {
        // Wednesday 2026-12-02: the Monday before, 2026-11-30 08:00 UTC.
        let slot = latest_slot(at(2026, 12, 2, 10, 0), 0, 8, Cadence::Weekly);
        assert_eq!(slot, at(2026, 11, 30, 8, 0));
        // Monday 07:00, before the hour: the Monday before.
        let slot = latest_slot(at(2026, 11, 30, 7, 0), 0, 8, Cadence::Weekly);
        assert_eq!(slot, at(2026, 11, 23, 8, 0));
    }

    #[test]
    fn offsets_are_bounded() {
        assert!(valid_utc_offset(-720) && valid_utc_offset(840) && valid_utc_offset(0));
        assert!(!valid_utc_offset(841) && !valid_utc_offset(-721));
    }

    #[test]
    fn the_digest_lists_only_its_filled_sections_escaped() {
        let content = DigestContent {
            unanswered: vec![("Why <b>?".into(), "https://x/posts/1".into())],
            ..Default::default()
        };
        assert!(!content.is_empty());
        let mail = digest_mail(Language::Fr, "C", "ana", Cadence::Daily, &content);
        assert!(mail.subject.contains("résumé du jour"));
        assert!(mail.text.contains("Questions qui attendent"));
        assert!(!mail.text.contains("Pour vous"));
        assert!(mail.html.contains("Why &lt;b&gt;?"));
        assert!(DigestContent::default().is_empty());
    }
}
