//! The `Completion` action: a prompt in, the model's continuation flat out, through OpenRouter's
//! legacy `/completions` route (or `/chat/completions` once that route is gone).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::completion_fast::flat_completion;
use super::flat::{
    Usage, content_text, object, take_array, take_integer, take_object, take_text, unknown,
};
use super::input::{ActionInput, Call, Fields};
use super::options::GenerationOptions;
use crate::domain::ModelId;
use crate::error::{ApiError, ErrorBody};
use crate::openrouter::OpenRouterClient;
use crate::openrouter::OwnedCaller;
use crate::routes;
use crate::state::AppState;

/// A text completion request: a prompt and the options to continue it with.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletionRequest {
    /// The text for the model to continue.
    #[schema(example = "Write a haiku about spreadsheets:")]
    pub prompt: String,
    /// The model, e.g. `meta-llama/llama-3.1-405b-instruct`. Left out: your OpenRouter
    /// account's default model.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "openai/gpt-4o-mini")]
    pub model: Option<ModelId>,
    /// Tuning, routing and reasoning.
    #[serde(flatten)]
    pub options: GenerationOptions,
}

impl ActionInput for CompletionRequest {
    fn parse(req: &HttpRequest, body: Bytes) -> Result<Self, ApiError> {
        // Everything goes in the body: a query parameter (`?temprature=0.5`) is a typo to name.
        Fields::from_query(req.query_string())?.finish()?;
        let mut fields = Fields::from_body(body)?;
        let request = CompletionRequest {
            prompt: fields.require_text("prompt")?,
            model: fields.take_parsed("model", ModelId::parse)?,
            options: GenerationOptions::take_from(&mut fields)?,
        };
        fields.finish()?;
        Ok(request)
    }
}

impl CompletionRequest {
    /// OpenRouter's `/completions` body for this request, with `stream: false`.
    pub fn to_upstream(&self) -> Value {
        let mut body = Map::new();
        self.options.write_into(&mut body);
        if let Some(model) = &self.model {
            body.insert("model".to_owned(), json!(model.as_str()));
        }
        body.insert("prompt".to_owned(), json!(self.prompt));
        body.insert("stream".to_owned(), json!(false));
        Value::Object(body)
    }
}

/// The model's continuation, flat: the first choice's text at the top, every choice in
/// `choices`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CompletionResponse {
    /// The generation's id (`gen-...`); Get Generation takes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The model that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The provider that served the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// When the answer was made, in Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<i64>,
    /// The generated text.
    pub text: String,
    /// Why the text ended: `stop`, `length` or `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// The provider's own word for why the text ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_finish_reason: Option<String>,
    /// Tokens used and what they cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Every choice the model made.
    pub choices: Vec<CompletionChoice>,
    /// Other fields OpenRouter sends, kept as they are.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// One choice of the model.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct CompletionChoice {
    /// The choice's position.
    pub index: i64,
    /// Its text.
    pub text: String,
    /// Why it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// The provider's own word for why it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_finish_reason: Option<String>,
    /// Other fields of the choice, kept as they are.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// The names a flat completion writes itself.
pub(super) const RESPONSE_FIELDS: &[&str] = &[
    "id",
    "model",
    "provider",
    "created",
    "text",
    "finish_reason",
    "native_finish_reason",
    "usage",
    "choices",
];

/// The names a flat completion choice writes itself.
pub(super) const CHOICE_FIELDS: &[&str] =
    &["index", "text", "finish_reason", "native_finish_reason"];

impl CompletionChoice {
    fn from_upstream(position: usize, choice: Value) -> CompletionChoice {
        let mut choice = object(choice);
        let text = match take_text(&mut choice, "text") {
            Some(text) => text,
            None => {
                let mut message = take_object(&mut choice, "message").unwrap_or_default();
                let text = content_text(message.remove("content"));
                message.remove("role");
                for (name, value) in message {
                    choice.entry(name).or_insert(value);
                }
                text
            }
        };
        CompletionChoice {
            index: take_integer(&mut choice, "index").unwrap_or(position as i64),
            text,
            finish_reason: take_text(&mut choice, "finish_reason"),
            native_finish_reason: take_text(&mut choice, "native_finish_reason"),
            other: unknown(choice, CHOICE_FIELDS),
        }
    }
}

