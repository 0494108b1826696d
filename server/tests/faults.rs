//! Crashes, shutdowns and storage faults against real `automcp` processes:
//! kill -9 at several points of a generation and SIGTERM (every wizard ends
//! within 15 s of the restart, no job runs twice at once, Retry works); a
//! full disk (a tmpfs the test mounts) and a write lock held by someone
//! else (503 quickly, `/healthz` says so, recovery without a restart, and
//! nothing acknowledged is lost).

mod common;

use common::docs::DocServer;
use common::llm::FakeLlm;
use common::process::{Account, Options, Process};
use common::{TestApp, json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// How soon after a restart every wizard must be final.
const RECOVERY: Duration = Duration::from_secs(15);

fn petstore() -> String {
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Pets", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {"/pets": {"get": {"operationId": "listPets", "summary": "List pets"}}},
    })
    .to_string()
}

fn options(llm: Option<&FakeLlm>) -> Options {
    let mut options = Options::default().env("AUTOMCP_ALLOW_PRIVATE_UPSTREAMS", "true");
    if let Some(llm) = llm {
        options = options.env("AUTOMCP_LLM_BASE_URL", &llm.base_url()).env("AUTOMCP_LLM_MODEL", "stub");
    }
    options.stderr = std::env::var_os("FAULTS_LOG").map(Into::into);
    options
}

/// The LLM's answer choosing `listPets`.
fn choose_list_pets(llm: &FakeLlm) {
    llm.push_json(json!({"name": "Pets", "description": "pets", "tools": [{"operation": "listPets"}]}));
}

/// Where a generation is when the process is killed.
#[derive(Debug, Clone, Copy)]
enum Point {
    /// Right after the wizard was accepted (queued or just claimed).
    Accepted,
    /// While the OpenAPI document is being fetched.
    Fetching,
    /// While the LLM is answering.
    AskingTheLlm,
}

#[tokio::test]
async fn kill_9_at_any_point_of_a_generation_and_every_wizard_ends_after_the_restart() {
    let data = tempfile::tempdir().unwrap();
    let docs = DocServer::start().await;
    let llm = FakeLlm::start().await;
    let mut process = Process::start(data.path(), &options(Some(&llm))).await;
    let account = Account::sign_up(&process, "ada@example.com").await;
    let mut report = Vec::new();
    for (i, point) in [Point::Accepted, Point::Fetching, Point::AskingTheLlm].into_iter().enumerate() {
        let name = format!("pets-{i}.json");
        let url = docs.put(&name, petstore());
        let client = account.on(&process);
        // Answers for the run before the kill and the one after it.
        choose_list_pets(&llm);
        choose_list_pets(&llm);
        match point {
            Point::Accepted => {}
            Point::Fetching => docs.hold(),
            Point::AskingTheLlm => llm.hold(),
        }
        let asked_before = llm.requests().len();
        let id = client.start_wizard(json!({"description": "list pets", "openapi_url": url})).await;
        match point {
            Point::Accepted => {}
            Point::Fetching => docs.wait_for(&name, 1).await,
            Point::AskingTheLlm => llm.wait_for(asked_before + 1).await,
        }
        process.kill9().await;
        docs.release();
        llm.release();
        let restarted = Instant::now();
        process = Process::start(data.path(), &options(Some(&llm))).await;
        let (view, _) = account.on(&process).settle(&id, RECOVERY).await;
        let took = restarted.elapsed();
        assert_eq!(view["step"], "actions", "{point:?}: {view}");
        assert!(took < RECOVERY, "{point:?}: final {took:?} after the restart");
        let (requests, _) = docs.counts(&name);
        report.push(format!("kill -9 {point:?}: final {} ms after the restart ({requests} fetches)", took.as_millis()));
    }
    for line in &report {
        println!("{line}");
    }
    process.terminate().await;
}

