//! Member statistics, read from the rollups that triggers keep in the statements that write
//! the content (migration `2026-11-30-000801_member_stats`): `member_stats_rows` per member,
//! group, tag ('' for the whole group) and UTC day (the folded `member_stats_day` rows and the
//! changes appended since, migration `2026-12-02-003125_member_stats_pending`); `topic_stats_day` the answers accepted per
//! topic and day; `post_view` the day's viewers of each post. Also the scored contributions
//! that mood trends read.

use crate::{DbError, PrepareOnce};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Bool, Bytea, Date, Float4, Float8, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Which rows a topic covers: a tag ('' for every contribution) in one group or in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRows {
    pub tag: String,
    pub group_id: Option<i64>,
}

/// Groups whose activity instance-wide figures include: not private ones, nor the local-only
/// champions group. Their content is for their members only; a manager who may read one
/// names it (`$4`), and core checks that they may.
macro_rules! open_groups {
    () => {
        "(SELECT g.id FROM community_group g WHERE g.visibility <> 'private' AND NOT g.local_only)"
    };
}
const OPEN_GROUPS: &str = open_groups!();

/// The rows of a topic over the days [$2, $3): `$1` the tag, `$4` the group (NULL: every
/// open group).
const TOPIC_DAYS: &str = concat!(
    "tag = $1 AND day >= $2 AND day < $3 AND (group_id = $4 OR ($4::bigint IS NULL AND group_id IN ",
    open_groups!(),
    "))"
);

/// The sums of some statistics rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, QueryableByName)]
pub struct StatsSums {
    #[diesel(sql_type = BigInt)]
    pub threads: i64,
    #[diesel(sql_type = BigInt)]
    pub ideas: i64,
    #[diesel(sql_type = BigInt)]
    pub replies: i64,
    #[diesel(sql_type = BigInt)]
    pub accepted: i64,
    #[diesel(sql_type = Float8)]
    pub likes: f64,
    #[diesel(sql_type = BigInt)]
    pub views: i64,
    #[diesel(sql_type = BigInt)]
    pub first_replies: i64,
    #[diesel(sql_type = BigInt)]
    pub first_reply_secs: i64,
}

const SUMS: &str =
    "COALESCE(SUM(threads), 0)::bigint AS threads, COALESCE(SUM(ideas), 0)::bigint AS ideas, \
     COALESCE(SUM(replies), 0)::bigint AS replies, COALESCE(SUM(accepted), 0)::bigint AS accepted, \
     COALESCE(SUM(likes), 0)::float8 AS likes, COALESCE(SUM(views), 0)::bigint AS views, \
     COALESCE(SUM(first_replies), 0)::bigint AS first_replies, \
     COALESCE(SUM(first_reply_secs), 0)::bigint AS first_reply_secs";

/// One week of a member's activity.
#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct WeekSums {
    /// The Monday the week starts on.
    #[diesel(sql_type = Date)]
    pub week: NaiveDate,
    #[diesel(embed)]
    pub sums: StatsSums,
}

/// A member's statistics in a topic over [from, to), week by week (weeks without activity are
/// absent), and the number of distinct people they helped over the whole period.
pub async fn member_weeks(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    topic: &TopicRows,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<WeekSums>, i64), DbError> {
    let weeks = diesel::sql_query(format!(
        "SELECT date_trunc('week', day::timestamp)::date AS week, {SUMS} \
         FROM member_stats_rows WHERE person_id = $5 AND {TOPIC_DAYS} GROUP BY 1 ORDER BY 1"
    ))
    .bind::<Text, _>(&topic.tag)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Nullable<BigInt>, _>(topic.group_id)
    .bind::<BigInt, _>(person_id)
    .prepared()
    .load(conn)
    .await?;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let helped: Count = diesel::sql_query(format!(
        "SELECT count(DISTINCT h) AS n FROM member_stats_rows, unnest(helped) AS h \
         WHERE person_id = $5 AND {TOPIC_DAYS}"
    ))
    .bind::<Text, _>(&topic.tag)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Nullable<BigInt>, _>(topic.group_id)
    .bind::<BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await?;
    Ok((weeks, helped.n))
}

/// Folds up to `batch` of the statistics changes appended by the actions since the last fold
/// into the day rows (SKIP LOCKED: several servers may fold side by side); how many it took.
pub async fn fold_pending_stats(conn: &mut AsyncPgConnection, batch: i32) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Folded {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        n: i32,
    }
    let folded: Folded = diesel::sql_query("SELECT member_stats_fold($1) AS n")
        .bind::<diesel::sql_types::Integer, _>(batch)
        .get_result(conn)
        .await?;
    Ok(folded.n.into())
}

