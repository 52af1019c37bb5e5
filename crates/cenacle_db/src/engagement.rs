//! Reputation and points ledgers. Every function runs in the caller's transaction, beside the
//! action that earned or lost something.

use crate::{
    schema::{instance, person, points_balance, points_ledger, reputation, reputation_event},
    DbError, PrepareOnce,
};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Nullable, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A person's reputation with the rollups kept beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct ReputationState {
    #[diesel(sql_type = BigInt)]
    pub score: i64,
    /// Net reputation from capped causes (likes) earned on `today`.
    #[diesel(sql_type = BigInt)]
    pub capped_today: i64,
    /// Likes received from others, live, each counting its vote's weight, in thousandths of a
    /// like.
    #[diesel(sql_type = BigInt)]
    pub likes_milli: i64,
}

/// A person's reputation state (1, nothing capped, no likes when they have none yet), the row
/// locked for the rest of the transaction so that concurrent events for one person apply one
/// after the other. One statement when the row exists (the usual case).
pub async fn lock_reputation(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<ReputationState, DbError> {
    let locked = || {
        diesel::sql_query(format!(
            "SELECT score, CASE WHEN capped_day = {TODAY} THEN capped_today ELSE 0 END AS capped_today, \
               likes_received_milli AS likes_milli FROM reputation WHERE person_id = $1 FOR UPDATE"
        ))
        .bind::<BigInt, _>(person_id)
        .prepared()
    };
    if let Some(state) = locked().get_result(conn).await.optional()? {
        return Ok(state);
    }
    diesel::insert_into(reputation::table)
        .values(reputation::person_id.eq(person_id))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(locked().get_result(conn).await?)
}

// ---- ranks reached ----

/// Marks `person`'s rank to be looked at by the next [`ranks_due`] (something that raises its
/// score happened). A like marks it in the statement that counts it (`record_reputation`).
pub async fn mark_rank_due(conn: &mut AsyncPgConnection, person_id: i64) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO reputation (person_id, rank_due) VALUES ($1, TRUE) \
         ON CONFLICT (person_id) DO UPDATE SET rank_due = TRUE WHERE NOT reputation.rank_due",
    )
    .bind::<BigInt, _>(person_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A person whose rank is to be looked at.
#[derive(QueryableByName, Debug, Clone, Copy)]
pub struct RankDue {
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    /// The threshold of the highest rank they were told of; None: never looked at (see the
    /// migration `rank_reached`).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub rank_told: Option<i64>,
    #[diesel(sql_type = Bool)]
    pub local: bool,
}

/// At most `limit` people whose rank is due, read without locking: each is claimed in its
/// own transaction by [`claim_rank_due`].
pub async fn ranks_due(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<i64>, DbError> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = BigInt)]
        person_id: i64,
    }
    let due: Vec<Due> = diesel::sql_query(
        "SELECT person_id FROM reputation WHERE rank_due ORDER BY person_id LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(due.into_iter().map(|d| d.person_id).collect())
}

/// `person`'s rank mark, locked for this transaction, if it is still due and no other
/// server's job holds it.
pub async fn claim_rank_due(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Option<RankDue>, DbError> {
    Ok(diesel::sql_query(
        "SELECT r.person_id, r.rank_told, p.local FROM reputation r JOIN person p ON p.id = r.person_id \
         WHERE r.person_id = $1 AND r.rank_due FOR UPDATE OF r SKIP LOCKED",
    )
    .bind::<BigInt, _>(person_id)
    .get_result(conn)
    .await
    .optional()?)
}

/// `person`'s rank was looked at: `told` is the threshold of the highest rank they know of
/// (None: left as it was, for people of other servers who are never told).
pub async fn rank_looked_at(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    told: Option<i64>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE reputation SET rank_due = FALSE, rank_told = COALESCE($2, rank_told) \
         WHERE person_id = $1",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Nullable<BigInt>, _>(told)
    .execute(conn)
    .await?;
    Ok(())
}

/// A person's reputation as shown and gated on: the exact sum of their events (from 1), never
/// below the floor (see `cenacle_domain::engagement::shown_reputation`).
pub async fn reputation_of(conn: &mut AsyncPgConnection, person_id: i64) -> Result<i64, DbError> {
    let score = reputation::table
        .find(person_id)
        .select(reputation::score)
        .first(conn)
        .await
        .optional()?
        .unwrap_or(1);
    Ok(cenacle_domain::engagement::shown_reputation(score))
}

/// A reputation event to record.
pub struct NewReputationEvent<'a> {
    pub person_id: i64,
    pub delta: i64,
    pub cause: &'a str,
    /// What earned it, e.g. `like:post:12:by:7`: one live event per key.
    pub source_key: &'a str,
    pub group_id: Option<i64>,
    /// Counts toward the daily cap (likes).
    pub capped: bool,
    /// How the live likes received by the person change with it, in thousandths of a like:
    /// a like's weight (see [`likes_milli`]), 0 for other causes.
    pub likes_milli: i64,
    /// The content it came from (the thread, and the comment within it): when that content
    /// goes, the event is reversed with it.
    pub content: Content,
}

/// The content a reward came from, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Content {
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
}

