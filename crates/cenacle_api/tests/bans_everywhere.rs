//! Bans reach every path that writes in a group (issue 13, moderation across groups): a
//! person banned from a group rates nothing there, and a moderator does not publish a held
//! post of an author banned since (from the group or the instance), nor one a ban with
//! removal took down, which its author sees removed and a moderator may still reject. (The
//! champions' move is in `champions_programme.rs`.)

mod common;

use axum::http::{Method, StatusCode};
use cenacle_domain::Role;
use common::{engagement::points, Reply, TestApp};
use serde_json::{json, Value};

fn refused(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(
        (reply.status, reply.code()),
        (status, code),
        "{}",
        reply.json
    );
    assert!(
        !reply.json["error"]["message"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "a message comes with {code}"
    );
}

/// A public group `club` owned by a community manager; the manager's token.
async fn club(t: &TestApp) -> String {
    let owner = t.with_role("gerante", Role::CommunityManager).await;
    let reply = t
        .post(
            "/api/v1/groups",
            Some(&owner),
            json!({"name": "club", "title": "Club"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    owner
}

async fn post(t: &TestApp, token: &str, kind: &str, title: &str) -> Value {
    let reply = t
        .post(
            "/api/v1/groups/club/posts",
            Some(token),
            json!({"kind": kind, "title": title, "body": "texte"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["post"].clone()
}

/// The owner bans `person` from the club (`body`: the ban's terms), or lifts the ban (None).
async fn group_ban(t: &TestApp, owner: &str, person: &str, body: Option<Value>) {
    let method = if body.is_some() {
        Method::PUT
    } else {
        Method::DELETE
    };
    let reply = t
        .request(
            method,
            &format!("/api/v1/groups/club/bans/{person}"),
            Some(owner),
            body,
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.json);
}

#[tokio::test]
async fn a_person_banned_from_a_group_rates_nothing_there() {
    let t = TestApp::new().await;
    let owner = club(&t).await;
    let bob = t.member("bob").await;
    let marie = t.member("marie").await;
    let idea = post(&t, &bob, "idea", "Une idée").await;
    let path = format!("/api/v1/posts/{}/rating", idea["id"]);
    let rate = |stars: Value| {
        t.request(
            Method::PUT,
            &path,
            Some(&marie),
            Some(json!({"stars": stars})),
        )
    };

    assert_eq!(
        rate(json!(4)).await.json,
        json!({"average": 4.0, "count": 1})
    );
    group_ban(&t, &owner, "marie", Some(json!({"reason": "spam"}))).await;
    refused(
        &rate(json!(1)).await,
        StatusCode::FORBIDDEN,
        "banned_from_group",
    );
    let seen = t.get(&format!("/api/v1/posts/{}", idea["id"]), None).await;
    assert_eq!(
        (
            seen.json["post"]["rating_average"].as_f64(),
            seen.json["post"]["rating_count"].as_i64()
        ),
        (Some(4.0), Some(1)),
        "the refused rating changed nothing"
    );
    // Withdrawing stays possible, as for a vote.
    assert_eq!(
        rate(Value::Null).await.json,
        json!({"average": 0.0, "count": 0})
    );
    // Lifted: she rates again.
    group_ban(&t, &owner, "marie", None).await;
    assert_eq!(
        rate(json!(2)).await.json,
        json!({"average": 2.0, "count": 1})
    );
}

#[tokio::test]
async fn a_held_post_of_an_author_banned_since_is_not_published() {
    let t = TestApp::new().await;
    let owner = club(&t).await;
    let reply = t
        .request(
            Method::PUT,
            "/api/v1/groups/club/approval",
            Some(&owner),
            Some(json!({"enabled": true, "first_posts": 1})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let marie = t.member("marie").await;
    let paul = t.member("paul").await;
    let lea = t.member("lea").await;
    let approve = |id: i64| {
        let (t, owner) = (&t, &owner);
        async move {
            t.request(
                Method::POST,
                &format!("/api/v1/posts/{id}/approve"),
                Some(owner),
                None,
            )
            .await
        }
    };
    let pending = || async {
        let reply = t.get("/api/v1/groups/club/pending", Some(&owner)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        reply.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let published = || async {
        let reply = t.get("/api/v1/groups/club/posts", None).await;
        reply.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let approved_events =
        || t.count("SELECT count(*) AS n FROM outbox_event WHERE kind = 'post_approved'");
    let paul_points = points(&t, &paul).await;

    // marie, banned from the group (her held post left in the queue): refused, still held;
    // once the ban is lifted, approved.
    let held = post(&t, &marie, "question", "De marie").await;
    assert_eq!(held["approval"], "pending");
    let marie_post = held["id"].as_i64().unwrap();
    group_ban(&t, &owner, "marie", Some(json!({"reason": "spam"}))).await;
    refused(
        &approve(marie_post).await,
        StatusCode::CONFLICT,
        "author_banned",
    );
    let seen = t
        .get(&format!("/api/v1/posts/{marie_post}"), Some(&owner))
        .await;
    assert_eq!(seen.json["post"]["approval"], "pending", "{}", seen.json);
    assert_eq!(pending().await, ["De marie"]);
    assert_eq!(approved_events().await, 0);
    group_ban(&t, &owner, "marie", None).await;
    assert_eq!(approve(marie_post).await.status, StatusCode::OK);
    assert_eq!(published().await, ["De marie"]);

    // paul, banned with removal: his held post is taken down with the rest, leaves the
    // queue, and is never published, whether the ban is in force or lifted since.
    let held = post(&t, &paul, "question", "De paul").await;
    let paul_post = held["id"].as_i64().unwrap();
    group_ban(
        &t,
        &owner,
        "paul",
        Some(json!({"reason": "spam", "remove_data": true})),
    )
    .await;
    assert!(pending().await.is_empty(), "{:?}", pending().await);
    refused(
        &approve(paul_post).await,
        StatusCode::CONFLICT,
        "author_banned",
    );
    group_ban(&t, &owner, "paul", None).await;
    let reply = approve(paul_post).await;
    refused(&reply, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(reply.json["error"]["details"]["action"], "post_removed");
    assert_eq!(published().await, ["De marie"]);
    assert_eq!(points(&t, &paul).await, paul_points, "nothing paid");
    assert_eq!(approved_events().await, 1, "only marie's post federates");
    // paul sees his post removed, not waiting for a decision that no queue asks for.
    let seen = || async {
        let reply = t
            .get(&format!("/api/v1/posts/{paul_post}"), Some(&paul))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        reply.json["post"].clone()
    };
    let his = seen().await;
    assert_eq!(his["approval"], Value::Null, "{his}");
    assert_eq!(his["removal"]["reason"], "spam", "{his}");
    // A moderator may still reject it: paul is then told it was rejected, and why.
    let reply = t
        .post(
            &format!("/api/v1/posts/{paul_post}/reject"),
            Some(&owner),
            json!({"reason": "Hors sujet"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let his = seen().await;
    assert_eq!(
        (&his["approval"], &his["approval_reason"]),
        (&json!("rejected"), &json!("Hors sujet")),
        "{his}"
    );
    assert_eq!(published().await, ["De marie"]);

    // lea, banned from the instance (her content left up): refused too.
    let held = post(&t, &lea, "question", "De lea").await;
    let lea_post = held["id"].as_i64().unwrap();
    let reply = t
        .post(
            "/api/v1/admin/bans",
            Some(&owner),
            json!({"person": "lea", "reason": "spam"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    refused(
        &approve(lea_post).await,
        StatusCode::CONFLICT,
        "author_banned",
    );
    assert_eq!(pending().await, ["De lea"]);
    assert_eq!(published().await, ["De marie"]);
    assert_eq!(approved_events().await, 1);
}
