//! Groups: creation by managers, settings, membership, join requests, invitations and
//! group roles. Groups grown from members' proposals are in `proposals`.

use crate::{
    access::{may_read, readable_local_group, Reader},
    accounts::Session,
    caller::require,
    federation::record_event,
    identity, journey,
    notifications::{self, Notice},
    who_moderates::require_group_moderator,
    Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    actors::{self, Group, NewLocalGroup},
    content,
    federation::{self as fed_store, OutboxEvent},
    groups::{self as store, GroupChange},
};
use cenacle_domain::{
    champions::ChampionRefusal, content::Visibility, notifications::Kind, onboarding::StepKind,
    validate_group_name, validate_group_text, Permission, ValidationError,
};

/// A validated group with its identity. Keys are made before any transaction opens (RSA key
/// generation is slow work that must not hold a connection).
pub struct PreparedGroup {
    name: String,
    title: String,
    description: String,
    identity: cenacle_db::actors::LocalIdentity,
    host: String,
    visibility: &'static str,
    local_only: bool,
}

impl PreparedGroup {
    /// A private group that exists on this instance only (never federated, no key pair, so
    /// it is made inside the transaction): the champions group.
    pub(crate) fn local_only(ctx: &Context, name: &str, title: &str, description: &str) -> Self {
        PreparedGroup {
            name: name.to_owned(),
            title: title.to_owned(),
            description: description.to_owned(),
            identity: identity::unfederated_group_identity(&ctx.settings, name),
            host: identity::local_host(&ctx.settings),
            visibility: "private",
            local_only: true,
        }
    }
}

pub async fn prepare_group(
    ctx: &Context,
    name: &str,
    title: &str,
    description: &str,
    visibility: Visibility,
) -> Result<PreparedGroup, CoreError> {
    validate_group_name(name)?;
    validate_group_text(Some(title), Some(description))?;
    Ok(PreparedGroup {
        name: name.to_owned(),
        title: title.trim().to_owned(),
        description: description.to_owned(),
        identity: identity::group_identity(&ctx.settings, name).await?,
        host: identity::local_host(&ctx.settings),
        visibility: match visibility {
            Visibility::Public => "public",
            Visibility::Restricted => "restricted",
            Visibility::Private => "private",
        },
        local_only: false,
    })
}

/// An admin or community manager creates a group and owns it.
pub async fn create_group(
    conn: &mut Conn,
    session: &Session,
    prepared: &PreparedGroup,
) -> Result<Group, CoreError> {
    require(session, Permission::ManageGroups)?;
    insert_group(conn, prepared, Some(session.account.person_id)).await
}

/// Inserts the group with `owner` as its owner. A local-only group gets no owner membership:
/// its members are exactly the programme's active champions (`owner` is only recorded as
/// who made it). A group the instance makes for itself (`None`) has no owner: the
/// instance's community managers look after it.
pub(crate) async fn insert_group(
    conn: &mut Conn,
    g: &PreparedGroup,
    owner: Option<i64>,
) -> Result<Group, CoreError> {
    let followers_url = format!("{}/followers", g.identity.ap_id);
    let group = actors::insert_local_group(
        conn,
        &NewLocalGroup {
            name: &g.name,
            title: &g.title,
            description: &g.description,
            identity: &g.identity,
            followers_url: &followers_url,
            instance_host: &g.host,
            created_by: owner,
            visibility: g.visibility,
            local_only: g.local_only,
        },
    )
    .await?;
    if let Some(owner) = owner.filter(|_| !g.local_only) {
        content::set_membership(conn, group.id, owner, "owner").await?;
        journey::pay_finished_steps(conn, owner, StepKind::JoinGroup).await?;
    }
    Ok(group)
}

pub async fn local_group(conn: &mut Conn, name: &str) -> Result<Group, CoreError> {
    actors::local_group_by_name(conn, name)
        .await?
        .ok_or(CoreError::NotFound("group"))
}

