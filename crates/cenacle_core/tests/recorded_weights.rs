//! A vote counts the weight it was cast with, everywhere: a like from an instance weighted
//! strictly between 0 and 1 is that fraction of a like for the rank score and the
//! `hundred_likes` badge, and a bounty's best-answer score counts the weight recorded on each
//! vote, not what an admin set the instance's weight to since.

mod common;

use cenacle_core::{admin, model::VoteTarget, points, votes, Caller, ScopedFutureExt};
use cenacle_db::{badges, bounties, engagement};
use cenacle_domain::{
    content::{PostKind, Vote},
    Role,
};
use chrono::{Duration, Utc};
use common::{World, OTHER};

async fn set_weight(w: &World, admin: &cenacle_core::accounts::Session, weight: f64) {
    w.act(|conn, _| {
        async move { admin::set_instance_weight(conn, admin, "other.example", weight).await }
            .scope_boxed()
    })
    .await
    .unwrap();
}

async fn vote(w: &World, voter: &Caller, target: VoteTarget, choice: Option<Vote>) {
    w.act(|conn, ctx| {
        async move { votes::vote(conn, ctx, voter, target, choice, None).await }.scope_boxed()
    })
    .await
    .unwrap();
}

async fn likes_received(w: &World, person: i64) -> i64 {
    let mut conn = w.ctx.conn().await.unwrap();
    engagement::contributions(&mut conn, person)
        .await
        .unwrap()
        .likes_received
}

async fn assert_books_balance(w: &World) {
    let mut conn = w.ctx.conn().await.unwrap();
    let differences = points::audit(&mut conn).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

#[tokio::test]
async fn likes_from_a_half_weighted_instance_count_as_half_likes() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let question = w.post(&marie, &group, PostKind::Question, "Q ?").await;
    set_weight(&w, &admin, 0.5).await;
    let mut voters = Vec::new();
    for i in 0..100 {
        voters.push(Caller::remote(
            w.remote_person(OTHER, &format!("v{i}")).await.id,
        ));
    }
    let target = VoteTarget::Post(question.id);
    for voter in &voters[..3] {
        vote(&w, voter, target, Some(Vote::Like)).await;
    }
    assert_eq!(likes_received(&w, marie.person_id).await, 1, "1.5 likes");
    vote(&w, &voters[0], target, None).await;
    vote(&w, &voters[1], target, None).await;
    assert_eq!(likes_received(&w, marie.person_id).await, 0, "0.5 likes");
    assert_books_balance(&w).await;
    // A hundred likes at half weight are fifty: no `hundred_likes` badge.
    for voter in &voters {
        vote(&w, voter, target, Some(Vote::Like)).await;
    }
    assert_eq!(likes_received(&w, marie.person_id).await, 50);
    let mut conn = w.ctx.conn().await.unwrap();
    let held = badges::ever_awarded(&mut conn, marie.person_id)
        .await
        .unwrap();
    assert!(!held.iter().any(|b| b == "hundred_likes"), "{held:?}");
    drop(conn);
    // The admin raising the weight afterwards changes nothing already counted.
    set_weight(&w, &admin, 1.0).await;
    assert_eq!(likes_received(&w, marie.person_id).await, 50);
    assert_books_balance(&w).await;
}

#[tokio::test]
async fn a_bounty_score_counts_the_weight_each_vote_was_cast_with() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let ann = Caller::from(&w.member("ann", Role::Member).await);
    let question = w.post(&marie, &group, PostKind::Question, "Q ?").await;
    let answer = w.answer(&ann, &question, "R").await;
    set_weight(&w, &admin, 0.5).await;
    let bob = Caller::remote(w.remote_person(OTHER, "bob").await.id);
    vote(&w, &bob, VoteTarget::Comment(answer.id), Some(Vote::Like)).await;
    // Raised after the vote: the vote still weighs the half it was cast with.
    set_weight(&w, &admin, 1.0).await;
    let mut conn = w.ctx.conn().await.unwrap();
    let (since, until) = (
        Utc::now() - Duration::hours(1),
        Utc::now() + Duration::hours(1),
    );
    let best = bounties::best_qualifying_answer(
        &mut conn,
        question.id,
        since,
        until,
        marie.person_id,
        0.0,
    )
    .await
    .unwrap()
    .expect("the answer qualifies at score 0");
    assert_eq!(best.score, 0.5);
    let qualifying = bounties::best_qualifying_answer(
        &mut conn,
        question.id,
        since,
        until,
        marie.person_id,
        1.0,
    )
    .await
    .unwrap();
    assert!(qualifying.is_none(), "{qualifying:?}");
}

