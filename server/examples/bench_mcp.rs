//! Benchmark of the hosted MCP engine. Prints figures; asserts nothing.
//!
//!   cargo build --release -p server --bin automcp --example bench_mcp
//!   $CARGO_TARGET_DIR/release/examples/bench_mcp
//!
//! Side by side, in one run, on loopback:
//! - tools/call throughput, latency (p50/p99) and server CPU per call through
//!   `/mcp/{slug}` of a running `automcp` with 1 server mounted, then with
//!   10,000 mounted (calls spread over all slugs), against a minimal
//!   standalone rmcp server with the same tool, at 1 and 16 connections
//!   (its tool answers as the hosted one does: the upstream's JSON as text and
//!   as structured content; a second baseline answers the text only, as
//!   this benchmark's baseline did before 2026-12-04);
//! - time from a deploy request to the first successful call, with 10,000 mounted;
//! - resident memory per mounted server.
//!
//! Every server's tool makes the same GET to one upstream process. Settings:
//! `AUTOMCP_BIN` (default: `automcp` beside this program's directory),
//! `BENCH_SECS` (default 5 per measurement), `BENCH_SERVERS` (default 10000).

use rmcp::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
#[path = "support/memory.rs"]
mod memory;
#[path = "support/automcp.rs"]
mod support;

use memory::status_kib;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Proc, automcp_bin, automcp_command, serve};

/// The same allocator as `automcp`, so the standalone baseline is compared
/// on equal terms.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    match args.get(1).map(String::as_str) {
        Some("upstream") => runtime.block_on(upstream()),
        Some("standalone") => runtime.block_on(standalone(args[2].clone(), args.get(3).is_some_and(|a| a == "text"))),
        _ => runtime.block_on(bench()),
    }
}

/// The API every tool calls: a fixed small JSON answer.
async fn upstream() {
    let app = axum::Router::new().fallback(|| async { axum::Json(serde_json::json!({"ok": true, "n": 42})) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("LISTENING {}", listener.local_addr().unwrap());
    let listener = axum::serve::ListenerExt::tap_io(listener, |s| {
        s.set_nodelay(true).ok();
    });
    axum::serve(listener, app).await.unwrap();
}

/// The baseline: a minimal rmcp server with the same tool (stateless, JSON).
#[derive(Clone)]
struct Minimal {
    http: reqwest::Client,
    url: Arc<str>,
    /// Answer the upstream's body as text only, without parsing it.
    text_only: bool,
}

impl ServerHandler for Minimal {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _: Option<PaginatedRequestParams>,
        _: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let schema = serde_json::json!({"type": "object", "properties": {}});
        Ok(ListToolsResult::with_all_items(vec![Tool::new(
            "ping",
            "GET the upstream",
            Arc::new(schema.as_object().unwrap().clone()),
        )]))
    }

    async fn call_tool(
        &self,
        _: CallToolRequestParams,
        _: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let body =
            self.http.get(&*self.url).send().await.map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let text = body.text().await.map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        if self.text_only {
            return Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into());
        }
        // What a hand-written rmcp tool returns for JSON, and what the hosted
        // server answers: the value as text and as structured content.
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(CallToolResult::structured(value).into())
    }
}

async fn standalone(upstream: String, text_only: bool) {
    let http = reqwest::Client::builder().tcp_nodelay(true).no_proxy().build().unwrap();
    let handler = Minimal { http, url: Arc::from(format!("http://{upstream}/ping")), text_only };
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts();
    let service =
        StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(NeverSessionManager::default()), config);
    let app = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("LISTENING {}", listener.local_addr().unwrap());
    let listener = axum::serve::ListenerExt::tap_io(listener, |s| {
        s.set_nodelay(true).ok();
    });
    axum::serve(listener, app).await.unwrap();
}

/// Starts this program in a helper mode and reads its address from stdout.
fn helper(mode: &[&str]) -> Proc {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("LISTENING ").expect("helper prints its address").to_owned();
    Proc { child, addr }
}

/// Starts `automcp serve` on a fresh data directory.
fn automcp(data: &std::path::Path) -> Proc {
    serve(automcp_command(data))
}

/// utime + stime of a process, in microseconds.
fn cpu_micros(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks * 1_000_000 / 100 // USER_HZ is 100 on Linux
}

struct Figures {
    calls: usize,
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    cpu_per_call_us: f64,
    errors: usize,
}

fn call_body(i: usize) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"ping","arguments":{{}}}}}}"#)
}

