//! The application's services, built once at start and shared by the HTTP
//! handlers, the server functions (through [`app::ssr::Backend`]) and the CLI.

use crate::accounts::Accounts;
use crate::config::Config;
use crate::db::health::Health;
use crate::engine::outbound::Outbound;
use crate::engine::{Engine, HostRules, calllog};
use crate::generate::llm::Llm;
use crate::jobs::{Queue, Subject};
use crate::machines::Machines;
use crate::secret::InstanceKey;
use crate::servers::Servers;
use crate::sources::Sources;
use crate::store::Db;
use crate::throttle::{Rates, Throttle};
use crate::wizards::Wizards;
use app::model::{AppError, Tier, UserView};
use std::sync::Arc;

#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: Db,
    /// Whether the database takes writes; this process's heartbeat.
    pub health: Arc<Health>,
    pub key: Arc<InstanceKey>,
    pub accounts: Accounts,
    pub engine: Arc<Engine>,
    pub servers: Servers,
    pub machines: Machines,
    pub sources: Sources,
    pub wizards: Wizards,
    /// The OAuth authorization server for the hosted endpoints.
    pub oauth: crate::oauth::service::OAuth,
    /// The durable job queue (generations and operations on machines).
    queue: Queue,
    /// Stops the background work that keeps this replica's mount table in line.
    sync_stop: tokio_util::sync::CancellationToken,
}

/// The instance key: with PostgreSQL it must be given (every replica the
/// same), never generated per process; on either backend it must match the
/// fingerprint stored by the first process that used the database.
async fn load_key(config: &Config, db: &Db) -> anyhow::Result<InstanceKey> {
    if matches!(db, Db::Postgres(_)) && config.secret_key.is_none() {
        anyhow::bail!(
            "with PostgreSQL every replica must be given the same instance key: set AUTOMCP_SECRET_KEY \
             to 64 hex characters (e.g. the output of `openssl rand -hex 32`), the same on every replica"
        );
    }
    let key = InstanceKey::load_or_create(config.secret_key.as_deref(), &config.data_dir)?;
    let stored = crate::store::settings::SettingsStore::new(db.clone())
        .first_or_set("key_check", &key.fingerprint())
        .await
        .map_err(|e| anyhow::anyhow!("could not read the instance key's fingerprint: {e}"))?;
    if stored != key.fingerprint() {
        anyhow::bail!(
            "this instance key is not the one the database's credentials were sealed with \
             (fingerprint {} here, {stored} stored): give every process the same AUTOMCP_SECRET_KEY",
            key.fingerprint()
        );
    }
    Ok(key)
}

impl Services {
    /// Opens the database (applying migrations), loads the instance key and
    /// starts the engine (nothing is mounted yet: see [`Servers::mount_all`]).
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| anyhow::anyhow!("could not create the data directory {}: {e}", config.data_dir.display()))?;
        let db = Db::connect(&config.database_url(), config.db_busy_timeout()).await?;
        let key = Arc::new(load_key(&config, &db).await?);
        let health = Health::new(db.clone());
        let public_url = config.public_url();
        let outbound = Outbound::from_config(&config)?;
        let hosts = HostRules::new(&public_url, &config.allowed_hosts);
        let engine = Arc::new(Engine::new(outbound.clone(), calllog::start(db.clone()), hosts));
        let sources = Sources::new(db.clone(), outbound.clone());
        let oauth_store = crate::store::oauth::OAuthStore::new(db.clone());
        let servers = Servers::new(
            db.clone(),
            oauth_store.clone(),
            key.clone(),
            engine.clone(),
            sources.clone(),
            public_url.clone(),
            config.free_monthly_calls,
        );
        let llm = config.llm().map(Llm::new);
        let queue = Queue::new(db.clone(), health.clone(), config.job_workers);
        let machines = Machines::new(servers.clone(), queue.clone(), key.clone(), config.vps_binary.clone());
        let wizards = Wizards::new(db.clone(), outbound.clone(), llm, servers.clone(), queue.clone());
        let throttle = Arc::new(Throttle::new(Rates {
            log_ins_per_minute: config.log_ins_per_minute,
            sign_ups_per_hour: config.sign_ups_per_hour,
        }));
        let oauth = crate::oauth::service::OAuth::new(oauth_store, outbound.clone(), public_url.clone());
        engine.set_access_tokens(Arc::new(oauth.clone()));
        engine.quota.set_ledger(Arc::new(crate::store::quota::QuotaStore::new(db.clone())));
        Ok(Services {
            oauth,
            accounts: Accounts::new(db.clone(), throttle),
            config: Arc::new(config),
            db,
            health,
            key,
            engine,
            servers,
            machines,
            sources,
            wizards,
            queue,
            sync_stop: tokio_util::sync::CancellationToken::new(),
        })
    }

    /// Starts the background work a serving process does: the database
    /// heartbeat (first, so this instance counts as alive) and the job workers.
    pub async fn start_background(&self) {
        self.health.probe().await;
        self.health.spawn();
        self.servers.start_sync(self.sync_stop.clone());
        self.start_workers();
    }

    /// Stops cleanly: running jobs are handed back to the queue, queued call
    /// records and token uses are written, the heartbeat is removed, and the
    /// database is closed.
    pub async fn shutdown(&self) {
        self.sync_stop.cancel();
        self.stop_workers().await;
        self.engine.quota.give_back_all().await;
        self.engine.calls.flush_and_stop().await;
        self.accounts.token_uses.stop().await;
        self.health.stop().await;
        self.db.close().await;
    }

    /// Starts the job workers: each claimed job goes to the service it is for.
    fn start_workers(&self) {
        let (wizards, machines) = (self.wizards.clone(), self.machines.clone());
        let lease = crate::generate::budget::JOB_TIME + std::time::Duration::from_secs(60);
        self.queue.start(
            lease,
            Arc::new(move |claim, cancel| {
                let (wizards, machines) = (wizards.clone(), machines.clone());
                Box::pin(async move {
                    match claim.subject.clone() {
                        Subject::Wizard(id) => wizards.run_job(claim, id, cancel).await,
                        Subject::Operation(id) => machines.run_job(claim, id, cancel).await,
                    }
                })
            }),
        );
    }

    /// Stops the job workers: a running generation is handed back to the
    /// queue, a running operation is closed as interrupted.
    pub async fn stop_workers(&self) {
        self.queue.shutdown().await;
    }

    /// Changes a source and re-mounts (or, when disabled, takes offline)
    /// the live servers made from it.
    pub async fn update_source(
        &self,
        caller: &UserView,
        id: &str,
        input: app::mcps::UpdateSource,
    ) -> Result<app::mcps::SourceView, AppError> {
        let view = self.sources.update(caller, id, input).await?;
        self.servers.source_changed(id).await?;
        Ok(view)
    }

    /// Changes a tier (the caller must be an admin, or `None` for the
    /// operator's CLI) and re-mounts the account's servers under the new limits.
    pub async fn change_tier(
        &self,
        caller: Option<&UserView>,
        user_id: &str,
        tier: Tier,
    ) -> Result<UserView, AppError> {
        let user = match caller {
            Some(caller) => self.accounts.set_tier_as(caller, user_id, tier).await?,
            None => self.accounts.set_tier(user_id, tier).await?,
        };
        self.servers.remount_owner(&user.id).await?;
        Ok(user)
    }
}
