//! Redirect URIs: what a client may register, and matching a request's
//! URI against the registered ones: exactly, except that a native client's
//! loopback URI may use any port (RFC 8252 §7.3).

use super::{ErrorCode, OAuthError};
use url::Url;

/// Schemes that would run or read something instead of returning to a client.
const FORBIDDEN_SCHEMES: [&str; 5] = ["javascript", "data", "file", "vbscript", "about"];

/// Most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 10;

/// Checks one redirect URI a client registers: absolute, no fragment;
/// https, or http on a loopback host, or an app's own scheme.
pub fn check(uri: &str) -> Result<Url, OAuthError> {
    let invalid = |why: &str| OAuthError::new(ErrorCode::InvalidRedirectUri, format!("redirect URI `{uri}` {why}"));
    let url = Url::parse(uri).map_err(|_| invalid("is not an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(invalid("must not have a fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(invalid("uses http on a host that is not loopback (127.0.0.1, [::1] or localhost)")),
        scheme if FORBIDDEN_SCHEMES.contains(&scheme) => Err(invalid("uses a scheme that cannot return to a client")),
        _ => Ok(url),
    }
}

/// Checks a client's list of redirect URIs.
pub fn check_all(uris: &[String]) -> Result<(), OAuthError> {
    if uris.is_empty() {
        return Err(OAuthError::new(ErrorCode::InvalidRedirectUri, "redirect_uris must list at least one URI"));
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::new(
            ErrorCode::InvalidRedirectUri,
            format!("at most {MAX_REDIRECT_URIS} redirect_uris per client"),
        ));
    }
    uris.iter().try_for_each(|uri| check(uri).map(drop))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `requested` is one of `registered`.
pub fn matches(registered: &[String], requested: &str) -> bool {
    registered.iter().any(|uri| uri == requested || same_loopback(uri, requested))
}

/// The same loopback URI but for the port.
fn same_loopback(registered: &str, requested: &str) -> bool {
    let (Ok(a), Ok(b)) = (Url::parse(registered), Url::parse(requested)) else { return false };
    a.scheme() == "http"
        && b.scheme() == "http"
        && is_loopback(&a)
        && a.host() == b.host()
        && a.path() == b.path()
        && a.query() == b.query()
        && b.fragment().is_none()
        && b.username().is_empty()
        && b.password().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_takes_https_loopback_http_and_app_schemes() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "http://127.0.0.1:33418/",
            "http://localhost:8787/callback",
            "http://[::1]/cb",
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "com.example.app:/oauth",
        ] {
            check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, says) in [
            ("http://evil.example/cb", "not loopback"),
            ("https://a.example/cb#x", "fragment"),
            ("javascript:alert(1)", "cannot return"),
            ("/relative", "absolute"),
        ] {
            let error = check(bad).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidRedirectUri);
            assert!(error.description.contains(says), "{bad}: {error}");
        }
        assert!(check_all(&[]).is_err());
        assert!(check_all(&vec!["https://a.example/cb".to_owned(); 11]).is_err());
    }

    #[test]
    fn matching_is_exact_but_for_loopback_ports() {
        let registered =
            vec!["https://claude.ai/api/mcp/auth_callback".to_owned(), "http://127.0.0.1/callback".to_owned()];
        assert!(matches(&registered, "https://claude.ai/api/mcp/auth_callback"));
        assert!(matches(&registered, "http://127.0.0.1:51234/callback"));
        for refused in [
            "https://claude.ai/api/mcp/auth_callback/",
            "https://claude.ai/api/mcp/auth_callback?next=https://evil.example",
            "https://claude.ai.evil.example/api/mcp/auth_callback",
            "http://127.0.0.1:51234/other",
            "http://localhost:51234/callback",
            "http://user@127.0.0.1:51234/callback",
        ] {
            assert!(!matches(&registered, refused), "{refused}");
        }
    }
}
