//! OpenAPI schemas to the JSON Schemas of tool arguments, in bounded space.
//!
//! Copying every `$ref` in place is what clients show best, but a document
//! can make that exponential (a schema referencing the next one twice, 20
//! levels deep) or endless (recursion). So each referenced schema is first
//! *measured* (memoised, so measuring is linear in the document): small and
//! shallow ones are copied in place; anything larger, deeper or recursive is
//! emitted once under the tool schema's `$defs` and referenced from there.
//! Emitting counts nodes against [`MAX_SCHEMA_NODES`], so no document can
//! make one tool's schema large.

use super::refs::{MAX_REF_HOPS, deref, lookup, reference};
use crate::generate::budget::{Budget, INLINE_DEPTH, INLINE_NODES, MAX_SCHEMA_NODES};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

/// Why a schema could not be converted.
#[derive(Debug, PartialEq)]
pub enum Failure {
    /// This schema is over a budget: the operation using it is left out.
    TooLarge(String),
    /// The time is up: the whole import stops.
    Time(String),
}

/// What copying a value in place would produce.
#[derive(Clone, Copy, Debug, Default)]
struct Size {
    nodes: u64,
    depth: u32,
    /// Recursive, or references chained too deeply to measure: never copied in place.
    unbounded: bool,
}

impl Size {
    fn leaf() -> Self {
        Size { nodes: 1, depth: 0, unbounded: false }
    }

    fn add_child(&mut self, child: Size) {
        self.nodes = self.nodes.saturating_add(child.nodes);
        self.depth = self.depth.max(child.depth.saturating_add(1));
        self.unbounded |= child.unbounded;
    }

    fn fits_inline(&self) -> bool {
        !self.unbounded && self.nodes <= INLINE_NODES && self.depth <= INLINE_DEPTH
    }
}

/// OpenAPI keywords that are not JSON Schema (or are not schemas to follow
/// when measuring): dropped from tool schemas, or rewritten by
/// [`copy_object`] (`example`, `nullable`, boolean exclusive bounds).
fn dropped(key: &str, value: &Value) -> bool {
    matches!(key, "nullable" | "example" | "examples" | "xml" | "discriminator" | "externalDocs")
        || (matches!(key, "exclusiveMinimum" | "exclusiveMaximum") && value.is_boolean())
}

/// The largest example kept in a tool schema (serialized); larger ones are dropped.
pub const MAX_EXAMPLE_BYTES: usize = 1024;
/// How many examples a schema keeps.
const MAX_EXAMPLES: usize = 3;

/// The converter for one document: remembers the size of every schema a
/// `$ref` points at.
pub struct Schemas<'d> {
    doc: &'d Value,
    sizes: HashMap<&'d str, Size>,
    measuring: Vec<&'d str>,
}

impl<'d> Schemas<'d> {
    pub fn new(doc: &'d Value) -> Self {
        Schemas { doc, sizes: HashMap::new(), measuring: Vec::new() }
    }

