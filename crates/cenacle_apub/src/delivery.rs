//! Delivery workers: turn outbox events into activities, and send queued deliveries.
//!
//! Rows live in PostgreSQL (`delivery`), so they survive restarts and any number of workers —
//! inside `cenacle serve` or as `cenacle deliver` processes — share the queue: each claims
//! disjoint rows with `FOR UPDATE SKIP LOCKED` and holds them under a lease that a crashed
//! worker's rows outlive. Deliveries to one instance run in parallel up to a per-host bound.
//! Idle workers sleep until a NOTIFY (deliveries or outbox events inserted) or the next retry
//! falls due.

use crate::{
    http_client::is_blocked,
    outgoing::from_event::process_outbox,
    signatures::{sign_request, SigningKey},
    ApubError, FedData, Federation,
};
use cenacle_core::{
    actors,
    federation::{self, AfterFailure, Wakeups},
    model::ClaimedDelivery,
    Conn, CoreError, ScopedFutureExt,
};
use cenacle_domain::delivery::{classify_status, DeliveryOutcome};
use chrono::Utc;
use prometheus::{Gauge, IntCounterVec, IntGauge, Opts};
use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, LazyLock, Mutex},
    time::{Duration, Instant, SystemTime},
};
use tokio::{sync::watch, task::JoinSet};

/// How long a claimed delivery stays ours; well above the 10 s request timeout.
const LEASE_SECONDS: f64 = 60.0;
/// The longest an idle worker sleeps without a NOTIFY (a missed notification costs this much).
const MAX_IDLE: Duration = Duration::from_secs(30);
/// Outbox events turned into deliveries per transaction.
const OUTBOX_PAGE: i64 = 100;
/// Arrivals removed from the queue in one statement, at most...
const FLUSH_BATCH: usize = 32;
/// ...and at the latest this long after the first of them arrived.
const FLUSH_AFTER: Duration = Duration::from_millis(20);
/// While deliveries are in flight, how often the queue is checked for retries falling due.
const BUSY_RECHECK: Duration = Duration::from_secs(1);
/// After a claim that found fewer rows than free slots, the pause before the next one that
/// is not for a freed host (so a stream of NOTIFYs does not rescan a backlog of busy hosts).
const SHORT_CLAIM_PAUSE: Duration = Duration::from_millis(50);

struct Metrics {
    outcomes: IntCounterVec,
    depth: IntGauge,
    oldest: Gauge,
    outbox: IntGauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let outcomes = IntCounterVec::new(
        Opts::new("cenacle_deliveries_total", "Delivery attempts by outcome"),
        &["outcome"],
    )
    .expect("metric");
    let depth = IntGauge::new(
        "cenacle_delivery_queue_depth",
        "Deliveries waiting in the queue",
    )
    .expect("metric");
    let oldest = Gauge::new(
        "cenacle_delivery_oldest_pending_seconds",
        "Age of the oldest queued delivery",
    )
    .expect("metric");
    let _ = prometheus::register(Box::new(outcomes.clone()));
    let _ = prometheus::register(Box::new(depth.clone()));
    let outbox = IntGauge::new(
        "cenacle_outbox_events_pending",
        "Domain events not yet turned into deliveries",
    )
    .expect("metric");
    let _ = prometheus::register(Box::new(oldest.clone()));
    let _ = prometheus::register(Box::new(outbox.clone()));
    Metrics {
        outcomes,
        depth,
        oldest,
        outbox,
    }
});

/// Refreshes the queue gauges (also called by `/metrics`).
pub async fn refresh_queue_metrics(conn: &mut Conn) -> Result<(), CoreError> {
    let stats = federation::queue_stats(conn).await?;
    METRICS.depth.set(stats.pending);
    METRICS.oldest.set(stats.oldest_seconds);
    METRICS.outbox.set(stats.outbox_events);
    Ok(())
}

pub struct DeliveryWorker {
    fed: Federation,
    database_url: String,
    keys: Mutex<HashMap<String, Arc<SigningKey>>>,
}

impl DeliveryWorker {
    pub fn new(fed: Federation, database_url: String) -> Arc<Self> {
        Arc::new(Self {
            fed,
            database_url,
            keys: Mutex::new(HashMap::new()),
        })
    }

