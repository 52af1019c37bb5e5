//! A question's bounty from its page: offering one (points held from the sponsor's balance),
//! and its sponsor awarding it to an answer.

use super::acting;
use crate::{
    render::{see_other, PageError},
    session::Visitor,
};
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::AppState;
use cenacle_core::{bounties, CoreError, ScopedFutureExt};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct OfferForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    days: String,
}

pub async fn offer(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<OfferForm>,
) -> Response {
    let here = format!("/posts/{id}");
    let caller = match acting(&v, &here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    // A field that is not a number is out of range, as the use case says of a bad one.
    let amount = form.amount.trim().parse::<i64>().unwrap_or(0);
    let days = Some(form.days.trim())
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<i64>().unwrap_or(0));
    let (ctx, caller) = (&state.ctx, &caller);
    let offered = ctx
        .transaction(|conn| {
            bounties::offer_bounty(conn, ctx, caller, id, amount, days).scope_boxed()
        })
        .await;
    done(offered.map(|_| ()), &v, &format!("{here}#bounty"))
}

#[derive(Deserialize)]
pub struct AwardForm {
    #[serde(default)]
    csrf: String,
    comment_id: i64,
}

pub async fn award(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<AwardForm>,
) -> Response {
    let here = format!("/posts/{id}");
    let caller = match acting(&v, &here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let caller = &caller;
    let awarded = state
        .ctx
        .transaction(|conn| bounties::award_bounty(conn, caller, id, form.comment_id).scope_boxed())
        .await;
    done(awarded.map(|_| ()), &v, &format!("{here}#bounty"))
}

/// Back to the question, or the error page saying why not (not enough points, out of range…).
fn done(result: Result<(), CoreError>, v: &Visitor, to: &str) -> Response {
    match result {
        Ok(()) => see_other(to, vec![]),
        Err(e) => PageError::from_core(e, v).into_response(),
    }
}
