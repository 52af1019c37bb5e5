//! Likes and dislikes on posts and comments, and star ratings of ideas and notes.

use crate::{
    access::{self, forbid},
    federation::record_event,
    journey,
    notifications::{self, Notice},
    rewards::{self, VoteSubject},
    Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    actors::{self, Group},
    content::{self as store, PostHold, VoteTarget},
    federation::OutboxEvent,
};
use cenacle_domain::{
    content::{PostKind, Vote},
    engagement::vote_counts,
    notifications::Kind,
    onboarding::StepKind,
    ValidationError,
};

/// A target with what the vote rules need: its post (and comment) and group.
pub async fn subject_of(conn: &mut Conn, target: VoteTarget) -> Result<VoteSubject, CoreError> {
    let (post_id, comment) = match target {
        VoteTarget::Post(id) => (id, None),
        VoteTarget::Comment(id) => {
            let comment = store::comment_by_id(conn, id)
                .await?
                .ok_or(CoreError::NotFound("comment"))?;
            (comment.post_id, Some(comment))
        }
    };
    let post = store::post_by_id(conn, post_id)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    let group = actors::group_by_id(conn, post.group_id)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    Ok(VoteSubject {
        target,
        post,
        comment,
        group,
        relayed_by: None,
    })
}

/// Likes, dislikes (`Some`) or withdraws (`None`) a vote: one per person and target, the
/// latest wins. `activity_id` is the Like/Dislike that cast it, when it came from another
/// server. Returns the vote it replaced.
pub async fn vote(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    target: VoteTarget,
    choice: Option<Vote>,
    activity_id: Option<&str>,
) -> Result<Option<Vote>, CoreError> {
    let subject = subject_of(conn, target).await?;
    let (before, _) = vote_on(conn, ctx, caller, &subject, choice, activity_id).await?;
    Ok(before)
}

/// A press of a vote button on a page that showed the caller's vote as `shown`: the vote
/// cast, or withdrawn when it was already the caller's. When the vote is no longer what the
/// page showed (the same press sent twice — a double click, a resend after a lost answer —
/// or a vote changed in another tab), nothing changes: a press is applied once, never
/// flipped back by its own copy. Read under lock. Returns the caller's vote now.
pub async fn toggle_vote(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    target: VoteTarget,
    pressed: Vote,
    shown: Option<Vote>,
) -> Result<Option<Vote>, CoreError> {
    let current = store::vote_of_for_update(conn, caller.person_id, target)
        .await?
        .and_then(Vote::from_value);
    if current != shown {
        return Ok(current);
    }
    let choice = if current == Some(pressed) {
        None
    } else {
        Some(pressed)
    };
    vote(conn, ctx, caller, target, choice, None).await?;
    Ok(choice)
}

