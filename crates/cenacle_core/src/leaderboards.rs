//! Leaderboards: who earned the most reputation in a calendar week, month or year, all time, or
//! over a few chosen days, instance-wide or in a group, with the viewer's own position. Read
//! from rollups that the ledger's own transactions keep (see `cenacle_db::leaderboards`), so
//! a board costs one index range, whatever the size of the ledger.

use crate::{Conn, CoreError};
use cenacle_db::leaderboards::{self as store, LeaderboardRow, Totals};
use cenacle_domain::{
    boards::{check_custom_range, is_board_day, BoardPeriod, CustomRangeError},
    ValidationError,
};
use chrono::NaiveDate;

/// The time a board covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// The calendar period (UTC) holding a day: the current one when the day is today.
    Period(BoardPeriod, NaiveDate),
    /// The UTC days [from, to), at most `CUSTOM_MAX_DAYS` of them.
    Days { from: NaiveDate, to: NaiveDate },
}

/// Which board: a span and a group (None: instance-wide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    pub span: Span,
    pub group_id: Option<i64>,
}

/// The top `limit` of a board (dense ranks: equal totals share a rank), and `viewer`'s own
/// position on it even outside the top (None when they earned nothing there).
pub async fn leaderboard(
    conn: &mut Conn,
    board: Board,
    limit: i64,
    viewer: Option<i64>,
) -> Result<(Vec<LeaderboardRow>, Option<LeaderboardRow>), CoreError> {
    let out_of_range = |field| ValidationError {
        field,
        code: "out_of_range",
    };
    match board.span {
        Span::Period(_, day) if !is_board_day(day) => return Err(out_of_range("at").into()),
        Span::Days { from, .. } if !is_board_day(from) => return Err(out_of_range("from").into()),
        Span::Days { to, .. } if !is_board_day(to) => return Err(out_of_range("to").into()),
        _ => {}
    }
    let totals = match board.span {
        Span::Period(period, day) => Totals::Period {
            period: period.as_str(),
            day,
        },
        Span::Days { from, to } => {
            check_custom_range(from, to).map_err(|e| ValidationError {
                field: "to",
                code: match e {
                    CustomRangeError::Empty => "not_after_from",
                    CustomRangeError::TooLong => "range_too_long",
                },
            })?;
            Totals::Days { from, to }
        }
    };
    let scope = board.group_id.unwrap_or(store::INSTANCE);
    let rows = store::top(conn, totals, scope, limit).await?;
    let mine = match viewer {
        Some(person) => store::position(conn, totals, scope, person).await?,
        None => None,
    };
    Ok((rows, mine))
}
