//! Moderators at work: removal and restoration of posts and comments (distinct from an
//! author's delete), locks, pins and the moderator list — one use case per action, reached by
//! the API (our members) and by the inbox (a remote moderator, directly or through the
//! group's Announce). Who may act is the one rule of `cenacle_domain::moderators`; every
//! action applied is written to the moderation log.

pub use crate::who_moderates::{authorize, require_group_moderator, Moderator};
use crate::{
    access, bounties,
    federation::record_event,
    groups, moderation_log,
    notifications::{self, Notice},
    rewards::{self, Gone},
    Caller, Conn, CoreError,
};
use cenacle_db::{
    actors::{self as actor_store, Group, PersonActor},
    content::{self as store, Comment, Post, PostHold},
    federation::{self as federation_store, OutboxEvent},
};
use cenacle_domain::{
    content::GroupRole,
    moderation::{check_reason, ModAction},
    moderators::may_enrol,
    notifications::Kind,
    reports::ModerationRefusal,
    Role, ValidationError,
};

/// What a remote moderator asks, by ActivityPub ids.
pub enum Act<'a> {
    Remove {
        object: &'a str,
        reason: &'a str,
    },
    Restore {
        object: &'a str,
    },
    Lock {
        object: &'a str,
        locked: bool,
    },
    Pin {
        object: &'a str,
        pinned: bool,
    },
    /// Add or remove `person` to the moderators collection `collection`.
    Moderator {
        person: &'a PersonActor,
        add: bool,
        collection: &'a str,
    },
}

/// A post, or a comment with its post, and their group.
struct Content {
    post: Post,
    comment: Option<Comment>,
    group: Group,
}

impl Content {
    fn author_id(&self) -> i64 {
        self.comment
            .as_ref()
            .map_or(self.post.author_id, |c| c.author_id)
    }
}

async fn content_by_ap_id(conn: &mut Conn, ap_id: &str) -> Result<Option<Content>, CoreError> {
    let (post_id, comment) = match store::post_by_ap_id(conn, ap_id).await? {
        Some(post) => (post.id, None),
        None => match store::comment_by_ap_id(conn, ap_id).await? {
            Some(comment) => (comment.post_id, Some(comment)),
            None => return Ok(None),
        },
    };
    content_locked(conn, post_id, comment).await
}

async fn content_by_id(
    conn: &mut Conn,
    post_id: i64,
    comment_id: Option<i64>,
) -> Result<Content, CoreError> {
    let (post_id, comment) = match comment_id {
        Some(id) => {
            let comment = store::comment_by_id(conn, id)
                .await?
                .filter(|c| c.deleted_at.is_none())
                .ok_or(CoreError::NotFound("comment"))?;
            (comment.post_id, Some(comment))
        }
        None => (post_id, None),
    };
    let content = content_locked(conn, post_id, comment)
        .await?
        .ok_or(CoreError::NotFound(if comment_id.is_some() {
            "comment"
        } else {
            "post"
        }))?;
    if content.post.deleted_at.is_some() {
        return Err(CoreError::NotFound("post"));
    }
    Ok(content)
}

/// The post locked (FOR UPDATE, as a deletion locks it: votes and replies in flight commit
/// first — a removal takes their rewards back with the rest, a lock sees their replies — and
/// later ones find it removed or locked), then read with its group: the group whose
/// moderators decide is the one the post is in until the action commits. A move being
/// written is waited for and the post read in its new group; read before the lock, a
/// moderator of the group it left removed, restored, locked or pinned it in the new one. (A
/// comment never changes posts: its post's id is read without a lock.)
async fn content_locked(
    conn: &mut Conn,
    post_id: i64,
    comment: Option<Comment>,
) -> Result<Option<Content>, CoreError> {
    let Some(post) = store::post_held(conn, post_id, PostHold::Exclusive).await? else {
        return Ok(None);
    };
    let Some(group) = actor_store::group_by_id(conn, post.group_id).await? else {
        return Ok(None);
    };
    Ok(Some(Content {
        post,
        comment,
        group,
    }))
}

