//! How a document says values are written: OpenAPI 3's `style`, `explode`
//! and `allowReserved` on parameters and in a body's `encoding`, Swagger
//! 2's `collectionFormat`, and which request body media type an action
//! sends.

use super::operation::Flavour;
use super::refs::deref;
use app::spec::{Param, PathStyle, Style};
use serde_json::{Map, Value};

/// Whether a parameter's schema is an array or an object (the only values
/// whose query, form and header writing a style changes).
pub fn structured(doc: &Value, schema: Option<&Value>) -> bool {
    let Some(schema) = schema.and_then(|s| deref(doc, s).ok()) else { return false };
    matches!(schema.get("type").and_then(Value::as_str), Some("array" | "object"))
        || schema.get("items").is_some()
        || schema.get("properties").is_some()
}

fn oas_style(name: &str) -> Option<Style> {
    Some(match name {
        "form" => Style::Form,
        "spaceDelimited" => Style::SpaceDelimited,
        "pipeDelimited" => Style::PipeDelimited,
        "deepObject" => Style::DeepObject,
        "simple" => Style::Simple,
        "label" => Style::Label,
        "matrix" => Style::Matrix,
        _ => return None,
    })
}

/// Swagger 2's `collectionFormat` as a style and explode.
fn collection_format(param: &Value) -> (Style, bool) {
    match param.get("collectionFormat").and_then(Value::as_str).unwrap_or("csv") {
        "ssv" => (Style::SpaceDelimited, false),
        "tsv" => (Style::TabDelimited, false),
        "pipes" => (Style::PipeDelimited, false),
        "multi" => (Style::Form, true),
        _ => (Style::Form, false),
    }
}

/// Sets `style`/`explode` on a query parameter or form field where they
/// differ from [`Param`]'s defaults (`form`, exploded).
fn set_style(mut out: Param, style: Style, explode: bool) -> Param {
    if style != Style::Form {
        out.style = Some(style);
    }
    let default_explode = matches!(style, Style::Form | Style::DeepObject);
    if explode != default_explode && style != Style::DeepObject {
        out.explode = Some(explode);
    }
    out
}

/// A query parameter (or Swagger 2 form field) as the document writes it.
/// `structured`: its value is an array or an object.
pub fn query_param(name: &str, value: String, param: &Value, flavour: Flavour, structured: bool) -> Param {
    let mut out = Param::new(name, value);
    if flavour == Flavour::OpenApi3 && param.get("allowReserved").and_then(Value::as_bool) == Some(true) {
        out.allow_reserved = true;
    }
    if !structured {
        return out;
    }
    let (style, explode) = match flavour {
        Flavour::Swagger2 => collection_format(param),
        Flavour::OpenApi3 => oas_style_explode(param, Style::Form),
    };
    match style {
        Style::Form | Style::SpaceDelimited | Style::PipeDelimited | Style::TabDelimited | Style::DeepObject => {
            set_style(out, style, explode)
        }
        _ => out,
    }
}

/// `style` and `explode` of an OpenAPI 3 parameter or encoding object
/// (explode defaults to true for `form` only, as the specification says).
fn oas_style_explode(at: &Value, default: Style) -> (Style, bool) {
    let style = at.get("style").and_then(Value::as_str).and_then(oas_style).unwrap_or(default);
    let explode = at.get("explode").and_then(Value::as_bool).unwrap_or(style == Style::Form);
    (style, explode)
}

/// A header parameter as the document writes it (`simple`; objects may explode).
pub fn header_param(name: &str, value: String, param: &Value, flavour: Flavour, structured: bool) -> Param {
    let mut out = Param::new(name, value);
    if structured && flavour == Flavour::OpenApi3 && param.get("explode").and_then(Value::as_bool) == Some(true) {
        out.explode = Some(true);
    }
    out
}

/// A path parameter's style, when it is not plain `simple` (OpenAPI 3 only;
/// Swagger 2 paths are comma-separated, which is `simple`).
pub fn path_style(arg: &str, name: &str, param: &Value, flavour: Flavour) -> Option<PathStyle> {
    if flavour != Flavour::OpenApi3 {
        return None;
    }
    let style = param.get("style").and_then(Value::as_str).and_then(oas_style).unwrap_or(Style::Simple);
    let style = if matches!(style, Style::Label | Style::Matrix) { style } else { Style::Simple };
    let explode = param.get("explode").and_then(Value::as_bool).unwrap_or(false);
    (style != Style::Simple || explode).then(|| PathStyle {
        arg: arg.to_owned(),
        style,
        explode,
        name: (style == Style::Matrix && arg != name).then(|| name.to_owned()),
    })
}

/// A urlencoded body field, styled per the body's `encoding` entry for it.
pub fn form_field(name: &str, value: String, encoding: Option<&Value>, structured: bool) -> Param {
    let out = Param::new(name, value);
    match encoding {
        Some(at) if structured => {
            let (style, explode) = oas_style_explode(at, Style::Form);
            match style {
                Style::Form | Style::SpaceDelimited | Style::PipeDelimited | Style::DeepObject => {
                    set_style(out, style, explode)
                }
                _ => out,
            }
        }
        _ => out,
    }
}

