//! Background generation: from a description (and optionally an OpenAPI
//! document) to a [`Proposal`] of tools.
//!
//! - With an OpenAPI document, its operations become candidates, ranked by
//!   BM25 against the description; an LLM, when configured, then chooses and
//!   refines among them (it cannot invent endpoints).
//! - With only a description, the LLM proposes actions in our spec format.
//! - Whatever the LLM says goes through the same spec validation as
//!   everything else; an invalid answer gets one repair round.

pub mod budget;
pub mod llm;
pub mod openapi;
pub mod rank;

use crate::engine::outbound::Outbound;
use app::spec::{ServerSpec, SpecLimits, ToolSpec, validate};
use app::wizard::{Candidate, OperationInfo, Proposal};
use budget::{Budget, IMPORT_TIME, MAX_DOCUMENT_BYTES};
use llm::{Llm, Turn, json_in};
use openapi::Prepared;
use serde_json::{Value, json};

/// How many candidates a proposal offers at most.
pub const MAX_CANDIDATES: usize = 20;
/// How many operations the LLM is shown to choose from.
const LLM_CHOICES: usize = 30;
/// Stack of the thread that imports a document: schemas nest and reference
/// each other, and the importer follows them recursively (within budgets).
const IMPORT_STACK_BYTES: usize = 64 * 1024 * 1024;

/// What the user gave.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub description: String,
    pub openapi_url: Option<String>,
    pub openapi_document: Option<String>,
}

/// What generation produced.
#[derive(Debug)]
pub struct Generated {
    pub proposal: Proposal,
    /// The document's text when it was fetched by URL (so it can be kept).
    pub fetched: Option<String>,
    /// Every operation of the document (empty without one).
    pub operations: Vec<OperationInfo>,
}

/// Produces a proposal, or a message saying what went wrong.
///
/// `imports` bounds how many documents are parsed at once across all jobs
/// (parsing is what takes memory).
pub async fn generate(
    request: &Request,
    outbound: &Outbound,
    llm: Option<&Llm>,
    imports: &tokio::sync::Semaphore,
) -> Result<Generated, String> {
    let has_openapi = request.openapi_url.is_some() || request.openapi_document.is_some();
    if !has_openapi && llm.is_none() {
        return Err("nothing to generate tools from: give an OpenAPI document (a URL or pasted), or ask the operator \
                    to configure an LLM (AUTOMCP_LLM_BASE_URL and AUTOMCP_LLM_MODEL)"
            .into());
    }
    let want = if llm.is_some() { LLM_CHOICES } else { MAX_CANDIDATES };
    let (prepared, fetched) = match has_openapi {
        true => {
            let (prepared, fetched) = load_openapi(request, outbound, want, imports).await?;
            (Some(prepared), fetched)
        }
        false => (None, None),
    };
    let operations = prepared.as_ref().map(|p| p.operations.clone()).unwrap_or_default();
    let proposal = match (prepared, llm) {
        (Some(prepared), None) => from_openapi(prepared),
        (Some(prepared), Some(llm)) => refine_with_llm(&request.description, prepared, llm).await?,
        (None, Some(llm)) => invent_with_llm(&request.description, llm).await?,
        (None, None) => unreachable!("checked above"),
    };
    Ok(Generated { proposal, fetched, operations })
}

/// Imports the document; gives back its text when it was fetched.
async fn load_openapi(
    request: &Request,
    outbound: &Outbound,
    want: usize,
    imports: &tokio::sync::Semaphore,
) -> Result<(Prepared, Option<String>), String> {
    let (text, url) = match (&request.openapi_document, &request.openapi_url) {
        (Some(text), _) => (text.clone(), None),
        (None, Some(url)) => fetch_document(url, outbound).await?,
        (None, None) => unreachable!("only called with a document or a URL"),
    };
    let fetched = url.is_some();
    let description = request.description.clone();
    let _permit = imports.acquire().await.map_err(|_| "the server is shutting down".to_owned())?;
    let (prepared, text) = import_off_thread(move || {
        let prepared = openapi::prepare(&text, url.as_ref(), &description, want, &mut Budget::new(IMPORT_TIME))?;
        Ok((prepared, text))
    })
    .await?;
    Ok((prepared, fetched.then_some(text)))
}

