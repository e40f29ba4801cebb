//! What a model answers when the request asks for a form: JSON for `response_format`
//! (`json_object`, or an instance of the `json_schema`'s schema, as a model that follows it
//! writes), and pictures for `modalities` with `image` (OpenRouter's `message.images`).

use serde_json::{Map, Value, json};

/// A 1×1 PNG, the picture every drawing model of the simulator draws.
pub const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/// Deeper than this, a schema's instance is cut off (a recursive `$ref`).
const MAX_DEPTH: usize = 8;

/// The JSON text the model writes for the request's `response_format`, if it asks for JSON.
pub fn json_answer(body: &Map<String, Value>, last_user: &str) -> Option<String> {
    let format = body.get("response_format")?;
    match format.get("type").and_then(Value::as_str)? {
        "json_object" => Some(json!({"echo": last_user}).to_string()),
        "json_schema" => {
            let schema = format.get("json_schema")?.get("schema")?;
            Some(instance(schema, schema, last_user, 0).to_string())
        }
        _ => None,
    }
}

/// `message.images` when the request asks for pictures (`modalities` with `image`), as
/// OpenRouter's image models answer.
pub fn images(body: &Map<String, Value>) -> Option<Value> {
    let asked = body
        .get("modalities")
        .and_then(Value::as_array)
        .is_some_and(|kinds| kinds.iter().any(|kind| kind == "image"));
    asked.then(|| {
        json!([{"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG_BASE64}")}}])
    })
}

/// A value that follows `schema` (within the document `root`, for local `$ref`s).
fn instance(schema: &Value, root: &Value, echo: &str, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = target.strip_prefix('#').unwrap_or(target);
        return match root.pointer(pointer) {
            Some(resolved) => instance(resolved, root, echo, depth + 1),
            None => Value::Null,
        };
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|values| values.first())
    {
        return first.clone();
    }
    if let Some(constant) = schema.get("const") {
        return constant.clone();
    }
    for union in ["anyOf", "oneOf"] {
        if let Some(first) = schema
            .get(union)
            .and_then(Value::as_array)
            .and_then(|members| members.first())
        {
            return instance(first, root, echo, depth + 1);
        }
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match kind {
        "object" => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let members = properties
                .into_iter()
                .flatten()
                .map(|(name, property)| (name.clone(), instance(property, root, echo, depth + 1)));
            Value::Object(members.collect())
        }
        "array" => {
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            json!([instance(&items, root, echo, depth + 1)])
        }
        "integer" => json!(schema.get("minimum").and_then(Value::as_i64).unwrap_or(1)),
        "number" => json!(schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.5)),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => json!(echo),
    }
}
