//! The `ChatCompletion` action: one message (plus optional system prompt, earlier turns and an
//! image) in, the model's first answer flat out, with every OpenRouter option reachable.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::chat_fast::flat_chat;
use super::chat_upstream::{MESSAGES, UpstreamChat};
use super::files::{FileInput, FilePart, PdfEngine, read_files};
use super::flat::{
    Usage, content_text, object, take_array, take_integer, take_object, take_text, unknown,
};
use super::forms::{ResponseFormatForm, ToolChoiceForm};
use super::input::{ActionInput, Call, Fields, check, typed};
use super::messages::{ContentRole, JsonSchemaFormat, Message, ResponseFormat, Tool, ToolCall};
use super::options::GenerationOptions;
use crate::domain::ModelId;
use crate::error::{ApiError, ErrorBody};
use crate::openrouter::OpenRouterClient;
use crate::openrouter::OwnedCaller;
use crate::routes;
use crate::state::AppState;

/// A chat request: the message, who says it, and everything OpenRouter offers around it.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ChatCompletionRequest {
    /// The message text. Required unless `messages` holds earlier turns.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Summarise this email in one sentence: ...")]
    pub content: Option<String>,
    /// Who says `content`: `user` (the default), `system` or `assistant`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<ContentRole>,
    /// The model, e.g. `openai/gpt-4o-mini`. Left out: your OpenRouter account's default model.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "openai/gpt-4o-mini")]
    pub model: Option<ModelId>,
    /// A system prompt: instructions sent before everything else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Earlier turns, sent after `system` and before `content`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Message>>,
    /// An image for vision models, sent with `content`: an https URL or a data URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Files sent after `content`: PDFs, images, audio (WAV, MP3) or text files (CSV, JSON,
    /// Markdown, …), each from Power Automate's file content, base64, or an https URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<FileInput>>)]
    pub files: Option<Vec<FilePart>>,
    /// How PDFs are read: `native` (by the model), `pdf-text` or `mistral-ocr` (for scans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf_engine: Option<PdfEngine>,
    /// Tuning, routing and reasoning.
    #[serde(flatten)]
    pub options: GenerationOptions,
    /// The form of the answer: `text`, `json_object` or `json_schema` (then give `json_schema`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ResponseFormatForm>)]
    pub response_format: Option<Value>,
    /// The schema the answer must follow, with `response_format` `json_schema`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<JsonSchemaFormat>,
    /// Functions the model may call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool to call: `none`, `auto`, `required`, or a function's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ToolChoiceForm>)]
    pub tool_choice: Option<Value>,
    /// Whether the model may call several tools at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Search the web and give the model the results (OpenRouter's `web` plugin; costs extra).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_search: Option<bool>,
}

impl ActionInput for ChatCompletionRequest {
    fn parse(req: &HttpRequest, body: Bytes) -> Result<Self, ApiError> {
        // Everything goes in the body: a query parameter (`?temprature=0.5`) is a typo to name.
        Fields::from_query(req.query_string())?.finish()?;
        let mut fields = Fields::from_body(body)?;
        let request = ChatCompletionRequest {
            content: fields.take("content")?,
            role: fields.take("role")?,
            model: fields.take_parsed("model", ModelId::parse)?,
            system: fields.take("system")?,
            messages: fields.take_objects("messages", &["tool_calls"])?,
            image_url: fields.take("image_url")?,
            files: take_files(&mut fields)?,
            pdf_engine: fields.take("pdf_engine")?,
            options: GenerationOptions::take_from(&mut fields)?,
            response_format: fields.take("response_format")?,
            json_schema: take_json_schema(&mut fields)?,
            tools: take_tools(&mut fields)?,
            tool_choice: fields.take("tool_choice")?,
            parallel_tool_calls: fields.take("parallel_tool_calls")?,
            web_search: fields.take("web_search")?,
        };
        fields.finish()?;
        request.check()?;
        Ok(request)
    }
}

