//! The SQLite side of the database: a file in the data directory, WAL mode,
//! foreign keys on, migrations applied at start. (The store layer,
//! [`crate::store`], opens either backend and owns all SQL; this module opens
//! the SQLite pool for it and keeps the clock.)
//!
//! Storage faults (a full disk, a foreign lock, I/O errors) are classified in
//! [`fault`] and watched by [`health`]; a connection is never handed out
//! again while it is inside a transaction (see [`connect`]).

pub mod fault;
pub mod health;

use anyhow::Context;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Opens (creating if needed) the database and brings its schema up to date.
///
/// `busy_timeout` is how long a write waits for a lock held by another
/// connection before it fails (and is answered 503).
///
/// A connection that comes back to the pool still inside a transaction is
/// closed, not reused: that happens when a statement or a COMMIT failed (a
/// full disk, an I/O error) and the rollback failed too. Reusing it would
/// keep the write lock forever and run later writes inside a transaction
/// nobody commits; closing it rolls that transaction back.
pub async fn connect(url: &str, busy_timeout: Duration) -> anyhow::Result<sqlx::SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("invalid database URL `{url}`"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(busy_timeout)
        // 8 MiB of pages per connection (SQLite's default is 2 MiB): a call
        // log batch spread over thousands of servers dirties one index page
        // per server, and a smaller cache spills them to the WAL mid-batch.
        .pragma("cache_size", "-8192");
    if let Some(dir) = options.get_filename().parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create the database directory {}", dir.display()))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(3))
        .after_release(|conn, _meta| {
            Box::pin(async move {
                // Lets a rollback queued by a dropped transaction run first.
                conn.ping().await?;
                if conn.is_in_transaction() {
                    tracing::warn!("a database connection came back inside a transaction; closing it (rolls it back)");
                    return Ok(false);
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("could not open the database at `{url}`"))?;
    MIGRATOR.run(&pool).await.context("could not apply database migrations")?;
    Ok(pool)
}

/// A transaction that will write: it takes the write lock at once
/// (`BEGIN IMMEDIATE`), waiting for it up to the busy timeout. A deferred
/// transaction that reads first would fail outright (`SQLITE_BUSY_SNAPSHOT`)
/// when another connection commits between its read and its first write.
pub async fn begin(db: &sqlx::SqlitePool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// Milliseconds since the Unix epoch (call log times).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// Seconds since the Unix epoch: how every timestamp is stored.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}
