//! The SSH client (russh, pure Rust): key pairs, host key pinning, running
//! commands and uploading files over `exec` channels.

use russh::ChannelMsg;
use russh::client::{self, Handle};
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Connecting and authenticating may take this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// What went wrong, in words for the person deploying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    #[error("could not connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error(
        "the host key of {addr} changed: it was {pinned}, now it is {seen}. This happens when the machine was \
         reinstalled, or when someone is in between; check the machine, then confirm the new key"
    )]
    HostKeyChanged { addr: String, pinned: String, seen: String },
    #[error(
        "{addr} refused our key for user `{user}`; add the public key to ~{user}/.ssh/authorized_keys on the machine"
    )]
    AuthRefused { addr: String, user: String },
    #[error("the private key is not usable: {0}")]
    BadKey(String),
    #[error("the SSH session failed: {0}")]
    Session(String),
    #[error("no answer from {addr} within {secs} s")]
    Timeout { addr: String, secs: u64 },
}

/// A new Ed25519 key pair: (private key in OpenSSH PEM, public key line).
pub fn generate_key(comment: &str) -> (String, String) {
    use rand::RngCore;
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let pair = russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&seed);
    let mut key = PrivateKey::from(pair);
    key.set_comment(comment);
    let private = key.to_openssh(russh::keys::ssh_key::LineEnding::LF).expect("an Ed25519 key encodes").to_string();
    let public = key.public_key().to_openssh().expect("an Ed25519 public key encodes");
    (private, public)
}

/// Parses a pasted private key (OpenSSH format, unencrypted); returns its
/// public key line.
pub fn public_key_of(private_pem: &str) -> Result<String, SshError> {
    let key = PrivateKey::from_openssh(private_pem.trim().as_bytes())
        .map_err(|e| SshError::BadKey(format!("{e}; paste an unencrypted OpenSSH private key")))?;
    if key.is_encrypted() {
        return Err(SshError::BadKey("it is protected by a passphrase; paste an unencrypted key".into()));
    }
    key.public_key().to_openssh().map_err(|e| SshError::BadKey(e.to_string()))
}

struct Pinning {
    pinned: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Pinning {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let fingerprint = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.fingerprint(HashAlg::Sha256).to_string(),
            PublicKeyOrCertificate::Certificate(cert) => cert.public_key().fingerprint(HashAlg::Sha256).to_string(),
        };
        let accept = self.pinned.as_ref().is_none_or(|pinned| *pinned == fingerprint);
        *self.seen.lock().expect("never poisoned") = Some(fingerprint);
        Ok(accept)
    }
}

/// Where and as whom to connect.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// OpenSSH private key.
    pub private_key: String,
    /// The pinned host key fingerprint (`SHA256:…`); `None` accepts any key
    /// (first contact) and reports it.
    pub host_key: Option<String>,
    /// The SSRF guard's operator setting: may the machine be on a private,
    /// loopback or link-local address?
    pub allow_private: bool,
}

impl Target {
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The output of a remote command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub status: u32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The error text to show: stderr, else stdout, trimmed and cut.
    pub fn error_text(&self) -> String {
        let text = if self.stderr.trim().is_empty() { &self.stdout } else { &self.stderr };
        crate::engine::outbound::excerpt(text.as_bytes(), 600)
    }
}

/// An open, authenticated SSH connection.
pub struct Ssh {
    handle: Handle<Pinning>,
    /// The host key fingerprint the server presented.
    pub host_key: String,
    addr: String,
}

