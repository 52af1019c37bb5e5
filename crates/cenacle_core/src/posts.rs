//! Posts (questions, ideas, notes): create, read, list, edit, delete, lock and pin.

use std::collections::HashSet;

use crate::{
    access::{self, forbid, post_held, readable_post, visibility},
    bounties,
    federation::record_event,
    idempotency, notifications, rewards, Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    actors::Group,
    content::{
        self as store, Comment, NewPost, Post, PostEdit, PostFilter, PostHold, StatusChange,
    },
    federation::OutboxEvent,
    media::{self, Attachment},
};
use cenacle_domain::{
    content::{can_edit, can_moderate, can_post, validate_post, IdeaStatus, PostKind},
    Language, ValidationError,
};

/// At most this many attachments per post.
pub const ATTACHMENTS_MAX: usize = 10;

pub struct PostInput {
    pub kind: PostKind,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub language: Option<Language>,
    /// Uploads of the author (`POST /api/v1/media`), in order.
    pub attachments: Vec<i64>,
    /// A remote post's attachments, by URL.
    pub remote_attachments: Vec<media::RemoteAttachment>,
}

pub(crate) fn normalise_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().trim_start_matches('#').to_lowercase();
        if !tag.is_empty() && !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

/// A new post in a group of ours, by a member here or (`remote_ap_id` given: the id it has
/// on its author's server) by a remote person whose Create reached the group's inbox. A local
/// member's post in a group on another server is stored here too and sent there.
pub async fn create_post(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    group: &Group,
    input: PostInput,
    remote_ap_id: Option<&str>,
) -> Result<Post, CoreError> {
    let tags = normalise_tags(input.tags);
    validate_post(&input.title, &input.body, &tags)?;
    if input.attachments.len() + input.remote_attachments.len() > ATTACHMENTS_MAX {
        return Err(ValidationError {
            field: "attachments",
            code: "too_many",
        }
        .into());
    }
    // Only one's own uploads can be attached.
    let owned = media::media_by_ids(conn, &input.attachments).await?;
    if owned.len() != input.attachments.len()
        || owned.iter().any(|m| m.uploader_id != caller.person_id)
    {
        return Err(CoreError::NotFound("media"));
    }
    let actor = access::actor_in(conn, group, caller).await?;
    if !can_post(visibility(group), &actor) {
        return Err(forbid("post_in_group"));
    }
    if group.archived_at.is_some() {
        return Err(forbid("group_archived"));
    }
    crate::ban_checks::refuse_if_banned(conn, group.id, caller).await?;
    // Decided before the post is stored: it must not count as one of the author's own.
    let held = crate::approval::must_wait(conn, caller, group).await?;
    let new = NewPost {
        group_id: group.id,
        author_id: caller.person_id,
        kind: input.kind.as_str().into(),
        title: input.title.trim().into(),
        body: input.body,
        language: input.language.unwrap_or_default().as_str().into(),
        tags,
        idea_status: (input.kind == PostKind::Idea).then(|| IdeaStatus::Submitted.as_str().into()),
        ap_id: remote_ap_id
            .map(str::to_owned)
            .unwrap_or_else(|| format!("urn:uuid:{}", crate::identity::random_id())),
        local: remote_ap_id.is_none(),
    };
    if remote_ap_id.is_none() {
        // Another member's upload pasted in: `media_embed` records only the writer's own.
        crate::media::hold_uploads_named_in(conn, &[&new.body]).await?;
    }
    let mut post = store::insert_post(conn, &new).await?;
    if remote_ap_id.is_none() {
        let ap_id = format!("{}/p/{}", ctx.settings.public_base(), post.id);
        post = store::set_post_ap_id(conn, post.id, &ap_id).await?;
    }
    media::attach(conn, post.id, &input.attachments).await?;
    media::attach_remote(conn, post.id, &input.remote_attachments).await?;
    if held {
        // Held: no points, no federation until a moderator approves it.
        return crate::approval::hold(conn, &post).await;
    }
    rewards::on_post(conn, ctx, caller, &post).await?;
    notifications::notify_post_mentions(conn, ctx, &post).await?;
    record_event(conn, caller, OutboxEvent::PostCreated(post.id)).await?;
    Ok(post)
}

