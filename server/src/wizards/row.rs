//! A stored wizard and how it is shown. Showing never fails on stored data:
//! a proposal or selection that does not read back (written by an older
//! version, say) is reported in the view, so the wizard can still be listed,
//! opened and discarded.

use app::model::{AppError, ClientAuth};
use app::spec::{ServerSpec, ToolSpec, credential_names};
use app::wizard::{ProcessingStatus, Proposal, WizardState, WizardStep, WizardView};

pub use crate::store::wizards::WizardRow;

const UNREADABLE: &str =
    "what was stored for this wizard cannot be read back; discard it and start a new one (nothing else is affected)";

impl WizardRow {
    pub fn state(&self) -> Result<WizardState, AppError> {
        let step = WizardStep::parse(&self.wizard_step)
            .ok_or_else(|| AppError::internal("a stored wizard step is unknown"))?;
        let processing = ProcessingStatus::parse(&self.processing_status)
            .ok_or_else(|| AppError::internal("a stored processing status is unknown"))?;
        Ok(WizardState { step, processing, error: self.processing_error.clone() })
    }

    /// The stored proposal; `Err` says it does not read back.
    pub fn proposal(&self) -> Result<Option<Proposal>, AppError> {
        self.proposal.as_deref().map(serde_json::from_str).transpose().map_err(|e| self.unreadable("proposal", &e))
    }

    pub fn selected(&self) -> Result<Vec<ToolSpec>, AppError> {
        let parsed = self.selected.as_deref().map(serde_json::from_str).transpose();
        Ok(parsed.map_err(|e| self.unreadable("selection", &e))?.unwrap_or_default())
    }

    fn unreadable(&self, what: &str, error: &serde_json::Error) -> AppError {
        tracing::error!(wizard_id = %self.id, %error, "a stored wizard {what} does not read back");
        AppError::conflict("wizard", UNREADABLE)
    }

    /// The wizard as its owner sees it. Data that does not read back is
    /// left out and named in `processing_error`.
    pub fn view(&self) -> WizardView {
        let state = self.state().unwrap_or(WizardState {
            step: WizardStep::Describe,
            processing: ProcessingStatus::Failed,
            error: Some(UNREADABLE.into()),
        });
        let mut problem = None;
        let proposal = self.proposal().unwrap_or_else(|_| {
            problem = Some(UNREADABLE.to_owned());
            None
        });
        let selected = self.selected().unwrap_or_else(|_| {
            problem = Some(UNREADABLE.to_owned());
            Vec::new()
        });
        let needed = credential_names(&spec_of("x", "x", "", &selected)).into_iter().collect();
        WizardView {
            id: self.id.clone(),
            description: self.description.clone(),
            openapi_url: self.openapi_url.clone(),
            has_openapi_document: self.openapi_document_bytes.is_some()
                || self.openapi_document.is_some()
                || (self.document_sha256.is_some() && self.openapi_url.is_none()),
            searchable: self.document_sha256.is_some() && self.proposal.is_some(),
            step: state.step,
            processing_status: state.processing,
            processing_error: problem.or(state.error),
            proposal,
            selected,
            client_auth: self.client_auth.as_deref().map(ClientAuth::parse),
            credentials_needed: needed,
            server_id: self.server_id.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

pub fn spec_of(name: &str, slug: &str, description: &str, tools: &[ToolSpec]) -> ServerSpec {
    ServerSpec {
        version: app::spec::SPEC_VERSION,
        name: name.to_owned(),
        slug: slug.to_owned(),
        description: description.to_owned(),
        tools: tools.to_vec(),
    }
}