/// [`authorize`] for an act on a post or comment: a caller who may not even read its group is
/// answered as for missing content (`post` or `comment`), as every other way to name it
/// answers — not "group", which told whoever named an id in a private group that it exists.
async fn authorize_on(
    conn: &mut Conn,
    content: &Content,
    who: Moderator<'_>,
) -> Result<(), CoreError> {
    let what = if content.comment.is_some() {
        "comment"
    } else {
        "post"
    };
    authorize(conn, &content.group, content.group.id, who)
        .await
        .map_err(crate::access::as_missing(what))
}

/// Records the action in the moderation log.
#[allow(clippy::too_many_arguments)]
async fn log(
    conn: &mut Conn,
    group: &Group,
    who: Moderator<'_>,
    action: ModAction,
    target_person_id: Option<i64>,
    content: Option<&Content>,
    reason: Option<&str>,
    ap_id: Option<&str>,
) -> Result<(), CoreError> {
    moderation_log::record(
        conn,
        moderation_log::NewModAction {
            group_id: Some(group.id),
            moderator_id: Some(who.person_id()),
            target_person_id: target_person_id.or(content.map(Content::author_id)),
            target_post_id: content.map(|c| c.post.id),
            target_comment_id: content.and_then(|c| c.comment.as_ref().map(|c| c.id)),
            reason: reason.unwrap_or_default().to_owned(),
            ap_id: ap_id.map(str::to_owned),
            ..moderation_log::NewModAction::new(action)
        },
    )
    .await?;
    Ok(())
}

/// Removes (`Some(reason)`) or restores (`None`) a post or comment: hidden from everyone but
/// the group's moderators and its author, and from what we serve to other servers. The
/// reason stays on the row after a restore (what the log and an Undo's embedded Delete say).
/// What the content earned is taken back with its removal and given back with its restore
/// (see `rewards::on_content_removed`, `rewards::on_content_restored`), in this transaction.
async fn set_removal(
    conn: &mut Conn,
    who: Moderator<'_>,
    content: &Content,
    reason: Option<&str>,
    ap_id: Option<&str>,
) -> Result<(), CoreError> {
    authorize_on(conn, content, who).await?;
    // The comment locked after its post (locked when the content was read,
    // `content_locked`), as a deletion locks them.
    if let Some(comment) = &content.comment {
        store::lock_comment_for_take_down(conn, comment.id).await?;
    }
    let changed = match &content.comment {
        Some(comment) => store::set_comment_removal(conn, comment.id, reason).await?,
        None => store::set_post_removal(conn, content.post.id, reason).await?,
    };
    if !changed {
        // Already so: nothing to log or send again.
        return Ok(());
    }
    // A post's removal (not its restore, nor a comment's, nor one already removed) by the
    // question's author or the sponsor of the bounty running on it would hand the escrow
    // back: refused under the post's lock, as their deletion is (see
    // `bounties::refuse_take_down_by`); the error rolls the removal back. Remote people
    // sponsor nothing; a remote author's removal only gives someone else's escrow back.
    if let (None, Some(_), Moderator::Local(caller)) = (&content.comment, reason, who) {
        bounties::refuse_take_down_by(conn, &[content.post.id], caller.person_id).await?;
    }
    let gone = match &content.comment {
        Some(comment) => Gone::Comment {
            post_id: content.post.id,
            comment_id: comment.id,
        },
        None => Gone::Post(content.post.id),
    };
    if reason.is_some() {
        rewards::on_content_removed(conn, &[gone]).await?;
    } else {
        rewards::on_content_restored(conn, gone).await?;
    }
    let action = match (&content.comment, reason.is_some()) {
        (None, true) => ModAction::RemovePost,
        (None, false) => ModAction::RestorePost,
        (Some(_), true) => ModAction::RemoveComment,
        (Some(_), false) => ModAction::RestoreComment,
    };
    log(
        conn,
        &content.group,
        who,
        action,
        None,
        Some(content),
        reason,
        ap_id,
    )
    .await?;
    let notice = Notice::new(Kind::Moderation, content.author_id(), Some(who.person_id()))
        .about(
            content.group.id,
            content.post.id,
            content.comment.as_ref().map(|c| c.id),
        )
        .detail(if reason.is_some() {
            "removed"
        } else {
            "restored"
        });
    notifications::notify(conn, notice).await?;
    if let Moderator::Local(caller) = who {
        let event = match (&content.comment, reason.is_some()) {
            (None, true) => OutboxEvent::PostRemoved(content.post.id),
            (None, false) => OutboxEvent::PostRestored(content.post.id),
            (Some(c), true) => OutboxEvent::CommentRemoved(c.id),
            (Some(c), false) => OutboxEvent::CommentRestored(c.id),
        };
        record_event(conn, caller, event).await?;
    }
    Ok(())
}

