//! The `ChatCompletion` action: one message (plus optional system prompt, earlier turns and an
//! image) in, the model's first answer flat out, with every OpenRouter option reachable.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

pub use super::chat_answer::{ChatChoice, ChatCompletionResponse};
use super::chat_fast::flat_chat;
use super::chat_upstream::{MESSAGES, UpstreamChat};
use super::files::{FileInput, FilePart, PdfEngine, read_files};
use super::forms::{ResponseFormatForm, ToolChoiceForm};
use super::input::{ActionInput, Call, Fields, check, typed};
use super::messages::{ContentRole, JsonSchemaFormat, Message, ResponseFormat, Tool};
use super::options::GenerationOptions;
use super::structured::AnswerForm;
use crate::domain::ModelId;
use crate::error::{ApiError, ErrorBody};
use crate::openrouter::OpenRouterClient;
use crate::openrouter::{Caller, OwnedCaller};
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
    /// What the answer must be, read from `response_format`: what `parsed` is checked against.
    #[serde(skip)]
    #[schema(ignore)]
    pub answer_form: AnswerForm,
}

impl ActionInput for ChatCompletionRequest {
    fn parse(req: &HttpRequest, body: Bytes) -> Result<Self, ApiError> {
        // Everything goes in the body: a query parameter (`?temprature=0.5`) is a typo to name.
        Fields::from_query(req.query_string())?.finish()?;
        ChatCompletionRequest::from_body(body)
    }
}

impl ChatCompletionRequest {
    /// Reads a request from its JSON body (also what the MCP tool `chat` writes), with every
    /// check of the action: a `400` naming the field.
    pub fn from_body(body: Bytes) -> Result<ChatCompletionRequest, ApiError> {
        let mut fields = Fields::from_body(body)?;
        let mut request = ChatCompletionRequest {
            content: fields.take("content")?,
            role: fields.take("role")?,
            model: fields.take_parsed("model", ModelId::parse)?,
            system: fields.take("system")?,
            messages: fields.take_objects("messages", &["tool_calls"])?,
            image_url: fields.take("image_url")?,
            files: take_files(&mut fields)?,
            pdf_engine: fields.take("pdf_engine")?,
            options: GenerationOptions::take_from(&mut fields)?,
            response_format: fields.take::<Value>("response_format")?,
            json_schema: take_json_schema(&mut fields)?,
            tools: take_tools(&mut fields)?,
            tool_choice: fields.take("tool_choice")?,
            parallel_tool_calls: fields.take("parallel_tool_calls")?,
            web_search: fields.take("web_search")?,
            answer_form: AnswerForm::Text,
        };
        fields.finish()?;
        // A schema filled in on the card means a schema-shaped answer, format chosen or not.
        if request.response_format.is_none() && request.json_schema.is_some() {
            request.response_format = Some(json!("json_schema"));
        }
        request.check()?;
        let schema_field = match request.response_format {
            Some(Value::Object(_)) => "response_format.json_schema.schema",
            _ => "json_schema.schema",
        };
        let format = request.upstream_response_format();
        request.answer_form = AnswerForm::of(format.as_ref(), schema_field)?;
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
            None => {}
            Some(Value::Object(_)) => check(
                self.json_schema.is_none(),
                "json_schema",
                "is not used with OpenRouter's object form of `response_format`: put the \
                 schema inside it, or set `response_format` to `json_schema`",
            )?,
            Some(Value::String(kind)) => {
                let kind: ResponseFormat = typed("response_format", json!(kind))?;
                check(
                    kind != ResponseFormat::JsonSchema || self.json_schema.is_some(),
                    "json_schema",
                    "is required when `response_format` is `json_schema`",
                )?;
                check(
                    kind == ResponseFormat::JsonSchema || self.json_schema.is_none(),
                    "json_schema",
                    "is used only when `response_format` is `json_schema`: set it so, or \
                     leave the schema out",
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

/// Chat with a model
///
/// Sends a message (with an optional system prompt, earlier turns, an image and files) to any
/// model on OpenRouter and returns its answer, flat: the text, tool calls, reasoning, usage and
/// cost; with a JSON schema, the answer's fields as `parsed`; pictures a model drew as `images`.
/// Fallback models, provider routing, tools, reasoning and web search are all available; other
/// OpenRouter parameters go in `extra`.
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
        (status = 502, description = "OpenRouter or the provider failed, or the answer is not the JSON asked for (the model's text is in `metadata.raw`).", body = ErrorBody),
        (status = 503, description = "The service is busy, restarting, or cannot reach its Redis; retry after `Retry-After`.", body = ErrorBody),
        (status = 504, description = "OpenRouter did not answer in time.", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn chat_completion(
    req: HttpRequest,
    mut call: Call<ChatCompletionRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let form = call.input.answer_form.clone();
    // The body's room in `BODY_MEMORY_BYTES` stays taken while its bytes wait for the answer,
    // in the background too when the call becomes a job.
    let room = std::mem::take(&mut call.body);
    let owner = call.connection.id();
    let caller = call.owned_caller();
    // The request's texts and files are written into the upstream body, then let go: while
    // OpenRouter answers, the body's bytes are the one copy held.
    let body = call.input.to_upstream().to_bytes()?;
    drop(call);
    let work = move |client: Arc<OpenRouterClient>, caller: OwnedCaller| async move {
        let answer = ask(&client, caller.caller(), &body, &form).await;
        drop(room);
        answer
    };
    state
        .jobs
        .clone()
        .answer(&req, owner, caller, state.client.clone(), work)
        .await
}

/// Sends `body` (a request's [`ChatCompletionRequest::to_upstream`] bytes) to OpenRouter for
/// `caller` and reads the answer flat, checked against `form` (also the MCP tool `chat`).
pub async fn ask(
    client: &OpenRouterClient,
    caller: Caller<'_>,
    body: &Bytes,
    form: &AnswerForm,
) -> Result<ChatCompletionResponse, ApiError> {
    let answer = client
        .chat_completion(caller, body, flat_chat, |answer| {
            Ok(ChatCompletionResponse::from_upstream(answer))
        })
        .await?;
    form.read_bounded(answer).await
}
