//! A real server on a loopback port with a fresh SQLite file, and a client.
#![allow(dead_code)]

use server::config::{Config, LogFormat};
use server::services::Services;
use server::startup::Server;
use std::net::SocketAddr;
use tempfile::TempDir;

/// No test request waits longer: a hung response fails its test instead of
/// stalling the whole run.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub services: Services,
    /// A browser-like client: keeps cookies, sends our Origin on posts.
    pub client: reqwest::Client,
    dir: Option<TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn test_config(dir: &std::path::Path) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_url: None,
        data_dir: dir.to_path_buf(),
        database_url: None,
        secret_key: None,
        log: "warn".into(),
        log_format: LogFormat::Text,
        site_root: Some(dir.join("site")),
        allow_private_upstreams: false,
        upstream_timeout_secs: 15,
        free_monthly_calls: 10_000,
        vps_binary: Some(env!("CARGO_BIN_EXE_automcp").into()),
        llm_base_url: None,
        llm_api_key: None,
        llm_model: None,
        llm_timeout_secs: 10,
        db_busy_timeout_ms: 1000,
        job_workers: 4,
        trusted_proxies: 0,
        log_ins_per_minute: 1000,
        sign_ups_per_hour: 1000,
        addr_file: None,
        allowed_hosts: Vec::new(),
        extra_ca_file: None,
    }
}

/// The PostgreSQL server the app tests run on instead of SQLite, when
/// `AUTOMCP_TEST_POSTGRES` names one (`postgres://user@host:port`; `.ci/test`
/// starts a throwaway cluster for its PostgreSQL pass). Each app gets a fresh
/// database of its own.
pub fn test_postgres() -> Option<String> {
    std::env::var("AUTOMCP_TEST_POSTGRES").ok().filter(|url| !url.is_empty())
}

/// Says why a test has nothing to check on this backend.
pub fn skip(what: &str) {
    eprintln!("skipped on PostgreSQL: this test checks {what}");
}

/// The shared key every replica of a PostgreSQL deployment must be given.
pub const TEST_SECRET_KEY: &str = "6b6579206f6620746865207465737420726570696c6963617320313233343536";

/// The test PostgreSQL database of a data directory (created on first use,
/// the same one again when an app or process restarts on that directory);
/// `None` when the tests run on SQLite.
pub async fn test_database_url(data_dir: &std::path::Path) -> Option<String> {
    let base = test_postgres()?;
    let marker = data_dir.join("test-database");
    let name = match std::fs::read_to_string(&marker) {
        Ok(name) => name,
        Err(_) => {
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            postgres::create_database(&base, &name).await;
            std::fs::write(&marker, &name).unwrap();
            name
        }
    };
    Some(format!("{}/{name}", base.trim_end_matches('/')))
}

/// The database an app or process on `data_dir` uses, opened beside it.
pub async fn open_database(data_dir: &std::path::Path) -> server::store::Db {
    let url = match test_database_url(data_dir).await {
        Some(url) => url,
        None => format!("sqlite://{}", data_dir.join("automcp.db").display()),
    };
    server::store::Db::connect(&url, std::time::Duration::from_secs(5)).await.unwrap()
}

/// Points the app at a database of its own on the test PostgreSQL.
async fn on_test_backend(config: &mut Config) {
    if let Some(url) = test_database_url(&config.data_dir).await {
        config.database_url = Some(url);
        config.secret_key.get_or_insert_with(|| TEST_SECRET_KEY.to_owned());
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_in(tempfile::tempdir().unwrap(), adjust).await
    }

    /// Starts on an existing data directory (e.g. one left by [`TestApp::stop`]).
    pub async fn spawn_in(dir: TempDir, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = test_config(dir.path());
        on_test_backend(&mut config).await;
        adjust(&mut config);
        let (server, services) = Server::bind(config).await.expect("server starts");
        let addr = server.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run_until(async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap();
        TestApp { addr, services, client, dir: Some(dir), shutdown: Some(tx), task: Some(task) }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.as_ref().expect("the data directory is kept until the app stops").path()
    }

    /// Shuts the server down gracefully and hands back its data directory.
    pub async fn stop(mut self) -> TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        self.services.shutdown().await;
        self.dir.take().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Calls a server function the way the hydrated page does.
    pub async fn server_fn(&self, name: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/fn/{name}")))
            .header("origin", self.origin())
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_up(&self, email: &str, password: &str) -> reqwest::Response {
        self.server_fn("sign_up", &[("email", email), ("password", password)]).await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.server_fn("log_in", &[("email", email), ("password", password)]).await
    }

    /// A GET as a browser sends it (accepting HTML).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).header("accept", "text/html,*/*").send().await.unwrap()
    }

    /// A client with no cookies that, like a browser, accepts HTML.
    pub fn anonymous(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("accept", "text/html,application/json,*/*".parse().unwrap());
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("status {status}: not JSON ({e}): {text}"))
}

pub mod docs;
pub mod interop;
pub mod oauth;
pub mod postgres;
pub mod process;
pub mod runner;
pub mod sql;
pub mod sshd;
pub mod stores;
pub mod upstream;

use app::model::{Tier, UserView};
use rmcp::RoleClient;
use rmcp::model::{CallToolRequestParams, CallToolResult, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

pub type McpClient = RunningService<RoleClient, ()>;

/// Which MCP protocol era a test client speaks.
#[derive(Clone, Copy, Debug)]
pub enum Era {
    /// 2025-11-25: `initialize` handshake.
    Legacy,
    /// 2026-07-28: stateless, `server/discover`.
    Modern,
}

/// An rmcp client connected to `url` (with a bearer token if given).
pub async fn mcp_client(url: &str, token: Option<&str>, era: Era) -> Result<McpClient, String> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(token) = token {
        config = config.auth_header(token.to_owned());
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    let lifecycle = match era {
        Era::Legacy => ClientLifecycleMode::Initialize,
        Era::Modern => ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] },
    };
    let connect = ().serve_with_lifecycle(transport, lifecycle);
    match tokio::time::timeout(std::time::Duration::from_secs(10), connect).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("timed out connecting".into()),
    }
}

