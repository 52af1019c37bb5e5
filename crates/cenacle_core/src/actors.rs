//! People and groups as federation actors: ours with their keys, others' cached from what
//! their servers serve.

use crate::{Conn, CoreError};
use cenacle_db::{
    actors::{self as store, Group, LocalIdentity, PersonActor, RemoteGroup, RemotePerson},
    content, engagement,
};

pub async fn person_by_ap_id(
    conn: &mut Conn,
    ap_id: &str,
) -> Result<Option<PersonActor>, CoreError> {
    Ok(store::person_by_ap_id(conn, ap_id).await?)
}

pub async fn local_person_by_name(
    conn: &mut Conn,
    name: &str,
) -> Result<Option<PersonActor>, CoreError> {
    Ok(store::local_person_by_name(conn, name).await?)
}

pub async fn group_by_ap_id(conn: &mut Conn, ap_id: &str) -> Result<Option<Group>, CoreError> {
    Ok(store::group_by_ap_id(conn, ap_id).await?)
}

pub async fn local_group_by_name(conn: &mut Conn, name: &str) -> Result<Option<Group>, CoreError> {
    Ok(store::local_group_by_name(conn, name).await?)
}

pub async fn group_by_id(conn: &mut Conn, id: i64) -> Result<Option<Group>, CoreError> {
    Ok(store::group_by_id(conn, id).await?)
}

/// Stores or refreshes a remote person as their server serves them, with their portable
/// reputation (kept beside ours, read-only, never added to it).
pub async fn store_remote_person(
    conn: &mut Conn,
    person: &RemotePerson,
    home_reputation: Option<i64>,
    home_rank: Option<&str>,
) -> Result<PersonActor, CoreError> {
    let row = store::upsert_remote_person(conn, person).await?;
    engagement::set_home_reputation(conn, &person.ap_id, home_reputation, home_rank).await?;
    Ok(row)
}

/// Stores or refreshes a remote group as its server serves it. Never one of ours: a remote
/// document cannot take over a local group's row.
pub async fn store_remote_group(conn: &mut Conn, group: &RemoteGroup) -> Result<Group, CoreError> {
    if store::group_by_ap_id(conn, &group.ap_id)
        .await?
        .is_some_and(|g| g.local)
    {
        return Err(CoreError::Forged(
            cenacle_domain::origin::Forgery::OurOwnContent,
        ));
    }
    Ok(store::upsert_remote_group(conn, group).await?)
}

/// A group we know changed (its Update): refreshed only when it is a remote group we already
/// know (an Update does not introduce a new actor). Returns whether it was.
pub async fn refresh_known_group(conn: &mut Conn, group: &RemoteGroup) -> Result<bool, CoreError> {
    match store::group_by_ap_id(conn, &group.ap_id).await? {
        Some(known) if !known.local => {
            store::upsert_remote_group(conn, group).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Makes the next use of a cached remote actor fetch it again (its key may have rotated).
pub async fn mark_stale(conn: &mut Conn, ap_id: &str) -> Result<(), CoreError> {
    Ok(store::mark_actor_stale(conn, ap_id).await?)
}

/// The private key a local actor (person or group) signs its deliveries with.
pub async fn local_private_key(conn: &mut Conn, ap_id: &str) -> Result<Option<String>, CoreError> {
    Ok(store::local_private_key(conn, ap_id).await?)
}

/// The instance actor's (public, private) key pair, if made.
pub async fn instance_keys(conn: &mut Conn) -> Result<Option<(String, String)>, CoreError> {
    Ok(store::instance_actor_keys(conn).await?)
}

/// Stores the instance actor's keys (made before, outside any transaction) unless another
/// process did first; returns the pair that is stored.
pub async fn store_instance_keys(
    conn: &mut Conn,
    public_pem: &str,
    private_pem: &str,
) -> Result<(String, String), CoreError> {
    Ok(store::insert_instance_actor_keys(conn, public_pem, private_pem).await?)
}

/// Local people created before federation existed: (id, username), to give an identity.
pub async fn people_without_identity(conn: &mut Conn) -> Result<Vec<(i64, String)>, CoreError> {
    Ok(store::local_people_without_identity(conn).await?)
}

pub async fn set_identity(
    conn: &mut Conn,
    person_id: i64,
    identity: &LocalIdentity,
) -> Result<(), CoreError> {
    Ok(store::set_person_identity(conn, person_id, identity).await?)
}

/// What NodeInfo publishes: (local people, local groups, local posts).
pub async fn usage(conn: &mut Conn) -> Result<(i64, i64, i64), CoreError> {
    Ok((
        store::count_local_people(conn).await?,
        store::count_local_groups(conn).await?,
        content::count_local_posts(conn).await?,
    ))
}
