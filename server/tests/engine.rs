//! The MCP engine end to end: real rmcp clients over loopback against
//! servers mounted in a running AutoMCP, calling a real upstream.

mod common;

use app::model::Tier;
use common::sql;
use common::upstream::Upstream;
use common::{Era, TestApp, call, json, mcp_client, spec, text, tool};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A paid account's server with one tool of each kind, against `up`.
fn every_kind(up: &Upstream) -> serde_json::Value {
    json!({
        "name": "Pet store",
        "slug": "pets",
        "description": "Manage pets",
        "tools": [
            {
                "name": "get_pet",
                "title": "Get a pet",
                "description": "Fetch one pet by id",
                "input_schema": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "fields": {"type": "string"}, "trace": {"type": "string"}},
                    "required": ["id"]
                },
                "action": {
                    "method": "GET",
                    "url": up.url("/v1/pets/{id}"),
                    "query": [{"name": "fields", "value": "{fields}"}, {"name": "v", "value": "2"}],
                    "headers": [{"name": "X-Trace", "value": "trace-{trace}"}],
                    "auth": {"credential": "api_key", "placement": {"in": "bearer"}}
                }
            },
            {
                "name": "create_pet",
                "description": "Create a pet",
                "input_schema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
                    "required": ["name"],
                    "additionalProperties": false
                },
                "action": {
                    "method": "POST",
                    "url": up.url("/v1/pets"),
                    "body": {"type": "json", "value": {"pet": {"name": "{name}", "age": "{age}"}, "source": "mcp"}},
                    "auth": {"credential": "api_key", "placement": {"in": "header", "name": "X-Api-Key"}}
                }
            },
            {
                "name": "rename_pet",
                "description": "Rename a pet with a form post",
                "input_schema": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                    "required": ["id", "name"]
                },
                "action": {
                    "method": "PUT",
                    "url": up.url("/v1/pets/{id}/name"),
                    "body": {"type": "form", "fields": [{"name": "name", "value": "{name}"}]},
                    "auth": {"credential": "api_key", "placement": {"in": "query", "name": "key"}}
                }
            },
            {
                "name": "delete_pet",
                "description": "Delete a pet",
                "input_schema": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
                "action": {
                    "method": "DELETE",
                    "url": up.url("/v1/pets/{id}"),
                    "auth": {"credential": "login", "placement": {"in": "basic"}}
                }
            },
            {
                "name": "list_items",
                "description": "List items, projected",
                "input_schema": {"type": "object", "properties": {}},
                "action": {"method": "GET", "url": up.url("/v1/items"), "response": {"pointer": "/data"}}
            },
            {
                "name": "not_found", "description": "Always 404",
                "input_schema": {"type": "object", "properties": {}},
                "action": {"method": "GET", "url": up.url("/status/404")}
            },
            {
                "name": "broken", "description": "Always 500",
                "input_schema": {"type": "object", "properties": {}},
                "action": {"method": "GET", "url": up.url("/status/500")}
            },
            {
                "name": "slow", "description": "Answers after 3 s",
                "input_schema": {"type": "object", "properties": {}},
                "action": {"method": "GET", "url": up.url("/slow/3000")}
            },
            {
                "name": "stalls", "description": "Sends half its answer, the rest after 3 s",
                "input_schema": {"type": "object", "properties": {}},
                "action": {"method": "GET", "url": up.url("/stall/3000")}
            },
            {
                "name": "huge", "description": "Answers 2 MiB",
                "input_schema": {"type": "object", "properties": {}},
                "action": {"method": "GET", "url": up.url("/big")}
            },
            {
                "name": "away", "description": "Redirects to another host",
                "input_schema": {"type": "object", "properties": {}},
                "action": {"method": "GET", "url": up.url("/redirect-away")}
            }
        ]
    })
}

async fn pet_store() -> (TestApp, Upstream, String, String) {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("owner@example.com", Tier::Paid).await;
    let (id, token) =
        app.deploy(&api, every_kind(&up), json!({"credentials": {"api_key": "sk-live-123", "login": "ada:pw"}})).await;
    (app, up, id, token.expect("bearer is the default"))
}

