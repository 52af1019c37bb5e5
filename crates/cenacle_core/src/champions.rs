//! The champions (superuser) programme, from nomination to exit. A community manager nominates
//! a member (by hand or from the shortlist) for some groups; the member answers the in-app
//! invitation, accepts the current charter and becomes an active champion: the champion badge
//! and title, membership of the programme's private champions group (local-only: never
//! federated), tools in the groups they champion, notices from the managers first. Objectives
//! are followed month by month, the term is reviewed every year (renewed or let lapse), and an
//! exit (voluntary or a removal, with a reason shown to them) takes the status, badge, tools
//! and group access away in one transaction while what they wrote stays. Every step leaves a
//! row in the audit trail (who, when, why, what). The rules are in `cenacle_domain::champions`.

use crate::{
    access::{post_for, post_held},
    accounts::Session,
    answers,
    caller::require,
    federation::record_event,
    groups::{self, PreparedGroup},
    identity,
    notifications::{self, notify},
    people, Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    actors, badges as badge_store,
    champions::{self as store, ChampionRow, ChampionedGroup, NotMoved, Objective},
    content::{self, Post, PostHold},
    federation::OutboxEvent,
};
use cenacle_domain::{
    champions::{
        check_charter_version, home_may_vouch, may_move, may_nominate, may_use_tools, next_renewal,
        require_reason, validate_objective, ChampionRefusal, ChampionStatus,
    },
    notifications::Kind,
    Permission, ValidationError,
};
use chrono::{DateTime, Months, NaiveDate, Utc};

pub use cenacle_db::champions::{
    AuditEntry, Charter, HomeChampion, MonthShare, Notice, QuestionRow,
};

/// At most this many groups are kept of what another instance says a person champions.
const HOME_CHAMPION_LIMIT: usize = 50;

/// The badge the programme awards and revokes (the former honorific "Superuser").
pub use cenacle_domain::champions::CHAMPION_BADGE;
/// The name of the programme's private, local-only group, made with the first charter.
pub const CHAMPIONS_GROUP: &str = "champions";

fn status_of(row: Option<&ChampionRow>) -> Option<ChampionStatus> {
    row.and_then(|r| r.status.parse().ok())
}

/// The programme's steps its member is told of (a notification, mailed at once by default):
/// those a community manager takes for them. The rest are the member's own acts, or notes
/// (nomination, objectives) the invitation or the programme page already shows.
const STEPS_TOLD: [&str; 5] = [
    "invited",
    "charter_published",
    "renewed",
    "removed",
    "lapsed",
];

/// Records a step in the person's audit trail and, for a step they are told of, tells them.
async fn audit(
    conn: &mut Conn,
    person_id: i64,
    actor_id: i64,
    action: &str,
    reason: Option<&str>,
    detail: Option<&str>,
) -> Result<(), CoreError> {
    store::record_audit(conn, person_id, Some(actor_id), action, reason, detail).await?;
    if STEPS_TOLD.contains(&action) {
        let notice =
            notifications::Notice::new(Kind::Champion, person_id, Some(actor_id)).detail(action);
        notify(conn, notice).await?;
    }
    Ok(())
}

async fn row_for_update(conn: &mut Conn, person_id: i64) -> Result<Option<ChampionRow>, CoreError> {
    Ok(store::champion_for_update(conn, person_id).await?)
}

async fn row(conn: &mut Conn, person_id: i64) -> Result<ChampionRow, CoreError> {
    store::champion(conn, person_id)
        .await?
        .ok_or(CoreError::NotFound("champion"))
}

async fn current_version(conn: &mut Conn) -> Result<Option<i32>, CoreError> {
    Ok(store::current_charter(conn).await?.map(|c| c.version))
}

// ---- the charter ----

/// The charter in force (None before the first one).
pub async fn current_charter(conn: &mut Conn) -> Result<Option<Charter>, CoreError> {
    Ok(store::current_charter(conn).await?)
}

