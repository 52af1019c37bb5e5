//! Federation identities of local actors: their ids (URLs under the instance's public URL)
//! and RSA-2048 key pairs, made when the actor is created.

use crate::CoreError;
use cenacle_config::Settings;
use cenacle_db::actors::LocalIdentity;
use openssl::{pkey::PKey, rsa::Rsa};

/// The URL layout of local actors. Ids are lowercase and have no trailing slash (INTEROP.md).
pub mod urls {
    pub fn person(base: &str, name: &str) -> String {
        format!("{base}/u/{name}")
    }
    pub fn group(base: &str, name: &str) -> String {
        format!("{base}/g/{name}")
    }
    pub fn shared_inbox(base: &str) -> String {
        format!("{base}/inbox")
    }
    pub fn instance_actor(base: &str) -> String {
        format!("{base}/actor")
    }
    /// The `Service` that sends the reports of members who keep their name to themselves.
    pub fn reporting_actor(base: &str) -> String {
        format!("{base}/reporter")
    }
}

/// A new RSA-2048 key pair as (public PEM, private PKCS#8 PEM). CPU-bound: runs on the
/// blocking pool.
pub async fn generate_keypair() -> Result<(String, String), CoreError> {
    tokio::task::spawn_blocking(|| {
        let internal = |e: openssl::error::ErrorStack| CoreError::Internal(e.to_string());
        let rsa = Rsa::generate(2048).map_err(internal)?;
        let key = PKey::from_rsa(rsa).map_err(internal)?;
        let public = String::from_utf8(key.public_key_to_pem().map_err(internal)?)
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let private = String::from_utf8(key.private_key_to_pem_pkcs8().map_err(internal)?)
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok((public, private))
    })
    .await
    .map_err(|e| CoreError::Internal(e.to_string()))?
}

/// The identity of an actor whose id is `ap_id`.
async fn identity_for(settings: &Settings, ap_id: String) -> Result<LocalIdentity, CoreError> {
    let (public_key_pem, private_key_pem) = generate_keypair().await?;
    Ok(LocalIdentity {
        inbox_url: format!("{ap_id}/inbox"),
        shared_inbox_url: urls::shared_inbox(&settings.public_base()),
        ap_id,
        public_key_pem,
        private_key_pem,
    })
}

/// The identity of a group that never federates (the champions group): its ids keep the
/// layout of the others, and it has no key pair, since it never signs nor is served.
pub fn unfederated_group_identity(settings: &Settings, name: &str) -> LocalIdentity {
    let ap_id = urls::group(&settings.public_base(), name);
    LocalIdentity {
        inbox_url: format!("{ap_id}/inbox"),
        shared_inbox_url: urls::shared_inbox(&settings.public_base()),
        ap_id,
        public_key_pem: String::new(),
        private_key_pem: String::new(),
    }
}

pub async fn person_identity(
    settings: &Settings,
    username: &str,
) -> Result<LocalIdentity, CoreError> {
    identity_for(settings, urls::person(&settings.public_base(), username)).await
}

pub async fn group_identity(settings: &Settings, name: &str) -> Result<LocalIdentity, CoreError> {
    identity_for(settings, urls::group(&settings.public_base(), name)).await
}

/// The host (with its port, if any) of this instance, as federation compares it.
pub fn local_host(settings: &Settings) -> String {
    let url = &settings.server.public_url;
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// 128 random bits as hex: for ids of things that are not secrets (activity ids, file names).
pub fn random_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
