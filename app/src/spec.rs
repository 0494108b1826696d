//! The server spec: a hosted MCP server described as data.
//!
//! A spec names the server and lists its tools; each tool is an HTTP
//! request template (an *action*) plus the JSON Schema of its arguments.
//! [`validate`] is the one place that decides whether a spec is acceptable;
//! the UI, the API and the engine all call it. Everything here is pure and
//! compiles to wasm.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// The spec format version this build reads and writes.
pub const SPEC_VERSION: u32 = 1;
/// Longest tool name: MCP clients prefix names and break past 64 characters.
pub const MAX_TOOL_NAME: usize = 64;
/// Longest slug (the `/mcp/{slug}` path segment).
pub const MAX_SLUG: usize = 64;
/// Tools a free account may put in one server.
pub const FREE_MAX_TOOLS: usize = 3;
/// Default and largest size of a tool result shown to the model.
pub const DEFAULT_RESPONSE_BYTES: u32 = 100 * 1024;
pub const MAX_RESPONSE_BYTES: u32 = 1024 * 1024;
/// How deeply a tool's argument schema may nest (objects and arrays). Far
/// below serde_json's recursion limit (128), so whatever is stored with a
/// schema (a spec, a wizard's proposal) always reads back.
pub const MAX_SCHEMA_DEPTH: u32 = 64;

fn spec_version() -> u32 {
    SPEC_VERSION
}

/// A whole server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    #[serde(default = "spec_version")]
    pub version: u32,
    /// Shown to people and sent to clients as the server's name.
    pub name: String,
    /// The endpoint is `/mcp/{slug}`: 1 to 64 of `a-z 0-9 -`, no leading or trailing `-`.
    pub slug: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
}

/// One tool: what the model sees, and the HTTP call it makes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// 1 to 64 of `A-Za-z0-9_-`, unique in the server.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    /// A JSON Schema for the arguments; must be an object schema.
    #[serde(default = "empty_object_schema")]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub input_schema: Value,
    /// Hints for clients; unset ones are derived from the HTTP method.
    #[serde(default, skip_serializing_if = "Annotations::is_empty")]
    pub annotations: Annotations,
    pub action: HttpAction,
}

pub fn empty_object_schema() -> Value {
    serde_json::json!({ "type": "object", "properties": {}, "additionalProperties": false })
}

/// MCP tool annotations. `None` means "derive from the method".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Annotations {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world: Option<bool>,
}

impl Annotations {
    pub fn is_empty(&self) -> bool {
        *self == Annotations::default()
    }
}

/// Annotations with every hint decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EffectiveAnnotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

impl ToolSpec {
    /// The annotations clients see: explicit ones win, the rest follow the
    /// HTTP method (GET reads; PUT and DELETE are idempotent; DELETE and PUT
    /// may destroy data; every action reaches an outside API).
    pub fn effective_annotations(&self) -> EffectiveAnnotations {
        use HttpMethod::*;
        let method = self.action.method;
        let a = &self.annotations;
        EffectiveAnnotations {
            read_only: a.read_only.unwrap_or(method == Get),
            destructive: a.destructive.unwrap_or(matches!(method, Put | Delete)),
            idempotent: a.idempotent.unwrap_or(matches!(method, Get | Put | Delete)),
            open_world: a.open_world.unwrap_or(true),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// An HTTP request template. `{name}` in the URL path, query and header
/// values and the body stands for the argument `name`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HttpAction {
    pub method: HttpMethod,
    /// Absolute http(s) URL. Placeholders may appear in the path only (the
    /// host is fixed, so credentials go nowhere else); each is percent-encoded
    /// as one path segment.
    pub url: String,
    /// Query parameters. One whose value refers to a missing argument is left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<Param>,
    /// Request headers, same rule as `query`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RequestBody>,
    /// Which stored credential to send, and where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<CredentialUse>,
    /// How path arguments that are arrays or objects (or want a `label` or
    /// `matrix` prefix) are written; a path argument not listed is `simple`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_styles: Vec<PathStyle>,
    #[serde(default, skip_serializing_if = "ResponseShape::is_default")]
    pub response: ResponseShape,
}

/// A named value built from a template. When the value is exactly one
/// `{name}` and that argument is an array or an object, `style` and
/// `explode` say how it is written (OpenAPI's serialisation rules); a value
/// mixing text and placeholders is filled in as text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub name: String,
    pub value: String,
    /// Query and form fields: `form` (default), `space_delimited`,
    /// `pipe_delimited`, `tab_delimited` or `deep_object`; headers: `simple`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<Style>,
    /// Each array item or object property as its own pair (default: true for
    /// `form` and `deep_object`, false otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
    /// Query only: leave RFC 3986 reserved characters (`:/?#[]@!$&'()*+,;=`)
    /// as they are instead of percent-encoding them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_reserved: bool,
}

impl Param {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Param { name: name.into(), value: value.into(), ..Param::default() }
    }

