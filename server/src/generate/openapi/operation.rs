//! One OpenAPI operation to one candidate tool: parameters land in the path,
//! query or headers; JSON and form bodies are built from the arguments;
//! security schemes become credential placements.

use super::naming::{Names, identifier};
use super::refs::deref;
use super::schema::{Defs, Failure, Schemas};
use crate::generate::budget::{Budget, MAX_SCHEMA_DEPTH, MAX_TOOL_BYTES};
use app::spec::{CredentialUse, HttpAction, HttpMethod, Param, Placement, RequestBody, ResponseShape, ToolSpec};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Which flavour a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Swagger2,
    OpenApi3,
}

/// What every operation of a document shares.
pub struct DocContext<'d> {
    pub doc: &'d Value,
    pub flavour: Flavour,
    pub base: String,
    pub schemes: Map<String, Value>,
    pub global_security: Option<&'d Value>,
}

/// An operation found by the scan: cheap to hold, built into a tool only
/// when it is among the best matches.
pub struct OpRef<'d> {
    /// The tool name (unique in the document).
    pub name: String,
    /// `operation listPets (GET /pets)`
    pub source: String,
    /// Text to rank against the user's description.
    pub text: String,
    pub path: &'d str,
    pub method: HttpMethod,
    pub op: &'d Value,
    pub shared_params: &'d [Value],
}

/// Longest operation text kept for ranking.
const MAX_RANK_TEXT: usize = 2_000;

impl<'d> OpRef<'d> {
    pub fn new(
        path: &'d str,
        method: HttpMethod,
        op: &'d Value,
        shared_params: &'d [Value],
        names: &mut Names,
    ) -> Self {
        let operation_id = op.get("operationId").and_then(Value::as_str);
        let fallback = format!("{}_{}", method.as_str().to_lowercase(), path.replace(['{', '}'], ""));
        let name = names.unique(identifier(operation_id.unwrap_or(&fallback), app::spec::MAX_TOOL_NAME));
        let summary = op.get("summary").and_then(Value::as_str).unwrap_or_default().trim();
        let long = op.get("description").and_then(Value::as_str).unwrap_or_default().trim();
        let tags: Vec<&str> = op
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).take(20).collect())
            .unwrap_or_default();
        let source = match operation_id {
            Some(id) => format!("operation {} ({} {path})", cut(id, 200), method.as_str()),
            None => format!("operation {} {path}", method.as_str()),
        };
        let text = format!("{} {} {} {} {}", operation_id.unwrap_or_default(), summary, long, path, tags.join(" "));
        OpRef { name, source, text: cut(&text, MAX_RANK_TEXT), path, method, op, shared_params }
    }
}

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A built candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub tool: ToolSpec,
    pub source: String,
}

/// Builds the tool for `op`. `Failure::TooLarge` leaves this operation out;
/// `Failure::Time` stops the import.
pub fn build<'d>(
    cx: &DocContext<'d>,
    op: &OpRef<'d>,
    schemas: &mut Schemas<'d>,
    budget: &mut Budget,
) -> Result<Operation, Failure> {
    let doc = cx.doc;
    let body = &op.op;
    let summary = body.get("summary").and_then(Value::as_str).unwrap_or_default().trim();
    let long = body.get("description").and_then(Value::as_str).unwrap_or_default().trim();
    let mut description = match (summary.is_empty(), long.is_empty()) {
        (false, false) if long.starts_with(summary) => long.to_owned(),
        (false, false) => format!("{summary}. {long}"),
        (false, true) => summary.to_owned(),
        (true, false) => long.to_owned(),
        (true, true) => format!("{} {}", op.method.as_str(), op.path),
    };
    if description.chars().count() > 1000 {
        description = description.chars().take(1000).collect::<String>() + "…";
    }

    let mut args = Arguments::new(op.path);
    let mut defs = Defs::default();
    for ((location, name), param) in parameters(doc, op)? {
        let schema = match (cx.flavour, location.as_str()) {
            (Flavour::OpenApi3, _) | (Flavour::Swagger2, "body") => match param.get("schema") {
                Some(schema) => schemas.convert(schema, &mut defs, budget)?,
                None => json!({}),
            },
            (Flavour::Swagger2, _) => {
                let mut schema = swagger_param_schema(param);
                // Swagger 2 puts `items` (which may be a `$ref`) on the parameter itself.
                if let Some(items) = param.get("items") {
                    schema["items"] = schemas.convert(items, &mut defs, budget)?;
                }
                schema
            }
        };
        args.parameter(&location, &name, param, schema);
    }
    if cx.flavour == Flavour::OpenApi3
        && let Some(request_body) = body.get("requestBody")
    {
        let request_body = deref(doc, request_body).map_err(Failure::TooLarge)?;
        request_body_args(request_body, schemas, &mut defs, &mut args, budget)?;
    }

    let tool = args.into_tool(ToolHead {
        name: op.name.clone(),
        title: (!summary.is_empty()).then(|| summary.chars().take(100).collect()),
        description,
        method: op.method,
        base: cx.base.clone(),
        auth: body.get("security").or(cx.global_security).and_then(|s| credential_for(s, &cx.schemes)),
        defs: defs.into_map(),
    });
    check_size(&tool)?;
    Ok(Operation { tool, source: op.source.clone() })
}

