//! Bans reach every path that writes in a group (issue 13, moderation across groups): a
//! person banned from a group rates nothing there, and a moderator does not publish a held
//! post of an author banned since (from the group or the instance), nor one a ban with
//! removal took down, which its author sees removed and a moderator may still reject. (The
//! champions' move is in `champions_programme.rs`.) Nor does a banned person come back in: a
//! ban puts them out of the group, and they neither join it again, ask to, use an
//! invitation, nor report anything in it, and no moderator lets them in while it lasts.

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
    club_of(t, "public").await
}

/// The group `club` with `visibility`, owned by a community manager; the manager's token.
async fn club_of(t: &TestApp, visibility: &str) -> String {
    let owner = t.with_role("gerante", Role::CommunityManager).await;
    let reply = t
        .post(
            "/api/v1/groups",
            Some(&owner),
            json!({"name": "club", "title": "Club", "visibility": visibility}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    owner
}

/// `token` joins the club (or asks to, or uses their invitation).
async fn join(t: &TestApp, token: &str) -> Reply {
    t.request(Method::POST, "/api/v1/groups/club/join", Some(token), None)
        .await
}

/// The handles of the club's members, as `viewer` (a member) sees them.
async fn members(t: &TestApp, viewer: &str) -> Vec<String> {
    let reply = t.get("/api/v1/groups/club/members", Some(viewer)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["handle"].as_str().unwrap().to_owned())
        .collect()
}

/// The club's pending requests to join: (person id, handle), as its owner sees them.
async fn join_requests(t: &TestApp, owner: &str) -> Vec<(i64, String)> {
    let reply = t
        .get("/api/v1/groups/club/join-requests", Some(owner))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["person_id"].as_i64().unwrap(),
                r["handle"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The owner approves the pending request of `person_id`.
async fn approve_request(t: &TestApp, owner: &str, person_id: i64) -> Reply {
    t.request(
        Method::PUT,
        &format!("/api/v1/groups/club/join-requests/{person_id}"),
        Some(owner),
        Some(json!({"approve": true})),
    )
    .await
}

/// The owner invites `handle` to the club.
async fn invite(t: &TestApp, owner: &str, handle: &str) -> Reply {
    t.post(
        "/api/v1/groups/club/invitations",
        Some(owner),
        json!({"handle": handle}),
    )
    .await
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

/// marie, a member of the public club, banned from it: the ban puts her out (as Lemmy's ban
/// unsubscribes from the community), she cannot join again, and she reports nothing in the
/// club — a post there, or a person there — while a report about a person to the instance's
/// moderators still goes. Once the ban is lifted she joins again.
#[tokio::test]
async fn a_person_banned_from_a_group_is_put_out_and_neither_joins_nor_reports_in_it() {
    let t = TestApp::new().await;
    let owner = club(&t).await;
    let bob = t.member("bob").await;
    let marie = t.member("marie").await;
    let bobs = post(&t, &bob, "question", "De bob").await;
    assert_eq!(join(&t, &marie).await.json["status"], "member");
    let is_member = |token: String| {
        let t = &t;
        async move { members(t, &token).await.contains(&"marie".to_owned()) }
    };
    assert!(is_member(owner.clone()).await);

    group_ban(&t, &owner, "marie", Some(json!({"reason": "spam"}))).await;
    assert!(!is_member(owner.clone()).await, "the ban left her a member");
    refused(
        &join(&t, &marie).await,
        StatusCode::FORBIDDEN,
        "banned_from_group",
    );
    assert!(
        !is_member(owner.clone()).await,
        "the refused join let her in"
    );
    let report = |body: Value| t.post("/api/v1/reports", Some(&marie), body);
    refused(
        &report(json!({"post_id": bobs["id"], "reason": "spam"})).await,
        StatusCode::FORBIDDEN,
        "banned_from_group",
    );
    refused(
        &report(json!({"person": "bob", "group": "club", "reason": "spam"})).await,
        StatusCode::FORBIDDEN,
        "banned_from_group",
    );
    assert_eq!(t.count("SELECT count(*) AS n FROM report").await, 0);
    // Outside the group, to the instance's moderators: still heard.
    let reply = report(json!({"person": "bob", "reason": "harassment"})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);

    group_ban(&t, &owner, "marie", None).await;
    assert_eq!(join(&t, &marie).await.json["status"], "member");
    assert!(is_member(owner.clone()).await);
}

/// In a private club, nobody lets a banned person in: marie's request, pending when she is
/// banned, cannot be approved (`person_banned`: the moderator learns why) and leaves the queue
/// with the ban; she cannot ask again. paul's invitation, made before his ban, is not
/// honoured, and no new one is made while the ban lasts. Once the bans are lifted, the way
/// in is the ordinary one again: a request to approve, an invitation to make anew (the ban
/// took the old one).
#[tokio::test]
async fn a_banned_person_is_let_into_a_private_group_by_no_request_or_invitation() {
    let t = TestApp::new().await;
    let owner = club_of(&t, "private").await;
    let marie = t.member("marie").await;
    let paul = t.member("paul").await;
    let invitations = || t.count("SELECT count(*) AS n FROM group_invitation");

    assert_eq!(join(&t, &marie).await.json["status"], "requested");
    let [(marie_id, _)] = &join_requests(&t, &owner).await[..] else {
        panic!("marie's request is not pending");
    };
    let marie_id = *marie_id;
    group_ban(&t, &owner, "marie", Some(json!({"reason": "spam"}))).await;
    refused(
        &approve_request(&t, &owner, marie_id).await,
        StatusCode::CONFLICT,
        "person_banned",
    );
    assert!(
        join_requests(&t, &owner).await.is_empty(),
        "the ban left her request pending"
    );
    refused(
        &join(&t, &marie).await,
        StatusCode::FORBIDDEN,
        "banned_from_group",
    );
    assert!(
        join_requests(&t, &owner).await.is_empty(),
        "her refused request is pending"
    );

    assert_eq!(
        invite(&t, &owner, "paul").await.status,
        StatusCode::NO_CONTENT
    );
    group_ban(&t, &owner, "paul", Some(json!({"reason": "spam"}))).await;
    assert_eq!(invitations().await, 0, "the ban left his invitation");
    refused(
        &join(&t, &paul).await,
        StatusCode::FORBIDDEN,
        "banned_from_group",
    );
    refused(
        &invite(&t, &owner, "paul").await,
        StatusCode::CONFLICT,
        "person_banned",
    );
    assert_eq!(invitations().await, 0);
    assert_eq!(
        members(&t, &owner).await,
        ["gerante"],
        "a banned person got in"
    );

    group_ban(&t, &owner, "marie", None).await;
    assert_eq!(join(&t, &marie).await.json["status"], "requested");
    assert_eq!(
        approve_request(&t, &owner, marie_id).await.status,
        StatusCode::NO_CONTENT
    );
    group_ban(&t, &owner, "paul", None).await;
    assert_eq!(
        invite(&t, &owner, "paul").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(join(&t, &paul).await.json["status"], "member");
    let mut inside = members(&t, &owner).await;
    inside.sort();
    assert_eq!(inside, ["gerante", "marie", "paul"]);
}

/// The migration 2026-12-04-003143: people under a ban in force written before a ban put them
/// out are put out as a ban now would (membership, pending request, invitation); nobody else
/// is: a lifted ban's person and an expired one's keep what they hold.
#[tokio::test]
async fn bans_written_before_they_put_people_out_put_them_out_once_migrated() {
    use diesel_async::SimpleAsyncConnection;
    let t = TestApp::new().await;
    let owner = club_of(&t, "private").await;
    for name in ["marie", "paul", "lea"] {
        t.member(name).await;
        group_ban(&t, &owner, name, Some(json!({"reason": "spam"}))).await;
    }
    group_ban(&t, &owner, "paul", None).await;
    let people = |names: &str| {
        format!(
            "SELECT g.id, p.id FROM community_group g, person p \
             WHERE g.name = 'club' AND p.username IN ({names})"
        )
    };
    // As a ban written before left them: members, marie with her request and invitation
    // too; lea's ban expired since.
    t.sql(
        "UPDATE group_ban SET expires_at = now() - interval '1 day' \
         WHERE person_id = (SELECT id FROM person WHERE username = 'lea')",
    )
    .await;
    for statement in [
        "INSERT INTO group_membership (group_id, person_id, role) SELECT g.id, p.id, 'member' \
         FROM community_group g, person p \
         WHERE g.name = 'club' AND p.username IN ('marie', 'paul', 'lea')"
            .to_owned(),
        format!(
            "INSERT INTO group_join_request (group_id, person_id) {}",
            people("'marie', 'paul'")
        ),
        format!(
            "INSERT INTO group_invitation (group_id, person_id) {}",
            people("'marie', 'lea'")
        ),
    ] {
        t.sql(&statement).await;
    }

    let mut conn = t.db.pool.get().await.unwrap();
    conn.batch_execute(&format!(
        "BEGIN; {} COMMIT;",
        include_str!("../../../migrations/2026-12-04-003143_bans_put_people_out/up.sql")
    ))
    .await
    .unwrap();
    drop(conn);

    let mut inside = members(&t, &owner).await;
    inside.sort();
    assert_eq!(
        inside,
        ["gerante", "lea", "paul"],
        "marie is still a member"
    );
    let requests: Vec<String> = join_requests(&t, &owner)
        .await
        .into_iter()
        .map(|(_, handle)| handle)
        .collect();
    assert_eq!(requests, ["paul"]);
    let invited = "SELECT count(*) AS n FROM group_invitation i JOIN person p \
                   ON p.id = i.person_id AND p.username = $1";
    assert_eq!(t.count_with(invited, &["marie"]).await, 0);
    assert_eq!(t.count_with(invited, &["lea"]).await, 1);
}

/// No role lets a banned person back in: the owner putting marie, banned from the club, back
/// as a member or naming her moderator is refused (`person_banned`), and she stays out; the
/// moderator list does not change. Once the ban is lifted, the owner names her.
#[tokio::test]
async fn a_banned_person_is_given_no_role_in_the_group() {
    let t = TestApp::new().await;
    let owner = club(&t).await;
    let marie = t.member("marie").await;
    assert_eq!(join(&t, &marie).await.json["status"], "member");
    group_ban(&t, &owner, "marie", Some(json!({"reason": "spam"}))).await;
    let set_role = |role: &'static str| {
        t.request(
            Method::PUT,
            "/api/v1/groups/club/members/marie",
            Some(&owner),
            Some(json!({ "role": role })),
        )
    };
    let moderators_added =
        || t.count("SELECT count(*) AS n FROM outbox_event WHERE kind = 'group_moderator_added'");

    for role in ["member", "moderator"] {
        refused(&set_role(role).await, StatusCode::CONFLICT, "person_banned");
        assert_eq!(
            members(&t, &owner).await,
            ["gerante"],
            "made {role}, a banned person got in"
        );
    }
    assert_eq!(moderators_added().await, 0);

    group_ban(&t, &owner, "marie", None).await;
    assert_eq!(set_role("moderator").await.status, StatusCode::NO_CONTENT);
    let mut inside = members(&t, &owner).await;
    inside.sort();
    assert_eq!(inside, ["gerante", "marie"]);
    assert_eq!(moderators_added().await, 1);
}

/// A ban closes the way in and up, not the way down: marie, a moderator of the club, banned
/// from the instance since, is put back to a plain member by the owner (who must be able to
/// take a banned moderator's powers away), and the moderator list says so; naming her
/// moderator again is refused (`person_banned`) while the ban lasts, as is giving paul,
/// banned from the instance and not in the club, any role in it.
#[tokio::test]
async fn a_moderator_banned_from_the_instance_is_demoted_but_not_raised_again() {
    let t = TestApp::new().await;
    let owner = club(&t).await;
    let marie = t.member("marie").await;
    t.member("paul").await;
    assert_eq!(join(&t, &marie).await.json["status"], "member");
    let set_role = |who: &'static str, role: &'static str| {
        let (t, owner) = (&t, &owner);
        async move {
            t.request(
                Method::PUT,
                &format!("/api/v1/groups/club/members/{who}"),
                Some(owner),
                Some(json!({ "role": role })),
            )
            .await
        }
    };
    let roles = || async {
        let reply = t.get("/api/v1/groups/club/members", Some(&owner)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        let mut roles: Vec<(String, String)> = reply
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let text = |key: &str| m[key].as_str().unwrap().to_owned();
                (text("handle"), text("role"))
            })
            .collect();
        roles.sort();
        roles
    };
    let removed =
        || t.count("SELECT count(*) AS n FROM outbox_event WHERE kind = 'group_moderator_removed'");
    assert_eq!(
        set_role("marie", "moderator").await.status,
        StatusCode::NO_CONTENT
    );
    for person in ["marie", "paul"] {
        let reply = t
            .post(
                "/api/v1/admin/bans",
                Some(&owner),
                json!({"person": person, "reason": "spam"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    }

    let reply = set_role("marie", "member").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.json);
    let expected = |marie: &str| {
        vec![
            ("gerante".to_owned(), "owner".to_owned()),
            ("marie".to_owned(), marie.to_owned()),
        ]
    };
    assert_eq!(
        roles().await,
        expected("member"),
        "marie is still moderator"
    );
    assert_eq!(removed().await, 1, "her removal from the moderators left");

    for role in ["moderator", "owner"] {
        refused(
            &set_role("marie", role).await,
            StatusCode::CONFLICT,
            "person_banned",
        );
        refused(
            &set_role("paul", role).await,
            StatusCode::CONFLICT,
            "person_banned",
        );
    }
    refused(
        &set_role("paul", "member").await,
        StatusCode::CONFLICT,
        "person_banned",
    );
    assert_eq!(
        roles().await,
        expected("member"),
        "a banned person was raised"
    );
}
