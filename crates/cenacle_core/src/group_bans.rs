//! Bans from a group: a moderator bans a person (of this instance or another) from a group
//! of ours, for a time or for good, optionally removing what they wrote there; a banned
//! person can no longer post or comment in it (checked by the post and comment use cases,
//! for members here and for activities from other servers alike), nor join it, ask to, use
//! an invitation to it or file a report in it. A ban ends by itself when it expires: it is
//! read at use time, so no job has to lift it.
//!
//! A ban also puts the person out of the group, as Lemmy's ban unsubscribes them: their
//! membership, their pending request to join and their invitation go with it, and none
//! comes back when the ban ends (they join or ask again, like anyone).

use crate::{
    access::is_group_moderator,
    ban_checks::banned,
    federation::record_event,
    moderation::require_group_moderator,
    moderation_log::{self, NewModAction},
    Caller, Conn, CoreError,
};
use cenacle_db::{
    actors::{self, Group},
    content as membership_store,
    federation::OutboxEvent,
    groups as group_store,
    reports::{self as store, NewBan},
};
use cenacle_domain::{
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
    let person = actors::person_by_id(conn, person_id)
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
    // Again now that their standing is held: a promotion (`moderation::set_member_role`,
    // which holds it too) that committed while this waited made them a moderator, whom no
    // ban reaches.
    if is_group_moderator(conn, group.id, person_id).await? {
        return Err(refused(ModerationRefusal::CannotBanModerator));
    }
    // A removal reads the group's content as it stands: a champion's move bringing a post
    // into the group, with comments of this person's (whose standing the move does not hold:
    // it holds the group against bans with removal instead), commits first and the removal
    // finds them; one that starts after waits for the ban and removes them with the move
    // (`champions::tool_move`). The order (see `hold_group_bans_with_removal_for_ban`): their
    // standing, then this, then rows; nothing written yet. Only our groups: nothing is moved
    // into a group elsewhere.
    if terms.remove_data && group.local {
        cenacle_db::federation::hold_group_bans_with_removal_for_ban(conn, group.id).await?;
    }
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
    put_out_of(conn, group, &person).await?;
    if terms.remove_data {
        let removed = store::remove_content_of(conn, group.id, person_id, &reason).await?;
        let gone = removed_items(&removed);
        // Our moderator's ban may not take down a question whose running bounty they sponsor
        // (or their own, banning themselves): it would hand them the escrow back.
        if let (Some(moderator), None) = (by, ap_id) {
            crate::bounties::refuse_removal_by(conn, &gone, moderator).await?;
        }
        crate::rewards::on_content_removed(conn, &gone).await?;
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

/// Takes a person just banned out of the group: their membership, their pending request to
/// join (no moderator may approve it any more, see `ban_checks::refuse_if_person_banned`),
/// their invitation, and, from a group of ours, the follow of a person of another server (as
/// Lemmy's ban unsubscribes them): the group's Announces no longer go to their server through
/// it. Under the ban's hold of their standing: a join, request, use of an invitation or Follow
/// that read "not banned" committed before (and is undone here); one that reads after waits
/// and is refused.
///
/// On our copy of a group elsewhere, a member of ours keeps their follow: the group's server
/// dropped it on its side (it sent the ban), and ours is what makes us mirror what the group
/// announces (`federation::followed_here`), its `Undo{Block}` lifting the ban included — on
/// which their Follow is sent again (`federation::renew_follow`), for the group's server to
/// take them back among its followers.
///
/// Their server still learns of the ban, though it may have followed the group through them
/// alone: `cenacle_apub::outgoing::reports_and_bans::ban_changed` sends the `Block` to their
/// own inbox, and the group's `Announce` of it (which a server applies to its copy of the
/// group) there too when no follower is left on their server to carry it (the same for the
/// `Undo` that lifts it).
///
/// A certificate that let them in (`certificate.granted_group`) no longer holds that
/// membership: it is gone, and one they get back once the ban ends is theirs, which no expiry
/// of the certificate takes.
///
/// A plain member's membership only: a moderator or the owner cannot be banned (read again
/// under the hold, see `apply_ban`); the filter is a safeguard.
async fn put_out_of(
    conn: &mut Conn,
    group: &Group,
    person: &cenacle_db::actors::PersonActor,
) -> Result<(), CoreError> {
    let (group_id, person_id) = (group.id, person.id);
    membership_store::remove_plain_membership(conn, group_id, person_id).await?;
    group_store::take_join_request(conn, group_id, person_id).await?;
    group_store::take_invitation(conn, group_id, person_id).await?;
    if let Some(follower) = person.ap_id.as_deref().filter(|_| group.local) {
        cenacle_db::federation::delete_follow(conn, &group.ap_id, follower).await?;
    }
    cenacle_db::training::forget_granted_group(conn, person_id, group_id).await?;
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

/// What a received `Undo{Block}` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unblocked {
    /// The ban stood; it is lifted now.
    Lifted,
    /// No ban was in force (it ran out, and nobody sends the Undo of a ban that ran out:
    /// Lemmy neither; or it was lifted already). The ban itself is left as it is; whether a
    /// member of ours owes their group elsewhere a Follow is [`follow_owed_after_ban`]'s.
    NotInForce,
}

/// A member of ours's ban from the group elsewhere `group_id` was found no longer in force by
/// its `Undo{Block}` ([`Unblocked::NotInForce`]): whether their Follow is owed now, once (the
/// pass over bans that ran out may have sent it already; see
/// `cenacle_db::reports::follow_owed_after_ban`).
pub async fn follow_owed_after_ban(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
) -> Result<bool, CoreError> {
    Ok(store::follow_owed_after_ban(conn, group_id, person_id).await?)
}

/// An `Undo{Block}`, under the same rule as the Block.
pub async fn receive_unblock(
    conn: &mut Conn,
    moderator: &cenacle_db::actors::PersonActor,
    group: &Group,
    person_id: i64,
    undo_id: &str,
) -> Result<Result<Unblocked, &'static str>, CoreError> {
    if !may_moderate_remotely(conn, moderator, group).await? {
        return Ok(Err("not_a_moderator"));
    }
    match lift(conn, group, moderator.id, person_id, Some(undo_id)).await {
        Ok(()) => Ok(Ok(Unblocked::Lifted)),
        Err(CoreError::ModerationRefused(ModerationRefusal::NotBanned)) => {
            Ok(Ok(Unblocked::NotInForce))
        }
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
