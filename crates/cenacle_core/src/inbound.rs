//! Activities from other servers, applied with the same use cases and rules as our own
//! members' actions, after the origin rules (`cenacle_domain::origin`).
//!
//! Two kinds of arrival:
//! - **to a group of ours** (we are its server): a remote person posts, edits, deletes or
//!   votes; our rules decide, and the inbox then relays what was applied to the group's
//!   followers;
//! - **announced by a group elsewhere** that our members follow: its server already decided
//!   and is the authority over its group, so we mirror what it says — but only about its own
//!   content, and never rewriting the words our own members wrote.
//!
//! Everything runs on the caller's connection, inside the transaction that also records the
//! activity's id. The remote actors involved were fetched and stored before it opened.

use crate::{
    access, answers, comments, ideas, notifications,
    posts::{self, PostChange, PostInput},
    rewards, votes, Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    actors::{self as actor_store, Group, PersonActor},
    content::{self as store, Comment, NewComment, NewPost, Post, PostHold, VoteTarget},
    media,
};
use cenacle_domain::{
    content::{validate_comment, validate_post, IdeaStatus, PostKind, Vote},
    origin::{
        self, announced_update_scope, check_created_by_actor, may_change, AnnouncedActor, Change,
        Forgery, StoredObject, UpdateScope, Verdict,
    },
};

/// A post or comment as another server describes it.
#[derive(Debug, Clone)]
pub struct IncomingObject {
    pub ap_id: String,
    pub attributed_to: String,
    /// Set on comments: the post or comment replied to.
    pub in_reply_to: Option<String>,
    /// `to`, `cc` and `audience` of the object and of the activity carrying it.
    pub addressing: Vec<String>,
    /// Posts: their kind (a question when the sender does not say), title, tags, links.
    pub kind: PostKind,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub tags: Vec<String>,
    pub attachments: Vec<cenacle_db::media::RemoteAttachment>,
    /// The group's state of a post, when the sender states it (Cénacle peers do): an idea's
    /// status, a question's accepted answer.
    pub state: Option<GroupState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    pub idea_status: Option<IdeaStatus>,
    /// The accepted answer's id, or None for none.
    pub accepted_answer: Option<String>,
}

impl IncomingObject {
    pub fn is_post(&self) -> bool {
        self.in_reply_to.is_none()
    }
}

/// What became of an activity.
#[derive(Debug)]
pub enum Outcome {
    /// Applied in a group of ours: the inbox relays the activity to its followers (and, for
    /// a new thread, announces the post itself for Mastodon).
    AppliedInOurGroup {
        group: Box<Group>,
        new_post: Option<Box<Post>>,
        /// One more server the relay reaches when no follower there does: a banned person's
        /// (its inbox), whose follow the ban took.
        also_inbox: Option<String>,
    },
    /// Applied (a mirror of a group elsewhere, or our own content): nothing to relay.
    Applied,
    /// A remote member's post stored in a group of ours but held for a moderator's approval:
    /// not relayed now; the inbox keeps the activity to relay it once approved.
    HeldForApproval { post_id: i64 },
    /// Acknowledged, nothing to do: why.
    Ignored(&'static str),
}

impl Outcome {
    /// Applied in `group`: relayed when it is a group of ours.
    pub fn applied_in(group: Group) -> Outcome {
        if group.local {
            Outcome::AppliedInOurGroup {
                group: Box::new(group),
                new_post: None,
                also_inbox: None,
            }
        } else {
            Outcome::Applied
        }
    }
}

/// A stored post or comment, with its post and group.
struct Stored {
    target: VoteTarget,
    post: Post,
    comment: Option<Comment>,
    group: Group,
}

impl Stored {
    fn author_id(&self) -> i64 {
        self.comment
            .as_ref()
            .map_or(self.post.author_id, |c| c.author_id)
    }

    fn local(&self) -> bool {
        self.comment.as_ref().map_or(self.post.local, |c| c.local)
    }

