//! Federation benchmark (not a test): run by `scripts/bench-federation`, which builds in
//! release mode; the figures go into docs/benchmarks.md.
//!
//! (a) inbox, the real path: signed Likes on existing posts of a local group that one other
//!     instance follows, so that each is verified, applied (vote, reputation ledger), recorded
//!     and relayed (the group's Announce to its follower). First from people alpha has never
//!     seen (first contact: each actor and its key are fetched), then from the same people
//!     again, each liking other posts (keys known). Everything is signed before the clock
//!     starts; `BENCH_CONCURRENCY` requests in flight. Afterwards alpha's database must hold
//!     exactly what was accepted (votes, reputation events) and the follower must have
//!     received every relay, or the benchmark panics: it cannot measure an ignored path.
//!     Meanwhile one reader asks alpha's API for the group every 50 ms, one request at a time,
//!     and its latencies are reported (p50 / p99 / max): what a member waits for while peers
//!     deliver.
//!     Knobs: `BENCH_PEOPLE` (1000), `BENCH_POSTS` (50), `BENCH_WARM_ROUNDS` (likes per
//!     person in the warm phase, 2), `BENCH_CONCURRENCY` (32), `BENCH_POOL_SIZE` (alpha's
//!     `database.pool_size`; its default when unset).
//! (b) fan-out: one group Update to 1,000 followers on 1,000 distinct hosts (a sink listening
//!     on 1,000 loopback addresses), from the PATCH to the last delivery;
//! (c) latency: an Update leaving an idle instance to the first (only) follower, median of 20.

use axum::{routing::post, Router};
use cenacle_api_tests::{
    eventually,
    fake_server::{FakeActor, FakeServer, SignedPost},
    Hosts, Instance,
};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

/// Follower instances of the fan-out (`BENCH_FANOUT`, default 1,000).
fn fanout() -> usize {
    env_usize("BENCH_FANOUT", 1000)
}
/// The group of the inbox benchmark (the fan-out uses another one, `bench`).
const LIKES_GROUP: &str = "likes";
/// How often the reader asks alpha's API during an inbox phase.
const READ_EVERY: Duration = Duration::from_millis(50);
/// How long the reader waits for one answer before counting the read as failed.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// PostgreSQL 15 flushes an idle backend's statistics at most 10 s after its last transaction
/// (`PGSTAT_IDLE_INTERVAL`): wait that long before reading `pg_stat_database`.
const STATS_FLUSH: Duration = Duration::from_secs(11);
/// How long the relays or the application may trail the last answer before we give up.
const CATCH_UP: Duration = Duration::from_secs(300);

