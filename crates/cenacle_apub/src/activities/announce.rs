//! Announce: a group elsewhere relays what it accepted (FEP-1b12). We mirror it when our
//! members follow that group, under the origin rules: the announced activity must come from
//! its actor's server, be addressed to that group, and only touch that group's content. (Our
//! own groups' Announces are built by `outgoing::relay`.)

use super::{
    block::BlockUser,
    create_or_update::{CreateOrUpdate, CreateOrUpdateType},
    delete::DeleteContent,
    flag::{Flag, Resolve},
    follow::follow_again,
    lock::LockPost,
    moderation::{Asked, CollectionChange, PreparedModeration},
    undo::{Undo, Undone},
    vote::VoteActivity,
};
use crate::{
    objects::{content::ContentJson, person::ApubPerson, ApubActor},
    vocabulary::{deserialize_audience, deserialize_id},
    ApubError, FedData,
};
use activitypub_federation::{
    config::Data,
    fetch::{fetch_object_http, object_id::ObjectId},
    kinds::activity::AnnounceType,
};
use cenacle_core::{
    federation,
    inbound::{self, IncomingObject, Outcome},
    model::{Group, PersonActor},
    published, Conn, CoreError,
};
use cenacle_domain::origin::{check_addressed_to, check_object_on_actor_host};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// How many missing replied-to objects we fetch for one reply (deliveries race: a reply may
/// arrive before what it replies to). Bounded, so that a chain cannot make us fetch forever.
const MAX_PARENT_FETCHES: usize = 8;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announce {
    #[serde(rename = "type")]
    pub kind: AnnounceType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    pub object: Value,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
}

/// What a group Announces that we mirror.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Announced {
    CreateOrUpdate(Box<CreateOrUpdate>),
    Vote(VoteActivity),
    Undo(Box<Undo>),
    Delete(DeleteContent),
    Block(BlockUser),
    Lock(LockPost),
    Collection(CollectionChange),
    /// A report the group forwards to its moderators' instances (Lemmy does).
    Flag(Flag),
    /// A report's resolution, forwarded the same way.
    Resolve(Resolve),
}

impl Announced {
    fn id_and_actor(&self) -> (&Url, &Url) {
        match self {
            Announced::CreateOrUpdate(a) => (&a.id, &a.actor),
            Announced::Vote(a) => (&a.id, &a.actor),
            Announced::Undo(a) => (&a.id, &a.actor),
            Announced::Delete(a) => (&a.id, &a.actor),
            Announced::Block(a) => (&a.id, &a.actor),
            Announced::Lock(a) => (&a.id, &a.actor),
            Announced::Collection(a) => (&a.id, &a.actor),
            Announced::Flag(a) => (&a.id, &a.actor),
            Announced::Resolve(a) => (&a.id, &a.actor),
        }
    }

    /// An announced activity must be addressed to the announcing group: a post always (Lemmy
    /// requires it too), votes, Undos and Deletes when they carry addressing at all. A reply
    /// belongs to the group through what it replies to, checked when it is mirrored (Mastodon
    /// replies name only the people they answer).
    fn check_addressing(&self, group: &Group) -> Result<(), CoreError> {
        if let Announced::CreateOrUpdate(activity) = self {
            if activity.object.in_reply_to.is_some() {
                return Ok(());
            }
        }
        let required = matches!(self, Announced::CreateOrUpdate(_));
        let addressing = self.addressing();
        let addressing: Vec<&str> = addressing.iter().map(String::as_str).collect();
        check_addressed_to(
            &group.ap_id,
            group.followers_url.as_deref(),
            &addressing,
            required,
        )
        .map_err(CoreError::Forged)
    }

    /// Its `to`, `cc` and `audience` (and its object's, for a Create or Update).
    fn addressing(&self) -> Vec<String> {
        match self {
            Announced::CreateOrUpdate(a) => a.incoming().addressing,
            Announced::Vote(a) => a.audience.iter().map(Url::to_string).collect(),
            Announced::Undo(a) => {
                let inner: Vec<Url> = match &a.object {
                    Undone::Vote(v) => v.audience.iter().cloned().collect(),
                    Undone::Follow(_) => vec![],
                    Undone::Block(b) => vec![b.target.clone()],
                    Undone::Delete(d) => d.to.iter().chain(&d.cc).cloned().collect(),
                    Undone::Lock(l) => l.to.iter().chain(&l.cc).cloned().collect(),
                };
                a.to.iter()
                    .chain(&a.cc)
                    .chain(&inner)
                    .map(Url::to_string)
                    .collect()
            }
            Announced::Delete(a) => a.to.iter().chain(&a.cc).map(Url::to_string).collect(),
            Announced::Block(a) => a.addressing(),
            Announced::Lock(a) => {
                a.to.iter()
                    .chain(&a.cc)
                    .chain(&a.audience)
                    .map(Url::to_string)
                    .collect()
            }
            Announced::Collection(a) => {
                a.to.iter()
                    .chain(&a.cc)
                    .chain(&a.audience)
                    .map(Url::to_string)
                    .collect()
            }
            Announced::Flag(a) => a.to.iter().chain(&a.audience).map(Url::to_string).collect(),
            Announced::Resolve(a) => a.to.iter().chain(&a.audience).map(Url::to_string).collect(),
        }
    }
}

