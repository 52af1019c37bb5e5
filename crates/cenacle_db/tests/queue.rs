//! The delivery queue and follows against a real PostgreSQL.

use cenacle_db::{
    federation::{self, ClaimedDelivery},
    testing::{fresh_database, rows_read},
    DbError, DbPool,
};
use chrono::{Duration, Utc};
use diesel_async::AsyncConnection;

/// One claim as a worker makes it: in a transaction of its own (the per-host locks last until
/// it commits), `per_host` at most per host.
async fn claim(pool: &DbPool, limit: i64, per_host: i64) -> Vec<ClaimedDelivery> {
    let mut conn = pool.get().await.unwrap();
    conn.transaction::<_, DbError, _>(async move |c| {
        federation::claim_deliveries(c, limit, 60.0, per_host).await
    })
    .await
    .unwrap()
}

fn targets(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(i, h)| (i.to_string(), h.to_string()))
        .collect()
}

#[tokio::test]
async fn followers_on_one_instance_share_one_delivery() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    for (follower, shared) in [
        ("https://b.example/u/1", Some("https://b.example/inbox")),
        ("https://b.example/u/2", Some("https://b.example/inbox")),
        ("https://c.example/u/3", None),
    ] {
        federation::upsert_follow(
            &mut conn,
            &federation::NewFollow {
                target_ap_id: "https://a.example/g/rust",
                follower_ap_id: follower,
                follower_inbox: &format!("{follower}/inbox"),
                follower_shared_inbox: shared,
                accepted: true,
                follow_activity_id: &format!("{follower}/follow"),
            },
        )
        .await
        .unwrap();
    }
    let inboxes = federation::follower_inboxes(&mut conn, "https://a.example/g/rust")
        .await
        .unwrap();
    assert_eq!(
        inboxes,
        ["https://b.example/inbox", "https://c.example/u/3/inbox"]
    );
    assert_eq!(
        federation::count_followers(&mut conn, "https://a.example/g/rust")
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn concurrent_workers_claim_disjoint_rows() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let list: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("https://h{i}.example/inbox"),
                format!("h{i}.example"),
            )
        })
        .collect();
    assert_eq!(
        federation::enqueue_activity(
            &mut conn,
            "https://a.example/act/1",
            "https://a.example/g/rust",
            "{}",
            &list,
            None,
        )
        .await
        .unwrap(),
        40
    );
    drop(conn);
    // Two workers at once, again and again until nothing is left. A claim may come back short
    // (the other worker held some hosts when this one picked, or leased their rows before
    // this one counted): what must hold is that no row is ever handed out twice.
    let mut ids: Vec<i64> = Vec::new();
    for _ in 0..40 {
        let (a, b) = tokio::join!(claim(&db.pool, 25, 8), claim(&db.pool, 25, 8));
        if a.is_empty() && b.is_empty() {
            break;
        }
        ids.extend(a.iter().chain(b.iter()).map(|d| d.id));
    }
    assert_eq!(ids.len(), 40, "every row claimed once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "no row claimed twice");
    // Leased rows are not claimable again until the lease runs out.
    assert!(claim(&db.pool, 10, 8).await.is_empty());
}

/// Queues one activity to one host.
async fn queue_one(c: &mut diesel_async::AsyncPgConnection, ap_id: &str, host: &str) {
    federation::enqueue_activity(
        c,
        ap_id,
        "s",
        "{}",
        &targets(&[(&format!("https://{host}/inbox"), host)]),
        None,
    )
    .await
    .unwrap();
}

/// Queues `count` activities to one host.
async fn backlog(pool: &DbPool, host: &str, count: usize) {
    let mut conn = pool.get().await.unwrap();
    for i in 0..count {
        queue_one(
            &mut conn,
            &format!("https://a.example/act/{host}/{i}"),
            host,
        )
        .await;
    }
}

fn per_host(claimed: &[ClaimedDelivery], host: &str) -> usize {
    claimed.iter().filter(|d| d.host == host).count()
}

