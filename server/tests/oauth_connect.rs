//! An `oauth` server connected by a real OAuth client with nothing but its
//! URL: rmcp's client discovers the metadata from the 401, registers
//! (RFC 7591), sends the user to consent (played here over HTTP with the
//! owner's browser cookies), exchanges the code with PKCE, calls tools,
//! refreshes, and is revoked. Then every way a client or user can be refused.

mod common;

use app::model::Tier;
use common::oauth::{
    REDIRECT, VERIFIER, approve, authorization_url, consent_view, decide, open_consent, params_of, post_form, register,
    tokens_for,
};
use common::sql;
use common::upstream::Upstream;
use common::{PASSWORD, TestApp, json, spec, tool};
use reqwest::{Method, StatusCode};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::auth::{AuthClient, AuthorizationRequest, OAuthState};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};

/// An app with an owner (signed in in `app.client`) and a live `oauth` server.
async fn oauth_server(app: &TestApp, upstream: &Upstream, slug: &str) -> (String, String) {
    let email = format!("owner-{slug}@example.com");
    let (_, api) = app.account(&email, Tier::Free).await;
    let (id, token) = app
        .deploy(&api, spec(slug, vec![tool("echo", "GET", &upstream.url("/echo"))]), json!({"client_auth": "oauth"}))
        .await;
    assert_eq!(token, None, "an oauth server has no static token");
    assert_eq!(app.log_in(&email, PASSWORD).await.status(), StatusCode::OK);
    (id, api)
}

