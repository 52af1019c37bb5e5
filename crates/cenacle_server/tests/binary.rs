//! The real `cenacle` binary: configuration errors, and the embedded PostgreSQL life cycle
//! (first start, clean stop, restart, recovery after `kill -9`).

use serde_json::{json, Value};
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_cenacle");
const PASSWORD: &str = "correct horse battery";

fn cenacle(data_dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(data_dir);
    // The tests decide every setting; nothing from the calling shell leaks in.
    for (key, _) in std::env::vars() {
        if key.starts_with("CENACLE_") || key == "DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn an_unknown_config_key_exits_non_zero_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[server]\nbind = \"127.0.0.1:8700\"\nlisten_backlog = 5\n",
    )
    .unwrap();
    let out = cenacle(dir.path())
        .arg("--config")
        .arg(&file)
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("server.listen_backlog"), "{stderr}");
    // The same file run as `serve` fails the same way, before touching the database.
    let out = cenacle(dir.path())
        .arg("--config")
        .arg(&file)
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!dir.path().join("postgres").exists());
}

#[test]
fn config_check_prints_the_effective_configuration_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let out = cenacle(dir.path())
        .args(["config", "check"])
        .env(
            "DATABASE_URL",
            "postgres://cenacle:s3cret@db.internal/cenacle",
        )
        .env("CENACLE_ACCOUNTS__REGISTRATION_MODE", "invite_only")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("registration_mode = \"invite_only\""),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cret"));
    assert!(stdout.contains("bind = \"127.0.0.1:8700\""));
}