/// A community manager publishes a new version of the charter (French and English). Active
/// champions keep their status but their tools are suspended until they accept it. The first
/// publication also makes the programme's champions group.
pub async fn publish_charter(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    text_en: &str,
    text_fr: &str,
    reason: Option<&str>,
) -> Result<Charter, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    for (field, text) in [("text_en", text_en), ("text_fr", text_fr)] {
        if text.trim().is_empty() {
            return Err(ValidationError {
                field,
                code: "empty",
            }
            .into());
        }
    }
    let by = session.account.person_id;
    // The lock first: two first publications racing would both find no group and both make it.
    store::lock_charter(conn).await?;
    if store::local_only_group(conn).await?.is_none() {
        // The name is the programme's: a group of members already called so stays theirs,
        // and the manager is told to rename it rather than getting a bare conflict.
        if actors::local_group_by_name(conn, CHAMPIONS_GROUP)
            .await?
            .is_some()
        {
            return Err(ChampionRefusal::GroupNameTaken.into());
        }
        let group = PreparedGroup::local_only(
            ctx,
            CHAMPIONS_GROUP,
            "Champions",
            "L'espace privé des champions · The champions' private space",
        );
        groups::insert_group(conn, &group, Some(by)).await?;
    }
    crate::media::hold_uploads_named_in(conn, &[text_en, text_fr]).await?;
    let charter = store::publish_charter(conn, text_en.trim(), text_fr.trim(), by).await?;
    let detail = format!(
        "charter version {}: tools suspended until accepted",
        charter.version
    );
    for champion in store::champions(conn, Some(ChampionStatus::Active.as_str())).await? {
        audit(
            conn,
            champion.person_id,
            by,
            "charter_published",
            reason,
            Some(&detail),
        )
        .await?;
    }
    Ok(charter)
}

// ---- nomination and invitation ----

/// What a community manager nominates.
pub struct Nomination<'a> {
    /// `username` (or `user@host`, refused: champions are our own members).
    pub handle: &'a str,
    /// Local groups they will champion.
    pub groups: &'a [String],
    /// The title shown beside their name, e.g. "Champion Rust".
    pub title: Option<&'a str>,
    /// Why (from the shortlist, by hand...).
    pub reason: Option<&'a str>,
}

/// A community manager nominates a member: the invitation waits in the member's programme
/// page (`my_standing`). Remote (known or not), suspended and not yet approved accounts are
/// refused; so is a second nomination racing the first (409).
pub async fn nominate(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    nomination: &Nomination<'_>,
) -> Result<ChampionView, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    if let Some((_, host)) = nomination.handle.trim_start_matches('@').split_once('@') {
        if !host.eq_ignore_ascii_case(&identity::local_host(&ctx.settings)) {
            return Err(ChampionRefusal::RemotePerson.into());
        }
    }
    let person = people::person_by_handle(conn, ctx, nomination.handle).await?;
    let account_status = store::account_status(conn, person.id).await?;
    let current = row_for_update(conn, person.id).await?;
    may_nominate(
        person.local,
        account_status.as_deref(),
        status_of(current.as_ref()),
    )?;
    let mut group_ids = Vec::new();
    for name in nomination.groups {
        let group = groups::local_group(conn, name).await?;
        if group.local_only {
            return Err(ChampionRefusal::UnsuitableGroup.into());
        }
        group_ids.push(group.id);
    }
    let title = nomination.title.map(str::trim).filter(|t| !t.is_empty());
    let by = session.account.person_id;
    if !store::nominate(conn, person.id, by, title).await? {
        return Err(ChampionRefusal::AlreadyInProgramme.into());
    }
    store::set_groups(conn, person.id, &group_ids).await?;
    let detail = format!(
        "groups: [{}]; title: {}",
        nomination.groups.join(", "),
        title.unwrap_or("-")
    );
    audit(
        conn,
        person.id,
        by,
        "nominated",
        nomination.reason,
        Some(&detail),
    )
    .await?;
    audit(conn, person.id, by, "invited", None, None).await?;
    champion_view(conn, person.id).await
}

