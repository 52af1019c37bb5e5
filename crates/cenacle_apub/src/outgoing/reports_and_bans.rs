//! Reports and bans leaving: a member's report as a `Flag` to the servers of the group and of
//! the reported person (in our reporting actor's name unless the reporter shares theirs); a
//! resolution as `Resolve` to the server the report came from; a ban from a group of ours
//! as a `Block` (its lifting as `Undo{Block}`), announced by the group to its followers and
//! sent to the banned person's server (announced there too when the ban took the last
//! follow of the group on it).

use super::relay_reaching;
use crate::{
    activities::flag::ResolveType,
    activities::{
        block::{new_block_id, UndoBlock},
        BlockUser, Flag, Resolve,
    },
    context::with_context,
    queue::{announce_to, send},
    vocabulary::new_activity_id,
    ApubError, FedData,
};
use activitypub_federation::{config::Data, kinds::activity::FlagType};
use cenacle_core::{
    actors,
    group_bans::{self, BanTerms},
    identity, people,
    reports::{self, Report},
    Conn,
};
use cenacle_domain::reports::{outgoing_reason, ReportStatus};
use url::Url;

fn url(s: &str) -> Result<Url, ApubError> {
    Url::parse(s).map_err(ApubError::internal)
}

/// The Flag of `report`, sent by `actor` with id `id`, in the shape Lemmy and Mastodon both
/// read: `object` = [the person, the post or comment] (Mastodon's shape, which Lemmy reads
/// too), `to` = exactly one receiver (Lemmy dereferences `to[0]` as a community or a site):
/// the group for content in one, else — a report about a person — the person's instance's
/// root URL (Mastodon ignores `to`). Lemmy cannot take a report about a person alone: what
/// it reports is a post, a comment, a community or a private message (its
/// `ReportableObjects`), so it refuses such a Flag; Mastodon and servers like ours read it.
fn flag_of(report: &Report, id: Url, actor: Url) -> Result<Flag, ApubError> {
    let person = url(report.target_ap_id.as_deref().unwrap_or_default())?;
    let mut object = vec![person.clone()];
    if let Some(content) = &report.object_ap_id {
        object.push(url(content)?);
    }
    let group = report.group_ap_id.as_deref().map(url).transpose()?;
    let receiver = match (&group, &report.object_ap_id) {
        (Some(group), Some(_)) => group.clone(),
        _ => person.join("/").map_err(ApubError::internal)?,
    };
    let reason = outgoing_reason(&report.reason_code, &report.body);
    Ok(Flag {
        kind: FlagType::Flag,
        id,
        actor,
        object,
        to: vec![receiver],
        summary: Some(reason.clone()),
        content: Some(reason),
        audience: group.filter(|_| report.object_ap_id.is_some()),
    })
}

/// Who sends the Flag of `report`: the reporter when they agreed to be named (a report from
/// elsewhere keeps its own sender), else our reporting actor (a `Service`: Lemmy refuses a
/// Flag from our `Application` instance actor).
fn flag_sender(report: &Report, data: &FedData) -> Result<Url, ApubError> {
    match (&report.reporter_ap_id, report.share_identity) {
        (Some(reporter), true) => url(reporter),
        _ => url(&identity::urls::reporting_actor(&data.base())),
    }
}

/// A member's report leaves for the servers that hold what it reports, and — about content
/// in a group of ours — for the instances of the group's moderators elsewhere, announced by
/// the group (as Lemmy forwards reports to its remote moderators).
pub async fn report_filed(
    conn: &mut Conn,
    data: &Data<FedData>,
    report_id: i64,
) -> Result<(), ApubError> {
    let Some(report) = reports::report_by_id(conn, report_id).await? else {
        return Ok(());
    };
    if report.origin_host.is_some() {
        return Ok(());
    }
    let mut inboxes = Vec::new();
    if report.group_local == Some(false) {
        inboxes.extend(report.group_inbox.clone());
    }
    if !report.target_local {
        inboxes.extend(report.target_inbox.clone());
    }
    let holders = reports::holders(conn, &report).await?;
    if inboxes.is_empty() && holders.as_ref().is_none_or(|(_, h)| h.is_empty()) {
        return Ok(());
    }
    let flag = flag_of(
        &report,
        new_activity_id(data, "flag"),
        flag_sender(&report, data)?,
    )?;
    reports::set_flag_id(conn, report.id, flag.id.as_str()).await?;
    if let Some((group, mut announced_to)) = holders {
        // A server sent the Flag itself (the author's) does not get it twice.
        announced_to.retain(|i| !inboxes.contains(i));
        announce_to(conn, data, &group, &flag, announced_to).await?;
    }
    if !inboxes.is_empty() {
        send(conn, data, &flag.id, &flag.actor, &flag, inboxes).await?;
    }
    Ok(())
}

