//! Outbox events (what our members did) turned into activities and queued: a member's
//! activity in a group elsewhere goes to that group's inbox; in a group of ours, the group
//! Announces it to its followers; a group of ours that changed sends its Update.

use super::{announce_page, relay, reports_and_bans};
use crate::{
    activities::{
        CreateOrUpdate, CreateOrUpdateType, DeleteContent, Undo, Undone, UpdateGroup, VoteActivity,
    },
    context::with_context,
    objects::{content, group::ApubGroup},
    queue::send,
    vocabulary::new_activity_id,
    ApubError, FedData,
};
use activitypub_federation::{
    config::Data,
    kinds::activity::{DeleteType, UndoType},
    traits::Object,
};
use cenacle_core::{
    actors, approval, federation, instance_moderation,
    model::{Group, OutboxEvent, QueuedEvent, VoteTarget},
    people, published, Conn, ScopedFutureExt,
};
use cenacle_domain::content::Vote;
use serde::Serialize;
use serde_json::Value;
use url::Url;

fn to_value<T: Serialize>(value: &T) -> Result<Value, ApubError> {
    serde_json::to_value(value).map_err(ApubError::internal)
}

/// Takes up to `limit` due outbox events and queues their activities, in one transaction.
/// Returns how many events were taken. When that fails, the batch is rolled back and its
/// events are taken again one transaction each ([`process_one`]), so that the failing one is
/// found, retried later on its own and, after its last attempt, parked: it never holds back
/// the others.
pub async fn process_outbox(data: &Data<FedData>, limit: i64) -> Result<usize, ApubError> {
    let batch = data
        .db
        .transaction(|conn| {
            async move {
                let events = federation::take_outbox_events(conn, limit).await?;
                for event in &events {
                    send_for_event(conn, data, event).await?;
                }
                Ok(events.len())
            }
            .scope_boxed()
        })
        .await;
    match batch {
        Ok(n) => Ok(n),
        Err(err) => {
            tracing::warn!(error = %err, "a batch of outbox events failed; taking them one at a time");
            let mut taken = 0;
            while taken < limit as usize {
                match process_one(data).await? {
                    OneEvent::Nothing => break,
                    OneEvent::Sent | OneEvent::Failed => taken += 1,
                }
            }
            Ok(taken)
        }
    }
}

/// What [`process_one`] did.
enum OneEvent {
    /// No event was due.
    Nothing,
    Sent,
    /// The event failed: recorded for a retry, or parked.
    Failed,
}

/// Takes the oldest due event and queues its activities in a transaction of its own; if that
/// fails, the failure is recorded on the event (in another transaction: the first one was
/// rolled back). An error here is the database's, not an event's.
async fn process_one(data: &Data<FedData>) -> Result<OneEvent, ApubError> {
    let taken: std::sync::Mutex<Option<QueuedEvent>> = std::sync::Mutex::new(None);
    let taken_ref = &taken;
    let result = data
        .db
        .transaction(|conn| {
            async move {
                let Some(event) = federation::take_outbox_events(conn, 1).await?.pop() else {
                    return Ok(false);
                };
                *taken_ref.lock().unwrap() = Some(event.clone());
                send_for_event(conn, data, &event).await?;
                Ok(true)
            }
            .scope_boxed()
        })
        .await;
    let error = match result {
        Ok(true) => return Ok(OneEvent::Sent),
        Ok(false) => return Ok(OneEvent::Nothing),
        Err(err) => err,
    };
    let Some(event) = taken.into_inner().unwrap() else {
        return Err(error.into());
    };
    let message = error.to_string();
    let ctx = &data.ctx;
    let retry_at = data
        .db
        .transaction(|conn| {
            federation::outbox_event_failed(conn, ctx, &event, &message).scope_boxed()
        })
        .await?;
    match retry_at {
        Some(at) => {
            tracing::warn!(event = event.id, error = %message, retry_at = %at, "outbox event failed; will retry")
        }
        None => {
            tracing::error!(event = event.id, error = %message, "outbox event failed too often; parked (see the admin API)")
        }
    }
    Ok(OneEvent::Failed)
}

