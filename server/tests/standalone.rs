//! Standalone mode (`automcp run-spec`): the same engine serving one spec
//! at /mcp, as a separate process, reached by rmcp's client.

mod common;

use common::runner::run_spec;
use common::upstream::Upstream;
use common::{Era, call, mcp_client, text};
use serde_json::json;
use sha2::{Digest, Sha256};

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

#[tokio::test]
async fn run_spec_on_all_interfaces_answers_the_hosts_a_client_would_use() {
    let up = Upstream::start().await;
    let env = [("AUTOMCP_BIND", "0.0.0.0:0"), ("AUTOMCP_CREDENTIAL_WEATHER_KEY", "k")];
    let (_server, addr) = run_spec(&spec(&up), &env, &["--public"]).unwrap();
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let post = |host: String| {
        reqwest::Client::new()
            .post(&url)
            .header("host", host)
            .header("accept", "application/json, text/event-stream")
            .json(&list)
            .send()
    };
    // The machine's address (any IP) and localhost: what a user types.
    for host in [format!("203.0.113.7:{port}"), format!("localhost:{port}"), "[2001:db8::1]:8080".to_owned()] {
        assert_eq!(post(host.clone()).await.unwrap().status(), reqwest::StatusCode::OK, "{host}");
    }
    // A name must be the public URL's or listed: the DNS-rebinding defence.
    let refused = post("mcp.example.com".into()).await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    let message = refused.json::<serde_json::Value>().await.unwrap()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("AUTOMCP_ALLOWED_HOSTS"), "{message}");

    let env = [
        ("AUTOMCP_BIND", "0.0.0.0:0"),
        ("AUTOMCP_CREDENTIAL_WEATHER_KEY", "k"),
        ("AUTOMCP_ALLOWED_HOSTS", "mcp.example.com"),
    ];
    let (_named, addr) = run_spec(&spec(&up), &env, &["--public"]).unwrap();
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/mcp", addr.rsplit(':').next().unwrap()))
        .header("host", "mcp.example.com")
        .header("accept", "application/json, text/event-stream")
        .json(&list)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}
