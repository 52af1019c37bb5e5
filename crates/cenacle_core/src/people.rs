//! People as others see them: profiles with reputation, rank and badges, and authors shown
//! beside what they wrote.

use crate::{identity, Conn, Context, CoreError};
use cenacle_db::{
    actors::{self, PersonActor},
    badges::{self, Badge},
    content::{self as store, Author},
    engagement as ledger,
};
use cenacle_domain::engagement::{rank_for, rank_score, Contributions, RankTier};
use chrono::{DateTime, Utc};

pub use cenacle_db::actors::HandleHostMiss;

/// A person by `username` (local), `user@host`, or actor URL.
pub async fn person_by_handle(
    conn: &mut Conn,
    ctx: &Context,
    handle: &str,
) -> Result<PersonActor, CoreError> {
    // A remote person may also be named by their actor URL (as an Add to a moderators
    // collection names them).
    if handle.starts_with("https://") || handle.starts_with("http://") {
        return actors::person_by_ap_id(conn, handle)
            .await?
            .ok_or(CoreError::NotFound("person"));
    }
    let local_host = identity::local_host(&ctx.settings);
    actors::person_by_handle(conn, handle, &local_host)
        .await?
        .ok_or(CoreError::NotFound("person"))
}

/// Names a person of another server by the host their handle names (`alice@example.org`
/// for an actor at `social.example.org`), once both servers confirmed it; `None`: by their
/// actor's host. Texts naming that handle then tag them. Several statements, its compare and
/// write held by row locks: call it inside the caller's transaction. `asked_at`: when the
/// lookup that confirmed it began asking ([`lookup_started_at`]); nothing is stored if a lookup
/// that began later stored its answer about them or about whoever holds the handle
/// (`cenacle_db::actors::set_handle_host`). Whether it was stored.
pub async fn set_handle_host(
    conn: &mut Conn,
    person_id: i64,
    host: Option<&str>,
    asked_at: DateTime<Utc>,
) -> Result<bool, CoreError> {
    Ok(actors::set_handle_host(conn, person_id, host, asked_at).await?)
}

/// When a lookup of a handle begins asking, by the database's clock (why:
/// `cenacle_db::actors::lookup_started_at`): the `asked_at` its answers are stored by. Outside
/// a transaction, before the lookup asks anything.
pub async fn lookup_started_at(conn: &mut Conn) -> Result<DateTime<Utc>, CoreError> {
    Ok(actors::lookup_started_at(conn).await?)
}

/// A lookup that began asking at `asked_at` confirmed `person_id`'s handle host as stored
/// (`host`; `None`: their actor's host), its confirmation not due: nothing renewed, but the
/// answer dated, so that an older 404 or 410 stored after it changes nothing, and a miss
/// recorded by an older lookup forgotten. One statement. Whether it was stored.
pub async fn handle_host_confirmed_unchanged(
    conn: &mut Conn,
    person_id: i64,
    host: Option<&str>,
    asked_at: DateTime<Utc>,
) -> Result<bool, CoreError> {
    Ok(actors::handle_host_confirmed_unchanged(conn, person_id, host, asked_at).await?)
}

/// Takes the handle `name@host` from whoever of the people of other servers holds it as their
/// handle host: its server names no one, or someone else, by it, to a lookup that began asking
/// at `asked_at` (not if a lookup that began later stored its answer). Whether someone lost it.
pub async fn take_handle_host(
    conn: &mut Conn,
    name: &str,
    host: &str,
    asked_at: DateTime<Utc>,
) -> Result<bool, CoreError> {
    Ok(actors::take_handle_host(conn, name, host, asked_at).await? > 0)
}

/// Counts a 404 for `name@host` (a miss: maybe a passing fault of its server) against whoever
/// of the people of other servers holds it as their handle host; the handle goes once a miss
/// persists `persisting_after`, no confirmation between, and a miss `forgotten_after` old
/// counts as none. One guarded statement. `by_actors_server`: the 404 came from the holder's
/// actor's server, not the handle's host (only the handle's host's own misses are refuted by
/// its answer alone, [`forget_handle_miss`]). `asked_at`: when the lookup began asking (an
/// older 404 does not count against a newer answer).
pub async fn miss_handle_host(
    conn: &mut Conn,
    name: &str,
    host: &str,
    persisting_after: chrono::TimeDelta,
    forgotten_after: chrono::TimeDelta,
    by_actors_server: bool,
    asked_at: DateTime<Utc>,
) -> Result<HandleHostMiss, CoreError> {
    Ok(actors::miss_handle_host(
        conn,
        name,
        host,
        persisting_after,
        forgotten_after,
        by_actors_server,
        asked_at,
    )
    .await?)
}

/// Forgets the recorded miss of `person_id`'s handle host `host`, which the handle's host answers
/// for again, their actor's server not asked, when every 404 of the miss was the handle's
/// host's: it was a passing fault; not a miss of a lookup that began asking after this one did,
/// at `asked_at`. Whether one was forgotten.
pub async fn forget_handle_miss(
    conn: &mut Conn,
    person_id: i64,
    host: &str,
    asked_at: DateTime<Utc>,
) -> Result<bool, CoreError> {
    Ok(actors::forget_handle_miss(conn, person_id, host, asked_at).await?)
}

/// A person by id.
pub async fn person_by_id(conn: &mut Conn, id: i64) -> Result<PersonActor, CoreError> {
    actors::person_by_id(conn, id)
        .await?
        .ok_or(CoreError::NotFound("person"))
}

/// A person's standing here.
pub struct Profile {
    pub person: PersonActor,
    /// Reputation earned here.
    pub reputation: i64,
    /// Their rank's score and tier.
    pub rank_score: i64,
    pub rank: Option<RankTier>,
    /// What the rank and the automatic badges count: only what counts (votes of weight 0,
    /// one's own likes and acceptances never do).
    pub contributions: Contributions,
    /// For people of other Cénacle instances: reputation and rank at home, as their instance
    /// says; shown beside ours, never added to it.
    pub home_reputation: Option<i64>,
    pub home_rank: Option<String>,
    pub title: Option<Badge>,
    /// Badges held, oldest first.
    pub badges: Vec<Badge>,
}

pub async fn profile(
    conn: &mut Conn,
    ctx: &Context,
    person: PersonActor,
) -> Result<Profile, CoreError> {
    let reputation = ledger::reputation_of(conn, person.id).await?;
    let (home_reputation, home_rank) = ledger::home_reputation(conn, person.id).await?;
    let title = badges::title(conn, person.id).await?;
    let held = badges::held(conn, person.id).await?;
    let contributions = ledger::contributions(conn, person.id).await?;
    let score = rank_score(&contributions);
    let rank = rank_for(score, &ctx.settings.engagement.ranks).cloned();
    Ok(Profile {
        person,
        reputation,
        rank_score: score,
        rank,
        contributions,
        home_reputation,
        home_rank,
        title,
        badges: held.into_iter().map(|(b, _)| b).collect(),
    })
}

/// A person's rank score and tier.
pub async fn rank_of(
    conn: &mut Conn,
    ctx: &Context,
    person_id: i64,
) -> Result<(i64, Option<RankTier>), CoreError> {
    let contributions = ledger::contributions(conn, person_id).await?;
    let score = rank_score(&contributions);
    Ok((
        score,
        rank_for(score, &ctx.settings.engagement.ranks).cloned(),
    ))
}

/// The authors of what a page shows, by id.
pub async fn authors(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Author>, CoreError> {
    Ok(store::authors(conn, ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}
