//! Groups: creation (by managers, or grown from members' proposals), settings, membership,
//! join requests and invitations.

use crate::{accounts::Session, admin::require, content::Caller, identity, Context, CoreError};
use cenacle_db::{
    actors::{self, Group, NewLocalGroup},
    content, federation,
    groups::{self as store, GroupChange, Proposal},
};
use cenacle_domain::{
    content::{can_moderate, Actor, GroupRole, Visibility},
    validate_group_name, validate_group_text, Permission, ValidationError,
};
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// Outbox event kinds: what the federation side must announce.
pub const EVENT_GROUP_UPDATED: &str = "group_updated";

pub async fn create_group(
    ctx: &Context,
    session: &Session,
    name: &str,
    title: &str,
    description: &str,
    visibility: Visibility,
) -> Result<Group, CoreError> {
    require(session, Permission::ManageGroups)?;
    let mut conn = ctx.conn().await?;
    let new = prepare_group(ctx, name, title, description, visibility).await?;
    conn.transaction::<_, CoreError, _>(async |conn| {
        insert_group(conn, &new, session.account.person_id).await
    })
    .await
}

/// A validated group with its identity (keys are made before any transaction starts).
struct PreparedGroup {
    name: String,
    title: String,
    description: String,
    identity: cenacle_db::actors::LocalIdentity,
    host: String,
    visibility: &'static str,
}

async fn prepare_group(
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
        visibility: visibility_str(visibility),
    })
}

/// Inserts the group with `owner` as its owner, in the caller's transaction.
async fn insert_group(
    conn: &mut AsyncPgConnection,
    g: &PreparedGroup,
    owner: i64,
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
        },
    )
    .await?;
    content::set_membership(conn, group.id, owner, "owner").await?;
    Ok(group)
}

fn visibility_str(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "public",
        Visibility::Restricted => "restricted",
        Visibility::Private => "private",
    }
}

pub async fn local_group(ctx: &Context, name: &str) -> Result<Group, CoreError> {
    let mut conn = ctx.conn().await?;
    actors::local_group_by_name(&mut conn, name)
        .await?
        .ok_or(CoreError::NotFound("group"))
}

/// The group a member posts in: a local one by name, or a remote one this instance knows
/// (resolved or followed) by `name@host`.
pub async fn group_by_name_or_handle(ctx: &Context, name: &str) -> Result<Group, CoreError> {
    match name.trim_start_matches('!').split_once('@') {
        Some((name, host)) if !host.eq_ignore_ascii_case(&identity::local_host(&ctx.settings)) => {
            let mut conn = ctx.conn().await?;
            actors::remote_group_by_handle(&mut conn, name, &host.to_ascii_lowercase())
                .await?
                .ok_or(CoreError::NotFound("group"))
        }
        Some((name, _)) => local_group(ctx, name).await,
        None => local_group(ctx, name).await,
    }
}

async fn group_actor(
    conn: &mut AsyncPgConnection,
    group: &Group,
    caller: &Caller,
) -> Result<Actor, CoreError> {
    let role = content::membership_role(conn, group.id, caller.person_id).await?;
    Ok(Actor {
        instance_role: caller.instance_role,
        group_role: role.and_then(|r| r.parse::<GroupRole>().ok()),
    })
}

