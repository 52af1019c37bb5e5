//! Digests: who may be owed one, the claim on a period, and what goes in it; members' time
//! zones, by PostgreSQL's tz database (`pg_timezone_names`, `AT TIME ZONE`), which the
//! server already carries. Plain SQL over the tables of migrations
//! `2026-11-30-002402_digests` and `2026-12-01-003117_digest_time_zone`.

use crate::DbError;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Text, Timestamp, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A member who set some kind to a digest's delivery, with the time zone their digests go by
/// and what their clock shows at the run's `now`.
#[derive(QueryableByName, Debug)]
pub struct Subscriber {
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    /// Theirs, or the instance's default.
    #[diesel(sql_type = Text)]
    pub time_zone: String,
    /// `now` on their wall clock, by PostgreSQL's tz database (summer time included).
    #[diesel(sql_type = Timestamp)]
    pub local_now: NaiveDateTime,
}

/// Whether the member `person` gets the digest that notification kinds set to `delivery`
/// (`email_daily`, `email_weekly`) fill: some kind of theirs is set so. An SQL condition over
/// the two SQL expressions given: the one rule of who is sent a digest ([`subscribers`]) and
/// of whether a digest retried is still wanted (`mail::wanted`). Constants only (`'static`):
/// its text is SQL, never a value from outside.
pub(crate) fn subscribed(person: &'static str, delivery: &'static str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM notification_preference np \
                 WHERE np.person_id = {person} AND np.delivery = {delivery})"
    )
}

/// Active local members with a verified address who set a kind to `delivery`
/// (`email_daily`/`email_weekly`), by id from `after`, at most `limit`; their local time at
/// `now`, in their zone, or in `default_zone` if they set none or theirs is `forgotten`.
pub async fn subscribers(
    conn: &mut AsyncPgConnection,
    delivery: &str,
    after: i64,
    limit: i64,
    now: DateTime<Utc>,
    default_zone: &str,
    forgotten: &[String],
) -> Result<Vec<Subscriber>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT s.person_id, s.time_zone, $4 AT TIME ZONE s.time_zone AS local_now \
         FROM (SELECT u.person_id, \
                      CASE WHEN u.time_zone IS NULL OR u.time_zone = ANY($6) THEN $5 \
                           ELSE u.time_zone END AS time_zone \
               FROM local_user u \
               WHERE u.status = 'active' AND u.email_verified_at IS NOT NULL AND u.person_id > $2 \
                 AND {subscribed} \
               ORDER BY u.person_id LIMIT $3) s \
         ORDER BY s.person_id",
        subscribed = subscribed("u.person_id", "$1"),
    ))
    .bind::<Text, _>(delivery)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .bind::<Timestamptz, _>(now)
    .bind::<Text, _>(default_zone)
    .bind::<Array<Text>, _>(forgotten)
    .load(conn)
    .await?)
}

/// The zones members chose that PostgreSQL no longer knows: a tz database upgrade may drop
/// an old alias (Debian moved `US/Eastern` and the like to `tzdata-legacy`), and one such
/// name in a query's `AT TIME ZONE` would fail every member's digest. One look at the tz
/// database per run (reading it takes tens of milliseconds), not one per page of members.
pub async fn forgotten_time_zones(conn: &mut AsyncPgConnection) -> Result<Vec<String>, DbError> {
    let rows: Vec<ZoneName> = diesel::sql_query(
        "SELECT DISTINCT time_zone AS name FROM local_user \
         WHERE time_zone IS NOT NULL AND time_zone NOT IN (SELECT name FROM pg_timezone_names)",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

#[derive(QueryableByName)]
struct SlotRow {
    #[diesel(sql_type = Timestamptz)]
    previous: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    slot: DateTime<Utc>,
}

/// What moving the member's `cadence` period to `slot` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// First seen: the period is recorded, nothing is owed yet.
    FirstSeen,
    /// That period (or a later one) was handled already.
    Handled,
    /// Moved on from the previous period: its digest is ours to send.
    Owed { since: DateTime<Utc> },
}

/// Claims the member's `cadence` digest of the period starting at `local_slot` on their wall
/// clock in `time_zone` (row-locked: a second run, here or elsewhere, waits and then finds it
/// handled). The slot becomes an instant here, by PostgreSQL's tz database with the offset
/// of that day, so a local 08:00 is 07:00 UTC in a Paris January and 06:00 UTC in its July;
/// a local time a clock change skips or repeats gets PostgreSQL's one reading of it.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    person: i64,
    cadence: &str,
    local_slot: NaiveDateTime,
    time_zone: &str,
) -> Result<Claim, DbError> {
    let inserted = diesel::sql_query(
        "INSERT INTO digest_sent (person_id, cadence, slot) VALUES ($1, $2, $3 AT TIME ZONE $4) \
         ON CONFLICT (person_id, cadence) DO NOTHING",
    )
    .bind::<BigInt, _>(person)
    .bind::<Text, _>(cadence)
    .bind::<Timestamp, _>(local_slot)
    .bind::<Text, _>(time_zone)
    .execute(conn)
    .await?;
    if inserted > 0 {
        return Ok(Claim::FirstSeen);
    }
    let found: SlotRow = diesel::sql_query(
        "SELECT slot AS previous, $3 AT TIME ZONE $4 AS slot FROM digest_sent \
         WHERE person_id = $1 AND cadence = $2 FOR UPDATE",
    )
    .bind::<BigInt, _>(person)
    .bind::<Text, _>(cadence)
    .bind::<Timestamp, _>(local_slot)
    .bind::<Text, _>(time_zone)
    .get_result(conn)
    .await?;
    if found.previous >= found.slot {
        return Ok(Claim::Handled);
    }
    diesel::sql_query("UPDATE digest_sent SET slot = $3 WHERE person_id = $1 AND cadence = $2")
        .bind::<BigInt, _>(person)
        .bind::<Text, _>(cadence)
        .bind::<Timestamptz, _>(found.slot)
        .execute(conn)
        .await?;
    Ok(Claim::Owed {
        since: found.previous,
    })
}

