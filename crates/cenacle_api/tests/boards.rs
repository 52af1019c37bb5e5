//! Bounties settled fairly and live leaderboards, through the real router and database.

mod common;

use axum::http::{Method, StatusCode};
use cenacle_core::ScopedFutureExt;
use cenacle_domain::Role;
use common::engagement::{badges_of, grant, points, setup};
use common::{Reply, TestApp};
use diesel::sql_types::Bool;
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};

async fn question(t: &TestApp, asker: &str) -> i64 {
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(asker),
            json!({"kind": "question", "title": "Q ?"}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.json);
    q.json["post"]["id"].as_i64().unwrap()
}

async fn answer(t: &TestApp, qid: i64, who: &str) -> i64 {
    let a = t
        .post(
            &format!("/api/v1/posts/{qid}/comments"),
            Some(who),
            json!({"body": "R"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.json);
    a.json["id"].as_i64().unwrap()
}

async fn like(t: &TestApp, token: &str, comment_id: i64) {
    let r = t
        .request(
            Method::PUT,
            &format!("/api/v1/comments/{comment_id}/vote"),
            Some(token),
            Some(json!({"vote": "like"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

async fn offer(t: &TestApp, token: &str, qid: i64, amount: i64) -> Reply {
    t.post(
        &format!("/api/v1/posts/{qid}/bounty"),
        Some(token),
        json!({"amount": amount}),
    )
    .await
}

async fn award(t: &TestApp, token: &str, qid: i64, comment_id: i64) -> Reply {
    t.request(
        Method::PUT,
        &format!("/api/v1/posts/{qid}/bounty/award"),
        Some(token),
        Some(json!({"comment_id": comment_id})),
    )
    .await
}

/// As the settling task runs it: one transaction per pass.
async fn settle(t: &TestApp) -> usize {
    t.ctx
        .transaction(|conn| cenacle_core::bounties::settle_expired_bounties(conn).scope_boxed())
        .await
        .unwrap()
}

/// A person of another instance who answered `qid`; returns (person id, answer id).
async fn remote_answer(t: &TestApp, qid: i64, username: &str) -> (i64, i64) {
    t.sql(&format!(
        "INSERT INTO person (username, local, ap_id, instance_host) \
             VALUES ('{username}', false, 'https://remote.example/u/{username}', 'remote.example')"
    ))
    .await;
    let person = t
        .count(&format!(
            "SELECT id AS n FROM person WHERE username = '{username}' AND NOT local"
        ))
        .await;
    t.sql(&format!(
        "INSERT INTO comment (post_id, author_id, body, depth, ap_id, local, language) \
             VALUES ({qid}, {person}, 'R', 0, 'https://remote.example/c/{username}', false, 'en')"
    ))
    .await;
    let comment = t
        .count(&format!(
            "SELECT id AS n FROM comment WHERE author_id = {person}"
        ))
        .await;
    (person, comment)
}

#[tokio::test]
async fn when_the_sponsors_own_answer_scores_best_the_next_qualifying_one_wins() {
    let (t, admin) = setup().await;
    let sponsor = t.with_role("claire", Role::CommunityManager).await;
    grant(&t, &admin, "claire", 1000).await;
    let asker = t.member("asker").await;
    let other = t.member("other").await;
    let fans = [t.member("fan1").await, t.member("fan2").await];
    let qid = question(&t, &asker).await;
    let offered = offer(&t, &sponsor, qid, 200).await;
    assert_eq!(offered.status, StatusCode::CREATED, "{}", offered.json);
    // The sponsor answers too, and scores best (2 likes against 1).
    let own = answer(&t, qid, &sponsor).await;
    let theirs = answer(&t, qid, &other).await;
    for fan in &fans {
        like(&t, fan, own).await;
    }
    like(&t, &fans[0], theirs).await;
    let other_before = points(&t, &other).await;
    t.sql("UPDATE bounty SET ends_at = now()").await;
    assert_eq!(settle(&t).await, 1);
    let settled = t.get(&format!("/api/v1/posts/{qid}/bounty"), None).await;
    assert_eq!(
        (
            settled.json["status"].as_str(),
            settled.json["awarded_answer_id"].as_i64(),
            settled.json["paid"].as_i64()
        ),
        (Some("expired"), Some(theirs), Some(100)),
        "the best answer other than the sponsor's wins half"
    );
    assert_eq!(points(&t, &other).await, other_before + 100);
}

#[tokio::test]
async fn self_likes_do_not_make_an_answer_qualify() {
    let (t, admin) = setup().await;
    let sponsor = t.with_role("claire", Role::CommunityManager).await;
    grant(&t, &admin, "claire", 1000).await;
    let answerer = t.member("answerer").await;
    let qid = question(&t, &sponsor).await;
    assert_eq!(
        offer(&t, &sponsor, qid, 100).await.status,
        StatusCode::CREATED
    );
    let aid = answer(&t, qid, &answerer).await;
    // Liking one's own answer counts for nothing.
    like(&t, &answerer, aid).await;
    t.sql("UPDATE bounty SET ends_at = now()").await;
    assert_eq!(settle(&t).await, 1);
    let settled = t.get(&format!("/api/v1/posts/{qid}/bounty"), None).await;
    assert_eq!(
        (
            settled.json["awarded_answer_id"].clone(),
            settled.json["paid"].as_i64()
        ),
        (Value::Null, Some(0))
    );
}

#[tokio::test]
async fn nobody_awards_a_bounty_after_its_end() {
    let (t, admin) = setup().await;
    let sponsor = t.with_role("claire", Role::CommunityManager).await;
    grant(&t, &admin, "claire", 1000).await;
    let answerer = t.member("answerer").await;
    let qid = question(&t, &sponsor).await;
    assert_eq!(
        offer(&t, &sponsor, qid, 200).await.status,
        StatusCode::CREATED
    );
    let aid = answer(&t, qid, &answerer).await;
    let before = points(&t, &answerer).await;
    // The end has passed; the settler has not run yet.
    t.sql("UPDATE bounty SET ends_at = now()").await;
    let late = award(&t, &sponsor, qid, aid).await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "bounty_ended"),
        "{}",
        late.json
    );
    assert_eq!(points(&t, &answerer).await, before, "nothing paid");
    let still = t.get(&format!("/api/v1/posts/{qid}/bounty"), None).await;
    assert_eq!(still.json["status"], "open", "left to the settling rule");
}

#[tokio::test]
async fn a_remote_winner_gets_the_badge_and_no_points() {
    let (t, admin) = setup().await;
    let sponsor = t.with_role("claire", Role::CommunityManager).await;
    grant(&t, &admin, "claire", 1000).await;
    // Awarded by the sponsor.
    let qid = question(&t, &sponsor).await;
    assert_eq!(
        offer(&t, &sponsor, qid, 200).await.status,
        StatusCode::CREATED
    );
    let (bob, bob_answer) = remote_answer(&t, qid, "bob").await;
    let awarded = award(&t, &sponsor, qid, bob_answer).await;
    assert_eq!(awarded.status, StatusCode::OK, "{}", awarded.json);
    assert_eq!(
        (
            awarded.json["status"].as_str(),
            awarded.json["paid"].as_i64(),
            awarded.json["winner_id"].as_i64()
        ),
        (Some("awarded"), Some(0), Some(bob))
    );
    assert_eq!(badges_of(&t, "bob@remote.example").await, ["bounty_won"]);
    // Settled at the end, the best answer being remote.
    let fan = t.member("fan").await;
    let qid2 = question(&t, &sponsor).await;
    assert_eq!(
        offer(&t, &sponsor, qid2, 100).await.status,
        StatusCode::CREATED
    );
    let (eve, eve_answer) = remote_answer(&t, qid2, "eve").await;
    like(&t, &fan, eve_answer).await;
    t.sql("UPDATE bounty SET ends_at = now() WHERE status = 'open'")
        .await;
    assert_eq!(settle(&t).await, 1);
    let settled = t.get(&format!("/api/v1/posts/{qid2}/bounty"), None).await;
    assert_eq!(
        (
            settled.json["awarded_answer_id"].as_i64(),
            settled.json["paid"].as_i64(),
            settled.json["winner_id"].as_i64()
        ),
        (Some(eve_answer), Some(0), Some(eve))
    );
    assert_eq!(badges_of(&t, "eve@remote.example").await, ["bounty_won"]);
    assert_eq!(
        t.count(&format!(
                "SELECT (SELECT count(*) FROM points_ledger WHERE person_id IN ({bob}, {eve})) \
                      + (SELECT count(*) FROM points_balance WHERE person_id IN ({bob}, {eve})) AS n"
            )
        )
        .await,
        0,
        "no points held for people of other instances"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_offers_from_a_balance_covering_five_make_five_bounties() {
    let (t, admin) = setup().await;
    let sponsor = t.with_role("claire", Role::CommunityManager).await;
    let asker = t.member("asker").await;
    let mut questions = Vec::new();
    for _ in 0..100 {
        questions.push(question(&t, &asker).await);
    }
    // Whatever the sponsor holds already (today's visit included), brought to 5 × 100.
    let held = points(&t, &sponsor).await;
    grant(&t, &admin, "claire", 500 - held).await;
    assert_eq!(points(&t, &sponsor).await, 500);
    let offers = questions.iter().map(|&qid| {
        let (t, sponsor) = (&t, &sponsor);
        async move {
            // A busy pool answers 503 with Retry-After: retried, as a client does.
            loop {
                let r = offer(t, sponsor, qid, 100).await;
                if r.status != StatusCode::SERVICE_UNAVAILABLE {
                    return r;
                }
            }
        }
    });
    let replies = futures::future::join_all(offers).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "insufficient_points"),
            "{}",
            r.json
        );
    }
    assert_eq!(created, 5, "exactly the five the balance covers");
    assert_eq!(points(&t, &sponsor).await, 0, "never below zero");
    assert_eq!(
        t.count("SELECT count(*) AS n FROM bounty").await,
        5,
        "a refused offer leaves no bounty"
    );
    assert_eq!(
        t.count("SELECT count(*) AS n FROM points_balance b WHERE b.balance <> \
               (SELECT COALESCE(SUM(l.delta), 0) FROM points_ledger l WHERE l.person_id = b.person_id)"
        )
        .await,
        0,
        "every balance equals its ledger"
    );
}

#[tokio::test]
async fn bad_bounty_offers_are_refused_with_a_code_and_write_nothing() {
    let (t, admin) = setup().await;
    let sponsor = t.with_role("claire", Role::CommunityManager).await;
    grant(&t, &admin, "claire", 1000).await;
    let answerer = t.member("answerer").await;
    let qid = question(&t, &sponsor).await;
    let mut before = points(&t, &sponsor).await;
    let negative = offer(&t, &sponsor, qid, -100).await;
    assert_eq!(
        (
            negative.status,
            negative.code(),
            negative.json["error"]["details"]["field"].as_str()
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("amount")
        ),
        "{}",
        negative.json
    );
    assert_eq!(points(&t, &sponsor).await, before, "nothing spent");
    // Answered: closed.
    let aid = answer(&t, qid, &answerer).await;
    let accepted = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{qid}/accepted-answer"),
            Some(&sponsor),
            Some(json!({"comment_id": aid})),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.json);
    before = points(&t, &sponsor).await;
    let answered = offer(&t, &sponsor, qid, 100).await;
    assert_eq!(
        (answered.status, answered.code()),
        (StatusCode::CONFLICT, "question_closed"),
        "{}",
        answered.json
    );
    assert_eq!(points(&t, &sponsor).await, before, "nothing spent");
    // Locked: closed too.
    let locked_q = question(&t, &sponsor).await;
    let locked = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{locked_q}/moderation"),
            Some(&sponsor),
            Some(json!({"locked": true})),
        )
        .await;
    assert_eq!(locked.status, StatusCode::OK, "{}", locked.json);
    before = points(&t, &sponsor).await;
    let on_locked = offer(&t, &sponsor, locked_q, 100).await;
    assert_eq!(
        (on_locked.status, on_locked.code()),
        (StatusCode::CONFLICT, "question_closed"),
        "{}",
        on_locked.json
    );
    assert_eq!(points(&t, &sponsor).await, before, "nothing spent");
    assert_eq!(t.count("SELECT count(*) AS n FROM bounty").await, 0);
}

#[tokio::test]
async fn contest_prizes_go_to_our_members_and_a_remote_winner_gets_the_badge() {
    let (t, _) = setup().await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    let now = chrono::Utc::now();
    let created = t
        .post(
            "/api/v1/contests",
            Some(&manager),
            json!({
                "title": "Concours",
                "starts_at": (now - chrono::Duration::minutes(1)).to_rfc3339(),
                "ends_at": (now + chrono::Duration::days(7)).to_rfc3339(),
                "groups": ["open"],
                "causes": ["answer_liked"],
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_i64().unwrap();
    let fan = t.member("fan").await;
    let ana = t.member("ana").await;
    let qid = question(&t, &fan).await;
    let aid = answer(&t, qid, &ana).await;
    like(&t, &fan, aid).await;
    // bob, of another instance, earned more in the group (as relayed likes pay him).
    let (bob, _) = remote_answer(&t, qid, "bob").await;
    t.sql(&format!(
            "INSERT INTO reputation_event (person_id, delta, cause, source_key, group_id) \
             SELECT {bob}, 30, 'answer_liked', 'test:bob', id FROM community_group WHERE name = 'open'"
        ),
    )
    .await;
    let negative = t
        .post(
            &format!("/api/v1/contests/{id}/close"),
            Some(&manager),
            json!({"prizes": [100, -50]}),
        )
        .await;
    assert_eq!(
        (negative.status, negative.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        "{}",
        negative.json
    );
    let ana_before = points(&t, &ana).await;
    let closed = t
        .post(
            &format!("/api/v1/contests/{id}/close"),
            Some(&manager),
            json!({"prizes": [100, 50], "badge": "staff"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.json);
    assert_eq!(points(&t, &ana).await, ana_before + 50, "second prize");
    assert_eq!(badges_of(&t, "bob@remote.example").await, ["staff"]);
    assert_eq!(
        t.count(&format!(
            "SELECT count(*) AS n FROM points_ledger WHERE person_id = {bob}"
        ))
        .await,
        0,
        "no points for a person of another instance"
    );
}

// ---- leaderboards ----

#[derive(diesel::QueryableByName)]
struct Same {
    #[diesel(sql_type = Bool)]
    same: bool,
}

/// Whether the rollups hold exactly what the reputation ledger sums to, per day and per
/// calendar period, instance-wide and per group (zero totals and missing rows alike).
async fn rollups_match_the_ledger(t: &TestApp) -> bool {
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query(
        "WITH ev AS (SELECT s.scope, (e.created_at AT TIME ZONE 'UTC')::date AS day, e.person_id, e.delta \
                     FROM reputation_event e CROSS JOIN LATERAL (VALUES (0::bigint), (e.group_id)) s (scope) \
                     WHERE s.scope IS NOT NULL), \
              days AS (SELECT scope, day, person_id, SUM(delta) AS points FROM ev GROUP BY 1, 2, 3), \
              periods AS (SELECT p.period, reputation_board_start(p.period, ev.day) AS starts, ev.scope, \
                                 ev.person_id, SUM(ev.delta) AS points \
                          FROM ev CROSS JOIN (VALUES ('week'), ('month'), ('year'), ('all')) p (period) \
                          GROUP BY 1, 2, 3, 4), \
              day_diff AS (SELECT 1 FROM days FULL JOIN reputation_day r USING (scope, day, person_id) \
                           WHERE COALESCE(days.points, 0) <> COALESCE(r.points, 0)), \
              period_diff AS (SELECT 1 FROM periods FULL JOIN reputation_board r \
                                USING (period, starts, scope, person_id) \
                              WHERE COALESCE(periods.points, 0) <> COALESCE(r.points, 0)) \
         SELECT NOT EXISTS (SELECT 1 FROM day_diff) AND NOT EXISTS (SELECT 1 FROM period_diff) AS same",
    )
    .get_result::<Same>(&mut conn)
    .await
    .unwrap()
    .same
}

#[tokio::test]
async fn the_rollups_follow_the_ledger_in_its_own_transactions() {
    let (t, _) = setup().await;
    let fan = t.member("fan").await;
    let author = t.member("author").await;
    let qid = question(&t, &fan).await;
    let aid = answer(&t, qid, &author).await;
    like(&t, &fan, aid).await;
    assert!(rollups_match_the_ledger(&t).await, "after an earning");
    let undo = t
        .request(
            Method::PUT,
            &format!("/api/v1/comments/{aid}/vote"),
            Some(&fan),
            Some(json!({"vote": null})),
        )
        .await;
    assert_eq!(undo.status, StatusCode::OK, "{}", undo.json);
    assert!(rollups_match_the_ledger(&t).await, "after its reversal");
    like(&t, &fan, aid).await;
    // Whatever writes the ledger — an update moving events, a deletion — moves the rollups.
    t.sql(
        "UPDATE reputation_event SET created_at = created_at - interval '40 days' WHERE delta > 0",
    )
    .await;
    assert!(rollups_match_the_ledger(&t).await, "after moving events");
    t.sql("DELETE FROM reputation_event WHERE cause = 'answer_liked'")
        .await;
    assert!(rollups_match_the_ledger(&t).await, "after deleting events");
    // A transaction that fails leaves them as they were.
    let failed = t
        .ctx
        .transaction::<(), _>(|conn| {
            async move {
                diesel::sql_query(
                    "INSERT INTO reputation_event (person_id, delta, cause, source_key) \
                     SELECT id, 50, 'answer_liked', 'rolled-back' FROM person WHERE username = 'author'",
                )
                .execute(conn)
                .await?;
                Err(cenacle_core::CoreError::Conflict("on purpose"))
            }
            .scope_boxed()
        })
        .await;
    assert!(failed.is_err());
    assert!(rollups_match_the_ledger(&t).await, "after a rollback");
}

/// (handle, reputation, rank) of a board's entries.
fn ranked(board: &Reply) -> Vec<(String, i64, i64)> {
    board.json["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", board.json))
        .iter()
        .map(|e| {
            (
                e["handle"].as_str().unwrap().to_owned(),
                e["reputation"].as_i64().unwrap(),
                e["rank"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn boards_cover_calendar_weeks_months_and_years_with_my_position() {
    let (t, _) = setup().await;
    let ana = t.member("ana").await;
    let ben = t.member("ben").await;
    // Earnings on chosen days, written to the ledger as the application writes them.
    t.sql("INSERT INTO reputation_event (person_id, delta, cause, source_key, created_at) \
         SELECT p.id, e.delta, 'answer_liked', 'test:' || p.username || e.at, e.at::timestamptz \
         FROM person p JOIN (VALUES \
             ('ana', 10, '2025-12-31 23:00Z'), ('ana', 10, '2026-01-01 01:00Z'), \
             ('ben', 15, '2026-01-02 12:00Z'), ('ben', 15, '2026-01-05 00:30Z'), \
             ('ana', 5, '2026-02-01 00:00Z')) AS e (username, delta, at) ON e.username = p.username",
    )
    .await;
    let board = |query: &'static str, token: Option<&'static str>| {
        let t = &t;
        let token = token.map(|who| if who == "ana" { &ana } else { &ben });
        async move {
            let r = t
                .get(
                    &format!("/api/v1/leaderboard?{query}"),
                    token.map(|s| s.as_str()),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.json);
            r
        }
    };
    let host = "localhost:8700";
    // The ISO week of Thursday 1 January 2026 runs from Monday 29 December 2025.
    let week = board("period=week&at=2026-01-01", Some("ana")).await;
    assert_eq!(
        ranked(&week),
        [
            (format!("ana@{host}"), 20, 1),
            (format!("ben@{host}"), 15, 2)
        ]
    );
    assert_eq!(
        (week.json["from"].as_str(), week.json["to"].as_str()),
        (Some("2025-12-29"), Some("2026-01-05"))
    );
    assert_eq!(week.json["me"]["rank"], 1);
    // January 2026: ben's 30 against ana's 10.
    let january = board("period=month&at=2026-01-20", Some("ana")).await;
    assert_eq!(
        ranked(&january),
        [
            (format!("ben@{host}"), 30, 1),
            (format!("ana@{host}"), 10, 2)
        ]
    );
    assert_eq!(
        (
            january.json["me"]["rank"].as_i64(),
            january.json["me"]["reputation"].as_i64()
        ),
        (Some(2), Some(10))
    );
    let year = board("period=year&at=2026-06-01", Some("ben")).await;
    assert_eq!(
        ranked(&year),
        [
            (format!("ben@{host}"), 30, 1),
            (format!("ana@{host}"), 15, 2)
        ]
    );
    let all = board("period=all", Some("ana")).await;
    assert_eq!(
        ranked(&all),
        [
            (format!("ben@{host}"), 30, 1),
            (format!("ana@{host}"), 25, 2)
        ]
    );
    let custom = board("period=custom&from=2026-01-01&to=2026-01-03", None).await;
    assert_eq!(
        ranked(&custom),
        [
            (format!("ben@{host}"), 15, 1),
            (format!("ana@{host}"), 10, 2)
        ]
    );
    // Bad ranges.
    for query in [
        "period=custom&from=2026-01-01&to=2026-03-01",
        "period=custom&from=2026-01-02&to=2026-01-01",
    ] {
        let r = t.get(&format!("/api/v1/leaderboard?{query}"), None).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.json
        );
    }
    for query in [
        "period=fortnight",
        "period=week&from=2026-01-01&to=2026-01-02",
    ] {
        let r = t.get(&format!("/api/v1/leaderboard?{query}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.json);
    }
}
