//! The champions shortlist of the last N days comes from a snapshot per topic (issue 12's
//! benchmark: computing it sums every rollup row of the topic), through the real router and
//! database: a second request reads the stored snapshot, not the rollups; explicit periods, a
//! stale snapshot and a list too short after a deletion are computed for the request; the
//! background refresh recomputes the snapshots asked for lately, and those only; two servers
//! never refresh one topic at once; a topic whose refresh fails does not keep the others stale;
//! concurrent first requests compute a snapshot once; the pass leaves a topic a request is
//! computing to it; a request waits for its topic a bounded time; a period far from today does
//! not read the snapshots; "today" is the database's clock's, for requests and the pass alike.

mod common;

use axum::http::{Method, StatusCode};
use cenacle_core::{insights, ScopedFutureExt};
use cenacle_db::shortlist_snapshots::Pass;
use cenacle_domain::Role;
use chrono::{DateTime, Duration, Utc};
use common::{engagement::setup, Reply, TestApp};
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, TransactionManager};
use serde_json::{json, Value};

async fn count(t: &TestApp, query: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query(query)
        .get_result::<Count>(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}: {query}"))
        .n
}

/// `count` on a connection of the test's own (a skewed clock's: see `skewed_clock`).
async fn count_on(conn: &mut AsyncPgConnection, query: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(query)
        .get_result::<Count>(conn)
        .await
        .unwrap_or_else(|e| panic!("{e}: {query}"))
        .n
}

async fn execute(conn: &mut AsyncPgConnection, statement: &str) {
    diesel::sql_query(statement)
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{e}: {statement}"));
}

/// A transaction begun through diesel's transaction manager: a savepoint of core's in it is one.
async fn begin(conn: &mut AsyncPgConnection) {
    <AsyncPgConnection as AsyncConnection>::TransactionManager::begin_transaction(conn)
        .await
        .unwrap();
}

async fn commit(conn: &mut AsyncPgConnection) {
    <AsyncPgConnection as AsyncConnection>::TransactionManager::commit_transaction(conn)
        .await
        .unwrap();
}

fn handles(r: &Reply) -> Vec<String> {
    r.json["candidates"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.json))
        .iter()
        .map(|c| c["handle"].as_str().unwrap().to_owned())
        .collect()
}

fn as_of(r: &Reply) -> DateTime<Utc> {
    r.json["as_of"]
        .as_str()
        .unwrap_or_else(|| panic!("no as_of: {}", r.json))
        .parse()
        .unwrap()
}

async fn shortlist(t: &TestApp, query: &str, token: &str) -> Reply {
    let r = t
        .get(&format!("/api/v1/community/shortlist?{query}"), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.json);
    r
}

/// What the server's background pass does (`cenacle_server::serve::refresh_shortlists`), with
/// every snapshot computed before it started due (an interval of 0).
async fn refresh_pass(t: &TestApp) -> Vec<insights::RefreshedShortlist> {
    refresh_pass_with(t, &mut start_pass(t, std::time::Duration::ZERO).await).await
}

/// A pass's bounds, as the server starts one: snapshots computed `refresh_after` before now
/// (the database's) are due.
async fn start_pass(t: &TestApp, refresh_after: std::time::Duration) -> Pass {
    t.ctx
        .transaction(move |conn| insights::shortlist_pass(conn, refresh_after).scope_boxed())
        .await
        .unwrap()
}

/// The pass with the given bounds (and the topics it left: see `Pass::skipped`): the unasked
/// snapshots go, then one topic per transaction until none is due.
async fn refresh_pass_with(t: &TestApp, pass: &mut Pass) -> Vec<insights::RefreshedShortlist> {
    t.ctx
        .transaction(|conn| insights::forget_unasked_shortlists(conn).scope_boxed())
        .await
        .unwrap();
    let mut refreshed = Vec::new();
    loop {
        let this = &mut *pass;
        let Some(r) = t
            .ctx
            .transaction(move |conn| {
                async move { insights::refresh_due_shortlist(conn, this).await }.scope_boxed()
            })
            .await
            .unwrap()
        else {
            break;
        };
        refreshed.push(r);
    }
    refreshed
}

/// Whether the pass computed and stored the snapshot.
fn stored(r: &insights::RefreshedShortlist) -> bool {
    matches!(r.outcome, insights::Refresh::Stored(_))
}

/// A question in `open` tagged printers, by `asker`; its id.
async fn question(t: &TestApp, asker: &str, title: &str) -> i64 {
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(asker),
            json!({"kind": "question", "title": title, "tags": ["printers"]}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.json);
    q.json["post"]["id"].as_i64().unwrap()
}

async fn answer(t: &TestApp, who: &str, question: i64, body: &str) -> i64 {
    let a = t
        .post(
            &format!("/api/v1/posts/{question}/comments"),
            Some(who),
            json!({ "body": body }),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json);
    a.json["id"].as_i64().unwrap()
}

struct Small {
    t: TestApp,
    manager: String,
    asker: String,
    bob: String,
}

