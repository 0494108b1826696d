//! OpenAPI 3.0/3.1 and Swagger 2.0 (JSON or YAML) to candidate tools.
//!
//! Pure: a document in, candidate [`ToolSpec`]s out, each with the operation
//! it came from. `$ref`s inside the document are resolved (cycles become a
//! plain object schema); parameters land in the path, query or headers; JSON
//! and form bodies are built from the arguments; security schemes become
//! credential placements.

use app::spec::{
    CredentialUse, HttpAction, HttpMethod, MAX_TOOL_NAME, Param, Placement, RequestBody, ResponseShape, ToolSpec,
};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Largest OpenAPI document accepted (pasted or fetched).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
/// How deep `$ref` resolution follows references before giving up.
const MAX_REF_DEPTH: usize = 32;

/// An imported operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub tool: ToolSpec,
    /// `operation listPets (GET /pets)`
    pub source: String,
    /// Text to rank against the user's description.
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub title: String,
    pub description: String,
    pub operations: Vec<Operation>,
}

/// Parses JSON, or YAML when it is not JSON.
pub fn parse_document(text: &str) -> Result<Value, String> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(format!("the OpenAPI document is larger than {} MB", MAX_DOCUMENT_BYTES / (1024 * 1024)));
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("the OpenAPI document is not valid JSON: {e}"));
    }
    serde_yaml_ng::from_str::<Value>(text)
        .map_err(|e| format!("the OpenAPI document is neither JSON nor valid YAML: {e}"))
}

/// Which flavour a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavour {
    Swagger2,
    OpenApi3,
}

