//! Server functions: the browser's entry points into the server.
//!
//! Each one is a thin shell over [`crate::ssr::Backend`]. Endpoints are fixed
//! (not hashed) so logs and tests can name them.

use crate::mcps::{self, FetchedTools, McpCreated, McpView, RefreshedTools, SourceView};
use crate::model::{
    ApiTokenCreated, ApiTokenView, AppError, CallView, ConnectedClient, Connection, ConnectionInput, ConsentView,
    NewApiToken, PlaygroundResult, ServerView, Tier, TokenIssued, UpdateServer, UserView,
};
#[cfg(feature = "ssr")]
use crate::ssr;
use crate::vps::{self, HostingView, OperationView, TargetCheck, TargetView, VpsAction};
use crate::wizard::{
    AddOperation, CandidateRow, ConfigureAuth, Deployed, OperationPage, ProcessingStatus, SelectTools, StartWizard,
    WizardView,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Who is signed in, if anyone. Read through [`crate::auth::Auth::user`].
#[server(prefix = "/api/fn", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    let backend = ssr::backend()?;
    backend.current_user(&ssr::headers()).await.map_err(ssr::reply)
}

/// Creates an account and signs it in. The first account becomes the admin.
#[server(prefix = "/api/fn", endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<UserView, AppError> {
    let backend = ssr::backend()?;
    let session = backend.sign_up(ssr::client_addr(), email, password).await.map_err(ssr::reply)?;
    ssr::set_cookie(&session.set_cookie);
    leptos_axum::redirect("/dashboard");
    Ok(session.user)
}

/// Signs in with email and password, then goes to `next` (a path on this
/// site; the dashboard otherwise).
#[server(prefix = "/api/fn", endpoint = "log_in")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<UserView, AppError> {
    let backend = ssr::backend()?;
    let session = backend.log_in(ssr::client_addr(), email, password).await.map_err(ssr::reply)?;
    ssr::set_cookie(&session.set_cookie);
    leptos_axum::redirect(local_path(next.as_deref()).unwrap_or("/dashboard"));
    Ok(session.user)
}

/// `path` if it stays on this site (no scheme, no `//host`): never an open redirect.
pub fn local_path(path: Option<&str>) -> Option<&str> {
    path.filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") && !p.contains(['\r', '\n']))
}

/// Ends the current session (harmless when there is none).
#[server(prefix = "/api/fn", endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    let backend = ssr::backend()?;
    let clear = backend.log_out(&ssr::headers()).await.map_err(ssr::reply)?;
    ssr::set_cookie(&clear);
    leptos_axum::redirect("/login");
    Ok(())
}

/// Every account, for the admin page.
#[server(prefix = "/api/fn", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    let backend = ssr::backend()?;
    backend.list_users(&ssr::headers()).await.map_err(ssr::reply)
}

/// Moves an account to another tier (admins only).
#[server(prefix = "/api/fn", endpoint = "set_user_tier")]
pub async fn set_user_tier(user_id: String, tier: Tier) -> Result<UserView, AppError> {
    let backend = ssr::backend()?;
    backend.set_tier(&ssr::headers(), user_id, tier).await.map_err(ssr::reply)
}

/// Starts the create-server wizard; tools are proposed in the background.
#[server(prefix = "/api/fn", endpoint = "wizard/start", input = Json)]
pub async fn begin_wizard(input: StartWizard) -> Result<String, AppError> {
    let backend = ssr::backend()?;
    backend.start_wizard(&ssr::headers(), input).await.map_err(ssr::reply).map(|view| view.id)
}

