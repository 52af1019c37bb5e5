//! Reputation, points, privileges and leaderboards through the real router and database.

mod common;

use axum::http::{Method, StatusCode};
use cenacle_domain::Role;
use common::engagement::{
    badges_of, grant, journey_pays_nothing, points, reputation, setup, setup_with, vote,
};
use common::TestApp;
use serde_json::{json, Value};

async fn question_and_answer(t: &TestApp, asker: &str, answerer: &str) -> (i64, i64) {
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(asker),
            json!({"kind": "question", "title": "Q ?"}),
        )
        .await;
    let qid = q.json["post"]["id"].as_i64().unwrap();
    let a = t
        .post(
            &format!("/api/v1/posts/{qid}/comments"),
            Some(answerer),
            json!({"body": "R"}),
        )
        .await;
    (qid, a.json["id"].as_i64().unwrap())
}

#[tokio::test]
async fn a_like_pays_ten_and_its_undo_takes_them_back() {
    let (t, _) = setup().await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let (_, aid) = question_and_answer(&t, &asker, &answerer).await;
    assert_eq!(reputation(&t, &answerer).await, 1);
    let path = format!("/api/v1/comments/{aid}/vote");
    vote(&t, &asker, &path, json!("like")).await;
    assert_eq!(reputation(&t, &answerer).await, 11);
    vote(&t, &asker, &path, json!("like")).await;
    assert_eq!(
        reputation(&t, &answerer).await,
        11,
        "the same like pays once"
    );
    vote(&t, &asker, &path, Value::Null).await;
    assert_eq!(reputation(&t, &answerer).await, 1);
    let history = t.get("/api/v1/account/reputation", Some(&answerer)).await;
    let events = history.json["history"].as_array().unwrap();
    assert_eq!(
        (events[0]["delta"].as_i64(), events[0]["reversal"].as_bool()),
        (Some(-10), Some(true))
    );
    assert_eq!(
        (events[1]["delta"].as_i64(), events[1]["cause"].as_str()),
        (Some(10), Some("answer_liked"))
    );
    // Liking one's own answer earns nothing.
    vote(&t, &answerer, &path, json!("like")).await;
    assert_eq!(reputation(&t, &answerer).await, 1);
}

#[tokio::test]
async fn likes_are_capped_per_day() {
    let (t, _) = setup().await;
    let author = t.member("author").await;
    // 25 answers liked by one member each: 250 would be earned, the cap keeps 200.
    let fan = t.member("fan").await;
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&fan),
            json!({"kind": "question", "title": "Q ?"}),
        )
        .await;
    let qid = q.json["post"]["id"].as_i64().unwrap();
    for i in 0..25 {
        let a = t
            .post(
                &format!("/api/v1/posts/{qid}/comments"),
                Some(&author),
                json!({"body": format!("R{i}")}),
            )
            .await;
        vote(
            &t,
            &fan,
            &format!("/api/v1/comments/{}/vote", a.json["id"]),
            json!("like"),
        )
        .await;
    }
    assert_eq!(reputation(&t, &author).await, 1 + 200);
}

#[tokio::test]
async fn accepting_pays_the_answerer_and_the_acceptor_and_unaccepting_reverses_both() {
    let (t, _) = setup().await;
    journey_pays_nothing(&t).await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let (qid, aid) = question_and_answer(&t, &asker, &answerer).await;
    let accept = |comment: Value| {
        let path = format!("/api/v1/posts/{qid}/accepted-answer");
        let token = asker.clone();
        let t = &t;
        async move {
            t.request(
                Method::PUT,
                &path,
                Some(&token),
                Some(json!({"comment_id": comment})),
            )
            .await
            .status
        }
    };
    assert_eq!(accept(json!(aid)).await, StatusCode::OK);
    assert_eq!(reputation(&t, &answerer).await, 16);
    assert_eq!(reputation(&t, &asker).await, 3);
    assert_eq!(accept(Value::Null).await, StatusCode::OK);
    assert_eq!(reputation(&t, &answerer).await, 1);
    assert_eq!(reputation(&t, &asker).await, 1);
    // Unaccepting took the acceptance's points back too; accepting again pays them again,
    // once however often it is repeated.
    let before = points(&t, &answerer).await;
    assert_eq!(before, 1 + 20, "the day's visit and the reply");
    accept(json!(aid)).await;
    accept(json!(aid)).await;
    assert_eq!(points(&t, &answerer).await, before + 30);
    assert_eq!(reputation(&t, &answerer).await, 16);
}