/// Queues what `event` must send. Events of remote actors (none are recorded) and of things
/// gone since send nothing.
pub async fn send_for_event(
    conn: &mut Conn,
    data: &Data<FedData>,
    queued: &QueuedEvent,
) -> Result<(), ApubError> {
    match queued.event {
        OutboxEvent::GroupUpdated(group_id) => return group_updated(conn, data, group_id).await,
        OutboxEvent::ReportFiled(id) => {
            return reports_and_bans::report_filed(conn, data, id).await
        }
        OutboxEvent::ReportClosed(id) => {
            return reports_and_bans::report_closed(conn, data, queued.actor_id, id).await
        }
        OutboxEvent::GroupBanned {
            group_id,
            person_id,
        }
        | OutboxEvent::GroupUnbanned {
            group_id,
            person_id,
        } => {
            let lifted = matches!(queued.event, OutboxEvent::GroupUnbanned { .. });
            return reports_and_bans::ban_changed(
                conn,
                data,
                queued.actor_id,
                group_id,
                person_id,
                lifted,
            )
            .await;
        }
        _ => {}
    }
    // An approved post: our member's is sent as if just created; a remote member's activity,
    // kept since it arrived, is relayed now.
    let event = match queued.event {
        OutboxEvent::PostApproved(id) => {
            if remote_post_approved(conn, data, id).await? {
                return Ok(());
            }
            OutboxEvent::PostCreated(id)
        }
        event => event,
    };
    let Some(actor_id) = queued.actor_id else {
        return Ok(());
    };
    let actor = people::person_by_id(conn, actor_id).await?;
    let Some(actor_url) = actor
        .ap_id
        .as_deref()
        .filter(|_| actor.local)
        .and_then(|a| Url::parse(a).ok())
    else {
        return Ok(());
    };
    let our_host = cenacle_core::identity::local_host(&data.ctx.settings);
    let (activity, group, new_post) = match event {
        OutboxEvent::PostCreated(id) | OutboxEvent::PostUpdated(id) => {
            let Some(post) = published::post_by_id(conn, id).await? else {
                return Ok(());
            };
            let object = content::page(conn, &our_host, &post).await?;
            let group = group_of(conn, post.group_id).await?;
            let created = matches!(event, OutboxEvent::PostCreated(_));
            let kind = if created {
                CreateOrUpdateType::Create
            } else {
                CreateOrUpdateType::Update
            };
            let activity = CreateOrUpdate::new(data, kind, actor_url.clone(), object);
            (to_value(&activity)?, group, created.then_some(post))
        }
        OutboxEvent::CommentCreated(id) | OutboxEvent::CommentUpdated(id) => {
            let Some(comment) = published::comment_by_id(conn, id).await? else {
                return Ok(());
            };
            let object = content::note(conn, &our_host, &comment).await?;
            let post = published::post_by_id(conn, comment.post_id)
                .await?
                .ok_or(ApubError::NotFound)?;
            let group = group_of(conn, post.group_id).await?;
            let kind = if matches!(event, OutboxEvent::CommentCreated(_)) {
                CreateOrUpdateType::Create
            } else {
                CreateOrUpdateType::Update
            };
            let activity = CreateOrUpdate::new(data, kind, actor_url.clone(), object);
            (to_value(&activity)?, group, None)
        }
        OutboxEvent::PostDeleted(id) | OutboxEvent::CommentDeleted(id) => {
            let target = match event {
                OutboxEvent::PostDeleted(_) => VoteTarget::Post(id),
                _ => VoteTarget::Comment(id),
            };
            let Some((object, group)) = object_and_group(conn, target).await? else {
                return Ok(());
            };
            let (to, cc) = content::audience_of(&group);
            let delete = DeleteContent {
                kind: DeleteType::Delete,
                id: new_activity_id(data, "delete"),
                actor: actor_url.clone(),
                object,
                to,
                cc,
                summary: None,
            };
            (to_value(&delete)?, group, None)
        }
        OutboxEvent::Voted { target, value } => {
            let Some((object, group)) = object_and_group(conn, target).await? else {
                return Ok(());
            };
            let audience = Url::parse(&group.ap_id).ok();
            let vote =
                |v| VoteActivity::new(data, actor_url.clone(), object.clone(), v, audience.clone());
            let activity = match value.and_then(Vote::from_value) {
                Some(v) => to_value(&vote(v))?,
                // A withdrawn vote: Undo embedding a vote (Lemmy reads the embedded object).
                None => to_value(&Undo {
                    kind: UndoType::Undo,
                    id: new_activity_id(data, "undo"),
                    actor: actor_url.clone(),
                    object: Undone::Vote(vote(Vote::Like)),
                    to: vec![],
                    cc: vec![],
                })?,
            };
            (activity, group, None)
        }
        OutboxEvent::GroupUpdated(_)
        | OutboxEvent::PostApproved(_)
        | OutboxEvent::ReportFiled(_)
        | OutboxEvent::ReportClosed(_)
        | OutboxEvent::GroupBanned { .. }
        | OutboxEvent::GroupUnbanned { .. } => unreachable!("handled above"),
        moderation_event => {
            match super::moderation::activity(conn, data, &actor_url, moderation_event).await? {
                Some((activity, group)) => (activity, group, None),
                None => return Ok(()),
            }
        }
    };
    // A text in a public group, new, edited, deleted, removed or restored, also goes to the
    // people of other servers it mentions, the author replied to included (see
    // [`mention_tags`]): their servers tell them (Mastodon notifies only of what it
    // receives), whether or not they follow the group, and must drop their copy when it goes.
    let mentioned = match group.visibility != "private" {
        true => {
            // The mentioned are told besides: a text that cannot be tagged again must not stop
            // the activity reaching the group's followers.
            let tags = match mention_tags(conn, &our_host, event, &activity, &group).await {
                Ok(tags) => tags,
                Err(error) => {
                    tracing::warn!(%error, "the people a text names not found: not told");
                    Value::Null
                }
            };
            mentioned_inboxes(conn, &data.ctx, &tags, &group).await?
        }
        false => vec![],
    };
    let id = Url::parse(activity["id"].as_str().unwrap_or_default()).map_err(ApubError::internal);
    if group.local {
        // Our group announces its member's activity to the instances that follow it.
        let full = to_value(&with_context(&activity))?;
        relay(conn, data, &group, full).await?;
        if let Some(post) = new_post {
            announce_page(conn, data, &group, &post).await?;
        }
        if !mentioned.is_empty() {
            send(conn, data, &id?, &actor_url, &activity, mentioned).await?;
        }
    } else {
        // The group's own server gets it at the group's inbox only (FEP-1b12), not a second
        // time at a mentioned person's shared inbox there.
        let group_host = cenacle_domain::origin::authority(&group.inbox_url).to_owned();
        let elsewhere = mentioned
            .into_iter()
            .filter(|inbox| cenacle_domain::origin::authority(inbox) != group_host);
        let inboxes = std::iter::once(group.inbox_url.clone()).chain(elsewhere);
        send(conn, data, &id?, &actor_url, &activity, inboxes).await?;
    }
    Ok(())
}

