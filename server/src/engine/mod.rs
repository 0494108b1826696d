//! The MCP engine: specs become live MCP servers inside this process.
//!
//! - [`Engine`] holds the routing table (slug → [`Mount`]), swapped
//!   atomically on every change, the outbound client, the call log and the
//!   usage counters.
//! - A [`Live`] server is a compiled spec plus its secrets and limits; its
//!   [`Live::call`] validates arguments, renders the request, sends it and
//!   shapes the answer.
//! - [`mcp`] adapts a `Live` to rmcp; [`dispatch`] is the `/mcp/{slug}` handler.

pub mod access;
pub mod body;
pub mod caller;
pub mod calllog;
pub mod dispatch;
pub mod limits;
pub mod mcp;
pub mod outbound;
pub mod quota;
pub mod render;
pub mod serialize;
pub mod ssrf;

pub use access::HostRules;
use app::spec::{Issue, ServerSpec, SpecLimits, validate};
use arc_swap::ArcSwap;
use calllog::{CallRecord, CallSink};
use limits::{Limiter, Replicas, ServerLimits};
use mcp::{McpService, ToolReply};
use outbound::{Outbound, OutboundError, excerpt};
use quota::Quota;
use render::Secrets;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// How MCP clients authenticate to a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientCheck {
    Public,
    /// SHA-256 of the token we issued.
    Bearer([u8; 32]),
    /// OAuth access tokens issued for this server.
    OAuth(caller::OAuthGate),
}

/// A spec with everything the hot path needs precomputed.
pub struct Compiled {
    pub spec: ServerSpec,
    pub tools: Vec<rmcp::model::Tool>,
    /// Made on a tool's first call: most mounted tools are never called,
    /// and a compiled schema costs kilobytes.
    prepared: Vec<std::sync::OnceLock<Prepared>>,
    by_name: HashMap<String, usize>,
}