impl CompletionResponse {
    /// Flattens OpenRouter's answer, whether it came as a legacy completion (`choices[].text`,
    /// even under `object: "chat.completion"`) or as a chat completion.
    pub fn from_upstream(value: Value) -> CompletionResponse {
        let mut top = object(value);
        let choices: Vec<CompletionChoice> = take_array(&mut top, "choices")
            .into_iter()
            .enumerate()
            .map(|(position, choice)| CompletionChoice::from_upstream(position, choice))
            .collect();
        let first = choices.first().cloned().unwrap_or_default();
        CompletionResponse {
            id: take_text(&mut top, "id"),
            model: take_text(&mut top, "model"),
            provider: take_text(&mut top, "provider"),
            created: take_integer(&mut top, "created"),
            text: first.text,
            finish_reason: first.finish_reason,
            native_finish_reason: first.native_finish_reason,
            usage: take_object(&mut top, "usage").map(Usage::from_upstream),
            choices,
            other: unknown(top, RESPONSE_FIELDS),
        }
    }
}

/// Complete a prompt
///
/// Sends a prompt to any model on OpenRouter and returns the text the model continues it with,
/// flat, with usage and cost. Fallback models, provider routing and reasoning are available;
/// other OpenRouter parameters go in `extra`.
#[utoipa::path(
    post,
    path = routes::COMPLETION.path,
    operation_id = routes::COMPLETION.operation_id,
    tag = "Connector actions",
    request_body(
        content = CompletionRequest,
        example = json!({
            "model": "openai/gpt-4o-mini",
            "prompt": "Write a haiku about spreadsheets:",
            "max_tokens": 64
        })
    ),
    responses(
        (status = 200, description = "The model's continuation.", body = CompletionResponse),
        (status = 202, description = "Sent with `Prefer: respond-async`, the answer took longer than `ASYNC_AFTER_SECS`: poll the `Location` after `Retry-After` seconds.",
            headers(("Location" = String, description = "The URL to poll for the answer."), ("Retry-After" = u64, description = "Seconds to wait before polling."))),
        (status = 400, description = "A field is missing, of the wrong type or out of range; `metadata.field` names it.", body = ErrorBody),
        (status = 401, description = "No OpenRouter key, or OpenRouter refused it.", body = ErrorBody),
        (status = 402, description = "The OpenRouter account has too few credits.", body = ErrorBody),
        (status = 403, description = "OpenRouter's moderation flagged the input.", body = ErrorBody),
        (status = 404, description = "No provider serves this model with these settings.", body = ErrorBody),
        (status = 413, description = "The request body is too large.", body = ErrorBody),
        (status = 429, description = "Too many calls; wait `Retry-After` seconds.", body = ErrorBody),
        (status = 502, description = "OpenRouter or the provider failed.", body = ErrorBody),
        (status = 503, description = "The service is busy, restarting, or cannot reach its Redis; retry after `Retry-After`.", body = ErrorBody),
        (status = 504, description = "OpenRouter did not answer in time.", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn completion(
    req: HttpRequest,
    call: Call<CompletionRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = call.input.to_upstream();
    let owner = call.connection.id();
    let work = move |client: Arc<OpenRouterClient>, caller: OwnedCaller| async move {
        client
            .completion(caller.caller(), &body, flat_completion, |answer| {
                Ok(CompletionResponse::from_upstream(answer))
            })
            .await
    };
    state
        .jobs
        .clone()
        .answer(&req, owner, call.owned_caller(), state.client.clone(), work)
        .await
}
