//! A fake fediverse peer for hand-made requests: it serves one Person with a key the test
//! holds (found by WebFinger too), records what is delivered to its inbox (and can check how
//! it was signed), and signs whatever the test wants to send — correctly or not.

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use cenacle_apub::signatures::{
    digest_header, digest_matches, key_owner, parse_signature, sign_request, verify, SigningKey,
};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU16, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::SystemTime,
};
use url::Url;

pub struct FakePeer {
    pub actor_id: String,
    pub key: SigningKey,
    /// A key that is not the actor's, for bad signatures.
    pub wrong_key: SigningKey,
    /// The public half of `wrong_key`, published by [`FakePeer::rotate_key`].
    wrong_public: String,
    actor: Arc<Mutex<Value>>,
    pub received: Arc<Mutex<Vec<Value>>>,
    /// The same deliveries as they came: headers and body.
    deliveries: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// WebFinger queries received, whoever they asked for.
    webfinger_queries: Arc<AtomicUsize>,
    /// Held for writing by [`FakePeer::hold_webfinger`]: WebFinger answers wait for it.
    webfinger_gate: Arc<tokio::sync::RwLock<()>>,
    webfinger_status: Arc<AtomicU16>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct PeerState {
    actor: Arc<Mutex<Value>>,
    received: Arc<Mutex<Vec<Value>>>,
    deliveries: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// The one account WebFinger knows, as it names it: `acct:<username>@<host>:<port>`.
    account: String,
    /// Other resources it answers for with `account` (the account at the actor's host, where
    /// handles name another host).
    aliases: Vec<String>,
    webfinger_queries: Arc<AtomicUsize>,
    webfinger_gate: Arc<tokio::sync::RwLock<()>>,
    /// Set by [`FakePeer::answer_webfinger_with`]: the status every WebFinger query gets
    /// instead of an answer (0: answered as usual).
    webfinger_status: Arc<AtomicU16>,
}

impl FakePeer {
    /// Serves `http://<host>:<port>/actor`, found by WebFinger as `mallory@<host>:<port>`
    /// (the host must resolve to loopback for the instances, i.e. be in their
    /// `federation.hosts`).
    pub async fn start(host: &str, port: u16) -> FakePeer {
        Self::start_as(host, port, "mallory").await
    }

    /// The same peer, its member named `username` (WebFinger answers with that spelling,
    /// whatever the query's case, as Mastodon does).
    pub async fn start_as(host: &str, port: u16, username: &str) -> FakePeer {
        Self::start_with(host, port, username, None).await
    }

    /// The same peer whose handles name another host (`handle_host`, `host:port`), as
    /// Mastodon's `LOCAL_DOMAIN` / `WEB_DOMAIN`: asked for `acct:<username>@<host>:<port>`
    /// (or the handle itself), WebFinger answers with `acct:<username>@<handle_host>`. The
    /// handle's host answers too, with a [`WebFingerPointer`] the test starts.
    pub async fn start_split(host: &str, port: u16, username: &str, handle_host: &str) -> FakePeer {
        Self::start_with(host, port, username, Some(handle_host)).await
    }