/// A topic with one influential member: eve, whose answer was accepted.
async fn small() -> Small {
    let (t, _admin) = setup().await;
    let manager = t.with_role("manager", Role::CommunityManager).await;
    let asker = t.member("asker").await;
    let eve = t.member("eve").await;
    let bob = t.member("bob").await;
    let q = question(&t, &asker, "Printer jam").await;
    let a = answer(&t, &eve, q, "Open the rear door.").await;
    let accepted = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{q}/accepted-answer"),
            Some(&asker),
            Some(json!({ "comment_id": a })),
        )
        .await;
    assert!(accepted.status.is_success(), "{}", accepted.json);
    Small {
        t,
        manager,
        asker,
        bob,
    }
}

/// Bob answers a new question: activity the rollups see at once.
async fn bob_answers(s: &Small, title: &str) {
    let q = question(&s.t, &s.asker, title).await;
    answer(&s.t, &s.bob, q, "Restart it.").await;
}

fn named(list: &[String], name: &str) -> bool {
    list.iter().any(|h| h.starts_with(&format!("{name}@")))
}

#[tokio::test]
async fn a_second_default_request_reads_the_snapshot_until_the_refresh() {
    let s = small().await;
    let t = &s.t;
    let first = shortlist(t, "tag=printers", &s.manager).await;
    assert_eq!(handles(&first).len(), 1, "{}", first.json);
    assert!(named(&handles(&first), "eve"), "{}", first.json);
    assert_eq!(
        count(t, "SELECT count(*) AS n FROM shortlist_snapshot").await,
        1,
        "the first request stored its answer"
    );

    // New activity between the two requests: the second answer does not see it.
    bob_answers(&s, "Paper tray").await;
    let second = shortlist(t, "tag=printers", &s.manager).await;
    assert_eq!(second.json, first.json, "served from the snapshot");
    assert_eq!(as_of(&second), as_of(&first));
    // The same period named explicitly, ending tomorrow, is the same snapshot.
    let today = Utc::now().date_naive();
    let named_period = shortlist(
        t,
        &format!(
            "tag=printers&from={}&to={}",
            today - Duration::days(89),
            today + Duration::days(1)
        ),
        &s.manager,
    )
    .await;
    assert_eq!(as_of(&named_period), as_of(&first));

    // The refresh recomputes it: the new activity shows, as of later.
    let refreshed = refresh_pass(t).await;
    assert_eq!(refreshed.len(), 1, "{refreshed:?}");
    assert_eq!(refreshed[0].tag, "printers");
    assert_eq!(refreshed[0].days, 90);
    let third = shortlist(t, "tag=printers", &s.manager).await;
    assert!(named(&handles(&third), "bob"), "{}", third.json);
    assert!(as_of(&third) > as_of(&first), "{}", third.json);
    // And that is what the request read: nothing was computed for it.
    let fourth = shortlist(t, "tag=printers&limit=5", &s.manager).await;
    assert_eq!(as_of(&fourth), as_of(&third));
}

#[tokio::test]
async fn an_explicit_period_is_computed_for_the_request() {
    let s = small().await;
    let t = &s.t;
    let today = Utc::now().date_naive();
    // Ends the day after tomorrow: not the last N days.
    let period = format!(
        "tag=printers&from={}&to={}",
        today - Duration::days(30),
        today + Duration::days(2)
    );
    let before = shortlist(t, &period, &s.manager).await;
    assert!(!named(&handles(&before), "bob"), "{}", before.json);
    shortlist(t, "tag=printers", &s.manager).await;
    bob_answers(&s, "Toner").await;
    let after = shortlist(t, &period, &s.manager).await;
    assert!(
        named(&handles(&after), "bob"),
        "seen at once: {}",
        after.json
    );
    assert!(as_of(&after) > as_of(&before));
    assert_eq!(
        count(t, "SELECT count(*) AS n FROM shortlist_snapshot").await,
        1,
        "only the default period was stored"
    );
}

#[tokio::test]
async fn a_stale_snapshot_is_computed_again_for_the_request() {
    let s = small().await;
    let t = &s.t;
    let first = shortlist(t, "tag=printers", &s.manager).await;
    bob_answers(&s, "Duplex").await;
    // Older than `insights.shortlist_refresh_seconds` (900 by default).
    t.sql("UPDATE shortlist_snapshot SET computed_at = computed_at - interval '16 minutes'")
        .await;
    let second = shortlist(t, "tag=printers", &s.manager).await;
    assert!(named(&handles(&second), "bob"), "{}", second.json);
    assert!(as_of(&second) > as_of(&first));
    // ... and stored: the next request reads it.
    bob_answers(&s, "Scanner").await;
    let third = shortlist(t, "tag=printers", &s.manager).await;
    assert_eq!(third.json, second.json);
    // A snapshot of yesterday's period is stale too, however recent.
    t.sql("UPDATE shortlist_snapshot SET period_from = period_from - 1, period_to = period_to - 1")
        .await;
    let fourth = shortlist(t, "tag=printers", &s.manager).await;
    assert!(as_of(&fourth) > as_of(&third), "{}", fourth.json);
    assert_eq!(
        fourth.json["candidates"][0]["replies"].as_i64().unwrap()
            + fourth.json["candidates"][1]["replies"].as_i64().unwrap(),
        3,
        "{}",
        fourth.json
    );
}