    fn into_vote_subject(self) -> rewards::VoteSubject {
        rewards::VoteSubject {
            target: self.target,
            post: self.post,
            comment: self.comment,
            group: self.group,
            relayed_by: None,
        }
    }
}

async fn find_object(conn: &mut Conn, ap_id: &str) -> Result<Option<Stored>, CoreError> {
    let (post, comment) = match store::post_by_ap_id(conn, ap_id).await? {
        Some(post) => (post, None),
        None => match store::comment_by_ap_id(conn, ap_id).await? {
            Some(comment) => match store::post_by_id(conn, comment.post_id).await? {
                Some(post) => (post, Some(comment)),
                None => return Ok(None),
            },
            None => return Ok(None),
        },
    };
    let Some(group) = actor_store::group_by_id(conn, post.group_id).await? else {
        return Ok(None);
    };
    let target = match &comment {
        Some(c) => VoteTarget::Comment(c.id),
        None => VoteTarget::Post(post.id),
    };
    Ok(Some(Stored {
        target,
        post,
        comment,
        group,
    }))
}

/// How a remote person's change holds the post it touches (see [`find_object_held`]).
#[derive(Clone, Copy)]
enum Hold {
    /// An edit, carrying the post's state or not (as the sender says; whether it applies is
    /// read from what is stored): as our members' edits hold it (`posts::edit_post`,
    /// `comments::edit_comment`), or FOR UPDATE for a post's edit with state, whose acceptance
    /// or status change locks the post so: an edit's weaker lock taken first and raised then
    /// would deadlock with a vote or reply holding the post's key and waiting to update its
    /// counts.
    Edit { with_state: bool },
    /// A deletion: as our members' deletions lock it (`posts::delete_post`).
    TakeDown,
}

/// An object held by [`find_object_held`]: as read under the lock, and as read before it when
/// a move committed in between (the group the sender knew it in).
struct Held {
    stored: Stored,
    moved_from: Option<Stored>,
}

/// [`find_object`], its post then held (`hold`) and read again under the lock before the
/// verdict and the relay: the group they read is the one a move being written takes the post
/// to, once the move is waited for, not the one it left. (The use cases called next take the
/// same lock again, and read their rights in that group too.)
async fn find_object_held(
    conn: &mut Conn,
    ap_id: &str,
    hold: Hold,
) -> Result<Option<Held>, CoreError> {
    let Some(found) = find_object(conn, ap_id).await? else {
        return Ok(None);
    };
    let strength = match (hold, &found.comment) {
        (Hold::Edit { .. }, Some(_)) => PostHold::InItsGroup,
        (Hold::Edit { with_state: false }, None) => PostHold::Edit,
        (Hold::Edit { with_state: true }, None) | (Hold::TakeDown, _) => PostHold::Exclusive,
    };
    // A comment never changes posts: the post read before is the one to hold.
    let Some(post) = store::post_held(conn, found.post.id, strength).await? else {
        return Ok(None);
    };
    if post.group_id == found.group.id {
        let stored = Stored { post, ..found };
        return Ok(Some(Held {
            stored,
            moved_from: None,
        }));
    }
    // Moved meanwhile: its new group, and the object as read before (the group the sender
    // knew it in) for the verdict.
    let Some(group) = actor_store::group_by_id(conn, post.group_id).await? else {
        return Ok(None);
    };
    let stored = Stored {
        target: found.target,
        post,
        comment: found.comment.clone(),
        group,
    };
    Ok(Some(Held {
        stored,
        moved_from: Some(found),
    }))
}

/// The verdict on a remote change of an object held by [`find_object_held`], as an outcome
/// to stop at: a change refused only because a move committed meanwhile took the content out
/// of the group where its sender had the right (the verdict there allowed it, or left it to
/// the group's own server) is a race its sender lost, not a forgery: acknowledged and ignored,
/// with its reason logged.
async fn held_verdict(
    conn: &mut Conn,
    change: Change,
    actor: &PersonActor,
    held: &Held,
) -> Result<Option<Outcome>, CoreError> {
    match verdict(conn, change, actor, &held.stored).await? {
        Verdict::Allowed => Ok(None),
        Verdict::NotYetFederated => Ok(Some(Outcome::Ignored("remote_moderation"))),
        Verdict::Forged(rule) => {
            if let Some(before) = &held.moved_from {
                // Allowed there, or left to the group's own server (a moderator's edit): either
                // way, not a forgery.
                if !matches!(
                    verdict(conn, change, actor, before).await?,
                    Verdict::Forged(_)
                ) {
                    tracing::info!(
                        object = %held.stored.post.ap_id,
                        actor = ?actor.ap_id,
                        "a remote change of content moved meanwhile to another group is ignored"
                    );
                    return Ok(Some(Outcome::Ignored("post_moved")));
                }
            }
            Err(forged(rule))
        }
    }
}

fn forged(rule: Forgery) -> CoreError {
    CoreError::Forged(rule)
}

fn actor_id(actor: &PersonActor) -> Result<&str, CoreError> {
    actor.ap_id.as_deref().ok_or(CoreError::NotFound("actor"))
}

fn post_input(object: &IncomingObject) -> PostInput {
    PostInput {
        kind: object.kind,
        title: object.title.clone(),
        body: object.body.clone(),
        tags: object.tags.clone(),
        language: None,
        attachments: vec![],
        remote_attachments: object.attachments.clone(),
    }
}

// ---- to a group of ours ----

/// A remote person posts or replies in a group of ours.
pub async fn create(
    conn: &mut Conn,
    ctx: &Context,
    actor: &PersonActor,
    object: &IncomingObject,
) -> Result<Outcome, CoreError> {
    check_created_by_actor(&object.ap_id, &object.attributed_to, actor_id(actor)?)
        .map_err(forged)?;
    if find_object(conn, &object.ap_id).await?.is_some() {
        // Another copy (a different activity id) of something we have: never overwritten.
        return Ok(Outcome::Ignored("already_known"));
    }
    let caller = Caller::remote(actor.id);
    match &object.in_reply_to {
        None => {
            let mut group = None;
            for address in &object.addressing {
                if let Some(g) = actor_store::group_by_ap_id(conn, address).await? {
                    if g.local {
                        group = Some(g);
                        break;
                    }
                }
            }
            let Some(group) = group else {
                return Ok(Outcome::Ignored("not_for_our_groups"));
            };
            let post = posts::create_post(
                conn,
                ctx,
                &caller,
                &group,
                post_input(object),
                Some(&object.ap_id),
            )
            .await?;
            if post.approval.is_some() {
                return Ok(Outcome::HeldForApproval { post_id: post.id });
            }
            Ok(Outcome::AppliedInOurGroup {
                group: Box::new(group),
                new_post: Some(Box::new(post)),
                also_inbox: None,
            })
        }
        Some(parent) => {
            let Some(parent) = find_object(conn, parent).await? else {
                return Ok(Outcome::Ignored("reply_to_unknown_object"));
            };
            if !parent.group.local {
                return Ok(Outcome::Ignored("not_for_our_groups"));
            }
            let parent_id = parent.comment.as_ref().map(|c| c.id);
            comments::add_comment(
                conn,
                ctx,
                &caller,
                parent.post.id,
                parent_id,
                &object.body,
                Some(&object.ap_id),
            )
            .await?;
            // Relayed through the group the reply was written in: `add_comment` held the post
            // before reading its group, and a move committed since the parent was read here
            // took it elsewhere.
            let group = match store::post_by_id(conn, parent.post.id).await? {
                Some(post) if post.group_id != parent.group.id => {
                    actor_store::group_by_id(conn, post.group_id)
                        .await?
                        .ok_or(CoreError::NotFound("group"))?
                }
                _ => parent.group,
            };
            Ok(Outcome::AppliedInOurGroup {
                group: Box::new(group),
                new_post: None,
                also_inbox: None,
            })
        }
    }
}

/// The verdict of the origin rules on `actor` changing `stored`, in a group of ours.
async fn verdict(
    conn: &mut Conn,
    change: Change,
    actor: &PersonActor,
    stored: &Stored,
) -> Result<Verdict, CoreError> {
    let is_author = stored.author_id() == actor.id;
    let is_moderator = access::is_group_moderator(conn, stored.group.id, actor.id).await?;
    Ok(may_change(change, is_author, is_moderator))
}

/// A remote person edits a post or comment in a group of ours: their own only (a moderator's
/// edit of someone else's is not federated yet). Every part of the edit goes through the use
/// case our members use, in this one transaction: a part refused refuses the whole.
pub async fn update(
    conn: &mut Conn,
    ctx: &Context,
    actor: &PersonActor,
    object: &IncomingObject,
) -> Result<Outcome, CoreError> {
    let hold = Hold::Edit {
        with_state: object.state.is_some(),
    };
    let Some(held) = find_object_held(conn, &object.ap_id, hold).await? else {
        return Ok(Outcome::Ignored("unknown_object"));
    };
    if !held.stored.group.local {
        // Content of a group elsewhere changes through that group's Announce.
        return Ok(Outcome::Ignored("not_for_our_groups"));
    }
    if let Some(stop) = held_verdict(conn, Change::Update, actor, &held).await? {
        return Ok(stop);
    }
    let stored = held.stored;
    let caller = Caller::remote(actor.id);
    // A post held for approval is not public yet: its edit is kept for the relay on
    // approval (the inbox folds it into the kept Create), never relayed before. A rejected
    // post is never relayed: its edit is neither relayed nor kept (no approval will come).
    let approval = stored
        .comment
        .is_none()
        .then_some(stored.post.approval.as_deref())
        .flatten();
    match &stored.comment {
        Some(comment) => {
            comments::edit_comment(conn, ctx, &caller, comment.id, &object.body).await?;
        }
        None => {
            let post = &stored.post;
            let change = PostChange {
                title: Some(object.title.clone()),
                body: Some(object.body.clone()),
                tags: Some(object.tags.clone()),
            };
            posts::edit_post(conn, ctx, &caller, post.id, change).await?;
            if !post.local {
                media::replace_remote_attachments(conn, post.id, &object.attachments).await?;
            }
            if let Some(state) = &object.state {
                apply_state_as(conn, ctx, &caller, post, state).await?;
            }
        }
    }
    match approval {
        Some(crate::approval::PENDING) => {
            return Ok(Outcome::HeldForApproval {
                post_id: stored.post.id,
            })
        }
        Some(_) => return Ok(Outcome::Applied),
        None => {}
    }
    Ok(Outcome::AppliedInOurGroup {
        group: Box::new(stored.group),
        new_post: None,
        also_inbox: None,
    })
}

/// The group state an author's Update carries, through the use cases (which refuse what the
/// author may not do, e.g. move their own idea along).
async fn apply_state_as(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    post: &Post,
    state: &GroupState,
) -> Result<(), CoreError> {
    if let Some(status) = state.idea_status {
        if Some(status.as_str()) != post.idea_status.as_deref() {
            ideas::change_idea_status(conn, caller, post.id, status, post.duplicate_of, None)
                .await?;
        }
    }
    if post.kind == PostKind::Question.as_str() {
        if let Some(accepted) = accepted_id(conn, post, state).await? {
            if accepted != post.accepted_comment_id {
                answers::accept_answer(conn, ctx, caller, post.id, accepted).await?;
            }
        }
    }
    Ok(())
}

/// The accepted answer a state names, as a local id: `Some(None)` for none, `None` when it
/// names an answer we do not have (late, or refused): then the acceptance is left as it is,
/// rather than cleared and its rewards reversed.
async fn accepted_id(
    conn: &mut Conn,
    post: &Post,
    state: &GroupState,
) -> Result<Option<Option<i64>>, CoreError> {
    Ok(match &state.accepted_answer {
        Some(ap_id) => store::comment_by_ap_id(conn, ap_id)
            .await?
            .filter(|c| c.post_id == post.id && c.parent_id.is_none())
            .map(|c| Some(c.id)),
        None => Some(None),
    })
}

/// A remote person deletes a post or comment in a group of ours: their own, or anything in a
/// group they moderate.
pub async fn delete(
    conn: &mut Conn,
    ctx: &Context,
    actor: &PersonActor,
    object_ap_id: &str,
) -> Result<Outcome, CoreError> {
    let Some(held) = find_object_held(conn, object_ap_id, Hold::TakeDown).await? else {
        return Ok(Outcome::Ignored("unknown_object"));
    };
    if !held.stored.group.local {
        return Ok(Outcome::Ignored("not_for_our_groups"));
    }
    if let Some(stop) = held_verdict(conn, Change::Delete, actor, &held).await? {
        return Ok(stop);
    }
    let stored = held.stored;
    let caller = Caller::remote(actor.id);
    match &stored.comment {
        Some(comment) => comments::delete_comment(conn, ctx, &caller, comment.id).await?,
        None => posts::delete_post(conn, &caller, stored.post.id).await?,
    }
    if stored.comment.is_none() && stored.post.approval.is_some() {
        // Never published: nothing to relay, and nothing left to relay on approval.
        crate::approval::take_held_activity(conn, stored.post.id).await?;
        return Ok(Outcome::Applied);
    }
    Ok(Outcome::AppliedInOurGroup {
        group: Box::new(stored.group),
        new_post: None,
        also_inbox: None,
    })
}

/// A remote person likes, dislikes or (None) withdraws their vote on a post or comment of a
/// group of ours, or on something one of our members wrote (some servers send a like to the
/// author rather than to the group).
pub async fn vote(
    conn: &mut Conn,
    ctx: &Context,
    actor: &PersonActor,
    object_ap_id: &str,
    choice: Option<Vote>,
    activity_id: &str,
) -> Result<Outcome, CoreError> {
    let Some(stored) = find_object(conn, object_ap_id).await? else {
        return Ok(Outcome::Ignored("unknown_object"));
    };
    if !stored.group.local && !stored.local() {
        return Ok(Outcome::Ignored("not_for_our_groups"));
    }
    let caller = Caller::remote(actor.id);
    let subject = stored.into_vote_subject();
    let (_, cast_in) =
        votes::vote_on(conn, ctx, &caller, &subject, choice, Some(activity_id)).await?;
    Ok(Outcome::applied_in(cast_in))
}

// ---- announced by a group elsewhere ----

/// Who acts inside an Announce of `group`, relative to a stored object.
fn announced_actor(group: &Group, actor: &PersonActor, author_id: i64) -> AnnouncedActor {
    AnnouncedActor {
        is_author: actor.id == author_id,
        on_group_host: actor
            .ap_id
            .as_deref()
            .is_some_and(|id| origin::same_host(id, &group.ap_id)),
    }
}

/// The remote group `group` announces a new post or reply. `parents` are the replied-to
/// objects we did not have, fetched from their origin before the transaction, root first,
/// each with its author. A post must be addressed to the group; a reply belongs to the group
/// through what it replies to (Mastodon replies name only the people they answer), which is
/// checked down to the root.
pub async fn announced_create(
    conn: &mut Conn,
    ctx: &Context,
    group: &Group,
    actor: &PersonActor,
    object: &IncomingObject,
    parents: &[(IncomingObject, PersonActor)],
) -> Result<Outcome, CoreError> {
    if actor.local {
        return Ok(Outcome::Ignored("our_own_activity"));
    }
    check_created_by_actor(&object.ap_id, &object.attributed_to, actor_id(actor)?)
        .map_err(forged)?;
    if object.is_post() {
        check_addressed(group, object)?;
    }
    for (parent, author) in parents {
        check_created_by_actor(&parent.ap_id, &parent.attributed_to, actor_id(author)?)
            .map_err(forged)?;
        if parent.is_post() {
            // A reply must not pull another group's post into this one.
            check_addressed(group, parent)?;
        }
    }
    if let Some(refused) = parent_kept_out(conn, ctx, group, parents).await? {
        return Ok(Outcome::Ignored(refused));
    }
    for (parent, author) in parents {
        if find_object(conn, &parent.ap_id).await?.is_none() {
            mirror_object(conn, group, author, parent).await?;
        }
    }
    if find_object(conn, &object.ap_id).await?.is_some() {
        return Ok(Outcome::Ignored("already_known"));
    }
    let mirrored = mirror_object(conn, group, actor, object).await?;
    tell_of_mirrored(conn, ctx, mirrored).await?;
    Ok(Outcome::Applied)
}

/// Why a reply whose replied-to objects were fetched with it is not mirrored, if one of their
/// authors is kept out: the rule the inbox applies to the person whose activity the Announce
/// carries ([`instance_moderation::person_kept_out`]: their standing held, then the verdicts
/// on their hosts, then their instance ban), asked for each author in this transaction before
/// anything is stored, so that a ban with removal committing meanwhile waits for it and
/// removes the parent stored. (No group ban: what a group elsewhere relays is that group's to
/// moderate, and its replies' authors are not asked for one either.)
///
/// What is kept out is neither that parent, nor the reply under it, nor the ancestors fetched
/// above it: the reply answers words we do not show, and hung elsewhere in the thread it would
/// read as an answer to something else; the ancestors were fetched only to hold the reply,
/// and will come with whatever else replies to them. The same as when the parent's instance
/// is blocked before the fetch (the Announce is acknowledged, nothing applied). Logged here
/// with the parent and its author; the inbox logs and counts the reason.
async fn parent_kept_out(
    conn: &mut Conn,
    ctx: &Context,
    group: &Group,
    parents: &[(IncomingObject, PersonActor)],
) -> Result<Option<&'static str>, CoreError> {
    use crate::instance_moderation::{person_kept_out, PersonKeptOut};
    for (parent, author) in parents {
        let author = actor_id(author)?;
        match person_kept_out(conn, ctx, author).await? {
            None => {}
            Some(PersonKeptOut::BlockedInstance(host)) => {
                tracing::info!(parent = %parent.ap_id, author, group = %group.ap_id, %host, "reply to an object of a person of a blocked instance: not mirrored");
                return Ok(Some("reply_to_blocked_instance"));
            }
            Some(PersonKeptOut::Banned(ban)) => {
                tracing::info!(parent = %parent.ap_id, author, group = %group.ap_id, reason = %ban.reason, "reply to an object of a person banned from this instance: not mirrored");
                return Ok(Some("reply_to_banned_person"));
            }
        }
    }
    Ok(None)
}