    /// Runs until `shutdown` turns true; deliveries in flight are finished first.
    ///
    /// The loop does each kind of database work only when it can find something: the outbox
    /// when an event was recorded (or a page of it was full), a claim when deliveries were
    /// queued or slots and hosts freed up, the next due time only when idle. Deliveries that
    /// arrived are removed from the queue in batches; failures are recorded at once.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let settings = self.fed.config.ctx.settings.clone();
        let concurrency = settings.federation.delivery_concurrency.max(1);
        let per_host = settings.federation.delivery_per_host.max(1);
        let wake = Wakeups::default();
        let listener = tokio::spawn(federation::wake_on_new_deliveries(
            self.database_url.clone(),
            wake.clone(),
        ));
        let mut in_flight: JoinSet<Attempt> = JoinSet::new();
        let mut per_host_count: HashMap<String, usize> = HashMap::new();
        let mut arrived: Vec<(i64, String)> = Vec::new();
        let mut oldest_arrival = Instant::now();
        let mut last_metrics = Instant::now() - Duration::from_secs(60);
        // Both start due: work may have been queued while no worker ran.
        let (mut outbox_due, mut claim_due) = (true, true);
        let mut last_claim = Instant::now();
        let mut last_short_claim = Instant::now() - SHORT_CLAIM_PAUSE;
        // Hosts that were at their bound and freed a slot since the last claim.
        let mut hosts_freed: HashSet<String> = HashSet::new();
        tracing::info!(concurrency, per_host, "delivery worker started");

