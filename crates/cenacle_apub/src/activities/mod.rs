//! Activities we accept in inboxes, and build to send.
//!
//! Reading is tolerant (DESIGN.md, INTEROP.md): references may be IRIs or embedded objects,
//! `to`/`cc` one value or many, `@context` anything. Writing follows what Lemmy and Mastodon
//! expect. Every accepted activity is applied in one transaction together with the record of
//! its id, so a replay is acknowledged and ignored, and a failure applies nothing.

pub mod content;
pub mod follow;
pub mod update;

use crate::{ApubError, FedData};
use activitypub_federation::{config::Data, traits::Activity};
use cenacle_db::federation;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

pub use follow::{Accept, Follow, Undo};
pub use update::UpdateGroup;

static DUPLICATES: std::sync::LazyLock<prometheus::IntCounter> = std::sync::LazyLock::new(|| {
    let counter = prometheus::IntCounter::new(
        "cenacle_inbox_duplicates_total",
        "Activities received again (same id), acknowledged and ignored",
    )
    .expect("metric");
    let _ = prometheus::register(Box::new(counter.clone()));
    counter
});

pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Everything an inbox accepts. Variants are tried in order; `Other` takes any well-formed
/// activity we do not handle (yet): it is verified, recorded and acknowledged, never applied,
/// because peers retry what we refuse.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum InboxActivity {
    Follow(Follow),
    Accept(Accept),
    Undo(Undo),
    UndoVote(content::UndoVote),
    UpdateGroup(Box<UpdateGroup>),
    CreateOrUpdate(Box<content::CreateOrUpdate>),
    Vote(content::VoteActivity),
    Delete(content::DeleteContent),
    Announce(content::Announce),
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

impl InboxActivity {
    fn parts(&self) -> (&Url, &Url) {
        match self {
            InboxActivity::Follow(a) => (&a.id, &a.actor),
            InboxActivity::Accept(a) => (&a.id, &a.actor),
            InboxActivity::Undo(a) => (&a.id, &a.actor),
            InboxActivity::UpdateGroup(a) => (&a.id, &a.actor),
            InboxActivity::UndoVote(a) => (&a.id, &a.actor),
            InboxActivity::CreateOrUpdate(a) => (&a.id, &a.actor),
            InboxActivity::Vote(a) => (&a.id, &a.actor),
            InboxActivity::Delete(a) => (&a.id, &a.actor),
            InboxActivity::Announce(a) => (&a.id, &a.actor),
            InboxActivity::Other(a) => (&a.id, &a.actor),
        }
    }

    pub fn kind(&self) -> &str {
        match self {
            InboxActivity::Follow(_) => "Follow",
            InboxActivity::Accept(_) => "Accept",
            InboxActivity::Undo(_) => "Undo",
            InboxActivity::UpdateGroup(_) => "Update",
            InboxActivity::UndoVote(_) => "Undo",
            InboxActivity::CreateOrUpdate(a) => match a.kind {
                content::CreateOrUpdateType::Create => "Create",
                content::CreateOrUpdateType::Update => "Update",
            },
            InboxActivity::Vote(a) => match a.kind {
                content::VoteType::Like => "Like",
                content::VoteType::Dislike => "Dislike",
            },
            InboxActivity::Delete(_) => "Delete",
            InboxActivity::Announce(_) => "Announce",
            InboxActivity::Other(a) => &a.kind,
        }
    }
}

#[async_trait::async_trait]
impl Activity for InboxActivity {
    type DataType = FedData;
    type Error = ApubError;

    fn id(&self) -> &Url {
        self.parts().0
    }

    fn actor(&self) -> &Url {
        self.parts().1
    }