impl Compiled {
    /// Validates (with `limits`) and compiles a spec; every problem is reported.
    pub fn new(spec: ServerSpec, limits: SpecLimits) -> Result<Self, Vec<Issue>> {
        let mut issues = validate(&spec, limits);
        for (i, tool) in spec.tools.iter().enumerate() {
            // Compiled here to report bad schemas now; kept only once called.
            match jsonschema::validator_for(&tool.input_schema) {
                Ok(_) => {}
                Err(error) => issues.push(Issue {
                    path: format!("tools[{i}].input_schema"),
                    message: format!("is not a usable JSON Schema: {error}"),
                }),
            }
            if let Err(error) = url::Url::parse(&tool.action.url.replace(['{', '}'], "")) {
                issues.push(Issue {
                    path: format!("tools[{i}].action.url"),
                    message: format!("is not a valid URL: {error}"),
                });
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        let tools = spec.tools.iter().map(mcp::tool).collect();
        let prepared = spec.tools.iter().map(|_| std::sync::OnceLock::new()).collect();
        let by_name = spec.tools.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();
        Ok(Compiled { spec, tools, prepared, by_name })
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// What every call of tool `index` reuses (made on its first call).
    fn prepared(&self, index: usize) -> &Prepared {
        self.prepared[index].get_or_init(|| {
            let tool = &self.spec.tools[index];
            Prepared {
                validator: jsonschema::validator_for(&tool.input_schema)
                    .expect("the schema compiled when the server was mounted"),
                host: render::template_host(&tool.action),
            }
        })
    }
}

/// A tool's compiled argument schema and its URL template's host.
struct Prepared {
    validator: jsonschema::Validator,
    host: Option<String>,
}

/// Where a server made from a source forwards its calls.
pub struct ForwardTo {
    pub url: String,
    /// The auth header (name, value) sent to the source.
    pub header: Option<(String, String)>,
    /// The exposed tools' definitions as cached (MCP JSON).
    pub tools: Vec<Value>,
    /// How long a call may wait for the source's answer or progress.
    pub call_timeout: std::time::Duration,
}

/// Everything needed to mount a server.
pub struct MountRequest {
    pub server_id: String,
    pub owner_id: String,
    /// Name, slug, description; and the tools, unless `forward` is set.
    pub spec: ServerSpec,
    /// Tools chosen from an MCP server, forwarded to it.
    pub forward: Option<ForwardTo>,
    /// The owner's tier limits, checked again here.
    pub spec_limits: SpecLimits,
    pub secrets: Secrets,
    pub client: ClientCheck,
    /// Browser origins the owner lets call it (see `app::origins`).
    pub allowed_origins: Vec<String>,
    pub limits: ServerLimits,
    pub monthly_quota: Option<u64>,
    /// What was mounted (the stored revision): replicas compare it to
    /// notice changes they missed.
    pub version: i64,
}

/// A JSON-RPC error for a call that was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRefused {
    pub code: i32,
    pub message: String,
}

/// A server as it runs.
pub struct Live {
    pub server_id: String,
    pub owner_id: String,
    pub version: i64,
    pub compiled: Compiled,
    /// Set for servers made from a source: tools come from there.
    forward: Option<mcp::Forward>,
    secrets: Secrets,
    limiter: Limiter,
    monthly_quota: Option<u64>,
    outbound: Outbound,
    calls: CallSink,
    quota: Arc<Quota>,
}

/// A routing table entry.
pub struct Mount {
    pub live: Arc<Live>,
    pub service: McpService,
    pub client: ClientCheck,
    pub allowed_origins: Vec<String>,
    cancel: CancellationToken,
}

impl Drop for Mount {
    fn drop(&mut self) {
        // In-flight requests hold their own clones and finish; nothing new starts.
        self.cancel.cancel();
    }
}

pub struct Engine {
    table: ArcSwap<HashMap<Arc<str>, Arc<Mount>>>,
    writer: Mutex<()>,
    pub outbound: Outbound,
    pub calls: CallSink,
    pub quota: Arc<Quota>,
    /// How many replicas share each server's rate limit.
    pub replicas: Replicas,
    pub hosts: HostRules,
    /// Finds the caller behind an OAuth access token (set once at start-up;
    /// without it `oauth` servers refuse every request).
    access_tokens: std::sync::OnceLock<Arc<dyn caller::AccessTokens>>,
    root: CancellationToken,
}

impl Engine {
    pub fn new(outbound: Outbound, calls: CallSink, hosts: HostRules) -> Self {
        Engine {
            table: ArcSwap::from_pointee(HashMap::new()),
            writer: Mutex::new(()),
            outbound,
            calls,
            quota: Arc::new(Quota::default()),
            replicas: Replicas::default(),
            hosts,
            access_tokens: std::sync::OnceLock::new(),
            root: CancellationToken::new(),
        }
    }

    /// Connects the authorization server (once).
    pub fn set_access_tokens(&self, tokens: Arc<dyn caller::AccessTokens>) {
        if self.access_tokens.set(tokens).is_err() {
            tracing::warn!("the engine's access-token lookup was set twice; the first one stays");
        }
    }

    pub fn access_tokens(&self) -> Option<&dyn caller::AccessTokens> {
        self.access_tokens.get().map(|tokens| tokens.as_ref())
    }

    /// The mounted server at `slug`, if any. Lock-free.
    pub fn get(&self, slug: &str) -> Option<Arc<Mount>> {
        self.table.load().get(slug).cloned()
    }

    pub fn mounted(&self) -> usize {
        self.table.load().len()
    }

    /// Compiles and mounts (or replaces) a server at its slug. Requests already
    /// running finish on the version they started with.
    pub fn mount(&self, request: MountRequest) -> Result<(), Vec<Issue>> {
        let mount = self.prepare(request)?;
        let slug: Arc<str> = Arc::from(mount.live.compiled.spec.slug.as_str());
        self.update(|table| {
            table.insert(slug, Arc::new(mount));
        });
        Ok(())
    }

    /// Mounts many servers in one table swap (start-up). Returns the ones
    /// that failed, with their problems.
    pub fn mount_all(&self, requests: Vec<MountRequest>) -> Vec<(String, Vec<Issue>)> {
        let mut failed = Vec::new();
        let mut ready = Vec::with_capacity(requests.len());
        for request in requests {
            let id = request.server_id.clone();
            match self.prepare(request) {
                Ok(mount) => ready.push(mount),
                Err(issues) => failed.push((id, issues)),
            }
        }
        self.update(|table| {
            for mount in ready {
                table.insert(Arc::from(mount.live.compiled.spec.slug.as_str()), Arc::new(mount));
            }
        });
        failed
    }

    /// Removes the server at `slug`; answers 404 from the next request on.
    pub fn unmount(&self, slug: &str) -> bool {
        let mut removed = false;
        self.update(|table| removed = table.remove(slug).is_some());
        removed
    }

    /// Puts server `server_id` in the table as `request` says, or takes it
    /// out (`None`), wherever its slug was: one swap, so a renamed server
    /// never answers at both slugs.
    pub fn replace_server(&self, server_id: &str, request: Option<MountRequest>) -> Result<(), Vec<Issue>> {
        let mount = request.map(|request| self.prepare(request)).transpose()?;
        self.update(|table| {
            table.retain(|_, mount| mount.live.server_id != server_id);
            if let Some(mount) = mount {
                table.insert(Arc::from(mount.live.compiled.spec.slug.as_str()), Arc::new(mount));
            }
        });
        Ok(())
    }

    /// The version of every mounted server, by server id.
    pub fn versions(&self) -> HashMap<String, i64> {
        self.table.load().values().map(|mount| (mount.live.server_id.clone(), mount.live.version)).collect()
    }

    fn update(&self, change: impl FnOnce(&mut HashMap<Arc<str>, Arc<Mount>>)) {
        let _writer = self.writer.lock().expect("engine writer lock is never poisoned");
        let mut next = HashMap::clone(&self.table.load());
        change(&mut next);
        self.table.store(Arc::new(next));
    }

    fn prepare(&self, request: MountRequest) -> Result<Mount, Vec<Issue>> {
        let forward = match request.forward {
            None => None,
            Some(to) => {
                if let Some(max) = request.spec_limits.max_tools
                    && to.tools.len() > max
                {
                    return Err(vec![Issue {
                        path: "tools_filter".into(),
                        message: format!(
                            "the free tier allows at most {max} tools per server and {} are chosen",
                            to.tools.len()
                        ),
                    }]);
                }
                let header = to.header.as_ref().map(|(name, value)| (name.as_str(), value.as_str()));
                let remote = mcp::Remote::new(&self.outbound, &to.url, header)
                    .map_err(|e| vec![Issue { path: "mcp_server_id".into(), message: e.message }])?;
                Some(mcp::Forward::new(remote, &to.tools, to.call_timeout)?)
            }
        };
        let compiled = Compiled::new(request.spec, request.spec_limits)?;
        let live = Arc::new(Live {
            server_id: request.server_id,
            owner_id: request.owner_id,
            version: request.version,
            compiled,
            forward,
            secrets: request.secrets,
            limiter: Limiter::new(request.limits, self.replicas.clone()),
            monthly_quota: request.monthly_quota,
            outbound: self.outbound.clone(),
            calls: self.calls.clone(),
            quota: self.quota.clone(),
        });
        let cancel = self.root.child_token();
        let service = mcp::service(live.clone(), cancel.clone());
        Ok(Mount { live, service, client: request.client, allowed_origins: request.allowed_origins, cancel })
    }
}

impl Live {
    /// The tools clients see.
    pub fn tools(&self) -> &[rmcp::model::Tool] {
        match &self.forward {
            Some(forward) => &forward.tools,
            None => &self.compiled.tools,
        }
    }

    /// One tool by name (indexed for action servers).
    pub fn tool(&self, name: &str) -> Option<&rmcp::model::Tool> {
        match &self.forward {
            Some(forward) => forward.tools.iter().find(|tool| tool.name == name),
            None => self.compiled.index(name).map(|i| &self.compiled.tools[i]),
        }
    }

    /// Runs one tool call, from argument validation to the shaped answer.
    /// Progress the source of a forwarded call reports goes to `relay`.
    pub async fn call(
        &self,
        name: &str,
        arguments: Map<String, Value>,
        relay: Option<mcp::Relay>,
        caller: Option<&caller::OAuthCaller>,
    ) -> Result<ToolReply, CallRefused> {
        let index = match &self.forward {
            Some(_) if self.tool(name).is_some() => None,
            Some(_) => {
                return Err(CallRefused {
                    code: mcp::INVALID_PARAMS,
                    message: format!(
                        "tool `{name}` is not exposed by this server; call tools/list to see the tools it offers"
                    ),
                });
            }
            None => match self.compiled.index(name) {
                Some(index) => Some(index),
                None => {
                    return Err(CallRefused {
                        code: mcp::INVALID_PARAMS,
                        message: format!("unknown tool `{name}`; call tools/list to see this server's tools"),
                    });
                }
            },
        };
        let started = Instant::now();
        let started_at_ms = crate::db::now_ms();
        let month = limits::month_of(started_at_ms / 1000);
        let record = |outcome: &'static str, status: Option<u16>, error: Option<String>, counted: bool| CallRecord {
            server_id: self.server_id.clone(),
            owner_id: self.owner_id.clone(),
            tool: name.to_owned(),
            started_at_ms,
            duration_ms: started.elapsed().as_millis() as i64,
            outcome,
            upstream_status: status,
            error,
            month: month.clone(),
            counted,
            oauth_client: caller.map(|c| c.client_name.clone()),
            oauth_user: caller.map(|c| c.user_email.clone()),
        };

        let _permit = match self.limiter.admit() {
            Ok(permit) => permit,
            Err(refusal) => {
                self.calls.record(record("refused", None, Some(refusal.to_string()), false));
                return Err(CallRefused { code: refusal.code(), message: refusal.to_string() });
            }
        };
        if let Err(refusal) = self.quota.take(&self.owner_id, &month, self.monthly_quota).await {
            self.calls.record(record("refused", None, Some(refusal.to_string()), false));
            return Err(CallRefused { code: refusal.code(), message: refusal.to_string() });
        }

        let Some(index) = index else {
            let forward = self.forward.as_ref().expect("only forwarding servers have no tool index");
            // The source validates the arguments against its own schema.
            return match forward.call(name, arguments, relay.as_ref()).await {
                mcp::Forwarded::Reply(reply) => {
                    let outcome = if reply.is_error() { "tool_error" } else { "ok" };
                    let error = reply.is_error().then(|| excerpt(reply.text().as_bytes(), 300));
                    self.calls.record(record(outcome, None, error, true));
                    Ok(reply)
                }
                mcp::Forwarded::Error { code, message } => {
                    self.calls.record(record("upstream_error", None, Some(message.clone()), true));
                    Err(CallRefused { code, message })
                }
                mcp::Forwarded::Failed(error) => {
                    let outcome = match error.failure {
                        app::model::UpstreamFailure::Timeout => "timeout",
                        app::model::UpstreamFailure::Forbidden => "forbidden",
                        app::model::UpstreamFailure::Unreachable => "unreachable",
                        _ => "upstream_error",
                    };
                    self.calls.record(record(outcome, None, Some(error.message.clone()), true));
                    Ok(ToolReply::Failure(error.message))
                }
            };
        };

        let tool = &self.compiled.spec.tools[index];
        let prepared = self.compiled.prepared(index);
        let arguments_value = Value::Object(arguments);
        let problems: Vec<String> = prepared
            .validator
            .iter_errors(&arguments_value)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() { e.to_string() } else { format!("{at}: {e}") }
            })
            .collect();
        if !problems.is_empty() {
            let message = format!("invalid arguments for `{name}`: {}", problems.join("; "));
            self.calls.record(record("invalid_arguments", None, Some(message.clone()), true));
            return Ok(ToolReply::Failure(message));
        }
        let Value::Object(arguments) = arguments_value else { unreachable!("built from a map above") };

