//! Votes from a blocked instance count for nothing, those cast before the block included:
//! blocking takes back what they earned anyone here, reputation, points and likes received
//! alike, and the books still balance.

mod common;

use cenacle_core::{
    instance_moderation, model::VoteTarget, points, votes, Caller, ScopedFutureExt,
};
use cenacle_domain::{
    content::{PostKind, Vote},
    Role,
};
use common::{World, OTHER};

async fn points_of(w: &World, person: i64) -> i64 {
    let mut conn = w.ctx.conn().await.unwrap();
    points::points_history(&mut conn, person, i64::MAX, 1)
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn blocking_an_instance_takes_back_what_its_votes_earned() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let question = w.post(&marie, &group, PostKind::Question, "Q ?").await;
    let answer = w.answer(&marie, &question, "R").await;
    let (rep0, pts0) = (
        w.reputation(marie.person_id).await,
        points_of(&w, marie.person_id).await,
    );
    let bob = Caller::remote(w.remote_person(OTHER, "bob").await.id);
    let bob = &bob;
    for target in [
        VoteTarget::Post(question.id),
        VoteTarget::Comment(answer.id),
    ] {
        w.act(|conn, ctx| {
            async move { votes::vote(conn, ctx, bob, target, Some(Vote::Like), None).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    }
    assert_eq!(w.reputation(marie.person_id).await, rep0 + 5 + 10);
    assert_eq!(points_of(&w, marie.person_id).await, pts0 + 2 + 2);

    let admin = &admin;
    w.act(|conn, ctx| {
        async move {
            instance_moderation::set_blocked(conn, ctx, admin, "other.example", true)
                .await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    assert_eq!(w.reputation(marie.person_id).await, rep0);
    assert_eq!(points_of(&w, marie.person_id).await, pts0);
    let mut conn = w.ctx.conn().await.unwrap();
    // The audit also holds likes received (the rank's and badges' count) to the live likes.
    let differences = points::audit(&mut conn).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}