#[tokio::test]
async fn points_are_earned_once_per_cause_and_corrections_cannot_go_negative() {
    let (t, admin) = setup().await;
    journey_pays_nothing(&t).await;
    let marie = t.member("marie").await;
    let pierre = t.member("pierre").await;
    // A signed-in day is worth a point, once a day.
    assert_eq!(points(&t, &marie).await, 1, "daily visit");
    assert_eq!(points(&t, &marie).await, 1, "once a day");
    assert_eq!(points(&t, &pierre).await, 1);
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&marie),
            json!({"kind": "question", "title": "Q ?"}),
        )
        .await;
    assert_eq!(points(&t, &marie).await, 16, "new question");
    let qid = q.json["post"]["id"].as_i64().unwrap();
    t.post(
        &format!("/api/v1/posts/{qid}/comments"),
        Some(&pierre),
        json!({"body": "R"}),
    )
    .await;
    assert_eq!(points(&t, &pierre).await, 21, "reply");
    let path = format!("/api/v1/posts/{qid}/vote");
    vote(&t, &pierre, &path, json!("like")).await;
    vote(&t, &pierre, &path, Value::Null).await;
    vote(&t, &pierre, &path, json!("like")).await;
    assert_eq!(
        points(&t, &pierre).await,
        22,
        "liking again does not pay again"
    );
    assert_eq!(points(&t, &marie).await, 18, "like received, once");

    let grant = t
        .post(
            "/api/v1/admin/points",
            Some(&admin),
            json!({"handle": "marie", "delta": 100, "reason": "Meilleure contributrice"}),
        )
        .await;
    assert_eq!(grant.json["balance"], 118);
    let too_much = t
        .post(
            "/api/v1/admin/points",
            Some(&admin),
            json!({"handle": "marie", "delta": -500, "reason": "Erreur"}),
        )
        .await;
    assert_eq!(
        (too_much.status, too_much.json["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("balance_would_be_negative"))
    );
    assert_eq!(
        points(&t, &marie).await,
        118,
        "the refused correction left nothing behind"
    );
    let by_member = t
        .post(
            "/api/v1/admin/points",
            Some(&pierre),
            json!({"handle": "pierre", "delta": 1000, "reason": "moi"}),
        )
        .await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
    let ledger = t.get("/api/v1/account/points", Some(&marie)).await;
    assert_eq!(
        ledger.json["history"][0]["reason"],
        "grant: Meilleure contributrice"
    );
}

#[tokio::test]
async fn a_hundred_concurrent_point_earning_actions_add_up_exactly() {
    // The day's cap on points from content is lifted here (see the next test).
    let (t, _) = setup_with(|s| s.engagement.points.daily_content_cap = 100 * 15).await;
    let marie = t.member("marie").await;
    let posts = (0..100).map(|i| {
        t.post(
            "/api/v1/groups/open/posts",
            Some(&marie),
            json!({"kind": "note", "title": format!("Note {i}")}),
        )
    });
    for reply in futures::future::join_all(posts).await {
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    assert_eq!(
        points(&t, &marie).await,
        100 * 15 + 1,
        "a hundred notes and the day's visit"
    );
    let first_page = t
        .get("/api/v1/account/points?limit=100", Some(&marie))
        .await;
    assert_eq!(first_page.json["history"].as_array().unwrap().len(), 100);
    let cursor = first_page.json["next_cursor"].as_str().unwrap();
    let second = t
        .get(
            &format!("/api/v1/account/points?limit=100&cursor={cursor}"),
            Some(&marie),
        )
        .await;
    assert_eq!(second.json["history"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_hundred_concurrent_notes_stop_exactly_at_the_days_cap() {
    let (t, _) = setup().await;
    let marie = t.member("marie").await;
    let posts = (0..100).map(|i| {
        t.post(
            "/api/v1/groups/open/posts",
            Some(&marie),
            json!({"kind": "note", "title": format!("Note {i}")}),
        )
    });
    for reply in futures::future::join_all(posts).await {
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    assert_eq!(
        points(&t, &marie).await,
        300 + 1,
        "twenty notes fill the day's cap of 300; the visit is not capped"
    );
}

#[tokio::test]
async fn privileges_need_reputation() {
    let (t, admin) = setup().await;
    let marie = t.member("marie").await;
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Q ?"}),
        )
        .await;
    let qid = q.json["post"]["id"].as_i64().unwrap();
    let r = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{qid}/vote"),
            Some(&marie),
            Some(json!({"vote": "dislike"})),
        )
        .await;
    assert_eq!(
        (r.status, r.json["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_reputation"))
    );
    assert_eq!(r.json["error"]["details"]["threshold"], 125);
    let p = t
        .post(
            "/api/v1/proposals",
            Some(&marie),
            json!({"name": "photo", "title": "Photo", "purpose": "Photos"}),
        )
        .await;
    assert_eq!(p.json["error"]["details"]["threshold"], 50);
    // An admin's grant of reputation is not a thing: reputation comes from peers. Earn it.
    let answerer_token = marie.clone();
    for i in 0..13 {
        let fan = t.member(&format!("fan{i}")).await;
        let (_, aid) = question_and_answer(&t, &fan, &answerer_token).await;
        vote(
            &t,
            &fan,
            &format!("/api/v1/comments/{aid}/vote"),
            json!("like"),
        )
        .await;
    }
    assert_eq!(reputation(&t, &marie).await, 131);
    let ok = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{qid}/vote"),
            Some(&marie),
            Some(json!({"vote": "dislike"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn leaderboards_rank_densely_and_show_my_position() {
    let (t, _) = setup().await;
    let names = ["ana", "ben", "cam", "dan"];
    let mut tokens = Vec::new();
    for n in names {
        tokens.push(t.member(n).await);
    }
    let fan = t.member("fan").await;
    // ana gets 2 answer likes, ben 1, cam 1, dan 0.
    for (who, likes) in [(0usize, 2usize), (1, 1), (2, 1)] {
        for _ in 0..likes {
            let (_, aid) = question_and_answer(&t, &fan, &tokens[who]).await;
            vote(
                &t,
                &fan,
                &format!("/api/v1/comments/{aid}/vote"),
                json!("like"),
            )
            .await;
        }
    }
    let board = t
        .get("/api/v1/leaderboard?period=week", Some(&tokens[3]))
        .await;
    let entries = board.json["entries"].as_array().unwrap();
    let ranked: Vec<(i64, &str, i64)> = entries
        .iter()
        .map(|e| {
            (
                e["rank"].as_i64().unwrap(),
                e["handle"].as_str().unwrap(),
                e["reputation"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        vec![
            (1, "ana@localhost:8700", 20),
            (2, "ben@localhost:8700", 10),
            (2, "cam@localhost:8700", 10)
        ]
    );
    assert_eq!(
        board.json["me"],
        Value::Null,
        "dan earned nothing: unranked"
    );
    let mine = t
        .get("/api/v1/leaderboard?period=all&limit=1", Some(&tokens[2]))
        .await;
    assert_eq!(mine.json["entries"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            mine.json["me"]["rank"].as_i64(),
            mine.json["me"]["handle"].as_str()
        ),
        (Some(2), Some("cam@localhost:8700"))
    );
    let group = t.get("/api/v1/leaderboard?group=open", None).await;
    assert_eq!(group.json["entries"][0]["handle"], "ana@localhost:8700");
    assert_eq!(
        t.get("/api/v1/leaderboard?period=custom", None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let profile = t.get("/api/v1/people/ana", None).await;
    assert_eq!(profile.json["reputation"], 21);
    // Rank score: 2 replies × 2 + 2 likes received × 4 = 12, under the first tier (25).
    assert_eq!(
        (
            profile.json["rank"]["score"].as_i64(),
            profile.json["rank"]["name"].as_str()
        ),
        (Some(12), Some("Newcomer"))
    );
    let request = axum::http::Request::get("/api/v1/people/ana")
        .header("accept-language", "fr")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(t.send(request).await.json["rank"]["name"], "Nouveau venu");
    // The Person actor carries the reputation and rank, for other Cénacle instances.
    let actor = t
        .send(
            axum::http::Request::get("/u/ana")
                .header("accept", "application/activity+json")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        (
            actor.json["reputation"].as_i64(),
            actor.json["rank"].as_str()
        ),
        (Some(21), Some("Newcomer"))
    );
}

/// A contest over `groups` counting liked answers, open from a minute ago for a week.
fn contest_body(title: &str, groups: &[&str]) -> Value {
    let now = chrono::Utc::now();
    json!({
        "title": title,
        "starts_at": (now - chrono::Duration::minutes(1)).to_rfc3339(),
        "ends_at": (now + chrono::Duration::days(7)).to_rfc3339(),
        "groups": groups,
        "causes": ["answer_liked"],
    })
}

/// `answerer` answers a question of `fan` in the open group, and `fan` likes the answer.
async fn liked_answer(t: &TestApp, fan: &str, answerer: &str) {
    let (_, aid) = question_and_answer(t, fan, answerer).await;
    vote(
        t,
        fan,
        &format!("/api/v1/comments/{aid}/vote"),
        json!("like"),
    )
    .await;
}

/// A winner who may not read every group a contest covers (one of them private) is told
/// their place, not the contest's title: the contest's page is closed to them too.
#[tokio::test]
async fn a_contest_over_a_private_group_keeps_its_title_from_a_winner_outside_it() {
    let (t, admin) = setup().await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    let secret = t
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "secret", "title": "Secret", "visibility": "private"}),
        )
        .await;
    assert_eq!(secret.status, StatusCode::CREATED, "{}", secret.json);
    let body = contest_body("Projet Lune : concours interne", &["open", "secret"]);
    let created = t.post("/api/v1/contests", Some(&manager), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_i64().unwrap();
    let fan = t.member("fan").await;
    let ana = t.member("ana").await;
    liked_answer(&t, &fan, &ana).await;
    let closed = t
        .post(
            &format!("/api/v1/contests/{id}/close"),
            Some(&manager),
            json!({"prizes": [10]}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.json);
    let told = t.notifications_of_kind(&ana, "contest_result").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["detail"], "1");
    assert_eq!(told[0]["contest_title"], Value::Null, "{told:?}");
    let page = t.get(&format!("/api/v1/contests/{id}"), Some(&ana)).await;
    assert_eq!(
        page.status,
        StatusCode::NOT_FOUND,
        "the page is closed to her too"
    );
}

#[tokio::test]
async fn a_bounty_is_held_in_escrow_and_awarded_once() {
    let (t, admin) = setup().await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    let answerer = t.member("answerer").await;
    let (qid, aid) = question_and_answer(&t, &manager, &answerer).await;
    let before = points(&t, &manager).await;
    let poor = offer_bounty(&t, &manager, qid, 500).await;
    assert_eq!(
        (poor.status, poor.json["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("insufficient_points"))
    );
    grant(&t, &admin, "claire", 500).await;
    offered_bounty(&t, &manager, qid, 200).await;
    assert_eq!(
        points(&t, &manager).await,
        before + 500 - 200,
        "the amount is held from the sponsor's balance"
    );
    let second = offer_bounty(&t, &manager, qid, 50).await;
    assert_eq!(
        (second.status, second.json["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("bounty_running"))
    );
    let by_other = award_as(&t, &answerer, qid, aid).await;
    assert_eq!(by_other.status, StatusCode::FORBIDDEN);
    let answerer_before = points(&t, &answerer).await;
    let awarded = award_as(&t, &manager, qid, aid).await;
    assert_eq!(
        (
            awarded.json["status"].as_str(),
            awarded.json["paid"].as_i64()
        ),
        (Some("awarded"), Some(200))
    );
    assert_eq!(points(&t, &answerer).await, answerer_before + 200);
    // The winner is told who awarded it, on which answer, and how much.
    let told = t.notifications_of_kind(&answerer, "bounty_won").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        (
            told[0]["actor"].as_str(),
            told[0]["post_id"].as_i64(),
            told[0]["comment_id"].as_i64(),
            told[0]["detail"].as_str()
        ),
        (Some("claire"), Some(qid), Some(aid), Some("200"))
    );
    let again = award_as(&t, &manager, qid, aid).await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "no running bounty any more"
    );
    // A member without the reputation cannot offer one.
    let low = t.member("low").await;
    let (other_q, _) = question_and_answer(&t, &low, &answerer).await;
    grant(&t, &admin, "low", 100).await;
    let refused = offer_bounty(&t, &low, other_q, 50).await;
    assert_eq!(refused.json["error"]["code"], "insufficient_reputation");
}

/// An instance ([`setup`]) and its admin's token, with `claire`, a community manager granted
/// `granted` points to sponsor bounties: the instance and the admin's and her tokens.
async fn sponsor_granted(granted: i64) -> (TestApp, String, String) {
    let (t, admin) = setup().await;
    let sponsor = t.with_role("claire", Role::CommunityManager).await;
    grant(&t, &admin, "claire", granted).await;
    (t, admin, sponsor)
}

/// Who asks the question of a [`bounty_ground`].
#[derive(Clone, Copy)]
enum Asks {
    /// The sponsor herself.
    Sponsor,
    /// A member `asker`, registered for it.
    Asker,
}

/// What a bounty test stands on: tokens, and a question with one answer, no bounty yet.
struct BountyGround {
    t: TestApp,
    admin: String,
    /// `claire`, a community manager granted points.
    sponsor: String,
    /// The question's author: `asker`, or the sponsor ([`Asks`]).
    asker: String,
    answerer: String,
    qid: i64,
    /// The answer of `answerer` to the question.
    answer: i64,
}

/// [`sponsor_granted`] with `granted` points, then (`asker` if [`Asks::Asker`] and)
/// `answerer` registered, and a question asked as `asks` says, answered by `answerer`.
async fn bounty_ground(granted: i64, asks: Asks) -> BountyGround {
    let (t, admin, sponsor) = sponsor_granted(granted).await;
    let asker = match asks {
        Asks::Sponsor => sponsor.clone(),
        Asks::Asker => t.member("asker").await,
    };
    let answerer = t.member("answerer").await;
    let (qid, answer) = question_and_answer(&t, &asker, &answerer).await;
    BountyGround {
        t,
        admin,
        sponsor,
        asker,
        answerer,
        qid,
        answer,
    }
}

/// `sponsor` offers a bounty of `amount` on question `qid`: the reply, whatever it is.
async fn offer_bounty(t: &TestApp, sponsor: &str, qid: i64, amount: i64) -> common::Reply {
    t.post(
        &format!("/api/v1/posts/{qid}/bounty"),
        Some(sponsor),
        json!({"amount": amount}),
    )
    .await
}

/// [`offer_bounty`], its 201 asserted: the bounty offered.
async fn offered_bounty(t: &TestApp, sponsor: &str, qid: i64, amount: i64) -> Value {
    let offered = offer_bounty(t, sponsor, qid, amount).await;
    assert_eq!(offered.status, StatusCode::CREATED, "{}", offered.json);
    offered.json
}

/// `token`'s member awards the bounty on question `qid` to answer `comment`: the reply.
async fn award_as(t: &TestApp, token: &str, qid: i64, comment: i64) -> common::Reply {
    t.request(
        Method::PUT,
        &format!("/api/v1/posts/{qid}/bounty/award"),
        Some(token),
        Some(json!({"comment_id": comment})),
    )
    .await
}

/// `answerer` answers question `qid` (while its bounty runs) and `liker` likes the answer,
/// which would win the bounty at its end: the answer's id.
async fn liked_answer_while_it_runs(t: &TestApp, liker: &str, answerer: &str, qid: i64) -> i64 {
    let answer = t
        .post(
            &format!("/api/v1/posts/{qid}/comments"),
            Some(answerer),
            json!({"body": "La bonne réponse"}),
        )
        .await;
    let aid = answer.json["id"].as_i64().unwrap();
    vote(
        t,
        liker,
        &format!("/api/v1/comments/{aid}/vote"),
        json!("like"),
    )
    .await;
    aid
}

/// A take-down refused because a bounty runs on the question `qid`: 409 `bounty_running`,
/// naming it.
#[track_caller]
fn assert_bounty_running(refused: &common::Reply, qid: i64) {
    assert_eq!(
        (
            refused.status,
            refused.code(),
            &refused.json["error"]["details"]["post_id"]
        ),
        (StatusCode::CONFLICT, "bounty_running", &json!(qid)),
        "{}",
        refused.json
    );
}

/// The points ledger agrees with every balance ([`cenacle_core::points::audit`]).
async fn points_audit_clean(t: &TestApp) {
    let mut conn = t.db.pool.get().await.unwrap();
    let differences = cenacle_core::points::audit(&mut conn).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

/// How a question goes while its bounty runs (its author cannot delete it then: see
/// `its_author_cannot_delete_a_question_while_a_bounty_runs_on_it`).
#[derive(Clone, Copy)]
enum QuestionGone {
    DeletedByAModerator,
    RemovedByAModerator,
}

/// The points rows of `token`'s member written with `reason`: (how many, their sum).
async fn points_rows(t: &TestApp, token: &str, reason: &str) -> (usize, i64) {
    let ledger = t.get("/api/v1/account/points?limit=100", Some(token)).await;
    let rows: Vec<i64> = ledger.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["reason"] == reason)
        .map(|row| row["delta"].as_i64().unwrap())
        .collect();
    (rows.len(), rows.iter().sum())
}

/// A question goes while a bounty runs on it: the bounty is cancelled and its escrow given
/// back to the sponsor, in the transaction of the deletion or removal; the sponsor can award
/// it no more, and the settler pays nothing, even to an answer that would have won.
async fn a_gone_question_cancels_its_bounty(how: QuestionGone) {
    // Someone else's question: the sponsor earns nothing in its thread, so her balance shows
    // the refund alone.
    let BountyGround {
        t,
        admin,
        sponsor,
        answerer,
        qid,
        ..
    } = bounty_ground(500, Asks::Asker).await;
    let before = points(&t, &sponsor).await;
    offered_bounty(&t, &sponsor, qid, 200).await;
    // An answer posted while it runs, liked: it would win at the end.
    let aid = liked_answer_while_it_runs(&t, &admin, &answerer, qid).await;
    let gone = match how {
        QuestionGone::DeletedByAModerator => delete_post_as(&t, &admin, qid).await,
        QuestionGone::RemovedByAModerator => remove_post_as(&t, &admin, qid).await,
    };
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.json);
    assert_eq!(points(&t, &sponsor).await, before, "the escrow came back");
    assert_eq!(
        points_rows(&t, &sponsor, "bounty_refunded").await,
        (1, 200),
        "by one row offsetting the offer"
    );
    let award = award_as(&t, &sponsor, qid, aid).await;
    assert_eq!(award.status, StatusCode::NOT_FOUND, "{}", award.json);
    // Its end passes: the settler finds nothing to settle, and pays nobody.
    let answerer_before = points(&t, &answerer).await;
    t.sql("UPDATE bounty SET ends_at = now()").await;
    assert_eq!(settle(&t).await, 0, "a cancelled bounty is not settled");
    assert_eq!(points(&t, &answerer).await, answerer_before);
    assert_eq!(points(&t, &sponsor).await, before);
    assert_eq!(points_rows(&t, &answerer, "bounty_half_awarded").await.0, 0);
    if let QuestionGone::RemovedByAModerator = how {
        // A restore brings the question back, not its bounty (nor takes the refund back).
        let restored = restore_post_as(&t, &admin, qid).await;
        assert_eq!(restored.status, StatusCode::NO_CONTENT, "{}", restored.json);
        let bounty = t.get(&format!("/api/v1/posts/{qid}/bounty"), None).await;
        assert_eq!(bounty.json["status"], "cancelled", "{}", bounty.json);
        assert_eq!(points(&t, &sponsor).await, before);
    }
    points_audit_clean(&t).await;
}

#[tokio::test]
async fn a_question_deleted_by_a_moderator_cancels_its_bounty_and_refunds_the_sponsor() {
    a_gone_question_cancels_its_bounty(QuestionGone::DeletedByAModerator).await;
}

#[tokio::test]
async fn a_question_removed_by_a_moderator_cancels_its_bounty_and_refunds_the_sponsor() {
    a_gone_question_cancels_its_bounty(QuestionGone::RemovedByAModerator).await;
}

#[tokio::test]
async fn no_bounty_on_ones_own_removed_question() {
    let BountyGround {
        t,
        admin,
        sponsor,
        qid,
        ..
    } = bounty_ground(500, Asks::Sponsor).await;
    let removed = remove_post_as(&t, &admin, qid).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
    let before = points(&t, &sponsor).await;
    // Its author still reads it; nobody else can answer it.
    let offer = t
        .post(
            &format!("/api/v1/posts/{qid}/bounty"),
            Some(&sponsor),
            json!({"amount": 100}),
        )
        .await;
    assert_eq!(
        (offer.status, offer.code()),
        (StatusCode::NOT_FOUND, "not_found"),
        "{}",
        offer.json
    );
    assert_eq!(points(&t, &sponsor).await, before, "nothing taken");
}

#[tokio::test]
async fn an_offer_beyond_the_available_points_gets_one_code_held_bids_or_not() {
    let BountyGround {
        t, sponsor, qid, ..
    } = bounty_ground(300, Asks::Sponsor).await;
    let path = format!("/api/v1/posts/{qid}/bounty");
    let offer = |amount: i64| t.post(&path, Some(&sponsor), json!({"amount": amount}));
    let balance = points(&t, &sponsor).await;
    let refused = |r: &common::Reply| {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "insufficient_points"),
            "{}",
            r.json
        )
    };
    // Nothing held: beyond the balance.
    refused(&offer(balance + 1).await);
    // A leading bid holds 250 of it.
    let reward = t
        .post(
            "/api/v1/shop/rewards",
            Some(&sponsor),
            json!({"name_en": "Lot", "name_fr": "Lot", "kind": "physical", "price": 100, "in_shop": false}),
        )
        .await;
    assert_eq!(reward.status, StatusCode::CREATED, "{}", reward.json);
    let auction = t
        .post(
            "/api/v1/auctions",
            Some(&sponsor),
            json!({
                "reward_id": reward.json["id"],
                "starts_at": chrono::Utc::now() - chrono::Duration::hours(1),
                "ends_at": chrono::Utc::now() + chrono::Duration::hours(1),
                "starting_price": 10,
                "min_increment": 1,
                "extension_seconds": 0,
            }),
        )
        .await;
    assert_eq!(auction.status, StatusCode::CREATED, "{}", auction.json);
    let bid = t
        .post(
            &format!("/api/v1/auctions/{}/bids", auction.json["id"]),
            Some(&sponsor),
            json!({"amount": 250}),
        )
        .await;
    assert_eq!(bid.status, StatusCode::CREATED, "{}", bid.json);
    let rows = points_rows(&t, &sponsor, "bounty_offered").await;
    // Within the balance but beyond what the bid leaves; beyond the balance too: one code.
    refused(&offer(balance - 250 + 1).await);
    refused(&offer(balance + 1).await);
    assert_eq!(points(&t, &sponsor).await, balance, "nothing taken");
    assert_eq!(points_rows(&t, &sponsor, "bounty_offered").await, rows);
    // What the bid leaves can be offered.
    let fits = offer(balance - 250).await;
    assert_eq!(fits.status, StatusCode::CREATED, "{}", fits.json);
}

#[tokio::test]
async fn an_expired_bounty_pays_half_to_the_best_answer_or_nothing() {
    let (t, admin, manager) = sponsor_granted(1000).await;
    let good = t.member("good").await;
    let (qid, _) = question_and_answer(&t, &manager, &good).await;
    offer_bounty(&t, &manager, qid, 301).await;
    // Answers after the bounty began: the liked one wins half.
    let late = t
        .post(
            &format!("/api/v1/posts/{qid}/comments"),
            Some(&good),
            json!({"body": "Meilleure réponse"}),
        )
        .await;
    vote(
        &t,
        &manager,
        &format!("/api/v1/comments/{}/vote", late.json["id"]),
        json!("like"),
    )
    .await;
    let (empty_q, _) = question_and_answer(&t, &admin, &good).await;
    offer_bounty(&t, &manager, empty_q, 100).await;
    let sponsor_before = points(&t, &manager).await;
    let good_before = points(&t, &good).await;
    // Time passes: end both bounties now.
    t.sql("UPDATE bounty SET ends_at = now()").await;
    // As the settling task runs it: one transaction per pass.
    assert_eq!(settle(&t).await, 2);
    assert_eq!(settle(&t).await, 0, "settled once");
    let first = t.get(&format!("/api/v1/posts/{qid}/bounty"), None).await;
    assert_eq!(
        (first.json["status"].as_str(), first.json["paid"].as_i64()),
        (Some("expired"), Some(150))
    );
    assert_eq!(first.json["awarded_answer_id"], late.json["id"]);
    let second = t
        .get(&format!("/api/v1/posts/{empty_q}/bounty"), None)
        .await;
    assert_eq!(
        second.json["paid"], 0,
        "no answer posted during the bounty scored: nothing is paid"
    );
    assert_eq!(points(&t, &good).await, good_before + 150);
    // Told by the instance (the bounty ran out), once: the empty one told nobody.
    let told = t.notifications_of_kind(&good, "bounty_won").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        (
            told[0]["actor"].as_str(),
            told[0]["comment_id"].as_i64(),
            told[0]["detail"].as_str()
        ),
        (None, late.json["id"].as_i64(), Some("150"))
    );
    assert_eq!(
        points(&t, &manager).await,
        sponsor_before,
        "the escrow is not returned"
    );
}

/// Settles what is due as the settling task does: one pass, one transaction. Returns how many
/// bounties it closed.
async fn settle(t: &TestApp) -> usize {
    use cenacle_core::ScopedFutureExt;
    t.ctx
        .transaction(|conn| cenacle_core::bounties::settle_expired_bounties(conn).scope_boxed())
        .await
        .unwrap()
}

/// The bounties of question `qid` in `status`, by SQL (the API shows a gone question's to
/// nobody).
async fn bounties_in(t: &TestApp, qid: i64, status: &str) -> i64 {
    t.count_with(
        &format!("SELECT count(*) AS n FROM bounty WHERE post_id = {qid} AND status = $1"),
        &[status],
    )
    .await
}

async fn delete_post_as(t: &TestApp, token: &str, qid: i64) -> common::Reply {
    t.request(
        Method::DELETE,
        &format!("/api/v1/posts/{qid}"),
        Some(token),
        None,
    )
    .await
}

/// As on Stack Overflow, the author of a question cannot delete it while a bounty runs on it
/// (whoever offered it): deleting it would hand the escrow back and escape the lapse rule.
/// Past its end, not settled yet, it is still refused: the lapse rule decides then. Once the
/// bounty is settled or awarded, the deletion goes through.
#[tokio::test]
async fn its_author_cannot_delete_a_question_while_a_bounty_runs_on_it() {
    // Her own question: its deletion would give her the whole escrow back.
    let BountyGround {
        t,
        sponsor,
        answerer,
        qid,
        ..
    } = bounty_ground(1000, Asks::Sponsor).await;
    offered_bounty(&t, &sponsor, qid, 200).await;
    let held = points(&t, &sponsor).await;
    let refused = delete_post_as(&t, &sponsor, qid).await;
    assert_bounty_running(&refused, qid);
    let in_french = t
        .send(
            axum::http::Request::delete(format!("/api/v1/posts/{qid}"))
                .header("authorization", format!("Bearer {sponsor}"))
                .header("accept-language", "fr")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(in_french.code(), "bounty_running", "{}", in_french.json);
    assert!(
        in_french.json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("prime") && m.contains("\u{a0}:")),
        "{}",
        in_french.json
    );
    // The question and the escrow stay.
    let question = t.get(&format!("/api/v1/posts/{qid}"), None).await;
    assert_eq!(question.status, StatusCode::OK, "{}", question.json);
    assert_eq!(points(&t, &sponsor).await, held);
    assert_eq!(bounties_in(&t, qid, "open").await, 1);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (0, 0));
    // Past its end, not settled yet: still hers to wait for.
    t.sql(&format!(
        "UPDATE bounty SET ends_at = now() WHERE post_id = {qid}"
    ))
    .await;
    let late = delete_post_as(&t, &sponsor, qid).await;
    assert_bounty_running(&late, qid);
    // Settled (nobody qualified: nothing paid, nothing back): now she may delete it.
    assert_eq!(settle(&t).await, 1);
    assert_eq!(bounties_in(&t, qid, "expired").await, 1);
    let deleted = delete_post_as(&t, &sponsor, qid).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.json);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (0, 0));

    // Someone else's bounty on a member's question: its author cannot delete it either, until
    // the sponsor awards it.
    let asker = t.member("asker").await;
    let (other, answer) = question_and_answer(&t, &asker, &answerer).await;
    offered_bounty(&t, &sponsor, other, 100).await;
    let refused = delete_post_as(&t, &asker, other).await;
    assert_bounty_running(&refused, other);
    let awarded = award_as(&t, &sponsor, other, answer).await;
    assert_eq!(awarded.status, StatusCode::OK, "{}", awarded.json);
    let deleted = delete_post_as(&t, &asker, other).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.json);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (0, 0));
    points_audit_clean(&t).await;
}

async fn remove_post_as(t: &TestApp, token: &str, qid: i64) -> common::Reply {
    t.request(
        Method::POST,
        &format!("/api/v1/posts/{qid}/removal"),
        Some(token),
        Some(json!({"reason": "hors sujet"})),
    )
    .await
}

/// `token`'s moderator restores the removed question `qid`: the reply.
async fn restore_post_as(t: &TestApp, token: &str, qid: i64) -> common::Reply {
    t.request(
        Method::DELETE,
        &format!("/api/v1/posts/{qid}/removal"),
        Some(token),
        None,
    )
    .await
}

/// A sponsor who moderates takes no question of their bounty down while it runs: neither their
/// own (a removal, then a restore, would escape the lapse rule as a deletion would) nor another
/// member's (to get their escrow back). Refused `bounty_running`, nothing refunded; a
/// moderator who is neither its author nor its sponsor still removes it, and the sponsor is
/// refunded.
#[tokio::test]
async fn a_sponsor_who_moderates_cannot_take_down_the_question_of_their_running_bounty() {
    // Her own question, her bounty: she removes it before the end.
    let BountyGround {
        t,
        admin,
        sponsor,
        answerer,
        qid: own,
        ..
    } = bounty_ground(1000, Asks::Sponsor).await;
    offered_bounty(&t, &sponsor, own, 200).await;
    let held = points(&t, &sponsor).await;
    let refused = remove_post_as(&t, &sponsor, own).await;
    assert_bounty_running(&refused, own);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (0, 0));
    assert_eq!(points(&t, &sponsor).await, held);
    assert_eq!(bounties_in(&t, own, "open").await, 1);
    let question = t.get(&format!("/api/v1/posts/{own}"), None).await;
    assert_eq!(question.status, StatusCode::OK, "{}", question.json);

    // A member's question with her bounty: she may neither remove nor delete it as moderator.
    let asker = t.member("asker").await;
    let (theirs, _) = question_and_answer(&t, &asker, &answerer).await;
    offered_bounty(&t, &sponsor, theirs, 100).await;
    let held = points(&t, &sponsor).await;
    for refused in [
        remove_post_as(&t, &sponsor, theirs).await,
        delete_post_as(&t, &sponsor, theirs).await,
    ] {
        assert_bounty_running(&refused, theirs);
    }
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (0, 0));
    assert_eq!(points(&t, &sponsor).await, held);
    assert_eq!(bounties_in(&t, theirs, "open").await, 1);

    // Another moderator (neither its author nor its sponsor) removes it: cancelled, refunded.
    let removed = remove_post_as(&t, &admin, theirs).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (1, 100));
    assert_eq!(points(&t, &sponsor).await, held + 100);
    assert_eq!(bounties_in(&t, theirs, "cancelled").await, 1);
    // With no bounty running any more, she restores and removes it again as any moderator.
    let restored = restore_post_as(&t, &sponsor, theirs).await;
    assert_eq!(restored.status, StatusCode::NO_CONTENT, "{}", restored.json);
    let removed = remove_post_as(&t, &sponsor, theirs).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (1, 100));
    points_audit_clean(&t).await;
}

