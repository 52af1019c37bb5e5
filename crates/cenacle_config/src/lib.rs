//! The configuration of a Cénacle instance.
//!
//! `config/defaults.toml` is compiled in and documents every key; a file and `CENACLE_*`
//! environment variables are laid over it as TOML trees before the whole is deserialised once,
//! so an unknown key anywhere (file or environment) is refused with its full dotted name.

use cenacle_domain::RegistrationMode;
use serde::{Deserialize, Serialize};
use std::{net::SocketAddr, path::PathBuf};
use url::Url;

pub const DEFAULTS_TOML: &str = include_str!("../../../config/defaults.toml");
const ENV_PREFIX: &str = "CENACLE_";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub accounts: AccountSettings,
    pub groups: GroupSettings,
    pub moderation: ModerationSettings,
    pub engagement: EngagementSettings,
    pub shop: ShopSettings,
    pub training: TrainingSettings,
    pub insights: InsightsSettings,
    pub notifications: NotificationSettings,
    pub media: MediaSettings,
    pub limits: LimitSettings,
    pub log: LogSettings,
    pub federation: FederationSettings,
    pub metrics: MetricsSettings,
    pub web: WebSettings,
    pub email: EmailSettings,
    /// Deprecated keys the configuration still had, read or ignored: logged once logging is
    /// set up ([`Settings::warn_deprecated_keys`]); never serialised.
    #[serde(skip)]
    deprecations: Vec<Deprecation>,
}

/// A deprecated key found in the configuration (file or environment), and what was done
/// with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deprecation {
    /// Its dotted name.
    pub key: &'static str,
    /// What the operator is told, naming the key that replaces it.
    pub message: String,
}

/// Removed in favour of `email.default_time_zone`; still read at each start, as deprecated (see
/// [`read_deprecated_keys`]).
const OLD_OFFSET_KEY: &str = "default_utc_offset_minutes";

/// Sending e-mail through an SMTP server (see `[email]` in config/defaults.toml).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: String,
    pub password: Password,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// Where links in mails point; "" means `server.public_url`.
    pub base_url: String,
    pub verification: EmailVerification,
    pub verify_token_ttl_hours: u32,
    pub reset_token_ttl_minutes: u32,
    pub change_token_ttl_hours: u32,
    pub max_attempts: u32,
    pub retry_first_delay_seconds: f64,
    pub timeout_seconds: u64,
    /// How long the worker waits for the SMTP server's reply to a mail's data, once all of it
    /// is sent: the server may have taken the mail by then, so a wait cut short may send it
    /// twice (RFC 5321 4.5.3.2.6 gives this reply 10 minutes).
    pub data_reply_timeout_seconds: u64,
    /// The local hour at which digests are sent.
    pub digest_hour: u32,
    /// The time zone of members who set none: an IANA name (`Europe/Paris`, `UTC`). Its
    /// shape is checked here; whether PostgreSQL knows it, when the server starts (the
    /// configuration is read before any database is reached).
    pub default_time_zone: String,
    /// How often the server looks for members owed a digest.
    pub digest_interval_seconds: u64,
}

impl EmailSettings {
    /// Where links in mails point, without a trailing slash.
    pub fn link_base(&self, public_url: &Url) -> String {
        let base = if self.base_url.is_empty() {
            public_url.as_str()
        } else {
            self.base_url.as_str()
        };
        base.trim_end_matches('/').to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain text (a relay on the same machine or a test server).
    None,
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailVerification {
    /// A verification mail is sent; signing in does not wait for it.
    Optional,
    /// Registering needs an address, and signing in is refused until it is verified.
    Required,
}

/// A secret from the configuration: never shown by `Debug` (logs) nor `config check`.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "********"
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Origins (`https://shop.example.com`) whose pages may embed the widgets; none: the
    /// widgets cannot be framed anywhere.
    pub widget_origins: Vec<String>,
}

impl WebSettings {
    /// Whether `origin` (scheme://host[:port], as a browser sends it) may embed the widgets.
    pub fn widget_origin_allowed(&self, origin: &str) -> bool {
        self.widget_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin.trim_end_matches('/')))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Where `/metrics` is served, apart from the public port; `None` (`""`): nowhere.
    #[serde(with = "optional_address")]
    pub bind: Option<SocketAddr>,
}

/// `"ADDR:PORT"`, or `""` for none.
mod optional_address {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use std::net::SocketAddr;

    pub fn serialize<S: Serializer>(addr: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&addr.map(|a| a.to_string()).unwrap_or_default())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| {
            D::Error::custom(format!(
                "`{text}` is not an address and port like 127.0.0.1:9700 (\"\" turns it off)"
            ))
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationSettings {
    pub authorized_fetch: bool,
    pub allow_insecure_loopback_federation: bool,
    pub hosts: std::collections::BTreeMap<String, std::net::IpAddr>,
    pub blocked_instances: Vec<String>,
    pub blocked_actors: Vec<String>,
    /// Allow-list mode: only `allowed_instances` and the instances an admin allowed federate.
    pub allow_list_only: bool,
    pub allowed_instances: Vec<String>,
    pub run_delivery_workers: bool,
    pub delivery_concurrency: usize,
    pub delivery_per_host: usize,
    pub retry_first_delay_seconds: f64,
    /// Fractional hours are accepted (tests use seconds' worth).
    pub dead_after_hours: f64,
    /// The first wait before a dead instance's NodeInfo is probed; it doubles up to a day.
    pub dead_probe_first_seconds: f64,
    /// Ids of received activities are kept this long (replays older than this are applied
    /// again only if their content allows; peers stop retrying after a few days).
    pub received_activity_max_age_days: u32,
    /// Deliveries parked for a dead instance are given up once it has been failing this long.
    pub parked_delivery_max_age_days: u32,
    pub http_fetch_limit: u32,
    pub inbox_connections: u32,
    /// How often our members' bans from groups elsewhere that ran out are looked for (their
    /// Follow is sent again: no `Undo{Block}` comes when a ban runs out).
    pub bans_run_out_interval_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    pub public_url: Url,
    pub instance_name: String,
    pub data_dir: PathBuf,
    pub trusted_proxies: Vec<cenacle_domain::IpNetwork>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub pool_wait_seconds: f64,
    pub postgres_bin_dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    pub registration_mode: RegistrationMode,
    pub token_ttl_days: u32,
    pub invite_ttl_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSettings {
    pub proposal_threshold: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationSettings {
    /// Whether the public moderation log names the moderator of each action.
    pub show_moderator_names: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngagementSettings {
    pub reputation: cenacle_domain::engagement::ReputationWeights,
    pub points: cenacle_domain::engagement::PointRules,
    pub privileges: cenacle_domain::engagement::PrivilegeThresholds,
    pub ranks: Vec<cenacle_domain::engagement::RankTier>,
}

/// The gift shop and point auctions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopSettings {
    /// Days a delivered order's address is kept (what the law asks), then erased; 0: at once.
    pub address_retention_days: u32,
    /// Anti-sniping: a bid this many minutes before an auction's end extends it by as many
    /// (the default of new auctions; 0: never extended).
    pub auction_extension_minutes: u32,
    /// How often ended auctions are settled and expired addresses erased.
    pub settle_interval_seconds: u64,
}

/// The training space's courses and certificates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSettings {
    /// How often expired certificates' badges and unlocked memberships are taken back.
    pub expiry_interval_seconds: u64,
}

/// Community insights (issue 12).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsightsSettings {
    /// The longest a champions shortlist answered from its topic's snapshot may be old.
    pub shortlist_refresh_seconds: u64,
}

impl InsightsSettings {
    /// How old a snapshot may be and still answer a request.
    pub fn shortlist_max_age(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.shortlist_refresh_seconds)
    }

    /// The beat of the background refresh: a quarter of the longest age, so that a snapshot
    /// due at half of it ([`Self::shortlist_refresh_after`]) is recomputed by three quarters,
    /// before any request finds it too old.
    pub fn shortlist_refresh_beat(&self) -> std::time::Duration {
        self.shortlist_max_age() / 4
    }

    /// How old a snapshot must be for the background refresh to recompute it.
    pub fn shortlist_refresh_after(&self) -> std::time::Duration {
        self.shortlist_max_age() / 2
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// Hours after an answer (by someone else) with none accepted before the asker is
    /// reminded, once, to accept one.
    pub accept_reminder_after_hours: u32,
    /// How often the server looks for questions owed that reminder.
    pub reminder_interval_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaSettings {
    pub max_image_bytes: usize,
    pub max_video_bytes: usize,
    /// How often uploads nothing refers to, and files of the media folder no upload names,
    /// are swept; the first pass comes one period after the start.
    pub sweep_interval_seconds: u64,
    /// How old such an upload or file must be before it is swept (see
    /// [`MIN_SWEEP_GRACE_SECONDS`]).
    pub sweep_grace_seconds: u64,
}

impl MediaSettings {
    /// The beat of the orphan-upload sweep.
    pub fn sweep_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.sweep_interval_seconds)
    }

    /// How old an upload nothing refers to, or a file no upload names, must be to be swept.
    pub fn sweep_grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.sweep_grace_seconds)
    }
}

