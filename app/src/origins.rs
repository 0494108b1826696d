//! Which web pages (origins) may call a hosted server from a browser.
//!
//! Requests without an `Origin` header (every desktop client, every agent)
//! are never affected. A browser request carries its page's origin; it is
//! let through when the origin is AutoMCP's own, when the server requires a
//! token (a page cannot call it without being given one), or when the
//! owner listed the origin. A public server is callable from any page only
//! if its owner lists `*`: otherwise any web site a user visits could call
//! it, with the credentials it holds, through the user's browser.

use crate::model::AppError;

/// At most this many origins per server.
pub const MAX_ALLOWED_ORIGINS: usize = 20;

/// Checks and normalises an owner's list: `scheme://host[:port]` (lower
/// case, no path, no default port) or `*` alone.
pub fn check_allowed_origins(origins: &[String]) -> Result<Vec<String>, AppError> {
    if origins.len() > MAX_ALLOWED_ORIGINS {
        return Err(AppError::invalid(
            "connection.allowed_origins",
            format!("at most {MAX_ALLOWED_ORIGINS} origins; list the pages' origins, or `*` for any"),
        ));
    }
    let mut normalised = Vec::with_capacity(origins.len());
    for (i, origin) in origins.iter().enumerate() {
        let field = format!("connection.allowed_origins[{i}]");
        let origin = normalise(origin.trim()).map_err(|message| AppError::invalid(field.clone(), message))?;
        if origin == "*" && origins.len() > 1 {
            return Err(AppError::invalid(field, "`*` allows every origin; list it alone"));
        }
        if !normalised.contains(&origin) {
            normalised.push(origin);
        }
    }
    Ok(normalised)
}

fn normalise(origin: &str) -> Result<String, String> {
    if origin == "*" {
        return Ok(origin.to_owned());
    }
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or_else(|| format!("`{origin}` is not an origin: write it as https://host or http://host:port"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("`{origin}`: only http and https pages can call a server"));
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest).to_ascii_lowercase();
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if authority.is_empty() || !authority.chars().all(valid_char) {
        return Err(format!("`{origin}` is not an origin: no path, query or credentials, only scheme://host[:port]"));
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Ok(format!("{scheme}://{authority}"))
}

/// Whether a browser page at `origin` may call a server.
pub fn origin_allowed(origin: &str, own_origin: &str, requires_token: bool, allowed: &[String]) -> bool {
    let origin = origin.to_ascii_lowercase();
    origin == own_origin.to_ascii_lowercase()
        || requires_token
        || allowed.iter().any(|entry| entry == "*" || *entry == origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_and_bad_ones_named() {
        let list = vec!["HTTPS://App.Example.com/".into(), "http://localhost:5173".into(), "https://x.dev:443".into()];
        assert_eq!(
            check_allowed_origins(&list).unwrap(),
            ["https://app.example.com", "http://localhost:5173", "https://x.dev"]
        );
        for (bad, says) in [
            ("app.example.com", "write it as https://host"),
            ("ftp://a.example", "only http and https"),
            ("https://a.example/path", "no path"),
        ] {
            let error = check_allowed_origins(&[bad.to_owned()]).unwrap_err();
            assert!(error.to_string().contains(says), "{bad}: {error}");
        }
        assert!(check_allowed_origins(&["*".into(), "https://a.example".into()]).is_err());
        assert!(check_allowed_origins(&vec!["https://a.example".to_owned(); 21]).is_err());
    }

    #[test]
    fn public_servers_take_only_listed_origins_and_token_servers_any() {
        let own = "https://automcp.example";
        assert!(origin_allowed("https://automcp.example", own, false, &[]));
        assert!(!origin_allowed("https://evil.example", own, false, &[]));
        assert!(origin_allowed("https://evil.example", own, true, &[]));
        assert!(origin_allowed("https://app.example", own, false, &["https://app.example".into()]));
        assert!(origin_allowed("https://any.example", own, false, &["*".into()]));
    }
}
