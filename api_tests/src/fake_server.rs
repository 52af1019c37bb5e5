//! A fake fediverse server: many `Person`s (`/u/{name}`) and `Group`s (`/g/{name}`) on one
//! loopback host, each with its own RSA key. It records everything POSTed to any inbox, serves
//! the objects a test registers (a `Page` at `/p/1`…) so that an instance can fetch them, and
//! signs and POSTs any JSON as any of its actors — a faithful sender or a forger alike.
//!
//! [`FakeServer::check_signers_as_gotosocial`] makes it as strict as GoToSocial: it refuses
//! unsigned fetches, and before it serves or records a signed request it fetches the signer,
//! verifies the signature with its key and WebFingers `acct:<preferredUsername>@<host>` back to
//! the same id, answering 500 when that round trip fails (as GoToSocial does).
//!
//! ```ignore
//! let mut hosts = Hosts::default();
//! hosts.add("alpha");
//! hosts.add("remote"); // before the instances start: they must resolve it
//! let remote = FakeServer::start(&hosts, "remote").await;
//! let people = remote.add_people(&["ann", "ben"]).await;
//! let like = remote.like(&people[0], &post_id, Some(&group_id));
//! let answer = remote.send(&people[0], &alpha.url("/inbox"), &like).await?;
//! assert_eq!(answer.status, 202);
//! ```

use crate::Hosts;
use axum::{
    body::{to_bytes, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use cenacle_apub::{
    http_client::host_of,
    signatures::{
        digest_matches, digest_value, host_header, key_owner, parse_signature, sign_request,
        verify, SigningKey,
    },
};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, RwLock,
    },
    time::SystemTime,
};
use url::Url;

pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const CONTEXT: [&str; 2] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
];
const ACTIVITY_JSON: &str = "application/activity+json";
/// Inbox bodies larger than this are refused (nobody sends us that much).
const MAX_BODY: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    Person,
    Group,
}

/// One actor of the fake server, with its key.
pub struct FakeActor {
    pub kind: ActorKind,
    pub name: String,
    /// `http://<host>/u/<name>` or `http://<host>/g/<name>`.
    pub id: String,
    pub inbox: String,
    pub public_key_pem: String,
    pub private_key_pem: String,
    key: SigningKey,
}

impl FakeActor {
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn followers(&self) -> String {
        format!("{}/followers", self.id)
    }

    /// The actor's document, shaped as Lemmy serves people and communities.
    fn document(&self, base: &str) -> Value {
        let mut doc = json!({
            "@context": CONTEXT,
            "id": self.id,
            "preferredUsername": self.name,
            "name": self.name,
            "inbox": self.inbox,
            "outbox": format!("{}/outbox", self.id),
            "followers": self.followers(),
            "endpoints": {"sharedInbox": format!("{base}/inbox")},
            "publicKey": {
                "id": format!("{}#main-key", self.id),
                "owner": self.id,
                "publicKeyPem": self.public_key_pem,
            },
            "published": "2025-01-01T00:00:00Z",
        });
        match self.kind {
            ActorKind::Person => {
                doc["type"] = json!("Person");
                doc["following"] = json!(format!("{}/following", self.id));
            }
            ActorKind::Group => {
                doc["type"] = json!("Group");
                doc["summary"] = json!("");
                doc["attributedTo"] = json!(format!("{}/moderators", self.id));
                doc["featured"] = json!(format!("{}/featured", self.id));
                doc["postingRestrictedToMods"] = json!(false);
                doc["sensitive"] = json!(false);
            }
        }
        doc
    }
}

/// Something POSTed to one of the server's inboxes.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// `/inbox`, `/u/<name>/inbox` or `/g/<name>/inbox`.
    pub path: String,
    pub activity: Value,
    /// The `Signature` header as sent, if any.
    pub signature: Option<String>,
}

/// What an instance answered to a POST.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn retry_after(&self) -> Option<&str> {
        self.headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
    }
}