/// The shortest `media.sweep_grace_seconds` of an instance on the network: an hour. The grace
/// is the time an author has between previewing an image in the composer or the lesson editor
/// (which stores it at once) and saving the text that names it; a sweep before that deletes
/// the image under an author still writing, whose save is then refused (`media_gone`). An hour
/// is the least a long answer or lesson may take. Only the local-testing mode
/// (`federation.allow_insecure_loopback_federation`, itself only for a loopback public URL),
/// where the author is a test, goes down to [`MIN_TEST_SWEEP_GRACE_SECONDS`].
pub const MIN_SWEEP_GRACE_SECONDS: u64 = 3_600;

/// The shortest grace in the local-testing mode: a second, not none. An upload's file is
/// written before its row is recorded, and the sweep removes the old files no row names: with
/// no grace at all, it could remove a file whose row is being recorded.
pub const MIN_TEST_SWEEP_GRACE_SECONDS: u64 = 1;

/// The longest grace: thirty days, more than any draft is kept open; and what stays longer
/// unreferenced is no draft's. (A bound also keeps `now - grace` a date.)
pub const MAX_SWEEP_GRACE_SECONDS: u64 = 30 * 86_400;

/// The hard ceiling of an upload's body, whatever the configuration says.
pub const MEDIA_BODY_CAP: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    pub max_body_bytes: usize,
    pub login_per_ip: u32,
    pub login_per_account: u32,
    pub register_per_ip: u32,
    /// Mail-sending requests (forgotten password, verification again, address change) per
    /// client address, and per address named, in one window.
    pub mail_requests_per_ip: u32,
    pub mail_requests_per_address: u32,
    pub rate_window_seconds: u64,
    /// `Idempotency-Key`s (and the answers kept for them) are forgotten this long after their
    /// first use.
    pub idempotency_key_retention_hours: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("configuration key `{key}`: {message}")]
    Key { key: String, message: String },
}

impl Settings {
    /// The deprecated keys the configuration had, and what was done with each.
    pub fn deprecations(&self) -> &[Deprecation] {
        &self.deprecations
    }

    /// Logs a warning for each deprecated key: called once logging is set up, which the
    /// configuration's own `log` section decides (so not while it is read).
    pub fn warn_deprecated_keys(&self) {
        for d in &self.deprecations {
            tracing::warn!(key = d.key, "{}", d.message);
        }
    }

    /// How many inbox activities may be processed at once: the configured number, or half the
    /// pool (at least one), so that a burst of deliveries never takes every connection.
    pub fn inbox_concurrency(&self) -> usize {
        match self.federation.inbox_connections {
            0 => (self.database.pool_size as usize / 2).max(1),
            n => n as usize,
        }
    }

    /// The built-in defaults alone.
    pub fn defaults() -> Settings {
        Self::load(None, std::iter::empty()).expect("config/defaults.toml is valid")
    }