#[tokio::test]
async fn tools_are_listed_with_schemas_and_derived_annotations() {
    let (app, _up, _, token) = pet_store().await;
    for era in [Era::Legacy, Era::Modern] {
        let client = mcp_client(&app.mcp_url("pets"), Some(&token), era).await.unwrap();
        let tools = client.list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names[..5], ["get_pet", "create_pet", "rename_pet", "delete_pet", "list_items"], "{era:?}");
        let get = &tools[0];
        assert_eq!(get.title.as_deref(), Some("Get a pet"));
        assert_eq!(get.input_schema["required"], json!(["id"]));
        let a = get.annotations.as_ref().unwrap();
        assert_eq!((a.read_only_hint, a.destructive_hint, a.open_world_hint), (Some(true), Some(false), Some(true)));
        let delete = tools[3].annotations.as_ref().unwrap();
        assert_eq!((delete.read_only_hint, delete.destructive_hint), (Some(false), Some(true)));
        client.cancel().await.ok();
    }
}

#[tokio::test]
async fn each_kind_of_action_sends_exactly_the_request_described() {
    let (app, up, _, token) = pet_store().await;
    let client = mcp_client(&app.mcp_url("pets"), Some(&token), Era::Legacy).await.unwrap();

    let result = call(&client, "get_pet", json!({"id": "a b/c", "fields": "name,age", "trace": "t1"})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let seen = up.last();
    assert_eq!(seen.method, Method::GET);
    assert_eq!(seen.path, "/v1/pets/a%20b%2Fc");
    assert_eq!(seen.query.as_deref(), Some("fields=name%2Cage&v=2"));
    assert_eq!(seen.header("x-trace"), Some("trace-t1"));
    assert_eq!(seen.header("authorization"), Some("Bearer sk-live-123"));
    let structured = result.structured_content.expect("JSON answers are structured");
    assert_eq!(structured["path"], "/v1/pets/a%20b%2Fc");

    call(&client, "create_pet", json!({"name": "Rex", "age": 3})).await.unwrap();
    let seen = up.last();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/v1/pets"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("x-api-key"), Some("sk-live-123"));
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.json(), json!({"pet": {"name": "Rex", "age": 3}, "source": "mcp"}));

    call(&client, "rename_pet", json!({"id": 7, "name": "Max & Co"})).await.unwrap();
    let seen = up.last();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("PUT", "/v1/pets/7/name"));
    assert_eq!(seen.query.as_deref(), Some("key=sk-live-123"));
    assert_eq!(seen.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(&seen.body[..], b"name=Max%20%26%20Co");

    call(&client, "delete_pet", json!({"id": 7})).await.unwrap();
    let seen = up.last();
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("DELETE", "/v1/pets/7"));
    assert_eq!(seen.header("authorization"), Some("Basic YWRhOnB3"));

    let result = call(&client, "list_items", json!({})).await.unwrap();
    assert_eq!(result.structured_content, Some(json!({"items": [1, 2, 3], "next": null})));
    assert_eq!(text(&result), r#"{"items":[1,2,3],"next":null}"#);
}

#[tokio::test]
async fn upstream_failures_are_tool_errors_the_model_can_read() {
    let (app, _up, _, token) = pet_store().await;
    let client = mcp_client(&app.mcp_url("pets"), Some(&token), Era::Modern).await.unwrap();
    for (tool, needle) in [
        ("not_found", "the upstream answered 404 Not Found: upstream says 404"),
        ("broken", "the upstream answered 500 Internal Server Error: upstream says 500"),
        ("slow", "did not answer within 1 s"),
        ("stalls", "did not answer within 1 s"),
        ("huge", "larger than 1024 KiB"),
        ("away", "redirected to another host"),
    ] {
        let result = call(&client, tool, json!({})).await.unwrap_or_else(|e| panic!("{tool}: protocol error {e}"));
        assert_eq!(result.is_error, Some(true), "{tool}");
        assert!(text(&result).contains(needle), "{tool}: {}", text(&result));
        assert!(!text(&result).contains("sk-live"), "no secrets in errors");
    }
}

