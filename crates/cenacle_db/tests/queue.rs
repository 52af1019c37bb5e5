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
    follow_accepted(
        &mut conn,
        "https://a.example/g/rust",
        &[
            ("https://b.example/u/1", Some("https://b.example/inbox")),
            ("https://b.example/u/2", Some("https://b.example/inbox")),
            ("https://c.example/u/3", None),
        ],
    )
    .await;
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

/// Each `(follower, shared inbox)` follows `target`, accepted (their inbox: `{follower}/inbox`).
async fn follow_accepted(
    conn: &mut diesel_async::AsyncPgConnection,
    target: &str,
    followers: &[(&str, Option<&str>)],
) {
    for (follower, shared) in followers {
        federation::upsert_follow(
            conn,
            &federation::NewFollow {
                target_ap_id: target,
                follower_ap_id: follower,
                follower_inbox: &format!("{follower}/inbox"),
                follower_shared_inbox: *shared,
                accepted: true,
                follow_activity_id: &format!("{follower}/follow"),
            },
        )
        .await
        .unwrap();
    }
}

/// The group `g` of a.example relays activity `id` to its followers and to `also`.
async fn relay_also(c: &mut diesel_async::AsyncPgConnection, id: &str, also: &str) -> usize {
    let g = "https://a.example/g/rust";
    let id = format!("https://a.example/act/{id}");
    federation::enqueue_to_followers(c, &id, g, "{}", g, "a.example", None, Some(also))
        .await
        .unwrap()
}

