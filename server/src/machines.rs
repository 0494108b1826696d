//! Paid-tier hosting on the owner's machine: targets (machines reached over
//! SSH, host keys pinned once confirmed) and the operations on a server's
//! releases there (deploy, rollback, stop, start, remove), run in the
//! background with their steps stored as they happen. A server hosted there
//! keeps its endpoint here: `/mcp/{slug}` forwards to the serving release.

use crate::crypto::{self, Binding};
use crate::db::now;
use crate::error::ResultExt;
use crate::jobs::Queue;
use crate::secret::InstanceKey;
use crate::servers::Servers;
use crate::store::accounts::AccountStore;
use crate::store::machines::{MachineStore, NewTarget, OperationRow, ReleaseRow, ReleaseStatus, TargetRow};
use crate::store::servers::ServerRow;

mod operations;
mod plans;

use crate::vps::deploy::{self, Binary, StepEvent};
use crate::vps::ssh::{self, Ssh, Target};
use app::model::{AppError, Tier, UserView};
use app::vps::{
    HostingView, OperationView, PAID_ONLY, RegisterTarget, ReleaseView, StepView, TargetCheck, TargetView, TrustHostKey,
};
pub use operations::Operation;
use std::sync::Arc;

/// The credential holding the token the main instance sends to the machine.
pub const RUNNER_TOKEN_CREDENTIAL: &str = "vps:runner-token";
const PRIVATE_KEY: &str = "vps:private-key";
const DEFAULT_BASE_DIR: &str = "~/.automcp";

fn target_view(row: TargetRow) -> TargetView {
    TargetView {
        id: row.id,
        name: row.name,
        host: row.host,
        port: u16::try_from(row.port).unwrap_or(22),
        user: row.username,
        base_dir: row.base_dir,
        public_key: row.public_key,
        key_source: row.key_source,
        host_key: row.host_key,
        created_at: row.created_at,
    }
}

fn operation_view(row: OperationRow) -> OperationView {
    let steps: Vec<StepEvent> = serde_json::from_str(&row.steps).unwrap_or_default();
    OperationView {
        id: row.id,
        server_id: row.server_id,
        kind: row.kind,
        status: row.status,
        steps: steps.into_iter().map(|s| StepView { step: s.step, status: s.status, detail: s.detail }).collect(),
        error: row.error,
        started_at: row.started_at,
        finished_at: row.finished_at,
    }
}

fn require_paid(owner: &UserView) -> Result<(), AppError> {
    if owner.tier == Tier::Paid { Ok(()) } else { Err(AppError::forbidden(PAID_ONLY)) }
}

fn check_host(host: &str) -> Result<String, AppError> {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
        && !host.starts_with('-');
    if valid { Ok(host.to_owned()) } else { Err(AppError::invalid("host", "give a host name or an IP address")) }
}

fn check_user(user: &str) -> Result<String, AppError> {
    let user = user.trim();
    let valid = !user.is_empty()
        && user.len() <= 32
        && user.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && !user.starts_with('-');
    if valid { Ok(user.to_owned()) } else { Err(AppError::invalid("user", "give the login name on the machine")) }
}

fn check_base_dir(dir: Option<&str>) -> Result<String, AppError> {
    let dir = dir.map(str::trim).filter(|d| !d.is_empty()).unwrap_or(DEFAULT_BASE_DIR);
    let valid = (dir.starts_with('/') || dir.starts_with("~/"))
        && !dir.contains("..")
        && dir.len() <= 200
        && !dir.chars().any(|c| c.is_control() || c == '\'');
    if valid {
        Ok(dir.trim_end_matches('/').to_owned())
    } else {
        Err(AppError::invalid("base_dir", "use an absolute path or one under ~/, without `..` or quotes"))
    }
}

/// Machines and the releases of servers on them.
#[derive(Clone)]
pub struct Machines {
    servers: Servers,
    store: MachineStore,
    /// Where operations wait for a worker (see [`operations`]).
    queue: Queue,
    /// Whose operation a job runs.
    accounts: AccountStore,
    key: Arc<InstanceKey>,
    /// The binary uploaded to machines (None: this executable), read once.
    vps_binary: Option<std::path::PathBuf>,
    vps_binary_read: Arc<std::sync::OnceLock<Binary>>,
}

impl Machines {
    pub fn new(servers: Servers, queue: Queue, key: Arc<InstanceKey>, vps_binary: Option<std::path::PathBuf>) -> Self {
        let db = servers.db().clone();
        Machines {
            servers,
            store: MachineStore::new(db.clone()),
            queue,
            accounts: AccountStore::new(db),
            key,
            vps_binary,
            vps_binary_read: Arc::default(),
        }
    }