/// [`vote`] on a subject its caller already loaded; also returns the group the vote was cast
/// in: the subject's, or the one a move committed meanwhile took the post to, through which
/// the inbox relays it.
pub(crate) async fn vote_on(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    subject: &VoteSubject,
    choice: Option<Vote>,
    activity_id: Option<&str>,
) -> Result<(Option<Vote>, Group), CoreError> {
    // A person banned from the group casts no vote there (withdrawing one stays possible).
    // For a member of ours this holds their standing too, though no removal takes votes back:
    // one rule for every write, and a vote that read "not banned" commits before the ban.
    if choice.is_some() {
        crate::ban_checks::refuse_if_banned(conn, subject.post.group_id, caller).await?;
    }
    // Read again under a share lock that the deletion waits for (the subject may have been
    // loaded before a deletion committed): content that is gone took its rewards with it, and
    // a reward committed after its deletion would survive it.
    let live_in = match subject.post.deleted_at {
        Some(_) => None,
        None => store::post_live_for_vote(conn, subject.post.id, choice.is_none()).await?,
    };
    let Some(group_id) = live_in else {
        return Err(CoreError::NotFound("post"));
    };
    // A champion's move committed while the vote waited for the post (the lock above): the
    // vote is cast in the post's new group, under its bans, and earns there, where the move
    // took the post's rewards. (Its standing, held above, is taken again at once.)
    let moved;
    let subject = if group_id == subject.post.group_id {
        subject
    } else {
        moved = subject_of(conn, subject.target).await?;
        if choice.is_some() {
            crate::ban_checks::refuse_if_banned(conn, moved.post.group_id, caller).await?;
        }
        &moved
    };
    if let Some(comment) = &subject.comment {
        if comment.deleted_at.is_some()
            || !store::comment_live_for_vote(conn, comment.id, choice.is_none()).await?
        {
            return Err(CoreError::NotFound("comment"));
        }
    }
    // Unreadable: as missing, said of what was named (a comment's "post" told that it exists).
    let named = if subject.comment.is_some() {
        "comment"
    } else {
        "post"
    };
    access::require_readable(conn, &subject.group, caller.into(), named).await?;
    if choice == Some(Vote::Dislike) {
        if !subject.group.dislikes_enabled {
            return Err(forbid("dislikes_disabled"));
        }
        rewards::require_reputation(conn, caller, ctx.settings.engagement.privileges.dislike)
            .await?;
    }
    let value = choice.map(Vote::value);
    let target = subject.target;
    // Recorded on the vote: what it counts for anywhere (a bounty's score too) is the weight
    // it was cast with, not what an admin sets the instance's weight to later.
    let weight = rewards::vote_weight(conn, caller, subject).await?;
    let weight = if vote_counts(weight) { weight } else { 0.0 };
    let before =
        store::cast_vote(conn, caller.person_id, target, value, activity_id, weight).await?;
    rewards::on_vote(conn, ctx, caller, subject, before, value, weight).await?;
    // Only a new like of one of our members may finish the journey's step: a remote like
    // from the inbox, or the same vote again, costs no query.
    if caller.is_local() && value == Some(Vote::Like.value()) && before != value {
        journey::pay_finished_steps(conn, caller.person_id, StepKind::LikeContributions).await?;
    }
    if value == Some(Vote::Like.value()) && before != value {
        let author = subject
            .comment
            .as_ref()
            .map_or(subject.post.author_id, |c| c.author_id);
        let notice = Notice::new(Kind::Like, author, Some(caller.person_id)).about(
            subject.post.group_id,
            subject.post.id,
            subject.comment.as_ref().map(|c| c.id),
        );
        notifications::notify(conn, notice).await?;
    }
    if before != value {
        record_event(conn, caller, OutboxEvent::Voted { target, value }).await?;
    }
    Ok((before.and_then(Vote::from_value), subject.group.clone()))
}

/// The caller's votes on a thread: on its post, and on its comments by id.
pub struct ThreadVotes {
    pub post: Option<Vote>,
    pub comments: std::collections::HashMap<i64, Vote>,
}

pub async fn votes_on_thread(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
) -> Result<ThreadVotes, CoreError> {
    let (post, comments) = store::votes_on_thread(conn, caller.person_id, post_id).await?;
    Ok(ThreadVotes {
        post: post.and_then(Vote::from_value),
        comments: comments
            .into_iter()
            .filter_map(|(id, value)| Vote::from_value(value).map(|v| (id, v)))
            .collect(),
    })
}

/// A target's (likes, dislikes).
pub async fn counts(conn: &mut Conn, target: VoteTarget) -> Result<(i32, i32), CoreError> {
    let counts = match target {
        VoteTarget::Post(id) => store::post_by_id(conn, id)
            .await?
            .map(|p| (p.likes, p.dislikes)),
        VoteTarget::Comment(id) => store::comment_by_id(conn, id)
            .await?
            .map(|c| (c.likes, c.dislikes)),
    };
    counts.ok_or(CoreError::NotFound("target"))
}

/// 1–5 stars on an idea or a note (`None` withdraws the rating). Returns (average, count).
/// A person banned from the group (or a member of ours banned from the instance) rates
/// nothing there, as they vote nothing (see [`vote_on`]); withdrawing a rating stays possible.
pub async fn rate_post(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    stars: Option<u8>,
) -> Result<(f64, i32), CoreError> {
    if stars.is_some_and(|s| !(1..=5).contains(&s)) {
        return Err(ValidationError {
            field: "stars",
            code: "out_of_range",
        }
        .into());
    }
    // As for an edit: held before it is read, so that its bans and readability are those of
    // the group the rating lands in.
    let (post, _, _) = access::post_held(conn, caller, post_id, PostHold::Edit).await?;
    if post.kind == PostKind::Question.as_str() {
        return Err(ValidationError {
            field: "post",
            code: "questions_are_not_rated",
        }
        .into());
    }
    if stars.is_some() {
        crate::ban_checks::refuse_if_banned(conn, post.group_id, caller).await?;
    }
    let (sum, count) =
        store::rate_post(conn, post.id, caller.person_id, stars.map(i16::from)).await?;
    let average = if count > 0 {
        f64::from(sum) / f64::from(count)
    } else {
        0.0
    };
    Ok((average, count))
}
