//! The authorization server's HTTP face: metadata (RFC 8414, and the same
//! document as OpenID-style discovery), registration (RFC 7591), the token
//! endpoint and revocation (RFC 7009). Outside the page layers: clients
//! call these from anywhere, browsers included (CORS, no credentials).

use crate::oauth::{ErrorCode, OAuthError, metadata};
use crate::services::Services;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::HashMap;

/// The most of a registration or token request we read.
const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn router(services: Services) -> Router {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(server_metadata))
        .route("/.well-known/openid-configuration", get(server_metadata))
        .route("/oauth/register", post(register))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .layer(axum::middleware::from_fn(cors))
        .layer(axum::middleware::from_fn_with_state(services.clone(), super::middleware::client_addr))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(services)
}

/// Any origin may call these (no cookies are involved); preflights are
/// answered here.
async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(request).await };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if preflight {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type, Authorization, MCP-Protocol-Version"),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    response
}

async fn server_metadata(State(services): State<Services>) -> Response {
    Json(metadata::authorization_server(&services.oauth.public_url)).into_response()
}

/// An OAuth error answer (RFC 6749 §5.2): 401 for a client problem, else 400.
fn refuse(error: OAuthError) -> Response {
    let status =
        if error.code == ErrorCode::InvalidClient { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
    no_store((status, Json(error.body())).into_response())
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn register(State(services): State<Services>, request: Request<Body>) -> Response {
    let from = request.extensions().get::<app::ssr::ClientAddr>().map(|a| a.0.to_string()).unwrap_or_default();
    let body = match axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return refuse(OAuthError::new(ErrorCode::InvalidClientMetadata, "the registration is larger than 16 KiB"));
        }
    };
    match services.oauth.register(&body, &from).await {
        Ok(Ok(registered)) => no_store((StatusCode::CREATED, Json(registered)).into_response()),
        Ok(Err(error)) => refuse(error),
        Err(error) => crate::error::ApiError(error).into_response(),
    }
}

async fn token(State(services): State<Services>, body: Bytes) -> Response {
    match services.oauth.token(&form(&body)).await {
        Ok(Ok(tokens)) => no_store(Json(tokens).into_response()),
        Ok(Err(error)) => refuse(error),
        Err(error) => crate::error::ApiError(error).into_response(),
    }
}

async fn revoke(State(services): State<Services>, body: Bytes) -> Response {
    match services.oauth.revoke(&form(&body)).await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(error)) => refuse(error),
        Err(error) => crate::error::ApiError(error).into_response(),
    }
}
