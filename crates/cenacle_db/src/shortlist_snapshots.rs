//! Champions shortlists kept per topic and period length (migration
//! `2026-12-05-003151_shortlist_snapshots`): the top members of a topic with the sums the
//! influence rules read, so that a request reads one row instead of every rollup row of the
//! topic. Which snapshot serves which request, and how fresh it must be, is core's
//! (`cenacle_core::insights`).

use crate::{
    insights::{MemberSums, TopicRows},
    schema::shortlist_snapshot,
    DbError, PrepareOnce,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Bool, Date, Float8, Integer, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored snapshot, without its entries ([`snapshot_members`]).
#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct Snapshot {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Date)]
    pub period_from: NaiveDate,
    #[diesel(sql_type = Date)]
    pub period_to: NaiveDate,
    #[diesel(sql_type = Timestamptz)]
    pub computed_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub last_asked_at: DateTime<Utc>,
    #[diesel(sql_type = Float8)]
    pub acceptance_rate: f64,
    #[diesel(sql_type = Bool)]
    pub complete: bool,
}

/// The database's clock, and the snapshot of the topic's `days`-long period if there is one.
/// The clock is the one `computed_at` is written and compared with, whichever server asks.
pub async fn snapshot(
    conn: &mut AsyncPgConnection,
    topic: &TopicRows,
    days: i32,
) -> Result<(DateTime<Utc>, Option<Snapshot>), DbError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Timestamptz)]
        now: DateTime<Utc>,
        #[diesel(sql_type = Nullable<BigInt>)]
        id: Option<i64>,
        #[diesel(sql_type = Nullable<Date>)]
        period_from: Option<NaiveDate>,
        #[diesel(sql_type = Nullable<Date>)]
        period_to: Option<NaiveDate>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        computed_at: Option<DateTime<Utc>>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        last_asked_at: Option<DateTime<Utc>>,
        #[diesel(sql_type = Nullable<Float8>)]
        acceptance_rate: Option<f64>,
        #[diesel(sql_type = Nullable<Bool>)]
        complete: Option<bool>,
    }
    let found: Found = diesel::sql_query(
        "SELECT now() AS now, s.id, s.period_from, s.period_to, s.computed_at, s.last_asked_at, \
                s.acceptance_rate, s.complete \
         FROM (SELECT) AS one LEFT JOIN shortlist_snapshot s \
           ON s.tag = $1 AND COALESCE(s.group_id, 0) = COALESCE($2, 0) AND s.days = $3",
    )
    .bind::<Text, _>(&topic.tag)
    .bind::<Nullable<BigInt>, _>(topic.group_id)
    .bind::<Integer, _>(days)
    .prepared()
    .get_result(conn)
    .await?;
    let stored = match found {
        Found {
            id: Some(id),
            period_from: Some(period_from),
            period_to: Some(period_to),
            computed_at: Some(computed_at),
            last_asked_at: Some(last_asked_at),
            acceptance_rate: Some(acceptance_rate),
            complete: Some(complete),
            ..
        } => Some(Snapshot {
            id,
            period_from,
            period_to,
            computed_at,
            last_asked_at,
            acceptance_rate,
            complete,
        }),
        _ => None,
    };
    Ok((found.now, stored))
}

/// A snapshot's members, best first, as they were summed when it was computed — but for
/// people deleted since: their rollups went with them, so a live answer would not list them
/// either. (The sums have no first answers: the shortlist does not read them.)
pub async fn snapshot_members(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Vec<MemberSums>, DbError> {
    Ok(diesel::sql_query(
        "SELECT e.person_id, e.threads, e.ideas, e.replies, e.accepted, e.likes, e.views, \
                0::int8 AS first_replies, 0::int8 AS first_reply_secs, e.helped \
         FROM shortlist_snapshot s \
         CROSS JOIN LATERAL ROWS FROM (jsonb_to_recordset(s.entries) AS \
           (person_id int8, threads int8, ideas int8, replies int8, accepted int8, likes float8, \
            views int8, helped int8)) WITH ORDINALITY \
           AS e (person_id, threads, ideas, replies, accepted, likes, views, helped, rank) \
         WHERE s.id = $1 AND EXISTS (SELECT 1 FROM person p WHERE p.id = e.person_id) \
         ORDER BY e.rank",
    )
    .bind::<BigInt, _>(id)
    .prepared()
    .load(conn)
    .await?)
}

/// Records that a snapshot was asked for (it is kept fresh while it is): at most once an hour,
/// and never waiting — a row locked is being refreshed, which writes its own time.
pub async fn touch(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE shortlist_snapshot SET last_asked_at = now() WHERE id = \
           (SELECT id FROM shortlist_snapshot \
            WHERE id = $1 AND last_asked_at < now() - interval '1 hour' FOR UPDATE SKIP LOCKED)",
    )
    .bind::<BigInt, _>(id)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// A shortlist to store.
#[derive(Debug, Clone, Copy)]
pub struct NewSnapshot<'a> {
    pub topic: &'a TopicRows,
    pub days: i32,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub computed_at: DateTime<Utc>,
    pub acceptance_rate: f64,
    pub complete: bool,
    /// Best first.
    pub members: &'a [MemberSums],
}