/// Calls every URL once, 16 at a time.
async fn warm_up(urls: &[String]) {
    let client = reqwest::Client::builder().tcp_nodelay(true).no_proxy().build().unwrap();
    let mut pending = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let request = client
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(call_body(i))
            .send();
        pending.push(async move { assert!(request.await.unwrap().status().is_success()) });
        if pending.len() == 16 {
            futures_util::future::join_all(pending.drain(..)).await;
        }
    }
    futures_util::future::join_all(pending).await;
}

/// Closed-loop load: `connections` workers POST tools/call for `secs` seconds.
async fn load(pid: u32, urls: Arc<Vec<String>>, connections: usize, secs: u64) -> Figures {
    load_as(pid, urls, connections, secs, None).await
}

/// [`load`] with `Authorization: Bearer <token>` on every call.
async fn load_as(pid: u32, urls: Arc<Vec<String>>, connections: usize, secs: u64, token: Option<String>) -> Figures {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = &token {
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .no_proxy()
        .pool_max_idle_per_host(connections)
        .default_headers(headers)
        .build()
        .unwrap();
    // Warm up connections and caches.
    for i in 0..connections.max(4) * 4 {
        let url = &urls[i % urls.len()];
        client
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(call_body(i))
            .send()
            .await
            .unwrap();
    }
    let cpu_before = cpu_micros(pid);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let client = client.clone();
        let urls = urls.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut i = worker;
            let mut rng = worker as u64 * 7919 + 1;
            while Instant::now() < deadline {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let url = &urls[(rng as usize) % urls.len()];
                let t = Instant::now();
                let response = client
                    .post(url)
                    .header("accept", "application/json, text/event-stream")
                    .header("content-type", "application/json")
                    .body(call_body(i))
                    .send()
                    .await;
                let ok = match response {
                    Ok(r) if r.status().is_success() => r.json::<serde_json::Value>().await.is_ok_and(|v| {
                        v["result"]["content"][0]["text"].as_str().is_some_and(|t| t.contains("42"))
                            && v["result"]["isError"] != true
                    }),
                    _ => false,
                };
                latencies.push(t.elapsed());
                if !ok {
                    errors += 1;
                }
                i += connections;
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_micros(pid) - cpu_before;
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Figures {
        calls: latencies.len(),
        per_sec: latencies.len() as f64 / elapsed,
        p50: pick(0.50),
        p99: pick(0.99),
        cpu_per_call_us: cpu as f64 / latencies.len() as f64,
        errors,
    }
}

fn print(label: &str, f: &Figures) {
    println!(
        "{label:<42} {:>9.0} calls/s  p50 {:>7.3} ms  p99 {:>7.3} ms  server CPU {:>6.1} µs/call  ({} calls, {} errors)",
        f.per_sec,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        f.cpu_per_call_us,
        f.calls,
        f.errors
    );
}

/// An OAuth access token for the `oauth` server `slug`, obtained as a client
/// does: registration, the owner's consent (signed in), code + PKCE.
async fn oauth_access_token(base: &str, slug: &str) -> String {
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const REDIRECT: &str = "http://127.0.0.1:7777/callback";
    let browser =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = [("email", "bench@example.com"), ("password", "correct horse battery staple")];
    let response =
        browser.post(format!("{base}/api/fn/log_in")).header("origin", base).form(&login).send().await.unwrap();
    assert!(response.status().is_success() || response.status().is_redirection(), "log in: {}", response.status());
    let registration = serde_json::json!({"client_name": "bench", "redirect_uris": [REDIRECT]});
    let registered: serde_json::Value =
        browser.post(format!("{base}/oauth/register")).json(&registration).send().await.unwrap().json().await.unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let resource = format!("{base}/mcp/{slug}");
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("resource", &resource),
        ])
        .finish();
    let decided = browser
        .post(format!("{base}/oauth/authorize?{query}"))
        .header("origin", base)
        .form(&[("decision", "allow")])
        .send()
        .await
        .unwrap();
    let location = decided.headers()["location"].to_str().unwrap().to_owned();
    let code = url::Url::parse(&location).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("client_id", &client_id),
        ("code_verifier", VERIFIER),
        ("resource", &resource),
    ];
    let tokens: serde_json::Value =
        browser.post(format!("{base}/oauth/token")).form(&form).send().await.unwrap().json().await.unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

fn spec(slug: &str, upstream: &str) -> serde_json::Value {
    serde_json::json!({
        "name": slug, "slug": slug,
        "tools": [{
            "name": "ping", "description": "GET the upstream",
            "input_schema": {"type": "object", "properties": {}},
            "action": {"method": "GET", "url": format!("http://{upstream}/ping")}
        }]
    })
}