/// The group a member posts in: a local one by name, or a remote one this instance knows
/// (resolved or followed) by `name@host`.
pub async fn group_by_name_or_handle(
    conn: &mut Conn,
    ctx: &Context,
    name: &str,
) -> Result<Group, CoreError> {
    match name.trim_start_matches('!').split_once('@') {
        Some((name, host)) if !host.eq_ignore_ascii_case(&identity::local_host(&ctx.settings)) => {
            actors::remote_group_by_handle(conn, name, &host.to_ascii_lowercase())
                .await?
                .ok_or(CoreError::NotFound("group"))
        }
        Some((name, _)) => local_group(conn, name).await,
        None => local_group(conn, name).await,
    }
}

/// A group by its ActivityPub id, local or cached.
pub async fn group_by_ap_id(conn: &mut Conn, ap_id: &str) -> Result<Option<Group>, CoreError> {
    Ok(actors::group_by_ap_id(conn, ap_id).await?)
}

/// Names of groups as shown beside their posts: `name` for ours, `name@host` for others.
pub async fn display_names(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, CoreError> {
    let mut names = std::collections::HashMap::new();
    for &id in ids {
        if names.contains_key(&id) {
            continue;
        }
        if let Some(g) = actors::group_by_id(conn, id).await? {
            let name = if g.local {
                g.name
            } else {
                format!("{}@{}", g.name, g.instance_host)
            };
            names.insert(id, name);
        }
    }
    Ok(names)
}

/// What a group's moderators may change.
#[derive(Debug, Default)]
pub struct GroupSettingsChange {
    pub title: Option<String>,
    pub description: Option<String>,
    pub rules: Option<String>,
    pub tags: Option<Vec<String>>,
    pub avatar_url: Option<String>,
    pub banner_url: Option<String>,
    pub dislikes_enabled: Option<bool>,
    /// Archived groups are read-only.
    pub archived: Option<bool>,
}

/// Edits a local group (its owner and moderators, or community managers); followers on other
/// servers learn of it through an `Update` that the outbox event turns into deliveries.
pub async fn update_group(
    conn: &mut Conn,
    caller: &Caller,
    name: &str,
    change: GroupSettingsChange,
) -> Result<Group, CoreError> {
    validate_group_text(change.title.as_deref(), change.description.as_deref())?;
    for url in [&change.avatar_url, &change.banner_url]
        .into_iter()
        .flatten()
    {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ValidationError {
                field: "avatar_url",
                code: "invalid_url",
            }
            .into());
        }
    }
    let group = local_group(conn, name).await?;
    require_group_moderator(conn, &group, caller).await?;
    let db_change = GroupChange {
        title: change.title.map(|t| t.trim().to_owned()),
        description: change.description,
        rules: change.rules,
        tags: change.tags.map(|tags| {
            tags.into_iter()
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty())
                .collect()
        }),
        avatar_url: change.avatar_url,
        banner_url: change.banner_url,
        dislikes_enabled: change.dislikes_enabled,
        archived_at: change.archived.map(|a| a.then(chrono::Utc::now)),
    };
    let images = [&db_change.avatar_url, &db_change.banner_url];
    let named: Vec<&str> = images.into_iter().flatten().map(String::as_str).collect();
    crate::media::hold_uploads_named_in(conn, &named).await?;
    let updated = store::update_group(conn, group.id, &db_change).await?;
    record_event(conn, caller, OutboxEvent::GroupUpdated(group.id)).await?;
    Ok(updated)
}

/// How many actors follow `group`, when it is ours and `reader` may see who is in it: a
/// private group's card tells outsiders how to ask to join, not how many are inside. `None`
/// otherwise (a remote group's count is its own server's to tell).
pub async fn follower_count(
    conn: &mut Conn,
    group: &Group,
    reader: Reader<'_>,
) -> Result<Option<i64>, CoreError> {
    if !group.local || !may_read(conn, group, reader).await? {
        return Ok(None);
    }
    Ok(Some(fed_store::count_followers(conn, &group.ap_id).await?))
}

