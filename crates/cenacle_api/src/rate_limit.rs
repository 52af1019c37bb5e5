//! Rate limits of the authentication endpoints: fixed windows per client address, and the
//! login brakes that protect an account without letting anyone lock its member out.
//!
//! How a login is braked (`LoginLimits`):
//! - **Per address, every attempt** (`limits.login_per_ip`): one machine cannot hammer the
//!   endpoint (each attempt costs an argon2 hash), whatever names it tries.
//! - **Per account and address, wrong passwords only** (`limits.login_per_account`): a guesser
//!   gets a few tries at one account from its address, then that address is refused for that
//!   account until the window ends. The count is keyed by the pair, so the guesser's failures
//!   never refuse the member, who signs in from elsewhere; and a right password is taken back
//!   off the count (it is reserved up front, so parallel guesses cannot overshoot the limit).
//! - **Per account, from everywhere: a slow-down, never a refusal.** Guessing spread over many
//!   addresses (each under its own limits) shows as wrong passwords for the account beyond the
//!   per-pair limit. From then on every attempt on the account waits before its password is
//!   checked — longer as failures pile up, at most [`SLOWDOWN_MAX`] — whoever makes it. A
//!   refusal here would be a lockout anyone could trigger (the old rule counted every attempt
//!   per account name, so anyone could lock a member out by guessing wrong); a bounded wait
//!   is not: the member's right password, from a fresh address, still signs in, at most a
//!   couple of seconds later. The waits are not queued behind each other, so a flood cannot
//!   stretch them; what bounds a distributed guesser's rate is the per-address limits above,
//!   and the wait makes each of its guesses hold a connection longer.
//!
//! The counters live in this process. With several servers behind a load balancer each keeps
//! its own, which multiplies the allowance by the number of servers; that is acceptable for a
//! brake on password guessing, and avoids a database write per login attempt.

use cenacle_config::LimitSettings;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Past this many keys, expired windows are swept on the next call, bounding memory.
const SWEEP_THRESHOLD: usize = 10_000;

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt for `key`; `Err(retry_after)` when the key is over its limit.
    pub fn hit(&self, key: &str) -> Result<(), Duration> {
        self.hit_at(key, Instant::now())
    }

    fn hit_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > SWEEP_THRESHOLD {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return Err(self.window - now.duration_since(entry.0));
        }
        entry.1 += 1;
        Ok(())
    }

    /// Takes back one attempt counted for `key` (one that turned out not to count).
    pub fn forgive(&self, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = windows.get_mut(key) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }

    /// The attempts counted for `key` in its current window.
    pub fn count(&self, key: &str) -> u32 {
        self.count_at(key, Instant::now())
    }

    fn count_at(&self, key: &str, now: Instant) -> u32 {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(key) {
            Some((start, count)) if now.duration_since(*start) < self.window => *count,
            _ => 0,
        }
    }
}

/// The longest an attempt on an account under attack waits before its password is checked.
pub const SLOWDOWN_MAX: Duration = Duration::from_secs(2);
/// The wait added by each wrong password past the per-pair limit.
const SLOWDOWN_STEP: Duration = Duration::from_millis(250);

/// The rate limits of the authentication endpoints.
pub struct Limits {
    pub login: LoginLimits,
    pub register_per_ip: RateLimiter,
    pub mail_requests: MailRequestLimits,
}

/// The brakes of the requests that send a mail (a forgotten password, the verification mail
/// again, an address change): per client address, so one machine cannot use us to send mail
/// in bulk, and per address named, so nobody (from however many machines) floods one inbox.
/// The address is counted whether or not it is an account's: the answer tells nothing.
pub struct MailRequestLimits {
    per_client: RateLimiter,
    per_target: RateLimiter,
}

impl MailRequestLimits {
    /// Counts a request from `client` naming `address`; `Err(retry_after)` past a limit.
    pub fn hit(&self, client: &str, address: &str) -> Result<(), Duration> {
        self.per_client.hit(client)?;
        self.per_target.hit(&address.trim().to_lowercase())
    }
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Self {
        let window = Duration::from_secs(settings.rate_window_seconds);
        Self {
            login: LoginLimits {
                per_address: RateLimiter::new(settings.login_per_ip, window),
                per_account_address: RateLimiter::new(settings.login_per_account, window),
                failures_per_account: RateLimiter::new(u32::MAX, window),
                slowdown_after: settings.login_per_account,
            },
            register_per_ip: RateLimiter::new(settings.register_per_ip, window),
            mail_requests: MailRequestLimits {
                per_client: RateLimiter::new(settings.mail_requests_per_ip, window),
                per_target: RateLimiter::new(settings.mail_requests_per_address, window),
            },
        }
    }
}

