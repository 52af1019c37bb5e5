//! A text that mentions someone on another server tags them and is sent to their inbox, so
//! that their server tells them (Mastodon notifies only of what it receives, from a `Mention`
//! tag naming its member), whether or not they follow the group; a private group's text tags
//! no one, lest a member's server tell a non-member, and goes to no one outside it (issue 16).

use cenacle_api_tests::{
    activity_json,
    database::{self, lit},
    eventually,
    peer::{FakePeer, Signing},
    Hosts, Instance,
};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_of_someone_elsewhere_tags_them_and_reaches_their_inbox() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let peer_port = hosts.add("masto");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let peer =
        public_and_private_groups_and_a_member_elsewhere(&alpha, &admin, &hosts, peer_port).await;
    let client = hosts.client();
    let mut db = database::connect(&alpha).await;
    let handle = format!("@mallory@masto.test:{peer_port}");
    let post = async |group: &str, title: &str| {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/groups/{group}/posts"),
                Some(&admin),
                json!({"kind": "question", "title": title, "body": format!("{handle}, une idée ?")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["post"]["ap_id"].as_str().unwrap().to_owned()
    };
    let hidden = post("secret", "Entre nous").await;
    let public = post("rust", "Pour tous").await;

    let create = eventually(
        "the Create sent to the person mentioned",
        Duration::from_secs(30),
        || async {
            peer.received()
                .into_iter()
                .find(|a| a["type"] == "Create" && a["object"]["id"] == public.as_str())
        },
    )
    .await;
    let object = &create["object"];
    let mention = object["tag"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "Mention" && t["href"] == peer.actor_id.as_str())
        .cloned();
    assert_eq!(
        mention.map(|m| m["name"].clone()),
        Some(Value::String(handle.clone())),
        "{object}"
    );
    let cc: Vec<&str> = object["cc"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(cc.contains(&peer.actor_id.as_str()), "{object}");
    // The Page served to anyone who fetches it says the same.
    let page = activity_json(&client, &public).await;
    assert!(page["tag"].to_string().contains(&peer.actor_id), "{page}");

    // The private group's post reaches its member's server through the group only, and
    // tags no one: that server would tell whomever it names there, member or not.
    let announced = eventually(
        "the private group's Announce to its member's server",
        Duration::from_secs(30),
        || async {
            peer.received()
                .into_iter()
                .find(|a| a["type"] == "Announce" && a["object"]["object"]["id"] == hidden.as_str())
        },
    )
    .await;
    let page = &announced["object"]["object"];
    assert!(!page.to_string().contains(&peer.actor_id), "{page}");
    let direct = database::number(
        &mut db,
        &format!(
            "SELECT count(*) FROM outgoing_activity WHERE body::jsonb ->> 'type' = 'Create' \
             AND body::jsonb -> 'object' ->> 'id' = {}",
            lit(&hidden)
        ),
    )
    .await;
    assert_eq!(direct, 0, "no Create of it sent to anyone directly");
}

/// An edit that names someone elsewhere for the first time is sent to their inbox: their
/// server has not seen the text (Mastodon and Lemmy take the `Update` of a text they lack as
/// its creation) and would not tell them otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_names_someone_elsewhere_reaches_their_inbox() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let peer_port = hosts.add("masto");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let peer =
        public_and_private_groups_and_a_member_elsewhere(&alpha, &admin, &hosts, peer_port).await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups/rust/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Pour tous", "body": "Une idée ?"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (id, ap_id) = (
        body["post"]["id"].as_i64().unwrap(),
        body["post"]["ap_id"].as_str().unwrap().to_owned(),
    );
    let handle = format!("@mallory@masto.test:{peer_port}");
    let (status, body) = alpha
        .patch(
            &format!("/api/v1/posts/{id}"),
            Some(&admin),
            json!({"body": format!("Une idée, {handle} ?")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let update = eventually(
        "the Update sent to the person the edit names",
        Duration::from_secs(30),
        || async {
            peer.received()
                .into_iter()
                .find(|a| a["type"] == "Update" && a["object"]["id"] == ap_id.as_str())
        },
    )
    .await;
    let tags = update["object"]["tag"].to_string();
    assert!(tags.contains(&peer.actor_id), "{update}");
    assert!(
        !peer
            .received()
            .iter()
            .any(|a| a["type"] == "Create" && a["object"]["id"] == ap_id.as_str()),
        "the text before the edit named no one there"
    );

    // In the private group, the edit reaches its member's server through the group only.
    let (status, body) = alpha
        .post(
            "/api/v1/groups/secret/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Entre nous", "body": "Une idée ?"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (id, hidden) = (
        body["post"]["id"].as_i64().unwrap(),
        body["post"]["ap_id"].as_str().unwrap().to_owned(),
    );
    let (status, body) = alpha
        .patch(
            &format!("/api/v1/posts/{id}"),
            Some(&admin),
            json!({"body": format!("Une idée, {handle} ?")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    eventually(
        "the private group's Announce of the edit",
        Duration::from_secs(30),
        || async {
            peer.received().into_iter().find(|a| {
                a["type"] == "Announce"
                    && a["object"]["type"] == "Update"
                    && a["object"]["object"]["id"] == hidden.as_str()
            })
        },
    )
    .await;
    let mut db = database::connect(&alpha).await;
    let direct = database::number(
        &mut db,
        &format!(
            "SELECT count(*) FROM outgoing_activity WHERE body::jsonb ->> 'type' = 'Update' \
             AND body::jsonb -> 'object' ->> 'id' = {}",
            lit(&hidden)
        ),
    )
    .await;
    assert_eq!(direct, 0, "no Update of it sent to anyone directly");
}

/// A public group `rust` and a private group `secret` on `alpha`, and a member of a server
/// elsewhere (`masto.test`) whom alpha has met: they joined `secret` (a follow its moderators
/// approve) and follow no public group.
async fn public_and_private_groups_and_a_member_elsewhere(
    alpha: &Instance,
    admin: &str,
    hosts: &Hosts,
    peer_port: u16,
) -> FakePeer {
    for (name, visibility) in [("rust", "public"), ("secret", "private")] {
        let (status, body) = alpha
            .post(
                "/api/v1/groups",
                Some(admin),
                json!({"name": name, "title": name, "visibility": visibility}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let peer = FakePeer::start("masto.test", peer_port).await;
    let secret_id = alpha.url("/g/secret");
    assert_eq!(
        peer.post(
            &hosts.client(),
            &alpha.url("/g/secret/inbox"),
            &peer.follow(&secret_id),
            Signing::Valid
        )
        .await,
        202
    );
    // Its approval, as the group's moderators would give it: the follow accepted.
    let mut db = database::connect(alpha).await;
    let accepted = diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE follow SET state = 'accepted' WHERE target_ap_id = {}",
            lit(&secret_id)
        )),
        &mut db,
    )
    .await
    .unwrap();
    assert_eq!(accepted, 1);
    peer
}

// Issue 16, continued: someone this instance has never met, named in what a member writes
// here, is looked up with WebFinger before the text is stored, so that it tags and reaches
// them — except in a private group, whose text tags no one and looks no one up.

/// Groups (`(name, visibility)`) on `alpha`, made by its admin.
async fn groups(alpha: &Instance, admin: &str, groups: &[(&str, &str)]) {
    for (name, visibility) in groups {
        let (status, body) = alpha
            .post(
                "/api/v1/groups",
                Some(admin),
                json!({"name": name, "title": name, "visibility": visibility}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
}

/// A fake server `<name>.test` of the tests' hosts, and how its member is named.
async fn stranger(hosts: &mut Hosts, name: &str) -> (FakePeer, String) {
    let port = hosts.add(name);
    let peer = FakePeer::start(&format!("{name}.test"), port).await;
    (peer, format!("@mallory@{name}.test:{port}"))
}

/// How many people with this actor id `alpha` stores (0 or 1).
async fn stored(db: &mut diesel_async::AsyncPgConnection, actor_id: &str) -> i64 {
    database::number(
        db,
        &format!(
            "SELECT count(*) FROM person WHERE ap_id = {}",
            lit(actor_id)
        ),
    )
    .await
}

/// The activity of type `kind` about `object_id` that `peer` received, once it has.
async fn received(peer: &FakePeer, kind: &str, object_id: &str) -> Value {
    eventually(
        &format!("the {kind} of {object_id} at {}", peer.actor_id),
        Duration::from_secs(30),
        || async {
            peer.received()
                .into_iter()
                .find(|a| a["type"] == kind && a["object"]["id"] == object_id)
        },
    )
    .await
}

/// Whether `object` has a `Mention` tag of `actor_id`.
fn tags(object: &Value, actor_id: &str) -> bool {
    object["tag"].as_array().is_some_and(|t| {
        t.iter()
            .any(|t| t["type"] == "Mention" && t["href"] == actor_id)
    })
}

/// Each way a member writes through the API — a post, its edit, a comment, its edit — names
/// someone alpha has never met (they follow nothing here): alpha finds them by WebFinger,
/// stores them, and what it sends tags them and reaches their inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_never_met_named_through_the_api_is_found_tagged_and_reached() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let (in_post, post_handle) = stranger(&mut hosts, "masto").await;
    let (in_post_edit, post_edit_handle) = stranger(&mut hosts, "lemmy").await;
    let (in_comment, comment_handle) = stranger(&mut hosts, "piefed").await;
    let (in_comment_edit, comment_edit_handle) = stranger(&mut hosts, "misskey").await;
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    groups(&alpha, &admin, &[("rust", "public")]).await;
    let mut db = database::connect(&alpha).await;
    let peers = [&in_post, &in_post_edit, &in_comment, &in_comment_edit];
    for peer in peers {
        assert_eq!(stored(&mut db, &peer.actor_id).await, 0, "never met");
    }

    let (status, body) = alpha
        .post(
            "/api/v1/groups/rust/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Pour tous", "body": format!("{post_handle}, une idée ?")}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (post_id, post_ap_id) = (
        body["post"]["id"].as_i64().unwrap(),
        body["post"]["ap_id"].as_str().unwrap().to_owned(),
    );
    let create = received(&in_post, "Create", &post_ap_id).await;
    assert!(tags(&create["object"], &in_post.actor_id), "{create}");

    let (status, body) = alpha
        .patch(
            &format!("/api/v1/posts/{post_id}"),
            Some(&admin),
            json!({"body": format!("{post_handle}, {post_edit_handle} : une idée ?")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let update = received(&in_post_edit, "Update", &post_ap_id).await;
    assert!(tags(&update["object"], &in_post_edit.actor_id), "{update}");

    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{post_id}/comments"),
            Some(&admin),
            json!({"body": format!("{comment_handle} saura")}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (comment_id, comment_ap_id) = (
        body["id"].as_i64().unwrap(),
        body["ap_id"].as_str().unwrap().to_owned(),
    );
    let create = received(&in_comment, "Create", &comment_ap_id).await;
    assert!(tags(&create["object"], &in_comment.actor_id), "{create}");

    let (status, body) = alpha
        .patch(
            &format!("/api/v1/comments/{comment_id}"),
            Some(&admin),
            json!({"body": format!("{comment_handle} ou {comment_edit_handle} sauront")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let update = received(&in_comment_edit, "Update", &comment_ap_id).await;
    assert!(
        tags(&update["object"], &in_comment_edit.actor_id),
        "{update}"
    );

    // Each found once, and kept: a second mention looks no one up.
    for peer in peers {
        assert_eq!(
            stored(&mut db, &peer.actor_id).await,
            1,
            "{} stored",
            peer.actor_id
        );
        assert_eq!(peer.webfinger_queries(), 1, "{}", peer.actor_id);
    }
}

/// The composer and the answer form of the web pages, in a real browser: a member names
/// someone alpha has never met, and what alpha sends tags and reaches them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_never_met_named_in_the_web_composer_or_an_answer_is_found_and_reached() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let (in_question, question_handle) = stranger(&mut hosts, "masto").await;
    let (in_answer, answer_handle) = stranger(&mut hosts, "lemmy").await;
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    groups(&alpha, &admin, &[("support", "public")]).await;

    let b = cenacle_api_tests::browser::Browser::start("en").await;
    b.sign_up(&alpha, "alice").await;
    b.goto(&alpha.url("/groups/support")).await;
    b.click("form[action='/groups/support/join'] button").await;
    b.click("a[href='/groups/support/ask']").await;
    b.fill("#title", "Who knows the router?").await;
    b.fill("#body", &format!("{question_handle} may know."))
        .await;
    b.click("button[value=publish]").await;
    let question = b
        .wait_path("the question's page", |p| p.starts_with("/posts/"))
        .await;
    let question_ap_id = alpha.url(&question.replace("/posts/", "/p/"));
    let create = received(&in_question, "Create", &question_ap_id).await;
    assert!(tags(&create["object"], &in_question.actor_id), "{create}");

    b.fill("#answer-body", &format!("Or {answer_handle}."))
        .await;
    b.click("form[action$='/answers'] button").await;
    b.wait_count(".answers > li", 1).await;
    let create = eventually(
        "the answer's Create at the person it names",
        Duration::from_secs(30),
        || async {
            in_answer
                .received()
                .into_iter()
                .find(|a| a["type"] == "Create" && a["object"]["type"] == "Note")
        },
    )
    .await;
    assert!(tags(&create["object"], &in_answer.actor_id), "{create}");
    b.close().await;
}

/// A text naming someone on a server that refuses connections and someone unknown on a
/// server that answers is published all the same (the lookups fail, the member does not),
/// and still tags and reaches the one who could be found.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_cannot_be_found_does_not_keep_a_text_from_being_published() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    // Nothing listens there: every connection is refused.
    let silent_port = hosts.add("ghost");
    let (peer, handle) = stranger(&mut hosts, "masto").await;
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    groups(&alpha, &admin, &[("rust", "public")]).await;
    let unknown = handle.replace("@mallory@", "@nobody@");
    let text = format!("@casper@ghost.test:{silent_port}, {unknown} et {handle} : une idée ?");
    let (status, body) = alpha
        .post(
            "/api/v1/groups/rust/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Pour tous", "body": text}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ap_id = body["post"]["ap_id"].as_str().unwrap().to_owned();
    let create = received(&peer, "Create", &ap_id).await;
    let mentioned: Vec<&Value> = create["object"]["tag"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "Mention")
        .map(|t| &t["href"])
        .collect();
    assert_eq!(
        mentioned,
        [&Value::String(peer.actor_id.clone())],
        "{create}"
    );
    assert_eq!(peer.webfinger_queries(), 2, "mallory and nobody asked for");
    let mut db = database::connect(&alpha).await;
    let people_elsewhere =
        database::number(&mut db, "SELECT count(*) FROM person WHERE NOT local").await;
    assert_eq!(people_elsewhere, 1, "only mallory stored");
}

/// A private group's text naming someone alpha has never met looks no one up — the query
/// alone would tell their server that someone named them — and stores no one; the same name
/// in a public group's text is looked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_groups_text_looks_no_one_up() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let (peer, handle) = stranger(&mut hosts, "masto").await;
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    groups(&alpha, &admin, &[("rust", "public"), ("secret", "private")]).await;
    let post = async |group: &str| {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/groups/{group}/posts"),
                Some(&admin),
                json!({"kind": "question", "title": "Une idée ?", "body": format!("{handle} ?")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["post"]["id"].as_i64().unwrap(),
            body["post"]["ap_id"].as_str().unwrap().to_owned(),
        )
    };
    let (hidden, _) = post("secret").await;
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{hidden}/comments"),
            Some(&admin),
            json!({"body": format!("{handle} saura")}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // The lookups are over when the text is stored: nothing is looking now.
    assert_eq!(
        peer.webfinger_queries(),
        0,
        "nothing asked for the private group"
    );
    let mut db = database::connect(&alpha).await;
    assert_eq!(stored(&mut db, &peer.actor_id).await, 0, "no one stored");

    let (_, public) = post("rust").await;
    assert_eq!(
        peer.webfinger_queries(),
        1,
        "looked up for the public group"
    );
    assert_eq!(stored(&mut db, &peer.actor_id).await, 1);
    let create = received(&peer, "Create", &public).await;
    assert!(tags(&create["object"], &peer.actor_id), "{create}");
}
