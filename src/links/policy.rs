//! Which addresses the checker may contact, and the resolvers.
//!
//! Listings are submitted by the public, so a URL may point at the server's
//! own network (`http://10.0.0.1/admin`, or a name that resolves there).
//! Unless `allow_private` is on, only public addresses are contacted. The
//! check runs on the addresses actually used for the connection: IP-literal
//! hosts before each request, names inside the resolver that reqwest calls
//! before connecting. So a redirect hop or a name that changes its answer
//! between checks cannot slip past it.

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

type BoxError = Box<dyn Error + Send + Sync>;

/// IPv4 ranges that are not public: (network, prefix length).
const NON_PUBLIC_V4: [(Ipv4Addr, u8); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", unspecified
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // carrier-grade NAT
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local (cloud metadata lives here)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // old 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, broadcast
];

/// IPv6 ranges inside global unicast (2000::/3) that are still not public.
const NON_PUBLIC_V6: [(Ipv6Addr, u8); 4] = [
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32), // Teredo
    (Ipv6Addr::new(0x2001, 0x2, 0, 0, 0, 0, 0, 0), 48), // benchmarking
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
];

fn v4_in(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    // checked_shl: a /0 prefix gives an all-zero mask instead of overflowing.
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn v6_in(ip: Ipv6Addr, net: Ipv6Addr, prefix: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// True when `ip` is an ordinary public internet address.
///
/// IPv6 addresses that carry an IPv4 address (IPv4-mapped, NAT64 64:ff9b::/96,
/// 6to4 2002::/16) are judged by that IPv4 address; other IPv6 addresses must
/// be in global unicast 2000::/3, which rules out loopback, unspecified, ULA,
/// link-local, site-local and multicast.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NON_PUBLIC_V4
        .iter()
        .any(|&(net, prefix)| v4_in(ip, net, prefix))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if v6_in(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        // The low 32 bits are the IPv4 address.
        return is_public_v4(Ipv4Addr::from(bits as u32));
    }
    if v6_in(ip, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        // Bits 16..48 are the IPv4 address.
        return is_public_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    v6_in(ip, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3)
        && !NON_PUBLIC_V6
            .iter()
            .any(|&(net, prefix)| v6_in(ip, net, prefix))
}

/// For a URL whose host is an IP literal, the address it names. reqwest
/// does not call the resolver for those, so they are checked here.
pub(super) fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host() {
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(Host::Domain(_)) | None => None,
    }
}

/// Resolution failures, recognised again in `classify.rs` by downcasting.
#[derive(Debug, thiserror::Error)]
pub(super) enum ResolveError {
    #[error("could not resolve {host}: {reason}")]
    NotFound { host: String, reason: String },
    #[error("{host} resolves only to non-public addresses (e.g. {addr})")]
    Blocked { host: String, addr: IpAddr },
}

/// Resolves with the operating system's resolver (getaddrinfo, via tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: the connector puts the URL's port in.
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The system resolver behind the address policy: for any outbound client
/// (webhooks too) that must not reach private addresses.
pub fn guarded_resolver(allow_private: bool) -> Arc<PolicyResolver> {
    Arc::new(PolicyResolver::new(Arc::new(SystemResolver), allow_private))
}

/// Checks a URL an outbound request may go to: http(s), and not an IP
/// literal the policy refuses (names are checked when resolved).
pub fn check_target(url: &Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    match literal_ip(url) {
        Some(ip) if !allow_private && !is_public_ip(ip) => {
            Err(format!("{ip} is a private, loopback or link-local address"))
        }
        _ => Ok(()),
    }
}

/// Wraps any resolver and applies the address policy to its answer.
pub struct PolicyResolver {
    inner: Arc<dyn Resolve>,
    allow_private: bool,
}

impl PolicyResolver {
    pub(super) fn new(inner: Arc<dyn Resolve>, allow_private: bool) -> Self {
        PolicyResolver {
            inner,
            allow_private,
        }
    }
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let allow_private = self.allow_private;
        let lookup = self.inner.resolve(name);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match lookup.await {
                Ok(addrs) => addrs.collect(),
                Err(err) => {
                    let reason = err.to_string();
                    return Err(Box::new(ResolveError::NotFound { host, reason }) as BoxError);
                }
            };
            match filter_addrs(&host, addrs, allow_private) {
                Ok(allowed) => {
                    let addrs: Addrs = Box::new(allowed.into_iter());
                    Ok(addrs)
                }
                Err(err) => Err(Box::new(err) as BoxError),
            }
        })
    }
}

/// Keeps the addresses the policy allows. A name with some public and some
/// private addresses keeps only the public ones.
fn filter_addrs(
    host: &str,
    addrs: Vec<SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, ResolveError> {
    let Some(first) = addrs.first().map(SocketAddr::ip) else {
        return Err(ResolveError::NotFound {
            host: host.to_string(),
            reason: "no addresses".to_string(),
        });
    };
    if allow_private {
        return Ok(addrs);
    }
    let allowed: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|addr| is_public_ip(addr.ip()))
        .collect();
    if allowed.is_empty() {
        return Err(ResolveError::Blocked {
            host: host.to_string(),
            addr: first,
        });
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn non_public_addresses() {
        for s in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "192.0.2.10",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",    // NAT64 of 10.0.0.1
            "2002:c0a8:0001::1", // 6to4 of 192.168.0.1
            "2001:db8::1",
        ] {
            assert!(!is_public_ip(ip(s)), "{s} should not be public");
        }
    }

    #[test]
    fn public_addresses() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "2606:4700::1111",
            "2a00:1450:4009::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert!(is_public_ip(ip(s)), "{s} should be public");
        }
    }

    #[test]
    fn literal_hosts() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(literal_ip(&url("http://10.1.2.3/")), Some(ip("10.1.2.3")));
        assert_eq!(literal_ip(&url("http://[::1]:8080/")), Some(ip("::1")));
        // The URL parser reads this as 127.0.0.1, so it is caught too.
        assert_eq!(
            literal_ip(&url("http://2130706433/")),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(literal_ip(&url("http://example.org/")), None);
    }

    #[test]
    fn filter_keeps_public_and_blocks_private_only_names() {
        let sa = |s: &str| SocketAddr::new(ip(s), 0);
        let mixed = vec![sa("192.168.0.1"), sa("8.8.8.8")];
        assert_eq!(
            filter_addrs("a.test", mixed.clone(), false).unwrap(),
            vec![sa("8.8.8.8")]
        );
        assert_eq!(filter_addrs("a.test", mixed.clone(), true).unwrap(), mixed);
        assert!(matches!(
            filter_addrs("a.test", vec![sa("10.0.0.1")], false),
            Err(ResolveError::Blocked { .. })
        ));
        assert!(matches!(
            filter_addrs("a.test", Vec::new(), true),
            Err(ResolveError::NotFound { .. })
        ));
    }
}
