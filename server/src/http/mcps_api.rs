//! `/api/v1/mcp-servers` (registered upstream MCP servers) and `/api/v1/mcps`
//! (servers made from them: fetch tools, create in one request, edit).

use super::api::{ApiJson, ErrorBody};
use crate::error::ApiError;
use crate::services::Services;
use app::mcps::{
    AuthKind, CreateMcp, FetchTools, FetchedTools, McpCreated, McpView, RefreshTools, RefreshedTools, RegisterSource,
    SourceView, ToolDef, ToolsDiff, UpdateMcp, UpdateSource,
};
use app::model::UpstreamFailure;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn router() -> Router<super::AppState> {
    Router::new()
        .route("/mcp-servers", get(list_sources).post(register_source))
        .route("/mcp-servers/{id}", get(get_source).put(update_source).delete(delete_source))
        .route("/mcps", get(list_mcps).post(create_mcp))
        .route("/mcps/fetch-tools", post(fetch_tools))
        .route("/mcps/{id}", get(get_mcp).put(update_mcp).delete(delete_mcp))
        .route("/mcps/{id}/refresh-tools", post(refresh_tools))
}

/// Upstream MCP servers the caller may use: shared ones and their own.
#[utoipa::path(get, path = "/api/v1/mcp-servers", tag = "mcp-servers",
    responses((status = 200, body = Vec<SourceView>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn list_sources(State(services): State<Services>, headers: HeaderMap) -> Result<Json<Vec<SourceView>>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.sources.list(&caller).await?))
}

/// Registers an upstream MCP server: private, or for everyone (`"shared": true`, admins only).
#[utoipa::path(post, path = "/api/v1/mcp-servers", tag = "mcp-servers",
    request_body = RegisterSource,
    responses((status = 201, body = SourceView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn register_source(
    State(services): State<Services>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterSource>,
) -> Result<(StatusCode, Json<SourceView>), ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok((StatusCode::CREATED, Json(services.sources.register(&caller, body).await?)))
}

/// One upstream MCP server.
#[utoipa::path(get, path = "/api/v1/mcp-servers/{id}", tag = "mcp-servers",
    params(("id" = String, Path, description = "MCP server id")),
    responses((status = 200, body = SourceView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn get_source(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<SourceView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.sources.get(&caller, &id).await?))
}

/// Changes an upstream MCP server; disabling it takes the servers made from it offline.
#[utoipa::path(put, path = "/api/v1/mcp-servers/{id}", tag = "mcp-servers",
    params(("id" = String, Path, description = "MCP server id")),
    request_body = UpdateSource,
    responses((status = 200, body = SourceView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn update_source(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateSource>,
) -> Result<Json<SourceView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.update_source(&caller, &id, body).await?))
}

/// Removes an upstream MCP server that no server is made from.
#[utoipa::path(delete, path = "/api/v1/mcp-servers/{id}", tag = "mcp-servers",
    params(("id" = String, Path, description = "MCP server id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn delete_source(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = services.require_user(&headers).await?;
    services.sources.delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists an upstream MCP server's tools (stateless: stores nothing).
///
/// Errors: 404 no such MCP server, 409 it is disabled, 502 with `reason`
/// `unreachable`, `timeout`, `auth_refused`, `not_mcp`, `forbidden` or `protocol`.
#[utoipa::path(post, path = "/api/v1/mcps/fetch-tools", tag = "mcps",
    request_body = FetchTools,
    responses(
        (status = 200, body = FetchedTools),
        (status = 404, description = "No such MCP server", body = ErrorBody),
        (status = 409, description = "The MCP server is disabled", body = ErrorBody),
        (status = 422, description = "The auth fields are incomplete", body = ErrorBody),
        (status = 502, description = "The MCP server could not be used (see `reason`)", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
async fn fetch_tools(
    State(services): State<Services>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FetchTools>,
) -> Result<Json<FetchedTools>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.sources.fetch_tools(&caller, body).await?))
}

/// The caller's servers made from an MCP server.
#[utoipa::path(get, path = "/api/v1/mcps", tag = "mcps",
    responses((status = 200, body = Vec<McpView>)),
    security(("bearer" = []), ("session" = [])))]
