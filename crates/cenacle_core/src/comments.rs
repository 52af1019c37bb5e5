//! Comments and answers (an answer is a top-level comment on a question): write, edit,
//! delete.

use crate::{
    access::{comment_held, forbid, post_held, visibility},
    federation::record_event,
    notifications, rewards, Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    content::{self as store, Comment, NewComment, Post, PostHold},
    federation::OutboxEvent,
};
use cenacle_domain::content::{can_edit, can_post, validate_comment};

/// A comment, or an answer when it is top-level under a question; by a member here or
/// (`remote_ap_id` given) by a remote person whose Create reached the group's inbox.
pub async fn add_comment(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    parent_id: Option<i64>,
    body: &str,
    remote_ap_id: Option<&str>,
) -> Result<Comment, CoreError> {
    validate_comment(body)?;
    // The post stays in its group until the reply commits (a move waits for it, or is waited
    // for and the post read in its new group): its bans are the ones the reply is checked
    // against.
    let (post, group, actor) = post_held(conn, caller, post_id, PostHold::InItsGroup).await?;
    if post.locked {
        return Err(forbid("post_locked"));
    }
    if post.approval.is_some() {
        return Err(forbid("post_not_published"));
    }
    if group.archived_at.is_some() {
        return Err(forbid("group_archived"));
    }
    if !can_post(visibility(&group), &actor) {
        return Err(forbid("post_in_group"));
    }
    crate::ban_checks::refuse_if_banned(conn, group.id, caller).await?;
    // Hidden by a moderator: nobody replies to it (nor earns for a reply) until restored.
    // (After the ban check: a banned member is told that first.)
    if post.removed_at.is_some() {
        return Err(forbid("post_removed"));
    }
    // The reply is told to whom it answers: the parent comment's author, else the post's.
    let (depth, replied_to) = match parent_id {
        Some(pid) => {
            let parent = store::comment_by_id(conn, pid)
                .await?
                .filter(|c| c.post_id == post.id)
                .ok_or(CoreError::NotFound("comment"))?;
            (parent.depth + 1, parent.author_id)
        }
        None => (0, post.author_id),
    };
    let new = NewComment {
        post_id: post.id,
        parent_id,
        author_id: caller.person_id,
        body: body.to_owned(),
        depth,
        ap_id: remote_ap_id
            .map(str::to_owned)
            .unwrap_or_else(|| format!("urn:uuid:{}", crate::identity::random_id())),
        local: remote_ap_id.is_none(),
    };
    if remote_ap_id.is_none() {
        // Another member's upload pasted in: `media_embed` records only the writer's own.
        crate::media::hold_uploads_named_in(conn, &[&new.body]).await?;
    }
    let mut comment = store::insert_comment(conn, &new).await?;
    if remote_ap_id.is_none() {
        let ap_id = format!("{}/c/{}", ctx.settings.public_base(), comment.id);
        comment = store::set_comment_ap_id(conn, comment.id, &ap_id).await?;
    }
    rewards::on_reply(conn, ctx, caller, &comment).await?;
    notifications::notify_reply(conn, ctx, &post, &comment, replied_to).await?;
    record_event(conn, caller, OutboxEvent::CommentCreated(comment.id)).await?;
    Ok(comment)
}

/// Edits a comment (its author or a group moderator). An edit that changes nothing records
/// nothing.
pub async fn edit_comment(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    comment_id: i64,
    body: &str,
) -> Result<Comment, CoreError> {
    validate_comment(body)?;
    // As for a reply (`add_comment`): the post held in its group before the comment is
    // updated, so that the group its bans are read in is the post's until the edit commits,
    // and a move (the post's row, then the comments it removes) and this edit never wait for
    // each other in opposite orders.
    let hold = PostHold::InItsGroup;
    let (comment, post) = editable_comment(conn, caller, comment_id, hold, "edit_comment").await?;
    crate::ban_checks::refuse_if_banned(conn, post.group_id, caller).await?;
    if comment.body == body {
        return Ok(comment);
    }
    if caller.is_local() {
        // Another member's upload pasted in: `media_embed` records only the writer's own.
        crate::media::hold_uploads_named_in(conn, &[body]).await?;
    }
    let edited = store::edit_comment(conn, comment.id, body).await?;
    let at = (post.group_id, post.id, Some(comment.id));
    let texts = (comment.body.as_str(), body, comment.local);
    notifications::notify_added_mentions(conn, ctx, caller.person_id, at, texts).await?;
    record_event(conn, caller, OutboxEvent::CommentUpdated(comment.id)).await?;
    Ok(edited)
}

/// Deletes a comment (its author or a group moderator). An accepted answer stops being one,
/// and what it earned — its points, its likes, its acceptance — is taken back.
pub async fn delete_comment(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    comment_id: i64,
) -> Result<(), CoreError> {
    // The post locked as the rights are read (as `take_down` locks it below): they are the
    // rights in the group the comment is in until the deletion commits, not in a group a move
    // being written takes it out of.
    let hold = PostHold::Exclusive;
    let (comment, post) =
        editable_comment(conn, caller, comment_id, hold, "delete_comment").await?;
    take_down(conn, ctx, caller.person_id, &post, comment.id).await?;
    record_event(conn, caller, OutboxEvent::CommentDeleted(comment.id)).await?;
    Ok(())
}

/// A comment goes (deleted, removed; `by` whoever decided it): hidden, no longer its
/// question's accepted answer, and everything earned from it taken back.
pub(crate) async fn take_down(
    conn: &mut Conn,
    ctx: &Context,
    by: i64,
    post: &Post,
    comment_id: i64,
) -> Result<(), CoreError> {
    // The post first, then the comment: the order of votes (the post, then the comment
    // share-locked) and of acceptances (the post, then the answer), so that none of them
    // deadlocks with a take-down, and votes in flight commit first (see `posts::take_down`).
    // The acceptance is read again under the post's lock: a copy loaded before may be stale.
    let locked = store::post_held(conn, post.id, PostHold::Exclusive)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    store::lock_comment_for_take_down(conn, comment_id).await?;
    let accepted = locked.accepted_comment_id == Some(comment_id);
    rewards::lock_for_comment_gone(conn, by, post.id, comment_id, accepted).await?;
    store::soft_delete_comment(conn, comment_id).await?;
    // An accepted answer stops being one, and what its acceptance earned is reversed (as when
    // `by` withdraws the acceptance).
    if accepted {
        store::set_accepted_answer(conn, post.id, None, None).await?;
        // In the group read under the lock, where a move committed meanwhile took the
        // acceptance's rewards.
        rewards::on_accept(conn, ctx, Some(by), locked.group_id, Some(comment_id), None).await?;
    }
    rewards::on_content_gone(
        conn,
        rewards::Gone::Comment {
            post_id: post.id,
            comment_id,
        },
    )
    .await
}

/// A live comment the caller may change (its author, or a moderator of its group), its post
/// held (`hold`) before the comment and the rights are read (`access::comment_held`).
async fn editable_comment(
    conn: &mut Conn,
    caller: &Caller,
    comment_id: i64,
    hold: PostHold,
    action: &'static str,
) -> Result<(Comment, Post), CoreError> {
    let (comment, post, _, actor) = comment_held(conn, caller, comment_id, hold).await?;
    if !can_edit(&actor, comment.author_id == caller.person_id) {
        return Err(forbid(action));
    }
    Ok((comment, post))
}
