//! Who may reach `/mcp`: the Host rules (the DNS-rebinding defence) and the
//! browser rules (Origin and CORS).
//!
//! A DNS-rebinding attack needs a host *name* the attacker controls, so the
//! Host check accepts IP addresses, `localhost`, the public URL's host and
//! the names the operator adds (`AUTOMCP_ALLOWED_HOSTS`); the port is not
//! compared (proxies change it). Browser origins follow [`app::origins`].

use axum::http::{HeaderMap, HeaderValue, Method, header};
use std::net::IpAddr;

/// Host names clients may use, and this instance's own origin.
#[derive(Clone, Debug)]
pub struct HostRules {
    /// Lower-case host names (no port), beyond IP addresses and localhost.
    names: Vec<String>,
    /// `scheme://host[:port]` of the public URL.
    pub origin: String,
}

impl HostRules {
    pub fn new(public_url: &url::Url, extra: &[String]) -> Self {
        let mut names: Vec<String> = extra.iter().map(|name| hostname(name.trim()).to_ascii_lowercase()).collect();
        if let Some(host) = public_url.host_str() {
            names.push(host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase());
        }
        names.retain(|name| !name.is_empty());
        HostRules { names, origin: public_url.origin().ascii_serialization() }
    }

    /// Whether a request's `Host` header is one of ours.
    pub fn allows(&self, host: &str) -> bool {
        let name = hostname(host);
        name.parse::<IpAddr>().is_ok()
            || name.eq_ignore_ascii_case("localhost")
            || self.names.iter().any(|known| name.eq_ignore_ascii_case(known))
    }

    /// The names accepted, for error messages.
    pub fn describe(&self) -> String {
        let mut names = self.names.clone();
        names.push("localhost".into());
        format!("{}, or an IP address", names.join(", "))
    }
}

/// The host part of a `Host` value: no port, no IPv6 brackets.
fn hostname(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Response headers a browser page may read.
const EXPOSED: &str = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate";
/// Request headers a page may send when the preflight does not list any.
const ALLOWED: &str =
    "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID";

/// Whether this is a CORS preflight.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The headers answering a preflight from an allowed `origin`.
pub fn preflight_headers(origin: &HeaderValue, request: &HeaderMap, headers: &mut HeaderMap) {
    cors_headers(origin, headers);
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, DELETE, OPTIONS"));
    let asked = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.unwrap_or(HeaderValue::from_static(ALLOWED)));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
}

/// The headers every answer to an allowed `origin` carries. No
/// credentials mode: clients authenticate with a header, never a cookie.
pub fn cors_headers(origin: &HeaderValue, headers: &mut HeaderMap) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_ip_addresses_localhost_or_known_names() {
        let rules = HostRules::new(&url::Url::parse("https://mcp.example.com/").unwrap(), &["alias.example".into()]);
        for host in [
            "mcp.example.com",
            "MCP.example.com:8443",
            "alias.example",
            "localhost:3000",
            "127.0.0.1:3000",
            "10.0.0.5",
            "[::1]:8080",
        ] {
            assert!(rules.allows(host), "{host}");
        }
        for host in ["evil.example", "mcp.example.com.evil.example", "", "localhost.evil.example"] {
            assert!(!rules.allows(host), "{host}");
        }
        assert_eq!(rules.origin, "https://mcp.example.com");
    }
}
