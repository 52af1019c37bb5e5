//! Rules of the community managers' insights (issue 12): which period a report may cover, and
//! which requests count as a view of a post.

use crate::boards::is_board_day;
use chrono::NaiveDate;

/// The longest period a member's statistics, a shortlist or the alerts may cover: two years
/// (a longer one sums more days than a request should, and says little about today's
/// community).
pub const MAX_PERIOD_DAYS: i64 = 731;

/// Why a period [from, to) is refused; each is a stable `reason` of a 422.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodError {
    /// `to` is not after `from`.
    NotAfterFrom,
    /// More than [`MAX_PERIOD_DAYS`].
    TooLong,
    /// A day outside what dates can hold (before 1970 or after 9999).
    OutOfRange,
}

impl PeriodError {
    pub fn code(self) -> &'static str {
        match self {
            PeriodError::NotAfterFrom => "not_after_from",
            PeriodError::TooLong => "range_too_long",
            PeriodError::OutOfRange => "out_of_range",
        }
    }
}

/// Checks the UTC days [from, to) of a report.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> Result<(), PeriodError> {
    if !is_board_day(from) || !is_board_day(to) {
        return Err(PeriodError::OutOfRange);
    }
    let days = (to - from).num_days();
    if days <= 0 {
        Err(PeriodError::NotAfterFrom)
    } else if days > MAX_PERIOD_DAYS {
        Err(PeriodError::TooLong)
    } else {
        Ok(())
    }
}

/// Pieces of a `User-Agent` (compared in lower case) that mark a robot: search engines and
/// crawlers ("bot", "crawler", "spider", "slurp"), link previews ("preview", "embed",
/// "facebookexternalhit", "whatsapp", "slackbot", "discordbot"), scripts and tools ("curl",
/// "wget", "python-", "go-http-client", "java/", "okhttp", "libwww", "httpclient",
/// "headless"), monitors ("monitor", "uptime", "pingdom") and fediverse servers fetching a
/// link ("mastodon", "pleroma", "akkoma", "misskey", "lemmy", "http.rb"). A view by any of
/// them is not counted; nor is one without a user agent (browsers and apps always send one).
pub const BOT_USER_AGENT_MARKERS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "slurp",
    "preview",
    "embed",
    "facebookexternalhit",
    "whatsapp",
    "curl",
    "wget",
    "python-",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "headless",
    "monitor",
    "uptime",
    "pingdom",
    "mastodon",
    "pleroma",
    "akkoma",
    "misskey",
    "lemmy",
    "http.rb",
];

/// Whether a request with this `User-Agent` is a robot's, whose views are not counted.
pub fn is_bot(user_agent: Option<&str>) -> bool {
    match user_agent.map(str::trim) {
        None | Some("") => true,
        Some(agent) => {
            let agent = agent.to_ascii_lowercase();
            BOT_USER_AGENT_MARKERS.iter().any(|m| agent.contains(m))
        }
    }
}

/// The Monday of the ISO week holding `day` (the activity trend is weekly).
pub fn week_start(day: NaiveDate) -> NaiveDate {
    use chrono::Datelike;
    day - chrono::Days::new(u64::from(day.weekday().num_days_from_monday()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_period_must_move_forward_and_stay_within_two_years() {
        assert_eq!(check_period(d(2026, 1, 1), d(2026, 4, 1)), Ok(()));
        assert_eq!(check_period(d(2025, 1, 1), d(2027, 1, 1)), Ok(()));
        assert_eq!(
            check_period(d(2026, 4, 1), d(2026, 1, 1)),
            Err(PeriodError::NotAfterFrom)
        );
        assert_eq!(
            check_period(d(2026, 4, 1), d(2026, 4, 1)),
            Err(PeriodError::NotAfterFrom)
        );
        assert_eq!(
            check_period(d(2020, 1, 1), d(2026, 1, 1)),
            Err(PeriodError::TooLong)
        );
        assert_eq!(
            check_period(NaiveDate::MIN, d(2026, 1, 1)),
            Err(PeriodError::OutOfRange)
        );
    }

    #[test]
    fn robots_and_silent_clients_are_not_viewers() {
        assert!(is_bot(Some(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
        )));
        assert!(is_bot(Some("curl/8.5.0")));
        assert!(is_bot(Some(
            "Mastodon/4.3.0 (http.rb/5.2.0; +https://example.social/)"
        )));
        assert!(is_bot(None));
        assert!(is_bot(Some("  ")));
        assert!(!is_bot(Some(
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
        )));
        assert!(!is_bot(Some("Cenacle-App/1.2 (Android 15)")));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-30 is a Monday, 2026-12-06 a Sunday.
        assert_eq!(week_start(d(2026, 11, 30)), d(2026, 11, 30));
        assert_eq!(week_start(d(2026, 12, 6)), d(2026, 11, 30));
    }
}