#[tokio::test]
async fn sigterm_hands_the_running_job_back_and_the_next_process_finishes_it_at_once() {
    let data = tempfile::tempdir().unwrap();
    let docs = DocServer::start().await;
    let process = Process::start(data.path(), &options(None)).await;
    let account = Account::sign_up(&process, "ada@example.com").await;
    let url = docs.put("pets.json", petstore());
    docs.hold();
    let id = account.start_wizard(json!({"description": "list pets", "openapi_url": url})).await;
    docs.wait_for("pets.json", 1).await;
    let stopping = process.terminate().await;
    docs.release();
    let restarted = Instant::now();
    let process = Process::start(data.path(), &options(None)).await;
    let (view, _) = account.on(&process).settle(&id, RECOVERY).await;
    let took = restarted.elapsed();
    assert_eq!(view["step"], "actions", "{view}");
    // Handed back: no waiting for the old heartbeat to go stale.
    assert!(took < Duration::from_secs(4), "final {took:?} after the restart");
    assert_eq!(docs.counts("pets.json").0, 2);
    println!("SIGTERM: stopped in {} ms; final {} ms after the restart", stopping.as_millis(), took.as_millis());
    process.terminate().await;
}

/// The instance (its pid) that holds the wizard's job.
async fn holder_pid(data: &Path, wizard: &str) -> Option<u32> {
    let db = common::open_database(data).await;
    let pid = common::sql::ints(
        &db,
        "select i.pid from jobs j join instances i on i.id = j.claimed_by where j.wizard_id = $1 and j.state = 'running'",
        &[wizard.into()],
    )
    .await;
    db.close().await;
    pid.first().copied().flatten().map(|p| p as u32)
}

#[tokio::test]
async fn with_two_processes_a_job_is_taken_over_once_its_holder_dies_and_never_runs_twice_at_once() {
    let data = tempfile::tempdir().unwrap();
    let docs = DocServer::start().await;
    let first = Process::start(data.path(), &options(None)).await;
    let second = Process::start(data.path(), &options(None)).await;
    let account = Account::sign_up(&first, "ada@example.com").await;
    let url = docs.put("pets.json", petstore());
    docs.hold();
    let id = account.start_wizard(json!({"description": "list pets", "openapi_url": url})).await;
    docs.wait_for("pets.json", 1).await;
    let holder = holder_pid(data.path(), &id).await.expect("a process holds the job");
    let (dead, alive) = if holder == first.pid() { (first, second) } else { (second, first) };
    // While its holder lives, the other process never takes the job, however long it runs.
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(docs.counts("pets.json").0, 1, "a job of a live process was taken over");
    assert_eq!(holder_pid(data.path(), &id).await, Some(holder));
    dead.kill9().await;
    let killed = Instant::now();
    // The survivor takes over once the dead one's heartbeat is stale.
    docs.wait_for("pets.json", 2).await;
    let taken_over = killed.elapsed();
    assert_eq!(holder_pid(data.path(), &id).await, Some(alive.pid()));
    docs.release();
    let (view, _) = account.on(&alive).settle(&id, RECOVERY).await;
    assert_eq!(view["step"], "actions", "{view}");
    assert!(taken_over < Duration::from_secs(10), "taken over after {taken_over:?}");
    println!("two processes: job taken over {} ms after its holder was killed", taken_over.as_millis());
    alive.terminate().await;
}

#[tokio::test]
async fn a_job_interrupted_three_times_fails_and_retry_finishes_it() {
    let data = tempfile::tempdir().unwrap();
    let docs = DocServer::start().await;
    let mut process = Process::start(data.path(), &options(None)).await;
    let account = Account::sign_up(&process, "ada@example.com").await;
    let url = docs.put("pets.json", petstore());
    docs.hold();
    let id = account.start_wizard(json!({"description": "list pets", "openapi_url": url})).await;
    for attempt in 1..=3 {
        docs.wait_for("pets.json", attempt).await;
        process.kill9().await;
        process = Process::start(data.path(), &options(None)).await;
    }
    let client = account.on(&process);
    let (view, _) = client.settle(&id, Duration::from_secs(30)).await;
    assert_eq!(view["processing_status"], "failed", "{view}");
    assert!(view["processing_error"].as_str().unwrap().contains("interrupted 3 times"), "{view}");
    docs.release();
    let retried = client.send(Method::POST, &format!("/api/v1/wizard/{id}/retry"), None).await;
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    let (view, _) = client.settle(&id, RECOVERY).await;
    assert_eq!(view["step"], "actions", "{view}");
    process.terminate().await;
}

