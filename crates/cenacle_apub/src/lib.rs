//! ActivityPub for Cénacle.
//!
//! - `objects`: our people, groups and the instance actor as ActivityPub actors.
//! - `activities`: what we accept in inboxes (Follow, Accept, Undo, Update) and send.
//! - `inbox`: signature, digest and date checks (via `activitypub_federation`), idempotency,
//!   blocks.
//! - `routes`: actor documents, collections, WebFinger, host-meta, NodeInfo.
//! - `delivery`: the persistent queue's workers, signing with OpenSSL.
//! - `follows`: resolving remote actors and following them.

pub mod activities;
pub mod context;
pub mod delivery;
mod error;
pub mod follows;
pub mod http_client;
pub mod inbox;
pub mod objects;
pub mod outgoing;
pub mod routes;
pub mod signatures;

pub use error::ApubError;

use activitypub_federation::config::{Data, FederationConfig};
use cenacle_core::Context;
use std::sync::Arc;

/// What every federation handler needs, as `activitypub_federation`'s app data.
#[derive(Clone)]
pub struct FedData {
    pub ctx: Context,
    /// The instance actor's key pair (public PEM, private PEM).
    pub instance_keys: Arc<(String, String)>,
    /// The HTTP client for deliveries (same resolver and address checks as fetches).
    pub client: reqwest::Client,
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