/// The member answers their invitation: accepted, the charter comes next; declined, it ends
/// there.
pub async fn answer_invitation(
    conn: &mut Conn,
    caller: &Caller,
    accept: bool,
    reason: Option<&str>,
) -> Result<ChampionRow, CoreError> {
    let current = row_for_update(conn, caller.person_id).await?;
    if status_of(current.as_ref()) != Some(ChampionStatus::Invited) {
        return Err(ChampionRefusal::NoInvitation.into());
    }
    let (status, action) = if accept {
        (ChampionStatus::PendingCharter, "invitation_accepted")
    } else {
        (ChampionStatus::Declined, "invitation_declined")
    };
    store::set_status(conn, caller.person_id, status.as_str()).await?;
    audit(
        conn,
        caller.person_id,
        caller.person_id,
        action,
        reason,
        None,
    )
    .await?;
    row(conn, caller.person_id).await
}

/// The member accepts charter `version`, which must be the current one. After the invitation
/// this makes them an active champion; for an active champion it lifts the suspension of
/// their tools that a new version brought.
pub async fn accept_charter(
    conn: &mut Conn,
    caller: &Caller,
    version: i32,
) -> Result<ChampionRow, CoreError> {
    let current = row_for_update(conn, caller.person_id).await?;
    let status = status_of(current.as_ref());
    if !matches!(
        status,
        Some(ChampionStatus::PendingCharter | ChampionStatus::Active)
    ) {
        return Err(ChampionRefusal::NoInvitation.into());
    }
    check_charter_version(version, current_version(conn).await?)?;
    // Accepted already: nothing changes (the first acceptance's time and audit row stand).
    if current.as_ref().and_then(|c| c.charter_version) == Some(version) {
        return row(conn, caller.person_id).await;
    }
    let at = store::accept_charter(conn, caller.person_id, version).await?;
    let detail = format!("charter version {version} accepted at {}", at.to_rfc3339());
    audit(
        conn,
        caller.person_id,
        caller.person_id,
        "charter_accepted",
        None,
        Some(&detail),
    )
    .await?;
    if status == Some(ChampionStatus::PendingCharter) {
        activate(conn, caller.person_id, at).await?;
    }
    row(conn, caller.person_id).await
}

/// Status, badge (worn as their title), the champions group; the first review a year on.
async fn activate(conn: &mut Conn, person_id: i64, now: DateTime<Utc>) -> Result<(), CoreError> {
    let group = store::local_only_group(conn)
        .await?
        .ok_or_else(|| CoreError::Internal("the champions group is missing".into()))?;
    store::activate(conn, person_id, next_renewal(now)).await?;
    content::set_membership(conn, group.id, person_id, "member").await?;
    // The programme holds their membership from now on: a certificate that let them in
    // before (a course unlocking this group, written before the editor refused it) no longer
    // does, and its expiry must not put a champion out.
    cenacle_db::training::forget_granted_group(conn, person_id, group.id).await?;
    let badge = badge_store::badge_by_slug(conn, CHAMPION_BADGE)
        .await?
        .ok_or(CoreError::NotFound("badge"))?;
    crate::notifications::award_badge(conn, badge.id, person_id, None, Some("champions programme"))
        .await?;
    badge_store::set_title(conn, person_id, Some(badge.id)).await?;
    audit(
        conn,
        person_id,
        person_id,
        "activated",
        None,
        Some("champion status, badge, title, champions group, tools"),
    )
    .await
}

// ---- objectives, renewal, exit ----

/// A community manager sets one of a champion's objectives (target ≥ 0).
pub async fn set_objective(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    handle: &str,
    metric: &str,
    target: i64,
    reason: Option<&str>,
) -> Result<Vec<Objective>, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    let (metric, target) = validate_objective(metric, target)?;
    let person = people::person_by_handle(conn, ctx, handle).await?;
    let current = row_for_update(conn, person.id).await?;
    if !matches!(
        status_of(current.as_ref()),
        Some(ChampionStatus::Invited | ChampionStatus::PendingCharter | ChampionStatus::Active)
    ) {
        return Err(ChampionRefusal::NotActive.into());
    }
    let by = session.account.person_id;
    store::set_objective(conn, person.id, metric.as_str(), target, by).await?;
    let detail = format!("{} >= {target}", metric.as_str());
    audit(conn, person.id, by, "objective_set", reason, Some(&detail)).await?;
    Ok(store::objectives(conn, person.id).await?)
}

