//! A Lemmy member's reply, delivered signed to the group's inbox, notifies the asker exactly
//! as a reply written here does: same kind, same fields (issue 16). A member who reaches a
//! rank reads it on her notifications page, in her language, in a real browser.

use cenacle_api_tests::{
    browser::Browser,
    eventually,
    peer::{FakePeer, Signing},
    Hosts, Instance, PASSWORD,
};
use serde_json::{json, Value};
use std::time::Duration;

fn fixture(name: &str, peer: &FakePeer, vars: &[(&str, &str)]) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let base = peer.actor_id.trim_end_matches("/actor");
    let mut text = std::fs::read_to_string(path)
        .unwrap()
        .replace("{{actor}}", &peer.actor_id)
        .replace("{{base}}", base);
    for (key, value) in vars {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    serde_json::from_str(&text).unwrap()
}

/// The asker's reply notifications, newest first.
async fn replies(alpha: &Instance, token: &str) -> Vec<Value> {
    let (_, body) = alpha.get("/api/v1/notifications", Some(token)).await;
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "reply")
        .cloned()
        .collect()
}

/// The fields that say what happened, leaving out who did it and when.
fn shape(n: &Value) -> Value {
    json!({
        "kind": n["kind"],
        "post_id": n["post_id"],
        "post_title": n["post_title"],
        "group": n["group"],
        "has_comment": n["comment_id"].is_i64(),
        "actor_count": n["actor_count"],
        "badge": n["badge"],
        "detail": n["detail"],
        "read": !n["read_at"].is_null(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lemmy_reply_notifies_the_asker_as_a_local_reply_does() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let peer_port = hosts.add("lemmy");
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
    let asker = alpha.member("asker").await;
    let neighbour = alpha.member("neighbour").await;
    let ask = async |title: &str| {
        let (status, body) = alpha
            .post(
                "/api/v1/groups/rust/posts",
                Some(&asker),
                json!({"kind": "question", "title": title}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["post"].clone()
    };

    // A reply written here.
    let local_q = ask("Mettre à jour rustup ?").await;
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{}/comments", local_q["id"]),
            Some(&neighbour),
            json!({"body": "Essayez rustup self update."}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let local = replies(&alpha, &asker).await;
    assert_eq!(local.len(), 1);
    assert_eq!(local[0]["actor"], "neighbour");

    // The same reply from a Lemmy member, to a second question.
    let remote_q = ask("Mettre à jour cargo ?").await;
    let peer = FakePeer::start("lemmy.test", peer_port).await;
    let asker_ap_id = alpha.url("/u/asker");
    let create = fixture(
        "lemmy_reply_to_question.json",
        &peer,
        &[
            ("group", &group_id),
            ("group_host", &alpha.host),
            ("post", remote_q["ap_id"].as_str().unwrap()),
            ("person", &asker_ap_id),
        ],
    );
    let client = hosts.client();
    let inbox = alpha.url("/g/rust/inbox");
    assert_eq!(
        peer.post(&client, &inbox, &create, Signing::Valid).await,
        202
    );
    let remote = eventually(
        "the Lemmy reply's notification",
        Duration::from_secs(60),
        || async {
            let list = replies(&alpha, &asker).await;
            (list.len() == 2).then_some(list)
        },
    )
    .await;
    let (remote, local) = (&remote[0], &local[0]);
    assert_eq!(remote["post_id"], remote_q["id"]);
    assert_eq!(remote["post_title"], "Mettre à jour cargo ?");
    let lemmy_handle = remote["actor"].as_str().unwrap();
    assert!(lemmy_handle.contains("@lemmy.test"), "{lemmy_handle}");
    // Same kind, same fields; only the question and who replied differ.
    let mut expected = shape(local);
    expected["post_id"] = remote_q["id"].clone();
    expected["post_title"] = remote_q["title"].clone();
    assert_eq!(shape(remote), expected);

    // The same Create again (a retry) tells nothing more.
    assert_eq!(
        peer.post(&client, &inbox, &create, Signing::Valid).await,
        202
    );
    assert_eq!(replies(&alpha, &asker).await.len(), 2);
}

/// Ranks low enough for two questions to reach the second.
const RANKS: &str = "[{ min_score = 0, name_en = \"Newcomer\", name_fr = \"Nouveau venu\" }, \
                      { min_score = 2, name_en = \"Regular\", name_fr = \"Habitué\" }]";

/// The job that tells ranks reached runs on the server's settler beat, once a minute from its
/// start (not configurable): the beat, and a margin for a loaded machine.
const RANK_BEAT_DEADLINE: Duration = Duration::from_secs(150);

/// Each member reads the rank she reached on her notifications page, in her own language
/// (her account's, not her browser's), named in it and only in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_reads_the_rank_she_reached_in_her_language_in_the_browser() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("CENACLE_ENGAGEMENT__RANKS", RANKS);
    alpha.start();
    let admin = alpha.admin().await;
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "cafe", "title": "Café"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // (member, her language, her browser's language, what her page must say, the other name)
    let members = [
        ("ana", "en", "fr", "You reached the rank Regular", "Habitué"),
        (
            "bruno",
            "fr",
            "en",
            "Vous avez atteint le rang Habitué",
            "Regular",
        ),
    ];
    let mut tokens = Vec::new();
    for (name, language, ..) in members {
        let (status, body) = alpha
            .post(
                "/api/v1/account/register",
                None,
                json!({"username": name, "password": PASSWORD, "language": language}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let token = alpha.login(name).await;
        // Two questions: a score of 2, the second rank.
        for title in ["Quel moulin ?", "Quelle mouture ?"] {
            let (status, body) = alpha
                .post(
                    "/api/v1/groups/cafe/posts",
                    Some(&token),
                    json!({"kind": "question", "title": format!("{title} ({name})")}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
        tokens.push(token);
    }

    // The settler's next beat tells each of them, once.
    let mut told = Vec::new();
    for token in &tokens {
        let notice = eventually(
            "the rank reached to be told",
            RANK_BEAT_DEADLINE,
            || async {
                let (_, body) = alpha.get("/api/v1/notifications", Some(token)).await;
                let ranks: Vec<Value> = body["items"]
                    .as_array()?
                    .iter()
                    .filter(|n| n["kind"] == "rank_reached")
                    .cloned()
                    .collect();
                (!ranks.is_empty()).then_some(ranks)
            },
        )
        .await;
        assert_eq!(notice.len(), 1, "{notice:?}");
        assert_eq!(notice[0]["detail"], "Regular\nHabitué");
        told.push(notice[0]["id"].as_i64().unwrap());
    }

    for ((name, _, browser_language, expected, other_name), id) in members.into_iter().zip(told) {
        let b = Browser::start(browser_language).await;
        b.sign_in(&alpha, name).await;
        b.click("#nav-notifications").await;
        b.wait_path("the notifications", |p| p == "/notifications")
            .await;
        let line = b.text(&format!("#notification-{id}")).await;
        assert!(line.starts_with(expected), "{name} reads: {line}");
        assert!(!line.contains(other_name), "{name} reads: {line}");
        b.close().await;
    }
}
