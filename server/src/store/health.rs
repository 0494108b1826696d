//! The health monitor's SQL: this process's heartbeat (its row in
//! `instances`, which the job queue reads as liveness), written on a
//! connection of the monitor's own, plus the scratch write of a recovery
//! probe.

use super::Db;
use crate::on_db;
use sqlx::{ConnectOptions, Connection};
use std::time::Duration;

/// The monitor's own connection: a write there never waits behind the pool.
pub enum ProbeConnection {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// What a heartbeat writes.
pub struct Beat<'a> {
    pub instance_id: &'a str,
    pub host: &'a str,
    pub pid: i64,
    pub started_at_ms: i64,
    pub now_ms: i64,
    /// Bytes to write and remove again (a recovery probe), if any.
    pub scratch_bytes: usize,
}

/// Heartbeats of instances gone for a day are of no use to anyone.
const FORGET_AFTER_MS: i64 = 86_400_000;

impl Db {
    /// Opens the monitor's connection: on SQLite it waits at most
    /// `busy_timeout` for a lock; on PostgreSQL each statement at most that long.
    pub async fn probe_connection(&self, busy_timeout: Duration) -> sqlx::Result<ProbeConnection> {
        Ok(match self {
            Db::Sqlite(pool) => {
                ProbeConnection::Sqlite((*pool.connect_options()).clone().busy_timeout(busy_timeout).connect().await?)
            }
            Db::Postgres(pool) => {
                let timeout = format!("{}ms", busy_timeout.as_millis());
                let options = (*pool.connect_options()).clone().options([("statement_timeout", timeout.as_str())]);
                ProbeConnection::Postgres(options.connect().await?)
            }
        })
    }

    /// Whether the database answers a read.
    pub async fn read_instances(&self) -> sqlx::Result<i64> {
        on_db!(self, pool => sqlx::query_scalar("select count(*) from instances").fetch_one(pool).await)
    }

    /// How many instances have beaten since `alive_since_ms`.
    pub async fn live_instances(&self, alive_since_ms: i64) -> sqlx::Result<i64> {
        on_db!(self, pool => sqlx::query_scalar("select count(*) from instances where heartbeat_at >= $1")
            .bind(alive_since_ms)
            .fetch_one(pool)
            .await)
    }

    /// Removes this instance's heartbeat (at shutdown).
    pub async fn remove_instance(&self, instance_id: &str) -> sqlx::Result<()> {
        on_db!(self, pool => sqlx::query("delete from instances where id = $1")
            .bind(instance_id)
            .execute(pool)
            .await
            .map(|_| ()))
    }
}

macro_rules! beat {
    ($tx:expr, $beat:expr) => {{
        let beat = $beat;
        sqlx::query(
            "insert into instances (id, host, pid, started_at, heartbeat_at) values ($1, $2, $3, $4, $5)
             on conflict (id) do update set heartbeat_at = excluded.heartbeat_at",
        )
        .bind(beat.instance_id)
        .bind(beat.host)
        .bind(beat.pid)
        .bind(beat.started_at_ms)
        .bind(beat.now_ms)
        .execute(&mut *$tx)
        .await?;
        if beat.scratch_bytes > 0 {
            sqlx::query("insert into health_scratch (id, payload) values ($1, $2)")
                .bind(beat.instance_id)
                .bind(vec![0u8; beat.scratch_bytes])
                .execute(&mut *$tx)
                .await?;
            sqlx::query("delete from health_scratch where id = $1").bind(beat.instance_id).execute(&mut *$tx).await?;
        }
        sqlx::query("delete from instances where heartbeat_at < $1")
            .bind(beat.now_ms - FORGET_AFTER_MS)
            .execute(&mut *$tx)
            .await?;
        $tx.commit().await
    }};
}

impl ProbeConnection {
    /// Writes the heartbeat in one write transaction (on SQLite taking the
    /// write lock at once).
    pub async fn beat(&mut self, beat: &Beat<'_>) -> sqlx::Result<()> {
        match self {
            ProbeConnection::Sqlite(conn) => {
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                beat!(tx, beat)
            }
            ProbeConnection::Postgres(conn) => {
                let mut tx = conn.begin().await?;
                beat!(tx, beat)
            }
        }
    }

    /// Drops the connection without a goodbye (after a failure).
    pub async fn close_hard(self) -> sqlx::Result<()> {
        match self {
            ProbeConnection::Sqlite(conn) => conn.close_hard().await,
            ProbeConnection::Postgres(conn) => conn.close_hard().await,
        }
    }

    pub async fn close(self) -> sqlx::Result<()> {
        match self {
            ProbeConnection::Sqlite(conn) => conn.close().await,
            ProbeConnection::Postgres(conn) => conn.close().await,
        }
    }
}
