//! Undo of a Follow or of a vote. An Undo undoes only its own actor's activity.

use super::{follow::Follow, person_actor, vote::VoteActivity, Prepared};
use crate::{
    objects::ApubActor,
    vocabulary::{deserialize_audience, deserialize_id, new_activity_id},
    ApubError, FedData,
};
use activitypub_federation::kinds::activity::UndoType;
use cenacle_core::{federation, inbound::Outcome, Conn, CoreError};
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
}

impl Undone {
    pub fn id_and_actor(&self) -> (&Url, &Url) {
        match self {
            Undone::Follow(f) => (&f.id, &f.actor),
            Undone::Vote(v) => (&v.id, &v.actor),
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
}

impl Undo {
    /// Our member's Undo of their Follow.
    pub fn of_follow(data: &FedData, follow: Follow) -> Undo {
        Undo {
            kind: UndoType::Undo,
            id: new_activity_id(data, "undo"),
            actor: follow.actor.clone(),
            to: vec![follow.object.clone()],
            object: Undone::Follow(follow),
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

    pub(super) fn prepare(self, actor: ApubActor) -> Result<Prepared, ApubError> {
        self.check()?;
        let person = person_actor(actor)?.row;
        Ok(match self.object {
            Undone::Follow(follow) => Prepared::UndoFollow(follow),
            Undone::Vote(vote) => Prepared::Vote {
                voter: person,
                object: vote.object,
                vote: None,
                vote_id: vote.id,
            },
        })
    }
}

/// A remote follower stops following one of our actors.
pub(super) async fn apply_undo_follow(
    conn: &mut Conn,
    follow: &Follow,
) -> Result<Outcome, CoreError> {
    Ok(
        if federation::follow_undone(conn, follow.object.as_str(), follow.actor.as_str()).await? {
            Outcome::Applied
        } else {
            Outcome::Ignored("unknown_follow")
        },
    )
}
