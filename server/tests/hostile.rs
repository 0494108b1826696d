//! Hostile and enormous documents against a real `automcp` process: each
//! one fails or succeeds within its budgets, with bounded memory, while
//! another tenant keeps being served. Also: fair scheduling across
//! accounts, per-account limits, and discarding wizards.

mod common;

use common::docs::DocServer;
use common::process::{Account, Options, Process};
use common::sql;
use common::{TestApp, json};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// The limit the issue sets for how much a document may grow the process.
const MAX_PEAK_GROWTH_MIB: u64 = 200;
/// A 26 MB document parses into about 10 times its size (serde_json values);
/// the bound is loose on purpose (debug build, allocator slack).
const MAX_LARGE_PEAK_GROWTH_MIB: f64 = 1024.0;

fn document(components: Value, paths: Value) -> Value {
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Hostile", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "components": components,
        "paths": paths,
    })
}

/// Each schema references the next one twice, `levels` deep: inlined, 2^levels nodes.
fn exponential_fan_out(levels: usize) -> String {
    let mut schemas = Map::new();
    for i in 0..levels {
        let next = json!({"$ref": format!("#/components/schemas/S{}", i + 1)});
        schemas.insert(format!("S{i}"), json!({"type": "object", "properties": {"a": next, "b": next}}));
    }
    schemas.insert(format!("S{levels}"), json!({"type": "string"}));
    let body = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}});
    document(
        json!({"schemas": schemas}),
        json!({"/things": {"post": {"operationId": "addThing", "requestBody": body}}}),
    )
    .to_string()
}

/// A chain of `n` schemas, each nesting the next one.
fn deep_chain(n: usize) -> String {
    let mut schemas = Map::new();
    for i in 0..n {
        let next = json!({"$ref": format!("#/components/schemas/C{}", i + 1)});
        schemas.insert(format!("C{i}"), json!({"type": "object", "properties": {"next": next}}));
    }
    schemas.insert(format!("C{n}"), json!({"type": "string"}));
    let param = json!({"name": "filter", "in": "query", "schema": {"$ref": "#/components/schemas/C0"}});
    document(json!({"schemas": schemas}), json!({"/chain": {"get": {"operationId": "walk", "parameters": [param]}}}))
        .to_string()
}

/// YAML anchors nine deep, nine wide: expanded, 9^9 strings.
fn billion_laughs() -> String {
    let mut yaml =
        String::from("openapi: 3.0.0\ninfo: {title: lol, version: '1'}\nservers: [{url: 'https://api.example.com'}]\n");
    yaml.push_str("x-l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let refs = vec![format!("*l{}", level - 1); 9].join(", ");
        yaml.push_str(&format!("x-l{level}: &l{level} [{refs}]\n"));
    }
    yaml.push_str("paths:\n  /lol:\n    get:\n      operationId: lol\n      parameters:\n");
    yaml.push_str("        - {name: q, in: query, schema: {type: string, enum: *l8}}\n");
    yaml
}

/// `n` operations that all claim the same operationId.
fn one_operation_id(n: usize) -> String {
    let mut paths = Map::new();
    for i in 0..n {
        paths.insert(format!("/things/{i}"), json!({"get": {"operationId": "getThing", "summary": "Get a thing"}}));
    }
    document(json!({}), Value::Object(paths)).to_string()
}

/// One operation whose parameter has an enormous enum, and one ordinary one.
fn huge_enum(values: usize) -> String {
    let values: Vec<Value> = (0..values).map(|i| json!(format!("value-{i}"))).collect();
    let param = json!({"name": "kind", "in": "query", "schema": {"type": "string", "enum": values}});
    document(
        json!({}),
        json!({
            "/kinds": {"get": {"operationId": "listByKind", "summary": "things by kind", "parameters": [param]}},
            "/things": {"get": {"operationId": "listThings", "summary": "things"}},
        }),
    )
    .to_string()
}