/// Nor can she take the question down by a ban: a group ban with `remove_data`, or an instance
/// ban with `remove_content`, of its asker would remove it and hand her the escrow back (then
/// she lifts the ban and restores it). Refused `bounty_running`, and nothing of the ban is
/// written. A question's asker who moderates (without sponsoring) cannot remove it either; a
/// question already removed by someone else is a no-op for her, not a refusal.
#[tokio::test]
async fn a_sponsor_who_moderates_cannot_take_the_question_down_by_a_ban_nor_its_asker_by_hand() {
    let BountyGround {
        t,
        admin,
        sponsor,
        asker,
        qid,
        ..
    } = bounty_ground(1000, Asks::Asker).await;
    offered_bounty(&t, &sponsor, qid, 100).await;
    let held = points(&t, &sponsor).await;
    let group_ban = t
        .request(
            Method::PUT,
            "/api/v1/groups/open/bans/asker",
            Some(&sponsor),
            Some(json!({"reason": "spam", "remove_data": true})),
        )
        .await;
    let instance_ban = t
        .post(
            "/api/v1/admin/bans",
            Some(&sponsor),
            json!({"person": "asker", "reason": "spam", "remove_content": true}),
        )
        .await;
    for refused in [group_ban, instance_ban] {
        assert_bounty_running(&refused, qid);
    }
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (0, 0));
    assert_eq!(points(&t, &sponsor).await, held);
    assert_eq!(bounties_in(&t, qid, "open").await, 1);
    let bans = t
        .count(
            "SELECT (SELECT count(*) FROM group_ban) + (SELECT count(*) FROM instance_ban) \
             + (SELECT count(*) FROM moderation_action) \
             + (SELECT count(*) FROM outbox_event WHERE kind LIKE '%ban%') AS n",
        )
        .await;
    assert_eq!(bans, 0, "a refused ban writes, logs or sends nothing");
    let question = t.get(&format!("/api/v1/posts/{qid}"), None).await;
    assert_eq!(question.status, StatusCode::OK, "{}", question.json);

    // Its asker, made a moderator of the group, may not remove it while it runs either.
    let named = t
        .request(
            Method::PUT,
            "/api/v1/groups/open/members/asker",
            Some(&admin),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert!(named.status.is_success(), "{}", named.json);
    let refused = remove_post_as(&t, &asker, qid).await;
    assert_bounty_running(&refused, qid);
    assert_eq!(bounties_in(&t, qid, "open").await, 1);

    // Once its end has passed, another moderator removes it (left to the lapse rule): removing
    // it again is a no-op for the sponsor and the asker, not a refusal.
    t.sql(&format!(
        "UPDATE bounty SET ends_at = now() - interval '1 minute' WHERE post_id = {qid}"
    ))
    .await;
    let removed = remove_post_as(&t, &admin, qid).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
    assert_eq!(bounties_in(&t, qid, "open").await, 1);
    for again in [
        remove_post_as(&t, &sponsor, qid).await,
        remove_post_as(&t, &asker, qid).await,
    ] {
        assert_eq!(again.status, StatusCode::NO_CONTENT, "{}", again.json);
    }
    points_audit_clean(&t).await;
}

