//! A synthetic large OpenAPI document, shaped like the largest public ones
//! (thousands of operations, long descriptions, shared component schemas):
//! what the import benchmark and the large-document test feed the importer.

use serde_json::{Map, Value, json};

/// A document of about `target_bytes` (JSON), with as many operations as
/// that takes (two per 8 KiB or so).
pub fn large_document(target_bytes: usize) -> String {
    let words = "the object that this request creates or updates, as documented for the resource; see the \
                 guide for the values it accepts and how they interact with the other attributes";
    let mut schemas = Map::new();
    for s in 0..50 {
        let props: Map<String, Value> = (0..20)
            .map(|p| (format!("field_{p}"), json!({"type": "string", "description": format!("Field {p} of {words}.")})))
            .collect();
        schemas.insert(format!("Shared{s}"), json!({"type": "object", "properties": props}));
    }
    let mut paths = Map::new();
    let mut bytes = 0;
    let mut i = 0;
    while bytes < target_bytes {
        let props: Map<String, Value> = (0..40)
            .map(|p| {
                let schema = match p % 3 {
                    0 => json!({"$ref": format!("#/components/schemas/Shared{}", (i + p) % 50)}),
                    1 => json!({"type": "integer", "minimum": 0, "description": format!("Count {p}: {words}.")}),
                    _ => json!({"type": "string", "maxLength": 5000, "description": format!("Text {p}: {words}.")}),
                };
                (format!("attribute_{p}"), schema)
            })
            .collect();
        let item = json!({
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "get": {"operationId": format!("GetResource{i}"), "summary": format!("Retrieve resource {i}"),
                    "description": format!("Retrieves resource {i}: {words}."),
                    "parameters": [{"name": "expand", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}]},
            "post": {"operationId": format!("PostResource{i}"), "summary": format!("Update resource {i}"),
                     "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": props}}}}},
        });
        bytes += item.to_string().len() + 40;
        paths.insert(format!("/v1/resource_{i}/{{id}}"), item);
        i += 1;
    }
    json!({"openapi": "3.0.0", "info": {"title": "Large", "version": "1"},
           "servers": [{"url": "https://api.example.com"}], "components": {"schemas": schemas}, "paths": paths})
    .to_string()
}
