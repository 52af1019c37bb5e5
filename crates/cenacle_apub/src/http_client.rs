//! The HTTP client for fetches and deliveries, and the checks on where it may go.
//!
//! In production a peer's name may not resolve to a loopback, private or link-local address
//! (a fetch triggered by a remote document must not reach our internal network). In the
//! loopback test mode it is the reverse: every peer must resolve to loopback, through the
//! `federation.hosts` overrides or DNS.

use crate::{ApubError, FedDb};
use activitypub_federation::{config::UrlVerifier, error::Error as FedError};
use cenacle_config::Settings;
use cenacle_core::federation;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::{
    collections::BTreeMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};
use url::Url;

/// Timeout of one fetch or delivery: peers give up on us after about 10 s as well.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub fn build(settings: &Settings) -> Result<reqwest::Client, ApubError> {
    let resolver = PeerResolver {
        overrides: Arc::new(settings.federation.hosts.clone()),
        loopback_only: settings.federation.allow_insecure_loopback_federation,
    };
    reqwest::Client::builder()
        .user_agent(format!(
            "Cenacle/{} (+{})",
            env!("CARGO_PKG_VERSION"),
            settings.public_base()
        ))
        // Redirects could lead anywhere; the federation library follows one itself, checked.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(16)
        .dns_resolver(Arc::new(resolver))
        .build()
        .map_err(|e| ApubError::Internal(e.to_string()))
}

#[derive(Clone)]
struct PeerResolver {
    overrides: Arc<BTreeMap<String, IpAddr>>,
    loopback_only: bool,
}

impl Resolve for PeerResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                match this.overrides.get(&host).filter(|_| this.loopback_only) {
                    Some(ip) => vec![SocketAddr::new(*ip, 0)],
                    None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
                };
            for addr in &addrs {
                let ip = addr.ip().to_canonical();
                let allowed = if this.loopback_only {
                    ip.is_loopback()
                } else {
                    is_public(ip)
                };
                if !allowed {
                    return Err(format!(
                        "{host} resolves to {ip}, which this instance may not reach"
                    )
                    .into());
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Globally routable, i.e. not loopback, private, link-local, unique-local or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 // carrier-grade NAT
                || v4.octets()[0] == 0)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80) // link local
        }
    }
}

/// The host of a URL as federation compares it: with the port when there is one.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => String::new(),
    }
}

/// Refuses URLs on blocked instances (configured, or blocked by an admin in the database).
#[derive(Clone)]
pub struct BlocklistVerifier {
    db: FedDb,
}

/// Why a URL could not be checked when the database was too busy to say whether its instance
/// is blocked (see `is_transient` in the inbox).
pub const BUSY_VERIFYING: &str = "the database is too busy to check the instance";
/// Why a URL could not be checked when reading the blocklist failed: our fault (500), not
/// the peer's.
pub const FAILED_VERIFYING: &str = "the instance could not be checked";

impl BlocklistVerifier {
    pub fn new(db: FedDb) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl UrlVerifier for BlocklistVerifier {
    async fn verify(&self, url: &Url) -> Result<(), FedError> {
        let host = host_of(url);
        let blocked = is_blocked(&self.db, &host).await.map_err(|e| match e {
            // The federation crate carries only its own errors; this one must still read as
            // "try again later" to the inbox, not as a bad signer.
            ApubError::Core(core) if core.is_overloaded() => {
                FedError::UrlVerificationError(BUSY_VERIFYING)
            }
            e => {
                tracing::error!(error = %e, %host, "checking whether an instance is blocked failed");
                FedError::UrlVerificationError(FAILED_VERIFYING)
            }
        })?;
        if blocked {
            return Err(FedError::Other(format!("instance {host} is blocked")));
        }
        Ok(())
    }
}

/// Whether an instance is blocked, by configuration (with or without port) or by an admin
/// (read at most every few seconds: see `cenacle_core::federation::known_block`).
pub async fn is_blocked(db: &FedDb, host: &str) -> Result<bool, ApubError> {
    let ctx = db.ctx();
    let bare = host.split(':').next().unwrap_or(host);
    if ctx
        .settings
        .federation
        .blocked_instances
        .iter()
        .any(|b| b.eq_ignore_ascii_case(host) || b.eq_ignore_ascii_case(bare))
    {
        return Ok(true);
    }
    if let Some(blocked) = federation::known_block(ctx, host) {
        return Ok(blocked);
    }
    let mut conn = db.conn().await?;
    Ok(federation::instance_state(&mut conn, ctx, host)
        .await?
        .blocked)
}

/// An instance talked to us: it is alive (deliveries to it resume if it was marked dead).
/// Written at most once a minute per instance; a failure to write is only logged.
pub async fn note_alive(db: &FedDb, host: &str) {
    if !federation::alive_due(db.ctx(), host) {
        return;
    }
    let written = async {
        let mut conn = db.conn().await?;
        federation::record_instance_alive(&mut conn, db.ctx(), host).await
    }
    .await;
    if let Err(e) = written {
        tracing::warn!(host, error = %e, "recording an instance alive failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "0.0.0.0",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "1.1.1.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn hosts_keep_their_port() {
        assert_eq!(
            host_of(&Url::parse("http://alpha.test:41001/u/marie").unwrap()),
            "alpha.test:41001"
        );
        assert_eq!(
            host_of(&Url::parse("https://lemmy.ml/c/rust").unwrap()),
            "lemmy.ml"
        );
    }
}