/// Records an event and moves the score and its rollups, in one statement (the cap's day is
/// the UTC day of the transaction, as the event's `created_at`; a transaction that started
/// before midnight but commits after one of the next day never moves the day back, so it
/// cannot reset the new day's tally). Returns the new state, or
/// None (nothing changed) when a live event with this key already exists: the cause was
/// already paid.
pub async fn record_reputation(
    conn: &mut AsyncPgConnection,
    event: &NewReputationEvent<'_>,
) -> Result<Option<ReputationState>, DbError> {
    Ok(diesel::sql_query(format!(
        "WITH ev AS ( \
           INSERT INTO reputation_event (person_id, delta, cause, source_key, group_id, capped, post_id, comment_id, likes_milli) \
           VALUES ($1, $2, $3, $4, $5, $6, $8, $9, $7) ON CONFLICT DO NOTHING RETURNING delta, capped, likes_milli) \
         UPDATE reputation SET score = score + ev.delta, \
           capped_today = CASE WHEN NOT ev.capped THEN capped_today \
                               WHEN capped_day = {TODAY} THEN capped_today + ev.delta \
                               WHEN capped_day > {TODAY} THEN capped_today \
                               ELSE ev.delta END, \
           capped_day = CASE WHEN ev.capped THEN GREATEST(capped_day, {TODAY}) ELSE capped_day END, \
           likes_received_milli = likes_received_milli + ev.likes_milli, \
           rank_due = rank_due OR ev.likes_milli > 0 \
         FROM ev WHERE person_id = $1 \
         RETURNING score, CASE WHEN capped_day = {TODAY} THEN capped_today ELSE 0 END AS capped_today, \
           likes_received_milli AS likes_milli"
    ))
    .bind::<BigInt, _>(event.person_id)
    .bind::<BigInt, _>(event.delta)
    .bind::<Text, _>(event.cause)
    .bind::<Text, _>(event.source_key)
    .bind::<Nullable<BigInt>, _>(event.group_id)
    .bind::<Bool, _>(event.capped)
    .bind::<BigInt, _>(event.likes_milli)
    .bind::<Nullable<BigInt>, _>(event.content.post_id)
    .bind::<Nullable<BigInt>, _>(event.content.comment_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?)
}

/// A like of `weight` (its vote's, as recorded), in the thousandths of a like that likes
/// received are counted in: integers, so that a like and its withdrawal cancel exactly.
pub fn likes_milli(weight: f64) -> i64 {
    (weight.max(0.0) * 1000.0).round() as i64
}

/// The UTC day of the transaction: the day of the daily cap, as the events' `created_at` is.
const TODAY: &str = "(now() AT TIME ZONE 'UTC')::date";

/// A ledger row still in force (neither reversed nor a reversal), found by its source key.
#[derive(QueryableByName)]
struct LiveEntry {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    person_id: i64,
    #[diesel(sql_type = BigInt)]
    delta: i64,
}

/// Runs `query` (one of the ledgers' "live row by `$1` source key, locked with its person's
/// total" statements) for `source_key`.
async fn live_entry(
    conn: &mut AsyncPgConnection,
    query: &'static str,
    source_key: &str,
) -> Result<Option<LiveEntry>, DbError> {
    Ok(diesel::sql_query(query)
        .bind::<Text, _>(source_key)
        .prepared()
        .get_result(conn)
        .await
        .optional()?)
}

/// Why a live row is reversed. Its reversal's key says it (`{key}:undone:{id}`,
/// `{key}:removed:{id}`): a reversal for a moderator's removal stays pending until the content
/// is restored (then it is itself undone: see [`reinstate_reputation`]) or its cause goes for
/// good (see [`settle_removed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reversal {
    /// The cause went: a vote withdrawn, an acceptance moved, content deleted.
    Undone,
    /// A moderator removed the content it came from (restorable).
    Removed,
}

impl Reversal {
    fn tag(self) -> &'static str {
        match self {
            Reversal::Undone => "undone",
            Reversal::Removed => "removed",
        }
    }
}

/// Reversal rows made for a removal and not yet settled (`reversed` set on a reversal row
/// means that it was itself undone by a restore, or that its cause went for good).
const PENDING_REMOVAL: &str =
    "reverses IS NOT NULL AND NOT reversed AND source_key ~ ':removed:[0-9]+$'";

/// Reverses the live event with `source_key`, if any, by a new event of exactly the opposite
/// delta (the floor is the reader's), moving the score and its rollups back. Returns the person
/// affected. Two statements: the event and its person's row locked, then the reversal.
pub async fn reverse_reputation(
    conn: &mut AsyncPgConnection,
    source_key: &str,
    why: Reversal,
) -> Result<Option<i64>, DbError> {
    let live = live_entry(
        conn,
        "SELECT e.id, e.person_id, e.delta FROM reputation_event e \
         JOIN reputation r ON r.person_id = e.person_id \
         WHERE e.source_key = $1 AND e.reverses IS NULL AND NOT e.reversed \
         FOR UPDATE",
        source_key,
    )
    .await?;
    let Some(live) = live else {
        return Ok(None);
    };
    let undo = cenacle_domain::engagement::reversal(live.delta);
    diesel::sql_query(format!(
        "WITH old AS (UPDATE reputation_event SET reversed = TRUE WHERE id = $1 \
                      RETURNING id, person_id, cause, source_key, group_id, capped, post_id, comment_id, likes_milli), \
              ev AS (INSERT INTO reputation_event \
                       (person_id, delta, cause, source_key, group_id, reverses, capped, post_id, comment_id, likes_milli) \
                     SELECT person_id, $2, cause, source_key || ':{tag}:' || id, group_id, id, capped, \
                            post_id, comment_id, -likes_milli \
                     FROM old RETURNING delta, capped, likes_milli) \
         UPDATE reputation SET score = score + ev.delta, \
           capped_today = CASE WHEN NOT ev.capped THEN capped_today \
                               WHEN capped_day = {TODAY} THEN capped_today + ev.delta \
                               WHEN capped_day > {TODAY} THEN capped_today \
                               ELSE ev.delta END, \
           capped_day = CASE WHEN ev.capped THEN GREATEST(capped_day, {TODAY}) ELSE capped_day END, \
           likes_received_milli = likes_received_milli + ev.likes_milli \
         FROM ev WHERE reputation.person_id = $3",
        tag = why.tag()
    ))
    .bind::<BigInt, _>(live.id)
    .bind::<BigInt, _>(undo)
    .bind::<BigInt, _>(live.person_id)
    .prepared()
    .execute(conn)
    .await?;
    Ok(Some(live.person_id))
}

#[derive(Debug, Clone, Queryable)]
pub struct ReputationEvent {
    pub id: i64,
    pub delta: i64,
    pub cause: String,
    pub reverses: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A person's reputation history, newest first.
pub async fn reputation_history(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    before_id: i64,
    limit: i64,
) -> Result<Vec<ReputationEvent>, DbError> {
    Ok(reputation_event::table
        .filter(reputation_event::person_id.eq(person_id))
        .filter(reputation_event::id.lt(before_id))
        .order(reputation_event::id.desc())
        .limit(limit)
        .select((
            reputation_event::id,
            reputation_event::delta,
            reputation_event::cause,
            reputation_event::reverses,
            reputation_event::created_at,
        ))
        .load(conn)
        .await?)
}

/// What decides how much a person's votes count: their instance's weight (1.0 for local
/// people and instances without one) and whether it is blocked (the instance serving their
/// actor, or the one their confirmed handle names).
#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct VoterStanding {
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub weight: f64,
    #[diesel(sql_type = Bool)]
    pub blocked: bool,
}

