//! `tools/call`: a tool's arguments (already checked against its schema) turned into the input
//! of the action behind it, the action run for the caller, and its answer cut for an agent.
//! Every failure here is a tool error (`isError: true`) in the words of contract section 5.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::answers::{
    ChatAnswer, CreditsNote, GenerationNote, ModelChoices, ModelFilter, Picture, ProviderChoices,
};
use super::tools::Tool;
use crate::actions::chat_completion::{self, ChatCompletionRequest};
use crate::actions::get_credits;
use crate::actions::get_generation::{self, GenerationQuery};
use crate::actions::list_model_endpoints::{self, ModelPath};
use crate::actions::list_models::{self, ListModelsQuery};
use crate::actions::structured::AnswerForm;
use crate::error::ApiError;
use crate::openrouter::{Caller, OpenRouterClient};

/// What `file_url` takes, said whenever the file cannot be sent.
const FILE_URL_RULE: &str = "The argument `file_url` must be an https URL of a PDF or an image \
    whose path ends in its type (`.pdf`, `.png`, `.jpg`, `.webp`, `.gif`), or a data URL \
    (`data:<type>;base64,…`) of a PDF, an image, audio (WAV, MP3) or a text file (plain text, \
    CSV, JSON, Markdown).";

/// How many models `list_models` lists when the agent does not say.
const DEFAULT_LIMIT: usize = 25;

/// A tool's answer: its `structuredContent`, and pictures for image content blocks.
#[derive(Debug)]
pub struct Answer {
    /// The `structuredContent`, as the tool's `outputSchema` describes it.
    pub structured: Value,
    /// Pictures a model drew.
    pub pictures: Vec<Picture>,
}

/// Runs `tool` with `arguments` for `caller`: an error is the tool error's text.
pub async fn run(
    tool: Tool,
    arguments: Map<String, Value>,
    client: &OpenRouterClient,
    caller: Caller<'_>,
) -> Result<Answer, ApiError> {
    match tool {
        Tool::Chat => {
            let request = chat_request(arguments)?;
            let body = request.to_upstream().to_bytes()?;
            let answer = chat_completion::ask(client, caller, &body, &request.answer_form).await?;
            let (answer, pictures) = ChatAnswer::of(answer);
            Ok(Answer {
                structured: structured(&answer)?,
                pictures,
            })
        }
        Tool::ListModels => {
            let (query, filter) = model_filter(arguments);
            let list = list_models::model_list(client, caller, &query).await?;
            plain(&ModelChoices::of(list.data, &filter))
        }
        Tool::GetModelEndpoints => {
            let path = model_path(text(&arguments, "model"))?;
            let mut model = list_model_endpoints::model_endpoints(client, caller, &path).await?;
            if model.id.is_empty() {
                // The providers listed are the asked model's, whether or not the answer says so.
                model.id = format!("{}/{}", path.author, path.slug);
            }
            plain(&ProviderChoices::of(model))
        }
        Tool::GetCredits => {
            let credits = get_credits::credits(client, caller).await?;
            plain(&CreditsNote::of(credits))
        }
        Tool::GetGeneration => {
            let query = GenerationQuery::new(text(&arguments, "id").unwrap_or_default())?;
            let record = get_generation::generation(client, caller, &query).await?;
            plain(&GenerationNote::of(record))
        }
    }
}

/// The Chat Completion request the `chat` tool's arguments make; a refusal names the tool's
/// argument, not the action's field.
fn chat_request(arguments: Map<String, Value>) -> Result<ChatCompletionRequest, ApiError> {
    let mut body = Map::new();
    for (name, value) in arguments {
        match name.as_str() {
            "prompt" => {
                body.insert("content".to_owned(), value);
            }
            "json_schema" => {
                let schema =
                    json!({"name": "answer", "schema": unwrapped(value)?, "strict": false});
                body.insert(name, schema);
            }
            "reasoning_effort" => {
                body.insert("reasoning".to_owned(), json!({"effort": value}));
            }
            "file_url" => {
                let from = match value.as_str() {
                    Some(text) if text.trim_start().starts_with("data:") => "content",
                    _ => "url",
                };
                body.insert("files".to_owned(), json!([{ from: value }]));
            }
            "image_output" => {
                if value == Value::Bool(true) {
                    body.insert("extra".to_owned(), json!({"modalities": ["image", "text"]}));
                }
            }
            _ => {
                body.insert(name, value);
            }
        }
    }
    let bytes = serde_json::to_vec(&body)
        .map(Bytes::from)
        .map_err(|error| {
            ApiError::unreadable(format!("The arguments cannot be written: {error}."))
        })?;
    // A data URL in `file_url` is held once at a time: as arguments, then as these bytes.
    drop(body);
    let mut request = ChatCompletionRequest::from_body(bytes).map_err(in_tool_words)?;
    if let Some(format) = &request.json_schema {
        // Upstream gets the schema as guidance, not in strict mode, which refuses most schemas
        // an agent writes (OpenAI's wants every property required and no other allowed); the
        // answer is held to it here all the same.
        request.answer_form = AnswerForm::checked_against(&format.schema).map_err(|why| {
            ApiError::invalid(
                "json_schema",
                format!(
                    "The argument `json_schema` is not a JSON Schema answers can be checked \
                     against ({why}). Fix the schema, or leave it out for a text answer."
                ),
            )
        })?;
    }
    Ok(request)
}

