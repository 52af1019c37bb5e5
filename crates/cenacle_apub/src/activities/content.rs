//! Posts, comments, votes and deletions across instances (FEP-1b12).
//!
//! - A member's activity in a group on **another** server goes to that group's inbox.
//! - A group **here** applies what reaches its inbox with the same rules as our own API (the
//!   use cases of `cenacle_core`), then Announces the activity, unchanged, to its followers.
//! - What a group **elsewhere** Announces is mirrored as it says: the group's server already
//!   decided, and it is the authority over its content.

use super::{deserialize_audience, deserialize_id, new_activity_id};
use crate::{
    http_client::host_of,
    objects::{
        content::{self as objects, ContentJson},
        person::ApubPerson,
    },
    outgoing, ApubError, FedData,
};
use activitypub_federation::{
    config::Data,
    fetch::object_id::ObjectId,
    kinds::activity::{AnnounceType, DeleteType, UndoType},
};
use cenacle_core::content::{self as core, Caller, PostInput};
use cenacle_db::{
    actors::{self, Group},
    content::{self as store, NewComment, NewPost, VoteTarget},
    federation,
};
use cenacle_domain::content::{IdeaStatus, PostKind, Vote};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use url::Url;

tokio::task_local! {
    /// The activity exactly as received, for the group to Announce it unchanged.
    pub static RAW_ACTIVITY: Arc<Value>;
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum CreateOrUpdateType {
    Create,
    Update,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrUpdate {
    #[serde(rename = "type")]
    pub kind: CreateOrUpdateType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    pub object: ContentJson,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum VoteType {
    Like,
    Dislike,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoteActivity {
    #[serde(rename = "type")]
    pub kind: VoteType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub object: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoVote {
    #[serde(rename = "type")]
    pub kind: UndoType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    pub object: VoteActivity,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteContent {
    #[serde(rename = "type")]
    pub kind: DeleteType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub object: Url,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
    /// Lemmy: a summary marks a moderator's removal rather than a self-delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announce {
    #[serde(rename = "type")]
    pub kind: AnnounceType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    pub object: Value,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
}

/// What a group Announces.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Announced {
    CreateOrUpdate(Box<CreateOrUpdate>),
    Vote(VoteActivity),
    UndoVote(UndoVote),
    Delete(DeleteContent),
}

fn malformed(why: &str) -> ApubError {
    ApubError::Malformed(why.to_owned())
}

async fn remote_caller(conn: &mut AsyncPgConnection, actor: &Url) -> Result<Caller, ApubError> {
    let person = actors::person_by_ap_id(conn, actor.as_str())
        .await?
        .ok_or_else(|| malformed("unknown actor"))?;
    Ok(Caller {
        person_id: person.id,
        instance_role: None,
    })
}

/// The group a post or comment belongs to: its audience or an addressed group, or (replies)
/// the group of what it replies to.
async fn group_of(
    conn: &mut AsyncPgConnection,
    object: &ContentJson,
) -> Result<Option<Group>, ApubError> {
    if let Some(parent) = &object.in_reply_to {
        return Ok(match target_of(conn, parent).await? {
            Some((_, post_id)) => {
                let post = store::post_by_id(conn, post_id)
                    .await?
                    .ok_or(ApubError::NotFound)?;
                actors::group_by_id(conn, post.group_id).await?
            }
            None => None,
        });
    }
    for url in object.addressed() {
        if let Some(group) = actors::group_by_ap_id(conn, url.as_str()).await? {
            return Ok(Some(group));
        }
    }
    Ok(None)
}

/// A post or comment by id: the vote target and its post's row id.
async fn target_of(
    conn: &mut AsyncPgConnection,
    ap_id: &Url,
) -> Result<Option<(VoteTarget, i64)>, ApubError> {
    if let Some(post) = store::post_by_ap_id(conn, ap_id.as_str()).await? {
        return Ok(Some((VoteTarget::Post(post.id), post.id)));
    }
    Ok(store::comment_by_ap_id(conn, ap_id.as_str())
        .await?
        .map(|c| (VoteTarget::Comment(c.id), c.post_id)))
}

async fn group_of_target(
    conn: &mut AsyncPgConnection,
    ap_id: &Url,
) -> Result<Option<(VoteTarget, Group)>, ApubError> {
    let Some((target, post_id)) = target_of(conn, ap_id).await? else {
        return Ok(None);
    };
    let post = store::post_by_id(conn, post_id)
        .await?
        .ok_or(ApubError::NotFound)?;
    Ok(actors::group_by_id(conn, post.group_id)
        .await?
        .map(|g| (target, g)))
}

/// The group here Announces what it accepted, unchanged, to its followers.
async fn relay(
    conn: &mut AsyncPgConnection,
    data: &Data<FedData>,
    group: &Group,
) -> Result<(), ApubError> {
    let Ok(raw) = RAW_ACTIVITY.try_with(|raw| raw.clone()) else {
        return Ok(());
    };
    let (to, cc) = objects::audience_of(group);
    let group_id = Url::parse(&group.ap_id).map_err(|e| ApubError::Internal(e.to_string()))?;
    let announce = Announce {
        kind: AnnounceType::Announce,
        id: new_activity_id(data, "announce"),
        actor: group_id.clone(),
        object: (*raw).clone(),
        to,
        cc,
    };
    let inboxes = federation::follower_inboxes(conn, &group.ap_id).await?;
    let inboxes = inboxes.iter().filter_map(|i| Url::parse(i).ok()).collect();
    outgoing::enqueue(conn, data, &announce.id, &group_id, &announce, inboxes).await?;
    Ok(())
}

/// Mastodon cannot show `Announce{Create{Page}}`: thread starters are also announced as the
/// Page itself (Lemmy and NodeBB do the same; Lemmy and PieFed ignore it).
async fn announce_page(
    conn: &mut AsyncPgConnection,
    data: &Data<FedData>,
    group: &Group,
    page: Value,
) -> Result<(), ApubError> {
    let raw = Arc::new(page);
    RAW_ACTIVITY.scope(raw, relay(conn, data, group)).await
}

fn post_input(object: &ContentJson) -> PostInput {
    PostInput {
        kind: object
            .post_kind
            .as_deref()
            .and_then(|k| k.parse().ok())
            .unwrap_or(PostKind::Question),
        title: object.title(),
        body: object.markdown(),
        tags: object.hashtags(),
        language: None,
        attachments: vec![],
        remote_attachments: object.attachments(),
    }
}

impl CreateOrUpdate {
    pub(super) fn verify(&self) -> Result<(), ApubError> {
        if host_of(&self.object.id) != host_of(&self.actor) {
            return Err(malformed("object not on the actor's server"));
        }
        if self.kind == CreateOrUpdateType::Create && self.object.attributed_to != self.actor {
            return Err(malformed("Create of someone else's object"));
        }
        Ok(())
    }

    /// Something posted to, or edited in, a group of ours.
    pub(super) async fn apply(
        self,
        conn: &mut AsyncPgConnection,
        data: &Data<FedData>,
    ) -> Result<(), ApubError> {
        let Some(group) = group_of(conn, &self.object).await?.filter(|g| g.local) else {
            tracing::info!(id = %self.id, "content for no group of ours; ignored");
            return Ok(());
        };
        let caller = remote_caller(conn, &self.actor).await?;
        let ctx = &data.ctx;
        let object = &self.object;
        match (self.kind, object.is_post()) {
            (CreateOrUpdateType::Create, true) => {
                if store::post_by_ap_id(conn, object.id.as_str())
                    .await?
                    .is_none()
                {
                    core::create_post(
                        ctx,
                        &caller,
                        &group,
                        post_input(object),
                        Some(object.id.as_str()),
                    )
                    .await?;
                    announce_page(
                        conn,
                        data,
                        &group,
                        serde_json::to_value(object).unwrap_or_default(),
                    )
                    .await?;
                }
            }
            (CreateOrUpdateType::Create, false) => {
                if store::comment_by_ap_id(conn, object.id.as_str())
                    .await?
                    .is_none()
                {
                    let parent = object
                        .in_reply_to
                        .as_ref()
                        .ok_or_else(|| malformed("reply to nothing"))?;
                    let (target, post_id) =
                        target_of(conn, parent).await?.ok_or(ApubError::NotFound)?;
                    let parent_id = match target {
                        VoteTarget::Comment(id) => Some(id),
                        VoteTarget::Post(_) => None,
                    };
                    core::add_comment(
                        ctx,
                        &caller,
                        post_id,
                        parent_id,
                        &object.markdown(),
                        Some(object.id.as_str()),
                    )
                    .await?;
                }
            }
            (CreateOrUpdateType::Update, true) => {
                let post = store::post_by_ap_id(conn, object.id.as_str())
                    .await?
                    .ok_or(ApubError::NotFound)?;
                let input = post_input(object);
                if input.title != post.title || input.body != post.body || input.tags != post.tags {
                    core::edit_post(
                        ctx,
                        &caller,
                        post.id,
                        Some(input.title),
                        Some(input.body),
                        Some(input.tags),
                    )
                    .await?;
                }
                // A moderator of ours on another server may move an idea along.
                let status = object
                    .idea_status
                    .as_deref()
                    .and_then(|s| s.parse::<IdeaStatus>().ok());
                if let Some(status) =
                    status.filter(|s| Some(s.as_str()) != post.idea_status.as_deref())
                {
                    core::change_idea_status(
                        ctx,
                        &caller,
                        post.id,
                        status,
                        post.duplicate_of,
                        None,
                    )
                    .await?;
                }
                if object.post_kind.as_deref() == Some("question") {
                    let accepted = match &object.accepted_answer {
                        Some(url) => store::comment_by_ap_id(conn, url.as_str())
                            .await?
                            .map(|c| c.id),
                        None => None,
                    };
                    if accepted != post.accepted_comment_id {
                        core::accept_answer(ctx, &caller, post.id, accepted).await?;
                    }
                }
            }
            (CreateOrUpdateType::Update, false) => {
                let comment = store::comment_by_ap_id(conn, object.id.as_str())
                    .await?
                    .ok_or(ApubError::NotFound)?;
                if comment.author_id != caller.person_id {
                    return Err(ApubError::Core(cenacle_core::CoreError::NotAllowed(
                        "edit_comment",
                    )));
                }
                store::edit_comment(conn, comment.id, &object.markdown()).await?;
            }
        }
        relay(conn, data, &group).await
    }
}

impl VoteActivity {
    pub fn new(
        data: &FedData,
        actor: Url,
        object: Url,
        vote: Vote,
        audience: Option<Url>,
    ) -> VoteActivity {
        VoteActivity {
            kind: match vote {
                Vote::Like => VoteType::Like,
                Vote::Dislike => VoteType::Dislike,
            },
            id: new_activity_id(data, "vote"),
            actor,
            object,
            audience,
        }
    }

    fn vote(&self) -> Vote {
        match self.kind {
            VoteType::Like => Vote::Like,
            VoteType::Dislike => Vote::Dislike,
        }
    }

    pub(super) async fn apply(
        self,
        conn: &mut AsyncPgConnection,
        data: &Data<FedData>,
        undo: bool,
    ) -> Result<(), ApubError> {
        let Some((target, group)) = group_of_target(conn, &self.object)
            .await?
            .filter(|(_, g)| g.local)
        else {
            tracing::info!(id = %self.id, "vote on nothing of ours; ignored");
            return Ok(());
        };
        let caller = remote_caller(conn, &self.actor).await?;
        let choice = (!undo).then(|| self.vote());
        core::vote(&data.ctx, &caller, target, choice, Some(self.id.as_str())).await?;
        relay(conn, data, &group).await
    }
}

impl UndoVote {
    pub(super) fn verify(&self) -> Result<(), ApubError> {
        if self.object.actor != self.actor {
            return Err(malformed("Undo of someone else's vote"));
        }
        Ok(())
    }
}

impl DeleteContent {
    pub(super) async fn apply(
        self,
        conn: &mut AsyncPgConnection,
        data: &Data<FedData>,
    ) -> Result<(), ApubError> {
        let Some((target, group)) = group_of_target(conn, &self.object)
            .await?
            .filter(|(_, g)| g.local)
        else {
            return Ok(());
        };
        let caller = remote_caller(conn, &self.actor).await?;
        match target {
            VoteTarget::Post(id) => core::delete_post(&data.ctx, &caller, id).await?,
            VoteTarget::Comment(id) => {
                let comment = store::comment_by_id(conn, id)
                    .await?
                    .ok_or(ApubError::NotFound)?;
                if comment.author_id != caller.person_id {
                    return Err(ApubError::Core(cenacle_core::CoreError::NotAllowed(
                        "delete_comment",
                    )));
                }
                store::soft_delete_comment(conn, id).await?;
            }
        }
        relay(conn, data, &group).await
    }
}

impl Announce {
    /// A group we follow relays something: mirror it.
    pub(super) async fn apply(
        self,
        conn: &mut AsyncPgConnection,
        data: &Data<FedData>,
    ) -> Result<(), ApubError> {
        let Some(group) = actors::group_by_ap_id(conn, self.actor.as_str())
            .await?
            .filter(|g| !g.local)
        else {
            tracing::info!(actor = %self.actor, "Announce from a group we do not follow; ignored");
            return Ok(());
        };
        let Ok(inner) = serde_json::from_value::<Announced>(self.object.clone()) else {
            tracing::debug!(id = %self.id, "Announce of something we do not mirror; ignored");
            return Ok(());
        };
        match inner {
            Announced::CreateOrUpdate(activity) => {
                mirror_content(conn, data, &group, activity.object).await
            }
            Announced::Vote(vote) => mirror_vote(conn, data, &group, &vote, false).await,
            Announced::UndoVote(undo) => mirror_vote(conn, data, &group, &undo.object, true).await,
            Announced::Delete(delete) => {
                if let Some((target, target_group)) = group_of_target(conn, &delete.object).await? {
                    if target_group.id == group.id {
                        match target {
                            VoteTarget::Post(id) => store::soft_delete_post(conn, id).await?,
                            VoteTarget::Comment(id) => store::soft_delete_comment(conn, id).await?,
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

async fn author_of(data: &Data<FedData>, url: &Url) -> Result<i64, ApubError> {
    let person: ApubPerson = ObjectId::<ApubPerson>::from(url.clone())
        .dereference(data)
        .await?;
    Ok(person.row.id)
}

/// Mirrors a post or comment of a group we follow, as the group's server has it.
async fn mirror_content(
    conn: &mut AsyncPgConnection,
    data: &Data<FedData>,
    group: &Group,
    object: ContentJson,
) -> Result<(), ApubError> {
    // Deliveries race: a reply may arrive before what it replies to. Fetch the parent from its
    // origin first (bounded by the per-request fetch limit).
    if let Some(parent) = &object.in_reply_to {
        if target_of(conn, parent).await?.is_none() {
            let fetched =
                activitypub_federation::fetch::fetch_object_http::<_, ContentJson>(parent, data)
                    .await?;
            Box::pin(mirror_content(conn, data, group, fetched.object)).await?;
        }
    }
    let belongs = match group_of(conn, &object).await? {
        Some(g) => g.id == group.id,
        None => false,
    };
    if !belongs {
        return Err(malformed("a group may only announce its own content"));
    }
    if object.is_post() {
        let input = post_input(&object);
        let idea_status = object
            .idea_status
            .as_deref()
            .and_then(|s| s.parse::<IdeaStatus>().ok())
            .or((input.kind == PostKind::Idea).then_some(IdeaStatus::Submitted))
            .filter(|_| input.kind == PostKind::Idea)
            .map(|s| s.as_str().to_owned());
        match store::post_by_ap_id(conn, object.id.as_str()).await? {
            None => {
                let author_id = author_of(data, &object.attributed_to).await?;
                let post_id = store::insert_post(
                    conn,
                    &NewPost {
                        group_id: group.id,
                        author_id,
                        kind: input.kind.as_str().into(),
                        title: input.title,
                        body: input.body,
                        language: "en".into(),
                        tags: input.tags,
                        idea_status,
                        ap_id: object.id.to_string(),
                        local: false,
                    },
                )
                .await
                .map(|post| post.id)?;
                cenacle_db::media::attach_remote(conn, post_id, &object.attachments()).await?;
            }
            Some(post) => {
                let accepted = match &object.accepted_answer {
                    Some(url) => store::comment_by_ap_id(conn, url.as_str())
                        .await?
                        .map(|c| c.id),
                    None => None,
                };
                store::mirror_post(
                    conn,
                    post.id,
                    &input.title,
                    &input.body,
                    &input.tags,
                    idea_status.as_deref(),
                    accepted,
                )
                .await?;
            }
        }
    } else if let Some(existing) = store::comment_by_ap_id(conn, object.id.as_str()).await? {
        // An edit of a comment we have.
        store::edit_comment(conn, existing.id, &object.markdown()).await?;
    } else {
        let parent = object
            .in_reply_to
            .as_ref()
            .ok_or_else(|| malformed("reply to nothing"))?;
        let (target, post_id) = target_of(conn, parent).await?.ok_or(ApubError::NotFound)?;
        let (parent_id, depth) = match target {
            VoteTarget::Comment(id) => (
                Some(id),
                store::comment_by_id(conn, id)
                    .await?
                    .map(|c| c.depth + 1)
                    .unwrap_or(1),
            ),
            VoteTarget::Post(_) => (None, 0),
        };
        let author_id = author_of(data, &object.attributed_to).await?;
        store::insert_comment(
            conn,
            &NewComment {
                post_id,
                parent_id,
                author_id,
                body: object.markdown(),
                depth,
                ap_id: object.id.to_string(),
                local: false,
            },
        )
        .await?;
    }
    Ok(())
}

async fn mirror_vote(
    conn: &mut AsyncPgConnection,
    data: &Data<FedData>,
    group: &Group,
    vote: &VoteActivity,
    undo: bool,
) -> Result<(), ApubError> {
    let Some((target, target_group)) = group_of_target(conn, &vote.object).await? else {
        return Ok(());
    };
    if target_group.id != group.id {
        return Err(malformed(
            "a group may only announce votes on its own content",
        ));
    }
    let voter = author_of(data, &vote.actor).await?;
    let value = (!undo).then(|| vote.vote().value());
    store::cast_vote(conn, voter, target, value, Some(vote.id.as_str())).await?;
    Ok(())
}

// ---- outgoing ----

/// Builds what an outbox event sends, and to whom: a local member's activity goes to the
/// group's inbox when the group is elsewhere, or is Announced by the group to its followers
/// when the group is here. Returns false when the event has nothing to send (caused by a remote
/// actor: the inbox path relays those).
pub async fn send_for_event(
    conn: &mut AsyncPgConnection,
    data: &Data<FedData>,
    event: &federation::OutboxEvent,
) -> Result<bool, ApubError> {
    let Some(actor_id) = event.actor_id else {
        return Ok(false);
    };
    let Some(actor) = actors::person_by_id(conn, actor_id).await? else {
        return Ok(false);
    };
    if !actor.local {
        return Ok(false);
    }
    let actor_url = Url::parse(actor.ap_id.as_deref().unwrap_or_default())
        .map_err(|e| ApubError::Internal(e.to_string()))?;
    use cenacle_core::content::*;
    let (activity, group): (Value, Group) = match event.kind.as_str() {
        EVENT_POST_CREATED | EVENT_POST_UPDATED => {
            let post = store::post_by_id(conn, event.subject_id)
                .await?
                .ok_or(ApubError::NotFound)?;
            let group = actors::group_by_id(conn, post.group_id)
                .await?
                .ok_or(ApubError::NotFound)?;
            let object = objects::page(conn, &post).await?;
            let kind = if event.kind == EVENT_POST_CREATED {
                CreateOrUpdateType::Create
            } else {
                CreateOrUpdateType::Update
            };
            (
                to_value(&create_or_update(data, kind, actor_url.clone(), object))?,
                group,
            )
        }
        EVENT_COMMENT_CREATED | EVENT_COMMENT_UPDATED => {
            let comment = store::comment_by_id(conn, event.subject_id)
                .await?
                .ok_or(ApubError::NotFound)?;
            let group = group_of_post(conn, comment.post_id).await?;
            let object = objects::note(conn, &comment).await?;
            let kind = if event.kind == EVENT_COMMENT_CREATED {
                CreateOrUpdateType::Create
            } else {
                CreateOrUpdateType::Update
            };
            (
                to_value(&create_or_update(data, kind, actor_url.clone(), object))?,
                group,
            )
        }
        EVENT_POST_DELETED | EVENT_COMMENT_DELETED => {
            let (ap_id, post_id) = if event.kind == EVENT_POST_DELETED {
                let post = store::post_by_id(conn, event.subject_id)
                    .await?
                    .ok_or(ApubError::NotFound)?;
                (post.ap_id, post.id)
            } else {
                let comment = store::comment_by_id(conn, event.subject_id)
                    .await?
                    .ok_or(ApubError::NotFound)?;
                (comment.ap_id, comment.post_id)
            };
            let group = group_of_post(conn, post_id).await?;
            let (to, cc) = objects::audience_of(&group);
            let delete = DeleteContent {
                kind: DeleteType::Delete,
                id: new_activity_id(data, "delete"),
                actor: actor_url.clone(),
                object: Url::parse(&ap_id).map_err(|e| ApubError::Internal(e.to_string()))?,
                to,
                cc,
                summary: None,
            };
            (to_value(&delete)?, group)
        }
        EVENT_POST_VOTED | EVENT_COMMENT_VOTED => {
            let (object, post_id) = if event.kind == EVENT_POST_VOTED {
                let post = store::post_by_id(conn, event.subject_id)
                    .await?
                    .ok_or(ApubError::NotFound)?;
                (post.ap_id, post.id)
            } else {
                let comment = store::comment_by_id(conn, event.subject_id)
                    .await?
                    .ok_or(ApubError::NotFound)?;
                (comment.ap_id, comment.post_id)
            };
            let post = store::post_by_id(conn, post_id)
                .await?
                .ok_or(ApubError::NotFound)?;
            let group = actors::group_by_id(conn, post.group_id)
                .await?
                .ok_or(ApubError::NotFound)?;
            let object = Url::parse(&object).map_err(|e| ApubError::Internal(e.to_string()))?;
            let audience = Url::parse(&group.ap_id).ok();
            let value = event.payload.as_deref().unwrap_or("0");
            let activity = match value {
                "1" => to_value(&VoteActivity::new(
                    data,
                    actor_url.clone(),
                    object,
                    Vote::Like,
                    audience,
                ))?,
                "-1" => to_value(&VoteActivity::new(
                    data,
                    actor_url.clone(),
                    object,
                    Vote::Dislike,
                    audience,
                ))?,
                _ => to_value(&UndoVote {
                    kind: UndoType::Undo,
                    id: new_activity_id(data, "undo"),
                    actor: actor_url.clone(),
                    object: VoteActivity::new(
                        data,
                        actor_url.clone(),
                        object,
                        Vote::Like,
                        audience,
                    ),
                })?,
            };
            (activity, group)
        }
        _ => return Ok(false),
    };
    let activity_id = Url::parse(activity["id"].as_str().unwrap_or_default())
        .map_err(|e| ApubError::Internal(e.to_string()))?;
    if group.local {
        // Our group announces its members' activity to the instances that follow it.
        let full = crate::context::with_context(&activity);
        let raw =
            Arc::new(serde_json::to_value(&full).map_err(|e| ApubError::Internal(e.to_string()))?);
        RAW_ACTIVITY.scope(raw, relay(conn, data, &group)).await?;
        if event.kind == EVENT_POST_CREATED {
            announce_page(conn, data, &group, activity["object"].clone()).await?;
        }
    } else {
        let inbox = Url::parse(&group.inbox_url).map_err(|e| ApubError::Internal(e.to_string()))?;
        outgoing::enqueue(conn, data, &activity_id, &actor_url, &activity, vec![inbox]).await?;
    }
    Ok(true)
}

async fn group_of_post(conn: &mut AsyncPgConnection, post_id: i64) -> Result<Group, ApubError> {
    let post = store::post_by_id(conn, post_id)
        .await?
        .ok_or(ApubError::NotFound)?;
    actors::group_by_id(conn, post.group_id)
        .await?
        .ok_or(ApubError::NotFound)
}

fn create_or_update(
    data: &FedData,
    kind: CreateOrUpdateType,
    actor: Url,
    object: ContentJson,
) -> CreateOrUpdate {
    let label = match kind {
        CreateOrUpdateType::Create => "create",
        CreateOrUpdateType::Update => "update",
    };
    CreateOrUpdate {
        kind,
        id: new_activity_id(data, label),
        actor,
        to: object.to.clone(),
        cc: object.cc.clone(),
        object,
    }
}

fn to_value<T: Serialize>(value: &T) -> Result<Value, ApubError> {
    serde_json::to_value(value).map_err(|e| ApubError::Internal(e.to_string()))
}
