//! The five tools of contract section 9, as `tools/list` describes them: a description an
//! agent's planner chooses by, flat inputs of primitive types (each described, no `$ref`, no
//! type arrays, no integer `exclusiveMinimum`: Copilot Studio drops or mis-reads those), and an
//! `outputSchema` that every `structuredContent` follows.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

/// A tool of this server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Ask any model.
    Chat,
    /// Find models.
    ListModels,
    /// A model's providers.
    GetModelEndpoints,
    /// The account's credits.
    GetCredits,
    /// What a generation cost.
    GetGeneration,
}

impl Tool {
    /// Every tool, in the order `tools/list` gives them.
    pub const ALL: [Tool; 5] = [
        Tool::Chat,
        Tool::ListModels,
        Tool::GetModelEndpoints,
        Tool::GetCredits,
        Tool::GetGeneration,
    ];

    /// The tool's name, also its metrics label.
    pub const fn name(self) -> &'static str {
        match self {
            Tool::Chat => "chat",
            Tool::ListModels => "list_models",
            Tool::GetModelEndpoints => "get_model_endpoints",
            Tool::GetCredits => "get_credits",
            Tool::GetGeneration => "get_generation",
        }
    }

    /// The tool called `name`.
    pub fn named(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|tool| tool.name() == name)
    }

    /// The tool's `inputSchema`.
    pub fn input_schema(self) -> &'static Value {
        &DEFINITIONS[self as usize]["inputSchema"]
    }
}

/// The `tools/list` result, built once.
pub fn listing() -> &'static Value {
    &LISTING
}

static DEFINITIONS: LazyLock<Vec<Value>> =
    LazyLock::new(|| Tool::ALL.into_iter().map(definition).collect());

static LISTING: LazyLock<Value> = LazyLock::new(|| json!({"tools": *DEFINITIONS}));

/// Prices in the tools' inputs and answers: USD per million tokens, as people compare them.
const PER_MILLION: &str = "in USD per million tokens";

fn definition(tool: Tool) -> Value {
    let (title, description, input, output, read_only) = match tool {
        Tool::Chat => (
            "Ask an AI model",
            "Sends a prompt to any of the hundreds of models on OpenRouter (OpenAI, Anthropic, \
             Google, Meta, Mistral, DeepSeek, …) and returns its answer. Use it to get a second \
             opinion, reason with a stronger model, read a PDF or image at a URL, search the \
             web, draw a picture with an image model, or get an answer as JSON fields that \
             follow a schema. Each call costs OpenRouter credits.",
            chat_input(),
            chat_output(),
            false,
        ),
        Tool::ListModels => (
            "Find AI models",
            "Lists models available on OpenRouter with their id, name, context length and \
             prices, filtered by words, what they take in or give out, tool support and price. \
             Use it to pick the `model` for chat.",
            object(
                &[
                    (
                        "search",
                        string(
                            "Words to look for in a model's id, name or description, e.g. `claude`, `vision` or `coder`.",
                        ),
                    ),
                    (
                        "input_modality",
                        choice(
                            "Only models that take this in.",
                            &["text", "image", "file", "audio", "video"],
                        ),
                    ),
                    (
                        "output_modality",
                        choice(
                            "Only models that give this out; left out, models that write text.",
                            &["text", "image", "audio", "embeddings"],
                        ),
                    ),
                    (
                        "supports_tools",
                        boolean(
                            "True: only models that can call tools (functions); false: only those that cannot.",
                        ),
                    ),
                    (
                        "max_prompt_price",
                        bounded_number(
                            &format!(
                                "Only models whose prompt price is at most this, {PER_MILLION} (0 for free models)."
                            ),
                            0.0,
                            None,
                        ),
                    ),
                    (
                        "limit",
                        bounded_integer(
                            "The most models to return, 1 to 200 (default 25).",
                            1,
                            200,
                        ),
                    ),
                ],
                &[],
            ),
            model_list_output(),
            true,
        ),
        Tool::GetModelEndpoints => (
            "Show a model's providers",
            "Lists the providers that serve one OpenRouter model, with each one's prices, \
             context length, answer limit, quantization and recent uptime.",
            object(
                &[(
                    "model",
                    text("The model's id, `author/slug`, e.g. `openai/gpt-4o-mini`."),
                )],
                &["model"],
            ),
            endpoints_output(),
            true,
        ),
        Tool::GetCredits => (
            "Check OpenRouter credits",
            "Returns the credits bought and used on this connection's OpenRouter account, and \
             what is left, in USD.",
            object(&[], &[]),
            object(
                &[
                    ("total_credits", number("Everything bought so far, in USD.")),
                    ("total_usage", number("Everything used so far, in USD.")),
                    ("remaining", number("What is left, in USD.")),
                ],
                &["total_credits", "total_usage", "remaining"],
            ),
            true,
        ),
        Tool::GetGeneration => (
            "Look up a generation",
            "Returns what one generation cost and how it went: model, provider, tokens, time \
             and why it ended. Give the `generation_id` a chat answer returned; the record \
             appears a few seconds after the answer.",
            object(
                &[(
                    "id",
                    text("The generation's id, e.g. `gen-1770044149-miW3zzivqGfQNbG1F8Rl`."),
                )],
                &["id"],
            ),
            generation_output(),
            true,
        ),
    };
    json!({
        "name": tool.name(),
        "title": title,
        "description": description,
        "inputSchema": input,
        "outputSchema": output,
        "annotations": {
            "title": title,
            "readOnlyHint": read_only,
            "destructiveHint": false,
            "idempotentHint": read_only,
            "openWorldHint": true,
        },
    })
}

