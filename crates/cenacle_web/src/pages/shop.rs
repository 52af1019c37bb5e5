//! The gift shop for members: the rewards their points buy, redeeming one (with a delivery
//! address for a physical reward), and their orders with their fulfilment and codes.

use super::{acting, signed_in};
use crate::{
    i18n::Words,
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
use cenacle_api::{error::ApiError, AppState};
use cenacle_core::{orders, points, shop, Caller, CoreError, ScopedFutureExt};
use cenacle_domain::Language;
use serde::Deserialize;
use std::collections::HashMap;

pub struct RewardCard {
    id: i64,
    name: String,
    description: String,
    price: String,
    /// "3 left", "unlimited", or out of stock.
    stock: String,
    available: bool,
    physical: bool,
    /// This reward's redemption was just refused: why, and the address typed.
    refused: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "shop.html")]
struct ShopPage {
    c: Chrome,
    balance: String,
    rewards: Vec<RewardCard>,
}

fn in_language(t: Words, en: String, fr: String) -> String {
    if t.0 == Language::Fr {
        fr
    } else {
        en
    }
}

async fn shop_page(
    state: &AppState,
    v: &Visitor,
    caller: &Caller,
    status: StatusCode,
    refused: Option<(i64, String, String)>,
) -> Response {
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let rewards = shop::catalogue(&mut conn, true).await?;
        let balance = points::balance(&mut conn, caller.person_id).await?;
        Ok::<_, CoreError>((rewards, balance))
    }
    .await;
    let (rewards, balance) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, v).into_response(),
    };
    let t = v.words;
    page(
        v,
        status,
        &ShopPage {
            c: Chrome::of(v, "/shop"),
            balance: t.count("bounty-points", balance),
            rewards: rewards
                .into_iter()
                .map(|r| {
                    let digital = r.kind == "digital";
                    let left = match r.stock {
                        Some(n) if digital => Some(n.min(r.free_codes)),
                        Some(n) => Some(n),
                        None if digital => Some(r.free_codes),
                        None => None,
                    };
                    RewardCard {
                        id: r.id,
                        name: in_language(t, r.name_en, r.name_fr),
                        description: in_language(t, r.description_en, r.description_fr),
                        price: t.count("bounty-points", r.price),
                        stock: match left {
                            Some(0) => t.t("shop-out-of-stock"),
                            Some(n) => t.count("shop-left", n),
                            None => t.t("shop-unlimited"),
                        },
                        available: left != Some(0),
                        physical: !digital,
                        refused: refused
                            .as_ref()
                            .filter(|(id, _, _)| *id == r.id)
                            .map(|(_, why, address)| (why.clone(), address.clone())),
                    }
                })
                .collect(),
        },
    )
}

pub async fn catalogue(State(state): State<AppState>, v: Visitor) -> Response {
    match signed_in(&v, "/shop") {
        Ok(caller) => shop_page(&state, &v, &caller, StatusCode::OK, None).await,
        Err(redirect) => redirect.into_response(),
    }
}

#[derive(Deserialize)]
pub struct RedeemForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
}

/// Redeems a reward: points taken and stock reserved in one transaction; a refusal (not
/// enough points, out of stock, over a limit…) comes back beside that reward, address kept.
pub async fn redeem(
    State(state): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<RedeemForm>,
) -> Response {
    let caller = match acting(&v, "/shop", &form.csrf) {
        Ok(c) => c,
        Err(refused) => return refused.into_response(),
    };
    let (ctx, caller_ref) = (&state.ctx, &caller);
    let address = Some(form.address.as_str());
    let redeemed = ctx
        .transaction(|conn| shop::redeem(conn, ctx, caller_ref, id, address).scope_boxed())
        .await;
    let refusal = match redeemed {
        Ok(order) => return see_other(&format!("/shop/orders#order-{}", order.id), vec![]),
        Err(e) => ApiError::from(e),
    };
    if !matches!(refusal.status.as_u16(), 400 | 409 | 422) {
        return PageError::from_api(refusal, v.words)
            .for_visitor(&v)
            .into_response();
    }
    let why = cenacle_api::i18n::message(refusal.code, v.words.0).to_owned();
    shop_page(
        &state,
        &v,
        &caller,
        refusal.status,
        Some((id, why, form.address)),
    )
    .await
}

pub struct OrderLine {
    id: i64,
    reward: String,
    price: String,
    status: String,
    code: Option<String>,
    tracking: Option<String>,
}

#[derive(Template)]
#[template(path = "shop_orders.html")]
struct OrdersPage {
    c: Chrome,
    orders: Vec<OrderLine>,
}

pub async fn my_orders(State(state): State<AppState>, v: Visitor) -> Response {
    let caller = match signed_in(&v, "/shop/orders") {
        Ok(c) => c,
        Err(redirect) => return redirect.into_response(),
    };
    let read = async {
        let mut conn = state.ctx.conn().await?;
        let mine = orders::my_orders(&mut conn, &caller).await?;
        let rewards = shop::catalogue(&mut conn, false).await?;
        Ok::<_, CoreError>((mine, rewards))
    }
    .await;
    let (mine, rewards) = match read {
        Ok(found) => found,
        Err(e) => return PageError::from_core(e, &v).into_response(),
    };
    let t = v.words;
    let names: HashMap<i64, String> = rewards
        .into_iter()
        .map(|r| (r.id, in_language(t, r.name_en, r.name_fr)))
        .collect();
    page(
        &v,
        StatusCode::OK,
        &OrdersPage {
            c: Chrome::of(&v, "/shop/orders"),
            orders: mine
                .into_iter()
                .map(|o| OrderLine {
                    id: o.id,
                    reward: names.get(&o.reward_id).cloned().unwrap_or_default(),
                    price: t.count("bounty-points", o.price),
                    status: t.t(&format!("order-{}", o.status)),
                    code: o.code,
                    tracking: o.tracking_note.filter(|n| !n.is_empty()),
                })
                .collect(),
        },
    )
}
