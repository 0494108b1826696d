//! `ANY /mcp/{slug}` (and `/mcp/{slug}/`): the one handler in front of
//! every mounted server.
//!
//! It looks the slug up in the routing table (lock-free), checks Host,
//! Origin (answering CORS preflights), the client token and the body, then
//! hands the request to that server's rmcp service. Every failure is a
//! JSON-RPC error object (no id), whatever refused the request.

use super::access::{HostRules, cors_headers, is_preflight, preflight_headers};
use super::caller::{AccessTokens, GateRefusal, OAuthCaller, OAuthGate};
use super::{ClientCheck, Engine, Mount};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// JSON-RPC codes for requests refused before they reach a server.
pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
pub const UNAUTHORIZED: i32 = -32001;

/// A JSON-RPC error response without a request id.
pub fn rpc_error(status: StatusCode, code: i32, message: impl Into<String>) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message.into() },
    });
    (status, axum::Json(body)).into_response()
}

pub async fn handle(State(engine): State<Arc<Engine>>, Path(slug): Path<String>, request: Request) -> Response {
    let Some(mount) = engine.get(&slug) else {
        return rpc_error(StatusCode::NOT_FOUND, INVALID_REQUEST, format!("no MCP server is live at /mcp/{slug}"));
    };
    serve(&engine.hosts, engine.access_tokens(), &mount, request).await
}

/// Why a request was turned away before reaching the server.
struct Refused {
    status: StatusCode,
    code: i32,
    message: String,
    challenge: Option<String>,
}

impl Refused {
    fn new(status: StatusCode, code: i32, message: impl Into<String>) -> Self {
        Refused { status, code, message: message.into(), challenge: None }
    }

    fn into_response(self) -> Response {
        let mut response = rpc_error(self.status, self.code, self.message);
        if let Some(value) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// Checks a request against a mount and serves it. Shared with standalone
/// mode (which has no OAuth: `tokens` is `None` there).
pub async fn serve(hosts: &HostRules, tokens: Option<&dyn AccessTokens>, mount: &Mount, request: Request) -> Response {
    if let Err(refused) = check_host(hosts, request.headers()) {
        return refused.into_response();
    }
    let origin = match check_origin(hosts, mount, request.headers()) {
        Ok(origin) => origin,
        Err(refused) => return refused.into_response(),
    };
    if is_preflight(request.method(), request.headers()) {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Some(origin) = &origin {
            preflight_headers(origin, request.headers(), response.headers_mut());
        }
        return response;
    }
    let mut response = match admit(mount, tokens, request).await {
        Ok(request) => as_json_rpc(mount.service.handle(request).await.map(Body::new)).await,
        Err(refused) => refused.into_response(),
    };
    if let Some(origin) = &origin {
        cors_headers(origin, response.headers_mut());
    }
    response
}

/// The client token, then the body: size-capped and valid JSON. An OAuth
/// caller rides on the request to the call log.
async fn admit(mount: &Mount, tokens: Option<&dyn AccessTokens>, mut request: Request) -> Result<Request, Refused> {
    if let Some(caller) = check_client(&mount.client, tokens, request.headers()).await? {
        request.extensions_mut().insert(caller);
    }
    let limit = super::mcp::max_body_bytes(&mount.live);
    let too_large = || {
        Refused::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            INVALID_REQUEST,
            format!("request body is larger than the {} KiB limit", limit / 1024),
        )
    };
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // Read the body here (it is small), so a chunked body over the cap is a
    // 413 like a declared one, and bad JSON a parse error.
    let (parts, body) = request.into_parts();
    let bytes = match BodyExt::collect(Limited::new(body, limit)).await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(error) => {
            return Err(Refused::new(
                StatusCode::BAD_REQUEST,
                PARSE_ERROR,
                format!("the request body could not be read: {error}"),
            ));
        }
    };
    if parts.method == axum::http::Method::POST
        && let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)
    {
        return Err(Refused::new(StatusCode::BAD_REQUEST, PARSE_ERROR, format!("the body is not valid JSON: {error}")));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// rmcp answers some refusals (wrong method, content type, headers) with
/// plain text: those become JSON-RPC errors with the same status.
async fn as_json_rpc(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if status.is_success() || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match BodyExt::collect(Limited::new(body, 8 * 1024)).await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let message = String::from_utf8_lossy(&text).trim().to_owned();
    let message = if message.is_empty() { status.canonical_reason().unwrap_or("refused").to_owned() } else { message };
    let mut rewritten = rpc_error(status, INVALID_REQUEST, message);
    for name in [header::ALLOW, header::WWW_AUTHENTICATE] {
        if let Some(value) = parts.headers.get(&name) {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}

fn check_host(hosts: &HostRules, headers: &HeaderMap) -> Result<(), Refused> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if hosts.allows(host) {
        return Ok(());
    }
    Err(Refused::new(
        StatusCode::FORBIDDEN,
        INVALID_REQUEST,
        format!(
            "Host `{host}` is not one this server answers to ({}): refused to prevent DNS rebinding; \
             the operator can add it to AUTOMCP_ALLOWED_HOSTS",
            hosts.describe()
        ),
    ))
}

/// `Ok(Some(origin))` for a browser request that may go on (it gets CORS
/// headers), `Ok(None)` without an Origin.
fn check_origin(hosts: &HostRules, mount: &Mount, headers: &HeaderMap) -> Result<Option<HeaderValue>, Refused> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(None) };
    let text = origin.to_str().unwrap_or("<not text>");
    let requires_token = !matches!(mount.client, ClientCheck::Public);
    if app::origins::origin_allowed(text, &hosts.origin, requires_token, &mount.allowed_origins) {
        return Ok(Some(origin.clone()));
    }
    Err(Refused::new(
        StatusCode::FORBIDDEN,
        INVALID_REQUEST,
        format!(
            "Origin `{text}` may not call this public server from a browser; its owner can allow the origin \
             in the server's connection settings"
        ),
    ))
}