    /// With a serialisation style.
    pub fn styled(mut self, style: Style, explode: bool) -> Self {
        self.style = Some(style);
        self.explode = Some(explode);
        self
    }

    /// The style in effect where the param is used.
    pub fn style_in(&self, place: Place) -> Style {
        self.style.unwrap_or(match place {
            Place::Header => Style::Simple,
            Place::Query | Place::Form => Style::Form,
        })
    }

    /// Whether arrays and objects explode, where the param is used.
    pub fn explode_in(&self, place: Place) -> bool {
        self.explode.unwrap_or(matches!(self.style_in(place), Style::Form | Style::DeepObject))
    }
}

/// Where a [`Param`] goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Query,
    Header,
    Form,
}

/// How an array or object argument is written (OpenAPI `style`; Swagger 2's
/// `collectionFormat` maps onto these: `csv` = `form` unexploded, `ssv` =
/// `space_delimited`, `tsv` = `tab_delimited`, `pipes` = `pipe_delimited`,
/// `multi` = `form` exploded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// `ids=1&ids=2` exploded, `ids=1,2` not; objects `a=1&b=2` / `obj=a,1,b,2`.
    Form,
    /// `ids=1%202` (arrays).
    SpaceDelimited,
    /// `ids=1|2` (arrays).
    PipeDelimited,
    /// `ids=1%092` (arrays; Swagger 2 `tsv`).
    TabDelimited,
    /// `obj[a]=1&obj[b][c]=2&obj[list][0]=x` (objects, nested).
    DeepObject,
    /// Paths and headers: `1,2`; objects `a,1,b,2` / exploded `a=1,b=2`.
    Simple,
    /// Paths: `.1.2` exploded, `.1,2` not.
    Label,
    /// Paths: `;ids=1;ids=2` exploded, `;ids=1,2` not.
    Matrix,
}

impl Style {
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Form => "form",
            Style::SpaceDelimited => "space_delimited",
            Style::PipeDelimited => "pipe_delimited",
            Style::TabDelimited => "tab_delimited",
            Style::DeepObject => "deep_object",
            Style::Simple => "simple",
            Style::Label => "label",
            Style::Matrix => "matrix",
        }
    }
}

/// How one path argument is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PathStyle {
    /// The argument (a `{placeholder}` of the URL's path).
    pub arg: String,
    /// `simple`, `label` or `matrix`.
    pub style: Style,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub explode: bool,
    /// The parameter's name in `matrix` style (default: the argument's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The request body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RequestBody {
    /// A JSON document. A string that is exactly `"{name}"` becomes the
    /// argument's JSON value (and the key is dropped when it is missing);
    /// other strings have their placeholders filled in.
    Json {
        #[cfg_attr(feature = "ssr", schema(value_type = Object))]
        value: Value,
        /// Sent only when the caller gave at least one of its arguments.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        optional: bool,
    },
    /// `application/x-www-form-urlencoded` fields (objects and arrays per
    /// each field's `style`: `form` or `deep_object`, ...).
    Form { fields: Vec<Param> },
    /// `multipart/form-data`: a part per field; a part whose argument is a
    /// file (see [`file_schema`]) is sent as that file, an object or array as
    /// JSON, anything else as text.
    Multipart { parts: Vec<Part> },
    /// The raw bytes of one file argument (`"{file}"`), e.g.
    /// `application/octet-stream` or an image.
    Binary {
        value: String,
        /// The Content-Type sent (default: the file's `media_type`, else
        /// `application/octet-stream`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
    },
}

/// One part of a multipart body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub name: String,
    /// A template; `"{file}"` with a file argument sends that file.
    pub value: String,
    /// The part's Content-Type (default: the file's, `application/json` for
    /// objects and arrays, none for text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// The largest file an argument may carry (decoded). Its base64 text must
/// fit in the JSON-RPC request a hosted server accepts from a client: 8 MiB
/// for a server whose tools take files (256 KiB for the others).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

impl ToolSpec {
    /// Whether the tool sends files (a multipart or raw binary body).
    pub fn takes_files(&self) -> bool {
        matches!(self.action.body, Some(RequestBody::Multipart { .. } | RequestBody::Binary { .. }))
    }
}

