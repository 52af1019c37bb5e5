//! `/api/v1/groups/{name}/members`, join requests, invitations, and groups on demand
//! (`/api/v1/proposals`).

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, Auth, MaybeAuth},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{
    admin, groups, model::Proposal, moderation, people, proposals, Caller, Conn, Context,
    CoreError, ScopedFutureExt,
};
use cenacle_domain::{content::GroupRole, Permission};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub person_id: i64,
    /// `username` for local people, `username@host` for remote ones.
    pub handle: String,
    /// owner, moderator or member.
    pub role: String,
}

fn handle(username: String, host: Option<String>) -> String {
    match host {
        Some(h) => format!("{username}@{h}"),
        None => username,
    }
}

/// A group's members, owners and moderators first. A private group's are shown to its
/// members only (404 to others).
#[utoipa::path(get, path = "/api/v1/groups/{name}/members", tag = "groups",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<MemberView>), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<MemberView>>> {
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let rows = groups::members(&mut conn, caller.as_ref(), &name).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(person_id, username, host, role)| MemberView {
                person_id,
                handle: handle(username, host),
                role,
            })
            .collect(),
    ))
}

async fn person_id(conn: &mut Conn, ctx: &Context, handle: &str) -> Result<i64, CoreError> {
    Ok(people::person_by_handle(conn, ctx, handle).await?.id)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    #[schema(value_type = String, example = "moderator")]
    pub role: GroupRole,
}

