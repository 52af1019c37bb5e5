//! Inbox sinks for the delivery-queue tests: many fake instances, each its own host
//! (`<prefix><i>.test:<port>`, all on 127.0.0.1), that accept whatever is POSTed to an inbox
//! and remember, per host, the activity ids received, how many requests were in flight at
//! once (the most seen), and whether their NodeInfo was asked for. A host can be made slow
//! (each answer waits) or down (every request answered 503).

use crate::Hosts;
use axum::{
    body::to_bytes,
    extract::{Request, State},
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

/// One fake instance of a sink.
#[derive(Default)]
pub struct SinkHost {
    /// `<prefix><i>.test:<port>`, as inbox URLs and the delivery queue name it.
    pub host: String,
    received: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    delay_ms: AtomicU64,
    down: AtomicBool,
    probes: AtomicUsize,
}

impl SinkHost {
    /// Its shared inbox.
    pub fn inbox(&self) -> String {
        format!("http://{}/inbox", self.host)
    }

    /// The activity ids received (answered 202), in the order their requests arrived.
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }

    pub fn received_count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The most requests it has had in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Each inbox POST waits this long before it is answered.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Down: every request is answered 503 (and nothing is recorded).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// NodeInfo discovery requests answered while up.
    pub fn probes(&self) -> usize {
        self.probes.load(Ordering::SeqCst)
    }
}

pub struct Sink {
    pub hosts: Vec<Arc<SinkHost>>,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

impl Sink {
    /// Adds `count` host names `<prefix>0` … to `hosts` (do it before the instances start, so
    /// that they resolve them); start the sink with [`Sink::start`].
    pub fn reserve(hosts: &mut Hosts, prefix: &str, count: usize) -> Vec<(String, u16)> {
        (0..count)
            .map(|i| {
                let name = format!("{prefix}{i}");
                let port = hosts.add(&name);
                (format!("{name}.test"), port)
            })
            .collect()
    }

    /// Serves every reserved host on its own port.
    pub async fn start(reserved: &[(String, u16)]) -> Sink {
        let mut hosts = Vec::new();
        let mut servers = Vec::new();
        for (name, port) in reserved {
            let host = Arc::new(SinkHost {
                host: format!("{name}:{port}"),
                ..Default::default()
            });
            let app = Router::new().fallback(handle).with_state(host.clone());
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", *port))
                .await
                .unwrap_or_else(|e| panic!("bind {name}:{port}: {e}"));
            servers.push(tokio::spawn(async move {
                axum::serve(listener, app).await.expect("sink");
            }));
            hosts.push(host);
        }
        Sink { hosts, servers }
    }
}

async fn handle(State(host): State<Arc<SinkHost>>, request: Request) -> Response {
    if host.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    match parts.method {
        Method::POST if path.ends_with("/inbox") => {
            let now = host.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            host.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let bytes = to_bytes(body, 1 << 20).await.unwrap_or_default();
            let delay = host.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let id = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_owned))
                .unwrap_or_default();
            host.received.lock().unwrap().push(id);
            host.in_flight.fetch_sub(1, Ordering::SeqCst);
            StatusCode::ACCEPTED.into_response()
        }
        Method::GET if path == "/.well-known/nodeinfo" => {
            host.probes.fetch_add(1, Ordering::SeqCst);
            let body = serde_json::json!({"links": [{
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": format!("http://{}/nodeinfo/2.1", host.host),
            }]});
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