/// Path-level parameters, overridden by operation-level ones with the same
/// name and location.
fn parameters<'d>(doc: &'d Value, op: &OpRef<'d>) -> Result<BTreeMap<(String, String), &'d Value>, Failure> {
    let mut params = BTreeMap::new();
    let own = op.op.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for raw in op.shared_params.iter().chain(own) {
        let param = deref(doc, raw).map_err(Failure::TooLarge)?;
        let name = param.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let location = param.get("in").and_then(Value::as_str).unwrap_or_default().to_owned();
        params.insert((location, name), param);
    }
    Ok(params)
}

fn request_body_args<'d>(
    request_body: &'d Value,
    schemas: &mut Schemas<'d>,
    defs: &mut Defs<'d>,
    args: &mut Arguments,
    budget: &mut Budget,
) -> Result<(), Failure> {
    let body_required = request_body.get("required").and_then(Value::as_bool).unwrap_or(false);
    let Some(content) = request_body.get("content").and_then(Value::as_object) else { return Ok(()) };
    if let Some((_, media)) = content.iter().find(|(k, _)| k.contains("json")) {
        let schema = match media.get("schema") {
            Some(schema) => schemas.convert(schema, defs, budget)?,
            None => json!({}),
        };
        args.json_body(schema, body_required);
    } else if let Some(media) = content.get("application/x-www-form-urlencoded") {
        let schema = match media.get("schema") {
            Some(schema) => schemas.convert(schema, defs, budget)?,
            None => json!({}),
        };
        args.form_body(&schema, body_required);
    }
    Ok(())
}

/// The tool's size limits: nesting and serialized bytes.
fn check_size(tool: &ToolSpec) -> Result<(), Failure> {
    let depth = app::spec::json_depth(&tool.input_schema);
    if depth > MAX_SCHEMA_DEPTH {
        return Err(Failure::TooLarge(format!(
            "its arguments' schema nests {depth} levels deep; at most {MAX_SCHEMA_DEPTH} are allowed"
        )));
    }
    let bytes = serde_json::to_vec(tool).map(|v| v.len()).unwrap_or(usize::MAX);
    if bytes > MAX_TOOL_BYTES {
        return Err(Failure::TooLarge(format!(
            "the tool would take {} KiB; at most {} KiB are allowed",
            bytes / 1024,
            MAX_TOOL_BYTES / 1024
        )));
    }
    Ok(())
}

/// The arguments of a tool being built, and where each one goes in the request.
struct Arguments {
    properties: Map<String, Value>,
    required: Vec<Value>,
    names: Names,
    url_path: String,
    query: Vec<Param>,
    headers: Vec<Param>,
    form_fields: Vec<Param>,
    json_body: Option<Value>,
}

struct ToolHead {
    name: String,
    title: Option<String>,
    description: String,
    method: HttpMethod,
    base: String,
    auth: Option<CredentialUse>,
    defs: Map<String, Value>,
}

impl Arguments {
    fn new(path: &str) -> Self {
        Arguments {
            properties: Map::new(),
            required: Vec::new(),
            names: Names::default(),
            url_path: path.to_owned(),
            query: Vec::new(),
            headers: Vec::new(),
            form_fields: Vec::new(),
            json_body: None,
        }
    }

    /// Adds an argument; returns its (unique) property name.
    fn add(&mut self, wanted: &str, location: &str, schema: Value, is_required: bool) -> String {
        let mut prop = identifier(wanted, 64).replace('-', "_");
        if self.names.contains(&prop) {
            prop = identifier(&format!("{location}_{wanted}"), 64).replace('-', "_");
        }
        let prop = self.names.unique(prop);
        self.properties.insert(prop.clone(), schema);
        if is_required {
            self.required.push(json!(prop));
        }
        prop
    }