    /// Defaults, then `file`, then the given environment variables (pass `std::env::vars()`).
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        Self::load_with(file, env, |_| {})
    }

    /// Like [`Settings::load`], with `overrides` (command-line flags) applied before the
    /// settings are checked as a whole.
    pub fn load_with(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: impl FnOnce(&mut Settings),
    ) -> Result<Settings, ConfigError> {
        let mut tree = parse_toml("config/defaults.toml", DEFAULTS_TOML)?;
        // Whether the file or the environment names the zone (the defaults always do).
        let mut zone_set = false;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let file_tree = parse_toml(&path.display().to_string(), &text)?;
            zone_set |= sets_email_key(&file_tree, "default_time_zone");
            merge(&mut tree, file_tree);
        }
        let env_tree = env_overrides(env)?;
        zone_set |= sets_email_key(&env_tree, "default_time_zone");
        merge(&mut tree, env_tree);
        let deprecations = read_deprecated_keys(&mut tree, zone_set)?;
        let mut settings = Self::from_tree(tree)?;
        settings.deprecations = deprecations;
        overrides(&mut settings);
        settings.make_paths_absolute(std::env::current_dir)?;
        settings.check()?;
        Ok(settings)
    }

    /// Relative paths (the default `./data` among them) are resolved once, against the working
    /// directory at start-up: the embedded PostgreSQL resolves a relative socket folder from
    /// inside its own data folder, and a path that means one thing now must not mean another
    /// after some code changes directory.
    fn make_paths_absolute(
        &mut self,
        cwd: impl Fn() -> std::io::Result<PathBuf>,
    ) -> Result<(), ConfigError> {
        let absolute = |key: &str, path: &std::path::Path| -> Result<PathBuf, ConfigError> {
            if path.is_absolute() {
                return Ok(path.components().collect());
            }
            let base = cwd().map_err(|err| ConfigError::Key {
                key: key.into(),
                message: format!(
                    "{} is relative and cannot be made absolute: the working directory cannot be read ({err}); give an absolute path",
                    path.display()
                ),
            })?;
            // `components` drops the `.` of `./data`.
            Ok(base.join(path).components().collect())
        };
        self.server.data_dir = absolute("server.data_dir", &self.server.data_dir)?;
        if !self.database.postgres_bin_dir.is_empty() {
            let dir = absolute(
                "database.postgres_bin_dir",
                std::path::Path::new(&self.database.postgres_bin_dir),
            )?;
            self.database.postgres_bin_dir = dir.display().to_string();
        }
        Ok(())
    }

    fn from_tree(tree: toml::Table) -> Result<Settings, ConfigError> {
        let deserializer = toml::Value::Table(tree);
        serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner().to_string();
            // For an unknown field the path points at its parent; name the key itself.
            let key = match unknown_field_name(&inner) {
                Some(field) if path == "." || path.is_empty() => field,
                Some(field) => format!("{path}.{field}"),
                None => path,
            };
            ConfigError::Key {
                key,
                message: inner.trim().to_owned(),
            }
        })
    }

    /// Rules that serde's types cannot say.
    fn check(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::Key {
                key: key.into(),
                message: message.into(),
            })
        };
        if !matches!(self.server.public_url.scheme(), "http" | "https")
            || self.server.public_url.host_str().is_none()
        {
            return bad("server.public_url", "must be an http(s) URL with a host");
        }
        if self.server.public_url.path() != "/" {
            return bad("server.public_url", "must not have a path");
        }
        let url = &self.database.url;
        let url_ok =
            url.is_empty() || url.starts_with("postgres://") || url.starts_with("postgresql://");
        if !url_ok {
            return bad(
                "database.url",
                "must start with postgres:// or postgresql://",
            );
        }
        if self.database.pool_size == 0 {
            return bad("database.pool_size", "must be at least 1");
        }
        if !(self.database.pool_wait_seconds > 0.0 && self.database.pool_wait_seconds <= 60.0) {
            return bad(
                "database.pool_wait_seconds",
                "must be above 0 and at most 60",
            );
        }
        if self.federation.inbox_connections >= self.database.pool_size
            && self.federation.inbox_connections > 0
        {
            return bad(
                "federation.inbox_connections",
                "must be below database.pool_size, so that the API always keeps connections",
            );
        }
        if self.accounts.token_ttl_days == 0 {
            return bad("accounts.token_ttl_days", "must be at least 1");
        }
        if self.limits.max_body_bytes < 1024 {
            return bad("limits.max_body_bytes", "must be at least 1024");
        }
        let fed = &self.federation;
        if !fed.hosts.is_empty() && !fed.allow_insecure_loopback_federation {
            return bad(
                "federation.hosts",
                "host overrides need federation.allow_insecure_loopback_federation = true",
            );
        }
        if let Some((host, ip)) = fed.hosts.iter().find(|(_, ip)| !ip.is_loopback()) {
            return bad(
                "federation.hosts",
                &format!("{host} = {ip}: only loopback addresses are allowed"),
            );
        }
        if fed.allow_insecure_loopback_federation && !self.public_url_is_loopback() {
            return bad(
                "federation.allow_insecure_loopback_federation",
                "only for instances whose public_url is a loopback host (localhost, 127.0.0.0/8, or a name in federation.hosts)",
            );
        }
        if fed.delivery_concurrency == 0 || fed.delivery_per_host == 0 {
            return bad(
                "federation.delivery_concurrency",
                "must be at least 1 (and delivery_per_host too)",
            );
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(fed.retry_first_delay_seconds) || fed.retry_first_delay_seconds > 3_600.0 {
            return bad(
                "federation.retry_first_delay_seconds",
                "must be a positive number of seconds, at most an hour",
            );
        }
        // Retries (14, doubling from the first delay: about two days at the default) must
        // outlast this, so that a host failing that long is parked, never given up.
        if !positive(fed.dead_after_hours) || fed.dead_after_hours > 48.0 {
            return bad(
                "federation.dead_after_hours",
                "must be a positive number of hours, at most 48",
            );
        }
        if !positive(fed.dead_probe_first_seconds) || fed.dead_probe_first_seconds > 86_400.0 {
            return bad(
                "federation.dead_probe_first_seconds",
                "must be a positive number of seconds, at most a day",
            );
        }
        // Peers retry a delivery for up to about two days (Mastodon: ~4 days); a shorter
        // memory would apply their late retries twice.
        if !(7..=3_650).contains(&fed.received_activity_max_age_days) {
            return bad(
                "federation.received_activity_max_age_days",
                "must be from 7 (longer than any peer's retry window) to 3650",
            );
        }
        // A parked delivery is only given up once the instance has been dead a while: at
        // least a week (an instance moving servers), at most a year.
        if !(7..=365).contains(&fed.parked_delivery_max_age_days) {
            return bad(
                "federation.parked_delivery_max_age_days",
                "must be from 7 to 365 days",
            );
        }
        if self.media.max_video_bytes > MEDIA_BODY_CAP
            || self.media.max_image_bytes > MEDIA_BODY_CAP
        {
            return bad("media.max_video_bytes", "must be at most 512 MiB");
        }
        self.check_media_sweep()?;
        if self.groups.proposal_threshold == 0 {
            return bad("groups.proposal_threshold", "must be at least 1");
        }
        if self.shop.address_retention_days > 3_650 {
            return bad(
                "shop.address_retention_days",
                "must be from 0 to 3650 (ten years)",
            );
        }
        if self.shop.auction_extension_minutes > 1_440 {
            return bad(
                "shop.auction_extension_minutes",
                "must be from 0 to 1440 (a day)",
            );
        }
        if !(1..=3_600).contains(&self.shop.settle_interval_seconds) {
            return bad("shop.settle_interval_seconds", "must be from 1 to 3600");
        }
        if !(1..=86_400).contains(&self.federation.bans_run_out_interval_seconds) {
            return bad(
                "federation.bans_run_out_interval_seconds",
                "must be from 1 to 86400",
            );
        }
        if !(1..=86_400).contains(&self.training.expiry_interval_seconds) {
            return bad(
                "training.expiry_interval_seconds",
                "must be from 1 to 86400",
            );
        }
        if !(1..=86_400).contains(&self.insights.shortlist_refresh_seconds) {
            return bad(
                "insights.shortlist_refresh_seconds",
                "must be from 1 to 86400",
            );
        }
        if !(1..=8_760).contains(&self.notifications.accept_reminder_after_hours) {
            return bad(
                "notifications.accept_reminder_after_hours",
                "must be from 1 to 8760",
            );
        }
        if !(10..=86_400).contains(&self.notifications.reminder_interval_seconds) {
            return bad(
                "notifications.reminder_interval_seconds",
                "must be from 10 to 86400",
            );
        }
        if let Some(metrics) = self.metrics.bind {
            let public = self.server.bind;
            let same_ip = metrics.ip() == public.ip()
                || metrics.ip().is_unspecified()
                || public.ip().is_unspecified();
            if metrics.port() != 0 && metrics.port() == public.port() && same_ip {
                return bad(
                    "metrics.bind",
                    "must not be the public address (server.bind): metrics stay off the public port",
                );
            }
        }
        for origin in &self.web.widget_origins {
            let parsed = Url::parse(origin).ok();
            let is_origin = parsed.as_ref().is_some_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && u.username().is_empty()
                    && u.origin().ascii_serialization() == origin.trim_end_matches('/')
            });
            if !is_origin {
                return bad(
                    "web.widget_origins",
                    &format!("`{origin}` is not an origin like https://shop.example.com (scheme, host and port only, lower case)"),
                );
            }
        }
        if self.server.data_dir.as_os_str().is_empty() {
            return bad("server.data_dir", "must not be empty");
        }
        // A client retries within minutes; a year of keys is more than anyone needs to keep.
        if !(1..=8_760).contains(&self.limits.idempotency_key_retention_hours) {
            return bad(
                "limits.idempotency_key_retention_hours",
                "must be from 1 to 8760 (a year)",
            );
        }
        if self.limits.rate_window_seconds == 0 {
            return bad("limits.rate_window_seconds", "must be at least 1");
        }
        self.check_email()
    }

    /// The orphan-upload sweep's beat and grace.
    fn check_media_sweep(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| {
            Err(ConfigError::Key {
                key: key.into(),
                message,
            })
        };
        // 0 would be a beat that never waits. At most a day: the first pass comes one period
        // after the start (a rolling restart of several servers must not run it once per
        // server), so with a longer one, restarts as often as that would never sweep.
        if !(1..=86_400).contains(&self.media.sweep_interval_seconds) {
            return bad(
                "media.sweep_interval_seconds",
                "must be from 1 to 86400 (a day)".into(),
            );
        }
        let testing = self.federation.allow_insecure_loopback_federation;
        let floor = if testing {
            MIN_TEST_SWEEP_GRACE_SECONDS
        } else {
            MIN_SWEEP_GRACE_SECONDS
        };
        let grace = self.media.sweep_grace_seconds;
        if grace > MAX_SWEEP_GRACE_SECONDS {
            return bad(
                "media.sweep_grace_seconds",
                format!("must be at most {MAX_SWEEP_GRACE_SECONDS} (30 days)"),
            );
        }
        if grace < floor {
            let why = if testing {
                "an upload's file is written before its row is recorded"
            } else {
                "an author may still be writing the post or lesson an upload was previewed in; \
                 shorter is only for local testing (federation.allow_insecure_loopback_federation)"
            };
            return bad(
                "media.sweep_grace_seconds",
                format!("must be at least {floor}: {why}"),
            );
        }
        Ok(())
    }

    fn check_email(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| {
            Err(ConfigError::Key {
                key: key.into(),
                message: message.into(),
            })
        };
        let email = &self.email;
        if email.verification == EmailVerification::Required && !email.enabled {
            return bad(
                "email.verification",
                "\"required\" needs email.enabled = true (nobody could verify an address)",
            );
        }
        if email.enabled && email.host.trim().is_empty() {
            return bad("email.host", "must name the SMTP server when email.enabled");
        }
        if email.enabled && email.port == 0 {
            return bad("email.port", "must be a port number (25, 465, 587…)");
        }
        if email.username.is_empty() != email.password.0.is_empty() {
            return bad("email.username", "username and password go together");
        }
        if !email.username.is_empty() && email.tls == SmtpTls::None {
            return bad(
                "email.tls",
                "credentials are never sent unencrypted: use \"starttls\" or \"tls\"",
            );
        }
        let address = email
            .from
            .rsplit_once('<')
            .map(|(_, rest)| rest.trim_end_matches('>'))
            .unwrap_or(&email.from)
            .trim();
        if email.enabled && cenacle_domain::validate_email(address).is_err() {
            return bad(
                "email.from",
                "must be an address, or `Name <address>`, when email.enabled",
            );
        }
        if email.digest_hour > 23 {
            return bad("email.digest_hour", "must be from 0 to 23");
        }
        if !cenacle_domain::digest::valid_time_zone_name(&email.default_time_zone) {
            return bad(
                "email.default_time_zone",
                "must be a time-zone name such as \"Europe/Paris\" or \"UTC\"",
            );
        }
        if !(10..=86_400).contains(&email.digest_interval_seconds) {
            return bad("email.digest_interval_seconds", "must be from 10 to 86400");
        }
        if !email.base_url.is_empty() {
            let ok = Url::parse(&email.base_url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
            if !ok {
                return bad("email.base_url", "must be \"\" or an http(s) URL");
            }
        }
        if !(1..=720).contains(&email.verify_token_ttl_hours) {
            return bad("email.verify_token_ttl_hours", "must be from 1 to 720");
        }
        if !(1..=1_440).contains(&email.reset_token_ttl_minutes) {
            return bad(
                "email.reset_token_ttl_minutes",
                "must be from 1 to 1440 (a day)",
            );
        }
        if !(1..=720).contains(&email.change_token_ttl_hours) {
            return bad("email.change_token_ttl_hours", "must be from 1 to 720");
        }
        if !(1..=cenacle_domain::delivery::MAX_ATTEMPTS).contains(&email.max_attempts) {
            return bad("email.max_attempts", "must be from 1 to 14");
        }
        let first = email.retry_first_delay_seconds;
        if !(first.is_finite() && first > 0.0 && first <= 3_600.0) {
            return bad(
                "email.retry_first_delay_seconds",
                "must be a positive number of seconds, at most an hour",
            );
        }
        if !(1..=300).contains(&email.timeout_seconds) {
            return bad("email.timeout_seconds", "must be from 1 to 300");
        }
        if !(1..=3_600).contains(&email.data_reply_timeout_seconds) {
            return bad("email.data_reply_timeout_seconds", "must be from 1 to 3600");
        }
        Ok(())
    }

    /// The public URL without its trailing slash, for building ids.
    pub fn public_base(&self) -> String {
        self.server
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }

    /// Whether the public URL's host is a loopback name or address (for the test mode).
    pub fn public_url_is_loopback(&self) -> bool {
        match self.server.public_url.host() {
            Some(url::Host::Domain(name)) => {
                name == "localhost"
                    || self
                        .federation
                        .hosts
                        .get(name)
                        .is_some_and(|ip| ip.is_loopback())
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }

    /// True when the server should run its own PostgreSQL cluster.
    pub fn uses_embedded_database(&self) -> bool {
        self.database.url.is_empty()
    }

    /// The effective configuration as TOML with secrets replaced, for `cenacle config check`.
    pub fn to_masked_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = mask_url_password(&shown.database.url);
        if !shown.email.password.0.is_empty() {
            shown.email.password = Password("********".into());
        }
        toml::to_string_pretty(&shown).expect("settings serialise")
    }
}

/// Whether `tree` (a file's or the environment's) has `email.<key>`.
fn sets_email_key(tree: &toml::Table, key: &str) -> bool {
    tree.get("email")
        .and_then(toml::Value::as_table)
        .is_some_and(|email| email.contains_key(key))
}

/// Takes the removed `email.default_utc_offset_minutes` out of the merged tree, so that an
/// instance upgraded with its old configuration still starts. When neither the file nor the
/// environment names `email.default_time_zone` (`zone_set`), the offset becomes the zone of
/// the place whose clock it is, as migration `2026-12-01-003117_digest_time_zone` carried members' offsets over
/// (same table: [`cenacle_domain::digest::zone_of_utc_offset`]), or is refused, naming the
/// key, when no one zone does; otherwise it is ignored. Either way the operator is told to
/// replace it.
fn read_deprecated_keys(
    tree: &mut toml::Table,
    zone_set: bool,
) -> Result<Vec<Deprecation>, ConfigError> {
    const KEY: &str = "email.default_utc_offset_minutes";
    let Some(toml::Value::Table(email)) = tree.get_mut("email") else {
        return Ok(vec![]);
    };
    let Some(old) = email.remove(OLD_OFFSET_KEY) else {
        return Ok(vec![]);
    };
    if zone_set {
        let zone = email
            .get("default_time_zone")
            .and_then(toml::Value::as_str)
            .unwrap_or_default();
        return Ok(vec![Deprecation {
            key: KEY,
            message: format!(
                "configuration key `{KEY}` is deprecated and ignored: `email.default_time_zone` \
                 (\"{zone}\") is set; remove `{KEY}`"
            ),
        }]);
    }
    let refuse = |message: String| ConfigError::Key {
        key: KEY.into(),
        message,
    };
    let minutes = old
        .as_integer()
        .and_then(|m| i32::try_from(m).ok())
        .ok_or_else(|| {
            refuse(format!(
                "deprecated, and `{old}` is not a whole number of minutes: replace it with \
                 email.default_time_zone (a time-zone name such as \"Europe/Paris\")"
            ))
        })?;
    let zone = cenacle_domain::digest::zone_of_utc_offset(minutes).ok_or_else(|| {
        refuse(format!(
            "deprecated, and no one time zone keeps an offset of {minutes} minutes: replace it \
             with email.default_time_zone (a time-zone name such as \"Europe/Paris\")"
        ))
    })?;
    // Whole hours and the offsets some place keeps all year map to a zone that never changes;
    // the few offsets one place uses only part of the year (Newfoundland, Chatham) map to that
    // place, whose other season then comes too: said, as the operator did not ask for it.
    let seasons = if zone.starts_with("Etc/") || zone == "UTC" {
        ""
    } else {
        " (that place's clock, summer and winter)"
    };
    let message = format!(
        "configuration key `{KEY}` is deprecated: its {minutes} minutes are read as \
         `email.default_time_zone` = \"{zone}\"{seasons}; replace `{KEY}` with \
         `email.default_time_zone` (your city, such as \"Europe/Paris\", follows summer time)"
    );
    email.insert("default_time_zone".into(), toml::Value::String(zone));
    Ok(vec![Deprecation { key: KEY, message }])
}

fn parse_toml(path: &str, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|err| ConfigError::Syntax {
            path: path.to_owned(),
            message: err.to_string(),
        })
}