/// The `tag` of the text `activity` is about, whose mentions also get it; `Null` when no one
/// else should. A new or edited text's is the one sent. An edit goes to everyone it names, as
/// Mastodon sends its own: one named only in the edit has not seen the text (Mastodon and
/// Lemmy take an `Update` of a text they lack as its creation), and the others' servers update
/// their copy (Mastodon, though, ignores the `Update` of a text it lacks once the text is over
/// a day old). Only the author's own: an `Update` sent by a moderator (an idea's status, a
/// move) changes no words, and Mastodon would take the text it lacks as the moderator's.
///
/// A `Delete` (the author's or a moderator's), a removal or its restore carries only the
/// text's id: the mentions are those of the stored text (a deleted or removed row keeps its
/// words), tagged as its `Page` or `Note` tags them (without building it), so that the servers
/// the text went to are the ones told it went. Mastodon deletes its copy on its author's
/// `Delete` only; Lemmy also on a moderator's, and restores it on the `Undo`.
async fn mention_tags(
    conn: &mut Conn,
    our_host: &str,
    event: OutboxEvent,
    activity: &Value,
    group: &Group,
) -> Result<Value, ApubError> {
    use OutboxEvent as E;
    let (text, local, mut tag) = match event {
        E::PostCreated(_) | E::PostUpdated(_) | E::CommentCreated(_) | E::CommentUpdated(_) => {
            let by_author = activity["actor"] == activity["object"]["attributedTo"];
            return Ok(match by_author {
                true => activity["object"]["tag"].clone(),
                false => Value::Null,
            });
        }
        E::PostDeleted(id) | E::PostRemoved(id) | E::PostRestored(id) => {
            let Some(post) = published::post_by_id(conn, id).await? else {
                return Ok(Value::Null);
            };
            let text = cenacle_core::notifications::post_text(&post);
            (text, post.local, vec![])
        }
        E::CommentDeleted(id) | E::CommentRemoved(id) | E::CommentRestored(id) => {
            let Some(comment) = published::comment_by_id(conn, id).await? else {
                return Ok(Value::Null);
            };
            let replied_to = published::replied_to_author(conn, &comment).await?;
            let tag = content::reply_mentions(group, replied_to);
            (comment.body, comment.local, tag)
        }
        _ => return Ok(Value::Null),
    };
    let mut cc = vec![];
    content::tag_mentioned(conn, (our_host, &text, local), group, &mut tag, &mut cc).await?;
    Ok(Value::Array(tag))
}