/// 150 members of another instance, each answering another's printer question, one answer in
/// three accepted: 150 members with some influence, more than a snapshot keeps.
async fn large() -> (TestApp, String) {
    let (t, _admin) = setup().await;
    let manager = t.with_role("manager", Role::CommunityManager).await;
    t.sql(
        "INSERT INTO person (username, local, ap_id, instance_host) \
         SELECT 'm' || i, false, 'https://seed.example/u/' || i, 'seed.example' \
         FROM generate_series(1, 150) AS i",
    )
    .await;
    let group = "(SELECT id FROM community_group WHERE name = 'open')";
    let person = |i: &str| {
        format!("(SELECT id FROM person WHERE ap_id = 'https://seed.example/u/' || ({i}))")
    };
    t.sql(&format!(
        "INSERT INTO post (group_id, author_id, kind, title, body, language, tags, ap_id, local, created_at) \
         SELECT {group}, {}, 'question', 'Q' || g, 'How?', 'en', ARRAY['printers'], \
                'https://seed.example/q/' || g, false, now() - (g % 60 + 1) * interval '1 day' \
         FROM generate_series(1, 150) AS g",
        person("g")
    ))
    .await;
    t.sql(&format!(
        "INSERT INTO comment (post_id, author_id, body, depth, ap_id, local, created_at) \
         SELECT p.id, {}, 'Like this.', 0, 'https://seed.example/c/' || g, false, \
                p.created_at + interval '1 hour' \
         FROM generate_series(1, 150) AS g JOIN post p ON p.ap_id = 'https://seed.example/q/' || g",
        person("g % 150 + 1")
    ))
    .await;
    t.sql(
        "UPDATE post p SET accepted_comment_id = c.id, accepted_by = p.author_id FROM comment c \
         WHERE c.post_id = p.id AND p.ap_id LIKE 'https://seed.example/q/%' AND p.id % 3 = 0",
    )
    .await;
    (t, manager)
}

/// A live answer no longer lists people deleted (their rollups go with them): neither does a
/// snapshot computed before — and when that leaves fewer than asked of a list that was cut at
/// its 100, the request is computed again (the 101st is unknown to the snapshot).
#[tokio::test]
async fn people_deleted_after_the_snapshot_are_not_listed() {
    let (t, manager) = large().await;
    let first = shortlist(&t, "tag=printers&limit=100", &manager).await;
    let listed = handles(&first);
    assert_eq!(listed.len(), 100, "{}", first.json);
    let (top, twentieth) = (listed[0].clone(), listed[19].clone());
    let username = top.split('@').next().unwrap();
    t.sql(&format!(
        "DELETE FROM person WHERE username = '{username}' AND instance_host = 'seed.example'"
    ))
    .await;

    // From the snapshot (same as_of), without them.
    let short = shortlist(&t, "tag=printers&limit=20", &manager).await;
    assert_eq!(as_of(&short), as_of(&first), "served from the snapshot");
    let short_list = handles(&short);
    assert_eq!(short_list.len(), 20);
    assert!(!short_list.contains(&top), "{}", short.json);
    assert!(short_list.iter().all(|h| !h.is_empty()), "{}", short.json);
    assert_eq!(short_list[0], listed[1]);
    assert!(short_list.contains(&twentieth));

    // 99 stored left for 100 asked: computed again, the one after the first hundred shown.
    let full = shortlist(&t, "tag=printers&limit=100", &manager).await;
    assert!(
        as_of(&full) > as_of(&first),
        "computed again: {}",
        full.json
    );
    let full_list = handles(&full);
    assert_eq!(full_list.len(), 100, "{}", full.json);
    assert!(!full_list.contains(&top));
    assert_eq!(&full_list[..99], &listed[1..]);
}

/// Members banned or suspended stay on a live answer (the shortlist is what they did, not
/// what they may do now): a snapshot lists them alike.
#[tokio::test]
async fn a_snapshot_lists_whom_a_live_answer_lists() {
    let s = small().await;
    let t = &s.t;
    bob_answers(&s, "Jam again").await;
    let today = Utc::now().date_naive();
    let explicit = format!(
        "tag=printers&from={}&to={}",
        today - Duration::days(90),
        today + Duration::days(2)
    );
    let first = shortlist(t, "tag=printers", &s.manager).await;
    t.sql("UPDATE local_user SET status = 'suspended' WHERE person_id = (SELECT id FROM person WHERE username = 'bob' AND local)")
        .await;
    let live = shortlist(t, &explicit, &s.manager).await;
    let stored = shortlist(t, "tag=printers", &s.manager).await;
    assert_eq!(as_of(&stored), as_of(&first), "served from the snapshot");
    assert_eq!(handles(&live), handles(&stored));
    assert!(named(&handles(&stored), "bob"));
}