    fn binary(&self) -> Result<Binary, AppError> {
        if let Some(binary) = self.vps_binary_read.get() {
            return Ok(binary.clone());
        }
        let path = match &self.vps_binary {
            Some(path) => path.clone(),
            None => std::env::current_exe().or_internal("find this executable")?,
        };
        let binary = Binary::from_file(&path).or_internal("read the automcp binary")?;
        Ok(self.vps_binary_read.get_or_init(|| binary).clone())
    }

    async fn target_row(&self, owner: &UserView, id: &str) -> Result<TargetRow, AppError> {
        self.store
            .target(&owner.id, id)
            .await
            .or_internal("load target")?
            .ok_or_else(|| AppError::not_found(format!("you have no machine with id `{id}`")))
    }

    fn ssh_target(&self, row: &TargetRow) -> Result<Target, AppError> {
        let binding = Binding { owner_id: &row.owner_id, server_id: &row.id, name: PRIVATE_KEY };
        Ok(Target {
            host: row.host.clone(),
            port: u16::try_from(row.port).unwrap_or(22),
            user: row.username.clone(),
            private_key: crypto::open(&self.key, &binding, &row.private_key_sealed).or_internal("open private key")?,
            host_key: row.host_key.clone(),
            allow_private: self.servers.engine().outbound.policy().allow_private,
        })
    }

