//! The HTTP client for fetches and deliveries, and the checks on where it may go.
//!
//! In production a peer may not be a loopback, private or link-local address (a fetch or a
//! delivery triggered by a remote document must not reach the operator's network). In the
//! loopback test mode it is the reverse: every peer must be on loopback, through the
//! `federation.hosts` overrides or DNS.
//!
//! Checked at three places, so that no URL form escapes:
//! - [`check_peer_url`], before anything is fetched or stored: http(s) only, and no IP
//!   literal as host outside the loopback test mode;
//! - the resolver, for names: every address they resolve to;
//! - the connector, for every connection whatever the URL's form (an IP-literal URL never
//!   calls the resolver): the address actually connected to, checked once the connection is
//!   made (for https, after the TLS handshake) and before the request is written. The two
//!   checks before it keep names and literals from getting that far; this one is the last
//!   word, should a form of address escape them.

use crate::{ApubError, FedDb};
use activitypub_federation::{config::UrlVerifier, error::Error as FedError};
use cenacle_config::Settings;
use cenacle_core::federation;
use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::{
    collections::BTreeMap,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};
use url::Url;

/// Timeout of one fetch or delivery: peers give up on us after about 10 s as well.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub fn build(settings: &Settings) -> Result<reqwest::Client, ApubError> {
    build_with(settings, 16)
}

/// The same client without idle connections kept: for deliveries to an instance that gets
/// one now and maybe nothing for a long time. A fan-out to 10,000 instances through the
/// pooling client kept 10,000 idle connections (≈25 KB each) for 90 s, and the allocator
/// kept the memory after they closed.
pub fn build_one_shot(settings: &Settings) -> Result<reqwest::Client, ApubError> {
    build_with(settings, 0)
}

fn build_with(settings: &Settings, idle_per_host: usize) -> Result<reqwest::Client, ApubError> {
    let loopback_only = settings.federation.allow_insecure_loopback_federation;
    let resolver = PeerResolver {
        overrides: Arc::new(settings.federation.hosts.clone()),
        loopback_only,
    };
    reqwest::Client::builder()
        .user_agent(format!(
            "Cenacle/{} (+{})",
            env!("CARGO_PKG_VERSION"),
            settings.public_base()
        ))
        // Redirects could lead anywhere; the federation library follows one itself, checked.
        .redirect(reqwest::redirect::Policy::none())
        // A proxy from the environment (HTTPS_PROXY) would be the only peer the address guard
        // sees: federation connects directly, always.
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(idle_per_host)
        .dns_resolver(Arc::new(resolver))
        .connector_layer(AddressGuard { loopback_only })
        .build()
        .map_err(|e| ApubError::Internal(e.to_string()))
}

/// Why a URL or an address is refused: a peer may not be there. Carried as the source of the
/// HTTP client's error, so that the inbox can tell it from a peer that is only down.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RefusedAddress(pub String);

/// Whether an address is one this instance may connect to.
fn allowed(ip: IpAddr, loopback_only: bool) -> bool {
    let ip = ip.to_canonical();
    if loopback_only {
        ip.is_loopback()
    } else {
        is_public(ip)
    }
}

/// Whether a URL may be fetched, delivered to or stored as a peer's endpoint: http(s), and a
/// domain name as host. An IP literal is refused outside the loopback test mode (Lemmy and
/// the federation library refuse them too; a peer is a domain), and in that mode it must be a
/// loopback address.
pub fn check_peer_url(url: &Url, loopback_only: bool) -> Result<(), RefusedAddress> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RefusedAddress(format!(
            "{url}: only http and https URLs are followed"
        )));
    }
    let ip: IpAddr = match url.host() {
        Some(url::Host::Domain(_)) => return Ok(()),
        Some(url::Host::Ipv4(ip)) => ip.into(),
        Some(url::Host::Ipv6(ip)) => ip.into(),
        None => return Err(RefusedAddress(format!("{url} has no host"))),
    };
    if loopback_only && ip.to_canonical().is_loopback() {
        return Ok(());
    }
    Err(RefusedAddress(format!(
        "{url}: an IP address as host is refused{}",
        if loopback_only {
            " unless it is loopback"
        } else {
            " outside the loopback test mode"
        }
    )))
}

/// Whether an HTTP client error comes from our address checks (the peer is not allowed)
/// rather than from the network (the peer may answer later).
pub fn is_refused_address(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<RefusedAddress>() {
            return true;
        }
        current = e.source();
    }
    false
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Checks the address of every connection the client makes, once made and before any byte
/// is written: IP-literal URLs never reach the resolver, so only here is every form covered.
#[derive(Clone)]
struct AddressGuard {
    loopback_only: bool,
}

impl<S> tower::Layer<S> for AddressGuard {
    type Service = GuardedConnector<S>;

    fn layer(&self, inner: S) -> GuardedConnector<S> {
        GuardedConnector {
            inner,
            loopback_only: self.loopback_only,
        }
    }
}

#[derive(Clone)]
struct GuardedConnector<S> {
    inner: S,
    loopback_only: bool,
}

