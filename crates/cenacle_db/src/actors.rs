//! People and groups as ActivityPub actors: local ones with their keys, remote ones cached.

use crate::{
    schema::{community_group, instance_actor, person},
    DbError,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The federation identity of a local actor, fixed at creation.
#[derive(Debug, Clone)]
pub struct LocalIdentity {
    pub ap_id: String,
    pub inbox_url: String,
    pub shared_inbox_url: String,
    pub public_key_pem: String,
    pub private_key_pem: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = person)]
pub struct PersonActor {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub local: bool,
    pub ap_id: Option<String>,
    pub inbox_url: Option<String>,
    pub shared_inbox_url: Option<String>,
    pub public_key_pem: Option<String>,
    pub private_key_pem: Option<String>,
    pub instance_host: Option<String>,
    /// For a person of another server whose handle names another host than their actor's
    /// (`alice@example.org`, actor at `social.example.org`): that host, once both servers
    /// confirmed it (`cenacle_apub::webfinger_lookup`). `None`: named by `instance_host`.
    pub handle_host: Option<String>,
    /// When both servers last confirmed `handle_host` (`None` with one: confirmed before this
    /// date was kept). Texts naming the handle look it up again once this is old.
    pub handle_host_confirmed_at: Option<DateTime<Utc>>,
    /// When the handle's lookup first answered "no such account" (a 404) since `handle_host`
    /// was last confirmed: a miss, which may be a passing fault of their server; the handle
    /// goes if misses persist ([`miss_handle_host`]). `None`: no miss since.
    pub handle_host_missed_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl PersonActor {
    /// The host of their handle (`name@host`) as people write it: the confirmed handle host,
    /// else their actor's; `None` for our members.
    pub fn handle_host(&self) -> Option<&str> {
        self.handle_host
            .as_deref()
            .or(self.instance_host.as_deref())
    }

    /// The inbox that reaches their server: its shared inbox, else their own; `None` for our
    /// members.
    pub fn server_inbox(&self) -> Option<&str> {
        if self.local {
            return None;
        }
        self.shared_inbox_url
            .as_deref()
            .or(self.inbox_url.as_deref())
    }
}

pub async fn person_by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> Result<Option<PersonActor>, DbError> {
    Ok(person::table
        .filter(person::ap_id.eq(ap_id))
        .select(PersonActor::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn person_by_id(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<PersonActor>, DbError> {
    Ok(person::table
        .find(id)
        .select(PersonActor::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The people of `ids` (those that exist), in no given order.
pub async fn people_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<PersonActor>, DbError> {
    Ok(person::table
        .filter(person::id.eq_any(ids))
        .select(PersonActor::as_select())
        .load(conn)
        .await?)
}

/// A person by `username` (local) or `username@host` (remote, as cached here).
pub async fn person_by_handle(
    conn: &mut AsyncPgConnection,
    handle: &str,
    local_host: &str,
) -> Result<Option<PersonActor>, DbError> {
    let handle = handle.trim_start_matches('@');
    match handle.split_once('@') {
        Some((name, host)) if !host.eq_ignore_ascii_case(local_host) => {
            remote_person_by_handle(conn, name, host).await
        }
        Some((name, _)) => local_person_by_name(conn, name).await,
        None => local_person_by_name(conn, handle).await,
    }
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// A person of another server we know, by `name` on `host` (`host` or `host:port`, their
/// actor's host or their confirmed handle host), the name compared without case. An actor of
/// that host comes first: its server answers for its own, whatever another once confirmed.
pub async fn remote_person_by_handle(
    conn: &mut AsyncPgConnection,
    name: &str,
    host: &str,
) -> Result<Option<PersonActor>, DbError> {
    use diesel::PgExpressionMethods;
    let host = host.to_ascii_lowercase();
    Ok(person::table
        // Not a bound `false`: the indexes are partial (`WHERE NOT local`).
        .filter(diesel::dsl::not(person::local))
        .filter(
            person::instance_host
                .eq(&host)
                .or(person::handle_host.eq(&host)),
        )
        .filter(lower(person::username).eq(name.to_lowercase()))
        .order((
            person::instance_host.is_not_distinct_from(&host).desc(),
            person::id,
        ))
        .select(PersonActor::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Names the person of another server `person_id` by `host` (their handle's host, another
/// than their actor's, both servers having just confirmed it: dated now, so that a confirmation
/// of the same host again renews it, and any miss recorded is forgotten; `None`: by their
/// actor's host). No one else of their name keeps the handle they are now named by: a handle
/// names one person. `asked_at`: when the lookup that confirmed it began asking; stored only
/// if no lookup that began later stored its answer, about them or about whoever holds the
/// handle now ([`asked_no_later_than`]); whoever loses it to them is dated `asked_at` too, so
/// that an older confirmation of theirs, stored last, does not take it back. Whether it was
/// stored (not if a rename of theirs raced with it: the name confirmed is no longer theirs).
///
/// Several statements, the compare before the write held by row locks (`FOR NO KEY UPDATE`,
/// taken in id order, so that two confirmations swapping a handle do not wait on each other in
/// a cycle; a wait of three or more, with a holder not locked by this statement, may still be
/// broken by PostgreSQL as a deadlock, answered as transient): call it inside the caller's
/// transaction, else another answer may be stored between the compare and the write.
///
/// Two limits. The loser is dated per person, not per handle: an older, still valid
/// confirmation of the loser under another handle is refused too, until the next text naming
/// it asks again. And two lookups giving the same handle, held by no one, to two different
/// people at once may end in a unique violation for the later one (rare: the error is logged,
/// and the next text naming it asks again).
pub async fn set_handle_host(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    host: Option<&str>,
    asked_at: DateTime<Utc>,
) -> Result<bool, DbError> {
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        username: String,
        #[diesel(sql_type = Nullable<Text>)]
        instance_host: Option<String>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        handle_host_asked_at: Option<DateTime<Utc>>,
        /// Their name as the statement's snapshot saw it (the holder found by it).
        #[diesel(sql_type = Text)]
        seen_username: String,
    }
    // The person and whoever else of their name holds the handle they are to be named by, both
    // locked in one statement, in id order. The guard is `asked_no_later_than`'s, in Rust.
    // `FOR NO KEY UPDATE`, not `FOR UPDATE`: the updates below change no key column (the
    // handle's unique index is partial, on an expression: no key for row locks), so rows
    // referencing the person (their votes, comments: `FOR KEY SHARE`) are not blocked meanwhile.
    let locked: Vec<Locked> = diesel::sql_query(
        "SELECT holder.id, holder.username, holder.instance_host, holder.handle_host_asked_at, \
             this.username AS seen_username \
         FROM person AS holder, \
             (SELECT username, instance_host FROM person WHERE id = $1 AND NOT local) AS this \
         WHERE holder.id = $1 \
             OR (NOT holder.local AND holder.handle_host = COALESCE($2, this.instance_host) \
                 AND lower(holder.username) = lower(this.username)) \
         ORDER BY holder.id \
         FOR NO KEY UPDATE OF holder",
    )
    .bind::<BigInt, _>(person_id)
    .bind::<Nullable<Text>, _>(host)
    .load(conn)
    .await?;
    let Some(this) = locked.iter().find(|row| row.id == person_id) else {
        return Err(diesel::result::Error::NotFound.into());
    };
    if this.username != this.seen_username {
        return Ok(false);
    }
    let answered_later = |row: &Locked| row.handle_host_asked_at.is_some_and(|at| at > asked_at);
    if locked.iter().any(answered_later) {
        return Ok(false);
    }
    if let Some(named_by) = host.or(this.instance_host.as_deref()) {
        // Whoever else holds it loses it, dated as this answer. Guarded again: a holder that
        // took it after the statement above read (not locked by it) is checked here.
        let holder = || {
            person::table
                .filter(diesel::dsl::not(person::local))
                .filter(person::handle_host.eq(named_by))
                .filter(lower(person::username).eq(lower(&this.username)))
                .filter(person::id.ne(person_id))
        };
        let taken = diesel::update(holder().filter(asked_no_later_than(asked_at)))
            .set((no_handle_host(), person::handle_host_asked_at.eq(asked_at)))
            .execute(conn)
            .await?;
        if taken == 0 {
            let held: bool = diesel::select(diesel::dsl::exists(holder()))
                .get_result(conn)
                .await?;
            if held {
                return Ok(false);
            }
        }
    }
    let this_person = diesel::update(person::table.find(person_id));
    let asked = person::handle_host_asked_at.eq(asked_at);
    match host {
        Some(host) => {
            this_person
                .set((
                    person::handle_host.eq(host),
                    person::handle_host_confirmed_at.eq(diesel::dsl::now),
                    person::handle_host_missed_at.eq(None::<DateTime<Utc>>),
                    person::handle_host_missed_by_actor.eq(false),
                    asked,
                ))
                .execute(conn)
                .await?
        }
        None => {
            this_person
                .set((no_handle_host(), asked))
                .execute(conn)
                .await?
        }
    };
    Ok(true)
}

/// The one rule by which answers about a person's handle host are ordered: an answer (a
/// confirmation, a miss, a forgotten miss, a handle taken) is stored only if the answer stored
/// last, if any, is of a lookup that began asking no later than this one, at `asked_at`; and
/// storing it dates the row with `asked_at` (`person.handle_host_asked_at`): the person's, and
/// that of whoever loses the handle to them ([`set_handle_host`]). Two lookups of one handle
/// may run at once, or one answer come slowly: an older answer stored last changes nothing (an
/// older confirmation does not erase a newer miss, nor take the handle back from whoever a
/// newer one gave it to; an older 404 or 410 does not undo a newer confirmation). The lookup's
/// start, not the time of its answer: a confirmation rests on two answers. Dated by the
/// database's clock (why: [`lookup_started_at`]).
///
/// Written out twice more, the same rule: [`set_handle_host`] compares the rows it locked in
/// Rust, and [`miss_handle_host`]'s statement in SQL.
fn asked_no_later_than(
    asked_at: DateTime<Utc>,
) -> diesel::dsl::Or<
    diesel::dsl::IsNull<person::handle_host_asked_at>,
    diesel::dsl::LtEq<person::handle_host_asked_at, DateTime<Utc>>,
> {
    person::handle_host_asked_at
        .is_null()
        .or(person::handle_host_asked_at.le(asked_at))
}

diesel::define_sql_function!(fn clock_timestamp() -> diesel::sql_types::Timestamptz);

/// When a lookup of a handle begins asking, by the database's clock: the `asked_at` that orders
/// its answers ([`asked_no_later_than`]). Not the server's own clock: several servers share the
/// database, and one whose clock ran ahead would date its answers later than the others' for as
/// long, and lock their newer answers out. `clock_timestamp()`, not `now()`: the time of this
/// call even inside a transaction. One round trip, no lock.
pub async fn lookup_started_at(conn: &mut AsyncPgConnection) -> Result<DateTime<Utc>, DbError> {
    Ok(diesel::select(clock_timestamp()).get_result(conn).await?)
}

/// A lookup that began asking at `asked_at` confirmed, by both servers, `person_id`'s handle
/// host as stored (`host`; `None`: their actor's host), its confirmation not yet due: nothing
/// to renew, but the answer is dated, so that an older answer stored after it (a 404, a 410)
/// changes nothing; a miss recorded by an older lookup (since it was read) is forgotten, as a
/// confirmation forgets it ([`set_handle_host`]; the confirmation's date kept). Only forward
/// ([`asked_no_later_than`]), and only while they hold `host`. One statement. Whether the
/// answer was stored.
pub async fn handle_host_confirmed_unchanged(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    host: Option<&str>,
    asked_at: DateTime<Utc>,
) -> Result<bool, DbError> {
    use diesel::PgExpressionMethods;
    let dated = diesel::update(
        person::table
            .find(person_id)
            .filter(diesel::dsl::not(person::local))
            .filter(person::handle_host.is_not_distinct_from(host))
            .filter(asked_no_later_than(asked_at)),
    )
    .set((
        person::handle_host_missed_at.eq(None::<DateTime<Utc>>),
        person::handle_host_missed_by_actor.eq(false),
        person::handle_host_asked_at.eq(asked_at),
    ))
    .execute(conn)
    .await?;
    Ok(dated > 0)
}

/// Whoever of the people of other servers named `name` holds `host` as their handle host
/// holds it no more (its server said the account is gone, or gave the handle to someone
/// else, to a lookup that began asking at `asked_at`, stored under [`asked_no_later_than`]'s
/// rule): one guarded statement, so that a confirmation of another host racing with it is not
/// undone. Returns how many lost it (0 or 1: a handle names one person, by unique index).
pub async fn take_handle_host(
    conn: &mut AsyncPgConnection,
    name: &str,
    host: &str,
    asked_at: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        person::table
            .filter(diesel::dsl::not(person::local))
            .filter(person::handle_host.eq(host))
            .filter(lower(person::username).eq(lower(name)))
            .filter(asked_no_later_than(asked_at)),
    )
    .set((no_handle_host(), person::handle_host_asked_at.eq(asked_at)))
    .execute(conn)
    .await?)
}

/// Forgets the recorded miss of `person_id`'s handle when they still hold `host` as their
/// handle host and the handle's host gave every 404 of it: that server links the handle to
/// them again (their actor's server could not be asked to confirm it, so the confirmation's
/// date stays; a 404 of their actor's server stands). `asked_at`: when the lookup began
/// asking, stored under [`asked_no_later_than`]'s rule. Whether a miss was forgotten.
pub async fn forget_handle_miss(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    host: &str,
    asked_at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let forgotten = diesel::update(
        person::table
            .find(person_id)
            .filter(person::handle_host.eq(host))
            .filter(person::handle_host_missed_at.is_not_null())
            .filter(diesel::dsl::not(person::handle_host_missed_by_actor))
            .filter(asked_no_later_than(asked_at)),
    )
    .set((
        person::handle_host_missed_at.eq(None::<DateTime<Utc>>),
        person::handle_host_asked_at.eq(asked_at),
    ))
    .execute(conn)
    .await?;
    Ok(forgotten > 0)
}

/// What a lookup of `name@host` that its server answered with a 404 did to whoever held it
/// ([`miss_handle_host`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleHostMiss {
    /// No one of the people of other servers held it, or its holder's handle was answered for
    /// by a lookup that began asking after this one (older news: nothing stored,
    /// [`asked_no_later_than`]).
    NotHeld,
    /// Its holder keeps it, the miss recorded: the first since the handle was last confirmed
    /// (or since an older miss was forgotten), or one after it too soon to confirm it.
    Recorded,
    /// Its holder lost it: a miss was recorded at least the given interval before, with no
    /// confirmation since.
    Taken,
}

/// Counts a 404 for `name@host` against whoever of the people of other servers holds it as
/// their handle host: the first since its last confirmation is dated; one at least
/// `persisting_after` after that date takes the handle. A miss recorded `forgotten_after` ago
/// or more counts as none (the date restarts now, the handle kept): two passing faults days
/// apart are not one fault that persisted. One statement, the holder's row locked before it
/// is read, so that a confirmation racing with it (which clears the date) is either seen or
/// not undone. `by_actors_server`: the 404 came from the holder's actor's server (asked to
/// confirm the handle), not from the handle's host; remembered with the miss (see
/// [`forget_handle_miss`]). `asked_at`: when the lookup that got the 404 began asking, stored
/// under [`asked_no_later_than`]'s rule (written out in SQL here).
pub async fn miss_handle_host(
    conn: &mut AsyncPgConnection,
    name: &str,
    host: &str,
    persisting_after: chrono::TimeDelta,
    forgotten_after: chrono::TimeDelta,
    by_actors_server: bool,
    asked_at: DateTime<Utc>,
) -> Result<HandleHostMiss, DbError> {
    use diesel::sql_types::{Bool, Interval, Text, Timestamptz};
    #[derive(QueryableByName)]
    struct Missed {
        #[diesel(sql_type = Bool)]
        persisted: bool,
    }
    let missed: Option<Missed> = diesel::sql_query(
        "WITH held AS ( \
             SELECT id, \
                 CASE WHEN handle_host_missed_at > now() - $4 THEN handle_host_missed_at END \
                     AS recorded \
             FROM person \
             WHERE NOT local AND handle_host = $2 AND lower(username) = lower($1) \
                 AND (handle_host_asked_at IS NULL OR handle_host_asked_at <= $6) \
                 /* the rule of asked_no_later_than (cenacle_db::actors), in SQL */ \
             FOR NO KEY UPDATE), \
             /* not FOR UPDATE: no key column changes, rows referencing the person go on */ \
         judged AS ( \
             SELECT id, recorded, COALESCE(recorded <= now() - $3, false) AS persisted \
             FROM held) \
         UPDATE person SET \
             handle_host = CASE WHEN persisted THEN NULL ELSE handle_host END, \
             handle_host_confirmed_at = \
                 CASE WHEN persisted THEN NULL ELSE handle_host_confirmed_at END, \
             handle_host_missed_at = \
                 CASE WHEN persisted THEN NULL ELSE COALESCE(recorded, now()) END, \
             handle_host_missed_by_actor = CASE WHEN persisted THEN false \
                 WHEN recorded IS NULL THEN $5 ELSE handle_host_missed_by_actor OR $5 END, \
             handle_host_asked_at = $6 \
         FROM judged WHERE person.id = judged.id \
         RETURNING judged.persisted",
    )
    .bind::<Text, _>(name)
    .bind::<Text, _>(host)
    .bind::<Interval, _>(persisting_after)
    .bind::<Interval, _>(forgotten_after)
    .bind::<Bool, _>(by_actors_server)
    .bind::<Timestamptz, _>(asked_at)
    .get_result(conn)
    .await
    .optional()?;
    Ok(match missed {
        None => HandleHostMiss::NotHeld,
        Some(Missed { persisted: false }) => HandleHostMiss::Recorded,
        Some(Missed { persisted: true }) => HandleHostMiss::Taken,
    })
}

/// The changes that name a person by their actor's host again.
type NoHandleHost = (
    diesel::dsl::Eq<person::handle_host, Option<String>>,
    diesel::dsl::Eq<person::handle_host_confirmed_at, Option<DateTime<Utc>>>,
    diesel::dsl::Eq<person::handle_host_missed_at, Option<DateTime<Utc>>>,
    diesel::dsl::Eq<person::handle_host_missed_by_actor, bool>,
);

/// No handle host, and so no date it was confirmed or missed at.
fn no_handle_host() -> NoHandleHost {
    (
        person::handle_host.eq(None),
        person::handle_host_confirmed_at.eq(None),
        person::handle_host_missed_at.eq(None),
        person::handle_host_missed_by_actor.eq(false),
    )
}

pub async fn local_person_by_name(
    conn: &mut AsyncPgConnection,
    name: &str,
) -> Result<Option<PersonActor>, DbError> {
    Ok(person::table
        .filter(person::username.eq(name))
        .filter(person::local.eq(true))
        .select(PersonActor::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Local people created before they had a federation identity (accounts older than the
/// federation migration).
pub async fn local_people_without_identity(
    conn: &mut AsyncPgConnection,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(person::table
        .filter(person::local.eq(true))
        .filter(
            person::ap_id
                .is_null()
                .or(person::private_key_pem.is_null()),
        )
        .select((person::id, person::username))
        .load(conn)
        .await?)
}

pub async fn set_person_identity(
    conn: &mut AsyncPgConnection,
    person_id: i64,
    identity: &LocalIdentity,
) -> Result<(), DbError> {
    diesel::update(person::table.find(person_id))
        .set((
            person::ap_id.eq(&identity.ap_id),
            person::inbox_url.eq(&identity.inbox_url),
            person::shared_inbox_url.eq(&identity.shared_inbox_url),
            person::public_key_pem.eq(&identity.public_key_pem),
            person::private_key_pem.eq(&identity.private_key_pem),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// What a remote server says about one of its people. Inserted, or laid over the cached row,
/// as one changeset.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = person, treat_none_as_null = true)]
pub struct RemotePerson {
    pub ap_id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub public_key_pem: String,
    pub instance_host: String,
}

/// Stores or refreshes a remote person, keyed by its id.
pub async fn upsert_remote_person(
    conn: &mut AsyncPgConnection,
    p: &RemotePerson,
) -> Result<PersonActor, DbError> {
    let refreshed = (
        person::last_refreshed_at.eq(diesel::dsl::now),
        person::updated_at.eq(diesel::dsl::now),
        // A handle host was confirmed for a name: renamed, they are named by their actor's
        // host until it is confirmed again (and the new name cannot take another's handle).
        person::handle_host.eq(kept_under_the_same_name("handle_host")),
        person::handle_host_confirmed_at.eq(kept_under_the_same_name("handle_host_confirmed_at")),
        person::handle_host_missed_at.eq(kept_under_the_same_name("handle_host_missed_at")),
        person::handle_host_missed_by_actor.eq(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "CASE WHEN lower(person.username) = lower(excluded.username) \
             THEN person.handle_host_missed_by_actor ELSE false END",
        )),
    );
    Ok(diesel::insert_into(person::table)
        .values((p, person::local.eq(false)))
        .on_conflict(person::ap_id)
        .do_update()
        .set((p, refreshed))
        .returning(PersonActor::as_returning())
        .get_result(conn)
        .await?)
}

/// The stored person's `column` on a refresh under the same name (any case), else NULL: what
/// goes with a handle host confirmed for that name.
fn kept_under_the_same_name<ST>(column: &'static str) -> diesel::expression::SqlLiteral<ST>
where
    ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
{
    diesel::dsl::sql(&format!(
        "CASE WHEN lower(person.username) = lower(excluded.username) THEN person.{column} END"
    ))
}

/// Makes the next dereference of a cached remote actor fetch it again (key rotation).
pub async fn mark_actor_stale(conn: &mut AsyncPgConnection, ap_id: &str) -> Result<(), DbError> {
    let long_ago = DateTime::<Utc>::UNIX_EPOCH;
    diesel::update(
        person::table
            .filter(person::ap_id.eq(ap_id))
            .filter(person::local.eq(false)),
    )
    .set(person::last_refreshed_at.eq(long_ago))
    .execute(conn)
    .await?;
    diesel::update(
        community_group::table
            .filter(community_group::ap_id.eq(ap_id))
            .filter(community_group::local.eq(false)),
    )
    .set(community_group::last_refreshed_at.eq(long_ago))
    .execute(conn)
    .await?;
    Ok(())
}

// ---- groups ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = community_group)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub description: String,
    pub local: bool,
    pub ap_id: String,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub public_key_pem: String,
    pub private_key_pem: Option<String>,
    pub instance_host: String,
    pub visibility: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_refreshed_at: DateTime<Utc>,
    pub rules: String,
    pub tags: Vec<String>,
    pub avatar_url: Option<String>,
    pub banner_url: Option<String>,
    pub dislikes_enabled: bool,
    pub archived_at: Option<DateTime<Utc>>,
    /// Exists on this instance only (the champions group): never served to other servers,
    /// no follow accepted, no outbox event.
    pub local_only: bool,
}

pub struct NewLocalGroup<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub identity: &'a LocalIdentity,
    pub followers_url: &'a str,
    pub instance_host: &'a str,
    pub created_by: Option<i64>,
    pub visibility: &'a str,
    pub local_only: bool,
}

pub async fn insert_local_group(
    conn: &mut AsyncPgConnection,
    g: &NewLocalGroup<'_>,
) -> Result<Group, DbError> {
    Ok(diesel::insert_into(community_group::table)
        .values((
            community_group::name.eq(g.name),
            community_group::title.eq(g.title),
            community_group::description.eq(g.description),
            community_group::local.eq(true),
            community_group::ap_id.eq(&g.identity.ap_id),
            community_group::inbox_url.eq(&g.identity.inbox_url),
            community_group::shared_inbox_url.eq(&g.identity.shared_inbox_url),
            community_group::followers_url.eq(g.followers_url),
            community_group::public_key_pem.eq(&g.identity.public_key_pem),
            community_group::private_key_pem.eq(&g.identity.private_key_pem),
            community_group::instance_host.eq(g.instance_host),
            community_group::created_by.eq(g.created_by),
            community_group::visibility.eq(g.visibility),
            community_group::local_only.eq(g.local_only),
        ))
        .returning(Group::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn group_by_ap_id(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> Result<Option<Group>, DbError> {
    Ok(community_group::table
        .filter(community_group::ap_id.eq(ap_id))
        .select(Group::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn group_by_id(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<Group>, DbError> {
    Ok(community_group::table
        .find(id)
        .select(Group::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The groups of `ids` (those that exist), in no given order.
pub async fn groups_by_ids(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<Group>, DbError> {
    Ok(community_group::table
        .filter(community_group::id.eq_any(ids))
        .select(Group::as_select())
        .load(conn)
        .await?)
}

/// This instance's groups that are not archived, by name: the directory of groups (their
/// cards; what they hold is for their readers).
pub async fn local_groups(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<Group>, DbError> {
    Ok(community_group::table
        .filter(community_group::local.eq(true))
        .filter(community_group::archived_at.is_null())
        .order(community_group::name.asc())
        .limit(limit)
        .select(Group::as_select())
        .load(conn)
        .await?)
}

pub async fn local_group_by_name(
    conn: &mut AsyncPgConnection,
    name: &str,
) -> Result<Option<Group>, DbError> {
    Ok(community_group::table
        .filter(community_group::name.eq(name))
        .filter(community_group::local.eq(true))
        .select(Group::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// A cached remote group by `name@host`.
pub async fn remote_group_by_handle(
    conn: &mut AsyncPgConnection,
    name: &str,
    host: &str,
) -> Result<Option<Group>, DbError> {
    Ok(community_group::table
        .filter(community_group::name.eq(name))
        .filter(community_group::instance_host.eq(host))
        .filter(community_group::local.eq(false))
        .select(Group::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Returns the updated group, or None when it does not exist.
pub async fn update_group_text(
    conn: &mut AsyncPgConnection,
    id: i64,
    title: Option<&str>,
    description: Option<&str>,
) -> Result<Option<Group>, DbError> {
    #[derive(AsChangeset)]
    #[diesel(table_name = community_group)]
    struct Change<'a> {
        title: Option<&'a str>,
        description: Option<&'a str>,
    }
    Ok(diesel::update(community_group::table.find(id))
        .set((
            Change { title, description },
            community_group::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Group::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = community_group, treat_none_as_null = true)]
pub struct RemoteGroup {
    pub ap_id: String,
    pub name: String,
    pub title: String,
    pub description: String,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub public_key_pem: String,
    pub instance_host: String,
    pub visibility: String,
}

pub async fn upsert_remote_group(
    conn: &mut AsyncPgConnection,
    g: &RemoteGroup,
) -> Result<Group, DbError> {
    let refreshed = (
        community_group::updated_at.eq(diesel::dsl::now),
        community_group::last_refreshed_at.eq(diesel::dsl::now),
    );
    Ok(diesel::insert_into(community_group::table)
        .values((g, community_group::local.eq(false)))
        .on_conflict(community_group::ap_id)
        .do_update()
        .set((g, refreshed))
        .returning(Group::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn count_local_groups(conn: &mut AsyncPgConnection) -> Result<i64, DbError> {
    Ok(community_group::table
        .filter(community_group::local.eq(true))
        .count()
        .get_result(conn)
        .await?)
}

pub async fn count_local_people(conn: &mut AsyncPgConnection) -> Result<i64, DbError> {
    Ok(person::table
        .filter(person::local.eq(true))
        .count()
        .get_result(conn)
        .await?)
}

// ---- the instance actor and signing keys ----

/// The instance actor's (public, private) key pair, if created.
pub async fn instance_actor_keys(
    conn: &mut AsyncPgConnection,
) -> Result<Option<(String, String)>, DbError> {
    Ok(instance_actor::table
        .select((
            instance_actor::public_key_pem,
            instance_actor::private_key_pem,
        ))
        .first(conn)
        .await
        .optional()?)
}

/// Stores the instance actor's keys unless another process did first; returns the stored pair.
pub async fn insert_instance_actor_keys(
    conn: &mut AsyncPgConnection,
    public_key_pem: &str,
    private_key_pem: &str,
) -> Result<(String, String), DbError> {
    diesel::insert_into(instance_actor::table)
        .values((
            instance_actor::id.eq(1),
            instance_actor::public_key_pem.eq(public_key_pem),
            instance_actor::private_key_pem.eq(private_key_pem),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    instance_actor_keys(conn)
        .await?
        .ok_or_else(|| DbError::Corrupt("instance actor keys vanished".into()))
}

/// The private key of a local person or group, by actor id: what a delivery is signed with.
pub async fn local_private_key(
    conn: &mut AsyncPgConnection,
    ap_id: &str,
) -> Result<Option<String>, DbError> {
    let from_person: Option<Option<String>> = person::table
        .filter(person::ap_id.eq(ap_id))
        .filter(person::local.eq(true))
        .select(person::private_key_pem)
        .first(conn)
        .await
        .optional()?;
    if let Some(key) = from_person.flatten() {
        return Ok(Some(key));
    }
    let from_group: Option<Option<String>> = community_group::table
        .filter(community_group::ap_id.eq(ap_id))
        .filter(community_group::local.eq(true))
        .select(community_group::private_key_pem)
        .first(conn)
        .await
        .optional()?;
    Ok(from_group.flatten())
}
