//! Everything that touches rmcp lives in this module, so an rmcp upgrade
//! (pinned `=3.9.0`; it changes behaviour in minor releases) is one module's work.
//!
//! [`SpecServer`] is a hand-written `ServerHandler` that serves any compiled
//! spec; [`service`] wraps one in rmcp's streamable HTTP transport, stateless
//! with JSON responses, so any replica can answer any request.
//!
//! As a client: [`Remote`] lists an upstream MCP server's tools (fetch tools)
//! and [`Forward`] forwards calls to it for servers made from a source.

use super::Live;
use super::outbound::{Outbound, excerpt, innermost_message};
use super::ssrf::{AddressPolicy, ForbiddenHost, check_literal_host};
use app::model::UpstreamFailure;
use app::spec::Issue;
use futures_util::StreamExt;
use http::{HeaderName, HeaderValue};
use rmcp::handler::client::progress::ProgressDispatcher;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CallToolResult, ClientRequest, ContentBlock, ErrorCode,
    ErrorData, Implementation, ListPromptsRequestMethod, ListPromptsResult, ListResourceTemplatesRequestMethod,
    ListResourceTemplatesResult, ListResourcesRequestMethod, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ProgressToken, ProtocolVersion, ResultType, ServerCapabilities,
    ServerConfig, ServerResult, Tool, ToolAnnotations,
};
use rmcp::service::{
    ClientInitializeError, ClientLifecycleMode, ClientServiceExt, NotificationContext, Peer, PeerRequestOptions,
    RequestContext, RoleClient, RoleServer, RunningService, ServiceError,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ClientHandler, ServerHandler};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub use rmcp::model::JsonObject;

mod session;

/// The rmcp service type of one mounted server.
pub type McpService = StreamableHttpService<SpecServer, NeverSessionManager>;

/// Largest JSON-RPC request body a hosted server accepts.
pub const MAX_MCP_BODY_BYTES: usize = 256 * 1024;
/// ... when one of its tools takes files (base64 of [`app::spec::MAX_FILE_BYTES`]
/// and the rest of the request).
pub const MAX_MCP_FILE_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The request body budget of a live server.
pub fn max_body_bytes(live: &Live) -> usize {
    if live.compiled.spec.tools.iter().any(app::spec::ToolSpec::takes_files) {
        MAX_MCP_FILE_BODY_BYTES
    } else {
        MAX_MCP_BODY_BYTES
    }
}

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
    /// An upstream MCP server's result, passed on as it came.
    Forwarded(CallToolResult),
}

impl ToolReply {
    /// Whether clients see `isError: true`.
    pub fn is_error(&self) -> bool {
        match self {
            ToolReply::Success { .. } => false,
            ToolReply::Failure(_) => true,
            ToolReply::Forwarded(result) => result.is_error == Some(true),
        }
    }

