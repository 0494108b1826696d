//! How one argument's value is written in a query, a header, a path or a
//! form body, per OpenAPI's serialisation rules (`style`, `explode`,
//! `allowReserved`). Pure: values in, text out.
//!
//! Delimiters stay literal (`,` `|` `.` `;` `=`), values are encoded for
//! where they go, so `a,b` as one value (`a%2Cb`) never reads as two.

use app::spec::{Param, Place, Style};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// RFC 3986 unreserved characters stay; everything else is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// With `allowReserved`: the reserved characters stay too.
const UNRESERVED_AND_RESERVED: &AsciiSet = &UNRESERVED
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'#')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// How a value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct How {
    pub style: Style,
    pub explode: bool,
    pub allow_reserved: bool,
}

impl How {
    /// How `param` is written where it is used (`allow_reserved` applies to
    /// the query only).
    pub fn of(param: &Param, place: Place) -> How {
        How {
            style: param.style_in(place),
            explode: param.explode_in(place),
            allow_reserved: param.allow_reserved && place == Place::Query,
        }
    }
}

/// A scalar's text (strings as they are, numbers and booleans as JSON);
/// arrays and objects nested where a scalar is expected go as JSON text.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Percent-encodes all but unreserved characters (and, with `allow_reserved`, reserved ones).
pub fn encode(text: &str, allow_reserved: bool) -> String {
    let set = if allow_reserved { UNRESERVED_AND_RESERVED } else { UNRESERVED };
    utf8_percent_encode(text, set).to_string()
}

/// The texts of an array's items (nulls left out).
fn items(list: &[Value]) -> Vec<String> {
    list.iter().filter_map(text).collect()
}

/// An object's properties as (key, text) pairs (nulls left out).
fn properties(map: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    map.iter().filter_map(|(key, value)| text(value).map(|t| (key.clone(), t))).collect()
}

/// `deep_object` pairs: `name[a]`, `name[a][b]`, `name[list][0]` for every scalar inside.
pub fn deep_pairs(name: &str, value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![(name.to_owned(), value)];
    while let Some((key, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                stack.extend(map.iter().rev().map(|(k, v)| (format!("{key}[{k}]"), v)));
            }
            Value::Array(list) => {
                stack.extend(list.iter().enumerate().rev().map(|(i, v)| (format!("{key}[{i}]"), v)));
            }
            scalar => {
                if let Some(t) = text(scalar) {
                    out.push((key, t));
                }
            }
        }
    }
    out
}

/// The delimiter between an unexploded array's items, as written.
fn delimiter(style: Style, in_query: bool) -> &'static str {
    match style {
        Style::SpaceDelimited if in_query => "%20",
        Style::SpaceDelimited => " ",
        Style::PipeDelimited => "|",
        Style::TabDelimited if in_query => "%09",
        Style::TabDelimited => "\t",
        _ => ",",
    }
}

/// Query fragments (`name=value`, encoded) for one parameter.
pub fn query(name: &str, value: &Value, how: How) -> Vec<String> {
    let enc = |t: &str| encode(t, how.allow_reserved);
    let key = enc(name);
    match value {
        Value::Null => Vec::new(),
        Value::Object(_) | Value::Array(_) if how.style == Style::DeepObject => deep_pairs(name, value)
            .into_iter()
            .map(|(k, v)| format!("{}={}", bracketed(&k, how.allow_reserved), enc(&v)))
            .collect(),
        Value::Array(list) if how.explode => items(list).iter().map(|t| format!("{key}={}", enc(t))).collect(),
        Value::Array(list) => {
            let joined: Vec<String> = items(list).iter().map(|t| enc(t)).collect();
            vec![format!("{key}={}", joined.join(delimiter(how.style, true)))]
        }
        Value::Object(map) if how.explode => {
            properties(map).iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect()
        }
        Value::Object(map) => {
            let flat: Vec<String> = properties(map).iter().flat_map(|(k, v)| [enc(k), enc(v)]).collect();
            vec![format!("{key}={}", flat.join(","))]
        }
        scalar => text(scalar).map(|t| format!("{key}={}", enc(&t))).into_iter().collect(),
    }
}

/// A deep-object key with its brackets literal and the rest encoded.
fn bracketed(key: &str, allow_reserved: bool) -> String {
    let mut out = String::new();
    for (i, piece) in key.split('[').enumerate() {
        if i > 0 {
            out.push('[');
        }
        match piece.strip_suffix(']') {
            Some(inner) if i > 0 => {
                out.push_str(&encode(inner, allow_reserved));
                out.push(']');
            }
            _ => out.push_str(&encode(piece, allow_reserved)),
        }
    }
    out
}

/// Form-body pairs (unencoded: the form encoder encodes them) for one field.
pub fn form(name: &str, value: &Value, how: How) -> Vec<(String, String)> {
    match value {
        Value::Null => Vec::new(),
        Value::Object(_) | Value::Array(_) if how.style == Style::DeepObject => deep_pairs(name, value),
        Value::Array(list) if how.explode => items(list).into_iter().map(|t| (name.to_owned(), t)).collect(),
        Value::Array(list) => vec![(name.to_owned(), items(list).join(delimiter(how.style, false)))],
        Value::Object(map) if how.explode => properties(map),
        Value::Object(map) => {
            let flat: Vec<String> = properties(map).into_iter().flat_map(|(k, v)| [k, v]).collect();
            vec![(name.to_owned(), flat.join(","))]
        }
        scalar => text(scalar).map(|t| (name.to_owned(), t)).into_iter().collect(),
    }
}

