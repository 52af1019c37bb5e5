//! Groups: local ones served as `Group` (FEP-1b12), remote ones cached.

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
    model::{Group, RemoteGroup},
    ScopedFutureExt,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone)]
pub struct ApubGroup {
    pub row: Group,
    id: Url,
}

impl ApubGroup {
    pub fn new(row: Group) -> Result<Self, ApubError> {
        let id = Url::parse(&row.ap_id).map_err(|e| ApubError::Internal(e.to_string()))?;
        Ok(Self { row, id })
    }

    pub fn followers_url(&self) -> Url {
        self.row
            .followers_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .unwrap_or_else(|| Url::parse(&format!("{}/followers", self.id)).expect("valid url"))
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum GroupKind {
    Group,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupJson {
    #[serde(rename = "type")]
    pub kind: GroupKind,
    pub id: Url,
    pub preferred_username: String,
    #[serde(default, deserialize_with = "deserialize_opt_string")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "deserialize_opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<serde_json::Value>,
    pub inbox: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<Url>,
    /// Lemmy: the moderators collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributed_to: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    pub public_key: PublicKey,
    #[serde(default)]
    pub posting_restricted_to_mods: bool,
    #[serde(default)]
    pub manually_approves_followers: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// `cenacle:visibility`: public, private or restricted. Others ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<serde_json::Value>,
    /// The `CommunityPostTag`s posts of this group may carry (Lemmy 1.0, PieFed show them):
    /// `answered`, and one per idea status.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::vocabulary::deserialize_values"
    )]
    pub tag: Vec<serde_json::Value>,
}

impl GroupJson {
    /// Its endpoints are on its own host (see [`verify_endpoints`]): checked on every document
    /// of a group, fetched or sent in an `Update`.
    pub fn verify_endpoints(&self, loopback_only: bool) -> Result<(), ApubError> {
        let shared_inbox = self
            .endpoints
            .as_ref()
            .and_then(|e| e.shared_inbox.as_ref());
        verify_endpoints(
            &self.id,
            &[
                ("inbox", Some(&self.inbox)),
                ("sharedInbox", shared_inbox),
                ("outbox", self.outbox.as_ref()),
                ("followers", self.followers.as_ref()),
                ("featured", self.featured.as_ref()),
            ],
            loopback_only,
        )
    }
}

#[async_trait::async_trait]
impl Object for ApubGroup {
    type DataType = FedData;
    type Kind = GroupJson;
    type Error = ApubError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        Some(self.row.last_refreshed_at)
    }

    async fn read_from_id(id: Url, data: &Data<FedData>) -> Result<Option<Self>, ApubError> {
        let mut conn = data.db.conn().await?;
        // A local-only group does not exist for what other servers send or ask.
        actors::group_by_ap_id(&mut conn, id.as_str())
            .await?
            .filter(|g| !g.local_only)
            .map(ApubGroup::new)
            .transpose()
    }

    async fn into_json(self, _data: &Data<FedData>) -> Result<GroupJson, ApubError> {
        let id = self.id.clone();
        let sub = |path: &str| Url::parse(&format!("{id}/{path}")).ok();
        Ok(GroupJson {
            kind: GroupKind::Group,
            preferred_username: self.row.name.clone(),
            name: Some(self.row.title.clone()),
            summary: Some(self.row.description.clone()).filter(|d| !d.is_empty()),
            source: Some(
                serde_json::json!({"content": self.row.description, "mediaType": "text/markdown"}),
            )
            .filter(|_| !self.row.description.is_empty()),
            inbox: self.inbox(),
            outbox: sub("outbox"),
            followers: Some(self.followers_url()),
            attributed_to: sub("moderators").map(|u| serde_json::Value::String(u.to_string())),
            featured: sub("featured"),
            endpoints: Some(Endpoints {
                shared_inbox: self.shared_inbox(),
            }),
            public_key: self.public_key(),
            posting_restricted_to_mods: false,
            // Only groups that really approve followers may say so: Lemmy then treats them as
            // private (INTEROP.md).
            manually_approves_followers: self.row.visibility == "private",
            published: Some(self.row.created_at),
            updated: Some(self.row.updated_at),
            visibility: Some(self.row.visibility.clone()),
            icon: self
                .row
                .avatar_url
                .as_ref()
                .map(|u| serde_json::json!({"type": "Image", "url": u})),
            image: self
                .row
                .banner_url
                .as_ref()
                .map(|u| serde_json::json!({"type": "Image", "url": u})),
            tag: post_tag_names().map(|name| post_tag(&id, name)).collect(),
            id,
        })
    }

