//! The pass over bans that ran out (issue 13): a member of ours banned for a while from a group
//! elsewhere has their follow renewed once the ban runs out — no `Undo{Block}` comes then, and
//! the group's server dropped their follow with the ban. Each ban is handled once (banning
//! again makes it owed anew); a ban still in force, a ban from a group of ours and a member
//! banned from our instance are left alone. (Sending the Follow, and the group's server taking
//! them back, are in api_tests' `moderation_federation`.)

mod common;

use cenacle_core::{
    accounts::Session, actors, federation, group_bans, model::PersonActor, ScopedFutureExt,
};
use cenacle_db::reports::{self as store, NewBan};
use cenacle_domain::Role;
use chrono::{DateTime, Duration, Utc};
use common::{World, OTHER};

/// Our member `name`, as an actor.
async fn our_member(w: &World, name: &str) -> PersonActor {
    w.member(name, Role::Member).await;
    w.act(|conn, _| async move { actors::local_person_by_name(conn, name).await }.scope_boxed())
        .await
        .unwrap()
        .expect("the member just created")
}

/// `person` follows the group `group_ap_id`, accepted, with the Follow `follow_id`.
async fn following(w: &World, person: &PersonActor, group_ap_id: &str, follow_id: &str) {
    w.act(|conn, _| {
        async move {
            federation::follow(conn, person, group_ap_id, false, follow_id).await?;
            federation::follow_accepted(
                conn,
                group_ap_id,
                federation::AcceptedFollow::Activity(follow_id),
            )
            .await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
}

/// Bans `person_id` from `group_id` (or bans again) until `expires_at`, as a `Block` received
/// does.
async fn ban_until(w: &World, group_id: i64, person_id: i64, expires_at: DateTime<Utc>) {
    let ban = NewBan {
        group_id,
        person_id,
        banned_by: None,
        reason: "spam",
        expires_at: Some(expires_at),
        remove_data: false,
        ap_id: None,
    };
    let ban = &ban;
    w.act(|conn, _| async move { Ok(store::upsert_ban(conn, ban).await?) }.scope_boxed())
        .await
        .unwrap();
}

/// One pass, as `cenacle_apub::follows::follow_again_after_bans_ran_out` runs it (the sending
/// of the Follow aside), with no grace: the (group, person) ids claimed, each follow renewed
/// with a new Follow id.
async fn pass(w: &World, round: &str) -> Vec<(i64, i64)> {
    pass_with_grace(w, round, Duration::zero()).await
}

/// [`pass`], claiming only bans that ran out at least `grace` ago.
async fn pass_with_grace(w: &World, round: &str, grace: Duration) -> Vec<(i64, i64)> {
    w.act(|conn, _| {
        async move {
            let (_, due) = federation::claim_bans_run_out(conn, 100, grace).await?;
            let mut handled = vec![];
            for (group, person) in &due {
                let follow_id = format!("http://localhost:8700/activities/follow/{round}");
                federation::renew_follow(conn, person, &group.ap_id, &follow_id).await?;
                handled.push((group.id, person.id));
            }
            Ok(handled)
        }
        .scope_boxed()
    })
    .await
    .unwrap()
}

/// The state and Follow id of `person`'s follow of `group_ap_id`.
async fn follow_of(w: &World, person: &PersonActor, group_ap_id: &str) -> (String, String) {
    let follower = person.ap_id.clone().unwrap();
    let follows = w
        .act(|conn, _| async move { federation::follows_of(conn, &follower).await }.scope_boxed())
        .await
        .unwrap();
    let (row, _) = follows
        .into_iter()
        .find(|(f, _)| f.target_ap_id == group_ap_id)
        .expect("a follow of the group");
    (row.state, row.follow_activity_id)
}

#[tokio::test]
async fn a_ban_run_out_renews_the_follow_once_and_leaves_the_others() {
    let w = World::new().await;
    let elsewhere = w.remote_group(OTHER, "entraide").await;
    let admin = w.member("admin", Role::Admin).await;
    let ours = w.group(&admin, "ici").await;
    let now = Utc::now();

    // Ran out: marie's follow is renewed.
    let marie = our_member(&w, "marie").await;
    following(
        &w,
        &marie,
        &elsewhere.ap_id,
        "http://localhost:8700/f/marie",
    )
    .await;
    ban_until(&w, elsewhere.id, marie.id, now - Duration::seconds(5)).await;
    // Still in force for an hour: paul's is not.
    let paul = our_member(&w, "paul").await;
    following(&w, &paul, &elsewhere.ap_id, "http://localhost:8700/f/paul").await;
    ban_until(&w, elsewhere.id, paul.id, now + Duration::hours(1)).await;
    // Ran out, from a group of ours: ours to handle, nothing owed to a server elsewhere.
    let jeanne = our_member(&w, "jeanne").await;
    ban_until(&w, ours.id, jeanne.id, now - Duration::seconds(5)).await;
    // Ran out, but luc is banned from our instance: nothing of his goes out.
    let luc = our_member(&w, "luc").await;
    following(&w, &luc, &elsewhere.ap_id, "http://localhost:8700/f/luc").await;
    ban_until(&w, elsewhere.id, luc.id, now - Duration::seconds(5)).await;
    w.ban_from_instance(&admin, "luc").await;

    // A grace longer than since the end: not yet (a server whose clock is behind ours would
    // still refuse the Follow).
    assert_eq!(pass_with_grace(&w, "0", Duration::minutes(1)).await, vec![]);
    assert_eq!(pass(&w, "1").await, vec![(elsewhere.id, marie.id)]);
    assert_eq!(
        follow_of(&w, &marie, &elsewhere.ap_id).await,
        (
            "pending".to_owned(),
            "http://localhost:8700/activities/follow/1".to_owned()
        ),
        "marie asks the group again, her follow pending until its Accept"
    );
    for (person, follow_id) in [(&paul, "paul"), (&luc, "luc")] {
        assert_eq!(
            follow_of(&w, person, &elsewhere.ap_id).await,
            (
                "accepted".to_owned(),
                format!("http://localhost:8700/f/{follow_id}")
            ),
            "{follow_id}'s follow is left as it was"
        );
    }

    // Once: the next pass finds nothing.
    assert_eq!(pass(&w, "2").await, vec![]);

    // Banned again for a while, marie's new ban is owed its own handling when it runs out.
    ban_until(
        &w,
        elsewhere.id,
        marie.id,
        Utc::now() - Duration::seconds(1),
    )
    .await;
    assert_eq!(pass(&w, "3").await, vec![(elsewhere.id, marie.id)]);
    assert_eq!(
        follow_of(&w, &marie, &elsewhere.ap_id).await.1,
        "http://localhost:8700/activities/follow/3"
    );

    // The group's Undo of a ban that ran out owes the Follow once, whoever comes first: after
    // the pass, nothing (a second Follow would leave a private group's follow pending here);
    // before it, the Undo sends it and the pass skips the ban; for a ban never heard of here,
    // the Undo sends it.
    let owed = |person_id: i64| {
        let w = &w;
        let group_id = elsewhere.id;
        async move {
            w.act(|conn, _| {
                async move { group_bans::follow_owed_after_ban(conn, group_id, person_id).await }
                    .scope_boxed()
            })
            .await
            .unwrap()
        }
    };
    assert!(!owed(marie.id).await, "the pass sent it already");
    let zoe = our_member(&w, "zoe").await;
    following(&w, &zoe, &elsewhere.ap_id, "http://localhost:8700/f/zoe").await;
    ban_until(&w, elsewhere.id, zoe.id, Utc::now() - Duration::seconds(1)).await;
    assert!(owed(zoe.id).await, "the Undo comes before the pass");
    assert!(!owed(zoe.id).await, "once");
    assert_eq!(pass(&w, "4").await, vec![], "the pass skips it");
    let never_banned = our_member(&w, "yann").await;
    assert!(owed(never_banned.id).await, "a ban whose Block never came");

    // A Follow that failed to queue (its savepoint rolled back) is tried again later, each
    // time twice as late: not at every pass, where a ban that always fails would take its
    // place again and again.
    let ines = our_member(&w, "ines").await;
    following(&w, &ines, &elsewhere.ap_id, "http://localhost:8700/f/ines").await;
    ban_until(&w, elsewhere.id, ines.id, Utc::now() - Duration::seconds(1)).await;
    assert_eq!(pass(&w, "5").await, vec![(elsewhere.id, ines.id)]);
    assert_wait(defer(&w, elsewhere.id, ines.id).await, Duration::minutes(1));
    assert_eq!(pass(&w, "6").await, vec![], "not before its retry time");
    retry_time_comes(&w, ines.id).await;
    assert_eq!(
        pass(&w, "7").await,
        vec![(elsewhere.id, ines.id)],
        "claimed again once its retry time has come"
    );
    assert_wait(defer(&w, elsewhere.id, ines.id).await, Duration::minutes(2));
    // However many failures, twice as long each time up to a day, never given up.
    for failure in 3..16 {
        retry_time_comes(&w, ines.id).await;
        assert_eq!(
            pass(&w, &format!("f{failure}")).await,
            vec![(elsewhere.id, ines.id)],
            "failure {failure}"
        );
        let doubled = Duration::minutes(1 << (failure - 1));
        assert_wait(
            defer(&w, elsewhere.id, ines.id).await,
            doubled.min(Duration::days(1)),
        );
    }
    // The group's Undo{Block} of a ban waiting for its retry owes the Follow now; the pass
    // then has nothing left to do for it.
    assert!(owed(ines.id).await, "the Undo sends it without waiting");
    retry_time_comes(&w, ines.id).await;
    assert_eq!(pass(&w, "f16").await, vec![], "handled by the Undo");
    // Banned again, the new ban starts afresh: claimed as soon as it runs out, a minute's wait
    // after its first failure.
    ban_until(&w, elsewhere.id, ines.id, Utc::now() - Duration::seconds(1)).await;
    assert_eq!(pass(&w, "20").await, vec![(elsewhere.id, ines.id)]);
    assert_wait(defer(&w, elsewhere.id, ines.id).await, Duration::minutes(1));

    // The clock-skew grace is for the ban's end, long behind at a retry: a pass with the
    // two-minute grace claims a ban whose retry time has just come.
    let noe = our_member(&w, "noe").await;
    following(&w, &noe, &elsewhere.ap_id, "http://localhost:8700/f/noe").await;
    ban_until(&w, elsewhere.id, noe.id, Utc::now() - Duration::minutes(10)).await;
    assert_eq!(pass(&w, "21").await, vec![(elsewhere.id, noe.id)]);
    defer(&w, elsewhere.id, noe.id).await;
    retry_time_comes(&w, noe.id).await;
    assert_eq!(
        pass_with_grace(&w, "22", Duration::minutes(2)).await,
        vec![(elsewhere.id, noe.id)],
        "no grace added after the retry time"
    );
}

/// A member of ours banned from our instance: their ban from a group elsewhere that ran out
/// owes nothing while the instance ban lasts (nothing of theirs goes out), and their Follow
/// once it ends — lifted (which sends nothing itself, and leaves their follow here as it was)
/// or run out. Meanwhile the ban is set aside, out of the claim's range: not read again at
/// every batch of every pass. (Before, it stayed in the range, read and skipped each time,
/// forever for an instance ban until lifted.) A ban of a member who no longer follows the
/// group is claimed and marked at the first pass, nothing sent: it leaves the range too.
#[tokio::test]
async fn a_ban_run_out_of_a_member_banned_here_waits_out_of_the_pass_until_that_ban_ends() {
    let w = World::new().await;
    let elsewhere = w.remote_group(OTHER, "entraide").await;
    let admin = w.member("admin", Role::Admin).await;
    let admin = &admin;
    let now = Utc::now();

    // Banned from our instance until lifted.
    let luc = our_member(&w, "luc").await;
    following(&w, &luc, &elsewhere.ap_id, "http://localhost:8700/f/luc").await;
    ban_until(&w, elsewhere.id, luc.id, now - Duration::seconds(5)).await;
    w.ban_from_instance(admin, "luc").await;
    // No longer follows the group.
    let ana = our_member(&w, "ana").await;
    ban_until(&w, elsewhere.id, ana.id, now - Duration::seconds(5)).await;

    assert_eq!(
        pass(&w, "1").await,
        vec![(elsewhere.id, ana.id)],
        "ana's claimed (nothing to send), luc's not"
    );
    assert_eq!(
        in_the_claims_range(&w).await,
        0,
        "nothing left for the next passes to read"
    );
    assert_eq!(pass(&w, "2").await, vec![]);

    // Lifted: the next pass sends luc's Follow.
    w.act(|conn, _| {
        async move { cenacle_core::instance_moderation::unban(conn, admin, "luc").await }
            .scope_boxed()
    })
    .await
    .unwrap();
    assert_eq!(in_the_claims_range(&w).await, 1, "back at the lifting");
    assert_eq!(pass(&w, "3").await, vec![(elsewhere.id, luc.id)]);
    assert_eq!(
        follow_of(&w, &luc, &elsewhere.ap_id).await,
        (
            "pending".to_owned(),
            "http://localhost:8700/activities/follow/3".to_owned()
        )
    );

    // Banned from our instance for a while: set aside until then. Replaced by a shorter ban,
    // it comes back at once and waits for the new end; once that has come, the Follow goes.
    let eve = our_member(&w, "eve").await;
    following(&w, &eve, &elsewhere.ap_id, "http://localhost:8700/f/eve").await;
    ban_until(&w, elsewhere.id, eve.id, now - Duration::seconds(5)).await;
    ban_from_instance_until(&w, admin, "eve", Utc::now() + Duration::hours(1)).await;
    assert_eq!(pass(&w, "4").await, vec![]);
    assert_eq!(in_the_claims_range(&w).await, 0);
    ban_from_instance_until(&w, admin, "eve", Utc::now() + Duration::minutes(30)).await;
    assert_eq!(in_the_claims_range(&w).await, 1, "back at the replacing");
    assert_eq!(pass(&w, "5").await, vec![], "still banned here");
    assert_eq!(in_the_claims_range(&w).await, 0, "aside until the new end");
    instance_ban_ends_by_time(&w, eve.id).await;
    assert_eq!(
        in_the_claims_range(&w).await,
        1,
        "due at the instance ban's end"
    );
    assert_eq!(pass(&w, "6").await, vec![(elsewhere.id, eve.id)]);
    assert_eq!(
        follow_of(&w, &eve, &elsewhere.ap_id).await.1,
        "http://localhost:8700/activities/follow/6"
    );
    assert_eq!(in_the_claims_range(&w).await, 0);
}

/// Bans `name` from our instance until `until`, as an admin does (replacing a ban of theirs).
async fn ban_from_instance_until(w: &World, admin: &Session, name: &str, until: DateTime<Utc>) {
    let request = cenacle_core::instance_moderation::BanRequest {
        person: name.into(),
        reason: "Spam".into(),
        expires_at: Some(until),
        remove_content: false,
    };
    let request = &request;
    w.act(|conn, _| {
        async move { cenacle_core::instance_moderation::ban(conn, admin, request).await }
            .scope_boxed()
    })
    .await
    .unwrap();
}

/// How many bans a pass's claim reads now: those in its range (its index's: with an end, not
/// lifted, not handled, their end or retry time come), whether it then claims them or not.
async fn in_the_claims_range(w: &World) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    w.act(|conn, _| {
        async move {
            let count: Count = diesel_async::RunQueryDsl::get_result(
                diesel::sql_query(
                    "SELECT count(*) AS n FROM group_ban \
                     WHERE expires_at IS NOT NULL AND lifted_at IS NULL \
                       AND expiry_handled_at IS NULL \
                       AND GREATEST(expires_at, expiry_retry_at) <= now()",
                ),
                conn,
            )
            .await
            .map_err(cenacle_db::DbError::from)?;
            Ok(count.n)
        }
        .scope_boxed()
    })
    .await
    .unwrap()
}

/// A wait set by [`defer`] is `expected`, to the time its statement took.
#[track_caller]
fn assert_wait(wait: Duration, expected: Duration) {
    assert!(
        wait <= expected && wait > expected - Duration::seconds(1),
        "waits {wait}, expected {expected}"
    );
}

/// The pass's failure to send the Follow owed after `person_id`'s ban from `group_id` ran
/// out: how long until it is tried again, by the database's clock (read right after).
async fn defer(w: &World, group_id: i64, person_id: i64) -> Duration {
    #[derive(diesel::QueryableByName)]
    struct Clock {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        now: DateTime<Utc>,
    }
    let (retry_at, clock) = w
        .act(|conn, _| {
            async move {
                let retry_at = federation::defer_ban_run_out(conn, group_id, person_id).await?;
                let clock: Clock = diesel_async::RunQueryDsl::get_result(
                    diesel::sql_query("SELECT clock_timestamp() AS now"),
                    conn,
                )
                .await
                .map_err(cenacle_db::DbError::from)?;
                Ok((retry_at, clock.now))
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    retry_at.expect("a ban claimed, so marked") - clock
}

/// `person_id`'s instance ban ends by time (moved to the past rather than waited for), with
/// the wait it set on their bans elsewhere, as the time coming would leave them: an ending by
/// time writes nothing, so the trigger that brings back set-aside bans at a lifting or a
/// replacing clears nothing here (the wait is moved first, to before the ban's old end), and
/// the claim finds the ban due by its wait alone.
async fn instance_ban_ends_by_time(w: &World, person_id: i64) {
    comes_now(
        w,
        person_id,
        &[
            "group_ban SET expiry_retry_at",
            "instance_ban SET expires_at",
        ],
    )
    .await;
}

/// The retry time of `person_id`'s ban comes (moved to the past rather than waited for).
async fn retry_time_comes(w: &World, person_id: i64) {
    comes_now(w, person_id, &["group_ban SET expiry_retry_at"]).await;
}

/// The times `columns` (`<table> SET <column>`) of `person_id`'s rows come: each set to a
/// second ago, in this order, in one transaction.
async fn comes_now(w: &World, person_id: i64, columns: &[&str]) {
    w.act(|conn, _| {
        async move {
            for column in columns {
                diesel_async::RunQueryDsl::execute(
                    diesel::sql_query(format!(
                        "UPDATE {column} = now() - interval '1 second' \
                         WHERE person_id = {person_id}"
                    )),
                    conn,
                )
                .await
                .map_err(cenacle_db::DbError::from)?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .unwrap();
}
