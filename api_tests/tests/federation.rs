//! Federation between real instances: alpha, beta and gamma are separate `cenacle` processes
//! with their own databases, talking signed HTTP over loopback.

use cenacle_api_tests::{
    eventually,
    peer::{FakePeer, Signing},
    Hosts, Instance,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// The state and cached title of `member`'s follow of `target` on `instance`.
async fn follow_of(instance: &Instance, token: &str, target: &str) -> Option<Value> {
    let (_, follows) = instance.get("/api/v1/follows", Some(token)).await;
    follows
        .as_array()?
        .iter()
        .find(|f| f["target"] == target)
        .cloned()
}

async fn wait_follow(instance: &Instance, token: &str, target: &str, field: &str, value: &str) {
    eventually(
        &format!("{}: {field} = {value}", instance.name),
        DEADLINE,
        || async {
            follow_of(instance, token, target)
                .await
                .filter(|f| f[field] == value)
                .map(|_| ())
        },
    )
    .await;
}

async fn group_followers(instance: &Instance, name: &str) -> i64 {
    instance
        .get(&format!("/api/v1/groups/{name}"), None)
        .await
        .1["followers"]
        .as_i64()
        .unwrap()
}

async fn follow(instance: &Instance, token: &str, handle: &str) -> String {
    let (status, found) = instance
        .get(
            &format!("/api/v1/resolve?q={}", urlencode(handle)),
            Some(token),
        )
        .await;
    assert_eq!(
        status,
        200,
        "{}: resolve {handle}: {found}\n{}",
        instance.name,
        instance.log()
    );
    let (status, follow) = instance
        .post("/api/v1/follows", Some(token), json!({"target": handle}))
        .await;
    assert_eq!(status, 202, "{follow}");
    follow["target"].as_str().unwrap().to_owned()
}

fn urlencode(s: &str) -> String {
    s.replace('!', "%21")
        .replace('@', "%40")
        .replace(':', "%3A")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beta_and_gamma_follow_a_group_on_alpha_and_receive_its_updates_even_after_downtime() {
    let mut hosts = Hosts::default();
    for name in ["alpha", "beta", "gamma"] {
        hosts.add(name);
    }
    let mut alpha = Instance::new("alpha", &hosts);
    let mut beta = Instance::new("beta", &hosts);
    let mut gamma = Instance::new("gamma", &hosts);
    alpha.start();
    beta.start();
    gamma.start();

    let admin = alpha.admin().await;
    let group_id = alpha.create_group(&admin, "rust", "Rust").await;
    let handle = format!("!rust@{}", alpha.host);

    // beta resolves the group by its Lemmy-style handle, follows, and receives the Accept.
    let marie = beta.member("marie").await;
    assert_eq!(follow(&beta, &marie, &handle).await, group_id);
    wait_follow(&beta, &marie, &group_id, "state", "accepted").await;
    // Handles are compared without case: written with capitals, the same group (alpha
    // answers the WebFinger query with its own spelling; the federation library's lookup
    // asserted they were the same, and crashed).
    let shouted = handle.to_uppercase();
    let (status, found) = beta
        .get(
            &format!("/api/v1/resolve?q={}", urlencode(&shouted)),
            Some(&marie),
        )
        .await;
    assert_eq!(status, 200, "resolve {shouted}: {found}");
    assert!(found.to_string().contains(&group_id), "{found}");
    // gamma likewise, by URL this time.
    let pierre = gamma.member("pierre").await;
    assert_eq!(follow(&gamma, &pierre, &group_id).await, group_id);
    wait_follow(&gamma, &pierre, &group_id, "state", "accepted").await;

    assert_eq!(group_followers(&alpha, "rust").await, 2);
    let collection: Value = alpha
        .http
        .get(alpha.url("/g/rust/followers"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            collection["type"].as_str(),
            collection["totalItems"].as_i64()
        ),
        (Some("Collection"), Some(2))
    );

    // gamma goes down while alpha announces a change; beta gets it at once, gamma once back.
    gamma.stop();
    let (status, _) = alpha
        .call(
            Method::PATCH,
            "/api/v1/groups/rust",
            Some(&admin),
            Some(json!({"title": "Rust francophone"})),
        )
        .await;
    assert_eq!(status, 200);
    wait_follow(&beta, &marie, &group_id, "title", "Rust francophone").await;
    eventually("alpha to fail a delivery to gamma", DEADLINE, || async {
        (alpha
            .metric("cenacle_deliveries_total{outcome=\"failed\"}")
            .await
            >= 1.0)
            .then_some(())
    })
    .await;
    gamma.start();
    wait_follow(&gamma, &pierre, &group_id, "title", "Rust francophone").await;

    // gamma unfollows: alpha counts one follower again.
    let (status, _) = gamma
        .call(
            Method::DELETE,
            &format!("/api/v1/follows?target={}", urlencode(&group_id)),
            Some(&pierre),
            None,
        )
        .await;
    assert_eq!(status, 204);
    eventually("alpha to process gamma's Undo", DEADLINE, || async {
        (group_followers(&alpha, "rust").await == 1).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_killed_with_undelivered_rows_delivers_them_after_restart() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("beta");
    // alpha starts without delivery workers: what it has to send stays queued.
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("CENACLE_FEDERATION__RUN_DELIVERY_WORKERS", "false");
    let mut beta = Instance::new("beta", &hosts);
    alpha.start();
    beta.start();
    let admin = alpha.admin().await;
    let group_id = alpha.create_group(&admin, "cafe", "Café").await;

    // beta's Follow is accepted by alpha's inbox; the Accept waits in alpha's queue.
    let marie = beta.member("marie").await;
    follow(&beta, &marie, &format!("!cafe@{}", alpha.host)).await;
    eventually("alpha to queue its Accept", DEADLINE, || async {
        (alpha.metric("cenacle_delivery_queue_depth").await >= 1.0).then_some(())
    })
    .await;
    // A change to announce waits in alpha's outbox too.
    let (status, _) = alpha
        .call(
            Method::PATCH,
            "/api/v1/groups/cafe",
            Some(&admin),
            Some(json!({"title": "Café crème"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(alpha.metric("cenacle_outbox_events_pending").await, 1.0);
    assert_eq!(
        follow_of(&beta, &marie, &group_id).await.unwrap()["state"],
        "pending"
    );

    // Crash alpha; after a restart with workers, both reach beta.
    alpha.kill();
    alpha.set_env("CENACLE_FEDERATION__RUN_DELIVERY_WORKERS", "true");
    alpha.start();
    wait_follow(&beta, &marie, &group_id, "state", "accepted").await;
    wait_follow(&beta, &marie, &group_id, "title", "Café crème").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_badly_signed_wrong_digest_stale_and_replayed_posts_change_nothing() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let peer_port = hosts.add("mallory");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.start();
    let admin = alpha.admin().await;
    let group_id = alpha.create_group(&admin, "rust", "Rust").await;
    let mut peer = FakePeer::start("mallory.test", peer_port).await;
    let client = hosts.client();
    let shared_inbox = alpha.url("/inbox");
    let group_inbox = alpha.url("/g/rust/inbox");

    for (signing, what) in [
        (Signing::Unsigned, "unsigned"),
        (Signing::WrongKey, "signed with another key"),
        (Signing::WrongDigest, "with a digest of another body"),
        (Signing::StaleDate, "dated two hours ago"),
    ] {
        let status = peer
            .post(&client, &shared_inbox, &peer.follow(&group_id), signing)
            .await;
        assert_eq!(status, 401, "a Follow {what} was not refused");
    }
    let malformed = json!({"type": "Follow", "actor": peer.actor_id});
    assert_eq!(
        peer.post(&client, &group_inbox, &malformed, Signing::Valid)
            .await,
        400
    );
    assert_eq!(
        group_followers(&alpha, "rust").await,
        0,
        "a refused activity changed something"
    );
    assert!(peer.received().is_empty(), "a refused Follow was answered");

    // A valid Follow is accepted, answered with one Accept, and its replay changes nothing.
    let follow_activity = peer.follow(&group_id);
    assert_eq!(
        peer.post(&client, &group_inbox, &follow_activity, Signing::Valid)
            .await,
        202
    );
    assert_eq!(group_followers(&alpha, "rust").await, 1);
    let accepts = eventually("the Accept to reach the peer", DEADLINE, || async {
        let received = peer.received();
        (!received.is_empty()).then_some(received)
    })
    .await;
    assert_eq!(accepts[0]["type"], "Accept");
    assert_eq!(accepts[0]["actor"], group_id.as_str());
    assert_eq!(accepts[0]["object"]["id"], follow_activity["id"]);
    assert_eq!(
        peer.post(&client, &shared_inbox, &follow_activity, Signing::Valid)
            .await,
        202
    );
    assert_eq!(group_followers(&alpha, "rust").await, 1);
    assert_eq!(alpha.metric("cenacle_inbox_duplicates_total").await, 1.0);

    // The peer rotates its key: alpha's cached key fails, alpha refetches it once and accepts.
    peer.rotate_key();
    let like = json!({"type": "Like", "id": format!("{}/likes/1", peer.actor_id), "actor": peer.actor_id, "object": group_id});
    assert_eq!(
        peer.post(&client, &shared_inbox, &like, Signing::Valid)
            .await,
        202
    );
    assert!(
        alpha
            .log()
            .contains("signature failed; refetching the actor's key"),
        "the key was not refetched"
    );

    // Once its instance is blocked, even a valid activity is refused with 403.
    let (status, _) = alpha
        .call(
            Method::PUT,
            &format!("/api/v1/admin/instances/mallory.test:{peer_port}/block"),
            Some(&admin),
            Some(json!({"blocked": true})),
        )
        .await;
    assert_eq!(status, 200);
    // The block itself ends the blocked instance's follows (see docs/federation.md).
    assert_eq!(group_followers(&alpha, "rust").await, 0);
    let undo = json!({
        "type": "Undo", "id": format!("{}/undo/1", peer.actor_id), "actor": peer.actor_id,
        "object": follow_activity,
    });
    assert_eq!(
        peer.post(&client, &shared_inbox, &undo, Signing::Valid)
            .await,
        403
    );
    assert_eq!(group_followers(&alpha, "rust").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorized_fetch_requires_signed_gets_except_for_the_instance_actor() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("beta");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("CENACLE_FEDERATION__AUTHORIZED_FETCH", "true");
    let mut beta = Instance::new("beta", &hosts);
    alpha.start();
    beta.start();
    let admin = alpha.admin().await;
    let group_id = alpha.create_group(&admin, "secure", "Secure").await;

    let unsigned = alpha
        .http
        .get(&group_id)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    let instance_actor = alpha
        .http
        .get(alpha.url("/actor"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(instance_actor.status().as_u16(), 200);

    // beta fetches with a signature (its instance actor's) and gets the group.
    let marie = beta.member("marie").await;
    let (status, found) = beta
        .get(
            &format!("/api/v1/resolve?q={}", urlencode(&group_id)),
            Some(&marie),
        )
        .await;
    assert_eq!(
        status,
        200,
        "{found}\n{}",
        alpha
            .log()
            .lines()
            .filter(|l| l.contains("WARN"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(found["kind"], "group");
    assert_eq!(found["title"], "Secure");
}
