//! What every use case needs besides its connection, and how callers open one.

use crate::{Conn, CoreError, DbConn, DbPool, ScopedBoxFuture};
use cenacle_config::Settings;
use diesel_async::AsyncConnection;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The instance's settings and the caches this process keeps. The pool is here for the
/// callers (API, inbox, workers, command line) that open connections and transactions; use
/// cases never touch it.
#[derive(Clone)]
pub struct Context {
    pool: DbPool,
    pub settings: Arc<Settings>,
    /// Whom this process already paid today's visit point (see `rewards::record_visit`).
    pub(crate) visits: Arc<Mutex<HashMap<i64, chrono::NaiveDate>>>,
    /// What this process knows of other instances (see `federation::known_block`).
    pub(crate) hosts: Arc<HostCache>,
    /// The time-zone names PostgreSQL knows, read once (see `digests::known_time_zones`).
    pub(crate) time_zones: Arc<tokio::sync::OnceCell<Arc<Vec<String>>>>,
}

impl Context {
    pub fn new(pool: DbPool, settings: Settings) -> Self {
        Self {
            pool,
            settings: Arc::new(settings),
            visits: Default::default(),
            hosts: Default::default(),
            time_zones: Default::default(),
        }
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// One connection, outside any transaction: for reads.
    pub async fn conn(&self) -> Result<DbConn, CoreError> {
        Ok(self.pool.get().await?)
    }

    /// Runs `action` in one transaction on one connection: committed when it returns `Ok`,
    /// rolled back when it returns an error. Write it as
    /// `ctx.transaction(|conn| async move { … }.scope_boxed())`.
    pub async fn transaction<'a, R, F>(&self, action: F) -> Result<R, CoreError>
    where
        F: for<'r> FnOnce(&'r mut Conn) -> ScopedBoxFuture<'a, 'r, Result<R, CoreError>>
            + Send
            + 'a,
        R: Send + 'a,
    {
        let mut conn = self.conn().await?;
        conn.transaction::<R, CoreError, _>(async move |conn| action(conn).await)
            .await
    }
}

/// Runs `action` in a savepoint of the caller's transaction: when it fails, what it did is
/// undone, and only that; the caller decides whether to carry on (a batch whose one item
/// fails, say, must not lose the others). Written as [`Context::transaction`]'s action.
pub async fn in_savepoint<'a, R, F>(conn: &mut Conn, action: F) -> Result<R, CoreError>
where
    F: for<'r> FnOnce(&'r mut Conn) -> ScopedBoxFuture<'a, 'r, Result<R, CoreError>> + Send + 'a,
    R: Send + 'a,
{
    conn.transaction::<R, CoreError, _>(async move |conn| action(conn).await)
        .await
}

/// How long what this process read of an instance (blocked?) is reused: every inbox POST
/// and fetch checks it. A block made here takes effect at once; one made by another server
/// of a cluster, within this time.
const HOST_STATE_TTL: Duration = Duration::from_secs(5);
/// How often, at most, an instance that talks to us is recorded alive (a write).
const ALIVE_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, Default)]
struct HostEntry {
    blocked: Option<(bool, Instant)>,
    alive_written_at: Option<Instant>,
}

/// What this process knows of other instances, briefly.
#[derive(Default)]
pub(crate) struct HostCache(Mutex<HashMap<String, HostEntry>>);

impl HostCache {
    fn update(&self, host: &str, change: impl FnOnce(&mut HostEntry)) {
        let mut hosts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if hosts.len() > 50_000 {
            hosts.clear();
        }
        change(hosts.entry(host.to_ascii_lowercase()).or_default());
    }

    fn get(&self, host: &str) -> Option<HostEntry> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&host.to_ascii_lowercase())
            .copied()
    }

    /// Whether `host` is blocked, when read recently.
    pub(crate) fn blocked(&self, host: &str) -> Option<bool> {
        let (blocked, read_at) = self.get(host)?.blocked?;
        (read_at.elapsed() < HOST_STATE_TTL).then_some(blocked)
    }

    pub(crate) fn set_blocked(&self, host: &str, blocked: bool) {
        self.update(host, |e| e.blocked = Some((blocked, Instant::now())));
    }

    /// Whether `host` talking to us should be recorded as alive again.
    pub(crate) fn alive_due(&self, host: &str) -> bool {
        self.get(host)
            .and_then(|e| e.alive_written_at)
            .is_none_or(|at| at.elapsed() >= ALIVE_EVERY)
    }

    pub(crate) fn alive_written(&self, host: &str) {
        self.update(host, |e| e.alive_written_at = Some(Instant::now()));
    }

    pub(crate) fn alive_forget(&self, host: &str) {
        self.update(host, |e| e.alive_written_at = None);
    }
}
