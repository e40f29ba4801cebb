//! Structured output (contract 4.9): when a call asks for JSON (`response_format` `json_object`
//! or `json_schema`), the answer's text is read as JSON into `parsed`, and checked against the
//! schema when the schema is strict. An answer that is not the JSON asked for is a `502` that
//! carries the model's text, since asking again may well work.

use std::fmt;
use std::sync::Arc;

use jsonschema::{PatternOptions, Validator};
use serde_json::{Map, Value, json};

use super::chat_answer::ChatCompletionResponse;
use super::flat::prune_nulls;
use crate::error::ApiError;

/// How much of the model's text an error carries back in `metadata.raw`, in characters.
const RAW_CHARS: usize = 1_000;

/// How much of a broken rule, or of the place it breaks, the message quotes, in characters.
const RULE_CHARS: usize = 200;

/// The most JSON values a strict schema may hold with its references followed: real schemas
/// hold hundreds; checking an answer against this many stays within milliseconds.
const CHECK_BUDGET: usize = 20_000;

/// The largest compiled size of a regular expression in a strict schema's `pattern`s; a larger
/// one is refused as the schema's fault rather than built.
const PATTERN_BYTES: usize = 1 << 20;

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
    /// JSON that must follow a strict schema.
    Schema(Arc<Validator>),
}

impl fmt::Debug for AnswerForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnswerForm::Text => "Text",
            AnswerForm::Object => "Object",
            AnswerForm::Json => "Json",
            AnswerForm::Schema(_) => "Schema",
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
        crate::schema::cost::within(schema, CHECK_BUDGET).map_err(|why| why.to_string())?;
        // No reference is fetched (the service never calls out but to OpenRouter), and patterns
        // run on the linear-time engine, so no schema can make a check slow.
        let patterns = PatternOptions::regex().size_limit(PATTERN_BYTES);
        let validator = jsonschema::options()
            .offline()
            .with_pattern_options(patterns)
            .build(schema)
            .map_err(|error| error.masked().to_string())?;
        Ok(AnswerForm::Schema(Arc::new(validator)))
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
            AnswerForm::Schema(validator) => {
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
