//! `Lock` of a post by a moderator (no new comments), and, undone, its unlock. Applied
//! through `moderation`.

use crate::{
    objects::content::audience_of,
    vocabulary::{deserialize_audience, deserialize_id, new_activity_id},
    FedData,
};
use cenacle_core::model::Group;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum LockType {
    Lock,
}

/// `Lock` of a post: no new comments (Lemmy 1.0 sends a `summary` reason).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockPost {
    #[serde(rename = "type")]
    pub kind: LockType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub object: Url,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::vocabulary::deserialize_opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub audience: Option<Url>,
}

impl LockPost {
    pub fn new(data: &FedData, actor: Url, object: Url, group: &Group) -> Self {
        let (to, cc) = audience_of(group);
        LockPost {
            kind: LockType::Lock,
            id: new_activity_id(data, "lock"),
            actor,
            object,
            to,
            cc,
            summary: None,
            audience: Url::parse(&group.ap_id).ok(),
        }
    }
}
