//! The gift shop: the catalogue, redemptions, members' orders, fulfilment and the reports of
//! community managers.

use crate::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiQuery, Auth},
    i18n,
    pagination::{Page, PageQuery},
    AppState,
};
use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::IntoResponse,
    Json,
};
use cenacle_core::{
    model::{Order, Reward, StockAdjustment},
    orders::{self, Report},
    shop::{self, RewardInput, RewardTermsInput},
    stock::{self, AdjustmentInput},
    Caller, ScopedFutureExt,
};
use cenacle_domain::Language;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct RewardView {
    pub id: i64,
    /// In the request's language.
    pub name: String,
    pub description: String,
    pub name_en: String,
    pub name_fr: String,
    pub description_en: String,
    pub description_fr: String,
    /// A media id (`/api/v1/media/...`), if any.
    pub image_media_id: Option<i64>,
    /// `physical` or `digital`.
    pub kind: String,
    pub price: i64,
    /// Null: unlimited.
    pub stock: Option<i64>,
    /// Codes not yet handed out (digital rewards).
    pub free_codes: i64,
    pub limit_per_member: Option<i32>,
    pub limit_per_period: Option<i32>,
    /// `day`, `week` or `month`.
    pub limit_period: Option<String>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    pub min_rank_score: Option<i64>,
    pub required_badge_id: Option<i64>,
    pub champions_only: bool,
    pub in_shop: bool,
}

pub(crate) fn reward_view(r: Reward) -> RewardView {
    let fr = i18n::current_language() == Language::Fr;
    RewardView {
        id: r.id,
        name: if fr {
            r.name_fr.clone()
        } else {
            r.name_en.clone()
        },
        description: if fr {
            r.description_fr.clone()
        } else {
            r.description_en.clone()
        },
        name_en: r.name_en,
        name_fr: r.name_fr,
        description_en: r.description_en,
        description_fr: r.description_fr,
        image_media_id: r.image_media_id,
        kind: r.kind,
        price: r.price,
        stock: r.stock,
        free_codes: r.free_codes,
        limit_per_member: r.limit_per_member,
        limit_per_period: r.limit_per_period,
        limit_period: r.limit_period,
        available_from: r.available_from,
        available_until: r.available_until,
        min_rank_score: r.min_rank_score,
        required_badge_id: r.required_badge_id,
        champions_only: r.champions_only,
        in_shop: r.in_shop,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardRequest {
    pub name_en: String,
    pub name_fr: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub description_fr: String,
    pub image_media_id: Option<i64>,
    /// `physical` or `digital` (codes uploaded with `/codes`).
    pub kind: String,
    pub price: i64,
    /// Omitted: unlimited.
    pub stock: Option<i64>,
    pub limit_per_member: Option<i32>,
    /// With `limit_period`.
    pub limit_per_period: Option<i32>,
    /// `day`, `week` or `month`.
    pub limit_period: Option<String>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    /// The rank score a member needs.
    pub min_rank_score: Option<i64>,
    /// The slug of a badge a member must hold.
    pub required_badge: Option<String>,
    #[serde(default)]
    pub champions_only: bool,
    /// False: only put up in auctions (default true).
    pub in_shop: Option<bool>,
}

/// A per-period limit: both its number and its period, or neither.
fn period_limit(
    limit: Option<i32>,
    period: Option<String>,
) -> Result<Option<(i32, String)>, crate::error::ApiError> {
    match (limit, period) {
        (Some(limit), Some(period)) => Ok(Some((limit, period))),
        (None, None) => Ok(None),
        _ => Err(
            cenacle_core::CoreError::from(cenacle_domain::ValidationError {
                field: "limit_period",
                code: "incomplete",
            })
            .into(),
        ),
    }
}

/// Add a reward to the catalogue (community managers and admins).
#[utoipa::path(post, path = "/api/v1/shop/rewards", tag = "shop", security(("bearer" = [])),
    request_body = RewardRequest,
    responses((status = 201, body = RewardView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_reward(
    State(state): State<AppState>,
    Auth(session): Auth,
    ApiJson(req): ApiJson<RewardRequest>,
) -> ApiResult<(StatusCode, Json<RewardView>)> {
    let limit_per_period = period_limit(req.limit_per_period, req.limit_period)?;
    let input = RewardInput {
        name_en: req.name_en,
        name_fr: req.name_fr,
        description_en: req.description_en,
        description_fr: req.description_fr,
        image_media_id: req.image_media_id,
        kind: req.kind,
        price: req.price,
        stock: req.stock,
        limit_per_member: req.limit_per_member,
        limit_per_period,
        available_from: req.available_from,
        available_until: req.available_until,
        min_rank_score: req.min_rank_score,
        required_badge: req.required_badge,
        champions_only: req.champions_only,
        in_shop: req.in_shop.unwrap_or(true),
    };
    let (session, input) = (&session, &input);
    let reward = state
        .ctx
        .transaction(|conn| shop::create_reward(conn, session, input).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(reward_view(reward))))
}

/// The shop's catalogue.
#[utoipa::path(get, path = "/api/v1/shop/rewards", tag = "shop",
    responses((status = 200, body = [RewardView])))]
pub async fn list_rewards(State(state): State<AppState>) -> ApiResult<Json<Vec<RewardView>>> {
    let mut conn = state.ctx.conn().await?;
    let rewards = shop::catalogue(&mut conn, true).await?;
    Ok(Json(rewards.into_iter().map(reward_view).collect()))
}

/// One reward.
#[utoipa::path(get, path = "/api/v1/shop/rewards/{id}", tag = "shop",
    params(("id" = i64, Path)),
    responses((status = 200, body = RewardView), (status = 404, body = ErrorBody)))]
