//! Types shared by the browser, the server functions and the server.
//!
//! Everything here compiles to wasm: plain data, serde and no I/O.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What an account may do. Free servers are mounted in the main process;
/// paid accounts may host on their own machines and have higher limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    #[default]
    Free,
    Paid,
}

impl Tier {
    pub const ALL: [Tier; 2] = [Tier::Free, Tier::Paid];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Paid => "paid",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Tier {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Tier::Free),
            "paid" => Ok(Tier::Paid),
            other => Err(AppError::invalid("tier", format!("unknown tier `{other}`: use `free` or `paid`"))),
        }
    }
}

/// An account as the account holder (or an admin) may see it. Never carries
/// the password hash or any token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub tier: Tier,
    pub is_admin: bool,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
}

/// Every error a server function or an `/api/v1` endpoint can report.
///
/// The message is written for the person at the keyboard: it says what was
/// wrong and, where it can, what to do. Internal details (SQL, I/O) never
/// reach it; they are logged on the server with the request id instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    /// A field of the request is not acceptable (HTTP 422).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The request clashes with existing data, e.g. a taken email (HTTP 409).
    #[error("{message}")]
    Conflict { field: String, message: String },
    /// No valid session or token, or wrong credentials (HTTP 401).
    #[error("{message}")]
    Unauthenticated { message: String },
    /// Signed in, but not allowed to do this (HTTP 403).
    #[error("{message}")]
    Forbidden { message: String },
    /// The thing asked for does not exist, or is not yours (HTTP 404).
    #[error("{message}")]
    NotFound { message: String },
    /// Our fault. The message carries the request id to quote (HTTP 500).
    #[error("{message}")]
    Internal { message: String },
    /// The browser could not talk to the server, or could not read its answer.
    #[error("{message}")]
    Network { message: String },
    /// A server spec has problems, each with its field path (HTTP 422).
    #[error("{message}")]
    InvalidSpec { message: String, issues: Vec<crate::spec::Issue> },
    /// An upstream server could not be used; `reason` says why (HTTP 502).
    #[error("{message}")]
    Upstream { reason: UpstreamFailure, message: String },
    /// The request could not be read at all, e.g. malformed arguments (HTTP 400).
    #[error("{message}")]
    BadRequest { message: String },
    /// Too many attempts or too much queued work; try again after
    /// `retry_after` seconds (HTTP 429 with `Retry-After`).
    #[error("{message}")]
    Throttled { message: String, retry_after: u32 },
    /// The service cannot do this right now (its database cannot be written,
    /// say); nothing was changed. Try again after `retry_after` seconds
    /// (HTTP 503 with `Retry-After`).
    #[error("{message}")]
    Unavailable { message: String, retry_after: u32 },
}

/// Why an upstream server could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UpstreamFailure {
    /// No connection (refused, no such host, TLS failure).
    Unreachable,
    /// Connected, but no answer in time.
    Timeout,
    /// The upstream refused our credentials (401/403).
    AuthRefused,
    /// It answered, but not as an MCP server.
    NotMcp,
    /// The address is not allowed (private or internal network).
    Forbidden,
    /// It is an MCP server, but answered the request with an error.
    Protocol,
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid { field: field.into(), message: message.into() }
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Conflict { field: field.into(), message: message.into() }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        AppError::Unauthenticated { message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden { message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        AppError::NotFound { message: message.into() }
    }

    /// The error for a spec with `issues` (all of them, each with its path).
    pub fn invalid_spec(issues: Vec<crate::spec::Issue>) -> Self {
        let list: Vec<String> = issues.iter().map(ToString::to_string).collect();
        let message = format!("the spec has {} problem(s): {}", issues.len(), list.join("; "));
        AppError::InvalidSpec { message, issues }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal { message: message.into() }
    }

    pub fn upstream(reason: UpstreamFailure, message: impl Into<String>) -> Self {
        AppError::Upstream { reason, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        AppError::BadRequest { message: message.into() }
    }

    pub fn throttled(message: impl Into<String>, retry_after: u32) -> Self {
        AppError::Throttled { message: message.into(), retry_after: retry_after.max(1) }
    }

    pub fn unavailable(message: impl Into<String>, retry_after: u32) -> Self {
        AppError::Unavailable { message: message.into(), retry_after: retry_after.max(1) }
    }

    /// Seconds to wait before trying again, for the `Retry-After` header.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            AppError::Throttled { retry_after, .. } | AppError::Unavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::InvalidSpec { .. } => 422,
            AppError::Conflict { .. } => 409,
            AppError::Unauthenticated { .. } => 401,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound { .. } => 404,
            AppError::Internal { .. } => 500,
            AppError::Network { .. } | AppError::Upstream { .. } => 502,
            AppError::BadRequest { .. } => 400,
            AppError::Throttled { .. } => 429,
            AppError::Unavailable { .. } => 503,
        }
    }

    /// The field a form should highlight, if the error is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    /// On the server these errors describe the request we were sent (the
    /// caller's mistake: 4xx); in the browser they describe our answer.
    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        if cfg!(feature = "ssr") { request_error(value) } else { answer_error(value) }
    }
}

