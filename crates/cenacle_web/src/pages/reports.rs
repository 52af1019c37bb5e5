//! Reports in the browser: a member reports a post, an answer or a person (one of the group's
//! reasons and their own words) and follows what became of their reports; a group's
//! moderators work through its queue, the instance's moderators through the instance's.

use super::{acting, signed_in};
use crate::{
    i18n::Words,
    render::{local_path, page, see_other, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
use cenacle_core::{
    group_bans::BanTerms,
    reports::{self, NewReportInput, Reason, Report, ReportTarget},
    Caller, CoreError, ScopedFutureExt,
};
use cenacle_domain::{reports::ReportStatus, Language};
use serde::Deserialize;
use std::collections::HashMap;

/// What is reported, as the report form's query and hidden fields carry it.
#[derive(Deserialize, Default, Clone, Copy)]
pub struct TargetFields {
    post: Option<i64>,
    comment: Option<i64>,
    person: Option<i64>,
}

impl TargetFields {
    fn target(self) -> Option<ReportTarget> {
        match (self.post, self.comment, self.person) {
            (Some(id), None, None) => Some(ReportTarget::Post(id)),
            (None, Some(id), None) => Some(ReportTarget::Comment(id)),
            (None, None, Some(person_id)) => Some(ReportTarget::Person {
                person_id,
                group_id: None,
            }),
            _ => None,
        }
    }

    /// The catalogue key naming what is reported.
    fn what(self) -> &'static str {
        match (self.post, self.comment) {
            (Some(_), _) => "report-what-post",
            (_, Some(_)) => "report-what-comment",
            _ => "report-what-person",
        }
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportForm {
    c: Chrome,
    what: String,
    target: TargetFields,
    /// (code, label, chosen).
    reasons: Vec<(String, String, bool)>,
    text: String,
    share: bool,
    error: Option<String>,
}

fn label(t: Words, reason: &Reason) -> String {
    match (&reason.label_fr, t.0) {
        (Some(fr), Language::Fr) => fr.clone(),
        _ => reason.label.clone(),
    }
}

/// What the member typed, shown again with what was wrong.
struct Typed<'a> {
    reason: &'a str,
    text: &'a str,
    share: bool,
    error: Option<String>,
}

async fn form_page(
    state: &AppState,
    v: &Visitor,
    caller: &Caller,
    target: TargetFields,
    status: StatusCode,
    typed: Typed<'_>,
) -> Response {
    let Some(report_target) = target.target() else {
        return PageError::bad_request(v).into_response();
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        reports::reasons_for(&mut conn, caller, report_target).await
    }
    .await;
    let reasons = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let t = v.words;
    page(
        v,
        status,
        &ReportForm {
            c: Chrome::of(v, "/report"),
            what: t.t(target.what()),
            target,
            reasons: reasons
                .iter()
                .map(|r| (r.code.clone(), label(t, r), r.code == typed.reason))
                .collect(),
            text: typed.text.to_owned(),
            share: typed.share,
            error: typed.error,
        },
    )
}

/// The report form, for what the query names (`?post=`, `?comment=` or `?person=`).
pub async fn report_form(
    State(state): State<AppState>,
    v: Visitor,
    Query(target): Query<TargetFields>,
) -> Response {
    let here = match (target.post, target.comment, target.person) {
        (Some(id), _, _) => format!("/report?post={id}"),
        (_, Some(id), _) => format!("/report?comment={id}"),
        (_, _, Some(id)) => format!("/report?person={id}"),
        _ => "/report".to_owned(),
    };
    let caller = match signed_in(&v, &here) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let typed = Typed {
        reason: "",
        text: "",
        share: false,
        error: None,
    };
    form_page(&state, &v, &caller, target, StatusCode::OK, typed).await
}

#[derive(Deserialize)]
pub struct ReportFormFields {
    #[serde(default)]
    csrf: String,
    // Not a flattened `TargetFields`: a flattened form field arrives as a string, never as
    // a number.
    post: Option<i64>,
    comment: Option<i64>,
    person: Option<i64>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
    /// The checkbox: the reporter's name may go with the report to other servers.
    share: Option<String>,
}

/// Files the report; on to the member's reports, or the form again with what was wrong.
pub async fn file(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<ReportFormFields>,
) -> Response {
    let caller = match acting(&v, "/reports/mine", &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let fields = TargetFields {
        post: form.post,
        comment: form.comment,
        person: form.person,
    };
    let Some(target) = fields.target() else {
        return PageError::bad_request(&v).into_response();
    };
    let input = NewReportInput {
        target,
        reason: form.reason.clone(),
        text: form.text.clone(),
        share_identity: form.share.is_some(),
    };
    let (caller_ref, input_ref) = (&caller, &input);
    let filed = state
        .ctx
        .transaction(|conn| reports::file(conn, caller_ref, input_ref).scope_boxed())
        .await;
    match filed {
        Ok(_) => see_other("/reports/mine", vec![]),
        // A reason not offered, words too long: the form again, with what she typed.
        Err(e) => {
            let refused = PageError::from_core(e, &v);
            if refused.status != StatusCode::UNPROCESSABLE_ENTITY {
                return refused.into_response();
            }
            let typed = Typed {
                reason: &form.reason,
                text: &form.text,
                share: input.share_identity,
                error: Some(refused.message),
            };
            form_page(&state, &v, &caller, fields, refused.status, typed).await
        }
    }
}

/// One report as a list shows it.
pub struct ReportView {
    id: i64,
    when: String,
    /// The reported person's handle, and the page showing the reported content (if any).
    person: String,
    content_link: Option<String>,
    reason: String,
    text: String,
    reporter: String,
    status: String,
    status_label: String,
    note: String,
}

fn handle(username: &str, host: &Option<String>) -> String {
    match host {
        Some(host) => format!("{username}@{host}"),
        None => username.to_owned(),
    }
}

/// The reports with their reasons in the viewer's language (each group's own list).
async fn views(
    conn: &mut cenacle_core::Conn,
    t: Words,
    found: Vec<Report>,
) -> Result<Vec<ReportView>, CoreError> {
    let mut labels: HashMap<Option<i64>, HashMap<String, String>> = HashMap::new();
    let mut out = Vec::with_capacity(found.len());
    for r in found {
        if let std::collections::hash_map::Entry::Vacant(slot) = labels.entry(r.group_id) {
            let offered = reports::reasons_of(conn, r.group_id).await?;
            slot.insert(
                offered
                    .iter()
                    .map(|x| (x.code.clone(), label(t, x)))
                    .collect(),
            );
        }
        let reason = labels[&r.group_id]
            .get(&r.reason_code)
            .cloned()
            .unwrap_or_else(|| r.reason_code.clone());
        let content_link = r.thread_post_id.map(|post| match r.target_comment_id {
            Some(comment) => format!("/posts/{post}#answer-{comment}"),
            None => format!("/posts/{post}"),
        });
        out.push(ReportView {
            id: r.id,
            when: t.date(&r.created_at),
            person: handle(&r.target_username, &r.target_host),
            content_link,
            reason,
            text: r.body,
            reporter: handle(&r.reporter_username, &r.reporter_host),
            status_label: t.t(&format!("report-status-{}", r.status)),
            status: r.status,
            note: r.resolution_note.unwrap_or_default(),
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "my_reports.html")]
struct MyReports {
    c: Chrome,
    reports: Vec<ReportView>,
}

/// The member's reports and what became of them.
pub async fn mine(State(state): State<AppState>, v: Visitor) -> Response {
    let here = "/reports/mine";
    let caller = match signed_in(&v, here) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let found = reports::mine(&mut conn, &caller, None, 100).await?;
        views(&mut conn, v.words, found).await
    }
    .await;
    match read {
        Ok(reports) => page(
            &v,
            StatusCode::OK,
            &MyReports {
                c: Chrome::of(&v, here),
                reports,
            },
        ),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

#[derive(Template)]
#[template(path = "reports_queue.html")]
struct QueuePage {
    c: Chrome,
    heading: String,
    /// This queue's path (its tabs, and where a decision comes back to).
    path: String,
    status: &'static str,
    /// A group's queue: a resolution may ban the person from the group.
    may_ban: bool,
    reports: Vec<ReportView>,
}

#[derive(Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
}

impl QueueQuery {
    fn status(&self) -> Option<ReportStatus> {
        match self.status.as_deref() {
            None => Some(ReportStatus::Open),
            Some(s) => ReportStatus::parse(s),
        }
    }
}

/// Which queue: a group's, the instance's, or the member's groups moderated elsewhere.
enum Queue {
    Group(String),
    Instance,
    Elsewhere,
}

async fn queue_page(state: &AppState, v: &Visitor, queue: Queue, query: QueueQuery) -> Response {
    let path = match &queue {
        Queue::Group(name) => format!("/groups/{name}/reports"),
        Queue::Instance => "/moderation/reports".to_owned(),
        Queue::Elsewhere => "/moderation/reports/elsewhere".to_owned(),
    };
    let caller = match signed_in(v, &path) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let Some(status) = query.status() else {
        return PageError::bad_request(v).into_response();
    };
    let t = v.words;
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let (heading, found) = match &queue {
            Queue::Group(name) => {
                let found =
                    reports::group_queue(&mut conn, &caller, name, status, None, 100).await?;
                let group = cenacle_core::groups::local_group(&mut conn, name).await?;
                (format!("{} — {}", t.t("reports-queue"), group.title), found)
            }
            Queue::Instance => {
                let found = reports::instance_queue(&mut conn, &caller, status, None, 100).await?;
                (t.t("reports-queue-instance"), found)
            }
            Queue::Elsewhere => {
                let found =
                    reports::moderated_elsewhere_queue(&mut conn, &caller, status, None, 100)
                        .await?;
                (t.t("reports-queue-elsewhere"), found)
            }
        };
        Ok::<_, CoreError>((heading, views(&mut conn, t, found).await?))
    }
    .await;
    match read {
        Ok((heading, reports)) => page(
            v,
            StatusCode::OK,
            &QueuePage {
                c: Chrome::of(v, &path),
                heading,
                may_ban: matches!(queue, Queue::Group(_)),
                path,
                status: status.as_str(),
                reports,
            },
        ),
        Err(e) => PageError::from_core(e, v).into_response(),
    }
}

/// A group's moderation queue.
pub async fn group_queue(
    State(state): State<AppState>,
    v: Visitor,
    Path(name): Path<String>,
    Query(query): Query<QueueQuery>,
) -> Response {
    queue_page(&state, &v, Queue::Group(name), query).await
}

/// The instance's moderation queue (people, and groups moderated elsewhere).
pub async fn instance_queue(
    State(state): State<AppState>,
    v: Visitor,
    Query(query): Query<QueueQuery>,
) -> Response {
    queue_page(&state, &v, Queue::Instance, query).await
}

/// The reports of the groups elsewhere that list the member as a moderator.
pub async fn moderated_elsewhere(
    State(state): State<AppState>,
    v: Visitor,
    Query(query): Query<QueueQuery>,
) -> Response {
    queue_page(&state, &v, Queue::Elsewhere, query).await
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
    /// "resolve" or "dismiss".
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    /// The checkbox: resolving bans the reported person from the group…
    ban: Option<String>,
    /// …for this many days (empty: for good).
    #[serde(default)]
    ban_days: String,
    /// The queue to come back to.
    #[serde(default)]
    back: String,
}

/// A moderator resolves or dismisses a report, with a note for the reporter.
pub async fn close(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<CloseForm>,
) -> Response {
    let back = local_path(&form.back);
    let caller = match acting(&v, &back, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let status = match form.decision.as_str() {
        "resolve" => ReportStatus::Resolved,
        "dismiss" => ReportStatus::Dismissed,
        _ => return PageError::bad_request(&v).into_response(),
    };
    let ban = match (form.ban.is_some(), form.ban_days.trim()) {
        (false, _) => None,
        (true, "") => Some(None),
        (true, days) => match days.parse::<i64>() {
            Ok(days @ 1..=3650) => Some(Some(chrono::Utc::now() + chrono::Duration::days(days))),
            _ => {
                let error = CoreError::Validation(cenacle_domain::ValidationError {
                    field: "ban_days",
                    code: "out_of_range",
                });
                return PageError::from_core(error, &v).into_response();
            }
        },
    };
    let terms = ban.map(|expires_at| BanTerms {
        reason: form.note.trim().to_owned(),
        expires_at,
        remove_data: false,
    });
    let (caller, note, terms) = (&caller, form.note.as_str(), terms.as_ref());
    let closed = state
        .ctx
        .transaction(|conn| reports::close(conn, caller, id, status, note, terms).scope_boxed())
        .await;
    match closed {
        Ok(_) => see_other(&back, vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}
