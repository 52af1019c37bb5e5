//! The shop's stock, exact as its points: an auction lot reserves its unit (or code) when put
//! up and hands it to the winner or back to the shelf; every stock change is a ledger row the
//! audit adds up; community managers edit, restock and adjust rewards' stock by hand with a
//! reason — write-offs never taking units promised to orders, even racing redemptions — (and
//! only they may: every manager-only route answers a plain member 403); members see their held
//! and available points.

mod common;

use axum::http::{Method, StatusCode};
use cenacle_core::{accounts::Session, stock::AdjustmentInput, ScopedFutureExt};
use cenacle_domain::{shop::ShopRefusal, Role};
use chrono::{Duration, Utc};
use common::engagement::{grant, points, setup};
use common::{Reply, TestApp};
use diesel::connection::InstrumentationEvent;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures::FutureExt;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

async fn audit(t: &TestApp) -> Vec<String> {
    let differences = t
        .ctx
        .transaction(|conn| cenacle_core::points::audit(conn).scope_boxed())
        .await
        .unwrap();
    differences.into_iter().map(|d| d.total).collect()
}

/// Settles every ended auction, one per transaction as the server's settler does.
async fn settle(t: &TestApp) {
    while t
        .ctx
        .transaction(|conn| cenacle_core::auctions::settle_ended_auctions(conn).scope_boxed())
        .await
        .unwrap()
        > 0
    {}
}

