//! Servers made from an existing MCP server ("sources"): the user fetches a
//! source's tools, ticks the ones to expose, and creates an endpoint that
//! serves only those, with our client auth, limits and call log in front.
//!
//! Plain data and pure checks, shared by the browser, the server functions
//! and `/api/v1`. Tool definitions are kept exactly as the source sent them
//! (MCP's own JSON), so what clients see cannot drift from what was cached.

use crate::model::{AppError, ClientAuth, ServerStatus, Tier};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub use crate::spec::FREE_MAX_TOOLS;
/// Most tools one cached list may hold.
pub const MAX_CACHED_TOOLS: usize = 2000;

/// How long a forwarded call may go without an answer or progress from its
/// source, unless the server's owner sets otherwise (within the bounds).
pub const DEFAULT_CALL_TIMEOUT_SECS: u32 = 120;
pub const MIN_CALL_TIMEOUT_SECS: u32 = 5;
pub const MAX_CALL_TIMEOUT_SECS: u32 = 600;
/// Largest header value we store for a source.
pub const MAX_HEADER_VALUE_BYTES: usize = 8 * 1024;
/// Headers the MCP transport sets itself; a source's auth header may not replace them.
pub const RESERVED_HEADERS: [&str; 11] = [
    "accept",
    "connection",
    "content-length",
    "content-type",
    "host",
    "last-event-id",
    "mcp-method",
    "mcp-name",
    "mcp-protocol-version",
    "mcp-session-id",
    "transfer-encoding",
];

/// A registered upstream MCP server, as the caller may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub description: String,
    pub enabled: bool,
    /// Registered by an admin for everyone (otherwise private to its owner).
    pub shared: bool,
    /// Whether the caller may edit or remove it.
    pub editable: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST /api/v1/mcp-servers`: register a source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterSource {
    pub name: String,
    /// The streamable HTTP endpoint, e.g. `https://mcp.example.com/mcp`.
    pub url: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Visible to every account (admins only); otherwise only to you.
    #[serde(default)]
    pub shared: bool,
}

fn yes() -> bool {
    true
}

/// `PUT /api/v1/mcp-servers/{id}`: the fields to change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSource {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// How we authenticate to a source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// No credentials.
    #[default]
    Public,
    /// One header, e.g. `Authorization: Bearer …` or `X-Api-Key: …`.
    Header,
}

/// A checked upstream auth.
#[derive(Clone, PartialEq, Eq)]
pub enum UpstreamAuth {
    Public,
    Header { key: String, value: String },
}

impl std::fmt::Debug for UpstreamAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamAuth::Public => f.write_str("Public"),
            UpstreamAuth::Header { key, .. } => write!(f, "Header({key}: <redacted>)"),
        }
    }
}

/// Checks a header name for a source's auth: a valid HTTP token, not one the
/// transport sets.
pub fn check_header_key(key: &str) -> Result<(), AppError> {
    let field = "auth_header_key";
    if key.is_empty() {
        return Err(AppError::invalid(field, "give the header name, e.g. `Authorization` or `X-Api-Key`"));
    }
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if key.len() > 128 || !key.chars().all(token) {
        return Err(AppError::invalid(field, format!("`{key}` is not a valid HTTP header name")));
    }
    if RESERVED_HEADERS.contains(&key.to_ascii_lowercase().as_str()) {
        return Err(AppError::invalid(
            field,
            format!("`{key}` is set by the MCP transport itself; use another header"),
        ));
    }
    Ok(())
}

/// Checks a header value: 1 to 8 KiB of visible ASCII and spaces (no line breaks).
pub fn check_header_value(value: &str) -> Result<(), AppError> {
    let field = "auth_header_value";
    if value.is_empty() {
        return Err(AppError::invalid(field, "give the header's value"));
    }
    if value.len() > MAX_HEADER_VALUE_BYTES {
        return Err(AppError::invalid(
            field,
            format!("the value is longer than {} KiB", MAX_HEADER_VALUE_BYTES / 1024),
        ));
    }
    if !value.chars().all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic()) {
        return Err(AppError::invalid(field, "the value may contain only printable ASCII (no line breaks)"));
    }
    Ok(())
}

