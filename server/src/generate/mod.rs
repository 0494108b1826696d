//! Background generation: from a description (and optionally an OpenAPI
//! document) to a [`Proposal`] of tools.
//!
//! - With an OpenAPI document, its operations become candidates, ranked by
//!   BM25 against the description; an LLM, when configured, then chooses and
//!   refines among them (it cannot invent endpoints).
//! - With only a description, the LLM proposes actions in our spec format.
//! - Whatever the LLM says goes through the same spec validation as
//!   everything else; an invalid answer gets one repair round.

pub mod llm;
pub mod openapi;

use crate::engine::outbound::Outbound;
use app::spec::{ServerSpec, SpecLimits, ToolSpec, validate};
use app::wizard::{Candidate, Proposal};
use llm::{Llm, Turn, json_in};
use serde_json::{Value, json};

/// How many candidates a proposal offers at most.
pub const MAX_CANDIDATES: usize = 20;
/// How many operations the LLM is shown to choose from.
const LLM_CHOICES: usize = 30;

/// What the user gave.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub description: String,
    pub openapi_url: Option<String>,
    pub openapi_document: Option<String>,
}

/// Produces a proposal, or a message saying what went wrong.
pub async fn generate(request: &Request, outbound: &Outbound, llm: Option<&Llm>) -> Result<Proposal, String> {
    let has_openapi = request.openapi_url.is_some() || request.openapi_document.is_some();
    if !has_openapi && llm.is_none() {
        return Err("nothing to generate tools from: give an OpenAPI document (a URL or pasted), or ask the operator \
                    to configure an LLM (AUTOMCP_LLM_BASE_URL and AUTOMCP_LLM_MODEL)"
            .into());
    }
    let imported = if has_openapi { Some(load_openapi(request, outbound).await?) } else { None };
    match (imported, llm) {
        (Some(imported), None) => Ok(from_openapi(&request.description, imported)),
        (Some(imported), Some(llm)) => refine_with_llm(&request.description, imported, llm).await,
        (None, Some(llm)) => invent_with_llm(&request.description, llm).await,
        (None, None) => unreachable!("checked above"),
    }
}

async fn load_openapi(request: &Request, outbound: &Outbound) -> Result<openapi::Imported, String> {
    let (text, url) = match (&request.openapi_document, &request.openapi_url) {
        (Some(text), _) => (text.clone(), None),
        (None, Some(url)) => {
            let parsed = url::Url::parse(url).map_err(|e| format!("the OpenAPI URL `{url}` is not valid: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("the OpenAPI URL must be http or https, not `{}`", parsed.scheme()));
            }
            let fetch = outbound
                .client()
                .get(parsed.clone())
                .header("accept", "application/json, application/yaml, text/yaml, */*");
            let fetch = fetch.build().map_err(|e| format!("could not request {url}: {e}"))?;
            let response = outbound
                .send_with_limit(fetch, openapi::MAX_DOCUMENT_BYTES)
                .await
                .map_err(|e| format!("could not fetch the OpenAPI document from {url}: {e}"))?;
            if !response.status.is_success() {
                return Err(format!("fetching the OpenAPI document from {url} answered {}", response.status));
            }
            let text = String::from_utf8(response.body.to_vec())
                .map_err(|_| format!("the document at {url} is not UTF-8 text"))?;
            (text, Some(parsed))
        }
        (None, None) => unreachable!("only called with a document or a URL"),
    };
    let doc = openapi::parse_document(&text)?;
    openapi::import(&doc, url.as_ref())
}

/// Candidates from the document alone, best match first.
fn from_openapi(description: &str, imported: openapi::Imported) -> Proposal {
    let texts: Vec<&str> = imported.operations.iter().map(|o| o.text.as_str()).collect();
    let ranked = openapi::rank(description, &texts);
    let candidates = ranked
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(i, score)| {
            let op = &imported.operations[i];
            Candidate {
                tool: op.tool.clone(),
                source: op.source.clone(),
                score: Some((score * 1000.0).round() / 1000.0),
            }
        })
        .collect();
    Proposal { name: imported.title, description: imported.description, candidates }
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
   "body": {"type": "json", "value": {"text": "{text}"}},  // optional, not for GET; or {"type": "form", "fields": [...]}
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
        check_tools(&tools)?;
        let candidates = tools
            .into_iter()
            .map(|tool| Candidate { tool, source: format!("proposed by {}", llm.model()), score: None })
            .collect();
        Ok(Proposal { name, description: summary, candidates })
    };
    ask_with_repair(llm, &mut turns, check).await
}

/// Asks the LLM to choose and refine among the document's operations.
async fn refine_with_llm(description: &str, imported: openapi::Imported, llm: &Llm) -> Result<Proposal, String> {
    let texts: Vec<&str> = imported.operations.iter().map(|o| o.text.as_str()).collect();
    let ranked = openapi::rank(description, &texts);
    let shown: Vec<usize> = ranked.iter().take(LLM_CHOICES).map(|(i, _)| *i).collect();
    let listing: Vec<Value> = shown
        .iter()
        .map(|&i| {
            let tool = &imported.operations[i].tool;
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
        imported.title,
        serde_json::to_string_pretty(&listing).unwrap_or_default()
    );
    let mut turns = vec![Turn { role: "system", content: system }, Turn { role: "user", content: user }];
    let operations = &imported.operations;
    let check = |value: &Value| -> Result<Proposal, String> {
        let picks = value.get("tools").and_then(Value::as_array).ok_or("the answer has no `tools` list")?;
        if picks.is_empty() {
            return Err("the answer chooses no tools".into());
        }
        let mut chosen = Vec::new();
        let mut tools = Vec::new();
        for (i, pick) in picks.iter().enumerate() {
            let operation =
                pick.get("operation").and_then(Value::as_str).ok_or(format!("tools[{i}] names no `operation`"))?;
            let index = operations
                .iter()
                .position(|o| o.tool.name == operation)
                .ok_or(format!("tools[{i}]: `{operation}` is not one of the listed operations"))?;
            let mut tool = operations[index].tool.clone();
            if let Some(name) = pick.get("name").and_then(Value::as_str) {
                tool.name = name.to_owned();
            }
            if let Some(text) = pick.get("description").and_then(Value::as_str).filter(|t| !t.trim().is_empty()) {
                tool.description = text.to_owned();
            }
            chosen.push(index);
            tools.push((tool, format!("{}, chosen by {}", operations[index].source, llm.model())));
        }
        check_tools(&tools.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>())?;
        let mut candidates: Vec<Candidate> =
            tools.into_iter().map(|(tool, source)| Candidate { tool, source, score: None }).collect();
        // The rest of the ranked operations stay available to pick by hand.
        for (i, score) in &ranked {
            if candidates.len() >= MAX_CANDIDATES {
                break;
            }
            if chosen.contains(i) || candidates.iter().any(|c| c.tool.name == operations[*i].tool.name) {
                continue;
            }
            let op = &operations[*i];
            candidates.push(Candidate {
                tool: op.tool.clone(),
                source: op.source.clone(),
                score: Some((score * 1000.0).round() / 1000.0),
            });
        }
        let name =
            value.get("name").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| imported.title.clone());
        let summary = value.get("description").and_then(Value::as_str).unwrap_or(&imported.description).to_owned();
        Ok(Proposal { name, description: summary, candidates })
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