/// Turns a parsed document into candidate tools. `document_url`, when the
/// document was fetched, resolves relative server URLs.
pub fn import(doc: &Value, document_url: Option<&url::Url>) -> Result<Imported, String> {
    let flavour = if doc.get("swagger").and_then(Value::as_str).is_some_and(|v| v.starts_with("2.")) {
        Flavour::Swagger2
    } else if doc.get("openapi").and_then(Value::as_str).is_some_and(|v| v.starts_with('3')) {
        Flavour::OpenApi3
    } else {
        return Err("not an OpenAPI document: expected `openapi: 3.x` or `swagger: \"2.0\"` at the top".into());
    };
    let info = doc.get("info").cloned().unwrap_or(Value::Null);
    let title = info.get("title").and_then(Value::as_str).unwrap_or("API").to_owned();
    let description = info.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
    let base = base_url(doc, flavour, document_url)?;
    let schemes = doc
        .get("components")
        .and_then(|c| c.get("securitySchemes"))
        .or_else(|| doc.get("securityDefinitions"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let global_security = doc.get("security").cloned();
    let paths = doc.get("paths").and_then(Value::as_object).ok_or("the document has no `paths`")?;

    let mut operations = Vec::new();
    let mut names = BTreeSet::new();
    for (path, item) in paths {
        let item = resolve(doc, item, &mut Vec::new())?;
        let shared_params = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
        for (method_key, method) in [
            ("get", HttpMethod::Get),
            ("post", HttpMethod::Post),
            ("put", HttpMethod::Put),
            ("patch", HttpMethod::Patch),
            ("delete", HttpMethod::Delete),
        ] {
            let Some(op) = item.get(method_key) else { continue };
            let op = resolve(doc, op, &mut Vec::new())?;
            let security = op.get("security").cloned().or_else(|| global_security.clone());
            let operation = operation(OpContext {
                doc,
                flavour,
                base: &base,
                path,
                method,
                op: &op,
                shared_params: &shared_params,
                schemes: &schemes,
                security: security.as_ref(),
                names: &mut names,
            })?;
            operations.push(operation);
        }
    }
    if operations.is_empty() {
        return Err("the document describes no GET, POST, PUT, PATCH or DELETE operations".into());
    }
    Ok(Imported { title, description, operations })
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
        Flavour::OpenApi3 => {
            let server = doc.get("servers").and_then(Value::as_array).and_then(|s| s.first());
            match server {
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
            }
        }
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

/// Follows `$ref` (document-internal) once, with cycle detection.
fn resolve(doc: &Value, value: &Value, stack: &mut Vec<String>) -> Result<Value, String> {
    match value.get("$ref").and_then(Value::as_str) {
        None => Ok(value.clone()),
        Some(reference) => {
            let target = lookup(doc, reference)?;
            if stack.contains(&reference.to_owned()) || stack.len() >= MAX_REF_DEPTH {
                return Ok(json!({}));
            }
            stack.push(reference.to_owned());
            let resolved = resolve(doc, target, stack);
            stack.pop();
            resolved
        }
    }
}

fn lookup<'a>(doc: &'a Value, reference: &str) -> Result<&'a Value, String> {
    let pointer = reference.strip_prefix('#').ok_or_else(|| {
        format!("`$ref: {reference}` points outside the document; only `#/...` references are supported")
    })?;
    doc.pointer(pointer).ok_or_else(|| format!("`$ref: {reference}` points at nothing in the document"))
}

/// Resolves every `$ref` in a schema, deeply. A reference already being
/// expanded (a cycle) becomes `{"type": "object"}` with a note.
fn inline_schema(doc: &Value, schema: &Value, stack: &mut Vec<String>) -> Value {
    match schema {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                if stack.iter().any(|r| r == reference) || stack.len() >= MAX_REF_DEPTH {
                    let name = reference.rsplit('/').next().unwrap_or(reference);
                    return json!({"type": "object", "description": format!("a {name} (recursive)")});
                }
                let Ok(target) = lookup(doc, reference) else {
                    return json!({});
                };
                stack.push(reference.to_owned());
                let out = inline_schema(doc, target, stack);
                stack.pop();
                return out;
            }
            let mut out = Map::new();
            for (key, value) in map {
                // Keywords of OpenAPI that are not JSON Schema, or that older
                // drafts spell differently, are dropped or translated.
                match (key.as_str(), value) {
                    ("nullable" | "example" | "examples" | "xml" | "discriminator" | "externalDocs", _) => {}
                    ("exclusiveMinimum" | "exclusiveMaximum", Value::Bool(_)) => {}
                    ("type", Value::String(t)) if t == "file" => {
                        out.insert("type".into(), json!("string"));
                    }
                    _ => {
                        out.insert(key.clone(), inline_schema(doc, value, stack));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| inline_schema(doc, i, stack)).collect()),
        other => other.clone(),
    }
}

/// A name that fits MCP tool names (and our placeholders).
fn identifier(raw: &str, max: usize) -> String {
    let mut out: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    let out = out.trim_matches('_').to_owned();
    let out = if out.is_empty() { "x".to_owned() } else { out };
    out.chars().take(max).collect()
}

fn unique(name: String, taken: &mut BTreeSet<String>) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    for n in 2.. {
        let suffix = format!("_{n}");
        let base: String = name.chars().take(MAX_TOOL_NAME - suffix.len()).collect();
        let candidate = format!("{base}{suffix}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
    }
    unreachable!("some suffix is free")
}

struct OpContext<'a> {
    doc: &'a Value,
    flavour: Flavour,
    base: &'a str,
    path: &'a str,
    method: HttpMethod,
    op: &'a Value,
    shared_params: &'a [Value],
    schemes: &'a Map<String, Value>,
    security: Option<&'a Value>,
    names: &'a mut BTreeSet<String>,
}

