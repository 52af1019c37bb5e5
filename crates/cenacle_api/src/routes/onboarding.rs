//! `/api/v1/admin/onboarding/rules…`: the triggered e-mail rules community managers edit,
//! and their dry run (who would receive what now, from the query the sender uses).

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, Auth},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{
    triggered_mail::{self as cases, PlannedMail, Rule, RuleInput},
    ScopedFutureExt,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct RuleView {
    pub id: i64,
    /// no_contribution_after_signup, first_answer_accepted or inactive_for.
    pub trigger: String,
    pub delay_days: i32,
    /// none or has_contributed.
    pub stop_condition: String,
    pub subject_fr: String,
    pub body_fr: String,
    pub subject_en: String,
    pub body_en: String,
    pub enabled: bool,
}

impl From<Rule> for RuleView {
    fn from(r: Rule) -> Self {
        RuleView {
            id: r.id,
            trigger: r.trigger,
            delay_days: r.delay_days,
            stop_condition: r.stop_condition,
            subject_fr: r.subject_fr,
            body_fr: r.body_fr,
            subject_en: r.subject_en,
            body_en: r.body_en,
            enabled: r.enabled,
        }
    }
}

/// A rule as written. Templates may use `{{name}}`, `{{instance}}`, `{{days}}` and
/// `{{link}}`; any other variable is refused (422 `unknown_template_variable`, naming it).
#[derive(Deserialize, ToSchema)]
pub struct RuleRequest {
    pub trigger: String,
    pub delay_days: i32,
    #[serde(default = "no_stop")]
    pub stop_condition: String,
    pub subject_fr: String,
    pub body_fr: String,
    pub subject_en: String,
    pub body_en: String,
    #[serde(default)]
    pub enabled: bool,
}

fn no_stop() -> String {
    "none".into()
}

impl From<RuleRequest> for RuleInput {
    fn from(r: RuleRequest) -> Self {
        RuleInput {
            trigger: r.trigger,
            delay_days: r.delay_days,
            stop_condition: r.stop_condition,
            subject_fr: r.subject_fr,
            body_fr: r.body_fr,
            subject_en: r.subject_en,
            body_en: r.body_en,
            enabled: r.enabled,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/admin/onboarding/rules", tag = "onboarding", security(("bearer" = [])),
    responses((status = 200, body = Vec<RuleView>), (status = 403, body = ErrorBody)))]
pub async fn list_rules(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Vec<RuleView>>> {
    let mut conn = state.ctx.conn().await?;
    let rules = cases::list_rules(&mut conn, &session).await?;
    Ok(Json(rules.into_iter().map(RuleView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/admin/onboarding/rules", tag = "onboarding", security(("bearer" = [])),
    request_body = RuleRequest,
    responses((status = 201, body = RuleView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<RuleRequest>,
) -> ApiResult<(StatusCode, Json<RuleView>)> {
    let input = RuleInput::from(req);
    let (session, input) = (&session, &input);
    let rule = state
        .ctx
        .transaction(|conn| cases::create_rule(conn, session, input).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(rule.into())))
}

#[utoipa::path(put, path = "/api/v1/admin/onboarding/rules/{id}", tag = "onboarding", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RuleRequest,
    responses((status = 200, body = RuleView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_rule(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RuleRequest>,
) -> ApiResult<Json<RuleView>> {
    let input = RuleInput::from(req);
    let (session, input) = (&session, &input);
    let rule = state
        .ctx
        .transaction(|conn| cases::update_rule(conn, session, id, input).scope_boxed())
        .await?;
    Ok(Json(rule.into()))
}

#[utoipa::path(delete, path = "/api/v1/admin/onboarding/rules/{id}", tag = "onboarding", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_rule(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let session = &session;
    state
        .ctx
        .transaction(|conn| cases::delete_rule(conn, session, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One mail a rule would send now.
#[derive(Serialize, ToSchema)]
pub struct PlannedMailView {
    pub person_id: i64,
    pub username: String,
    /// fr or en: the member's language, which picks the template.
    pub language: String,
    pub subject: String,
    pub text: String,
}

impl From<PlannedMail> for PlannedMailView {
    fn from(m: PlannedMail) -> Self {
        PlannedMailView {
            person_id: m.person_id,
            username: m.username,
            language: m.language.as_str().to_owned(),
            subject: m.content.subject,
            text: m.content.text,
        }
    }
}

/// Who the rule would mail now and what (whether or not it is enabled): the same query as the
/// periodic sender, nothing queued.
#[utoipa::path(get, path = "/api/v1/admin/onboarding/rules/{id}/dry-run", tag = "onboarding", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<PlannedMailView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn dry_run(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<PlannedMailView>>> {
    let mut conn = state.ctx.conn().await?;
    let planned = cases::dry_run(&mut conn, &state.ctx, &session, id, Utc::now()).await?;
    Ok(Json(
        planned.into_iter().map(PlannedMailView::from).collect(),
    ))
}