/// A snapshot is kept fresh while someone asks for it: one nobody asked for in 30 days is not
/// refreshed (it is deleted; a request would compute it again), one asked 29 days ago is —
/// and that refresh is not an asking: two days on, nobody having asked since, it goes too.
#[tokio::test]
async fn the_refresh_leaves_snapshots_nobody_asks_for() {
    let s = small().await;
    let t = &s.t;
    shortlist(t, "tag=printers", &s.manager).await;
    shortlist(t, "group=open", &s.manager).await;
    t.sql("UPDATE shortlist_snapshot SET computed_at = computed_at - interval '1 day'")
        .await;
    t.sql(
        "UPDATE shortlist_snapshot SET last_asked_at = now() - interval '31 days' \
         WHERE tag = 'printers'",
    )
    .await;
    t.sql(
        "UPDATE shortlist_snapshot SET last_asked_at = now() - interval '29 days' \
         WHERE tag = ''",
    )
    .await;
    let mut pass = start_pass(t, std::time::Duration::ZERO).await;
    let refreshed = refresh_pass_with(t, &mut pass).await;
    assert_eq!(refreshed.len(), 1, "{refreshed:?}");
    assert_eq!(refreshed[0].tag, "");
    assert!(refreshed[0].group_id.is_some());
    assert_eq!(
        count(
            t,
            "SELECT count(*) AS n FROM shortlist_snapshot \
             WHERE tag = '' AND computed_at > now() - interval '1 hour'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            t,
            "SELECT count(*) AS n FROM shortlist_snapshot WHERE tag = 'printers'"
        )
        .await,
        0
    );
    // Refreshed once: the pass ends (what it refreshed is no longer due by its bounds).
    assert!(refresh_pass_with(t, &mut pass).await.is_empty());
    // The refresh kept when it was last asked for ...
    assert_eq!(
        count(
            t,
            "SELECT count(*) AS n FROM shortlist_snapshot \
             WHERE tag = '' AND last_asked_at < now() - interval '28 days'"
        )
        .await,
        1,
        "the refresh is not an asking"
    );
    // ... so two days on (its times moved back, as the clock going forward would), nobody
    // having asked, it is neither refreshed nor kept.
    t.sql(
        "UPDATE shortlist_snapshot SET computed_at = computed_at - interval '2 days', \
                last_asked_at = last_asked_at - interval '2 days'",
    )
    .await;
    assert!(refresh_pass(t).await.is_empty(), "not refreshed");
    assert_eq!(
        count(t, "SELECT count(*) AS n FROM shortlist_snapshot").await,
        0,
        "forgotten"
    );
    // A request served from a snapshot keeps it asked for.
    shortlist(t, "group=open", &s.manager).await;
    t.sql("UPDATE shortlist_snapshot SET last_asked_at = now() - interval '2 hours'")
        .await;
    shortlist(t, "group=open", &s.manager).await;
    assert_eq!(
        count(
            t,
            "SELECT count(*) AS n FROM shortlist_snapshot \
             WHERE last_asked_at > now() - interval '1 hour'"
        )
        .await,
        1
    );
}

/// Two servers' passes side by side: the topic one is refreshing is left by the other (its
/// topic held until the refresh commits), so no topic is computed twice. Bounded in time: a
/// pass waiting on the lock instead of leaving it would hang, and fails here.
#[tokio::test]
async fn two_passes_never_refresh_one_topic_at_once() {
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        let s = small().await;
        let t = &s.t;
        shortlist(t, "tag=printers", &s.manager).await;
        t.sql("UPDATE shortlist_snapshot SET computed_at = computed_at - interval '1 day'")
            .await;
        let mut pass = start_pass(t, std::time::Duration::ZERO).await;
        let mut other_pass = pass.clone();
        // Begun through diesel's transaction manager, so that core's savepoint is one (a `BEGIN`
        // it does not know of, its savepoint's commit would commit the refresh).
        let mut first = t.db.pool.get().await.unwrap();
        begin(&mut first).await;
        let one = insights::refresh_due_shortlist(&mut first, &mut pass)
            .await
            .unwrap();
        assert!(one.as_ref().is_some_and(stored), "{one:?}");
        let other = &mut other_pass;
        let other = t
            .ctx
            .transaction(move |conn| {
                async move { insights::refresh_due_shortlist(conn, other).await }.scope_boxed()
            })
            .await
            .unwrap();
        assert_eq!(
            other.map(|o| o.outcome),
            Some(insights::Refresh::Left),
            "held by the first pass: left"
        );
        commit(&mut first).await;
        assert!(
            refresh_pass_with(t, &mut other_pass).await.is_empty(),
            "done by the first"
        );
        assert!(refresh_pass_with(t, &mut pass).await.is_empty());
    })
    .await
    .expect("a pass waited for another's lock");
}

/// Only the lengths a dashboard offers are kept (each snapshot is refreshed while asked for):
/// the last 30 days are, the last 45 are computed for each request and never stored.
#[tokio::test]
async fn only_the_usual_lengths_are_kept() {
    let s = small().await;
    let t = &s.t;
    let tomorrow = Utc::now().date_naive() + Duration::days(1);
    let last = |days: i64| {
        format!(
            "tag=printers&from={}&to={tomorrow}",
            tomorrow - Duration::days(days)
        )
    };
    let odd = shortlist(t, &last(45), &s.manager).await;
    assert_eq!(
        count(t, "SELECT count(*) AS n FROM shortlist_snapshot").await,
        0,
        "45 days: not stored"
    );
    bob_answers(&s, "Fax").await;
    let again = shortlist(t, &last(45), &s.manager).await;
    assert!(as_of(&again) > as_of(&odd), "computed again");
    assert!(named(&handles(&again), "bob"), "{}", again.json);
    shortlist(t, &last(30), &s.manager).await;
    assert_eq!(
        count(
            t,
            "SELECT count(*) AS n FROM shortlist_snapshot WHERE days = 30"
        )
        .await,
        1,
        "30 days: stored"
    );
}

