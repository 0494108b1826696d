//! `ANY /mcp/{slug}`: the one handler in front of every mounted server.
//!
//! It looks the slug up in the routing table (lock-free), checks Host,
//! Origin, the client token and the body size, then hands the request to
//! that server's rmcp service. Errors are JSON-RPC error objects (no id).

use super::{ClientCheck, Engine, HostRules, Mount};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

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
        return rpc_error(StatusCode::NOT_FOUND, -32601, format!("no MCP server is live at /mcp/{slug}"));
    };
    serve(&engine.hosts, &mount, request).await
}

/// Why a request was turned away before reaching the server.
struct Refused {
    status: StatusCode,
    message: String,
    challenge: Option<&'static str>,
}

impl Refused {
    fn into_response(self) -> Response {
        let code = if self.status == StatusCode::UNAUTHORIZED { -32001 } else { -32600 };
        let mut response = rpc_error(self.status, code, self.message);
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

/// Checks a request against a mount and serves it. Shared with standalone mode.
pub async fn serve(hosts: &HostRules, mount: &Mount, request: Request) -> Response {
    let checked =
        check_host_and_origin(hosts, request.headers()).and_then(|()| check_client(&mount.client, request.headers()));
    if let Err(refused) = checked {
        return refused.into_response();
    }
    let limit = super::mcp::MAX_MCP_BODY_BYTES;
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return rpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            -32600,
            format!("request body is larger than the {} KiB limit", limit / 1024),
        );
    }
    // Read the body here (it is small), so a chunked body over the cap is a
    // 413 like a declared one, not an error deep inside the MCP service.
    let (parts, body) = request.into_parts();
    let bytes = match http_body_util::BodyExt::collect(http_body_util::Limited::new(body, limit)).await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            return rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                format!("request body is larger than the {} KiB limit", limit / 1024),
            );
        }
        Err(error) => {
            return rpc_error(StatusCode::BAD_REQUEST, -32700, format!("the request body could not be read: {error}"));
        }
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    mount.service.handle(request).await.map(Body::new)
}

fn check_host_and_origin(hosts: &HostRules, headers: &HeaderMap) -> Result<(), Refused> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !host.eq_ignore_ascii_case(&hosts.authority) {
        return Err(Refused {
            status: StatusCode::FORBIDDEN,
            message: format!(
                "Host `{host}` is not this server's ({}): refused to prevent DNS rebinding",
                hosts.authority
            ),
            challenge: None,
        });
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("<not text>");
        if !origin.eq_ignore_ascii_case(&hosts.origin) {
            return Err(Refused {
                status: StatusCode::FORBIDDEN,
                message: format!("Origin `{origin}` is not allowed to call this server"),
                challenge: None,
            });
        }
    }
    Ok(())
}

fn check_client(check: &ClientCheck, headers: &HeaderMap) -> Result<(), Refused> {
    let ClientCheck::Bearer(expected) = check else {
        return Ok(());
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let (message, challenge) = match presented {
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
    Err(Refused { status: StatusCode::UNAUTHORIZED, message: message.to_owned(), challenge: Some(challenge) })
}
