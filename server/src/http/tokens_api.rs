//! `/api/v1/tokens`: the caller's personal API tokens (list, create with an
//! optional expiry, revoke).

use super::api::{ApiJson, ErrorBody};
use crate::error::ApiError;
use crate::services::Services;
use app::model::{ApiTokenCreated, ApiTokenView, NewApiToken};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get};
use axum::{Json, Router};

pub fn router() -> Router<super::AppState> {
    Router::new().route("/tokens", get(list_tokens).post(create_token)).route("/tokens/{id}", delete(revoke_token))
}

/// The caller's personal API tokens, newest first (never the tokens themselves).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "account",
    responses((status = 200, body = Vec<ApiTokenView>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn list_tokens(
    State(services): State<Services>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiTokenView>>, ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok(Json(services.accounts.tokens(&caller).await?))
}

/// Creates a personal API token, optionally expiring; the token is shown this once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "account",
    request_body = NewApiToken,
    responses((status = 201, body = ApiTokenCreated), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn create_token(
    State(services): State<Services>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewApiToken>,
) -> Result<(StatusCode, Json<ApiTokenCreated>), ApiError> {
    let caller = services.require_user(&headers).await?;
    Ok((StatusCode::CREATED, Json(services.accounts.issue_token(&caller.id, body).await?)))
}

/// Revokes a personal API token: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "account",
    params(("id" = String, Path, description = "Token id (not the token)")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
async fn revoke_token(
    State(services): State<Services>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = services.require_user(&headers).await?;
    services.accounts.revoke_token(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_tokens, create_token, revoke_token),
    components(schemas(ApiTokenView, NewApiToken, ApiTokenCreated))
)]
pub struct TokensDoc;
