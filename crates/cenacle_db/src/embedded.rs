//! The embedded PostgreSQL cluster: with no database URL configured the server keeps its own
//! cluster in `<data_dir>/postgres`, listening only on a unix socket inside that folder.
//!
//! Layout of `<data_dir>/postgres/`:
//! - `data/`     the cluster (`initdb` output)
//! - `socket/`   the unix socket (no TCP port is opened)
//! - `postgres.log`
//! - `cenacle.lock`  held (flock) by the process that owns the running cluster
//!
//! Why the details below:
//! - `initdb` and `postgres` refuse to run as root, and CI runs as root: when we are root they
//!   run as the `postgres` account (Debian's package creates it), which then owns the folder.
//!   That account must be able to walk down to it. The data folder itself is ours and gets
//!   `o+x` (passage, not reading); but when a folder above it shuts the account out (a clone
//!   under `/root`, or in a `mktemp -d` folder, both 0700), we do not loosen the operator's
//!   folders: the cluster is placed in [`REACHABLE_BASE`] instead, `<data_dir>/postgres` becomes
//!   a link to it (so later starts and `cenacle admin` find it), and a log line says where.
//!   This is checked before `initdb` runs, by entering the folder as that account.
//! - The postmaster is started from a thread that lives exactly as long as it (it waits on the
//!   child), with `PR_SET_PDEATHSIG = SIGINT`: if our process dies, even by `kill -9`, the
//!   kernel asks the postmaster for a fast shutdown, so no orphan keeps the folder busy.
//! - It runs in its own process group so that a Ctrl-C in a terminal reaches only us; we stop
//!   it after the HTTP server has drained.
//! - Authentication is `trust` on the unix socket only; the socket folder is 0700, so only the
//!   cluster's owner (and root) can reach it.

use std::{
    ffi::CString,
    fs,
    io::{self, Read},
    os::unix::{
        fs::{chown, PermissionsExt},
        io::AsRawFd,
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

/// Where a cluster goes when, running as root, the `postgres` account cannot reach the data
/// folder: our own folder, which everyone may pass through; each cluster in it is 0700 and
/// owned by `postgres`, as in the data folder.
pub const REACHABLE_BASE: &str = "/var/lib/cenacle/embedded";

/// The superuser created by `initdb`; also the owner of our database.
pub const SUPERUSER: &str = "cenacle";
/// The database the server uses inside the embedded cluster.
pub const DATABASE: &str = "cenacle";
const START_DEADLINE: Duration = Duration::from_secs(60);
const STOP_DEADLINE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("PostgreSQL binaries not found ({0}); install them (Debian: apt-get install postgresql) or set database.postgres_bin_dir")]
    BinariesNotFound(String),
    #[error("running as root, the embedded PostgreSQL must run as the `postgres` account, which does not exist (apt-get install postgresql creates it)")]
    NoPostgresAccount,
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
    #[error("{command} failed ({status}); see {log}")]
    CommandFailed {
        command: String,
        status: String,
        log: String,
    },
    #[error("PostgreSQL did not become ready within {0:?}; see {1}")]
    NotReady(Duration, String),
    #[error("the database folder {0} is in use by another running Cénacle process")]
    InUse(PathBuf),
    #[error("running as root, the embedded PostgreSQL runs as the `postgres` account, which cannot enter {blocked} (on the way to {cluster}); {why}. Do one of: set --data-dir (server.data_dir) to a folder that account can reach (e.g. /var/lib/cenacle); let it pass with `chmod o+x {blocked}`; run Cénacle as a regular user; or set DATABASE_URL to an external PostgreSQL")]
    Unreachable {
        blocked: PathBuf,
        cluster: PathBuf,
        why: String,
    },
}

fn io_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let action = action.into();
    move |source| EmbeddedError::Io { action, source }
}

#[derive(Debug, Clone, Default)]
pub struct EmbeddedOptions {
    /// Folder holding `initdb` and `postgres`; `None` searches PATH then Debian's folders.
    pub bin_dir: Option<PathBuf>,
    /// Turn off fsync and friends: for throw-away test clusters only.
    pub unsafe_fast: bool,
}

/// How we reached the cluster.
#[derive(Debug)]
pub enum ClusterAccess {
    /// This process started the postmaster and must stop it.
    Owned(EmbeddedPostgres),
    /// Another Cénacle process owns the running cluster (e.g. `cenacle admin …` while the
    /// server runs); we only connect to its socket.
    Shared { socket_dir: PathBuf },
}

