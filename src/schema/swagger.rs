//! One JSON Schema as OpenAPI 3.1 (or a maker) writes it, rewritten as a Swagger 2.0 schema
//! object: no unions, no `null`, no `allOf`, no keyword that only 3.x knows.

use serde_json::{Map, Value, json};

/// Where OpenAPI 3.x keeps its reusable schemas, and where Swagger 2.0 keeps them.
const COMPONENTS: &str = "#/components/schemas/";
const DEFINITIONS: &str = "#/definitions/";

/// The formats Swagger 2.0 and Power Platform know; utoipa's others are mapped or dropped.
pub const FORMATS: &[&str] = &[
    "int32",
    "int64",
    "float",
    "double",
    "byte",
    "binary",
    "date",
    "date-time",
    "password",
    "date-no-tz",
    "email",
    "html",
    "uri",
    "uuid",
];

/// Keywords a Swagger 2.0 schema object may carry as they are (besides `x-` extensions).
const KEPT: &[&str] = &[
    "title",
    "multipleOf",
    "maximum",
    "minimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "readOnly",
    "xml",
    "externalDocs",
];

/// Deeper than this, a chain of `allOf` references is taken as a cycle and left alone.
const MAX_DEPTH: usize = 32;

/// Converts schemas, resolving `allOf` members against the document's components.
pub struct SchemaConverter<'a> {
    components: &'a Map<String, Value>,
}

impl<'a> SchemaConverter<'a> {
    /// A converter for a document whose `components.schemas` are `components`.
    pub fn new(components: &'a Map<String, Value>) -> SchemaConverter<'a> {
        SchemaConverter { components }
    }

    /// The Swagger 2.0 form of `schema`. References are kept, pointing into `definitions`.
    pub fn convert(&self, schema: &Value) -> Value {
        self.convert_at(schema, 0)
    }

    /// The Swagger 2.0 form of the component `name`, if the document has it.
    pub fn component(&self, name: &str) -> Option<Value> {
        self.components.get(name).map(|schema| self.convert(schema))
    }

    fn convert_at(&self, schema: &Value, depth: usize) -> Value {
        let Value::Object(schema) = schema else {
            // A boolean schema (`true`/`false`) has no Swagger 2.0 form: any value.
            return json!({});
        };
        let mut rest = schema.clone();
        let union = rest.remove("oneOf").or_else(|| rest.remove("anyOf"));
        rest.remove("anyOf");
        if let Some(Value::Array(members)) = union {
            // Swagger 2.0 has no unions: `null` members go (a field is simply left out), and of
            // the others the first, the simple form the contract declares, stays.
            let first = members.iter().find(|member| !is_null_schema(member));
            let base = first.map_or_else(|| json!({}), |m| self.convert_at(m, depth + 1));
            return overlay(base, self.keywords(&rest, depth));
        }
        if let Some(Value::Array(members)) = rest.remove("allOf") {
            let merged = self.merge_all_of(&members, depth);
            return overlay(merged, self.keywords(&rest, depth));
        }
        Value::Object(self.keywords(&rest, depth))
    }

    /// Converts each keyword of a schema that has no `oneOf`, `anyOf` or `allOf`.
    fn keywords(&self, schema: &Map<String, Value>, depth: usize) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in schema {
            match key.as_str() {
                "$ref" => {
                    if let Some(target) = value.as_str() {
                        out.insert(key.clone(), json!(reference(target)));
                    }
                }
                "type" => {
                    if let Some(kind) = single_type(value) {
                        out.insert(key.clone(), json!(kind));
                    }
                }
                "format" => {
                    if let Some(format) = value.as_str().and_then(format) {
                        out.insert(key.clone(), json!(format));
                    }
                }
                "description" => {
                    if let Some(text) = value.as_str() {
                        out.insert(key.clone(), json!(collapse(text)));
                    }
                }
                "exclusiveMinimum" | "exclusiveMaximum" => exclusive(&mut out, key, value),
                "const" if !schema.contains_key("enum") => {
                    out.insert("enum".to_owned(), json!([value]));
                }
                "enum" => {
                    let values = value.as_array().into_iter().flatten();
                    let values: Vec<Value> = values.filter(|v| !v.is_null()).cloned().collect();
                    out.insert(key.clone(), Value::Array(values));
                }
                "examples" if !schema.contains_key("example") => {
                    if let Some(first) = value.as_array().and_then(|all| all.first()) {
                        out.insert("example".to_owned(), first.clone());
                    }
                }
                "default" | "example" if !value.is_null() => {
                    out.insert(key.clone(), value.clone());
                }
                "required" if value.is_array() => {
                    out.insert(key.clone(), value.clone());
                }
                "items" => {
                    let items = match value {
                        Value::Array(tuple) => tuple.first().cloned().unwrap_or(json!({})),
                        other => other.clone(),
                    };
                    out.insert(key.clone(), self.convert_at(&items, depth + 1));
                }
                "properties" => {
                    let properties = value.as_object().into_iter().flatten();
                    let properties = properties
                        .map(|(name, property)| {
                            (name.clone(), self.convert_at(property, depth + 1))
                        })
                        .collect();
                    out.insert(key.clone(), Value::Object(properties));
                }
                "additionalProperties" => {
                    let converted = match value {
                        Value::Bool(_) => value.clone(),
                        schema => self.convert_at(schema, depth + 1),
                    };
                    out.insert(key.clone(), converted);
                }
                "discriminator" if value.is_string() => {
                    out.insert(key.clone(), value.clone());
                }
                key if key.starts_with("x-") || KEPT.contains(&key) => {
                    out.insert(key.to_owned(), value.clone());
                }
                // Everything else is 3.x only (`nullable`, `prefixItems`, `$schema`,
                // `contentMediaType`, `unevaluated*`, `if`/`then`/`else`, …) or `null`.
                _ => {}
            }
        }
        if out.get("type").and_then(Value::as_str) == Some("array") && !out.contains_key("items") {
            out.insert("items".to_owned(), json!({}));
        }
        out
    }

