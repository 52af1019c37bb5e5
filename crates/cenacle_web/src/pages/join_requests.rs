//! A group's join requests, for its moderators: who asks, with their word to the moderators,
//! and approving or declining each.

use super::{acting, signed_in};
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
use cenacle_api::AppState;
use cenacle_core::{groups, CoreError, ScopedFutureExt};
use serde::Deserialize;

pub struct Request {
    person_id: i64,
    handle: String,
    message: String,
}

#[derive(Template)]
#[template(path = "join_requests.html")]
struct RequestsPage {
    c: Chrome,
    name: String,
    title: String,
    requests: Vec<Request>,
}

pub async fn list(State(state): State<AppState>, v: Visitor, Path(name): Path<String>) -> Response {
    let here = format!("/groups/{name}/requests");
    let caller = match signed_in(&v, &here) {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let requests = groups::join_requests(&mut conn, &caller, &name).await?;
        let group = groups::local_group(&mut conn, &name).await?;
        Ok::<_, CoreError>((group, requests))
    }
    .await;
    let (group, requests) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    page(
        &v,
        StatusCode::OK,
        &RequestsPage {
            c: Chrome::of(&v, &here),
            name: group.name,
            title: group.title,
            requests: requests
                .into_iter()
                .map(|(person_id, username, host, message)| Request {
                    person_id,
                    handle: match host {
                        Some(host) => format!("{username}@{host}"),
                        None => username,
                    },
                    message: message.unwrap_or_default(),
                })
                .collect(),
        },
    )
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    /// "approve" or "decline".
    #[serde(default)]
    decision: String,
}

pub async fn decide(
    State(state): State<AppState>,
    v: Visitor,
    Path((name, person_id)): Path<(String, i64)>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let here = format!("/groups/{name}/requests");
    let caller = match acting(&v, &here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let approve = match form.decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return PageError::bad_request(&v).into_response(),
    };
    let (caller, name_ref) = (&caller, &name);
    let decided = state
        .ctx
        .transaction(|conn| {
            groups::decide_join_request(conn, caller, name_ref, person_id, approve).scope_boxed()
        })
        .await;
    match decided {
        Ok(()) => see_other(&here, vec![]),
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}