impl ClusterAccess {
    pub fn socket_dir(&self) -> &Path {
        match self {
            ClusterAccess::Owned(pg) => &pg.socket_dir,
            ClusterAccess::Shared { socket_dir } => socket_dir,
        }
    }

    /// A `postgres://` URL for `database` over the unix socket.
    pub fn database_url(&self, database: &str) -> String {
        socket_url(self.socket_dir(), database)
    }

    /// Stops the cluster if this process owns it.
    pub fn stop(self) -> Result<(), EmbeddedError> {
        match self {
            ClusterAccess::Owned(pg) => pg.stop(),
            ClusterAccess::Shared { .. } => Ok(()),
        }
    }
}

pub fn socket_url(socket_dir: &Path, database: &str) -> String {
    // tokio-postgres reads a host that starts with '/' as a unix socket folder.
    format!(
        "postgresql://{SUPERUSER}@localhost/{database}?host={}",
        socket_dir.display()
    )
}

/// A postmaster this process started.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    root: PathBuf,
    socket_dir: PathBuf,
    pid: i32,
    exit: Arc<Mutex<Option<ExitStatus>>>,
    guardian: Option<thread::JoinHandle<()>>,
    /// Held for as long as we own the cluster; closing it releases the flock.
    _lock: fs::File,
}

/// Opens the cluster under `root` (`<data_dir>/postgres`): creates it on first use, recovers
/// from a crash of a previous owner, starts it, or joins it if another live process owns it.
/// With `allow_shared = false` (the server) a live owner is an error.
pub fn open(
    root: &Path,
    opts: &EmbeddedOptions,
    allow_shared: bool,
) -> Result<ClusterAccess, EmbeddedError> {
    let bins = find_binaries(opts.bin_dir.as_deref())?;
    let owner = cluster_owner()?;
    let root = match owner {
        Some(owner) => reachable_root(root, &bins, owner)?,
        None => root.to_owned(),
    };
    let root = root.as_path();
    prepare_root(root, owner)?;
    let socket_dir = root.join("socket");

    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join("cenacle.lock"))
        .map_err(io_err("open cluster lock"))?;
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if !locked {
        if allow_shared && postmaster_ready(&root.join("data")) {
            return Ok(ClusterAccess::Shared { socket_dir });
        }
        return Err(EmbeddedError::InUse(root.to_owned()));
    }

    let data = root.join("data");
    if !data.join("PG_VERSION").exists() {
        init_cluster(&bins, root, &data, owner, opts)?;
    } else {
        recover_after_crash(&data, &socket_dir)?;
    }
    let pg = start_postmaster(&bins, root, &data, &socket_dir, owner, opts, lock)?;
    Ok(ClusterAccess::Owned(pg))
}

impl EmbeddedPostgres {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Fast shutdown (SIGINT: active transactions roll back, then a clean checkpoint), waiting
    /// for the postmaster to exit; an immediate shutdown if it has not after the deadline.
    pub fn stop(mut self) -> Result<(), EmbeddedError> {
        tracing::info!(pid = self.pid, "stopping embedded PostgreSQL");
        // SAFETY: signalling the child we started and have not reaped yet (the guardian holds it).
        unsafe { libc::kill(self.pid, libc::SIGINT) };
        let deadline = Instant::now() + STOP_DEADLINE;
        while self.exit.lock().unwrap().is_none() {
            if Instant::now() > deadline {
                tracing::warn!("PostgreSQL did not stop in time; sending SIGQUIT");
                unsafe { libc::kill(self.pid, libc::SIGQUIT) };
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        if let Some(guardian) = self.guardian.take() {
            let _ = guardian.join();
        }
        Ok(())
    }
}

struct Binaries {
    initdb: PathBuf,
    postgres: PathBuf,
}

fn find_binaries(hint: Option<&Path>) -> Result<Binaries, EmbeddedError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = hint {
        candidates.push(dir.to_owned());
    } else {
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path));
        }
        // Debian keeps server binaries out of PATH, one folder per major version.
        let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse::<u32>().ok()?;
                Some((version, e.path().join("bin")))
            })
            .collect();
        versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        candidates.extend(versioned.into_iter().map(|(_, p)| p));
    }
    let dir = candidates
        .iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        .ok_or_else(|| {
            EmbeddedError::BinariesNotFound(format!(
                "looked for initdb and postgres in {}",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    Ok(Binaries {
        initdb: dir.join("initdb"),
        postgres: dir.join("postgres"),
    })
}

/// The uid/gid PostgreSQL must run as: ours, or `postgres` when we are root.
fn cluster_owner() -> Result<Option<(u32, u32)>, EmbeddedError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = CString::new("postgres").unwrap();
    // SAFETY: getpwnam returns a pointer into static storage or null; we copy out at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(EmbeddedError::NoPostgresAccount);
    }
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid)))
}