    async fn verify(
        json: &GroupJson,
        expected_domain: &Url,
        data: &Data<FedData>,
    ) -> Result<(), ApubError> {
        verify_actor_document(&json.id, &json.public_key, expected_domain)?;
        json.verify_endpoints(
            data.ctx
                .settings
                .federation
                .allow_insecure_loopback_federation,
        )
    }

    async fn from_json(json: GroupJson, data: &Data<FedData>) -> Result<Self, ApubError> {
        let moderators = moderators_url(&json);
        let row = {
            let mut conn = data.db.conn().await?;
            actors::store_remote_group(&mut conn, &remote_group(json)).await?
        };
        if let Some(collection) = moderators {
            // Who may moderate it (Lemmy 1.0's trust): its list, read on every fetch and
            // refresh, kept up to date in between by the Add/Remove it announces. A list that
            // cannot be read leaves the one we had.
            if let Err(e) = sync_moderators(&row, &collection, data).await {
                tracing::info!(group = %row.ap_id, error = %e, "moderators of a remote group not read");
            }
        }
        ApubGroup::new(row)
    }
}

/// At most this many moderators are read from a remote group's list (each one may cost a
/// fetch): a bound, so that a hostile group cannot make us fetch without end.
const MAX_MODERATORS: usize = 25;

/// The moderators collection a group names as its `attributedTo`, when it is on the group's
/// own server.
fn moderators_url(json: &GroupJson) -> Option<Url> {
    let url = match json.attributed_to.as_ref()? {
        serde_json::Value::String(s) => Url::parse(s).ok()?,
        serde_json::Value::Object(o) => Url::parse(o.get("id")?.as_str()?).ok()?,
        _ => return None,
    };
    cenacle_domain::origin::same_host(url.as_str(), json.id.as_str()).then_some(url)
}

/// Reads a remote group's moderators collection and keeps it as its moderators here.
async fn sync_moderators(
    group: &Group,
    collection: &Url,
    data: &Data<FedData>,
) -> Result<(), ApubError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Moderators {
        #[serde(default, deserialize_with = "crate::vocabulary::deserialize_audience")]
        ordered_items: Vec<Url>,
    }
    let list = activitypub_federation::fetch::fetch_object_http::<_, Moderators>(collection, data)
        .await?
        .object;
    let mut people = Vec::new();
    for id in list.ordered_items.into_iter().take(MAX_MODERATORS) {
        match activitypub_federation::fetch::object_id::ObjectId::<super::person::ApubPerson>::from(
            id.clone(),
        )
        .dereference(data)
        .await
        {
            Ok(person) => people.push(person.row.id),
            Err(e) => tracing::info!(moderator = %id, error = %e, "a listed moderator not read"),
        }
    }
    let people = &people;
    data.db
        .transaction(|conn| {
            cenacle_core::moderation::sync_remote_moderators(conn, group, people).scope_boxed()
        })
        .await?;
    Ok(())
}

/// The row we keep of a remote group's document.
pub fn remote_group(json: GroupJson) -> RemoteGroup {
    let visibility = match json.visibility.as_deref() {
        Some(v @ ("public" | "private" | "restricted")) => v.to_owned(),
        _ if json.manually_approves_followers => "private".to_owned(),
        _ => "public".to_owned(),
    };
    RemoteGroup {
        instance_host: host_of(&json.id),
        ap_id: json.id.to_string(),
        title: json
            .name
            .clone()
            .unwrap_or_else(|| json.preferred_username.clone()),
        name: json.preferred_username,
        description: json.summary.unwrap_or_default(),
        inbox_url: json.inbox.to_string(),
        shared_inbox_url: json
            .endpoints
            .and_then(|e| e.shared_inbox)
            .map(|u| u.to_string()),
        followers_url: json.followers.map(|u| u.to_string()),
        public_key_pem: json.public_key.public_key_pem,
        visibility,
    }
}

