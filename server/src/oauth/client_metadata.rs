//! A client's metadata: a Client ID Metadata Document (the client_id is an
//! https URL serving it) or a Dynamic Client Registration request (RFC
//! 7591). Both are checked the same way; only public clients (PKCE, no
//! secret) are accepted.

use super::{ErrorCode, OAuthError, redirect};
use serde::Deserialize;
use url::Url;

/// The most of a metadata document (or registration body) we read.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024;
/// The longest client name we keep (shown on the consent page).
pub const MAX_NAME_CHARS: usize = 100;

/// What we keep of a client's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientMetadata {
    pub name: Option<String>,
    pub client_uri: Option<String>,
    pub redirect_uris: Vec<String>,
}

#[derive(Deserialize)]
struct Raw {
    client_id: Option<String>,
    client_name: Option<String>,
    client_uri: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
}

fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, description)
}

/// Checks a client_id that is a URL: https, with a path, no fragment, no
/// credentials, no dot segments (the CIMD draft's rules).
pub fn check_document_url(client_id: &str) -> Result<Url, OAuthError> {
    let refuse = |why: &str| OAuthError::new(ErrorCode::InvalidClient, format!("client_id `{client_id}` {why}"));
    let url = Url::parse(client_id).map_err(|_| refuse("is neither a registered client nor a URL"))?;
    if url.scheme() != "https" {
        return Err(refuse("must be an https URL to be a metadata document"));
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err(refuse("must have a path"));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must have no fragment and no credentials"));
    }
    if client_id.contains("/./") || client_id.contains("/../") {
        return Err(refuse("must have no dot segments"));
    }
    Ok(url)
}

/// Checks a fetched metadata document: its `client_id` must be the URL it
/// was fetched from.
pub fn check_document(url: &str, body: &[u8]) -> Result<ClientMetadata, OAuthError> {
    let raw = parse(body)?;
    if raw.client_id.as_deref() != Some(url) {
        return Err(invalid(format!(
            "the document's client_id ({}) is not the URL it was fetched from ({url})",
            raw.client_id.as_deref().unwrap_or("missing")
        )));
    }
    check(raw)
}

/// Checks a registration request (RFC 7591): no client_id of its own.
pub fn check_registration(body: &[u8]) -> Result<ClientMetadata, OAuthError> {
    let raw = parse(body)?;
    if raw.client_id.is_some() {
        return Err(invalid("a registration must not name its own client_id"));
    }
    check(raw)
}

fn parse(body: &[u8]) -> Result<Raw, OAuthError> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(invalid(format!("the client metadata is larger than {} KiB", MAX_DOCUMENT_BYTES / 1024)));
    }
    serde_json::from_slice(body).map_err(|e| invalid(format!("the client metadata is not valid JSON metadata: {e}")))
}

fn check(raw: Raw) -> Result<ClientMetadata, OAuthError> {
    redirect::check_all(&raw.redirect_uris)?;
    if let Some(method) = raw.token_endpoint_auth_method.as_deref().filter(|m| *m != "none") {
        return Err(invalid(format!(
            "token_endpoint_auth_method `{method}` is not supported: clients are public and use PKCE (`none`)"
        )));
    }
    let allowed_grants = ["authorization_code", "refresh_token"];
    if let Some(grant) = raw.grant_types.iter().flatten().find(|g| !allowed_grants.contains(&g.as_str())) {
        return Err(invalid(format!("grant type `{grant}` is not supported (authorization_code, refresh_token)")));
    }
    if let Some(kind) = raw.response_types.iter().flatten().find(|r| *r != "code") {
        return Err(invalid(format!("response type `{kind}` is not supported (code)")));
    }
    let name = raw.client_name.map(|n| n.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect::<String>());
    let client_uri = raw.client_uri.filter(|uri| Url::parse(uri).is_ok_and(|u| u.scheme() == "https"));
    Ok(ClientMetadata { name: name.filter(|n| !n.trim().is_empty()), client_uri, redirect_uris: raw.redirect_uris })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "https://client.example/oauth/metadata.json";

    fn body(value: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn a_document_must_name_its_own_url() {
        let good = json!({"client_id": URL, "client_name": "Example\u{7}Client", "redirect_uris": ["http://127.0.0.1/cb"],
                          "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]});
        let metadata = check_document(URL, &body(good)).unwrap();
        assert_eq!(metadata.name.as_deref(), Some("ExampleClient"));
        let other = json!({"client_id": "https://evil.example/x", "redirect_uris": ["http://127.0.0.1/cb"]});
        let error = check_document(URL, &body(other)).unwrap_err();
        assert!(error.description.contains("not the URL it was fetched from"), "{error}");
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert!(check_document(URL, &big).unwrap_err().description.contains("larger than"));
    }

    #[test]
    fn document_urls_are_https_with_a_path() {
        check_document_url(URL).unwrap();
        for bad in [
            "http://client.example/m.json",
            "https://client.example/",
            "https://u:p@client.example/m",
            "https://client.example/m#f",
            "not a url",
            "https://client.example/a/../m",
        ] {
            assert_eq!(check_document_url(bad).unwrap_err().code, ErrorCode::InvalidClient, "{bad}");
        }
    }

    #[test]
    fn registrations_are_public_clients_with_valid_redirects() {
        check_registration(&body(json!({"redirect_uris": ["https://claude.ai/api/mcp/auth_callback"]}))).unwrap();
        for (bad, says) in [
            (json!({"redirect_uris": []}), "at least one"),
            (json!({"redirect_uris": ["http://evil.example/cb"]}), "not loopback"),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_basic"}),
                "public",
            ),
            (
                json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]}),
                "client_credentials",
            ),
            (json!({"redirect_uris": ["https://a.example/cb"], "client_id": "mine"}), "its own client_id"),
        ] {
            let error = check_registration(&body(bad)).unwrap_err();
            assert!(error.description.contains(says), "{error}");
        }
    }
}
