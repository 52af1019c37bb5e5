//! Reports: a member reports a post, a comment or a person, with one of the reasons the group
//! offers and their own words; the report waits in the moderation queue of the group's
//! moderators (and of the instance's moderators and admins, for a person, or for a group
//! whose moderators are on another server), who resolve or dismiss it with a note. The
//! reporter follows its outcome. Reports about content held elsewhere leave as a `Flag`
//! (outbox event `ReportFiled`); a resolution goes back as `Resolve` (`ReportClosed`).

use crate::{
    access::{comment_held, post_held, readable_post},
    federation::record_event,
    group_bans::{self, BanTerms},
    moderation::require_group_moderator,
    moderation_log::{self, NewModAction},
    notifications::{self, Notice},
    Caller, Conn, CoreError,
};
use cenacle_db::{
    actors::{self, Group},
    content::{self as content_store, PostHold},
    federation::OutboxEvent,
    groups as group_store,
    reports::{self as store, NewReport, ReportFilter},
};
use cenacle_domain::{
    moderation::{check_reason, ModAction},
    notifications::Kind,
    reports::{self as rules, ModerationRefusal, ReportError, ReportStatus},
    Role,
};

pub use cenacle_db::reports::ReportRow as Report;

/// What is reported.
#[derive(Debug, Clone, Copy)]
pub enum ReportTarget {
    Post(i64),
    Comment(i64),
    /// A person, in a group of ours when given (its moderators see it too).
    Person {
        person_id: i64,
        group_id: Option<i64>,
    },
}

/// A member's report.
#[derive(Debug, Clone)]
pub struct NewReportInput {
    pub target: ReportTarget,
    pub reason: String,
    pub text: String,
    /// The reporter agrees that their name goes with the report to other servers (else our
    /// instance actor sends it).
    pub share_identity: bool,
}

/// One reason a group offers. The defaults carry both languages; a group's own list is
/// written in the group's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: String,
    pub label: String,
    pub label_fr: Option<String>,
}

fn from_report_error(err: ReportError) -> CoreError {
    match err {
        ReportError::Refused(r) => CoreError::ModerationRefused(r),
        ReportError::Invalid(v) => CoreError::Validation(v),
    }
}

/// The reasons `group` offers: its own list, else the defaults.
pub async fn reasons_of(conn: &mut Conn, group_id: Option<i64>) -> Result<Vec<Reason>, CoreError> {
    let own = match group_id {
        Some(id) => store::group_reasons(conn, id).await?,
        None => vec![],
    };
    Ok(if own.is_empty() {
        rules::DEFAULT_REASONS
            .iter()
            .map(|(code, en, fr)| Reason {
                code: (*code).into(),
                label: (*en).into(),
                label_fr: Some((*fr).into()),
            })
            .collect()
    } else {
        own.into_iter()
            .map(|(code, label)| Reason {
                code,
                label,
                label_fr: None,
            })
            .collect()
    })
}

async fn offered_codes(conn: &mut Conn, group_id: Option<i64>) -> Result<Vec<String>, CoreError> {
    Ok(reasons_of(conn, group_id)
        .await?
        .into_iter()
        .map(|r| r.code)
        .collect())
}

/// The reasons of a local group (anyone who may see it).
pub async fn reasons(
    conn: &mut Conn,
    caller: Option<&Caller>,
    group_name: &str,
) -> Result<Vec<Reason>, CoreError> {
    let group =
        crate::access::readable_local_group(conn, group_name, crate::access::Reader::from(caller))
            .await?;
    reasons_of(conn, Some(group.id)).await
}

/// The group's moderators replace its list of reasons.
pub async fn set_reasons(
    conn: &mut Conn,
    caller: &Caller,
    group_name: &str,
    list: &[(String, String)],
) -> Result<Vec<Reason>, CoreError> {
    rules::validate_reason_list(list)?;
    let group = local_group(conn, group_name).await?;
    require_group_moderator(conn, &group, caller).await?;
    store::replace_group_reasons(conn, group.id, list).await?;
    reasons_of(conn, Some(group.id)).await
}

