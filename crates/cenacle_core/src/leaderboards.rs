//! Leaderboards: who earned the most reputation over a period, instance-wide or in a group.

use crate::{Conn, CoreError};
use cenacle_db::engagement::{self as ledger, LeaderboardRow};
use chrono::{DateTime, Utc};

/// Which board: a period ([from, to); all time when both are None) and a group (None:
/// instance-wide).
#[derive(Debug, Clone, Copy, Default)]
pub struct Board {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub group_id: Option<i64>,
}

/// The top `limit` of a board (dense ranks: equal totals share a rank), and `viewer`'s own
/// position on it even outside the top.
pub async fn leaderboard(
    conn: &mut Conn,
    board: Board,
    limit: i64,
    viewer: Option<i64>,
) -> Result<(Vec<LeaderboardRow>, Option<LeaderboardRow>), CoreError> {
    let rows = ledger::leaderboard(conn, board.from, board.to, board.group_id, limit).await?;
    let mine = match viewer {
        Some(person) => {
            ledger::leaderboard_position(conn, person, board.from, board.to, board.group_id).await?
        }
        None => None,
    };
    Ok((rows, mine))
}
