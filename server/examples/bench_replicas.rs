//! Benchmark of AutoMCP as several replicas on PostgreSQL. Prints figures;
//! asserts nothing.
//!
//!   cargo build --release -p server --bin automcp --example bench_replicas
//!   $CARGO_TARGET_DIR/release/examples/bench_replicas
//!
//! On loopback, on this machine: tools/call throughput (16 connections,
//! calls spread over the replicas as a load balancer would) through 1
//! replica on SQLite, then 1, 2 and 3 replicas on one PostgreSQL (a
//! throwaway cluster from `.ci/postgres`); and the time from a deploy
//! through replica A to the first successful call through replica B (p50,
//! p99 of 100). Settings: `AUTOMCP_BIN` (default: `automcp` beside this
//! program's directory), `BENCH_SECS` (default 5 per measurement).

#[path = "support/automcp.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Proc, automcp_command, serve};

const KEY: &str = "62656e63686d61726b206b6579206f6620746865207265706c69636173212121";
const CONNECTIONS: usize = 16;

/// `automcp` with `data` and, for PostgreSQL, the database URL and shared key.
fn command(data: &Path, database: Option<&str>) -> Command {
    let mut command = automcp_command(data);
    command.env_remove("AUTOMCP_DATABASE_URL");
    if let Some(url) = database {
        command.env("AUTOMCP_DATABASE_URL", url).env("AUTOMCP_SECRET_KEY", KEY);
    }
    command
}

/// A paid account and its API token, made with the operator commands.
fn account(data: &Path, database: Option<&str>) -> String {
    let run = |args: &[&str], stdin: &str| {
        let mut child =
            command(data, database).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "automcp {args:?} failed");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let email = "bench@example.com";
    run(&["user", "create", "--email", email, "--password-stdin", "--tier", "paid"], "correct horse battery staple\n");
    run(&["token", "create", "--email", email], "")
}

/// A throwaway PostgreSQL cluster (stopped when dropped).
struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

fn postgres_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/postgres")
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::Builder::new().prefix("automcp-bench-pg").tempdir().unwrap();
        let out = Command::new(postgres_script()).arg("start").arg(dir.path().join("pg")).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let server = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let create = Command::new("psql")
            .args([&format!("{server}/postgres"), "-qc", "create database automcp"])
            .status()
            .unwrap();
        assert!(create.success(), "create the database (psql)");
        Cluster { url: format!("{server}/automcp"), dir }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        Command::new(postgres_script()).arg("stop").arg(self.dir.path().join("pg")).status().ok();
    }
}

