//! Champions shortlists kept per topic and period length (migration
//! `2026-12-05-003151_shortlist_snapshots`): the top members of a topic with the sums the
//! influence rules read, so that a request reads one row instead of every rollup row of the
//! topic. Which snapshot serves which request, and how fresh it must be, is core's
//! (`cenacle_core::insights`).

use crate::{
    insights::{MemberSums, TopicRows},
    DbError, PrepareOnce,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Bool, Date, Float8, Integer, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored snapshot, with its members as they were summed when it was computed — but for
/// people deleted since: their rollups went with them, so a live answer would not list them
/// either. (The sums have no first answers: the shortlist does not read them.)
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub id: i64,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub computed_at: DateTime<Utc>,
    pub last_asked_at: DateTime<Utc>,
    pub acceptance_rate: f64,
    pub complete: bool,
    /// Best first.
    pub members: Vec<MemberSums>,
}

/// The database's clock, and the snapshot of the topic's `days`-long period if there is one.
/// The clock is the one `computed_at` is written and compared with, whichever server asks.
/// The row and its members are read by one statement: a refresh committing meanwhile cannot
/// give the members of one computation with the time and rate of another.
pub async fn snapshot(
    conn: &mut AsyncPgConnection,
    topic: &TopicRows,
    days: i32,
) -> Result<(DateTime<Utc>, Option<Snapshot>), DbError> {
    #[derive(QueryableByName)]
    struct Row {
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
        #[diesel(sql_type = Nullable<BigInt>)]
        person_id: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        threads: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        ideas: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        replies: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        accepted: Option<i64>,
        #[diesel(sql_type = Nullable<Float8>)]
        likes: Option<f64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        views: Option<i64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        helped: Option<i64>,
    }
    // One row per member still there, best first; one row of NULL members when none is (and
    // of NULLs only when there is no snapshot).
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT now() AS now, s.id, s.period_from, s.period_to, s.computed_at, s.last_asked_at, \
                s.acceptance_rate, s.complete, e.person_id, e.threads, e.ideas, e.replies, \
                e.accepted, e.likes, e.views, e.helped \
         FROM (SELECT) AS one LEFT JOIN shortlist_snapshot s \
           ON s.tag = $1 AND COALESCE(s.group_id, 0) = COALESCE($2, 0) AND s.days = $3 \
         LEFT JOIN LATERAL ( \
           SELECT e.* FROM ROWS FROM (jsonb_to_recordset(s.entries) AS \
             (person_id int8, threads int8, ideas int8, replies int8, accepted int8, \
              likes float8, views int8, helped int8)) WITH ORDINALITY \
             AS e (person_id, threads, ideas, replies, accepted, likes, views, helped, rank) \
           WHERE EXISTS (SELECT 1 FROM person p WHERE p.id = e.person_id)) AS e ON true \
         ORDER BY e.rank",
    )
    .bind::<Text, _>(&topic.tag)
    .bind::<Nullable<BigInt>, _>(topic.group_id)
    .bind::<Integer, _>(days)
    .prepared()
    .load(conn)
    .await?;
    // `FROM (SELECT)` gives a row whatever is stored.
    // (Named in full: diesel's `RunQueryDsl::first` would be taken for a slice's.)
    let first = <[Row]>::first(&rows).ok_or(DbError::Query(diesel::result::Error::NotFound))?;
    let now = first.now;
    let stored = match *first {
        Row {
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
            members: rows
                .iter()
                .filter_map(|r| {
                    Some(MemberSums {
                        person_id: r.person_id?,
                        sums: crate::insights::StatsSums {
                            threads: r.threads?,
                            ideas: r.ideas?,
                            replies: r.replies?,
                            accepted: r.accepted?,
                            likes: r.likes?,
                            views: r.views?,
                            first_replies: 0,
                            first_reply_secs: 0,
                        },
                        helped: r.helped?,
                    })
                })
                .collect(),
        }),
        _ => None,
    };
    Ok((now, stored))
}

