//! Federation bookkeeping, on the caller's connection: the outbox of domain events, received
//! activity ids, follows in both directions, the delivery queue and other instances' health.
//! The ActivityPub side builds and reads activities; every row it needs written is written
//! here.

use crate::{identity, Caller, Conn, Context, CoreError};
use cenacle_db::{
    actors::{self, PersonActor},
    federation::{self as store, ClaimedDelivery, FollowRow, InstanceState, QueueStats},
};
use cenacle_domain::delivery::retry_delay;
use chrono::{DateTime, Utc};

pub use cenacle_db::federation::{OutboxEvent, QueuedEvent, Wakeups};

// ---- the outbox ----

/// Records that `event` must be sent to other servers, when our own member caused it. What a
/// remote person did reached us as an activity, and the inbox relays that activity itself.
pub async fn record_event(
    conn: &mut Conn,
    caller: &Caller,
    event: OutboxEvent,
) -> Result<(), CoreError> {
    if caller.is_local() {
        store::insert_outbox_event(conn, event, Some(caller.person_id)).await?;
    }
    Ok(())
}

/// Takes up to `limit` events out of the outbox (a rollback of the caller's transaction puts
/// them back).
pub async fn take_outbox_events(
    conn: &mut Conn,
    limit: i64,
) -> Result<Vec<QueuedEvent>, CoreError> {
    Ok(store::take_outbox_events(conn, limit).await?)
}

// ---- received activities ----

/// Records an incoming activity's id, in the transaction that applies it; false when it was
/// recorded before (a replay, or a second copy): the caller acknowledges and ignores it.
pub async fn record_received(
    conn: &mut Conn,
    activity_id: &str,
    actor_id: &str,
) -> Result<bool, CoreError> {
    Ok(store::record_received(conn, activity_id, actor_id).await?)
}

/// Whether an activity with this id was received (and applied) before.
pub async fn received_before(conn: &mut Conn, activity_id: &str) -> Result<bool, CoreError> {
    Ok(store::was_received(conn, activity_id).await?)
}

// ---- the delivery queue ----

/// Queues an activity (its JSON `body`, signed by the local actor `signer`) for each inbox:
/// one delivery per distinct inbox, none to ourselves, none to blocked or dead instances.
/// Returns the deliveries queued.
pub async fn queue_activity(
    conn: &mut Conn,
    ctx: &Context,
    activity_id: &str,
    signer: &str,
    body: &str,
    inboxes: impl IntoIterator<Item = String>,
) -> Result<usize, CoreError> {
    let local_host = identity::local_host(&ctx.settings);
    let mut targets: Vec<(String, String)> = inboxes
        .into_iter()
        .map(|inbox| {
            let host = cenacle_domain::origin::authority(&inbox).to_ascii_lowercase();
            (inbox, host)
        })
        .filter(|(_, host)| !host.is_empty() && *host != local_host)
        .collect();
    targets.sort();
    targets.dedup();
    if targets.is_empty() {
        return Ok(0);
    }
    Ok(store::enqueue_activity(conn, activity_id, signer, body, &targets).await?)
}

/// Queues an activity for every accepted follower of `target` (a group's relay): one
/// delivery per instance with a shared inbox, none to ourselves. Returns the deliveries
/// queued.
pub async fn queue_to_followers(
    conn: &mut Conn,
    ctx: &Context,
    activity_id: &str,
    signer: &str,
    body: &str,
    target: &str,
) -> Result<usize, CoreError> {
    let local_host = identity::local_host(&ctx.settings);
    Ok(store::enqueue_to_followers(conn, activity_id, signer, body, target, &local_host).await?)
}

/// Where to deliver to reach every accepted follower of `target`: one shared inbox per
/// instance when it has one.
pub async fn follower_inboxes(conn: &mut Conn, target: &str) -> Result<Vec<String>, CoreError> {
    Ok(store::follower_inboxes(conn, target).await?)
}

/// Deliveries due now, claimed under a lease so that other workers skip them.
pub async fn claim_deliveries(
    conn: &mut Conn,
    limit: i64,
    lease_seconds: f64,
    busy_hosts: &[String],
) -> Result<Vec<ClaimedDelivery>, CoreError> {
    Ok(store::claim_deliveries(conn, limit, lease_seconds, busy_hosts).await?)
}

/// Deliveries to `host` due now, claimed under a lease (a slot for that host freed up).
pub async fn claim_deliveries_to(
    conn: &mut Conn,
    limit: i64,
    lease_seconds: f64,
    host: &str,
) -> Result<Vec<ClaimedDelivery>, CoreError> {
    Ok(store::claim_deliveries_to(conn, limit, lease_seconds, host).await?)
}

/// The delivery arrived (or was refused for good): it leaves the queue; a success also tells
/// us the instance is alive (written at most once a minute per instance, and at once after a
/// failure: every delivery writing it would make the instance's row the busiest in the
/// database).
pub async fn delivery_done(
    conn: &mut Conn,
    ctx: &Context,
    delivery: &ClaimedDelivery,
    delivered: bool,
) -> Result<(), CoreError> {
    store::finish_delivery(conn, delivery.id).await?;
    if delivered && ctx.hosts.alive_due(&delivery.host) {
        record_instance_alive(conn, ctx, &delivery.host).await?;
    }
    Ok(())
}