impl Ssh {
    pub async fn connect(target: &Target) -> Result<Ssh, SshError> {
        let addr = target.addr();
        let key = PrivateKey::from_openssh(target.private_key.trim().as_bytes())
            .map_err(|e| SshError::BadKey(e.to_string()))?;
        let seen = Arc::new(Mutex::new(None));
        let handler = Pinning { pinned: target.host_key.clone(), seen: seen.clone() };
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(Duration::from_secs(120)),
            keepalive_interval: Some(Duration::from_secs(15)),
            ..Default::default()
        });
        let work = async {
            let policy = crate::engine::ssrf::AddressPolicy { allow_private: target.allow_private };
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
                .await
                .map_err(|e| SshError::Connect { addr: addr.clone(), reason: format!("cannot resolve the host: {e}") })?
                .collect();
            let mut why = String::from("the host has no address");
            let allowed: Vec<std::net::SocketAddr> = addrs
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(reason) => {
                        why = format!("refusing to connect to {}: it is {reason}", a.ip());
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                return Err(SshError::Connect { addr: addr.clone(), reason: why });
            }
            let connected = client::connect(config, allowed.as_slice(), handler).await;
            let mut handle = match connected {
                Ok(handle) => handle,
                Err(error) => {
                    let seen = seen.lock().expect("never poisoned").clone();
                    if let (Some(pinned), Some(seen)) = (&target.host_key, seen)
                        && *pinned != seen
                    {
                        return Err(SshError::HostKeyChanged { addr: addr.clone(), pinned: pinned.clone(), seen });
                    }
                    return Err(SshError::Connect { addr: addr.clone(), reason: describe(&error) });
                }
            };
            let hash = handle.best_supported_rsa_hash().await.map_err(|e| SshError::Session(e.to_string()))?.flatten();
            let auth = handle
                .authenticate_publickey(target.user.clone(), PrivateKeyWithHashAlg::new(Arc::new(key), hash))
                .await
                .map_err(|e| SshError::Session(e.to_string()))?;
            if !auth.success() {
                return Err(SshError::AuthRefused { addr: addr.clone(), user: target.user.clone() });
            }
            let host_key = seen.lock().expect("never poisoned").clone().unwrap_or_default();
            Ok(Ssh { handle, host_key, addr: addr.clone() })
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, work).await {
            Ok(result) => result,
            Err(_) => Err(SshError::Timeout { addr: target.addr(), secs: CONNECT_TIMEOUT.as_secs() }),
        }
    }

    /// Runs `command` (through the remote user's shell), feeding `stdin`.
    pub async fn run(&self, command: &str, stdin: Option<&[u8]>, timeout: Duration) -> Result<Output, SshError> {
        let work = async {
            let mut channel = self.handle.channel_open_session().await.map_err(|e| SshError::Session(e.to_string()))?;
            channel.exec(true, command).await.map_err(|e| SshError::Session(e.to_string()))?;
            if let Some(bytes) = stdin {
                channel.data(bytes).await.map_err(|e| SshError::Session(format!("sending data: {e}")))?;
            }
            channel.eof().await.map_err(|e| SshError::Session(e.to_string()))?;
            let (mut stdout, mut stderr, mut status) = (Vec::new(), Vec::new(), None);
            while let Some(message) = channel.wait().await {
                match message {
                    ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, .. } => stderr.extend_from_slice(&data),
                    ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                    _ => {}
                }
            }
            Ok(Output {
                status: status.unwrap_or(255),
                stdout: String::from_utf8_lossy(&stdout).into_owned(),
                stderr: String::from_utf8_lossy(&stderr).into_owned(),
            })
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(SshError::Timeout { addr: self.addr.clone(), secs: timeout.as_secs() }),
        }
    }

    /// Runs `command` and fails with its error text unless it exits 0.
    pub async fn check(&self, command: &str, stdin: Option<&[u8]>, timeout: Duration) -> Result<String, String> {
        match self.run(command, stdin, timeout).await {
            Ok(output) if output.status == 0 => Ok(output.stdout),
            Ok(output) => Err(format!("exit status {}: {}", output.status, output.error_text())),
            Err(error) => Err(error.to_string()),
        }
    }

    pub async fn close(self) {
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    }
}

fn describe(error: &russh::Error) -> String {
    match error {
        russh::Error::UnknownKey => "the host key was refused".into(),
        russh::Error::IO(io) => io.to_string(),
        other => other.to_string(),
    }
}