/// A group's relay that must also reach a banned person's server (issue 13: the ban took the
/// follow that carried the relay there): one copy per server, in the one statement that reads
/// the followers, none to a server a follower already receives it on, none to a blocked one.
#[tokio::test]
async fn a_relay_reaches_one_more_server_once_unless_a_follower_there_receives_it() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let group = "https://a.example/g/rust";
    // Nobody follows yet: the one more server alone, and the activity is stored for it.
    assert_eq!(
        relay_also(&mut conn, "r0", "https://d.example/inbox").await,
        1
    );
    follow_accepted(
        &mut conn,
        group,
        &[
            ("https://b.example/u/1", Some("https://b.example/inbox")),
            ("https://c.example/u/3", None),
        ],
    )
    .await;
    // A server with a follower already gets its copy (host compared in lower case, whatever
    // inbox the banned person names there).
    assert_eq!(
        relay_also(&mut conn, "r1", "https://B.example/u/9/inbox").await,
        2
    );
    assert_eq!(
        relay_also(&mut conn, "r2", "https://c.example/inbox").await,
        2
    );
    // A server without one gets one more.
    assert_eq!(
        relay_also(&mut conn, "r3", "https://d.example/inbox").await,
        3
    );
    // Never a blocked one, nor ourselves.
    federation::set_blocked(&mut conn, "d.example", true)
        .await
        .unwrap();
    assert_eq!(
        relay_also(&mut conn, "r4", "https://d.example/inbox").await,
        2
    );
    assert_eq!(
        relay_also(&mut conn, "r5", "https://a.example/inbox").await,
        2
    );
    // A dead one gets its copy parked, as any follower's (`DEAD`).
    {
        use diesel_async::RunQueryDsl;
        diesel::sql_query(
            "INSERT INTO instance (host, dead, failing_since) VALUES ('f.example', true, now())",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
    assert_eq!(
        relay_also(&mut conn, "r6", "https://f.example/inbox").await,
        3
    );
    // In allow-list mode, only if allowed, as the followers.
    let g = "https://a.example/g/rust";
    for (id, allowed, queued) in [("r7", vec![], 0), ("r8", vec!["g.example".to_owned()], 1)] {
        let id = format!("https://a.example/act/{id}");
        let relayed = federation::enqueue_to_followers(
            &mut conn,
            &id,
            g,
            "{}",
            g,
            "a.example",
            Some(&allowed),
            Some("https://g.example/inbox"),
        )
        .await
        .unwrap();
        assert_eq!(relayed, queued, "{allowed:?}");
    }
    let claimed: Vec<String> = claim(&db.pool, 100, 100)
        .await
        .into_iter()
        .filter(|d| ["d.example", "f.example", "g.example"].contains(&d.host.as_str()))
        .map(|d| format!("{} {}", d.activity_ap_id, d.inbox_url))
        .collect();
    assert_eq!(
        claimed,
        [
            "https://a.example/act/r0 https://d.example/inbox",
            "https://a.example/act/r3 https://d.example/inbox",
            "https://a.example/act/r8 https://g.example/inbox"
        ],
        "the dead host's copy parked, not claimed"
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
    follow_accepted(
        &mut conn,
        "https://a.example/g/rust",
        &[
            ("https://d.example/u/1", None),
            ("https://e.example/u/2", None),
        ],
    )
    .await;
    let relayed = federation::enqueue_to_followers(
        &mut conn,
        "https://a.example/act/relay",
        "https://a.example/g/rust",
        "{}",
        "https://a.example/g/rust",
        "a.example",
        Some(&[]),
        None,
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
        None,
    )
    .await
    .unwrap();
    assert_eq!(relayed, 2);
}

/// `next_due_at` as it read before its index (`delivery_claimable_idx`, issue 10): the answer
/// the cheaper reading must keep giving.
const NEXT_DUE_BEFORE: &str = "SELECT LEAST( \
       (SELECT d.next_attempt_at FROM delivery d \
        WHERE d.locked_until IS NULL AND d.next_attempt_at < 'infinity' \
          AND NOT EXISTS (SELECT 1 FROM instance i WHERE i.host = d.host AND i.dead) \
        ORDER BY d.next_attempt_at LIMIT 1), \
       (SELECT min(GREATEST(locked_until, next_attempt_at)) FROM delivery \
        WHERE locked_until IS NOT NULL AND next_attempt_at < 'infinity'), \
       (SELECT min(next_attempt_at) FROM outbox_event WHERE failed_at IS NULL)) AS at";

/// When an idle worker wakes: each kind of row counts as the claim and the outbox see it.
/// Written as rows, not through the queue's functions, so that every situation is exact
/// (times are minutes after a fixed instant); each answer is also checked against the query
/// as it was before its index.
#[tokio::test]
async fn next_due_at_counts_what_a_worker_could_take_and_nothing_else() {
    use diesel::sql_types::{Nullable, Timestamptz};
    use diesel_async::{AsyncPgConnection, RunQueryDsl};

    #[derive(diesel::QueryableByName)]
    struct Due {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        at: Option<chrono::DateTime<Utc>>,
    }
    let t0: chrono::DateTime<Utc> = "2030-01-01T00:00:00Z".parse().unwrap();
    let at = |minutes: i64| Some(t0 + Duration::minutes(minutes));
    async fn run(conn: &mut AsyncPgConnection, sql: &str) {
        diesel::sql_query(sql).execute(conn).await.unwrap();
    }
    /// Checks the answer, and that the query as it was gives the same.
    async fn expect(conn: &mut AsyncPgConnection, want: Option<chrono::DateTime<Utc>>, what: &str) {
        let got = federation::next_due_at(conn).await.unwrap();
        assert_eq!(got, want, "{what}");
        let before = diesel::sql_query(NEXT_DUE_BEFORE)
            .get_result::<Due>(conn)
            .await
            .unwrap()
            .at;
        assert_eq!(got, before, "{what}: as before");
    }
    /// One delivery to `host` (inbox `n`), due at minute `due` (None: parked), leased until
    /// minute `lease`.
    async fn row(
        conn: &mut AsyncPgConnection,
        host: &str,
        n: usize,
        due: Option<i64>,
        lease: Option<i64>,
    ) {
        let minutes = |m: Option<i64>, none: &str| {
            m.map_or(none.to_owned(), |m| {
                format!("TIMESTAMPTZ '2030-01-01 00:00:00+00' + interval '{m} minutes'")
            })
        };
        run(
            conn,
            &format!(
                "INSERT INTO delivery (activity_id, inbox_url, host, next_attempt_at, locked_until) \
                 VALUES ((SELECT min(id) FROM outgoing_activity), 'https://{host}/inbox/{n}', '{host}', {}, {})",
                minutes(due, "'infinity'"),
                minutes(lease, "NULL"),
            ),
        )
        .await;
    }

    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    let c = &mut conn;
    expect(c, None, "nothing queued").await;
    run(
        c,
        "INSERT INTO outgoing_activity (ap_id, signer_ap_id, body) \
         VALUES ('https://a.example/act/1', 's', '{}')",
    )
    .await;
    run(
        c,
        "INSERT INTO instance (host, dead) VALUES ('dead.example', true), ('alive.example', false)",
    )
    .await;

    // Outbox retries count; events parked as failed do not.
    run(
        c,
        "INSERT INTO outbox_event (kind, subject_id, next_attempt_at, failed_at) VALUES \
         ('post_created', 1, TIMESTAMPTZ '2030-01-01 00:50:00+00', NULL), \
         ('post_created', 2, TIMESTAMPTZ '2030-01-01 00:01:00+00', now())",
    )
    .await;
    expect(c, at(50), "an outbox retry").await;

    // A delivery due, to an instance never failed (no `instance` row) and to a known live one.
    row(c, "new.example", 0, Some(45), None).await;
    expect(c, at(45), "a row of an unknown instance").await;
    row(c, "alive.example", 0, Some(40), None).await;
    expect(c, at(40), "a row of a live instance").await;

    // A dead instance's row, unparked (queued while it was being declared dead): skipped.
    row(c, "dead.example", 0, Some(10), None).await;
    expect(
        c,
        at(40),
        "a dead instance's unparked row waits for its revival",
    )
    .await;
    // Parked rows wait for a probe, leased or not.
    row(c, "dead.example", 1, None, None).await;
    row(c, "dead.example", 2, None, Some(1)).await;
    expect(c, at(40), "parked rows").await;

    // Leased rows count at the end of their lease (their worker may be gone), dead or alive.
    row(c, "alive.example", 1, Some(-5), Some(30)).await;
    expect(c, at(30), "a leased row, at its lease's end").await;
    row(c, "dead.example", 3, Some(-5), Some(25)).await;
    expect(c, at(25), "a dead instance's leased row counts too").await;
    // … or at its due time when that is later (retried while leased).
    row(c, "alive.example", 2, Some(20), Some(15)).await;
    expect(c, at(20), "a leased row due after its lease").await;

    // More unparked rows of dead instances ahead than the first look reads (32): the walk
    // goes on past them, to a live row behind them.
    for n in 0..40 {
        row(c, "dead.example", 10 + n, Some(1), None).await;
    }
    expect(c, at(20), "40 dead rows ahead").await;
    row(c, "alive.example", 3, Some(5), None).await;
    expect(c, at(5), "a live row behind 40 dead ones").await;
    // Only dead rows and parked rows left: nothing due but the outbox.
    run(
        c,
        "DELETE FROM delivery WHERE host <> 'dead.example' OR locked_until IS NOT NULL",
    )
    .await;
    expect(c, at(50), "only a dead instance's rows").await;

    // The instance back: its rows count (revival makes them due now; here they keep theirs).
    run(
        c,
        "UPDATE instance SET dead = false WHERE host = 'dead.example'",
    )
    .await;
    expect(c, at(1), "the instance back").await;
}

/// Every idle worker asks `next_due_at`: it must read a few index entries, not the queue.
/// Before its index it stepped over every leased row (a claim leases rows that are due: the
/// head of the due-time order) and then read each of them again for its lease's end.
#[tokio::test]
async fn next_due_at_reads_neither_the_leased_rows_nor_the_parked_ones() {
    use diesel_async::RunQueryDsl;
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    // 3,000 rows leased (due a minute ago), 3,000 parked for a dead instance, 20 of that
    // instance unparked and due first, then 3,000 due later; with the statistics autovacuum
    // would have gathered, so that the planner sees a table of that size.
    diesel::sql_query("INSERT INTO instance (host, dead) VALUES ('dead.example', true)")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query(
        "WITH a AS (INSERT INTO outgoing_activity (ap_id, signer_ap_id, body) \
                    VALUES ('https://a.example/act/big', 's', '{}') RETURNING id) \
         INSERT INTO delivery (activity_id, inbox_url, host, next_attempt_at, locked_until) \
         SELECT a.id, 'https://h' || n % 100 || '.example/u/' || n || '/inbox', \
                CASE WHEN n BETWEEN 3001 AND 6020 THEN 'dead.example' ELSE 'h' || n % 100 || '.example' END, \
                CASE WHEN n <= 3000 THEN now() - interval '1 minute' \
                     WHEN n <= 6000 THEN 'infinity' \
                     WHEN n <= 6020 THEN now() + interval '1 minute' \
                     ELSE now() + interval '1 hour' + (n - 6020) * interval '1 second' END, \
                CASE WHEN n <= 3000 THEN now() + interval '2 hours' + n * interval '1 second' END \
         FROM a, generate_series(1, 9020) AS n",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query("ANALYZE delivery")
        .execute(&mut conn)
        .await
        .unwrap();
    let (due, read) = conn
        .transaction::<_, DbError, _>(async move |c| {
            let before = rows_read(c, "delivery").await.unwrap();
            let due = federation::next_due_at(c).await?;
            Ok((due, rows_read(c, "delivery").await.unwrap() - before))
        })
        .await
        .unwrap();
    let due = due.unwrap();
    assert!(
        due > Utc::now() + Duration::minutes(59) && due < Utc::now() + Duration::minutes(61),
        "the first live row, an hour away: {due}"
    );
    assert!(
        read < 100,
        "next_due_at read {read} delivery rows (3,000 leased, 3,000 parked)"
    );
}

/// A row queued while its instance was being declared dead (the enqueue read it alive, so
/// did not park it) is parked by the first claim that finds its host due: it no longer waits
/// in the due range, where every idle worker's `next_due_at` would step over it until the
/// revival, and the revival makes it due again as the rest of the queue.
#[tokio::test]
async fn a_claim_parks_the_rows_its_dead_host_was_sent_while_dying() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    two_rows_to(&mut conn, "dying.example").await;
    // Declared dead by a transaction that did not see those rows: nothing parked them.
    declared_dead_unparked(&mut conn, "dying.example").await;
    assert_eq!(parked(&mut conn, "dying.example").await, 0);

    assert!(
        claim(&db.pool, 10, 8).await.is_empty(),
        "a dead host is not sent to"
    );
    assert_eq!(
        parked(&mut conn, "dying.example").await,
        2,
        "the claim parked both rows"
    );
    assert_eq!(federation::next_due_at(&mut conn).await.unwrap(), None);

    federation::record_instances_alive(&mut conn, &["dying.example".to_owned()])
        .await
        .unwrap();
    assert_eq!(parked(&mut conn, "dying.example").await, 0);
    assert_eq!(
        claim(&db.pool, 10, 8).await.len(),
        2,
        "both sent once it is back"
    );
}

/// A claim that reads a host as dead while its revival is being committed does not park the
/// rows the revival made due: it decides "dead" under the instance row's lock, and leaves a
/// host whose row is being changed to whoever changes it. (Read in the claim's snapshot, the
/// stale "dead" had the rows, re-checked as the revival left them, parked again, with nothing
/// left to unpark them: a live instance's queue stuck for good.)
#[tokio::test]
async fn a_claim_racing_a_revival_leaves_the_revived_rows_due() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    two_rows_to(&mut conn, "flap.example").await;
    declared_dead_unparked(&mut conn, "flap.example").await;
    // The revival, not committed yet.
    let mut reviving = db.pool.get().await.unwrap();
    begin(&mut reviving).await;
    federation::record_instances_alive(&mut reviving, &["flap.example".to_owned()])
        .await
        .unwrap();
    let claiming = tokio::spawn({
        let pool = db.pool.clone();
        async move { claim(&pool, 10, 8).await }
    });
    // The claim either finishes (it skipped the host) or waits on the revival's rows (the
    // unlocked reading did): either way the revival then commits.
    waits_or_finishes(&mut conn, &claiming).await;
    commit(&mut reviving).await;
    claiming.await.unwrap();
    assert_eq!(
        parked(&mut conn, "flap.example").await,
        0,
        "the revived rows stay due"
    );
    let sent = claim(&db.pool, 10, 8).await.len();
    let sent = sent + claim(&db.pool, 10, 8).await.len();
    assert_eq!(sent, 2, "both rows go out");
}

/// An instance answering while a failure is declaring it dead: the revival waits for the
/// failure to commit, then reads it dead and makes the queue the failure parked due again.
/// (Read in the revival's snapshot, "alive" hid the failure; the upsert then overwrote it as
/// alive and left the queue parked: no probe runs for a live instance, no claim takes parked
/// rows, so they were never sent.)
#[tokio::test]
async fn a_revival_racing_a_death_leaves_no_queue_parked() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    two_rows_to(&mut conn, "race.example").await;
    let probe_at = Utc::now() + Duration::minutes(10);
    federation::record_instance_failure(&mut conn, "race.example", Utc::now(), probe_at)
        .await
        .unwrap();
    // The failure that declares it dead and parks its queue, not committed yet.
    let mut dying = db.pool.get().await.unwrap();
    begin(&mut dying).await;
    assert!(federation::record_instance_failure(
        &mut dying,
        "race.example",
        Utc::now() + Duration::hours(1),
        probe_at
    )
    .await
    .unwrap());
    assert_eq!(
        federation::park_deliveries_to(&mut dying, "race.example")
            .await
            .unwrap(),
        2
    );
    let reviving = tokio::spawn({
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            federation::record_instances_alive(&mut conn, &["race.example".to_owned()])
                .await
                .unwrap()
        }
    });
    assert!(
        waits_or_finishes(&mut conn, &reviving).await,
        "the revival did not wait for the death"
    );
    commit(&mut dying).await;
    reviving.await.unwrap();
    assert_eq!(
        parked(&mut conn, "race.example").await,
        0,
        "the queue the failure parked is due again"
    );
    assert_eq!(claim(&db.pool, 10, 8).await.len(), 2, "and sent");
}

