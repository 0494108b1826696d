//! `/api/v1`: the JSON API for programs, authenticated by
//! `Authorization: Bearer <token>` or by the browser session. Handlers call the
//! same service code as the server functions.

use crate::error::{ApiError, json_error};
use crate::services::Services;
use app::model::{AppError, Tier, UserView};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, OriginalUri, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

pub fn router() -> Router<super::AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/admin/users", get(list_users))
        .route("/admin/users/{id}/tier", put(set_tier))
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
async fn me(
    State(services): State<Services>,
    headers: HeaderMap,
) -> Result<Json<UserView>, ApiError> {
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
async fn list_users(
    State(services): State<Services>,
    headers: HeaderMap,
) -> Result<Json<Vec<UserView>>, ApiError> {
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
    Ok(Json(
        services
            .accounts
            .set_tier_as(&caller, &id, body.tier)
            .await?,
    ))
}

async fn not_found(
    method: axum::http::Method,
    OriginalUri(uri): OriginalUri,
) -> axum::response::Response {
    json_error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "no API endpoint {method} {}; see /api/v1/openapi.json",
            uri.path()
        ),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "AutoMCP API", version = "1", description = "Create and manage hosted MCP servers."),
    paths(me, list_users, set_tier),
    components(schemas(UserView, Tier, AppError, ErrorBody, SetTier)),
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

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
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
