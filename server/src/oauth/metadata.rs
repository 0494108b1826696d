//! The discovery documents: Authorization Server Metadata (RFC 8414, also
//! served as OpenID-style discovery) and Protected Resource Metadata per
//! hosted server (RFC 9728), and the `WWW-Authenticate` challenge that
//! points clients to the latter.

use serde_json::{Value, json};
use url::Url;

/// Where the endpoints live, under the public URL.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
pub const TOKEN_PATH: &str = "/oauth/token";
pub const REGISTER_PATH: &str = "/oauth/register";
pub const REVOKE_PATH: &str = "/oauth/revoke";
/// The one scope: use the server's tools.
pub const SCOPE: &str = "mcp";

/// The issuer: the public URL's origin (no path), as RFC 8414 requires.
pub fn issuer(public_url: &Url) -> String {
    public_url.origin().ascii_serialization()
}

/// A hosted server's resource identifier (RFC 8707): its endpoint URL.
pub fn resource(public_url: &Url, slug: &str) -> String {
    format!("{}/mcp/{slug}", issuer(public_url))
}

/// Where a server's Protected Resource Metadata is: the well-known path
/// inserted before the resource's path (RFC 9728 §3.1).
pub fn resource_metadata_url(public_url: &Url, slug: &str) -> String {
    format!("{}/.well-known/oauth-protected-resource/mcp/{slug}", issuer(public_url))
}

/// RFC 8414 metadata (also the body of OpenID-style discovery).
pub fn authorization_server(public_url: &Url) -> Value {
    let issuer = issuer(public_url);
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "registration_endpoint": format!("{issuer}{REGISTER_PATH}"),
        "revocation_endpoint": format!("{issuer}{REVOKE_PATH}"),
        "scopes_supported": [SCOPE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "client_id_metadata_document_supported": true,
        "authorization_response_iss_parameter_supported": true,
        "subject_types_supported": ["public"],
    })
}

/// RFC 9728 metadata for one hosted server.
pub fn protected_resource(public_url: &Url, slug: &str, name: &str) -> Value {
    json!({
        "resource": resource(public_url, slug),
        "authorization_servers": [issuer(public_url)],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_name_each_other_consistently() {
        let public = Url::parse("https://automcp.example/").unwrap();
        let server = authorization_server(&public);
        assert_eq!(server["issuer"], "https://automcp.example");
        assert_eq!(server["token_endpoint"], "https://automcp.example/oauth/token");
        assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
        assert!(server["token_endpoint_auth_methods_supported"].as_array().unwrap().contains(&json!("none")));
        let resource = protected_resource(&public, "pets", "Pets");
        assert_eq!(resource["resource"], "https://automcp.example/mcp/pets");
        assert_eq!(resource["authorization_servers"][0], server["issuer"]);
        assert_eq!(
            resource_metadata_url(&public, "pets"),
            "https://automcp.example/.well-known/oauth-protected-resource/mcp/pets"
        );
    }
}
