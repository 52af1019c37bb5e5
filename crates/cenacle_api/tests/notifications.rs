//! Notifications through the real router and database: written by the use cases that cause
//! them, never for one's own action, likes grouped, a preference `off` honoured, the accept
//! reminder once per question after its delay (clock injected).

mod common;

use axum::http::{Method, StatusCode};
use cenacle_core::{notification_mails, notifications, ranks_reached, ScopedFutureExt};
use cenacle_domain::Role;
use chrono::{Duration, Utc};
use common::engagement::{setup, vote};
use common::TestApp;
use serde_json::{json, Value};

async fn ask(t: &TestApp, token: &str, kind: &str, title: &str) -> i64 {
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(token),
            json!({"kind": kind, "title": title}),
        )
        .await;
    q.json["post"]["id"].as_i64().unwrap()
}

async fn reply(t: &TestApp, token: &str, post: i64, parent: Option<i64>) -> i64 {
    comment(t, token, post, parent, "Une réponse").await
}

/// A comment on `post` (under `parent`, if any) with `body`; its id.
async fn comment(t: &TestApp, token: &str, post: i64, parent: Option<i64>, body: &str) -> i64 {
    let r = t
        .post(
            &format!("/api/v1/posts/{post}/comments"),
            Some(token),
            json!({"body": body, "parent_id": parent}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["id"].as_i64().unwrap()
}

/// A moderator removes a comment, with a reason.
async fn remove_comment(t: &TestApp, moderator: &str, comment: i64) {
    let removed = t
        .post(
            &format!("/api/v1/comments/{comment}/removal"),
            Some(moderator),
            json!({"reason": "hors sujet"}),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
}

/// A moderator removes a post, for `reason`.
async fn remove_post(t: &TestApp, moderator: &str, post: i64, reason: &str) {
    let removal = t
        .post(
            &format!("/api/v1/posts/{post}/removal"),
            Some(moderator),
            json!({ "reason": reason }),
        )
        .await;
    assert_eq!(removal.status, StatusCode::NO_CONTENT, "{}", removal.json);
}

/// The member's notifications, newest first, leaving out badges (a first question earns one,
/// and most tests are about something else).
async fn inbox(t: &TestApp, token: &str) -> Vec<Value> {
    let mut list = inbox_all(t, token).await;
    list.retain(|n| n["kind"] != "badge_awarded");
    list
}

async fn inbox_all(t: &TestApp, token: &str) -> Vec<Value> {
    let r = t.get("/api/v1/notifications", Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["items"].as_array().unwrap().clone()
}

async fn unread(t: &TestApp, token: &str) -> i64 {
    t.get("/api/v1/notifications/unread-count", Some(token))
        .await
        .json["unread"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_reply_notifies_whom_it_answers_and_own_replies_notify_nobody() {
    let (t, _) = setup().await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let q = ask(&t, &asker, "question", "Comment faire ?").await;
    // (Their first question earned a badge: told, and read here.)
    assert_eq!(inbox_all(&t, &asker).await[0]["badge"], "first_question");
    t.post("/api/v1/notifications/read-all", Some(&asker), json!({}))
        .await;
    // The asker commenting on their own question is told nothing.
    reply(&t, &asker, q, None).await;
    assert!(inbox(&t, &asker).await.is_empty());
    let a = reply(&t, &answerer, q, None).await;
    let got = inbox(&t, &asker).await;
    assert_eq!(got.len(), 1);
    let n = &got[0];
    assert_eq!(
        (
            n["kind"].as_str(),
            n["actor"].as_str(),
            n["actor_count"].as_i64()
        ),
        (Some("reply"), Some("answerer"), Some(1))
    );
    assert_eq!(n["post_id"].as_i64(), Some(q));
    assert_eq!(n["comment_id"].as_i64(), Some(a));
    assert_eq!(n["post_title"], "Comment faire ?");
    assert_eq!(n["group"], "open");
    assert!(n["read_at"].is_null());
    // A reply to the answer goes to the answerer, not the asker.
    reply(&t, &asker, q, Some(a)).await;
    assert_eq!(inbox(&t, &answerer).await[0]["kind"], "reply");
    assert_eq!(inbox(&t, &asker).await.len(), 1);
    assert_eq!(unread(&t, &asker).await, 1);
    // Marked read: one, then all; someone else's is not found.
    let id = n["id"].as_i64().unwrap();
    let path = format!("/api/v1/notifications/{id}/read");
    assert_eq!(
        t.post(&path, Some(&answerer), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.post(&path, Some(&asker), json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(unread(&t, &asker).await, 0);
    assert!(!inbox(&t, &asker).await[0]["read_at"].is_null());
    let only_unread = t
        .get("/api/v1/notifications?unread=true", Some(&answerer))
        .await;
    assert_eq!(only_unread.json["items"].as_array().unwrap().len(), 1);
    let all = t
        .post("/api/v1/notifications/read-all", Some(&answerer), json!({}))
        .await;
    assert_eq!(all.json["marked"], 1);
    assert_eq!(unread(&t, &answerer).await, 0);
    assert_eq!(
        t.get("/api/v1/notifications", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn likes_are_grouped_into_one_unread_notification() {
    let (t, _) = setup().await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let fans: Vec<String> = members(&t, &["ana", "ben", "cleo"]).await;
    let q = ask(&t, &asker, "question", "Q ?").await;
    let a = reply(&t, &answerer, q, None).await;
    let path = format!("/api/v1/comments/{a}/vote");
    // Liking one's own answer tells nobody.
    vote(&t, &answerer, &path, json!("like")).await;
    assert!(inbox(&t, &answerer).await.is_empty());
    for fan in &fans {
        vote(&t, fan, &path, json!("like")).await;
    }
    // A like taken back and given again is still one person.
    vote(&t, &fans[0], &path, Value::Null).await;
    vote(&t, &fans[0], &path, json!("like")).await;
    let got = inbox(&t, &answerer).await;
    assert_eq!(got.len(), 1, "one grouped row, not one per like: {got:?}");
    assert_eq!(got[0]["kind"], "like");
    assert_eq!(got[0]["actor_count"], 3);
    assert_eq!(got[0]["actor"], "ana");
    assert_eq!(got[0]["comment_id"].as_i64(), Some(a));
    // Once read, the next like starts a new row.
    t.post("/api/v1/notifications/read-all", Some(&answerer), json!({}))
        .await;
    vote(&t, &asker, &path, json!("like")).await;
    let got = inbox(&t, &answerer).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["actor_count"], 1);
    assert_eq!(got[0]["actor"], "asker");
}

async fn members(t: &TestApp, names: &[&str]) -> Vec<String> {
    let mut tokens = Vec::new();
    for name in names {
        tokens.push(t.member(name).await);
    }
    tokens
}

#[tokio::test]
async fn a_preference_off_stops_that_kind_only() {
    let (t, _) = setup().await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let prefs = t
        .get("/api/v1/notifications/preferences", Some(&asker))
        .await;
    // Replies are mailed at once unless one says otherwise; likes stay in the app.
    assert_eq!(prefs.json["preferences"]["reply"], "email_immediate");
    assert_eq!(prefs.json["preferences"]["like"], "in_app");
    assert_eq!(prefs.json["preferences"].as_object().unwrap().len(), 13);
    assert_eq!(prefs.json["preferences"]["bounty_won"], "email_immediate");
    let set = t
        .request(
            Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&asker),
            Some(json!({"preferences": {"reply": "off", "like": "email_daily"}})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    assert_eq!(set.json["preferences"]["reply"], "off");
    assert_eq!(set.json["preferences"]["like"], "email_daily");
    let q = ask(&t, &asker, "question", "Q ?").await;
    reply(&t, &answerer, q, None).await;
    assert!(inbox(&t, &asker).await.is_empty(), "replies are off");
    // An e-mail delivery still keeps the notification in the app.
    vote(
        &t,
        &answerer,
        &format!("/api/v1/posts/{q}/vote"),
        json!("like"),
    )
    .await;
    assert_eq!(inbox(&t, &asker).await[0]["kind"], "like");
    // Bad names: 422, nothing changed.
    for (body, code) in [
        (
            json!({"preferences": {"replies": "off"}}),
            "unknown_notification_kind",
        ),
        (
            json!({"preferences": {"like": "sms"}}),
            "unknown_notification_delivery",
        ),
    ] {
        let bad = t
            .request(
                Method::PUT,
                "/api/v1/notifications/preferences",
                Some(&asker),
                Some(body),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.code(), code);
    }
    let prefs = t
        .get("/api/v1/notifications/preferences", Some(&asker))
        .await;
    assert_eq!(prefs.json["preferences"]["like"], "email_daily");
}

#[tokio::test]
async fn acceptance_idea_status_badges_moderation_and_join_decisions_notify() {
    let (t, admin) = setup().await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let fan = t.member("fan").await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    let q = ask(&t, &asker, "question", "Q ?").await;
    let a = reply(&t, &answerer, q, None).await;
    let accepted = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{q}/accepted-answer"),
            Some(&asker),
            Some(json!({"comment_id": a})),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.json);
    let kinds = |list: &[Value]| -> Vec<String> {
        list.iter()
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let got = inbox_all(&t, &answerer).await;
    assert!(
        kinds(&got).contains(&"answer_accepted".to_owned()),
        "{got:?}"
    );
    // The first accepted answer earns a badge, told too.
    let badge = got.iter().find(|n| n["kind"] == "badge_awarded").unwrap();
    assert_eq!(badge["badge"], "first_accepted_answer");
    // An idea's status reaches its author and those who like it, not the manager.
    let idea = ask(&t, &asker, "idea", "Un mode sombre").await;
    vote(
        &t,
        &fan,
        &format!("/api/v1/posts/{idea}/vote"),
        json!("like"),
    )
    .await;
    let changed = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{idea}/idea-status"),
            Some(&manager),
            Some(json!({"status": "planned"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    for who in [&asker, &fan] {
        let n = inbox(&t, who).await;
        assert_eq!(
            (n[0]["kind"].as_str(), n[0]["detail"].as_str()),
            (Some("idea_status"), Some("planned"))
        );
    }
    assert!(inbox(&t, &manager).await.is_empty());
    // A removal is told to the author.
    remove_comment(&t, &admin, a).await;
    let n = &inbox(&t, &answerer).await[0];
    assert_eq!(
        (n["kind"].as_str(), n["detail"].as_str()),
        (Some("moderation"), Some("removed"))
    );
    // A join request's decision, either way, even though the group is private.
    t.post(
        "/api/v1/groups",
        Some(&admin),
        json!({"name": "secret", "title": "Secret", "visibility": "private"}),
    )
    .await;
    let asked = t
        .request(Method::POST, "/api/v1/groups/secret/join", Some(&fan), None)
        .await;
    assert_eq!(asked.json["status"], "requested");
    let requests = t
        .get("/api/v1/groups/secret/join-requests", Some(&admin))
        .await;
    let person = requests.json[0]["person_id"].as_i64().unwrap();
    t.request(
        Method::PUT,
        &format!("/api/v1/groups/secret/join-requests/{person}"),
        Some(&admin),
        Some(json!({"approve": false})),
    )
    .await;
    let n = &inbox(&t, &fan).await[0];
    assert_eq!(
        (
            n["kind"].as_str(),
            n["detail"].as_str(),
            n["group"].as_str()
        ),
        (Some("join_request"), Some("declined"), Some("secret"))
    );
}

#[tokio::test]
async fn private_content_is_not_told_to_someone_outside_its_group() {
    let (t, admin) = setup().await;
    let fan = t.member("fan").await;
    t.post(
        "/api/v1/groups",
        Some(&admin),
        json!({"name": "secret", "title": "Secret", "visibility": "private"}),
    )
    .await;
    let idea = t
        .post(
            "/api/v1/groups/secret/posts",
            Some(&admin),
            json!({"kind": "idea", "title": "Projet confidentiel"}),
        )
        .await;
    let idea = idea.json["post"]["id"].as_i64().unwrap();
    // The fan was invited, liked the idea, then left the group.
    let invite = t
        .post(
            "/api/v1/groups/secret/invitations",
            Some(&admin),
            json!({"handle": "fan"}),
        )
        .await;
    assert!(invite.status.is_success(), "{}", invite.json);
    t.request(Method::POST, "/api/v1/groups/secret/join", Some(&fan), None)
        .await;
    vote(
        &t,
        &fan,
        &format!("/api/v1/posts/{idea}/vote"),
        json!("like"),
    )
    .await;
    t.request(
        Method::POST,
        "/api/v1/groups/secret/leave",
        Some(&fan),
        None,
    )
    .await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    let changed = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{idea}/idea-status"),
            Some(&manager),
            Some(json!({"status": "planned"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    assert!(
        inbox(&t, &fan).await.is_empty(),
        "no word of a private group's idea to a non-member"
    );
    // Its author, a member, still hears.
    assert_eq!(inbox(&t, &admin).await[0]["kind"], "idea_status");
}

/// `@name` (or `@name@our-host`) in a post or a comment tells that member, once, linking
/// the text; an e-mail address, one's own name, a name on another instance or someone outside
/// a private group tell nobody; the person a reply already told is not told twice.
#[tokio::test]
async fn a_mention_tells_the_member_named_and_nobody_else() {
    let (t, admin) = setup().await;
    let ana = t.member("ana").await;
    let bob = t.member("bob").await;
    let carol = t.member("carol").await;
    let dan = t.member("dan").await;
    // A namesake of someone on another instance.
    let eve = t.member("eve").await;
    let mentions = |token: String| {
        let t = &t;
        async move { t.notifications_of_kind(&token, "mention").await }
    };
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&ana),
            json!({"kind": "question", "title": "Which grinder, @bob?",
                   "body": "cc @Carol@localhost:8700, @ana, @eve@elsewhere.example and dan@example.org"}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.json);
    let q = q.json["post"]["id"].as_i64().unwrap();
    for who in [&bob, &carol] {
        let told = mentions(who.clone()).await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(
            (
                told[0]["actor"].as_str(),
                told[0]["post_id"].as_i64(),
                told[0]["comment_id"].as_i64()
            ),
            (Some("ana"), Some(q), None)
        );
    }
    assert!(
        mentions(ana.clone()).await.is_empty(),
        "not of one's own text"
    );
    assert!(
        mentions(dan.clone()).await.is_empty(),
        "an address is no mention"
    );
    assert!(
        mentions(eve.clone()).await.is_empty(),
        "eve@elsewhere is someone else"
    );

    // Bob answers, naming Ana (told of the reply, once) and Carol (told of the mention).
    let answer = comment(&t, &bob, q, None, "@ana try the burr one; @carol has it").await;
    let ana_told = inbox(&t, &ana).await;
    assert_eq!(
        ana_told
            .iter()
            .filter(|n| n["comment_id"] == answer)
            .count(),
        1,
        "{ana_told:?}"
    );
    assert_eq!(ana_told[0]["kind"], "reply");
    let carol_told = mentions(carol.clone()).await;
    assert_eq!(carol_told.len(), 2, "{carol_told:?}");
    assert_eq!(carol_told[0]["comment_id"], answer);

    // An edit tells the names it adds, not those it keeps.
    let edited = t
        .request(
            Method::PATCH,
            &format!("/api/v1/posts/{q}"),
            Some(&ana),
            Some(json!({"title": "Which grinder, @bob? And you, @dan?"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    assert_eq!(mentions(dan.clone()).await.len(), 1);
    assert_eq!(
        mentions(bob.clone()).await.len(),
        1,
        "bob was named already"
    );
    let edited = t
        .request(
            Method::PATCH,
            &format!("/api/v1/comments/{answer}"),
            Some(&bob),
            Some(json!({"body": "@ana try the burr one; @carol has it, @dan too"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    let dan_told = mentions(dan.clone()).await;
    assert_eq!(dan_told.len(), 2, "{dan_told:?}");
    assert_eq!(dan_told[0]["comment_id"], answer);
    assert_eq!(
        mentions(carol.clone()).await.len(),
        2,
        "carol was named already"
    );
    // Named out and back in: not news twice.
    for body in [
        "@ana try the burr one",
        "@ana try the burr one; @carol and @dan have it",
    ] {
        let edited = t
            .request(
                Method::PATCH,
                &format!("/api/v1/comments/{answer}"),
                Some(&bob),
                Some(json!({ "body": body })),
            )
            .await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    }
    assert_eq!(mentions(dan.clone()).await.len(), 2);
    assert_eq!(mentions(carol.clone()).await.len(), 2);

    // A private group's text tells no one outside it.
    t.post(
        "/api/v1/groups",
        Some(&admin),
        json!({"name": "secret", "title": "Secret", "visibility": "private"}),
    )
    .await;
    let hidden = t
        .post(
            "/api/v1/groups/secret/posts",
            Some(&admin),
            json!({"kind": "note", "title": "Ask @dan about it"}),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::CREATED, "{}", hidden.json);
    assert_eq!(
        mentions(dan.clone()).await.len(),
        2,
        "dan is not in the group"
    );
}

/// One text tells at most ten members, however often it is edited: each version may name
/// ten, so without a count per text an author could page ten new members with every edit.
/// A reply is another text, with its own ten.
#[tokio::test]
async fn a_text_tells_at_most_ten_members_over_all_its_edits() {
    let (t, _) = setup().await;
    let ana = t.member("ana").await;
    let mut named = Vec::new();
    for i in 0..12 {
        named.push(t.member(&format!("member{i}")).await);
    }
    let names = |range: std::ops::Range<usize>| {
        range
            .map(|i| format!("@member{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let q = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&ana),
            json!({"kind": "question", "title": "Who knows?", "body": names(0..10)}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.json);
    let q = q.json["post"]["id"].as_i64().unwrap();
    let edited = t
        .request(
            Method::PATCH,
            &format!("/api/v1/posts/{q}"),
            Some(&ana),
            Some(json!({ "body": names(10..12) })),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    let mut told = Vec::new();
    for token in &named {
        told.push(t.notifications_of_kind(token, "mention").await.len());
    }
    assert_eq!(told, [vec![1; 10], vec![0; 2]].concat());
    // A reply naming member10 is a new text: they hear of it.
    let answer = comment(&t, &ana, q, None, "@member10 surely").await;
    let m10 = t.notifications_of_kind(&named[10], "mention").await;
    assert_eq!(m10.len(), 1, "{m10:?}");
    assert_eq!(m10[0]["comment_id"], answer);
}

/// A member who reaches a higher rank is told once, by the periodic job, in their language;
/// a rank lost and reached again is not news twice; a removed post restored counts again;
/// members already ranked when the server was upgraded are not congratulated on old news.
#[tokio::test]
async fn reaching_a_higher_rank_is_told_once() {
    use cenacle_domain::engagement::RankTier;
    let tier = |min_score, en: &str, fr: &str| RankTier {
        min_score,
        name_en: en.into(),
        name_fr: fr.into(),
    };
    let (t, admin) = common::engagement::setup_with(|s| {
        s.engagement.ranks = vec![
            tier(0, "Newcomer", "Nouveau venu"),
            tier(5, "Contributor", "Contributeur"),
            tier(10, "Regular", "Habitué"),
            tier(12, "Expert", "Expert"),
        ];
    })
    .await;
    let ana = t.member("ana").await;
    let fans = [t.member("bea").await, t.member("carl").await];
    // The job as the server runs it: each marked person in a transaction of its own.
    let look = async || {
        let ctx = &t.ctx;
        let due = ctx
            .transaction(|conn| ranks_reached::ranks_due(conn, 500).scope_boxed())
            .await
            .unwrap();
        let look_at = |person| {
            ctx.transaction(move |conn| {
                ranks_reached::tell_rank_reached(conn, ctx, person).scope_boxed()
            })
        };
        let drop_mark = |person| {
            ctx.transaction(move |conn| ranks_reached::drop_rank_mark(conn, person).scope_boxed())
        };
        ranks_reached::tell_ranks_reached(due, look_at, drop_mark)
            .await
            .unwrap()
    };
    let ranks = async || t.notifications_of_kind(&ana, "rank_reached").await;

    // Two threads: score 2, still a newcomer.
    let first = ask(&t, &ana, "question", "Première").await;
    ask(&t, &ana, "question", "Deuxième").await;
    assert_eq!(look().await, 0);
    // A like (4 a like): 6, a contributor; told once, however often the job runs.
    let path = format!("/api/v1/posts/{first}/vote");
    vote(&t, &fans[0], &path, json!("like")).await;
    assert_eq!(look().await, 1);
    assert_eq!(look().await, 0);
    let told = ranks().await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["detail"], "Contributor\nContributeur");
    assert!(told[0]["actor"].is_null(), "the instance tells");

    // Taken back (2: the rank is lost) and given again (6): not news twice.
    vote(&t, &fans[0], &path, Value::Null).await;
    assert_eq!(look().await, 0);
    vote(&t, &fans[0], &path, json!("like")).await;
    assert_eq!(look().await, 0);
    // A second like: 10, a regular.
    vote(&t, &fans[1], &path, json!("like")).await;
    assert_eq!(look().await, 1);
    let told = ranks().await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(told[0]["detail"], "Regular\nHabitué");

    // A third thread removed by a moderator (10), then restored: 11, no rank yet; a fourth
    // removed and restored: 12, an expert, told when the restore brings it back.
    for title in ["Troisième", "Quatrième"] {
        let post = ask(&t, &ana, "question", title).await;
        let removed = t
            .request(
                Method::POST,
                &format!("/api/v1/posts/{post}/removal"),
                Some(&admin),
                Some(json!({"reason": "hors sujet"})),
            )
            .await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.json);
        look().await;
        let restored = t
            .request(
                Method::DELETE,
                &format!("/api/v1/posts/{post}/removal"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(restored.status, StatusCode::NO_CONTENT, "{}", restored.json);
    }
    assert_eq!(look().await, 1);
    assert_eq!(ranks().await[0]["detail"], "Expert\nExpert");

    // A member already ranked when the server was upgraded (the migration leaves NULL):
    // their rank is recorded, not told.
    let old_hand = t.member("dora").await;
    for title in ["Un", "Deux", "Trois", "Quatre", "Cinq"] {
        ask(&t, &old_hand, "question", title).await;
    }
    t.sql("UPDATE reputation SET rank_told = NULL WHERE person_id = (SELECT id FROM person WHERE username = 'dora')")
        .await;
    assert_eq!(look().await, 0);
    assert!(t
        .notifications_of_kind(&old_hand, "rank_reached")
        .await
        .is_empty());
}

#[tokio::test]
async fn the_accept_reminder_fires_once_after_the_delay_and_not_once_accepted() {
    let (t, _) = setup().await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let open = ask(&t, &asker, "question", "Sans réponse acceptée").await;
    reply(&t, &answerer, open, None).await;
    let solved = ask(&t, &asker, "question", "Résolue").await;
    let a = reply(&t, &answerer, solved, None).await;
    t.request(
        Method::PUT,
        &format!("/api/v1/posts/{solved}/accepted-answer"),
        Some(&asker),
        Some(json!({"comment_id": a})),
    )
    .await;
    // Only the asker's own answer: nothing to accept from someone else.
    let alone = ask(&t, &asker, "question", "Seul").await;
    reply(&t, &asker, alone, None).await;
    let delay = Duration::hours(72);
    let run = async |now| {
        t.ctx
            .transaction(|conn| {
                notifications::send_accept_reminders(conn, now, delay, 500).scope_boxed()
            })
            .await
            .unwrap()
    };
    let reminders = async || {
        inbox(&t, &asker)
            .await
            .into_iter()
            .filter(|n| n["kind"] == "accept_reminder")
            .collect::<Vec<_>>()
    };
    assert_eq!(run(Utc::now() + Duration::hours(71)).await, 0, "too early");
    assert!(reminders().await.is_empty());
    let later = Utc::now() + Duration::hours(73);
    assert_eq!(run(later).await, 1);
    let got = reminders().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["post_id"].as_i64(), Some(open));
    assert!(got[0]["actor"].is_null());
    // Run again (or by a second server): no second reminder.
    assert_eq!(run(later + Duration::hours(100)).await, 0);
    assert_eq!(reminders().await.len(), 1);
}

/// What the mail worker does first on each pass.
async fn mail_pass(t: &TestApp) -> usize {
    t.ctx
        .transaction(|conn| {
            notification_mails::mail_immediate_notifications(conn, &t.ctx, 50).scope_boxed()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn likes_set_to_mail_are_mailed_once_per_grouped_row_and_only_to_a_verified_address() {
    let (t, _) = common::engagement::setup_with(|s| s.email.enabled = true).await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let fans: Vec<String> = members(&t, &["ana", "ben", "cleo"]).await;
    for (name, verified) in [("answerer", "now()"), ("asker", "NULL")] {
        t.sql(&format!(
            "UPDATE local_user SET email = '{name}@example.org', email_verified_at = {verified} \
                 WHERE person_id = (SELECT id FROM person WHERE username = '{name}')"
        ))
        .await;
    }
    let set = t
        .request(
            Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&answerer),
            Some(json!({"preferences": {"like": "email_immediate"}})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    let q = ask(&t, &asker, "question", "Which kettle?").await;
    let a = reply(&t, &answerer, q, None).await;
    let path = format!("/api/v1/comments/{a}/vote");
    for fan in &fans {
        vote(&t, fan, &path, json!("like")).await;
    }
    // The asker's reply notification (default: at once) and one grouped like row are due.
    assert_eq!(
        t.count("SELECT count(*) AS n FROM notification WHERE mail_due = 'immediate'")
            .await,
        2
    );
    assert_eq!(mail_pass(&t).await, 2);
    assert_eq!(mail_pass(&t).await, 0, "each notification is mailed once");
    // Three likes, one mail; the asker's address is not verified: no mail to it.
    assert_eq!(
        t.count(
            "SELECT count(*) AS n FROM mail_queue WHERE to_address = 'answerer@example.org' \
                   AND kind = 'notifications' AND subject LIKE '%3 people liked%'"
        )
        .await,
        1
    );
    assert_eq!(t.count("SELECT count(*) AS n FROM mail_queue").await, 1);
    // A fourth like on the same unread row mails nothing more.
    let dan = t.member("dan").await;
    vote(&t, &dan, &path, json!("like")).await;
    assert_eq!(mail_pass(&t).await, 0);
    assert_eq!(t.count("SELECT count(*) AS n FROM mail_queue").await, 1);
}

/// Where the instance hides moderators' names, the notice of a removal names nobody (the
/// author is the likeliest to harass the moderator); where it shows them, it names them.
#[tokio::test]
async fn a_removal_notice_names_the_moderator_only_where_names_are_shown() {
    for shown in [true, false] {
        let (t, admin) =
            common::engagement::setup_with(|s| s.moderation.show_moderator_names = shown).await;
        let asker = t.member("asker").await;
        let answerer = t.member("answerer").await;
        let q = ask(&t, &asker, "question", "Which kettle?").await;
        let a = reply(&t, &answerer, q, None).await;
        remove_comment(&t, &admin, a).await;
        let n = &inbox(&t, &answerer).await[0];
        assert_eq!(n["kind"], "moderation", "{n}");
        assert_eq!(
            n["actor"].is_null(),
            !shown,
            "names shown: {shown}, notice: {n}"
        );
    }
}

/// A notification told before its post or its comment was taken down (removed by a
/// moderator, deleted by its author) stays listed, for its news, but no longer quotes the
/// post's title, often the very thing taken down: `post_title` null, `taken_down` true. The
/// notice of a removal itself, written with it, is not taken down since: it keeps its title.
#[tokio::test]
async fn a_notification_of_content_taken_down_since_no_longer_quotes_its_title() {
    let (t, admin) = setup().await;
    let marie = t.member("marie").await;
    let bob = t.member("bob").await;
    // One's notification about `post`, of `kind`.
    let about = async |token: &str, kind: &str, post: i64| -> Value {
        let list = inbox(&t, token).await;
        list.iter()
            .find(|n| n["kind"] == kind && n["post_id"] == post)
            .unwrap_or_else(|| panic!("no {kind} about {post}: {list:?}"))
            .clone()
    };
    let shown = |n: &Value, title: &str| {
        assert_eq!(
            (n["post_title"].as_str(), n["taken_down"].as_bool()),
            (Some(title), Some(false)),
            "{n}"
        );
    };
    let hidden = |n: &Value, told: &Value| {
        assert_eq!(
            (n["post_title"].as_str(), n["taken_down"].as_bool()),
            (None, Some(true)),
            "{n}"
        );
        // The rest of what it told is kept.
        for field in [
            "id",
            "kind",
            "actor",
            "post_id",
            "comment_id",
            "group",
            "created_at",
        ] {
            assert_eq!(n[field], told[field], "{field}: {n}");
        }
    };

    // A post naming her, removed by a moderator.
    let removed_title = "Le code de la porte est 4321, @marie";
    let removed = ask(&t, &bob, "question", removed_title).await;
    let told = about(&marie, "mention", removed).await;
    shown(&told, removed_title);
    remove_post(&t, &admin, removed, "secret divulgué").await;
    hidden(&about(&marie, "mention", removed).await, &told);
    shown(&about(&bob, "moderation", removed).await, removed_title);

    // Another, deleted by its author.
    let deleted_title = "Et celui du garage, @marie : 8765";
    let deleted = ask(&t, &bob, "question", deleted_title).await;
    let told = about(&marie, "mention", deleted).await;
    shown(&told, deleted_title);
    let deletion = t
        .request(
            Method::DELETE,
            &format!("/api/v1/posts/{deleted}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(deletion.status, StatusCode::NO_CONTENT, "{}", deletion.json);
    hidden(&about(&marie, "mention", deleted).await, &told);

    // A reply to her question, removed by a moderator: her question still stands, but what
    // she was told of is gone.
    let question = ask(&t, &marie, "question", "Quelle serrure ?").await;
    let answer = reply(&t, &bob, question, None).await;
    let told = about(&marie, "reply", question).await;
    shown(&told, "Quelle serrure ?");
    remove_comment(&t, &admin, answer).await;
    hidden(&about(&marie, "reply", question).await, &told);
    shown(
        &about(&bob, "moderation", question).await,
        "Quelle serrure ?",
    );

    // A private group's post, told while she was in it: after she left, its removal is not
    // hers to know (the title was hidden already).
    t.post(
        "/api/v1/groups",
        Some(&admin),
        json!({"name": "secret", "title": "Secret", "visibility": "private"}),
    )
    .await;
    let invite = t
        .post(
            "/api/v1/groups/secret/invitations",
            Some(&admin),
            json!({"handle": "marie"}),
        )
        .await;
    assert!(invite.status.is_success(), "{}", invite.json);
    t.request(
        Method::POST,
        "/api/v1/groups/secret/join",
        Some(&marie),
        None,
    )
    .await;
    let private = t
        .post(
            "/api/v1/groups/secret/posts",
            Some(&admin),
            json!({"kind": "note", "title": "Réunion, @marie"}),
        )
        .await;
    let private = private.json["post"]["id"].as_i64().unwrap();
    shown(&about(&marie, "mention", private).await, "Réunion, @marie");
    t.request(
        Method::POST,
        "/api/v1/groups/secret/leave",
        Some(&marie),
        None,
    )
    .await;
    remove_post(&t, &admin, private, "doublon").await;
    let n = about(&marie, "mention", private).await;
    assert_eq!(
        (n["post_title"].as_str(), n["taken_down"].as_bool()),
        (None, Some(false)),
        "{n}"
    );

    // Documented for the apps.
    let doc = t.get("/api/v1/openapi.json", None).await.json;
    let schema = &doc["components"]["schemas"]["NotificationView"];
    // (Its words as one line: the doc comment's line breaks are kept.)
    let said = schema["properties"]["taken_down"]["description"]
        .as_str()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
    assert!(
        said.is_some_and(|s| s.contains(
            "post or comment was deleted or removed after the notification; \
             its title is no longer shown"
        )),
        "{schema}"
    );
}

/// Nothing new is told of content already taken down: an edit its author makes of a post a
/// moderator removed (the author still reads and edits it) names carol, and the status of an
/// idea a moderator removed is changed. Both used to write a notification quoting, and
/// linking, the removed title (the list hides titles taken down *after* the notification,
/// not before), and "done" paid the idea badge for a removed idea.
#[tokio::test]
async fn nothing_new_is_told_of_content_already_taken_down() {
    let (t, admin) = setup().await;
    let bob = t.member("bob").await;
    let carol = t.member("carol").await;
    let fan = t.member("fan").await;
    let manager = t.with_role("claire", Role::CommunityManager).await;

    // bob edits his removed post to name carol: saved, and carol is told nothing.
    let post = ask(&t, &bob, "question", "Le code du portail").await;
    remove_post(&t, &admin, post, "hors sujet").await;
    let edited = t
        .request(
            Method::PATCH,
            &format!("/api/v1/posts/{post}"),
            Some(&bob),
            Some(json!({"title": "Le code du portail, @carol"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    assert_eq!(inbox(&t, &carol).await, Vec::<Value>::new());
    // The same edit of a post standing tells her (what the check above would miss).
    let standing = ask(&t, &bob, "question", "Le code du garage").await;
    let edited = t
        .request(
            Method::PATCH,
            &format!("/api/v1/posts/{standing}"),
            Some(&bob),
            Some(json!({"title": "Le code du garage, @carol"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    let told = inbox(&t, &carol).await;
    assert_eq!(
        (
            told.len(),
            told[0]["kind"].as_str(),
            told[0]["post_id"].as_i64()
        ),
        (1, Some("mention"), Some(standing)),
        "{told:?}"
    );

    // A removed idea keeps its status: 403 post_removed, its likers told nothing, no badge.
    let idea = ask(&t, &bob, "idea", "Un portail connecté").await;
    vote(
        &t,
        &fan,
        &format!("/api/v1/posts/{idea}/vote"),
        json!("like"),
    )
    .await;
    remove_post(&t, &admin, idea, "hors sujet").await;
    let before = inbox_all(&t, &bob).await.len();
    let changed = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{idea}/idea-status"),
            Some(&manager),
            Some(json!({"status": "done"})),
        )
        .await;
    assert_eq!(
        (
            changed.status,
            changed.code(),
            changed.json["error"]["details"]["action"].as_str()
        ),
        (StatusCode::FORBIDDEN, "forbidden", Some("post_removed")),
        "{}",
        changed.json
    );
    assert_eq!(inbox(&t, &fan).await, Vec::<Value>::new());
    assert_eq!(
        inbox_all(&t, &bob).await.len(),
        before,
        "nothing told, no badge"
    );
    let status = t
        .count_with(
            "SELECT count(*) AS n FROM post WHERE id = $1::bigint AND idea_status = 'submitted'",
            &[&idea.to_string()],
        )
        .await;
    assert_eq!(status, 1, "its status unchanged");
}

/// A comment is a text of its own: an edit its author makes of a comment a moderator
/// removed (the author still edits it) names carol, and she is told nothing, though the post
/// it answers stands. A check of the post alone (the post case above) would tell her, and
/// link her to the removed reply.
#[tokio::test]
async fn an_edit_of_a_removed_comment_naming_someone_tells_nobody() {
    let (t, admin) = setup().await;
    let bob = t.member("bob").await;
    let carol = t.member("carol").await;
    let edit = async |comment: i64, body: &str| {
        let edited = t
            .request(
                Method::PATCH,
                &format!("/api/v1/comments/{comment}"),
                Some(&bob),
                Some(json!({ "body": body })),
            )
            .await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.json);
    };
    let q = ask(&t, &bob, "question", "Le code du portail ?").await;

    // bob edits his removed reply to name carol: saved, and carol is told nothing.
    let removed = comment(&t, &bob, q, None, "C'est 4321").await;
    remove_comment(&t, &admin, removed).await;
    edit(removed, "C'est 4321, @carol").await;
    assert_eq!(inbox(&t, &carol).await, Vec::<Value>::new());
    // The same edit of a reply standing tells her (what the check above would miss).
    let standing = comment(&t, &bob, q, None, "Ou 8765").await;
    edit(standing, "Ou 8765, @carol").await;
    let told = inbox(&t, &carol).await;
    assert_eq!(
        (
            told.len(),
            told[0]["kind"].as_str(),
            told[0]["comment_id"].as_i64()
        ),
        (1, Some("mention"), Some(standing)),
        "{told:?}"
    );
}

/// Mail off (the default): the marks that would mail notifications used to stay forever — to
/// be mailed all at once, news months old, the day mail was turned on. The clean-up takes
/// them off (the notifications stay in the app), and does nothing while mail is on.
#[tokio::test]
async fn with_mail_off_notification_mail_marks_are_forgotten() {
    let forget = async |t: &TestApp| {
        t.ctx
            .transaction(|conn| {
                notification_mails::forget_marks_while_mail_is_off(conn, &t.ctx, 1).scope_boxed()
            })
            .await
            .unwrap()
    };
    let marked = "SELECT count(*) AS n FROM notification WHERE mail_due IS NOT NULL";
    let answered = async |t: &TestApp| {
        let asker = t.member("asker").await;
        let answerer = t.member("answerer").await;
        for title in ["Which kettle?", "Which teapot?"] {
            let q = ask(t, &asker, "question", title).await;
            reply(t, &answerer, q, None).await;
        }
        asker
    };

    let (t, _) = setup().await;
    let asker = answered(&t).await;
    assert_eq!(
        t.count(marked).await,
        2,
        "replies are mailed at once by default"
    );
    // A batch at a time.
    assert_eq!(forget(&t).await, 1);
    assert_eq!(forget(&t).await, 1);
    assert_eq!(forget(&t).await, 0);
    assert_eq!(t.count(marked).await, 0);
    assert_eq!(inbox(&t, &asker).await.len(), 2, "still in the app");

    let (t, _) = common::engagement::setup_with(|s| s.email.enabled = true).await;
    answered(&t).await;
    assert_eq!(forget(&t).await, 0, "mail on: the mail worker's to clear");
    assert_eq!(t.count(marked).await, 2);
}

/// A suspended member is not mailed about the community they may not enter (their
/// notifications stay in the app); once reinstated, they are mailed again.
#[tokio::test]
async fn a_suspended_member_gets_no_notification_mail() {
    let (t, _) = common::engagement::setup_with(|s| s.email.enabled = true).await;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let set_status = |status: &'static str| {
        let t = &t;
        async move {
            t.sql(&format!(
                    "UPDATE local_user SET email = 'asker@example.org', email_verified_at = now(), \
                     status = '{status}' WHERE person_id = (SELECT id FROM person WHERE username = 'asker')"
                ),
            )
            .await
        }
    };
    let q = ask(&t, &asker, "question", "Which kettle?").await;
    set_status("suspended").await;
    reply(&t, &answerer, q, None).await;
    mail_pass(&t).await;
    let to_asker = "SELECT count(*) AS n FROM mail_queue WHERE to_address = 'asker@example.org'";
    assert_eq!(t.count(to_asker).await, 0, "suspended: no mail");
    set_status("active").await;
    reply(&t, &answerer, q, None).await;
    mail_pass(&t).await;
    assert_eq!(t.count(to_asker).await, 1, "reinstated: mailed again");
}

/// Digests at the member's local hour (clock injected): a member first seen starts from the
/// current period; one whose local 08:00 has not come is not due; each period is sent once,
/// even by two runs at once; what a digest holds leaves the pending notifications.
#[tokio::test]
async fn digests_go_at_the_local_hour_once_per_period() {
    use cenacle_core::digests;
    let (t, _) = common::engagement::setup_with(|s| {
        s.email.enabled = true;
        s.email.digest_hour = 8;
    })
    .await;
    let carl = t.member("carl").await;
    let mut askers = Vec::new();
    for name in ["ana", "ben"] {
        let token = t.member(name).await;
        t.sql(&format!(
            "UPDATE local_user SET email = '{name}@example.org', email_verified_at = now() \
                 WHERE person_id = (SELECT id FROM person WHERE username = '{name}')"
        ))
        .await;
        let set = t
            .request(
                Method::PUT,
                "/api/v1/notifications/preferences",
                Some(&token),
                Some(json!({"preferences": {"reply": "email_daily"}})),
            )
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.json);
        askers.push(token);
    }
    // Ben lives in Honolulu (UTC−10 all year).
    let set = t
        .request(
            Method::PUT,
            "/api/v1/notifications/preferences",
            Some(&askers[1]),
            Some(json!({"time_zone": "Pacific/Honolulu"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    let run = async |now| {
        t.ctx
            .transaction(|conn| digests::send_due_digests(conn, &t.ctx, now).scope_boxed())
            .await
            .unwrap()
    };
    let digests_to = async |name: &str| {
        t.count(&format!("SELECT count(*) AS n FROM mail_queue WHERE kind = 'digest' AND to_address = '{name}@example.org'"),
        )
        .await
    };
    // Days ahead of the content's real time, so only pending notifications fill the digests.
    let day = (Utc::now() + Duration::days(10))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let h = |hours: i64, minutes: i64| day + Duration::hours(hours) + Duration::minutes(minutes);

    assert_eq!(run(h(-12, 0)).await, 0, "first seen: the period starts");
    for token in &askers {
        let q = ask(&t, token, "question", "Digest me?").await;
        reply(&t, &carl, q, None).await;
    }
    assert_eq!(
        t.count("SELECT count(*) AS n FROM notification WHERE mail_due = 'daily'")
            .await,
        2
    );
    // 17:00 UTC is 07:00 for Ben: not yet; Ana's 08:00 of the day was handled already.
    assert_eq!(run(h(-7, 0)).await, 0);
    // 18:30 UTC is 08:30 for Ben.
    assert_eq!(run(h(-5, -30)).await, 1);
    assert_eq!((digests_to("ben").await, digests_to("ana").await), (1, 0));
    // 08:30 UTC the next day: Ana's turn; Ben's day was handled.
    assert_eq!(run(h(8, 30)).await, 1);
    assert_eq!(
        run(h(8, 30)).await,
        0,
        "a second run the same period sends nothing"
    );
    assert_eq!((digests_to("ben").await, digests_to("ana").await), (1, 1));
    let mail = t.count("SELECT count(*) AS n FROM mail_queue WHERE kind = 'digest' AND to_address = 'ana@example.org' \
         AND subject LIKE 'Your daily summary%' AND text_body LIKE '%carl replied to “Digest me?”%' \
         AND text_body LIKE '%/unsubscribe?%k=digest%'",
    )
    .await;
    assert_eq!(
        mail, 1,
        "the digest tells the reply and carries its unsubscribe link"
    );
    assert_eq!(
        t.count("SELECT count(*) AS n FROM notification WHERE mail_due IS NOT NULL")
            .await,
        0
    );
    // Nothing new: the next day's digests are empty, so not sent.
    assert_eq!(run(h(32, 30)).await, 0);
    // A new reply to Ana, then two runs at once the day after: one digest.
    let q = ask(&t, &askers[0], "question", "Once only?").await;
    reply(&t, &carl, q, None).await;
    let (a, b) = tokio::join!(run(h(56, 30)), run(h(56, 30)));
    assert_eq!(a + b, 1);
    assert_eq!(digests_to("ana").await, 2);
}
