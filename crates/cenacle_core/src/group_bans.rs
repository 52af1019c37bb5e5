//! Bans from a group: a moderator bans a person (of this instance or another) from a group
//! of ours, for a time or for good, optionally removing what they wrote there; a banned
//! person can no longer post or comment in it (checked by the post and comment use cases,
//! for members here and for activities from other servers alike). A ban ends by itself when
//! it expires: it is read at use time, so no job has to lift it.

use crate::{
    access::is_group_moderator,
    federation::record_event,
    moderation::require_group_moderator,
    moderation_log::{self, NewModAction},
    Caller, Conn, CoreError,
};
use cenacle_db::{
    actors::{self, Group},
    federation::OutboxEvent,
    reports::{self as store, BanRow, NewBan},
};
use cenacle_domain::{
    group_bans,
    moderation::{self, ModAction},
    reports::ModerationRefusal,
};
use chrono::{DateTime, Utc};

pub use cenacle_db::reports::BanRow as Ban;

/// What a ban says.
#[derive(Debug, Clone, Default)]
pub struct BanTerms {
    pub reason: String,
    /// None: for good.
    pub expires_at: Option<DateTime<Utc>>,
    /// Also remove everything the person wrote in the group.
    pub remove_data: bool,
}

fn refused(refusal: ModerationRefusal) -> CoreError {
    CoreError::ModerationRefused(refusal)
}

/// A local group by name, for its moderators.
async fn moderated_group(conn: &mut Conn, caller: &Caller, name: &str) -> Result<Group, CoreError> {
    let group = actors::local_group_by_name(conn, name)
        .await?
        .ok_or(CoreError::NotFound("group"))?;
    require_group_moderator(conn, &group, caller).await?;
    Ok(group)
}

/// A moderator of the group `group_name` bans `person_id` from it. Sent to the instances
/// that follow the group as a `Block` (with `target` the group), announced by the group.
pub async fn ban(
    conn: &mut Conn,
    caller: &Caller,
    group_name: &str,
    person_id: i64,
    terms: &BanTerms,
) -> Result<Ban, CoreError> {
    let group = moderated_group(conn, caller, group_name).await?;
    ban_in(conn, caller, &group, person_id, terms).await
}

/// `caller` (who moderates `group`: checked by the caller) bans `person_id` from it, and the
/// ban is sent to the instances that follow the group.
pub(crate) async fn ban_in(
    conn: &mut Conn,
    caller: &Caller,
    group: &Group,
    person_id: i64,
    terms: &BanTerms,
) -> Result<Ban, CoreError> {
    apply_ban(conn, group, Some(caller.person_id), person_id, terms, None).await?;
    record_event(
        conn,
        caller,
        OutboxEvent::GroupBanned {
            group_id: group.id,
            person_id,
        },
    )
    .await?;
    store::ban_of(conn, group.id, person_id)
        .await?
        .ok_or(CoreError::NotFound("ban"))
}

/// Records a ban (ours, or one a group's moderator sent us) and removes the person's content
/// in the group when the ban says so. `ap_id`: the Block's id, when it came from elsewhere.
pub(crate) async fn apply_ban(
    conn: &mut Conn,
    group: &Group,
    by: Option<i64>,
    person_id: i64,
    terms: &BanTerms,
    ap_id: Option<&str>,
) -> Result<(), CoreError> {
    moderation::check_expiry(terms.expires_at, Utc::now())?;
    let reason = moderation::check_reason(&terms.reason)?;
    if is_group_moderator(conn, group.id, person_id).await? {
        return Err(refused(ModerationRefusal::CannotBanModerator));
    }
    actors::person_by_id(conn, person_id)
        .await?
        .ok_or(CoreError::NotFound("person"))?;
    // Before anything is written (and after the refusals, which need not wait): an activity
    // of theirs in this group that read "not banned" commits first, and the removal below
    // finds what it applied; one that reads after waits and sees the ban (a person of ours:
    // their writes hold it too, see `refuse_if_banned`). From the inbox
    // (a remote moderator's `Block`), the transaction already holds its sender's standing:
    // two moderators banning each other at once can deadlock, which PostgreSQL breaks and the
    // inbox answers 503, for the peer to send again.
    cenacle_db::federation::hold_person_standing_for_change(conn, person_id).await?;
    store::upsert_ban(
        conn,
        &NewBan {
            group_id: group.id,
            person_id,
            banned_by: by,
            reason: &reason,
            expires_at: terms.expires_at,
            remove_data: terms.remove_data,
            ap_id,
        },
    )
    .await?;
    if terms.remove_data {
        let removed = store::remove_content_of(conn, group.id, person_id, &reason).await?;
        crate::rewards::on_content_removed(conn, &removed_items(&removed)).await?;
    }
    moderation_log::record(
        conn,
        NewModAction {
            group_id: Some(group.id),
            moderator_id: by,
            target_person_id: Some(person_id),
            reason,
            expires_at: terms.expires_at,
            ap_id: ap_id.map(str::to_owned),
            ..NewModAction::new(ModAction::BanFromGroup)
        },
    )
    .await?;
    Ok(())
}