#[tokio::test]
async fn one_claim_gives_no_host_more_than_its_cap_and_serves_small_hosts_too() {
    let db = fresh_database().await;
    // A backlog of 50 to one host, queued first, then one delivery to each of ten others.
    backlog(&db.pool, "big.example", 50).await;
    for i in 0..10 {
        backlog(&db.pool, &format!("small{i}.example"), 1).await;
    }
    let claimed = claim(&db.pool, 64, 8).await;
    assert_eq!(
        per_host(&claimed, "big.example"),
        8,
        "the cap, in one batch"
    );
    assert_eq!(claimed.len(), 18, "and every small host");
    // The big host holds its cap: the next claim gives it nothing until a slot frees.
    backlog(&db.pool, "late.example", 1).await;
    let next = claim(&db.pool, 64, 8).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].host, "late.example");
    // Round-robin: with fewer slots than hosts' rows, each host's first row comes first.
    let db = fresh_database().await;
    backlog(&db.pool, "big.example", 50).await;
    for i in 0..4 {
        backlog(&db.pool, &format!("small{i}.example"), 1).await;
    }
    let claimed = claim(&db.pool, 5, 8).await;
    assert_eq!(per_host(&claimed, "big.example"), 1, "{claimed:?}");
}

/// Seen on the inbox benchmark: one follower instance at its cap with a backlog made every
/// claim read that whole backlog (346 rows per Like) before it found the hosts it could serve.
/// A claim reads what it can send, not what waits behind a full host.
#[tokio::test]
async fn a_claim_does_not_read_the_backlog_of_a_host_at_its_cap() {
    use diesel_async::RunQueryDsl;
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    // 5,000 waiting for one host (one activity to as many inboxes: queued in one statement),
    // with the statistics autovacuum would have gathered by then, so that the planner sees a
    // table of that size.
    diesel::sql_query(
        "WITH a AS (INSERT INTO outgoing_activity (ap_id, signer_ap_id, body) \
                    VALUES ('https://a.example/act/big', 's', '{}') RETURNING id) \
         INSERT INTO delivery (activity_id, inbox_url, host) \
         SELECT a.id, 'https://big.example/u/' || n || '/inbox', 'big.example' \
         FROM a, generate_series(1, 5000) AS n",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query("ANALYZE delivery")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(per_host(&claim(&db.pool, 64, 8).await, "big.example"), 8);
    for i in 0..3 {
        backlog(&db.pool, &format!("small{i}.example"), 1).await;
    }
    let (claimed, read) = conn
        .transaction::<_, DbError, _>(async move |c| {
            let before = rows_read(c, "delivery").await.unwrap();
            let claimed = federation::claim_deliveries(c, 64, 60.0, 8).await?;
            Ok((claimed, rows_read(c, "delivery").await.unwrap() - before))
        })
        .await
        .unwrap();
    assert_eq!(
        claimed.len(),
        3,
        "the three small hosts, none of the capped one"
    );
    assert!(
        read < 100,
        "a claim read {read} delivery rows with 5,000 waiting behind a capped host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_never_give_a_host_more_than_its_cap_in_all() {
    let db = fresh_database().await;
    backlog(&db.pool, "big.example", 40).await;
    // Eight workers claiming at the same instant.
    let mut claims = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let pool = db.pool.clone();
        claims.spawn(async move { claim(&pool, 64, 8).await });
    }
    let all: Vec<ClaimedDelivery> = claims.join_all().await.into_iter().flatten().collect();
    assert_eq!(
        per_host(&all, "big.example"),
        8,
        "the database decides, whoever asks"
    );
}

#[tokio::test]
async fn finished_rows_take_their_activity_along() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    federation::enqueue_activity(
        &mut conn,
        "https://a.example/act/2",
        "https://a.example/u/marie",
        "{}",
        &targets(&[
            ("https://b.example/inbox", "b.example"),
            ("https://c.example/inbox", "c.example"),
        ]),
        None,
    )
    .await
    .unwrap();
    let claimed = claim(&db.pool, 1, 8).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    federation::finish_delivery(&mut conn, claimed[0].id)
        .await
        .unwrap();
    let stats = federation::queue_stats(&mut conn).await.unwrap();
    assert_eq!(stats.pending, 1);
    let rest = claim(&db.pool, 10, 8).await;
    assert_eq!(rest.len(), 1);
    assert_ne!(rest[0].host, claimed[0].host);
    federation::finish_deliveries(&mut conn, &[rest[0].id])
        .await
        .unwrap();
    // The activity went with its last delivery: the same id can be queued again.
    assert_eq!(
        federation::enqueue_activity(
            &mut conn,
            "https://a.example/act/2",
            "s",
            "{}",
            &targets(&[("https://d.example/inbox", "d.example")]),
            None,
        )
        .await
        .unwrap(),
        1
    );
}

