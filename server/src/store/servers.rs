//! Hosted servers' SQL: the `servers` rows and their sealed credentials
//! (`server_credentials`). Every read an owner makes is scoped to
//! `owner_id`; the unscoped reads (`by_id`, `active`) are for mounting.

use super::{Db, Insert, Tx};
use crate::{on_db, on_tx};
use app::model::{ClientAuth, ServerKind, ServerStatus};
use std::collections::HashMap;

/// Where a server's tools run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hosting {
    /// Served by this instance's engine.
    Here,
    /// Served by a release on the owner's machine, forwarded from here.
    Machine,
}

/// A server as stored. States are read through typed accessors.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct ServerRow {
    pub id: String,
    pub owner_id: String,
    pub slug: String,
    pub name: String,
    pub spec: String,
    #[sqlx(rename = "status")]
    status_text: String,
    #[sqlx(rename = "client_auth")]
    client_auth_text: String,
    pub token_hash: Option<String>,
    pub calls_per_minute: Option<i64>,
    pub burst: Option<i64>,
    pub max_concurrency: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    #[sqlx(rename = "kind")]
    kind_text: String,
    pub source_id: Option<String>,
    pub upstream_header: Option<String>,
    pub tools_cache: Option<String>,
    pub tools_filter: Option<String>,
    #[sqlx(rename = "hosting")]
    hosting_text: String,
    pub target_id: Option<String>,
    pub allowed_origins: Option<String>,
    pub call_timeout_secs: Option<i64>,
    pub oauth_access: Option<String>,
    /// Bumped by every change (a trigger): what replicas compare.
    pub revision: i64,
}

impl ServerRow {
    pub fn status(&self) -> ServerStatus {
        match self.status_text.as_str() {
            "active" => ServerStatus::Active,
            "disabled" => ServerStatus::Disabled,
            _ => ServerStatus::Draft,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status() == ServerStatus::Active
    }

    pub fn client_auth(&self) -> ClientAuth {
        ClientAuth::parse(&self.client_auth_text)
    }

    pub fn kind(&self) -> ServerKind {
        if self.kind_text == "mcp" { ServerKind::Mcp } else { ServerKind::Actions }
    }

    pub fn hosting(&self) -> Hosting {
        if self.hosting_text == "vps" { Hosting::Machine } else { Hosting::Here }
    }

    /// The stored text of [`ServerRow::hosting`], as the API shows it.
    pub fn hosting_name(&self) -> &str {
        &self.hosting_text
    }
}

/// A server to insert (always as a draft).
pub struct NewServer<'a> {
    pub id: &'a str,
    pub owner_id: &'a str,
    pub slug: &'a str,
    pub name: &'a str,
    pub spec: &'a str,
    pub client_auth: ClientAuth,
    pub token_hash: Option<String>,
    pub limits: [Option<i64>; 3],
    pub at: i64,
    pub kind: ServerKind,
    pub source_id: Option<&'a str>,
    pub upstream_header: Option<&'a str>,
    pub tools_cache: Option<String>,
    pub tools_filter: Option<String>,
}

/// What a server made from a source may change in one update.
pub struct McpFields<'a> {
    pub spec: &'a str,
    pub slug: &'a str,
    pub name: &'a str,
    pub tools_cache: &'a str,
    pub tools_filter: &'a str,
}

macro_rules! select_servers {
    ($rest:literal) => {
        concat!(
            "select id, owner_id, slug, name, spec, status, client_auth, token_hash, calls_per_minute, burst,
                    max_concurrency, created_at, updated_at, kind, source_id, upstream_header, tools_cache,
                    tools_filter, hosting, target_id, allowed_origins, call_timeout_secs, oauth_access,
                    revision
             from servers ",
            $rest
        )
    };
}

fn kind_text(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::Actions => "actions",
        ServerKind::Mcp => "mcp",
    }
}

#[derive(Clone)]
pub struct ServerStore {
    db: Db,
}

