//! A real SMTP server for the tests: `scripts/smtp-sink` (Python's aiosmtpd) on a loopback
//! port, writing each message it accepts to a folder as JSON. Stopped and started again on the
//! same port, it plays a mail server that is down for a while. Made with
//! [`SmtpSink::with_login`], it plays a provider that requires a login (STARTTLS, then AUTH).

use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

pub struct SmtpSink {
    pub port: u16,
    folder: tempfile::TempDir,
    child: Option<Child>,
    /// `user:password` the sink requires, if any.
    login: Option<String>,
}

/// A Python that has aiosmtpd (`scripts/lib.sh`'s `ensure_smtp_sink` installs it). The tests
/// never skip: without it they fail, saying how to install it.
fn python() -> &'static str {
    ["python3", "/usr/bin/python3"]
        .into_iter()
        .find(|python| {
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect(
            "no Python with aiosmtpd: run `source scripts/lib.sh && ensure_smtp_sink` \
             (installs Debian's python3-aiosmtpd)",
        )
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp-sink")
}

impl SmtpSink {
    /// A sink on a free port, not started yet.
    pub fn new() -> SmtpSink {
        SmtpSink {
            port: crate::free_port(),
            folder: tempfile::tempdir().unwrap(),
            child: None,
            login: None,
        }
    }

    /// A sink on a free port, not started yet, that takes mail only after a login as `user`
    /// with `password` (others are refused with 535) over STARTTLS: an instance trusts its
    /// self-signed certificate through `SSL_CERT_FILE` = [`SmtpSink::certificate`].
    pub fn with_login(user: &str, password: &str) -> SmtpSink {
        let mut sink = SmtpSink::new();
        sink.login = Some(format!("{user}:{password}"));
        sink
    }

    /// The certificate a sink [`with_login`](SmtpSink::with_login) presents, once it was
    /// started (kept across restarts).
    pub fn certificate(&self) -> PathBuf {
        self.folder.path().join(".tls-cert.pem")
    }

    /// A sink on a free port, listening.
    pub fn started() -> SmtpSink {
        let mut sink = SmtpSink::new();
        sink.start();
        sink
    }

    /// Listens (again) on its port; returns once it accepts connections.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "the SMTP sink already runs");
        let mut child = Command::new(python())
            .arg(script())
            .arg(self.port.to_string())
            .arg(self.folder.path())
            .args(self.login.iter())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line == "ready" {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = child.kill();
            panic!("the SMTP sink did not start on port {}", self.port);
        }
        self.child = Some(child);
    }

    /// Stops listening (mails sent meanwhile fail to connect).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// How many sessions it has left hanging after a message's data (a Subject starting
    /// with "Stall", see `scripts/smtp-sink`).
    pub fn stalls(&self) -> usize {
        std::fs::read_dir(self.folder.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".stalled-"))
            .count()
    }

    /// Makes it refuse every message after its data with `reply` (one line, code first: the
    /// sink appends a queue id of its own), or (`None`) take them again; at once, while it
    /// runs.
    pub fn refuse_data(&self, reply: Option<&str>) {
        let path = self.folder.path().join(".refuse-data");
        match reply {
            Some(reply) => {
                // Whole or not at all: the sink reads it at each message.
                let partial = self.folder.path().join(".refuse-data.new");
                std::fs::write(&partial, reply).unwrap();
                std::fs::rename(&partial, &path).unwrap();
            }
            None => std::fs::remove_file(&path).unwrap(),
        }
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p.file_name().unwrap().to_string_lossy().starts_with('.')
            })
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// The messages sent to `address`.
    pub fn to(&self, address: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| {
                m["rcpt_tos"]
                    .as_array()
                    .is_some_and(|to| to.iter().any(|a| a == address))
            })
            .collect()
    }

    /// The messages sent to `address` but the welcome mail (see [`SmtpSink::wait_for`]).
    pub fn to_except_welcome(&self, address: &str) -> Vec<Value> {
        self.to(address)
            .into_iter()
            .filter(|m| !is_welcome(m))
            .collect()
    }

    /// Waits until `count` messages went to `address` (then returns them), or panics. The
    /// welcome mail is left out: it is queued when a newcomer's address is verified, so where
    /// it falls among an account's mails depends on when the test verifies (tests of the
    /// welcome look for it with [`SmtpSink::to`]).
    pub async fn wait_for(&self, address: &str, count: usize, deadline: Duration) -> Vec<Value> {
        crate::eventually(
            &format!("{count} mail(s) to {address}"),
            deadline,
            || async {
                let got = self.to_except_welcome(address);
                (got.len() >= count).then_some(got)
            },
        )
        .await
    }
}

impl Default for SmtpSink {
    fn default() -> Self {
        SmtpSink::new()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether `message` is the instance's welcome mail (its subject, in either language).
pub fn is_welcome(message: &Value) -> bool {
    let subject = message["headers"]["subject"].as_str().unwrap_or_default();
    subject.starts_with("Welcome to ") || subject.starts_with("Bienvenue sur ")
}

/// The first link in a mail's text starting with `prefix`, whole.
pub fn link(message: &Value, prefix: &str) -> String {
    let text = message["text"].as_str().unwrap_or_default();
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no link {prefix} in:\n{text}"));
    text[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_owned()
}

/// The value of `?token=` in a link.
pub fn token(link: &str) -> String {
    url::Url::parse(link)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no token in {link}"))
}