/// A header's value (`simple` style; headers are not percent-encoded).
pub fn header(value: &Value, explode: bool) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Array(list) => Some(items(list).join(",")),
        Value::Object(map) if explode => {
            Some(properties(map).iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
        }
        Value::Object(map) => Some(properties(map).into_iter().flat_map(|(k, v)| [k, v]).collect::<Vec<_>>().join(",")),
        scalar => text(scalar),
    }
}

/// A path argument's expansion (`simple`, `label` or `matrix`), each value
/// encoded as one path segment.
pub fn path(name: &str, value: &Value, style: Style, explode: bool) -> Option<String> {
    let enc = |t: &str| encode(t, false);
    let (prefix, between) = match style {
        Style::Label => (".".to_owned(), if explode { "." } else { "," }),
        Style::Matrix => (format!(";{}=", enc(name)), if explode { "" } else { "," }),
        _ => (String::new(), ","),
    };
    let body = match value {
        Value::Null => return None,
        Value::Array(list) if style == Style::Matrix && explode => {
            return Some(items(list).iter().map(|t| format!(";{}={}", enc(name), enc(t))).collect());
        }
        Value::Array(list) => items(list).iter().map(|t| enc(t)).collect::<Vec<_>>().join(between),
        Value::Object(map) if style == Style::Matrix && explode => {
            return Some(properties(map).iter().map(|(k, v)| format!(";{}={}", enc(k), enc(v))).collect());
        }
        Value::Object(map) if explode => {
            properties(map).iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join(between)
        }
        Value::Object(map) => properties(map).iter().flat_map(|(k, v)| [enc(k), enc(v)]).collect::<Vec<_>>().join(","),
        scalar => enc(&text(scalar)?),
    };
    Some(format!("{prefix}{body}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn how(style: Style, explode: bool) -> How {
        How { style, explode, allow_reserved: false }
    }

    #[test]
    fn query_styles_follow_the_openapi_table() {
        let list = json!(["blue", "black", "brown"]);
        let object = json!({"R": 100, "G": 200});
        assert_eq!(query("color", &list, how(Style::Form, true)), ["color=blue", "color=black", "color=brown"]);
        assert_eq!(query("color", &list, how(Style::Form, false)), ["color=blue,black,brown"]);
        assert_eq!(query("color", &list, how(Style::SpaceDelimited, false)), ["color=blue%20black%20brown"]);
        assert_eq!(query("color", &list, how(Style::PipeDelimited, false)), ["color=blue|black|brown"]);
        assert_eq!(query("color", &list, how(Style::TabDelimited, false)), ["color=blue%09black%09brown"]);
        assert_eq!(query("color", &object, how(Style::Form, true)), ["G=200", "R=100"]);
        assert_eq!(query("color", &object, how(Style::Form, false)), ["color=G,200,R,100"]);
        assert_eq!(query("color", &object, how(Style::DeepObject, true)), ["color[G]=200", "color[R]=100"]);
    }

    #[test]
    fn deep_objects_nest_and_index_lists() {
        let value = json!({"gt": 1, "meta": {"order id": "a&b"}, "tags": ["x", "y"]});
        assert_eq!(
            query("created", &value, how(Style::DeepObject, true)),
            ["created[gt]=1", "created[meta][order%20id]=a%26b", "created[tags][0]=x", "created[tags][1]=y"]
        );
        assert_eq!(
            form("metadata", &json!({"key": "value"}), how(Style::DeepObject, true)),
            [("metadata[key]".to_owned(), "value".to_owned())]
        );
    }

    #[test]
    fn values_are_encoded_and_delimiters_are_not() {
        assert_eq!(query("q", &json!(["a,b", "c"]), how(Style::Form, false)), ["q=a%2Cb,c"]);
        assert_eq!(query("q", &json!("a b/c?"), how(Style::Form, true)), ["q=a%20b%2Fc%3F"]);
        let reserved = How { allow_reserved: true, ..how(Style::Form, true) };
        assert_eq!(query("q", &json!("a b/c?"), reserved), ["q=a%20b/c?"]);
    }

    #[test]
    fn paths_and_headers() {
        let list = json!([3, 4, 5]);
        let object = json!({"role": "admin", "name": "ada"});
        assert_eq!(path("id", &list, Style::Simple, false).unwrap(), "3,4,5");
        assert_eq!(path("id", &list, Style::Label, false).unwrap(), ".3,4,5");
        assert_eq!(path("id", &list, Style::Label, true).unwrap(), ".3.4.5");
        assert_eq!(path("id", &list, Style::Matrix, false).unwrap(), ";id=3,4,5");
        assert_eq!(path("id", &list, Style::Matrix, true).unwrap(), ";id=3;id=4;id=5");
        assert_eq!(path("id", &object, Style::Simple, true).unwrap(), "name=ada,role=admin");
        assert_eq!(path("id", &object, Style::Matrix, true).unwrap(), ";name=ada;role=admin");
        assert_eq!(path("id", &json!("a/b"), Style::Simple, false).unwrap(), "a%2Fb");
        assert_eq!(header(&list, false).unwrap(), "3,4,5");
        assert_eq!(header(&object, false).unwrap(), "name,ada,role,admin");
        assert_eq!(header(&object, true).unwrap(), "name=ada,role=admin");
    }
}