        let rendered = match render::render_for(&tool.action, prepared.host.as_deref(), &arguments, &self.secrets) {
            Ok(rendered) => rendered,
            Err(error) => {
                self.calls.record(record("invalid_arguments", None, Some(error.0.clone()), true));
                return Ok(ToolReply::Failure(error.0));
            }
        };
        let mut request = self.outbound.client().request(rendered.method, rendered.url);
        for (header, value) in &rendered.headers {
            request = request.header(header.as_str(), value.as_str());
        }
        if let Some((content_type, body)) = rendered.body {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type).body(body);
        }
        let request = match request.build() {
            Ok(request) => request,
            Err(error) => {
                let message = format!("could not build the request: {error}");
                self.calls.record(record("invalid_arguments", None, Some(message.clone()), true));
                return Ok(ToolReply::Failure(message));
            }
        };

        match self.outbound.send(request).await {
            Err(error) => {
                let outcome = match &error {
                    OutboundError::Timeout(_) => "timeout",
                    OutboundError::TooLarge(_) => "too_large",
                    OutboundError::Forbidden(_) | OutboundError::CrossHostRedirect(_) => "forbidden",
                    OutboundError::Connect(_) => "unreachable",
                };
                let message = error.to_string();
                self.calls.record(record(outcome, None, Some(message.clone()), true));
                Ok(ToolReply::Failure(message))
            }
            Ok(response) if !response.status.is_success() => {
                let status = response.status;
                let excerpt = excerpt(&response.body, 500);
                let message = format!(
                    "the upstream answered {} {}{}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or(""),
                    if excerpt.is_empty() { String::new() } else { format!(": {excerpt}") }
                );
                self.calls.record(record("upstream_error", Some(status.as_u16()), Some(message.clone()), true));
                Ok(ToolReply::Failure(message))
            }
            Ok(response) => {
                let status = response.status.as_u16();
                let reply = shape(&response, &tool.action.response);
                self.calls.record(record("ok", Some(status), None, true));
                Ok(reply)
            }
        }
    }
}