#[tokio::test]
async fn a_retried_row_waits_for_its_time_and_a_dead_instance_keeps_its_queue_parked() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    federation::enqueue_activity(
        &mut conn,
        "https://a.example/act/3",
        "s",
        "{}",
        &targets(&[("https://b.example/inbox", "b.example")]),
        None,
    )
    .await
    .unwrap();
    let claimed = claim(&db.pool, 10, 8).await;
    federation::retry_delivery_at(
        &mut conn,
        claimed[0].id,
        Utc::now() + Duration::hours(1),
        "HTTP 503",
    )
    .await
    .unwrap();
    assert!(claim(&db.pool, 10, 8).await.is_empty());
    assert!(
        federation::next_due_at(&mut conn).await.unwrap().unwrap()
            > Utc::now() + Duration::minutes(59)
    );

    // Failing since before the threshold: dead; its queue is parked, new deliveries are
    // parked too, until a probe (or the instance itself) shows it is back.
    let probe_at = Utc::now() + Duration::minutes(10);
    assert!(!federation::record_instance_failure(
        &mut conn,
        "b.example",
        Utc::now() - Duration::hours(48),
        probe_at
    )
    .await
    .unwrap());
    assert!(federation::record_instance_failure(
        &mut conn,
        "b.example",
        Utc::now() + Duration::seconds(1),
        probe_at
    )
    .await
    .unwrap());
    assert!(
        federation::instance_state(&mut conn, "b.example")
            .await
            .unwrap()
            .dead
    );
    assert_eq!(
        federation::park_deliveries_to(&mut conn, "b.example")
            .await
            .unwrap(),
        1
    );
    let queued = federation::enqueue_activity(
        &mut conn,
        "https://a.example/act/4",
        "s",
        "{}",
        &targets(&[("https://b.example/inbox", "b.example")]),
        None,
    )
    .await
    .unwrap();
    assert_eq!(queued, 1, "queued, parked");
    let stats = federation::queue_stats(&mut conn).await.unwrap();
    assert_eq!((stats.pending, stats.parked), (2, 2));
    assert!(
        claim(&db.pool, 10, 8).await.is_empty(),
        "nothing sent to the dead"
    );
    let next_probe = federation::next_probe_at(&mut conn).await.unwrap().unwrap();
    assert!(
        (next_probe - probe_at).num_milliseconds().abs() < 5,
        "{next_probe} {probe_at}"
    );
    federation::record_instance_alive(&mut conn, "b.example")
        .await
        .unwrap();
    assert!(
        !federation::instance_state(&mut conn, "b.example")
            .await
            .unwrap()
            .dead
    );
    // Back: both due now, in the order they were queued.
    let claimed = claim(&db.pool, 10, 8).await;
    let activities: Vec<&str> = claimed.iter().map(|d| d.activity_ap_id.as_str()).collect();
    assert_eq!(
        activities,
        ["https://a.example/act/3", "https://a.example/act/4"]
    );
}

