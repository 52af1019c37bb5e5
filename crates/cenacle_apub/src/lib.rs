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
//!
//! Like the API, this crate reaches the database only through `cenacle_core`.

pub mod activities;
pub mod context;
pub mod delivery;
mod error;
pub mod follows;
pub mod http_client;
pub mod inbox;
pub mod objects;
pub mod outgoing;
pub mod queue;
pub mod routes;
pub mod signatures;
pub mod vocabulary;

pub use error::ApubError;

use activitypub_federation::config::{Data, FederationConfig};
use cenacle_core::Context;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What every federation handler needs, as `activitypub_federation`'s app data.
#[derive(Clone)]
pub struct FedData {
    pub ctx: Context,
    /// The instance actor's key pair (public PEM, private PEM).
    pub instance_keys: Arc<(String, String)>,
    /// The HTTP client for deliveries (same resolver and address checks as fetches).
    pub client: reqwest::Client,
    /// Inbox activities processed at once: each holds one connection while it applies, and
    /// the API must always keep some (`federation.inbox_connections`).
    pub inbox_permits: Arc<Semaphore>,
}

pub type FedRequest = Data<FedData>;

impl FedData {
    pub fn base(&self) -> String {
        self.ctx.settings.public_base()
    }

    /// Whether a URL names something on this instance (same host and port).
    pub fn is_local(&self, url: &url::Url) -> bool {
        http_client::host_of(url) == cenacle_core::identity::local_host(&self.ctx.settings)
    }
}

/// The federation side of an instance: its configuration and HTTP client.
#[derive(Clone)]
pub struct Federation {
    pub config: FederationConfig<FedData>,
}

impl Federation {
    /// Builds the federation layer: loads or creates the instance actor's keys, gives local
    /// people created before federation existed their identity, and configures fetching.
    pub async fn start(ctx: Context) -> Result<Federation, ApubError> {
        let instance_keys = objects::instance::ensure_keys(&ctx).await?;
        objects::person::backfill_identities(&ctx).await?;
        let settings = &ctx.settings;
        let client = http_client::build(settings)?;
        let fed = FedData {
            ctx: ctx.clone(),
            instance_keys: Arc::new(instance_keys),
            client: client.clone(),
            inbox_permits: Arc::new(Semaphore::new(settings.inbox_concurrency())),
        };
        let instance_actor = objects::instance::InstanceActor::new(&fed);
        let config = FederationConfig::builder()
            .domain(cenacle_core::identity::local_host(settings))
            .app_data(fed)
            .client(reqwest_middleware::ClientBuilder::new(client).build())
            .http_fetch_limit(settings.federation.http_fetch_limit)
            .debug(settings.federation.allow_insecure_loopback_federation)
            .url_verifier(Box::new(http_client::BlocklistVerifier::new(ctx.clone())))
            .signed_fetch_actor(&instance_actor)
            .build()
            .await
            .map_err(|e| ApubError::Internal(e.to_string()))?;
        Ok(Federation { config })
    }

    pub fn data(&self) -> FedRequest {
        self.config.to_request_data()
    }
}
