//! Instance moderation and the approval queue across real instances (issue 13, items 4 and
//! 6): a group on alpha holds the first post of beta's member until a moderator approves it
//! (gamma, which follows the group, gets nothing before); a person banned on alpha is
//! ignored; a blocked instance loses its follows and what was queued for it.

use cenacle_api_tests::{
    database::{self, lit},
    eventually, Hosts, Instance,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

fn enc(s: &str) -> String {
    s.replace('@', "%40").replace(':', "%3A")
}

/// The posts of a group as `instance` lists them (ap_id → title).
async fn listed(instance: &Instance, token: &str, group: &str) -> Vec<(String, String)> {
    let (status, page) = instance
        .get(
            &format!("/api/v1/groups/{}/posts?limit=100", enc(group)),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{}: {page}", instance.name);
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["ap_id"].as_str().unwrap().to_owned(),
                p["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn has_post(instance: &Instance, token: &str, group: &str, ap_id: &str) -> bool {
    listed(instance, token, group)
        .await
        .iter()
        .any(|(id, _)| id == ap_id)
}

async fn followers(instance: &Instance, group: &str) -> i64 {
    let (_, body) = instance.get(&format!("/api/v1/groups/{group}"), None).await;
    body["followers"].as_i64().unwrap()
}

async fn ask(instance: &Instance, token: &str, group: &str, title: &str) -> Value {
    let (status, body) = instance
        .post(
            &format!("/api/v1/groups/{}/posts", enc(group)),
            Some(token),
            json!({"kind": "question", "title": title, "body": "Détails"}),
        )
        .await;
    assert_eq!(status, 201, "{}: {body}", instance.name);
    body["post"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_posts_bans_and_blocks_across_instances() {
    let mut hosts = Hosts::default();
    for name in ["alpha", "beta", "gamma"] {
        hosts.add(name);
    }
    let (mut alpha, mut beta, mut gamma) = (
        Instance::new("alpha", &hosts),
        Instance::new("beta", &hosts),
        Instance::new("gamma", &hosts),
    );
    alpha.start();
    beta.start();
    gamma.start();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "entraide", "Entraide").await;
    let (status, body) = alpha
        .call(
            Method::PUT,
            "/api/v1/groups/entraide/approval",
            Some(&admin),
            Some(json!({"enabled": true, "first_posts": 1})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let handle = format!("entraide@{}", alpha.host);
    let marie = beta.member("marie").await;
    let pierre = gamma.member("pierre").await;
    beta.follow_group(&marie, &format!("!{handle}"), DEADLINE)
        .await;
    gamma
        .follow_group(&pierre, &format!("!{handle}"), DEADLINE)
        .await;

    // marie's first post reaches alpha and is held there.
    let first = ask(&beta, &marie, &handle, "Première question").await;
    let first_id = first["ap_id"].as_str().unwrap().to_owned();
    let held = eventually("alpha to hold marie's post", DEADLINE, || async {
        let (_, page) = alpha
            .get("/api/v1/groups/entraide/pending", Some(&admin))
            .await;
        page["items"]
            .as_array()?
            .iter()
            .find(|p| p["ap_id"] == first_id.as_str())
            .cloned()
    })
    .await;
    assert_eq!(held["approval"], "pending");
    assert!(!has_post(&alpha, &admin, "entraide", &first_id).await);
    // Not relayed: a later post of the group (its admin is never held) reaches gamma, the
    // held one does not.
    let later = ask(&alpha, &admin, "entraide", "Annonce").await;
    let later_id = later["ap_id"].as_str().unwrap().to_owned();
    eventually("gamma to receive the announcement", DEADLINE, || async {
        has_post(&gamma, &pierre, &handle, &later_id)
            .await
            .then_some(())
    })
    .await;
    assert!(!has_post(&gamma, &pierre, &handle, &first_id).await);

    // marie edits her held post: alpha relays nothing now (gamma, which does not have the
    // post, would drop the Update) and folds the edit into the Create it relays on approval,
    // so gamma gets the edited version.
    let (status, body) = beta
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{}", first["id"]),
            Some(&marie),
            Some(json!({"title": "Première question, précisée"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    eventually(
        "alpha to apply the edit of the held post",
        DEADLINE,
        || async {
            let (_, page) = alpha
                .get("/api/v1/groups/entraide/pending", Some(&admin))
                .await;
            page["items"]
                .as_array()?
                .iter()
                .any(|p| {
                    p["ap_id"] == first_id.as_str() && p["title"] == "Première question, précisée"
                })
                .then_some(())
        },
    )
    .await;
    // Approved: published on alpha and relayed; gamma gets it.
    let (status, body) = alpha
        .call(
            Method::POST,
            &format!("/api/v1/posts/{}/approve", held["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(has_post(&alpha, &admin, "entraide", &first_id).await);
    eventually(
        "gamma to receive the approved post, edited",
        DEADLINE,
        || async {
            listed(&gamma, &pierre, &handle)
                .await
                .iter()
                .any(|(id, title)| id == &first_id && title == "Première question, précisée")
                .then_some(())
        },
    )
    .await;

    // marie is banned on alpha: her next Create is acknowledged (202) and ignored, nothing
    // stored.
    let (status, body) = alpha
        .post(
            "/api/v1/admin/bans",
            Some(&admin),
            json!({"person": beta.url("/u/marie"), "reason": "spam"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ignored_before = alpha
        .metric("cenacle_inbox_ignored_total{reason=\"banned_from_instance\"}")
        .await;
    let spam = ask(&beta, &marie, &handle, "Achetez").await;
    let spam_id = spam["ap_id"].as_str().unwrap().to_owned();
    eventually(
        "alpha to ignore the banned person's Create",
        DEADLINE,
        || async {
            (alpha
                .metric("cenacle_inbox_ignored_total{reason=\"banned_from_instance\"}")
                .await
                > ignored_before)
                .then_some(())
        },
    )
    .await;
    assert!(!has_post(&alpha, &admin, "entraide", &spam_id).await);
    let (_, pending) = alpha
        .get("/api/v1/groups/entraide/pending", Some(&admin))
        .await;
    assert_eq!(pending["items"], json!([]), "{pending}");

    // gamma goes down with a delivery queued for it; blocking it drops its follow of the
    // group and cancels the delivery.
    gamma.stop();
    ask(&alpha, &admin, "entraide", "Pendant la panne").await;
    eventually("alpha to fail a delivery to gamma", DEADLINE, || async {
        (alpha
            .metric("cenacle_deliveries_total{outcome=\"failed\"}")
            .await
            >= 1.0)
            .then_some(())
    })
    .await;
    assert_eq!(followers(&alpha, "entraide").await, 2);
    let (status, block) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/admin/instances/{}/block", enc(&gamma.host)),
            Some(&admin),
            Some(json!({"blocked": true})),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    assert_eq!(block["follows_dropped"], 1, "{block}");
    assert!(
        block["deliveries_cancelled"].as_i64().unwrap() >= 1,
        "{block}"
    );
    assert_eq!(followers(&alpha, "entraide").await, 1);
    eventually(
        "alpha's queue to hold nothing for gamma",
        DEADLINE,
        || async { (alpha.metric("cenacle_delivery_queue_depth").await == 0.0).then_some(()) },
    )
    .await;
}

async fn count(instance: &Instance, query: &str) -> i64 {
    let mut conn = database::connect(instance).await;
    database::number(&mut conn, query).await
}

/// An instance ban of alpha's own member, with their content removed, reaches the instances
/// that hold copies of it: the removals leave as a moderator's do (a `Delete` with the ban's
/// reason, announced by the group), so beta's copies of the member's post and comment are
/// removed with the reason too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_ban_with_removal_removes_the_copies_elsewhere() {
    let mut hosts = Hosts::default();
    for name in ["alpha", "beta"] {
        hosts.add(name);
    }
    let (mut alpha, mut beta) = (
        Instance::new("alpha", &hosts),
        Instance::new("beta", &hosts),
    );
    alpha.start();
    beta.start();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "entraide", "Entraide").await;
    let handle = format!("entraide@{}", alpha.host);
    let marie = beta.member("marie").await;
    beta.follow_group(&marie, &format!("!{handle}"), DEADLINE)
        .await;
    let vendeur = alpha.member("vendeur").await;
    let (status, body) = alpha
        .post("/api/v1/groups/entraide/join", Some(&vendeur), json!({}))
        .await;
    assert!(status < 300, "{body}");
    let spam = ask(&alpha, &vendeur, "entraide", "Achetez des montres").await;
    let question = ask(&alpha, &admin, "entraide", "Une vraie question").await;
    let (status, body) = alpha
        .post(
            &format!("/api/v1/posts/{}/comments", question["id"]),
            Some(&vendeur),
            json!({"body": "Des montres ici"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let by_vendeur = |removed: bool| {
        format!(
            "SELECT (SELECT count(*) FROM post x JOIN person p ON p.id = x.author_id \
               WHERE p.username = 'vendeur' AND NOT p.local {0}) \
             + (SELECT count(*) FROM comment x JOIN person p ON p.id = x.author_id \
               WHERE p.username = 'vendeur' AND NOT p.local {0})",
            if removed {
                format!(
                    "AND x.removed_at IS NOT NULL AND x.removal_reason = {}",
                    lit("vente forcée")
                )
            } else {
                String::new()
            }
        )
    };
    eventually(
        "beta's copies of the post and the comment",
        DEADLINE,
        || async { (count(&beta, &by_vendeur(false)).await == 2).then_some(()) },
    )
    .await;
    assert!(has_post(&beta, &marie, &handle, spam["ap_id"].as_str().unwrap()).await);

    let (status, body) = alpha
        .post(
            "/api/v1/admin/bans",
            Some(&admin),
            json!({"person": "vendeur", "reason": "vente forcée", "remove_content": true}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    eventually(
        "beta's copies removed with the reason",
        DEADLINE,
        || async { (count(&beta, &by_vendeur(true)).await == 2).then_some(()) },
    )
    .await;
    assert!(!has_post(&beta, &marie, &handle, spam["ap_id"].as_str().unwrap()).await);
}
