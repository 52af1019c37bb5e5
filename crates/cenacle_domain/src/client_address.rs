//! Which address a request comes from when reverse proxies stand in front of the server.
//!
//! Each proxy appends to `X-Forwarded-For` the address it received the request from, so the
//! header reads "client-written…, proxy 1's peer, proxy 2's peer" and only its right end was
//! written by machines we know. The rule: the TCP peer is the client unless it is one of the
//! configured trusted proxies; then the header is read from the right, skipping our own
//! proxies, and the first address that is not one of them is the client. Everything to its
//! left is whatever the client chose to send, and is never believed (the previous rule took the
//! left-most entry, so anyone could pick the address their rate limits were counted under).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::{fmt, net::IpAddr, str::FromStr};

/// A range of addresses in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // `addr` is canonical (see `from_str`): its prefix counts bits of its own width.
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of the `width` low bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, prefix: u8, width: u8) -> bool {
    prefix == 0 || (a ^ b) >> (width - prefix) == 0
}

impl FromStr for IpNetwork {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("`{text}` is not an address or a CIDR range (like 10.0.0.0/8 or 2001:db8::/32)")
        };
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let written: IpAddr = addr.parse().map_err(|_| bad())?;
        let width = if written.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(bad)?,
            None => width,
        };
        // An IPv4-mapped range (`::ffff:10.0.0.0/104`) is the IPv4 range it maps: peers are
        // compared in their canonical form, so it must be stored as one, its prefix counted
        // in IPv4 bits (a mapped prefix shorter than the mapping's 96 bits is not a range of
        // IPv4 addresses at all).
        let addr = written.to_canonical();
        let prefix = if addr.is_ipv4() && written.is_ipv6() {
            prefix.checked_sub(96).ok_or_else(bad)?
        } else {
            prefix
        };
        Ok(IpNetwork { addr, prefix })
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for IpNetwork {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpNetwork {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The client's address (see the module's notes): `peer` is the TCP peer, `forwarded_for` the
/// request's `X-Forwarded-For` header values in order, `trusted` the proxies we run.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[IpNetwork],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    let entries: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|value| value.split(','))
        .collect();
    for entry in entries.into_iter().rev() {
        // An entry that is not an address cannot name anyone: the last trusted hop stands.
        let Some(ip) = forwarded_entry(entry) else {
            return client;
        };
        client = ip.to_canonical();
        if !is_trusted(client) {
            return client;
        }
    }
    client
}

/// Under which name a client is counted by per-address limits: an IPv4 address itself, an
/// IPv6 address by its /64 — one subscriber's network, where every host picks its own address
/// at will, so counting single IPv6 addresses would hand a guesser 2⁶⁴ fresh counters.
pub fn limit_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = std::net::Ipv6Addr::from(u128::from(v6) & !(u128::MAX >> 64));
            format!("{network}/64")
        }
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn forwarded_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNetwork> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    /// A proxy written in its IPv4-mapped form is that IPv4 proxy, and no other: the mapped
    /// /128 once made a shift by a negative width, which trusted every IPv4 peer in release.
    #[test]
    fn an_ipv4_mapped_proxy_is_its_ipv4_address_only() {
        let mapped: IpNetwork = "::ffff:172.30.87.1".parse().unwrap();
        assert!(mapped.contains(ip("172.30.87.1")));
        assert!(mapped.contains(ip("::ffff:172.30.87.1")));
        assert!(!mapped.contains(ip("8.8.8.8")));
        assert!(!mapped.contains(ip("172.30.87.2")));
        let range: IpNetwork = "::ffff:10.0.0.0/104".parse().unwrap();
        assert!(range.contains(ip("10.1.2.3")));
        assert!(!range.contains(ip("11.0.0.1")));
        assert!("::ffff:0.0.0.0/64".parse::<IpNetwork>().is_err());
        assert_eq!(
            client_address(ip("8.8.8.8"), ["6.6.6.6"], &[mapped]),
            ip("8.8.8.8")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(limit_key(ip("203.0.113.5")), "203.0.113.5");
        assert_eq!(limit_key(ip("::ffff:203.0.113.5")), "203.0.113.5");
        let a = limit_key(ip("2001:db8:1:2:aaaa::1"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, limit_key(ip("2001:db8:1:2:ffff:1:2:3")));
        assert_ne!(a, limit_key(ip("2001:db8:1:3::1")));
    }

    #[test]
    fn networks_parse_and_contain() {
        let net: IpNetwork = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.3.4")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped peers");
        let one: IpNetwork = "172.30.87.10".parse().unwrap();
        assert!(one.contains(ip("172.30.87.10")) && !one.contains(ip("172.30.87.11")));
        let v6: IpNetwork = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: IpNetwork = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        assert_eq!(net.to_string(), "10.0.0.0/8");
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "proxy.internal",
            "10.0.0.0/",
            "::/129",
            "",
        ] {
            let err = bad.parse::<IpNetwork>().unwrap_err();
            assert!(err.contains("CIDR"), "{bad}: {err}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_writes() {
        let trusted = nets(&["10.0.0.1"]);
        assert_eq!(
            client_address(ip("192.0.2.7"), ["203.0.113.1"], &trusted),
            ip("192.0.2.7")
        );
        assert_eq!(client_address(ip("192.0.2.7"), [], &[]), ip("192.0.2.7"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client() {
        let trusted = nets(&["10.0.0.0/24", "2001:db8::/64"]);
        // The client wrote "6.6.6.6"; our proxy appended the address it saw.
        assert_eq!(
            client_address(ip("10.0.0.1"), ["6.6.6.6, 198.51.100.9"], &trusted),
            ip("198.51.100.9")
        );
        // Two of our proxies in a row, the header split over two lines.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                ["6.6.6.6, 198.51.100.9", "10.0.0.1"],
                &trusted
            ),
            ip("198.51.100.9")
        );
        // Ports and brackets as some proxies write them.
        assert_eq!(
            client_address(ip("10.0.0.1"), ["[2001:db9::5]:443"], &trusted),
            ip("2001:db9::5")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), ["198.51.100.9:5000"], &trusted),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn without_a_usable_entry_the_last_trusted_hop_stands() {
        let trusted = nets(&["10.0.0.0/24"]);
        assert_eq!(client_address(ip("10.0.0.1"), [], &trusted), ip("10.0.0.1"));
        assert_eq!(
            client_address(ip("10.0.0.1"), ["198.51.100.9, garbage"], &trusted),
            ip("10.0.0.1")
        );
        // Every hop is ours: the left-most is where the request started.
        assert_eq!(
            client_address(ip("10.0.0.1"), ["10.0.0.7, 10.0.0.2"], &trusted),
            ip("10.0.0.7")
        );
    }
}
