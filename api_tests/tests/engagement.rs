//! Reputation across instances: likes from other servers count on the answer's instance,
//! weighted per instance, and a replayed Like pays nothing.

use cenacle_api_tests::{
    eventually,
    peer::{FakePeer, Signing},
    Hosts, Instance,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// How many votes `instance` recorded on the post or comment `ap_id`, counted or not: a vote
/// that counts for nothing shows nowhere (not even in the shown likes), so its arrival is read
/// from the database.
async fn votes_on(instance: &Instance, ap_id: &str) -> i64 {
    use diesel::sql_types::BigInt;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut conn = AsyncPgConnection::establish(&instance.database_url())
        .await
        .unwrap();
    let query = format!(
        "(SELECT count(*) FROM vote v LEFT JOIN post p ON p.id = v.post_id \
          LEFT JOIN comment c ON c.id = v.comment_id \
          WHERE p.ap_id = '{ap_id}' OR c.ap_id = '{ap_id}')"
    );
    diesel::select(diesel::dsl::sql::<BigInt>(&query))
        .get_result::<i64>(&mut conn)
        .await
        .unwrap()
}

fn enc(s: &str) -> String {
    s.replace('@', "%40").replace(':', "%3A")
}

async fn reputation(alpha: &Instance, who: &str) -> i64 {
    alpha.get(&format!("/api/v1/people/{who}"), None).await.1["reputation"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_from_gamma_raise_reputation_on_alpha_until_gamma_weighs_nothing() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("gamma");
    let peer_port = hosts.add("mallory");
    let (mut alpha, mut gamma) = (
        Instance::new("alpha", &hosts),
        Instance::new("gamma", &hosts),
    );
    alpha.start();
    gamma.start();
    let admin = alpha.admin().await;
    alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "aide", "title": "Aide"}),
        )
        .await;
    let marie = alpha.member("marie").await;
    let (_, q) = alpha
        .post(
            "/api/v1/groups/aide/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Q ?"}),
        )
        .await;
    let qid = q["post"]["id"].as_i64().unwrap();
    let mut answers = Vec::new();
    for body in ["Réponse une", "Réponse deux", "Réponse trois"] {
        let (_, a) = alpha
            .post(
                &format!("/api/v1/posts/{qid}/comments"),
                Some(&marie),
                json!({"body": body}),
            )
            .await;
        answers.push(a);
    }

    // pierre follows the group from gamma and likes marie's first answer there.
    let pierre = gamma.member("pierre").await;
    let handle = format!("aide@{}", alpha.host);
    // gamma mirrors what the group announces once it follows: a new question and its answers.
    gamma
        .follow_group(&pierre, &format!("!{handle}"), DEADLINE)
        .await;
    let (_, q2) = alpha
        .post(
            "/api/v1/groups/aide/posts",
            Some(&admin),
            json!({"kind": "question", "title": "Q2 ?"}),
        )
        .await;
    let q2id = q2["post"]["id"].as_i64().unwrap();
    let (_, a1) = alpha
        .post(
            &format!("/api/v1/posts/{q2id}/comments"),
            Some(&marie),
            json!({"body": "Première"}),
        )
        .await;
    let (_, a2) = alpha
        .post(
            &format!("/api/v1/posts/{q2id}/comments"),
            Some(&marie),
            json!({"body": "Seconde"}),
        )
        .await;
    let copy = eventually("gamma's copy of the answers", DEADLINE, || async {
        let (_, page) = gamma
            .get(
                &format!("/api/v1/groups/{}/posts", enc(&handle)),
                Some(&pierre),
            )
            .await;
        let post = page["items"]
            .as_array()?
            .iter()
            .find(|p| p["ap_id"] == q2["post"]["ap_id"])?
            .clone();
        let (_, detail) = gamma
            .get(&format!("/api/v1/posts/{}", post["id"]), Some(&pierre))
            .await;
        (detail["comments"].as_array()?.len() == 2).then_some(detail)
    })
    .await;
    let local_id = |ap: &Value| {
        copy["comments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["ap_id"] == *ap)
            .unwrap()["id"]
            .clone()
    };
    assert_eq!(reputation(&alpha, "marie").await, 1);
    let like = |comment: Value| {
        let gamma = &gamma;
        let pierre = pierre.clone();
        async move {
            gamma
                .call(
                    Method::PUT,
                    &format!("/api/v1/comments/{comment}/vote"),
                    Some(&pierre),
                    Some(json!({"vote": "like"})),
                )
                .await
                .0
        }
    };
    assert_eq!(like(local_id(&a1["ap_id"])).await, 200);
    eventually(
        "the like from gamma to count on alpha",
        DEADLINE,
        || async { (reputation(&alpha, "marie").await == 11).then_some(()) },
    )
    .await;

    // alpha's admin silences gamma's votes: a new like from gamma changes nothing.
    let (status, _) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/admin/instances/{}/weight", gamma.host),
            Some(&admin),
            Some(json!({"weight": 0.0})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(like(local_id(&a2["ap_id"])).await, 200);
    let a2_ap_id = a2["ap_id"].as_str().unwrap();
    eventually("the second like to reach alpha", DEADLINE, || async {
        (votes_on(&alpha, a2_ap_id).await == 1).then_some(())
    })
    .await;
    let (_, d) = alpha.get(&format!("/api/v1/posts/{q2id}"), None).await;
    assert!(
        d["comments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["ap_id"] == a2["ap_id"] && c["likes"] == 0),
        "not even in the shown likes: {d}"
    );
    assert_eq!(
        reputation(&alpha, "marie").await,
        11,
        "a vote from a weight-0 instance counts for nothing"
    );

    // gamma shows marie's reputation at home (as alpha's Person document said when gamma
    // fetched it) beside what she earned on gamma (pierre's two likes, cast there), never
    // added to it.
    let (status, seen) = gamma
        .get(
            &format!("/api/v1/people/{}", enc(&format!("marie@{}", alpha.host))),
            None,
        )
        .await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(
        seen["reputation"], 21,
        "two likes cast on gamma, as gamma counts them"
    );
    assert!(
        seen["home_reputation"].as_i64().is_some_and(|r| r >= 1),
        "{seen}"
    );
    assert!(seen["home_rank"].is_string());

    // A Like replayed with the same id pays nothing.
    let peer = FakePeer::start("mallory.test", peer_port).await;
    let client = hosts.client();
    let liked = json!({"type": "Like", "id": format!("{}/likes/1", peer.actor_id), "actor": peer.actor_id, "object": answers[0]["ap_id"]});
    assert_eq!(
        peer.post(&client, &alpha.url("/inbox"), &liked, Signing::Valid)
            .await,
        202
    );
    assert_eq!(reputation(&alpha, "marie").await, 21);
    assert_eq!(
        peer.post(&client, &alpha.url("/inbox"), &liked, Signing::Valid)
            .await,
        202
    );
    assert_eq!(reputation(&alpha, "marie").await, 21);
}

/// What alpha counts for marie: (reputation, points, rank score, likes received toward badges).
async fn standing(alpha: &Instance, marie: &str) -> (i64, i64, i64, i64) {
    let (_, person) = alpha.get("/api/v1/people/marie", None).await;
    let (_, points) = alpha.get("/api/v1/account/points", Some(marie)).await;
    (
        person["reputation"].as_i64().unwrap(),
        points["balance"].as_i64().unwrap(),
        person["rank"]["score"].as_i64().unwrap(),
        person["progress"]["likes_received"].as_i64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn likes_from_an_instance_weighted_zero_change_nothing_anywhere() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("gamma");
    let (mut alpha, mut gamma) = (
        Instance::new("alpha", &hosts),
        Instance::new("gamma", &hosts),
    );
    alpha.start();
    gamma.start();
    let admin = alpha.admin().await;
    alpha.create_group(&admin, "aide", "Aide").await;
    let marie = alpha.member("marie").await;
    let pierre = gamma.member("pierre").await;
    let handle = format!("aide@{}", alpha.host);
    gamma
        .follow_group(&pierre, &format!("!{handle}"), DEADLINE)
        .await;
    // alpha's admin weighs gamma's votes at nothing.
    let (status, body) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/admin/instances/{}/weight", gamma.host),
            Some(&admin),
            Some(json!({"weight": 0.0})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // marie asks and answers; gamma mirrors both.
    let q = alpha
        .create_post(&marie, "aide", "question", "Comment faire ?")
        .await;
    let qid = q.id;
    let a = alpha.create_answer(&marie, &q, "Ainsi.").await;
    let copy = eventually("gamma's copy of the question", DEADLINE, || async {
        let (_, page) = gamma
            .get(
                &format!("/api/v1/groups/{}/posts", enc(&handle)),
                Some(&pierre),
            )
            .await;
        let post = page["items"]
            .as_array()?
            .iter()
            .find(|p| p["ap_id"] == q.ap_id.as_str())?
            .clone();
        let (_, detail) = gamma
            .get(&format!("/api/v1/posts/{}", post["id"]), Some(&pierre))
            .await;
        (detail["comments"].as_array()?.len() == 1).then_some(detail)
    })
    .await;
    let before = standing(&alpha, &marie).await;

    // pierre likes both from gamma; the likes reach alpha…
    for path in [
        format!("/api/v1/posts/{}/vote", copy["post"]["id"]),
        format!("/api/v1/comments/{}/vote", copy["comments"][0]["id"]),
    ] {
        let (status, body) = gamma
            .call(
                Method::PUT,
                &path,
                Some(&pierre),
                Some(json!({"vote": "like"})),
            )
            .await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, d) = alpha.get(&format!("/api/v1/posts/{qid}"), None).await;
    let (post_ap_id, comment_ap_id) = (
        d["post"]["ap_id"].as_str().unwrap().to_owned(),
        d["comments"][0]["ap_id"].as_str().unwrap().to_owned(),
    );
    eventually("both likes to reach alpha", DEADLINE, || async {
        (votes_on(&alpha, &post_ap_id).await == 1 && votes_on(&alpha, &comment_ap_id).await == 1)
            .then_some(())
    })
    .await;
    // …and count for nothing: not in the shown likes (what sorts read), nor in reputation,
    // points, rank and badge progress.
    let (_, d) = alpha.get(&format!("/api/v1/posts/{qid}"), None).await;
    assert_eq!(
        (&d["post"]["likes"], &d["comments"][0]["likes"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(standing(&alpha, &marie).await, before);

    // A like from alpha's own member moves all four: the measure is live.
    let vera = alpha.member("vera").await;
    let (status, _) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/comments/{}/vote", a.id),
            Some(&vera),
            Some(json!({"vote": "like"})),
        )
        .await;
    assert_eq!(status, 200);
    let after = standing(&alpha, &marie).await;
    assert_eq!(
        after,
        (before.0 + 10, before.1 + 2, before.2 + 4, before.3 + 1)
    );
}