    fn measure(&mut self, value: &'d Value, budget: &mut Budget) -> Result<Size, Failure> {
        budget.tick().map_err(Failure::Time)?;
        let mut size = Size { nodes: 1, depth: 1, unbounded: false };
        match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                    return self.measure_ref(reference, budget);
                }
                for (key, child) in map {
                    if !dropped(key, child) {
                        size.add_child(self.measure(child, budget)?);
                    }
                }
            }
            Value::Array(items) => {
                for child in items {
                    size.add_child(self.measure(child, budget)?);
                }
            }
            _ => return Ok(Size::leaf()),
        }
        Ok(size)
    }

    fn measure_ref(&mut self, reference: &'d str, budget: &mut Budget) -> Result<Size, Failure> {
        if let Some(size) = self.sizes.get(reference) {
            return Ok(*size);
        }
        if self.measuring.contains(&reference) || self.measuring.len() >= MAX_REF_HOPS {
            return Ok(Size { nodes: 1, depth: 1, unbounded: true });
        }
        let Ok(target) = lookup(self.doc, reference) else {
            return Ok(Size::leaf()); // becomes `{}`, as any unresolvable reference
        };
        self.measuring.push(reference);
        let size = self.measure(target, budget);
        self.measuring.pop();
        let size = size?;
        self.sizes.insert(reference, size);
        Ok(size)
    }

    /// Converts `schema` for a tool whose other schemas share `defs`. A
    /// top-level `$ref` is always followed, so the schema's own properties
    /// are visible to whoever builds the request body from them.
    pub fn convert(&mut self, schema: &'d Value, defs: &mut Defs<'d>, budget: &mut Budget) -> Result<Value, Failure> {
        let top = deref(self.doc, schema).unwrap_or(&EMPTY);
        let size = self.measure(top, budget)?;
        let at = reference(schema).unwrap_or("the operation");
        defs.at = at.to_owned();
        if size.fits_inline() {
            defs.count(size.nodes)?;
            return Ok(self.inline(top));
        }
        let converted = self.shallow(top, defs, budget)?;
        self.emit_pending(defs, budget)?;
        Ok(converted)
    }

    /// Copies `value` with every reference replaced by its target. Only
    /// called on values measured to fit (so bounded and acyclic).
    fn inline(&self, value: &'d Value) -> Value {
        match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                    return match lookup(self.doc, reference) {
                        Ok(target) => self.inline(target),
                        Err(_) => json!({}),
                    };
                }
                let copied: Result<_, std::convert::Infallible> = copy_object(map, |child| Ok(self.inline(child)));
                Value::Object(copied.unwrap_or_else(|never| match never {}))
            }
            Value::Array(items) => Value::Array(items.iter().map(|item| self.inline(item)).collect()),
            other => other.clone(),
        }
    }

    /// Copies `value` with every reference pointing into `$defs`; the
    /// targets are queued to be emitted once each.
    fn shallow(&self, value: &'d Value, defs: &mut Defs<'d>, budget: &mut Budget) -> Result<Value, Failure> {
        budget.tick().map_err(Failure::Time)?;
        defs.count(1)?;
        Ok(match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                    return Ok(match lookup(self.doc, reference) {
                        Ok(_) => json!({ "$ref": format!("#/$defs/{}", defs.name_for(reference)) }),
                        Err(_) => json!({}),
                    });
                }
                Value::Object(copy_object(map, |child| self.shallow(child, defs, budget))?)
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.shallow(item, defs, budget)).collect::<Result<_, _>>()?)
            }
            other => other.clone(),
        })
    }

    fn emit_pending(&self, defs: &mut Defs<'d>, budget: &mut Budget) -> Result<(), Failure> {
        while let Some(reference) = defs.pending.pop() {
            defs.at = reference.to_owned();
            let target = lookup(self.doc, reference).unwrap_or(&EMPTY);
            let converted = self.shallow(target, defs, budget)?;
            let name = defs.name_for(reference);
            defs.out.insert(name, converted);
        }
        Ok(())
    }
}

/// Copies a schema object's keywords, each value through `child`, as JSON
/// Schema 2020-12: OpenAPI-only keywords are dropped, `type: file` becomes
/// `type: string`, `example` becomes `examples`, `nullable: true` adds
/// `null` to the type, and OpenAPI 3.0's boolean `exclusiveMinimum` /
/// `exclusiveMaximum` become the numeric bounds.
fn copy_object<'d, E>(
    map: &'d Map<String, Value>,
    mut child: impl FnMut(&'d Value) -> Result<Value, E>,
) -> Result<Map<String, Value>, E> {
    let exclusive = |key: &str| map.get(key) == Some(&Value::Bool(true));
    let mut out = Map::new();
    for (key, value) in map {
        match (key.as_str(), value) {
            ("example", example) if !map.contains_key("examples") => {
                if small(example) {
                    out.insert("examples".into(), json!([example]));
                }
            }
            ("examples", Value::Array(list)) => {
                let kept: Vec<Value> = list.iter().filter(|e| small(e)).take(MAX_EXAMPLES).cloned().collect();
                if !kept.is_empty() {
                    out.insert("examples".into(), Value::Array(kept));
                }
            }
            ("minimum", bound) if exclusive("exclusiveMinimum") => {
                out.insert("exclusiveMinimum".into(), bound.clone());
            }
            ("maximum", bound) if exclusive("exclusiveMaximum") => {
                out.insert("exclusiveMaximum".into(), bound.clone());
            }
            _ if dropped(key, value) => {}
            ("type", Value::String(t)) if t == "file" => {
                out.insert("type".into(), json!("string"));
            }
            (
                "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas",
                Value::Object(named),
            ) => {
                // Names, not keywords: a property called `example` or `xml` stays.
                let mut schemas = Map::new();
                for (name, schema) in named {
                    schemas.insert(name.clone(), child(schema)?);
                }
                out.insert(key.clone(), Value::Object(schemas));
            }
            _ => {
                out.insert(key.clone(), child(value)?);
            }
        }
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        make_nullable(&mut out);
    }
    Ok(out)
}