/// A delivery queued to a dead host (parked) by a transaction still open when the host comes
/// back: the revival waits for the queuing to commit, then makes its row due with the rest.
/// (Read in the queuing's snapshot alone, "dead" parked the row where the revival, which
/// could not see it yet, never looked: a live host's delivery parked for good.)
#[tokio::test]
async fn a_revival_waits_for_a_delivery_being_queued_to_its_dead_host() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    declared_dead_unparked(&mut conn, "back.example").await;
    let mut queuing = db.pool.get().await.unwrap();
    begin(&mut queuing).await;
    queue_one(&mut queuing, "https://a.example/act/back/1", "back.example").await;
    let reviving = tokio::spawn({
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            federation::record_instances_alive(&mut conn, &["back.example".to_owned()])
                .await
                .unwrap()
        }
    });
    assert!(
        waits_or_finishes(&mut conn, &reviving).await,
        "the revival did not wait for the delivery being queued"
    );
    commit(&mut queuing).await;
    reviving.await.unwrap();
    assert_eq!(parked(&mut conn, "back.example").await, 0, "the row is due");
    assert_eq!(claim(&db.pool, 10, 8).await.len(), 1, "and sent");
}

/// A delivery queued to a dead host while its revival is being committed is queued due (the
/// queuing skips a host whose row is being changed, and lets the claim park its rows if it is
/// still dead after). (Read in its snapshot, the host was still dead: the row was parked after
/// the revival had unparked the rest, for good.)
#[tokio::test]
async fn a_delivery_queued_during_its_hosts_revival_is_due() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    declared_dead_unparked(&mut conn, "again.example").await;
    let mut reviving = db.pool.get().await.unwrap();
    begin(&mut reviving).await;
    federation::record_instances_alive(&mut reviving, &["again.example".to_owned()])
        .await
        .unwrap();
    let queuing = tokio::spawn({
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            queue_one(&mut conn, "https://a.example/act/again/1", "again.example").await
        }
    });
    assert!(
        !waits_or_finishes(&mut conn, &queuing).await,
        "the queuing waited for the revival"
    );
    commit(&mut reviving).await;
    queuing.await.unwrap();
    assert_eq!(
        parked(&mut conn, "again.example").await,
        0,
        "the row is due"
    );
    assert_eq!(claim(&db.pool, 10, 8).await.len(), 1, "and sent");
}

