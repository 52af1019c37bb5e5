//! A take-down racing an acceptance or a vote, interleaved deterministically: a test
//! connection holds the post's row lock until the use cases under test are seen waiting on a
//! lock (`pg_stat_activity`), then lets them go. An acceptance never outlives its deleted
//! answer, and deleting an accepted answer never deadlocks with a vote on it.

mod common;

use cenacle_core::{
    answers, comments, model::VoteTarget, votes, Caller, CoreError, ScopedFutureExt,
};
use cenacle_domain::{
    content::{PostKind, Vote},
    Role,
};
use common::{World, OTHER};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};
use tokio::sync::Notify;

/// Sessions of this database waiting on a lock now.
async fn lock_waiters(w: &World) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = w.ctx.conn().await.unwrap();
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result::<Count>(&mut conn)
    .await
    .unwrap()
    .n
}

/// Waits (with a generous correctness deadline) until `n` sessions wait on a lock or `done`.
async fn until_waiting(w: &World, n: i64, done: &AtomicBool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while lock_waiters(w).await < n && !done.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "nobody waited on a lock");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_answer_deleted_while_being_accepted_is_not_accepted() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let question = w.post(&marie, &group, PostKind::Question, "Q ?").await;
    let answer = w.answer(&paul, &question, "A.").await;
    // The post held: the acceptance waits on it.
    let mut holder = w.ctx.conn().await.unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM post WHERE id = {} FOR NO KEY UPDATE",
            question.id
        ))
        .await
        .unwrap();
    let (accepted, deleted, go) = (
        AtomicBool::new(false),
        AtomicBool::new(false),
        Notify::new(),
    );
    let accept = async {
        let r = w
            .act(|conn, ctx| {
                async move {
                    answers::accept_answer(conn, ctx, &marie, question.id, Some(answer.id)).await
                }
                .scope_boxed()
            })
            .await;
        accepted.store(true, Ordering::SeqCst);
        r
    };
    let delete = async {
        go.notified().await;
        let r = w
            .act(|conn, ctx| {
                async move { comments::delete_comment(conn, ctx, &paul, answer.id).await }
                    .scope_boxed()
            })
            .await;
        deleted.store(true, Ordering::SeqCst);
        r
    };
    let conduct = async {
        until_waiting(&w, 1, &accepted).await;
        go.notify_one();
        // The deletion either waits too, or went through while the acceptance waited.
        until_waiting(&w, 2, &deleted).await;
        holder.batch_execute("COMMIT").await.unwrap();
    };
    let (accept, delete, ()) = tokio::join!(accept, delete, conduct);
    delete.unwrap();
    match accept {
        Ok(_) | Err(CoreError::NotFound(_)) => {}
        Err(e) => panic!("{e:?}"),
    }
    assert!(w.comment_now(answer.id).await.deleted_at.is_some());
    assert_eq!(w.post_now(question.id).await.accepted_comment_id, None);
    assert_eq!(w.reputation(paul.person_id).await, 1, "nothing kept");
}

#[tokio::test]
async fn deleting_an_accepted_answer_while_it_is_voted_on_does_not_deadlock() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let voter = Caller::remote(w.remote_person(OTHER, "v").await.id);
    let question = w.post(&marie, &group, PostKind::Question, "Q ?").await;
    let answer = w.answer(&paul, &question, "A.").await;
    w.act(|conn, ctx| {
        async move { answers::accept_answer(conn, ctx, &marie, question.id, Some(answer.id)).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    // Held so that votes still share-lock the post but a take-down waits on it.
    let mut holder = w.ctx.conn().await.unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM post WHERE id = {} FOR NO KEY UPDATE",
            question.id
        ))
        .await
        .unwrap();
    let (deleted, voted, go) = (
        AtomicBool::new(false),
        AtomicBool::new(false),
        Notify::new(),
    );
    let delete = async {
        let r = w
            .act(|conn, ctx| {
                async move { comments::delete_comment(conn, ctx, &paul, answer.id).await }
                    .scope_boxed()
            })
            .await;
        deleted.store(true, Ordering::SeqCst);
        r
    };
    let vote = async {
        go.notified().await;
        let target = VoteTarget::Comment(answer.id);
        let r = w
            .act(|conn, ctx| {
                async move { votes::vote(conn, ctx, &voter, target, Some(Vote::Like), None).await }
                    .scope_boxed()
            })
            .await;
        voted.store(true, Ordering::SeqCst);
        r
    };
    let conduct = async {
        until_waiting(&w, 1, &deleted).await;
        go.notify_one();
        until_waiting(&w, 2, &voted).await;
        holder.batch_execute("COMMIT").await.unwrap();
    };
    let (delete, vote, ()) = tokio::join!(delete, vote, conduct);
    delete.unwrap();
    match vote {
        Ok(_) | Err(CoreError::NotFound(_)) => {}
        Err(e) => panic!("{e:?}"),
    }
    assert_eq!(w.post_now(question.id).await.accepted_comment_id, None);
    assert_eq!(w.reputation(paul.person_id).await, 1, "nothing kept");
}