async fn check_client(
    check: &ClientCheck,
    tokens: Option<&dyn AccessTokens>,
    headers: &HeaderMap,
) -> Result<Option<Arc<OAuthCaller>>, Refused> {
    match check {
        ClientCheck::Public => Ok(None),
        ClientCheck::Bearer(expected) => check_bearer(expected, headers).map(|()| None),
        ClientCheck::OAuth(gate) => check_oauth(gate, tokens, headers).await.map(Some),
    }
}

/// The token after `Bearer `, if the request carries one.
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
}

fn check_bearer(expected: &[u8; 32], headers: &HeaderMap) -> Result<(), Refused> {
    let (message, challenge) = match presented_token(headers) {
        None => (
            "this MCP server requires `Authorization: Bearer <token>` (the token shown when it was deployed)",
            "Bearer realm=\"automcp\"",
        ),
        Some(token) => {
            let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            if bool::from(digest.ct_eq(expected)) {
                return Ok(());
            }
            ("the bearer token is not valid for this server", "Bearer realm=\"automcp\", error=\"invalid_token\"")
        }
    };
    Err(Refused { challenge: Some(challenge.into()), ..Refused::new(StatusCode::UNAUTHORIZED, UNAUTHORIZED, message) })
}

/// An OAuth access token issued for this server, held by an account its
/// owner lets connect. Every 401 names the Protected Resource Metadata, so
/// a client can find where to sign in (RFC 9728 §5.1).
async fn check_oauth(
    gate: &OAuthGate,
    tokens: Option<&dyn AccessTokens>,
    headers: &HeaderMap,
) -> Result<Arc<OAuthCaller>, Refused> {
    let refuse = |message: &str, invalid: bool| Refused {
        challenge: Some(gate.challenge(invalid.then_some(message))),
        ..Refused::new(StatusCode::UNAUTHORIZED, UNAUTHORIZED, message)
    };
    let Some(token) = presented_token(headers) else {
        return Err(refuse("this MCP server uses OAuth: connect with a client that signs in", false));
    };
    let Some(tokens) = tokens else {
        return Err(Refused::new(StatusCode::SERVICE_UNAVAILABLE, UNAUTHORIZED, "OAuth is not available here"));
    };
    let caller = match tokens.caller(token).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return Err(refuse("the access token is not valid (expired, revoked or unknown)", true)),
        Err(error) => {
            tracing::warn!(%error, "access token lookup failed");
            return Err(Refused::new(
                StatusCode::SERVICE_UNAVAILABLE,
                UNAUTHORIZED,
                "the access token could not be checked right now; try again shortly",
            ));
        }
    };
    match gate.admit(&caller) {
        Ok(()) => Ok(caller),
        Err(GateRefusal::OtherServer) => Err(refuse("the access token was issued for another server", true)),
        Err(GateRefusal::NotAllowed) => Err(refuse("the server's owner does not let this account connect", true)),
    }
}
