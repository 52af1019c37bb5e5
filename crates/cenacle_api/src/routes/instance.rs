//! `/api/v1/instance` and `/api/v1/setup`: what this instance is, and its first admin.

use super::views::AccountView;
use crate::{
    error::{ApiResult, ErrorBody},
    extract::ApiJson,
    AppState,
};
use axum::{extract::State, http::StatusCode, Json};
use cenacle_core::{accounts::PreparedAccount, admin, ScopedFutureExt};
use cenacle_domain::{RegistrationMode, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct InstanceInfo {
    pub name: String,
    pub software: String,
    pub version: String,
    #[schema(value_type = String, example = "open")]
    pub registration_mode: RegistrationMode,
    /// Languages the interface and messages exist in.
    pub languages: Vec<String>,
}

/// Public facts about this instance.
#[utoipa::path(get, path = "/api/v1/instance", tag = "instance", responses((status = 200, body = InstanceInfo)))]
pub async fn info(State(state): State<AppState>) -> Json<InstanceInfo> {
    let settings = &state.ctx.settings;
    Json(InstanceInfo {
        name: settings.server.instance_name.clone(),
        software: "cenacle".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        registration_mode: settings.accounts.registration_mode,
        languages: vec!["fr".into(), "en".into()],
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token the server printed at first start.
    pub setup_token: String,
    pub username: String,
    pub password: String,
    pub email: Option<String>,
}

/// Create the first admin with the one-time setup token printed at first start.
#[utoipa::path(post, path = "/api/v1/setup", tag = "instance",
    request_body = SetupRequest,
    responses((status = 201, body = AccountView), (status = 403, description = "unknown or used token", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn setup(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SetupRequest>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    // Validated and hashed before the transaction that spends the token.
    let prepared = PreparedAccount::prepare(
        &state.ctx.settings,
        &req.username,
        &req.password,
        req.email.as_deref(),
        Role::Admin,
    )
    .await?;
    let token = &req.setup_token;
    let account = state
        .ctx
        .transaction(|conn| admin::complete_setup(conn, token, &prepared).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(AccountView::private(account))))
}