    /// The result as people read it: text blocks joined, other blocks as JSON.
    pub fn text(&self) -> String {
        match self {
            ToolReply::Success { text, .. } | ToolReply::Failure(text) => text.clone(),
            ToolReply::Forwarded(result) => {
                let parts: Vec<String> = result
                    .content
                    .iter()
                    .map(|block| match block.as_text() {
                        Some(text) => text.text.clone(),
                        None => serde_json::to_string(block).unwrap_or_default(),
                    })
                    .collect();
                if parts.is_empty() {
                    result.structured_content.as_ref().map(ToString::to_string).unwrap_or_default()
                } else {
                    parts.join("\n")
                }
            }
        }
    }
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
            ToolReply::Forwarded(result) => result,
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
        Ok(ListToolsResult::with_all_items(self.0.tools().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.0.tool(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let relay = context.meta.get_progress_token().map(|token| Relay { peer: context.peer.clone(), token });
        let arguments = request.arguments.unwrap_or_default();
        // The dispatcher put the OAuth caller (if any) on the HTTP request.
        let caller = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<std::sync::Arc<super::caller::OAuthCaller>>())
            .map(|caller| &**caller);
        let work = self.0.call(&request.name, arguments, relay, caller);
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
    let max_body = max_body_bytes(&live);
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts()
        .with_max_request_body_bytes(max_body)
        .with_cancellation_token(cancel);
    StreamableHttpService::new(move || Ok(SpecServer(live.clone())), Arc::new(NeverSessionManager::default()), config)
}

/// Connects to an MCP endpoint as a client (either protocol revision) and
/// lists its tools, following pagination. Used to test one of our own live
/// servers (through its public URL, so not through the SSRF guard).
pub async fn list_remote_tools(
    url: &str,
    token: Option<&str>,
    timeout: std::time::Duration,
) -> Result<Vec<Tool>, String> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(token) = token {
        config = config.auth_header(token.to_owned());
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    let work = async {
        let client = ().serve_with_lifecycle(transport, lifecycle()).await.map_err(|e| classify_init(&e).1)?;
        let tools = client.list_all_tools().await.map_err(|e| classify_service(&e).1);
        let _ = client.cancel().await;
        tools
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

fn lifecycle() -> ClientLifecycleMode {
    ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28, ProtocolVersion::V_2025_11_25],
        legacy_version: None,
    }
}

/// Pages of `tools/list` we follow before giving up on a source.
const MAX_TOOL_PAGES: usize = 100;

/// Why an upstream MCP server could not be used, in words for people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    pub failure: UpstreamFailure,
    pub message: String,
}

impl RemoteError {
    fn new(failure: UpstreamFailure, message: impl Into<String>) -> Self {
        RemoteError { failure, message: message.into() }
    }
}

type Connection = RunningService<RoleClient, Upstream>;

/// Our client side of an upstream connection: hands the source's progress
/// notifications to the call that is waiting for them.
#[derive(Clone, Default)]
pub struct Upstream {
    progress: ProgressDispatcher,
}

impl ClientHandler for Upstream {
    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        self.progress.handle_notification(params).await;
    }
}

/// Where a forwarded call's progress goes: the client that asked for it
/// (its `progressToken`), on the SSE stream rmcp opens for the response.
pub struct Relay {
    peer: Peer<RoleServer>,
    token: ProgressToken,
}

impl Relay {
    async fn send(&self, mut update: ProgressNotificationParam) {
        update.progress_token = self.token.clone();
        // A client that went away only loses its progress; the call goes on.
        let _ = self.peer.notify_progress(update).await;
    }
}

/// An upstream MCP server: where it is and how we authenticate to it. All
/// traffic goes through the SSRF-guarded outbound client.
#[derive(Clone)]
pub struct Remote {
    url: Arc<str>,
    header: Option<(HeaderName, HeaderValue)>,
    http: reqwest::Client,
    policy: AddressPolicy,
    timeout: Duration,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header = self.header.as_ref().map(|(name, _)| format!("{name}: <redacted>"));
        f.debug_struct("Remote").field("url", &self.url).field("header", &header).finish()
    }
}

