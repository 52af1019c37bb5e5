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

/// ana, in Paris, wants the daily digest of replies at `hour`; carl replies to her question.
/// Clock injected, years ahead of the content's real time, so only the pending notifications
/// fill the digests: a new reply before each period makes it non-empty.
struct ParisReader {
    t: TestApp,
    carl: String,
    question: i64,
}

impl ParisReader {
    async fn new(hour: u32) -> Self {
        let (t, _) = common::engagement::setup_with(|s| {
            s.email.enabled = true;
            s.email.digest_hour = hour;
        })
        .await;
        let carl = t.member("carl").await;
        let ana = t.member("ana").await;
        t.sql(
            "UPDATE local_user SET email = 'ana@example.org', email_verified_at = now() \
             WHERE person_id = (SELECT id FROM person WHERE username = 'ana')",
        )
        .await;
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
        let question = q.json["post"]["id"].as_i64().unwrap();
        ParisReader { t, carl, question }
    }

    async fn new_reply(&self) {
        let r = self
            .t
            .post(
                &format!("/api/v1/posts/{}/comments", self.question),
                Some(&self.carl),
                json!({"body": "Une réponse"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    }

    /// The digest task's run at `now`: how many digests it queued.
    async fn run(&self, now: DateTime<Utc>) -> usize {
        let ctx = &self.t.ctx;
        ctx.transaction(|conn| digests::send_due_digests(conn, ctx, now).scope_boxed())
            .await
            .unwrap()
    }

    /// The digest task's run at `now` queues `digests` digests (`why` says what the hour is).
    async fn expect(&self, now: DateTime<Utc>, digests: usize, why: &str) {
        assert_eq!(self.run(now).await, digests, "{why}");
    }

    async fn digests_mailed(&self) -> i64 {
        self.t
            .count(
                "SELECT count(*) AS n FROM mail_queue WHERE kind = 'digest' \
                 AND to_address = 'ana@example.org'",
            )
            .await
    }
}

/// A Paris member who wants the 08:00 daily digest gets it at 07:00 UTC in January (UTC+1)
/// and at 06:00 UTC in July (UTC+2), never an hour early; the night the clocks go back sends
/// nothing extra (a fixed offset, or the offset of the moment applied to the day before, got
/// each of these wrong).
#[tokio::test]
async fn a_paris_member_gets_the_eight_o_clock_digest_at_eight_in_winter_and_summer() {
    let ana = ParisReader::new(8).await;

    // Winter (CET, UTC+1).
    ana.expect(utc(2030, 1, 14, 12, 0), 0, "first seen: the period starts")
        .await;
    ana.new_reply().await;
    ana.expect(
        utc(2030, 1, 15, 6, 0),
        0,
        "06:00 UTC is 07:00 in Paris in January: not yet",
    )
    .await;
    ana.expect(
        utc(2030, 1, 15, 7, 0),
        1,
        "07:00 UTC is 08:00 in Paris in January",
    )
    .await;

    // Summer (CEST, UTC+2): the day before's period is claimed first (nothing pending, so
    // nothing sent), then the 15th's.
    ana.expect(
        utc(2030, 7, 14, 12, 0),
        0,
        "the day before: nothing pending",
    )
    .await;
    ana.new_reply().await;
    ana.expect(
        utc(2030, 7, 15, 5, 0),
        0,
        "05:00 UTC is 07:00 in Paris in July: not yet",
    )
    .await;
    ana.expect(
        utc(2030, 7, 15, 6, 0),
        1,
        "06:00 UTC is 08:00 in Paris in July",
    )
    .await;
    ana.expect(utc(2030, 7, 15, 7, 0), 0, "the period was handled")
        .await;

    // The clocks go back on Sunday 2030-10-27 at 01:00 UTC: at 01:30 UTC (02:30 CET) the
    // period of Saturday's 08:00 CEST (06:00 UTC) is still the latest one, handled already.
    ana.expect(
        utc(2030, 10, 26, 12, 0),
        0,
        "the day before: nothing pending",
    )
    .await;
    ana.new_reply().await;
    ana.expect(
        utc(2030, 10, 27, 1, 30),
        0,
        "no extra digest the night the clocks go back",
    )
    .await;
    ana.expect(utc(2030, 10, 27, 6, 0), 0, "07:00 CET: not yet")
        .await;
    ana.expect(utc(2030, 10, 27, 7, 0), 1, "08:00 CET").await;

    assert_eq!(ana.digests_mailed().await, 3);
}

/// A digest hour the clocks skip: Paris goes from 02:00 CET straight to 03:00 CEST on Sunday
/// 2030-03-31 (01:00 UTC). A member who wants the 02:00 digest gets that day's once, when the
/// clock has passed the hour it skipped — not never (no 02:00 that day), not twice — and the
/// next day's at 02:00 CEST (00:00 UTC).
#[tokio::test]
async fn the_night_the_clocks_skip_the_digest_hour_sends_one_digest_after_it() {
    let ana = ParisReader::new(2).await;
    ana.expect(utc(2030, 3, 30, 12, 0), 0, "the period starts")
        .await;
    ana.new_reply().await;
    ana.expect(
        utc(2030, 3, 31, 0, 30),
        0,
        "00:30 UTC is 01:30 CET: before the hour",
    )
    .await;
    ana.expect(
        utc(2030, 3, 31, 1, 0),
        1,
        "01:00 UTC is 03:00 CEST: the skipped 02:00 has passed",
    )
    .await;
    ana.new_reply().await;
    ana.expect(utc(2030, 3, 31, 1, 30), 0, "that day's period was handled")
        .await;
    ana.expect(
        utc(2030, 3, 31, 23, 30),
        0,
        "23:30 UTC is 01:30 CEST on Monday: not yet",
    )
    .await;
    ana.expect(
        utc(2030, 4, 1, 0, 0),
        1,
        "00:00 UTC is 02:00 CEST on Monday",
    )
    .await;
    assert_eq!(ana.digests_mailed().await, 2);
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

/// A client still sending the removed `utc_offset_minutes` (or any field the request does not
/// have) is refused with the API's usual 422 `invalid_body` naming the field, not answered
/// 200 with nothing changed; nothing of the request is stored.
#[tokio::test]
async fn an_unknown_field_such_as_the_old_offset_is_refused_naming_it() {
    let t = TestApp::new().await;
    let ana = t.member("ana").await;
    for body in [
        json!({"utc_offset_minutes": 60}),
        json!({"preferences": {"reply": "off"}, "time_zone": "Europe/Paris", "utc_offset_minutes": 60}),
    ] {
        let refused = put_preferences(&t, &ana, body.clone()).await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            "{body}: {}",
            refused.json
        );
        let problem = refused.json["error"]["details"]["problem"]
            .as_str()
            .unwrap_or_default();
        assert!(problem.contains("utc_offset_minutes"), "{problem}");
    }
    let after = t.get("/api/v1/notifications/preferences", Some(&ana)).await;
    assert_eq!(after.json["time_zone"], Value::Null, "nothing changed");
    assert_ne!(after.json["preferences"]["reply"], "off", "nothing changed");
}

/// The zone names are read from PostgreSQL once per process and kept: after the first read,
/// a member's zone is checked, and the account page's list made, without asking
/// `pg_timezone_names` again (≈40 ms a read). Shown on a connection where that view is
/// shadowed by an empty one (a temporary view is found before `pg_catalog`'s): what was read
/// first still holds.
#[tokio::test]
async fn the_zone_names_are_read_once_and_then_kept() {
    let t = TestApp::new().await;
    t.member("ana").await;
    let caller = cenacle_core::Caller {
        person_id: t
            .count("SELECT id AS n FROM person WHERE username = 'ana'")
            .await,
        instance_role: Some(cenacle_domain::Role::Member),
    };
    let mut conn = t.db.pool.get().await.unwrap();
    let first = digests::time_zone_choices(&mut conn, &t.ctx, None)
        .await
        .unwrap();
    assert!(first.iter().any(|z| z == "Europe/Paris"), "{first:?}");

    diesel::sql_query("CREATE TEMPORARY VIEW pg_timezone_names AS SELECT ''::text AS name LIMIT 0")
        .execute(&mut conn)
        .await
        .unwrap();
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let shadowed = diesel::sql_query("SELECT count(*) AS n FROM pg_timezone_names")
        .get_result::<Count>(&mut conn)
        .await
        .unwrap();
    assert_eq!(shadowed.n, 0, "the view is shadowed on this connection");

    let again = digests::time_zone_choices(&mut conn, &t.ctx, Some("Etc/GMT-1"))
        .await
        .unwrap();
    assert_eq!(
        again.len(),
        first.len() + 1,
        "the list read first, and the current zone"
    );
    let saved = digests::save_settings(&mut conn, &t.ctx, &caller, &[], Some(Some("Europe/Paris")))
        .await
        .unwrap();
    assert_eq!(saved.time_zone.as_deref(), Some("Europe/Paris"));
    let refused =
        digests::save_settings(&mut conn, &t.ctx, &caller, &[], Some(Some("Mars/Olympus"))).await;
    assert!(refused.is_err(), "an unknown zone is still refused");

    diesel::sql_query("DROP VIEW pg_temp.pg_timezone_names")
        .execute(&mut conn)
        .await
        .unwrap();
}

/// A read of the zone names that finds none (here, `pg_timezone_names` shadowed by an empty
/// view before anything filled the list) is an error, not a list kept for the life of the
/// process: once PostgreSQL answers again, the full list is read and kept.
#[tokio::test]
async fn an_empty_read_of_the_zone_names_is_not_kept() {
    let t = TestApp::new().await;
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query("CREATE TEMPORARY VIEW pg_timezone_names AS SELECT ''::text AS name LIMIT 0")
        .execute(&mut conn)
        .await
        .unwrap();
    let empty = digests::time_zone_choices(&mut conn, &t.ctx, None).await;
    assert!(empty.is_err(), "{empty:?}");
    diesel::sql_query("DROP VIEW pg_temp.pg_timezone_names")
        .execute(&mut conn)
        .await
        .unwrap();
    let read = digests::time_zone_choices(&mut conn, &t.ctx, None)
        .await
        .unwrap();
    assert!(read.iter().any(|z| z == "Europe/Paris"), "{read:?}");
}
