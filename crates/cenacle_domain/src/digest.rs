//! Digests: when a member's daily or weekly summary falls due (at an hour of their local
//! time, in their time zone), which time-zone names may be chosen, and its FR/EN text.

use crate::{
    html::escape_html,
    mail::{greeting, MailContent},
    Language,
};
use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime};

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

/// The latest moment at or before `local_now` when a digest of `cadence` was due, on the
/// member's own clock: `hour`:00 of their local day (a Monday for a weekly one). Wall-clock
/// times in, wall-clock time out: which instant that is depends on the member's time zone
/// *on that day* (summer or winter), which PostgreSQL's tz database tells (see
/// `cenacle_db::digests::claim`); applying the offset of `now` to a slot on the other side of
/// a clock change would move it by an hour and owe a second digest the night clocks go back.
/// A digest is owed when this slot is later than the one the last digest was sent for.
pub fn latest_local_slot(local_now: NaiveDateTime, hour: u32, cadence: Cadence) -> NaiveDateTime {
    let at = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or_default();
    let mut slot = local_now.date().and_time(at);
    if slot > local_now {
        slot -= Duration::days(1);
    }
    if cadence == Cadence::Weekly {
        slot -= Duration::days(i64::from(slot.weekday().num_days_from_monday()));
    }
    slot
}

/// The time zone of members who set none and of an instance that names none.
pub const UTC: &str = "UTC";

/// The half- and quarter-hour offsets (minutes east of UTC) that name one place: kept all
/// year there (several places keeping the same clock all year are as good as one: `+05:30` is
/// Kolkata's and Colombo's), or used part of the year by that place alone, whose clock —
/// summer time included — is what someone who chose the offset lives by. Left out: `+10:30`,
/// Lord Howe's winter but South Australia's summer (two places). The same table as the `CASE`
/// of migration `2026-12-01-003117_digest_time_zone` (`cenacle_db`'s `time_zones` test checks
/// that they agree).
const OFFSET_PLACES: [(i32, &str); 12] = [
    (-570, "Pacific/Marquesas"),
    (-210, "America/St_Johns"),
    // Newfoundland's summer time.
    (-150, "America/St_Johns"),
    // Iran has kept +03:30 all year since 2022.
    (210, "Asia/Tehran"),
    (270, "Asia/Kabul"),
    (330, "Asia/Kolkata"),
    (345, "Asia/Kathmandu"),
    (390, "Asia/Yangon"),
    (525, "Australia/Eucla"),
    // Darwin's all year (Adelaide's only in winter).
    (570, "Australia/Darwin"),
    (765, "Pacific/Chatham"),
    // Chatham's summer time.
    (825, "Pacific/Chatham"),
];

/// The zone a fixed offset of the old settings (minutes east of UTC, −720 to +840: a member's
/// `utc_offset_minutes`, the instance's `email.default_utc_offset_minutes`) carries over to:
/// 0 → `UTC`; whole hours → `Etc/GMT∓h`, which keeps that offset all year (POSIX signs are
/// inverted: UTC+01:00 is `Etc/GMT-1`); the offsets of [`OFFSET_PLACES`] → their place. None
/// for any other: no one zone keeps it.
pub fn zone_of_utc_offset(minutes: i32) -> Option<String> {
    if !(-720..=840).contains(&minutes) {
        return None;
    }
    if minutes == 0 {
        return Some(UTC.to_owned());
    }
    if minutes % 60 == 0 {
        let sign = if minutes > 0 { '-' } else { '+' };
        return Some(format!("Etc/GMT{sign}{}", minutes.abs() / 60));
    }
    OFFSET_PLACES
        .iter()
        .find(|(m, _)| *m == minutes)
        .map(|(_, zone)| (*zone).to_owned())
}

/// Whether `name` has the shape of a time-zone name a member or the instance may choose
/// (`Europe/Paris`, `America/Argentina/Buenos_Aires`, `Etc/GMT-1`, `UTC`): checked before the
/// name reaches PostgreSQL, which alone tells whether it knows it (`pg_timezone_names`). Left
/// out: the tz database's non-zones (`localtime`, the server's own zone; `posixrules`;
/// `Factory`) and its `posix/`/`right/` copies, which would only be other spellings.
pub fn valid_time_zone_name(name: &str) -> bool {
    let shaped = !name.is_empty()
        && name.len() <= 64
        && name
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.'))
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    let odd = matches!(name, "localtime" | "posixrules" | "Factory")
        || name.starts_with("posix/")
        || name.starts_with("right/");
    shaped && !odd
}

