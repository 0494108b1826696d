//! Standalone mode: `automcp run-spec` serves one spec at `/mcp` with the
//! same engine, auth and limits as the hosted service, without a database.
//! This is what a paid server runs on its owner's machine.

use crate::config::Config;
use crate::engine::calllog::CallSink;
use crate::engine::limits::ServerLimits;
use crate::engine::outbound::Outbound;
use crate::engine::{ClientCheck, Engine, HostRules, MountRequest, dispatch};
use anyhow::{Context, bail};
use app::spec::{ServerSpec, SpecLimits, credential_names};
use axum::Router;
use axum::extract::{Request, State};
use axum::routing::{any, get};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Debug, clap::Args)]
pub struct RunSpec {
    /// The server spec (JSON), as stored by AutoMCP.
    #[arg(long)]
    pub spec: PathBuf,
    /// SHA-256 (hex) of the bearer token clients must send.
    #[arg(long, env = "AUTOMCP_SERVER_TOKEN_SHA256", hide_env_values = true)]
    pub token_sha256: Option<String>,
    /// Serve without client authentication (refused unless given explicitly).
    #[arg(long)]
    pub public: bool,
    /// Once listening, write the bound address (`host:port`) to this file
    /// (what a deploy reads when the port was 0).
    #[arg(long)]
    pub addr_file: Option<PathBuf>,
    /// Browser origins (web pages) allowed to call a `--public` server, or
    /// `*` for any; servers with a token take any origin (comma-separated).
    #[arg(long = "allowed-origin", env = "AUTOMCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
}

/// Writes the bound address to `path` atomically (a reader never sees half).
pub fn write_addr_file(path: &std::path::Path, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let part = path.with_extension("part");
    std::fs::write(&part, addr.to_string()).with_context(|| format!("could not write {}", part.display()))?;
    std::fs::rename(&part, path).with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}

/// The environment variable that carries credential `name`.
pub fn credential_env(name: &str) -> String {
    format!("AUTOMCP_CREDENTIAL_{}", name.to_ascii_uppercase().replace('-', "_"))
}

/// Loads the spec and credentials and builds the engine with the one server
/// mounted. `env` looks variables up (the process environment in `main`).
pub fn prepare(
    config: &Config,
    args: &RunSpec,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<(Arc<Engine>, String)> {
    let text =
        std::fs::read_to_string(&args.spec).with_context(|| format!("could not read {}", args.spec.display()))?;
    let spec: ServerSpec =
        serde_json::from_str(&text).with_context(|| format!("{} is not a valid server spec", args.spec.display()))?;
    let client = match (&args.token_sha256, args.public) {
        (Some(_), true) => bail!("give either --public or a token hash, not both"),
        (None, false) => bail!(
            "no client authentication: set AUTOMCP_SERVER_TOKEN_SHA256 (or --token-sha256) to the SHA-256 of the \
             bearer token clients will send, or pass --public to serve without one"
        ),
        (None, true) => ClientCheck::Public,
        (Some(hex), false) => {
            let bytes = hex::decode(hex.trim()).context("the token hash must be 64 hexadecimal characters")?;
            let Ok(hash) = <[u8; 32]>::try_from(bytes.as_slice()) else {
                bail!("the token hash must be 64 hexadecimal characters (32 bytes)");
            };
            ClientCheck::Bearer(hash)
        }
    };
    let mut secrets = HashMap::new();
    let mut missing = Vec::new();
    for name in credential_names(&spec) {
        match env(&credential_env(&name)) {
            Some(value) => {
                secrets.insert(name, value);
            }
            None => missing.push(credential_env(&name)),
        }
    }
    if !missing.is_empty() {
        bail!("the spec's actions need credentials; set {}", missing.join(", "));
    }
    let public_url = config.public_url();
    let outbound = Outbound::from_config(config)?;
    let allowed_origins = app::origins::check_allowed_origins(&args.allowed_origins)
        .map_err(|error| anyhow::anyhow!("--allowed-origin: {error}"))?;
    let engine = Arc::new(Engine::new(outbound, CallSink::Log, HostRules::new(&public_url, &config.allowed_hosts)));
    let slug = spec.slug.clone();
    engine
        .mount(MountRequest {
            server_id: slug.clone(),
            owner_id: "standalone".into(),
            spec,
            forward: None,
            spec_limits: SpecLimits::UNLIMITED,
            secrets,
            client,
            allowed_origins,
            limits: ServerLimits::PAID,
            monthly_quota: None,
            version: 0,
        })
        .map_err(|issues| {
            let list: Vec<String> = issues.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the spec has problems:\n  {}", list.join("\n  "))
        })?;
    Ok((engine, slug))
}

#[derive(Clone)]
struct Standalone {
    engine: Arc<Engine>,
    slug: Arc<str>,
}

/// `/mcp` and `/healthz` for one mounted server.
pub fn router(engine: Arc<Engine>, slug: String) -> Router {
    let state = Standalone { engine, slug: Arc::from(slug) };
    Router::new()
        .route("/mcp", any(mcp))
        .route("/mcp/", any(mcp))
        .route("/healthz", get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }))
        .with_state(state)
}

async fn mcp(State(state): State<Standalone>, request: Request) -> axum::response::Response {
    match state.engine.get(&state.slug) {
        Some(mount) => dispatch::serve(&state.engine.hosts, None, &mount, request).await,
        None => {
            dispatch::rpc_error(axum::http::StatusCode::NOT_FOUND, dispatch::INVALID_REQUEST, "no server is mounted")
        }
    }
}
