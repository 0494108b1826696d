//! OpenAPI 3.0/3.1 and Swagger 2.0 (JSON or YAML) to candidate tools.
//!
//! Pure and bounded: [`prepare`] parses a document, scans its operations
//! (cheap: names and text only), ranks them against the user's description
//! and builds tools only for the best few. Every step stays within the
//! budgets of [`crate::generate::budget`]; an operation whose schema is too
//! large is left out with a note, and a document over a budget fails with a
//! message that says which budget and where.

mod encoding;
mod naming;
pub mod operation;
mod refs;
pub mod sample;
mod schema;

use crate::generate::budget::{
    Budget, MAX_DOCUMENT_BYTES, MAX_OPERATIONS, MAX_PROPOSAL_BYTES, MAX_SKIPPED, MAX_TOOL_BYTES,
};
use crate::generate::rank::{Ranked, rank_operations};
use app::spec::HttpMethod;
use app::wizard::OperationInfo;
use naming::Names;
use operation::{DocContext, Flavour, OpRef, Operation};
use refs::deref;
use schema::{Failure, Schemas};
use serde_json::Value;

/// A document's best operations, built into tools, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    pub title: String,
    pub description: String,
    /// Built candidates with their ranking score.
    pub ranked: Vec<(Operation, f64)>,
    /// Operations left out, and why.
    pub notes: Vec<String>,
    /// Every operation of the document, in document order (what the wizard
    /// searches).
    pub operations: Vec<OperationInfo>,
}

/// Parses JSON, or YAML when it is not JSON.
pub fn parse_document(text: &str) -> Result<Value, String> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(format!("the OpenAPI document is larger than {} MiB", MAX_DOCUMENT_BYTES >> 20));
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("the OpenAPI document is not valid JSON: {e}"));
    }
    serde_yaml_ng::from_str::<Value>(text)
        .map_err(|e| format!("the OpenAPI document is neither JSON nor valid YAML: {e}"))
}

/// Parses, scans, ranks against `description` and builds the best `want`
/// operations. `document_url`, when the document was fetched, resolves
/// relative server URLs.
pub fn prepare(
    text: &str,
    document_url: Option<&url::Url>,
    description: &str,
    want: usize,
    budget: &mut Budget,
) -> Result<Prepared, String> {
    let doc = parse_document(text)?;
    budget.check()?;
    let scanned = scan(&doc, document_url, budget)?;
    let ops: Vec<Ranked<'_>> =
        scanned.operations.iter().map(|o| Ranked { text: &o.text, method: o.method, path: o.path }).collect();
    let order = rank_operations(description, &ops);
    budget.check()?;
    let (ranked, notes) = build_best(&scanned, &order, want, budget)?;
    let operations = scanned.operations.iter().map(OpRef::info).collect();
    Ok(Prepared { title: scanned.title, description: scanned.description, ranked, notes, operations })
}

/// Builds the operation named `name` (as [`OperationInfo::name`] gives it).
pub fn build_named(
    text: &str,
    document_url: Option<&url::Url>,
    name: &str,
    budget: &mut Budget,
) -> Result<Operation, String> {
    let doc = parse_document(text)?;
    let scanned = scan(&doc, document_url, budget)?;
    let op = scanned
        .operations
        .iter()
        .find(|op| op.name == name)
        .ok_or_else(|| format!("the document has no operation `{name}`"))?;
    let mut schemas = Schemas::new(scanned.cx.doc);
    operation::build(&scanned.cx, op, &mut schemas, budget).map_err(|failure| match failure {
        Failure::TooLarge(why) => format!("`{name}` cannot be a tool: {why}"),
        Failure::Time(why) => why,
    })
}

/// What a scan finds: the document's shared parts and every operation.
pub struct Scanned<'d> {
    pub title: String,
    pub description: String,
    pub cx: DocContext<'d>,
    pub operations: Vec<OpRef<'d>>,
}

const METHODS: [(&str, HttpMethod); 5] = [
    ("get", HttpMethod::Get),
    ("post", HttpMethod::Post),
    ("put", HttpMethod::Put),
    ("patch", HttpMethod::Patch),
    ("delete", HttpMethod::Delete),
];

