//! Delete of a post or comment (Lemmy: with a `summary` it is a moderator's removal). Applied
//! through `cenacle_core::inbound::delete`: by the same use case our members use (their own,
//! or anything in a group they moderate).

use crate::vocabulary::{deserialize_audience, deserialize_id};
use activitypub_federation::kinds::activity::DeleteType;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteContent {
    #[serde(rename = "type")]
    pub kind: DeleteType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub object: Url,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
    /// Lemmy: a summary marks a moderator's removal rather than a self-delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}
