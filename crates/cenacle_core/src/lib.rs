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
pub mod account_mail;
pub mod accounts;
pub mod actors;
pub mod admin;
pub mod answers;
pub mod approval;
pub mod auctions;
pub mod badges;
pub mod ban_checks;
pub mod bounties;
pub mod caller;
pub mod certificates;
pub mod champions;
pub mod comments;
pub mod contests;
mod context;
pub mod course_authoring;
pub mod courses;
pub mod digests;
mod error;
pub mod federation;
pub mod feeds;
pub mod getting_started;
pub mod group_bans;
pub mod groups;
pub mod ideas;
pub mod idempotency;
pub mod identity;
pub mod inbound;
pub mod insights;
pub mod instance_moderation;
pub mod journey;
pub mod leaderboards;
pub mod mail;
mod mail_rules;
pub mod media;
pub mod media_sweep;
pub mod model;
pub mod moderation;
pub mod moderation_log;
pub mod notification_mails;
pub mod notifications;
pub mod orders;
pub mod people;
pub mod points;
pub mod post_views;
pub mod posts;
pub mod proposals;
pub mod published;
pub mod quizzes;
pub mod ranks_reached;
pub mod reports;
pub mod rewards;
mod secrets;
pub mod shop;
pub mod status;
pub mod stock;
pub mod trainer_answers;
pub mod triggered_mail;
pub mod votes;
pub mod welcome;
pub mod who_moderates;

pub use caller::Caller;
pub use cenacle_db::{Conn, DbConn, DbPool};
pub use context::{in_savepoint, Context};
pub use error::CoreError;
pub use scoped_futures::{ScopedBoxFuture, ScopedFutureExt};
pub use secrets::{hash_password, verify_password};
