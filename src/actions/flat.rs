//! Making OpenRouter's answers flat for a flow: no `null` anywhere, first-level fields lifted,
//! unknown fields kept. Also the `Usage` block that both completion actions return.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Removes every `null`, in objects and arrays, at any depth.
pub fn prune_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(prune_nulls);
        }
        Value::Array(items) => {
            items.retain(|v| !v.is_null());
            items.iter_mut().for_each(prune_nulls);
        }
        _ => {}
    }
}

/// An upstream object with its nulls pruned; anything else becomes an empty object.
pub fn object(mut value: Value) -> Map<String, Value> {
    prune_nulls(&mut value);
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The unknown fields of an upstream object, less any that would collide with a name the flat
/// response writes itself (a JSON object must not hold a name twice).
pub fn unknown(mut rest: Map<String, Value>, written: &[&str]) -> Map<String, Value> {
    rest.retain(|name, _| !written.contains(&name.as_str()));
    rest
}

/// Takes a member as text: strings as they are, numbers and booleans written out. A member of
/// another type is dropped: its name belongs to a field of the flat response, so keeping it
/// among the unknown fields would write the name twice.
pub fn take_text(map: &mut Map<String, Value>, name: &str) -> Option<String> {
    match map.remove(name)? {
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Takes a member as a whole number (floats with no fraction are accepted); see [`take_text`]
/// for members of another type.
pub fn take_integer(map: &mut Map<String, Value>, name: &str) -> Option<i64> {
    whole(map.remove(name)?.as_number()?)
}

/// A count as a whole number: an integer, or a float without a fraction (`12.0`); a fraction or
/// a number beyond `i64` is no count, and is left out rather than rounded or clamped.
pub fn whole(number: &serde_json::Number) -> Option<i64> {
    number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
            .map(|f| f as i64)
    })
}

/// Takes a member as a number; see [`take_text`] for members of another type.
pub fn take_number(map: &mut Map<String, Value>, name: &str) -> Option<f64> {
    map.remove(name)?.as_f64()
}

/// Takes a member that is an object; see [`take_text`] for members of another type.
pub fn take_object(map: &mut Map<String, Value>, name: &str) -> Option<Map<String, Value>> {
    match map.remove(name)? {
        Value::Object(inner) => Some(inner),
        _ => None,
    }
}

/// Takes a member that is an array (absent or of another type: empty).
pub fn take_array(map: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    match map.remove(name) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

/// A message's `content` as text: a string as it is, an array of content parts joined by their
/// `text`.
pub fn content_text(content: Option<Value>) -> String {
    match content {
        Some(Value::String(text)) => text,
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// Tokens used and what they cost.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<i64>,
    /// Tokens generated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<i64>,
    /// Prompt and completion tokens together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<i64>,
    /// What the call cost, in credits (USD).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// Prompt tokens read from the provider's cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<i64>,
    /// Completion tokens spent on reasoning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<i64>,
    /// Other usage details OpenRouter sends, kept as they are.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

impl Usage {
    /// Reads upstream `usage`, lifting the cached and reasoning token counts.
    pub fn from_upstream(mut usage: Map<String, Value>) -> Usage {
        let nested = |usage: &Map<String, Value>, outer: &str, inner: &str| {
            whole(usage.get(outer)?.get(inner)?.as_number()?)
        };
        Usage {
            cached_tokens: nested(&usage, "prompt_tokens_details", "cached_tokens"),
            reasoning_tokens: nested(&usage, "completion_tokens_details", "reasoning_tokens"),
            prompt_tokens: take_integer(&mut usage, "prompt_tokens"),
            completion_tokens: take_integer(&mut usage, "completion_tokens"),
            total_tokens: take_integer(&mut usage, "total_tokens"),
            cost: take_number(&mut usage, "cost"),
            other: unknown(usage, &["cached_tokens", "reasoning_tokens"]),
        }
    }
}

/// Reads an upstream JSON value into a flat response type after pruning its nulls; a shape that
/// does not fit is OpenRouter breaking its promise, a `502`.
pub fn decode<T: serde::de::DeserializeOwned>(
    mut value: Value,
) -> Result<T, crate::error::ApiError> {
    prune_nulls(&mut value);
    serde_path_to_error::deserialize(value).map_err(|error| {
        crate::error::ApiError::upstream_failed(format!(
            "OpenRouter's answer did not have the expected shape at `{}`: {}.",
            error.path(),
            without_values(&error.inner().to_string())
        ))
    })
}

/// serde's account of a shape error without the value it quotes (`invalid type: string "…",
/// expected a JSON number` becomes `invalid type: string, expected a JSON number`): the value is
/// upstream's words, which may quote a prompt, and the message reaches the log.
fn without_values(reason: &str) -> String {
    let (what, expected) = match reason.find(", expected") {
        Some(at) => reason.split_at(at),
        None => (reason, ""),
    };
    // `missing field `id``: the name is one of ours.
    if what.starts_with("missing field") {
        return reason.to_owned();
    }
    let what = what.find(['"', '`']).map_or(what, |quote| &what[..quote]);
    format!("{}{expected}", what.trim_end())
}

/// The `data` member of an upstream answer (OpenRouter wraps single objects and lists in it).
pub fn unwrap_data(value: Value) -> Value {
    match value {
        Value::Object(mut map) => map.remove("data").unwrap_or(Value::Object(map)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_shape_error_names_the_place_and_the_types_but_not_upstreams_words() {
        #[derive(Debug, serde::Deserialize)]
        #[expect(dead_code, reason = "the test reads only whether it decodes")]
        struct Model {
            id: String,
            created: i64,
            kind: Option<Kind>,
        }
        #[derive(Debug, serde::Deserialize)]
        enum Kind {
            Text,
        }
        for (answer, expected) in [
            (
                json!({"id": "a", "created": "SECRET prompt"}),
                "at `created`: invalid type: string, expected i64.",
            ),
            (
                json!({"id": "a", "created": 1.5}),
                "at `created`: invalid type: floating point, expected i64.",
            ),
            (
                json!({"id": "a", "created": 1, "kind": "SECRET"}),
                "at `kind`: unknown variant, expected `Text`.",
            ),
            (json!({"created": 1}), "at `.`: missing field `id`."),
        ] {
            let error = decode::<Model>(answer.clone()).unwrap_err();
            let logged = error.for_log();
            assert!(logged.ends_with(expected), "{answer}: {logged}");
            assert!(!logged.contains("SECRET"), "{logged}");
        }
    }

    #[test]
    fn nulls_are_pruned_at_every_depth() {
        let mut value = json!({"a": null, "b": [1, null, {"c": null, "d": 2}]});
        prune_nulls(&mut value);
        assert_eq!(value, json!({"b": [1, {"d": 2}]}));
    }

    #[test]
    fn usage_lifts_cached_and_reasoning_tokens_and_keeps_the_rest() {
        let usage = Usage::from_upstream(object(json!({
            "prompt_tokens": 687, "completion_tokens": 192, "total_tokens": 879, "cost": 0.00341325,
            "is_byok": false,
            "prompt_tokens_details": {"cached_tokens": 679},
            "completion_tokens_details": {"reasoning_tokens": 121}
        })));
        let flat = serde_json::to_value(usage).unwrap();
        assert_eq!(flat["cached_tokens"], 679);
        assert_eq!(flat["reasoning_tokens"], 121);
        assert_eq!(flat["cost"], 0.00341325);
        assert_eq!(flat["is_byok"], false);
    }

    #[test]
    fn content_parts_are_joined() {
        let parts = json!([{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}]);
        assert_eq!(content_text(Some(parts)), "ab");
        assert_eq!(content_text(None), "");
    }
}
