//! Sources' SQL: the registered upstream MCP servers (shared when
//! `owner_id` is null, private otherwise).

use super::Db;
use crate::on_db;

/// A source as stored.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct SourceRow {
    pub id: String,
    pub owner_id: Option<String>,
    pub name: String,
    pub url: String,
    pub description: String,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a source's owner may change.
pub struct SourceFields<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub description: &'a str,
    pub enabled: bool,
}

macro_rules! select_sources {
    ($rest:literal) => {
        concat!("select id, owner_id, name, url, description, enabled, created_at, updated_at from mcp_sources ", $rest)
    };
}

#[derive(Clone)]
pub struct SourceStore {
    db: Db,
}

impl SourceStore {
    pub fn new(db: Db) -> Self {
        SourceStore { db }
    }

    /// A source `user_id` can see: shared, or their own.
    pub async fn visible(&self, user_id: &str, id: &str) -> sqlx::Result<Option<SourceRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_sources!("where id = $1 and (owner_id is null or owner_id = $2)"))
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await)
    }

    /// Every source `user_id` can see, by name.
    pub async fn visible_to(&self, user_id: &str) -> sqlx::Result<Vec<SourceRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_sources!("where owner_id is null or owner_id = $1 order by name, id"))
            .bind(user_id)
            .fetch_all(pool)
            .await)
    }

    /// `owner_id` `None`: shared with every account.
    pub async fn insert(
        &self,
        id: &str,
        owner_id: Option<&str>,
        created_by: &str,
        fields: SourceFields<'_>,
        at: i64,
    ) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "insert into mcp_sources (id, owner_id, name, url, description, enabled, created_by, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(owner_id)
        .bind(fields.name)
        .bind(fields.url)
        .bind(fields.description)
        .bind(fields.enabled)
        .bind(created_by)
        .bind(at)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ()))
    }

    pub async fn update(&self, id: &str, fields: SourceFields<'_>, at: i64) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "update mcp_sources set name = $1, url = $2, description = $3, enabled = $4, updated_at = $5 where id = $6",
        )
        .bind(fields.name)
        .bind(fields.url)
        .bind(fields.description)
        .bind(fields.enabled)
        .bind(at)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))
    }

    /// How many servers are made from the source.
    pub async fn servers_using(&self, id: &str) -> sqlx::Result<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("select count(*) from servers where source_id = $1")
            .bind(id)
            .fetch_one(pool)
            .await)
    }

    pub async fn delete(&self, id: &str) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query("delete from mcp_sources where id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))
    }
}
