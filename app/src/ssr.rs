//! The seam between the UI and the server (compiled only with `ssr`).
//!
//! Server functions live in `app` so the browser can call them, but the work
//! they do lives in `server`. `app` cannot depend on `server` (that would be a
//! cycle), so `app` declares the [`Backend`] port here and `server`
//! implements it and provides it as Leptos context for every page render and
//! server-function call. A server function is then three lines: find the
//! backend, call it, report.

use crate::mcps::{
    CreateMcp, FetchTools, FetchedTools, McpCreated, McpView, RefreshedTools, RegisterSource, SourceView, UpdateMcp,
    UpdateSource,
};
use crate::model::{
    ApiTokenCreated, ApiTokenView, AppError, CallView, ConnectedClient, ConnectionInput, ConsentView, NewApiToken,
    PlaygroundResult, ServerView, Tier, TokenIssued, UpdateServer, UserView,
};
use crate::vps::{
    DeployToTarget, HostingView, OperationView, RegisterTarget, TargetCheck, TargetView, TrustHostKey, VpsAction,
};
use crate::wizard::{Activated, AddOperation, ConfigureAuth, OperationPage, SelectTools, StartWizard, WizardView};
use http::HeaderMap;
use leptos::prelude::*;
use std::net::IpAddr;
use std::sync::Arc;

/// A signed-in session that was just created.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub user: UserView,
    /// The complete `Set-Cookie` header value that stores the session.
    pub set_cookie: String,
}

/// The operations the UI needs, implemented by the server with the same
/// service code that the `/api/v1` endpoints call.
///
/// `headers` are the request's headers: the implementation finds the caller
/// (session cookie or bearer token) from them, so no server function can
/// forget to check who is asking.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The signed-in user, or `None` when the request carries no valid session.
    async fn current_user(&self, headers: &HeaderMap) -> Result<Option<UserView>, AppError>;
    /// `client` is the caller's address, for throttling attempts.
    async fn sign_up(&self, client: Option<IpAddr>, email: String, password: String) -> Result<NewSession, AppError>;
    async fn log_in(&self, client: Option<IpAddr>, email: String, password: String) -> Result<NewSession, AppError>;
    /// Ends the caller's session; returns the `Set-Cookie` value that clears it.
    async fn log_out(&self, headers: &HeaderMap) -> Result<String, AppError>;
    /// Every account (admins only).
    async fn list_users(&self, headers: &HeaderMap) -> Result<Vec<UserView>, AppError>;
    /// Changes an account's tier (admins only).
    async fn set_tier(&self, headers: &HeaderMap, user_id: String, tier: Tier) -> Result<UserView, AppError>;
    async fn start_wizard(&self, headers: &HeaderMap, input: StartWizard) -> Result<WizardView, AppError>;
    async fn wizard(&self, headers: &HeaderMap, id: String) -> Result<WizardView, AppError>;
    async fn unfinished_wizards(&self, headers: &HeaderMap) -> Result<Vec<WizardView>, AppError>;
    async fn retry_wizard(&self, headers: &HeaderMap, id: String) -> Result<WizardView, AppError>;
    /// Discards a wizard (and the draft server it made, if never deployed).
    async fn discard_wizard(&self, headers: &HeaderMap, id: String) -> Result<(), AppError>;
    /// The caller's personal API tokens.
    async fn api_tokens(&self, headers: &HeaderMap) -> Result<Vec<ApiTokenView>, AppError>;
    async fn create_api_token(&self, headers: &HeaderMap, input: NewApiToken) -> Result<ApiTokenCreated, AppError>;
    async fn revoke_api_token(&self, headers: &HeaderMap, id: String) -> Result<(), AppError>;
    async fn select_wizard_tools(
        &self,
        headers: &HeaderMap,
        id: String,
        input: SelectTools,
    ) -> Result<WizardView, AppError>;
    /// Searches every operation of the wizard's document.
    async fn search_wizard_operations(
        &self,
        headers: &HeaderMap,
        id: String,
        query: String,
        offset: usize,
    ) -> Result<OperationPage, AppError>;
    /// Adds any operation of the document to the proposal.
    async fn add_wizard_operation(
        &self,
        headers: &HeaderMap,
        id: String,
        input: AddOperation,
    ) -> Result<WizardView, AppError>;
    async fn configure_wizard_auth(
        &self,
        headers: &HeaderMap,
        id: String,
        input: ConfigureAuth,
    ) -> Result<WizardView, AppError>;
    async fn activate_wizard(&self, headers: &HeaderMap, id: String) -> Result<Activated, AppError>;
    async fn servers(&self, headers: &HeaderMap) -> Result<Vec<ServerView>, AppError>;
    async fn server(&self, headers: &HeaderMap, id: String) -> Result<ServerView, AppError>;
    async fn disable_server(&self, headers: &HeaderMap, id: String) -> Result<ServerView, AppError>;
    async fn enable_server(&self, headers: &HeaderMap, id: String) -> Result<ServerView, AppError>;
    async fn delete_server(&self, headers: &HeaderMap, id: String) -> Result<(), AppError>;
    async fn server_calls(&self, headers: &HeaderMap, id: String) -> Result<Vec<CallView>, AppError>;
    /// Issues a new client token for a server (the old one stops working).
    async fn rotate_server_token(&self, headers: &HeaderMap, id: String) -> Result<TokenIssued, AppError>;
    /// Changes how clients connect (allowed browser origins, call timeout).
    async fn update_server_connection(
        &self,
        headers: &HeaderMap,
        id: String,
        input: ConnectionInput,
    ) -> Result<ServerView, AppError>;
    /// Changes a server (the same rules as `PUT /api/v1/servers/{id}`).
    async fn update_server(&self, headers: &HeaderMap, id: String, input: UpdateServer)
    -> Result<ServerView, AppError>;
    /// The clients users connected to an `oauth` server.
    async fn connected_clients(&self, headers: &HeaderMap, id: String) -> Result<Vec<ConnectedClient>, AppError>;
    /// Disconnects a client: its tokens stop working at once.
    async fn revoke_client(&self, headers: &HeaderMap, id: String, grant_id: String) -> Result<(), AppError>;
    /// What the consent page shows for an authorization request (its query).
    async fn consent(&self, headers: &HeaderMap, query: String) -> Result<ConsentView, AppError>;
    /// Lists the live tools through a real MCP client, over HTTP.
    async fn test_connection(
        &self,
        headers: &HeaderMap,
        id: String,
        token: Option<String>,
    ) -> Result<Vec<String>, AppError>;
    /// Upstream MCP servers the caller may use (shared and their own).
    async fn sources(&self, headers: &HeaderMap) -> Result<Vec<SourceView>, AppError>;
    async fn register_source(&self, headers: &HeaderMap, input: RegisterSource) -> Result<SourceView, AppError>;
    async fn update_source(&self, headers: &HeaderMap, id: String, input: UpdateSource)
    -> Result<SourceView, AppError>;
    async fn delete_source(&self, headers: &HeaderMap, id: String) -> Result<(), AppError>;
    /// The stateless fetch of a source's tools.
    async fn fetch_tools(&self, headers: &HeaderMap, input: FetchTools) -> Result<FetchedTools, AppError>;
    async fn create_mcp(&self, headers: &HeaderMap, input: CreateMcp) -> Result<McpCreated, AppError>;
    async fn mcp(&self, headers: &HeaderMap, id: String) -> Result<McpView, AppError>;
    async fn update_mcp(&self, headers: &HeaderMap, id: String, input: UpdateMcp) -> Result<McpView, AppError>;
    /// Fetches a stored server's tools again with its stored auth (stores nothing).
    async fn refresh_mcp_tools(&self, headers: &HeaderMap, id: String) -> Result<RefreshedTools, AppError>;
    async fn targets(&self, headers: &HeaderMap) -> Result<Vec<TargetView>, AppError>;
    async fn register_target(&self, headers: &HeaderMap, input: RegisterTarget) -> Result<TargetView, AppError>;
    async fn check_target(&self, headers: &HeaderMap, id: String) -> Result<TargetCheck, AppError>;
    async fn trust_target(&self, headers: &HeaderMap, id: String, input: TrustHostKey) -> Result<TargetView, AppError>;
    async fn delete_target(&self, headers: &HeaderMap, id: String) -> Result<(), AppError>;
    async fn hosting(&self, headers: &HeaderMap, id: String) -> Result<HostingView, AppError>;
    async fn vps_deploy(
        &self,
        headers: &HeaderMap,
        id: String,
        input: DeployToTarget,
    ) -> Result<OperationView, AppError>;
    async fn vps_action(&self, headers: &HeaderMap, id: String, action: VpsAction) -> Result<OperationView, AppError>;
    async fn vps_logs(&self, headers: &HeaderMap, id: String) -> Result<String, AppError>;
    async fn operation(&self, headers: &HeaderMap, id: String) -> Result<OperationView, AppError>;
    /// Calls a tool of one of the caller's live servers.
    async fn playground_call(
        &self,
        headers: &HeaderMap,
        id: String,
        tool: String,
        arguments: serde_json::Value,
    ) -> Result<PlaygroundResult, AppError>;
}