/// Builds one named operation of a document (to add it to a proposal).
pub async fn build_operation(
    text: String,
    document_url: Option<url::Url>,
    name: String,
    imports: &tokio::sync::Semaphore,
) -> Result<Candidate, String> {
    let _permit = imports.acquire().await.map_err(|_| "the server is shutting down".to_owned())?;
    let built = import_off_thread(move || {
        openapi::build_named(&text, document_url.as_ref(), &name, &mut Budget::new(IMPORT_TIME))
    })
    .await?;
    check_tools(std::slice::from_ref(&built.tool))?;
    Ok(Candidate { operation: Some(built.tool.name.clone()), tool: built.tool, source: built.source, score: None })
}

async fn fetch_document(url: &str, outbound: &Outbound) -> Result<(String, Option<url::Url>), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("the OpenAPI URL `{url}` is not valid: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("the OpenAPI URL must be http or https, not `{}`", parsed.scheme()));
    }
    let fetch =
        outbound.client().get(parsed.clone()).header("accept", "application/json, application/yaml, text/yaml, */*");
    let fetch = fetch.build().map_err(|e| format!("could not request {url}: {e}"))?;
    let response = outbound
        .send_with_limit(fetch, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|e| format!("could not fetch the OpenAPI document from {url}: {e}"))?;
    if !response.status.is_success() {
        return Err(format!("fetching the OpenAPI document from {url} answered {}", response.status));
    }
    let text =
        String::from_utf8(response.body.to_vec()).map_err(|_| format!("the document at {url} is not UTF-8 text"))?;
    Ok((text, Some(parsed)))
}

/// Runs the importer on its own thread (with a stack for deep documents),
/// never on the async workers that serve every tenant's requests. The
/// importer keeps to its own time budget, so the thread always ends.
async fn import_off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("automcp-import".into())
        .stack_size(IMPORT_STACK_BYTES)
        .spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
        })
        .map_err(|e| format!("could not start reading the document: {e}"))?;
    match rx.await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) | Err(_) => {
            tracing::error!("the document importer panicked");
            Err("reading the document failed on our side; it has been logged".into())
        }
    }
}

/// Candidates from the document alone, best match first.
fn from_openapi(prepared: Prepared) -> Proposal {
    let candidates = prepared
        .ranked
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(op, score)| Candidate {
            operation: Some(op.tool.name.clone()),
            tool: op.tool,
            source: op.source,
            score: Some(rounded(score)),
        })
        .collect();
    Proposal { name: prepared.title, description: prepared.description, candidates, notes: prepared.notes }
}

fn rounded(score: f64) -> f64 {
    (score * 1000.0).round() / 1000.0
}

const FORMAT: &str = r#"A tool is a JSON object:
{"name": "get_forecast",                       // 1-64 of A-Z a-z 0-9 _ -, unique
 "description": "What it does, for the model choosing tools",
 "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
 "action": {
   "method": "GET",                            // GET POST PUT PATCH DELETE
   "url": "https://api.example.com/v1/forecast/{city}",   // absolute; {arg} only in the path; path args must be required
   "query": [{"name": "units", "value": "{units}"}],       // optional
   "headers": [{"name": "Accept", "value": "application/json"}],  // optional; never Authorization
   "body": {"type": "json", "value": {"text": "{text}"}},  // optional, not for GET; or {"type": "form", "fields": [...]}, {"type": "multipart", "parts": [...]}
   "auth": {"credential": "api_key", "placement": {"in": "header", "name": "X-Api-Key"}}  // optional; "in": bearer|header|query|basic
 }}
