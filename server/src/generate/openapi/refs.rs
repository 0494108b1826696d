//! Document-internal `$ref`s: looking them up, and following chains of them
//! without copying anything.

use serde_json::Value;

/// How many `$ref`s in a row are followed before the chain counts as broken.
pub const MAX_REF_HOPS: usize = 32;

/// The `$ref` of a JSON object, if it has one.
pub fn reference(value: &Value) -> Option<&str> {
    value.as_object()?.get("$ref")?.as_str()
}

/// The value a `#/...` reference points at.
pub fn lookup<'d>(doc: &'d Value, reference: &str) -> Result<&'d Value, String> {
    let pointer = reference.strip_prefix('#').ok_or_else(|| {
        format!("`$ref: {reference}` points outside the document; only `#/...` references are supported")
    })?;
    doc.pointer(pointer).ok_or_else(|| format!("`$ref: {reference}` points at nothing in the document"))
}

/// Follows `value`'s `$ref` (and the target's, and so on) to a value that is
/// not a reference.
pub fn deref<'d>(doc: &'d Value, mut value: &'d Value) -> Result<&'d Value, String> {
    let first = reference(value).map(str::to_owned);
    for _ in 0..MAX_REF_HOPS {
        match reference(value) {
            None => return Ok(value),
            Some(reference) => value = lookup(doc, reference)?,
        }
    }
    Err(format!(
        "`$ref: {}` leads through more than {MAX_REF_HOPS} references in a row (a cycle?)",
        first.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chains_are_followed_and_cycles_reported() {
        let doc = json!({"a": {"$ref": "#/b"}, "b": {"$ref": "#/c"}, "c": {"type": "string"}, "x": {"$ref": "#/x"}});
        assert_eq!(deref(&doc, &doc["a"]).unwrap(), &json!({"type": "string"}));
        assert!(deref(&doc, &doc["x"]).unwrap_err().contains("cycle"));
        assert!(deref(&doc, &json!({"$ref": "#/nope"})).unwrap_err().contains("points at nothing"));
        assert!(deref(&doc, &json!({"$ref": "other.json#/a"})).unwrap_err().contains("outside the document"));
    }
}