/// An announced activity with its actor and the objects it needs, fetched.
pub struct PreparedAnnounce {
    group: Group,
    announced: Announced,
    actor: PersonActor,
    /// For a reply: the replied-to objects we lacked, root first, with their authors. Only the
    /// reply's author is the inbox's announced actor: each of these authors is asked the same
    /// keep-out rule in the transaction, before their object is stored (a banned person's, or
    /// a blocked instance's, is not mirrored, nor the reply under it: see
    /// `inbound::announced_create`).
    parents: Vec<(IncomingObject, PersonActor)>,
    /// For a ban or its lifting: the person banned.
    banned: Option<PersonActor>,
    /// A moderator's action (removal, lock, pin, moderator list, or their Undo), prepared.
    moderation: Option<PreparedModeration>,
}

impl Announce {
    /// What the group announces, checked, with what it needs fetched; or, when there is
    /// nothing to mirror, why.
    pub async fn prepare(
        self,
        data: &Data<FedData>,
        actor: ApubActor,
    ) -> Result<Result<PreparedAnnounce, &'static str>, ApubError> {
        let Some(group) = actor.right().map(|g| g.row) else {
            // A person's boost (Mastodon): nothing for us to mirror.
            return Ok(Err("announce_by_a_person"));
        };
        if group.local {
            return Err(ApubError::Malformed("our own group's Announce".into()));
        }
        let Ok(announced) = serde_json::from_value::<Announced>(self.object) else {
            return Ok(Err("announced_kind_not_mirrored"));
        };
        let (inner_id, inner_actor) = announced.id_and_actor();
        check_object_on_actor_host(inner_id.as_str(), inner_actor.as_str())
            .map_err(CoreError::Forged)?;
        announced.check_addressing(&group)?;
        if let Announced::Undo(undo) = &announced {
            undo.check()?;
        }
        // Before any fetch: a copy already applied, or a group nobody here follows, costs
        // no HTTP request (the transaction checks both again).
        {
            let mut conn = data.db.conn().await?;
            if federation::received_before(&mut conn, self.id.as_str()).await? {
                return Ok(Err("already_received"));
            }
            if !federation::followed_here(&mut conn, &data.ctx, &group.ap_id).await? {
                return Ok(Err("group_not_followed"));
            }
        }
        // A person of a blocked instance (or, in allow-list mode, of one not allowed): the
        // group relays what it accepted, but we neither fetch from that instance nor apply
        // it. Acknowledged, so that the group does not retry; a person we know is checked
        // again in the transaction, with the host their handle names.
        let inner_host = crate::http_client::host_of(inner_actor);
        if crate::http_client::is_blocked(&data.db, &inner_host).await? {
            tracing::info!(actor = %inner_actor, group = %group.ap_id, host = %inner_host, "announced activity of a person of a blocked instance");
            return Ok(Err("blocked_instance"));
        }
        let actor = person(data, inner_actor).await?;
        let inner_id = inner_id.clone();
        let asked = match &announced {
            Announced::Delete(d) if d.summary.is_some() => Some((Asked::Remove(d.clone()), false)),
            Announced::Lock(l) => Some((Asked::Lock(l.clone()), false)),
            Announced::Collection(c) => Some((Asked::Collection(c.clone()), false)),
            Announced::Undo(u) => Asked::undone(u.object.clone()).map(|a| (a, true)),
            _ => None,
        };
        let moderation = match asked {
            Some((asked, undo)) => Some(asked.prepare(data, actor.clone(), inner_id, undo).await?),
            None => None,
        };
        let parents = match &announced {
            Announced::CreateOrUpdate(activity) => {
                missing_parents(data, activity.object.in_reply_to.clone()).await?
            }
            _ => vec![],
        };
        let banned = match &announced {
            Announced::Block(block) => Some(block),
            Announced::Undo(undo) => match &undo.object {
                Undone::Block(block) => Some(block),
                _ => None,
            },
            _ => None,
        };
        let banned = match banned {
            Some(block) => Some(super::reports_and_bans::banned_person(data, block).await?),
            None => None,
        };
        Ok(Ok(PreparedAnnounce {
            group,
            announced,
            actor,
            parents,
            banned,
            moderation,
        }))
    }
}