/// Locks or pins a post (None leaves that flag as it is).
async fn set_flags(
    conn: &mut Conn,
    who: Moderator<'_>,
    content: &Content,
    locked: Option<bool>,
    pinned: Option<bool>,
    ap_id: Option<&str>,
) -> Result<Post, CoreError> {
    authorize_on(conn, content, who).await?;
    if content.comment.is_some() {
        return Err(CoreError::NotAllowed("lock_or_pin_a_comment"));
    }
    let post = &content.post;
    let locked = locked.filter(|l| *l != post.locked);
    let pinned = pinned.filter(|p| *p != post.pinned);
    if locked.is_none() && pinned.is_none() {
        return Ok(post.clone());
    }
    let updated = store::set_post_flags(conn, post.id, locked, pinned).await?;
    let changes = [
        locked.map(|l| {
            if l {
                (ModAction::LockPost, OutboxEvent::PostLocked(post.id))
            } else {
                (ModAction::UnlockPost, OutboxEvent::PostUnlocked(post.id))
            }
        }),
        pinned.map(|p| {
            if p {
                (ModAction::PinPost, OutboxEvent::PostPinned(post.id))
            } else {
                (ModAction::UnpinPost, OutboxEvent::PostUnpinned(post.id))
            }
        }),
    ];
    for (action, event) in changes.into_iter().flatten() {
        log(
            conn,
            &content.group,
            who,
            action,
            None,
            Some(content),
            None,
            ap_id,
        )
        .await?;
        if let Moderator::Local(caller) = who {
            record_event(conn, caller, event).await?;
        }
    }
    Ok(updated)
}

/// A removal's reason is required (it is what the author and other servers are told), and
/// bounded as every moderation reason is.
fn validate_reason(reason: &str) -> Result<(), CoreError> {
    if reason.trim().is_empty() {
        return Err(ValidationError {
            field: "reason",
            code: "required",
        }
        .into());
    }
    check_reason(reason)?;
    Ok(())
}

/// A moderator removes a post.
pub async fn remove_post(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    reason: &str,
) -> Result<(), CoreError> {
    validate_reason(reason)?;
    let content = content_by_id(conn, post_id, None).await?;
    set_removal(
        conn,
        Moderator::Local(caller),
        &content,
        Some(reason.trim()),
        None,
    )
    .await
}

pub async fn restore_post(conn: &mut Conn, caller: &Caller, post_id: i64) -> Result<(), CoreError> {
    let content = content_by_id(conn, post_id, None).await?;
    set_removal(conn, Moderator::Local(caller), &content, None, None).await
}

pub async fn remove_comment(
    conn: &mut Conn,
    caller: &Caller,
    comment_id: i64,
    reason: &str,
) -> Result<(), CoreError> {
    validate_reason(reason)?;
    let content = content_by_id(conn, 0, Some(comment_id)).await?;
    set_removal(
        conn,
        Moderator::Local(caller),
        &content,
        Some(reason.trim()),
        None,
    )
    .await
}

pub async fn restore_comment(
    conn: &mut Conn,
    caller: &Caller,
    comment_id: i64,
) -> Result<(), CoreError> {
    let content = content_by_id(conn, 0, Some(comment_id)).await?;
    set_removal(conn, Moderator::Local(caller), &content, None, None).await
}

/// Locks (no new comments) or pins a post: the group's moderators and the instance's staff.
pub async fn moderate_post(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    locked: Option<bool>,
    pinned: Option<bool>,
) -> Result<Post, CoreError> {
    let content = content_by_id(conn, post_id, None).await?;
    set_flags(
        conn,
        Moderator::Local(caller),
        &content,
        locked,
        pinned,
        None,
    )
    .await
}

