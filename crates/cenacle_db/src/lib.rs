//! Storage for Cénacle: the diesel schema, typed rows and queries, the connection pool,
//! migrations, the embedded PostgreSQL cluster and the test-database harness.
//!
//! Nothing here knows about HTTP or ActivityPub; callers get plain Rust values and
//! [`DbError`], whose constraint names the API turns into client errors.

pub mod account_tokens;
pub mod accounts;
pub mod actors;
pub mod approval;
pub mod auctions;
pub mod badges;
pub mod bounties;
pub mod builtin_courses;
pub mod champions;
pub mod content;
pub mod course_authoring;
pub mod digests;
pub mod embedded;
pub mod engagement;
mod error;
pub mod federation;
pub mod groups;
pub mod idempotency;
pub mod insights;
pub mod instance_moderation;
pub mod leaderboards;
pub mod mail;
pub mod media;
pub mod moderation_log;
pub mod notifications;
pub mod onboarding;
pub mod pool;
mod prepared;
pub mod reports;
pub mod schema;
pub mod shop;
pub mod shortlist_snapshots;
#[cfg(feature = "testing")]
pub mod testing;
pub mod training;

pub use error::{ConstraintViolation, DbError};
pub use pool::{connect_pool, ping, run_migrations, Conn, DbConn, DbPool, PoolStats, PoolStatus};
pub(crate) use prepared::PrepareOnce;
