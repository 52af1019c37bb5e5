//! Update{Group}: a group we follow changed its title, description or keys.

use super::{deserialize_audience, deserialize_id, new_activity_id, PUBLIC};
use crate::{objects::group::GroupJson, ApubError, FedData};
use activitypub_federation::kinds::activity::UpdateType;
use cenacle_db::actors;
use diesel_async::AsyncPgConnection;
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

    pub(super) fn verify(&self) -> Result<(), ApubError> {
        if self.object.id != self.actor || self.object.public_key.owner != self.actor {
            return Err(ApubError::Malformed(
                "a group may only update itself".into(),
            ));
        }
        Ok(())
    }

    pub(super) async fn apply(self, conn: &mut AsyncPgConnection) -> Result<(), ApubError> {
        // Only groups we already know: an Update does not introduce a new actor.
        if actors::group_by_ap_id(conn, self.actor.as_str())
            .await?
            .is_none_or(|g| g.local)
        {
            tracing::info!(actor = %self.actor, "Update of a group we do not follow; ignored");
            return Ok(());
        }
        actors::upsert_remote_group(conn, &crate::objects::group::remote_group(self.object))
            .await?;
        Ok(())
    }
}