/// A multipart part's declared Content-Type (`encoding.<name>.contentType`),
/// when it is one concrete media type.
pub fn part_content_type(encoding: Option<&Value>) -> Option<String> {
    let declared = encoding?.get("contentType")?.as_str()?.trim();
    (!declared.contains(['*', ',']) && declared.contains('/') && !declared.contains(['\r', '\n']))
        .then(|| declared.to_owned())
}

/// Which body an operation sends, from its media types (OpenAPI 3's
/// `requestBody.content`, Swagger 2's `consumes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind<'a> {
    Json,
    Form,
    Multipart,
    /// Raw bytes, with the media type when it is concrete (not `image/*`).
    Binary(Option<&'a str>),
    /// Raw text (`text/plain`, `text/csv`, ...).
    Text(&'a str),
}

/// The best body for the given media types: JSON, then urlencoded, then
/// multipart, then anything else as raw bytes (or text).
pub fn body_kind<'a>(media_types: impl Iterator<Item = &'a str> + Clone) -> Option<BodyKind<'a>> {
    let mut all = media_types.clone().map(|m| (m, m.split(';').next().unwrap_or(m).trim().to_ascii_lowercase()));
    if all.clone().any(|(_, m)| m.contains("json")) {
        return Some(BodyKind::Json);
    }
    if all.clone().any(|(_, m)| m == "application/x-www-form-urlencoded") {
        return Some(BodyKind::Form);
    }
    if all.clone().any(|(_, m)| m == "multipart/form-data") {
        return Some(BodyKind::Multipart);
    }
    let (raw, essence) = all.next()?;
    if essence.starts_with("text/") && !essence.contains('*') {
        return Some(BodyKind::Text(raw));
    }
    Some(BodyKind::Binary((!essence.contains('*')).then_some(raw)))
}

/// Whether a (converted) schema describes a file: a binary string.
pub fn is_file(schema: &Value) -> bool {
    let string = match schema.get("type") {
        Some(Value::String(t)) => t == "string" || t == "file",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        None => false,
        _ => false,
    };
    string
        && (schema.get("format").and_then(Value::as_str) == Some("binary")
            || (schema.get("contentMediaType").is_some() && schema.get("contentEncoding").is_none()))
}

/// The `encoding` map of a body media type.
pub fn encodings(media: &Value) -> Option<&Map<String, Value>> {
    media.get("encoding").and_then(Value::as_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collection_formats_map_to_styles() {
        let styled = |format: &str| {
            let param = json!({"type": "array", "collectionFormat": format});
            let p = query_param("ids", "{ids}".into(), &param, Flavour::Swagger2, true);
            (p.style, p.explode)
        };
        assert_eq!(styled("csv"), (None, Some(false)));
        assert_eq!(styled("multi"), (None, None));
        assert_eq!(styled("ssv"), (Some(Style::SpaceDelimited), None));
        assert_eq!(styled("tsv"), (Some(Style::TabDelimited), None));
        assert_eq!(styled("pipes"), (Some(Style::PipeDelimited), None));
        let scalar = query_param("id", "{id}".into(), &json!({"type": "string"}), Flavour::Swagger2, false);
        assert_eq!((scalar.style, scalar.explode), (None, None));
    }

    #[test]
    fn openapi_3_styles_and_defaults() {
        let p = |param: Value| query_param("q", "{q}".into(), &param, Flavour::OpenApi3, true);
        assert_eq!(p(json!({})).explode, None, "form explodes by default");
        assert_eq!(p(json!({"explode": false})).explode, Some(false));
        let deep = p(json!({"style": "deepObject", "explode": true}));
        assert_eq!((deep.style, deep.explode), (Some(Style::DeepObject), None));
        let pipes = p(json!({"style": "pipeDelimited"}));
        assert_eq!((pipes.style, pipes.explode), (Some(Style::PipeDelimited), None));
        assert!(p(json!({"allowReserved": true})).allow_reserved);
        assert_eq!(path_style("id", "id", &json!({}), Flavour::OpenApi3), None);
        let matrix = path_style("id_2", "id", &json!({"style": "matrix", "explode": true}), Flavour::OpenApi3).unwrap();
        assert_eq!((matrix.style, matrix.explode, matrix.name.as_deref()), (Style::Matrix, true, Some("id")));
    }

    #[test]
    fn bodies_prefer_json_then_forms_then_bytes() {
        let kind = |types: &[&'static str]| body_kind(types.iter().copied());
        assert_eq!(kind(&["application/xml", "application/json; charset=utf-8"]), Some(BodyKind::Json));
        assert_eq!(kind(&["multipart/form-data", "application/x-www-form-urlencoded"]), Some(BodyKind::Form));
        assert_eq!(kind(&["multipart/form-data"]), Some(BodyKind::Multipart));
        assert_eq!(kind(&["application/octet-stream"]), Some(BodyKind::Binary(Some("application/octet-stream"))));
        assert_eq!(kind(&["image/*"]), Some(BodyKind::Binary(None)));
        assert_eq!(kind(&["text/csv"]), Some(BodyKind::Text("text/csv")));
        assert_eq!(kind(&[]), None);
        assert!(is_file(&json!({"type": "string", "format": "binary"})));
        assert!(is_file(&json!({"type": "string", "contentMediaType": "image/png"})));
        assert!(!is_file(&json!({"type": "string", "format": "byte"})));
    }
}
