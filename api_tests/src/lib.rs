//! A small federation lab: real `cenacle serve` processes named alpha, beta, gamma… on
//! loopback, each with its own embedded PostgreSQL, reaching each other by test host names
//! (`alpha.test` → 127.0.0.1) over plain http — the `allow_insecure_loopback_federation`
//! mode, off by default — and a fake peer for hand-made signed requests.

pub mod authoring;
pub mod browser;
pub mod database;
pub mod fake_server;
pub mod peer;
pub mod sink;
pub mod smtp;

use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    future::Future,
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

pub const PASSWORD: &str = "correct horse battery";

/// The `cenacle` binary: `CENACLE_BIN`, else beside this test's executable (cargo builds the
/// workspace's binaries before running integration tests).
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CENACLE_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let target_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let bin = target_dir.join("cenacle");
    assert!(
        bin.exists(),
        "{} not found: build it with `cargo build --bin cenacle` or set CENACLE_BIN",
        bin.display()
    );
    bin
}

/// A port that is free now, below Linux's ephemeral range (32768–60999): a port the kernel
/// hands out to outgoing connections could be taken by one of them before our server binds it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Test binaries may overlap with other runs: start each process at another place.
    let offset = std::process::id() % 12_000;
    loop {
        let candidate = (20_000 + (offset + NEXT.fetch_add(1, Ordering::Relaxed)) % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", candidate)).is_ok() {
            return candidate;
        }
    }
}

/// Names resolve to loopback for every instance and client of a test.
#[derive(Clone, Default)]
pub struct Hosts(BTreeMap<String, u16>);

impl Hosts {
    pub fn add(&mut self, name: &str) -> u16 {
        let port = free_port();
        self.0.insert(format!("{name}.test"), port);
        port
    }

    /// The `federation.hosts` setting, as TOML.
    fn toml(&self) -> String {
        let entries: Vec<String> = self
            .0
            .keys()
            .map(|h| format!("\"{h}\" = \"127.0.0.1\""))
            .collect();
        format!("{{ {} }}", entries.join(", "))
    }

    /// An HTTP client that resolves the test names to loopback.
    pub fn client(&self) -> reqwest::Client {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
        for name in self.0.keys() {
            builder = builder.resolve(name, "127.0.0.1:0".parse().unwrap());
        }
        builder.build().unwrap()
    }
}

/// What a process of an instance runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ProcessKind {
    /// `cenacle serve`: the HTTP server (and, by default, delivery workers).
    Serve,
    /// `cenacle deliver`: a delivery worker only.
    Deliver,
}

/// One running (or stopped) instance — or one more process of it (see [`Instance::replica`]
/// and [`Instance::deliverer`]).
pub struct Instance {
    pub name: String,
    pub host: String,
    pub base: String,
    /// Where this process listens (the public URL's port for the first server).
    port: u16,
    command: ProcessKind,
    data: tempfile::TempDir,
    hosts: Hosts,
    pub env: Vec<(String, String)>,
    child: Option<Child>,
    pub setup_token: Option<String>,
    /// Where this process serves `/metrics` (its own address, never the public port).
    metrics_url: Option<String>,
    pub http: reqwest::Client,
}

/// What a starting server prints that the harness waits for.
enum StartLine {
    SetupToken(String),
    Metrics(String),
    Listening,
}

impl Instance {
    /// Prepares `name` (its host must already be in `hosts`).
    pub fn new(name: &str, hosts: &Hosts) -> Instance {
        let host_name = format!("{name}.test");
        let port = hosts.0[&host_name];
        Instance {
            name: name.to_owned(),
            host: format!("{host_name}:{port}"),
            base: format!("http://{host_name}:{port}"),
            port,
            command: ProcessKind::Serve,
            data: tempfile::tempdir().unwrap(),
            hosts: hosts.clone(),
            env: vec![(
                "CENACLE_FEDERATION__RETRY_FIRST_DELAY_SECONDS".into(),
                "0.5".into(),
            )],
            child: None,
            setup_token: None,
            metrics_url: None,
            http: hosts.client(),
        }
    }

    /// Another `cenacle serve` of the same instance (same public URL and environment, so set
    /// `DATABASE_URL` to share a database), listening on a port of its own.
    pub fn replica(&self) -> Instance {
        self.sibling(ProcessKind::Serve)
    }

    /// A `cenacle deliver` process of the same instance (same environment).
    pub fn deliverer(&self) -> Instance {
        self.sibling(ProcessKind::Deliver)
    }

    fn sibling(&self, command: ProcessKind) -> Instance {
        Instance {
            name: self.name.clone(),
            host: self.host.clone(),
            base: self.base.clone(),
            port: free_port(),
            command,
            data: tempfile::tempdir().unwrap(),
            hosts: self.hosts.clone(),
            env: self.env.clone(),
            child: None,
            setup_token: None,
            metrics_url: None,
            http: self.hosts.client(),
        }
    }

