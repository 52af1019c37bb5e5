//! Activities we accept in inboxes, one file per family, and the shapes we send.
//!
//! Reading is tolerant (DESIGN.md, INTEROP.md): references may be IRIs or embedded objects,
//! `to`/`cc` one value or many, `@context` anything. Writing follows what Lemmy and Mastodon
//! expect. Each family receives in two steps, which the inbox runs:
//! - `prepare`: the checks that need nothing stored (origin rules on ids) and the fetches of
//!   what it needs from other servers — before any transaction, so no HTTP call ever holds
//!   a database connection;
//! - `apply`: on the connection of the one transaction that also records the activity's id,
//!   through the use cases of `cenacle_core` (`inbound`), so a replay changes nothing and a
//!   failure applies nothing.

pub mod announce;
pub mod block;
pub mod create_or_update;
pub mod delete;
pub mod flag;
pub mod follow;
pub mod lock;
pub mod moderation;
pub mod reports_and_bans;
pub mod undo;
pub mod update_group;
pub mod vote;

use crate::{
    objects::{person_of, ApubActor},
    vocabulary::deserialize_id,
    ApubError, FedData,
};
use activitypub_federation::config::Data;
use cenacle_core::{
    inbound::{IncomingObject, Outcome},
    model::{PersonActor, RemoteGroup},
    Conn, CoreError,
};
use serde::{Deserialize, Serialize};
use url::Url;

pub use announce::Announce;
pub use block::BlockUser;
pub use create_or_update::{CreateOrUpdate, CreateOrUpdateType};
pub use delete::DeleteContent;
pub use flag::{Flag, Resolve};
pub use follow::{Accept, Follow, FollowRef};
pub use lock::LockPost;
pub use moderation::{AddOrRemove, CollectionChange};
pub use undo::{Undo, Undone};
pub use update_group::UpdateGroup;
pub use vote::{VoteActivity, VoteType};

/// Everything an inbox accepts. Variants are tried in order; `Other` takes any well-formed
/// activity we do not handle (yet): it is verified, recorded and acknowledged, never applied,
/// because peers retry what we refuse.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum InboxActivity {
    Follow(Follow),
    Accept(Accept),
    Undo(Box<Undo>),
    UpdateGroup(Box<UpdateGroup>),
    CreateOrUpdate(Box<CreateOrUpdate>),
    Vote(VoteActivity),
    Delete(DeleteContent),
    Lock(LockPost),
    Collection(CollectionChange),
    Announce(Announce),
    Flag(Flag),
    Resolve(Resolve),
    Block(BlockUser),
    Other(OtherActivity),
}

#[derive(Debug, Deserialize, Serialize)]
pub struct OtherActivity {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
}

/// A ban or its lifting, with the people it concerns.
pub struct PreparedBlock {
    block: BlockUser,
    moderator: PersonActor,
    person: PersonActor,
    /// The Undo that lifts it (None: the ban itself).
    undo: Option<Url>,
}