    async fn verify(&self, data: &Data<FedData>) -> Result<(), ApubError> {
        match self {
            InboxActivity::Follow(a) => a.verify(data),
            InboxActivity::Accept(a) => a.verify(),
            InboxActivity::Undo(a) => a.verify(),
            InboxActivity::UpdateGroup(a) => a.verify(),
            InboxActivity::UndoVote(a) => a.verify(),
            InboxActivity::CreateOrUpdate(a) => a.verify(),
            InboxActivity::Vote(_) | InboxActivity::Delete(_) | InboxActivity::Announce(_) => {
                Ok(())
            }
            InboxActivity::Other(_) => Ok(()),
        }
    }

    async fn receive(self, data: &Data<FedData>) -> Result<(), ApubError> {
        let mut conn = data.ctx.conn().await?;
        let (id, actor) = (self.id().to_string(), self.actor().to_string());
        conn.transaction::<_, ApubError, _>(async |conn| {
            if !federation::record_received(conn, &id, &actor).await? {
                DUPLICATES.inc();
                tracing::info!(activity = %id, "duplicate activity acknowledged and ignored");
                return Ok(());
            }
            self.apply(conn, data).await
        })
        .await
    }
}

impl InboxActivity {
    async fn apply(
        self,
        conn: &mut AsyncPgConnection,
        data: &Data<FedData>,
    ) -> Result<(), ApubError> {
        match self {
            InboxActivity::Follow(a) => a.apply(conn, data).await,
            InboxActivity::Accept(a) => a.apply(conn).await,
            InboxActivity::Undo(a) => a.apply(conn).await,
            InboxActivity::UpdateGroup(a) => a.apply(conn).await,
            InboxActivity::UndoVote(a) => a.object.apply(conn, data, true).await,
            InboxActivity::CreateOrUpdate(a) => a.apply(conn, data).await,
            InboxActivity::Vote(a) => a.apply(conn, data, false).await,
            InboxActivity::Delete(a) => a.apply(conn, data).await,
            InboxActivity::Announce(a) => a.apply(conn, data).await,
            InboxActivity::Other(a) => {
                tracing::debug!(kind = %a.kind, id = %a.id, "activity of a kind we do not apply");
                Ok(())
            }
        }
    }
}

/// Reads a reference that may be an IRI or an embedded object with an `id`.
pub fn deserialize_id<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ref {
        Iri(Url),
        Object { id: Url },
    }
    Ok(match Ref::deserialize(d)? {
        Ref::Iri(url) | Ref::Object { id: url } => url,
    })
}

/// Reads `to`/`cc`: absent, one IRI, or many.
pub fn deserialize_audience<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Url>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Url),
        Many(Vec<serde_json::Value>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => vec![],
        Some(OneOrMany::One(url)) => vec![url],
        Some(OneOrMany::Many(values)) => values
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Url::parse(&s).ok(),
                serde_json::Value::Object(o) => {
                    o.get("id")?.as_str().and_then(|s| Url::parse(s).ok())
                }
                _ => None,
            })
            .collect(),
    })
}

/// A new activity id on this instance.
pub fn new_activity_id(data: &FedData, kind: &str) -> Url {
    Url::parse(&format!(
        "{}/activities/{kind}/{}",
        data.base(),
        uuid::Uuid::new_v4()
    ))
    .expect("valid url")
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
        assert!(matches!(flag, InboxActivity::Other(_)));
        assert_eq!(flag.kind(), "Flag");

        let broken = serde_json::from_value::<InboxActivity>(
            json!({"type": "Follow", "actor": "https://b.example/u/p"}),
        );
        assert!(broken.is_err(), "an activity without id is malformed");
    }

    #[test]
    fn an_undo_embeds_its_follow() {
        let undo: InboxActivity = serde_json::from_value(json!({
            "type": "Undo", "id": "https://b.example/u/1", "actor": "https://b.example/u/pierre",
            "object": {"type": "Follow", "id": "https://b.example/f/1", "actor": "https://b.example/u/pierre", "object": "https://a.example/g/rust"}
        }))
        .unwrap();
        assert!(matches!(undo, InboxActivity::Undo(_)));
    }
}
