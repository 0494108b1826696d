//! Paid-tier hosting on the owner's machine: targets (machines reached over
//! SSH, host keys pinned once confirmed) and the operations on a server's
//! releases there (deploy, rollback, stop, start, remove), run in the
//! background with their steps stored as they happen. A server hosted there
//! keeps its endpoint here: `/mcp/{slug}` forwards to the serving release.

use crate::crypto::{self, Binding};
use crate::db::now;
use crate::error::ResultExt;
use crate::secret::InstanceKey;
use crate::servers::Servers;
use crate::store::Insert;
use crate::store::machines::{
    MachineStore, NewRelease, NewTarget, OperationRow, OperationStatus, ReleaseRow, ReleaseStatus, TargetRow,
};
use crate::store::servers::ServerRow;
use crate::vps::deploy::{self, Binary, Failed, Progress, Release, Serving, StepEvent};
use crate::vps::plan::{Layout, Supervisor};
use crate::vps::ssh::{self, Ssh, Target};
use app::model::{AppError, Tier, UserView};
use app::spec::ServerSpec;
use app::vps::{
    DeployToTarget, HostingView, OperationView, PAID_ONLY, RegisterTarget, ReleaseView, StepView, TargetCheck,
    TargetView, TrustHostKey,
};
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
    key: Arc<InstanceKey>,
    /// The binary uploaded to machines (None: this executable), read once.
    vps_binary: Option<std::path::PathBuf>,
    vps_binary_read: Arc<std::sync::OnceLock<Binary>>,
}

impl Machines {
    pub fn new(
        servers: Servers,
        store: MachineStore,
        key: Arc<InstanceKey>,
        vps_binary: Option<std::path::PathBuf>,
    ) -> Self {
        Machines { servers, store, key, vps_binary, vps_binary_read: Arc::default() }
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

    /// Starts an operation row (one running per server) and returns its id.
    async fn begin_operation(&self, owner: &UserView, server_id: &str, kind: &str) -> Result<String, AppError> {
        let id = uuid::Uuid::now_v7().to_string();
        match self
            .store
            .begin_operation(&id, server_id, &owner.id, kind, now())
            .await
            .or_internal("insert operation")?
        {
            Insert::Done => Ok(id),
            Insert::Taken => Err(AppError::conflict(
                "operation",
                "another operation on this server is still running; wait for it to finish",
            )),
        }
    }

    /// Stores each step event as it happens.
    fn progress(&self, operation_id: &str) -> (Progress, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<StepEvent>();
        let store = self.store.clone();
        let id = operation_id.to_owned();
        let writer = tokio::spawn(async move {
            let mut steps: Vec<StepEvent> = Vec::new();
            while let Some(event) = rx.recv().await {
                match steps.iter_mut().rev().find(|s| s.step == event.step && s.status == "running") {
                    Some(step) => *step = event,
                    None => steps.push(event),
                }
                let json = serde_json::to_string(&steps).unwrap_or_else(|_| "[]".into());
                if let Err(error) = store.set_steps(&id, &json).await {
                    tracing::error!(%error, "could not store an operation step");
                }
            }
        });
        (Arc::new(move |event| drop(tx.send(event))), writer)
    }

    async fn finish_operation(&self, id: &str, result: &Result<(), Failed>) {
        let (status, error) = match result {
            Ok(()) => (OperationStatus::Succeeded, None),
            Err(failed) => (OperationStatus::Failed, Some(failed.to_string())),
        };
        let done = self.store.finish_operation(id, status, error.as_deref(), now()).await;
        if let Err(error) = done {
            tracing::error!(%error, operation_id = %id, "could not finish an operation");
        }
    }

    /// Runs `work` in the background as operation `kind`; returns it at once.
    async fn spawn_operation<F, Fut>(
        &self,
        owner: &UserView,
        server_id: &str,
        kind: &'static str,
        work: F,
    ) -> Result<OperationView, AppError>
    where
        F: FnOnce(Machines, Progress) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), Failed>> + Send + 'static,
    {
        let id = self.begin_operation(owner, server_id, kind).await?;
        let (progress, writer) = self.progress(&id);
        let machines = self.clone();
        let operation_id = id.clone();
        let server = server_id.to_owned();
        tokio::spawn(async move {
            let result = work(machines.clone(), progress).await;
            let _ = writer.await;
            if let Err(failed) = &result {
                tracing::warn!(server_id = %server, operation = kind, %failed, "operation failed");
            } else {
                tracing::info!(server_id = %server, operation = kind, "operation succeeded");
            }
            machines.finish_operation(&operation_id, &result).await;
        });
        self.operation(owner, &id).await
    }