/// The schema in `json_schema`: the text as given, or the `schema` inside OpenAI's
/// `{"name", "strict", "schema"}` wrapper when an agent pasted that whole (its `schema` an
/// object or JSON text); a wrapper without a schema in it is refused.
fn unwrapped(value: Value) -> Result<Value, ApiError> {
    let Some(Ok(Value::Object(mut wrapper))) = value.as_str().map(serde_json::from_str::<Value>)
    else {
        return Ok(value);
    };
    let keywords = [
        "type",
        "properties",
        "$ref",
        "items",
        "allOf",
        "anyOf",
        "oneOf",
        "enum",
    ];
    let is_schema = keywords
        .iter()
        .any(|keyword| wrapper.contains_key(*keyword));
    let is_wrapper = wrapper.contains_key("schema")
        || (wrapper.contains_key("name") && wrapper.contains_key("strict"));
    if is_schema || !is_wrapper {
        return Ok(value);
    }
    let inner = match wrapper.remove("schema") {
        Some(Value::String(text)) => serde_json::from_str::<Value>(&text).ok(),
        other => other,
    };
    match inner {
        Some(schema @ Value::Object(_)) => Ok(schema),
        _ => Err(ApiError::invalid(
            "json_schema",
            "The argument `json_schema` looks like OpenAI's `{\"name\", \"strict\", \"schema\"}` \
             wrapper without a JSON Schema object in `schema`: give the schema itself, such as \
             {\"type\": \"object\", \"properties\": {…}}.",
        )),
    }
}

/// An action's `400`, with its fields named as the `chat` tool's arguments.
fn in_tool_words(error: ApiError) -> ApiError {
    let ApiError::InvalidInput {
        field: Some(field),
        message,
        name_from_caller,
    } = error
    else {
        return error;
    };
    let argument = match field.as_str() {
        "content" => "prompt",
        "reasoning.effort" | "reasoning" => "reasoning_effort",
        f if f.starts_with("json_schema") => "json_schema",
        f if f.starts_with("files") => "file_url",
        f if f.starts_with("extra") => "image_output",
        other => other,
    }
    .to_owned();
    let message = if argument == "file_url" {
        // The action's words name its `files` fields, which the tool does not have.
        FILE_URL_RULE.to_owned()
    } else {
        message.replace(&format!("`{field}`"), &format!("`{argument}`"))
    };
    ApiError::InvalidInput {
        field: Some(argument),
        message,
        name_from_caller,
    }
}

/// OpenRouter's own filters, and the rest of what `list_models` was asked.
fn model_filter(arguments: Map<String, Value>) -> (ListModelsQuery, ModelFilter) {
    let words = text(&arguments, "search").unwrap_or_default();
    let output_modality = text(&arguments, "output_modality");
    let supports_tools = arguments.get("supports_tools").and_then(Value::as_bool);
    let query = ListModelsQuery {
        // Without it, OpenRouter lists only models that write text.
        output_modalities: output_modality.clone(),
        supported_parameters: (supports_tools == Some(true)).then(|| "tools".to_owned()),
        ..ListModelsQuery::default()
    };
    let limit = arguments
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_LIMIT, |limit| limit as usize);
    // (`limit: 2.0` arrives as `2`: whole numbers are made integers once checked.)
    let filter = ModelFilter {
        search: words.split_whitespace().map(str::to_lowercase).collect(),
        input_modality: text(&arguments, "input_modality"),
        output_modality,
        supports_tools,
        max_prompt_price: arguments.get("max_prompt_price").and_then(Value::as_f64),
        limit,
    };
    (query, filter)
}

/// The path of the model id `author/slug`.
fn model_path(model: Option<String>) -> Result<ModelPath, ApiError> {
    let refused = || {
        ApiError::invalid(
            "model",
            "The argument `model` must be a model id of two parts, `author/slug`, such as \
             `openai/gpt-4o-mini` (no blanks; list_models gives the ids).",
        )
    };
    let model = model.ok_or_else(refused)?;
    let (author, slug) = model.split_once('/').ok_or_else(refused)?;
    ModelPath::new(author.to_owned(), slug.to_owned()).map_err(|_| refused())
}

fn text(arguments: &Map<String, Value>, name: &str) -> Option<String> {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn plain(answer: &impl Serialize) -> Result<Answer, ApiError> {
    Ok(Answer {
        structured: structured(answer)?,
        pictures: Vec::new(),
    })
}

/// An answer as JSON. Its fields are strings, finite numbers and JSON values: writing it cannot
/// fail; were it to, OpenRouter's answer is not one the tool can give.
fn structured(answer: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(answer).map_err(|error| {
        ApiError::upstream_failed(format!("The answer cannot be written: {error}."))
    })
}
