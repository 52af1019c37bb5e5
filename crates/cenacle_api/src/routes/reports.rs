//! Reports (`/api/v1/reports`, a group's queue and reasons) and bans from a group
//! (`/api/v1/groups/{name}/bans`).

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth, MaybeAuth},
    pagination::{Page, PageQuery},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{
    group_bans::{self, Ban, BanTerms},
    people,
    reports::{self, NewReportInput, Reason, Report, ReportTarget},
    Caller, ScopedFutureExt,
};
use cenacle_domain::reports::ReportStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn handle(username: &str, host: Option<&str>) -> String {
    match host {
        Some(h) => format!("{username}@{h}"),
        None => username.to_owned(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReasonView {
    pub code: String,
    pub label: String,
    /// The French label of a default reason (a group's own reasons have one label).
    pub label_fr: Option<String>,
}

impl From<Reason> for ReasonView {
    fn from(r: Reason) -> Self {
        ReasonView {
            code: r.code,
            label: r.label,
            label_fr: r.label_fr,
        }
    }
}

/// The reasons a group offers for reports (its own list, or the defaults).
#[utoipa::path(get, path = "/api/v1/groups/{name}/report-reasons", tag = "moderation",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<ReasonView>), (status = 404, body = ErrorBody)))]
pub async fn reasons(
    State(state): State<AppState>,
    MaybeAuth(session): MaybeAuth,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<ReasonView>>> {
    let caller = session.as_ref().map(Caller::from);
    let mut conn = state.ctx.conn().await?;
    let list = reports::reasons(&mut conn, caller.as_ref(), &name).await?;
    Ok(Json(list.into_iter().map(ReasonView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    pub code: String,
    pub label: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonsRequest {
    pub reasons: Vec<ReasonInput>,
}

/// The group's moderators replace its list of report reasons.
#[utoipa::path(put, path = "/api/v1/groups/{name}/report-reasons", tag = "moderation", security(("bearer" = [])),
    params(("name" = String, Path)), request_body = ReasonsRequest,
    responses((status = 200, body = Vec<ReasonView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_reasons(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<ReasonsRequest>,
) -> ApiResult<Json<Vec<ReasonView>>> {
    let caller = Caller::from(&session);
    let list: Vec<(String, String)> = req.reasons.into_iter().map(|r| (r.code, r.label)).collect();
    let (caller, name, list) = (&caller, &name, &list);
    let saved = state
        .ctx
        .transaction(|conn| reports::set_reasons(conn, caller, name, list).scope_boxed())
        .await?;
    Ok(Json(saved.into_iter().map(ReasonView::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct ReportView {
    pub id: i64,
    /// open, resolved or dismissed.
    pub status: String,
    pub reason: String,
    pub text: String,
    /// The group it is about (`name`, or `name@host` for a group elsewhere).
    pub group: Option<String>,
    /// post, comment or person.
    pub target_kind: String,
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    /// The reported post's or comment's ActivityPub id.
    pub object_ap_id: Option<String>,
    /// The reported person (the content's author).
    pub person: String,
    /// Who reported it, as this instance knows them: a member here, or the account that sent
    /// the report from another server (that server's instance actor when the reporter did not
    /// share their name).
    pub reporter: String,
    /// The reporter's instance (null: this one).
    pub reporter_instance: Option<String>,
    /// Whether the reporter agreed that their name goes with the report to other servers.
    pub share_identity: bool,
    /// The instance the report came from (null: filed here).
    pub received_from: Option<String>,
    pub resolution_note: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Report> for ReportView {
    fn from(r: Report) -> Self {
        let target_kind = if r.target_comment_id.is_some() {
            "comment"
        } else if r.target_post_id.is_some() {
            "post"
        } else {
            "person"
        };
        let group = r.group_name.as_ref().map(|name| match r.group_local {
            Some(false) => {
                let host = r
                    .group_ap_id
                    .as_deref()
                    .map(cenacle_domain::origin::authority);
                handle(name, host)
            }
            _ => name.clone(),
        });
        ReportView {
            id: r.id,
            status: r.status,
            reason: r.reason_code,
            text: r.body,
            group,
            target_kind: target_kind.into(),
            post_id: r.target_post_id,
            comment_id: r.target_comment_id,
            object_ap_id: r.object_ap_id,
            person: handle(&r.target_username, r.target_host.as_deref()),
            reporter: handle(&r.reporter_username, r.reporter_host.as_deref()),
            reporter_instance: r.reporter_host,
            share_identity: r.share_identity,
            received_from: r.origin_host,
            resolution_note: r.resolution_note,
            resolved_at: r.resolved_at,
            created_at: r.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// One of `post_id`, `comment_id` or `person` (`user` or `user@host`).
    pub post_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub person: Option<String>,
    /// For a person: the group of ours where it happened (its moderators see it too).
    pub group: Option<String>,
    /// A code from the group's reasons (`GET /groups/{name}/report-reasons`).
    pub reason: String,
    #[serde(default)]
    pub text: String,
    /// Send your name with the report to other servers (by default this instance reports
    /// in its own name).
    #[serde(default)]
    pub share_identity: bool,
}

/// Report a post, a comment or a person to the moderators. Refused in a group the reporter is
/// banned from (403 `banned_from_group`: a post or comment there, a person with `group`), and
/// to a reporter banned from the instance whatever they report (403 `banned_from_instance`).
#[utoipa::path(post, path = "/api/v1/reports", tag = "moderation", security(("bearer" = [])),
    request_body = ReportRequest,
    responses((status = 201, body = ReportView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, description = "`database_busy`: a ban being written kept this waiting past the bound, or no database connection was free; retry after `Retry-After`", body = ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<ReportRequest>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    let caller = Caller::from(&session);
    let targets = [
        req.post_id.is_some(),
        req.comment_id.is_some(),
        req.person.is_some(),
    ];
    if targets.iter().filter(|t| **t).count() != 1 {
        return Err(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
                .with_details(serde_json::json!({"field": "target", "reason": "exactly_one"})),
        );
    }
    let (ctx, caller, req) = (&state.ctx, &caller, &req);
    let report = ctx
        .transaction(|conn| {
            async move {
                let target = match (req.post_id, req.comment_id, &req.person) {
                    (Some(id), _, _) => ReportTarget::Post(id),
                    (_, Some(id), _) => ReportTarget::Comment(id),
                    (_, _, Some(who)) => {
                        let person = people::person_by_handle(conn, ctx, who).await?;
                        let group_id = match &req.group {
                            Some(name) => {
                                Some(cenacle_core::groups::local_group(conn, name).await?.id)
                            }
                            None => None,
                        };
                        ReportTarget::Person {
                            person_id: person.id,
                            group_id,
                        }
                    }
                    _ => unreachable!("checked above"),
                };
                let input = NewReportInput {
                    target,
                    reason: req.reason.clone(),
                    text: req.text.clone(),
                    share_identity: req.share_identity,
                };
                reports::file(conn, caller, &input).await
            }
            .scope_boxed()
        })
        .await?;
    Ok((StatusCode::CREATED, Json(report.into())))
}

fn page_of(rows: Vec<Report>, limit: i64) -> Page<ReportView> {
    Page::from_rows(rows, limit, |r| r.id, ReportView::from)
}

fn before(page: &PageQuery) -> ApiResult<Option<i64>> {
    Ok(Some(page.after_id()?).filter(|id| *id > 0))
}

/// My reports and what became of them, newest first.
#[utoipa::path(get, path = "/api/v1/reports/mine", tag = "moderation", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<ReportView>)))]
pub async fn mine(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<ReportView>>> {
    let limit = page.limit()?;
    let mut conn = state.ctx.conn().await?;
    let rows = reports::mine(
        &mut conn,
        &Caller::from(&session),
        before(&page)?,
        limit + 1,
    )
    .await?;
    Ok(Json(page_of(rows, limit)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// open (default), resolved or dismissed.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl QueueQuery {
    fn split(self) -> ApiResult<(ReportStatus, PageQuery)> {
        let status = match self.status.as_deref() {
            None => ReportStatus::Open,
            Some(s) => ReportStatus::parse(s)
                .ok_or_else(|| ApiError::invalid_query("status: open, resolved or dismissed"))?,
        };
        Ok((
            status,
            PageQuery {
                limit: self.limit,
                cursor: self.cursor,
            },
        ))
    }
}

/// A group's moderation queue (its moderators), newest first.
#[utoipa::path(get, path = "/api/v1/groups/{name}/reports", tag = "moderation", security(("bearer" = [])),
    params(("name" = String, Path), QueueQuery),
    responses((status = 200, body = Page<ReportView>), (status = 403, body = ErrorBody)))]
pub async fn group_queue(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Page<ReportView>>> {
    let (status, page) = query.split()?;
    let limit = page.limit()?;
    let mut conn = state.ctx.conn().await?;
    let caller = Caller::from(&session);
    let rows =
        reports::group_queue(&mut conn, &caller, &name, status, before(&page)?, limit + 1).await?;
    Ok(Json(page_of(rows, limit)))
}

/// The instance's moderation queue (its admins, community managers and moderators):
/// reports of people, and of content in groups moderated elsewhere.
#[utoipa::path(get, path = "/api/v1/reports", tag = "moderation", security(("bearer" = [])),
    params(QueueQuery),
    responses((status = 200, body = Page<ReportView>), (status = 403, body = ErrorBody)))]
pub async fn instance_queue(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Page<ReportView>>> {
    let (status, page) = query.split()?;
    let limit = page.limit()?;
    let mut conn = state.ctx.conn().await?;
    let caller = Caller::from(&session);
    let rows =
        reports::instance_queue(&mut conn, &caller, status, before(&page)?, limit + 1).await?;
    Ok(Json(page_of(rows, limit)))
}

/// The caller's queue of the groups on other servers that list them as a moderator: the
/// reports those groups forwarded here (empty for anyone who moderates no group elsewhere).
/// Resolving one tells the group's server, which honours it because they are listed.
#[utoipa::path(get, path = "/api/v1/reports/moderated-elsewhere", tag = "moderation", security(("bearer" = [])),
    params(QueueQuery),
    responses((status = 200, body = Page<ReportView>), (status = 401, body = ErrorBody)))]
pub async fn moderated_elsewhere(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> ApiResult<Json<Page<ReportView>>> {
    let (status, page) = query.split()?;
    let limit = page.limit()?;
    let mut conn = state.ctx.conn().await?;
    let caller = Caller::from(&session);
    let rows =
        reports::moderated_elsewhere_queue(&mut conn, &caller, status, before(&page)?, limit + 1)
            .await?;
    Ok(Json(page_of(rows, limit)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// For the reporter: what was done, or why nothing was.
    #[serde(default)]
    pub note: String,
    /// Resolve by banning the reported person from the group (reports about a group of ours).
    pub ban: Option<BanRequest>,
}

async fn close(
    state: &AppState,
    session: &cenacle_core::accounts::Session,
    id: i64,
    status: ReportStatus,
    req: CloseRequest,
) -> ApiResult<Json<ReportView>> {
    let caller = Caller::from(session);
    let ban = req.ban.map(BanTerms::from);
    let (caller, note, ban) = (&caller, &req.note, ban.as_ref());
    let report = state
        .ctx
        .transaction(|conn| reports::close(conn, caller, id, status, note, ban).scope_boxed())
        .await?;
    Ok(Json(report.into()))
}

/// Resolve a report (you acted on it), with a note for the reporter; the servers that hold
/// the report are told. A ban given with it follows the ban's rules (see the group ban).
#[utoipa::path(post, path = "/api/v1/reports/{id}/resolve", tag = "moderation", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CloseRequest,
    responses((status = 200, body = ReportView), (status = 403, description = "not a moderator of the group, or the ban given with it would ban one of its moderators (`cannot_ban_moderator`)", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "already closed, or the ban's `remove_data` would take down a question whose running bounty you sponsor (`bounty_running`, `details.post_id` naming the question)", body = ErrorBody), (status = 503, description = "`database_busy`, with `Retry-After`: a ban with `remove_data` waited past the bound for a champion's move into the group", body = ErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<CloseRequest>,
) -> ApiResult<Json<ReportView>> {
    close(&state, &session, id, ReportStatus::Resolved, req).await
}

/// Dismiss a report (nothing to act on), with a note for the reporter.
#[utoipa::path(post, path = "/api/v1/reports/{id}/dismiss", tag = "moderation", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CloseRequest,
    responses((status = 200, body = ReportView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn dismiss(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<CloseRequest>,
) -> ApiResult<Json<ReportView>> {
    close(&state, &session, id, ReportStatus::Dismissed, req).await
}

// ---- bans ----

#[derive(Serialize, ToSchema)]
pub struct BanView {
    pub person: String,
    pub reason: String,
    /// Null: for good.
    pub expires_at: Option<DateTime<Utc>>,
    pub remove_data: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Ban> for BanView {
    fn from(b: Ban) -> Self {
        BanView {
            person: handle(&b.username, b.host.as_deref()),
            reason: b.reason,
            expires_at: b.expires_at,
            remove_data: b.remove_data,
            created_at: b.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    #[serde(default)]
    pub reason: String,
    /// When the ban ends (must be in the future); omit for good.
    pub expires_at: Option<DateTime<Utc>>,
    /// Also remove everything they wrote in the group.
    #[serde(default)]
    pub remove_data: bool,
}

impl From<BanRequest> for BanTerms {
    fn from(req: BanRequest) -> Self {
        BanTerms {
            reason: req.reason,
            expires_at: req.expires_at,
            remove_data: req.remove_data,
        }
    }
}

/// Ban a person (`user` or `user@host`) from a group of ours (its moderators). With
/// `remove_data`, refused (409 `bounty_running`, nothing done) when the removal would take down
/// a question whose running bounty you sponsor, or your own.
#[utoipa::path(put, path = "/api/v1/groups/{name}/bans/{handle}", tag = "moderation", security(("bearer" = [])),
    params(("name" = String, Path), ("handle" = String, Path)), request_body = BanRequest,
    responses((status = 200, body = BanView), (status = 403, description = "not a moderator of the group, or the person moderates it (`cannot_ban_moderator`)", body = ErrorBody), (status = 409, description = "`remove_data` would take down a question whose running bounty you sponsor, or your own (`bounty_running`, `details.post_id` naming the question)", body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, description = "`database_busy`, with `Retry-After`: a ban with `remove_data` waited past the bound for a champion's move into the group", body = ErrorBody)))]
pub async fn ban(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path((name, who)): Path<(String, String)>,
    ApiJson(req): ApiJson<BanRequest>,
) -> ApiResult<Json<BanView>> {
    let caller = Caller::from(&session);
    let terms = BanTerms::from(req);
    let (ctx, caller, name, who, terms) = (&state.ctx, &caller, &name, &who, &terms);
    let ban = ctx
        .transaction(|conn| {
            async move {
                let person = people::person_by_handle(conn, ctx, who).await?;
                group_bans::ban(conn, caller, name, person.id, terms).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(Json(ban.into()))
}

/// Lift a ban.
#[utoipa::path(delete, path = "/api/v1/groups/{name}/bans/{handle}", tag = "moderation", security(("bearer" = [])),
    params(("name" = String, Path), ("handle" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn unban(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path((name, who)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let caller = Caller::from(&session);
    let (ctx, caller, name, who) = (&state.ctx, &caller, &name, &who);
    ctx.transaction(|conn| {
        async move {
            let person = people::person_by_handle(conn, ctx, who).await?;
            group_bans::unban(conn, caller, name, person.id).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The bans in force in a group of ours (its moderators).
#[utoipa::path(get, path = "/api/v1/groups/{name}/bans", tag = "moderation", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<BanView>), (status = 403, body = ErrorBody)))]
pub async fn bans(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<BanView>>> {
    let mut conn = state.ctx.conn().await?;
    let rows = group_bans::bans(&mut conn, &Caller::from(&session), &name).await?;
    Ok(Json(rows.into_iter().map(BanView::from).collect()))
}
