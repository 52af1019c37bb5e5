//! A group's approval queue (issue 13, item 6): which new posts wait for a moderator, and the
//! moderator's decision. A held post is seen only by its author and the group's moderators;
//! it is not federated, not in feeds, stats or rewards, until approved — then it is published
//! as if just posted. A rejected one is never published; its author sees why.

use crate::moderation_log::{self, NewModAction};
use crate::{
    access::{self, forbid},
    who_moderates::require_group_moderator,
    Caller, Conn, CoreError,
};
use cenacle_db::{
    actors::{self, Group},
    approval::{self as store, GroupApproval},
    content::{Post, PostHold},
    engagement as ledger,
    federation::{self as fed_store, OutboxEvent},
    instance_moderation,
};
use cenacle_domain::{
    approval::{needs_approval, validate_approval_settings, ApprovalSettings, Author},
    content::can_moderate,
    moderation::{check_reason, ModAction},
};

pub use cenacle_db::approval::GroupApproval as Settings;

fn to_domain(s: GroupApproval) -> ApprovalSettings {
    ApprovalSettings {
        enabled: s.enabled,
        first_posts: s.first_posts,
        min_reputation: s.min_reputation,
    }
}

/// A group's approval settings, for its moderators.
pub async fn settings(
    conn: &mut Conn,
    caller: &Caller,
    group: &Group,
) -> Result<GroupApproval, CoreError> {
    require_group_moderator(conn, group, caller).await?;
    Ok(store::settings(conn, group.id).await?)
}

/// Changes a group of ours' approval settings (its moderators).
pub async fn set_settings(
    conn: &mut Conn,
    caller: &Caller,
    group: &Group,
    settings: GroupApproval,
) -> Result<GroupApproval, CoreError> {
    require_group_moderator(conn, group, caller).await?;
    if !group.local {
        // A group elsewhere decides on its own server.
        return Err(forbid("remote_group"));
    }
    validate_approval_settings(to_domain(settings))?;
    store::set_settings(conn, group.id, &settings).await?;
    Ok(settings)
}

