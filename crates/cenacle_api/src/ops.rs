//! Operations: liveness and readiness probes, Prometheus metrics, request ids.

use crate::{error::ErrorBody, AppState};
use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use prometheus::{
    Counter, Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use rand::RngCore;
use serde::Serialize;
use std::{
    sync::{atomic::Ordering, Arc, Mutex},
    time::Instant,
};
use tower_http::request_id::{MakeRequestId, RequestId};
use utoipa::ToSchema;

/// The process's metrics, registered once in their own registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    pool_waits: PoolWaits,
    statistics: StatisticsBacklog,
}

/// The statistics changes waiting for the server's fold (issue 9), read at each scrape.
#[derive(Clone)]
struct StatisticsBacklog {
    pending: IntGauge,
    oldest_seconds: Gauge,
}

/// The pool's cumulative wait counters, copied from its atomics at each scrape.
#[derive(Clone)]
struct PoolWaits {
    checkouts: IntCounter,
    wait_seconds: Counter,
    timeouts: IntCounter,
    /// Two scrapes at once must not both add the same increase.
    sync: Arc<Mutex<()>>,
}

impl PoolWaits {
    /// Brings the counters up to the pool's totals (they only ever grow).
    fn sync(&self, stats: &cenacle_core::model::PoolStats) {
        let _guard = self.sync.lock().unwrap_or_else(|e| e.into_inner());
        let checkouts = stats.checkouts.load(Ordering::Relaxed);
        self.checkouts
            .inc_by(checkouts.saturating_sub(self.checkouts.get()));
        let timeouts = stats.timeouts.load(Ordering::Relaxed);
        self.timeouts
            .inc_by(timeouts.saturating_sub(self.timeouts.get()));
        let waited = stats.wait_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let increase = waited - self.wait_seconds.get();
        if increase > 0.0 {
            self.wait_seconds.inc_by(increase);
        }
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "cenacle_http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )
        .unwrap();
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "cenacle_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route", "method"],
        )
        .unwrap();
        let pool = IntGaugeVec::new(
            Opts::new(
                "cenacle_db_pool_connections",
                "Database pool connections by state",
            ),
            &["state"],
        )
        .unwrap();
        registry.register(Box::new(requests.clone())).unwrap();
        registry.register(Box::new(latency.clone())).unwrap();
        let pool_waits = PoolWaits {
            checkouts: IntCounter::new(
                "cenacle_db_pool_checkouts_total",
                "Database connections handed out by the pool",
            )
            .unwrap(),
            wait_seconds: Counter::new(
                "cenacle_db_pool_wait_seconds_total",
                "Time spent waiting for a database connection",
            )
            .unwrap(),
            timeouts: IntCounter::new(
                "cenacle_db_pool_timeouts_total",
                "Waits for a database connection that ran out of time (answered 503)",
            )
            .unwrap(),
            sync: Arc::default(),
        };
        registry.register(Box::new(pool.clone())).unwrap();
        registry
            .register(Box::new(pool_waits.checkouts.clone()))
            .unwrap();
        registry
            .register(Box::new(pool_waits.wait_seconds.clone()))
            .unwrap();
        registry
            .register(Box::new(pool_waits.timeouts.clone()))
            .unwrap();
        let statistics = StatisticsBacklog {
            pending: IntGauge::new(
                "cenacle_statistics_pending",
                "Statistics changes appended by actions and not yet folded into the day rows",
            )
            .unwrap(),
            oldest_seconds: Gauge::new(
                "cenacle_statistics_oldest_pending_seconds",
                "Age of the oldest statistics change not yet folded (0 when none waits)",
            )
            .unwrap(),
        };
        registry
            .register(Box::new(statistics.pending.clone()))
            .unwrap();
        registry
            .register(Box::new(statistics.oldest_seconds.clone()))
            .unwrap();
        Self {
            registry,
            requests,
            latency,
            pool,
            pool_waits,
            statistics,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts and times every request by its route template (`/api/v1/admin/accounts/{username}/role`,
/// not the concrete path, which would make one series per user).
pub async fn track_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16().to_string();
    state
        .metrics
        .requests
        .with_label_values(&[&route, &method, &status])
        .inc();
    state
        .metrics
        .latency
        .with_label_values(&[&route, &method])
        .observe(elapsed);
    response
}

/// Negotiates the language of error messages from `Accept-Language`.
pub async fn negotiate_language(req: Request, next: Next) -> Response {
    let language = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(cenacle_domain::Language::from_accept_language)
        .unwrap_or_default();
    crate::i18n::with_language(language, next.run(req)).await
}

/// Request ids: 16 random hex digits, unless the client (or a proxy) sent `X-Request-Id`.
#[derive(Clone, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let mut bytes = [0u8; 8];
        rand::rng().fill_bytes(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// Liveness: the process answers HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let ready = match state.ctx.conn().await {
        Ok(mut conn) => cenacle_core::status::ping(&mut conn).await,
        Err(err) => Err(err),
    };
    match ready {
        Ok(()) => Json(Health {
            status: "ready".into(),
        })
        .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            crate::error::ApiError::database_unavailable().into_response()
        }
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state.ctx.pool();
    let status = pool.status();
    let in_use = status.size.saturating_sub(status.available);
    state
        .metrics
        .pool
        .with_label_values(&["in_use"])
        .set(in_use as i64);
    state
        .metrics
        .pool
        .with_label_values(&["idle"])
        .set(status.available as i64);
    state
        .metrics
        .pool
        .with_label_values(&["max"])
        .set(status.max_size as i64);
    state
        .metrics
        .pool
        .with_label_values(&["waiting"])
        .set(status.waiting as i64);
    state.metrics.pool_waits.sync(pool.stats());
    if let Ok(mut conn) = state.ctx.conn().await {
        let _ = cenacle_apub::delivery::refresh_queue_metrics(&mut conn).await;
        match cenacle_core::insights::pending_statistics(&mut conn).await {
            Ok(backlog) => {
                let statistics = &state.metrics.statistics;
                statistics.pending.set(backlog.pending);
                statistics.oldest_seconds.set(backlog.oldest_seconds);
            }
            // The gauges keep their last values: said once per scrape, not hidden.
            Err(err) => tracing::warn!(error = %err, "reading the statistics backlog failed"),
        }
    }
    let mut families = state.metrics.registry.gather();
    // Federation metrics (inbox outcomes, deliveries, queue) live in the default registry.
    families.extend(prometheus::gather());
    let mut buffer = Vec::new();
    let encoder = TextEncoder::new();
    if let Err(err) = encoder.encode(&families, &mut buffer) {
        tracing::error!(error = %err, "encoding metrics");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(header::CONTENT_TYPE, encoder.format_type().to_owned())],
        buffer,
    )
        .into_response()
}