/// A ban that would take down several questions names the one whose bounty holds it back: the
/// asker's first question has none, their second one has the sponsor's.
#[tokio::test]
async fn a_refused_ban_names_the_question_whose_bounty_holds_it_back() {
    let BountyGround {
        t,
        sponsor,
        asker,
        answerer,
        qid: without_bounty,
        ..
    } = bounty_ground(1000, Asks::Asker).await;
    let (with_bounty, _) = question_and_answer(&t, &asker, &answerer).await;
    assert!(with_bounty > without_bounty);
    offered_bounty(&t, &sponsor, with_bounty, 100).await;
    let refused = t
        .request(
            Method::PUT,
            "/api/v1/groups/open/bans/asker",
            Some(&sponsor),
            Some(json!({"reason": "spam", "remove_data": true})),
        )
        .await;
    assert_bounty_running(&refused, with_bounty);
    assert_eq!(t.count("SELECT count(*) AS n FROM group_ban").await, 0);
}

/// A report about the question, resolved with a ban of its asker that removes their content:
/// refused to the bounty's sponsor (`bounty_running`; the report stays open, nothing banned),
/// done by another moderator, whose ban takes the question down and refunds the sponsor once.
#[tokio::test]
async fn a_report_resolved_with_a_ban_takes_the_question_down_for_another_moderator_only() {
    let BountyGround {
        t,
        admin,
        sponsor,
        answerer,
        qid,
        ..
    } = bounty_ground(1000, Asks::Asker).await;
    offered_bounty(&t, &sponsor, qid, 100).await;
    let held = points(&t, &sponsor).await;
    let filed = t
        .post(
            "/api/v1/reports",
            Some(&answerer),
            json!({"post_id": qid, "reason": "spam", "text": "publicité"}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.json);
    let report = filed.json["id"].as_i64().unwrap();
    let path = format!("/api/v1/reports/{report}/resolve");
    let body = json!({"note": "banni", "ban": {"reason": "spam", "remove_data": true}});
    let refused = t.post(&path, Some(&sponsor), body.clone()).await;
    assert_bounty_running(&refused, qid);
    assert_eq!(t.count("SELECT count(*) AS n FROM group_ban").await, 0);
    assert_eq!(bounties_in(&t, qid, "open").await, 1);
    assert_eq!(points(&t, &sponsor).await, held);

    let resolved = t.post(&path, Some(&admin), body).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.json);
    assert_eq!(resolved.json["status"], "resolved", "{}", resolved.json);
    assert_eq!(t.count("SELECT count(*) AS n FROM group_ban").await, 1);
    assert_eq!(bounties_in(&t, qid, "cancelled").await, 1);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (1, 100));
    assert_eq!(points(&t, &sponsor).await, held + 100);
    points_audit_clean(&t).await;
}

