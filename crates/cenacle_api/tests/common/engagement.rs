//! What the engagement tests share: a community with an open group, and the member's
//! standing (reputation, points, badges) as the API shows it.

use super::TestApp;
use axum::http::{Method, StatusCode};
use cenacle_domain::Role;
use serde_json::{json, Value};

/// An instance with generous rate limits, an admin (`root`) and a public group `open`; the
/// admin's token.
pub async fn setup() -> (TestApp, String) {
    setup_with(|_| {}).await
}

/// [`setup`], with the settings tweaked first.
pub async fn setup_with(tweak: impl FnOnce(&mut cenacle_config::Settings)) -> (TestApp, String) {
    let t = TestApp::with(|s| {
        s.limits.register_per_ip = 1000;
        s.limits.login_per_ip = 1000;
        tweak(s);
    })
    .await;
    let admin = t.with_role("root", Role::Admin).await;
    t.post(
        "/api/v1/groups",
        Some(&admin),
        json!({"name": "open", "title": "Open"}),
    )
    .await;
    (t, admin)
}

/// Sets every onboarding step's points to nothing, as a community manager may: the seeded
/// journey pays a member's first answer, idea, join, likes and profile on top of the reward
/// rules, and the tests calling this count those rules' points exactly.
#[allow(dead_code)] // Not every test binary counts points.
pub async fn journey_pays_nothing(t: &TestApp) {
    use diesel_async::RunQueryDsl;
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query("UPDATE onboarding_step SET points = 0")
        .execute(&mut conn)
        .await
        .unwrap();
}

pub async fn reputation(t: &TestApp, token: &str) -> i64 {
    t.get("/api/v1/account/reputation", Some(token)).await.json["reputation"]
        .as_i64()
        .unwrap()
}

pub async fn points(t: &TestApp, token: &str) -> i64 {
    t.get("/api/v1/account/points", Some(token)).await.json["balance"]
        .as_i64()
        .unwrap()
}

pub async fn badges_of(t: &TestApp, handle: &str) -> Vec<String> {
    let p = t.get(&format!("/api/v1/people/{handle}"), None).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.json);
    p.json["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// An admin grant of points (its 200 asserted).
pub async fn grant(t: &TestApp, admin: &str, who: &str, delta: i64) {
    let r = t
        .post(
            "/api/v1/admin/points",
            Some(admin),
            json!({"handle": who, "delta": delta, "reason": "test"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

pub async fn vote(t: &TestApp, token: &str, path: &str, v: Value) -> StatusCode {
    t.request(Method::PUT, path, Some(token), Some(json!({"vote": v})))
        .await
        .status
}
