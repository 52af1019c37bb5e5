//! Point auctions: put up by community managers, bid on by members (points held in escrow),
//! settled at the end by the server's settler.

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, Auth},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use cenacle_core::{
    auctions::{self, AuctionInput},
    model::{Auction, Bid},
    Caller, ScopedFutureExt,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct AuctionView {
    pub id: i64,
    pub reward_id: i64,
    pub starts_at: DateTime<Utc>,
    /// Pushed back by bids near the end (anti-sniping).
    pub ends_at: DateTime<Utc>,
    pub starting_price: i64,
    pub min_increment: i64,
    /// Whether a reserve is set (its amount stays with community managers).
    pub has_reserve: bool,
    /// Whether the leading bid meets the reserve (true when there is none).
    pub reserve_met: bool,
    pub extension_seconds: i32,
    /// open, won, unsold or cancelled.
    pub status: String,
    pub leading_amount: Option<i64>,
    pub leading_bidder_id: Option<i64>,
    /// The least the next bid may be.
    pub next_minimum: i64,
    pub winner_id: Option<i64>,
    /// The winner's order, once settled.
    pub order_id: Option<i64>,
}

fn auction_view(a: Auction) -> AuctionView {
    let next_minimum = match a.leading_amount {
        None => a.starting_price,
        Some(amount) => amount.saturating_add(a.min_increment),
    };
    AuctionView {
        id: a.id,
        reward_id: a.reward_id,
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        starting_price: a.starting_price,
        min_increment: a.min_increment,
        has_reserve: a.reserve.is_some(),
        reserve_met: match (a.reserve, a.leading_amount) {
            (None, _) => true,
            (Some(reserve), Some(amount)) => amount >= reserve,
            (Some(_), None) => false,
        },
        extension_seconds: a.extension_seconds,
        status: a.status,
        leading_amount: a.leading_amount,
        leading_bidder_id: a.leading_bidder,
        next_minimum,
        winner_id: a.winner_id,
        order_id: a.order_id,
    }
}

#[derive(Serialize, ToSchema)]
pub struct BidView {
    pub id: i64,
    pub person_id: i64,
    pub amount: i64,
    /// leading, outbid, won, lost or cancelled.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

fn bid_view(b: Bid) -> BidView {
    BidView {
        id: b.id,
        person_id: b.person_id,
        amount: b.amount,
        status: b.status,
        created_at: b.created_at,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuctionRequest {
    /// A reward of the catalogue (one with `in_shop` false is only auctioned).
    pub reward_id: i64,
    /// Default: now.
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
    pub starting_price: i64,
    pub min_increment: i64,
    pub reserve: Option<i64>,
    /// Anti-sniping window and extension (default `shop.auction_extension_minutes`), 0 to 86400.
    pub extension_seconds: Option<i32>,
}

/// Put a reward up for auction (community managers).
#[utoipa::path(post, path = "/api/v1/auctions", tag = "shop", security(("bearer" = [])),
    request_body = AuctionRequest,
    responses((status = 201, body = AuctionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<AuctionRequest>,
) -> ApiResult<(StatusCode, Json<AuctionView>)> {
    let input = AuctionInput {
        reward_id: req.reward_id,
        starts_at: req.starts_at,
        ends_at: req.ends_at,
        starting_price: req.starting_price,
        min_increment: req.min_increment,
        reserve: req.reserve,
        extension_seconds: req.extension_seconds,
    };
    let ctx = &state.ctx;
    let (session, input) = (&session, &input);
    let auction = ctx
        .transaction(|conn| auctions::create_auction(conn, ctx, session, input).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(auction_view(auction))))
}

/// Running auctions, the soonest to end first.
#[utoipa::path(get, path = "/api/v1/auctions", tag = "shop",
    responses((status = 200, body = [AuctionView])))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<AuctionView>>> {
    let mut conn = state.ctx.conn().await?;
    let list = auctions::auctions(&mut conn, true).await?;
    Ok(Json(list.into_iter().map(auction_view).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct AuctionDetail {
    pub auction: AuctionView,
    /// Newest first.
    pub bids: Vec<BidView>,
}

/// An auction and its bids (live: poll it, or watch the web page).
#[utoipa::path(get, path = "/api/v1/auctions/{id}", tag = "shop",
    params(("id" = i64, Path)),
    responses((status = 200, body = AuctionDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<AuctionDetail>> {
    let mut conn = state.ctx.conn().await?;
    let (auction, bids) = auctions::auction(&mut conn, id).await?;
    Ok(Json(AuctionDetail {
        auction: auction_view(auction),
        bids: bids.into_iter().map(bid_view).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BidRequest {
    pub amount: i64,
}

#[derive(Serialize, ToSchema)]
pub struct BidAccepted {
    pub bid: BidView,
    pub auction: AuctionView,
}

/// Bid points: held until you are outbid (released at once) or the auction ends (captured if
/// you win). Refused, nothing held: `bid_too_low`, `auction_ended`, `auction_not_started`,
/// `auction_closed`, `already_highest_bidder`, `insufficient_points`.
#[utoipa::path(post, path = "/api/v1/auctions/{id}/bids", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = BidRequest,
    responses((status = 201, body = BidAccepted), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bid(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<BidRequest>,
) -> ApiResult<(StatusCode, Json<BidAccepted>)> {
    let caller = Caller::from(&session);
    let (bid, auction) = state
        .ctx
        .transaction(|conn| auctions::bid(conn, &caller, id, req.amount).scope_boxed())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(BidAccepted {
            bid: bid_view(bid),
            auction: auction_view(auction),
        }),
    ))
}

/// Cancel a running auction (community managers): every hold is released.
#[utoipa::path(post, path = "/api/v1/auctions/{id}/cancel", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = AuctionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<AuctionView>> {
    let session = &session;
    let auction = state
        .ctx
        .transaction(|conn| auctions::cancel_auction(conn, session, id).scope_boxed())
        .await?;
    Ok(Json(auction_view(auction)))
}
