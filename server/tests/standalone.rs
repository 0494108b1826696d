//! Standalone mode (`automcp run-spec`): the same engine serving one spec
//! at /mcp, as a separate process, reached by rmcp's client.

mod common;

use common::upstream::Upstream;
use common::{Era, call, mcp_client, text};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

#[derive(Debug)]
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `automcp run-spec` and returns it with its address (or its error output).
fn run_spec(spec: &serde_json::Value, env: &[(&str, &str)], args: &[&str]) -> Result<(Running, String), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.json");
    std::fs::write(&path, serde_json::to_vec(spec).unwrap()).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_automcp"));
    command
        .args(["run-spec", "--spec"])
        .arg(&path)
        .args(args)
        .env("AUTOMCP_BIND", "127.0.0.1:0")
        .env("AUTOMCP_LOG_FORMAT", "json")
        .env("AUTOMCP_ALLOW_PRIVATE_UPSTREAMS", "true")
        .env_remove("AUTOMCP_SERVER_TOKEN_SHA256")
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        if line.contains("standalone server is listening") {
            let log: serde_json::Value = serde_json::from_str(&line).unwrap();
            let addr = log["addr"].as_str().unwrap().to_owned();
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((Running(child), addr));
        }
        seen.push(line);
    }
    let _ = child.wait();
    Err(seen.join("\n"))
}

fn spec(up: &Upstream) -> serde_json::Value {
    json!({
        "name": "Weather", "slug": "weather",
        "tools": [{
            "name": "forecast",
            "description": "Forecast for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "action": {
                "method": "GET",
                "url": up.url("/forecast/{city}"),
                "auth": {"credential": "weather-key", "placement": {"in": "query", "name": "appid"}}
            }
        }]
    })
}

#[tokio::test]
async fn run_spec_serves_one_server_at_mcp_with_bearer_auth() {
    let up = Upstream::start().await;
    let token = "amcp_srv_standalone-test-token";
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let (_server, addr) = run_spec(
        &spec(&up),
        &[("AUTOMCP_SERVER_TOKEN_SHA256", hash.as_str()), ("AUTOMCP_CREDENTIAL_WEATHER_KEY", "k-123")],
        &[],
    )
    .unwrap();
    let url = format!("http://{addr}/mcp");

    let refused = mcp_client(&url, None, Era::Legacy).await.unwrap_err();
    assert!(refused.contains("Auth required"), "{refused}");
    for era in [Era::Legacy, Era::Modern] {
        let client = mcp_client(&url, Some(token), era).await.unwrap();
        let tools = client.list_all_tools().await.unwrap();
        assert_eq!(tools[0].name, "forecast");
        let result = call(&client, "forecast", json!({"city": "Oslo"})).await.unwrap();
        assert_eq!(result.is_error, Some(false), "{}", text(&result));
    }
    let seen = up.last();
    assert_eq!(seen.path, "/forecast/Oslo");
    assert_eq!(seen.query.as_deref(), Some("appid=k-123"));
}

#[tokio::test]
async fn run_spec_refuses_to_start_without_what_it_needs() {
    let up = Upstream::start().await;
    let error = run_spec(&spec(&up), &[], &[]).unwrap_err();
    assert!(error.contains("no client authentication"), "{error}");
    let error = run_spec(&spec(&up), &[], &["--public"]).unwrap_err();
    assert!(error.contains("AUTOMCP_CREDENTIAL_WEATHER_KEY"), "{error}");
    let mut bad = spec(&up);
    bad["tools"][0]["name"] = json!("bad name");
    let error = run_spec(&bad, &[("AUTOMCP_CREDENTIAL_WEATHER_KEY", "k")], &["--public"]).unwrap_err();
    assert!(error.contains("tools[0].name"), "{error}");
}
