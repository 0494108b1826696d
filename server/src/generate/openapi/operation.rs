//! One OpenAPI operation to one candidate tool: parameters land in the path,
//! query or headers, written as the document's styles say; JSON, form,
//! multipart and raw bodies are built from the arguments; security schemes
//! become credential placements (and parameters they already set are dropped).

use super::encoding::{self, BodyKind};
use super::naming::{Names, identifier};
use super::refs::deref;
use super::schema::{self, Defs, Failure, Schemas};
use crate::generate::budget::{Budget, MAX_SCHEMA_DEPTH, MAX_TOOL_BYTES};
use app::spec::{
    CredentialUse, HttpAction, HttpMethod, Param, Part, PathStyle, Placement, RequestBody, ResponseShape, ToolSpec,
    file_schema,
};
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

impl OpRef<'_> {
    /// What the wizard's operation search shows.
    pub fn info(&self) -> app::wizard::OperationInfo {
        let text = |key: &str| self.op.get(key).and_then(Value::as_str).unwrap_or_default().trim();
        let summary = if text("summary").is_empty() { text("description") } else { text("summary") };
        let tags = self
            .op
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).take(5).map(|t| cut(t, 40)).collect())
            .unwrap_or_default();
        app::wizard::OperationInfo {
            name: self.name.clone(),
            method: self.method,
            path: cut(self.path, 300),
            summary: cut(summary.lines().next().unwrap_or_default(), 160),
            tags,
        }
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

    let mut args = Arguments::new(op.path, cx.flavour);
    let mut defs = Defs::default();
    for ((location, name), param) in parameters(doc, op)? {
        let (schema, structured) = match (cx.flavour, location.as_str()) {
            (Flavour::OpenApi3, _) | (Flavour::Swagger2, "body") => {
                let schema = match param.get("schema") {
                    Some(schema) => schemas.convert(schema, &mut defs, budget)?,
                    None => json!({}),
                };
                (schema, encoding::structured(doc, param.get("schema")))
            }
            (Flavour::Swagger2, _) => {
                let mut schema = swagger_param_schema(param);
                // Swagger 2 puts `items` (which may be a `$ref`) on the parameter itself.
                if let Some(items) = param.get("items") {
                    schema["items"] = schemas.convert(items, &mut defs, budget)?;
                }
                (schema, param.get("type").and_then(Value::as_str) == Some("array"))
            }
        };
        args.parameter(&location, &name, param, schema, structured);
    }
    if cx.flavour == Flavour::Swagger2 {
        args.swagger_body(consumes(doc, body));
    }
    if cx.flavour == Flavour::OpenApi3
        && let Some(request_body) = body.get("requestBody")
    {
        let request_body = deref(doc, request_body).map_err(Failure::TooLarge)?;
        request_body_args(request_body, schemas, &mut defs, &mut args, budget)?;
    }
    let auth = body.get("security").or(cx.global_security).and_then(|s| credential_for(s, &cx.schemes));
    if let Some(auth) = &auth {
        args.drop_credential(&auth.placement);
    }
    if args.has_files {
        description.push_str(&format!(
            " Files go as objects with `content_base64` (the bytes, base64), `filename` and `media_type`; at most {} MiB each.",
            app::spec::MAX_FILE_BYTES >> 20
        ));
    }

    let tool = args.into_tool(ToolHead {
        name: op.name.clone(),
        title: (!summary.is_empty()).then(|| summary.chars().take(100).collect()),
        description,
        method: op.method,
        base: cx.base.clone(),
        auth,
        defs: defs.into_map(),
    });
    check_size(&tool)?;
    Ok(Operation { tool, source: op.source.clone() })
}