/// A configuration from before time-zone names, with the removed
/// `email.default_utc_offset_minutes`, is still accepted: read as the zone keeping the offset,
/// with a warning in the log (set up after the configuration is read) naming both keys.
#[test]
fn the_removed_offset_key_is_read_with_a_warning_naming_both_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.toml");
    std::fs::write(&file, "[email]\ndefault_utc_offset_minutes = 60\n").unwrap();
    let out = cenacle(dir.path())
        .env_remove("RUST_LOG")
        .arg("--config")
        .arg(&file)
        .args(["config", "check"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("default_time_zone = \"Etc/GMT-1\""),
        "{stdout}"
    );
    assert!(!stdout.contains("default_utc_offset_minutes"), "{stdout}");
    assert!(
        stderr.contains("WARN")
            && stderr.contains("email.default_utc_offset_minutes")
            && stderr.contains("email.default_time_zone"),
        "{stderr}"
    );
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["admin", "create-user", "--help"],
        vec!["admin", "set-role", "--help"],
        vec!["admin", "audit", "--help"],
        vec!["config", "check", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
}

/// A running `cenacle serve`.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        // The server's log goes to a file beside its data, shown if it fails to start.
        let mut cmd = cenacle(data_dir);
        Server::spawn(&mut cmd, &data_dir.join("server.log"))
    }

    /// Starts `cmd serve --bind 127.0.0.1:0` and waits for its "listening on" line.
    fn spawn(cmd: &mut Command, log_path: &Path) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .unwrap();
        let mut child = cmd
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(90))
            .unwrap_or_else(|_| {
                panic!(
                    "the server did not start; its log:\n{}",
                    std::fs::read_to_string(log_path).unwrap_or_default()
                )
            });
        Server {
            child,
            base,
            log: log_path.to_owned(),
        }
    }

    fn signal(&self, signal: i32) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// Waits for the exit a stop signal asked for, and fails with the exit status and the
    /// server's log unless it was a clean one.
    fn wait_clean_exit(self) {
        let log = self.log.clone();
        let status = self.wait_exit();
        assert!(
            status.success(),
            "the server did not stop cleanly ({status}); its log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn wait_exit(mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn client() -> reqwest::blocking_free::Client {
    reqwest::blocking_free::Client::new()
}

/// `reqwest` is used async; a tiny runtime per call keeps the test synchronous.
mod reqwest {
    pub mod blocking_free {
        pub struct Client(::reqwest::Client, tokio::runtime::Runtime);
        impl Client {
            pub fn new() -> Self {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                Client(::reqwest::Client::new(), rt)
            }
            pub fn get(&self, url: &str) -> u16 {
                self.1
                    .block_on(async { self.0.get(url).send().await.unwrap().status().as_u16() })
            }
            pub fn post(&self, url: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
                self.1.block_on(async {
                    let r = self.0.post(url).json(body).send().await.unwrap();
                    let status = r.status().as_u16();
                    (status, r.json().await.unwrap_or(serde_json::Value::Null))
                })
            }
        }
    }
}

fn login(server: &Server, username: &str) -> (u16, Value) {
    client().post(
        &format!("{}/api/v1/account/login", server.base),
        &json!({"username": username, "password": PASSWORD}),
    )
}

/// Postmasters whose command line names this data folder.
fn postgres_processes_for(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    let c = String::from_utf8_lossy(&c);
                    c.contains("postgres") && c.contains(&needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Runs a command to completion; fails the test with its stderr if it fails.
fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_embedded_cluster_survives_stops_restarts_and_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    // The CLI creates the first admin before the server ever ran: it starts and stops the
    // cluster itself.
    run_ok(cenacle(data).args([
        "admin",
        "create-user",
        "--username",
        "root",
        "--role",
        "admin",
        "--password",
        PASSWORD,
    ]));
    assert!(
        postgres_processes_for(data).is_empty(),
        "the CLI stopped its cluster"
    );

    // First start: a member registers.
    let server = Server::start(data);
    assert!(!postgres_processes_for(data).is_empty());
    let (status, _) = client().post(
        &format!("{}/api/v1/account/register", server.base),
        &json!({"username": "marie", "password": PASSWORD}),
    );
    assert_eq!(status, 201);
    // The CLI works while the server runs, on the server's cluster.
    run_ok(cenacle(data).args([
        "admin",
        "set-role",
        "--username",
        "marie",
        "--role",
        "staff",
    ]));

    // SIGTERM: the server exits cleanly and no postgres remains.
    server.signal(libc::SIGTERM);
    server.wait_clean_exit();
    assert!(
        postgres_processes_for(data).is_empty(),
        "postgres outlived a clean stop"
    );

    // Second start reuses the cluster: marie logs in, with the role the CLI gave her.
    let server = Server::start(data);
    let (status, body) = login(&server, "marie");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account"]["role"], "staff");
    assert_eq!(login(&server, "root").0, 200);

    // kill -9 of the server: nothing runs our shutdown; the next start must recover.
    server.signal(libc::SIGKILL);
    server.wait_exit();
    let server = Server::start(data);
    assert_eq!(login(&server, "marie").0, 200);

    // kill -9 of the server and its postmaster together (the OOM killer, a power cut of the
    // container): a stale postmaster.pid stays behind, and the next start recovers from it.
    let pid_file = data.join("postgres/data/postmaster.pid");
    let postmaster: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    server.signal(libc::SIGKILL);
    unsafe { libc::kill(postmaster, libc::SIGKILL) };
    server.wait_exit();
    assert!(pid_file.exists(), "the crash left postmaster.pid behind");
    let server = Server::start(data);
    let (status, body) = login(&server, "marie");
    assert_eq!(status, 200, "{body}");
    server.signal(libc::SIGINT);
    server.wait_clean_exit();
    wait_until("postgres to stop", || {
        postgres_processes_for(data).is_empty()
    });
}

/// A command run from `dir` with a data folder relative to it, as `scripts/run` does with the
/// default `./data`.
fn cenacle_in(dir: &Path, relative_data_dir: &str) -> Command {
    let mut cmd = cenacle(Path::new(relative_data_dir));
    cmd.current_dir(dir);
    cmd
}

fn stop(server: Server) {
    server.signal(libc::SIGTERM);
    server.wait_clean_exit();
}

/// A stop asked for the moment the server says it listens (a supervisor's health check, a test,
/// an operator's Ctrl-C) is a clean stop. The SIGTERM handler used to be installed only when the
/// HTTP server's shutdown task first ran, after the "listening on" line: a SIGTERM in between
/// killed the process by the signal's default action, nothing of the shutdown ran (a CI run
/// failed on it, in the relative-data-dir test below).
#[test]
fn a_stop_asked_for_as_soon_as_the_server_listens_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..5 {
        let server = Server::start(dir.path());
        stop(server);
    }
}

/// The README's first command on a new machine: the data folder is relative (`./data` by
/// default), and PostgreSQL, which resolves its socket folder from inside its own data folder,
/// used to fail with `could not create lock file "data/postgres/socket/.s.PGSQL.5432.lock"`.
#[test]
fn the_binary_starts_from_a_fresh_folder_with_a_relative_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    // A folder anyone may enter, like a clone in a home folder: only the relative path is
    // tested here (the next test covers a folder the `postgres` account cannot enter).
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let server = Server::spawn(
        &mut cenacle_in(dir.path(), "data"),
        &dir.path().join("server.log"),
    );
    assert_eq!(client().get(&format!("{}/readyz", server.base)), 200);
    assert!(dir.path().join("data/postgres/data/PG_VERSION").exists());
    stop(server);
}

