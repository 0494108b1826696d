//! The authorization server's storage: clients, grants (a user's consent
//! for one client on one server), single-use codes and tokens, all secrets
//! as SHA-256. Every rule that needs the database runs in one transaction.
//!
//! Outcomes a client can cause are `Ok(Err(OAuthError))`; the outer error
//! is the database failing.

use super::{Db, Tx};
use crate::db::now;
use crate::engine::caller::OAuthCaller;
use crate::error::ResultExt;
use crate::oauth::access_cache::Revocations;
use crate::oauth::client_metadata::ClientMetadata;
use crate::oauth::tokens::{self, Kind};
use crate::oauth::{ErrorCode, OAuthError};
use app::model::{AppError, ClientAuth, ConnectedClient, OAuthAccess};

/// A client-caused refusal inside, a database failure outside.
pub type Outcome<T> = Result<Result<T, OAuthError>, AppError>;

/// How a client came to be known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// Its client_id is the https URL of its metadata document.
    Document,
    /// Registered here (RFC 7591); we chose its client_id.
    Registered,
}

impl ClientKind {
    fn as_str(self) -> &'static str {
        match self {
            ClientKind::Document => "document",
            ClientKind::Registered => "registered",
        }
    }
}

/// A client as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub kind: ClientKind,
    pub name: Option<String>,
    pub client_uri: Option<String>,
    pub redirect_uris: Vec<String>,
    pub fetched_at: i64,
}

/// A live grant as listed.
#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    client_id: String,
    name: Option<String>,
    email: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

/// A valid access token's grant, account and client, and its expiry.
#[derive(sqlx::FromRow)]
struct AccessRow {
    grant_id: String,
    server_id: String,
    user_id: String,
    email: String,
    client_id: String,
    name: Option<String>,
    expires_at: i64,
}

/// A server a client asks to connect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTarget {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    /// Active and using OAuth: only then may a client connect.
    pub live_with_oauth: bool,
    pub access: OAuthAccess,
}

/// A redeemed code: the grant it was for, and what the token request
/// must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redeemed {
    pub grant_id: String,
    pub redirect_uri: String,
    pub challenge: String,
}

/// A fresh token pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    kind: String,
    name: Option<String>,
    client_uri: Option<String>,
    redirect_uris: String,
    fetched_at: i64,
}

/// A code with its grant's client and state.
#[derive(sqlx::FromRow)]
struct CodeRow {
    grant_id: String,
    redirect_uri: String,
    challenge: String,
    expires_at: i64,
    used_at: Option<i64>,
    client_id: String,
    grant_revoked_at: Option<i64>,
}

/// A refresh token with its grant's client and state.
#[derive(sqlx::FromRow)]
struct RefreshRow {
    grant_id: String,
    family: String,
    expires_at: i64,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
    client_id: String,
    grant_revoked_at: Option<i64>,
}

/// The channel on which a revocation is announced to every replica
/// (PostgreSQL `NOTIFY`, sent in the revoking transaction, so it is
/// delivered exactly when the revocation is committed).
pub const REVOCATIONS_CHANNEL: &str = "automcp_revocations";

#[derive(Clone)]
pub struct OAuthStore {
    db: Db,
    /// Bumped after every committed revocation (see
    /// [`crate::oauth::access_cache`]).
    revocations: Revocations,
}

impl OAuthStore {
    pub fn new(db: Db) -> Self {
        OAuthStore { db, revocations: Revocations::default() }
    }

    /// The revocations made through this store (shared by its clones).
    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    /// Commits a transaction that revoked something, and says so.
    async fn commit_revocation(&self, mut tx: Tx, what: &str) -> Result<(), AppError> {
        if let Tx::Postgres(tx) = &mut tx {
            sqlx::query("select pg_notify($1, '')")
                .bind(REVOCATIONS_CHANNEL)
                .execute(&mut **tx)
                .await
                .or_internal("announce revocation")?;
        }
        tx.commit().await.or_internal(what)?;
        self.revocations.bump();
        Ok(())
    }

