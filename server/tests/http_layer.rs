//! The HTTP layer: health, pages, 404s, size caps, cross-site refusal,
//! request ids, OpenAPI, and the SQLite setup.

mod common;

use common::{PASSWORD, TestApp, json};
use reqwest::StatusCode;

#[tokio::test]
async fn health_answers_and_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.headers().get("x-request-id").expect("request id").to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a uuid: {id}");
    assert_eq!(json(response).await["database"], "ok");
}

#[tokio::test]
async fn pages_render_on_the_server_with_the_hydration_scripts() {
    let app = TestApp::spawn().await;
    for (path, needle) in [("/", "real actions"), ("/login", "id=\"password\""), ("/signup", "Create your account")] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains(needle), "{path} lacks {needle}");
        // The account bundle (no build here, so unhashed names) and its islands.
        assert!(html.contains("/pkg/automcp-account.js") && html.contains("/pkg/automcp.css"), "{path}");
    }
    let html = app.get("/login").await.text().await.unwrap();
    assert!(html.contains("<leptos-island") && html.contains("LogInForm"), "the form is an island: {html}");
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_log_in() {
    let app = TestApp::spawn().await;
    for path in ["/dashboard", "/admin/users"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{path}");
        assert_eq!(response.headers()["location"], "/login");
    }
}

#[tokio::test]
async fn unknown_routes_get_404_pages_and_json() {
    let app = TestApp::spawn().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Page not found"));

    let response = app.get("/api/v1/nothing").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error = json(response).await;
    assert_eq!(error["error"]["code"], "not_found");
    assert!(error["error"]["message"].as_str().unwrap().contains("/api/v1/nothing"));
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::spawn().await;
    let big = "x".repeat(100 * 1024);
    let response = app.server_fn("log_in", &[("email", "a@example.com"), ("password", &big)]).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error = json(response).await;
    assert!(error["error"]["message"].as_str().unwrap().contains("limit is 64 KiB"), "{error}");

    // Chunked, with no Content-Length: refused while reading, not a 5xx.
    let stream = futures_stream(big.into_bytes());
    let response = app
        .client
        .post(app.url("/api/v1/admin/users/x/tier"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
}

fn futures_stream(bytes: Vec<u8>) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(8192).map(|c| Ok(c.to_vec())).collect();
    tokio_stream_iter(chunks)
}

fn tokio_stream_iter<T>(items: Vec<T>) -> impl futures_core::Stream<Item = T> {
    struct Iter<T>(std::vec::IntoIter<T>);
    impl<T> futures_core::Stream for Iter<T> {
        type Item = T;
        fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    impl<T> Unpin for Iter<T> {}
    Iter(items.into_iter())
}

#[tokio::test]
async fn server_functions_called_with_bad_arguments_answer_4xx() {
    let app = TestApp::spawn().await;
    let response = app.server_fn("log_in", &[("email", "ada@example.com")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json(response).await;
    assert_eq!(error["code"], "invalid", "{error}");

    let response = app.server_fn("set_user_tier", &[("user_id", "x"), ("tier", "gold")]).await;
    assert!(response.status().is_client_error(), "{}", response.status());

    let response = app.client.post(app.url("/api/fn/no_such_fn")).header("origin", app.origin()).send().await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());

    // A JSON-encoded function with a body that is not its arguments: 400, not
    // a 5xx that tells the user to reload the page.
    for body in ["{not json", r#"{"input": 7}"#, "[]"] {
        let response = app
            .client
            .post(app.url("/api/fn/wizard/start"))
            .header("origin", app.origin())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error = json(response).await;
        assert_eq!(error["code"], "bad_request", "{error}");
        assert!(error["message"].as_str().unwrap().contains("could not be read"), "{error}");
    }
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    for (header, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
        let response = app
            .anonymous()
            .post(app.url("/api/fn/sign_up"))
            .header(header, value)
            .header("accept", "application/json")
            .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{header}");
        assert!(json(response).await["error"]["message"].as_str().unwrap().contains("cross-site"));
    }
    assert!(app.services.accounts.list_users().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = TestApp::spawn().await;
    let doc = json(app.get("/api/v1/openapi.json").await).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/me"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/admin/users/{id}/tier"]["put"].is_object());
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

#[tokio::test]
async fn the_database_is_sqlite_in_wal_mode_in_the_data_dir() {
    let app = TestApp::spawn().await;
    let Some(db) = app.services.db.sqlite() else { return common::skip("SQLite's file, key file and journal mode") };
    assert!(app.data_dir().join("automcp.db").exists());
    assert!(app.data_dir().join("secret.key").exists());
    let mode: String = sqlx::query_scalar("pragma journal_mode").fetch_one(db).await.unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("pragma foreign_keys").fetch_one(db).await.unwrap();
    assert_eq!(fk, 1);
}

#[tokio::test]
async fn wizard_and_server_pages_render_for_a_signed_in_user() {
    let app = TestApp::spawn().await;
    assert_eq!(app.sign_up("ada@example.com", PASSWORD).await.status(), StatusCode::OK);
    let html = app.get("/wizard/new").await.text().await.unwrap();
    assert!(html.contains("describe-form") && html.contains("OpenAPI URL"), "{html}");
    let html = app.get("/dashboard").await.text().await.unwrap();
    assert!(html.contains("create-wizard") && html.contains("servers-empty"), "{html}");
    // Unknown ids are 404 pages (rendered whole before the status is sent).
    let response = app.get("/servers/no-such-id").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("you have no server with id"));
    let response = app.get("/wizard/no-such-id").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("you have no wizard with id"), "{html}");
}