/// What the GoToSocial-like check found about one signed request's signer.
#[derive(Clone, Debug)]
pub struct SignerCheck {
    /// The actor the `keyId` names.
    pub signer: String,
    /// `GET /u/ann`, `POST /inbox`.
    pub request: String,
    /// Why the signer was refused, if it was.
    pub outcome: Result<(), String>,
}

/// How a hand-made signature is shaped, for the shapes other servers send. The default is
/// ours and Mastodon's: `rsa-sha256` over `(request-target) host date digest`, `SHA-256=`.
#[derive(Clone, Debug)]
pub struct SignatureShape {
    /// `algorithm=`; `None` leaves it out (draft-cavage then means `hs2019`).
    pub algorithm: Option<&'static str>,
    /// The signed headers, in order. `(created)` and `(expires)` sign the parameters of those
    /// names (now − 5 s, now + 1 h).
    pub headers: Vec<&'static str>,
    /// The algorithm of the `Digest` header, written as given (`SHA-256`, `sha-256`,
    /// `SHA-512`, `MD5`).
    pub digest: &'static str,
}

impl Default for SignatureShape {
    fn default() -> Self {
        SignatureShape {
            algorithm: Some("rsa-sha256"),
            headers: vec!["(request-target)", "host", "date", "digest"],
            digest: "SHA-256",
        }
    }
}

/// A POST signed ahead of time (benchmarks sign first, so that signing does not compete with
/// the server in the measured window). Signatures stay valid for about an hour.
#[derive(Clone, Debug)]
pub struct SignedPost {
    pub url: String,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

struct Shared {
    base: String,
    host: String,
    /// By path: `/u/<name>`, `/g/<name>`.
    actors: RwLock<HashMap<String, Arc<FakeActor>>>,
    /// Group name → ids of its moderators.
    moderators: RwLock<HashMap<String, Vec<String>>>,
    /// Objects served at a path.
    objects: RwLock<HashMap<String, Value>>,
    deliveries: Mutex<Vec<Delivery>>,
    /// Top-level properties that replace those of an actor's document (by actor path).
    patches: RwLock<HashMap<String, serde_json::Map<String, Value>>>,
    /// GoToSocial's strictness: see [`FakeServer::check_signers_as_gotosocial`].
    check_signers: AtomicBool,
    signer_checks: Mutex<Vec<SignerCheck>>,
    /// The paths of the GETs received (WebFinger included), in order.
    fetched: Mutex<Vec<String>>,
    /// For the signer checks' fetches (resolves every test host name).
    client: reqwest::Client,
}

pub struct FakeServer {
    /// `<name>.test:<port>`, as instances write the host of its ids.
    pub host: String,
    /// `http://<name>.test:<port>`.
    pub base: String,
    shared: Arc<Shared>,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl FakeServer {
    /// `token`'s member of `alpha` follows `group` of this server, which accepts: once
    /// alpha shows the follow accepted.
    pub async fn accept_follow_of(&self, alpha: &crate::Instance, token: &str, group: &FakeActor) {
        const DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);
        let found = format!(
            "/api/v1/resolve?q={}",
            group.id.replace('@', "%40").replace(':', "%3A")
        );
        let (status, found) = alpha.get(&found, Some(token)).await;
        assert_eq!(status, 200, "{found}");
        let (status, body) = alpha
            .post("/api/v1/follows", Some(token), json!({"target": group.id}))
            .await;
        assert_eq!(status, 202, "{body}");
        let follow = crate::eventually("the Follow", DEADLINE, || async {
            self.received_where(|a| a["type"] == "Follow" && a["object"] == group.id.as_str())
                .pop()
        })
        .await;
        let answer = self
            .send(group, &alpha.url("/inbox"), &self.accept(group, &follow))
            .await
            .unwrap();
        assert_eq!(answer.status, 202, "{}", answer.body);
        crate::eventually("the follow accepted", DEADLINE, || async {
            let (_, follows) = alpha.get("/api/v1/follows", Some(token)).await;
            follows
                .as_array()?
                .iter()
                .any(|f| f["target"] == group.id.as_str() && f["state"] == "accepted")
                .then_some(())
        })
        .await;
    }

