//! Reports and bans through the API, on one instance: the reasons a group offers (defaults,
//! replaced by its moderators), who may file, see and close reports, and bans — refused with
//! clear codes for bad input, enforced on posts and comments, ending by themselves when they
//! expire (read at use time).

mod common;

use axum::http::{Method, StatusCode};
use cenacle_domain::Role;
use common::TestApp;
use diesel_async::RunQueryDsl;
use serde_json::json;

async fn sql(t: &TestApp, statement: &str) {
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query(statement)
        .execute(&mut conn)
        .await
        .unwrap();
}

/// A group `club` owned by a community manager, with a post by `bob` (a member); returns
/// (owner, bob, post id).
async fn club(t: &TestApp) -> (String, String, i64) {
    let owner = t.with_role("gerante", Role::CommunityManager).await;
    let reply = t
        .post(
            "/api/v1/groups",
            Some(&owner),
            json!({"name": "club", "title": "Club"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let bob = t.member("bob").await;
    let post = post(t, &bob, "Première").await;
    assert_eq!(post.0, StatusCode::CREATED);
    (owner, bob, post.1)
}

async fn post(t: &TestApp, token: &str, title: &str) -> (StatusCode, i64, String) {
    let reply = t
        .post(
            "/api/v1/groups/club/posts",
            Some(token),
            json!({"kind": "note", "title": title, "body": "texte"}),
        )
        .await;
    let id = reply.json["post"]["id"].as_i64().unwrap_or_default();
    (reply.status, id, reply.code().to_owned())
}

#[tokio::test]
async fn reasons_are_the_groups_own_and_reports_reach_its_moderators_only() {
    let t = TestApp::new().await;
    let (owner, bob, post_id) = club(&t).await;
    let alice = t.member("alice").await;

    // The defaults, in both languages.
    let reasons = t.get("/api/v1/groups/club/report-reasons", None).await;
    assert_eq!(reasons.status, StatusCode::OK);
    let codes: Vec<&str> = reasons
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["spam", "harassment", "off_topic", "illegal", "other"]
    );
    assert_eq!(reasons.json[0]["label_fr"], "Spam ou publicité");

    // Only moderators change them; then only the new codes are accepted.
    let list = json!({"reasons": [{"code": "hors_charte", "label": "Hors charte"}]});
    let reply = t
        .request(
            Method::PUT,
            "/api/v1/groups/club/report-reasons",
            Some(&alice),
            Some(list.clone()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let bad = json!({"reasons": [{"code": "Pas Bon", "label": "x"}]});
    let reply = t
        .request(
            Method::PUT,
            "/api/v1/groups/club/report-reasons",
            Some(&owner),
            Some(bad),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    let reply = t
        .request(
            Method::PUT,
            "/api/v1/groups/club/report-reasons",
            Some(&owner),
            Some(list),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);

    let report =
        |reason: &'static str| json!({"post_id": post_id, "reason": reason, "text": "pas ici"});
    let reply = t
        .post("/api/v1/reports", Some(&alice), report("spam"))
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_report_reason")
    );
    let reply = t
        .post(
            "/api/v1/reports",
            Some(&alice),
            json!({"reason": "hors_charte"}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a report names what it reports"
    );
    let reply = t
        .post("/api/v1/reports", Some(&alice), report("hors_charte"))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let id = reply.json["id"].as_i64().unwrap();
    assert_eq!(reply.json["person"], "bob");

    // The queue is the moderators'; the reporter follows their own reports.
    assert_eq!(
        t.get("/api/v1/groups/club/reports", Some(&bob))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.get("/api/v1/reports", Some(&bob)).await.status,
        StatusCode::FORBIDDEN
    );
    let queue = t.get("/api/v1/groups/club/reports", Some(&owner)).await;
    assert_eq!(queue.json["items"][0]["id"], id);
    assert_eq!(queue.json["items"][0]["reporter"], "alice");
    let reply = t
        .post(
            &format!("/api/v1/reports/{id}/dismiss"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "a non-moderator is not told it exists"
    );
    let reply = t
        .post(
            &format!("/api/v1/reports/{id}/dismiss"),
            Some(&owner),
            json!({"note": "Rien à redire"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = t
        .post(
            &format!("/api/v1/reports/{id}/resolve"),
            Some(&owner),
            json!({}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "report_closed")
    );
    let mine = t.get("/api/v1/reports/mine", Some(&alice)).await;
    assert_eq!(mine.json["items"][0]["status"], "dismissed");
    assert_eq!(mine.json["items"][0]["resolution_note"], "Rien à redire");
    let dismissed = t
        .get("/api/v1/groups/club/reports?status=dismissed", Some(&owner))
        .await;
    assert_eq!(dismissed.json["items"].as_array().unwrap().len(), 1);

    // Resolved with an action: bob is banned from the group.
    let reply = t
        .post("/api/v1/reports", Some(&alice), report("hors_charte"))
        .await;
    let second = reply.json["id"].as_i64().unwrap();
    let reply = t
        .post(
            &format!("/api/v1/reports/{second}/resolve"),
            Some(&owner),
            json!({"note": "Banni", "ban": {"reason": "hors charte", "remove_data": true}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let (status, _, code) = post(&t, &bob, "Encore moi").await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "banned_from_group")
    );
    // Nor may a banned person vote in the group (nor edit there: see below).
    let (status, alices, _) = post(&t, &alice, "Question d'Alice").await;
    assert_eq!(status, StatusCode::CREATED);
    let reply = t
        .request(
            axum::http::Method::PUT,
            &format!("/api/v1/posts/{alices}/vote"),
            Some(&bob),
            Some(json!({"vote": "like"})),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "banned_from_group"),
        "{}",
        reply.json
    );
    assert_eq!(
        t.get(&format!("/api/v1/posts/{alices}"), Some(&alice))
            .await
            .json["post"]["likes"],
        0
    );
    let reply = t
        .request(
            axum::http::Method::PATCH,
            &format!("/api/v1/posts/{post_id}"),
            Some(&bob),
            Some(json!({"title": "Edited while banned"})),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "banned_from_group"),
        "{}",
        reply.json
    );

    // A person, for the instance's moderators.
    let reply = t
        .post(
            "/api/v1/reports",
            Some(&alice),
            json!({"person": "bob", "reason": "harassment"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let admin = t.with_role("admin", Role::Admin).await;
    let instance = t.get("/api/v1/reports", Some(&admin)).await;
    assert_eq!(instance.json["items"][0]["target_kind"], "person");
    // Dismissed: alice is told, naming bob (not a post).
    let id = &instance.json["items"][0]["id"];
    let reply = t
        .post(
            &format!("/api/v1/reports/{id}/dismiss"),
            Some(&admin),
            json!({"note": "Rien à redire"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let told = t.get("/api/v1/notifications", Some(&alice)).await;
    let told = &told.json["items"][0];
    assert_eq!(
        (&told["kind"], &told["detail"], &told["person"]),
        (&json!("moderation"), &json!("dismissed"), &json!("bob")),
        "{told}"
    );
    assert!(told["post_id"].is_null(), "{told}");
}

#[tokio::test]
async fn a_ban_refuses_posts_and_comments_until_it_is_lifted_or_expires() {
    let t = TestApp::new().await;
    let (owner, bob, post_id) = club(&t).await;
    let ban = |body| {
        t.request(
            Method::PUT,
            "/api/v1/groups/club/bans/bob",
            Some(&owner),
            Some(body),
        )
    };

    // Bad input: an expiry in the past; a moderator; a non-moderator banning.
    let reply = ban(json!({"expires_at": "2020-01-01T00:00:00Z"})).await;
    assert_eq!(
        (reply.status, reply.code()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "moderation_expiry_in_past"
        )
    );
    let reply = t
        .request(
            Method::PUT,
            "/api/v1/groups/club/bans/gerante",
            Some(&owner),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "cannot_ban_moderator")
    );
    let reply = t
        .request(
            Method::PUT,
            "/api/v1/groups/club/bans/gerante",
            Some(&bob),
            Some(json!({})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = t
        .request(
            Method::DELETE,
            "/api/v1/groups/club/bans/bob",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::CONFLICT, "not_banned")
    );

    // Banned, with their content removed.
    let reply = ban(json!({"reason": "spam", "remove_data": true})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    let listed = t.get("/api/v1/groups/club/bans", Some(&owner)).await;
    assert_eq!(listed.json[0]["person"], "bob");
    let (status, _, code) = post(&t, &bob, "Encore").await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "banned_from_group")
    );
    let reply = t
        .post(
            &format!("/api/v1/posts/{post_id}/comments"),
            Some(&bob),
            json!({"body": "Moi aussi"}),
        )
        .await;
    assert!(
        reply.code() == "banned_from_group" || reply.status == StatusCode::NOT_FOUND,
        "{}",
        reply.json
    );
    let log = t.get("/api/v1/groups/club/moderation-log", None).await;
    assert!(
        log.json.to_string().contains("ban_from_group"),
        "{}",
        log.json
    );

    // Lifted: bob posts again.
    let reply = t
        .request(
            Method::DELETE,
            "/api/v1/groups/club/bans/bob",
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(post(&t, &bob, "Pardon").await.0, StatusCode::CREATED);

    // A ban that has ended stops counting by itself (read when bob posts).
    let until = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    assert_eq!(
        ban(json!({"expires_at": until})).await.status,
        StatusCode::OK
    );
    assert_eq!(post(&t, &bob, "Bloqué").await.0, StatusCode::FORBIDDEN);
    sql(
        &t,
        "UPDATE group_ban SET expires_at = now() - interval '1 minute'",
    )
    .await;
    assert_eq!(post(&t, &bob, "Libre").await.0, StatusCode::CREATED);
}

/// Banning from a group, closing its reports and naming its moderators follow the one rule of
/// every moderation action (`moderation::authorize`): the group's owner and moderators and the
/// instance's staff (admins, community managers). A plain member and the instance's own
/// moderators (who moderate the instance, not its groups) are refused, and nothing changes.
#[tokio::test]
async fn no_path_lets_a_non_moderator_moderate_a_group() {
    let t = TestApp::new().await;
    let (owner, bob, post_id) = club(&t).await;
    let alice = t.member("alice").await;
    let watcher = t.with_role("veilleur", Role::Moderator).await;

    for who in [&alice, &watcher] {
        // A ban.
        let reply = t
            .request(
                Method::PUT,
                "/api/v1/groups/club/bans/bob",
                Some(who),
                Some(json!({"reason": "non", "remove_data": true})),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::FORBIDDEN, "not_a_moderator_of_group"),
            "{}",
            reply.json
        );
        // Naming a moderator.
        let reply = t
            .request(
                Method::PUT,
                "/api/v1/groups/club/members/alice",
                Some(who),
                Some(json!({"role": "moderator"})),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::FORBIDDEN, "not_a_moderator_of_group"),
            "{}",
            reply.json
        );
    }
    let bans = t.get("/api/v1/groups/club/bans", Some(&owner)).await;
    assert_eq!(bans.json.as_array().map(Vec::len), Some(0), "{}", bans.json);
    let (status, _, _) = post(&t, &bob, "Toujours là").await;
    assert_eq!(status, StatusCode::CREATED, "bob is not banned");
    assert_eq!(
        t.get(&format!("/api/v1/posts/{post_id}"), Some(&alice))
            .await
            .status,
        StatusCode::OK,
        "bob's post was not removed"
    );
    let members = t.get("/api/v1/groups/club/members", Some(&owner)).await;
    assert!(
        !members
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["handle"] == "alice" && m["role"] != "member"),
        "{}",
        members.json
    );

    // Closing a report of the group (with a ban): refused alike — and, as for anyone who does
    // not moderate the group, not even told the report exists.
    let reply = t
        .post(
            "/api/v1/reports",
            Some(&alice),
            json!({"post_id": post_id, "reason": "spam", "text": "pub"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let id = reply.json["id"].as_i64().unwrap();
    for who in [&alice, &watcher] {
        let reply = t
            .post(
                &format!("/api/v1/reports/{id}/resolve"),
                Some(who),
                json!({"note": "vu", "ban": {"reason": "spam"}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.json);
    }
    let queue = t.get("/api/v1/groups/club/reports", Some(&owner)).await;
    assert_eq!(queue.json["items"][0]["id"], id);
    assert_eq!(queue.json["items"][0]["status"], "open");
    let (status, _, _) = post(&t, &bob, "Encore là").await;
    assert_eq!(status, StatusCode::CREATED, "bob is still not banned");
}

/// A moderator of one group has no say in another (issue 13, "an action on content outside
/// the moderator's group"): carla, a member of `club` and a moderator of `atelier`, may not
/// remove or lock a post of `club` nor ban one of its members. Each is refused with the
/// stable code, and nothing changes: the post neither removed nor locked, no ban, nothing in
/// `club`'s log.
#[tokio::test]
async fn a_moderator_of_another_group_cannot_act_in_this_one() {
    let t = TestApp::new().await;
    let (owner, bob, post_id) = club(&t).await;
    let reply = t
        .post(
            "/api/v1/groups",
            Some(&owner),
            json!({"name": "atelier", "title": "Atelier"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let carla = t.member("carla").await;
    for group in ["club", "atelier"] {
        let reply = t
            .request(
                Method::POST,
                &format!("/api/v1/groups/{group}/join"),
                Some(&carla),
                None,
            )
            .await;
        assert!(reply.status.is_success(), "{group}: {}", reply.json);
    }
    let reply = t
        .request(
            Method::PUT,
            "/api/v1/groups/atelier/members/carla",
            Some(&owner),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.json);
    // She does moderate atelier: her rights are real, only not in club.
    let (status, atelier_post) = {
        let reply = t
            .post(
                "/api/v1/groups/atelier/posts",
                Some(&bob),
                json!({"kind": "note", "title": "À l'atelier", "body": "texte"}),
            )
            .await;
        (
            reply.status,
            reply.json["post"]["id"].as_i64().unwrap_or_default(),
        )
    };
    assert_eq!(status, StatusCode::CREATED);
    let reply = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{atelier_post}/moderation"),
            Some(&carla),
            Some(json!({"locked": true})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);

    let refused = |reply: common::Reply, what: &str| {
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::FORBIDDEN, "not_a_moderator_of_group"),
            "{what}: {}",
            reply.json
        );
    };
    let removal = t
        .post(
            &format!("/api/v1/posts/{post_id}/removal"),
            Some(&carla),
            json!({"reason": "hors sujet"}),
        )
        .await;
    refused(removal, "removal");
    let lock = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{post_id}/moderation"),
            Some(&carla),
            Some(json!({"locked": true})),
        )
        .await;
    refused(lock, "lock");
    let ban = t
        .request(
            Method::PUT,
            "/api/v1/groups/club/bans/bob",
            Some(&carla),
            Some(json!({"reason": "spam", "remove_data": true})),
        )
        .await;
    refused(ban, "ban");

    // Nothing changed: the post as its owner sees it, no ban, nothing logged in club.
    let seen = t
        .get(&format!("/api/v1/posts/{post_id}"), Some(&owner))
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.json);
    assert!(seen.json["post"].get("removal").is_none(), "{}", seen.json);
    assert_eq!(seen.json["post"]["locked"], false, "{}", seen.json);
    assert_eq!(
        t.get(&format!("/api/v1/posts/{post_id}"), None)
            .await
            .status,
        StatusCode::OK,
        "still visible to all"
    );
    assert_eq!(
        t.count(
            "SELECT count(*) AS n FROM group_ban b JOIN community_group g ON g.id = b.group_id \
             WHERE g.name = 'club'"
        )
        .await,
        0,
        "no ban row"
    );
    let bans = t.get("/api/v1/groups/club/bans", Some(&owner)).await;
    assert_eq!(bans.json.as_array().map(Vec::len), Some(0), "{}", bans.json);
    let (status, _, _) = post(&t, &bob, "Toujours là").await;
    assert_eq!(status, StatusCode::CREATED, "bob is not banned");
    let log = t.get("/api/v1/groups/club/moderation-log", None).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.json);
    assert_eq!(
        log.json["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        log.json
    );
}