fn request_error(value: leptos::server_fn::error::ServerFnErrorErr) -> AppError {
    use leptos::server_fn::error::ServerFnErrorErr as E;
    match value {
        E::Deserialization(e) => AppError::bad_request(format!("the request's arguments could not be read: {e}")),
        E::Args(e) => AppError::invalid("", format!("the request was not understood: {e}")),
        E::MissingArg(arg) => AppError::invalid(arg.clone(), format!("`{arg}` is required")),
        E::UnsupportedRequestMethod(method) => {
            AppError::bad_request(format!("this function does not accept {method} requests"))
        }
        other => AppError::internal(format!("the request could not be served ({other})")),
    }
}

fn answer_error(value: leptos::server_fn::error::ServerFnErrorErr) -> AppError {
    use leptos::server_fn::error::ServerFnErrorErr as E;
    match value {
        E::Request(e) => AppError::Network {
            message: format!("could not reach the server ({e}); check your connection and try again"),
        },
        E::Args(e) => AppError::invalid("", format!("the request was not understood: {e}")),
        E::MissingArg(arg) => AppError::invalid(arg.clone(), format!("`{arg}` is required")),
        other => AppError::Network {
            message: format!("the server's answer could not be read ({other}); reload the page and try again"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialize_with_a_code_tag() {
        let e = AppError::invalid("password", "too short");
        let json = serde_json_like(&e);
        assert!(json.contains("\"code\":\"invalid\""), "{json}");
        assert_eq!(e.status(), 422);
        assert_eq!(e.field(), Some("password"));
    }

    fn serde_json_like(e: &AppError) -> String {
        use leptos::server_fn::error::FromServerFnError;
        String::from_utf8(e.ser().to_vec()).unwrap()
    }

    #[test]
    fn tier_parses_and_refuses_unknown_values() {
        assert_eq!("paid".parse::<Tier>().unwrap(), Tier::Paid);
        let err = "gold".parse::<Tier>().unwrap_err();
        assert!(err.to_string().contains("gold"));
    }
}

/// How MCP clients authenticate to a hosted server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// Anyone with the URL may call it.
    Public,
    /// Clients send `Authorization: Bearer <token>`; the token is shown once.
    #[default]
    Bearer,
    /// Clients sign in with OAuth 2.1 (AutoMCP is the authorization server):
    /// for assistants that take no header, such as claude.ai and ChatGPT.
    #[serde(rename = "oauth")]
    OAuth,
}

impl ClientAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::Public => "public",
            ClientAuth::Bearer => "bearer",
            ClientAuth::OAuth => "oauth",
        }
    }

    /// The stored form read back (unknown text is the safe choice, bearer).
    pub fn parse(text: &str) -> Self {
        match text {
            "public" => ClientAuth::Public,
            "oauth" => ClientAuth::OAuth,
            _ => ClientAuth::Bearer,
        }
    }
}