/// Active champions whose yearly review falls within `within_days`.
pub async fn renewals_due(
    conn: &mut Conn,
    session: &Session,
    within_days: u32,
) -> Result<Vec<ChampionRow>, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    let before = Utc::now() + chrono::Duration::days(i64::from(within_days));
    Ok(store::renewals_due(conn, before).await?)
}

async fn active_row(conn: &mut Conn, person_id: i64) -> Result<ChampionRow, CoreError> {
    let current = row_for_update(conn, person_id).await?;
    match current {
        Some(r) if status_of(Some(&r)) == Some(ChampionStatus::Active) => Ok(r),
        _ => Err(ChampionRefusal::NotActive.into()),
    }
}

/// A community manager renews a champion for another year.
pub async fn renew(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    handle: &str,
    reason: Option<&str>,
) -> Result<ChampionRow, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    let person = people::person_by_handle(conn, ctx, handle).await?;
    let current = active_row(conn, person.id).await?;
    let due = next_renewal(current.renewal_due.unwrap_or_else(Utc::now).max(Utc::now()));
    store::set_renewal_due(conn, person.id, due).await?;
    let detail = format!("next review due {}", due.to_rfc3339());
    let by = session.account.person_id;
    audit(conn, person.id, by, "renewed", reason, Some(&detail)).await?;
    row(conn, person.id).await
}

/// How a term ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The champion leaves.
    Voluntary,
    /// A community manager removes them.
    Removed,
    /// Not renewed at the yearly review.
    Lapsed,
}

impl Exit {
    fn action(self) -> &'static str {
        match self {
            Exit::Voluntary => "exited_voluntarily",
            Exit::Removed => "removed",
            Exit::Lapsed => "lapsed",
        }
    }
}

/// A community manager removes a champion, or lets their term lapse, with a reason shown to
/// them.
pub async fn end_by_manager(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    handle: &str,
    exit: Exit,
    reason: Option<&str>,
) -> Result<ChampionRow, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    let reason = require_reason(reason)?;
    let person = people::person_by_handle(conn, ctx, handle).await?;
    end_term(
        conn,
        person.id,
        session.account.person_id,
        exit,
        Some(reason),
    )
    .await
}

/// A champion leaves the programme.
pub async fn leave(
    conn: &mut Conn,
    caller: &Caller,
    reason: Option<&str>,
) -> Result<ChampionRow, CoreError> {
    // No reason given: none shown to the member (not a placeholder in one language); the
    // audit trail and the badge's history say how they left.
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    end_term(
        conn,
        caller.person_id,
        caller.person_id,
        Exit::Voluntary,
        reason,
    )
    .await
}

/// Status, badge (and the title it gave), tools and the champions group go together, in the
/// caller's transaction; what they wrote (there too) stays.
async fn end_term(
    conn: &mut Conn,
    person_id: i64,
    by: i64,
    exit: Exit,
    reason: Option<&str>,
) -> Result<ChampionRow, CoreError> {
    let current = row_for_update(conn, person_id).await?;
    if !matches!(
        status_of(current.as_ref()),
        Some(ChampionStatus::Active | ChampionStatus::PendingCharter)
    ) {
        return Err(ChampionRefusal::NotActive.into());
    }
    // One time for the exit and the badge it takes back.
    let now = Utc::now();
    store::end(conn, person_id, reason, now).await?;
    let recorded = reason.unwrap_or(exit.action());
    if let Some(badge) = badge_store::badge_by_slug(conn, CHAMPION_BADGE).await? {
        badge_store::revoke(
            conn,
            badge.id,
            person_id,
            badge_store::Revoker::Manager(by),
            recorded,
            now,
        )
        .await?;
    }
    if let Some(group) = store::local_only_group(conn).await? {
        content::remove_membership(conn, group.id, person_id).await?;
        // As when a ban puts them out: a certificate that let them in holds it no more.
        cenacle_db::training::forget_granted_group(conn, person_id, group.id).await?;
    }
    audit(
        conn,
        person_id,
        by,
        exit.action(),
        Some(recorded),
        Some("status, badge, title, tools and champions group removed; content kept"),
    )
    .await?;
    row(conn, person_id).await
}