/// Refuses the ordinary membership actions (join, leave, requests, invitations, roles) on a
/// local-only group: the champions programme alone puts people in it (activation) and takes
/// them out (exit), so no owner, manager or member can open a side door.
pub(crate) fn require_ordinary_membership(group: &Group) -> Result<(), CoreError> {
    if group.local_only {
        return Err(ChampionRefusal::ProgrammeOnlyGroup.into());
    }
    Ok(())
}

/// Joins a public or restricted group, uses an invitation to a private one, or else asks to
/// join it (moderators approve). Returns whether the caller is now a member.
///
/// Refused to a caller banned from the group (`banned_from_group`) or a member of ours banned
/// from the instance (`banned_from_instance`), as Lemmy refuses a banned person's follow of a
/// community: all three ways in, before anything is written. The ban is read under the
/// caller's standing (`ban_checks::refuse_if_banned`): a ban racing the join waits for it to
/// commit, then takes the membership, request or invitation back out.
pub async fn join_group(
    conn: &mut Conn,
    caller: &Caller,
    group: &Group,
    message: Option<&str>,
) -> Result<bool, CoreError> {
    require_ordinary_membership(group)?;
    crate::ban_checks::refuse_if_banned(conn, group.id, caller).await?;
    if content::membership_role(conn, group.id, caller.person_id)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    let visibility: Visibility = group.visibility.parse().unwrap_or(Visibility::Private);
    if visibility != Visibility::Private
        || store::take_invitation(conn, group.id, caller.person_id).await?
    {
        let_in(conn, group.id, caller.person_id).await?;
        return Ok(true);
    }
    store::request_to_join(conn, group.id, caller.person_id, message).await?;
    Ok(false)
}

/// Makes `person_id` a plain member of the group, and pays the onboarding step it finishes.
async fn let_in(conn: &mut Conn, group_id: i64, person_id: i64) -> Result<(), CoreError> {
    content::set_membership(conn, group_id, person_id, "member").await?;
    journey::pay_finished_steps(conn, person_id, StepKind::JoinGroup).await?;
    Ok(())
}

/// Lets `person_id` into the group as what follows from something else they did (enrolling
/// in the course the group discusses, a certificate unlocking it), unless they are in
/// already or banned from it or from the instance: a ban put them out, and that is no way
/// back in while it lasts (what they did goes on, without the membership). Returns whether
/// they were let in. The ban is read under their standing, as their own join reads it
/// (`ban_checks::banned_held`): a ban racing this waits for it, then takes the membership out.
pub(crate) async fn admit_unless_banned(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
) -> Result<bool, CoreError> {
    if content::membership_role(conn, group_id, person_id)
        .await?
        .is_some()
        || crate::ban_checks::banned_held(conn, group_id, person_id).await?
    {
        return Ok(false);
    }
    let_in(conn, group_id, person_id).await?;
    Ok(true)
}

/// The caller leaves the group (not its owner). A certificate that let them in
/// (`certificate.granted_group`) no longer holds the membership: it is gone, and one they get
/// back by joining again is theirs, which no expiry of the certificate takes.
pub async fn leave_group(conn: &mut Conn, caller: &Caller, group: &Group) -> Result<(), CoreError> {
    require_ordinary_membership(group)?;
    if content::membership_role(conn, group.id, caller.person_id)
        .await?
        .as_deref()
        == Some("owner")
    {
        return Err(CoreError::Conflict("owner_cannot_leave"));
    }
    content::remove_membership(conn, group.id, caller.person_id).await?;
    cenacle_db::training::forget_granted_group(conn, caller.person_id, group.id).await?;
    Ok(())
}

/// Pending join requests: (person id, username, host, message).
pub async fn join_requests(
    conn: &mut Conn,
    caller: &Caller,
    name: &str,
) -> Result<Vec<(i64, String, Option<String>, Option<String>)>, CoreError> {
    let group = local_group(conn, name).await?;
    require_group_moderator(conn, &group, caller).await?;
    Ok(store::join_requests(conn, group.id).await?)
}

