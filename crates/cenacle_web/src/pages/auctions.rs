//! Point auctions in the browser: the running lots, a lot's page with its bids (kept live by a
//! small script polling the public API, so a member sees an outbid without reloading), the bid
//! form (a refusal comes back beside it with the amount kept), and, for community managers,
//! putting a reward up and cancelling a lot.

use super::{
    acting, acting_session,
    shop::{field, form_time, manages},
};
use crate::{
    render::{
        after_action, field_refusal, fixable_refusal, page, see_other, Chrome, FieldRefusal,
        PageError,
    },
    session::Visitor,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form, Json,
};
use cenacle_api::{error::ApiError, AppState};
use cenacle_core::{
    auctions::{self, AuctionInput},
    model::Auction,
    points, shop, Caller, CoreError, ScopedFutureExt,
};
use cenacle_domain::ValidationError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A lot as the list and its page show it (and its live script reads it).
#[derive(Serialize)]
pub struct LotCard {
    id: i64,
    reward: String,
    description: String,
    /// The leading bid, or the starting price when nobody bid yet.
    price: String,
    /// "Leading bid" or "Starting price", as `price` is one or the other.
    price_label: String,
    has_bids: bool,
    next_minimum: i64,
    ends_at: String,
    /// RFC 3339, for the live script.
    ends_at_iso: String,
    status: String,
    open: bool,
    /// The visitor leads this lot.
    leading: bool,
    reserve_unmet: bool,
}

fn next_minimum(a: &Auction) -> i64 {
    match a.leading_amount {
        None => a.starting_price,
        Some(amount) => amount.saturating_add(a.min_increment),
    }
}

fn lot_card(v: &Visitor, a: &Auction, names: &HashMap<i64, (String, String)>) -> LotCard {
    let t = v.words;
    let (reward, description) = names.get(&a.reward_id).cloned().unwrap_or_default();
    let open = a.status == "open";
    LotCard {
        id: a.id,
        reward,
        description,
        price: t.count(
            "bounty-points",
            a.leading_amount.unwrap_or(a.starting_price),
        ),
        has_bids: a.leading_amount.is_some(),
        price_label: t.t(if a.leading_amount.is_some() {
            "auction-leading"
        } else {
            "auction-starting"
        }),
        next_minimum: next_minimum(a),
        ends_at: t.date(&a.ends_at),
        ends_at_iso: a.ends_at.to_rfc3339(),
        status: t.t(&format!("auction-status-{}", a.status)),
        open,
        leading: v
            .caller()
            .is_some_and(|c| a.leading_bidder == Some(c.person_id)),
        reserve_unmet: match (a.reserve, a.leading_amount) {
            (Some(reserve), Some(amount)) => amount < reserve,
            (Some(_), None) => true,
            (None, _) => false,
        },
    }
}

/// Every reward's name and description in the visitor's language (lots are often rewards kept
/// out of the shop).
async fn reward_names(
    conn: &mut cenacle_core::Conn,
    v: &Visitor,
) -> Result<HashMap<i64, (String, String)>, CoreError> {
    Ok(shop::catalogue(conn, false)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.id,
                (
                    v.words.pick(r.name_fr, r.name_en),
                    v.words.pick(r.description_fr, r.description_en),
                ),
            )
        })
        .collect())
}

pub struct RewardOption {
    id: i64,
    name: String,
}

/// What a community manager typed in the "put up" form, kept when it is refused.
#[derive(Default, Deserialize)]
pub struct PutUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reward_id: String,
    /// Blank: now.
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    starting_price: String,
    #[serde(default)]
    min_increment: String,
    #[serde(default)]
    reserve: String,
    /// Minutes (people think in minutes; the core takes seconds). Blank: the instance's.
    #[serde(default)]
    extension_minutes: String,
}

#[derive(Template)]
#[template(path = "auctions.html")]
struct AuctionsPage {
    c: Chrome,
    lots: Vec<LotCard>,
    /// For community managers: the rewards they can put up, their form and its refusal.
    rewards: Option<Vec<RewardOption>>,
    form: PutUpForm,
    refusal: FieldRefusal,
}

async fn auctions_page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    form: PutUpForm,
    refusal: FieldRefusal,
) -> Response {
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let lots = auctions::auctions(&mut conn, true).await?;
        let names = reward_names(&mut conn, v).await?;
        Ok::<_, CoreError>((lots, names))
    }
    .await;
    let (lots, names) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let rewards = manages(v).then(|| {
        let mut options: Vec<RewardOption> = names
            .iter()
            .map(|(id, (name, _))| RewardOption {
                id: *id,
                name: name.clone(),
            })
            .collect();
        options.sort_by(|a, b| a.name.cmp(&b.name));
        options
    });
    page(
        v,
        status,
        &AuctionsPage {
            c: Chrome::of(v, "/auctions"),
            lots: lots.iter().map(|a| lot_card(v, a, &names)).collect(),
            rewards,
            form,
            refusal,
        },
    )
}

/// The running lots (open to visitors: bidding asks to sign in).
pub async fn list(State(state): State<AppState>, v: Visitor) -> Response {
    auctions_page(
        &state,
        &v,
        StatusCode::OK,
        PutUpForm::default(),
        FieldRefusal::default(),
    )
    .await
}