/// Give a member a group role: moderators may be people of other servers (`user@host`, once
/// this instance knows them). Owners name moderators; only an owner or a community manager
/// touches ownership. For a person banned from the group or the instance, refused when the
/// role lets them in or raises them (409 `person_banned`): a ban put them out. Lowering them
/// (a banned moderator put back to member) goes on.
#[utoipa::path(put, path = "/api/v1/groups/{name}/members/{handle}", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path), ("handle" = String, Path, description = "username, user@host, or a remote actor URL")),
    request_body = RoleRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path((name, who)): Path<(String, String)>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let (ctx, caller, name, who) = (&state.ctx, &caller, &name, &who);
    ctx.transaction(|conn| {
        async move {
            let person = person_id(conn, ctx, who).await?;
            moderation::set_member_role(conn, caller, name, person, req.role).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct JoinRequestView {
    pub person_id: i64,
    pub handle: String,
    pub message: Option<String>,
}

/// Requests to join a private group (its moderators).
#[utoipa::path(get, path = "/api/v1/groups/{name}/join-requests", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<JoinRequestView>), (status = 403, body = ErrorBody)))]
pub async fn join_requests(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<JoinRequestView>>> {
    let mut conn = state.ctx.conn().await?;
    let rows = groups::join_requests(&mut conn, &Caller::from(&session), &name).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(person_id, username, host, message)| JoinRequestView {
                person_id,
                handle: handle(username, host),
                message,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub approve: bool,
}

/// Approve or reject a request to join. An approval is refused while the person is banned
/// from the group or the instance (409 `person_banned`; a ban also drops their request).
#[utoipa::path(put, path = "/api/v1/groups/{name}/join-requests/{person_id}", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path), ("person_id" = i64, Path)), request_body = Decision,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decide_join_request(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path((name, person_id)): Path<(String, i64)>,
    ApiJson(req): ApiJson<Decision>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    state
        .ctx
        .transaction(|conn| {
            groups::decide_join_request(conn, &caller, &name, person_id, req.approve).scope_boxed()
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRequest {
    /// `username`, or `user@host`.
    pub handle: String,
}

/// Invite someone to a group (its moderators); they join with `POST …/join`. Not a person
/// banned from the group or the instance (409 `person_banned`; a ban also drops their
/// invitation).
#[utoipa::path(post, path = "/api/v1/groups/{name}/invitations", tag = "groups", security(("bearer" = [])),
    params(("name" = String, Path)), request_body = InvitationRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<InvitationRequest>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let (ctx, caller, name, who) = (&state.ctx, &caller, &name, &req.handle);
    ctx.transaction(|conn| {
        async move {
            let person = person_id(conn, ctx, who).await?;
            groups::invite(conn, caller, name, person).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- groups on demand ----

#[derive(Serialize, ToSchema)]
pub struct ProposalView {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub purpose: String,
    /// open, created or declined.
    pub status: String,
    pub backers: i64,
    /// Backers needed for the group to be created.
    pub threshold: u32,
    /// The group's name once created.
    pub group: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn proposal_view(state: &AppState, p: Proposal, backers: i64) -> ProposalView {
    ProposalView {
        group: (p.status == "created").then(|| p.name.clone()),
        id: p.id,
        name: p.name,
        title: p.title,
        purpose: p.purpose,
        status: p.status,
        backers,
        threshold: state.ctx.settings.groups.proposal_threshold,
        created_at: p.created_at,
    }
}

/// Group proposals, open ones first.
#[utoipa::path(get, path = "/api/v1/proposals", tag = "groups",
    responses((status = 200, body = Vec<ProposalView>)))]
pub async fn proposals(State(state): State<AppState>) -> ApiResult<Json<Vec<ProposalView>>> {
    let mut conn = state.ctx.conn().await?;
    let rows = proposals::proposals(&mut conn).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(p, n)| proposal_view(&state, p, n))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalRequest {
    pub name: String,
    pub title: String,
    /// What the group is for.
    pub purpose: String,
}

/// Propose a group. When enough members back it (`groups.proposal_threshold`), it is created
/// with you as its owner and its backers are invited.
#[utoipa::path(post, path = "/api/v1/proposals", tag = "groups", security(("bearer" = [])),
    request_body = ProposalRequest,
    responses((status = 201, body = ProposalView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn propose(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<ProposalRequest>,
) -> ApiResult<(StatusCode, Json<ProposalView>)> {
    let caller = Caller::from(&session);
    let proposal = propose_group(&state, &caller, &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(proposal_view(&state, proposal, 1)),
    ))
}

/// Proposes a group, for the API and the web pages alike: when proposing creates it at once
/// (a threshold of one), its keys are made first, before the transaction (slow work, no
/// connection held).
pub async fn propose_group(
    state: &AppState,
    caller: &Caller,
    req: &ProposalRequest,
) -> Result<Proposal, CoreError> {
    let prepared =
        proposals::prepare_proposal(&state.ctx, &req.name, &req.title, &req.purpose).await?;
    let ctx = &state.ctx;
    ctx.transaction(|conn| {
        proposals::propose(
            conn,
            ctx,
            caller,
            &req.name,
            &req.title,
            &req.purpose,
            prepared.as_ref(),
        )
        .scope_boxed()
    })
    .await
}

/// Backs a proposal, for the API and the web pages alike: when this backing may reach the
/// threshold, the group's keys are made first, with no connection held.
pub async fn back_proposal(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(Proposal, i64), CoreError> {
    let probe = {
        let mut conn = state.ctx.conn().await?;
        proposals::probe(&mut conn, id).await?
    };
    let prepared = proposals::keys_for_backing(&state.ctx, &probe).await?;
    let ctx = &state.ctx;
    ctx.transaction(|conn| proposals::back(conn, ctx, caller, id, prepared.as_ref()).scope_boxed())
        .await
}

/// Back a proposal.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/back", tag = "groups", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ProposalView), (status = 404, body = ErrorBody)))]
pub async fn back(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<ProposalView>> {
    let (proposal, backers) = back_proposal(&state, &Caller::from(&session), id).await?;
    Ok(Json(proposal_view(&state, proposal, backers)))
}

/// Approve (the group is created now) or decline a proposal: community managers.
#[utoipa::path(put, path = "/api/v1/proposals/{id}/decision", tag = "groups", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = Decision,
    responses((status = 200, body = ProposalView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<Decision>,
) -> ApiResult<Json<ProposalView>> {
    // Refused before the group's keys are made (slow work), and again by the use case.
    admin::require(&session, Permission::ManageGroups)?;
    let (proposal, _) = {
        let mut conn = state.ctx.conn().await?;
        proposals::probe(&mut conn, id).await?
    };
    if proposal.status != "open" {
        return Err(CoreError::Conflict("proposal_closed").into());
    }
    let prepared = if req.approve {
        Some(proposals::keys_for_decision(&state.ctx, &proposal).await?)
    } else {
        None
    };
    let (proposal, backers) = state
        .ctx
        .transaction(|conn| {
            proposals::decide_proposal(conn, &session, id, prepared.as_ref()).scope_boxed()
        })
        .await?;
    Ok(Json(proposal_view(&state, proposal, backers)))
}