// ---- what members and managers read ----

/// A champion with their groups and objectives (with this month's progress).
pub struct ChampionView {
    pub row: ChampionRow,
    pub groups: Vec<ChampionedGroup>,
    pub objectives: Vec<Objective>,
    /// An active champion who has not accepted the current charter: tools suspended.
    pub tools_suspended: bool,
}

async fn view(
    conn: &mut Conn,
    row: ChampionRow,
    current: Option<i32>,
) -> Result<ChampionView, CoreError> {
    let groups = store::groups_of(conn, row.person_id).await?;
    let objectives = store::objectives(conn, row.person_id).await?;
    let tools_suspended =
        status_of(Some(&row)) == Some(ChampionStatus::Active) && row.charter_version != current;
    Ok(ChampionView {
        row,
        groups,
        objectives,
        tools_suspended,
    })
}

/// Someone's place in the programme, for the answer to a step already authorised (a manager's
/// or their own).
pub async fn champion_view(conn: &mut Conn, person_id: i64) -> Result<ChampionView, CoreError> {
    let found = row(conn, person_id).await?;
    let current = current_version(conn).await?;
    view(conn, found, current).await
}

/// The dashboard's list: everyone in the programme with objectives, progress and review date.
pub async fn dashboard(
    conn: &mut Conn,
    session: &Session,
    status: Option<&str>,
) -> Result<Vec<ChampionView>, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    let current = current_version(conn).await?;
    let mut out = Vec::new();
    for row in store::champions(conn, status).await? {
        out.push(view(conn, row, current).await?);
    }
    Ok(out)
}

/// The member's own place in the programme (invitation, charter to accept, exit reason).
pub async fn my_standing(
    conn: &mut Conn,
    caller: &Caller,
) -> Result<(Option<ChampionView>, Option<Charter>), CoreError> {
    let charter = store::current_charter(conn).await?;
    let current = charter.as_ref().map(|c| c.version);
    let mine = match store::champion(conn, caller.person_id).await? {
        Some(row) => Some(view(conn, row, current).await?),
        None => None,
    };
    Ok((mine, charter))
}

/// A person's audit trail, for community managers.
pub async fn audit_trail(
    conn: &mut Conn,
    ctx: &Context,
    session: &Session,
    handle: &str,
) -> Result<Vec<AuditEntry>, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    let person = people::person_by_handle(conn, ctx, handle).await?;
    Ok(store::audit_of(conn, person.id).await?)
}

/// Per month over the last `months` months: answers accepted, and how many were written by
/// someone who was an active champion when they were accepted.
pub async fn solutions_share(
    conn: &mut Conn,
    session: &Session,
    months: u32,
) -> Result<Vec<MonthShare>, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    let today = Utc::now().date_naive();
    let first = NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&today),
        chrono::Datelike::month(&today),
        1,
    )
    .unwrap_or(today);
    let from = first
        .checked_sub_months(Months::new(months.saturating_sub(1)))
        .unwrap_or(first);
    Ok(store::solutions_share(conn, from).await?)
}

/// The groups an active champion champions, as their Person actor tells other servers.
pub async fn championed_groups(
    conn: &mut Conn,
    person_id: i64,
) -> Result<Vec<ChampionedGroup>, CoreError> {
    Ok(store::active_groups_of(conn, person_id).await?)
}

