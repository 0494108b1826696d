//! The authorization request (`GET /oauth/authorize`) and the token
//! request (`POST /oauth/token`), parsed and checked against the client
//! and the server they name. Pure: the caller looks the client and the
//! server up and passes what it found.

use super::pkce::Challenge;
use super::{ErrorCode, OAuthError, redirect};
use std::collections::HashMap;

/// The longest `state` we carry back (it is echoed in a URL).
pub const MAX_STATE_CHARS: usize = 1024;

/// A checked authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub challenge: Challenge,
    /// The server's slug, from the `resource` parameter (RFC 8707).
    pub slug: String,
}

/// Where an authorization error goes: to the user (the redirect URI cannot
/// be trusted yet) or back to the client (RFC 6749 §4.1.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Shown on our page; never redirected.
    ToUser(OAuthError),
    /// Redirected to the (verified) redirect URI with `error` and `state`.
    ToClient { redirect_uri: String, state: Option<String>, error: OAuthError },
}

/// The slug a `resource` names, if it is one of this instance's servers:
/// `{issuer}/mcp/{slug}` (a trailing slash tolerated).
pub fn slug_of_resource<'a>(issuer: &str, resource: &'a str) -> Option<&'a str> {
    let rest = resource.strip_prefix(issuer)?.strip_prefix("/mcp/")?;
    let slug = rest.strip_suffix('/').unwrap_or(rest);
    (!slug.is_empty() && !slug.contains(['/', '?', '#'])).then_some(slug)
}

/// Checks `params` for `client_id`, whose registered redirect URIs are
/// `registered` (`None`: unknown client).
pub fn authorization(
    params: &HashMap<String, String>,
    registered: Option<&[String]>,
    issuer: &str,
) -> Result<AuthorizationRequest, Refusal> {
    let get = |name: &str| params.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let to_user = |code, description: &str| Refusal::ToUser(OAuthError::new(code, description));
    let client_id = get("client_id").ok_or_else(|| to_user(ErrorCode::InvalidRequest, "client_id is missing"))?;
    let registered = registered.ok_or_else(|| to_user(ErrorCode::InvalidClient, "this client is not known here"))?;
    let redirect_uri = match get("redirect_uri") {
        Some(uri) if redirect::matches(registered, uri) => uri.to_owned(),
        Some(_) => return Err(to_user(ErrorCode::InvalidRequest, "redirect_uri is not one the client registered")),
        None if registered.len() == 1 => registered[0].clone(),
        None => {
            return Err(to_user(ErrorCode::InvalidRequest, "redirect_uri is required: the client registered several"));
        }
    };
    let state = get("state").map(str::to_owned);
    let back = |code, description: String| Refusal::ToClient {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error: OAuthError::new(code, description),
    };
    if state.as_ref().is_some_and(|s| s.chars().count() > MAX_STATE_CHARS) {
        return Err(back(ErrorCode::InvalidRequest, format!("state is longer than {MAX_STATE_CHARS} characters")));
    }
    match get("response_type") {
        Some("code") => {}
        other => {
            return Err(back(
                ErrorCode::InvalidRequest,
                format!("response_type must be code, not {}", other.unwrap_or("missing")),
            ));
        }
    }
    let challenge = Challenge::parse(get("code_challenge"), get("code_challenge_method"))
        .map_err(|error| back(error.code, error.description))?;
    if let Some(scope) = get("scope").filter(|s| s.split(' ').any(|one| one != super::metadata::SCOPE)) {
        return Err(back(ErrorCode::InvalidScope, format!("scope `{scope}` is not offered; the only scope is `mcp`")));
    }
    let resource = get("resource").ok_or_else(|| {
        back(ErrorCode::InvalidTarget, "resource is required: the URL of the MCP server to connect to".into())
    })?;
    let slug = slug_of_resource(issuer, resource)
        .ok_or_else(|| back(ErrorCode::InvalidTarget, format!("`{resource}` is not an MCP server of {issuer}")))?;
    Ok(AuthorizationRequest { client_id: client_id.to_owned(), redirect_uri, state, challenge, slug: slug.to_owned() })
}

/// The redirect that carries an error back to the client (RFC 6749
/// §4.1.2.1), with `state` and `iss`.
pub fn error_redirect(redirect_uri: &str, error: &OAuthError, state: Option<&str>, issuer: &str) -> String {
    let pairs = [("error", error.code.as_str()), ("error_description", error.description.as_str())];
    redirect_with(redirect_uri, &pairs, state, issuer)
}

