//! A block of an instance and an activity of its people, in two transactions at once: the
//! activity read its sender's host "not blocked", so it must commit before the block sweeps
//! (follows dropped, deliveries cancelled), or wait for the block and see it. Under READ
//! COMMITTED, without the verdict lock, the block swept first and the follow the activity
//! then committed was kept.

mod common;

use std::time::Duration;

use cenacle_core::{
    federation, group_bans,
    inbound::{self, Outcome},
    instance_moderation, moderation, Caller, ScopedFutureExt,
};
use cenacle_domain::content::{GroupRole, PostKind};
use cenacle_domain::reports::ModerationRefusal;
use cenacle_domain::Role;
use common::{World, OTHER};
use tokio::sync::oneshot;

/// The lock waits of an advisory lock (`pg_stat_activity.wait_event`).
const ADVISORY: &str = "('advisory')";

/// The lock waits of a row's lock: the row's, or the transaction's holding it.
const ROW: &str = "('tuple', 'transactionid')";

/// Whether a backend of this database waits on a lock of the kinds `waits` (`ADVISORY`,
/// `ROW`).
async fn someone_waits_on(w: &World, waits: &str) -> bool {
    w.count(&format!(
        "pg_stat_activity WHERE datname = current_database() \
           AND wait_event_type = 'Lock' AND wait_event IN {waits}"
    ))
    .await
        > 0
}

/// Whether a backend of this database waits on an advisory lock (the block waiting for the
/// activity, or the reverse).
async fn someone_waits_on_an_advisory_lock(w: &World) -> bool {
    someone_waits_on(w, ADVISORY).await
}

