//! A question's bounty from its page: offering one (points held from the sponsor's balance),
//! and its sponsor awarding it to an answer.

use super::{
    acting,
    post::{load, post_page, Typed},
};
use crate::{
    render::{after_action, page, see_other, PageError},
    session::Visitor,
};
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
    Form,
};
use cenacle_api::{error::ApiError, AppState};
use cenacle_core::{bounties, ScopedFutureExt};
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
    let refusal = match offered {
        Ok(_) => return see_other(&format!("{here}#bounty"), vec![]),
        Err(e) => ApiError::from(e),
    };
    // Not enough points, out of range, the question closed meanwhile: the page again, the
    // reason beside the bounty form and the figures typed kept.
    if !matches!(refusal.status.as_u16(), 400 | 409 | 422) {
        return PageError::from_api(refusal, v.words)
            .for_visitor(&v)
            .into_response();
    }
    match load(&state, &v, id).await {
        Ok((detail, extras)) => {
            let typed = Typed {
                bounty_amount: form.amount,
                bounty_days: form.days,
                bounty_error: Some(cenacle_api::i18n::message(refusal.code, v.words.0).to_owned()),
                ..Typed::default()
            };
            page(&v, refusal.status, &post_page(&v, detail, &extras, typed))
        }
        Err(e) => PageError::from_core(e, &v).into_response(),
    }
}

#[derive(Deserialize)]
pub struct AwardForm {
    #[serde(default)]
    csrf: String,
    /// Text, so that a form without it is refused by its token check first, then found
    /// wanting like any unknown answer.
    #[serde(default)]
    comment_id: String,
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
    let comment_id = form.comment_id.trim().parse::<i64>().unwrap_or(0);
    let awarded = state
        .ctx
        .transaction(|conn| bounties::award_bounty(conn, caller, id, comment_id).scope_boxed())
        .await;
    after_action(awarded.map(|_| ()), &v, &format!("{here}#bounty"))
}