/// Builds the auth from the flat request fields.
pub fn upstream_auth(kind: AuthKind, key: Option<&str>, value: Option<&str>) -> Result<UpstreamAuth, AppError> {
    match kind {
        AuthKind::Public => Ok(UpstreamAuth::Public),
        AuthKind::Header => {
            let key = key.unwrap_or_default().trim();
            check_header_key(key)?;
            let value = value.unwrap_or_default();
            check_header_value(value)?;
            Ok(UpstreamAuth::Header { key: key.to_owned(), value: value.to_owned() })
        }
    }
}

/// `POST /api/v1/mcps/fetch-tools`: list a source's tools (writes nothing).
///
/// Auth is flat and tagged by `auth`: `{"mcp_server_id": "…"}` (public),
/// or `{"mcp_server_id": "…", "auth": "header", "auth_header_key": "…",
/// "auth_header_value": "…"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FetchTools {
    pub mcp_server_id: String,
    #[serde(default)]
    pub auth: AuthKind,
    #[serde(default)]
    pub auth_header_key: Option<String>,
    #[serde(default)]
    pub auth_header_value: Option<String>,
}

impl FetchTools {
    pub fn upstream_auth(&self) -> Result<UpstreamAuth, AppError> {
        upstream_auth(self.auth, self.auth_header_key.as_deref(), self.auth_header_value.as_deref())
    }
}

/// One tool as an MCP server lists it (MCP's JSON, camelCase on the wire).
/// Fields we do not read (output schema, annotations, icons, `_meta`) are
/// kept as sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ToolDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "inputSchema")]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub input_schema: Value,
    #[serde(flatten)]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub extra: Map<String, Value>,
}

impl ToolDef {
    /// The title, else the annotation title, else the name.
    pub fn label(&self) -> &str {
        self.title
            .as_deref()
            .or_else(|| self.extra.get("annotations").and_then(|a| a.get("title")).and_then(Value::as_str))
            .unwrap_or(&self.name)
    }
}

/// What a fetch found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FetchedTools {
    pub mcp_server_id: String,
    pub tools: Vec<ToolDef>,
}

/// How fetched tools differ from a cached list, by tool name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ToolsDiff {
    /// Offered now, not in the cache.
    pub added: Vec<String>,
    /// In the cache, no longer offered.
    pub removed: Vec<String>,
    /// Offered under the same name with a different definition.
    pub changed: Vec<String>,
}

impl ToolsDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compares a cached tool list with a fresh one. Names come out sorted.
pub fn diff_tools(cached: &[ToolDef], fetched: &[ToolDef]) -> ToolsDiff {
    let old: BTreeMap<&str, &ToolDef> = cached.iter().map(|t| (t.name.as_str(), t)).collect();
    let new: BTreeMap<&str, &ToolDef> = fetched.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut diff = ToolsDiff::default();
    for (name, tool) in &new {
        match old.get(name) {
            None => diff.added.push((*name).to_owned()),
            Some(before) if before != tool => diff.changed.push((*name).to_owned()),
            Some(_) => {}
        }
    }
    diff.removed = old.keys().filter(|name| !new.contains_key(*name)).map(|name| (*name).to_owned()).collect();
    diff
}

/// The refresh of a stored server's tools: the fresh list and how it differs
/// from the cache (nothing is stored unless asked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RefreshedTools {
    pub tools: Vec<ToolDef>,
    pub diff: ToolsDiff,
    /// Whether the fresh list was stored (`"apply": true`).
    pub applied: bool,
}

/// `POST /api/v1/mcps/{id}/refresh-tools`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshTools {
    /// Store the fresh list (chosen tools that disappeared are dropped from
    /// the filter) and re-mount. Default: only report.
    #[serde(default)]
    pub apply: bool,
}

