//! Several `automcp serve` processes (replicas) on one PostgreSQL, each with
//! its own data directory and the same instance key, as behind a load
//! balancer: a server deployed through one is live on the others within a
//! second and disabled or deleted everywhere as fast; the free quota is
//! exact across replicas and they share each server's rate limit; a replica killed in the middle of an operation on
//! a machine leaves it to another, which closes it cleanly; a revoked OAuth
//! token is refused by every replica within a second; a replica without the
//! shared key refuses to start.

mod common;

use common::postgres::Postgres;
use common::process::{Account, Options, Process};
use common::sshd::Sshd;
use common::upstream::Upstream;
use common::{Era, TEST_SECRET_KEY, call, json, mcp_client, sql};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::store::Db;
use std::time::{Duration, Instant};

/// How soon a change through one replica must be live on the others.
const PROPAGATION: Duration = Duration::from_secs(2);

struct Replicas {
    _cluster: Postgres,
    url: String,
    _dirs: Vec<tempfile::TempDir>,
    processes: Vec<Process>,
}

fn options(url: &str, extra: &[(&str, &str)]) -> Options {
    let mut options = Options::default()
        .env("AUTOMCP_DATABASE_URL", url)
        .env("AUTOMCP_SECRET_KEY", TEST_SECRET_KEY)
        .env("AUTOMCP_ALLOW_PRIVATE_UPSTREAMS", "true");
    for (key, value) in extra {
        options = options.env(key, value);
    }
    options.stderr = std::env::var_os("REPLICAS_LOG").map(Into::into);
    options
}

impl Replicas {
    async fn start(count: usize, extra: &[(&str, &str)]) -> Self {
        let cluster = Postgres::start();
        let url = cluster.database("automcp");
        let mut dirs = Vec::new();
        let mut processes = Vec::new();
        for _ in 0..count {
            let dir = tempfile::tempdir().unwrap();
            processes.push(Process::start(dir.path(), &options(&url, extra)).await);
            dirs.push(dir);
        }
        Replicas { _cluster: cluster, url, _dirs: dirs, processes }
    }

    async fn db(&self) -> Db {
        Db::connect(&self.url, Duration::from_secs(5)).await.unwrap()
    }
}

