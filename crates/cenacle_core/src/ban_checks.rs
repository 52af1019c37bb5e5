//! Whether a person is banned from a group (or from the instance) now, and the refusals that
//! follow from it, read by every way into a group: a post, comment, vote, join, request,
//! invitation, approval, role given or raised, remote `Add` of a moderator, enrolment,
//! certificate, move, report and a remote Follow. Read-only: the bans themselves are
//! given and lifted in `group_bans`, which asks here too. Kept apart so that what only reads a
//! ban (federation's follow, the group use cases) need not import what writes one (which
//! records outbox events through `federation`).

use crate::{Caller, Conn, CoreError};
use cenacle_db::reports::{self as store, BanRow};
use cenacle_domain::{group_bans, reports::ModerationRefusal};
use chrono::Utc;

fn refused(refusal: ModerationRefusal) -> CoreError {
    CoreError::ModerationRefused(refusal)
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
    if banned_from_instance_held(conn, person_id).await? {
        return Ok(Some(BanScope::Instance));
    }
    Ok(banned(conn, group_id, person_id)
        .await?
        .map(|_| BanScope::Group))
}

/// Holds the standing of the caller, a member of ours, for reading (shared, bounded, as
/// [`ban_in_force`] does when it reads their bans, which takes it again at once), for a write
/// that locks a row before it reads their bans: standings come before rows in every
/// transaction (see `hold_group_bans_with_removal_for_ban`), so that the row's lock is never
/// held while waiting for a ban that waits for the row. A person of another server is held
/// by the inbox, which took their standing before anything else (by actor id,
/// `instance_moderation::activity_kept_out`): callers acting for one must come through it.
pub async fn hold_standing(conn: &mut Conn, caller: &Caller) -> Result<(), CoreError> {
    if caller.is_local() {
        cenacle_db::federation::hold_person_standing_for_reading_by_id(conn, caller.person_id)
            .await?;
    }
    Ok(())
}

/// Whether `person_id` is banned from the group or from the instance now, their standing held
/// ([`ban_in_force`]): for what lets them in as a side effect (`groups::admit_unless_banned`),
/// which skips the membership rather than refuse.
pub async fn banned_held(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
) -> Result<bool, CoreError> {
    Ok(ban_in_force(conn, group_id, person_id).await?.is_some())
}

/// Whether `person_id` is banned from the instance now, their standing held first (shared,
/// bounded, as in [`ban_in_force`]) so that an instance ban waits for the caller's write.
async fn banned_from_instance_held(conn: &mut Conn, person_id: i64) -> Result<bool, CoreError> {
    cenacle_db::federation::hold_person_standing_for_reading_by_id(conn, person_id).await?;
    Ok(cenacle_db::instance_moderation::active_ban(conn, person_id)
        .await?
        .is_some())
}

/// Refuses a banned caller: from the group (`banned_from_group`), and a member of ours from
/// the instance too (`banned_from_instance`). The post, comment, vote and rating use cases ask
/// here before they write, the champions' tools before they act in a group, a join (or a
/// request to join, or the use of an invitation) before it lets the caller in, and a report
/// before it is filed in the group.
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

/// Refuses a member of ours banned from the instance (`banned_from_instance`), for what they
/// do outside any group (a report about a person to the instance's moderators). Their
/// session was checked when the request began; the hold of their standing
/// ([`banned_from_instance_held`]) closes the gap to a ban committed since, as
/// [`refuse_if_banned`] does in a group. A person of another server had their instance ban
/// read by the inbox (`instance_moderation::activity_kept_out`): nothing more to read.
pub async fn refuse_if_banned_from_instance(
    conn: &mut Conn,
    caller: &Caller,
) -> Result<(), CoreError> {
    if caller.is_local() && banned_from_instance_held(conn, caller.person_id).await? {
        return Err(CoreError::BannedFromInstance);
    }
    Ok(())
}

/// Refuses to put `author_id`'s post in the group `group_id` on their behalf — a moderator's
/// approval of their held post, a champion's move of it into another group — while they are
/// banned from the group or from the instance (`author_banned`), whoever they are: what they
/// may not write there, nobody writes there for them. Their standing is held as for their
/// own writes ([`ban_in_force`]): a ban with removal racing the write finds the post in the
/// group once it commits (a moved post is not in the group the removal reads until then).
pub async fn refuse_if_author_banned(
    conn: &mut Conn,
    group_id: i64,
    author_id: i64,
) -> Result<(), CoreError> {
    refuse_on_behalf_if_banned(conn, group_id, author_id, ModerationRefusal::AuthorBanned).await
}

/// Refuses to let `person_id` into the group `group_id`, or up in it, on a moderator's say —
/// an approval of their request to join, an invitation, a remote moderator's `Add` of them to
/// the moderators of a group of ours — while they are banned from the group or from the
/// instance (`person_banned`): a ban puts them out (see `group_bans::put_out_of`), and nobody
/// lets them back in while it lasts. (A role given by an owner, `moderation::set_member_role`,
/// reads [`banned_held`] and refuses the same way only when it lets them in or raises them.)
/// Their standing is held as for their own join: a ban racing the approval waits for it and
/// then takes the membership it made.
pub async fn refuse_if_person_banned(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
) -> Result<(), CoreError> {
    refuse_on_behalf_if_banned(conn, group_id, person_id, ModerationRefusal::PersonBanned).await
}

/// `refusal` when `person_id` is banned from the group or the instance, their standing held
/// ([`ban_in_force`]): what someone else does in their name or for them.
async fn refuse_on_behalf_if_banned(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
    refusal: ModerationRefusal,
) -> Result<(), CoreError> {
    match ban_in_force(conn, group_id, person_id).await? {
        Some(_) => Err(refused(refusal)),
        None => Ok(()),
    }
}