    fn parameter(&mut self, location: &str, name: &str, param: &Value, mut schema: Value) {
        if let (Some(text), Value::Object(map)) = (param.get("description").and_then(Value::as_str), &mut schema) {
            map.entry("description").or_insert(json!(cut(text, 1000)));
        }
        let is_required = location == "path" || param.get("required").and_then(Value::as_bool).unwrap_or(false);
        match location {
            "path" => {
                let prop = self.add(name, location, schema, true);
                self.url_path = self.url_path.replace(&format!("{{{name}}}"), &format!("{{{prop}}}"));
            }
            "query" => {
                let prop = self.add(name, location, schema, is_required);
                self.query.push(Param::new(name, format!("{{{prop}}}")));
            }
            "header" => {
                let prop = self.add(name, location, schema, is_required);
                self.headers.push(Param::new(name, format!("{{{prop}}}")));
            }
            "formData" => {
                let prop = self.add(name, location, schema, is_required);
                self.form_fields.push(Param::new(name, format!("{{{prop}}}")));
            }
            "body" => self.json_body(schema, is_required),
            _ => {} // cookie parameters are not supported by actions
        }
    }

    /// A JSON body template: an object schema's properties become arguments
    /// (`{"name": "{name}"}`); anything else becomes one `body` argument.
    fn json_body(&mut self, schema: Value, body_required: bool) {
        let is_object =
            schema.get("type").and_then(Value::as_str) == Some("object") || schema.get("properties").is_some();
        let props = schema.get("properties").and_then(Value::as_object).filter(|p| is_object && !p.is_empty());
        let Some(props) = props else {
            let prop = self.add("body", "body", schema, body_required);
            self.json_body = Some(json!(format!("{{{prop}}}")));
            return;
        };
        let needed = required_names(&schema);
        let mut template = Map::new();
        for (field, field_schema) in props {
            let prop = self.add(field, "body", field_schema.clone(), body_required && needed.contains(field));
            template.insert(field.clone(), json!(format!("{{{prop}}}")));
        }
        self.json_body = Some(Value::Object(template));
    }

    fn form_body(&mut self, schema: &Value, body_required: bool) {
        let needed = required_names(schema);
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (field, field_schema) in props {
                let prop = self.add(field, "form", field_schema.clone(), body_required && needed.contains(field));
                self.form_fields.push(Param::new(field.clone(), format!("{{{prop}}}")));
            }
        }
    }

    fn into_tool(self, head: ToolHead) -> ToolSpec {
        let body = match (self.json_body, self.form_fields.is_empty()) {
            (Some(value), _) => Some(RequestBody::Json { value }),
            (None, false) => Some(RequestBody::Form { fields: self.form_fields }),
            (None, true) => None,
        };
        let mut input_schema = json!({"type": "object", "properties": self.properties});
        if !self.required.is_empty() {
            input_schema["required"] = Value::Array(self.required);
        }
        if !head.defs.is_empty() {
            input_schema["$defs"] = Value::Object(head.defs);
        }
        ToolSpec {
            name: head.name,
            title: head.title,
            description: head.description,
            input_schema,
            annotations: Default::default(),
            action: HttpAction {
                method: head.method,
                url: format!("{}{}", head.base, self.url_path),
                query: self.query,
                headers: self.headers,
                body: if head.method == HttpMethod::Get { None } else { body },
                auth: head.auth,
                response: ResponseShape::default(),
            },
        }
    }
}

fn required_names(schema: &Value) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A Swagger 2.0 non-body parameter's schema (type etc. live on the parameter).
fn swagger_param_schema(param: &Value) -> Value {
    let mut schema = Map::new();
    for key in ["type", "format", "enum", "default", "minimum", "maximum", "pattern", "minLength", "maxLength"] {
        if let Some(value) = param.get(key) {
            schema.insert(key.into(), value.clone());
        }
    }
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".into(), json!("string"));
    }
    Value::Object(schema)
}

/// The first usable security requirement, as a credential placement.
fn credential_for(security: &Value, schemes: &Map<String, Value>) -> Option<CredentialUse> {
    for requirement in security.as_array()? {
        let Some(requirement) = requirement.as_object() else { continue };
        for scheme_name in requirement.keys() {
            let Some(scheme) = schemes.get(scheme_name) else { continue };
            let kind = scheme.get("type").and_then(Value::as_str).unwrap_or_default();
            let placement = match kind {
                "apiKey" => {
                    let name = scheme.get("name").and_then(Value::as_str)?.to_owned();
                    match scheme.get("in").and_then(Value::as_str) {
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
