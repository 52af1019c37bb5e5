//! Leaderboards, read from the rollups of the reputation ledger that triggers keep equal to it
//! in the ledger's own transactions (migration `2026-11-30-000502_leaderboard_rollups`):
//! `reputation_board` holds each person's total per calendar week, month, year and all time,
//! `reputation_day` per day; both per scope (0: the whole instance, else a group's id).
//! Ranks are dense: equal totals share a rank and the next rank follows on; only positive
//! totals are ranked.

pub use crate::engagement::LeaderboardRow;
use crate::{DbError, PrepareOnce};
use chrono::NaiveDate;
use diesel::{
    prelude::*,
    sql_types::{BigInt, Date, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The scope of the whole instance.
pub const INSTANCE: i64 = 0;

/// Which totals a board ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Totals {
    /// A calendar period (`week`, `month`, `year`, `all`) by any day in it: one row per person,
    /// read in rank order from an index.
    Period {
        period: &'static str,
        day: NaiveDate,
    },
    /// The days [from, to), summed per person: as many rows as people active on those days.
    Days { from: NaiveDate, to: NaiveDate },
}

/// The rows of one calendar board, positive ones only (what its rank index covers).
const PERIOD_ROWS: &str = "FROM reputation_board \
     WHERE period = $1 AND starts = reputation_board_start($1, $2) AND scope = $3 AND points > 0";

/// Per-person totals over some days, positive ones only.
const DAY_TOTALS: &str = "SELECT person_id, SUM(points)::bigint AS points FROM reputation_day \
     WHERE scope = $3 AND day >= $1 AND day < $2 GROUP BY person_id HAVING SUM(points) > 0";

/// The first `limit` people of a board, best first (ties by person, for a stable order).
pub async fn top(
    conn: &mut AsyncPgConnection,
    totals: Totals,
    scope: i64,
    limit: i64,
) -> Result<Vec<LeaderboardRow>, DbError> {
    let ranked = "SELECT person_id, points, DENSE_RANK() OVER (ORDER BY points DESC) AS rank";
    match totals {
        Totals::Period { period, day } => Ok(diesel::sql_query(format!(
            "{ranked} {PERIOD_ROWS} ORDER BY points DESC, person_id LIMIT $4"
        ))
        .bind::<Text, _>(period)
        .bind::<Date, _>(day)
        .bind::<BigInt, _>(scope)
        .bind::<BigInt, _>(limit)
        .prepared()
        .load(conn)
        .await?),
        Totals::Days { from, to } => Ok(diesel::sql_query(format!(
            "WITH totals AS ({DAY_TOTALS}) {ranked} FROM totals \
             ORDER BY points DESC, person_id LIMIT $4"
        ))
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<BigInt, _>(scope)
        .bind::<BigInt, _>(limit)
        .prepared()
        .load(conn)
        .await?),
    }
}

/// One person's line on a board (None when they have no positive total there): their total,
/// and 1 + how many distinct totals are above it. On a calendar board that count walks the
/// rank index from the top down to the person's total, reading each distinct total once.
pub async fn position(
    conn: &mut AsyncPgConnection,
    totals: Totals,
    scope: i64,
    person_id: i64,
) -> Result<Option<LeaderboardRow>, DbError> {
    match totals {
        Totals::Period { period, day } => Ok(diesel::sql_query(format!(
            "WITH RECURSIVE mine AS (SELECT points {PERIOD_ROWS} AND person_id = $4), \
               above (points) AS ( \
                 SELECT (SELECT min(points) {PERIOD_ROWS} AND points > mine.points) FROM mine \
                 UNION ALL \
                 SELECT (SELECT min(points) {PERIOD_ROWS} AND points > above.points) FROM above \
                 WHERE above.points IS NOT NULL) \
             SELECT $4 AS person_id, mine.points, \
                    (SELECT count(points) FROM above) + 1 AS rank \
             FROM mine"
        ))
        .bind::<Text, _>(period)
        .bind::<Date, _>(day)
        .bind::<BigInt, _>(scope)
        .bind::<BigInt, _>(person_id)
        .prepared()
        .get_result(conn)
        .await
        .optional()?),
        Totals::Days { from, to } => Ok(diesel::sql_query(format!(
            "WITH totals AS ({DAY_TOTALS}), mine AS (SELECT points FROM totals WHERE person_id = $4) \
             SELECT $4 AS person_id, mine.points, \
                    (SELECT count(DISTINCT t.points) FROM totals t WHERE t.points > mine.points) + 1 AS rank \
             FROM mine"
        ))
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<BigInt, _>(scope)
        .bind::<BigInt, _>(person_id)
        .prepared()
        .get_result(conn)
        .await
        .optional()?),
    }
}