fn prepare_root(root: &Path, owner: Option<(u32, u32)>) -> Result<(), EmbeddedError> {
    fs::create_dir_all(root.join("socket"))
        .map_err(io_err(format!("create {}", root.display())))?;
    fs::set_permissions(root, fs::Permissions::from_mode(0o700))
        .map_err(io_err("chmod cluster folder"))?;
    fs::set_permissions(root.join("socket"), fs::Permissions::from_mode(0o700))
        .map_err(io_err("chmod socket folder"))?;
    if let Some((uid, gid)) = owner {
        for path in [root.to_owned(), root.join("socket")] {
            chown(&path, Some(uid), Some(gid))
                .map_err(io_err(format!("chown {}", path.display())))?;
        }
    }
    Ok(())
}

/// Running as root: the cluster folder the `postgres` account can reach — `root` itself when it
/// can walk down to it, else a folder under [`REACHABLE_BASE`] that `root` links to (see the
/// module's notes).
fn reachable_root(
    root: &Path,
    bins: &Binaries,
    owner: (u32, u32),
) -> Result<PathBuf, EmbeddedError> {
    if fs::symlink_metadata(root).is_ok_and(|m| m.file_type().is_symlink()) {
        // Placed elsewhere by an earlier start.
        return fs::canonicalize(root).map_err(io_err(format!("follow {}", root.display())));
    }
    let data_dir = root.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(data_dir).map_err(io_err(format!("create {}", data_dir.display())))?;
    allow_passage(data_dir)?;
    if can_enter(bins, owner, data_dir)? {
        return Ok(root.to_owned());
    }
    let blocked = first_closed_ancestor(bins, owner, data_dir)?;
    let unreachable = |why: String| EmbeddedError::Unreachable {
        blocked: blocked.clone(),
        cluster: root.to_owned(),
        why,
    };
    if root.join("data/PG_VERSION").exists() {
        return Err(unreachable(
            "a cluster already lives there, and a cluster is never moved automatically".into(),
        ));
    }
    let base = Path::new(REACHABLE_BASE);
    let elsewhere = base.join(folder_name(root));
    let placed = (|| -> io::Result<bool> {
        fs::create_dir_all(base)?;
        for dir in base.ancestors().take(2) {
            allow_passage(dir).map_err(|e| io::Error::other(e.to_string()))?;
        }
        if !can_enter(bins, owner, base).map_err(|e| io::Error::other(e.to_string()))? {
            return Ok(false);
        }
        // What a failed start left (a folder without a cluster) gives way to the link.
        if root.exists() {
            fs::remove_dir_all(root)?;
        }
        std::os::unix::fs::symlink(&elsewhere, root)?;
        Ok(true)
    })();
    match placed {
        Ok(true) => {}
        Ok(false) => {
            return Err(unreachable(format!(
                "{} is not reachable by it either",
                base.display()
            )))
        }
        Err(err) => {
            return Err(unreachable(format!(
                "{} could not be used instead ({err})",
                base.display()
            )))
        }
    }
    tracing::warn!(
        "the `postgres` account cannot enter {}, so the embedded cluster lives in {} (linked from {}); to keep it inside the data folder, choose a data folder that account can reach",
        blocked.display(),
        elsewhere.display(),
        root.display()
    );
    Ok(elsewhere)
}

/// Lets others pass through `dir` (`o+x`), without letting them list or read it.
fn allow_passage(dir: &Path) -> Result<(), EmbeddedError> {
    let mode = fs::metadata(dir)
        .map_err(io_err(format!("stat {}", dir.display())))?
        .permissions()
        .mode();
    if mode & 0o001 == 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o001)).map_err(io_err(
            format!("let the postgres account pass {}", dir.display()),
        ))?;
    }
    Ok(())
}