    /// Saves a client (a document's metadata is replaced when refetched).
    pub async fn save_client(
        &self,
        client_id: &str,
        kind: ClientKind,
        metadata: &ClientMetadata,
        registered_from: Option<&str>,
    ) -> Result<(), AppError> {
        let uris = serde_json::to_string(&metadata.redirect_uris).or_internal("serialize redirect URIs")?;
        let at = now();
        crate::on_db!(&self.db, pool => sqlx::query(
            "insert into oauth_clients (client_id, kind, name, client_uri, redirect_uris, registered_from, created_at, fetched_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict (client_id) do update set name = excluded.name, client_uri = excluded.client_uri,
                redirect_uris = excluded.redirect_uris, fetched_at = excluded.fetched_at",
        )
        .bind(client_id)
        .bind(kind.as_str())
        .bind(&metadata.name)
        .bind(&metadata.client_uri)
        .bind(uris)
        .bind(registered_from)
        .bind(at)
        .bind(at)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .or_internal("save OAuth client")?;
        Ok(())
    }

    /// Clients registered from `address` since `since` (seconds).
    pub async fn registrations_since(&self, address: &str, since: i64) -> Result<i64, AppError> {
        crate::on_db!(&self.db, pool => sqlx::query_scalar("select count(*) from oauth_clients where registered_from = $1 and created_at >= $2")
            .bind(address)
            .bind(since)
            .fetch_one(pool)
            .await)
            .or_internal("count OAuth registrations")
    }

    pub async fn client(&self, client_id: &str) -> Result<Option<Client>, AppError> {
        let row: Option<ClientRow> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "select client_id, kind, name, client_uri, redirect_uris, fetched_at from oauth_clients where client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(pool)
        .await)
        .or_internal("load OAuth client")?;
        let Some(row) = row else { return Ok(None) };
        let kind = if row.kind == "document" { ClientKind::Document } else { ClientKind::Registered };
        let redirect_uris = serde_json::from_str(&row.redirect_uris).or_internal("parse redirect URIs")?;
        Ok(Some(Client {
            client_id: row.client_id,
            kind,
            name: row.name,
            client_uri: row.client_uri,
            redirect_uris,
            fetched_at: row.fetched_at,
        }))
    }

