//! The reporter hears what became of their report: a moderator of the group resolves or
//! dismisses a report about a post or about a comment, and the reporter is notified of that
//! outcome, about the content they reported (a comment in its post's thread). (The remote
//! close of a report, arriving as a federated `Resolve`, is in api_tests'
//! `moderation_federation`.)

mod common;

use cenacle_core::{
    notifications::{self, Notification},
    reports::{self, NewReportInput, ReportTarget},
    Caller, ScopedFutureExt,
};
use cenacle_domain::{content::PostKind, reports::ReportStatus, Role};
use common::World;

/// `reporter` reports `target`; `moderator` closes it as `status`. Returns the report's id.
async fn report_and_close(
    w: &World,
    reporter: &Caller,
    moderator: &Caller,
    target: ReportTarget,
    status: ReportStatus,
) -> i64 {
    let input = NewReportInput {
        target,
        reason: "spam".into(),
        text: "de la pub".into(),
        share_identity: false,
    };
    let input = &input;
    let id = w
        .act(|conn, _| async move { reports::file(conn, reporter, input).await }.scope_boxed())
        .await
        .unwrap()
        .id;
    let closed = w
        .act(|conn, _| {
            async move { reports::close(conn, moderator, id, status, "Vu", None).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(closed.status, status.as_str());
    closed.id
}

/// The notifications of `who` about their reports' outcomes, newest first.
async fn outcomes(w: &World, who: &Caller) -> Vec<Notification> {
    let mut conn = w.ctx.conn().await.unwrap();
    let all = notifications::list(&mut conn, &w.ctx, who, false, None, 100)
        .await
        .unwrap();
    all.into_iter()
        .filter(|n| {
            n.kind == "moderation" && matches!(n.detail.as_deref(), Some("resolved" | "dismissed"))
        })
        .collect()
}

#[tokio::test]
async fn the_reporter_of_a_post_or_a_comment_is_told_its_outcome() {
    let w = World::new().await;
    let owner = w.member("gerante", Role::CommunityManager).await;
    let group = w.group(&owner, "agora").await;
    let owner = Caller::from(&owner);
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let alice = Caller::from(&w.member("alice", Role::Member).await);
    let question = w
        .post(&marie, &group, PostKind::Question, "Quel éditeur ?")
        .await;
    let answer = w.answer(&paul, &question, "Achetez mes cours !").await;

    // A comment's report, dismissed: told about the comment, in its post's thread.
    report_and_close(
        &w,
        &alice,
        &owner,
        ReportTarget::Comment(answer.id),
        ReportStatus::Dismissed,
    )
    .await;
    let told = outcomes(&w, &alice).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].detail.as_deref(), Some("dismissed"));
    assert_eq!(told[0].post_id, Some(question.id));
    assert_eq!(told[0].comment_id, Some(answer.id));
    assert_eq!(told[0].actor.as_deref(), Some("gerante"));

    // A post's report, resolved: told about the post.
    report_and_close(
        &w,
        &alice,
        &owner,
        ReportTarget::Post(question.id),
        ReportStatus::Resolved,
    )
    .await;
    let told = outcomes(&w, &alice).await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(told[0].detail.as_deref(), Some("resolved"));
    assert_eq!(told[0].post_id, Some(question.id));
    assert_eq!(told[0].comment_id, None);

    // Nobody else is told: neither the moderator nor the people reported.
    for other in [&owner, &marie, &paul] {
        assert!(outcomes(&w, other).await.is_empty());
    }
}