/// Approves (membership) or rejects a join request.
///
/// An approval is refused while the person is banned from the group or from the instance
/// (`person_banned`, read under their standing as their own join reads it), before the
/// request is looked for: a ban drops the pending request, and the moderator learns why it
/// cannot be approved rather than that it is gone. Rejecting asks no such thing.
pub async fn decide_join_request(
    conn: &mut Conn,
    caller: &Caller,
    name: &str,
    person_id: i64,
    approve: bool,
) -> Result<(), CoreError> {
    let group = local_group(conn, name).await?;
    require_ordinary_membership(&group)?;
    require_group_moderator(conn, &group, caller).await?;
    if approve {
        crate::ban_checks::refuse_if_person_banned(conn, group.id, person_id).await?;
    }
    if !store::take_join_request(conn, group.id, person_id).await? {
        return Err(CoreError::NotFound("join request"));
    }
    if approve {
        content::set_membership(conn, group.id, person_id, "member").await?;
        journey::pay_finished_steps(conn, person_id, StepKind::JoinGroup).await?;
    }
    let mut notice = Notice::new(Kind::JoinRequest, person_id, Some(caller.person_id))
        .detail(if approve { "approved" } else { "declined" });
    notice.group_id = Some(group.id);
    notifications::notify(conn, notice).await?;
    Ok(())
}

/// Invites a person (by person id) to a group; they join with `join_group`. Not a person
/// banned from it or from the instance (`person_banned`): the invitation would be a door the
/// ban closed (a ban also drops the invitations made before it).
pub async fn invite(
    conn: &mut Conn,
    caller: &Caller,
    name: &str,
    person_id: i64,
) -> Result<(), CoreError> {
    let group = local_group(conn, name).await?;
    require_ordinary_membership(&group)?;
    require_group_moderator(conn, &group, caller).await?;
    crate::ban_checks::refuse_if_person_banned(conn, group.id, person_id).await?;
    Ok(store::invite(conn, group.id, person_id, Some(caller.person_id)).await?)
}

/// Members and their roles: (person id, username, host, role), owners and moderators first.
/// A private group's members are its own business: 404 to anyone who may not read it.
pub async fn members(
    conn: &mut Conn,
    caller: Option<&Caller>,
    name: &str,
) -> Result<Vec<(i64, String, Option<String>, String)>, CoreError> {
    let group = readable_local_group(conn, name, caller.into()).await?;
    Ok(store::members(conn, group.id).await?)
}

/// A local group by name whose content (posts, members, boards) the caller may see; 404 for
/// a private group's non-members, as for a missing group. Its card is [`local_group`].
pub async fn readable_group(
    conn: &mut Conn,
    caller: Option<&Caller>,
    name: &str,
) -> Result<Group, CoreError> {
    readable_local_group(conn, name, caller.into()).await
}

/// The directory of this instance's groups (their cards, private ones included: a card shows
/// how to ask to join, never what the group holds), by name, at most `limit`.
pub async fn directory(conn: &mut Conn, limit: i64) -> Result<Vec<Group>, CoreError> {
    Ok(actors::local_groups(conn, limit).await?)
}

/// Where to reach a group's moderators on other servers (a report about content in a group
/// of ours is forwarded there, as Lemmy does).
pub async fn remote_moderator_inboxes(
    conn: &mut Conn,
    group: &Group,
) -> Result<Vec<String>, CoreError> {
    Ok(store::remote_moderator_inboxes(conn, group.id).await?)
}

/// ActivityPub ids of a group's owners and moderators (its moderators collection).
pub async fn moderator_ids(conn: &mut Conn, group: &Group) -> Result<Vec<String>, CoreError> {
    Ok(store::moderator_ids(conn, group.id).await?)
}
