//! The delivery queue of a real `cenacle serve`: per-host bounds, slow and dead hosts, outbox
//! events that fail, pruning, and lost wake-ups. Fake instances are inbox sinks
//! (`cenacle_api_tests::sink`); work is queued through the API or, for volume, straight into
//! the instance's database.

use cenacle_api_tests::{
    database::{connect, execute, number},
    eventually,
    sink::Sink,
    Hosts, Instance,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use std::time::{Duration, Instant};

/// Correctness deadlines, generous for a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(60);

/// Queues, straight in the database and in one statement, one activity per id (signed by
/// `signer`, a local actor) to `inbox`, in order (its NOTIFY wakes the workers).
async fn queue_raw(conn: &mut AsyncPgConnection, signer: &str, ids: &[String], inbox: &str) {
    let host = inbox
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap();
    let bodies: Vec<String> = ids
        .iter()
        .map(|id| {
            json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": id, "type": "Update", "actor": signer,
            })
            .to_string()
        })
        .collect();
    diesel::sql_query(
        "WITH a AS (INSERT INTO outgoing_activity (ap_id, signer_ap_id, body) \
           SELECT id, $1, body FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(id, body, n) \
           ORDER BY n RETURNING id) \
         INSERT INTO delivery (activity_id, inbox_url, host) SELECT id, $4, $5 FROM a ORDER BY id",
    )
    .bind::<diesel::sql_types::Text, _>(signer)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(ids)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&bodies)
    .bind::<diesel::sql_types::Text, _>(inbox)
    .bind::<diesel::sql_types::Text, _>(host)
    .execute(conn)
    .await
    .expect("queue deliveries");
}

/// Accepted followers of `group`, one per inbox, straight in the database.
async fn add_followers(conn: &mut AsyncPgConnection, group: &str, inboxes: &[String]) {
    for inbox in inboxes {
        let actor = inbox.replace("/inbox", "/u/someone");
        execute(
            conn,
            &format!(
                "INSERT INTO follow (target_ap_id, follower_ap_id, follower_inbox, state, follow_activity_id) \
                 VALUES ('{group}', '{actor}', '{inbox}', 'accepted', '{actor}/follow')"
            ),
        )
        .await;
    }
}

