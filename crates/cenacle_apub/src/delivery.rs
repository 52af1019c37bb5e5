//! Delivery workers: turn outbox events into activities, send queued deliveries, probe dead
//! instances and keep the federation tables trimmed.
//!
//! Rows live in PostgreSQL (`delivery`), so they survive restarts and any number of workers —
//! inside `cenacle serve` or as `cenacle deliver` processes — share the queue: each claims
//! disjoint rows with `FOR UPDATE SKIP LOCKED` and holds them under a lease that a crashed
//! worker's rows outlive. The per-host bound is counted in the database at each claim (see
//! `claim_deliveries`), so it holds across processes. Idle workers sleep until a NOTIFY
//! (deliveries or outbox events inserted), or until the next delivery, lease, outbox retry
//! falls due; a saturated worker waits for a slot to free, never polls.

use crate::{
    http_client::{blocked_by_configuration, build_one_shot},
    outgoing::from_event::process_outbox,
    signatures::{sign_request, SigningKey},
    ApubError, FedData, Federation,
};
use cenacle_core::{
    actors,
    federation::{self, AfterFailure, DueProbe, Wakeups},
    idempotency,
    model::ClaimedDelivery,
    post_views, Conn, CoreError, ScopedFutureExt,
};
use cenacle_domain::delivery::{classify_status, DeliveryOutcome};
use chrono::Utc;
use prometheus::{Gauge, IntCounterVec, IntGauge, Opts};
use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
    time::{Duration, Instant, SystemTime},
};
use tokio::{sync::watch, task::JoinSet};

/// How long a claimed delivery stays ours: three times the 10 s request timeout. A killed
/// worker's rows are claimable again after this.
const LEASE_SECONDS: f64 = 30.0;
/// The longest an idle worker sleeps without a NOTIFY (a missed notification costs this much).
const MAX_IDLE: Duration = Duration::from_secs(30);
/// Outbox events turned into deliveries per transaction.
const OUTBOX_PAGE: i64 = 100;
/// Arrivals removed from the queue in one statement, at most...
const FLUSH_BATCH: usize = 64;
/// ...and at the latest this long after the first of them arrived.
const FLUSH_AFTER: Duration = Duration::from_millis(20);
/// After recording arrivals failed, the wait before trying again (the batch is kept).
const FLUSH_RETRY: Duration = Duration::from_secs(1);
/// While deliveries are in flight, how often the queue is checked for retries falling due;
/// also the least wait after a claim found nothing although rows were due (all of them held
/// by other workers or at their host's bound).
const BUSY_RECHECK: Duration = Duration::from_secs(1);
/// After a claim that found fewer rows than free slots, the pause before the next one (so a
/// stream of NOTIFYs or finished deliveries does not rescan the queue each time). A claim
/// that stopped at a host's bound ([`stopped_at_a_host_bound`]) pauses until this worker
/// records arrivals, which free that host's slots, or this pause ends, whichever is first.
const SHORT_CLAIM_PAUSE: Duration = Duration::from_millis(50);
/// How often received activity ids are pruned and orphan activities swept.
const UPKEEP_EVERY: Duration = Duration::from_secs(3600);
/// The least time between two returns of freed memory to the system ([`IdleTrim`]).
const TRIM_EVERY: Duration = Duration::from_secs(10);
const PRUNE_BATCH: i64 = 5000;

/// The periodic clean-ups (the federation tables', the API's idempotency keys, past days'
/// post viewers).
#[derive(Debug, Clone, Copy)]
enum Cleanup {
    /// Received activity ids past `received_activity_max_age_days`.
    ReceivedIds,
    /// Deliveries parked for a dead instance past `parked_delivery_max_age_days`.
    ParkedDeliveries,
    /// `Idempotency-Key`s past `limits.idempotency_key_retention_hours`.
    IdempotencyKeys,
    /// Who viewed posts on the days before today (`cenacle_core::post_views`).
    PastViewDays,
}
/// Dead instances probed per round, and how long a probe claim keeps other workers off.
const PROBES_PER_ROUND: i64 = 16;
const PROBE_LEASE_SECONDS: f64 = 60.0;

