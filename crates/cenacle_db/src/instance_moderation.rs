//! Instance moderation: bans of people (local or remote), the allow-list and limited
//! instances, and what a block of an instance undoes (follows, queued deliveries).

use crate::{reports::RemovedContent, schema::instance, DbError, PrepareOnce};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// An instance-wide ban in force.
#[derive(Debug, Clone, QueryableByName)]
pub struct InstanceBan {
    #[diesel(sql_type = BigInt)]
    pub person_id: i64,
    /// The person's actor id (local people have one too).
    #[diesel(sql_type = Nullable<Text>)]
    pub ap_id: Option<String>,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub banned_by: Option<i64>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

const BAN_COLUMNS: &str = "b.person_id, p.ap_id, b.reason, b.expires_at, b.banned_by, b.created_at";

/// Bans `person_id` (a second ban replaces the first: new reason, new expiry).
pub async fn upsert_ban(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    reason: &str,
    expires_at: Option<DateTime<Utc>>,
    banned_by: Option<i64>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO instance_ban (person_id, reason, expires_at, banned_by) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (person_id) DO UPDATE SET reason = EXCLUDED.reason, \
           expires_at = EXCLUDED.expires_at, banned_by = EXCLUDED.banned_by, created_at = now()",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(reason)
    .bind::<Nullable<Timestamptz>, _>(expires_at)
    .bind::<Nullable<BigInt>, _>(banned_by)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// Lifts a ban in force; false when there was none (an expired one is removed all the same).
pub async fn delete_ban(conn: &mut AsyncPgConnection, person_id: i64) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Lifted {
        #[diesel(sql_type = Bool)]
        active: bool,
    }
    let lifted: Option<Lifted> = diesel::sql_query(
        "DELETE FROM instance_ban WHERE person_id = $1 \
         RETURNING (expires_at IS NULL OR expires_at > now()) AS active",
    )
    .bind::<BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?;
    Ok(lifted.is_some_and(|l| l.active))
}

/// The ban in force on a person, by id.
pub async fn active_ban(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<Option<InstanceBan>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {BAN_COLUMNS} FROM instance_ban b JOIN person p ON p.id = b.person_id \
         WHERE b.person_id = $1 AND (b.expires_at IS NULL OR b.expires_at > now())"
    ))
    .bind::<BigInt, _>(person_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?)
}

/// The ban in force on a person, by actor id (the inbox knows the actor only by it).
pub async fn active_ban_by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> Result<Option<InstanceBan>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {BAN_COLUMNS} FROM instance_ban b JOIN person p ON p.id = b.person_id \
         WHERE p.ap_id = $1 AND (b.expires_at IS NULL OR b.expires_at > now())"
    ))
    .bind::<Text, _>(ap_id)
    .prepared()
    .get_result(conn)
    .await
    .optional()?)
}

/// Bans in force after `after_person_id`, in person order.
pub async fn active_bans(
    conn: &mut AsyncPgConnection,
    after_person_id: i64,
    limit: i64,
) -> Result<Vec<InstanceBan>, DbError> {
    Ok(diesel::sql_query(format!(
        "SELECT {BAN_COLUMNS} FROM instance_ban b JOIN person p ON p.id = b.person_id \
         WHERE b.person_id > $1 AND (b.expires_at IS NULL OR b.expires_at > now()) \
         ORDER BY b.person_id LIMIT $2"
    ))
    .bind::<BigInt, _>(after_person_id)
    .bind::<BigInt, _>(limit)
    .prepared()
    .load(conn)
    .await?)
}

