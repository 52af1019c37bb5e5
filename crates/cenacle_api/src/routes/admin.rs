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
use cenacle_core::{admin, ScopedFutureExt};
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
    let account = state
        .ctx
        .transaction(|conn| admin::approve_registration(conn, &session, &username).scope_boxed())
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
}

/// Block or unblock another instance (admins only): its activities are refused with 403 and it
/// receives nothing from us.
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
    ctx.transaction(|conn| {
        admin::set_instance_blocked(conn, ctx, &session, &host, blocked).scope_boxed()
    })
    .await?;
    Ok(Json(InstanceBlockView {
        host,
        blocked: req.blocked,
    }))
}
