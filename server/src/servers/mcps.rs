//! Servers made from a source: created in one request with the fetched
//! tool definitions (`tools_cache`) and the chosen names (`tools_filter`),
//! then served by the engine like any server, forwarding calls upstream.

use super::{FREE_MAX_ACTIVE_SERVERS, SOURCE_HEADER_CREDENTIAL, ServerRow, Servers, StoredServer, issue_token};
use crate::accounts::secret_hash;
use crate::db::now;
use crate::error::ResultExt;
use crate::store::Insert;
use crate::store::servers::{McpFields, NewServer};
use app::mcps::{
    AuthKind, CreateMcp, McpCreated, McpView, RefreshTools, RefreshedTools, ToolDef, UpdateMcp, UpstreamAuth,
    check_header_key, check_header_value, check_selection, diff_tools, upstream_auth,
};
use app::model::{AppError, ClientAuth, ServerKind, ServerStatus, Tier, UserView};
use app::spec::{SPEC_VERSION, ServerSpec};

fn conflict_on_slug(slug: &str) -> AppError {
    AppError::conflict("slug", format!("the slug `{slug}` is already taken; choose another"))
}

/// Checks that the cached definitions are MCP tools the engine can serve.
fn check_definitions(cache: &[ToolDef]) -> Result<(), AppError> {
    let values: Vec<serde_json::Value> = cache
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| AppError::invalid("tools_cache", format!("the tool definitions cannot be read: {e}")))?;
    crate::engine::mcp::check_tool_definitions(&values).map_err(AppError::invalid_spec)
}

impl Servers {
    async fn source_name(&self, source_id: Option<&str>) -> Result<String, AppError> {
        let Some(source_id) = source_id else { return Ok(String::new()) };
        let source = self.store.source(source_id).await.or_internal("load source name")?;
        Ok(source.map(|(_, _, name)| name).unwrap_or_default())
    }

