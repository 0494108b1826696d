//! The server's side of [`app::ssr::Backend`]: what server functions call.
//! Each method is the same service code the `/api/v1` handlers use.

use crate::auth::{clear_cookie, cookie_name, read_cookie, session_cookie};
use crate::services::Services;
use app::mcps::{
    CreateMcp, FetchTools, FetchedTools, McpCreated, McpView, RefreshTools, RefreshedTools, RegisterSource, SourceView,
    UpdateMcp, UpdateSource,
};
use app::model::{
    ApiTokenCreated, ApiTokenView, AppError, CallView, ConnectedClient, ConnectionInput, ConsentView, NewApiToken,
    PlaygroundResult, ServerStatus, ServerView, Tier, TokenIssued, UpdateServer, UserView,
};
use app::ssr::{Backend, NewSession};
use app::vps::{
    DeployToTarget, HostingView, OperationView, RegisterTarget, TargetCheck, TargetView, TrustHostKey, VpsAction,
};
use app::wizard::{Activated, AddOperation, ConfigureAuth, OperationPage, SelectTools, StartWizard, WizardView};
use http::HeaderMap;
use std::net::IpAddr;
use std::time::Duration;

#[async_trait::async_trait]
impl Backend for Services {
    async fn current_user(&self, headers: &HeaderMap) -> Result<Option<UserView>, AppError> {
        self.caller(headers).await
    }

    async fn sign_up(&self, client: Option<IpAddr>, email: String, password: String) -> Result<NewSession, AppError> {
        let (user, token) = self.accounts.sign_up(client, &email, &password).await?;
        Ok(NewSession { user, set_cookie: session_cookie(&token, self.config.cookie_secure()) })
    }

    async fn log_in(&self, client: Option<IpAddr>, email: String, password: String) -> Result<NewSession, AppError> {
        let (user, token) = self.accounts.log_in(client, &email, &password).await?;
        Ok(NewSession { user, set_cookie: session_cookie(&token, self.config.cookie_secure()) })
    }

    async fn log_out(&self, headers: &HeaderMap) -> Result<String, AppError> {
        let secure = self.config.cookie_secure();
        if let Some(token) = read_cookie(headers, cookie_name(secure)) {
            self.accounts.end_session(&token).await?;
        }
        Ok(clear_cookie(secure))
    }

    async fn list_users(&self, headers: &HeaderMap) -> Result<Vec<UserView>, AppError> {
        let caller = self.require_user(headers).await?;
        self.accounts.list_users_as(&caller).await
    }

    async fn set_tier(&self, headers: &HeaderMap, user_id: String, tier: Tier) -> Result<UserView, AppError> {
        let caller = self.require_user(headers).await?;
        self.change_tier(Some(&caller), &user_id, tier).await
    }

