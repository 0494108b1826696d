//! OpenAPI documents' SQL: one row per account and content hash, the text
//! and the operation index compressed; kept while an unfinished wizard
//! refers to one.

use super::{Db, Tx};
use crate::{on_db, on_tx};

/// A document to store (already compressed).
pub struct NewDocument<'a> {
    pub owner_id: &'a str,
    pub sha256: &'a str,
    pub text_bytes: i64,
    pub body: &'a [u8],
    pub at: i64,
}

/// A stored document: compressed text and operation index.
#[derive(sqlx::FromRow)]
pub struct DocumentRow {
    pub body: Vec<u8>,
    pub operations: Option<Vec<u8>>,
}

#[derive(Clone)]
pub struct DocumentStore {
    db: Db,
}

impl DocumentStore {
    pub fn new(db: Db) -> Self {
        DocumentStore { db }
    }

    /// Stores a document unless the owner already has the same one.
    pub async fn put(&self, tx: &mut Tx, doc: NewDocument<'_>) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query(
            "insert into documents (owner_id, sha256, text_bytes, stored_bytes, body, created_at)
             values ($1, $2, $3, $4, $5, $6) on conflict (owner_id, sha256) do nothing",
        )
        .bind(doc.owner_id)
        .bind(doc.sha256)
        .bind(doc.text_bytes)
        .bind(doc.body.len() as i64)
        .bind(doc.body)
        .bind(doc.at)
        .execute(conn)
        .await
        .map(|_| ()))
    }

    /// Stores the operation index of a document (compressed).
    pub async fn set_operations(&self, tx: &mut Tx, owner_id: &str, sha256: &str, index: &[u8]) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query(
            "update documents set operations = $1, stored_bytes = length(body) + $2
             where owner_id = $3 and sha256 = $4",
        )
        .bind(index)
        .bind(index.len() as i64)
        .bind(owner_id)
        .bind(sha256)
        .execute(conn)
        .await
        .map(|_| ()))
    }

    pub async fn get(&self, owner_id: &str, sha256: &str) -> sqlx::Result<Option<DocumentRow>> {
        on_db!(&self.db, pool => sqlx::query_as("select body, operations from documents where owner_id = $1 and sha256 = $2")
            .bind(owner_id)
            .bind(sha256)
            .fetch_optional(pool)
            .await)
    }

    /// The operation index alone.
    pub async fn operations(&self, owner_id: &str, sha256: &str) -> sqlx::Result<Option<Vec<u8>>> {
        let row: Option<(Option<Vec<u8>>,)> = on_db!(&self.db, pool => sqlx::query_as(
            "select operations from documents where owner_id = $1 and sha256 = $2",
        )
        .bind(owner_id)
        .bind(sha256)
        .fetch_optional(pool)
        .await)?;
        Ok(row.and_then(|(operations,)| operations))
    }

    /// Stored bytes of the owner's documents (what the per-account budget counts).
    pub async fn held_bytes(&self, tx: &mut Tx, owner_id: &str) -> sqlx::Result<i64> {
        let (bytes,): (Option<i64>,) = on_tx!(tx, conn => sqlx::query_as(
            "select cast(sum(stored_bytes) as bigint) from documents where owner_id = $1",
        )
        .bind(owner_id)
        .fetch_one(conn)
        .await)?;
        Ok(bytes.unwrap_or(0))
    }

    /// Whether the owner already holds this document.
    pub async fn holds(&self, tx: &mut Tx, owner_id: &str, sha256: &str) -> sqlx::Result<bool> {
        let found: Option<(i64,)> = on_tx!(tx, conn => sqlx::query_as(
            "select text_bytes from documents where owner_id = $1 and sha256 = $2",
        )
        .bind(owner_id)
        .bind(sha256)
        .fetch_optional(conn)
        .await)?;
        Ok(found.is_some())
    }

    /// Deletes the owner's documents that no unfinished wizard refers to.
    pub async fn prune(&self, tx: &mut Tx, owner_id: &str) -> sqlx::Result<u64> {
        on_tx!(tx, conn => sqlx::query(
            "delete from documents where owner_id = $1 and not exists (
                select 1 from wizards w where w.owner_id = documents.owner_id
                  and w.document_sha256 = documents.sha256 and w.wizard_step <> 'complete')",
        )
        .bind(owner_id)
        .execute(conn)
        .await
        .map(|done| done.rows_affected()))
    }
}