/// An activity with everything it needs at hand, ready to apply in one transaction.
pub enum Prepared {
    Follow(Follow, PersonActor),
    Accept(Accept),
    UndoFollow(Follow),
    Vote {
        voter: PersonActor,
        object: Url,
        vote: Option<cenacle_domain::content::Vote>,
        vote_id: Url,
    },
    UpdateGroup(RemoteGroup),
    CreateOrUpdate(CreateOrUpdateType, IncomingObject, PersonActor),
    Delete(Url, PersonActor),
    Moderation(Box<moderation::PreparedModeration>),
    Announce(Box<announce::PreparedAnnounce>),
    Flag(Box<(Flag, PersonActor)>),
    Resolve(Box<(Resolve, PersonActor)>),
    /// A ban, or its lifting by the Undo `undo`, by the moderator, of the person.
    Block(Box<PreparedBlock>),
    /// Acknowledged, nothing to apply: why.
    Nothing(&'static str),
}

impl InboxActivity {
    /// Checks the activity sent by `actor` (its signature already verified) and fetches what
    /// it needs.
    pub async fn prepare(
        self,
        data: &Data<FedData>,
        actor: ApubActor,
    ) -> Result<Prepared, ApubError> {
        Ok(match self {
            InboxActivity::Follow(a) => {
                let (follow, follower) = a.prepare(data, actor)?;
                Prepared::Follow(follow, follower)
            }
            InboxActivity::Accept(a) => Prepared::Accept(a.prepare()?),
            InboxActivity::Undo(a) => {
                let id = a.id.clone();
                match a.prepare(actor)? {
                    (Undone::Follow(follow), _) => Prepared::UndoFollow(follow),
                    (Undone::Vote(vote), voter) => Prepared::Vote {
                        voter,
                        object: vote.object,
                        vote: None,
                        vote_id: vote.id,
                    },
                    (Undone::Block(block), moderator) => Prepared::Block(Box::new(PreparedBlock {
                        person: reports_and_bans::banned_person(data, &block).await?,
                        block,
                        moderator,
                        undo: Some(id),
                    })),
                    (undone, person) => match moderation::Asked::undone(undone) {
                        Some(asked) => Prepared::Moderation(Box::new(
                            asked.prepare(data, person, id, true).await?,
                        )),
                        // An author's own Delete is not undone (Lemmy restores its own
                        // deletions with an Undo too: not supported yet).
                        None => Prepared::Nothing("undo_not_applied"),
                    },
                }
            }
            InboxActivity::UpdateGroup(a) => Prepared::UpdateGroup(
                a.prepare(
                    data.ctx
                        .settings
                        .federation
                        .allow_insecure_loopback_federation,
                )?,
            ),
            InboxActivity::CreateOrUpdate(a) => {
                let (kind, object, author) = a.prepare(actor)?;
                Prepared::CreateOrUpdate(kind, object, author)
            }
            InboxActivity::Vote(a) => Prepared::Vote {
                voter: person_of(actor)?,
                vote: Some(a.vote()),
                object: a.object,
                vote_id: a.id,
            },
            // Lemmy: a Delete with a summary is a moderator's removal.
            InboxActivity::Delete(a) if a.summary.is_some() => {
                let id = a.id.clone();
                Prepared::Moderation(Box::new(
                    moderation::Asked::Remove(a)
                        .prepare_direct(data, actor, id, false)
                        .await?,
                ))
            }
            InboxActivity::Delete(a) => Prepared::Delete(a.object, person_of(actor)?),
            InboxActivity::Lock(a) => {
                let id = a.id.clone();
                Prepared::Moderation(Box::new(
                    moderation::Asked::Lock(a)
                        .prepare_direct(data, actor, id, false)
                        .await?,
                ))
            }
            InboxActivity::Collection(a) => {
                let id = a.id.clone();
                Prepared::Moderation(Box::new(
                    moderation::Asked::Collection(a)
                        .prepare_direct(data, actor, id, false)
                        .await?,
                ))
            }
            InboxActivity::Announce(a) => match a.prepare(data, actor).await? {
                Ok(ready) => Prepared::Announce(Box::new(ready)),
                Err(why) => Prepared::Nothing(why),
            },
            InboxActivity::Flag(a) => Prepared::Flag(Box::new((a, person_of(actor)?))),
            InboxActivity::Resolve(a) => Prepared::Resolve(Box::new((a, person_of(actor)?))),
            InboxActivity::Block(block) => Prepared::Block(Box::new(PreparedBlock {
                person: reports_and_bans::banned_person(data, &block).await?,
                block,
                moderator: person_of(actor)?,
                undo: None,
            })),
            InboxActivity::Other(a) => {
                tracing::debug!(kind = %a.kind, id = %a.id, "activity of a kind we do not apply");
                Prepared::Nothing("kind_not_applied")
            }
        })
    }
}

impl Prepared {
    /// Applies it on the caller's transaction. What a group of ours applied is relayed by the
    /// caller (`Outcome::AppliedInOurGroup`).
    pub async fn apply(self, conn: &mut Conn, data: &FedData) -> Result<Outcome, CoreError> {
        let ctx = &data.ctx;
        match self {
            Prepared::Follow(follow, follower) => {
                follow::apply_follow(conn, data, follow, &follower).await
            }
            Prepared::Accept(accept) => follow::apply_accept(conn, &accept).await,
            Prepared::UndoFollow(follow) => undo::apply_undo_follow(conn, &follow).await,
            Prepared::Vote {
                voter,
                object,
                vote,
                vote_id,
            } => {
                cenacle_core::inbound::vote(
                    conn,
                    ctx,
                    &voter,
                    object.as_str(),
                    vote,
                    vote_id.as_str(),
                )
                .await
            }
            Prepared::UpdateGroup(group) => update_group::apply(conn, &group).await,
            Prepared::CreateOrUpdate(kind, object, author) => {
                create_or_update::apply(conn, ctx, kind, &object, &author).await
            }
            Prepared::Delete(object, person) => {
                cenacle_core::inbound::delete(conn, ctx, &person, object.as_str()).await
            }
            Prepared::Moderation(moderation) => moderation.apply(conn, None).await,
            Prepared::Announce(announce) => announce.apply(conn, data).await,
            Prepared::Flag(flag) => {
                reports_and_bans::apply_flag(conn, data, &flag.0, &flag.1, None).await
            }
            Prepared::Resolve(resolve) => {
                reports_and_bans::apply_resolve(conn, data, &resolve.0, &resolve.1, None).await
            }
            Prepared::Block(b) => reports_and_bans::apply_block(
                conn,
                &b.block,
                &b.moderator,
                &b.person,
                b.undo.as_ref(),
                None,
            )
            .await
            .map(|(outcome, _)| outcome),
            Prepared::Nothing(why) => Ok(Outcome::Ignored(why)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_and_audiences_are_read_tolerantly() {
        let follow: InboxActivity = serde_json::from_value(json!({
            "@context": ["https://www.w3.org/ns/activitystreams", {"x": "y"}],
            "type": "Follow",
            "id": "https://b.example/f/1",
            "actor": {"id": "https://b.example/u/pierre", "type": "Person"},
            "object": "https://a.example/g/rust",
            "to": "https://a.example/g/rust"
        }))
        .unwrap();
        let InboxActivity::Follow(follow) = follow else {
            panic!("not a Follow")
        };
        assert_eq!(follow.actor.as_str(), "https://b.example/u/pierre");
        assert_eq!(follow.to.len(), 1);

        let like: InboxActivity = serde_json::from_value(json!({
            "type": "Like", "id": "https://b.example/l/1", "actor": "https://b.example/u/pierre",
            "object": "https://a.example/p/1", "content": "👍"
        }))
        .unwrap();
        assert!(
            matches!(like, InboxActivity::Vote(_)),
            "a Like with an emoji (FEP-c0e0) is a like"
        );
        let flag: InboxActivity = serde_json::from_value(json!({
            "type": "Flag", "id": "https://b.example/f/9", "actor": "https://b.example/u/pierre",
            "object": "https://a.example/p/1"
        }))
        .unwrap();
        assert!(matches!(flag, InboxActivity::Flag(_)));
        let lock: InboxActivity = serde_json::from_value(json!({
            "type": "Lock", "id": "https://b.example/l/9", "actor": "https://b.example/u/pierre",
            "object": "https://a.example/p/1"
        }))
        .unwrap();
        assert!(matches!(lock, InboxActivity::Lock(_)), "a moderator's Lock");

        let broken = serde_json::from_value::<InboxActivity>(
            json!({"type": "Follow", "actor": "https://b.example/u/p"}),
        );
        assert!(broken.is_err(), "an activity without id is malformed");
    }

    #[test]
    fn an_undo_embeds_its_follow_or_its_vote() {
        let undo: InboxActivity = serde_json::from_value(json!({
            "type": "Undo", "id": "https://b.example/u/1", "actor": "https://b.example/u/pierre",
            "object": {"type": "Follow", "id": "https://b.example/f/1", "actor": "https://b.example/u/pierre", "object": "https://a.example/g/rust"}
        }))
        .unwrap();
        assert!(matches!(
            undo,
            InboxActivity::Undo(u) if matches!(u.object, Undone::Follow(_))
        ));
        let undo: InboxActivity = serde_json::from_value(json!({
            "type": "Undo", "id": "https://b.example/u/2", "actor": "https://b.example/u/pierre",
            "object": {"type": "Like", "id": "https://b.example/l/1", "actor": "https://b.example/u/pierre", "object": "https://a.example/p/1"}
        }))
        .unwrap();
        assert!(matches!(
            undo,
            InboxActivity::Undo(u) if matches!(u.object, Undone::Vote(_))
        ));
    }
}