/// A request retried while the pool answers 503 (as a client does under load).
async fn retried(t: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Reply {
    loop {
        let r = t
            .request(method.clone(), path, Some(token), Some(body.clone()))
            .await;
        if r.status != StatusCode::SERVICE_UNAVAILABLE {
            return r;
        }
    }
}

async fn new_reward(t: &TestApp, cm: &str, body: Value) -> i64 {
    let r = t.post("/api/v1/shop/rewards", Some(cm), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["id"].as_i64().unwrap()
}

/// A physical reward ("Mug", 100 points) with `units` in stock, put in the shop by `cm`.
async fn stocked_mug(t: &TestApp, cm: &str, units: i64) -> i64 {
    new_reward(
        t,
        cm,
        json!({"name_en": "Mug", "name_fr": "Tasse", "kind": "physical", "price": 100,
               "stock": units}),
    )
    .await
}

/// `member` redeems one `mug` (shipped to an address); returns the order's id.
async fn redeem_a_mug(t: &TestApp, member: &str, mug: i64) -> i64 {
    let order = retried(
        t,
        Method::POST,
        &format!("/api/v1/shop/rewards/{mug}/redeem"),
        member,
        json!({"address": "1 rue de la Paix"}),
    )
    .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.json);
    order.json["id"].as_i64().unwrap()
}

fn auction_body(reward: i64) -> Value {
    json!({
        "reward_id": reward,
        "starts_at": Utc::now() - Duration::hours(1),
        "ends_at": Utc::now() + Duration::hours(1),
        "starting_price": 10,
        "min_increment": 1,
        "extension_seconds": 0,
    })
}

async fn stock(t: &TestApp, reward: i64) -> Value {
    t.get(&format!("/api/v1/shop/rewards/{reward}"), None)
        .await
        .json["stock"]
        .clone()
}

async fn free_codes(t: &TestApp, reward: i64) -> i64 {
    t.get(&format!("/api/v1/shop/rewards/{reward}"), None)
        .await
        .json["free_codes"]
        .as_i64()
        .unwrap()
}

async fn end_now(t: &TestApp, auction: i64) {
    t.sql(&format!(
        "UPDATE auction SET ends_at = now() - interval '1 second', \
             starts_at = now() - interval '2 hours' WHERE id = {auction}"
    ))
    .await;
}

#[tokio::test]
async fn an_auction_lot_reserves_its_unit_and_hands_it_to_the_winner_or_back_to_the_shelf() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    grant(&t, &admin, "marie", 500).await;
    let mug = stocked_mug(&t, &cm, 2).await;

    // Put up: one unit leaves the shelf at once.
    let first = t
        .post("/api/v1/auctions", Some(&cm), auction_body(mug))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    let first = first.json["id"].as_i64().unwrap();
    assert_eq!(stock(&t, mug).await, json!(1));
    // Cancelled: the unit comes back.
    let r = t
        .post(
            &format!("/api/v1/auctions/{first}/cancel"),
            Some(&cm),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(stock(&t, mug).await, json!(2));

    // Closing unsold (no bid): the unit comes back.
    let unsold = t
        .post("/api/v1/auctions", Some(&cm), auction_body(mug))
        .await;
    let unsold = unsold.json["id"].as_i64().unwrap();
    assert_eq!(stock(&t, mug).await, json!(1));
    end_now(&t, unsold).await;
    settle(&t).await;
    assert_eq!(stock(&t, mug).await, json!(2));

    // Two lots take both units: a third finds none, and the shop has none left either.
    let a = t
        .post("/api/v1/auctions", Some(&cm), auction_body(mug))
        .await;
    let a = a.json["id"].as_i64().unwrap();
    let b = t
        .post("/api/v1/auctions", Some(&cm), auction_body(mug))
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.json);
    let third = t
        .post("/api/v1/auctions", Some(&cm), auction_body(mug))
        .await;
    assert_eq!(
        (third.status, third.code()),
        (StatusCode::CONFLICT, "out_of_stock"),
        "{}",
        third.json
    );
    assert_eq!(stock(&t, mug).await, json!(0));

    // Won: the unit goes with the order; refusing that order puts it back on the shelf.
    let before = points(&t, &marie).await;
    let r = t
        .post(
            &format!("/api/v1/auctions/{a}/bids"),
            Some(&marie),
            json!({"amount": 50}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    end_now(&t, a).await;
    settle(&t).await;
    assert_eq!(stock(&t, mug).await, json!(0));
    let order = t.get(&format!("/api/v1/auctions/{a}"), None).await.json["auction"]["order_id"]
        .as_i64()
        .unwrap();
    let r = t
        .post(
            &format!("/api/v1/shop/orders/{order}/status"),
            Some(&cm),
            json!({"status": "refused"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(stock(&t, mug).await, json!(1));
    assert_eq!(points(&t, &marie).await, before);
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);
}

#[tokio::test]
async fn a_digital_lot_reserves_a_code_that_goes_to_exactly_the_winners_order() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    grant(&t, &admin, "marie", 500).await;
    let key = new_reward(
        &t,
        &cm,
        json!({"name_en": "Key", "name_fr": "Clé", "kind": "digital", "price": 100}),
    )
    .await;
    // No code: nothing to put up.
    let none = t
        .post("/api/v1/auctions", Some(&cm), auction_body(key))
        .await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::CONFLICT, "out_of_stock"),
        "{}",
        none.json
    );
    let r = t
        .post(
            &format!("/api/v1/shop/rewards/{key}/codes"),
            Some(&cm),
            json!({"codes": ["ONLY-ONE"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let lot = t
        .post("/api/v1/auctions", Some(&cm), auction_body(key))
        .await;
    assert_eq!(lot.status, StatusCode::CREATED, "{}", lot.json);
    let lot = lot.json["id"].as_i64().unwrap();
    // The code is the lot's: the shop can no longer hand it out.
    assert_eq!(free_codes(&t, key).await, 0);
    let shop = retried(
        &t,
        Method::POST,
        &format!("/api/v1/shop/rewards/{key}/redeem"),
        &marie,
        json!({}),
    )
    .await;
    assert_eq!(
        (shop.status, shop.code()),
        (StatusCode::CONFLICT, "out_of_stock"),
        "{}",
        shop.json
    );
    let r = t
        .post(
            &format!("/api/v1/auctions/{lot}/bids"),
            Some(&marie),
            json!({"amount": 40}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    end_now(&t, lot).await;
    settle(&t).await;
    let orders = t.get("/api/v1/shop/orders", Some(&marie)).await.json;
    assert_eq!(orders.as_array().unwrap().len(), 1, "{orders}");
    assert_eq!(orders[0]["code"], json!("ONLY-ONE"));
    assert_eq!(orders[0]["status"], json!("delivered"));
    assert_eq!(
        t.count("SELECT count(*) AS n FROM reward_code WHERE code = 'ONLY-ONE' AND order_id IS NOT NULL"
        )
        .await,
        1
    );
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redemption_racing_an_auction_for_the_last_unit_cannot_both_succeed() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    grant(&t, &admin, "marie", 10_000).await;
    for round in 0..20 {
        let reward = new_reward(
            &t,
            &cm,
            json!({"name_en": format!("Seat {round}"), "name_fr": "Place", "kind": "physical",
                   "price": 100, "stock": 1}),
        )
        .await;
        let path = format!("/api/v1/shop/rewards/{reward}/redeem");
        let (shop, lot) = tokio::join!(
            retried(
                &t,
                Method::POST,
                &path,
                &marie,
                json!({"address": "1 rue de la Paix"}),
            ),
            retried(
                &t,
                Method::POST,
                "/api/v1/auctions",
                &cm,
                auction_body(reward)
            ),
        );
        let won = [&shop, &lot]
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count();
        assert_eq!(won, 1, "round {round}: {} / {}", shop.json, lot.json);
        for r in [&shop, &lot] {
            if r.status != StatusCode::CREATED {
                assert_eq!(
                    (r.status, r.code()),
                    (StatusCode::CONFLICT, "out_of_stock"),
                    "{}",
                    r.json
                );
            }
        }
        assert_eq!(stock(&t, reward).await, json!(0));
    }
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);
}

#[tokio::test]
async fn every_stock_change_is_a_ledger_row_and_the_audit_catches_a_tampered_one() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    grant(&t, &admin, "marie", 1_000).await;
    let mug = stocked_mug(&t, &cm, 3).await;
    let key = new_reward(
        &t,
        &cm,
        json!({"name_en": "Key", "name_fr": "Clé", "kind": "digital", "price": 100}),
    )
    .await;
    // Restock, an order and its refusal, an auction put up and cancelled, codes uploaded and
    // one handed out.
    let r = t
        .post(
            &format!("/api/v1/shop/rewards/{mug}/restock"),
            Some(&cm),
            json!({"quantity": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["stock"], json!(5));
    let order = redeem_a_mug(&t, &marie, mug).await;
    let r = t
        .post(
            &format!("/api/v1/shop/orders/{order}/status"),
            Some(&cm),
            json!({"status": "refused"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let lot = t
        .post("/api/v1/auctions", Some(&cm), auction_body(mug))
        .await;
    let lot = lot.json["id"].as_i64().unwrap();
    t.post(
        &format!("/api/v1/auctions/{lot}/cancel"),
        Some(&cm),
        json!({}),
    )
    .await;
    t.post(
        &format!("/api/v1/shop/rewards/{key}/codes"),
        Some(&cm),
        json!({"codes": ["A", "B", "C"]}),
    )
    .await;
    let r = retried(
        &t,
        Method::POST,
        &format!("/api/v1/shop/rewards/{key}/redeem"),
        &marie,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);

    let reasons = |reward: i64| {
        format!(
            "SELECT count(*) AS n FROM stock_movement WHERE reward_id = {reward} AND reason IN "
        )
    };
    for (reward, reason, n) in [
        (mug, "'restock'", 1),
        (mug, "'order'", 1),
        (mug, "'order_released'", 1),
        (mug, "'auction_reserved'", 1),
        (mug, "'auction_released'", 1),
        (key, "'codes_added'", 1),
        (key, "'order'", 1),
    ] {
        assert_eq!(
            t.count(&format!("{}({reason})", reasons(reward))).await,
            n,
            "{reason} of {reward}"
        );
    }
    assert_eq!(stock(&t, mug).await, json!(5));
    assert_eq!(free_codes(&t, key).await, 2);
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);

    // Someone edits a movement behind the ledger's back: the audit names the reward.
    t.sql(&format!(
            "UPDATE stock_movement SET delta = delta + 1 WHERE reward_id = {mug} AND reason = 'restock'"
        ),
    )
    .await;
    assert_eq!(audit(&t).await, vec!["reward_stock".to_owned()]);
    t.sql(&format!(
            "UPDATE stock_movement SET delta = delta - 1 WHERE reward_id = {mug} AND reason = 'restock'"
        ),
    )
    .await;
    // A code handed out with no row saying so.
    t.sql(&format!(
            "DELETE FROM stock_movement WHERE reward_id = {key} AND reason = 'order' AND pool = 'codes'"
        ),
    )
    .await;
    assert_eq!(audit(&t).await, vec!["reward_free_codes".to_owned()]);
}

#[tokio::test]
async fn a_community_manager_edits_and_restocks_a_reward() {
    let (t, _) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let mug = stocked_mug(&t, &cm, 1).await;
    let from = Utc::now() - Duration::days(1);
    let until = Utc::now() + Duration::days(30);
    let r = t
        .request(
            Method::PUT,
            &format!("/api/v1/shop/rewards/{mug}"),
            Some(&cm),
            Some(json!({
                "name_en": "Big mug", "name_fr": "Grande tasse",
                "description_en": "Holds more", "description_fr": "Contient plus",
                "price": 150, "limit_per_member": 2,
                "limit_per_period": 1, "limit_period": "week",
                "available_from": from, "available_until": until,
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let view = t
        .get(&format!("/api/v1/shop/rewards/{mug}"), None)
        .await
        .json;
    assert_eq!(view["name_en"], json!("Big mug"));
    assert_eq!(view["name_fr"], json!("Grande tasse"));
    assert_eq!(view["description_fr"], json!("Contient plus"));
    assert_eq!(view["price"], json!(150));
    assert_eq!(view["limit_per_member"], json!(2));
    assert_eq!(view["limit_period"], json!("week"));
    // The stock is not the edit's: only a restock (a ledger row) moves it.
    assert_eq!(view["stock"], json!(1));
    // A bad edit is refused whole.
    let r = t
        .request(
            Method::PUT,
            &format!("/api/v1/shop/rewards/{mug}"),
            Some(&cm),
            Some(json!({"name_en": "", "name_fr": "x", "price": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    assert_eq!(
        t.get(&format!("/api/v1/shop/rewards/{mug}"), None)
            .await
            .json["price"],
        json!(150)
    );
    let r = t
        .post(
            &format!("/api/v1/shop/rewards/{mug}/restock"),
            Some(&cm),
            json!({"quantity": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    let unlimited = new_reward(
        &t,
        &cm,
        json!({"name_en": "Thanks", "name_fr": "Merci", "kind": "physical", "price": 10}),
    )
    .await;
    let r = t
        .post(
            &format!("/api/v1/shop/rewards/{unlimited}/restock"),
            Some(&cm),
            json!({"quantity": 3}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "reward_stock_unlimited"),
        "{}",
        r.json
    );
    let r = t
        .post(
            &format!("/api/v1/shop/rewards/{mug}/restock"),
            Some(&cm),
            json!({"quantity": 4}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(stock(&t, mug).await, json!(5));
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);
}

#[tokio::test]
async fn members_see_their_balance_what_bids_hold_and_what_is_available() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    let start = points(&t, &marie).await;
    grant(&t, &admin, "marie", 300 - start).await;
    let lot = new_reward(
        &t,
        &cm,
        json!({"name_en": "Seat", "name_fr": "Place", "kind": "physical", "price": 100, "in_shop": false}),
    )
    .await;
    let a = t
        .post("/api/v1/auctions", Some(&cm), auction_body(lot))
        .await;
    let a = a.json["id"].as_i64().unwrap();
    let r = t
        .post(
            &format!("/api/v1/auctions/{a}/bids"),
            Some(&marie),
            json!({"amount": 120}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let mine = t.get("/api/v1/account/points", Some(&marie)).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.json);
    assert_eq!(mine.json["balance"], json!(300));
    assert_eq!(mine.json["held"], json!(120));
    assert_eq!(mine.json["available"], json!(180));
}

/// Every route only community managers may use, with a body that would pass validation: most
/// on `reward` (a digital one), the stock adjustments on `mug` (only a physical reward has a
/// stock counted by hand).
fn manager_routes(reward: i64, mug: i64, order: i64, auction: i64) -> Vec<(Method, String, Value)> {
    vec![
        (
            Method::POST,
            "/api/v1/shop/rewards".into(),
            json!({"name_en": "X", "name_fr": "X", "kind": "physical", "price": 1}),
        ),
        (
            Method::PUT,
            format!("/api/v1/shop/rewards/{reward}"),
            json!({"name_en": "Y", "name_fr": "Y", "price": 2}),
        ),
        (
            Method::POST,
            format!("/api/v1/shop/rewards/{reward}/restock"),
            json!({"quantity": 1}),
        ),
        (
            Method::POST,
            format!("/api/v1/shop/rewards/{reward}/codes"),
            json!({"codes": ["Z"]}),
        ),
        (
            Method::POST,
            format!("/api/v1/shop/rewards/{mug}/stock-adjustments"),
            json!({"delta": -1, "reason": "lost"}),
        ),
        (
            Method::GET,
            format!("/api/v1/shop/rewards/{mug}/stock-adjustments"),
            Value::Null,
        ),
        (Method::GET, "/api/v1/shop/fulfilment".into(), Value::Null),
        (
            Method::POST,
            format!("/api/v1/shop/orders/{order}/status"),
            json!({"status": "approved"}),
        ),
        (
            Method::GET,
            "/api/v1/shop/reports/points".into(),
            Value::Null,
        ),
        (
            Method::GET,
            "/api/v1/shop/reports/stock".into(),
            Value::Null,
        ),
        (
            Method::GET,
            "/api/v1/shop/reports/fulfilment".into(),
            Value::Null,
        ),
        (
            Method::POST,
            "/api/v1/auctions".into(),
            auction_body(reward),
        ),
        (
            Method::POST,
            format!("/api/v1/auctions/{auction}/cancel"),
            json!({}),
        ),
    ]
}

#[tokio::test]
async fn every_manager_only_shop_route_refuses_a_member_and_serves_a_manager() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    grant(&t, &admin, "marie", 1_000).await;
    let key = new_reward(
        &t,
        &cm,
        json!({"name_en": "Key", "name_fr": "Clé", "kind": "digital", "price": 10, "stock": 5}),
    )
    .await;
    t.post(
        &format!("/api/v1/shop/rewards/{key}/codes"),
        Some(&cm),
        json!({"codes": ["K1", "K2", "K3"]}),
    )
    .await;
    let mug = stocked_mug(&t, &cm, 5).await;
    let order = t
        .post(
            &format!("/api/v1/shop/rewards/{mug}/redeem"),
            Some(&marie),
            json!({"address": "1 rue de la Paix"}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.json);
    let order = order.json["id"].as_i64().unwrap();
    let auction = t
        .post("/api/v1/auctions", Some(&cm), auction_body(key))
        .await;
    let auction = auction.json["id"].as_i64().unwrap();

    for (method, path, body) in manager_routes(key, mug, order, auction) {
        let body = (!body.is_null()).then_some(body);
        let r = t
            .request(method.clone(), &path, Some(&marie), body.clone())
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{method} {path}: {}",
            r.json
        );
        let r = t.request(method.clone(), &path, Some(&cm), body).await;
        assert!(
            r.status.is_success(),
            "{method} {path} as a manager: {} {}",
            r.status,
            r.json
        );
    }
}

async fn adjust(t: &TestApp, token: &str, reward: i64, body: Value) -> Reply {
    retried(
        t,
        Method::POST,
        &format!("/api/v1/shop/rewards/{reward}/stock-adjustments"),
        token,
        body,
    )
    .await
}

/// The stock report's CSV, as a community manager downloads it.
async fn stock_report(t: &TestApp, token: &str) -> String {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::get("/api/v1/shop/reports/stock")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = t.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

/// Rows of the stock ledger that are adjustments, for one reward.
async fn adjustment_rows(t: &TestApp, reward: i64) -> i64 {
    t.count(&format!(
        "SELECT count(*) AS n FROM stock_movement WHERE reward_id = {reward} \
             AND reason = 'adjustment'"
    ))
    .await
}

#[tokio::test]
async fn a_community_manager_writes_units_off_and_adds_units_received_each_a_ledger_row() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    grant(&t, &admin, "marie", 1_000).await;
    let mug = stocked_mug(&t, &cm, 5).await;

    // Two mugs broke in the cupboard: written off, with why.
    let r = adjust(
        &t,
        &cm,
        mug,
        json!({"delta": -2, "reason": "damaged", "note": "Broken in the cupboard"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["adjustment"]["delta"], json!(-2));
    assert_eq!(r.json["adjustment"]["reason"], json!("damaged"));
    assert_eq!(
        r.json["adjustment"]["note"],
        json!("Broken in the cupboard")
    );
    assert_eq!(r.json["adjustment"]["by"], json!("claire"));
    assert_eq!(r.json["reward"]["stock"], json!(3));
    assert_eq!(stock(&t, mug).await, json!(3));
    // The ledger row names the manager, the change and the reason.
    assert_eq!(
        t.count(&format!(
            "SELECT count(*) AS n FROM stock_movement m JOIN person p ON p.id = m.created_by \
                 WHERE m.reward_id = {mug} AND m.pool = 'stock' AND m.reason = 'adjustment' \
                 AND m.delta = -2 AND m.adjustment_reason = 'damaged' \
                 AND m.note = 'Broken in the cupboard' AND p.username = 'claire'"
        ))
        .await,
        1
    );
    // A member's redemption still finds the units left.
    redeem_a_mug(&t, &marie, mug).await;
    assert_eq!(stock(&t, mug).await, json!(2));

    // A box came in: added, with a note; a restock is listed beside the adjustments.
    let r = adjust(
        &t,
        &cm,
        mug,
        json!({"delta": 4, "reason": "received", "note": "  Second batch  "}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["adjustment"]["note"], json!("Second batch"));
    assert_eq!(r.json["reward"]["stock"], json!(6));
    let r = t
        .post(
            &format!("/api/v1/shop/rewards/{mug}/restock"),
            Some(&cm),
            json!({"quantity": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    // A count put right, with no note.
    let r = adjust(&t, &cm, mug, json!({"delta": -1, "reason": "correction"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["adjustment"]["note"], Value::Null);
    assert_eq!(stock(&t, mug).await, json!(6));

    // The history, newest first, a page at a time.
    let path = format!("/api/v1/shop/rewards/{mug}/stock-adjustments");
    let all = t.get(&path, Some(&cm)).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    let changes: Vec<(i64, &str)> = all.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["delta"].as_i64().unwrap(), a["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (-1, "correction"),
            (1, "restock"),
            (4, "received"),
            (-2, "damaged")
        ]
    );
    assert_eq!(all.json["next_cursor"], Value::Null);
    let first = t.get(&format!("{path}?limit=3"), Some(&cm)).await;
    assert_eq!(first.json["items"].as_array().unwrap().len(), 3);
    let cursor = first.json["next_cursor"].as_str().unwrap().to_owned();
    let rest = t
        .get(&format!("{path}?limit=3&cursor={cursor}"), Some(&cm))
        .await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.json);
    assert_eq!(rest.json["items"][0]["reason"], json!("damaged"));
    assert_eq!(rest.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest.json["next_cursor"], Value::Null);

    // The stock report says what the shelf holds.
    let csv = stock_report(&t, &cm).await;
    let line = format!("\r\n{mug},Mug,physical,6,0,true\r\n");
    assert!(csv.contains(&line), "{csv}");

    // A member may neither adjust nor read the history: 403, nothing changed.
    let r = adjust(&t, &marie, mug, json!({"delta": -1, "reason": "lost"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{}",
        r.json
    );
    let r = t.get(&path, Some(&marie)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    assert_eq!(stock(&t, mug).await, json!(6));
    assert_eq!(adjustment_rows(&t, mug).await, 3);
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);

    // A write-off with no row saying so is caught by the audit.
    t.sql(&format!(
        "DELETE FROM stock_movement WHERE reward_id = {mug} AND adjustment_reason = 'damaged'"
    ))
    .await;
    assert_eq!(audit(&t).await, vec!["reward_stock".to_owned()]);
}

#[tokio::test]
async fn a_write_off_of_promised_or_missing_units_is_refused_and_changes_nothing() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    grant(&t, &admin, "marie", 1_000).await;
    let mug = stocked_mug(&t, &cm, 3).await;
    // Three on the shelf: one promised to Marie's order, one to an auction lot, one free.
    let order = redeem_a_mug(&t, &marie, mug).await;
    let lot = t
        .post("/api/v1/auctions", Some(&cm), auction_body(mug))
        .await;
    assert_eq!(lot.status, StatusCode::CREATED, "{}", lot.json);
    assert_eq!(stock(&t, mug).await, json!(1));

    let refused = |body: Value, status: StatusCode, code: &'static str| {
        let (t, cm) = (&t, &cm);
        async move {
            let r = adjust(t, cm, mug, body.clone()).await;
            assert_eq!((r.status, r.code()), (status, code), "{body}: {}", r.json);
            r
        }
    };
    // Past the free unit, into the promised ones; past all there are.
    refused(
        json!({"delta": -2, "reason": "damaged"}),
        StatusCode::CONFLICT,
        "stock_below_reserved",
    )
    .await;
    refused(
        json!({"delta": -3, "reason": "lost"}),
        StatusCode::CONFLICT,
        "stock_below_reserved",
    )
    .await;
    refused(
        json!({"delta": -4, "reason": "given_away"}),
        StatusCode::CONFLICT,
        "stock_below_zero",
    )
    .await;
    // Requests that say nothing sensible: named by their field.
    for (body, field) in [
        (json!({"delta": -1, "reason": "stolen"}), "reason"),
        (json!({"delta": 0, "reason": "correction"}), "delta"),
        (json!({"delta": 1, "reason": "damaged"}), "delta"),
        (json!({"delta": -1, "reason": "received"}), "delta"),
        (
            json!({"delta": -1_000_001, "reason": "correction"}),
            "delta",
        ),
        (
            json!({"delta": -1, "reason": "lost", "note": "x".repeat(501)}),
            "note",
        ),
    ] {
        let r = refused(body, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(
            r.json["error"]["details"]["field"],
            json!(field),
            "{}",
            r.json
        );
    }
    assert_eq!(stock(&t, mug).await, json!(1));
    assert_eq!(adjustment_rows(&t, mug).await, 0);

    // The free unit may go; then nothing more, until the order is refused and its unit is back.
    let r = adjust(&t, &cm, mug, json!({"delta": -1, "reason": "given_away"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(stock(&t, mug).await, json!(0));
    refused(
        json!({"delta": -1, "reason": "lost"}),
        StatusCode::CONFLICT,
        "stock_below_reserved",
    )
    .await;
    let r = t
        .post(
            &format!("/api/v1/shop/orders/{order}/status"),
            Some(&cm),
            json!({"status": "refused"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = adjust(&t, &cm, mug, json!({"delta": -1, "reason": "lost"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(stock(&t, mug).await, json!(0));
    assert_eq!(adjustment_rows(&t, mug).await, 2);

    // An unlimited reward has no stock to adjust; an unknown one is not found.
    let thanks = new_reward(
        &t,
        &cm,
        json!({"name_en": "Thanks", "name_fr": "Merci", "kind": "physical", "price": 10}),
    )
    .await;
    for delta in [-1, 1] {
        let reason = if delta < 0 { "lost" } else { "received" };
        let r = adjust(&t, &cm, thanks, json!({"delta": delta, "reason": reason})).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "reward_stock_unlimited"),
            "{}",
            r.json
        );
    }
    assert_eq!(stock(&t, thanks).await, Value::Null);
    assert_eq!(adjustment_rows(&t, thanks).await, 0);
    let r = adjust(&t, &cm, 999_999, json!({"delta": 1, "reason": "received"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);
}

/// An adjustment in the language `language` asks for (`Accept-Language`), for its messages.
async fn adjust_in(t: &TestApp, language: &str, token: &str, reward: i64, body: Value) -> Reply {
    let request =
        axum::http::Request::post(format!("/api/v1/shop/rewards/{reward}/stock-adjustments"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("accept-language", language)
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
    t.send(request).await
}

/// A digital reward's units are its codes: none of them is damaged, lost, given away or
/// received by hand (refused, 422, nothing written, codes untouched). Its stock, when it has
/// one, is a cap on how many sell: a correction puts it right, either way, as a ledger row.
#[tokio::test]
async fn a_digital_rewards_units_are_its_codes_and_only_its_cap_is_corrected() {
    let (t, _) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    // One capped at five sold, one with its codes only.
    let capped = new_reward(
        &t,
        &cm,
        json!({"name_en": "Key", "name_fr": "Clé", "kind": "digital", "price": 10, "stock": 5}),
    )
    .await;
    let codes_only = new_reward(
        &t,
        &cm,
        json!({"name_en": "E-book", "name_fr": "Livre", "kind": "digital", "price": 10}),
    )
    .await;
    for reward in [capped, codes_only] {
        let r = t
            .post(
                &format!("/api/v1/shop/rewards/{reward}/codes"),
                Some(&cm),
                json!({"codes": [format!("A-{reward}"), format!("B-{reward}")]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        for body in [
            json!({"delta": -1, "reason": "lost"}),
            json!({"delta": -1, "reason": "damaged"}),
            json!({"delta": -1, "reason": "given_away"}),
            json!({"delta": 2, "reason": "received"}),
        ] {
            let r = adjust(&t, &cm, reward, body.clone()).await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::UNPROCESSABLE_ENTITY, "reward_not_stocked"),
                "{reward} {body}: {}",
                r.json
            );
        }
        assert_eq!(adjustment_rows(&t, reward).await, 0);
        assert_eq!(free_codes(&t, reward).await, 2);
    }
    // Said in words, in English and French.
    let body = json!({"delta": -1, "reason": "lost"});
    let en = adjust_in(&t, "en", &cm, capped, body.clone()).await;
    let fr = adjust_in(&t, "fr", &cm, capped, body).await;
    let message = |r: &Reply| r.json["error"]["message"].as_str().unwrap_or("").to_owned();
    assert!(message(&en).contains("digital reward"), "{}", en.json);
    assert!(message(&fr).contains("récompense numérique"), "{}", fr.json);

    // The cap, corrected down and up: ledger rows, codes untouched.
    for (delta, after) in [(-2, 3), (4, 7)] {
        let r = adjust(
            &t,
            &cm,
            capped,
            json!({"delta": delta, "reason": "correction", "note": "cap"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{delta}: {}", r.json);
        assert_eq!(stock(&t, capped).await, json!(after));
    }
    assert_eq!(adjustment_rows(&t, capped).await, 2);
    assert_eq!(free_codes(&t, capped).await, 2);
    // No cap, nothing to correct: as for any reward of unlimited stock.
    let r = adjust(
        &t,
        &cm,
        codes_only,
        json!({"delta": -1, "reason": "correction"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "reward_stock_unlimited"),
        "{}",
        r.json
    );
    assert_eq!(stock(&t, codes_only).await, Value::Null);
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);
}

#[tokio::test]
async fn a_write_off_past_every_unit_says_plainly_what_happened_and_what_to_do() {
    let (t, _) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let mug = stocked_mug(&t, &cm, 2).await;
    let body = json!({"delta": -3, "reason": "lost"});
    let en = adjust_in(&t, "en", &cm, mug, body.clone()).await;
    let fr = adjust_in(&t, "fr", &cm, mug, body).await;
    for r in [&en, &fr] {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "stock_below_zero"),
            "{}",
            r.json
        );
    }
    assert_eq!(
        en.json["error"]["message"],
        json!(
            "This write-off is more than all the units on hand, even counting those promised \
             to open orders or auction lots. Write off at most the units still in stock."
        )
    );
    assert_eq!(
        fr.json["error"]["message"],
        json!(
            "Le stock passerait sous zéro\u{a0}: il n'y a pas autant d'unités, même en comptant \
             celles promises à des commandes en cours ou à des lots aux enchères. Ne sortez pas \
             plus d'unités qu'il n'en reste en stock."
        )
    );
    assert_eq!(stock(&t, mug).await, json!(2));
}

/// An adjustment made on `conn` in its own transaction, as the API's route makes it.
async fn adjust_on(
    conn: &mut AsyncPgConnection,
    session: &Session,
    reward: i64,
    delta: i64,
    reason: &str,
) -> Result<(), cenacle_core::CoreError> {
    let input = AdjustmentInput {
        delta,
        reason: reason.to_owned(),
        note: None,
    };
    let input = &input;
    conn.transaction::<_, cenacle_core::CoreError, _>(async move |conn| {
        cenacle_core::stock::adjust_stock(conn, session, reward, input)
            .await
            .map(drop)
    })
    .await
}

/// The units promised to open orders and lots are counted only when a write-off goes past the
/// free ones (to tell "promised" from "not there"): an adjustment the stock covers, under the
/// same row lock, reads neither orders nor lots.
#[tokio::test]
async fn only_a_write_off_past_the_free_units_counts_what_orders_and_lots_hold() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    grant(&t, &admin, "marie", 1_000).await;
    let mug = stocked_mug(&t, &cm, 4).await;
    redeem_a_mug(&t, &marie, mug).await;
    // Three free, one promised.
    let mut conn = AsyncPgConnection::establish(&t.db.url).await.unwrap();
    let session = cenacle_core::accounts::authenticate(&mut conn, &cm)
        .await
        .unwrap();
    let statements = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = statements.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            seen.lock().unwrap().push(query.to_string());
        }
    });
    // The count is marked in its SQL (`cenacle_db::shop::units_reserved`); the row lock is
    // the reward's `FOR UPDATE` (or the weaker `FOR NO KEY UPDATE`, were it ever enough).
    let counts_promised = |q: &String| q.contains("/* units_reserved */");
    let locks = |q: &String| q.contains("FOR UPDATE") || q.contains("FOR NO KEY UPDATE");
    // Within the free units, either way: no count of the promised ones.
    adjust_on(&mut conn, &session, mug, -2, "damaged")
        .await
        .unwrap();
    adjust_on(&mut conn, &session, mug, 1, "received")
        .await
        .unwrap();
    let covered = std::mem::take(&mut *statements.lock().unwrap());
    assert!(
        covered.iter().any(locks),
        "the reward's row is locked: {covered:#?}"
    );
    assert!(!covered.iter().any(counts_promised), "{covered:#?}");
    // Past them: counted, to say which refusal it is.
    for (delta, refusal) in [
        (-3, ShopRefusal::StockBelowReserved),
        (-4, ShopRefusal::StockBelowZero),
    ] {
        let e = adjust_on(&mut conn, &session, mug, delta, "lost")
            .await
            .unwrap_err();
        assert!(
            matches!(e, cenacle_core::CoreError::Shop(r) if r == refusal),
            "{delta}: {e:?}"
        );
        let past = std::mem::take(&mut *statements.lock().unwrap());
        let (lock, count) = (
            past.iter().position(locks),
            past.iter().position(counts_promised),
        );
        assert!(
            matches!((lock, count), (Some(l), Some(c)) if l < c),
            "{delta}: counted under the lock: {past:#?}"
        );
    }
    assert_eq!(stock(&t, mug).await, json!(2));
    assert_eq!(adjustment_rows(&t, mug).await, 2);
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redemptions_racing_write_offs_never_sell_a_written_off_unit() {
    let (t, admin) = setup().await;
    let cm = t.with_role("claire", Role::CommunityManager).await;
    let mut members = Vec::new();
    for i in 0..10 {
        let name = format!("member{i}");
        members.push(t.member(&name).await);
        grant(&t, &admin, &name, 1_000).await;
    }
    const STOCK: i64 = 20;
    let mug = stocked_mug(&t, &cm, STOCK).await;
    // 16 redemptions and 8 write-offs of two, all at once, for 20 units: 32 asked, so the last
    // units go to whichever side takes the reward's lock first — yet neither side alone can
    // empty the shelf, so both always get some, whatever order the requests reach the lock in.
    // A write-off every third request, so that both kinds queue together.
    let path = format!("/api/v1/shop/rewards/{mug}/redeem");
    let mut buyers = members.iter().cycle();
    let racers = (0..24).map(|i| {
        if i % 3 == 1 {
            adjust(&t, &cm, mug, json!({"delta": -2, "reason": "damaged"}))
                .map(|r| (true, r))
                .boxed_local()
        } else {
            let token = buyers.next().unwrap();
            retried(
                &t,
                Method::POST,
                &path,
                token,
                json!({"address": "1 rue de la Paix"}),
            )
            .map(|r| (false, r))
            .boxed_local()
        }
    });
    let replies = futures::future::join_all(racers.collect::<Vec<_>>()).await;
    let (written_off, redeemed): (Vec<_>, Vec<_>) =
        replies.into_iter().partition(|(write_off, _)| *write_off);
    let redeemed: Vec<Reply> = redeemed.into_iter().map(|(_, r)| r).collect();
    let written_off: Vec<Reply> = written_off.into_iter().map(|(_, r)| r).collect();
    assert_eq!((redeemed.len(), written_off.len()), (16, 8));

    let orders = redeemed
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count() as i64;
    for r in redeemed.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "out_of_stock"),
            "{}",
            r.json
        );
    }
    let mut units_written_off = 0;
    for r in &written_off {
        if r.status == StatusCode::CREATED {
            units_written_off += 2;
        } else {
            assert!(
                r.status == StatusCode::CONFLICT
                    && ["stock_below_reserved", "stock_below_zero"].contains(&r.code()),
                "{}",
                r.json
            );
        }
    }
    // Every unit is accounted for once: sold, written off or still on the shelf.
    let left = t
        .count(&format!("SELECT stock AS n FROM reward WHERE id = {mug}"))
        .await;
    // Demand exceeded the shelf: emptied, but for a unit too few for a write-off of two.
    assert!((0..=1).contains(&left), "{left} left");
    assert_eq!(
        left + orders + units_written_off,
        STOCK,
        "{left} + {orders} + {units_written_off}"
    );
    assert!(
        orders > 0 && units_written_off > 0,
        "both sides got some: {orders} orders, {units_written_off} written off; {:?}",
        redeemed
            .iter()
            .map(|r| r.status.as_u16())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        t.count(&format!(
            "SELECT count(*) AS n FROM reward_order WHERE reward_id = {mug}"
        ))
        .await,
        orders
    );
    assert_eq!(
        t.count(&format!(
            "SELECT COALESCE(-SUM(delta), 0)::bigint AS n FROM stock_movement \
                 WHERE reward_id = {mug} AND reason = 'adjustment'"
        ))
        .await,
        units_written_off
    );
    // Every order paid exactly its price.
    assert_eq!(
        t.count(
            "SELECT COALESCE(-SUM(delta), 0)::bigint AS n FROM points_ledger \
             WHERE reason = 'reward_redeemed'"
        )
        .await,
        orders * 100
    );
    assert!(audit(&t).await.is_empty(), "{:?}", audit(&t).await);
}
