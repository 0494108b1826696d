//! PKCE (RFC 7636), S256 only: OAuth 2.1 and the MCP spec require it, and
//! `plain` would let a stolen code be redeemed.

use super::{ErrorCode, OAuthError};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A checked `code_challenge` (S256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge(String);

impl Challenge {
    /// Checks the authorization request's `code_challenge` and method.
    pub fn parse(challenge: Option<&str>, method: Option<&str>) -> Result<Self, OAuthError> {
        let challenge = challenge
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "code_challenge is required (PKCE with S256)"))?;
        match method {
            Some("S256") => {}
            Some("plain") | None => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "code_challenge_method must be S256; plain is not supported",
                ));
            }
            Some(other) => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    format!("unknown code_challenge_method `{other}`"),
                ));
            }
        }
        // base64url of 32 bytes: 43 characters of the URL-safe alphabet.
        let valid =
            challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                "code_challenge is not a base64url SHA-256 (43 characters)",
            ));
        }
        Ok(Challenge(challenge.to_owned()))
    }

    /// A stored challenge, as saved by [`Challenge::as_str`].
    pub fn stored(challenge: String) -> Self {
        Challenge(challenge)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the token request's `code_verifier` answers this challenge.
    pub fn verify(&self, verifier: Option<&str>) -> Result<(), OAuthError> {
        let verifier =
            verifier.ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "code_verifier is required"))?;
        let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(unreserved) {
            return Err(OAuthError::new(
                ErrorCode::InvalidRequest,
                "code_verifier must be 43 to 128 unreserved characters",
            ));
        }
        let digest = Sha256::digest(verifier.as_bytes());
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        if bool::from(computed.as_bytes().ct_eq(self.0.as_bytes())) {
            Ok(())
        } else {
            Err(OAuthError::new(ErrorCode::InvalidGrant, "code_verifier does not match the code_challenge"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn s256_verifies_the_rfc_example_and_refuses_others() {
        let challenge = Challenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        challenge.verify(Some(VERIFIER)).unwrap();
        let wrong = challenge.verify(Some(&VERIFIER.replace('d', "e"))).unwrap_err();
        assert_eq!(wrong.code, ErrorCode::InvalidGrant);
        assert_eq!(challenge.verify(None).unwrap_err().code, ErrorCode::InvalidRequest);
        assert_eq!(challenge.verify(Some("short")).unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn plain_missing_and_malformed_challenges_are_refused() {
        for (challenge, method, says) in [
            (Some(CHALLENGE), Some("plain"), "must be S256"),
            (Some(CHALLENGE), None, "must be S256"),
            (None, Some("S256"), "is required"),
            (Some("abc"), Some("S256"), "43 characters"),
            (Some(CHALLENGE), Some("S512"), "unknown"),
        ] {
            let error = Challenge::parse(challenge, method).unwrap_err();
            assert!(error.description.contains(says), "{error}");
        }
    }
}
