//! Servers made from an existing MCP server: register a source, fetch its
//! tools (stateless), create with `tools_cache` + `tools_filter` in one
//! request, serve only the filtered tools and forward calls with the stored
//! header. Upstreams are real MCP servers on loopback: `automcp run-spec`
//! (our standalone mode) and a small hand-written JSON-RPC server.

mod common;

use app::model::Tier;
use common::runner::{Running, run_spec};
use common::sql;
use common::upstream::Upstream;
use common::{Era, TestApp, call, json, mcp_client, text};
use reqwest::Method;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

const UPSTREAM_TOKEN: &str = "amcp_srv_upstream-secret-token";

fn action_tool(name: &str, up: &Upstream) -> Value {
    json!({
        "name": name,
        "description": format!("{name} for a city"),
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "action": {"method": "GET", "url": up.url(&format!("/{name}/{{city}}"))}
    })
}

/// A real MCP server (`automcp run-spec`) with the given tools, requiring
/// `Authorization: Bearer UPSTREAM_TOKEN` when `token` is set.
fn source_server(up: &Upstream, tools: &[&str], token: bool) -> (Running, String) {
    let spec = json!({
        "name": "Weather upstream", "slug": "weather-upstream",
        "tools": tools.iter().map(|name| action_tool(name, up)).collect::<Vec<_>>(),
    });
    let hash = hex::encode(Sha256::digest(UPSTREAM_TOKEN.as_bytes()));
    let (running, addr) = if token {
        run_spec(&spec, &[("AUTOMCP_SERVER_TOKEN_SHA256", hash.as_str())], &[]).unwrap()
    } else {
        run_spec(&spec, &[], &["--public"]).unwrap()
    };
    (running, format!("http://{addr}/mcp"))
}

async fn register(app: &TestApp, token: &str, name: &str, url: &str) -> String {
    let response = app.api(Method::POST, "/api/v1/mcp-servers", token, Some(json!({"name": name, "url": url}))).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json(response).await["id"].as_str().unwrap().to_owned()
}

async fn fetch(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let response = app.api(Method::POST, "/api/v1/mcps/fetch-tools", token, Some(body)).await;
    (response.status(), json(response).await)
}

fn bearer_auth() -> Value {
    json!({"auth": "header", "auth_header_key": "Authorization", "auth_header_value": format!("Bearer {UPSTREAM_TOKEN}")})
}

fn merged(mut base: Value, extra: Value) -> Value {
    base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    base
}

fn names(tools: &Value) -> Vec<String> {
    tools.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn fetch_tools_lists_a_real_mcp_server_and_stores_nothing() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("fetch@example.com", Tier::Free).await;
    let up = Upstream::start().await;
    let (_source, url) = source_server(&up, &["forecast", "alerts", "history", "radar"], false);
    let id = register(&app, &token, "Weather", &url).await;

    let (status, body) = fetch(&app, &token, json!({"mcp_server_id": id})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body["tools"]), ["forecast", "alerts", "history", "radar"]);
    assert_eq!(body["tools"][0]["inputSchema"]["required"], json!(["city"]));
    assert_eq!(body["tools"][0]["description"], "forecast for a city");

    let servers = sql::int(&app.services.db, "select count(*) from servers", &[]).await;
    assert_eq!(servers, 0, "a fetch writes nothing");
    assert!(up.seen().is_empty(), "listing tools calls no tool");
}