const UNKNOWN_STANDING: VoterStanding = VoterStanding {
    weight: 1.0,
    blocked: false,
};

pub async fn voter_standing(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<VoterStanding, DbError> {
    let found: Option<VoterStanding> = diesel::sql_query(
        "SELECT COALESCE(i.reputation_weight, 1.0) AS weight, \
                COALESCE(i.blocked, FALSE) OR COALESCE(h.blocked, FALSE) AS blocked \
         FROM person p LEFT JOIN instance i ON NOT p.local AND i.host = p.instance_host \
           LEFT JOIN instance h ON NOT p.local AND h.host = p.handle_host WHERE p.id = $1",
    )
    .bind::<BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?;
    Ok(found.unwrap_or(UNKNOWN_STANDING))
}

/// The standing of the instance `host` (weight 1.0, not blocked, when unknown).
pub async fn instance_standing(
    conn: &mut AsyncPgConnection,
    host: &str,
) -> Result<VoterStanding, DbError> {
    let found: Option<(f64, bool)> = instance::table
        .find(host)
        .select((instance::reputation_weight, instance::blocked))
        .first(conn)
        .await
        .optional()?;
    Ok(
        found.map_or(UNKNOWN_STANDING, |(weight, blocked)| VoterStanding {
            weight,
            blocked,
        }),
    )
}

/// Which live rewards to find.
#[derive(Debug, Clone, Copy)]
pub enum LiveRewards<'a> {
    /// Everything earned from a thread: the post and every comment under it.
    Post(i64),
    /// Everything earned from one comment of a thread.
    Comment { post_id: i64, comment_id: i64 },
    /// These keys, those of them that are live.
    Keys(&'a [String]),
}

/// The keys of the live reputation events (`points = false`) or points rows (`points = true`)
/// that `which` selects, in the order of their people, so that reversing them one by one
/// locks people's rows in the order every other writer does.
pub async fn live_reward_keys(
    conn: &mut AsyncPgConnection,
    points: bool,
    which: LiveRewards<'_>,
) -> Result<Vec<String>, DbError> {
    use diesel::sql_types::Array;
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        source_key: String,
    }
    let table = if points {
        "points_ledger"
    } else {
        "reputation_event"
    };
    let live = "reverses IS NULL AND NOT reversed";
    let query = |filter: &str| {
        diesel::sql_query(format!(
            "SELECT source_key FROM {table} WHERE {filter} AND {live} ORDER BY person_id, id"
        ))
    };
    let keys: Vec<Key> = match which {
        LiveRewards::Post(post_id) => {
            query("post_id = $1")
                .bind::<BigInt, _>(post_id)
                .load(conn)
                .await?
        }
        LiveRewards::Comment {
            post_id,
            comment_id,
        } => {
            query("post_id = $1 AND comment_id = $2")
                .bind::<BigInt, _>(post_id)
                .bind::<BigInt, _>(comment_id)
                .load(conn)
                .await?
        }
        LiveRewards::Keys(keys) => {
            query("source_key = ANY($1)")
                .bind::<Array<Text>, _>(keys)
                .load(conn)
                .await?
        }
    };
    Ok(keys.into_iter().map(|k| k.source_key).collect())
}

/// The people whose live reputation events or points rows `which` selects, each with whether
/// they have points rows among them: everyone a reversal of them locks (see
/// `cenacle_core::rewards::lock_people`).
pub async fn live_reward_people(
    conn: &mut AsyncPgConnection,
    which: LiveRewards<'_>,
) -> Result<Vec<(i64, bool)>, DbError> {
    use diesel::sql_types::{Array, Bool};
    #[derive(QueryableByName)]
    struct Person {
        #[diesel(sql_type = BigInt)]
        person_id: i64,
        #[diesel(sql_type = Bool)]
        points: bool,
    }
    let query = |filter: &str| {
        let live = "reverses IS NULL AND NOT reversed";
        diesel::sql_query(format!(
            "SELECT person_id, bool_or(points) AS points FROM \
               (SELECT person_id, FALSE AS points FROM reputation_event WHERE {filter} AND {live} \
                UNION ALL \
                SELECT person_id, TRUE FROM points_ledger WHERE {filter} AND {live}) AS p \
             GROUP BY person_id ORDER BY person_id"
        ))
    };
    let people: Vec<Person> = match which {
        LiveRewards::Post(post_id) => {
            query("post_id = $1")
                .bind::<BigInt, _>(post_id)
                .load(conn)
                .await?
        }
        LiveRewards::Comment {
            post_id,
            comment_id,
        } => {
            query("post_id = $1 AND comment_id = $2")
                .bind::<BigInt, _>(post_id)
                .bind::<BigInt, _>(comment_id)
                .load(conn)
                .await?
        }
        LiveRewards::Keys(keys) => {
            query("source_key = ANY($1)")
                .bind::<Array<Text>, _>(keys)
                .load(conn)
                .await?
        }
    };
    Ok(people
        .into_iter()
        .map(|p| (p.person_id, p.points))
        .collect())
}

pub async fn set_instance_weight(
    conn: &mut AsyncPgConnection,
    host: &str,
    weight: f64,
) -> Result<(), DbError> {
    diesel::insert_into(instance::table)
        .values((
            instance::host.eq(host),
            instance::reputation_weight.eq(weight),
        ))
        .on_conflict(instance::host)
        .do_update()
        .set(instance::reputation_weight.eq(weight))
        .execute(conn)
        .await?;
    Ok(())
}

// ---- points ----

/// A person's points balance with the day's capped earnings, the row locked for the rest of
/// the transaction (created at 0 when missing), so that concurrent earnings apply one after
/// the other against the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct PointsState {
    #[diesel(sql_type = BigInt)]
    pub balance: i64,
    /// Net points from capped causes earned on `today`.
    #[diesel(sql_type = BigInt)]
    pub capped_today: i64,
}

