//! Hosted servers: storage, tier rules and mounting into the engine.
//! Servers made from an MCP server ("mcps") are in [`mcps`].
//!
//! Every query is scoped to the owner (`owner_id = caller`), so one account
//! can neither see nor touch another's servers: a foreign id is "not found".

use crate::accounts::secret_hash;
use crate::crypto::{self, Binding};
use crate::db::now;
use crate::engine::caller::OAuthGate;
use crate::engine::limits::ServerLimits;
use crate::engine::{ClientCheck, Engine, ForwardTo, MountRequest};
use crate::error::ResultExt;
use crate::secret::InstanceKey;
use crate::sources::Sources;
use crate::store::calls::CallStore;
use crate::store::servers::{Hosting, NewServer, ServerRow, ServerStore};
use crate::store::{Db, Insert, Tx};
use app::model::{
    AppError, CallView, ClientAuth, ConnectedClient, Connection, ConnectionInput, CreateServer, Limits, LimitsInput,
    OAuthAccess, ServerCreated, ServerKind, ServerStatus, ServerView, Tier, TokenIssued, ToolSummary, UpdateServer,
    UserView,
};
use app::spec::{ServerSpec, SpecLimits, credential_names, validate};
use base64::Engine as _;
use rand::RngCore;
use std::sync::Arc;

/// Active servers a free account may have.
pub const FREE_MAX_ACTIVE_SERVERS: i64 = 3;
/// Every client token starts with this.
pub const SERVER_TOKEN_PREFIX: &str = "amcp_srv_";
const MAX_SECRET_BYTES: usize = 8 * 1024;

#[derive(Clone)]
pub struct Servers {
    db: Db,
    store: ServerStore,
    /// Grants and tokens (the same store the authorization server uses, so
    /// revocations made here reach its access cache).
    oauth: crate::store::oauth::OAuthStore,
    /// This process, as named in the changes it announces.
    origin: Arc<str>,
    key: Arc<InstanceKey>,
    engine: Arc<Engine>,
    sources: Sources,
    public_url: url::Url,
    free_monthly_quota: u64,
}

/// What a stored server's text columns say, read for the services.
trait StoredServer {
    fn oauth_access(&self) -> OAuthAccess;
    fn connection(&self) -> Connection;
    fn filter(&self) -> Result<Vec<String>, AppError>;
    fn cache(&self) -> Result<Vec<app::mcps::ToolDef>, AppError>;
}

impl StoredServer for ServerRow {
    /// Who may connect OAuth clients (unreadable text: only the owner).
    fn oauth_access(&self) -> OAuthAccess {
        OAuthAccess::from_stored(self.oauth_access.as_deref())
    }

    /// How clients connect, with the defaults for what the owner left unset.
    fn connection(&self) -> Connection {
        let allowed_origins =
            self.allowed_origins.as_deref().and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default();
        let call_timeout_secs = self
            .call_timeout_secs
            .and_then(|secs| u32::try_from(secs).ok())
            .unwrap_or(app::mcps::DEFAULT_CALL_TIMEOUT_SECS);
        Connection { allowed_origins, call_timeout_secs }
    }

    /// The chosen tool names of a server made from a source.
    fn filter(&self) -> Result<Vec<String>, AppError> {
        match &self.tools_filter {
            None => Ok(Vec::new()),
            Some(text) => serde_json::from_str(text).or_internal("parse stored tools_filter"),
        }
    }

    /// The cached tool definitions of a server made from a source.
    fn cache(&self) -> Result<Vec<app::mcps::ToolDef>, AppError> {
        match &self.tools_cache {
            None => Ok(Vec::new()),
            Some(text) => serde_json::from_str(text).or_internal("parse stored tools_cache"),
        }
    }
}

/// The credential under which a source's auth header value is sealed (the
/// `:` keeps it apart from credential names people choose).
pub const SOURCE_HEADER_CREDENTIAL: &str = "mcp:header";

pub mod mcps;
pub mod sync;

