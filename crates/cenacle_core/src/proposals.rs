//! Groups on demand: members propose a group, others back it; at the threshold it is created
//! with the proposer as owner and the backers invited. Community managers may approve or
//! decline at any time.

use crate::{
    accounts::Session,
    caller::require,
    groups::{insert_group, prepare_group, PreparedGroup},
    rewards, Caller, Conn, Context, CoreError,
};
use cenacle_db::{
    actors,
    groups::{self as store, Proposal},
};
use cenacle_domain::{content::Visibility, validate_group_name, validate_group_text, Permission};

/// Proposes a group; the proposer is its first backer. With a threshold of one the group is
/// created at once, so the group's keys are made first, before the caller's transaction.
pub async fn prepare_proposal(
    ctx: &Context,
    name: &str,
    title: &str,
    purpose: &str,
) -> Result<Option<PreparedGroup>, CoreError> {
    validate_group_name(name)?;
    validate_group_text(Some(title), Some(purpose))?;
    if ctx.settings.groups.proposal_threshold <= 1 {
        return Ok(Some(
            prepare_group(ctx, name, title, purpose, Visibility::Public).await?,
        ));
    }
    Ok(None)
}

pub async fn propose(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    name: &str,
    title: &str,
    purpose: &str,
    prepared: Option<&PreparedGroup>,
) -> Result<Proposal, CoreError> {
    validate_group_name(name)?;
    validate_group_text(Some(title), Some(purpose))?;
    rewards::require_reputation(
        conn,
        caller,
        ctx.settings.engagement.privileges.propose_group,
    )
    .await?;
    if actors::local_group_by_name(conn, name).await?.is_some() {
        return Err(CoreError::Conflict("group_exists"));
    }
    let proposal =
        store::insert_proposal(conn, name, title.trim(), purpose, caller.person_id).await?;
    back(conn, ctx, caller, proposal.id, prepared)
        .await
        .map(|(p, _)| p)
}

/// A proposal and its number of backers.
pub async fn probe(conn: &mut Conn, proposal_id: i64) -> Result<(Proposal, i64), CoreError> {
    let proposal = store::proposal(conn, proposal_id)
        .await?
        .ok_or(CoreError::NotFound("proposal"))?;
    let backers = store::backer_count(conn, proposal_id).await?;
    Ok((proposal, backers))
}

/// The keys of the group a proposal would become, made before the caller's transaction (and
/// with no connection held), but only when the next backer may be the one that reaches the
/// threshold.
pub async fn keys_for_backing(
    ctx: &Context,
    (proposal, backers): &(Proposal, i64),
) -> Result<Option<PreparedGroup>, CoreError> {
    let threshold = i64::from(ctx.settings.groups.proposal_threshold);
    if backers + 1 < threshold || proposal.status != "open" {
        return Ok(None);
    }
    keys_for_decision(ctx, proposal).await.map(Some)
}

/// The keys of the group a community manager may approve, made before the transaction.
pub async fn keys_for_decision(
    ctx: &Context,
    proposal: &Proposal,
) -> Result<PreparedGroup, CoreError> {
    prepare_group(
        ctx,
        &proposal.name,
        &proposal.title,
        &proposal.purpose,
        Visibility::Public,
    )
    .await
}

/// Backs a proposal; at the threshold it becomes a group owned by its proposer and the
/// backers are invited. The proposal row is locked, so the threshold creates the group
/// exactly once. Returns the proposal and its backer count.
pub async fn back(
    conn: &mut Conn,
    ctx: &Context,
    caller: &Caller,
    proposal_id: i64,
    prepared: Option<&PreparedGroup>,
) -> Result<(Proposal, i64), CoreError> {
    let threshold = i64::from(ctx.settings.groups.proposal_threshold);
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
    let made_now;
    let prepared = match prepared {
        Some(p) => p,
        // Others backed it meanwhile, after the caller looked: make the keys now (rare).
        None => {
            made_now = prepare_group(
                ctx,
                &proposal.name,
                &proposal.title,
                &proposal.purpose,
                Visibility::Public,
            )
            .await?;
            &made_now
        }
    };
    let created = create_from_proposal(conn, &proposal, prepared, None).await?;
    Ok((created, count))
}

async fn create_from_proposal(
    conn: &mut Conn,
    proposal: &Proposal,
    prepared: &PreparedGroup,
    decided_by: Option<i64>,
) -> Result<Proposal, CoreError> {
    let group = insert_group(conn, prepared, Some(proposal.proposer_id)).await?;
    for backer in store::backers(conn, proposal.id).await? {
        if backer != proposal.proposer_id {
            store::invite(conn, group.id, backer, Some(proposal.proposer_id)).await?;
        }
    }
    Ok(store::close_proposal(conn, proposal.id, "created", Some(group.id), decided_by).await?)
}

/// A community manager approves (`prepared`: the group is created now, with these keys) or
/// declines (`None`) a proposal. Returns it with its number of backers.
pub async fn decide_proposal(
    conn: &mut Conn,
    session: &Session,
    proposal_id: i64,
    prepared: Option<&PreparedGroup>,
) -> Result<(Proposal, i64), CoreError> {
    require(session, Permission::ManageGroups)?;
    let decider = session.account.person_id;
    let proposal = store::proposal_for_update(conn, proposal_id)
        .await?
        .ok_or(CoreError::NotFound("proposal"))?;
    if proposal.status != "open" {
        return Err(CoreError::Conflict("proposal_closed"));
    }
    let decided = match prepared {
        Some(prepared) => create_from_proposal(conn, &proposal, prepared, Some(decider)).await?,
        None => store::close_proposal(conn, proposal.id, "declined", None, Some(decider)).await?,
    };
    let backers = store::backer_count(conn, proposal.id).await?;
    Ok((decided, backers))
}

/// Every proposal with its number of backers.
pub async fn proposals(conn: &mut Conn) -> Result<Vec<(Proposal, i64)>, CoreError> {
    Ok(store::proposals(conn).await?)
}