/// A new post or reply from a group elsewhere tells our members as one written here would
/// (whom a reply answers, whom a text mentions) — not the ancestors fetched with it, which
/// are old news.
async fn tell_of_mirrored(conn: &mut Conn, ctx: &Context, m: Mirrored) -> Result<(), CoreError> {
    match m {
        Mirrored::Post(post) => notifications::notify_post_mentions(conn, ctx, &post).await,
        Mirrored::Reply {
            post,
            comment,
            replied_to,
        } => notifications::notify_reply(conn, ctx, &post, &comment, replied_to).await,
    }
}

/// What [`mirror_object`] stored.
enum Mirrored {
    Post(Post),
    /// A reply, and the author of what it answers.
    Reply {
        post: Post,
        comment: Box<Comment>,
        replied_to: i64,
    },
}

/// A post announced by `group` must be addressed to it (the group or its followers).
fn check_addressed(group: &Group, object: &IncomingObject) -> Result<(), CoreError> {
    let addressing: Vec<&str> = object.addressing.iter().map(String::as_str).collect();
    origin::check_addressed_to(
        &group.ap_id,
        group.followers_url.as_deref(),
        &addressing,
        true,
    )
    .map_err(forged)
}

/// Stores a copy of a group's post or reply as its server has it. (Rewards are for our own
/// members: the author of a mirrored object is never one.)
async fn mirror_object(
    conn: &mut Conn,
    group: &Group,
    author: &PersonActor,
    object: &IncomingObject,
) -> Result<Mirrored, CoreError> {
    match &object.in_reply_to {
        None => {
            let tags = posts::normalise_tags(object.tags.clone());
            validate_post(&object.title, &object.body, &tags)?;
            let idea_status = (object.kind == PostKind::Idea).then(|| {
                object
                    .state
                    .as_ref()
                    .and_then(|s| s.idea_status)
                    .unwrap_or(IdeaStatus::Submitted)
                    .as_str()
                    .to_owned()
            });
            let post = store::insert_post(
                conn,
                &NewPost {
                    group_id: group.id,
                    author_id: author.id,
                    kind: object.kind.as_str().into(),
                    title: object.title.trim().into(),
                    body: object.body.clone(),
                    language: "en".into(),
                    tags,
                    idea_status,
                    ap_id: object.ap_id.clone(),
                    local: false,
                },
            )
            .await?;
            media::attach_remote(conn, post.id, &object.attachments).await?;
            Ok(Mirrored::Post(post))
        }
        Some(parent) => {
            validate_comment(&object.body)?;
            let parent = find_object(conn, parent)
                .await?
                .ok_or(CoreError::NotFound("replied-to object"))?;
            if parent.group.id != group.id {
                return Err(forged(Forgery::NotTheGroupsContent));
            }
            let (parent_id, depth, replied_to) = match &parent.comment {
                Some(c) => (Some(c.id), c.depth + 1, c.author_id),
                None => (None, 0, parent.post.author_id),
            };
            let comment = store::insert_comment(
                conn,
                &NewComment {
                    post_id: parent.post.id,
                    parent_id,
                    author_id: author.id,
                    body: object.body.clone(),
                    depth,
                    ap_id: object.ap_id.clone(),
                    local: false,
                },
            )
            .await?;
            Ok(Mirrored::Reply {
                post: parent.post,
                comment: Box::new(comment),
                replied_to,
            })
        }
    }
}