/// The login brakes (see the module's notes).
pub struct LoginLimits {
    per_address: RateLimiter,
    per_account_address: RateLimiter,
    /// Counts only: it slows attempts down, it never refuses one.
    failures_per_account: RateLimiter,
    slowdown_after: u32,
}

impl LoginLimits {
    /// Lets a login attempt from `address` for `username` go ahead, after the account's
    /// slow-down if it is under attack; `Err(retry_after)` when a limit refuses it. The
    /// attempt counts as a failure only if [`LoginAttempt::wrong_password`] is called.
    pub async fn admit(&self, address: &str, username: &str) -> Result<LoginAttempt<'_>, Duration> {
        self.per_address.hit(address)?;
        let account = username.to_lowercase();
        let pair = format!("{account} {address}");
        self.per_account_address.hit(&pair)?;
        let attempt = LoginAttempt {
            limits: self,
            account,
            pair,
            wrong: false,
        };
        let wait = self.slowdown(self.failures_per_account.count(&attempt.account));
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(attempt)
    }

    fn slowdown(&self, failures: u32) -> Duration {
        match failures.checked_sub(self.slowdown_after) {
            None => Duration::ZERO,
            Some(beyond) => SLOWDOWN_STEP
                .saturating_mul(beyond.saturating_add(1))
                .min(SLOWDOWN_MAX),
        }
    }
}

/// An admitted login attempt. Unless it is marked a wrong password, dropping it takes it back
/// off the per-pair count: a right password (or an error of ours) never counts.
pub struct LoginAttempt<'a> {
    limits: &'a LoginLimits,
    account: String,
    pair: String,
    wrong: bool,
}

impl LoginAttempt<'_> {
    /// The password was wrong (or the account does not exist: the same answer, the same count).
    pub fn wrong_password(mut self) {
        self.wrong = true;
        let _ = self.limits.failures_per_account.hit(&self.account);
    }
}

impl Drop for LoginAttempt<'_> {
    fn drop(&mut self) {
        if !self.wrong {
            self.limits.per_account_address.forgive(&self.pair);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_until_the_window_ends() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.hit_at("ip:1", t0).is_ok());
        }
        let retry = limiter
            .hit_at("ip:1", t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(retry, Duration::from_secs(50));
        assert!(limiter.hit_at("ip:2", t0).is_ok(), "keys are independent");
        assert!(limiter.hit_at("ip:1", t0 + Duration::from_secs(60)).is_ok());
        assert_eq!(limiter.count_at("ip:1", t0 + Duration::from_secs(61)), 1);
        assert_eq!(limiter.count_at("ip:1", t0 + Duration::from_secs(200)), 0);
    }

    #[test]
    fn a_forgiven_attempt_frees_its_place() {
        let limiter = RateLimiter::new(1, Duration::from_secs(60));
        limiter.hit("k").unwrap();
        assert!(limiter.hit("k").is_err());
        limiter.forgive("k");
        assert!(limiter.hit("k").is_ok());
    }

    fn limits(per_account: u32) -> Limits {
        Limits::new(&LimitSettings {
            max_body_bytes: 1 << 20,
            login_per_ip: 1000,
            login_per_account: per_account,
            register_per_ip: 10,
            mail_requests_per_ip: 10,
            mail_requests_per_address: 3,
            rate_window_seconds: 300,
            idempotency_key_retention_hours: 24,
        })
    }

    #[tokio::test]
    async fn wrong_passwords_refuse_the_guessers_address_only() {
        let limits = limits(3);
        for _ in 0..3 {
            limits
                .login
                .admit("6.6.6.6", "Marie")
                .await
                .unwrap()
                .wrong_password();
        }
        assert!(limits.login.admit("6.6.6.6", "marie").await.is_err());
        assert!(limits.login.admit("6.6.6.6", "pierre").await.is_ok());
        // Right passwords from the member's address never add up.
        for _ in 0..10 {
            drop(limits.login.admit("203.0.113.5", "marie").await.unwrap());
        }
    }

    #[test]
    fn the_slowdown_starts_past_the_limit_and_is_bounded() {
        let login = limits(8).login;
        assert_eq!(login.slowdown(7), Duration::ZERO);
        assert_eq!(login.slowdown(8), SLOWDOWN_STEP);
        assert_eq!(login.slowdown(9), SLOWDOWN_STEP * 2);
        assert_eq!(login.slowdown(100_000), SLOWDOWN_MAX);
    }
}
