//! The conversation pieces of Chat Completion: earlier turns, tool definitions, tool calls and
//! structured-output settings, in their flat connector form and their OpenRouter form.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::input::blank_as_none;

/// Who wrote a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person using the flow.
    #[default]
    User,
    /// The model.
    Assistant,
    /// The result of a tool call, answering the assistant's `tool_calls`.
    Tool,
}

/// Who says a request's `content`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContentRole {
    /// Instructions for the model.
    System,
    /// The person using the flow.
    #[default]
    User,
    /// The model (to put words in its mouth).
    Assistant,
}

/// An earlier turn of the conversation.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Who wrote it: `system`, `user`, `assistant` or `tool`.
    pub role: Role,
    /// The text of the message (OpenRouter's array of content parts is accepted too).
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<super::forms::ContentForm>)]
    pub content: Option<Value>,
    /// On an assistant turn: the tool calls it made, as Chat Completion returned them.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// On a tool turn: the id of the tool call this message answers.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub tool_call_id: Option<String>,
    /// An optional name for the author of the message.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
}

/// A tool call made by the model.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct ToolCall {
    /// The call's id; a tool turn answering it carries it as `tool_call_id`.
    #[serde(default)]
    pub id: String,
    /// The kind of tool, `function`.
    #[serde(default = "function_type", rename = "type")]
    pub kind: String,
    /// The function to call.
    #[serde(default)]
    pub name: String,
    /// The function's arguments, as a JSON text.
    #[serde(default)]
    pub arguments: String,
}

fn function_type() -> String {
    "function".to_owned()
}

impl ToolCall {
    /// Reads a tool call in OpenRouter's nested form (`function.name`, `function.arguments`) or
    /// in the flat form; arguments given as an object are written as JSON text.
    pub fn from_value(value: &Value) -> ToolCall {
        let function = value.get("function").unwrap_or(value);
        let text = |v: Option<&Value>| match v {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        ToolCall {
            id: text(value.get("id")),
            kind: value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("function")
                .to_owned(),
            name: text(function.get("name")),
            arguments: text(function.get("arguments")),
        }
    }

    /// OpenRouter's form of this call.
    pub fn to_upstream(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind,
            "function": {"name": self.name, "arguments": self.arguments},
        })
    }
}

/// OpenRouter's form of an earlier turn, borrowing it: its content (which may hold large parts,
/// such as images) is written from the request, not copied.
#[derive(Debug, Serialize)]
pub struct UpstreamMessage<'a> {
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

impl Message {
    /// OpenRouter's form of this message.
    pub fn upstream(&self) -> UpstreamMessage<'_> {
        UpstreamMessage {
            role: self.role,
            content: self.content.as_ref(),
            tool_calls: self
                .tool_calls
                .as_ref()
                .map(|calls| calls.iter().map(ToolCall::to_upstream).collect()),
            tool_call_id: self.tool_call_id.as_deref(),
            name: self.name.as_deref(),
        }
    }

    /// Which field of this message is wrong, if any: content is needed except on an assistant
    /// turn with tool calls, and a tool turn needs the id of the call it answers.
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        let has_calls = self
            .tool_calls
            .as_ref()
            .is_some_and(|calls| !calls.is_empty());
        if self.content.is_none() && !(self.role == Role::Assistant && has_calls) {
            return Some(("content", "is required"));
        }
        if self.role == Role::Tool && self.tool_call_id.is_none() {
            return Some(("tool_call_id", "is required on a tool message"));
        }
        None
    }
}

/// A function the model may call.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// The function's name: letters, digits, `_` and `-`, at most 64.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub name: String,
    /// What the function does, so the model knows when to call it.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// The function's parameters, as a JSON Schema object.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Map<String, Value>>,
    /// Whether the model must follow the parameters' schema exactly.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub strict: Option<bool>,
}

impl Tool {
    /// Reads a tool in the flat form or in OpenRouter's `{"type": "function", "function": …}`.
    pub fn unwrap_upstream_form(value: Value) -> Value {
        match value {
            Value::Object(mut map) if map.get("function").is_some_and(Value::is_object) => {
                map.remove("function").unwrap_or_default()
            }
            other => other,
        }
    }

    /// Whether the name is one OpenRouter's providers accept.
    pub fn name_is_valid(&self) -> bool {
        !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    /// OpenRouter's form of this tool.
    pub fn to_upstream(&self) -> Value {
        json!({"type": "function", "function": self})
    }
}

/// The form of the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON following the schema given in `json_schema`.
    JsonSchema,
}

/// The schema a `json_schema` answer must follow.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonSchemaFormat {
    /// A name for the schema, e.g. `invoice`.
    #[schema(pattern = "\\S")]
    pub name: String,
    /// The JSON Schema of the answer, as an object (or as JSON text).
    #[schema(value_type = super::forms::SchemaForm)]
    pub schema: Value,
    /// Whether the model must follow the schema exactly.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub strict: Option<bool>,
    /// What the schema is for.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
}