/// Bounties left running on questions that went behind the use cases' back (as data from
/// before 2026-12-04-003142 may hold: a question deleted or removed, its bounty still open)
/// are healed by the settler: cancelled and refunded, once, by the refund a take-down writes —
/// one still running as well as one whose end has passed since its question went. The answer
/// that would have won gets nothing, and a second pass pays nothing more.
#[tokio::test]
async fn the_settler_cancels_and_refunds_a_bounty_left_running_on_a_gone_question() {
    let (t, admin, sponsor) = sponsor_granted(1000).await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let before = points(&t, &sponsor).await;
    let mut questions = Vec::new();
    for _ in 0..2 {
        let (qid, _) = question_and_answer(&t, &asker, &answerer).await;
        offered_bounty(&t, &sponsor, qid, 200).await;
        // An answer while it runs, liked: it would win half by the lapse rule.
        liked_answer_while_it_runs(&t, &admin, &answerer, qid).await;
        questions.push(qid);
    }
    assert_eq!(points(&t, &sponsor).await, before - 400);
    // Gone by SQL, as legacy data would be: one deleted while its bounty still runs, one
    // removed during its bounty, which has ended since.
    let (deleted, removed) = (questions[0], questions[1]);
    t.sql(&format!(
        "UPDATE post SET deleted_at = now() WHERE id = {deleted}"
    ))
    .await;
    t.sql(&format!(
        "UPDATE post SET removed_at = now() - interval '2 hours', removal_reason = 'spam' \
         WHERE id = {removed}"
    ))
    .await;
    t.sql(&format!(
        "UPDATE bounty SET ends_at = now() - interval '1 hour' WHERE post_id = {removed}"
    ))
    .await;
    let answerer_before = points(&t, &answerer).await;
    assert_eq!(settle(&t).await, 2, "both healed");
    for qid in [deleted, removed] {
        assert_eq!(bounties_in(&t, qid, "cancelled").await, 1, "question {qid}");
    }
    assert_eq!(points(&t, &sponsor).await, before, "both escrows came back");
    assert_eq!(
        points_rows(&t, &sponsor, "bounty_refunded").await,
        (2, 400),
        "one refund row each"
    );
    assert_eq!(
        t.count("SELECT count(*) AS n FROM points_ledger WHERE source_key LIKE 'bounty:%:refund'")
            .await,
        2
    );
    assert_eq!(points(&t, &answerer).await, answerer_before);
    assert_eq!(points_rows(&t, &answerer, "bounty_half_awarded").await.0, 0);
    // Once: a second pass finds nothing.
    assert_eq!(settle(&t).await, 0);
    assert_eq!(points(&t, &sponsor).await, before);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (2, 400));
    points_audit_clean(&t).await;
}

