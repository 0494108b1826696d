//! The authorization server over HTTP on loopback: metadata, dynamic
//! registration with its limit, the token endpoint (code + PKCE, refresh
//! rotation, resource binding) and revocation. The consent step is played
//! by the storage call the consent form makes (the page itself is tested in
//! oauth_connect.rs).

mod common;

use app::model::Tier;
use common::oauth::{CHALLENGE, REDIRECT, VERIFIER, post_form};
use common::{TestApp, json, spec, tool};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn register(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let response = app.anonymous().post(app.url("/oauth/register")).json(&body).send().await.unwrap();
    (response.status(), json(response).await)
}

#[tokio::test]
async fn metadata_and_registration() {
    let app = TestApp::with_local_upstreams().await;
    for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
        let response =
            app.anonymous().get(app.url(path)).header("origin", "https://inspector.example").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let metadata = json(response).await;
        assert_eq!(metadata["issuer"], app.origin());
        assert_eq!(metadata["token_endpoint"], format!("{}/oauth/token", app.origin()));
        assert_eq!(metadata["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(metadata["client_id_metadata_document_supported"], true);
    }
    let preflight = app
        .anonymous()
        .request(reqwest::Method::OPTIONS, app.url("/oauth/token"))
        .header("origin", "https://inspector.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);

    let (status, client) = register(&app, json!({"client_name": "CLI", "redirect_uris": [REDIRECT]})).await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    assert!(client["client_id"].as_str().unwrap().starts_with("amcp_client_"));
    assert_eq!(client["token_endpoint_auth_method"], "none");
    let (status, error) = register(&app, json!({"redirect_uris": ["http://evil.example/cb"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "invalid_redirect_uri");
    let (status, error) =
        register(&app, json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "invalid_client_metadata");
    for _ in 1..20 {
        assert_eq!(register(&app, json!({"redirect_uris": [REDIRECT]})).await.0, StatusCode::CREATED);
    }
    let (status, error) = register(&app, json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error_description"].as_str().unwrap().contains("per hour"), "{error}");
}

async fn exchange(
    app: &TestApp,
    client_id: &str,
    code: String,
    verifier: &str,
    resource: String,
) -> (StatusCode, Value, Option<String>) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
        ("resource", resource.as_str()),
    ];
    post_form(app, "/oauth/token", &form).await
}

async fn refresh_with(app: &TestApp, client_id: &str, token: String) -> (StatusCode, Value, Option<String>) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("client_id", client_id)];
    post_form(app, "/oauth/token", &form).await
}

#[tokio::test]
async fn codes_become_tokens_with_pkce_and_refresh_rotates() {
    let app = TestApp::with_local_upstreams().await;
    let (user, api) = app.account("owner@example.com", Tier::Free).await;
    let (server_id, _) = app.deploy(&api, spec("pets", vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({})).await;
    app.deploy(&api, spec("other", vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({})).await;
    let (_, client) = register(&app, json!({"redirect_uris": [REDIRECT]})).await;
    let client_id = client["client_id"].as_str().unwrap().to_owned();
    let store = &app.services.oauth.store;
    let resource = format!("{}/mcp/pets", app.origin());
    let consent = || store.consent(&server_id, &client_id, &user.id, REDIRECT, CHALLENGE);
    let exchange =
        |code: String, verifier: &'static str, resource: String| exchange(&app, &client_id, code, verifier, resource);

    // A wrong verifier spends nothing useful; a code is good once.
    let code = consent().await.unwrap();
    let (status, error, _) =
        exchange(code.clone(), "wrong-verifier-wrong-verifier-wrong-verifier-0", resource.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "invalid_grant", "{error}");
    let code = consent().await.unwrap();
    let (status, error, _) = exchange(code, VERIFIER, format!("{}/mcp/other", app.origin())).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_target")));

    let code = consent().await.unwrap();
    let (status, tokens, cache) = exchange(code.clone(), VERIFIER, resource.clone()).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(cache.as_deref(), Some("no-store"));
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("amcp_oat_"));
    let stored = store.access(&access).await.unwrap().unwrap();
    assert_eq!(stored.server_id, server_id);
    let (status, error, _) = exchange(code, VERIFIER, resource.clone()).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(store.access(&access).await.unwrap(), None, "a reused code revokes what it gave");

    // Refresh: rotation, and reuse revokes the chain.
    let code = consent().await.unwrap();
    let (_, tokens, _) = exchange(code, VERIFIER, resource.clone()).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh_form = |token: String| refresh_with(&app, &client_id, token);
    let (status, rotated, _) = refresh_form(refresh.clone()).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_ne!(rotated["refresh_token"], tokens["refresh_token"]);
    let (status, error, _) = refresh_form(refresh).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (status, _, _) = refresh_form(rotated["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the chain is revoked");

    // Revocation (RFC 7009) answers 200 and ends the chain.
    let code = consent().await.unwrap();
    let (_, tokens, _) = exchange(code, VERIFIER, resource).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _, _) =
        post_form(&app, "/oauth/revoke", &[("token", refresh), ("client_id", client_id.as_str())]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(store.access(tokens["access_token"].as_str().unwrap()).await.unwrap(), None);
    let (status, error, _) = post_form(&app, "/oauth/token", &[("grant_type", "password"), ("client_id", "x")]).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unsupported_grant_type")));
}
