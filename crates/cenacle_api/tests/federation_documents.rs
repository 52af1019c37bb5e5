//! What other servers read from us, checked against what INTEROP.md says they require.

mod common;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use cenacle_domain::Role;
use common::TestApp;
use serde_json::{json, Value};

async fn fetch(
    t: &TestApp,
    path: &str,
    accept: &str,
) -> (StatusCode, axum::http::HeaderMap, Value, String) {
    let request = Request::get(path)
        .header(header::ACCEPT, accept)
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(t.app.clone(), request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    )
}

const AP: &str = "application/activity+json";
const MASTODON_ACCEPT: &str = "application/activity+json, application/ld+json";

async fn instance_with_group() -> (TestApp, String) {
    let t = TestApp::new().await;
    let admin = t.with_role("root", Role::Admin).await;
    t.member("marie").await;
    let created = t
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "rust", "title": "Rust", "description": "Entraide **Rust**"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    (t, admin)
}

#[tokio::test]
async fn a_person_has_what_lemmy_and_mastodon_require() {
    let (t, _) = instance_with_group().await;
    for accept in [
        AP,
        MASTODON_ACCEPT,
        r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#,
    ] {
        let (status, headers, person, _) = fetch(&t, "/u/marie", accept).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert_eq!(headers[header::CONTENT_TYPE], AP);
        assert_eq!(headers[header::VARY], "Accept");
        assert_eq!(person["type"], "Person");
        assert_eq!(person["id"], "http://localhost:8700/u/marie");
        assert_eq!(person["preferredUsername"], "marie");
        for key in ["inbox", "outbox", "followers", "following"] {
            assert!(
                person[key]
                    .as_str()
                    .unwrap()
                    .starts_with("http://localhost:8700/u/marie/"),
                "{key}"
            );
        }
        assert_eq!(
            person["endpoints"]["sharedInbox"],
            "http://localhost:8700/inbox"
        );
        assert_eq!(
            person["publicKey"]["id"],
            "http://localhost:8700/u/marie#main-key"
        );
        assert_eq!(
            person["publicKey"]["owner"],
            "http://localhost:8700/u/marie"
        );
        assert!(person["publicKey"]["publicKeyPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(person["@context"]
            .as_array()
            .unwrap()
            .contains(&json!("https://www.w3.org/ns/activitystreams")));
    }
    let (status, headers, _, html) = fetch(&t, "/u/marie", "text/html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(html.contains("marie"));
    assert_eq!(fetch(&t, "/u/nobody", AP).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_group_follows_fep_1b12_as_lemmy_reads_it() {
    let (t, _) = instance_with_group().await;
    let (_, _, group, _) = fetch(&t, "/g/rust", AP).await;
    assert_eq!(group["type"], "Group");
    assert_eq!(group["name"], "Rust");
    assert_eq!(group["summary"], "Entraide **Rust**");
    assert_eq!(
        group["attributedTo"],
        "http://localhost:8700/g/rust/moderators"
    );
    assert_eq!(group["postingRestrictedToMods"], false);
    assert_eq!(
        group["manuallyApprovesFollowers"], false,
        "a public group must not look private to Lemmy"
    );
    assert!(group["publicKey"]["publicKeyPem"].is_string());

    let (_, _, outbox, _) = fetch(&t, "/g/rust/outbox", AP).await;
    assert_eq!(
        (outbox["type"].as_str(), outbox["totalItems"].as_i64()),
        (Some("OrderedCollection"), Some(0))
    );
    assert!(
        outbox["orderedItems"].is_array(),
        "Lemmy reads the outbox inline"
    );
    let (_, _, followers, _) = fetch(&t, "/g/rust/followers", AP).await;
    assert_eq!(
        (followers["type"].as_str(), followers["totalItems"].as_i64()),
        (Some("Collection"), Some(0))
    );
    let (_, _, moderators, _) = fetch(&t, "/g/rust/moderators", AP).await;
    assert_eq!(
        moderators["orderedItems"],
        json!(["http://localhost:8700/u/root"])
    );
}

#[tokio::test]
async fn webfinger_answers_people_and_groups_with_the_exact_actor_id() {
    let (t, _) = instance_with_group().await;
    let person = t
        .get(
            "/.well-known/webfinger?resource=acct:marie@localhost:8700",
            None,
        )
        .await;
    assert_eq!(person.status, StatusCode::OK);
    assert_eq!(person.headers[header::CONTENT_TYPE], "application/jrd+json");
    let self_link = person.json["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap();
    assert_eq!(self_link["href"], "http://localhost:8700/u/marie");
    assert_eq!(self_link["type"], AP);
    let group = t
        .get(
            "/.well-known/webfinger?resource=acct:rust@localhost:8700",
            None,
        )
        .await;
    assert_eq!(
        group.json["links"][1]["href"],
        "http://localhost:8700/g/rust"
    );
    assert_eq!(
        group.json["links"][1]["properties"]["https://www.w3.org/ns/activitystreams#type"],
        "Group"
    );
    let other_host = t
        .get(
            "/.well-known/webfinger?resource=acct:marie@elsewhere.example",
            None,
        )
        .await;
    assert_eq!(other_host.status, StatusCode::NOT_FOUND);
    let host_meta = fetch(&t, "/.well-known/host-meta", "*/*").await;
    assert!(host_meta
        .3
        .contains("/.well-known/webfinger?resource={uri}"));
}

/// WebFinger → actor → the same id, for every actor that signs: the way Mastodon checks every
/// actor it meets and GoToSocial every signer, our instance actor included (without it,
/// GoToSocial answers our signed fetches with 500).
async fn webfinger_round_trip(t: &TestApp, actor_path: &str) -> Value {
    let (status, _, actor, _) = fetch(t, actor_path, AP).await;
    assert_eq!(status, StatusCode::OK, "{actor_path}");
    let name = actor["preferredUsername"].as_str().unwrap();
    assert!(
        cenacle_domain::is_webfinger_name(name),
        "{actor_path}: {name} is not a name GoToSocial accepts"
    );
    for resource in [
        format!("acct:{name}@localhost:8700"),
        actor["id"].as_str().unwrap().to_owned(),
    ] {
        let finger = t
            .get(&format!("/.well-known/webfinger?resource={resource}"), None)
            .await;
        assert_eq!(finger.status, StatusCode::OK, "{resource}: {}", finger.json);
        assert_eq!(
            finger.json["subject"],
            format!("acct:{name}@localhost:8700")
        );
        // Mastodon and GoToSocial take the first `self` link of the ActivityPub type.
        let first_self = finger.json["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "self" && l["type"] == AP)
            .unwrap_or_else(|| panic!("{resource}: no self link in {}", finger.json));
        assert_eq!(first_self["href"], actor["id"], "{resource}");
        assert_eq!(
            first_self["properties"]["https://www.w3.org/ns/activitystreams#type"],
            actor["type"]
        );
    }
    actor
}

#[tokio::test]
async fn every_actor_we_sign_with_round_trips_through_webfinger() {
    let (t, _) = instance_with_group().await;
    let instance = webfinger_round_trip(&t, "/actor").await;
    assert_eq!(instance["type"], "Application");
    assert_eq!(
        instance["preferredUsername"],
        cenacle_domain::INSTANCE_ACTOR_NAME
    );
    webfinger_round_trip(&t, "/u/marie").await;
    webfinger_round_trip(&t, "/g/rust").await;
}

/// WebFinger answers `acct:name@host` with one actor (Mastodon and GoToSocial take the first
/// `self` link): a group may not take a person's name, nor a person a group's, whatever the
/// case.
#[tokio::test]
async fn people_and_groups_share_one_name_space() {
    let (t, admin) = instance_with_group().await;
    let group = t
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "marie", "title": "Le groupe de Marie"}),
        )
        .await;
    assert_eq!(
        (group.status, group.code()),
        (StatusCode::CONFLICT, "name_taken"),
        "{}",
        group.json
    );
    let person = t.register("rust").await;
    assert_eq!(
        (person.status, person.code()),
        (StatusCode::CONFLICT, "name_taken"),
        "{}",
        person.json
    );
    assert!(t.register("Rust").await.status.is_client_error());
    let finger = t
        .get(
            "/.well-known/webfinger?resource=acct:rust@localhost:8700",
            None,
        )
        .await;
    let selves: Vec<&str> = finger.json["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "self")
        .map(|l| l["href"].as_str().unwrap())
        .collect();
    assert_eq!(selves, ["http://localhost:8700/g/rust"]);
}

#[tokio::test]
async fn nobody_may_take_the_instance_actors_name() {
    let (t, admin) = instance_with_group().await;
    let name = cenacle_domain::INSTANCE_ACTOR_NAME;
    let member = t.register(name).await;
    assert_eq!(
        (
            member.status,
            member.code(),
            member.json["error"]["details"]["reason"].as_str()
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("reserved")
        ),
        "{}",
        member.json
    );
    let group = t
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": name, "title": "Usurpateur"}),
        )
        .await;
    assert_eq!(
        (
            group.status,
            group.code(),
            group.json["error"]["details"]["reason"].as_str()
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some("reserved")
        ),
        "{}",
        group.json
    );
    // Still only the instance actor answers for it.
    let finger = t
        .get(
            &format!("/.well-known/webfinger?resource=acct:{name}@localhost:8700"),
            None,
        )
        .await;
    let selves: Vec<&Value> = finger.json["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "self")
        .collect();
    assert_eq!(selves.len(), 1, "{}", finger.json);
    assert_eq!(selves[0]["href"], "http://localhost:8700/actor");
}

#[tokio::test]
async fn nodeinfo_links_the_schema_and_the_instance_actor() {
    let (t, _) = instance_with_group().await;
    let links = t.get("/.well-known/nodeinfo", None).await;
    let rels: Vec<&str> = links.json["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    assert_eq!(
        rels,
        [
            "http://nodeinfo.diaspora.software/ns/schema/2.1",
            "https://www.w3.org/ns/activitystreams#Application"
        ]
    );
    let info = t.get("/nodeinfo/2.1", None).await;
    assert_eq!(info.json["software"]["name"], "cenacle");
    assert_eq!(info.json["protocols"], json!(["activitypub"]));
    assert_eq!(info.json["usage"]["users"]["total"], 2);
    assert_eq!(info.json["openRegistrations"], true);
    assert_eq!(info.json["metadata"]["localGroups"], 1);

    let (status, _, actor, _) = fetch(&t, "/actor", AP).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["id"], "http://localhost:8700/actor");
    assert_eq!(actor["preferredUsername"], "instance_actor");
    assert!(actor["publicKey"]["publicKeyPem"].is_string());
}

#[tokio::test]
async fn an_unsigned_post_to_an_inbox_is_401_and_garbage_is_refused() {
    let (t, _) = instance_with_group().await;
    let follow = json!({"type": "Follow", "id": "https://elsewhere.example/f/1", "actor": "https://elsewhere.example/u/x", "object": "http://localhost:8700/g/rust"});
    for inbox in ["/inbox", "/g/rust/inbox", "/u/marie/inbox"] {
        let reply = t.post(inbox, None, follow.clone()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{inbox}");
        // Why, for the sender's logs, in the API's error shape.
        assert_eq!(reply.code(), "invalid_signature", "{}", reply.json);
        assert!(reply.json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Signature")));
    }
    // Over `limits.max_body_bytes`: 413 before anything else is read.
    let huge = "x".repeat(t.ctx.settings.limits.max_body_bytes + 1);
    let reply = t
        .send(
            Request::post("/inbox")
                .header(header::CONTENT_TYPE, "application/activity+json")
                .body(Body::from(huge))
                .unwrap(),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{}",
        reply.json
    );
    let group = t.get("/api/v1/groups/rust", None).await;
    assert_eq!(group.json["followers"], 0);
}

#[tokio::test]
async fn group_names_are_validated_and_unique_and_only_managers_create_groups() {
    let (t, admin) = instance_with_group().await;
    let again = t
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "rust", "title": "Encore"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let bad = t
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "Rust Lang", "title": "x"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.json["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("name"))
    );
    let member = t.token("marie").await;
    let refused = t
        .post(
            "/api/v1/groups",
            Some(&member),
            json!({"name": "mine", "title": "Mine"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn posts_and_comments_are_served_as_page_and_note_but_never_from_private_groups() {
    let (t, admin) = instance_with_group().await;
    let created = t
        .post(
            "/api/v1/groups/rust/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Pourquoi ?", "body": "Parce <que>"}),
        )
        .await;
    let id = created.json["post"]["id"].as_i64().unwrap();
    let (status, headers, page, _) = fetch(&t, &format!("/p/{id}"), AP).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], AP);
    assert_eq!(page["type"], "Page");
    assert_eq!(page["name"], "Pourquoi ?");
    assert_eq!(
        page["content"], "<p>Parce &lt;que&gt;</p>\n",
        "raw HTML is shown as text"
    );
    assert_eq!(page["source"]["content"], "Parce <que>");
    assert_eq!(page["audience"], "http://localhost:8700/g/rust");
    assert_eq!(page["postKind"], "question");
    assert!(
        page.get("inReplyTo").is_none(),
        "a post never has inReplyTo (Lemmy)"
    );
    assert!(page["to"]
        .as_array()
        .unwrap()
        .contains(&json!("https://www.w3.org/ns/activitystreams#Public")));
    let answer = t
        .post(
            &format!("/api/v1/posts/{id}/comments"),
            Some(&admin),
            json!({"body": "Réponse"}),
        )
        .await;
    let (_, _, note, _) = fetch(&t, &format!("/c/{}", answer.json["id"]), AP).await;
    assert_eq!(note["type"], "Note");
    assert_eq!(note["inReplyTo"], page["id"]);
    assert_eq!(note["tag"][0]["type"], "Mention");

    let private = t
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "board", "title": "Board", "visibility": "private"}),
        )
        .await;
    assert_eq!(private.status, StatusCode::CREATED);
    let secret = t
        .post(
            "/api/v1/groups/board/posts",
            Some(&admin),
            json!({"kind": "note", "title": "Secret"}),
        )
        .await;
    let (status, _, _, _) = fetch(&t, &format!("/p/{}", secret.json["post"]["id"]), AP).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, group, _) = fetch(&t, "/g/board", AP).await;
    assert_eq!(group["manuallyApprovesFollowers"], true);
    assert_eq!(
        t.get("/nodeinfo/2.1", None).await.json["usage"]["localPosts"],
        2
    );
}

#[tokio::test]
async fn post_state_shows_as_community_post_tags_and_pinned_posts_are_featured() {
    let (t, admin) = instance_with_group().await;
    let (_, _, group, _) = fetch(&t, "/g/rust", AP).await;
    let names: Vec<&str> = group["tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "answered",
            "submitted",
            "under-review",
            "planned",
            "in-progress",
            "done",
            "declined",
            "duplicate"
        ]
    );
    assert!(group["tag"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["type"] == "CommunityPostTag"));

    let q = t
        .post(
            "/api/v1/groups/rust/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Q ?"}),
        )
        .await;
    let qid = q.json["post"]["id"].as_i64().unwrap();
    let a = t
        .post(
            &format!("/api/v1/posts/{qid}/comments"),
            Some(&admin),
            json!({"body": "R"}),
        )
        .await;
    t.request(
        axum::http::Method::PUT,
        &format!("/api/v1/posts/{qid}/accepted-answer"),
        Some(&admin),
        Some(json!({"comment_id": a.json["id"]})),
    )
    .await;
    let (_, _, page, _) = fetch(&t, &format!("/p/{qid}"), AP).await;
    assert_eq!(page["acceptedAnswer"], a.json["ap_id"]);
    let tag = page["tag"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "CommunityPostTag")
        .unwrap();
    assert_eq!(tag["id"], "http://localhost:8700/g/rust/tags/answered");

    let idea = t
        .post(
            "/api/v1/groups/rust/posts",
            Some(&admin),
            json!({"kind": "idea", "title": "I"}),
        )
        .await;
    let iid = idea.json["post"]["id"].as_i64().unwrap();
    let (_, _, idea_page, _) = fetch(&t, &format!("/p/{iid}"), AP).await;
    assert!(idea_page["tag"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == "http://localhost:8700/g/rust/tags/submitted"));

    t.request(
        axum::http::Method::PUT,
        &format!("/api/v1/posts/{qid}/moderation"),
        Some(&admin),
        Some(json!({"pinned": true})),
    )
    .await;
    let (_, _, featured, _) = fetch(&t, "/g/rust/featured", AP).await;
    assert_eq!(featured["totalItems"], 1);
    assert_eq!(featured["orderedItems"][0]["type"], "Page");
    assert_eq!(featured["orderedItems"][0]["id"], page["id"]);
}

#[tokio::test]
async fn community_managers_create_groups() {
    let t = TestApp::new().await;
    let manager = t.with_role("claire", Role::CommunityManager).await;
    let created = t
        .post(
            "/api/v1/groups",
            Some(&manager),
            json!({"name": "produit", "title": "Produit"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let (_, _, moderators, _) = fetch(&t, "/g/produit/moderators", AP).await;
    assert_eq!(
        moderators["orderedItems"],
        json!(["http://localhost:8700/u/claire"])
    );
}
