//! What each operation does, checked against the stored state and turned
//! into the work its job runs (see [`super::operations`]).

use super::operations::{Operation, Work, work};
use super::{Machines, bracket, require_paid};
use crate::db::now;
use crate::error::ResultExt;
use crate::store::machines::{NewRelease, ReleaseRow, ReleaseStatus, TargetRow};
use crate::store::servers::ServerRow;
use crate::vps::deploy::{self, Failed, Release, Serving, StepEvent};
use crate::vps::plan::{Layout, Supervisor};
use crate::vps::ssh::Target;
use app::model::AppError;
use app::model::UserView;
use app::spec::ServerSpec;
use app::vps::{DeployToTarget, OperationView};

impl Machines {
    /// Deploys a new release of a server to a machine (paid tier). Returns
    /// the operation at once; its steps fill in as they happen.
    pub async fn vps_deploy(
        &self,
        owner: &UserView,
        server_id: &str,
        input: DeployToTarget,
    ) -> Result<OperationView, AppError> {
        self.start(owner, server_id, Operation::Deploy { target_id: input.target_id }).await
    }

    /// Serves the release before the current one again.
    pub async fn vps_rollback(&self, owner: &UserView, server_id: &str) -> Result<OperationView, AppError> {
        self.start(owner, server_id, Operation::Rollback).await
    }

    /// Stops the serving release; `/mcp/{slug}` answers 404 until started.
    pub async fn vps_stop(&self, owner: &UserView, server_id: &str) -> Result<OperationView, AppError> {
        self.start(owner, server_id, Operation::Stop).await
    }

    /// Starts the current release again after a stop.
    pub async fn vps_start(&self, owner: &UserView, server_id: &str) -> Result<OperationView, AppError> {
        self.start(owner, server_id, Operation::Start).await
    }

    /// Stops every release and deletes the server's files from the machine;
    /// the server stays here, disabled, hosted here again.
    pub async fn vps_remove(&self, owner: &UserView, server_id: &str) -> Result<OperationView, AppError> {
        self.start(owner, server_id, Operation::Remove).await
    }

    /// Checks `operation` against what is stored now; returns its work.
    pub(super) async fn plan(
        &self,
        owner: &UserView,
        server_id: &str,
        operation: &Operation,
    ) -> Result<Work, AppError> {
        match operation {
            Operation::Deploy { target_id } => self.plan_deploy(owner, server_id, target_id).await,
            Operation::Rollback => self.plan_rollback(owner, server_id).await,
            Operation::Stop => self.plan_stop(owner, server_id).await,
            Operation::Start => self.plan_start(owner, server_id).await,
            Operation::Remove => self.plan_remove(owner, server_id).await,
        }
    }

    async fn plan_deploy(&self, owner: &UserView, server_id: &str, target_id: &str) -> Result<Work, AppError> {
        require_paid(owner)?;
        let row = self.servers.row(owner, server_id).await?;
        if row.kind() != app::model::ServerKind::Actions {
            return Err(AppError::invalid(
                "kind",
                "servers made from an MCP server forward to it from here; only action servers run on a machine",
            ));
        }
        if row.target_id.as_deref().is_some_and(|t| t != target_id) {
            return Err(AppError::conflict(
                "target_id",
                "this server is on another machine; remove it from there first",
            ));
        }
        let target_row = self.target_row(owner, target_id).await?;
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
        let (id, target_id) = (server_id.to_owned(), target_id.to_owned());
        Ok(work(move |machines, progress| async move {
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
        }))
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

    pub(super) async fn on_machine(
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

    async fn plan_rollback(&self, owner: &UserView, server_id: &str) -> Result<Work, AppError> {
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
        Ok(work(move |machines, progress| async move {
            let server_id = id;
            let ssh = deploy::connect(&target, &progress).await?;
            let outbound = machines.servers.engine().outbound.clone();
            let result = deploy::rollback(&ssh, &layout, &target.host, &token, to, from, &outbound, &progress).await;
            ssh.close().await;
            let serving = result?;
            machines.now_serving(&server_id, &target_row.id, &serving, Some(from)).await
        }))
    }

    async fn plan_stop(&self, owner: &UserView, server_id: &str) -> Result<Work, AppError> {
        let (row, _, target, layout, releases) = self.on_machine(owner, server_id).await?;
        let Some(current) = releases.iter().find(|r| r.status() == ReleaseStatus::Serving) else {
            return Err(AppError::conflict("release", "no release is serving"));
        };
        let release = (u32::try_from(current.number).unwrap_or_default(), Supervisor::parse(&current.supervisor));
        let server_id = server_id.to_owned();
        let slug = row.slug.clone();
        Ok(work(move |machines, progress| async move {
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
        }))
    }

    async fn plan_start(&self, owner: &UserView, server_id: &str) -> Result<Work, AppError> {
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
        Ok(work(move |machines, progress| async move {
            let server_id = id;
            let ssh = deploy::connect(&target, &progress).await?;
            let outbound = machines.servers.engine().outbound.clone();
            let result = deploy::start(&ssh, &layout, &target.host, &token, release, &outbound, &progress).await;
            ssh.close().await;
            let serving = result?;
            machines.now_serving(&server_id, &target_row.id, &serving, None).await
        }))
    }

    async fn plan_remove(&self, owner: &UserView, server_id: &str) -> Result<Work, AppError> {
        let (row, _, target, layout, releases) = self.on_machine(owner, server_id).await?;
        let all: Vec<(u32, Supervisor)> = releases
            .iter()
            .map(|r| (u32::try_from(r.number).unwrap_or_default(), Supervisor::parse(&r.supervisor)))
            .collect();
        let server_id = server_id.to_owned();
        let slug = row.slug.clone();
        Ok(work(move |machines, progress| async move {
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
        }))
    }
}