async fn require_moderator(
    conn: &mut AsyncPgConnection,
    group: &Group,
    caller: &Caller,
) -> Result<Actor, CoreError> {
    let actor = group_actor(conn, group, caller).await?;
    if !can_moderate(&actor) {
        return Err(CoreError::NotAllowed("moderate_group"));
    }
    Ok(actor)
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
/// servers learn of it through an `Update` that the outbox event (same transaction) turns into
/// deliveries.
pub async fn update_group(
    ctx: &Context,
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
    let group = local_group(ctx, name).await?;
    let mut conn = ctx.conn().await?;
    require_moderator(&mut conn, &group, caller).await?;
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
    conn.transaction::<_, CoreError, _>(async |conn| {
        let updated = store::update_group(conn, group.id, &db_change).await?;
        federation::insert_outbox_event(conn, EVENT_GROUP_UPDATED, group.id).await?;
        Ok(updated)
    })
    .await
}

/// Joins a public or restricted group, uses an invitation to a private one, or else asks to
/// join it (moderators approve). Returns whether the caller is now a member.
pub async fn join_group(
    ctx: &Context,
    caller: &Caller,
    group: &Group,
    message: Option<&str>,
) -> Result<bool, CoreError> {
    let mut conn = ctx.conn().await?;
    if content::membership_role(&mut conn, group.id, caller.person_id)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    let visibility: Visibility = group.visibility.parse().unwrap_or(Visibility::Private);
    conn.transaction::<_, CoreError, _>(async |conn| {
        if visibility != Visibility::Private
            || store::take_invitation(conn, group.id, caller.person_id).await?
        {
            content::set_membership(conn, group.id, caller.person_id, "member").await?;
            return Ok(true);
        }
        store::request_to_join(conn, group.id, caller.person_id, message).await?;
        Ok(false)
    })
    .await
}

pub async fn leave_group(ctx: &Context, caller: &Caller, group: &Group) -> Result<(), CoreError> {
    let mut conn = ctx.conn().await?;
    if content::membership_role(&mut conn, group.id, caller.person_id)
        .await?
        .as_deref()
        == Some("owner")
    {
        return Err(CoreError::Conflict("owner_cannot_leave"));
    }
    content::remove_membership(&mut conn, group.id, caller.person_id).await?;
    Ok(())
}

/// Pending join requests: (person id, username, host, message).
pub async fn join_requests(
    ctx: &Context,
    caller: &Caller,
    name: &str,
) -> Result<Vec<(i64, String, Option<String>, Option<String>)>, CoreError> {
    let group = local_group(ctx, name).await?;
    let mut conn = ctx.conn().await?;
    require_moderator(&mut conn, &group, caller).await?;
    Ok(store::join_requests(&mut conn, group.id).await?)
}

/// Approves (membership) or rejects a join request.
pub async fn decide_join_request(
    ctx: &Context,
    caller: &Caller,
    name: &str,
    person_id: i64,
    approve: bool,
) -> Result<(), CoreError> {
    let group = local_group(ctx, name).await?;
    let mut conn = ctx.conn().await?;
    require_moderator(&mut conn, &group, caller).await?;
    conn.transaction::<_, CoreError, _>(async |conn| {
        if !store::take_join_request(conn, group.id, person_id).await? {
            return Err(CoreError::NotFound("join request"));
        }
        if approve {
            content::set_membership(conn, group.id, person_id, "member").await?;
        }
        Ok(())
    })
    .await
}

/// Invites a person (by person id) to a group; they join with `join_group`.
pub async fn invite(
    ctx: &Context,
    caller: &Caller,
    name: &str,
    person_id: i64,
) -> Result<(), CoreError> {
    let group = local_group(ctx, name).await?;
    let mut conn = ctx.conn().await?;
    require_moderator(&mut conn, &group, caller).await?;
    Ok(store::invite(&mut conn, group.id, person_id, Some(caller.person_id)).await?)
}

/// Sets a member's group role. Owners name moderators (local or remote people); only an owner
/// or a community manager can make or unmake an owner.
pub async fn set_member_role(
    ctx: &Context,
    caller: &Caller,
    name: &str,
    person_id: i64,
    role: GroupRole,
) -> Result<(), CoreError> {
    let group = local_group(ctx, name).await?;
    let mut conn = ctx.conn().await?;
    let actor = require_moderator(&mut conn, &group, caller).await?;
    let current = content::membership_role(&mut conn, group.id, person_id).await?;
    let is_manager = matches!(
        caller.instance_role,
        Some(cenacle_domain::Role::Admin | cenacle_domain::Role::CommunityManager)
    );
    let touches_owner = role == GroupRole::Owner || current.as_deref() == Some("owner");
    if touches_owner && actor.group_role != Some(GroupRole::Owner) && !is_manager {
        return Err(CoreError::NotAllowed("change_owner"));
    }
    let role = match role {
        GroupRole::Member => "member",
        GroupRole::Moderator => "moderator",
        GroupRole::Owner => "owner",
    };
    Ok(content::set_membership(&mut conn, group.id, person_id, role).await?)
}

pub async fn members(
    ctx: &Context,
    name: &str,
) -> Result<Vec<(i64, String, Option<String>, String)>, CoreError> {
    let group = local_group(ctx, name).await?;
    let mut conn = ctx.conn().await?;
    Ok(store::members(&mut conn, group.id).await?)
}

// ---- groups on demand ----

/// Proposes a group; the proposer is its first backer.
pub async fn propose(
    ctx: &Context,
    caller: &Caller,
    name: &str,
    title: &str,
    purpose: &str,
) -> Result<Proposal, CoreError> {
    validate_group_name(name)?;
    validate_group_text(Some(title), Some(purpose))?;
    let mut conn = ctx.conn().await?;
    crate::engagement::require_reputation(
        &mut conn,
        caller,
        ctx.settings.engagement.privileges.propose_group,
    )
    .await?;
    if actors::local_group_by_name(&mut conn, name)
        .await?
        .is_some()
    {
        return Err(CoreError::Conflict("group_exists"));
    }
    let proposal = conn
        .transaction::<_, CoreError, _>(async |conn| {
            let p =
                store::insert_proposal(conn, name, title.trim(), purpose, caller.person_id).await?;
            store::back(conn, p.id, caller.person_id).await?;
            Ok(p)
        })
        .await?;
    // A threshold of one makes every proposal a group at once.
    back(ctx, caller, proposal.id).await.map(|(p, _)| p)
}

/// Backs a proposal; at the threshold it becomes a group owned by its proposer, and the
/// backers are invited. Returns the proposal and its backer count.
pub async fn back(
    ctx: &Context,
    caller: &Caller,
    proposal_id: i64,
) -> Result<(Proposal, i64), CoreError> {
    let threshold = i64::from(ctx.settings.groups.proposal_threshold);
    let (probe, backers) = {
        let mut conn = ctx.conn().await?;
        let p = store::proposal(&mut conn, proposal_id)
            .await?
            .ok_or(CoreError::NotFound("proposal"))?;
        let n = store::backer_count(&mut conn, proposal_id).await?;
        (p, n)
    };
    // The group's keys are made before the transaction, and only when this backer may be the
    // one that reaches the threshold.
    let prepared = if backers + 1 >= threshold {
        Some(
            prepare_group(
                ctx,
                &probe.name,
                &probe.title,
                &probe.purpose,
                Visibility::Public,
            )
            .await?,
        )
    } else {
        None
    };
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, CoreError, _>(async |conn| {
        let proposal = store::proposal_for_update(conn, proposal_id)
            .await?
            .ok_or(CoreError::NotFound("proposal"))?;
        if proposal.status != "open" {
            let n = store::backer_count(conn, proposal.id).await?;
            return Ok((proposal, n));
        }
        let count = store::back(conn, proposal.id, caller.person_id).await?;
        if count < threshold {
            return Ok((proposal, count));
        }
        let prepared = match &prepared {
            Some(p) => p,
            // Others backed it meanwhile: make the keys now (rare).
            None => {
                &prepare_group(
                    ctx,
                    &proposal.name,
                    &proposal.title,
                    &proposal.purpose,
                    Visibility::Public,
                )
                .await?
            }
        };
        let created = create_from_proposal(conn, &proposal, prepared, None).await?;
        Ok((created, count))
    })
    .await
}

async fn create_from_proposal(
    conn: &mut AsyncPgConnection,
    proposal: &Proposal,
    prepared: &PreparedGroup,
    decided_by: Option<i64>,
) -> Result<Proposal, CoreError> {
    let group = insert_group(conn, prepared, proposal.proposer_id).await?;
    for backer in store::backers(conn, proposal.id).await? {
        if backer != proposal.proposer_id {
            store::invite(conn, group.id, backer, Some(proposal.proposer_id)).await?;
        }
    }
    Ok(store::close_proposal(conn, proposal.id, "created", Some(group.id), decided_by).await?)
}

/// A community manager approves (the group is created now) or declines a proposal.
pub async fn decide_proposal(
    ctx: &Context,
    session: &Session,
    proposal_id: i64,
    approve: bool,
) -> Result<Proposal, CoreError> {
    require(session, Permission::ManageGroups)?;
    let probe = {
        let mut conn = ctx.conn().await?;
        store::proposal(&mut conn, proposal_id)
            .await?
            .ok_or(CoreError::NotFound("proposal"))?
    };
    let prepared = prepare_group(
        ctx,
        &probe.name,
        &probe.title,
        &probe.purpose,
        Visibility::Public,
    )
    .await?;
    let decider = session.account.person_id;
    let mut conn = ctx.conn().await?;
    conn.transaction::<_, CoreError, _>(async |conn| {
        let proposal = store::proposal_for_update(conn, proposal_id)
            .await?
            .ok_or(CoreError::NotFound("proposal"))?;
        if proposal.status != "open" {
            return Err(CoreError::Conflict("proposal_closed"));
        }
        if approve {
            create_from_proposal(conn, &proposal, &prepared, Some(decider)).await
        } else {
            Ok(store::close_proposal(conn, proposal.id, "declined", None, Some(decider)).await?)
        }
    })
    .await
}

pub async fn proposals(ctx: &Context) -> Result<Vec<(Proposal, i64)>, CoreError> {
    let mut conn = ctx.conn().await?;
    Ok(store::proposals(&mut conn).await?)
}
