//! Federation bookkeeping, on the caller's connection: the outbox of domain events, received
//! activity ids, follows in both directions, the delivery queue and other instances' health.
//! The ActivityPub side builds and reads activities; every row it needs written is written
//! here.

use crate::{identity, Caller, Conn, Context, CoreError};
use cenacle_db::{
    actors::{self, PersonActor},
    federation::{self as store, ClaimedDelivery, FollowRow, InstanceState, QueueStats},
};
use cenacle_domain::{
    delivery::{outbox_retry_delay, probe_delay, retry_delay},
    instance_lists,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

pub use cenacle_db::federation::{DueProbe, FailedEvent, OutboxEvent, QueuedEvent, Wakeups};

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

/// Records that turning `event` into activities failed with `error` (in a transaction of
/// its own: the one that tried was rolled back). It is tried again with backoff, and parked
/// as failed after its last attempt. Returns when it will be tried again (None: parked).
pub async fn outbox_event_failed(
    conn: &mut Conn,
    ctx: &Context,
    event: &QueuedEvent,
    error: &str,
) -> Result<Option<DateTime<Utc>>, CoreError> {
    let attempts = event.attempts.max(0) as u32 + 1;
    let retry_at = outbox_retry_delay(
        attempts,
        ctx.settings.federation.retry_first_delay_seconds,
        rand::random::<f64>(),
    )
    .map(|delay| Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default());
    store::outbox_event_failed(conn, event.id, error, retry_at).await?;
    Ok(retry_at)
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

/// Forgets received activity ids older than `federation.received_activity_max_age_days`, up
/// to `limit` of them; returns how many (call again while it returns `limit`).
pub async fn prune_received(
    conn: &mut Conn,
    ctx: &Context,
    limit: i64,
) -> Result<usize, CoreError> {
    let days = ctx.settings.federation.received_activity_max_age_days;
    Ok(store::prune_received(conn, i32::try_from(days).unwrap_or(i32::MAX), limit).await?)
}

/// Gives up deliveries parked for a dead instance longer than
/// `federation.parked_delivery_max_age_days`, up to `limit` of them; returns how many (call
/// again while it returns `limit`).
pub async fn expire_parked_deliveries(
    conn: &mut Conn,
    ctx: &Context,
    limit: i64,
) -> Result<usize, CoreError> {
    let days = ctx.settings.federation.parked_delivery_max_age_days;
    Ok(
        store::expire_parked_deliveries(conn, i32::try_from(days).unwrap_or(i32::MAX), limit)
            .await?,
    )
}

/// Removes sent activities that no delivery needs any more (see the store's note on why
/// some are left behind).
pub async fn sweep_orphan_activities(conn: &mut Conn) -> Result<usize, CoreError> {
    Ok(store::sweep_orphan_activities(conn).await?)
}

/// Whether an activity with this id was received (and applied) before.
pub async fn received_before(conn: &mut Conn, activity_id: &str) -> Result<bool, CoreError> {
    Ok(store::was_received(conn, activity_id).await?)
}

// ---- the delivery queue ----

/// Queues an activity (its JSON `body`, signed by the local actor `signer`) for each inbox:
/// one delivery per distinct inbox, none to ourselves or to blocked instances; those to dead
/// instances are kept parked until they are back.
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
    let allowed = allow_list(ctx);
    Ok(store::enqueue_activity(
        conn,
        activity_id,
        signer,
        body,
        &targets,
        allowed.as_deref(),
    )
    .await?)
}

/// In allow-list mode (`federation.allow_list_only`), the instances configured as allowed:
/// deliveries are queued only for them and those an admin allowed (no queue rows for the
/// others, which the delivery worker would refuse anyway).
fn allow_list(ctx: &Context) -> Option<Vec<String>> {
    let settings = &ctx.settings.federation;
    settings.allow_list_only.then(|| {
        settings
            .allowed_instances
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect()
    })
}

/// Queues an activity for every accepted follower of `target` (a group's relay): one
/// delivery per instance with a shared inbox, none to ourselves; and to `also_inbox` when no
/// follower on its server receives it (`store::enqueue_to_followers`). Returns the
/// deliveries queued.
pub async fn queue_to_followers(
    conn: &mut Conn,
    ctx: &Context,
    activity_id: &str,
    signer: &str,
    body: &str,
    target: &str,
    also_inbox: Option<&str>,
) -> Result<usize, CoreError> {
    let local_host = identity::local_host(&ctx.settings);
    let allowed = allow_list(ctx);
    Ok(store::enqueue_to_followers(
        conn,
        activity_id,
        signer,
        body,
        target,
        &local_host,
        allowed.as_deref(),
        also_inbox,
    )
    .await?)
}

/// Where to deliver to reach every accepted follower of `target`: one shared inbox per
/// instance when it has one.
pub async fn follower_inboxes(conn: &mut Conn, target: &str) -> Result<Vec<String>, CoreError> {
    Ok(store::follower_inboxes(conn, target).await?)
}

/// Up to `limit` deliveries due now, claimed under a lease so that other workers skip them;
/// no instance ever has more than `federation.delivery_per_host` leased at once, across all
/// workers (run it in a transaction of its own: the host rows it locks stay locked until it
/// commits).
pub async fn claim_deliveries(
    conn: &mut Conn,
    ctx: &Context,
    limit: i64,
    lease_seconds: f64,
) -> Result<Vec<ClaimedDelivery>, CoreError> {
    let per_host = ctx.settings.federation.delivery_per_host.max(1) as i64;
    Ok(store::claim_deliveries(conn, limit, lease_seconds, per_host).await?)
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
    // The instance first, then its rows, as a failure locks them (see `deliveries_done`).
    if delivered && ctx.hosts.alive_due(&delivery.host) {
        record_instance_alive(conn, ctx, &delivery.host).await?;
    }
    store::finish_delivery(conn, delivery.id).await?;
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
    let mut hosts: Vec<String> = delivered
        .iter()
        .map(|(_, host)| host.clone())
        .filter(|host| ctx.hosts.alive_due(host))
        .collect();
    hosts.sort_unstable();
    hosts.dedup();
    // One statement for the whole batch: a fan-out to 10,000 instances would otherwise write
    // them one by one while the worker waits.
    // Alive before the rows leave: every path takes an instance's row before its queue's (a
    // failure marks it dead, then parks the queue), so none waits for the other in a circle.
    store::record_instances_alive(conn, &hosts).await?;
    store::finish_deliveries(conn, &ids).await?;
    for host in &hosts {
        ctx.hosts.alive_written(host);
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
    /// Its instance has failed every delivery for too long: marked dead, its queue parked
    /// (this many deliveries) until a probe or the instance itself shows it is back.
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
    let now = Utc::now();
    let dead_before = now - seconds(settings.dead_after_hours * 3600.0);
    let first_probe_at = now + seconds(settings.dead_probe_first_seconds);
    if store::record_instance_failure(conn, &delivery.host, dead_before, first_probe_at).await? {
        store::retry_delivery_at(conn, delivery.id, now, error).await?;
        let parked = store::park_deliveries_to(conn, &delivery.host).await?;
        return Ok(AfterFailure::InstanceDead(parked));
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

fn seconds(secs: f64) -> chrono::Duration {
    chrono::Duration::from_std(std::time::Duration::from_secs_f64(secs.max(0.0)))
        .unwrap_or(chrono::Duration::MAX)
}

/// Dead instances whose probe is due, claimed for `lease_seconds` (other workers skip them).
pub async fn claim_due_probes(
    conn: &mut Conn,
    limit: i64,
    lease_seconds: f64,
) -> Result<Vec<DueProbe>, CoreError> {
    Ok(store::claim_due_probes(conn, limit, lease_seconds).await?)
}

/// When the next dead instance's probe is due, if any.
pub async fn next_probe_at(conn: &mut Conn) -> Result<Option<DateTime<Utc>>, CoreError> {
    Ok(store::next_probe_at(conn).await?)
}

/// What a dead instance's probe found: alive (its parked deliveries are due now, in queue
/// order) or still down (probed again later, backing off to daily).
pub async fn probe_result(
    conn: &mut Conn,
    ctx: &Context,
    probe: &DueProbe,
    alive: bool,
) -> Result<(), CoreError> {
    if alive {
        return record_instance_alive(conn, ctx, &probe.host).await;
    }
    let delay = probe_delay(
        probe.probe_failures.max(0) as u32 + 1,
        ctx.settings.federation.dead_probe_first_seconds,
    );
    let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
    Ok(store::probe_failed(conn, &probe.host, next).await?)
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
    // Read only in allow-list mode, once per instance at most every few seconds (the verdict
    // is remembered).
    let allowed_by_admin = ctx.settings.federation.allow_list_only
        && cenacle_db::instance_moderation::instance_flags(conn, &host)
            .await?
            .is_some_and(|f| f.allowed);
    state.blocked = kept_out(ctx, &host, state.blocked, allowed_by_admin);
    ctx.hosts.set_blocked(&host, state.blocked);
    Ok(state)
}

/// Whether we keep `host` out, given what an admin decided of it: blocked by configuration or
/// by an admin, or, in allow-list mode, neither configured nor allowed by an admin (our own
/// host never is).
pub(crate) fn kept_out(
    ctx: &Context,
    host: &str,
    blocked_by_admin: bool,
    allowed_by_admin: bool,
) -> bool {
    let settings = &ctx.settings.federation;
    blocked_by_admin
        || instance_lists::names(&settings.blocked_instances, host)
        || (settings.allow_list_only
            && instance_lists::outside_allow_list(
                &settings.allowed_instances,
                host == identity::local_host(&ctx.settings),
                host,
                allowed_by_admin,
            ))
}

/// Whether `host` talking to us should be recorded (at most once a minute per instance).
pub fn alive_due(ctx: &Context, host: &str) -> bool {
    ctx.hosts.alive_due(host)
}

/// The instance talks to us (or answered a probe), so it is alive: its parked deliveries
/// resume if it was marked dead.
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

/// Our member `follower`, who follows the group `target` elsewhere, asks it again with the
/// Follow activity `follow_activity_id`: after a ban of theirs from the group was lifted or ran
/// out, whose `Block` made its server drop their follow (as Lemmy's and ours do) while we kept
/// it here (it carries what the group announces, the lifting included). Their follow is pending here again until the group's `Accept`
/// (a private group's moderators may take their time). False (nothing to send) when they do
/// not follow it here.
pub async fn renew_follow(
    conn: &mut Conn,
    follower: &PersonActor,
    target_ap_id: &str,
    follow_activity_id: &str,
) -> Result<bool, CoreError> {
    let Some(follower_id) = follower.ap_id.as_deref().filter(|_| follower.local) else {
        return Ok(false);
    };
    Ok(store::renew_follow(conn, target_ap_id, follower_id, follow_activity_id).await?)
}

/// Bans that ran out, up to `limit` of them, claimed and marked handled in the caller's
/// transaction (see `cenacle_db::reports::claim_bans_run_out_elsewhere`): how many were
/// claimed, and those of members of ours from groups elsewhere, each with its group and
/// member: the caller sends each member's Follow again (`renew_follow`), as for a ban lifted.
/// (Not a member banned from our instance now: their ban is counted, and set aside until that
/// ban ends.)
/// A ban that runs out comes with no `Undo{Block}` (Lemmy never sends one), while the group's
/// server dropped the member's follow with the ban: without this they would show as following
/// and receive nothing from the group.
/// `grace`: only bans that ran out at least that long ago (see the store's function).
pub async fn claim_bans_run_out(
    conn: &mut Conn,
    limit: i64,
    grace: chrono::TimeDelta,
) -> Result<(usize, Vec<(actors::Group, PersonActor)>), CoreError> {
    let claimed = cenacle_db::reports::claim_bans_run_out_elsewhere(conn, limit, grace).await?;
    let count = claimed.len();
    let owed: Vec<_> = claimed.into_iter().filter(|b| b.follow_again).collect();
    if owed.is_empty() {
        return Ok((count, vec![]));
    }
    // Two reads for the whole batch, not two per ban. Every row exists: a ban goes with its
    // group or person (ON DELETE CASCADE), and it is locked.
    let group_ids: Vec<i64> = owed.iter().map(|b| b.group_id).collect();
    let person_ids: Vec<i64> = owed.iter().map(|b| b.person_id).collect();
    let groups: HashMap<i64, actors::Group> = actors::groups_by_ids(conn, &group_ids)
        .await?
        .into_iter()
        .map(|g| (g.id, g))
        .collect();
    let people: HashMap<i64, PersonActor> = actors::people_by_ids(conn, &person_ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let due = owed
        .iter()
        .filter_map(|b| {
            Some((
                groups.get(&b.group_id)?.clone(),
                people.get(&b.person_id)?.clone(),
            ))
        })
        .collect();
    Ok((count, due))
}

/// Sending the Follow owed after the ban of `person_id` from `group_id` elsewhere ran out
/// failed (the caller rolled its savepoint back): a later pass claims the ban again, each
/// failure doubling the wait (`cenacle_db::reports::defer_ban_run_out`). Returns when.
pub async fn defer_ban_run_out(
    conn: &mut Conn,
    group_id: i64,
    person_id: i64,
) -> Result<Option<DateTime<Utc>>, CoreError> {
    Ok(cenacle_db::reports::defer_ban_run_out(conn, group_id, person_id).await?)
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
/// A group refuses a person banned from it (`banned_from_group`).
pub async fn receive_follow(
    conn: &mut Conn,
    follower: &PersonActor,
    target_ap_id: &str,
    follow_activity_id: &str,
) -> Result<FollowAnswer, CoreError> {
    // A local-only group (the champions group) has no existence for other servers.
    let group = actors::group_by_ap_id(conn, target_ap_id)
        .await?
        .filter(|g| g.local && !g.local_only);
    let person_known = actors::person_by_ap_id(conn, target_ap_id)
        .await?
        .is_some_and(|p| p.local);
    if group.is_none() && !person_known {
        return Err(CoreError::NotFound("actor"));
    }
    // Not from a person banned from the group (`banned_from_group`), as Lemmy refuses a
    // banned person's follow of a community: the ban is the moderators' answer about them,
    // and a follow would subscribe them to its Announces. We send no Reject of a Follow: the
    // inbox answers 202 with the reason and logs it, nothing recorded. The inbox held their
    // standing before it read their instance ban: a ban racing this follow waits for it.
    if let Some(group) = &group {
        crate::ban_checks::refuse_if_banned(conn, group.id, &Caller::remote(follower.id)).await?;
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
