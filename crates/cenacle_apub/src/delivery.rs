//! Delivery workers: turn outbox events into activities, and send queued deliveries.
//!
//! Rows live in PostgreSQL (`delivery`), so they survive restarts and any number of workers —
//! inside `cenacle serve` or as `cenacle deliver` processes — share the queue: each claims
//! disjoint rows with `FOR UPDATE SKIP LOCKED` and holds them under a lease that a crashed
//! worker's rows outlive. Deliveries to one instance run in parallel up to a per-host bound.
//! Idle workers sleep until a NOTIFY (inserted rows) or the next retry falls due.

use crate::{
    http_client::is_blocked,
    outgoing::from_event::process_outbox,
    signatures::{sign_request, SigningKey},
    ApubError, FedData, Federation,
};
use cenacle_core::{
    actors,
    federation::{self, AfterFailure},
    model::ClaimedDelivery,
    Conn, CoreError, ScopedFutureExt,
};
use cenacle_domain::delivery::{classify_status, DeliveryOutcome};
use chrono::Utc;
use prometheus::{Gauge, IntCounterVec, IntGauge, Opts};
use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
    time::{Duration, Instant, SystemTime},
};
use tokio::{
    sync::{watch, Notify},
    task::JoinSet,
};

/// How long a claimed delivery stays ours; well above the 10 s request timeout.
const LEASE_SECONDS: f64 = 60.0;
/// The longest an idle worker sleeps without a NOTIFY (a missed notification costs this much).
const MAX_IDLE: Duration = Duration::from_secs(30);

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
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let settings = self.fed.config.ctx.settings.clone();
        let concurrency = settings.federation.delivery_concurrency;
        let per_host = settings.federation.delivery_per_host;
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(federation::wake_on_new_deliveries(
            self.database_url.clone(),
            wake.clone(),
        ));
        let mut in_flight: JoinSet<String> = JoinSet::new();
        let mut per_host_count: HashMap<String, usize> = HashMap::new();
        let mut last_metrics = Instant::now() - Duration::from_secs(60);
        tracing::info!(concurrency, per_host, "delivery worker started");

        while !*shutdown.borrow() {
            if let Err(err) = process_outbox(&self.fed.data(), 100).await {
                tracing::error!(error = %err, "turning outbox events into deliveries failed");
            }
            let free = concurrency.saturating_sub(in_flight.len());
            let busy: Vec<String> = per_host_count
                .iter()
                .filter(|(_, n)| **n >= per_host)
                .map(|(h, _)| h.clone())
                .collect();
            let claimed = if free > 0 {
                self.claim(free, &busy).await
            } else {
                Vec::new()
            };
            let claimed_any = !claimed.is_empty();
            for delivery in claimed {
                *per_host_count.entry(delivery.host.clone()).or_default() += 1;
                let this = self.clone();
                in_flight.spawn(async move {
                    let host = delivery.host.clone();
                    this.deliver(delivery).await;
                    host
                });
            }
            if last_metrics.elapsed() > Duration::from_secs(5) {
                last_metrics = Instant::now();
                if let Ok(mut conn) = self.fed.config.db.conn().await {
                    let _ = refresh_queue_metrics(&mut conn).await;
                }
            }
            if claimed_any && in_flight.len() < concurrency {
                // More may be due right away.
                continue;
            }
            let idle = self.time_until_next_due().await;
            tokio::select! {
                _ = wake.notified() => {}
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    if let Ok(host) = done {
                        release(&mut per_host_count, &host);
                    }
                }
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.changed() => {}
            }
            while let Some(done) = in_flight.try_join_next() {
                if let Ok(host) = done {
                    release(&mut per_host_count, &host);
                }
            }
        }
        while in_flight.join_next().await.is_some() {}
        listener.abort();
        tracing::info!("delivery worker stopped");
    }

    async fn claim(&self, limit: usize, busy: &[String]) -> Vec<ClaimedDelivery> {
        let result = async {
            let mut conn = self.fed.config.db.conn().await?;
            Ok::<_, ApubError>(
                federation::claim_deliveries(&mut conn, limit as i64, LEASE_SECONDS, busy).await?,
            )
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

    async fn deliver(&self, d: ClaimedDelivery) {
        let outcome = self.send(&d).await;
        let (label, result) = match outcome {
            Ok(status) => match classify_status(Some(status)) {
                DeliveryOutcome::Delivered => ("delivered", self.delivered(&d).await),
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
    }

    /// One signed POST; the HTTP status, or why there was none.
    async fn send(&self, d: &ClaimedDelivery) -> Result<u16, String> {
        let ctx = &self.fed.config.ctx;
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
                let mut conn = ctx.conn().await.map_err(|e| e.to_string())?;
                let pem = actors::local_private_key(&mut conn, &d.signer_ap_id)
                    .await
                    .map_err(|e| e.to_string())?;
                self.signing_key(pem, &d.signer_ap_id)?
            }
        };
        let url = url::Url::parse(&d.inbox_url).map_err(|e| e.to_string())?;
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

    async fn delivered(&self, d: &ClaimedDelivery) -> Result<(), ApubError> {
        let ctx = &self.fed.config.ctx;
        Ok(ctx
            .transaction(|conn| federation::delivery_done(conn, d, true).scope_boxed())
            .await?)
    }

    async fn dropped(&self, d: &ClaimedDelivery) -> Result<(), ApubError> {
        let mut conn = self.fed.config.db.conn().await?;
        Ok(federation::delivery_done(&mut conn, d, false).await?)
    }

    async fn failed(&self, d: &ClaimedDelivery, error: &str) -> Result<(), ApubError> {
        let ctx = &self.fed.config.ctx;
        let after = ctx
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

fn release(counts: &mut HashMap<String, usize>, host: &str) {
    if let Some(n) = counts.get_mut(host) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.remove(host);
        }
    }
}
