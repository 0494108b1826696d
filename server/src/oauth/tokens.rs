//! The secrets this authorization server issues: authorization codes,
//! access tokens and refresh tokens. Opaque random strings with a prefix
//! that says what they are; only their SHA-256 is ever stored.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long each kind lives.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
pub const ACCESS_LIFETIME: Duration = Duration::from_secs(60 * 60);
pub const REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// What a secret is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Code,
    Access,
    Refresh,
}

impl Kind {
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Code => "amcp_oac_",
            Kind::Access => "amcp_oat_",
            Kind::Refresh => "amcp_ort_",
        }
    }

    pub fn lifetime(self) -> Duration {
        match self {
            Kind::Code => CODE_LIFETIME,
            Kind::Access => ACCESS_LIFETIME,
            Kind::Refresh => REFRESH_LIFETIME,
        }
    }

    /// The kind a presented secret claims to be, from its prefix.
    pub fn of(secret: &str) -> Option<Kind> {
        [Kind::Code, Kind::Access, Kind::Refresh].into_iter().find(|kind| secret.starts_with(kind.prefix()))
    }
}

/// A new secret of `kind` and the hash to store.
pub fn issue(kind: Kind) -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{}{}", kind.prefix(), base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&secret);
    (secret, hash)
}

/// The stored form of a secret: hex SHA-256.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_stored_as_hashes() {
        let (a, hash_a) = issue(Kind::Access);
        let (b, _) = issue(Kind::Access);
        assert_ne!(a, b);
        assert!(a.starts_with("amcp_oat_") && a.len() == 9 + 43);
        assert_eq!(hash_a, hash(&a));
        assert_eq!(hash_a.len(), 64);
        assert!(!hash_a.contains(&a[9..]));
        assert_eq!(Kind::of(&issue(Kind::Refresh).0), Some(Kind::Refresh));
        assert_eq!(Kind::of("amcp_srv_x"), None);
        assert!(Kind::Code.lifetime() < Kind::Access.lifetime());
    }
}
