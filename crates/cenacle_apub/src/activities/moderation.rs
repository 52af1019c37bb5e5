//! A group's moderators at work, in the shapes Lemmy 1.0 sends and reads (INTEROP.md):
//! removal (`Delete` with a `summary`) and its `Undo`, `Lock` and `Undo{Lock}`, pins
//! (`Add`/`Remove` with `target` = the group's `featured`) and the moderator list
//! (`Add`/`Remove` with `target` = its moderators collection). Whoever acts, the one rule
//! of `cenacle_domain::moderators` decides, through `cenacle_core::moderation`.

use super::{delete::DeleteContent, lock::LockPost, undo::Undone};
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
        person: Box<PersonActor>,
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
                        person: Box::new(person.row),
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
        Ok(Outcome::applied_in(group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activities::{lock::LockType, InboxActivity, Undo};
    use serde_json::json;

    fn parse(value: serde_json::Value) -> InboxActivity {
        serde_json::from_value(value).unwrap()
    }

    /// Lemmy 1.0's shapes (`crates/apub/apub/assets/lemmy/activities/`) read as moderation.
    #[test]
    fn lemmy_moderation_shapes_are_read_as_moderation() {
        let removal = json!({
            "actor": "http://enterprise.lemmy.ml/u/lemmy_beta",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": "http://ds9.lemmy.ml/comment/1",
            "cc": ["http://enterprise.lemmy.ml/c/main"],
            "audience": "https://enterprise.lemmy.ml/c/main",
            "type": "Delete",
            "summary": "bad comment",
            "id": "http://enterprise.lemmy.ml/activities/delete/42ca1a79"
        });
        assert!(
            matches!(parse(removal.clone()), InboxActivity::Delete(DeleteContent { summary: Some(ref s), .. }) if s == "bad comment")
        );
        let undo = json!({
            "actor": "http://enterprise.lemmy.ml/u/lemmy_beta", "type": "Undo",
            "id": "http://enterprise.lemmy.ml/activities/undo/a850cf21",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": ["http://enterprise.lemmy.ml/c/main"], "object": removal,
        });
        assert!(matches!(
            parse(undo),
            InboxActivity::Undo(u) if matches!(u.object, Undone::Delete(_))
        ));
        let lock = json!({
            "id": "http://lemmy-alpha:8541/activities/lock/cb48761d",
            "actor": "http://lemmy-alpha:8541/u/lemmy_alpha",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": "http://lemmy-alpha:8541/post/2",
            "cc": ["http://lemmy-alpha:8541/c/main"],
            "type": "Lock", "summary": "A reason for the lock",
            "audience": "http://lemmy-alpha:8541/c/main"
        });
        assert!(matches!(parse(lock.clone()), InboxActivity::Lock(_)));
        let undo_lock = json!({
            "id": "http://lemmy-alpha:8541/activities/undo/d6066719",
            "actor": "http://lemmy-alpha:8541/u/lemmy_alpha", "type": "Undo",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": ["http://lemmy-alpha:8541/c/main"], "object": lock,
        });
        assert!(matches!(
            parse(undo_lock),
            InboxActivity::Undo(u) if matches!(u.object, Undone::Lock(_))
        ));
        for (kind, target) in [
            ("Add", "https://ds9.lemmy.ml/c/main/featured"),
            ("Remove", "http://enterprise.lemmy.ml/c/main/moderators"),
        ] {
            let change = json!({
                "cc": ["https://ds9.lemmy.ml/c/main"], "type": kind,
                "id": "https://ds9.lemmy.ml/activities/add/47d911f5",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "actor": "https://ds9.lemmy.ml/u/lemmy_alpha",
                "object": "https://ds9.lemmy.ml/post/2", "target": target,
                // Lemmy's remove_mod.json has an audience that is not the group: tolerated.
                "audience": "http://enterprise.lemmy.ml/u/main"
            });
            assert!(matches!(parse(change), InboxActivity::Collection(_)));
        }
    }

    /// What we send reads back through the same parsers, with what Lemmy requires: `to` and
    /// `cc` present, a removal's object by id with its reason, Undos embedding their activity.
    #[test]
    fn our_moderation_shapes_read_back() {
        let url = |s: &str| Url::parse(s).unwrap();
        let removal = DeleteContent {
            kind: activitypub_federation::kinds::activity::DeleteType::Delete,
            id: url("https://a.example/activities/delete/1"),
            actor: url("https://a.example/u/mod"),
            object: url("https://b.example/p/1"),
            to: vec![url(crate::vocabulary::PUBLIC)],
            cc: vec![url("https://a.example/g/rust")],
            summary: Some("spam".into()),
        };
        let sent = serde_json::to_value(&removal).unwrap();
        assert_eq!(sent["object"], "https://b.example/p/1");
        assert!(sent["to"].is_array() && sent["cc"].is_array());
        let undo = Undo {
            kind: activitypub_federation::kinds::activity::UndoType::Undo,
            id: url("https://a.example/activities/undo/1"),
            actor: url("https://a.example/u/mod"),
            object: Undone::Delete(removal),
            to: vec![url(crate::vocabulary::PUBLIC)],
            cc: vec![url("https://a.example/g/rust")],
        };
        let sent = serde_json::to_value(&undo).unwrap();
        assert_eq!(sent["object"]["summary"], "spam");
        assert!(matches!(
            parse(sent),
            InboxActivity::Undo(u) if matches!(u.object, Undone::Delete(_))
        ));
        let lock = LockPost {
            kind: LockType::Lock,
            id: url("https://a.example/activities/lock/1"),
            actor: url("https://a.example/u/mod"),
            object: url("https://b.example/p/1"),
            to: vec![url(crate::vocabulary::PUBLIC)],
            cc: vec![url("https://a.example/g/rust")],
            summary: None,
            audience: Some(url("https://a.example/g/rust")),
        };
        assert!(matches!(
            parse(serde_json::to_value(&lock).unwrap()),
            InboxActivity::Lock(_)
        ));
        let pin = CollectionChange {
            kind: AddOrRemove::Add,
            id: url("https://a.example/activities/add/1"),
            actor: url("https://a.example/u/mod"),
            object: url("https://b.example/p/1"),
            target: url("https://a.example/g/rust/featured"),
            to: vec![url(crate::vocabulary::PUBLIC)],
            cc: vec![url("https://a.example/g/rust")],
            audience: None,
        };
        assert!(matches!(
            parse(serde_json::to_value(&pin).unwrap()),
            InboxActivity::Collection(_)
        ));
    }
}
