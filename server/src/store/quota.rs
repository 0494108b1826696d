//! The monthly quota's SQL (`quota_grants`): calls granted per account and
//! month, reserved atomically so every replica's grants add up to at most
//! the quota.

use super::Db;
use crate::on_db;

#[derive(Clone)]
pub struct QuotaStore {
    db: Db,
}

impl QuotaStore {
    pub fn new(db: Db) -> Self {
        QuotaStore { db }
    }

    /// Grants up to `want` calls without passing `quota`; returns how many.
    /// The month's row starts from the calls already logged (a database
    /// from before grants were counted keeps its usage).
    pub async fn reserve(&self, owner_id: &str, month: &str, want: i64, quota: i64) -> sqlx::Result<i64> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "insert into quota_grants (owner_id, month, granted)
                 values ($1, $2, coalesce((select calls from monthly_usage where owner_id = $1 and month = $2), 0))
                 on conflict (owner_id, month) do nothing",
            )
            .bind(owner_id)
            .bind(month)
            .execute(pool)
            .await?;
            // One statement: the row lock orders concurrent reservations, and
            // both assignments read the row as it was before the update.
            let granted: Option<i64> = sqlx::query_scalar(
                "update quota_grants
                 set last_grant = case when $4 - granted < $3 then $4 - granted else $3 end,
                     granted = granted + case when $4 - granted < $3 then $4 - granted else $3 end
                 where owner_id = $1 and month = $2 and granted < $4
                 returning last_grant",
            )
            .bind(owner_id)
            .bind(month)
            .bind(want)
            .bind(quota)
            .fetch_optional(pool)
            .await?;
            Ok(granted.unwrap_or(0))
        })
    }

    /// Takes back calls granted but not made.
    pub async fn give_back(&self, owner_id: &str, month: &str, calls: i64) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "update quota_grants set granted = case when granted > $3 then granted - $3 else 0 end
             where owner_id = $1 and month = $2",
        )
        .bind(owner_id)
        .bind(month)
        .bind(calls)
        .execute(pool)
        .await
        .map(drop))
    }

    /// Calls granted so far in `month`.
    pub async fn granted(&self, owner_id: &str, month: &str) -> sqlx::Result<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("select granted from quota_grants where owner_id = $1 and month = $2")
            .bind(owner_id)
            .bind(month)
            .fetch_optional(pool)
            .await
            .map(|granted| granted.unwrap_or(0)))
    }
}

#[async_trait::async_trait]
impl crate::engine::quota::QuotaLedger for QuotaStore {
    async fn reserve(&self, owner: &str, month: &str, want: u64, quota: u64) -> Result<u64, String> {
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        QuotaStore::reserve(self, owner, month, clamp(want), clamp(quota))
            .await
            .map(|granted| u64::try_from(granted).unwrap_or(0))
            .map_err(|e| e.to_string())
    }

    async fn give_back(&self, owner: &str, month: &str, calls: u64) -> Result<(), String> {
        QuotaStore::give_back(self, owner, month, i64::try_from(calls).unwrap_or(i64::MAX))
            .await
            .map_err(|e| e.to_string())
    }
}