#[tokio::test]
async fn invalid_arguments_are_refused_with_the_schema_error() {
    let (app, up, _, token) = pet_store().await;
    let client = mcp_client(&app.mcp_url("pets"), Some(&token), Era::Legacy).await.unwrap();
    let before = up.seen().len();
    for (args, needle) in [
        (json!({}), "\"name\" is a required property"),
        (json!({"name": "Rex", "age": -1}), "/age"),
        (json!({"name": "Rex", "age": "old"}), "is not of type \"integer\""),
        (json!({"name": "Rex", "colour": "red"}), "colour"),
    ] {
        let result = call(&client, "create_pet", args.clone()).await.unwrap();
        assert_eq!(result.is_error, Some(true), "{args}");
        assert!(text(&result).contains(needle), "{args}: {}", text(&result));
    }
    assert_eq!(up.seen().len(), before, "nothing reached the upstream");

    let error = call(&client, "no_such_tool", json!({})).await.unwrap_err();
    assert!(error.contains("unknown tool `no_such_tool`"), "{error}");
}

#[tokio::test]
async fn servers_go_live_change_and_go_away_without_a_restart() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let v1 = spec("live", vec![tool("one", "GET", &up.url("/one"))]);
    let (id, token) = app.deploy(&api, v1, json!({})).await;
    let token = token.unwrap();

    let client = mcp_client(&app.mcp_url("live"), Some(&token), Era::Legacy).await.unwrap();
    assert_eq!(call(&client, "one", json!({})).await.unwrap().is_error, Some(false));

    let v2 = spec("live", vec![tool("one", "GET", &up.url("/one")), tool("two", "POST", &up.url("/two"))]);
    let response = app.api(Method::PUT, &format!("/api/v1/servers/{id}"), &api, Some(json!({"spec": v2}))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let client = mcp_client(&app.mcp_url("live"), Some(&token), Era::Modern).await.unwrap();
    let names: Vec<String> = client.list_all_tools().await.unwrap().iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["one", "two"]);
    call(&client, "two", json!({})).await.unwrap();
    assert_eq!(up.last().path, "/two");

    let response = app.api(Method::POST, &format!("/api/v1/servers/{id}/disable"), &api, None).await;
    assert_eq!(json(response).await["status"], "disabled");
    let response = app.anonymous().post(app.mcp_url("live")).bearer_auth(&token).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = json(response).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("/mcp/live"), "{body}");

    app.api(Method::POST, &format!("/api/v1/servers/{id}/deploy"), &api, None).await;
    assert!(mcp_client(&app.mcp_url("live"), Some(&token), Era::Legacy).await.is_ok());
    let response = app.api(Method::DELETE, &format!("/api/v1/servers/{id}"), &api, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(app.services.engine.get("live").is_none());
}

#[tokio::test]
async fn active_servers_are_mounted_again_after_a_restart() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let (_, token) = app.deploy(&api, spec("persist", vec![tool("ping", "GET", &up.url("/ping"))]), json!({})).await;
    let dir = app.stop().await;

    // A new process on the same data directory (and the key kept there).
    let again = TestApp::spawn_in(dir, |c| c.allow_private_upstreams = true).await;
    let client = mcp_client(&again.mcp_url("persist"), token.as_deref(), Era::Legacy).await.unwrap();
    let result = call(&client, "ping", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
}