fn chat_input() -> Value {
    object(
        &[
            (
                "prompt",
                text("What to ask the model: the question or task, with any text it needs."),
            ),
            (
                "model",
                string(
                    "The OpenRouter model id, e.g. `openai/gpt-4o-mini`, `anthropic/claude-sonnet-4.5` or `google/gemini-2.5-flash-image` (draws pictures); list_models finds more. Left out: the account's default model.",
                ),
            ),
            (
                "system",
                string(
                    "Instructions the model follows for the whole answer (a system prompt), e.g. `Answer in French.`",
                ),
            ),
            (
                "temperature",
                bounded_number(
                    "How varied the answer is, 0 to 2: low for facts and extraction, high for ideas.",
                    0.0,
                    Some(2.0),
                ),
            ),
            (
                "max_tokens",
                bounded_integer("The most tokens the answer may have.", 1, 1_000_000),
            ),
            (
                "json_schema",
                string(
                    "A JSON Schema, as text, that the answer must follow; its fields then come back in `parsed`. E.g. {\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}",
                ),
            ),
            (
                "web_search",
                boolean("True: search the web first and give the model the results (costs extra)."),
            ),
            (
                "reasoning_effort",
                choice(
                    "How hard a reasoning model thinks before it answers.",
                    &["minimal", "low", "medium", "high"],
                ),
            ),
            (
                "file_url",
                string(
                    "A file for the model to read with the prompt: an https URL of a PDF or an image whose path ends in its type (.pdf, .png, .jpg, .webp, .gif), or a data URL (data:<type>;base64,…) of a PDF, an image, audio (WAV, MP3) or a text file.",
                ),
            ),
            (
                "image_output",
                boolean(
                    "True: ask for a picture as well as text; needs a model that draws, such as `google/gemini-2.5-flash-image`.",
                ),
            ),
        ],
        &["prompt"],
    )
}

fn chat_output() -> Value {
    object(
        &[
            ("text", string("The model's answer.")),
            (
                "refusal",
                string("Why the model declined to answer, when it did."),
            ),
            (
                "parsed",
                json!({"description": "The answer read as JSON, when `json_schema` was given: an object with the schema's fields."}),
            ),
            ("model", string("The model that answered.")),
            ("provider", string("The provider that served the model.")),
            (
                "finish_reason",
                string(
                    "Why the answer ended: `stop`, `length` (cut at max_tokens), `content_filter`, …",
                ),
            ),
            (
                "generation_id",
                string("The generation's id, for get_generation."),
            ),
            ("prompt_tokens", integer("Tokens in the prompt.")),
            ("completion_tokens", integer("Tokens in the answer.")),
            ("cost", number("What the call cost, in USD.")),
            (
                "images",
                json!({
                    "type": "array",
                    "description": "Pictures the model drew; each also comes as an image in the result's content.",
                    "items": object(
                        &[
                            ("name", string("A file name for the picture, e.g. `image-1.png`.")),
                            ("content_type", string("The picture's type, e.g. `image/png`.")),
                            ("url", string("Where the picture is, when the model gave a link instead of the bytes.")),
                        ],
                        &["name", "content_type"],
                    ),
                }),
            ),
        ],
        &["text"],
    )
}