/// Deliveries that arrived, recorded together (the worker gathers them): they leave the
/// queue in one statement, and their instances are recorded alive (at most once a minute
/// each).
pub async fn deliveries_done(
    conn: &mut Conn,
    ctx: &Context,
    delivered: &[(i64, String)],
) -> Result<(), CoreError> {
    let ids: Vec<i64> = delivered.iter().map(|(id, _)| *id).collect();
    store::finish_deliveries(conn, &ids).await?;
    let mut hosts: Vec<&str> = delivered.iter().map(|(_, host)| host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    for host in hosts {
        if ctx.hosts.alive_due(host) {
            record_instance_alive(conn, ctx, host).await?;
        }
    }
    Ok(())
}

/// What became of a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AfterFailure {
    /// Tried again at this time.
    Retry(DateTime<Utc>),
    /// Failed too many times: given up.
    GivenUp,
    /// Its instance has failed every delivery for too long: marked dead, its queue dropped
    /// (this many deliveries), skipped until it contacts us again.
    InstanceDead(usize),
}

/// Records a failed attempt: retried later with exponential backoff, given up after the last
/// attempt, or the whole instance marked dead.
pub async fn delivery_failed(
    conn: &mut Conn,
    ctx: &Context,
    delivery: &ClaimedDelivery,
    error: &str,
) -> Result<AfterFailure, CoreError> {
    let settings = &ctx.settings.federation;
    // The next success must be written, to clear the failure.
    ctx.hosts.alive_forget(&delivery.host);
    let dead_before = Utc::now() - chrono::Duration::hours(settings.dead_after_hours.into());
    if store::record_instance_failure(conn, &delivery.host, dead_before).await? {
        let dropped = store::drop_deliveries_to(conn, &delivery.host).await?;
        return Ok(AfterFailure::InstanceDead(dropped));
    }
    match retry_delay(
        delivery.attempts as u32,
        settings.retry_first_delay_seconds,
        rand::random::<f64>(),
    ) {
        Some(delay) => {
            let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            store::retry_delivery_at(conn, delivery.id, at, error).await?;
            Ok(AfterFailure::Retry(at))
        }
        None => {
            store::finish_delivery(conn, delivery.id).await?;
            Ok(AfterFailure::GivenUp)
        }
    }
}

/// Wakes `wake` whenever deliveries or outbox events are queued (by any process on the same
/// database). Runs until aborted.
pub async fn wake_on_new_deliveries(database_url: String, wake: Wakeups) {
    store::listen_for_deliveries(database_url, wake).await
}

pub async fn queue_stats(conn: &mut Conn) -> Result<QueueStats, CoreError> {
    Ok(store::queue_stats(conn).await?)
}

/// When the next queued delivery falls due, if any.
pub async fn next_due_at(conn: &mut Conn) -> Result<Option<DateTime<Utc>>, CoreError> {
    Ok(store::next_due_at(conn).await?)
}

// ---- other instances ----

/// Whether `host` is blocked, when this process read it recently (None: read it with
/// [`instance_state`]).
pub fn known_block(ctx: &Context, host: &str) -> Option<bool> {
    ctx.hosts.blocked(host)
}

/// Blocked by configuration or by an admin, and whether it is dead.
pub async fn instance_state(
    conn: &mut Conn,
    ctx: &Context,
    host: &str,
) -> Result<InstanceState, CoreError> {
    let host = host.to_ascii_lowercase();
    let mut state = store::instance_state(conn, &host).await?;
    let configured = &ctx.settings.federation.blocked_instances;
    state.blocked |= configured.iter().any(|h| h.eq_ignore_ascii_case(&host));
    ctx.hosts.set_blocked(&host, state.blocked);
    Ok(state)
}

/// Remembers what an admin of this process just decided for `host`, so that it applies here
/// at once.
pub(crate) fn remember_block(ctx: &Context, host: &str, blocked: bool) {
    ctx.hosts.set_blocked(host, blocked);
}

/// Whether `host` talking to us should be recorded (at most once a minute per instance).
pub fn alive_due(ctx: &Context, host: &str) -> bool {
    ctx.hosts.alive_due(host)
}

/// The instance talks to us, so it is alive: deliveries to it resume if it was marked dead.
pub async fn record_instance_alive(
    conn: &mut Conn,
    ctx: &Context,
    host: &str,
) -> Result<(), CoreError> {
    store::record_instance_alive(conn, host).await?;
    ctx.hosts.alive_written(host);
    Ok(())
}

// ---- follows ----

