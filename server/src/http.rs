//! The HTTP surface: one router for pages, server functions, `/api/v1` and
//! `/healthz`, behind the layers every request passes (request id, logging,
//! size cap, cross-site check, security headers, compression).

pub mod api;
pub mod assets;
pub mod mcps_api;
pub mod middleware;
pub mod oauth_api;
pub mod tokens_api;
pub mod vps_api;

use crate::services::Services;
use app::ssr::SharedBackend;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::sync::Arc;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Largest request body accepted by pages, server functions and the API.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest body for starting a wizard (a pasted 32 MiB OpenAPI document, escaped in JSON).
pub const MAX_DOCUMENT_REQUEST_BYTES: usize = 40 * 1024 * 1024;
/// Largest body for creating or editing a server from an MCP server (it
/// carries every fetched tool definition).
pub const MAX_TOOLS_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub engine: Arc<crate::engine::Engine>,
    pub assets: Arc<assets::Assets>,
}

/// The pages' options. When the build wrote `site/hash.txt`, the pages name
/// the bundle and stylesheet by their content hashes (`automcp.<hash>.wasm`).
pub fn leptos_options(services: &Services) -> LeptosOptions {
    let config = &services.config;
    let site_root = config.site_root();
    let hash_file = site_root.join(app::HASH_FILE);
    LeptosOptions::builder()
        .output_name("automcp")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .hash_files(hash_file.is_file())
        // An absolute path: Leptos joins it to the executable's directory.
        .hash_file(hash_file.to_string_lossy().into_owned().into())
        .site_addr(config.bind)
        .env(if cfg!(debug_assertions) { leptos::config::Env::DEV } else { leptos::config::Env::PROD })
        .build()
}

/// The pages' route list, generated once per process. Generating it runs
/// the app with resource loading suppressed through a process-wide flag
/// (leptos-rs/leptos#4773), so a page rendered by another router in this
/// process at that moment would never finish; several routers in one process
/// (the tests) share this list instead.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::LazyLock<Vec<AxumRouteListing>> =
        std::sync::LazyLock::new(|| generate_route_list(app::App));
    ROUTES.clone()
}

/// Builds the whole application router.
pub fn router(services: Services) -> Router {
    let leptos_options = leptos_options(&services);
    let assets = Arc::new(assets::Assets::load(std::path::Path::new(leptos_options.site_root.as_ref())));
    let state = AppState { leptos_options, services: services.clone(), engine: services.engine.clone(), assets };
    let backend: SharedBackend = Arc::new(services.clone());
    let context = move || provide_context(backend.clone());

    let routes = page_routes();
    let leptos_options = state.leptos_options.clone();
    let shell = move || app::shell(leptos_options.clone());
    let not_found = leptos_axum::render_app_to_stream_with_context(context.clone(), shell.clone());
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, context, shell)
        .fallback(move |State(state): State<AppState>, request: Request<Body>| async move {
            let found = state.assets.respond(request.method(), request.uri().path(), request.headers());
            match found {
                Some(response) => response,
                None => not_found(request).await,
            }
        })
        // Pages and server function answers are per user and per moment;
        // assets say their own (immutable or revalidated).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        ));

    let request_id = HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", id = %id, method = %request.method(), path = %request.uri().path())
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        .on_failure(DefaultOnFailure::new().level(Level::ERROR));

    // The MCP hot path gets only the layers it needs (request id, logging,
    // panic catcher): it checks Host, Origin, tokens and sizes itself.
    let mcp = Router::new()
        .route("/mcp/{slug}", any(crate::engine::dispatch::handle))
        .route("/mcp/{slug}/", any(crate::engine::dispatch::handle))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(trace.clone())
                .layer(PropagateRequestIdLayer::new(request_id.clone())),
        )
        .with_state(state.engine.clone());

    let oauth =
        oauth_api::router(state.services.clone()).layer(CatchPanicLayer::custom(middleware::panic_response)).layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(trace.clone())
                .layer(PropagateRequestIdLayer::new(request_id.clone())),
        );

    Router::new()
        .route("/healthz", get(health))
        .route("/livez", get(|| async { "ok" }))
        .nest("/api/v1", api::router())
        .merge(oauth_api::authorize_routes())
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(state.services.clone(), middleware::write_gate))
        .layer(axum::middleware::from_fn_with_state(state.services.clone(), middleware::cross_site_guard))
        .layer(axum::middleware::from_fn_with_state(state.services.clone(), middleware::client_addr))
        .layer(axum::middleware::from_fn(middleware::server_fn_status))
        .layer(axum::middleware::from_fn(middleware::limit_body))
        // Sizes are enforced per path by `limit_body`; the extractors' own
        // default (2 MB) would refuse pasted OpenAPI documents.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_DOCUMENT_REQUEST_BYTES))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("x-content-type-options"),
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("x-frame-options"),
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    HeaderName::from_static("referrer-policy"),
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(CompressionLayer::new()),
        )
        .with_state(state)
        .merge(mcp)
        .merge(oauth)
}

/// `GET /healthz`: 200 while the database takes writes; 503 (with
/// `Retry-After`) when it is read-only or unavailable, saying which and why
/// (a load balancer's readiness check). Also says which replica answered,
/// how many are live and how many servers it has mounted. (`GET /livez`
/// answers 200 whenever the process serves at all.)
async fn health(axum::extract::State(services): axum::extract::State<Services>) -> axum::response::Response {
    use crate::db::health::{DbState, RETRY_AFTER_SECS};
    let status = services.health.recent_status().await;
    let body = serde_json::json!({
        "status": if status.database == DbState::Ok { "ok" } else { "degraded" },
        "database": status.database,
        "fault": status.fault.map(|f| f.as_str()),
        "since_ms": status.since_ms,
        "log_write_errors": crate::telemetry::write_errors(),
        "backend": services.db.backend(),
        "instance": services.health.instance().id,
        "replicas": services.engine.replicas.get(),
        "mounted": services.engine.mounted(),
    });
    if status.database == DbState::Ok {
        return (StatusCode::OK, axum::Json(body)).into_response();
    }
    let retry = [(axum::http::header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS))];
    (StatusCode::SERVICE_UNAVAILABLE, retry, axum::Json(body)).into_response()
}