/// At midnight (UTC) every snapshot's period becomes yesterday's, which no request may read:
/// the pass refreshes it then, however recently it was computed.
#[tokio::test]
async fn the_pass_refreshes_yesterdays_periods_at_once() {
    let s = small().await;
    let t = &s.t;
    shortlist(t, "tag=printers", &s.manager).await;
    // Computed just before midnight, a minute ago: its period ends today.
    t.sql(
        "UPDATE shortlist_snapshot SET period_from = period_from - 1, \
                period_to = period_to - 1, computed_at = now() - interval '1 minute'",
    )
    .await;
    // The server's bound (900 s by default: due at 450 s) leaves it by its age.
    let mut pass = start_pass(t, std::time::Duration::from_secs(450)).await;
    let refreshed = refresh_pass_with(t, &mut pass).await;
    assert_eq!(refreshed.len(), 1, "{refreshed:?}");
    assert_eq!(
        count(
            t,
            "SELECT count(*) AS n FROM shortlist_snapshot \
             WHERE period_to = (now() AT TIME ZONE 'UTC')::date + 1"
        )
        .await,
        1
    );
    let read = shortlist(t, "tag=printers", &s.manager).await;
    bob_answers(&s, "Stapler").await;
    let again = shortlist(t, "tag=printers", &s.manager).await;
    assert_eq!(
        as_of(&again),
        as_of(&read),
        "served from the refreshed snapshot"
    );
}

#[tokio::test]
async fn the_answer_says_how_fresh_it_is_in_the_api_description() {
    let t = TestApp::new().await;
    let doc = t.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let view: &Value = &doc.json["components"]["schemas"]["ShortlistView"];
    assert!(view["properties"]["as_of"].is_object(), "{}", view);
    assert!(view["required"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "as_of"));
}

/// A topic whose refresh fails — here its rollups add up past what a bigint holds, which the
/// database refuses as it would a statement timeout — is logged and passed over: the pass goes
/// on with the other topics due (before, it stopped there; and as the stalest topic it was
/// taken first by every pass, so every other topic stayed stale for ever). Its snapshot is kept
/// as it was, its failure recorded; it is taken again a refresh interval after the failure,
/// after the topics due since before that attempt.
#[tokio::test]
async fn a_topic_whose_refresh_fails_does_not_keep_the_others_stale() {
    let s = small().await;
    let t = &s.t;
    shortlist(t, "tag=printers", &s.manager).await;
    shortlist(t, "group=open", &s.manager).await;
    // The tag's snapshot is the stalest: the pass takes it first.
    t.sql(
        "UPDATE shortlist_snapshot SET computed_at = computed_at - interval '2 days' \
         WHERE tag = 'printers'",
    )
    .await;
    t.sql(
        "UPDATE shortlist_snapshot SET computed_at = computed_at - interval '1 day' \
         WHERE tag = ''",
    )
    .await;
    // Bob's views in the tag over two days: their sum is out of a bigint's range. (Only the
    // tag's rows: the group's figures, from its '' rows, are unharmed.)
    t.sql(
        "INSERT INTO member_stats_day (tag, day, group_id, person_id, replies, views) \
         SELECT 'printers', d, g.id, p.id, 1, 9223372036854775807 \
         FROM community_group g, person p, \
              (VALUES (0), (1)) AS ago (n), \
              LATERAL (SELECT (now() AT TIME ZONE 'UTC')::date - ago.n AS d) AS day \
         WHERE g.name = 'open' AND p.username = 'bob' AND p.local",
    )
    .await;

    let refreshed = refresh_pass(t).await;
    assert_eq!(refreshed.len(), 2, "{refreshed:?}");
    assert_eq!(refreshed[0].tag, "printers", "{refreshed:?}");
    let insights::Refresh::Failed(failure) = &refreshed[0].outcome else {
        panic!("{refreshed:?}");
    };
    assert!(failure.contains("out of range"), "{failure}");
    assert_eq!(refreshed[1].tag, "", "{refreshed:?}");
    assert!(stored(&refreshed[1]), "{refreshed:?}");
    assert_eq!(
        count(
            t,
            "SELECT count(*) AS n FROM shortlist_snapshot \
             WHERE tag = '' AND computed_at > now() - interval '1 hour' \
               AND refresh_failed_at IS NULL"
        )
        .await,
        1,
        "the group's snapshot was refreshed"
    );
    assert_eq!(
        count(
            t,
            "SELECT count(*) AS n FROM shortlist_snapshot WHERE tag = 'printers' \
               AND computed_at < now() - interval '1 day' AND refresh_failed_at IS NOT NULL"
        )
        .await,
        1,
        "the tag's snapshot kept as it was, its failure recorded"
    );

    // The server's next pass (due half an hour old, say): the group's snapshot is due again,
    // the tag's is not — it failed within that half hour.
    t.sql(
        "UPDATE shortlist_snapshot SET computed_at = computed_at - interval '1 hour' \
         WHERE tag = ''",
    )
    .await;
    let mut pass = start_pass(t, std::time::Duration::from_secs(1800)).await;
    let refreshed = refresh_pass_with(t, &mut pass).await;
    let tags: Vec<&str> = refreshed.iter().map(|r| r.tag.as_str()).collect();
    assert_eq!(tags, [""], "{refreshed:?}");

    // Later, both due: the group's computed three hours ago, the tag's two days ago but tried
    // (and failed) two hours ago. The group's comes first: due since before that attempt.
    t.sql(
        "UPDATE shortlist_snapshot SET computed_at = computed_at - interval '3 hours' \
         WHERE tag = ''",
    )
    .await;
    t.sql(
        "UPDATE shortlist_snapshot SET refresh_failed_at = refresh_failed_at - interval '2 hours' \
         WHERE tag = 'printers'",
    )
    .await;
    let mut pass = start_pass(t, std::time::Duration::from_secs(1800)).await;
    let refreshed = refresh_pass_with(t, &mut pass).await;
    let tags: Vec<&str> = refreshed.iter().map(|r| r.tag.as_str()).collect();
    assert_eq!(tags, ["", "printers"], "{refreshed:?}");
    assert!(stored(&refreshed[0]), "{refreshed:?}");
    assert!(
        matches!(refreshed[1].outcome, insights::Refresh::Failed(_)),
        "still failing: {refreshed:?}"
    );
}