/// The statistics changes waiting for the fold, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct PendingStats {
    /// Changes appended and not folded yet.
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    /// Age in seconds of the oldest of them (0 when none waits).
    #[diesel(sql_type = Float8)]
    pub oldest_seconds: f64,
}

/// About how many statistics changes wait for the fold, and since when: read at each scrape,
/// so two index lookups whatever the backlog (a `count(*)` read all of it: half a second at 5
/// million rows). The count is the span of the waiting ids, which the fold takes oldest first
/// (exact but for ids given to transactions that rolled back); the age is the lowest id's,
/// which a change of a transaction still open may precede by that transaction's length.
pub async fn pending_stats(conn: &mut AsyncPgConnection) -> Result<PendingStats, DbError> {
    Ok(diesel::sql_query(
        "SELECT COALESCE((SELECT max(id) FROM member_stats_pending) \
                         - (SELECT min(id) FROM member_stats_pending) + 1, 0)::int8 AS pending, \
         COALESCE(EXTRACT(EPOCH FROM now() - (SELECT appended_at FROM member_stats_pending \
                                               ORDER BY id LIMIT 1)), 0)::float8 AS oldest_seconds",
    )
    .prepared()
    .get_result(conn)
    .await?)
}

/// The answers accepted in a topic over [from, to), all members together.
pub async fn topic_accepted(
    conn: &mut AsyncPgConnection,
    topic: &TopicRows,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let found: Count = diesel::sql_query(format!(
        "SELECT COALESCE(SUM(accepted), 0)::bigint AS n FROM topic_stats_day WHERE {TOPIC_DAYS}"
    ))
    .bind::<Text, _>(&topic.tag)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Nullable<BigInt>, _>(topic.group_id)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(found.n)
}

/// Whether any contribution in the group (None: in an open group) ever carried `tag` (the
/// rollups have a row for it).
pub async fn tag_known(
    conn: &mut AsyncPgConnection,
    tag: &str,
    group_id: Option<i64>,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Bool)]
        known: bool,
    }
    let found: Found = diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM member_stats_rows WHERE tag = $1 \
             AND (group_id = $2 OR ($2::bigint IS NULL AND group_id IN {OPEN_GROUPS}))) AS known"
    ))
    .bind::<Text, _>(tag)
    .bind::<Nullable<BigInt>, _>(group_id)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(found.known)
}

/// One member's totals in a topic over a period, for the shortlist.
#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct MemberSums {
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(embed)]
    pub sums: StatsSums,
    #[diesel(sql_type = BigInt)]
    pub helped: i64,
}

/// The totals in a topic over [from, to) of every member who replied there (one row each):
/// the others have no credibility there, hence no influence, and add nothing to the topic's
/// acceptance rate (an accepted answer is a reply).
pub async fn topic_members(
    conn: &mut AsyncPgConnection,
    topic: &TopicRows,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<MemberSums>, DbError> {
    Ok(diesel::sql_query(format!(
        "WITH rows AS MATERIALIZED (SELECT * FROM member_stats_rows WHERE {TOPIC_DAYS}), \
              sums AS (SELECT person_id, {SUMS} FROM rows GROUP BY person_id HAVING SUM(replies) > 0), \
              helped AS (SELECT person_id, count(DISTINCT h) AS helped \
                         FROM rows, unnest(rows.helped) AS h GROUP BY person_id) \
         SELECT sums.*, COALESCE(helped.helped, 0)::bigint AS helped \
         FROM sums LEFT JOIN helped USING (person_id)"
    ))
    .bind::<Text, _>(&topic.tag)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Nullable<BigInt>, _>(topic.group_id)
    .prepared()
    .load(conn)
    .await?)
}

/// A post or comment with its mood.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct ScoredContribution {
    #[diesel(sql_type = BigInt)]
    pub author_id: i64,
    /// `post` or `comment`.
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// The thread it belongs to (the post itself for a post).
    #[diesel(sql_type = BigInt)]
    pub post_id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Float4)]
    pub sentiment: f32,
    /// The start of its text.
    #[diesel(sql_type = Text)]
    pub excerpt: String,
}