/// Polls `condition` until it holds or `deadline` passes; whether it held.
async fn within<F, Fut>(deadline: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_block_waits_for_an_activity_that_read_its_host_and_sweeps_what_it_applied() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let bob = w.remote_person(OTHER, "bob").await;
    let (read_tx, read_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    // The inbox's transaction of bob's Follow: the sender's host read first, then (later) the
    // follow applied.
    let activity = async {
        let (bob, group) = (&bob, &group);
        w.act(|conn, ctx| {
            async move {
                let blocked =
                    instance_moderation::sender_blocked(conn, ctx, "other.example", None).await?;
                assert_eq!(blocked, None, "nothing is blocked yet");
                read_tx.send(()).unwrap();
                go_rx.await.unwrap();
                federation::receive_follow(conn, bob, &group.ap_id, "https://other.example/f/1")
                    .await
                    .map(|_| ())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    // The admin's block, once the activity has read the host.
    let block = async {
        read_rx.await.unwrap();
        let admin = &admin;
        w.act(|conn, ctx| {
            async move {
                instance_moderation::set_blocked(conn, ctx, admin, "other.example", true).await
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    // Lets the activity apply its follow once the block is either done or waiting for it.
    let release = async {
        let waited = within(Duration::from_secs(10), || {
            someone_waits_on_an_advisory_lock(&w)
        })
        .await;
        go_tx.send(()).unwrap();
        waited
    };
    let ((), effects, waited) = tokio::join!(activity, block, release);

    assert!(
        waited,
        "the block did not wait for the activity that read the host before it"
    );
    assert_eq!(
        effects.follows_dropped, 1,
        "the block's sweep must find the follow the activity applied"
    );
    let mut conn = w.ctx.conn().await.unwrap();
    let followers = federation::count_followers(&mut conn, &group.ap_id)
        .await
        .unwrap();
    assert_eq!(followers, 0, "a blocked instance's person still follows");
}

#[tokio::test]
async fn an_activity_reading_its_host_while_a_block_commits_waits_and_sees_it() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let (blocked_tx, blocked_rx) = oneshot::channel::<()>();
    let (commit_tx, commit_rx) = oneshot::channel::<()>();

    // The admin's block, held open after its write.
    let block = async {
        let admin = &admin;
        w.act(|conn, ctx| {
            async move {
                let effects =
                    instance_moderation::set_blocked(conn, ctx, admin, "other.example", true)
                        .await?;
                blocked_tx.send(()).unwrap();
                commit_rx.await.unwrap();
                Ok(effects)
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    // An activity of other.example read while the block has not committed yet.
    let activity = async {
        blocked_rx.await.unwrap();
        w.act(|conn, ctx| {
            async move {
                instance_moderation::sender_blocked(conn, ctx, "other.example", None).await
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let release = async {
        let waited = within(Duration::from_secs(10), || {
            someone_waits_on_an_advisory_lock(&w)
        })
        .await;
        commit_tx.send(()).unwrap();
        waited
    };
    let (_, verdict, waited) = tokio::join!(block, activity, release);

    assert!(
        waited,
        "the activity did not wait for the block being written"
    );
    assert_eq!(
        verdict,
        Some(instance_moderation::SenderBlocked::ActorHost(
            "other.example".into()
        )),
        "the activity read its host before the block committed, and let itself in"
    );
}

/// A reader of a host's verdict waits a bounded time for a change of it: an admin's block may
/// take long (it takes back every vote of the instance's people), and every activity of its
/// people, each holding a share of the federation's connections, would wait all that time.
/// Past the bound, the reader gives up with an error the inbox answers 503 + `Retry-After`.
#[tokio::test]
async fn a_reader_gives_up_retryably_while_a_block_holds_the_verdict_past_the_bound() {
    use cenacle_db::federation::{hold_verdict_for_change, READ_LOCK_WAIT};
    let w = World::new().await;
    let (held_tx, held_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();

    // A block being written, on a connection of its own, for longer than the bound.
    let block = async {
        w.act(|conn, _| {
            async move {
                hold_verdict_for_change(conn, "other.example").await?;
                held_tx.send(()).unwrap();
                release_rx.await.unwrap();
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let activity = async {
        held_rx.await.unwrap();
        let started = tokio::time::Instant::now();
        let read = tokio::time::timeout(
            READ_LOCK_WAIT * 5,
            w.act(|conn, ctx| {
                async move {
                    instance_moderation::sender_blocked(conn, ctx, "other.example", None).await
                }
                .scope_boxed()
            }),
        )
        .await;
        let waited = started.elapsed();
        release_tx.send(()).unwrap();
        (read, waited)
    };
    let ((), (read, waited)) = tokio::join!(block, activity);

    let read = read.expect("the reader waited for the block past five times the bound");
    let err = read.expect_err("the reader got a verdict while the block held it");
    assert!(err.is_overloaded(), "not answered as retryable: {err}");
    assert!(
        waited >= READ_LOCK_WAIT,
        "gave up before the bound: {waited:?}"
    );
}

/// Holds the verdict on `host` for a change, in a transaction of its own (an admin's block
/// being written): says so on `held`, and keeps it until `release` fires.
async fn change_held<'a>(
    w: &'a World,
    host: &'a str,
    held: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
) {
    w.act(|conn, _| {
        async move {
            cenacle_db::federation::hold_verdict_for_change(conn, host).await?;
            held.send(()).unwrap();
            release.await.unwrap();
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .unwrap()
}

/// The connection's `lock_timeout`, as `SHOW` says it.
async fn lock_timeout(conn: &mut cenacle_core::Conn) -> String {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    diesel::sql_query("SELECT current_setting('lock_timeout') AS value")
        .get_result::<Setting>(conn)
        .await
        .unwrap()
        .value
}

async fn set_local_lock_timeout(conn: &mut cenacle_core::Conn, value: &str) {
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute(&format!("SET LOCAL lock_timeout = '{value}'"))
        .await
        .unwrap();
}

/// A bounded wait that gave up did so at the bound for the whole transaction: not before it,
/// and not once per lock or call it waited for (the margin is for a loaded machine, far below twice the bound).
fn gave_up_at_the_bound(waited: Duration) {
    let bound = cenacle_db::federation::READ_LOCK_WAIT;
    assert!(waited >= bound, "gave up before the bound: {waited:?}");
    assert!(
        waited < bound * 3 / 2,
        "waited well past the bound (for each lock?): {waited:?}"
    );
}

fn is_lock_busy(e: &cenacle_core::CoreError) -> bool {
    matches!(
        e,
        cenacle_core::CoreError::Database(cenacle_core::model::DbError::LockBusy)
    )
}

/// A bounded wait that ends with the lock held leaves the caller's `lock_timeout` as it was:
/// the bound applies to the hold alone, not to the caller's later statements.
#[tokio::test]
async fn a_bounded_wait_that_gets_the_lock_puts_the_callers_lock_timeout_back() {
    use cenacle_db::federation::hold_verdicts_for_reading;
    let w = World::new().await;
    let (held_tx, held_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();

    let block = change_held(&w, "other.example", held_tx, release_rx);
    let reader = async {
        held_rx.await.unwrap();
        w.act(|conn, _| {
            async move {
                set_local_lock_timeout(conn, "7s").await;
                hold_verdicts_for_reading(conn, &["other.example"]).await?;
                Ok(lock_timeout(conn).await)
            }
            .scope_boxed()
        })
        .await
    };
    let release = async {
        let waited = within(Duration::from_secs(10), || {
            someone_waits_on_an_advisory_lock(&w)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        release_tx.send(()).unwrap();
        waited
    };
    let ((), read, waited) = tokio::join!(block, reader, release);

    assert!(waited, "the reader did not wait for the block");
    let setting = read.expect("the reader gave up though the block ended within the bound");
    assert_eq!(setting, "7s", "the caller's lock_timeout was not put back");
}

/// A hold over a free host and one a block keeps past the bound: the free one is taken at
/// once, the other waited for once, and the reader gives up after about the bound with
/// `LockBusy`, its transaction still usable and its `lock_timeout` as it was (the end of the
/// wait is caught by its SQLSTATE, in whatever language the server speaks).
#[tokio::test]
async fn a_hold_over_a_free_host_and_a_held_one_gives_up_after_the_bound_in_a_usable_transaction() {
    use cenacle_db::federation::hold_verdicts_for_reading;
    let w = World::new().await;
    let (held_tx, held_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();

    let block = change_held(&w, "third.example", held_tx, release_rx);
    let reader = async {
        held_rx.await.unwrap();
        let started = tokio::time::Instant::now();
        let read = w
            .act(|conn, _| {
                async move {
                    set_local_lock_timeout(conn, "7s").await;
                    let hosts = ["other.example", "third.example"];
                    let held = hold_verdicts_for_reading(conn, &hosts).await;
                    let waited = started.elapsed();
                    // Still usable: a statement after the refusal runs.
                    Ok((held, waited, lock_timeout(conn).await))
                }
                .scope_boxed()
            })
            .await;
        release_tx.send(()).unwrap();
        read
    };
    let ((), read) = tokio::join!(block, reader);

    let (held, waited, setting) = read.expect("the transaction failed after the refusal");
    let err = held.expect_err("the reader got the verdicts while the block held one");
    assert!(
        matches!(err, cenacle_core::model::DbError::LockBusy),
        "not LockBusy: {err}"
    );
    gave_up_at_the_bound(waited);
    assert_eq!(setting, "7s", "the caller's lock_timeout was not put back");
}

/// Two hosts each held by a block: the first one waited for is released shortly before the
/// bound, the other is kept. The bound is on the whole hold: the reader gives up at about
/// the bound, not the bound again after the first wait (as a `lock_timeout` per lock would).
#[tokio::test]
async fn a_hold_over_two_held_hosts_waits_the_bound_in_all_not_for_each() {
    two_held_hosts_wait_the_bound_in_all(Holds::OneCall).await;
}

/// The same, the two hosts held by two calls in one transaction (as the inbox holds its
/// signer's standing, then the verdicts on their hosts): the bound is the transaction's, not
/// each call's. Before, the second call waited the bound again: ≈1.8 s, then 2 s more.
#[tokio::test]
async fn two_holds_in_one_transaction_wait_the_bound_in_all_not_for_each() {
    two_held_hosts_wait_the_bound_in_all(Holds::TwoCalls).await;
}

/// How a reader holds two hosts.
#[derive(Clone, Copy)]
enum Holds {
    /// In one call.
    OneCall,
    /// In two calls, one after the other, in one transaction.
    TwoCalls,
}

async fn two_held_hosts_wait_the_bound_in_all(holds: Holds) {
    use cenacle_db::federation::{hold_verdicts_for_reading, READ_LOCK_WAIT};
    let w = World::new().await;
    let (held_a_tx, held_a_rx) = oneshot::channel::<()>();
    let (release_a_tx, release_a_rx) = oneshot::channel::<()>();
    let (held_b_tx, held_b_rx) = oneshot::channel::<()>();
    let (release_b_tx, release_b_rx) = oneshot::channel::<()>();
    let (started_tx, started_rx) = oneshot::channel::<tokio::time::Instant>();
    let (done_tx, done_rx) = oneshot::channel::<()>();

    let block_a = change_held(&w, "other.example", held_a_tx, release_a_rx);
    let block_b = change_held(&w, "third.example", held_b_tx, release_b_rx);
    let reader = async {
        held_a_rx.await.unwrap();
        held_b_rx.await.unwrap();
        let started = tokio::time::Instant::now();
        started_tx.send(started).unwrap();
        let read = w
            .act(|conn, _| {
                async move {
                    let hosts = ["other.example", "third.example"];
                    match holds {
                        Holds::OneCall => hold_verdicts_for_reading(conn, &hosts).await?,
                        Holds::TwoCalls => {
                            for host in hosts {
                                hold_verdicts_for_reading(conn, &[host]).await?;
                            }
                        }
                    }
                    Ok(())
                }
                .scope_boxed()
            })
            .await;
        let waited = started.elapsed();
        done_tx.send(()).unwrap();
        (read, waited)
    };
    // Releases the block the reader waits for first at 80% of the bound, the other once the
    // reader is done.
    let release = async {
        let started = started_rx.await.unwrap();
        let waited_for = |host: &'static str| {
            let w = &w;
            async move {
                w.count(&format!(
                    "pg_locks WHERE locktype = 'advisory' AND NOT granted \
                       AND classid = hashtext('instance_verdict')::oid \
                       AND objid = hashtext('{host}')::oid AND objsubid = 2"
                ))
                .await
                    > 0
            }
        };
        let mut first = None;
        let end = started + Duration::from_secs(10);
        while first.is_none() && tokio::time::Instant::now() < end {
            if waited_for("other.example").await {
                first = Some("other.example");
            } else if waited_for("third.example").await {
                first = Some("third.example");
            } else {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        tokio::time::sleep_until(started + READ_LOCK_WAIT * 4 / 5).await;
        let (first_tx, other_tx) = match first {
            Some("third.example") => (release_b_tx, release_a_tx),
            _ => (release_a_tx, release_b_tx),
        };
        first_tx.send(()).unwrap();
        done_rx.await.unwrap();
        other_tx.send(()).unwrap();
        first
    };
    let ((), (), (read, waited), first) = tokio::join!(block_a, block_b, reader, release);

    assert!(first.is_some(), "the reader waited for neither block");
    let err = read.expect_err("the reader got the verdicts while a block held one");
    assert!(is_lock_busy(&err), "not LockBusy: {err}");
    gave_up_at_the_bound(waited);
}

/// The confirmation of a person's handle (a follow's or a mention's WebFinger lookup, on a
/// request path) waits for the activities reading their handle host at most the bound: past
/// it, a retryable error (503), not a request hanging for as long as a reader lasts.
#[tokio::test]
async fn a_handle_confirmation_gives_up_retryably_while_a_reader_holds_the_handle_past_the_bound() {
    use cenacle_db::federation::{hold_person_standing_for_reading, READ_LOCK_WAIT};
    let w = World::new().await;
    let alice = w.remote_person(OTHER, "alice").await;
    let (held_tx, held_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();

    let actor_id = alice.ap_id.clone().unwrap();
    let reader = async {
        let actor_id = actor_id.as_str();
        w.act(|conn, _| {
            async move {
                hold_person_standing_for_reading(conn, actor_id).await?;
                held_tx.send(()).unwrap();
                release_rx.await.unwrap();
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let confirmation = async {
        held_rx.await.unwrap();
        let started = tokio::time::Instant::now();
        let alice = alice.id;
        let confirmed = tokio::time::timeout(
            READ_LOCK_WAIT * 5,
            w.act(|conn, ctx| {
                async move {
                    instance_moderation::handle_host_confirmed(
                        conn,
                        ctx,
                        alice,
                        Some("brand.example"),
                        chrono::Utc::now(),
                    )
                    .await
                }
                .scope_boxed()
            }),
        )
        .await;
        let waited = started.elapsed();
        release_tx.send(()).unwrap();
        (confirmed, waited)
    };
    let ((), (confirmed, waited)) = tokio::join!(reader, confirmation);

    let confirmed = confirmed.expect("the confirmation waited past five times the bound");
    let err = confirmed.expect_err("confirmed while a reader held the handle host");
    assert!(is_lock_busy(&err), "not LockBusy: {err}");
    assert!(err.is_overloaded(), "not answered as retryable: {err}");
    gave_up_at_the_bound(waited);
}

/// A person's Follow of our group, applied by the inbox, and the confirmation that their
/// handle names a blocked instance, in two transactions at once: the inbox read their handle
/// host (none yet) in its transaction, so the confirmation waits for the follow to commit and
/// drops it. Before, the inbox used the handle host its fetched actor carried, and nothing
/// held it: the confirmation committed first, dropping nothing, and the follow was kept.
#[tokio::test]
async fn a_handle_confirmed_while_an_activity_of_its_person_applies_drops_what_it_applied() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let alice = w.remote_person(OTHER, "alice").await;
    block(&w, &admin, "brand.example").await;
    let (read_tx, read_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    let activity = async {
        let (alice, group) = (&alice, &group);
        w.act(|conn, ctx| {
            async move {
                let signer = alice.ap_id.as_deref();
                let blocked =
                    instance_moderation::sender_blocked(conn, ctx, "other.example", signer).await?;
                assert_eq!(blocked, None, "her handle names no blocked host yet");
                read_tx.send(()).unwrap();
                go_rx.await.unwrap();
                let follow = "https://other.example/f/1";
                federation::receive_follow(conn, alice, &group.ap_id, follow)
                    .await
                    .map(|_| ())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let confirmation = async {
        read_rx.await.unwrap();
        let alice = alice.id;
        w.act(|conn, ctx| {
            async move {
                instance_moderation::handle_host_confirmed(
                    conn,
                    ctx,
                    alice,
                    Some("brand.example"),
                    chrono::Utc::now(),
                )
                .await
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let release = async {
        let waited = within(Duration::from_secs(10), || {
            someone_waits_on_an_advisory_lock(&w)
        })
        .await;
        go_tx.send(()).unwrap();
        waited
    };
    let ((), effects, waited) = tokio::join!(activity, confirmation, release);

    assert!(waited, "the confirmation did not wait for the activity");
    assert_eq!(
        effects.follows_dropped, 1,
        "the confirmation must find the follow the activity applied"
    );
    let mut conn = w.ctx.conn().await.unwrap();
    let followers = federation::count_followers(&mut conn, &group.ap_id)
        .await
        .unwrap();
    assert_eq!(followers, 0, "a blocked instance's person still follows");
}

async fn block(w: &World, admin: &cenacle_core::accounts::Session, host: &str) {
    w.act(|conn, ctx| {
        async move { instance_moderation::set_blocked(conn, ctx, admin, host, true).await }
            .scope_boxed()
    })
    .await
    .unwrap();
}

async fn execute(w: &World, sql: &str) {
    use diesel_async::SimpleAsyncConnection;
    let mut conn = w.ctx.conn().await.unwrap();
    conn.batch_execute(sql).await.unwrap();
}

/// Queues one activity to each of `inboxes` (all on other.example), as the outbox does.
async fn queue(w: &World, activity: &str, inboxes: &[&str]) {
    let targets: Vec<(String, String)> = inboxes
        .iter()
        .map(|i| ((*i).to_owned(), "other.example".to_owned()))
        .collect();
    let queued = w
        .act(|conn, _| {
            async move {
                Ok(cenacle_db::federation::enqueue_activity(
                    conn,
                    activity,
                    "http://localhost:8700/u/root",
                    "{}",
                    &targets,
                    None,
                )
                .await?)
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(queued, inboxes.len());
}

async fn queued_to(w: &World, inbox: &str) -> i64 {
    w.count(&format!("delivery WHERE inbox_url = '{inbox}'"))
        .await
}

/// What a block of the host people's handles name cancels of what is queued to their own
/// inbox, and what the delivery worker's claim refuses of what is queued there after it: an
/// inbox only blocked people use — their own, even when it is also their shared inbox; one
/// that several of them share — and not an inbox another person, or a group, uses too.
#[tokio::test]
async fn the_inboxes_of_blocked_people_alone_are_cancelled_and_refused_and_shared_ones_are_not() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let base = OTHER;
    let people = ["alice", "carol", "dora", "erin", "frank", "gina"];
    for name in people {
        w.remote_person(base, name).await;
    }
    w.remote_group(base, "jardin").await;
    let (alice, shared_by_two, erins, ginas) = (
        format!("{base}/u/alice/inbox"),
        format!("{base}/two/inbox"),
        format!("{base}/u/erin/inbox"),
        format!("{base}/c/jardin/inbox"),
    );
    // Everyone but frank is named by a handle at brand.example. Alice's server gives her own
    // inbox as her shared inbox too; carol and dora share one inbox; frank (not blocked) has
    // erin's inbox as his; gina has the group's.
    execute(
        &w,
        &format!(
            "UPDATE person SET handle_host = 'brand.example' \
               WHERE username IN ('alice', 'carol', 'dora', 'erin', 'gina'); \
             UPDATE person SET shared_inbox_url = inbox_url WHERE username = 'alice'; \
             UPDATE person SET inbox_url = '{shared_by_two}' WHERE username IN ('carol', 'dora'); \
             UPDATE person SET inbox_url = '{erins}' WHERE username = 'frank'; \
             UPDATE person SET inbox_url = '{ginas}' WHERE username = 'gina'"
        ),
    )
    .await;
    let inboxes = [
        alice.as_str(),
        shared_by_two.as_str(),
        erins.as_str(),
        ginas.as_str(),
    ];
    queue(&w, "http://localhost:8700/a/1", &inboxes).await;

    let admin = &admin;
    let effects = w
        .act(|conn, ctx| {
            async move {
                instance_moderation::set_blocked(conn, ctx, admin, "brand.example", true).await
            }
            .scope_boxed()
        })
        .await
        .unwrap();

    assert_eq!(effects.deliveries_cancelled, 2, "{effects:?}");
    assert_eq!(queued_to(&w, &alice).await, 0, "her own inbox");
    assert_eq!(
        queued_to(&w, &shared_by_two).await,
        0,
        "blocked people's alone"
    );
    assert_eq!(queued_to(&w, &erins).await, 1, "frank's inbox too");
    assert_eq!(queued_to(&w, &ginas).await, 1, "a group's inbox too");

    // Queued after the block (a mention or a follow racing with it): the claim says which
    // the worker must not send.
    queue(&w, "http://localhost:8700/a/2", &inboxes).await;
    let claimed = w
        .act(|conn, _| {
            async move { Ok(cenacle_db::federation::claim_deliveries(conn, 100, 60.0, 100).await?) }
                .scope_boxed()
        })
        .await
        .unwrap();
    let refused = |inbox: &str| {
        claimed
            .iter()
            .filter(|d| d.inbox_url == inbox)
            .map(|d| d.personal_inbox_blocked)
            .collect::<Vec<_>>()
    };
    assert_eq!(refused(&alice), [true]);
    assert_eq!(refused(&shared_by_two), [true]);
    assert_eq!(refused(&erins), [false, false]);
    assert_eq!(refused(&ginas), [false, false]);
}

/// A handle confirmed to name a blocked host after the block undoes for its person what the
/// block would have — their follow, what is queued to their own inbox, what their like
/// counted — and nothing of a bystander's on the same server.
#[tokio::test]
async fn a_handle_confirmed_after_the_block_undoes_its_persons_follows_deliveries_and_votes() {
    use cenacle_core::{model::VoteTarget, votes, Caller};
    use cenacle_domain::content::{PostKind, Vote};
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let question = w.post(&marie, &group, PostKind::Question, "Q ?").await;
    let rep0 = w.reputation(marie.person_id).await;
    let alice = w.remote_person(OTHER, "alice").await;
    let bob = w.remote_person(OTHER, "bob").await;
    for (n, person) in [&alice, &bob].into_iter().enumerate() {
        let (group, voter) = (&group, Caller::remote(person.id));
        let follow = format!("https://other.example/f/{n}");
        let question = question.id;
        w.act(|conn, ctx| {
            async move {
                federation::receive_follow(conn, person, &group.ap_id, &follow).await?;
                let target = VoteTarget::Post(question);
                votes::vote(conn, ctx, &voter, target, Some(Vote::Like), None).await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    }
    let (alices, bobs) = (
        format!("{OTHER}/u/alice/inbox"),
        format!("{OTHER}/u/bob/inbox"),
    );
    queue(
        &w,
        "http://localhost:8700/a/1",
        &[alices.as_str(), bobs.as_str()],
    )
    .await;
    let liked = w.reputation(marie.person_id).await;
    assert!(liked > rep0);
    block(&w, &admin, "brand.example").await;

    let alice_id = alice.id;
    let effects = w
        .act(|conn, ctx| {
            async move {
                instance_moderation::handle_host_confirmed(
                    conn,
                    ctx,
                    alice_id,
                    Some("brand.example"),
                    chrono::Utc::now(),
                )
                .await
            }
            .scope_boxed()
        })
        .await
        .unwrap();

    assert_eq!(effects.follows_dropped, 1, "{effects:?}");
    assert_eq!(effects.deliveries_cancelled, 1, "{effects:?}");
    assert_eq!(queued_to(&w, &alices).await, 0);
    assert_eq!(queued_to(&w, &bobs).await, 1, "the bystander's delivery");
    let mut conn = w.ctx.conn().await.unwrap();
    let followers = federation::count_followers(&mut conn, &group.ap_id)
        .await
        .unwrap();
    assert_eq!(followers, 1, "the bystander's follow");
    drop(conn);
    assert_eq!(
        w.post_now(question.id).await.likes,
        1,
        "only bob's like counts"
    );
    assert_eq!(
        w.reputation(marie.person_id).await - rep0,
        (liked - rep0) / 2,
        "what alice's like earned is taken back, bob's is not"
    );
}

/// The two bans that remove a person's content: from the whole instance, or from one group.
#[derive(Clone, Copy)]
enum BanWithRemoval {
    Instance,
    Group,
    /// A group ban a remote moderator of the group sends, a `Block` through our inbox: its
    /// signer's standing already held when it waits for the banned person's.
    InboundGroup,
}

/// How a person's post reaches us.
#[derive(Clone, Copy)]
enum Via {
    /// An activity sent and signed by them.
    Signed,
    /// An activity carried by a group's `Announce`, signed by the group.
    Announced,
    /// Written by a member of ours, through the use case the API and the pages call.
    Ours,
}

/// The person a ban races: one of another server, or a member of ours.
enum Banned {
    Remote(Box<cenacle_core::model::PersonActor>),
    Ours(Caller),
}

impl Banned {
    fn person_id(&self) -> i64 {
        match self {
            Banned::Remote(person) => person.id,
            Banned::Ours(caller) => caller.person_id,
        }
    }

    /// How an admin names them to ban them from the instance.
    fn named(&self) -> String {
        match self {
            Banned::Remote(person) => person.ap_id.clone().unwrap(),
            Banned::Ours(_) => "bob".into(),
        }
    }
}

/// Bob's post in `group`, applied (not committed) in the transaction `conn`, as it reaches us
/// `via`; their standing is read first, "not banned", as the inbox or the use case reads it.
async fn write_post(
    conn: &mut cenacle_core::Conn,
    ctx: &cenacle_core::Context,
    bob: &Banned,
    group: &cenacle_core::model::Group,
    via: Via,
) -> Result<i64, cenacle_core::CoreError> {
    let bob = match (bob, via) {
        (Banned::Ours(caller), Via::Ours) => {
            let input = cenacle_core::posts::PostInput {
                kind: PostKind::Question,
                title: "Avant le ban".into(),
                body: "Le corps".into(),
                tags: vec![],
                language: None,
                attachments: vec![],
                remote_attachments: vec![],
            };
            let post = cenacle_core::posts::create_post(conn, ctx, caller, group, input, None);
            return Ok(post.await?.id);
        }
        (Banned::Remote(bob), Via::Signed | Via::Announced) => bob,
        _ => unreachable!("a member of ours writes through the use case, others through the inbox"),
    };
    let bob_id = bob.ap_id.as_deref().unwrap();
    // Signed by bob, or by a group of another server announcing it.
    let (signer_id, signer, announced) = match via {
        Via::Announced => ("https://other.example/c/club", None, Some(bob_id)),
        _ => (bob_id, Some(bob_id), None),
    };
    let kept_out = instance_moderation::activity_kept_out(
        conn,
        ctx,
        "other.example",
        signer_id,
        signer,
        announced,
    )
    .await?;
    assert!(kept_out.is_none(), "bob is not banned yet: {kept_out:?}");
    let page = common::page(
        bob,
        "https://other.example/p/1",
        &group.ap_id,
        PostKind::Question,
        "Avant le ban",
    );
    match inbound::create(conn, ctx, bob, &page).await? {
        Outcome::AppliedInOurGroup {
            new_post: Some(post),
            ..
        } => Ok(post.id),
        // Stored, waiting for a moderator (the group holds new posts).
        Outcome::HeldForApproval { post_id } => Ok(post_id),
        applied => panic!("bob's post was not applied: {applied:?}"),
    }
}

/// A person's post, applied by the inbox or written by the API's use case, and a ban with
/// removal of their content, in two transactions at once: the post's transaction read their
/// standing ("not banned") and wrote the post, but has not committed yet. The ban waits for
/// it and removes the post. Before, nothing held the person's standing: the ban committed
/// first, its removal not seeing the uncommitted post, and the post committed after it
/// stayed, live, from a person banned with their content.
async fn ban_races_a_post(kind: BanWithRemoval, via: Via) {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let bob = match via {
        Via::Ours => Banned::Ours(Caller::from(&w.member("bob", Role::Member).await)),
        Via::Signed | Via::Announced => {
            Banned::Remote(Box::new(w.remote_person(OTHER, "bob").await))
        }
    };
    let moderator = match kind {
        BanWithRemoval::InboundGroup => Some(remote_moderator(&w, &admin, &group, "mod").await),
        BanWithRemoval::Instance | BanWithRemoval::Group => None,
    };
    let (applied_tx, applied_rx) = oneshot::channel::<i64>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    let activity = async {
        let (bob, group) = (&bob, &group);
        w.act(|conn, ctx| {
            async move {
                let post = write_post(conn, ctx, bob, group, via).await?;
                applied_tx.send(post).unwrap();
                go_rx.await.unwrap();
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let ban = async {
        let post = applied_rx.await.unwrap();
        match kind {
            BanWithRemoval::Instance => {
                w.ban_from_instance(&admin, &bob.named()).await;
            }
            BanWithRemoval::Group => {
                let (admin, group, bob) = (&admin, &group, &bob);
                w.act(|conn, _| {
                    async move {
                        let terms = group_bans::BanTerms {
                            reason: "Spam".into(),
                            expires_at: None,
                            remove_data: true,
                        };
                        let caller = Caller::from(admin);
                        let bob = bob.person_id();
                        group_bans::ban(conn, &caller, &group.name, bob, &terms).await
                    }
                    .scope_boxed()
                })
                .await
                .unwrap();
            }
            BanWithRemoval::InboundGroup => {
                let (moderator, group) = (moderator.as_ref().unwrap(), &group);
                let bob = bob.person_id();
                let applied = w
                    .act(|conn, ctx| {
                        async move { inbound_ban(conn, ctx, moderator, group, bob, None).await }
                            .scope_boxed()
                    })
                    .await
                    .unwrap();
                assert_eq!(
                    applied,
                    Ok(()),
                    "the listed moderator's ban was not applied"
                );
            }
        }
        post
    };
    let release = async {
        let waited = within(Duration::from_secs(10), || {
            someone_waits_on_an_advisory_lock(&w)
        })
        .await;
        go_tx.send(()).unwrap();
        waited
    };
    let ((), post, waited) = tokio::join!(activity, ban, release);

    assert!(
        w.post_now(post).await.removed_at.is_some(),
        "the post a banned person's activity applied is still up after a ban with removal"
    );
    assert!(
        waited,
        "the ban did not wait for the activity of its person"
    );
}

#[tokio::test]
async fn an_instance_ban_with_removal_waits_for_an_activity_of_its_person_and_removes_its_post() {
    ban_races_a_post(BanWithRemoval::Instance, Via::Signed).await;
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_an_activity_of_its_person_and_removes_its_post() {
    ban_races_a_post(BanWithRemoval::Group, Via::Signed).await;
}

#[tokio::test]
async fn an_instance_ban_with_removal_waits_for_an_announced_activity_of_its_person() {
    ban_races_a_post(BanWithRemoval::Instance, Via::Announced).await;
}

#[tokio::test]
async fn an_instance_ban_with_removal_waits_for_a_post_of_a_member_of_ours_and_removes_it() {
    ban_races_a_post(BanWithRemoval::Instance, Via::Ours).await;
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_a_post_of_a_member_of_ours_and_removes_it() {
    ban_races_a_post(BanWithRemoval::Group, Via::Ours).await;
}

/// The other order: a member of ours whose request authenticated before their instance ban
/// committed writes after it. Their session was good when the request began, so only the use
/// case's own read of the ban refuses the post.
#[tokio::test]
async fn a_post_of_a_member_of_ours_after_their_instance_ban_is_refused() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let bob = Banned::Ours(Caller::from(&w.member("bob", Role::Member).await));
    w.ban_from_instance(&admin, &bob.named()).await;

    let (bob, group) = (&bob, &group);
    let written = w
        .act(|conn, ctx| {
            async move { write_post(conn, ctx, bob, group, Via::Ours).await }.scope_boxed()
        })
        .await;
    assert!(
        matches!(written, Err(cenacle_core::CoreError::BannedFromInstance)),
        "a member banned from the instance wrote: {written:?}"
    );
}

/// A remote person listed as a moderator of our group `group` (owned by `owner`), as a
/// moderator of ours names them.
async fn remote_moderator(
    w: &World,
    owner: &cenacle_core::accounts::Session,
    group: &cenacle_core::model::Group,
    name: &str,
) -> cenacle_core::model::PersonActor {
    use cenacle_domain::content::GroupRole;
    let moderator = w.remote_person(OTHER, name).await;
    let (owner, id) = (Caller::from(owner), moderator.id);
    w.act(|conn, _| {
        async move {
            cenacle_core::moderation::set_member_role(
                conn,
                &owner,
                &group.name,
                id,
                GroupRole::Moderator,
            )
            .await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    moderator
}

/// The inbox's transaction of `moderator`'s `Block` (with removal) of `person_id` from our
/// group `group`, as `activities::reports_and_bans::apply_block` applies it: the signer's
/// standing and bans read first (`activity_kept_out`), then the ban through the use case.
/// `between`, if any: the first is told once the signer's standing is held, and the ban waits
/// for the second before it starts.
async fn inbound_ban(
    conn: &mut cenacle_core::Conn,
    ctx: &cenacle_core::Context,
    moderator: &cenacle_core::model::PersonActor,
    group: &cenacle_core::model::Group,
    person_id: i64,
    between: Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>,
) -> Result<Result<(), &'static str>, cenacle_core::CoreError> {
    let signer = moderator.ap_id.as_deref().unwrap();
    let kept_out = instance_moderation::activity_kept_out(
        conn,
        ctx,
        "other.example",
        signer,
        Some(signer),
        None,
    )
    .await?;
    assert!(
        kept_out.is_none(),
        "the moderator is kept out: {kept_out:?}"
    );
    if let Some((held, go)) = between {
        held.send(()).unwrap();
        go.await.unwrap();
    }
    let terms = group_bans::BanTerms {
        reason: "Spam".into(),
        expires_at: None,
        remove_data: true,
    };
    let block = format!("{signer}/block/{person_id}");
    group_bans::receive_block(conn, moderator, group, person_id, &terms, &block).await
}

/// A remote moderator's `Block` of bob with removal, arriving at our inbox, and bob's post,
/// applied by the inbox, in two transactions at once: bob's read "not banned" and wrote the
/// post, uncommitted. The inbound ban, its signer's standing already held, waits for bob's
/// transaction and removes the post.
#[tokio::test]
async fn an_inbound_group_ban_with_removal_waits_for_an_activity_of_its_person_and_removes_its_post(
) {
    ban_races_a_post(BanWithRemoval::InboundGroup, Via::Signed).await;
}

/// Two remote moderators, each of one group of ours, ban each other from their group at
/// once, each `Block` through the inbox: each transaction holds its signer's standing, then
/// waits to change the other's. A real deadlock: PostgreSQL breaks it, rolling one back with
/// an error read as a transient conflict (`CoreError::is_transient_conflict`, which the inbox
/// answers 503 with `Retry-After`, for the peer to send again), and the other ban goes through.
#[tokio::test]
async fn two_moderators_banning_each_other_through_the_inbox_deadlock_retryably() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    let forum = w.group(&admin, "forum").await;
    let ana = remote_moderator(&w, &admin, &agora, "ana").await;
    let max = remote_moderator(&w, &admin, &forum, "max").await;
    let (ana_held_tx, ana_held_rx) = oneshot::channel::<()>();
    let (max_held_tx, max_held_rx) = oneshot::channel::<()>();
    let (ana_go_tx, ana_go_rx) = oneshot::channel::<()>();
    let (max_go_tx, max_go_rx) = oneshot::channel::<()>();

    let ban = |moderator, group, person_id, held_go| {
        let w = &w;
        async move {
            w.act(|conn, ctx| {
                async move { inbound_ban(conn, ctx, moderator, group, person_id, held_go).await }
                    .scope_boxed()
            })
            .await
        }
    };
    // Ana bans max from agora, max bans ana from forum; neither asks for the other's standing
    // before both hold their own.
    let ana_bans_max = ban(&ana, &agora, max.id, Some((ana_held_tx, ana_go_rx)));
    let max_bans_ana = ban(&max, &forum, ana.id, Some((max_held_tx, max_go_rx)));
    let both_held = async {
        ana_held_rx.await.unwrap();
        max_held_rx.await.unwrap();
        ana_go_tx.send(()).unwrap();
        max_go_tx.send(()).unwrap();
    };
    let (by_ana, by_max, ()) = tokio::join!(ana_bans_max, max_bans_ana, both_held);

    let (applied, broken) = match (by_ana, by_max) {
        (Ok(applied), Err(broken)) | (Err(broken), Ok(applied)) => (applied, broken),
        other => panic!("not one ban applied and one broken: {other:?}"),
    };
    assert_eq!(applied, Ok(()), "the ban left standing was refused");
    assert!(
        broken.is_transient_conflict(),
        "the broken ban is not answered as retryable: {broken}"
    );
    assert_eq!(
        w.count("group_ban").await,
        1,
        "the broken ban wrote something"
    );
}

/// Bob's post, relayed by a group elsewhere under ann's reply (fetched with it: we lacked it),
/// and an instance ban of bob with removal, in two transactions at once: the relay's
/// transaction read bob's standing ("not banned") and stored his post, uncommitted. The ban
/// waits for it and removes the post. Before, only the reply's author was held and read: the
/// ban committed first, its removal not seeing bob's post, which then stayed up.
#[tokio::test]
async fn an_instance_ban_with_removal_waits_for_a_relayed_reply_storing_its_persons_post() {
    use common::{page, reply};
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let club = w.remote_group(OTHER, "club").await;
    let bob = w.remote_person(OTHER, "bob").await;
    let ann = w.remote_person(OTHER, "ann").await;
    let root = page(
        &bob,
        "https://other.example/p/1",
        &club.ap_id,
        PostKind::Question,
        "Avant le ban",
    );
    let note = reply(
        &ann,
        "https://other.example/c/1",
        &root.ap_id,
        &club.ap_id,
        "Réponse",
    );
    let (applied_tx, applied_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    let relay = async {
        let (club, ann, note) = (&club, &ann, &note);
        let parents = [(root.clone(), bob.clone())];
        w.act(|conn, ctx| {
            async move {
                let announced = ann.ap_id.as_deref();
                let kept_out = instance_moderation::activity_kept_out(
                    conn,
                    ctx,
                    "other.example",
                    &club.ap_id,
                    None,
                    announced,
                )
                .await?;
                assert!(kept_out.is_none(), "ann is not banned: {kept_out:?}");
                let outcome =
                    inbound::announced_create(conn, ctx, club, ann, note, &parents).await?;
                assert!(matches!(outcome, Outcome::Applied), "{outcome:?}");
                applied_tx.send(()).unwrap();
                go_rx.await.unwrap();
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let ban = async {
        applied_rx.await.unwrap();
        w.ban_from_instance(&admin, bob.ap_id.as_deref().unwrap())
            .await
    };
    let release = async {
        let waited = within(Duration::from_secs(10), || {
            someone_waits_on_an_advisory_lock(&w)
        })
        .await;
        go_tx.send(()).unwrap();
        waited
    };
    let ((), _, waited) = tokio::join!(relay, ban, release);

    let bobs_post_up = format!("post WHERE ap_id = '{}' AND removed_at IS NULL", root.ap_id);
    assert_eq!(w.count("post").await, 1, "bob's post was not stored");
    assert_eq!(
        w.count(&bobs_post_up).await,
        0,
        "the post a relayed reply stored is still up after its author's ban with removal"
    );
    assert!(
        waited,
        "the ban did not wait for the relay storing its person's post"
    );
}

/// `admin` (who owns `group`) bans `person_id` from it with removal of their content, in a
/// transaction of its own.
async fn ban_from_group_with_removal(
    w: &World,
    admin: &cenacle_core::accounts::Session,
    group: &cenacle_core::model::Group,
    person_id: i64,
) {
    w.act(|conn, _| {
        async move {
            let caller = Caller::from(admin);
            group_bans::ban(conn, &caller, &group.name, person_id, &spam_ban(true)).await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
}

/// A ban for spam, for good, removing what its person wrote in the group when `remove_data`.
fn spam_ban(remove_data: bool) -> group_bans::BanTerms {
    group_bans::BanTerms {
        reason: "Spam".into(),
        expires_at: None,
        remove_data,
    }
}

/// `admin` (who owns `group`) bans `person_id` from it, in a transaction of its own kept open
/// once the ban is written: says so on `banned`, and commits when `commit` fires.
async fn ban_written_until(
    w: &World,
    admin: &cenacle_core::accounts::Session,
    group: &cenacle_core::model::Group,
    person_id: i64,
    terms: group_bans::BanTerms,
    banned: oneshot::Sender<()>,
    commit: oneshot::Receiver<()>,
) {
    w.act(|conn, _| {
        async move {
            let caller = Caller::from(admin);
            group_bans::ban(conn, &caller, &group.name, person_id, &terms).await?;
            banned.send(()).unwrap();
            commit.await.unwrap();
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .unwrap()
}

/// Fires `go` once a backend waits on an advisory lock, or after a deadline; whether one
/// waited.
async fn go_once_someone_waits(w: &World, go: oneshot::Sender<()>) -> bool {
    go_once_someone_waits_on(w, ADVISORY, go).await
}

/// Fires `go` once a backend waits on a lock of the kinds `waits`, or after a deadline;
/// whether one waited.
async fn go_once_someone_waits_on(w: &World, waits: &str, go: oneshot::Sender<()>) -> bool {
    let waited = within(Duration::from_secs(10), || someone_waits_on(w, waits)).await;
    go.send(()).unwrap();
    waited
}

/// The post as stored now, held or not (`World::post_now` reads published ones).
async fn stored(w: &World, id: i64) -> cenacle_core::model::Post {
    let mut conn = w.ctx.conn().await.unwrap();
    cenacle_db::content::post_by_id(&mut conn, id)
        .await
        .unwrap()
        .unwrap()
}

/// Bob, as `via` has him write: a member of ours, or a person of another server.
async fn bob_via(w: &World, via: Via) -> Banned {
    match via {
        Via::Ours => Banned::Ours(Caller::from(&w.member("bob", Role::Member).await)),
        Via::Signed | Via::Announced => {
            Banned::Remote(Box::new(w.remote_person(OTHER, "bob").await))
        }
    }
}

/// Bob's post in `group`, committed (its transaction of its own), as it reaches us `via`.
async fn bobs_post(w: &World, bob: &Banned, group: &cenacle_core::model::Group, via: Via) -> i64 {
    w.act(|conn, ctx| async move { write_post(conn, ctx, bob, group, via).await }.scope_boxed())
        .await
        .unwrap()
}

/// A member of ours, `name`, made an active champion of `groups` who accepted the current
/// charter (written as the programme leaves it: the lifecycle is not what is raced here; a
/// charter is written when there is none, so that champions made one after the other all
/// hold the current one).
async fn champion(w: &World, name: &str, groups: &[&cenacle_core::model::Group]) -> Caller {
    let caller = Caller::from(&w.member(name, Role::Member).await);
    let id = caller.person_id;
    let mut sql = format!(
        "INSERT INTO champion_charter (version, text_en, text_fr) \
           SELECT 1, 'Charter', 'Charte' WHERE NOT EXISTS (SELECT 1 FROM champion_charter); \
         INSERT INTO champion (person_id, status, charter_version, charter_accepted_at, \
             active_since) \
           SELECT {id}, 'active', MAX(version), now(), now() FROM champion_charter;"
    );
    for group in groups {
        sql.push_str(&format!(
            " INSERT INTO champion_group (person_id, group_id) VALUES ({id}, {});",
            group.id
        ));
    }
    execute(w, &sql).await;
    caller
}

/// What of a person's the move of bob's post from agora into forum brings into forum.
#[derive(Clone, Copy, Debug)]
enum Moved {
    /// Bob's post: the person is its author.
    Post,
    /// Carol's comment on it: the person is carol, a member of ours.
    Comment,
}

/// Bob's post in agora, as it reaches us `via`, and carol's comment on it (both committed):
/// the post, carol and her comment.
async fn commented_post(
    w: &World,
    bob: &Banned,
    agora: &cenacle_core::model::Group,
    via: Via,
) -> (i64, Caller, i64) {
    let post = bobs_post(w, bob, agora, via).await;
    let carol = Caller::from(&w.member("carol", Role::Member).await);
    let comment = w
        .answer(&carol, &w.post_now(post).await, "Avant le ban")
        .await;
    (post, carol, comment.id)
}

/// Whether `moved` (the post `post`, or the comment `comment` on it) is removed: its removal's
/// reason if so.
async fn moved_removal(w: &World, moved: Moved, post: i64, comment: i64) -> Option<String> {
    let (removed_at, reason) = match moved {
        Moved::Post => {
            let post = w.post_now(post).await;
            (post.removed_at, post.removal_reason)
        }
        Moved::Comment => {
            let comment = w.comment_now(comment).await;
            (comment.removed_at, comment.removal_reason)
        }
    };
    removed_at.map(|_| reason.unwrap_or_default())
}

/// A champion's move of bob's post from agora into forum, and the ban from forum with removal
/// of their content of the person whose `moved` content it brings there (bob, its author, or
/// carol, who commented on it), in two transactions at once: the move read their bans ("not
/// banned" from forum, under bob's standing and forum's lock against bans with removal) and
/// moved the post, uncommitted. The ban waits for the move and
/// then finds the post (and its comments) in forum and removes what they wrote, with the ban's
/// reason. Without the move's hold of bob's standing (for his post) or of forum's bans with
/// removal (for carol's comment, her standing not held by the move), the ban's removal,
/// reading forum before the move committed, missed it (still in agora for it), and what the
/// move committed into forum after the ban stayed up there.
async fn ban_races_a_move(via: Via, moved: Moved) {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    let forum = w.group(&admin, "forum").await;
    let bob = bob_via(&w, via).await;
    let (post, carol, comment) = commented_post(&w, &bob, &agora, via).await;
    let banned = match moved {
        Moved::Post => bob.person_id(),
        Moved::Comment => carol.person_id,
    };
    let ann = champion(&w, "ann", &[&agora, &forum]).await;
    let (moved_tx, moved_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    let mover = async {
        let ann = &ann;
        w.act(|conn, _| {
            async move {
                let moved = cenacle_core::champions::tool_move(conn, ann, post, "forum").await?;
                assert_eq!(moved.group_id, forum.id);
                moved_tx.send(()).unwrap();
                go_rx.await.unwrap();
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let ban = async {
        moved_rx.await.unwrap();
        ban_from_group_with_removal(&w, &admin, &forum, banned).await;
    };
    let release = go_once_someone_waits(&w, go_tx);
    let ((), (), waited) = tokio::join!(mover, ban, release);

    assert_eq!(
        w.post_now(post).await.group_id,
        forum.id,
        "the move did not commit"
    );
    assert_eq!(
        moved_removal(&w, moved, post, comment).await.as_deref(),
        Some("Spam"),
        "the {moved:?} moved into forum is up there after its author's ban with removal from it \
         (or removed with another reason than the ban's)"
    );
    assert!(
        waited,
        "the ban did not wait for the move bringing its person's {moved:?} into the group"
    );
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_a_move_of_its_persons_post_into_the_group() {
    ban_races_a_move(Via::Ours, Moved::Post).await;
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_a_move_of_a_remote_persons_post_into_the_group() {
    ban_races_a_move(Via::Signed, Moved::Post).await;
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_a_move_bringing_its_persons_comment_into_the_group() {
    ban_races_a_move(Via::Ours, Moved::Comment).await;
}

/// The other order: carol's ban from forum with removal of her content is being written,
/// uncommitted, when a champion moves bob's post, which carol commented on, from agora into
/// forum. The move waits for the ban (on forum's bans with removal), then sees it and removes
/// her comment with the move, with the ban's reason. Without that hold in the move and the ban,
/// the move read "not banned" and moved her comment into forum, and the ban's removal, having
/// read forum before the move committed, never took it down.
#[tokio::test]
async fn a_move_while_a_commenters_ban_from_the_destination_is_written_waits_and_removes_the_comment(
) {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    let forum = w.group(&admin, "forum").await;
    let bob = bob_via(&w, Via::Ours).await;
    let (post, carol, comment) = commented_post(&w, &bob, &agora, Via::Ours).await;
    let ann = champion(&w, "ann", &[&agora, &forum]).await;
    let (banned_tx, banned_rx) = oneshot::channel::<()>();
    let (commit_tx, commit_rx) = oneshot::channel::<()>();

    let ban = ban_written_until(
        &w,
        &admin,
        &forum,
        carol.person_id,
        spam_ban(true),
        banned_tx,
        commit_rx,
    );
    let mover = async {
        banned_rx.await.unwrap();
        let ann = &ann;
        w.act(|conn, _| {
            async move { cenacle_core::champions::tool_move(conn, ann, post, "forum").await }
                .scope_boxed()
        })
        .await
        .unwrap()
    };
    let release = go_once_someone_waits(&w, commit_tx);
    let ((), moved, waited) = tokio::join!(ban, mover, release);

    assert_eq!(moved.group_id, forum.id, "the move did not commit");
    assert_eq!(
        moved_removal(&w, Moved::Comment, post, comment)
            .await
            .as_deref(),
        Some("Spam"),
        "the comment moved into forum is up there after its author's ban with removal from it \
         (or removed with another reason than the ban's)"
    );
    assert!(
        waited,
        "the move did not wait for the ban of a commenter being written"
    );
}

/// Bob's post in agora; carol, banned from forum with removal of her content; ann, a
/// champion of both groups (all committed).
struct ReplyAndMove {
    w: World,
    /// The owner of both groups (a moderator of both).
    root: Caller,
    agora: i64,
    forum: i64,
    post: i64,
    bob: Caller,
    carol: Caller,
    ann: Caller,
}

async fn reply_and_move() -> ReplyAndMove {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    let forum = w.group(&admin, "forum").await;
    let bob = bob_via(&w, Via::Ours).await;
    let post = bobs_post(&w, &bob, &agora, Via::Ours).await;
    let carol = Caller::from(&w.member("carol", Role::Member).await);
    ban_from_group_with_removal(&w, &admin, &forum, carol.person_id).await;
    let ann = champion(&w, "ann", &[&agora, &forum]).await;
    let Banned::Ours(bob) = bob else {
        unreachable!("bob is a member of ours")
    };
    ReplyAndMove {
        w,
        root: Caller::from(&admin),
        agora: agora.id,
        forum: forum.id,
        post,
        bob,
        carol,
        ann,
    }
}

/// Dave likes bob's question while ann's move of it into forum is written: the vote waits (on
/// the post's row), then is cast in forum, and what bob earns by it is recorded there, where
/// the move took the post's rewards. Before, it was recorded in agora, the group the vote
/// read before the lock.
#[tokio::test]
async fn a_like_while_a_move_is_written_earns_in_the_new_group() {
    let s = reply_and_move().await;
    let dave = Caller::from(&s.w.member("dave", Role::Member).await);
    let (dave, post) = (&dave, s.post);
    let (moved, liked, waited) = while_moving(&s, post, |conn, ctx| {
        async move {
            let like = Some(cenacle_domain::content::Vote::Like);
            let target = cenacle_db::content::VoteTarget::Post(post);
            cenacle_core::votes::vote(conn, ctx, dave, target, like, None).await
        }
        .scope_boxed()
    })
    .await;
    liked.unwrap();

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert_eq!(
        s.w.count(&format!("reputation_event WHERE group_id = {}", s.agora))
            .await,
        0,
        "the like earned in agora, which the post had left"
    );
    assert!(
        s.w.count(&format!(
            "reputation_event WHERE group_id = {} AND person_id = {}",
            s.forum, s.bob.person_id
        ))
        .await
            > 0,
        "the like earned bob nothing in forum"
    );
    assert!(waited, "the like did not wait for the move being written");
}

/// `acceptor` accepts dave's answer to bob's question once ann's move of it into forum is
/// written, uncommitted: the move (committed once the acceptance waits, or after a deadline),
/// the acceptance's outcome, whether it waited, and the answer's id.
async fn accept_while_moving(
    s: &ReplyAndMove,
    acceptor: &Caller,
) -> (
    cenacle_core::model::Post,
    Result<cenacle_core::model::Post, cenacle_core::CoreError>,
    bool,
    i64,
) {
    let dave = Caller::from(&s.w.member("dave", Role::Member).await);
    let answer =
        s.w.answer(&dave, &s.w.post_now(s.post).await, "La réponse")
            .await
            .id;
    let post = s.post;
    let (moved, accepted, waited) = while_moving(s, post, |conn, ctx| {
        async move {
            cenacle_core::answers::accept_answer(conn, ctx, acceptor, post, Some(answer)).await
        }
        .scope_boxed()
    })
    .await;
    (moved, accepted, waited, answer)
}

/// Eve, who moderates agora only, accepts dave's answer to bob's question while ann's move of
/// it into forum is written: the acceptance waits (on the post's row, locked before it is
/// read), then reads the post in forum, where she moderates nothing, and is refused (403
/// `accept_answer`). Before the lock came first, it went through on agora's say in forum; then
/// it was refused 409 `post_moved` even for someone who moderates both groups.
#[tokio::test]
async fn a_moderators_acceptance_while_a_move_is_written_is_refused() {
    let s = reply_and_move().await;
    let eve = agora_moderator(&s).await;
    let (moved, accepted, waited, _) = accept_while_moving(&s, &eve).await;

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert!(
        matches!(
            accepted,
            Err(cenacle_core::CoreError::NotAllowed("accept_answer"))
        ),
        "an acceptance checked in the group the post left: {accepted:?}"
    );
    assert_eq!(s.w.post_now(s.post).await.accepted_comment_id, None);
    assert!(
        waited,
        "the acceptance did not wait for the move being written"
    );
}

/// Dave, banned from forum (not from agora), likes bob's question while ann's move of it into
/// forum is written: the vote waits (on the post's row), then finds the post in forum and is
/// refused there, and no vote is written. Before, it was checked against agora's bans alone.
#[tokio::test]
async fn a_like_while_a_move_into_a_group_its_voter_is_banned_from_is_written_is_refused() {
    let s = reply_and_move().await;
    let dave = Caller::from(&s.w.member("dave", Role::Member).await);
    let (root, banned) = (&s.root, dave.person_id);
    s.w.act(|conn, _| {
        async move { group_bans::ban(conn, root, "forum", banned, &spam_ban(false)).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let (dave, post) = (&dave, s.post);
    let (moved, liked, waited) = while_moving(&s, post, |conn, ctx| {
        async move {
            let like = Some(cenacle_domain::content::Vote::Like);
            let target = cenacle_db::content::VoteTarget::Post(post);
            cenacle_core::votes::vote(conn, ctx, dave, target, like, None).await
        }
        .scope_boxed()
    })
    .await;

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert!(
        matches!(
            liked,
            Err(cenacle_core::CoreError::ModerationRefused(
                ModerationRefusal::BannedFromGroup
            ))
        ),
        "a like on a post moved into a group its voter is banned from: {liked:?}"
    );
    assert_eq!(
        s.w.count(&format!("vote WHERE person_id = {banned}")).await,
        0,
        "the like was written in forum, which dave is banned from"
    );
    assert!(waited, "the like did not wait for the move being written");
}

/// Eve, who moderates agora only, wrote an idea there; while ann's move of it into forum is
/// written, she marks it done. The status waits (on the post's row, locked before it is read),
/// then reads the idea in forum, where she moderates nothing, and is refused (403
/// `change_idea_status`): an idea's status is for moderators alone (its author too only as
/// one). Before the lock came first, her authorship let it through; then it was refused 409
/// `post_moved` even for someone who moderates both groups.
#[tokio::test]
async fn an_idea_status_by_its_author_while_a_move_is_written_is_refused() {
    let s = reply_and_move().await;
    let eve = agora_moderator(&s).await;
    let (moved, status, waited, idea) = idea_done_while_moving(&s, &eve).await;

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert!(
        matches!(
            status,
            Err(cenacle_core::CoreError::NotAllowed("change_idea_status"))
        ),
        "an idea's status checked in the group the idea left: {status:?}"
    );
    assert_ne!(
        s.w.post_now(idea).await.idea_status.as_deref(),
        Some("done"),
        "the idea was marked done on agora's say"
    );
    assert!(waited, "the status did not wait for the move being written");
}

/// `author`, a moderator of agora, wrote an idea there and marks it done once ann's move of it
/// into forum is written, uncommitted: the move, the status's outcome, whether it waited, and
/// the idea's id.
async fn idea_done_while_moving(
    s: &ReplyAndMove,
    author: &Caller,
) -> (
    cenacle_core::model::Post,
    Result<cenacle_core::model::Post, cenacle_core::CoreError>,
    bool,
    i64,
) {
    let agora = {
        let mut conn = s.w.ctx.conn().await.unwrap();
        cenacle_db::actors::local_group_by_name(&mut conn, "agora")
            .await
            .unwrap()
            .unwrap()
    };
    let idea =
        s.w.post(author, &agora, PostKind::Idea, "Une idée")
            .await
            .id;
    let (moved, status, waited) = while_moving(s, idea, |conn, _| {
        async move {
            let done = cenacle_domain::content::IdeaStatus::Done;
            cenacle_core::ideas::change_idea_status(conn, author, idea, done, None, None).await
        }
        .scope_boxed()
    })
    .await;
    (moved, status, waited, idea)
}

/// Root moderates both groups (he made them). His idea in agora, marked done while ann's move
/// of it into forum is written, waits for the move and is marked done in forum, where he
/// moderates too. (Checked in the group the post left and compared after the lock, it was
/// refused 409 `post_moved`, whoever asked.)
#[tokio::test]
async fn an_idea_status_by_a_moderator_of_both_groups_while_a_move_is_written_goes_through() {
    let s = reply_and_move().await;
    let (moved, status, waited, idea) = idea_done_while_moving(&s, &s.root).await;

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert_eq!(
        status.expect("refused").idea_status.as_deref(),
        Some("done")
    );
    assert_eq!(
        s.w.post_now(idea).await.idea_status.as_deref(),
        Some("done")
    );
    assert!(waited, "the status did not wait for the move being written");
}

/// Root, who moderates both groups, accepts dave's answer while ann's move of bob's question
/// into forum is written: it waits for the move and is accepted in forum. (Refused 409
/// `post_moved` before the lock came first.)
#[tokio::test]
async fn an_acceptance_by_a_moderator_of_both_groups_while_a_move_is_written_goes_through() {
    let s = reply_and_move().await;
    let (moved, accepted, waited, answer) = accept_while_moving(&s, &s.root).await;

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert_eq!(accepted.expect("refused").accepted_comment_id, Some(answer));
    assert_eq!(s.w.post_now(s.post).await.accepted_comment_id, Some(answer));
    assert!(
        waited,
        "the acceptance did not wait for the move being written"
    );
}

/// Bob accepts dave's answer to his question while ann's move of it into forum is written:
/// the acceptance waits (on the post's row), and what it earns is recorded in forum, where the
/// move took the post's rewards. Before, it was recorded in agora, the group read before the
/// lock: forum's leaderboards missed it, and agora's counted it for a post it no longer has.
#[tokio::test]
async fn an_acceptance_while_a_move_is_written_earns_in_the_new_group() {
    let s = reply_and_move().await;
    let (moved, accepted, waited, answer) = accept_while_moving(&s, &s.bob).await;
    let accepted = accepted.unwrap();

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert_eq!(accepted.accepted_comment_id, Some(answer));
    assert_eq!(
        s.w.count(&format!("reputation_event WHERE group_id = {}", s.agora))
            .await,
        0,
        "the acceptance earned in agora, which the post had left"
    );
    assert!(
        s.w.count(&format!(
            "reputation_event WHERE group_id = {} AND cause IN ('answer_accepted', 'accepted_an_answer')",
            s.forum
        ))
        .await
            > 0,
        "the acceptance earned nothing in forum"
    );
    assert!(
        waited,
        "the acceptance did not wait for the move being written"
    );
}

/// Eve, named moderator of agora alone by its owner.
async fn agora_moderator(s: &ReplyAndMove) -> Caller {
    let eve = Caller::from(&s.w.member("eve", Role::Member).await);
    let (root, id) = (&s.root, eve.person_id);
    s.w.act(|conn, _| {
        async move {
            moderation::set_member_role(conn, root, "agora", id, GroupRole::Moderator).await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    eve
}

/// `action` (what it is: `what`) run while ann's move of bob's question into forum is written,
/// as [`while_moving`]: checks that the move committed and that the action waited for it; the
/// action's outcome.
async fn after_the_move<'a, R, F>(
    s: &'a ReplyAndMove,
    what: &str,
    action: F,
) -> Result<R, cenacle_core::CoreError>
where
    F: for<'r> FnOnce(
            &'r mut cenacle_core::Conn,
            &'a cenacle_core::Context,
        )
            -> cenacle_core::ScopedBoxFuture<'a, 'r, Result<R, cenacle_core::CoreError>>
        + Send
        + 'a,
    R: Send + 'a,
{
    let (moved, outcome, waited) = while_moving(s, s.post, action).await;
    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert!(waited, "{what} did not wait for the move being written");
    outcome
}

/// Eve, who moderates agora (not forum), edits bob's question while ann's move of it into
/// forum is written: the edit waits (on the post's row), then reads the post in forum, where
/// she has no right to edit others' posts, and is refused. Before, her right was read in agora
/// before the lock and the edit went through in forum.
#[tokio::test]
async fn a_moderators_edit_while_a_move_is_written_is_refused_in_the_new_group() {
    let s = reply_and_move().await;
    let eve = agora_moderator(&s).await;
    let (eve, post) = (&eve, s.post);
    let edited = after_the_move(&s, "the edit", |conn, ctx| {
        async move {
            let change = cenacle_core::posts::PostChange {
                title: Some("Réécrit par eve".into()),
                body: None,
                tags: None,
            };
            cenacle_core::posts::edit_post(conn, ctx, eve, post, change).await
        }
        .scope_boxed()
    })
    .await;

    // Not a moderator of forum: as any member there, below the reputation to edit others'.
    assert!(
        matches!(
            edited,
            Err(cenacle_core::CoreError::InsufficientReputation(_))
        ),
        "an edit checked in the group the post left: {edited:?}"
    );
    assert_ne!(s.w.post_now(post).await.title, "Réécrit par eve");
}

/// What eve deletes while the move of bob's question is written.
#[derive(Clone, Copy, Debug)]
enum Deleted {
    /// The question itself.
    Post,
    /// Dave's answer to it.
    Answer,
}

/// Eve, who moderates agora (not forum), deletes `what` while ann's move of bob's question
/// into forum is written: the deletion waits (on the post's row, locked before the rights are
/// read), then reads the post in forum, where eve may delete nothing of others', and is
/// refused; nothing is deleted. Before, her right was read in agora before the post's lock,
/// and the deletion went through in forum on it.
async fn a_moderators_deletion_while_a_move_is_written(what: Deleted) {
    let s = reply_and_move().await;
    let eve = agora_moderator(&s).await;
    let answer = match what {
        Deleted::Post => None,
        Deleted::Answer => {
            let dave = Caller::from(&s.w.member("dave", Role::Member).await);
            let question = s.w.post_now(s.post).await;
            Some(s.w.answer(&dave, &question, "La réponse").await.id)
        }
    };
    let (eve, post) = (&eve, s.post);
    let deleted = after_the_move(&s, "the deletion", |conn, ctx| {
        async move {
            match answer {
                None => cenacle_core::posts::delete_post(conn, eve, post).await,
                Some(answer) => {
                    cenacle_core::comments::delete_comment(conn, ctx, eve, answer).await
                }
            }
        }
        .scope_boxed()
    })
    .await;

    let refusal = match what {
        Deleted::Post => "delete_post",
        Deleted::Answer => "delete_comment",
    };
    assert!(
        matches!(deleted, Err(cenacle_core::CoreError::NotAllowed(r)) if r == refusal),
        "a deletion of the {what:?} checked in the group it left: {deleted:?}"
    );
    let deleted_at = match answer {
        None => s.w.post_now(post).await.deleted_at,
        Some(answer) => s.w.comment_now(answer).await.deleted_at,
    };
    assert_eq!(deleted_at, None, "the {what:?} was deleted on agora's say");
}

#[tokio::test]
async fn a_moderators_deletion_while_a_move_is_written_is_refused_in_the_new_group() {
    a_moderators_deletion_while_a_move_is_written(Deleted::Post).await;
}

#[tokio::test]
async fn a_moderators_deletion_of_an_answer_while_a_move_is_written_is_refused_in_the_new_group() {
    a_moderators_deletion_while_a_move_is_written(Deleted::Answer).await;
}

/// Eve, who moderates agora (not forum), removes bob's question while ann's move of it into
/// forum is written: the removal waits (on the post's row), then reads the post in forum,
/// whose moderators she is not one of, and is refused; nothing is logged. Before, it was
/// authorised in agora, then applied in forum.
#[tokio::test]
async fn a_moderators_removal_while_a_move_is_written_is_refused_in_the_new_group() {
    let s = reply_and_move().await;
    let eve = agora_moderator(&s).await;
    let (eve, post) = (&eve, s.post);
    let removed = after_the_move(&s, "the removal", |conn, _| {
        async move { moderation::remove_post(conn, eve, post, "Hors sujet").await }.scope_boxed()
    })
    .await;

    assert!(
        matches!(removed, Err(cenacle_core::CoreError::NotAllowed(_))),
        "a removal authorised in the group the post left: {removed:?}"
    );
    assert_eq!(s.w.post_now(post).await.removed_at, None);
    assert_eq!(
        s.w.count(&format!(
            "moderation_action WHERE moderator_id = {}",
            eve.person_id
        ))
        .await,
        0,
        "the refused removal was logged"
    );
}

/// A moderator of agora on another server deletes bob's question (a signed Delete to our
/// inbox) while ann's move of it into forum is written: the inbox holds the post before it
/// reads its group, waits for the move, and ignores the Delete (202, `post_moved`): that
/// person does not moderate forum, and lost a race rather than forged anything. Before, the
/// verdict was read in agora (and the deletion refused or applied on the use case's say).
#[tokio::test]
async fn a_remote_moderators_delete_while_a_move_is_written_is_ignored_in_the_new_group() {
    let s = reply_and_move().await;
    let agora = {
        let mut conn = s.w.ctx.conn().await.unwrap();
        cenacle_db::actors::local_group_by_name(&mut conn, "agora")
            .await
            .unwrap()
            .unwrap()
    };
    let admin = s.w.member("owner", Role::Admin).await;
    let yann = remote_moderator(&s.w, &admin, &agora, "yann").await;
    let ap_id = s.w.post_now(s.post).await.ap_id;
    let (yann, ap_id) = (&yann, ap_id.as_str());
    let outcome = after_the_move(&s, "the Delete", |conn, ctx| {
        async move { inbound::delete(conn, ctx, yann, ap_id).await }.scope_boxed()
    })
    .await;

    assert!(
        matches!(outcome, Ok(Outcome::Ignored("post_moved"))),
        "a Delete judged in the group the post left: {outcome:?}"
    );
    assert_eq!(s.w.post_now(s.post).await.deleted_at, None);
}

/// A person of another server replies to bob's question (a signed Create to our inbox) while
/// ann's move of it into forum is written: the reply waits (on the post's row), is written in
/// forum, and the inbox relays it through forum. Before, it was relayed through agora, the
/// group read before the reply held the post.
#[tokio::test]
async fn a_remote_reply_while_a_move_is_written_is_relayed_through_the_new_group() {
    let s = reply_and_move().await;
    let zoe = s.w.remote_person(OTHER, "zoe").await;
    let post_ap_id = s.w.post_now(s.post).await.ap_id;
    let mut note = common::page(
        &zoe,
        &format!("{OTHER}/note/1"),
        &post_ap_id,
        PostKind::Question,
        "",
    );
    note.in_reply_to = Some(post_ap_id.clone());
    let (zoe, note) = (&zoe, &note);
    let outcome = after_the_move(&s, "the reply", |conn, ctx| {
        async move { inbound::create(conn, ctx, zoe, note).await }.scope_boxed()
    })
    .await;

    match outcome {
        Ok(Outcome::AppliedInOurGroup { group, .. }) => assert_eq!(
            group.id, s.forum,
            "the reply is relayed through the group the post left"
        ),
        other => panic!("the reply was not applied in a group of ours: {other:?}"),
    }
}

/// Zed, a champion of agora alone, pins bob's question while ann's move of it into forum is
/// written: the pin waits (on the post's row), then reads the post in forum, which zed does
/// not champion, and is refused. Before, the championship was read in agora and the pin set
/// in forum.
#[tokio::test]
async fn a_champions_pin_while_a_move_is_written_is_refused_in_the_new_group() {
    let s = reply_and_move().await;
    let agora = {
        let mut conn = s.w.ctx.conn().await.unwrap();
        cenacle_db::actors::local_group_by_name(&mut conn, "agora")
            .await
            .unwrap()
            .unwrap()
    };
    let zed = champion(&s.w, "zed", &[&agora]).await;
    let (zed, post) = (&zed, s.post);
    let pinned = after_the_move(&s, "the pin", |conn, _| {
        async move { cenacle_core::champions::tool_pin(conn, zed, post, true).await }.scope_boxed()
    })
    .await;

    assert!(
        matches!(
            pinned,
            Err(cenacle_core::CoreError::Champion(
                cenacle_domain::champions::ChampionRefusal::NotTheirGroup
            ))
        ),
        "a pin checked in the group the post left: {pinned:?}"
    );
    assert!(!s.w.post_now(post).await.pinned, "the post was pinned");
}

/// A person of another server likes bob's question while ann's move of it into forum is
/// written: the like is cast in forum, and the inbox relays it through forum, the group the
/// post is in now. Before, it was relayed through agora, whose followers no longer see it.
#[tokio::test]
async fn a_remote_like_while_a_move_is_written_is_relayed_through_the_new_group() {
    let s = reply_and_move().await;
    let zoe = s.w.remote_person(OTHER, "zoe").await;
    let ap_id = s.w.post_now(s.post).await.ap_id;
    let (zoe, ap_id) = (&zoe, ap_id.as_str());
    let outcome = after_the_move(&s, "the like", |conn, ctx| {
        async move {
            let like = Some(cenacle_domain::content::Vote::Like);
            inbound::vote(conn, ctx, zoe, ap_id, like, &format!("{OTHER}/like/1")).await
        }
        .scope_boxed()
    })
    .await;

    match outcome {
        Ok(Outcome::AppliedInOurGroup { group, .. }) => assert_eq!(
            group.id, s.forum,
            "the like is relayed through the group the post left"
        ),
        other => panic!("the like was not applied in a group of ours: {other:?}"),
    }
}

/// `champion`'s move of `post` into the group `to`, in a transaction kept open once written:
/// says so on `moved`, and commits when `go` fires. The moved post.
async fn move_held(
    w: &World,
    champion: &Caller,
    post: i64,
    to: &str,
    moved: oneshot::Sender<()>,
    go: oneshot::Receiver<()>,
) -> cenacle_core::model::Post {
    w.act(|conn, _| {
        async move {
            let post = cenacle_core::champions::tool_move(conn, champion, post, to).await?;
            moved.send(()).unwrap();
            go.await.unwrap();
            Ok(post)
        }
        .scope_boxed()
    })
    .await
    .unwrap()
}

/// Ann's move of `post` into forum, written and held uncommitted while `action` runs in a
/// transaction of its own (as `World::act`); the move commits once someone waits on a row's
/// lock, or after a deadline. The move, the action's outcome, and whether someone waited.
async fn while_moving<'a, R, F>(
    s: &'a ReplyAndMove,
    post: i64,
    action: F,
) -> (
    cenacle_core::model::Post,
    Result<R, cenacle_core::CoreError>,
    bool,
)
where
    F: for<'r> FnOnce(
            &'r mut cenacle_core::Conn,
            &'a cenacle_core::Context,
        )
            -> cenacle_core::ScopedBoxFuture<'a, 'r, Result<R, cenacle_core::CoreError>>
        + Send
        + 'a,
    R: Send + 'a,
{
    while_moving_until(s, post, ROW, action).await
}

/// [`while_moving`], the move committing once someone waits on a lock of the kinds `waits`.
async fn while_moving_until<'a, R, F>(
    s: &'a ReplyAndMove,
    post: i64,
    waits: &str,
    action: F,
) -> (
    cenacle_core::model::Post,
    Result<R, cenacle_core::CoreError>,
    bool,
)
where
    F: for<'r> FnOnce(
            &'r mut cenacle_core::Conn,
            &'a cenacle_core::Context,
        )
            -> cenacle_core::ScopedBoxFuture<'a, 'r, Result<R, cenacle_core::CoreError>>
        + Send
        + 'a,
    R: Send + 'a,
{
    let (moved_tx, moved_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let mover = move_held(&s.w, &s.ann, post, "forum", moved_tx, go_rx);
    let act = async {
        moved_rx.await.unwrap();
        s.w.act(action).await
    };
    let release = go_once_someone_waits_on(&s.w, waits, go_tx);
    tokio::join!(mover, act, release)
}

/// Ann sends the same move twice (a double click, a resend): the second, started while the
/// first is written, waits (on forum's hold against bans with removal, then the post's row),
/// finds the post in forum already, and answers it moved, as asked: nothing is moved or logged
/// twice. Without its own case it would be refused as moved meanwhile (409 `post_moved`).
#[tokio::test]
async fn the_same_move_sent_twice_waits_for_the_first_and_answers_it_done() {
    let s = reply_and_move().await;
    let (ann, post) = (&s.ann, s.post);
    let (moved, again, waited) = while_moving_until(&s, post, ADVISORY, |conn, _| {
        async move { cenacle_core::champions::tool_move(conn, ann, post, "forum").await }
            .scope_boxed()
    })
    .await;

    assert_eq!(moved.group_id, s.forum, "the first move did not commit");
    assert_eq!(again.unwrap().group_id, s.forum);
    assert_eq!(
        s.w.count("champion_audit WHERE action = 'tool_move'").await,
        1,
        "the move was logged twice"
    );
    assert!(waited, "the second move did not wait for the first");
}

/// Bob deletes his question, and the deletion is written (uncommitted) when ann moves it into
/// forum: the move waits (on the post's row), then finds it deleted and moves nothing (404).
/// Without its check under the lock, the deleted post was moved, and its move logged.
#[tokio::test]
async fn a_move_of_a_post_being_deleted_waits_and_moves_nothing() {
    let s = reply_and_move().await;
    let (bob, ann, post) = (&s.bob, &s.ann, s.post);
    let (written_tx, written_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let deletion = s.w.act(|conn, _| {
        async move {
            cenacle_core::posts::delete_post(conn, bob, post).await?;
            written_tx.send(()).unwrap();
            go_rx.await.unwrap();
            Ok(())
        }
        .scope_boxed()
    });
    let mover = async {
        written_rx.await.unwrap();
        s.w.act(|conn, _| {
            async move { cenacle_core::champions::tool_move(conn, ann, post, "forum").await }
                .scope_boxed()
        })
        .await
    };
    let release = go_once_someone_waits_on(&s.w, ROW, go_tx);
    let (deleted, moved, waited) = tokio::join!(deletion, mover, release);
    deleted.unwrap();

    assert!(
        matches!(moved, Err(cenacle_core::CoreError::NotFound("post"))),
        "a deleted post was moved: {moved:?}"
    );
    assert_eq!(stored(&s.w, post).await.group_id, s.agora);
    assert_eq!(
        s.w.count("champion_audit WHERE action = 'tool_move'").await,
        0
    );
    assert!(
        waited,
        "the move did not wait for the deletion being written"
    );
}

/// Carol's reply to bob's post in agora, written (read "not banned" in agora), uncommitted,
/// when ann moves the post into forum. The move waits for the reply (on the post's row), then
/// finds it and removes it with the ban's reason. A guard of the order, which passed before
/// the reply held the post: the reply's count on the post's row made the move wait already.
#[tokio::test]
async fn a_move_waits_for_a_reply_by_someone_banned_from_its_group_and_removes_it() {
    let s = reply_and_move().await;
    let (written_tx, written_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let reply = async {
        let (carol, post) = (&s.carol, s.post);
        s.w.act(|conn, ctx| {
            async move {
                let reply = cenacle_core::comments::add_comment(
                    conn,
                    ctx,
                    carol,
                    post,
                    None,
                    "Pendant le déplacement",
                    None,
                )
                .await?;
                written_tx.send(()).unwrap();
                go_rx.await.unwrap();
                Ok(reply)
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let mover = async {
        written_rx.await.unwrap();
        let (ann, post) = (&s.ann, s.post);
        s.w.act(|conn, _| {
            async move { cenacle_core::champions::tool_move(conn, ann, post, "forum").await }
                .scope_boxed()
        })
        .await
        .unwrap()
    };
    let release = go_once_someone_waits_on(&s.w, ROW, go_tx);
    let (reply, moved, waited) = tokio::join!(reply, mover, release);

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert_eq!(
        moved_removal(&s.w, Moved::Comment, s.post, reply.id)
            .await
            .as_deref(),
        Some("Spam"),
        "a reply by someone banned from forum with removal, written while the post moved there, \
         is up in forum (or removed with another reason than the ban's)"
    );
    assert!(waited, "the move did not wait for the reply being written");
}

/// What carol writes on bob's post while its move is written.
#[derive(Clone, Copy)]
enum CarolWrites {
    /// A reply to the post.
    Reply,
    /// An edit of her reply (its id).
    EditOf(i64),
}

/// Carol `writes` once ann's move of bob's post into forum is written, uncommitted: the move
/// (committed once carol's write waits, or after a deadline), the write's outcome, and whether
/// it waited.
async fn carol_writes_while_moving(
    s: &ReplyAndMove,
    writes: CarolWrites,
) -> (
    cenacle_core::model::Post,
    Result<cenacle_core::model::Comment, cenacle_core::CoreError>,
    bool,
) {
    let (carol, post) = (&s.carol, s.post);
    while_moving(s, post, |conn, ctx| {
        async move {
            match writes {
                CarolWrites::Reply => {
                    let body = "Pendant le déplacement";
                    cenacle_core::comments::add_comment(conn, ctx, carol, post, None, body, None)
                        .await
                }
                CarolWrites::EditOf(reply) => {
                    let body = "Après le déplacement";
                    cenacle_core::comments::edit_comment(conn, ctx, carol, reply, body).await
                }
            }
        }
        .scope_boxed()
    })
    .await
}

/// The other order: ann's move of bob's post into forum is written, uncommitted, when carol
/// replies to it. The reply waits for the move (on the post's row), then reads the post in
/// forum, and is refused: she is banned from it. Without the hold, the reply read the post in
/// agora, where she is not banned, and committed her reply into forum after the move's pass.
#[tokio::test]
async fn a_reply_while_a_move_into_a_group_its_author_is_banned_from_is_written_waits_and_is_refused(
) {
    let s = reply_and_move().await;
    let (moved, reply, waited) = carol_writes_while_moving(&s, CarolWrites::Reply).await;

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert!(
        matches!(
            reply,
            Err(cenacle_core::CoreError::ModerationRefused(
                ModerationRefusal::BannedFromGroup
            ))
        ),
        "a reply to a post moved into a group its author is banned from: {reply:?}"
    );
    assert_eq!(
        s.w.count(&format!(
            "comment WHERE post_id = {} AND author_id = {} AND removed_at IS NULL",
            s.post, s.carol.person_id
        ))
        .await,
        0,
        "carol's reply is up in forum, which she is banned from"
    );
    assert!(waited, "the reply did not wait for the move being written");
}

/// Ann's move of bob's post into forum is written, uncommitted, when carol edits her reply to
/// it (written before, in agora). The edit waits for the move (on the post's row, held before
/// the reply is read), then reads the post in forum, and is refused: she is banned from it.
/// Before, the edit read the post in agora, where she is not banned, waited for the move on her
/// reply's row (the move removed it), then wrote into forum all the same.
#[tokio::test]
async fn an_edit_of_a_reply_while_a_move_into_a_group_its_author_is_banned_from_is_written_is_refused(
) {
    let s = reply_and_move().await;
    let reply =
        s.w.answer(
            &s.carol,
            &s.w.post_now(s.post).await,
            "Avant le déplacement",
        )
        .await;
    let (moved, edit, waited) = carol_writes_while_moving(&s, CarolWrites::EditOf(reply.id)).await;

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert!(
        matches!(
            edit,
            Err(cenacle_core::CoreError::ModerationRefused(
                ModerationRefusal::BannedFromGroup
            ))
        ),
        "an edit of a reply in a post moved into a group its author is banned from: {edit:?}"
    );
    assert_eq!(
        s.w.comment_now(reply.id).await.body,
        "Avant le déplacement",
        "the edit was written into forum, which carol is banned from"
    );
    assert!(waited, "the edit did not wait for the move being written");
}

/// Two champions move bob's post at once: ann into forum (written, uncommitted), zoe, who
/// champions agora and lounge but not forum, into lounge. Zoe's move read the post in agora
/// and checked her championship there; it waits for ann's, then finds the post in forum and
/// moves nothing (409 `post_moved`). Before, it moved the post out of forum, a group she does
/// not champion.
#[tokio::test]
async fn a_move_of_a_post_another_champion_is_moving_waits_and_moves_nothing() {
    let s = reply_and_move().await;
    let lounge = {
        let admin = s.w.member("owner", Role::Admin).await;
        s.w.group(&admin, "lounge").await
    };
    let agora = {
        let mut conn = s.w.ctx.conn().await.unwrap();
        cenacle_db::actors::local_group_by_name(&mut conn, "agora")
            .await
            .unwrap()
            .unwrap()
    };
    let zoe = champion(&s.w, "zoe", &[&agora, &lounge]).await;
    let (zoe, post) = (&zoe, s.post);
    let (moved, second, waited) = while_moving(&s, post, |conn, _| {
        async move { cenacle_core::champions::tool_move(conn, zoe, post, "lounge").await }
            .scope_boxed()
    })
    .await;

    assert_eq!(moved.group_id, s.forum, "the first move did not commit");
    assert!(
        matches!(second, Err(cenacle_core::CoreError::Conflict("post_moved"))),
        "a move of a post moved meanwhile out of the group it was read in: {second:?}"
    );
    assert_eq!(
        s.w.post_now(s.post).await.group_id,
        s.forum,
        "the post left forum by the move of a champion who does not champion forum"
    );
    assert!(waited, "the second move did not wait for the first");
}

/// The advisory locks the backend of `conn` holds now (its own, in its transaction).
async fn advisory_locks_held(conn: &mut cenacle_core::Conn) -> i64 {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_locks \
         WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted",
    )
    .get_result::<N>(conn)
    .await
    .unwrap()
    .n
}

/// A move of a post that many people commented on takes as many advisory locks as one nobody
/// commented on: the champion's and the author's standings and the new group's bans with
/// removal, counted in the move's own transaction before it commits. A lock per commenter, in
/// PostgreSQL's shared lock table (`max_locks_per_transaction` × connections for the whole
/// server), let a post with thousands of (cheaply made, remote) commenters fail its move with
/// "out of shared memory", and other transactions meanwhile. The commenters' bans are still
/// applied: the one banned from forum with removal has their comment removed with the move,
/// with the ban's reason, the others' stay up.
#[tokio::test]
async fn a_move_of_a_post_with_many_commenters_takes_a_few_advisory_locks() {
    const COMMENTERS: i64 = 300;
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    let forum = w.group(&admin, "forum").await;
    let bob = bob_via(&w, Via::Ours).await;
    let post = bobs_post(&w, &bob, &agora, Via::Ours).await;
    // People of another server, each with a comment on bob's post (written as the inbox stores
    // them; how they came is not what is measured here).
    execute(
        &w,
        &format!(
            "INSERT INTO person (username, local, ap_id, instance_host) \
               SELECT 'c' || n, false, '{OTHER}/u/c' || n, 'other.example' \
               FROM generate_series(1, {COMMENTERS}) AS n; \
             INSERT INTO comment (post_id, author_id, body, ap_id, local) \
               SELECT {post}, id, 'Bonjour', ap_id || '/comment', false FROM person \
               WHERE ap_id LIKE '{OTHER}/u/c%';"
        ),
    )
    .await;
    let (banned, banned_comment) = {
        let mut conn = w.ctx.conn().await.unwrap();
        let banned = cenacle_db::actors::person_by_ap_id(&mut conn, &format!("{OTHER}/u/c1"))
            .await
            .unwrap()
            .unwrap()
            .id;
        let comment =
            cenacle_db::content::comment_by_ap_id(&mut conn, &format!("{OTHER}/u/c1/comment"))
                .await
                .unwrap()
                .unwrap()
                .id;
        (banned, comment)
    };
    ban_from_group_with_removal(&w, &admin, &forum, banned).await;
    let ann = champion(&w, "ann", &[&agora, &forum]).await;

    let ann = &ann;
    let (moved, locks) = w
        .act(|conn, _| {
            async move {
                let moved = cenacle_core::champions::tool_move(conn, ann, post, "forum").await?;
                Ok((moved, advisory_locks_held(conn).await))
            }
            .scope_boxed()
        })
        .await
        .unwrap();

    assert_eq!(moved.group_id, forum.id, "the move did not commit");
    assert!(
        locks == 3,
        "a move of a post {COMMENTERS} people commented on held {locks} advisory locks \
         (the champion's and the author's standings, the group's lock)"
    );
    assert_eq!(
        w.comment_now(banned_comment)
            .await
            .removal_reason
            .as_deref(),
        Some("Spam"),
        "the comment of a commenter banned from forum with removal is up there after the move"
    );
    assert_eq!(
        w.count(&format!(
            "comment WHERE post_id = {post} AND removed_at IS NULL"
        ))
        .await,
        COMMENTERS - 1,
        "the move removed comments of people not banned from forum"
    );
}

/// A moderator's approval of bob's held post, and bob's ban from the group with removal of
/// his content, in two transactions at once: the approval read bob's standing ("not banned")
/// and published the post, uncommitted. The ban waits for the approval (on bob's standing,
/// held by the approval until it commits) and then takes the published post down.
async fn ban_races_an_approval(via: Via) {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    execute(
        &w,
        &format!(
            "INSERT INTO group_approval (group_id, enabled, first_posts, min_reputation) \
             VALUES ({}, true, 1, 0)",
            agora.id
        ),
    )
    .await;
    let bob = bob_via(&w, via).await;
    let post = bobs_post(&w, &bob, &agora, via).await;
    assert_eq!(stored(&w, post).await.approval.as_deref(), Some("pending"));
    let (approved_tx, approved_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    let moderator = Caller::from(&admin);
    let approval = async {
        let moderator = &moderator;
        w.act(|conn, ctx| {
            async move {
                let approved = cenacle_core::approval::approve(conn, ctx, moderator, post).await?;
                assert_eq!(approved.approval, None);
                approved_tx.send(()).unwrap();
                go_rx.await.unwrap();
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let ban = async {
        approved_rx.await.unwrap();
        ban_from_group_with_removal(&w, &admin, &agora, bob.person_id()).await;
    };
    let release = async {
        let waited = within(Duration::from_secs(10), || {
            someone_waits_on_an_advisory_lock(&w)
        })
        .await;
        go_tx.send(()).unwrap();
        waited
    };
    let ((), (), waited) = tokio::join!(approval, ban, release);

    let now = stored(&w, post).await;
    assert_eq!(now.approval, None, "the approval did not commit");
    assert!(
        now.removed_at.is_some(),
        "the post approved is up after its author's ban with removal"
    );
    assert!(
        waited,
        "the ban did not wait for the approval of its person's post"
    );
}

/// Bob's ban with removal of his content has taken his standing (as `group_bans::ban` does,
/// before it takes his posts down) when a moderator approves his held post: the approval waits
/// for his standing before it locks the post, so the post's row stays free for the ban's
/// take-down. Locking the post first (then waiting for his standing, to read his bans) would
/// hold what the ban waits for while waiting for what the ban holds: a deadlock.
#[tokio::test]
async fn an_approval_takes_its_authors_standing_before_the_post() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    let enabled = "INSERT INTO group_approval (group_id, enabled, first_posts, min_reputation) \
                   VALUES";
    execute(&w, &format!("{enabled} ({}, true, 1, 0)", agora.id)).await;
    let bob = bob_via(&w, Via::Ours).await;
    let post = bobs_post(&w, &bob, &agora, Via::Ours).await;
    let bob_id = bob.person_id();
    let (held_tx, held_rx) = oneshot::channel::<()>();

    let ban = async {
        let w = &w;
        w.act(|conn, _| {
            async move {
                use diesel_async::RunQueryDsl;
                cenacle_db::federation::hold_person_standing_for_change(conn, bob_id).await?;
                held_tx.send(()).unwrap();
                let waited = within(Duration::from_secs(10), || {
                    someone_waits_on_an_advisory_lock(w)
                })
                .await;
                let free = diesel::sql_query("SELECT id FROM post WHERE id = $1 FOR UPDATE NOWAIT")
                    .bind::<diesel::sql_types::BigInt, _>(post)
                    .execute(conn)
                    .await
                    .is_ok();
                Ok::<_, cenacle_core::CoreError>((waited, free))
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let moderator = Caller::from(&admin);
    let approval = async {
        held_rx.await.unwrap();
        let moderator = &moderator;
        w.act(|conn, ctx| {
            async move { cenacle_core::approval::approve(conn, ctx, moderator, post).await }
                .scope_boxed()
        })
        .await
    };
    let ((waited, free), approved) = tokio::join!(ban, approval);

    assert!(
        waited,
        "the approval did not wait for its author's standing"
    );
    assert!(
        free,
        "the approval held the post while it waited for its author's standing"
    );
    assert_eq!(
        approved.unwrap().approval,
        None,
        "the approval did not go on"
    );
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_an_approval_of_its_persons_post_and_removes_it() {
    ban_races_an_approval(Via::Ours).await;
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_an_approval_of_a_remote_persons_post() {
    ban_races_an_approval(Via::Signed).await;
}

/// A write in bob's name on his behalf.
#[derive(Clone, Copy, Debug)]
enum OnBehalf {
    /// A moderator's approval of his held post in agora.
    Approval,
    /// A champion's move of his post from agora into forum.
    Move,
}

/// The other order: bob's ban (without removal: it takes nothing down) from the group the
/// write puts his post in is being written, uncommitted, when a moderator approves his held
/// post or a champion moves his post there. The write waits for the ban, sees it and is
/// refused (`author_banned`): nothing is published or moved. Without the hold of bob's
/// standing, the write read "not banned" and committed, the post published or moved into a
/// group bob was banned from, the ban (having no removal to do) never taking it down.
async fn a_write_on_behalf_waits_for_a_ban_being_written(write: OnBehalf) {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    let forum = w.group(&admin, "forum").await;
    let target = match write {
        OnBehalf::Approval => {
            let enabled = "INSERT INTO group_approval (group_id, enabled, first_posts, \
                           min_reputation) VALUES";
            execute(&w, &format!("{enabled} ({}, true, 1, 0)", agora.id)).await;
            &agora
        }
        OnBehalf::Move => &forum,
    };
    let bob = bob_via(&w, Via::Ours).await;
    let post = bobs_post(&w, &bob, &agora, Via::Ours).await;
    let ann = champion(&w, "ann", &[&agora, &forum]).await;
    let (banned_tx, banned_rx) = oneshot::channel::<()>();
    let (commit_tx, commit_rx) = oneshot::channel::<()>();

    let ban = ban_written_until(
        &w,
        &admin,
        target,
        bob.person_id(),
        spam_ban(false),
        banned_tx,
        commit_rx,
    );
    let writer = async {
        banned_rx.await.unwrap();
        let (moderator, ann) = (Caller::from(&admin), &ann);
        w.act(|conn, ctx| {
            async move {
                match write {
                    OnBehalf::Approval => {
                        cenacle_core::approval::approve(conn, ctx, &moderator, post).await
                    }
                    OnBehalf::Move => {
                        cenacle_core::champions::tool_move(conn, ann, post, "forum").await
                    }
                }
            }
            .scope_boxed()
        })
        .await
    };
    let release = go_once_someone_waits(&w, commit_tx);
    let ((), written, waited) = tokio::join!(ban, writer, release);

    assert!(
        matches!(
            written,
            Err(cenacle_core::CoreError::ModerationRefused(
                cenacle_domain::reports::ModerationRefusal::AuthorBanned
            ))
        ),
        "{write:?} in the name of a person whose ban was being written: {written:?}"
    );
    let now = stored(&w, post).await;
    assert_eq!(
        (now.group_id, now.approval.as_deref()),
        (
            agora.id,
            matches!(write, OnBehalf::Approval).then_some("pending")
        ),
        "the post was published or moved"
    );
    assert!(
        waited,
        "the {write:?} did not wait for the ban being written"
    );
}

#[tokio::test]
async fn an_approval_while_its_authors_ban_is_written_waits_and_is_refused() {
    a_write_on_behalf_waits_for_a_ban_being_written(OnBehalf::Approval).await;
}

#[tokio::test]
async fn a_move_while_its_authors_ban_from_the_destination_is_written_waits_and_is_refused() {
    a_write_on_behalf_waits_for_a_ban_being_written(OnBehalf::Move).await;
}

/// How bob comes into agora.
#[derive(Clone, Copy, Debug)]
enum WayIn {
    /// He joins it (public).
    Join,
    /// He uses his invitation to it (private).
    Invitation,
    /// He asks to join it (private).
    Request,
    /// A moderator approves his pending request (private).
    Approval,
}

/// Agora, owned by `admin`, ready for bob to come in `way`: private but for a plain join, with
/// his invitation or his pending request when the way needs one.
async fn agora_for(
    w: &World,
    admin: &cenacle_core::accounts::Session,
    bob: &Caller,
    way: WayIn,
) -> cenacle_core::model::Group {
    let agora = w.group(admin, "agora").await;
    if matches!(way, WayIn::Join) {
        return agora;
    }
    let private = "UPDATE community_group SET visibility = 'private' WHERE id =";
    execute(w, &format!("{private} {}", agora.id)).await;
    let moderator = Caller::from(admin);
    w.act(|conn, _| {
        async move {
            match way {
                WayIn::Invitation => {
                    cenacle_core::groups::invite(conn, &moderator, "agora", bob.person_id).await
                }
                WayIn::Approval => come_in(conn, &moderator, bob, WayIn::Request).await,
                WayIn::Join | WayIn::Request => Ok(()),
            }
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    agora
}

/// Bob comes into agora `way` (an approval is `moderator`'s), in the transaction `conn`.
async fn come_in(
    conn: &mut cenacle_core::Conn,
    moderator: &Caller,
    bob: &Caller,
    way: WayIn,
) -> Result<(), cenacle_core::CoreError> {
    if let WayIn::Approval = way {
        let bob = bob.person_id;
        return cenacle_core::groups::decide_join_request(conn, moderator, "agora", bob, true)
            .await;
    }
    let agora = cenacle_core::groups::local_group(conn, "agora").await?;
    let member = cenacle_core::groups::join_group(conn, bob, &agora, None).await?;
    assert_eq!(member, !matches!(way, WayIn::Request), "{way:?}");
    Ok(())
}

/// What bob holds in `group`: membership, a pending request to join, an invitation.
async fn bobs_standing_in(w: &World, group: &cenacle_core::model::Group, bob: &Caller) -> [i64; 3] {
    let whose = format!(
        "WHERE group_id = {} AND person_id = {}",
        group.id, bob.person_id
    );
    [
        w.count(&format!("group_membership {whose}")).await,
        w.count(&format!("group_join_request {whose}")).await,
        w.count(&format!("group_invitation {whose}")).await,
    ]
}

/// Bob comes into agora `way`, and his ban from it with removal, in two transactions at once:
/// the way in read bob's standing ("not banned") and let him in (or filed his request), but
/// has not committed yet. The ban waits for it and then puts him out: no membership, request
/// or invitation of his is left. Before, nothing held his standing and a ban left members
/// in: the ban committed first, and bob was a member of a group he was banned from.
async fn ban_races_a_way_in(way: WayIn) {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let bob = Caller::from(&w.member("bob", Role::Member).await);
    let agora = agora_for(&w, &admin, &bob, way).await;
    let (in_tx, in_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    let moderator = Caller::from(&admin);
    let coming_in = async {
        let (moderator, bob) = (&moderator, &bob);
        w.act(|conn, _| {
            async move {
                come_in(conn, moderator, bob, way).await?;
                in_tx.send(()).unwrap();
                go_rx.await.unwrap();
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let ban = async {
        in_rx.await.unwrap();
        ban_from_group_with_removal(&w, &admin, &agora, bob.person_id).await;
    };
    let release = go_once_someone_waits(&w, go_tx);
    let ((), (), waited) = tokio::join!(coming_in, ban, release);

    assert_eq!(
        bobs_standing_in(&w, &agora, &bob).await,
        [0; 3],
        "bob, banned, is still in agora (membership, request, invitation) after the {way:?}"
    );
    assert!(waited, "the ban did not wait for the {way:?}");
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_a_join_and_puts_the_member_out() {
    ban_races_a_way_in(WayIn::Join).await;
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_the_use_of_an_invitation_and_puts_the_member_out() {
    ban_races_a_way_in(WayIn::Invitation).await;
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_a_request_to_join_and_drops_it() {
    ban_races_a_way_in(WayIn::Request).await;
}

#[tokio::test]
async fn a_group_ban_with_removal_waits_for_an_approved_request_and_puts_the_member_out() {
    ban_races_a_way_in(WayIn::Approval).await;
}

/// The other order: bob's ban with removal from agora is being written, uncommitted, when he
/// comes in `way`. The way in waits for the ban, sees it and is refused (`banned_from_group`
/// for bob's own, `person_banned` for a moderator's approval): he is nowhere in agora. Before,
/// the way in read "not banned" and committed after the ban, which had nothing to put him
/// out of when it was written.
async fn a_way_in_waits_for_a_ban_being_written(way: WayIn) {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let bob = Caller::from(&w.member("bob", Role::Member).await);
    let agora = agora_for(&w, &admin, &bob, way).await;
    let (banned_tx, banned_rx) = oneshot::channel::<()>();
    let (commit_tx, commit_rx) = oneshot::channel::<()>();

    let ban = ban_written_until(
        &w,
        &admin,
        &agora,
        bob.person_id,
        spam_ban(true),
        banned_tx,
        commit_rx,
    );
    let moderator = Caller::from(&admin);
    let coming_in = async {
        banned_rx.await.unwrap();
        let (moderator, bob) = (&moderator, &bob);
        w.act(|conn, _| async move { come_in(conn, moderator, bob, way).await }.scope_boxed())
            .await
    };
    let release = go_once_someone_waits(&w, commit_tx);
    let ((), came_in, waited) = tokio::join!(ban, coming_in, release);

    let expected = match way {
        WayIn::Approval => ModerationRefusal::PersonBanned,
        WayIn::Join | WayIn::Invitation | WayIn::Request => ModerationRefusal::BannedFromGroup,
    };
    assert!(
        matches!(came_in, Err(cenacle_core::CoreError::ModerationRefused(r)) if r == expected),
        "the {way:?} while bob's ban was being written: {came_in:?}"
    );
    assert_eq!(bobs_standing_in(&w, &agora, &bob).await, [0; 3], "{way:?}");
    assert!(waited, "the {way:?} did not wait for the ban being written");
}

#[tokio::test]
async fn a_join_while_the_ban_is_written_waits_and_is_refused() {
    a_way_in_waits_for_a_ban_being_written(WayIn::Join).await;
}

#[tokio::test]
async fn the_use_of_an_invitation_while_the_ban_is_written_waits_and_is_refused() {
    a_way_in_waits_for_a_ban_being_written(WayIn::Invitation).await;
}

#[tokio::test]
async fn a_request_to_join_while_the_ban_is_written_waits_and_is_refused() {
    a_way_in_waits_for_a_ban_being_written(WayIn::Request).await;
}

#[tokio::test]
async fn an_approval_of_a_request_while_the_ban_is_written_waits_and_is_refused() {
    a_way_in_waits_for_a_ban_being_written(WayIn::Approval).await;
}

/// A member of ours whose request authenticated before their instance ban committed, and who
/// joins a group or reports a person to the instance's moderators after it: their session was
/// good when the request began, so only the use case's own read of the ban refuses them.
#[tokio::test]
async fn a_join_or_report_of_a_member_of_ours_after_their_instance_ban_is_refused() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    let bob = Caller::from(&w.member("bob", Role::Member).await);
    let ann = w.member("ann", Role::Member).await.account.person_id;
    w.ban_from_instance(&admin, "bob").await;

    let bob = &bob;
    let joined = w
        .act(|conn, _| {
            async move { cenacle_core::groups::join_group(conn, bob, &agora, None).await }
                .scope_boxed()
        })
        .await;
    assert!(
        matches!(joined, Err(cenacle_core::CoreError::BannedFromInstance)),
        "a member banned from the instance joined: {joined:?}"
    );
    let report = cenacle_core::reports::NewReportInput {
        target: cenacle_core::reports::ReportTarget::Person {
            person_id: ann,
            group_id: None,
        },
        reason: "spam".into(),
        text: String::new(),
        share_identity: false,
    };
    let report = &report;
    let filed = w
        .act(|conn, _| {
            async move { cenacle_core::reports::file(conn, bob, report).await }.scope_boxed()
        })
        .await;
    assert!(
        matches!(filed, Err(cenacle_core::CoreError::BannedFromInstance)),
        "a member banned from the instance reported: {filed:?}"
    );
}

/// A ban that read "not a moderator" while a promotion of its person was being written (the
/// promotion holds their standing, reading their bans) waits for it, reads their role again
/// once it holds their standing, and is refused (`cannot_ban_moderator`), as it would have
/// been had the promotion committed first: nothing is banned, and the new moderator keeps
/// their place. Before, the ban read the role only before it waited, and went through: a
/// banned moderator (the put-out spared their membership).
#[tokio::test]
async fn a_ban_racing_a_promotion_waits_for_it_and_is_refused_as_a_moderators() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let group = w.group(&admin, "agora").await;
    let marie = Caller::from(&w.member("marie", Role::Member).await);
    let owner = Caller::from(&admin);
    let (written_tx, written_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    // The owner names marie moderator, and the transaction stays open once it is written.
    let promotion = async {
        let (owner, group) = (&owner, &group);
        w.act(|conn, _| {
            async move {
                moderation::set_member_role(
                    conn,
                    owner,
                    &group.name,
                    marie.person_id,
                    GroupRole::Moderator,
                )
                .await?;
                written_tx.send(()).unwrap();
                go_rx.await.unwrap();
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    // The ban, reading "not a moderator" meanwhile.
    let ban = async {
        written_rx.await.unwrap();
        let (owner, group) = (&owner, &group);
        w.act(|conn, _| {
            async move {
                group_bans::ban(conn, owner, &group.name, marie.person_id, &spam_ban(false)).await
            }
            .scope_boxed()
        })
        .await
        .map(|_| ())
    };
    let release = async {
        let waited = within(Duration::from_secs(10), || {
            someone_waits_on_an_advisory_lock(&w)
        })
        .await;
        go_tx.send(()).unwrap();
        waited
    };
    let ((), banned, waited) = tokio::join!(promotion, ban, release);

    assert!(waited, "the ban did not wait for the promotion");
    assert!(
        matches!(
            banned,
            Err(cenacle_core::CoreError::ModerationRefused(
                ModerationRefusal::CannotBanModerator
            ))
        ),
        "a ban racing marie's promotion: {banned:?}"
    );
    let whose = format!(
        "WHERE group_id = {} AND person_id = {}",
        group.id, marie.person_id
    );
    assert_eq!(
        w.count(&format!("group_ban {whose}")).await,
        0,
        "the new moderator was banned"
    );
    let mut conn = w.ctx.conn().await.unwrap();
    let role = cenacle_db::content::membership_role(&mut conn, group.id, marie.person_id)
        .await
        .unwrap();
    assert_eq!(
        role.as_deref(),
        Some("moderator"),
        "the ban took the new moderator's membership"
    );
}

/// A remote moderator's `Add` of `person` to the moderators of `group`, as the inbox applies
/// it (sent directly to a group of ours, or announced by the group elsewhere).
async fn remote_add(
    w: &World,
    moderator: &cenacle_core::model::PersonActor,
    person: &cenacle_core::model::PersonActor,
    group: &cenacle_core::model::Group,
) -> Result<(), cenacle_core::CoreError> {
    let announced_by = (!group.local).then_some(group);
    let collection = format!("{}/moderators", group.ap_id);
    let collection = &collection;
    w.act(|conn, _| {
        async move {
            let who = moderation::Moderator::Remote {
                person: moderator,
                announced_by,
            };
            let act = moderation::Act::Moderator {
                person,
                add: true,
                collection,
            };
            moderation::apply_remote(conn, who, act, None).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// `person_id`'s role in `group`, if any.
async fn role_in(w: &World, group: &cenacle_core::model::Group, person_id: i64) -> Option<String> {
    let mut conn = w.ctx.conn().await.unwrap();
    cenacle_db::content::membership_role(&mut conn, group.id, person_id)
        .await
        .unwrap()
}

/// A moderator of our group on another server adds bob, banned from it, to its moderators:
/// refused (`person_banned`), bob stays out, as no role given here lets a banned person in.
/// On our copy of a group elsewhere, the same `Add` from the group's own server applies, ban
/// or no ban here: a remote group's moderators are whom its server lists (a refusal here
/// would be undone by the next refresh of its moderators anyway).
#[tokio::test]
async fn a_remote_add_of_a_banned_person_is_refused_in_our_group_and_applied_in_one_elsewhere() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let agora = w.group(&admin, "agora").await;
    let moderator = remote_moderator(&w, &admin, &agora, "mod").await;
    let bob = w.remote_person(OTHER, "bob").await;
    let (owner, bob_id) = (Caller::from(&admin), bob.id);
    let owner = &owner;
    w.act(|conn, _| {
        async move { group_bans::ban(conn, owner, "agora", bob_id, &spam_ban(false)).await }
            .scope_boxed()
    })
    .await
    .unwrap();

    let added = remote_add(&w, &moderator, &bob, &agora).await;
    assert!(
        matches!(
            added,
            Err(cenacle_core::CoreError::ModerationRefused(
                ModerationRefusal::PersonBanned
            ))
        ),
        "a remote Add of a person banned from our group: {added:?}"
    );
    assert_eq!(role_in(&w, &agora, bob.id).await, None, "bob got in");

    // Our copy of a group on other.example, bob banned on it by a moderator there.
    let elsewhere = w.remote_group(OTHER, "ailleurs").await;
    let theirs = w.remote_person(OTHER, "modo").await;
    let (elsewhere_ref, theirs_ref) = (&elsewhere, &theirs);
    let banned = w
        .act(|conn, _| {
            async move {
                let block = format!("{OTHER}/block/1");
                group_bans::receive_block(
                    conn,
                    theirs_ref,
                    elsewhere_ref,
                    bob_id,
                    &spam_ban(false),
                    &block,
                )
                .await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(banned, Ok(()), "the ban from the group's own server");
    remote_add(&w, &theirs, &bob, &elsewhere).await.unwrap();
    assert_eq!(
        role_in(&w, &elsewhere, bob.id).await.as_deref(),
        Some("moderator"),
        "the group's own server named bob moderator, and our copy refused it"
    );
}

/// The course `cours` (its discussion group `cours` too, public), written by `admin`: its id
/// and its group.
async fn course_with_group(
    w: &World,
    admin: &cenacle_core::accounts::Session,
) -> (i64, cenacle_core::model::Group) {
    use cenacle_core::courses::{self, CourseInput, LessonInput};
    let input = CourseInput {
        title_fr: "Cours".into(),
        title_en: "Course".into(),
        summary_fr: String::new(),
        summary_en: String::new(),
        cover_media_id: None,
        published: true,
        audience: "everyone".into(),
        audience_group: None,
        audience_reputation: None,
        audience_badge: None,
        validity_days: None,
        unlock_group: None,
        prerequisites: vec![],
        group_name: "cours".into(),
        lessons: vec![LessonInput {
            position: 1,
            title_fr: "Leçon".into(),
            title_en: "Lesson".into(),
            body_fr: String::new(),
            body_en: String::new(),
            minutes: 5,
        }],
        quizzes: vec![],
    };
    let prepared = courses::prepare_course(&w.ctx, admin, input).await.unwrap();
    let prepared = &prepared;
    w.act(|conn, _| {
        async move {
            let course = courses::create_course(conn, admin, prepared).await?;
            let group = cenacle_core::groups::local_group(conn, "cours").await?;
            Ok((course.row.id, group))
        }
        .scope_boxed()
    })
    .await
    .unwrap()
}

/// Bob enrols in `course`, in the transaction `conn`: what lets him into its group as a side
/// effect (`groups::admit_unless_banned`).
async fn enrol_in(
    conn: &mut cenacle_core::Conn,
    bob: &Caller,
    course: i64,
) -> Result<(), cenacle_core::CoreError> {
    cenacle_core::courses::enrol(conn, bob, course, chrono::Utc::now()).await
}

/// Whether bob is enrolled in `course`.
async fn enrolled(w: &World, course: i64, bob: &Caller) -> bool {
    let whose = format!(
        "course_enrolment WHERE course_id = {course} AND person_id = {}",
        bob.person_id
    );
    w.count(&whose).await == 1
}

/// Bob's enrolment in a course, which lets him into its group, and his ban from that group, in
/// two transactions at once: the enrolment read his standing ("not banned") and let him in,
/// uncommitted. The ban waits for it (the enrolment holds his standing) and then puts him
/// out: he is enrolled, and not in the group. Without the hold, the ban committed first and
/// the enrolment's membership, committed after, stayed.
#[tokio::test]
async fn a_ban_waits_for_an_enrolment_that_let_its_person_in_and_puts_them_out() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let bob = Caller::from(&w.member("bob", Role::Member).await);
    let (course, group) = course_with_group(&w, &admin).await;
    let (in_tx, in_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();

    let enrolment = async {
        let bob = &bob;
        w.act(|conn, _| {
            async move {
                enrol_in(conn, bob, course).await?;
                in_tx.send(()).unwrap();
                go_rx.await.unwrap();
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .unwrap()
    };
    let ban = async {
        in_rx.await.unwrap();
        ban_from_group_with_removal(&w, &admin, &group, bob.person_id).await;
    };
    let release = go_once_someone_waits(&w, go_tx);
    let ((), (), waited) = tokio::join!(enrolment, ban, release);

    assert_eq!(
        bobs_standing_in(&w, &group, &bob).await,
        [0; 3],
        "bob, banned, is still in the course's group after his enrolment"
    );
    assert!(
        enrolled(&w, course, &bob).await,
        "the ban took the enrolment"
    );
    assert!(waited, "the ban did not wait for the enrolment");
}

/// The other order: bob's ban from the course's group is being written, uncommitted, when he
/// enrols. The enrolment waits for the ban, sees it, and goes on without the membership: he
/// is enrolled, and not in the group.
#[tokio::test]
async fn an_enrolment_while_the_ban_from_its_group_is_written_waits_and_skips_the_membership() {
    let w = World::new().await;
    let admin = w.member("root", Role::Admin).await;
    let bob = Caller::from(&w.member("bob", Role::Member).await);
    let (course, group) = course_with_group(&w, &admin).await;
    let (banned_tx, banned_rx) = oneshot::channel::<()>();
    let (commit_tx, commit_rx) = oneshot::channel::<()>();

    let ban = ban_written_until(
        &w,
        &admin,
        &group,
        bob.person_id,
        spam_ban(false),
        banned_tx,
        commit_rx,
    );
    let enrolment = async {
        banned_rx.await.unwrap();
        let bob = &bob;
        w.act(|conn, _| async move { enrol_in(conn, bob, course).await }.scope_boxed())
            .await
    };
    let release = go_once_someone_waits(&w, commit_tx);
    let ((), enrolment, waited) = tokio::join!(ban, enrolment, release);

    enrolment.unwrap();
    assert!(enrolled(&w, course, &bob).await, "bob is not enrolled");
    assert_eq!(
        bobs_standing_in(&w, &group, &bob).await,
        [0; 3],
        "the enrolment let bob, banned meanwhile, into the course's group"
    );
    assert!(
        waited,
        "the enrolment did not wait for the ban being written"
    );
}

// ---- moderators' decisions, reports and moderation while a move is written ----

/// The local group `name`, as stored now.
async fn group_named(w: &World, name: &str) -> cenacle_core::model::Group {
    let mut conn = w.ctx.conn().await.unwrap();
    cenacle_db::actors::local_group_by_name(&mut conn, name)
        .await
        .unwrap()
        .unwrap()
}

/// A moderator's decision on a post held for approval.
#[derive(Clone, Copy, Debug)]
enum Decision {
    Approval,
    Rejection,
}

/// Eve, who moderates agora only, decides on bob's post held for approval in agora while
/// ann's move of it into forum is written (ann moderates both groups, as the champion who
/// tidies the queue: a held post is seen by its author and its group's moderators alone).
/// The decision waits (on the post's row, locked before its group is read), then reads the
/// post in forum, where eve may not even see it (404), and is refused: the post still waits,
/// nothing is logged in her name. Before, her right was read in agora, the decision's update
/// waited for the move, then published (or rejected) the post in forum on agora's say.
async fn a_decision_while_a_move_is_written(decision: Decision) {
    let s = reply_and_move().await;
    let eve = agora_moderator(&s).await;
    execute(
        &s.w,
        &format!(
            "INSERT INTO group_approval (group_id, enabled, first_posts, min_reputation) \
             VALUES ({}, true, 1000, 0)",
            s.agora
        ),
    )
    .await;
    let (root, ann) = (&s.root, s.ann.person_id);
    for group in ["agora", "forum"] {
        s.w.act(|conn, _| {
            async move {
                moderation::set_member_role(conn, root, group, ann, GroupRole::Moderator).await
            }
            .scope_boxed()
        })
        .await
        .unwrap();
    }
    let agora = group_named(&s.w, "agora").await;
    let held =
        s.w.post(&s.bob, &agora, PostKind::Question, "En attente")
            .await
            .id;
    assert_eq!(
        stored(&s.w, held).await.approval.as_deref(),
        Some("pending")
    );
    let eve = &eve;
    let (moved, decided, waited) = while_moving(&s, held, |conn, ctx| {
        async move {
            match decision {
                Decision::Approval => cenacle_core::approval::approve(conn, ctx, eve, held).await,
                Decision::Rejection => {
                    cenacle_core::approval::reject(conn, eve, held, "Hors sujet").await
                }
            }
        }
        .scope_boxed()
    })
    .await;

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert!(
        matches!(decided, Err(cenacle_core::CoreError::NotFound("post"))),
        "the {decision:?} was checked in the group the post left: {decided:?}"
    );
    let now = stored(&s.w, held).await;
    assert_eq!(
        (now.approval.as_deref(), now.approval_reason),
        (Some("pending"), None),
        "the {decision:?} went through in forum on agora's say"
    );
    assert_eq!(
        s.w.count(&format!(
            "moderation_action WHERE moderator_id = {}",
            eve.person_id
        ))
        .await,
        0,
        "the refused {decision:?} was logged"
    );
    assert!(
        waited,
        "the {decision:?} did not wait for the move being written"
    );
}

#[tokio::test]
async fn a_moderators_approval_while_a_move_is_written_is_refused_in_the_new_group() {
    a_decision_while_a_move_is_written(Decision::Approval).await;
}

#[tokio::test]
async fn a_moderators_rejection_while_a_move_is_written_is_refused_in_the_new_group() {
    a_decision_while_a_move_is_written(Decision::Rejection).await;
}

/// What is reported about bob's question.
#[derive(Clone, Copy, Debug)]
enum Reported {
    /// The question.
    Post,
    /// Fred's answer to it.
    Answer,
}

/// Where a report comes from.
#[derive(Clone, Copy, Debug)]
enum ReportedBy {
    /// Dave, a member of ours (`reports::file`).
    Ours,
    /// Zoe, of another server (a `Flag` to our inbox, `reports::receive_flag`).
    Flag,
}

/// `what` is reported `by` while ann's move of bob's question into forum is written: the
/// report waits (on the post's row, held in its group before its group is read) and lands in
/// forum's queue, the moderators the post has when the report commits. Before, it read the
/// group before the move committed and landed in agora's queue (waiting for the move at its
/// reference to the post, or not at all for an answer, whose row the move does not lock).
async fn a_report_while_a_move_is_written(what: Reported, by: ReportedBy) {
    let s = reply_and_move().await;
    let question = s.w.post_now(s.post).await;
    let (target, object) = match what {
        Reported::Post => (
            cenacle_core::reports::ReportTarget::Post(s.post),
            question.ap_id.clone(),
        ),
        Reported::Answer => {
            let fred = Caller::from(&s.w.member("fred", Role::Member).await);
            let answer = s.w.answer(&fred, &question, "Achetez mes montres").await;
            (
                cenacle_core::reports::ReportTarget::Comment(answer.id),
                answer.ap_id,
            )
        }
    };
    let dave = Caller::from(&s.w.member("dave", Role::Member).await);
    let zoe = s.w.remote_person(OTHER, "zoe").await;
    let input = cenacle_core::reports::NewReportInput {
        target,
        reason: "spam".into(),
        text: "De la publicité".into(),
        share_identity: false,
    };
    let objects = vec![object];
    let flag_id = format!("{OTHER}/flag/1");
    let (dave, zoe, input, objects, flag_id) = (&dave, &zoe, &input, &objects, &flag_id);
    let filed = after_the_move(&s, "the report", |conn, _| {
        async move {
            match by {
                ReportedBy::Ours => Ok(cenacle_core::reports::file(conn, dave, input).await?.id),
                ReportedBy::Flag => {
                    let flag = cenacle_core::reports::IncomingFlag {
                        flag_id,
                        objects,
                        text: "Spam",
                        announced_by: None,
                    };
                    let filed = cenacle_core::reports::receive_flag(conn, zoe, &flag).await?;
                    Ok(filed.expect("the Flag was not filed"))
                }
            }
        }
        .scope_boxed()
    })
    .await
    .unwrap();

    let report = {
        let mut conn = s.w.ctx.conn().await.unwrap();
        cenacle_core::reports::report_by_id(&mut conn, filed)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        report.group_id,
        Some(s.forum),
        "a report of the {what:?} ({by:?}) landed in the queue of the group the post left"
    );
}

#[tokio::test]
async fn a_report_of_a_post_while_a_move_is_written_lands_in_the_new_groups_queue() {
    a_report_while_a_move_is_written(Reported::Post, ReportedBy::Ours).await;
}

#[tokio::test]
async fn a_report_of_an_answer_while_a_move_is_written_lands_in_the_new_groups_queue() {
    a_report_while_a_move_is_written(Reported::Answer, ReportedBy::Ours).await;
}

#[tokio::test]
async fn a_remote_flag_of_a_post_while_a_move_is_written_lands_in_the_new_groups_queue() {
    a_report_while_a_move_is_written(Reported::Post, ReportedBy::Flag).await;
}

#[tokio::test]
async fn a_remote_flag_of_an_answer_while_a_move_is_written_lands_in_the_new_groups_queue() {
    a_report_while_a_move_is_written(Reported::Answer, ReportedBy::Flag).await;
}

/// Dave, banned from forum (not from agora), rates bob's idea while ann's move of it into
/// forum is written: the rating waits (on the post's row, held for an edit before it is read),
/// then finds the idea in forum and is refused there; nothing is rated. A guard: passed when
/// written (`votes::rate_post` holds the post through `access::post_held`).
#[tokio::test]
async fn a_rating_while_a_move_into_a_group_its_rater_is_banned_from_is_written_is_refused() {
    let s = reply_and_move().await;
    let agora = group_named(&s.w, "agora").await;
    let idea =
        s.w.post(&s.bob, &agora, PostKind::Idea, "Une idée")
            .await
            .id;
    let dave = Caller::from(&s.w.member("dave", Role::Member).await);
    let (root, banned) = (&s.root, dave.person_id);
    s.w.act(|conn, _| {
        async move { group_bans::ban(conn, root, "forum", banned, &spam_ban(false)).await }
            .scope_boxed()
    })
    .await
    .unwrap();
    let dave = &dave;
    let (moved, rated, waited) = while_moving(&s, idea, |conn, _| {
        async move { cenacle_core::votes::rate_post(conn, dave, idea, Some(4)).await }.scope_boxed()
    })
    .await;

    assert_eq!(moved.group_id, s.forum, "the move did not commit");
    assert!(
        matches!(
            rated,
            Err(cenacle_core::CoreError::ModerationRefused(
                ModerationRefusal::BannedFromGroup
            ))
        ),
        "a rating of an idea moved into a group its rater is banned from: {rated:?}"
    );
    assert_eq!(
        s.w.count(&format!("post_rating WHERE person_id = {banned}"))
            .await,
        0,
        "the rating was written in forum, which dave is banned from"
    );
    assert_eq!(stored(&s.w, idea).await.rating_count, 0);
    assert!(waited, "the rating did not wait for the move being written");
}

/// What eve, who moderates agora only, does while the move of bob's question is written.
#[derive(Clone, Copy, Debug)]
enum ModeratorAct {
    Lock,
    Pin,
    /// A restore of the question (not removed: a removed post is not moved; the right is
    /// read before what there is to restore).
    Restore,
    /// A removal of dave's answer to it.
    RemoveAnswer,
}

/// Eve, who moderates agora only, does `act` while ann's move of bob's question into forum is
/// written: it waits (on the post's row, locked FOR UPDATE as the content is read), then reads
/// the post in forum, whose moderators she is not one of, and is refused; nothing changes and
/// nothing is logged in her name. A guard: passed when written (`moderation::content_locked`
/// locks the post before its group is read).
async fn a_moderator_act_while_a_move_is_written(act: ModeratorAct) {
    let s = reply_and_move().await;
    let eve = agora_moderator(&s).await;
    let dave = Caller::from(&s.w.member("dave", Role::Member).await);
    let answer =
        s.w.answer(&dave, &s.w.post_now(s.post).await, "La réponse")
            .await
            .id;
    let (eve, post) = (&eve, s.post);
    let acted = after_the_move(&s, "the moderator's act", |conn, _| {
        async move {
            match act {
                ModeratorAct::Lock => {
                    moderation::moderate_post(conn, eve, post, Some(true), None).await?;
                }
                ModeratorAct::Pin => {
                    moderation::moderate_post(conn, eve, post, None, Some(true)).await?;
                }
                ModeratorAct::Restore => moderation::restore_post(conn, eve, post).await?,
                ModeratorAct::RemoveAnswer => {
                    moderation::remove_comment(conn, eve, answer, "Hors sujet").await?
                }
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await;

    assert!(
        matches!(acted, Err(cenacle_core::CoreError::NotAllowed(_))),
        "a {act:?} authorised in the group the post left: {acted:?}"
    );
    let now = s.w.post_now(post).await;
    assert_eq!(
        (now.locked, now.pinned, now.removed_at),
        (false, false, None),
        "the {act:?} changed the post in forum on agora's say"
    );
    assert_eq!(s.w.comment_now(answer).await.removed_at, None);
    assert_eq!(
        s.w.count(&format!(
            "moderation_action WHERE moderator_id = {}",
            eve.person_id
        ))
        .await,
        0,
        "the refused {act:?} was logged"
    );
}

#[tokio::test]
async fn a_moderators_lock_while_a_move_is_written_is_refused_in_the_new_group() {
    a_moderator_act_while_a_move_is_written(ModeratorAct::Lock).await;
}

#[tokio::test]
async fn a_moderators_pin_while_a_move_is_written_is_refused_in_the_new_group() {
    a_moderator_act_while_a_move_is_written(ModeratorAct::Pin).await;
}

#[tokio::test]
async fn a_moderators_restore_while_a_move_is_written_is_refused_in_the_new_group() {
    a_moderator_act_while_a_move_is_written(ModeratorAct::Restore).await;
}

#[tokio::test]
async fn a_moderators_removal_of_an_answer_while_a_move_is_written_is_refused_in_the_new_group() {
    a_moderator_act_while_a_move_is_written(ModeratorAct::RemoveAnswer).await;
}
