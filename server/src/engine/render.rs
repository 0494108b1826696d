//! Turning a tool call into an HTTP request (pure: no I/O).

use app::spec::{HttpAction, Param, Placement, RequestBody, Segment, parse_template, sole_arg, split_url};
use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Everything in a path segment but unreserved characters is encoded, `/` included.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub method: reqwest::Method,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<(&'static str, Vec<u8>)>,
}

/// Secrets by credential name, decrypted for one mounted server.
pub type Secrets = HashMap<String, String>;

/// Why a call could not be turned into a request; shown to the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, RenderError> {
    Err(RenderError(message.into()))
}

/// The text an argument contributes to a URL, query, header or form value.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
        Value::Array(_) | Value::Object(_) => Some(value.to_string()),
    }
}

/// Fills a template. `None` when it refers to an argument that is absent.
fn fill(template: &str, args: &Map<String, Value>, encode: bool) -> Result<Option<String>, RenderError> {
    let segments = parse_template(template).map_err(RenderError)?;
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Text(text) => out.push_str(&text),
            Segment::Arg(name) => match args.get(&name).and_then(scalar_text) {
                None => return Ok(None),
                Some(text) if encode => out.extend(utf8_percent_encode(&text, PATH_SEGMENT)),
                Some(text) => out.push_str(&text),
            },
        }
    }
    Ok(Some(out))
}

/// Name/value pairs from params; a sole-placeholder param bound to an array
/// of scalars repeats (`?tag=a&tag=b`).
fn pairs(params: &[Param], args: &Map<String, Value>) -> Result<Vec<(String, String)>, RenderError> {
    let mut out = Vec::new();
    for param in params {
        if let Some(Value::Array(items)) = sole_arg(&param.value).and_then(|name| args.get(&name)) {
            for item in items {
                if let Some(text) = scalar_text(item) {
                    out.push((param.name.clone(), text));
                }
            }
            continue;
        }
        if let Some(value) = fill(&param.value, args, false)? {
            out.push((param.name.clone(), value));
        }
    }
    Ok(out)
}

/// Substitutes arguments into a JSON body template.
fn fill_json(template: &Value, args: &Map<String, Value>) -> Result<Option<Value>, RenderError> {
    Ok(match template {
        Value::String(text) => match sole_arg(text) {
            Some(name) => args.get(&name).cloned(),
            None => fill(text, args, false)?.map(Value::String),
        },
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(value) = fill_json(item, args)? {
                    out.push(value);
                }
            }
            Some(Value::Array(out))
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                if let Some(value) = fill_json(item, args)? {
                    out.insert(key.clone(), value);
                }
            }
            Some(Value::Object(out))
        }
        other => Some(other.clone()),
    })
}