impl Remote {
    /// Checks the URL and header; nothing is sent yet.
    pub fn new(outbound: &Outbound, url: &str, header: Option<(&str, &str)>) -> Result<Self, RemoteError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| RemoteError::new(UpstreamFailure::Unreachable, format!("`{url}` is not a valid URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(RemoteError::new(UpstreamFailure::Unreachable, format!("`{url}` is not an http(s) URL")));
        }
        let header = match header {
            None => None,
            Some((name, value)) => {
                let name = HeaderName::try_from(name).map_err(|_| {
                    RemoteError::new(UpstreamFailure::AuthRefused, format!("`{name}` is not a valid header name"))
                })?;
                let mut value = HeaderValue::try_from(value).map_err(|_| {
                    RemoteError::new(
                        UpstreamFailure::AuthRefused,
                        "the auth header's value is not a valid header value",
                    )
                })?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        Ok(Remote {
            url: Arc::from(url),
            header,
            http: outbound.mcp_client().clone(),
            policy: outbound.policy(),
            timeout: outbound.timeout(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Opens a session (or, with a 2026-07-28 server, discovers it).
    async fn connect(&self) -> Result<Connection, RemoteError> {
        let url = reqwest::Url::parse(&self.url).expect("checked in Remote::new");
        check_literal_host(&url, self.policy).map_err(|e| RemoteError::new(UpstreamFailure::Forbidden, e))?;
        let mut config = StreamableHttpClientTransportConfig::with_uri(self.url.clone());
        if let Some((name, value)) = &self.header {
            if name == http::header::AUTHORIZATION
                && let Some(token) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer "))
            {
                config = config.auth_header(token.to_owned());
            } else {
                config = config.custom_headers(HashMap::from([(name.clone(), value.clone())]));
            }
        }
        let transport = StreamableHttpClientTransport::with_client(session::SessionAware(self.http.clone()), config);
        let handshake = Upstream::default().serve_with_lifecycle(transport, lifecycle());
        match tokio::time::timeout(self.timeout, handshake).await {
            Err(_) => Err(self.timed_out()),
            Ok(Err(error)) => {
                let (failure, message) = classify_init(&error);
                Err(RemoteError::new(failure, format!("{}: {message}", self.url)))
            }
            Ok(Ok(connection)) => Ok(connection),
        }
    }

    fn timed_out(&self) -> RemoteError {
        RemoteError::new(
            UpstreamFailure::Timeout,
            format!("{} did not answer within {} s", self.url, self.timeout.as_secs()),
        )
    }

    /// Connects, lists every tool (following pagination) and disconnects.
    pub async fn list_tools(&self) -> Result<Vec<serde_json::Value>, RemoteError> {
        let connection = self.connect().await?;
        let work = async {
            let mut tools = Vec::new();
            let mut cursor = None;
            for _ in 0..MAX_TOOL_PAGES {
                let page = connection
                    .list_tools(Some(PaginatedRequestParams::default().with_cursor(cursor)))
                    .await
                    .map_err(|e| {
                        let (failure, message) = classify_service(&e);
                        RemoteError::new(failure, format!("{}: listing tools failed: {message}", self.url))
                    })?;
                for tool in page.tools {
                    tools.push(serde_json::to_value(tool).map_err(|e| {
                        RemoteError::new(UpstreamFailure::NotMcp, format!("a tool definition is unreadable: {e}"))
                    })?);
                }
                if tools.len() > app::mcps::MAX_CACHED_TOOLS {
                    return Err(RemoteError::new(
                        UpstreamFailure::Protocol,
                        format!("{} offers more than {} tools", self.url, app::mcps::MAX_CACHED_TOOLS),
                    ));
                }
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return Ok(tools),
                }
            }
            Err(RemoteError::new(
                UpstreamFailure::Protocol,
                format!("{} kept paginating its tool list past {MAX_TOOL_PAGES} pages", self.url),
            ))
        };
        let result = tokio::time::timeout(self.timeout, work).await.unwrap_or_else(|_| Err(self.timed_out()));
        let _ = connection.cancel().await;
        result
    }
}

/// A mounted server's upstream: the tools it exposes (as cached) and one
/// connection, opened on the first call and reused while it works. Any
/// failure drops it; the next call opens a fresh one.
pub struct Forward {
    pub tools: Vec<Tool>,
    remote: Remote,
    /// How long a call may go without an answer or progress from the source.
    call_timeout: Duration,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
}

/// The longest a forwarded call may run, progress or not.
pub const MAX_FORWARDED_CALL: Duration = Duration::from_secs(30 * 60);

fn parse_tools(tools: &[serde_json::Value]) -> Result<Vec<Tool>, Vec<Issue>> {
    let mut parsed = Vec::with_capacity(tools.len());
    let mut issues = Vec::new();
    for (i, value) in tools.iter().enumerate() {
        match serde_json::from_value::<Tool>(value.clone()) {
            Ok(tool) => parsed.push(tool),
            Err(error) => issues.push(Issue {
                path: format!("tools_cache[{i}]"),
                message: format!("is not an MCP tool definition: {error}"),
            }),
        }
    }
    if issues.is_empty() { Ok(parsed) } else { Err(issues) }
}

/// Checks that cached definitions (MCP JSON) are tools we can serve.
pub fn check_tool_definitions(tools: &[serde_json::Value]) -> Result<(), Vec<Issue>> {
    parse_tools(tools).map(drop)
}

/// What forwarding a call produced.
pub enum Forwarded {
    /// The upstream's answer (a result, or a tool error with `isError`).
    Reply(ToolReply),
    /// The upstream answered with a JSON-RPC error: passed on as such.
    Error { code: i32, message: String },
    /// The upstream could not be used.
    Failed(RemoteError),
}

impl Forward {
    /// `tools` are the exposed definitions as cached (MCP JSON).
    pub fn new(remote: Remote, tools: &[serde_json::Value], call_timeout: Duration) -> Result<Self, Vec<Issue>> {
        Ok(Forward { tools: parse_tools(tools)?, remote, call_timeout, connection: tokio::sync::Mutex::new(None) })
    }

    async fn connection(&self) -> Result<Arc<Connection>, RemoteError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(connection.clone());
        }
        let connection = Arc::new(self.remote.connect().await?);
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Forgets `connection` (if it is still the current one) and closes it.
    async fn drop_connection(&self, connection: &Arc<Connection>) {
        let mut slot = self.connection.lock().await;
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, connection)) {
            *slot = None;
        }
        connection.cancellation_token().cancel();
    }

    /// Forwards one call (the tool is one of [`Forward::tools`]). A call that
    /// failed before the source could have acted on it (a stale session, a
    /// refused connection) is sent once more on a fresh connection.
    pub async fn call(&self, name: &str, arguments: JsonObject, relay: Option<&Relay>) -> Forwarded {
        let mut retried = false;
        loop {
            let connection = match self.connection().await {
                Ok(connection) => connection,
                Err(error) => return Forwarded::Failed(error),
            };
            let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments.clone());
            match self.attempt(&connection, params, relay).await {
                Ok(forwarded) => return forwarded,
                Err(error) => {
                    self.drop_connection(&connection).await;
                    if !retried && not_acted_on(&error) {
                        retried = true;
                        tracing::info!(url = %self.remote.url, %error, "upstream session lost; retrying on a fresh one");
                        continue;
                    }
                    return Forwarded::Failed(self.failure(&error));
                }
            }
        }
    }

    /// One try on one connection: `Err` when the connection failed.
    async fn attempt(
        &self,
        connection: &Connection,
        params: CallToolRequestParams,
        relay: Option<&Relay>,
    ) -> Result<Forwarded, ServiceError> {
        let options = PeerRequestOptions::with_timeout(self.call_timeout)
            .reset_timeout_on_progress()
            .with_max_total_timeout(MAX_FORWARDED_CALL);
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let handle = connection.send_request_with_option(request, options).await?;
        let answer = match relay {
            // The client asked for no progress: nothing to listen for.
            None => handle.await_response().await,
            Some(relay) => {
                let mut progress = connection.service().progress.subscribe(handle.progress_token.clone()).await;
                let answer = handle.await_response();
                tokio::pin!(answer);
                loop {
                    tokio::select! {
                        answer = &mut answer => break answer,
                        Some(update) = progress.next() => relay.send(update).await,
                    }
                }
            }
        };
        match answer {
            Ok(ServerResult::CallToolResult(mut result)) => {
                // Valid on both revisions: rmcp drops it for older clients,
                // 2026-07-28 clients require it (older sources omit it).
                result.result_type = Some(ResultType::COMPLETE);
                Ok(Forwarded::Reply(ToolReply::Forwarded(result)))
            }
            Ok(ServerResult::InputRequiredResult(_) | ServerResult::CreateTaskResult(_)) => {
                Ok(Forwarded::Reply(ToolReply::Failure(
                    "the upstream MCP server asked for more input or started a task; forwarding supports \
                     only tools that answer at once"
                        .into(),
                )))
            }
            Ok(_) => Err(ServiceError::UnexpectedResponse),
            Err(ServiceError::McpError(error)) => {
                Ok(Forwarded::Error { code: error.code.0, message: error.message.into() })
            }
            Err(error) => Err(error),
        }
    }

    fn failure(&self, error: &ServiceError) -> RemoteError {
        if let ServiceError::Timeout { timeout } = error {
            return RemoteError::new(
                UpstreamFailure::Timeout,
                format!(
                    "{} sent neither an answer nor progress for {} s (this server's call timeout)",
                    self.remote.url,
                    timeout.as_secs()
                ),
            );
        }
        let (failure, message) = classify_service(error);
        RemoteError::new(failure, format!("the upstream MCP server failed: {message}"))
    }
}

/// Whether a failed call certainly never reached the source's tool: its
/// session was refused (HTTP 400 or 404 on a session, or expired), the
/// connection was refused, or our connection had already closed.
fn not_acted_on(error: &ServiceError) -> bool {
    use rmcp::transport::streamable_http_client::StreamableHttpError as E;
    let transport = match error {
        ServiceError::TransportClosed => return true,
        ServiceError::TransportSend(error) => &*error.error,
        _ => return false,
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(transport);
    while let Some(current) = cause {
        if let Some(http) = current.downcast_ref::<HttpError>() {
            return match http {
                // (rmcp's reqwest backend reports only 429 and 5xx as HttpStatus.)
                E::SessionExpired => true,
                E::UnexpectedServerResponse(text) => text.starts_with("HTTP 400") || text.starts_with("HTTP 404"),
                E::Client(request) => request.is_connect(),
                _ => false,
            };
        }
        if let Some(request) = current.downcast_ref::<reqwest::Error>() {
            return request.is_connect();
        }
        cause = current.source();
    }
    false
}

/// Sorts a failed client start into what went wrong, with a readable message.
fn classify_init(error: &ClientInitializeError) -> (UpstreamFailure, String) {
    match error {
        ClientInitializeError::TransportError { error, .. } => classify_transport(&*error.error),
        // The 2026 probe was refused as by a legacy server, then the legacy
        // handshake failed too: that second failure is the telling one.
        ClientInitializeError::LegacyFallbackFailed { fallback, .. } => classify_init(fallback),
        ClientInitializeError::JsonRpcError(data) => {
            (UpstreamFailure::Protocol, format!("it refused to start a session: {}", data.message))
        }
        ClientInitializeError::NoCompatibleProtocolVersion { server_supported, .. } => (
            UpstreamFailure::Protocol,
            format!("it speaks no protocol revision we do (it offers {server_supported:?})"),
        ),
        ClientInitializeError::ConnectionClosed(_) => {
            (UpstreamFailure::NotMcp, "the connection closed before it answered as an MCP server".into())
        }
        other => (UpstreamFailure::NotMcp, format!("it did not answer as an MCP server ({other})")),
    }
}

fn classify_service(error: &ServiceError) -> (UpstreamFailure, String) {
    match error {
        ServiceError::TransportSend(error) => classify_transport(&*error.error),
        ServiceError::McpError(data) => (UpstreamFailure::Protocol, data.message.to_string()),
        ServiceError::Timeout { .. } => (UpstreamFailure::Timeout, "no answer in time".into()),
        ServiceError::TransportClosed => (UpstreamFailure::Unreachable, "the connection was closed".into()),
        other => (UpstreamFailure::NotMcp, other.to_string()),
    }
}

type HttpError = rmcp::transport::streamable_http_client::StreamableHttpError<reqwest::Error>;

fn classify_transport(error: &(dyn std::error::Error + 'static)) -> (UpstreamFailure, String) {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(forbidden) = current.downcast_ref::<ForbiddenHost>() {
            return (UpstreamFailure::Forbidden, forbidden.to_string());
        }
        if let Some(http) = current.downcast_ref::<HttpError>() {
            return classify_http(http);
        }
        if let Some(request) = current.downcast_ref::<reqwest::Error>() {
            return classify_reqwest(request);
        }
        cause = current.source();
    }
    (UpstreamFailure::Unreachable, innermost_message(error))
}

fn classify_reqwest(error: &reqwest::Error) -> (UpstreamFailure, String) {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(forbidden) = current.downcast_ref::<ForbiddenHost>() {
            return (UpstreamFailure::Forbidden, forbidden.to_string());
        }
        cause = current.source();
    }
    if error.is_timeout() {
        (UpstreamFailure::Timeout, "no answer in time".into())
    } else if let Some(status) = error.status() {
        status_failure(status.as_u16(), "")
    } else if error.is_connect() {
        (UpstreamFailure::Unreachable, format!("could not connect ({})", innermost_message(error)))
    } else {
        (
            UpstreamFailure::Unreachable,
            format!("the connection broke before the answer was complete ({})", innermost_message(error)),
        )
    }
}