Every {placeholder} must be a property of input_schema."#;

/// Asks the LLM to propose actions from a description alone.
async fn invent_with_llm(description: &str, llm: &Llm) -> Result<Proposal, String> {
    let system = format!(
        "You design MCP servers whose tools are calls to real HTTP APIs. Answer with one JSON object \
         {{\"name\": \"Server name\", \"description\": \"one sentence\", \"tools\": [tool, ...]}} and nothing else. \
         Propose 1 to 10 tools, using only real, documented public API endpoints.\n{FORMAT}"
    );
    let mut turns =
        vec![Turn { role: "system", content: system }, Turn { role: "user", content: description.to_owned() }];
    let check = |value: &Value| -> Result<Proposal, String> {
        let name = value.get("name").and_then(Value::as_str).unwrap_or("My server").to_owned();
        let summary = value.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
        let tools: Vec<ToolSpec> = serde_json::from_value(value.get("tools").cloned().unwrap_or(Value::Null))
            .map_err(|e| format!("`tools` is not a list of tools in our format: {e}"))?;
        if tools.is_empty() {
            return Err("the answer proposes no tools".into());
        }
        if tools.len() > MAX_CANDIDATES {
            return Err(format!("the answer proposes {} tools; propose at most 10", tools.len()));
        }
        check_tools(&tools)?;
        let candidates = tools
            .into_iter()
            .map(|tool| Candidate {
                tool,
                source: format!("proposed by {}", llm.model()),
                score: None,
                operation: None,
            })
            .collect();
        Ok(Proposal { name, description: summary, candidates, notes: Vec::new() })
    };
    ask_with_repair(llm, &mut turns, check).await
}

/// Asks the LLM to choose and refine among the document's best operations.
async fn refine_with_llm(description: &str, prepared: Prepared, llm: &Llm) -> Result<Proposal, String> {
    let operations = &prepared.ranked;
    let listing: Vec<Value> = operations
        .iter()
        .map(|(op, _)| {
            let tool = &op.tool;
            json!({
                "operation": tool.name,
                "request": app::wizard::action_summary(tool),
                "description": tool.description,
                "arguments": tool.input_schema.get("properties").map(|p| p.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>())),
            })
        })
        .collect();
    let system = "You choose tools for an MCP server from an API's operations. Answer with one JSON object \
        {\"name\": \"Server name\", \"description\": \"one sentence\", \"tools\": [{\"operation\": \"<operation from the list>\", \
        \"name\": \"short_tool_name\", \"description\": \"what it does, for a model choosing tools\"}]} and nothing else. \
        Choose 1 to 10 operations that serve the user's request, best first. Use only operations from the list."
        .to_owned();
    let user = format!(
        "The user wants: {description}\n\nOperations of {}:\n{}",
        prepared.title,
        serde_json::to_string_pretty(&listing).unwrap_or_default()
    );
    let mut turns = vec![Turn { role: "system", content: system }, Turn { role: "user", content: user }];
    let check = |value: &Value| -> Result<Proposal, String> {
        let picks = value.get("tools").and_then(Value::as_array).ok_or("the answer has no `tools` list")?;
        if picks.is_empty() {
            return Err("the answer chooses no tools".into());
        }
        if picks.len() > MAX_CANDIDATES {
            return Err(format!("the answer chooses {} tools; choose at most 10", picks.len()));
        }
        let mut chosen = Vec::new();
        let mut tools = Vec::new();
        for (i, pick) in picks.iter().enumerate() {
            let operation =
                pick.get("operation").and_then(Value::as_str).ok_or(format!("tools[{i}] names no `operation`"))?;
            let index = operations
                .iter()
                .position(|(o, _)| o.tool.name == operation)
                .ok_or(format!("tools[{i}]: `{operation}` is not one of the listed operations"))?;
            let mut tool = operations[index].0.tool.clone();
            if let Some(name) = pick.get("name").and_then(Value::as_str) {
                tool.name = name.to_owned();
            }
            if let Some(text) = pick.get("description").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) {
                tool.description = text.chars().take(1000).collect();
            }
            chosen.push(index);
            let source = format!("{}, chosen by {}", operations[index].0.source, llm.model());
            tools.push((tool, source, operations[index].0.tool.name.clone()));
        }
        check_tools(&tools.iter().map(|(t, _, _)| t.clone()).collect::<Vec<_>>())?;
        let mut candidates: Vec<Candidate> = tools
            .into_iter()
            .map(|(tool, source, operation)| Candidate { tool, source, score: None, operation: Some(operation) })
            .collect();
        // The rest of the ranked operations stay available to pick by hand.
        for (i, (op, score)) in operations.iter().enumerate() {
            if candidates.len() >= MAX_CANDIDATES {
                break;
            }
            if chosen.contains(&i) || candidates.iter().any(|c| c.tool.name == op.tool.name) {
                continue;
            }
            candidates.push(Candidate {
                tool: op.tool.clone(),
                source: op.source.clone(),
                score: Some(rounded(*score)),
                operation: Some(op.tool.name.clone()),
            });
        }
        let name =
            value.get("name").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| prepared.title.clone());
        let summary = value.get("description").and_then(Value::as_str).unwrap_or(&prepared.description).to_owned();
        Ok(Proposal { name, description: summary, candidates, notes: prepared.notes.clone() })
    };
    ask_with_repair(llm, &mut turns, check).await
}

