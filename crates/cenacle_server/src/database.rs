//! Opening the database: the embedded cluster by default, or the configured URL.

use anyhow::Context as _;
use cenacle_config::Settings;
use cenacle_db::{
    connect_pool,
    embedded::{self, ClusterAccess, EmbeddedOptions},
    run_migrations, DbPool,
};
use std::path::PathBuf;

pub struct Database {
    pub pool: DbPool,
    /// For connections outside the pool (the delivery workers' LISTEN).
    pub url: String,
    /// Present when we run (or joined) the embedded cluster.
    cluster: Option<ClusterAccess>,
}

impl Database {
    /// Connects (starting the embedded cluster if no URL is configured) and applies pending
    /// migrations. `allow_shared`: joining a cluster another live process owns is fine (admin
    /// commands), rather than an error (the server).
    pub async fn open(settings: &Settings, allow_shared: bool) -> anyhow::Result<Database> {
        let (url, cluster) = if settings.uses_embedded_database() {
            let root = settings.server.data_dir.join("postgres");
            let opts = EmbeddedOptions {
                bin_dir: Some(&settings.database.postgres_bin_dir)
                    .filter(|d| !d.is_empty())
                    .map(PathBuf::from),
                unsafe_fast: false,
            };
            let root_for_task = root.clone();
            let access = tokio::task::spawn_blocking(move || {
                embedded::open(&root_for_task, &opts, allow_shared)
            })
            .await?
            .with_context(|| format!("starting the embedded PostgreSQL in {}", root.display()))?;
            embedded::ensure_database(&access, embedded::DATABASE)
                .await
                .context("creating the database in the embedded cluster")?;
            (access.database_url(embedded::DATABASE), Some(access))
        } else {
            (settings.database.url.clone(), None)
        };
        let migrate_url = url.clone();
        let applied = tokio::task::spawn_blocking(move || run_migrations(&migrate_url))
            .await?
            .context("applying database migrations")?;
        for name in &applied {
            tracing::info!(migration = %name, "applied migration");
        }
        let wait = std::time::Duration::from_secs_f64(settings.database.pool_wait_seconds);
        let pool = connect_pool(&url, settings.database.pool_size, wait)?;
        Ok(Database { pool, url, cluster })
    }

    /// Closes the pool and stops the embedded cluster if we own it.
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close();
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || cluster.stop()).await??;
        }
        Ok(())
    }
}
