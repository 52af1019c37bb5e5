//! The delivery queue and follows against a real PostgreSQL.

use cenacle_db::{federation, testing::fresh_database};
use chrono::{Duration, Utc};

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
            &list
        )
        .await
        .unwrap(),
        40
    );
    drop(conn);
    let claim = |pool: cenacle_db::DbPool| async move {
        let mut conn = pool.get().await.unwrap();
        federation::claim_deliveries(&mut conn, 25, 60.0, &[])
            .await
            .unwrap()
    };
    let (a, b) = tokio::join!(claim(db.pool.clone()), claim(db.pool.clone()));
    let mut ids: Vec<i64> = a.iter().chain(b.iter()).map(|d| d.id).collect();
    assert_eq!(ids.len(), 40, "every row claimed once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "no row claimed twice");
    // Leased rows are not claimable again until the lease runs out.
    let mut conn = db.pool.get().await.unwrap();
    assert!(federation::claim_deliveries(&mut conn, 10, 60.0, &[])
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn busy_hosts_are_skipped_and_finished_rows_take_their_activity_along() {
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
    )
    .await
    .unwrap();
    let claimed = federation::claim_deliveries(&mut conn, 10, 60.0, &["b.example".into()])
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].host, "c.example");
    assert_eq!(claimed[0].attempts, 1);
    federation::finish_delivery(&mut conn, claimed[0].id)
        .await
        .unwrap();
    let stats = federation::queue_stats(&mut conn).await.unwrap();
    assert_eq!(stats.pending, 1);
    let rest = federation::claim_deliveries(&mut conn, 10, 60.0, &[])
        .await
        .unwrap();
    federation::finish_delivery(&mut conn, rest[0].id)
        .await
        .unwrap();
    // The activity went with its last delivery: the same id can be queued again.
    assert_eq!(
        federation::enqueue_activity(
            &mut conn,
            "https://a.example/act/2",
            "s",
            "{}",
            &targets(&[("https://d.example/inbox", "d.example")])
        )
        .await
        .unwrap(),
        1
    );
}

#[tokio::test]
async fn a_retried_row_waits_for_its_time_and_a_dead_instance_gets_nothing_new() {
    let db = fresh_database().await;
    let mut conn = db.pool.get().await.unwrap();
    federation::enqueue_activity(
        &mut conn,
        "https://a.example/act/3",
        "s",
        "{}",
        &targets(&[("https://b.example/inbox", "b.example")]),
    )
    .await
    .unwrap();
    let claimed = federation::claim_deliveries(&mut conn, 10, 60.0, &[])
        .await
        .unwrap();
    federation::retry_delivery_at(
        &mut conn,
        claimed[0].id,
        Utc::now() + Duration::hours(1),
        "HTTP 503",
    )
    .await
    .unwrap();
    assert!(federation::claim_deliveries(&mut conn, 10, 60.0, &[])
        .await
        .unwrap()
        .is_empty());
    assert!(
        federation::next_due_at(&mut conn).await.unwrap().unwrap()
            > Utc::now() + Duration::minutes(59)
    );

    // Failing since before the threshold: dead; its queue is dropped by the worker and new
    // deliveries are not even queued, until it contacts us again.
    assert!(!federation::record_instance_failure(
        &mut conn,
        "b.example",
        Utc::now() - Duration::hours(48)
    )
    .await
    .unwrap());
    assert!(federation::record_instance_failure(
        &mut conn,
        "b.example",
        Utc::now() + Duration::seconds(1)
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
        federation::drop_deliveries_to(&mut conn, "b.example")
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
    )
    .await
    .unwrap();
    assert_eq!(queued, 0);
    federation::record_instance_alive(&mut conn, "b.example")
        .await
        .unwrap();
    assert!(
        !federation::instance_state(&mut conn, "b.example")
            .await
            .unwrap()
            .dead
    );
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