impl ServerStore {
    pub fn new(db: Db) -> Self {
        ServerStore { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The owner's server `id`.
    pub async fn owned(&self, owner_id: &str, id: &str) -> sqlx::Result<Option<ServerRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_servers!("where id = $1 and owner_id = $2"))
            .bind(id)
            .bind(owner_id)
            .fetch_optional(pool)
            .await)
    }

    /// Any server by id (for mounting).
    pub async fn by_id(&self, id: &str) -> sqlx::Result<Option<ServerRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_servers!("where id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await)
    }

    /// The owner's servers (of one kind, when given), oldest first.
    pub async fn list(&self, owner_id: &str, kind: Option<ServerKind>) -> sqlx::Result<Vec<ServerRow>> {
        let rows: Vec<ServerRow> = on_db!(&self.db, pool => sqlx::query_as(select_servers!("where owner_id = $1 order by created_at, slug"))
                .bind(owner_id)
                .fetch_all(pool)
                .await)?;
        Ok(rows.into_iter().filter(|row| kind.is_none_or(|kind| row.kind() == kind)).collect())
    }

    /// Every active server (what every replica serves).
    pub async fn active(&self) -> sqlx::Result<Vec<ServerRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_servers!("where status = 'active'"))
            .fetch_all(pool)
            .await)
    }

    /// Active servers of an owner, or made from a source: (id, slug).
    pub async fn active_of_owner(&self, owner_id: &str) -> sqlx::Result<Vec<(String, String)>> {
        on_db!(&self.db, pool => sqlx::query_as("select id, slug from servers where owner_id = $1 and status = 'active'")
            .bind(owner_id)
            .fetch_all(pool)
            .await)
    }

    pub async fn active_of_source(&self, source_id: &str) -> sqlx::Result<Vec<(String, String)>> {
        on_db!(&self.db, pool => sqlx::query_as("select id, slug from servers where source_id = $1 and status = 'active'")
            .bind(source_id)
            .fetch_all(pool)
            .await)
    }

    pub async fn count_active(&self, owner_id: &str) -> sqlx::Result<i64> {
        on_db!(&self.db, pool => sqlx::query_scalar("select count(*) from servers where owner_id = $1 and status = 'active'")
            .bind(owner_id)
            .fetch_one(pool)
            .await)
    }

    /// The stored tier of an account (`None`: no such account).
    pub async fn tier_of(&self, owner_id: &str) -> sqlx::Result<Option<String>> {
        on_db!(&self.db, pool => sqlx::query_scalar("select tier from users where id = $1")
            .bind(owner_id)
            .fetch_optional(pool)
            .await)
    }

    /// Every account's stored tier, by account id.
    pub async fn tiers(&self) -> sqlx::Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> =
            on_db!(&self.db, pool => sqlx::query_as("select id, tier from users").fetch_all(pool).await)?;
        Ok(rows.into_iter().collect())
    }

    /// Inserts a draft; [`Insert::Taken`] when the slug is taken.
    pub async fn insert(&self, tx: &mut Tx, server: &NewServer<'_>) -> sqlx::Result<Insert> {
        let [calls_per_minute, burst, max_concurrency] = server.limits;
        let result = on_tx!(tx, conn => sqlx::query(
            "insert into servers (id, owner_id, slug, name, spec, status, client_auth, token_hash, calls_per_minute,
                                  burst, max_concurrency, created_at, updated_at, kind, source_id, upstream_header,
                                  tools_cache, tools_filter)
             values ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9, $10, $11, $11, $12, $13, $14, $15, $16)",
        )
        .bind(server.id)
        .bind(server.owner_id)
        .bind(server.slug)
        .bind(server.name)
        .bind(server.spec)
        .bind(server.client_auth.as_str())
        .bind(server.token_hash.as_deref())
        .bind(calls_per_minute)
        .bind(burst)
        .bind(max_concurrency)
        .bind(server.at)
        .bind(kind_text(server.kind))
        .bind(server.source_id)
        .bind(server.upstream_header)
        .bind(server.tools_cache.as_deref())
        .bind(server.tools_filter.as_deref())
        .execute(conn)
        .await
        .map(drop));
        Insert::from_result(result)
    }

    /// Replaces the spec (and the slug and name it carries).
    pub async fn set_spec(
        &self,
        tx: &mut Tx,
        owner_id: &str,
        id: &str,
        (spec, slug, name): (&str, &str, &str),
        at: i64,
    ) -> sqlx::Result<Insert> {
        let result = on_tx!(tx, conn => sqlx::query(
            "update servers set spec = $1, slug = $2, name = $3, updated_at = $4 where id = $5 and owner_id = $6",
        )
        .bind(spec)
        .bind(slug)
        .bind(name)
        .bind(at)
        .bind(id)
        .bind(owner_id)
        .execute(conn)
        .await
        .map(drop));
        Insert::from_result(result)
    }

    /// Changes a server made from a source: spec, slug, name and tools.
    pub async fn set_mcp(
        &self,
        tx: &mut Tx,
        owner_id: &str,
        id: &str,
        fields: &McpFields<'_>,
        at: i64,
    ) -> sqlx::Result<Insert> {
        let result = on_tx!(tx, conn => sqlx::query(
            "update servers set spec = $1, slug = $2, name = $3, tools_cache = $4, tools_filter = $5, updated_at = $6
             where id = $7 and owner_id = $8",
        )
        .bind(fields.spec)
        .bind(fields.slug)
        .bind(fields.name)
        .bind(fields.tools_cache)
        .bind(fields.tools_filter)
        .bind(at)
        .bind(id)
        .bind(owner_id)
        .execute(conn)
        .await
        .map(drop));
        Insert::from_result(result)
    }

    /// Names (or forgets) the header a source's value travels in.
    pub async fn set_upstream_header(&self, tx: &mut Tx, id: &str, header: Option<&str>) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("update servers set upstream_header = $1 where id = $2")
            .bind(header)
            .bind(id)
            .execute(conn)
            .await
            .map(drop))
    }

    /// Switches to a mode without a token (public or oauth): the token is dropped.
    pub async fn set_client_auth(&self, tx: &mut Tx, owner_id: &str, id: &str, auth: ClientAuth) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("update servers set client_auth = $1, token_hash = null where id = $2 and owner_id = $3")
            .bind(auth.as_str())
            .bind(id)
            .bind(owner_id)
            .execute(conn)
            .await
            .map(drop))
    }

    pub async fn set_oauth_access(&self, tx: &mut Tx, owner_id: &str, id: &str, access: &str) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("update servers set oauth_access = $1 where id = $2 and owner_id = $3")
            .bind(access)
            .bind(id)
            .bind(owner_id)
            .execute(conn)
            .await
            .map(drop))
    }

    /// Custom limits: calls a minute, burst, concurrency (null: the tier's).
    pub async fn set_limits(
        &self,
        tx: &mut Tx,
        owner_id: &str,
        id: &str,
        limits: [Option<i64>; 3],
    ) -> sqlx::Result<()> {
        let [calls_per_minute, burst, max_concurrency] = limits;
        on_tx!(tx, conn => sqlx::query(
            "update servers set calls_per_minute = $1, burst = $2, max_concurrency = $3 where id = $4 and owner_id = $5",
        )
        .bind(calls_per_minute)
        .bind(burst)
        .bind(max_concurrency)
        .bind(id)
        .bind(owner_id)
        .execute(conn)
        .await
        .map(drop))
    }

    /// Connection settings; `None` keeps what is stored.
    pub async fn set_connection(
        &self,
        tx: &mut Tx,
        owner_id: &str,
        id: &str,
        origins: Option<&str>,
        call_timeout_secs: Option<i64>,
    ) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query(
            "update servers set allowed_origins = coalesce($1, allowed_origins),
                    call_timeout_secs = coalesce($2, call_timeout_secs) where id = $3 and owner_id = $4",
        )
        .bind(origins)
        .bind(call_timeout_secs)
        .bind(id)
        .bind(owner_id)
        .execute(conn)
        .await
        .map(drop))
    }

    pub async fn touch(&self, tx: &mut Tx, owner_id: &str, id: &str, at: i64) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("update servers set updated_at = $1 where id = $2 and owner_id = $3")
            .bind(at)
            .bind(id)
            .bind(owner_id)
            .execute(conn)
            .await
            .map(drop))
    }

    /// Sets the status (and `updated_at`, which replicas compare to notice changes).
    pub async fn set_status(&self, id: &str, status: ServerStatus, at: i64) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query("update servers set status = $1, updated_at = $2 where id = $3")
            .bind(status.as_str())
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))
    }

    /// Activates a server while its owner has fewer than `max_active` active
    /// ones (`None`: no limit). The owner's row is locked first on
    /// PostgreSQL (SQLite's write transaction is exclusive already), so two
    /// replicas cannot both take the last place. Returns whether it did.
    pub async fn activate(&self, owner_id: &str, id: &str, max_active: Option<i64>, at: i64) -> sqlx::Result<bool> {
        let mut tx = self.db.begin().await?;
        if let Tx::Postgres(conn) = &mut tx {
            sqlx::query("select 1 from users where id = $1 for update").bind(owner_id).execute(&mut **conn).await?;
        }
        let done = on_tx!(&mut tx, conn => sqlx::query(
            "update servers set status = 'active', updated_at = $1 where id = $2 and owner_id = $3
               and (status = 'active'
                    or (select count(*) from servers s where s.owner_id = $3 and s.status = 'active') < $4)",
        )
        .bind(at)
        .bind(id)
        .bind(owner_id)
        .bind(max_active.unwrap_or(i64::MAX))
        .execute(conn)
        .await
        .map(|done| done.rows_affected() == 1))?;
        tx.commit().await?;
        Ok(done)
    }

    /// A new token hash; the server is switched to bearer auth.
    pub async fn set_token(&self, owner_id: &str, id: &str, token_hash: &str, at: i64) -> sqlx::Result<()> {
        on_db!(&self.db, pool => sqlx::query(
            "update servers set client_auth = 'bearer', token_hash = $1, updated_at = $2 where id = $3 and owner_id = $4",
        )
        .bind(token_hash)
        .bind(at)
        .bind(id)
        .bind(owner_id)
        .execute(pool)
        .await
        .map(drop))
    }

    /// Deletes a server with its call log and credentials.
    pub async fn delete(&self, id: &str) -> sqlx::Result<()> {
        let mut tx = self.db.begin().await?;
        for statement in [
            "delete from call_log where server_id = $1",
            "delete from server_credentials where server_id = $1",
            "delete from servers where id = $1",
        ] {
            on_tx!(&mut tx, conn => sqlx::query(statement).bind(id).execute(conn).await.map(drop))?;
        }
        tx.commit().await
    }

    /// One sealed credential.
    pub async fn credential(&self, server_id: &str, name: &str) -> sqlx::Result<Option<String>> {
        on_db!(&self.db, pool => sqlx::query_scalar("select sealed from server_credentials where server_id = $1 and name = $2")
            .bind(server_id)
            .bind(name)
            .fetch_optional(pool)
            .await)
    }

    /// The names of the stored credentials, sorted.
    pub async fn credential_names(&self, server_id: &str) -> sqlx::Result<Vec<String>> {
        on_db!(&self.db, pool => sqlx::query_scalar("select name from server_credentials where server_id = $1 order by name")
            .bind(server_id)
            .fetch_all(pool)
            .await)
    }

    /// Every sealed credential: (name, sealed).
    pub async fn credentials(&self, server_id: &str) -> sqlx::Result<Vec<(String, String)>> {
        on_db!(&self.db, pool => sqlx::query_as("select name, sealed from server_credentials where server_id = $1")
            .bind(server_id)
            .fetch_all(pool)
            .await)
    }

    pub async fn put_credential(
        &self,
        tx: &mut Tx,
        server_id: &str,
        name: &str,
        sealed: &str,
        at: i64,
    ) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query(
            "insert into server_credentials (server_id, name, sealed, updated_at) values ($1, $2, $3, $4)
             on conflict (server_id, name) do update set sealed = excluded.sealed, updated_at = excluded.updated_at",
        )
        .bind(server_id)
        .bind(name)
        .bind(sealed)
        .bind(at)
        .execute(conn)
        .await
        .map(drop))
    }

    pub async fn delete_credential(&self, tx: &mut Tx, server_id: &str, name: &str) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("delete from server_credentials where server_id = $1 and name = $2")
            .bind(server_id)
            .bind(name)
            .execute(conn)
            .await
            .map(drop))
    }

    /// A source's address and whether it is enabled (for forwarding).
    pub async fn source(&self, source_id: &str) -> sqlx::Result<Option<(String, bool, String)>> {
        on_db!(&self.db, pool => sqlx::query_as("select url, enabled, name from mcp_sources where id = $1")
            .bind(source_id)
            .fetch_optional(pool)
            .await)
    }
}