/// A tmpfs of `mib` MiB mounted for the test, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(mib: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "could not mount a tmpfs (the full-disk test needs root or CAP_SYS_ADMIN)");
        Tmpfs(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

async fn health(process: &Process) -> (StatusCode, Value) {
    let response = reqwest::get(process.url("/healthz")).await.unwrap();
    (response.status(), json(response).await)
}

/// A small spec (a write of a few KB).
fn server_spec(slug: &str) -> Value {
    json!({"spec": common::spec(slug, vec![common::tool("ping", "GET", "https://api.example.com/ping")]),
           "client_auth": "public"})
}

#[tokio::test]
async fn a_full_disk_answers_503_quickly_and_recovers_by_itself_without_losing_anything() {
    if common::test_postgres().is_some() {
        return common::skip("a full disk under SQLite's files");
    }
    let disk = Tmpfs::mount(24);
    let data = disk.path().join("data");
    let log = disk.path().join("automcp.log");
    let mut opts = options(None).env("AUTOMCP_LOG", "info");
    opts.stderr = Some(log.clone());
    let process = Process::start(&data, &opts).await;
    let account = Account::sign_up(&process, "ada@example.com").await;
    let mut acknowledged = Vec::new();
    let created = account.send(Method::POST, "/api/v1/servers", Some(server_spec("before-full"))).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    acknowledged.push("before-full".to_owned());

    let filler = disk.fill();
    // Writes that need room fail quickly with 503 and Retry-After; some small
    // ones may still fit into space the database has already.
    let big_doc =
        json!({"description": "pets", "openapi_document": format!("{{\"x\": \"{}\"}}", "p".repeat(512 * 1024))});
    let asked = Instant::now();
    let refused = account.send(Method::POST, "/api/v1/wizard", Some(big_doc.clone())).await;
    let time_to_503 = asked.elapsed();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "2");
    let error = json(refused).await;
    assert!(error["error"]["message"].as_str().unwrap().contains("the disk is full"), "{error}");
    assert!(time_to_503 < Duration::from_secs(1), "503 after {time_to_503:?}");
    let (status, body) = health(&process).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["database"], "read_only", "{body}");
    assert_eq!(body["fault"], "disk_full", "{body}");
    // Further writes are refused at once; reads (with a bearer token) work.
    for i in 0..20 {
        let slug = format!("during-{i}");
        let response = account.send(Method::POST, "/api/v1/servers", Some(server_spec(&slug))).await;
        match response.status() {
            StatusCode::CREATED => acknowledged.push(slug),
            StatusCode::SERVICE_UNAVAILABLE => {}
            other => panic!("a write while the disk is full answered {other}"),
        }
    }
    let listed = account.get("/api/v1/servers").await;
    assert!(!listed.as_array().unwrap().is_empty());
    // The log is on the full disk too: lines are dropped and counted, nothing panics.
    assert!(health(&process).await.1["log_write_errors"].as_u64().unwrap() > 0);

    std::fs::remove_file(filler).unwrap();
    let freed = Instant::now();
    loop {
        let (status, _) = health(&process).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(freed.elapsed() < Duration::from_secs(10), "still degraded 10 s after the disk was freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let time_to_health = freed.elapsed();
    let created = account.send(Method::POST, "/api/v1/servers", Some(server_spec("after-full"))).await;
    assert_eq!(created.status(), StatusCode::CREATED, "writes work again without a restart");
    acknowledged.push("after-full".to_owned());
    let id = account.start_wizard(big_doc).await;
    let (view, _) = account.settle(&id, RECOVERY).await;
    assert_eq!(view["processing_status"], "failed", "the padded document is no OpenAPI document: {view}");
    println!(
        "full disk: 503 in {} ms; healthy again {} ms after space was freed",
        time_to_503.as_millis(),
        time_to_health.as_millis()
    );

    // Nothing acknowledged is lost across a restart.
    process.terminate().await;
    let process = Process::start(&data, &opts).await;
    let listed = account.on(&process).get("/api/v1/servers").await;
    let slugs: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap()).collect();
    for slug in &acknowledged {
        assert!(slugs.contains(&slug.as_str()), "{slug} was acknowledged but is gone: {slugs:?}");
    }
    process.terminate().await;
}

