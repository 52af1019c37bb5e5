//! `/api/v1/admin/*`: account management for admins and community managers.

use super::views::AccountView;
use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth},
    pagination::{Page, PageQuery},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{admin, instance_moderation, ScopedFutureExt};
use cenacle_domain::{AccountStatus, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountListQuery {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only accounts in this status, e.g. `pending_approval`.
    #[param(value_type = Option<String>)]
    pub status: Option<AccountStatus>,
}

/// List local accounts, oldest first, with cursor pagination.
#[utoipa::path(get, path = "/api/v1/admin/accounts", tag = "admin", security(("bearer" = [])),
    params(AccountListQuery),
    responses((status = 200, body = Page<AccountView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(query): ApiQuery<AccountListQuery>,
) -> ApiResult<Json<Page<AccountView>>> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let mut conn = state.ctx.conn().await?;
    let rows = admin::list_accounts(
        &mut conn,
        &session,
        page.after_id()?,
        limit + 1,
        query.status,
    )
    .await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |a| a.person_id,
        AccountView::private,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    #[schema(value_type = String, example = "community_manager")]
    pub role: Role,
}

/// Give an account a role (admins only). The last admin cannot be demoted.
#[utoipa::path(put, path = "/api/v1/admin/accounts/{username}/role", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path)),
    request_body = RoleChange,
    responses((status = 200, body = AccountView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(username): Path<String>,
    ApiJson(req): ApiJson<RoleChange>,
) -> ApiResult<Json<AccountView>> {
    let account = state
        .ctx
        .transaction(|conn| {
            admin::set_role(conn, Some(&session), &username, req.role).scope_boxed()
        })
        .await?;
    Ok(Json(AccountView::private(account)))
}

/// Approve a registration that waits for approval.
#[utoipa::path(post, path = "/api/v1/admin/accounts/{username}/approve", tag = "admin", security(("bearer" = [])),
    params(("username" = String, Path)),
    responses((status = 200, body = AccountView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(username): Path<String>,
) -> ApiResult<Json<AccountView>> {
    let ctx = &state.ctx;
    let account = ctx
        .transaction(|conn| {
            admin::approve_registration(conn, ctx, &session, &username).scope_boxed()
        })
        .await?;
    Ok(Json(AccountView::private(account)))
}

#[derive(Serialize, ToSchema)]
pub struct InviteResponse {
    /// Give this to the person invited; they send it as `invite_code` when registering.
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// Create a single-use invitation.
#[utoipa::path(post, path = "/api/v1/admin/invites", tag = "admin", security(("bearer" = [])),
    responses((status = 201, body = InviteResponse), (status = 403, body = ErrorBody)))]
pub async fn create_invite(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<(StatusCode, Json<InviteResponse>)> {
    let ctx = &state.ctx;
    let invite = ctx
        .transaction(|conn| admin::create_invite(conn, ctx, &session).scope_boxed())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteResponse {
            code: invite.code,
            expires_at: invite.expires_at,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceBlock {
    pub blocked: bool,
}

#[derive(Serialize, ToSchema)]
pub struct InstanceBlockView {
    pub host: String,
    pub blocked: bool,
    /// Follows between it and us that the block ended (its people's follows of our groups
    /// and members, our members' follows of its actors).
    pub follows_dropped: usize,
    /// Deliveries that were queued for it, cancelled.
    pub deliveries_cancelled: usize,
}

/// Block or unblock another instance (admins only): its activities are refused with 403 and it
/// receives nothing from us. A block also ends the follows between it and us and cancels
/// what was queued for it; an unblock restores neither.
#[utoipa::path(put, path = "/api/v1/admin/instances/{host}/block", tag = "admin", security(("bearer" = [])),
    params(("host" = String, Path, description = "host name, with :port when it has one")),
    request_body = InstanceBlock,
    responses((status = 200, body = InstanceBlockView), (status = 403, body = ErrorBody)))]
pub async fn block_instance(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(host): Path<String>,
    ApiJson(req): ApiJson<InstanceBlock>,
) -> ApiResult<Json<InstanceBlockView>> {
    let blocked = req.blocked;
    let ctx = &state.ctx;
    let effects = ctx
        .transaction(|conn| {
            instance_moderation::set_blocked(conn, ctx, &session, &host, blocked).scope_boxed()
        })
        .await?;
    Ok(Json(InstanceBlockView {
        host: host.to_ascii_lowercase(),
        blocked: req.blocked,
        follows_dropped: effects.follows_dropped,
        deliveries_cancelled: effects.deliveries_cancelled,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceAllow {
    pub allowed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct InstanceAllowView {
    pub host: String,
    pub allowed: bool,
}

/// Allow or disallow an instance for allow-list mode (admins only; the mode is
/// `federation.allow_list_only`): in that mode, only allowed instances federate with us.
#[utoipa::path(put, path = "/api/v1/admin/instances/{host}/allow", tag = "admin", security(("bearer" = [])),
    params(("host" = String, Path, description = "host name, with :port when it has one")),
    request_body = InstanceAllow,
    responses((status = 200, body = InstanceAllowView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn allow_instance(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(host): Path<String>,
    ApiJson(req): ApiJson<InstanceAllow>,
) -> ApiResult<Json<InstanceAllowView>> {
    let (ctx, session, host) = (&state.ctx, &session, &host);
    let allowed = req.allowed;
    let host = ctx
        .transaction(|conn| {
            instance_moderation::set_allowed(conn, ctx, session, host, allowed).scope_boxed()
        })
        .await?;
    Ok(Json(InstanceAllowView { host, allowed }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceLimit {
    pub limited: bool,
}

#[derive(Serialize, ToSchema)]
pub struct InstanceLimitView {
    pub host: String,
    pub limited: bool,
}

/// Limit an instance we know (admins only): every post of its people in our groups waits for
/// a moderator's approval. 404 `unknown_instance` for an instance we never heard of.
#[utoipa::path(put, path = "/api/v1/admin/instances/{host}/limit", tag = "admin", security(("bearer" = [])),
    params(("host" = String, Path, description = "host name, with :port when it has one")),
    request_body = InstanceLimit,
    responses((status = 200, body = InstanceLimitView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn limit_instance(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(host): Path<String>,
    ApiJson(req): ApiJson<InstanceLimit>,
) -> ApiResult<Json<InstanceLimitView>> {
    let (session, host) = (&session, &host);
    let limited = req.limited;
    let host = state
        .ctx
        .transaction(|conn| {
            instance_moderation::set_limited(conn, session, host, limited).scope_boxed()
        })
        .await?;
    Ok(Json(InstanceLimitView { host, limited }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    /// A local username, or a remote person's actor id.
    pub person: String,
    /// Shown in the moderation log and to the person.
    #[serde(default)]
    pub reason: String,
    /// When the ban ends (must lie ahead); none: until lifted.
    pub expires_at: Option<DateTime<Utc>>,
    /// Also remove all their posts and comments (with the reason).
    #[serde(default)]
    pub remove_content: bool,
}

#[derive(Serialize, ToSchema)]
pub struct BanView {
    pub person_id: i64,
    pub person: Option<String>,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<instance_moderation::Ban> for BanView {
    fn from(b: instance_moderation::Ban) -> Self {
        Self {
            person_id: b.person_id,
            person: b.ap_id,
            reason: b.reason,
            expires_at: b.expires_at,
            created_at: b.created_at,
        }
    }
}

/// Ban a person, local or remote, from the whole instance (admins, community managers and
/// moderators): their activities are ignored, a member of ours can no longer log in and
/// their sessions end; with `remove_content`, their posts and comments are removed — refused
/// (409 `bounty_running`, nothing done) when that would take down a question whose running
/// bounty you sponsor.
#[utoipa::path(post, path = "/api/v1/admin/bans", tag = "admin", security(("bearer" = [])),
    request_body = BanRequest,
    responses((status = 201, body = BanView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`remove_content` would take down a question whose running bounty you sponsor (`bounty_running`, `details.post_id` naming the question)", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ban(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<BanRequest>,
) -> ApiResult<(StatusCode, Json<BanView>)> {
    let request = instance_moderation::BanRequest {
        person: req.person,
        reason: req.reason,
        expires_at: req.expires_at,
        remove_content: req.remove_content,
    };
    let (session, request) = (&session, &request);
    let ban = state
        .ctx
        .transaction(|conn| instance_moderation::ban(conn, session, request).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(ban.into())))
}

/// Bans in force, by person.
#[utoipa::path(get, path = "/api/v1/admin/bans", tag = "admin", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<BanView>), (status = 403, body = ErrorBody)))]
pub async fn bans(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<BanView>>> {
    let limit = page.limit()?;
    let mut conn = state.ctx.conn().await?;
    let rows = instance_moderation::bans(&mut conn, &session, page.after_id()?, limit + 1).await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |b| b.person_id,
        BanView::from,
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnbanQuery {
    /// A local username, or a remote person's actor id.
    pub person: String,
}

/// Lift a ban (409 `not_banned` when none is in force).
#[utoipa::path(delete, path = "/api/v1/admin/bans", tag = "admin", security(("bearer" = [])),
    params(UnbanQuery),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn unban(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(q): ApiQuery<UnbanQuery>,
) -> ApiResult<StatusCode> {
    let (session, person) = (&session, &q.person);
    state
        .ctx
        .transaction(|conn| instance_moderation::unban(conn, session, person).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