/// The claim keeps its own list of hosts with work (`delivery_host`): every way a row becomes
/// claimable again must reach it. A row queued while its instance was being declared dead
/// (its enqueue did not see the flag, so the row was not parked) is claimed once the instance
/// is back; a retry due before its lease ends, and a lease that runs out, are claimed too.
#[tokio::test]
async fn every_way_back_to_due_reaches_the_claim() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    backlog(&db.pool, "b.example", 1).await;
    // Dead, its queue not parked: the enqueue raced the transaction that declared it dead.
    let probe_at = Utc::now() + Duration::minutes(10);
    let past = Utc::now() - Duration::hours(48);
    federation::record_instance_failure(&mut conn, "b.example", past, probe_at)
        .await
        .unwrap();
    assert!(federation::record_instance_failure(
        &mut conn,
        "b.example",
        Utc::now() + Duration::seconds(1),
        probe_at
    )
    .await
    .unwrap());
    assert!(
        claim(&db.pool, 10, 8).await.is_empty(),
        "nothing to the dead"
    );
    federation::record_instance_alive(&mut conn, "b.example")
        .await
        .unwrap();
    let claimed = claim(&db.pool, 10, 8).await;
    assert_eq!(claimed.len(), 1, "claimed once the instance is back");

    // Retried sooner than its lease would have run out: due at the retry's time.
    federation::retry_delivery_at(&mut conn, claimed[0].id, Utc::now(), "HTTP 503")
        .await
        .unwrap();
    // This time under a one-second lease, as if its worker then died.
    let claimed = conn
        .transaction::<_, DbError, _>(async move |c| {
            federation::claim_deliveries(c, 10, 1.0, 8).await
        })
        .await
        .unwrap();
    assert_eq!(
        claimed.len(),
        1,
        "the retry, claimed before its old lease ended"
    );
    assert!(claim(&db.pool, 10, 8).await.is_empty(), "leased");
    // Nothing writes a wake when a lease runs out: the claim's own bound (the lease's end)
    // brings the row back.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let again = loop {
        let again = claim(&db.pool, 10, 8).await;
        if !again.is_empty() || std::time::Instant::now() > deadline {
            break again;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(again.len(), 1, "a lease that ran out gives the row back");
    assert_eq!(again[0].id, claimed[0].id);
}

/// Found by review: a host whose deliveries were all sent kept its place in the claim's host
/// list, due at the end of the lease it no longer held; those empty hosts then took a claim's
/// slots ahead of hosts with work (after a 10,000-host fan-out, minutes of them). A host
/// leaves the list with its last row.
#[tokio::test]
async fn hosts_with_everything_sent_take_no_slot_from_hosts_with_work() {
    let db = fresh_database().await;
    for i in 0..20 {
        backlog(&db.pool, &format!("done{i}.example"), 1).await;
    }
    let mut conn = db.pool.get().await.unwrap();
    // Claimed under a lease that has run out already (as if claimed long ago), then delivered.
    let claimed = conn
        .transaction::<_, DbError, _>(async move |c| {
            federation::claim_deliveries(c, 64, 0.0, 8).await
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 20);
    let ids: Vec<i64> = claimed.iter().map(|d| d.id).collect();
    federation::finish_deliveries(&mut conn, &ids)
        .await
        .unwrap();
    backlog(&db.pool, "new.example", 1).await;
    let next = claim(&db.pool, 1, 8).await;
    assert_eq!(
        next.iter().map(|d| d.host.as_str()).collect::<Vec<_>>(),
        ["new.example"],
        "the one slot goes to the host with work"
    );
}

/// Found by review: a blocked instance's queue is cancelled by a delete of its own, which
/// left the host in the claim's host list; its empty row then took a claim's slot ahead of
/// hosts with work. Cancelled after a claim has listed the host (its delete takes the host
/// along) or before (the claim no longer lists a host whose rows are gone), it takes none.
#[tokio::test]
async fn a_blocked_instances_cancelled_queue_takes_no_slot_from_hosts_with_work() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    for (listed_first, blocked, other) in [
        (false, "blocked-early.example", "other-a.example"),
        (true, "blocked-late.example", "other-b.example"),
    ] {
        backlog(&db.pool, blocked, 2).await;
        backlog(&db.pool, other, 1).await;
        if listed_first {
            // A claim that picks no host still folds the wakes: both hosts are listed.
            assert!(claim(&db.pool, 0, 8).await.is_empty());
        }
        assert_eq!(
            cenacle_db::instance_moderation::cancel_deliveries_to(&mut conn, blocked)
                .await
                .unwrap(),
            2
        );
        let next = claim(&db.pool, 1, 8).await;
        assert_eq!(
            next.iter().map(|d| d.host.as_str()).collect::<Vec<_>>(),
            [other],
            "the one slot goes to the host with work (listed first: {listed_first})"
        );
    }
}