    /// Deploys a new release of a server to a machine (paid tier). Returns
    /// the operation at once; its steps fill in as they happen.
    pub async fn vps_deploy(
        &self,
        owner: &UserView,
        server_id: &str,
        input: DeployToTarget,
    ) -> Result<OperationView, AppError> {
        require_paid(owner)?;
        let row = self.servers.row(owner, server_id).await?;
        if row.kind() != app::model::ServerKind::Actions {
            return Err(AppError::invalid(
                "kind",
                "servers made from an MCP server forward to it from here; only action servers run on a machine",
            ));
        }
        if row.target_id.as_deref().is_some_and(|t| t != input.target_id) {
            return Err(AppError::conflict(
                "target_id",
                "this server is on another machine; remove it from there first",
            ));
        }
        let target_row = self.target_row(owner, &input.target_id).await?;
        if target_row.host_key.is_none() {
            return Err(AppError::conflict(
                "host_key",
                "confirm the machine's host key first (check the connection, then trust the key shown)",
            ));
        }
        let target = self.ssh_target(&target_row)?;
        let binary = self.binary()?;
        let token = self.runner_token(&row).await?;
        let spec: ServerSpec = serde_json::from_str(&row.spec).or_internal("parse stored spec")?;
        let mut env = vec![
            ("AUTOMCP_SERVER_TOKEN_SHA256".to_owned(), crate::accounts::secret_hash(&token)),
            ("AUTOMCP_BIND".to_owned(), "0.0.0.0:0".to_owned()),
            ("AUTOMCP_PUBLIC_URL".to_owned(), format!("http://{}:0/", bracket(&target.host))),
            ("AUTOMCP_LOG_FORMAT".to_owned(), "json".to_owned()),
            (
                "AUTOMCP_ALLOW_PRIVATE_UPSTREAMS".to_owned(),
                self.servers.engine().outbound.policy().allow_private.to_string(),
            ),
            (
                "AUTOMCP_UPSTREAM_TIMEOUT_SECS".to_owned(),
                self.servers.engine().outbound.timeout().as_secs().to_string(),
            ),
        ];
        for name in app::spec::credential_names(&spec) {
            let value = self.servers.open_credential(&row, &name).await?.ok_or_else(|| {
                AppError::invalid("credentials", format!("the credential `{name}` is not set; set it before deploying"))
            })?;
            env.push((crate::standalone::credential_env(&name), value));
        }
        let releases = self.releases(server_id).await?;
        let number = releases.first().map(|r| r.number + 1).unwrap_or(1);
        let previous = releases
            .iter()
            .find(|r| r.status() == ReleaseStatus::Serving)
            .map(|r| (u32::try_from(r.number).unwrap_or_default(), Supervisor::parse(&r.supervisor)));
        let release = Release {
            layout: Layout { base: target_row.base_dir.clone(), slug: row.slug.clone() },
            target,
            number: u32::try_from(number).unwrap_or(1),
            spec_json: row.spec.clone().into_bytes(),
            env,
            runner_token: token,
        };
        let (id, target_id) = (server_id.to_owned(), input.target_id.clone());
        self.spawn_operation(owner, server_id, "deploy", move |machines, progress| async move {
            let server_id = id;
            let ssh = deploy::connect(&release.target, &progress).await?;
            let outbound = machines.servers.engine().outbound.clone();
            let result = deploy::deploy(&ssh, &release, &binary, previous, &outbound, &progress).await;
            ssh.close().await;
            match result {
                Ok(serving) => {
                    let spec = String::from_utf8_lossy(&release.spec_json).into_owned();
                    machines
                        .record_release(&server_id, serving.number, Some(&serving), ReleaseStatus::Serving, &spec)
                        .await;
                    machines.now_serving(&server_id, &target_id, &serving, previous).await
                }
                Err(failed) => {
                    let spec = String::from_utf8_lossy(&release.spec_json).into_owned();
                    machines.record_release(&server_id, release.number, None, ReleaseStatus::Failed, &spec).await;
                    Err(failed)
                }
            }
        })
        .await
    }

