//! A ban from a group, as Lemmy 1.0 sends and reads it: `Block` with `target` = the group,
//! `object` = the person, `summary` = the reason, `removeData`, and its end in `endTime`
//! (Lemmy 1.0) or `expires` (older Lemmy; we send both); lifted with `Undo{Block}` (LemmyNet/
//! lemmy `crates/apub/activities/src/protocol/block/`). A group announces both to its
//! followers.

use crate::{
    vocabulary::{deserialize_audience, deserialize_id, PUBLIC},
    FedData,
};
use activitypub_federation::kinds::activity::BlockType;
use cenacle_core::group_bans::BanTerms;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockUser {
    #[serde(rename = "type")]
    pub kind: BlockType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub object: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub target: Url,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_data: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
}

impl BlockUser {
    /// Our moderator's ban of `person` from `group`.
    pub fn new(id: Url, moderator: Url, person: Url, group: Url, terms: &BanTerms) -> BlockUser {
        BlockUser {
            kind: BlockType::Block,
            id,
            actor: moderator,
            object: person,
            target: group.clone(),
            to: vec![Url::parse(PUBLIC).expect("valid")],
            cc: vec![group.clone()],
            summary: Some(terms.reason.clone()).filter(|r| !r.is_empty()),
            remove_data: Some(terms.remove_data),
            end_time: terms.expires_at,
            expires: terms.expires_at,
            audience: Some(group),
        }
    }

    /// What the ban says.
    pub fn terms(&self) -> BanTerms {
        BanTerms {
            reason: self.summary.clone().unwrap_or_default(),
            expires_at: self.end_time.or(self.expires),
            remove_data: self.remove_data.unwrap_or(false),
        }
    }

    /// Its `to`, `cc` and `audience`, for the origin rules of an Announce.
    pub fn addressing(&self) -> Vec<String> {
        self.to
            .iter()
            .chain(&self.cc)
            .chain(&self.audience)
            .chain(std::iter::once(&self.target))
            .map(Url::to_string)
            .collect()
    }
}

/// Our `Undo{Block}` as Lemmy reads it: with `to` and `cc` (Lemmy requires both) and the
/// Block embedded. (Received Undos are read by `undo::Undo`.)
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoBlock {
    #[serde(rename = "type")]
    pub kind: activitypub_federation::kinds::activity::UndoType,
    pub id: Url,
    pub actor: Url,
    pub object: BlockUser,
    pub to: Vec<Url>,
    pub cc: Vec<Url>,
    pub audience: Option<Url>,
}

impl UndoBlock {
    pub fn new(id: Url, block: BlockUser) -> UndoBlock {
        UndoBlock {
            kind: Default::default(),
            id,
            actor: block.actor.clone(),
            to: block.to.clone(),
            cc: block.cc.clone(),
            audience: block.audience.clone(),
            object: block,
        }
    }
}

/// A new id for a Block of ours.
pub fn new_block_id(data: &FedData) -> Url {
    crate::vocabulary::new_activity_id(data, "block")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lemmys_block_reads_with_its_end_and_removal() {
        let block: BlockUser = serde_json::from_value(json!({
            "actor": "http://enterprise.lemmy.ml/u/lemmy_beta",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": "http://ds9.lemmy.ml/u/lemmy_alpha",
            "cc": ["http://enterprise.lemmy.ml/c/main"],
            "target": "http://enterprise.lemmy.ml/c/main",
            "type": "Block", "removeData": true, "summary": "spam post",
            "endTime": "2031-11-01T12:23:50.151874Z",
            "id": "http://enterprise.lemmy.ml/activities/block/5d42fffb"
        }))
        .unwrap();
        let terms = block.terms();
        assert!(terms.remove_data);
        assert_eq!(terms.reason, "spam post");
        assert_eq!(
            terms.expires_at.unwrap().to_rfc3339(),
            "2031-11-01T12:23:50.151874+00:00"
        );
        let older: BlockUser = serde_json::from_value(json!({
            "actor": "http://e.example/u/m", "object": "http://d.example/u/a",
            "target": "http://e.example/c/main", "type": "Block",
            "expires": "2031-01-01T00:00:00Z", "id": "http://e.example/activities/block/1"
        }))
        .unwrap();
        assert!(older.terms().expires_at.is_some());
        assert!(!older.terms().remove_data);
    }
}
