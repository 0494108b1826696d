//! The authorization server's HTTP face: metadata (RFC 8414, and the same
//! document as OpenID-style discovery), registration (RFC 7591), the token
//! endpoint, revocation (RFC 7009) and each `oauth` server's Protected
//! Resource Metadata (RFC 9728). Outside the page layers: clients call
//! these from anywhere, browsers included (CORS, no credentials).
//!
//! The authorization endpoint is a page flow with the session cookie, so
//! [`authorize_routes`] go behind the page layers (cross-site guard, write
//! gate, security headers); its consent page is the Leptos page
//! `/oauth/consent`.

use crate::engine::ClientCheck;
use crate::oauth::consent::Decision;
use crate::oauth::request::{self, Refusal};
use crate::oauth::{ErrorCode, OAuthError, metadata};
use crate::services::Services;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Redirect;
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
        .route("/.well-known/oauth-protected-resource", get(resource_metadata_root))
        .route("/.well-known/oauth-protected-resource/mcp/{slug}", get(resource_metadata))
        .route("/mcp/{slug}/.well-known/oauth-protected-resource", get(resource_metadata))
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

/// Form fields (a body, or a query string).
fn form(body: &[u8]) -> HashMap<String, String> {
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

/// RFC 9728 metadata of one server: only for a live `oauth` server (a
/// `bearer` or public server advertises no OAuth at all).
async fn resource_metadata(State(services): State<Services>, Path(slug): Path<String>) -> Response {
    let mount = services.engine.get(&slug).filter(|mount| matches!(mount.client, ClientCheck::OAuth(_)));
    let Some(mount) = mount else {
        return crate::error::json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no server at /mcp/{slug} is live with OAuth sign-in"),
        );
    };
    let name = &mount.live.compiled.spec.name;
    Json(metadata::protected_resource(&services.oauth.public_url, &slug, name)).into_response()
}

/// Metadata at the root would have to name one server; each has its own.
async fn resource_metadata_root() -> Response {
    crate::error::json_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "each server has its own metadata, at /.well-known/oauth-protected-resource/mcp/{slug}",
    )
}

/// `GET` and `POST /oauth/authorize`, behind the page layers.
pub fn authorize_routes() -> Router<super::AppState> {
    Router::new().route(metadata::AUTHORIZE_PATH, get(authorize).post(decide))
}

/// The consent page, which shows the request `query` (and signs the user in).
fn consent_page(query: &str) -> Response {
    Redirect::to(&format!("/oauth/consent?{query}")).into_response()
}

/// Starts an authorization: a request whose client and redirect URI check
/// out but is otherwise wrong goes back to the client; everything else is
/// shown on the consent page (including errors for the user's eyes only).
async fn authorize(State(services): State<Services>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    match services.oauth.check_authorization(&form(query.as_bytes())).await {
        Ok(Err(Refusal::ToClient { redirect_uri, state, error })) => to_client(&services, &redirect_uri, state, &error),
        Ok(_) => consent_page(&query),
        Err(error) => crate::error::ApiError(error).into_response(),
    }
}

/// The consent form's answer: the query is the authorization request, the
/// body's `decision` is `allow` or `deny`.
async fn decide(
    State(services): State<Services>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let decision = match form(&body).remove("decision").as_deref() {
        Some("allow") => Decision::Allow,
        Some("deny") => Decision::Deny,
        _ => return user_error("the form has no decision: choose Allow or Deny"),
    };
    let user = match services.caller(&headers).await {
        Ok(Some(user)) => user,
        Ok(None) => return consent_page(&query),
        Err(error) => return crate::error::ApiError(error).into_response(),
    };
    let pending = match services.oauth.check_authorization(&form(query.as_bytes())).await {
        Ok(Ok(pending)) => pending,
        Ok(Err(Refusal::ToClient { redirect_uri, state, error })) => {
            return to_client(&services, &redirect_uri, state, &error);
        }
        Ok(Err(Refusal::ToUser(error))) => return user_error(&error.description),
        Err(error) => return crate::error::ApiError(error).into_response(),
    };
    match services.oauth.decide(pending, &user, decision).await {
        Ok(location) => no_store(Redirect::to(&location).into_response()),
        Err(error) => crate::error::ApiError(error).into_response(),
    }
}

/// An error redirected to the (verified) client, with `state` and `iss`.
fn to_client(services: &Services, redirect_uri: &str, state: Option<String>, error: &OAuthError) -> Response {
    let location = request::error_redirect(redirect_uri, error, state.as_deref(), &services.oauth.issuer());
    no_store(Redirect::to(&location).into_response())
}

/// An error only the user sees: the client and its redirect URI are not
/// to be trusted, so nothing is redirected.
fn user_error(message: &str) -> Response {
    let body = format!("This sign-in request cannot go on: {message}.\n\nClose this page and try connecting again.");
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}
