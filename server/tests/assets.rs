//! The web assets over real HTTP: content-hashed names in the pages,
//! immutable caching for them, revalidation for the rest, ETag and
//! Last-Modified answered with 304, and the build's brotli/gzip copies sent
//! as they are. (A test binary of its own: the pages read the hash list once
//! per process.)

mod common;

use common::TestApp;
use reqwest::StatusCode;
use std::path::Path;

const WASM: &str = "/pkg/automcp-account.0123456789abcdef.wasm";

/// A site as `.ci/build` lays it out, with recognisable bytes per copy.
fn write_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for (name, body) in [
        ("automcp-account.0123456789abcdef.wasm", "\0asm identity bytes".to_string()),
        ("automcp-account.0123456789abcdef.wasm.br", "brotli bytes".into()),
        ("automcp-account.0123456789abcdef.wasm.gz", "gzip bytes".into()),
        ("automcp-account.fedcba9876543210.js", "export default function init() {}".into()),
        ("automcp-server.1111222233334444.wasm", "\0asm server bundle".into()),
        ("automcp-server.5555666677778888.js", "export default function init() {}".into()),
        ("automcp.00112233aabbccdd.css", "body{margin:0}".into()),
    ] {
        std::fs::write(pkg.join(name), body).unwrap();
    }
    std::fs::write(root.join("favicon.svg"), "<svg/>").unwrap();
    std::fs::write(root.join("hash.txt"), "css: 00112233aabbccdd\n").unwrap();
    std::fs::write(root.join("hash-account.txt"), "js: fedcba9876543210\nwasm: 0123456789abcdef\n").unwrap();
    std::fs::write(root.join("hash-server.txt"), "js: 5555666677778888\nwasm: 1111222233334444\n").unwrap();
}

async fn app_with_site() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    write_site(&dir.path().join("site"));
    TestApp::spawn_in(dir, |_| {}).await
}

#[tokio::test]
async fn pages_name_the_hashed_assets_and_are_not_cached() {
    let app = app_with_site().await;
    let response = app.get("/login").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "private, no-cache");
    let html = response.text().await.unwrap();
    for name in
        ["automcp-account.fedcba9876543210.js", "automcp-account.0123456789abcdef.wasm", "automcp.00112233aabbccdd.css"]
    {
        assert!(html.contains(&format!("/pkg/{name}")), "the page names {name}");
    }
    assert!(!html.contains("automcp-server."), "the log-in page loads no other bundle");
}

#[tokio::test]
async fn a_server_page_names_the_server_bundle() {
    let app = app_with_site().await;
    assert_eq!(app.sign_up("bundles@example.com", "correct horse battery staple").await.status(), StatusCode::OK);
    let page = app.get("/servers/no-such-server").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND, "an unknown server answers 404");
    let html = page.text().await.unwrap();
    for name in ["automcp-server.5555666677778888.js", "automcp-server.1111222233334444.wasm"] {
        assert!(html.contains(&format!("/pkg/{name}")), "the page names {name}");
    }
    assert!(!html.contains("automcp-account."), "{html}");
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_sent_precompressed() {
    let app = app_with_site().await;
    let client = reqwest::Client::new();
    let get = |encoding: &'static str| client.get(app.url(WASM)).header("accept-encoding", encoding).send();

    let brotli = get("gzip, deflate, br").await.unwrap();
    assert_eq!(brotli.status(), StatusCode::OK);
    assert_eq!(brotli.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(brotli.headers()["content-type"], "application/wasm");
    assert_eq!(brotli.headers()["vary"], "accept-encoding");
    assert!(brotli.headers().contains_key("last-modified"));
    assert_eq!(brotli.text().await.unwrap(), "brotli bytes");

    let gzip = get("gzip").await.unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(gzip.text().await.unwrap(), "gzip bytes");

    let plain = get("identity").await.unwrap();
    assert!(!plain.headers().contains_key("content-encoding"));
    assert_eq!(plain.text().await.unwrap(), "\0asm identity bytes");

    let refused = get("br;q=0, gzip;q=0").await.unwrap();
    assert_eq!(refused.text().await.unwrap(), "\0asm identity bytes");
}

#[tokio::test]
async fn conditional_requests_get_304_without_a_body() {
    let app = app_with_site().await;
    let client = reqwest::Client::new();
    let first = client.get(app.url(WASM)).header("accept-encoding", "br").send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let modified = first.headers()["last-modified"].to_str().unwrap().to_owned();

    let again =
        client.get(app.url(WASM)).header("accept-encoding", "br").header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());

    // Another representation (gzip) does not match the brotli copy's tag.
    let other = client
        .get(app.url(WASM))
        .header("accept-encoding", "gzip")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);

    let by_date = client.get(app.url(WASM)).header("if-modified-since", &modified).send().await.unwrap();
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);
    let older =
        client.get(app.url(WASM)).header("if-modified-since", "Thu, 01 Jan 2015 00:00:00 GMT").send().await.unwrap();
    assert_eq!(older.status(), StatusCode::OK);
}

#[tokio::test]
async fn unhashed_files_are_revalidated_and_unknown_ones_are_404_pages() {
    let app = app_with_site().await;
    let favicon = app.anonymous().get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(favicon.status(), StatusCode::OK);
    assert_eq!(favicon.headers()["cache-control"], "no-cache");
    assert_eq!(favicon.headers()["content-type"], "image/svg+xml");
    let etag = favicon.headers()["etag"].to_str().unwrap().to_owned();
    let again = app.anonymous().get(app.url("/favicon.svg")).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    for path in ["/hash.txt", "/hash-account.txt", "/pkg/automcp-account.0123456789abcdef.wasm.br", "/pkg/nothing.js"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let head = app.anonymous().head(app.url(WASM)).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.bytes().await.unwrap().is_empty());
}