pub async fn get_reward(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RewardView>> {
    let mut conn = state.ctx.conn().await?;
    Ok(Json(reward_view(shop::reward(&mut conn, id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardEditRequest {
    pub name_en: String,
    pub name_fr: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub description_fr: String,
    pub price: i64,
    /// Omitted: no limit.
    pub limit_per_member: Option<i32>,
    /// With `limit_period`; both omitted: no per-period limit.
    pub limit_per_period: Option<i32>,
    /// `day`, `week` or `month`.
    pub limit_period: Option<String>,
    /// Omitted: no start (or end) to the window.
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
}

/// Rewrite a reward's names, descriptions, price, window and limits (community managers).
/// Every field is replaced: an omitted limit or window bound is removed. The stock moves only
/// by `/restock`, `/stock-adjustments` and orders.
#[utoipa::path(put, path = "/api/v1/shop/rewards/{id}", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RewardEditRequest,
    responses((status = 200, body = RewardView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_reward(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RewardEditRequest>,
) -> ApiResult<Json<RewardView>> {
    let input = RewardTermsInput {
        limit_per_period: period_limit(req.limit_per_period, req.limit_period)?,
        name_en: req.name_en,
        name_fr: req.name_fr,
        description_en: req.description_en,
        description_fr: req.description_fr,
        price: req.price,
        limit_per_member: req.limit_per_member,
        available_from: req.available_from,
        available_until: req.available_until,
    };
    let (session, input) = (&session, &input);
    let reward = state
        .ctx
        .transaction(|conn| shop::edit_reward(conn, session, id, input).scope_boxed())
        .await?;
    Ok(Json(reward_view(reward)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestockRequest {
    /// Units to add, 1 to 1 000 000.
    pub quantity: i64,
}

/// Add units to a reward's stock (community managers): a `restock` row in the stock ledger.
/// 409 `reward_stock_unlimited` for a reward without a stock.
#[utoipa::path(post, path = "/api/v1/shop/rewards/{id}/restock", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RestockRequest,
    responses((status = 200, body = RewardView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn restock(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RestockRequest>,
) -> ApiResult<Json<RewardView>> {
    let session = &session;
    let reward = state
        .ctx
        .transaction(|conn| shop::restock(conn, session, id, req.quantity).scope_boxed())
        .await?;
    Ok(Json(reward_view(reward)))
}

/// A change of a reward's stock made by hand.
#[derive(Serialize, ToSchema)]
pub struct StockAdjustmentView {
    pub id: i64,
    pub reward_id: i64,
    /// Negative: units written off; positive: units added.
    pub delta: i64,
    /// `damaged`, `lost`, `given_away`, `received` or `correction`; `restock` for units added
    /// by `/restock`.
    pub reason: String,
    pub note: Option<String>,
    /// The username of the community manager who made it (null once their account is gone).
    pub by: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn adjustment_view(a: StockAdjustment) -> StockAdjustmentView {
    StockAdjustmentView {
        id: a.id,
        reward_id: a.reward_id,
        delta: a.delta,
        reason: a.reason,
        note: a.note,
        by: a.by_username,
        created_at: a.created_at,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAdjustmentRequest {
    /// Units, 1 to 1 000 000 either way: negative to write off (`damaged`, `lost`,
    /// `given_away`), positive for `received`, either for a `correction`.
    pub delta: i64,
    /// `damaged`, `lost`, `given_away`, `received` or `correction`.
    pub reason: String,
    /// Free text, up to 500 characters.
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StockAdjusted {
    pub adjustment: StockAdjustmentView,
    /// The reward with its stock after the adjustment.
    pub reward: RewardView,
}

/// Adjust a limited physical reward's stock by hand, with a reason (community managers): units
/// written off (damaged, lost, given away), received, or a count corrected — a row in the stock
/// ledger. Refused, nothing changed: 409 `stock_below_reserved` (more than the free units: the
/// others are promised to open orders or auction lots), `stock_below_zero` (more than there
/// are), `reward_stock_unlimited`; 422 `reward_not_stocked` for a digital reward (its units are
/// its codes), `validation_failed` for an unknown reason, a change of 0 or past a million, or
/// one going against its reason.
#[utoipa::path(post, path = "/api/v1/shop/rewards/{id}/stock-adjustments", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = StockAdjustmentRequest,
    responses((status = 201, body = StockAdjusted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn adjust_stock(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<StockAdjustmentRequest>,
) -> ApiResult<(StatusCode, Json<StockAdjusted>)> {
    let input = AdjustmentInput {
        delta: req.delta,
        reason: req.reason,
        note: req.note,
    };
    let (session, input) = (&session, &input);
    let (adjustment, reward) = state
        .ctx
        .transaction(|conn| {
            async move {
                let adjustment = stock::adjust_stock(conn, session, id, input).await?;
                Ok((adjustment, shop::reward(conn, id).await?))
            }
            .scope_boxed()
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StockAdjusted {
            adjustment: adjustment_view(adjustment),
            reward: reward_view(reward),
        }),
    ))
}

/// A reward's changes of stock by hand (adjustments and restocks), newest first (community
/// managers).
#[utoipa::path(get, path = "/api/v1/shop/rewards/{id}/stock-adjustments", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = Page<StockAdjustmentView>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stock_adjustments(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<StockAdjustmentView>>> {
    let limit = page.limit()?;
    // Newest first: the cursor names the last change seen, the page goes on before it.
    let before = Some(page.after_id()?).filter(|id| *id > 0);
    let mut conn = state.ctx.conn().await?;
    let rows = stock::adjustments(&mut conn, &session, id, before, limit + 1).await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |a| a.id,
        adjustment_view,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodesRequest {
    /// One code each; blank ones skipped, ones already in the pool ignored.
    pub codes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CodesAdded {
    pub added: usize,
}

/// Upload codes to a digital reward's pool (community managers).
#[utoipa::path(post, path = "/api/v1/shop/rewards/{id}/codes", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CodesRequest,
    responses((status = 200, body = CodesAdded), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_codes(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<CodesRequest>,
) -> ApiResult<Json<CodesAdded>> {
    let (session, codes) = (&session, &req.codes);
    let added = state
        .ctx
        .transaction(|conn| shop::add_codes(conn, session, id, codes).scope_boxed())
        .await?;
    Ok(Json(CodesAdded { added }))
}

#[derive(Serialize, ToSchema)]
pub struct OrderView {
    pub id: i64,
    pub reward_id: i64,
    pub person_id: i64,
    /// The auction it was won at, if any.
    pub auction_id: Option<i64>,
    /// Points paid.
    pub price: i64,
    /// requested, approved, shipped, delivered, refused or cancelled.
    pub status: String,
    pub tracking_note: Option<String>,
    /// Until erased after delivery (`shop.address_retention_days`).
    pub delivery_address: Option<String>,
    /// A digital reward's code.
    pub code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn order_view(o: Order) -> OrderView {
    OrderView {
        id: o.id,
        reward_id: o.reward_id,
        person_id: o.person_id,
        auction_id: o.auction_id,
        price: o.price,
        status: o.status,
        tracking_note: o.tracking_note,
        delivery_address: o.delivery_address,
        code: o.code,
        created_at: o.created_at,
        updated_at: o.updated_at,
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    /// Required for a physical reward; erased after delivery.
    pub address: Option<String>,
}

/// Redeem a reward with your points: debited, stock reserved and (digital) a code handed out,
/// all at once. Refused with a clear code, nothing taken: `out_of_stock`,
/// `insufficient_points`, `redemption_limit_reached`, `reward_not_available`,
/// `reward_not_eligible`, `address_required`.
#[utoipa::path(post, path = "/api/v1/shop/rewards/{id}/redeem", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RedeemRequest,
    responses((status = 201, body = OrderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn redeem(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RedeemRequest>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let caller = Caller::from(&session);
    let ctx = &state.ctx;
    let address = req.address.as_deref();
    let order = ctx
        .transaction(|conn| shop::redeem(conn, ctx, &caller, id, address).scope_boxed())
        .await?;
    Ok((StatusCode::CREATED, Json(order_view(order))))
}

/// Your orders and their fulfilment, newest first.
#[utoipa::path(get, path = "/api/v1/shop/orders", tag = "shop", security(("bearer" = [])),
    responses((status = 200, body = [OrderView]), (status = 401, body = ErrorBody)))]
pub async fn my_orders(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Vec<OrderView>>> {
    let caller = Caller::from(&session);
    let mut conn = state.ctx.conn().await?;
    let orders = orders::my_orders(&mut conn, &caller).await?;
    Ok(Json(orders.into_iter().map(order_view).collect()))
}

/// Orders waiting for fulfilment (community managers), oldest first.
#[utoipa::path(get, path = "/api/v1/shop/fulfilment", tag = "shop", security(("bearer" = [])),
    responses((status = 200, body = [OrderView]), (status = 403, body = ErrorBody)))]
pub async fn pending_orders(
    State(state): State<AppState>,
    Auth(session): Auth,
) -> ApiResult<Json<Vec<OrderView>>> {
    let mut conn = state.ctx.conn().await?;
    let orders = orders::pending(&mut conn, &session).await?;
    Ok(Json(orders.into_iter().map(order_view).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderStatusRequest {
    /// approved, shipped, delivered, refused or cancelled (refused and cancelled refund).
    pub status: String,
    pub tracking_note: Option<String>,
}

/// Move an order along its fulfilment (community managers). Refusing or cancelling gives the
/// points back (a ledger row offsetting the debit) and the unit back to the stock.
#[utoipa::path(post, path = "/api/v1/shop/orders/{id}/status", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = OrderStatusRequest,
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_order_status(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<OrderStatusRequest>,
) -> ApiResult<Json<OrderView>> {
    let ctx = &state.ctx;
    let (session, req) = (&session, &req);
    let order = ctx
        .transaction(|conn| {
            orders::set_status(
                conn,
                ctx,
                session,
                id,
                &req.status,
                req.tracking_note.as_deref(),
            )
            .scope_boxed()
        })
        .await?;
    Ok(Json(order_view(order)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    pub address: String,
}

/// Give or correct the delivery address of your order of a physical reward before it ships
/// (an auction's winner gives it here). Erased after delivery.
#[utoipa::path(put, path = "/api/v1/shop/orders/{id}/address", tag = "shop", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AddressRequest,
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_address(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<AddressRequest>,
) -> ApiResult<Json<OrderView>> {
    let caller = Caller::from(&session);
    let address = &req.address;
    let order = state
        .ctx
        .transaction(|conn| orders::set_address(conn, &caller, id, address).scope_boxed())
        .await?;
    Ok(Json(order_view(order)))
}

/// One CSV field, quoted when it must be (RFC 4180), and never read as a formula by a
/// spreadsheet (a leading `=`, `+`, `-` or `@` is prefixed with `'`).
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) && value.parse::<i64>().is_err() {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = header.join(",");
    out.push_str("\r\n");
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A report for community managers, as CSV: `points` (issued vs spent per month), `stock`
/// (every reward's stock and free codes) or `fulfilment` (orders waiting per reward and state).
#[utoipa::path(get, path = "/api/v1/shop/reports/{kind}", tag = "shop", security(("bearer" = [])),
    params(("kind" = String, Path, description = "points, stock or fulfilment")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    Auth(session): Auth,
    Path(kind): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let mut conn = state.ctx.conn().await?;
    let body = match orders::report(&mut conn, &session, &kind).await? {
        Report::Points(months) => csv(
            &["month", "issued", "spent"],
            months
                .into_iter()
                .map(|m| vec![m.month, m.issued.to_string(), m.spent.to_string()]),
        ),
        Report::Stock(rewards) => csv(
            &[
                "reward_id",
                "name_en",
                "kind",
                "stock",
                "free_codes",
                "in_shop",
            ],
            rewards.into_iter().map(|r| {
                vec![
                    r.id.to_string(),
                    r.name_en,
                    r.kind,
                    r.stock
                        .map_or_else(|| "unlimited".into(), |s| s.to_string()),
                    r.free_codes.to_string(),
                    r.in_shop.to_string(),
                ]
            }),
        ),
        Report::Fulfilment(counts) => csv(
            &["reward_id", "name_en", "status", "orders"],
            counts.into_iter().map(|c| {
                vec![
                    c.reward_id.to_string(),
                    c.name_en,
                    c.status,
                    c.orders.to_string(),
                ]
            }),
        ),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{kind}.csv\""),
            ),
        ],
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_it_must_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-12"), "-12");
    }
}