/// Sets a member's group role. Owners name moderators (local or remote people); only an owner
/// or a community manager can make or unmake an owner. Refused for a person banned from the
/// group or from the instance (`person_banned`) when it lets them in (any role given to
/// someone not in the group) or raises them (member to moderator, moderator to owner): a ban
/// closes those doors. Lowering a banned person (an owner or a moderator banned from the
/// instance, put back to moderator or member) goes on: it takes powers away.
///
/// The person's standing is held (shared, as their own join holds it) whatever the change,
/// before their role is read: a ban racing it waits for it to commit, then reads the role it
/// left (and refuses to ban a moderator, `group_bans::apply_ban`); a change that reads after
/// the ban waits, and sees the ban and the membership it took.
pub async fn set_member_role(
    conn: &mut Conn,
    caller: &Caller,
    name: &str,
    person_id: i64,
    role: GroupRole,
) -> Result<(), CoreError> {
    let group = groups::local_group(conn, name).await?;
    groups::require_ordinary_membership(&group)?;
    require_group_moderator(conn, &group, caller).await?;
    let actor = access::actor_in(conn, &group, caller).await?;
    // Their standing held before their role is read: a ban that put them out meanwhile is
    // waited for, and its removal of their membership seen below.
    let banned = crate::ban_checks::banned_held(conn, group.id, person_id).await?;
    let current = store::membership_role(conn, group.id, person_id).await?;
    let is_manager = matches!(
        caller.instance_role,
        Some(Role::Admin | Role::CommunityManager)
    );
    let touches_owner = role == GroupRole::Owner || current.as_deref() == Some("owner");
    if touches_owner && actor.group_role != Some(GroupRole::Owner) && !is_manager {
        return Err(CoreError::NotAllowed("change_owner"));
    }
    let current_role = current.as_deref().and_then(|r| r.parse::<GroupRole>().ok());
    let was_moderator = current_role >= Some(GroupRole::Moderator);
    let is_moderator = role >= GroupRole::Moderator;
    // A ban put them out (`group_bans::put_out_of`): no role brings them back in, nor up,
    // while it lasts, as no approval or invitation does. Down is still open.
    let lets_in_or_raises = current_role.is_none_or(|current| role > current);
    if banned && lets_in_or_raises {
        return Err(CoreError::ModerationRefused(
            ModerationRefusal::PersonBanned,
        ));
    }
    let role = match role {
        GroupRole::Member => "member",
        GroupRole::Moderator => "moderator",
        GroupRole::Owner => "owner",
    };
    store::set_membership(conn, group.id, person_id, role).await?;
    if was_moderator != is_moderator {
        // The moderators collection changed: logged, and announced as Add/Remove.
        moderator_changed(conn, caller, &group, person_id, is_moderator).await?;
    }
    Ok(())
}

/// The owner of a group of ours (or a moderator, or the instance's staff: the rule) adds or
/// removes a moderator; called by the membership use case once the role changed.
async fn moderator_changed(
    conn: &mut Conn,
    caller: &Caller,
    group: &Group,
    person_id: i64,
    add: bool,
) -> Result<(), CoreError> {
    let action = if add {
        ModAction::AddModerator
    } else {
        ModAction::RemoveModerator
    };
    let who = Moderator::Local(caller);
    log(conn, group, who, action, Some(person_id), None, None, None).await?;
    let event = if add {
        OutboxEvent::ModeratorAdded {
            group_id: group.id,
            person_id,
        }
    } else {
        OutboxEvent::ModeratorRemoved {
            group_id: group.id,
            person_id,
        }
    };
    record_event(conn, caller, event).await
}