struct Metrics {
    outcomes: IntCounterVec,
    depth: IntGauge,
    oldest: Gauge,
    outbox: IntGauge,
    outbox_failed: IntGauge,
    parked: IntGauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let outcomes = IntCounterVec::new(
        Opts::new("cenacle_deliveries_total", "Delivery attempts by outcome"),
        &["outcome"],
    )
    .expect("metric");
    let gauge = |name: &str, help: &str| {
        let g = IntGauge::new(name, help).expect("metric");
        let _ = prometheus::register(Box::new(g.clone()));
        g
    };
    let oldest = Gauge::new(
        "cenacle_delivery_oldest_pending_seconds",
        "Age of the oldest queued delivery",
    )
    .expect("metric");
    let _ = prometheus::register(Box::new(outcomes.clone()));
    let _ = prometheus::register(Box::new(oldest.clone()));
    Metrics {
        outcomes,
        depth: gauge(
            "cenacle_delivery_queue_depth",
            "Deliveries waiting in the queue",
        ),
        oldest,
        outbox: gauge(
            "cenacle_outbox_events_pending",
            "Domain events not yet turned into deliveries",
        ),
        outbox_failed: gauge(
            "cenacle_outbox_events_failed",
            "Domain events parked after their last failed attempt (listed in the admin API)",
        ),
        parked: gauge(
            "cenacle_deliveries_parked",
            "Deliveries waiting for a dead instance to come back",
        ),
    }
});

/// Refreshes the queue gauges (also called by `/metrics`).
pub async fn refresh_queue_metrics(conn: &mut Conn) -> Result<(), CoreError> {
    let stats = federation::queue_stats(conn).await?;
    METRICS.depth.set(stats.pending);
    METRICS.oldest.set(stats.oldest_seconds);
    METRICS.outbox.set(stats.outbox_events);
    METRICS.outbox_failed.set(stats.outbox_failed);
    METRICS.parked.set(stats.parked);
    Ok(())
}

pub struct DeliveryWorker {
    fed: Federation,
    database_url: String,
    keys: Mutex<HashMap<String, Arc<SigningKey>>>,
    /// For instances that get one delivery of a claim: no idle connection kept (memory stays
    /// flat whatever the fan-out). Instances getting several share the pooling client.
    one_shot: reqwest::Client,
    /// Rings when this worker marks an instance dead: its first probe is then due sooner
    /// than the prober's idle wait (other workers' deaths are seen within `MAX_IDLE`).
    new_dead: tokio::sync::Notify,
}

/// A delivery in flight, as the loop remembers it (without its body), to record a failure
/// if its task dies.
type InFlight = HashMap<tokio::task::Id, ClaimedDelivery>;

impl DeliveryWorker {
    pub fn new(fed: Federation, database_url: String) -> Arc<Self> {
        let one_shot =
            build_one_shot(&fed.config.ctx.settings).unwrap_or_else(|_| fed.config.client.clone());
        Arc::new(Self {
            fed,
            database_url,
            keys: Mutex::new(HashMap::new()),
            one_shot,
            new_dead: tokio::sync::Notify::new(),
        })
    }

    /// Runs until `shutdown` turns true; deliveries in flight are finished first.
    ///
    /// Each kind of database work is done only when it can find something: the outbox when an
    /// event was recorded (or a page was full, or the timer fired), a claim when deliveries
    /// were queued, slots freed up or the timer fired. Deliveries that arrived leave the queue
    /// in batches; failures are recorded at once.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let settings = self.fed.config.ctx.settings.clone();
        let concurrency = settings.federation.delivery_concurrency.max(1);
        let wake = Wakeups::default();
        let listener = tokio::spawn(federation::wake_on_new_deliveries(
            self.database_url.clone(),
            wake.clone(),
        ));
        let upkeep = tokio::spawn(self.clone().upkeep(shutdown.clone()));
        let prober = tokio::spawn(self.clone().probe_dead(wake.clone(), shutdown.clone()));
        let mut in_flight: JoinSet<Attempt> = JoinSet::new();
        let mut flying: InFlight = HashMap::new();
        let mut arrived: Vec<(i64, String)> = Vec::new();
        let mut oldest_arrival = Instant::now();
        let mut flush_after = FLUSH_AFTER;
        let mut last_metrics = Instant::now() - Duration::from_secs(60);
        // Both start due: work may have been queued while no worker ran.
        let (mut outbox_due, mut claim_wanted) = (true, true);
        let mut last_claim = Instant::now();
        let mut last_outbox = Instant::now();
        let mut short_claim: Option<Instant> = None;
        // The last short claim stopped at a host's bound: its pause ends at the next recording
        // of arrivals.
        let mut short_at_bound = false;
        let per_host = settings.federation.delivery_per_host.max(1);
        let mut trim = IdleTrim::default();
        tracing::info!(
            concurrency,
            per_host = settings.federation.delivery_per_host,
            "delivery worker started"
        );