/// Arrays nested `depth` deep inside an extension field.
fn deep_json(depth: usize) -> String {
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    format!(r#"{{"openapi": "3.0.0", "info": {{"title": "deep"}}, "x-deep": {nested}, "paths": {{}}}}"#)
}

struct Measured {
    name: &'static str,
    outcome: String,
    seconds: f64,
    peak_growth_mib: f64,
    other_tenant_worst_ms: u128,
}

/// Resets the process's peak-RSS counter, so VmHWM measures from now.
fn reset_peak(process: &Process) {
    std::fs::write(format!("/proc/{}/clear_refs", process.pid()), "5").expect("reset the peak RSS (needs Linux)");
}

/// Runs one hostile wizard for `hostile` while `other` keeps reading, and
/// measures it.
async fn measure(
    process: &mut Process,
    hostile: &Account,
    other: &Account,
    name: &'static str,
    body: Value,
) -> (Value, Measured) {
    reset_peak(process);
    let baseline = process.memory_kib("VmRSS");
    let id = hostile.start_wizard(body).await;
    let settle = hostile.settle(&id, Duration::from_secs(30));
    tokio::pin!(settle);
    let mut worst = read_once(other).await;
    let (view, took) = loop {
        tokio::select! {
            biased;
            done = &mut settle => break done,
            read = read_once(other) => worst = worst.max(read),
        }
    };
    assert!(process.alive(), "{name}: the process died");
    let peak = process.memory_kib("VmHWM");
    let growth = peak.saturating_sub(baseline) as f64 / 1024.0;
    let outcome = match view["processing_status"].as_str() {
        Some("failed") => format!("failed: {}", view["processing_error"].as_str().unwrap_or_default()),
        _ => format!("{} candidates", view["proposal"]["candidates"].as_array().map(Vec::len).unwrap_or(0)),
    };
    let measured =
        Measured { name, outcome, seconds: took.as_secs_f64(), peak_growth_mib: growth, other_tenant_worst_ms: worst };
    (view, measured)
}

/// Another tenant's read while a hostile document is worked on: it must
/// succeed; returns how long it took, in ms.
async fn read_once(other: &Account) -> u128 {
    let asked = Instant::now();
    let response = other.send(Method::GET, "/api/v1/wizard", None).await;
    assert_eq!(response.status(), StatusCode::OK, "another tenant was refused meanwhile");
    let took = asked.elapsed().as_millis();
    tokio::time::sleep(Duration::from_millis(20)).await;
    took
}

#[tokio::test]
async fn hostile_documents_fail_or_succeed_quickly_with_bounded_memory() {
    let data = tempfile::tempdir().unwrap();
    let docs = DocServer::start().await;
    let mut options = Options::default().env("AUTOMCP_ALLOW_PRIVATE_UPSTREAMS", "true");
    options.stderr = std::env::var_os("HOSTILE_LOG").map(Into::into);
    let mut process = Process::start(data.path(), &options).await;
    let hostile = Account::sign_up(&process, "mallory@example.com").await;
    let other = Account::sign_up(&process, "ada@example.com").await;
    // Warm up: allocator arenas and code pages count as the baseline.
    let warm = other.start_wizard(json!({"description": "things", "openapi_document": one_operation_id(3)})).await;
    other.settle(&warm, Duration::from_secs(10)).await;

    let mut results = Vec::new();
    let paste = |doc: String| json!({"description": "do things with things", "openapi_document": doc});

    let (view, m) =
        measure(&mut process, &hostile, &other, "exponential $ref fan-out (2^30)", paste(exponential_fan_out(30)))
            .await;
    let schema = &view["proposal"]["candidates"][0]["tool"]["input_schema"];
    assert_eq!(schema["$defs"].as_object().map(Map::len), Some(30), "{}", m.outcome);
    results.push(m);

    let (view, m) =
        measure(&mut process, &hostile, &other, "chain of 2,000 nested $refs", paste(deep_chain(2000))).await;
    let schema = &view["proposal"]["candidates"][0]["tool"]["input_schema"];
    assert_eq!(schema["$defs"].as_object().map(Map::len), Some(2000), "{}", m.outcome);
    results.push(m);
    // The list of wizards (which failed for good before) still reads.
    assert_eq!(hostile.get("/api/v1/wizard").await.as_array().unwrap().len(), 2);

    let (view, m) = measure(&mut process, &hostile, &other, "billion laughs (YAML 9^9)", paste(billion_laughs())).await;
    assert_eq!(view["processing_status"], "failed", "{}", m.outcome);
    assert!(m.outcome.contains("YAML"), "{}", m.outcome);
    results.push(m);

    let (view, m) =
        measure(&mut process, &hostile, &other, "10,000 operations, one operationId", paste(one_operation_id(10_000)))
            .await;
    let names: Vec<&str> = view["proposal"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tool"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 20, "{}", m.outcome);
    assert_eq!(names.iter().collect::<std::collections::BTreeSet<_>>().len(), 20, "{names:?}");
    results.push(m);

    let (view, m) = measure(&mut process, &hostile, &other, "enum of 300,000 values", paste(huge_enum(300_000))).await;
    assert_eq!(view["proposal"]["candidates"][0]["tool"]["name"], "listThings", "{}", m.outcome);
    let note = view["proposal"]["notes"][0].as_str().unwrap();
    assert!(note.contains("left out `listByKind`") && note.contains("10000 nodes"), "{note}");
    results.push(m);

    let (view, m) =
        measure(&mut process, &hostile, &other, "JSON nested 100,000 deep", paste(deep_json(100_000))).await;
    assert!(view["processing_error"].as_str().unwrap().contains("recursion limit"), "{}", m.outcome);
    results.push(m);

    let big = format!("{{\"openapi\": \"3.0.0\", \"x-pad\": \"{}\"}}", "x".repeat(41 * 1024 * 1024));
    let url = docs.put("big.json", big.clone());
    let (view, m) = measure(
        &mut process,
        &hostile,
        &other,
        "41 MB document by URL",
        json!({"description": "things", "openapi_url": url}),
    )
    .await;
    assert!(view["processing_error"].as_str().unwrap().contains("larger than"), "{}", m.outcome);
    results.push(m);

    // A large real-shaped document imports, is kept compressed and searchable.
    let large = server::generate::openapi::sample::large_document(26 << 20);
    let (view, big_doc) =
        measure(&mut process, &hostile, &other, "26 MB document, 4,000+ operations", paste(large)).await;
    assert_eq!(view["proposal"]["candidates"].as_array().map(Vec::len), Some(20), "{}", big_doc.outcome);
    assert_eq!(view["searchable"], true);
    let id = view["id"].as_str().unwrap();
    let found = hostile.get(&format!("/api/v1/wizard/{id}/operations?q=post+resource_2011")).await;
    assert_eq!(found["operations"][0]["name"], "PostResource2011", "{found}");

    // Pasted, it never reaches a wizard: the declared size is refused before
    // the body is sent.
    let asked = Instant::now();
    let answer = declare_and_read(&process, &hostile.token, big.len() + 64).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    println!("41 MB document pasted: 413 in {} ms", asked.elapsed().as_millis());

    println!("{:<38} {:>8} {:>14} {:>14}  outcome", "document", "seconds", "peak MiB", "other tenant");
    for m in &results {
        println!(
            "{:<38} {:>8.2} {:>14.1} {:>11} ms  {}",
            m.name,
            m.seconds,
            m.peak_growth_mib,
            m.other_tenant_worst_ms,
            m.outcome.chars().take(90).collect::<String>()
        );
    }
    println!(
        "{:<38} {:>8.2} {:>14.1} {:>11} ms  {}",
        big_doc.name, big_doc.seconds, big_doc.peak_growth_mib, big_doc.other_tenant_worst_ms, big_doc.outcome
    );
    assert!(big_doc.peak_growth_mib < MAX_LARGE_PEAK_GROWTH_MIB, "the large document grew the process too much");
    for m in &results {
        assert!(m.peak_growth_mib < MAX_PEAK_GROWTH_MIB as f64, "{}: peak grew {:.1} MiB", m.name, m.peak_growth_mib);
        assert!(m.seconds < 15.0, "{} took {:.1} s", m.name, m.seconds);
    }
    process.terminate().await;
}

/// Sends the head of a wizard request declaring `length` bytes of body, and
/// reads the answer without sending the body.
async fn declare_and_read(process: &Process, token: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(process.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/wizard HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
        process.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer)).await.unwrap().unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

async fn slow_document(docs: &DocServer, name: &str) -> String {
    docs.put(name, one_operation_id(2))
}

#[tokio::test]
async fn a_second_account_is_served_while_the_first_has_slow_jobs() {
    let app = TestApp::with_local_upstreams().await;
    let docs = DocServer::start().await;
    let (_, first) = app.account("first@example.com", app::model::Tier::Free).await;
    let (_, second) = app.account("second@example.com", app::model::Tier::Free).await;
    docs.hold();
    let mut slow = Vec::new();
    for i in 0..3 {
        let url = slow_document(&docs, &format!("slow-{i}.json")).await;
        let started = app
            .api(Method::POST, "/api/v1/wizard", &first, Some(json!({"description": "things", "openapi_url": url})))
            .await;
        assert_eq!(started.status(), StatusCode::ACCEPTED);
        slow.push(json(started).await["id"].as_str().unwrap().to_owned());
    }
    // The first account's jobs run (all workers but one).
    for i in 0..3 {
        docs.wait_for(&format!("slow-{i}.json"), 1).await;
    }
    let asked = Instant::now();
    let body = json!({"description": "things", "openapi_document": one_operation_id(1)});
    let started = app.api(Method::POST, "/api/v1/wizard", &second, Some(body)).await;
    let id = json(started).await["id"].as_str().unwrap().to_owned();
    let (_, view) = app.settle_wizard(&second, &id).await;
    let waited = asked.elapsed();
    assert_eq!(view["step"], "actions", "{view}");
    println!("second account's one-operation wizard: final after {} ms while 3 slow jobs ran", waited.as_millis());
    for id in &slow {
        let view = json(app.api(Method::GET, &format!("/api/v1/wizard/{id}"), &first, None).await).await;
        assert_eq!(view["processing_status"], "processing", "the slow jobs were still running");
    }
    docs.release();
    for id in &slow {
        let (_, view) = app.settle_wizard(&first, id).await;
        assert_eq!(view["step"], "actions", "{view}");
    }
}

#[tokio::test]
async fn an_account_can_queue_only_so_many_jobs_and_keep_so_many_wizards() {
    let app = TestApp::with_local_upstreams().await;
    let docs = DocServer::start().await;
    let (_, api) = app.account("ada@example.com", app::model::Tier::Free).await;
    docs.hold();
    let url = slow_document(&docs, "slow.json").await;
    let body = json!({"description": "things", "openapi_url": url});
    let mut ids = Vec::new();
    for _ in 0..server::jobs::MAX_OPEN_PER_ACCOUNT {
        let started = app.api(Method::POST, "/api/v1/wizard", &api, Some(body.clone())).await;
        assert_eq!(started.status(), StatusCode::ACCEPTED);
        ids.push(json(started).await["id"].as_str().unwrap().to_owned());
    }
    let refused = app.api(Method::POST, "/api/v1/wizard", &api, Some(body.clone())).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "10");
    let error = json(refused).await;
    assert!(error["error"]["message"].as_str().unwrap().contains("5 wizards proposing tools"), "{error}");

    // Discarding one makes room at once; its job stops.
    let discarded = app.api(Method::DELETE, &format!("/api/v1/wizard/{}", ids[0]), &api, None).await;
    assert_eq!(discarded.status(), StatusCode::NO_CONTENT);
    let gone = app.api(Method::GET, &format!("/api/v1/wizard/{}", ids[0]), &api, None).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let again = app.api(Method::POST, "/api/v1/wizard", &api, Some(body)).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    docs.release();
    let jobs = sql::int(&app.services.db, "select count(*) from jobs where wizard_id = $1", &[(&ids[0]).into()]).await;
    assert_eq!(jobs, 0, "the discarded wizard's job went with it");

    // Unfinished wizards are limited too (failed ones count until discarded).
    let failing = json!({"description": "things", "openapi_document": "not: [an openapi document"});
    let mut count = server::jobs::MAX_OPEN_PER_ACCOUNT as usize;
    while count < server::wizards::MAX_UNFINISHED as usize {
        let started = app.api(Method::POST, "/api/v1/wizard", &api, Some(failing.clone())).await;
        if started.status() == StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let status = started.status();
        assert_eq!(status, StatusCode::ACCEPTED, "{}", json(started).await);
        count += 1;
    }
    let full = app.api(Method::POST, "/api/v1/wizard", &api, Some(failing)).await;
    assert_eq!(full.status(), StatusCode::CONFLICT);
    let error = json(full).await;
    assert!(error["error"]["message"].as_str().unwrap().contains("20 unfinished wizards"), "{error}");
}

#[tokio::test]
async fn discarding_a_wizard_removes_its_draft_server_but_never_a_live_one() {
    let app = TestApp::with_local_upstreams().await;
    let (_, api) = app.account("ada@example.com", app::model::Tier::Free).await;
    let doc = one_operation_id(2);
    let mut wizards = Vec::new();
    for _ in 0..2 {
        let started = app
            .api(Method::POST, "/api/v1/wizard", &api, Some(json!({"description": "things", "openapi_document": doc})))
            .await;
        let id = json(started).await["id"].as_str().unwrap().to_owned();
        app.settle_wizard(&api, &id).await;
        let select = json!({"tools": [{"candidate": "getThing"}]});
        let selected = app.api(Method::POST, &format!("/api/v1/wizard/{id}/tools"), &api, Some(select)).await;
        assert_eq!(selected.status(), StatusCode::OK);
        let auth = json!({"client_auth": "public", "credentials": {}});
        let view = json(app.api(Method::POST, &format!("/api/v1/wizard/{id}/auth"), &api, Some(auth)).await).await;
        wizards.push((id, view["server_id"].as_str().unwrap().to_owned()));
    }
    // The second goes live; then both wizards are discarded.
    let (live_wizard, live_server) = &wizards[1];
    let activated = app.api(Method::POST, &format!("/api/v1/wizard/{live_wizard}/activate"), &api, None).await;
    assert_eq!(activated.status(), StatusCode::OK);
    for (wizard, _) in &wizards {
        let response = app.api(Method::DELETE, &format!("/api/v1/wizard/{wizard}"), &api, None).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let draft = app.api(Method::GET, &format!("/api/v1/servers/{}", wizards[0].1), &api, None).await;
    assert_eq!(draft.status(), StatusCode::NOT_FOUND, "the draft went with its wizard");
    let live = app.api(Method::GET, &format!("/api/v1/servers/{live_server}"), &api, None).await;
    assert_eq!(live.status(), StatusCode::OK, "a live server stays");
    // Another account cannot discard what is not theirs.
    let (_, other) = app.account("eve@example.com", app::model::Tier::Free).await;
    let started = app
        .api(Method::POST, "/api/v1/wizard", &api, Some(json!({"description": "things", "openapi_document": doc})))
        .await;
    let id = json(started).await["id"].as_str().unwrap().to_owned();
    let refused = app.api(Method::DELETE, &format!("/api/v1/wizard/{id}"), &other, None).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
}
