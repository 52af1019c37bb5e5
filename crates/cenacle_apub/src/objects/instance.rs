//! The instance actor: an `Application` that signs our fetches (FEP-2677). It never acts in
//! an inbox activity (Lemmy refuses those).

use crate::{ApubError, FedData};
use activitypub_federation::{
    config::Data,
    traits::{Actor, Object},
};
use cenacle_core::{identity, Context};
use serde::Serialize;
use url::Url;

#[derive(Debug, Clone)]
pub struct InstanceActor {
    id: Url,
    inbox: Url,
    public_key_pem: String,
    private_key_pem: String,
}

impl InstanceActor {
    pub fn new(fed: &FedData) -> Self {
        let base = fed.base();
        let id = Url::parse(&identity::urls::instance_actor(&base)).expect("valid public url");
        Self {
            inbox: Url::parse(&format!("{id}/inbox")).expect("valid url"),
            id,
            public_key_pem: fed.instance_keys.0.clone(),
            private_key_pem: fed.instance_keys.1.clone(),
        }
    }

    pub fn json(&self, fed: &FedData) -> serde_json::Value {
        let base = fed.base();
        serde_json::to_value(ApplicationJson {
            kind: "Application",
            id: self.id.clone(),
            // A valid WebFinger name that answers WebFinger (GoToSocial fetches the signer,
            // checks its name and WebFingers it) and that nobody else may take.
            preferred_username: cenacle_domain::INSTANCE_ACTOR_NAME.into(),
            name: fed.ctx.settings.server.instance_name.clone(),
            inbox: self.inbox.clone(),
            outbox: Url::parse(&format!("{}/outbox", self.id)).expect("valid url"),
            endpoints: serde_json::json!({ "sharedInbox": identity::urls::shared_inbox(&base) }),
            public_key: self.public_key(),
            manually_approves_followers: true,
            url: base,
        })
        .expect("serialisable")
    }
}

/// The reporting actor: a `Service` that sends the reports of members who keep their name to
/// themselves. Lemmy reads a `Flag`'s actor as a person — `Person`, `Service` or
/// `Organization` (LemmyNet/lemmy `crates/apub/objects/src/protocol/person.rs`), never our
/// `Application` — and Mastodon takes any actor type. It is the instance speaking, so it
/// lists the instance actor's public key as its own (APF checks a signature against the
/// key of the actor it dereferences, whose `keyId` is `<id>#main-key`). Its inbox is the
/// shared inbox: resolutions of its reports come back there.
pub fn reporting_actor_json(fed: &FedData) -> serde_json::Value {
    let base = fed.base();
    let id = Url::parse(&identity::urls::reporting_actor(&base)).expect("valid public url");
    serde_json::to_value(ApplicationJson {
        kind: "Service",
        id: id.clone(),
        preferred_username: cenacle_domain::REPORTING_ACTOR_NAME.into(),
        name: format!("{} (reports)", fed.ctx.settings.server.instance_name),
        inbox: Url::parse(&identity::urls::shared_inbox(&base)).expect("valid url"),
        outbox: Url::parse(&format!("{id}/outbox")).expect("valid url"),
        endpoints: serde_json::json!({ "sharedInbox": identity::urls::shared_inbox(&base) }),
        public_key: activitypub_federation::protocol::public_key::PublicKey {
            id: format!("{id}#main-key"),
            owner: id,
            public_key_pem: fed.instance_keys.0.clone(),
        },
        manually_approves_followers: true,
        url: base,
    })
    .expect("serialisable")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationJson {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Url,
    preferred_username: String,
    name: String,
    inbox: Url,
    outbox: Url,
    endpoints: serde_json::Value,
    public_key: activitypub_federation::protocol::public_key::PublicKey,
    manually_approves_followers: bool,
    url: String,
}

#[async_trait::async_trait]
impl Object for InstanceActor {
    type DataType = FedData;
    type Kind = ();
    type Error = ApubError;

    fn id(&self) -> &Url {
        &self.id
    }

    async fn read_from_id(_id: Url, _data: &Data<FedData>) -> Result<Option<Self>, ApubError> {
        Ok(None)
    }

    async fn into_json(self, _data: &Data<FedData>) -> Result<(), ApubError> {
        Ok(())
    }

    async fn verify(_json: &(), _expected: &Url, _data: &Data<FedData>) -> Result<(), ApubError> {
        Err(ApubError::Malformed(
            "the instance actor is never received".into(),
        ))
    }

    async fn from_json(_json: (), _data: &Data<FedData>) -> Result<Self, ApubError> {
        Err(ApubError::Malformed(
            "the instance actor is never received".into(),
        ))
    }
}

impl Actor for InstanceActor {
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        Some(self.private_key_pem.clone())
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }
}

/// Loads the instance actor's keys, creating them on first start. Several processes starting
/// at once agree on the first stored pair.
pub async fn ensure_keys(ctx: &Context) -> Result<(String, String), ApubError> {
    if let Some(keys) = cenacle_core::actors::instance_keys(&mut *ctx.conn().await?).await? {
        return Ok(keys);
    }
    // Made before the write, with no connection held.
    let (public, private) = identity::generate_keypair().await?;
    let mut conn = ctx.conn().await?;
    Ok(cenacle_core::actors::store_instance_keys(&mut conn, &public, &private).await?)
}