/// The inboxes of the people of other servers whom `tags` (a text's `tag`, one value or
/// many) mention, the group's aside: each server's shared inbox where it has one. Not the
/// people whose handle names a blocked instance (their actor's host, if blocked too, is
/// skipped when the deliveries are queued).
async fn mentioned_inboxes(
    conn: &mut Conn,
    ctx: &cenacle_core::Context,
    tags: &Value,
    group: &Group,
) -> Result<Vec<String>, ApubError> {
    let tags = match tags {
        Value::Array(tags) => tags.as_slice(),
        Value::Null => &[],
        one => std::slice::from_ref(one),
    };
    let mut inboxes = Vec::new();
    for tag in tags {
        let Some(href) = tag["href"].as_str().filter(|_| tag["type"] == "Mention") else {
            continue;
        };
        if href == group.ap_id {
            continue;
        }
        let Some(person) = actors::person_by_ap_id(conn, href).await? else {
            continue;
        };
        if person.local {
            continue;
        }
        let handle_host = person.handle_host.as_deref();
        if instance_moderation::blocked_host(conn, ctx, handle_host)
            .await?
            .is_some()
        {
            continue;
        }
        inboxes.extend(person.shared_inbox_url.or(person.inbox_url));
    }
    Ok(inboxes)
}

/// A remote member's approved post in a group of ours: the group relays the activity it
/// arrived with (peers accept a Create only from its author's server), and announces the
/// Page for Mastodon. False when the post is our member's (sent as a new post instead).
async fn remote_post_approved(
    conn: &mut Conn,
    data: &Data<FedData>,
    post_id: i64,
) -> Result<bool, ApubError> {
    let Some(post) = published::post_by_id(conn, post_id).await? else {
        return Ok(true);
    };
    if post.local {
        return Ok(false);
    }
    let group = group_of(conn, post.group_id).await?;
    if !group.local {
        return Ok(true);
    }
    if let Some(activity) = approval::take_held_activity(conn, post.id).await? {
        let activity: Value = serde_json::from_str(&activity).map_err(ApubError::internal)?;
        relay(conn, data, &group, activity).await?;
    }
    announce_page(conn, data, &group, &post).await?;
    Ok(true)
}

async fn group_of(conn: &mut Conn, group_id: i64) -> Result<Group, ApubError> {
    actors::group_by_id(conn, group_id)
        .await?
        .ok_or(ApubError::NotFound)
}

/// The id of a post or comment and the group it is in.
async fn object_and_group(
    conn: &mut Conn,
    target: VoteTarget,
) -> Result<Option<(Url, Group)>, ApubError> {
    let (ap_id, post_id) = match target {
        VoteTarget::Post(id) => match published::post_by_id(conn, id).await? {
            Some(p) => (p.ap_id, p.id),
            None => return Ok(None),
        },
        VoteTarget::Comment(id) => match published::comment_by_id(conn, id).await? {
            Some(c) => (c.ap_id, c.post_id),
            None => return Ok(None),
        },
    };
    let Some(post) = published::post_by_id(conn, post_id).await? else {
        return Ok(None);
    };
    let group = group_of(conn, post.group_id).await?;
    Ok(Some((
        Url::parse(&ap_id).map_err(ApubError::internal)?,
        group,
    )))
}

/// A group of ours changed: its followers get an `Update{Group}`, signed by the group.
async fn group_updated(
    conn: &mut Conn,
    data: &Data<FedData>,
    group_id: i64,
) -> Result<(), ApubError> {
    let Some(row) = actors::group_by_id(conn, group_id).await? else {
        return Ok(());
    };
    let group = ApubGroup::new(row)?;
    let followers = group.followers_url();
    let inboxes = federation::follower_inboxes(conn, group.id().as_str()).await?;
    let signer = group.id().clone();
    let update = UpdateGroup::new(data, group.into_json(data).await?, followers);
    send(conn, data, &update.id, &signer, &update, inboxes).await?;
    Ok(())
}