/// The channel replicas announce server changes on (payload: the server id).
const CHANGES_CHANNEL: &str = "automcp_servers";

impl ServerStore {
    /// Announces that server `id` changed, to every replica listening
    /// (PostgreSQL `NOTIFY`, delivered on commit; SQLite has one process, so
    /// there is no one to tell).
    /// `origin` names the announcing process, so it can ignore its own notices.
    pub async fn announce(&self, origin: &str, id: &str) -> sqlx::Result<()> {
        match &self.db {
            Db::Sqlite(_) => Ok(()),
            Db::Postgres(pool) => sqlx::query("select pg_notify($1, $2)")
                .bind(CHANGES_CHANNEL)
                .bind(format!("{origin} {id}"))
                .execute(pool)
                .await
                .map(drop),
        }
    }

    /// Listens for announced changes and revocations (`None` on SQLite:
    /// nothing to hear).
    pub async fn changes(&self) -> sqlx::Result<Option<Changes>> {
        match &self.db {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen_all([CHANGES_CHANNEL, super::oauth::REVOCATIONS_CHANNEL]).await?;
                Ok(Some(Changes { listener }))
            }
        }
    }
}

/// Announced server changes, as they arrive.
pub struct Changes {
    listener: sqlx::postgres::PgListener,
}

/// What the change feed delivered.
pub enum Change {
    /// Server `id` changed, through process `origin`.
    Server { origin: String, id: String },
    /// An OAuth grant or token was revoked somewhere.
    Revoked,
    /// The connection dropped and was opened again: notices may be lost.
    Gap,
}

impl Changes {
    pub async fn next(&mut self) -> sqlx::Result<Change> {
        Ok(match self.listener.try_recv().await? {
            Some(notice) if notice.channel() == super::oauth::REVOCATIONS_CHANNEL => Change::Revoked,
            Some(notice) => {
                let (origin, id) = notice.payload().split_once(' ').unwrap_or(("", notice.payload()));
                Change::Server { origin: origin.to_owned(), id: id.to_owned() }
            }
            None => Change::Gap,
        })
    }
}