        while !*shutdown.borrow() {
            if outbox_due {
                last_outbox = Instant::now();
                outbox_due = match process_outbox(&self.fed.data(), OUTBOX_PAGE).await {
                    // A full page: there may be more.
                    Ok(n) => n as i64 == OUTBOX_PAGE,
                    Err(err) => {
                        tracing::error!(error = %err, "turning outbox events into deliveries failed");
                        false
                    }
                };
            }
            let may_claim = |in_flight: &JoinSet<Attempt>, short: Option<Instant>| {
                let free = concurrency.saturating_sub(in_flight.len());
                // Claiming one row at a time as slots free up would cost a query per delivery.
                let worth = in_flight.is_empty() || free >= (concurrency / 2).max(1);
                let paused = short.is_some_and(|at| at.elapsed() < SHORT_CLAIM_PAUSE);
                (free > 0 && worth && !paused).then_some(free)
            };
            if let Some(free) = may_claim(&in_flight, short_claim).filter(|_| claim_wanted) {
                let claimed = self.claim(free).await;
                last_claim = Instant::now();
                claim_wanted = claimed.len() == free;
                short_claim = (!claim_wanted).then_some(last_claim);
                short_at_bound = !claim_wanted
                    && stopped_at_a_host_bound(
                        claimed.iter().map(|d| d.host.as_str()),
                        flying
                            .values()
                            .map(|d| d.host.as_str())
                            .chain(arrived.iter().map(|(_, host)| host.as_str())),
                        per_host,
                    );
                if !claimed.is_empty() {
                    trim.sent();
                }
                self.spawn_all(claimed, &mut in_flight, &mut flying);
            }
            if !arrived.is_empty()
                && (arrived.len() >= FLUSH_BATCH
                    || in_flight.is_empty()
                    || oldest_arrival.elapsed() >= flush_after)
            {
                if self.record_arrivals(&arrived).await {
                    arrived.clear();
                    flush_after = FLUSH_AFTER;
                    // Their hosts' slots are free again: a host that bounded the last claim
                    // may give more now, not only after the pause.
                    if short_at_bound {
                        short_claim = None;
                        short_at_bound = false;
                    }
                } else {
                    // Kept: tried again later (their leases keep them from being resent
                    // meanwhile, and count against their hosts' bounds).
                    oldest_arrival = Instant::now();
                    flush_after = FLUSH_RETRY;
                }
            }
            if last_metrics.elapsed() > Duration::from_secs(5) {
                last_metrics = Instant::now();
                if let Ok(mut conn) = self.fed.config.db.conn().await {
                    let _ = refresh_queue_metrics(&mut conn).await;
                }
            }
            if outbox_due || claim_wanted && may_claim(&in_flight, short_claim).is_some() {
                continue;
            }
            let idle = in_flight.is_empty() && arrived.is_empty();
            if idle && trim.due(Instant::now()) {
                // Off the runtime's threads: a trim takes each arena's lock in turn and walks
                // its free chunks, longer the bigger and more broken up the heap is.
                tokio::task::spawn_blocking(give_back_freed_memory);
            }
            let mut sleep = if in_flight.is_empty() {
                let due = self.time_until_next_due().await;
                // Rows due that the last claim could not take (other workers hold them, or
                // their hosts are at their bound elsewhere): look again in a while, not now.
                match short_claim {
                    Some(at) if due < BUSY_RECHECK => {
                        due.max(BUSY_RECHECK.saturating_sub(at.elapsed()))
                    }
                    _ => due,
                }
            } else {
                // Retries falling due while busy are picked up by a periodic claim.
                BUSY_RECHECK.saturating_sub(last_claim.elapsed())
            };
            if claim_wanted {
                if let Some(at) = short_claim {
                    sleep = sleep.min(SHORT_CLAIM_PAUSE.saturating_sub(at.elapsed()));
                }
            }
            if !arrived.is_empty() {
                sleep = sleep.min(flush_after.saturating_sub(oldest_arrival.elapsed()));
            }
            if idle {
                // A trim put off for being too soon is done when it falls due, not at the
                // next wake-up (up to `MAX_IDLE` later).
                if let Some(wait) = trim.put_off(Instant::now()) {
                    sleep = sleep.min(wait);
                }
            }
            tokio::select! {
                _ = wake.outbox.notified() => outbox_due = true,
                _ = wake.deliveries.notified() => claim_wanted = true,
                Some(done) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                    // A slot freed: its host may have more waiting.
                    claim_wanted = true;
                    if let Some(id) = self.finished(done, &mut flying).await {
                        if arrived.is_empty() {
                            oldest_arrival = Instant::now();
                        }
                        arrived.push(id);
                    }
                }
                _ = tokio::time::sleep(sleep) => {
                    // Also what a lost NOTIFY or an outbox retry falling due needs — the
                    // outbox at most every BUSY_RECHECK: while busy, this timer is mostly the
                    // flush's, and the outbox's NOTIFY wakes us for new events anyway.
                    claim_wanted = true;
                    if last_outbox.elapsed() >= BUSY_RECHECK || in_flight.is_empty() {
                        outbox_due = true;
                    }
                }
                _ = shutdown.changed() => {}
            }
        }
        while let Some(done) = in_flight.join_next_with_id().await {
            if let Some(id) = self.finished(done, &mut flying).await {
                arrived.push(id);
            }
        }
        if !self.record_arrivals(&arrived).await {
            tracing::warn!(count = arrived.len(), "deliveries that arrived stay queued; they will be sent again when their lease expires");
        }
        listener.abort();
        let _ = upkeep.await;
        let _ = prober.await;
        tracing::info!("delivery worker stopped");
    }

    fn spawn_all(
        self: &Arc<Self>,
        claimed: Vec<ClaimedDelivery>,
        in_flight: &mut JoinSet<Attempt>,
        flying: &mut InFlight,
    ) {
        let mut per_host: HashMap<&str, usize> = HashMap::new();
        for d in &claimed {
            *per_host.entry(d.host.as_str()).or_default() += 1;
        }
        let several: Vec<bool> = claimed
            .iter()
            .map(|d| per_host[d.host.as_str()] > 1)
            .collect();
        for (delivery, keep_alive) in claimed.into_iter().zip(several) {
            let memo = ClaimedDelivery {
                body: String::new(),
                ..delivery.clone()
            };
            let this = self.clone();
            let handle = in_flight.spawn(async move { this.deliver(delivery, keep_alive).await });
            flying.insert(handle.id(), memo);
        }
    }

    /// A task ended: what it delivered, if anything. A task that died (a panic) frees its
    /// slot here, and its delivery is recorded as failed (retried with backoff).
    async fn finished(
        &self,
        done: Result<(tokio::task::Id, Attempt), tokio::task::JoinError>,
        flying: &mut InFlight,
    ) -> Option<(i64, String)> {
        match done {
            Ok((task, attempt)) => {
                flying.remove(&task);
                attempt.arrived.map(|id| (id, attempt.host))
            }
            Err(err) => {
                if let Some(d) = flying.remove(&err.id()) {
                    tracing::error!(error = %err, delivery = d.id, "delivery task died; recorded as a failure");
                    METRICS.outcomes.with_label_values(&["failed"]).inc();
                    if let Err(e) = self.failed(&d, "the delivery task died").await {
                        tracing::error!(error = %e, delivery = d.id, "recording a delivery failure failed; its lease will expire");
                    }
                }
                None
            }
        }
    }

    /// Deliveries that arrived leave the queue together; false when that failed (the caller
    /// keeps them and tries again).
    async fn record_arrivals(&self, arrived: &[(i64, String)]) -> bool {
        if arrived.is_empty() {
            return true;
        }
        let (ctx, db) = (&self.fed.config.ctx, &self.fed.config.db);
        let result = db
            .transaction(|conn| federation::deliveries_done(conn, ctx, arrived).scope_boxed())
            .await;
        match result {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(error = %err, count = arrived.len(), "recording delivered activities failed; will try again");
                false
            }
        }
    }

    /// Claims up to `limit` due deliveries (the database keeps every host under its bound).
    async fn claim(&self, limit: usize) -> Vec<ClaimedDelivery> {
        let (ctx, db) = (&self.fed.config.ctx, &self.fed.config.db);
        let limit = limit as i64;
        db.transaction(|conn| {
            federation::claim_deliveries(conn, ctx, limit, LEASE_SECONDS).scope_boxed()
        })
        .await
        .unwrap_or_else(|err| {
            tracing::error!(error = %err, "claiming deliveries failed");
            Vec::new()
        })
    }

    async fn time_until_next_due(&self) -> Duration {
        let next = async {
            let mut conn = self.fed.config.db.conn().await.ok()?;
            federation::next_due_at(&mut conn).await.ok()?
        }
        .await;
        match next {
            Some(at) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(MAX_IDLE),
            None => MAX_IDLE,
        }
    }

    /// Runs one clean-up in short transactions (a batch each) until a batch comes back short;
    /// how many rows it removed.
    async fn drain(&self, what: Cleanup) -> usize {
        let (ctx, db) = (&self.fed.config.ctx, &self.fed.config.db);
        let mut removed = 0;
        loop {
            let batch = db
                .transaction(|conn| {
                    async move {
                        match what {
                            Cleanup::ReceivedIds => {
                                federation::prune_received(conn, ctx, PRUNE_BATCH).await
                            }
                            Cleanup::ParkedDeliveries => {
                                federation::expire_parked_deliveries(conn, ctx, PRUNE_BATCH).await
                            }
                            Cleanup::IdempotencyKeys => {
                                idempotency::prune_expired(conn, ctx, PRUNE_BATCH).await
                            }
                            Cleanup::PastViewDays => {
                                post_views::forget_past_days(conn, PRUNE_BATCH).await
                            }
                        }
                    }
                    .scope_boxed()
                })
                .await;
            match batch {
                Ok(n) => {
                    removed += n;
                    if (n as i64) < PRUNE_BATCH {
                        return removed;
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, cleanup = ?what, "federation clean-up failed");
                    return removed;
                }
            }
        }
    }

    /// Prunes old received activity ids, parked deliveries, idempotency keys and past days'
    /// viewers, and sweeps orphan activities, at start and then every hour (any number of
    /// workers may do it at once: the statements are idempotent).
    async fn upkeep(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let db = &self.fed.config.db;
        while !*shutdown.borrow() {
            let pruned = self.drain(Cleanup::ReceivedIds).await;
            let expired = self.drain(Cleanup::ParkedDeliveries).await;
            let keys = self.drain(Cleanup::IdempotencyKeys).await;
            let views = self.drain(Cleanup::PastViewDays).await;
            if expired > 0 {
                tracing::warn!(expired, "gave up deliveries parked for dead instances");
            }
            let swept = db
                .transaction(|conn| federation::sweep_orphan_activities(conn).scope_boxed())
                .await
                .unwrap_or_else(|err| {
                    tracing::error!(error = %err, "sweeping orphan activities failed");
                    0
                });
            tracing::info!(pruned, expired, keys, views, swept, "upkeep done");
            tokio::select! {
                _ = tokio::time::sleep(UPKEEP_EVERY) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Probes dead instances whose probe is due (their NodeInfo): one that answers is alive
    /// again and what waited for it is due at once; one that does not is probed later,
    /// backing off to daily.
    async fn probe_dead(self: Arc<Self>, wake: Wakeups, mut shutdown: watch::Receiver<bool>) {
        let (ctx, db) = (&self.fed.config.ctx, &self.fed.config.db);
        while !*shutdown.borrow() {
            let due = db
                .transaction(|conn| {
                    federation::claim_due_probes(conn, PROBES_PER_ROUND, PROBE_LEASE_SECONDS)
                        .scope_boxed()
                })
                .await
                .unwrap_or_else(|err| {
                    tracing::error!(error = %err, "claiming instance probes failed");
                    Vec::new()
                });
            let mut probes = JoinSet::new();
            for probe in due {
                let this = self.clone();
                probes.spawn(async move {
                    let alive = this.probe(&probe).await;
                    (probe, alive)
                });
            }
            let mut revived = false;
            while let Some(Ok((probe, alive))) = probes.join_next().await {
                let recorded = db
                    .transaction(|conn| {
                        federation::probe_result(conn, ctx, &probe, alive).scope_boxed()
                    })
                    .await;
                match recorded {
                    Ok(()) if alive => {
                        tracing::info!(host = %probe.host, "dead instance answered its probe: deliveries resume");
                        revived = true;
                    }
                    Ok(()) => {
                        tracing::info!(host = %probe.host, "dead instance still down")
                    }
                    Err(err) => {
                        tracing::error!(error = %err, host = %probe.host, "recording a probe failed")
                    }
                }
            }
            if revived {
                wake.deliveries.notify_one();
            }
            let wait = async {
                let mut conn = db.conn().await.ok()?;
                federation::next_probe_at(&mut conn).await.ok()?
            }
            .await
            // No dead instance: nothing to probe until one dies (`new_dead`, or another
            // worker's death seen at the idle wait). A probe due now (or overdue) is taken
            // after a short pause rather than in a loop.
            .map(|at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(MAX_IDLE)
            .clamp(Duration::from_millis(100), MAX_IDLE);
            tokio::select! {
                // A probe claimed by a worker that died comes due again after its lease.
                _ = tokio::time::sleep(wait) => {}
                _ = self.new_dead.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Whether the instance answers its NodeInfo discovery document (any 2xx).
    async fn probe(&self, probe: &DueProbe) -> bool {
        let scheme = probe
            .inbox_url
            .as_deref()
            .and_then(|inbox| url::Url::parse(inbox).ok())
            .map(|u| u.scheme().to_owned())
            .unwrap_or_else(|| "https".to_owned());
        // Checked as every fetch is: the host comes from our own instance table, but it was
        // first written from a remote document.
        let loopback_only = self
            .fed
            .config
            .ctx
            .settings
            .federation
            .allow_insecure_loopback_federation;
        let url = match url::Url::parse(&format!("{scheme}://{}/.well-known/nodeinfo", probe.host))
        {
            Ok(url) if crate::http_client::check_peer_url(&url, loopback_only).is_ok() => url,
            _ => {
                tracing::warn!(host = %probe.host, "probe of an instance whose address is refused; counted as down");
                return false;
            }
        };
        match self.one_shot.get(url).send().await {
            Ok(response) => response.status().is_success(),
            Err(err) => {
                tracing::debug!(host = %probe.host, error = %err, "probe failed");
                false
            }
        }
    }

    fn signing_key(
        &self,
        pem_lookup: Option<String>,
        actor: &str,
    ) -> Result<Arc<SigningKey>, String> {
        if let Some(key) = self.keys.lock().unwrap().get(actor) {
            return Ok(key.clone());
        }
        let pem = pem_lookup.ok_or_else(|| format!("no private key for {actor}"))?;
        let key = Arc::new(SigningKey::from_pem(actor, &pem)?);
        self.keys
            .lock()
            .unwrap()
            .insert(actor.to_owned(), key.clone());
        Ok(key)
    }

    /// Sends one delivery; failures and refusals are recorded here, arrivals by the loop.
    async fn deliver(&self, d: ClaimedDelivery, keep_alive: bool) -> Attempt {
        let outcome = self.send(&d, keep_alive).await;
        let mut arrived = None;
        let (label, result) = match outcome {
            Ok(status) => match classify_status(Some(status)) {
                DeliveryOutcome::Delivered => {
                    arrived = Some(d.id);
                    ("delivered", Ok(()))
                }
                DeliveryOutcome::Rejected => {
                    tracing::warn!(inbox = %d.inbox_url, status, activity = %d.activity_ap_id, "delivery refused by the receiver; dropped");
                    ("rejected", self.dropped(&d).await)
                }
                DeliveryOutcome::Failed => {
                    ("failed", self.failed(&d, &format!("HTTP {status}")).await)
                }
            },
            Err(error) => ("failed", self.failed(&d, &error).await),
        };
        METRICS.outcomes.with_label_values(&[label]).inc();
        if let Err(err) = result {
            tracing::error!(error = %err, delivery = d.id, "recording a delivery outcome failed; the lease will expire and it will be retried");
        }
        Attempt {
            host: d.host,
            arrived,
        }
    }

    /// One signed POST; the HTTP status, or why there was none.
    async fn send(&self, d: &ClaimedDelivery, keep_alive: bool) -> Result<u16, String> {
        // The database's block was read with the claim (of the inbox's host, and of the
        // instance a handle names, for an inbox that is its people's alone); the configured
        // one is in memory.
        let settings = &self.fed.config.ctx.settings;
        if d.host_blocked || d.personal_inbox_blocked || blocked_by_configuration(settings, &d.host)
        {
            return Ok(403);
        }
        // Allow-list mode: an instance not listed gets nothing (read at most every few
        // seconds per instance, like the block list).
        if settings.federation.allow_list_only
            && crate::http_client::is_blocked(&self.fed.config.db, &d.host)
                .await
                .map_err(|e| e.to_string())?
        {
            return Ok(403);
        }
        let cached = self.keys.lock().unwrap().get(&d.signer_ap_id).cloned();
        let key = match cached {
            Some(key) => key,
            None => {
                // The instance's own actors (the instance actor, and the reporting actor that
                // sends anonymous reports) sign with the instance key, held in memory.
                let base = self.fed.config.base();
                let own = [
                    cenacle_core::identity::urls::instance_actor(&base),
                    cenacle_core::identity::urls::reporting_actor(&base),
                ];
                let pem = if own.contains(&d.signer_ap_id) {
                    Some(self.fed.config.instance_keys.1.clone())
                } else {
                    let mut conn = self.fed.config.db.conn().await.map_err(|e| e.to_string())?;
                    actors::local_private_key(&mut conn, &d.signer_ap_id)
                        .await
                        .map_err(|e| e.to_string())?
                };
                self.signing_key(pem, &d.signer_ap_id)?
            }
        };
        let url = url::Url::parse(&d.inbox_url).map_err(|e| e.to_string())?;
        // Endpoints are checked when an actor is stored; this covers rows queued before that
        // rule existed. A refused address never becomes acceptable: dropped like a 403.
        let loopback_only = self
            .fed
            .config
            .ctx
            .settings
            .federation
            .allow_insecure_loopback_federation;
        if let Err(refused) = crate::http_client::check_peer_url(&url, loopback_only) {
            tracing::warn!(inbox = %d.inbox_url, %refused, "delivery to a refused address; dropped");
            return Ok(403);
        }
        let headers = sign_request(
            &key,
            "POST",
            &url,
            Some(d.body.as_bytes()),
            SystemTime::now(),
        )?;
        let data: &FedData = &self.fed.config;
        let client = if keep_alive {
            &data.client
        } else {
            &self.one_shot
        };
        let mut request = client.post(url.as_str()).header(
            "Content-Type",
            activitypub_federation::FEDERATION_CONTENT_TYPE,
        );
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .body(d.body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    }

    async fn dropped(&self, d: &ClaimedDelivery) -> Result<(), ApubError> {
        let ctx = &self.fed.config.ctx;
        let mut conn = self.fed.config.db.conn().await?;
        Ok(federation::delivery_done(&mut conn, ctx, d, false).await?)
    }

    async fn failed(&self, d: &ClaimedDelivery, error: &str) -> Result<(), ApubError> {
        let (ctx, db) = (&self.fed.config.ctx, &self.fed.config.db);
        let after = db
            .transaction(|conn| federation::delivery_failed(conn, ctx, d, error).scope_boxed())
            .await?;
        match after {
            AfterFailure::InstanceDead(parked) => {
                self.new_dead.notify_one();
                tracing::warn!(host = %d.host, parked, "instance failing for too long: marked dead, its deliveries parked until a probe finds it")
            }
            AfterFailure::Retry(at) => {
                tracing::info!(inbox = %d.inbox_url, attempt = d.attempts, error, retry_at = %at, "delivery failed; will retry")
            }
            AfterFailure::GivenUp => {
                tracing::warn!(inbox = %d.inbox_url, attempts = d.attempts, error, "delivery failed too often; given up")
            }
        }
        Ok(())
    }
}

/// Whether a claim that came back with fewer rows than free slots stopped at a host's bound
/// rather than at the end of what was due: for some host, the rows `claimed` (one item per
/// row) plus those this worker already `held` for it (in flight, or arrived and not yet
/// recorded: the database counts both as leased) reach `per_host`. More rows of that host
/// may be due, claimable as soon as arrivals are recorded — with one busy follower instance
/// every claim is short so, and a timed pause after each capped the relay at `per_host` per
/// pause. A host held at its bound by this worker alone counts even when the claim got none
/// of it (whether more are due is not known: at worst one more claim, after the recording).
/// Rows other workers hold are not seen here: a claim bounded by those counts as short in the
/// plain sense (the timed pause), as before.
fn stopped_at_a_host_bound<'a>(
    claimed: impl IntoIterator<Item = &'a str>,
    held: impl IntoIterator<Item = &'a str>,
    per_host: usize,
) -> bool {
    let mut leased: HashMap<&str, usize> = HashMap::new();
    for host in claimed.into_iter().chain(held) {
        *leased.entry(host).or_default() += 1;
    }
    leased.values().any(|&n| n >= per_host)
}

/// When the worker gives freed memory back to the system: as it goes idle after sending, at
/// most every [`TRIM_EVERY`] (a trickle of deliveries trims that often, not at each one). A
/// trim skipped for being too soon is done when it falls due, the idle worker woken for it
/// ([`IdleTrim::put_off`]).
#[derive(Debug, Default)]
struct IdleTrim {
    /// Deliveries were sent since the last trim.
    sent_since: bool,
    last: Option<Instant>,
}

impl IdleTrim {
    fn sent(&mut self) {
        self.sent_since = true;
    }

    /// Whether to trim now, the worker being idle (nothing in flight, nothing to record);
    /// true counts as done.
    fn due(&mut self, now: Instant) -> bool {
        let too_soon = self
            .last
            .is_some_and(|at| now.saturating_duration_since(at) < TRIM_EVERY);
        if !self.sent_since || too_soon {
            return false;
        }
        self.sent_since = false;
        self.last = Some(now);
        true
    }

    /// How long until a trim put off for being too soon falls due; None when none waits.
    fn put_off(&self, now: Instant) -> Option<Duration> {
        let last = self.last.filter(|_| self.sent_since)?;
        Some(TRIM_EVERY.saturating_sub(now.saturating_duration_since(last)))
    }
}

/// Gives the pages malloc holds free back to the system. A fan-out leaves what its
/// deliveries used (connections, buffers, rows: 6.5–7 MiB after one to 10,000 instances,
/// docs/benchmarks.md) free but resident, in glibc's arenas; `malloc_trim` releases the free
/// pages of every arena (and the main heap's top).
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes each arena's lock and touches only free chunks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What became of one delivery, for the loop.
struct Attempt {
    host: String,
    /// The delivery's id if it arrived (its row is removed with the next batch).
    arrived: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::{stopped_at_a_host_bound, IdleTrim, TRIM_EVERY};
    use std::time::{Duration, Instant};

    #[test]
    fn freed_memory_is_given_back_once_idle_after_sending_at_most_every_trim_every() {
        let start = Instant::now();
        let mut trim = IdleTrim::default();
        // Idle without having sent anything: nothing to give back.
        assert!(!trim.due(start));
        trim.sent();
        assert!(trim.due(start));
        // Done: not again until more is sent.
        assert!(!trim.due(start + TRIM_EVERY * 2));
        // Sent again soon after: waits out the interval...
        trim.sent();
        assert!(!trim.due(start + TRIM_EVERY - Duration::from_millis(1)));
        // ...the worker told to wake when it falls due...
        assert_eq!(
            trim.put_off(start + TRIM_EVERY - Duration::from_secs(3)),
            Some(Duration::from_secs(3))
        );
        // ...and is done at the first idle moment after it.
        assert!(trim.due(start + TRIM_EVERY));
        assert_eq!(
            trim.put_off(start + TRIM_EVERY),
            None,
            "done: nothing waits"
        );
        assert!(!trim.due(start + TRIM_EVERY * 3));
    }

    #[test]
    fn a_claim_stopped_at_a_host_bound_is_told_from_a_drained_queue() {
        let none: [&str; 0] = [];
        // One follower instance, nothing held: 8 rows is its whole allowance.
        assert!(stopped_at_a_host_bound(["a.test"; 8], none, 8));
        // 5 more while 3 of its rows are in flight or arrived but not recorded.
        assert!(stopped_at_a_host_bound(["a.test"; 5], ["a.test"; 3], 8));
        // Fewer than the allowance: the queue had no more due for it.
        assert!(!stopped_at_a_host_bound(["a.test"; 5], none, 8));
        assert!(!stopped_at_a_host_bound(["a.test"; 5], ["b.test"; 7], 8));
        // Nothing claimed of a host this worker holds at its bound: it could give none.
        assert!(stopped_at_a_host_bound(none, ["a.test"; 8], 8));
        assert!(!stopped_at_a_host_bound(none, ["a.test"; 7], 8));
        assert!(!stopped_at_a_host_bound(none, none, 8));
        // One host of several at its bound is enough.
        assert!(stopped_at_a_host_bound(
            ["a.test", "b.test", "b.test"],
            ["b.test"],
            3
        ));
        assert!(!stopped_at_a_host_bound(
            ["a.test", "b.test", "b.test"],
            ["c.test", "c.test"],
            3
        ));
    }
}
