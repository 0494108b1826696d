//! Personal API tokens: issued (shown once, stored as SHA-256), listed,
//! revoked, optionally expiring.
//!
//! Checking a token only reads: when it was last used is remembered in
//! memory and written in batches every few seconds ([`TokenUses`]), so API
//! reads work while the database cannot be written, and never wait for a
//! write lock.

use super::{Accounts, TOKEN_PREFIX, random_secret, secret_hash};
use crate::db::now;
use crate::error::ResultExt;
use crate::store::accounts::{AccountStore, TokenRow};
use app::model::{ApiTokenCreated, ApiTokenView, AppError, NewApiToken, UserView};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Longest expiry a token may be given.
pub const MAX_EXPIRY_DAYS: u32 = 3650;
/// Tokens one account may hold.
pub const MAX_TOKENS: i64 = 100;
/// How often last-used times are written.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

impl TokenRow {
    fn view(&self, now: i64, pending: Option<i64>) -> ApiTokenView {
        ApiTokenView {
            id: self.id.clone(),
            name: self.name.clone(),
            created_at: self.created_at,
            last_used_at: self.last_used_at.max(pending),
            expires_at: self.expires_at,
            expired: self.expires_at.is_some_and(|at| at <= now),
        }
    }
}

impl Accounts {
    /// Issues a personal API token. The returned value is the only copy.
    pub async fn create_token(&self, user_id: &str, name: &str) -> Result<String, AppError> {
        let input = NewApiToken { name: name.to_owned(), expires_in_days: None };
        Ok(self.issue_token(user_id, input).await?.token)
    }

    /// Issues a token named and expiring as `input` says.
    pub async fn issue_token(&self, user_id: &str, input: NewApiToken) -> Result<ApiTokenCreated, AppError> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid("name", "a token name must be 1 to 100 characters"));
        }
        if let Some(days) = input.expires_in_days
            && !(1..=MAX_EXPIRY_DAYS).contains(&days)
        {
            return Err(AppError::invalid(
                "expires_in_days",
                format!("a token expires after 1 to {MAX_EXPIRY_DAYS} days, or never (leave it out)"),
            ));
        }
        let held = self.store.count_tokens(user_id).await.or_internal("count api tokens")?;
        if held >= MAX_TOKENS {
            return Err(AppError::conflict(
                "name",
                format!("you have {held} API tokens, the most at once; revoke some you no longer use"),
            ));
        }
        let token = format!("{TOKEN_PREFIX}{}", random_secret());
        let id = uuid::Uuid::now_v7().to_string();
        let created = now();
        let expires = input.expires_in_days.map(|days| created + i64::from(days) * 86_400);
        let row = TokenRow { id, name: name.to_owned(), created_at: created, last_used_at: None, expires_at: expires };
        self.store.insert_token(user_id, &row, &secret_hash(&token)).await.or_internal("insert api token")?;
        tracing::info!(%user_id, token_name = name, "api token created");
        Ok(ApiTokenCreated { token, view: row.view(created, None) })
    }

    /// Writes the pending last-used times now (tests; shutdown uses [`TokenUses::stop`]).
    pub async fn flush_token_uses(&self) {
        self.token_uses.flush(&self.store).await;
    }

    /// The owner's tokens, newest first.
    pub async fn tokens(&self, owner: &UserView) -> Result<Vec<ApiTokenView>, AppError> {
        let rows = self.store.tokens(&owner.id).await.or_internal("list api tokens")?;
        let time = now();
        Ok(rows.iter().map(|row| row.view(time, self.token_uses.pending(&row.id))).collect())
    }

    /// Revokes one of the owner's tokens: it stops working at once.
    pub async fn revoke_token(&self, owner: &UserView, id: &str) -> Result<(), AppError> {
        if !self.store.delete_token(&owner.id, id).await.or_internal("revoke api token")? {
            return Err(AppError::not_found(format!("you have no API token with id `{id}`")));
        }
        tracing::info!(user_id = %owner.id, token_id = %id, "api token revoked");
        Ok(())
    }

    /// The owner of an API token, or `None` if it is not one of ours. An
    /// expired token is an error that says so.
    pub async fn token_user(&self, token: &str) -> Result<Option<UserView>, AppError> {
        let hash = secret_hash(token);
        let found = self.store.token_by_hash(&hash).await.or_internal("load api token")?;
        let Some((token_id, expires_at)) = found else { return Ok(None) };
        let time = now();
        if let Some(at) = expires_at.filter(|at| *at <= time) {
            return Err(AppError::unauthenticated(format!(
                "this API token expired {} ago; create a new one",
                ago(time - at)
            )));
        }
        let row = self.store.token_user(&token_id).await.or_internal("load token user")?;
        if row.is_some() {
            self.token_uses.record(&token_id, time);
        }
        Ok(row.map(|row| row.view()))
    }
}

fn ago(seconds: i64) -> String {
    match seconds.max(0) {
        0..=119 => format!("{seconds} s"),
        120..=7199 => format!("{} min", seconds / 60),
        7200..=172_799 => format!("{} h", seconds / 3600),
        _ => format!("{} days", seconds / 86_400),
    }
}

/// Last-used times waiting to be written: one entry per token, so memory is
/// bounded by the number of tokens, however many requests there are. A
/// failed write keeps them for the next try.
#[derive(Clone)]
pub struct TokenUses {
    pending: Arc<Mutex<HashMap<String, i64>>>,
    stop: CancellationToken,
    done: Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl TokenUses {
    pub fn start(store: AccountStore) -> Self {
        let uses = TokenUses {
            pending: Arc::default(),
            stop: CancellationToken::new(),
            done: Arc::new(tokio::sync::Mutex::new(None)),
        };
        let task = tokio::spawn(uses.clone().flush_loop(store));
        if let Ok(mut done) = uses.done.try_lock() {
            *done = Some(task);
        }
        uses
    }

    fn record(&self, token_id: &str, at: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = pending.entry(token_id.to_owned()).or_insert(at);
        *entry = (*entry).max(at);
    }

    fn pending(&self, token_id: &str) -> Option<i64> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).get(token_id).copied()
    }

    async fn flush_loop(self, store: AccountStore) {
        loop {
            let stopping = tokio::select! {
                () = tokio::time::sleep(FLUSH_EVERY) => false,
                () = self.stop.cancelled() => true,
            };
            self.flush(&store).await;
            if stopping {
                return;
            }
        }
    }

    /// Writes the pending times in one transaction; keeps them on failure.
    pub async fn flush(&self, store: &AccountStore) {
        let batch: HashMap<String, i64> = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if batch.is_empty() {
            return;
        }
        if let Err(error) = store.write_token_uses(&batch).await {
            tracing::warn!(%error, tokens = batch.len(), "could not store when API tokens were last used; will retry");
            for (id, at) in batch {
                self.record(&id, at);
            }
        }
    }

    /// Writes what is pending and stops (at shutdown).
    pub async fn stop(&self) {
        self.stop.cancel();
        if let Some(task) = self.done.lock().await.take() {
            let _ = task.await;
        }
    }
}