    async fn start_wizard(&self, headers: &HeaderMap, input: StartWizard) -> Result<WizardView, AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.start(&caller, input).await
    }

    async fn wizard(&self, headers: &HeaderMap, id: String) -> Result<WizardView, AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.get(&caller, &id).await
    }

    async fn unfinished_wizards(&self, headers: &HeaderMap) -> Result<Vec<WizardView>, AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.unfinished(&caller).await
    }

    async fn retry_wizard(&self, headers: &HeaderMap, id: String) -> Result<WizardView, AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.retry(&caller, &id).await
    }

    async fn discard_wizard(&self, headers: &HeaderMap, id: String) -> Result<(), AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.discard(&caller, &id).await
    }

    async fn api_tokens(&self, headers: &HeaderMap) -> Result<Vec<ApiTokenView>, AppError> {
        let caller = self.require_user(headers).await?;
        self.accounts.tokens(&caller).await
    }

    async fn create_api_token(&self, headers: &HeaderMap, input: NewApiToken) -> Result<ApiTokenCreated, AppError> {
        let caller = self.require_user(headers).await?;
        self.accounts.issue_token(&caller.id, input).await
    }

    async fn revoke_api_token(&self, headers: &HeaderMap, id: String) -> Result<(), AppError> {
        let caller = self.require_user(headers).await?;
        self.accounts.revoke_token(&caller, &id).await
    }

    async fn select_wizard_tools(
        &self,
        headers: &HeaderMap,
        id: String,
        input: SelectTools,
    ) -> Result<WizardView, AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.select_tools(&caller, &id, input).await
    }

    async fn search_wizard_operations(
        &self,
        headers: &HeaderMap,
        id: String,
        query: String,
        offset: usize,
    ) -> Result<OperationPage, AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.operations(&caller, &id, &query, offset, 20).await
    }

    async fn add_wizard_operation(
        &self,
        headers: &HeaderMap,
        id: String,
        input: AddOperation,
    ) -> Result<WizardView, AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.add_operation(&caller, &id, input).await
    }

    async fn configure_wizard_auth(
        &self,
        headers: &HeaderMap,
        id: String,
        input: ConfigureAuth,
    ) -> Result<WizardView, AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.configure_auth(&caller, &id, input).await
    }

    async fn activate_wizard(&self, headers: &HeaderMap, id: String) -> Result<Activated, AppError> {
        let caller = self.require_user(headers).await?;
        self.wizards.activate(&caller, &id).await
    }

    async fn servers(&self, headers: &HeaderMap) -> Result<Vec<ServerView>, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.list(&caller).await
    }

    async fn server(&self, headers: &HeaderMap, id: String) -> Result<ServerView, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.get(&caller, &id).await
    }

    async fn disable_server(&self, headers: &HeaderMap, id: String) -> Result<ServerView, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.disable(&caller, &id).await
    }

    async fn enable_server(&self, headers: &HeaderMap, id: String) -> Result<ServerView, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.deploy(&caller, &id).await
    }

    async fn delete_server(&self, headers: &HeaderMap, id: String) -> Result<(), AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.delete(&caller, &id).await
    }

    async fn server_calls(&self, headers: &HeaderMap, id: String) -> Result<Vec<CallView>, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.calls(&caller, &id, 50).await
    }

    async fn rotate_server_token(&self, headers: &HeaderMap, id: String) -> Result<TokenIssued, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.rotate_token(&caller, &id).await
    }

    async fn update_server_connection(
        &self,
        headers: &HeaderMap,
        id: String,
        input: ConnectionInput,
    ) -> Result<ServerView, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.update(&caller, &id, UpdateServer { connection: Some(input), ..UpdateServer::default() }).await
    }

    async fn update_server(
        &self,
        headers: &HeaderMap,
        id: String,
        input: UpdateServer,
    ) -> Result<ServerView, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.update(&caller, &id, input).await
    }

    async fn connected_clients(&self, headers: &HeaderMap, id: String) -> Result<Vec<ConnectedClient>, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.connected_clients(&caller, &id).await
    }

    async fn revoke_client(&self, headers: &HeaderMap, id: String, grant_id: String) -> Result<(), AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.revoke_client(&caller, &id, &grant_id).await
    }

    async fn consent(&self, headers: &HeaderMap, query: String) -> Result<ConsentView, AppError> {
        let user = self.caller(headers).await?;
        let params = url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()).into_owned().collect();
        self.oauth.consent_view(&params, user.as_ref()).await
    }

    async fn test_connection(
        &self,
        headers: &HeaderMap,
        id: String,
        token: Option<String>,
    ) -> Result<Vec<String>, AppError> {
        let caller = self.require_user(headers).await?;
        let server = self.servers.get(&caller, &id).await?;
        if server.status != ServerStatus::Active {
            return Err(AppError::invalid("status", "the server is not live; deploy it first"));
        }
        let token = token.filter(|t| !t.trim().is_empty());
        let tools = crate::engine::mcp::list_remote_tools(&server.endpoint, token.as_deref(), Duration::from_secs(10))
            .await
            .map_err(|e| {
                AppError::invalid("connection", format!("could not list the tools at {}: {e}", server.endpoint))
            })?;
        Ok(tools.into_iter().map(|t| t.name.to_string()).collect())
    }

    async fn sources(&self, headers: &HeaderMap) -> Result<Vec<SourceView>, AppError> {
        let caller = self.require_user(headers).await?;
        self.sources.list(&caller).await
    }

    async fn register_source(&self, headers: &HeaderMap, input: RegisterSource) -> Result<SourceView, AppError> {
        let caller = self.require_user(headers).await?;
        self.sources.register(&caller, input).await
    }

    async fn update_source(
        &self,
        headers: &HeaderMap,
        id: String,
        input: UpdateSource,
    ) -> Result<SourceView, AppError> {
        let caller = self.require_user(headers).await?;
        Services::update_source(self, &caller, &id, input).await
    }

    async fn delete_source(&self, headers: &HeaderMap, id: String) -> Result<(), AppError> {
        let caller = self.require_user(headers).await?;
        self.sources.delete(&caller, &id).await
    }

    async fn fetch_tools(&self, headers: &HeaderMap, input: FetchTools) -> Result<FetchedTools, AppError> {
        let caller = self.require_user(headers).await?;
        self.sources.fetch_tools(&caller, input).await
    }

    async fn create_mcp(&self, headers: &HeaderMap, input: CreateMcp) -> Result<McpCreated, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.create_mcp(&caller, input).await
    }

    async fn mcp(&self, headers: &HeaderMap, id: String) -> Result<McpView, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.get_mcp(&caller, &id).await
    }

    async fn update_mcp(&self, headers: &HeaderMap, id: String, input: UpdateMcp) -> Result<McpView, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.update_mcp(&caller, &id, input).await
    }

    async fn refresh_mcp_tools(&self, headers: &HeaderMap, id: String) -> Result<RefreshedTools, AppError> {
        let caller = self.require_user(headers).await?;
        self.servers.refresh_mcp_tools(&caller, &id, RefreshTools { apply: false }).await
    }

    async fn targets(&self, headers: &HeaderMap) -> Result<Vec<TargetView>, AppError> {
        let caller = self.require_user(headers).await?;
        self.machines.targets(&caller).await
    }

    async fn register_target(&self, headers: &HeaderMap, input: RegisterTarget) -> Result<TargetView, AppError> {
        let caller = self.require_user(headers).await?;
        self.machines.register_target(&caller, input).await
    }

    async fn check_target(&self, headers: &HeaderMap, id: String) -> Result<TargetCheck, AppError> {
        let caller = self.require_user(headers).await?;
        self.machines.check_target(&caller, &id).await
    }

    async fn trust_target(&self, headers: &HeaderMap, id: String, input: TrustHostKey) -> Result<TargetView, AppError> {
        let caller = self.require_user(headers).await?;
        self.machines.trust_target(&caller, &id, input).await
    }

    async fn delete_target(&self, headers: &HeaderMap, id: String) -> Result<(), AppError> {
        let caller = self.require_user(headers).await?;
        self.machines.delete_target(&caller, &id).await
    }

    async fn hosting(&self, headers: &HeaderMap, id: String) -> Result<HostingView, AppError> {
        let caller = self.require_user(headers).await?;
        self.machines.hosting(&caller, &id).await
    }

    async fn vps_deploy(
        &self,
        headers: &HeaderMap,
        id: String,
        input: DeployToTarget,
    ) -> Result<OperationView, AppError> {
        let caller = self.require_user(headers).await?;
        self.machines.vps_deploy(&caller, &id, input).await
    }

    async fn vps_action(&self, headers: &HeaderMap, id: String, action: VpsAction) -> Result<OperationView, AppError> {
        let caller = self.require_user(headers).await?;
        match action {
            VpsAction::Rollback => self.machines.vps_rollback(&caller, &id).await,
            VpsAction::Stop => self.machines.vps_stop(&caller, &id).await,
            VpsAction::Start => self.machines.vps_start(&caller, &id).await,
            VpsAction::Remove => self.machines.vps_remove(&caller, &id).await,
        }
    }

    async fn vps_logs(&self, headers: &HeaderMap, id: String) -> Result<String, AppError> {
        let caller = self.require_user(headers).await?;
        self.machines.vps_logs(&caller, &id).await
    }

    async fn operation(&self, headers: &HeaderMap, id: String) -> Result<OperationView, AppError> {
        let caller = self.require_user(headers).await?;
        self.machines.operation(&caller, &id).await
    }

    async fn playground_call(
        &self,
        headers: &HeaderMap,
        id: String,
        tool: String,
        arguments: serde_json::Value,
    ) -> Result<PlaygroundResult, AppError> {
        let caller = self.require_user(headers).await?;
        let server = self.servers.get(&caller, &id).await?;
        let Some(mount) = self.engine.get(&server.slug).filter(|_| server.status == ServerStatus::Active) else {
            return Err(AppError::invalid("status", "the server is not live; deploy it first"));
        };
        let serde_json::Value::Object(arguments) = arguments else {
            return Err(AppError::invalid("arguments", "arguments must be a JSON object"));
        };
        match mount.live.call(&tool, arguments, None, None).await {
            Ok(reply) => Ok(PlaygroundResult { is_error: reply.is_error(), text: reply.text() }),
            Err(refused) => Err(AppError::invalid("tool", refused.message)),
        }
    }
}