/// Stores what a remote person's home instance says they champion (`cenacle:champion`),
/// replacing what it said before; bounded, read-only, never a status here.
pub async fn store_home_champion(
    conn: &mut Conn,
    person_ap_id: &str,
    groups: &[(String, DateTime<Utc>)],
) -> Result<(), CoreError> {
    // An instance speaks for its own groups only: an entry naming another host's group is
    // dropped (else any server could make its people champions of ours, or of a third's).
    let groups: Vec<(String, DateTime<Utc>)> = groups
        .iter()
        .filter(|(group, _)| home_may_vouch(person_ap_id, group))
        .take(HOME_CHAMPION_LIMIT)
        .cloned()
        .collect();
    Ok(store::set_home_champion(conn, person_ap_id, &groups).await?)
}

/// What a remote person's home instance said they champion.
pub async fn home_champion(
    conn: &mut Conn,
    person_id: i64,
) -> Result<Vec<HomeChampion>, CoreError> {
    Ok(store::home_champion(conn, person_id).await?)
}

// ---- priority ----

/// A community manager broadcasts a notice to the champions.
pub async fn broadcast(conn: &mut Conn, session: &Session, body: &str) -> Result<i64, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    if body.trim().is_empty() {
        return Err(ValidationError {
            field: "body",
            code: "empty",
        }
        .into());
    }
    Ok(store::insert_notice(conn, session.account.person_id, body.trim()).await?)
}

fn runs_programme(caller: &Caller) -> bool {
    caller
        .instance_role
        .is_some_and(|r| r.allows(Permission::RunChampionProgramme))
}

/// The notices, for active champions and the managers who send them. Like the tools, they
/// wait while a new charter version waits for the champion's acceptance.
pub async fn notices(conn: &mut Conn, caller: &Caller) -> Result<Vec<Notice>, CoreError> {
    if !runs_programme(caller) {
        require_tools(conn, caller, None).await?;
    }
    Ok(store::notices(conn, 100).await?)
}

/// Unanswered questions asked by champions who accepted the current charter (the others'
/// priority waits with their tools), for community managers.
pub async fn priority_queue(
    conn: &mut Conn,
    session: &Session,
) -> Result<Vec<QuestionRow>, CoreError> {
    require(session, Permission::RunChampionProgramme)?;
    Ok(store::priority_queue(conn, 100).await?)
}

// ---- champion tools ----

/// Refuses champion tools to anyone but an active champion who accepted the current charter,
/// acting in a group they champion (`group_id`; None: no particular group) and are not banned
/// from (nor from the instance): a ban takes the tools in the group with the right to write
/// there (`banned_from_group`, `banned_from_instance`, as for their own posts), and their
/// standing is held as for those (`ban_checks::refuse_if_banned`).
async fn require_tools(
    conn: &mut Conn,
    caller: &Caller,
    group_id: Option<i64>,
) -> Result<(), CoreError> {
    require_championship(conn, caller, group_id).await?;
    if let Some(id) = group_id {
        crate::ban_checks::refuse_if_banned(conn, id, caller).await?;
    }
    Ok(())
}

/// [`require_tools`] without the ban checks: the caller is an active champion who accepted the
/// current charter, of `group_id` (None: of any group). Reads no standing, so that what holds
/// several (`tool_move`) refuses a caller who is no champion before it waits for any.
async fn require_championship(
    conn: &mut Conn,
    caller: &Caller,
    group_id: Option<i64>,
) -> Result<(), CoreError> {
    let mine = store::champion(conn, caller.person_id).await?;
    let theirs = match group_id {
        Some(id) => store::groups_of(conn, caller.person_id)
            .await?
            .iter()
            .any(|g| g.group_id == id),
        None => true,
    };
    may_use_tools(
        status_of(mine.as_ref()),
        mine.as_ref().and_then(|m| m.charter_version),
        current_version(conn).await?,
        theirs,
    )?;
    Ok(())
}

async fn tool_used(
    conn: &mut Conn,
    caller: &Caller,
    tool: &str,
    detail: &str,
) -> Result<(), CoreError> {
    audit(
        conn,
        caller.person_id,
        caller.person_id,
        tool,
        None,
        Some(detail),
    )
    .await
}