/// A remote moderator's action, by ActivityPub ids. Returns the group it applied in (the
/// inbox relays it when the group is ours). Unknown content is acknowledged and ignored.
pub async fn apply_remote(
    conn: &mut Conn,
    who: Moderator<'_>,
    act: Act<'_>,
    ap_id: Option<&str>,
) -> Result<Group, CoreError> {
    match act {
        Act::Remove { object, reason } => {
            let content = known(conn, object).await?;
            set_removal(conn, who, &content, Some(reason), ap_id).await?;
            Ok(content.group)
        }
        Act::Restore { object } => {
            let content = known(conn, object).await?;
            set_removal(conn, who, &content, None, ap_id).await?;
            Ok(content.group)
        }
        Act::Lock { object, locked } => {
            let content = known(conn, object).await?;
            set_flags(conn, who, &content, Some(locked), None, ap_id).await?;
            Ok(content.group)
        }
        Act::Pin { object, pinned } => {
            let content = known(conn, object).await?;
            set_flags(conn, who, &content, None, Some(pinned), ap_id).await?;
            Ok(content.group)
        }
        Act::Moderator {
            person,
            add,
            collection,
        } => {
            let group = match who {
                Moderator::Remote {
                    announced_by: Some(group),
                    ..
                } => group.clone(),
                _ => group_of_collection(conn, collection).await?,
            };
            authorize(conn, &group, group.id, who).await?;
            let role = store::membership_role(conn, group.id, person.id).await?;
            let listed = role.as_deref().and_then(|r| r.parse::<GroupRole>().ok())
                >= Some(GroupRole::Moderator);
            if listed != add {
                if add {
                    require_enrolment(conn, &group, person).await?;
                    // Not someone our group has banned (`person_banned`): listing them would
                    // let them back in. A group elsewhere is its own server's to moderate:
                    // its moderators are who it lists (`sync_remote_moderators` would put a
                    // refused one back at the next refresh anyway).
                    if group.local {
                        crate::ban_checks::refuse_if_person_banned(conn, group.id, person.id)
                            .await?;
                    }
                    store::set_membership(conn, group.id, person.id, "moderator").await?;
                } else if role.as_deref() == Some("owner") {
                    return Err(CoreError::NotAllowed("change_owner"));
                } else {
                    store::set_membership(conn, group.id, person.id, "member").await?;
                }
                let action = if add {
                    ModAction::AddModerator
                } else {
                    ModAction::RemoveModerator
                };
                log(
                    conn,
                    &group,
                    who,
                    action,
                    Some(person.id),
                    None,
                    None,
                    ap_id,
                )
                .await?;
            }
            Ok(group)
        }
    }
}

async fn known(conn: &mut Conn, object: &str) -> Result<Content, CoreError> {
    content_by_ap_id(conn, object)
        .await?
        .ok_or(CoreError::NotFound("object"))
}

/// The group whose moderators collection is `collection` (`{group}/moderators`, as Lemmy and
/// we name it).
async fn group_of_collection(conn: &mut Conn, collection: &str) -> Result<Group, CoreError> {
    let group_id = collection
        .strip_suffix("/moderators")
        .ok_or(CoreError::NotFound("group"))?;
    actor_store::group_by_ap_id(conn, group_id)
        .await?
        .ok_or(CoreError::NotFound("group"))
}

/// Whether a group's own say-so makes `person` its moderator here (the rule of
/// `cenacle_domain::moderators::may_enrol`: our members, for a group elsewhere, only when they
/// follow it here).
async fn require_enrolment(
    conn: &mut Conn,
    group: &Group,
    person: &PersonActor,
) -> Result<(), CoreError> {
    let follows = match person.ap_id.as_deref() {
        Some(ap_id) if person.local && !group.local => {
            federation_store::follow_state(conn, &group.ap_id, ap_id)
                .await?
                .is_some()
        }
        _ => false,
    };
    may_enrol(group.local, person.local, follows)
        .map_err(|refusal| CoreError::NotAllowed(refusal.code()))
}

/// The moderators a remote group lists (its `attributedTo` collection, read when we fetch or
/// refresh it): listed people become its moderators here, the others listed before are
/// members again (or no longer in it, for remote people: they were here only as moderators).
/// Our own members listed there count only if they follow the group (see
/// [`require_enrolment`]); the others are left out.
pub async fn sync_remote_moderators(
    conn: &mut Conn,
    group: &Group,
    people: &[i64],
) -> Result<(), CoreError> {
    if group.local {
        return Ok(());
    }
    let mut enrolled = Vec::with_capacity(people.len());
    for id in people {
        let Some(person) = actor_store::person_by_id(conn, *id).await? else {
            continue;
        };
        if require_enrolment(conn, group, &person).await.is_ok() {
            enrolled.push(*id);
        }
    }
    store::replace_moderators(conn, group.id, &enrolled).await?;
    Ok(())
}