/// Removes every live post and comment of `person_id` (moderator removal: `removed_at` and
/// its reason). Returns (posts, comments) removed.
pub async fn remove_content_of(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    reason: &str,
) -> Result<RemovedContent, DbError> {
    // Locked FOR UPDATE as a single removal locks its content (see `reports::remove_content_of`).
    let posts = diesel::sql_query(
        "UPDATE post SET removed_at = now(), removal_reason = $2 \
         WHERE id IN (SELECT id FROM post WHERE author_id = $1 AND removed_at IS NULL \
                        AND deleted_at IS NULL ORDER BY id FOR UPDATE) \
         RETURNING id AS post_id, NULL::bigint AS comment_id",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(reason)
    .load(conn)
    .await?;
    let comments = diesel::sql_query(
        "UPDATE comment SET removed_at = now(), removal_reason = $2 \
         WHERE id IN (SELECT id FROM comment WHERE author_id = $1 AND removed_at IS NULL \
                        AND deleted_at IS NULL ORDER BY id FOR UPDATE) \
         RETURNING post_id, id AS comment_id",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Text, _>(reason)
    .load(conn)
    .await?;
    Ok(RemovedContent { posts, comments })
}

/// Whether an admin listed the instance for allow-list mode, and whether it is limited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Queryable)]
pub struct InstanceFlags {
    pub allowed: bool,
    pub limited: bool,
}

/// The flags of a known instance (None: we never heard of it).
pub async fn instance_flags(
    conn: &mut AsyncPgConnection,
    host: &str,
) -> Result<Option<InstanceFlags>, DbError> {
    Ok(instance::table
        .find(host)
        .select((instance::allowed, instance::limited))
        .first::<InstanceFlags>(conn)
        .await
        .optional()?)
}

/// How an admin treats each of `hosts` that we know, in one read (hosts we never heard of are
/// left out: nothing was decided about them).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName)]
pub struct HostVerdict {
    #[diesel(sql_type = Text)]
    pub host: String,
    #[diesel(sql_type = Bool)]
    pub blocked: bool,
    #[diesel(sql_type = Bool)]
    pub allowed: bool,
}

/// Read by every inbound activity (its sender's host and the host their handle names), so
/// two hosts a statement, `IN ($1, $2)` (the second repeating the first when alone), prepared:
/// PostgreSQL settles on one plan for it, where `host = ANY($1)` of a bound array (what
/// `eq_any` writes) is planned again at every call — its generic plan is costed for ten
/// elements, so the custom plan of one or two always looks cheaper.
pub async fn verdicts(
    conn: &mut AsyncPgConnection,
    hosts: &[&str],
) -> Result<Vec<HostVerdict>, DbError> {
    let mut found: Vec<HostVerdict> = Vec::with_capacity(hosts.len());
    for pair in hosts.chunks(2) {
        let rows: Vec<HostVerdict> =
            diesel::sql_query("SELECT host, blocked, allowed FROM instance WHERE host IN ($1, $2)")
                .bind::<Text, _>(pair[0])
                .bind::<Text, _>(pair.get(1).unwrap_or(&pair[0]))
                .prepared()
                .load(conn)
                .await?;
        for row in rows {
            if !found.iter().any(|v| v.host == row.host) {
                found.push(row);
            }
        }
    }
    Ok(found)
}

pub async fn set_allowed(
    conn: &mut AsyncPgConnection,
    host: &str,
    allowed: bool,
) -> Result<(), DbError> {
    diesel::insert_into(instance::table)
        .values((instance::host.eq(host), instance::allowed.eq(allowed)))
        .on_conflict(instance::host)
        .do_update()
        .set(instance::allowed.eq(allowed))
        .execute(conn)
        .await?;
    Ok(())
}

/// Limits a known instance: one we heard from, or one that people's confirmed handles name
/// (`person.handle_host`: it may never have talked to us, its people's actors being served
/// from another host); false when we know of none.
pub async fn set_limited(
    conn: &mut AsyncPgConnection,
    host: &str,
    limited: bool,
) -> Result<bool, DbError> {
    use crate::schema::person;
    let known = diesel::update(instance::table.find(host))
        .set(instance::limited.eq(limited))
        .execute(conn)
        .await?
        == 1;
    if known {
        return Ok(true);
    }
    let named_by_handles: bool = diesel::select(diesel::dsl::exists(
        // Not a bound `false`: the index is partial (`WHERE NOT local`).
        person::table
            .filter(diesel::dsl::not(person::local))
            .filter(person::handle_host.eq(host)),
    ))
    .get_result(conn)
    .await?;
    if named_by_handles {
        diesel::insert_into(instance::table)
            .values((instance::host.eq(host), instance::limited.eq(limited)))
            .on_conflict(instance::host)
            .do_update()
            .set(instance::limited.eq(limited))
            .execute(conn)
            .await?;
    }
    Ok(named_by_handles)
}

/// Whether an instance (a host) is limited.
pub async fn actor_instance_limited(
    conn: &mut AsyncPgConnection,
    host: &str,
) -> Result<bool, DbError> {
    Ok(instance_flags(conn, host).await?.is_some_and(|f| f.limited))
}

/// The host of an actor id in SQL (`https://host:port/path` → `host:port`), lowercased.
const HOST_OF_FOLLOWER: &str = "lower(split_part(split_part(follower_ap_id, '://', 2), '/', 1))";
const HOST_OF_TARGET: &str = "lower(split_part(split_part(target_ap_id, '://', 2), '/', 1))";

/// The people of other servers whose confirmed handle names the host `$1` (`person.handle_host`:
/// their actor may be served from another host), as rows `id, ap_id, inbox_url`.
const NAMED_BY_HANDLE_HOST: &str =
    "SELECT id, ap_id, inbox_url FROM person WHERE NOT local AND handle_host = $1";
/// One person of another server, by id (`$1`), as [`NAMED_BY_HANDLE_HOST`] gives them.
const ONE_REMOTE_PERSON: &str =
    "SELECT id, ap_id, inbox_url FROM person WHERE NOT local AND id = $1";

/// The follows, either way, of the people `people` selects (see [`NAMED_BY_HANDLE_HOST`]).
fn follows_of(people: &str) -> String {
    format!(
        "follower_ap_id IN (SELECT ap_id FROM ({people}) p) \
         OR target_ap_id IN (SELECT ap_id FROM ({people}) p)"
    )
}

/// The people of other servers whose confirmed handle names a host an admin blocked (in the
/// database), as [`NAMED_BY_HANDLE_HOST`] gives them. Few: a blocked host's handles are not
/// confirmed any more (it is not asked), so only those confirmed before its block are here.
pub(crate) const NAMED_BY_BLOCKED_HOSTS: &str = "SELECT p.id, p.ap_id, p.inbox_url FROM person p \
     JOIN instance i ON i.host = p.handle_host AND i.blocked WHERE NOT p.local";

/// SQL: the inboxes that blocked people alone use, a set computed once (uncorrelated: an
/// `IN` tests against it): the personal inboxes of the people `people` selects (rows with an
/// `id` and an `inbox_url`), but for those another actor stored here (a person, a group) has as
/// their inbox or their shared inbox — another person being anyone but the people `people`
/// selects and [`NAMED_BY_BLOCKED_HOSTS`]. A server may give every actor one inbox, or give a
/// person the shared inbox as their own: what goes there serves people whose instance is not
/// blocked, unless all who use it are. Each candidate (few: the blocked people's own) is
/// looked up in the actors' inbox indexes, never a scan of `person` or `community_group`.
pub(crate) fn inboxes_of_blocked_people_only(people: &str) -> String {
    let blocked = format!(
        "SELECT b.id FROM ({people}) b UNION ALL SELECT b.id FROM ({NAMED_BY_BLOCKED_HOSTS}) b"
    );
    format!(
        "SELECT u.inbox_url FROM (SELECT DISTINCT b.inbox_url FROM ({people}) b \
                                   WHERE b.inbox_url IS NOT NULL) u \
         WHERE NOT EXISTS (SELECT 1 FROM person o WHERE o.inbox_url = u.inbox_url \
                             AND o.id NOT IN ({blocked})) \
           AND NOT EXISTS (SELECT 1 FROM person o WHERE o.shared_inbox_url = u.inbox_url \
                             AND o.id NOT IN ({blocked})) \
           AND NOT EXISTS (SELECT 1 FROM community_group g WHERE g.inbox_url = u.inbox_url) \
           AND NOT EXISTS (SELECT 1 FROM community_group g WHERE g.shared_inbox_url = u.inbox_url)"
    )
}

/// The ids of the deliveries queued to the personal inbox of the people `people` selects (see
/// [`NAMED_BY_HANDLE_HOST`]): the inbox of theirs that `Follow`s, `Accept`s and `Undo`s go to
/// (`person.inbox_url`; texts that name them go to their server's shared inbox). Only an inbox
/// that blocked people alone use ([`inboxes_of_blocked_people_only`]). Found by the host index
/// (a queued delivery's host is its inbox's authority, as `enqueue_to_followers` computes it);
/// rows in flight are found too and finish on their own.
fn personal_deliveries(people: &str) -> String {
    format!(
        "SELECT d.id FROM ({people}) p JOIN delivery d ON d.inbox_url = p.inbox_url \
           AND d.host = lower(substring(p.inbox_url \
                          FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/]*@)?([^/?#]+)')) \
         WHERE d.inbox_url IN ({})",
        inboxes_of_blocked_people_only(people)
    )
}

/// A blocked instance: its actors stop following ours, and our members' follows of its
/// actors end (nothing flows either way any more). Its actors are those served from it and
/// the people whose confirmed handle names it (`person.handle_host`: their actor may be
/// served from another host). Returns the follows dropped.
pub async fn drop_follows_with(conn: &mut AsyncPgConnection, host: &str) -> Result<usize, DbError> {
    Ok(diesel::sql_query(format!(
        "DELETE FROM follow WHERE {HOST_OF_FOLLOWER} = $1 OR {HOST_OF_TARGET} = $1 OR {}",
        follows_of(NAMED_BY_HANDLE_HOST)
    ))
    .bind::<Text, _>(host)
    .prepared()
    .execute(conn)
    .await?)
}

/// One person of another server is found to be a blocked instance's (their handle, naming it,
/// was confirmed after the block): their follows both ways end, as [`drop_follows_with`] ends
/// those of the people it finds. Returns the follows dropped.
pub async fn drop_follows_of_person(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(format!(
        "DELETE FROM follow WHERE {}",
        follows_of(ONE_REMOTE_PERSON)
    ))
    .bind::<BigInt, _>(person_id)
    .prepared()
    .execute(conn)
    .await?)
}

/// A blocked instance: everything queued for it is cancelled, and what is queued to the
/// personal inbox of the people whose confirmed handle names it, their actor served from
/// another host (not what goes to that host's shared inbox: its other people are not
/// blocked). A lease in flight finishes on its own and finds its row gone; the host leaves the
/// claim's host list with its last row, by trigger. Returns the deliveries cancelled.
pub async fn cancel_deliveries_to(
    conn: &mut AsyncPgConnection,
    host: &str,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(format!(
        "DELETE FROM delivery WHERE id IN (SELECT id FROM delivery WHERE host = $1 \
                                           UNION {})",
        personal_deliveries(NAMED_BY_HANDLE_HOST)
    ))
    .bind::<Text, _>(host)
    .prepared()
    .execute(conn)
    .await?)
}

