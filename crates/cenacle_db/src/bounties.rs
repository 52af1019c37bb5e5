//! What settling a bounty reads and writes beyond the bounty row itself (which lives with the
//! ledgers in `engagement`): the scored answers, and the winner's badge.

use crate::{DbError, PrepareOnce};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Double, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// An answer that qualifies for a bounty, with its score.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct ScoredAnswer {
    #[diesel(sql_type = BigInt)]
    pub comment_id: i64,
    #[diesel(sql_type = BigInt)]
    pub author_id: i64,
    /// Whether its author is one of our members (only they hold points).
    #[diesel(sql_type = Bool)]
    pub author_local: bool,
    #[diesel(sql_type = Double)]
    pub score: f64,
}

/// The running bounties of `posts`, locked in question order.
pub async fn open_bounties_for_update(
    conn: &mut AsyncPgConnection,
    posts: &[i64],
) -> Result<Vec<crate::engagement::Bounty>, DbError> {
    use crate::schema::bounty;
    Ok(bounty::table
        .filter(bounty::post_id.eq_any(posts))
        .filter(bounty::status.eq("open"))
        .order(bounty::post_id)
        .select(crate::engagement::Bounty::as_select())
        .for_update()
        .load(conn)
        .await?)
}

/// The best-scored live (neither deleted nor removed) top-level answer of a live question
/// (a bounty is cancelled when its question goes; this keeps the settler from paying should one
/// be left open) posted between `since` and `until`
/// (the bounty's run), not by `excluded` (the sponsor), with a score of at least `min_score`
/// (ties: the earliest). Answers and votes from after `until` count for nothing: the settler
/// may run minutes (or, after downtime, hours) after the end, and the end is what was
/// promised. The score counts each vote (cast before `until`) as the weight recorded on it
/// when it was cast — 1 for our members, their instance's weight then for others (an admin
/// changing it later changes no vote), nothing once that instance is blocked (votes cast
/// before the block included: blocking sets their weight to 0) — and never the author's own
/// vote.
pub async fn best_qualifying_answer(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    excluded: i64,
    min_score: f64,
) -> Result<Option<ScoredAnswer>, DbError> {
    Ok(diesel::sql_query(
        "SELECT c.id AS comment_id, c.author_id, a.local AS author_local, \
                COALESCE(SUM(v.value * v.weight) \
                         FILTER (WHERE v.person_id <> c.author_id AND v.created_at < $5), 0)::float8 AS score \
         FROM comment c \
         JOIN person a ON a.id = c.author_id \
         JOIN post q ON q.id = c.post_id AND q.deleted_at IS NULL AND q.removed_at IS NULL \
         LEFT JOIN vote v ON v.comment_id = c.id \
         WHERE c.post_id = $1 AND c.parent_id IS NULL AND c.deleted_at IS NULL AND c.removed_at IS NULL \
           AND c.created_at >= $2 AND c.created_at < $5 AND c.author_id <> $3 \
         GROUP BY c.id, c.author_id, a.local \
         HAVING COALESCE(SUM(v.value * v.weight) \
                         FILTER (WHERE v.person_id <> c.author_id AND v.created_at < $5), 0) >= $4 \
         ORDER BY score DESC, c.id LIMIT 1",
    )
    .bind::<BigInt, _>(post_id)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(excluded)
    .bind::<Double, _>(min_score)
    .bind::<Timestamptz, _>(until)
    .prepared()
    .get_result(conn)
    .await
    .optional()?)
}

/// Gives the badge `slug` to a person who never held it (a badge revoked stays revoked: only
/// a community manager gives it back, by hand). Returns whether it was given.
pub async fn award_badge_once(
    conn: &mut AsyncPgConnection,
    slug: &str,
    person_id: i64,
) -> Result<bool, DbError> {
    let given = diesel::sql_query(
        "INSERT INTO badge_award (badge_id, person_id) \
         SELECT b.id, $2 FROM badge b WHERE b.slug = $1 \
           AND NOT EXISTS (SELECT 1 FROM badge_award w WHERE w.badge_id = b.id AND w.person_id = $2) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(slug)
    .bind::<BigInt, _>(person_id)
    .prepared()
    .execute(conn)
    .await?;
    Ok(given == 1)
}