/// Turns a successful upstream answer into the tool result: JSON is
/// projected by the pointer and also returned as structured content (when
/// it is an object); everything is cut to the response size cap.
fn shape(response: &outbound::UpstreamResponse, shape: &app::spec::ResponseShape) -> ToolReply {
    let is_json = response.content_type.as_deref().is_some_and(|t| t.contains("json"));
    let parsed: Option<Value> = if is_json { serde_json::from_slice(&response.body).ok() } else { None };
    let max = shape.max_bytes();
    match parsed {
        Some(value) => {
            let value = match shape.pointer.as_deref().filter(|p| !p.is_empty()) {
                None => value,
                Some(pointer) => match value.pointer(pointer) {
                    Some(part) => part.clone(),
                    None => {
                        return ToolReply::Failure(format!(
                            "the upstream's JSON answer has nothing at `{pointer}` (the action's response pointer)"
                        ));
                    }
                },
            };
            let text = value.to_string();
            if text.len() > max {
                ToolReply::Success { text: truncate(&text, max), structured: None }
            } else {
                let structured = value.is_object().then_some(value);
                ToolReply::Success { text, structured }
            }
        }
        None => {
            let text = String::from_utf8_lossy(&response.body).into_owned();
            ToolReply::Success { text: truncate(&text, max), structured: None }
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[truncated: the answer was {} bytes; showing the first {end}]", &text[..end], text.len())
}