pub async fn call(client: &McpClient, tool: &str, args: serde_json::Value) -> Result<CallToolResult, String> {
    let args = args.as_object().cloned().unwrap_or_default();
    client.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args)).await.map_err(|e| e.to_string())
}

/// The text of a tool result's first content block.
pub fn text(result: &CallToolResult) -> String {
    result.content.first().and_then(|c| c.as_text()).map(|t| t.text.clone()).unwrap_or_default()
}

impl TestApp {
    /// A test app whose actions may call loopback upstreams (the SSRF guard's
    /// operator setting on), with a 1 s upstream timeout.
    pub async fn with_local_upstreams() -> Self {
        Self::spawn_with(|c| {
            c.allow_private_upstreams = true;
            c.upstream_timeout_secs = 1;
        })
        .await
    }

    /// An account with an API token.
    pub async fn account(&self, email: &str, tier: Tier) -> (UserView, String) {
        let user = self.services.accounts.create_user(email, PASSWORD, Default::default()).await.unwrap();
        let user = self.services.accounts.set_tier(&user.id, tier).await.unwrap();
        let token = self.services.accounts.create_token(&user.id, "tests").await.unwrap();
        (user, token)
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self.anonymous().request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Creates (and deploys) a server; returns (server id, client token).
    pub async fn deploy(
        &self,
        token: &str,
        spec: serde_json::Value,
        extra: serde_json::Value,
    ) -> (String, Option<String>) {
        let mut body = serde_json::json!({ "spec": spec, "deploy": true });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let response = self.api(reqwest::Method::POST, "/api/v1/servers", token, Some(body)).await;
        let status = response.status();
        let created = json(response).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{created}");
        (created["server"]["id"].as_str().unwrap().to_owned(), created["token"].as_str().map(str::to_owned))
    }

    pub fn mcp_url(&self, slug: &str) -> String {
        self.url(&format!("/mcp/{slug}"))
    }
}

/// A minimal tool spec calling `url` with `method`.
pub fn tool(name: &str, method: &str, url: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "description": format!("{method} {url}"),
        "input_schema": {"type": "object", "properties": {}},
        "action": {"method": method, "url": url},
    })
}

/// A spec with the given tools.
pub fn spec(slug: &str, tools: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({ "name": format!("Server {slug}"), "slug": slug, "tools": tools })
}

pub mod llm;

impl TestApp {
    /// Polls a wizard until its background work is no longer `processing`;
    /// returns every (step, status) seen on the way and the final view.
    pub async fn settle_wizard(&self, token: &str, id: &str) -> (Vec<(String, String)>, serde_json::Value) {
        let mut seen: Vec<(String, String)> = Vec::new();
        for _ in 0..200 {
            let view = json(self.api(reqwest::Method::GET, &format!("/api/v1/wizard/{id}"), token, None).await).await;
            let state =
                (view["step"].as_str().unwrap().to_owned(), view["processing_status"].as_str().unwrap().to_owned());
            if seen.last() != Some(&state) {
                seen.push(state.clone());
            }
            if state.1 != "processing" {
                return (seen, view);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the wizard {id} is still processing after 10 s: {seen:?}");
    }
}

/// An OpenAPI fixture with its server pointed at `upstream`.
pub fn fixture(name: &str, upstream: &std::net::SocketAddr) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openapi").join(name);
    std::fs::read_to_string(path).unwrap().replace("UPSTREAM", &upstream.to_string())
}
