//! Accepting an answer to a question.

use crate::{
    access::{forbid, post_held},
    federation::record_event,
    notifications::{self, Notice},
    rewards, Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    content::{self as store, Post, PostHold},
    federation::OutboxEvent,
};
use cenacle_domain::{
    content::{can_accept_answer, PostKind},
    notifications::Kind,
    ValidationError,
};

/// Marks (or with `None` clears) the accepted answer of a question: its author, a moderator
/// of its group, or staff. Reputation follows the acceptance (and is reversed with it).
pub async fn accept_answer(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    comment_id: Option<i64>,
) -> Result<Post, CoreError> {
    // Locked as it is read (see `set_acceptance`): the right is checked in the group the
    // answer is accepted in, whatever move is being written.
    let (post, _, actor) = post_held(conn, caller, post_id, PostHold::Exclusive).await?;
    require_question(&post)?;
    if !can_accept_answer(&actor, post.author_id == caller.person_id) {
        return Err(forbid("accept_answer"));
    }
    set_acceptance(conn, ctx, caller, &post, comment_id, true).await
}

/// Only questions have accepted answers.
pub(crate) fn require_question(post: &Post) -> Result<(), CoreError> {
    if post.kind != PostKind::Question.as_str() {
        return Err(ValidationError {
            field: "post",
            code: "not_a_question",
        }
        .into());
    }
    Ok(())
}

/// Sets the accepted answer of `post` once the caller's right to do it was checked (by the
/// rule above, or as a champion of its group) on the post read under its lock
/// (`PostHold::Exclusive`, taken first: two acceptances racing reverse and pay exactly what
/// changed, and the group is the one the post stays in): the answer must be a live top-level
/// answer of that question; reputation follows and the change is federated.
/// `reward_acceptor`: whether the caller earns the asker's "accepted an answer" reward (not
/// through champion tools).
pub(crate) async fn set_acceptance(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    post: &Post,
    comment_id: Option<i64>,
    reward_acceptor: bool,
) -> Result<Post, CoreError> {
    // A question a moderator removed accepts no answer until restored (its rewards would be
    // paid while it is hidden); clearing an acceptance stays possible.
    if comment_id.is_some() && post.removed_at.is_some() {
        return Err(CoreError::NotAllowed("post_removed"));
    }
    // The post locked first (by the caller), then the answer share-locked and checked live:
    // the order of a take-down (the post, then the comment), so that an answer deleted
    // meanwhile is never accepted.
    if let Some(cid) = comment_id {
        if store::live_answer_locked(conn, post.id, cid)
            .await?
            .is_none()
        {
            return Err(CoreError::NotFound("answer"));
        }
    }
    if post.accepted_comment_id == comment_id {
        return Ok(post.clone());
    }
    let updated =
        store::set_accepted_answer(conn, post.id, comment_id, Some(caller.person_id)).await?;
    // The group read under the lock: a champion's move committed meanwhile carried the post's
    // rewards to its new group, where this acceptance's belong too.
    rewards::on_accept(
        conn,
        ctx,
        reward_acceptor.then_some(caller.person_id),
        post.group_id,
        post.accepted_comment_id,
        comment_id,
    )
    .await?;
    if let Some(cid) = comment_id {
        let answer = store::comment_by_id(conn, cid)
            .await?
            .ok_or(CoreError::NotFound("answer"))?;
        let notice = Notice::new(
            Kind::AnswerAccepted,
            answer.author_id,
            Some(caller.person_id),
        )
        .about(post.group_id, post.id, Some(cid));
        notifications::notify(conn, notice).await?;
    }
    record_event(conn, caller, OutboxEvent::PostUpdated(post.id)).await?;
    Ok(updated)
}
