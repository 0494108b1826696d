//! Accounts' SQL: users, web sessions and personal API tokens (all secrets
//! as SHA-256 hex, computed by the caller).

use super::Db;
pub use super::Insert;
use crate::on_db;
use app::model::{Tier, UserView};
use std::collections::HashMap;

/// A user as stored.
#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub tier: String,
    pub created_at: i64,
}

impl UserRow {
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id.clone(),
            email: self.email.clone(),
            tier: self.tier.parse().unwrap_or_default(),
            is_admin: self.is_admin,
            created_at: self.created_at,
        }
    }
}

/// An API token as stored (never its value).
#[derive(sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// A new user row.
pub struct NewUserRow<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    /// Admin even if it is not the first account.
    pub admin: bool,
    pub tier: Tier,
    pub created_at: i64,
}

/// `select <every user column> from users <rest>`, as one literal.
macro_rules! select_users {
    ($rest:literal) => {
        concat!("select id, email, password_hash, is_admin, tier, created_at from users ", $rest)
    };
}

#[derive(Clone)]
pub struct AccountStore {
    db: Db,
}

impl AccountStore {
    pub fn new(db: Db) -> Self {
        AccountStore { db }
    }

    /// Inserts a user; the very first account of an instance is an admin
    /// (decided in the same statement, so it cannot race another insert).
    pub async fn insert_user(&self, user: NewUserRow<'_>) -> sqlx::Result<Insert> {
        let result = on_db!(&self.db, pool => sqlx::query(
            "insert into users (id, email, password_hash, is_admin, tier, created_at)
             select $1, $2, $3, ($4 or not exists (select 1 from users)), $5, $6",
        )
        .bind(user.id)
        .bind(user.email)
        .bind(user.password_hash)
        .bind(user.admin)
        .bind(user.tier.as_str())
        .bind(user.created_at)
        .execute(pool)
        .await
        .map(|_| ()));
        Insert::from_result(result)
    }

    pub async fn user_by_id(&self, id: &str) -> sqlx::Result<Option<UserRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_users!("where id = $1")).bind(id).fetch_optional(pool).await)
    }

    /// `email` as stored (normalised by the caller).
    pub async fn user_by_email(&self, email: &str) -> sqlx::Result<Option<UserRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_users!("where email = $1")).bind(email).fetch_optional(pool).await)
    }

    pub async fn users(&self) -> sqlx::Result<Vec<UserRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_users!("order by created_at, email")).fetch_all(pool).await)
    }

    /// Whether the user exists (and now has `tier`).
    pub async fn set_tier(&self, user_id: &str, tier: Tier) -> sqlx::Result<bool> {
        on_db!(&self.db, pool => sqlx::query("update users set tier = $1 where id = $2")
            .bind(tier.as_str())
            .bind(user_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected() == 1))
    }

    /// Stores a session and clears out the expired ones.
    pub async fn insert_session(&self, token_hash: &str, user_id: &str, at: i64, expires_at: i64) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "insert into sessions (token_hash, user_id, created_at, expires_at) values ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(at)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        on_db!(&self.db, pool => sqlx::query("delete from sessions where expires_at < $1")
            .bind(at)
            .execute(pool)
            .await
            .map(|_| ()))
    }

    /// The user of a session that is live at `now`.
    pub async fn session_user(&self, token_hash: &str, now: i64) -> sqlx::Result<Option<UserRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_users!(
            "where id = (select user_id from sessions where token_hash = $1 and expires_at > $2)"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await)
    }

    pub async fn delete_session(&self, token_hash: &str) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query("delete from sessions where token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ()))
    }

    pub async fn count_tokens(&self, user_id: &str) -> sqlx::Result<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("select count(*) from api_tokens where user_id = $1")
            .bind(user_id)
            .fetch_one(pool)
            .await)
    }

    pub async fn insert_token(&self, user_id: &str, row: &TokenRow, token_hash: &str) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "insert into api_tokens (id, user_id, name, token_hash, created_at, expires_at)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&row.id)
        .bind(user_id)
        .bind(&row.name)
        .bind(token_hash)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(pool)
        .await
        .map(|_| ()))
    }

    /// A user's tokens, newest first.
    pub async fn tokens(&self, user_id: &str) -> sqlx::Result<Vec<TokenRow>> {
        on_db!(&self.db, pool => sqlx::query_as(
            "select id, name, created_at, last_used_at, expires_at from api_tokens where user_id = $1
             order by created_at desc, id desc",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await)
    }

    /// Whether the user had that token.
    pub async fn delete_token(&self, user_id: &str, id: &str) -> sqlx::Result<bool> {
        on_db!(&self.db, pool => sqlx::query("delete from api_tokens where id = $1 and user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected() == 1))
    }

    /// The token with this hash: its id and expiry.
    pub async fn token_by_hash(&self, token_hash: &str) -> sqlx::Result<Option<(String, Option<i64>)>> {
        on_db!(&self.db, pool => sqlx::query_as("select id, expires_at from api_tokens where token_hash = $1")
            .bind(token_hash)
            .fetch_optional(pool)
            .await)
    }

    pub async fn token_user(&self, token_id: &str) -> sqlx::Result<Option<UserRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_users!(
            "where id = (select user_id from api_tokens where id = $1)"
        ))
        .bind(token_id)
        .fetch_optional(pool)
        .await)
    }

    /// Writes tokens' last-used times (never moving one back), in one transaction.
    pub async fn write_token_uses(&self, batch: &HashMap<String, i64>) -> sqlx::Result<()> {
        let mut tx = self.db.begin().await?;
        for (id, at) in batch {
            crate::on_tx!(&mut tx, conn => sqlx::query(
                "update api_tokens set last_used_at = $1 where id = $2 and (last_used_at is null or last_used_at < $3)",
            )
            .bind(at)
            .bind(id)
            .bind(at)
            .execute(conn)
            .await
            .map(|_| ()))?;
        }
        tx.commit().await
    }
}
