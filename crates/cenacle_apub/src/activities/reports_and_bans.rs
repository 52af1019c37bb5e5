//! Applying reports (`Flag`, `Resolve`) and bans (`Block`, `Undo{Block}`) received from other
//! servers, directly or announced by a group elsewhere, through the use cases of
//! `cenacle_core::reports` and `cenacle_core::group_bans`.

use super::{block::BlockUser, flag::Flag, flag::Resolve};
use crate::{objects::person::ApubPerson, ApubError, FedData};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};
use cenacle_core::{
    actors, group_bans,
    inbound::Outcome,
    model::{Group, PersonActor},
    reports::{self, IncomingFlag},
    Conn, CoreError,
};
use cenacle_domain::origin::Forgery;
use url::Url;

/// The person a Block bans (fetched when unknown, before the transaction).
pub async fn banned_person(
    data: &Data<FedData>,
    block: &BlockUser,
) -> Result<PersonActor, ApubError> {
    let person: ApubPerson = ObjectId::<ApubPerson>::from(block.object.clone())
        .dereference(data)
        .await?;
    Ok(person.row)
}

fn outcome(result: Result<(), &'static str>, applied: Outcome) -> Outcome {
    match result {
        Ok(()) => applied,
        Err(why) => Outcome::Ignored(why),
    }
}

/// A report from another server lands in our moderation queue.
pub async fn apply_flag(
    conn: &mut Conn,
    flag: &Flag,
    sender: &PersonActor,
) -> Result<Outcome, CoreError> {
    let objects: Vec<String> = flag.object.iter().map(|u| u.to_string()).collect();
    let incoming = IncomingFlag {
        flag_id: flag.id.as_str(),
        objects: &objects,
        text: flag.reason(),
    };
    let stored = reports::receive_flag(conn, sender, &incoming).await?;
    Ok(outcome(stored.map(|_| ()), Outcome::Applied))
}

/// A moderator elsewhere resolved a report we sent.
pub async fn apply_resolve(
    conn: &mut Conn,
    resolve: &Resolve,
    resolver: &PersonActor,
) -> Result<Outcome, CoreError> {
    let Some(flag_id) = resolve.flag_id() else {
        return Ok(Outcome::Ignored("resolve_without_flag"));
    };
    let resolved =
        reports::receive_resolution(conn, resolver, flag_id, resolve.summary.as_deref()).await?;
    Ok(outcome(resolved, Outcome::Applied))
}

/// A ban (or its lifting, by the Undo `undo`) by a moderator: sent to a group of ours (`announced_by` None; then
/// relayed by the group), or announced by the group elsewhere that it concerns.
pub async fn apply_block(
    conn: &mut Conn,
    block: &BlockUser,
    moderator: &PersonActor,
    person: &PersonActor,
    undo: Option<&Url>,
    announced_by: Option<&Group>,
) -> Result<Outcome, CoreError> {
    let group = match announced_by {
        Some(group) => {
            if block.target.as_str() != group.ap_id {
                return Err(CoreError::Forged(Forgery::NotTheGroupsContent));
            }
            group.clone()
        }
        None => match actors::group_by_ap_id(conn, block.target.as_str()).await? {
            Some(group) if group.local => group,
            // A group elsewhere changes through its own Announce.
            _ => return Ok(Outcome::Ignored("not_for_our_groups")),
        },
    };
    let result = if let Some(undo_id) = undo {
        group_bans::receive_unblock(conn, moderator, &group, person.id, undo_id.as_str()).await?
    } else {
        let terms = block.terms();
        group_bans::receive_block(
            conn,
            moderator,
            &group,
            person.id,
            &terms,
            block.id.as_str(),
        )
        .await?
    };
    let applied = if group.local {
        Outcome::AppliedInOurGroup {
            group: Box::new(group),
            new_post: None,
        }
    } else {
        Outcome::Applied
    };
    Ok(outcome(result, applied))
}
