//! The vote buttons of a post and its answers. A plain form (the page comes back at the
//! answer voted on); with the page's script, the same form sent in the background and only
//! the score and the pressed button updated, without moving the page.

use super::acting;
use crate::{
    render::{see_other, PageError},
    session::Visitor,
};
use axum::{
    extract::{Path, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Form, Json,
};
use cenacle_api::AppState;
use cenacle_core::{model::VoteTarget, votes, ScopedFutureExt};
use cenacle_domain::content::Vote;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct VoteForm {
    #[serde(default)]
    csrf: String,
    /// "like" or "dislike": pressing the button of one's current vote withdraws it.
    #[serde(default)]
    vote: String,
    /// The vote the page showed ("like", "dislike" or ""): a second copy of the same press
    /// finds it changed and does nothing.
    #[serde(default)]
    was: String,
}

fn parse_vote(text: &str) -> Option<Vote> {
    match text {
        "like" => Some(Vote::Like),
        "dislike" => Some(Vote::Dislike),
        _ => None,
    }
}

/// What the page's script reads back.
#[derive(Serialize)]
struct VoteState {
    score: i32,
    /// "like", "dislike" or "".
    mine: &'static str,
}

pub async fn vote_post(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<VoteForm>,
) -> Response {
    press(&state, &v, &headers, VoteTarget::Post(id), form).await
}

pub async fn vote_comment(
    State(state): State<AppState>,
    v: Visitor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<VoteForm>,
) -> Response {
    press(&state, &v, &headers, VoteTarget::Comment(id), form).await
}

async fn press(
    state: &AppState,
    v: &Visitor,
    headers: &HeaderMap,
    target: VoteTarget,
    form: VoteForm,
) -> Response {
    let here = match target {
        VoteTarget::Post(id) => format!("/posts/{id}"),
        VoteTarget::Comment(_) => "/".to_owned(),
    };
    let caller = match acting(v, &here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let Some(pressed) = parse_vote(&form.vote) else {
        return PageError::bad_request(v).into_response();
    };
    let shown = parse_vote(&form.was);
    let (ctx, caller) = (&state.ctx, &caller);
    let cast = ctx
        .transaction(|conn| {
            async move {
                let now = votes::toggle_vote(conn, ctx, caller, target, pressed, shown).await?;
                let (likes, dislikes) = votes::counts(conn, target).await?;
                let post_id = votes::subject_of(conn, target).await?.post.id;
                Ok((now, likes - dislikes, post_id))
            }
            .scope_boxed()
        })
        .await;
    let (now, score, post_id) = match cast {
        Ok(cast) => cast,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.starts_with("application/json"));
    if wants_json {
        let mine = match now {
            Some(Vote::Like) => "like",
            Some(Vote::Dislike) => "dislike",
            None => "",
        };
        return Json(VoteState { score, mine }).into_response();
    }
    let anchor = match target {
        VoteTarget::Post(_) => String::new(),
        VoteTarget::Comment(id) => format!("#answer-{id}"),
    };
    see_other(&format!("/posts/{post_id}{anchor}"), vec![])
}