pub async fn lock_points(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<PointsState, DbError> {
    let locked = || {
        diesel::sql_query(format!(
            "SELECT balance, CASE WHEN capped_day = {TODAY} THEN capped_today ELSE 0 END AS capped_today \
             FROM points_balance WHERE person_id = $1 FOR UPDATE"
        ))
        .bind::<BigInt, _>(person_id)
        .prepared()
    };
    if let Some(state) = locked().get_result(conn).await.optional()? {
        return Ok(state);
    }
    diesel::insert_into(points_balance::table)
        .values(points_balance::person_id.eq(person_id))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(locked().get_result(conn).await?)
}

/// A points ledger row to write.
pub struct NewPoints<'a> {
    pub person_id: i64,
    pub delta: i64,
    pub reason: &'a str,
    /// What paid it: one live row per key (a replay pays nothing).
    pub source_key: &'a str,
    pub granted_by: Option<i64>,
    /// Counts toward the daily cap.
    pub capped: bool,
    /// The key stays taken after the row is reversed: paid once, ever.
    pub once: bool,
    pub content: Content,
}

/// How the balance's cached columns move with a row `r` (of `delta`, `capped`, `may_owe`): the
/// statement shared by earnings and reversals, so that both keep the same day's total.
/// `may_owe` says whether the move may leave the balance below zero (the balance's CHECK):
/// reversals may (points spent before their cause went are owed), and so may credits (paying
/// part of a debt); spends and corrections may not.
/// A transaction that began before midnight (its `now()` is its start) after one that began
/// after it must not take the tally back to the old day: as for reputation, a later day
/// already recorded stays, and its tally is not touched.
const MOVE_BALANCE: &str = "balance = b.balance + r.delta, \
     capped_today = CASE WHEN NOT r.capped THEN b.capped_today \
                         WHEN b.capped_day = (now() AT TIME ZONE 'UTC')::date THEN b.capped_today + r.delta \
                         WHEN b.capped_day > (now() AT TIME ZONE 'UTC')::date THEN b.capped_today \
                         ELSE r.delta END, \
     capped_day = CASE WHEN r.capped THEN GREATEST(b.capped_day, (now() AT TIME ZONE 'UTC')::date) \
                       ELSE b.capped_day END, \
     may_owe = r.may_owe";

/// Writes a ledger row and moves the balance, in one statement; false when a live row with
/// this key exists (already paid). A debit (spend, correction) that would leave the balance
/// below zero breaks the balance's CHECK — also when it is below zero already, a debt: the
/// caller's transaction fails and nothing is half-applied (when the person has no balance
/// yet, the row that would be created is refused the same way). A credit never breaks it.
pub async fn record_points_entry(
    conn: &mut AsyncPgConnection,
    entry: &NewPoints<'_>,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = BigInt)]
        written: i64,
    }
    let written: Written = diesel::sql_query(format!(
        "WITH r AS (INSERT INTO points_ledger \
                      (person_id, delta, reason, source_key, granted_by, capped, once, post_id, comment_id) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING \
                    RETURNING person_id, delta, capped, delta >= 0 AS may_owe), \
              moved AS (UPDATE points_balance b SET {MOVE_BALANCE} FROM r \
                        WHERE b.person_id = r.person_id RETURNING b.person_id), \
              created AS (INSERT INTO points_balance (person_id, balance, capped_day, capped_today, may_owe) \
                          SELECT person_id, delta, CASE WHEN capped THEN {TODAY} END, \
                                 CASE WHEN capped THEN delta ELSE 0 END, may_owe \
                          FROM r WHERE NOT EXISTS (SELECT 1 FROM moved) \
                          ON CONFLICT (person_id) DO UPDATE SET balance = points_balance.balance + EXCLUDED.balance, \
                                 may_owe = EXCLUDED.may_owe \
                          RETURNING person_id) \
         SELECT count(*) AS written FROM r"
    ))
    .bind::<BigInt, _>(entry.person_id)
    .bind::<BigInt, _>(entry.delta)
    .bind::<Text, _>(entry.reason)
    .bind::<Text, _>(entry.source_key)
    .bind::<Nullable<BigInt>, _>(entry.granted_by)
    .bind::<Bool, _>(entry.capped)
    .bind::<Bool, _>(entry.once)
    .bind::<Nullable<BigInt>, _>(entry.content.post_id)
    .bind::<Nullable<BigInt>, _>(entry.content.comment_id)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(written.written == 1)
}

/// The (person, delta, reason) of the points row first written with `source_key`, if any.
pub async fn points_row_by_key(
    conn: &mut AsyncPgConnection,
    source_key: &str,
) -> Result<Option<(i64, i64, String)>, DbError> {
    Ok(points_ledger::table
        .filter(points_ledger::source_key.eq(source_key))
        .filter(points_ledger::reverses.is_null())
        .select((
            points_ledger::person_id,
            points_ledger::delta,
            points_ledger::reason,
        ))
        .first(conn)
        .await
        .optional()?)
}

/// Adds an uncapped ledger row (a grant, an escrow, a prize) and moves the balance; false
/// when `source_key` was already paid. See [`record_points_entry`].
pub async fn record_points(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    delta: i64,
    reason: &str,
    source_key: &str,
    granted_by: Option<i64>,
) -> Result<bool, DbError> {
    record_points_entry(
        conn,
        &NewPoints {
            person_id,
            delta,
            reason,
            source_key,
            granted_by,
            capped: false,
            once: false,
            content: Content::default(),
        },
    )
    .await
}

