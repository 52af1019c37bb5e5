//! Follow and Accept (Undo{Follow} is in `undo`).

use crate::{
    objects::{person_of, ApubActor},
    queue,
    vocabulary::{deserialize_audience, deserialize_id, new_activity_id},
    ApubError, FedData,
};
use activitypub_federation::{
    config::Data,
    kinds::activity::{AcceptType, FollowType},
};
use cenacle_core::{
    federation::{self, AcceptedFollow, FollowAnswer},
    inbound::Outcome,
    model::{Group, PersonActor},
    Conn, CoreError,
};
use cenacle_domain::origin::Forgery;
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

    /// A Follow of one of our actors, by a person.
    pub fn prepare(
        self,
        data: &Data<FedData>,
        actor: ApubActor,
    ) -> Result<(Follow, PersonActor), ApubError> {
        if !data.is_local(&self.object) {
            return Err(ApubError::Malformed(
                "Follow of an actor that is not on this instance".into(),
            ));
        }
        Ok((self, person_of(actor)?))
    }
}

/// Someone follows one of our groups or members: the follow is recorded and answered with an
/// Accept, together (private groups' follows wait, unanswered).
pub async fn apply_follow(
    conn: &mut Conn,
    data: &FedData,
    follow: Follow,
    follower: &PersonActor,
) -> Result<Outcome, CoreError> {
    let answer =
        federation::receive_follow(conn, follower, follow.object.as_str(), follow.id.as_str())
            .await?;
    let FollowAnswer::Accept { inbox } = answer else {
        return Ok(Outcome::Applied);
    };
    let accept = Accept {
        kind: AcceptType::Accept,
        id: new_activity_id(data, "accept"),
        actor: follow.object.clone(),
        to: vec![follow.actor.clone()],
        object: FollowRef::Embedded(follow),
    };
    queue::send(conn, data, &accept.id, &accept.actor, &accept, [inbox]).await?;
    Ok(Outcome::Applied)
}

/// `person`, one of our members who follows `group` elsewhere, is no longer banned from it:
/// the ban was lifted (an `Undo{Block}` the group announced, see `announce`) or ran out
/// (`crate::follows::follow_again_after_bans_ran_out`). Their Follow is sent again: the
/// group's server dropped their follow with the ban (Lemmy's and ours do), while ours stayed
/// here (it carries what the group announces, the lifting included); without a new Follow
/// they would show as following and receive nothing. Nothing is sent when they no longer
/// follow it here.
pub async fn follow_again(
    conn: &mut Conn,
    data: &FedData,
    group: &Group,
    person: &PersonActor,
) -> Result<(), CoreError> {
    let Some(person_id) = person.ap_id.as_deref() else {
        return Ok(());
    };
    let (Ok(follower), Ok(target)) = (Url::parse(person_id), Url::parse(&group.ap_id)) else {
        return Ok(());
    };
    let follow = Follow::new(data, &follower, &target);
    if federation::renew_follow(conn, person, &group.ap_id, follow.id.as_str()).await? {
        // To the group's own inbox, as the first Follow went (`follows::follow`).
        let inbox = group.inbox_url.clone();
        queue::send(conn, data, &follow.id, &follower, &follow, [inbox]).await?;
    }
    Ok(())
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
    /// An Accept by the followed actor only.
    pub fn prepare(self) -> Result<Accept, ApubError> {
        // Only the followed actor accepts a Follow.
        if let FollowRef::Embedded(follow) = &self.object {
            if follow.object != self.actor {
                return Err(CoreError::Forged(Forgery::NotTheOrigin).into());
            }
        }
        Ok(self)
    }
}

/// The actor we asked to follow accepted: the follow becomes active.
pub async fn apply_accept(conn: &mut Conn, accept: &Accept) -> Result<Outcome, CoreError> {
    let follow = match &accept.object {
        FollowRef::Embedded(f) => AcceptedFollow::Follower(f.actor.as_str()),
        FollowRef::Id(id) => AcceptedFollow::Activity(id.as_str()),
    };
    Ok(
        if federation::follow_accepted(conn, accept.actor.as_str(), follow).await? {
            Outcome::Applied
        } else {
            Outcome::Ignored("unknown_follow")
        },
    )
}
