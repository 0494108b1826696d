//! Request guards that apply to every route.

use crate::error::json_error;
use crate::services::Services;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses bodies over [`super::MAX_BODY_BYTES`] with a JSON 413, up front when
/// `Content-Length` says so and while reading when it does not.
pub async fn limit_body(request: Request, next: Next) -> Response {
    // `/mcp/` has its own, larger cap and JSON-RPC errors (engine::dispatch).
    if request.uri().path().starts_with("/mcp/") {
        return next.run(request).await;
    }
    // Starting a wizard may carry a pasted OpenAPI document (up to 32 MiB, escaped in JSON).
    let path = request.uri().path();
    let limit = match path {
        "/api/v1/wizard" | "/api/fn/wizard/start" => super::MAX_DOCUMENT_REQUEST_BYTES,
        // Creating or editing a server from an MCP server carries its tool definitions.
        _ if path.starts_with("/api/v1/mcps") || path.starts_with("/api/fn/mcps/") => super::MAX_TOOLS_REQUEST_BYTES,
        _ => super::MAX_BODY_BYTES,
    };
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared
        && length > limit as u64
    {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body is {length} bytes; the limit is {} KiB", limit / 1024),
        );
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

/// Gives server-function errors their proper status.
///
/// Our server functions set the status of the errors they return, but errors
/// raised before our code runs (a missing or malformed argument) leave the
/// framework's default 500. Their body is still our `AppError` as JSON, so
/// read it and answer with the status it names: bad input is a 4xx.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/fn/") {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1024 * 1024).await else {
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server's answer could not be read");
    };
    if let Ok(error) = serde_json::from_slice::<app::model::AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Answers a panicking handler with a plain JSON 500 instead of a dropped
/// connection; the panic itself is logged, never shown.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("<non-text panic>");
    tracing::error!(panic = detail, "handler panicked");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "something went wrong on our side and it has been logged; please try again",
    )
}

/// Cross-site request forgery guard for state-changing requests.
///
/// Browsers attach the session cookie to cross-site form posts, so a POST
/// (or PUT, PATCH, DELETE) is only accepted when the browser says it comes
/// from our own pages: `Sec-Fetch-Site: same-origin` (or `none`, typed by the
/// user), or else an `Origin` equal to our public origin or to the origin of
/// the `Host` it was sent to. Requests that authenticate with a bearer token
/// carry no ambient credential and are not checked; nor are requests with
/// neither header, which do not come from a browser.
pub async fn cross_site_guard(State(services): State<Services>, request: Request, next: Next) -> Response {
    // MCP endpoints check Origin themselves, against the public URL only.
    if request.method().is_safe()
        || request.headers().contains_key(header::AUTHORIZATION)
        || request.uri().path().starts_with("/mcp/")
    {
        return next.run(request).await;
    }
    match cross_site_verdict(request.headers(), &services.config.public_origin(), services.config.public_url().scheme())
    {
        Ok(()) => next.run(request).await,
        Err(reason) => {
            tracing::warn!(%reason, "cross-site request refused");
            json_error(StatusCode::FORBIDDEN, "forbidden", format!("cross-site request refused: {reason}"))
        }
    }
}

/// The pure part of [`cross_site_guard`].
pub fn cross_site_verdict(headers: &HeaderMap, public_origin: &str, scheme: &str) -> Result<(), String> {
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("<not text>").to_owned());
    if let Some(site) = text("sec-fetch-site") {
        return match site.as_str() {
            "same-origin" | "none" => Ok(()),
            other => Err(format!("the browser reports it was sent from another site (Sec-Fetch-Site: {other})")),
        };
    }
    if let Some(origin) = text("origin") {
        let host_origin = text("host").map(|host| format!("{scheme}://{host}"));
        if origin == public_origin || Some(&origin) == host_origin.as_ref() {
            return Ok(());
        }
        return Err(format!("Origin `{origin}` is not this site ({public_origin})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn verdict(pairs: &[(&'static str, &'static str)]) -> Result<(), String> {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.insert(*k, HeaderValue::from_static(v));
        }
        cross_site_verdict(&headers, "http://127.0.0.1:3000", "http")
    }

    #[test]
    fn same_origin_requests_pass() {
        assert!(verdict(&[("sec-fetch-site", "same-origin")]).is_ok());
        assert!(verdict(&[("sec-fetch-site", "none")]).is_ok());
        assert!(verdict(&[("origin", "http://127.0.0.1:3000")]).is_ok());
        assert!(verdict(&[("origin", "http://localhost:3000"), ("host", "localhost:3000")]).is_ok());
        assert!(verdict(&[]).is_ok(), "non-browser clients send neither header");
    }

    #[test]
    fn cross_site_requests_are_refused() {
        assert!(verdict(&[("sec-fetch-site", "cross-site")]).unwrap_err().contains("cross-site"));
        assert!(verdict(&[("sec-fetch-site", "same-site")]).is_err());
        assert!(verdict(&[("origin", "https://evil.example")]).unwrap_err().contains("evil.example"));
        assert!(verdict(&[("origin", "null")]).is_err());
        // Sec-Fetch-Site wins over a forged-looking but matching Origin.
        assert!(verdict(&[("sec-fetch-site", "cross-site"), ("origin", "http://127.0.0.1:3000")]).is_err());
    }
}

