//! Groups' contributions through the real router and database: posting rules, answers,
//! accepted answers, the idea pipeline, votes, history.

mod common;

use axum::http::{Method, StatusCode};
use cenacle_domain::Role;
use common::TestApp;
use serde_json::{json, Value};

struct Fixture {
    t: TestApp,
    admin: String,
}

async fn fixture() -> Fixture {
    fixture_with(|_| {}).await
}

async fn fixture_with(tweak: impl FnOnce(&mut cenacle_config::Settings)) -> Fixture {
    let t = TestApp::with(tweak).await;
    let admin = t.with_role("root", Role::Admin).await;
    for (name, visibility) in [
        ("open", "public"),
        ("club", "restricted"),
        ("secret", "private"),
    ] {
        let r = t
            .post(
                "/api/v1/groups",
                Some(&admin),
                json!({"name": name, "title": name, "visibility": visibility}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    }
    Fixture { t, admin }
}

async fn post(
    t: &TestApp,
    token: &str,
    group: &str,
    kind: &str,
    title: &str,
) -> (StatusCode, Value) {
    let r = t
        .post(&format!("/api/v1/groups/{group}/posts"), Some(token), json!({"kind": kind, "title": title, "body": "Détails **en Markdown**", "tags": ["Rust", "#rust", "async"]}))
        .await;
    (r.status, r.json)
}

fn id(v: &Value) -> i64 {
    v["post"]["id"]
        .as_i64()
        .or_else(|| v["id"].as_i64())
        .unwrap()
}

#[tokio::test]
async fn who_may_post_and_read_where() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let (status, created) = post(t, &marie, "open", "question", "Comment compiler ?").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["post"]["tags"], json!(["rust", "async"]));
    assert_eq!(created["post"]["author"]["username"], "marie");

    // Restricted: anyone reads, members post.
    let (status, refused) = post(t, &marie, "club", "note", "Bonjour").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(
        t.request(Method::POST, "/api/v1/groups/club/join", Some(&marie), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let (status, club_post) = post(t, &marie, "club", "note", "Bonjour").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        t.get(&format!("/api/v1/posts/{}", id(&club_post)), None)
            .await
            .status,
        StatusCode::OK
    );

    // Private: a non-member reading gets 404, not 403, and cannot join by themselves.
    let (status, secret) = post(t, &f.admin, "secret", "note", "Confidentiel").await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/v1/posts/{}", id(&secret));
    assert_eq!(
        t.get(&path, Some(&marie)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.get(&path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        t.get("/api/v1/groups/secret/posts", Some(&marie))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.request(
            Method::POST,
            "/api/v1/groups/secret/join",
            Some(&marie),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(t.get(&path, Some(&f.admin)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn answers_and_who_may_accept_them() {
    let f = fixture().await;
    let t = &f.t;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let bystander = t.member("bystander").await;
    let staff = t.with_role("employee", Role::Staff).await;
    let (_, q) = post(t, &asker, "open", "question", "Pourquoi ?").await;
    let qid = id(&q);
    let answer = |token: String, body: &'static str| {
        let path = format!("/api/v1/posts/{qid}/comments");
        async move {
            t.post(&path, Some(&token), json!({"body": body}))
                .await
                .json
        }
    };
    let first = answer(answerer.clone(), "Parce que.").await;
    let official = answer(staff.clone(), "Réponse officielle.").await;
    assert_eq!(official["official"], true);
    let reply = t
        .post(
            &format!("/api/v1/posts/{qid}/comments"),
            Some(&bystander),
            json!({"body": "Merci", "parent_id": first["id"]}),
        )
        .await;
    assert_eq!(reply.json["depth"], 1);

    let accept = async |token: &str, comment: Value| {
        t.request(
            Method::PUT,
            &format!("/api/v1/posts/{qid}/accepted-answer"),
            Some(token),
            Some(json!({"comment_id": comment})),
        )
        .await
    };
    assert_eq!(
        accept(&bystander, first["id"].clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        accept(&answerer, first["id"].clone()).await.status,
        StatusCode::FORBIDDEN
    );
    // A reply is not an answer.
    assert_eq!(
        accept(&asker, reply.json["id"].clone()).await.status,
        StatusCode::NOT_FOUND
    );
    let accepted = accept(&asker, official["id"].clone()).await;
    assert_eq!(accepted.status, StatusCode::OK);
    assert_eq!(accepted.json["post"]["accepted_answer_id"], official["id"]);
    assert_eq!(
        accepted.json["comments"][0]["id"], official["id"],
        "the accepted answer comes first"
    );
    assert_eq!(accepted.json["comments"][0]["accepted"], true);
    // Staff and moderators may change it; null clears it.
    assert_eq!(
        accept(&staff, first["id"].clone()).await.json["post"]["accepted_answer_id"],
        first["id"]
    );
    assert_eq!(
        accept(&f.admin, Value::Null).await.json["post"]["accepted_answer_id"],
        Value::Null
    );
    // Only questions have accepted answers.
    let (_, note) = post(t, &asker, "open", "note", "Une note").await;
    let r = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{}/accepted-answer", id(&note)),
            Some(&asker),
            Some(json!({"comment_id": null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_idea_pipeline_is_for_moderators_and_keeps_its_history() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    let (_, idea) = post(t, &marie, "open", "idea", "Un mode sombre").await;
    assert_eq!(idea["post"]["idea_status"], "submitted");
    let iid = id(&idea);
    let change = async |token: &str, body: Value| {
        t.request(
            Method::PUT,
            &format!("/api/v1/posts/{iid}/idea-status"),
            Some(token),
            Some(body),
        )
        .await
    };
    assert_eq!(
        change(&marie, json!({"status": "planned"})).await.status,
        StatusCode::FORBIDDEN
    );
    let planned = change(
        &manager,
        json!({"status": "planned", "comment": "Prévu pour mars"}),
    )
    .await;
    assert_eq!(planned.json["post"]["idea_status"], "planned");
    assert_eq!(
        change(&manager, json!({"status": "planned"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        change(&f.admin, json!({"status": "duplicate"}))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, original) = post(t, &marie, "open", "idea", "Thème sombre").await;
    let dup = change(
        &f.admin,
        json!({"status": "duplicate", "duplicate_of": id(&original)}),
    )
    .await;
    assert_eq!(
        (
            dup.json["post"]["idea_status"].as_str(),
            dup.json["post"]["duplicate_of"].as_i64()
        ),
        (Some("duplicate"), Some(id(&original)))
    );
    let history = t.get(&format!("/api/v1/posts/{iid}/history"), None).await;
    let changes = history.json["status_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0]["comment"], "Prévu pour mars");
    assert_eq!(
        (changes[1]["from"].as_str(), changes[1]["to"].as_str()),
        (Some("planned"), Some("duplicate"))
    );

    // Filter by status, sort by votes.
    t.request(
        Method::PUT,
        &format!("/api/v1/posts/{}/vote", id(&original)),
        Some(&marie),
        Some(json!({"vote": "like"})),
    )
    .await;
    let submitted = t
        .get(
            "/api/v1/groups/open/posts?kind=idea&status=submitted&sort=top",
            None,
        )
        .await;
    let items = submitted.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"].as_i64(), Some(id(&original)));
    assert_eq!(
        t.get("/api/v1/groups/open/posts?status=nonsense", None)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn edits_keep_history_and_locks_stop_comments() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let pierre = t.member("pierre").await;
    let (_, p) = post(t, &marie, "open", "note", "Premier titre").await;
    let pid = id(&p);
    let edit = async |token: &str| {
        t.request(
            Method::PATCH,
            &format!("/api/v1/posts/{pid}"),
            Some(token),
            Some(json!({"title": "Second titre"})),
        )
        .await
    };
    assert_eq!(edit(&pierre).await.status, StatusCode::FORBIDDEN);
    assert_eq!(edit(&marie).await.json["post"]["title"], "Second titre");
    let history = t.get(&format!("/api/v1/posts/{pid}/history"), None).await;
    assert_eq!(history.json["edits"][0]["title"], "Premier titre");

    let lock = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{pid}/moderation"),
            Some(&marie),
            Some(json!({"locked": true})),
        )
        .await;
    assert_eq!(
        lock.status,
        StatusCode::FORBIDDEN,
        "authors do not moderate"
    );
    let lock = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{pid}/moderation"),
            Some(&f.admin),
            Some(json!({"locked": true, "pinned": true})),
        )
        .await;
    assert_eq!(lock.json["post"]["locked"], true);
    let refused = t
        .post(
            &format!("/api/v1/posts/{pid}/comments"),
            Some(&pierre),
            json!({"body": "Trop tard"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    assert_eq!(
        t.request(
            Method::DELETE,
            &format!("/api/v1/posts/{pid}"),
            Some(&pierre),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.request(
            Method::DELETE,
            &format!("/api/v1/posts/{pid}"),
            Some(&marie),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.get(&format!("/api/v1/posts/{pid}"), None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn votes_are_one_per_person_changeable_and_undoable() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let (_, p) = post(t, &marie, "open", "question", "Votez").await;
    let path = format!("/api/v1/posts/{}/vote", id(&p));
    let vote = |v: Value| t.request(Method::PUT, &path, Some(&marie), Some(json!({"vote": v})));
    assert_eq!(
        vote(json!("like")).await.json,
        json!({"likes": 1, "dislikes": 0, "score": 1})
    );
    assert_eq!(
        vote(json!("like")).await.json["likes"],
        1,
        "a second like changes nothing"
    );
    assert_eq!(
        vote(json!("dislike")).await.json,
        json!({"likes": 0, "dislikes": 1, "score": -1})
    );
    assert_eq!(
        vote(Value::Null).await.json,
        json!({"likes": 0, "dislikes": 0, "score": 0})
    );
    let c = t
        .post(
            &format!("/api/v1/posts/{}/comments", id(&p)),
            Some(&marie),
            json!({"body": "Réponse"}),
        )
        .await;
    let cv = t
        .request(
            Method::PUT,
            &format!("/api/v1/comments/{}/vote", c.json["id"]),
            Some(&marie),
            Some(json!({"vote": "like"})),
        )
        .await;
    assert_eq!(cv.json["likes"], 1);
}

#[tokio::test]
async fn fifty_parallel_likes_from_distinct_members_score_exactly_fifty() {
    // Fifty logins from one test address would trip the per-address limits.
    let f = fixture_with(|s| {
        s.limits.login_per_ip = 1000;
        s.limits.register_per_ip = 1000;
    })
    .await;
    let t = &f.t;
    let author = t.member("author").await;
    let (_, p) = post(t, &author, "open", "idea", "Populaire").await;
    let path = format!("/api/v1/posts/{}/vote", id(&p));
    let mut tokens = Vec::new();
    for i in 0..50 {
        tokens.push(t.member(&format!("voter{i}")).await);
    }
    let votes = tokens.iter().map(|token| {
        t.request(
            Method::PUT,
            &path,
            Some(token),
            Some(json!({"vote": "like"})),
        )
    });
    for reply in futures::future::join_all(votes).await {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    }
    let after = t.get(&format!("/api/v1/posts/{}", id(&p)), None).await;
    assert_eq!(after.json["post"]["likes"], 50);
    assert_eq!(after.json["post"]["score"], 50);
}
