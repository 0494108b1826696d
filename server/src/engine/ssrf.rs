//! The SSRF guard: which addresses outbound requests may reach.
//!
//! Every outbound request (tool actions, later OpenAPI and MCP fetches) goes
//! through one reqwest client whose resolver drops forbidden addresses, and
//! whose callers check IP-literal URLs first (reqwest does not consult the
//! resolver for those). Redirects to another host are not followed.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Whether private upstreams are allowed (operator setting, off by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressPolicy {
    pub allow_private: bool,
}

impl AddressPolicy {
    pub const PUBLIC_ONLY: AddressPolicy = AddressPolicy { allow_private: false };

    /// `Err(reason)` if a request may not go to `ip`.
    pub fn check(self, ip: IpAddr) -> Result<(), &'static str> {
        if self.allow_private {
            // Even self-hosted installs never reach these.
            return match ip {
                IpAddr::V4(v4) if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() => {
                    Err("an unspecified, broadcast or multicast address")
                }
                IpAddr::V6(v6) if v6.is_unspecified() || v6.is_multicast() => {
                    Err("an unspecified or multicast address")
                }
                _ => Ok(()),
            };
        }
        forbidden_reason(ip).map_or(Ok(()), Err)
    }
}

/// Why `ip` is not a public unicast address, or `None` if it is one.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_private() => "a private address",
        (169, 254, 169) if ip.octets()[3] == 254 => "the cloud metadata address",
        _ if ip.is_link_local() => "a link-local address",
        (0, _, _) => "a \"this network\" address",
        (100, 64..=127, _) => "a carrier-grade NAT address",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        _ if ip.is_multicast() => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.to_ipv4_mapped().is_some() {
        // Refused outright: the mapped form only ever serves to disguise an IPv4 target.
        return Some("an IPv4-mapped address");
    }
    let seg = ip.segments();
    Some(match seg {
        _ if ip.is_unspecified() => "the unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_multicast() => "a multicast address",
        [0, 0, 0, 0, 0, 0, _, _] => "an IPv4-compatible address",
        [0x64, 0xff9b, ..] => "a NAT64 address",
        [0x2002, ..] => "a 6to4 address",
        [0x2001, 0, ..] => "a Teredo address",
        [0x2001, 0x0db8, ..] => "a documentation address",
        [0x0100, 0, 0, 0, ..] => "a discard-only address",
        [first, ..] if first & 0xfe00 == 0xfc00 => "a unique-local address",
        [first, ..] if first & 0xffc0 == 0xfe80 => "a link-local address",
        [first, ..] if first & 0xffc0 == 0xfec0 => "a site-local address",
        [first, ..] if first & 0xe000 != 0x2000 => "an address outside global unicast",
        _ => return None,
    })
}

/// Checks the host of `url` before any lookup: IP literals (which reqwest
/// never passes to the resolver) and `localhost` names (RFC 6761: always
/// loopback, whatever a resolver says).
pub fn check_literal_host(url: &reqwest::Url, policy: AddressPolicy) -> Result<(), String> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                return Ok(());
            }
        }
        None => return Err(format!("`{url}` has no host")),
    };
    policy.check(ip).map_err(|why| format!("refusing to connect to {ip}: it is {why}"))
}

/// A resolver that resolves with `inner` and then keeps only allowed
/// addresses. A name with no allowed address fails to resolve.
pub struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    policy: AddressPolicy,
}

impl GuardedResolver {
    pub fn new(inner: Arc<dyn Resolve>, policy: AddressPolicy) -> Self {
        GuardedResolver { inner, policy }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("refusing to connect to {host}: it resolves only to forbidden addresses ({reason})")]
pub struct ForbiddenHost {
    pub host: String,
    pub reason: String,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let inner = self.inner.clone();
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = inner.resolve(name).await?.collect();
            let mut reason = String::new();
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|addr| match policy.check(addr.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        reason = format!("{} is {why}", addr.ip());
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let reason = if reason.is_empty() { "no addresses".to_owned() } else { reason };
                return Err(Box::new(ForbiddenHost { host, reason }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The system resolver (getaddrinfo on a blocking thread).
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(addrs.collect::<Vec<_>>().into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(text: &str) -> bool {
        forbidden_reason(text.parse().unwrap()).is_some()
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "100::1",
        ] {
            assert!(blocked(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::1"] {
            assert!(!blocked(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn the_operator_setting_allows_private_but_never_unspecified() {
        let open = AddressPolicy { allow_private: true };
        assert!(open.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(open.check("10.1.2.3".parse().unwrap()).is_ok());
        assert!(open.check("0.0.0.0".parse().unwrap()).is_err());
        assert!(AddressPolicy::PUBLIC_ONLY.check("127.0.0.1".parse().unwrap()).is_err());
    }
}
