//! People: local members served as `Person`, remote people cached from what they serve.

use super::actor_document::{verify_actor_document, verify_endpoints, Endpoints};
use crate::vocabulary::deserialize_opt_string;
use crate::{http_client::host_of, ApubError, FedData, FedRequest};
use activitypub_federation::{
    config::Data,
    protocol::public_key::PublicKey,
    traits::{Actor, Object},
};
use cenacle_core::{
    actors,
    model::{PersonActor, RemotePerson},
};
use cenacle_core::{identity, Context, ScopedFutureExt};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone)]
pub struct ApubPerson {
    pub row: PersonActor,
    id: Url,
}

impl ApubPerson {
    pub fn new(row: PersonActor) -> Result<Self, ApubError> {
        let id = row
            .ap_id
            .as_deref()
            .ok_or_else(|| ApubError::Internal(format!("person {} has no ActivityPub id", row.id)))?
            .parse()
            .map_err(|e: url::ParseError| ApubError::Internal(e.to_string()))?;
        Ok(Self { row, id })
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum PersonKind {
    Person,
    /// Bots on Mastodon.
    Service,
    Organization,
    /// An instance actor: Mastodon sends its reports (`Flag`) as its instance actor. Ours
    /// sends none: a report leaves as our reporting actor (a `Service`, which Lemmy accepts)
    /// unless the reporter shares their name.
    Application,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonJson {
    #[serde(rename = "type")]
    pub kind: PersonKind,
    pub id: Url,
    pub preferred_username: String,
    #[serde(
        default,
        deserialize_with = "deserialize_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "deserialize_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub summary: Option<String>,
    pub inbox: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<Url>,
    /// Mastodon: pinned posts. Read only to check it is on the actor's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    pub public_key: PublicKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default)]
    pub manually_approves_followers: bool,
    /// `cenacle:reputation`: the member's reputation at their home instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reputation: Option<i64>,
    /// `cenacle:rank`: their rank there (English name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<String>,
    /// `cenacle:champion`: the groups they champion at home (the champions programme), and
    /// since when. Absent for everyone else; a malformed value is read as absent.
    #[serde(
        default,
        deserialize_with = "deserialize_champion",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub champion: Vec<ChampionOf>,
}

/// One group a person champions (`cenacle:championOf`), since when (`cenacle:championSince`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChampionOf {
    pub champion_of: Url,
    pub champion_since: DateTime<Utc>,
}

/// `champion`: one entry or many; anything else (another server's idea of the term) is
/// ignored rather than refusing the whole actor.
fn deserialize_champion<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<ChampionOf>, D::Error> {
    let values = crate::vocabulary::deserialize_values(d)?;
    Ok(values
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

#[async_trait::async_trait]
impl Object for ApubPerson {
    type DataType = FedData;
    type Kind = PersonJson;
    type Error = ApubError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        Some(self.row.last_refreshed_at)
    }

    async fn read_from_id(id: Url, data: &Data<FedData>) -> Result<Option<Self>, ApubError> {
        let mut conn = data.db.conn().await?;
        actors::person_by_ap_id(&mut conn, id.as_str())
            .await?
            .map(ApubPerson::new)
            .transpose()
    }

    async fn into_json(self, data: &Data<FedData>) -> Result<PersonJson, ApubError> {
        let (reputation, rank, champion) = {
            let mut conn = data.db.conn().await?;
            let profile =
                cenacle_core::people::profile(&mut conn, &data.ctx, self.row.clone()).await?;
            let champion = cenacle_core::champions::championed_groups(&mut conn, self.row.id)
                .await?
                .into_iter()
                .filter_map(|g| {
                    Some(ChampionOf {
                        champion_of: Url::parse(&g.ap_id).ok()?,
                        champion_since: g.since,
                    })
                })
                .collect();
            (
                Some(profile.reputation),
                profile.rank.map(|t| t.name_en),
                champion,
            )
        };
        let id = self.id.clone();
        let sub = |path: &str| Url::parse(&format!("{id}/{path}")).ok();
        Ok(PersonJson {
            kind: PersonKind::Person,
            preferred_username: self.row.username.clone(),
            name: self.row.display_name.clone(),
            summary: self.row.bio.clone(),
            inbox: self.inbox(),
            outbox: sub("outbox"),
            followers: sub("followers"),
            following: sub("following"),
            featured: None,
            endpoints: Some(Endpoints {
                shared_inbox: self.shared_inbox(),
            }),
            public_key: self.public_key(),
            url: Some(serde_json::Value::String(id.to_string())),
            icon: self
                .row
                .avatar_url
                .as_ref()
                .map(|u| serde_json::json!({"type": "Image", "url": u})),
            published: Some(self.row.created_at),
            manually_approves_followers: false,
            reputation,
            rank,
            champion,
            id,
        })
    }

    async fn verify(
        json: &PersonJson,
        expected_domain: &Url,
        data: &Data<FedData>,
    ) -> Result<(), ApubError> {
        verify_actor_document(&json.id, &json.public_key, expected_domain)?;
        let shared_inbox = json
            .endpoints
            .as_ref()
            .and_then(|e| e.shared_inbox.as_ref());
        verify_endpoints(
            &json.id,
            &[
                ("inbox", Some(&json.inbox)),
                ("sharedInbox", shared_inbox),
                ("outbox", json.outbox.as_ref()),
                ("followers", json.followers.as_ref()),
                ("featured", json.featured.as_ref()),
            ],
            data.ctx
                .settings
                .federation
                .allow_insecure_loopback_federation,
        )
    }

    async fn from_json(json: PersonJson, data: &Data<FedData>) -> Result<Self, ApubError> {
        let remote = RemotePerson {
            instance_host: host_of(&json.id),
            ap_id: json.id.to_string(),
            username: json.preferred_username,
            display_name: json.name,
            bio: json.summary,
            avatar_url: json
                .icon
                .as_ref()
                .and_then(|i| i.get("url"))
                .and_then(|u| u.as_str())
                .map(str::to_owned),
            inbox_url: json.inbox.to_string(),
            shared_inbox_url: json
                .endpoints
                .and_then(|e| e.shared_inbox)
                .map(|u| u.to_string()),
            public_key_pem: json.public_key.public_key_pem,
        };
        let (reputation, rank) = (json.reputation, json.rank);
        let champion: Vec<(String, DateTime<Utc>)> = json
            .champion
            .into_iter()
            .map(|c| (c.champion_of.to_string(), c.champion_since))
            .collect();
        let row = data
            .db
            .transaction(|conn| {
                async move {
                    let row =
                        actors::store_remote_person(conn, &remote, reputation, rank.as_deref())
                            .await?;
                    if let Some(ap_id) = row.ap_id.as_deref() {
                        cenacle_core::champions::store_home_champion(conn, ap_id, &champion)
                            .await?;
                    }
                    Ok(row)
                }
                .scope_boxed()
            })
            .await?;
        ApubPerson::new(row)
    }
}

impl Actor for ApubPerson {
    fn public_key_pem(&self) -> &str {
        self.row.public_key_pem.as_deref().unwrap_or_default()
    }

    fn private_key_pem(&self) -> Option<String> {
        self.row.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        self.row
            .inbox_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .unwrap_or_else(|| self.id.clone())
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.row
            .shared_inbox_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
    }
}

/// Local people created before federation existed get their id and keys (made with no
/// connection held).
pub async fn backfill_identities(ctx: &Context) -> Result<(), ApubError> {
    let missing = actors::people_without_identity(&mut *ctx.conn().await?).await?;
    for (id, username) in missing {
        let identity = identity::person_identity(&ctx.settings, &username).await?;
        actors::set_identity(&mut *ctx.conn().await?, id, &identity).await?;
    }
    Ok(())
}

pub async fn local_person(data: &FedRequest, name: &str) -> Result<ApubPerson, ApubError> {
    let mut conn = data.db.conn().await?;
    let row = actors::local_person_by_name(&mut conn, name)
        .await?
        .ok_or(ApubError::NotFound)?;
    ApubPerson::new(row)
}
