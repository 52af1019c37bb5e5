//! Passwords (argon2id) and random tokens (stored as SHA-256 only).

use crate::CoreError;
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::{
    num::NonZeroUsize,
    sync::{Arc, OnceLock},
};
use tokio::sync::Semaphore;

/// The most password hashes that run at once, whatever the cores: 76 MiB of argon2 blocks, and
/// about eighty log-ins a second.
const MOST_HASHES_AT_ONCE: usize = 4;

/// How many password hashes (or verifications) run at once: one per core, at most
/// [`MOST_HASHES_AT_ONCE`]. Each holds a 19 MiB block and a core for tens of milliseconds;
/// more at once would not finish sooner, and a burst of log-ins would hold 19 MiB each
/// meanwhile (the server's memory bound, issue 10: docs/benchmarks.md) — on a machine of many
/// cores too, whose memory the server shares with its PostgreSQL.
fn hashing_permits() -> Arc<Semaphore> {
    static PERMITS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    PERMITS
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
            Arc::new(Semaphore::new(cores.min(MOST_HASHES_AT_ONCE)))
        })
        .clone()
}

/// Runs `work` on the blocking pool once one of `permits` is free. The permit goes with the
/// work: a caller that gives up (a closed connection) does not free it while the work runs.
async fn on_a_hashing_core<T: Send + 'static>(
    permits: Arc<Semaphore>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CoreError> {
    let permit = permits
        .acquire_owned()
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let done = work();
        drop(permit);
        done
    })
    .await
    .map_err(|e| CoreError::Internal(e.to_string()))
}

/// Hashes with argon2id and the crate's recommended cost (19 MiB, 2 passes). CPU-heavy: runs
/// on the blocking pool so that it does not stall the async workers, a bounded number at once.
pub async fn hash_password(password: &str) -> Result<String, CoreError> {
    let password = password.to_owned();
    on_a_hashing_core(hashing_permits(), move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| CoreError::Internal(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| CoreError::Internal(e.to_string()))
    })
    .await?
}

/// Checks `password` against a stored PHC string. With `None` (unknown user) it still does the
/// work of a verification, so response time does not reveal which usernames exist.
pub async fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let password = password.to_owned();
    let stored = stored.map(str::to_owned);
    on_a_hashing_core(hashing_permits(), move || {
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

    /// Eight hashing jobs at once through two permits: never more than two run together.
    /// Without the bound, the blocking pool ran all eight at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_permits() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        let permits = Arc::new(Semaphore::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let job = |running: Arc<AtomicUsize>, most: Arc<AtomicUsize>| {
            move || {
                let now = running.fetch_add(1, SeqCst) + 1;
                most.fetch_max(now, SeqCst);
                // The work itself (a hash takes tens of milliseconds), not a synchronisation.
                std::thread::sleep(std::time::Duration::from_millis(30));
                running.fetch_sub(1, SeqCst);
            }
        };
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                tokio::spawn(on_a_hashing_core(
                    permits.clone(),
                    job(running.clone(), most.clone()),
                ))
            })
            .collect();
        for handle in jobs {
            handle.await.unwrap().unwrap();
        }
        // At most two (how many ran together below that depends on how fast the blocking
        // pool starts its threads: not asserted).
        assert!(most.load(SeqCst) <= 2, "hashes ran beyond the permits");
        assert_eq!(
            permits.available_permits(),
            2,
            "a permit was not given back"
        );
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