    async fn start_with(
        host: &str,
        port: u16,
        username: &str,
        handle_host: Option<&str>,
    ) -> FakePeer {
        let base = format!("http://{host}:{port}");
        let actor_id = format!("{base}/actor");
        let (public, private) = cenacle_core::identity::generate_keypair().await.unwrap();
        let (other_public, other_private) =
            cenacle_core::identity::generate_keypair().await.unwrap();
        let actor = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "type": "Person",
            "id": actor_id,
            "preferredUsername": username,
            "inbox": format!("{base}/inbox"),
            "outbox": format!("{base}/outbox"),
            "publicKey": {"id": format!("{actor_id}#main-key"), "owner": actor_id, "publicKeyPem": public},
        });
        let received = Arc::new(Mutex::new(Vec::new()));
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let actor = Arc::new(Mutex::new(actor));
        let webfinger_queries = Arc::new(AtomicUsize::new(0));
        let webfinger_gate = Arc::default();
        let webfinger_status = Arc::new(AtomicU16::new(0));
        let state = PeerState {
            actor: actor.clone(),
            received: received.clone(),
            deliveries: deliveries.clone(),
            account: format!(
                "acct:{username}@{}",
                handle_host.unwrap_or(&format!("{host}:{port}"))
            ),
            aliases: handle_host
                .map(|_| format!("acct:{username}@{host}:{port}"))
                .into_iter()
                .collect(),
            webfinger_queries: webfinger_queries.clone(),
            webfinger_gate: Arc::clone(&webfinger_gate),
            webfinger_status: Arc::clone(&webfinger_status),
        };
        let app = Router::new()
            .route("/actor", get(serve_actor))
            .route("/inbox", post(receive))
            .route("/.well-known/webfinger", get(webfinger))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakePeer {
            key: SigningKey::from_pem(&actor_id, &private).unwrap(),
            wrong_key: SigningKey::from_pem(&actor_id, &other_private).unwrap(),
            wrong_public: other_public,
            actor,
            actor_id,
            received,
            deliveries,
            webfinger_queries,
            webfinger_gate,
            webfinger_status,
            server,
        }
    }

    /// How many WebFinger queries this peer has answered (or refused).
    pub fn webfinger_queries(&self) -> usize {
        self.webfinger_queries.load(Ordering::SeqCst)
    }

    /// Answers every WebFinger query from now on with `status` and no account (a 404: the
    /// account's own server denying it, or a misconfigured proxy before it), while the actor
    /// is still served.
    pub fn answer_webfinger_with(&self, status: u16) {
        self.webfinger_status.store(status, Ordering::SeqCst);
    }

    /// Holds WebFinger answers until the guard is dropped (queries are counted as they come):
    /// a lookup this server has started stays running meanwhile.
    pub async fn hold_webfinger(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        Arc::clone(&self.webfinger_gate).write_owned().await
    }

    /// A Follow of `target` by this peer, with a fresh id.
    pub fn follow(&self, target: &str) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Follow",
            "id": format!("{}/follows/{}", self.actor_id, rand_suffix()),
            "actor": self.actor_id,
            "object": target,
        })
    }

    /// POSTs `activity` to `inbox` signed by `key` with the given date; `tamper_digest`
    /// sends a Digest of another body.
    pub async fn post(
        &self,
        client: &reqwest::Client,
        inbox: &str,
        activity: &Value,
        signing: Signing,
    ) -> u16 {
        let url = Url::parse(inbox).unwrap();
        let body = serde_json::to_vec(activity).unwrap();
        let mut request = client
            .post(inbox)
            .header(header::CONTENT_TYPE, "application/activity+json")
            .body(body.clone());
        let (key, date, tamper) = match signing {
            Signing::Unsigned => {
                return request.send().await.unwrap().status().as_u16();
            }
            Signing::Valid => (&self.key, SystemTime::now(), false),
            Signing::WrongKey => (&self.wrong_key, SystemTime::now(), false),
            Signing::StaleDate => (
                &self.key,
                SystemTime::now() - std::time::Duration::from_secs(2 * 3600),
                false,
            ),
            Signing::WrongDigest => (&self.key, SystemTime::now(), true),
        };
        for (name, value) in sign_request(key, "POST", &url, Some(&body), date).unwrap() {
            let value = if tamper && name == "Digest" {
                digest_header(b"{\"another\":\"body\"}")
            } else {
                value
            };
            request = request.header(name, value);
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// Key rotation: the actor now publishes the other key and signs with it.
    pub fn rotate_key(&mut self) {
        std::mem::swap(&mut self.key, &mut self.wrong_key);
        self.actor.lock().unwrap()["publicKey"]["publicKeyPem"] =
            Value::String(self.wrong_public.clone());
    }

    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    /// Checks how the activity `activity_id` was delivered here: signed (draft-cavage, checked
    /// as our inbox checks it) by `signer` with the key `public_key_pem`, over a `Digest` of
    /// the body it came with.
    pub fn check_signature(
        &self,
        activity_id: &str,
        signer: &str,
        public_key_pem: &str,
    ) -> Result<(), String> {
        let deliveries = self.deliveries.lock().unwrap();
        let (headers, body) = deliveries
            .iter()
            .find(|(_, body)| {
                serde_json::from_slice::<Value>(body).is_ok_and(|a| a["id"] == activity_id)
            })
            .ok_or_else(|| format!("{activity_id} was not delivered here"))?;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let params = header("signature")
            .as_deref()
            .and_then(parse_signature)
            .ok_or("no Signature header")?;
        if key_owner(&params.key_id) != signer {
            return Err(format!("signed with {}, not by {signer}", params.key_id));
        }
        if !header("digest").is_some_and(|digest| digest_matches(&digest, body)) {
            return Err("no Digest of the body".into());
        }
        verify(&params, "POST", "/inbox", header, public_key_pem)
    }
}

impl Drop for FakePeer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub enum Signing {
    Unsigned,
    Valid,
    WrongKey,
    StaleDate,
    WrongDigest,
}

fn rand_suffix() -> String {
    format!(
        "{:x}",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn serve_actor(State(state): State<PeerState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/activity+json")],
        serde_json::to_string(&*state.actor.lock().unwrap()).unwrap(),
    )
}

/// The actor for its own account (named as the account's handle, whatever the query's case
/// or alias, as servers answer), 404 for anyone else.
async fn webfinger(
    State(state): State<PeerState>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::response::Response {
    state.webfinger_queries.fetch_add(1, Ordering::SeqCst);
    let _open = state.webfinger_gate.read().await;
    let status = state.webfinger_status.load(Ordering::SeqCst);
    if status != 0 {
        return StatusCode::from_u16(status).unwrap().into_response();
    }
    if !query.get("resource").is_some_and(|r| {
        r.eq_ignore_ascii_case(&state.account)
            || state.aliases.iter().any(|a| r.eq_ignore_ascii_case(a))
    }) {
        return StatusCode::NOT_FOUND.into_response();
    };
    let actor_id = state.actor.lock().unwrap()["id"].clone();
    // The account's own spelling, whatever the query's case, as Mastodon answers.
    let answer = json!({
        "subject": state.account,
        "links": [{"rel": "self", "type": "application/activity+json", "href": actor_id}],
    });
    (
        [(header::CONTENT_TYPE, "application/jrd+json")],
        answer.to_string(),
    )
        .into_response()
}

async fn receive(State(state): State<PeerState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if let Ok(value) = serde_json::from_slice(&body) {
        state.received.lock().unwrap().push(value);
    }
    state.deliveries.lock().unwrap().push((headers, body));
    StatusCode::ACCEPTED
}

/// A server that only answers WebFinger: `acct:<username>@<host>:<port>` is the actor
/// `actor_id`, wherever that is. The handle's host of a [`FakePeer::start_split`], or a server
/// that claims someone else's actor as its own.
pub struct WebFingerPointer {
    queries: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl WebFingerPointer {
    pub async fn start(host: &str, port: u16, username: &str, actor_id: &str) -> WebFingerPointer {
        let queries = Arc::new(AtomicUsize::new(0));
        let state = PeerState {
            actor: Arc::new(Mutex::new(json!({ "id": actor_id }))),
            received: Default::default(),
            deliveries: Default::default(),
            account: format!("acct:{username}@{host}:{port}"),
            aliases: Vec::new(),
            webfinger_queries: queries.clone(),
            webfinger_gate: Arc::default(),
            webfinger_status: Arc::default(),
        };
        let app = Router::new()
            .route("/.well-known/webfinger", get(webfinger))
            .with_state(state);
        Self::serve(port, app, queries).await
    }

    /// A server on `port` whose WebFinger sends every query on to `to` (`http://host:port`), as Mastodon
    /// asks of a `LOCAL_DOMAIN` whose accounts its `WEB_DOMAIN` serves (a 301).
    pub async fn start_redirecting(port: u16, to: &str) -> WebFingerPointer {
        let queries = Arc::new(AtomicUsize::new(0));
        let (counted, to) = (queries.clone(), to.to_owned());
        let redirect = move |axum::extract::RawQuery(query): axum::extract::RawQuery| async move {
            counted.fetch_add(1, Ordering::SeqCst);
            let location = format!("{to}/.well-known/webfinger?{}", query.unwrap_or_default());
            (
                StatusCode::MOVED_PERMANENTLY,
                [(header::LOCATION, location)],
            )
        };
        let app = Router::new().route("/.well-known/webfinger", get(redirect));
        Self::serve(port, app, queries).await
    }

    /// A server on `port` whose WebFinger answers every query with `status` and no account
    /// (a 404: a proxy misconfigured, a route moved, or no such account; a 410: gone).
    pub async fn start_answering(port: u16, status: u16) -> WebFingerPointer {
        let queries = Arc::new(AtomicUsize::new(0));
        let counted = queries.clone();
        let status = StatusCode::from_u16(status).unwrap();
        let answer = move || async move {
            counted.fetch_add(1, Ordering::SeqCst);
            status
        };
        let app = Router::new().route("/.well-known/webfinger", get(answer));
        Self::serve(port, app, queries).await
    }

    async fn serve(port: u16, app: Router, queries: Arc<AtomicUsize>) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        WebFingerPointer { queries, server }
    }

    /// How many WebFinger queries it has answered (or refused).
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

impl Drop for WebFingerPointer {
    fn drop(&mut self) {
        self.server.abort();
    }
}