async fn list_mcps(State(services): State<Services>, headers: HeaderMap) -> Result<Json<Vec<McpView>>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.list_mcps(&caller).await?))
}

/// Creates a server from an MCP server in one request: the fetched
/// `tools_cache`, the chosen `tools_filter` (free tier: at most 3) and the
/// upstream auth (stored encrypted). Live at `/mcp/{slug}` at once when enabled.
#[utoipa::path(post, path = "/api/v1/mcps", tag = "mcps",
    request_body = CreateMcp,
    responses(
        (status = 201, description = "Created; `token` is shown this once", body = McpCreated),
        (status = 403, description = "A tier limit", body = ErrorBody),
        (status = 404, description = "No such MCP server", body = ErrorBody),
        (status = 409, description = "The slug is taken, or the MCP server is disabled", body = ErrorBody),
        (status = 422, description = "A field is not acceptable", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = [])))]
async fn create_mcp(
    State(services): State<Services>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateMcp>,
) -> Result<(StatusCode, Json<McpCreated>), ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok((StatusCode::CREATED, Json(services.servers.create_mcp(&caller, body).await?)))
}

/// One server made from an MCP server.
#[utoipa::path(get, path = "/api/v1/mcps/{id}", tag = "mcps",
    params(("id" = String, Path, description = "Server id")),
    responses((status = 200, body = McpView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn get_mcp(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<McpView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.get_mcp(&caller, &id).await?))
}

/// Updates name, slug, description, enabled, auth, `tools_filter` and `tools_cache`; live at once.
#[utoipa::path(put, path = "/api/v1/mcps/{id}", tag = "mcps",
    params(("id" = String, Path, description = "Server id")),
    request_body = UpdateMcp,
    responses((status = 200, body = McpView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn update_mcp(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateMcp>,
) -> Result<Json<McpView>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.servers.update_mcp(&caller, &id, body).await?))
}

/// Deletes a server made from an MCP server.
#[utoipa::path(delete, path = "/api/v1/mcps/{id}", tag = "mcps",
    params(("id" = String, Path, description = "Server id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn delete_mcp(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = services.require_user(&headers).await?;
    services.servers.delete_mcp(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fetches the tools again with the stored auth and reports how they differ
/// from the cache; `"apply": true` stores them.
#[utoipa::path(post, path = "/api/v1/mcps/{id}/refresh-tools", tag = "mcps",
    params(("id" = String, Path, description = "Server id")),
    request_body(content = Option<RefreshTools>, description = "Optional; default `{\"apply\": false}`"),
    responses((status = 200, body = RefreshedTools), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn refresh_tools(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<RefreshedTools>, ApiError> {
    let caller = services.require_user(&headers).await?;
    let input: RefreshTools = if body.iter().all(u8::is_ascii_whitespace) {
        RefreshTools::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError(app::model::AppError::invalid("body", format!("the body is not a valid refresh request: {e}")))
        })?
    };
    Ok(Json(services.servers.refresh_mcp_tools(&caller, &id, input).await?))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_sources,
        register_source,
        get_source,
        update_source,
        delete_source,
        fetch_tools,
        list_mcps,
        create_mcp,
        get_mcp,
        update_mcp,
        delete_mcp,
        refresh_tools
    ),
    components(schemas(
        SourceView,
        RegisterSource,
        UpdateSource,
        FetchTools,
        FetchedTools,
        ToolDef,
        AuthKind,
        CreateMcp,
        McpCreated,
        McpView,
        UpdateMcp,
        RefreshTools,
        RefreshedTools,
        ToolsDiff,
        UpstreamFailure
    ))
)]
pub struct McpsDoc;
