//! Structured output (contract 4.9): when a call asks for JSON (`response_format` `json_object`
//! or `json_schema`), the answer's text is read as JSON into `parsed`, and checked against the
//! schema when the schema is strict. An answer that is not the JSON asked for is a `502` that
//! carries the model's text, since asking again may well work.

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use jsonschema::{PatternOptions, Validator};
use serde_json::{Map, Value, json};

use super::chat_answer::ChatCompletionResponse;
use super::flat::prune_nulls;
use crate::error::ApiError;
use crate::schema::cost::{self, Measure};

/// How much of the model's text an error carries back in `metadata.raw`, in characters.
const RAW_CHARS: usize = 1_000;

/// How much of a broken rule, or of the place it breaks, the message quotes, in characters.
const RULE_CHARS: usize = 200;

/// The most JSON values a strict schema may hold with its references followed: real schemas
/// hold hundreds; checking an answer against this many stays within milliseconds.
const CHECK_BUDGET: usize = 20_000;

/// The largest compiled size of a regular expression in a strict schema's `pattern`s; a larger
/// one is refused as the schema's fault rather than built.
const PATTERN_BYTES: usize = 1 << 16;

/// What form the call asked the answer to take.
#[derive(Clone, Default)]
pub enum AnswerForm {
    /// Free text: nothing to parse.
    #[default]
    Text,
    /// A JSON object (`json_object`).
    Object,
    /// JSON of any shape (a schema that is not strict).
    Json,
    /// JSON that must follow a strict schema, and what measuring the schema found.
    Schema(Arc<Validator>, Measure),
}

impl fmt::Debug for AnswerForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnswerForm::Text => "Text",
            AnswerForm::Object => "Object",
            AnswerForm::Json => "Json",
            AnswerForm::Schema(..) => "Schema",
        })
    }
}

impl AnswerForm {
    /// The form asked for by OpenRouter's `response_format` object (`{"type": "json_schema",
    /// "json_schema": {"schema", "strict"}}`), as the request sends it upstream. `field` names
    /// where the schema came from, for a `400` when a strict schema cannot be checked.
    pub fn of(response_format: Option<&Value>, field: &str) -> Result<AnswerForm, ApiError> {
        let Some(format) = response_format else {
            return Ok(AnswerForm::Text);
        };
        match format.get("type").and_then(Value::as_str) {
            Some("json_object") => Ok(AnswerForm::Object),
            Some("json_schema") => {
                let spec = format.get("json_schema");
                let strict = spec.and_then(|spec| spec.get("strict")) == Some(&json!(true));
                match spec.and_then(|spec| spec.get("schema")) {
                    Some(schema) if strict => AnswerForm::strict(schema, field),
                    _ => Ok(AnswerForm::Json),
                }
            }
            _ => Ok(AnswerForm::Text),
        }
    }

    fn strict(schema: &Value, field: &str) -> Result<AnswerForm, ApiError> {
        AnswerForm::checked_against(schema).map_err(|why| {
            ApiError::invalid(
                field,
                format!(
                    "The field `{field}` is not a JSON Schema the service can check answers \
                     against ({why}). Fix the schema, or set `strict` to false."
                ),
            )
        })
    }

    /// JSON that must follow `schema`, whatever the request told upstream; else why `schema`
    /// cannot be checked against.
    pub fn checked_against(schema: &Value) -> Result<AnswerForm, String> {
        // Measured before it is built: a schema whose references multiply would take minutes
        // of a worker thread to check one answer.
        let measure = cost::within(schema, CHECK_BUDGET).map_err(|why| why.to_string())?;
        // No reference is fetched (the service never calls out but to OpenRouter), and patterns
        // run on the linear-time engine, so no schema can make a check slow.
        let patterns = PatternOptions::regex().size_limit(PATTERN_BYTES);
        let validator = jsonschema::options()
            .offline()
            .with_pattern_options(patterns)
            .build(schema)
            .map_err(|error| error.masked().to_string())?;
        Ok(AnswerForm::Schema(Arc::new(validator), measure))
    }

