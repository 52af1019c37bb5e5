//! Use cases of Cénacle: one function per thing a member, an admin or a peer can do.
//!
//! Every use case runs on the connection its caller gives it (`conn: &mut Conn`): the REST
//! handler, the inbox or the command line opens **one transaction per action** with
//! [`Context::transaction`] and every use case it calls joins it, so rows, ledgers, badges,
//! outbox events (and, for the inbox, the received activity's id) commit together or not at
//! all. Use cases never take a connection of their own and never make an HTTP call (remote
//! fetches happen before the transaction opens).
//!
//! Modules depend on each other in one direction only: `caller` and `access` at the bottom,
//! `rewards` (reputation, points, badges) above them, the content and group use cases above
//! that, and `inbound` (activities from other servers) on top.

pub mod access;
pub mod accounts;
pub mod actors;
pub mod admin;
pub mod answers;
pub mod badges;
pub mod bounties;
pub mod caller;
pub mod comments;
pub mod contests;
mod error;
pub mod federation;
pub mod feeds;
pub mod groups;
pub mod ideas;
pub mod identity;
pub mod inbound;
pub mod leaderboards;
pub mod media;
pub mod model;
pub mod people;
pub mod points;
pub mod posts;
pub mod proposals;
pub mod published;
pub mod rewards;
mod secrets;
pub mod status;
pub mod votes;

pub use caller::Caller;
pub use cenacle_db::{Conn, DbConn, DbPool};
pub use error::CoreError;
pub use scoped_futures::{ScopedBoxFuture, ScopedFutureExt};
pub use secrets::{hash_password, verify_password};

use cenacle_config::Settings;
use diesel_async::AsyncConnection;
use std::sync::Arc;

/// What every use case needs besides its connection: the instance's settings and the caches
/// this process keeps. The pool is here for the callers (API, inbox, workers) that open
/// transactions; use cases never touch it.
#[derive(Clone)]
pub struct Context {
    pool: DbPool,
    pub settings: Arc<Settings>,
    /// Whom this process already paid today's visit point (see `rewards::record_visit`).
    pub(crate) visits: Arc<std::sync::Mutex<std::collections::HashMap<i64, chrono::NaiveDate>>>,
    /// What this process knows of other instances (see `federation::known_block`).
    pub(crate) hosts: Arc<federation::HostCache>,
}

impl Context {
    pub fn new(pool: DbPool, settings: Settings) -> Self {
        Self {
            pool,
            settings: Arc::new(settings),
            visits: Default::default(),
            hosts: Default::default(),
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
