//! Engagement nobody can farm, through the real router and database: every reward reversed
//! with its cause, content paid once, caps on content points, idempotent grants, badges that
//! stay revoked, and ledgers that agree with their balances under concurrency.

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use cenacle_domain::Role;
use common::engagement::{
    badges_of, grant, journey_pays_nothing, points, reputation, setup, setup_with, vote,
};
use common::{Reply, TestApp};
use serde_json::{json, Value};

/// (reputation, points) of a member.
async fn standing(t: &TestApp, token: &str) -> (i64, i64) {
    (reputation(t, token).await, points(t, token).await)
}

async fn rank_score(t: &TestApp, who: &str) -> i64 {
    t.get(&format!("/api/v1/people/{who}"), None).await.json["rank"]["score"]
        .as_i64()
        .unwrap()
}

async fn new_post(t: &TestApp, token: &str, kind: &str, title: &str) -> i64 {
    let r = t
        .post(
            "/api/v1/groups/open/posts",
            Some(token),
            json!({"kind": kind, "title": title}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["post"]["id"].as_i64().unwrap()
}

async fn answer(t: &TestApp, token: &str, qid: i64, body: &str) -> i64 {
    let r = t
        .post(
            &format!("/api/v1/posts/{qid}/comments"),
            Some(token),
            json!({"body": body}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["id"].as_i64().unwrap()
}

async fn accept(t: &TestApp, token: &str, qid: i64, comment: Value) -> StatusCode {
    t.request(
        Method::PUT,
        &format!("/api/v1/posts/{qid}/accepted-answer"),
        Some(token),
        Some(json!({"comment_id": comment})),
    )
    .await
    .status
}

async fn delete(t: &TestApp, token: &str, path: &str) -> StatusCode {
    t.request(Method::DELETE, path, Some(token), None)
        .await
        .status
}

#[tokio::test]
async fn the_farming_loop_ends_where_it_started() {
    let (t, _) = setup().await;
    let marie = t.member("marie").await;
    let start = standing(&t, &marie).await;
    for i in 0..10 {
        let qid = new_post(&t, &marie, "question", &format!("Question {i} ?")).await;
        let aid = answer(&t, &marie, qid, &format!("Ma propre réponse {i}")).await;
        assert_eq!(accept(&t, &marie, qid, json!(aid)).await, StatusCode::OK);
        // Half the time the answer goes first; the rest, only the question (taking its
        // answers with it).
        if i % 2 == 0 {
            assert_eq!(
                delete(&t, &marie, &format!("/api/v1/comments/{aid}")).await,
                StatusCode::NO_CONTENT
            );
        }
        assert_eq!(
            delete(&t, &marie, &format!("/api/v1/posts/{qid}")).await,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        standing(&t, &marie).await,
        start,
        "ten rounds of ask, self-answer, self-accept, delete earn nothing"
    );
    assert_eq!(rank_score(&t, "marie").await, 0);
    assert!(badges_of(&t, "marie")
        .await
        .iter()
        .all(|b| b != "first_accepted_answer"));
}

#[tokio::test]
async fn accepting_ones_own_answer_pays_nobody_and_earns_no_badge() {
    let (t, _) = setup().await;
    let marie = t.member("marie").await;
    let qid = new_post(&t, &marie, "question", "Q ?").await;
    let aid = answer(&t, &marie, qid, "R").await;
    let before = standing(&t, &marie).await;
    assert_eq!(accept(&t, &marie, qid, json!(aid)).await, StatusCode::OK);
    assert_eq!(standing(&t, &marie).await, before);
    assert!(!badges_of(&t, "marie")
        .await
        .contains(&"first_accepted_answer".to_owned()));
    // Rank: one thread and one reply, no accepted answer.
    assert_eq!(rank_score(&t, "marie").await, 1 + 2);
}

/// A moderator (here an admin) may accept any answer in the group, their own on someone
/// else's question included: that acceptance pays nothing, and counts for no rank or badge.
#[tokio::test]
async fn a_moderator_accepting_their_own_answer_gains_no_rank_and_no_badge() {
    let (t, admin) = setup().await;
    let asker = t.member("asker").await;
    let qid = new_post(&t, &asker, "question", "Q ?").await;
    let aid = answer(&t, &admin, qid, "R").await;
    let before = standing(&t, &admin).await;
    let rank_before = rank_score(&t, "root").await;
    assert_eq!(accept(&t, &admin, qid, json!(aid)).await, StatusCode::OK);
    assert_eq!(standing(&t, &admin).await, before);
    assert_eq!(rank_score(&t, "root").await, rank_before);
    assert!(!badges_of(&t, "root")
        .await
        .contains(&"first_accepted_answer".to_owned()));
    // The asker accepting the same answer counts as any acceptance does.
    assert_eq!(accept(&t, &asker, qid, Value::Null).await, StatusCode::OK);
    assert_eq!(accept(&t, &asker, qid, json!(aid)).await, StatusCode::OK);
    assert_eq!(rank_score(&t, "root").await, rank_before + 15);
    assert!(badges_of(&t, "root")
        .await
        .contains(&"first_accepted_answer".to_owned()));
}

#[tokio::test]
async fn an_accepted_answer_deleted_takes_its_rewards_with_it() {
    let (t, admin) = setup().await;
    journey_pays_nothing(&t).await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let asker_start = standing(&t, &asker).await;
    let answerer_start = standing(&t, &answerer).await;
    let qid = new_post(&t, &asker, "question", "Q ?").await;
    let aid = answer(&t, &answerer, qid, "R").await;
    assert_eq!(accept(&t, &asker, qid, json!(aid)).await, StatusCode::OK);
    assert_eq!(
        standing(&t, &answerer).await,
        (answerer_start.0 + 15, answerer_start.1 + 20 + 30)
    );
    assert_eq!(
        delete(&t, &answerer, &format!("/api/v1/comments/{aid}")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        standing(&t, &answerer).await,
        answerer_start,
        "the acceptance's reputation and points, and the answer's, are gone"
    );
    assert_eq!(
        standing(&t, &asker).await,
        (asker_start.0, asker_start.1 + 15),
        "the acceptor's +2 is gone; the question still stands"
    );
    // Removed by a moderator: the same.
    let aid = answer(&t, &answerer, qid, "R bis").await;
    assert_eq!(accept(&t, &asker, qid, json!(aid)).await, StatusCode::OK);
    assert_eq!(
        delete(&t, &admin, &format!("/api/v1/comments/{aid}")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(standing(&t, &answerer).await, answerer_start);
}

#[tokio::test]
async fn a_deleted_post_takes_back_everything_it_earned_and_reposting_it_pays_nothing() {
    let (t, _) = setup().await;
    journey_pays_nothing(&t).await;
    let marie = t.member("marie").await;
    let pierre = t.member("pierre").await;
    let marie_start = standing(&t, &marie).await;
    let pierre_start = standing(&t, &pierre).await;
    let id = new_post(&t, &marie, "idea", "Un thème sombre").await;
    vote(
        &t,
        &pierre,
        &format!("/api/v1/posts/{id}/vote"),
        json!("like"),
    )
    .await;
    assert_eq!(
        standing(&t, &marie).await,
        (marie_start.0 + 5, marie_start.1 + 15 + 2)
    );
    assert_eq!(
        standing(&t, &pierre).await,
        (pierre_start.0, pierre_start.1 + 1)
    );
    assert_eq!(
        delete(&t, &marie, &format!("/api/v1/posts/{id}")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(standing(&t, &marie).await, marie_start);
    assert_eq!(
        standing(&t, &pierre).await,
        pierre_start,
        "a like on content that is gone is worth nothing"
    );
    // The same idea again: content is paid once, never again for re-creating it.
    new_post(&t, &marie, "idea", "  un THÈME   sombre ").await;
    assert_eq!(standing(&t, &marie).await, marie_start);
    new_post(&t, &marie, "idea", "Un thème clair").await;
    assert_eq!(points(&t, &marie).await, marie_start.1 + 15);
}

#[tokio::test]
async fn withdrawn_likes_and_changed_acceptances_take_back_their_points() {
    let (t, _) = setup_with(|s| s.engagement.privileges.dislike = 0).await;
    let marie = t.member("marie").await;
    let paul = t.member("paul").await;
    let luc = t.member("luc").await;
    let qid = new_post(&t, &marie, "question", "Q ?").await;
    let by_paul = answer(&t, &paul, qid, "Réponse de Paul").await;
    let by_luc = answer(&t, &luc, qid, "Réponse de Luc").await;
    let (marie0, paul0, luc0) = (
        points(&t, &marie).await,
        points(&t, &paul).await,
        points(&t, &luc).await,
    );
    let path = format!("/api/v1/comments/{by_paul}/vote");
    vote(&t, &marie, &path, json!("like")).await;
    assert_eq!(
        (points(&t, &marie).await, points(&t, &paul).await),
        (marie0 + 1, paul0 + 2)
    );
    vote(&t, &marie, &path, Value::Null).await;
    assert_eq!(
        (points(&t, &marie).await, points(&t, &paul).await),
        (marie0, paul0),
        "a like withdrawn takes back both sides' points"
    );
    assert_eq!(vote(&t, &marie, &path, json!("like")).await, StatusCode::OK);
    assert_eq!(
        vote(&t, &marie, &path, json!("dislike")).await,
        StatusCode::OK
    );
    assert_eq!(
        (points(&t, &marie).await, points(&t, &paul).await),
        (marie0, paul0),
        "a like turned into a dislike, too"
    );
    vote(&t, &marie, &path, Value::Null).await;

    assert_eq!(
        accept(&t, &marie, qid, json!(by_paul)).await,
        StatusCode::OK
    );
    assert_eq!(points(&t, &paul).await, paul0 + 30);
    assert_eq!(accept(&t, &marie, qid, json!(by_luc)).await, StatusCode::OK);
    assert_eq!(
        (points(&t, &paul).await, points(&t, &luc).await),
        (paul0, luc0 + 30),
        "the acceptance moved, and its points with it"
    );
    assert_eq!(accept(&t, &marie, qid, Value::Null).await, StatusCode::OK);
    assert_eq!(points(&t, &luc).await, luc0);
    let history = t.get("/api/v1/account/points", Some(&luc)).await;
    assert_eq!(
        (
            history.json["history"][0]["delta"].as_i64(),
            history.json["history"][0]["reason"].as_str(),
            history.json["history"][0]["reversal"].as_bool()
        ),
        (Some(-30), Some("accepted_answer"), Some(true))
    );
}

#[tokio::test]
async fn votes_on_a_deleted_answer_are_refused() {
    let (t, _) = setup().await;
    let marie = t.member("marie").await;
    let paul = t.member("paul").await;
    let qid = new_post(&t, &marie, "question", "Q ?").await;
    let aid = answer(&t, &paul, qid, "R").await;
    delete(&t, &paul, &format!("/api/v1/comments/{aid}")).await;
    let before = standing(&t, &paul).await;
    assert_eq!(
        vote(
            &t,
            &marie,
            &format!("/api/v1/comments/{aid}/vote"),
            json!("like")
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(standing(&t, &paul).await, before);
    assert_eq!(
        accept(&t, &marie, qid, json!(aid)).await,
        StatusCode::NOT_FOUND
    );
}

fn grant_request(admin: &str, key: Option<&str>, body: Value) -> Request<Body> {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/admin/points")
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "application/json");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

async fn ledger_rows(t: &TestApp, token: &str) -> usize {
    t.get("/api/v1/account/points?limit=100", Some(token))
        .await
        .json["history"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_grant_retried_with_its_idempotency_key_pays_once() {
    let (t, admin) = setup().await;
    let marie = t.member("marie").await;
    let start = points(&t, &marie).await;
    let rows = ledger_rows(&t, &marie).await;
    let body = json!({"handle": "marie", "delta": 50, "reason": "Merci"});
    let first = t
        .send(grant_request(&admin, Some("retry-1"), body.clone()))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["balance"], start + 50);
    // Meanwhile marie earns something: the retry still answers what the first call answered.
    new_post(&t, &marie, "note", "Entre-temps").await;
    let retried = t
        .send(grant_request(&admin, Some("retry-1"), body.clone()))
        .await;
    assert_eq!(
        (retried.status, retried.json.clone()),
        (first.status, first.json.clone())
    );
    assert_eq!(points(&t, &marie).await, start + 50 + 15, "paid once");
    // The same key with another body: refused, nothing written.
    let other = json!({"handle": "marie", "delta": 500, "reason": "Merci"});
    let reused: Reply = t.send(grant_request(&admin, Some("retry-1"), other)).await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    assert_eq!(points(&t, &marie).await, start + 50 + 15);
    assert_eq!(ledger_rows(&t, &marie).await, rows + 2);
    // Another admin's key of the same name is another key.
    let other_admin = t.with_role("claire", Role::CommunityManager).await;
    let theirs = t
        .send(grant_request(&other_admin, Some("retry-1"), body.clone()))
        .await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(points(&t, &marie).await, start + 100 + 15);
    // A key that is no key.
    let long = "k".repeat(300);
    let bad = t.send(grant_request(&admin, Some(&long), body)).await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_idempotency_key")
    );
}

#[tokio::test]
async fn a_grant_without_a_reason_is_refused_and_writes_nothing() {
    let (t, admin) = setup().await;
    let marie = t.member("marie").await;
    let start = points(&t, &marie).await;
    let rows = ledger_rows(&t, &marie).await;
    for body in [
        json!({"handle": "marie", "delta": 50}),
        json!({"handle": "marie", "delta": 50, "reason": "   "}),
    ] {
        let r = t.send(grant_request(&admin, Some("no-reason"), body)).await;
        assert_eq!(
            (
                r.status,
                r.code(),
                r.json["error"]["details"]["field"].as_str()
            ),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                Some("reason")
            ),
            "{}",
            r.json
        );
    }
    assert_eq!(points(&t, &marie).await, start);
    assert_eq!(ledger_rows(&t, &marie).await, rows);
    // The refused key was not spent: the same key with a good body goes through.
    let ok = t
        .send(grant_request(
            &admin,
            Some("no-reason"),
            json!({"handle": "marie", "delta": 50, "reason": "Merci"}),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_automatic_badge_is_not_awarded_again_until_restored() {
    let (t, _) = setup().await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    let marie = t.member("marie").await;
    new_post(&t, &marie, "question", "Première ?").await;
    assert_eq!(badges_of(&t, "marie").await, ["first_question"]);
    let revoked = t
        .post(
            "/api/v1/admin/badges/revoke",
            Some(&manager),
            json!({"handle": "marie", "badge": "first_question", "reason": "Question copiée"}),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    new_post(&t, &marie, "question", "Deuxième ?").await;
    assert!(
        badges_of(&t, "marie").await.is_empty(),
        "the next question does not bring the revoked badge back"
    );
    let by_member = t
        .post(
            "/api/v1/admin/badges/restore",
            Some(&marie),
            json!({"handle": "marie", "badge": "first_question", "reason": "Erreur"}),
        )
        .await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
    let never_held = t
        .post(
            "/api/v1/admin/badges/restore",
            Some(&manager),
            json!({"handle": "marie", "badge": "hundred_likes", "reason": "Erreur"}),
        )
        .await;
    assert_eq!(never_held.status, StatusCode::NOT_FOUND);
    let restored = t
        .post(
            "/api/v1/admin/badges/restore",
            Some(&manager),
            json!({"handle": "marie", "badge": "first_question", "reason": "Révoqué par erreur"}),
        )
        .await;
    assert_eq!(restored.status, StatusCode::NO_CONTENT, "{}", restored.json);
    assert_eq!(badges_of(&t, "marie").await, ["first_question"]);
    let twice = t
        .post(
            "/api/v1/admin/badges/restore",
            Some(&manager),
            json!({"handle": "marie", "badge": "first_question", "reason": "Encore"}),
        )
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::CONFLICT, "badge_held")
    );
}

#[tokio::test]
async fn a_hundred_likes_earn_the_badge_and_ninety_nine_do_not() {
    let (t, _) = setup().await;
    let marie = t.member("marie").await;
    let qid = new_post(&t, &marie, "question", "Q ?").await;
    let aid = answer(&t, &marie, qid, "R").await;
    let path = format!("/api/v1/comments/{aid}/vote");
    // marie's own like counts for nothing, toward the badge too.
    vote(&t, &marie, &path, json!("like")).await;
    for i in 0..99 {
        let fan = t.member(&format!("fan{i}")).await;
        assert_eq!(vote(&t, &fan, &path, json!("like")).await, StatusCode::OK);
    }
    assert!(!badges_of(&t, "marie")
        .await
        .contains(&"hundred_likes".to_owned()));
    let last = t.member("fan99").await;
    vote(&t, &last, &path, json!("like")).await;
    assert!(badges_of(&t, "marie")
        .await
        .contains(&"hundred_likes".to_owned()));
}

#[tokio::test]
async fn ten_accepted_answers_earn_the_guide_badge_and_self_accepted_ones_do_not_count() {
    let (t, _) = setup().await;
    let marie = t.member("marie").await;
    let asker = t.member("asker").await;
    // Nine answers accepted by someone else, and one of her own questions self-accepted.
    for i in 0..9 {
        let qid = new_post(&t, &asker, "question", &format!("Q{i} ?")).await;
        let aid = answer(&t, &marie, qid, &format!("R{i}")).await;
        assert_eq!(accept(&t, &asker, qid, json!(aid)).await, StatusCode::OK);
    }
    let own = new_post(&t, &marie, "question", "À moi ?").await;
    let own_answer = answer(&t, &marie, own, "Moi").await;
    accept(&t, &marie, own, json!(own_answer)).await;
    assert!(!badges_of(&t, "marie")
        .await
        .contains(&"ten_accepted_answers".to_owned()));
    let qid = new_post(&t, &asker, "question", "Q9 ?").await;
    let aid = answer(&t, &marie, qid, "R9").await;
    accept(&t, &asker, qid, json!(aid)).await;
    let held = badges_of(&t, "marie").await;
    assert!(
        held.contains(&"ten_accepted_answers".to_owned()),
        "{held:?}"
    );
    assert!(held.contains(&"first_accepted_answer".to_owned()));
}

#[tokio::test]
async fn editing_others_posts_needs_the_privilege() {
    let (t, _) = setup_with(|s| s.engagement.privileges.edit_others_posts = 21).await;
    let author = t.member("author").await;
    let editor = t.member("editor").await;
    let fan = t.member("fan").await;
    let id = new_post(&t, &author, "note", "Texte").await;
    let edit = |token: String| {
        let t = &t;
        async move {
            t.request(
                Method::PATCH,
                &format!("/api/v1/posts/{id}"),
                Some(&token),
                Some(json!({"body": "Corrigé"})),
            )
            .await
        }
    };
    let refused = edit(editor.clone()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "insufficient_reputation")
    );
    // Two liked answers: 1 + 2 × 10 = 21.
    for i in 0..2 {
        let qid = new_post(&t, &fan, "question", &format!("Q{i} ?")).await;
        let aid = answer(&t, &editor, qid, &format!("R{i}")).await;
        vote(
            &t,
            &fan,
            &format!("/api/v1/comments/{aid}/vote"),
            json!("like"),
        )
        .await;
    }
    assert_eq!(reputation(&t, &editor).await, 21);
    assert_eq!(edit(editor.clone()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_hundred_concurrent_like_toggles_leave_ledgers_and_counters_consistent() {
    let (t, _) = setup().await;
    let marie = t.member("marie").await;
    let qid = new_post(&t, &marie, "question", "Q ?").await;
    let aid = answer(&t, &marie, qid, "R").await;
    let mut fans = Vec::new();
    for i in 0..10 {
        fans.push(t.member(&format!("fan{i}")).await);
    }
    // Each fan toggles ten times: like, withdraw, like, … all at once, in any order.
    let path = format!("/api/v1/comments/{aid}/vote");
    let toggles = (0..100).map(|i| {
        let (t, path) = (&t, &path);
        let fan = fans[i % 10].clone();
        let choice = if (i / 10) % 2 == 0 {
            json!("like")
        } else {
            Value::Null
        };
        async move { vote(t, &fan, path, choice).await }
    });
    for status in futures::future::join_all(toggles).await {
        assert_eq!(status, StatusCode::OK);
    }
    let detail = t.get(&format!("/api/v1/posts/{qid}"), None).await;
    let likes = detail.json["comments"][0]["likes"].as_i64().unwrap();
    // Whatever the order, marie holds exactly ten per live like and two points each.
    let (rep, pts) = standing(&t, &marie).await;
    assert_eq!(rep, 1 + 10 * likes, "reputation follows the live likes");
    assert_eq!(pts, 1 + 15 + 20 + 2 * likes, "points follow the live likes");
    let mut conn = t.db.pool.get().await.unwrap();
    let differences = cenacle_core::points::audit(&mut conn).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

/// Settings where any member may dislike and offer bounties (the gates are tested elsewhere).
fn ungated(s: &mut cenacle_config::Settings) {
    s.engagement.privileges.dislike = 0;
    s.engagement.privileges.offer_bounty = 0;
}

#[tokio::test]
async fn a_like_and_its_withdrawal_cancel_even_when_the_floor_clipped_dislikes() {
    let (t, _) = setup_with(ungated).await;
    let marie = t.member("marie").await;
    let fan = t.member("fan").await;
    let mut critics = Vec::new();
    for i in 0..3 {
        critics.push(t.member(&format!("critic{i}")).await);
    }
    let qid = new_post(&t, &marie, "question", "Q ?").await;
    let path = format!("/api/v1/posts/{qid}/vote");
    let start = reputation(&t, &marie).await;
    assert_eq!(vote(&t, &fan, &path, json!("like")).await, StatusCode::OK);
    // Three dislikes cost 6, more than the like's 5 above the floor: the floor shows 1.
    for critic in &critics {
        assert_eq!(
            vote(&t, critic, &path, json!("dislike")).await,
            StatusCode::OK
        );
    }
    assert_eq!(reputation(&t, &marie).await, 1, "shown at the floor");
    assert_eq!(vote(&t, &fan, &path, Value::Null).await, StatusCode::OK);
    assert_eq!(reputation(&t, &marie).await, 1, "still at the floor");
    for critic in &critics {
        assert_eq!(vote(&t, critic, &path, Value::Null).await, StatusCode::OK);
    }
    assert_eq!(
        reputation(&t, &marie).await,
        start,
        "every cause withdrawn: back where she started"
    );
    let mut conn = t.db.pool.get().await.unwrap();
    let differences = cenacle_core::points::audit(&mut conn).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

#[tokio::test]
async fn points_spent_before_their_cause_goes_are_owed_and_repaid_by_later_earnings() {
    let (t, admin) = setup_with(ungated).await;
    let marie = t.member("marie").await;
    let q1 = new_post(&t, &marie, "question", "Farmed ?").await;
    let q2 = new_post(&t, &marie, "question", "Spent on ?").await;
    let q3 = new_post(&t, &marie, "question", "Later ?").await;
    // Everything she holds goes into a bounty.
    let all = points(&t, &marie).await;
    let r = t
        .post(
            &format!("/api/v1/posts/{q2}/bounty"),
            Some(&marie),
            json!({"amount": all}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(points(&t, &marie).await, 0);
    // The farmed question goes: its 15 points are taken back in full, as a debt.
    assert_eq!(
        delete(&t, &marie, &format!("/api/v1/posts/{q1}")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(points(&t, &marie).await, -15, "the reversal is exact");
    // In debt, nothing can be spent: refused, nothing written…
    let rows = ledger_rows(&t, &marie).await;
    let r = t
        .post(
            &format!("/api/v1/posts/{q3}/bounty"),
            Some(&marie),
            json!({"amount": 10}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(r.json["error"]["code"], "insufficient_points");
    assert_eq!(points(&t, &marie).await, -15);
    assert_eq!(ledger_rows(&t, &marie).await, rows);
    // …a new post pays the debt first, and what is left cannot be spent beyond it…
    let q4 = new_post(&t, &marie, "question", "Again ?").await;
    assert_eq!(
        points(&t, &marie).await,
        0,
        "a new post pays the debt first"
    );
    let r = t
        .post(
            &format!("/api/v1/posts/{q4}/bounty"),
            Some(&marie),
            json!({"amount": 10}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(r.json["error"]["code"], "insufficient_points");
    // …and later earnings count from the debt.
    grant(&t, &admin, "marie", 12).await;
    assert_eq!(points(&t, &marie).await, 12);
    let mut conn = t.db.pool.get().await.unwrap();
    let differences = cenacle_core::points::audit(&mut conn).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

/// What a piece of content's ledger rows add up to: (reputation, points), every reward it
/// earned and every reversal.
async fn content_ledger_sums(t: &TestApp, post_id: i64) -> (i64, i64) {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Sums {
        #[diesel(sql_type = BigInt)]
        reputation: i64,
        #[diesel(sql_type = BigInt)]
        points: i64,
    }
    let mut conn = t.db.pool.get().await.unwrap();
    let sums: Sums = diesel::sql_query(
        "SELECT COALESCE((SELECT SUM(delta) FROM reputation_event WHERE post_id = $1), 0)::bigint \
                  AS reputation, \
                COALESCE((SELECT SUM(delta) FROM points_ledger WHERE post_id = $1), 0)::bigint \
                  AS points",
    )
    .bind::<BigInt, _>(post_id)
    .get_result(&mut conn)
    .await
    .unwrap();
    (sums.reputation, sums.points)
}

async fn assert_books_balance(t: &TestApp) {
    let mut conn = t.db.pool.get().await.unwrap();
    let differences = cenacle_core::points::audit(&mut conn).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

#[tokio::test]
async fn votes_switched_while_others_like_never_fail_and_count_exactly() {
    let (t, _) = setup_with(|s| {
        ungated(s);
        // Whatever order the likes land in, every one counts in full.
        s.engagement.reputation.daily_like_cap = 1_000_000;
    })
    .await;
    let marie = t.member("marie").await;
    let qid = new_post(&t, &marie, "question", "Q ?").await;
    let aid = answer(&t, &marie, qid, "R").await;
    let mut fans = Vec::new();
    for i in 0..16 {
        fans.push(t.member(&format!("fan{i}")).await);
    }
    let start = standing(&t, &marie).await;
    // Rounds of votes cast all at once on the question and its answer: each fan's vote in each
    // round, the even ones switching between like and dislike, the odd ones liking and
    // withdrawing.
    let rounds: [[Value; 2]; 4] = [
        [json!("like"), json!("like")],
        [json!("dislike"), Value::Null],
        [json!("like"), json!("like")],
        [json!("dislike"), json!("like")],
    ];
    for round in &rounds {
        let votes = fans.iter().enumerate().flat_map(|(i, fan)| {
            let choice = round[i % 2].clone();
            [
                format!("/api/v1/posts/{qid}/vote"),
                format!("/api/v1/comments/{aid}/vote"),
            ]
            .map(|path| {
                let (t, fan, choice) = (&t, fan.clone(), choice.clone());
                async move {
                    t.request(
                        Method::PUT,
                        &path,
                        Some(&fan),
                        Some(json!({"vote": choice})),
                    )
                    .await
                }
            })
        });
        for reply in futures::future::join_all(votes).await {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        }
    }
    // Eight dislikes and eight likes on each.
    let detail = t.get(&format!("/api/v1/posts/{qid}"), None).await;
    assert_eq!(detail.json["post"]["likes"], 8, "{}", detail.json);
    assert_eq!(detail.json["post"]["dislikes"], 8);
    assert_eq!(detail.json["comments"][0]["likes"], 8);
    assert_eq!(detail.json["comments"][0]["dislikes"], 8);
    let (rep, pts) = standing(&t, &marie).await;
    assert_eq!(rep, start.0 + 8 * (5 + 10) - 8 * (2 + 2));
    assert_eq!(pts, start.1 + 8 * (2 + 2));
    // An even fan: one dislike of an answer (-1); an odd one: two likes given (+2).
    assert_eq!(reputation(&t, &fans[0]).await, 1, "floored from 0");
    assert_eq!(points(&t, &fans[1]).await, 1 + 2);
    assert_books_balance(&t).await;
}

#[tokio::test]
async fn likes_racing_the_deletion_of_their_post_leave_nothing_behind() {
    let (t, _) = setup().await;
    let marie = t.member("marie").await;
    let mut fans = Vec::new();
    for i in 0..12 {
        fans.push(t.member(&format!("fan{i}")).await);
    }
    let start = standing(&t, &marie).await;
    for round in 0..4 {
        let qid = new_post(&t, &marie, "question", &format!("Q {round} ?")).await;
        let aid = answer(&t, &fans[0], qid, &format!("R {round}")).await;
        let likes = fans.iter().enumerate().map(|(i, fan)| {
            let path = if i % 2 == 0 {
                format!("/api/v1/posts/{qid}/vote")
            } else {
                format!("/api/v1/comments/{aid}/vote")
            };
            let (t, fan) = (&t, fan.clone());
            async move { vote(t, &fan, &path, json!("like")).await }
        });
        let post_path = format!("/api/v1/posts/{qid}");
        let deletion = delete(&t, &marie, &post_path);
        let (statuses, deleted) = tokio::join!(futures::future::join_all(likes), deletion);
        assert_eq!(deleted, StatusCode::NO_CONTENT);
        for status in statuses {
            // Before the deletion or refused after it: never a failure.
            assert!(
                status == StatusCode::OK || status == StatusCode::NOT_FOUND,
                "{status}"
            );
        }
        assert_eq!(
            content_ledger_sums(&t, qid).await,
            (0, 0),
            "round {round}: everything earned from the deleted thread was taken back"
        );
    }
    assert_eq!(standing(&t, &marie).await, start);
    assert_books_balance(&t).await;
}

#[tokio::test]
async fn switching_a_vote_while_ones_own_answer_is_liked_never_deadlocks() {
    let (t, _) = setup_with(|s| {
        ungated(s);
        s.engagement.reputation.daily_like_cap = 1_000_000;
        s.engagement.points.daily_content_cap = 1_000_000;
    })
    .await;
    let marie = t.member("marie").await;
    let ann = t.member("ann").await;
    let qid = new_post(&t, &marie, "question", "Q ?").await;
    let target = answer(&t, &ann, qid, "La réponse d'Ann").await;
    let mut switchers = Vec::new();
    for i in 0..6 {
        let token = t.member(&format!("switcher{i}")).await;
        let own = answer(&t, &token, qid, &format!("Réponse {i}")).await;
        switchers.push((token, own));
    }
    let mut fans = Vec::new();
    for i in 0..6 {
        fans.push(t.member(&format!("fan{i}")).await);
    }
    let target_path = format!("/api/v1/comments/{target}/vote");
    for (token, _) in &switchers {
        assert_eq!(
            vote(&t, token, &target_path, json!("like")).await,
            StatusCode::OK
        );
    }
    // Each switcher's switch (taking back a like's points, then the dislike's cost to their
    // own reputation) races likes of their own answer (their reputation, then their points).
    for round in 0..4 {
        let (switch, fan_vote) = if round % 2 == 0 {
            (json!("dislike"), json!("like"))
        } else {
            (json!("like"), Value::Null)
        };
        let switches = switchers.iter().map(|(token, _)| {
            let (t, path, choice) = (&t, &target_path, switch.clone());
            async move {
                t.request(
                    Method::PUT,
                    path,
                    Some(token),
                    Some(json!({"vote": choice})),
                )
                .await
            }
        });
        let (t_ref, fans_ref, fan_vote_ref) = (&t, &fans, &fan_vote);
        let likes = switchers.iter().flat_map(|(_, own)| {
            fans_ref.iter().map(move |fan| {
                let (t, choice) = (t_ref, fan_vote_ref.clone());
                let path = format!("/api/v1/comments/{own}/vote");
                async move {
                    t.request(Method::PUT, &path, Some(fan), Some(json!({"vote": choice})))
                        .await
                }
            })
        });
        let (switched, liked) = tokio::join!(
            futures::future::join_all(switches),
            futures::future::join_all(likes)
        );
        for reply in switched.iter().chain(&liked) {
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "round {round}: {}",
                reply.json
            );
        }
    }
    // Last round: every switcher likes Ann's answer, no fan likes theirs.
    let detail = t.get(&format!("/api/v1/posts/{qid}"), None).await;
    for comment in detail.json["comments"].as_array().unwrap() {
        let expected = if comment["id"] == target { 6 } else { 0 };
        assert_eq!(comment["likes"], expected, "{comment}");
        assert_eq!(comment["dislikes"], 0, "{comment}");
    }
    assert_books_balance(&t).await;
}
