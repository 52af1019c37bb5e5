//! Undo of a Follow, a vote, or a moderator's removal or lock. An Undo undoes only its own
//! actor's activity.

use super::{delete::DeleteContent, follow::Follow, lock::LockPost, vote::VoteActivity};
use crate::{
    objects::{person_of, ApubActor},
    vocabulary::{deserialize_audience, deserialize_id, new_activity_id},
    ApubError, FedData,
};
use activitypub_federation::kinds::activity::UndoType;
use cenacle_core::{federation, inbound::Outcome, model::PersonActor, Conn, CoreError};
use cenacle_domain::origin::check_undo;
use serde::{Deserialize, Serialize};
use url::Url;

/// What an Undo undoes: embedded, as Lemmy and Mastodon send it (a bare id would make us
/// fetch it; we do not accept that yet).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Undone {
    Follow(Follow),
    Vote(VoteActivity),
    /// A moderator's removal (a Delete with a summary): the restore.
    Delete(DeleteContent),
    Lock(LockPost),
}

impl Undone {
    pub fn id_and_actor(&self) -> (&Url, &Url) {
        match self {
            Undone::Follow(f) => (&f.id, &f.actor),
            Undone::Vote(v) => (&v.id, &v.actor),
            Undone::Delete(d) => (&d.id, &d.actor),
            Undone::Lock(l) => (&l.id, &l.actor),
        }
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
    pub object: Undone,
    #[serde(
        default,
        deserialize_with = "deserialize_audience",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub to: Vec<Url>,
    /// Lemmy requires both `to` and `cc` on the Undo of a moderator's action.
    #[serde(
        default,
        deserialize_with = "deserialize_audience",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub cc: Vec<Url>,
}

impl Undo {
    /// Our member's Undo of their Follow.
    pub fn of_follow(data: &FedData, follow: Follow) -> Undo {
        Undo {
            kind: UndoType::Undo,
            id: new_activity_id(data, "undo"),
            actor: follow.actor.clone(),
            to: vec![follow.object.clone()],
            cc: vec![],
            object: Undone::Follow(follow),
        }
    }

    /// The Undo of a moderator's action (its embedded activity in full, as Lemmy reads it),
    /// addressed like the action.
    pub fn of_moderation(data: &FedData, undone: Undone, to: Vec<Url>, cc: Vec<Url>) -> Undo {
        let actor = undone.id_and_actor().1.clone();
        Undo {
            kind: UndoType::Undo,
            id: new_activity_id(data, "undo"),
            actor,
            object: undone,
            to,
            cc,
        }
    }

    /// Whether it undoes its own actor's activity (else forged).
    pub fn check(&self) -> Result<(), CoreError> {
        let (undone_id, undone_actor) = self.object.id_and_actor();
        check_undo(
            self.actor.as_str(),
            undone_actor.as_str(),
            undone_id.as_str(),
        )
        .map_err(CoreError::Forged)
    }

    /// What it undoes, once checked, with the person undoing it.
    pub fn prepare(self, actor: ApubActor) -> Result<(Undone, PersonActor), ApubError> {
        self.check()?;
        Ok((self.object, person_of(actor)?))
    }
}

/// A remote follower stops following one of our actors.
pub async fn apply_undo_follow(conn: &mut Conn, follow: &Follow) -> Result<Outcome, CoreError> {
    Ok(
        if federation::follow_undone(conn, follow.object.as_str(), follow.actor.as_str()).await? {
            Outcome::Applied
        } else {
            Outcome::Ignored("unknown_follow")
        },
    )
}
