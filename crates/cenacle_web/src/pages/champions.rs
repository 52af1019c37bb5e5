//! The champions programme as a member lives it: the invitation to answer, the charter to
//! accept (again when a new version comes), the groups and this month's objectives of an
//! active champion, leaving the programme, and why one left.

use super::{acting, signed_in};
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
use cenacle_core::{champions as cases, CoreError, ScopedFutureExt};
use serde::Deserialize;

const HERE: &str = "/champions/me";

pub struct GroupLine {
    name: String,
    since: String,
}

pub struct ObjectiveLine {
    what: String,
    progress: i64,
    target: i32,
    met: bool,
}

#[derive(Template)]
#[template(path = "champion.html")]
struct ChampionPage {
    c: Chrome,
    /// `none`, `invited`, `declined`, `pending_charter`, `active` or `exited`.
    status: String,
    status_text: String,
    title: Option<String>,
    groups: Vec<GroupLine>,
    objectives: Vec<ObjectiveLine>,
    renewal_due: Option<String>,
    exit_reason: Option<String>,
    /// The charter to accept now (its version and text as HTML), when one is asked for.
    charter: Option<(i32, String)>,
    tools_suspended: bool,
}

/// The member's place in the programme.
pub async fn mine(State(state): State<AppState>, v: Visitor) -> Response {
    let caller = match signed_in(&v, HERE) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        cases::my_standing(&mut conn, &caller).await
    }
    .await;
    let (mine, charter) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let t = v.words;
    let status = mine
        .as_ref()
        .map_or_else(|| "none".to_owned(), |m| m.row.status.clone());
    let tools_suspended = mine.as_ref().is_some_and(|m| m.tools_suspended);
    let charter_asked = status == "pending_charter" || tools_suspended;
    let charter = charter
        .filter(|_| charter_asked)
        .map(|c| (c.version, markdown_to_html(&t.pick(c.text_fr, c.text_en))));
    let (title, groups, objectives, renewal_due, exit_reason) = match mine {
        None => (None, vec![], vec![], None, None),
        Some(m) => (
            m.row.title,
            m.groups
                .into_iter()
                .map(|g| GroupLine {
                    name: g.name,
                    since: t.date(&g.since),
                })
                .collect(),
            m.objectives
                .into_iter()
                .map(|o| ObjectiveLine {
                    what: t.t(&format!("champion-metric-{}", o.metric)),
                    met: o.progress >= i64::from(o.target),
                    progress: o.progress,
                    target: o.target,
                })
                .collect(),
            m.row.renewal_due.map(|d| t.date(&d)),
            m.row.exit_reason,
        ),
    };
    page(
        &v,
        StatusCode::OK,
        &ChampionPage {
            c: Chrome::of(&v, HERE),
            status_text: t.t(&format!("champion-status-{status}")),
            status,
            title,
            groups,
            objectives,
            renewal_due,
            exit_reason,
            charter,
            tools_suspended,
        },
    )
}

/// What a member does in the programme.
enum MemberStep {
    Invitation {
        accept: bool,
        reason: Option<String>,
    },
    Charter(i32),
    Leave(Option<String>),
}

/// One step of the member's, in its own transaction; back to the programme page after.
async fn step(state: &AppState, v: &Visitor, csrf: &str, step: MemberStep) -> Response {
    let caller = match acting(v, HERE, csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let (caller, step) = (&caller, &step);
    let done = state
        .ctx
        .transaction(|conn| {
            async move {
                match step {
                    MemberStep::Invitation { accept, reason } => {
                        cases::answer_invitation(conn, caller, *accept, reason.as_deref()).await?
                    }
                    MemberStep::Charter(version) => {
                        cases::accept_charter(conn, caller, *version).await?
                    }
                    MemberStep::Leave(reason) => {
                        cases::leave(conn, caller, reason.as_deref()).await?
                    }
                };
                Ok::<_, CoreError>(())
            }
            .scope_boxed()
        })
        .await;
    after_action(done, v, HERE)
}

#[derive(Deserialize)]
pub struct InvitationForm {
    #[serde(default)]
    csrf: String,
    /// `accept` or `decline` (the button pressed).
    #[serde(default)]
    answer: String,
    #[serde(default)]
    reason: String,
}

fn reason(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|r| !r.is_empty())
}

pub async fn answer_invitation(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<InvitationForm>,
) -> Response {
    let answer = MemberStep::Invitation {
        accept: form.answer == "accept",
        reason: reason(&form.reason),
    };
    step(&state, &v, &form.csrf, answer).await
}

#[derive(Deserialize)]
pub struct CharterForm {
    #[serde(default)]
    csrf: String,
    /// The version the member read (an older one is refused: a new one came meanwhile).
    #[serde(default)]
    version: i32,
}

pub async fn accept_charter(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<CharterForm>,
) -> Response {
    step(&state, &v, &form.csrf, MemberStep::Charter(form.version)).await
}

#[derive(Deserialize)]
pub struct LeaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn leave(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<LeaveForm>,
) -> Response {
    step(
        &state,
        &v,
        &form.csrf,
        MemberStep::Leave(reason(&form.reason)),
    )
    .await
}