    async fn record_release(
        &self,
        server_id: &str,
        number: u32,
        serving: Option<&Serving>,
        status: ReleaseStatus,
        spec: &str,
    ) {
        let release = NewRelease {
            server_id,
            number: i64::from(number),
            supervisor: serving.map(|s| s.supervisor.as_str()).unwrap_or("process"),
            status,
            endpoint: serving.map(|s| s.endpoint.as_str()),
            spec,
            at: now(),
        };
        if let Err(error) = self.store.record_release(&release).await {
            tracing::error!(%error, "could not record a release");
        }
    }

    /// Records the release that serves now and points `/mcp/{slug}` at it
    /// (on every replica).
    async fn now_serving(
        &self,
        server_id: &str,
        target_id: &str,
        serving: &Serving,
        previous: Option<(u32, Supervisor)>,
    ) -> Result<(), Failed> {
        let store = async {
            if let Some((old, _)) = previous.filter(|(old, _)| *old != serving.number) {
                self.store
                    .set_release_status(server_id, i64::from(old), ReleaseStatus::Stopped)
                    .await
                    .or_internal("stop old release")?;
            }
            let release = NewRelease {
                server_id,
                number: i64::from(serving.number),
                supervisor: serving.supervisor.as_str(),
                status: ReleaseStatus::Serving,
                endpoint: Some(&serving.endpoint),
                spec: "",
                at: now(),
            };
            self.store.serve(server_id, target_id, &release).await.or_internal("mark release serving")?;
            self.servers.publish(server_id).await
        };
        store.await.map_err(|e: AppError| Failed { step: "switch".into(), message: e.to_string() })
    }

    async fn on_machine(
        &self,
        owner: &UserView,
        server_id: &str,
    ) -> Result<(ServerRow, TargetRow, Target, Layout, Vec<ReleaseRow>), AppError> {
        require_paid(owner)?;
        let row = self.servers.row(owner, server_id).await?;
        let Some(target_id) = row.target_id.clone() else {
            return Err(AppError::conflict("hosting", "this server is not on a machine; deploy it to one first"));
        };
        let target_row = self.target_row(owner, &target_id).await?;
        let target = self.ssh_target(&target_row)?;
        let layout = Layout { base: target_row.base_dir.clone(), slug: row.slug.clone() };
        let releases = self.releases(server_id).await?;
        Ok((row, target_row, target, layout, releases))
    }

    /// Serves the release before the current one again.
    pub async fn vps_rollback(&self, owner: &UserView, server_id: &str) -> Result<OperationView, AppError> {
        let (row, target_row, target, layout, releases) = self.on_machine(owner, server_id).await?;
        let Some(current) = releases.iter().find(|r| r.status() == ReleaseStatus::Serving) else {
            return Err(AppError::conflict("release", "no release is serving; start or deploy first"));
        };
        let Some(before) = releases.iter().find(|r| r.number < current.number && r.status() != ReleaseStatus::Failed)
        else {
            return Err(AppError::conflict("release", "there is no earlier release to roll back to"));
        };
        let from = (u32::try_from(current.number).unwrap_or_default(), Supervisor::parse(&current.supervisor));
        let to = (u32::try_from(before.number).unwrap_or_default(), Supervisor::parse(&before.supervisor));
        let token = self.runner_token(&row).await?;
        let id = server_id.to_owned();
        self.spawn_operation(owner, server_id, "rollback", move |machines, progress| async move {
            let server_id = id;
            let ssh = deploy::connect(&target, &progress).await?;
            let outbound = machines.servers.engine().outbound.clone();
            let result = deploy::rollback(&ssh, &layout, &target.host, &token, to, from, &outbound, &progress).await;
            ssh.close().await;
            let serving = result?;
            machines.now_serving(&server_id, &target_row.id, &serving, Some(from)).await
        })
        .await
    }