/// The claim recomputes each host it picked from a snapshot; a row queued for that host
/// meanwhile — committed after that snapshot, or begun before the claim and committed after
/// it — must still be claimed (its wake outlives the recompute), not wait for the lease the
/// claim saw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_queued_while_its_host_is_being_claimed_is_not_lost() {
    let db = fresh_database().await;
    backlog(&db.pool, "b.example", 1).await;
    // Queued and committed while the claim's transaction is still open, after its recompute
    // (bounded: were queueing to wait for the claim's locks, this would hang, not fail).
    let pool = db.pool.clone();
    let mut conn = db.pool.get().await.unwrap();
    let first = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        conn.transaction::<_, DbError, _>(async move |c| {
            let claimed = federation::claim_deliveries(c, 10, 60.0, 8).await?;
            let mut other = pool.get().await.unwrap();
            queue_one(&mut other, "https://a.example/act/during", "b.example").await;
            Ok(claimed)
        }),
    )
    .await
    .expect("queueing does not wait for a claim")
    .unwrap();
    assert_eq!(first.len(), 1);
    let second = claim(&db.pool, 10, 8).await;
    assert_eq!(second.len(), 1, "the row queued during the claim");
    // Begun before a claim and committed after it, while that claim picks the host (for a
    // row already due) and recomputes it from a snapshot without the new row or its wake.
    let mut due = db.pool.get().await.unwrap();
    queue_one(&mut due, "https://a.example/act/due", "b.example").await;
    let pool = db.pool.clone();
    let mut conn = db.pool.get().await.unwrap();
    let during = conn
        .transaction::<_, DbError, _>(async move |c| {
            queue_one(c, "https://a.example/act/late", "b.example").await;
            Ok(claim(&pool, 10, 8).await)
        })
        .await
        .unwrap();
    let ids = |claimed: &[ClaimedDelivery]| -> Vec<String> {
        claimed.iter().map(|d| d.activity_ap_id.clone()).collect()
    };
    assert_eq!(
        ids(&during),
        ["https://a.example/act/due"],
        "the late row, not yet committed, is not seen"
    );
    assert_eq!(
        ids(&claim(&db.pool, 10, 8).await),
        ["https://a.example/act/late"],
        "claimed at once, not at the end of the leases the claim saw"
    );
}

#[tokio::test]
async fn old_received_activity_ids_are_pruned() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "INSERT INTO received_activity (ap_id, actor_ap_id, received_at) VALUES \
         ('https://b.example/a/old', 'https://b.example/u/1', now() - interval '31 days'), \
         ('https://b.example/a/new', 'https://b.example/u/1', now() - interval '29 days')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        federation::prune_received(&mut conn, 30, 100)
            .await
            .unwrap(),
        1
    );
    assert!(
        !federation::was_received(&mut conn, "https://b.example/a/old")
            .await
            .unwrap()
    );
    assert!(
        federation::was_received(&mut conn, "https://b.example/a/new")
            .await
            .unwrap()
    );
}