/// Lays `overlay` over `base`, table by table.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(over_table)) => {
                merge(base_table, over_table)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `CENACLE_SECTION__KEY=value` → `{section: {key: value}}`. A value is read as a TOML value
/// when it parses as one (numbers, booleans) and as a string otherwise. Variables with the
/// prefix but without `__` are not configuration keys (e.g. CENACLE_LOG for tools) and are left
/// alone; `DATABASE_URL` is the conventional name of database.url.
fn env_overrides(
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<toml::Table, ConfigError> {
    let mut tree = toml::Table::new();
    for (name, raw) in env {
        let path: Vec<String> = if name == "DATABASE_URL" {
            vec!["database".into(), "url".into()]
        } else if let Some(rest) = name.strip_prefix(ENV_PREFIX) {
            if !rest.contains("__") {
                continue;
            }
            rest.split("__").map(|p| p.to_ascii_lowercase()).collect()
        } else {
            continue;
        };
        let value = format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(raw));
        let mut table = &mut tree;
        for segment in &path[..path.len() - 1] {
            let entry = table
                .entry(segment.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            table = match entry {
                toml::Value::Table(t) => t,
                _ => {
                    return Err(ConfigError::Key {
                        key: path.join("."),
                        message: format!("environment variable {name} conflicts with another"),
                    })
                }
            };
        }
        table.insert(path[path.len() - 1].clone(), value);
    }
    Ok(tree)
}

fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    Some(rest.split('`').next()?.to_owned())
}

