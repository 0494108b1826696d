//! The create-server wizard as a pure state machine, and the types the
//! wizard's pages and API share.
//!
//! A wizard has a step (`describe` … `complete`) and, separately, the status
//! of its background work (`idle`, `processing`, `failed` with an error).
//! [`transition`] is the only place that decides what may happen next; the
//! server persists what it returns and nothing else changes the step.

use crate::spec::{HttpMethod, ToolSpec};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WizardStep {
    Describe,
    Actions,
    Auth,
    Deploy,
    Complete,
}

impl WizardStep {
    pub const ALL: [WizardStep; 5] =
        [WizardStep::Describe, WizardStep::Actions, WizardStep::Auth, WizardStep::Deploy, WizardStep::Complete];

    pub fn as_str(self) -> &'static str {
        match self {
            WizardStep::Describe => "describe",
            WizardStep::Actions => "actions",
            WizardStep::Auth => "auth",
            WizardStep::Deploy => "deploy",
            WizardStep::Complete => "complete",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        WizardStep::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProcessingStatus {
    Idle,
    Processing,
    Failed,
}

impl ProcessingStatus {
    pub const ALL: [ProcessingStatus; 3] =
        [ProcessingStatus::Idle, ProcessingStatus::Processing, ProcessingStatus::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            ProcessingStatus::Idle => "idle",
            ProcessingStatus::Processing => "processing",
            ProcessingStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        ProcessingStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Where a wizard stands. `error` is set exactly when `processing` is `Failed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WizardState {
    pub step: WizardStep,
    pub processing: ProcessingStatus,
    pub error: Option<String>,
}

impl WizardState {
    pub fn new(step: WizardStep, processing: ProcessingStatus) -> Self {
        WizardState { step, processing, error: None }
    }
}

/// What can happen to a wizard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WizardEvent {
    Start,
    BackgroundSucceeded,
    BackgroundFailed { error: String },
    Retry,
    SelectTools,
    ConfigureAuth,
    Activate,
}

impl WizardEvent {
    pub fn name(&self) -> &'static str {
        match self {
            WizardEvent::Start => "start",
            WizardEvent::BackgroundSucceeded => "finish generating",
            WizardEvent::BackgroundFailed { .. } => "fail generating",
            WizardEvent::Retry => "retry",
            WizardEvent::SelectTools => "select tools",
            WizardEvent::ConfigureAuth => "configure auth",
            WizardEvent::Activate => "activate",
        }
    }
}

/// A move the current state does not allow. Nothing changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IllegalMove {
    pub event: &'static str,
    pub state: Option<(WizardStep, ProcessingStatus)>,
}

impl fmt::Display for IllegalMove {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            None => write!(f, "cannot {} a wizard that has not started", self.event),
            Some((step, processing)) => write!(
                f,
                "cannot {} now: the wizard is at step `{}` and its background work is `{}`{}",
                self.event,
                step.as_str(),
                processing.as_str(),
                hint(step, processing)
            ),
        }
    }
}

fn hint(step: WizardStep, processing: ProcessingStatus) -> &'static str {
    use {ProcessingStatus::*, WizardStep::*};
    match (step, processing) {
        (Describe, Processing) => "; wait for the tools to be proposed",
        (Describe, Failed) => "; retry generating first",
        (Actions, _) => "; select tools next",
        (Auth, _) => "; configure auth next",
        (Deploy, _) => "; activate next",
        (Complete, _) => "; the server is already live",
        _ => "",
    }
}

impl std::error::Error for IllegalMove {}

/// The wizard's transitions, exactly:
///
/// | step | processing | event | next step | next processing |
/// |---|---|---|---|---|
/// | none | none | start | describe | processing |
/// | describe | processing | background success | actions | idle |
/// | describe | processing | background failure | describe | failed (+ error) |
/// | describe | failed | retry | describe | processing |
/// | actions | idle | select tools | auth | idle |
/// | auth | idle | configure auth | deploy | idle |
/// | deploy | idle | activate | complete | idle |
pub fn transition(current: Option<&WizardState>, event: &WizardEvent) -> Result<WizardState, IllegalMove> {
    use {ProcessingStatus::*, WizardEvent as E, WizardStep::*};
    let at = current.map(|s| (s.step, s.processing));
    let next = match (at, event) {
        (None, E::Start) => WizardState::new(Describe, Processing),
        (Some((Describe, Processing)), E::BackgroundSucceeded) => WizardState::new(Actions, Idle),
        (Some((Describe, Processing)), E::BackgroundFailed { error }) => {
            WizardState { step: Describe, processing: Failed, error: Some(error.clone()) }
        }
        (Some((Describe, Failed)), E::Retry) => WizardState::new(Describe, Processing),
        (Some((Actions, Idle)), E::SelectTools) => WizardState::new(Auth, Idle),
        (Some((Auth, Idle)), E::ConfigureAuth) => WizardState::new(Deploy, Idle),
        (Some((Deploy, Idle)), E::Activate) => WizardState::new(Complete, Idle),
        _ => return Err(IllegalMove { event: event.name(), state: at }),
    };
    Ok(next)
}

/// A proposed tool and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub tool: ToolSpec,
    /// E.g. `operation listPets (GET /pets)`, or `proposed by the LLM`.
    pub source: String,
    /// Relevance to the description (higher is better), when ranked.
    pub score: Option<f64>,
    /// The document operation it was built from ([`OperationInfo::name`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

/// What background generation produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Proposal {
    pub name: String,
    pub description: String,
    /// Best first.
    pub candidates: Vec<Candidate>,
    /// What generation left out and why (e.g. an operation whose schema is
    /// over the size budget).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One operation of a wizard's OpenAPI document (every operation is kept in
/// an index the actions step searches, not only the proposed ones).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OperationInfo {
    /// The tool name it would get (unique in the document).
    pub name: String,
    pub method: crate::spec::HttpMethod,
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl OperationInfo {
    /// Whether it changes or deletes data (PUT, PATCH, DELETE).
    pub fn destructive(&self) -> bool {
        use crate::spec::HttpMethod::*;
        matches!(self.method, Put | Patch | Delete)
    }

    /// Whether every word of `query` occurs in its method, path, name,
    /// summary or tags (case-insensitive).
    pub fn matches(&self, query: &str) -> bool {
        let haystack =
            format!("{} {} {} {} {}", self.method.as_str(), self.path, self.name, self.summary, self.tags.join(" "))
                .to_lowercase();
        query.split_whitespace().all(|word| haystack.contains(&word.to_lowercase()))
    }
}

/// An operation found by a search, and whether it is already proposed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OperationMatch {
    #[serde(flatten)]
    pub operation: OperationInfo,
    pub proposed: bool,
    /// PUT, PATCH or DELETE: it changes or deletes data.
    pub destructive: bool,
}

/// `GET /api/v1/wizard/{id}/operations?q=&offset=&limit=`: a page of the
/// document's operations that match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OperationPage {
    /// Matches in all (the page holds at most `limit` of them).
    pub total: usize,
    pub offset: usize,
    pub operations: Vec<OperationMatch>,
}

/// `POST /api/v1/wizard/{id}/candidates`: adds any operation of the document
/// to the proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddOperation {
    /// The operation's `name` from the search.
    pub operation: String,
}

/// A wizard as its owner sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WizardView {
    pub id: String,
    pub description: String,
    pub openapi_url: Option<String>,
    /// Whether a pasted OpenAPI document was given (it is not echoed back).
    pub has_openapi_document: bool,
    /// Whether every operation of the document can be searched and added
    /// (the document is kept until the wizard finishes).
    #[serde(default)]
    pub searchable: bool,
    pub step: WizardStep,
    pub processing_status: ProcessingStatus,
    pub processing_error: Option<String>,
    pub proposal: Option<Proposal>,
    /// The chosen tools, after the select step.
    pub selected: Vec<ToolSpec>,
    pub client_auth: Option<crate::model::ClientAuth>,
    /// Credential names the selected tools need.
    pub credentials_needed: Vec<String>,
    pub server_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `POST /api/v1/wizard`: what the user wants, optionally with an OpenAPI document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartWizard {
    pub description: String,
    /// Fetched through the SSRF-guarded client.
    #[serde(default)]
    pub openapi_url: Option<String>,
    /// A pasted OpenAPI 3.x or Swagger 2.0 document, JSON or YAML (at most 32 MiB).
    #[serde(default)]
    pub openapi_document: Option<String>,
}

/// One chosen tool, by its proposed name, optionally renamed or redescribed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ToolChoice {
    pub candidate: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SelectTools {
    pub tools: Vec<ToolChoice>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfigureAuth {
    pub client_auth: crate::model::ClientAuth,
    /// Upstream secrets by credential name (write-only; stored encrypted).
    #[serde(default)]
    pub credentials: std::collections::BTreeMap<String, String>,
}

/// The answer to activate: the live server, and its client token (shown once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Activated {
    pub wizard: WizardView,
    pub server: crate::model::ServerView,
    pub token: Option<String>,
}

/// A proposed tool as the actions step shows it: what the browser needs,
/// nothing more (its schema and action stay on the server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateRow {
    /// The proposed tool name: the key a choice refers to.
    pub key: String,
    pub description: String,
    pub method: HttpMethod,
    pub url: String,
    /// "Parameters: a, b" or "No parameters".
    pub parameters: String,
    /// It changes or deletes data (by method or annotation).
    pub destructive: bool,
    /// E.g. `operation listPets (GET /pets)`.
    pub source: String,
}

impl From<&Candidate> for CandidateRow {
    fn from(candidate: &Candidate) -> Self {
        let tool = &candidate.tool;
        CandidateRow {
            key: tool.name.clone(),
            description: tool.description.clone(),
            method: tool.action.method,
            url: tool.action.url.clone(),
            parameters: crate::components::parameters_line(&tool.input_schema),
            destructive: tool.effective_annotations().destructive,
            source: candidate.source.clone(),
        }
    }
}

/// A wizard's server just deployed: what the connect panel needs, and its
/// client token (shown this once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployed {
    pub name: String,
    pub target: crate::pages::ConnectTarget,
    pub token: Option<String>,
}

/// A one-line summary of a tool's action, e.g. `GET https://api.example.com/pets/{id}`.
pub fn action_summary(tool: &ToolSpec) -> String {
    let method: HttpMethod = tool.action.method;
    format!("{} {}", method.as_str(), tool.action.url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProcessingStatus::*;
    use WizardStep::*;

    fn at(step: WizardStep, processing: ProcessingStatus) -> WizardState {
        WizardState::new(step, processing)
    }

    fn failed() -> WizardEvent {
        WizardEvent::BackgroundFailed { error: "boom".into() }
    }

    #[test]
    fn start_begins_processing_at_describe() {
        assert_eq!(transition(None, &WizardEvent::Start), Ok(at(Describe, Processing)));
    }

    #[test]
    fn background_success_moves_to_actions() {
        assert_eq!(
            transition(Some(&at(Describe, Processing)), &WizardEvent::BackgroundSucceeded),
            Ok(at(Actions, Idle))
        );
    }

    #[test]
    fn background_failure_stays_at_describe_with_the_error() {
        let next = transition(Some(&at(Describe, Processing)), &failed()).unwrap();
        assert_eq!(next, WizardState { step: Describe, processing: Failed, error: Some("boom".into()) });
    }

    #[test]
    fn retry_after_failure_processes_again_and_clears_the_error() {
        let failed_state = WizardState { step: Describe, processing: Failed, error: Some("boom".into()) };
        assert_eq!(transition(Some(&failed_state), &WizardEvent::Retry), Ok(at(Describe, Processing)));
    }

    #[test]
    fn selecting_tools_moves_to_auth() {
        assert_eq!(transition(Some(&at(Actions, Idle)), &WizardEvent::SelectTools), Ok(at(Auth, Idle)));
    }

    #[test]
    fn configuring_auth_moves_to_deploy() {
        assert_eq!(transition(Some(&at(Auth, Idle)), &WizardEvent::ConfigureAuth), Ok(at(Deploy, Idle)));
    }

    #[test]
    fn activating_completes() {
        assert_eq!(transition(Some(&at(Deploy, Idle)), &WizardEvent::Activate), Ok(at(Complete, Idle)));
    }

    /// Every (state, event) pair outside the table is refused, naming the state.
    #[test]
    fn every_other_move_is_refused() {
        let events = [
            WizardEvent::Start,
            WizardEvent::BackgroundSucceeded,
            failed(),
            WizardEvent::Retry,
            WizardEvent::SelectTools,
            WizardEvent::ConfigureAuth,
            WizardEvent::Activate,
        ];
        let legal = [
            (None, "start"),
            (Some((Describe, Processing)), "finish generating"),
            (Some((Describe, Processing)), "fail generating"),
            (Some((Describe, Failed)), "retry"),
            (Some((Actions, Idle)), "select tools"),
            (Some((Auth, Idle)), "configure auth"),
            (Some((Deploy, Idle)), "activate"),
        ];
        let mut states: Vec<Option<WizardState>> = vec![None];
        for step in WizardStep::ALL {
            for processing in ProcessingStatus::ALL {
                states.push(Some(at(step, processing)));
            }
        }
        let mut refused = 0;
        for state in &states {
            for event in &events {
                let key = state.as_ref().map(|s| (s.step, s.processing));
                let result = transition(state.as_ref(), event);
                if legal.contains(&(key, event.name())) {
                    assert!(result.is_ok(), "{key:?} + {}", event.name());
                } else {
                    let error = result.unwrap_err();
                    assert_eq!(error.state, key);
                    let text = error.to_string();
                    assert!(text.contains(event.name()), "{text}");
                    if let Some((step, processing)) = key {
                        assert!(text.contains(step.as_str()) && text.contains(processing.as_str()), "{text}");
                    }
                    refused += 1;
                }
            }
        }
        assert_eq!(refused, states.len() * events.len() - legal.len());
    }

    #[test]
    fn refusals_read_well() {
        let e = transition(Some(&at(Describe, Processing)), &WizardEvent::Retry).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot retry now: the wizard is at step `describe` and its background work is `processing`; wait for the tools to be proposed"
        );
        let e = transition(Some(&at(Complete, Idle)), &WizardEvent::Activate).unwrap_err();
        assert!(e.to_string().ends_with("the server is already live"));
    }
}