/// A dead instance's parked deliveries are given up once it has been failing for longer than
/// the limit, however recently they were queued; those of an instance dead for less long, and
/// ordinary waiting ones, stay.
#[tokio::test]
async fn parked_deliveries_are_given_up_after_their_age_limit() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "WITH a AS (INSERT INTO outgoing_activity (ap_id, signer_ap_id, body) \
                    VALUES ('https://a.example/act/1', 'https://a.example/u/1', '{}') RETURNING id) \
         INSERT INTO delivery (activity_id, inbox_url, host, next_attempt_at, created_at) \
         SELECT a.id, v.inbox, v.host, v.next_at::timestamptz, now() - v.age::interval FROM a, \
         (VALUES ('https://old.example/inbox', 'old.example', 'infinity', '1 day'), \
                 ('https://young.example/inbox', 'young.example', 'infinity', '40 days'), \
                 ('https://slow.example/inbox', 'slow.example', '2099-01-01', '40 days')) \
         AS v(inbox, host, next_at, age)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(
        "INSERT INTO instance (host, dead, failing_since) VALUES \
         ('old.example', true, now() - interval '31 days'), \
         ('young.example', true, now() - interval '29 days'), \
         ('slow.example', false, now() - interval '40 days')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        federation::expire_parked_deliveries(&mut conn, 30, 100)
            .await
            .unwrap(),
        1
    );
    #[derive(diesel::QueryableByName)]
    struct Host {
        #[diesel(sql_type = diesel::sql_types::Text)]
        host: String,
    }
    let left: Vec<String> = diesel::sql_query("SELECT host FROM delivery ORDER BY host")
        .load::<Host>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.host)
        .collect();
    assert_eq!(left, ["slow.example", "young.example"]);
}

#[tokio::test]
async fn an_activity_id_is_recorded_once() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    assert!(federation::record_received(
        &mut conn,
        "https://b.example/a/1",
        "https://b.example/u/1"
    )
    .await
    .unwrap());
    assert!(!federation::record_received(
        &mut conn,
        "https://b.example/a/1",
        "https://b.example/u/1"
    )
    .await
    .unwrap());
}

/// Allow-list mode: deliveries are queued only for the instances the configuration lists (with
/// or without their port) or an admin allowed — none for the others.
#[tokio::test]
async fn in_allow_list_mode_only_allowed_instances_get_deliveries_queued() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    cenacle_db::instance_moderation::set_allowed(&mut conn, "d.example", true)
        .await
        .unwrap();
    let listed = vec!["b.example".to_owned(), "c.example".to_owned()];
    let queued = federation::enqueue_activity(
        &mut conn,
        "https://a.example/act/allow",
        "s",
        "{}",
        &targets(&[
            ("https://b.example/inbox", "b.example"),
            ("https://c.example:8443/inbox", "c.example:8443"),
            ("https://d.example/inbox", "d.example"),
            ("https://e.example/inbox", "e.example"),
        ]),
        Some(&listed),
    )
    .await
    .unwrap();
    assert_eq!(queued, 3);
    let hosts: Vec<String> = claim(&db.pool, 10, 8)
        .await
        .into_iter()
        .map(|d| d.host)
        .collect();
    assert!(!hosts.contains(&"e.example".to_owned()), "{hosts:?}");

    // A group's relay likewise: only the admin-allowed follower instance.
    for follower in ["https://d.example/u/1", "https://e.example/u/2"] {
        federation::upsert_follow(
            &mut conn,
            &federation::NewFollow {
                target_ap_id: "https://a.example/g/rust",
                follower_ap_id: follower,
                follower_inbox: &format!("{follower}/inbox"),
                follower_shared_inbox: None,
                accepted: true,
                follow_activity_id: &format!("{follower}/follow"),
            },
        )
        .await
        .unwrap();
    }
    let relayed = federation::enqueue_to_followers(
        &mut conn,
        "https://a.example/act/relay",
        "https://a.example/g/rust",
        "{}",
        "https://a.example/g/rust",
        "a.example",
        Some(&[]),
    )
    .await
    .unwrap();
    assert_eq!(relayed, 1);
    // Outside allow-list mode, both.
    let relayed = federation::enqueue_to_followers(
        &mut conn,
        "https://a.example/act/relay2",
        "https://a.example/g/rust",
        "{}",
        "https://a.example/g/rust",
        "a.example",
        None,
    )
    .await
    .unwrap();
    assert_eq!(relayed, 2);
}