/// The backfill of 2026-11-30-001101: a like written before 2026-11-30-000702 counted a whole
/// like (that migration gave them all 1000 thousandths) while its vote was given its
/// instance's weight; it is set to its vote's recorded weight, its author's likes received
/// follow, and the reputation rollups (which sum deltas, unchanged) are left as they were.
#[tokio::test]
async fn likes_from_before_recorded_weights_take_their_votes_weight() {
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let question = w.post(&marie, &group, PostKind::Question, "Q ?").await;
    set_weight(&w, &admin, 0.5).await;
    let voter = Caller::remote(w.remote_person(OTHER, "v").await.id);
    vote(&w, &voter, VoteTarget::Post(question.id), Some(Vote::Like)).await;
    let rollups = || async {
        let mut conn = w.ctx.conn().await.unwrap();
        #[derive(diesel::QueryableByName)]
        struct Sum {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(
            "SELECT (SELECT count(*) FROM reputation_day) * 1000000 \
                    + COALESCE((SELECT SUM(points) FROM reputation_day), 0)::bigint AS n",
        )
        .get_result::<Sum>(&mut conn)
        .await
        .unwrap()
        .n
    };
    let before = rollups().await;
    // As 000702 left it: a whole like, written before that migration ran (said to run later).
    let mut conn = w.ctx.conn().await.unwrap();
    conn.batch_execute(&format!(
        "UPDATE reputation_event SET likes_milli = 1000 \
           WHERE source_key = 'like:post:{q}:by:{v}'; \
         UPDATE reputation SET likes_received_milli = likes_received_milli + 500 \
           WHERE person_id = {m}; \
         UPDATE __diesel_schema_migrations SET run_on = now() + interval '1 day' \
           WHERE version = '20261130000702';",
        q = question.id,
        v = voter.person_id,
        m = marie.person_id,
    ))
    .await
    .unwrap();
    assert_eq!(likes_received(&w, marie.person_id).await, 1, "a whole like");
    conn.batch_execute(&format!(
        "BEGIN; {} COMMIT;",
        include_str!("../../../migrations/2026-11-30-001101_like_weights_backfill/up.sql")
    ))
    .await
    .unwrap();
    drop(conn);
    assert_eq!(likes_received(&w, marie.person_id).await, 0, "half a like");
    assert_books_balance(&w).await;
    assert_eq!(rollups().await, before, "rollups untouched");
}

/// The likes and dislikes shown beside a post (what feeds sort by) count only votes that
/// count: a like from an instance weighted 0 moves nothing, one's own vote neither, and the
/// votes of an instance blocked later leave the counts with what they earned.
#[tokio::test]
async fn displayed_counts_leave_out_votes_that_count_for_nothing() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let question = w.post(&marie, &group, PostKind::Question, "Q ?").await;
    let target = VoteTarget::Post(question.id);
    let counts = || async {
        let p = w.post_now(question.id).await;
        (p.likes, p.dislikes)
    };

    set_weight(&w, &admin, 0.0).await;
    let zero = Caller::remote(w.remote_person(OTHER, "zero").await.id);
    vote(&w, &zero, target, Some(Vote::Like)).await;
    vote(&w, &marie, target, Some(Vote::Like)).await;
    assert_eq!(counts().await, (0, 0), "weight 0 and one's own like");
    vote(&w, &paul, target, Some(Vote::Like)).await;
    assert_eq!(counts().await, (1, 0));
    // Switched and withdrawn, a vote that never counted takes nothing away.
    vote(&w, &zero, target, Some(Vote::Dislike)).await;
    vote(&w, &zero, target, None).await;
    assert_eq!(counts().await, (1, 0));

    // Counted, then its instance blocked: it counts no more.
    set_weight(&w, &admin, 1.0).await;
    vote(&w, &zero, target, Some(Vote::Like)).await;
    assert_eq!(counts().await, (2, 0));
    let admin_ref = &admin;
    w.act(|conn, ctx| {
        async move {
            cenacle_core::instance_moderation::set_blocked(
                conn,
                ctx,
                admin_ref,
                "other.example",
                true,
            )
            .await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    assert_eq!(counts().await, (1, 0));
    assert_books_balance(&w).await;
}