impl<S, R> tower::Service<R> for GuardedConnector<S>
where
    S: tower::Service<R, Error = BoxError>,
    S::Response: Connection + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, destination: R) -> Self::Future {
        let connecting = self.inner.call(destination);
        let loopback_only = self.loopback_only;
        Box::pin(async move {
            let connection = connecting.await?;
            let mut extras = http::Extensions::new();
            connection.connected().get_extras(&mut extras);
            // No address known: refuse rather than guess (fails closed).
            let Some(remote) = extras.get::<HttpInfo>().map(HttpInfo::remote_addr) else {
                return Err(RefusedAddress("connected to an unknown address".into()).into());
            };
            if !allowed(remote.ip(), loopback_only) {
                // Dropped here: the request is never written.
                return Err(RefusedAddress(format!(
                    "{} is an address this instance may not reach",
                    remote.ip()
                ))
                .into());
            }
            Ok(connection)
        })
    }
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
                if !allowed(addr.ip(), this.loopback_only) {
                    return Err(RefusedAddress(format!(
                        "{host} resolves to {}, which this instance may not reach",
                        addr.ip()
                    ))
                    .into());
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Globally routable, i.e. not loopback, private, link-local, unique-local or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (b & 0xc0) == 64) // carrier-grade NAT, 100.64/10
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, 192.0.0/24
                || (a == 198 && (b & 0xfe) == 18) // benchmarking, 198.18/15
                || a >= 224) // multicast 224/4, reserved 240/4
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::from(
                    (u32::from(hi) << 16) | u32::from(lo),
                ))
            };
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that a gateway
            // connects to: judge that address (64:ff9b::10.0.0.1 reaches 10.0.0.1).
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return is_public(embedded(s[1], s[2]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link local, fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated), fec0::/10
                || (s[0] & 0xff00) == 0xff00 // multicast, ff00::/8
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation, 2001:db8::/32
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64, 64:ff9b:1::/48
                || (s[..4] == [0x100, 0, 0, 0])) // discard-only, 100::/64
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
pub use crate::error::refused_as_blocked;
use crate::error::BLOCKED_INSTANCE;
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
        let loopback_only = self
            .db
            .ctx()
            .settings
            .federation
            .allow_insecure_loopback_federation;
        check_peer_url(url, loopback_only).map_err(|e| FedError::Other(e.to_string()))?;
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
            tracing::info!(%host, "not fetched: the instance is blocked");
            return Err(FedError::UrlVerificationError(BLOCKED_INSTANCE));
        }
        Ok(())
    }
}

/// Whether an instance is blocked, by configuration (with or without port) or by an admin
/// (read at most every few seconds: see `cenacle_core::federation::known_block`).
pub async fn is_blocked(db: &FedDb, host: &str) -> Result<bool, ApubError> {
    let ctx = db.ctx();
    if blocked_by_configuration(&ctx.settings, host) {
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

/// Whether `federation.blocked_instances` names `host` (with or without its port): the rule
/// of `cenacle_domain::instance_lists`, shared with the core's view of an instance.
pub fn blocked_by_configuration(settings: &Settings, host: &str) -> bool {
    cenacle_domain::instance_lists::names(&settings.federation.blocked_instances, host)
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
            "::ffff:10.0.0.5",
            "64:ff9b::10.0.0.5",
            "2002:a00:5::1",
            "fec0::1",
            "ff02::1",
            "198.18.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:4700::1111",
            "1.1.1.1",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn ip_literal_hosts_are_refused_outside_the_loopback_test_mode() {
        let url = |u: &str| Url::parse(u).unwrap();
        for production_refuses in [
            "http://127.0.0.1:8080/inbox",
            "https://10.0.0.5/inbox",
            "https://93.184.216.34/inbox",
            "https://[::1]/inbox",
            "https://[2606:4700::1111]/inbox",
            "file:///etc/passwd",
            "gopher://example.org/",
        ] {
            assert!(
                check_peer_url(&url(production_refuses), false).is_err(),
                "{production_refuses}"
            );
        }
        assert!(check_peer_url(&url("https://lemmy.ml/c/rust"), false).is_ok());
        // The loopback test mode: loopback literals only.
        assert!(check_peer_url(&url("http://127.0.0.1:8080/inbox"), true).is_ok());
        assert!(check_peer_url(&url("http://[::1]:8080/inbox"), true).is_ok());
        assert!(check_peer_url(&url("http://10.0.0.5/inbox"), true).is_err());
        assert!(check_peer_url(&url("http://alpha.test:8080/inbox"), true).is_ok());
    }

    /// An IP-literal URL never calls the resolver, where the address filter used to be: the
    /// connection's own address is checked, and the request never written.
    #[tokio::test]
    async fn a_connection_to_a_refused_address_is_dropped_before_the_request_is_written() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = tokio::spawn(async move {
            let mut bytes = Vec::new();
            // Whatever connects, read what it writes until it closes.
            if let Ok((mut socket, _)) = listener.accept().await {
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut bytes))
                        .await;
            }
            bytes
        });
        // Production settings: loopback is not a peer.
        let client = build(&Settings::defaults()).unwrap();
        let sent = client
            .post(format!("http://127.0.0.1:{port}/inbox"))
            .body("{\"type\":\"Accept\"}")
            .send()
            .await;
        let error = sent.expect_err("a loopback address must be refused in production");
        assert!(is_refused_address(&error), "{error:?}");
        let bytes = tokio::time::timeout(Duration::from_secs(10), received)
            .await
            .expect("the listener finishes")
            .unwrap();
        assert!(
            bytes.is_empty(),
            "the request reached the address: {}",
            String::from_utf8_lossy(&bytes)
        );
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
