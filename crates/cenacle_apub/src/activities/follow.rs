//! Follow, Accept and Undo{Follow}.

use super::{deserialize_audience, deserialize_id, new_activity_id};
use crate::{http_client::host_of, outgoing, ApubError, FedData};
use activitypub_federation::{
    config::Data,
    kinds::activity::{AcceptType, FollowType, UndoType},
};
use cenacle_db::{actors, federation};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Follow {
    #[serde(rename = "type")]
    pub kind: FollowType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub object: Url,
    #[serde(
        default,
        deserialize_with = "deserialize_audience",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

impl Follow {
    pub fn new(data: &FedData, follower: &Url, target: &Url) -> Follow {
        Follow {
            kind: FollowType::Follow,
            id: new_activity_id(data, "follow"),
            actor: follower.clone(),
            object: target.clone(),
            to: vec![target.clone()],
        }
    }

    pub(super) fn verify(&self, data: &Data<FedData>) -> Result<(), ApubError> {
        if !data.is_local(&self.object) {
            return Err(ApubError::Malformed(
                "Follow of an actor that is not on this instance".into(),
            ));
        }
        Ok(())
    }

    /// Someone follows one of our groups or members: record it and answer Accept (public
    /// groups and members accept everyone; approval comes with private groups).
    pub(super) async fn apply(
        self,
        conn: &mut AsyncPgConnection,
        data: &Data<FedData>,
    ) -> Result<(), ApubError> {
        let target = self.object.as_str();
        let group = actors::group_by_ap_id(conn, target)
            .await?
            .filter(|g| g.local);
        let person_known = actors::person_by_ap_id(conn, target)
            .await?
            .is_some_and(|p| p.local);
        if group.is_none() && !person_known {
            return Err(ApubError::NotFound);
        }
        // A private group's content goes to its followers: nobody follows it without approval
        // (approval comes with private-group membership), so the follow waits, unanswered.
        let needs_approval = group.as_ref().is_some_and(|g| g.visibility == "private");
        let follower = actors::person_by_ap_id(conn, self.actor.as_str())
            .await?
            .ok_or_else(|| ApubError::Malformed("only people can follow".into()))?;
        let inbox = follower
            .inbox_url
            .clone()
            .unwrap_or_else(|| self.actor.to_string());
        federation::upsert_follow(
            conn,
            &federation::NewFollow {
                target_ap_id: target,
                follower_ap_id: self.actor.as_str(),
                follower_inbox: &inbox,
                follower_shared_inbox: follower.shared_inbox_url.as_deref(),
                accepted: !needs_approval,
                follow_activity_id: self.id.as_str(),
            },
        )
        .await?;
        if needs_approval {
            return Ok(());
        }
        let accept = Accept {
            kind: AcceptType::Accept,
            id: new_activity_id(data, "accept"),
            actor: self.object.clone(),
            to: vec![self.actor.clone()],
            object: FollowRef::Embedded(self),
        };
        let inbox = Url::parse(&inbox).map_err(|e| ApubError::Malformed(e.to_string()))?;
        outgoing::enqueue(conn, data, &accept.id, &accept.actor, &accept, vec![inbox]).await?;
        Ok(())
    }
}

/// The Follow an Accept answers: embedded (Lemmy, Mastodon, us) or only its id.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum FollowRef {
    Embedded(Follow),
    Id(Url),
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accept {
    #[serde(rename = "type")]
    pub kind: AcceptType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    pub object: FollowRef,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
}

impl Accept {
    pub(super) fn verify(&self) -> Result<(), ApubError> {
        if let FollowRef::Embedded(follow) = &self.object {
            if follow.object != self.actor {
                return Err(ApubError::Malformed(
                    "Accept of a Follow of someone else".into(),
                ));
            }
        }
        Ok(())
    }

    /// The actor we asked to follow accepted: the follow becomes active.
    pub(super) async fn apply(self, conn: &mut AsyncPgConnection) -> Result<(), ApubError> {
        let accepted = match &self.object {
            FollowRef::Embedded(follow) => {
                federation::accept_follow(conn, self.actor.as_str(), follow.actor.as_str()).await?
            }
            FollowRef::Id(follow_id) => {
                federation::accept_follow_by_activity(conn, self.actor.as_str(), follow_id.as_str())
                    .await?
            }
        };
        if !accepted {
            tracing::info!(actor = %self.actor, "Accept of a follow we do not know; ignored");
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Undo {
    #[serde(rename = "type")]
    pub kind: UndoType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    /// Only an embedded Follow is handled here; an Undo of anything else is not this variant.
    pub object: Follow,
    #[serde(
        default,
        deserialize_with = "deserialize_audience",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
}

impl Undo {
    pub fn of(data: &FedData, follow: Follow) -> Undo {
        Undo {
            kind: UndoType::Undo,
            id: new_activity_id(data, "undo"),
            actor: follow.actor.clone(),
            to: vec![follow.object.clone()],
            object: follow,
        }
    }

    pub(super) fn verify(&self) -> Result<(), ApubError> {
        if self.object.actor != self.actor || host_of(&self.object.id) != host_of(&self.actor) {
            return Err(ApubError::Malformed("Undo of someone else's Follow".into()));
        }
        Ok(())
    }

    pub(super) async fn apply(self, conn: &mut AsyncPgConnection) -> Result<(), ApubError> {
        federation::delete_follow(conn, self.object.object.as_str(), self.actor.as_str()).await?;
        Ok(())
    }
}
