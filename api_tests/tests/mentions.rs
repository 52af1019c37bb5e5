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
    for (name, visibility) in [("rust", "public"), ("secret", "private")] {
        let (status, body) = alpha
            .post(
                "/api/v1/groups",
                Some(&admin),
                json!({"name": name, "title": name, "visibility": visibility}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // The peer's member joins the private group (a follow its moderator approves) and follows
    // no public group here.
    let peer = FakePeer::start("masto.test", peer_port).await;
    let client = hosts.client();
    let secret_id = alpha.url("/g/secret");
    assert_eq!(
        peer.post(
            &client,
            &alpha.url("/g/secret/inbox"),
            &peer.follow(&secret_id),
            Signing::Valid
        )
        .await,
        202
    );
    // Its approval, as the group's moderators would give it: the follow accepted.
    let mut db = database::connect(&alpha).await;
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
