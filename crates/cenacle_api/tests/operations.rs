//! Probes, metrics and the OpenAPI document.

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use cenacle_core::ScopedFutureExt;
use common::TestApp;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

#[tokio::test]
async fn health_and_readiness() {
    let t = TestApp::new().await;
    assert_eq!(t.get("/healthz", None).await.status, StatusCode::OK);
    let ready = t.get("/readyz", None).await;
    assert_eq!(
        (ready.status, ready.json["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let t = TestApp::new().await;
    t.db.pool.close();
    let ready = t.get("/readyz", None).await;
    assert_eq!(
        (ready.status, ready.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let t = TestApp::new().await;
    t.register("marie").await;
    t.login("marie", "wrong password!").await;
    t.get("/api/v1/account/me", None).await;
    let text = scrape(&t).await;
    assert!(text.contains(r#"cenacle_http_requests_total{method="POST",route="/api/v1/account/register",status="201"} 1"#), "{text}");
    assert!(text.contains(
        r#"cenacle_http_requests_total{method="POST",route="/api/v1/account/login",status="401"} 1"#
    ));
    assert!(text.contains("cenacle_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"cenacle_db_pool_connections{state="max"} 8"#));
    assert!(text.contains(r#"cenacle_db_pool_connections{state="waiting"} 0"#));
    // The pool's waits: every request above took a connection, none waited out its time.
    let checkouts: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("cenacle_db_pool_checkouts_total "))
        .expect("checkouts counter")
        .parse()
        .unwrap();
    assert!(checkouts >= 3, "{checkouts}");
    assert!(text.contains("cenacle_db_pool_wait_seconds_total "));
    assert!(text.contains("cenacle_db_pool_timeouts_total 0"));
}

/// What the metrics listener answers, as text.
async fn scrape(t: &TestApp) -> String {
    let response = t
        .metrics
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

/// The value of an unlabelled sample in a scrape.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .parse()
        .unwrap()
}

/// Issue 9: the statistics changes that wait for the server's fold (none runs in this test
/// app) are counted on `/metrics`, with the age of the oldest: a fold that stopped shows as
/// both growing.
#[tokio::test]
async fn metrics_count_the_statistics_changes_waiting_for_the_fold() {
    let t = TestApp::new().await;
    let text = scrape(&t).await;
    assert!(
        text.contains("# HELP cenacle_statistics_pending "),
        "{text}"
    );
    assert!(
        text.contains("# TYPE cenacle_statistics_pending gauge"),
        "{text}"
    );
    assert!(text.contains("# HELP cenacle_statistics_oldest_pending_seconds "));
    assert_eq!(sample(&text, "cenacle_statistics_pending"), 0.0);
    assert_eq!(
        sample(&text, "cenacle_statistics_oldest_pending_seconds"),
        0.0
    );

    // Two changes, one appended a minute and a half ago (of nobody: the fold drops them,
    // which is all the last check needs).
    for appended in ["now() - interval '90 seconds'", "now()"] {
        t.sql(&format!(
            "INSERT INTO member_stats_pending (person_id, group_id, tags, day, threads, ideas, \
             replies, accepted, likes, views, first_replies, first_reply_secs, helped, appended_at) \
             VALUES (1, 1, '{{}}', current_date, 0, 0, 0, 0, 1, 0, 0, 0, NULL, {appended})"
        ))
        .await;
    }
    let text = scrape(&t).await;
    assert_eq!(sample(&text, "cenacle_statistics_pending"), 2.0);
    let oldest = sample(&text, "cenacle_statistics_oldest_pending_seconds");
    assert!((90.0..3600.0).contains(&oldest), "{oldest}");

    // Folded, they are no longer waiting.
    t.ctx
        .transaction(|conn| cenacle_core::insights::fold_statistics(conn, 100).scope_boxed())
        .await
        .unwrap();
    let text = scrape(&t).await;
    assert_eq!(sample(&text, "cenacle_statistics_pending"), 0.0);
    assert_eq!(
        sample(&text, "cenacle_statistics_oldest_pending_seconds"),
        0.0
    );
}

/// Metrics tell about the instance's traffic and queues: they are served on their own address
/// (`metrics.bind`), never on the public port.
#[tokio::test]
async fn metrics_are_not_served_on_the_public_port() {
    let t = TestApp::new().await;
    let reply = t.get("/metrics", None).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::NOT_FOUND, "route_not_found")
    );
}

/// Every route answers and is in the document; every documented operation is routed.
#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let t = TestApp::new().await;
    let doc = t.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.json["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc.json["paths"].as_object().unwrap();

    // The endpoints this server must have: a route removed from the document fails here.
    let required = [
        ("post", "/api/v1/account/register"),
        ("post", "/api/v1/account/login"),
        ("get", "/api/v1/account/me"),
        ("patch", "/api/v1/account/me"),
        ("post", "/api/v1/account/logout"),
        ("post", "/api/v1/account/logout-all"),
        ("post", "/api/v1/account/password/forgot"),
        ("post", "/api/v1/account/password/reset"),
        ("post", "/api/v1/account/email/verify"),
        ("post", "/api/v1/account/email/resend"),
        ("post", "/api/v1/account/email/change"),
        ("post", "/api/v1/account/email/confirm"),
        ("get", "/api/v1/account/email/preferences"),
        ("put", "/api/v1/account/email/preferences"),
        ("post", "/api/v1/email/unsubscribe"),
        ("get", "/api/v1/admin/accounts"),
        ("put", "/api/v1/admin/accounts/{username}/role"),
        ("post", "/api/v1/admin/accounts/{username}/approve"),
        ("post", "/api/v1/admin/invites"),
        ("put", "/api/v1/admin/instances/{host}/block"),
        ("put", "/api/v1/admin/instances/{host}/allow"),
        ("put", "/api/v1/admin/instances/{host}/limit"),
        ("post", "/api/v1/admin/bans"),
        ("get", "/api/v1/admin/bans"),
        ("delete", "/api/v1/admin/bans"),
        ("get", "/api/v1/groups/{name}/approval"),
        ("put", "/api/v1/groups/{name}/approval"),
        ("get", "/api/v1/groups/{name}/pending"),
        ("post", "/api/v1/posts/{id}/approve"),
        ("post", "/api/v1/posts/{id}/reject"),
        ("get", "/api/v1/groups/{name}/moderation-log"),
        ("get", "/api/v1/instance/moderation-log"),
        ("get", "/api/v1/admin/federation/outbox/failed"),
        ("post", "/api/v1/admin/federation/outbox/failed/{id}/retry"),
        ("get", "/api/v1/admin/mail/parked"),
        ("post", "/api/v1/admin/mail/parked/{id}/retry"),
        ("post", "/api/v1/admin/mail/parked/retry"),
        ("post", "/api/v1/groups"),
        ("get", "/api/v1/groups/{name}"),
        ("patch", "/api/v1/groups/{name}"),
        ("post", "/api/v1/groups/{name}/posts"),
        ("get", "/api/v1/groups/{name}/posts"),
        ("post", "/api/v1/groups/{name}/join"),
        ("get", "/api/v1/notifications"),
        ("get", "/api/v1/notifications/unread-count"),
        ("post", "/api/v1/notifications/{id}/read"),
        ("post", "/api/v1/notifications/read-all"),
        ("get", "/api/v1/notifications/preferences"),
        ("put", "/api/v1/notifications/preferences"),
        ("post", "/api/v1/groups/{name}/leave"),
        ("get", "/api/v1/posts/{id}"),
        ("patch", "/api/v1/posts/{id}"),
        ("delete", "/api/v1/posts/{id}"),
        ("put", "/api/v1/posts/{id}/moderation"),
        ("post", "/api/v1/posts/{id}/removal"),
        ("delete", "/api/v1/posts/{id}/removal"),
        ("post", "/api/v1/comments/{id}/removal"),
        ("delete", "/api/v1/comments/{id}/removal"),
        ("post", "/api/v1/posts/{id}/comments"),
        ("put", "/api/v1/posts/{id}/accepted-answer"),
        ("put", "/api/v1/posts/{id}/idea-status"),
        ("get", "/api/v1/posts/{id}/history"),
        ("put", "/api/v1/posts/{id}/vote"),
        ("put", "/api/v1/comments/{id}/vote"),
        ("patch", "/api/v1/comments/{id}"),
        ("delete", "/api/v1/comments/{id}"),
        ("put", "/api/v1/posts/{id}/rating"),
        ("get", "/api/v1/feed"),
        ("get", "/api/v1/account/reputation"),
        ("get", "/api/v1/account/points"),
        ("post", "/api/v1/admin/points"),
        ("put", "/api/v1/admin/instances/{host}/weight"),
        ("get", "/api/v1/leaderboard"),
        ("get", "/api/v1/community/members/{handle}/stats"),
        ("get", "/api/v1/community/shortlist"),
        ("get", "/api/v1/community/alerts"),
        ("get", "/api/v1/badges"),
        ("post", "/api/v1/contests"),
        ("get", "/api/v1/contests"),
        ("get", "/api/v1/admin/onboarding/rules"),
        ("post", "/api/v1/admin/onboarding/rules"),
        ("put", "/api/v1/admin/onboarding/rules/{id}"),
        ("delete", "/api/v1/admin/onboarding/rules/{id}"),
        ("get", "/api/v1/admin/onboarding/rules/{id}/dry-run"),
        ("get", "/api/v1/admin/onboarding/welcome"),
        ("put", "/api/v1/admin/onboarding/welcome"),
        ("get", "/api/v1/admin/onboarding/steps"),
        ("post", "/api/v1/admin/onboarding/steps"),
        ("put", "/api/v1/admin/onboarding/steps/{id}"),
        ("delete", "/api/v1/admin/onboarding/steps/{id}"),
        ("get", "/api/v1/onboarding"),
        ("post", "/api/v1/onboarding/welcome/dismiss"),
        ("get", "/api/v1/courses"),
        ("post", "/api/v1/courses"),
        ("get", "/api/v1/courses/{id}"),
        ("post", "/api/v1/courses/{id}/publish"),
        ("patch", "/api/v1/courses/{id}"),
        ("post", "/api/v1/courses/{id}/lessons"),
        ("put", "/api/v1/courses/{id}/lessons/order"),
        ("put", "/api/v1/lessons/{id}"),
        ("delete", "/api/v1/lessons/{id}"),
        ("post", "/api/v1/courses/{id}/quizzes"),
        ("put", "/api/v1/quizzes/{id}"),
        ("delete", "/api/v1/quizzes/{id}"),
        ("get", "/api/v1/quizzes/{id}/questions"),
        ("post", "/api/v1/quizzes/{id}/questions"),
        ("put", "/api/v1/questions/{id}"),
        ("delete", "/api/v1/questions/{id}"),
        ("post", "/api/v1/courses/{id}/enrol"),
        ("get", "/api/v1/courses/{id}/progress"),
        ("get", "/api/v1/courses/{id}/statistics"),
        ("post", "/api/v1/lessons/{id}/done"),
        ("post", "/api/v1/quizzes/{id}/attempts"),
        ("post", "/api/v1/attempts/{id}/submit"),
        ("get", "/api/v1/certificates/{code}"),
        ("get", "/api/v1/reports/moderated-elsewhere"),
        ("get", "/api/v1/contests/{id}"),
        ("post", "/api/v1/contests/{id}/close"),
        ("post", "/api/v1/admin/badges/award"),
        ("post", "/api/v1/admin/badges/revoke"),
        ("post", "/api/v1/admin/badges/restore"),
        ("put", "/api/v1/account/title"),
        ("post", "/api/v1/posts/{id}/bounty"),
        ("get", "/api/v1/posts/{id}/bounty"),
        ("put", "/api/v1/posts/{id}/bounty/award"),
        ("get", "/api/v1/shop/rewards"),
        ("post", "/api/v1/shop/rewards"),
        ("get", "/api/v1/shop/rewards/{id}"),
        ("put", "/api/v1/shop/rewards/{id}"),
        ("post", "/api/v1/shop/rewards/{id}/restock"),
        ("post", "/api/v1/shop/rewards/{id}/stock-adjustments"),
        ("get", "/api/v1/shop/rewards/{id}/stock-adjustments"),
        ("post", "/api/v1/shop/rewards/{id}/codes"),
        ("post", "/api/v1/shop/rewards/{id}/redeem"),
        ("get", "/api/v1/shop/orders"),
        ("get", "/api/v1/shop/fulfilment"),
        ("post", "/api/v1/shop/orders/{id}/status"),
        ("put", "/api/v1/shop/orders/{id}/address"),
        ("get", "/api/v1/shop/reports/{kind}"),
        ("get", "/api/v1/auctions"),
        ("post", "/api/v1/auctions"),
        ("get", "/api/v1/auctions/{id}"),
        ("post", "/api/v1/auctions/{id}/bids"),
        ("post", "/api/v1/auctions/{id}/cancel"),
        ("get", "/api/v1/people/{handle}"),
        ("get", "/api/v1/champions"),
        ("get", "/api/v1/champions/charter"),
        ("post", "/api/v1/champions/charter"),
        ("post", "/api/v1/champions/nominations"),
        ("put", "/api/v1/champions/people/{handle}/objectives"),
        ("post", "/api/v1/champions/people/{handle}/renew"),
        ("post", "/api/v1/champions/people/{handle}/lapse"),
        ("post", "/api/v1/champions/people/{handle}/remove"),
        ("get", "/api/v1/champions/people/{handle}/audit"),
        ("get", "/api/v1/champions/renewals"),
        ("get", "/api/v1/champions/solutions-share"),
        ("get", "/api/v1/champions/priority-queue"),
        ("get", "/api/v1/champions/notices"),
        ("post", "/api/v1/champions/notices"),
        ("get", "/api/v1/champions/me"),
        ("post", "/api/v1/champions/me/invitation"),
        ("post", "/api/v1/champions/me/charter"),
        ("post", "/api/v1/champions/me/exit"),
        ("get", "/api/v1/champions/tools/questions"),
        ("post", "/api/v1/champions/tools/posts/{id}/accept"),
        ("post", "/api/v1/champions/tools/posts/{id}/pin"),
        ("post", "/api/v1/champions/tools/posts/{id}/move"),
        ("post", "/api/v1/media"),
        ("get", "/media/{file}"),
        ("get", "/api/v1/search"),
        ("get", "/api/v1/groups/{name}/members"),
        ("put", "/api/v1/groups/{name}/members/{handle}"),
        ("get", "/api/v1/groups/{name}/join-requests"),
        ("put", "/api/v1/groups/{name}/join-requests/{person_id}"),
        ("post", "/api/v1/groups/{name}/invitations"),
        ("get", "/api/v1/proposals"),
        ("post", "/api/v1/proposals"),
        ("post", "/api/v1/proposals/{id}/back"),
        ("put", "/api/v1/proposals/{id}/decision"),
        ("get", "/api/v1/groups/{name}/report-reasons"),
        ("put", "/api/v1/groups/{name}/report-reasons"),
        ("post", "/api/v1/reports"),
        ("get", "/api/v1/reports"),
        ("get", "/api/v1/reports/mine"),
        ("get", "/api/v1/groups/{name}/reports"),
        ("post", "/api/v1/reports/{id}/resolve"),
        ("post", "/api/v1/reports/{id}/dismiss"),
        ("get", "/api/v1/groups/{name}/bans"),
        ("put", "/api/v1/groups/{name}/bans/{handle}"),
        ("delete", "/api/v1/groups/{name}/bans/{handle}"),
        ("get", "/api/v1/resolve"),
        ("post", "/api/v1/follows"),
        ("get", "/api/v1/follows"),
        ("delete", "/api/v1/follows"),
        ("get", "/api/v1/instance"),
        ("post", "/api/v1/setup"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/healthz"),
        ("get", "/readyz"),
    ];
    for (method, path) in required {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from OpenAPI"
        );
    }

    // Every documented operation is really routed (not 404 route_not_found / 405).
    let mut operations = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let concrete = path
                .replace("{username}", "nobody")
                .replace("{name}", "nothing")
                .replace("{host}", "nowhere.test")
                .replace("{id}", "999999")
                .replace("{handle}", "nobody")
                .replace("{person_id}", "999999")
                .replace("{file}", "nothing.png")
                .replace("{kind}", "points");
            let request = Request::builder()
                .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                .uri(&concrete)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let reply = t.send(request).await;
            assert_ne!(
                reply.json["error"]["code"],
                Value::from("route_not_found"),
                "{method} {path}"
            );
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
        }
    }
    assert_eq!(
        operations,
        required.len(),
        "a documented operation is not in the required list"
    );
}

/// Routes reach axum only through `utoipa_axum::routes!`, which documents them: a plain
/// `.route(` or `.nest(` in the API crate would add an undocumented endpoint.
#[test]
fn no_route_is_registered_outside_the_documented_router() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    for entry in walk(&src) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if !code.starts_with("//")
                && (code.contains(".route(")
                    || code.contains(".nest(")
                    || code.contains(".nest_service("))
            {
                offenders.push(format!("{}:{}", entry.display(), n + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "undocumented routes: {offenders:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
