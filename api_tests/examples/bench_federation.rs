//! Federation benchmark (not a test): run by `scripts/bench-federation`, which builds in
//! release mode and records the figures in docs/benchmarks.md.
//!
//! (a) inbox: signed activities from a fake peer, verified (signature, digest, date), recorded
//!     (idempotency) and acknowledged, per second, 32 requests in flight;
//! (b) fan-out: one group Update to 1,000 followers on 1,000 distinct hosts (a sink listening
//!     on 1,000 loopback addresses), from the PATCH to the last delivery;
//! (c) latency: an Update leaving an idle instance to the first (only) follower, median of 20.

use axum::{routing::post, Router};
use cenacle_api_tests::{peer::FakePeer, Hosts, Instance};
use cenacle_apub::signatures::sign_request;
use serde_json::json;
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime},
};
use url::Url;

const FANOUT: usize = 1000;
/// A request body and the signature headers made for it.
type SignedRequest = (Vec<u8>, Vec<(&'static str, String)>);
const INBOX_ACTIVITIES: usize = 3000;

fn loopback(i: usize) -> String {
    format!("127.0.{}.{}", 1 + i / 250, 1 + i % 250)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let peer_port = hosts.add("mallory");
    let sink_port = cenacle_api_tests::free_port();
    let mut alpha = Instance::new("alpha", &hosts);
    // The sink's host names, each on its own loopback address.
    let overrides: Vec<String> = (0..FANOUT)
        .map(|i| format!("\"h{i}.test\" = \"{}\"", loopback(i)))
        .chain([
            "\"alpha.test\" = \"127.0.0.1\"".into(),
            "\"mallory.test\" = \"127.0.0.1\"".into(),
        ])
        .collect();
    alpha.set_env(
        "CENACLE_FEDERATION__HOSTS",
        &format!("{{ {} }}", overrides.join(", ")),
    );
    alpha.set_env("RUST_LOG", "warn");
    alpha.start();
    println!(
        "memory: {:.1} MiB resident after start",
        alpha.rss_mib().unwrap_or(f64::NAN)
    );
    let admin = alpha.admin().await;
    let (status, group) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "bench", "title": "Bench"}),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["ap_id"].as_str().unwrap().to_owned();

    // ---- (a) inbox ----
    let peer = FakePeer::start("mallory.test", peer_port).await;
    let client = hosts.client();
    let inbox = alpha.url("/inbox");
    let url = Url::parse(&inbox).unwrap();
    // Sign everything first: the client's signing must not compete with the server in the
    // measured window.
    let requests: Vec<SignedRequest> = (0..INBOX_ACTIVITIES)
        .map(|i| {
            let like = json!({
                "type": "Like", "id": format!("{}/likes/{i}", peer.actor_id),
                "actor": peer.actor_id, "object": format!("{group_id}/posts/{}", i % 50),
            });
            let body = serde_json::to_vec(&like).unwrap();
            let headers =
                sign_request(&peer.key, "POST", &url, Some(&body), SystemTime::now()).unwrap();
            (body, headers)
        })
        .collect();
    // Warm up: the first activity makes alpha fetch and cache the peer's key.
    send(&client, &inbox, &requests[0]).await;
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(1));
    let requests = Arc::new(requests);
    let mut workers = Vec::new();
    for _ in 0..32 {
        let (client, inbox, next, requests) = (
            client.clone(),
            inbox.clone(),
            next.clone(),
            requests.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests.len() {
                    break;
                }
                assert_eq!(send(&client, &inbox, &requests[i]).await, 202);
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let inbox_secs = started.elapsed().as_secs_f64();
    println!(
        "inbox: {} signed activities verified, recorded and acknowledged in {:.2} s = {:.0}/s",
        INBOX_ACTIVITIES - 1,
        inbox_secs,
        (INBOX_ACTIVITIES - 1) as f64 / inbox_secs
    );

    // ---- (b) fan-out ----
    let received = Arc::new(AtomicUsize::new(0));
    let first_arrival = Arc::new(tokio::sync::Notify::new());
    let sink = {
        let received = received.clone();
        let first_arrival = first_arrival.clone();
        Router::new().route(
            "/inbox",
            post(move || {
                let received = received.clone();
                let first_arrival = first_arrival.clone();
                async move {
                    received.fetch_add(1, Ordering::Relaxed);
                    first_arrival.notify_one();
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        )
    };
    for i in 0..FANOUT {
        let listener = tokio::net::TcpListener::bind((loopback(i).as_str(), sink_port))
            .await
            .unwrap();
        let app = sink.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    add_followers(&alpha, &group_id, sink_port).await;
    let started = Instant::now();
    let (status, _) = alpha
        .call(
            reqwest::Method::PATCH,
            "/api/v1/groups/bench",
            Some(&admin),
            Some(json!({"title": "Bench 2"})),
        )
        .await;
    assert_eq!(status, 200);
    while received.load(Ordering::Relaxed) < FANOUT {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "fan-out stalled at {}",
            received.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "fan-out: one Update reached {FANOUT} inboxes on {FANOUT} distinct hosts in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    // ---- (c) idle latency: one follower only ----
    remove_followers_but_one(&alpha, &group_id).await;
    let mut latencies = Vec::new();
    for round in 0..20 {
        tokio::time::sleep(Duration::from_millis(200)).await; // let the worker go idle
        let before = received.load(Ordering::Relaxed);
        let started = Instant::now();
        let (status, _) = alpha
            .call(
                reqwest::Method::PATCH,
                "/api/v1/groups/bench",
                Some(&admin),
                Some(json!({"title": format!("Bench {round}")})),
            )
            .await;
        assert_eq!(status, 200);
        while received.load(Ordering::Relaxed) == before {
            first_arrival.notified().await;
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "idle latency: PATCH to delivery, median {:.1} ms, max {:.1} ms (20 rounds)",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    println!(
        "memory: {:.1} MiB resident at the end",
        alpha.rss_mib().unwrap_or(f64::NAN)
    );
    alpha.stop();
}

async fn send(client: &reqwest::Client, inbox: &str, (body, headers): &SignedRequest) -> u16 {
    let mut request = client
        .post(inbox)
        .header("Content-Type", "application/activity+json")
        .body(body.clone());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Inserts 1,000 accepted followers, one per sink host, straight into alpha's database (a
/// thousand real instances following it is what this simulates).
async fn add_followers(alpha: &Instance, group_id: &str, sink_port: u16) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut conn = AsyncPgConnection::establish(&alpha.database_url())
        .await
        .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO follow (target_ap_id, follower_ap_id, follower_inbox, follower_shared_inbox, state, follow_activity_id) \
         SELECT '{group_id}', 'http://h' || i || '.test:{sink_port}/u/member', 'http://h' || i || '.test:{sink_port}/inbox', \
                NULL, 'accepted', 'http://h' || i || '.test:{sink_port}/follow' FROM generate_series(0, {}) AS i",
        FANOUT - 1
    ))
    .execute(&mut conn)
    .await
    .unwrap();
}

async fn remove_followers_but_one(alpha: &Instance, group_id: &str) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut conn = AsyncPgConnection::establish(&alpha.database_url())
        .await
        .unwrap();
    diesel::sql_query(format!(
        "DELETE FROM follow WHERE target_ap_id = '{group_id}' AND follower_ap_id NOT LIKE 'http://h0.test:%'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
}