fn take_json_schema(fields: &mut Fields) -> Result<Option<JsonSchemaFormat>, ApiError> {
    let Some(mut value) = fields.take_object::<Value>("json_schema", &[])? else {
        return Ok(None);
    };
    // Makers often paste the schema as text: read it as JSON.
    if let Some(Value::String(text)) = value.get("schema") {
        let schema = serde_json::from_str::<Value>(text).map_err(|error| {
            ApiError::invalid(
                "json_schema.schema",
                format!("The field `json_schema.schema` is not valid JSON: {error}."),
            )
        })?;
        value["schema"] = schema;
    }
    let format: JsonSchemaFormat = typed("json_schema", value)?;
    check(
        format.schema.is_object(),
        "json_schema.schema",
        "must be a JSON Schema object",
    )?;
    check(
        !format.name.trim().is_empty(),
        "json_schema.name",
        "must not be empty",
    )?;
    Ok(Some(format))
}

/// Changes the upstream body's `plugins` (those `extra` gave, or none) with `change`.
fn edit_plugins(body: &mut Map<String, Value>, change: impl FnOnce(&mut Vec<Value>)) {
    let mut plugins = match body.remove("plugins") {
        Some(Value::Array(plugins)) => plugins,
        _ => Vec::new(),
    };
    change(&mut plugins);
    body.insert("plugins".to_owned(), Value::Array(plugins));
}

fn plugin_id(plugin: &Value) -> Option<&str> {
    plugin.get("id").and_then(Value::as_str)
}

fn take_files(fields: &mut Fields) -> Result<Option<Vec<FilePart>>, ApiError> {
    let Some(items) = fields.take::<Vec<Value>>("files")? else {
        return Ok(None);
    };
    read_files(items).map(Some)
}

fn take_tools(fields: &mut Fields) -> Result<Option<Vec<Tool>>, ApiError> {
    let Some(items) = fields.take_objects::<Value>("tools", &[])? else {
        return Ok(None);
    };
    let mut tools = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let field = format!("tools[{index}]");
        let tool: Tool = typed(&field, Tool::unwrap_upstream_form(item))?;
        check(
            tool.name_is_valid(),
            &format!("{field}.name"),
            "must be 1 to 64 letters, digits, `_` or `-`",
        )?;
        tools.push(tool);
    }
    Ok(Some(tools))
}

impl ChatCompletionRequest {
    fn check(&self) -> Result<(), ApiError> {
        let has_turns = self.messages.as_ref().is_some_and(|m| !m.is_empty());
        check(
            self.content.is_some() || has_turns,
            "content",
            "is required (or give earlier turns in `messages`)",
        )?;
        check(
            self.image_url.is_none() || self.content.is_some(),
            "image_url",
            "needs `content` to go with the image",
        )?;
        check(
            self.files.is_none() || self.content.is_some(),
            "files",
            "needs `content` to go with the files",
        )?;
        for (index, message) in self.messages.iter().flatten().enumerate() {
            if let Some((field, rule)) = message.problem() {
                check(false, &format!("messages[{index}].{field}"), rule)?;
            }
        }
        match &self.response_format {
            None | Some(Value::Object(_)) => {}
            Some(Value::String(kind)) => {
                let kind: ResponseFormat = typed("response_format", json!(kind))?;
                check(
                    kind != ResponseFormat::JsonSchema || self.json_schema.is_some(),
                    "json_schema",
                    "is required when `response_format` is `json_schema`",
                )?;
            }
            Some(_) => check(
                false,
                "response_format",
                "must be `text`, `json_object` or `json_schema`",
            )?,
        }
        match &self.tool_choice {
            None | Some(Value::Object(_)) => Ok(()),
            Some(Value::String(choice)) => check(
                !choice.trim().is_empty(),
                "tool_choice",
                "must not be blank",
            ),
            Some(_) => check(
                false,
                "tool_choice",
                "must be `none`, `auto`, `required` or a function's name",
            ),
        }
    }

