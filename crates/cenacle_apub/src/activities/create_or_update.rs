//! Create and Update of posts (`Page`, and what Lemmy and Mastodon send as posts) and
//! comments (`Note` with `inReplyTo`), applied through `cenacle_core::inbound`: by the use
//! cases our members use, after the origin rules.

use crate::{
    objects::{content::ContentJson, person_of, ApubActor},
    vocabulary::{deserialize_audience, deserialize_id, new_activity_id},
    ApubError, FedData,
};
use cenacle_core::{
    inbound::{self, IncomingObject, Outcome},
    model::PersonActor,
    Conn, Context, CoreError,
};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum CreateOrUpdateType {
    Create,
    Update,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrUpdate {
    #[serde(rename = "type")]
    pub kind: CreateOrUpdateType,
    pub id: Url,
    #[serde(deserialize_with = "deserialize_id")]
    pub actor: Url,
    pub object: ContentJson,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub to: Vec<Url>,
    #[serde(default, deserialize_with = "deserialize_audience")]
    pub cc: Vec<Url>,
}

impl CreateOrUpdate {
    /// Our member's Create or Update of `object`, addressed as the object is.
    pub fn new(
        data: &FedData,
        kind: CreateOrUpdateType,
        actor: Url,
        object: ContentJson,
    ) -> CreateOrUpdate {
        let label = match kind {
            CreateOrUpdateType::Create => "create",
            CreateOrUpdateType::Update => "update",
        };
        CreateOrUpdate {
            kind,
            id: new_activity_id(data, label),
            actor,
            to: object.to.clone(),
            cc: object.cc.clone(),
            object,
        }
    }

    /// The object as core takes it, with the activity's addressing.
    pub fn incoming(&self) -> IncomingObject {
        self.object.incoming(&self.to, &self.cc)
    }

    /// The object as core takes it, with its author.
    pub fn prepare(
        self,
        actor: ApubActor,
    ) -> Result<(CreateOrUpdateType, IncomingObject, PersonActor), ApubError> {
        Ok((self.kind, self.incoming(), person_of(actor)?))
    }
}

pub async fn apply(
    conn: &mut Conn,
    ctx: &Context,
    kind: CreateOrUpdateType,
    object: &IncomingObject,
    author: &PersonActor,
) -> Result<Outcome, CoreError> {
    match kind {
        CreateOrUpdateType::Create => inbound::create(conn, ctx, author, object).await,
        CreateOrUpdateType::Update => inbound::update(conn, ctx, author, object).await,
    }
}