/// Publishes a post once per composer form. `form_key` (a random token the form carries from
/// the moment it is shown) is claimed with the post in the same transaction, so a second
/// submission of the same form — a double click, a page sent again — gets the post the first
/// made instead of a duplicate; two at the same time wait on the claim's key, and the second
/// finds the first's post. The same key with other content is refused
/// (`IdempotencyKeyReused`): the member changed the form after publishing it.
pub async fn create_post_once(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    group: &Group,
    input: PostInput,
    form_key: &str,
) -> Result<Post, CoreError> {
    const ACTION: &str = "publish_form";
    // The form's content too: the same form sent back with another question (after Back) is
    // refused as a reused key, not answered with the first post.
    let tags = input.tags.join(",");
    let request = idempotency::fingerprint(
        ACTION,
        &[
            &group.id.to_string(),
            input.kind.as_str(),
            &input.title,
            &input.body,
            &tags,
        ],
    );
    let claimed = idempotency::claim(conn, caller.person_id, form_key, ACTION, &request).await?;
    if let Some(first) = claimed {
        let id = first
            .parse::<i64>()
            .map_err(|_| CoreError::Internal("a form's post id is not a number".into()))?;
        return store::post_by_id(conn, id)
            .await?
            .ok_or(CoreError::NotFound("post"));
    }
    let post = create_post(conn, ctx, caller, group, input, None).await?;
    idempotency::remember(conn, caller.person_id, form_key, &post.id.to_string()).await?;
    Ok(post)
}

/// A post with what the caller may see of it.
pub struct PostDetail {
    pub post: Post,
    pub group: Group,
    /// Accepted answer first, then oldest first.
    pub comments: Vec<Comment>,
    pub attachments: Vec<Attachment>,
    /// The comments written as trainers in a course's discussion group (marked as trainers'
    /// answers).
    pub trainer_comments: HashSet<i64>,
}

pub async fn get_post(
    conn: &mut Conn,
    caller: Option<&Caller>,
    post_id: i64,
) -> Result<PostDetail, CoreError> {
    let found = readable_post(conn, caller, post_id).await?;
    let post = found.post;
    // Removed comments: only for the group's moderators and their authors.
    let moderates = found.actor.as_ref().is_some_and(can_moderate);
    let reader = caller.map(|c| c.person_id);
    let mut comments: Vec<Comment> = store::comments_of(conn, post.id)
        .await?
        .into_iter()
        .filter(|c| c.deleted_at.is_none())
        .filter(|c| c.removed_at.is_none() || moderates || reader == Some(c.author_id))
        .collect();
    if let Some(accepted) = post.accepted_comment_id {
        comments.sort_by_key(|c| (c.id != accepted, c.id));
    }
    let attachments = media::attachments(conn, post.id).await?;
    let authors: Vec<i64> = comments.iter().map(|c| c.author_id).collect();
    let trainers = crate::trainer_answers::trainers_among(conn, &found.group, &authors).await?;
    let trainer_comments = comments
        .iter()
        .filter(|c| trainers.contains(&c.author_id))
        .map(|c| c.id)
        .collect();
    Ok(PostDetail {
        post,
        group: found.group,
        comments,
        attachments,
        trainer_comments,
    })
}

pub async fn list_group_posts(
    conn: &mut Conn,
    caller: Option<&Caller>,
    group: &Group,
    mut filter: PostFilter,
) -> Result<Vec<Post>, CoreError> {
    access::require_readable(conn, group, caller.into(), "group").await?;
    filter.group_id = Some(group.id);
    Ok(store::list_posts(conn, &filter).await?)
}

