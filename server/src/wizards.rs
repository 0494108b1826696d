//! The create-server wizard, server side: persisting the pure transitions of
//! [`app::wizard::transition`], and the durable background jobs that
//! generate tool proposals.
//!
//! Every change of step or processing status goes through [`Wizards::apply`],
//! which runs the pure transition and writes the result only if the row is
//! still in the state it was read in. Every query is scoped to the owner.

use crate::db::{Db, now};
use crate::engine::outbound::Outbound;
use crate::error::ResultExt;
use crate::generate::{self, llm::Llm, openapi::MAX_DOCUMENT_BYTES};
use crate::servers::Servers;
use app::model::{AppError, ClientAuth, CreateServer, UserView};
use app::spec::{ServerSpec, SpecLimits, ToolSpec, credential_names, validate};
use app::wizard::{
    Activated, ConfigureAuth, ProcessingStatus, Proposal, SelectTools, StartWizard, WizardEvent, WizardState,
    WizardStep, WizardView, transition,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long a claimed job may run before another worker may take it over.
pub const LEASE_SECS: i64 = 300;
/// After this many claims, a job that keeps being interrupted fails.
pub const MAX_ATTEMPTS: i64 = 3;
const MAX_DESCRIPTION_CHARS: usize = 4000;

#[derive(Clone)]
pub struct Wizards {
    db: Db,
    outbound: Outbound,
    llm: Option<Llm>,
    servers: Servers,
    wake: Arc<Notify>,
}

#[derive(sqlx::FromRow)]
struct WizardRow {
    id: String,
    description: String,
    openapi_url: Option<String>,
    openapi_document: Option<String>,
    wizard_step: String,
    processing_status: String,
    processing_error: Option<String>,
    proposal: Option<String>,
    selected: Option<String>,
    client_auth: Option<String>,
    server_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

macro_rules! select_wizards {
    ($rest:literal) => {
        concat!(
            "select id, description, openapi_url, openapi_document, wizard_step, processing_status, processing_error,
                    proposal, selected, client_auth, server_id, created_at, updated_at from wizards ",
            $rest
        )
    };
}

impl WizardRow {
    fn state(&self) -> Result<WizardState, AppError> {
        let step = WizardStep::parse(&self.wizard_step)
            .ok_or_else(|| AppError::internal("a stored wizard step is unknown"))?;
        let processing = ProcessingStatus::parse(&self.processing_status)
            .ok_or_else(|| AppError::internal("a stored processing status is unknown"))?;
        Ok(WizardState { step, processing, error: self.processing_error.clone() })
    }

    fn proposal(&self) -> Result<Option<Proposal>, AppError> {
        self.proposal.as_deref().map(serde_json::from_str).transpose().or_internal("parse stored proposal")
    }

    fn selected(&self) -> Result<Vec<ToolSpec>, AppError> {
        Ok(self
            .selected
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .or_internal("parse stored selection")?
            .unwrap_or_default())
    }

    fn view(&self) -> Result<WizardView, AppError> {
        let state = self.state()?;
        let selected = self.selected()?;
        let needed = credential_names(&spec_of("x", "x", "", &selected)).into_iter().collect();
        Ok(WizardView {
            id: self.id.clone(),
            description: self.description.clone(),
            openapi_url: self.openapi_url.clone(),
            has_openapi_document: self.openapi_document.is_some(),
            step: state.step,
            processing_status: state.processing,
            processing_error: state.error,
            proposal: self.proposal()?,
            selected,
            client_auth: self
                .client_auth
                .as_deref()
                .map(|a| if a == "public" { ClientAuth::Public } else { ClientAuth::Bearer }),
            credentials_needed: needed,
            server_id: self.server_id.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn spec_of(name: &str, slug: &str, description: &str, tools: &[ToolSpec]) -> ServerSpec {
    ServerSpec {
        version: app::spec::SPEC_VERSION,
        name: name.to_owned(),
        slug: slug.to_owned(),
        description: description.to_owned(),
        tools: tools.to_vec(),
    }
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
    pub fn new(db: Db, outbound: Outbound, llm: Option<Llm>, servers: Servers) -> Self {
        Wizards { db, outbound, llm, servers, wake: Arc::new(Notify::new()) }
    }

    async fn row(&self, owner: &UserView, id: &str) -> Result<WizardRow, AppError> {
        sqlx::query_as(select_wizards!("where id = ? and owner_id = ?"))
            .bind(id)
            .bind(&owner.id)
            .fetch_optional(&self.db)
            .await
            .or_internal("load wizard")?
            .ok_or_else(|| AppError::not_found(format!("you have no wizard with id `{id}`")))
    }

    /// Runs `event` through the pure transition and stores the new state, if
    /// the row is still in the state `row` was read in.
    async fn apply(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        row: &WizardRow,
        event: &WizardEvent,
    ) -> Result<WizardState, AppError> {
        let current = row.state()?;
        let next = transition(Some(&current), event).map_err(illegal)?;
        let done = sqlx::query(
            "update wizards set wizard_step = ?, processing_status = ?, processing_error = ?, updated_at = ?
             where id = ? and wizard_step = ? and processing_status = ?",
        )
        .bind(next.step.as_str())
        .bind(next.processing.as_str())
        .bind(&next.error)
        .bind(now())
        .bind(&row.id)
        .bind(current.step.as_str())
        .bind(current.processing.as_str())
        .execute(&mut **tx)
        .await
        .or_internal("store wizard state")?;
        if done.rows_affected() == 0 {
            return Err(AppError::conflict("wizard_step", "the wizard changed meanwhile; reload it and try again"));
        }
        Ok(next)
    }

    async fn enqueue(&self, tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, wizard_id: &str) -> Result<(), AppError> {
        let time = now();
        let inserted = sqlx::query(
            "insert into jobs (id, kind, wizard_id, state, attempts, created_at, updated_at) values (?, 'generate', ?, 'queued', 0, ?, ?)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(wizard_id)
        .bind(time)
        .bind(time)
        .execute(&mut **tx)
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(AppError::conflict("wizard_step", "tools are already being generated for this wizard"))
            }
            Err(e) => Err(e).or_internal("enqueue job"),
        }
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
            return Err(AppError::invalid("openapi_document", "the pasted document is larger than 5 MB"));
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
        let mut tx = self.db.begin().await.or_internal("begin")?;
        sqlx::query(
            "insert into wizards (id, owner_id, description, openapi_url, openapi_document, wizard_step, processing_status,
                                  created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&owner.id)
        .bind(&description)
        .bind(&openapi_url)
        .bind(&document)
        .bind(state.step.as_str())
        .bind(state.processing.as_str())
        .bind(time)
        .bind(time)
        .execute(&mut *tx)
        .await
        .or_internal("insert wizard")?;
        self.enqueue(&mut tx, &id).await?;
        // Read back before committing: once committed, the worker may move it on.
        let view = self.row_in(&mut tx, owner, &id).await?.view()?;
        tx.commit().await.or_internal("commit wizard")?;
        self.wake.notify_one();
        tracing::info!(wizard_id = %id, "wizard started");
        Ok(view)
    }

    async fn row_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        owner: &UserView,
        id: &str,
    ) -> Result<WizardRow, AppError> {
        sqlx::query_as(select_wizards!("where id = ? and owner_id = ?"))
            .bind(id)
            .bind(&owner.id)
            .fetch_one(&mut **tx)
            .await
            .or_internal("load wizard")
    }

    pub async fn get(&self, owner: &UserView, id: &str) -> Result<WizardView, AppError> {
        self.row(owner, id).await?.view()
    }

    /// The owner's wizards that are not complete, most recent first.
    pub async fn unfinished(&self, owner: &UserView) -> Result<Vec<WizardView>, AppError> {
        let rows: Vec<WizardRow> = sqlx::query_as(select_wizards!(
            "where owner_id = ? and wizard_step <> 'complete' order by updated_at desc, id desc"
        ))
        .bind(&owner.id)
        .fetch_all(&self.db)
        .await
        .or_internal("list wizards")?;
        rows.iter().map(WizardRow::view).collect()
    }

    /// After a failure: generate again.
    pub async fn retry(&self, owner: &UserView, id: &str) -> Result<WizardView, AppError> {
        let row = self.row(owner, id).await?;
        let mut tx = self.db.begin().await.or_internal("begin")?;
        self.apply(&mut tx, &row, &WizardEvent::Retry).await?;
        self.enqueue(&mut tx, id).await?;
        let view = self.row_in(&mut tx, owner, id).await?.view()?;
        tx.commit().await.or_internal("commit retry")?;
        self.wake.notify_one();
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
        let mut tx = self.db.begin().await.or_internal("begin")?;
        sqlx::query("update wizards set selected = ? where id = ?")
            .bind(serde_json::to_string(&tools).or_internal("serialize selection")?)
            .bind(id)
            .execute(&mut *tx)
            .await
            .or_internal("store selection")?;
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
        let mut tx = self.db.begin().await.or_internal("begin")?;
        sqlx::query("update wizards set client_auth = ?, server_id = ? where id = ?")
            .bind(input.client_auth.as_str())
            .bind(&server_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .or_internal("store auth")?;
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
        let mut tx = self.db.begin().await.or_internal("begin")?;
        self.apply(&mut tx, &row, &WizardEvent::Activate).await?;
        tx.commit().await.or_internal("commit activation")?;
        let server = self.servers.get(owner, &server_id).await?;
        Ok(Activated { wizard: self.get(owner, id).await?, server, token })
    }

    /// Starts the background worker.
    pub fn spawn_worker(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match this.run_next().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(error) => tracing::error!(%error, "the job worker hit an error"),
                }
                // Sleep until woken by new work, or poll for expired leases.
                let _ = tokio::time::timeout(Duration::from_secs(1), this.wake.notified()).await;
            }
        })
    }

    /// Claims and runs one job. `Ok(false)` when there was none.
    pub async fn run_next(&self) -> Result<bool, AppError> {
        let time = now();
        let claimed: Option<(String, String, i64)> = sqlx::query_as(
            "update jobs set state = 'running', attempts = attempts + 1, lease_until = ?, updated_at = ?
             where id = (select id from jobs where state = 'queued' or (state = 'running' and lease_until < ?)
                         order by created_at limit 1)
             returning id, wizard_id, attempts",
        )
        .bind(time + LEASE_SECS)
        .bind(time)
        .bind(time)
        .fetch_optional(&self.db)
        .await
        .or_internal("claim job")?;
        let Some((job_id, wizard_id, attempts)) = claimed else { return Ok(false) };
        tracing::info!(%job_id, %wizard_id, attempts, "generation job claimed");
        let outcome = if attempts > MAX_ATTEMPTS {
            Err(format!(
                "generating was interrupted {} times (the server stopped while it ran); press Retry to try again",
                attempts - 1
            ))
        } else {
            self.generate(&wizard_id).await
        };
        self.finish(&job_id, &wizard_id, outcome).await?;
        Ok(true)
    }

    async fn generate(&self, wizard_id: &str) -> Result<Proposal, String> {
        let row: WizardRow = sqlx::query_as(select_wizards!("where id = ?"))
            .bind(wizard_id)
            .fetch_one(&self.db)
            .await
            .map_err(|e| format!("the wizard could not be loaded: {e}"))?;
        let request = generate::Request {
            description: row.description,
            openapi_url: row.openapi_url,
            openapi_document: row.openapi_document,
        };
        generate::generate(&request, &self.outbound, self.llm.as_ref()).await
    }

    async fn finish(&self, job_id: &str, wizard_id: &str, outcome: Result<Proposal, String>) -> Result<(), AppError> {
        let row: WizardRow = sqlx::query_as(select_wizards!("where id = ?"))
            .bind(wizard_id)
            .fetch_one(&self.db)
            .await
            .or_internal("load wizard")?;
        let mut tx = self.db.begin().await.or_internal("begin")?;
        let (event, job_state, job_error) = match outcome {
            Ok(proposal) => {
                sqlx::query("update wizards set proposal = ? where id = ?")
                    .bind(serde_json::to_string(&proposal).or_internal("serialize proposal")?)
                    .bind(wizard_id)
                    .execute(&mut *tx)
                    .await
                    .or_internal("store proposal")?;
                (WizardEvent::BackgroundSucceeded, "succeeded", None)
            }
            Err(error) => {
                tracing::info!(%wizard_id, %error, "generation failed");
                (WizardEvent::BackgroundFailed { error: error.clone() }, "failed", Some(error))
            }
        };
        if let Err(error) = self.apply(&mut tx, &row, &event).await {
            // The wizard moved on (or never was processing): record why the job's result was dropped.
            tracing::warn!(%wizard_id, %error, "generation result not applied");
            tx.rollback().await.or_internal("rollback")?;
            let mut tx = self.db.begin().await.or_internal("begin")?;
            self.close_job(&mut tx, job_id, "failed", Some(error.to_string())).await?;
            return tx.commit().await.or_internal("commit job");
        }
        self.close_job(&mut tx, job_id, job_state, job_error).await?;
        tx.commit().await.or_internal("commit job result")
    }

    async fn close_job(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        job_id: &str,
        state: &str,
        error: Option<String>,
    ) -> Result<(), AppError> {
        sqlx::query("update jobs set state = ?, last_error = ?, lease_until = null, updated_at = ? where id = ?")
            .bind(state)
            .bind(error)
            .bind(now())
            .bind(job_id)
            .execute(&mut **tx)
            .await
            .or_internal("close job")?;
        Ok(())
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
