//! Machines' SQL (paid-tier hosting over SSH): the registered machines
//! (`vps_targets`), the releases of servers on them (`vps_releases`) and the
//! operations that change them (`vps_operations`).

use super::{Db, Insert, Tx};
use crate::{on_db, on_tx};

/// A registered machine as stored (its private key sealed).
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct TargetRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub host: String,
    pub port: i64,
    pub username: String,
    pub base_dir: String,
    pub private_key_sealed: String,
    pub public_key: String,
    pub key_source: String,
    pub host_key: Option<String>,
    pub created_at: i64,
}

/// A release's state on its machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseStatus {
    /// Running; `/mcp/{slug}` forwards to it.
    Serving,
    /// Stopped by its owner; started again by "start".
    Halted,
    /// Replaced by a newer release (kept for rollback).
    Stopped,
    /// Never came up.
    Failed,
}

impl ReleaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::Serving => "serving",
            ReleaseStatus::Halted => "halted",
            ReleaseStatus::Stopped => "stopped",
            ReleaseStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "serving" => ReleaseStatus::Serving,
            "halted" => ReleaseStatus::Halted,
            "stopped" => ReleaseStatus::Stopped,
            _ => ReleaseStatus::Failed,
        }
    }
}

/// A release as stored.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct ReleaseRow {
    pub number: i64,
    pub supervisor: String,
    #[sqlx(rename = "status")]
    status_text: String,
    pub endpoint: Option<String>,
    pub created_at: i64,
}

impl ReleaseRow {
    pub fn status(&self) -> ReleaseStatus {
        ReleaseStatus::parse(&self.status_text)
    }
}

/// How an operation ended (or that it has not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationStatus {
    Running,
    Succeeded,
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Running => "running",
            OperationStatus::Succeeded => "succeeded",
            OperationStatus::Failed => "failed",
        }
    }
}

/// An operation as stored (steps as JSON).
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct OperationRow {
    pub id: String,
    pub server_id: String,
    pub kind: String,
    pub status: String,
    pub steps: String,
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// A machine to register.
pub struct NewTarget<'a> {
    pub id: &'a str,
    pub owner_id: &'a str,
    pub name: &'a str,
    pub host: &'a str,
    pub port: i64,
    pub username: &'a str,
    pub base_dir: &'a str,
    pub private_key_sealed: &'a str,
    pub public_key: &'a str,
    pub key_source: &'a str,
    pub at: i64,
}

/// A release to record (or to record again, with its outcome).
pub struct NewRelease<'a> {
    pub server_id: &'a str,
    pub number: i64,
    pub supervisor: &'a str,
    pub status: ReleaseStatus,
    pub endpoint: Option<&'a str>,
    pub spec: &'a str,
    pub at: i64,
}

macro_rules! select_targets {
    ($rest:literal) => {
        concat!(
            "select id, owner_id, name, host, port, username, base_dir, private_key_sealed, public_key, key_source,
                    host_key, created_at from vps_targets ",
            $rest
        )
    };
}

macro_rules! select_operations {
    ($rest:literal) => {
        concat!("select id, server_id, kind, status, steps, error, started_at, finished_at from vps_operations ", $rest)
    };
}

#[derive(Clone)]
pub struct MachineStore {
    db: Db,
}

