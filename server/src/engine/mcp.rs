//! Everything that touches rmcp lives in this file, so an rmcp upgrade
//! (pinned `=3.9.0`; it changes behaviour in minor releases) is one file's work.
//!
//! [`SpecServer`] is a hand-written `ServerHandler` that serves any compiled
//! spec; [`service`] wraps one in rmcp's streamable HTTP transport, stateless
//! with JSON responses, so any replica can answer any request.

use super::Live;
use rmcp::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorCode, ErrorData, Implementation,
    ListPromptsRequestMethod, ListPromptsResult, ListResourceTemplatesRequestMethod, ListResourceTemplatesResult,
    ListResourcesRequestMethod, ListResourcesResult, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub use rmcp::model::JsonObject;

/// The rmcp service type of one mounted server.
pub type McpService = StreamableHttpService<SpecServer, NeverSessionManager>;

/// Largest JSON-RPC request body a hosted server accepts.
pub const MAX_MCP_BODY_BYTES: usize = 256 * 1024;

/// Builds the MCP tool list entry for a spec tool.
pub fn tool(spec: &app::spec::ToolSpec) -> Tool {
    let schema: JsonObject = spec.input_schema.as_object().cloned().unwrap_or_default();
    let a = spec.effective_annotations();
    let mut tool = Tool::new(spec.name.clone(), spec.description.clone(), Arc::new(schema)).with_annotations(
        ToolAnnotations::new()
            .read_only(a.read_only)
            .destructive(a.destructive)
            .idempotent(a.idempotent)
            .open_world(a.open_world),
    );
    if let Some(title) = &spec.title {
        tool = tool.with_title(title.clone());
    }
    tool
}

/// What a tool call produced, in engine terms.
pub enum ToolReply {
    /// Text, plus the JSON object it was made from when the upstream sent JSON.
    Success { text: String, structured: Option<serde_json::Value> },
    /// A failure the model can act on (`isError: true`).
    Failure(String),
}

impl From<ToolReply> for CallToolResult {
    fn from(reply: ToolReply) -> Self {
        match reply {
            ToolReply::Success { text, structured: Some(value) } => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = Some(value);
                result
            }
            ToolReply::Success { text, structured: None } => CallToolResult::success(vec![ContentBlock::text(text)]),
            ToolReply::Failure(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
        }
    }
}

pub const INVALID_PARAMS: i32 = ErrorCode::INVALID_PARAMS.0;

/// Serves one mounted server's spec.
#[derive(Clone)]
pub struct SpecServer(pub Arc<Live>);

impl ServerHandler for SpecServer {
    fn get_info(&self) -> ServerConfig {
        let spec = &self.0.compiled.spec;
        let config = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(spec.name.clone(), env!("CARGO_PKG_VERSION")));
        if spec.description.is_empty() { config } else { config.with_instructions(spec.description.clone()) }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.0.compiled.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.0.compiled.index(name).map(|i| self.0.compiled.tools[i].clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        let work = self.0.call(&request.name, arguments);
        tokio::select! {
            reply = work => reply
                .map(|reply| CallToolResult::from(reply).into())
                .map_err(|refused| ErrorData::new(ErrorCode(refused.code), refused.message, None)),
            () = context.ct.cancelled() => Err(ErrorData::internal_error("the call was cancelled by the client", None)),
        }
    }

    // No prompts or resources unless a spec declares them (none can yet):
    // say "method not found" instead of rmcp's default empty lists.
    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Err(ErrorData::method_not_found::<ListPromptsRequestMethod>())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Err(ErrorData::method_not_found::<ListResourcesRequestMethod>())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Err(ErrorData::method_not_found::<ListResourceTemplatesRequestMethod>())
    }
}

/// The streamable HTTP service for one live server: stateless, JSON
/// responses, no SSE keep-alive. Host and Origin are checked by our
/// dispatcher (which knows the public URL), so rmcp's own check is off.
pub fn service(live: Arc<Live>, cancel: CancellationToken) -> McpService {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts()
        .with_max_request_body_bytes(MAX_MCP_BODY_BYTES)
        .with_cancellation_token(cancel);
    StreamableHttpService::new(move || Ok(SpecServer(live.clone())), Arc::new(NeverSessionManager::default()), config)
}

/// Connects to an MCP endpoint as a client (either protocol revision) and
/// lists its tools, following pagination. Used to test a live server.
pub async fn list_remote_tools(
    url: &str,
    token: Option<&str>,
    timeout: std::time::Duration,
) -> Result<Vec<Tool>, String> {
    use rmcp::model::ProtocolVersion;
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(token) = token {
        config = config.auth_header(token.to_owned());
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    let lifecycle = ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28, ProtocolVersion::V_2025_11_25],
        legacy_version: None,
    };
    let work = async {
        let client =
            ().serve_with_lifecycle(transport, lifecycle).await.map_err(|e| describe_client_error(&e.to_string()))?;
        let tools = client.list_all_tools().await.map_err(|e| e.to_string());
        let _ = client.cancel().await;
        tools
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

fn describe_client_error(text: &str) -> String {
    if text.contains("Auth required") || text.contains("401") {
        "the server refused the connection: it needs a valid bearer token".into()
    } else {
        text.to_owned()
    }
}