async fn rename(alpha: &Instance, admin: &str, group: &str, title: &str) {
    let (status, body) = alpha
        .call(
            reqwest::Method::PATCH,
            &format!("/api/v1/groups/{group}"),
            Some(admin),
            Some(json!({"title": title})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_host_with_a_backlog_keeps_its_bound_while_other_hosts_are_served() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let reserved = Sink::reserve(&mut hosts, "h", 11);
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("RUST_LOG", "info");
    alpha.start();
    let sink = Sink::start(&reserved).await;
    let (slow, others) = sink.hosts.split_first().unwrap();
    slow.set_delay(Duration::from_secs(5));
    let admin = alpha.admin().await;
    let signer = alpha.create_group(&admin, "slowpoke", "slowpoke").await;

    // 500 deliveries to the slow host, queued first, then one to each of ten others.
    let mut conn = connect(&alpha).await;
    let backlog: Vec<String> = (0..500)
        .map(|i| format!("{}/activities/slow/{i}", alpha.base))
        .collect();
    queue_raw(&mut conn, &signer, &backlog, &slow.inbox()).await;
    let started = Instant::now();
    for (i, other) in others.iter().enumerate() {
        let id = format!("{}/activities/quick/{i}", alpha.base);
        queue_raw(&mut conn, &signer, &[id], &other.inbox()).await;
    }
    eventually("the ten quick hosts to be served", DEADLINE, || async {
        others.iter().all(|h| h.received_count() == 1).then_some(())
    })
    .await;
    let quick = started.elapsed();
    // They did not wait for the slow host: it has not answered anything yet.
    assert_eq!(
        slow.received_count(),
        0,
        "the quick hosts waited for the slow one ({quick:?})"
    );
    println!("ten quick hosts served in {quick:?} beside a slow host's backlog of 500");
    // Two rounds of the slow host: never more than its bound (8) at once.
    eventually("two rounds of the slow host", DEADLINE, || async {
        (slow.received_count() >= 16).then_some(())
    })
    .await;
    assert!(
        slow.max_in_flight() <= 8,
        "the slow host had {} deliveries in flight at once; the bound is 8",
        slow.max_in_flight()
    );
    assert_eq!(slow.max_in_flight(), 8, "the slow host used its bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_deliveries_to_one_host_all_arrive_never_above_its_bound() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let reserved = Sink::reserve(&mut hosts, "one", 1);
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("CENACLE_FEDERATION__DELIVERY_PER_HOST", "3");
    alpha.set_env("RUST_LOG", "info");
    alpha.start();
    let sink = Sink::start(&reserved).await;
    let host = &sink.hosts[0];
    host.set_delay(Duration::from_millis(30));
    let admin = alpha.admin().await;
    let signer = alpha.create_group(&admin, "busy", "busy").await;
    let mut conn = connect(&alpha).await;
    let ids: Vec<String> = (0..150)
        .map(|i| format!("{}/activities/many/{i}", alpha.base))
        .collect();
    queue_raw(&mut conn, &signer, &ids, &host.inbox()).await;
    eventually("150 deliveries to arrive", DEADLINE, || async {
        (host.received_count() >= 150).then_some(())
    })
    .await;
    let mut received = host.received();
    received.sort();
    received.dedup();
    assert_eq!(received.len(), 150);
    assert!(
        host.max_in_flight() <= 3,
        "{} in flight at once; the bound is 3",
        host.max_in_flight()
    );
    eventually("the queue to empty", DEADLINE, || async {
        (number(&mut connect(&alpha).await, "SELECT count(*) FROM delivery").await == 0)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_outbox_event_is_parked_with_its_error_and_later_events_are_sent() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let reserved = Sink::reserve(&mut hosts, "f", 1);
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("RUST_LOG", "info");
    // Retries of the failing event after 0.2 s, doubling: parked within seconds.
    alpha.set_env("CENACLE_FEDERATION__RETRY_FIRST_DELAY_SECONDS", "0.2");
    alpha.start();
    let sink = Sink::start(&reserved).await;
    let follower = &sink.hosts[0];
    let admin = alpha.admin().await;
    let group = alpha.create_group(&admin, "cafe", "cafe").await;
    let mut conn = connect(&alpha).await;
    add_followers(&mut conn, &group, &[follower.inbox()]).await;

    // An event that cannot be turned into an activity (its actor does not exist), first in
    // line, then real changes.
    execute(
        &mut conn,
        "INSERT INTO outbox_event (kind, subject_id, actor_id) VALUES ('post_created', 1, 999999)",
    )
    .await;
    for round in 0..3 {
        rename(&alpha, &admin, "cafe", &format!("Café {round}")).await;
    }
    eventually("the three Updates to arrive", DEADLINE, || async {
        (follower.received_count() >= 3).then_some(())
    })
    .await;
    eventually("the failing event to be parked", DEADLINE, || async {
        let (status, failed) = alpha
            .get("/api/v1/admin/federation/outbox/failed", Some(&admin))
            .await;
        assert_eq!(status, 200, "{failed}");
        let items = failed["items"].as_array().cloned().unwrap_or_default();
        (items.len() == 1).then(|| items[0].clone())
    })
    .await;
    let (_, failed) = alpha
        .get("/api/v1/admin/federation/outbox/failed", Some(&admin))
        .await;
    let event = &failed["items"][0];
    assert_eq!(event["kind"], "post_created");
    assert!(event["attempts"].as_i64().unwrap() >= 2, "{event}");
    assert!(
        event["last_error"].as_str().unwrap().contains("not found"),
        "{event}"
    );
    assert_eq!(alpha.metric("cenacle_outbox_events_failed").await, 1.0);
    assert_eq!(alpha.metric("cenacle_outbox_events_pending").await, 0.0);
    // Members may not read it.
    let member = alpha.member("marie").await;
    let (status, _) = alpha
        .get("/api/v1/admin/federation/outbox/failed", Some(&member))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_host_keeps_its_deliveries_and_gets_them_in_order_once_the_probe_finds_it() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let reserved = Sink::reserve(&mut hosts, "d", 1);
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("RUST_LOG", "info");
    // Dead after 2 s of failures; retries from 0.3 s; probes from 0.5 s; one at a time, so
    // that the order of arrival is the order of sending.
    alpha.set_env("CENACLE_FEDERATION__DEAD_AFTER_HOURS", "0.00056");
    alpha.set_env("CENACLE_FEDERATION__RETRY_FIRST_DELAY_SECONDS", "0.3");
    alpha.set_env("CENACLE_FEDERATION__DEAD_PROBE_FIRST_SECONDS", "0.5");
    alpha.set_env("CENACLE_FEDERATION__DELIVERY_PER_HOST", "1");
    alpha.start();
    let sink = Sink::start(&reserved).await;
    let host = &sink.hosts[0];
    host.set_down(true);
    let admin = alpha.admin().await;
    let signer = alpha.create_group(&admin, "phoenix", "phoenix").await;
    let mut conn = connect(&alpha).await;
    let bare_host = host.host.clone();
    let ids: Vec<String> = (0..10)
        .map(|i| format!("{}/activities/phoenix/{i}", alpha.base))
        .collect();
    queue_raw(&mut conn, &signer, &ids[..5], &host.inbox()).await;
    eventually("the host to be marked dead", DEADLINE, || async {
        let dead = number(
            &mut connect(&alpha).await,
            &format!("SELECT count(*) FROM instance WHERE host = '{bare_host}' AND dead"),
        )
        .await;
        (dead == 1).then_some(())
    })
    .await;
    // Its deliveries are parked, not dropped, and what is queued for it now waits too.
    queue_raw(&mut conn, &signer, &ids[5..], &host.inbox()).await;
    let parked = number(
        &mut conn,
        &format!("SELECT count(*) FROM delivery WHERE host = '{bare_host}'"),
    )
    .await;
    assert_eq!(parked, 10, "a dead host's deliveries are kept");
    assert_eq!(host.received_count(), 0);

    // Back: the probe finds it, and everything that waited arrives once, in order.
    host.set_down(false);
    eventually("every parked delivery to arrive", DEADLINE, || async {
        (host.received_count() >= 10).then_some(())
    })
    .await;
    assert!(host.probes() >= 1, "revived by its NodeInfo probe");
    assert_eq!(host.received(), ids, "in the order they were queued");
    eventually("the queue to empty", DEADLINE, || async {
        (number(&mut connect(&alpha).await, "SELECT count(*) FROM delivery").await == 0)
            .then_some(())
    })
    .await;
    let dead = number(
        &mut conn,
        &format!("SELECT count(*) FROM instance WHERE host = '{bare_host}' AND dead"),
    )
    .await;
    assert_eq!(dead, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn received_activities_older_than_the_configured_age_are_pruned() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("RUST_LOG", "info");
    alpha.start();
    let mut conn = connect(&alpha).await;
    execute(
        &mut conn,
        "INSERT INTO received_activity (ap_id, actor_ap_id, received_at) VALUES \
         ('https://old.example/a/1', 'https://old.example/u/1', now() - interval '31 days'), \
         ('https://new.example/a/1', 'https://new.example/u/1', now() - interval '29 days')",
    )
    .await;
    drop(conn);
    // The worker prunes at start and then periodically (default age: 30 days).
    alpha.stop();
    alpha.start();
    eventually("the old id to be pruned", DEADLINE, || async {
        let old = number(
            &mut connect(&alpha).await,
            "SELECT count(*) FROM received_activity WHERE ap_id = 'https://old.example/a/1'",
        )
        .await;
        (old == 0).then_some(())
    })
    .await;
    let recent = number(
        &mut connect(&alpha).await,
        "SELECT count(*) FROM received_activity WHERE ap_id = 'https://new.example/a/1'",
    )
    .await;
    assert_eq!(recent, 1, "younger than the age: kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_event_recorded_while_the_listener_is_down_is_still_sent() {
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let reserved = Sink::reserve(&mut hosts, "l", 1);
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("RUST_LOG", "info");
    alpha.start();
    let sink = Sink::start(&reserved).await;
    let follower = &sink.hosts[0];
    let admin = alpha.admin().await;
    let group = alpha.create_group(&admin, "ecoute", "ecoute").await;
    let mut conn = connect(&alpha).await;
    add_followers(&mut conn, &group, &[follower.inbox()]).await;
    rename(&alpha, &admin, "ecoute", "first").await;
    eventually("the first Update", DEADLINE, || async {
        (follower.received_count() == 1).then_some(())
    })
    .await;

    // Cut the worker's LISTEN connection and record an event before it comes back: its
    // NOTIFY reaches nobody.
    let listeners = "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%'";
    assert_eq!(number(&mut conn, listeners).await, 1);
    execute(
        &mut conn,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%'",
    )
    .await;
    let group_id = number(
        &mut conn,
        &format!("SELECT id FROM community_group WHERE ap_id = '{group}'"),
    )
    .await;
    execute(
        &mut conn,
        &format!(
            "INSERT INTO outbox_event (kind, subject_id) VALUES ('group_updated', {group_id})"
        ),
    )
    .await;
    // Less than the idle worker's longest sleep (30 s): the listener's reconnection wakes it.
    eventually("the event to be sent", Duration::from_secs(25), || async {
        (follower.received_count() == 2).then_some(())
    })
    .await;
}

/// Growing past one machine, as the README promises: two `cenacle serve` and two
/// `cenacle deliver` processes on one external PostgreSQL (a cluster this test starts). Every
/// process runs a delivery worker, so four workers share the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_and_two_workers_share_one_database_without_losing_or_repeating() {
    let database = cenacle_db::testing::fresh_database().await;
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    let reserved = Sink::reserve(&mut hosts, "m", 201);
    let mut alpha = Instance::new("alpha", &hosts);
    alpha.set_env("DATABASE_URL", &database.url);
    alpha.set_env("RUST_LOG", "info");
    alpha.start();
    let sink = Sink::start(&reserved).await;
    let (busy, followers) = sink.hosts.split_first().unwrap();
    let admin = alpha.admin().await;
    let mut second = alpha.replica();
    second.start();
    let mut workers = [alpha.deliverer(), alpha.deliverer()];
    for worker in &mut workers {
        worker.start();
    }
    let group = alpha.create_group(&admin, "partout", "partout").await;
    let mut conn = AsyncPgConnection::establish(&database.url).await.unwrap();
    let inboxes: Vec<String> = followers.iter().map(|h| h.inbox()).collect();
    add_followers(&mut conn, &group, &inboxes).await;

    // The per-host bound across processes: 40 slow deliveries to one host, which all four
    // workers see at once.
    busy.set_delay(Duration::from_millis(400));
    let backlog: Vec<String> = (0..40)
        .map(|i| format!("{}/activities/busy/{i}", alpha.base))
        .collect();
    queue_raw(&mut conn, &group, &backlog, &busy.inbox()).await;

    // A post made through the second server reaches the 200 followers' instances.
    let post = |server: &Instance, title: &str| {
        let url = server.own_url("/api/v1/groups/partout/posts");
        let request = server
            .http
            .post(url)
            .bearer_auth(&admin)
            .json(&json!({"kind": "note", "title": title, "body": "Bonjour à tous"}));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        }
    };
    post(&second, "Premier").await;
    eventually("the post to reach all 200 instances", DEADLINE, || async {
        followers
            .iter()
            .all(|h| h.received_count() > 0)
            .then_some(())
    })
    .await;
    eventually("the busy host's backlog to arrive", DEADLINE, || async {
        (busy.received_count() >= 40).then_some(())
    })
    .await;
    // Whatever the post sent (its activities), every instance got each exactly once.
    eventually("the queue to empty", DEADLINE, || async {
        let mut conn = AsyncPgConnection::establish(&database.url).await.unwrap();
        (number(&mut conn, "SELECT count(*) FROM delivery").await == 0).then_some(())
    })
    .await;
    let sent = followers[0].received();
    for host in followers {
        let mut got = host.received();
        got.sort();
        let before = got.len();
        got.dedup();
        assert_eq!(before, got.len(), "{} got an activity twice", host.host);
        assert_eq!(got.len(), sent.len(), "{} got {got:?}", host.host);
    }
    let mut busy_got = busy.received();
    busy_got.sort();
    busy_got.dedup();
    assert_eq!(busy_got.len(), 40, "each backlog delivery once");
    assert!(
        busy.max_in_flight() <= 8,
        "four workers had {} deliveries in flight to one host at once; the bound is 8",
        busy.max_in_flight()
    );

    // A worker killed in the middle of a fan-out loses nothing: its leased rows go to the
    // others when their lease runs out. (A delivery it had sent but not yet recorded is sent
    // again: receivers ignore a second copy of an activity id.)
    for host in followers {
        host.set_delay(Duration::from_millis(300));
    }
    let before: Vec<usize> = followers.iter().map(|h| h.received_count()).collect();
    post(&alpha, "Second").await;
    eventually("the fan-out to be under way", DEADLINE, || async {
        let arrived = followers
            .iter()
            .zip(&before)
            .filter(|(h, n)| h.received_count() > **n)
            .count();
        (arrived >= 10).then_some(())
    })
    .await;
    workers[0].kill();
    eventually(
        "the second post to reach all 200 instances despite the killed worker",
        Duration::from_secs(120),
        || async {
            followers
                .iter()
                .zip(&before)
                .all(|(h, n)| h.received_count() >= n + sent.len())
                .then_some(())
        },
    )
    .await;
    eventually("the queue to empty", DEADLINE, || async {
        let mut conn = AsyncPgConnection::establish(&database.url).await.unwrap();
        (number(&mut conn, "SELECT count(*) FROM delivery").await == 0).then_some(())
    })
    .await;
    let repeated: usize = followers
        .iter()
        .map(|h| {
            let got = h.received();
            let mut distinct = got.clone();
            distinct.sort();
            distinct.dedup();
            got.len() - distinct.len()
        })
        .sum();
    // At most what it had in flight (64) and arrived but not yet recorded (32).
    assert!(repeated <= 96, "{repeated} second copies");
    println!("killed worker: {repeated} deliveries sent twice, none lost");
    assert!(
        followers.iter().all(|h| h.max_in_flight() <= 8),
        "per-host bound held"
    );
}
