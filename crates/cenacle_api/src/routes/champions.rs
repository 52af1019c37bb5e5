//! `/api/v1/champions/…`: the champions (superuser) programme. Community managers publish the
//! charter, nominate, set objectives, review renewals, remove, broadcast and read the
//! dashboard; members answer their invitation, accept the charter and leave; champions use
//! their tools in the groups they champion. The rules are in `cenacle_core::champions`.

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{
    accounts::Session,
    champions::{
        self as cases, AuditEntry, ChampionView as CoreView, Charter, Exit, MonthShare, Nomination,
        Notice, QuestionRow,
    },
    model::Post,
    Caller, ScopedFutureExt,
};
use cenacle_domain::champions::share_percent;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

// ---- views ----

#[derive(Serialize, ToSchema)]
pub struct ChampionGroupView {
    pub name: String,
    pub since: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct ObjectiveView {
    /// `answers_per_month` or `accepted_answers_per_month`.
    pub metric: String,
    pub target: i32,
    /// This calendar month so far.
    pub progress: i64,
    pub met: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ChampionView {
    pub username: String,
    /// `invited`, `declined`, `pending_charter`, `active` or `exited`.
    pub status: String,
    pub title: Option<String>,
    pub nominated_at: DateTime<Utc>,
    /// The last charter version they accepted, and when.
    pub charter_version: Option<i32>,
    pub charter_accepted_at: Option<DateTime<Utc>>,
    pub active_since: Option<DateTime<Utc>>,
    /// When the yearly review is due.
    pub renewal_due: Option<DateTime<Utc>>,
    /// Why they left or were removed (shown to them).
    pub exit_reason: Option<String>,
    pub exited_at: Option<DateTime<Utc>>,
    /// A new charter version waits for their acceptance: their tools do not work until then.
    pub tools_suspended: bool,
    pub groups: Vec<ChampionGroupView>,
    pub objectives: Vec<ObjectiveView>,
}

impl From<CoreView> for ChampionView {
    fn from(v: CoreView) -> Self {
        let r = v.row;
        ChampionView {
            username: r.username,
            status: r.status,
            title: r.title,
            nominated_at: r.nominated_at,
            charter_version: r.charter_version,
            charter_accepted_at: r.charter_accepted_at,
            active_since: r.active_since,
            renewal_due: r.renewal_due,
            exit_reason: r.exit_reason,
            exited_at: r.exited_at,
            tools_suspended: v.tools_suspended,
            groups: v
                .groups
                .into_iter()
                .map(|g| ChampionGroupView {
                    name: g.name,
                    since: g.since,
                })
                .collect(),
            objectives: v
                .objectives
                .into_iter()
                .map(|o| ObjectiveView {
                    met: o.progress >= i64::from(o.target),
                    metric: o.metric,
                    target: o.target,
                    progress: o.progress,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CharterView {
    pub version: i32,
    pub text_en: String,
    pub text_fr: String,
    pub published_at: DateTime<Utc>,
}

impl From<Charter> for CharterView {
    fn from(c: Charter) -> Self {
        CharterView {
            version: c.version,
            text_en: c.text_en,
            text_fr: c.text_fr,
            published_at: c.published_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StandingView {
    /// Your place in the programme (null: never nominated).
    pub champion: Option<ChampionView>,
    /// The charter in force, to read and accept.
    pub charter: Option<CharterView>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    /// Who did it (username).
    pub actor: Option<String>,
    /// What: `nominated`, `invited`, `invitation_accepted`, `charter_accepted`, `activated`,
    /// `charter_published`, `objective_set`, `renewed`, `removed`, `lapsed`,
    /// `exited_voluntarily`, `tool_…`.
    pub action: String,
    /// Why.
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditView {
    fn from(a: AuditEntry) -> Self {
        AuditView {
            id: a.id,
            actor: a.actor,
            action: a.action,
            reason: a.reason,
            detail: a.detail,
            at: a.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MonthShareView {
    /// The first day of the month.
    pub month: NaiveDate,
    /// Answers accepted that month.
    pub accepted: i64,
    /// Of those, answers whose author was an active champion when it was accepted.
    pub by_champions: i64,
    /// `by_champions` in percent of `accepted` (null for a month without any).
    pub share_percent: Option<f64>,
}

impl From<MonthShare> for MonthShareView {
    fn from(m: MonthShare) -> Self {
        MonthShareView {
            month: m.month,
            accepted: m.accepted,
            by_champions: m.by_champions,
            share_percent: share_percent(m.by_champions, m.accepted),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct QuestionView {
    pub id: i64,
    pub group: String,
    pub title: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

impl From<QuestionRow> for QuestionView {
    fn from(q: QuestionRow) -> Self {
        QuestionView {
            id: q.id,
            group: q.group_name,
            title: q.title,
            author: q.author,
            created_at: q.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NoticeView {
    pub id: i64,
    pub author: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<Notice> for NoticeView {
    fn from(n: Notice) -> Self {
        NoticeView {
            id: n.id,
            author: n.author,
            body: n.body,
            created_at: n.created_at,
        }
    }
}

/// A post after a champion tool changed it.
#[derive(Serialize, ToSchema)]
pub struct ToolResultView {
    pub id: i64,
    pub group_id: i64,
    pub pinned: bool,
    pub accepted_comment_id: Option<i64>,
}

impl From<Post> for ToolResultView {
    fn from(p: Post) -> Self {
        ToolResultView {
            id: p.id,
            group_id: p.group_id,
            pinned: p.pinned,
            accepted_comment_id: p.accepted_comment_id,
        }
    }
}

fn list<T, U: From<T>>(rows: Vec<T>) -> Json<Vec<U>> {
    Json(rows.into_iter().map(U::from).collect())
}

// ---- requests ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CharterRequest {
    pub text_en: String,
    pub text_fr: String,
    /// Why a new version (kept in the audit trail of every active champion).
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NominationRequest {
    /// The member's username (from the shortlist or by hand).
    pub person: String,
    /// Local groups they will champion.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The title shown beside their name.
    pub title: Option<String>,
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationAnswer {
    pub accept: bool,
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CharterAcceptance {
    /// The version read: it must be the current one.
    pub version: i32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveRequest {
    /// `answers_per_month` or `accepted_answers_per_month`.
    pub metric: String,
    /// Zero or more.
    pub target: i64,
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The answer to accept; null clears the accepted answer.
    pub comment_id: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    pub pinned: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// The local group to move the post to (one you champion too).
    pub group: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Only people with this status (e.g. `active`).
    pub status: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RenewalQuery {
    /// Reviews due within this many days (default 30).
    pub within_days: Option<u32>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShareQuery {
    /// How many months back, this one included (default 12, at most 60).
    pub months: Option<u32>,
}

// ---- community managers ----

/// The dashboard: everyone in the programme with objectives, this month's progress and the
/// date of their yearly review (community managers).
#[utoipa::path(get, path = "/api/v1/champions", tag = "champions", security(("bearer" = [])),
    params(DashboardQuery),
    responses((status = 200, body = Vec<ChampionView>), (status = 403, body = ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> ApiResult<Json<Vec<ChampionView>>> {
    let mut conn = state.ctx.conn().await?;
    Ok(list(
        cases::dashboard(&mut conn, &session, q.status.as_deref()).await?,
    ))
}

/// The charter in force (any signed-in member).
#[utoipa::path(get, path = "/api/v1/champions/charter", tag = "champions", security(("bearer" = [])),
    responses((status = 200, body = CharterView), (status = 404, body = ErrorBody)))]
pub async fn charter(
    State(state): State<AppState>,
    Auth(_session): Auth,
) -> ApiResult<Json<CharterView>> {
    let mut conn = state.ctx.conn().await?;
    let charter = cases::current_charter(&mut conn)
        .await?
        .ok_or(cenacle_core::CoreError::NotFound("charter"))?;
    Ok(Json(charter.into()))
}

/// Publish a new version of the charter (community managers). Active champions' tools are
/// suspended until they accept it; the first version also makes the champions group.
#[utoipa::path(post, path = "/api/v1/champions/charter", tag = "champions", security(("bearer" = [])),
    request_body = CharterRequest,
    responses((status = 201, body = CharterView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_charter(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<CharterRequest>,
) -> ApiResult<(StatusCode, Json<CharterView>)> {
    let ctx = &state.ctx;
    let session = &session;
    let charter = ctx
        .transaction(|conn| {
            cases::publish_charter(
                conn,
                ctx,
                session,
                &req.text_en,
                &req.text_fr,
                req.reason.as_deref(),
            )
            .scope_boxed()
        })
        .await?;
    Ok((StatusCode::CREATED, Json(charter.into())))
}

/// Nominate a member (community managers): they find the invitation in
/// `/api/v1/champions/me`. Remote or suspended accounts: 422.
#[utoipa::path(post, path = "/api/v1/champions/nominations", tag = "champions", security(("bearer" = [])),
    request_body = NominationRequest,
    responses((status = 201, body = ChampionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn nominate(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<NominationRequest>,
) -> ApiResult<(StatusCode, Json<ChampionView>)> {
    let ctx = &state.ctx;
    let session = &session;
    let nomination = Nomination {
        handle: &req.person,
        groups: &req.groups,
        title: req.title.as_deref(),
        reason: req.reason.as_deref(),
    };
    let nomination = &nomination;
    let view = ctx
        .transaction(|conn| {
            async move { cases::nominate(conn, ctx, session, nomination).await }.scope_boxed()
        })
        .await?;
    Ok((StatusCode::CREATED, Json(ChampionView::from(view))))
}

/// The view of someone in the programme, after a step the core already authorised.
async fn person_view(
    conn: &mut cenacle_core::Conn,
    person_id: i64,
) -> Result<ChampionView, cenacle_core::CoreError> {
    Ok(cases::champion_view(conn, person_id).await?.into())
}

/// Set one of a champion's objectives (community managers); the target cannot be negative.
#[utoipa::path(put, path = "/api/v1/champions/people/{handle}/objectives", tag = "champions", security(("bearer" = [])),
    params(("handle" = String, Path, description = "username")),
    request_body = ObjectiveRequest,
    responses((status = 200, body = Vec<ObjectiveView>), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_objective(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(handle): Path<String>,
    ApiJson(req): ApiJson<ObjectiveRequest>,
) -> ApiResult<Json<Vec<ObjectiveView>>> {
    let ctx = &state.ctx;
    let (session, handle, req) = (&session, &handle, &req);
    let objectives = ctx
        .transaction(|conn| {
            cases::set_objective(
                conn,
                ctx,
                session,
                handle,
                &req.metric,
                req.target,
                req.reason.as_deref(),
            )
            .scope_boxed()
        })
        .await?;
    Ok(Json(
        objectives
            .into_iter()
            .map(|o| ObjectiveView {
                met: o.progress >= i64::from(o.target),
                metric: o.metric,
                target: o.target,
                progress: o.progress,
            })
            .collect(),
    ))
}

async fn manager_step(
    state: &AppState,
    session: &Session,
    handle: &str,
    reason: Option<&str>,
    step: Option<Exit>,
) -> ApiResult<Json<ChampionView>> {
    let ctx = &state.ctx;
    let view = ctx
        .transaction(|conn| {
            async move {
                let row = match step {
                    None => cases::renew(conn, ctx, session, handle, reason).await?,
                    Some(exit) => {
                        cases::end_by_manager(conn, ctx, session, handle, exit, reason).await?
                    }
                };
                person_view(conn, row.person_id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(view))
}

/// Renew a champion for another year (community managers).
#[utoipa::path(post, path = "/api/v1/champions/people/{handle}/renew", tag = "champions", security(("bearer" = [])),
    params(("handle" = String, Path, description = "username")),
    request_body = ReasonRequest,
    responses((status = 200, body = ChampionView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn renew(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(handle): Path<String>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<ChampionView>> {
    manager_step(&state, &session, &handle, req.reason.as_deref(), None).await
}

/// Let a champion's term lapse at its review, with a reason shown to them (community
/// managers).
#[utoipa::path(post, path = "/api/v1/champions/people/{handle}/lapse", tag = "champions", security(("bearer" = [])),
    params(("handle" = String, Path, description = "username")),
    request_body = ReasonRequest,
    responses((status = 200, body = ChampionView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn lapse(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(handle): Path<String>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<ChampionView>> {
    manager_step(
        &state,
        &session,
        &handle,
        req.reason.as_deref(),
        Some(Exit::Lapsed),
    )
    .await
}

/// Remove a champion, with a reason shown to them (community managers): status, badge, tools
/// and the champions group go at once; their content stays.
#[utoipa::path(post, path = "/api/v1/champions/people/{handle}/remove", tag = "champions", security(("bearer" = [])),
    params(("handle" = String, Path, description = "username")),
    request_body = ReasonRequest,
    responses((status = 200, body = ChampionView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(handle): Path<String>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<ChampionView>> {
    manager_step(
        &state,
        &session,
        &handle,
        req.reason.as_deref(),
        Some(Exit::Removed),
    )
    .await
}

/// A person's audit trail in the programme, oldest first (community managers).
#[utoipa::path(get, path = "/api/v1/champions/people/{handle}/audit", tag = "champions", security(("bearer" = [])),
    params(("handle" = String, Path, description = "username")),
    responses((status = 200, body = Vec<AuditView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(handle): Path<String>,
) -> ApiResult<Json<Vec<AuditView>>> {
    let mut conn = state.ctx.conn().await?;
    Ok(list(
        cases::audit_trail(&mut conn, &state.ctx, &session, &handle).await?,
    ))
}

/// Active champions whose yearly review is due (community managers).
#[utoipa::path(get, path = "/api/v1/champions/renewals", tag = "champions", security(("bearer" = [])),
    params(RenewalQuery),
    responses((status = 200, body = Vec<ChampionView>), (status = 403, body = ErrorBody)))]
pub async fn renewals(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(q): ApiQuery<RenewalQuery>,
) -> ApiResult<Json<Vec<ChampionView>>> {
    let mut conn = state.ctx.conn().await?;
    let rows = cases::renewals_due(&mut conn, &session, q.within_days.unwrap_or(30)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(person_view(&mut conn, row.person_id).await?);
    }
    Ok(Json(out))
}

/// The share of accepted solutions given by champions, per month (community managers).
#[utoipa::path(get, path = "/api/v1/champions/solutions-share", tag = "champions", security(("bearer" = [])),
    params(ShareQuery),
    responses((status = 200, body = Vec<MonthShareView>), (status = 403, body = ErrorBody)))]
pub async fn solutions_share(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(q): ApiQuery<ShareQuery>,
) -> ApiResult<Json<Vec<MonthShareView>>> {
    let months = q.months.unwrap_or(12).clamp(1, 60);
    let mut conn = state.ctx.conn().await?;
    Ok(list(
        cases::solutions_share(&mut conn, &session, months).await?,
    ))
}

/// Unanswered questions asked by champions, oldest first (community managers).
#[utoipa::path(get, path = "/api/v1/champions/priority-queue", tag = "champions", security(("bearer" = [])),
    responses((status = 200, body = Vec<QuestionView>), (status = 403, body = ErrorBody)))]
pub async fn priority_queue(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Vec<QuestionView>>> {
    let mut conn = state.ctx.conn().await?;
    Ok(list(cases::priority_queue(&mut conn, &session).await?))
}

/// Broadcast a notice to the champions (community managers).
#[utoipa::path(post, path = "/api/v1/champions/notices", tag = "champions", security(("bearer" = [])),
    request_body = NoticeRequest,
    responses((status = 201), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn broadcast(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<NoticeRequest>,
) -> ApiResult<StatusCode> {
    let session = &session;
    let body = &req.body;
    state
        .ctx
        .transaction(|conn| cases::broadcast(conn, session, body).scope_boxed())
        .await?;
    Ok(StatusCode::CREATED)
}

/// The notices sent to champions, newest first (active champions and community managers).
#[utoipa::path(get, path = "/api/v1/champions/notices", tag = "champions", security(("bearer" = [])),
    responses((status = 200, body = Vec<NoticeView>), (status = 403, body = ErrorBody)))]
pub async fn notices(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Vec<NoticeView>>> {
    let mut conn = state.ctx.conn().await?;
    Ok(list(
        cases::notices(&mut conn, &Caller::from(&session)).await?,
    ))
}

// ---- the member ----

/// Your place in the programme: the invitation to answer, the charter to accept, your groups
/// and objectives, or why you left.
#[utoipa::path(get, path = "/api/v1/champions/me", tag = "champions", security(("bearer" = [])),
    responses((status = 200, body = StandingView), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<StandingView>> {
    let mut conn = state.ctx.conn().await?;
    let (mine, charter) = cases::my_standing(&mut conn, &Caller::from(&session)).await?;
    Ok(Json(StandingView {
        champion: mine.map(ChampionView::from),
        charter: charter.map(CharterView::from),
    }))
}

async fn member_step(
    state: &AppState,
    session: &Session,
    step: MemberStep<'_>,
) -> ApiResult<Json<ChampionView>> {
    let caller = Caller::from(session);
    let caller = &caller;
    let view = state
        .ctx
        .transaction(|conn| {
            async move {
                match step {
                    MemberStep::Invitation(answer) => {
                        cases::answer_invitation(
                            conn,
                            caller,
                            answer.accept,
                            answer.reason.as_deref(),
                        )
                        .await?
                    }
                    MemberStep::Charter(version) => {
                        cases::accept_charter(conn, caller, version).await?
                    }
                    MemberStep::Leave(reason) => cases::leave(conn, caller, reason).await?,
                };
                person_view(conn, caller.person_id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(view))
}

enum MemberStep<'a> {
    Invitation(&'a InvitationAnswer),
    Charter(i32),
    Leave(Option<&'a str>),
}

/// Accept or decline your invitation to the programme.
#[utoipa::path(post, path = "/api/v1/champions/me/invitation", tag = "champions", security(("bearer" = [])),
    request_body = InvitationAnswer,
    responses((status = 200, body = ChampionView), (status = 409, body = ErrorBody)))]
pub async fn answer_invitation(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<InvitationAnswer>,
) -> ApiResult<Json<ChampionView>> {
    member_step(&state, &session, MemberStep::Invitation(&req)).await
}

/// Accept the charter's current version: after the invitation, this makes you a champion;
/// after a new version, it gives you your tools back. An outdated version: 409.
#[utoipa::path(post, path = "/api/v1/champions/me/charter", tag = "champions", security(("bearer" = [])),
    request_body = CharterAcceptance,
    responses((status = 200, body = ChampionView), (status = 409, body = ErrorBody)))]
pub async fn accept_charter(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<CharterAcceptance>,
) -> ApiResult<Json<ChampionView>> {
    member_step(&state, &session, MemberStep::Charter(req.version)).await
}

/// Leave the programme.
#[utoipa::path(post, path = "/api/v1/champions/me/exit", tag = "champions", security(("bearer" = [])),
    request_body = ReasonRequest,
    responses((status = 200, body = ChampionView), (status = 409, body = ErrorBody)))]
pub async fn leave(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<ChampionView>> {
    member_step(&state, &session, MemberStep::Leave(req.reason.as_deref())).await
}

// ---- champion tools ----

/// New questions first: unanswered questions of the groups you champion, newest first.
#[utoipa::path(get, path = "/api/v1/champions/tools/questions", tag = "champions", security(("bearer" = [])),
    responses((status = 200, body = Vec<QuestionView>), (status = 403, body = ErrorBody)))]
pub async fn new_questions(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Vec<QuestionView>>> {
    let mut conn = state.ctx.conn().await?;
    Ok(list(
        cases::new_questions(&mut conn, &Caller::from(&session)).await?,
    ))
}

enum Tool<'a> {
    Accept(Option<i64>),
    Pin(bool),
    Move(&'a str),
}

async fn use_tool(
    state: &AppState,
    session: &Session,
    post_id: i64,
    tool: Tool<'_>,
) -> ApiResult<Json<ToolResultView>> {
    let ctx = &state.ctx;
    let caller = Caller::from(session);
    let caller = &caller;
    let post = ctx
        .transaction(|conn| {
            async move {
                match tool {
                    Tool::Accept(comment) => {
                        cases::tool_accept_answer(conn, ctx, caller, post_id, comment).await
                    }
                    Tool::Pin(pinned) => cases::tool_pin(conn, caller, post_id, pinned).await,
                    Tool::Move(group) => cases::tool_move(conn, caller, post_id, group).await,
                }
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(post.into()))
}

/// Mark (or clear) the accepted answer of a question in a group you champion.
#[utoipa::path(post, path = "/api/v1/champions/tools/posts/{id}/accept", tag = "champions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = AcceptRequest,
    responses((status = 200, body = ToolResultView), (status = 403, description = "not a champion of the group the question is in (read once a move being written committed)", body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, description = "`database_busy`: a ban being written kept this waiting past the bound, or no database connection was free; retry after `Retry-After`", body = ErrorBody)))]
pub async fn tool_accept(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> ApiResult<Json<ToolResultView>> {
    use_tool(&state, &session, id, Tool::Accept(req.comment_id)).await
}

/// Pin or unpin a post in a group you champion.
#[utoipa::path(post, path = "/api/v1/champions/tools/posts/{id}/pin", tag = "champions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = PinRequest,
    responses((status = 200, body = ToolResultView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tool_pin(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<PinRequest>,
) -> ApiResult<Json<ToolResultView>> {
    use_tool(&state, &session, id, Tool::Pin(req.pinned)).await
}

/// Move a post between two groups you champion (409 `author_banned` when its author is banned
/// from the destination or from the instance, 409 `post_moved` when someone else moved it
/// meanwhile; 503 `database_busy`, with `Retry-After`, when a ban being written kept it
/// waiting past the bound).
#[utoipa::path(post, path = "/api/v1/champions/tools/posts/{id}/move", tag = "champions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = MoveRequest,
    responses((status = 200, body = ToolResultView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, description = "`database_busy`: a ban being written kept the move waiting past the bound (or no database connection was free); retry after `Retry-After`", body = ErrorBody)))]
pub async fn tool_move(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> ApiResult<Json<ToolResultView>> {
    use_tool(&state, &session, id, Tool::Move(&req.group)).await
}
