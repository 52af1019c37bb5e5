//! The federation side of an instance, set up at start: the instance actor's keys, the
//! identities of people older than federation, the HTTP client and `activitypub_federation`'s
//! configuration.

use crate::{data::FedDb, http_client, objects, ApubError, FedData, FedRequest};
use activitypub_federation::config::FederationConfig;
use cenacle_core::Context;
use std::sync::Arc;

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
        let db = FedDb::new(ctx.clone());
        let fed = FedData {
            ctx: ctx.clone(),
            db: db.clone(),
            instance_keys: Arc::new(instance_keys),
            client: client.clone(),
            mention_lookups: Arc::default(),
        };
        let instance_actor = objects::instance::InstanceActor::new(&fed);
        let config = FederationConfig::builder()
            .domain(cenacle_core::identity::local_host(settings))
            .app_data(fed)
            .client(reqwest_middleware::ClientBuilder::new(client).build())
            .http_fetch_limit(settings.federation.http_fetch_limit)
            .debug(settings.federation.allow_insecure_loopback_federation)
            .url_verifier(Box::new(http_client::BlocklistVerifier::new(db)))
            .signed_fetch_actor(&instance_actor)
            // Signed fetches sign `(request-target) host date` (algorithm hs2019, RSA key).
            // Mastodon and GoToSocial refuse a signed GET whose `host` is not signed, which the
            // library's default (`(created)`, no host) leaves out. Our POSTs are signed by
            // `signatures::sign_request`, not here.
            .http_signature_compat(true)
            .build()
            .await
            .map_err(|e| ApubError::Internal(e.to_string()))?;
        Ok(Federation { config })
    }

    pub fn data(&self) -> FedRequest {
        self.config.to_request_data()
    }
}
