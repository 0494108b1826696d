//! The store layer: the one place SQL lives, over either backend.
//!
//! SQLite is the embedded default; PostgreSQL serves several replicas. One
//! codebase serves both this way (ARCHITECTURE.md says why):
//! - SQL is written once, in the portable subset both understand, with `$N`
//!   placeholders (both sqlx drivers bind them);
//! - [`Db`] is an enum over the two pools and [`Tx`] over their
//!   transactions; [`on_db!`] and [`on_tx!`] expand a query expression once
//!   per backend, so each runs fully typed on its own driver (no `sqlx::Any`
//!   value conversion, no lost types);
//! - typed rows derive `sqlx::FromRow`, which is generic over the row type.
//!
//! One module per aggregate: accounts, servers (with their credentials),
//! machines (targets, releases, operations), sources, wizards, jobs, calls,
//! oauth, settings and health. Services hold the rules and never see SQL.

pub mod accounts;
pub mod calls;
pub mod documents;
pub mod health;
pub mod jobs;
pub mod machines;
pub mod oauth;
pub mod quota;
pub mod servers;
pub mod settings;
pub mod sources;
pub mod wizards;

use anyhow::Context;
use std::time::Duration;

/// A database of either backend.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A write transaction of either backend.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$pool` bound to the backend's pool (`&SqlitePool` or `&PgPool`).
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::store::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Opens the database a URL names (`postgres://…` or SQLite) and brings
    /// its schema up to date.
    pub async fn connect(url: &str, busy_timeout: Duration) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(3))
                .connect(url)
                .await
                .with_context(|| format!("could not connect to PostgreSQL at `{}`", redact(url)))?;
            POSTGRES_MIGRATOR.run(&pool).await.context("could not apply the PostgreSQL migrations")?;
            Ok(Db::Postgres(pool))
        } else {
            Ok(Db::Sqlite(crate::db::connect(url, busy_timeout).await?))
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// The newest migration applied.
    pub async fn schema_version(&self) -> sqlx::Result<i64> {
        on_db!(self, pool => sqlx::query_scalar("select coalesce(max(version), 0) from _sqlx_migrations where success")
            .fetch_one(pool)
            .await)
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }

    /// The SQLite pool (for what only SQLite has: its fault probes and tests).
    pub fn sqlite(&self) -> Option<&sqlx::SqlitePool> {
        match self {
            Db::Sqlite(pool) => Some(pool),
            Db::Postgres(_) => None,
        }
    }

    /// A transaction that will write: on SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`, see [`crate::db::begin`]); PostgreSQL's row
    /// locks need nothing special.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(crate::db::begin(pool).await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}

impl From<sqlx::SqlitePool> for Db {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Db::Sqlite(pool)
    }
}

impl Tx {
    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// Whether an insert (or an update of a unique key) happened.
#[derive(Debug, PartialEq, Eq)]
pub enum Insert {
    Done,
    /// The email, slug or another unique key is taken.
    Taken,
}

impl Insert {
    /// Reads a unique violation as [`Insert::Taken`]; other errors stay errors.
    /// (On PostgreSQL the failed statement aborts its transaction: the caller
    /// must not write more in it.)
    pub fn from_result(result: sqlx::Result<()>) -> sqlx::Result<Insert> {
        match result {
            Ok(()) => Ok(Insert::Done),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Insert::Taken),
            Err(e) => Err(e),
        }
    }
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
