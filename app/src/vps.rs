//! Paid-tier hosting on the user's own machine (a "target", reached over
//! SSH): shared types for the browser, the server functions and `/api/v1`.

use serde::{Deserialize, Serialize};

/// A registered machine. The private key is never returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TargetView {
    pub id: String,
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Where AutoMCP keeps its files on the machine.
    pub base_dir: String,
    /// Add this line to `~/.ssh/authorized_keys` of `user` on the machine.
    pub public_key: String,
    /// `generated` (by AutoMCP) or `pasted`.
    pub key_source: String,
    /// The confirmed host key fingerprint (`SHA256:…`); `None` until confirmed.
    pub host_key: Option<String>,
    pub created_at: i64,
}

/// `POST /api/v1/targets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterTarget {
    pub name: String,
    /// Host name or IP address of the machine.
    pub host: String,
    #[serde(default = "ssh_port")]
    pub port: u16,
    pub user: String,
    /// Default `~/.automcp`.
    #[serde(default)]
    pub base_dir: Option<String>,
    /// An unencrypted OpenSSH private key to use instead of a generated one
    /// (stored encrypted, never shown again).
    #[serde(default)]
    pub private_key: Option<String>,
}

fn ssh_port() -> u16 {
    22
}

/// What a connection check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TargetCheck {
    /// The host key the machine presented (`SHA256:…`).
    pub host_key: String,
    /// Whether it is the confirmed one (false: not confirmed yet).
    pub trusted: bool,
    /// `uname -sm`, e.g. `Linux x86_64`.
    pub platform: String,
    /// `systemd` (a user unit) or `process` (a supervised background process).
    pub supervisor: String,
}

/// `POST /api/v1/targets/{id}/trust`: confirm the host key seen by a check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrustHostKey {
    pub host_key: String,
}

/// `POST /api/v1/servers/{id}/vps/deploy`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeployToTarget {
    pub target_id: String,
}

/// One step of an operation, as it happens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StepView {
    /// `connect`, `upload`, `install`, `start`, `health`, `switch`, `stop`, `remove`.
    pub step: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub detail: String,
}

/// A deploy, rollback, stop, start or remove, with its steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OperationView {
    pub id: String,
    pub server_id: String,
    pub kind: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub steps: Vec<StepView>,
    /// For a failure: which step and the (remote) error text.
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// One release on the machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseView {
    pub number: u32,
    /// `serving`, `halted` (stopped by you), `stopped` (replaced) or `failed`.
    pub status: String,
    pub supervisor: String,
    pub endpoint: Option<String>,
    pub created_at: i64,
}

/// Where a server runs and what is on its machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostingView {
    /// `here` (this instance) or `vps` (the owner's machine).
    pub hosting: String,
    pub target: Option<TargetView>,
    /// The endpoint clients use (unchanged by where the server runs).
    pub endpoint: String,
    /// Where the main instance forwards to, e.g. `203.0.113.5:41234`.
    pub machine_endpoint: Option<String>,
    pub releases: Vec<ReleaseView>,
    pub last_operation: Option<OperationView>,
}

/// The free tier's answer to anything about own machines.
pub const PAID_ONLY: &str = "hosting on your own machine is part of the paid tier: your servers run there with the \
     same engine, with no tool limit, and keep their endpoint here; ask an admin to move your account to the paid tier";

/// An operation on a server's machine, for the one server function that runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VpsAction {
    Rollback,
    Stop,
    Start,
    Remove,
}