async fn bench() {
    let secs: u64 = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let servers: usize = std::env::var("BENCH_SERVERS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let data = tempfile::tempdir().unwrap();
    let bin = automcp_bin();
    let cli = |args: &[&str], stdin: &str| {
        let mut child = Command::new(&bin)
            .args(args)
            .env("AUTOMCP_DATA_DIR", data.path())
            .env("AUTOMCP_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    cli(
        &["user", "create", "--email", "bench@example.com", "--password-stdin", "--tier", "paid"],
        "correct horse battery staple\n",
    );
    let token = cli(&["token", "create", "--email", "bench@example.com"], "");

    let upstream = helper(&["upstream"]);
    let baseline = helper(&["standalone", &upstream.addr]);
    let text_baseline = helper(&["standalone", &upstream.addr, "text"]);
    let hosted = automcp(data.path());
    let pid = hosted.child.id();
    let api = reqwest::Client::new();
    let base = format!("http://{}", hosted.addr);
    let create_as = |slug: String, client_auth: &'static str| {
        let api = api.clone();
        let base = base.clone();
        let token = token.clone();
        let body = serde_json::json!({
            "spec": spec(&slug, &upstream.addr),
            "client_auth": client_auth,
            "deploy": true,
            "limits": {"calls_per_minute": 1000000, "burst": 1000000, "max_concurrency": 64}
        });
        async move {
            let response =
                api.post(format!("{base}/api/v1/servers")).bearer_auth(&token).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        }
    };
    let create = |slug: String| create_as(slug, "public");

    println!("AutoMCP MCP engine benchmark ({secs} s per measurement, loopback, {} cores)", num_cpus());
    create("s0".into()).await;
    let rss_one = status_kib(pid, "VmRSS:");
    let standalone_url = Arc::new(vec![format!("http://{}/mcp", baseline.addr)]);
    let text_url = Arc::new(vec![format!("http://{}/mcp", text_baseline.addr)]);

    let mut results = Vec::new();
    let mut text_only = Vec::new();
    for connections in [1, 16] {
        // A server per run, each with the highest limits a server may have.
        create(format!("one{connections}")).await;
        let one = Arc::new(vec![format!("{base}/mcp/one{connections}")]);
        let t = load(text_baseline.child.id(), text_url.clone(), connections, secs).await;
        print(&format!("standalone rmcp, text only, c={connections}"), &t);
        let s = load(baseline.child.id(), standalone_url.clone(), connections, secs).await;
        print(&format!("standalone rmcp, c={connections}"), &s);
        let h = load(pid, one, connections, secs).await;
        print(&format!("/mcp/{{slug}}, 1 mounted, c={connections}"), &h);
        results.push((connections, s, h));
        text_only.push(t);
    }

    // The same server behind OAuth: every call's access token is looked up
    // (one indexed query) and checked against the server and its owner's rule.
    create_as("oa".into(), "oauth").await;
    let access = oauth_access_token(&base, "oa").await;
    let oauth_url = Arc::new(vec![format!("{base}/mcp/oa")]);
    let mut oauth = Vec::new();
    for connections in [1, 16] {
        let o = load_as(pid, oauth_url.clone(), connections, secs, Some(access.clone())).await;
        print(&format!("/mcp/{{slug}} with OAuth, c={connections}"), &o);
        oauth.push(o);
    }

    // A server made from an MCP source (the standalone rmcp server above):
    // each call is forwarded over one reused MCP client connection.
    let source: serde_json::Value = api
        .post(format!("{base}/api/v1/mcp-servers"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "bench source", "url": format!("http://{}/mcp", baseline.addr)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fetched: serde_json::Value = api
        .post(format!("{base}/api/v1/mcps/fetch-tools"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"mcp_server_id": source["id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = api
        .post(format!("{base}/api/v1/mcps"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "forwarded", "slug": "fwd", "mcp_server_id": source["id"],
            "client_auth": "public", "tools_cache": fetched["tools"], "tools_filter": ["ping"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    let limits = serde_json::json!({"limits": {"calls_per_minute": 1000000, "burst": 1000000, "max_concurrency": 64}});
    let response = api
        .put(format!("{base}/api/v1/servers/{}", created["mcp"]["id"].as_str().unwrap()))
        .bearer_auth(&token)
        .json(&limits)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let forwarded_url = Arc::new(vec![format!("{base}/mcp/fwd")]);
    let mut forwarded = Vec::new();
    for connections in [1, 16] {
        let f = load(pid, forwarded_url.clone(), connections, secs).await;
        print(&format!("/mcp/{{slug}} forwarding to the standalone, c={connections}"), &f);
        forwarded.push(f);
    }

    let t = Instant::now();
    let mut pending = Vec::new();
    for i in 1..servers {
        pending.push(create(format!("s{i}")));
        if pending.len() == 16 {
            futures_util::future::join_all(pending.drain(..)).await;
        }
    }
    futures_util::future::join_all(pending).await;
    println!("mounted {servers} servers through the API in {:.1} s", t.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_many = status_kib(pid, "VmRSS:");
    let many = Arc::new((0..servers).map(|i| format!("{base}/mcp/s{i}")).collect::<Vec<_>>());
    // One call to every server first: a server compiles its tools' argument
    // schemas on its first call (kept for later calls), which a measurement of
    // steady-state calls should not include.
    let t = Instant::now();
    warm_up(&many).await;
    println!("warm-up: one call to each of {servers} servers in {:.1} s", t.elapsed().as_secs_f64());
    let mut many_results = Vec::new();
    for connections in [1, 16] {
        let m = load(pid, many.clone(), connections, secs).await;
        print(&format!("/mcp/{{slug}}, {servers} mounted (random slug), c={connections}"), &m);
        many_results.push(m);
    }

    // Deploy → first successful call, with everything mounted.
    let mut waits = Vec::new();
    let client = reqwest::Client::builder().tcp_nodelay(true).build().unwrap();
    for i in 0..100 {
        let slug = format!("fresh{i}");
        let t = Instant::now();
        create(slug.clone()).await;
        let deployed = t.elapsed();
        let first = Instant::now();
        loop {
            let r = client
                .post(format!("{base}/mcp/{slug}"))
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .body(call_body(1))
                .send()
                .await
                .unwrap();
            if r.status().is_success() && r.text().await.unwrap().contains("42") {
                break;
            }
        }
        waits.push((deployed, first.elapsed(), t.elapsed()));
    }
    let mut total: Vec<Duration> = waits.iter().map(|w| w.2).collect();
    total.sort();
    let mut after: Vec<Duration> = waits.iter().map(|w| w.1).collect();
    after.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;

    println!();
    println!("== summary ==");
    for ((connections, s, h), m) in results.iter().zip(&many_results) {
        println!(
            "c={connections:<2}: mounted/standalone = {:.2} (target >= 0.90); {servers}/1 mounted = {:.2} (target >= 0.90); CPU hosted/standalone = {:.2}",
            h.per_sec / s.per_sec,
            m.per_sec / h.per_sec,
            h.cpu_per_call_us / s.cpu_per_call_us
        );
    }
    for ((connections, _, h), t) in results.iter().zip(&text_only) {
        println!(
            "c={connections:<2}: against the text-only baseline: mounted/standalone = {:.2}; CPU hosted/standalone = {:.2}",
            h.per_sec / t.per_sec,
            h.cpu_per_call_us / t.cpu_per_call_us
        );
    }
    println!("single-connection p50 through /mcp/{{slug}}: {:.3} ms (target < 1 ms)", ms(results[0].2.p50));
    for ((connections, _, h), o) in results.iter().zip(&oauth) {
        println!(
            "c={connections:<2}: OAuth-protected / public = {:.2} calls/s; p50 +{:.3} ms; server CPU +{:.1} µs/call",
            o.per_sec / h.per_sec,
            ms(o.p50) - ms(h.p50),
            o.cpu_per_call_us - h.cpu_per_call_us
        );
    }
    for ((connections, s, _), f) in results.iter().zip(&forwarded) {
        println!(
            "c={connections:<2}: forwarded through /mcp/{{slug}}: {:.0} calls/s, p50 {:.3} ms, p99 {:.3} ms; \
             added p50 over calling the source directly: {:.3} ms (target <= 0.25 ms)",
            f.per_sec,
            ms(f.p50),
            ms(f.p99),
            ms(f.p50) - ms(s.p50)
        );
    }
    println!(
        "deploy request + first successful call, {servers} mounted: p50 {:.1} ms, p99 {:.1} ms (target p99 <= 50 ms); \
         first call after the deploy answered: p50 {:.2} ms, p99 {:.2} ms",
        ms(total[49]),
        ms(total[98]),
        ms(after[49]),
        ms(after[98])
    );
    println!(
        "memory: RSS {} KiB with 1 mounted, {} KiB with {servers}: {:.1} KiB per mounted server (target <= 16 KB)",
        rss_one,
        rss_many,
        (rss_many.saturating_sub(rss_one)) as f64 / (servers - 1) as f64
    );
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