/// A removal cancels the bounty and refunds it; the restore does not reopen it, and the
/// deletion that follows (by its author: no bounty runs any more) and the settler pay nothing
/// more: one refund.
#[tokio::test]
async fn a_removal_a_restore_then_a_deletion_refund_a_bounty_once() {
    let BountyGround {
        t,
        admin,
        sponsor,
        asker,
        qid,
        ..
    } = bounty_ground(500, Asks::Asker).await;
    let before = points(&t, &sponsor).await;
    offered_bounty(&t, &sponsor, qid, 200).await;
    let removed = remove_post_as(&t, &admin, qid).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (1, 200));
    let restored = restore_post_as(&t, &admin, qid).await;
    assert_eq!(restored.status, StatusCode::NO_CONTENT, "{}", restored.json);
    assert_eq!(bounties_in(&t, qid, "cancelled").await, 1);
    let deleted = delete_post_as(&t, &asker, qid).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.json);
    t.sql(&format!(
        "UPDATE bounty SET ends_at = now() WHERE post_id = {qid}"
    ))
    .await;
    assert_eq!(settle(&t).await, 0, "nothing left to settle or heal");
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (1, 200));
    assert_eq!(points(&t, &sponsor).await, before);
    assert_eq!(bounties_in(&t, qid, "cancelled").await, 1);
    points_audit_clean(&t).await;
}

/// A bounty whose time is up is the lapse rule's, even when its question goes before the
/// settler ran: a moderator's removal then refunds nothing, and the settler pays half to the
/// answer that won by the question's state at the end — what it would have paid on time (a
/// take-down after the settlement never takes a bounty's payment back either).
#[tokio::test]
async fn a_bounty_whose_time_is_up_is_settled_by_the_lapse_rule_when_its_question_is_removed() {
    let BountyGround {
        t,
        admin,
        sponsor,
        answerer,
        qid,
        ..
    } = bounty_ground(1000, Asks::Asker).await;
    offered_bounty(&t, &sponsor, qid, 301).await;
    let aid = liked_answer_while_it_runs(&t, &admin, &answerer, qid).await;
    // Its end comes (after the answer and the like); the settler has not run yet.
    t.sql(&format!(
        "UPDATE bounty SET ends_at = now() WHERE post_id = {qid}"
    ))
    .await;
    let sponsor_before = points(&t, &sponsor).await;
    let removed = remove_post_as(&t, &admin, qid).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
    assert_eq!(
        points_rows(&t, &sponsor, "bounty_refunded").await,
        (0, 0),
        "its time was up: no refund"
    );
    assert_eq!(points(&t, &sponsor).await, sponsor_before);
    assert_eq!(bounties_in(&t, qid, "open").await, 1, "left to the settler");
    // The removal took back what the answer earned in the thread; the bounty is paid on top.
    let answerer_before = points(&t, &answerer).await;
    assert_eq!(settle(&t).await, 1);
    assert_eq!(
        t.count(&format!(
            "SELECT count(*) AS n FROM bounty WHERE post_id = {qid} AND status = 'expired' \
             AND paid = 150 AND awarded_comment_id = {aid}"
        ))
        .await,
        1
    );
    assert_eq!(points(&t, &answerer).await, answerer_before + 150);
    assert_eq!(points(&t, &sponsor).await, sponsor_before, "nothing back");
    // The winner hears of it, without a link to the removed question.
    assert_eq!(
        t.count(
            "SELECT count(*) AS n FROM notification n JOIN person p ON p.id = n.recipient_id \
             WHERE p.username = 'answerer' AND n.kind = 'bounty_won' AND n.detail = '150' \
             AND n.post_id IS NULL AND n.comment_id IS NULL AND n.group_id IS NULL"
        )
        .await,
        1
    );
    assert_eq!(settle(&t).await, 0, "settled once");
    points_audit_clean(&t).await;
}