/// `POST /api/v1/mcps`: a whole server from a source, in one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateMcp {
    pub name: String,
    pub slug: String,
    pub mcp_server_id: String,
    #[serde(default)]
    pub description: String,
    /// Live at once (default) or stored disabled.
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub auth: AuthKind,
    #[serde(default)]
    pub auth_header_key: Option<String>,
    /// Stored encrypted; never shown again.
    #[serde(default)]
    pub auth_header_value: Option<String>,
    /// How MCP clients authenticate to the new endpoint.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// The tool definitions as fetched.
    pub tools_cache: Vec<ToolDef>,
    /// The names to expose (may be empty).
    pub tools_filter: Vec<String>,
}

/// `PUT /api/v1/mcps/{id}`: the fields to change.
///
/// Auth: leave `auth` out to keep it; `"auth": "public"` drops the stored
/// header; `"auth": "header"` with a key and no value keeps the stored value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMcp {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub auth: Option<AuthKind>,
    #[serde(default)]
    pub auth_header_key: Option<String>,
    #[serde(default)]
    pub auth_header_value: Option<String>,
    #[serde(default)]
    pub tools_cache: Option<Vec<ToolDef>>,
    #[serde(default)]
    pub tools_filter: Option<Vec<String>>,
}

/// A server made from a source, as its owner sees it. The header value is
/// never returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct McpView {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub mcp_server_id: String,
    pub mcp_server_name: String,
    pub enabled: bool,
    pub status: ServerStatus,
    pub auth: AuthKind,
    pub auth_header_key: Option<String>,
    pub client_auth: ClientAuth,
    /// The MCP endpoint URL clients connect to.
    pub endpoint: String,
    pub tools_cache: Vec<ToolDef>,
    pub tools_filter: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The answer to a create: the server and its client token (shown once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct McpCreated {
    pub mcp: McpView,
    /// Present when `client_auth` is `bearer`. Only its hash is stored.
    pub token: Option<String>,
}

/// Checks a cached list and a selection against each other and the tier:
/// names unique, every chosen name cached, at most [`FREE_MAX_TOOLS`] on
/// the free tier. Every problem is reported, each with its field.
pub fn check_selection(cache: &[ToolDef], filter: &[String], tier: Tier) -> Result<(), AppError> {
    if cache.len() > MAX_CACHED_TOOLS {
        return Err(AppError::invalid("tools_cache", format!("more than {MAX_CACHED_TOOLS} tools")));
    }
    let mut names = BTreeSet::new();
    for (i, tool) in cache.iter().enumerate() {
        if tool.name.trim().is_empty() {
            return Err(AppError::invalid(format!("tools_cache[{i}].name"), "a tool needs a name"));
        }
        if !names.insert(tool.name.as_str()) {
            return Err(AppError::invalid(
                format!("tools_cache[{i}].name"),
                format!("`{}` is listed twice", tool.name),
            ));
        }
        if !tool.input_schema.is_object() {
            return Err(AppError::invalid(format!("tools_cache[{i}].inputSchema"), "must be a JSON Schema object"));
        }
    }
    let mut chosen = BTreeSet::new();
    for (i, name) in filter.iter().enumerate() {
        if !chosen.insert(name.as_str()) {
            return Err(AppError::invalid(format!("tools_filter[{i}]"), format!("`{name}` is chosen twice")));
        }
        if !names.contains(name.as_str()) {
            return Err(AppError::invalid(
                format!("tools_filter[{i}]"),
                format!("`{name}` is not among the fetched tools; fetch the tools again and choose from those"),
            ));
        }
    }
    if tier == Tier::Free && filter.len() > FREE_MAX_TOOLS {
        return Err(AppError::forbidden(format!(
            "the free tier exposes at most {FREE_MAX_TOOLS} tools per server and {} are chosen; untick some or \
             upgrade to the paid tier (no tool limit)",
            filter.len()
        )));
    }
    Ok(())
}

/// Makes a slug from a name: lowercase ASCII letters and digits joined by
/// single dashes, at most 48 characters.
pub fn slug_from(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, description: &str) -> ToolDef {
        serde_json::from_value(json!({"name": name, "description": description, "inputSchema": {"type": "object"}}))
            .unwrap()
    }

    #[test]
    fn tool_definitions_round_trip_with_unknown_fields() {
        let wire = json!({
            "name": "search", "title": "Search", "inputSchema": {"type": "object"},
            "outputSchema": {"type": "object"}, "annotations": {"readOnlyHint": true}, "_meta": {"x": 1}
        });
        let tool: ToolDef = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(tool.extra.len(), 3);
        assert_eq!(serde_json::to_value(&tool).unwrap(), wire);
    }

    #[test]
    fn diff_reports_added_removed_and_changed() {
        let cached = vec![tool("a", "one"), tool("b", "two"), tool("c", "three")];
        let fetched = vec![tool("d", "four"), tool("b", "two, now better"), tool("a", "one")];
        let diff = diff_tools(&cached, &fetched);
        assert_eq!(diff.added, ["d"]);
        assert_eq!(diff.removed, ["c"]);
        assert_eq!(diff.changed, ["b"]);
        assert!(diff_tools(&cached, &cached).is_empty());
    }

    #[test]
    fn selection_rules() {
        let cache = vec![tool("a", ""), tool("b", ""), tool("c", ""), tool("d", "")];
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_selection(&cache, &[], Tier::Free).is_ok());
        assert!(check_selection(&cache, &names(&["a", "b", "c"]), Tier::Free).is_ok());
        let too_many = check_selection(&cache, &names(&["a", "b", "c", "d"]), Tier::Free).unwrap_err();
        assert_eq!(too_many.status(), 403);
        assert!(too_many.to_string().contains("at most 3"), "{too_many}");
        assert!(check_selection(&cache, &names(&["a", "b", "c", "d"]), Tier::Paid).is_ok());
        let unknown = check_selection(&cache, &names(&["zz"]), Tier::Paid).unwrap_err();
        assert_eq!(unknown.field(), Some("tools_filter[0]"));
        let twice = check_selection(&cache, &names(&["a", "a"]), Tier::Paid).unwrap_err();
        assert_eq!(twice.field(), Some("tools_filter[1]"));
        let dup_cache = vec![tool("a", ""), tool("a", "")];
        assert_eq!(check_selection(&dup_cache, &[], Tier::Paid).unwrap_err().field(), Some("tools_cache[1].name"));
    }

    #[test]
    fn header_auth_is_checked() {
        assert_eq!(upstream_auth(AuthKind::Public, None, None).unwrap(), UpstreamAuth::Public);
        let ok = upstream_auth(AuthKind::Header, Some("X-Api-Key"), Some("k 1")).unwrap();
        assert_eq!(ok, UpstreamAuth::Header { key: "X-Api-Key".into(), value: "k 1".into() });
        assert!(!format!("{ok:?}").contains("k 1"), "the value never reaches logs");
        for (key, value, field) in [
            (None, Some("v"), "auth_header_key"),
            (Some("Bad Header"), Some("v"), "auth_header_key"),
            (Some("Mcp-Session-Id"), Some("v"), "auth_header_key"),
            (Some("X-Key"), None, "auth_header_value"),
            (Some("X-Key"), Some("a\r\nb"), "auth_header_value"),
        ] {
            let error = upstream_auth(AuthKind::Header, key, value).unwrap_err();
            assert_eq!(error.field(), Some(field), "{key:?} {value:?}: {error}");
        }
    }

    #[test]
    fn fetch_request_defaults_to_public() {
        let request: FetchTools = serde_json::from_value(json!({"mcp_server_id": "s1"})).unwrap();
        assert_eq!(request.upstream_auth().unwrap(), UpstreamAuth::Public);
        let request: FetchTools = serde_json::from_value(json!({
            "mcp_server_id": "s1", "auth": "header", "auth_header_key": "Authorization", "auth_header_value": "Bearer t"
        }))
        .unwrap();
        assert!(matches!(request.upstream_auth().unwrap(), UpstreamAuth::Header { .. }));
        assert!(serde_json::from_value::<FetchTools>(json!({"mcp_server_id": "s1", "auth": "oauth"})).is_err());
    }

    #[test]
    fn slugs_from_names() {
        assert_eq!(slug_from("GitHub Issues (read only)"), "github-issues-read-only");
        assert_eq!(slug_from("  --x--  "), "x");
    }
}