impl Actor for ApubGroup {
    fn public_key_pem(&self) -> &str {
        &self.row.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        self.row.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        Url::parse(&self.row.inbox_url).unwrap_or_else(|_| self.id.clone())
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.row
            .shared_inbox_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
    }
}

/// The names of the post tags every group defines: `answered`, then the idea statuses.
pub fn post_tag_names() -> impl Iterator<Item = &'static str> {
    std::iter::once("answered").chain(
        cenacle_domain::content::IdeaStatus::ALL
            .into_iter()
            .map(|s| s.tag()),
    )
}

/// A `CommunityPostTag` of a group, as defined by the group and referenced by its posts.
pub fn post_tag(group_id: &Url, name: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "CommunityPostTag",
        "id": format!("{group_id}/tags/{name}"),
        "preferredUsername": name,
        "name": name,
    })
}

pub async fn local_group(data: &FedRequest, name: &str) -> Result<ApubGroup, ApubError> {
    let mut conn = data.db.conn().await?;
    // A local-only group (the champions group) has no actor for other servers.
    let row = actors::local_group_by_name(&mut conn, name)
        .await?
        .filter(|g| !g.local_only)
        .ok_or(ApubError::NotFound)?;
    ApubGroup::new(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A group as Lemmy serves it, with `patch` laid over it.
    fn lemmy_group(patch: serde_json::Value) -> GroupJson {
        let mut doc = json!({
            "type": "Group",
            "id": "https://lemmy.example/c/jardin",
            "preferredUsername": "jardin",
            "name": "Jardin",
            "inbox": "https://lemmy.example/c/jardin/inbox",
            "outbox": "https://lemmy.example/c/jardin/outbox",
            "followers": "https://lemmy.example/c/jardin/followers",
            "featured": "https://lemmy.example/c/jardin/featured",
            "attributedTo": "https://lemmy.example/c/jardin/moderators",
            "endpoints": {"sharedInbox": "https://lemmy.example/inbox"},
            "publicKey": {
                "id": "https://lemmy.example/c/jardin#main-key",
                "owner": "https://lemmy.example/c/jardin",
                "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"
            }
        });
        for (key, value) in patch.as_object().unwrap() {
            doc[key] = value.clone();
        }
        serde_json::from_value(doc).unwrap()
    }

    /// Fetched or sent in an `Update{Group}` (which calls this too), a group whose endpoints
    /// point elsewhere would have us deliver its members' activities there.
    #[test]
    fn a_group_whose_endpoints_are_elsewhere_is_refused() {
        assert!(lemmy_group(json!({})).verify_endpoints(false).is_ok());
        for patch in [
            json!({"inbox": "https://intranet.example/inbox"}),
            json!({"inbox": "https://10.0.0.5/inbox"}),
            json!({"endpoints": {"sharedInbox": "https://other.example/inbox"}}),
            json!({"outbox": "https://other.example/outbox"}),
            json!({"followers": "https://other.example/followers"}),
            json!({"featured": "https://other.example/featured"}),
            json!({"inbox": "https://lemmy.example:8443/c/jardin/inbox"}),
        ] {
            let refused = lemmy_group(patch.clone()).verify_endpoints(false);
            assert!(
                matches!(refused, Err(ApubError::RefusedActor(_))),
                "{patch}: {refused:?}"
            );
        }
        let on_an_ip = lemmy_group(json!({
            "id": "https://192.0.2.7/c/jardin",
            "inbox": "https://192.0.2.7/c/jardin/inbox",
            "outbox": null, "followers": null, "featured": null, "endpoints": null,
        }));
        assert!(on_an_ip.verify_endpoints(false).is_err());
    }
}