/// The replied-to objects we do not have, fetched from their origin with their authors,
/// root first. Whether their authors are kept out is read in the transaction, not here: a
/// ban committed between this fetch and the transaction must be seen, or wait for it.
async fn missing_parents(
    data: &Data<FedData>,
    mut next: Option<Url>,
) -> Result<Vec<(IncomingObject, PersonActor)>, ApubError> {
    let mut parents = Vec::new();
    while let Some(parent) = next.take() {
        if known(data, &parent).await? {
            break;
        }
        if parents.len() == MAX_PARENT_FETCHES {
            return Err(ApubError::Malformed("reply chain too long to fetch".into()));
        }
        let fetched = fetch_object_http::<_, ContentJson>(&parent, data)
            .await?
            .object;
        let author = person(data, &fetched.attributed_to).await?;
        next = fetched.in_reply_to.clone();
        parents.push((fetched.incoming(&[], &[]), author));
    }
    parents.reverse();
    Ok(parents)
}

async fn person(data: &Data<FedData>, id: &Url) -> Result<PersonActor, ApubError> {
    let person: ApubPerson = ObjectId::<ApubPerson>::from(id.clone())
        .dereference(data)
        .await?;
    Ok(person.row)
}

/// A ban (or its lifting) that `group` announces, applied on our copy of it.
async fn announced_block(
    conn: &mut Conn,
    group: &Group,
    moderator: &PersonActor,
    banned: Option<&PersonActor>,
    block: &BlockUser,
    undo: Option<&Url>,
) -> Result<(Outcome, bool), CoreError> {
    if moderator.local {
        return Ok((Outcome::Ignored("our_own_activity"), false));
    }
    let Some(person) = banned else {
        return Ok((Outcome::Ignored("unknown_person"), false));
    };
    super::reports_and_bans::apply_block(conn, block, moderator, person, undo, Some(group)).await
}

/// Whether we have the post or comment `id`.
async fn known(data: &Data<FedData>, id: &Url) -> Result<bool, ApubError> {
    let mut conn = data.db.conn().await?;
    Ok(published::exists(&mut conn, id.as_str()).await?)
}

impl PreparedAnnounce {
    /// Mirrors it, when our members follow the group.
    pub async fn apply(self, conn: &mut Conn, data: &FedData) -> Result<Outcome, CoreError> {
        let ctx = &data.ctx;
        let group = &self.group;
        if !federation::followed_here(conn, ctx, &group.ap_id).await? {
            return Ok(Outcome::Ignored("group_not_followed"));
        }
        let actor = &self.actor;
        if let Some(moderation) = self.moderation {
            return moderation.apply(conn, Some(group)).await;
        }
        let banned = self.banned.as_ref();
        match self.announced {
            Announced::CreateOrUpdate(activity) => {
                let object = activity.incoming();
                match activity.kind {
                    CreateOrUpdateType::Create => {
                        inbound::announced_create(conn, ctx, group, actor, &object, &self.parents)
                            .await
                    }
                    CreateOrUpdateType::Update => {
                        inbound::announced_update(conn, ctx, group, actor, &object).await
                    }
                }
            }
            Announced::Vote(vote) => {
                let choice = Some(vote.vote());
                inbound::announced_vote(
                    conn,
                    ctx,
                    group,
                    actor,
                    vote.object.as_str(),
                    choice,
                    vote.id.as_str(),
                )
                .await
            }
            Announced::Undo(undo) => match undo.object {
                Undone::Vote(vote) => {
                    inbound::announced_vote(
                        conn,
                        ctx,
                        group,
                        actor,
                        vote.object.as_str(),
                        None,
                        vote.id.as_str(),
                    )
                    .await
                }
                Undone::Follow(_) => Ok(Outcome::Ignored("announced_undo_of_follow")),
                Undone::Block(block) => {
                    let (outcome, follow_owed) =
                        announced_block(conn, group, actor, banned, &block, Some(&undo.id)).await?;
                    if let (true, Some(person)) = (follow_owed, banned) {
                        // The group's server dropped their follow with the ban.
                        follow_again(conn, data, group, person).await?;
                    }
                    Ok(outcome)
                }
                Undone::Delete(_) | Undone::Lock(_) => Ok(Outcome::Ignored("undo_not_applied")),
            },
            Announced::Block(block) => {
                let (outcome, _) =
                    announced_block(conn, group, actor, banned, &block, None).await?;
                Ok(outcome)
            }
            Announced::Lock(_) | Announced::Collection(_) => {
                unreachable!("prepared as moderation")
            }
            Announced::Delete(delete) => {
                inbound::announced_delete(conn, ctx, group, actor, delete.object.as_str()).await
            }
            Announced::Flag(flag) => {
                super::reports_and_bans::apply_flag(conn, data, &flag, actor, Some(group)).await
            }
            Announced::Resolve(resolve) => {
                super::reports_and_bans::apply_resolve(conn, data, &resolve, actor, Some(group))
                    .await
            }
        }
    }
}