    /// One object from the members of an `allOf` (what `#[serde(flatten)]` makes): the
    /// struct's own fields first, then the fields of the flattened groups it references.
    fn merge_all_of(&self, members: &[Value], depth: usize) -> Value {
        let mut own = Vec::new();
        let mut referenced = Vec::new();
        for member in members {
            match member.get("$ref").and_then(Value::as_str) {
                Some(target) => referenced.push(self.resolve(target, depth)),
                None => own.push(self.convert_at(member, depth + 1)),
            }
        }
        if own.len() + referenced.len() == 1 {
            return own
                .into_iter()
                .chain(referenced)
                .next()
                .unwrap_or(json!({}));
        }
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        let mut others = Map::new();
        for part in own.iter().chain(referenced.iter()) {
            let Value::Object(part) = part else { continue };
            for (key, value) in part {
                match key.as_str() {
                    "properties" => {
                        for (name, property) in value.as_object().into_iter().flatten() {
                            properties.insert(name.clone(), property.clone());
                        }
                    }
                    "required" => {
                        for name in value.as_array().into_iter().flatten() {
                            if !required.contains(name) {
                                required.push(name.clone());
                            }
                        }
                    }
                    // A part's own description describes the part, not the whole.
                    "description" | "title" | "type" => {}
                    _ => {
                        others.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
        }
        let mut merged = Map::new();
        merged.insert("type".to_owned(), json!("object"));
        if !required.is_empty() {
            merged.insert("required".to_owned(), Value::Array(required));
        }
        merged.insert("properties".to_owned(), Value::Object(properties));
        merged.extend(others);
        Value::Object(merged)
    }

    /// The converted schema a `#/components/schemas/…` reference points at.
    fn resolve(&self, target: &str, depth: usize) -> Value {
        let name = target.strip_prefix(COMPONENTS).unwrap_or(target);
        match self.components.get(name) {
            Some(schema) if depth < MAX_DEPTH => self.convert_at(schema, depth + 1),
            _ => json!({ "$ref": reference(target) }),
        }
    }
}

/// Whitespace runs (the line breaks of wrapped doc comments) as single spaces.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A reference into `components` rewritten to point into `definitions`.
pub fn reference(target: &str) -> String {
    match target.strip_prefix(COMPONENTS) {
        Some(name) => format!("{DEFINITIONS}{name}"),
        None => target.to_owned(),
    }
}

/// `base` with every key of `keys` written over it.
pub fn overlay(base: Value, keys: Map<String, Value>) -> Value {
    let mut base = match base {
        Value::Object(base) => base,
        _ => Map::new(),
    };
    base.extend(keys);
    Value::Object(base)
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// `"string"` from `"string"` or `["string", "null"]`; none for `"null"` alone.
fn single_type(value: &Value) -> Option<&str> {
    match value {
        Value::String(kind) if kind != "null" => Some(kind),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null"),
        _ => None,
    }
}

/// A format Swagger 2.0 knows, mapping the wider integer formats utoipa may emit.
fn format(format: &str) -> Option<&'static str> {
    match format {
        "int8" | "int16" | "uint8" | "uint16" | "uint32" => Some("int32"),
        "uint64" => Some("int64"),
        other => FORMATS.iter().copied().find(|known| *known == other),
    }
}

/// 3.1's `exclusiveMinimum: 0` (a number) is 2.0's `minimum: 0, exclusiveMinimum: true`.
fn exclusive(out: &mut Map<String, Value>, key: &str, value: &Value) {
    let bound = if key == "exclusiveMinimum" {
        "minimum"
    } else {
        "maximum"
    };
    match value {
        Value::Bool(_) => {
            out.insert(key.to_owned(), value.clone());
        }
        Value::Number(_) => {
            out.insert(bound.to_owned(), value.clone());
            out.insert(key.to_owned(), json!(true));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converted(schema: Value) -> Value {
        let components = json!({
            "Options": {"type": "object", "description": "Shared.", "required": ["a"],
                        "properties": {"a": {"type": "integer"}}},
            "Role": {"type": "string", "enum": ["user", "system"]},
        });
        SchemaConverter::new(components.as_object().unwrap()).convert(&schema)
    }

    #[test]
    fn a_nullable_type_becomes_its_one_type() {
        let schema = converted(json!({"type": ["string", "null"], "default": null}));
        assert_eq!(schema, json!({"type": "string"}));
    }

    #[test]
    fn a_union_with_null_becomes_the_other_member_with_the_siblings_kept() {
        let schema = converted(json!({
            "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Role", "description": "Who."}],
            "default": null,
        }));
        assert_eq!(
            schema,
            json!({"$ref": "#/definitions/Role", "description": "Who."})
        );
    }

    #[test]
    fn all_of_is_merged_with_the_own_fields_first() {
        let schema = converted(json!({
            "allOf": [
                {"$ref": "#/components/schemas/Options", "description": "Part."},
                {"type": "object", "required": ["b"], "properties": {"b": {"type": "string"}}},
            ],
            "description": "Whole.",
        }));
        assert_eq!(
            schema,
            json!({"type": "object", "required": ["b", "a"],
                   "properties": {"b": {"type": "string"}, "a": {"type": "integer"}},
                   "description": "Whole."})
        );
    }

    #[test]
    fn a_numeric_exclusive_minimum_becomes_a_minimum_and_a_flag() {
        let schema = converted(json!({"type": "number", "exclusiveMinimum": 0, "maximum": 2}));
        assert_eq!(
            schema,
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 2})
        );
    }

    #[test]
    fn keywords_only_3_x_knows_are_dropped_or_rewritten() {
        let schema = converted(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "array", "prefixItems": [{"type": "string"}], "examples": [["a"]],
            "contentMediaType": "text/plain", "unevaluatedItems": false, "nullable": true,
            "items": {"const": "a", "format": "uint32", "if": {}, "then": {}, "else": {}},
        }));
        assert_eq!(
            schema,
            json!({"type": "array", "example": ["a"], "items": {"enum": ["a"], "format": "int32"}})
        );
    }

    #[test]
    fn wrapped_descriptions_become_one_line() {
        let schema = converted(
            json!({"description": "The model, e.g. `x`. Left out: your\naccount's default."}),
        );
        assert_eq!(
            schema["description"],
            "The model, e.g. `x`. Left out: your account's default."
        );
    }

    #[test]
    fn an_array_without_items_gets_an_open_items_schema() {
        assert_eq!(
            converted(json!({"type": "array"})),
            json!({"type": "array", "items": {}})
        );
    }
}