/// Sessions of this test's database waiting for the rollups (held by the test) or for a
/// topic's advisory lock.
async fn waiting_for_the_topic(t: &TestApp) -> i64 {
    waiting_for(
        t,
        "l.locktype = 'advisory' OR l.relation = 'member_stats_day'::regclass",
    )
    .await
}

/// Sessions of this test's database waiting for a lock `which` (SQL over `pg_locks l`).
async fn waiting_for(t: &TestApp, which: &str) -> i64 {
    count(
        t,
        &format!(
            "SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE a.datname = current_database() AND NOT l.granted AND ({which})"
        ),
    )
    .await
}

/// Until `done` or `waiting_for(which)`: what a test holding a lock watches to let go.
async fn until_done_or_waiting(t: &TestApp, done: &std::cell::Cell<bool>, which: &str) -> bool {
    loop {
        if done.get() {
            return false;
        }
        if waiting_for(t, which).await > 0 {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Just after midnight every snapshot is stale at once, and requests compute their topics
/// while the pass goes through them. A request computing a topic holds it: the pass leaves it
/// to the request and goes on. (It used to claim the row, then wait for the topic: the
/// request's store skipped the locked row, its answer was lost, the requests queued behind it
/// found the snapshot still stale and computed it again in turn, each store lost as well, and
/// the pass computed it once more.) The test holds the rollups until the request computes (it
/// holds the topic), runs the pass meanwhile, and lets go once the pass has ended or waits for
/// the topic: the request's answer is what is stored, and the pass neither computed the topic
/// nor takes it again, though as of before the pass started it still looks due.
#[tokio::test]
async fn the_pass_leaves_a_topic_a_request_is_computing() {
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        let s = small().await;
        let t = &s.t;
        shortlist(t, "group=open", &s.manager).await;
        t.sql("UPDATE shortlist_snapshot SET computed_at = computed_at - interval '1 day'")
            .await;
        bob_answers(&s, "Jammed again").await;
        let mut holder = t.db.pool.get().await.unwrap();
        execute(&mut holder, "BEGIN").await;
        execute(
            &mut holder,
            "LOCK TABLE member_stats_day IN ACCESS EXCLUSIVE MODE",
        )
        .await;
        let pass_done = std::cell::Cell::new(false);
        let run_pass = async {
            while waiting_for(t, "l.relation = 'member_stats_day'::regclass").await < 1 {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            // Started once the request's transaction has: what the request stores is as of
            // before the pass started, due by its bounds.
            let mut pass = start_pass(t, std::time::Duration::ZERO).await;
            let refreshed = refresh_pass_with(t, &mut pass).await;
            pass_done.set(true);
            (refreshed, pass)
        };
        let release = async {
            let pass_waited = until_done_or_waiting(t, &pass_done, "l.locktype = 'advisory'").await;
            execute(&mut holder, "COMMIT").await;
            pass_waited
        };
        let (answer, (refreshed, mut pass), pass_waited) =
            tokio::join!(shortlist(t, "group=open", &s.manager), run_pass, release);
        assert!(named(&handles(&answer), "bob"), "{}", answer.json);
        assert_eq!(
            count(
                t,
                &format!(
                    "SELECT count(*) AS n FROM shortlist_snapshot WHERE computed_at = '{}'",
                    as_of(&answer).to_rfc3339()
                )
            )
            .await,
            1,
            "the request's answer stored"
        );
        let outcomes: Vec<_> = refreshed.iter().map(|r| r.outcome.clone()).collect();
        assert_eq!(outcomes, [insights::Refresh::Left], "{refreshed:?}");
        assert!(!pass_waited, "the pass waited for the request");
        assert!(
            refresh_pass_with(t, &mut pass).await.is_empty(),
            "not taken again by the pass"
        );
        let again = shortlist(t, "group=open", &s.manager).await;
        assert_eq!(as_of(&again), as_of(&answer), "served from it");
    })
    .await
    .expect("the request or the pass never ended");
}

/// A request waits for the holder of its topic (a request or the pass computing it) a bounded
/// time (`TOPIC_WAIT`): past it, it answers with what it computes
/// itself, not stored (the holder stores it), instead of waiting, its connection held, as long
/// as the holder takes. The test holds the topic for the whole request.
#[tokio::test]
async fn a_request_waits_for_its_topic_a_bounded_time() {
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let s = small().await;
        let t = &s.t;
        let first = shortlist(t, "tag=printers", &s.manager).await;
        t.sql("UPDATE shortlist_snapshot SET computed_at = computed_at - interval '1 day'")
            .await;
        bob_answers(&s, "Jammed once more").await;
        let mut holder = t.db.pool.get().await.unwrap();
        execute(&mut holder, "BEGIN").await;
        execute(
            &mut holder,
            "SELECT pg_advisory_xact_lock(hashtext('shortlist_snapshot'), \
                    hashtext(tag || '/' || COALESCE(group_id, 0) || '/' || days)) \
             FROM shortlist_snapshot",
        )
        .await;
        let started = std::time::Instant::now();
        let answer = shortlist(t, "tag=printers", &s.manager).await;
        assert!(
            started.elapsed() >= cenacle_db::shortlist_snapshots::TOPIC_WAIT,
            "it waited for the topic"
        );
        assert!(named(&handles(&answer), "bob"), "{}", answer.json);
        assert!(as_of(&answer) > as_of(&first), "{}", answer.json);
        assert_eq!(
            count(
                t,
                "SELECT count(*) AS n FROM shortlist_snapshot \
                 WHERE computed_at > now() - interval '1 hour'"
            )
            .await,
            0,
            "not stored"
        );
        execute(&mut holder, "COMMIT").await;
    })
    .await
    .expect("the request waited for its topic without bound");
}

