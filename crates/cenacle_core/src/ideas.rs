//! The idea pipeline: submitted → under review → planned → in progress → done, or declined,
//! or a duplicate of another idea.

use crate::{
    access::{forbid, post_held},
    federation::record_event,
    notifications,
    rewards::{self, BadgeTrigger},
    Caller, Conn, CoreError,
};
use cenacle_db::{
    content::{self as store, Post, PostHold},
    federation::OutboxEvent,
};
use cenacle_domain::{
    content::{can_change_idea_status, check_idea_transition, IdeaStatus},
    ValidationError,
};

/// Moves an idea along (group moderators and community managers), with an optional public
/// comment kept in its history.
pub async fn change_idea_status(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    to: IdeaStatus,
    duplicate_of: Option<i64>,
    comment: Option<&str>,
) -> Result<Post, CoreError> {
    // Locked as it is read: the right is checked in the group the status changes in, whatever
    // move is being written, and a second copy of the same change (a double click) waits for
    // the first and finds it made.
    let (post, _, actor) = post_held(conn, caller, post_id, PostHold::Exclusive).await?;
    // One text whatever the way in (the web form trims and leaves out an empty one; the API
    // sent it as typed): what is stored and what a resent form is compared with.
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if !can_change_idea_status(&actor) {
        return Err(forbid("change_idea_status"));
    }
    // An idea held for approval is not on the board yet: approve it first (a "done" status
    // would award its author the idea badge for an unpublished idea).
    if post.approval.is_some() {
        return Err(CoreError::Conflict("post_not_published"));
    }
    // Removed (read under the lock: a removal in progress was waited for): off the board for
    // everyone but moderators, so no status of it is news — its likers would be told of, and
    // linked to, what a moderator removed — and "done" would award its author the idea badge
    // for it. Restored, it moves on again. (403 `post_removed`, as a move of it.)
    if post.removed_at.is_some() {
        return Err(forbid("post_removed"));
    }
    // Already so: a second copy of the same change (a double click) that waited on the first
    // finds it made, and changes, awards and notifies nothing, answering as the first did. A
    // public comment not already the last change's would be lost: that is refused as before
    // (422 `unchanged`, below).
    if post.idea_status.as_deref() == Some(to.as_str()) && post.duplicate_of == duplicate_of {
        let said = match comment {
            None => true,
            Some(text) => store::idea_history(conn, post.id)
                .await?
                .last()
                .is_some_and(|last| last.comment.as_deref() == Some(text)),
        };
        if said {
            return Ok(post);
        }
    }
    let from: IdeaStatus = post
        .idea_status
        .as_deref()
        .and_then(|s| s.parse().ok())
        .ok_or(ValidationError {
            field: "post",
            code: "not_an_idea",
        })?;
    check_idea_transition(from, to, duplicate_of)?;
    if let Some(original) = duplicate_of {
        if original == post.id || store::post_by_id(conn, original).await?.is_none() {
            return Err(CoreError::NotFound("original idea"));
        }
    }
    let updated = store::change_idea_status(
        conn,
        &post,
        Some(caller.person_id),
        to.as_str(),
        duplicate_of,
        comment,
    )
    .await?;
    if to == IdeaStatus::Done {
        rewards::evaluate_badges(conn, post.author_id, BadgeTrigger::IdeaDone).await?;
    }
    // The group read under the lock (a move committed meanwhile took the post to another).
    notifications::idea_status_changed(
        conn,
        caller.person_id,
        post.group_id,
        post.id,
        post.author_id,
        to.as_str(),
    )
    .await?;
    record_event(conn, caller, OutboxEvent::PostUpdated(post.id)).await?;
    Ok(updated)
}
