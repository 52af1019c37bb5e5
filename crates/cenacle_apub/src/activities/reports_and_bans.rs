//! Applying reports (`Flag`, `Resolve`) and bans (`Block`, `Undo{Block}`) received from other
//! servers, directly or announced by a group elsewhere, through the use cases of
//! `cenacle_core::reports` and `cenacle_core::group_bans`.

use super::{block::BlockUser, flag::Flag, flag::Resolve};
use crate::{objects::person::ApubPerson, queue::announce_to, ApubError, FedData};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};
use cenacle_core::{
    actors,
    group_bans::{self, Unblocked},
    identity,
    inbound::Outcome,
    model::{Group, PersonActor},
    reports::{self, IncomingFlag, RemoteOutcome, ResolvedFlag},
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

/// A report from another server lands in our moderation queue (`announced_by`: the group
/// elsewhere that forwarded it). A report about content in a group of ours is forwarded, as
/// Lemmy does, to the instances of its moderators elsewhere and of the content's author: the
/// group's `Announce` of the Flag, unchanged (LemmyNet/lemmy
/// `crates/apub/activities/src/community/report.rs`).
pub async fn apply_flag(
    conn: &mut Conn,
    data: &FedData,
    flag: &Flag,
    sender: &PersonActor,
    announced_by: Option<&Group>,
) -> Result<Outcome, CoreError> {
    if announced_by.is_some() && ours(data, sender, &flag.id) {
        // A group elsewhere must not plant a report "by" one of our members: their reports
        // leave from here, never come back through another server (as `announced_block`).
        return Ok(Outcome::Ignored("our_own_activity"));
    }
    let objects: Vec<String> = flag.object.iter().map(|u| u.to_string()).collect();
    let incoming = IncomingFlag {
        flag_id: flag.id.as_str(),
        objects: &objects,
        text: flag.reason(),
        announced_by,
    };
    let report_id = match reports::receive_flag(conn, sender, &incoming).await? {
        Ok(id) => id,
        Err(why) => return Ok(Outcome::Ignored(why)),
    };
    if announced_by.is_none() {
        forward_flag(conn, data, report_id, flag, sender).await?;
    }
    Ok(Outcome::Applied)
}

/// Whether an activity is our own: its actor one of our people, or its id on our host.
fn ours(data: &FedData, actor: &PersonActor, id: &Url) -> bool {
    let base = data.base();
    let our_host = cenacle_domain::origin::authority(&base);
    actor.local || cenacle_domain::origin::authority(id.as_str()).eq_ignore_ascii_case(our_host)
}

/// The group's `Announce{Flag}`, unchanged (Lemmy's shape), to its moderators' instances and
/// the content author's.
async fn forward_flag(
    conn: &mut Conn,
    data: &FedData,
    report_id: i64,
    flag: &Flag,
    sender: &PersonActor,
) -> Result<(), CoreError> {
    let Some(report) = reports::report_by_id(conn, report_id).await? else {
        return Ok(());
    };
    let Some((group, mut inboxes)) = reports::holders(conn, &report).await? else {
        return Ok(());
    };
    // The reporter's server has it already.
    let sender_host = sender.instance_host.as_deref().unwrap_or_default();
    inboxes.retain(|i| !cenacle_domain::origin::authority(i).eq_ignore_ascii_case(sender_host));
    announce_to(conn, data, &group, flag, inboxes).await
}

/// A moderator elsewhere resolved a report we sent (`announced_by`: the group whose
/// `Announce` carried the resolution).
pub async fn apply_resolve(
    conn: &mut Conn,
    data: &FedData,
    resolve: &Resolve,
    resolver: &PersonActor,
    announced_by: Option<&Group>,
) -> Result<Outcome, CoreError> {
    let Some(flag_id) = resolve.flag_id() else {
        return Ok(Outcome::Ignored("resolve_without_flag"));
    };
    let flag = resolve.flag();
    let objects: Vec<String> = flag
        .iter()
        .flat_map(|f| &f.object)
        .map(Url::to_string)
        .collect();
    let resolved_flag = ResolvedFlag {
        flag_id,
        actor: flag.as_ref().map(|f| f.actor.as_str()),
        objects: &objects,
        receiver: flag.as_ref().and_then(|f| f.to.first()).map(Url::as_str),
    };
    let reporting_actor = identity::urls::reporting_actor(&data.base());
    let resolved = reports::receive_resolution(
        conn,
        resolver,
        &resolved_flag,
        &reporting_actor,
        RemoteOutcome {
            dismissed: resolve.dismissed(),
            note: resolve.summary.as_deref(),
        },
        announced_by,
    )
    .await?;
    let closed = match resolved {
        Ok(closed) => closed,
        Err(why) => return Ok(Outcome::Ignored(why)),
    };
    for report in &closed {
        relay_resolution(conn, data, report, resolve, resolver).await?;
    }
    Ok(Outcome::Applied)
}

/// A listed moderator elsewhere resolved a report about our group's content: the group
/// relays their `Resolve`, unchanged (Lemmy's shape, as for the Flag), to the servers that
/// hold the report — the reporter's, and its moderators' elsewhere — but the resolver's own.
async fn relay_resolution(
    conn: &mut Conn,
    data: &FedData,
    report: &reports::Report,
    resolve: &Resolve,
    resolver: &PersonActor,
) -> Result<(), CoreError> {
    let Some((group, mut inboxes)) = reports::holders(conn, report).await? else {
        return Ok(());
    };
    if report.origin_host.is_some() {
        inboxes.extend(report.reporter_inbox.clone());
    }
    let resolver_host = resolver.instance_host.as_deref().unwrap_or_default();
    inboxes.retain(|i| !cenacle_domain::origin::authority(i).eq_ignore_ascii_case(resolver_host));
    inboxes.sort();
    inboxes.dedup();
    announce_to(conn, data, &group, resolve, inboxes).await
}

/// A ban (or its lifting, by the Undo `undo`) by a moderator: sent to a group of ours (`announced_by` None; then
/// relayed by the group), or announced by the group elsewhere that it concerns. With it,
/// whether an `undo` owes the person, a member of ours, their Follow of that group elsewhere
/// again: the ban lifted now, or found run out before the pass over bans that ran out sent it
/// (`group_bans::follow_owed_after_ban`). Never for a group of ours, nor for people of other
/// servers.
pub async fn apply_block(
    conn: &mut Conn,
    block: &BlockUser,
    moderator: &PersonActor,
    person: &PersonActor,
    undo: Option<&Url>,
    announced_by: Option<&Group>,
) -> Result<(Outcome, bool), CoreError> {
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
            _ => return Ok((Outcome::Ignored("not_for_our_groups"), false)),
        },
    };
    let mut follow_owed = false;
    let result = if let Some(undo_id) = undo {
        let unblocked =
            group_bans::receive_unblock(conn, moderator, &group, person.id, undo_id.as_str())
                .await?;
        match unblocked {
            Ok(Unblocked::Lifted) => {
                follow_owed = !group.local && person.local;
                Ok(())
            }
            // Acknowledged, nothing to relay. (It ran out: its Follow is owed only if the pass
            // over bans that ran out has not sent it.)
            Ok(Unblocked::NotInForce) => {
                follow_owed = !group.local
                    && person.local
                    && group_bans::follow_owed_after_ban(conn, group.id, person.id).await?;
                Err("not_banned")
            }
            Err(why) => Err(why),
        }
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
    // The ban took the person's follow of the group: their server, which may have followed
    // it through them alone, gets the relay all the same (`Outcome::AppliedInOurGroup`).
    let applied = if group.local {
        Outcome::AppliedInOurGroup {
            group: Box::new(group),
            new_post: None,
            also_inbox: person.server_inbox().map(str::to_owned),
        }
    } else {
        Outcome::Applied
    };
    Ok((outcome(result, applied), follow_owed))
}
