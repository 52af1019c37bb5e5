//! Instance moderation and the approval queue through the real router and database (issue
//! 13, items 4 and 6): bans, the allow-list, limited instances, what a block undoes, and
//! posts held for a moderator's approval.

mod common;

use axum::http::{Method, StatusCode};
use cenacle_core::{Caller, ScopedFutureExt};
use cenacle_domain::Role;
use common::{engagement::points, TestApp};
use serde_json::{json, Value};

async fn group(t: &TestApp, admin: &str, name: &str) {
    let r = t
        .post(
            "/api/v1/groups",
            Some(admin),
            json!({"name": name, "title": name}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
}

async fn post(t: &TestApp, token: &str, group: &str, title: &str) -> Value {
    let r = t
        .post(
            &format!("/api/v1/groups/{group}/posts"),
            Some(token),
            json!({"kind": "question", "title": title, "body": "Détails (cc @paul)"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["post"].clone()
}

async fn titles(t: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    let r = t.get(path, token).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.json);
    r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

/// marie's threads in the members' statistics.
const THREADS_OF_MARIE: &str =
    "SELECT coalesce(sum(threads), 0)::bigint AS n FROM member_stats_rows m \
     JOIN person p ON p.id = m.person_id WHERE p.username = 'marie' AND m.tag = ''";

#[tokio::test]
async fn first_posts_wait_for_a_moderator_unseen_uncounted_and_unfederated() {
    let t = TestApp::new().await;
    let admin = t.with_role("root", Role::Admin).await;
    group(&t, &admin, "entraide").await;
    let marie = t.member("marie").await;
    let paul = t.member("paul").await;

    // Only moderators see or change the settings; bad values are refused.
    let r = t
        .get("/api/v1/groups/entraide/approval", Some(&marie))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    let r = t
        .request(
            Method::PUT,
            "/api/v1/groups/entraide/approval",
            Some(&admin),
            Some(json!({"enabled": true, "first_posts": -1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    let r = t
        .request(
            Method::PUT,
            "/api/v1/groups/entraide/approval",
            Some(&admin),
            Some(json!({"enabled": true, "first_posts": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = t
        .get("/api/v1/groups/entraide/approval", Some(&admin))
        .await;
    assert_eq!(
        r.json,
        json!({"enabled": true, "first_posts": 1, "min_reputation": 0})
    );

    let outbox_before = t.count("SELECT count(*) AS n FROM outbox_event").await;
    // (Read first: the day's visit is paid on the first request.)
    let marie_points = points(&t, &marie).await;
    let paul_points = points(&t, &paul).await;
    let held = post(&t, &marie, "entraide", "Première question").await;
    assert_eq!(held["approval"], "pending");
    let id = held["id"].as_i64().unwrap();
    // Seen by its author and the moderators only; in no list, feed or search; unpaid; not
    // in the outbox; no comments or votes on it.
    assert_eq!(
        t.get(&format!("/api/v1/posts/{id}"), Some(&marie))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        t.get(&format!("/api/v1/posts/{id}"), Some(&admin))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        t.get(&format!("/api/v1/posts/{id}"), Some(&paul))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.get(&format!("/api/v1/posts/{id}"), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(titles(&t, "/api/v1/groups/entraide/posts", Some(&admin))
        .await
        .is_empty());
    assert!(titles(&t, "/api/v1/feed", Some(&admin)).await.is_empty());
    assert_eq!(
        t.notifications_of_kind(&paul, "mention").await.len(),
        0,
        "a held post tells nobody yet"
    );
    assert_eq!(points(&t, &marie).await, marie_points);
    assert_eq!(t.count(THREADS_OF_MARIE).await, 0);
    assert_eq!(
        t.count("SELECT count(*) AS n FROM outbox_event").await,
        outbox_before
    );
    let r = t
        .post(
            &format!("/api/v1/posts/{id}/comments"),
            Some(&admin),
            json!({"body": "?"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);

    // The queue is the moderators'.
    let r = t.get("/api/v1/groups/entraide/pending", Some(&marie)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    assert_eq!(
        titles(&t, "/api/v1/groups/entraide/pending", Some(&admin)).await,
        ["Première question"]
    );
    let r = t
        .request(
            Method::POST,
            &format!("/api/v1/posts/{id}/approve"),
            Some(&marie),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);

    // Approved: published as if just posted — listed, paid, federated.
    let r = t
        .request(
            Method::POST,
            &format!("/api/v1/posts/{id}/approve"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(r.json["post"].get("approval").is_none(), "{}", r.json);
    assert_eq!(
        titles(&t, "/api/v1/groups/entraide/posts", None).await,
        ["Première question"]
    );
    assert!(points(&t, &marie).await > marie_points);
    assert_eq!(
        t.notifications_of_kind(&paul, "mention").await.len(),
        1,
        "published, it tells whom it names"
    );
    assert_eq!(t.count(THREADS_OF_MARIE).await, 1);
    assert_eq!(
        t.count(&format!("SELECT count(*) AS n FROM outbox_event WHERE kind = 'post_approved' AND subject_id = {id}")
        )
        .await,
        1
    );
    // Not pending any more: a second decision is refused with a clear code.
    let r = t
        .request(
            Method::POST,
            &format!("/api/v1/posts/{id}/approve"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "post_not_pending")
    );

    // marie's second post is published at once (first_posts = 1); paul's first waits and is
    // rejected: never published, and paul sees why.
    let second = post(&t, &marie, "entraide", "Deuxième").await;
    assert!(second.get("approval").is_none(), "{second}");
    let rejected = post(&t, &paul, "entraide", "Publicité").await;
    let rid = rejected["id"].as_i64().unwrap();
    let r = t
        .post(
            &format!("/api/v1/posts/{rid}/reject"),
            Some(&admin),
            json!({"reason": "Hors sujet"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let seen = t.get(&format!("/api/v1/posts/{rid}"), Some(&paul)).await;
    assert_eq!(seen.json["post"]["approval"], "rejected");
    assert_eq!(seen.json["post"]["approval_reason"], "Hors sujet");
    assert_eq!(
        t.get(&format!("/api/v1/posts/{rid}"), Some(&marie))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = t
        .request(
            Method::POST,
            &format!("/api/v1/posts/{rid}/approve"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.code(), "post_not_pending");
    // Nothing hangs on an unpublished post: no bounty on it (nobody could answer).
    let r = t
        .post(
            &format!("/api/v1/posts/{rid}/bounty"),
            Some(&paul),
            json!({"amount": 10}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "post_not_published"),
        "{}",
        r.json
    );
    assert!(!titles(&t, "/api/v1/groups/entraide/posts", None)
        .await
        .contains(&"Publicité".to_owned()));
    assert_eq!(points(&t, &paul).await, paul_points);

    // Both decisions are in the group's log.
    let log = t.get("/api/v1/groups/entraide/moderation-log", None).await;
    let actions: Vec<&str> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["reject_post", "approve_post"], "{}", log.json);
    // The public log names the rejected post by nothing it said: its title was never published.
    assert!(
        !log.json.to_string().contains("Publicité"),
        "a rejected post's title in the public log: {}",
        log.json
    );

    // Moderators are never held.
    let own = post(&t, &admin, "entraide", "Annonce").await;
    assert!(own.get("approval").is_none(), "{own}");
}

#[tokio::test]
async fn low_reputation_waits_and_a_limited_instances_people_always_wait() {
    let t = TestApp::new().await;
    let admin = t.with_role("root", Role::Admin).await;
    group(&t, &admin, "entraide").await;
    let marie = t.member("marie").await;
    let r = t
        .request(
            Method::PUT,
            "/api/v1/groups/entraide/approval",
            Some(&admin),
            Some(json!({"enabled": true, "min_reputation": 10})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        post(&t, &marie, "entraide", "Bas").await["approval"],
        "pending"
    );

    // Approval off: a remote person posts at once — until their instance is limited.
    let r = t
        .request(
            Method::PUT,
            "/api/v1/groups/entraide/approval",
            Some(&admin),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = t
        .request(
            Method::PUT,
            "/api/v1/admin/instances/never.example/limit",
            Some(&admin),
            Some(json!({"limited": true})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "unknown_instance")
    );
    let (zoe, _) = t.remote_person("lemmy.example", "zoe").await;
    let remote_post = |title: &'static str| {
        let (ctx, zoe) = (&t.ctx, &zoe);
        async move {
            ctx.transaction(|conn| {
                async move {
                    let person = cenacle_db::actors::person_by_ap_id(conn, zoe)
                        .await?
                        .unwrap();
                    let group = cenacle_core::groups::local_group(conn, "entraide").await?;
                    let input = cenacle_core::posts::PostInput {
                        kind: cenacle_domain::content::PostKind::Question,
                        title: title.into(),
                        body: String::new(),
                        tags: vec![],
                        language: None,
                        attachments: vec![],
                        remote_attachments: vec![],
                    };
                    let ap_id = format!("{zoe}/p/{title}");
                    cenacle_core::posts::create_post(
                        conn,
                        ctx,
                        &Caller::remote(person.id),
                        &group,
                        input,
                        Some(&ap_id),
                    )
                    .await
                }
                .scope_boxed()
            })
            .await
            .unwrap()
        }
    };
    assert!(remote_post("libre").await.approval.is_none());
    // The instance is known now (its person was stored).
    t.count("WITH x AS (INSERT INTO instance (host) VALUES ('lemmy.example') ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) AS n FROM x").await;
    let r = t
        .request(
            Method::PUT,
            "/api/v1/admin/instances/Lemmy.Example/limit",
            Some(&admin),
            Some(json!({"limited": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json, json!({"host": "lemmy.example", "limited": true}));
    assert_eq!(
        remote_post("limitée").await.approval.as_deref(),
        Some("pending")
    );
    // Admins only.
    let r = t
        .request(
            Method::PUT,
            "/api/v1/admin/instances/lemmy.example/limit",
            Some(&marie),
            Some(json!({"limited": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
}

#[tokio::test]
async fn a_banned_member_cannot_act_or_log_in_until_the_ban_is_lifted() {
    let t = TestApp::new().await;
    let admin = t.with_role("root", Role::Admin).await;
    let moderator = t.with_role("modo", Role::Moderator).await;
    group(&t, &admin, "entraide").await;
    let marie = t.member("marie").await;
    let paul = t.member("paul").await;

    // Bad input: an expiry in the past, an unknown person, lifting a ban that is not there,
    // a member trying to ban, banning an admin.
    let r = t
        .post(
            "/api/v1/admin/bans",
            Some(&moderator),
            json!({"person": "marie", "reason": "spam", "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "moderation_expiry_in_past"
        )
    );
    let r = t
        .post(
            "/api/v1/admin/bans",
            Some(&moderator),
            json!({"person": "nobody"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
    let r = t
        .request(
            Method::DELETE,
            "/api/v1/admin/bans?person=marie",
            Some(&moderator),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_banned"));
    let r = t
        .post(
            "/api/v1/admin/bans",
            Some(&paul),
            json!({"person": "marie"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    let r = t
        .post(
            "/api/v1/admin/bans",
            Some(&moderator),
            json!({"person": "root"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);

    // The ban (with her content removed): marie's session ends at once and she cannot log
    // in again (clear code).
    let earlier = post(&t, &marie, "entraide", "Achetez").await;
    let r = t
        .post(
            "/api/v1/admin/bans",
            Some(&moderator),
            json!({"person": "marie", "reason": "spam", "expires_at": "2999-01-01T00:00:00Z", "remove_content": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["reason"], "spam");
    let r = t
        .post(
            "/api/v1/groups/entraide/posts",
            Some(&marie),
            json!({"kind": "question", "title": "encore"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.json);
    let r = t.login("marie", common::PASSWORD).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "banned_from_instance")
    );
    let listed = t.get("/api/v1/admin/bans", Some(&moderator)).await;
    assert_eq!(
        listed.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        listed.json
    );
    assert_eq!(
        t.count(&format!(
                "SELECT count(*) AS n FROM post WHERE id = {} AND removed_at IS NOT NULL AND removal_reason = 'spam'",
                earlier["id"]
            )
        )
        .await,
        1
    );

    // Lifted: she logs in and posts again.
    let r = t
        .request(
            Method::DELETE,
            "/api/v1/admin/bans?person=marie",
            Some(&moderator),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    let marie = t.token("marie").await;
    post(&t, &marie, "entraide", "De retour").await;

    // Both are in the instance's public log, newest first, with the reason.
    let log = t.get("/api/v1/instance/moderation-log", None).await;
    let entries = log.json["items"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["unban_from_instance", "ban_from_instance"],
        "{}",
        log.json
    );
    assert_eq!(entries[1]["reason"], "spam");
}

#[tokio::test]
async fn a_block_drops_follows_with_the_instance_and_cancels_its_deliveries() {
    let t = TestApp::new().await;
    let admin = t.with_role("root", Role::Admin).await;
    group(&t, &admin, "entraide").await;
    let base = t.ctx.settings.public_base();
    // Two followers of our group on bad.example, one elsewhere; a delivery queued to each.
    t.count(&format!(
            "WITH x AS (INSERT INTO follow (target_ap_id, follower_ap_id, follower_inbox, state, follow_activity_id) VALUES \
             ('{base}/g/entraide', 'https://Bad.Example/u/a', 'https://bad.example/u/a/inbox', 'accepted', 'https://bad.example/f/1'), \
             ('{base}/g/entraide', 'https://bad.example/u/b', 'https://bad.example/u/b/inbox', 'accepted', 'https://bad.example/f/2'), \
             ('{base}/g/entraide', 'https://good.example/u/c', 'https://good.example/u/c/inbox', 'accepted', 'https://good.example/f/3') \
             RETURNING 1) SELECT count(*) AS n FROM x"
        ),
    )
    .await;
    let (ctx, base) = (&t.ctx, &base);
    let queued = ctx
        .transaction(|conn| {
            async move {
                cenacle_core::federation::queue_activity(
                    conn,
                    ctx,
                    "https://x.test/a/1",
                    &format!("{base}/g/entraide"),
                    "{}",
                    [
                        "https://bad.example/inbox".to_owned(),
                        "https://good.example/inbox".to_owned(),
                    ],
                )
                .await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(queued, 2);

    let r = t
        .request(
            Method::PUT,
            "/api/v1/admin/instances/bad.example/block",
            Some(&admin),
            Some(json!({"blocked": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["follows_dropped"], 2, "{}", r.json);
    assert_eq!(r.json["deliveries_cancelled"], 1, "{}", r.json);
    assert_eq!(t.count("SELECT count(*) AS n FROM follow").await, 1);
    let log = t.get("/api/v1/instance/moderation-log", None).await;
    assert_eq!(
        log.json["items"][0]["action"], "block_instance",
        "{}",
        log.json
    );
    assert_eq!(log.json["items"][0]["target_instance"], "bad.example");
    assert_eq!(
        t.count("SELECT count(*) AS n FROM delivery WHERE host = 'good.example'")
            .await,
        1
    );
    let r = t
        .request(
            Method::PUT,
            "/api/v1/admin/instances/bad%20host/block",
            Some(&admin),
            Some(json!({"blocked": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
}

#[tokio::test]
async fn allow_list_mode_lets_in_only_listed_instances() {
    let t = TestApp::with(|s| {
        s.federation.allow_list_only = true;
        s.federation.allowed_instances = vec!["friend.example".into()];
    })
    .await;
    let admin = t.with_role("root", Role::Admin).await;
    let blocked = |host: &'static str| {
        let ctx = &t.ctx;
        async move {
            let mut conn = ctx.conn().await.unwrap();
            cenacle_core::federation::instance_state(&mut conn, ctx, host)
                .await
                .unwrap()
                .blocked
        }
    };
    assert!(!blocked("friend.example").await);
    assert!(blocked("stranger.example").await);
    let r = t
        .request(
            Method::PUT,
            "/api/v1/admin/instances/stranger.example/allow",
            Some(&admin),
            Some(json!({"allowed": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(!blocked("stranger.example").await);
    // The block list still applies to an allowed instance.
    let r = t
        .request(
            Method::PUT,
            "/api/v1/admin/instances/stranger.example/block",
            Some(&admin),
            Some(json!({"blocked": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(blocked("stranger.example").await);
}

/// A ban recorded while a session token is being issued (the ban committed between the
/// login's check and its token) still stops that token: every request checks the ban.
#[tokio::test]
async fn a_token_issued_before_a_ban_is_refused_once_the_ban_exists() {
    let t = TestApp::new().await;
    let marie = t.member("marie").await;
    assert_eq!(
        t.get("/api/v1/account/me", Some(&marie)).await.status,
        StatusCode::OK
    );
    // The ban as a concurrent transaction would leave it: recorded, the token not revoked.
    t.count(
        "WITH b AS (INSERT INTO instance_ban (person_id, reason) \
           SELECT id, 'spam' FROM person WHERE username = 'marie' RETURNING 1) \
         SELECT count(*)::bigint AS n FROM b",
    )
    .await;
    let refused = t.get("/api/v1/account/me", Some(&marie)).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "banned_from_instance"),
        "{}",
        refused.json
    );
}