/// An MCP `initialize` through a replica: its status says whether the
/// server is mounted there (200) or not (404).
async fn initialize(process: &Process, slug: &str) -> StatusCode {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    reqwest::Client::new()
        .post(process.url(&format!("/mcp/{slug}")))
        .header("accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

/// Waits until `slug` answers `status` through `process`; returns how long it took.
async fn until(process: &Process, slug: &str, status: StatusCode, since: Instant) -> Duration {
    loop {
        if initialize(process, slug).await == status {
            return since.elapsed();
        }
        assert!(since.elapsed() < PROPAGATION, "/mcp/{slug} on {} did not answer {status} in time", process.addr);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn weather(slug: &str, up: &Upstream) -> Value {
    json!({"name": "Weather", "slug": slug, "tools": [{"name": "forecast", "description": "forecast",
        "input_schema": {"type": "object"}, "action": {"method": "GET", "url": up.url("/forecast")}}]})
}

async fn create(account: &Account, spec: Value) -> String {
    create_with(account, spec, "public").await
}

async fn create_with(account: &Account, spec: Value, client_auth: &str) -> String {
    let body = json!({"spec": spec, "deploy": true, "client_auth": client_auth});
    let response = account.send(Method::POST, "/api/v1/servers", Some(body)).await;
    let status = response.status();
    let created = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["server"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_change_through_any_replica_is_live_on_every_other_within_a_second() {
    let replicas = Replicas::start(3, &[]).await;
    let [a, b, c] = &replicas.processes[..] else { unreachable!() };
    let up = Upstream::start().await;
    let on_a = Account::sign_up(a, "ada@example.com").await;

    let asked = Instant::now();
    let id = create(&on_a, weather("weather", &up)).await;
    let deployed = asked.elapsed();
    let on_b = until(b, "weather", StatusCode::OK, asked).await;
    let on_c = until(c, "weather", StatusCode::OK, asked).await;
    println!(
        "deploy through A ({} ms): live on B after {} ms, on C after {} ms",
        deployed.as_millis(),
        on_b.as_millis(),
        on_c.as_millis()
    );

    // The same tool call answers through every replica.
    for process in [a, b, c] {
        let client = mcp_client(&process.url("/mcp/weather"), None, Era::Legacy).await.unwrap();
        let result = call(&client, "forecast", json!({})).await.unwrap();
        assert_eq!(result.is_error, Some(false));
    }

    // A rename through B moves the endpoint everywhere, never answering at both.
    let on_b_account = on_a.on(b);
    let asked = Instant::now();
    let response = on_b_account
        .send(Method::PUT, &format!("/api/v1/servers/{id}"), Some(json!({"spec": weather("forecasts", &up)})))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    until(c, "forecasts", StatusCode::OK, asked).await;
    until(c, "weather", StatusCode::NOT_FOUND, asked).await;

    // Disabled through C: 404 on A.
    let asked = Instant::now();
    let response = on_a.on(c).send(Method::POST, &format!("/api/v1/servers/{id}/disable"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let gone = until(a, "forecasts", StatusCode::NOT_FOUND, asked).await;
    println!("disable through C: 404 on A after {} ms", gone.as_millis());

    // Deployed again through A, deleted through B: gone on C.
    let response = on_a.send(Method::POST, &format!("/api/v1/servers/{id}/deploy"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    until(c, "forecasts", StatusCode::OK, Instant::now()).await;
    let asked = Instant::now();
    let response = on_b_account.send(Method::DELETE, &format!("/api/v1/servers/{id}"), None).await;
    assert!(response.status().is_success(), "{}", response.status());
    until(c, "forecasts", StatusCode::NOT_FOUND, asked).await;
}

/// `tools/list` on `slug` through a replica with an access token: 200 or 401.
async fn list_with(process: &Process, slug: &str, access_token: &str) -> StatusCode {
    reqwest::Client::new()
        .post(process.url(&format!("/mcp/{slug}")))
        .header("accept", "application/json, text/event-stream")
        .bearer_auth(access_token)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
        .send()
        .await
        .unwrap()
        .status()
}

/// Waits until `slug` answers `access_token` with `status` through `process`.
async fn until_with(process: &Process, slug: &str, access_token: &str, status: StatusCode, since: Instant) -> Duration {
    loop {
        if list_with(process, slug, access_token).await == status {
            return since.elapsed();
        }
        assert!(since.elapsed() < PROPAGATION, "{slug} did not answer {status} within {PROPAGATION:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An access token for `account`'s `server_id`, issued by the store (as the
/// token endpoint would after consent); returns it with its grant.
async fn issue_access(db: &Db, server_id: &str, email: &str) -> (String, String) {
    use server::oauth::client_metadata::ClientMetadata;
    use server::store::oauth::{ClientKind, OAuthStore};
    const CLIENT: &str = "https://client.example/metadata.json";
    let store = OAuthStore::new(db.clone());
    let metadata = ClientMetadata { name: Some("Client".into()), client_uri: None, redirect_uris: vec![] };
    store.save_client(CLIENT, ClientKind::Document, &metadata, None).await.unwrap();
    let user_id: String = sqlx::query_scalar("select id from users where email = $1")
        .bind(email)
        .fetch_one(match db {
            Db::Postgres(pool) => pool,
            Db::Sqlite(_) => unreachable!("replicas run on PostgreSQL"),
        })
        .await
        .unwrap();
    let code = store.consent(server_id, CLIENT, &user_id, "http://127.0.0.1/cb", "challenge").await.unwrap();
    let grant_id = store.redeem_code(&code, CLIENT).await.unwrap().unwrap().grant_id;
    (store.issue_tokens(&grant_id, None).await.unwrap().access_token, grant_id)
}

/// Replicas remember access tokens they have checked; a revocation through
/// any replica (or by any process writing the database) reaches all of them.
#[tokio::test]
async fn a_revocation_through_one_replica_is_refused_by_every_other_within_a_second() {
    let replicas = Replicas::start(2, &[]).await;
    let [a, b] = &replicas.processes[..] else { unreachable!() };
    let up = Upstream::start().await;
    let owner = Account::sign_up(a, "ada@example.com").await;
    let server_id = create_with(&owner, weather("weather", &up), "oauth").await;
    let db = replicas.db().await;

    // The owner disconnects a client through A: B, which has just admitted
    // its token (and remembers it), refuses it.
    let (access, grant_id) = issue_access(&db, &server_id, "ada@example.com").await;
    until_with(b, "weather", &access, StatusCode::OK, Instant::now()).await;
    assert_eq!(list_with(b, "weather", &access).await, StatusCode::OK);
    let asked = Instant::now();
    let response = owner.send(Method::DELETE, &format!("/api/v1/servers/{server_id}/clients/{grant_id}"), None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let refused = until_with(b, "weather", &access, StatusCode::UNAUTHORIZED, asked).await;
    println!("revoked through A: refused by B after {} ms", refused.as_millis());

    // A revocation by another process on the same database (this test,
    // revoking the token through the store as RFC 7009 does): both refuse.
    let (access, _) = issue_access(&db, &server_id, "ada@example.com").await;
    for process in [a, b] {
        until_with(process, "weather", &access, StatusCode::OK, Instant::now()).await;
    }
    let store = server::store::oauth::OAuthStore::new(db.clone());
    store.revoke_token(&access, "https://client.example/metadata.json").await.unwrap();
    let asked = Instant::now();
    for process in [a, b] {
        until_with(process, "weather", &access, StatusCode::UNAUTHORIZED, asked).await;
    }
}

#[tokio::test]
async fn the_free_quota_is_exact_across_replicas() {
    let replicas = Replicas::start(3, &[("AUTOMCP_FREE_MONTHLY_CALLS", "7")]).await;
    let up = Upstream::start().await;
    let account = Account::sign_up(&replicas.processes[0], "ada@example.com").await;
    create(&account, weather("weather", &up)).await;
    let mut clients = Vec::new();
    for process in &replicas.processes {
        until(process, "weather", StatusCode::OK, Instant::now()).await;
        clients.push(mcp_client(&process.url("/mcp/weather"), None, Era::Legacy).await.unwrap());
    }
    // Round robin until every replica has refused twice in a row (a call
    // the shared rate limit turns away is made again a moment later).
    let (mut made, mut refused_in_a_row) = (0, 0);
    for turn in 0..40 {
        match call(&clients[turn % 3], "forecast", json!({})).await {
            Ok(_) => (made, refused_in_a_row) = (made + 1, 0),
            Err(error) if error.contains("rate limit exceeded") => tokio::time::sleep(Duration::from_secs(1)).await,
            Err(error) => {
                assert!(error.contains("monthly quota exhausted"), "{error}");
                refused_in_a_row += 1;
            }
        }
        if refused_in_a_row == 6 {
            break;
        }
    }
    assert_eq!(made, 7, "exactly the quota across 3 replicas");
    assert_eq!(up.seen().len(), 7, "the upstream saw exactly the quota");
}

#[tokio::test]
async fn replicas_share_each_servers_rate_limit() {
    let replicas = Replicas::start(3, &[]).await;
    let up = Upstream::start().await;
    let account = Account::sign_up(&replicas.processes[0], "ada@example.com").await;
    create(&account, weather("weather", &up)).await;
    let mut clients = Vec::new();
    for process in &replicas.processes {
        until(process, "weather", StatusCode::OK, Instant::now()).await;
        clients.push(mcp_client(&process.url("/mcp/weather"), None, Era::Legacy).await.unwrap());
    }
    // Every replica has counted the others (they count every 5 s).
    tokio::time::sleep(server::servers::sync::COUNT_REPLICAS_EVERY + Duration::from_secs(1)).await;
    // The free tier's burst is 10 calls: 10 in all, not 10 per replica.
    let (mut made, mut refused_in_a_row) = (0, 0);
    for turn in 0..60 {
        match call(&clients[turn % 3], "forecast", json!({})).await {
            Ok(_) => (made, refused_in_a_row) = (made + 1, 0),
            Err(error) => {
                assert!(error.contains("rate limit exceeded"), "{error}");
                refused_in_a_row += 1;
            }
        }
        if refused_in_a_row == 3 {
            break;
        }
    }
    assert!((9..=11).contains(&made), "{made} calls passed the burst of 10 across 3 replicas");
}

/// The process that holds the job of operation `operation_id`.
async fn holder(db: &Db, operation_id: &str) -> Option<i64> {
    let pids = sql::ints(
        db,
        "select i.pid from jobs j join instances i on i.id = j.claimed_by
         where j.operation_id = $1 and j.state = 'running'",
        &[operation_id.into()],
    )
    .await;
    pids.first().copied().flatten()
}

async fn operation(account: &Account, id: &str) -> Value {
    account.get(&format!("/api/v1/operations/{id}")).await
}

#[tokio::test]
async fn a_replica_killed_during_a_deploy_to_a_machine_leaves_it_closed_cleanly_by_another() {
    let replicas = Replicas::start(2, &[]).await;
    let db = replicas.db().await;
    let up = Upstream::start().await;
    let first = Account::sign_up(&replicas.processes[0], "paid@example.com").await;
    sql::exec(&db, "update users set tier = 'paid'", &[]).await;
    let server = create(&first, weather("weather", &up)).await;

    let sshd = Sshd::start("");
    let body = json!({"name": "box", "host": "127.0.0.1", "port": sshd.port, "user": sshd.user});
    let response = first.send(Method::POST, "/api/v1/targets", Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let target = json(response).await;
    let target_id = target["id"].as_str().unwrap().to_owned();
    std::fs::write(sshd.dir.path().join("authorized_keys"), format!("{}\n", target["public_key"].as_str().unwrap()))
        .unwrap();
    let check = json(first.send(Method::POST, &format!("/api/v1/targets/{target_id}/check"), None).await).await;
    let trust = json!({"host_key": check["host_key"]});
    let response = first.send(Method::POST, &format!("/api/v1/targets/{target_id}/trust"), Some(trust)).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Deploy, and kill -9 whichever replica runs it once it is under way.
    let deploy = json!({"target_id": target_id});
    let path = format!("/api/v1/servers/{server}/vps/deploy");
    let response = first.send(Method::POST, &path, Some(deploy.clone())).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let started = json(response).await;
    let operation_id = started["id"].as_str().unwrap().to_owned();
    let pid = loop {
        if let Some(pid) = holder(&db, &operation_id).await
            && !operation(&first, &operation_id).await["steps"].as_array().unwrap().is_empty()
        {
            break pid;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let mut processes = replicas.processes;
    let index = processes.iter().position(|p| i64::from(p.pid()) == pid).expect("a replica holds the operation");
    let survivor = processes.remove(1 - index);
    processes.remove(0).kill9().await;
    let killed = Instant::now();

    let on_survivor = first.on(&survivor);
    let closed = loop {
        let view = operation(&on_survivor, &operation_id).await;
        if view["status"] != "running" {
            break view;
        }
        assert!(killed.elapsed() < Duration::from_secs(20), "the operation was never closed: {view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = killed.elapsed();
    assert_eq!(closed["status"], "failed", "{closed}");
    assert!(closed["error"].as_str().unwrap().contains("interrupted"), "{closed}");
    println!("kill -9 during a deploy: closed by the other replica {} ms later", took.as_millis());

    // Run again, it finishes through the survivor and serves there.
    let response = on_survivor.send(Method::POST, &path, Some(deploy)).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let again = json(response).await;
    let done = loop {
        let view = operation(&on_survivor, again["id"].as_str().unwrap()).await;
        if view["status"] != "running" {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], "succeeded", "{done}");
    let client = mcp_client(&survivor.url("/mcp/weather"), None, Era::Legacy).await.unwrap();
    assert_eq!(call(&client, "forecast", json!({})).await.unwrap().is_error, Some(false));
    survivor.terminate().await;
}

#[tokio::test]
async fn a_replica_without_the_shared_key_or_with_another_refuses_to_start() {
    let cluster = Postgres::start();
    let url = cluster.database("automcp");
    let dir = tempfile::tempdir().unwrap();
    let run = |key: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_automcp"));
        command
            .arg("serve")
            .env("AUTOMCP_BIND", "127.0.0.1:0")
            .env("AUTOMCP_DATA_DIR", dir.path())
            .env("AUTOMCP_DATABASE_URL", &url)
            .env("AUTOMCP_LOG", "warn")
            .env_remove("AUTOMCP_SECRET_KEY");
        if let Some(key) = key {
            command.env("AUTOMCP_SECRET_KEY", key);
        }
        command.output().unwrap()
    };
    let without = run(None);
    assert!(!without.status.success());
    let said = String::from_utf8_lossy(&without.stderr);
    assert!(said.contains("AUTOMCP_SECRET_KEY") && said.contains("same"), "{said}");
    assert!(!dir.path().join("secret.key").exists(), "no key was generated for this replica alone");

    // The first replica's key is fingerprinted; another key is refused.
    let first = Process::start(dir.path(), &options(&url, &[])).await;
    let other = run(Some(&"ab".repeat(32)));
    assert!(!other.status.success());
    let said = String::from_utf8_lossy(&other.stderr);
    assert!(said.contains("not the one the database's credentials were sealed with"), "{said}");
    first.terminate().await;
}