#[tokio::test]
async fn a_thousand_mounted_servers_each_answer() {
    let app = TestApp::with_local_upstreams().await;
    let (_, api) = app.account("big@example.com", Tier::Paid).await;
    for i in 0..1000 {
        let body = json!({
            "spec": spec(&format!("s{i}"), vec![tool(&format!("tool_{i}"), "GET", "http://127.0.0.1:9/x")]),
            "client_auth": "public",
            "deploy": true,
        });
        let response = app.api(Method::POST, "/api/v1/servers", &api, Some(body)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_eq!(app.services.engine.mounted(), 1000);
    let client = app.anonymous();
    for i in 0..1000 {
        let response = client
            .post(app.mcp_url(&format!("s{i}")))
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": i, "method": "tools/list"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "s{i}");
        let body = json(response).await;
        assert_eq!(body["result"]["tools"][0]["name"], format!("tool_{i}"), "s{i}");
    }
}

#[tokio::test]
async fn the_call_log_records_outcomes_without_secrets() {
    let (app, _up, id, token) = pet_store().await;
    let client = mcp_client(&app.mcp_url("pets"), Some(&token), Era::Legacy).await.unwrap();
    call(&client, "get_pet", json!({"id": "1"})).await.unwrap();
    call(&client, "not_found", json!({})).await.unwrap();
    call(&client, "create_pet", json!({})).await.unwrap();

    let owner = app.services.accounts.user_by_email("owner@example.com").await.unwrap().unwrap();
    let api_token = app.services.accounts.create_token(&owner.id, "log").await.unwrap();
    let mut calls = serde_json::Value::Null;
    for _ in 0..50 {
        calls = json(app.api(Method::GET, &format!("/api/v1/servers/{id}/calls"), &api_token, None).await).await;
        if calls.as_array().is_some_and(|c| c.len() == 3) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let calls = calls.as_array().expect("a list of calls");
    assert_eq!(calls.len(), 3, "{calls:?}");
    let outcome = |tool: &str| calls.iter().find(|c| c["tool"] == tool).unwrap().clone();
    assert_eq!(outcome("get_pet")["outcome"], "ok");
    assert_eq!(outcome("get_pet")["upstream_status"], 200);
    assert_eq!(outcome("not_found")["outcome"], "upstream_error");
    assert_eq!(outcome("not_found")["upstream_status"], 404);
    assert_eq!(outcome("create_pet")["outcome"], "invalid_arguments");
    assert!(!serde_json::to_string(calls).unwrap().contains("sk-live"));
}

#[tokio::test]
async fn credentials_are_sealed_and_never_returned() {
    let (app, _up, id, _) = pet_store().await;
    let owner = app.services.accounts.user_by_email("owner@example.com").await.unwrap().unwrap();
    let api = app.services.accounts.create_token(&owner.id, "t").await.unwrap();
    let view = json(app.api(Method::GET, &format!("/api/v1/servers/{id}"), &api, None).await).await;
    assert_eq!(view["credentials"], json!(["api_key", "login"]));
    assert_eq!(view["missing_credentials"], json!([]));
    let listed = app.api(Method::GET, "/api/v1/servers", &api, None).await.text().await.unwrap();
    assert!(!view.to_string().contains("sk-live") && !listed.contains("sk-live"));
    let sealed = sql::strings(&app.services.db, "select sealed from server_credentials", &[]).await;
    assert_eq!(sealed.len(), 2);
    assert!(sealed.iter().all(|s| !s.contains("sk-live") && !s.contains("ada:pw")));
}

#[tokio::test]
async fn calls_in_flight_finish_on_the_version_they_started_with() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let (id, token) = app.deploy(&api, spec("swap", vec![tool("work", "GET", &up.url("/slow/600"))]), json!({})).await;
    let token = token.unwrap();
    let client = mcp_client(&app.mcp_url("swap"), Some(&token), Era::Legacy).await.unwrap();

    let in_flight = tokio::spawn(async move { call(&client, "work", json!({})).await });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let v2 = spec("swap", vec![tool("work", "GET", &up.url("/v2"))]);
    let response = app.api(Method::PUT, &format!("/api/v1/servers/{id}"), &api, Some(json!({"spec": v2}))).await;
    assert_eq!(response.status(), StatusCode::OK);

    let client = mcp_client(&app.mcp_url("swap"), Some(&token), Era::Legacy).await.unwrap();
    let result = call(&client, "work", json!({})).await.unwrap();
    assert_eq!(result.structured_content.unwrap()["path"], "/v2");
    let old = in_flight.await.unwrap().unwrap();
    assert_eq!(old.is_error, Some(false), "{}", text(&old));
    assert_eq!(old.structured_content.unwrap()["slow"], true);
}

#[tokio::test]
async fn a_downgrade_takes_servers_that_no_longer_fit_offline() {
    let app = TestApp::with_local_upstreams().await;
    let (admin, admin_api) = app.account("root@example.com", Tier::Paid).await;
    assert!(admin.is_admin);
    let (user, api) = app.account("ada@example.com", Tier::Paid).await;
    let five: Vec<_> = (0..5).map(|i| tool(&format!("t{i}"), "GET", "http://127.0.0.1:9/")).collect();
    let (id, _) = app.deploy(&api, spec("wide", five), json!({"client_auth": "public"})).await;
    let (small, _) = app.deploy(&api, spec("small", vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({})).await;
    assert!(app.services.engine.get("wide").is_some());

    let body = json!({"tier": "free"});
    let response = app.api(Method::PUT, &format!("/api/v1/admin/users/{}/tier", user.id), &admin_api, Some(body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(app.services.engine.get("wide").is_none(), "5 tools do not fit the free tier");
    assert_eq!(
        json(app.api(Method::GET, &format!("/api/v1/servers/{id}"), &api, None).await).await["status"],
        "disabled"
    );
    let small = json(app.api(Method::GET, &format!("/api/v1/servers/{small}"), &api, None).await).await;
    assert_eq!(small["status"], "active");
    assert_eq!(small["limits"]["calls_per_minute"], 60, "free limits now apply");
    assert!(app.services.engine.get("small").is_some());
}

#[tokio::test]
async fn call_log_entries_older_than_14_days_are_pruned() {
    let app = TestApp::spawn().await;
    let now_ms = server::db::now() * 1000;
    for (tool, age_days) in [("old", 15), ("recent", 13)] {
        sql::exec(
            &app.services.db,
            "insert into call_log (server_id, owner_id, tool, started_at, duration_ms, outcome)
             values ('s', 'o', $1, $2, 1, 'ok')",
            &[tool.into(), (now_ms - age_days * 86_400_000).into()],
        )
        .await;
    }
    // (The background pruner may have run first; either way one pass has now run.)
    assert!(
        server::engine::calllog::prune(&server::store::calls::CallStore::new(app.services.db.clone())).await.unwrap()
            <= 1
    );
    let left = sql::strings(&app.services.db, "select tool from call_log", &[]).await;
    assert_eq!(left, ["recent"]);
}

#[tokio::test]
async fn call_records_queued_at_shutdown_are_written() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    app.deploy(&api, spec("flush", vec![tool("t", "GET", &up.url("/x"))]), json!({"client_auth": "public"})).await;
    let client = mcp_client(&app.mcp_url("flush"), None, Era::Legacy).await.unwrap();
    for _ in 0..3 {
        call(&client, "t", json!({})).await.unwrap();
    }
    // Stop at once: the writer is still gathering these calls.
    let dir = app.stop().await;
    let again = TestApp::spawn_in(dir, |_| {}).await;
    let logged = sql::int(&again.services.db, "select count(*) from call_log", &[]).await;
    assert_eq!(logged, 3);
    let counted = sql::int(&again.services.db, "select calls from monthly_usage", &[]).await;
    assert_eq!(counted, 3);
}

#[tokio::test]
async fn a_reconcile_catches_up_with_changes_whose_announcement_was_missed() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let (id, _) =
        app.deploy(&api, spec("quiet", vec![tool("t", "GET", &up.url("/x"))]), json!({"client_auth": "public"})).await;
    let servers = &app.services.servers;
    let nothing = server::servers::sync::Reconciled::default();
    assert_eq!(servers.reconcile().await.unwrap(), nothing, "what is mounted is what is stored");

    // Changed behind this process's back (as by a replica whose notice was lost).
    sql::exec(&app.services.db, "update servers set status = 'disabled' where id = $1", &[(&id).into()]).await;
    assert!(app.services.engine.get("quiet").is_some());
    let done = servers.reconcile().await.unwrap();
    assert_eq!((done.mounted, done.unmounted), (0, 1));
    assert!(app.services.engine.get("quiet").is_none());

    // Back, renamed, within the same second: the revision still differs.
    let renamed = spec("loud", vec![tool("t", "GET", &up.url("/x"))]).to_string();
    sql::exec(
        &app.services.db,
        "update servers set status = 'active', slug = 'loud', spec = $1 where id = $2",
        &[renamed.into(), (&id).into()],
    )
    .await;
    let done = servers.reconcile().await.unwrap();
    assert_eq!((done.mounted, done.unmounted), (1, 0));
    assert!(app.services.engine.get("loud").is_some() && app.services.engine.get("quiet").is_none());
    assert_eq!(servers.reconcile().await.unwrap(), nothing);
}