/// Records that a snapshot was asked for (it is kept fresh while it is) unless that was
/// recorded within `every` (the caller's, which checks it first to spare the statement), and
/// never waiting — a row locked is being refreshed, which keeps its time: the next request
/// served records it.
pub async fn touch(
    conn: &mut AsyncPgConnection,
    id: i64,
    every: std::time::Duration,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE shortlist_snapshot SET last_asked_at = now() WHERE id = \
           (SELECT id FROM shortlist_snapshot \
            WHERE id = $1 AND last_asked_at < now() - $2 * interval '1 second' \
            FOR UPDATE SKIP LOCKED)",
    )
    .bind::<BigInt, _>(id)
    .bind::<Float8, _>(every.as_secs_f64())
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// The advisory lock of a topic's snapshot of one length, [`hold_topic`]'s and
/// [`claim_due`]'s, which must be the same lock: its class, and its object over SQL
/// expressions of the tag, group id and length. The object is a hash of the topic and length:
/// two sharing it only wait for each other more often.
macro_rules! topic_lock_class {
    () => {
        "hashtext('shortlist_snapshot')"
    };
}
macro_rules! topic_lock_object {
    ($tag:literal, $group_id:literal, $days:literal) => {
        concat!(
            "hashtext(",
            $tag,
            " || '/' || COALESCE(",
            $group_id,
            ", 0) || '/' || ",
            $days,
            ")"
        )
    };
}

/// The longest a request waits for another's computation of the same snapshot
/// ([`hold_topic`]): longer than the other waits of a request
/// ([`crate::federation::READ_LOCK_WAIT`], 2 s), which guard short writes, since what it waits
/// for is a computation measured at 0.4–1.6 s at 10 M events on an idle machine (more at
/// midnight, when every snapshot goes stale at once): a waiter given up on at 2 s would then
/// compute it all itself, later than had it waited. The waiter holds nothing its holder needs,
/// so a longer bound risks no deadlock.
pub const TOPIC_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Holds, until the transaction ends, the right to compute the topic's `days`-long snapshot:
/// waits while another transaction holds it (a request computing it, or the background pass
/// refreshing it), so that the first to find no fresh snapshot computes it and the others,
/// once it has committed, read what it stored instead of computing it too (core reads the
/// snapshot again after this). Whether it was taken: the wait is bounded ([`TOPIC_WAIT`],
/// counted with the transaction's other bounded holds, by
/// `advisory_xact_lock_within_transaction`) — a computation that hangs (a slow statement)
/// must not hold every request for the topic and their pool connections behind it; past the
/// wait core computes the answer for the request, as it would without the single flight.
pub async fn hold_topic(
    conn: &mut AsyncPgConnection,
    topic: &TopicRows,
    days: i32,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = Bool)]
        held: bool,
    }
    let wait_ms = i64::try_from(TOPIC_WAIT.as_millis()).unwrap_or(i64::MAX);
    let held: Held = diesel::sql_query(concat!(
        "SELECT advisory_xact_lock_within_transaction(",
        topic_lock_class!(),
        ", ARRAY[",
        topic_lock_object!("$1", "$2", "$3"),
        "], true, $4 * interval '1 millisecond') AS held"
    ))
    .bind::<Text, _>(&topic.tag)
    .bind::<Nullable<BigInt>, _>(topic.group_id)
    .bind::<Integer, _>(days)
    .bind::<BigInt, _>(wait_ms)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(held.held)
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
    /// Whether a request asked for it (it then records it was asked for now); the background
    /// refresh does not, and keeps when it was last asked: else every snapshot it refreshes
    /// would look asked for, be refreshed forever and never forgotten.
    pub asked: bool,
}