/// Replaces the password of a `scheme://user:password@host/...` URL with `********`.
pub fn mask_url_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("********"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn defaults_parse_and_listen_on_8700() {
        let s = Settings::defaults();
        assert_eq!(s.server.bind.port(), 8700);
        assert!(s.uses_embedded_database());
        assert_eq!(s.accounts.registration_mode, RegistrationMode::Open);
        assert_eq!(s.training.expiry_interval_seconds, 60);
    }

    #[test]
    fn the_pass_over_bans_run_out_has_its_own_interval() {
        assert_eq!(
            Settings::defaults()
                .federation
                .bans_run_out_interval_seconds,
            60
        );
        let key = "CENACLE_FEDERATION__BANS_RUN_OUT_INTERVAL_SECONDS";
        let s = Settings::load(None, env(&[(key, "1")])).unwrap();
        assert_eq!(s.federation.bans_run_out_interval_seconds, 1);
        let err = Settings::load(None, env(&[(key, "0")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("federation.bans_run_out_interval_seconds"),
            "{err}"
        );
    }

    #[test]
    fn the_certificate_expiry_sweep_has_its_own_interval() {
        let s = Settings::load(
            None,
            env(&[("CENACLE_TRAINING__EXPIRY_INTERVAL_SECONDS", "1")]),
        )
        .unwrap();
        assert_eq!(s.training.expiry_interval_seconds, 1);
        assert_eq!(s.shop.settle_interval_seconds, 15);
        let err = Settings::load(
            None,
            env(&[("CENACLE_TRAINING__EXPIRY_INTERVAL_SECONDS", "0")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("training.expiry_interval_seconds"), "{err}");
    }

    #[test]
    fn shortlist_snapshots_have_a_longest_age() {
        let s = Settings::defaults();
        assert_eq!(s.insights.shortlist_refresh_seconds, 900);
        assert_eq!(
            s.insights.shortlist_refresh_beat(),
            std::time::Duration::from_secs(225)
        );
        assert_eq!(
            s.insights.shortlist_refresh_after(),
            std::time::Duration::from_secs(450)
        );
        let key = "CENACLE_INSIGHTS__SHORTLIST_REFRESH_SECONDS";
        let s = Settings::load(None, env(&[(key, "1")])).unwrap();
        assert_eq!(
            s.insights.shortlist_refresh_beat(),
            std::time::Duration::from_millis(250)
        );
        let err = Settings::load(None, env(&[(key, "0")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("insights.shortlist_refresh_seconds"), "{err}");
    }

    /// The orphan-upload sweep's beat and grace: an hour and a day unless set; an operator may
    /// keep drafts' images longer; nonsense, and a grace that would delete images under an
    /// author still writing, are refused naming the key (seconds only in the local-testing
    /// mode, and never none).
    #[test]
    fn the_media_sweep_beat_and_grace_are_settings_with_floors() {
        let s = Settings::defaults();
        assert_eq!(
            s.media.sweep_interval(),
            std::time::Duration::from_secs(3_600)
        );
        assert_eq!(
            s.media.sweep_grace(),
            std::time::Duration::from_secs(86_400)
        );
        let s = Settings::load(
            None,
            env(&[
                ("CENACLE_MEDIA__SWEEP_INTERVAL_SECONDS", "7200"),
                ("CENACLE_MEDIA__SWEEP_GRACE_SECONDS", "604800"),
            ]),
        )
        .unwrap();
        assert_eq!(s.media.sweep_interval_seconds, 7_200);
        assert_eq!(s.media.sweep_grace_seconds, 604_800);
        let testing = (
            "CENACLE_FEDERATION__ALLOW_INSECURE_LOOPBACK_FEDERATION",
            "true",
        );
        let s = Settings::load(
            None,
            env(&[
                testing,
                ("CENACLE_MEDIA__SWEEP_INTERVAL_SECONDS", "1"),
                ("CENACLE_MEDIA__SWEEP_GRACE_SECONDS", "2"),
            ]),
        )
        .unwrap();
        assert_eq!(s.media.sweep_grace_seconds, 2);

        let refusal = |vars: &[(&str, &str)]| match Settings::load(None, env(vars)) {
            Err(ConfigError::Key { key, message }) => (key, message),
            other => panic!("{vars:?}: expected a refusal, got {other:?}"),
        };
        let interval = "media.sweep_interval_seconds";
        let grace = "media.sweep_grace_seconds";
        for (vars, key) in [
            (
                vec![("CENACLE_MEDIA__SWEEP_INTERVAL_SECONDS", "0")],
                interval,
            ),
            (
                vec![("CENACLE_MEDIA__SWEEP_INTERVAL_SECONDS", "86401")],
                interval,
            ),
            (
                vec![("CENACLE_MEDIA__SWEEP_INTERVAL_SECONDS", "-1")],
                interval,
            ),
            (vec![("CENACLE_MEDIA__SWEEP_GRACE_SECONDS", "soon")], grace),
            (
                vec![("CENACLE_MEDIA__SWEEP_GRACE_SECONDS", "2592001")],
                grace,
            ),
            (
                vec![testing, ("CENACLE_MEDIA__SWEEP_GRACE_SECONDS", "0")],
                grace,
            ),
        ] {
            assert_eq!(refusal(&vars).0, key, "{vars:?}");
        }
        // Below an hour on the network: the message says why, and what allows it.
        let (key, message) = refusal(&[("CENACLE_MEDIA__SWEEP_GRACE_SECONDS", "60")]);
        assert_eq!(key, grace);
        assert!(
            message.contains("at least 3600")
                && message.contains("federation.allow_insecure_loopback_federation"),
            "{message}"
        );
    }

    #[test]
    fn a_file_and_the_environment_override_defaults_in_that_order() {
        let f =
            file("[accounts]\nregistration_mode = \"closed\"\n[server]\nbind = \"0.0.0.0:9000\"\n");
        let s = Settings::load(
            Some(f.path()),
            env(&[
                ("CENACLE_SERVER__BIND", "127.0.0.1:9100"),
                ("CENACLE_LIMITS__LOGIN_PER_IP", "3"),
                ("DATABASE_URL", "postgres://u:p@db/c"),
                ("CENACLE_UNRELATED", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(s.accounts.registration_mode, RegistrationMode::Closed);
        assert_eq!(s.server.bind.port(), 9100);
        assert_eq!(s.limits.login_per_ip, 3);
        assert!(!s.uses_embedded_database());
    }

    #[test]
    fn unknown_keys_are_named() {
        let f = file("[server]\nbnid = \"0.0.0.0:9000\"\n");
        let err = Settings::load(Some(f.path()), []).unwrap_err().to_string();
        assert!(err.contains("server.bnid"), "{err}");
        let f = file("[serveur]\nbind = \"0.0.0.0:9000\"\n");
        let err = Settings::load(Some(f.path()), []).unwrap_err().to_string();
        assert!(err.contains("serveur"), "{err}");
        let err = Settings::load(None, env(&[("CENACLE_LIMITS__NOPE", "1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("limits.nope"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let err = Settings::load(
            None,
            env(&[("CENACLE_ACCOUNTS__REGISTRATION_MODE", "sometimes")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("accounts.registration_mode"), "{err}");
        let err = Settings::load(None, env(&[("CENACLE_SERVER__BIND", "nowhere")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.bind"), "{err}");
        let err = Settings::load(None, env(&[("DATABASE_URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.url"), "{err}");
    }

    #[test]
    fn queue_timings_are_checked_and_named() {
        for (key, value, named) in [
            (
                "CENACLE_FEDERATION__RECEIVED_ACTIVITY_MAX_AGE_DAYS",
                "3",
                "federation.received_activity_max_age_days",
            ),
            (
                "CENACLE_FEDERATION__DEAD_PROBE_FIRST_SECONDS",
                "0",
                "federation.dead_probe_first_seconds",
            ),
            (
                "CENACLE_LIMITS__IDEMPOTENCY_KEY_RETENTION_HOURS",
                "0",
                "limits.idempotency_key_retention_hours",
            ),
            (
                "CENACLE_FEDERATION__DEAD_AFTER_HOURS",
                "-1",
                "federation.dead_after_hours",
            ),
            (
                "CENACLE_FEDERATION__DEAD_AFTER_HOURS",
                "1e300",
                "federation.dead_after_hours",
            ),
            (
                "CENACLE_FEDERATION__RECEIVED_ACTIVITY_MAX_AGE_DAYS",
                "4000000000",
                "federation.received_activity_max_age_days",
            ),
            (
                "CENACLE_FEDERATION__RETRY_FIRST_DELAY_SECONDS",
                "1e300",
                "federation.retry_first_delay_seconds",
            ),
            (
                "CENACLE_FEDERATION__PARKED_DELIVERY_MAX_AGE_DAYS",
                "2",
                "federation.parked_delivery_max_age_days",
            ),
        ] {
            let err = Settings::load(None, env(&[(key, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(named), "{key}={value}: {err}");
        }
        let ok = Settings::load(
            None,
            env(&[("CENACLE_FEDERATION__DEAD_AFTER_HOURS", "0.5")]),
        )
        .unwrap();
        assert_eq!(ok.federation.dead_after_hours, 0.5);
        assert_eq!(ok.federation.received_activity_max_age_days, 30);
        assert_eq!(ok.federation.parked_delivery_max_age_days, 30);
    }

    #[test]
    fn insecure_federation_is_only_for_loopback_instances() {
        let err = Settings::load(
            None,
            env(&[
                (
                    "CENACLE_SERVER__PUBLIC_URL",
                    "https://community.example.org",
                ),
                (
                    "CENACLE_FEDERATION__ALLOW_INSECURE_LOOPBACK_FEDERATION",
                    "true",
                ),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("allow_insecure_loopback_federation"), "{err}");
        let ok = Settings::load(
            None,
            env(&[
                ("CENACLE_SERVER__PUBLIC_URL", "http://alpha.test:41001"),
                (
                    "CENACLE_FEDERATION__ALLOW_INSECURE_LOOPBACK_FEDERATION",
                    "true",
                ),
                (
                    "CENACLE_FEDERATION__HOSTS",
                    r#"{ "alpha.test" = "127.0.0.1", "beta.test" = "127.0.0.1" }"#,
                ),
            ]),
        )
        .unwrap();
        assert_eq!(ok.federation.hosts.len(), 2);
        let err = Settings::load(
            None,
            env(&[
                (
                    "CENACLE_FEDERATION__ALLOW_INSECURE_LOOPBACK_FEDERATION",
                    "true",
                ),
                (
                    "CENACLE_FEDERATION__HOSTS",
                    r#"{ "evil.test" = "10.0.0.1" }"#,
                ),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("only loopback"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_cidr_ranges_and_bad_ones_are_named() {
        let s = Settings::load(
            None,
            env(&[(
                "CENACLE_SERVER__TRUSTED_PROXIES",
                r#"["172.30.87.10", "10.0.0.0/8", "2001:db8::/32"]"#,
            )]),
        )
        .unwrap();
        assert_eq!(s.server.trusted_proxies.len(), 3);
        assert!(Settings::defaults().server.trusted_proxies.is_empty());
        for bad in [
            r#"["10.0.0.0/40"]"#,
            r#"["proxy.internal"]"#,
            r#""10.0.0.1""#,
        ] {
            let err = Settings::load(None, env(&[("CENACLE_SERVER__TRUSTED_PROXIES", bad)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("server.trusted_proxies"), "{bad}: {err}");
        }
    }

    #[test]
    fn metrics_have_their_own_address_off_the_public_port() {
        let s = Settings::defaults();
        assert_eq!(s.metrics.bind, Some("127.0.0.1:9700".parse().unwrap()));
        let off = Settings::load(None, env(&[("CENACLE_METRICS__BIND", "")])).unwrap();
        assert_eq!(off.metrics.bind, None);
        for bad in ["nowhere", "127.0.0.1:8700", "0.0.0.0:8700"] {
            let err = Settings::load(None, env(&[("CENACLE_METRICS__BIND", bad)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("metrics.bind"), "{bad}: {err}");
        }
        assert!(s.to_masked_toml().contains("[metrics]"));
    }

    #[test]
    fn relative_paths_are_made_absolute_against_the_working_directory() {
        let s = Settings::defaults();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(s.server.data_dir, cwd.join("data"));
        let s = Settings::load(
            None,
            env(&[
                ("CENACLE_SERVER__DATA_DIR", "/srv/./cenacle"),
                ("CENACLE_DATABASE__POSTGRES_BIN_DIR", "pg/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.data_dir, PathBuf::from("/srv/cenacle"));
        assert_eq!(
            s.database.postgres_bin_dir,
            cwd.join("pg/bin").display().to_string()
        );
    }

    #[test]
    fn a_relative_path_that_cannot_be_made_absolute_is_named() {
        let mut s = Settings::defaults();
        s.server.data_dir = PathBuf::from("data");
        let gone = || Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        let err = s.make_paths_absolute(gone).unwrap_err().to_string();
        assert!(err.contains("server.data_dir"), "{err}");
        s.server.data_dir = PathBuf::from("/srv/cenacle");
        s.database.postgres_bin_dir = "bin".into();
        let err = s.make_paths_absolute(gone).unwrap_err().to_string();
        assert!(err.contains("database.postgres_bin_dir"), "{err}");
    }

    #[test]
    fn secrets_are_masked() {
        let s = Settings::load(
            None,
            env(&[("DATABASE_URL", "postgres://cen:hunter2@db/c")]),
        )
        .unwrap();
        let shown = s.to_masked_toml();
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("********"));
    }

    #[test]
    fn the_smtp_password_is_never_shown() {
        let s = Settings::load(
            None,
            env(&[
                ("CENACLE_EMAIL__USERNAME", "mailer"),
                ("CENACLE_EMAIL__PASSWORD", "smtp-hunter2"),
            ]),
        )
        .unwrap();
        assert!(!s.to_masked_toml().contains("smtp-hunter2"));
        assert!(!format!("{s:?}").contains("smtp-hunter2"));
    }

    #[test]
    fn bad_email_settings_are_refused_naming_the_key() {
        let key_of = |vars: &[(&str, &str)]| match Settings::load(None, env(vars)) {
            Err(ConfigError::Key { key, .. }) => key,
            other => panic!("expected a refusal, got {other:?}"),
        };
        let on = ("CENACLE_EMAIL__ENABLED", "true");
        let from = ("CENACLE_EMAIL__FROM", "Club <club@example.org>");
        assert_eq!(key_of(&[on]), "email.from");
        assert_eq!(
            key_of(&[on, ("CENACLE_EMAIL__FROM", "nobody")]),
            "email.from"
        );
        assert_eq!(
            key_of(&[on, from, ("CENACLE_EMAIL__HOST", " ")]),
            "email.host"
        );
        assert_eq!(
            key_of(&[on, from, ("CENACLE_EMAIL__TLS", "sometimes")]),
            "email.tls"
        );
        assert_eq!(
            key_of(&[("CENACLE_EMAIL__VERIFICATION", "required")]),
            "email.verification"
        );
        assert_eq!(
            key_of(&[
                on,
                from,
                ("CENACLE_EMAIL__TLS", "none"),
                ("CENACLE_EMAIL__USERNAME", "u"),
                ("CENACLE_EMAIL__PASSWORD", "p")
            ]),
            "email.tls"
        );
        assert_eq!(
            key_of(&[("CENACLE_EMAIL__PASSWORD", "p")]),
            "email.username"
        );
        assert_eq!(
            key_of(&[("CENACLE_EMAIL__MAX_ATTEMPTS", "0")]),
            "email.max_attempts"
        );
        assert_eq!(
            key_of(&[("CENACLE_EMAIL__RESET_TOKEN_TTL_MINUTES", "0")]),
            "email.reset_token_ttl_minutes"
        );
        assert_eq!(
            key_of(&[("CENACLE_EMAIL__BASE_URL", "ftp://x")]),
            "email.base_url"
        );
        // A name's shape here; whether PostgreSQL knows it, when the server starts.
        for zone in ["", "+01:00", "../Europe/Paris", "localtime"] {
            assert_eq!(
                key_of(&[("CENACLE_EMAIL__DEFAULT_TIME_ZONE", zone)]),
                "email.default_time_zone",
                "{zone:?}"
            );
        }
        let paris = ("CENACLE_EMAIL__DEFAULT_TIME_ZONE", "Europe/Paris");
        assert!(Settings::load(None, env(&[paris])).is_ok());
        assert!(Settings::load(None, env(&[on, from])).is_ok());
    }

    /// An instance upgraded with its old configuration still starts: the removed
    /// `email.default_utc_offset_minutes` is read, at each start, as the zone of the place
    /// whose clock that offset is, from the file or the environment alike.
    #[test]
    fn the_old_offset_key_is_read_as_the_zone_keeping_that_offset() {
        for (minutes, zone) in [
            ("0", "UTC"),
            ("60", "Etc/GMT-1"),
            ("-300", "Etc/GMT+5"),
            ("840", "Etc/GMT-14"),
            ("210", "Asia/Tehran"),
            ("-210", "America/St_Johns"),
            ("330", "Asia/Kolkata"),
        ] {
            let f = file(&format!(
                "[email]\ndigest_hour = 7\ndefault_utc_offset_minutes = {minutes}\n"
            ));
            let s = Settings::load(Some(f.path()), []).unwrap();
            assert_eq!(s.email.default_time_zone, zone, "file: {minutes}");
            assert_eq!(s.email.digest_hour, 7);
            let s = Settings::load(
                None,
                env(&[("CENACLE_EMAIL__DEFAULT_UTC_OFFSET_MINUTES", minutes)]),
            )
            .unwrap();
            assert_eq!(s.email.default_time_zone, zone, "environment: {minutes}");
            // `config check` shows what is in force, under the new key only.
            let shown = s.to_masked_toml();
            assert!(!shown.contains("default_utc_offset_minutes"), "{shown}");
            assert!(
                shown.contains(&format!("default_time_zone = \"{zone}\"")),
                "{shown}"
            );
        }
    }

    #[test]
    fn the_old_offset_key_is_reported_as_deprecated_naming_both_keys() {
        let f = file("[email]\ndefault_utc_offset_minutes = 60\n");
        let s = Settings::load(Some(f.path()), []).unwrap();
        let [notice] = s.deprecations() else {
            panic!("one notice expected: {:?}", s.deprecations());
        };
        assert_eq!(notice.key, "email.default_utc_offset_minutes");
        assert!(
            notice.message.contains("email.default_utc_offset_minutes")
                && notice.message.contains("email.default_time_zone")
                && notice.message.contains("Etc/GMT-1"),
            "{}",
            notice.message
        );
        assert!(Settings::defaults().deprecations().is_empty());
        let f = file("[email]\ndefault_time_zone = \"Europe/Paris\"\n");
        assert!(Settings::load(Some(f.path()), [])
            .unwrap()
            .deprecations()
            .is_empty());
    }

    /// Set alongside `default_time_zone` (in the file, the environment, or one in each), the
    /// old key is ignored, and the warning says so.
    #[test]
    fn with_both_keys_the_time_zone_wins_and_the_old_key_is_ignored() {
        let both = file(
            "[email]\ndefault_time_zone = \"Europe/Paris\"\ndefault_utc_offset_minutes = 60\n",
        );
        let old_only = file("[email]\ndefault_utc_offset_minutes = 60\n");
        let zone_only = file("[email]\ndefault_time_zone = \"Europe/Paris\"\n");
        let zone_env = ("CENACLE_EMAIL__DEFAULT_TIME_ZONE", "Europe/Paris");
        let old_env = ("CENACLE_EMAIL__DEFAULT_UTC_OFFSET_MINUTES", "60");
        for (what, f, vars) in [
            ("both in the file", Some(&both), vec![]),
            ("both in the environment", None, vec![zone_env, old_env]),
            (
                "old in the file, zone in the environment",
                Some(&old_only),
                vec![zone_env],
            ),
            (
                "zone in the file, old in the environment",
                Some(&zone_only),
                vec![old_env],
            ),
        ] {
            let s = Settings::load(f.map(|f| f.path()), env(&vars)).unwrap();
            assert_eq!(s.email.default_time_zone, "Europe/Paris", "{what}");
            let [notice] = s.deprecations() else {
                panic!("{what}: one notice expected: {:?}", s.deprecations());
            };
            assert!(
                notice.message.contains("ignored")
                    && notice.message.contains("email.default_utc_offset_minutes")
                    && notice.message.contains("email.default_time_zone"),
                "{what}: {}",
                notice.message
            );
        }
    }

    #[test]
    fn an_old_offset_no_one_zone_keeps_is_refused_naming_the_key() {
        for bad in ["90", "630", "7", "900", "-780", "\"60\"", "1.5"] {
            let f = file(&format!("[email]\ndefault_utc_offset_minutes = {bad}\n"));
            match Settings::load(Some(f.path()), []) {
                Err(ConfigError::Key { key, message }) => {
                    assert_eq!(key, "email.default_utc_offset_minutes", "{bad}");
                    assert!(
                        message.contains("email.default_time_zone"),
                        "{bad}: {message}"
                    );
                }
                other => panic!("{bad}: expected a refusal, got {other:?}"),
            }
        }
        // Ignored when the zone is set: nothing to read it as.
        let f = file("[email]\ndefault_time_zone = \"UTC\"\ndefault_utc_offset_minutes = 90\n");
        assert!(Settings::load(Some(f.path()), []).is_ok());
    }

    /// The notices are logged once the program's logging is set up (the configuration is
    /// read before: its `log` section says how), as warnings naming both keys.
    #[test]
    fn deprecated_keys_are_logged_as_warnings() {
        #[derive(Clone, Default)]
        struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Captured {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let f = file("[email]\ndefault_utc_offset_minutes = -300\n");
        let s = Settings::load(Some(f.path()), []).unwrap();
        tracing::subscriber::with_default(subscriber, || s.warn_deprecated_keys());
        let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("WARN"), "{logged}");
        assert!(
            logged.contains("email.default_utc_offset_minutes")
                && logged.contains("email.default_time_zone")
                && logged.contains("Etc/GMT+5"),
            "{logged}"
        );
    }
}
