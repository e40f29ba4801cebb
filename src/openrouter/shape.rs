//! What each action needs of an upstream `200` before it may answer `200` itself: an answer of
//! the wrong shape (an array, `null`, `{}`, a chat answer without choices) is a `502` saying
//! what was missing, never a success made of defaults. Unknown and missing optional fields stay
//! tolerated; only what the action cannot answer without is required.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The shape an upstream answer must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `choices`, a non-empty array of objects each with a usable `message` object.
    Chat,
    /// `choices`, a non-empty array of objects each with a `text` string or a usable `message`
    /// object (the legacy route answers either way).
    Completion,
    /// `data`, an array of models, each an object with a string `id`.
    Models,
    /// `data`, an object with an `endpoints` array.
    Endpoints,
    /// `data`, an object with a string `id`.
    Generation,
    /// `data`, an object with numeric `total_credits` and `total_usage`.
    Credits,
}

impl Shape {
    /// What an answer of this shape carries, in the words of the error.
    fn needs(self) -> &'static str {
        match self {
            Shape::Chat => {
                "a `choices` array of objects with a `message` object (text or content parts, \
                 and tool calls as an array of objects)"
            }
            Shape::Completion => "a `choices` array of objects with a `text` or a `message`",
            Shape::Models => "a `data` array of models, each with an `id`",
            Shape::Endpoints => "a `data` object with an `endpoints` array",
            Shape::Generation => "a `data` object with an `id`",
            Shape::Credits => "a `data` object with numbers `total_credits` and `total_usage`",
        }
    }

    fn holds(self, value: &Value) -> bool {
        let Some(top) = value.as_object() else {
            return false;
        };
        let data = top.get("data");
        let data_object = data.and_then(Value::as_object);
        match self {
            Shape::Chat => every_choice(top, |choice| usable_message(choice.get("message"))),
            Shape::Completion => every_choice(top, |choice| {
                choice.get("text").is_some_and(Value::is_string)
                    || usable_message(choice.get("message"))
            }),
            Shape::Models => data.and_then(Value::as_array).is_some_and(|models| {
                models
                    .iter()
                    .all(|model| model.get("id").is_some_and(Value::is_string))
            }),
            Shape::Endpoints => {
                data_object.is_some_and(|data| data.get("endpoints").is_some_and(Value::is_array))
            }
            Shape::Generation => {
                data_object.is_some_and(|data| data.get("id").is_some_and(Value::is_string))
            }
            Shape::Credits => data_object.is_some_and(|data| {
                ["total_credits", "total_usage"]
                    .iter()
                    .all(|name| data.get(*name).is_some_and(Value::is_number))
            }),
        }
    }
}

/// `choices` is a non-empty array whose every item is an object that passes `usable`.
fn every_choice(top: &Map<String, Value>, usable: impl Fn(&Map<String, Value>) -> bool) -> bool {
    top.get("choices")
        .and_then(Value::as_array)
        .is_some_and(|choices| {
            !choices.is_empty()
                && choices
                    .iter()
                    .all(|choice| choice.as_object().is_some_and(&usable))
        })
}

/// A message object whose `content` is text, content parts or nothing, and whose `tool_calls`
/// are objects or nothing: anything else would be answered as `""` or invented calls.
fn usable_message(message: Option<&Value>) -> bool {
    let Some(message) = message.and_then(Value::as_object) else {
        return false;
    };
    let content = message.get("content").is_none_or(|content| match content {
        Value::Null | Value::String(_) => true,
        // Content parts: objects, whose `text`, where there is one, is text.
        Value::Array(parts) => parts.iter().all(|part| {
            part.as_object().is_some_and(|part| {
                part.get("text")
                    .is_none_or(|text| text.is_null() || text.is_string())
            })
        }),
        _ => false,
    });
    let tool_calls = message.get("tool_calls").is_none_or(|calls| match calls {
        Value::Null => true,
        // Each call an object whose `function`, where there is one, is an object.
        Value::Array(calls) => calls.iter().all(|call| {
            call.as_object().is_some_and(|call| {
                call.get("function")
                    .is_none_or(|function| function.is_null() || function.is_object())
            })
        }),
        _ => false,
    });
    content && tool_calls
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
            (
                Shape::Chat,
                json!({"choices": [{"message": {"content": 5}}]}),
            ),
            (
                Shape::Chat,
                json!({"choices": [{"message": {"tool_calls": [1, null]}}]}),
            ),
            (Shape::Chat, json!({"choices": [{"message": {}}, null]})),
            (
                Shape::Chat,
                json!({"choices": [{"message": {"content": [1, null]}}]}),
            ),
            (
                Shape::Chat,
                json!({"choices": [{"message": {"content": [{"type": "text", "text": {"x": 1}}]}}]}),
            ),
            (
                Shape::Chat,
                json!({"choices": [{"message": {"tool_calls": [{"function": 5}]}}]}),
            ),
            (Shape::Completion, json!({"choices": [{"text": null}]})),
            (Shape::Models, json!({"data": null})),
            (Shape::Models, json!({"data": {}})),
            (Shape::Models, json!({"data": [{}]})),
            (Shape::Endpoints, json!({"data": {}})),
            (
                Shape::Endpoints,
                json!({"data": {"total_credits": 1, "total_usage": 0}}),
            ),
            (Shape::Generation, json!({"data": []})),
            (Shape::Generation, json!({"data": {}})),
            (Shape::Generation, json!("text")),
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
            (
                Shape::Chat,
                json!({"choices": [{"message": {"content": [], "tool_calls": [{}]}}]}),
            ),
            (Shape::Models, json!({"data": []})),
            (Shape::Models, json!({"data": [{"id": "a/b"}]})),
            (Shape::Endpoints, json!({"data": {"endpoints": []}})),
            (Shape::Generation, json!({"data": {"id": "gen-1"}})),
            (
                Shape::Credits,
                json!({"data": {"total_credits": 1, "total_usage": 0.5}}),
            ),
        ] {
            assert!(require(good.clone(), shape).is_ok(), "{shape:?} {good}");
        }
    }
}