/// Finds every operation, names it and keeps the text to rank it by.
pub fn scan<'d>(doc: &'d Value, document_url: Option<&url::Url>, budget: &mut Budget) -> Result<Scanned<'d>, String> {
    let flavour = if doc.get("swagger").and_then(Value::as_str).is_some_and(|v| v.starts_with("2.")) {
        Flavour::Swagger2
    } else if doc.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with('3')) {
        Flavour::OpenApi3
    } else {
        return Err("not an OpenAPI document: expected `openapi: 3.x` or `swagger: \"2.0\"` at the top".into());
    };
    let info = doc.get("info").unwrap_or(&Value::Null);
    let title = info.get("title").and_then(Value::as_str).unwrap_or("API").chars().take(100).collect();
    let description = info.get("description").and_then(Value::as_str).unwrap_or_default().chars().take(2000).collect();
    let base = base_url(doc, flavour, document_url)?;
    let schemes = doc
        .get("components")
        .and_then(|c| c.get("securitySchemes"))
        .or_else(|| doc.get("securityDefinitions"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let paths = doc.get("paths").and_then(Value::as_object).ok_or("the document has no `paths`")?;

    let mut operations = Vec::new();
    let mut names = Names::default();
    for (path, item) in paths {
        let item = deref(doc, item)?;
        let shared = item.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (key, method) in METHODS {
            let Some(op) = item.get(key) else { continue };
            budget.tick()?;
            if operations.len() == MAX_OPERATIONS {
                return Err(format!(
                    "the document describes more than {MAX_OPERATIONS} operations; paste a smaller document with only \
                     the endpoints you need"
                ));
            }
            operations.push(OpRef::new(path, method, deref(doc, op)?, shared, &mut names));
        }
    }
    if operations.is_empty() {
        return Err("the document describes no GET, POST, PUT, PATCH or DELETE operations".into());
    }
    let cx = DocContext { doc, flavour, base, schemes, global_security: doc.get("security") };
    Ok(Scanned { title, description, cx, operations })
}

/// Built candidates with their scores, and notes on what was left out.
type Built = (Vec<(Operation, f64)>, Vec<String>);

/// Builds operations in `order` until `want` are built. An operation over a
/// size budget is left out with a note; after [`MAX_SKIPPED`] such
/// operations the search stops. Fails when nothing could be built.
fn build_best(
    scanned: &Scanned<'_>,
    order: &[(usize, f64)],
    want: usize,
    budget: &mut Budget,
) -> Result<Built, String> {
    let mut schemas = Schemas::new(scanned.cx.doc);
    let mut built = Vec::new();
    let mut notes = Vec::new();
    let mut bytes = 0;
    for &(index, score) in order {
        if built.len() == want || notes.len() == MAX_SKIPPED {
            break;
        }
        let op = &scanned.operations[index];
        let why = match operation::build(&scanned.cx, op, &mut schemas, budget) {
            Ok(operation) => {
                bytes += serde_json::to_vec(&operation.tool).map(|v| v.len()).unwrap_or(MAX_TOOL_BYTES);
                if bytes <= MAX_PROPOSAL_BYTES - MAX_TOOL_BYTES {
                    built.push((operation, score));
                    continue;
                }
                format!("the proposal is full ({} KiB of tools)", MAX_PROPOSAL_BYTES / 1024)
            }
            Err(Failure::TooLarge(why)) => why,
            Err(Failure::Time(why)) => return Err(why),
        };
        notes.push(format!("left out `{}` ({} {}): {why}", op.name, op.method.as_str(), op.path));
    }
    if built.is_empty() {
        let first = notes.first().cloned().unwrap_or_else(|| "nothing to build".into());
        return Err(format!("no operation of the document could be turned into a tool: {first}"));
    }
    Ok((built, notes))
}

fn base_url(doc: &Value, flavour: Flavour, document_url: Option<&url::Url>) -> Result<String, String> {
    let raw = match flavour {
        Flavour::Swagger2 => {
            let host = doc.get("host").and_then(Value::as_str);
            let base_path = doc.get("basePath").and_then(Value::as_str).unwrap_or("");
            let scheme = doc
                .get("schemes")
                .and_then(Value::as_array)
                .and_then(|s| {
                    let s: Vec<&str> = s.iter().filter_map(Value::as_str).collect();
                    s.iter().find(|x| **x == "https").or(s.first()).map(|x| x.to_string())
                })
                .unwrap_or_else(|| "https".into());
            match host {
                Some(host) => format!("{scheme}://{host}{base_path}"),
                None => base_path.to_owned(),
            }
        }
        Flavour::OpenApi3 => match doc.get("servers").and_then(Value::as_array).and_then(|s| s.first()) {
            None => "/".to_owned(),
            Some(server) => {
                let mut url = server.get("url").and_then(Value::as_str).unwrap_or("/").to_owned();
                if let Some(vars) = server.get("variables").and_then(Value::as_object) {
                    for (name, var) in vars {
                        let default = var.get("default").and_then(Value::as_str).unwrap_or_default();
                        url = url.replace(&format!("{{{name}}}"), default);
                    }
                }
                url
            }
        },
    };
    if raw.starts_with("http://") || raw.starts_with("https://") {
        return Ok(raw.trim_end_matches('/').to_owned());
    }
    match document_url {
        Some(doc_url) => doc_url
            .join(&raw)
            .map(|u| u.to_string().trim_end_matches('/').to_owned())
            .map_err(|e| format!("the server URL `{raw}` cannot be resolved against {doc_url}: {e}")),
        None => Err(format!(
            "the document's server URL `{raw}` is relative; give the document by URL, or add an absolute `servers` entry"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn prepare_json(doc: &Value, want: usize) -> Result<Prepared, String> {
        prepare(&doc.to_string(), None, "anything", want, &mut Budget::new(Duration::from_secs(10)))
    }

    #[test]
    fn documents_parse_as_json_or_yaml_and_say_what_is_wrong() {
        assert_eq!(parse_document("openapi: 3.1.0\ninfo: {title: x}").unwrap()["openapi"], "3.1.0");
        assert!(parse_document("{ not json").unwrap_err().contains("not valid JSON"));
        assert!(prepare_json(&json!({"info": {}}), 5).unwrap_err().contains("not an OpenAPI document"));
        let relative = json!({"openapi": "3.0.0", "servers": [{"url": "/v1"}], "paths": {"/x": {"get": {}}}});
        assert!(prepare_json(&relative, 5).unwrap_err().contains("relative"));
    }

    #[test]
    fn only_the_best_operations_are_built() {
        let mut paths = serde_json::Map::new();
        for i in 0..100 {
            paths.insert(format!("/things/{i}"), json!({"get": {"operationId": format!("getThing{i}")}}));
        }
        let doc = json!({"openapi": "3.0.0", "servers": [{"url": "https://api.example.com"}], "paths": paths});
        let prepared = prepare_json(&doc, 5).unwrap();
        assert_eq!(prepared.ranked.len(), 5);
        assert!(prepared.notes.is_empty());
    }

    #[test]
    fn an_operation_over_budget_is_left_out_with_a_note() {
        let huge: Vec<Value> = (0..20_000).map(|i| json!(i)).collect();
        let doc = json!({"openapi": "3.0.0", "servers": [{"url": "https://api.example.com"}], "paths": {
            "/big": {"get": {"operationId": "big", "parameters": [
                {"name": "v", "in": "query", "schema": {"type": "integer", "enum": huge}}]}},
            "/small": {"get": {"operationId": "small"}}}});
        let prepared = prepare_json(&doc, 5).unwrap();
        assert_eq!(prepared.ranked.len(), 1);
        assert_eq!(prepared.ranked[0].0.tool.name, "small");
        assert!(prepared.notes[0].starts_with("left out `big` (GET /big): its arguments' schema grows past"));
    }

    #[test]
    fn a_document_whose_every_operation_is_over_budget_fails_saying_why() {
        let huge: Vec<Value> = (0..20_000).map(|i| json!(i)).collect();
        let doc = json!({"openapi": "3.0.0", "servers": [{"url": "https://api.example.com"}],
            "components": {"schemas": {"Huge": {"type": "integer", "enum": huge}}},
            "paths": {"/big": {"get": {"operationId": "big", "parameters": [
                {"name": "v", "in": "query", "schema": {"$ref": "#/components/schemas/Huge"}}]}}}});
        let error = prepare_json(&doc, 5).unwrap_err();
        assert!(error.contains("no operation of the document could be turned into a tool"), "{error}");
        assert!(error.contains("at `#/components/schemas/Huge`"), "{error}");
    }

    #[test]
    fn too_many_operations_are_refused() {
        let mut paths = serde_json::Map::new();
        for i in 0..=MAX_OPERATIONS {
            paths.insert(format!("/t{i}"), json!({"get": {}}));
        }
        let doc = json!({"openapi": "3.0.0", "servers": [{"url": "https://api.example.com"}], "paths": paths});
        assert!(prepare_json(&doc, 5).unwrap_err().contains("more than 10000 operations"));
    }
}
