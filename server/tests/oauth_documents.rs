//! Clients known by a Client ID Metadata Document: the client_id is an
//! https URL whose document AutoMCP fetches through the SSRF guard. Served
//! here by an https server on loopback (its CA trusted through the
//! operator's `extra_ca_file`; loopback reachable through the operator's
//! private-address switch, which only tests turn on).

mod common;

use app::model::Tier;
use common::oauth::{CHALLENGE, Documents, REDIRECT, VERIFIER, approve, consent_view, params_of, post_form};
use common::upstream::Upstream;
use common::{PASSWORD, TestApp, json, spec, tool};
use reqwest::StatusCode;
use serde_json::json;

fn document(client_id: &str) -> String {
    json!({
        "client_id": client_id,
        "client_name": "Document client",
        "client_uri": "https://client.example/",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
    })
    .to_string()
}

fn query(app: &TestApp, client_id: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "st")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", &app.mcp_url("docs"))
        .finish()
}

async fn app_with(documents: &Documents, allow_private: bool) -> TestApp {
    let ca = documents.ca_file.clone();
    let app = TestApp::spawn_with(move |config| {
        config.allow_private_upstreams = allow_private;
        config.extra_ca_file = Some(ca);
    })
    .await;
    let upstream = Upstream::start().await;
    let (_, api) = app.account("owner@example.com", Tier::Free).await;
    app.deploy(&api, spec("docs", vec![tool("echo", "GET", &upstream.url("/echo"))]), json!({"client_auth": "oauth"}))
        .await;
    assert_eq!(app.log_in("owner@example.com", PASSWORD).await.status(), StatusCode::OK);
    app
}

#[tokio::test]
async fn a_metadata_document_is_fetched_checked_and_used() {
    let documents = Documents::start().await;
    let app = app_with(&documents, true).await;
    let client_id = documents.url("/client.json");
    documents.serve("/client.json", document(&client_id));

    let metadata =
        json(app.anonymous().get(app.url("/.well-known/oauth-authorization-server")).send().await.unwrap()).await;
    assert_eq!(metadata["client_id_metadata_document_supported"], true);

    let back = approve(&app, &app.url(&format!("/oauth/authorize?{}", query(&app, &client_id)))).await;
    let code = params_of(&back)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", client_id.as_str()),
        ("code_verifier", VERIFIER),
        ("resource", &app.mcp_url("docs")),
    ];
    let (status, tokens, _) = post_form(&app, "/oauth/token", &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let client = common::mcp_client(&app.mcp_url("docs"), Some(&access), common::Era::Legacy).await.unwrap();
    assert_eq!(client.list_all_tools().await.unwrap().len(), 1);
    let view = consent_view(&app, &query(&app, &client_id)).await;
    assert_eq!(view["client_name"], "Document client");
    assert_eq!(view["client_domain"], "localhost", "the domain is the document's host, not what it claims");

    // A document naming another client_id, an oversized one, a missing one.
    let liar = documents.url("/liar.json");
    documents.serve("/liar.json", document("https://someone-else.example/client.json"));
    let view = consent_view(&app, &query(&app, &liar)).await;
    assert!(view["error"].to_string().contains("is not the URL it was fetched from"), "{view}");
    let big = documents.url("/big.json");
    let mut padded: serde_json::Value = serde_json::from_str(&document(&big)).unwrap();
    padded["logo_padding"] = json!("x".repeat(20 * 1024));
    documents.serve("/big.json", padded.to_string());
    let view = consent_view(&app, &query(&app, &big)).await;
    assert!(view["error"].to_string().contains("KiB"), "{view}");
    let view = consent_view(&app, &query(&app, &documents.url("/missing.json"))).await;
    assert!(view["error"].to_string().contains("answered HTTP 404"), "{view}");
    let view = consent_view(&app, &query(&app, &format!("http://localhost:{}/client.json", documents.port))).await;
    assert!(view["error"].to_string().contains("must be an https URL"), "{view}");
}

#[tokio::test]
async fn private_addresses_are_refused_without_the_operator_switch() {
    let documents = Documents::start().await;
    let app = app_with(&documents, false).await;
    let client_id = documents.url("/client.json");
    documents.serve("/client.json", document(&client_id));
    let view = consent_view(&app, &query(&app, &client_id)).await;
    let error = view["error"].to_string();
    assert!(error.contains("client metadata at"), "{view}");
    assert!(error.contains("private") || error.contains("loopback") || error.contains("not allowed"), "{view}");
}
