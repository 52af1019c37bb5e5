//! The members' statistics (issue 12's rollups) without a row that every action on one
//! author's content takes: each like, view, post or comment appends its change, a periodic
//! fold adds the changes to the day rows, and readers see both (issue 9: a reader opening a
//! popular author's post waited behind every like of that author's content in flight).

mod common;

use cenacle_core::{
    comments, insights, model::VoteTarget, post_views, votes, Caller, CoreError, ScopedFutureExt,
};
use cenacle_db::insights::{self as store, TopicRows, WeekSums};
use cenacle_domain::{
    content::{PostKind, Vote},
    Role,
};
use chrono::{Duration, Utc};
use common::{World, OTHER};
use diesel_async::RunQueryDsl;
use tokio::sync::oneshot;

/// A like of `target` by `voter`, in a transaction that stays open (its locks held) until
/// `release` fires; `voted` fires once the like is written.
async fn like_held_open(
    w: &World,
    voter: &Caller,
    target: VoteTarget,
    voted: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
) -> Result<(), CoreError> {
    w.act(|conn, ctx| {
        async move {
            votes::vote(conn, ctx, voter, target, Some(Vote::Like), None).await?;
            let _ = voted.send(());
            let _ = release.await;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// A signed-in reader's view of `post_id` (by `author_id`), in a transaction that gives up
/// on any row lock after `lock_timeout`: PostgreSQL then fails the statement (55P03) instead
/// of waiting, so a view that would queue behind another transaction shows as an error.
async fn view_without_waiting(
    w: &World,
    post_id: i64,
    author_id: i64,
    reader_id: i64,
) -> Result<bool, CoreError> {
    w.act(|conn, _| {
        async move {
            diesel::sql_query("SET LOCAL lock_timeout = '2s'")
                .execute(conn)
                .await?;
            let reader = post_views::Reader {
                person_id: Some(reader_id),
                author_id,
                address: "192.0.2.7",
                user_agent: Some("Mozilla/5.0"),
            };
            post_views::count_view(conn, post_id, reader).await
        }
        .scope_boxed()
    })
    .await
}

#[tokio::test]
async fn a_view_of_an_authors_post_does_not_wait_for_a_like_of_their_other_post_in_flight() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let liked = w.post(&marie, &group, PostKind::Question, "Q1 ?").await;
    let read = w.post(&marie, &group, PostKind::Question, "Q2 ?").await;
    let voter = Caller::remote(w.remote_person(OTHER, "v").await.id);

    let (voted_tx, voted_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel();
    let like = like_held_open(&w, &voter, VoteTarget::Post(liked.id), voted_tx, release_rx);
    let view = async {
        voted_rx.await.expect("the like was written");
        let viewed = view_without_waiting(&w, read.id, marie.person_id, paul.person_id).await;
        let _ = release_tx.send(());
        viewed
    };
    let (liked_result, viewed) = tokio::join!(like, view);
    liked_result.unwrap();
    assert!(
        viewed.expect("the view waited on a row the like in flight held"),
        "paul's first view of the day is counted"
    );

    // Both count, once each.
    let (weeks, _) = figures_in(&w, marie.person_id, "").await;
    assert_eq!(sum(&weeks, |s| s.sums.views), 1);
    assert_eq!(sum(&weeks, |s| s.sums.likes as i64), 1);
}

fn sum(weeks: &[WeekSums], field: impl Fn(&WeekSums) -> i64) -> i64 {
    weeks.iter().map(field).sum()
}

/// One fold, which fails rather than waits on a row lock (a fold waiting on another's rows
/// would hang the test that holds them).
async fn fold(w: &World) -> i64 {
    w.act(|conn, _| {
        async move {
            diesel::sql_query("SET LOCAL lock_timeout = '2s'")
                .execute(conn)
                .await?;
            insights::fold_statistics(conn, 1_000).await
        }
        .scope_boxed()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn folding_the_appended_changes_changes_no_figure_and_two_folds_never_count_one_twice() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let question = w.post(&paul, &group, PostKind::Question, "Q ?").await;
    w.post(&marie, &group, PostKind::Idea, "Une idée").await;
    let answer = w.answer(&marie, &question, "Voici").await;
    for i in 0..3 {
        let voter = Caller::remote(w.remote_person(OTHER, &format!("v{i}")).await.id);
        w.act(|conn, ctx| {
            async move {
                let target = VoteTarget::Comment(answer.id);
                votes::vote(conn, ctx, &voter, target, Some(Vote::Like), None).await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    }
    // A reply that is taken back: its +1 and -1 both wait to be folded.
    let gone = w.answer(&marie, &question, "Oups").await;
    w.act(|conn, ctx| {
        let marie = &marie;
        async move { comments::delete_comment(conn, ctx, marie, gone.id).await }.scope_boxed()
    })
    .await
    .unwrap();

    let before = figures_in(&w, marie.person_id, "").await;
    assert_eq!(sum(&before.0, |s| s.sums.ideas), 1);
    assert_eq!(sum(&before.0, |s| s.sums.replies), 1);
    assert_eq!(sum(&before.0, |s| s.sums.likes as i64), 3);
    assert_eq!(sum(&before.0, |s| s.sums.first_replies), 1);
    assert_eq!(before.1, 1, "marie helped paul");
    assert!(w.count("member_stats_pending").await > 0);

    // A fold holds its batch until it commits; a second fold meanwhile takes none of it.
    let (taken_tx, taken_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let first = w.act(|conn, _| {
        async move {
            let n = insights::fold_statistics(conn, 1_000).await?;
            let _ = taken_tx.send(n);
            let _ = release_rx.await;
            Ok(n)
        }
        .scope_boxed()
    });
    let second = async {
        let taken = taken_rx.await.expect("the first fold ran");
        let n = fold(&w).await;
        let _ = release_tx.send(());
        (taken, n)
    };
    let (first, (taken, second)) = tokio::join!(first, second);
    assert_eq!(first.unwrap(), taken);
    assert!(taken > 0);
    assert_eq!(
        second, 0,
        "the changes the first fold holds are not folded twice"
    );
    assert_eq!(w.count("member_stats_pending").await, 0);
    assert!(w.count("member_stats_day").await > 0);

    assert_eq!(figures_in(&w, marie.person_id, "").await, before);
    // Nothing left: a fold with nothing to do takes nothing and changes nothing.
    assert_eq!(fold(&w).await, 0);
    assert_eq!(figures_in(&w, marie.person_id, "").await, before);
}

/// A member's weeks in `tag` ('' for the whole group) over the last week and the next
/// (today's rows, folded or not), and the people they helped.
async fn figures_in(w: &World, person_id: i64, tag: &str) -> (Vec<WeekSums>, i64) {
    let today = Utc::now().date_naive();
    let topic = TopicRows {
        tag: tag.into(),
        group_id: None,
    };
    let mut conn = w.ctx.conn().await.unwrap();
    store::member_weeks(
        &mut conn,
        person_id,
        &topic,
        today - Duration::days(7),
        today + Duration::days(7),
    )
    .await
    .unwrap()
}

/// Changes folded onto day rows an earlier fold wrote: counts add up (a reply taken back
/// after its +1 was folded), the people helped are the union (a second asker), and the
/// thread's tag gets the same as the whole group.
#[tokio::test]
async fn a_fold_adds_to_the_day_rows_an_earlier_fold_wrote() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let anna = Caller::from(&w.member("anna", Role::Member).await);
    let first = w
        .post_tagged(&paul, &group, PostKind::Question, "Q1 ?", &["aide"])
        .await;
    let answer = w.answer(&marie, &first, "Voici").await;
    assert!(fold(&w).await > 0);
    assert_eq!(w.count("member_stats_pending").await, 0);

    let second = w
        .post_tagged(&anna, &group, PostKind::Question, "Q2 ?", &["aide"])
        .await;
    w.answer(&marie, &second, "Voilà").await;
    w.act(|conn, ctx| {
        let marie = &marie;
        async move { comments::delete_comment(conn, ctx, marie, answer.id).await }.scope_boxed()
    })
    .await
    .unwrap();
    let before: Vec<_> = [
        figures_in(&w, marie.person_id, "").await,
        figures_in(&w, marie.person_id, "aide").await,
    ]
    .into();
    for (weeks, helped) in &before {
        assert_eq!(sum(weeks, |s| s.sums.replies), 1, "one answer left");
        assert_eq!(*helped, 2, "paul and anna");
    }
    assert!(fold(&w).await > 0);
    assert_eq!(w.count("member_stats_pending").await, 0);
    let after: Vec<_> = [
        figures_in(&w, marie.person_id, "").await,
        figures_in(&w, marie.person_id, "aide").await,
    ]
    .into();
    assert_eq!(after, before);
}