/// A period of a length a snapshot keeps, but ending a week ago, is computed without reading
/// the snapshots: the test holds their table, and the request must answer without waiting
/// for it.
#[tokio::test]
async fn a_period_far_from_today_does_not_read_the_snapshot() {
    let s = small().await;
    let t = &s.t;
    shortlist(t, "tag=printers", &s.manager).await;
    let mut holder = t.db.pool.get().await.unwrap();
    execute(&mut holder, "BEGIN").await;
    execute(
        &mut holder,
        "LOCK TABLE shortlist_snapshot IN ACCESS EXCLUSIVE MODE",
    )
    .await;
    let to = Utc::now().date_naive() - Duration::days(7);
    let query = format!("tag=printers&from={}&to={to}", to - Duration::days(90));
    let done = std::cell::Cell::new(false);
    let request = async {
        let r = shortlist(t, &query, &s.manager).await;
        done.set(true);
        r
    };
    let watch = async {
        let waited =
            until_done_or_waiting(t, &done, "l.relation = 'shortlist_snapshot'::regclass").await;
        execute(&mut holder, "COMMIT").await;
        waited
    };
    let (answer, waited) = tokio::join!(request, watch);
    assert!(!waited, "the request read the snapshots");
    // Eve answered today: nobody had then.
    assert!(handles(&answer).is_empty(), "{}", answer.json);
}

/// Two managers open the dashboard at once, no snapshot stored yet: the first request
/// computes it, the other waits for it and reads what it stored — the topic is computed once.
/// The test holds the rollups (a lock on their table) until both requests wait: one to read
/// them, the other for the topic; then lets go. Without the single flight both would be
/// waiting to read the rollups, and each would compute the topic (each answer then as of its
/// own instant).
#[tokio::test]
async fn concurrent_first_requests_compute_a_snapshot_once() {
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        let s = small().await;
        let t = &s.t;
        let mut holder = t.db.pool.get().await.unwrap();
        execute(&mut holder, "BEGIN").await;
        execute(
            &mut holder,
            "LOCK TABLE member_stats_day IN ACCESS EXCLUSIVE MODE",
        )
        .await;
        let release = async {
            while waiting_for_the_topic(t).await < 2 {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            execute(&mut holder, "COMMIT").await;
        };
        let (first, second, ()) = tokio::join!(
            shortlist(t, "group=open", &s.manager),
            shortlist(t, "group=open", &s.manager),
            release
        );
        assert_eq!(
            as_of(&first),
            as_of(&second),
            "one computation: {} / {}",
            first.json,
            second.json
        );
        assert_eq!(first.json, second.json);
        assert_eq!(
            count(
                t,
                &format!(
                    "SELECT count(*) AS n FROM shortlist_snapshot WHERE computed_at = '{}'",
                    as_of(&first).to_rfc3339()
                )
            )
            .await,
            1,
            "the one stored"
        );
    })
    .await
    .expect("the requests never both waited, or one never ended");
}

