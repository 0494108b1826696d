//! The create-server wizard, server side: persisting the pure transitions of
//! [`app::wizard::transition`], and the generation jobs (see [`generation`])
//! that propose tools in the background through the job queue.
//!
//! Every change of step or processing status goes through [`Wizards::apply`],
//! which runs the pure transition and writes the result only if the row is
//! still in the state it was read in. Every query is scoped to the owner.

mod documents;
pub use documents::{Packed, pack};
mod generation;
mod row;

use crate::db::now;
use crate::engine::outbound::Outbound;
use crate::error::ResultExt;
use crate::generate::{budget::MAX_DOCUMENT_BYTES, llm::Llm};
use crate::jobs::Queue;
use crate::servers::Servers;
use crate::store::documents::DocumentStore;
use crate::store::wizards::{NewWizard, StateColumns, WizardStore};
use crate::store::{Db, Tx};
use app::model::{AppError, CreateServer, UserView};
use app::spec::{SpecLimits, credential_names, validate};
use app::wizard::{
    Activated, ConfigureAuth, SelectTools, StartWizard, WizardEvent, WizardState, WizardView, transition,
};
use row::{WizardRow, spec_of};
use std::sync::Arc;
use tokio::sync::Semaphore;

const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Wizards an account may have unfinished at once.
pub const MAX_UNFINISHED: i64 = 20;
/// Bytes of documents (compressed) an account's unfinished wizards may hold.
pub const MAX_STORED_DOCUMENT_BYTES: i64 = 25 * 1024 * 1024;
/// Documents imported at once (parsing a 32 MiB document takes about 200 MiB).
const IMPORTS_AT_ONCE: usize = 2;

#[derive(Clone)]
pub struct Wizards {
    store: WizardStore,
    documents: DocumentStore,
    outbound: Outbound,
    llm: Option<Llm>,
    servers: Servers,
    queue: Queue,
    import_permits: Arc<Semaphore>,
}

/// A slug from a server name: `Pet Store API` → `pet-store-api`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(40).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() { "server".into() } else { slug }
}

fn illegal(error: app::wizard::IllegalMove) -> AppError {
    AppError::conflict("wizard_step", error.to_string())
}

impl Wizards {
    pub fn new(db: Db, outbound: Outbound, llm: Option<Llm>, servers: Servers, queue: Queue) -> Self {
        let import_permits = Arc::new(Semaphore::new(IMPORTS_AT_ONCE));
        let documents = DocumentStore::new(db.clone());
        Wizards { store: WizardStore::new(db), documents, outbound, llm, servers, queue, import_permits }
    }

    async fn row(&self, owner: &UserView, id: &str) -> Result<WizardRow, AppError> {
        self.store
            .get(&owner.id, id)
            .await
            .or_internal("load wizard")?
            .ok_or_else(|| AppError::not_found(format!("you have no wizard with id `{id}`")))
    }

    /// Runs `event` through the pure transition and stores the new state, if
    /// the row is still in the state `row` was read in.
    async fn apply(&self, tx: &mut Tx, row: &WizardRow, event: &WizardEvent) -> Result<WizardState, AppError> {
        let current = row.state()?;
        let next = transition(Some(&current), event).map_err(illegal)?;
        let from = StateColumns { step: current.step.as_str(), processing: current.processing.as_str(), error: None };
        let to = StateColumns {
            step: next.step.as_str(),
            processing: next.processing.as_str(),
            error: next.error.as_deref(),
        };
        if !self.store.set_state(tx, &row.id, from, to, now()).await.or_internal("store wizard state")? {
            return Err(AppError::conflict("wizard_step", "the wizard changed meanwhile; reload it and try again"));
        }
        Ok(next)
    }