/// Stores a snapshot of the topic's `days`-long period in one statement (so that no reader
/// sees half of it): a new row (only a request makes one: the refresh writes over the row it
/// holds), or over the stored one unless another transaction holds that (a refresh under
/// way, which will write a snapshot as fresh) or it is fresher already. A snapshot written
/// has no failed refresh since (`refresh_failed_at` cleared). Whether it was written.
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
                  last_asked_at = CASE WHEN $17 THEN now() ELSE s.last_asked_at END, \
                  acceptance_rate = $7, complete = $8, \
                  entries = (SELECT entries FROM entries), refresh_failed_at = NULL \
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
    .bind::<Bool, _>(new.asked)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(written.written)
}

/// A snapshot due for a refresh.
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

/// What [`claim_due`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Its topic ([`hold_topic`]'s lock) and its row held by the caller's transaction until it
    /// ends: refresh it.
    Held(DueSnapshot),
    /// Its topic held by another transaction — a request computing it, which will store it, or
    /// another server's pass refreshing it — or, once held, no longer due (stored meanwhile):
    /// nothing of it is locked but, in the second case, its topic, until the caller's
    /// transaction ends (end it at once: a request finding it stale would wait for it). The
    /// pass leaves it (the caller adds it to [`Pass::skipped`]).
    Left(DueSnapshot),
}

/// The bounds of one background pass, from the database's clock — the one `computed_at` and
/// `last_asked_at` are written with, whichever server writes them — read once at its start:
/// a pass keeping the same bounds ends, since what it refreshes is computed after them.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// The database's `now()` when the pass started.
    pub started: DateTime<Utc>,
    /// Due: computed longer than this before `started`.
    pub refresh_after: std::time::Duration,
    /// Kept: asked for within this many days before `started`.
    pub asked_within_days: i32,
    /// The snapshots this pass left ([`Claim::Left`]), not claimed again by it: whoever held
    /// its topic stores it, as of before the pass started maybe (a request that began first),
    /// so it may still look due; were it claimed again, the pass would compute what was
    /// just computed, or, while the holder is still at it, claim it and leave it again and
    /// again instead of going on with the others.
    pub skipped: Vec<i64>,
}

/// Starts a pass: the database's clock.
pub async fn pass_started(conn: &mut AsyncPgConnection) -> Result<DateTime<Utc>, DbError> {
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = Timestamptz)]
        now: DateTime<Utc>,
    }
    let now: Now = diesel::sql_query("SELECT now() AS now")
        .prepared()
        .get_result(conn)
        .await?;
    Ok(now.now)
}

/// Whether a snapshot is due by a pass's bounds (`$1` its start, `$2` its `refresh_after` in
/// seconds, `$3` its `asked_within_days`): see [`claim_due`].
macro_rules! due {
    () => {
        "(computed_at < $1 - $2 * interval '1 second' \
           OR period_to < ($1 AT TIME ZONE 'UTC')::date + 1) \
         AND last_asked_at >= $1 - $3 * interval '1 day' \
         AND (refresh_failed_at IS NULL OR refresh_failed_at < $1 - $2 * interval '1 second')"
    };
}

