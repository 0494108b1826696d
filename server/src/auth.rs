//! Who is calling: a session cookie (browsers) or a bearer token (programs).

use crate::accounts::SESSION_LIFETIME_SECS;
use crate::services::Services;
use app::model::{AppError, UserView};
use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE};

/// The session cookie's name. With https it takes the `__Host-` prefix, which
/// browsers only accept with Secure, Path=/ and no Domain.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-automcp_session" } else { "automcp_session" }
}

/// `Set-Cookie` value that stores a session token.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_LIFETIME_SECS}{secure}")
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// The value of cookie `name`, if the request carries it.
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// The bearer token of an `Authorization` header. A header that is present
/// but not `Bearer <token>` is an error, not "anonymous".
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || AppError::unauthenticated("malformed Authorization header: expected `Bearer <token>`");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(malformed());
    }
    Ok(Some(token.to_owned()))
}

impl Services {
    /// The caller, or `None` when the request carries no valid credential.
    /// A bearer token that is malformed or unknown is an error: a program
    /// that sends one wants to know it is wrong.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Option<UserView>, AppError> {
        if let Some(token) = bearer_token(headers)? {
            return match self.accounts.token_user(&token).await? {
                Some(user) => Ok(Some(user)),
                None => Err(AppError::unauthenticated("invalid API token: it is unknown or was revoked")),
            };
        }
        match read_cookie(headers, cookie_name(self.config.cookie_secure())) {
            Some(token) => self.accounts.session_user(&token).await,
            None => Ok(None),
        }
    }

    /// The caller, who must be signed in.
    pub async fn require_user(&self, headers: &HeaderMap) -> Result<UserView, AppError> {
        match self.caller(headers).await? {
            Some(user) => Ok(user),
            None if read_cookie(headers, cookie_name(self.config.cookie_secure())).is_some() => {
                Err(AppError::unauthenticated("your session has expired or is no longer valid; please log in again"))
            }
            None => {
                Err(AppError::unauthenticated("sign in first, or send an API token as `Authorization: Bearer <token>`"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn session_cookie_is_http_only_lax_and_secure_on_https() {
        let plain = session_cookie("abc", false);
        assert!(plain.starts_with("automcp_session=abc;"));
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax") && !plain.contains("Secure"));
        let secure = session_cookie("abc", true);
        assert!(secure.starts_with("__Host-automcp_session=abc;") && secure.contains("; Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let h = headers(&[("cookie", "a=1; automcp_session=tok; b=2")]);
        assert_eq!(read_cookie(&h, "automcp_session").as_deref(), Some("tok"));
        assert_eq!(read_cookie(&h, "missing"), None);
        assert_eq!(read_cookie(&headers(&[("cookie", "automcp_session=")]), "automcp_session"), None);
    }

    #[test]
    fn bearer_tokens_are_parsed_strictly() {
        assert_eq!(bearer_token(&headers(&[])).unwrap(), None);
        assert_eq!(bearer_token(&headers(&[("authorization", "Bearer t1")])).unwrap().as_deref(), Some("t1"));
        assert_eq!(bearer_token(&headers(&[("authorization", "bearer t1")])).unwrap().as_deref(), Some("t1"));
        for bad in ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "t1", "Bearer a b"] {
            let err = bearer_token(&headers(&[("authorization", bad)])).unwrap_err();
            assert!(err.to_string().contains("malformed"), "{bad}");
        }
    }
}
