//! Activities shaped as Lemmy and Mastodon send them (fixtures in api_tests/fixtures/) are
//! accepted, and show as posts and comments.

use cenacle_api_tests::{
    eventually,
    peer::{FakePeer, Signing},
    Hosts, Instance,
};
use serde_json::{json, Value};
use std::time::Duration;

fn fixture(name: &str, peer: &FakePeer, group: &str, group_host: &str, post: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let base = peer.actor_id.trim_end_matches("/actor");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("{{actor}}", &peer.actor_id)
        .replace("{{base}}", base)
        .replace("{{group_host}}", group_host)
        .replace("{{group}}", group)
        .replace("{{post}}", post);
    serde_json::from_str(&text).unwrap()
}

async fn posts(alpha: &Instance) -> Vec<Value> {
    alpha.get("/api/v1/groups/rust/posts", None).await.1["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lemmy_and_mastodon_shaped_posts_and_replies_are_accepted_and_shown() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let peer_port = hosts.add("mallory");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let (_, group) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "rust", "title": "Rust"}),
        )
        .await;
    let group_id = group["ap_id"].as_str().unwrap().to_owned();
    let peer = FakePeer::start("mallory.test", peer_port).await;
    let client = hosts.client();
    let inbox = alpha.url("/g/rust/inbox");

    // A Lemmy post: a Page with a name and Markdown source.
    let page = fixture("lemmy_create_page.json", &peer, &group_id, &alpha.host, "");
    assert_eq!(peer.post(&client, &inbox, &page, Signing::Valid).await, 202);
    let lemmy_post = posts(&alpha)
        .await
        .into_iter()
        .find(|p| p["ap_id"] == page["object"]["id"])
        .expect("the Lemmy post");
    assert_eq!(lemmy_post["title"], "Quel éditeur pour Rust ?");
    assert_eq!(lemmy_post["body"], "Je cherche un **éditeur**.");
    assert_eq!(
        lemmy_post["kind"], "question",
        "posts from elsewhere are questions by default"
    );

    // A Lemmy comment on it.
    let comment = fixture(
        "lemmy_create_comment.json",
        &peer,
        &group_id,
        &alpha.host,
        page["object"]["id"].as_str().unwrap(),
    );
    assert_eq!(
        peer.post(&client, &inbox, &comment, Signing::Valid).await,
        202
    );

    // A Mastodon toot that mentions the group: a post titled by its first line.
    let toot = fixture(
        "mastodon_create_note.json",
        &peer,
        &group_id,
        &alpha.host,
        "",
    );
    assert_eq!(
        peer.post(&client, &alpha.url("/inbox"), &toot, Signing::Valid)
            .await,
        202
    );
    let mastodon_post = posts(&alpha)
        .await
        .into_iter()
        .find(|p| p["ap_id"] == toot["object"]["id"])
        .expect("the toot as a post");
    assert_eq!(
        mastodon_post["title"],
        "@rust Comment installer Rust sur Debian ?"
    );
    assert!(mastodon_post["body"]
        .as_str()
        .unwrap()
        .contains("Merci d'avance"));
    // Its picture keeps its alt text (Mastodon's `name`): in the API and on the page.
    let alt = "Une cafetière italienne sur le feu";
    let (_, detail) = alpha
        .get(&format!("/api/v1/posts/{}", mastodon_post["id"]), None)
        .await;
    assert_eq!(detail["attachments"][0]["description"], alt, "{detail}");
    let page = alpha
        .http
        .get(alpha.url(&format!("/posts/{}", mastodon_post["id"])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("alt=\"{alt}\"")), "{page}");
    // Its author fixes the alt text: the edit's attachments replace the old ones.
    let mut edited = toot["object"].clone();
    edited["attachment"][0]["name"] = json!("Une cafetière italienne, le café qui monte");
    let update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Update",
        "id": format!("{}#updates/1", toot["object"]["id"].as_str().unwrap()),
        "actor": toot["actor"],
        "to": toot["to"],
        "cc": toot["cc"],
        "object": edited,
    });
    assert_eq!(
        peer.post(&client, &alpha.url("/inbox"), &update, Signing::Valid)
            .await,
        202
    );
    let (_, detail) = alpha
        .get(&format!("/api/v1/posts/{}", mastodon_post["id"]), None)
        .await;
    assert_eq!(
        detail["attachments"][0]["description"], "Une cafetière italienne, le café qui monte",
        "{detail}"
    );
    assert_eq!(detail["attachments"].as_array().unwrap().len(), 1);

    // A Mastodon reply to one of our posts is a comment (its `tag` is a single object).
    let (_, ours) = alpha
        .post(
            "/api/v1/groups/rust/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Installer Rust ?"}),
        )
        .await;
    let reply = fixture(
        "mastodon_reply_note.json",
        &peer,
        &group_id,
        &alpha.host,
        ours["post"]["ap_id"].as_str().unwrap(),
    );
    assert_eq!(
        peer.post(&client, &alpha.url("/inbox"), &reply, Signing::Valid)
            .await,
        202
    );
    let detail = alpha
        .get(&format!("/api/v1/posts/{}", ours["post"]["id"]), None)
        .await
        .1;
    assert_eq!(
        detail["comments"][0]["body"],
        "Avec rustup, tout simplement."
    );
    assert_eq!(
        detail["comments"][0]["author"]["handle"],
        format!("mallory@mallory.test:{peer_port}")
    );

    let lemmy_detail = alpha
        .get(&format!("/api/v1/posts/{}", lemmy_post["id"]), None)
        .await
        .1;
    assert_eq!(lemmy_detail["comments"][0]["body"], "Helix ou Neovim.");

    // The group relays what it accepted to its followers: the peer follows, and receives the
    // Announce of the next post, unchanged inside.
    let follow = peer.follow(&group_id);
    assert_eq!(
        peer.post(&client, &inbox, &follow, Signing::Valid).await,
        202
    );
    let (_, next) = alpha
        .post(
            "/api/v1/groups/rust/posts",
            Some(&admin),
            json!({"kind": "idea", "title": "Un atelier"}),
        )
        .await;
    let announced = eventually(
        "the Announce of the Create",
        Duration::from_secs(30),
        || async {
            peer.received()
                .into_iter()
                .find(|a| a["type"] == "Announce" && a["object"]["type"] == "Create")
        },
    )
    .await;
    // Mastodon gets the Page itself announced too.
    let page_announce = eventually(
        "the Announce of the Page",
        Duration::from_secs(30),
        || async {
            peer.received()
                .into_iter()
                .find(|a| a["type"] == "Announce" && a["object"]["type"] == "Page")
        },
    )
    .await;
    assert_eq!(page_announce["object"]["id"], next["post"]["ap_id"]);
    assert_eq!(announced["actor"], group_id.as_str());
    assert_eq!(announced["object"]["type"], "Create");
    assert_eq!(announced["object"]["object"]["type"], "Page");
    assert_eq!(announced["object"]["object"]["id"], next["post"]["ap_id"]);
    assert_eq!(announced["object"]["object"]["postKind"], "idea");
    assert_eq!(announced["object"]["object"]["ideaStatus"], "submitted");
    assert_eq!(announced["object"]["object"]["audience"], group_id.as_str());
}