/// Builds the request for `action` with `args`, adding the credential the
/// action names. The host comes from the spec alone, so a credential can
/// only ever go to the host its action names.
pub fn render(action: &HttpAction, args: &Map<String, Value>, secrets: &Secrets) -> Result<Rendered, RenderError> {
    let parts = split_url(&action.url).map_err(|why| RenderError(format!("the action's URL {why}")))?;
    let (path, literal_query) = match parts.rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (parts.rest, None),
    };
    let Some(path) = fill(path, args, true)? else {
        return err("a path argument is missing");
    };
    let mut text = format!("{}://{}{}", parts.scheme, parts.authority, if path.is_empty() { "/" } else { &path });
    if let Some(query) = literal_query {
        text.push('?');
        text.push_str(query);
    }
    let mut url =
        url::Url::parse(&text).map_err(|e| RenderError(format!("the request URL `{text}` is invalid: {e}")))?;
    let template_host = url::Url::parse(&format!("{}://{}/", parts.scheme, parts.authority))
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    if url.host_str().map(str::to_owned) != template_host {
        return err("the rendered URL's host differs from the action's host");
    }

    let query = pairs(&action.query, args)?;
    let mut headers = pairs(&action.headers, args)?;
    for (name, value) in &headers {
        if value.contains(['\r', '\n']) {
            return err(format!("the value for header `{name}` contains a line break"));
        }
    }
    let mut query = query;

    if let Some(auth) = &action.auth {
        let Some(secret) = secrets.get(&auth.credential) else {
            return err(format!(
                "the credential `{}` is not set for this server; its owner must add it",
                auth.credential
            ));
        };
        match &auth.placement {
            Placement::Bearer => headers.push(("authorization".into(), format!("Bearer {secret}"))),
            Placement::Header { name } => headers.push((name.clone(), secret.clone())),
            Placement::Query { name } => query.push((name.clone(), secret.clone())),
            Placement::Basic => headers.push((
                "authorization".into(),
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(secret)),
            )),
        }
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }

    let body = match &action.body {
        None => None,
        Some(RequestBody::Json { value }) => {
            let value = fill_json(value, args)?.unwrap_or(Value::Null);
            Some(("application/json", serde_json::to_vec(&value).expect("JSON values serialize")))
        }
        Some(RequestBody::Form { fields }) => {
            let fields = pairs(fields, args)?;
            let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
            Some(("application/x-www-form-urlencoded", encoded.into_bytes()))
        }
    };
    let method = reqwest::Method::from_bytes(action.method.as_str().as_bytes()).expect("known methods parse");
    Ok(Rendered { method, url, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::spec::{CredentialUse, HttpMethod, ResponseShape};
    use serde_json::json;

    fn action(method: HttpMethod, url: &str) -> HttpAction {
        HttpAction {
            method,
            url: url.into(),
            query: vec![],
            headers: vec![],
            body: None,
            auth: None,
            response: ResponseShape::default(),
        }
    }

    fn args(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn path_arguments_are_percent_encoded_segments() {
        let a = action(HttpMethod::Get, "https://api.example.com/v1/files/{path}/meta?fixed=1");
        let r = render(&a, &args(json!({"path": "a b/../c?d"})), &Secrets::new()).unwrap();
        assert_eq!(r.url.as_str(), "https://api.example.com/v1/files/a%20b%2F..%2Fc%3Fd/meta?fixed=1");
        assert_eq!(r.url.host_str(), Some("api.example.com"));
    }

    #[test]
    fn query_and_headers_skip_missing_arguments_and_repeat_arrays() {
        let mut a = action(HttpMethod::Get, "https://api.example.com/search");
        a.query = vec![Param::new("q", "{q}"), Param::new("limit", "{limit}"), Param::new("tag", "{tags}")];
        a.headers = vec![Param::new("X-Trace", "t-{trace}"), Param::new("Accept", "application/json")];
        let r = render(&a, &args(json!({"q": "cats & dogs", "tags": ["a", "b"]})), &Secrets::new()).unwrap();
        assert_eq!(r.url.query(), Some("q=cats+%26+dogs&tag=a&tag=b"));
        assert_eq!(r.headers, vec![("Accept".to_owned(), "application/json".to_owned())]);
    }

    #[test]
    fn json_bodies_keep_argument_types() {
        let mut a = action(HttpMethod::Post, "https://api.example.com/pets");
        a.body = Some(RequestBody::Json {
            value: json!({"name": "{name}", "age": "{age}", "note": "hi {name}", "tags": ["{tag}", "fixed"], "gone": "{missing}"}),
        });
        let r = render(&a, &args(json!({"name": "Rex", "age": 3, "tag": true})), &Secrets::new()).unwrap();
        let (kind, bytes) = r.body.unwrap();
        assert_eq!(kind, "application/json");
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body, json!({"name": "Rex", "age": 3, "note": "hi Rex", "tags": [true, "fixed"]}));
    }

    #[test]
    fn form_bodies_are_url_encoded() {
        let mut a = action(HttpMethod::Post, "https://api.example.com/form");
        a.body = Some(RequestBody::Form { fields: vec![Param::new("name", "{name}"), Param::new("kind", "dog")] });
        let r = render(&a, &args(json!({"name": "R&x"})), &Secrets::new()).unwrap();
        assert_eq!(r.body.unwrap(), ("application/x-www-form-urlencoded", b"name=R%26x&kind=dog".to_vec()));
    }

    #[test]
    fn credentials_go_where_the_action_says() {
        let secrets = Secrets::from([("key".to_owned(), "s3cr3t".to_owned()), ("login".to_owned(), "u:p".to_owned())]);
        let cases = [
            (Placement::Bearer, None, Some(("authorization", "Bearer s3cr3t"))),
            (Placement::Header { name: "X-Api-Key".into() }, None, Some(("X-Api-Key", "s3cr3t"))),
            (Placement::Query { name: "api_key".into() }, Some("api_key=s3cr3t"), None),
        ];
        for (placement, query, header) in cases {
            let mut a = action(HttpMethod::Get, "https://api.example.com/x");
            a.auth = Some(CredentialUse { credential: "key".into(), placement });
            let r = render(&a, &Map::new(), &secrets).unwrap();
            assert_eq!(r.url.query(), query);
            assert_eq!(r.headers.first().map(|(k, v)| (k.as_str(), v.as_str())), header);
        }
        let mut a = action(HttpMethod::Get, "https://api.example.com/x");
        a.auth = Some(CredentialUse { credential: "login".into(), placement: Placement::Basic });
        assert_eq!(render(&a, &Map::new(), &secrets).unwrap().headers[0].1, "Basic dTpw");
        a.auth = Some(CredentialUse { credential: "absent".into(), placement: Placement::Basic });
        assert!(render(&a, &Map::new(), &secrets).unwrap_err().0.contains("`absent` is not set"));
    }

    #[test]
    fn header_injection_is_refused() {
        let mut a = action(HttpMethod::Get, "https://api.example.com/x");
        a.headers = vec![Param::new("X-Note", "{note}")];
        let e = render(&a, &args(json!({"note": "a\r\nHost: evil"})), &Secrets::new()).unwrap_err();
        assert!(e.0.contains("line break"));
    }

    #[test]
    fn arguments_cannot_move_the_host() {
        let a = action(HttpMethod::Get, "https://api.example.com/{p}");
        for evil in ["@evil.com", "..%2f..", "//evil.com", "\\evil.com"] {
            let r = render(&a, &args(json!({"p": evil})), &Secrets::new()).unwrap();
            assert_eq!(r.url.host_str(), Some("api.example.com"), "{evil}");
        }
    }
}