/// A moderator lifts a ban (sent as `Undo{Block}`).
pub async fn unban(
    conn: &mut Conn,
    caller: &Caller,
    group_name: &str,
    person_id: i64,
) -> Result<(), CoreError> {
    let group = moderated_group(conn, caller, group_name).await?;
    lift(conn, &group, caller.person_id, person_id, None).await?;
    record_event(
        conn,
        caller,
        OutboxEvent::GroupUnbanned {
            group_id: group.id,
            person_id,
        },
    )
    .await
}

/// `by` lifts the ban in force of `person_id` from `group` (`ap_id`: the Undo that said
/// so, when it came from elsewhere); refused when there is none.
pub(crate) async fn lift(
    conn: &mut Conn,
    group: &Group,
    by: i64,
    person_id: i64,
    ap_id: Option<&str>,
) -> Result<(), CoreError> {
    if banned(conn, group.id, person_id).await?.is_none() {
        return Err(refused(ModerationRefusal::NotBanned));
    }
    store::lift_ban(conn, group.id, person_id).await?;
    moderation_log::record(
        conn,
        NewModAction {
            group_id: Some(group.id),
            moderator_id: Some(by),
            target_person_id: Some(person_id),
            ap_id: ap_id.map(str::to_owned),
            ..NewModAction::new(ModAction::UnbanFromGroup)
        },
    )
    .await?;
    Ok(())
}

/// The bans in force in a group of ours (its moderators).
pub async fn bans(
    conn: &mut Conn,
    caller: &Caller,
    group_name: &str,
) -> Result<Vec<Ban>, CoreError> {
    let group = moderated_group(conn, caller, group_name).await?;
    Ok(store::bans_in_force(conn, group.id).await?)
}

/// The ban of `person_id` from `group_id` if one is in force now (not lifted, not expired).
pub async fn banned(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
) -> Result<Option<BanRow>, CoreError> {
    Ok(store::ban_of(conn, group_id, person_id)
        .await?
        .filter(|b| b.lifted_at.is_none() && group_bans::in_force(b.expires_at, Utc::now())))
}

/// Where a ban of a person in force reaches them: the whole instance, or one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BanScope {
    Instance,
    Group,
}

/// The ban in force of `person_id` (of ours or of another server) that keeps them from
/// writing in `group_id`: from the instance (read first), else from the group.
///
/// Their standing is held first (shared, bounded; the key is their actor id for a person of
/// another server, as the inbox takes it, `local:<id>` for one of ours), as the inbox holds a
/// remote signer's before it reads their bans (`instance_moderation::activity_kept_out`): a
/// ban with removal of their content that read "not banned" waits for the caller's write to
/// commit, and then finds what it wrote; one that reads after waits for the ban and sees it.
async fn ban_in_force(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
) -> Result<Option<BanScope>, CoreError> {
    cenacle_db::federation::hold_person_standing_for_reading_by_id(conn, person_id).await?;
    if cenacle_db::instance_moderation::active_ban(conn, person_id)
        .await?
        .is_some()
    {
        return Ok(Some(BanScope::Instance));
    }
    Ok(banned(conn, group_id, person_id)
        .await?
        .map(|_| BanScope::Group))
}

/// Refuses a banned caller: from the group (`banned_from_group`), and a member of ours from
/// the instance too (`banned_from_instance`). The post, comment, vote and rating use cases ask
/// here before they write, and the champions' tools before they act in a group.
///
/// A member of ours has their standing held first ([`ban_in_force`]). Their session was
/// checked against an instance ban when the request began, but a ban committed since (its
/// removal not seeing this uncommitted write) would otherwise leave the write up. A person
/// of another server acts through the inbox, which held their standing and read their
/// instance ban before (`instance_moderation::activity_kept_out`): their group ban alone is
/// read here.
pub async fn refuse_if_banned(
    conn: &mut Conn,
    group_id: i64,
    caller: &Caller,
) -> Result<(), CoreError> {
    let person_id = caller.person_id;
    let ban = match caller.is_local() {
        true => ban_in_force(conn, group_id, person_id).await?,
        false => banned(conn, group_id, person_id)
            .await?
            .map(|_| BanScope::Group),
    };
    match ban {
        Some(BanScope::Instance) => Err(CoreError::BannedFromInstance),
        Some(BanScope::Group) => Err(refused(ModerationRefusal::BannedFromGroup)),
        None => Ok(()),
    }
}