/// Swagger 2's `consumes` of an operation (or of the document).
fn consumes<'d>(doc: &'d Value, op: &'d Value) -> Vec<&'d str> {
    op.get("consumes")
        .or_else(|| doc.get("consumes"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
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
    let Some(kind) = encoding::body_kind(content.keys().map(String::as_str)) else { return Ok(()) };
    let media = match kind {
        BodyKind::Json => content.iter().find(|(k, _)| k.to_ascii_lowercase().contains("json")).map(|(_, m)| m),
        BodyKind::Form => content.get("application/x-www-form-urlencoded"),
        BodyKind::Multipart => content.get("multipart/form-data"),
        BodyKind::Binary(_) | BodyKind::Text(_) => content.values().next(),
    };
    let Some(media) = media else { return Ok(()) };
    let schema = match media.get("schema") {
        Some(schema) => schemas.convert(schema, defs, budget)?,
        None => json!({}),
    };
    let encodings = encoding::encodings(media);
    match kind {
        BodyKind::Json => args.json_body(schema, body_required),
        BodyKind::Form => args.fields_body(&schema, body_required, encodings, false),
        BodyKind::Multipart => args.fields_body(&schema, body_required, encodings, true),
        BodyKind::Binary(media_type) => args.raw_body(media_type, None, body_required),
        BodyKind::Text(media_type) => args.raw_body(Some(media_type), Some(schema), body_required),
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
    flavour: Flavour,
    properties: Map<String, Value>,
    required: Vec<Value>,
    names: Names,
    url_path: String,
    path_styles: Vec<PathStyle>,
    query: Vec<Param>,
    headers: Vec<Param>,
    /// Urlencoded fields, or multipart parts when `multipart`.
    fields: Vec<Param>,
    part_types: Map<String, Value>,
    multipart: bool,
    json_body: Option<(Value, bool)>,
    raw_body: Option<RequestBody>,
    has_files: bool,
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

/// The argument schema of a file, keeping the description the document gave.
fn file_arg(schema: &Value) -> Value {
    file_schema(schema.get("description").and_then(Value::as_str).unwrap_or_default())
}

impl Arguments {
    fn new(path: &str, flavour: Flavour) -> Self {
        Arguments {
            flavour,
            properties: Map::new(),
            required: Vec::new(),
            names: Names::default(),
            url_path: path.to_owned(),
            path_styles: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            fields: Vec::new(),
            part_types: Map::new(),
            multipart: false,
            json_body: None,
            raw_body: None,
            has_files: false,
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

    fn parameter(&mut self, location: &str, name: &str, param: &Value, mut schema: Value, structured: bool) {
        if let (Some(text), Value::Object(map)) = (param.get("description").and_then(Value::as_str), &mut schema) {
            map.entry("description").or_insert(json!(cut(text, 1000)));
        }
        let is_required = location == "path" || param.get("required").and_then(Value::as_bool).unwrap_or(false);
        match location {
            "path" => {
                let prop = self.add(name, location, schema, true);
                self.url_path = self.url_path.replace(&format!("{{{name}}}"), &format!("{{{prop}}}"));
                self.path_styles.extend(encoding::path_style(&prop, name, param, self.flavour));
            }
            "query" => {
                let prop = self.add(name, location, schema, is_required);
                let value = format!("{{{prop}}}");
                self.query.push(encoding::query_param(name, value, param, self.flavour, structured));
            }
            "header" => {
                let prop = self.add(name, location, schema, is_required);
                let value = format!("{{{prop}}}");
                self.headers.push(encoding::header_param(name, value, param, self.flavour, structured));
            }
            "formData" => {
                let is_file = param.get("type").and_then(Value::as_str) == Some("file");
                let schema = if is_file { file_arg(&schema) } else { schema };
                self.multipart |= is_file;
                self.has_files |= is_file;
                let prop = self.add(name, location, schema, is_required);
                let value = format!("{{{prop}}}");
                self.fields.push(encoding::query_param(name, value, param, self.flavour, structured));
            }
            "body" => self.json_body(schema, is_required),
            _ => {} // cookie parameters are not supported by actions
        }
    }

    /// Swagger 2: form fields go multipart when a field is a file or the
    /// operation consumes only multipart; a body whose operation consumes
    /// no JSON is sent raw.
    fn swagger_body(&mut self, consumes: Vec<&str>) {
        let kind = encoding::body_kind(consumes.iter().copied());
        if !self.fields.is_empty() {
            self.multipart |= kind == Some(BodyKind::Multipart);
            return;
        }
        let Some((template, _)) = self.json_body.clone() else { return };
        let Some(media_type) = (match kind {
            Some(BodyKind::Binary(media_type)) => Some(media_type),
            Some(BodyKind::Text(media_type)) => Some(Some(media_type)),
            _ => None,
        }) else {
            return;
        };
        let Some(prop) = template.as_str().and_then(app::spec::sole_arg) else { return };
        let schema = self.properties.get(&prop).cloned().unwrap_or_default();
        if !matches!(kind, Some(BodyKind::Text(_))) {
            self.properties.insert(prop.clone(), file_arg(&schema));
            self.has_files = true;
        }
        self.json_body = None;
        self.raw_body =
            Some(RequestBody::Binary { value: format!("{{{prop}}}"), content_type: media_type.map(str::to_owned) });
    }

    /// A JSON body template: an object schema's properties become arguments
    /// (`{"name": "{name}"}`); anything else becomes one `body` argument. A
    /// body that is not required is sent only when an argument of it is given.
    fn json_body(&mut self, schema: Value, body_required: bool) {
        let is_object =
            schema.get("type").and_then(Value::as_str) == Some("object") || schema.get("properties").is_some();
        let props = schema.get("properties").and_then(Value::as_object).filter(|p| is_object && !p.is_empty());
        let Some(props) = props else {
            let prop = self.add("body", "body", schema, body_required);
            self.json_body = Some((json!(format!("{{{prop}}}")), !body_required));
            return;
        };
        let needed = required_names(&schema);
        let mut template = Map::new();
        for (field, field_schema) in props {
            let prop = self.add(field, "body", field_schema.clone(), body_required && needed.contains(field));
            template.insert(field.clone(), json!(format!("{{{prop}}}")));
        }
        self.json_body = Some((Value::Object(template), !body_required));
    }

    /// Urlencoded or multipart fields from an object schema's properties,
    /// written per the body's `encoding`; binary properties become files.
    fn fields_body(
        &mut self,
        schema: &Value,
        body_required: bool,
        encodings: Option<&Map<String, Value>>,
        multipart: bool,
    ) {
        self.multipart = multipart;
        let needed = required_names(schema);
        let Some(props) = schema.get("properties").and_then(Value::as_object) else { return };
        for (field, field_schema) in props {
            let at = encodings.and_then(|e| e.get(field));
            let files = multipart
                && (encoding::is_file(field_schema) || field_schema.get("items").is_some_and(encoding::is_file));
            let arg_schema = match (files, field_schema.get("items")) {
                (false, _) => field_schema.clone(),
                (true, Some(items)) if encoding::is_file(items) => json!({"type": "array", "items": file_arg(items)}),
                (true, _) => file_arg(field_schema),
            };
            self.has_files |= files;
            let structured = matches!(field_schema.get("type").and_then(Value::as_str), Some("array" | "object"))
                || field_schema.get("properties").is_some();
            let prop = self.add(field, "form", arg_schema, body_required && needed.contains(field));
            let value = format!("{{{prop}}}");
            if multipart {
                if let Some(kind) = encoding::part_content_type(at) {
                    self.part_types.insert(field.clone(), json!(kind));
                }
                self.fields.push(Param::new(field.clone(), value));
            } else {
                self.fields.push(encoding::form_field(field, value, at, structured));
            }
        }
    }

    /// A raw body: one argument, a file (or text, for `text/*`).
    fn raw_body(&mut self, media_type: Option<&str>, text_schema: Option<Value>, body_required: bool) {
        let schema = match text_schema {
            Some(schema) if schema.get("type").is_some() => schema,
            Some(_) => json!({"type": "string"}),
            None => {
                self.has_files = true;
                file_schema("The request body")
            }
        };
        let prop = self.add("body", "body", schema, body_required);
        self.raw_body =
            Some(RequestBody::Binary { value: format!("{{{prop}}}"), content_type: media_type.map(str::to_owned) });
    }

    /// Drops the query parameter or header that the credential already sets
    /// (so it is neither asked of the model nor sent twice).
    fn drop_credential(&mut self, placement: &Placement) {
        let (list, name) = match placement {
            Placement::Query { name } => (&mut self.query, name.as_str()),
            Placement::Header { name } => (&mut self.headers, name.as_str()),
            Placement::Bearer | Placement::Basic => (&mut self.headers, "authorization"),
        };
        let mut dropped = Vec::new();
        list.retain(|param| {
            let same = match placement {
                Placement::Query { .. } => param.name == name,
                _ => param.name.eq_ignore_ascii_case(name),
            };
            if same {
                dropped.extend(app::spec::sole_arg(&param.value));
            }
            !same
        });
        for prop in dropped {
            self.properties.remove(&prop);
            self.required.retain(|r| r.as_str() != Some(prop.as_str()));
        }
    }

    fn body(&mut self) -> Option<RequestBody> {
        if let Some(raw) = self.raw_body.take() {
            return Some(raw);
        }
        if let Some((value, optional)) = self.json_body.take() {
            return Some(RequestBody::Json { value, optional });
        }
        if self.fields.is_empty() {
            return None;
        }
        let fields = std::mem::take(&mut self.fields);
        if !self.multipart {
            return Some(RequestBody::Form { fields });
        }
        let parts = fields
            .into_iter()
            .map(|field| Part {
                content_type: self.part_types.get(&field.name).and_then(Value::as_str).map(str::to_owned),
                name: field.name,
                value: field.value,
            })
            .collect();
        Some(RequestBody::Multipart { parts })
    }

    fn into_tool(mut self, head: ToolHead) -> ToolSpec {
        let body = self.body();
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
                path_styles: self.path_styles,
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

/// A Swagger 2.0 non-body parameter's schema (type, constraints and
/// examples live on the parameter), as JSON Schema 2020-12.
fn swagger_param_schema(param: &Value) -> Value {
    const KEYS: [&str; 17] = [
        "type",
        "format",
        "enum",
        "default",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "pattern",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "example",
        "x-example",
    ];
    let mut raw = Map::new();
    for key in KEYS {
        if let Some(value) = param.get(key) {
            let key = if key == "x-example" { "example" } else { key };
            raw.entry(key).or_insert_with(|| value.clone());
        }
    }
    schema::plain(&raw)
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
