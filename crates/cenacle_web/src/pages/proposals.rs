//! Groups on demand in the browser: the proposals with their backers, proposing a group, and
//! backing one — at the threshold the group is created, its proposer owner, its backers
//! invited.

use super::acting;
use crate::{
    render::{page, see_other, Chrome, PageError},
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::{
    routes::membership::{back_proposal, propose_group, ProposalRequest},
    AppState,
};
use cenacle_core::{proposals, CoreError};
use serde::Deserialize;

pub struct ProposalCard {
    id: i64,
    name: String,
    title: String,
    purpose: String,
    /// "3 of 5 backers".
    backing: String,
    status: String,
    status_label: String,
}

#[derive(Template)]
#[template(path = "proposals.html")]
struct ProposalsPage {
    c: Chrome,
    proposals: Vec<ProposalCard>,
    /// The proposal form, as typed, and what was wrong with it.
    typed: ProposalForm,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ProposalForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    purpose: String,
}

async fn shown(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    typed: ProposalForm,
    error: Option<String>,
) -> Response {
    let read = async {
        let mut conn = state.ctx.conn().await?;
        proposals::proposals(&mut conn).await
    }
    .await;
    let rows = match read {
        Ok(rows) => rows,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let t = v.words;
    let threshold = i64::from(state.ctx.settings.groups.proposal_threshold);
    page(
        v,
        status,
        &ProposalsPage {
            c: Chrome::of(v, "/proposals"),
            proposals: rows
                .into_iter()
                .map(|(p, backers)| ProposalCard {
                    id: p.id,
                    backing: format!(
                        "{} / {}",
                        t.count("proposal-backers", backers),
                        t.number(threshold)
                    ),
                    status_label: t.t(&format!("proposal-{}", p.status)),
                    status: p.status,
                    name: p.name,
                    title: p.title,
                    purpose: p.purpose,
                })
                .collect(),
            typed,
            error,
        },
    )
}

/// The proposals, open ones first, and the form to propose one.
pub async fn list(State(state): State<AppState>, v: Visitor) -> Response {
    shown(&state, &v, StatusCode::OK, ProposalForm::default(), None).await
}

/// Proposes a group; on a refusal (a name taken, not enough reputation), the form again with
/// what was typed.
pub async fn propose(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<ProposalForm>,
) -> Response {
    let caller = match acting(&v, "/proposals", &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let req = ProposalRequest {
        name: form.name.trim().to_owned(),
        title: form.title.clone(),
        purpose: form.purpose.clone(),
    };
    match propose_group(&state, &caller, &req).await {
        Ok(_) => see_other("/proposals", vec![]),
        Err(e) => refused_again(&state, &v, form, e).await,
    }
}

async fn refused_again(
    state: &AppState,
    v: &Visitor,
    form: ProposalForm,
    e: CoreError,
) -> Response {
    let message = match &e {
        CoreError::Validation(invalid) => v.words.invalid(invalid.code),
        _ => PageError::from_core(e, v).message,
    };
    shown(
        state,
        v,
        StatusCode::UNPROCESSABLE_ENTITY,
        form,
        Some(message),
    )
    .await
}

/// Backs a proposal (once per member; again changes nothing).
pub async fn back(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<super::CsrfOnly>,
) -> Response {
    let caller = match acting(&v, "/proposals", &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    match back_proposal(&state, &caller, id).await {
        Ok(_) => see_other(&format!("/proposals#proposal-{id}"), vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}
