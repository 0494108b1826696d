//! Turning a tool call into an HTTP request (pure: no I/O).

use super::body::{Body, render_body};
use super::serialize::{self, How};
use app::spec::{HttpAction, Param, Place, Placement, Segment, Style, parse_template, sole_arg, split_url};
use base64::Engine;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub method: reqwest::Method,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    /// Content-Type and bytes.
    pub body: Option<Body>,
}

/// Secrets by credential name, decrypted for one mounted server.
pub type Secrets = HashMap<String, String>;

/// Why a call could not be turned into a request; shown to the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

pub(super) fn err<T>(message: impl Into<String>) -> Result<T, RenderError> {
    Err(RenderError(message.into()))
}

/// Fills a template as text (`encode`: each argument as an encoded path
/// segment). `None` when it refers to an argument that is absent.
pub(super) fn fill(template: &str, args: &Map<String, Value>, encode: bool) -> Result<Option<String>, RenderError> {
    let segments = parse_template(template).map_err(RenderError)?;
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Text(text) => out.push_str(&text),
            Segment::Arg(name) => match args.get(&name).and_then(serialize::text) {
                None => return Ok(None),
                Some(text) if encode => out.push_str(&serialize::encode(&text, false)),
                Some(text) => out.push_str(&text),
            },
        }
    }
    Ok(Some(out))
}

/// The path with its arguments expanded per their styles (`simple` unless
/// the action says otherwise). `None` when an argument is absent.
fn fill_path(path: &str, action: &HttpAction, args: &Map<String, Value>) -> Result<Option<String>, RenderError> {
    let mut out = String::new();
    for segment in parse_template(path).map_err(RenderError)? {
        match segment {
            Segment::Text(text) => out.push_str(&text),
            Segment::Arg(arg) => {
                let styled = action.path_styles.iter().find(|s| s.arg == arg);
                let (style, explode) = styled.map_or((Style::Simple, false), |s| (s.style, s.explode));
                let name = styled.and_then(|s| s.name.as_deref()).unwrap_or(&arg);
                match args.get(&arg).and_then(|value| serialize::path(name, value, style, explode)) {
                    Some(text) => out.push_str(&text),
                    None => return Ok(None),
                }
            }
        }
    }
    Ok(Some(out))
}

/// `.` or `..`, in any spelling a URL parser resolves.
fn is_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase().replace("%2e", ".");
    lower == "." || lower == ".."
}

/// The encoded query fragments of params: a param that is exactly one
/// argument is written per its style; any other is filled in as text.
fn query_fragments(params: &[Param], args: &Map<String, Value>) -> Result<Vec<String>, RenderError> {
    let mut out = Vec::new();
    for param in params {
        match sole_arg(&param.value) {
            Some(arg) => {
                if let Some(value) = args.get(&arg) {
                    out.extend(serialize::query(&param.name, value, How::of(param, Place::Query)));
                }
            }
            None => out.extend(fill(&param.value, args, false)?.map(|text| {
                let encode = |t: &str| serialize::encode(t, param.allow_reserved);
                format!("{}={}", encode(&param.name), encode(&text))
            })),
        }
    }
    Ok(out)
}

/// Header name/value pairs (`simple` style for arrays and objects).
fn header_pairs(params: &[Param], args: &Map<String, Value>) -> Result<Vec<(String, String)>, RenderError> {
    let mut out = Vec::new();
    for param in params {
        let value = match sole_arg(&param.value) {
            Some(arg) => args.get(&arg).and_then(|value| serialize::header(value, param.explode_in(Place::Header))),
            None => fill(&param.value, args, false)?,
        };
        if let Some(value) = value {
            if value.contains(['\r', '\n']) {
                return err(format!("the value for header `{}` contains a line break", param.name));
            }
            out.push((param.name.clone(), value));
        }
    }
    Ok(out)
}

/// Builds the request for `action` with `args`, adding the credential the
/// action names. The host comes from the spec alone, so a credential can
/// only ever go to the host its action names.
pub fn render(action: &HttpAction, args: &Map<String, Value>, secrets: &Secrets) -> Result<Rendered, RenderError> {
    render_for(action, template_host(action).as_deref(), args, secrets)
}

/// The host of an action's URL template as a parsed URL names it (kept per
/// tool, so a call parses one URL, not two).
pub fn template_host(action: &HttpAction) -> Option<String> {
    let parts = split_url(&action.url).ok()?;
    let url = url::Url::parse(&format!("{}://{}/", parts.scheme, parts.authority)).ok()?;
    url.host_str().map(str::to_owned)
}

