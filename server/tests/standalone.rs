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
