//! Chat Completion's answer, flat: the first choice's fields at the top, every choice in
//! `choices`, with `parsed` when JSON was asked for and `images` when the model drew.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::flat::{
    Usage, content_text, object, take_array, take_integer, take_object, take_text, unknown,
};
use super::images::OutputImage;
use super::messages::ToolCall;

/// The model's answer, flat: the first choice's fields at the top, every choice in `choices`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ChatCompletionResponse {
    /// The generation's id (`gen-...`); Get Generation takes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The model that answered (may differ from the one asked for, with fallbacks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The provider that served the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// When the answer was made, in Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// Who wrote the answer: `assistant`.
    pub role: String,
    /// The answer's text (empty when the model only called tools).
    pub content: String,
    /// The answer read as JSON, when `response_format` asked for JSON: its fields are the
    /// schema's, as dynamic content.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<serde_json::Value>)]
    pub parsed: Option<Value>,
    /// The pictures the model drew, as file content (*Create file* saves them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<OutputImage>,
    /// The model's reasoning, when it shares it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Why the model refused, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Why the answer ended: `stop`, `length`, `tool_calls`, `content_filter` or `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// The provider's own word for why the answer ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_finish_reason: Option<String>,
    /// The tools the model wants called, with their arguments.
    pub tool_calls: Vec<ToolCall>,
    /// Tokens used and what they cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The backend configuration the model ran with, where the provider tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Every choice the model made (one unless `n` was asked for through `extra`).
    pub choices: Vec<ChatChoice>,
    /// Other fields OpenRouter sends, kept as they are.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// The names a flat chat answer writes itself.
pub(super) const RESPONSE_FIELDS: &[&str] = &[
    "id",
    "model",
    "provider",
    "created",
    "role",
    "content",
    "parsed",
    "images",
    "reasoning",
    "refusal",
    "finish_reason",
    "native_finish_reason",
    "tool_calls",
    "usage",
    "system_fingerprint",
    "choices",
];

/// The names a flat chat choice writes itself.
pub(super) const CHOICE_FIELDS: &[&str] = &[
    "index",
    "role",
    "content",
    "images",
    "reasoning",
    "refusal",
    "finish_reason",
    "native_finish_reason",
    "tool_calls",
];

/// One choice of the model.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct ChatChoice {
    /// The choice's position.
    pub index: i64,
    /// Who wrote it: `assistant`.
    pub role: String,
    /// Its text.
    pub content: String,
    /// The pictures it drew (the first choice's are in the answer's own `images`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<OutputImage>,
    /// The model's reasoning, when it shares it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// Why the model refused, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Why it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// The provider's own word for why it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_finish_reason: Option<String>,
    /// The tools the model wants called.
    pub tool_calls: Vec<ToolCall>,
    /// Other fields of the choice and its message (such as `annotations` or `logprobs`).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

impl ChatChoice {
    fn from_upstream(position: usize, choice: Value) -> ChatChoice {
        let mut choice = object(choice);
        let mut message = take_object(&mut choice, "message")
            .or_else(|| take_object(&mut choice, "delta"))
            .unwrap_or_default();
        let tool_calls = take_array(&mut message, "tool_calls")
            .iter()
            .map(ToolCall::from_value)
            .collect();
        let mut parsed = ChatChoice {
            index: take_integer(&mut choice, "index").unwrap_or(position as i64),
            role: take_text(&mut message, "role").unwrap_or_else(|| "assistant".to_owned()),
            content: content_text(message.remove("content")),
            images: OutputImage::from_upstream(take_array(&mut message, "images")),
            reasoning: take_text(&mut message, "reasoning"),
            refusal: take_text(&mut message, "refusal"),
            finish_reason: take_text(&mut choice, "finish_reason"),
            native_finish_reason: take_text(&mut choice, "native_finish_reason"),
            tool_calls,
            other: choice,
        };
        for (name, value) in message {
            parsed.other.entry(name).or_insert(value);
        }
        parsed.other = unknown(parsed.other, CHOICE_FIELDS);
        parsed
    }
}

impl ChatCompletionResponse {
    /// Flattens OpenRouter's `chat.completion`.
    pub fn from_upstream(value: Value) -> ChatCompletionResponse {
        let mut top = object(value);
        let mut choices: Vec<ChatChoice> = take_array(&mut top, "choices")
            .into_iter()
            .enumerate()
            .map(|(position, choice)| ChatChoice::from_upstream(position, choice))
            .collect();
        // The first choice's pictures are given once, at the top: they may be megabytes.
        let images = choices
            .first_mut()
            .map(|first| std::mem::take(&mut first.images))
            .unwrap_or_default();
        let first = choices.first().cloned().unwrap_or_else(|| ChatChoice {
            role: "assistant".to_owned(),
            ..ChatChoice::default()
        });
        ChatCompletionResponse {
            id: take_text(&mut top, "id"),
            model: take_text(&mut top, "model"),
            provider: take_text(&mut top, "provider"),
            created: take_integer(&mut top, "created"),
            role: first.role,
            content: first.content,
            parsed: None,
            images,
            reasoning: first.reasoning,
            refusal: first.refusal,
            finish_reason: first.finish_reason,
            native_finish_reason: first.native_finish_reason,
            tool_calls: first.tool_calls,
            usage: take_object(&mut top, "usage").map(Usage::from_upstream),
            system_fingerprint: take_text(&mut top, "system_fingerprint").filter(|s| !s.is_empty()),
            choices,
            other: unknown(top, RESPONSE_FIELDS),
        }
    }
}