        while !*shutdown.borrow() {
            if outbox_due {
                outbox_due = match process_outbox(&self.fed.data(), OUTBOX_PAGE).await {
                    // A full page: there may be more.
                    Ok(n) => n as i64 == OUTBOX_PAGE,
                    Err(err) => {
                        tracing::error!(error = %err, "turning outbox events into deliveries failed");
                        false
                    }
                };
            }
            let free = concurrency.saturating_sub(in_flight.len());
            // Claiming one row at a time as slots free up would cost a query per delivery.
            let worth_claiming = free > 0 && (in_flight.is_empty() || free >= concurrency / 4);
            // A claim that came back short read past every row of the hosts at their bound;
            // while they stay busy, new rows are looked for at most every SHORT_CLAIM_PAUSE.
            let general = claim_due
                && worth_claiming
                && (in_flight.is_empty() || last_short_claim.elapsed() >= SHORT_CLAIM_PAUSE);
            let mut claimed = Vec::new();
            if general {
                let busy: Vec<String> = per_host_count
                    .iter()
                    .filter(|(_, n)| **n >= per_host)
                    .map(|(h, _)| h.clone())
                    .collect();
                claimed = self.claim(free, None, &busy).await;
                last_claim = Instant::now();
                claim_due = claimed.len() == free;
                if !claim_due {
                    last_short_claim = last_claim;
                }
                hosts_freed.clear();
            } else if free > 0 {
                // Hosts whose slots freed up are claimed through their own index, once half
                // their slots are free (not one query per finished delivery).
                let worth = (per_host / 2).max(1);
                let mut waiting = HashSet::new();
                for host in std::mem::take(&mut hosts_freed) {
                    let open = per_host
                        .saturating_sub(per_host_count.get(&host).copied().unwrap_or(0))
                        .min(free - claimed.len());
                    if open >= worth {
                        claimed.extend(self.claim(open, Some(&host), &[]).await);
                    } else {
                        waiting.insert(host);
                    }
                }
                hosts_freed = waiting;
            }
            for delivery in claimed {
                *per_host_count.entry(delivery.host.clone()).or_default() += 1;
                let this = self.clone();
                in_flight.spawn(async move { this.deliver(delivery).await });
            }
            if !arrived.is_empty()
                && (arrived.len() >= FLUSH_BATCH
                    || in_flight.is_empty()
                    || oldest_arrival.elapsed() >= FLUSH_AFTER)
            {
                self.record_arrivals(std::mem::take(&mut arrived)).await;
            }
            if last_metrics.elapsed() > Duration::from_secs(5) {
                last_metrics = Instant::now();
                if let Ok(mut conn) = self.fed.config.db.conn().await {
                    let _ = refresh_queue_metrics(&mut conn).await;
                }
            }
            if outbox_due || general && claim_due {
                continue;
            }
            let sleep = if !arrived.is_empty() {
                FLUSH_AFTER.saturating_sub(oldest_arrival.elapsed())
            } else if claim_due && worth_claiming {
                SHORT_CLAIM_PAUSE.saturating_sub(last_short_claim.elapsed())
            } else if in_flight.is_empty() {
                self.time_until_next_due().await
            } else {
                // Retries falling due while busy are picked up by a periodic claim.
                BUSY_RECHECK.saturating_sub(last_claim.elapsed())
            };
            tokio::select! {
                _ = wake.outbox.notified() => outbox_due = true,
                _ = wake.deliveries.notified() => claim_due = true,
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    if let Ok(attempt) = done {
                        if finished(&mut per_host_count, per_host, &attempt) {
                            hosts_freed.insert(attempt.host.clone());
                        }
                        if let Some(id) = attempt.arrived {
                            if arrived.is_empty() {
                                oldest_arrival = Instant::now();
                            }
                            arrived.push((id, attempt.host));
                        }
                    }
                }
                _ = tokio::time::sleep(sleep) => {
                    if arrived.is_empty() {
                        claim_due = true;
                    }
                }
                _ = shutdown.changed() => {}
            }
        }
        while let Some(done) = in_flight.join_next().await {
            if let Ok(Attempt {
                arrived: Some(id),
                host,
            }) = done
            {
                arrived.push((id, host));
            }
        }
        self.record_arrivals(arrived).await;
        listener.abort();
        tracing::info!("delivery worker stopped");
    }

    /// Deliveries that arrived leave the queue together. If that fails the rows keep their
    /// lease and are sent again when it expires (receivers ignore a duplicate activity).
    async fn record_arrivals(&self, arrived: Vec<(i64, String)>) {
        if arrived.is_empty() {
            return;
        }
        let (ctx, db) = (&self.fed.config.ctx, &self.fed.config.db);
        let result = db
            .transaction(|conn| federation::deliveries_done(conn, ctx, &arrived).scope_boxed())
            .await;
        if let Err(err) = result {
            tracing::error!(error = %err, count = arrived.len(), "recording delivered activities failed; they will be sent again when their lease expires");
        }
    }

    /// Claims up to `limit` due deliveries: to `host` only, or to any host not in `busy`.
    async fn claim(
        &self,
        limit: usize,
        host: Option<&str>,
        busy: &[String],
    ) -> Vec<ClaimedDelivery> {
        let result = async {
            let mut conn = self.fed.config.db.conn().await?;
            let limit = limit as i64;
            Ok::<_, ApubError>(match host {
                Some(host) => {
                    federation::claim_deliveries_to(&mut conn, limit, LEASE_SECONDS, host).await?
                }
                None => federation::claim_deliveries(&mut conn, limit, LEASE_SECONDS, busy).await?,
            })
        }
        .await;
        result.unwrap_or_else(|err| {
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
                .unwrap_or(Duration::from_millis(10))
                .min(MAX_IDLE),
            None => MAX_IDLE,
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
    async fn deliver(&self, d: ClaimedDelivery) -> Attempt {
        let outcome = self.send(&d).await;
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
    async fn send(&self, d: &ClaimedDelivery) -> Result<u16, String> {
        if is_blocked(&self.fed.config.db, &d.host)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(403);
        }
        let cached = self.keys.lock().unwrap().get(&d.signer_ap_id).cloned();
        let key = match cached {
            Some(key) => key,
            None => {
                let mut conn = self.fed.config.db.conn().await.map_err(|e| e.to_string())?;
                let pem = actors::local_private_key(&mut conn, &d.signer_ap_id)
                    .await
                    .map_err(|e| e.to_string())?;
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
        let mut request = data.client.post(url.as_str()).header(
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
            AfterFailure::InstanceDead(dropped) => {
                tracing::warn!(host = %d.host, dropped, "instance failing for too long: marked dead, queue dropped")
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

/// What became of one delivery, for the loop.
struct Attempt {
    host: String,
    /// The delivery's id if it arrived (its row is removed with the next batch).
    arrived: Option<i64>,
}

/// Frees the attempt's slot for its host; true when the host was at its bound (its waiting
/// deliveries can be claimed now).
fn finished(counts: &mut HashMap<String, usize>, per_host: usize, attempt: &Attempt) -> bool {
    let Some(n) = counts.get_mut(&attempt.host) else {
        return false;
    };
    let was_full = *n >= per_host;
    *n = n.saturating_sub(1);
    if *n == 0 {
        counts.remove(&attempt.host);
    }
    was_full
}