/// Server functions that only read: they stay open while the database
/// cannot be written. Every other server function writes.
const READ_ONLY_FUNCTIONS: &[&str] = &[
    "current_user",
    "list_users",
    "wizard/get",
    "wizard/progress",
    "wizard/unfinished",
    "servers/list",
    "servers/get",
    "servers/calls",
    "servers/test",
    "servers/playground",
    "sources/list",
    "mcps/fetch-tools",
    "mcps/get",
    "mcps/refresh-tools",
    "vps/targets",
    "vps/check",
    "vps/hosting",
    "vps/logs",
    "vps/operation",
    "tokens/list",
];

/// Whether a request changes stored data (and so needs the database to
/// take writes). Pages and `/mcp` never do: tool calls record their log in
/// the background.
pub fn needs_write(method: &axum::http::Method, path: &str) -> bool {
    if let Some(function) = path.strip_prefix("/api/fn/") {
        return !READ_ONLY_FUNCTIONS.contains(&function);
    }
    path.starts_with("/api/v1/") && !method.is_safe() && path != "/api/v1/mcps/fetch-tools"
}

/// While the database cannot be written, answers requests that would write
/// with 503 and `Retry-After` at once (instead of each waiting for a lock
/// and failing). Reads go on. Runs every request with the health as the one
/// storage faults are reported to.
pub async fn write_gate(State(services): State<Services>, request: Request, next: Next) -> Response {
    let health = services.health.clone();
    if needs_write(request.method(), request.uri().path())
        && let Err(error) = health.writable()
    {
        return app_error_response(request.uri().path(), error);
    }
    crate::db::health::scope(health, next.run(request)).await
}

/// An `AppError` in the shape the path's clients read: server functions get
/// the error itself, `/api/v1` gets `{"error": …}`.
pub fn app_error_response(path: &str, error: app::model::AppError) -> Response {
    if path.starts_with("/api/fn/") {
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = error.retry_after();
        let mut response = (status, axum::Json(error)).into_response();
        if let Some(seconds) = retry {
            response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        }
        return response;
    }
    crate::error::ApiError(error).into_response()
}

/// Records the client's address for the handlers ([`app::ssr::ClientAddr`]):
/// the connection's peer, or with `AUTOMCP_TRUSTED_PROXIES` = N, the Nth
/// address from the right of `X-Forwarded-For`.
pub async fn client_addr(State(services): State<Services>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip());
    let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    if let Some(addr) = client_ip(peer, forwarded, services.config.trusted_proxies) {
        request.extensions_mut().insert(app::ssr::ClientAddr(addr));
    }
    next.run(request).await
}

/// The pure part of [`client_addr`].
pub fn client_ip(
    peer: Option<std::net::IpAddr>,
    forwarded_for: Option<&str>,
    trusted_proxies: usize,
) -> Option<std::net::IpAddr> {
    if trusted_proxies == 0 {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for.unwrap_or_default().split(',').map(str::trim).collect();
    // The rightmost entries were added by our proxies; the one before them is the client.
    hops.len().checked_sub(trusted_proxies).and_then(|i| hops.get(i)).and_then(|hop| hop.parse().ok()).or(peer)
}

#[cfg(test)]
mod gate_tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn writes_are_told_from_reads() {
        assert!(needs_write(&Method::POST, "/api/v1/servers"));
        assert!(needs_write(&Method::DELETE, "/api/v1/tokens/x"));
        assert!(!needs_write(&Method::GET, "/api/v1/servers"));
        assert!(!needs_write(&Method::POST, "/api/v1/mcps/fetch-tools"));
        assert!(needs_write(&Method::POST, "/api/fn/log_in"));
        assert!(needs_write(&Method::POST, "/api/fn/wizard/start"));
        assert!(!needs_write(&Method::POST, "/api/fn/servers/list"));
        assert!(!needs_write(&Method::POST, "/mcp/weather"));
        assert!(!needs_write(&Method::GET, "/dashboard"));
    }

    #[test]
    fn the_client_address_comes_from_the_peer_or_a_trusted_proxy() {
        let peer = Some("10.0.0.1".parse().unwrap());
        assert_eq!(client_ip(peer, Some("198.51.100.9"), 0), peer);
        assert_eq!(client_ip(peer, Some("203.0.113.5, 198.51.100.9"), 1), Some("198.51.100.9".parse().unwrap()));
        assert_eq!(client_ip(peer, Some("203.0.113.5, 198.51.100.9"), 2), Some("203.0.113.5".parse().unwrap()));
        assert_eq!(client_ip(peer, Some("203.0.113.5"), 3), peer, "fewer hops than proxies: the peer");
        assert_eq!(client_ip(peer, Some("not an ip"), 1), peer);
    }
}