/// [`render`] with the template's host already known ([`template_host`]).
pub fn render_for(
    action: &HttpAction,
    template_host: Option<&str>,
    args: &Map<String, Value>,
    secrets: &Secrets,
) -> Result<Rendered, RenderError> {
    let parts = split_url(&action.url).map_err(|why| RenderError(format!("the action's URL {why}")))?;
    let (path, literal_query) = match parts.rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (parts.rest, None),
    };
    let Some(path) = fill_path(path, action, args)? else {
        return err("a path argument is missing");
    };
    if path.split('/').any(is_dot_segment) {
        return err("a path argument may not be `.` or `..`");
    }
    let mut query: Vec<String> = literal_query.filter(|q| !q.is_empty()).map(str::to_owned).into_iter().collect();
    query.extend(query_fragments(&action.query, args)?);
    let mut headers = header_pairs(&action.headers, args)?;
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
            Placement::Query { name } => {
                query.push(format!("{}={}", serialize::encode(name, false), serialize::encode(secret, false)))
            }
            Placement::Basic => headers.push((
                "authorization".into(),
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(secret)),
            )),
        }
    }
    let mut text = format!("{}://{}{}", parts.scheme, parts.authority, if path.is_empty() { "/" } else { &path });
    if !query.is_empty() {
        text.push('?');
        text.push_str(&query.join("&"));
    }
    let url = url::Url::parse(&text).map_err(|e| RenderError(format!("the request URL `{text}` is invalid: {e}")))?;
    if url.host_str() != template_host {
        return err("the rendered URL's host differs from the action's host");
    }
    let body = match &action.body {
        None => None,
        Some(body) => render_body(body, args)?,
    };
    let method = reqwest::Method::from_bytes(action.method.as_str().as_bytes()).expect("known methods parse");
    Ok(Rendered { method, url, headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::spec::{CredentialUse, HttpMethod, PathStyle, RequestBody, ResponseShape};
    use serde_json::json;

    fn action(method: HttpMethod, url: &str) -> HttpAction {
        HttpAction {
            method,
            url: url.into(),
            query: vec![],
            headers: vec![],
            body: None,
            auth: None,
            path_styles: vec![],
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
        assert_eq!(r.url.query(), Some("q=cats%20%26%20dogs&tag=a&tag=b"));
        assert_eq!(r.headers, vec![("Accept".to_owned(), "application/json".to_owned())]);
    }

    #[test]
    fn json_bodies_keep_argument_types() {
        let mut a = action(HttpMethod::Post, "https://api.example.com/pets");
        a.body = Some(RequestBody::Json {
            value: json!({"name": "{name}", "age": "{age}", "note": "hi {name}", "tags": ["{tag}", "fixed"], "gone": "{missing}"}),
            optional: false,
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
        assert_eq!(r.body.unwrap(), ("application/x-www-form-urlencoded".to_owned(), b"name=R%26x&kind=dog".to_vec()));
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

    #[test]
    fn arguments_cannot_climb_the_path() {
        let a = action(HttpMethod::Get, "https://api.example.com/v1/files/{p}/meta");
        for evil in ["..", "."] {
            let e = render(&a, &args(json!({"p": evil})), &Secrets::new()).unwrap_err();
            assert!(e.0.contains("may not be `.` or `..`"), "{evil}: {e}");
        }
        let r = render(&a, &args(json!({"p": "%2e%2E"})), &Secrets::new()).unwrap();
        assert_eq!(r.url.path(), "/v1/files/%252e%252E/meta", "a percent sign is data, encoded");
        let r = render(&a, &args(json!({"p": "..."})), &Secrets::new()).unwrap();
        assert_eq!(r.url.path(), "/v1/files/.../meta");
    }

    #[test]
    fn styles_shape_paths_queries_and_headers() {
        let mut a = action(HttpMethod::Get, "https://api.example.com/items/{ids}/{point}?v=2");
        a.path_styles = vec![
            PathStyle { arg: "ids".into(), style: Style::Label, explode: true, name: None },
            PathStyle { arg: "point".into(), style: Style::Matrix, explode: false, name: Some("pt".into()) },
        ];
        a.query = vec![
            Param::new("tags", "{tags}").styled(Style::PipeDelimited, false),
            Param::new("created", "{created}").styled(Style::DeepObject, true),
            Param::new("cb", "{cb}"),
        ];
        a.query[2].allow_reserved = true;
        a.headers = vec![Param::new("X-Ids", "{ids}")];
        let given = args(json!({"ids": [1, 2], "point": [3, 4], "tags": ["a b", "c"], "created": {"gt": 1},
            "cb": "https://x.test/?a=1"}));
        let r = render(&a, &given, &Secrets::new()).unwrap();
        assert_eq!(
            r.url.as_str(),
            "https://api.example.com/items/.1.2/;pt=3,4?v=2&tags=a%20b|c&created[gt]=1&cb=https://x.test/?a=1"
        );
        assert_eq!(r.headers, vec![("X-Ids".to_owned(), "1,2".to_owned())]);
    }
}
