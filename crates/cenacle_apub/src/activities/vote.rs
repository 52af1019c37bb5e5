//! Like and Dislike (Lemmy switches a vote by sending the other kind: the latest wins). Applied
//! through `cenacle_core::inbound::vote`, like a vote on our pages.

use crate::{
    vocabulary::{deserialize_id, new_activity_id},
    FedData,
};
use cenacle_domain::content::Vote;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum VoteType {
    Like,
    Dislike,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoteActivity {
    #[serde(rename = "type")]
    pub kind: VoteType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub object: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
}

impl VoteActivity {
    pub fn new(
        data: &FedData,
        actor: Url,
        object: Url,
        vote: Vote,
        audience: Option<Url>,
    ) -> VoteActivity {
        VoteActivity {
            kind: match vote {
                Vote::Like => VoteType::Like,
                Vote::Dislike => VoteType::Dislike,
            },
            id: new_activity_id(data, "vote"),
            actor,
            object,
            audience,
        }
    }

    pub fn vote(&self) -> Vote {
        match self.kind {
            VoteType::Like => Vote::Like,
            VoteType::Dislike => Vote::Dislike,
        }
    }
}