/// A delivery queued to a dead host whose revival is being committed, and then rolled back:
/// queued due (the queuing does not wait for the row), it is parked by the next claim, which
/// sends nothing to the host still dead; the host's real revival then makes it due.
#[tokio::test]
async fn a_delivery_queued_during_a_revival_that_fails_is_parked_by_the_claim() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    declared_dead_unparked(&mut conn, "gone.example").await;
    let mut reviving = db.pool.get().await.unwrap();
    begin(&mut reviving).await;
    federation::record_instances_alive(&mut reviving, &["gone.example".to_owned()])
        .await
        .unwrap();
    queue_one(&mut conn, "https://a.example/act/gone/1", "gone.example").await;
    rollback(&mut reviving).await;
    assert_eq!(parked(&mut conn, "gone.example").await, 0, "queued due");
    assert!(
        claim(&db.pool, 10, 8).await.is_empty(),
        "nothing to a dead host"
    );
    assert_eq!(
        parked(&mut conn, "gone.example").await,
        1,
        "parked by the claim"
    );
    federation::record_instances_alive(&mut conn, &["gone.example".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        claim(&db.pool, 10, 8).await.len(),
        1,
        "sent once it is back"
    );
}

/// A failure recorded on a dead host (a probe that failed again) while a delivery is queued
/// to it: the queuing neither waits nor skips, and the row is parked at once.
#[tokio::test]
async fn a_failure_recorded_on_a_dead_host_does_not_hold_up_its_queuing() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    declared_dead_unparked(&mut conn, "still.example").await;
    let mut failing = db.pool.get().await.unwrap();
    begin(&mut failing).await;
    federation::record_instance_failure(
        &mut failing,
        "still.example",
        Utc::now(),
        Utc::now() + Duration::minutes(10),
    )
    .await
    .unwrap();
    let queuing = tokio::spawn({
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.get().await.unwrap();
            queue_one(&mut conn, "https://a.example/act/still/1", "still.example").await
        }
    });
    assert!(
        !waits_or_finishes(&mut conn, &queuing).await,
        "the queuing waited for the failure"
    );
    queuing.await.unwrap();
    commit(&mut failing).await;
    assert_eq!(
        parked(&mut conn, "still.example").await,
        1,
        "parked at once"
    );
}

