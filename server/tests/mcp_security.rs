//! The hosted endpoints under attack: client auth, Host and Origin checks,
//! oversized and malformed JSON-RPC, the SSRF guard, tenant isolation and
//! the tier limits.

mod common;

use app::model::Tier;
use common::sql;
use common::upstream::Upstream;
use common::{Era, TestApp, call, json, mcp_client, spec, text, tool};
use reqwest::{Method, StatusCode};
use serde_json::json;

const ACCEPT: &str = "application/json, text/event-stream";

fn list_tools() -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
}

#[tokio::test]
async fn bearer_servers_need_their_own_token() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let (_, a) = app.deploy(&api, spec("alpha", vec![tool("t", "GET", &up.url("/a"))]), json!({})).await;
    let (_, b) = app.deploy(&api, spec("beta", vec![tool("t", "GET", &up.url("/b"))]), json!({})).await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.starts_with("amcp_srv_"));
    let (_, _) =
        app.deploy(&api, spec("open", vec![tool("t", "GET", &up.url("/o"))]), json!({"client_auth": "public"})).await;
    let client = app.anonymous();
    let post = |slug: &str, token: Option<&str>| {
        let mut request = client.post(app.mcp_url(slug)).header("accept", ACCEPT).json(&list_tools());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let response = post("alpha", None).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"automcp\"");
    assert!(json(response).await["error"]["message"].as_str().unwrap().contains("Authorization: Bearer"));

    for wrong in ["nope", b.as_str(), &format!("{a}x")] {
        let response = post("alpha", Some(wrong)).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{wrong}");
        assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    }
    assert_eq!(post("alpha", Some(&a)).await.unwrap().status(), StatusCode::OK);
    assert_eq!(post("beta", Some(&b)).await.unwrap().status(), StatusCode::OK);
    assert_eq!(post("open", None).await.unwrap().status(), StatusCode::OK);

    // Rotation: the old token stops working at once.
    let servers = json(app.api(Method::GET, "/api/v1/servers", &api, None).await).await;
    let alpha_id =
        servers.as_array().unwrap().iter().find(|s| s["slug"] == "alpha").unwrap()["id"].as_str().unwrap().to_owned();
    let rotated = json(app.api(Method::POST, &format!("/api/v1/servers/{alpha_id}/token"), &api, None).await).await;
    let new = rotated["token"].as_str().unwrap();
    assert_eq!(post("alpha", Some(&a)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(post("alpha", Some(new)).await.unwrap().status(), StatusCode::OK);
    let stored = sql::texts(&app.services.db, "select token_hash from servers", &[]).await;
    assert!(stored.iter().flatten().all(|h| h.len() == 64 && !h.contains(new)));
}

#[tokio::test]
async fn foreign_host_and_origin_are_refused() {
    let app = TestApp::with_local_upstreams().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    app.deploy(&api, spec("site", vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({"client_auth": "public"}))
        .await;
    let client = app.anonymous();
    let send = |headers: Vec<(&'static str, String)>| {
        let mut request = client.post(app.mcp_url("site")).header("accept", ACCEPT).json(&list_tools());
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send()
    };
    let response = send(vec![("host", "evil.example".into())]).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(json(response).await["error"]["message"].as_str().unwrap().contains("DNS rebinding"));
    let response = send(vec![("origin", "https://evil.example".into())]).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(json(response).await["error"]["message"].as_str().unwrap().contains("evil.example"));
    assert_eq!(send(vec![("origin", app.origin())]).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_rpc_never_causes_a_server_error() {
    let app = TestApp::with_local_upstreams().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    app.deploy(&api, spec("rpc", vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({"client_auth": "public"}))
        .await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let big_id = format!(r#"{{"jsonrpc":"2.0","id":{},"method":"tools/list"}}"#, "9".repeat(100_000));
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("application/json", ACCEPT, b"".to_vec()),
        ("application/json", ACCEPT, b"{".to_vec()),
        ("application/json", ACCEPT, b"not json".to_vec()),
        ("application/json", ACCEPT, b"null".to_vec()),
        ("application/json", ACCEPT, b"42".to_vec()),
        ("application/json", ACCEPT, b"\"text\"".to_vec()),
        ("application/json", ACCEPT, b"[]".to_vec()),
        ("application/json", ACCEPT, b"{}".to_vec()),
        ("application/json", ACCEPT, vec![0xff, 0xfe, 0x00]),
        ("application/json", ACCEPT, br#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"id":1,"method":"tools/list"}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","method":"tools/list"}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":42}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"no/such/method"}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":42}}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":[1]}}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":"x"}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":5}}"#.to_vec()),
        ("application/json", ACCEPT, br#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"1999-01-01","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","method":"notifications/unknown"}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.to_vec()),
        ("application/json", ACCEPT, br#"{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}}"#.to_vec()),
        ("application/json", ACCEPT, deep.into_bytes()),
        ("application/json", ACCEPT, big_id.into_bytes()),
        ("text/plain", ACCEPT, serde_json::to_vec(&list_tools()).unwrap()),
        ("application/json", "text/html", serde_json::to_vec(&list_tools()).unwrap()),
        ("application/json", "application/json", serde_json::to_vec(&list_tools()).unwrap()),
        ("application/xml", ACCEPT, b"<rpc/>".to_vec()),
    ];
    assert!(cases.len() >= 30);
    let client = app.anonymous();
    for (i, (content_type, accept, body)) in cases.into_iter().enumerate() {
        let response = client
            .post(app.mcp_url("rpc"))
            .header("content-type", content_type)
            .header("accept", accept)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("case {i}: the connection failed: {e}"));
        let status = response.status();
        assert!(!status.is_server_error(), "case {i}: {status}: {}", response.text().await.unwrap());
    }
    // A bad protocol version header and odd methods.
    for (method, version) in
        [(Method::GET, None), (Method::DELETE, None), (Method::PUT, None), (Method::POST, Some("1999-01-01"))]
    {
        let mut request =
            client.request(method.clone(), app.mcp_url("rpc")).header("accept", ACCEPT).json(&list_tools());
        if let Some(v) = version {
            request = request.header("mcp-protocol-version", v);
        }
        let status = request.send().await.unwrap().status();
        assert!(status.is_client_error(), "{method} {version:?}: {status}");
    }
    // Bodies over 256 KiB: refused, not read.
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "x".repeat(300 * 1024)}});
    let response = client.post(app.mcp_url("rpc")).header("accept", ACCEPT).json(&big).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The same without Content-Length (chunked): also 413, with a JSON-RPC error.
    let bytes = serde_json::to_vec(&big).unwrap();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
    let response = client
        .post(app.mcp_url("rpc"))
        .header("accept", ACCEPT)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], -32600, "{error}");
    // Still serving.
    let response = client.post(app.mcp_url("rpc")).header("accept", ACCEPT).json(&list_tools()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Every address form the guard must refuse, as it would be written in an action URL.
const SSRF_CORPUS: &[&str] = &[
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/admin",
    "http://127.1/",
    "http://127.0.1/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://017700000001/",
    "http://127.255.255.254/",
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST/",
    "http://0.0.0.0/",
    "http://0/",
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://012.0.0.1/",
    "http://167772161/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.0.1/",
    "http://192.168.1.254:8443/",
    "http://0xc0a80001/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/computeMetadata/v1/",
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://169.254.0.1/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://192.0.0.170/",
    "http://198.18.0.1/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::1]/",
    "http://[2001::1]/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:0.0.0.0]/",
    "https://127.0.0.1:443/",
    "https://[::1]:8443/",
];

#[tokio::test]
async fn the_ssrf_guard_refuses_private_addresses_in_every_form() {
    assert!(SSRF_CORPUS.len() >= 50, "{}", SSRF_CORPUS.len());
    let app = TestApp::spawn().await; // guard on: the default
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Paid).await;
    let tools: Vec<_> = SSRF_CORPUS.iter().enumerate().map(|(i, url)| tool(&format!("t{i}"), "GET", url)).collect();
    app.deploy(&api, spec("ssrf", tools), json!({"client_auth": "public"})).await;
    let client = mcp_client(&app.mcp_url("ssrf"), None, Era::Legacy).await.unwrap();
    for (i, url) in SSRF_CORPUS.iter().enumerate() {
        let result = call(&client, &format!("t{i}"), json!({})).await.unwrap();
        assert_eq!(result.is_error, Some(true), "{url} was not refused");
        assert!(text(&result).contains("refusing to connect"), "{url}: {}", text(&result));
    }
    assert!(up.seen().is_empty());
}

#[tokio::test]
async fn with_the_operator_setting_private_upstreams_are_reachable() {
    let app = TestApp::with_local_upstreams().await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let localhost = up.url("/via-name").replace("127.0.0.1", "localhost");
    let tools = vec![tool("ip", "GET", &up.url("/via-ip")), tool("name", "GET", &localhost)];
    app.deploy(&api, spec("home", tools), json!({"client_auth": "public"})).await;
    let client = mcp_client(&app.mcp_url("home"), None, Era::Legacy).await.unwrap();
    for name in ["ip", "name"] {
        let result = call(&client, name, json!({})).await.unwrap();
        assert_eq!(result.is_error, Some(false), "{name}: {}", text(&result));
    }
    assert_eq!(up.seen().len(), 2);
}

#[tokio::test]
async fn accounts_only_reach_their_own_servers() {
    let app = TestApp::with_local_upstreams().await;
    let (_, ada) = app.account("ada@example.com", Tier::Free).await;
    let (_, bob) = app.account("bob@example.com", Tier::Free).await;
    let (id, _) = app.deploy(&ada, spec("adas", vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({})).await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/servers/{id}")),
        (Method::PUT, format!("/api/v1/servers/{id}")),
        (Method::DELETE, format!("/api/v1/servers/{id}")),
        (Method::POST, format!("/api/v1/servers/{id}/deploy")),
        (Method::POST, format!("/api/v1/servers/{id}/disable")),
        (Method::POST, format!("/api/v1/servers/{id}/token")),
        (Method::GET, format!("/api/v1/servers/{id}/calls")),
    ] {
        let body = (method == Method::PUT).then(|| json!({}));
        let response = app.api(method.clone(), &path, &bob, body).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let listed = json(app.api(Method::GET, "/api/v1/servers", &bob, None).await).await;
    assert_eq!(listed, json!([]));
    assert!(app.services.engine.get("adas").is_some(), "still live");
}

#[tokio::test]
async fn free_accounts_get_three_tools_and_three_active_servers() {
    let app = TestApp::with_local_upstreams().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let four: Vec<_> = (0..4).map(|i| tool(&format!("t{i}"), "GET", "http://127.0.0.1:9/")).collect();
    let response = app.api(Method::POST, "/api/v1/servers", &api, Some(json!({"spec": spec("four", four)}))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json(response).await;
    assert_eq!(error["error"]["issues"][0]["path"], "tools");
    assert!(error["error"]["message"].as_str().unwrap().contains("at most 3 tools"), "{error}");

    for i in 0..3 {
        app.deploy(&api, spec(&format!("s{i}"), vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({})).await;
    }
    let body = json!({"spec": spec("s3", vec![tool("t", "GET", "http://127.0.0.1:9/")]), "deploy": true});
    let response = app.api(Method::POST, "/api/v1/servers", &api, Some(body)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(json(response).await["error"]["message"].as_str().unwrap().contains("at most 3 active servers"));
    assert!(app.services.engine.get("s3").is_none());

    let response = app
        .api(Method::POST, "/api/v1/servers", &api, Some(json!({"spec": spec("s4", vec![]), "limits": {"burst": 50}})))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rate_limits_and_the_concurrency_cap_answer_clearly() {
    let app = TestApp::spawn_with(|c| {
        c.allow_private_upstreams = true;
        c.upstream_timeout_secs = 5;
    })
    .await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    let tools = vec![tool("fast", "GET", &up.url("/fast")), tool("slow", "GET", &up.url("/slow/700"))];
    app.deploy(&api, spec("limited", tools), json!({"client_auth": "public"})).await;
    let client = mcp_client(&app.mcp_url("limited"), None, Era::Legacy).await.unwrap();

    // Concurrency: 4 at once run, the 5th is turned away.
    let calls: Vec<_> = (0..5).map(|_| call(&client, "slow", json!({}))).collect();
    let results = futures_util::future::join_all(calls).await;
    let busy: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(busy.len(), 1, "{results:?}");
    assert!(busy[0].contains("4 calls are already in progress"), "{}", busy[0]);

    // Rate: a burst of 10 (4 spent above), then about one a second.
    let mut passed = 0;
    let error = loop {
        match call(&client, "fast", json!({})).await {
            Ok(_) => passed += 1,
            Err(error) => break error,
        }
        assert!(passed < 20, "the rate limit never applied");
    };
    assert!((6..=8).contains(&passed), "{passed} calls passed");
    assert!(error.contains("60 calls a minute") && error.contains("retry in"), "{error}");
}

#[tokio::test]
async fn the_free_monthly_quota_is_enforced_per_account() {
    let app = TestApp::spawn_with(|c| {
        c.allow_private_upstreams = true;
        c.free_monthly_calls = 3;
    })
    .await;
    let up = Upstream::start().await;
    let (_, api) = app.account("ada@example.com", Tier::Free).await;
    app.deploy(&api, spec("q1", vec![tool("t", "GET", &up.url("/a"))]), json!({"client_auth": "public"})).await;
    app.deploy(&api, spec("q2", vec![tool("t", "GET", &up.url("/b"))]), json!({"client_auth": "public"})).await;
    let one = mcp_client(&app.mcp_url("q1"), None, Era::Legacy).await.unwrap();
    let two = mcp_client(&app.mcp_url("q2"), None, Era::Modern).await.unwrap();
    call(&one, "t", json!({})).await.unwrap();
    call(&two, "t", json!({})).await.unwrap();
    call(&one, "t", json!({})).await.unwrap();
    let error = call(&two, "t", json!({})).await.unwrap_err();
    assert!(error.contains("monthly quota exhausted") && error.contains("3 tool calls a month"), "{error}");
    assert_eq!(up.seen().len(), 3);
}

/// Names that resolve to private addresses (a stand-in resolver plays DNS).
#[tokio::test]
async fn names_resolving_to_private_addresses_are_refused() {
    use reqwest::dns::{Addrs, Name, Resolve, Resolving};
    use server::engine::outbound::{Outbound, OutboundError};
    use server::engine::ssrf::AddressPolicy;
    use std::net::SocketAddr;

    struct Zone(Vec<(&'static str, &'static str)>);
    impl Resolve for Zone {
        fn resolve(&self, name: Name) -> Resolving {
            let addrs: Vec<SocketAddr> = self
                .0
                .iter()
                .filter(|(n, _)| *n == name.as_str())
                .map(|(_, ip)| SocketAddr::new(ip.parse().unwrap(), 0))
                .collect();
            Box::pin(async move { Ok(Box::new(addrs.into_iter()) as Addrs) })
        }
    }
    let zone = || {
        std::sync::Arc::new(Zone(vec![
            ("internal.example", "10.0.0.5"),
            ("metadata.example", "169.254.169.254"),
            ("v6.example", "::1"),
            ("ula.example", "fd12::1"),
            ("mapped.example", "::ffff:192.168.0.1"),
            ("up.example", "127.0.0.1"),
        ]))
    };
    let up = Upstream::start().await;
    let port = up.addr.port();
    let guarded = Outbound::with_resolver(AddressPolicy::PUBLIC_ONLY, zone(), std::time::Duration::from_secs(2));
    for name in ["internal.example", "metadata.example", "v6.example", "ula.example", "mapped.example", "up.example"] {
        let request = guarded.client().get(format!("http://{name}:{port}/")).build().unwrap();
        match guarded.send(request).await {
            Err(OutboundError::Forbidden(why)) => assert!(why.contains(name) && why.contains("forbidden"), "{why}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(up.seen().is_empty());

    let open =
        Outbound::with_resolver(AddressPolicy { allow_private: true }, zone(), std::time::Duration::from_secs(2));
    let request = open.client().get(format!("http://up.example:{port}/allowed")).build().unwrap();
    let response = open.send(request).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(up.last().path, "/allowed");
}

/// Sends a request to `/mcp/{slug}` with extra headers.
async fn send_mcp(
    app: &TestApp,
    method: Method,
    slug: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> reqwest::Response {
    let mut request = app.anonymous().request(method, app.mcp_url(slug)).header("accept", ACCEPT);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn browser_pages_may_call_token_servers_and_public_ones_their_owner_allows() {
    let app = TestApp::with_local_upstreams().await;
    let (_, api) = app.account("cors@example.com", Tier::Free).await;
    let (_, token) = app.deploy(&api, spec("guarded", vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({})).await;
    let token = token.unwrap();
    let (public_id, _) = app
        .deploy(&api, spec("open", vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({"client_auth": "public"}))
        .await;
    let page = "https://app.example";
    let preflight = [
        ("origin", page),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "authorization, content-type, mcp-protocol-version"),
    ];

    // A server with a token: any page may try (it still needs the token).
    let response = send_mcp(&app, Method::OPTIONS, "guarded", &preflight, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&response, "access-control-allow-origin"), page);
    assert!(header(&response, "access-control-allow-methods").contains("POST"));
    assert!(header(&response, "access-control-allow-headers").contains("authorization"));
    assert!(response.headers().get("access-control-allow-credentials").is_none());
    let bearer = format!("Bearer {token}");
    let body = serde_json::to_vec(&list_tools()).unwrap();
    let response =
        send_mcp(&app, Method::POST, "guarded", &[("origin", page), ("authorization", &bearer)], Some(body.clone()))
            .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "access-control-allow-origin"), page);
    for exposed in ["Mcp-Session-Id", "Mcp-Protocol-Version", "WWW-Authenticate"] {
        assert!(header(&response, "access-control-expose-headers").contains(exposed), "{exposed}");
    }
    // Without the token: 401, readable by the page (CORS and the challenge).
    let response = send_mcp(&app, Method::POST, "guarded", &[("origin", page)], Some(body.clone())).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&response, "access-control-allow-origin"), page);
    assert!(header(&response, "www-authenticate").starts_with("Bearer"));

    // A public server: only origins its owner lists.
    let response = send_mcp(&app, Method::OPTIONS, "open", &preflight, None).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("access-control-allow-origin").is_none());
    let path = format!("/api/v1/servers/{public_id}");
    let set = |origins: serde_json::Value| {
        app.api(Method::PUT, &path, &api, Some(json!({"connection": {"allowed_origins": origins}})))
    };
    let response = set(json!(["app.example"])).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json(response).await;
    assert_eq!(error["error"]["field"], "connection.allowed_origins[0]", "{error}");
    let response = set(json!(["HTTPS://App.Example/"])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["connection"]["allowed_origins"], json!(["https://app.example"]));
    let response = send_mcp(&app, Method::OPTIONS, "open", &preflight, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = send_mcp(&app, Method::POST, "open", &[("origin", page)], Some(body.clone())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "access-control-allow-origin"), page);
    let other = [("origin", "https://evil.example"), ("access-control-request-method", "POST")];
    assert_eq!(send_mcp(&app, Method::OPTIONS, "open", &other, None).await.status(), StatusCode::FORBIDDEN);
    // Clients that are not browsers send no Origin and are not affected.
    assert_eq!(send_mcp(&app, Method::POST, "open", &[], Some(body)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_refusal_on_mcp_is_a_json_rpc_error() {
    let app = TestApp::with_local_upstreams().await;
    let (_, api) = app.account("rpc@example.com", Tier::Free).await;
    app.deploy(&api, spec("shaped", vec![tool("t", "GET", "http://127.0.0.1:9/")]), json!({"client_auth": "public"}))
        .await;
    let body = serde_json::to_vec(&list_tools()).unwrap();
    let expect = |status: StatusCode, code: i64| {
        move |response: reqwest::Response| async move {
            assert_eq!(response.status(), status);
            assert!(header(&response, "content-type").starts_with("application/json"));
            let error = json(response).await;
            assert_eq!(error["jsonrpc"], "2.0", "{error}");
            assert_eq!(error["error"]["code"], code, "{error}");
            error["error"]["message"].as_str().unwrap().to_owned()
        }
    };
    let message = expect(StatusCode::BAD_REQUEST, -32700)(
        send_mcp(&app, Method::POST, "shaped", &[], Some(b"{not json".to_vec())).await,
    )
    .await;
    assert!(message.contains("not valid JSON"), "{message}");
    let message =
        expect(StatusCode::NOT_FOUND, -32600)(send_mcp(&app, Method::POST, "nobody", &[], Some(body.clone())).await)
            .await;
    assert!(message.contains("no MCP server is live at /mcp/nobody"), "{message}");
    let plain = app
        .anonymous()
        .post(app.mcp_url("shaped"))
        .header("accept", ACCEPT)
        .header("content-type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    expect(StatusCode::UNSUPPORTED_MEDIA_TYPE, -32600)(plain).await;
    // A trailing slash reaches the same server.
    let response = app
        .anonymous()
        .post(format!("{}/", app.mcp_url("shaped")))
        .header("accept", ACCEPT)
        .json(&list_tools())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["result"]["tools"][0]["name"], "t");
    // Hosts a client would expect on a loopback install: IP and localhost.
    let port = app.addr.port().to_string();
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), "[::1]".to_owned()] {
        let response = send_mcp(&app, Method::POST, "shaped", &[("host", &host)], Some(body.clone())).await;
        assert_eq!(response.status(), StatusCode::OK, "{host}");
    }
}