/// Reverses the live points row with `source_key`, if any, by a row that offsets it exactly
/// (points already spent become a debt: see `points_reversal`), moving the balance back. Returns the person affected.
/// Two statements: the row and its balance locked, then the reversal and the balance's move.
pub async fn reverse_points(
    conn: &mut AsyncPgConnection,
    source_key: &str,
    why: Reversal,
) -> Result<Option<i64>, DbError> {
    let live = live_entry(
        conn,
        "SELECT l.id, l.person_id, l.delta FROM points_ledger l \
         JOIN points_balance b ON b.person_id = l.person_id \
         WHERE l.source_key = $1 AND l.reverses IS NULL AND NOT l.reversed \
         FOR UPDATE",
        source_key,
    )
    .await?;
    let Some(live) = live else {
        return Ok(None);
    };
    let undo = cenacle_domain::engagement::points_reversal(live.delta);
    diesel::sql_query(format!(
        "WITH old AS (UPDATE points_ledger SET reversed = TRUE WHERE id = $1 \
                      RETURNING id, person_id, reason, source_key, capped, post_id, comment_id), \
              r AS (INSERT INTO points_ledger \
                      (person_id, delta, reason, source_key, reverses, capped, post_id, comment_id) \
                    SELECT person_id, $2, reason, source_key || ':{tag}:' || id, id, capped, \
                           post_id, comment_id \
                    FROM old RETURNING person_id, delta, capped, TRUE AS may_owe) \
         UPDATE points_balance b SET {MOVE_BALANCE} FROM r WHERE b.person_id = r.person_id",
        tag = why.tag()
    ))
    .bind::<BigInt, _>(live.id)
    .bind::<BigInt, _>(undo)
    .prepared()
    .execute(conn)
    .await?;
    Ok(Some(live.person_id))
}

// ---- removals and restores ----

/// Content a moderator restored, whose removal's reversals are to be undone.
#[derive(Debug, Clone, Copy)]
pub enum Restored {
    /// A thread: what its post and its comments earned, but not what a comment still removed
    /// (or deleted) on its own earned — that comes back with the comment, or never.
    Post(i64),
    /// One comment, unless its thread is removed (it comes back with the thread) or deleted.
    Comment { post_id: i64, comment_id: i64 },
}

/// A removal's reversal row still pending.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct PendingReversal {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
}

/// The pending removal reversals of reputation (`points = false`) or points that restoring
/// `what` undoes, in the order of their people (the order every writer locks them in).
pub async fn pending_removals(
    conn: &mut AsyncPgConnection,
    points: bool,
    what: Restored,
) -> Result<Vec<PendingReversal>, DbError> {
    let table = if points {
        "points_ledger"
    } else {
        "reputation_event"
    };
    let (post_id, comment_id) = match what {
        Restored::Post(post_id) => (post_id, None),
        Restored::Comment {
            post_id,
            comment_id,
        } => (post_id, Some(comment_id)),
    };
    // The thread must be live and not removed; each comment's rows, that the comment is too.
    Ok(diesel::sql_query(format!(
        "SELECT l.id, l.person_id FROM {table} l \
         WHERE l.post_id = $1 AND ($2::bigint IS NULL OR l.comment_id = $2) AND {PENDING_REMOVAL} \
           AND EXISTS (SELECT 1 FROM post p WHERE p.id = $1 AND p.deleted_at IS NULL AND p.removed_at IS NULL) \
           AND (l.comment_id IS NULL OR EXISTS (SELECT 1 FROM comment c WHERE c.id = l.comment_id \
                AND c.deleted_at IS NULL AND c.removed_at IS NULL)) \
         ORDER BY l.person_id, l.id"
    ))
    .bind::<BigInt, _>(post_id)
    .bind::<Nullable<BigInt>, _>(comment_id)
    .load(conn)
    .await?)
}