async fn local_group(conn: &mut Conn, name: &str) -> Result<Group, CoreError> {
    actors::local_group_by_name(conn, name)
        .await?
        .ok_or(CoreError::NotFound("group"))
}

/// What a report is about, found as the reporter may see it: the group it belongs to (when
/// any), the person reported, and the post or comment.
struct Resolved {
    group: Option<Group>,
    person_id: i64,
    post_id: Option<i64>,
    comment_id: Option<i64>,
}

/// How [`resolve_target`] reads a reported post (or a reported comment's).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// As it is now, for what the report form offers.
    Now,
    /// Held in its group (FOR KEY SHARE, after the reporter's standing) until the report
    /// commits, for filing it: see [`file`].
    Held,
}

async fn resolve_target(
    conn: &mut Conn,
    caller: &Caller,
    target: ReportTarget,
    reading: Reading,
) -> Result<Resolved, CoreError> {
    Ok(match target {
        ReportTarget::Post(id) => {
            let (post, group) = match reading {
                Reading::Now => {
                    let found = readable_post(conn, Some(caller), id).await?;
                    (found.post, found.group)
                }
                Reading::Held => {
                    let (post, group, _) =
                        post_held(conn, caller, id, PostHold::InItsGroup).await?;
                    (post, group)
                }
            };
            Resolved {
                group: Some(group),
                person_id: post.author_id,
                post_id: Some(id),
                comment_id: None,
            }
        }
        ReportTarget::Comment(id) => {
            let (comment, group) = match reading {
                Reading::Now => {
                    let comment = content_store::comment_by_id(conn, id)
                        .await?
                        .filter(|c| c.deleted_at.is_none())
                        .ok_or(CoreError::NotFound("comment"))?;
                    // Unreadable: as a missing comment (see `access::comment_held`).
                    let found = readable_post(conn, Some(caller), comment.post_id)
                        .await
                        .map_err(crate::access::as_missing("comment"))?;
                    (comment, found.group)
                }
                Reading::Held => {
                    let (comment, _, group, _) =
                        comment_held(conn, caller, id, PostHold::InItsGroup).await?;
                    (comment, group)
                }
            };
            Resolved {
                group: Some(group),
                person_id: comment.author_id,
                post_id: None,
                comment_id: Some(id),
            }
        }
        ReportTarget::Person {
            person_id,
            group_id,
        } => {
            actors::person_by_id(conn, person_id)
                .await?
                .ok_or(CoreError::NotFound("person"))?;
            let group = match group_id {
                Some(id) => Some(
                    actors::group_by_id(conn, id)
                        .await?
                        .ok_or(CoreError::NotFound("group"))?,
                ),
                None => None,
            };
            Resolved {
                group,
                person_id,
                post_id: None,
                comment_id: None,
            }
        }
    })
}

/// The reasons a member may give for reporting `target` (those of its group), once it is
/// known they may see it: what the report form offers.
pub async fn reasons_for(
    conn: &mut Conn,
    caller: &Caller,
    target: ReportTarget,
) -> Result<Vec<Reason>, CoreError> {
    let found = resolve_target(conn, caller, target, Reading::Now).await?;
    reasons_of(conn, found.group.map(|g| g.id)).await
}

