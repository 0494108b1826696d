//! Registered upstream MCP servers ("sources") and the stateless fetch of
//! their tools.
//!
//! An admin registers shared sources (`owner_id` null) that every account
//! sees; anyone may register private ones. Every query is scoped: a source
//! is visible when it is shared or the caller's own; a private source of
//! another account is "not found".

use crate::db::now;
use crate::engine::mcp::Remote;
use crate::engine::outbound::Outbound;
use crate::engine::ssrf::check_literal_host;
use crate::error::ResultExt;
use crate::store::Db;
pub use crate::store::sources::SourceRow;
use crate::store::sources::{SourceFields, SourceStore};
use app::mcps::{FetchTools, FetchedTools, RegisterSource, SourceView, ToolDef, UpdateSource, UpstreamAuth};
use app::model::{AppError, UserView};

const MAX_URL: usize = 2048;

#[derive(Clone)]
pub struct Sources {
    store: SourceStore,
    outbound: Outbound,
}

fn editable(row: &SourceRow, caller: &UserView) -> bool {
    match &row.owner_id {
        Some(owner) => owner == &caller.id,
        None => caller.is_admin,
    }
}

fn view(row: SourceRow, caller: &UserView) -> SourceView {
    SourceView {
        editable: editable(&row, caller),
        shared: row.owner_id.is_none(),
        id: row.id,
        name: row.name,
        url: row.url,
        description: row.description,
        enabled: row.enabled,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "give the MCP server a name of 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

fn check_description(description: &str) -> Result<String, AppError> {
    if description.chars().count() > 2000 {
        return Err(AppError::invalid("description", "keep the description under 2000 characters"));
    }
    Ok(description.trim().to_owned())
}

impl Sources {
    pub fn new(db: Db, outbound: Outbound) -> Self {
        Sources { store: SourceStore::new(db), outbound }
    }

    /// An http(s) URL with a host and no user info; IP literals the SSRF
    /// guard forbids are refused now rather than at the first fetch.
    fn check_url(&self, url: &str) -> Result<String, AppError> {
        let url = url.trim();
        let field = "url";
        if url.len() > MAX_URL {
            return Err(AppError::invalid(field, format!("the URL is longer than {MAX_URL} characters")));
        }
        let parsed = url::Url::parse(url).map_err(|e| {
            AppError::invalid(field, format!("`{url}` is not a valid URL ({e}); give the full https:// address"))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AppError::invalid(field, "the URL must start with https:// (or http://)"));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(AppError::invalid(field, "the URL has no host"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(AppError::invalid(field, "put credentials in the auth header, not in the URL"));
        }
        check_literal_host(&parsed, self.outbound.policy()).map_err(|e| AppError::invalid(field, e))?;
        Ok(parsed.to_string())
    }

    async fn visible_row(&self, caller: &UserView, id: &str) -> Result<SourceRow, AppError> {
        self.store
            .visible(&caller.id, id)
            .await
            .or_internal("load source")?
            .ok_or_else(|| AppError::not_found(format!("there is no MCP server with id `{id}`")))
    }

    /// A source the caller may fetch from: visible and enabled.
    pub async fn usable(&self, caller: &UserView, id: &str) -> Result<SourceRow, AppError> {
        let row = self.visible_row(caller, id).await?;
        if !row.enabled {
            return Err(AppError::conflict(
                "mcp_server_id",
                format!("the MCP server `{}` is disabled and cannot be used; choose another", row.name),
            ));
        }
        Ok(row)
    }

    /// Shared sources and the caller's own, by name.
    pub async fn list(&self, caller: &UserView) -> Result<Vec<SourceView>, AppError> {
        let rows = self.store.visible_to(&caller.id).await.or_internal("list sources")?;
        Ok(rows.into_iter().map(|row| view(row, caller)).collect())
    }

    pub async fn get(&self, caller: &UserView, id: &str) -> Result<SourceView, AppError> {
        Ok(view(self.visible_row(caller, id).await?, caller))
    }

    pub async fn register(&self, caller: &UserView, input: RegisterSource) -> Result<SourceView, AppError> {
        if input.shared && !caller.is_admin {
            return Err(AppError::forbidden(
                "only an admin can register an MCP server for everyone; register it for yourself instead",
            ));
        }
        let name = check_name(&input.name)?;
        let url = self.check_url(&input.url)?;
        let description = check_description(&input.description)?;
        let id = uuid::Uuid::now_v7().to_string();
        let time = now();
        let fields = SourceFields { name: &name, url: &url, description: &description, enabled: input.enabled };
        let owner = (!input.shared).then_some(caller.id.as_str());
        self.store.insert(&id, owner, &caller.id, fields, time).await.or_internal("insert source")?;
        tracing::info!(source_id = %id, shared = input.shared, "MCP source registered");
        self.get(caller, &id).await
    }

    async fn editable_row(&self, caller: &UserView, id: &str) -> Result<SourceRow, AppError> {
        let row = self.visible_row(caller, id).await?;
        if !editable(&row, caller) {
            return Err(AppError::forbidden("only an admin can change an MCP server registered for everyone"));
        }
        Ok(row)
    }

    /// Changes a source. The caller re-mounts the servers made from it
    /// (see `Services::update_source`).
    pub async fn update(&self, caller: &UserView, id: &str, input: UpdateSource) -> Result<SourceView, AppError> {
        let row = self.editable_row(caller, id).await?;
        let name = input.name.as_deref().map(check_name).transpose()?.unwrap_or(row.name);
        let url = input.url.as_deref().map(|u| self.check_url(u)).transpose()?.unwrap_or(row.url);
        let description = input.description.as_deref().map(check_description).transpose()?.unwrap_or(row.description);
        let enabled = input.enabled.unwrap_or(row.enabled);
        let fields = SourceFields { name: &name, url: &url, description: &description, enabled };
        self.store.update(id, fields, now()).await.or_internal("update source")?;
        tracing::info!(source_id = %id, enabled, "MCP source updated");
        self.get(caller, id).await
    }

    /// Removes a source no server uses.
    pub async fn delete(&self, caller: &UserView, id: &str) -> Result<(), AppError> {
        self.editable_row(caller, id).await?;
        let users = self.store.servers_using(id).await.or_internal("count servers of source")?;
        if users > 0 {
            return Err(AppError::conflict(
                "mcp_server_id",
                format!("{users} server(s) are made from this MCP server; delete them first, or disable it instead"),
            ));
        }
        self.store.delete(id).await.or_internal("delete source")?;
        tracing::info!(source_id = %id, "MCP source deleted");
        Ok(())
    }

    /// The stateless fetch: connects to the source as an MCP client and
    /// returns every tool. Writes nothing.
    pub async fn fetch_tools(&self, caller: &UserView, input: FetchTools) -> Result<FetchedTools, AppError> {
        let source = self.usable(caller, &input.mcp_server_id).await?;
        let auth = input.upstream_auth()?;
        let tools = self.list_tools(&source.url, &auth).await?;
        tracing::info!(source_id = %source.id, tools = tools.len(), "fetched tools");
        Ok(FetchedTools { mcp_server_id: source.id, tools })
    }

    /// Lists the tools at `url` with `auth`.
    pub async fn list_tools(&self, url: &str, auth: &UpstreamAuth) -> Result<Vec<ToolDef>, AppError> {
        let header = match auth {
            UpstreamAuth::Public => None,
            UpstreamAuth::Header { key, value } => Some((key.as_str(), value.as_str())),
        };
        let remote = Remote::new(&self.outbound, url, header).map_err(|e| AppError::upstream(e.failure, e.message))?;
        let values = remote.list_tools().await.map_err(|e| AppError::upstream(e.failure, e.message))?;
        let mut tools = Vec::with_capacity(values.len());
        for value in values {
            let tool: ToolDef = serde_json::from_value(value).map_err(|e| {
                AppError::upstream(app::model::UpstreamFailure::NotMcp, format!("a tool definition is unreadable: {e}"))
            })?;
            tools.push(tool);
        }
        Ok(tools)
    }
}