/// Stores a snapshot of the topic's `days`-long period, asked for now, in one statement (so
/// that no reader sees half of it): a new row, or over the stored one unless another
/// transaction holds that (a refresh under way, which will write a snapshot as fresh) or it
/// is fresher already. Whether it was written.
pub async fn store(conn: &mut AsyncPgConnection, new: &NewSnapshot<'_>) -> Result<bool, DbError> {
    let column = |f: fn(&MemberSums) -> i64| new.members.iter().map(f).collect::<Vec<i64>>();
    let ids = column(|m| m.person_id);
    let threads = column(|m| m.sums.threads);
    let ideas = column(|m| m.sums.ideas);
    let replies = column(|m| m.sums.replies);
    let accepted = column(|m| m.sums.accepted);
    let views = column(|m| m.sums.views);
    let helped = column(|m| m.helped);
    let likes: Vec<f64> = new.members.iter().map(|m| m.sums.likes).collect();
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = Bool)]
        written: bool,
    }
    let written: Written = diesel::sql_query(
        "WITH entries AS ( \
           SELECT COALESCE(jsonb_agg(jsonb_build_object('person_id', p, 'threads', t, 'ideas', i, \
                    'replies', r, 'accepted', a, 'likes', l, 'views', v, 'helped', h) \
                    ORDER BY n), '[]'::jsonb) AS entries \
           FROM unnest($9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], \
                       $14::float8[], $15::int8[], $16::int8[]) WITH ORDINALITY \
                AS u (p, t, i, r, a, l, v, h, n)), \
         inserted AS ( \
           INSERT INTO shortlist_snapshot (tag, group_id, days, period_from, period_to, \
                                           computed_at, last_asked_at, acceptance_rate, complete, \
                                           entries) \
           SELECT $1, $2, $3, $4, $5, $6, now(), $7, $8, entries FROM entries \
           ON CONFLICT DO NOTHING RETURNING id), \
         updated AS ( \
           UPDATE shortlist_snapshot s SET period_from = $4, period_to = $5, computed_at = $6, \
                  last_asked_at = now(), acceptance_rate = $7, complete = $8, \
                  entries = (SELECT entries FROM entries) \
           WHERE s.id = (SELECT id FROM shortlist_snapshot \
                         WHERE tag = $1 AND COALESCE(group_id, 0) = COALESCE($2, 0) AND days = $3 \
                           AND computed_at < $6 AND NOT EXISTS (SELECT 1 FROM inserted) \
                         FOR UPDATE SKIP LOCKED) \
           RETURNING s.id) \
         SELECT EXISTS (SELECT 1 FROM inserted) OR EXISTS (SELECT 1 FROM updated) AS written",
    )
    .bind::<Text, _>(&new.topic.tag)
    .bind::<Nullable<BigInt>, _>(new.topic.group_id)
    .bind::<Integer, _>(new.days)
    .bind::<Date, _>(new.period_from)
    .bind::<Date, _>(new.period_to)
    .bind::<Timestamptz, _>(new.computed_at)
    .bind::<Float8, _>(new.acceptance_rate)
    .bind::<Bool, _>(new.complete)
    .bind::<Array<BigInt>, _>(&ids)
    .bind::<Array<BigInt>, _>(&threads)
    .bind::<Array<BigInt>, _>(&ideas)
    .bind::<Array<BigInt>, _>(&replies)
    .bind::<Array<BigInt>, _>(&accepted)
    .bind::<Array<Float8>, _>(&likes)
    .bind::<Array<BigInt>, _>(&views)
    .bind::<Array<BigInt>, _>(&helped)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(written.written)
}

/// A snapshot due for a refresh, locked by the caller's transaction.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct DueSnapshot {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub tag: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub group_id: Option<i64>,
    #[diesel(sql_type = Integer)]
    pub days: i32,
    /// The database's clock (the transaction's start): the refreshed snapshot's time.
    #[diesel(sql_type = Timestamptz)]
    pub now: DateTime<Utc>,
}

/// Claims the snapshot computed longest ago, before `computed_before`, among those asked for
/// since `asked_since`: locked until the caller's transaction ends, and skipped by the others
/// meanwhile (SKIP LOCKED), so that several servers refresh side by side and never one topic
/// twice. A refreshed row is computed after `computed_before`: a pass that keeps the same
/// bound ends.
pub async fn claim_due(
    conn: &mut AsyncPgConnection,
    computed_before: DateTime<Utc>,
    asked_since: DateTime<Utc>,
) -> Result<Option<DueSnapshot>, DbError> {
    Ok(diesel::sql_query(
        "SELECT id, tag, group_id, days, now() AS now FROM shortlist_snapshot \
         WHERE computed_at < $1 AND last_asked_at >= $2 \
         ORDER BY computed_at LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind::<Timestamptz, _>(computed_before)
    .bind::<Timestamptz, _>(asked_since)
    .prepared()
    .get_result(conn)
    .await
    .optional()?)
}

/// Deletes the snapshots nobody asked for since `asked_since`: they would not be served
/// (too old), and are not refreshed; a request for one computes it again. How many went.
pub async fn forget_unasked(
    conn: &mut AsyncPgConnection,
    asked_since: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::delete(
        shortlist_snapshot::table.filter(shortlist_snapshot::last_asked_at.lt(asked_since)),
    )
    .execute(conn)
    .await?)
}