/// A token the main instance sends to a server's release on a machine.
pub(crate) fn issue_runner_token() -> String {
    format!("amcp_run_{}", issue_token().trim_start_matches(SERVER_TOKEN_PREFIX))
}

fn issue_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SERVER_TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The highest custom limit (calls a minute, burst or concurrency): about
/// 16,700 calls a second, past what one 2-core instance serves.
pub const MAX_LIMIT: u32 = 1_000_000;

/// Custom limits as stored: calls a minute, burst, concurrency.
fn limit_values(limits: &LimitsInput) -> [Option<i64>; 3] {
    [limits.calls_per_minute, limits.burst, limits.max_concurrency].map(|value| value.map(i64::from))
}

fn check_credential(name: &str, value: Option<&str>) -> Result<(), AppError> {
    if !app::spec::valid_tool_name(name) {
        return Err(AppError::invalid(
            format!("credentials.{name}"),
            format!("`{name}` is not a valid credential name: use 1 to 64 of A-Z, a-z, 0-9, `_` and `-`"),
        ));
    }
    if let Some(value) = value
        && (value.is_empty() || value.len() > MAX_SECRET_BYTES)
    {
        return Err(AppError::invalid(
            format!("credentials.{name}"),
            format!("a credential value must be 1 to {MAX_SECRET_BYTES} bytes"),
        ));
    }
    Ok(())
}

impl Servers {
    pub fn new(
        db: Db,
        oauth: crate::store::oauth::OAuthStore,
        key: Arc<InstanceKey>,
        engine: Arc<Engine>,
        sources: Sources,
        public_url: url::Url,
        free_monthly_quota: u64,
    ) -> Self {
        Servers {
            store: ServerStore::new(db.clone()),
            oauth,
            origin: Arc::from(uuid::Uuid::new_v4().simple().to_string()),
            db,
            key,
            engine,
            sources,
            public_url,
            free_monthly_quota,
        }
    }

    /// One stored credential of a server, decrypted.
    pub(crate) async fn open_credential(&self, row: &ServerRow, name: &str) -> Result<Option<String>, AppError> {
        let sealed = self.store.credential(&row.id, name).await.or_internal("load credential")?;
        let Some(sealed) = sealed else { return Ok(None) };
        let binding = Binding { owner_id: &row.owner_id, server_id: &row.id, name };
        crypto::open(&self.key, &binding, &sealed).or_internal("open credential").map(Some)
    }

