//! Use cases tested below the HTTP layer: an action gives the same result whichever door it
//! came in by (our API, or an activity from another server), refusals change nothing, the
//! origin rules hold, and one action is one transaction.

mod common;

use cenacle_core::{
    answers, comments,
    inbound::{self, GroupState, Outcome},
    moderation, votes, Caller, CoreError, ScopedFutureExt,
};
use cenacle_domain::{
    content::{GroupRole, IdeaStatus, PostKind, Vote},
    origin::Forgery,
    Role,
};
use common::{page, reply, World, OTHER, THIRD};

#[tokio::test]
async fn a_like_from_another_server_earns_what_a_like_here_earns() {
    let w = World::new().await;
    let owner = w.member("olga", Role::CommunityManager).await;
    let asker = Caller::from(&w.member("marie", Role::Member).await);
    let answerer = Caller::from(&w.member("paul", Role::Member).await);
    let voter = Caller::from(&w.member("vera", Role::Member).await);
    let remote = w.remote_person(OTHER, "rita").await;
    let group = w.group(&owner, "entraide").await;
    let question = w
        .post(&asker, &group, PostKind::Question, "Comment ?")
        .await;
    let answer = w.answer(&answerer, &question, "Ainsi.").await;
    let before = w.reputation(answerer.person_id).await;

    let target = cenacle_core::model::VoteTarget::Comment(answer.id);
    w.act(|conn, ctx| {
        async move { votes::vote(conn, ctx, &voter, target, Some(Vote::Like), None).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let after_local = w.reputation(answerer.person_id).await;

    let outcome = w
        .act(|conn, ctx| {
            let (remote, answer) = (&remote, &answer);
            async move {
                inbound::vote(
                    conn,
                    ctx,
                    remote,
                    &answer.ap_id,
                    Some(Vote::Like),
                    "https://other.example/likes/1",
                )
                .await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert!(
        matches!(outcome, Outcome::AppliedInOurGroup { .. }),
        "a vote in a group of ours is relayed"
    );
    let after_remote = w.reputation(answerer.person_id).await;
    assert_eq!(after_local - before, 10, "an answer liked here earns +10");
    assert_eq!(
        after_remote - after_local,
        after_local - before,
        "a like from another server earns the same"
    );
    assert_eq!(w.comment_now(answer.id).await.likes, 2);
}

#[tokio::test]
async fn an_accepted_answer_deleted_from_another_server_stops_being_accepted_and_loses_what_it_earned(
) {
    let w = World::new().await;
    let owner = w.member("olga", Role::CommunityManager).await;
    let asker = Caller::from(&w.member("marie", Role::Member).await);
    let remote = w.remote_person(OTHER, "rita").await;
    let group = w.group(&owner, "entraide").await;
    let question = w
        .post(&asker, &group, PostKind::Question, "Comment ?")
        .await;
    let note = reply(
        &remote,
        "https://other.example/c/1",
        &question.ap_id,
        &group.ap_id,
        "Ainsi.",
    );
    w.act(|conn, ctx| {
        let (remote, note) = (&remote, &note);
        async move { inbound::create(conn, ctx, remote, note).await }.scope_boxed()
    })
    .await
    .unwrap();
    let detail = {
        let mut conn = w.ctx.conn().await.unwrap();
        cenacle_core::posts::get_post(&mut conn, Some(&asker), question.id)
            .await
            .unwrap()
    };
    let answer_id = detail.comments[0].id;
    let before = w.reputation(remote.id).await;
    w.act(|conn, ctx| {
        let asker = &asker;
        async move { answers::accept_answer(conn, ctx, asker, question.id, Some(answer_id)).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    assert_eq!(w.reputation(remote.id).await - before, 15);

    w.act(|conn, ctx| {
        let remote = &remote;
        async move { inbound::delete(conn, ctx, remote, "https://other.example/c/1").await }
            .scope_boxed()
    })
    .await
    .unwrap();
    assert_eq!(w.post_now(question.id).await.accepted_comment_id, None);
    assert!(w.comment_now(answer_id).await.deleted_at.is_some());
    assert_eq!(
        w.reputation(remote.id).await,
        before,
        "what the acceptance earned is reversed"
    );
}

#[tokio::test]
async fn a_comment_too_long_is_refused_whichever_door() {
    let w = World::new().await;
    let owner = w.member("olga", Role::CommunityManager).await;
    let asker = Caller::from(&w.member("marie", Role::Member).await);
    let remote = w.remote_person(OTHER, "rita").await;
    let group = w.group(&owner, "entraide").await;
    let question = w
        .post(&asker, &group, PostKind::Question, "Comment ?")
        .await;
    let long = "a".repeat(cenacle_domain::content::BODY_MAX + 1);
    let here = w
        .act(|conn, ctx| {
            let (asker, long) = (&asker, &long);
            async move { comments::add_comment(conn, ctx, asker, question.id, None, long, None).await }
                .scope_boxed()
        })
        .await;
    assert!(matches!(here, Err(CoreError::Validation(_))), "{here:?}");
    let note = reply(
        &remote,
        "https://other.example/c/1",
        &question.ap_id,
        &group.ap_id,
        &long,
    );
    let there = w
        .act(|conn, ctx| {
            let (remote, note) = (&remote, &note);
            async move { inbound::create(conn, ctx, remote, note).await }.scope_boxed()
        })
        .await;
    assert!(matches!(there, Err(CoreError::Validation(_))), "{there:?}");
    assert_eq!(w.count("comment").await, 0);
}

#[tokio::test]
async fn a_remote_moderator_may_remove_but_not_yet_rewrite_what_others_wrote() {
    let w = World::new().await;
    let owner = w.member("olga", Role::CommunityManager).await;
    let author = Caller::from(&w.member("marie", Role::Member).await);
    let moderator = w.remote_person(OTHER, "mod").await;
    let stranger = w.remote_person(THIRD, "eve").await;
    let group = w.group(&owner, "idees").await;
    w.act(|conn, _| {
        let (owner, moderator) = (Caller::from(&owner), moderator.id);
        async move {
            moderation::set_member_role(conn, &owner, "idees", moderator, GroupRole::Moderator)
                .await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    let idea = w.post(&author, &group, PostKind::Idea, "Mode sombre").await;
    let comment = w.answer(&author, &idea, "Vite !").await;

    // Rewriting someone else's post: a moderator's edit is not federated yet (ignored), a
    // stranger's is forged. Nothing changes either way.
    let mut edited = page(
        &moderator,
        &idea.ap_id,
        &group.ap_id,
        PostKind::Idea,
        "Piraté",
    );
    edited.state = Some(GroupState {
        idea_status: Some(IdeaStatus::Planned),
        accepted_answer: None,
    });
    for (who, expected) in [(&moderator, "ignored"), (&stranger, "forged")] {
        let result = w
            .act(|conn, ctx| {
                let edited = &edited;
                async move { inbound::update(conn, ctx, who, edited).await }.scope_boxed()
            })
            .await;
        match (expected, result) {
            ("ignored", Ok(Outcome::Ignored("remote_moderation"))) => {}
            ("forged", Err(CoreError::Forged(Forgery::NotTheOrigin))) => {}
            (_, other) => panic!("{expected}: {other:?}"),
        }
    }
    let now = w.post_now(idea.id).await;
    assert_eq!(now.title, "Mode sombre");
    assert_eq!(now.idea_status.as_deref(), Some("submitted"));
    assert_eq!(now.updated_at, idea.updated_at);

    // Removing: a stranger is refused as forged, the group's moderator may.
    let stranger_delete = w
        .act(|conn, ctx| {
            let (stranger, comment) = (&stranger, &comment);
            async move { inbound::delete(conn, ctx, stranger, &comment.ap_id).await }.scope_boxed()
        })
        .await;
    assert!(
        matches!(
            stranger_delete,
            Err(CoreError::Forged(Forgery::NotTheOrigin))
        ),
        "{stranger_delete:?}"
    );
    assert!(w.comment_now(comment.id).await.deleted_at.is_none());
    w.act(|conn, ctx| {
        let (moderator, comment) = (&moderator, &comment);
        async move { inbound::delete(conn, ctx, moderator, &comment.ap_id).await }.scope_boxed()
    })
    .await
    .unwrap();
    assert!(w.comment_now(comment.id).await.deleted_at.is_some());
}

#[tokio::test]
async fn an_update_that_carries_a_change_its_author_may_not_make_changes_nothing() {
    let w = World::new().await;
    let owner = w.member("olga", Role::CommunityManager).await;
    let remote = w.remote_person(OTHER, "rita").await;
    let group = w.group(&owner, "idees").await;
    let created = page(
        &remote,
        "https://other.example/p/1",
        &group.ap_id,
        PostKind::Idea,
        "Mode sombre",
    );
    w.act(|conn, ctx| {
        let (remote, created) = (&remote, &created);
        async move { inbound::create(conn, ctx, remote, created).await }.scope_boxed()
    })
    .await
    .unwrap();
    let before = {
        let mut conn = w.ctx.conn().await.unwrap();
        cenacle_core::published::post_by_id(&mut conn, 1)
            .await
            .unwrap()
            .unwrap()
    };
    // The author edits the title and also moves the idea along, which only moderators do.
    let mut edited = page(
        &remote,
        "https://other.example/p/1",
        &group.ap_id,
        PostKind::Idea,
        "Mode sombre, vite",
    );
    edited.state = Some(GroupState {
        idea_status: Some(IdeaStatus::Done),
        accepted_answer: None,
    });
    let result = w
        .act(|conn, ctx| {
            let (remote, edited) = (&remote, &edited);
            async move { inbound::update(conn, ctx, remote, edited).await }.scope_boxed()
        })
        .await;
    assert!(
        matches!(result, Err(CoreError::NotAllowed("change_idea_status"))),
        "{result:?}"
    );
    let after = w.post_now(before.id).await;
    assert_eq!(after.title, "Mode sombre", "the edit is not half-applied");
    assert_eq!(after.updated_at, before.updated_at);
    assert_eq!(w.count("post_edit").await, 0);
}

#[tokio::test]
async fn a_group_elsewhere_changes_only_its_own_content_and_never_our_words() {
    let w = World::new().await;
    let owner = w.member("olga", Role::CommunityManager).await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let ours = w.group(&owner, "entraide").await;
    let theirs = w.remote_group(OTHER, "rust").await;
    let other_group = w.remote_group(THIRD, "go").await;
    let author = w.remote_person(OTHER, "rita").await;
    let stranger = w.remote_person(THIRD, "eve").await;
    let staff = w.remote_person(OTHER, "admin").await;
    let local_post = w.post(&marie, &ours, PostKind::Question, "À nous").await;

    // Their group announces an edit of a post of our group: forged.
    let forged = page(
        &author,
        &local_post.ap_id,
        &theirs.ap_id,
        PostKind::Question,
        "Piraté",
    );
    let result = w
        .act(|conn, ctx| {
            let (theirs, author, forged) = (&theirs, &author, &forged);
            async move { inbound::announced_update(conn, ctx, theirs, author, forged).await }
                .scope_boxed()
        })
        .await;
    assert!(
        matches!(result, Err(CoreError::Forged(Forgery::NotTheGroupsContent))),
        "{result:?}"
    );
    assert_eq!(w.post_now(local_post.id).await.title, "À nous");

    // A post of theirs, mirrored.
    let mut idea = page(
        &author,
        "https://other.example/p/7",
        &theirs.ap_id,
        PostKind::Idea,
        "Traits",
    );
    w.act(|conn, ctx| {
        let (theirs, author, idea) = (&theirs, &author, &idea);
        async move { inbound::announced_create(conn, ctx, theirs, author, idea, &[]).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let mirrored = {
        let mut conn = w.ctx.conn().await.unwrap();
        cenacle_core::published::post_by_id(&mut conn, local_post.id + 1)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(mirrored.ap_id, "https://other.example/p/7");

    // Another group cannot announce a change to it.
    idea.title = "Piraté".into();
    let result = w
        .act(|conn, ctx| {
            let (other_group, author, idea) = (&other_group, &author, &idea);
            async move { inbound::announced_update(conn, ctx, other_group, author, idea).await }
                .scope_boxed()
        })
        .await;
    assert!(
        matches!(result, Err(CoreError::Forged(Forgery::NotTheGroupsContent))),
        "{result:?}"
    );
    // Nor a stranger through its own group.
    let result = w
        .act(|conn, ctx| {
            let (theirs, stranger, idea) = (&theirs, &stranger, &idea);
            async move { inbound::announced_update(conn, ctx, theirs, stranger, idea).await }
                .scope_boxed()
        })
        .await;
    assert!(
        matches!(result, Err(CoreError::Forged(Forgery::NotTheOrigin))),
        "{result:?}"
    );
    assert_eq!(w.post_now(mirrored.id).await.title, "Traits");

    // The group's own staff moves the idea along: its state changes, its words do not.
    idea.state = Some(GroupState {
        idea_status: Some(IdeaStatus::Planned),
        accepted_answer: None,
    });
    w.act(|conn, ctx| {
        let (theirs, staff, idea) = (&theirs, &staff, &idea);
        async move { inbound::announced_update(conn, ctx, theirs, staff, idea).await }.scope_boxed()
    })
    .await
    .unwrap();
    let now = w.post_now(mirrored.id).await;
    assert_eq!(now.idea_status.as_deref(), Some("planned"));
    assert_eq!(now.title, "Traits");
}

#[tokio::test]
async fn everything_an_action_wrote_goes_when_it_fails() {
    let w = World::new().await;
    let owner = w.member("olga", Role::CommunityManager).await;
    let asker = Caller::from(&w.member("marie", Role::Member).await);
    let remote = w.remote_person(OTHER, "rita").await;
    let group = w.group(&owner, "entraide").await;
    let question = w
        .post(&asker, &group, PostKind::Question, "Comment ?")
        .await;
    let (votes_before, events_before) = (w.count("vote").await, w.count("reputation_event").await);
    let result: Result<(), _> = w
        .act(|conn, ctx| {
            let (remote, question) = (&remote, &question);
            async move {
                cenacle_core::federation::record_received(
                    conn,
                    "https://other.example/likes/9",
                    "https://other.example/u/rita",
                )
                .await?;
                inbound::vote(
                    conn,
                    ctx,
                    remote,
                    &question.ap_id,
                    Some(Vote::Like),
                    "https://other.example/likes/9",
                )
                .await?;
                // Whatever fails after the effect, within the action…
                Err(CoreError::Internal("the relay failed".into()))
            }
            .scope_boxed()
        })
        .await;
    assert!(result.is_err());
    // …takes the effect, its ledgers and the record of the activity with it.
    assert_eq!(w.count("vote").await, votes_before);
    assert_eq!(w.count("reputation_event").await, events_before);
    assert_eq!(w.count("received_activity").await, 0);
    assert_eq!(w.post_now(question.id).await.likes, 0);
}