/// A clone under root's home or in a `mktemp -d` folder (both 0700), run as root (as CI is):
/// PostgreSQL runs as the `postgres` account, which cannot enter the folder. The cluster is
/// placed where that account can reach it, the log says where, and the operator's folder keeps
/// its mode.
#[test]
fn as_root_a_data_dir_the_postgres_account_cannot_enter_still_starts() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only root runs PostgreSQL as another account (this test runs as a regular user)");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let checkout = dir.path().join("checkout");
    std::fs::create_dir(&checkout).unwrap();
    let log_path = dir.path().join("server.log");
    let server = Server::spawn(&mut cenacle_in(&checkout, "data"), &log_path);
    let cluster = std::fs::read_link(checkout.join("data/postgres"))
        .expect("data/postgres links to where the cluster was placed");
    // Removed whatever happens next: it lives outside the temporary folder.
    struct Remove(std::path::PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Remove(cluster.clone());
    assert!(!cluster.starts_with(dir.path()), "{}", cluster.display());
    assert_eq!(client().get(&format!("{}/readyz", server.base)), 200);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains(&cluster.display().to_string())
            && log.contains(&dir.path().display().to_string()),
        "the log names the blocking folder and where the cluster went:\n{log}"
    );
    assert_eq!(
        std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777,
        0o700,
        "the operator's folder keeps its mode"
    );
    stop(server);
    // The next start finds the same cluster through the link.
    let server = Server::spawn(&mut cenacle_in(&checkout, "data"), &log_path);
    assert_eq!(client().get(&format!("{}/readyz", server.base)), 200);
    stop(server);
}

/// A relative data folder when the working directory is gone cannot be made absolute: the
/// program stops naming the key, before touching anything.
#[test]
fn a_data_dir_that_cannot_be_made_absolute_stops_naming_the_key() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("gone");
    std::fs::create_dir(&cwd).unwrap();
    let path = std::ffi::CString::new(cwd.to_str().unwrap()).unwrap();
    let mut cmd = cenacle_in(&cwd, "data");
    // SAFETY: rmdir is async-signal-safe; it runs in the child after its chdir, so the
    // program starts in a working directory that no longer exists.
    unsafe {
        cmd.pre_exec(move || {
            libc::rmdir(path.as_ptr());
            Ok(())
        });
    }
    let out = cmd.args(["config", "check"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("server.data_dir"), "{stderr}");
}

/// Only PostgreSQL knows which time-zone names exist, and the configuration is read before it
/// is reached: a well-shaped default it does not know passes `config check` but stops `serve`,
/// naming the key and the name, with the embedded cluster stopped behind it.
#[test]
fn an_unknown_default_time_zone_stops_the_server_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    // A folder the `postgres` account may enter when run as root (see the relative data dir
    // test): the cluster stays inside it.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let zone = ("CENACLE_EMAIL__DEFAULT_TIME_ZONE", "Europe/Atlantis");
    run_ok(
        cenacle(dir.path())
            .env(zone.0, zone.1)
            .args(["config", "check"]),
    );
    let mut child = cenacle(dir.path())
        .env(zone.0, zone.1)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started with an unknown default time zone");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("email.default_time_zone") && stderr.contains("Europe/Atlantis"),
        "{stderr}"
    );
    wait_until("the embedded PostgreSQL to stop", || {
        postgres_processes_for(dir.path()).is_empty()
    });
}