impl MachineStore {
    pub fn new(db: Db) -> Self {
        MachineStore { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn target(&self, owner_id: &str, id: &str) -> sqlx::Result<Option<TargetRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_targets!("where id = $1 and owner_id = $2"))
            .bind(id)
            .bind(owner_id)
            .fetch_optional(pool)
            .await)
    }

    pub async fn targets(&self, owner_id: &str) -> sqlx::Result<Vec<TargetRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_targets!("where owner_id = $1 order by created_at"))
            .bind(owner_id)
            .fetch_all(pool)
            .await)
    }

    pub async fn insert_target(&self, target: &NewTarget<'_>) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "insert into vps_targets (id, owner_id, name, host, port, username, base_dir, private_key_sealed,
                                      public_key, key_source, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(target.id)
        .bind(target.owner_id)
        .bind(target.name)
        .bind(target.host)
        .bind(target.port)
        .bind(target.username)
        .bind(target.base_dir)
        .bind(target.private_key_sealed)
        .bind(target.public_key)
        .bind(target.key_source)
        .bind(target.at)
        .execute(pool)
        .await
        .map(drop))
    }

    /// How many servers are hosted on a machine.
    pub async fn servers_on(&self, target_id: &str) -> sqlx::Result<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("select count(*) from servers where target_id = $1")
            .bind(target_id)
            .fetch_one(pool)
            .await)
    }

    pub async fn delete_target(&self, id: &str) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query("delete from vps_targets where id = $1").bind(id).execute(pool).await.map(drop))
    }

    pub async fn pin_host_key(&self, id: &str, host_key: &str, at: i64) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query("update vps_targets set host_key = $1, updated_at = $2 where id = $3")
            .bind(host_key)
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))
    }

    /// A server's releases, newest first.
    pub async fn releases(&self, server_id: &str) -> sqlx::Result<Vec<ReleaseRow>> {
        on_db!(&self.db, pool => sqlx::query_as(
            "select number, supervisor, status, endpoint, created_at from vps_releases where server_id = $1
             order by number desc",
        )
        .bind(server_id)
        .fetch_all(pool)
        .await)
    }

    /// The serving release's endpoint and spec.
    pub async fn serving(&self, server_id: &str) -> sqlx::Result<Option<(Option<String>, String)>> {
        on_db!(&self.db, pool => sqlx::query_as(
            "select endpoint, spec from vps_releases where server_id = $1 and status = 'serving' order by number desc",
        )
        .bind(server_id)
        .fetch_optional(pool)
        .await)
    }

    pub async fn record_release(&self, release: &NewRelease<'_>) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "insert into vps_releases (server_id, number, supervisor, status, endpoint, spec, created_at)
             values ($1, $2, $3, $4, $5, $6, $7)
             on conflict (server_id, number) do update set status = excluded.status, endpoint = excluded.endpoint,
             supervisor = excluded.supervisor",
        )
        .bind(release.server_id)
        .bind(release.number)
        .bind(release.supervisor)
        .bind(release.status.as_str())
        .bind(release.endpoint)
        .bind(release.spec)
        .bind(release.at)
        .execute(pool)
        .await
        .map(drop))
    }

    pub async fn set_release_status(&self, server_id: &str, number: i64, status: ReleaseStatus) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query("update vps_releases set status = $1 where server_id = $2 and number = $3")
            .bind(status.as_str())
            .bind(server_id)
            .bind(number)
            .execute(pool)
            .await
            .map(drop))
    }

    /// Marks a release serving at `endpoint` and the server active on the machine.
    pub async fn serve(&self, server_id: &str, target_id: &str, release: &NewRelease<'_>) -> sqlx::Result<()> {
        let mut tx = self.db.begin().await?;
        crate::on_tx!(&mut tx, conn => sqlx::query(
            "update vps_releases set status = 'serving', endpoint = $1, supervisor = $2 where server_id = $3 and number = $4",
        )
        .bind(release.endpoint)
        .bind(release.supervisor)
        .bind(server_id)
        .bind(release.number)
        .execute(conn)
        .await
        .map(drop))?;
        crate::on_tx!(&mut tx, conn => sqlx::query(
            "update servers set hosting = 'vps', target_id = $1, status = 'active', updated_at = $2 where id = $3",
        )
        .bind(target_id)
        .bind(release.at)
        .bind(server_id)
        .execute(conn)
        .await
        .map(drop))?;
        tx.commit().await
    }

    /// After "remove": no releases are left and the server is hosted here, disabled.
    pub async fn forget_releases(&self, server_id: &str, at: i64) -> sqlx::Result<()> {
        let mut tx = self.db.begin().await?;
        crate::on_tx!(&mut tx, conn => sqlx::query("delete from vps_releases where server_id = $1")
            .bind(server_id)
            .execute(conn)
            .await
            .map(drop))?;
        crate::on_tx!(&mut tx, conn => sqlx::query(
            "update servers set hosting = 'here', target_id = null, status = 'disabled', updated_at = $1 where id = $2",
        )
        .bind(at)
        .bind(server_id)
        .execute(conn)
        .await
        .map(drop))?;
        tx.commit().await
    }

    /// Starts an operation; [`Insert::Taken`] while another runs on the server.
    #[allow(clippy::too_many_arguments)]
    pub async fn begin_operation(
        &self,
        tx: &mut Tx,
        id: &str,
        server_id: &str,
        owner_id: &str,
        kind: &str,
        params: &str,
        at: i64,
    ) -> sqlx::Result<Insert> {
        // The partial unique index decides without an error (an error would
        // abort the caller's transaction on PostgreSQL).
        let inserted = on_tx!(tx, conn => sqlx::query(
            "insert into vps_operations (id, server_id, owner_id, kind, params, status, started_at)
             values ($1, $2, $3, $4, $5, 'running', $6)
             on conflict (server_id) where status = 'running' do nothing",
        )
        .bind(id)
        .bind(server_id)
        .bind(owner_id)
        .bind(kind)
        .bind(params)
        .bind(at)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(if inserted == 1 { Insert::Done } else { Insert::Taken })
    }

    /// An operation to run: the row, its owner and what was asked (JSON).
    pub async fn operation_to_run(&self, id: &str) -> sqlx::Result<Option<(OperationRow, String, Option<String>)>> {
        let row: Option<OperationRow> = on_db!(&self.db, pool => sqlx::query_as(select_operations!("where id = $1")).bind(id).fetch_optional(pool).await)?;
        let Some(row) = row else { return Ok(None) };
        let (owner_id, params): (String, Option<String>) = on_db!(&self.db, pool => sqlx::query_as("select owner_id, params from vps_operations where id = $1")
                .bind(id)
                .fetch_one(pool)
                .await)?;
        Ok(Some((row, owner_id, params)))
    }

    pub async fn set_steps(&self, id: &str, steps: &str) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query("update vps_operations set steps = $1 where id = $2")
            .bind(steps)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))
    }

    /// Ends a running operation (one that already ended stays as it is).
    pub async fn finish_operation(
        &self,
        tx: &mut Tx,
        id: &str,
        status: OperationStatus,
        error: Option<&str>,
        at: i64,
    ) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query(
            "update vps_operations set status = $1, error = $2, finished_at = $3 where id = $4 and status = 'running'",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(at)
        .bind(id)
        .execute(conn)
        .await
        .map(drop))
    }

    pub async fn last_operation(&self, server_id: &str) -> sqlx::Result<Option<OperationRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_operations!("where server_id = $1 order by started_at desc, id desc limit 1"))
            .bind(server_id)
            .fetch_optional(pool)
            .await)
    }

    pub async fn operation(&self, owner_id: &str, id: &str) -> sqlx::Result<Option<OperationRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_operations!("where id = $1 and owner_id = $2"))
            .bind(id)
            .bind(owner_id)
            .fetch_optional(pool)
            .await)
    }
}
