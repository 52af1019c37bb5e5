//! What a bounty's use cases read and lock beyond the bounty row itself (which lives with the
//! ledgers in `engagement`): its question's row, the bounties a take-down cancels or the
//! settler closes, the scored answers, and the winner's badge.
//!
//! The lock order of every bounty writer is the question's post row, then the bounty, then
//! balances — a take-down's (post FOR UPDATE, bounty, balances), an offer's and an award's
//! (post FOR SHARE, bounty, balances) — and the settler, which cannot take the post first
//! (it finds bounties by their end), waits on neither: it skips what is locked.

use crate::{content::Post, schema::post, DbError, PrepareOnce};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Double, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A question's post row, share-locked (FOR SHARE) until the transaction ends: taken first by
/// an offer and an award, before the bounty and any balance, as a take-down takes the row FOR
/// UPDATE first. A take-down in progress is waited for, and the row then read as it left it
/// (gone); one that comes later waits for the offer or award to commit. FOR SHARE, not KEY
/// SHARE: an acceptance or a lock (which update the row) cannot slip in between the checks
/// and the bounty's insert either.
pub async fn question_for_share(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> Result<Option<Post>, DbError> {
    Ok(post::table
        .find(post_id)
        .select(Post::as_select())
        .for_share()
        .first(conn)
        .await
        .optional()?)
}

/// The first (by id) of the questions `post_ids` on which a bounty runs (open: neither
/// awarded, settled nor cancelled, whether or not its end has passed) that `person_id` may not
/// take down, if any: they asked the question, or they sponsor that bounty. One question for a
/// deletion or a removal, all the posts a ban's removal of content took for a ban. Reads at
/// most one bounty per question (the partial unique index on open bounties) and its post by
/// key.
pub async fn bounty_running_for(
    conn: &mut AsyncPgConnection,
    post_ids: &[i64],
    person_id: i64,
) -> Result<Option<i64>, DbError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        post_id: i64,
    }
    if post_ids.is_empty() {
        return Ok(None);
    }
    let found: Option<Found> = diesel::sql_query(
        "SELECT b.post_id FROM bounty b JOIN post q ON q.id = b.post_id \
         WHERE b.post_id = ANY($1) AND b.status = 'open' \
           AND (b.sponsor_id = $2 OR q.author_id = $2) \
         ORDER BY b.post_id LIMIT 1",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(post_ids)
    .bind::<BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?;
    Ok(found.map(|f| f.post_id))
}

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

/// The running bounties of `posts` whose end is still to come, locked in question order: what
/// a take-down of those questions cancels. "Still to come" is `ends_at > now()`, `now()` being
/// the start of the take-down's transaction — the time its deletion or removal is stamped
/// with — so that a take-down refunds exactly the bounties the settler's rule would (see
/// `cenacle_domain::bounties::refunded_when_gone`). A bounty whose time is up is left open,
/// for the settler to settle by the lapse rule.
pub async fn unended_bounties_for_update(
    conn: &mut AsyncPgConnection,
    posts: &[i64],
) -> Result<Vec<crate::engagement::Bounty>, DbError> {
    use crate::schema::bounty;
    Ok(bounty::table
        .filter(bounty::post_id.eq_any(posts))
        .filter(bounty::status.eq("open"))
        .filter(bounty::ends_at.gt(diesel::dsl::now))
        .order(bounty::post_id)
        .select(crate::engagement::Bounty::as_select())
        .for_update()
        .load(conn)
        .await?)
}

/// A running bounty the settler has to close, with when its question went, if it did.
#[derive(Debug, Clone, QueryableByName)]
pub struct DueBounty {
    #[diesel(embed)]
    pub bounty: crate::engagement::Bounty,
    /// The earlier of its question's deletion and removal, if it is gone.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub gone_at: Option<DateTime<Utc>>,
}

/// Running bounties the settler has to close (at most `limit`, earliest end first): those past
/// their end, and those whose question is gone (deleted or removed) — left open by a take-down
/// after their end, or on a question that went without its take-down cancelling them (data
/// from before 2026-12-04-003142). Both rows are locked SKIP LOCKED, the question's first (row
/// marks lock in the order of their clauses): its post row FOR KEY SHARE (which a take-down's
/// FOR UPDATE waits for, and which the winner's notification would take anyway), then the
/// bounty FOR UPDATE. A bounty whose question a take-down (or an acceptance, or a move) holds
/// is skipped before the bounty is locked, so it leaves nothing locked for the rest of the
/// pass; a bounty another settler holds is skipped after its question's key lock, which
/// stays until this pass commits (a take-down of that question waits for the pass, which
/// waits on nothing).
/// The settler never waits on a take-down, which holds the post and waits for the bounty.
/// What is skipped comes back on a later pass.
pub async fn due_bounties(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> Result<Vec<DueBounty>, DbError> {
    Ok(diesel::sql_query(
        "SELECT b.*, LEAST(q.deleted_at, q.removed_at) AS gone_at \
         FROM bounty b JOIN post q ON q.id = b.post_id \
         WHERE b.status = 'open' \
           AND (b.ends_at <= now() OR q.deleted_at IS NOT NULL OR q.removed_at IS NOT NULL) \
         ORDER BY b.ends_at, b.id LIMIT $1 \
         FOR KEY SHARE OF q SKIP LOCKED FOR UPDATE OF b SKIP LOCKED",
    )
    .bind::<BigInt, _>(limit)
    .prepared()
    .load(conn)
    .await?)
}

/// The settler's key lock (FOR KEY SHARE) on the answer it is about to pay, SKIP LOCKED, taken
/// before any balance: false when a take-down holds the answer's row — a ban removing its
/// author's comments locks them FOR UPDATE without their posts, then locks balances, the
/// winner's among them. The settler leaves that bounty to a later pass rather than wait (the
/// winner's notification would take this key lock after the balances otherwise).
pub async fn lock_winning_answer(
    conn: &mut AsyncPgConnection,
    comment_id: i64,
) -> Result<bool, DbError> {
    use crate::schema::comment;
    Ok(comment::table
        .find(comment_id)
        .select(comment::id)
        .for_key_share()
        .skip_locked()
        .first::<i64>(conn)
        .await
        .optional()?
        .is_some())
}

/// The best-scored live (neither deleted nor removed) top-level answer of a question, whether
/// or not the question is still there (the settler refunds a bounty whose question went before
/// its end; one whose question went after it is settled by this answer all the same), posted
/// between `since` and `until` (the bounty's run), not by `excluded` (the sponsor), with a
/// score of at least `min_score` (ties: the earliest). Answers and votes first cast after
/// `until` count for nothing: the settler may run minutes (or, after downtime, hours) after
/// the end, and the end is what was promised. What is read is the thread now, though, not a
/// snapshot of the end: an answer taken down since does not compete, and a vote cast before
/// `until` counts as it stands now (withdrawn since: not at all; changed since: with its new
/// value). The score counts each such vote as the weight recorded on it — 1 for our members,
/// their instance's weight when it was cast for others (an admin changing it later changes no
/// vote), nothing once that instance is blocked (votes cast before the block included:
/// blocking sets their weight to 0) — and never the author's own vote.
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