fn model_list_output() -> Value {
    let model = object(
        &[
            ("id", string("The id to give chat as `model`.")),
            ("name", string("The model's display name.")),
            (
                "context_length",
                integer("The most tokens of prompt and answer together."),
            ),
            (
                "prompt_price",
                number(&format!("The price of prompt tokens, {PER_MILLION}.")),
            ),
            (
                "completion_price",
                number(&format!("The price of answer tokens, {PER_MILLION}.")),
            ),
        ],
        &["id"],
    );
    object(
        &[
            (
                "models",
                json!({"type": "array", "description": "The matching models, at most `limit`.", "items": model}),
            ),
            ("total", integer("How many models matched, before `limit`.")),
        ],
        &["models", "total"],
    )
}

fn endpoints_output() -> Value {
    let endpoint = object(
        &[
            ("provider", string("The provider, e.g. `OpenAI`.")),
            (
                "context_length",
                integer("The most tokens of prompt and answer together."),
            ),
            (
                "max_completion_tokens",
                integer("The most tokens this provider generates."),
            ),
            (
                "prompt_price",
                number(&format!("The price of prompt tokens, {PER_MILLION}.")),
            ),
            (
                "completion_price",
                number(&format!("The price of answer tokens, {PER_MILLION}.")),
            ),
            (
                "quantization",
                string("The weights' precision, e.g. `fp8`."),
            ),
            (
                "uptime_last_30m",
                number("The share of successful calls in the last 30 minutes, in percent."),
            ),
        ],
        &[],
    );
    object(
        &[
            ("id", string("The model's id.")),
            ("name", string("The model's display name.")),
            (
                "endpoints",
                json!({"type": "array", "description": "The providers serving the model.", "items": endpoint}),
            ),
        ],
        &["id", "endpoints"],
    )
}

fn generation_output() -> Value {
    object(
        &[
            ("id", string("The generation's id.")),
            ("model", string("The model that answered.")),
            ("provider", string("The provider that served it.")),
            ("total_cost", number("What the generation cost, in USD.")),
            ("created_at", string("When it was made (ISO 8601).")),
            (
                "prompt_tokens",
                integer("Prompt tokens, as the provider counts them (what you pay for)."),
            ),
            (
                "completion_tokens",
                integer("Answer tokens, as the provider counts them (what you pay for)."),
            ),
            (
                "reasoning_tokens",
                integer("Reasoning tokens, as the provider counts them."),
            ),
            (
                "latency_ms",
                number("Time to the first token, in milliseconds."),
            ),
            (
                "generation_time_ms",
                number("Time spent generating, in milliseconds."),
            ),
            ("finish_reason", string("Why the answer ended.")),
            (
                "cancelled",
                boolean("Whether the generation was cancelled."),
            ),
        ],
        &["id"],
    )
}

/// An object of `properties` (in order), none other allowed.
fn object(properties: &[(&str, Value)], required: &[&str]) -> Value {
    let properties: Map<String, Value> = properties
        .iter()
        .map(|(name, schema)| ((*name).to_owned(), schema.clone()))
        .collect();
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn typed(kind: &str, description: &str) -> Value {
    json!({"type": kind, "description": description})
}

fn string(description: &str) -> Value {
    typed("string", description)
}

/// A string that must not be empty.
fn text(description: &str) -> Value {
    json!({"type": "string", "description": description, "minLength": 1})
}

fn number(description: &str) -> Value {
    typed("number", description)
}

fn integer(description: &str) -> Value {
    typed("integer", description)
}

fn boolean(description: &str) -> Value {
    typed("boolean", description)
}

fn choice(description: &str, options: &[&str]) -> Value {
    json!({"type": "string", "description": description, "enum": options})
}

fn bounded_number(description: &str, minimum: f64, maximum: Option<f64>) -> Value {
    let mut schema = json!({"type": "number", "description": description, "minimum": minimum});
    if let Some(maximum) = maximum {
        schema["maximum"] = json!(maximum);
    }
    schema
}

fn bounded_integer(description: &str, minimum: i64, maximum: i64) -> Value {
    json!({"type": "integer", "description": description, "minimum": minimum, "maximum": maximum})
}
