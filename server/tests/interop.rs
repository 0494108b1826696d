//! Servers made from third-party MCP servers, used by third-party clients:
//! `@modelcontextprotocol/server-everything` (npm) and a FastMCP server
//! (PyPI) as sources; rmcp's client on both revisions, the official
//! TypeScript SDK client and the official Python SDK client (default modes)
//! calling through AutoMCP. Everything runs as real processes on loopback.

mod common;

use app::model::Tier;
use common::interop::{Client, FASTMCP_KEY, Kind, ResetProxy, Source, run_client};
use common::{Era, TestApp, call, json, mcp_client, text};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// What a source offers for the tests: the tools to expose, a quick call
/// with its expected text, and the slow tool with progress.
struct Plan {
    tools: [&'static str; 3],
    quick: (&'static str, Value, &'static str),
    slow: &'static str,
}

fn plan(kind: Kind) -> Plan {
    match kind {
        Kind::Everything => Plan {
            tools: ["get-sum", "get-structured-content", "trigger-long-running-operation"],
            quick: ("get-sum", json!({"a": 2, "b": 3}), "The sum of 2 and 3 is 5."),
            slow: "trigger-long-running-operation",
        },
        Kind::FastMcp => Plan {
            tools: ["add", "describe_city", "slow_count"],
            quick: ("add", json!({"a": 2, "b": 3}), "5"),
            slow: "slow_count",
        },
    }
}

fn slow_args(kind: Kind, seconds: u64) -> Value {
    match kind {
        Kind::Everything => json!({"duration": seconds, "steps": seconds}),
        Kind::FastMcp => json!({"seconds": seconds}),
    }
}

fn source_auth(kind: Kind) -> Value {
    match kind {
        Kind::Everything => json!({"auth": "public"}),
        Kind::FastMcp => json!({"auth": "header", "auth_header_key": "X-Api-Key", "auth_header_value": FASTMCP_KEY}),
    }
}

fn merged(mut base: Value, extra: Value) -> Value {
    base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    base
}

/// Registers `source`, fetches its tools and creates a server exposing the
/// plan's three tools at `slug`. Returns the client token.
async fn forwarded_server(app: &TestApp, token: &str, source: &Source, slug: &str) -> String {
    forwarded_server_at(app, token, source.kind, &source.url(), slug).await
}

/// As [`forwarded_server`], with the source reached at `url`.
async fn forwarded_server_at(app: &TestApp, token: &str, kind: Kind, url: &str, slug: &str) -> String {
    let created = create_forwarded(app, token, kind, url, slug, &plan(kind).tools).await;
    created["token"].as_str().unwrap().to_owned()
}

/// Registers the source at `url`, fetches its tools and creates a server
/// exposing `tools`; returns the create answer.
async fn create_forwarded(app: &TestApp, token: &str, kind: Kind, url: &str, slug: &str, tools: &[&str]) -> Value {
    let response = app.api(Method::POST, "/api/v1/mcp-servers", token, Some(json!({"name": slug, "url": url}))).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let source_id = json(response).await["id"].as_str().unwrap().to_owned();
    let auth = source_auth(kind);
    let response = app
        .api(
            Method::POST,
            "/api/v1/mcps/fetch-tools",
            token,
            Some(merged(json!({"mcp_server_id": source_id}), auth.clone())),
        )
        .await;
    let status = response.status();
    let fetched = json(response).await;
    assert_eq!(status, StatusCode::OK, "{fetched}");
    let body = json!({"name": slug, "slug": slug, "mcp_server_id": source_id, "tools_cache": fetched["tools"],
                      "tools_filter": tools});
    let response = app.api(Method::POST, "/api/v1/mcps", token, Some(merged(body, auth))).await;
    let status = response.status();
    let created = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// One quick call through AutoMCP with one client; `Ok(text)` or the error.
async fn quick_call(app: &TestApp, slug: &str, token: &str, kind: Kind, client: &str) -> Result<String, String> {
    let (tool, args, _) = plan(kind).quick;
    let url = app.mcp_url(slug);
    match client {
        "rmcp 2025-11-25" => rmcp_call(&url, token, Era::Legacy, tool, args).await,
        "rmcp 2026-07-28" => rmcp_call(&url, token, Era::Modern, tool, args).await,
        other => {
            let which = if other.starts_with("TypeScript") { Client::TypeScript } else { Client::Python };
            let report = run_client(which, &url, Some(token), tool, args).await;
            if let Some(error) = report.get("error") {
                return Err(error.to_string());
            }
            if report["tools"].as_array().map(Vec::len) != Some(3) {
                return Err(format!("listed {}", report["tools"]));
            }
            println!("{other} negotiated {}", report["protocolVersion"]);
            Ok(report["result"]["content"][0]["text"].as_str().unwrap_or_default().to_owned())
        }
    }
}

async fn rmcp_call(url: &str, token: &str, era: Era, tool: &str, args: Value) -> Result<String, String> {
    let client = mcp_client(url, Some(token), era).await?;
    let listed = client.list_all_tools().await.map_err(|e| e.to_string())?;
    if listed.len() != 3 {
        return Err(format!("listed {} tools", listed.len()));
    }
    Ok(text(&call(&client, tool, args).await?))
}

const CLIENTS: [&str; 4] = ["rmcp 2025-11-25", "rmcp 2026-07-28", "TypeScript SDK 1.32.2", "Python SDK 2.3.0"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_uses_servers_made_from_third_party_sources() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("interop@example.com", Tier::Free).await;
    let everything = Source::start(Kind::Everything);
    let fastmcp = Source::start(Kind::FastMcp);
    let mut matrix = Vec::new();
    for (source, slug) in [(&everything, "everything"), (&fastmcp, "fastmcp")] {
        let client_token = forwarded_server(&app, &token, source, slug).await;
        for client in CLIENTS {
            let outcome = quick_call(&app, slug, &client_token, source.kind, client).await;
            matrix.push((client, source.kind, outcome));
        }
    }
    println!("{:<24} {:<12} outcome", "client", "source");
    for (client, kind, outcome) in &matrix {
        let mark = match outcome {
            Ok(text) if text.contains(plan(*kind).quick.2) => "✓".to_owned(),
            Ok(text) => format!("✗ {text}"),
            Err(error) => format!("✗ {error}"),
        };
        println!("{client:<24} {:<12} {mark}", format!("{kind:?}"));
    }
    for (client, kind, outcome) in matrix {
        let text = outcome.unwrap_or_else(|error| panic!("{client} through {kind:?}: {error}"));
        assert!(text.contains(plan(kind).quick.2), "{client} through {kind:?}: {text}");
    }

    // Structured content passes through as the source sent it.
    let client_token = forwarded_server(&app, &token, &fastmcp, "fastmcp-structured").await;
    let report = run_client(
        Client::Python,
        &app.mcp_url("fastmcp-structured"),
        Some(&client_token),
        "describe_city",
        json!({"city": "Oslo"}),
    )
    .await;
    assert_eq!(report["result"]["structuredContent"], json!({"city": "Oslo", "letters": 4}), "{report}");
    assert_eq!(report["result"]["resultType"], "complete", "{report}");
}

/// Calls until one succeeds; returns how long after `since` that was.
async fn first_success(app: &TestApp, slug: &str, token: &str, kind: Kind, since: Instant) -> Duration {
    let client = mcp_client(&app.mcp_url(slug), Some(token), Era::Modern).await.unwrap();
    let (tool, args, expected) = plan(kind).quick;
    loop {
        match call(&client, tool, args.clone()).await {
            Ok(result) if text(&result).contains(expected) => return since.elapsed(),
            other => {
                assert!(since.elapsed() < Duration::from_secs(20), "no recovery after 20 s: {other:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_server_recovers_at_once_when_its_source_restarts() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("restart@example.com", Tier::Free).await;
    for kind in [Kind::Everything, Kind::FastMcp] {
        let mut source = Source::start(kind);
        let slug = format!("restart-{}", format!("{kind:?}").to_lowercase());
        let client_token = forwarded_server(&app, &token, &source, &slug).await;
        let warm = first_success(&app, &slug, &client_token, kind, Instant::now()).await;
        assert!(warm < Duration::from_secs(5));
        // The source restarts: the session AutoMCP holds is gone.
        source.restart();
        let back = Instant::now();
        let recovered = first_success(&app, &slug, &client_token, kind, back).await;
        println!("{kind:?}: first call after the restart succeeded in {} ms", recovered.as_millis());
        assert!(recovered < Duration::from_secs(1), "{kind:?}: {recovered:?}");

        // The source is down: the call fails at once with the real reason.
        drop(source);
        let client = mcp_client(&app.mcp_url(&slug), Some(&client_token), Era::Modern).await.unwrap();
        let (tool, args, _) = plan(kind).quick;
        let asked = Instant::now();
        let result = call(&client, tool, args).await.unwrap();
        assert_eq!(result.is_error, Some(true));
        assert!(text(&result).contains("connect"), "{kind:?}: {}", text(&result));
        assert!(asked.elapsed() < Duration::from_secs(3), "{kind:?}: {:?}", asked.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_forwarded_call_streams_its_progress_and_is_not_cut() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("long@example.com", Tier::Free).await;
    let everything = Source::start(Kind::Everything);
    let fastmcp = Source::start(Kind::FastMcp);
    let a = forwarded_server(&app, &token, &everything, "long-everything").await;
    let b = forwarded_server(&app, &token, &fastmcp, "long-fastmcp").await;
    let (url_a, url_b) = (app.mcp_url("long-everything"), app.mcp_url("long-fastmcp"));
    let started = Instant::now();
    let (ts, py) = tokio::join!(
        run_client(Client::TypeScript, &url_a, Some(&a), plan(Kind::Everything).slow, slow_args(Kind::Everything, 30)),
        run_client(Client::Python, &url_b, Some(&b), plan(Kind::FastMcp).slow, slow_args(Kind::FastMcp, 30)),
    );
    println!(
        "30 s tools: TypeScript got {} progress notifications, Python {}; both done after {} ms",
        ts["progress"],
        py["progress"],
        started.elapsed().as_millis()
    );
    assert!(ts["result"]["content"][0]["text"].as_str().unwrap_or_default().contains("completed"), "{ts}");
    assert!(py["result"]["content"][0]["text"].as_str().unwrap_or_default().contains("counted 30 steps"), "{py}");
    assert!(ts["progress"].as_u64().unwrap() >= 25, "{ts}");
    assert!(py["progress"].as_u64().unwrap() >= 25, "{py}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_connection_is_reported_at_once_and_the_next_call_reconnects() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("reset@example.com", Tier::Free).await;
    let everything = Source::start(Kind::Everything);
    let proxy = ResetProxy::start(everything.port).await;
    let client_token = forwarded_server_at(&app, &token, Kind::Everything, &proxy.url(), "reset-everything").await;
    let client = mcp_client(&app.mcp_url("reset-everything"), Some(&client_token), Era::Modern).await.unwrap();
    let (tool, args, expected) = plan(Kind::Everything).quick;
    assert!(text(&call(&client, tool, args.clone()).await.unwrap()).contains(expected));

    proxy.set_resetting(true);
    let asked = Instant::now();
    let result = call(&client, tool, args.clone()).await.unwrap();
    let took = asked.elapsed();
    println!("reset connection: reported in {} ms: {}", took.as_millis(), text(&result));
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("connection broke"), "{}", text(&result));
    assert!(took < Duration::from_secs(2), "{took:?}");

    proxy.set_resetting(false);
    let result = call(&client, tool, args).await.unwrap();
    assert!(text(&result).contains(expected), "{}", text(&result));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_source_is_cut_at_the_servers_own_call_timeout() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("silent@example.com", Tier::Free).await;
    let fastmcp = Source::start(Kind::FastMcp);
    let created = create_forwarded(&app, &token, Kind::FastMcp, &fastmcp.url(), "silent", &["silent_wait"]).await;
    let id = created["mcp"]["id"].as_str().unwrap();
    let client_token = created["token"].as_str().unwrap();
    let path = format!("/api/v1/servers/{id}");
    let set = |secs: u32| app.api(Method::PUT, &path, &token, Some(json!({"connection": {"call_timeout_secs": secs}})));
    let response = set(4).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(response).await["error"]["field"], "connection.call_timeout_secs");
    let response = set(5).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["connection"]["call_timeout_secs"], 5);

    let client = mcp_client(&app.mcp_url("silent"), Some(client_token), Era::Modern).await.unwrap();
    let result = call(&client, "silent_wait", json!({"seconds": 3})).await.unwrap();
    assert_eq!(text(&result), "waited 3.0 s", "a call within the timeout succeeds");
    let asked = Instant::now();
    let result = call(&client, "silent_wait", json!({"seconds": 30})).await.unwrap();
    let took = asked.elapsed();
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("neither an answer nor progress for 5 s"), "{}", text(&result));
    assert!(took >= Duration::from_secs(5) && took < Duration::from_secs(8), "{took:?}");
}
