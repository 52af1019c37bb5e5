//! What every actor document shares: endpoints, inline collections, and the checks a
//! document must pass before we store it.

use crate::{
    http_client::{check_peer_url, host_of},
    ApubError,
};
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_inbox: Option<Url>,
}

/// An ordered collection served with its items inline (Lemmy cannot read paged outboxes).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InlineCollection<T: Serialize> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: Url,
    pub total_items: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordered_items: Option<Vec<T>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<T>>,
}

/// The id, its key's owner and the fetch location must agree on the host (with port): a
/// server may only speak for its own actors.
pub fn verify_same_host(a: &Url, b: &Url) -> Result<(), ApubError> {
    if host_of(a) != host_of(b) {
        return Err(ApubError::Malformed(format!(
            "{a} is not on the host of {b}"
        )));
    }
    Ok(())
}

/// Where an actor receives and publishes, by property name (`inbox`, `sharedInbox`, …).
pub type ActorEndpoints<'a> = [(&'static str, Option<&'a Url>)];

/// An actor document may only come from its own host, and its key must be its own.
pub fn verify_actor_document(
    id: &Url,
    public_key: &activitypub_federation::protocol::public_key::PublicKey,
    expected_domain: &Url,
) -> Result<(), ApubError> {
    verify_same_host(id, expected_domain)?;
    if public_key.owner != *id {
        return Err(ApubError::Malformed(format!(
            "the key of {id} belongs to {}",
            public_key.owner
        )));
    }
    Ok(())
}

/// The rules Mastodon applies to an actor's endpoints: its `inbox`, `sharedInbox`, `outbox`,
/// `followers` and `featured` are on its own host (with port), and that host is no IP literal
/// outside the loopback test mode. Otherwise anyone could have us POST our signed activities
/// (the Accept of a Follow, a group's relays) to another server, or into the operator's
/// network (`inbox: http://10.0.0.5/…`). Such an actor is refused, never stored.
pub fn verify_endpoints(
    id: &Url,
    endpoints: &ActorEndpoints,
    loopback_only: bool,
) -> Result<(), ApubError> {
    check_peer_url(id, loopback_only).map_err(|e| ApubError::RefusedActor(e.to_string()))?;
    for (name, url) in endpoints {
        let Some(url) = url else { continue };
        if !matches!(url.scheme(), "http" | "https") || host_of(url) != host_of(id) {
            return Err(ApubError::RefusedActor(format!(
                "its {name} {url} is not on the host of {id}"
            )));
        }
    }
    Ok(())
}
