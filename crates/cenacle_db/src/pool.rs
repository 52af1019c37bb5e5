use crate::DbError;
use diesel::Connection;
use diesel_async::{
    async_connection_wrapper::AsyncConnectionWrapper,
    pooled_connection::{deadpool, AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod},
    AsyncPgConnection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

/// One open connection, or one open transaction: what every query and use case runs on. The
/// caller decides which; use cases never take a connection of their own.
pub type Conn = AsyncPgConnection;

/// A connection taken from the pool; it goes back when dropped.
pub type DbConn = deadpool::Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Any fixed number shared by every Cénacle process: it serialises concurrent migration runs
/// when several servers and workers start against one database at the same time.
const MIGRATION_LOCK_KEY: i64 = 0x63656e61636c65;

/// The connection pool with a bounded wait: when every connection is busy for longer than
/// the wait, [`DbPool::get`] fails with [`DbError::PoolTimeout`] (answered 503 + Retry-After)
/// instead of queueing the request forever.
#[derive(Clone)]
pub struct DbPool {
    inner: deadpool::Pool<AsyncPgConnection>,
    stats: Arc<PoolStats>,
}

/// Counters of connection waits, read by the `/metrics` endpoint.
#[derive(Default)]
pub struct PoolStats {
    /// Connections handed out.
    pub checkouts: AtomicU64,
    /// Time spent waiting for them, in microseconds.
    pub wait_micros: AtomicU64,
    /// Waits that ran out of time.
    pub timeouts: AtomicU64,
}

/// What the pool holds right now.
pub struct PoolStatus {
    pub size: usize,
    pub available: usize,
    pub max_size: usize,
    pub waiting: usize,
}

impl DbPool {
    pub async fn get(&self) -> Result<DbConn, DbError> {
        let started = Instant::now();
        let result = self.inner.get().await;
        let waited = started.elapsed().as_micros() as u64;
        self.stats.wait_micros.fetch_add(waited, Ordering::Relaxed);
        match result {
            Ok(conn) => {
                self.stats.checkouts.fetch_add(1, Ordering::Relaxed);
                Ok(conn)
            }
            Err(deadpool::PoolError::Timeout(_)) => {
                self.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(DbError::PoolTimeout)
            }
            Err(e) => Err(DbError::Pool(e.to_string())),
        }
    }

    pub fn stats(&self) -> &PoolStats {
        &self.stats
    }

    pub fn status(&self) -> PoolStatus {
        let s = self.inner.status();
        PoolStatus {
            size: s.size,
            available: s.available,
            max_size: s.max_size,
            waiting: s.waiting,
        }
    }

    pub fn close(&self) {
        self.inner.close();
    }
}

/// A pool of `size` connections, opened lazily (call [`ping`] to check the database answers);
/// a request for a connection waits at most `wait`.
pub fn connect_pool(url: &str, size: u32, wait: Duration) -> Result<DbPool, DbError> {
    let mut config = ManagerConfig::default();
    // The default ("Verified") runs `SELECT 1` at every checkout: one more round trip per
    // request. A connection left in a transaction is still refused by the fast check; a dead
    // one fails its next query, which is answered as any database failure.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(|url| Box::pin(establish_in_c_locale(url.to_owned())));
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    let inner = deadpool::Pool::builder(manager)
        .max_size(size as usize)
        .runtime(::deadpool::Runtime::Tokio1)
        .wait_timeout(Some(wait))
        .create_timeout(Some(wait.max(Duration::from_secs(5))))
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))?;
    Ok(DbPool {
        inner,
        stats: Arc::default(),
    })
}

/// Opens a pooled connection with the server's messages in English (`lc_messages = 'C'`):
/// the driver reports a deadlock (40P01) without its code, and `DbError::is_transient_conflict`
/// recognises it by its message, which a server configured in another language would
/// translate. Setting it may need superuser rights on some servers: when refused, a warning
/// (once per process) and the connection is used as it is.
async fn establish_in_c_locale(url: String) -> diesel::ConnectionResult<AsyncPgConnection> {
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};
    static WARNED: std::sync::Once = std::sync::Once::new();
    let mut conn = AsyncPgConnection::establish(&url).await?;
    if let Err(e) = conn.batch_execute("SET lc_messages TO 'C'").await {
        WARNED.call_once(|| {
            tracing::warn!(
                error = %e,
                "cannot set lc_messages to 'C': deadlocks are recognised only if the server's messages are in English"
            );
        });
    }
    Ok(conn)
}

/// True when a connection can be had and answers a trivial query.
pub async fn ping(pool: &DbPool) -> Result<(), DbError> {
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await?;
    diesel::sql_query("SELECT 1").execute(&mut conn).await?;
    Ok(())
}

/// Applies pending migrations, returning the names of those applied. Blocking: call it from
/// `spawn_blocking` or outside a runtime.
pub fn run_migrations(url: &str) -> Result<Vec<String>, DbError> {
    use diesel::RunQueryDsl;
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url)
        .map_err(|e| DbError::Pool(format!("cannot connect to run migrations: {e}")))?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(|v| v.to_string()).collect())
        .map_err(|e| DbError::Corrupt(format!("migration failed: {e}")));
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)?;
    applied
}