/// Marks (or clears) the accepted answer of a question in a group the caller champions. The
/// answer's author is paid as usual; the champion is not the asker, so earns no "accepted an
/// answer" reward, and may not accept their own answer.
pub async fn tool_accept_answer(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    post_id: i64,
    comment_id: Option<i64>,
) -> Result<Post, CoreError> {
    // Held before it is read, as an acceptance locks it: the championship checked is of the
    // group the answer is accepted in, whatever move is being written.
    let (post, _, _) = post_held(conn, caller, post_id, PostHold::Exclusive).await?;
    require_tools(conn, caller, Some(post.group_id)).await?;
    answers::require_question(&post)?;
    if let Some(id) = comment_id {
        let answer = content::comment_by_id(conn, id).await?;
        if answer.is_some_and(|a| a.author_id == caller.person_id) {
            return Err(ChampionRefusal::OwnAnswer.into());
        }
    }
    let updated = answers::set_acceptance(conn, ctx, caller, &post, comment_id, false).await?;
    let detail = format!("post {post_id}: accepted answer {comment_id:?}");
    tool_used(conn, caller, "tool_accept_answer", &detail).await?;
    Ok(updated)
}

/// Pins or unpins a post in a group the caller champions.
pub async fn tool_pin(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    pinned: bool,
) -> Result<Post, CoreError> {
    // Held before it is read: the championship checked is of the group it is pinned in,
    // whatever move is being written.
    let (post, _, _) = post_held(conn, caller, post_id, PostHold::Edit).await?;
    require_tools(conn, caller, Some(post.group_id)).await?;
    let updated = content::set_post_flags(conn, post.id, None, Some(pinned)).await?;
    let detail = format!("post {post_id}: pinned {pinned}");
    tool_used(conn, caller, "tool_pin", &detail).await?;
    Ok(updated)
}

/// Moves a post from a group the caller champions to another local group they champion, of
/// the same visibility: a move never shows a post to a wider audience than it was written
/// for. The post's reputation follows it. Other servers learn of it through the usual
/// `Update` of the post (the PostUpdated event): its copies there keep their old group, whose
/// followers already had it, and the new group's remote followers are not sent it.
///
/// A move writes the post in the new group in its author's name: refused while the author is
/// banned from that group or from the instance (`author_banned`). The champion must not be
/// banned from either group themself (as for the other tools, `ban_checks::refuse_if_banned`). A post a
/// moderator removed stays where it is (403, `post_removed`, as for a reply to it; read again
/// under the row's lock).
///
/// The comments on it written by people banned from the new group with removal of their
/// content are removed with the move, with their ban's reason, as that ban removed what they
/// wrote there.
///
/// The standings of the two people the move acts for — the champion and the author — are
/// held (shared, bounded, as for their own writes: see `ban_checks::refuse_if_banned`), then
/// the new group against bans with removal (exclusive, bounded: one lock for the group,
/// however many people commented), before any ban is read or any row written. A ban with removal from the
/// new group racing the move (its author's or a commenter's) either committed before (the
/// move sees it: refused for the author, the comment removed for a commenter) or waits for the
/// move to commit and then finds the post, and its comments, in the new group.
///
/// The comments are those committed, or being written past their hold of the post, when the
/// move locks the post's row FOR UPDATE (`store::move_post`), which waits for those being
/// written (they hold it from before they read its group: `access::post_held`,
/// `PostHold::InItsGroup`); a reply that starts meanwhile waits for the move, then reads the
/// post in the new group and is checked against its bans. A post moved by someone else since
/// it was read here is not moved (409 `post_moved`): what was checked of the group it was in
/// no longer applies.
pub async fn tool_move(
    conn: &mut Conn,
    caller: &Caller,
    post_id: i64,
    to_group: &str,
) -> Result<Post, CoreError> {
    let (post, from, _) = post_for(conn, caller, post_id).await?;
    require_championship(conn, caller, Some(post.group_id)).await?;
    let target = groups::local_group(conn, to_group).await?;
    require_championship(conn, caller, Some(target.id)).await?;
    hold_for_move(conn, caller, &post, target.id).await?;
    // The one-person holds under these reads are held already: they take them again at once.
    for group_id in [post.group_id, target.id] {
        crate::ban_checks::refuse_if_banned(conn, group_id, caller).await?;
    }
    if !from.local || from.local_only || target.local_only {
        return Err(ChampionRefusal::MoveAcrossVisibility.into());
    }
    may_move(&from.visibility, &target.visibility)?;
    crate::ban_checks::refuse_if_author_banned(conn, target.id, post.author_id).await?;
    if post.removed_at.is_some() {
        return Err(crate::access::forbid("post_removed"));
    }
    match store::move_post(conn, post.id, post.group_id, target.id).await? {
        Ok(()) => {}
        Err(NotMoved::Gone) => return Err(CoreError::NotFound("post")),
        Err(NotMoved::Removed) => return Err(crate::access::forbid("post_removed")),
        // Moved meanwhile: the championship and visibility checked were of the group it left.
        Err(NotMoved::NotInGroup) => return Err(CoreError::Conflict("post_moved")),
        // The same move sent twice, the first committed meanwhile: done, as asked.
        Err(NotMoved::AlreadyThere) => {
            return content::post_by_id(conn, post.id)
                .await?
                .ok_or(CoreError::NotFound("post"))
        }
    }
    // After the move: what the comments earned follows them into the group, and is taken back
    // there.
    let comments = store::remove_comments_of_banned(conn, post.id, target.id).await?;
    if !comments.is_empty() {
        let removed = cenacle_db::reports::RemovedContent {
            posts: vec![],
            comments,
        };
        let gone = crate::group_bans::removed_items(&removed);
        crate::rewards::on_content_removed(conn, &gone).await?;
    }
    record_event(conn, caller, OutboxEvent::PostUpdated(post.id)).await?;
    let detail = format!("post {post_id}: moved to {to_group}");
    tool_used(conn, caller, "tool_move", &detail).await?;
    content::post_by_id(conn, post.id)
        .await?
        .ok_or(CoreError::NotFound("post"))
}