fn status_failure(status: u16, body: &str) -> (UpstreamFailure, String) {
    let detail = if body.is_empty() { String::new() } else { format!(": {}", excerpt(body.as_bytes(), 200)) };
    match status {
        401 | 403 => (
            UpstreamFailure::AuthRefused,
            format!("it refused our credentials (HTTP {status}{detail}); check the auth header"),
        ),
        429 | 500..=599 => {
            (UpstreamFailure::Unreachable, format!("it answered HTTP {status}{detail}; try again later"))
        }
        _ => {
            (UpstreamFailure::NotMcp, format!("it answered HTTP {status}{detail}, not as an MCP server; check the URL"))
        }
    }
}

fn classify_http(error: &HttpError) -> (UpstreamFailure, String) {
    use rmcp::transport::streamable_http_client::StreamableHttpError as E;
    match error {
        E::AuthRequired(_) | E::InsufficientScope(_) => (
            UpstreamFailure::AuthRefused,
            "it requires authentication and refused our credentials (HTTP 401/403); check the auth header".into(),
        ),
        E::HttpStatus(status) => status_failure(status.status, ""),
        E::Client(request) => classify_reqwest(request),
        E::UnexpectedServerResponse(text) => match text.strip_prefix("HTTP ").and_then(|rest| rest.get(..3)) {
            Some(code) if code.parse::<u16>().is_ok() => {
                let body = text.get(9..).unwrap_or_default().trim_start_matches([':', ' ']);
                status_failure(code.parse().unwrap_or_default(), body)
            }
            _ => (
                UpstreamFailure::NotMcp,
                "it answered, but not with MCP's JSON-RPC: not an MCP endpoint; check the URL (often ending in /mcp)"
                    .into(),
            ),
        },
        E::UnexpectedContentType(kind) => (
            UpstreamFailure::NotMcp,
            format!(
                "it answered with {}, not JSON or an event stream: not an MCP endpoint; check the URL",
                kind.as_deref().unwrap_or("no content type")
            ),
        ),
        E::Deserialize(e) => (UpstreamFailure::NotMcp, format!("its answer is not JSON-RPC ({e})")),
        E::ResponseBodyTooLarge { max_size } => {
            (UpstreamFailure::Protocol, format!("its answer is larger than {} KiB", max_size / 1024))
        }
        other => (UpstreamFailure::NotMcp, other.to_string()),
    }
}
