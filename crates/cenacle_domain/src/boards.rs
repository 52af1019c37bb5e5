//! Leaderboard periods: calendar weeks (ISO, from Monday), months and years in UTC, and all
//! time. A board over a calendar period keeps its totals as they come (one row per person,
//! ranked by an index); a sliding "last seven days" would have to be summed again at every
//! request. The UTC day is the ledger's day, as for the daily cap.

use chrono::{Datelike, Duration, NaiveDate};

/// The longest custom board, in days: custom boards add up one row per person and day, so
/// their cost grows with their length. Longer spans use the week, month, year or all-time
/// boards, which read one row per person.
pub const CUSTOM_MAX_DAYS: i64 = 31;

/// A calendar period a board covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardPeriod {
    Week,
    Month,
    Year,
    All,
}

impl BoardPeriod {
    pub const ALL: [BoardPeriod; 4] = [Self::Week, Self::Month, Self::Year, Self::All];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// As stored in `reputation_board.period`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
            Self::All => "all",
        }
    }

    /// The first day of the period holding `day` (the same rule as the database's
    /// `reputation_board_start`), and the first day after it; None for all time.
    pub fn bounds(self, day: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let first_of_month = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1);
        match self {
            Self::Week => {
                let start = day.checked_sub_signed(Duration::days(i64::from(
                    day.weekday().num_days_from_monday(),
                )))?;
                Some((start, start.checked_add_signed(Duration::days(7))?))
            }
            Self::Month => {
                let start = first_of_month(day.year(), day.month())?;
                let next = if day.month() == 12 {
                    first_of_month(day.year() + 1, 1)?
                } else {
                    first_of_month(day.year(), day.month() + 1)?
                };
                Some((start, next))
            }
            Self::Year => Some((
                first_of_month(day.year(), 1)?,
                first_of_month(day.year() + 1, 1)?,
            )),
            Self::All => None,
        }
    }
}

/// Whether a board may be asked about `day`: from 1970 (nothing was earned before) to the
/// year 9999 (PostgreSQL's dates and ours agree there, and no period arithmetic overflows).
pub fn is_board_day(day: NaiveDate) -> bool {
    NaiveDate::from_ymd_opt(1970, 1, 1).is_some_and(|first| day >= first)
        && NaiveDate::from_ymd_opt(9999, 12, 31).is_some_and(|last| day <= last)
}

/// Why a custom board's days are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomRangeError {
    /// `to` is not after `from`.
    Empty,
    /// More than [`CUSTOM_MAX_DAYS`] days.
    TooLong,
}

/// Checks the days [from, to) of a custom board.
pub fn check_custom_range(from: NaiveDate, to: NaiveDate) -> Result<(), CustomRangeError> {
    let days = (to - from).num_days();
    if days <= 0 {
        Err(CustomRangeError::Empty)
    } else if days > CUSTOM_MAX_DAYS {
        Err(CustomRangeError::TooLong)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn days_far_away_are_no_board_days_and_never_overflow() {
        assert!(is_board_day(d(2026, 11, 30)));
        assert!(!is_board_day(d(1969, 12, 31)));
        assert!(!is_board_day(d(10000, 1, 1)));
        assert!(!is_board_day(NaiveDate::MIN));
        assert_eq!(BoardPeriod::Week.bounds(NaiveDate::MAX), None);
        assert_eq!(BoardPeriod::Year.bounds(NaiveDate::MAX), None);
    }

    #[test]
    fn weeks_start_on_monday_and_cross_months_and_years() {
        // 2026-12-31 is a Thursday; its week began on Monday 28 December.
        assert_eq!(
            BoardPeriod::Week.bounds(d(2026, 12, 31)),
            Some((d(2026, 12, 28), d(2027, 1, 4)))
        );
        assert_eq!(
            BoardPeriod::Week.bounds(d(2026, 11, 30)),
            Some((d(2026, 11, 30), d(2026, 12, 7))),
            "a Monday starts its own week"
        );
        assert_eq!(
            BoardPeriod::Week.bounds(d(2026, 12, 6)),
            Some((d(2026, 11, 30), d(2026, 12, 7))),
            "a Sunday ends it"
        );
    }

    #[test]
    fn months_and_years_are_calendar_ones() {
        assert_eq!(
            BoardPeriod::Month.bounds(d(2026, 12, 15)),
            Some((d(2026, 12, 1), d(2027, 1, 1)))
        );
        assert_eq!(
            BoardPeriod::Month.bounds(d(2028, 2, 29)),
            Some((d(2028, 2, 1), d(2028, 3, 1)))
        );
        assert_eq!(
            BoardPeriod::Year.bounds(d(2026, 7, 4)),
            Some((d(2026, 1, 1), d(2027, 1, 1)))
        );
        assert_eq!(BoardPeriod::All.bounds(d(2026, 7, 4)), None);
    }

    #[test]
    fn periods_parse_from_their_names_only() {
        for p in BoardPeriod::ALL {
            assert_eq!(BoardPeriod::parse(p.as_str()), Some(p));
        }
        assert_eq!(BoardPeriod::parse("custom"), None);
        assert_eq!(BoardPeriod::parse("Week"), None);
    }

    #[test]
    fn custom_ranges_are_one_to_thirty_one_days() {
        assert_eq!(check_custom_range(d(2026, 11, 1), d(2026, 11, 2)), Ok(()));
        assert_eq!(check_custom_range(d(2026, 11, 1), d(2026, 12, 2)), Ok(()));
        assert_eq!(
            check_custom_range(d(2026, 11, 1), d(2026, 12, 3)),
            Err(CustomRangeError::TooLong)
        );
        assert_eq!(
            check_custom_range(d(2026, 11, 2), d(2026, 11, 2)),
            Err(CustomRangeError::Empty)
        );
        assert_eq!(
            check_custom_range(d(2026, 11, 2), d(2026, 11, 1)),
            Err(CustomRangeError::Empty)
        );
    }
}