    /// The URL of this process itself (a replica's own port), for API calls to it.
    pub fn own_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} already runs", self.name);
        let log_path = self.data.path().join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        let mut cmd = Command::new(binary());
        for (key, _) in std::env::vars() {
            if key.starts_with("CENACLE_") || key == "DATABASE_URL" {
                cmd.env_remove(key);
            }
        }
        cmd.arg("--data-dir").arg(self.data.path());
        match self.command {
            ProcessKind::Serve => cmd
                .args(["serve", "--bind", &format!("127.0.0.1:{}", self.port)])
                .args(["--public-url", &self.base]),
            ProcessKind::Deliver => cmd
                .arg("deliver")
                .env("CENACLE_SERVER__PUBLIC_URL", &self.base),
        };
        cmd.arg("--allow-insecure-loopback-federation")
            .env("CENACLE_FEDERATION__HOSTS", self.hosts.toml())
            .env("CENACLE_SERVER__INSTANCE_NAME", &self.name)
            .env("RUST_LOG", "info,cenacle_apub=debug")
            // Each process its own metrics port (the default one is taken by the first).
            .env("CENACLE_METRICS__BIND", "127.0.0.1:0")
            // After the defaults, so that an instance's own env (RUST_LOG included) wins.
            .envs(self.env.iter().cloned())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = cmd.spawn().expect("spawn cenacle");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(token) = line.strip_prefix("setup token: ") {
                    let _ = tx.send(StartLine::SetupToken(token.to_owned()));
                }
                if let Some(url) = line.strip_prefix("metrics on ") {
                    let _ = tx.send(StartLine::Metrics(url.to_owned()));
                }
                if line.starts_with("listening on ") || line == "delivering" {
                    let _ = tx.send(StartLine::Listening);
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(StartLine::Listening) => break,
                Ok(StartLine::SetupToken(token)) => self.setup_token = Some(token),
                Ok(StartLine::Metrics(url)) => self.metrics_url = Some(url),
                Err(_) => panic!(
                    "{} did not start; its log:\n{}",
                    self.name,
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                ),
            }
        }
        self.child = Some(child);
    }

    fn signal_and_wait(&mut self, signal: i32) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "{} did not exit", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A clean stop (SIGTERM).
    pub fn stop(&mut self) {
        self.signal_and_wait(libc::SIGTERM);
    }

    /// A crash (SIGKILL): nothing of ours runs.
    pub fn kill(&mut self) {
        self.signal_and_wait(libc::SIGKILL);
    }

    /// Resident memory of the server process (not its PostgreSQL), in MiB.
    pub fn rss_mib(&self) -> Option<f64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    }

    /// The URL of the instance's embedded database (its unix socket), for benchmarks that
    /// prepare data directly.
    pub fn database_url(&self) -> String {
        format!(
            "postgresql://cenacle@localhost/cenacle?host={}",
            self.data.path().join("postgres/socket").display()
        )
    }

    /// This process's data folder (`--data-dir`): its media folder is `media/` in it.
    pub fn data_dir(&self) -> &std::path::Path {
        self.data.path()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("server.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} {path}: {e}", self.name));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PATCH, path, token, Some(body))
            .await
    }

    /// Gives a local account a role (`staff`, `community_manager`…), as the admin.
    pub async fn set_role(&self, admin: &str, username: &str, role: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/admin/accounts/{username}/role"),
                Some(admin),
                Some(json!({ "role": role })),
            )
            .await;
        assert_eq!(status, 200, "{username} made {role}: {body}");
    }

    /// Creates the first admin with the printed setup token; returns a token.
    pub async fn admin(&self) -> String {
        let setup_token = self.setup_token.clone().expect("a setup token was printed");
        let (status, body) = self
            .post(
                "/api/v1/setup",
                None,
                json!({"setup_token": setup_token, "username": "admin", "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        self.login("admin").await
    }

    /// Registers a member; returns a token.
    pub async fn member(&self, username: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/account/register",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        self.login(username).await
    }

    pub async fn login(&self, username: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/account/login",
                None,
                json!({"username": username, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// The value of a Prometheus sample, e.g. `cenacle_delivery_queue_depth` (0 when the
    /// sample has not appeared yet, as a labelled counter before its first increment).
    pub async fn metric(&self, sample: &str) -> f64 {
        let url = self
            .metrics_url
            .as_deref()
            .unwrap_or_else(|| panic!("{} serves no metrics", self.name));
        let reply = self.http.get(url).send().await.unwrap();
        assert_eq!(reply.status(), 200, "GET {url}");
        let text = reply.text().await.unwrap();
        text.lines()
            .find_map(|line| {
                line.strip_prefix(sample)
                    .and_then(|rest| rest.trim().parse().ok())
            })
            .unwrap_or(0.0)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The ActivityPub document at `url`, fetched unsigned as another server's reader would.
pub async fn activity_json(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// Waits until `check` returns `Some`, polling, or panics after `timeout` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