/// Sessions of this test's database waiting on a lock now.
async fn lock_waiters(t: &TestApp) -> i64 {
    t.count(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .await
}

/// Waits until at least `n` sessions of this test's database wait on a lock, or `done` says
/// the request that should have waited finished first (a condition wait, with a generous
/// correctness deadline); whether they waited.
async fn until_waiting(t: &TestApp, n: i64, done: &std::sync::atomic::AtomicBool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if lock_waiters(t).await >= n {
            return true;
        }
        if done.load(std::sync::atomic::Ordering::SeqCst) {
            return false;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never {n} sessions waiting on a lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// `sponsor` offers `amount` on `qid` in a transaction kept open, the bounty inserted and not
/// committed, until `second` (started then) waits on a lock, or has ended without waiting
/// (which fails the test: the race was not run); then it commits. The offer's result and what
/// `second` got.
async fn while_an_offer_is_uncommitted<F, Fut>(
    t: &TestApp,
    sponsor: &str,
    qid: i64,
    amount: i64,
    second: F,
) -> (
    Result<cenacle_db::engagement::Bounty, cenacle_core::CoreError>,
    common::Reply,
)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = common::Reply>,
{
    use cenacle_core::ScopedFutureExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut conn = t.db.pool.get().await.unwrap();
    let sponsor_caller = cenacle_core::Caller::from(
        &cenacle_core::accounts::authenticate(&mut conn, sponsor)
            .await
            .unwrap(),
    );
    drop(conn);
    let offered_uncommitted = tokio::sync::Notify::new();
    let second_done = AtomicBool::new(false);
    let (ctx, sponsor_caller) = (&t.ctx, &sponsor_caller);
    let (offered_signal, second_seen) = (&offered_uncommitted, &second_done);
    let offer = t.ctx.transaction(|conn| {
        async move {
            let offered =
                cenacle_core::bounties::offer_bounty(conn, ctx, sponsor_caller, qid, amount, None)
                    .await;
            // Told whatever the outcome: a failed offer fails the test below, not hangs it.
            offered_signal.notify_one();
            let bounty = offered?;
            assert!(
                until_waiting(t, 1, second_seen).await,
                "the second request did not wait for the offer"
            );
            Ok(bounty)
        }
        .scope_boxed()
    });
    let other = async {
        offered_uncommitted.notified().await;
        let reply = second().await;
        second_done.store(true, Ordering::SeqCst);
        reply
    };
    tokio::join!(offer, other)
}

/// The end state of an offer raced by a removal of its question, whatever the order: either
/// no bounty, or one cancelled and refunded — never one left running on the removed question
/// — and once the question is restored (which gives back what its removal took from the
/// sponsor's thread, not the bounty), the sponsor's balance is what it was before the offer.
async fn consistent_after_the_race(t: &TestApp, admin: &str, sponsor: &str, qid: i64, before: i64) {
    let (open, cancelled) = (
        bounties_in(t, qid, "open").await,
        bounties_in(t, qid, "cancelled").await,
    );
    assert_eq!(open, 0, "a bounty left running on a removed question");
    assert!(cancelled <= 1, "{cancelled} bounties cancelled");
    assert_eq!(
        points_rows(t, sponsor, "bounty_refunded").await,
        (cancelled as usize, 200 * cancelled),
        "a cancelled bounty refunded once, none refunded otherwise"
    );
    let restored = restore_post_as(t, admin, qid).await;
    assert_eq!(restored.status, StatusCode::NO_CONTENT, "{}", restored.json);
    assert_eq!(
        points(t, sponsor).await,
        before,
        "balance plus escrow as before"
    );
    points_audit_clean(t).await;
}

/// An offer and a moderator's removal of the same question, in two connections at once. The
/// sponsor asked the question, so the removal (taking back what asking earned her) locks her
/// balance as the offer does; something else of hers (an order, a bid) holds that balance a
/// moment, so the offer waits for it holding what it took so far, and the removal comes
/// meanwhile. The offer locking her balance before the question (its bounty's key lock) and
/// the removal the question before her balance deadlocked; both now take the question first.
#[tokio::test]
async fn an_offer_and_a_removal_of_its_question_at_once_do_not_deadlock() {
    use diesel_async::{AsyncConnection, RunQueryDsl, TransactionManager};
    use std::sync::atomic::{AtomicBool, Ordering};
    let BountyGround {
        t,
        admin,
        sponsor,
        qid,
        ..
    } = bounty_ground(500, Asks::Sponsor).await;
    let before = points(&t, &sponsor).await;
    let claire = t
        .count("SELECT id AS n FROM person WHERE username = 'claire' AND local")
        .await;

    // The gate: her balance held by another transaction.
    let mut gate = t.db.pool.get().await.unwrap();
    <diesel_async::AsyncPgConnection as AsyncConnection>::TransactionManager::begin_transaction(
        &mut *gate,
    )
    .await
    .unwrap();
    diesel::sql_query(format!(
        "SELECT 1 FROM points_balance WHERE person_id = {claire} FOR UPDATE"
    ))
    .execute(&mut gate)
    .await
    .unwrap();
    let (offer_done, removal_done) = (AtomicBool::new(false), AtomicBool::new(false));
    let offer = async {
        let reply = offer_bounty(&t, &sponsor, qid, 200).await;
        offer_done.store(true, Ordering::SeqCst);
        reply
    };
    let removal = async {
        assert!(
            until_waiting(&t, 1, &offer_done).await,
            "the offer did not wait for the balance"
        );
        let reply = remove_post_as(&t, &admin, qid).await;
        removal_done.store(true, Ordering::SeqCst);
        reply
    };
    let release = async {
        // The offer waits (for the gate), then the removal (for the offer, or the gate).
        until_waiting(&t, 1, &offer_done).await;
        assert!(
            until_waiting(&t, 2, &removal_done).await,
            "the removal did not wait"
        );
        <diesel_async::AsyncPgConnection as AsyncConnection>::TransactionManager::commit_transaction(
            &mut *gate,
        )
        .await
        .unwrap();
    };
    let (offered, removed, ()) = tokio::join!(offer, removal, release);
    for reply in [&offered, &removed] {
        assert_ne!(
            reply.code(),
            "database_conflict",
            "deadlock: {}",
            reply.json
        );
    }
    assert!(
        [StatusCode::CREATED, StatusCode::NOT_FOUND].contains(&offered.status),
        "{} {}",
        offered.status,
        offered.json
    );
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
    consistent_after_the_race(&t, &admin, &sponsor, qid, before).await;
}

/// The other order: a moderator's removal holds its transaction open, done but not committed,
/// while an offer on the same question comes. The offer waits for it and then finds the
/// question gone (404, nothing taken): before, it read the question still there, waited only
/// for its bounty's key lock, and committed a bounty on the removed question whose escrow no
/// award or settlement would pay. Then the offer first, holding its transaction open, and a
/// removal that waits for it: the bounty is cancelled and refunded.
#[tokio::test]
async fn an_offer_waiting_for_a_removal_of_its_question_finds_it_gone() {
    use cenacle_core::ScopedFutureExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    let BountyGround {
        t,
        admin,
        sponsor,
        asker,
        answerer,
        qid,
        ..
    } = bounty_ground(500, Asks::Asker).await;
    let before = points(&t, &sponsor).await;
    let mut conn = t.db.pool.get().await.unwrap();
    let moderator = cenacle_core::Caller::from(
        &cenacle_core::accounts::authenticate(&mut conn, &admin)
            .await
            .unwrap(),
    );
    drop(conn);

    let removed_uncommitted = tokio::sync::Notify::new();
    let offer_done = AtomicBool::new(false);
    let (tr, moderator, removed_signal, offer_seen) =
        (&t, &moderator, &removed_uncommitted, &offer_done);
    let removal = t.ctx.transaction(|conn| {
        async move {
            cenacle_core::moderation::remove_post(conn, moderator, qid, "hors sujet").await?;
            removed_signal.notify_one();
            assert!(
                until_waiting(tr, 1, offer_seen).await,
                "the offer did not wait for the removal"
            );
            Ok(())
        }
        .scope_boxed()
    });
    let offer = async {
        removed_uncommitted.notified().await;
        let reply = offer_bounty(&t, &sponsor, qid, 200).await;
        offer_done.store(true, Ordering::SeqCst);
        reply
    };
    let (removed, offered) = tokio::join!(removal, offer);
    removed.unwrap();
    assert_eq!(
        (offered.status, offered.code()),
        (StatusCode::NOT_FOUND, "not_found"),
        "{}",
        offered.json
    );
    consistent_after_the_race(&t, &admin, &sponsor, qid, before).await;

    // The offer first, its transaction held open; the removal waits for it, then cancels and
    // refunds the bounty it committed.
    let (qid, _) = question_and_answer(&t, &asker, &answerer).await;
    let before = points(&t, &sponsor).await;
    let (offered, removed) =
        while_an_offer_is_uncommitted(&t, &sponsor, qid, 200, || remove_post_as(&t, &admin, qid))
            .await;
    offered.unwrap();
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
    assert_eq!(bounties_in(&t, qid, "cancelled").await, 1);
    consistent_after_the_race(&t, &admin, &sponsor, qid, before).await;
}

/// The author's deletion is refused under the post's lock: an offer on the question holds its
/// transaction open, done but not committed, while the author deletes the question. The
/// deletion waits for the offer (its FOR UPDATE on the post waits for the offer's FOR SHARE),
/// then sees the bounty the offer committed and is refused; read before the lock, it would
/// have seen no bounty and deleted the question, leaving the offer's escrow to be refunded.
#[tokio::test]
async fn an_authors_deletion_waiting_for_an_offer_on_the_question_is_refused() {
    let BountyGround {
        t,
        sponsor,
        asker,
        qid,
        ..
    } = bounty_ground(500, Asks::Asker).await;
    let (offered, deleted) =
        while_an_offer_is_uncommitted(&t, &sponsor, qid, 200, || delete_post_as(&t, &asker, qid))
            .await;
    offered.unwrap();
    assert_bounty_running(&deleted, qid);
    let question = t.get(&format!("/api/v1/posts/{qid}"), None).await;
    assert_eq!(question.status, StatusCode::OK, "{}", question.json);
    assert_eq!(bounties_in(&t, qid, "open").await, 1);
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (0, 0));
    points_audit_clean(&t).await;
}

/// Two offers on one question that both pass the check: the first has inserted its bounty,
/// not committed yet, when the second offers. The second sees no running bounty (the first's
/// is not committed), then waits on the one-open-bounty index; once the first commits, it is
/// refused `bounty_running` naming the question, as the check refuses, and holds nothing.
#[tokio::test]
async fn a_second_offer_racing_past_the_check_is_refused_naming_the_question() {
    let BountyGround {
        t,
        admin,
        sponsor,
        qid,
        ..
    } = bounty_ground(500, Asks::Asker).await;
    // The instance's admin (`root`, exempt from the reputation gate) offers second.
    grant(&t, &admin, "root", 500).await;
    let admin_before = points(&t, &admin).await;
    let (first, second) = while_an_offer_is_uncommitted(&t, &sponsor, qid, 200, || {
        offer_bounty(&t, &admin, qid, 100)
    })
    .await;
    first.unwrap();
    assert_bounty_running(&second, qid);
    assert_eq!(bounties_in(&t, qid, "open").await, 1);
    assert_eq!(points(&t, &admin).await, admin_before, "nothing held");
    points_audit_clean(&t).await;
}

/// An award racing another moderator's deletion of the question: the deletion holds the post
/// (and has cancelled the bounty and refunded its sponsor), not committed yet, when the
/// sponsor awards. The award waits for the post (its FOR SHARE waits for the deletion's FOR
/// UPDATE), then finds no running bounty: 404, the answerer paid nothing, the sponsor refunded
/// once. Awarding first, reading the bounty before the post, would pay the answerer the escrow
/// the deletion gave back as well.
#[tokio::test]
async fn an_award_waiting_for_a_deletion_of_its_question_pays_nothing() {
    use cenacle_core::ScopedFutureExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    let BountyGround {
        t,
        admin,
        sponsor,
        answerer,
        qid,
        answer,
        ..
    } = bounty_ground(500, Asks::Asker).await;
    offered_bounty(&t, &sponsor, qid, 200).await;
    let mut conn = t.db.pool.get().await.unwrap();
    let moderator = cenacle_core::Caller::from(
        &cenacle_core::accounts::authenticate(&mut conn, &admin)
            .await
            .unwrap(),
    );
    drop(conn);
    let deleted_uncommitted = tokio::sync::Notify::new();
    let award_done = AtomicBool::new(false);
    let (tr, moderator) = (&t, &moderator);
    let (deleted_signal, award_seen) = (&deleted_uncommitted, &award_done);
    let deletion = t.ctx.transaction(|conn| {
        async move {
            cenacle_core::posts::delete_post(conn, moderator, qid).await?;
            deleted_signal.notify_one();
            assert!(
                until_waiting(tr, 1, award_seen).await,
                "the award did not wait for the deletion"
            );
            Ok::<_, cenacle_core::CoreError>(())
        }
        .scope_boxed()
    });
    let award = async {
        deleted_uncommitted.notified().await;
        let reply = award_as(&t, &sponsor, qid, answer).await;
        award_done.store(true, Ordering::SeqCst);
        reply
    };
    let (deleted, awarded) = tokio::join!(deletion, award);
    deleted.unwrap();
    assert_eq!(awarded.status, StatusCode::NOT_FOUND, "{}", awarded.json);
    assert_eq!(points_rows(&t, &answerer, "bounty_awarded").await, (0, 0));
    assert_eq!(points_rows(&t, &sponsor, "bounty_refunded").await, (1, 200));
    assert_eq!(bounties_in(&t, qid, "cancelled").await, 1);
    points_audit_clean(&t).await;
}

#[tokio::test]
async fn badges_are_earned_by_rules_given_by_hand_revoked_and_worn_as_titles() {
    let (t, admin) = setup().await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    let pierre = t.member("pierre").await;
    let held = |who: &'static str| badges_of(&t, who);
    assert!(held("marie").await.is_empty());
    let (qid, aid) = question_and_answer(&t, &marie, &pierre).await;
    assert_eq!(held("marie").await, ["first_question"]);
    t.request(
        Method::PUT,
        &format!("/api/v1/posts/{qid}/accepted-answer"),
        Some(&marie),
        Some(json!({"comment_id": aid})),
    )
    .await;
    assert_eq!(held("pierre").await, ["first_accepted_answer"]);

    // An idea that gets done earns its author a badge.
    let idea = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&marie),
            json!({"kind": "idea", "title": "Idée"}),
        )
        .await;
    t.request(
        Method::PUT,
        &format!("/api/v1/posts/{}/idea-status", idea.json["post"]["id"]),
        Some(&manager),
        Some(json!({"status": "done"})),
    )
    .await;
    assert!(held("marie").await.contains(&"idea_done".to_owned()));

    // By hand: Staff, once; revoked with a reason; members cannot.
    let give = json!({"handle": "pierre", "badge": "staff", "reason": "Champion du mois"});
    assert_eq!(
        t.post("/api/v1/admin/badges/award", Some(&pierre), give.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let given = t
        .post("/api/v1/admin/badges/award", Some(&manager), give.clone())
        .await;
    assert_eq!(given.status, StatusCode::NO_CONTENT, "{}", given.json);
    assert_eq!(
        t.post("/api/v1/admin/badges/award", Some(&manager), give)
            .await
            .status,
        StatusCode::CONFLICT
    );
    // pierre wears it as his title; a badge he lacks cannot be worn.
    let wear = t
        .request(
            Method::PUT,
            "/api/v1/account/title",
            Some(&pierre),
            Some(json!({"badge": "staff"})),
        )
        .await;
    assert_eq!(wear.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.request(
            Method::PUT,
            "/api/v1/account/title",
            Some(&pierre),
            Some(json!({"badge": "hundred_likes"}))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let profile = t.get("/api/v1/people/pierre", None).await;
    assert_eq!(
        (
            profile.json["title"]["slug"].as_str(),
            profile.json["title"]["tier"].as_str()
        ),
        (Some("staff"), Some("gold"))
    );
    let no_reason = t
        .post(
            "/api/v1/admin/badges/revoke",
            Some(&admin),
            json!({"handle": "pierre", "badge": "staff"}),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let revoked = t
        .post(
            "/api/v1/admin/badges/revoke",
            Some(&admin),
            json!({"handle": "pierre", "badge": "staff", "reason": "Fin du programme"}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = t.get("/api/v1/people/pierre", None).await;
    assert_eq!(
        after.json["title"],
        Value::Null,
        "a revoked badge is no longer worn"
    );
    assert_eq!(held("pierre").await, ["first_accepted_answer"]);

    let catalogue = t
        .send(
            axum::http::Request::get("/api/v1/badges")
                .header("accept-language", "fr")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    let staff = catalogue
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["slug"] == "staff")
        .unwrap();
    assert_eq!(
        (staff["name"].as_str(), staff["honorific"].as_bool()),
        (Some("Équipe"), Some(true))
    );
}

#[tokio::test]
async fn a_contest_ranks_its_groups_and_causes_and_freezes_its_winners() {
    let (t, admin) = setup().await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    t.post(
        "/api/v1/groups",
        Some(&admin),
        json!({"name": "other", "title": "Other"}),
    )
    .await;
    let body = contest_body("Concours de novembre", &["open"]);
    assert_eq!(
        t.post(
            "/api/v1/contests",
            Some(&t.member("nobody").await),
            body.clone()
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let created = t.post("/api/v1/contests", Some(&manager), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_i64().unwrap();

    let fan = t.member("fan").await;
    let ana = t.member("ana").await;
    let ben = t.member("ben").await;
    for (who, n) in [(&ana, 2), (&ben, 1)] {
        for _ in 0..n {
            liked_answer(&t, &fan, who).await;
        }
    }
    // Outside the contest's group: does not count.
    let q = t
        .post(
            "/api/v1/groups/other/posts",
            Some(&fan),
            json!({"kind": "question", "title": "Ailleurs ?"}),
        )
        .await;
    let a = t
        .post(
            &format!("/api/v1/posts/{}/comments", q.json["post"]["id"]),
            Some(&ben),
            json!({"body": "R"}),
        )
        .await;
    vote(
        &t,
        &fan,
        &format!("/api/v1/comments/{}/vote", a.json["id"]),
        json!("like"),
    )
    .await;

    let live = t.get(&format!("/api/v1/contests/{id}"), None).await;
    let board: Vec<(i64, &str, i64)> = live.json["board"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["rank"].as_i64().unwrap(),
                e["handle"].as_str().unwrap(),
                e["reputation"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        board,
        vec![(1, "ana@localhost:8700", 20), (2, "ben@localhost:8700", 10)]
    );

    let before = points(&t, &ana).await;
    let closed = t
        .post(
            &format!("/api/v1/contests/{id}/close"),
            Some(&manager),
            json!({"prizes": [100, 50], "badge": "staff"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.json);
    assert!(closed.json["closed"].as_bool().unwrap());
    assert_eq!(points(&t, &ana).await, before + 100);
    // Each winner is told their place and the contest; nobody else is.
    for (who, place) in [(&ana, "1"), (&ben, "2")] {
        let told = t.notifications_of_kind(who, "contest_result").await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(
            (
                told[0]["contest_id"].as_i64(),
                told[0]["contest_title"].as_str(),
                told[0]["detail"].as_str()
            ),
            (Some(id), Some("Concours de novembre"), Some(place))
        );
    }
    assert!(t
        .notifications_of_kind(&fan, "contest_result")
        .await
        .is_empty());
    assert!(t.get("/api/v1/people/ben", None).await.json["badges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["slug"] == "staff"));
    // Later activity does not change the frozen winners; closing twice is refused.
    let (_, aid) = question_and_answer(&t, &fan, &ben).await;
    vote(
        &t,
        &fan,
        &format!("/api/v1/comments/{aid}/vote"),
        json!("like"),
    )
    .await;
    vote(
        &t,
        &ana,
        &format!("/api/v1/comments/{aid}/vote"),
        json!("like"),
    )
    .await;
    let frozen = t.get(&format!("/api/v1/contests/{id}"), None).await;
    assert_eq!(frozen.json["board"][0]["handle"], "ana@localhost:8700");
    assert_eq!(frozen.json["board"][1]["reputation"], 10);
    let again = t
        .post(
            &format!("/api/v1/contests/{id}/close"),
            Some(&manager),
            json!({"prizes": [1]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn thirty_days_visited_in_a_row_earn_a_badge_and_twenty_nine_do_not() {
    use diesel_async::RunQueryDsl;
    let (t, _admin) = setup().await;
    // Past visits are ledger rows; write them for days gone by, then visit today.
    let earlier_visits = |who: &'static str, days: i32| {
        let t = &t;
        async move {
            assert_eq!(t.register(who).await.status, StatusCode::CREATED);
            let mut conn = t.db.pool.get().await.unwrap();
            diesel::sql_query(
                "INSERT INTO points_ledger (person_id, delta, reason, source_key, created_at) \
                 SELECT p.id, 1, 'daily_visit', 'test:visit:' || p.id || ':' || d, now() - d * interval '1 day' \
                 FROM person p, generate_series(1, $2) d WHERE p.local AND p.username = $1",
            )
            .bind::<diesel::sql_types::Text, _>(who)
            .bind::<diesel::sql_types::Integer, _>(days)
            .execute(&mut conn)
            .await
            .unwrap();
        }
    };
    earlier_visits("lucie", 29).await;
    earlier_visits("paul", 28).await;
    for who in ["lucie", "paul"] {
        // The first authenticated request of the day is today's visit.
        let token = t.token(who).await;
        assert_eq!(
            t.get("/api/v1/account/me", Some(&token)).await.status,
            StatusCode::OK
        );
    }
    assert!(badges_of(&t, "lucie")
        .await
        .contains(&"thirty_day_streak".to_owned()));
    assert!(!badges_of(&t, "paul")
        .await
        .contains(&"thirty_day_streak".to_owned()));
}