/// A report was resolved or dismissed here: every server that holds it learns it (Lemmy's
/// `Resolve` of the Flag, with our note) — the reporter's, when it came from elsewhere, so
/// that the reporter sees the outcome there; the group's, when it is elsewhere and the
/// resolver one of its listed moderators; and, for content in a group of ours, the
/// instances of its moderators elsewhere, through the group's `Announce`, so that the report
/// leaves their queues too.
pub async fn report_closed(
    conn: &mut Conn,
    data: &Data<FedData>,
    resolver_id: Option<i64>,
    report_id: i64,
) -> Result<(), ApubError> {
    let Some(report) = reports::report_by_id(conn, report_id).await? else {
        return Ok(());
    };
    // The Flag the others hold: the one received, or the one we sent.
    let Some(flag_id) = &report.ap_id else {
        return Ok(());
    };
    let Some(resolver) = local_actor(conn, resolver_id).await? else {
        return Ok(());
    };
    let flag = flag_of(&report, url(flag_id)?, flag_sender(&report, data)?)?;
    let resolve = Resolve {
        kind: ResolveType::Resolve,
        id: new_activity_id(data, "resolve"),
        actor: resolver.clone(),
        to: flag.to.clone(),
        audience: flag.audience.clone(),
        summary: report.resolution_note.clone().filter(|n| !n.is_empty()),
        object: serde_json::to_value(&flag).map_err(ApubError::internal)?,
        outcome: ReportStatus::parse(&report.status).and_then(Resolve::outcome_of),
    };
    let reporter_inbox = report
        .reporter_inbox
        .clone()
        .filter(|_| report.origin_host.is_some());
    let reporter_host = reporter_inbox
        .as_deref()
        .map(cenacle_domain::origin::authority)
        .unwrap_or_default()
        .to_owned();
    // A group elsewhere that lists the resolver as its moderator hears it too: its server
    // closes its copy and relays the resolution to the others that hold the report.
    let mut direct: Vec<String> = reporter_inbox.into_iter().collect();
    direct.extend(reports::resolution_for_group(conn, &report).await?);
    direct.dedup();
    if !direct.is_empty() {
        send(conn, data, &resolve.id, &resolver, &resolve, direct).await?;
    }
    if let Some((group, mut moderator_inboxes)) = reports::holders(conn, &report).await? {
        // The reporter's server has it already.
        moderator_inboxes
            .retain(|i| !cenacle_domain::origin::authority(i).eq_ignore_ascii_case(&reporter_host));
        announce_to(conn, data, &group, &resolve, moderator_inboxes).await?;
    }
    Ok(())
}

/// The ActivityPub id of a local person, by id.
async fn local_actor(conn: &mut Conn, person_id: Option<i64>) -> Result<Option<Url>, ApubError> {
    let Some(id) = person_id else {
        return Ok(None);
    };
    let person = people::person_by_id(conn, id).await?;
    Ok(person
        .ap_id
        .filter(|_| person.local)
        .and_then(|a| Url::parse(&a).ok()))
}

/// A ban from a group of ours (or its lifting) leaves: announced by the group to the
/// instances that follow it, and sent to the banned person's inbox, with the group's
/// Announce of it when no follower of the group is left on their server.
pub async fn ban_changed(
    conn: &mut Conn,
    data: &Data<FedData>,
    moderator_id: Option<i64>,
    group_id: i64,
    person_id: i64,
    lifted: bool,
) -> Result<(), ApubError> {
    let Some(group) = actors::group_by_id(conn, group_id)
        .await?
        .filter(|g| g.local)
    else {
        return Ok(());
    };
    let Some(ban) = group_bans::ban_record(conn, group_id, person_id).await? else {
        return Ok(());
    };
    let Some(moderator) = local_actor(conn, moderator_id).await? else {
        return Ok(());
    };
    let person = people::person_by_id(conn, person_id).await?;
    let Some(person_url) = person.ap_id.as_deref().map(url).transpose()? else {
        return Ok(());
    };
    let terms = BanTerms {
        reason: ban.reason.clone(),
        expires_at: ban.expires_at,
        remove_data: ban.remove_data,
    };
    let group_url = url(&group.ap_id)?;
    let (id, activity) = if lifted {
        // The Undo embeds the Block it lifts, with the lifting moderator as its actor (an
        // Undo undoes only its own actor's activity).
        let block_id = match ban.ap_id.as_deref() {
            Some(id) => url(id)?,
            None => new_block_id(data),
        };
        let block = BlockUser::new(block_id, moderator.clone(), person_url, group_url, &terms);
        let undo = UndoBlock::new(new_activity_id(data, "undo"), block);
        (undo.id.clone(), serde_json::to_value(&undo))
    } else {
        let block = BlockUser::new(
            new_block_id(data),
            moderator.clone(),
            person_url,
            group_url,
            &terms,
        );
        group_bans::set_ban_activity(conn, group_id, person_id, block.id.as_str()).await?;
        (block.id.clone(), serde_json::to_value(&block))
    };
    let activity = activity.map_err(ApubError::internal)?;
    let full = serde_json::to_value(with_context(&activity)).map_err(ApubError::internal)?;
    let inbox = person.server_inbox();
    relay_reaching(conn, data, &group, full, inbox).await?;
    if let Some(inbox) = inbox {
        send(conn, data, &id, &moderator, &activity, [inbox.to_owned()]).await?;
    }
    Ok(())
}
