//! What every federation handler needs, as `activitypub_federation`'s app data.

use activitypub_federation::config::Data;
use cenacle_core::{model::DbError, Conn, Context, CoreError, DbConn, ScopedBoxFuture};
use std::{
    ops::{Deref, DerefMut},
    sync::Arc,
    time::Duration,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Clone)]
pub struct FedData {
    pub ctx: Context,
    /// Every database access of the federation side: within its share of the pool.
    pub db: FedDb,
    /// The instance actor's key pair (public PEM, private PEM).
    pub instance_keys: Arc<(String, String)>,
    /// The HTTP client for deliveries (same resolver and address checks as fetches).
    pub client: reqwest::Client,
    /// The instance-wide bounds on looking up the people members name.
    pub mention_lookups: Arc<crate::mention_lookups::MentionLookups>,
}

/// The federation side's share of the database pool (`federation.inbox_connections`, by
/// default half of it): inbox activities, fetches of remote actors, the documents we serve
/// and the delivery workers together never hold more connections than that, so that however
/// hard other servers push, the API always keeps the rest. The wait for a place is bounded
/// like the pool's (then 503: peers retry).
#[derive(Clone)]
pub struct FedDb {
    ctx: Context,
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// A connection taken within the federation's share; both go back when it is dropped.
pub struct FedConn {
    conn: DbConn,
    _permit: OwnedSemaphorePermit,
}

impl Deref for FedConn {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl DerefMut for FedConn {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

impl FedDb {
    pub fn new(ctx: Context) -> FedDb {
        let settings = &ctx.settings;
        FedDb {
            permits: Arc::new(Semaphore::new(settings.inbox_concurrency())),
            wait: Duration::from_secs_f64(settings.database.pool_wait_seconds),
            ctx,
        }
    }

    pub fn ctx(&self) -> &Context {
        &self.ctx
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, CoreError> {
        tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(CoreError::Database(DbError::PoolTimeout))
    }

    /// One connection, for reads (never held across an HTTP call).
    pub async fn conn(&self) -> Result<FedConn, CoreError> {
        let permit = self.permit().await?;
        Ok(FedConn {
            conn: self.ctx.conn().await?,
            _permit: permit,
        })
    }

    /// One transaction, as `Context::transaction`.
    pub async fn transaction<'a, R, F>(&self, action: F) -> Result<R, CoreError>
    where
        F: for<'r> FnOnce(&'r mut Conn) -> ScopedBoxFuture<'a, 'r, Result<R, CoreError>>
            + Send
            + 'a,
        R: Send + 'a,
    {
        let _permit = self.permit().await?;
        self.ctx.transaction(action).await
    }
}

pub type FedRequest = Data<FedData>;

impl FedData {
    pub fn base(&self) -> String {
        self.ctx.settings.public_base()
    }

    /// Whether a URL names something on this instance (same host and port).
    pub fn is_local(&self, url: &url::Url) -> bool {
        cenacle_domain::origin::authority(url.as_str())
            == cenacle_core::identity::local_host(&self.ctx.settings)
    }
}