/// Validates tools as a spec would be validated (no tier limit: selection comes later).
fn check_tools(tools: &[ToolSpec]) -> Result<(), String> {
    let spec = ServerSpec {
        version: app::spec::SPEC_VERSION,
        name: "draft".into(),
        slug: "draft".into(),
        description: String::new(),
        tools: tools.to_vec(),
    };
    let issues = validate(&spec, SpecLimits::UNLIMITED);
    if issues.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = issues.iter().map(ToString::to_string).collect();
    Err(format!("the tools are not valid: {}", list.join("; ")))
}

/// Asks, checks the answer, and on a problem asks once more with the problem
/// stated. Fails with a readable message after that.
async fn ask_with_repair<T>(
    llm: &Llm,
    turns: &mut Vec<Turn>,
    check: impl Fn(&Value) -> Result<T, String>,
) -> Result<T, String> {
    let mut last_problem = String::new();
    for round in 0..2 {
        let answer = llm.chat(turns).await.map_err(|e| e.to_string())?;
        let problem = match json_in(&answer).and_then(|value| check(&value)) {
            Ok(result) => return Ok(result),
            Err(problem) => problem,
        };
        tracing::info!(round, %problem, "LLM answer rejected");
        turns.push(Turn { role: "assistant", content: answer });
        turns.push(Turn {
            role: "user",
            content: format!("That answer cannot be used: {problem}. Reply again with the corrected JSON object only."),
        });
        last_problem = problem;
    }
    Err(format!("the LLM's answer was not usable, even after a correction: {last_problem}"))
}

/// The proposal as it is stored: serialized, within [`budget::MAX_PROPOSAL_BYTES`],
/// and proven to read back (so a stored wizard can always be shown).
pub fn stored_proposal(proposal: &Proposal) -> Result<String, String> {
    let text = serde_json::to_string(proposal).map_err(|e| format!("the proposal could not be stored: {e}"))?;
    if text.len() > budget::MAX_PROPOSAL_BYTES {
        return Err(format!(
            "the proposed tools take {} KiB; at most {} KiB can be stored",
            text.len() / 1024,
            budget::MAX_PROPOSAL_BYTES / 1024
        ));
    }
    serde_json::from_str::<Proposal>(&text).map_err(|e| format!("the proposal would not read back ({e})"))?;
    Ok(text)
}