/// Two deliveries queued to `host`.
async fn two_rows_to(conn: &mut diesel_async::AsyncPgConnection, host: &str) {
    for n in 1..=2 {
        queue_one(conn, &format!("https://a.example/act/{host}/{n}"), host).await;
    }
}

/// `host` declared dead by a transaction that did not see its queued rows: nothing parked
/// them.
async fn declared_dead_unparked(conn: &mut diesel_async::AsyncPgConnection, host: &str) {
    use diesel_async::RunQueryDsl;
    diesel::sql_query("INSERT INTO instance (host, dead) VALUES ($1, true)")
        .bind::<diesel::sql_types::Text, _>(host)
        .execute(conn)
        .await
        .unwrap();
}

/// How many of `host`'s deliveries are parked.
async fn parked(conn: &mut diesel_async::AsyncPgConnection, host: &str) -> i64 {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "SELECT count(*) AS n FROM delivery WHERE host = $1 AND next_attempt_at = 'infinity'",
    )
    .bind::<diesel::sql_types::Text, _>(host)
    .get_result::<Count>(conn)
    .await
    .unwrap()
    .n
}

/// Opens a transaction left open across calls (through the connection's own transaction
/// manager, so that a queue function's nested transaction is a savepoint in it).
async fn begin(conn: &mut diesel_async::AsyncPgConnection) {
    use diesel_async::{AsyncConnection, TransactionManager};
    <diesel_async::AsyncPgConnection as AsyncConnection>::TransactionManager::begin_transaction(
        conn,
    )
    .await
    .unwrap();
}