/// Holds what a move of `post` into the group `target` reads: the standings of the champion
/// and of its author, for reading, in one statement, hence in one order (the locks' own,
/// whatever the people's: a shared hold waits behind a ban queued for the same person, and
/// two moves holding them one by one, in different orders, could each wait for a ban that
/// waits for the other); then `target` against bans with removal
/// (`hold_group_bans_with_removal_for_move`), for the bans of the authors of its comments,
/// however many: a lock each would fill PostgreSQL's shared lock table for the whole server.
///
/// In the global order (see `hold_group_bans_with_removal_for_ban`): people's standings, then
/// the group's lock, then rows. A ban with removal holds its person's standing, then that lock
/// (shared), then writes — their content taken down, what it earned taken back, which updates
/// the leaderboard rollups of that person in the group. Here, before `store::move_post`, which
/// locks the post and the rollups of everyone whose rewards it carries to the new group. No
/// cycle: while the move waits for the group's lock it holds two standings and no row, and a
/// ban that holds (or queues for) the lock holds its standings already and waits from then on
/// for nothing but the lock and rows; were its person the champion or the author, the move,
/// holding their standing, would have kept the ban from getting that far (or waited for it
/// before the group's lock).
async fn hold_for_move(
    conn: &mut Conn,
    caller: &Caller,
    post: &Post,
    target: i64,
) -> Result<(), CoreError> {
    let people = [caller.person_id, post.author_id];
    cenacle_db::federation::hold_people_standing_for_reading_by_ids(conn, &people).await?;
    Ok(cenacle_db::federation::hold_group_bans_with_removal_for_move(conn, target).await?)
}

/// New questions first: the unanswered questions of the groups the caller champions, newest
/// first.
pub async fn new_questions(
    conn: &mut Conn,
    caller: &Caller,
) -> Result<Vec<QuestionRow>, CoreError> {
    require_tools(conn, caller, None).await?;
    Ok(store::new_questions_for(conn, caller.person_id, 100).await?)
}