/// What an edit changes; `None` keeps the current value.
#[derive(Debug, Default, Clone)]
pub struct PostChange {
    pub title: Option<String>,
    pub body: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Edits a post (its author or a moderator; trusted local members past a reputation
/// threshold too, wiki-style); the previous version is kept in its history. An edit that
/// changes nothing records nothing.
pub async fn edit_post(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    change: PostChange,
) -> Result<Post, CoreError> {
    // Held before it is read: the rights and bans below are those of the group the edit lands
    // in, whatever move is being written.
    let (post, _, actor) = post_held(conn, caller, post_id, PostHold::Edit).await?;
    // Banned from the group: no more edits there, of one's own posts either.
    crate::ban_checks::refuse_if_banned(conn, post.group_id, caller).await?;
    if !can_edit(&actor, post.author_id == caller.person_id) {
        if !caller.is_local() {
            return Err(forbid("edit_post"));
        }
        let threshold = ctx.settings.engagement.privileges.edit_others_posts;
        rewards::require_reputation(conn, caller, threshold).await?;
    }
    let title = change.title.unwrap_or_else(|| post.title.clone());
    let body = change.body.unwrap_or_else(|| post.body.clone());
    let tags = change
        .tags
        .map(normalise_tags)
        .unwrap_or_else(|| post.tags.clone());
    validate_post(&title, &body, &tags)?;
    if title.trim() == post.title && body == post.body && tags == post.tags {
        return Ok(post);
    }
    if caller.is_local() {
        // Another member's upload pasted in: `media_embed` records only the writer's own.
        crate::media::hold_uploads_named_in(conn, &[&body]).await?;
    }
    let edited =
        store::edit_post(conn, &post, caller.person_id, title.trim(), &body, &tags).await?;
    // A held post tells nobody yet: its approval tells whom it names then.
    if post.approval.is_none() {
        let (old, new) = (
            notifications::post_text(&post),
            notifications::post_text(&edited),
        );
        let at = (post.group_id, post.id, None);
        let texts = (old.as_str(), new.as_str(), post.local);
        notifications::notify_added_mentions(conn, ctx, caller.person_id, at, texts).await?;
    }
    record_event(conn, caller, OutboxEvent::PostUpdated(post.id)).await?;
    Ok(edited)
}

/// Deletes a post (its author or a moderator of its group). While a bounty runs on a
/// question, neither its author nor the bounty's sponsor (moderating), one of our members, can
/// delete it (409 `bounty_running`, see `bounties::refuse_take_down_by`); another moderator
/// can: the bounty is then cancelled and its sponsor refunded if its end is still to come, and
/// it is left to the lapse rule otherwise (as after a remote author's Delete: their server
/// deleted it already).
pub async fn delete_post(conn: &mut Conn, caller: &Caller, post_id: i64) -> Result<(), CoreError> {
    // The take-down's lock, taken as the post is read: under it, for our members, an offer
    // (which holds the post FOR SHARE until it commits) is either seen here or never made; and
    // the rights below are those of the group the post is in until the deletion commits, not
    // of a group a move being written takes it out of.
    let (post, _, actor) = post_held(conn, caller, post_id, PostHold::Exclusive).await?;
    let own = post.author_id == caller.person_id;
    if !can_edit(&actor, own) {
        return Err(forbid("delete_post"));
    }
    if caller.is_local() {
        bounties::refuse_take_down_by(conn, &[post.id], caller.person_id).await?;
    }
    take_down_locked(conn, post.id).await?;
    record_event(conn, caller, OutboxEvent::PostDeleted(post.id)).await?;
    Ok(())
}

/// A post goes (deleted, removed; whoever decided it): hidden, and everything earned from its
/// thread taken back.
pub(crate) async fn take_down(conn: &mut Conn, post_id: i64) -> Result<(), CoreError> {
    // First: votes in flight on the thread commit before (their rewards are taken back below),
    // later ones find it gone (see `store::post_live_for_vote`).
    store::post_held(conn, post_id, PostHold::Exclusive).await?;
    take_down_locked(conn, post_id).await
}

/// [`take_down`], the post already held `PostHold::Exclusive` by the caller.
async fn take_down_locked(conn: &mut Conn, post_id: i64) -> Result<(), CoreError> {
    store::soft_delete_post(conn, post_id).await?;
    rewards::on_content_gone(conn, rewards::Gone::Post(post_id)).await
}

/// A post's previous versions and, for ideas, its status changes (oldest first), for whoever
/// may read it.
pub async fn history(
    conn: &mut Conn,
    caller: Option<&Caller>,
    post_id: i64,
) -> Result<(Vec<PostEdit>, Vec<StatusChange>), CoreError> {
    readable_post(conn, caller, post_id).await?;
    let edits = store::post_edits(conn, post_id).await?;
    let changes = store::idea_history(conn, post_id).await?;
    Ok((edits, changes))
}