fn operation(cx: OpContext<'_>) -> Result<Operation, String> {
    let OpContext { doc, flavour, base, path, method, op, shared_params, schemes, security, names } = cx;
    let operation_id = op.get("operationId").and_then(Value::as_str);
    let fallback = format!("{}_{}", method.as_str().to_lowercase(), path.replace(['{', '}'], ""));
    let name = unique(identifier(operation_id.unwrap_or(&fallback), MAX_TOOL_NAME), names);
    let summary = op.get("summary").and_then(Value::as_str).unwrap_or_default().trim();
    let long = op.get("description").and_then(Value::as_str).unwrap_or_default().trim();
    let mut description = match (summary.is_empty(), long.is_empty()) {
        (false, false) if long.starts_with(summary) => long.to_owned(),
        (false, false) => format!("{summary}. {long}"),
        (false, true) => summary.to_owned(),
        (true, false) => long.to_owned(),
        (true, true) => format!("{} {path}", method.as_str()),
    };
    if description.chars().count() > 1000 {
        description = description.chars().take(1000).collect::<String>() + "…";
    }

    // Parameters: path-level ones, overridden by operation-level ones with
    // the same name and location.
    let mut params: BTreeMap<(String, String), Value> = BTreeMap::new();
    let op_params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    for raw in shared_params.iter().chain(op_params.iter()) {
        let param = resolve(doc, raw, &mut Vec::new())?;
        let name = param.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let location = param.get("in").and_then(Value::as_str).unwrap_or_default().to_owned();
        params.insert((location, name), param);
    }

    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut property_names = BTreeSet::new();
    let mut url_path = path.to_owned();
    let mut query = Vec::new();
    let mut headers = Vec::new();
    let mut form_fields = Vec::new();
    let mut json_body: Option<Value> = None;

    let mut add_property = |wanted: &str,
                            location: &str,
                            schema: Value,
                            is_required: bool,
                            properties: &mut Map<String, Value>,
                            required: &mut Vec<Value>| {
        let mut prop = identifier(wanted, 64).replace('-', "_");
        if property_names.contains(&prop) {
            prop = identifier(&format!("{location}_{wanted}"), 64).replace('-', "_");
        }
        let prop = unique(prop, &mut property_names);
        properties.insert(prop.clone(), schema);
        if is_required {
            required.push(json!(prop));
        }
        prop
    };

    for ((location, pname), param) in &params {
        let mut schema = match flavour {
            Flavour::OpenApi3 => {
                param.get("schema").map(|s| inline_schema(doc, s, &mut Vec::new())).unwrap_or(json!({}))
            }
            Flavour::Swagger2 if location == "body" => {
                param.get("schema").map(|s| inline_schema(doc, s, &mut Vec::new())).unwrap_or(json!({}))
            }
            Flavour::Swagger2 => swagger_param_schema(param),
        };
        if let (Some(text), Value::Object(map)) = (param.get("description").and_then(Value::as_str), &mut schema) {
            map.entry("description").or_insert(json!(text));
        }
        let is_required = location == "path" || param.get("required").and_then(Value::as_bool).unwrap_or(false);
        match location.as_str() {
            "path" => {
                let prop = add_property(pname, location, schema, true, &mut properties, &mut required);
                url_path = url_path.replace(&format!("{{{pname}}}"), &format!("{{{prop}}}"));
            }
            "query" => {
                let prop = add_property(pname, location, schema, is_required, &mut properties, &mut required);
                query.push(Param::new(pname.clone(), format!("{{{prop}}}")));
            }
            "header" => {
                let prop = add_property(pname, location, schema, is_required, &mut properties, &mut required);
                headers.push(Param::new(pname.clone(), format!("{{{prop}}}")));
            }
            "formData" => {
                let prop = add_property(pname, location, schema, is_required, &mut properties, &mut required);
                form_fields.push(Param::new(pname.clone(), format!("{{{prop}}}")));
            }
            "body" => {
                json_body =
                    Some(body_template(schema, is_required, &mut properties, &mut required, &mut |w, s, r, p, q| {
                        add_property(w, "body", s, r, p, q)
                    }));
            }
            _ => {} // cookie parameters are not supported by actions
        }
    }

    if flavour == Flavour::OpenApi3
        && let Some(body) = op.get("requestBody")
    {
        let body = resolve(doc, body, &mut Vec::new())?;
        let body_required = body.get("required").and_then(Value::as_bool).unwrap_or(false);
        let content = body.get("content").and_then(Value::as_object).cloned().unwrap_or_default();
        let json_media = content.iter().find(|(k, _)| k.contains("json"));
        let form_media = content.get("application/x-www-form-urlencoded");
        if let Some((_, media)) = json_media {
            let schema = media.get("schema").map(|s| inline_schema(doc, s, &mut Vec::new())).unwrap_or(json!({}));
            json_body =
                Some(body_template(schema, body_required, &mut properties, &mut required, &mut |w, s, r, p, q| {
                    add_property(w, "body", s, r, p, q)
                }));
        } else if let Some(media) = form_media {
            let schema = media.get("schema").map(|s| inline_schema(doc, s, &mut Vec::new())).unwrap_or(json!({}));
            let needed: BTreeSet<String> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (field, field_schema) in props {
                    let is_required = body_required && needed.contains(field);
                    let prop =
                        add_property(field, "form", field_schema.clone(), is_required, &mut properties, &mut required);
                    form_fields.push(Param::new(field.clone(), format!("{{{prop}}}")));
                }
            }
        }
    }

    let body = match (json_body, form_fields.is_empty()) {
        (Some(value), _) => Some(RequestBody::Json { value }),
        (None, false) => Some(RequestBody::Form { fields: form_fields }),
        (None, true) => None,
    };
    let auth = security.and_then(|s| credential_for(s, schemes));
    let mut input_schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        input_schema["required"] = Value::Array(required);
    }
    let tool = ToolSpec {
        name: name.clone(),
        title: (!summary.is_empty()).then(|| summary.chars().take(100).collect()),
        description,
        input_schema,
        annotations: Default::default(),
        action: HttpAction {
            method,
            url: format!("{base}{url_path}"),
            query,
            headers,
            body: if method == HttpMethod::Get { None } else { body },
            auth,
            response: ResponseShape::default(),
        },
    };
    let tags: Vec<&str> = op
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let source = match operation_id {
        Some(id) => format!("operation {id} ({} {path})", method.as_str()),
        None => format!("operation {} {path}", method.as_str()),
    };
    let text = format!("{} {} {} {} {}", operation_id.unwrap_or_default(), summary, long, path, tags.join(" "));
    Ok(Operation { tool, source, text })
}

