//! OAuth test helpers: the user's part of the authorization dance (sign-in
//! and consent, played over HTTP with the browser's cookies), and an https
//! server on loopback for client metadata documents.

use super::{TestApp, json};
use reqwest::StatusCode;
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The redirect URI, PKCE verifier and challenge (RFC 7636's example) the tests use.
pub const REDIRECT: &str = "http://127.0.0.1:7777/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Follows an authorization URL as the signed-in browser does: to the
/// consent page, whose request view it returns, with the query to post back.
pub async fn open_consent(app: &TestApp, authorization_url: &str) -> (serde_json::Value, String) {
    let response = app.client.get(authorization_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", response.text().await.unwrap());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let query = location.strip_prefix("/oauth/consent?").unwrap_or_else(|| panic!("not the consent page: {location}"));
    (consent_view(app, query).await, query.to_owned())
}

/// What the consent page shows for `query` (its server function).
pub async fn consent_view(app: &TestApp, query: &str) -> serde_json::Value {
    let response = app
        .client
        .post(app.url("/api/fn/oauth/consent"))
        .header("origin", app.origin())
        .header("accept", "application/json")
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    if status.is_success() { body } else { serde_json::json!({ "error": body }) }
}

/// Posts the consent form; returns the redirect back to the client.
pub async fn decide(app: &TestApp, query: &str, decision: &str) -> String {
    let response = app
        .client
        .post(app.url(&format!("/oauth/authorize?{query}")))
        .header("origin", app.origin())
        .form(&[("decision", decision)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", response.text().await.unwrap());
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The whole user part: consent page, then Allow.
pub async fn approve(app: &TestApp, authorization_url: &str) -> String {
    let (view, query) = open_consent(app, authorization_url).await;
    assert!(view.get("error").is_none(), "the consent page refused: {view}");
    decide(app, &query, "allow").await
}

/// An authorization URL of `client_id` for `slug`, with `extra` params.
pub async fn authorization_url(app: &TestApp, client_id: &str, slug: &str, extra: &[(&str, &str)]) -> String {
    let resource = app.mcp_url(slug);
    let mut url = url::Url::parse(&app.url("/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "s-123")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", &resource);
    for (name, value) in extra {
        url.query_pairs_mut().append_pair(name, value);
    }
    url.to_string()
}

/// A client registered dynamically (RFC 7591) with [`REDIRECT`].
pub async fn register(app: &TestApp) -> String {
    let response = app
        .anonymous()
        .post(app.url("/oauth/register"))
        .json(&json!({"client_name": "Test client", "redirect_uris": [REDIRECT]}))
        .send()
        .await
        .unwrap();
    json(response).await["client_id"].as_str().unwrap().to_owned()
}

/// Posts a form to an OAuth endpoint as a client does: the status, the JSON
/// body (null when it is not JSON) and `Cache-Control`.
pub async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value, Option<String>) {
    let response = app.anonymous().post(app.url(path)).form(form).send().await.unwrap();
    let status = response.status();
    let cache = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null), cache)
}

/// Allows, then exchanges the code: the token response.
pub async fn tokens_for(app: &TestApp, client_id: &str, slug: &str) -> Value {
    let back = approve(app, &authorization_url(app, client_id, slug, &[]).await).await;
    let code = params_of(&back)["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("resource", &app.mcp_url(slug)),
    ];
    let (status, tokens, _) = post_form(app, "/oauth/token", &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

/// The query parameters of a redirect.
pub fn params_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

/// An https server on loopback (`https://localhost:{port}`) serving set
/// documents, with a certificate from a throwaway CA.
pub struct Documents {
    pub port: u16,
    /// The CA's certificate (PEM), for `SSL_CERT_FILE`.
    pub ca_file: PathBuf,
    served: Arc<Mutex<HashMap<String, String>>>,
    _dir: tempfile::TempDir,
}

impl Documents {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(dir.path().join("leaf.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = rustls_pki_types::PrivateKeyDer::from_pem_file(dir.path().join("leaf.key")).unwrap();
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let served: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let app = axum::Router::new().fallback({
            let served = served.clone();
            move |uri: axum::http::Uri| {
                let found = served.lock().unwrap().get(uri.path()).cloned();
                async move {
                    match found {
                        Some(body) => (StatusCode::OK, [("content-type", "application/json")], body),
                        None => (StatusCode::NOT_FOUND, [("content-type", "text/plain")], "no such document".into()),
                    }
                }
            }
        });
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Documents { port, ca_file: dir.path().join("ca.pem"), served, _dir: dir }
    }

    /// Serves `body` at `path`; returns its URL.
    pub fn serve(&self, path: &str, body: String) -> String {
        self.served.lock().unwrap().insert(path.to_owned(), body);
        self.url(path)
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }
}

/// A CA and a leaf for `localhost` signed by it, with Debian's openssl.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let output = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
        assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=AutoMCP test CA"],
    ]
    .concat());
    run(&[&["req"][..], &ec, &["-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"]].concat());
    std::fs::write(dir.join("leaf.ext"), "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
}