/// Refuses to put `author_id`'s post in the group `group_id` on their behalf — a moderator's
/// approval of their held post, a champion's move of it into another group — while they are
/// banned from the group or from the instance (`author_banned`), whoever they are: what they
/// may not write there, nobody writes there for them. Their standing is held as for their
/// own writes ([`ban_in_force`]): a ban with removal racing the write finds the post in the
/// group once it commits (a moved post is not in the group the removal reads until then).
pub(crate) async fn refuse_if_author_banned(
    conn: &mut Conn,
    group_id: i64,
    author_id: i64,
) -> Result<(), CoreError> {
    match ban_in_force(conn, group_id, author_id).await? {
        Some(_) => Err(refused(ModerationRefusal::AuthorBanned)),
        None => Ok(()),
    }
}

/// The stored ban (in force or lifted), for the activity that tells others of it.
pub async fn ban_record(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
) -> Result<Option<Ban>, CoreError> {
    Ok(store::ban_of(conn, group_id, person_id).await?)
}

/// Remembers the id of the Block that carried a ban, for its Undo.
pub async fn set_ban_activity(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
    ap_id: &str,
) -> Result<(), CoreError> {
    Ok(store::set_ban_ap_id(conn, group_id, person_id, ap_id).await?)
}

// ---- from other servers ----

/// A ban sent by a moderator of `group`: to a group of ours, by a moderator it lists; on our
/// copy of a group elsewhere (through that group's Announce), by a moderator on the group's
/// own server or listed here. Anyone else changes nothing (the reason is returned).
pub async fn receive_block(
    conn: &mut Conn,
    moderator: &cenacle_db::actors::PersonActor,
    group: &Group,
    person_id: i64,
    terms: &BanTerms,
    block_id: &str,
) -> Result<Result<(), &'static str>, CoreError> {
    if !may_moderate_remotely(conn, moderator, group).await? {
        return Ok(Err("not_a_moderator"));
    }
    match apply_ban(
        conn,
        group,
        Some(moderator.id),
        person_id,
        terms,
        Some(block_id),
    )
    .await
    {
        Ok(()) => Ok(Ok(())),
        Err(CoreError::ModerationRefused(refusal)) => Ok(Err(refusal.code())),
        Err(CoreError::Moderation(refusal)) => Ok(Err(refusal.code())),
        Err(e) => Err(e),
    }
}

/// An `Undo{Block}`, under the same rule as the Block.
pub async fn receive_unblock(
    conn: &mut Conn,
    moderator: &cenacle_db::actors::PersonActor,
    group: &Group,
    person_id: i64,
    undo_id: &str,
) -> Result<Result<(), &'static str>, CoreError> {
    if !may_moderate_remotely(conn, moderator, group).await? {
        return Ok(Err("not_a_moderator"));
    }
    match lift(conn, group, moderator.id, person_id, Some(undo_id)).await {
        Ok(()) => Ok(Ok(())),
        Err(CoreError::ModerationRefused(refusal)) => Ok(Err(refusal.code())),
        Err(e) => Err(e),
    }
}

/// Whether a person of another server moderates `group`: listed as its moderator here, or,
/// for a group elsewhere (whose Announce carried the activity), on the group's own server.
async fn may_moderate_remotely(
    conn: &mut Conn,
    moderator: &cenacle_db::actors::PersonActor,
    group: &Group,
) -> Result<bool, CoreError> {
    if moderator.local {
        return Ok(false);
    }
    if !group.local && moderator.instance_host.as_deref() == Some(group.instance_host.as_str()) {
        return Ok(true);
    }
    is_group_moderator(conn, group.id, moderator.id).await
}

/// What a ban removed, as the rewards see it: what it earned goes as a moderator's removal's
/// does (see `rewards::on_content_removed`).
pub(crate) fn removed_items(removed: &store::RemovedContent) -> Vec<crate::rewards::Gone> {
    removed
        .posts
        .iter()
        .chain(&removed.comments)
        .map(|item| match item.comment_id {
            Some(comment_id) => crate::rewards::Gone::Comment {
                post_id: item.post_id,
                comment_id,
            },
            None => crate::rewards::Gone::Post(item.post_id),
        })
        .collect()
}
