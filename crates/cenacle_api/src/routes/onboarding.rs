//! Onboarding: `/api/v1/onboarding` (my welcome and my progress in the journey) and
//! `/api/v1/admin/onboarding/…` for admins and community managers: the welcome, the journey's
//! steps, the triggered e-mail rules and their dry run (who would receive what now, from the
//! query the sender uses).

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
    journey::{self, Step, StepInput},
    triggered_mail::{self as cases, PlannedMail, Rule, RuleInput},
    welcome::{self, Welcome, WelcomeInput},
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

/// The community manager who introduces the welcome.
#[derive(Serialize, ToSchema)]
pub struct IntroducerView {
    pub username: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    /// Their profile page.
    pub profile_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct WelcomeView {
    /// Markdown.
    pub message_fr: String,
    pub message_en: String,
    pub manager: Option<IntroducerView>,
    /// The local group where newcomers who agree are welcomed by name.
    pub group: Option<String>,
    pub post_in_group: bool,
}

fn welcome_view(state: &AppState, w: Welcome) -> WelcomeView {
    let base = cenacle_core::mail::link_base(&state.ctx);
    WelcomeView {
        manager: w.manager.map(|m| IntroducerView {
            profile_url: format!("{base}/people/{}", m.username),
            username: m.username,
            display_name: m.display_name,
            avatar_url: m.avatar_url,
        }),
        message_fr: w.message_fr,
        message_en: w.message_en,
        group: w.group,
        post_in_group: w.post_in_group,
    }
}

#[derive(Deserialize, ToSchema)]
pub struct WelcomeRequest {
    #[serde(default)]
    pub message_fr: String,
    #[serde(default)]
    pub message_en: String,
    /// Username of a local admin or community manager; null for none.
    pub manager: Option<String>,
    /// Name of a local group; null for none.
    pub group: Option<String>,
    #[serde(default)]
    pub post_in_group: bool,
}

#[utoipa::path(get, path = "/api/v1/admin/onboarding/welcome", tag = "onboarding", security(("bearer" = [])),
    responses((status = 200, body = WelcomeView), (status = 403, body = ErrorBody)))]
pub async fn get_welcome(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<WelcomeView>> {
    cenacle_core::admin::require(&session, cenacle_domain::Permission::ManageOnboarding)?;
    let mut conn = state.ctx.conn().await?;
    let w = welcome::welcome(&mut conn).await?;
    Ok(Json(welcome_view(&state, w)))
}

#[utoipa::path(put, path = "/api/v1/admin/onboarding/welcome", tag = "onboarding", security(("bearer" = [])),
    request_body = WelcomeRequest,
    responses((status = 200, body = WelcomeView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_welcome(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<WelcomeRequest>,
) -> ApiResult<Json<WelcomeView>> {
    let input = WelcomeInput {
        message_fr: req.message_fr,
        message_en: req.message_en,
        manager: req.manager,
        group: req.group,
        post_in_group: req.post_in_group,
    };
    let (session, input) = (&session, &input);
    let w = state
        .ctx
        .transaction(|conn| welcome::set_welcome(conn, session, input).scope_boxed())
        .await?;
    Ok(Json(welcome_view(&state, w)))
}

#[derive(Serialize, ToSchema)]
pub struct StepView {
    pub id: i64,
    /// complete_profile, join_group, answer_question, post_idea, ask_question,
    /// like_contributions or finish_getting_started.
    pub kind: String,
    pub target: i32,
    pub points: i64,
    pub position: i32,
}

impl From<Step> for StepView {
    fn from(s: Step) -> Self {
        StepView {
            id: s.id,
            kind: s.kind,
            target: s.target,
            points: s.points,
            position: s.position,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct StepRequest {
    pub kind: String,
    #[serde(default = "one")]
    pub target: i32,
    #[serde(default)]
    pub points: i64,
    #[serde(default)]
    pub position: i32,
}

fn one() -> i32 {
    1
}

impl From<StepRequest> for StepInput {
    fn from(r: StepRequest) -> Self {
        StepInput {
            kind: r.kind,
            target: r.target,
            points: r.points,
            position: r.position,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/admin/onboarding/steps", tag = "onboarding", security(("bearer" = [])),
    responses((status = 200, body = Vec<StepView>), (status = 403, body = ErrorBody)))]
pub async fn list_steps(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Vec<StepView>>> {
    let mut conn = state.ctx.conn().await?;
    let steps = journey::list_steps(&mut conn, &session).await?;
    Ok(Json(steps.into_iter().map(StepView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/admin/onboarding/steps", tag = "onboarding", security(("bearer" = [])),
    request_body = StepRequest,
    responses((status = 201, body = StepView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_step(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<StepRequest>,
) -> ApiResult<(StatusCode, Json<StepView>)> {
    let input = StepInput::from(req);
    let (session, input) = (&session, &input);
    let step = state
        .ctx
        .transaction(|conn| journey::create_step(conn, session, input).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(step.into())))
}

#[utoipa::path(put, path = "/api/v1/admin/onboarding/steps/{id}", tag = "onboarding", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = StepRequest,
    responses((status = 200, body = StepView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_step(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<StepRequest>,
) -> ApiResult<Json<StepView>> {
    let input = StepInput::from(req);
    let (session, input) = (&session, &input);
    let step = state
        .ctx
        .transaction(|conn| journey::update_step(conn, session, id, input).scope_boxed())
        .await?;
    Ok(Json(step.into()))
}

#[utoipa::path(delete, path = "/api/v1/admin/onboarding/steps/{id}", tag = "onboarding", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_step(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let session = &session;
    state
        .ctx
        .transaction(|conn| journey::delete_step(conn, session, id).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct StepProgressView {
    pub id: i64,
    pub kind: String,
    pub target: i32,
    pub count: i64,
    pub done: bool,
    pub points: i64,
}

/// My onboarding: the welcome (until dismissed) and my progress in the journey's steps.
#[derive(Serialize, ToSchema)]
pub struct MyOnboarding {
    /// Null once dismissed (or for members who joined before the welcome existed).
    pub welcome: Option<WelcomeView>,
    pub steps: Vec<StepProgressView>,
}

/// My progress, measured now; steps newly done pay their points (once each, ever).
#[utoipa::path(get, path = "/api/v1/onboarding", tag = "onboarding", security(("bearer" = [])),
    responses((status = 200, body = MyOnboarding), (status = 401, body = ErrorBody)))]
pub async fn mine(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<MyOnboarding>> {
    let session = &session;
    let (welcome, steps) = state
        .ctx
        .transaction(|conn| {
            async move {
                let welcome = welcome::my_welcome(conn, session).await?;
                let steps = journey::my_progress(conn, session, Utc::now()).await?;
                Ok((welcome, steps))
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(MyOnboarding {
        welcome: welcome.map(|w| welcome_view(&state, w)),
        steps: steps
            .into_iter()
            .map(|s| StepProgressView {
                id: s.id,
                kind: s.kind.as_str().to_owned(),
                target: s.target,
                count: s.count,
                done: s.done,
                points: s.points,
            })
            .collect(),
    }))
}

/// Hides my welcome panel.
#[utoipa::path(post, path = "/api/v1/onboarding/welcome/dismiss", tag = "onboarding", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn dismiss_welcome(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<StatusCode> {
    let session = &session;
    state
        .ctx
        .transaction(|conn| welcome::dismiss_welcome(conn, session).scope_boxed())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
