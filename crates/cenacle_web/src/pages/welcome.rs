//! "Getting started": the welcome the community manager wrote (until the member dismisses it)
//! and the member's progress in the onboarding journey — the same use cases as
//! `GET /api/v1/onboarding`.

use super::{acting_session, signed_in, CsrfOnly};
use crate::{
    render::{after_action, page, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
use cenacle_apub::objects::content::markdown_to_html;
use cenacle_core::{getting_started, journey, welcome, ScopedFutureExt};
use cenacle_domain::onboarding::StepKind;

/// The welcome, ready to show.
pub struct WelcomeBox {
    /// Rendered from the manager's Markdown (sanitised by the renderer).
    html: String,
    manager: Option<String>,
    manager_name: String,
    avatar: Option<String>,
}

pub struct StepLine {
    kind: &'static str,
    label: String,
    count: i64,
    target: i32,
    done: bool,
    points: i64,
    /// Where to do it (the getting-started course's page).
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    c: Chrome,
    welcome: Option<WelcomeBox>,
    steps: Vec<StepLine>,
}

pub async fn show(State(state): State<AppState>, v: Visitor) -> Response {
    let here = "/welcome";
    if let Err(redirect) = signed_in(&v, here) {
        return redirect.into_response();
    }
    let Some(session) = v.session.as_ref() else {
        return PageError::from_core(cenacle_core::CoreError::Unauthenticated, &v).into_response();
    };
    let read = state
        .ctx
        .transaction(|conn| {
            async move {
                let w = welcome::my_welcome(conn, session).await?;
                let steps = journey::my_progress(conn, session, chrono::Utc::now()).await?;
                let course = getting_started::getting_started_course(conn).await?;
                Ok((w, steps, course))
            }
            .scope_boxed()
        })
        .await;
    let (w, steps, course) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let t = v.words;
    let welcome = w.map(|w| WelcomeBox {
        html: markdown_to_html(w.message(t.0)),
        manager_name: w
            .manager
            .as_ref()
            .map(|m| m.display_name.clone().unwrap_or_else(|| m.username.clone()))
            .unwrap_or_default(),
        avatar: w.manager.as_ref().and_then(|m| m.avatar_url.clone()),
        manager: w.manager.map(|m| m.username),
    });
    let steps = steps
        .into_iter()
        .map(|s| StepLine {
            kind: s.kind.as_str(),
            label: t.t(&format!("step-{}", s.kind.as_str().replace('_', "-"))),
            count: s.count,
            target: s.target,
            done: s.done,
            points: s.points,
            link: match (s.kind, course) {
                (StepKind::FinishGettingStarted, Some(id)) => Some(format!("/courses/{id}")),
                _ => None,
            },
        })
        .collect();
    page(
        &v,
        StatusCode::OK,
        &WelcomePage {
            c: Chrome::of(&v, here),
            welcome,
            steps,
        },
    )
}

pub async fn dismiss(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let here = "/welcome";
    let session = match acting_session(&v, here, &form.csrf) {
        Ok(session) => session,
        Err(refused) => return refused.into_response(),
    };
    let done = state
        .ctx
        .transaction(|conn| welcome::dismiss_welcome(conn, session).scope_boxed())
        .await;
    after_action(done, &v, here)
}
