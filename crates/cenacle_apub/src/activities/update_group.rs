//! Update{Group}: a group we follow changed its title, description or keys.

use crate::{
    objects::group::{remote_group, GroupJson},
    vocabulary::{deserialize_audience, deserialize_id, new_activity_id, PUBLIC},
    ApubError, FedData,
};
use activitypub_federation::kinds::activity::UpdateType;
use cenacle_core::{actors, inbound::Outcome, model::RemoteGroup, Conn, CoreError};
use cenacle_domain::origin::Forgery;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateGroup {
    #[serde(rename = "type")]
    pub kind: UpdateType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    pub object: GroupJson,
    // Lemmy requires both, even empty.
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
}

impl UpdateGroup {
    pub fn new(data: &FedData, group: GroupJson, followers: Url) -> UpdateGroup {
        UpdateGroup {
            kind: UpdateType::Update,
            id: new_activity_id(data, "update"),
            actor: group.id.clone(),
            to: vec![Url::parse(PUBLIC).expect("valid")],
            cc: vec![followers],
            object: group,
        }
    }

    /// The group's new document, when it updates itself (and keeps its endpoints on its own
    /// host: an Update may not move its inbox elsewhere either).
    pub fn prepare(self, loopback_only: bool) -> Result<RemoteGroup, ApubError> {
        // A group updates only itself (its key included).
        if self.object.id != self.actor || self.object.public_key.owner != self.actor {
            return Err(CoreError::Forged(Forgery::NotTheOrigin).into());
        }
        self.object.verify_endpoints(loopback_only)?;
        Ok(remote_group(self.object))
    }
}

/// Only groups we already know: an Update does not introduce a new actor.
pub async fn apply(conn: &mut Conn, group: &RemoteGroup) -> Result<Outcome, CoreError> {
    Ok(if actors::refresh_known_group(conn, group).await? {
        Outcome::Applied
    } else {
        Outcome::Ignored("unknown_group")
    })
}