    /// Registers a machine with a generated key pair (or a pasted private key).
    pub async fn register_target(&self, owner: &UserView, input: RegisterTarget) -> Result<TargetView, AppError> {
        require_paid(owner)?;
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid("name", "give the machine a name of 1 to 100 characters"));
        }
        let host = check_host(&input.host)?;
        let user = check_user(&input.user)?;
        let base_dir = check_base_dir(input.base_dir.as_deref())?;
        if input.port == 0 {
            return Err(AppError::invalid("port", "the SSH port is 1 to 65535 (usually 22)"));
        }
        let (private, public, source) = match input.private_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(pasted) => {
                let public = ssh::public_key_of(pasted).map_err(|e| AppError::invalid("private_key", e.to_string()))?;
                (pasted.to_owned(), public, "pasted")
            }
            None => {
                let (private, public) = ssh::generate_key(&format!("automcp-{name}"));
                (private, public, "generated")
            }
        };
        let id = uuid::Uuid::now_v7().to_string();
        let sealed =
            crypto::seal(&self.key, &Binding { owner_id: &owner.id, server_id: &id, name: PRIVATE_KEY }, &private);
        let target = NewTarget {
            id: &id,
            owner_id: &owner.id,
            name: &name,
            host: &host,
            port: i64::from(input.port),
            username: &user,
            base_dir: &base_dir,
            private_key_sealed: &sealed,
            public_key: &public,
            key_source: source,
            at: now(),
        };
        self.store.insert_target(&target).await.or_internal("insert target")?;
        tracing::info!(target_id = %id, %host, key = source, "machine registered");
        self.target(owner, &id).await
    }

    pub async fn targets(&self, owner: &UserView) -> Result<Vec<TargetView>, AppError> {
        let rows = self.store.targets(&owner.id).await.or_internal("list targets")?;
        Ok(rows.into_iter().map(target_view).collect())
    }

    pub async fn target(&self, owner: &UserView, id: &str) -> Result<TargetView, AppError> {
        Ok(target_view(self.target_row(owner, id).await?))
    }

    /// Removes a machine no server is hosted on.
    pub async fn delete_target(&self, owner: &UserView, id: &str) -> Result<(), AppError> {
        self.target_row(owner, id).await?;
        let used = self.store.servers_on(id).await.or_internal("count servers on target")?;
        if used > 0 {
            return Err(AppError::conflict(
                "target_id",
                format!("{used} server(s) are hosted on this machine; remove them from it first"),
            ));
        }
        self.store.delete_target(id).await.or_internal("delete target")?;
        Ok(())
    }

    /// Connects and reports the host key (pinned or not), platform and supervisor.
    pub async fn check_target(&self, owner: &UserView, id: &str) -> Result<TargetCheck, AppError> {
        require_paid(owner)?;
        let row = self.target_row(owner, id).await?;
        // Any key is accepted here, to show it; only a confirmed key is used to deploy.
        let target = Target { host_key: None, ..self.ssh_target(&row)? };
        let ssh = Ssh::connect(&target).await.map_err(|e| AppError::invalid("connection", e.to_string()))?;
        let probed = deploy::probe(&ssh).await;
        let host_key = ssh.host_key.clone();
        ssh.close().await;
        let (platform, supervisor) = match probed {
            Ok((uname, supervisor)) => (uname, supervisor.as_str().to_owned()),
            Err(error) => return Err(AppError::invalid("platform", error)),
        };
        Ok(TargetCheck { trusted: row.host_key.as_deref() == Some(host_key.as_str()), host_key, platform, supervisor })
    }

    /// Pins the host key the user confirmed (it must be the one presented now).
    pub async fn trust_target(&self, owner: &UserView, id: &str, input: TrustHostKey) -> Result<TargetView, AppError> {
        require_paid(owner)?;
        let row = self.target_row(owner, id).await?;
        let target = Target { host_key: None, ..self.ssh_target(&row)? };
        let ssh = Ssh::connect(&target).await.map_err(|e| AppError::invalid("connection", e.to_string()))?;
        let seen = ssh.host_key.clone();
        ssh.close().await;
        if seen != input.host_key.trim() {
            return Err(AppError::conflict(
                "host_key",
                format!("the machine now presents {seen}, not the key you confirmed; check the connection again"),
            ));
        }
        self.store.pin_host_key(id, &seen, now()).await.or_internal("pin host key")?;
        tracing::info!(target_id = %id, host_key = %seen, "host key pinned");
        self.target(owner, id).await
    }

    async fn releases(&self, server_id: &str) -> Result<Vec<ReleaseRow>, AppError> {
        self.store.releases(server_id).await.or_internal("list releases")
    }

    async fn last_operation(&self, server_id: &str) -> Result<Option<OperationView>, AppError> {
        let row = self.store.last_operation(server_id).await.or_internal("load operation")?;
        Ok(row.map(operation_view))
    }

    /// Where a server runs, its releases and its last operation.
    pub async fn hosting(&self, owner: &UserView, id: &str) -> Result<HostingView, AppError> {
        let row = self.servers.row(owner, id).await?;
        let target = match &row.target_id {
            Some(target) => Some(self.target(owner, target).await?),
            None => None,
        };
        let releases = self.releases(id).await?;
        let serving = releases.iter().find(|r| r.status() == ReleaseStatus::Serving).and_then(|r| r.endpoint.clone());
        Ok(HostingView {
            hosting: row.hosting_name().to_owned(),
            target,
            endpoint: self.servers.endpoint(&row.slug),
            machine_endpoint: serving,
            releases: releases
                .into_iter()
                .map(|r| ReleaseView {
                    number: u32::try_from(r.number).unwrap_or_default(),
                    status: r.status().as_str().to_owned(),
                    supervisor: r.supervisor,
                    endpoint: r.endpoint,
                    created_at: r.created_at,
                })
                .collect(),
            last_operation: self.last_operation(id).await?,
        })
    }

    pub async fn operation(&self, owner: &UserView, id: &str) -> Result<OperationView, AppError> {
        let row = self
            .store
            .operation(&owner.id, id)
            .await
            .or_internal("load operation")?
            .ok_or_else(|| AppError::not_found(format!("there is no operation with id `{id}`")))?;
        Ok(operation_view(row))
    }

    /// The runner token of a server (created on its first deploy to a machine).
    async fn runner_token(&self, row: &ServerRow) -> Result<String, AppError> {
        if let Some(token) = self.servers.open_credential(row, RUNNER_TOKEN_CREDENTIAL).await? {
            return Ok(token);
        }
        let token = crate::servers::issue_runner_token();
        self.servers.put_credential(row, RUNNER_TOKEN_CREDENTIAL, &token).await?;
        Ok(token)
    }

    /// The last lines of the serving (or latest) release's log.
    pub async fn vps_logs(&self, owner: &UserView, server_id: &str) -> Result<String, AppError> {
        let (_, _, target, layout, releases) = self.on_machine(owner, server_id).await?;
        let release = releases
            .iter()
            .find(|r| r.status() == ReleaseStatus::Serving)
            .or_else(|| releases.first())
            .ok_or_else(|| AppError::conflict("release", "there is no release on the machine"))?;
        let ssh = Ssh::connect(&target).await.map_err(|e| AppError::invalid("connection", e.to_string()))?;
        let logs = deploy::logs(&ssh, &layout, u32::try_from(release.number).unwrap_or_default(), 100).await;
        ssh.close().await;
        logs.map_err(|e| AppError::invalid("logs", format!("could not read the log: {e}")))
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') { format!("[{host}]") } else { host.to_owned() }
}