/// The facts of a stored object the origin rules of an Announce weigh.
fn announced_facts(group: &Group, stored: &Stored) -> StoredObject {
    StoredObject {
        in_announcing_group: stored.group.id == group.id,
        ours: stored.local(),
    }
}

/// The remote group `group` announces an edit: each part of it only by whoever decides it
/// (`origin::announced_update_scope`): the words by their author, the group's state of a post
/// by the group's own server — for posts written anywhere, never our members' words.
pub async fn announced_update(
    conn: &mut Conn,
    ctx: &Context,
    group: &Group,
    actor: &PersonActor,
    object: &IncomingObject,
) -> Result<Outcome, CoreError> {
    if actor.local {
        return Ok(Outcome::Ignored("our_own_activity"));
    }
    let Some(stored) = find_object(conn, &object.ap_id).await? else {
        return Ok(Outcome::Ignored("unknown_object"));
    };
    let who = announced_actor(group, actor, stored.author_id());
    let scope = announced_update_scope(announced_facts(group, &stored), who).map_err(forged)?;
    match &stored.comment {
        Some(comment) if scope.words => {
            validate_comment(&object.body)?;
            if comment.body != object.body {
                store::edit_comment(conn, comment.id, &object.body).await?;
                let post = &stored.post;
                let at = (post.group_id, post.id, Some(comment.id));
                let texts = (comment.body.as_str(), object.body.as_str(), comment.local);
                notifications::notify_added_mentions(conn, ctx, actor.id, at, texts).await?;
            }
        }
        Some(_) => {}
        None => {
            let post = &stored.post;
            if scope.words {
                let tags = posts::normalise_tags(object.tags.clone());
                validate_post(&object.title, &object.body, &tags)?;
                if object.title.trim() != post.title
                    || object.body != post.body
                    || tags != post.tags
                {
                    let edited = store::edit_post(
                        conn,
                        post,
                        actor.id,
                        object.title.trim(),
                        &object.body,
                        &tags,
                    )
                    .await?;
                    let (old, new) = (
                        notifications::post_text(post),
                        notifications::post_text(&edited),
                    );
                    let at = (post.group_id, post.id, None);
                    let texts = (old.as_str(), new.as_str(), post.local);
                    notifications::notify_added_mentions(conn, ctx, actor.id, at, texts).await?;
                }
                media::replace_remote_attachments(conn, post.id, &object.attachments).await?;
            }
            if let Some(state) = &object.state {
                mirror_state(conn, ctx, group, actor, post, state, scope).await?;
            }
        }
    }
    Ok(Outcome::Applied)
}