/// Discards a wizard: its background work stops, and the draft server it
/// made (if never deployed) goes with it.
#[server(prefix = "/api/fn", endpoint = "wizard/discard", input = Json)]
pub async fn discard_wizard(id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.discard_wizard(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// The signed-in user's personal API tokens.
#[server(prefix = "/api/fn", endpoint = "tokens/list", input = Json)]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenView>, AppError> {
    let backend = ssr::backend()?;
    backend.api_tokens(&ssr::headers()).await.map_err(ssr::reply)
}

/// Creates a personal API token; the token is in the answer, once.
#[server(prefix = "/api/fn", endpoint = "tokens/create", input = Json)]
pub async fn create_api_token(input: NewApiToken) -> Result<ApiTokenCreated, AppError> {
    let backend = ssr::backend()?;
    backend.create_api_token(&ssr::headers(), input).await.map_err(ssr::reply)
}

/// Revokes a personal API token: it stops working at once.
#[server(prefix = "/api/fn", endpoint = "tokens/revoke", input = Json)]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.revoke_api_token(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// One wizard's current state (poll it while `processing`).
#[server(prefix = "/api/fn", endpoint = "wizard/get", input = Json)]
pub async fn get_wizard(id: String) -> Result<WizardView, AppError> {
    let backend = ssr::backend()?;
    backend.wizard(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// The signed-in user's unfinished wizards, to resume.
#[server(prefix = "/api/fn", endpoint = "wizard/unfinished", input = Json)]
pub async fn unfinished_wizards() -> Result<Vec<WizardView>, AppError> {
    let backend = ssr::backend()?;
    backend.unfinished_wizards(&ssr::headers()).await.map_err(ssr::reply)
}

/// Generates again after a failure.
#[server(prefix = "/api/fn", endpoint = "wizard/retry", input = Json)]
pub async fn retry_wizard(id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.retry_wizard(&ssr::headers(), id).await.map_err(ssr::reply).map(drop)
}

/// Chooses the tools to keep (free tier: at most 3).
#[server(prefix = "/api/fn", endpoint = "wizard/tools", input = Json)]
pub async fn select_wizard_tools(id: String, input: SelectTools) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.select_wizard_tools(&ssr::headers(), id, input).await.map_err(ssr::reply).map(drop)
}

/// Searches every operation of the wizard's OpenAPI document (20 a page).
#[server(prefix = "/api/fn", endpoint = "wizard/operations", input = Json)]
pub async fn search_wizard_operations(id: String, query: String, offset: usize) -> Result<OperationPage, AppError> {
    let backend = ssr::backend()?;
    backend.search_wizard_operations(&ssr::headers(), id, query, offset).await.map_err(ssr::reply)
}

/// Whether the wizard is still generating (polled by its page).
#[server(prefix = "/api/fn", endpoint = "wizard/progress", input = Json)]
pub async fn wizard_progress(id: String) -> Result<ProcessingStatus, AppError> {
    let backend = ssr::backend()?;
    let view = backend.wizard(&ssr::headers(), id).await.map_err(ssr::reply)?;
    Ok(view.processing_status)
}

/// Adds an operation of the document to the proposal; returns it as the
/// actions step lists it.
#[server(prefix = "/api/fn", endpoint = "wizard/add_candidate", input = Json)]
pub async fn add_wizard_candidate(id: String, input: AddOperation) -> Result<CandidateRow, AppError> {
    let backend = ssr::backend()?;
    let operation = input.operation.clone();
    let view = backend.add_wizard_operation(&ssr::headers(), id, input).await.map_err(ssr::reply)?;
    let candidates = view.proposal.map(|p| p.candidates).unwrap_or_default();
    let added = candidates.iter().rev().find(|c| c.operation.as_deref() == Some(operation.as_str()));
    added
        .or(candidates.last())
        .map(CandidateRow::from)
        .ok_or_else(|| AppError::internal("the added operation is missing"))
}

/// Sets how clients authenticate and the upstream credentials.
#[server(prefix = "/api/fn", endpoint = "wizard/auth", input = Json)]
pub async fn configure_wizard_auth(id: String, input: ConfigureAuth) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.configure_wizard_auth(&ssr::headers(), id, input).await.map_err(ssr::reply).map(drop)
}

/// Makes the server live; returns its endpoint and token (shown once).
#[server(prefix = "/api/fn", endpoint = "wizard/deploy", input = Json)]
pub async fn deploy_wizard(id: String) -> Result<Deployed, AppError> {
    let backend = ssr::backend()?;
    let activated = backend.activate_wizard(&ssr::headers(), id).await.map_err(ssr::reply)?;
    let target = crate::pages::ConnectTarget::from(&activated.server);
    Ok(Deployed { name: activated.server.name, target, token: activated.token })
}

/// The signed-in user's servers.
#[server(prefix = "/api/fn", endpoint = "servers/list", input = Json)]
pub async fn list_servers() -> Result<Vec<ServerView>, AppError> {
    let backend = ssr::backend()?;
    backend.servers(&ssr::headers()).await.map_err(ssr::reply)
}

#[server(prefix = "/api/fn", endpoint = "servers/get", input = Json)]
pub async fn get_server(id: String) -> Result<ServerView, AppError> {
    let backend = ssr::backend()?;
    backend.server(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// Takes a server offline (its endpoint answers 404).
#[server(prefix = "/api/fn", endpoint = "servers/disable", input = Json)]
pub async fn disable_server(id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.disable_server(&ssr::headers(), id).await.map_err(ssr::reply).map(drop)
}

/// Puts a disabled server back online.
#[server(prefix = "/api/fn", endpoint = "servers/enable", input = Json)]
pub async fn enable_server(id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.enable_server(&ssr::headers(), id).await.map_err(ssr::reply).map(drop)
}

#[server(prefix = "/api/fn", endpoint = "servers/delete", input = Json)]
pub async fn delete_server(id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.delete_server(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// Recent calls of a server, newest first.
#[server(prefix = "/api/fn", endpoint = "servers/calls", input = Json)]
pub async fn server_calls(id: String) -> Result<Vec<CallView>, AppError> {
    let backend = ssr::backend()?;
    backend.server_calls(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// A new client token for a server, shown once; the old one stops working.
#[server(prefix = "/api/fn", endpoint = "servers/token", input = Json)]
pub async fn rotate_server_token(id: String) -> Result<TokenIssued, AppError> {
    let backend = ssr::backend()?;
    backend.rotate_server_token(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// Changes a server: its spec, client auth, who may connect, limits or connection.
#[server(prefix = "/api/fn", endpoint = "servers/update", input = Json)]
pub async fn change_server(id: String, input: UpdateServer) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.update_server(&ssr::headers(), id, input).await.map_err(ssr::reply).map(drop)
}

/// The clients users connected to an `oauth` server.
#[server(prefix = "/api/fn", endpoint = "servers/clients", input = Json)]
pub async fn connected_clients(id: String) -> Result<Vec<ConnectedClient>, AppError> {
    let backend = ssr::backend()?;
    backend.connected_clients(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// Disconnects a client from a server: its tokens stop working at once.
#[server(prefix = "/api/fn", endpoint = "servers/revoke_client", input = Json)]
pub async fn revoke_client(id: String, grant_id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.revoke_client(&ssr::headers(), id, grant_id).await.map_err(ssr::reply)
}

/// What the consent page shows for an authorization request (its query string).
#[server(prefix = "/api/fn", endpoint = "oauth/consent", input = Json)]
pub async fn consent(query: String) -> Result<ConsentView, AppError> {
    let backend = ssr::backend()?;
    backend.consent(&ssr::headers(), query).await.map_err(ssr::reply)
}

/// Changes how clients connect to a server.
#[server(prefix = "/api/fn", endpoint = "servers/connection", input = Json)]
pub async fn update_server_connection(id: String, input: ConnectionInput) -> Result<Connection, AppError> {
    let backend = ssr::backend()?;
    let server = backend.update_server_connection(&ssr::headers(), id, input).await.map_err(ssr::reply)?;
    Ok(server.connection)
}

/// Connects to the live endpoint with a real MCP client and lists its tools.
#[server(prefix = "/api/fn", endpoint = "servers/test", input = Json)]
pub async fn test_connection(id: String, token: Option<String>) -> Result<Vec<String>, AppError> {
    let backend = ssr::backend()?;
    backend.test_connection(&ssr::headers(), id, token).await.map_err(ssr::reply)
}

/// Calls a tool live from the playground.
#[server(prefix = "/api/fn", endpoint = "servers/playground", input = Json)]
pub async fn playground_call(
    id: String,
    tool: String,
    arguments: serde_json::Value,
) -> Result<PlaygroundResult, AppError> {
    let backend = ssr::backend()?;
    backend.playground_call(&ssr::headers(), id, tool, arguments).await.map_err(ssr::reply)
}

/// Upstream MCP servers the user may build from: shared ones and their own.
#[server(prefix = "/api/fn", endpoint = "sources/list", input = Json)]
pub async fn list_sources() -> Result<Vec<SourceView>, AppError> {
    let backend = ssr::backend()?;
    backend.sources(&ssr::headers()).await.map_err(ssr::reply)
}

/// Registers an upstream MCP server (for everyone: admins only).
#[server(prefix = "/api/fn", endpoint = "sources/register", input = Json)]
pub async fn add_source(input: mcps::RegisterSource) -> Result<SourceView, AppError> {
    let backend = ssr::backend()?;
    backend.register_source(&ssr::headers(), input).await.map_err(ssr::reply)
}

/// Changes an upstream MCP server (e.g. enables or disables it).
#[server(prefix = "/api/fn", endpoint = "sources/update", input = Json)]
pub async fn change_source(id: String, input: mcps::UpdateSource) -> Result<SourceView, AppError> {
    let backend = ssr::backend()?;
    backend.update_source(&ssr::headers(), id, input).await.map_err(ssr::reply)
}

#[server(prefix = "/api/fn", endpoint = "sources/delete", input = Json)]
pub async fn remove_source(id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.delete_source(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// Lists an upstream MCP server's tools; stores nothing.
#[server(prefix = "/api/fn", endpoint = "mcps/fetch-tools", input = Json)]
pub async fn fetch_source_tools(input: mcps::FetchTools) -> Result<FetchedTools, AppError> {
    let backend = ssr::backend()?;
    backend.fetch_tools(&ssr::headers(), input).await.map_err(ssr::reply)
}

/// Creates a server from an MCP server in one request.
#[server(prefix = "/api/fn", endpoint = "mcps/create", input = Json)]
pub async fn create_from_source(input: mcps::CreateMcp) -> Result<McpCreated, AppError> {
    let backend = ssr::backend()?;
    backend.create_mcp(&ssr::headers(), input).await.map_err(ssr::reply)
}

#[server(prefix = "/api/fn", endpoint = "mcps/get", input = Json)]
pub async fn get_mcp(id: String) -> Result<McpView, AppError> {
    let backend = ssr::backend()?;
    backend.mcp(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// Saves an edit of a server made from an MCP server in one request.
#[server(prefix = "/api/fn", endpoint = "mcps/update", input = Json)]
pub async fn save_mcp(id: String, input: mcps::UpdateMcp) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.update_mcp(&ssr::headers(), id, input).await.map_err(ssr::reply).map(drop)
}

/// Fetches a stored server's tools again with its stored auth and compares them.
#[server(prefix = "/api/fn", endpoint = "mcps/refresh-tools", input = Json)]
pub async fn refresh_mcp_tools(id: String) -> Result<RefreshedTools, AppError> {
    let backend = ssr::backend()?;
    backend.refresh_mcp_tools(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// The signed-in user's machines (paid tier).
#[server(prefix = "/api/fn", endpoint = "vps/targets", input = Json)]
pub async fn list_targets() -> Result<Vec<TargetView>, AppError> {
    let backend = ssr::backend()?;
    backend.targets(&ssr::headers()).await.map_err(ssr::reply)
}

/// Registers a machine (a key pair is generated unless one is pasted).
#[server(prefix = "/api/fn", endpoint = "vps/register", input = Json)]
pub async fn add_target(input: vps::RegisterTarget) -> Result<TargetView, AppError> {
    let backend = ssr::backend()?;
    backend.register_target(&ssr::headers(), input).await.map_err(ssr::reply)
}

/// Connects and shows the host key, platform and supervisor.
#[server(prefix = "/api/fn", endpoint = "vps/check", input = Json)]
pub async fn check_target(id: String) -> Result<TargetCheck, AppError> {
    let backend = ssr::backend()?;
    backend.check_target(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// Confirms (pins) the host key a check showed.
#[server(prefix = "/api/fn", endpoint = "vps/trust", input = Json)]
pub async fn trust_target(id: String, input: vps::TrustHostKey) -> Result<TargetView, AppError> {
    let backend = ssr::backend()?;
    backend.trust_target(&ssr::headers(), id, input).await.map_err(ssr::reply)
}

#[server(prefix = "/api/fn", endpoint = "vps/delete", input = Json)]
pub async fn remove_target(id: String) -> Result<(), AppError> {
    let backend = ssr::backend()?;
    backend.delete_target(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// Where a server runs, its releases and last operation.
#[server(prefix = "/api/fn", endpoint = "vps/hosting", input = Json)]
pub async fn server_hosting(id: String) -> Result<HostingView, AppError> {
    let backend = ssr::backend()?;
    backend.hosting(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// Deploys a new release to a machine (runs in the background).
#[server(prefix = "/api/fn", endpoint = "vps/deploy", input = Json)]
pub async fn deploy_to_machine(id: String, input: vps::DeployToTarget) -> Result<OperationView, AppError> {
    let backend = ssr::backend()?;
    backend.vps_deploy(&ssr::headers(), id, input).await.map_err(ssr::reply)
}

/// Rolls back, stops, starts or removes a server on its machine.
#[server(prefix = "/api/fn", endpoint = "vps/action", input = Json)]
pub async fn machine_action(id: String, action: VpsAction) -> Result<OperationView, AppError> {
    let backend = ssr::backend()?;
    backend.vps_action(&ssr::headers(), id, action).await.map_err(ssr::reply)
}

/// The last lines of the server's log on its machine.
#[server(prefix = "/api/fn", endpoint = "vps/logs", input = Json)]
pub async fn machine_logs(id: String) -> Result<String, AppError> {
    let backend = ssr::backend()?;
    backend.vps_logs(&ssr::headers(), id).await.map_err(ssr::reply)
}

/// An operation's steps so far (poll while it runs).
#[server(prefix = "/api/fn", endpoint = "vps/operation", input = Json)]
pub async fn get_operation(id: String) -> Result<OperationView, AppError> {
    let backend = ssr::backend()?;
    backend.operation(&ssr::headers(), id).await.map_err(ssr::reply)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_on_this_site_are_followed_after_log_in() {
        assert_eq!(local_path(Some("/oauth/consent?a=b")), Some("/oauth/consent?a=b"));
        for other in
            ["//evil.example/x", "/\\evil.example", "https://evil.example/", "dashboard", "/a\r\nSet-Cookie: x"]
        {
            assert_eq!(local_path(Some(other)), None, "{other}");
        }
        assert_eq!(local_path(None), None);
    }
}
