//! A course's discussion group across instances (issue 17, "Must show" line 3): beta follows
//! a public course's group on alpha like any group and receives what is posted in it; a
//! restricted course's group (open to a group's members) is private: beta's follow is never
//! accepted, its collections and posts are not served to an unsigned fetch, and nothing
//! posted in it reaches beta.

use cenacle_api_tests::{
    activity_json,
    database::{connect, lit, number},
    eventually, Hosts, Instance,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

fn enc(s: &str) -> String {
    s.replace('!', "%21")
        .replace('@', "%40")
        .replace(':', "%3A")
        .replace('/', "%2F")
}

/// A small course whose discussion group is `group_name`.
fn course(group_name: &str, title: &str) -> Value {
    json!({
        "title_fr": title, "title_en": title,
        "published": true,
        "group_name": group_name,
        "lessons": [{"position": 1, "title_fr": "Un", "title_en": "One",
                     "body_fr": "Texte", "body_en": "Text", "minutes": 5}],
        "quizzes": [{"position": 1, "title_fr": "Quiz", "title_en": "Quiz", "pass_mark": 50,
                     "questions": [{"kind": "single", "prompt_fr": "?", "prompt_en": "?",
                                    "choices": [{"label_fr": "Oui", "label_en": "Yes", "correct": true},
                                                {"label_fr": "Non", "label_en": "No"}]}]}]
    })
}

/// `token`'s follow of `target` on `instance`, as its API lists it.
async fn follow_of(instance: &Instance, token: &str, target: &str) -> Option<Value> {
    let (_, follows) = instance.get("/api/v1/follows", Some(token)).await;
    follows
        .as_array()?
        .iter()
        .find(|f| f["target"] == target)
        .cloned()
}

/// Resolves `handle` from `instance` and follows it; the group's id.
async fn follow(instance: &Instance, token: &str, handle: &str) -> String {
    let (status, found) = instance
        .get(&format!("/api/v1/resolve?q={}", enc(handle)), Some(token))
        .await;
    assert_eq!(status, 200, "resolve {handle}: {found}\n{}", instance.log());
    let (status, follow) = instance
        .post("/api/v1/follows", Some(token), json!({"target": handle}))
        .await;
    assert_eq!(status, 202, "{follow}");
    follow["target"].as_str().unwrap().to_owned()
}

async fn post_question(alpha: &Instance, token: &str, group: &str, title: &str) -> Value {
    let (status, post) = alpha
        .post(
            &format!("/api/v1/groups/{group}/posts"),
            Some(token),
            json!({"kind": "question", "title": title}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    post
}

/// Whether `instance` lists a post with `ap_id` in the group `handle`.
async fn has_post(instance: &Instance, token: &str, handle: &str, ap_id: &str) -> bool {
    let (status, page) = instance
        .get(
            &format!("/api/v1/groups/{}/posts?limit=100", enc(handle)),
            Some(token),
        )
        .await;
    status == 200
        && page["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|p| p["ap_id"] == ap_id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_courses_group_federates_and_a_restricted_ones_does_not() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("beta");
    let mut alpha = Instance::new("alpha", &hosts);
    let mut beta = Instance::new("beta", &hosts);
    alpha.start();
    beta.start();
    let admin = alpha.admin().await;

    // On alpha: a public course, and one open only to the members of a private group.
    let (status, body) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "club", "title": "Club", "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, open) = alpha
        .post(
            "/api/v1/courses",
            Some(&admin),
            course("open_course", "Ouvert"),
        )
        .await;
    assert_eq!(status, 201, "{open}");
    let mut restricted = course("club_course", "Réservé");
    restricted["audience"] = json!("group");
    restricted["audience_group"] = json!("club");
    let (status, restricted) = alpha
        .post("/api/v1/courses", Some(&admin), restricted)
        .await;
    assert_eq!(status, 201, "{restricted}");

    // A club member learns in the restricted course (and so joins its group).
    let lea = alpha.member("lea").await;
    let (status, body) = alpha
        .call(
            Method::PUT,
            "/api/v1/groups/club/members/lea",
            Some(&admin),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    for id in [&open["id"], &restricted["id"]] {
        let (status, body) = alpha
            .post(
                &format!("/api/v1/courses/{id}/enrol"),
                Some(&lea),
                json!({}),
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }

    // From beta, marie follows both groups by their handles: the public one accepts her.
    let marie = beta.member("marie").await;
    let open_handle = format!("!open_course@{}", alpha.host);
    let club_handle = format!("!club_course@{}", alpha.host);
    let open_group = follow(&beta, &marie, &open_handle).await;
    eventually(
        "beta: the public course's group accepts",
        DEADLINE,
        || async {
            follow_of(&beta, &marie, &open_group)
                .await
                .filter(|f| f["state"] == "accepted")
        },
    )
    .await;
    let club_group = follow(&beta, &marie, &club_handle).await;
    // Alpha received that Follow and holds it for approval (were the group public, it would
    // be accepted here already, and the checks below would fail).
    let mut alpha_db = connect(&alpha).await;
    let club_follows = format!(
        "SELECT count(*) FROM follow WHERE target_ap_id = {} AND state = 'pending'",
        lit(&club_group)
    );
    eventually(
        "alpha: the restricted group's follow, pending",
        DEADLINE,
        || async {
            let mut db = connect(&alpha).await;
            (number(&mut db, &club_follows).await == 1).then_some(())
        },
    )
    .await;

    // Lea posts in the restricted course's group first, then in the public one.
    let secret = post_question(&alpha, &lea, "club_course", "Question réservée au club").await;
    let public = post_question(&alpha, &lea, "open_course", "Question ouverte").await;
    let public_id = public["post"]["ap_id"].as_str().unwrap().to_owned();
    let secret_id = secret["post"]["ap_id"].as_str().unwrap().to_owned();

    // The public post reaches beta, like any group's…
    eventually("beta: the public course group's post", DEADLINE, || async {
        has_post(&beta, &marie, &open_handle, &public_id)
            .await
            .then_some(())
    })
    .await;
    // …and from the restricted one nothing did: the follow still waits, alpha lists no
    // accepted follower, and once alpha's queue is empty beta has no copy.
    assert_eq!(
        follow_of(&beta, &marie, &club_group).await.unwrap()["state"],
        "pending"
    );
    assert_eq!(
        number(
            &mut alpha_db,
            &format!(
                "SELECT count(*) FROM follow WHERE target_ap_id = {} AND state = 'accepted'",
                lit(&club_group)
            )
        )
        .await,
        0
    );
    // Everything alpha queued was delivered (the public post's Announces too): from here on
    // nothing more can reach beta.
    eventually("alpha: an empty delivery queue", DEADLINE, || async {
        (alpha.metric("cenacle_delivery_queue_depth").await == 0.0).then_some(())
    })
    .await;
    let mut beta_db = connect(&beta).await;
    assert_eq!(
        number(
            &mut beta_db,
            &format!(
                "SELECT count(*) FROM post WHERE ap_id = {} OR title = 'Question réservée au club'",
                lit(&secret_id)
            )
        )
        .await,
        0
    );
    assert!(!has_post(&beta, &marie, &club_handle, &secret_id).await);

    // Its collections and its posts are not served to a fetch without a follower's signature.
    for url in [
        alpha.url("/g/club_course/outbox"),
        alpha.url("/g/club_course/featured"),
        secret_id.clone(),
    ] {
        let response = alpha
            .http
            .get(&url)
            .header("Accept", "application/activity+json")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!(
            (400..500).contains(&status) && !text.contains("réservée"),
            "{url}: {status} {text}"
        );
    }
    // The group itself says it approves its followers (none was).
    let actor = activity_json(&alpha.http, &alpha.url("/g/club_course")).await;
    assert_eq!(actor["manuallyApprovesFollowers"], true, "{actor}");
}