/// The group's state of a post as its server says it, the parts `scope` allows.
async fn mirror_state(
    conn: &mut Conn,
    ctx: &Context,
    group: &Group,
    actor: &PersonActor,
    post: &Post,
    state: &GroupState,
    scope: UpdateScope,
) -> Result<(), CoreError> {
    let locked = store::post_held(conn, post.id, PostHold::Exclusive)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    let status = state
        .idea_status
        .filter(|_| scope.idea_status && locked.kind == PostKind::Idea.as_str());
    if let Some(status) = status {
        if Some(status.as_str()) != locked.idea_status.as_deref() {
            store::change_idea_status(
                conn,
                &locked,
                Some(actor.id),
                status.as_str(),
                locked.duplicate_of,
                None,
            )
            .await?;
            if status == IdeaStatus::Done {
                rewards::evaluate_badges(conn, locked.author_id, rewards::BadgeTrigger::IdeaDone)
                    .await?;
            }
        }
    }
    if scope.accepted_answer && locked.kind == PostKind::Question.as_str() {
        if let Some(accepted) = accepted_id(conn, &locked, state).await? {
            // Under the post's lock, the answer share-locked and checked live, as a local
            // acceptance does (see `answers::set_acceptance`): a deleted answer is never
            // accepted.
            let live = match accepted {
                Some(id) => store::live_answer_locked(conn, locked.id, id)
                    .await?
                    .is_some(),
                None => true,
            };
            if live && accepted != locked.accepted_comment_id {
                store::set_accepted_answer(conn, locked.id, accepted, Some(actor.id)).await?;
                rewards::on_accept(
                    conn,
                    ctx,
                    Some(actor.id),
                    group.id,
                    locked.accepted_comment_id,
                    accepted,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// The remote group `group` announces a deletion of its content: by its author, or by the
/// group's own server (our members' posts in that group included). Removals by its
/// moderators on other servers are not federated yet: ignored.
pub async fn announced_delete(
    conn: &mut Conn,
    ctx: &Context,
    group: &Group,
    actor: &PersonActor,
    object_ap_id: &str,
) -> Result<Outcome, CoreError> {
    if actor.local {
        return Ok(Outcome::Ignored("our_own_activity"));
    }
    let Some(stored) = find_object(conn, object_ap_id).await? else {
        return Ok(Outcome::Ignored("unknown_object"));
    };
    let who = announced_actor(group, actor, stored.author_id());
    match origin::announced_delete(announced_facts(group, &stored), who).map_err(forged)? {
        Verdict::Allowed => {}
        Verdict::NotYetFederated => return Ok(Outcome::Ignored("remote_moderation")),
        Verdict::Forged(rule) => return Err(forged(rule)),
    }
    match &stored.comment {
        Some(comment) => {
            comments::take_down(conn, ctx, actor.id, &stored.post, comment.id).await?;
        }
        None => posts::take_down(conn, stored.post.id).await?,
    }
    Ok(Outcome::Applied)
}

/// The remote group `group` announces a vote on its content (our members' contributions to
/// it included: what they earn from it counts here). The group vouches for a vote it relays,
/// but no more than its own server is trusted: the vote weighs at most the group's
/// instance's weight, so that a group cannot lend its votes the weight of a trusted server.
pub async fn announced_vote(
    conn: &mut Conn,
    ctx: &Context,
    group: &Group,
    voter: &PersonActor,
    object_ap_id: &str,
    choice: Option<Vote>,
    activity_id: &str,
) -> Result<Outcome, CoreError> {
    if voter.local {
        return Ok(Outcome::Ignored("our_own_activity"));
    }
    let Some(stored) = find_object(conn, object_ap_id).await? else {
        return Ok(Outcome::Ignored("unknown_object"));
    };
    if stored.group.id != group.id {
        return Err(forged(Forgery::NotTheGroupsContent));
    }
    let caller = Caller::remote(voter.id);
    let mut subject = stored.into_vote_subject();
    subject.relayed_by = Some(group.instance_host.clone());
    votes::vote_on(conn, ctx, &caller, &subject, choice, Some(activity_id)).await?;
    Ok(Outcome::Applied)
}
