//! A group's moderators at work, in the shapes Lemmy 1.0 sends and reads (INTEROP.md):
//! removal (`Delete` with a `summary`) and its `Undo`, `Lock` and `Undo{Lock}`, pins
//! (`Add`/`Remove` with `target` = the group's `featured`) and the moderator list
//! (`Add`/`Remove` with `target` = its moderators collection). Whoever acts, the one rule
//! of `cenacle_domain::moderators` decides, through `cenacle_core::moderation`.

use super::{delete::DeleteContent, undo::Undone};
use crate::{
    objects::{person::ApubPerson, person_of, ApubActor},
    vocabulary::{deserialize_audience, deserialize_id, new_activity_id},
    ApubError, FedData,
};
use activitypub_federation::{config::Data, fetch::object_id::ObjectId};
use cenacle_core::{
    inbound::Outcome,
    model::{Group, PersonActor},
    moderation::{self, Act, Moderator},
    published, Conn, CoreError,
};
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

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum AddOrRemove {
    Add,
    Remove,
}

/// `Add`/`Remove` of a post to the group's `featured` (pin), or of a person to its
/// moderators collection.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionChange {
    #[serde(rename = "type")]
    pub kind: AddOrRemove,
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
    #[serde(
        default,
        deserialize_with = "crate::vocabulary::deserialize_opt_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub audience: Option<Url>,
}

/// The audience Lemmy requires on moderation activities: `to` Public (or the group's
/// followers, for a private group) and `cc` the group.
pub fn audience(group: &Group) -> (Vec<Url>, Vec<Url>) {
    crate::objects::content::audience_of(group)
}

impl DeleteContent {
    /// A moderator's removal: the object by id only, the reason as `summary` (Lemmy 1.0 reads
    /// a Delete with a summary as a removal).
    pub fn removal(data: &FedData, actor: Url, object: Url, group: &Group, reason: &str) -> Self {
        let (to, cc) = audience(group);
        DeleteContent {
            kind: activitypub_federation::kinds::activity::DeleteType::Delete,
            id: new_activity_id(data, "delete"),
            actor,
            object,
            to,
            cc,
            summary: Some(reason.to_owned()),
        }
    }
}

impl LockPost {
    pub fn new(data: &FedData, actor: Url, object: Url, group: &Group) -> Self {
        let (to, cc) = audience(group);
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

impl CollectionChange {
    pub fn new(
        data: &FedData,
        kind: AddOrRemove,
        actor: Url,
        object: Url,
        target: Url,
        group: &Group,
    ) -> Self {
        let (to, cc) = audience(group);
        CollectionChange {
            kind,
            id: new_activity_id(
                data,
                if kind == AddOrRemove::Add {
                    "add"
                } else {
                    "remove"
                },
            ),
            actor,
            object,
            target,
            to,
            cc,
            audience: Url::parse(&group.ap_id).ok(),
        }
    }
}

/// A moderation activity, checked and with the people it names fetched.
pub struct PreparedModeration {
    pub actor: PersonActor,
    pub act: PreparedAct,
    pub ap_id: Url,
}

pub enum PreparedAct {
    Remove {
        object: Url,
        reason: String,
    },
    Restore {
        object: Url,
    },
    Lock {
        object: Url,
        locked: bool,
    },
    Pin {
        object: Url,
        pinned: bool,
    },
    Moderator {
        person: PersonActor,
        add: bool,
        collection: Url,
    },
}

/// What a moderation activity (or the Undo of one) asks.
pub enum Asked {
    Remove(DeleteContent),
    Lock(LockPost),
    Collection(CollectionChange),
}

impl Asked {
    /// From an Undo's embedded activity, when it is a moderator's.
    pub fn undone(undone: Undone) -> Option<Asked> {
        match undone {
            Undone::Delete(d) if d.summary.is_some() => Some(Asked::Remove(d)),
            Undone::Lock(l) => Some(Asked::Lock(l)),
            _ => None,
        }
    }

    /// Checks its shape and fetches the person it names (an added moderator); `undo` for the
    /// Undo of it. `actor` is who signed it (or, inside an Announce, who did it).
    pub async fn prepare(
        self,
        data: &Data<FedData>,
        actor: PersonActor,
        ap_id: Url,
        undo: bool,
    ) -> Result<PreparedModeration, ApubError> {
        let act = match self {
            Asked::Remove(delete) if undo => PreparedAct::Restore {
                object: delete.object,
            },
            Asked::Remove(delete) => PreparedAct::Remove {
                object: delete.object,
                reason: delete.summary.unwrap_or_default(),
            },
            Asked::Lock(lock) => PreparedAct::Lock {
                object: lock.object,
                locked: !undo,
            },
            Asked::Collection(change) => {
                let add = change.kind == AddOrRemove::Add;
                if is_stored_content(data, &change.object).await? {
                    PreparedAct::Pin {
                        object: change.object,
                        pinned: add,
                    }
                } else if change.target.path().ends_with("/featured") {
                    return Err(ApubError::NotFound);
                } else {
                    let person: ApubPerson = ObjectId::<ApubPerson>::from(change.object)
                        .dereference(data)
                        .await?;
                    PreparedAct::Moderator {
                        person: person.row,
                        add,
                        collection: change.target,
                    }
                }
            }
        };
        Ok(PreparedModeration { actor, act, ap_id })
    }

    /// Prepared as sent directly to our inbox by `signer`.
    pub async fn prepare_direct(
        self,
        data: &Data<FedData>,
        signer: ApubActor,
        ap_id: Url,
        undo: bool,
    ) -> Result<PreparedModeration, ApubError> {
        let actor = person_of(signer)?;
        self.prepare(data, actor, ap_id, undo).await
    }
}

async fn is_stored_content(data: &Data<FedData>, id: &Url) -> Result<bool, ApubError> {
    let mut conn = data.db.conn().await?;
    Ok(published::exists(&mut conn, id.as_str()).await?)
}

impl PreparedModeration {
    /// Applies it through the use case our moderators use: sent directly (`announced_by`
    /// None) or relayed by the group elsewhere that holds the content.
    pub async fn apply(
        self,
        conn: &mut Conn,
        announced_by: Option<&Group>,
    ) -> Result<Outcome, CoreError> {
        if announced_by.is_some() && self.actor.local {
            // Our own member's action, coming back in the group's relay: already applied.
            return Ok(Outcome::Ignored("our_own_activity"));
        }
        let who = Moderator::Remote {
            person: &self.actor,
            announced_by,
        };
        let ap_id = Some(self.ap_id.as_str());
        let act = match &self.act {
            PreparedAct::Remove { object, reason } => Act::Remove {
                object: object.as_str(),
                reason,
            },
            PreparedAct::Restore { object } => Act::Restore {
                object: object.as_str(),
            },
            PreparedAct::Lock { object, locked } => Act::Lock {
                object: object.as_str(),
                locked: *locked,
            },
            PreparedAct::Pin { object, pinned } => Act::Pin {
                object: object.as_str(),
                pinned: *pinned,
            },
            PreparedAct::Moderator {
                person,
                add,
                collection,
            } => Act::Moderator {
                person,
                add: *add,
                collection: collection.as_str(),
            },
        };
        let group = moderation::apply_remote(conn, who, act, ap_id).await?;
        Ok(if group.local {
            Outcome::AppliedInOurGroup {
                group: Box::new(group),
                new_post: None,
            }
        } else {
            Outcome::Applied
        })
    }
}