#[tokio::test]
async fn a_write_lock_held_elsewhere_answers_503_quickly_and_reads_go_on() {
    if common::test_postgres().is_some() {
        return common::skip("SQLite's write lock held by another process");
    }
    let app = TestApp::spawn().await;
    let (user, token) = app.account("ada@example.com", app::model::Tier::Free).await;
    let create = |slug: &str| server_spec(slug);
    let created = app.api(Method::POST, "/api/v1/servers", &token, Some(create("before-lock"))).await;
    assert_eq!(created.status(), StatusCode::CREATED);

    // Another connection (as another process would) takes the write lock.
    let url = format!("sqlite://{}", app.data_dir().join("automcp.db").display());
    let mut foreign = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut foreign).await.unwrap();
    let locked = Instant::now();

    // The first write waits at most the busy timeout; once the lock is known,
    // writes are refused at once.
    let first = app.api(Method::POST, "/api/v1/servers", &token, Some(create("first"))).await;
    let first_503 = locked.elapsed();
    assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(first).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("locked by another process"), "{body}");
    assert!(first_503 < Duration::from_millis(1500), "{first_503:?}");
    let asked = Instant::now();
    let next = app.api(Method::POST, "/api/v1/servers", &token, Some(create("next"))).await;
    let next_503 = asked.elapsed();
    assert_eq!(next.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(next_503 < Duration::from_millis(200), "{next_503:?}");
    let health = app.anonymous().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(health).await;
    assert_eq!((body["database"].as_str(), body["fault"].as_str()), (Some("read_only"), Some("locked")));
    // Reads with a bearer token need no write.
    let listed = app.api(Method::GET, "/api/v1/servers", &token, None).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let me = app.api(Method::GET, "/api/v1/me", &token, None).await;
    assert_eq!(me.status(), StatusCode::OK);

    sqlx::query("ROLLBACK").execute(&mut foreign).await.unwrap();
    let released = Instant::now();
    let recovered = loop {
        let response = app.api(Method::POST, "/api/v1/servers", &token, Some(create("after-lock"))).await;
        if response.status() == StatusCode::CREATED {
            break released.elapsed();
        }
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(released.elapsed() < Duration::from_secs(5), "not recovered 5 s after the lock was released");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    println!(
        "foreign write lock: first 503 in {} ms, next in {} ms; writes again {} ms after release",
        first_503.as_millis(),
        next_503.as_millis(),
        recovered.as_millis()
    );

    let dir = app.stop().await;
    let app = TestApp::spawn_in(dir, |_| {}).await;
    let token = app.services.accounts.create_token(&user.id, "again").await.unwrap();
    let listed = json(app.api(Method::GET, "/api/v1/servers", &token, None).await).await;
    let slugs: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap()).collect();
    assert!(slugs.contains(&"before-lock") && slugs.contains(&"after-lock"), "{slugs:?}");
    assert!(!slugs.contains(&"first") && !slugs.contains(&"next"), "refused writes were not stored: {slugs:?}");
}

#[tokio::test]
async fn a_connection_left_inside_a_transaction_is_closed_not_reused() {
    let app = TestApp::spawn().await;
    let Some(db) = app.services.db.sqlite().cloned() else {
        return common::skip("that a SQLite connection left holding the write lock is closed");
    };
    {
        let mut conn = db.acquire().await.unwrap();
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        sqlx::query("insert into instances (id, host, pid, started_at, heartbeat_at) values ('ghost', 'h', 1, 0, 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
        // As when both COMMIT and ROLLBACK fail: the transaction is never ended
        // and the connection goes back to the pool holding the write lock.
        std::mem::forget(tx);
    }
    // Every other connection can write at once: the leaked one was closed,
    // which rolled its transaction back.
    let asked = Instant::now();
    for i in 0..16 {
        sqlx::query("insert into instances (id, host, pid, started_at, heartbeat_at) values (?, 'h', 1, 0, 0)")
            .bind(format!("writer-{i}"))
            .execute(&db)
            .await
            .unwrap();
    }
    assert!(asked.elapsed() < Duration::from_millis(900), "writes waited for a lock: {:?}", asked.elapsed());
    let ghost: i64 =
        sqlx::query_scalar("select count(*) from instances where id = 'ghost'").fetch_one(&db).await.unwrap();
    assert_eq!(ghost, 0, "the unfinished transaction was rolled back");
}
