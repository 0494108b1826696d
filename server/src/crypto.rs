//! Sealing stored upstream credentials: AES-256-GCM with the instance key.
//!
//! Each value is bound to its owner, server and name through the AEAD's
//! associated data, so a sealed value copied to another row or account no
//! longer opens. Stored as base64(nonce || ciphertext): portable text.

use crate::secret::InstanceKey;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use rand::RngCore;

/// Where a sealed credential belongs.
pub struct Binding<'a> {
    pub owner_id: &'a str,
    pub server_id: &'a str,
    pub name: &'a str,
}

impl Binding<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("automcp-credential-v1\x1f{}\x1f{}\x1f{}", self.owner_id, self.server_id, self.name).into_bytes()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the sealed credential is damaged or belongs elsewhere")]
    Open,
}

pub fn seal(key: &InstanceKey, binding: &Binding<'_>, secret: &str) -> String {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.bytes()));
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let aad = binding.aad();
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret.as_bytes(), aad: &aad })
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ciphertext);
    base64::engine::general_purpose::STANDARD.encode(out)
}

pub fn open(key: &InstanceKey, binding: &Binding<'_>, sealed: &str) -> Result<String, SealError> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).map_err(|_| SealError::Open)?;
    if bytes.len() < 12 + 16 {
        return Err(SealError::Open);
    }
    let (nonce, ciphertext) = bytes.split_at(12);
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.bytes()));
    let aad = binding.aad();
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
        .map_err(|_| SealError::Open)?;
    String::from_utf8(plain).map_err(|_| SealError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Binding<'static> = Binding { owner_id: "u1", server_id: "s1", name: "api_key" };

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_binding() {
        let key = InstanceKey::generate();
        let sealed = seal(&key, &B, "s3cr3t");
        assert!(!sealed.contains("s3cr3t"));
        assert_ne!(sealed, seal(&key, &B, "s3cr3t"), "a fresh nonce every time");
        assert_eq!(open(&key, &B, &sealed).unwrap(), "s3cr3t");

        for other in [Binding { owner_id: "u2", ..B }, Binding { server_id: "s2", ..B }, Binding { name: "other", ..B }]
        {
            assert_eq!(open(&key, &other, &sealed), Err(SealError::Open));
        }
        assert_eq!(open(&InstanceKey::generate(), &B, &sealed), Err(SealError::Open));
        assert_eq!(open(&key, &B, "not base64!"), Err(SealError::Open));
        let mut tampered = base64::engine::general_purpose::STANDARD.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(tampered);
        assert_eq!(open(&key, &B, &tampered), Err(SealError::Open));
    }
}
