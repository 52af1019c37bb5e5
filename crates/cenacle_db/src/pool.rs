use crate::DbError;
use diesel::Connection;
use diesel_async::{
    async_connection_wrapper::AsyncConnectionWrapper,
    pooled_connection::{deadpool, AsyncDieselConnectionManager},
    AsyncPgConnection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type DbPool = deadpool::Pool<AsyncPgConnection>;
pub type DbConn = deadpool::Object<AsyncPgConnection>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Any fixed number shared by every Cénacle process: it serialises concurrent migration runs
/// when several servers and workers start against one database at the same time.
const MIGRATION_LOCK_KEY: i64 = 0x63656e61636c65;

/// A pool of `size` connections. Connections are opened lazily; call [`ping`] to check the
/// database answers.
pub fn connect_pool(url: &str, size: u32) -> Result<DbPool, DbError> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
    deadpool::Pool::builder(manager)
        .max_size(size as usize)
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
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
