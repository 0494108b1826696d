//! The instance key: 32 random bytes that later encrypt stored upstream
//! credentials. Given by `AUTOMCP_SECRET_KEY`, or generated on first run and
//! kept in the data directory, readable by the owner only.

use anyhow::{Context, bail};
use rand::RngCore;
use std::path::Path;

pub struct InstanceKey([u8; 32]);

impl InstanceKey {
    pub fn from_hex(text: &str) -> anyhow::Result<Self> {
        let bytes = hex::decode(text.trim()).context("expected 64 hexadecimal characters")?;
        let Ok(bytes) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            bail!("expected 64 hexadecimal characters (32 bytes), got {} bytes", bytes.len());
        };
        Ok(InstanceKey(bytes))
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        InstanceKey(bytes)
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A one-way fingerprint of the key (16 hex characters), stored in the
    /// database so a process given another key notices before sealing anything.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::new().chain_update(b"automcp key check v1\0").chain_update(self.0).finalize();
        hex::encode(&digest[..8])
    }

    /// The configured key, else the one in `<data_dir>/secret.key`, else a new
    /// one written there (mode 0600).
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(hex) = configured {
            return Self::from_hex(hex).context("AUTOMCP_SECRET_KEY");
        }
        let path = data_dir.join("secret.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_hex(&text).with_context(|| format!("{} is damaged", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private(&path, &hex::encode(key.0))
                    .with_context(|| format!("could not write {}", path.display()))?;
                tracing::info!(path = %path.display(), "generated a new instance key");
                Ok(key)
            }
            Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
        }
    }
}

impl std::fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstanceKey(<redacted>)")
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = InstanceKey::load_or_create(None, dir.path()).unwrap();
        let second = InstanceKey::load_or_create(None, dir.path()).unwrap();
        assert_eq!(first.bytes(), second.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn configured_key_must_be_32_bytes_of_hex() {
        assert!(InstanceKey::from_hex(&"ab".repeat(32)).is_ok());
        let short = InstanceKey::from_hex("abcd").unwrap_err().to_string();
        assert!(short.contains("2 bytes"), "{short}");
        assert!(InstanceKey::from_hex("not hex").is_err());
    }

    #[test]
    fn debug_output_hides_the_key() {
        let key = InstanceKey::from_hex(&"ab".repeat(32)).unwrap();
        assert!(!format!("{key:?}").contains("abab"));
    }
}