/// The input schema of a file argument: its content in base64, with an
/// optional file name and media type. (`description` says what file.)
pub fn file_schema(description: &str) -> Value {
    let what = if description.trim().is_empty() { "A file" } else { description.trim() };
    serde_json::json!({
        "type": "object",
        "description": format!("{what}. Give its bytes base64-encoded in `content_base64` (at most {} MiB \
            decoded), with `filename` and `media_type` when known.", MAX_FILE_BYTES >> 20),
        "properties": {
            "content_base64": {"type": "string", "contentEncoding": "base64"},
            "filename": {"type": "string"},
            "media_type": {"type": "string", "examples": ["image/png", "application/pdf"]}
        },
        "required": ["content_base64"],
        "additionalProperties": false
    })
}

/// Which stored credential an action sends, and where it goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CredentialUse {
    /// The credential's name in this server (1 to 64 of `A-Za-z0-9_-`).
    pub credential: String,
    pub placement: Placement,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "in", rename_all = "snake_case", deny_unknown_fields)]
pub enum Placement {
    /// `Authorization: Bearer <secret>`
    Bearer,
    /// `<name>: <secret>`
    Header { name: String },
    /// `?<name>=<secret>`
    Query { name: String },
    /// `Authorization: Basic base64(<secret>)`; the secret is `user:password`.
    Basic,
}

/// How the upstream's answer is turned into the tool result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResponseShape {
    /// Largest result text given to the model; longer ones are cut with a
    /// note. Default 100 KiB, at most 1 MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u32>,
    /// A JSON pointer (RFC 6901, e.g. `/data/items`) selecting the part of a
    /// JSON answer to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl ResponseShape {
    pub fn is_default(&self) -> bool {
        *self == ResponseShape::default()
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes.unwrap_or(DEFAULT_RESPONSE_BYTES).min(MAX_RESPONSE_BYTES) as usize
    }
}

/// A piece of a template: literal text or an argument reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Arg(String),
}

/// Splits `text` into literal text and `{name}` references. `{{` and `}}`
/// stand for literal braces.
pub fn parse_template(text: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') => name.push(c),
                        Some(c) => return Err(format!("`{c}` is not allowed in the placeholder `{{{name}...`")),
                        None => return Err(format!("the placeholder `{{{name}` is not closed with `}}`")),
                    }
                }
                if name.is_empty() {
                    return Err("`{}` names no argument".into());
                }
                if !literal.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut literal)));
                }
                segments.push(Segment::Arg(name));
            }
            '}' => return Err("a lone `}` (write `}}` for a literal brace)".into()),
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Text(literal));
    }
    Ok(segments)
}

/// The argument names a template refers to.
pub fn template_args(text: &str) -> Vec<String> {
    parse_template(text)
        .map(|segments| {
            segments
                .into_iter()
                .filter_map(|s| match s {
                    Segment::Arg(name) => Some(name),
                    Segment::Text(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// If `text` is exactly one placeholder, its argument name.
pub fn sole_arg(text: &str) -> Option<String> {
    match parse_template(text).ok()?.as_slice() {
        [Segment::Arg(name)] => Some(name.clone()),
        _ => None,
    }
}

/// The parts of an absolute http(s) URL that matter for validation,
/// split without a URL library so this compiles small to wasm.
#[derive(Debug, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub scheme: &'a str,
    /// `host[:port]`
    pub authority: &'a str,
    /// Path and query, starting with `/` (or empty).
    pub rest: &'a str,
}

pub fn split_url(url: &str) -> Result<UrlParts<'_>, String> {
    let (scheme, after) = url.split_once("://").ok_or("must start with http:// or https://")?;
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme `{scheme}` is not allowed: use http or https"));
    }
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    if authority.is_empty() {
        return Err("has no host".into());
    }
    if authority.contains('@') {
        return Err("must not contain a user name or password (store it as a credential)".into());
    }
    if authority.contains(['{', '}']) {
        return Err("placeholders are allowed in the path only, not in the host".into());
    }
    if rest.contains('#') {
        return Err("must not contain a `#fragment`".into());
    }
    Ok(UrlParts { scheme, authority, rest })
}

/// One problem with a spec, addressed by its field path (`tools[0].name`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Issue {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Limits that depend on who owns the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecLimits {
    /// `None`: no limit (paid tier).
    pub max_tools: Option<usize>,
}

impl SpecLimits {
    pub const FREE: SpecLimits = SpecLimits { max_tools: Some(FREE_MAX_TOOLS) };
    pub const UNLIMITED: SpecLimits = SpecLimits { max_tools: None };

    pub fn for_tier(tier: crate::model::Tier) -> Self {
        match tier {
            crate::model::Tier::Free => SpecLimits::FREE,
            crate::model::Tier::Paid => SpecLimits::UNLIMITED,
        }
    }
}

/// Headers that belong to the HTTP layer: no action may set them.
const TRANSPORT_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "proxy-authorization",
    "proxy-connection",
];
/// Headers that carry secrets: only a stored credential may fill them.
const SECRET_HEADERS: &[&str] = &["authorization", "cookie"];

pub fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

pub fn valid_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOOL_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn valid_credential_name(name: &str) -> bool {
    valid_tool_name(name)
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Collects issues as validation walks the spec.
struct Issues(Vec<Issue>);

impl Issues {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Issue { path: path.into(), message: message.into() });
    }
}

