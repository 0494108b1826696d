//! Request bodies: JSON, urlencoded forms, multipart with files, raw
//! binary (pure: arguments in, bytes out).

use super::render::{RenderError, err, fill};
use super::serialize::{self, How};
use app::spec::{MAX_FILE_BYTES, Param, Part, Place, RequestBody, sole_arg, template_args};
use base64::Engine;
use serde_json::{Map, Value};

/// A body ready to send: its Content-Type and bytes.
pub type Body = (String, Vec<u8>);

/// The body for `body` with `args`; `None` when nothing is to be sent (an
/// optional body none of whose arguments were given, or a body that is one
/// absent argument).
pub fn render_body(body: &RequestBody, args: &Map<String, Value>) -> Result<Option<Body>, RenderError> {
    match body {
        RequestBody::Json { value, optional } => json(value, *optional, args),
        RequestBody::Form { fields } => {
            let pairs = form_pairs(fields, args)?;
            let encoded: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", serialize::encode(k, false), serialize::encode(v, false)))
                .collect();
            Ok(Some(("application/x-www-form-urlencoded".into(), encoded.join("&").into_bytes())))
        }
        RequestBody::Multipart { parts } => multipart(parts, args),
        RequestBody::Binary { value, content_type } => binary(value, content_type.as_deref(), args),
    }
}

fn json(template: &Value, optional: bool, args: &Map<String, Value>) -> Result<Option<Body>, RenderError> {
    if optional && !json_args(template).iter().any(|name| args.get(name).is_some_and(|v| !v.is_null())) {
        return Ok(None);
    }
    let Some(value) = fill_json(template, args)? else {
        return Ok(None);
    };
    Ok(Some(("application/json".into(), serde_json::to_vec(&value).expect("JSON values serialize"))))
}

/// Every argument a JSON body template names.
fn json_args(template: &Value) -> Vec<String> {
    match template {
        Value::String(text) => template_args(text),
        Value::Array(items) => items.iter().flat_map(json_args).collect(),
        Value::Object(map) => map.values().flat_map(json_args).collect(),
        _ => Vec::new(),
    }
}

/// Substitutes arguments into a JSON body template. An absent argument's
/// field is left out, and so is an object or array all of whose templated
/// members were left out (an optional nested object the caller did not give).
pub fn fill_json(template: &Value, args: &Map<String, Value>) -> Result<Option<Value>, RenderError> {
    Ok(match template {
        Value::String(text) => match sole_arg(text) {
            Some(name) => args.get(&name).filter(|v| !v.is_null()).cloned(),
            None => fill(text, args, false)?.map(Value::String),
        },
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.extend(fill_json(item, args)?);
            }
            (items.is_empty() || !out.is_empty()).then_some(Value::Array(out))
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                if let Some(value) = fill_json(item, args)? {
                    out.insert(key.clone(), value);
                }
            }
            (map.is_empty() || !out.is_empty()).then_some(Value::Object(out))
        }
        other => Some(other.clone()),
    })
}

/// The (unencoded) pairs of form fields: a field that is exactly one
/// argument is written per its style; any other is filled in as text.
pub fn form_pairs(fields: &[Param], args: &Map<String, Value>) -> Result<Vec<(String, String)>, RenderError> {
    let mut out = Vec::new();
    for field in fields {
        match sole_arg(&field.value) {
            Some(arg) => {
                if let Some(value) = args.get(&arg) {
                    out.extend(serialize::form(&field.name, value, How::of(field, Place::Form)));
                }
            }
            None => out.extend(fill(&field.value, args, false)?.map(|text| (field.name.clone(), text))),
        }
    }
    Ok(out)
}

/// A file argument, decoded.
#[derive(Debug, PartialEq)]
pub struct File {
    pub bytes: Vec<u8>,
    pub filename: Option<String>,
    pub media_type: Option<String>,
}

/// Reads a file argument (`{content_base64, filename?, media_type?}`);
/// `None` when the value is not one.
pub fn file(arg: &str, value: &Value) -> Result<Option<File>, RenderError> {
    let Some(content) = value.get("content_base64") else { return Ok(None) };
    let Some(content) = content.as_str() else {
        return err(format!("`{arg}.content_base64` must be a base64 string"));
    };
    if content.len() > MAX_FILE_BYTES / 3 * 4 + 8 {
        return err(format!("`{arg}` is larger than the {} MiB a file may be", MAX_FILE_BYTES >> 20));
    }
    let compact: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.trim_end_matches('=')))
        .map_err(|e| RenderError(format!("`{arg}.content_base64` is not base64: {e}")))?;
    if bytes.len() > MAX_FILE_BYTES {
        return err(format!("`{arg}` is larger than the {} MiB a file may be", MAX_FILE_BYTES >> 20));
    }
    let text = |key: &str| -> Result<Option<String>, RenderError> {
        match value.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.contains(['"', '\r', '\n']) => Ok(Some(s.clone())),
            Some(_) => err(format!("`{arg}.{key}` must be a string without quotes or line breaks")),
        }
    };
    Ok(Some(File { bytes, filename: text("filename")?, media_type: text("media_type")? }))
}

