//! Our moderators' actions as the activities Lemmy 1.0 reads (INTEROP.md): a removal is a
//! `Delete` of the object's id with the reason as `summary`, a restore the `Undo` embedding
//! it; `Lock` and `Undo{Lock}`; pins and the moderator list as `Add`/`Remove` to the group's
//! `featured` and moderators collections. Sent like any of our members' activities: to the
//! group when it is elsewhere, relayed by the group when it is ours.

use crate::{
    activities::{
        moderation::{audience, AddOrRemove, CollectionChange},
        DeleteContent, LockPost, Undo, Undone,
    },
    ApubError, FedData,
};
use cenacle_core::{
    actors,
    model::{Group, OutboxEvent, VoteTarget},
    people, published, Conn,
};
use serde_json::Value;
use url::Url;

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, ApubError> {
    serde_json::to_value(value).map_err(ApubError::internal)
}

fn url(s: &str) -> Result<Url, ApubError> {
    Url::parse(s).map_err(ApubError::internal)
}

/// The activity of a moderation event by `actor` and the group it concerns; None for an
/// event of another kind, or about something gone since.
pub async fn activity(
    conn: &mut Conn,
    data: &FedData,
    actor: &Url,
    event: OutboxEvent,
) -> Result<Option<(Value, Group)>, ApubError> {
    use OutboxEvent as E;
    Ok(Some(match event {
        E::PostRemoved(_) | E::PostRestored(_) | E::CommentRemoved(_) | E::CommentRestored(_) => {
            let target = match event {
                E::PostRemoved(id) | E::PostRestored(id) => VoteTarget::Post(id),
                E::CommentRemoved(id) | E::CommentRestored(id) => VoteTarget::Comment(id),
                _ => unreachable!(),
            };
            let Some((object, reason, group)) = object_of(conn, target).await? else {
                return Ok(None);
            };
            let delete = DeleteContent::removal(data, actor.clone(), object, &group, &reason);
            let activity = if matches!(event, E::PostRemoved(_) | E::CommentRemoved(_)) {
                to_value(&delete)?
            } else {
                let (to, cc) = audience(&group);
                to_value(&Undo::of_moderation(data, Undone::Delete(delete), to, cc))?
            };
            (activity, group)
        }
        E::PostLocked(id) | E::PostUnlocked(id) => {
            let Some((object, _, group)) = object_of(conn, VoteTarget::Post(id)).await? else {
                return Ok(None);
            };
            let lock = LockPost::new(data, actor.clone(), object, &group);
            let activity = if matches!(event, E::PostLocked(_)) {
                to_value(&lock)?
            } else {
                let (to, cc) = audience(&group);
                to_value(&Undo::of_moderation(data, Undone::Lock(lock), to, cc))?
            };
            (activity, group)
        }
        E::PostPinned(id) | E::PostUnpinned(id) => {
            let Some((object, _, group)) = object_of(conn, VoteTarget::Post(id)).await? else {
                return Ok(None);
            };
            let kind = if matches!(event, E::PostPinned(_)) {
                AddOrRemove::Add
            } else {
                AddOrRemove::Remove
            };
            let target = url(&format!("{}/featured", group.ap_id))?;
            let change = CollectionChange::new(data, kind, actor.clone(), object, target, &group);
            (to_value(&change)?, group)
        }
        E::ModeratorAdded {
            group_id,
            person_id,
        }
        | E::ModeratorRemoved {
            group_id,
            person_id,
        } => {
            let Some(group) = actors::group_by_id(conn, group_id).await? else {
                return Ok(None);
            };
            let person = people::person_by_id(conn, person_id).await?;
            let Some(object) = person.ap_id.as_deref().map(url).transpose()? else {
                return Ok(None);
            };
            let kind = if matches!(event, E::ModeratorAdded { .. }) {
                AddOrRemove::Add
            } else {
                AddOrRemove::Remove
            };
            let target = url(&format!("{}/moderators", group.ap_id))?;
            let change = CollectionChange::new(data, kind, actor.clone(), object, target, &group);
            (to_value(&change)?, group)
        }
        _ => return Ok(None),
    }))
}

/// A post's or comment's id, its last removal reason, and its group.
async fn object_of(
    conn: &mut Conn,
    target: VoteTarget,
) -> Result<Option<(Url, String, Group)>, ApubError> {
    let (ap_id, reason, post_id) = match target {
        VoteTarget::Post(id) => match published::post_by_id(conn, id).await? {
            Some(p) => (p.ap_id, p.removal_reason, p.id),
            None => return Ok(None),
        },
        VoteTarget::Comment(id) => match published::comment_by_id(conn, id).await? {
            Some(c) => (c.ap_id, c.removal_reason, c.post_id),
            None => return Ok(None),
        },
    };
    let Some(post) = published::post_by_id(conn, post_id).await? else {
        return Ok(None);
    };
    let Some(group) = actors::group_by_id(conn, post.group_id).await? else {
        return Ok(None);
    };
    Ok(Some((url(&ap_id)?, reason.unwrap_or_default(), group)))
}