/// A member files a report. Content must be readable by them; the reason must be one the
/// group offers.
///
/// Not by someone banned from the report's group (`banned_from_group`), as Lemmy refuses a
/// report from a person banned from the community: the ban is the moderators' answer about
/// them there, and their reports would reopen it in the queue. A person banned from a group
/// may still report a person (without the group) to the instance's moderators. A member of
/// ours banned from the instance is refused whatever they report (`banned_from_instance`).
/// Both are read under the reporter's standing (`group_bans`), as their posts read them.
///
/// The reported post (a reported comment's) is held in its group from before its group is
/// read until the report commits (`PostHold::InItsGroup`, FOR KEY SHARE: the lock the
/// report's reference to it takes anyway, taken earlier), so that the report lands in the
/// queue of the group the post is in when it commits, and is checked against that group's
/// bans and reasons. A champion's move being written (FOR UPDATE) is waited for and the post
/// then read in its new group; a move that starts later waits for the report. Without it, a
/// report filed while a move was written read the old group, waited for the move at its
/// insert, and landed in the queue of moderators the post no longer has. Replies and votes do
/// not wait for it (their holds share it).
pub async fn file(
    conn: &mut Conn,
    caller: &Caller,
    input: &NewReportInput,
) -> Result<Report, CoreError> {
    let Resolved {
        group,
        person_id: person,
        post_id: post,
        comment_id: comment,
    } = resolve_target(conn, caller, input.target, Reading::Held).await?;
    let group_id = group.as_ref().map(|g| g.id);
    match group_id {
        Some(group_id) => crate::ban_checks::refuse_if_banned(conn, group_id, caller).await?,
        None => crate::ban_checks::refuse_if_banned_from_instance(conn, caller).await?,
    }
    let offered = offered_codes(conn, group_id).await?;
    rules::check_report(&input.reason, &input.text, &offered).map_err(from_report_error)?;
    let id = store::insert_report(
        conn,
        &NewReport {
            group_id,
            reporter_id: caller.person_id,
            share_identity: input.share_identity,
            target_person_id: person,
            target_post_id: post,
            target_comment_id: comment,
            reason_code: &input.reason,
            body: input.text.trim(),
            ap_id: None,
            origin_host: None,
            forwarded_by_group_id: None,
        },
    )
    .await?
    .ok_or(CoreError::Internal("report not stored".into()))?;
    record_event(conn, caller, OutboxEvent::ReportFiled(id)).await?;
    by_id(conn, id).await
}

async fn by_id(conn: &mut Conn, id: i64) -> Result<Report, CoreError> {
    store::report_by_id(conn, id)
        .await?
        .ok_or(CoreError::NotFound("report"))
}

/// Who must hear of a report about content in a group of ours, beyond the reporter's server:
/// the instances of the group's moderators elsewhere and, when the content's author is
/// elsewhere, the author's — the servers that hold it once filed, and must learn its outcome
/// (as Lemmy forwards a report). None for any other report.
pub async fn holders(
    conn: &mut Conn,
    report: &Report,
) -> Result<Option<(Group, Vec<String>)>, CoreError> {
    let Some(group_id) = report.group_id.filter(|_| report.group_local == Some(true)) else {
        return Ok(None);
    };
    if report.object_ap_id.is_none() {
        return Ok(None);
    }
    let Some(group) = actors::group_by_id(conn, group_id).await? else {
        return Ok(None);
    };
    let mut inboxes = group_store::remote_moderator_inboxes(conn, group.id).await?;
    if !report.target_local {
        inboxes.extend(report.target_inbox.clone());
    }
    Ok(Some((group, inboxes)))
}

/// A report by id, for the delivery side.
pub async fn report_by_id(conn: &mut Conn, id: i64) -> Result<Option<Report>, CoreError> {
    Ok(store::report_by_id(conn, id).await?)
}

/// Remembers the id of the `Flag` that carried our report (for its resolution).
pub async fn set_flag_id(conn: &mut Conn, id: i64, ap_id: &str) -> Result<(), CoreError> {
    Ok(store::set_report_ap_id(conn, id, ap_id).await?)
}