/// Whether a person of another server belongs to a limited instance: the one serving their
/// actor, or the one their confirmed handle names (`alice@example.org`, actor at
/// `social.example.org`: limiting `example.org` limits her).
async fn person_instance_limited(conn: &mut Conn, person_id: i64) -> Result<bool, CoreError> {
    let Some(person) = actors::person_by_id(conn, person_id).await? else {
        return Ok(false);
    };
    for host in [person.instance_host, person.handle_host]
        .into_iter()
        .flatten()
    {
        if instance_moderation::actor_instance_limited(conn, &host.to_ascii_lowercase()).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `caller`'s new post in `group` waits for approval. Only our groups hold posts:
/// a group elsewhere decides on its own server.
pub(crate) async fn must_wait(
    conn: &mut Conn,
    caller: &Caller,
    group: &Group,
) -> Result<bool, CoreError> {
    if !group.local {
        return Ok(false);
    }
    let actor = access::actor_in(conn, group, caller).await?;
    let instance_limited = match caller.is_local() {
        true => false,
        false => person_instance_limited(conn, caller.person_id).await?,
    };
    let settings = to_domain(store::settings(conn, group.id).await?);
    if !settings.enabled && !instance_limited {
        // The common case costs one read.
        return Ok(false);
    }
    let author = Author {
        moderates: can_moderate(&actor),
        published_posts: store::published_posts_in_group(conn, group.id, caller.person_id).await?,
        reputation: ledger::reputation_of(conn, caller.person_id).await?,
        instance_limited,
    };
    Ok(needs_approval(settings, author))
}

/// A post's `approval` while it waits for a moderator (`rejected` once refused).
pub const PENDING: &str = "pending";

/// Puts a new post in its group's queue.
pub(crate) async fn hold(conn: &mut Conn, post: &Post) -> Result<Post, CoreError> {
    Ok(store::hold(conn, post.id).await?)
}

/// Keeps the activity a remote member's held post arrived with, to relay it unchanged once
/// approved (the inbox calls it in the transaction that stored the post).
pub async fn keep_held_activity(
    conn: &mut Conn,
    post_id: i64,
    activity: &str,
) -> Result<(), CoreError> {
    Ok(store::keep_activity(conn, post_id, activity).await?)
}

/// Takes the activity kept for an approved remote post (the delivery side relays it).
pub async fn take_held_activity(
    conn: &mut Conn,
    post_id: i64,
) -> Result<Option<String>, CoreError> {
    Ok(store::take_activity(conn, post_id).await?)
}

/// A group's pending posts, oldest first, for its moderators.
pub async fn pending_posts(
    conn: &mut Conn,
    caller: &Caller,
    group: &Group,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Post>, CoreError> {
    require_group_moderator(conn, group, caller).await?;
    Ok(store::pending_posts(conn, group.id, after_id, limit).await?)
}

/// A pending post, for a moderator of its group who decides on it: held (FOR UPDATE, as any
/// change of a post's state) before its group and the caller's right there are read, so that
/// they are those of the group the post is in until the decision commits. A champion's move
/// being written (which locks the post FOR UPDATE) is waited for, and the post then read in
/// its new group: a moderator of the group it left only is refused there (404, as a held post
/// is to anyone but its author and that group's moderators). Without it, the right was read in
/// the old group, the decision's update waited for the move, then published (or rejected) the
/// post in the new group on the old group's say.
///
/// `author_too`: the author's standing is held as well, before the post's row (standings
/// before rows, as every write orders its locks: see `ban_checks::hold_standing`), for an
/// approval, which reads their bans (`ban_checks::refuse_if_author_banned`) under the post's
/// lock: a ban with removal of their content holds their standing, then takes their posts
/// down, and would otherwise wait for this post while the approval waited for the standing.
/// The author is read first without a lock (a post never changes authors).
async fn pending_for_moderator(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    author_too: bool,
) -> Result<(Post, Group), CoreError> {
    if author_too {
        let author = cenacle_db::content::post_by_id(conn, post_id)
            .await?
            .ok_or(CoreError::NotFound("post"))?
            .author_id;
        // One statement, hence one order whatever the people's (as a move holds its two).
        let people = [caller.person_id, author];
        cenacle_db::federation::hold_people_standing_for_reading_by_ids(conn, &people).await?;
    }
    let (post, group, actor) =
        access::post_held(conn, caller, post_id, PostHold::Exclusive).await?;
    if !can_moderate(&actor) {
        return Err(forbid("moderate_group"));
    }
    if post.approval.as_deref() != Some(PENDING) {
        return Err(CoreError::Conflict("post_not_pending"));
    }
    Ok((post, group))
}

/// The author as the rewards see them: one of our members (with their role) or a remote one.
async fn author_of(conn: &mut Conn, post: &Post) -> Result<Caller, CoreError> {
    if !post.local {
        return Ok(Caller::remote(post.author_id));
    }
    let account = cenacle_db::accounts::find_by_id(conn, post.author_id)
        .await?
        .ok_or(CoreError::NotFound("account"))?;
    Ok(Caller {
        person_id: post.author_id,
        instance_role: Some(account.role),
    })
}

/// Approves a pending post: published now, as if just posted — it counts (points, badges)
/// and federates (our member's Create, or the remote member's own activity relayed by the
/// group).
///
/// Refused while its author is banned from the group or from the instance (409
/// `author_banned`: publishing it would write in their name where they may not), and once
/// the post was removed (403, `post_removed`: a ban with removal takes down held posts too,
/// and so may a moderator). The author's standing is held from before the post is read to
/// the commit (see `ban_checks::refuse_if_author_banned`): a ban with removal committing
/// meanwhile waits for the approval and then takes the published post down. The post is held
/// from before its group is read ([`pending_for_moderator`]): a removal of this one post, or a
/// move of it, being written is waited for and then seen; the decision reads the removal
/// again under the same lock all the same.
pub async fn approve(
    conn: &mut Conn,
    ctx: &crate::Context,
    caller: &Caller,
    post_id: i64,
) -> Result<Post, CoreError> {
    let (post, group) = pending_for_moderator(conn, caller, post_id, true).await?;
    crate::ban_checks::refuse_if_author_banned(conn, group.id, post.author_id).await?;
    if post.removed_at.is_some() {
        return Err(forbid("post_removed"));
    }
    // Pending and not removed were read under the post's lock, held since: only a defence.
    let post = store::decide(conn, post.id, None)
        .await?
        .ok_or(CoreError::Conflict("post_not_pending"))?;
    log_decision(
        conn,
        caller,
        &group,
        &post,
        ModAction::ApprovePost,
        String::new(),
    )
    .await?;
    let author = author_of(conn, &post).await?;
    crate::rewards::on_post(conn, ctx, &author, &post).await?;
    // Held, it told nobody: the people it mentions hear of it now it is published.
    crate::notifications::notify_post_mentions(conn, ctx, &post).await?;
    // Recorded for remote authors too: the group relays their activity (see the delivery
    // side's handling of this event).
    fed_store::insert_outbox_event(
        conn,
        OutboxEvent::PostApproved(post.id),
        Some(post.author_id),
    )
    .await?;
    Ok(post)
}

/// Rejects a pending post: never published; its author sees `reason`.
pub async fn reject(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    reason: &str,
) -> Result<Post, CoreError> {
    let reason = check_reason(reason)?;
    // No author's bans read: a rejection writes nothing in their name.
    let (post, group) = pending_for_moderator(conn, caller, post_id, false).await?;
    let post = store::decide(conn, post.id, Some(&reason))
        .await?
        .ok_or(CoreError::Conflict("post_not_pending"))?;
    log_decision(conn, caller, &group, &post, ModAction::RejectPost, reason).await?;
    // Nothing of it will ever be relayed.
    store::take_activity(conn, post.id).await?;
    Ok(post)
}

async fn log_decision(
    conn: &mut Conn,
    caller: &Caller,
    group: &Group,
    post: &Post,
    action: ModAction,
    reason: String,
) -> Result<(), CoreError> {
    moderation_log::record(
        conn,
        NewModAction {
            group_id: Some(group.id),
            moderator_id: Some(caller.person_id),
            target_person_id: Some(post.author_id),
            target_post_id: Some(post.id),
            reason,
            ..NewModAction::new(action)
        },
    )
    .await?;
    Ok(())
}
