//! A database with data from the previous release migrates on both backends:
//! its schema is brought to the previous release's last migration, filled
//! the way that release wrote (an account, a live server with a sealed
//! credential, a generation job, an operation on a machine left running,
//! this month's usage), then AutoMCP starts on it: everything is there, the
//! server answers with its credential, the job is a generation job, the
//! operation that can never finish is closed, the quota counts the
//! month's calls already made, and the call log keeps its rows in order
//! (renumbered) and takes new ones.

mod common;

use common::postgres::Postgres;
use common::upstream::Upstream;
use common::{Era, TEST_SECRET_KEY, TestApp, call, json, mcp_client, sql};
use reqwest::Method;
use serde_json::json;
use server::crypto::{Binding, seal};
use server::secret::InstanceKey;
use server::store::Db;
use server::store::quota::QuotaStore;

/// The last migration of the previous release, per backend.
const PREVIOUS_SQLITE: i64 = 20261204000200;
const PREVIOUS_POSTGRES: i64 = 20261204000300;

/// The previous release's rows, written with `$N` SQL on either backend.
async fn fill(db: &Db, upstream_url: &str) {
    let key = InstanceKey::from_hex(TEST_SECRET_KEY).unwrap();
    let sealed = seal(&key, &Binding { owner_id: "u1", server_id: "s1", name: "key" }, "k-123");
    let spec = json!({"version": 1, "name": "Weather", "slug": "weather", "description": "", "tools": [{
        "name": "forecast", "description": "forecast", "input_schema": {"type": "object"},
        "action": {"method": "GET", "url": upstream_url,
                   "auth": {"credential": "key", "placement": {"in": "header", "name": "X-Key"}}}}]});
    let month = server::engine::limits::month_of(server::db::now());
    let now_ms = server::db::now() * 1000;
    for (statement, binds) in [
        // Text keys that sort the other way round from the calls' times.
        (
            "insert into call_log (id, server_id, owner_id, tool, started_at, duration_ms, outcome, error)
             values ('c-z', 's1', 'u1', 'first', $1, 5, 'ok', null),
                    ('c-a', 's1', 'u1', 'second', $2, 7, 'upstream_error', 'the upstream answered 500')",
            vec![(now_ms - 60_000).into(), (now_ms - 30_000).into()],
        ),
        (
            "insert into users (id, email, password_hash, is_admin, tier, created_at)
             values ('u1', 'ada@example.com', 'x', true, 'free', 1)",
            vec![],
        ),
        (
            "insert into servers (id, owner_id, slug, name, spec, status, client_auth, created_at, updated_at)
             values ('s1', 'u1', 'weather', 'Weather', $1, 'active', 'public', 1, 1)",
            vec![spec.to_string().into()],
        ),
        (
            "insert into server_credentials (server_id, name, sealed, updated_at) values ('s1', 'key', $1, 1)",
            vec![sealed.into()],
        ),
        (
            "insert into wizards (id, owner_id, description, wizard_step, processing_status, created_at, updated_at)
             values ('w1', 'u1', 'pets', 'describe', 'processing', 1, 1)",
            vec![],
        ),
        (
            "insert into jobs (id, kind, wizard_id, state, attempts, created_at, updated_at, owner_id)
             values ('j1', 'generate', 'w1', 'queued', 0, 1, 1, 'u1')",
            vec![],
        ),
        (
            "insert into vps_operations (id, server_id, owner_id, kind, status, started_at)
             values ('o1', 's1', 'u1', 'deploy', 'running', 1)",
            vec![],
        ),
        ("insert into monthly_usage (owner_id, month, calls) values ('u1', $1, 9995)", vec![month.into()]),
    ] {
        sql::exec(db, statement, &binds).await;
    }
}

async fn previous_release(backend: &str, url: &str) -> Db {
    match backend {
        "sqlite" => {
            let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)
                .unwrap()
                .create_if_missing(true)
                .foreign_keys(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            server::db::MIGRATOR.run_to(PREVIOUS_SQLITE, &pool).await.unwrap();
            Db::Sqlite(pool)
        }
        _ => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            server::store::POSTGRES_MIGRATOR.run_to(PREVIOUS_POSTGRES, &pool).await.unwrap();
            Db::Postgres(pool)
        }
    }
}

#[tokio::test]
async fn a_database_of_the_previous_release_migrates_on_both_backends() {
    let cluster = Postgres::start();
    let up = Upstream::start().await;
    for backend in ["sqlite", "postgres"] {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            "sqlite" => format!("sqlite://{}", dir.path().join("automcp.db").display()),
            _ => cluster.database("previous"),
        };
        let old = previous_release(backend, &url).await;
        fill(&old, &up.url("/forecast")).await;
        old.close().await;

        let app = TestApp::spawn_in(dir, |config| {
            config.database_url = Some(url.clone());
            config.secret_key = Some(TEST_SECRET_KEY.to_owned());
            config.allow_private_upstreams = true;
        })
        .await;
        let db = &app.services.db;
        assert_eq!(sql::strings(db, "select kind from jobs where wizard_id = 'w1'", &[]).await, ["generate"]);
        let closed = sql::strings(db, "select status from vps_operations where id = 'o1'", &[]).await;
        assert_eq!(closed, ["failed"], "{backend}: an operation left running is closed");

        // The server answers with its credential, opened with the same key.
        let client = mcp_client(&app.mcp_url("weather"), None, Era::Legacy).await.unwrap();
        let result = call(&client, "forecast", json!({})).await.unwrap();
        assert_eq!(result.is_error, Some(false), "{backend}");
        assert_eq!(up.last().header("x-key"), Some("k-123"), "{backend}");

        // The old calls, in the order they were made, then the new one (its
        // key did not collide with the renumbered rows).
        let mut tools = Vec::new();
        for _ in 0..100 {
            tools = sql::strings(db, "select tool from call_log order by id", &[]).await;
            if tools.len() == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(tools, ["first", "second", "forecast"], "{backend}");
        let error = sql::strings(db, "select error from call_log where tool = 'second'", &[]).await;
        assert_eq!(error, ["the upstream answered 500"], "{backend}");

        // The month's usage carries over into the quota: 10,000 - 9,995 - 1 call made.
        let month = server::engine::limits::month_of(server::db::now());
        let granted = QuotaStore::new(db.clone()).granted("u1", &month).await.unwrap();
        assert!((9_996..=10_000).contains(&granted), "{backend}: {granted}");
        let token = app.services.accounts.create_token("u1", "t").await.unwrap();
        let view = json(app.api(Method::GET, "/api/v1/servers/s1", &token, None).await).await;
        assert_eq!(view["status"], "active", "{backend}: {view}");
        app.stop().await;
    }
}
