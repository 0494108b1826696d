//! `/api/v1`: the JSON API for programs, authenticated by
//! `Authorization: Bearer <token>` or by the browser session. Handlers call the
//! same service code as the server functions.

use crate::error::{ApiError, json_error};
use crate::services::Services;
use app::model::{
    AppError, CallView, ClientAuth, ConnectedClient, CreateServer, OAuthAccess, ServerCreated, ServerView, Tier,
    TokenIssued, UpdateServer, UserView,
};
use app::wizard::{Activated, AddOperation, ConfigureAuth, OperationPage, SelectTools, StartWizard, WizardView};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, OriginalUri, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

pub fn router() -> Router<super::AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/admin/users", get(list_users))
        .route("/admin/users/{id}/tier", put(set_tier))
        .route("/servers", get(list_servers).post(create_server))
        .route("/servers/{id}", get(get_server).put(update_server).delete(delete_server))
        .route("/servers/{id}/deploy", post(deploy_server))
        .route("/servers/{id}/disable", post(disable_server))
        .route("/servers/{id}/token", post(rotate_token))
        .route("/servers/{id}/calls", get(list_calls))
        .route("/servers/{id}/clients", get(list_connected_clients))
        .route("/servers/{id}/clients/{grant_id}", delete(revoke_connected_client))
        .route("/wizard", get(list_wizards).post(start_wizard))
        .route("/wizard/{id}", get(get_wizard).delete(discard_wizard))
        .route("/wizard/{id}/retry", post(retry_wizard))
        .route("/wizard/{id}/tools", post(select_wizard_tools))
        .route("/wizard/{id}/operations", get(search_wizard_operations))
        .route("/wizard/{id}/candidates", post(add_wizard_candidate))
        .route("/wizard/{id}/auth", post(configure_wizard_auth))
        .route("/wizard/{id}/activate", post(activate_wizard))
        .merge(super::mcps_api::router())
        .merge(super::vps_api::router())
        .merge(super::tokens_api::router())
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: AppError,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetTier {
    pub tier: Tier,
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses(
        (status = 200, description = "The caller's account", body = UserView),
        (status = 401, description = "No valid token or session", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
async fn me(State(services): State<Services>, headers: HeaderMap) -> Result<Json<UserView>, ApiError> {
    Ok(Json(services.require_user(&headers).await?))
}

/// Every account (admins only).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses(
        (status = 200, description = "All accounts", body = Vec<UserView>),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "The caller is not an admin", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
async fn list_users(State(services): State<Services>, headers: HeaderMap) -> Result<Json<Vec<UserView>>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.accounts.list_users_as(&caller).await?))
}

/// Moves an account to the `free` or `paid` tier (admins only).
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/tier", tag = "admin",
    params(("id" = String, Path, description = "The account id")),
    request_body = SetTier,
    responses(
        (status = 200, description = "The updated account", body = UserView),
        (status = 403, description = "The caller is not an admin", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 422, description = "The body is not a valid tier change", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
async fn set_tier(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetTier>,
) -> Result<Json<UserView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.change_tier(Some(&caller), &id, body.tier).await?))
}

/// Creates a server from a full spec in one request (and deploys it with `"deploy": true`).
#[utoipa::path(post, path = "/api/v1/servers", tag = "servers",
    request_body = CreateServer,
    responses(
        (status = 201, description = "Created; `token` is shown this once", body = ServerCreated),
        (status = 403, description = "A tier limit (e.g. active servers on the free tier)", body = ErrorBody),
        (status = 409, description = "The slug is taken", body = ErrorBody),
        (status = 422, description = "The spec has problems (each with its path)", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
async fn create_server(
    State(services): State<Services>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateServer>,
) -> Result<(StatusCode, Json<ServerCreated>), ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok((StatusCode::CREATED, Json(services.servers.create(&caller, body).await?)))
}

/// The caller's servers.
#[utoipa::path(get, path = "/api/v1/servers", tag = "servers",
    responses((status = 200, description = "The caller's servers", body = Vec<ServerView>)),
    security(("bearer" = []), ("session" = [])))]
async fn list_servers(State(services): State<Services>, headers: HeaderMap) -> Result<Json<Vec<ServerView>>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.list(&caller).await?))
}

/// One of the caller's servers.
#[utoipa::path(get, path = "/api/v1/servers/{id}", tag = "servers",
    params(("id" = String, Path, description = "Server id")),
    responses((status = 200, body = ServerView), (status = 404, description = "Not one of yours", body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn get_server(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ServerView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.get(&caller, &id).await?))
}