    /// Serves `http://<name>.test:<port>`; `<name>` must have been added to `hosts` (before
    /// the instances start, so that they resolve it). Requests go out through a client that
    /// resolves every name of `hosts`.
    pub async fn start(hosts: &Hosts, name: &str) -> FakeServer {
        let host_name = format!("{name}.test");
        let port = *hosts
            .0
            .get(&host_name)
            .unwrap_or_else(|| panic!("add {name} to the hosts first"));
        Self::start_at(&host_name, port, hosts.client()).await
    }

    /// Serves `http://<host_name>:<port>` (which must resolve to loopback for the instances),
    /// sending with `client`.
    pub async fn start_at(host_name: &str, port: u16, client: reqwest::Client) -> FakeServer {
        let host = format!("{host_name}:{port}");
        let base = format!("http://{host}");
        let shared = Arc::new(Shared {
            base: base.clone(),
            host: host.clone(),
            actors: RwLock::default(),
            moderators: RwLock::default(),
            objects: RwLock::default(),
            deliveries: Mutex::default(),
            patches: RwLock::default(),
            check_signers: AtomicBool::new(false),
            signer_checks: Mutex::default(),
            fetched: Mutex::default(),
            client: client.clone(),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("bind {host}: {e}"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake server");
        });
        FakeServer {
            host,
            base,
            shared,
            client,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    // ---- actors ----

    pub async fn add_person(&self, name: &str) -> Arc<FakeActor> {
        self.add_actors(ActorKind::Person, &[name]).await.remove(0)
    }

    pub async fn add_people(&self, names: &[&str]) -> Vec<Arc<FakeActor>> {
        self.add_actors(ActorKind::Person, names).await
    }

    pub async fn add_group(&self, name: &str) -> Arc<FakeActor> {
        self.add_actors(ActorKind::Group, &[name]).await.remove(0)
    }

    pub async fn add_groups(&self, names: &[&str]) -> Vec<Arc<FakeActor>> {
        self.add_actors(ActorKind::Group, names).await
    }

    /// Creates the actors, their keys generated concurrently (≈50 ms of CPU each).
    pub async fn add_actors(&self, kind: ActorKind, names: &[&str]) -> Vec<Arc<FakeActor>> {
        let keys: Vec<_> = names
            .iter()
            .map(|_| tokio::spawn(cenacle_core::identity::generate_keypair()))
            .collect();
        let prefix = match kind {
            ActorKind::Person => "u",
            ActorKind::Group => "g",
        };
        let mut added = Vec::with_capacity(names.len());
        for (name, key) in names.iter().zip(keys) {
            let (public, private) = key.await.expect("key task").expect("RSA key");
            let path = format!("/{prefix}/{name}");
            let id = self.url(&path);
            let actor = Arc::new(FakeActor {
                kind,
                name: (*name).to_owned(),
                inbox: format!("{id}/inbox"),
                key: SigningKey::from_pem(&id, &private).expect("our own key"),
                public_key_pem: public,
                private_key_pem: private,
                id,
            });
            let previous = self
                .shared
                .actors
                .write()
                .unwrap()
                .insert(path, actor.clone());
            assert!(previous.is_none(), "{name} added twice");
            added.push(actor);
        }
        added
    }

    pub fn person(&self, name: &str) -> Arc<FakeActor> {
        self.actor_at(&format!("/u/{name}"))
    }

    pub fn group(&self, name: &str) -> Arc<FakeActor> {
        self.actor_at(&format!("/g/{name}"))
    }

    fn actor_at(&self, path: &str) -> Arc<FakeActor> {
        self.shared
            .actors
            .read()
            .unwrap()
            .get(path)
            .cloned()
            .unwrap_or_else(|| panic!("no actor at {path}"))
    }

    /// Serves `actor`'s document with these top-level properties replaced (e.g. an `inbox` on
    /// another host, `endpoints`), as a forger would.
    pub fn patch_document(&self, actor: &FakeActor, patch: Value) {
        let Value::Object(patch) = patch else {
            panic!("a patch is a JSON object");
        };
        let path = actor
            .id
            .strip_prefix(&self.base)
            .expect("an actor of this server");
        self.shared
            .patches
            .write()
            .unwrap()
            .insert(path.to_owned(), patch);
    }

    /// From now on, behave as GoToSocial does with signatures: unsigned fetches of actors and
    /// objects are refused (401); every signed request (fetch or inbox POST) has its signer
    /// fetched, its signature verified (401 if it fails) and the signer WebFingered at
    /// `acct:<preferredUsername>@<host of its id>`, whose first ActivityPub `self` link must be
    /// the signer's id: otherwise 500, nothing served or recorded.
    pub fn check_signers_as_gotosocial(&self) {
        self.shared.check_signers.store(true, Ordering::SeqCst);
    }

    /// Every signer check made so far, in order.
    pub fn signer_checks(&self) -> Vec<SignerCheck> {
        self.shared.signer_checks.lock().unwrap().clone()
    }

    /// The people the group's moderators collection lists.
    pub fn set_moderators(&self, group: &FakeActor, people: &[&FakeActor]) {
        self.shared.moderators.write().unwrap().insert(
            group.name.clone(),
            people.iter().map(|p| p.id.clone()).collect(),
        );
    }

    // ---- objects ----

    /// Serves `object` at `path` (its `id` should be `self.url(path)`).
    pub fn serve(&self, path: &str, object: Value) {
        self.shared
            .objects
            .write()
            .unwrap()
            .insert(path.to_owned(), object);
    }

    /// Serves `object` at the path of its own `id` (which must be on this server).
    pub fn publish(&self, object: &Value) {
        let id = object["id"].as_str().expect("an object with an id");
        let path = id
            .strip_prefix(&self.base)
            .unwrap_or_else(|| panic!("{id} is not on {}", self.base));
        self.serve(path, object.clone());
    }

    // ---- what was received ----

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.deliveries.lock().unwrap().clone()
    }

    pub fn delivery_count(&self) -> usize {
        self.shared.deliveries.lock().unwrap().len()
    }

    /// The activities received so far that satisfy `pred`.
    pub fn received_where(&self, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        self.shared
            .deliveries
            .lock()
            .unwrap()
            .iter()
            .filter(|d| pred(&d.activity))
            .map(|d| d.activity.clone())
            .collect()
    }

    /// The paths of every GET received so far (actors, objects, WebFinger): what was fetched
    /// from this server.
    pub fn fetched(&self) -> Vec<String> {
        self.shared.fetched.lock().unwrap().clone()
    }

    pub fn clear_deliveries(&self) {
        self.shared.deliveries.lock().unwrap().clear();
    }

    // ---- sending ----

    /// Signs a POST of `activity` to `url` with `signer`'s key (draft-cavage, `rsa-sha256`
    /// over `(request-target) host date digest`). The signer need not be the activity's actor:
    /// that is how a forgery is made.
    pub fn sign(&self, signer: &FakeActor, url: &str, activity: &Value) -> SignedPost {
        let body = serde_json::to_vec(activity).expect("JSON");
        let parsed = Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        let headers = sign_request(&signer.key, "POST", &parsed, Some(&body), SystemTime::now())
            .expect("signing");
        SignedPost {
            url: url.to_owned(),
            body,
            headers,
        }
    }

    /// Signs a POST of `activity` to `url` as `signer`, shaped as `shape` says (the headers
    /// other servers sign, their algorithm names and digest spellings).
    pub fn sign_shaped(
        &self,
        signer: &FakeActor,
        url: &str,
        activity: &Value,
        shape: &SignatureShape,
    ) -> SignedPost {
        let body = serde_json::to_vec(activity).expect("JSON");
        let parsed = Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        let headers = shaped_headers(&signer.key, "POST", &parsed, Some(&body), shape);
        SignedPost {
            url: url.to_owned(),
            body,
            headers,
        }
    }

    /// A GET of `url` signed as `signer` and shaped as `shape` (authorized fetch); its status.
    pub async fn get_signed(&self, signer: &FakeActor, url: &str, shape: &SignatureShape) -> u16 {
        let parsed = Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        let mut request = self.client.get(url).header(header::ACCEPT, ACTIVITY_JSON);
        for (name, value) in shaped_headers(&signer.key, "GET", &parsed, None, shape) {
            request = request.header(name, value);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .status()
            .as_u16()
    }

    /// Sends a signed POST; `Err` when no answer came (connection refused, client timeout).
    pub async fn send_signed(&self, post: &SignedPost) -> Result<Answer, String> {
        let mut request = self
            .client
            .post(&post.url)
            .header(header::CONTENT_TYPE, ACTIVITY_JSON)
            .body(post.body.clone());
        for (name, value) in &post.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|e| format!("{e:?}"))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Signs `activity` as `signer` and POSTs it to `url`.
    pub async fn send(
        &self,
        signer: &FakeActor,
        url: &str,
        activity: &Value,
    ) -> Result<Answer, String> {
        self.send_signed(&self.sign(signer, url, activity)).await
    }

    // ---- activities and objects, shaped as Lemmy sends them ----

    /// A fresh activity or object id on this server.
    pub fn new_id(&self, kind: &str) -> String {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.url(&format!("/activities/{}/{n}", kind.to_ascii_lowercase()))
    }

    fn activity(&self, kind: &str, actor: &FakeActor, object: Value) -> Value {
        json!({
            "@context": CONTEXT,
            "type": kind,
            "id": self.new_id(kind),
            "actor": actor.id,
            "object": object,
        })
    }

    pub fn follow(&self, actor: &FakeActor, target: &str) -> Value {
        let mut follow = self.activity("Follow", actor, json!(target));
        follow["to"] = json!([target]);
        follow
    }

    /// The group accepts `follow` (embedded, as Lemmy does).
    pub fn accept(&self, group: &FakeActor, follow: &Value) -> Value {
        let mut accept = self.activity("Accept", group, follow.clone());
        accept["to"] = json!([follow["actor"]]);
        accept
    }

    pub fn like(&self, actor: &FakeActor, object: &str, audience: Option<&str>) -> Value {
        self.vote("Like", actor, object, audience)
    }

    pub fn dislike(&self, actor: &FakeActor, object: &str, audience: Option<&str>) -> Value {
        self.vote("Dislike", actor, object, audience)
    }

    fn vote(&self, kind: &str, actor: &FakeActor, object: &str, audience: Option<&str>) -> Value {
        let mut vote = self.activity(kind, actor, json!(object));
        if let Some(audience) = audience {
            vote["audience"] = json!(audience);
        }
        vote
    }

    /// An Undo embedding `inner` (Lemmy embeds; a bare id makes receivers fetch it).
    pub fn undo(&self, actor: &FakeActor, inner: &Value) -> Value {
        let mut undo = self.activity("Undo", actor, inner.clone());
        if let Some(audience) = inner.get("audience") {
            undo["audience"] = audience.clone();
        }
        undo
    }

    /// Create of `object`, addressed as the object is.
    pub fn create(&self, actor: &FakeActor, object: &Value) -> Value {
        self.create_or_update("Create", actor, object)
    }

    pub fn update(&self, actor: &FakeActor, object: &Value) -> Value {
        self.create_or_update("Update", actor, object)
    }

    fn create_or_update(&self, kind: &str, actor: &FakeActor, object: &Value) -> Value {
        let mut activity = self.activity(kind, actor, object.clone());
        for key in ["to", "cc", "audience"] {
            activity[key] = object.get(key).cloned().unwrap_or_else(|| json!([]));
        }
        activity
    }

    /// A self-delete (no `summary`) of `object_id`, in `group`.
    pub fn delete(&self, actor: &FakeActor, object_id: &str, group: &str) -> Value {
        let mut delete = self.activity("Delete", actor, json!(object_id));
        delete["to"] = json!([PUBLIC]);
        delete["cc"] = json!([group]);
        delete["audience"] = json!(group);
        delete
    }

    /// The group relays `inner` unchanged (FEP-1b12).
    pub fn announce(&self, group: &FakeActor, inner: &Value) -> Value {
        let mut announce = self.activity("Announce", group, inner.clone());
        announce["to"] = json!([PUBLIC]);
        announce["cc"] = json!([group.followers()]);
        announce
    }

    /// A post (`Page`) by `author` in `group`, with id `<base><path>`.
    pub fn page(&self, author: &FakeActor, path: &str, group: &str, title: &str) -> Value {
        let body = format!("{title}: the body");
        json!({
            "@context": CONTEXT,
            "type": "Page",
            "id": self.url(path),
            "attributedTo": author.id,
            "name": title,
            "content": format!("<p>{body}</p>"),
            "mediaType": "text/html",
            "source": {"content": body, "mediaType": "text/markdown"},
            "to": [group, PUBLIC],
            "cc": [],
            "audience": group,
            "published": "2025-01-01T00:00:00Z",
        })
    }

    /// A comment (`Note`) by `author` replying to `in_reply_to` in `group`, with id
    /// `<base><path>`.
    pub fn note(
        &self,
        author: &FakeActor,
        path: &str,
        in_reply_to: &str,
        group: &str,
        text: &str,
    ) -> Value {
        json!({
            "@context": CONTEXT,
            "type": "Note",
            "id": self.url(path),
            "attributedTo": author.id,
            "inReplyTo": in_reply_to,
            "content": format!("<p>{text}</p>"),
            "mediaType": "text/html",
            "source": {"content": text, "mediaType": "text/markdown"},
            "to": [PUBLIC, group],
            "cc": [],
            "audience": group,
            "tag": [{"type": "Mention", "href": group}],
            "published": "2025-01-01T00:00:00Z",
        })
    }
}

// ---- the server side ----

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if parts.method == Method::GET {
        shared.fetched.lock().unwrap().push(path.clone());
    }
    match parts.method {
        Method::POST if path == "/inbox" || path.ends_with("/inbox") => {
            let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
                return StatusCode::PAYLOAD_TOO_LARGE.into_response();
            };
            if let Err(refusal) = check_signer(&shared, &parts, Some(&bytes)).await {
                return refusal.into_response();
            }
            receive(&shared, path, &parts.headers, &bytes)
        }
        Method::GET if path == "/.well-known/webfinger" => {
            webfinger(&shared, parts.uri.query().unwrap_or_default())
        }
        Method::GET => {
            if let Err(refusal) = check_signer(&shared, &parts, None).await {
                return refusal.into_response();
            }
            match document(&shared, &path) {
                Some(doc) => {
                    ([(header::CONTENT_TYPE, ACTIVITY_JSON)], doc.to_string()).into_response()
                }
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

/// The headers of a request signed as `shape` says.
fn shaped_headers(
    key: &SigningKey,
    method: &str,
    url: &Url,
    body: Option<&[u8]>,
    shape: &SignatureShape,
) -> Vec<(&'static str, String)> {
    let now = SystemTime::now();
    let unix = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (created, expires) = (unix - 5, unix + 3600);
    let date = httpdate::fmt_http_date(now);
    let digest = body.map(|body| {
        let value = digest_value(shape.digest, body).unwrap_or_else(|| "AAAA".to_owned());
        format!("{}={value}", shape.digest)
    });
    let mut target = format!("{} {}", method.to_ascii_lowercase(), url.path());
    if let Some(query) = url.query() {
        target = format!("{target}?{query}");
    }
    let lines: Vec<String> = shape
        .headers
        .iter()
        .map(|name| {
            let value = match *name {
                "(request-target)" => target.clone(),
                "(created)" => created.to_string(),
                "(expires)" => expires.to_string(),
                "host" => host_header(url),
                "date" => date.clone(),
                "digest" => digest.clone().expect("a digest is signed only with a body"),
                "content-type" => ACTIVITY_JSON.to_owned(),
                other => panic!("no value to sign for {other}"),
            };
            format!("{name}: {value}")
        })
        .collect();
    let signature = key.sign(&lines.join("\n")).expect("signing");
    let mut params = format!(r#"keyId="{}""#, key.key_id);
    if let Some(algorithm) = shape.algorithm {
        params.push_str(&format!(r#",algorithm="{algorithm}""#));
    }
    if shape.headers.contains(&"(created)") {
        params.push_str(&format!(",created={created}"));
    }
    if shape.headers.contains(&"(expires)") {
        params.push_str(&format!(",expires={expires}"));
    }
    params.push_str(&format!(
        r#",headers="{}",signature="{signature}""#,
        shape.headers.join(" ")
    ));
    let mut headers = vec![("Date", date)];
    if let Some(digest) = digest {
        headers.push(("Digest", digest));
    }
    headers.push(("Signature", params));
    headers
}

/// GoToSocial's checks of a request's signer (when they are on); the refusal to answer if
/// they fail.
async fn check_signer(
    shared: &Shared,
    parts: &axum::http::request::Parts,
    body: Option<&[u8]>,
) -> Result<(), (StatusCode, String)> {
    if !shared.check_signers.load(Ordering::SeqCst) {
        return Ok(());
    }
    let params = parts
        .headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_signature)
        .ok_or((StatusCode::UNAUTHORIZED, "not signed".to_owned()))?;
    let signer = key_owner(&params.key_id).to_owned();
    let outcome = verify_signer(shared, &signer, &params, parts, body).await;
    shared.signer_checks.lock().unwrap().push(SignerCheck {
        signer,
        request: format!("{} {}", parts.method, parts.uri.path()),
        outcome: outcome.clone().map_err(|(_, why)| why),
    });
    outcome
}

async fn verify_signer(
    shared: &Shared,
    signer: &str,
    params: &cenacle_apub::signatures::SignatureParams,
    parts: &axum::http::request::Parts,
    body: Option<&[u8]>,
) -> Result<(), (StatusCode, String)> {
    let unauthorized = |why: String| (StatusCode::UNAUTHORIZED, why);
    let failed = |why: String| (StatusCode::INTERNAL_SERVER_ERROR, why);
    if let Some(body) = body {
        let digest = parts.headers.get("digest").and_then(|v| v.to_str().ok());
        if !digest.is_some_and(|d| digest_matches(d, body)) {
            return Err(unauthorized("Digest does not match the body".into()));
        }
    }
    let actor: Value = fetch_json(&shared.client, signer)
        .await
        .map_err(|e| failed(format!("fetching the signer {signer}: {e}")))?;
    if actor["id"] != signer || actor["publicKey"]["owner"] != signer {
        return Err(failed(format!(
            "{signer} serves another actor or key: {actor}"
        )));
    }
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    verify(
        params,
        parts.method.as_str(),
        path_and_query,
        |name| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        },
        actor["publicKey"]["publicKeyPem"].as_str().unwrap_or(""),
    )
    .map_err(|e| unauthorized(format!("signature of {signer}: {e}")))?;
    // GoToSocial refuses a signer whose name is not a username (Lemmy's `host:port`).
    let name = actor["preferredUsername"].as_str().unwrap_or("");
    if !cenacle_domain::is_webfinger_name(name) {
        return Err(failed(format!(
            "{signer}: {name:?} is not a valid username"
        )));
    }
    let id = Url::parse(signer).map_err(|e| failed(format!("{signer}: {e}")))?;
    let host = host_of(&id);
    let resource = format!("acct:{name}@{host}");
    let finger_url = format!(
        "{}://{host}/.well-known/webfinger?resource={}",
        id.scheme(),
        url::form_urlencoded::byte_serialize(resource.as_bytes()).collect::<String>()
    );
    let finger = fetch_json(&shared.client, &finger_url)
        .await
        .map_err(|e| failed(format!("webfinger {resource}: {e}")))?;
    let first_self = finger["links"].as_array().and_then(|links| {
        links.iter().find(|l| {
            l["rel"] == "self"
                && l["type"].as_str().is_some_and(|t| {
                    t.eq_ignore_ascii_case(ACTIVITY_JSON)
                    || t.eq_ignore_ascii_case(
                        r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#,
                    )
                })
        })
    });
    match first_self.and_then(|l| l["href"].as_str()) {
        Some(href) if href == signer => Ok(()),
        other => Err(failed(format!(
            "webfinger {resource} does not lead back to {signer} (got {other:?})"
        ))),
    }
}

/// A GET answered 200 with JSON (unsigned: our fetches of the instances' actors and WebFinger
/// need no signature unless `authorized_fetch` is on).
async fn fetch_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    let response = client
        .get(url)
        .header(header::ACCEPT, ACTIVITY_JSON)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    response.json().await.map_err(|e| e.to_string())
}

fn receive(shared: &Shared, path: String, headers: &HeaderMap, body: &Bytes) -> Response {
    let Ok(activity) = serde_json::from_slice::<Value>(body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let signature = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    shared.deliveries.lock().unwrap().push(Delivery {
        path,
        activity,
        signature,
    });
    StatusCode::ACCEPTED.into_response()
}

/// An actor, one of its collections, or a registered object.
fn document(shared: &Shared, path: &str) -> Option<Value> {
    if let Some(actor) = shared.actors.read().unwrap().get(path) {
        let mut doc = actor.document(&shared.base);
        if let Some(patch) = shared.patches.read().unwrap().get(path) {
            for (key, value) in patch {
                doc[key] = value.clone();
            }
        }
        return Some(doc);
    }
    if let Some((actor_path, collection)) = path.rsplit_once('/') {
        if let Some(actor) = shared.actors.read().unwrap().get(actor_path) {
            return collection_of(shared, actor, collection);
        }
    }
    shared.objects.read().unwrap().get(path).cloned()
}

fn collection_of(shared: &Shared, actor: &FakeActor, collection: &str) -> Option<Value> {
    let id = format!("{}/{collection}", actor.id);
    let ordered = |items: Vec<String>| {
        json!({
            "@context": CONTEXT, "type": "OrderedCollection", "id": id,
            "totalItems": items.len(), "orderedItems": items,
        })
    };
    match (actor.kind, collection) {
        // Lemmy reads a community's last posts from an inline outbox.
        (_, "outbox") | (ActorKind::Group, "featured") => Some(ordered(vec![])),
        // Lemmy parses followers only for the count.
        (_, "followers") | (ActorKind::Person, "following") => Some(json!({
            "@context": CONTEXT, "type": "Collection", "id": id, "totalItems": 0,
        })),
        (ActorKind::Group, "moderators") => Some(ordered(
            shared
                .moderators
                .read()
                .unwrap()
                .get(&actor.name)
                .cloned()
                .unwrap_or_default(),
        )),
        _ => None,
    }
}

/// `acct:<name>@<host>` → the person and/or group of that name (the group last).
fn webfinger(shared: &Shared, query: &str) -> Response {
    let resource = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "resource")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let Some((name, host)) = resource
        .strip_prefix("acct:")
        .and_then(|acct| acct.rsplit_once('@'))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !host.eq_ignore_ascii_case(&shared.host) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let actors = shared.actors.read().unwrap();
    let links: Vec<Value> = [("u", "Person"), ("g", "Group")]
        .into_iter()
        .filter_map(|(prefix, kind)| {
            let actor = actors.get(&format!("/{prefix}/{name}"))?;
            Some(json!({
                "rel": "self", "type": ACTIVITY_JSON, "href": actor.id,
                "properties": {"https://www.w3.org/ns/activitystreams#type": kind},
            }))
        })
        .collect();
    if links.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let body = json!({"subject": format!("acct:{name}@{}", shared.host), "links": links});
    (
        [(header::CONTENT_TYPE, "application/jrd+json")],
        body.to_string(),
    )
        .into_response()
}