async fn upstream() -> String {
    let app = axum::Router::new().fallback(|| async { axum::Json(serde_json::json!({"ok": true, "n": 42})) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().tcp_nodelay(true).no_proxy().pool_max_idle_per_host(CONNECTIONS).build().unwrap()
}

async fn create(base: &str, token: &str, slug: &str, upstream: &str) {
    let body = serde_json::json!({
        "spec": {"name": slug, "slug": slug, "tools": [{"name": "ping", "description": "GET the upstream",
            "input_schema": {"type": "object", "properties": {}},
            "action": {"method": "GET", "url": format!("http://{upstream}/ping")}}]},
        "client_auth": "public",
        "deploy": true,
        "limits": {"calls_per_minute": 1000000, "burst": 1000000, "max_concurrency": 64}
    });
    let response = client().post(format!("{base}/api/v1/servers")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

/// One tools/call; whether it answered the upstream's 42.
async fn call(client: &reqwest::Client, url: &str) -> bool {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ping","arguments":{}}}"#;
    let response = client
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => r.text().await.is_ok_and(|text| text.contains("42")),
        _ => false,
    }
}

/// Closed-loop load over `urls` (round robin per connection): calls per second and errors.
async fn load(urls: Vec<String>, secs: u64) -> (f64, usize) {
    let urls = Arc::new(urls);
    let client = client();
    for url in urls.iter() {
        for _ in 0..CONNECTIONS {
            call(&client, url).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let workers = (0..CONNECTIONS).map(|worker| {
        let (client, urls) = (client.clone(), urls.clone());
        tokio::spawn(async move {
            let (mut calls, mut errors, mut i) = (0usize, 0usize, worker);
            while Instant::now() < deadline {
                if !call(&client, &urls[i % urls.len()]).await {
                    errors += 1;
                }
                calls += 1;
                i += 1;
            }
            (calls, errors)
        })
    });
    let (mut calls, mut errors) = (0, 0);
    for worker in futures_util::future::join_all(workers).await {
        let (c, e) = worker.unwrap();
        calls += c;
        errors += e;
    }
    (calls as f64 / started.elapsed().as_secs_f64(), errors)
}

/// Deploy through `a`, then call through `b` until it answers: (from the
/// request, from the deploy's answer), for `rounds` fresh servers.
async fn propagation(a: &str, b: &str, token: &str, upstream: &str, rounds: usize) -> Vec<(Duration, Duration)> {
    let client = client();
    let mut waits = Vec::new();
    for i in 0..rounds {
        let slug = format!("fresh{i}");
        let asked = Instant::now();
        create(a, token, &slug, upstream).await;
        let answered = Instant::now();
        while !call(&client, &format!("{b}/mcp/{slug}")).await {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        waits.push((asked.elapsed(), answered.elapsed()));
    }
    waits
}

fn percentile(mut values: Vec<Duration>, q: f64) -> f64 {
    values.sort();
    values[((values.len() as f64 * q) as usize).min(values.len() - 1)].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("AutoMCP replicas benchmark ({secs} s per measurement, c={CONNECTIONS}, loopback, {cores} cores)");
    let upstream = upstream().await;

    let sqlite_data = tempfile::tempdir().unwrap();
    let token = account(sqlite_data.path(), None);
    let sqlite = serve(command(sqlite_data.path(), None));
    let base = format!("http://{}", sqlite.addr);
    create(&base, &token, "s0", &upstream).await;
    let (baseline, errors) = load(vec![format!("{base}/mcp/s0")], secs).await;
    println!("1 replica on SQLite:      {baseline:>8.0} calls/s ({errors} errors)");
    drop(sqlite);

    let cluster = Cluster::start();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let token = account(dirs[0].path(), Some(&cluster.url));
    let mut replicas: Vec<Proc> = Vec::new();
    let mut figures = Vec::new();
    for n in 1..=3 {
        replicas.push(serve(command(dirs[n - 1].path(), Some(&cluster.url))));
        let bases: Vec<String> = replicas.iter().map(|r| format!("http://{}", r.addr)).collect();
        if n == 1 {
            create(&bases[0], &token, "s0", &upstream).await;
        }
        // Every replica has counted the others (they share rate limits).
        tokio::time::sleep(Duration::from_secs(6)).await;
        let (rate, errors) = load(bases.iter().map(|b| format!("{b}/mcp/s0")).collect(), secs).await;
        println!(
            "{n} replica(s) on PostgreSQL: {rate:>8.0} calls/s ({errors} errors), {:.2}× one replica on SQLite",
            rate / baseline
        );
        figures.push(rate);
    }

    let bases: Vec<String> = replicas.iter().map(|r| format!("http://{}", r.addr)).collect();
    let waits = propagation(&bases[0], &bases[1], &token, &upstream, 100).await;
    let from_request: Vec<Duration> = waits.iter().map(|w| w.0).collect();
    let from_answer: Vec<Duration> = waits.iter().map(|w| w.1).collect();

    println!();
    println!("== summary ==");
    println!(
        "throughput on PostgreSQL, 1/2/3 replicas: {:.0} / {:.0} / {:.0} calls/s = {:.2} / {:.2} / {:.2}× SQLite ({baseline:.0})",
        figures[0],
        figures[1],
        figures[2],
        figures[0] / baseline,
        figures[1] / baseline,
        figures[2] / baseline
    );
    println!(
        "deploy on A → first successful call on B: p50 {:.1} ms, p99 {:.1} ms from the request (target p99 <= 1000 ms); \
         after the deploy's answer: p50 {:.1} ms, p99 {:.1} ms",
        percentile(from_request.clone(), 0.50),
        percentile(from_request, 0.99),
        percentile(from_answer.clone(), 0.50),
        percentile(from_answer, 0.99)
    );
}