/// Checks a spec and returns every problem, each with its field path. An
/// empty list means the spec can be stored and served.
pub fn validate(spec: &ServerSpec, limits: SpecLimits) -> Vec<Issue> {
    let mut issues = Issues(Vec::new());
    if spec.version != SPEC_VERSION {
        issues.add(
            "version",
            format!("unsupported spec version {}; this server reads version {SPEC_VERSION}", spec.version),
        );
    }
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        issues.add("name", "give the server a name of 1 to 100 characters");
    }
    if !valid_slug(&spec.slug) {
        issues.add(
            "slug",
            format!(
                "`{}` is not a valid slug: use 1 to {MAX_SLUG} of a-z, 0-9 and `-`, not starting or ending with `-`",
                spec.slug
            ),
        );
    }
    if spec.description.chars().count() > 2000 {
        issues.add("description", "keep the description under 2000 characters");
    }
    if let Some(max) = limits.max_tools
        && spec.tools.len() > max
    {
        issues.add(
                "tools",
                format!(
                    "the free tier allows at most {max} tools per server and this spec has {}; remove some or upgrade to the paid tier",
                    spec.tools.len()
                ),
            );
    }
    let mut names = BTreeSet::new();
    for (i, tool) in spec.tools.iter().enumerate() {
        let at = format!("tools[{i}]");
        if !valid_tool_name(&tool.name) {
            issues.add(
                format!("{at}.name"),
                format!(
                    "`{}` is not a valid tool name: use 1 to {MAX_TOOL_NAME} of A-Z, a-z, 0-9, `_` and `-`",
                    tool.name
                ),
            );
        } else if !names.insert(tool.name.as_str()) {
            issues.add(format!("{at}.name"), format!("another tool is already named `{}`", tool.name));
        }
        if tool.description.trim().is_empty() {
            issues.add(format!("{at}.description"), "describe what the tool does: the model chooses tools by it");
        }
        validate_tool(tool, &at, &mut issues);
    }
    issues.0
}