/// The redirect that carries a code (or an error) back to the client, with
/// `iss` (RFC 9207).
pub fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>, issuer: &str) -> String {
    let mut url = url::Url::parse(redirect_uri).expect("redirect URIs are checked at registration");
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://automcp.example";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params(extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = [
            ("client_id", "https://client.example/meta.json"),
            ("response_type", "code"),
            ("redirect_uri", "http://127.0.0.1:5555/cb"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "xyz"),
            ("resource", "https://automcp.example/mcp/pets"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        map
    }

    fn registered() -> Vec<String> {
        vec!["http://127.0.0.1/cb".to_owned()]
    }

    #[test]
    fn a_good_request_names_its_server_and_redirect() {
        let request = authorization(&params(&[]), Some(&registered()), ISSUER).unwrap();
        assert_eq!(request.slug, "pets");
        assert_eq!(request.redirect_uri, "http://127.0.0.1:5555/cb");
        assert_eq!(request.state.as_deref(), Some("xyz"));
    }

    #[test]
    fn untrusted_redirects_are_never_followed() {
        let unknown = authorization(&params(&[]), None, ISSUER).unwrap_err();
        assert!(matches!(unknown, Refusal::ToUser(ref e) if e.code == ErrorCode::InvalidClient));
        let elsewhere =
            authorization(&params(&[("redirect_uri", "https://evil.example/cb")]), Some(&registered()), ISSUER);
        assert!(matches!(elsewhere.unwrap_err(), Refusal::ToUser(_)));
    }

    #[test]
    fn other_problems_go_back_to_the_client_with_their_code() {
        for (extra, code) in [
            (("code_challenge_method", "plain"), ErrorCode::InvalidRequest),
            (("response_type", "token"), ErrorCode::InvalidRequest),
            (("scope", "admin"), ErrorCode::InvalidScope),
            (("resource", "https://other.example/mcp/pets"), ErrorCode::InvalidTarget),
            (("resource", "https://automcp.example/api/v1"), ErrorCode::InvalidTarget),
        ] {
            match authorization(&params(&[extra]), Some(&registered()), ISSUER).unwrap_err() {
                Refusal::ToClient { error, state, .. } => {
                    assert_eq!(error.code, code, "{extra:?}");
                    assert_eq!(state.as_deref(), Some("xyz"));
                }
                other => panic!("{extra:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_redirect_carries_code_state_and_issuer() {
        let url = redirect_with("http://127.0.0.1:5555/cb?x=1", &[("code", "abc")], Some("s t"), ISSUER);
        assert_eq!(url, "http://127.0.0.1:5555/cb?x=1&code=abc&state=s+t&iss=https%3A%2F%2Fautomcp.example");
        assert_eq!(slug_of_resource(ISSUER, "https://automcp.example/mcp/pets/"), Some("pets"));
        assert_eq!(slug_of_resource(ISSUER, "https://automcp.example/mcp/a/b"), None);
    }
}

/// A checked token request (`application/x-www-form-urlencoded`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRequest {
    /// Redeem a code (once), proving the PKCE verifier.
    Code { code: String, client_id: String, redirect_uri: Option<String>, verifier: String, resource: Option<String> },
    /// Trade a refresh token for new tokens (the old one is spent).
    Refresh { refresh_token: String, client_id: String, resource: Option<String> },
}

/// Parses a token request's form fields.
pub fn token(params: &HashMap<String, String>) -> Result<TokenRequest, OAuthError> {
    let get = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
    let required =
        |name: &str| get(name).ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, format!("{name} is missing")));
    let client_id = required("client_id")?;
    if params.contains_key("client_secret") {
        return Err(OAuthError::new(ErrorCode::InvalidClient, "clients here are public: send no client_secret"));
    }
    match get("grant_type").as_deref() {
        Some("authorization_code") => Ok(TokenRequest::Code {
            code: required("code")?,
            client_id,
            redirect_uri: get("redirect_uri"),
            verifier: required("code_verifier")?,
            resource: get("resource"),
        }),
        Some("refresh_token") => Ok(TokenRequest::Refresh {
            refresh_token: required("refresh_token")?,
            client_id,
            resource: get("resource"),
        }),
        Some(other) => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type `{other}` is not supported (authorization_code, refresh_token)"),
        )),
        None => Err(OAuthError::new(ErrorCode::InvalidRequest, "grant_type is missing")),
    }
}

#[cfg(test)]
mod token_tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn token_requests_name_their_grant() {
        let code = token(&form(&[
            ("grant_type", "authorization_code"),
            ("code", "c"),
            ("client_id", "x"),
            ("code_verifier", "v"),
        ]));
        assert!(matches!(code.unwrap(), TokenRequest::Code { ref code, .. } if code == "c"));
        let refresh = token(&form(&[("grant_type", "refresh_token"), ("refresh_token", "r"), ("client_id", "x")]));
        assert!(matches!(refresh.unwrap(), TokenRequest::Refresh { .. }));
        for (pairs, code) in [
            (vec![("grant_type", "password"), ("client_id", "x")], ErrorCode::UnsupportedGrantType),
            (vec![("grant_type", "authorization_code"), ("client_id", "x"), ("code", "c")], ErrorCode::InvalidRequest),
            (vec![("grant_type", "refresh_token"), ("refresh_token", "r")], ErrorCode::InvalidRequest),
            (
                vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "r"),
                    ("client_id", "x"),
                    ("client_secret", "s"),
                ],
                ErrorCode::InvalidClient,
            ),
        ] {
            assert_eq!(token(&form(&pairs)).unwrap_err().code, code, "{pairs:?}");
        }
    }
}
