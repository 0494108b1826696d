//! Wizards' SQL: the stored request, its state in columns (the transitions
//! live in `app::wizard::transition`), the proposal and the choices made.

use super::{Db, Tx};
use crate::{on_db, on_tx};

/// A wizard as stored (shown through `wizards::row`).
#[derive(sqlx::FromRow)]
pub struct WizardRow {
    pub id: String,
    pub owner_id: String,
    pub description: String,
    pub openapi_url: Option<String>,
    /// A pasted document stored by an earlier version (now in `documents`).
    pub openapi_document: Option<String>,
    pub openapi_document_bytes: Option<i64>,
    /// The wizard's document, in `documents`.
    pub document_sha256: Option<String>,
    pub wizard_step: String,
    pub processing_status: String,
    pub processing_error: Option<String>,
    pub proposal: Option<String>,
    pub selected: Option<String>,
    pub client_auth: Option<String>,
    pub server_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new wizard's row.
pub struct NewWizard<'a> {
    pub id: &'a str,
    pub owner_id: &'a str,
    pub description: &'a str,
    pub openapi_url: Option<&'a str>,
    pub document_sha256: Option<&'a str>,
    pub step: &'a str,
    pub processing: &'a str,
    pub at: i64,
}

/// A stored state: step, processing status, error.
pub struct StateColumns<'a> {
    pub step: &'a str,
    pub processing: &'a str,
    pub error: Option<&'a str>,
}

/// `select <every wizard column> from wizards <rest>`, as one literal.
macro_rules! select_wizards {
    ($rest:literal) => {
        concat!(
            "select id, owner_id, description, openapi_url, openapi_document, openapi_document_bytes, document_sha256, wizard_step,
                    processing_status, processing_error, proposal, selected, client_auth, server_id, created_at,
                    updated_at from wizards ",
            $rest
        )
    };
}

#[derive(Clone)]
pub struct WizardStore {
    db: Db,
}

impl WizardStore {
    pub fn new(db: Db) -> Self {
        WizardStore { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// One of the owner's wizards.
    pub async fn get(&self, owner_id: &str, id: &str) -> sqlx::Result<Option<WizardRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_wizards!("where id = $1 and owner_id = $2"))
            .bind(id)
            .bind(owner_id)
            .fetch_optional(pool)
            .await)
    }

    /// A wizard by id alone (the job worker, which holds its claim).
    pub async fn by_id(&self, id: &str) -> sqlx::Result<Option<WizardRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_wizards!("where id = $1")).bind(id).fetch_optional(pool).await)
    }

    pub async fn by_id_in(&self, tx: &mut Tx, id: &str) -> sqlx::Result<Option<WizardRow>> {
        on_tx!(tx, conn => sqlx::query_as(select_wizards!("where id = $1")).bind(id).fetch_optional(conn).await)
    }

    pub async fn get_in(&self, tx: &mut Tx, owner_id: &str, id: &str) -> sqlx::Result<WizardRow> {
        on_tx!(tx, conn => sqlx::query_as(select_wizards!("where id = $1 and owner_id = $2"))
            .bind(id)
            .bind(owner_id)
            .fetch_one(conn)
            .await)
    }

    /// The owner's unfinished wizards, most recently changed first.
    pub async fn unfinished(&self, owner_id: &str) -> sqlx::Result<Vec<WizardRow>> {
        on_db!(&self.db, pool => sqlx::query_as(select_wizards!(
            "where owner_id = $1 and wizard_step <> 'complete' order by updated_at desc, id desc"
        ))
        .bind(owner_id)
        .fetch_all(pool)
        .await)
    }

    /// How many unfinished wizards the owner has.
    pub async fn unfinished_count(&self, tx: &mut Tx, owner_id: &str) -> sqlx::Result<i64> {
        let (count,): (i64,) = on_tx!(tx, conn => sqlx::query_as(
            "select count(*) from wizards where owner_id = $1 and wizard_step <> 'complete'",
        )
        .bind(owner_id)
        .fetch_one(conn)
        .await)?;
        Ok(count)
    }

    pub async fn insert(&self, tx: &mut Tx, wizard: NewWizard<'_>) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query(
            "insert into wizards (id, owner_id, description, openapi_url, document_sha256, wizard_step,
                                  processing_status, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(wizard.id)
        .bind(wizard.owner_id)
        .bind(wizard.description)
        .bind(wizard.openapi_url)
        .bind(wizard.document_sha256)
        .bind(wizard.step)
        .bind(wizard.processing)
        .bind(wizard.at)
        .bind(wizard.at)
        .execute(conn)
        .await
        .map(|_| ()))
    }

    /// Points a wizard at its stored document.
    pub async fn set_document(&self, tx: &mut Tx, id: &str, sha256: &str) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("update wizards set document_sha256 = $1 where id = $2")
            .bind(sha256)
            .bind(id)
            .execute(conn)
            .await
            .map(|_| ()))
    }

    /// Moves a wizard from `from` to `to` (compare-and-set); `false`: it was
    /// no longer in `from`.
    pub async fn set_state(
        &self,
        tx: &mut Tx,
        id: &str,
        from: StateColumns<'_>,
        to: StateColumns<'_>,
        at: i64,
    ) -> sqlx::Result<bool> {
        on_tx!(tx, conn => sqlx::query(
            "update wizards set wizard_step = $1, processing_status = $2, processing_error = $3, updated_at = $4
             where id = $5 and wizard_step = $6 and processing_status = $7",
        )
        .bind(to.step)
        .bind(to.processing)
        .bind(to.error)
        .bind(at)
        .bind(id)
        .bind(from.step)
        .bind(from.processing)
        .execute(conn)
        .await
        .map(|done| done.rows_affected() == 1))
    }

    /// Stores the proposal (and drops a document an earlier version stored
    /// in the row: it has served).
    pub async fn set_proposal(&self, tx: &mut Tx, id: &str, proposal: &str) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("update wizards set proposal = $1, openapi_document = null where id = $2")
            .bind(proposal)
            .bind(id)
            .execute(conn)
            .await
            .map(|_| ()))
    }

    pub async fn set_selected(&self, tx: &mut Tx, id: &str, selected: &str) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("update wizards set selected = $1 where id = $2")
            .bind(selected)
            .bind(id)
            .execute(conn)
            .await
            .map(|_| ()))
    }

    pub async fn set_auth(&self, tx: &mut Tx, id: &str, client_auth: &str, server_id: &str) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("update wizards set client_auth = $1, server_id = $2 where id = $3")
            .bind(client_auth)
            .bind(server_id)
            .bind(id)
            .execute(conn)
            .await
            .map(|_| ()))
    }

    pub async fn delete(&self, tx: &mut Tx, owner_id: &str, id: &str) -> sqlx::Result<()> {
        on_tx!(tx, conn => sqlx::query("delete from wizards where id = $1 and owner_id = $2")
            .bind(id)
            .bind(owner_id)
            .execute(conn)
            .await
            .map(|_| ()))
    }
}