impl PutUpForm {
    fn input(&self) -> Result<AuctionInput, CoreError> {
        let number = |t: &str| t.parse::<i64>().ok();
        let required = |field: &'static str, value: Option<i64>| {
            value.ok_or(CoreError::Validation(ValidationError {
                field,
                code: "empty",
            }))
        };
        Ok(AuctionInput {
            reward_id: required("reward_id", field("reward_id", &self.reward_id, number)?)?,
            starts_at: field("starts_at", &self.starts_at, form_time)?,
            ends_at: field("ends_at", &self.ends_at, form_time)?.ok_or(CoreError::Validation(
                ValidationError {
                    field: "ends_at",
                    code: "empty",
                },
            ))?,
            starting_price: required(
                "starting_price",
                field("starting_price", &self.starting_price, number)?,
            )?,
            min_increment: field("min_increment", &self.min_increment, number)?.unwrap_or(1),
            reserve: field("reserve", &self.reserve, number)?,
            // The core's field, so that its refusal lands under this input too.
            extension_seconds: field("extension_seconds", &self.extension_minutes, |t| {
                t.parse::<i32>().ok()?.checked_mul(60)
            })?,
        })
    }
}

/// A community manager puts a reward up: its unit leaves the shelf until the lot sells or not.
pub async fn put_up(
    State(state): State<AppState>,
    v: Visitor,
    Form(form): Form<PutUpForm>,
) -> Response {
    let session = match acting_session(&v, "/auctions", &form.csrf) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let created = match form.input() {
        Ok(input) => {
            let (ctx, input) = (&state.ctx, &input);
            ctx.transaction(|conn| {
                auctions::create_auction(conn, ctx, session, input).scope_boxed()
            })
            .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(auction) => see_other(&format!("/auctions/{}", auction.id), vec![]),
        Err(e) => match field_refusal(e, &v) {
            Ok(refusal) => auctions_page(&state, &v, refusal.status, form, refusal).await,
            Err(page) => *page,
        },
    }
}

pub struct BidLine {
    amount: String,
    at: String,
    mine: bool,
    status: String,
}

#[derive(Template)]
#[template(path = "auction.html")]
struct AuctionPage {
    c: Chrome,
    lot: LotCard,
    bids: Vec<BidLine>,
    /// The visitor's points free to bid (signed-in only).
    available: Option<String>,
    /// The amount typed and why it was refused.
    refused: Option<(String, String)>,
    manager: bool,
}

async fn auction_page(
    state: &AppState,
    v: &Visitor,
    id: i64,
    status: StatusCode,
    refused: Option<(String, String)>,
) -> Response {
    let caller = v.caller();
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let (auction, bids) = auctions::auction(&mut conn, id).await?;
        let names = reward_names(&mut conn, v).await?;
        let standing = match &caller {
            Some(c) => Some(points::standing(&mut conn, c.person_id).await?),
            None => None,
        };
        Ok::<_, CoreError>((auction, bids, names, standing))
    }
    .await;
    let (auction, bids, names, standing) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let t = v.words;
    let me = caller.as_ref().map(|c| c.person_id);
    page(
        v,
        status,
        &AuctionPage {
            c: Chrome::of(v, &format!("/auctions/{id}")),
            lot: lot_card(v, &auction, &names),
            // Newest first, as the store reads them.
            bids: bids
                .iter()
                .map(|b| BidLine {
                    amount: t.count("bounty-points", b.amount),
                    at: t.date(&b.created_at),
                    mine: Some(b.person_id) == me,
                    status: t.t(&format!("bid-status-{}", b.status)),
                })
                .collect(),
            available: standing.map(|s| t.count("bounty-points", s.balance - s.held)),
            refused,
            manager: manages(v),
        },
    )
}

/// A lot's page: its reward, the leading bid, the bids (bidders other than the visitor stay
/// anonymous), the bid form.
pub async fn show(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> Response {
    auction_page(&state, &v, id, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct BidForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    amount: String,
}

/// A member bids: the amount held at once, the previous leader's released; a refusal (too low,
/// not enough points, ended…) comes back beside the form with the amount kept.
pub async fn bid(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<BidForm>,
) -> Response {
    let here = format!("/auctions/{id}");
    let caller: Caller = match acting(&v, &here, &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let amount = field("amount", &form.amount, |t| t.parse::<i64>().ok()).and_then(|a| {
        a.ok_or(CoreError::Validation(ValidationError {
            field: "amount",
            code: "empty",
        }))
    });
    let placed = match amount {
        Ok(amount) => {
            let caller = &caller;
            state
                .ctx
                .transaction(|conn| auctions::bid(conn, caller, id, amount).scope_boxed())
                .await
        }
        Err(e) => Err(e),
    };
    match placed {
        Ok(_) => see_other(&format!("{here}#bids"), vec![]),
        Err(e) => match fixable_refusal(e, &v) {
            Ok((status, why)) => {
                auction_page(&state, &v, id, status, Some((form.amount, why))).await
            }
            Err(page) => *page,
        },
    }
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    csrf: String,
}

/// A community manager cancels a running lot: the leading bid's points and the lot's unit go
/// back.
pub async fn cancel(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<CancelForm>,
) -> Response {
    let here = format!("/auctions/{id}");
    let session = match acting_session(&v, &here, &form.csrf) {
        Ok(s) => s,
        Err(refused) => return refused.into_response(),
    };
    let cancelled = state
        .ctx
        .transaction(|conn| auctions::cancel_auction(conn, session, id).scope_boxed())
        .await
        .map(drop);
    after_action(cancelled, &v, &here)
}

/// The lot as it stands now, worded for the visitor, for the page's live script.
pub async fn live(State(state): State<AppState>, v: Visitor, Path(id): Path<i64>) -> Response {
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let (auction, _) = auctions::auction(&mut conn, id).await?;
        let names = reward_names(&mut conn, &v).await?;
        Ok::<_, CoreError>(lot_card(&v, &auction, &names))
    }
    .await;
    match read {
        Ok(lot) => Json(lot).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
