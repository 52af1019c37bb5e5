//! What a group on another server may announce to us, below the HTTP layer: replies that
//! Mastodon addresses to people only, parents fetched for a reply, removals, the group's
//! state of a post, relayed votes.

mod common;

use cenacle_core::{
    admin, federation,
    inbound::{self, GroupState, Outcome},
    Caller, CoreError, ScopedFutureExt,
};
use cenacle_domain::{
    content::{IdeaStatus, PostKind, Vote},
    origin::Forgery,
    Role,
};
use common::{page, reply, World, OTHER, THIRD};

/// A post of `group` on OTHER, mirrored here.
async fn mirrored_post(
    w: &World,
    group: &cenacle_core::model::Group,
    author: &cenacle_core::model::PersonActor,
    id: &str,
    kind: PostKind,
) -> cenacle_core::model::Post {
    let object = page(author, id, &group.ap_id, kind, "Traits");
    w.act(|conn, ctx| {
        let object = &object;
        async move { inbound::announced_create(conn, ctx, group, author, object, &[]).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let mut conn = w.ctx.conn().await.unwrap();
    let detail = cenacle_core::published::exists(&mut conn, id)
        .await
        .unwrap();
    assert!(detail, "{id} mirrored");
    find_post(w, id).await
}

async fn find_post(w: &World, id: &str) -> cenacle_core::model::Post {
    for n in 1..50 {
        let post = {
            let mut conn = w.ctx.conn().await.unwrap();
            cenacle_core::published::post_by_id(&mut conn, n)
                .await
                .unwrap()
        };
        if let Some(post) = post.filter(|p| p.ap_id == id) {
            return post;
        }
    }
    panic!("no post {id}")
}

#[tokio::test]
async fn a_reply_addressed_only_to_people_is_mirrored_through_what_it_replies_to() {
    let w = World::new().await;
    let rust = w.remote_group(OTHER, "rust").await;
    let author = w.remote_person(OTHER, "rita").await;
    let replier = w.remote_person(THIRD, "mastodonian").await;
    let post = mirrored_post(
        &w,
        &rust,
        &author,
        "https://other.example/p/1",
        PostKind::Question,
    )
    .await;
    // As Mastodon addresses a reply: the author replied to and its own followers, no group.
    let mut note = reply(
        &replier,
        "https://third.example/s/1",
        &post.ap_id,
        "x",
        "Moi aussi",
    );
    note.addressing = vec![
        "https://third.example/u/mastodonian/followers".into(),
        author.ap_id.clone().unwrap(),
    ];
    let outcome = w
        .act(|conn, ctx| {
            let (rust, replier, note) = (&rust, &replier, &note);
            async move { inbound::announced_create(conn, ctx, rust, replier, note, &[]).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Applied), "{outcome:?}");
    assert_eq!(w.post_now(post.id).await.comment_count, 1);
}

#[tokio::test]
async fn a_reply_cannot_pull_another_groups_post_into_the_announcing_group() {
    let w = World::new().await;
    let g1 = w.remote_group(OTHER, "g1").await;
    let g2 = w.remote_group(THIRD, "g2").await;
    let g1_member = w.remote_person(OTHER, "pat").await;
    let g2_member = w.remote_person(THIRD, "sam").await;
    // g1 announces a reply to a post of g2 we do not have: the post, fetched from its origin,
    // is addressed to g2.
    let root = page(
        &g2_member,
        "https://third.example/p/9",
        &g2.ap_id,
        PostKind::Question,
        "À g2",
    );
    let note = reply(
        &g1_member,
        "https://other.example/c/1",
        &root.ap_id,
        &g1.ap_id,
        "Tiens",
    );
    let result = w
        .act(|conn, ctx| {
            let (g1, g1_member, note) = (&g1, &g1_member, &note);
            let parents = [(root.clone(), g2_member.clone())];
            async move { inbound::announced_create(conn, ctx, g1, g1_member, note, &parents).await }
                .scope_boxed()
        })
        .await;
    assert!(
        matches!(result, Err(CoreError::Forged(Forgery::NotAddressedToGroup))),
        "{result:?}"
    );
    assert_eq!(w.count("post").await, 0);
    assert_eq!(w.count("comment").await, 0);
}

#[tokio::test]
async fn the_groups_server_removes_what_it_decides_and_others_moderators_are_not_heard_yet() {
    let w = World::new().await;
    let rust = w.remote_group(OTHER, "rust").await;
    let staff = w.remote_person(OTHER, "admin").await;
    let outside_moderator = w.remote_person(THIRD, "mod").await;
    let marie = w.member("marie", Role::Member).await;
    let marie_caller = Caller::from(&marie);
    // Our member's post in their group (stored here, local).
    let ours = w
        .post(&marie_caller, &rust, PostKind::Question, "Chez eux")
        .await;
    let result = w
        .act(|conn, ctx| {
            let (rust, outside_moderator, ours) = (&rust, &outside_moderator, &ours);
            async move {
                inbound::announced_delete(conn, ctx, rust, outside_moderator, &ours.ap_id).await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert!(
        matches!(result, Outcome::Ignored("remote_moderation")),
        "{result:?}"
    );
    assert!(w.post_now(ours.id).await.deleted_at.is_none());
    w.act(|conn, ctx| {
        let (rust, staff, ours) = (&rust, &staff, &ours);
        async move { inbound::announced_delete(conn, ctx, rust, staff, &ours.ap_id).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    assert!(
        w.post_now(ours.id).await.deleted_at.is_some(),
        "the group's own server removes our member's post from its group"
    );
}

#[tokio::test]
async fn an_author_does_not_move_their_own_idea_nor_clear_an_acceptance_we_cannot_see() {
    let w = World::new().await;
    let rust = w.remote_group(OTHER, "rust").await;
    // Not on the group's server: only an author, not its staff.
    let author = w.remote_person(THIRD, "rita").await;
    let idea = mirrored_post(
        &w,
        &rust,
        &author,
        "https://third.example/p/2",
        PostKind::Idea,
    )
    .await;
    let mut edited = page(
        &author,
        &idea.ap_id,
        &rust.ap_id,
        PostKind::Idea,
        "Traits, vite",
    );
    edited.state = Some(GroupState {
        idea_status: Some(IdeaStatus::Done),
        accepted_answer: None,
    });
    w.act(|conn, ctx| {
        let (rust, author, edited) = (&rust, &author, &edited);
        async move { inbound::announced_update(conn, ctx, rust, author, edited).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let now = w.post_now(idea.id).await;
    assert_eq!(now.title, "Traits, vite", "the author's words change");
    assert_eq!(
        now.idea_status.as_deref(),
        Some("submitted"),
        "only the group's server moves an idea along"
    );

    // A question with an accepted answer; an Update naming an answer we never received leaves
    // the acceptance (and what it earned) alone.
    let question = mirrored_post(
        &w,
        &rust,
        &author,
        "https://third.example/p/3",
        PostKind::Question,
    )
    .await;
    let answerer = w.remote_person(OTHER, "ann").await;
    let answer = reply(
        &answerer,
        "https://other.example/c/3",
        &question.ap_id,
        &rust.ap_id,
        "Ainsi",
    );
    w.act(|conn, ctx| {
        let (rust, answerer, answer) = (&rust, &answerer, &answer);
        async move { inbound::announced_create(conn, ctx, rust, answerer, answer, &[]).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let mut accepting = page(
        &author,
        &question.ap_id,
        &rust.ap_id,
        PostKind::Question,
        "Traits",
    );
    accepting.state = Some(GroupState {
        idea_status: None,
        accepted_answer: Some("https://other.example/c/3".into()),
    });
    w.act(|conn, ctx| {
        let (rust, author, accepting) = (&rust, &author, &accepting);
        async move { inbound::announced_update(conn, ctx, rust, author, accepting).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let accepted = w.post_now(question.id).await.accepted_comment_id;
    assert!(
        accepted.is_some(),
        "the question's author accepts an answer"
    );
    let earned = w.reputation(answerer.id).await;
    accepting.state = Some(GroupState {
        idea_status: None,
        accepted_answer: Some("https://other.example/c/never-received".into()),
    });
    w.act(|conn, ctx| {
        let (rust, author, accepting) = (&rust, &author, &accepting);
        async move { inbound::announced_update(conn, ctx, rust, author, accepting).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    assert_eq!(w.post_now(question.id).await.accepted_comment_id, accepted);
    assert_eq!(w.reputation(answerer.id).await, earned);
}

#[tokio::test]
async fn a_relayed_vote_weighs_no_more_than_the_relaying_groups_server() {
    let w = World::new().await;
    let admin_session = w.member("olga", Role::Admin).await;
    let rust = w.remote_group(OTHER, "rust").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let voter = w.remote_person(THIRD, "vic").await;
    let ours = w.post(&marie, &rust, PostKind::Question, "Chez eux").await;
    // The relaying group's server is trusted with nothing; the voter's is fully trusted.
    w.act(|conn, _| {
        let admin_session = &admin_session;
        async move { admin::set_instance_weight(conn, admin_session, "other.example", 0.0).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let before = w.reputation(marie.person_id).await;
    w.act(|conn, ctx| {
        let (rust, voter, ours) = (&rust, &voter, &ours);
        async move {
            inbound::announced_vote(
                conn,
                ctx,
                rust,
                voter,
                &ours.ap_id,
                Some(Vote::Like),
                "https://third.example/l/1",
            )
            .await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    // Recorded, but weighing nothing: not even in the shown count (issue 11: a vote that
    // counts for nothing moves no sort).
    assert_eq!(w.count("vote").await, 1, "the vote is recorded");
    assert_eq!(w.post_now(ours.id).await.likes, 0, "and counts for nothing");
    assert_eq!(
        w.reputation(marie.person_id).await,
        before,
        "but earns what the relaying server is trusted with: nothing"
    );
}

#[tokio::test]
async fn nothing_is_stored_for_a_relay_with_nobody_to_deliver_to() {
    let w = World::new().await;
    let queued = w
        .act(|conn, ctx| {
            async move {
                federation::queue_to_followers(
                    conn,
                    ctx,
                    "http://localhost:8700/activities/announce/1",
                    "http://localhost:8700/g/empty",
                    "{}",
                    "http://localhost:8700/g/empty",
                    None,
                )
                .await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(queued, 0);
    assert_eq!(w.count("outgoing_activity").await, 0);
}

/// A reply announced by a group elsewhere tells our member it answers, and the member it
/// mentions with our host, as a reply written here would; a bare `@name` from there is
/// someone there, not our namesake.
#[tokio::test]
async fn a_reply_from_a_group_elsewhere_tells_our_members_as_a_local_one_would() {
    let w = World::new().await;
    let rust = w.remote_group(OTHER, "rust").await;
    let rita = w.remote_person(OTHER, "rita").await;
    let ana = Caller::from(&w.member("ana", Role::Member).await);
    let ben = Caller::from(&w.member("ben", Role::Member).await);
    let carl = Caller::from(&w.member("carl", Role::Member).await);
    let post = mirrored_post(
        &w,
        &rust,
        &rita,
        "https://other.example/p/1",
        PostKind::Question,
    )
    .await;
    let answer = w.answer(&ana, &post, "Try the nightly build").await;
    let host = cenacle_core::identity::local_host(&w.ctx.settings);
    let note = reply(
        &rita,
        "https://other.example/c/2",
        &answer.ap_id,
        &rust.ap_id,
        &format!("Thanks! @ben@{host} should see this; @carl knows too"),
    );
    let outcome = w
        .act(|conn, ctx| {
            let (rust, rita, note) = (&rust, &rita, &note);
            async move { inbound::announced_create(conn, ctx, rust, rita, note, &[]).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Applied), "{outcome:?}");
    let told = |caller: Caller| {
        let w = &w;
        async move {
            w.act(|conn, ctx| {
                async move {
                    cenacle_core::notifications::list(conn, ctx, &caller, false, None, 10).await
                }
                .scope_boxed()
            })
            .await
            .unwrap()
            .into_iter()
            .map(|n| (n.kind, n.actor))
            .collect::<Vec<_>>()
        }
    };
    let rita_handle = Some("rita@other.example".to_owned());
    assert_eq!(told(ana).await, [("reply".to_owned(), rita_handle.clone())]);
    assert_eq!(told(ben).await, [("mention".to_owned(), rita_handle)]);
    assert!(
        told(carl).await.is_empty(),
        "a bare @carl from there is theirs"
    );
    // Rita's edit names carl with our host: he is told of the name it adds, once.
    let mut edited = note.clone();
    edited.body = format!("Thanks! @ben@{host} should see this; @carl@{host} knows too");
    for _ in 0..2 {
        w.act(|conn, ctx| {
            let (rust, rita, edited) = (&rust, &rita, &edited);
            async move { inbound::announced_update(conn, ctx, rust, rita, edited).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    }
    assert_eq!(told(carl).await.len(), 1);
    assert_eq!(told(ben).await.len(), 1, "ben was named already");
}

/// `group` announces `replier`'s reply to the last of `parents` (fetched with it, root first,
/// as the inbox passes them).
async fn announce_reply_under(
    w: &World,
    group: &cenacle_core::model::Group,
    replier: &cenacle_core::model::PersonActor,
    reply: &cenacle_core::inbound::IncomingObject,
    parents: &[(
        cenacle_core::inbound::IncomingObject,
        cenacle_core::model::PersonActor,
    )],
) -> Outcome {
    w.act(|conn, ctx| {
        async move { inbound::announced_create(conn, ctx, group, replier, reply, parents).await }
            .scope_boxed()
    })
    .await
    .unwrap()
}

/// A reply a group elsewhere relays, to a post we lack by a person banned from this instance:
/// the post, fetched with it, is not stored (its author is kept out as the inbox keeps out
/// the reply's own author), nor the reply under it; the Announce is acknowledged with the
/// reason. Once the ban is lifted, the same reply and post are mirrored. Before, only the
/// reply's author was checked: the banned person's post was stored with it.
#[tokio::test]
async fn a_relayed_reply_to_a_banned_persons_post_is_not_mirrored_nor_that_post() {
    use cenacle_core::instance_moderation;
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let rust = w.remote_group(OTHER, "rust").await;
    let rita = w.remote_person(OTHER, "rita").await;
    let ann = w.remote_person(OTHER, "ann").await;
    let rita_id = rita.ap_id.clone().unwrap();
    w.ban_from_instance(&admin, &rita_id).await;
    let root = page(
        &rita,
        "https://other.example/p/1",
        &rust.ap_id,
        PostKind::Question,
        "Achetez",
    );
    let note = reply(
        &ann,
        "https://other.example/c/1",
        &root.ap_id,
        &rust.ap_id,
        "Non merci",
    );
    let parents = [(root, rita)];

    let outcome = announce_reply_under(&w, &rust, &ann, &note, &parents).await;

    assert!(
        matches!(outcome, Outcome::Ignored("reply_to_banned_person")),
        "{outcome:?}"
    );
    assert_eq!(
        w.count("post").await,
        0,
        "the banned person's post is stored"
    );
    assert_eq!(w.count("comment").await, 0, "the reply under it is stored");

    w.act(|conn, _| {
        let (admin, rita_id) = (&admin, rita_id.as_str());
        async move { instance_moderation::unban(conn, admin, rita_id).await }.scope_boxed()
    })
    .await
    .unwrap();
    let outcome = announce_reply_under(&w, &rust, &ann, &note, &parents).await;
    assert!(matches!(outcome, Outcome::Applied), "{outcome:?}");
    assert_eq!((w.count("post").await, w.count("comment").await), (1, 1));
}

/// A reply relayed under a comment we lack by a person of a blocked instance (itself under a
/// post we lack, by someone not kept out): nothing of the chain is stored — not the blocked
/// instance's comment, not the reply under it, not the post fetched above it only to hold it.
#[tokio::test]
async fn a_relayed_reply_under_a_blocked_instances_comment_stores_nothing_of_its_chain() {
    use cenacle_core::instance_moderation;
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let rust = w.remote_group(OTHER, "rust").await;
    let ann = w.remote_person(OTHER, "ann").await;
    let sam = w.remote_person(THIRD, "sam").await;
    w.act(|conn, ctx| {
        let admin = &admin;
        async move {
            instance_moderation::set_blocked(conn, ctx, admin, "third.example", true).await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    let root = page(
        &ann,
        "https://other.example/p/1",
        &rust.ap_id,
        PostKind::Question,
        "Une question",
    );
    let sams = reply(
        &sam,
        "https://third.example/c/1",
        &root.ap_id,
        &rust.ap_id,
        "Achetez",
    );
    let note = reply(
        &ann,
        "https://other.example/c/2",
        &sams.ap_id,
        &rust.ap_id,
        "Non merci",
    );
    let parents = [(root, ann.clone()), (sams, sam)];

    let outcome = announce_reply_under(&w, &rust, &ann, &note, &parents).await;

    assert!(
        matches!(outcome, Outcome::Ignored("reply_to_blocked_instance")),
        "{outcome:?}"
    );
    assert_eq!(w.count("post").await, 0, "the post above is stored");
    assert_eq!(w.count("comment").await, 0);
}