fn loopback(i: usize) -> String {
    format!("127.0.{}.{}", 1 + i / 250, 1 + i % 250)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

struct Settings {
    people: usize,
    posts: usize,
    authors: usize,
    warm_rounds: usize,
    concurrency: usize,
    pool_size: Option<usize>,
}

impl Settings {
    fn from_env() -> Settings {
        let settings = Settings {
            people: env_usize("BENCH_PEOPLE", 1000),
            posts: env_usize("BENCH_POSTS", 50),
            authors: env_usize("BENCH_AUTHORS", 1),
            warm_rounds: env_usize("BENCH_WARM_ROUNDS", 2),
            concurrency: env_usize("BENCH_CONCURRENCY", 32),
            pool_size: std::env::var("BENCH_POOL_SIZE")
                .ok()
                .map(|_| env_usize("BENCH_POOL_SIZE", 0)),
        };
        assert!(settings.people > 0 && settings.concurrency > 0);
        // Person i likes post i (cold), then posts i+1 … i+rounds (warm): distinct pairs.
        assert!(
            settings.warm_rounds < settings.posts,
            "BENCH_WARM_ROUNDS must be below BENCH_POSTS (each pair is liked once)"
        );
        settings
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let settings = Settings::from_env();
    let mut hosts = Hosts::default();
    hosts.add("alpha");
    hosts.add("follower");
    hosts.add("people");
    let sink_port = cenacle_api_tests::free_port();
    let mut alpha = Instance::new("alpha", &hosts);
    // The fan-out's instances are IP-literal hosts, each its own loopback address (allowed in
    // the loopback test mode): 10,000 names in `federation.hosts` would not fit in the
    // environment.
    let fanout = fanout();
    alpha.set_env("RUST_LOG", "warn");
    // The setup registers and logs in many authors from one address.
    alpha.set_env("CENACLE_LIMITS__REGISTER_PER_IP", "100000");
    alpha.set_env("CENACLE_LIMITS__LOGIN_PER_IP", "100000");
    if let Some(size) = settings.pool_size {
        alpha.set_env("CENACLE_DATABASE__POOL_SIZE", &size.to_string());
    }
    alpha.start();
    if statement_profile() {
        load_pg_stat_statements(&mut alpha).await;
    }
    let rss_after_start = alpha.rss_mib().unwrap_or(f64::NAN);
    println!("memory: {rss_after_start:.1} MiB resident after start");
    let admin = alpha.admin().await;
    let (status, group) = alpha
        .post(
            "/api/v1/groups",
            Some(&admin),
            json!({"name": "bench", "title": "Bench"}),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["ap_id"].as_str().unwrap().to_owned();

    // ---- (a) inbox ----
    // BENCH_SKIP_INBOX=1 measures the fan-out, latency and memory only.
    let inbox = if std::env::var("BENCH_SKIP_INBOX").is_ok_and(|v| v == "1") {
        None
    } else {
        Some(inbox_benchmark(&alpha, &hosts, &admin, &settings).await)
    };

    // ---- (b) fan-out ----
    let received = Arc::new(AtomicUsize::new(0));
    let first_arrival = Arc::new(tokio::sync::Notify::new());
    let sink = {
        let received = received.clone();
        let first_arrival = first_arrival.clone();
        Router::new().route(
            "/inbox",
            post(move || {
                let received = received.clone();
                let first_arrival = first_arrival.clone();
                async move {
                    received.fetch_add(1, Ordering::Relaxed);
                    first_arrival.notify_one();
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        )
    };
    for i in 0..fanout {
        let listener = tokio::net::TcpListener::bind((loopback(i).as_str(), sink_port))
            .await
            .unwrap();
        let app = sink.clone();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    add_followers(&alpha, &group_id, sink_port, fanout).await;
    let rss_before_fanout = alpha.rss_mib().unwrap_or(f64::NAN);
    let mut rss_peak = rss_before_fanout;
    let started = Instant::now();
    let (status, _) = alpha
        .call(
            reqwest::Method::PATCH,
            "/api/v1/groups/bench",
            Some(&admin),
            Some(json!({"title": "Bench 2"})),
        )
        .await;
    assert_eq!(status, 200);
    while received.load(Ordering::Relaxed) < fanout {
        rss_peak = rss_peak.max(alpha.rss_mib().unwrap_or(f64::NAN));
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "fan-out stalled at {}",
            received.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let fanout_secs = started.elapsed().as_secs_f64();
    println!(
        "fan-out: one Update reached {fanout} inboxes on {fanout} distinct hosts in {fanout_secs:.2} s"
    );
    // Deliveries that arrived leave the queue in batches: wait until it is empty, then a
    // moment more (idle connections would have closed by then), and read the memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after_fanout = alpha.rss_mib().unwrap_or(f64::NAN);
    println!(
        "memory around the fan-out: {rss_before_fanout:.1} MiB before, {rss_peak:.1} MiB peak (sampled every 5 ms), {rss_after_fanout:.1} MiB 2 s after"
    );

    // ---- (c) idle latency: one follower only ----
    remove_followers_but_one(&alpha, &group_id).await;
    let mut latencies = Vec::new();
    for round in 0..20 {
        tokio::time::sleep(Duration::from_millis(200)).await; // let the worker go idle
        let before = received.load(Ordering::Relaxed);
        let started = Instant::now();
        let (status, _) = alpha
            .call(
                reqwest::Method::PATCH,
                "/api/v1/groups/bench",
                Some(&admin),
                Some(json!({"title": format!("Bench {round}")})),
            )
            .await;
        assert_eq!(status, 200);
        while received.load(Ordering::Relaxed) == before {
            first_arrival.notified().await;
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let (median, max) = (
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
    );
    println!("idle latency: PATCH to delivery, median {median:.1} ms, max {max:.1} ms (20 rounds)");
    let rss_at_end = alpha.rss_mib().unwrap_or(f64::NAN);
    println!("memory: {rss_at_end:.1} MiB resident at the end");
    alpha.stop();

    println!();
    println!("== summary");
    if let Some(inbox) = &inbox {
        inbox.print(&settings);
    }
    println!("fan-out: 1 activity to {fanout} distinct hosts in {fanout_secs:.2} s");
    println!(
        "fan-out memory: {rss_before_fanout:.1} MiB before, {rss_peak:.1} MiB peak, {rss_after_fanout:.1} MiB after"
    );
    println!("idle latency: median {median:.1} ms, max {max:.1} ms");
    println!("memory: {rss_after_start:.1} MiB after start, {rss_at_end:.1} MiB at the end");
}

// ---------------------------------------------------------------------------------------------
// (a) inbox
// ---------------------------------------------------------------------------------------------

/// One signed Like, ready to send.
struct Request {
    like_id: String,
    post: SignedPost,
}

/// What alpha answered in one phase, and how fast.
struct Phase {
    name: &'static str,
    sent: usize,
    accepted: usize,
    /// Statuses other than 2xx, and requests that got no answer ("no answer" as 0).
    refused: BTreeMap<u16, usize>,
    retry_after: BTreeMap<String, usize>,
    /// A few refusals, as answered.
    samples: Vec<String>,
    /// From the first request to the last answer.
    answered_secs: f64,
    /// From the first request until the follower had received the relay of every accepted Like.
    relayed_secs: f64,
    /// The API reads made while the Likes were being sent.
    reads: Reads,
    pg: PgCounters,
    /// The tables touched, per table.
    tables: TableStats,
    /// CPU used from the first request until the last relay arrived.
    cpu: CpuTimes,
    db: DbCheck,
}

/// A reader's requests to the API during a phase: every read's latency in ms, and how many got
/// another answer than 200 (or none).
#[derive(Default)]
struct Reads {
    /// Every read's latency, answered 200 or not (a slow error is waited for too).
    latencies_ms: Vec<f64>,
    failed: usize,
}

impl Reads {
    fn record(&mut self, status: u16, took: Duration) {
        self.latencies_ms.push(took.as_secs_f64() * 1000.0);
        if status != 200 {
            self.failed += 1;
        }
    }

    fn text(&self) -> String {
        if self.latencies_ms.is_empty() {
            return "no reads".into();
        }
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        // Nearest rank: the smallest latency at least `q` of the reads did not exceed.
        let at =
            |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        format!(
            "{} reads, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} not answered 200",
            sorted.len(),
            at(0.5),
            at(0.99),
            at(1.0),
            self.failed
        )
    }
}

impl Phase {
    fn answered_per_sec(&self) -> f64 {
        self.accepted as f64 / self.answered_secs
    }

    fn relayed_per_sec(&self) -> f64 {
        self.accepted as f64 / self.relayed_secs
    }

    fn refused_text(&self) -> String {
        if self.refused.is_empty() {
            return "none".into();
        }
        let mut parts: Vec<String> = self
            .refused
            .iter()
            .map(|(status, n)| match status {
                0 => format!("{n} without answer"),
                s => format!("{n} × {s}"),
            })
            .collect();
        if !self.retry_after.is_empty() {
            let ra: Vec<String> = self
                .retry_after
                .iter()
                .map(|(v, n)| format!("{n} × {v} s"))
                .collect();
            parts.push(format!("Retry-After: {}", ra.join(", ")));
        }
        parts.join(", ")
    }

    fn print(&self) {
        let per = |v: i64| v as f64 / self.accepted.max(1) as f64;
        println!(
            "inbox {}: {} Likes sent, {} accepted (2xx), refused: {}",
            self.name,
            self.sent,
            self.accepted,
            self.refused_text()
        );
        for sample in &self.samples {
            println!("  refused: {sample}");
        }
        println!(
            "  answered in {:.2} s = {:.0} Likes/s; all relays at the follower after {:.2} s = {:.0} Likes/s",
            self.answered_secs,
            self.answered_per_sec(),
            self.relayed_secs,
            self.relayed_per_sec()
        );
        println!(
            "  API during the burst (GET /api/v1/groups/{LIKES_GROUP}, one every {} ms at most): {}",
            READ_EVERY.as_millis(),
            self.reads.text()
        );
        println!(
            "  PostgreSQL per accepted Like: {:.1} commits, {:.2} rollbacks, {:.0} rows returned, {:.0} rows fetched, {:.1} inserted, {:.1} updated, {:.1} deleted",
            per(self.pg.xact_commit),
            per(self.pg.xact_rollback),
            per(self.pg.tup_returned),
            per(self.pg.tup_fetched),
            per(self.pg.tup_inserted),
            per(self.pg.tup_updated),
            per(self.pg.tup_deleted)
        );
        if !self.tables.is_empty() {
            println!("  per accepted Like, by table: seq scans / rows read by them, index scans / rows fetched, inserted, updated, deleted");
            let f = |v: i64| v as f64 / self.accepted.max(1) as f64;
            for (name, t) in &self.tables {
                println!(
                    "    {name:<22} {:>6.2} / {:>7.1}  {:>6.2} / {:>6.1}  {:>5.2} {:>5.2} {:>5.2}",
                    f(t.seq_scan),
                    f(t.seq_tup_read),
                    f(t.idx_scan),
                    f(t.idx_tup_fetch),
                    f(t.n_tup_ins),
                    f(t.n_tup_upd),
                    f(t.n_tup_del)
                );
            }
        }
        let ms = |secs: f64| secs * 1000.0 / self.accepted.max(1) as f64;
        println!(
            "  CPU per accepted Like: server {:.2} ms, PostgreSQL {:.2} ms, this benchmark {:.2} ms; machine busy {:.0}% of {} cores, other processes {:.0}% (more skews the rates)",
            ms(self.cpu.server),
            ms(self.cpu.postgres),
            ms(self.cpu.bench),
            100.0 * self.cpu.machine / (self.relayed_secs * cores() as f64),
            cores(),
            100.0 * (self.cpu.machine - self.cpu.server - self.cpu.postgres - self.cpu.bench).max(0.0)
                / (self.relayed_secs * cores() as f64)
        );
        println!(
            "  checked in alpha's database (totals so far): {} votes, {} like reputation events, {} likes counted on posts, {} remote people; follower received {} relays of this phase; {} Announces and {} deliveries still queued",
            self.db.votes,
            self.db.like_events,
            self.db.post_likes,
            self.db.remote_people,
            self.db.relays_received,
            self.db.queued_announces,
            self.db.queued_deliveries
        );
    }
}

struct InboxResult {
    cold: Phase,
    warm: Phase,
    key_generation_secs: f64,
    signing_secs: f64,
}

impl InboxResult {
    fn print(&self, s: &Settings) {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = cores();
        let profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        println!("machine: {cores} cores, {cpu}");
        println!(
            "build: {profile} (this example); server: {}",
            cenacle_api_tests::binary().display()
        );
        println!(
            "inbox setup: N = {} fresh people (one fake host), P = {} questions by {} local member(s) in a public local group, 1 follower instance, {} in flight, database pool {}, {} warm Likes per person; keys generated in {:.1} s, {} requests signed in {:.1} s (before the clock)",
            s.people,
            s.posts,
            s.authors.max(1),
            s.concurrency,
            s.pool_size
                .map_or("as configured".to_owned(), |n| n.to_string()),
            s.warm_rounds,
            self.key_generation_secs,
            self.cold.sent + self.warm.sent,
            self.signing_secs
        );
        self.cold.print();
        self.warm.print();
        println!(
            "inbox: cold {:.0} Likes/s answered ({:.0}/s relayed), warm {:.0} Likes/s answered ({:.0}/s relayed)",
            self.cold.answered_per_sec(),
            self.cold.relayed_per_sec(),
            self.warm.answered_per_sec(),
            self.warm.relayed_per_sec()
        );
        println!(
            "API during the bursts: cold {}; warm {}",
            self.cold.reads.text(),
            self.warm.reads.text()
        );
    }
}

async fn inbox_benchmark(
    alpha: &Instance,
    hosts: &Hosts,
    admin: &str,
    s: &Settings,
) -> InboxResult {
    // A public local group, with P questions by a local member.
    let (status, group) = alpha
        .post(
            "/api/v1/groups",
            Some(admin),
            json!({"name": LIKES_GROUP, "title": "Likes"}),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["ap_id"].as_str().unwrap().to_owned();
    let mut authors = Vec::new();
    for i in 0..s.authors.max(1) {
        authors.push(alpha.member(&format!("author{i}")).await);
    }
    let mut posts = Vec::with_capacity(s.posts);
    for i in 0..s.posts {
        let author = &authors[i % authors.len()];
        let (status, body) = alpha
            .post(
                &format!("/api/v1/groups/{LIKES_GROUP}/posts"),
                Some(author),
                json!({"kind": "question", "title": format!("Question {i} ?"), "body": "Details."}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        posts.push(body["post"]["ap_id"].as_str().unwrap().to_owned());
    }

    // One follower instance: its person follows the group; its inboxes answer 202.
    let follower = FakeServer::start(hosts, "follower").await;
    let fan = follower.add_person("fan").await;
    let follow = follower.follow(&fan, &group_id);
    let answer = follower
        .send(
            &fan,
            &alpha.url(&format!("/g/{LIKES_GROUP}/inbox")),
            &follow,
        )
        .await
        .expect("alpha answers the Follow");
    assert!(answer.is_success(), "Follow: {answer:?}");
    eventually(
        "the group to count its follower",
        Duration::from_secs(60),
        || async {
            let (_, g) = alpha
                .get(&format!("/api/v1/groups/{LIKES_GROUP}"), None)
                .await;
            (g["followers"] == 1).then_some(())
        },
    )
    .await;

    // N people alpha has never seen, on another fake host.
    let people_server = Arc::new(FakeServer::start(hosts, "people").await);
    let names: Vec<String> = (0..s.people).map(|i| format!("p{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let started = Instant::now();
    let people = people_server.add_people(&names).await;
    let key_generation_secs = started.elapsed().as_secs_f64();
    println!(
        "inbox: {} RSA-2048 keys generated in {key_generation_secs:.1} s",
        people.len()
    );

    // Sign everything first: signing must not compete with the server in the measured window.
    let inbox = alpha.url("/inbox");
    let pairs = |rounds: std::ops::RangeInclusive<usize>| -> Vec<(Arc<FakeActor>, String)> {
        rounds
            .flat_map(|round| {
                people
                    .iter()
                    .enumerate()
                    .map(move |(i, person)| (person.clone(), (i + round) % s.posts))
            })
            .map(|(person, post)| (person, posts[post].clone()))
            .collect()
    };
    let started = Instant::now();
    let cold = sign_likes(&people_server, &inbox, &group_id, pairs(0..=0)).await;
    let warm = sign_likes(&people_server, &inbox, &group_id, pairs(1..=s.warm_rounds)).await;
    let signing_secs = started.elapsed().as_secs_f64();

    let db_url = alpha.database_url();
    let data_dir = db_url
        .split_once("?host=")
        .and_then(|(_, socket)| socket.strip_suffix("/postgres/socket"))
        .expect("the embedded database's socket is in the data dir")
        .to_owned();
    let env = PhaseEnv {
        alpha,
        sender: &people_server,
        follower: &follower,
        concurrency: s.concurrency,
        db_url: &db_url,
        data_dir: &data_dir,
    };
    let mut accepted_so_far = 0;
    // The setup's statistics must be flushed before the first reading.
    tokio::time::sleep(STATS_FLUSH).await;
    let cold = run_phase(
        &env,
        "cold (fresh people, first contact)",
        cold,
        &mut accepted_so_far,
    )
    .await;
    let warm = run_phase(&env, "warm (known people)", warm, &mut accepted_so_far).await;
    // Known people are not fetched again (unless their first Like was refused).
    if warm.db.remote_people != cold.db.remote_people {
        println!(
            "  note: {} people were new to alpha in the warm phase",
            warm.db.remote_people - cold.db.remote_people
        );
    }
    InboxResult {
        cold,
        warm,
        key_generation_secs,
        signing_secs,
    }
}

/// Signs a Like (Lemmy's shape, with the group as `audience`) of each post by its person, on
/// all cores.
async fn sign_likes(
    server: &Arc<FakeServer>,
    inbox: &str,
    group_id: &str,
    pairs: Vec<(Arc<FakeActor>, String)>,
) -> Vec<Request> {
    let threads = cores();
    let chunk = pairs.len().div_ceil(threads).max(1);
    let mut tasks = Vec::new();
    for part in pairs.chunks(chunk) {
        let (server, inbox, group_id, part) = (
            server.clone(),
            inbox.to_owned(),
            group_id.to_owned(),
            part.to_vec(),
        );
        tasks.push(tokio::task::spawn_blocking(move || {
            part.iter()
                .map(|(person, post)| {
                    let like = server.like(person, post, Some(&group_id));
                    Request {
                        like_id: like["id"].as_str().unwrap().to_owned(),
                        post: server.sign(person, &inbox, &like),
                    }
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut requests = Vec::with_capacity(pairs.len());
    for task in tasks {
        requests.extend(task.await.expect("signing task"));
    }
    requests
}

/// The outcome of one request: its index and status (0: no answer).
struct Outcome {
    index: usize,
    status: u16,
    retry_after: Option<String>,
    body: String,
}

/// What every phase runs against.
struct PhaseEnv<'a> {
    /// The instance under load: the reader's API requests go to it.
    alpha: &'a Instance,
    sender: &'a Arc<FakeServer>,
    follower: &'a FakeServer,
    concurrency: usize,
    db_url: &'a str,
    data_dir: &'a str,
}

async fn run_phase(
    env: &PhaseEnv<'_>,
    name: &'static str,
    requests: Vec<Request>,
    accepted_so_far: &mut i64,
) -> Phase {
    let PhaseEnv {
        alpha,
        sender,
        follower,
        concurrency,
        db_url,
        data_dir,
    } = *env;
    if statement_profile() {
        sql(db_url, "SELECT pg_stat_statements_reset()::text").await;
    }
    let pg_before = pg_counters(db_url).await;
    let tables_before = table_counters(db_url).await;
    let cpu_before = cpu_times(data_dir);
    let follower_before = follower.delivery_count();
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (sender, requests, next) = (sender.clone(), requests.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(index) else {
                    break;
                };
                outcomes.push(match sender.send_signed(&request.post).await {
                    Ok(answer) => Outcome {
                        index,
                        status: answer.status,
                        retry_after: answer.retry_after().map(str::to_owned),
                        body: answer.body,
                    },
                    Err(e) => Outcome {
                        index,
                        status: 0,
                        retry_after: None,
                        body: e,
                    },
                });
            }
            outcomes
        }));
    }
    // While the senders run, a member reads the group through the API, one request at a
    // time: how long they wait is what a burst costs the instance's own users.
    let senders_done = AtomicBool::new(false);
    let collect = async {
        let mut outcomes = Vec::with_capacity(requests.len());
        for worker in workers {
            outcomes.extend(worker.await.expect("sender"));
        }
        senders_done.store(true, Ordering::Relaxed);
        (outcomes, started.elapsed().as_secs_f64())
    };
    let read = async {
        let mut reads = Reads::default();
        // Paced like a member browsing: a reader asking back to back would itself be a load
        // (hundreds of requests a second) and cut the inbox's throughput being measured.
        let mut pace = tokio::time::interval(READ_EVERY);
        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            pace.tick().await;
            // Checked after the wait: a read once the senders are done is not of the burst.
            if senders_done.load(Ordering::Relaxed) {
                break;
            }
            let asked = Instant::now();
            // A read that gets no whole answer (refused, reset, timed out) is a failed read
            // (status 0), timed like the others: the benchmark goes on and says so. The body
            // is read, as a member's browser would (and the connection can be reused).
            let read = async {
                let response = alpha
                    .http
                    .get(alpha.url(&format!("/api/v1/groups/{LIKES_GROUP}")))
                    .send()
                    .await?;
                let status = response.status().as_u16();
                response.bytes().await.map(|_| status)
            };
            let status = match tokio::time::timeout(READ_TIMEOUT, read).await {
                Ok(Ok(status)) => status,
                Ok(Err(_)) | Err(_) => 0,
            };
            reads.record(status, asked.elapsed());
        }
        reads
    };
    let ((outcomes, answered_secs), reads) = tokio::join!(collect, read);

    let mut accepted_ids = HashSet::new();
    let mut refused = BTreeMap::new();
    let mut retry_after = BTreeMap::new();
    let mut samples = Vec::new();
    for outcome in outcomes {
        if (200..300).contains(&outcome.status) {
            accepted_ids.insert(requests[outcome.index].like_id.clone());
            continue;
        }
        *refused.entry(outcome.status).or_insert(0) += 1;
        if let Some(ra) = outcome.retry_after.clone() {
            *retry_after.entry(ra).or_insert(0) += 1;
        }
        if samples.len() < 5 {
            let body: String = outcome.body.chars().take(300).collect();
            samples.push(format!(
                "{} (Retry-After {:?}): {body}",
                outcome.status, outcome.retry_after
            ));
        }
    }
    let accepted = accepted_ids.len();

    // Every accepted Like must come back to the follower inside the group's Announce.
    let relayed = |follower: &FakeServer| -> usize {
        follower
            .received_where(|a| a["type"] == "Announce" && a["object"]["type"] == "Like")
            .iter()
            .filter_map(|a| a["object"]["id"].as_str())
            .filter(|id| accepted_ids.contains(*id))
            .collect::<HashSet<_>>()
            .len()
    };
    let relayed_secs = loop {
        // Cheap to poll; the full check only once enough has arrived.
        if follower.delivery_count() >= follower_before + accepted && relayed(follower) == accepted
        {
            break started.elapsed().as_secs_f64();
        }
        if started.elapsed() > CATCH_UP {
            panic!(
                "{name}: the follower received {} of the {accepted} relays after {CATCH_UP:?}",
                relayed(follower)
            );
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let cpu = cpu_times(data_dir).minus(&cpu_before);

    // Read the statistics before our own checks add to them.
    tokio::time::sleep(STATS_FLUSH).await;
    let pg = pg_counters(db_url).await.minus(&pg_before);
    let tables = table_delta(&table_counters(db_url).await, &tables_before);

    if statement_profile() {
        print_statement_profile(name, db_url, accepted).await;
    }
    *accepted_so_far += accepted as i64;
    let db = check_database(name, db_url, *accepted_so_far, relayed(follower)).await;
    // Our checks' statistics must be flushed before the next phase's first reading.
    tokio::time::sleep(STATS_FLUSH).await;
    let phase = Phase {
        name,
        sent: requests.len(),
        accepted,
        refused,
        retry_after,
        samples,
        answered_secs,
        relayed_secs,
        reads,
        pg,
        tables,
        cpu,
        db,
    };
    phase.print();
    let wrong = phase.db.mismatches(*accepted_so_far);
    assert!(
        wrong.is_empty(),
        "{name}: alpha's database does not hold what it accepted: {}",
        wrong.join("; ")
    );
    phase
}

/// What alpha's database holds (totals over the phases so far).
struct DbCheck {
    votes: i64,
    like_events: i64,
    post_likes: i64,
    remote_people: i64,
    relays_received: usize,
    queued_announces: i64,
    queued_deliveries: i64,
}

/// Fails loudly unless every accepted Like was applied: one vote and one reputation event per
/// Like (the author is local, the voters remote, their instance weighs 1), counted on its
/// post. `want` is the number of Likes accepted so far.
async fn check_database(name: &str, db_url: &str, want: i64, relays_received: usize) -> DbCheck {
    let mut conn = AsyncPgConnection::establish(db_url)
        .await
        .expect("alpha's database");
    let deadline = Instant::now() + CATCH_UP;
    let mut votes = number(&mut conn, "SELECT count(*) FROM vote").await;
    let mut like_events = number(
        &mut conn,
        "SELECT count(*) FROM reputation_event WHERE source_key LIKE 'like:%'",
    )
    .await;
    // Applying may follow the answer: allow it to catch up, but say so.
    if votes != want || like_events != want {
        println!(
            "  {name}: {votes} votes and {like_events} like reputation events for {want} accepted Likes; waiting"
        );
        while (votes < want || like_events < want) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            votes = number(&mut conn, "SELECT count(*) FROM vote").await;
            like_events = number(
                &mut conn,
                "SELECT count(*) FROM reputation_event WHERE source_key LIKE 'like:%'",
            )
            .await;
        }
    }
    let post_likes = number(
        &mut conn,
        "SELECT coalesce(sum(likes), 0)::bigint FROM post",
    )
    .await;
    let remote_people = number(&mut conn, "SELECT count(*) FROM person WHERE NOT local").await;
    let queued_announces = number(
        &mut conn,
        "SELECT count(*) FROM outgoing_activity WHERE body LIKE '%\"Announce\"%'",
    )
    .await;
    let queued_deliveries = number(&mut conn, "SELECT count(*) FROM delivery").await;
    DbCheck {
        votes,
        like_events,
        post_likes,
        remote_people,
        relays_received,
        queued_announces,
        queued_deliveries,
    }
}

impl DbCheck {
    /// What does not match `want` accepted Likes.
    fn mismatches(&self, want: i64) -> Vec<String> {
        let mut wrong = Vec::new();
        for (what, n) in [
            ("vote rows", self.votes),
            ("like reputation events", self.like_events),
            ("likes counted on posts", self.post_likes),
        ] {
            if n != want {
                wrong.push(format!("{n} {what} for {want} accepted Likes"));
            }
        }
        wrong
    }
}

/// The value of a query returning one bigint.
async fn number(conn: &mut AsyncPgConnection, query: &str) -> i64 {
    use diesel_async::RunQueryDsl;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "({query})"
    )))
    .get_result(conn)
    .await
    .unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// The database's cumulative counters (`pg_stat_database`), all connections together.
#[derive(Clone, Copy, Debug, Default)]
struct PgCounters {
    xact_commit: i64,
    xact_rollback: i64,
    tup_returned: i64,
    tup_fetched: i64,
    tup_inserted: i64,
    tup_updated: i64,
    tup_deleted: i64,
}

impl PgCounters {
    fn minus(&self, before: &PgCounters) -> PgCounters {
        PgCounters {
            xact_commit: self.xact_commit - before.xact_commit,
            xact_rollback: self.xact_rollback - before.xact_rollback,
            tup_returned: self.tup_returned - before.tup_returned,
            tup_fetched: self.tup_fetched - before.tup_fetched,
            tup_inserted: self.tup_inserted - before.tup_inserted,
            tup_updated: self.tup_updated - before.tup_updated,
            tup_deleted: self.tup_deleted - before.tup_deleted,
        }
    }
}

/// Per table (`pg_stat_user_tables`): scans and rows, cumulative.
#[derive(Clone, Copy, Debug, Default)]
struct TableCounters {
    seq_scan: i64,
    seq_tup_read: i64,
    idx_scan: i64,
    idx_tup_fetch: i64,
    n_tup_ins: i64,
    n_tup_upd: i64,
    n_tup_del: i64,
}

impl TableCounters {
    fn minus(&self, b: &TableCounters) -> TableCounters {
        TableCounters {
            seq_scan: self.seq_scan - b.seq_scan,
            seq_tup_read: self.seq_tup_read - b.seq_tup_read,
            idx_scan: self.idx_scan - b.idx_scan,
            idx_tup_fetch: self.idx_tup_fetch - b.idx_tup_fetch,
            n_tup_ins: self.n_tup_ins - b.n_tup_ins,
            n_tup_upd: self.n_tup_upd - b.n_tup_upd,
            n_tup_del: self.n_tup_del - b.n_tup_del,
        }
    }

    fn is_zero(&self) -> bool {
        self.seq_scan == 0
            && self.idx_scan == 0
            && self.n_tup_ins == 0
            && self.n_tup_upd == 0
            && self.n_tup_del == 0
    }
}

/// Table name → its counters.
type TableStats = BTreeMap<String, TableCounters>;

async fn table_counters(db_url: &str) -> TableStats {
    let text = sql(
        db_url,
        "SELECT string_agg(concat_ws(',', relname, seq_scan, seq_tup_read, \
         coalesce(idx_scan, 0), coalesce(idx_tup_fetch, 0), n_tup_ins, n_tup_upd, n_tup_del), ';') \
         FROM pg_stat_user_tables",
    )
    .await;
    text.unwrap_or_default()
        .split(';')
        .filter_map(|row| {
            let mut f = row.split(',');
            let name = f.next()?.to_owned();
            let v: Vec<i64> = f.map(|n| n.parse().unwrap_or(0)).collect();
            (v.len() == 7).then(|| {
                (
                    name,
                    TableCounters {
                        seq_scan: v[0],
                        seq_tup_read: v[1],
                        idx_scan: v[2],
                        idx_tup_fetch: v[3],
                        n_tup_ins: v[4],
                        n_tup_upd: v[5],
                        n_tup_del: v[6],
                    },
                )
            })
        })
        .collect()
}

fn table_delta(after: &TableStats, before: &TableStats) -> TableStats {
    after
        .iter()
        .map(|(name, a)| {
            let b = before.get(name).copied().unwrap_or_default();
            (name.clone(), a.minus(&b))
        })
        .filter(|(_, d)| !d.is_zero())
        .collect()
}

/// `BENCH_PG_STATEMENTS=1`: per phase, the statements alpha's PostgreSQL spent its time on
/// (`pg_stat_statements`), per accepted Like. Off by default: the module costs a little on
/// every statement, and loading it restarts alpha once.
fn statement_profile() -> bool {
    std::env::var("BENCH_PG_STATEMENTS").is_ok_and(|v| v == "1")
}

/// One text value from `query` on alpha's database.
async fn sql(db_url: &str, query: &str) -> Option<String> {
    use diesel_async::RunQueryDsl;
    let mut conn = AsyncPgConnection::establish(db_url)
        .await
        .expect("alpha's database");
    diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Text>,
    >(&format!("({query})")))
    .get_result(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// The module must be preloaded: set it for alpha's embedded cluster and restart alpha (its
/// cluster restarts with it).
async fn load_pg_stat_statements(alpha: &mut Instance) {
    use diesel_async::SimpleAsyncConnection;
    let mut conn = AsyncPgConnection::establish(&alpha.database_url())
        .await
        .expect("alpha's database");
    // One statement per call: several in one string run as one transaction block, which
    // ALTER SYSTEM refuses.
    conn.batch_execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        .await
        .expect("ALTER SYSTEM");
    drop(conn);
    alpha.stop();
    alpha.start();
    let mut conn = AsyncPgConnection::establish(&alpha.database_url())
        .await
        .expect("alpha's database");
    // Statements run by triggers and functions too (the delivery queue's), once the module is
    // loaded and its settings known.
    for statement in [
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
        "ALTER SYSTEM SET pg_stat_statements.track = 'all'",
        "SELECT pg_reload_conf()",
    ] {
        conn.batch_execute(statement).await.expect(statement);
    }
}

/// The phase's top statements by total execution time, per accepted Like.
async fn print_statement_profile(phase: &str, db_url: &str, accepted: usize) {
    let per = accepted.max(1) as f64;
    let rows = sql(
        db_url,
        "SELECT string_agg(concat_ws(chr(31), calls, round(total_exec_time::numeric, 3), rows, \
         shared_blks_hit + shared_blks_read, regexp_replace(left(query, 160), '\\s+', ' ', 'g')), \
         chr(30) ORDER BY total_exec_time DESC) FROM (SELECT * FROM pg_stat_statements \
         ORDER BY total_exec_time DESC LIMIT 25) top",
    )
    .await
    .unwrap_or_default();
    let total = sql(
        db_url,
        "SELECT concat_ws(',', sum(calls), round(sum(total_exec_time)::numeric, 1)) FROM pg_stat_statements",
    )
    .await
    .unwrap_or_default();
    println!("  statements of {phase} (pg_stat_statements; all: calls, ms = {total}); per accepted Like: calls, exec ms, rows, buffers");
    for row in rows.split('\u{1e}').filter(|r| !r.is_empty()) {
        let f: Vec<&str> = row.split('\u{1f}').collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        println!(
            "    {:6.2} {:7.3} {:7.1} {:8.1}  {}",
            num(0) / per,
            num(1) / per,
            num(2) / per,
            num(3) / per,
            f.get(4).unwrap_or(&"")
        );
    }
}

async fn pg_counters(db_url: &str) -> PgCounters {
    let text = sql(
        db_url,
        "SELECT concat_ws(',', xact_commit, xact_rollback, tup_returned, tup_fetched, \
         tup_inserted, tup_updated, tup_deleted) FROM pg_stat_database \
         WHERE datname = current_database()",
    )
    .await
    .expect("alpha's database in pg_stat_database");
    let v: Vec<i64> = text.split(',').map(|n| n.parse().unwrap()).collect();
    PgCounters {
        xact_commit: v[0],
        xact_rollback: v[1],
        tup_returned: v[2],
        tup_fetched: v[3],
        tup_inserted: v[4],
        tup_updated: v[5],
        tup_deleted: v[6],
    }
}

/// CPU time used so far, in seconds: alpha's server process, its PostgreSQL (the postmaster it
/// started and every backend), this benchmark (client, fake servers), and the whole machine
/// (busy, all cores).
#[derive(Clone, Copy, Debug, Default)]
struct CpuTimes {
    server: f64,
    postgres: f64,
    bench: f64,
    machine: f64,
}

impl CpuTimes {
    fn minus(&self, before: &CpuTimes) -> CpuTimes {
        CpuTimes {
            server: self.server - before.server,
            postgres: self.postgres - before.postgres,
            bench: self.bench - before.bench,
            machine: self.machine - before.machine,
        }
    }
}

/// Reads /proc. `data_dir` identifies alpha's server (`--data-dir` on its command line).
fn cpu_times(data_dir: &str) -> CpuTimes {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    // pid → (parent, user + system ticks)
    let mut processes = std::collections::HashMap::new();
    let mut server = None;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The command name may hold spaces: the fields that follow it start after its ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // state ppid … utime (14th field of the line, 12th here) stime
        let (Some(ppid), Some(utime), Some(stime)) = (
            fields.get(1).and_then(|v| v.parse::<u32>().ok()),
            fields.get(11).and_then(|v| v.parse::<u64>().ok()),
            fields.get(12).and_then(|v| v.parse::<u64>().ok()),
        ) else {
            continue;
        };
        processes.insert(pid, (ppid, utime + stime));
        if server.is_none() {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            if args
                .windows(2)
                .any(|w| w[0] == b"--data-dir" && w[1] == data_dir.as_bytes())
            {
                server = Some(pid);
            }
        }
    }
    let secs = |t: u64| t as f64 / ticks;
    let mut times = CpuTimes::default();
    if let Some(server) = server {
        times.server = secs(processes[&server].1);
        // Everything below the server is its PostgreSQL.
        let descends_from_server = |mut pid: u32| {
            for _ in 0..16 {
                match processes.get(&pid) {
                    Some((parent, _)) if *parent == server => return true,
                    Some((parent, _)) if *parent > 1 => pid = *parent,
                    _ => return false,
                }
            }
            false
        };
        times.postgres = processes
            .iter()
            .filter(|(pid, _)| descends_from_server(**pid))
            .map(|(_, (_, t))| secs(*t))
            .sum();
    }
    if let Some((_, t)) = processes.get(&std::process::id()) {
        times.bench = secs(*t);
    }
    // cpu  user nice system idle iowait irq softirq steal …
    if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
        if let Some(line) = stat.lines().next() {
            let v: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|n| n.parse().ok())
                .collect();
            if v.len() >= 5 {
                let busy: u64 = v.iter().take(8).sum::<u64>() - v[3] - v[4];
                times.machine = secs(busy);
            }
        }
    }
    times
}

// ---------------------------------------------------------------------------------------------
// (b), (c)
// ---------------------------------------------------------------------------------------------

/// Inserts 1,000 accepted followers, one per sink host, straight into alpha's database (a
/// thousand real instances following it is what this simulates).
async fn add_followers(alpha: &Instance, group_id: &str, sink_port: u16, fanout: usize) {
    use diesel_async::RunQueryDsl;
    let mut conn = AsyncPgConnection::establish(&alpha.database_url())
        .await
        .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO follow (target_ap_id, follower_ap_id, follower_inbox, follower_shared_inbox, state, follow_activity_id) \
         SELECT '{group_id}', h || '/u/member', h || '/inbox', NULL, 'accepted', h || '/follow' \
         FROM (SELECT 'http://127.0.' || (1 + i / 250) || '.' || (1 + i % 250) || ':{sink_port}' AS h \
               FROM generate_series(0, {}) AS i) t",
        fanout - 1
    ))
    .execute(&mut conn)
    .await
    .unwrap();
}

async fn remove_followers_but_one(alpha: &Instance, group_id: &str) {
    use diesel_async::RunQueryDsl;
    let mut conn = AsyncPgConnection::establish(&alpha.database_url())
        .await
        .unwrap();
    diesel::sql_query(format!(
        "DELETE FROM follow WHERE target_ap_id = '{group_id}' AND follower_ap_id NOT LIKE 'http://127.0.1.1:%'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
}