#[tokio::test]
async fn fetch_tools_errors_are_distinct_and_readable() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("errors@example.com", Tier::Free).await;
    let (_, other) = app.account("other@example.com", Tier::Free).await;
    let up = Upstream::start().await;
    let (_source, url) = source_server(&up, &["forecast"], true);

    // Signed-in users only.
    let response = app
        .anonymous()
        .post(app.url("/api/v1/mcps/fetch-tools"))
        .json(&json!({"mcp_server_id": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Not found: an unknown id, and another account's private source.
    let (status, body) = fetch(&app, &token, json!({"mcp_server_id": "no-such-id"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("no MCP server with id"), "{body}");
    let foreign = register(&app, &other, "Theirs", &url).await;
    let (status, _) = fetch(&app, &token, json!({"mcp_server_id": foreign})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Upstream requires a header: refused without it, works with it.
    let id = register(&app, &token, "Guarded", &url).await;
    let (status, body) = fetch(&app, &token, json!({"mcp_server_id": id})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "upstream");
    assert_eq!(body["error"]["reason"], "auth_refused", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("check the auth header"), "{body}");
    let wrong = json!({"auth": "header", "auth_header_key": "Authorization", "auth_header_value": "Bearer nope"});
    let (status, body) = fetch(&app, &token, merged(json!({"mcp_server_id": id}), wrong)).await;
    assert_eq!((status, body["error"]["reason"].clone()), (StatusCode::BAD_GATEWAY, json!("auth_refused")));
    let (status, body) = fetch(&app, &token, merged(json!({"mcp_server_id": id}), bearer_auth())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body["tools"]), ["forecast"]);

    // Incomplete header auth is a field error, before any connection.
    let (status, body) = fetch(&app, &token, json!({"mcp_server_id": id, "auth": "header"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "auth_header_key");

    // Disabled.
    let response =
        app.api(Method::PUT, &format!("/api/v1/mcp-servers/{id}"), &token, Some(json!({"enabled": false}))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = fetch(&app, &token, merged(json!({"mcp_server_id": id}), bearer_auth())).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("disabled"), "{body}");

    // Cannot connect: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let id = register(&app, &token, "Closed", &format!("http://{closed}/mcp")).await;
    let (status, body) = fetch(&app, &token, json!({"mcp_server_id": id})).await;
    assert_eq!((status, body["error"]["reason"].clone()), (StatusCode::BAD_GATEWAY, json!("unreachable")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("could not connect"), "{body}");

    // Not an MCP server: a JSON API, a 404 page, a text page.
    for path in ["/api/things", "/status/404", "/text"] {
        let id = register(&app, &token, "Not MCP", &up.url(path)).await;
        let (status, body) = fetch(&app, &token, json!({"mcp_server_id": id})).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{path}: {body}");
        assert_eq!(body["error"]["reason"], "not_mcp", "{path}: {body}");
    }
}

#[tokio::test]
async fn the_ssrf_guard_applies_to_sources() {
    let app = TestApp::spawn().await; // private upstreams refused
    let (_, token) = app.account("ssrf@example.com", Tier::Free).await;
    let response = app
        .api(
            Method::POST,
            "/api/v1/mcp-servers",
            &token,
            Some(json!({"name": "Metadata", "url": "http://169.254.169.254/mcp"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json(response).await["error"]["message"].as_str().unwrap().contains("refusing to connect"));
    for url in ["http://localhost:9/mcp", "http://[::1]/mcp", "ftp://example.com/mcp", "http://user:pw@example.com/"] {
        let response =
            app.api(Method::POST, "/api/v1/mcp-servers", &token, Some(json!({"name": "Bad", "url": url}))).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(json(response).await["error"]["field"], "url", "{url}");
    }
}

/// A hand-written MCP server (legacy protocol, JSON responses) that pages
/// its tool list two tools at a time and, when `key` is set, requires
/// `X-Api-Key: key`. Records the tool calls it receives.
async fn paging_server(tools: usize, key: Option<&'static str>) -> (String, Arc<Mutex<Vec<Value>>>) {
    use axum::http::HeaderMap;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let handler = move |headers: HeaderMap, body: axum::body::Bytes| {
        let seen = seen.clone();
        async move {
            use axum::response::IntoResponse;
            if let Some(key) = key
                && headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(key)
            {
                return (StatusCode::FORBIDDEN, "missing or wrong X-Api-Key").into_response();
            }
            let message: Value = serde_json::from_slice(&body).unwrap();
            let Some(id) = message.get("id").cloned() else {
                return StatusCode::ACCEPTED.into_response();
            };
            let reply = |result: Value| axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result}));
            match message["method"].as_str().unwrap_or_default() {
                "initialize" => reply(json!({
                    "protocolVersion": "2025-11-25",
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "paging", "version": "1.0.0"}
                }))
                .into_response(),
                "tools/list" => {
                    let start: usize =
                        message["params"]["cursor"].as_str().map(|c| c.parse().unwrap()).unwrap_or_default();
                    let end = (start + 2).min(tools);
                    let page: Vec<Value> = (start..end)
                        .map(|i| {
                            json!({"name": format!("tool_{i}"), "description": format!("Tool {i}"),
                                   "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}},
                                   "annotations": {"readOnlyHint": true}})
                        })
                        .collect();
                    let mut result = json!({"tools": page});
                    if end < tools {
                        result["nextCursor"] = json!(end.to_string());
                    }
                    reply(result).into_response()
                }
                "tools/call" => {
                    seen.lock().unwrap().push(message["params"].clone());
                    let name = message["params"]["name"].as_str().unwrap_or_default().to_owned();
                    if name == "tool_1" {
                        return axum::Json(json!({"jsonrpc": "2.0", "id": id,
                            "error": {"code": -32602, "message": "n must be positive"}}))
                        .into_response();
                    }
                    reply(json!({
                        "content": [{"type": "text", "text": format!("{name} ran")}],
                        "structuredContent": {"ran": name},
                        "isError": false
                    }))
                    .into_response()
                }
                _ => axum::Json(json!({"jsonrpc": "2.0", "id": id,
                    "error": {"code": -32601, "message": "method not found"}}))
                .into_response(),
            }
        }
    };
    let app = axum::Router::new().route("/mcp", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/mcp"), calls)
}

#[tokio::test]
async fn fetch_follows_pagination_and_sends_a_custom_header() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("pages@example.com", Tier::Paid).await;
    let (url, _) = paging_server(7, Some("k-42")).await;
    let id = register(&app, &token, "Paging", &url).await;
    let (status, body) = fetch(&app, &token, json!({"mcp_server_id": id})).await;
    assert_eq!((status, body["error"]["reason"].clone()), (StatusCode::BAD_GATEWAY, json!("auth_refused")), "{body}");
    let auth = json!({"auth": "header", "auth_header_key": "X-Api-Key", "auth_header_value": "k-42"});
    let (status, body) = fetch(&app, &token, merged(json!({"mcp_server_id": id}), auth)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body["tools"]), (0..7).map(|i| format!("tool_{i}")).collect::<Vec<_>>());
    assert_eq!(body["tools"][3]["annotations"]["readOnlyHint"], true, "unknown fields are kept");
}

#[tokio::test]
async fn create_serves_only_the_filtered_tools_and_forwards_with_the_header() {
    let app = TestApp::with_local_upstreams().await;
    let (user, token) = app.account("create@example.com", Tier::Free).await;
    let up = Upstream::start().await;
    let (_source, url) = source_server(&up, &["forecast", "alerts", "history", "radar"], true);
    let source = register(&app, &token, "Weather", &url).await;
    let (_, fetched) = fetch(&app, &token, merged(json!({"mcp_server_id": source}), bearer_auth())).await;
    let cache = fetched["tools"].clone();

    let create = |filter: Value| {
        merged(
            json!({"name": "My weather", "slug": "my-weather", "mcp_server_id": source, "tools_cache": cache,
                   "tools_filter": filter}),
            bearer_auth(),
        )
    };
    // Free tier: at most 3 tools.
    let response = app
        .api(Method::POST, "/api/v1/mcps", &token, Some(create(json!(["forecast", "alerts", "history", "radar"]))))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(json(response).await["error"]["message"].as_str().unwrap().contains("at most 3 tools"));
    // A name that was not fetched.
    let response = app.api(Method::POST, "/api/v1/mcps", &token, Some(create(json!(["snow"])))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(response).await["error"]["field"], "tools_filter[0]");

    let response = app.api(Method::POST, "/api/v1/mcps", &token, Some(create(json!(["forecast", "alerts"])))).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created = json(response).await;
    let id = created["mcp"]["id"].as_str().unwrap().to_owned();
    let client_token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(created["mcp"]["tools_filter"], json!(["forecast", "alerts"]));
    assert_eq!(created["mcp"]["tools_cache"], cache);
    assert_eq!(created["mcp"]["auth_header_key"], "Authorization");
    assert_eq!(created["mcp"]["status"], "active");
    assert!(!created.to_string().contains(UPSTREAM_TOKEN), "the header value is never returned");
    let sealed =
        sql::strings(&app.services.db, "select sealed from server_credentials where server_id = $1", &[(&id).into()])
            .await;
    assert_eq!(sealed.len(), 1);
    assert!(!sealed[0].contains(UPSTREAM_TOKEN), "stored encrypted");

    // Slug taken.
    let response = app.api(Method::POST, "/api/v1/mcps", &token, Some(create(json!([])))).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    for era in [Era::Legacy, Era::Modern] {
        let client = mcp_client(&app.mcp_url("my-weather"), Some(&client_token), era).await.unwrap();
        let tools = client.list_all_tools().await.unwrap();
        let listed: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(listed, ["forecast", "alerts"], "{era:?}");
        assert_eq!(serde_json::to_value(&tools[0]).unwrap()["inputSchema"], cache[0]["inputSchema"]);
        let result = call(&client, "forecast", json!({"city": "Oslo"})).await.unwrap();
        assert_eq!(result.is_error, Some(false), "{}", text(&result));
        assert!(text(&result).contains("/forecast/Oslo"), "{}", text(&result));
        let refused = call(&client, "radar", json!({"city": "Oslo"})).await.unwrap_err();
        assert!(refused.contains("not exposed by this server"), "{refused}");
    }
    let seen = up.seen();
    assert_eq!(seen.len(), 2, "two forwarded calls reached the API behind the source");
    assert!(seen.iter().all(|s| s.path == "/forecast/Oslo"));

    // The call log has the forwarded calls.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let calls = json(app.api(Method::GET, &format!("/api/v1/servers/{id}/calls"), &token, None).await).await;
    let outcomes: Vec<&str> = calls.as_array().unwrap().iter().map(|c| c["outcome"].as_str().unwrap()).collect();
    assert!(outcomes.iter().filter(|o| **o == "ok").count() == 2, "{calls}");

    // Update: another filter, live at once.
    let response = app
        .api(
            Method::PUT,
            &format!("/api/v1/mcps/{id}"),
            &token,
            Some(json!({"tools_filter": ["radar"], "name": "Radar only"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let updated = json(response).await;
    assert_eq!(updated["tools_filter"], json!(["radar"]));
    assert_eq!(updated["name"], "Radar only");
    let stored = (
        sql::strings(&app.services.db, "select tools_filter from servers where id = $1", &[(&id).into()])
            .await
            .remove(0),
        sql::strings(&app.services.db, "select tools_cache from servers where id = $1", &[(&id).into()])
            .await
            .remove(0),
    );
    assert_eq!(serde_json::from_str::<Value>(&stored.0).unwrap(), json!(["radar"]));
    assert_eq!(serde_json::from_str::<Value>(&stored.1).unwrap(), cache);
    let client = mcp_client(&app.mcp_url("my-weather"), Some(&client_token), Era::Modern).await.unwrap();
    let listed: Vec<String> = client.list_all_tools().await.unwrap().iter().map(|t| t.name.to_string()).collect();
    assert_eq!(listed, ["radar"]);
    assert!(call(&client, "forecast", json!({"city": "Oslo"})).await.unwrap_err().contains("not exposed"));
    let result = call(&client, "radar", json!({"city": "Bergen"})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(up.last().path, "/radar/Bergen");

    // The general server list shows it too, with its kind and tools.
    let servers = json(app.api(Method::GET, "/api/v1/servers", &token, None).await).await;
    assert_eq!(servers[0]["kind"], "mcp");
    assert_eq!(servers[0]["tools"][0]["name"], "radar");
    assert_eq!(servers[0]["tools"][0]["input_schema"], cache[3]["inputSchema"]);
    // Its tools are not edited through the spec API.
    let response = app
        .api(Method::PUT, &format!("/api/v1/servers/{id}"), &token, Some(json!({"spec": common::spec("x", vec![])})))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Zero tools is allowed; disabled means 404 at the endpoint.
    let response = app
        .api(Method::PUT, &format!("/api/v1/mcps/{id}"), &token, Some(json!({"tools_filter": [], "enabled": false})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.anonymous().post(app.mcp_url("my-weather")).body("{}").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Another account sees nothing of it.
    let (_, stranger) = app.account("stranger@example.com", Tier::Free).await;
    let response = app.api(Method::GET, &format!("/api/v1/mcps/{id}"), &stranger, None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app.api(Method::PUT, &format!("/api/v1/mcps/{id}"), &stranger, Some(json!({"enabled": true}))).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let _ = user;
}

#[tokio::test]
async fn forwarded_results_and_errors_pass_through_as_they_are() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("pass@example.com", Tier::Paid).await;
    let (url, calls) = paging_server(5, None).await;
    let source = register(&app, &token, "Paging", &url).await;
    let (_, fetched) = fetch(&app, &token, json!({"mcp_server_id": source})).await;
    let body = json!({"name": "All", "slug": "all-five", "mcp_server_id": source, "client_auth": "public",
                      "tools_cache": fetched["tools"], "tools_filter": ["tool_0", "tool_1", "tool_2", "tool_3", "tool_4"]});
    let response = app.api(Method::POST, "/api/v1/mcps", &token, Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "paid accounts have no tool limit");

    let client = mcp_client(&app.mcp_url("all-five"), None, Era::Legacy).await.unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 5);
    let result = call(&client, "tool_0", json!({"n": 3})).await.unwrap();
    assert_eq!(text(&result), "tool_0 ran");
    assert_eq!(result.structured_content, Some(json!({"ran": "tool_0"})));
    assert_eq!(calls.lock().unwrap().last().unwrap()["arguments"], json!({"n": 3}));
    let error = call(&client, "tool_1", json!({"n": -1})).await.unwrap_err();
    assert!(error.contains("n must be positive"), "{error}");
}

#[tokio::test]
async fn refresh_shows_the_difference_and_applies_it_on_request() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("refresh@example.com", Tier::Free).await;
    let up = Upstream::start().await;
    let (_v1, url1) = source_server(&up, &["forecast", "alerts", "history"], false);
    let source = register(&app, &token, "Weather", &url1).await;
    let (_, fetched) = fetch(&app, &token, json!({"mcp_server_id": source})).await;
    let body = json!({"name": "W", "slug": "w", "mcp_server_id": source, "client_auth": "public",
                      "tools_cache": fetched["tools"], "tools_filter": ["forecast", "history"]});
    let created = json(app.api(Method::POST, "/api/v1/mcps", &token, Some(body)).await).await;
    let id = created["mcp"]["id"].as_str().unwrap().to_owned();

    // The source now offers a different set: history gone, radar new, alerts changed.
    let mut changed_spec_tools = vec!["forecast", "alerts", "radar"];
    let (_v2, url2) = {
        let spec = json!({
            "name": "Weather upstream", "slug": "weather-upstream",
            "tools": changed_spec_tools.drain(..).map(|name| {
                let mut tool = action_tool(name, &up);
                if name == "alerts" { tool["description"] = json!("alerts, now with severity"); }
                tool
            }).collect::<Vec<_>>(),
        });
        let (running, addr) = run_spec(&spec, &[], &["--public"]).unwrap();
        (running, format!("http://{addr}/mcp"))
    };
    let response =
        app.api(Method::PUT, &format!("/api/v1/mcp-servers/{source}"), &token, Some(json!({"url": url2}))).await;
    assert_eq!(response.status(), StatusCode::OK);

    let response = app.api(Method::POST, &format!("/api/v1/mcps/{id}/refresh-tools"), &token, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let refreshed = json(response).await;
    assert_eq!(refreshed["diff"], json!({"added": ["radar"], "removed": ["history"], "changed": ["alerts"]}));
    assert_eq!(refreshed["applied"], false);
    let unchanged = json(app.api(Method::GET, &format!("/api/v1/mcps/{id}"), &token, None).await).await;
    assert_eq!(unchanged["tools_cache"], fetched["tools"], "a refresh without apply stores nothing");

    let response =
        app.api(Method::POST, &format!("/api/v1/mcps/{id}/refresh-tools"), &token, Some(json!({"apply": true}))).await;
    assert_eq!(json(response).await["applied"], true);
    let view = json(app.api(Method::GET, &format!("/api/v1/mcps/{id}"), &token, None).await).await;
    assert_eq!(names(&view["tools_cache"]), ["forecast", "alerts", "radar"]);
    assert_eq!(view["tools_filter"], json!(["forecast"]), "chosen tools that disappeared are dropped");
    let client = mcp_client(&app.mcp_url("w"), None, Era::Modern).await.unwrap();
    let result = call(&client, "forecast", json!({"city": "Rome"})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "the server now forwards to the new URL: {}", text(&result));
}

#[tokio::test]
async fn sources_are_scoped_and_disabling_one_takes_its_servers_offline() {
    let app = TestApp::with_local_upstreams().await;
    // The first account is the admin.
    let admin =
        app.services.accounts.create_user("admin@example.com", common::PASSWORD, Default::default()).await.unwrap();
    assert!(admin.is_admin);
    let admin_token = app.services.accounts.create_token(&admin.id, "tests").await.unwrap();
    let (_, token) = app.account("user@example.com", Tier::Free).await;
    let up = Upstream::start().await;
    let (_source, url) = source_server(&up, &["forecast"], false);

    // Only an admin registers for everyone.
    let shared = json!({"name": "Shared weather", "url": url, "shared": true});
    let response = app.api(Method::POST, "/api/v1/mcp-servers", &token, Some(shared.clone())).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app.api(Method::POST, "/api/v1/mcp-servers", &admin_token, Some(shared)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let source = json(response).await["id"].as_str().unwrap().to_owned();
    let private = register(&app, &admin_token, "Admin's own", &url).await;

    let listed = json(app.api(Method::GET, "/api/v1/mcp-servers", &token, None).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "the user sees the shared source, not the admin's private one");
    assert_eq!((listed[0]["shared"].clone(), listed[0]["editable"].clone()), (json!(true), json!(false)));
    let response = app.api(Method::GET, &format!("/api/v1/mcp-servers/{private}"), &token, None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response =
        app.api(Method::PUT, &format!("/api/v1/mcp-servers/{source}"), &token, Some(json!({"enabled": false}))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The user builds a server on the shared source.
    let (_, fetched) = fetch(&app, &token, json!({"mcp_server_id": source})).await;
    let body = json!({"name": "Mine", "slug": "mine", "mcp_server_id": source, "client_auth": "public",
                      "tools_cache": fetched["tools"], "tools_filter": ["forecast"]});
    let created = json(app.api(Method::POST, "/api/v1/mcps", &token, Some(body)).await).await;
    let id = created["mcp"]["id"].as_str().unwrap().to_owned();
    assert!(mcp_client(&app.mcp_url("mine"), None, Era::Modern).await.is_ok());

    // In use: cannot be deleted.
    let response = app.api(Method::DELETE, &format!("/api/v1/mcp-servers/{source}"), &admin_token, None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    // The admin disables it: the user's server goes offline and cannot be re-enabled.
    let response = app
        .api(Method::PUT, &format!("/api/v1/mcp-servers/{source}"), &admin_token, Some(json!({"enabled": false})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let view = json(app.api(Method::GET, &format!("/api/v1/mcps/{id}"), &token, None).await).await;
    assert_eq!(view["status"], "disabled");
    let response = app.anonymous().post(app.mcp_url("mine")).body("{}").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app.api(Method::PUT, &format!("/api/v1/mcps/{id}"), &token, Some(json!({"enabled": true}))).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(json(response).await["error"]["message"].as_str().unwrap().contains("disabled"));

    // Enabled again: the user can bring it back. Deleting the server frees the source.
    app.api(Method::PUT, &format!("/api/v1/mcp-servers/{source}"), &admin_token, Some(json!({"enabled": true}))).await;
    let response = app.api(Method::PUT, &format!("/api/v1/mcps/{id}"), &token, Some(json!({"enabled": true}))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(mcp_client(&app.mcp_url("mine"), None, Era::Modern).await.is_ok());
    let response = app.api(Method::DELETE, &format!("/api/v1/mcps/{id}"), &token, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.api(Method::DELETE, &format!("/api/v1/mcp-servers/{source}"), &admin_token, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn servers_from_sources_survive_a_restart() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("restart@example.com", Tier::Free).await;
    let up = Upstream::start().await;
    let (_source, url) = source_server(&up, &["forecast"], true);
    let source = register(&app, &token, "Weather", &url).await;
    let (_, fetched) = fetch(&app, &token, merged(json!({"mcp_server_id": source}), bearer_auth())).await;
    let body = merged(
        json!({"name": "Kept", "slug": "kept", "mcp_server_id": source, "client_auth": "public",
               "tools_cache": fetched["tools"], "tools_filter": ["forecast"]}),
        bearer_auth(),
    );
    assert_eq!(app.api(Method::POST, "/api/v1/mcps", &token, Some(body)).await.status(), StatusCode::CREATED);

    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir, |c| {
        c.allow_private_upstreams = true;
        c.upstream_timeout_secs = 1;
    })
    .await;
    let client = mcp_client(&app.mcp_url("kept"), None, Era::Legacy).await.unwrap();
    let result = call(&client, "forecast", json!({"city": "Lima"})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "the stored header still opens the source: {}", text(&result));
}