    async fn mcp_view(&self, row: ServerRow) -> Result<McpView, AppError> {
        let spec: ServerSpec = serde_json::from_str(&row.spec).or_internal("parse stored spec")?;
        let status = row.status();
        Ok(McpView {
            mcp_server_name: self.source_name(row.source_id.as_deref()).await?,
            endpoint: self.endpoint(&row.slug),
            tools_cache: row.cache()?,
            tools_filter: row.filter()?,
            client_auth: row.client_auth(),
            auth: if row.upstream_header.is_some() { AuthKind::Header } else { AuthKind::Public },
            auth_header_key: row.upstream_header,
            enabled: status == ServerStatus::Active,
            status,
            id: row.id,
            name: row.name,
            slug: row.slug,
            description: spec.description,
            mcp_server_id: row.source_id.unwrap_or_default(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    async fn mcp_row(&self, owner: &UserView, id: &str) -> Result<ServerRow, AppError> {
        let row = self.row(owner, id).await?;
        if row.kind() != ServerKind::Mcp {
            return Err(AppError::not_found(format!(
                "server `{id}` is not made from an MCP server; manage it with /api/v1/servers/{id}"
            )));
        }
        Ok(row)
    }

    async fn check_active_room(&self, owner: &UserView) -> Result<(), AppError> {
        if owner.tier != Tier::Free {
            return Ok(());
        }
        let active = self.store.count_active(&owner.id).await.or_internal("count active servers")?;
        if active >= FREE_MAX_ACTIVE_SERVERS {
            return Err(AppError::forbidden(format!(
                "the free tier allows at most {FREE_MAX_ACTIVE_SERVERS} active servers and you have {active}; \
                 disable one, create this one disabled, or upgrade to the paid tier"
            )));
        }
        Ok(())
    }

    /// Creates a server from a source in one request; live at once when enabled.
    pub async fn create_mcp(&self, owner: &UserView, input: CreateMcp) -> Result<McpCreated, AppError> {
        let source = self.sources.usable(owner, &input.mcp_server_id).await?;
        let auth = upstream_auth(input.auth, input.auth_header_key.as_deref(), input.auth_header_value.as_deref())?;
        let spec = ServerSpec {
            version: SPEC_VERSION,
            name: input.name.trim().to_owned(),
            slug: input.slug.trim().to_owned(),
            description: input.description.trim().to_owned(),
            tools: Vec::new(),
        };
        Self::check_spec(&spec, owner.tier)?;
        check_selection(&input.tools_cache, &input.tools_filter, owner.tier)?;
        check_definitions(&input.tools_cache)?;
        if input.enabled {
            self.check_active_room(owner).await?;
        }

        let id = uuid::Uuid::now_v7().to_string();
        let token = (input.client_auth == ClientAuth::Bearer).then(issue_token);
        let time = now();
        let header_key = match &auth {
            UpstreamAuth::Public => None,
            UpstreamAuth::Header { key, .. } => Some(key.clone()),
        };
        let spec_json = serde_json::to_string(&spec).or_internal("serialize spec")?;
        let new = NewServer {
            id: &id,
            owner_id: &owner.id,
            slug: &spec.slug,
            name: &spec.name,
            spec: &spec_json,
            client_auth: input.client_auth,
            token_hash: token.as_deref().map(secret_hash),
            limits: [None; 3],
            at: time,
            kind: ServerKind::Mcp,
            source_id: Some(&source.id),
            upstream_header: header_key.as_deref(),
            tools_cache: Some(serde_json::to_string(&input.tools_cache).or_internal("serialize tools_cache")?),
            tools_filter: Some(serde_json::to_string(&input.tools_filter).or_internal("serialize tools_filter")?),
        };
        let mut tx = self.db.begin().await.or_internal("begin")?;
        if self.store.insert(&mut tx, &new).await.or_internal("insert server")? == Insert::Taken {
            return Err(conflict_on_slug(&spec.slug));
        }
        if let UpstreamAuth::Header { value, .. } = &auth {
            self.store_credential(&mut tx, &owner.id, &id, SOURCE_HEADER_CREDENTIAL, value).await?;
        }
        tx.commit().await.or_internal("commit server")?;
        tracing::info!(server_id = %id, slug = %spec.slug, source_id = %source.id,
            tools = input.tools_filter.len(), cached = input.tools_cache.len(), "server created from an MCP server");
        if input.enabled {
            self.deploy(owner, &id).await?;
        } else {
            self.store.set_status(&id, ServerStatus::Disabled, now()).await.or_internal("store disabled")?;
        }
        Ok(McpCreated { mcp: self.get_mcp(owner, &id).await?, token })
    }

    pub async fn get_mcp(&self, owner: &UserView, id: &str) -> Result<McpView, AppError> {
        let row = self.mcp_row(owner, id).await?;
        self.mcp_view(row).await
    }

    pub async fn list_mcps(&self, owner: &UserView) -> Result<Vec<McpView>, AppError> {
        let rows = self.store.list(&owner.id, Some(ServerKind::Mcp)).await.or_internal("list servers")?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(self.mcp_view(row).await?);
        }
        Ok(views)
    }

    /// Changes what is given; a live server is re-mounted at once.
    pub async fn update_mcp(&self, owner: &UserView, id: &str, input: UpdateMcp) -> Result<McpView, AppError> {
        let row = self.mcp_row(owner, id).await?;
        let mut spec: ServerSpec = serde_json::from_str(&row.spec).or_internal("parse stored spec")?;
        if let Some(name) = &input.name {
            spec.name = name.trim().to_owned();
        }
        if let Some(slug) = &input.slug {
            spec.slug = slug.trim().to_owned();
        }
        if let Some(description) = &input.description {
            spec.description = description.trim().to_owned();
        }
        Self::check_spec(&spec, owner.tier)?;
        let cache = match input.tools_cache {
            Some(cache) => cache,
            None => row.cache()?,
        };
        let filter = match input.tools_filter {
            Some(filter) => filter,
            None => row.filter()?,
        };
        check_selection(&cache, &filter, owner.tier)?;
        check_definitions(&cache)?;

        // Auth: absent keeps it; public drops the header; header without a
        // value keeps the stored value (under the possibly new name).
        let stored_value = row.upstream_header.is_some();
        let header_change: Option<Option<(String, Option<String>)>> = match input.auth {
            None if input.auth_header_key.is_some() || input.auth_header_value.is_some() => {
                return Err(AppError::invalid("auth", "set `auth` to `header` to change the auth header"));
            }
            None => None,
            Some(AuthKind::Public) => Some(None),
            Some(AuthKind::Header) => {
                let key = input.auth_header_key.as_deref().map(str::trim).unwrap_or_default().to_owned();
                check_header_key(&key)?;
                match input.auth_header_value.filter(|v| !v.is_empty()) {
                    Some(value) => {
                        check_header_value(&value)?;
                        Some(Some((key, Some(value))))
                    }
                    None if stored_value => Some(Some((key, None))),
                    None => return Err(AppError::invalid("auth_header_value", "give the header's value")),
                }
            }
        };
        let make_live = input.enabled == Some(true) && !row.is_active();
        if make_live {
            self.check_active_room(owner).await?;
        }

        let mut tx = self.db.begin().await.or_internal("begin")?;
        let (spec_json, cache_json, filter_json) = (
            serde_json::to_string(&spec).or_internal("serialize spec")?,
            serde_json::to_string(&cache).or_internal("serialize tools_cache")?,
            serde_json::to_string(&filter).or_internal("serialize tools_filter")?,
        );
        let fields = McpFields {
            spec: &spec_json,
            slug: &spec.slug,
            name: &spec.name,
            tools_cache: &cache_json,
            tools_filter: &filter_json,
        };
        if self.store.set_mcp(&mut tx, &owner.id, id, &fields, now()).await.or_internal("update server")?
            == Insert::Taken
        {
            return Err(conflict_on_slug(&spec.slug));
        }
        match header_change {
            None => {}
            Some(None) => {
                self.store.set_upstream_header(&mut tx, id, None).await.or_internal("clear header")?;
                self.store
                    .delete_credential(&mut tx, id, SOURCE_HEADER_CREDENTIAL)
                    .await
                    .or_internal("delete header value")?;
            }
            Some(Some((key, value))) => {
                self.store.set_upstream_header(&mut tx, id, Some(&key)).await.or_internal("store header name")?;
                if let Some(value) = value {
                    self.store_credential(&mut tx, &owner.id, id, SOURCE_HEADER_CREDENTIAL, &value).await?;
                }
            }
        }
        tx.commit().await.or_internal("commit update")?;
        tracing::info!(server_id = %id, tools = filter.len(), cached = cache.len(), "server updated from an MCP server");

        if spec.slug != row.slug && row.is_active() {
            self.engine.unmount(&row.slug);
        }
        match input.enabled {
            Some(false) if row.is_active() => {
                self.disable(owner, id).await?;
            }
            Some(false) => {}
            _ if make_live => {
                self.deploy(owner, id).await?;
            }
            _ if row.is_active() => self.publish(id).await?,
            _ => {}
        }
        self.get_mcp(owner, id).await
    }

    /// Deletes a server made from a source (its stored header, call log too).
    pub async fn delete_mcp(&self, owner: &UserView, id: &str) -> Result<(), AppError> {
        self.mcp_row(owner, id).await?;
        self.delete(owner, id).await
    }

    /// Lists the source's tools with the stored auth and compares them with
    /// the cache; with `apply`, stores them (dropping chosen tools that are
    /// gone) and re-mounts.
    pub async fn refresh_mcp_tools(
        &self,
        owner: &UserView,
        id: &str,
        input: RefreshTools,
    ) -> Result<RefreshedTools, AppError> {
        let row = self.mcp_row(owner, id).await?;
        let source_id = row.source_id.clone().ok_or_else(|| AppError::internal("an MCP server has no source"))?;
        let source = self.sources.usable(owner, &source_id).await?;
        let auth = match &row.upstream_header {
            None => UpstreamAuth::Public,
            Some(key) => {
                let value = self
                    .open_credential(&row, SOURCE_HEADER_CREDENTIAL)
                    .await?
                    .ok_or_else(|| AppError::internal("the source's auth header value is missing from storage"))?;
                UpstreamAuth::Header { key: key.clone(), value }
            }
        };
        let tools = self.sources.list_tools(&source.url, &auth).await?;
        let diff = diff_tools(&row.cache()?, &tools);
        if !input.apply {
            return Ok(RefreshedTools { tools, diff, applied: false });
        }
        let filter: Vec<String> =
            row.filter()?.into_iter().filter(|name| tools.iter().any(|tool| &tool.name == name)).collect();
        self.update_mcp(
            owner,
            id,
            UpdateMcp { tools_cache: Some(tools.clone()), tools_filter: Some(filter), ..UpdateMcp::default() },
        )
        .await?;
        Ok(RefreshedTools { tools, diff, applied: true })
    }

    /// After a source changed: re-mount the live servers made from it, or
    /// take them offline when it is now disabled.
    pub async fn source_changed(&self, source_id: &str) -> Result<(), AppError> {
        let enabled = self.store.source(source_id).await.or_internal("load source")?.is_some_and(|(_, on, _)| on);
        let live = self.store.active_of_source(source_id).await.or_internal("list servers of source")?;
        for (id, slug) in live {
            if enabled {
                self.publish(&id).await?;
            } else {
                self.take_offline(&id, &slug).await?;
                tracing::warn!(server_id = %id, %source_id, "server disabled: its MCP server was disabled");
            }
        }
        Ok(())
    }
}