    /// Stops the serving release; `/mcp/{slug}` answers 404 until started.
    pub async fn vps_stop(&self, owner: &UserView, server_id: &str) -> Result<OperationView, AppError> {
        let (row, _, target, layout, releases) = self.on_machine(owner, server_id).await?;
        let Some(current) = releases.iter().find(|r| r.status() == ReleaseStatus::Serving) else {
            return Err(AppError::conflict("release", "no release is serving"));
        };
        let release = (u32::try_from(current.number).unwrap_or_default(), Supervisor::parse(&current.supervisor));
        let server_id = server_id.to_owned();
        let slug = row.slug.clone();
        self.spawn_operation(owner, &server_id.clone(), "stop", move |machines, progress| async move {
            let ssh = deploy::connect(&target, &progress).await?;
            progress(StepEvent {
                step: "stop".into(),
                status: "running".into(),
                detail: format!("release {}", release.0),
            });
            let stopped = deploy::stop(&ssh, &layout, release).await;
            ssh.close().await;
            stopped.map_err(|e| Failed { step: "stop".into(), message: e })?;
            progress(StepEvent {
                step: "stop".into(),
                status: "done".into(),
                detail: format!("release {} stopped", release.0),
            });
            let stored = async {
                machines
                    .store
                    .set_release_status(&server_id, i64::from(release.0), ReleaseStatus::Halted)
                    .await
                    .or_internal("halt release")?;
                machines.servers.take_offline(&server_id, &slug).await
            };
            stored.await.map_err(|e| Failed { step: "stop".into(), message: e.to_string() })
        })
        .await
    }

    /// Starts the current release again after a stop.
    pub async fn vps_start(&self, owner: &UserView, server_id: &str) -> Result<OperationView, AppError> {
        let (row, target_row, target, layout, releases) = self.on_machine(owner, server_id).await?;
        if releases.iter().any(|r| r.status() == ReleaseStatus::Serving) {
            return Err(AppError::conflict("release", "the current release is already serving"));
        }
        let Some(current) = releases
            .iter()
            .find(|r| r.status() == ReleaseStatus::Halted)
            .or_else(|| releases.iter().find(|r| r.status() != ReleaseStatus::Failed))
        else {
            return Err(AppError::conflict("release", "there is no release to start; deploy first"));
        };
        let release = (u32::try_from(current.number).unwrap_or_default(), Supervisor::parse(&current.supervisor));
        let token = self.runner_token(&row).await?;
        let id = server_id.to_owned();
        self.spawn_operation(owner, server_id, "start", move |machines, progress| async move {
            let server_id = id;
            let ssh = deploy::connect(&target, &progress).await?;
            let outbound = machines.servers.engine().outbound.clone();
            let result = deploy::start(&ssh, &layout, &target.host, &token, release, &outbound, &progress).await;
            ssh.close().await;
            let serving = result?;
            machines.now_serving(&server_id, &target_row.id, &serving, None).await
        })
        .await
    }

    /// Stops every release and deletes the server's files from the machine;
    /// the server stays here, disabled, hosted here again.
    pub async fn vps_remove(&self, owner: &UserView, server_id: &str) -> Result<OperationView, AppError> {
        let (row, _, target, layout, releases) = self.on_machine(owner, server_id).await?;
        let all: Vec<(u32, Supervisor)> = releases
            .iter()
            .map(|r| (u32::try_from(r.number).unwrap_or_default(), Supervisor::parse(&r.supervisor)))
            .collect();
        let server_id = server_id.to_owned();
        let slug = row.slug.clone();
        self.spawn_operation(owner, &server_id.clone(), "remove", move |machines, progress| async move {
            let ssh = deploy::connect(&target, &progress).await?;
            progress(StepEvent { step: "remove".into(), status: "running".into(), detail: layout.server_dir() });
            let removed = deploy::remove(&ssh, &layout, &all).await;
            ssh.close().await;
            removed.map_err(|e| Failed { step: "remove".into(), message: e })?;
            progress(StepEvent {
                step: "remove".into(),
                status: "done".into(),
                detail: "nothing of this server is left on the machine".into(),
            });
            let stored = async {
                machines.store.forget_releases(&server_id, now()).await.or_internal("forget releases")?;
                machines.servers.unpublish(&server_id, &slug).await;
                Ok::<(), AppError>(())
            };
            stored.await.map_err(|e| Failed { step: "remove".into(), message: e.to_string() })
        })
        .await
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

    /// At start-up: operations a previous process left running never finish.
    pub async fn fail_interrupted_operations(&self) -> Result<(), AppError> {
        self.store
            .fail_running("interrupted: AutoMCP restarted during the operation; run it again", now())
            .await
            .or_internal("fail interrupted operations")?;
        Ok(())
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') { format!("[{host}]") } else { host.to_owned() }
}