/// Claims the snapshot due longest ago among those asked for within the pass's days and not
/// [`Pass::skipped`]: computed `refresh_after` before the pass started, or of a period that
/// ended before the pass's day (the days end at midnight UTC, as `period_to` is tomorrow's
/// date in UTC: at midnight every snapshot's period is yesterday's, and no request may read one
/// until it is refreshed).
///
/// Its topic is taken first, without waiting (`pg_try_advisory_xact_lock`, [`hold_topic`]'s
/// lock), and its row only once the topic is held: a topic someone holds is [`Claim::Left`]
/// to them, its row never locked. The other order — the row, then the topic — made the pass
/// wait, row in hand, for a request computing the topic, whose store then skipped the locked
/// row (it must not wait for a refresh under way): the request's answer was lost, the
/// requests queued behind it found the snapshot still stale and computed it again one after
/// another, each store lost too, and the pass computed it once more — at midnight, for every
/// topic at once. Taken in this order, a transaction holding the row holds the topic too, so no
/// request is computing it. Held until the caller's transaction ends; several servers' passes
/// leave each other's topics (the topic held), so never refresh one twice.
///
/// One whose last refresh failed ([`refresh_failed`]) is due again only `refresh_after` after
/// that failure (so never twice in one pass, whose bounds are fixed), and it counts as due
/// since that attempt, not since its computation: otherwise, the stalest of all, it would be
/// claimed first by every pass and fail again before the others were reached.
pub async fn claim_due(
    conn: &mut AsyncPgConnection,
    pass: &Pass,
) -> Result<Option<Claim>, DbError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(embed)]
        due: DueSnapshot,
        #[diesel(sql_type = Bool)]
        held: bool,
    }
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)]
        id: i64,
    }
    // The candidate is read without a lock (a plain read waits for nobody), then its topic
    // tried: the CTE, materialized and of one row, tries that one topic's lock only.
    let found: Option<Found> = diesel::sql_query(concat!(
        "WITH due AS MATERIALIZED ( \
           SELECT id, tag, group_id, days FROM shortlist_snapshot WHERE ",
        due!(),
        "  AND id <> ALL($4) \
           ORDER BY GREATEST(computed_at, refresh_failed_at) LIMIT 1) \
         SELECT id, tag, group_id, days, now() AS now, \
                pg_try_advisory_xact_lock(",
        topic_lock_class!(),
        ", ",
        topic_lock_object!("tag", "group_id", "days"),
        ") AS held FROM due"
    ))
    .bind::<Timestamptz, _>(pass.started)
    .bind::<Float8, _>(pass.refresh_after.as_secs_f64())
    .bind::<Integer, _>(pass.asked_within_days)
    .bind::<Array<BigInt>, _>(&pass.skipped)
    .prepared()
    .get_result(conn)
    .await
    .optional()?;
    let Some(Found { due, held }) = found else {
        return Ok(None);
    };
    if !held {
        return Ok(Some(Claim::Left(due)));
    }
    // A statement of its own, so that it sees what a holder of the topic committed before the
    // lock was granted: a request's store makes it no longer due. SKIP LOCKED: the row can be
    // locked by a request recording it was asked for (`touch`, at once) or a server still
    // claiming in the old order; it is left to the next pass rather than waited for.
    let locked: Option<Locked> = diesel::sql_query(concat!(
        "SELECT id FROM shortlist_snapshot WHERE id = $4 AND ",
        due!(),
        " FOR UPDATE SKIP LOCKED"
    ))
    .bind::<Timestamptz, _>(pass.started)
    .bind::<Float8, _>(pass.refresh_after.as_secs_f64())
    .bind::<Integer, _>(pass.asked_within_days)
    .bind::<BigInt, _>(due.id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?;
    Ok(Some(match locked {
        Some(_) => Claim::Held(due),
        None => Claim::Left(due),
    }))
}

/// Records that the refresh of a claimed snapshot failed, at the database's clock (the
/// transaction's start): the snapshot itself is kept as it was (requests finding it stale
/// compute it for themselves), and the pass goes on with the others (see [`claim_due`]).
pub async fn refresh_failed(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::sql_query("UPDATE shortlist_snapshot SET refresh_failed_at = now() WHERE id = $1")
        .bind::<BigInt, _>(id)
        .prepared()
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the snapshots nobody asked for within `asked_within_days` (by the database's
/// clock): they would not be served (too old), and are not refreshed; a request for one
/// computes it again. How many went.
pub async fn forget_unasked(
    conn: &mut AsyncPgConnection,
    asked_within_days: i32,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "DELETE FROM shortlist_snapshot WHERE last_asked_at < now() - $1 * interval '1 day'",
    )
    .bind::<Integer, _>(asked_within_days)
    .prepared()
    .execute(conn)
    .await?)
}
