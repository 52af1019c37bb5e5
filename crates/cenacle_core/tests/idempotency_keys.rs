//! Idempotency keys are kept for `limits.idempotency_key_retention_hours`, then pruned: an old
//! key goes, a fresh one stays (and still answers its retry).

mod common;

use cenacle_core::{idempotency, points, ScopedFutureExt};
use cenacle_domain::Role;
use common::World;
use diesel_async::RunQueryDsl;

async fn grant(w: &World, key: &str) -> i64 {
    let admin = w.member(&format!("admin_{key}"), Role::Admin).await;
    let admin = &admin;
    let person = admin.account.person_id;
    w.act(|conn, _| {
        async move { points::grant_points(conn, admin, person, 5, "merci", Some(key)).await }
            .scope_boxed()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn keys_older_than_the_retention_are_pruned_and_fresh_ones_kept() {
    let w = World::new().await;
    assert_eq!(w.ctx.settings.limits.idempotency_key_retention_hours, 24);
    grant(&w, "old").await;
    grant(&w, "fresh").await;
    let mut conn = w.ctx.conn().await.unwrap();
    diesel::sql_query(
        "UPDATE idempotent_request SET created_at = now() - interval '25 hours' WHERE key = 'old'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let pruned = w
        .act(|conn, ctx| {
            async move { idempotency::prune_expired(conn, ctx, 100).await }.scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(w.count("idempotent_request").await, 1);
    let mut conn = w.ctx.conn().await.unwrap();
    let left = diesel::sql_query("SELECT 1 FROM idempotent_request WHERE key = 'fresh'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 1, "the fresh key stays");
}

/// Forgets every key, as the upkeep does once they are older than the retention.
async fn expire_keys(w: &World) {
    let mut conn = w.ctx.conn().await.unwrap();
    diesel::sql_query("DELETE FROM idempotent_request")
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_expired_key_reused_for_another_grant_is_refused_and_the_same_grant_pays_once() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let admin = &admin;
    let person = admin.account.person_id;
    let grant_of = |delta: i64| {
        w.act(move |conn, _| {
            async move { points::grant_points(conn, admin, person, delta, "merci", Some("k")).await }
                .scope_boxed()
        })
    };
    let balance = grant_of(5).await.unwrap();
    expire_keys(&w).await;
    // Another amount under the expired key: it would pay nothing, so it is refused.
    let reused = grant_of(500).await;
    assert!(
        matches!(reused, Err(cenacle_core::CoreError::IdempotencyKeyReused)),
        "{reused:?}"
    );
    assert_eq!(w.count("idempotent_request").await, 0, "nothing written");
    // The same grant again: answered, paid once.
    assert_eq!(grant_of(5).await.unwrap(), balance);
}