/// A connection of the test's own whose database clock is `days_ahead` days off the real one
/// for every statement of the shortlist's (`now()`): PostgreSQL finds `now()` through the
/// search path, here first in a schema whose `now()` adds the shift — the database's clock
/// skewed against this process's, as two machines' may be, without any seam in the code.
/// Signed in as `token` first (on the real clock).
async fn skewed_clock(
    t: &TestApp,
    token: &str,
    days_ahead: i64,
) -> (AsyncPgConnection, cenacle_core::accounts::Session) {
    t.sql("CREATE SCHEMA IF NOT EXISTS skewed_clock").await;
    t.sql(&format!(
        "CREATE OR REPLACE FUNCTION skewed_clock.now() RETURNS timestamptz LANGUAGE sql STABLE \
         AS $$ SELECT pg_catalog.now() + {days_ahead} * interval '1 day' $$"
    ))
    .await;
    let mut conn = AsyncPgConnection::establish(&t.db.url).await.unwrap();
    let session = cenacle_core::accounts::authenticate(&mut conn, token)
        .await
        .unwrap();
    execute(
        &mut conn,
        "SET search_path TO skewed_clock, pg_catalog, public",
    )
    .await;
    assert_eq!(
        count_on(
            &mut conn,
            "SELECT ((now() AT TIME ZONE 'UTC')::date - \
                     (pg_catalog.now() AT TIME ZONE 'UTC')::date)::int8 AS n"
        )
        .await,
        days_ahead,
        "the database's day"
    );
    (conn, session)
}

/// Which days are the last 90 is the database's clock's to say, as for the pass: with that
/// clock a day ahead of this server's, the period the API's default gives (by the server's
/// clock) is, by the database's, yesterday's — computed for the request, never stored; the
/// database's last 90 days are stored, and served.
#[tokio::test]
async fn a_request_takes_today_from_the_databases_clock() {
    let s = small().await;
    let t = &s.t;
    let (mut conn, session) = skewed_clock(t, &s.manager, 1).await;
    let topic = insights::Topic {
        tag: Some("printers".to_owned()),
        group: None,
    };
    let fresh_for = Duration::minutes(15);
    let days = |to: chrono::NaiveDate| insights::Period {
        from: to - Duration::days(90),
        to,
    };
    let servers_tomorrow = Utc::now().date_naive() + Duration::days(1);
    let computed = insights::shortlist(
        &mut conn,
        &session,
        &topic,
        days(servers_tomorrow),
        20,
        fresh_for,
    )
    .await
    .unwrap();
    // As of the database's clock too, read with the snapshot: a day ahead of this server's.
    assert!(
        computed.as_of > Utc::now() + Duration::hours(12),
        "{}",
        computed.as_of
    );
    assert_eq!(
        count_on(&mut conn, "SELECT count(*) AS n FROM shortlist_snapshot").await,
        0,
        "yesterday's period by the database's clock: not stored"
    );
    let databases_tomorrow = servers_tomorrow + Duration::days(1);
    let first = insights::shortlist(
        &mut conn,
        &session,
        &topic,
        days(databases_tomorrow),
        20,
        fresh_for,
    )
    .await
    .unwrap();
    assert_eq!(
        count_on(
            &mut conn,
            "SELECT count(*) AS n FROM shortlist_snapshot \
             WHERE period_to = (now() AT TIME ZONE 'UTC')::date + 1"
        )
        .await,
        1,
        "the database's last 90 days: stored"
    );
    let again = insights::shortlist(
        &mut conn,
        &session,
        &topic,
        days(databases_tomorrow),
        20,
        fresh_for,
    )
    .await
    .unwrap();
    assert_eq!(again.as_of, first.as_of, "served from the snapshot");
}

/// The pass reads the database's clock, not this server's: with the database's a day behind,
/// it ends after refreshing the one snapshot due (bounds from this server's clock, a day ahead
/// of the `computed_at` it writes, would find it due again, for ever: at most three rounds
/// here), over the database's last 90 days.
#[tokio::test]
async fn the_pass_takes_its_bounds_and_days_from_the_databases_clock() {
    let s = small().await;
    let t = &s.t;
    shortlist(t, "tag=printers", &s.manager).await;
    t.sql("UPDATE shortlist_snapshot SET computed_at = computed_at - interval '2 days'")
        .await;
    let (mut conn, _) = skewed_clock(t, &s.manager, -1).await;
    // As the server runs it: its bounds, then one topic per transaction.
    let mut pass = insights::shortlist_pass(&mut conn, std::time::Duration::ZERO)
        .await
        .unwrap();
    let mut refreshed = Vec::new();
    for _ in 0..3 {
        begin(&mut conn).await;
        let one = insights::refresh_due_shortlist(&mut conn, &mut pass)
            .await
            .unwrap();
        commit(&mut conn).await;
        match one {
            Some(one) => refreshed.push(one),
            None => break,
        }
    }
    assert_eq!(refreshed.len(), 1, "{refreshed:?}");
    assert!(stored(&refreshed[0]), "{refreshed:?}");
    assert_eq!(
        count_on(
            &mut conn,
            "SELECT count(*) AS n FROM shortlist_snapshot \
             WHERE period_to = (now() AT TIME ZONE 'UTC')::date + 1 \
               AND computed_at > now() - interval '1 hour'"
        )
        .await,
        1,
        "refreshed over the database's last 90 days"
    );
}
