//! Passwords (argon2id) and random tokens (stored as SHA-256 only).

use crate::CoreError;
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Hashes with argon2id and the crate's recommended cost (19 MiB, 2 passes). CPU-heavy: runs
/// on the blocking pool so that it does not stall the async workers.
pub async fn hash_password(password: &str) -> Result<String, CoreError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| CoreError::Internal(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| CoreError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| CoreError::Internal(e.to_string()))?
}

/// Checks `password` against a stored PHC string. With `None` (unknown user) it still does the
/// work of a verification, so response time does not reveal which usernames exist.
pub async fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let password = password.to_owned();
    let stored = stored.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && hash != DUMMY_HASH
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password nobody knows, with the default parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$uC3CLwrN9X4QE4hmDSCBhaUTw86G3ojlVgebvsJG+GI";

/// A new random secret (256 bits) with a readable prefix, e.g. `cen_…` for login tokens: the
/// prefix lets secret scanners and people recognise a leaked token.
pub(crate) fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database keeps of a secret.
pub(crate) fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&hash)).await);
        assert!(!verify_password("wrong horse battery", Some(&hash)).await);
        assert!(!verify_password("anything", None).await);
        assert!(!verify_password("anything", Some("not a hash")).await);
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = new_secret("cen_");
        let b = new_secret("cen_");
        assert_ne!(a, b);
        assert!(a.starts_with("cen_") && a.len() > 40);
        assert_eq!(secret_hash(&a).len(), 32);
        assert_ne!(secret_hash(&a), secret_hash(&b));
    }
}