/// One person of another server is found to be a blocked instance's: what is queued to their
/// personal inbox is cancelled, as [`cancel_deliveries_to`] cancels it for the people it
/// finds. Returns the deliveries cancelled.
pub async fn cancel_personal_deliveries_of(
    conn: &mut AsyncPgConnection,
    person_id: i64,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(format!(
        "DELETE FROM delivery WHERE id IN ({})",
        personal_deliveries(ONE_REMOTE_PERSON)
    ))
    .bind::<BigInt, _>(person_id)
    .prepared()
    .execute(conn)
    .await?)
}

/// A known instance as its admins' page lists it.
#[derive(Debug, Clone, Queryable)]
pub struct KnownInstance {
    pub host: String,
    pub blocked: bool,
    pub allowed: bool,
    pub limited: bool,
    pub reputation_weight: f64,
    pub dead: bool,
}

/// Instances we know (heard from, or listed by an admin), by host name.
pub async fn known_instances(
    conn: &mut AsyncPgConnection,
    limit: i64,
) -> Result<Vec<KnownInstance>, DbError> {
    Ok(instance::table
        .order(instance::host.asc())
        .limit(limit)
        .select((
            instance::host,
            instance::blocked,
            instance::allowed,
            instance::limited,
            instance::reputation_weight,
            instance::dead,
        ))
        .load(conn)
        .await?)
}
