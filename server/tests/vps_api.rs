//! Paid-tier hosting through `/api/v1`: register a machine (a real sshd on
//! loopback), confirm its host key, deploy a server there, and reach it at
//! the same `/mcp/{slug}` on the main instance; redeploy, roll back, stop,
//! start, logs and remove; the free tier is refused.

mod common;

use app::model::Tier;
use common::sql;
use common::sshd::Sshd;
use common::upstream::Upstream;
use common::{Era, TestApp, call, json, mcp_client, oauth, text};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn settle(app: &TestApp, token: &str, operation: &Value) -> Value {
    let id = operation["id"].as_str().unwrap();
    for _ in 0..600 {
        let view = json(app.api(Method::GET, &format!("/api/v1/operations/{id}"), token, None).await).await;
        if view["status"] != "running" {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("operation {id} still running after 60 s");
}

async fn op(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> Value {
    let response = app.api(Method::POST, path, token, body).await;
    let status = response.status();
    let started = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    settle(app, token, &started).await
}

fn tool(name: &str, up: &Upstream) -> Value {
    json!({"name": name, "description": format!("{name} for a city"),
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
           "action": {"method": "GET", "url": up.url(&format!("/{name}/{{city}}")),
                      "auth": {"credential": "key", "placement": {"in": "header", "name": "X-Key"}}}})
}

async fn listed(app: &TestApp, token: &str) -> Vec<String> {
    let client = mcp_client(&app.mcp_url("weather"), Some(token), Era::Modern).await.unwrap();
    client.list_all_tools().await.unwrap().into_iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn a_paid_server_moves_to_a_machine_and_keeps_its_url() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("paid@example.com", Tier::Paid).await;
    let up = Upstream::start().await;

    // A live server hosted here first, with its client token.
    let spec = json!({"name": "Weather", "slug": "weather", "tools": [tool("forecast", &up), tool("alerts", &up)]});
    let (server, client_token) = app.deploy(&token, spec.clone(), json!({"credentials": {"key": "k-1"}})).await;
    let mut client_token = client_token.unwrap();
    assert_eq!(listed(&app, &client_token).await, ["forecast", "alerts"]);

    // Register the machine: a key pair is generated, and its public key goes
    // into the user's authorized_keys on the machine (the test sshd's file).
    let sshd = Sshd::start("");
    let body = json!({"name": "my box", "host": "127.0.0.1", "port": sshd.port, "user": sshd.user});
    let response = app.api(Method::POST, "/api/v1/targets", &token, Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let target = json(response).await;
    let target_id = target["id"].as_str().unwrap().to_owned();
    let public_key = target["public_key"].as_str().unwrap();
    assert_eq!(target["base_dir"], "~/.automcp");
    assert!(public_key.starts_with("ssh-ed25519 "), "{public_key}");
    std::fs::write(sshd.dir.path().join("authorized_keys"), format!("{public_key}\n")).unwrap();
    assert_eq!(target["host_key"], Value::Null);

    // Deploying before the host key is confirmed is refused.
    let response = app
        .api(
            Method::POST,
            &format!("/api/v1/servers/{server}/vps/deploy"),
            &token,
            Some(json!({"target_id": target_id})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(json(response).await["error"]["message"].as_str().unwrap().contains("host key"));

    let check = json(app.api(Method::POST, &format!("/api/v1/targets/{target_id}/check"), &token, None).await).await;
    assert_eq!(check["host_key"], sshd.host_key_fingerprint());
    assert_eq!(check["trusted"], false);
    assert!(check["platform"].as_str().unwrap().starts_with("Linux"), "{check}");
    let response = app
        .api(
            Method::POST,
            &format!("/api/v1/targets/{target_id}/trust"),
            &token,
            Some(json!({"host_key": "SHA256:wrong"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let trusted = json(
        app.api(
            Method::POST,
            &format!("/api/v1/targets/{target_id}/trust"),
            &token,
            Some(json!({"host_key": check["host_key"]})),
        )
        .await,
    )
    .await;
    assert_eq!(trusted["host_key"], check["host_key"]);

    // Deploy: steps as they happen, then the same URL forwards to the machine.
    let done =
        op(&app, &token, &format!("/api/v1/servers/{server}/vps/deploy"), Some(json!({"target_id": target_id}))).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let steps: Vec<&str> = done["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["connect", "upload", "install", "start", "health", "switch"], "{done}");
    let hosting = json(app.api(Method::GET, &format!("/api/v1/servers/{server}/hosting"), &token, None).await).await;
    assert_eq!(hosting["hosting"], "vps");
    assert_eq!(hosting["releases"][0]["status"], "serving");
    let before = up.seen().len();
    let client = mcp_client(&app.mcp_url("weather"), Some(&client_token), Era::Legacy).await.unwrap();
    let result = call(&client, "forecast", json!({"city": "Oslo"})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let seen = up.seen();
    assert_eq!(seen.len(), before + 1);
    assert_eq!(seen.last().unwrap().header("x-key"), Some("k-1"), "the machine has the credential");

    // Redeploy a changed spec: clients see the change only with the new release.
    let mut changed = spec.clone();
    changed["tools"] = json!([tool("radar", &up)]);
    let response =
        app.api(Method::PUT, &format!("/api/v1/servers/{server}"), &token, Some(json!({"spec": changed}))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(listed(&app, &client_token).await, ["forecast", "alerts"], "still release 1");
    let done =
        op(&app, &token, &format!("/api/v1/servers/{server}/vps/deploy"), Some(json!({"target_id": target_id}))).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(listed(&app, &client_token).await, ["radar"]);

    // Roll back to release 1.
    let done = op(&app, &token, &format!("/api/v1/servers/{server}/vps/rollback"), None).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(listed(&app, &client_token).await, ["forecast", "alerts"]);

    // Clients may sign in with OAuth: that happens here, and the forwarded
    // call still carries the runner token to the machine.
    let body = json!({"client_auth": "oauth"});
    let response = app.api(Method::PUT, &format!("/api/v1/servers/{server}"), &token, Some(body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.log_in("paid@example.com", common::PASSWORD).await.status(), StatusCode::OK);
    let client_id = oauth::register(&app).await;
    let access = oauth::tokens_for(&app, &client_id, "weather").await["access_token"].as_str().unwrap().to_owned();
    let before = up.seen().len();
    let client = mcp_client(&app.mcp_url("weather"), Some(&access), Era::Modern).await.unwrap();
    let result = call(&client, "forecast", json!({"city": "Oslo"})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(up.seen().len(), before + 1, "the call reached the machine and its upstream");
    let rotated = app.api(Method::POST, &format!("/api/v1/servers/{server}/token"), &token, None).await;
    client_token = json(rotated).await["token"].as_str().unwrap().to_owned();
    assert!(mcp_client(&app.mcp_url("weather"), Some(&access), Era::Modern).await.is_err(), "signed out by the switch");

    // Logs.
    let response = app.api(Method::GET, &format!("/api/v1/servers/{server}/vps/logs"), &token, None).await;
    assert!(response.text().await.unwrap().contains("standalone server is listening"));

    // A changed host key refuses to connect and says why; release 1 keeps serving.
    sql::exec(
        &app.services.db,
        "update vps_targets set host_key = 'SHA256:someothermachine' where id = $1",
        &[(&target_id).into()],
    )
    .await;
    let done =
        op(&app, &token, &format!("/api/v1/servers/{server}/vps/deploy"), Some(json!({"target_id": target_id}))).await;
    assert_eq!(done["status"], "failed");
    assert!(done["error"].as_str().unwrap().contains("host key"), "{done}");
    assert_eq!(listed(&app, &client_token).await, ["forecast", "alerts"]);
    sql::exec(
        &app.services.db,
        "update vps_targets set host_key = $1 where id = $2",
        &[check["host_key"].as_str().unwrap().into(), (&target_id).into()],
    )
    .await;

    // Stop: the endpoint answers 404; start: it serves again.
    let done = op(&app, &token, &format!("/api/v1/servers/{server}/vps/stop"), None).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let response = app.anonymous().post(app.mcp_url("weather")).body("{}").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let done = op(&app, &token, &format!("/api/v1/servers/{server}/vps/start"), None).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(listed(&app, &client_token).await, ["forecast", "alerts"]);

    // The server cannot be deleted while it runs there; remove cleans the machine.
    let response = app.api(Method::DELETE, &format!("/api/v1/servers/{server}"), &token, None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let done = op(&app, &token, &format!("/api/v1/servers/{server}/vps/remove"), None).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(!sshd.base_dir().join("servers/weather").exists());
    let hosting = json(app.api(Method::GET, &format!("/api/v1/servers/{server}/hosting"), &token, None).await).await;
    assert_eq!(hosting["hosting"], "here");
    // Hosted here again, at the same URL.
    let response = app.api(Method::POST, &format!("/api/v1/servers/{server}/deploy"), &token, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(listed(&app, &client_token).await, ["radar"]);
}

#[tokio::test]
async fn the_free_tier_is_refused_with_an_explanation() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("free@example.com", Tier::Free).await;
    let response = app
        .api(Method::POST, "/api/v1/targets", &token, Some(json!({"name": "box", "host": "127.0.0.1", "user": "me"})))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let message = json(response).await["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("paid tier") && message.contains("no tool limit"), "{message}");
}

#[tokio::test]
async fn a_pasted_key_is_accepted_and_bad_input_is_refused() {
    let app = TestApp::with_local_upstreams().await;
    let (_, token) = app.account("paste@example.com", Tier::Paid).await;
    let (private, public) = server::vps::ssh::generate_key("pasted");
    let body = json!({"name": "box", "host": "example.com", "user": "deploy", "private_key": private});
    let response = app.api(Method::POST, "/api/v1/targets", &token, Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let target = json(response).await;
    assert_eq!(target["public_key"], public.as_str());
    assert_eq!(target["key_source"], "pasted");
    assert!(!target.to_string().contains("PRIVATE KEY"), "the private key is never returned");
    for (body, field) in [
        (json!({"name": "b", "host": "ex ample", "user": "u"}), "host"),
        (json!({"name": "b", "host": "h", "user": "-oProxyCommand"}), "user"),
        (json!({"name": "b", "host": "h", "user": "u", "base_dir": "relative/dir"}), "base_dir"),
        (json!({"name": "b", "host": "h", "user": "u", "private_key": "not a key"}), "private_key"),
    ] {
        let response = app.api(Method::POST, "/api/v1/targets", &token, Some(body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(response).await["error"]["field"], field);
    }
}