/// Whether an example is small enough to keep.
fn small(example: &Value) -> bool {
    serde_json::to_vec(example).is_ok_and(|bytes| bytes.len() <= MAX_EXAMPLE_BYTES)
}

/// OpenAPI 3.0's `nullable: true`: `null` joins the type (and the enum).
fn make_nullable(schema: &mut Map<String, Value>) {
    match schema.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            schema.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) if !types.contains(&json!("null")) => types.push(json!("null")),
        _ => {}
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
}

/// A schema written without references (a Swagger 2.0 parameter's own
/// keywords), converted as [`copy_object`] does.
pub fn plain(schema: &Map<String, Value>) -> Value {
    let copied: Result<_, std::convert::Infallible> = copy_object(schema, |child| Ok(child.clone()));
    Value::Object(copied.unwrap_or_else(|never| match never {}))
}

static EMPTY: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::Object(Map::new()));

/// The `$defs` of one tool's argument schema, and the node count of
/// everything converted for that tool.
#[derive(Default)]
pub struct Defs<'d> {
    names: HashMap<&'d str, String>,
    taken: HashSet<String>,
    pending: Vec<&'d str>,
    out: Map<String, Value>,
    nodes: u64,
    /// The reference being converted, for error messages.
    at: String,
}

impl<'d> Defs<'d> {
    fn count(&mut self, nodes: u64) -> Result<(), Failure> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_SCHEMA_NODES {
            return Err(Failure::TooLarge(format!(
                "its arguments' schema grows past {MAX_SCHEMA_NODES} nodes at `{}`",
                self.at
            )));
        }
        Ok(())
    }

    /// The `$defs` key for `reference`, assigned (and queued) on first use.
    fn name_for(&mut self, reference: &'d str) -> String {
        if let Some(name) = self.names.get(reference) {
            return name.clone();
        }
        let last = reference.rsplit('/').next().unwrap_or(reference).replace("~1", "/").replace("~0", "~");
        let base: String = last
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' })
            .take(64)
            .collect();
        let base = if base.is_empty() { "schema".to_owned() } else { base };
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.names.insert(reference, name.clone());
        self.pending.push(reference);
        name
    }

    /// The collected definitions (empty when everything was copied in place).
    pub fn into_map(self) -> Map<String, Value> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn convert(doc: &Value, schema: &Value) -> Result<(Value, Map<String, Value>), Failure> {
        let mut schemas = Schemas::new(doc);
        let mut defs = Defs::default();
        let mut budget = Budget::new(Duration::from_secs(10));
        let out = schemas.convert(schema, &mut defs, &mut budget)?;
        Ok((out, defs.into_map()))
    }

    #[test]
    fn small_references_are_copied_in_place() {
        let doc = json!({"components": {"schemas": {
            "Pet": {"type": "object", "properties": {"tag": {"$ref": "#/components/schemas/Tag"}}, "example": {"x": 1}},
            "Tag": {"type": "string", "nullable": true}}}});
        let (out, defs) = convert(&doc, &json!({"$ref": "#/components/schemas/Pet"})).unwrap();
        assert_eq!(
            out,
            json!({"type": "object", "properties": {"tag": {"type": ["string", "null"]}}, "examples": [{"x": 1}]})
        );
        assert!(defs.is_empty());
    }

    #[test]
    fn constraints_and_examples_become_json_schema_2020_12() {
        let doc = json!({});
        let schema = json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 10,
            "multipleOf": 0.5, "example": 2.5, "nullable": true, "enum": [1, 2.5], "xml": {"name": "n"}});
        let (out, _) = convert(&doc, &schema).unwrap();
        assert_eq!(
            out,
            json!({"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 10, "multipleOf": 0.5,
            "examples": [2.5], "enum": [1, 2.5, null]})
        );
        let huge = json!({"type": "string", "example": "x".repeat(MAX_EXAMPLE_BYTES)});
        assert_eq!(convert(&doc, &huge).unwrap().0, json!({"type": "string"}));
        let named =
            json!({"type": "object", "properties": {"example": {"type": "string"}, "xml": {"type": "integer"}}});
        assert_eq!(convert(&doc, &named).unwrap().0, named, "properties named like keywords stay");
        let listed = json!({"type": "integer", "examples": [1, 2, 3, 4], "exclusiveMaximum": 9});
        assert_eq!(
            convert(&doc, &listed).unwrap().0,
            json!({"type": "integer", "examples": [1, 2, 3], "exclusiveMaximum": 9})
        );
    }

    #[test]
    fn recursion_goes_to_defs() {
        let doc = json!({"components": {"schemas": {"Node": {"type": "object", "properties": {
            "next": {"$ref": "#/components/schemas/Node"}, "name": {"type": "string"}}}}}});
        let (out, defs) = convert(&doc, &json!({"$ref": "#/components/schemas/Node"})).unwrap();
        assert_eq!(out["properties"]["next"], json!({"$ref": "#/$defs/Node"}));
        assert_eq!(defs["Node"]["properties"]["next"], json!({"$ref": "#/$defs/Node"}));
        assert_eq!(defs["Node"]["properties"]["name"]["type"], "string");
    }

    /// Each schema references the next one twice: copying in place would
    /// make 2^40 nodes.
    #[test]
    fn exponential_fan_out_stays_linear() {
        let mut schemas = Map::new();
        for i in 0..40 {
            let next = json!({"$ref": format!("#/components/schemas/S{}", i + 1)});
            schemas.insert(format!("S{i}"), json!({"type": "object", "properties": {"a": next, "b": next}}));
        }
        schemas.insert("S40".into(), json!({"type": "string"}));
        let doc = json!({"components": {"schemas": schemas}});
        let (out, defs) = convert(&doc, &json!({"$ref": "#/components/schemas/S0"})).unwrap();
        assert_eq!(out["properties"]["a"], json!({"$ref": "#/$defs/S1"}));
        assert_eq!(defs.len(), 40);
    }

    #[test]
    fn a_long_chain_stays_shallow() {
        let mut schemas = Map::new();
        for i in 0..500 {
            let next = json!({"$ref": format!("#/components/schemas/S{}", i + 1)});
            schemas.insert(format!("S{i}"), json!({"type": "object", "properties": {"next": next}}));
        }
        schemas.insert("S500".into(), json!({"type": "string"}));
        let doc = json!({"components": {"schemas": schemas}});
        let (out, defs) = convert(&doc, &json!({"$ref": "#/components/schemas/S0"})).unwrap();
        assert_eq!(defs.len(), 500);
        assert!(app::spec::json_depth(&out) <= 3);
    }

    #[test]
    fn a_schema_over_the_node_budget_is_refused_with_where() {
        let big: Vec<Value> = (0..20_000).map(|i| json!(format!("v{i}"))).collect();
        let doc = json!({"components": {"schemas": {"Huge": {"type": "string", "enum": big}}}});
        let failure = convert(&doc, &json!({"$ref": "#/components/schemas/Huge"})).unwrap_err();
        let Failure::TooLarge(message) = failure else { panic!("{failure:?}") };
        assert!(message.contains("10000 nodes at `#/components/schemas/Huge`"), "{message}");
    }

    #[test]
    fn unresolvable_references_become_empty_schemas() {
        let doc = json!({});
        let (out, _) = convert(&doc, &json!({"type": "object", "properties": {"x": {"$ref": "#/nope"}}})).unwrap();
        assert_eq!(out["properties"]["x"], json!({}));
    }
}
