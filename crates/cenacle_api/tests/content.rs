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
    let joined = t
        .request(Method::POST, "/api/v1/groups/club/join", Some(&marie), None)
        .await;
    assert_eq!(joined.json["status"], "member");
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
    let asked = t
        .request(
            Method::POST,
            "/api/v1/groups/secret/join?message=Bonjour",
            Some(&marie),
            None,
        )
        .await;
    assert_eq!(
        asked.json["status"], "requested",
        "a private group takes requests, not members"
    );
    assert_eq!(
        t.get(&path, Some(&marie)).await.status,
        StatusCode::NOT_FOUND,
        "a request is not membership"
    );
    assert_eq!(t.get(&path, Some(&f.admin)).await.status, StatusCode::OK);
    // Its owner approves; marie reads.
    let requests = t
        .get("/api/v1/groups/secret/join-requests", Some(&f.admin))
        .await;
    assert_eq!(requests.json[0]["message"], "Bonjour");
    let person = requests.json[0]["person_id"].as_i64().unwrap();
    // Moderators' pages of a private group are not found by its non-members.
    assert_eq!(
        t.get("/api/v1/groups/secret/join-requests", Some(&marie))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let approved = t
        .request(
            Method::PUT,
            &format!("/api/v1/groups/secret/join-requests/{person}"),
            Some(&f.admin),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(approved.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get(&path, Some(&marie)).await.status, StatusCode::OK);
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
    // The same status again (a double click) changes nothing and answers the idea as it is:
    // the history below keeps one change to "planned".
    let again = change(&manager, json!({"status": "planned"})).await;
    assert_eq!(
        (again.status, again.json["post"]["idea_status"].as_str()),
        (StatusCode::OK, Some("planned"))
    );
    // The same form sent twice, its comment with it: the second finds it said.
    let twice = change(
        &manager,
        json!({"status": "planned", "comment": "Prévu pour mars"}),
    )
    .await;
    assert_eq!(twice.status, StatusCode::OK, "{}", twice.json);
    // A new comment on a status it already has would be lost: refused, as before.
    let new_word = change(
        &manager,
        json!({"status": "planned", "comment": "Plutôt avril"}),
    )
    .await;
    assert_eq!(
        (
            new_word.status,
            new_word.json["error"]["details"]["reason"].as_str()
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unchanged"))
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
    // Dislikes need reputation; this test is about the votes themselves.
    let f = fixture_with(|s| s.engagement.privileges.dislike = 0).await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let paul = t.member("paul").await;
    let (_, p) = post(t, &marie, "open", "question", "Votez").await;
    let path = format!("/api/v1/posts/{}/vote", id(&p));
    // One's own vote is recorded but counts for nothing, not even in the shown count.
    let own = t
        .request(
            Method::PUT,
            &path,
            Some(&marie),
            Some(json!({"vote": "like"})),
        )
        .await;
    assert_eq!(own.json, json!({"likes": 0, "dislikes": 0, "score": 0}));
    let vote = |v: Value| t.request(Method::PUT, &path, Some(&paul), Some(json!({"vote": v})));
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
            Some(&paul),
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

#[tokio::test]
async fn invitations_and_moderators() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let pierre = t.member("pierre").await;
    let invited = t
        .post(
            "/api/v1/groups/secret/invitations",
            Some(&f.admin),
            json!({"handle": "pierre"}),
        )
        .await;
    assert_eq!(invited.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.request(
            Method::POST,
            "/api/v1/groups/secret/join",
            Some(&pierre),
            None
        )
        .await
        .json["status"],
        "member"
    );
    // The owner makes marie a moderator of the open group: she may then lock posts there.
    let (_, p) = post(t, &pierre, "open", "note", "À modérer").await;
    let lock = |token: String| {
        let path = format!("/api/v1/posts/{}/moderation", id(&p));
        async move {
            t.request(
                Method::PUT,
                &path,
                Some(&token),
                Some(json!({"locked": true})),
            )
            .await
            .status
        }
    };
    assert_eq!(lock(marie.clone()).await, StatusCode::FORBIDDEN);
    let promote = t
        .request(
            Method::PUT,
            "/api/v1/groups/open/members/marie",
            Some(&f.admin),
            Some(json!({"role": "moderator"})),
        )
        .await;
    assert_eq!(promote.status, StatusCode::NO_CONTENT);
    assert_eq!(lock(marie.clone()).await, StatusCode::OK);
    // A moderator cannot hand out ownership.
    let grab = t
        .request(
            Method::PUT,
            "/api/v1/groups/open/members/pierre",
            Some(&marie),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(grab.status, StatusCode::FORBIDDEN);
    let members = t.get("/api/v1/groups/open/members", None).await;
    let roles: Vec<(&str, &str)> = members
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["handle"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert!(
        roles.contains(&("root", "owner")) && roles.contains(&("marie", "moderator")),
        "{roles:?}"
    );
}

#[tokio::test]
async fn ratings_dislikes_switch_and_archived_groups() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let pierre = t.member("pierre").await;
    let (_, idea) = post(t, &marie, "open", "idea", "Noter").await;
    let rate = |token: String, stars: Value| {
        let path = format!("/api/v1/posts/{}/rating", id(&idea));
        async move {
            t.request(
                Method::PUT,
                &path,
                Some(&token),
                Some(json!({"stars": stars})),
            )
            .await
        }
    };
    assert_eq!(
        rate(marie.clone(), json!(5)).await.json,
        json!({"average": 5.0, "count": 1})
    );
    assert_eq!(
        rate(pierre.clone(), json!(2)).await.json,
        json!({"average": 3.5, "count": 2})
    );
    assert_eq!(
        rate(pierre.clone(), json!(4)).await.json,
        json!({"average": 4.5, "count": 2}),
        "a new rating replaces the old"
    );
    assert_eq!(
        rate(marie.clone(), Value::Null).await.json,
        json!({"average": 4.0, "count": 1})
    );
    assert_eq!(
        rate(marie.clone(), json!(6)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, question) = post(t, &marie, "open", "question", "Pas de notes").await;
    let r = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{}/rating", id(&question)),
            Some(&marie),
            Some(json!({"stars": 3})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let off = t
        .request(
            Method::PATCH,
            "/api/v1/groups/open",
            Some(&f.admin),
            Some(json!({"dislikes_enabled": false, "rules": "Soyez courtois", "tags": ["Rust"]})),
        )
        .await;
    assert_eq!(
        (
            off.json["dislikes_enabled"].as_bool(),
            off.json["rules"].as_str()
        ),
        (Some(false), Some("Soyez courtois"))
    );
    let dislike = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{}/vote", id(&idea)),
            Some(&pierre),
            Some(json!({"vote": "dislike"})),
        )
        .await;
    assert_eq!(dislike.status, StatusCode::FORBIDDEN);
    let like = t
        .request(
            Method::PUT,
            &format!("/api/v1/posts/{}/vote", id(&idea)),
            Some(&pierre),
            Some(json!({"vote": "like"})),
        )
        .await;
    assert_eq!(like.status, StatusCode::OK);

    let edit_by_member = t
        .request(
            Method::PATCH,
            "/api/v1/groups/open",
            Some(&marie),
            Some(json!({"archived": true})),
        )
        .await;
    assert_eq!(edit_by_member.status, StatusCode::FORBIDDEN);
    t.request(
        Method::PATCH,
        "/api/v1/groups/open",
        Some(&f.admin),
        Some(json!({"archived": true})),
    )
    .await;
    let (status, _) = post(t, &marie, "open", "note", "Trop tard").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        t.get(&format!("/api/v1/posts/{}", id(&idea)), None)
            .await
            .status,
        StatusCode::OK,
        "archived groups stay readable"
    );
}

#[tokio::test]
async fn groups_grow_from_proposals() {
    let f = fixture_with(|s| {
        s.groups.proposal_threshold = 3;
        s.engagement.privileges.propose_group = 0;
        s.limits.register_per_ip = 100;
        s.limits.login_per_ip = 100;
    })
    .await;
    let t = &f.t;
    let alice = t.member("alice").await;
    let bob = t.member("bob").await;
    let carol = t.member("carol").await;
    let proposed = t
        .post(
            "/api/v1/proposals",
            Some(&alice),
            json!({"name": "photo", "title": "Photo", "purpose": "Partager nos photos"}),
        )
        .await;
    assert_eq!(proposed.status, StatusCode::CREATED, "{}", proposed.json);
    let pid = proposed.json["id"].as_i64().unwrap();
    let again = t
        .post(
            "/api/v1/proposals",
            Some(&bob),
            json!({"name": "open", "title": "x", "purpose": "y"}),
        )
        .await;
    assert_eq!(
        (again.status, again.json["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("group_exists"))
    );
    let back = |token: String| {
        let path = format!("/api/v1/proposals/{pid}/back");
        async move {
            t.request(Method::POST, &path, Some(&token), None)
                .await
                .json
        }
    };
    assert_eq!(
        back(alice.clone()).await["backers"],
        1,
        "the proposer already backs it; backing twice counts once"
    );
    let second = back(bob.clone()).await;
    assert_eq!(
        (second["backers"].as_i64(), second["status"].as_str()),
        (Some(2), Some("open"))
    );
    let third = back(carol.clone()).await;
    assert_eq!(
        (third["status"].as_str(), third["group"].as_str()),
        (Some("created"), Some("photo"))
    );
    let members = t.get("/api/v1/groups/photo/members", None).await;
    assert_eq!(members.json[0]["handle"], "alice");
    assert_eq!(members.json[0]["role"], "owner");
    // Backers are invited (a private group would let them in with it).
    assert_eq!(
        t.request(Method::POST, "/api/v1/groups/photo/join", Some(&bob), None)
            .await
            .json["status"],
        "member"
    );

    // Community managers decide at any time.
    let other = t
        .post(
            "/api/v1/proposals",
            Some(&bob),
            json!({"name": "velo", "title": "Vélo", "purpose": "Rouler"}),
        )
        .await;
    let oid = other.json["id"].as_i64().unwrap();
    let by_member = t
        .request(
            Method::PUT,
            &format!("/api/v1/proposals/{oid}/decision"),
            Some(&alice),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
    let declined = t
        .request(
            Method::PUT,
            &format!("/api/v1/proposals/{oid}/decision"),
            Some(&f.admin),
            Some(json!({"approve": false})),
        )
        .await;
    assert_eq!(declined.json["status"], "declined");
    let twice = t
        .request(
            Method::PUT,
            &format!("/api/v1/proposals/{oid}/decision"),
            Some(&f.admin),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(
        t.get("/api/v1/groups/velo", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn feeds_sort_and_respect_private_groups() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let (_, old) = post(t, &marie, "open", "question", "Ancienne question").await;
    let (_, liked) = post(t, &marie, "open", "idea", "Idée aimée").await;
    let (_, club) = post(t, &f.admin, "club", "note", "Note du club").await;
    let (_, secret) = post(t, &f.admin, "secret", "note", "Note secrète").await;
    // Liked by someone else (one's own like counts for nothing, in sorts too).
    t.request(
        Method::PUT,
        &format!("/api/v1/posts/{}/vote", id(&liked)),
        Some(&f.admin),
        Some(json!({"vote": "like"})),
    )
    .await;
    let ids = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };

    let everyone = t.get("/api/v1/feed", None).await;
    assert_eq!(
        ids(&everyone.json),
        vec![id(&club), id(&liked), id(&old)],
        "newest first, no private posts"
    );
    let admin_view = t.get("/api/v1/feed", Some(&f.admin)).await;
    assert!(ids(&admin_view.json).contains(&id(&secret)));
    let top = t.get("/api/v1/feed?sort=top&period=week", None).await;
    assert_eq!(ids(&top.json)[0], id(&liked));
    let hot = t.get("/api/v1/feed?sort=hot", None).await;
    assert_eq!(ids(&hot.json)[0], id(&liked));
    let unanswered = t.get("/api/v1/feed?unanswered=true", None).await;
    assert_eq!(ids(&unanswered.json), vec![id(&old)]);
    // Home: only groups marie joined (none yet), then the club.
    assert_eq!(
        t.get("/api/v1/feed?scope=home", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(ids(&t.get("/api/v1/feed?scope=home", Some(&marie)).await.json).is_empty());
    t.request(Method::POST, "/api/v1/groups/club/join", Some(&marie), None)
        .await;
    assert_eq!(
        ids(&t.get("/api/v1/feed?scope=home", Some(&marie)).await.json),
        vec![id(&club)]
    );
    let page1 = t.get("/api/v1/feed?limit=2", None).await;
    let cursor = page1.json["next_cursor"].as_str().unwrap();
    let page2 = t
        .get(&format!("/api/v1/feed?limit=2&cursor={cursor}"), None)
        .await;
    assert_eq!(ids(&page2.json), vec![id(&old)]);
    assert_eq!(
        t.get("/api/v1/feed?sort=sideways", None).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn search_in_french_and_english_respects_private_groups() {
    let f = fixture().await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let fr = t
        .post("/api/v1/groups/open/posts", Some(&marie), json!({"kind": "question", "title": "Les chevaux mangent-ils des pommes ?", "language": "fr", "tags": ["animaux"]}))
        .await;
    let en = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&marie),
            json!({"kind": "idea", "title": "Running faster with better shoes", "language": "en"}),
        )
        .await;
    let secret = t
        .post(
            "/api/v1/groups/secret/posts",
            Some(&f.admin),
            json!({"kind": "note", "title": "Les chevaux du directeur", "language": "fr"}),
        )
        .await;
    let found = |path: &str, token: Option<&str>| {
        let path = path.to_owned();
        let token = token.map(str::to_owned);
        async move {
            let r = t.get(&path, token.as_deref()).await;
            r.json["items"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| p["id"].as_i64().unwrap())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    // French stemming: "cheval" finds "chevaux"? No — but "pomme" finds "pommes", "mange" finds "mangent".
    assert_eq!(
        found("/api/v1/search?q=pomme", None).await,
        vec![id(&fr.json)]
    );
    assert_eq!(
        found("/api/v1/search?q=run%20shoe", None).await,
        vec![id(&en.json)]
    );
    assert_eq!(
        found("/api/v1/search?q=chevaux", None).await,
        vec![id(&fr.json)],
        "private posts stay hidden"
    );
    assert!(found("/api/v1/search?q=chevaux", Some(&f.admin))
        .await
        .contains(&id(&secret.json)));
    assert_eq!(
        found(
            "/api/v1/search?q=chevaux&tag=animaux&kind=question&answered=unanswered",
            None
        )
        .await,
        vec![id(&fr.json)]
    );
    assert!(found("/api/v1/search?q=chevaux&answered=answered", None)
        .await
        .is_empty());
    // Comments are searched too.
    t.post(
        &format!("/api/v1/posts/{}/comments", id(&en.json)),
        Some(&marie),
        json!({"body": "Try marathon training plans"}),
    )
    .await;
    assert_eq!(
        found("/api/v1/search?q=marathon", None).await,
        vec![id(&en.json)]
    );
    assert_eq!(
        t.get("/api/v1/search?q=%20", None).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

fn png(size: usize) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.resize(size, 0);
    bytes
}

async fn upload(t: &TestApp, token: &str, content_type: &str, bytes: Vec<u8>) -> common::Reply {
    upload_to(t, "/api/v1/media", token, content_type, bytes).await
}

/// An upload to `uri` (`/api/v1/media`, with its query).
async fn upload_to(
    t: &TestApp,
    uri: &str,
    token: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> common::Reply {
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(bytes))
        .unwrap();
    t.send(request).await
}

/// A video is served in parts when a player asks for them (`Range`): it seeks, and Safari
/// plays no video otherwise; a range beyond the file is refused with 416.
#[tokio::test]
async fn a_stored_video_is_served_in_the_parts_a_player_asks_for() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let f = fixture_with(move |s| s.server.data_dir = dir).await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let mut video = b"\x00\x00\x00\x18ftypmp42".to_vec();
    video.extend((0..10_000u32).map(|i| (i % 251) as u8));
    let stored = upload(t, &marie, "video/mp4", video.clone()).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.json);
    let url = stored.json["url"].as_str().unwrap();
    let path = url.trim_start_matches("http://localhost:8700").to_owned();
    let fetch = |range: Option<&'static str>| {
        let path = path.clone();
        async move {
            let mut request = axum::http::Request::get(&path);
            if let Some(range) = range {
                request = request.header(axum::http::header::RANGE, range);
            }
            let response = tower::ServiceExt::oneshot(
                t.app.clone(),
                request.body(axum::body::Body::empty()).unwrap(),
            )
            .await
            .unwrap();
            let status = response.status();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            let (accept, content_range) = (header("accept-ranges"), header("content-range"));
            let body = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            (status, accept, content_range, body.to_vec())
        }
    };
    let total = video.len();
    let whole = fetch(None).await;
    assert_eq!(
        (whole.0, whole.1.as_deref(), whole.3.len()),
        (StatusCode::OK, Some("bytes"), total)
    );
    let (status, _, range, body) = fetch(Some("bytes=100-199")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(range, Some(format!("bytes 100-199/{total}")));
    assert_eq!(body, video[100..200]);
    let (status, _, range, body) = fetch(Some("bytes=-16")).await;
    assert_eq!(
        (status, range),
        (
            StatusCode::PARTIAL_CONTENT,
            Some(format!("bytes {}-{}/{total}", total - 16, total - 1))
        )
    );
    assert_eq!(body, video[total - 16..]);
    let (status, _, _, body) = fetch(Some("bytes=9000-")).await;
    assert_eq!(
        (status, body),
        (StatusCode::PARTIAL_CONTENT, video[9000..].to_vec())
    );
    let (status, _, range, _) = fetch(Some("bytes=50000-")).await;
    assert_eq!(
        (status, range),
        (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Some(format!("bytes */{total}"))
        )
    );
    // Several ranges at once are not served in parts: the whole file.
    let (status, _, _, body) = fetch(Some("bytes=0-1,5-9")).await;
    assert_eq!((status, body.len()), (StatusCode::OK, total));
}

#[tokio::test]
async fn media_uploads_are_checked_stored_attached_and_served() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let f = fixture_with(move |s| {
        s.server.data_dir = dir;
        s.media.max_video_bytes = 4096;
    })
    .await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let pierre = t.member("pierre").await;
    // Larger than the API's 1 MiB body limit, within the image limit.
    let big = upload(t, &marie, "image/png", png(1_500_000)).await;
    assert_eq!(big.status, StatusCode::CREATED, "{}", big.json);
    assert_eq!(big.json["content_type"], "image/png");
    let mismatch = upload(t, &marie, "image/jpeg", png(100)).await;
    assert_eq!(
        (
            mismatch.status,
            mismatch.json["error"]["details"]["reason"].as_str()
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("type_mismatch"))
    );
    let script = upload(
        t,
        &marie,
        "image/png",
        b"<script>alert(1)</script>".to_vec(),
    )
    .await;
    assert_eq!(script.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut video = b"\x00\x00\x00\x18ftypmp42".to_vec();
    video.resize(5000, 0);
    let too_big = upload(t, &marie, "video/mp4", video).await;
    assert_eq!(
        (
            too_big.status,
            too_big.json["error"]["details"]["limit_bytes"].as_u64()
        ),
        (StatusCode::PAYLOAD_TOO_LARGE, Some(4096))
    );

    let created = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&marie),
            json!({"kind": "note", "title": "Photo", "attachments": [big.json["id"]]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let url = created.json["attachments"][0]["url"].as_str().unwrap();
    assert_eq!(url, big.json["url"].as_str().unwrap());
    let path = url.trim_start_matches("http://localhost:8700");
    let request = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(t.app.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(body.len(), 1_500_000);
    // One cannot attach someone else's upload.
    let stolen = t
        .post(
            "/api/v1/groups/open/posts",
            Some(&pierre),
            json!({"kind": "note", "title": "Volée", "attachments": [big.json["id"]]}),
        )
        .await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    // The Page carries it as an Image attachment.
    let page = t
        .send(
            axum::http::Request::get(format!("/p/{}", id(&created.json)))
                .header("accept", "application/activity+json")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.json["attachment"][0]["type"], "Image");
    assert_eq!(page.json["attachment"][0]["url"], url);
}

/// The files in the media folder, temporaries (`.….part`) included, sorted.
fn media_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// An upload's description (alt text) is checked before its file is written: one too long is
/// refused (422, field `description`) and leaves nothing in the media folder; one within the
/// limit is kept, trimmed.
#[tokio::test]
async fn an_upload_with_a_too_long_description_is_refused_before_its_file_is_written() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let f = fixture_with(move |s| s.server.data_dir = dir).await;
    let t = &f.t;
    let marie = t.member("marie").await;
    let upload_described = |description: String| {
        let uri = format!("/api/v1/media?description={description}");
        let marie = &marie;
        async move { upload_to(t, &uri, marie, "image/png", png(100)).await }
    };
    let longest = "x".repeat(cenacle_core::media::MAX_DESCRIPTION_CHARS);
    let kept = upload_described(format!("%20{longest}%20")).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.json);
    assert_eq!(kept.json["description"].as_str(), Some(longest.as_str()));
    let media = data.path().join("media");
    let before = media_files(&media);
    assert_eq!(before.len(), 1, "{before:?}");

    let too_long = "x".repeat(cenacle_core::media::MAX_DESCRIPTION_CHARS + 1);
    let refused = upload_described(too_long).await;
    assert_eq!(
        (
            refused.status,
            refused.json["error"]["code"].as_str(),
            refused.json["error"]["details"]["field"].as_str(),
            refused.json["error"]["details"]["reason"].as_str(),
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("validation_failed"),
            Some("description"),
            Some("too_long")
        ),
        "{}",
        refused.json
    );
    assert_eq!(
        media_files(&media),
        before,
        "a refused upload left a file in the media folder"
    );
}

#[tokio::test]
async fn comments_are_edited_and_deleted_by_their_authors_and_moderators() {
    let f = fixture().await;
    let t = &f.t;
    let asker = t.member("asker").await;
    let answerer = t.member("answerer").await;
    let (_, q) = post(t, &asker, "open", "question", "Q ?").await;
    let qid = id(&q);
    let a = t
        .post(
            &format!("/api/v1/posts/{qid}/comments"),
            Some(&answerer),
            json!({"body": "Première version"}),
        )
        .await;
    let path = format!("/api/v1/comments/{}", a.json["id"]);
    let by_other = t
        .request(
            Method::PATCH,
            &path,
            Some(&asker),
            Some(json!({"body": "Pirate"})),
        )
        .await;
    assert_eq!(by_other.status, StatusCode::FORBIDDEN);
    let edited = t
        .request(
            Method::PATCH,
            &path,
            Some(&answerer),
            Some(json!({"body": "Seconde version"})),
        )
        .await;
    assert_eq!(edited.json["body"], "Seconde version");
    t.request(
        Method::PUT,
        &format!("/api/v1/posts/{qid}/accepted-answer"),
        Some(&asker),
        Some(json!({"comment_id": a.json["id"]})),
    )
    .await;
    // A moderator removes it: it disappears, and stops being the accepted answer.
    assert_eq!(
        t.request(Method::DELETE, &path, Some(&f.admin), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let after = t.get(&format!("/api/v1/posts/{qid}"), None).await;
    assert_eq!(after.json["comments"].as_array().unwrap().len(), 0);
    assert_eq!(after.json["post"]["accepted_answer_id"], Value::Null);
    assert_eq!(
        t.request(Method::DELETE, &path, Some(&answerer), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