/// A Swagger 2.0 non-body parameter's schema (type etc. live on the parameter).
fn swagger_param_schema(param: &Value) -> Value {
    let mut schema = Map::new();
    for key in ["type", "format", "items", "enum", "default", "minimum", "maximum", "pattern", "minLength", "maxLength"]
    {
        if let Some(value) = param.get(key) {
            schema.insert(key.into(), value.clone());
        }
    }
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".into(), json!("string"));
    }
    Value::Object(schema)
}

type AddProperty<'a> = dyn FnMut(&str, Value, bool, &mut Map<String, Value>, &mut Vec<Value>) -> String + 'a;

/// A JSON body template: an object schema's properties become arguments
/// (`{"name": "{name}"}`); anything else becomes one `body` argument.
fn body_template(
    schema: Value,
    body_required: bool,
    properties: &mut Map<String, Value>,
    required: &mut Vec<Value>,
    add: &mut AddProperty<'_>,
) -> Value {
    let is_object = schema.get("type").and_then(Value::as_str) == Some("object") || schema.get("properties").is_some();
    match schema.get("properties").and_then(Value::as_object).filter(|_| is_object) {
        Some(props) if !props.is_empty() => {
            let needed: BTreeSet<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut template = Map::new();
            for (field, field_schema) in props {
                let prop = add(
                    field,
                    field_schema.clone(),
                    body_required && needed.contains(field.as_str()),
                    properties,
                    required,
                );
                template.insert(field.clone(), json!(format!("{{{prop}}}")));
            }
            Value::Object(template)
        }
        _ => {
            let prop = add("body", schema, body_required, properties, required);
            json!(format!("{{{prop}}}"))
        }
    }
}

/// The first usable security requirement, as a credential placement.
fn credential_for(security: &Value, schemes: &Map<String, Value>) -> Option<CredentialUse> {
    let requirements = security.as_array()?;
    for requirement in requirements {
        let Some(requirement) = requirement.as_object() else { continue };
        for scheme_name in requirement.keys() {
            let Some(scheme) = schemes.get(scheme_name) else { continue };
            let kind = scheme.get("type").and_then(Value::as_str).unwrap_or_default();
            let placement = match kind {
                "apiKey" => {
                    let name = scheme.get("name").and_then(Value::as_str)?.to_owned();
                    match scheme.get("in").and_then(Value::as_str) {
                        Some("header") if name.eq_ignore_ascii_case("authorization") => Placement::Header { name },
                        Some("header") => Placement::Header { name },
                        Some("query") => Placement::Query { name },
                        _ => continue,
                    }
                }
                "http" => match scheme.get("scheme").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                    Some("basic") => Placement::Basic,
                    Some("bearer") => Placement::Bearer,
                    _ => continue,
                },
                "basic" => Placement::Basic,
                "oauth2" | "openIdConnect" => Placement::Bearer,
                _ => continue,
            };
            return Some(CredentialUse { credential: identifier(scheme_name, 64), placement });
        }
    }
    None
}

