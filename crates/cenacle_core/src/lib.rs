//! Use cases of Cénacle: one function per thing a member, an admin or (later) a peer can do.
//! The REST API and the command line both call these, so a rule holds whichever way in.

pub mod accounts;
pub mod admin;
pub mod content;
pub mod engagement;
mod error;
pub mod groups;
pub mod identity;
pub mod media;
mod secrets;

pub use error::CoreError;
pub use secrets::{hash_password, verify_password};

use cenacle_config::Settings;
use cenacle_db::{DbConn, DbPool};
use std::sync::Arc;

/// What every use case needs: the database and the instance's settings.
#[derive(Clone)]
pub struct Context {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    /// Whom this process already paid today's visit point (see `engagement::record_visit`).
    pub(crate) visits: Arc<std::sync::Mutex<std::collections::HashMap<i64, chrono::NaiveDate>>>,
}

impl Context {
    pub fn new(pool: DbPool, settings: Settings) -> Self {
        Self {
            pool,
            settings: Arc::new(settings),
            visits: Default::default(),
        }
    }

    pub async fn conn(&self) -> Result<DbConn, CoreError> {
        Ok(self.pool.get().await.map_err(cenacle_db::DbError::from)?)
    }
}
