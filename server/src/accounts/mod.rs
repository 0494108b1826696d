//! Accounts: sign-up, log-in, sessions, API tokens and tiers.
//!
//! The rules (what makes an email or a password acceptable) are pure
//! functions at the top; [`Accounts`] applies them against the database.
//! Secrets we issue (session cookies, API tokens) are random 256-bit values
//! stored only as SHA-256 hashes, so a copy of the database opens nothing.
//! Log-ins and sign-ups pass the [`Throttle`]; API tokens live in [`tokens`].

pub mod tokens;

use crate::db::now;
use crate::error::ResultExt;
use crate::store::Db;
use crate::store::accounts::{AccountStore, Insert, NewUserRow, UserRow};
use crate::throttle::Throttle;
use app::model::{AppError, Tier, UserView};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;

/// How long a browser session lasts.
pub const SESSION_LIFETIME_SECS: i64 = 30 * 24 * 60 * 60;
/// Every API token starts with this, so leaked ones are easy to recognise.
pub const TOKEN_PREFIX: &str = "amcp_pat_";
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Trims and lowercases an email address and checks its shape.
pub fn normalize_email(raw: &str) -> Result<String, AppError> {
    let email = raw.trim().to_lowercase();
    let invalid = |why: &str| Err(AppError::invalid("email", format!("`{email}` is not a valid email address: {why}")));
    if email.is_empty() {
        return Err(AppError::invalid("email", "enter your email address"));
    }
    if email.len() > 254 {
        return invalid("it is longer than 254 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid("it has no `@`");
    };
    if local.is_empty() || local.len() > 64 {
        return invalid("the part before `@` must be 1 to 64 characters");
    }
    if domain.contains('@') {
        return invalid("it has more than one `@`");
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return invalid("the part after `@` must be a domain such as example.com");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("it contains spaces");
    }
    Ok(email)
}

/// A few of the passwords every breach list starts with.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd",
    "123456",
    "1234567890",
    "12345678910",
    "0123456789",
    "qwertyuiop",
    "qwerty123",
    "qwerty1234",
    "iloveyou",
    "letmein123",
    "welcome123",
    "admin12345",
    "changeme123",
    "abc1234567",
    "1q2w3e4r5t",
    "q1w2e3r4t5",
    "trustno1",
    "football123",
    "monkey1234",
    "dragon1234",
    "sunshine123",
    "princess123",
];

/// Says why a password is too weak, or accepts it.
pub fn check_password(email: &str, password: &str) -> Result<(), AppError> {
    let weak = |why: String| Err(AppError::invalid("password", why));
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return weak(format!(
            "password is too short: use at least {MIN_PASSWORD_CHARS} characters (this one has {chars})"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return weak(format!("password is too long: use at most {MAX_PASSWORD_CHARS} characters"));
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return weak("this password is one of the most common ones and is guessed first; choose another".into());
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return weak("password repeats too few characters; mix at least 4 different ones".into());
    }
    let local = email.split('@').next().unwrap_or_default();
    if local.len() >= 3 && lower.contains(local) {
        return weak("password must not contain your email address".into());
    }
    Ok(())
}

/// A fresh random secret, URL-safe, 256 bits.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How issued secrets are stored. They are 256-bit random values, so a fast
/// hash is enough (no brute force is possible) and lookups stay indexable.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&{
            let mut salt = [0u8; 16];
            rand::rng().fill_bytes(&mut salt);
            salt
        })
        .map_err(|e| e.to_string())?;
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
    })
    .await
    .or_internal("password hashing task")?
    .or_internal("hash password")
}

async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| e.to_string())?;
        Ok::<_, String>(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .or_internal("password verification task")?
    .or_internal("parse stored password hash")
}

/// Options for creating an account from the CLI.
#[derive(Clone, Copy, Debug, Default)]
pub struct NewUser {
    pub admin: bool,
    pub tier: Tier,
}

/// The account service. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    store: AccountStore,
    /// A valid hash to verify against when the email is unknown, so a failed
    /// log-in takes as long whether or not the account exists.
    dummy_hash: Arc<tokio::sync::OnceCell<String>>,
    throttle: Arc<Throttle>,
    /// When API tokens were last used, written in batches off the request path.
    pub token_uses: tokens::TokenUses,
}

impl Accounts {
    pub fn new(db: Db, throttle: Arc<Throttle>) -> Self {
        let store = AccountStore::new(db);
        let token_uses = tokens::TokenUses::start(store.clone());
        Accounts { store, dummy_hash: Default::default(), throttle, token_uses }
    }

    /// Creates an account. The very first account of an instance is the admin.
    pub async fn create_user(&self, email: &str, password: &str, new: NewUser) -> Result<UserView, AppError> {
        let email = normalize_email(email)?;
        check_password(&email, password)?;
        let hash = hash_password(password.to_owned()).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let row = NewUserRow {
            id: &id,
            email: &email,
            password_hash: &hash,
            admin: new.admin,
            tier: new.tier,
            created_at: now(),
        };
        if self.store.insert_user(row).await.or_internal("insert user")? == Insert::Taken {
            return Err(AppError::conflict(
                "email",
                format!("an account with the email {email} already exists; log in instead"),
            ));
        }
        let user = self.user_by_id(&id).await?.ok_or_else(|| AppError::internal("the new account vanished"))?;
        tracing::info!(user_id = %user.id, admin = user.is_admin, tier = %user.tier, "account created");
        Ok(user)
    }