/// Updates the spec, client auth, credentials or limits; a live server changes at once.
#[utoipa::path(put, path = "/api/v1/servers/{id}", tag = "servers",
    params(("id" = String, Path, description = "Server id")),
    request_body = UpdateServer,
    responses((status = 200, body = ServerView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn update_server(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateServer>,
) -> Result<Json<ServerView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.update(&caller, &id, body).await?))
}

/// Deletes a server, its credentials and its call log.
#[utoipa::path(delete, path = "/api/v1/servers/{id}", tag = "servers",
    params(("id" = String, Path, description = "Server id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn delete_server(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = services.require_user(&headers).await?;
    services.servers.delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mounts the server at its endpoint, live at once.
#[utoipa::path(post, path = "/api/v1/servers/{id}/deploy", tag = "servers",
    params(("id" = String, Path, description = "Server id")),
    responses((status = 200, body = ServerView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn deploy_server(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ServerView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.deploy(&caller, &id).await?))
}

/// Takes the server offline (its endpoint answers 404).
#[utoipa::path(post, path = "/api/v1/servers/{id}/disable", tag = "servers",
    params(("id" = String, Path, description = "Server id")),
    responses((status = 200, body = ServerView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn disable_server(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ServerView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.disable(&caller, &id).await?))
}

/// Issues a new client token; the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/servers/{id}/token", tag = "servers",
    params(("id" = String, Path, description = "Server id")),
    responses((status = 200, description = "The new token, shown this once", body = TokenIssued), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn rotate_token(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<TokenIssued>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.rotate_token(&caller, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CallsQuery {
    /// How many entries, newest first (1 to 500, default 50).
    pub limit: Option<u32>,
}

/// The server's recent tool calls (kept 14 days).
#[utoipa::path(get, path = "/api/v1/servers/{id}/calls", tag = "servers",
    params(("id" = String, Path, description = "Server id"), CallsQuery),
    responses((status = 200, body = Vec<CallView>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn list_calls(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<CallsQuery>,
) -> Result<Json<Vec<CallView>>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.calls(&caller, &id, query.limit.unwrap_or(50)).await?))
}

/// Starts a wizard: tools are proposed in the background (poll its `processing_status`).
#[utoipa::path(post, path = "/api/v1/wizard", tag = "wizard",
    request_body = StartWizard,
    responses((status = 202, description = "Started; processing", body = WizardView), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn start_wizard(
    State(services): State<Services>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StartWizard>,
) -> Result<(StatusCode, Json<WizardView>), ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok((StatusCode::ACCEPTED, Json(services.wizards.start(&caller, body).await?)))
}

/// The caller's unfinished wizards (to resume), most recent first.
#[utoipa::path(get, path = "/api/v1/wizard", tag = "wizard",
    responses((status = 200, body = Vec<WizardView>)),
    security(("bearer" = []), ("session" = [])))]
async fn list_wizards(State(services): State<Services>, headers: HeaderMap) -> Result<Json<Vec<WizardView>>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.wizards.unfinished(&caller).await?))
}

/// A wizard's state: step, processing status (and error), proposal, selection.
#[utoipa::path(get, path = "/api/v1/wizard/{id}", tag = "wizard",
    params(("id" = String, Path, description = "Wizard id")),
    responses((status = 200, body = WizardView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn get_wizard(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<WizardView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.wizards.get(&caller, &id).await?))
}

