//! A moderator's removal takes back what the removed content earned, exactly as its author's
//! deletion does (reputation, points, the acceptance, likes received), by offsetting ledger
//! rows; its restore gives back exactly that, so that removing and restoring again and again
//! neither mints nor loses anything. Bans that remove a person's content go the same way.

mod common;

use cenacle_core::{
    answers,
    group_bans::{self, BanTerms},
    instance_moderation::{self, BanRequest},
    model::VoteTarget,
    moderation, points, votes, Caller, CoreError, ScopedFutureExt,
};
use cenacle_domain::{
    content::{PostKind, Vote},
    Role,
};
use common::World;

async fn points_of(w: &World, person: i64) -> i64 {
    let mut conn = w.ctx.conn().await.unwrap();
    points::balance(&mut conn, person).await.unwrap()
}

/// (reputation, points) of each person.
async fn books(w: &World, people: &[i64]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for p in people {
        out.push((w.reputation(*p).await, points_of(w, *p).await));
    }
    out
}

async fn audit_is_clean(w: &World) {
    let mut conn = w.ctx.conn().await.unwrap();
    let differences = points::audit(&mut conn).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

async fn like(w: &World, voter: &Caller, target: VoteTarget) -> Result<(), CoreError> {
    w.act(|conn, ctx| {
        async move { votes::vote(conn, ctx, voter, target, Some(Vote::Like), None).await }
            .scope_boxed()
    })
    .await
    .map(|_| ())
}

/// A question by marie, answered by paul, the answer liked by marie and jean and accepted by
/// marie. Returns the moderator (the instance's admin), the people, the answer's id and the
/// books before the answer and after its rewards.
struct Scene {
    admin: cenacle_core::accounts::Session,
    marie: Caller,
    paul: Caller,
    jean: Caller,
    group: cenacle_core::model::Group,
    question: i64,
    answer: i64,
    before: Vec<(i64, i64)>,
    after: Vec<(i64, i64)>,
}

impl Scene {
    fn people(&self) -> [i64; 3] {
        [
            self.marie.person_id,
            self.paul.person_id,
            self.jean.person_id,
        ]
    }
}

async fn scene(w: &World) -> Scene {
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let jean = Caller::from(&w.member("jean", Role::Member).await);
    let people = [marie.person_id, paul.person_id, jean.person_id];
    let question = w.post(&marie, &group, PostKind::Question, "Q ?").await;
    let before = books(w, &people).await;
    let answer = w.answer(&paul, &question, "La réponse").await;
    for voter in [&marie, &jean] {
        like(w, voter, VoteTarget::Comment(answer.id))
            .await
            .unwrap();
    }
    let (marie_ref, qid, aid) = (&marie, question.id, answer.id);
    w.act(|conn, ctx| {
        async move { answers::accept_answer(conn, ctx, marie_ref, qid, Some(aid)).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let after = books(w, &people).await;
    assert_ne!(before, after, "the answer earned something");
    Scene {
        admin,
        marie,
        paul,
        jean,
        group,
        question: question.id,
        answer: answer.id,
        before,
        after,
    }
}

async fn remove(w: &World, s: &Scene) {
    let (admin, answer) = (&s.admin, s.answer);
    w.act(|conn, _| {
        async move {
            moderation::remove_comment(conn, &Caller::from(admin), answer, "hors sujet").await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
}

async fn restore(w: &World, s: &Scene) {
    let (admin, answer) = (&s.admin, s.answer);
    w.act(|conn, _| {
        async move { moderation::restore_comment(conn, &Caller::from(admin), answer).await }
            .scope_boxed()
    })
    .await
    .unwrap();
}

async fn remove_post(w: &World, s: &Scene) {
    let (admin, question) = (&s.admin, s.question);
    w.act(|conn, _| {
        async move { moderation::remove_post(conn, &Caller::from(admin), question, "spam").await }
            .scope_boxed()
    })
    .await
    .unwrap();
}

async fn restore_post(w: &World, s: &Scene) {
    let (admin, question) = (&s.admin, s.question);
    w.act(|conn, _| {
        async move { moderation::restore_post(conn, &Caller::from(admin), question).await }
            .scope_boxed()
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn removing_an_answer_takes_back_what_it_earned_and_restoring_gives_it_back() {
    let w = World::new().await;
    w.journey_pays_nothing().await;
    let s = scene(&w).await;
    let people = s.people();

    remove(&w, &s).await;
    // The answer's author, the acceptor and the likers: as before the answer was written
    // (the likers keep nothing for liking what is gone, as with a deletion).
    assert_eq!(books(&w, &people).await, s.before);
    audit_is_clean(&w).await;
    // Removed content takes no vote while removed.
    assert!(like(&w, &s.marie, VoteTarget::Comment(s.answer))
        .await
        .is_err());

    restore(&w, &s).await;
    assert_eq!(books(&w, &people).await, s.after);
    audit_is_clean(&w).await;

    for _ in 0..5 {
        remove(&w, &s).await;
        assert_eq!(books(&w, &people).await, s.before);
        restore(&w, &s).await;
        assert_eq!(books(&w, &people).await, s.after);
    }
    audit_is_clean(&w).await;

    // Restored, the rewards are live again: the author's deletion takes them back once more.
    let (paul, answer) = (&s.paul, s.answer);
    w.act(|conn, ctx| {
        async move { cenacle_core::comments::delete_comment(conn, ctx, paul, answer).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    assert_eq!(books(&w, &people).await, s.before);
    audit_is_clean(&w).await;
}

#[tokio::test]
async fn an_acceptance_withdrawn_while_removed_is_not_given_back_on_restore() {
    let w = World::new().await;
    w.journey_pays_nothing().await;
    let s = scene(&w).await;
    remove(&w, &s).await;
    let (marie, question) = (&s.marie, s.question);
    w.act(|conn, ctx| {
        async move { answers::accept_answer(conn, ctx, marie, question, None).await }.scope_boxed()
    })
    .await
    .unwrap();
    restore(&w, &s).await;
    // Back: the answer, its likes, but no acceptance any more.
    let paul_now = books(&w, &[s.paul.person_id]).await[0];
    assert!(paul_now.0 < s.after[1].0 && paul_now.0 > s.before[1].0);
    assert!(paul_now.1 < s.after[1].1 && paul_now.1 > s.before[1].1);
    audit_is_clean(&w).await;
}

#[tokio::test]
async fn a_removed_question_takes_no_reply_nor_acceptance_until_restored() {
    let w = World::new().await;
    w.journey_pays_nothing().await;
    let s = scene(&w).await;
    remove_post(&w, &s).await;
    // (Others cannot even read it; its moderators can, and still may not reply.)
    let moderator = Caller::from(&s.admin);
    let (moderator, marie, question, answer) = (&moderator, &s.marie, s.question, s.answer);
    let replied = w
        .act(|conn, ctx| {
            async move {
                cenacle_core::comments::add_comment(
                    conn,
                    ctx,
                    moderator,
                    question,
                    None,
                    "Moi aussi",
                    None,
                )
                .await
            }
            .scope_boxed()
        })
        .await;
    assert!(
        matches!(replied, Err(CoreError::NotAllowed("post_removed"))),
        "{replied:?}"
    );
    // Marie moves her acceptance away and back while it is hidden: the second is refused.
    w.act(|conn, ctx| {
        async move { answers::accept_answer(conn, ctx, marie, question, None).await }.scope_boxed()
    })
    .await
    .unwrap();
    let accepted = w
        .act(|conn, ctx| {
            async move { answers::accept_answer(conn, ctx, marie, question, Some(answer)).await }
                .scope_boxed()
        })
        .await;
    assert!(
        matches!(accepted, Err(CoreError::NotAllowed("post_removed"))),
        "{accepted:?}"
    );
    audit_is_clean(&w).await;
}

#[tokio::test]
async fn a_like_withdrawn_while_removed_is_not_given_back_on_restore() {
    let w = World::new().await;
    w.journey_pays_nothing().await;
    let s = scene(&w).await;
    remove(&w, &s).await;
    // Jean takes his like back while the answer is hidden (a remote Undo{Like} arriving then
    // does the same): refused before, the like stood and the restore paid it again.
    let (jean, answer) = (&s.jean, s.answer);
    w.act(|conn, ctx| {
        async move { votes::vote(conn, ctx, jean, VoteTarget::Comment(answer), None, None).await }
            .scope_boxed()
    })
    .await
    .expect("a vote can be withdrawn from removed content");
    restore(&w, &s).await;
    // Paul has his answer, its acceptance and Marie's like back, not Jean's.
    let paul_now = books(&w, &[s.paul.person_id]).await[0];
    assert!(
        paul_now.0 < s.after[1].0,
        "{paul_now:?} vs {:?}",
        s.after[1]
    );
    assert!(paul_now.0 > s.before[1].0);
    audit_is_clean(&w).await;
}

#[tokio::test]
async fn removing_a_question_takes_back_its_thread_and_restoring_gives_it_back() {
    let w = World::new().await;
    w.journey_pays_nothing().await;
    let s = scene(&w).await;
    let people = s.people();
    for _ in 0..3 {
        remove_post(&w, &s).await;
        let now = books(&w, &people).await;
        // Paul and jean: as before the answer; marie below that (her question's points).
        assert_eq!(now[1], s.before[1]);
        assert_eq!(now[2], s.before[2]);
        assert!(now[0].1 < s.before[0].1);
        audit_is_clean(&w).await;
        restore_post(&w, &s).await;
        assert_eq!(books(&w, &people).await, s.after);
        audit_is_clean(&w).await;
    }
    // A comment removed on its own stays taken back when its thread is restored.
    remove_post(&w, &s).await;
    remove(&w, &s).await;
    restore_post(&w, &s).await;
    assert_eq!(books(&w, &[s.paul.person_id]).await[0], s.before[1]);
    restore(&w, &s).await;
    assert_eq!(books(&w, &people).await, s.after);
    audit_is_clean(&w).await;
}

#[tokio::test]
async fn a_group_ban_removing_content_takes_back_what_it_earned() {
    let w = World::new().await;
    w.journey_pays_nothing().await;
    let s = scene(&w).await;
    let terms = BanTerms {
        reason: "spam".into(),
        expires_at: None,
        remove_data: true,
    };
    let (admin, paul, terms) = (&s.admin, s.paul.person_id, &terms);
    let name = s.group.name.clone();
    let name = &name;
    w.act(|conn, _| {
        async move { group_bans::ban(conn, &Caller::from(admin), name, paul, terms).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    assert_eq!(books(&w, &s.people()).await, s.before);
    audit_is_clean(&w).await;
}

#[tokio::test]
async fn an_instance_ban_removing_content_takes_back_what_it_earned() {
    let w = World::new().await;
    w.journey_pays_nothing().await;
    let s = scene(&w).await;
    let request = BanRequest {
        person: "paul".into(),
        reason: "spam".into(),
        expires_at: None,
        remove_content: true,
    };
    let (admin, request) = (&s.admin, &request);
    w.act(|conn, _| {
        async move { instance_moderation::ban(conn, admin, request).await }.scope_boxed()
    })
    .await
    .unwrap();
    assert_eq!(books(&w, &s.people()).await, s.before);
    audit_is_clean(&w).await;
}