    /// `answer` with `parsed` filled in when JSON was asked for; a `502` when its text is not
    /// that JSON. An answer that only calls tools has no text to parse, and is left as it is.
    pub fn read(
        &self,
        mut answer: ChatCompletionResponse,
    ) -> Result<ChatCompletionResponse, ApiError> {
        if matches!(self, AnswerForm::Text) || !answer.tool_calls.is_empty() {
            return Ok(answer);
        }
        let blank = answer.content.trim().is_empty();
        let parsed = match serde_json::from_str::<Value>(json_text(&answer.content)) {
            Ok(parsed) => parsed,
            Err(error) => {
                let why = if answer.finish_reason.as_deref() == Some("length") {
                    "was cut off at `max_tokens` before its JSON ended; raise `max_tokens`"
                        .to_owned()
                } else if let Some(refusal) = answer.refusal.as_ref().filter(|_| blank) {
                    return Err(not_as_asked(refusal, "is a refusal, not JSON", None));
                } else if blank {
                    "is empty".to_owned()
                } else {
                    format!("is not JSON ({error})")
                };
                return Err(not_as_asked(&answer.content, &why, None));
            }
        };
        match self {
            AnswerForm::Schema(_, measure)
                if !cost::recursion_allows(*measure, cost::depth(&parsed)) =>
            {
                let why = format!(
                    "nests {} levels deep, more than this schema's recursion can be checked \
                     at (its self-references fan out; ask for a flatter answer)",
                    cost::depth(&parsed)
                );
                return Err(not_as_asked(&answer.content, &why, None));
            }
            AnswerForm::Schema(validator, _) => {
                if let Err(violation) = validator.validate(&parsed) {
                    let path = violation.instance_path().to_string();
                    let place = if path.is_empty() {
                        "at its top level".to_owned()
                    } else {
                        format!("at `{}`", cut(&path, RULE_CHARS))
                    };
                    let rule = violation.masked().to_string();
                    let why = format!("breaks the schema {place}: {}", cut(&rule, RULE_CHARS));
                    return Err(not_as_asked(&answer.content, &why, Some(path)));
                }
            }
            AnswerForm::Object if !parsed.is_object() => {
                let why = "is JSON but not an object, which `json_object` asks for";
                return Err(not_as_asked(&answer.content, why, None));
            }
            AnswerForm::Object | AnswerForm::Json | AnswerForm::Text => {}
        }
        // Like every field of the flat answer, `parsed` has no `null`: a member the model left
        // empty is simply absent, which flows handle as an empty token.
        let mut parsed = parsed;
        prune_nulls(&mut parsed);
        answer.parsed = Some(parsed);
        Ok(answer)
    }
}

/// How long checking one answer against a strict schema may take (and, apart, wait for its
/// turn) before the call is answered without it.
const CHECK_DEADLINE: Duration = Duration::from_secs(2);

/// Strict checks at once: one per core. A check runs on a blocking thread, never in an actix
/// worker's turn, and cannot be stopped once begun, so this bounds what checks can take from
/// every other call.
static CHECKS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    Arc::new(Semaphore::new(cores))
});

impl AnswerForm {
    /// [`AnswerForm::read`], with a strict schema's check run on a blocking thread, at most one
    /// per core at once, answered within [`CHECK_DEADLINE`]: a `400` when the check takes
    /// longer (it goes on, holding its turn, until it ends), a `503` when no turn comes.
    pub async fn read_bounded(
        &self,
        answer: ChatCompletionResponse,
    ) -> Result<ChatCompletionResponse, ApiError> {
        if !matches!(self, AnswerForm::Schema(..)) {
            return self.read(answer);
        }
        let turn = tokio::time::timeout(CHECK_DEADLINE, CHECKS.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(ApiError::Busy)?;
        let form = self.clone();
        let check = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            form.read(answer)
        });
        match tokio::time::timeout(CHECK_DEADLINE, check).await {
            Ok(Ok(read)) => read,
            Ok(Err(_)) => Err(ApiError::upstream_failed(
                "The model's answer could not be checked against the schema (the check stopped).",
            )),
            Err(_) => Err(ApiError::invalid(
                "json_schema.schema",
                "The model's answer could not be checked against the schema within 2 seconds: \
                 the schema, or the answer it asks for, is too large or intricate to check. \
                 The call was billed. Simplify the schema, or set `strict` to false.",
            )),
        }
    }
}

/// At most `limit` characters of `text`, with `…` where it was cut: a rule quoting a long
/// `const` or a long property name stays a sentence.
fn cut(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The JSON in a model's text: the text itself, or the inside of the one Markdown code fence
/// (```` ```json … ``` ````) some models wrap it in even when asked for JSON.
fn json_text(content: &str) -> &str {
    let trimmed = content.trim();
    let Some(fenced) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    let Some(inner) = fenced.strip_suffix("```") else {
        return trimmed;
    };
    // The fence's first line may name the language (`json`).
    match inner.split_once('\n') {
        Some((language, body)) if !language.contains(['{', '[']) => body.trim(),
        _ => inner.trim(),
    }
}

/// The `502` for an answer that is not the JSON asked for, carrying the model's text.
fn not_as_asked(content: &str, why: &str, path: Option<String>) -> ApiError {
    let raw: String = content.chars().take(RAW_CHARS).collect();
    let mut metadata = Map::new();
    metadata.insert("raw".to_owned(), Value::String(raw));
    if let Some(path) = path {
        metadata.insert("path".to_owned(), Value::String(path));
    }
    ApiError::AnswerNotAsAsked {
        why: why.to_owned(),
        metadata,
    }
}

#[cfg(test)]
#[path = "structured_tests.rs"]
mod tests;
