//! Digests by the member's time zone (an IANA name PostgreSQL knows), through the real router
//! and database: the local hour holds in winter and in summer, the autumn change sends no
//! extra digest, and the preference is read and written by name (an unknown one refused,
//! nothing changed).

mod common;

use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use cenacle_core::{digests, ScopedFutureExt};
use chrono::{DateTime, TimeZone, Utc};
use common::TestApp;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(t: &TestApp, query: &str) -> i64 {
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query(query)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n
}

async fn put_preferences(t: &TestApp, token: &str, body: Value) -> common::Reply {
    t.request(
        Method::PUT,
        "/api/v1/notifications/preferences",
        Some(token),
        Some(body),
    )
    .await
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// A Paris member who wants the 08:00 daily digest gets it at 07:00 UTC in January (UTC+1)
/// and at 06:00 UTC in July (UTC+2), never an hour early; the night the clocks go back sends
/// nothing extra (a fixed offset, or the offset of the moment applied to the day before, got
/// each of these wrong). Clock injected, years ahead of the content's real time, so only the
/// pending notifications fill the digests: a new reply before each period makes it non-empty.
#[tokio::test]
async fn a_paris_member_gets_the_eight_o_clock_digest_at_eight_in_winter_and_summer() {
    let (t, _) = common::engagement::setup_with(|s| {
        s.email.enabled = true;
        s.email.digest_hour = 8;
    })
    .await;
    let carl = t.member("carl").await;
    let ana = t.member("ana").await;
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query(
        "UPDATE local_user SET email = 'ana@example.org', email_verified_at = now() \
         WHERE person_id = (SELECT id FROM person WHERE username = 'ana')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let set = put_preferences(
        &t,
        &ana,
        json!({"preferences": {"reply": "email_daily"}, "time_zone": "Europe/Paris"}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);

    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&ana),
            json!({"kind": "question", "title": "Quelle heure ?"}),
        )
        .await;
    let q = q.json["post"]["id"].as_i64().unwrap();
    let new_reply = async || {
        let r = t
            .post(
                &format!("/api/v1/posts/{q}/comments"),
                Some(&carl),
                json!({"body": "Une réponse"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    };
    let run = async |now| {
        t.ctx
            .transaction(|conn| digests::send_due_digests(conn, &t.ctx, now).scope_boxed())
            .await
            .unwrap()
    };

    // Winter (CET, UTC+1).
    assert_eq!(
        run(utc(2030, 1, 14, 12, 0)).await,
        0,
        "first seen: the period starts"
    );
    new_reply().await;
    assert_eq!(
        run(utc(2030, 1, 15, 6, 0)).await,
        0,
        "06:00 UTC is 07:00 in Paris in January: not yet"
    );
    assert_eq!(
        run(utc(2030, 1, 15, 7, 0)).await,
        1,
        "07:00 UTC is 08:00 in Paris in January"
    );

    // Summer (CEST, UTC+2): the day before's period is claimed first (nothing pending, so
    // nothing sent), then the 15th's.
    assert_eq!(run(utc(2030, 7, 14, 12, 0)).await, 0);
    new_reply().await;
    assert_eq!(
        run(utc(2030, 7, 15, 5, 0)).await,
        0,
        "05:00 UTC is 07:00 in Paris in July: not yet"
    );
    assert_eq!(
        run(utc(2030, 7, 15, 6, 0)).await,
        1,
        "06:00 UTC is 08:00 in Paris in July"
    );
    assert_eq!(
        run(utc(2030, 7, 15, 7, 0)).await,
        0,
        "the period was handled"
    );

    // The clocks go back on Sunday 2030-10-27 at 01:00 UTC: at 01:30 UTC (02:30 CET) the
    // period of Saturday's 08:00 CEST (06:00 UTC) is still the latest one, handled already.
    assert_eq!(run(utc(2030, 10, 26, 12, 0)).await, 0);
    new_reply().await;
    assert_eq!(
        run(utc(2030, 10, 27, 1, 30)).await,
        0,
        "no extra digest the night the clocks go back"
    );
    assert_eq!(run(utc(2030, 10, 27, 6, 0)).await, 0, "07:00 CET: not yet");
    assert_eq!(run(utc(2030, 10, 27, 7, 0)).await, 1, "08:00 CET");

    assert_eq!(
        count(
            &t,
            "SELECT count(*) AS n FROM mail_queue WHERE kind = 'digest' \
             AND to_address = 'ana@example.org'"
        )
        .await,
        3
    );
}

/// The preference by name: a valid one reads back, `null` goes back to the instance's
/// default, and an unknown one is refused with its code (in English and in French) while
/// nothing of the request is stored.
#[tokio::test]
async fn the_time_zone_is_read_and_written_by_name_and_an_unknown_one_changes_nothing() {
    let t = TestApp::new().await;
    let ana = t.member("ana").await;
    let read = async || {
        let r = t.get("/api/v1/notifications/preferences", Some(&ana)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        r.json
    };
    assert_eq!(
        read().await["time_zone"],
        Value::Null,
        "the instance's default"
    );

    let set = put_preferences(&t, &ana, json!({"time_zone": "America/Montreal"})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    assert_eq!(set.json["time_zone"], "America/Montreal");
    assert_eq!(read().await["time_zone"], "America/Montreal");
    // Left out: unchanged.
    let set = put_preferences(&t, &ana, json!({"preferences": {"like": "off"}})).await;
    assert_eq!(set.json["time_zone"], "America/Montreal", "{}", set.json);
    let reply_before = set.json["preferences"]["reply"].clone();
    assert_ne!(reply_before, "off");

    for unknown in [
        "Europe/Atlantis",
        "europe/paris",
        "",
        "posixrules",
        "../../etc/passwd",
    ] {
        let refused = put_preferences(
            &t,
            &ana,
            json!({"preferences": {"reply": "off"}, "time_zone": unknown}),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{unknown:?}: {}",
            refused.json
        );
        assert_eq!(refused.code(), "unknown_time_zone", "{unknown:?}");
        assert_eq!(refused.json["error"]["details"]["field"], "time_zone");
    }
    let after = read().await;
    assert_eq!(after["time_zone"], "America/Montreal", "nothing changed");
    assert_eq!(
        after["preferences"]["reply"], reply_before,
        "nothing changed"
    );
    assert_eq!(after["preferences"]["like"], "off");

    // The message in the request's language.
    let request = Request::builder()
        .method(Method::PUT)
        .uri("/api/v1/notifications/preferences")
        .header(header::AUTHORIZATION, format!("Bearer {ana}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT_LANGUAGE, "fr")
        .body(Body::from(json!({"time_zone": "Mars/Olympus"}).to_string()))
        .unwrap();
    let refused = t.send(request).await;
    assert_eq!(refused.code(), "unknown_time_zone");
    let message = refused.json["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Fuseau horaire inconnu"), "{message}");

    let set = put_preferences(&t, &ana, json!({"time_zone": null})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    assert_eq!(
        read().await["time_zone"],
        Value::Null,
        "back to the default"
    );
}