/// The caller's own reports and what became of them, newest first.
pub async fn mine(
    conn: &mut Conn,
    caller: &Caller,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Report>, CoreError> {
    Ok(store::list_reports(
        conn,
        ReportFilter::Reporter(caller.person_id),
        before,
        limit,
    )
    .await?)
}

/// A group's moderation queue (its moderators), by status.
pub async fn group_queue(
    conn: &mut Conn,
    caller: &Caller,
    group_name: &str,
    status: ReportStatus,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Report>, CoreError> {
    let group = local_group(conn, group_name).await?;
    require_group_moderator(conn, &group, caller).await?;
    let filter = ReportFilter::Group(group.id, status.as_str());
    Ok(store::list_reports(conn, filter, before, limit).await?)
}

/// Whether the caller moderates the instance: its admins, community managers and moderators.
fn moderates_instance(caller: &Caller) -> bool {
    matches!(
        caller.instance_role,
        Some(Role::Admin | Role::CommunityManager | Role::Moderator)
    )
}

/// The instance's queue (its moderators and admins): reports of people, and of content in
/// groups whose moderators are on other servers.
pub async fn instance_queue(
    conn: &mut Conn,
    caller: &Caller,
    status: ReportStatus,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Report>, CoreError> {
    if !moderates_instance(caller) {
        return Err(CoreError::NotAllowed("moderate_instance"));
    }
    let filter = ReportFilter::Instance(status.as_str());
    Ok(store::list_reports(conn, filter, before, limit).await?)
}

/// Whether the caller is listed as a moderator of the group elsewhere `group_id` (the rule of
/// every moderation action, [`require_group_moderator`]).
async fn moderates_elsewhere(
    conn: &mut Conn,
    group_id: i64,
    caller: &Caller,
) -> Result<bool, CoreError> {
    let Some(group) = actors::group_by_id(conn, group_id).await? else {
        return Ok(false);
    };
    match require_group_moderator(conn, &group, caller).await {
        Ok(()) => Ok(true),
        Err(CoreError::NotAllowed(_) | CoreError::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The caller's queue of the groups on other servers that list them as a moderator: the
/// reports about those groups' content that reached us (forwarded by the group, as Lemmy
/// does for its remote moderators). Empty for anyone who moderates no group elsewhere; the
/// instance's moderators see the same reports in [`instance_queue`].
pub async fn moderated_elsewhere_queue(
    conn: &mut Conn,
    caller: &Caller,
    status: ReportStatus,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Report>, CoreError> {
    let filter = ReportFilter::ModeratedElsewhere(caller.person_id, status.as_str());
    let mut found = store::list_reports(conn, filter, before, limit).await?;
    // Our own members who did not agree to be named stay unnamed to the group's moderators,
    // here as in the `Flag` our instance actor sent for them.
    for report in &mut found {
        if report.reporter_local && !report.share_identity {
            report.reporter_username = INSTANCE_REPORTER.to_owned();
            report.reporter_host = None;
            report.reporter_ap_id = None;
        }
    }
    Ok(found)
}

/// Who a report of a member who keeps their name says it is from: our instance.
const INSTANCE_REPORTER: &str = "instance_actor";

/// Where the resolution of `report` goes besides the reporter's server: the group's own
/// inbox when the group is elsewhere and the one who closed it is listed as its moderator
/// (the group's server honours it, and relays it to the others that hold the report).
pub async fn resolution_for_group(
    conn: &mut Conn,
    report: &Report,
) -> Result<Option<String>, CoreError> {
    let (Some(group_id), Some(false), Some(by)) =
        (report.group_id, report.group_local, report.resolved_by)
    else {
        return Ok(None);
    };
    if report.object_ap_id.is_none()
        || !crate::access::is_group_moderator(conn, group_id, by).await?
    {
        return Ok(None);
    }
    Ok(report.group_inbox.clone())
}

/// A moderator resolves (`Resolved`: they acted) or dismisses a report, with a note for the
/// reporter; resolving may ban the reported person from the group (`ban`), in the same
/// transaction. A report about a group of ours is for that group's moderators; the others for
/// the instance's.
pub async fn close(
    conn: &mut Conn,
    caller: &Caller,
    report_id: i64,
    status: ReportStatus,
    note: &str,
    ban: Option<&BanTerms>,
) -> Result<Report, CoreError> {
    let dismissed = match status {
        ReportStatus::Resolved => false,
        ReportStatus::Dismissed => true,
        ReportStatus::Open => {
            return Err(CoreError::Validation(cenacle_domain::ValidationError {
                field: "status",
                code: "invalid",
            }))
        }
    };
    let report = by_id(conn, report_id).await?;
    let group = match report.group_id {
        Some(group_id) if report.group_local == Some(true) => {
            let group = actors::group_by_id(conn, group_id)
                .await?
                .ok_or(CoreError::NotFound("report"))?;
            // The group's moderators only, by the rule of every moderation action (the
            // instance's moderators included: they moderate no group); anyone else is not
            // even told the report exists.
            require_group_moderator(conn, &group, caller)
                .await
                .map_err(|_| CoreError::NotFound("report"))?;
            Some(group)
        }
        // A group elsewhere: the instance's moderators (the report is in their queue) or one
        // of our members listed as its moderator (in their "groups I moderate elsewhere"
        // queue; the group's server honours their resolution because they are listed).
        Some(group_id) => {
            // A listed moderator elsewhere closes reports about the group's content only: a
            // report about a person stays with our instance's moderators.
            let about_content =
                report.target_post_id.is_some() || report.target_comment_id.is_some();
            let allowed = moderates_instance(caller)
                || (about_content && moderates_elsewhere(conn, group_id, caller).await?);
            if !allowed {
                return Err(CoreError::NotFound("report"));
            }
            None
        }
        None if moderates_instance(caller) => None,
        None => return Err(CoreError::NotFound("report")),
    };
    // Resolved with an action: the reported person banned from the group of ours.
    if let Some(terms) = ban {
        let Some(group) = group.filter(|_| !dismissed) else {
            return Err(CoreError::Validation(cenacle_domain::ValidationError {
                field: "ban",
                code: "needs_a_group_of_ours",
            }));
        };
        group_bans::ban_in(conn, caller, &group, report.target_person_id, terms).await?;
    }
    let note = check_reason(note)?;
    if !settle(conn, &report, caller.person_id, dismissed, note).await? {
        return Err(CoreError::ModerationRefused(
            ModerationRefusal::ReportClosed,
        ));
    }
    record_event(conn, caller, OutboxEvent::ReportClosed(report.id)).await?;
    by_id(conn, report.id).await
}

// ---- from other servers ----

/// What a `Flag` from another server reports: the first of `objects` we hold (a post or
/// comment; Mastodon lists the account first, then statuses), else the account.
pub struct IncomingFlag<'a> {
    pub flag_id: &'a str,
    pub objects: &'a [String],
    pub text: &'a str,
    /// The group elsewhere that forwarded it (its `Announce`, as Lemmy forwards a report to
    /// its moderators' instances), when it came so.
    pub announced_by: Option<&'a Group>,
}

/// A `Flag` from another server, sent by `sender` (a person, or that server's instance
/// actor): it lands in the queue of the group's moderators when the content is in a group of
/// ours, else in the instance's queue when it concerns our own member. None when it concerns
/// nothing of ours (why), or was received before.
pub async fn receive_flag(
    conn: &mut Conn,
    sender: &cenacle_db::actors::PersonActor,
    flag: &IncomingFlag<'_>,
) -> Result<Result<i64, &'static str>, CoreError> {
    let mut found = None;
    for id in flag.objects {
        // The post held in its group (FOR KEY SHARE) before its group is read, until the
        // report commits, as for our member's report (`file`): it lands in the queue of the
        // group the post is in then, not of one a move being written takes it out of. The
        // inbox held the sender's standing first (standings before rows).
        if let Some(post) = content_store::post_by_ap_id(conn, id).await? {
            let Some(post) = content_store::post_held(conn, post.id, PostHold::InItsGroup).await?
            else {
                continue;
            };
            found = Some((Some(post.group_id), post.author_id, Some(post.id), None));
            break;
        }
        if let Some(comment) = content_store::comment_by_ap_id(conn, id).await? {
            let hold = PostHold::InItsGroup;
            let Some(post) = content_store::post_of_comment_held(conn, comment.id, hold).await?
            else {
                continue;
            };
            found = Some((
                Some(post.group_id),
                comment.author_id,
                None,
                Some(comment.id),
            ));
            break;
        }
    }
    if found.is_none() {
        for id in flag.objects {
            if let Some(person) = actors::person_by_ap_id(conn, id).await? {
                found = Some((None, person.id, None, None));
                break;
            }
        }
    }
    let Some((group_id, person_id, post, comment)) = found else {
        return Ok(Err("unknown_object"));
    };
    let group = match group_id {
        Some(id) => actors::group_by_id(conn, id).await?,
        None => None,
    };
    let target_local = actors::person_by_id(conn, person_id)
        .await?
        .is_some_and(|p| p.local);
    if let Some(by) = flag.announced_by {
        // A group forwards only reports about its own content.
        if group.as_ref().map(|g| g.id) != Some(by.id) {
            return Ok(Err("not_the_groups_content"));
        }
    }
    // Not from a person banned from our group, as a report of our member's is not
    // (`file`): the ban is the moderators' answer about them there. The inbox holds the
    // sender's standing: a ban racing this Flag waits for it, or is seen.
    if let Some(g) = group.as_ref().filter(|g| g.local) {
        if crate::ban_checks::banned(conn, g.id, sender.id)
            .await?
            .is_some()
        {
            return Ok(Err(ModerationRefusal::BannedFromGroup.code()));
        }
    }
    let moderated_here = match (&group, flag.announced_by) {
        (Some(g), _) if g.local => true,
        // A group elsewhere that one of our members moderates forwards its reports here.
        (Some(g), Some(_)) => group_store::has_local_moderator(conn, g.id).await?,
        _ => false,
    };
    if !moderated_here && !target_local {
        // Neither our group nor our member: their own servers moderate it.
        return Ok(Err("not_ours_to_moderate"));
    }
    let offered = offered_codes(conn, group_id).await?;
    let (code, body) = rules::incoming_reason(flag.text, &offered);
    let stored = store::insert_report(
        conn,
        &NewReport {
            group_id,
            reporter_id: sender.id,
            share_identity: true,
            target_person_id: person_id,
            target_post_id: post,
            target_comment_id: comment,
            reason_code: &code,
            body: &body,
            ap_id: Some(flag.flag_id),
            origin_host: sender.instance_host.as_deref(),
            forwarded_by_group_id: flag.announced_by.map(|g| g.id),
        },
    )
    .await?;
    if stored.is_none() {
        if let Some(by) = flag.announced_by {
            store::mark_forwarded(conn, flag.flag_id, by.id).await?;
        }
    }
    Ok(stored.ok_or("already_received"))
}

/// The Flag a `Resolve` carries, as far as it says.
pub struct ResolvedFlag<'a> {
    pub flag_id: &'a str,
    /// The reporter, as the resolving server knows them: one of our members, or our
    /// reporting actor. None when the Resolve gives only the Flag's id.
    pub actor: Option<&'a str>,
    /// What it reports.
    pub objects: &'a [String],
    /// Its `to[0]`: the group of the reported content.
    pub receiver: Option<&'a str>,
}

/// How a moderator elsewhere closed a report, with their note for the reporter.
#[derive(Clone, Copy)]
pub struct RemoteOutcome<'a> {
    /// They found nothing to act on; else they resolved it (they acted).
    pub dismissed: bool,
    pub note: Option<&'a str>,
}

/// A moderator elsewhere (`resolver`) resolved a report we sent (`flag`), or one their group
/// forwarded to us, with an optional note: the reporter here sees it resolved, and the
/// forwarded copy leaves our queue. Lemmy's `Resolve` carries a new Flag (its
/// `ResolveReport::send` builds one with `Report::new`: a new id), and Lemmy closes every
/// report by that reporter about that object: so, failing the Flag's id, the open reports
/// filed here by its actor (that member, or — for the reports sent without a name — our
/// reporting actor `reporting_actor`) about its object in its group are closed.
/// Who may say so is Lemmy's rule for a `Resolve` (LemmyNet/lemmy
/// `crates/apub/activities/src/community/resolve_report.rs`, `verify_mod_or_admin_action`):
/// for content in a group elsewhere, one of that group's listed moderators (the list we keep
/// of it) — not just anyone on its server; for a report about a person, their instance (its
/// admins, whom Lemmy trusts by domain). `announced_by`: the group whose `Announce` carried
/// it, which must be the report's.
pub async fn receive_resolution(
    conn: &mut Conn,
    resolver: &cenacle_db::actors::PersonActor,
    flag: &ResolvedFlag<'_>,
    reporting_actor: &str,
    outcome: RemoteOutcome<'_>,
    announced_by: Option<&Group>,
) -> Result<Result<Vec<Report>, &'static str>, CoreError> {
    let reports = match store::report_by_ap_id(conn, flag.flag_id).await? {
        Some(report) => vec![report],
        None => reports_resolved_by(conn, flag, reporting_actor).await?,
    };
    let mut refused = "unknown_report";
    let mut closed = Vec::new();
    for report in &reports {
        match resolve_one(conn, resolver, report, outcome, announced_by).await? {
            Ok(()) => closed.push(by_id(conn, report.id).await?),
            Err(why) => refused = why,
        }
    }
    Ok(if closed.is_empty() {
        Err(refused)
    } else {
        Ok(closed)
    })
}

/// The open reports filed here that a Flag with a new id (Lemmy's) resolves: by its actor,
/// about its object, in its group.
async fn reports_resolved_by(
    conn: &mut Conn,
    flag: &ResolvedFlag<'_>,
    reporting_actor: &str,
) -> Result<Vec<Report>, CoreError> {
    let Some(actor) = flag.actor else {
        return Ok(vec![]);
    };
    let candidates = store::open_reports_filed_here_about(conn, flag.objects).await?;
    Ok(candidates
        .into_iter()
        .filter(|r| {
            let by = if actor == reporting_actor {
                !r.share_identity
            } else {
                r.share_identity && r.reporter_ap_id.as_deref() == Some(actor)
            };
            let about = match &r.object_ap_id {
                Some(_) => flag.receiver.is_some() && r.group_ap_id.as_deref() == flag.receiver,
                // About the person alone: the Flag names nobody and nothing else.
                None => flag
                    .objects
                    .iter()
                    .all(|o| Some(o) == r.target_ap_id.as_ref()),
            };
            by && about
        })
        .collect())
}

/// `resolver` closes `report`, when it may.
async fn resolve_one(
    conn: &mut Conn,
    resolver: &cenacle_db::actors::PersonActor,
    report: &Report,
    outcome: RemoteOutcome<'_>,
    announced_by: Option<&Group>,
) -> Result<Result<(), &'static str>, CoreError> {
    // A report about content in a group of ours is our group's to close: by one of its
    // moderators listed elsewhere (the rule of every moderation action, as Lemmy's
    // `verify_mod_or_admin_action`), sent to us directly — whoever filed it. No other
    // group's `Announce` speaks for it.
    if let Some(group) = ours_about_content(conn, report).await? {
        if announced_by.is_some() {
            return Ok(Err("not_the_groups_report"));
        }
        let who = crate::who_moderates::Moderator::Remote {
            person: resolver,
            announced_by: None,
        };
        return match crate::who_moderates::authorize(conn, &group, group.id, who).await {
            Ok(()) if !resolver.local => close_resolved(conn, resolver, report, outcome).await,
            Ok(()) | Err(CoreError::NotAllowed(_)) => Ok(Err("resolver_may_not_resolve")),
            Err(e) => Err(e),
        };
    }
    // A report received from another server is that server's or ours to close — except one
    // a group elsewhere forwarded to us (its moderator's instance): that same group's
    // `Announce` of the resolution closes it (checked below: its listed moderator), as does
    // the group's when its own server sent us the report. A report another server sent us
    // about that group's content is not the group's to close here.
    if let Some(origin) = &report.origin_host {
        let closable = announced_by.is_some_and(|by| {
            report.forwarded_by_group_id == Some(by.id)
                || cenacle_domain::origin::authority(&by.ap_id).eq_ignore_ascii_case(origin)
        });
        if !closable {
            return Ok(Err("not_our_report"));
        }
    }
    let remote_group = match report.group_id.filter(|_| report.object_ap_id.is_some()) {
        Some(id) => actors::group_by_id(conn, id).await?.filter(|g| !g.local),
        None => None,
    };
    if announced_by.is_some_and(|by| remote_group.as_ref().map(|g| g.id) != Some(by.id)) {
        return Ok(Err("not_the_groups_report"));
    }
    // A resolution sent to us directly (not announced) by a moderator the group lists is
    // honoured: Lemmy 1.0 sends its `Resolve` straight to the reporter's server as well as to
    // the group (whose Announce may never reach a server that does not follow it), and checks
    // the same thing — that the resolver moderates that group. A resolution changes only our
    // report's state, never our copy of the group's content.
    let from = resolver.instance_host.as_deref();
    let allowed = match &remote_group {
        Some(group) => crate::access::is_group_moderator(conn, group.id, resolver.id).await?,
        None => from.is_some() && from == report.target_host.as_deref(),
    };
    if !allowed || resolver.local {
        return Ok(Err("resolver_may_not_resolve"));
    }
    close_resolved(conn, resolver, report, outcome).await
}

/// The group of ours whose content `report` is about, if any.
async fn ours_about_content(conn: &mut Conn, report: &Report) -> Result<Option<Group>, CoreError> {
    match report.group_id {
        Some(id) if report.group_local == Some(true) && report.object_ap_id.is_some() => {
            Ok(actors::group_by_id(conn, id).await?)
        }
        _ => Ok(None),
    }
}

/// Closes `report` as `resolver` elsewhere closed it (resolved or dismissed), with their
/// note, and logs it.
async fn close_resolved(
    conn: &mut Conn,
    resolver: &cenacle_db::actors::PersonActor,
    report: &Report,
    outcome: RemoteOutcome<'_>,
) -> Result<Result<(), &'static str>, CoreError> {
    let from = resolver.instance_host.as_deref().unwrap_or_default();
    let what = closing(outcome.dismissed).0.as_str();
    let note = match outcome.note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(note) => format!("{what} on {from}: {note}"),
        None => format!("{what} on {from}"),
    };
    let note = check_reason(&note)?;
    Ok(
        if settle(conn, report, resolver.id, outcome.dismissed, note).await? {
            Ok(())
        } else {
            Err("report_closed")
        },
    )
}