fn binary(template: &str, content_type: Option<&str>, args: &Map<String, Value>) -> Result<Option<Body>, RenderError> {
    let Some(arg) = sole_arg(template) else { return err("a binary body is exactly one file argument") };
    let Some(value) = args.get(&arg).filter(|v| !v.is_null()) else { return Ok(None) };
    let (bytes, media_type) = match (file(&arg, value)?, value) {
        (Some(file), _) => (file.bytes, file.media_type),
        (None, Value::String(text)) => (text.clone().into_bytes(), None),
        (None, _) => return err(format!("`{arg}` must be a file: {{\"content_base64\": \"…\"}}")),
    };
    let kind = content_type.map(str::to_owned).or(media_type).unwrap_or_else(|| "application/octet-stream".into());
    Ok(Some((kind, bytes)))
}

/// One multipart part before framing.
struct Piece {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// The pieces of one part: a file, text, a JSON object, or (for an array of
/// files or scalars) one piece per item.
fn pieces(part: &Part, args: &Map<String, Value>) -> Result<Vec<Piece>, RenderError> {
    let Some(arg) = sole_arg(&part.value) else {
        let text = fill(&part.value, args, false)?;
        return Ok(text.map(|text| named(part, text.into_bytes(), None, None)).into_iter().collect());
    };
    match args.get(&arg) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.iter().all(repeats_as_parts) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter().filter(|i| !i.is_null()) {
                out.push(piece(part, &arg, item)?);
            }
            Ok(out)
        }
        Some(value) => Ok(vec![piece(part, &arg, value)?]),
    }
}

/// An array item sent as a part of its own: a scalar or a file (not a
/// nested array or a plain object, which go as one JSON part).
fn repeats_as_parts(item: &Value) -> bool {
    match item {
        Value::Array(_) => false,
        Value::Object(map) => map.contains_key("content_base64"),
        _ => true,
    }
}

fn named(part: &Part, bytes: Vec<u8>, filename: Option<String>, kind: Option<String>) -> Piece {
    Piece { name: part.name.clone(), filename, content_type: part.content_type.clone().or(kind), bytes }
}

fn piece(part: &Part, arg: &str, value: &Value) -> Result<Piece, RenderError> {
    if let Some(file) = file(arg, value)? {
        let filename = file.filename.or_else(|| Some(arg.to_owned()));
        let kind = file.media_type.unwrap_or_else(|| "application/octet-stream".into());
        return Ok(named(part, file.bytes, filename, Some(kind)));
    }
    Ok(match value {
        Value::String(text) => named(part, text.clone().into_bytes(), None, None),
        Value::Array(_) | Value::Object(_) => named(
            part,
            serde_json::to_vec(value).expect("JSON values serialize"),
            None,
            Some("application/json".into()),
        ),
        scalar => named(part, scalar.to_string().into_bytes(), None, None),
    })
}