/// Ranks operations against a description with BM25 over their text.
/// Returns (index, score), best first; ties keep document order.
pub fn rank(description: &str, texts: &[&str]) -> Vec<(usize, f64)> {
    let query = tokens(description);
    let docs: Vec<Vec<String>> = texts.iter().map(|t| tokens(t)).collect();
    let n = docs.len() as f64;
    let avg = docs.iter().map(Vec::len).sum::<usize>() as f64 / n.max(1.0);
    let (k1, b) = (1.2, 0.75);
    let mut scores: Vec<(usize, f64)> = docs
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let len = doc.len() as f64;
            let score = query
                .iter()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|term| {
                    let tf = doc.iter().filter(|t| *t == term).count() as f64;
                    if tf == 0.0 {
                        return 0.0;
                    }
                    let df = docs.iter().filter(|d| d.contains(term)).count() as f64;
                    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                    idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * len / avg.max(1.0)))
                })
                .sum();
            (i, score)
        })
        .collect();
    scores.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal).then(a.0.cmp(&b.0)));
    scores
}

/// Lowercase word tokens; camelCase and snake_case are split; a few stop
/// words and a naive plural "s" are dropped.
fn tokens(text: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "a", "an", "the", "and", "or", "to", "of", "for", "in", "on", "by", "with", "i", "my", "me", "want", "can",
        "be", "it", "is", "from",
    ];
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && previous_lower && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = c.is_lowercase() || c.is_numeric();
            current.extend(c.to_lowercase());
        } else {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
        .into_iter()
        .filter(|w| !STOP.contains(&w.as_str()))
        .map(|w| {
            if w.len() > 3 && w.ends_with('s') && !(w.ends_with("ss") || w.ends_with("us") || w.ends_with("is")) {
                w[..w.len() - 1].to_owned()
            } else {
                w
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_camel_case_and_plurals() {
        assert_eq!(tokens("listPets by_status"), vec!["list", "pet", "status"]);
        assert_eq!(tokens("The ADDRESS"), vec!["address"]);
    }

    #[test]
    fn ranking_prefers_matching_operations() {
        let texts = ["listPets List all pets /pets", "createUser Create a user /users", "getWeather /weather"];
        let ranked = rank("I want to list my pets", &texts);
        assert_eq!(ranked[0].0, 0);
        assert!(ranked[0].1 > 0.0 && ranked[2].1 == 0.0);
    }

    #[test]
    fn identifiers_fit_tool_names() {
        assert_eq!(identifier("get /pets/{id}", 64), "get_pets_id");
        assert_eq!(identifier(&"x".repeat(80), 64).len(), 64);
        let mut taken = BTreeSet::new();
        assert_eq!(unique("a".into(), &mut taken), "a");
        assert_eq!(unique("a".into(), &mut taken), "a_2");
    }

    #[test]
    fn cyclic_references_end_in_a_plain_object() {
        let doc = json!({"components": {"schemas": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}}}});
        let schema = inline_schema(&doc, &json!({"$ref": "#/components/schemas/Node"}), &mut Vec::new());
        assert_eq!(schema["properties"]["next"]["type"], "object");
        assert!(schema["properties"]["next"]["description"].as_str().unwrap().contains("recursive"));
    }

    #[test]
    fn documents_parse_as_json_or_yaml_and_say_what_is_wrong() {
        assert_eq!(parse_document("openapi: 3.1.0\ninfo: {title: x}").unwrap()["openapi"], "3.1.0");
        assert!(parse_document("{ not json").unwrap_err().contains("not valid JSON"));
        assert!(import(&json!({"info": {}}), None).unwrap_err().contains("not an OpenAPI document"));
        let relative = json!({"openapi": "3.0.0", "servers": [{"url": "/v1"}], "paths": {"/x": {"get": {}}}});
        assert!(import(&relative, None).unwrap_err().contains("relative"));
    }
}