/// A post in a digest, with how many things about it (new answers, likes).
#[derive(QueryableByName, Debug)]
pub struct DigestPost {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Whether the post `p` (an SQL alias of a `post` row) may be in a digest of the member
/// `person` (an SQL expression of their id): published (not waiting in, nor rejected by, its
/// group's approval queue), neither deleted nor removed, in a group they belong to (so never
/// a private group's post to someone outside it). An SQL condition: the one rule of the posts
/// a digest's sections pick ([`new_answers`], [`unanswered`], [`top_ideas`]) and of a
/// digest still quoting them when retried (`mail::wanted`). Constants only (`'static`): its
/// text is SQL, never a value from outside.
pub(crate) fn in_digest_of(person: &'static str) -> String {
    format!(
        "p.deleted_at IS NULL AND p.removed_at IS NULL AND p.approval IS NULL \
         AND EXISTS (SELECT 1 FROM group_membership m \
                     WHERE m.group_id = p.group_id AND m.person_id = {person})"
    )
}

/// Questions of the member's groups that got answers (by others) since `since`, most first.
pub async fn new_answers(
    conn: &mut AsyncPgConnection,
    person: i64,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DigestPost>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT p.id, p.title, count(*)::bigint AS n FROM comment c JOIN post p ON p.id = c.post_id \
         WHERE {in_digest} AND p.kind = 'question' AND c.parent_id IS NULL \
           AND c.created_at > $2 AND c.author_id <> $1 \
           AND c.deleted_at IS NULL AND c.removed_at IS NULL \
         GROUP BY p.id, p.title ORDER BY n DESC, p.id DESC LIMIT $3",
        in_digest = in_digest_of("$1"),
    ))
    .bind::<BigInt, _>(person)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// Questions asked since `since` in the member's groups, still without an answer: those
/// tagged with one of the member's expertise tags, or all of them when the member has none.
pub async fn unanswered(
    conn: &mut AsyncPgConnection,
    person: i64,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DigestPost>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT p.id, p.title, 0::bigint AS n FROM post p, person me \
         WHERE me.id = $1 AND {in_digest} AND p.kind = 'question' \
           AND p.created_at > $2 AND p.author_id <> $1 AND p.accepted_comment_id IS NULL \
           AND (cardinality(me.expertise_tags) = 0 OR p.tags && me.expertise_tags) \
           AND NOT EXISTS (SELECT 1 FROM comment c WHERE c.post_id = p.id AND c.parent_id IS NULL \
                           AND c.deleted_at IS NULL AND c.removed_at IS NULL) \
         ORDER BY p.id DESC LIMIT $3",
        in_digest = in_digest_of("$1"),
    ))
    .bind::<BigInt, _>(person)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// The most liked ideas posted since `since` in the member's groups.
pub async fn top_ideas(
    conn: &mut AsyncPgConnection,
    person: i64,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DigestPost>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT p.id, p.title, p.likes::bigint AS n FROM post p \
         WHERE {in_digest} AND p.kind = 'idea' AND p.created_at > $2 AND p.likes > 0 \
         ORDER BY p.likes DESC, p.id DESC LIMIT $3",
        in_digest = in_digest_of("$1"),
    ))
    .bind::<BigInt, _>(person)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// The member's time zone (None: not set, the instance's default).
pub async fn time_zone(
    conn: &mut AsyncPgConnection,
    person: i64,
) -> Result<Option<String>, DbError> {
    use crate::schema::local_user::dsl as u;
    Ok(u::local_user
        .filter(u::person_id.eq(person))
        .select(u::time_zone)
        .first::<Option<String>>(conn)
        .await
        .optional()?
        .flatten())
}

/// Stores the member's time zone as given (the caller checked it is one PostgreSQL knows).
pub async fn set_time_zone(
    conn: &mut AsyncPgConnection,
    person: i64,
    zone: Option<&str>,
) -> Result<(), DbError> {
    use crate::schema::local_user::dsl as u;
    diesel::update(u::local_user.filter(u::person_id.eq(person)))
        .set(u::time_zone.eq(zone))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct ZoneName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Every zone name PostgreSQL's tz database has, sorted. A read costs tens of milliseconds:
/// `cenacle_core::digests` keeps what it read for the life of the process.
pub async fn time_zone_names(conn: &mut AsyncPgConnection) -> Result<Vec<String>, DbError> {
    let rows: Vec<ZoneName> =
        diesel::sql_query("SELECT name FROM pg_timezone_names ORDER BY name COLLATE \"C\"")
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}