/// Undoes the removal reversal `reversal_id` (pending): marks it settled and writes again the
/// row it reversed — same person, amount, cause, content and key, live — moving the score and
/// its rollups as an earning does. So remove then restore nets exactly nothing, whatever the
/// caps or weights are by then. Nothing written when a live row with that key appeared since.
pub async fn reinstate_reputation(
    conn: &mut AsyncPgConnection,
    reversal_id: i64,
) -> Result<(), DbError> {
    diesel::sql_query(format!(
        "WITH rev AS (UPDATE reputation_event SET reversed = TRUE WHERE id = $1 AND {PENDING_REMOVAL} \
                      RETURNING person_id, delta, reverses, cause, group_id, capped, post_id, comment_id, likes_milli), \
              ev AS (INSERT INTO reputation_event \
                       (person_id, delta, cause, source_key, group_id, capped, post_id, comment_id, likes_milli) \
                     SELECT rev.person_id, -rev.delta, rev.cause, o.source_key, rev.group_id, rev.capped, \
                            rev.post_id, rev.comment_id, -rev.likes_milli \
                     FROM rev JOIN reputation_event o ON o.id = rev.reverses \
                     ON CONFLICT DO NOTHING RETURNING person_id, delta, capped, likes_milli) \
         UPDATE reputation SET score = score + ev.delta, \
           capped_today = CASE WHEN NOT ev.capped THEN capped_today \
                               WHEN capped_day = {TODAY} THEN capped_today + ev.delta \
                               WHEN capped_day > {TODAY} THEN capped_today \
                               ELSE ev.delta END, \
           capped_day = CASE WHEN ev.capped THEN GREATEST(capped_day, {TODAY}) ELSE capped_day END, \
           likes_received_milli = likes_received_milli + ev.likes_milli, \
           rank_due = rank_due OR ev.likes_milli > 0 \
         FROM ev WHERE reputation.person_id = ev.person_id"
    ))
    .bind::<BigInt, _>(reversal_id)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// [`reinstate_reputation`] for points. A row paid once per content keeps its first key taken
/// for ever (see `NewPoints::once`): written again under a fresh one, `{key}:restored:{id}`
/// (the earlier restore's suffix replaced, so cycles do not grow it). The balance may be
/// below zero (a debt): giving back never fails.
pub async fn reinstate_points(
    conn: &mut AsyncPgConnection,
    reversal_id: i64,
) -> Result<(), DbError> {
    diesel::sql_query(format!(
        "WITH rev AS (UPDATE points_ledger SET reversed = TRUE WHERE id = $1 AND {PENDING_REMOVAL} \
                      RETURNING id, person_id, delta, reverses, capped, post_id, comment_id), \
              r AS (INSERT INTO points_ledger \
                      (person_id, delta, reason, source_key, capped, once, post_id, comment_id) \
                    SELECT rev.person_id, -rev.delta, o.reason, \
                           CASE WHEN o.once THEN regexp_replace(o.source_key, ':restored:[0-9]+$', '') \
                                                 || ':restored:' || rev.id \
                                ELSE o.source_key END, \
                           rev.capped, o.once, rev.post_id, rev.comment_id \
                    FROM rev JOIN points_ledger o ON o.id = rev.reverses \
                    ON CONFLICT DO NOTHING RETURNING person_id, delta, capped, TRUE AS may_owe) \
         UPDATE points_balance b SET {MOVE_BALANCE} FROM r WHERE b.person_id = r.person_id"
    ))
    .bind::<BigInt, _>(reversal_id)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// The causes of `keys` went for good (a vote withdrawn, an acceptance moved, an instance
/// blocked) while their content was removed: their removal reversals are settled, so that a
/// restore never gives back what no longer stands.
pub async fn settle_removed(conn: &mut AsyncPgConnection, keys: &[String]) -> Result<(), DbError> {
    use diesel::sql_types::Array;
    for table in ["reputation_event", "points_ledger"] {
        diesel::sql_query(format!(
            "UPDATE {table} r SET reversed = TRUE FROM {table} o \
             WHERE r.reverses = o.id AND o.source_key = ANY($1) \
               AND r.reverses IS NOT NULL AND NOT r.reversed AND r.source_key ~ ':removed:[0-9]+$'"
        ))
        .bind::<Array<Text>, _>(keys)
        .execute(conn)
        .await?;
    }
    Ok(())
}

pub async fn points_balance_of(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<i64, DbError> {
    Ok(points_balance::table
        .find(person_id)
        .select(points_balance::balance)
        .first(conn)
        .await
        .optional()?
        .unwrap_or(0))
}

#[derive(Debug, Clone, Queryable)]
pub struct PointsEntry {
    pub id: i64,
    pub delta: i64,
    pub reason: String,
    pub granted_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// The row this one takes back, when it is a reversal.
    pub reverses: Option<i64>,
}

pub async fn points_history(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    before_id: i64,
    limit: i64,
) -> Result<Vec<PointsEntry>, DbError> {
    Ok(points_ledger::table
        .filter(points_ledger::person_id.eq(person_id))
        .filter(points_ledger::id.lt(before_id))
        .order(points_ledger::id.desc())
        .limit(limit)
        .select((
            points_ledger::id,
            points_ledger::delta,
            points_ledger::reason,
            points_ledger::granted_by,
            points_ledger::created_at,
            points_ledger::reverses,
        ))
        .load(conn)
        .await?)
}

// ---- leaderboards ----

#[derive(Debug, Clone, QueryableByName)]
pub struct LeaderboardRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub person_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub points: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub rank: i64,
}

/// A remote person's reputation and rank at their home instance.
pub async fn set_home_reputation(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
    score: Option<i64>,
    rank: Option<&str>,
) -> Result<(), DbError> {
    diesel::update(
        person::table
            .filter(person::ap_id.eq(ap_id))
            .filter(person::local.eq(false)),
    )
    .set((
        person::home_reputation.eq(score),
        person::home_rank.eq(rank),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn home_reputation(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<(Option<i64>, Option<String>), DbError> {
    Ok(person::table
        .find(person_id)
        .select((person::home_reputation, person::home_rank))
        .first(conn)
        .await?)
}

/// What a person contributed, for their rank's score: live threads, ideas and replies (neither
/// deleted nor removed by a moderator, while removed); answers
/// accepted by someone else (one's own acceptance counts for nothing); likes received that
/// counted, each its vote's weight (whole likes, rounded down).
pub async fn contributions(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<cenacle_domain::engagement::Contributions, DbError> {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        threads: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        ideas: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        replies: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        accepted: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        likes: i64,
    }
    let c: Counts = diesel::sql_query(
        "SELECT \
           (SELECT count(*) FROM post WHERE author_id = $1 AND deleted_at IS NULL AND removed_at IS NULL \
             AND approval IS NULL AND kind <> 'idea') AS threads, \
           (SELECT count(*) FROM post WHERE author_id = $1 AND deleted_at IS NULL AND removed_at IS NULL \
             AND approval IS NULL AND kind = 'idea') AS ideas, \
           (SELECT count(*) FROM comment c JOIN post p ON p.id = c.post_id \
             WHERE c.author_id = $1 AND c.deleted_at IS NULL AND p.deleted_at IS NULL \
               AND c.removed_at IS NULL AND p.removed_at IS NULL) AS replies, \
           (SELECT count(*) FROM post p JOIN comment c ON c.id = p.accepted_comment_id \
             WHERE c.author_id = $1 AND p.author_id <> $1 AND p.accepted_by IS DISTINCT FROM $1 \
               AND p.deleted_at IS NULL AND c.deleted_at IS NULL \
               AND p.removed_at IS NULL AND c.removed_at IS NULL) AS accepted, \
           COALESCE((SELECT likes_received_milli / 1000 FROM reputation WHERE person_id = $1), 0) AS likes",
    )
    .bind::<diesel::sql_types::BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await?;
    Ok(cenacle_domain::engagement::Contributions {
        threads: c.threads,
        replies: c.replies,
        ideas: c.ideas,
        accepted_answers: c.accepted,
        likes_received: c.likes,
    })
}

// ---- bounties ----

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = crate::schema::bounty)]
pub struct Bounty {
    pub id: i64,
    pub post_id: i64,
    pub sponsor_id: i64,
    pub amount: i64,
    pub status: String,
    pub awarded_comment_id: Option<i64>,
    pub paid: i64,
    pub created_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
    /// Who won it (kept when the answer is deleted later).
    pub winner_id: Option<i64>,
}

pub async fn insert_bounty(
    conn: &mut AsyncPgConnection,
    post_id: i64,
    sponsor_id: i64,
    amount: i64,
    ends_at: DateTime<Utc>,
) -> Result<Bounty, DbError> {
    use crate::schema::bounty;
    Ok(diesel::insert_into(bounty::table)
        .values((
            bounty::post_id.eq(post_id),
            bounty::sponsor_id.eq(sponsor_id),
            bounty::amount.eq(amount),
            bounty::ends_at.eq(ends_at),
        ))
        .returning(Bounty::as_returning())
        .get_result(conn)
        .await?)
}

/// The question's running bounty, locked for the rest of the transaction.
pub async fn open_bounty_for_update(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> Result<Option<Bounty>, DbError> {
    use crate::schema::bounty;
    Ok(bounty::table
        .filter(bounty::post_id.eq(post_id))
        .filter(bounty::status.eq("open"))
        .select(Bounty::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

/// The question's latest bounty, whatever its state.
pub async fn latest_bounty(
    conn: &mut AsyncPgConnection,
    post_id: i64,
) -> Result<Option<Bounty>, DbError> {
    use crate::schema::bounty;
    Ok(bounty::table
        .filter(bounty::post_id.eq(post_id))
        .order(bounty::id.desc())
        .select(Bounty::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn close_bounty(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: &str,
    winner: Option<(i64, i64)>,
    paid: i64,
) -> Result<Bounty, DbError> {
    use crate::schema::bounty;
    Ok(diesel::update(bounty::table.find(id))
        .set((
            bounty::status.eq(status),
            bounty::awarded_comment_id.eq(winner.map(|(comment, _)| comment)),
            bounty::winner_id.eq(winner.map(|(_, person)| person)),
            bounty::paid.eq(paid),
            bounty::settled_at.eq(diesel::dsl::now),
        ))
        .returning(Bounty::as_returning())
        .get_result(conn)
        .await?)
}

// ---- contests ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::contest)]
pub struct Contest {
    pub id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub group_ids: Vec<i64>,
    pub causes: Vec<String>,
    pub created_by: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_contest(
    conn: &mut AsyncPgConnection,
    title: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    group_ids: &[i64],
    causes: &[String],
    created_by: i64,
) -> Result<Contest, DbError> {
    use crate::schema::contest;
    Ok(diesel::insert_into(contest::table)
        .values((
            contest::title.eq(title),
            contest::starts_at.eq(starts_at),
            contest::ends_at.eq(ends_at),
            contest::group_ids.eq(group_ids),
            contest::causes.eq(causes),
            contest::created_by.eq(created_by),
        ))
        .returning(Contest::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn contest_for_update(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<Contest>, DbError> {
    use crate::schema::contest;
    Ok(contest::table
        .find(id)
        .select(Contest::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

/// The latest contests `viewer` may read (-1: nobody signed in): unclosed ones first, then
/// the closed ones, latest end first. A contest over a private group is listed to that
/// group's members only (by membership, as the feeds filter: stricter than the one-group rule,
/// which also lets in those who moderate every group). Filtered before the limit, so the
/// readable ones fill it.
pub async fn recent_contests(
    conn: &mut AsyncPgConnection,
    viewer: i64,
    limit: i64,
) -> Result<Vec<Contest>, DbError> {
    use crate::schema::contest;
    use diesel::sql_types::{BigInt, Bool};
    let readable = diesel::dsl::sql::<Bool>(
        "NOT EXISTS (SELECT 1 FROM community_group g \
           WHERE g.id = ANY(contest.group_ids) AND g.visibility = 'private' \
             AND NOT EXISTS (SELECT 1 FROM group_membership m \
                             WHERE m.group_id = g.id AND m.person_id = ",
    )
    .bind::<BigInt, _>(viewer)
    .sql("))");
    Ok(contest::table
        .select(Contest::as_select())
        .filter(readable)
        .order((
            contest::closed_at.is_not_null(),
            contest::ends_at.desc(),
            contest::id.desc(),
        ))
        .limit(limit)
        .load(conn)
        .await?)
}

pub async fn contest(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<Contest>, DbError> {
    use crate::schema::contest;
    Ok(contest::table
        .find(id)
        .select(Contest::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The contest's live board: reputation from its causes in its groups during its period,
/// dense-ranked.
pub async fn contest_board(
    conn: &mut AsyncPgConnection,
    c: &Contest,
    limit: i64,
) -> Result<Vec<LeaderboardRow>, DbError> {
    use diesel::sql_types::{Array, BigInt, Text, Timestamptz};
    Ok(diesel::sql_query(
        "WITH totals AS (SELECT person_id, SUM(delta)::bigint AS points FROM reputation_event \
           WHERE created_at >= $1 AND created_at < $2 \
             AND (cardinality($3::bigint[]) = 0 OR group_id = ANY($3)) \
             AND (cardinality($4::text[]) = 0 OR cause = ANY($4)) \
           GROUP BY person_id HAVING SUM(delta) > 0) \
         SELECT person_id, points, DENSE_RANK() OVER (ORDER BY points DESC) AS rank \
         FROM totals ORDER BY points DESC, person_id LIMIT $5",
    )
    .bind::<Timestamptz, _>(c.starts_at)
    .bind::<Timestamptz, _>(c.ends_at)
    .bind::<Array<BigInt>, _>(&c.group_ids)
    .bind::<Array<Text>, _>(&c.causes)
    .bind::<BigInt, _>(limit)
    .prepared()
    .load(conn)
    .await?)
}

pub async fn freeze_winner(
    conn: &mut AsyncPgConnection,
    contest_id: i64,
    row: &LeaderboardRow,
    prize: i64,
) -> Result<(), DbError> {
    use crate::schema::contest_winner;
    diesel::insert_into(contest_winner::table)
        .values((
            contest_winner::contest_id.eq(contest_id),
            contest_winner::rank.eq(row.rank),
            contest_winner::person_id.eq(row.person_id),
            contest_winner::points.eq(row.points),
            contest_winner::prize.eq(prize),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn close_contest(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    use crate::schema::contest;
    diesel::update(contest::table.find(id))
        .set(contest::closed_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Frozen winners: (rank, person id, points, prize).
pub async fn contest_winners(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Vec<LeaderboardRow>, DbError> {
    use crate::schema::contest_winner;
    let rows: Vec<(i64, i64, i64)> = contest_winner::table
        .filter(contest_winner::contest_id.eq(id))
        .order((contest_winner::rank.asc(), contest_winner::person_id.asc()))
        .select((
            contest_winner::person_id,
            contest_winner::points,
            contest_winner::rank,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(person_id, points, rank)| LeaderboardRow {
            person_id,
            points,
            rank,
        })
        .collect())
}

// ---- audit ----

/// A cached total that does not equal what its ledger says.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct LedgerDifference {
    /// `points_balance`, `reputation`, `likes_received`, `points_capped_today`,
    /// `reputation_capped_today`, `points_held`, `balance_below_holds`, `hold_of_bid_<id>`,
    /// or a reward's `reward_stock` and `reward_free_codes`.
    #[diesel(sql_type = Text)]
    pub total: String,
    /// The person whose total it is (None for a reward's).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub person_id: Option<i64>,
    /// `username` for our members, `username@host` for others, `reward <id> (<name>)` for a
    /// reward.
    #[diesel(sql_type = Text)]
    pub handle: String,
    /// What the cached row holds (0 or 1 when it has none).
    #[diesel(sql_type = BigInt)]
    pub cached: i64,
    /// What the ledger adds up to.
    #[diesel(sql_type = BigInt)]
    pub ledger: i64,
}

/// Every cached total that its ledger contradicts: points balances (the sum of their rows,
/// below zero when reversals left a debt), reputations (1 plus the exact sum of their events:
/// the floor of 1 applies only to the reputation shown), live likes received (weighted, in
/// thousandths: the sum of the events' likes), today's capped earnings, and the escrow of
/// auctions: points held (the sum of their hold rows), no balance below what it holds
/// (`balance_below_holds`: the balance, then the holds; a debt holding nothing is allowed —
/// owed, and repaid by later earnings — as `points_balance_covers_holds` allows it), and every bid holding exactly its
/// amount while it leads an open auction and nothing otherwise (`hold_of_bid_<id>`: what it
/// holds, then what it should); and the shop's stock: every limited reward's stock equals its
/// initial stock plus its `stock_movement` rows (`reward_stock`), and its free codes the sum
/// of its code movements (`reward_free_codes`).
pub async fn ledger_differences(
    conn: &mut AsyncPgConnection,
) -> Result<Vec<LedgerDifference>, DbError> {
    Ok(diesel::sql_query(format!(
        "WITH totals AS ( \
           SELECT 'points_balance' AS total, COALESCE(b.person_id, l.person_id) AS person_id, \
                  COALESCE(b.balance, 0) AS cached, COALESCE(l.sum, 0) AS ledger \
           FROM points_balance b FULL JOIN \
                (SELECT person_id, SUM(delta)::bigint AS sum FROM points_ledger GROUP BY person_id) l \
                ON l.person_id = b.person_id \
           UNION ALL \
           SELECT 'reputation', COALESCE(r.person_id, e.person_id), COALESCE(r.score, 1), 1 + COALESCE(e.sum, 0) \
           FROM reputation r FULL JOIN \
                (SELECT person_id, SUM(delta)::bigint AS sum FROM reputation_event GROUP BY person_id) e \
                ON e.person_id = r.person_id \
           UNION ALL \
           SELECT 'likes_received', r.person_id, r.likes_received_milli, \
                  COALESCE((SELECT SUM(e.likes_milli) FROM reputation_event e \
                            WHERE e.person_id = r.person_id), 0)::bigint \
           FROM reputation r \
           UNION ALL \
           SELECT 'reputation_capped_today', r.person_id, \
                  CASE WHEN r.capped_day = {TODAY} THEN r.capped_today ELSE 0 END, \
                  COALESCE((SELECT SUM(e.delta) FROM reputation_event e WHERE e.person_id = r.person_id \
                     AND e.capped AND e.created_at >= {TODAY_STARTS}), 0)::bigint \
           FROM reputation r \
           UNION ALL \
           SELECT 'points_capped_today', b.person_id, \
                  CASE WHEN b.capped_day = {TODAY} THEN b.capped_today ELSE 0 END, \
                  COALESCE((SELECT SUM(l.delta) FROM points_ledger l WHERE l.person_id = b.person_id \
                     AND l.capped AND l.created_at >= {TODAY_STARTS}), 0)::bigint \
           FROM points_balance b \
           UNION ALL \
           SELECT 'points_held', b.person_id, b.held, \
                  COALESCE((SELECT SUM(h.delta) FROM points_hold h WHERE h.person_id = b.person_id), 0)::bigint \
           FROM points_balance b \
           UNION ALL \
           SELECT 'balance_below_holds', b.person_id, b.balance, b.held \
           FROM points_balance b WHERE b.held > 0 AND b.balance < b.held \
           UNION ALL \
           SELECT 'hold_of_bid_' || d.id, d.person_id, \
                  COALESCE((SELECT SUM(h.delta) FROM points_hold h WHERE h.bid_id = d.id), 0)::bigint, \
                  CASE WHEN d.status = 'leading' AND a.status = 'open' THEN d.amount ELSE 0 END \
           FROM bid d JOIN auction a ON a.id = d.auction_id) \
         , stock AS ( \
           SELECT 'reward_stock' AS total, r.id, r.name_en, r.stock AS cached, \
                  r.initial_stock + COALESCE((SELECT SUM(m.delta) FROM stock_movement m \
                     WHERE m.reward_id = r.id AND m.pool = 'stock'), 0)::bigint AS ledger \
           FROM reward r WHERE r.stock IS NOT NULL \
           UNION ALL \
           SELECT 'reward_free_codes', r.id, r.name_en, \
                  (SELECT count(*) FROM reward_code c WHERE c.reward_id = r.id AND c.order_id IS NULL \
                     AND c.auction_id IS NULL), \
                  COALESCE((SELECT SUM(m.delta) FROM stock_movement m \
                     WHERE m.reward_id = r.id AND m.pool = 'codes'), 0)::bigint \
           FROM reward r) \
         SELECT total, person_id, handle, cached, ledger FROM ( \
           SELECT t.total, t.person_id, \
                  p.username || CASE WHEN p.local THEN '' ELSE '@' || COALESCE(p.handle_host, p.instance_host, '?') END AS handle, \
                  t.cached, t.ledger, 0 AS part, t.person_id AS sort \
           FROM totals t JOIN person p ON p.id = t.person_id \
           WHERE t.cached <> t.ledger \
           UNION ALL \
           SELECT s.total, NULL, 'reward ' || s.id || ' (' || s.name_en || ')', s.cached, s.ledger, 1, s.id \
           FROM stock s WHERE s.cached <> s.ledger) d \
         ORDER BY part, sort, total"
    ))
    .load(conn)
    .await?)
}

/// The start of the transaction's UTC day, as a timestamp.
const TODAY_STARTS: &str = "(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')";