    /// Starts a wizard: stores the request and queues generation.
    pub async fn start(&self, owner: &UserView, input: StartWizard) -> Result<WizardView, AppError> {
        let description = input.description.trim().to_owned();
        if description.is_empty() {
            return Err(AppError::invalid("description", "describe what the server should do"));
        }
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(AppError::invalid(
                "description",
                format!("keep the description under {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        let openapi_url = input.openapi_url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        if let Some(url) = &openapi_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| AppError::invalid("openapi_url", format!("`{url}` is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(AppError::invalid("openapi_url", "the OpenAPI URL must start with http:// or https://"));
            }
        }
        let document = input.openapi_document.filter(|d| !d.trim().is_empty());
        if document.as_ref().is_some_and(|d| d.len() > MAX_DOCUMENT_BYTES) {
            return Err(AppError::invalid(
                "openapi_document",
                format!("the pasted document is larger than {} MiB", MAX_DOCUMENT_BYTES >> 20),
            ));
        }
        if document.is_some() && openapi_url.is_some() {
            return Err(AppError::invalid(
                "openapi_url",
                "give the OpenAPI document either by URL or pasted, not both",
            ));
        }
        let state = transition(None, &WizardEvent::Start).map_err(illegal)?;
        let id = uuid::Uuid::now_v7().to_string();
        let time = now();
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        self.check_room(&mut tx, owner).await?;
        let document_sha256 = match document {
            Some(text) => Some(self.keep_pasted(&mut tx, owner, text).await?),
            None => None,
        };
        let wizard = NewWizard {
            id: &id,
            owner_id: &owner.id,
            description: &description,
            openapi_url: openapi_url.as_deref(),
            document_sha256: document_sha256.as_deref(),
            step: state.step.as_str(),
            processing: state.processing.as_str(),
            at: time,
        };
        self.store.insert(&mut tx, wizard).await.or_internal("insert wizard")?;
        self.queue.enqueue(&mut tx, &id, &owner.id).await?;
        // Read back before committing: once committed, the worker may move it on.
        let view = self.row_in(&mut tx, owner, &id).await?.view();
        tx.commit().await.or_internal("commit wizard")?;
        self.queue.wake();
        tracing::info!(wizard_id = %id, "wizard started");
        Ok(view)
    }

    async fn row_in(&self, tx: &mut Tx, owner: &UserView, id: &str) -> Result<WizardRow, AppError> {
        self.store.get_in(tx, &owner.id, id).await.or_internal("load wizard")
    }

    /// Refuses a new wizard when the account's unfinished wizards are at
    /// their limit (their stored documents are checked as they are stored).
    async fn check_room(&self, tx: &mut Tx, owner: &UserView) -> Result<(), AppError> {
        let count = self.store.unfinished_count(tx, &owner.id).await.or_internal("count unfinished wizards")?;
        if count >= MAX_UNFINISHED {
            return Err(AppError::conflict(
                "wizard",
                format!("you have {count} unfinished wizards, the most at once; finish or discard some first"),
            ));
        }
        Ok(())
    }

    pub async fn get(&self, owner: &UserView, id: &str) -> Result<WizardView, AppError> {
        Ok(self.row(owner, id).await?.view())
    }

    /// Discards a wizard: its job stops, and the draft server it created (if
    /// it was never deployed) goes with it. A live server stays.
    pub async fn discard(&self, owner: &UserView, id: &str) -> Result<(), AppError> {
        let row = self.row(owner, id).await?;
        if let Some(server_id) = &row.server_id {
            match self.servers.get(owner, server_id).await {
                Ok(server) if server.status == app::model::ServerStatus::Draft => {
                    self.servers.delete(owner, server_id).await?;
                }
                Ok(_) | Err(AppError::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        self.store.delete(&mut tx, &owner.id, id).await.or_internal("delete wizard")?;
        self.prune_documents(&mut tx, &owner.id).await?;
        tx.commit().await.or_internal("commit discard")?;
        tracing::info!(wizard_id = %id, "wizard discarded");
        Ok(())
    }

    /// The owner's wizards that are not complete, most recent first.
    pub async fn unfinished(&self, owner: &UserView) -> Result<Vec<WizardView>, AppError> {
        let rows = self.store.unfinished(&owner.id).await.or_internal("list wizards")?;
        Ok(rows.iter().map(WizardRow::view).collect())
    }

    /// After a failure: generate again.
    pub async fn retry(&self, owner: &UserView, id: &str) -> Result<WizardView, AppError> {
        let row = self.row(owner, id).await?;
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        self.apply(&mut tx, &row, &WizardEvent::Retry).await?;
        self.queue.enqueue(&mut tx, id, &owner.id).await?;
        let view = self.row_in(&mut tx, owner, id).await?.view();
        tx.commit().await.or_internal("commit retry")?;
        self.queue.wake();
        Ok(view)
    }

    /// Chooses tools from the proposal (with edited names and descriptions).
    pub async fn select_tools(&self, owner: &UserView, id: &str, input: SelectTools) -> Result<WizardView, AppError> {
        let row = self.row(owner, id).await?;
        transition(Some(&row.state()?), &WizardEvent::SelectTools).map_err(illegal)?;
        let proposal = row.proposal()?.ok_or_else(|| AppError::internal("a wizard at `actions` has no proposal"))?;
        if input.tools.is_empty() {
            return Err(AppError::invalid("tools", "choose at least one tool"));
        }
        let limits = SpecLimits::for_tier(owner.tier);
        if let Some(max) = limits.max_tools.filter(|max| input.tools.len() > *max) {
            return Err(AppError::invalid(
                "tools",
                format!(
                    "the free tier allows at most {max} tools per server and you chose {}; the paid tier has no limit",
                    input.tools.len()
                ),
            ));
        }
        let mut tools = Vec::with_capacity(input.tools.len());
        for (i, choice) in input.tools.iter().enumerate() {
            let candidate = proposal.candidates.iter().find(|c| c.tool.name == choice.candidate).ok_or_else(|| {
                AppError::invalid(
                    format!("tools[{i}].candidate"),
                    format!("`{}` is not one of the proposed tools", choice.candidate),
                )
            })?;
            let mut tool = candidate.tool.clone();
            if let Some(name) = choice.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                tool.name = name.to_owned();
            }
            if let Some(text) = choice.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                tool.description = text.to_owned();
            }
            tools.push(tool);
        }
        let issues = validate(&spec_of(&proposal.name, "draft", "", &tools), limits);
        if !issues.is_empty() {
            return Err(AppError::invalid_spec(issues));
        }
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        let selected = serde_json::to_string(&tools).or_internal("serialize selection")?;
        self.store.set_selected(&mut tx, id, &selected).await.or_internal("store selection")?;
        self.apply(&mut tx, &row, &WizardEvent::SelectTools).await?;
        tx.commit().await.or_internal("commit selection")?;
        self.get(owner, id).await
    }

    /// Sets client auth and the upstream credentials; stores the server as a draft.
    pub async fn configure_auth(
        &self,
        owner: &UserView,
        id: &str,
        input: ConfigureAuth,
    ) -> Result<WizardView, AppError> {
        let row = self.row(owner, id).await?;
        transition(Some(&row.state()?), &WizardEvent::ConfigureAuth).map_err(illegal)?;
        let selected = row.selected()?;
        let proposal = row.proposal()?.ok_or_else(|| AppError::internal("a wizard at `auth` has no proposal"))?;
        let needed = credential_names(&spec_of("x", "x", "", &selected));
        for name in &needed {
            if input.credentials.get(name).is_none_or(|v| v.is_empty()) {
                let user = selected.iter().find(|t| t.action.auth.as_ref().is_some_and(|a| &a.credential == name));
                return Err(AppError::invalid(
                    format!("credentials.{name}"),
                    format!(
                        "enter the credential `{name}` (used by `{}`)",
                        user.map(|t| t.name.as_str()).unwrap_or("a chosen tool")
                    ),
                ));
            }
        }
        if let Some(extra) = input.credentials.keys().find(|k| !needed.contains(*k)) {
            return Err(AppError::invalid(
                format!("credentials.{extra}"),
                format!("no chosen tool uses the credential `{extra}`"),
            ));
        }
        let description: String =
            if proposal.description.is_empty() { row.description.clone() } else { proposal.description.clone() };
        let description: String = description.chars().take(2000).collect();
        let base = slugify(&proposal.name);
        let mut created = None;
        for attempt in 0..5 {
            let slug = if attempt == 0 {
                base.clone()
            } else {
                format!("{base}-{}", &uuid::Uuid::new_v4().simple().to_string()[..6])
            };
            let request = CreateServer {
                spec: spec_of(proposal.name.trim(), &slug, &description, &selected),
                client_auth: input.client_auth,
                credentials: input.credentials.clone(),
                deploy: false,
                limits: None,
            };
            match self.servers.create(owner, request).await {
                Ok(server) => {
                    created = Some(server.server.id);
                    break;
                }
                Err(AppError::Conflict { field, .. }) if field == "spec.slug" => continue,
                Err(error) => return Err(error),
            }
        }
        let server_id = created.ok_or_else(|| AppError::internal("no free slug was found for the server"))?;
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        self.store.set_auth(&mut tx, id, input.client_auth.as_str(), &server_id).await.or_internal("store auth")?;
        self.apply(&mut tx, &row, &WizardEvent::ConfigureAuth).await?;
        tx.commit().await.or_internal("commit auth")?;
        self.get(owner, id).await
    }

    /// Makes the server live (mounted in this process) and hands out its token.
    pub async fn activate(&self, owner: &UserView, id: &str) -> Result<Activated, AppError> {
        let row = self.row(owner, id).await?;
        transition(Some(&row.state()?), &WizardEvent::Activate).map_err(illegal)?;
        let server_id =
            row.server_id.clone().ok_or_else(|| AppError::internal("a wizard at `deploy` has no server"))?;
        self.servers.deploy(owner, &server_id).await?;
        let token = match row.client_auth.as_deref() {
            Some("bearer") => Some(self.servers.rotate_token(owner, &server_id).await?.token),
            _ => None,
        };
        let mut tx = self.store.db().begin().await.or_internal("begin")?;
        self.apply(&mut tx, &row, &WizardEvent::Activate).await?;
        self.prune_documents(&mut tx, &owner.id).await?;
        tx.commit().await.or_internal("commit activation")?;
        let server = self.servers.get(owner, &server_id).await?;
        Ok(Activated { wizard: self.get(owner, id).await?, server, token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_names() {
        assert_eq!(slugify("Pet Store API"), "pet-store-api");
        assert_eq!(slugify("  --Wéird__name!! "), "w-ird-name");
        assert_eq!(slugify("!!!"), "server");
        assert!(app::spec::valid_slug(&slugify(&"long name ".repeat(20))));
    }
}