/// The most emails an owner may list in [`OAuthAccess::Emails`].
pub const MAX_ALLOWED_EMAILS: usize = 100;

/// Who may connect a client to an `oauth` server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "who", rename_all = "snake_case", deny_unknown_fields)]
pub enum OAuthAccess {
    /// Only the server's owner.
    #[default]
    Owner,
    /// Any account of this AutoMCP instance.
    AnyAccount,
    /// The owner and the accounts with these emails.
    Emails { emails: Vec<String> },
}

impl OAuthAccess {
    /// The stored setting (JSON; `None` or unreadable text: only the owner).
    pub fn from_stored(text: Option<&str>) -> Self {
        text.and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
    }

    /// Whether the account with `email` may connect (`is_owner`: it owns the server).
    pub fn allows(&self, is_owner: bool, email: &str) -> bool {
        match self {
            OAuthAccess::Owner => is_owner,
            OAuthAccess::AnyAccount => true,
            OAuthAccess::Emails { emails } => is_owner || emails.iter().any(|e| e.eq_ignore_ascii_case(email)),
        }
    }

    /// Checks the listed emails; returns the setting with them trimmed,
    /// lower-cased, sorted and without repeats.
    pub fn checked(self) -> Result<Self, AppError> {
        let OAuthAccess::Emails { emails } = self else { return Ok(self) };
        let mut clean: Vec<String> = emails.iter().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()).collect();
        clean.sort();
        clean.dedup();
        if clean.len() > MAX_ALLOWED_EMAILS {
            return Err(AppError::invalid(
                "oauth_access.emails",
                format!("list at most {MAX_ALLOWED_EMAILS} emails (or allow any account)"),
            ));
        }
        if let Some(bad) = clean.iter().find(|e| !looks_like_email(e)) {
            return Err(AppError::invalid("oauth_access.emails", format!("`{bad}` is not an email address")));
        }
        Ok(OAuthAccess::Emails { emails: clean })
    }
}

fn looks_like_email(text: &str) -> bool {
    text.len() <= 254
        && !text.contains(char::is_whitespace)
        && text.split_once('@').is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
}

/// A client a user connected to an `oauth` server (an OAuth grant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConnectedClient {
    /// The grant's id: what `Revoke` takes.
    pub id: String,
    pub client_id: String,
    /// The client's name from its metadata (its id when it gave none).
    pub client_name: String,
    /// The account that allowed it.
    pub user_email: String,
    pub connected_at: i64,
    pub last_used_at: Option<i64>,
}

/// What the consent page shows about an authorization request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    pub client_id: String,
    pub client_name: String,
    /// The host of the client's metadata URL or homepage, when it has one.
    pub client_domain: Option<String>,
    /// Where the browser goes afterwards: the redirect URI's host.
    pub redirect_host: String,
    pub server_name: String,
    pub server_endpoint: String,
    /// The signed-in account, if any.
    pub signed_in_as: Option<String>,
    /// Why the signed-in account may not allow it (the owner's choice).
    pub refusal: Option<String>,
}

/// Whether a server is live at its endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ServerStatus {
    /// Stored, never deployed.
    Draft,
    /// Mounted and answering at its endpoint.
    Active,
    /// Stored, not answering (404).
    Disabled,
}

impl ServerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Draft => "draft",
            ServerStatus::Active => "active",
            ServerStatus::Disabled => "disabled",
        }
    }
}

/// Where a server's tools come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    /// Tools are HTTP actions from its spec.
    #[default]
    Actions,
    /// Tools are chosen from an existing MCP server and forwarded to it
    /// (manage with `/api/v1/mcps`).
    Mcp,
}

impl ServerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Actions => "actions",
            ServerKind::Mcp => "mcp",
        }
    }
}

/// A tool as clients see it: enough to list it and to call it by hand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ToolSummary {
    pub name: String,
    pub description: String,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub input_schema: serde_json::Value,
}