/// How the backend is stored in context.
pub type SharedBackend = Arc<dyn Backend>;

/// The backend provided by the server for this request.
pub fn backend() -> Result<SharedBackend, AppError> {
    use_context::<SharedBackend>().ok_or_else(|| {
        leptos::logging::error!("no Backend in context: the router must provide one");
        AppError::internal("the server is misconfigured; please try again later")
    })
}

/// The headers of the request being served.
pub fn headers() -> HeaderMap {
    use_context::<http::request::Parts>().map(|parts| parts.headers).unwrap_or_default()
}

/// Sets the HTTP status of the response to match `error`, and passes it on.
/// Use as `.map_err(ssr::reply)`.
///
/// Only for server-function requests: when a page render calls the function
/// directly, the page may already be streaming, so its status stays 200 (it
/// would otherwise depend on timing) and the error is shown in the page.
pub fn reply(error: AppError) -> AppError {
    let serving_function =
        use_context::<http::request::Parts>().is_some_and(|parts| parts.uri.path().starts_with("/api/fn/"));
    if !serving_function {
        return error;
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(error.status())
    {
        response.set_status(status);
        if let Some(seconds) = error.retry_after() {
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
    }
    error
}

/// The address of the client that sent the request being served, as the
/// server determined it (the socket's peer, or a trusted proxy's header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The [`ClientAddr`] of the request being served, when known.
pub fn client_addr() -> Option<std::net::IpAddr> {
    use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<ClientAddr>().map(|a| a.0))
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(value))
    {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// Sets the status of the page being rendered (e.g. 404 for an unknown path).
pub fn set_page_status(status: u16) {
    if let (Some(response), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status))
    {
        response.set_status(status);
    }
}

/// Answers the page with the status of the error it shows (404 for a
/// record that does not exist or is not the caller's, and so on).
pub fn set_error_status(error: &AppError) {
    set_page_status(error.status());
}