/// Whether the cluster's account can enter `dir`: asked of the kernel by running `postgres
/// --version` there as that account (mode bits, ACLs and mount options all count).
fn can_enter(bins: &Binaries, owner: (u32, u32), dir: &Path) -> Result<bool, EmbeddedError> {
    let mut cmd = Command::new(&bins.postgres);
    cmd.arg("--version")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    as_owner(&mut cmd, Some(owner));
    match cmd.status() {
        Ok(status) => Ok(status.success()),
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => Ok(false),
        Err(err) => Err(io_err(format!(
            "run postgres --version in {}",
            dir.display()
        ))(err)),
    }
}

/// The outermost folder on the way to `dir` that the cluster's account cannot enter.
fn first_closed_ancestor(
    bins: &Binaries,
    owner: (u32, u32),
    dir: &Path,
) -> Result<PathBuf, EmbeddedError> {
    let mut ancestors: Vec<&Path> = dir.ancestors().collect();
    ancestors.reverse();
    for ancestor in ancestors {
        if !can_enter(bins, owner, ancestor)? {
            return Ok(ancestor.to_owned());
        }
    }
    Ok(dir.to_owned())
}

/// A stable folder name for the cluster of `root` (FNV-1a of its absolute path), so that a
/// lost link finds the same cluster again.
fn folder_name(root: &Path) -> String {
    let hash = root
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{hash:016x}")
}

fn as_owner(cmd: &mut Command, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
        // Drop root's supplementary groups too.
        // SAFETY: setgroups is async-signal-safe and runs in the child before exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0 {
                    // Already unprivileged (uid set first by std on some versions): ignore.
                }
                Ok(())
            });
        }
    }
}

fn init_cluster(
    bins: &Binaries,
    root: &Path,
    data: &Path,
    owner: Option<(u32, u32)>,
    opts: &EmbeddedOptions,
) -> Result<(), EmbeddedError> {
    // A data folder without PG_VERSION is a half-finished initdb: start over.
    if data.exists() {
        fs::remove_dir_all(data).map_err(io_err("remove incomplete cluster"))?;
    }
    tracing::info!(path = %data.display(), "creating embedded PostgreSQL cluster");
    let log_path = root.join("postgres.log");
    let log = open_log(&log_path, owner)?;
    let mut cmd = Command::new(&bins.initdb);
    cmd.arg("-D")
        .arg(data)
        .args([
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(io_err("log"))?)
        .stderr(log);
    if opts.unsafe_fast {
        cmd.arg("--no-sync");
    }
    as_owner(&mut cmd, owner);
    let status = cmd.status().map_err(io_err("run initdb"))?;
    if !status.success() {
        return Err(EmbeddedError::CommandFailed {
            command: "initdb".into(),
            status: status.to_string(),
            log: log_path.display().to_string(),
        });
    }
    Ok(())
}

fn open_log(path: &Path, owner: Option<(u32, u32)>) -> Result<fs::File, EmbeddedError> {
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_err("open postgres.log"))?;
    if let Some((uid, gid)) = owner {
        chown(path, Some(uid), Some(gid)).map_err(io_err("chown postgres.log"))?;
    }
    Ok(file)
}

