//! Instance-wide settings' SQL (`instance_settings`): values every process
//! on the database shares.

use super::Db;
use crate::on_db;

#[derive(Clone)]
pub struct SettingsStore {
    db: Db,
}

impl SettingsStore {
    pub fn new(db: Db) -> Self {
        SettingsStore { db }
    }

    /// Stores `value` under `name` unless a value is there already; returns
    /// the stored value (the first writer's, when processes race).
    pub async fn first_or_set(&self, name: &str, value: &str) -> sqlx::Result<String> {
        on_db!(&self.db, pool => {
            sqlx::query("insert into instance_settings (name, value) values ($1, $2) on conflict (name) do nothing")
                .bind(name)
                .bind(value)
                .execute(pool)
                .await?;
            sqlx::query_scalar("select value from instance_settings where name = $1").bind(name).fetch_one(pool).await
        })
    }
}