/// Discards a wizard: its background work stops, and the draft server it made
/// (if never deployed) is deleted. A live server stays.
#[utoipa::path(delete, path = "/api/v1/wizard/{id}", tag = "wizard",
    params(("id" = String, Path, description = "Wizard id")),
    responses((status = 204, description = "Discarded"), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn discard_wizard(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = services.require_user(&headers).await?;
    services.wizards.discard(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Generates again after a failure.
#[utoipa::path(post, path = "/api/v1/wizard/{id}/retry", tag = "wizard",
    params(("id" = String, Path, description = "Wizard id")),
    responses((status = 202, body = WizardView), (status = 409, description = "Not failed", body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn retry_wizard(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WizardView>), ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok((StatusCode::ACCEPTED, Json(services.wizards.retry(&caller, &id).await?)))
}

/// Chooses tools from the proposal (free tier: at most 3), optionally renamed.
#[utoipa::path(post, path = "/api/v1/wizard/{id}/tools", tag = "wizard",
    params(("id" = String, Path, description = "Wizard id")),
    request_body = SelectTools,
    responses((status = 200, body = WizardView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn select_wizard_tools(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SelectTools>,
) -> Result<Json<WizardView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.wizards.select_tools(&caller, &id, body).await?))
}

/// A search over the query string of `GET .../operations`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
struct OperationSearch {
    /// Words that must all occur in the method, path, name, summary or tags.
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: usize,
    /// At most 100 (default 50).
    limit: Option<usize>,
}

/// Searches every operation of the wizard's OpenAPI document (not only the
/// proposed ones), in document order.
#[utoipa::path(get, path = "/api/v1/wizard/{id}/operations", tag = "wizard",
    params(("id" = String, Path, description = "Wizard id"), OperationSearch),
    responses((status = 200, body = OperationPage), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn search_wizard_operations(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(search): axum::extract::Query<OperationSearch>,
) -> Result<Json<OperationPage>, ApiError> {
    let caller = services.require_user(&headers).await?;
    let limit = search.limit.unwrap_or(50);
    Ok(Json(services.wizards.operations(&caller, &id, &search.q, search.offset, limit).await?))
}

/// Adds any operation of the document to the proposal (while choosing actions).
#[utoipa::path(post, path = "/api/v1/wizard/{id}/candidates", tag = "wizard",
    params(("id" = String, Path, description = "Wizard id")),
    request_body = AddOperation,
    responses((status = 200, body = WizardView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn add_wizard_candidate(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddOperation>,
) -> Result<Json<WizardView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.wizards.add_operation(&caller, &id, body).await?))
}

/// Sets client auth and the upstream credentials (stored encrypted).
#[utoipa::path(post, path = "/api/v1/wizard/{id}/auth", tag = "wizard",
    params(("id" = String, Path, description = "Wizard id")),
    request_body = ConfigureAuth,
    responses((status = 200, body = WizardView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn configure_wizard_auth(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConfigureAuth>,
) -> Result<Json<WizardView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.wizards.configure_auth(&caller, &id, body).await?))
}

/// Makes the server live; the answer carries the client token (shown once).
#[utoipa::path(post, path = "/api/v1/wizard/{id}/activate", tag = "wizard",
    params(("id" = String, Path, description = "Wizard id")),
    responses((status = 200, body = Activated), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn activate_wizard(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Activated>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.wizards.activate(&caller, &id).await?))
}

/// The clients users connected to an `oauth` server (its OAuth grants).
#[utoipa::path(get, path = "/api/v1/servers/{id}/clients", tag = "servers",
    params(("id" = String, Path, description = "Server id")),
    responses((status = 200, body = Vec<ConnectedClient>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn list_connected_clients(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<ConnectedClient>>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.connected_clients(&caller, &id).await?))
}

/// Disconnects a client: its grant and every token it holds stop working at once.
#[utoipa::path(delete, path = "/api/v1/servers/{id}/clients/{grant_id}", tag = "servers",
    params(("id" = String, Path, description = "Server id"), ("grant_id" = String, Path, description = "The connected client's id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn revoke_connected_client(
    State(services): State<Services>,
    headers: HeaderMap,
    Path((id, grant_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let caller = services.require_user(&headers).await?;
    services.servers.revoke_client(&caller, &id, &grant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn not_found(method: axum::http::Method, OriginalUri(uri): OriginalUri) -> axum::response::Response {
    json_error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no API endpoint {method} {}; see /api/v1/openapi.json", uri.path()),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AutoMCP API", version = "1", description = "Create and manage hosted MCP servers."),
    paths(
        me, list_users, set_tier, create_server, list_servers, get_server, update_server, delete_server,
        deploy_server, disable_server, rotate_token, list_calls, list_connected_clients, revoke_connected_client,
        start_wizard, list_wizards, get_wizard,
        discard_wizard, retry_wizard, select_wizard_tools, search_wizard_operations, add_wizard_candidate,
        configure_wizard_auth, activate_wizard
    ),
    components(schemas(UserView, Tier, AppError, ErrorBody, SetTier, ServerView, CreateServer, ServerCreated, UpdateServer, TokenIssued, CallView,
        ConnectedClient, OAuthAccess, ClientAuth,
        WizardView, StartWizard, SelectTools, ConfigureAuth, Activated, OperationPage, AddOperation)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token (`automcp token create`)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("automcp_session"))),
        );
    }
}

/// The whole API's OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(<super::mcps_api::McpsDoc as OpenApi>::openapi());
    doc.merge(<super::vps_api::VpsDoc as OpenApi>::openapi());
    doc.merge(<super::tokens_api::TokensDoc as OpenApi>::openapi());
    doc
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// `Json` whose rejections are API errors that say what is wrong with the body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError(AppError::invalid("body", describe(&rejection)))),
        }
    }
}

fn describe(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as JSON with `Content-Type: application/json`".into()
        }
        other => other.body_text(),
    }
}
