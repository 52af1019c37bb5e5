//! The signed-in member's notifications (newest first, marked read one by one or all at once)
//! and the account page where they choose, kind by kind, how to hear of them.

use super::{acting, signed_in, CsrfOnly};
use crate::{
    i18n::Words,
    render::{after_action, page, Chrome, PageError},
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
    digests,
    notifications::{self as cases, Notification},
    ScopedFutureExt,
};
use cenacle_domain::notifications::{Delivery, Kind};
use serde::Deserialize;
use std::collections::HashMap;

/// One line of the list, its words already in the visitor's language.
pub struct Line {
    id: i64,
    unread: bool,
    /// Who acted (a link to them), empty for the instance.
    actor: String,
    /// What happened, after the actor's name.
    what: String,
    /// Where to go: the post (and answer), the group; empty when nothing to show.
    href: String,
    /// The post's title, the group's name or the badge.
    object: String,
    when: String,
}

fn line(t: Words, n: Notification) -> Line {
    let kind: Option<Kind> = n.kind.parse().ok();
    let detail = n.detail.as_deref().unwrap_or("");
    let what = match kind {
        Some(Kind::Like) => t.count("notif-like", n.actor_count.max(1)),
        Some(Kind::IdeaStatus) => format!(
            "{} ({})",
            t.t("notif-idea-status"),
            t.t(&format!("status-{detail}"))
        ),
        Some(Kind::JoinRequest) => t.t(&format!("notif-join-{detail}")),
        Some(Kind::Moderation) => t.t(&format!("notif-moderation-{detail}")),
        Some(k) => t.t(&format!("notif-{}", k.as_str().replace('_', "-"))),
        None => n.kind.clone(),
    };
    let (href, object) = match (n.post_id, &n.post_title, &n.badge, &n.group_name) {
        (Some(_), None, _, _) => (String::new(), t.t("notif-hidden-post")),
        (Some(post), Some(title), _, _) => {
            let anchor = n
                .comment_id
                .map(|c| format!("#answer-{c}"))
                .unwrap_or_default();
            (format!("/posts/{post}{anchor}"), title.clone())
        }
        (None, _, Some(badge), _) => (String::new(), badge.clone()),
        (None, _, None, Some(group)) => (format!("/groups/{group}"), group.clone()),
        _ => (String::new(), String::new()),
    };
    Line {
        id: n.id,
        unread: n.read_at.is_none(),
        actor: n.actor.unwrap_or_default(),
        what,
        href,
        object,
        when: t.date(&n.updated_at),
    }
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    c: Chrome,
    lines: Vec<Line>,
    unread_only: bool,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    unread: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<ListQuery>,
) -> Response {
    let here = "/notifications";
    let caller = match signed_in(&v, here) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let unread_only = q.unread.is_some();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        cases::list(&mut conn, &state.ctx, &caller, unread_only, None, 100).await
    }
    .await;
    let rows = match read {
        Ok(rows) => rows,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    page(
        &v,
        StatusCode::OK,
        &NotificationsPage {
            c: Chrome::of(&v, here),
            lines: rows.into_iter().map(|n| line(v.words, n)).collect(),
            unread_only,
        },
    )
}

pub async fn mark_read(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let here = "/notifications";
    let caller = match acting(&v, here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let caller = &caller;
    let done = state
        .ctx
        .transaction(|conn| cases::mark_read(conn, caller, id).scope_boxed())
        .await;
    after_action(done, &v, here)
}

pub async fn mark_all_read(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let here = "/notifications";
    let caller = match acting(&v, here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let caller = &caller;
    let done = state
        .ctx
        .transaction(|conn| cases::mark_all_read(conn, caller).scope_boxed())
        .await;
    after_action(done.map(|_| ()), &v, here)
}

/// One kind's choice on the account page.
pub struct Choice {
    /// The form field: the kind's name.
    kind: &'static str,
    label: String,
    /// (value, label, selected).
    options: Vec<(&'static str, String, bool)>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    choices: Vec<Choice>,
    saved: bool,
    /// The member's local time in minutes from UTC (None: the instance's).
    utc_offset: Option<i32>,
    /// Every offset one may choose, by quarter hours: (minutes, "UTC+01:00", selected).
    offsets: Vec<(i32, String, bool)>,
}

/// The form field of the local time.
const OFFSET_FIELD: &str = "utc_offset_minutes";

fn offsets(chosen: Option<i32>) -> Vec<(i32, String, bool)> {
    (-720..=840)
        .step_by(15)
        .map(|m: i32| {
            let sign = if m < 0 { '-' } else { '+' };
            let label = format!("UTC{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60);
            (m, label, chosen == Some(m))
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn account(
    State(state): State<AppState>,
    v: Visitor,
    Query(q): Query<AccountQuery>,
) -> Response {
    let here = "/account/notifications";
    let caller = match signed_in(&v, here) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let prefs = cases::preferences(&mut conn, &caller).await?;
        let offset = digests::utc_offset(&mut conn, caller.person_id).await?;
        Ok::<_, cenacle_core::CoreError>((prefs, offset))
    }
    .await;
    let (prefs, utc_offset) = match read {
        Ok(p) => p,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let t = v.words;
    let choices = prefs
        .into_iter()
        .map(|(kind, chosen)| Choice {
            kind: kind.as_str(),
            label: t.t(&format!("kind-{}", kind.as_str().replace('_', "-"))),
            options: Delivery::ALL
                .into_iter()
                .map(|d| {
                    let label = t.t(&format!("delivery-{}", d.as_str().replace('_', "-")));
                    (d.as_str(), label, d == chosen)
                })
                .collect(),
        })
        .collect();
    page(
        &v,
        StatusCode::OK,
        &AccountPage {
            c: Chrome::of(&v, here),
            choices,
            saved: q.saved.is_some(),
            utc_offset,
            offsets: offsets(utc_offset),
        },
    )
}

/// The preferences form: the CSRF token and one field per kind (its name → a delivery).
pub async fn save_preferences(
    State(state): State<AppState>,
    v: Visitor,
    Form(mut form): Form<HashMap<String, String>>,
) -> Response {
    let here = "/account/notifications";
    let csrf = form.remove("csrf").unwrap_or_default();
    let caller = match acting(&v, here, &csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    // "": the instance's default; a number: minutes from UTC (checked by the use case).
    let offset = match form.remove(OFFSET_FIELD).as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(text) => match text.parse::<i32>() {
            Ok(minutes) => Some(Some(minutes)),
            Err(_) => Some(Some(i32::MAX)),
        },
    };
    let changes: Vec<(String, String)> = form.into_iter().collect();
    let (caller, changes) = (&caller, &changes);
    let saved = state
        .ctx
        .transaction(|conn| {
            async move {
                if let Some(minutes) = offset {
                    digests::set_utc_offset(conn, caller.person_id, minutes).await?;
                }
                cases::set_preferences(conn, caller, changes).await
            }
            .scope_boxed()
        })
        .await;
    after_action(saved.map(|_| ()), &v, "/account/notifications?saved=1")
}