/// The scored posts and comments of `authors` in a topic, written in [from, to), oldest first.
pub async fn scored_contributions(
    conn: &mut AsyncPgConnection,
    authors: &[i64],
    topic: &TopicRows,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ScoredContribution>, DbError> {
    // '' is every contribution; a tag, the threads carrying it.
    let in_topic = format!(
        "($1 = '' OR $1 = ANY(p.tags)) AND (p.group_id = $4 OR ($4::bigint IS NULL AND p.group_id IN {OPEN_GROUPS}))"
    );
    let during = |t: &str| {
        format!("{t}.created_at >= $2::date AT TIME ZONE 'UTC' AND {t}.created_at < $3::date AT TIME ZONE 'UTC'")
    };
    Ok(diesel::sql_query(format!(
        "SELECT * FROM ( \
           SELECT p.author_id, 'post' AS kind, p.id, p.id AS post_id, p.created_at, p.sentiment, \
                  left(p.title, 140) AS excerpt \
           FROM post p WHERE p.author_id = ANY($5) AND p.deleted_at IS NULL AND p.sentiment IS NOT NULL \
             AND {in_topic} AND {} \
           UNION ALL \
           SELECT c.author_id, 'comment', c.id, c.post_id, c.created_at, c.sentiment, left(c.body, 140) \
           FROM comment c JOIN post p ON p.id = c.post_id \
           WHERE c.author_id = ANY($5) AND c.deleted_at IS NULL AND c.sentiment IS NOT NULL \
             AND p.deleted_at IS NULL AND {in_topic} AND {}) s \
         ORDER BY created_at, kind, id",
        during("p"),
        during("c")
    ))
    .bind::<Text, _>(&topic.tag)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<Nullable<BigInt>, _>(topic.group_id)
    .bind::<Array<BigInt>, _>(authors)
    .prepared()
    .load(conn)
    .await?)
}

/// Who viewed: a signed-in person, or an anonymous client by what it sent (its address and
/// user agent), hashed with the day's salt in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer<'a> {
    Person(i64),
    Anonymous(&'a str),
}

/// What [`count_view`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewCount {
    /// A first view of the post by this viewer today: counted (the trigger added it).
    Counted,
    /// Seen already today: nothing written.
    Repeated,
    /// The day has no salt yet: [`start_view_day`] first.
    Unsalted,
}

/// Counts a view of `post_id` on `day`: one insert that does nothing when the viewer saw the
/// post already that day; the rollups move (by trigger) only when it inserts.
pub async fn count_view(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    day: NaiveDate,
    viewer: &Viewer<'_>,
) -> Result<ViewCount, DbError> {
    #[derive(QueryableByName)]
    struct Outcome {
        #[diesel(sql_type = Bool)]
        salted: bool,
        #[diesel(sql_type = Bool)]
        counted: bool,
    }
    let (person, fingerprint) = match viewer {
        Viewer::Person(id) => (Some(format!("person:{id}").into_bytes()), None),
        Viewer::Anonymous(fingerprint) => (None, Some(*fingerprint)),
    };
    let outcome: Outcome = diesel::sql_query(
        "WITH s AS (SELECT salt FROM view_salt WHERE day = $1), \
              ins AS (INSERT INTO post_view (day, post_id, viewer) \
                      SELECT $1, $2, COALESCE($3, sha256(convert_to(s.salt || $4, 'UTF8'))) FROM s \
                      ON CONFLICT DO NOTHING RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM s) AS salted, EXISTS (SELECT 1 FROM ins) AS counted",
    )
    .bind::<Date, _>(day)
    .bind::<BigInt, _>(post_id)
    .bind::<Nullable<Bytea>, _>(person)
    .bind::<Nullable<Text>, _>(fingerprint)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(match (outcome.salted, outcome.counted) {
        (false, _) => ViewCount::Unsalted,
        (true, true) => ViewCount::Counted,
        (true, false) => ViewCount::Repeated,
    })
}

/// Forgets the viewers of the days before `day` and their salts, up to `limit` view rows a
/// call; how many view rows went (call again while it returns `limit`). What
/// [`start_view_day`] does when a new day's first view comes, for days without one.
pub async fn forget_views_before(
    conn: &mut AsyncPgConnection,
    day: NaiveDate,
    limit: i64,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "WITH salts AS (DELETE FROM view_salt WHERE day < $1) \
         DELETE FROM post_view WHERE (day, post_id, viewer) IN \
           (SELECT day, post_id, viewer FROM post_view WHERE day < $1 LIMIT $2)",
    )
    .bind::<Date, _>(day)
    .bind::<BigInt, _>(limit)
    .execute(conn)
    .await?)
}

/// Starts a day of view counting: a new random salt for `day`; the salts and the viewer rows
/// of the days before are deleted, so that no row outlives its day. Several servers starting
/// the same day race harmlessly: one salt wins, the others find it.
pub async fn start_view_day(conn: &mut AsyncPgConnection, day: NaiveDate) -> Result<(), DbError> {
    diesel::sql_query(
        "WITH ins AS (INSERT INTO view_salt (day, salt) \
                      VALUES ($1, gen_random_uuid()::text || gen_random_uuid()::text) \
                      ON CONFLICT DO NOTHING RETURNING day), \
              old AS (DELETE FROM view_salt WHERE day < $1 AND EXISTS (SELECT 1 FROM ins)) \
         DELETE FROM post_view WHERE day < $1 AND EXISTS (SELECT 1 FROM ins)",
    )
    .bind::<Date, _>(day)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}
