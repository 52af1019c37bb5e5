//! Questions, answers, accepted answers, votes, idea statuses, edits and deletions across
//! alpha, beta and gamma (FEP-1b12: the group on alpha relays everything to its followers).

use cenacle_api_tests::{
    eventually,
    peer::{FakePeer, Signing},
    Hosts, Instance,
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

/// The post with `ap_id` as `instance` has it (its own id differs from instance to instance).
async fn copy_of(
    instance: &Instance,
    token: &str,
    group_handle: &str,
    ap_id: &str,
) -> Option<Value> {
    let (status, page) = instance
        .get(
            &format!("/api/v1/groups/{}/posts?limit=100", enc(group_handle)),
            Some(token),
        )
        .await;
    if status != 200 {
        return None;
    }
    let post = page["items"]
        .as_array()?
        .iter()
        .find(|p| p["ap_id"] == ap_id)?
        .clone();
    let (status, detail) = instance
        .get(&format!("/api/v1/posts/{}", post["id"]), Some(token))
        .await;
    (status == 200).then_some(detail)
}

async fn wait_copy(
    instance: &Instance,
    token: &str,
    group: &str,
    ap_id: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    eventually(&format!("{}: {what}", instance.name), DEADLINE, || async {
        copy_of(instance, token, group, ap_id)
            .await
            .filter(|d| check(d))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_from_beta_answered_from_gamma_accepted_liked_edited_and_deleted_everywhere() {
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
    let (status, _) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "entraide", "title": "Entraide"}),
        )
        .await;
    assert_eq!(status, 201);
    let here = "entraide";
    let handle = format!("entraide@{}", alpha.host);
    let marie = beta.member("marie").await;
    let pierre = gamma.member("pierre").await;
    beta.follow_group(&marie, &format!("!{handle}"), DEADLINE)
        .await;
    gamma
        .follow_group(&pierre, &format!("!{handle}"), DEADLINE)
        .await;

    // marie, on beta, asks in alpha's group.
    let (status, asked) = beta
        .post(&format!("/api/v1/groups/{}/posts", enc(&handle)), Some(&marie), json!({"kind": "question", "title": "Comment fédérer ?", "body": "Avec **ActivityPub**", "tags": ["fediverse"]}))
        .await;
    assert_eq!(status, 201, "{asked}");
    let question = asked["post"]["ap_id"].as_str().unwrap().to_owned();
    let on_alpha = wait_copy(&alpha, &admin, here, &question, "the question", |_| true).await;
    assert_eq!(
        on_alpha["post"]["author"]["handle"],
        format!("marie@{}", beta.host)
    );
    assert_eq!(on_alpha["post"]["kind"], "question");
    assert_eq!(on_alpha["post"]["tags"], json!(["fediverse"]));
    let on_gamma = wait_copy(&gamma, &pierre, &handle, &question, "the question", |_| {
        true
    })
    .await;

    // pierre, on gamma, answers.
    let gamma_id = on_gamma["post"]["id"].as_i64().unwrap();
    let (status, answered) = gamma
        .post(
            &format!("/api/v1/posts/{gamma_id}/comments"),
            Some(&pierre),
            json!({"body": "Avec un groupe FEP-1b12."}),
        )
        .await;
    assert_eq!(status, 201, "{answered}");
    let answer = answered["ap_id"].as_str().unwrap().to_owned();
    let has_answer = |d: &Value| {
        d["comments"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["ap_id"] == answer.as_str()))
    };
    wait_copy(&alpha, &admin, here, &question, "the answer", has_answer).await;
    let on_beta = wait_copy(&beta, &marie, &handle, &question, "the answer", has_answer).await;

    // marie accepts it on beta; alpha and gamma show it accepted.
    let beta_answer_id = on_beta["comments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ap_id"] == answer.as_str())
        .unwrap()["id"]
        .clone();
    let (status, accepted) = beta
        .call(
            Method::PUT,
            &format!("/api/v1/posts/{}/accepted-answer", on_beta["post"]["id"]),
            Some(&marie),
            Some(json!({"comment_id": beta_answer_id})),
        )
        .await;
    assert_eq!(status, 200, "{accepted}");
    let is_accepted = |d: &Value| {
        d["comments"][0]["ap_id"] == answer.as_str() && d["comments"][0]["accepted"] == true
    };
    wait_copy(
        &alpha,
        &admin,
        here,
        &question,
        "the accepted answer",
        is_accepted,
    )
    .await;
    wait_copy(
        &gamma,
        &pierre,
        &handle,
        &question,
        "the accepted answer",
        is_accepted,
    )
    .await;

    // pierre likes the question on gamma: it counts on alpha (and beta hears of it).
    let (status, _) = gamma
        .call(
            Method::PUT,
            &format!("/api/v1/posts/{gamma_id}/vote"),
            Some(&pierre),
            Some(json!({"vote": "like"})),
        )
        .await;
    assert_eq!(status, 200);
    wait_copy(&alpha, &admin, here, &question, "the like", |d| {
        d["post"]["likes"] == 1
    })
    .await;
    wait_copy(&beta, &marie, &handle, &question, "the like", |d| {
        d["post"]["likes"] == 1
    })
    .await;

    // pierre edits his answer on gamma: alpha and beta show the new text.
    let (status, _) = gamma
        .call(
            Method::PATCH,
            &format!("/api/v1/comments/{}", answered["id"]),
            Some(&pierre),
            Some(json!({"body": "Avec un groupe FEP-1b12, qui relaie tout."})),
        )
        .await;
    assert_eq!(status, 200);
    let edited =
        |d: &Value| d["comments"][0]["body"] == "Avec un groupe FEP-1b12, qui relaie tout.";
    wait_copy(&alpha, &admin, here, &question, "the edited answer", edited).await;
    wait_copy(
        &beta,
        &marie,
        &handle,
        &question,
        "the edited answer",
        edited,
    )
    .await;

    // marie edits her question: the new title reaches gamma; then she deletes it everywhere.
    let beta_id = on_beta["post"]["id"].as_i64().unwrap();
    let (status, _) = beta
        .call(
            Method::PATCH,
            &format!("/api/v1/posts/{beta_id}"),
            Some(&marie),
            Some(json!({"title": "Comment fédérer des groupes ?"})),
        )
        .await;
    assert_eq!(status, 200);
    wait_copy(&gamma, &pierre, &handle, &question, "the edit", |d| {
        d["post"]["title"] == "Comment fédérer des groupes ?"
    })
    .await;
    assert_eq!(
        beta.call(
            Method::DELETE,
            &format!("/api/v1/posts/{beta_id}"),
            Some(&marie),
            None
        )
        .await
        .0,
        204
    );
    eventually("the deletion to reach gamma", DEADLINE, || async {
        copy_of(&gamma, &pierre, &handle, &question)
            .await
            .is_none()
            .then_some(())
    })
    .await;
    assert!(copy_of(&alpha, &admin, here, &question).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idea_status_set_on_alpha_reaches_beta() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("beta");
    let (mut alpha, mut beta) = (
        Instance::new("alpha", &hosts),
        Instance::new("beta", &hosts),
    );
    alpha.start();
    beta.start();
    let admin = alpha.admin().await;
    alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "idees", "title": "Idées"}),
        )
        .await;
    let handle = format!("idees@{}", alpha.host);
    let marie = beta.member("marie").await;
    beta.follow_group(&marie, &format!("!{handle}"), DEADLINE)
        .await;
    let (status, proposed) = beta
        .post(
            &format!("/api/v1/groups/{}/posts", enc(&handle)),
            Some(&marie),
            json!({"kind": "idea", "title": "Un mode sombre"}),
        )
        .await;
    assert_eq!(status, 201, "{proposed}");
    let idea = proposed["post"]["ap_id"].as_str().unwrap().to_owned();
    let on_alpha = wait_copy(&alpha, &admin, "idees", &idea, "the idea", |d| {
        d["post"]["idea_status"] == "submitted"
    })
    .await;
    let (status, changed) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/posts/{}/idea-status", on_alpha["post"]["id"]),
            Some(&admin),
            Some(json!({"status": "planned", "comment": "Prévu"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    wait_copy(&beta, &marie, &handle, &idea, "the status", |d| {
        d["post"]["idea_status"] == "planned"
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_groups_posts_never_reach_an_instance_without_members() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let peer_port = hosts.add("mallory");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let (_, public) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "agora", "title": "Agora"}),
        )
        .await;
    let (_, private) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "board", "title": "Board", "visibility": "private"}),
        )
        .await;
    let peer = FakePeer::start("mallory.test", peer_port).await;
    let client = hosts.client();
    // The peer follows both; the private group answers nothing (approval needed).
    for group in [&public, &private] {
        let follow = peer.follow(group["ap_id"].as_str().unwrap());
        assert_eq!(
            peer.post(&client, &alpha.url("/inbox"), &follow, Signing::Valid)
                .await,
            202
        );
    }
    let accepts = eventually("the public group's Accept", DEADLINE, || async {
        let got = peer.received();
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(accepts.len(), 1);
    assert_eq!(accepts[0]["actor"], public["ap_id"]);

    let (status, secret) = alpha
        .post(
            "/api/v1/groups/board/posts",
            Some(&admin),
            json!({"kind": "note", "title": "Budget confidentiel"}),
        )
        .await;
    assert_eq!(status, 201, "{secret}");
    let (status, open) = alpha
        .post(
            "/api/v1/groups/agora/posts",
            Some(&admin),
            json!({"kind": "note", "title": "Ouvert à tous"}),
        )
        .await;
    assert_eq!(status, 201);
    let open_id = open["post"]["ap_id"].as_str().unwrap().to_owned();
    // The public post arrives as the group's Announce of the author's Create…
    eventually("the public post", DEADLINE, || async {
        peer.received()
            .iter()
            .any(|a| a["type"] == "Announce" && a["object"]["object"]["id"] == open_id.as_str())
            .then_some(())
    })
    .await;
    // …and once alpha's delivery queue is empty (the gauge is read as it refreshes, so it is
    // waited for, not read once), nothing of the private group ever left alpha.
    eventually("alpha's delivery queue drained", DEADLINE, || async {
        (alpha.metric("cenacle_delivery_queue_depth").await == 0.0).then_some(())
    })
    .await;
    let secret_id = secret["post"]["ap_id"].as_str().unwrap();
    let received = serde_json::to_string(&peer.received()).unwrap();
    assert!(
        !received.contains(secret_id) && !received.contains("Budget confidentiel"),
        "{received}"
    );
}