    /// OpenRouter's `/chat/completions` body for this request, with `stream: false`, written
    /// from the request itself (see [`UpstreamChat`]).
    pub fn to_upstream(&self) -> UpstreamChat<'_> {
        let mut body = Map::new();
        self.options.write_into(&mut body);
        if let Some(model) = &self.model {
            body.insert("model".to_owned(), json!(model.as_str()));
        }
        // Holds its place: the messages are written from the request, not copied into a value.
        body.insert(MESSAGES.to_owned(), Value::Null);
        if let Some(format) = self.upstream_response_format() {
            body.insert("response_format".to_owned(), format);
        }
        if let Some(tools) = &self.tools {
            body.insert(
                "tools".to_owned(),
                tools.iter().map(Tool::to_upstream).collect(),
            );
        }
        if let Some(choice) = &self.tool_choice {
            let choice = match choice.as_str() {
                Some("none" | "auto" | "required") | None => choice.clone(),
                Some(name) => json!({"type": "function", "function": {"name": name}}),
            };
            body.insert("tool_choice".to_owned(), choice);
        }
        if let Some(parallel) = self.parallel_tool_calls {
            body.insert("parallel_tool_calls".to_owned(), json!(parallel));
        }
        if let Some(engine) = self.pdf_engine {
            edit_plugins(&mut body, |plugins| {
                plugins.retain(|p| plugin_id(p) != Some("file-parser"));
                plugins.push(json!({"id": "file-parser", "pdf": {"engine": engine.as_str()}}));
            });
        }
        if self.web_search == Some(true) {
            edit_plugins(&mut body, |plugins| {
                if !plugins.iter().any(|p| plugin_id(p) == Some("web")) {
                    plugins.push(json!({"id": "web"}));
                }
            });
        }
        body.insert("stream".to_owned(), json!(false));
        UpstreamChat::new(body, self)
    }

    fn upstream_response_format(&self) -> Option<Value> {
        match self.response_format.as_ref()? {
            Value::String(kind) if kind == "json_schema" => {
                Some(json!({"type": "json_schema", "json_schema": self.json_schema}))
            }
            Value::String(kind) => Some(json!({"type": kind})),
            other => Some(other.clone()),
        }
    }
}

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
        let choices: Vec<ChatChoice> = take_array(&mut top, "choices")
            .into_iter()
            .enumerate()
            .map(|(position, choice)| ChatChoice::from_upstream(position, choice))
            .collect();
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

/// Chat with a model
///
/// Sends a message (with an optional system prompt, earlier turns and an image) to any model on
/// OpenRouter and returns its answer, flat: the text, tool calls, reasoning, usage and cost.
/// Fallback models, provider routing, JSON output, tools, reasoning and web search are all
/// available; other OpenRouter parameters go in `extra`.
#[utoipa::path(
    post,
    path = routes::CHAT_COMPLETION.path,
    operation_id = routes::CHAT_COMPLETION.operation_id,
    tag = "Connector actions",
    request_body(
        content = ChatCompletionRequest,
        example = json!({
            "model": "openai/gpt-4o-mini",
            "system": "Answer in one sentence.",
            "content": "What is Power Automate?",
            "temperature": 0.3,
            "max_tokens": 256
        })
    ),
    responses(
        (status = 200, description = "The model's answer.", body = ChatCompletionResponse),
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
pub async fn chat_completion(
    req: HttpRequest,
    call: Call<ChatCompletionRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let owner = call.connection.id();
    let caller = call.owned_caller();
    // The request's texts and files are written into the upstream body, then let go: while
    // OpenRouter answers, the body's bytes are the one copy held.
    let body = call.input.to_upstream().to_bytes()?;
    drop(call);
    let work = move |client: Arc<OpenRouterClient>, caller: OwnedCaller| async move {
        client
            .chat_completion(caller.caller(), &body, flat_chat, |answer| {
                Ok(ChatCompletionResponse::from_upstream(answer))
            })
            .await
    };
    state
        .jobs
        .clone()
        .answer(&req, owner, caller, state.client.clone(), work)
        .await
}
