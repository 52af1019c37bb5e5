//! The reporter hears what became of their report: a moderator resolves or dismisses a
//! report about a post, a comment or a person, and the reporter is notified of that outcome,
//! about the content they reported (a comment in its post's thread) or naming the person they
//! reported — closed here, or (for a person elsewhere) by their server. (The remote close of
//! a report about content, arriving as a federated `Resolve`, is in api_tests'
//! `moderation_federation`.)

mod common;

use cenacle_config::Settings;
use cenacle_core::{
    accounts,
    notifications::{self, Notification},
    reports::{self, NewReportInput, RemoteOutcome, ReportTarget, ResolvedFlag},
    Caller, Context, ScopedFutureExt,
};
use cenacle_domain::{account::ProfileChange, content::PostKind, reports::ReportStatus, Role};
use common::{World, OTHER};

/// `reporter` reports `target`: the report's id.
async fn report(w: &World, reporter: &Caller, target: ReportTarget) -> i64 {
    let input = NewReportInput {
        target,
        reason: "spam".into(),
        text: "de la pub".into(),
        share_identity: false,
    };
    let input = &input;
    w.act(|conn, _| async move { reports::file(conn, reporter, input).await }.scope_boxed())
        .await
        .unwrap()
        .id
}

/// `reporter` reports `target`; `moderator` closes it as `status`. Returns the report's id.
async fn report_and_close(
    w: &World,
    reporter: &Caller,
    moderator: &Caller,
    target: ReportTarget,
    status: ReportStatus,
) -> i64 {
    let id = report(w, reporter, target).await;
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
    outcomes_as(w, &w.ctx, who).await
}

/// [`outcomes`], read under `ctx`'s settings.
async fn outcomes_as(w: &World, ctx: &Context, who: &Caller) -> Vec<Notification> {
    let mut conn = w.ctx.conn().await.unwrap();
    let all = notifications::list(&mut conn, ctx, who, false, None, 100)
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

#[tokio::test]
async fn the_reporter_of_a_person_is_told_its_outcome() {
    let w = World::new().await;
    let owner = w.member("gerante", Role::CommunityManager).await;
    let group = w.group(&owner, "agora").await;
    let owner = Caller::from(&owner);
    let paul = Caller::from(&w.member("paul", Role::Member).await);
    let alice = Caller::from(&w.member("alice", Role::Member).await);

    // A report of paul alone (the instance's queue), dismissed.
    let alone = ReportTarget::Person {
        person_id: paul.person_id,
        group_id: None,
    };
    report_and_close(&w, &alice, &owner, alone, ReportStatus::Dismissed).await;
    let told = outcomes(&w, &alice).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].detail.as_deref(), Some("dismissed"));
    assert_eq!(told[0].actor.as_deref(), Some("gerante"));
    assert_eq!(told[0].person.as_deref(), Some("paul"));

    // A report of paul in the group (its moderators' queue), resolved: about him too, not
    // about the group.
    let in_group = ReportTarget::Person {
        person_id: paul.person_id,
        group_id: Some(group.id),
    };
    report_and_close(&w, &alice, &owner, in_group, ReportStatus::Resolved).await;
    let told = outcomes(&w, &alice).await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(told[0].detail.as_deref(), Some("resolved"));
    assert_eq!(told[0].person.as_deref(), Some("paul"));
    assert_eq!(
        (
            told[0].post_id,
            told[0].comment_id,
            told[0].group_name.as_deref()
        ),
        (None, None, None)
    );

    // Nobody else is told: neither the moderator nor the person reported.
    for other in [&owner, &paul] {
        assert!(outcomes(&w, other).await.is_empty());
    }
}

/// The notice names the person reported, by handle and display name (the web page links the
/// one and shows the other) — a person elsewhere as `name@host` — and, where moderators'
/// names are hidden, still names them: only the moderator goes unnamed.
#[tokio::test]
async fn a_person_reports_outcome_names_the_person() {
    let w = World::new().await;
    let owner = Caller::from(&w.member("gerante", Role::CommunityManager).await);
    let paul = w.member("paul", Role::Member).await;
    let alice = Caller::from(&w.member("alice", Role::Member).await);
    let change = ProfileChange {
        display_name: Some("Paul Vendeur".into()),
        ..ProfileChange::default()
    };
    let paul = &paul;
    w.act(|conn, _| {
        async move { accounts::update_profile(conn, paul, change).await }.scope_boxed()
    })
    .await
    .unwrap();
    let target = ReportTarget::Person {
        person_id: paul.account.person_id,
        group_id: None,
    };
    report_and_close(&w, &alice, &owner, target, ReportStatus::Resolved).await;
    let told = outcomes(&w, &alice).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].person.as_deref(), Some("paul"));
    assert_eq!(told[0].person_display_name.as_deref(), Some("Paul Vendeur"));

    let mut hidden = Settings::defaults();
    hidden.moderation.show_moderator_names = false;
    let hidden = Context::new(w.db.pool.clone(), hidden);
    let told = outcomes_as(&w, &hidden, &alice).await;
    assert_eq!(told[0].actor, None, "{told:?}");
    assert_eq!(told[0].person.as_deref(), Some("paul"));

    // A person elsewhere, whose own server closes the report (their admin, trusted by
    // domain): named `name@host`.
    let spammer = w.remote_person(OTHER, "spammer").await;
    let their_admin = w.remote_person(OTHER, "admin").await;
    let target = ReportTarget::Person {
        person_id: spammer.id,
        group_id: None,
    };
    let id = report(&w, &alice, target).await;
    let flag_id = "http://localhost:8700/flags/1";
    let objects = [spammer.ap_id.clone().unwrap()];
    let (their_admin, objects) = (&their_admin, &objects);
    w.act(|conn, _| {
        async move {
            reports::set_flag_id(conn, id, flag_id).await?;
            let flag = ResolvedFlag {
                flag_id,
                actor: None,
                objects,
                receiver: None,
            };
            let outcome = RemoteOutcome {
                dismissed: true,
                note: Some("Rien à redire"),
            };
            reports::receive_resolution(conn, their_admin, &flag, "unused", outcome, None).await
        }
        .scope_boxed()
    })
    .await
    .unwrap()
    .unwrap();
    let told = outcomes(&w, &alice).await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(told[0].detail.as_deref(), Some("dismissed"));
    assert_eq!(told[0].actor.as_deref(), Some("admin@other.example"));
    assert_eq!(told[0].person.as_deref(), Some("spammer@other.example"));
}
