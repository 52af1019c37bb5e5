//! What we send on our own initiative: the relays of a group of ours (FEP-1b12), and the
//! outbox events of our members' actions turned into activities (`from_event`). All queued
//! in the caller's transaction (`queue`), so an activity leaves if and only if the change
//! that caused it commits. (Answers to an activity — an Accept of a Follow — are sent by the
//! family that receives it.)

pub mod from_event;
pub mod moderation;
pub mod reports_and_bans;

use crate::{activities::Announce, objects::content, FedData};
use activitypub_federation::kinds::activity::AnnounceType;
use cenacle_core::{federation, model::Group, model::Post, Conn, CoreError};
use serde_json::Value;
use url::Url;

fn internal(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(e.to_string())
}

/// A group of ours Announces what it accepted, unchanged, to every instance that follows it
/// (FEP-1b12; the author's own instance included: Lemmy shows a post only once its group
/// announced it).
pub async fn relay(
    conn: &mut Conn,
    data: &FedData,
    group: &Group,
    activity: Value,
) -> Result<(), CoreError> {
    relay_reaching(conn, data, group, activity, None).await
}

/// As [`relay`], and to the server of `also_inbox` when no follower there receives the relay
/// (the server of a person the group just banned or let back: the ban took their follow,
/// which may have been that server's only one): no second copy to a server a follower there
/// already receives it on.
pub async fn relay_reaching(
    conn: &mut Conn,
    data: &FedData,
    group: &Group,
    activity: Value,
    also_inbox: Option<&str>,
) -> Result<(), CoreError> {
    let (to, cc) = content::audience_of(group);
    let group_id = Url::parse(&group.ap_id).map_err(internal)?;
    let announce = Announce {
        kind: AnnounceType::Announce,
        id: crate::vocabulary::new_activity_id(data, "announce"),
        actor: group_id.clone(),
        object: activity,
        to,
        cc,
    };
    let body = serde_json::to_string(&crate::context::with_context(&announce)).map_err(internal)?;
    federation::queue_to_followers(
        conn,
        &data.ctx,
        announce.id.as_str(),
        group_id.as_str(),
        &body,
        &group.ap_id,
        also_inbox,
    )
    .await?;
    Ok(())
}

/// Mastodon cannot show `Announce{Create{Page}}`: thread starters are also announced as the
/// Page itself (Lemmy and NodeBB do the same; Lemmy and PieFed ignore it).
pub async fn announce_page(
    conn: &mut Conn,
    data: &FedData,
    group: &Group,
    post: &Post,
) -> Result<(), CoreError> {
    let our_host = cenacle_core::identity::local_host(&data.ctx.settings);
    let page = content::page(conn, &our_host, post).await?;
    relay(
        conn,
        data,
        group,
        serde_json::to_value(page).map_err(internal)?,
    )
    .await
}