/// How many levels of objects and arrays `value` nests (a scalar is 0).
/// Iterative, so any value can be measured.
pub fn json_depth(value: &Value) -> u32 {
    let mut deepest = 0;
    let mut stack = vec![(value, 1u32)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Object(map) => Box::new(map.values()),
            Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        deepest = deepest.max(depth);
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    deepest
}

fn validate_tool(tool: &ToolSpec, at: &str, issues: &mut Issues) {
    let schema = &tool.input_schema;
    let depth = json_depth(schema);
    if depth > MAX_SCHEMA_DEPTH {
        issues.add(
            format!("{at}.input_schema"),
            format!("nests {depth} levels deep; at most {MAX_SCHEMA_DEPTH} are allowed"),
        );
    }
    let mut properties: BTreeSet<String> = BTreeSet::new();
    let mut required: BTreeSet<String> = BTreeSet::new();
    match schema.as_object() {
        None => issues.add(format!("{at}.input_schema"), "must be a JSON object (a JSON Schema)"),
        Some(object) => {
            if object.get("type").and_then(Value::as_str) != Some("object") {
                issues.add(format!("{at}.input_schema.type"), "must be \"object\": tool arguments are an object");
            }
            match object.get("properties") {
                None => {}
                Some(Value::Object(props)) => properties.extend(props.keys().cloned()),
                Some(_) => issues.add(format!("{at}.input_schema.properties"), "must be an object of property schemas"),
            }
            match object.get("required") {
                None => {}
                Some(Value::Array(names)) => {
                    for (j, name) in names.iter().enumerate() {
                        match name.as_str() {
                            Some(name) if properties.contains(name) => {
                                required.insert(name.to_owned());
                            }
                            Some(name) => issues.add(
                                format!("{at}.input_schema.required[{j}]"),
                                format!("`{name}` is required but not among the properties"),
                            ),
                            None => issues.add(format!("{at}.input_schema.required[{j}]"), "must be a property name"),
                        }
                    }
                }
                Some(_) => issues.add(format!("{at}.input_schema.required"), "must be an array of property names"),
            }
        }
    }

    let action = &tool.action;
    let at = format!("{at}.action");
    let known = |name: &str| properties.contains(name);
    let check_template = |path: String, text: &str, issues: &mut Issues| match parse_template(text) {
        Err(why) => issues.add(path, why),
        Ok(segments) => {
            for segment in segments {
                if let Segment::Arg(name) = segment
                    && !known(&name)
                {
                    issues.add(
                        path.clone(),
                        format!("`{{{name}}}` refers to no argument: add `{name}` to the input schema's properties"),
                    );
                }
            }
        }
    };

    match split_url(&action.url) {
        Err(why) => issues.add(format!("{at}.url"), format!("`{}` {why}", action.url)),
        Ok(parts) => {
            if parts.authority.chars().any(char::is_whitespace) || parts.rest.chars().any(char::is_whitespace) {
                issues.add(format!("{at}.url"), "must not contain spaces");
            }
            let (path, query) = parts.rest.split_once('?').unwrap_or((parts.rest, ""));
            if query.contains('{') {
                issues.add(format!("{at}.url"), "put templated query parameters in `query`, not in the URL");
            }
            check_template(format!("{at}.url"), path, issues);
            for name in template_args(path) {
                if properties.contains(&name) && !required.contains(&name) {
                    issues.add(
                        format!("{at}.url"),
                        format!(
                            "`{{{name}}}` is in the path, so `{name}` must be listed in the input schema's `required`"
                        ),
                    );
                }
            }
        }
    }
    for (j, param) in action.query.iter().enumerate() {
        if param.name.is_empty() {
            issues.add(format!("{at}.query[{j}].name"), "a query parameter needs a name");
        }
        check_template(format!("{at}.query[{j}].value"), &param.value, issues);
        check_style(format!("{at}.query[{j}]"), param, Place::Query, issues);
    }
    let path_args = split_url(&action.url)
        .map(|parts| template_args(parts.rest.split_once('?').map_or(parts.rest, |(path, _)| path)))
        .unwrap_or_default();
    let mut styled = BTreeSet::new();
    for (j, path_style) in action.path_styles.iter().enumerate() {
        let here = format!("{at}.path_styles[{j}]");
        if !path_args.contains(&path_style.arg) {
            issues.add(format!("{here}.arg"), format!("`{}` is not a placeholder of the URL's path", path_style.arg));
        } else if !styled.insert(path_style.arg.as_str()) {
            issues.add(format!("{here}.arg"), format!("`{}` is styled twice", path_style.arg));
        }
        if !matches!(path_style.style, Style::Simple | Style::Label | Style::Matrix) {
            issues.add(
                format!("{here}.style"),
                format!("a path argument is `simple`, `label` or `matrix`, not `{}`", path_style.style.as_str()),
            );
        }
    }
    for (j, header) in action.headers.iter().enumerate() {
        let lower = header.name.to_ascii_lowercase();
        if !valid_header_name(&header.name) {
            issues.add(format!("{at}.headers[{j}].name"), format!("`{}` is not a valid header name", header.name));
        } else if TRANSPORT_HEADERS.contains(&lower.as_str()) || SECRET_HEADERS.contains(&lower.as_str()) {
            issues.add(
                format!("{at}.headers[{j}].name"),
                format!(
                    "`{}` cannot be set by an action (use `auth` with a stored credential for secrets)",
                    header.name
                ),
            );
        }
        if header.value.contains(['\r', '\n']) {
            issues.add(format!("{at}.headers[{j}].value"), "must not contain line breaks");
        }
        check_template(format!("{at}.headers[{j}].value"), &header.value, issues);
        check_style(format!("{at}.headers[{j}]"), header, Place::Header, issues);
    }
    match &action.body {
        None => {}
        Some(_) if action.method == HttpMethod::Get => {
            issues.add(format!("{at}.body"), "a GET request has no body; use `query`, or another method")
        }
        Some(RequestBody::Json { value, .. }) => {
            let mut strings = Vec::new();
            collect_strings(value, "", &mut strings);
            for (pointer, text) in strings {
                check_template(format!("{at}.body.value{pointer}"), &text, issues);
            }
        }
        Some(RequestBody::Form { fields }) => {
            for (j, field) in fields.iter().enumerate() {
                if field.name.is_empty() {
                    issues.add(format!("{at}.body.fields[{j}].name"), "a form field needs a name");
                }
                check_template(format!("{at}.body.fields[{j}].value"), &field.value, issues);
                check_style(format!("{at}.body.fields[{j}]"), field, Place::Form, issues);
            }
        }
        Some(RequestBody::Multipart { parts }) => {
            for (j, part) in parts.iter().enumerate() {
                if part.name.is_empty() || part.name.contains(['"', '\r', '\n']) {
                    issues
                        .add(format!("{at}.body.parts[{j}].name"), "a part needs a name without quotes or line breaks");
                }
                check_template(format!("{at}.body.parts[{j}].value"), &part.value, issues);
                if part.content_type.as_deref().is_some_and(|t| !valid_media_type(t)) {
                    issues.add(format!("{at}.body.parts[{j}].content_type"), "is not a media type (`type/subtype`)");
                }
            }
        }
        Some(RequestBody::Binary { value, content_type }) => {
            if sole_arg(value).is_none() {
                issues.add(format!("{at}.body.value"), "a binary body is exactly one file argument, as `{file}`");
            }
            check_template(format!("{at}.body.value"), value, issues);
            if content_type.as_deref().is_some_and(|t| !valid_media_type(t)) {
                issues.add(format!("{at}.body.content_type"), "is not a media type (`type/subtype`)");
            }
        }
    }
    if let Some(auth) = &action.auth {
        if !valid_credential_name(&auth.credential) {
            issues.add(
                format!("{at}.auth.credential"),
                format!(
                    "`{}` is not a valid credential name: use 1 to 64 of A-Z, a-z, 0-9, `_` and `-`",
                    auth.credential
                ),
            );
        }
        match &auth.placement {
            Placement::Header { name } if !valid_header_name(name) => {
                issues.add(format!("{at}.auth.placement.name"), format!("`{name}` is not a valid header name"))
            }
            Placement::Header { name } if TRANSPORT_HEADERS.contains(&name.to_ascii_lowercase().as_str()) => {
                issues.add(format!("{at}.auth.placement.name"), format!("`{name}` cannot carry a credential"))
            }
            Placement::Query { name } if name.is_empty() => {
                issues.add(format!("{at}.auth.placement.name"), "name the query parameter that carries the credential")
            }
            _ => {}
        }
    }
    if let Some(max) = action.response.max_bytes
        && (max == 0 || max > MAX_RESPONSE_BYTES)
    {
        issues.add(format!("{at}.response.max_bytes"), format!("must be 1 to {MAX_RESPONSE_BYTES} bytes"));
    }
    if let Some(pointer) = &action.response.pointer
        && !pointer.is_empty()
        && !pointer.starts_with('/')
    {
        issues.add(format!("{at}.response.pointer"), "a JSON pointer starts with `/` (e.g. `/data/items`)");
    }
}

/// Whether `text` looks like `type/subtype` (parameters allowed), with no line breaks.
fn valid_media_type(text: &str) -> bool {
    let essence = text.split(';').next().unwrap_or_default().trim();
    essence.split_once('/').is_some_and(|(kind, sub)| valid_header_name(kind) && valid_header_name(sub))
        && !text.contains(['\r', '\n'])
}

/// A param's style must suit where it goes; `allow_reserved` is for the query only.
fn check_style(at: String, param: &Param, place: Place, issues: &mut Issues) {
    let Some(style) = param.style else {
        if param.allow_reserved && place != Place::Query {
            issues.add(format!("{at}.allow_reserved"), "applies to query parameters only");
        }
        return;
    };
    let fits = match place {
        Place::Header => style == Style::Simple,
        Place::Query | Place::Form => matches!(
            style,
            Style::Form | Style::SpaceDelimited | Style::PipeDelimited | Style::TabDelimited | Style::DeepObject
        ),
    };
    if !fits {
        let allowed = match place {
            Place::Header => "a header is `simple`",
            Place::Query => {
                "a query parameter is `form`, `space_delimited`, `pipe_delimited`, `tab_delimited` or `deep_object`"
            }
            Place::Form => {
                "a form field is `form`, `space_delimited`, `pipe_delimited`, `tab_delimited` or `deep_object`"
            }
        };
        issues.add(format!("{at}.style"), format!("{allowed}, not `{}`", style.as_str()));
    }
    if param.allow_reserved && place != Place::Query {
        issues.add(format!("{at}.allow_reserved"), "applies to query parameters only");
    }
}

/// Every string in a JSON value, with its JSON pointer.
fn collect_strings(value: &Value, pointer: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(text) => out.push((pointer.to_owned(), text.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_strings(item, &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                collect_strings(item, &format!("{pointer}/{key}"), out);
            }
        }
        _ => {}
    }
}

/// The credential names a spec's actions use.
pub fn credential_names(spec: &ServerSpec) -> BTreeSet<String> {
    spec.tools.iter().filter_map(|t| t.action.auth.as_ref().map(|a| a.credential.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str) -> ToolSpec {
        ToolSpec {
            name: name.into(),
            title: None,
            description: "Gets a pet".into(),
            input_schema: json!({"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}),
            annotations: Annotations::default(),
            action: HttpAction {
                method: HttpMethod::Get,
                url: "https://api.example.com/pets/{id}".into(),
                query: vec![],
                headers: vec![],
                body: None,
                auth: None,
                path_styles: vec![],
                response: ResponseShape::default(),
            },
        }
    }

    fn spec(tools: Vec<ToolSpec>) -> ServerSpec {
        ServerSpec { version: 1, name: "Pets".into(), slug: "pets".into(), description: String::new(), tools }
    }

    fn paths(issues: &[Issue]) -> Vec<&str> {
        issues.iter().map(|i| i.path.as_str()).collect()
    }

    #[test]
    fn schemas_nesting_too_deeply_are_refused() {
        assert_eq!(json_depth(&json!(1)), 0);
        assert_eq!(json_depth(&json!({"a": [1, {"b": {}}]})), 4);
        let mut deep = json!({"type": "string"});
        for _ in 0..MAX_SCHEMA_DEPTH / 2 {
            deep = json!({"type": "object", "properties": {"next": deep}});
        }
        let mut t = tool("deep");
        t.input_schema = json!({"type": "object", "properties": {"id": deep}, "required": ["id"]});
        let issues = validate(&spec(vec![t]), SpecLimits::FREE);
        assert_eq!(paths(&issues), vec!["tools[0].input_schema"], "{issues:?}");
        assert!(issues[0].message.contains("nests 67 levels deep; at most 64"), "{issues:?}");
    }

    #[test]
    fn a_good_spec_has_no_issues() {
        assert_eq!(validate(&spec(vec![tool("get_pet")]), SpecLimits::FREE), vec![]);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let mut bad = tool("bad name!");
        bad.description = " ".into();
        bad.action.url = "ftp://{host}/x".into();
        bad.action.headers = vec![Param::new("Host", "x"), Param::new("X-Ok", "{missing}")];
        let mut s = spec(vec![bad, tool("get_pet"), tool("get_pet")]);
        s.slug = "Not A Slug".into();
        let issues = validate(&s, SpecLimits::FREE);
        let p = paths(&issues);
        for expected in [
            "slug",
            "tools[0].name",
            "tools[0].description",
            "tools[0].action.url",
            "tools[0].action.headers[0].name",
            "tools[0].action.headers[1].value",
            "tools[2].name",
        ] {
            assert!(p.contains(&expected), "missing {expected} in {issues:#?}");
        }
    }

    #[test]
    fn tool_limit_names_the_free_tier() {
        let tools = (0..4).map(|i| tool(&format!("t{i}"))).collect();
        let issues = validate(&spec(tools), SpecLimits::FREE);
        assert_eq!(paths(&issues), vec!["tools"]);
        assert!(issues[0].message.contains("at most 3 tools"), "{}", issues[0].message);
        let tools: Vec<_> = (0..40).map(|i| tool(&format!("t{i}"))).collect();
        assert!(validate(&spec(tools), SpecLimits::UNLIMITED).is_empty());
    }

    #[test]
    fn tool_names_are_limited_to_64_characters() {
        assert!(valid_tool_name(&"a".repeat(64)));
        assert!(!valid_tool_name(&"a".repeat(65)));
        assert!(!valid_tool_name("dots.not.allowed"));
    }

    #[test]
    fn hosts_cannot_be_templated_and_path_args_must_be_required() {
        let mut t = tool("t");
        t.action.url = "https://{id}.example.com/".into();
        assert!(validate(&spec(vec![t]), SpecLimits::FREE)[0].message.contains("path only"));

        let mut t = tool("t");
        t.input_schema = json!({"type": "object", "properties": {"id": {"type": "string"}}});
        let issues = validate(&spec(vec![t]), SpecLimits::FREE);
        assert!(issues[0].message.contains("required"), "{issues:?}");

        let mut t = tool("t");
        t.action.url = "https://user:pw@example.com/".into();
        assert!(validate(&spec(vec![t]), SpecLimits::FREE)[0].message.contains("credential"));
    }

    #[test]
    fn body_templates_are_checked_and_get_has_none() {
        let mut t = tool("t");
        t.action.method = HttpMethod::Post;
        t.action.body =
            Some(RequestBody::Json { value: json!({"pet": {"id": "{id}", "tag": "{nope}"}}), optional: false });
        let issues = validate(&spec(vec![t.clone()]), SpecLimits::FREE);
        assert_eq!(paths(&issues), vec!["tools[0].action.body.value/pet/tag"]);
        t.action.method = HttpMethod::Get;
        t.action.body = Some(RequestBody::Form { fields: vec![] });
        assert_eq!(paths(&validate(&spec(vec![t]), SpecLimits::FREE)), vec!["tools[0].action.body"]);
    }

    #[test]
    fn styles_must_suit_where_they_are_used() {
        let mut t = tool("t");
        t.action.query = vec![Param::new("ids", "{id}").styled(Style::Matrix, false)];
        t.action.headers = vec![Param::new("X-Ids", "{id}").styled(Style::PipeDelimited, false)];
        t.action.headers[0].allow_reserved = true;
        t.action.path_styles = vec![
            PathStyle { arg: "id".into(), style: Style::DeepObject, explode: false, name: None },
            PathStyle { arg: "nope".into(), style: Style::Label, explode: false, name: None },
        ];
        let issues = validate(&spec(vec![t]), SpecLimits::FREE);
        assert_eq!(
            paths(&issues),
            vec![
                "tools[0].action.query[0].style",
                "tools[0].action.path_styles[0].style",
                "tools[0].action.path_styles[1].arg",
                "tools[0].action.headers[0].style",
                "tools[0].action.headers[0].allow_reserved",
            ]
        );
        assert!(issues[0].message.contains("not `matrix`"), "{}", issues[0].message);
    }

    #[test]
    fn multipart_and_binary_bodies_are_checked() {
        let mut t = tool("t");
        t.action.method = HttpMethod::Post;
        t.action.body = Some(RequestBody::Multipart {
            parts: vec![
                Part { name: "fi\"le".into(), value: "{id}".into(), content_type: None },
                Part { name: "meta".into(), value: "{id}".into(), content_type: Some("json".into()) },
            ],
        });
        let issues = validate(&spec(vec![t.clone()]), SpecLimits::FREE);
        assert_eq!(
            paths(&issues),
            vec!["tools[0].action.body.parts[0].name", "tools[0].action.body.parts[1].content_type"]
        );
        t.action.body = Some(RequestBody::Binary { value: "file {id}".into(), content_type: Some("image/png".into()) });
        assert_eq!(paths(&validate(&spec(vec![t.clone()]), SpecLimits::FREE)), vec!["tools[0].action.body.value"]);
        t.action.body = Some(RequestBody::Binary { value: "{id}".into(), content_type: None });
        assert!(validate(&spec(vec![t.clone()]), SpecLimits::FREE).is_empty());
        assert!(t.takes_files());
    }

    #[test]
    fn styled_params_read_back_and_default_per_place() {
        let param: Param =
            serde_json::from_value(json!({"name": "q", "value": "{q}", "style": "deep_object"})).unwrap();
        assert_eq!((param.style_in(Place::Query), param.explode_in(Place::Query)), (Style::DeepObject, true));
        let plain = Param::new("q", "{q}");
        assert_eq!((plain.style_in(Place::Header), plain.explode_in(Place::Header)), (Style::Simple, false));
        assert_eq!(serde_json::to_value(&plain).unwrap(), json!({"name": "q", "value": "{q}"}), "defaults stay out");
    }

    #[test]
    fn secrets_cannot_be_put_in_headers() {
        let mut t = tool("t");
        t.action.headers = vec![Param::new("Authorization", "Bearer abc")];
        assert!(validate(&spec(vec![t]), SpecLimits::FREE)[0].message.contains("credential"));
    }

    #[test]
    fn templates_parse_placeholders_and_escapes() {
        assert_eq!(
            parse_template("a{x}b{{c}}").unwrap(),
            vec![Segment::Text("a".into()), Segment::Arg("x".into()), Segment::Text("b{c}".into())]
        );
        assert!(parse_template("{unclosed").is_err());
        assert!(parse_template("{}").is_err());
        assert!(parse_template("}").is_err());
        assert_eq!(sole_arg("{limit}"), Some("limit".into()));
        assert_eq!(sole_arg("x{limit}"), None);
    }

    #[test]
    fn annotations_follow_the_method_unless_set() {
        let mut t = tool("t");
        let a = t.effective_annotations();
        assert!(a.read_only && !a.destructive && a.idempotent && a.open_world);
        t.action.method = HttpMethod::Delete;
        let a = t.effective_annotations();
        assert!(!a.read_only && a.destructive && a.idempotent);
        t.annotations.destructive = Some(false);
        assert!(!t.effective_annotations().destructive);
        t.action.method = HttpMethod::Post;
        let a = t.effective_annotations();
        assert!(!a.read_only && !a.idempotent);
    }

    #[test]
    fn specs_round_trip_through_json() {
        let s = spec(vec![tool("get_pet")]);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ServerSpec>(&text).unwrap(), s);
        let unknown = serde_json::from_str::<ServerSpec>(r#"{"name":"x","slug":"x","oops":1}"#);
        assert!(unknown.unwrap_err().to_string().contains("oops"));
    }
}