/// The status of a report closed dismissed (else resolved), and the moderation log's action.
fn closing(dismissed: bool) -> (ReportStatus, ModAction) {
    if dismissed {
        (ReportStatus::Dismissed, ModAction::DismissReport)
    } else {
        (ReportStatus::Resolved, ModAction::ResolveReport)
    }
}

/// Closes `report` as `by` decided (here or elsewhere), with their note: logs it and tells
/// the reporter. False, and nothing done, when it was closed already.
async fn settle(
    conn: &mut Conn,
    report: &Report,
    by: i64,
    dismissed: bool,
    note: String,
) -> Result<bool, CoreError> {
    let (status, action) = closing(dismissed);
    if !store::close_report(conn, report.id, status.as_str(), &note, by).await? {
        return Ok(false);
    }
    log_closed(conn, report, by, action, note).await?;
    tell_reporter(conn, report, by, status).await?;
    Ok(true)
}

/// The reporter hears the outcome (a remote one from their own server, through the federated
/// resolution: notifications reach our own members only), about the post reported or the
/// thread of the comment reported — the post's group decides who may be told about it — or,
/// for a report about a person, about that person.
async fn tell_reporter(
    conn: &mut Conn,
    report: &Report,
    by: i64,
    status: ReportStatus,
) -> Result<(), CoreError> {
    let notice =
        Notice::new(Kind::Moderation, report.reporter_id, Some(by)).detail(status.as_str());
    let notice = match (report.thread_post_id, report.group_id) {
        (Some(post_id), Some(group_id)) => {
            notice.about(group_id, post_id, report.target_comment_id)
        }
        // About a person (or about content deleted since: its author, whom the report names
        // too). The group it was filed in, if any, is left out: the notice leads to the
        // person, and a group would take their place on the page and in the mail.
        _ => notice.about_person(report.target_person_id),
    };
    notifications::notify(conn, notice).await?;
    Ok(())
}

/// The moderation log's entry for a report closed by `by`.
async fn log_closed(
    conn: &mut Conn,
    report: &Report,
    by: i64,
    action: ModAction,
    note: String,
) -> Result<(), CoreError> {
    moderation_log::record(
        conn,
        NewModAction {
            group_id: report.group_id,
            moderator_id: Some(by),
            target_person_id: Some(report.target_person_id),
            target_post_id: report.target_post_id,
            target_comment_id: report.target_comment_id,
            reason: note,
            ..NewModAction::new(action)
        },
    )
    .await?;
    Ok(())
}
