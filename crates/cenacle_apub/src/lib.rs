//! ActivityPub for Cénacle.
//!
//! - `objects`: our people, groups, posts and comments as ActivityPub documents, and how we
//!   read other servers' (into the plain values `cenacle_core` takes).
//! - `activities`: one file per family of activity we accept (follow, create_or_update,
//!   vote, delete, announce, undo, update_group); each turns an activity into core use cases.
//! - `inbox`: signature, digest and date checks, the inbox's share of the pool, fetching what
//!   an activity needs, then one transaction per activity with the record of its id.
//! - `outgoing`: the one home of what we send: outbox events and relays turned into
//!   activities and queued.
//! - `delivery`: the persistent queue's workers, signing with OpenSSL.
//! - `routes`: actor documents, collections, WebFinger, host-meta, NodeInfo.
//! - `follows`: resolving remote actors and following them.
//! - `signed_fetch`: who fetches a private group's content (its approved followers' instances).
//!
//! Like the API, this crate reaches the database only through `cenacle_core`.

pub mod activities;
pub mod context;
mod data;
pub mod delivery;
mod error;
pub mod follows;
pub mod http_client;
pub mod inbox;
pub mod mention_lookups;
pub mod mentions;
pub mod objects;
pub mod outgoing;
pub mod queue;
pub mod routes;
mod setup;
pub mod signatures;
pub mod signed_fetch;
pub mod vocabulary;
pub mod webfinger_lookup;

pub use data::{FedConn, FedData, FedDb, FedRequest};
pub use error::ApubError;
pub use setup::Federation;
