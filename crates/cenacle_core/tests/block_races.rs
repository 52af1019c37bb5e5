//! A block of an instance and an activity of its people, in two transactions at once: the
//! activity read its sender's host "not blocked", so it must commit before the block sweeps
//! (follows dropped, deliveries cancelled), or wait for the block and see it. Under READ
//! COMMITTED, without the verdict lock, the block swept first and the follow the activity
//! then committed was kept.

mod common;

use std::time::Duration;

use cenacle_core::{federation, instance_moderation, ScopedFutureExt};
use cenacle_domain::Role;
use common::{World, OTHER};
use tokio::sync::oneshot;

/// Whether a backend of this database waits on an advisory lock (the block waiting for the
/// activity, or the reverse).
async fn someone_waits_on_a_verdict(w: &World) -> bool {
    w.count(
        "pg_stat_activity WHERE datname = current_database() \
           AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
    )
    .await
        > 0
}

/// Polls `condition` until it holds or `deadline` passes; whether it held.
async fn within<F, Fut>(deadline: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_block_waits_for_an_activity_that_read_its_host_and_sweeps_what_it_applied() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let bob = w.remote_person(OTHER, "bob").await;
    let (read_tx, read_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    // The inbox's transaction of bob's Follow: the sender's host read first, then (later) the
    // follow applied.
    let activity = async {
        let (bob, group) = (&bob, &group);
        w.act(|conn, ctx| {
            async move {
                let blocked =
                    instance_moderation::sender_blocked(conn, ctx, "other.example", None).await?;
                assert_eq!(blocked, None, "nothing is blocked yet");
                read_tx.send(()).unwrap();
                go_rx.await.unwrap();
                federation::receive_follow(conn, bob, &group.ap_id, "https://other.example/f/1")
                    .await
                    .map(|_| ())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    // The admin's block, once the activity has read the host.
    let block = async {
        read_rx.await.unwrap();
        let admin = &admin;
        w.act(|conn, ctx| {
            async move {
                instance_moderation::set_blocked(conn, ctx, admin, "other.example", true).await
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    // Lets the activity apply its follow once the block is either done or waiting for it.
    let release = async {
        let waited = within(Duration::from_secs(10), || someone_waits_on_a_verdict(&w)).await;
        go_tx.send(()).unwrap();
        waited
    };
    let ((), effects, waited) = tokio::join!(activity, block, release);

    assert!(
        waited,
        "the block did not wait for the activity that read the host before it"
    );
    assert_eq!(
        effects.follows_dropped, 1,
        "the block's sweep must find the follow the activity applied"
    );
    let mut conn = w.ctx.conn().await.unwrap();
    let followers = federation::count_followers(&mut conn, &group.ap_id)
        .await
        .unwrap();
    assert_eq!(followers, 0, "a blocked instance's person still follows");
}

#[tokio::test]
async fn an_activity_reading_its_host_while_a_block_commits_waits_and_sees_it() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let (blocked_tx, blocked_rx) = oneshot::channel::<()>();
    let (commit_tx, commit_rx) = oneshot::channel::<()>();

    // The admin's block, held open after its write.
    let block = async {
        let admin = &admin;
        w.act(|conn, ctx| {
            async move {
                let effects =
                    instance_moderation::set_blocked(conn, ctx, admin, "other.example", true)
                        .await?;
                blocked_tx.send(()).unwrap();
                commit_rx.await.unwrap();
                Ok(effects)
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    // An activity of other.example read while the block has not committed yet.
    let activity = async {
        blocked_rx.await.unwrap();
        w.act(|conn, ctx| {
            async move {
                instance_moderation::sender_blocked(conn, ctx, "other.example", None).await
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let release = async {
        let waited = within(Duration::from_secs(10), || someone_waits_on_a_verdict(&w)).await;
        commit_tx.send(()).unwrap();
        waited
    };
    let (_, verdict, waited) = tokio::join!(block, activity, release);

    assert!(
        waited,
        "the activity did not wait for the block being written"
    );
    assert_eq!(
        verdict,
        Some(instance_moderation::SenderBlocked::ActorHost(
            "other.example".into()
        )),
        "the activity read its host before the block committed, and let itself in"
    );
}