/// A server's call limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Limits {
    pub calls_per_minute: u32,
    pub burst: u32,
    pub max_concurrency: u32,
    /// Calls a month for the whole account; `None` means no quota.
    pub monthly_quota: Option<u64>,
}

/// Custom limits (paid tier only); unset fields keep the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitsInput {
    pub calls_per_minute: Option<u32>,
    pub burst: Option<u32>,
    pub max_concurrency: Option<u32>,
}

/// How clients connect to a server: which web pages may call it from a
/// browser (see [`crate::origins`]) and how long a forwarded call may wait
/// for its source's answer or progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Connection {
    pub allowed_origins: Vec<String>,
    pub call_timeout_secs: u32,
}

/// Changes to [`Connection`]; unset fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConnectionInput {
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default)]
    pub call_timeout_secs: Option<u32>,
}

/// A hosted server as its owner sees it. Credentials appear by name only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServerView {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub kind: ServerKind,
    pub status: ServerStatus,
    pub client_auth: ClientAuth,
    /// The MCP endpoint URL clients connect to.
    pub endpoint: String,
    pub tool_count: usize,
    /// The tools clients see.
    pub tools: Vec<ToolSummary>,
    /// Names of the stored credentials (values are never returned).
    pub credentials: Vec<String>,
    /// Credentials the tools use that are not stored yet.
    pub missing_credentials: Vec<String>,
    pub limits: Limits,
    pub connection: Connection,
    /// Who may connect a client when `client_auth` is `oauth`.
    pub oauth_access: OAuthAccess,
    pub created_at: i64,
    pub updated_at: i64,
    pub spec: crate::spec::ServerSpec,
}

/// `POST /api/v1/servers`: a whole server in one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateServer {
    pub spec: crate::spec::ServerSpec,
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// Upstream secrets by credential name; stored encrypted, never shown again.
    #[serde(default)]
    pub credentials: std::collections::BTreeMap<String, String>,
    /// Mount it at once (otherwise it stays a draft).
    #[serde(default)]
    pub deploy: bool,
    #[serde(default)]
    pub limits: Option<LimitsInput>,
}

/// The answer to a create: the server, and its client token (shown once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServerCreated {
    pub server: ServerView,
    /// Present when `client_auth` is `bearer`. Only its hash is stored.
    pub token: Option<String>,
}

/// `PUT /api/v1/servers/{id}`: the fields to change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateServer {
    #[serde(default)]
    pub spec: Option<crate::spec::ServerSpec>,
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
    /// Set (a string) or remove (`null`) credentials by name; others stay.
    #[serde(default)]
    pub credentials: std::collections::BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub limits: Option<LimitsInput>,
    #[serde(default)]
    pub connection: Option<ConnectionInput>,
    #[serde(default)]
    pub oauth_access: Option<OAuthAccess>,
}

/// A newly issued client token (shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenIssued {
    pub token: String,
}

/// One entry of a server's call log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CallView {
    pub id: String,
    pub tool: String,
    /// Milliseconds since the Unix epoch.
    pub started_at: i64,
    pub duration_ms: i64,
    /// `ok`, `upstream_error`, `timeout`, `too_large`, `unreachable`,
    /// `forbidden`, `invalid_arguments` or `refused`.
    pub outcome: String,
    pub upstream_status: Option<u16>,
    pub error: Option<String>,
    /// For a call made with an OAuth token: the client's name and the
    /// account that connected it.
    #[serde(default)]
    pub client: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
}

/// What a tool call from the playground returned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundResult {
    pub is_error: bool,
    pub text: String,
}

/// A personal API token as its owner sees it (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// When it was last used (to within a few seconds), if ever.
    pub last_used_at: Option<i64>,
    /// When it stops working; `None`: never.
    pub expires_at: Option<i64>,
    pub expired: bool,
}

/// `POST /api/v1/tokens`: a new personal API token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiToken {
    pub name: String,
    /// Days until it expires (1 to 3650); absent or null: never.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A newly created personal API token: `token` is shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenCreated {
    pub token: String,
    pub view: ApiTokenView,
}
