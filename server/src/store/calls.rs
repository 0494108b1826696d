//! The call log's SQL: call records written in batches with the monthly
//! usage counters, read back newest first, pruned by age.

use super::Db;
use crate::engine::calllog::CallRecord;
use crate::{on_db, on_tx};
use std::collections::BTreeMap;

/// Rows per multi-row insert (10 values a row; SQLite allows 32,766 bound
/// values, PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 100;

/// A logged call as read back.
#[derive(sqlx::FromRow)]
pub struct CallRow {
    /// The row's generated key, increasing in the order calls were stored.
    pub id: i64,
    pub tool: String,
    pub started_at: i64,
    pub duration_ms: i64,
    pub outcome: String,
    pub upstream_status: Option<i64>,
    pub error: Option<String>,
    pub oauth_client: Option<String>,
    pub oauth_user: Option<String>,
}

#[derive(Clone)]
pub struct CallStore {
    db: Db,
}

impl CallStore {
    pub fn new(db: Db) -> Self {
        CallStore { db }
    }

    /// Stores `batch` and adds `usage` (calls per account and month) to the
    /// monthly counters, in one transaction.
    pub async fn write(&self, batch: &[CallRecord], usage: &BTreeMap<(&str, &str), i64>) -> sqlx::Result<()> {
        let mut tx = self.db.begin().await?;
        // On SQLite `or ignore`, which changes nothing here (the key is
        // generated, no value is null), spares each multi-row insert the
        // statement journal it would keep to undo a half-done statement.
        let insert_into = match &tx {
            super::Tx::Sqlite(_) => "insert or ignore into",
            super::Tx::Postgres(_) => "insert into",
        };
        for chunk in batch.chunks(ROWS_PER_INSERT) {
            on_tx!(&mut tx, conn => {
                let mut insert = sqlx::QueryBuilder::new(insert_into);
                insert.push(
                    " call_log (server_id, owner_id, tool, started_at, duration_ms, outcome,
                                upstream_status, error, oauth_client, oauth_user) ",
                );
                insert.push_values(chunk, |mut row, r| {
                    row.push_bind(r.server_id.as_str())
                        .push_bind(r.owner_id.as_str())
                        .push_bind(r.tool.as_str())
                        .push_bind(r.started_at_ms)
                        .push_bind(r.duration_ms)
                        .push_bind(r.outcome)
                        .push_bind(r.upstream_status.map(i64::from))
                        .push_bind(r.error.as_deref())
                        .push_bind(r.oauth_client.as_deref())
                        .push_bind(r.oauth_user.as_deref());
                });
                insert.build().execute(conn).await.map(|_| ())
            })?;
        }
        for ((owner, month), calls) in usage {
            on_tx!(&mut tx, conn => sqlx::query(
                "insert into monthly_usage (owner_id, month, calls) values ($1, $2, $3)
                 on conflict (owner_id, month) do update set calls = monthly_usage.calls + excluded.calls",
            )
            .bind(*owner)
            .bind(*month)
            .bind(*calls)
            .execute(conn)
            .await
            .map(|_| ()))?;
        }
        tx.commit().await
    }

    /// A server's most recent calls, newest first.
    pub async fn recent(&self, server_id: &str, owner_id: &str, limit: i64) -> sqlx::Result<Vec<CallRow>> {
        on_db!(&self.db, pool => sqlx::query_as(
            "select id, tool, started_at, duration_ms, outcome, upstream_status, error, oauth_client, oauth_user
             from call_log where server_id = $1 and owner_id = $2 order by started_at desc, id desc limit $3",
        )
        .bind(server_id)
        .bind(owner_id)
        .bind(limit)
        .fetch_all(pool)
        .await)
    }

    /// Calls counted per account in `month` (`YYYY-MM`).
    pub async fn usage(&self, month: &str) -> sqlx::Result<Vec<(String, i64)>> {
        on_db!(&self.db, pool => sqlx::query_as("select owner_id, calls from monthly_usage where month = $1")
            .bind(month)
            .fetch_all(pool)
            .await)
    }

    /// Deletes calls that started before `cutoff_ms`; returns how many.
    pub async fn prune(&self, cutoff_ms: i64) -> sqlx::Result<u64> {
        on_db!(&self.db, pool => sqlx::query("delete from call_log where started_at < $1")
            .bind(cutoff_ms)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
    }
}