    /// Creates an account and a session for it. `client` is the caller's
    /// address, for throttling.
    pub async fn sign_up(
        &self,
        client: Option<IpAddr>,
        email: &str,
        password: &str,
    ) -> Result<(UserView, String), AppError> {
        self.throttle.sign_up_attempt(client)?;
        let user = self.create_user(email, password, NewUser::default()).await?;
        let token = self.start_session(&user.id).await?;
        Ok((user, token))
    }

    /// Checks email and password and starts a session. Attempts are
    /// throttled per address (`client`) and per account.
    pub async fn log_in(
        &self,
        client: Option<IpAddr>,
        email: &str,
        password: &str,
    ) -> Result<(UserView, String), AppError> {
        let wrong = || AppError::unauthenticated("wrong email or password");
        let Ok(email) = normalize_email(email) else {
            return Err(wrong());
        };
        if password.is_empty() {
            return Err(AppError::invalid("password", "enter your password"));
        }
        self.throttle.log_in_attempt(client, &email)?;
        let row = self.store.user_by_email(&email).await.or_internal("load user by email")?;
        let Some(row) = row else {
            let dummy = self.dummy_hash().await?;
            verify_password(password.to_owned(), dummy).await?;
            self.throttle.log_in_failed(&email);
            return Err(wrong());
        };
        if !verify_password(password.to_owned(), row.password_hash.clone()).await? {
            tracing::info!(user_id = %row.id, "log-in refused: wrong password");
            self.throttle.log_in_failed(&email);
            return Err(wrong());
        }
        self.throttle.log_in_succeeded(&email);
        let token = self.start_session(&row.id).await?;
        Ok((row.view(), token))
    }

    async fn dummy_hash(&self) -> Result<String, AppError> {
        self.dummy_hash.get_or_try_init(|| hash_password(random_secret())).await.cloned()
    }

    async fn start_session(&self, user_id: &str) -> Result<String, AppError> {
        let token = random_secret();
        let created = now();
        self.store
            .insert_session(&secret_hash(&token), user_id, created, created + SESSION_LIFETIME_SECS)
            .await
            .or_internal("insert session")?;
        Ok(token)
    }

    /// The user of a live session, or `None` for an unknown or expired token.
    pub async fn session_user(&self, token: &str) -> Result<Option<UserView>, AppError> {
        let row = self.store.session_user(&secret_hash(token), now()).await.or_internal("load session user")?;
        Ok(row.map(|row| row.view()))
    }

    pub async fn end_session(&self, token: &str) -> Result<(), AppError> {
        self.store.delete_session(&secret_hash(token)).await.or_internal("delete session")?;
        Ok(())
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserView>, AppError> {
        let row = self.store.user_by_id(id).await.or_internal("load user")?;
        Ok(row.map(|row| row.view()))
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserView>, AppError> {
        let email = normalize_email(email)?;
        let row = self.store.user_by_email(&email).await.or_internal("load user by email")?;
        Ok(row.map(|row| row.view()))
    }

    pub async fn list_users(&self) -> Result<Vec<UserView>, AppError> {
        let rows = self.store.users().await.or_internal("list users")?;
        Ok(rows.iter().map(UserRow::view).collect())
    }

    /// Sets an account's tier. Callers check that an admin (or the operator's
    /// CLI) is asking; see [`Accounts::set_tier_as`].
    pub async fn set_tier(&self, user_id: &str, tier: Tier) -> Result<UserView, AppError> {
        if !self.store.set_tier(user_id, tier).await.or_internal("update tier")? {
            return Err(AppError::not_found(format!("there is no account with id `{user_id}`")));
        }
        tracing::info!(%user_id, %tier, "tier changed");
        self.user_by_id(user_id).await?.ok_or_else(|| AppError::not_found("the account was deleted meanwhile"))
    }

    /// Sets a tier on behalf of `caller`, who must be an admin.
    pub async fn set_tier_as(&self, caller: &UserView, user_id: &str, tier: Tier) -> Result<UserView, AppError> {
        require_admin(caller)?;
        self.set_tier(user_id, tier).await
    }

    pub async fn list_users_as(&self, caller: &UserView) -> Result<Vec<UserView>, AppError> {
        require_admin(caller)?;
        self.list_users().await
    }
}

pub fn require_admin(caller: &UserView) -> Result<(), AppError> {
    if caller.is_admin { Ok(()) } else { Err(AppError::forbidden("only an admin can do this")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a@b@example.com", "ada @example.com", "ada@.com"]
        {
            let err = normalize_email(bad).unwrap_err();
            assert_eq!(err.field(), Some("email"), "{bad}: {err}");
        }
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        let reason = |pw: &str| check_password("ada@example.com", pw).unwrap_err().to_string();
        assert!(reason("short").contains("at least 10"), "{}", reason("short"));
        assert!(reason("Password123").contains("most common"));
        assert!(reason("aaaaaaaaaaaa").contains("4 different"));
        assert!(reason("my-ada-secret-1").contains("email"));
        assert!(reason(&"x1y2".repeat(70)).contains("too long"));
        assert!(check_password("ada@example.com", "correct horse battery").is_ok());
    }

    #[test]
    fn issued_secrets_are_random_and_hashed() {
        let a = random_secret();
        assert_ne!(a, random_secret());
        assert_eq!(a.len(), 43);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), a);
    }
}
