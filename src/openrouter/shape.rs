//! What each action needs of an upstream `200` before it may answer `200` itself: an answer of
//! the wrong shape (an array, `null`, `{}`, a chat answer without choices) is a `502` saying
//! what was missing, never a success made of defaults. Unknown and missing optional fields stay
//! tolerated; only what the action cannot answer without is required.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The shape an upstream answer must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `choices`, a non-empty array whose first item has a `message` object.
    Chat,
    /// `choices`, a non-empty array whose first item has a `text` string or a `message` object
    /// (the legacy route answers either way).
    Completion,
    /// `data`, an array.
    List,
    /// `data`, an object.
    Object,
    /// `data`, an object with numeric `total_credits` and `total_usage`.
    Credits,
}

impl Shape {
    /// What an answer of this shape carries, in the words of the error.
    fn needs(self) -> &'static str {
        match self {
            Shape::Chat => "a `choices` array whose first item has a `message` object",
            Shape::Completion => "a `choices` array whose first item has a `text` or a `message`",
            Shape::List => "a `data` array",
            Shape::Object => "a `data` object",
            Shape::Credits => "a `data` object with numbers `total_credits` and `total_usage`",
        }
    }

    fn holds(self, value: &Value) -> bool {
        let Some(top) = value.as_object() else {
            return false;
        };
        match self {
            Shape::Chat => {
                first_choice(top).is_some_and(|c| c.get("message").is_some_and(Value::is_object))
            }
            Shape::Completion => first_choice(top).is_some_and(|choice| {
                choice.get("text").is_some_and(Value::is_string)
                    || choice.get("message").is_some_and(Value::is_object)
            }),
            Shape::List => top.get("data").is_some_and(Value::is_array),
            Shape::Object => top.get("data").is_some_and(Value::is_object),
            Shape::Credits => top
                .get("data")
                .and_then(Value::as_object)
                .is_some_and(|data| {
                    ["total_credits", "total_usage"]
                        .iter()
                        .all(|name| data.get(*name).is_some_and(Value::is_number))
                }),
        }
    }
}

fn first_choice(top: &Map<String, Value>) -> Option<&Map<String, Value>> {
    top.get("choices")?.as_array()?.first()?.as_object()
}

/// `value` when it has `shape`, else the `502` that says what it lacked.
pub fn require(value: Value, shape: Shape) -> Result<Value, ApiError> {
    if shape.holds(&value) {
        return Ok(value);
    }
    let what = match &value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(map) if map.is_empty() => "an empty object",
        Value::Object(_) => "an object",
    };
    Err(ApiError::upstream_failed(format!(
        "OpenRouter answered with {what} without {}, so there is no answer to give. Try \
         again; if it persists, pick another model or provider.",
        shape.needs()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use serde_json::json;

    #[test]
    fn wrong_shapes_are_502s_and_usable_answers_pass() {
        for (shape, bad) in [
            (Shape::Chat, json!([])),
            (Shape::Chat, json!(null)),
            (Shape::Chat, json!({})),
            (Shape::Chat, json!({"choices": null})),
            (Shape::Chat, json!({"choices": []})),
            (Shape::Chat, json!({"choices": [{}]})),
            (Shape::Chat, json!({"choices": [{"message": "hi"}]})),
            (Shape::Completion, json!({"choices": [{"text": null}]})),
            (Shape::List, json!({"data": null})),
            (Shape::List, json!({"data": {}})),
            (Shape::Object, json!({"data": []})),
            (Shape::Object, json!("text")),
            (Shape::Credits, json!({})),
            (
                Shape::Credits,
                json!({"data": {"total_credits": "1", "total_usage": 0}}),
            ),
        ] {
            let error = require(bad.clone(), shape).unwrap_err();
            assert_eq!(error.status_code().as_u16(), 502, "{shape:?} {bad}");
        }
        for (shape, good) in [
            (Shape::Chat, json!({"choices": [{"message": {}}]})),
            (Shape::Completion, json!({"choices": [{"text": ""}]})),
            (
                Shape::Completion,
                json!({"choices": [{"message": {"content": "x"}}]}),
            ),
            (Shape::List, json!({"data": []})),
            (Shape::Object, json!({"data": {}})),
            (
                Shape::Credits,
                json!({"data": {"total_credits": 1, "total_usage": 0.5}}),
            ),
        ] {
            assert!(require(good.clone(), shape).is_ok(), "{shape:?} {good}");
        }
    }
}