    /// Records (or renews) a user's consent and issues a code for it.
    pub async fn consent(
        &self,
        server_id: &str,
        client_id: &str,
        user_id: &str,
        redirect_uri: &str,
        challenge: &str,
    ) -> Result<String, AppError> {
        let mut tx = self.db.begin().await.or_internal("begin consent")?;
        let at = now();
        let grant_id: String = crate::on_tx!(&mut tx, conn => sqlx::query_scalar(
            "insert into oauth_grants (id, server_id, client_id, user_id, created_at) values ($1, $2, $3, $4, $5)
             on conflict (server_id, client_id, user_id) do update set revoked_at = null
             returning id",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(server_id)
        .bind(client_id)
        .bind(user_id)
        .bind(at)
        .fetch_one(conn)
        .await)
        .or_internal("record consent")?;
        let (code, hash) = tokens::issue(Kind::Code);
        crate::on_tx!(&mut tx, conn => sqlx::query(
            "insert into oauth_codes (code_hash, grant_id, redirect_uri, challenge, expires_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(&grant_id)
        .bind(redirect_uri)
        .bind(challenge)
        .bind(at + Kind::Code.lifetime().as_secs() as i64)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))
        .or_internal("store code")?;
        tx.commit().await.or_internal("commit consent")?;
        Ok(code)
    }

    /// Spends a code. A code presented twice revokes what the first use
    /// issued (RFC 6749 §4.1.2).
    pub async fn redeem_code(&self, code: &str, client_id: &str) -> Outcome<Redeemed> {
        let mut tx = self.db.begin().await.or_internal("begin redeem")?;
        let row: Option<CodeRow> = crate::on_tx!(&mut tx, conn => sqlx::query_as(
            "select c.grant_id, c.redirect_uri, c.challenge, c.expires_at, c.used_at,
                    g.client_id, g.revoked_at as grant_revoked_at
             from oauth_codes c join oauth_grants g on g.id = c.grant_id where c.code_hash = $1",
        )
        .bind(tokens::hash(code))
        .fetch_optional(conn)
        .await)
        .or_internal("load code")?;
        let invalid = |why: &str| Ok(Err(OAuthError::new(ErrorCode::InvalidGrant, why)));
        let Some(row) = row else {
            return invalid("the code is not valid");
        };
        let grant_id = row.grant_id;
        if row.client_id != client_id {
            return invalid("the code was issued to another client");
        }
        if row.used_at.is_some() {
            revoke_grant_tokens(&mut tx, &grant_id).await?;
            self.commit_revocation(tx, "commit code reuse").await?;
            return invalid("the code was already used; the tokens it gave are revoked");
        }
        if row.expires_at <= now() || row.grant_revoked_at.is_some() {
            return invalid("the code has expired");
        }
        crate::on_tx!(&mut tx, conn => sqlx::query("update oauth_codes set used_at = $1 where code_hash = $2")
            .bind(now())
            .bind(tokens::hash(code))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
        .or_internal("spend code")?;
        tx.commit().await.or_internal("commit redeem")?;
        Ok(Ok(Redeemed { grant_id, redirect_uri: row.redirect_uri, challenge: row.challenge }))
    }

    /// Issues an access and a refresh token for a grant; `family` carries
    /// a refresh chain on (a new chain otherwise).
    pub async fn issue_tokens(&self, grant_id: &str, family: Option<&str>) -> Result<Issued, AppError> {
        let family = family.map(str::to_owned).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let (access, access_hash) = tokens::issue(Kind::Access);
        let (refresh, refresh_hash) = tokens::issue(Kind::Refresh);
        let at = now();
        let mut tx = self.db.begin().await.or_internal("begin issue")?;
        for (hash, kind) in [(access_hash, Kind::Access), (refresh_hash, Kind::Refresh)] {
            crate::on_tx!(&mut tx, conn => sqlx::query(
                "insert into oauth_tokens (token_hash, grant_id, kind, family, expires_at) values ($1, $2, $3, $4, $5)",
            )
            .bind(hash)
            .bind(grant_id)
            .bind(if kind == Kind::Access { "access" } else { "refresh" })
            .bind(&family)
            .bind(at + kind.lifetime().as_secs() as i64)
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
            .or_internal("store token")?;
        }
        tx.commit().await.or_internal("commit issue")?;
        Ok(Issued { access_token: access, refresh_token: refresh, expires_in: Kind::Access.lifetime().as_secs() })
    }

    /// Spends a refresh token: returns its grant and family. A spent one
    /// presented again revokes the whole family (a stolen copy is in use).
    pub async fn spend_refresh(&self, refresh_token: &str, client_id: &str) -> Outcome<(String, String)> {
        let mut tx = self.db.begin().await.or_internal("begin refresh")?;
        let row: Option<RefreshRow> = crate::on_tx!(&mut tx, conn => sqlx::query_as(
            "select t.grant_id, t.family, t.expires_at, t.used_at, t.revoked_at,
                    g.client_id, g.revoked_at as grant_revoked_at
             from oauth_tokens t join oauth_grants g on g.id = t.grant_id
             where t.token_hash = $1 and t.kind = 'refresh'",
        )
        .bind(tokens::hash(refresh_token))
        .fetch_optional(conn)
        .await)
        .or_internal("load refresh token")?;
        let invalid = |why: &str| Ok(Err(OAuthError::new(ErrorCode::InvalidGrant, why)));
        let Some(row) = row else {
            return invalid("the refresh token is not valid");
        };
        let (grant_id, family) = (row.grant_id, row.family);
        if row.client_id != client_id {
            return invalid("the refresh token was issued to another client");
        }
        if row.used_at.is_some() {
            crate::on_tx!(&mut tx, conn => sqlx::query("update oauth_tokens set revoked_at = $1 where family = $2 and revoked_at is null")
                .bind(now())
                .bind(&family)
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))
                .or_internal("revoke refresh family")?;
            self.commit_revocation(tx, "commit refresh reuse").await?;
            return invalid("the refresh token was already used; every token of its chain is revoked");
        }
        if row.revoked_at.is_some() || row.grant_revoked_at.is_some() {
            return invalid("the refresh token was revoked");
        }
        if row.expires_at <= now() {
            return invalid("the refresh token has expired");
        }
        crate::on_tx!(&mut tx, conn => sqlx::query("update oauth_tokens set used_at = $1 where token_hash = $2")
            .bind(now())
            .bind(tokens::hash(refresh_token))
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
        .or_internal("spend refresh token")?;
        tx.commit().await.or_internal("commit refresh")?;
        Ok(Ok((grant_id, family)))
    }

    /// Who a presented access token stands for, if it is valid now.
    pub async fn access(&self, access_token: &str) -> Result<Option<OAuthCaller>, AppError> {
        Ok(self.access_by_hash(&tokens::hash(access_token)).await?.map(|(caller, _)| caller))
    }

    /// Who the access token with this hash stands for, if it is valid now,
    /// and until when it is valid (Unix seconds).
    pub async fn access_by_hash(&self, token_hash: &str) -> Result<Option<(OAuthCaller, i64)>, AppError> {
        let row: Option<AccessRow> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "select g.id as grant_id, g.server_id, g.user_id, u.email, g.client_id, c.name, t.expires_at
             from oauth_tokens t join oauth_grants g on g.id = t.grant_id
             join users u on u.id = g.user_id join oauth_clients c on c.client_id = g.client_id
             where t.token_hash = $1 and t.kind = 'access' and t.revoked_at is null and t.expires_at > $2
               and g.revoked_at is null",
        )
        .bind(token_hash)
        .bind(now())
        .fetch_optional(pool)
        .await)
        .or_internal("check access token")?;
        Ok(row.map(|row| {
            let caller = OAuthCaller {
                grant_id: row.grant_id,
                server_id: row.server_id,
                user_id: row.user_id,
                user_email: row.email,
                client_name: row.name.unwrap_or_else(|| row.client_id.clone()),
                client_id: row.client_id,
            };
            (caller, row.expires_at)
        }))
    }

    /// Notes that a grant was used (at most once a minute per grant).
    pub async fn touch_grant(&self, grant_id: &str) -> Result<(), AppError> {
        let at = now();
        crate::on_db!(&self.db, pool => sqlx::query(
            "update oauth_grants set last_used_at = $1 where id = $2 and (last_used_at is null or last_used_at < $3)",
        )
        .bind(at)
        .bind(grant_id)
        .bind(at - 60)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .or_internal("note grant use")?;
        Ok(())
    }

    /// RFC 7009: revokes a token the client holds (a refresh token with its
    /// chain). Unknown tokens are not an error.
    pub async fn revoke_token(&self, token: &str, client_id: &str) -> Result<(), AppError> {
        let mut tx = self.db.begin().await.or_internal("begin revoke token")?;
        crate::on_tx!(&mut tx, conn => sqlx::query(
            "update oauth_tokens set revoked_at = $1
             where revoked_at is null and family in (
                select t.family from oauth_tokens t join oauth_grants g on g.id = t.grant_id
                where t.token_hash = $2 and t.kind = 'refresh' and g.client_id = $3)
                or token_hash in (
                select t.token_hash from oauth_tokens t join oauth_grants g on g.id = t.grant_id
                where t.token_hash = $4 and g.client_id = $5)",
        )
        .bind(now())
        .bind(tokens::hash(token))
        .bind(client_id)
        .bind(tokens::hash(token))
        .bind(client_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))
        .or_internal("revoke token")?;
        self.commit_revocation(tx, "commit revoke token").await
    }

    /// The slug of the server a grant is for.
    pub async fn grant_slug(&self, grant_id: &str) -> Result<Option<String>, AppError> {
        crate::on_db!(&self.db, pool => sqlx::query_scalar("select s.slug from oauth_grants g join servers s on s.id = g.server_id where g.id = $1")
            .bind(grant_id)
            .fetch_optional(pool)
            .await)
            .or_internal("load grant server")
    }

    /// The owner revokes a connected client: the grant and all its tokens.
    pub async fn revoke_grant(&self, server_id: &str, grant_id: &str) -> Result<bool, AppError> {
        let mut tx = self.db.begin().await.or_internal("begin revoke grant")?;
        let changed =
            crate::on_tx!(&mut tx, conn => sqlx::query("update oauth_grants set revoked_at = $1 where id = $2 and server_id = $3 and revoked_at is null")
                .bind(now())
                .bind(grant_id)
                .bind(server_id)
                .execute(conn)
                .await
                .map(|done| done.rows_affected()))
                .or_internal("revoke grant")?;
        revoke_grant_tokens(&mut tx, grant_id).await?;
        self.commit_revocation(tx, "commit revoke grant").await?;
        Ok(changed == 1)
    }

    /// The server a slug names, as the authorization endpoint needs it.
    pub async fn server_for_slug(&self, slug: &str) -> Result<Option<ServerTarget>, AppError> {
        let row: Option<(String, String, String, String, String, Option<String>)> =
            crate::on_db!(&self.db, pool => sqlx::query_as("select id, owner_id, name, status, client_auth, oauth_access from servers where slug = $1")
                .bind(slug)
                .fetch_optional(pool)
                .await)
                .or_internal("load server for authorization")?;
        Ok(row.map(|(id, owner_id, name, status, client_auth, access)| ServerTarget {
            id,
            owner_id,
            name,
            live_with_oauth: status == "active" && ClientAuth::parse(&client_auth) == ClientAuth::OAuth,
            access: OAuthAccess::from_stored(access.as_deref()),
        }))
    }

    /// Every grant of a server and their tokens (its client auth changed).
    pub async fn revoke_server_grants(&self, server_id: &str) -> Result<(), AppError> {
        let mut tx = self.db.begin().await.or_internal("begin revoke server grants")?;
        let at = now();
        crate::on_tx!(&mut tx, conn => sqlx::query(
            "update oauth_tokens set revoked_at = $1 where revoked_at is null
             and grant_id in (select id from oauth_grants where server_id = $2)",
        )
        .bind(at)
        .bind(server_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))
        .or_internal("revoke server tokens")?;
        crate::on_tx!(&mut tx, conn => sqlx::query("update oauth_grants set revoked_at = $1 where server_id = $2 and revoked_at is null")
            .bind(at)
            .bind(server_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected()))
            .or_internal("revoke server grants")?;
        self.commit_revocation(tx, "commit revoke server grants").await?;
        Ok(())
    }

    /// A server's live grants (connected clients), most recently made first.
    pub async fn grants(&self, server_id: &str) -> Result<Vec<ConnectedClient>, AppError> {
        let rows: Vec<GrantRow> = crate::on_db!(&self.db, pool => sqlx::query_as(
            "select g.id, g.client_id, c.name, u.email, g.created_at, g.last_used_at
             from oauth_grants g join oauth_clients c on c.client_id = g.client_id join users u on u.id = g.user_id
             where g.server_id = $1 and g.revoked_at is null order by g.created_at desc, g.id desc",
        )
        .bind(server_id)
        .fetch_all(pool)
        .await)
        .or_internal("list grants")?;
        Ok(rows
            .into_iter()
            .map(|row| ConnectedClient {
                id: row.id,
                client_name: row.name.unwrap_or_else(|| row.client_id.clone()),
                client_id: row.client_id,
                user_email: row.email,
                connected_at: row.created_at,
                last_used_at: row.last_used_at,
            })
            .collect())
    }
}

async fn revoke_grant_tokens(tx: &mut Tx, grant_id: &str) -> Result<(), AppError> {
    crate::on_tx!(&mut *tx, conn => sqlx::query("update oauth_tokens set revoked_at = $1 where grant_id = $2 and revoked_at is null")
        .bind(now())
        .bind(grant_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))
        .or_internal("revoke grant tokens")?;
    Ok(())
}