async fn post_mcp(app: &TestApp, slug: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app
        .anonymous()
        .post(app.mcp_url(slug))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn challenge_of(response: &reqwest::Response) -> String {
    response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn rmcp_client_connects_with_nothing_but_the_url() {
    let app = TestApp::with_local_upstreams().await;
    let upstream = Upstream::start().await;
    let (server_id, api) = oauth_server(&app, &upstream, "pets").await;
    let endpoint = app.mcp_url("pets");

    // Discovery starts from the 401.
    let response = post_mcp(&app, "pets", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = challenge_of(&response);
    let metadata_url = format!("{}/.well-known/oauth-protected-resource/mcp/pets", app.origin());
    assert_eq!(challenge, format!("Bearer resource_metadata=\"{metadata_url}\", scope=\"mcp\""));
    for url in [metadata_url.clone(), format!("{endpoint}/.well-known/oauth-protected-resource")] {
        let metadata = json(app.anonymous().get(&url).send().await.unwrap()).await;
        assert_eq!(metadata["resource"], endpoint, "{url}");
        assert_eq!(metadata["authorization_servers"], json!([app.origin()]));
    }

    // rmcp's client: discovery, registration, PKCE; the owner allows it.
    let mut state = OAuthState::new(endpoint.as_str(), None).await.unwrap();
    let request = AuthorizationRequest::new(REDIRECT).with_client_name("rmcp test client").with_challenge(challenge);
    state.start_authorization(request).await.unwrap();
    let authorization_url = state.get_authorization_url().await.unwrap();
    let (view, query) = open_consent(&app, &authorization_url).await;
    assert_eq!(view["client_name"], "rmcp test client", "{view}");
    assert_eq!(view["server_name"], "Server pets");
    assert_eq!(view["redirect_host"], "127.0.0.1");
    assert_eq!(view["signed_in_as"], "owner-pets@example.com");
    assert_eq!(view["refusal"], Value::Null);
    let back = decide(&app, &query, "allow").await;
    assert!(back.starts_with(REDIRECT), "{back}");
    assert_eq!(params_of(&back)["iss"], app.origin(), "RFC 9207: the issuer is in the response");
    state.handle_callback_url(&back).await.unwrap();
    let manager = state.into_authorization_manager().expect("authorized");
    let auth_client = AuthClient::new(reqwest::Client::new(), manager);
    let auth_manager = auth_client.auth_manager.clone();
    let transport = StreamableHttpClientTransport::with_client(
        auth_client,
        StreamableHttpClientTransportConfig::with_uri(endpoint.clone()),
    );
    let client = ().serve(transport).await.unwrap();
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.iter().map(|t| t.name.to_string()).collect::<Vec<_>>(), ["echo"]);
    let result = client.call_tool(CallToolRequestParams::new("echo")).await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");

    // The call log says which client and which account called.
    let calls = poll_calls(&app, &api, &server_id).await;
    assert_eq!(calls[0]["client"], "rmcp test client", "{calls:?}");
    assert_eq!(calls[0]["user"], "owner-pets@example.com");
    let clients = json(app.api(Method::GET, &format!("/api/v1/servers/{server_id}/clients"), &api, None).await).await;
    assert_eq!(clients.as_array().unwrap().len(), 1, "{clients}");
    assert_eq!(clients[0]["client_name"], "rmcp test client");
    assert_eq!(clients[0]["user_email"], "owner-pets@example.com");

    // Refresh: a new access token (rotated refresh token) keeps working.
    let before = auth_manager.lock().await.get_access_token().await.unwrap();
    auth_manager.lock().await.refresh_token().await.unwrap();
    let after = auth_manager.lock().await.get_access_token().await.unwrap();
    assert_ne!(before, after);
    assert_eq!(
        post_mcp(&app, "pets", Some(&before)).await.status(),
        StatusCode::OK,
        "access tokens live out their hour"
    );
    client.call_tool(CallToolRequestParams::new("echo")).await.unwrap();

    // The owner revokes it: refused from the next request on.
    let grant = clients[0]["id"].as_str().unwrap();
    let revoked = app.api(Method::DELETE, &format!("/api/v1/servers/{server_id}/clients/{grant}"), &api, None).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let response = post_mcp(&app, "pets", Some(&after)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge_of(&response).starts_with("Bearer error=\"invalid_token\""), "{}", challenge_of(&response));
    assert!(client.call_tool(CallToolRequestParams::new("echo")).await.is_err());
    let clients = json(app.api(Method::GET, &format!("/api/v1/servers/{server_id}/clients"), &api, None).await).await;
    assert_eq!(clients, json!([]));
}

async fn poll_calls(app: &TestApp, api: &str, server_id: &str) -> Vec<Value> {
    for _ in 0..100 {
        let calls = json(app.api(Method::GET, &format!("/api/v1/servers/{server_id}/calls"), api, None).await).await;
        if let Some(calls) = calls.as_array().filter(|c| !c.is_empty()) {
            return calls.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no call was logged");
}

/// Where a GET of the authorization URL sends the browser.
async fn first_hop(app: &TestApp, url: &str) -> String {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn tokens_are_bound_to_their_server_and_die_when_expired_or_revoked() {
    let app = TestApp::with_local_upstreams().await;
    let upstream = Upstream::start().await;
    let (_, api) = oauth_server(&app, &upstream, "alpha").await;
    app.deploy(&api, spec("beta", vec![tool("echo", "GET", &upstream.url("/echo"))]), json!({"client_auth": "oauth"}))
        .await;
    let client_id = register(&app).await;
    let tokens = tokens_for(&app, &client_id, "alpha").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(post_mcp(&app, "alpha", Some(access)).await.status(), StatusCode::OK);

    // Slug A's token on slug B.
    let response = post_mcp(&app, "beta", Some(access)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge_of(&response).contains("issued for another server"), "{}", challenge_of(&response));
    assert!(challenge_of(&response).contains("/.well-known/oauth-protected-resource/mcp/beta"));

    // Expired (made so in the database before its first use: a token this
    // process has checked carries the expiry it had then).
    let expiring = tokens_for(&app, &client_id, "alpha").await;
    let expiring = expiring["access_token"].as_str().unwrap();
    sql::exec(&app.services.db, "update oauth_tokens set expires_at = 0 where kind = 'access'", &[]).await;
    let response = post_mcp(&app, "alpha", Some(expiring)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge_of(&response).contains("not valid (expired, revoked or unknown)"));

    // Revoked by the client (RFC 7009).
    let tokens = tokens_for(&app, &client_id, "alpha").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(post_mcp(&app, "alpha", Some(access)).await.status(), StatusCode::OK);
    let form = [("token", access), ("client_id", client_id.as_str())];
    post_form(&app, "/oauth/revoke", &form).await;
    assert_eq!(post_mcp(&app, "alpha", Some(access)).await.status(), StatusCode::UNAUTHORIZED);

    // An expired code.
    let back = approve(&app, &authorization_url(&app, &client_id, "alpha", &[]).await).await;
    sql::exec(&app.services.db, "update oauth_codes set expires_at = 0", &[]).await;
    let code = params_of(&back)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", client_id.as_str()),
        ("code_verifier", VERIFIER),
    ];
    let (status, error, _) = post_form(&app, "/oauth/token", &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (error["error"].as_str(), error["error_description"].as_str()),
        (Some("invalid_grant"), Some("the code has expired"))
    );
}

#[tokio::test]
async fn bad_requests_are_refused_where_they_belong() {
    let app = TestApp::with_local_upstreams().await;
    let upstream = Upstream::start().await;
    oauth_server(&app, &upstream, "gamma").await;
    let client_id = register(&app).await;

    // `plain` PKCE goes back to the (verified) client, with state and iss.
    let url = authorization_url(&app, &client_id, "gamma", &[]).await.replace("S256", "plain");
    let params = params_of(&first_hop(&app, &url).await);
    assert_eq!(params["error"], "invalid_request", "{params:?}");
    assert!(params["error_description"].contains("S256"), "{params:?}");
    assert_eq!((params["state"].as_str(), params["iss"].as_str()), ("s-123", app.origin().as_str()));

    // A redirect URI the client did not register is never followed: the
    // user sees why, on our page and from the form.
    let url = authorization_url(&app, &client_id, "gamma", &[])
        .await
        .replace("7777", "7778")
        .replace("%2Fcallback", "%2Fevil");
    let location = first_hop(&app, &url).await;
    let query = location.strip_prefix("/oauth/consent?").expect("shown to the user, not redirected");
    let view = consent_view(&app, query).await;
    assert!(view["error"].to_string().contains("redirect_uri is not one the client registered"), "{view}");
    let response = app
        .client
        .post(app.url(&format!("/oauth/authorize?{query}")))
        .header("origin", app.origin())
        .form(&[("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("redirect_uri is not one the client registered"));

    // An unknown client, and a server that is not an oauth one.
    let view = consent_view(&app, "client_id=nobody&response_type=code").await;
    assert!(view["error"].to_string().contains("neither a registered client nor a URL"), "{view}");
    let (_, api) = app.account("other@example.com", Tier::Free).await;
    app.deploy(&api, spec("tokened", vec![tool("echo", "GET", &upstream.url("/echo"))]), json!({})).await;
    let location = first_hop(&app, &authorization_url(&app, &client_id, "tokened", &[]).await).await;
    assert_eq!(params_of(&location)["error"], "invalid_target", "{location}");

    // A denied consent.
    let (_, query) = open_consent(&app, &authorization_url(&app, &client_id, "gamma", &[]).await).await;
    let back = decide(&app, &query, "deny").await;
    let params = params_of(&back);
    assert_eq!((params["error"].as_str(), params["state"].as_str()), ("access_denied", "s-123"));
    assert!(!params.contains_key("code"));

    // Cross-site form posts are refused.
    let response = app
        .client
        .post(app.url(&format!("/oauth/authorize?{query}")))
        .header("origin", "https://evil.example")
        .form(&[("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_owner_decides_who_may_connect() {
    let app = TestApp::with_local_upstreams().await;
    let upstream = Upstream::start().await;
    let (server_id, owner_api) = oauth_server(&app, &upstream, "delta").await;
    let client_id = register(&app).await;
    app.account("friend@example.com", Tier::Free).await;
    assert_eq!(app.log_in("friend@example.com", PASSWORD).await.status(), StatusCode::OK);

    // Only the owner, by default: another account sees why and gets access_denied.
    let (view, query) = open_consent(&app, &authorization_url(&app, &client_id, "delta", &[]).await).await;
    assert_eq!(view["signed_in_as"], "friend@example.com");
    assert!(view["refusal"].as_str().unwrap().contains("does not let friend@example.com connect"), "{view}");
    let params = params_of(&decide(&app, &query, "allow").await);
    assert_eq!(params["error"], "access_denied");
    assert!(params["error_description"].contains("does not let"));

    // Listed: allowed, and its token works...
    let path = format!("/api/v1/servers/{server_id}");
    let set = |access: Value| app.api(Method::PUT, &path, &owner_api, Some(json!({"oauth_access": access})));
    let response = set(json!({"who": "emails", "emails": ["Friend@Example.com", "not an email"]})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(set(json!({"who": "emails", "emails": [" Friend@Example.com "]})).await.status(), StatusCode::OK);
    let server = json(app.api(Method::GET, &format!("/api/v1/servers/{server_id}"), &owner_api, None).await).await;
    assert_eq!(server["oauth_access"], json!({"who": "emails", "emails": ["friend@example.com"]}));
    let tokens = tokens_for(&app, &client_id, "delta").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(post_mcp(&app, "delta", Some(access)).await.status(), StatusCode::OK);

    // ...until the owner narrows it again: refused from the next request on.
    assert_eq!(set(json!({"who": "owner"})).await.status(), StatusCode::OK);
    let response = post_mcp(&app, "delta", Some(access)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(challenge_of(&response).contains("does not let this account connect"));
    assert_eq!(set(json!({"who": "any_account"})).await.status(), StatusCode::OK);
    assert_eq!(post_mcp(&app, "delta", Some(access)).await.status(), StatusCode::OK);
}

/// A token that was just used (so this process remembers it) is refused
/// from the next request on after each way its grant can be revoked by a
/// replayed secret: a code used twice, a refresh token used twice.
#[tokio::test]
async fn a_remembered_token_is_refused_after_a_replayed_code_or_refresh_token() {
    let app = TestApp::with_local_upstreams().await;
    let upstream = Upstream::start().await;
    oauth_server(&app, &upstream, "zeta").await;
    let client_id = register(&app).await;

    // A code presented twice revokes the tokens the first use gave.
    let back = approve(&app, &authorization_url(&app, &client_id, "zeta", &[]).await).await;
    let code = params_of(&back)["code"].clone();
    let resource = app.mcp_url("zeta");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("resource", resource.as_str()),
    ];
    let (status, tokens, _) = post_form(&app, "/oauth/token", &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(post_mcp(&app, "zeta", Some(access)).await.status(), StatusCode::OK);
    }
    assert_eq!(post_form(&app, "/oauth/token", &form).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(post_mcp(&app, "zeta", Some(access)).await.status(), StatusCode::UNAUTHORIZED);

    // A refresh token presented twice revokes its whole chain.
    let tokens = tokens_for(&app, &client_id, "zeta").await;
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("client_id", client_id.as_str()),
    ];
    let (status, rotated, _) = post_form(&app, "/oauth/token", &refresh).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let access = rotated["access_token"].as_str().unwrap();
    assert_eq!(post_mcp(&app, "zeta", Some(access)).await.status(), StatusCode::OK);
    assert_eq!(post_form(&app, "/oauth/token", &refresh).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(post_mcp(&app, "zeta", Some(access)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changing_client_auth_revokes_what_the_old_mode_issued() {
    let app = TestApp::with_local_upstreams().await;
    let upstream = Upstream::start().await;
    let (server_id, api) = oauth_server(&app, &upstream, "epsilon").await;
    let client_id = register(&app).await;
    let tokens = tokens_for(&app, &client_id, "epsilon").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(post_mcp(&app, "epsilon", Some(access)).await.status(), StatusCode::OK);

    // To a token: OAuth grants are revoked, and OAuth is no longer advertised.
    let rotated = json(app.api(Method::POST, &format!("/api/v1/servers/{server_id}/token"), &api, None).await).await;
    let static_token = rotated["token"].as_str().unwrap();
    assert_eq!(post_mcp(&app, "epsilon", Some(access)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(post_mcp(&app, "epsilon", Some(static_token)).await.status(), StatusCode::OK);
    let response = post_mcp(&app, "epsilon", None).await;
    assert!(!challenge_of(&response).contains("resource_metadata"), "{}", challenge_of(&response));
    let metadata =
        app.anonymous().get(app.url("/.well-known/oauth-protected-resource/mcp/epsilon")).send().await.unwrap();
    assert_eq!(metadata.status(), StatusCode::NOT_FOUND);
    let clients = json(app.api(Method::GET, &format!("/api/v1/servers/{server_id}/clients"), &api, None).await).await;
    assert_eq!(clients, json!([]));

    // Back to OAuth: the static token stops working; a refresh token from
    // before is dead too.
    let body = json!({"client_auth": "oauth"});
    let changed = app.api(Method::PUT, &format!("/api/v1/servers/{server_id}"), &api, Some(body)).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(post_mcp(&app, "epsilon", Some(static_token)).await.status(), StatusCode::UNAUTHORIZED);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("client_id", client_id.as_str()),
    ];
    assert_eq!(post_form(&app, "/oauth/token", &form).await.0, StatusCode::BAD_REQUEST);
    let metadata =
        app.anonymous().get(app.url("/.well-known/oauth-protected-resource/mcp/epsilon")).send().await.unwrap();
    assert_eq!(metadata.status(), StatusCode::OK);
    let root = app.anonymous().get(app.url("/.well-known/oauth-protected-resource")).send().await.unwrap();
    assert_eq!(root.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn typescript_sdk_client_signs_in_with_its_oauth_provider() {
    let app = TestApp::with_local_upstreams().await;
    let upstream = Upstream::start().await;
    let (server_id, api) = oauth_server(&app, &upstream, "ts").await;
    let login = app
        .anonymous()
        .post(app.url("/api/fn/log_in"))
        .header("origin", app.origin())
        .header("accept", "application/json")
        .form(&[("email", "owner-ts@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    let report = common::interop::run_oauth_client(&app.mcp_url("ts"), &cookie, "echo").await;
    assert_eq!(report["tools"], json!(["echo"]), "{report}");
    assert_ne!(report["result"]["isError"], json!(true), "{report}");
    assert!(report["registered"].as_str().unwrap().starts_with("amcp_client_"), "{report}");
    assert_eq!(report["iss"], app.origin());
    let clients = json(app.api(Method::GET, &format!("/api/v1/servers/{server_id}/clients"), &api, None).await).await;
    assert_eq!(clients[0]["client_name"], "TypeScript SDK test client", "{clients}");
    let calls = poll_calls(&app, &api, &server_id).await;
    assert_eq!(calls[0]["client"], "TypeScript SDK test client");
}