    fn limits_for(&self, tier: Tier, row: &ServerRow) -> Limits {
        let base = match tier {
            Tier::Free => ServerLimits::FREE,
            Tier::Paid => ServerLimits::PAID,
        };
        let pick = |custom: Option<i64>, default: u32| custom.and_then(|v| u32::try_from(v).ok()).unwrap_or(default);
        Limits {
            calls_per_minute: pick(row.calls_per_minute, base.calls_per_minute),
            burst: pick(row.burst, base.burst),
            max_concurrency: pick(row.max_concurrency, base.max_concurrency),
            monthly_quota: match tier {
                Tier::Free => Some(self.free_monthly_quota),
                Tier::Paid => None,
            },
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Seals and stores one credential of a server.
    pub(crate) async fn put_credential(&self, row: &ServerRow, name: &str, value: &str) -> Result<(), AppError> {
        let mut tx = self.db.begin().await.or_internal("begin")?;
        self.store_credential(&mut tx, &row.owner_id, &row.id, name, value).await?;
        tx.commit().await.or_internal("commit credential")
    }

    pub fn endpoint(&self, slug: &str) -> String {
        self.public_url.join(&format!("mcp/{slug}")).map(|u| u.to_string()).unwrap_or_else(|_| format!("/mcp/{slug}"))
    }

    async fn view(&self, row: ServerRow, tier: Tier) -> Result<ServerView, AppError> {
        let spec: ServerSpec = serde_json::from_str(&row.spec).or_internal("parse stored spec")?;
        let mut stored = self.store.credential_names(&row.id).await.or_internal("list credential names")?;
        stored.retain(|name| name != SOURCE_HEADER_CREDENTIAL);
        let missing = credential_names(&spec).into_iter().filter(|name| !stored.contains(name)).collect();
        let tools: Vec<ToolSummary> = match row.kind() {
            ServerKind::Mcp => {
                let cache = row.cache()?;
                row.filter()?
                    .into_iter()
                    .filter_map(|name| cache.iter().find(|tool| tool.name == name))
                    .map(|tool| ToolSummary {
                        name: tool.name.clone(),
                        description: tool.description.clone().unwrap_or_default(),
                        input_schema: tool.input_schema.clone(),
                    })
                    .collect()
            }
            ServerKind::Actions => spec
                .tools
                .iter()
                .map(|tool| ToolSummary {
                    name: tool.name.clone(),
                    description: tool.description.clone(),
                    input_schema: tool.input_schema.clone(),
                })
                .collect(),
        };
        Ok(ServerView {
            endpoint: self.endpoint(&row.slug),
            limits: self.limits_for(tier, &row),
            connection: row.connection(),
            oauth_access: row.oauth_access(),
            client_auth: row.client_auth(),
            kind: row.kind(),
            status: row.status(),
            id: row.id,
            slug: row.slug,
            name: row.name,
            tool_count: tools.len(),
            tools,
            credentials: stored,
            missing_credentials: missing,
            created_at: row.created_at,
            updated_at: row.updated_at,
            spec,
        })
    }

    pub(crate) async fn row(&self, owner: &UserView, id: &str) -> Result<ServerRow, AppError> {
        self.store
            .owned(&owner.id, id)
            .await
            .or_internal("load server")?
            .ok_or_else(|| AppError::not_found(format!("you have no server with id `{id}`")))
    }

    fn check_spec(spec: &ServerSpec, tier: Tier) -> Result<(), AppError> {
        let issues = validate(spec, SpecLimits::for_tier(tier));
        if issues.is_empty() { Ok(()) } else { Err(AppError::invalid_spec(issues)) }
    }

    fn check_limits(input: Option<&LimitsInput>, tier: Tier) -> Result<(), AppError> {
        let Some(input) = input else { return Ok(()) };
        if tier == Tier::Free && *input != LimitsInput::default() {
            return Err(AppError::forbidden(
                "custom limits are for the paid tier; free servers allow 60 calls a minute, 4 at a time",
            ));
        }
        for (field, value) in [
            ("calls_per_minute", input.calls_per_minute),
            ("burst", input.burst),
            ("max_concurrency", input.max_concurrency),
        ] {
            if value == Some(0) || value.is_some_and(|v| v > MAX_LIMIT) {
                return Err(AppError::invalid(format!("limits.{field}"), format!("must be 1 to {MAX_LIMIT}")));
            }
        }
        Ok(())
    }

    /// Checks connection settings; returns the origins normalised.
    fn check_connection(input: &ConnectionInput) -> Result<Option<Vec<String>>, AppError> {
        if let Some(secs) = input.call_timeout_secs
            && !(app::mcps::MIN_CALL_TIMEOUT_SECS..=app::mcps::MAX_CALL_TIMEOUT_SECS).contains(&secs)
        {
            return Err(AppError::invalid(
                "connection.call_timeout_secs",
                format!(
                    "must be {} to {} seconds (the timer restarts whenever the source reports progress)",
                    app::mcps::MIN_CALL_TIMEOUT_SECS,
                    app::mcps::MAX_CALL_TIMEOUT_SECS
                ),
            ));
        }
        input.allowed_origins.as_deref().map(app::origins::check_allowed_origins).transpose()
    }

    /// Creates a server from a full spec; deploys it when asked.
    pub async fn create(&self, owner: &UserView, input: CreateServer) -> Result<ServerCreated, AppError> {
        Self::check_spec(&input.spec, owner.tier)?;
        Self::check_limits(input.limits.as_ref(), owner.tier)?;
        for (name, value) in &input.credentials {
            check_credential(name, Some(value))?;
        }
        let id = uuid::Uuid::now_v7().to_string();
        let token = (input.client_auth == ClientAuth::Bearer).then(issue_token);
        let spec_json = serde_json::to_string(&input.spec).or_internal("serialize spec")?;
        let limits = input.limits.unwrap_or_default();
        let time = now();
        let mut tx = self.db.begin().await.or_internal("begin")?;
        let new = NewServer {
            id: &id,
            owner_id: &owner.id,
            slug: &input.spec.slug,
            name: input.spec.name.trim(),
            spec: &spec_json,
            client_auth: input.client_auth,
            token_hash: token.as_deref().map(secret_hash),
            limits: limit_values(&limits),
            at: time,
            kind: ServerKind::Actions,
            source_id: None,
            upstream_header: None,
            tools_cache: None,
            tools_filter: None,
        };
        if self.store.insert(&mut tx, &new).await.or_internal("insert server")? == Insert::Taken {
            return Err(AppError::conflict(
                "spec.slug",
                format!("the slug `{}` is already taken; choose another", input.spec.slug),
            ));
        }
        for (name, value) in &input.credentials {
            self.store_credential(&mut tx, &owner.id, &id, name, value).await?;
        }
        tx.commit().await.or_internal("commit server")?;
        tracing::info!(server_id = %id, slug = %input.spec.slug, tools = input.spec.tools.len(), "server created");
        let server = if input.deploy { self.deploy(owner, &id).await? } else { self.get(owner, &id).await? };
        Ok(ServerCreated { server, token })
    }

    async fn store_credential(
        &self,
        tx: &mut Tx,
        owner_id: &str,
        server_id: &str,
        name: &str,
        value: &str,
    ) -> Result<(), AppError> {
        let sealed = crypto::seal(&self.key, &Binding { owner_id, server_id, name }, value);
        self.store.put_credential(tx, server_id, name, &sealed, now()).await.or_internal("store credential")
    }

    pub async fn list(&self, owner: &UserView) -> Result<Vec<ServerView>, AppError> {
        let rows = self.store.list(&owner.id, None).await.or_internal("list servers")?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(self.view(row, owner.tier).await?);
        }
        Ok(views)
    }

    pub async fn get(&self, owner: &UserView, id: &str) -> Result<ServerView, AppError> {
        let row = self.row(owner, id).await?;
        self.view(row, owner.tier).await
    }

    /// Changes spec, client auth, credentials or limits; a live server is
    /// re-mounted at once (calls already running finish on the old version).
    pub async fn update(&self, owner: &UserView, id: &str, input: UpdateServer) -> Result<ServerView, AppError> {
        let row = self.row(owner, id).await?;
        if row.kind() == ServerKind::Mcp && (input.spec.is_some() || !input.credentials.is_empty()) {
            return Err(AppError::invalid(
                if input.spec.is_some() { "spec" } else { "credentials" },
                format!("this server forwards to an MCP server; change its tools and auth with PUT /api/v1/mcps/{id}"),
            ));
        }
        if let Some(spec) = &input.spec {
            Self::check_spec(spec, owner.tier)?;
        }
        Self::check_limits(input.limits.as_ref(), owner.tier)?;
        let origins = input.connection.as_ref().map(Self::check_connection).transpose()?.flatten();
        if let Some(access) = input.oauth_access.clone() {
            OAuthAccess::checked(access)?;
        }
        for (name, value) in &input.credentials {
            check_credential(name, value.as_deref())?;
        }
        let mut tx = self.db.begin().await.or_internal("begin")?;
        self.write_update(&mut tx, owner, id, &row, &input, origins).await?;
        tx.commit().await.or_internal("commit update")?;
        if row.client_auth() == ClientAuth::OAuth && input.client_auth.is_some_and(|auth| auth != ClientAuth::OAuth) {
            self.oauth.revoke_server_grants(id).await?;
        }
        if row.is_active() {
            if input.spec.as_ref().is_some_and(|spec| spec.slug != row.slug) {
                self.engine.unmount(&row.slug);
            }
            self.publish(id).await?;
        }
        self.get(owner, id).await
    }

    /// Writes what an update changes, in the caller's transaction.
    async fn write_update(
        &self,
        tx: &mut Tx,
        owner: &UserView,
        id: &str,
        row: &ServerRow,
        input: &UpdateServer,
        origins: Option<Vec<String>>,
    ) -> Result<(), AppError> {
        if let Some(spec) = &input.spec {
            let spec_json = serde_json::to_string(spec).or_internal("serialize spec")?;
            let fields = (spec_json.as_str(), spec.slug.as_str(), spec.name.trim());
            if self.store.set_spec(tx, &owner.id, id, fields, now()).await.or_internal("update spec")? == Insert::Taken
            {
                return Err(AppError::conflict(
                    "spec.slug",
                    format!("the slug `{}` is already taken; choose another", spec.slug),
                ));
            }
        }
        if let Some(auth) = input.client_auth
            && auth != row.client_auth()
        {
            if auth == ClientAuth::Bearer {
                return Err(AppError::invalid(
                    "client_auth",
                    "to require a token, rotate the token (POST /api/v1/servers/{id}/token): it is shown once",
                ));
            }
            // The old mode's credentials stop working: the token is dropped
            // here, OAuth grants are revoked after the commit.
            self.store.set_client_auth(tx, &owner.id, id, auth).await.or_internal("update client auth")?;
        }
        if let Some(access) = input.oauth_access.clone().map(OAuthAccess::checked).transpose()? {
            let text = serde_json::to_string(&access).or_internal("serialize oauth access")?;
            self.store.set_oauth_access(tx, &owner.id, id, &text).await.or_internal("update oauth access")?;
        }
        if let Some(limits) = &input.limits {
            self.store.set_limits(tx, &owner.id, id, limit_values(limits)).await.or_internal("update limits")?;
        }
        if let Some(connection) = &input.connection {
            let origins = origins.map(|list| serde_json::to_string(&list)).transpose().or_internal("origins")?;
            let timeout = connection.call_timeout_secs.map(i64::from);
            self.store
                .set_connection(tx, &owner.id, id, origins.as_deref(), timeout)
                .await
                .or_internal("update connection")?;
        }
        for (name, value) in &input.credentials {
            match value {
                Some(value) => self.store_credential(tx, &owner.id, id, name, value).await?,
                None => self.store.delete_credential(tx, id, name).await.or_internal("delete credential")?,
            }
        }
        self.store.touch(tx, &owner.id, id, now()).await.or_internal("touch server")
    }

    /// Makes a server live at its endpoint.
    pub async fn deploy(&self, owner: &UserView, id: &str) -> Result<ServerView, AppError> {
        let row = self.row(owner, id).await?;
        if row.hosting() == Hosting::Machine && !row.is_active() {
            return Err(AppError::conflict(
                "hosting",
                "this server runs on your machine: start it there (or remove it from the machine to host it here)",
            ));
        }
        let max_active = (owner.tier == Tier::Free).then_some(FREE_MAX_ACTIVE_SERVERS);
        if !self.store.activate(&owner.id, id, max_active, now()).await.or_internal("activate server")? {
            return Err(AppError::forbidden(format!(
                "the free tier allows at most {FREE_MAX_ACTIVE_SERVERS} active servers and you have \
                 {FREE_MAX_ACTIVE_SERVERS}; disable one or upgrade to the paid tier"
            )));
        }
        if let Err(error) = self.mount(id).await {
            // Keep what is stored in line with what is served.
            self.store.set_status(id, row.status(), now()).await.or_internal("revert status")?;
            return Err(error);
        }
        self.announce(id).await;
        tracing::info!(server_id = %id, slug = %row.slug, "server deployed");
        self.get(owner, id).await
    }

    /// Takes a server offline; its endpoint answers 404 from now on.
    pub async fn disable(&self, owner: &UserView, id: &str) -> Result<ServerView, AppError> {
        let row = self.row(owner, id).await?;
        self.store.set_status(id, ServerStatus::Disabled, now()).await.or_internal("disable server")?;
        self.engine.unmount(&row.slug);
        self.announce(id).await;
        tracing::info!(server_id = %id, slug = %row.slug, "server disabled");
        self.get(owner, id).await
    }

    pub async fn delete(&self, owner: &UserView, id: &str) -> Result<(), AppError> {
        let row = self.row(owner, id).await?;
        if row.hosting() == Hosting::Machine {
            return Err(AppError::conflict(
                "hosting",
                "this server runs on your machine; remove it from the machine first, so nothing is left running there",
            ));
        }
        self.engine.unmount(&row.slug);
        self.store.delete(id).await.or_internal("delete server")?;
        self.announce(id).await;
        tracing::info!(server_id = %id, slug = %row.slug, "server deleted");
        Ok(())
    }

    /// Issues a new client token (the old one stops working at once) and
    /// switches the server to bearer auth.
    pub async fn rotate_token(&self, owner: &UserView, id: &str) -> Result<TokenIssued, AppError> {
        let row = self.row(owner, id).await?;
        let token = issue_token();
        self.store.set_token(&owner.id, id, &secret_hash(&token), now()).await.or_internal("rotate token")?;
        if row.client_auth() == ClientAuth::OAuth {
            self.oauth.revoke_server_grants(id).await?;
        }
        if row.is_active() {
            self.publish(id).await?;
        }
        tracing::info!(server_id = %id, "client token rotated");
        Ok(TokenIssued { token })
    }

    /// The most recent calls, newest first.
    pub async fn calls(&self, owner: &UserView, id: &str, limit: u32) -> Result<Vec<CallView>, AppError> {
        self.row(owner, id).await?;
        let rows = CallStore::new(self.db.clone())
            .recent(id, &owner.id, i64::from(limit.clamp(1, 500)))
            .await
            .or_internal("list calls")?;
        Ok(rows
            .into_iter()
            .map(|row| CallView {
                id: row.id.to_string(),
                tool: row.tool,
                started_at: row.started_at,
                duration_ms: row.duration_ms,
                outcome: row.outcome,
                upstream_status: row.upstream_status.and_then(|s| u16::try_from(s).ok()),
                error: row.error,
                client: row.oauth_client,
                user: row.oauth_user,
            })
            .collect())
    }

    /// The clients users connected to the server (OAuth grants), newest first.
    pub async fn connected_clients(&self, owner: &UserView, id: &str) -> Result<Vec<ConnectedClient>, AppError> {
        self.row(owner, id).await?;
        self.oauth.grants(id).await
    }

    /// Disconnects a client: its grant and every token it holds stop working at once.
    pub async fn revoke_client(&self, owner: &UserView, id: &str, grant_id: &str) -> Result<(), AppError> {
        self.row(owner, id).await?;
        if self.oauth.revoke_grant(id, grant_id).await? {
            tracing::info!(server_id = %id, %grant_id, "connected client revoked by the owner");
            Ok(())
        } else {
            Err(AppError::not_found(format!("this server has no connected client `{grant_id}`")))
        }
    }

    /// Builds the engine's mount request for a stored server.
    async fn mount_request(&self, row: ServerRow, tier: Tier) -> Result<MountRequest, AppError> {
        let spec: ServerSpec = serde_json::from_str(&row.spec).or_internal("parse stored spec")?;
        let sealed = self.store.credentials(&row.id).await.or_internal("load credentials")?;
        let mut secrets: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for (name, sealed) in sealed {
            let binding = Binding { owner_id: &row.owner_id, server_id: &row.id, name: &name };
            let value = crypto::open(&self.key, &binding, &sealed).or_internal("open credential")?;
            secrets.insert(name, value);
        }
        let client = match (row.client_auth(), &row.token_hash) {
            (ClientAuth::Bearer, Some(hash)) => {
                let bytes = hex::decode(hash).or_internal("decode token hash")?;
                ClientCheck::Bearer(bytes.try_into().map_err(|_| AppError::internal("a stored token hash is damaged"))?)
            }
            (ClientAuth::Bearer, None) => return Err(AppError::internal("a bearer server has no token hash")),
            (ClientAuth::OAuth, _) => ClientCheck::OAuth(OAuthGate {
                server_id: row.id.clone(),
                owner_id: row.owner_id.clone(),
                access: row.oauth_access(),
                resource_metadata: crate::oauth::metadata::resource_metadata_url(&self.public_url, &row.slug),
            }),
            (ClientAuth::Public, _) => ClientCheck::Public,
        };
        let limits = self.limits_for(tier, &row);
        let connection = row.connection();
        // How long a forwarded call may wait for its source's answer or progress.
        let call_timeout = std::time::Duration::from_secs(u64::from(connection.call_timeout_secs));
        let forward = match row.kind() {
            ServerKind::Actions if row.hosting() == Hosting::Machine => {
                let serving = crate::store::machines::MachineStore::new(self.db.clone())
                    .serving(&row.id)
                    .await
                    .or_internal("load serving release")?;
                let (Some(endpoint), release_spec) = serving.ok_or_else(|| {
                    AppError::conflict("hosting", "no release serves on its machine; start or deploy it there")
                })?
                else {
                    return Err(AppError::internal("a serving release has no endpoint"));
                };
                // Clients see what the machine runs: the spec of the serving
                // release (changes to the stored spec ship with the next deploy).
                let release_spec: ServerSpec = serde_json::from_str(&release_spec).or_internal("parse release spec")?;
                let token = secrets
                    .remove(crate::machines::RUNNER_TOKEN_CREDENTIAL)
                    .ok_or_else(|| AppError::internal("the server's runner token is missing from storage"))?;
                let tools = release_spec
                    .tools
                    .iter()
                    .map(|tool| serde_json::to_value(crate::engine::mcp::tool(tool)))
                    .collect::<Result<Vec<_>, _>>()
                    .or_internal("serialize tools")?;
                Some(ForwardTo {
                    url: format!("http://{endpoint}/mcp"),
                    header: Some(("Authorization".into(), format!("Bearer {token}"))),
                    tools,
                    call_timeout,
                })
            }
            ServerKind::Actions => None,
            ServerKind::Mcp => {
                let source_id =
                    row.source_id.as_deref().ok_or_else(|| AppError::internal("an MCP server has no source"))?;
                let (url, enabled, _) = self
                    .store
                    .source(source_id)
                    .await
                    .or_internal("load source")?
                    .ok_or_else(|| AppError::internal("the server's source is gone"))?;
                if !enabled {
                    return Err(AppError::conflict(
                        "mcp_server_id",
                        "its MCP server (the source) is disabled; it can go live again once the source is enabled",
                    ));
                }
                let header = match &row.upstream_header {
                    None => None,
                    Some(name) => {
                        let value = secrets.remove(SOURCE_HEADER_CREDENTIAL).ok_or_else(|| {
                            AppError::internal("the source's auth header value is missing from storage")
                        })?;
                        Some((name.clone(), value))
                    }
                };
                let filter = row.filter()?;
                let cache = row.cache()?;
                let mut tools = Vec::with_capacity(filter.len());
                for name in &filter {
                    let tool = cache
                        .iter()
                        .find(|tool| &tool.name == name)
                        .ok_or_else(|| AppError::internal(format!("chosen tool `{name}` is not in the cache")))?;
                    tools.push(serde_json::to_value(tool).or_internal("serialize tool definition")?);
                }
                Some(ForwardTo { url, header, tools, call_timeout })
            }
        };
        Ok(MountRequest {
            server_id: row.id,
            owner_id: row.owner_id,
            spec,
            forward,
            spec_limits: SpecLimits::for_tier(tier),
            secrets,
            client,
            allowed_origins: connection.allowed_origins,
            limits: ServerLimits {
                calls_per_minute: limits.calls_per_minute,
                burst: limits.burst,
                max_concurrency: limits.max_concurrency,
            },
            monthly_quota: limits.monthly_quota,
            version: row.revision,
        })
    }

    async fn owner_tier(&self, owner_id: &str) -> Result<Tier, AppError> {
        let tier = self.store.tier_of(owner_id).await.or_internal("load owner tier")?;
        Ok(tier.and_then(|tier| tier.parse().ok()).unwrap_or_default())
    }

    /// Mounts a server here and tells the other replicas to do the same.
    pub(crate) async fn publish(&self, id: &str) -> Result<(), AppError> {
        self.mount(id).await?;
        self.announce(id).await;
        Ok(())
    }

    /// Tells the other replicas that server `id` changed (PostgreSQL
    /// `NOTIFY`; see [`sync`]). A lost notice is repaired by the periodic
    /// reconcile, so failing to send one is logged, not returned.
    async fn announce(&self, id: &str) {
        if let Err(error) = self.store.announce(&self.origin, id).await {
            tracing::warn!(server_id = %id, %error, "could not tell the other replicas about a change");
        }
    }

    /// (Re)mounts one stored server from the database.
    async fn mount(&self, id: &str) -> Result<(), AppError> {
        let row = self
            .store
            .by_id(id)
            .await
            .or_internal("load server to mount")?
            .ok_or_else(|| AppError::not_found(format!("there is no server with id `{id}`")))?;
        let tier = self.owner_tier(&row.owner_id).await?;
        let request = self.mount_request(row, tier).await?;
        self.engine.replace_server(id, Some(request)).map_err(AppError::invalid_spec)
    }

    /// Mounts every active server (at start-up). Servers that fail are
    /// logged and left unmounted; the rest serve.
    pub async fn mount_all(&self) -> Result<usize, AppError> {
        let rows = self.store.active().await.or_internal("load active servers")?;
        // One query for every owner's tier, not one per server.
        let tiers = self.store.tiers().await.or_internal("load tiers")?;
        let mut requests = Vec::with_capacity(rows.len());
        for row in rows {
            let slug = row.slug.clone();
            let tier = tiers.get(&row.owner_id).and_then(|t| t.parse().ok()).unwrap_or_default();
            match self.mount_request(row, tier).await {
                Ok(request) => requests.push(request),
                Err(error) => tracing::error!(%slug, %error, "could not prepare server for mounting"),
            }
        }
        let total = requests.len();
        let failed = self.engine.mount_all(requests);
        for (id, issues) in &failed {
            tracing::error!(server_id = %id, issues = ?issues, "could not mount server");
        }
        Ok(total - failed.len())
    }

    /// Unmounts a server and marks it disabled (not by its owner's hand).
    pub(crate) async fn take_offline(&self, id: &str, slug: &str) -> Result<(), AppError> {
        self.store.set_status(id, ServerStatus::Disabled, now()).await.or_internal("disable server")?;
        self.unpublish(id, slug).await;
        Ok(())
    }

    /// Unmounts a server here and tells the other replicas (its stored
    /// state already says it is not active).
    pub(crate) async fn unpublish(&self, id: &str, slug: &str) {
        self.engine.unmount(slug);
        self.announce(id).await;
    }

    /// Re-mounts an owner's active servers (after a tier change).
    pub async fn remount_owner(&self, owner_id: &str) -> Result<(), AppError> {
        let live = self.store.active_of_owner(owner_id).await.or_internal("list owner's active servers")?;
        for (id, slug) in live {
            match self.publish(&id).await {
                Ok(()) => {}
                Err(error) => {
                    // It no longer fits the account's tier (e.g. more tools than the
                    // free tier allows): take it offline rather than serve it unchecked.
                    self.take_offline(&id, &slug).await?;
                    tracing::warn!(server_id = %id, %error, "server disabled: it no longer fits the account's tier");
                }
            }
        }
        Ok(())
    }
}
