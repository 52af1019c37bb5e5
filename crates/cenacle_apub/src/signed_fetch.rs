//! Who is fetching: a private group's content goes only to the instances of its approved
//! followers (DESIGN.md §5), proven by a signed GET. The signature is checked only when it
//! matters — when what is asked for is not readable by anyone — so that a signed fetch of
//! public content never costs a key fetch.

use crate::{
    http_client::host_of,
    signatures::{self, parse_signature},
    ApubError, Federation,
};
use axum::{
    extract::FromRequestParts,
    http::{request::Parts, HeaderMap, Method},
};
use cenacle_core::{access::Reader, actors, identity};
use serde::Deserialize;
use std::{future::Future, sync::OnceLock, time::SystemTime};
use url::Url;

/// The signer of a fetch, when the authorized-fetch layer already verified it.
#[derive(Debug, Clone)]
pub struct VerifiedSigner(pub Url);

/// What a request says about its fetcher, verified on demand.
pub struct FetchProof {
    method: Method,
    path_and_query: String,
    headers: HeaderMap,
    verified: Option<Url>,
    /// The signing instance, once verified (what [`Reader::Instance`] borrows).
    instance: OnceLock<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for FetchProof {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(FetchProof::from_parts(parts))
    }
}

impl FetchProof {
    pub fn from_parts(parts: &Parts) -> Self {
        Self {
            method: parts.method.clone(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into()),
            headers: parts.headers.clone(),
            verified: parts
                .extensions
                .get::<VerifiedSigner>()
                .map(|s| s.0.clone()),
            instance: OnceLock::new(),
        }
    }

    /// The signing instance's base URL (`scheme://host[:port]/`), once its signature is
    /// verified; None for an unsigned fetch; 401 for a bad signature. May fetch the signer's
    /// key: call it with no connection held.
    pub async fn signing_instance(&self, fed: &Federation) -> Result<Option<String>, ApubError> {
        let owner = match &self.verified {
            Some(owner) => owner.clone(),
            None if !self.headers.contains_key("signature") => return Ok(None),
            None => {
                verify_signed_get(
                    fed,
                    self.method.as_str(),
                    &self.path_and_query,
                    &self.headers,
                )
                .await?
            }
        };
        Ok(Some(format!("{}://{}/", owner.scheme(), host_of(&owner))))
    }

    /// What `read` finds for an anonymous fetcher, or else — if the fetch is signed — for the
    /// signing instance; 404 when neither may read it. `read` takes its own connection and
    /// gives it back: the signature check between the two may fetch a key.
    pub async fn read<'p, T, Fut>(
        &'p self,
        fed: &Federation,
        read: impl Fn(Reader<'p>) -> Fut,
    ) -> Result<T, ApubError>
    where
        Fut: Future<Output = Result<Option<T>, ApubError>>,
    {
        if let Some(found) = read(Reader::Anonymous).await? {
            return Ok(found);
        }
        let Some(instance) = self.signing_instance(fed).await? else {
            return Err(ApubError::NotFound);
        };
        let instance = self.instance.get_or_init(|| instance);
        read(Reader::Instance(instance))
            .await?
            .ok_or(ApubError::NotFound)
    }
}

/// Verifies a signed GET; its signer (the key's owner) when it holds.
pub async fn verify_signed_get(
    fed: &Federation,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
) -> Result<Url, ApubError> {
    let unauthorized = |why: &str| ApubError::Unauthorized(why.to_owned());
    let params = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_signature)
        .ok_or_else(|| unauthorized("no signature"))?;
    // Before any fetch of the signer: a weak signature is refused for nothing.
    signatures::check_strength(&params, method).map_err(|why| unauthorized(&why))?;
    let date = headers.get("date").and_then(|v| v.to_str().ok());
    if !params.is_fresh(date, SystemTime::now(), 3600) {
        return Err(unauthorized("stale or missing Date / (created)"));
    }
    let owner =
        Url::parse(signatures::key_owner(&params.key_id)).map_err(|_| unauthorized("bad keyId"))?;
    if crate::http_client::is_blocked(&fed.config.db, &crate::http_client::host_of(&owner)).await? {
        return Err(ApubError::Blocked("instance blocked".into()));
    }
    let public_key = signer_key(fed, &owner).await?;
    let local_host = identity::local_host(&fed.config.ctx.settings);
    signatures::verify(
        &params,
        method,
        path_and_query,
        |name| signatures::signed_header(headers, &local_host, name),
        &public_key,
    )
    .map_err(|e| unauthorized(&e))?;
    Ok(owner)
}

/// The signer's public key: from our cache of people and groups, or fetched (any actor type,
/// instance actors included).
async fn signer_key(fed: &Federation, owner: &Url) -> Result<String, ApubError> {
    let data = fed.data();
    {
        // Given back before any fetch: no connection is held across an HTTP call.
        let mut conn = data.db.conn().await?;
        if let Some(key) = actors::person_by_ap_id(&mut conn, owner.as_str())
            .await?
            .and_then(|p| p.public_key_pem)
        {
            return Ok(key);
        }
        if let Some(group) = actors::group_by_ap_id(&mut conn, owner.as_str()).await? {
            return Ok(group.public_key_pem);
        }
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct KeyHolder {
        public_key: activitypub_federation::protocol::public_key::PublicKey,
    }
    let fetched =
        activitypub_federation::fetch::fetch_object_http::<_, KeyHolder>(owner, &data).await?;
    if fetched.object.public_key.owner != *owner {
        return Err(ApubError::Unauthorized("key owner mismatch".into()));
    }
    Ok(fetched.object.public_key.public_key_pem)
}