/// Commits the transaction [`begin`] opened.
async fn commit(conn: &mut diesel_async::AsyncPgConnection) {
    use diesel_async::{AsyncConnection, TransactionManager};
    <diesel_async::AsyncPgConnection as AsyncConnection>::TransactionManager::commit_transaction(
        conn,
    )
    .await
    .unwrap();
}

/// Rolls back the transaction [`begin`] opened.
async fn rollback(conn: &mut diesel_async::AsyncPgConnection) {
    use diesel_async::{AsyncConnection, TransactionManager};
    <diesel_async::AsyncPgConnection as AsyncConnection>::TransactionManager::rollback_transaction(
        conn,
    )
    .await
    .unwrap();
}

/// Waits (with a generous correctness deadline) until `task` waits on a lock (true) or has
/// finished without waiting (false).
async fn waits_or_finishes<T>(
    conn: &mut diesel_async::AsyncPgConnection,
    task: &tokio::task::JoinHandle<T>,
) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if lock_waiters(conn).await >= 1 {
            return true;
        }
        if task.is_finished() {
            return false;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "neither waited nor finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Sessions of this database waiting on a lock now.
async fn lock_waiters(conn: &mut diesel_async::AsyncPgConnection) -> i64 {
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result::<Count>(conn)
    .await
    .unwrap()
    .n
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