fn multipart(parts: &[Part], args: &Map<String, Value>) -> Result<Option<Body>, RenderError> {
    let mut all = Vec::new();
    for part in parts {
        all.extend(pieces(part, args)?);
    }
    let boundary = boundary(&all);
    let mut out = Vec::new();
    for piece in &all {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", piece.name);
        if let Some(filename) = &piece.filename {
            disposition.push_str(&format!("; filename=\"{filename}\""));
        }
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(kind) = &piece.content_type {
            out.extend_from_slice(format!("Content-Type: {kind}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&piece.bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(Some((format!("multipart/form-data; boundary={boundary}"), out)))
}

/// A boundary that occurs in no part: derived from the parts' contents
/// (so a request renders the same every time), lengthened until unique.
fn boundary(pieces: &[Piece]) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for piece in pieces {
        hash.update(piece.name.as_bytes());
        hash.update(&piece.bytes);
    }
    unique(format!("automcp-{:x}", hash.finalize()), 32, pieces)
}

/// The shortest prefix of `seed` (at least `len` characters) found in no
/// part, or `seed` extended with `x`s.
fn unique(mut seed: String, len: usize, pieces: &[Piece]) -> String {
    let taken = |candidate: &str| pieces.iter().any(|p| contains(&p.bytes, candidate.as_bytes()));
    for end in len.min(seed.len())..=seed.len() {
        if !taken(&seed[..end]) {
            return seed[..end].to_owned();
        }
    }
    while taken(&seed) {
        seed.push('x');
    }
    seed
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::spec::Style;
    use serde_json::json;

    fn args(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn an_optional_json_body_is_sent_only_when_an_argument_is_given() {
        let body = RequestBody::Json { value: json!({"name": "{name}", "kind": "pet"}), optional: true };
        assert_eq!(render_body(&body, &args(json!({}))).unwrap(), None);
        let (kind, bytes) = render_body(&body, &args(json!({"name": "Rex"}))).unwrap().unwrap();
        assert_eq!(
            (kind.as_str(), bytes.as_slice()),
            ("application/json", br#"{"kind":"pet","name":"Rex"}"#.as_slice())
        );
        let whole = RequestBody::Json { value: json!("{body}"), optional: false };
        assert_eq!(render_body(&whole, &args(json!({}))).unwrap(), None);
    }

    #[test]
    fn nested_objects_with_no_given_members_are_left_out() {
        let template = json!({"name": "{name}", "owner": {"id": "{owner_id}"}, "empty": {}});
        assert_eq!(fill_json(&template, &args(json!({"name": "a"}))).unwrap(), Some(json!({"name": "a", "empty": {}})));
    }

    #[test]
    fn forms_nest_objects_and_encode_reserved_characters() {
        let fields = vec![
            Param::new("metadata", "{metadata}").styled(Style::DeepObject, true),
            Param::new("expand", "{expand}").styled(Style::Form, true),
            Param::new("note", "n: {note}"),
        ];
        let body = RequestBody::Form { fields };
        let given = args(json!({"metadata": {"order": "a*b"}, "expand": ["x", "y"], "note": "1+1=2"}));
        let (_, bytes) = render_body(&body, &given).unwrap().unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "metadata%5Border%5D=a%2Ab&expand=x&expand=y&note=n%3A%201%2B1%3D2"
        );
    }

    #[test]
    fn multipart_sends_files_text_and_json_parts() {
        let parts = vec![
            Part { name: "file".into(), value: "{file}".into(), content_type: None },
            Part { name: "purpose".into(), value: "{purpose}".into(), content_type: None },
            Part { name: "meta".into(), value: "{meta}".into(), content_type: None },
            Part { name: "absent".into(), value: "{absent}".into(), content_type: None },
        ];
        let given = args(json!({
            "file": {"content_base64": "aGVsbG8=", "filename": "a.txt", "media_type": "text/plain"},
            "purpose": "test", "meta": {"k": 1}
        }));
        let (kind, bytes) = render_body(&RequestBody::Multipart { parts }, &given).unwrap().unwrap();
        let boundary = kind.strip_prefix("multipart/form-data; boundary=").unwrap();
        let expected = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\ntest\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{{\"k\":1}}\r\n\
             --{b}--\r\n",
            b = boundary
        );
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn binary_bodies_send_the_file_bytes() {
        let body = RequestBody::Binary { value: "{image}".into(), content_type: None };
        let given = args(json!({"image": {"content_base64": "iVBORw==", "media_type": "image/png"}}));
        assert_eq!(render_body(&body, &given).unwrap(), Some(("image/png".into(), vec![0x89, b'P', b'N', b'G'])));
        let fixed =
            RequestBody::Binary { value: "{image}".into(), content_type: Some("application/octet-stream".into()) };
        assert_eq!(render_body(&fixed, &given).unwrap().unwrap().0, "application/octet-stream");
        let bad = args(json!({"image": {"content_base64": "not base64!"}}));
        assert!(render_body(&body, &bad).unwrap_err().0.contains("is not base64"));
        let big = args(json!({"image": {"content_base64": "A".repeat(MAX_FILE_BYTES / 3 * 4 + 100)}}));
        assert!(render_body(&body, &big).unwrap_err().0.contains("larger than the 5 MiB"));
    }

    #[test]
    fn the_boundary_never_occurs_in_a_part() {
        let text = |bytes: &[u8]| Piece { name: "a".into(), filename: None, content_type: None, bytes: bytes.to_vec() };
        let pieces = vec![text(b"--automcp-0123 and automcp-01234"), text(b"x")];
        assert_eq!(unique("automcp-012345".into(), 12, &pieces), "automcp-012345");
        assert_eq!(unique("automcp-0123".into(), 12, &pieces), "automcp-0123x");
        let chosen = boundary(&pieces);
        assert_eq!(chosen.len(), 32);
        assert_eq!(chosen, boundary(&pieces), "the same parts give the same boundary");
    }
}
