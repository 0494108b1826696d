//! Request guards that apply to every route.

use crate::error::json_error;
use crate::services::Services;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// Refuses bodies over [`super::MAX_BODY_BYTES`] with a JSON 413, up front when
/// `Content-Length` says so and while reading when it does not.
pub async fn limit_body(request: Request, next: Next) -> Response {
    // `/mcp/` has its own, larger cap and JSON-RPC errors (engine::dispatch).
    if request.uri().path().starts_with("/mcp/") {
        return next.run(request).await;
    }
    // Starting a wizard may carry a pasted OpenAPI document (up to 5 MB).
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
