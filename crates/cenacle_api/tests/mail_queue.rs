//! The mail queue's leases between workers, against a real PostgreSQL: a worker whose lease
//! ran out cannot hand back a mail another worker claimed since.

mod common;

use cenacle_core::{mail, ScopedFutureExt};
use chrono::{DateTime, Utc};
use common::{TestApp, PASSWORD};
use diesel::{
    sql_types::{BigInt, Int4, Nullable, Text, Timestamptz},
    QueryableByName,
};
use diesel_async::RunQueryDsl;
use serde_json::json;
use std::time::{Duration, Instant};

/// One claim as a worker makes it: in a transaction of its own.
async fn claim(t: &TestApp, lease_seconds: f64) -> Vec<mail::ClaimedMail> {
    t.ctx
        .transaction(|conn| mail::claim_mails(conn, 8, lease_seconds, &[]).scope_boxed())
        .await
        .unwrap()
}

/// A hand-back as a worker makes it (no SMTP session): in a transaction of its own.
async fn release(t: &TestApp, mails: &[mail::ClaimedMail], error: &str) {
    t.ctx
        .transaction(|conn| mail::release_mails(conn, mails, Some(error)).scope_boxed())
        .await
        .unwrap()
}

/// What the queue holds of a mail's claim.
#[derive(Debug, PartialEq, QueryableByName)]
struct Held {
    #[diesel(sql_type = Int4)]
    attempts: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    locked_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
    /// Whether the lease, if any, has run out by the database's clock (which set it).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    lease_over: bool,
}

async fn held(t: &TestApp, id: i64) -> Held {
    let mut conn = t.db.pool.get().await.unwrap();
    diesel::sql_query(
        "SELECT attempts, locked_until, last_error, \
           COALESCE(locked_until < now(), FALSE) AS lease_over \
         FROM mail_queue WHERE id = $1",
    )
    .bind::<BigInt, _>(id)
    .get_result(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_worker_whose_lease_ran_out_cannot_hand_back_another_workers_claim() {
    let t = TestApp::with(|s| {
        s.email.enabled = true;
        s.email.from = "noreply@example.org".into();
    })
    .await;
    // Signing up with an address queues its verification mail.
    let r = t
        .post(
            "/api/v1/account/register",
            None,
            json!({"username": "ana", "password": PASSWORD, "email": "ana@example.org"}),
        )
        .await;
    assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.json);
    assert_eq!(t.count("SELECT count(*) AS n FROM mail_queue").await, 1);

    // Worker A claims it under a lease that runs out at once (A stalled: a long send, a
    // pause of its process).
    let a = claim(&t, 0.05).await;
    assert_eq!(a.len(), 1);
    let id = a[0].id;
    assert_eq!(a[0].attempts, 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !held(&t, id).await.lease_over {
        assert!(Instant::now() < deadline, "A's lease never ran out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The row still holds A's lease end, run out: due to anyone.
    assert_eq!(held(&t, id).await.locked_until, Some(a[0].locked_until));

    // Worker B claims it: a second attempt, under a lease of its own.
    let b = claim(&t, 600.0).await;
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].id, b[0].attempts), (id, 2));
    assert_ne!(b[0].locked_until, a[0].locked_until);
    let b_claim = Held {
        attempts: 2,
        locked_until: Some(b[0].locked_until),
        last_error: None,
        lease_over: false,
    };
    assert_eq!(held(&t, id).await, b_claim);

    // A, back, finds no SMTP session and hands back what it claimed: B's claim is not A's
    // to take back. Its attempt stays counted, its lock held, no error written over it.
    release(&t, &a, "not sent, no working SMTP session: A").await;
    assert_eq!(held(&t, id).await, b_claim, "A released B's claim");
    assert!(claim(&t, 600.0).await.is_empty(), "B's claim holds");

    // B's own hand-back works: its attempt not counted, the mail unlocked and due again.
    release(&t, &b, "not sent, no working SMTP session: B").await;
    assert_eq!(
        held(&t, id).await,
        Held {
            attempts: 1,
            locked_until: None,
            last_error: Some("not sent, no working SMTP session: B".into()),
            lease_over: false,
        }
    );
    let again = claim(&t, 600.0).await;
    assert_eq!((again.len(), again[0].attempts), (1, 2));
}