/// A previous owner died without stopping the cluster. Its postmaster either already exited
/// (leaving a stale `postmaster.pid`) or is still shutting down after its death signal; wait
/// for it, then clear the stale file so that the new postmaster starts cleanly. (We hold the
/// cluster lock, so no live Cénacle process is using this postmaster.)
fn recover_after_crash(data: &Path, socket_dir: &Path) -> Result<(), EmbeddedError> {
    let pid_file = data.join("postmaster.pid");
    let Some(pid) = read_postmaster_pid(&pid_file) else {
        return Ok(());
    };
    if is_postgres_process(pid) {
        tracing::warn!(
            pid,
            "a postmaster from a previous run is still alive; asking it to stop"
        );
        // SAFETY: sending a signal to a pid we verified runs postgres.
        unsafe { libc::kill(pid, libc::SIGINT) };
        let deadline = Instant::now() + STOP_DEADLINE;
        while is_postgres_process(pid) {
            if Instant::now() > deadline {
                unsafe { libc::kill(pid, libc::SIGQUIT) };
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
    if pid_file.exists() && !is_postgres_process(pid) {
        tracing::warn!(pid, "removing stale postmaster.pid left by a crash");
        fs::remove_file(&pid_file).map_err(io_err("remove stale postmaster.pid"))?;
        // The socket's lock file names the dead pid too. PostgreSQL would clear it itself if
        // that pid were gone, but a killed postmaster can linger as a zombie (its parent died
        // with it), which still "exists" to kill(pid, 0).
        for entry in fs::read_dir(socket_dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(".s.PGSQL.") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

fn read_postmaster_pid(pid_file: &Path) -> Option<i32> {
    let text = fs::read_to_string(pid_file).ok()?;
    text.lines().next()?.trim().parse().ok()
}

fn is_postgres_process(pid: i32) -> bool {
    let mut cmdline = String::new();
    let alive = fs::File::open(format!("/proc/{pid}/cmdline"))
        .and_then(|mut f| f.read_to_string(&mut cmdline))
        .is_ok();
    // A zombie has an empty cmdline and no longer holds anything.
    alive && cmdline.contains("postgres")
}

/// Line 8 of `postmaster.pid` is the postmaster's status: "ready" once it accepts connections.
fn postmaster_ready(data: &Path) -> bool {
    let Ok(text) = fs::read_to_string(data.join("postmaster.pid")) else {
        return false;
    };
    let Some(pid) = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
    else {
        return false;
    };
    text.lines()
        .nth(7)
        .map(|l| l.trim() == "ready")
        .unwrap_or(false)
        && is_postgres_process(pid)
}

fn start_postmaster(
    bins: &Binaries,
    root: &Path,
    data: &Path,
    socket_dir: &Path,
    owner: Option<(u32, u32)>,
    opts: &EmbeddedOptions,
    lock: fs::File,
) -> Result<EmbeddedPostgres, EmbeddedError> {
    let log_path = root.join("postgres.log");
    let log = open_log(&log_path, owner)?;
    let mut cmd = Command::new(&bins.postgres);
    cmd.arg("-D")
        .arg(data)
        .arg("-k")
        .arg(socket_dir)
        .args([
            "-c",
            "listen_addresses=",
            "-c",
            "unix_socket_permissions=0700",
        ])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(io_err("log"))?)
        .stderr(log)
        .process_group(0);
    if opts.unsafe_fast {
        cmd.args([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]);
        cmd.args(["-c", "max_connections=300"]);
    }
    as_owner(&mut cmd, owner);
    // SAFETY: prctl is async-signal-safe; it runs in the child after the uid change, so the
    // death signal survives exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }

    let exit = Arc::new(Mutex::new(None));
    let (pid_tx, pid_rx) = std::sync::mpsc::channel();
    let guardian_exit = exit.clone();
    // The death signal fires when the *thread* that forked the child ends, so the child is
    // forked from a thread that lives exactly as long as the child.
    let guardian = thread::Builder::new()
        .name("postgres-guardian".into())
        .spawn(move || match cmd.spawn() {
            Ok(mut child) => {
                let _ = pid_tx.send(Ok(child.id() as i32));
                let status = child.wait().ok();
                *guardian_exit.lock().unwrap() = status;
            }
            Err(err) => {
                let _ = pid_tx.send(Err(err));
            }
        })
        .map_err(io_err("spawn guardian thread"))?;
    let pid = pid_rx
        .recv()
        .expect("guardian reports")
        .map_err(io_err("start postgres"))?;

    let pg = EmbeddedPostgres {
        root: root.to_owned(),
        socket_dir: socket_dir.to_owned(),
        pid,
        exit,
        guardian: Some(guardian),
        _lock: lock,
    };
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Some(status) = *pg.exit.lock().unwrap() {
            return Err(EmbeddedError::CommandFailed {
                command: "postgres".into(),
                status: status.to_string(),
                log: log_path.display().to_string(),
            });
        }
        if postmaster_ready(data) {
            break;
        }
        if Instant::now() > deadline {
            let _ = pg.stop();
            return Err(EmbeddedError::NotReady(
                START_DEADLINE,
                log_path.display().to_string(),
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
    tracing::info!(pid, socket = %socket_dir.display(), "embedded PostgreSQL ready");
    Ok(pg)
}

/// Creates `database` owned by the superuser if it does not exist yet.
pub async fn ensure_database(access: &ClusterAccess, database: &str) -> Result<(), crate::DbError> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut conn = AsyncPgConnection::establish(&access.database_url("postgres"))
        .await
        .map_err(|e| crate::DbError::Pool(e.to_string()))?;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<diesel::sql_types::Text, _>(database)
            .get_result(&mut conn)
            .await?;
    if !found.exists {
        // Identifiers cannot be bound; `database` is one of our constants or a generated name.
        diesel::sql_query(format!("CREATE DATABASE \"{database}\""))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}
