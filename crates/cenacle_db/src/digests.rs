//! Digests: who may be owed one, the claim on a period, and what goes in it. Plain SQL over
//! the tables of migration `2026-11-30-002402_digests`.

use crate::DbError;
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Integer, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A member who set some kind to a digest's delivery.
#[derive(QueryableByName, Debug)]
pub struct Subscriber {
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = Nullable<Integer>)]
    pub utc_offset_minutes: Option<i32>,
}

/// Active local members with a verified address who set a kind to `delivery`
/// (`email_daily`/`email_weekly`), by id from `after`, at most `limit`.
pub async fn subscribers(
    conn: &mut AsyncPgConnection,
    delivery: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Subscriber>, DbError> {
    Ok(diesel::sql_query(
        "SELECT u.person_id, u.utc_offset_minutes FROM local_user u \
         WHERE u.status = 'active' AND u.email_verified_at IS NOT NULL AND u.person_id > $2 \
           AND EXISTS (SELECT 1 FROM notification_preference np \
                       WHERE np.person_id = u.person_id AND np.delivery = $1) \
         ORDER BY u.person_id LIMIT $3",
    )
    .bind::<Text, _>(delivery)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

#[derive(QueryableByName)]
struct SlotRow {
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

/// Claims the member's `cadence` digest of the period starting at `slot` (row-locked: a second
/// run, here or elsewhere, waits and then finds it handled).
pub async fn claim(
    conn: &mut AsyncPgConnection,
    person: i64,
    cadence: &str,
    slot: DateTime<Utc>,
) -> Result<Claim, DbError> {
    let inserted = diesel::sql_query(
        "INSERT INTO digest_sent (person_id, cadence, slot) VALUES ($1, $2, $3) \
         ON CONFLICT (person_id, cadence) DO NOTHING",
    )
    .bind::<BigInt, _>(person)
    .bind::<Text, _>(cadence)
    .bind::<Timestamptz, _>(slot)
    .execute(conn)
    .await?;
    if inserted > 0 {
        return Ok(Claim::FirstSeen);
    }
    let previous: SlotRow = diesel::sql_query(
        "SELECT slot FROM digest_sent WHERE person_id = $1 AND cadence = $2 FOR UPDATE",
    )
    .bind::<BigInt, _>(person)
    .bind::<Text, _>(cadence)
    .get_result(conn)
    .await?;
    if previous.slot >= slot {
        return Ok(Claim::Handled);
    }
    diesel::sql_query("UPDATE digest_sent SET slot = $3 WHERE person_id = $1 AND cadence = $2")
        .bind::<BigInt, _>(person)
        .bind::<Text, _>(cadence)
        .bind::<Timestamptz, _>(slot)
        .execute(conn)
        .await?;
    Ok(Claim::Owed {
        since: previous.slot,
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

/// Published, not removed, in a group the member belongs to (so never a private group's post
/// to someone outside it).
const VISIBLE_IN_MY_GROUPS: &str = "p.deleted_at IS NULL AND p.removed_at IS NULL \
    AND p.approval IS NULL \
    AND EXISTS (SELECT 1 FROM group_membership m WHERE m.group_id = p.group_id AND m.person_id = $1)";

/// Questions of the member's groups that got answers (by others) since `since`, most first.
pub async fn new_answers(
    conn: &mut AsyncPgConnection,
    person: i64,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DigestPost>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT p.id, p.title, count(*)::bigint AS n FROM comment c JOIN post p ON p.id = c.post_id \
         WHERE {VISIBLE_IN_MY_GROUPS} AND p.kind = 'question' AND c.parent_id IS NULL \
           AND c.created_at > $2 AND c.author_id <> $1 \
           AND c.deleted_at IS NULL AND c.removed_at IS NULL \
         GROUP BY p.id, p.title ORDER BY n DESC, p.id DESC LIMIT $3"
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
         WHERE me.id = $1 AND {VISIBLE_IN_MY_GROUPS} AND p.kind = 'question' \
           AND p.created_at > $2 AND p.author_id <> $1 AND p.accepted_comment_id IS NULL \
           AND (cardinality(me.expertise_tags) = 0 OR p.tags && me.expertise_tags) \
           AND NOT EXISTS (SELECT 1 FROM comment c WHERE c.post_id = p.id AND c.parent_id IS NULL \
                           AND c.deleted_at IS NULL AND c.removed_at IS NULL) \
         ORDER BY p.id DESC LIMIT $3"
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
         WHERE {VISIBLE_IN_MY_GROUPS} AND p.kind = 'idea' AND p.created_at > $2 AND p.likes > 0 \
         ORDER BY p.likes DESC, p.id DESC LIMIT $3"
    ))
    .bind::<BigInt, _>(person)
    .bind::<Timestamptz, _>(since)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// The member's UTC offset (None: not set).
pub async fn utc_offset(conn: &mut AsyncPgConnection, person: i64) -> Result<Option<i32>, DbError> {
    use crate::schema::local_user::dsl as u;
    Ok(u::local_user
        .filter(u::person_id.eq(person))
        .select(u::utc_offset_minutes)
        .first::<Option<i32>>(conn)
        .await
        .optional()?
        .flatten())
}

pub async fn set_utc_offset(
    conn: &mut AsyncPgConnection,
    person: i64,
    minutes: Option<i32>,
) -> Result<(), DbError> {
    use crate::schema::local_user::dsl as u;
    diesel::update(u::local_user.filter(u::person_id.eq(person)))
        .set(u::utc_offset_minutes.eq(minutes))
        .execute(conn)
        .await?;
    Ok(())
}