/// Whether a zone PostgreSQL knows is offered in the account page's list: `UTC` and the
/// geographic `Area/City` names, so that a member picks a place (whose summer time follows),
/// not an offset (`Etc/GMT-1`) nor one of the old country aliases (`US/Eastern`, `Japan`).
/// Any valid name is still accepted (the API, a carried-over `Etc/GMT-1`).
pub fn offered_time_zone(name: &str) -> bool {
    const AREAS: [&str; 10] = [
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    ];
    let by_place = name
        .split_once('/')
        .is_some_and(|(area, _)| AREAS.contains(&area));
    name == UTC || (by_place && valid_time_zone_name(name))
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

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|day| day.and_hms_opt(h, min, 0))
            .unwrap()
    }

    #[test]
    fn the_daily_slot_is_the_latest_local_hour_passed() {
        // 08:30 local: today's 08:00.
        assert_eq!(
            latest_local_slot(at(2026, 12, 2, 8, 30), 8, Cadence::Daily),
            at(2026, 12, 2, 8, 0)
        );
        // 08:00 sharp is due; 07:59 is still yesterday's.
        assert_eq!(
            latest_local_slot(at(2026, 12, 2, 8, 0), 8, Cadence::Daily),
            at(2026, 12, 2, 8, 0)
        );
        assert_eq!(
            latest_local_slot(at(2026, 12, 2, 7, 59), 8, Cadence::Daily),
            at(2026, 12, 1, 8, 0)
        );
        // Over a month's end.
        assert_eq!(
            latest_local_slot(at(2027, 3, 1, 2, 30), 8, Cadence::Daily),
            at(2027, 2, 28, 8, 0)
        );
    }

    #[test]
    fn the_weekly_slot_is_on_a_monday() {
        // Wednesday 2026-12-02: the Monday before.
        let slot = latest_local_slot(at(2026, 12, 2, 10, 0), 8, Cadence::Weekly);
        assert_eq!(slot, at(2026, 11, 30, 8, 0));
        // Monday 07:00, before the hour: the Monday before.
        let slot = latest_local_slot(at(2026, 11, 30, 7, 0), 8, Cadence::Weekly);
        assert_eq!(slot, at(2026, 11, 23, 8, 0));
    }

    #[test]
    fn the_slot_is_on_the_wall_clock_whatever_the_season() {
        // The night the clocks go back in Paris (2030-10-27, 03:00 CEST → 02:00 CET): at
        // 02:30 local the latest slot is still Saturday's 08:00, the one already handled.
        // An offset fed in (the old `latest_slot(now, offset, …)`) could only name that
        // Saturday 08:00 at today's offset, an hour after the instant it was handled at.
        assert_eq!(
            latest_local_slot(at(2030, 10, 27, 2, 30), 8, Cadence::Daily),
            at(2030, 10, 26, 8, 0)
        );
        assert_eq!(
            latest_local_slot(at(2030, 7, 15, 8, 0), 8, Cadence::Daily),
            at(2030, 7, 15, 8, 0)
        );
    }

    #[test]
    fn time_zone_names_are_checked_for_shape_and_offered_by_place() {
        for good in [
            "Europe/Paris",
            "America/Montreal",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT-1",
            "Etc/GMT+10",
            "UTC",
            "America/Port-au-Prince",
        ] {
            assert!(valid_time_zone_name(good), "{good}");
        }
        for bad in [
            "",
            "localtime",
            "posixrules",
            "Factory",
            "posix/Europe/Paris",
            "right/UTC",
            "../etc/passwd",
            "Europe/../Paris",
            "/Europe/Paris",
            "Europe//Paris",
            "Europe/Paris ",
            "Europe/Paris'; --",
            &"A".repeat(65),
        ] {
            assert!(!valid_time_zone_name(bad), "{bad:?}");
        }
        for offered in ["Europe/Paris", "America/Argentina/Buenos_Aires", "UTC"] {
            assert!(offered_time_zone(offered), "{offered}");
        }
        for not_offered in [
            "Etc/GMT-1",
            "US/Eastern",
            "Japan",
            "EST5EDT",
            "posix/Europe/Paris",
        ] {
            assert!(!offered_time_zone(not_offered), "{not_offered}");
        }
    }

    #[test]
    fn old_offsets_carry_over_to_the_zone_that_keeps_them() {
        for (minutes, zone) in [
            (0, Some("UTC")),
            (60, Some("Etc/GMT-1")),
            (-300, Some("Etc/GMT+5")),
            (840, Some("Etc/GMT-14")),
            (-720, Some("Etc/GMT+12")),
            (210, Some("Asia/Tehran")),
            (-210, Some("America/St_Johns")),
            (-150, Some("America/St_Johns")),
            (330, Some("Asia/Kolkata")),
            (825, Some("Pacific/Chatham")),
            (630, None),
            (90, None),
            (7, None),
            (900, None),
            (-780, None),
        ] {
            assert_eq!(zone_of_utc_offset(minutes).as_deref(), zone, "{minutes}");
        }
        assert!(OFFSET_PLACES
            .iter()
            .all(|(m, z)| m % 60 != 0 && valid_time_zone_name(z)));
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