/// Our member `follower` follows `target` (a remote or local actor id), asking with the
/// Follow activity `follow_activity_id`: pending until the target's Accept, accepted at once
/// when the target is here. Returns the follow's state.
pub async fn follow(
    conn: &mut Conn,
    follower: &PersonActor,
    target_ap_id: &str,
    target_is_local: bool,
    follow_activity_id: &str,
) -> Result<&'static str, CoreError> {
    let follower_id = follower
        .ap_id
        .as_deref()
        .ok_or(CoreError::NotFound("actor"))?;
    store::upsert_follow(
        conn,
        &store::NewFollow {
            target_ap_id,
            follower_ap_id: follower_id,
            follower_inbox: follower.inbox_url.as_deref().unwrap_or(follower_id),
            follower_shared_inbox: follower.shared_inbox_url.as_deref(),
            accepted: target_is_local,
            follow_activity_id,
        },
    )
    .await?;
    Ok(if target_is_local {
        "accepted"
    } else {
        "pending"
    })
}

/// Our member stops following `target`; the follow as it was (for the Undo to send).
pub async fn unfollow(
    conn: &mut Conn,
    follower_ap_id: &str,
    target_ap_id: &str,
) -> Result<FollowRow, CoreError> {
    let existing = store::find_follow(conn, target_ap_id, follower_ap_id)
        .await?
        .ok_or(CoreError::NotFound("follow"))?;
    store::delete_follow(conn, target_ap_id, follower_ap_id).await?;
    Ok(existing)
}

/// What `follower` follows, newest first, with the cached title of group targets.
pub async fn follows_of(
    conn: &mut Conn,
    follower_ap_id: &str,
) -> Result<Vec<(FollowRow, Option<String>)>, CoreError> {
    Ok(store::follows_of(conn, follower_ap_id).await?)
}

/// What we answer to a remote person's Follow of one of our actors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowAnswer {
    /// Accepted: send an Accept to this inbox.
    Accept { inbox: String },
    /// A private group's follow waits for approval (members only): nothing is sent.
    Pending,
}

/// A remote person follows one of our groups or members. Public groups and members accept
/// everyone; a private group's content goes only to approved members, so its follows wait.
pub async fn receive_follow(
    conn: &mut Conn,
    follower: &PersonActor,
    target_ap_id: &str,
    follow_activity_id: &str,
) -> Result<FollowAnswer, CoreError> {
    let group = actors::group_by_ap_id(conn, target_ap_id)
        .await?
        .filter(|g| g.local);
    let person_known = actors::person_by_ap_id(conn, target_ap_id)
        .await?
        .is_some_and(|p| p.local);
    if group.is_none() && !person_known {
        return Err(CoreError::NotFound("actor"));
    }
    let needs_approval = group.as_ref().is_some_and(|g| g.visibility == "private");
    let follower_id = follower
        .ap_id
        .as_deref()
        .ok_or(CoreError::NotFound("actor"))?;
    let inbox = follower
        .inbox_url
        .clone()
        .unwrap_or_else(|| follower_id.to_owned());
    store::upsert_follow(
        conn,
        &store::NewFollow {
            target_ap_id,
            follower_ap_id: follower_id,
            follower_inbox: &inbox,
            follower_shared_inbox: follower.shared_inbox_url.as_deref(),
            accepted: !needs_approval,
            follow_activity_id,
        },
    )
    .await?;
    Ok(if needs_approval {
        FollowAnswer::Pending
    } else {
        FollowAnswer::Accept { inbox }
    })
}

/// How an Accept names the Follow it answers.
pub enum AcceptedFollow<'a> {
    /// The embedded Follow's actor (our member).
    Follower(&'a str),
    /// Only the Follow activity's id.
    Activity(&'a str),
}

/// `target` accepted a follow we asked for; false when we know of no such follow.
pub async fn follow_accepted(
    conn: &mut Conn,
    target_ap_id: &str,
    follow: AcceptedFollow<'_>,
) -> Result<bool, CoreError> {
    Ok(match follow {
        AcceptedFollow::Follower(follower) => {
            store::accept_follow(conn, target_ap_id, follower).await?
        }
        AcceptedFollow::Activity(id) => {
            store::accept_follow_by_activity(conn, target_ap_id, id).await?
        }
    })
}

/// A remote follower stops following one of our actors.
pub async fn follow_undone(
    conn: &mut Conn,
    target_ap_id: &str,
    follower_ap_id: &str,
) -> Result<bool, CoreError> {
    Ok(store::delete_follow(conn, target_ap_id, follower_ap_id).await?)
}

pub async fn count_followers(conn: &mut Conn, target: &str) -> Result<i64, CoreError> {
    Ok(store::count_followers(conn, target).await?)
}

pub async fn count_following(conn: &mut Conn, follower: &str) -> Result<i64, CoreError> {
    Ok(store::count_following(conn, follower).await?)
}

/// Whether any of our members follows `group` (accepted): only then do we mirror what it
/// announces.
pub async fn followed_here(conn: &mut Conn, ctx: &Context, group: &str) -> Result<bool, CoreError> {
    let base = format!("{}/", ctx.settings.public_base());
    Ok(store::has_follower_under(conn, group, &base).await?)
}
