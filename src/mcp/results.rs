//! What a tool call answers: a `CallToolResult` with the tool's `structuredContent` (and the
//! same JSON as text, and pictures), or a tool error (`isError: true`) in contract section 5's
//! words told to an agent, with the wait in seconds where the HTTP answer would carry one.

use serde_json::{Value, json};

use super::call;
use super::tools::Tool;
use crate::domain::spelling;
use crate::error::ApiError;

/// A tool's answer as a `CallToolResult`: the JSON as text too (MCP asks for both), then any
/// pictures.
pub fn success(answer: call::Answer) -> Value {
    let text = answer.structured.to_string();
    let mut content = vec![json!({"type": "text", "text": text})];
    content.extend(answer.pictures.into_iter().map(
        |picture| json!({"type": "image", "data": picture.data, "mimeType": picture.mime_type}),
    ));
    json!({"content": content, "structuredContent": answer.structured, "isError": false})
}

/// A tool error: the words of contract section 5, with the status an agent can reason about.
pub fn failure(tool: Option<Tool>, error: &ApiError) -> Value {
    let body = error.body();
    let message = match error {
        // A maker is pointed at `metadata.raw` and the flow's retry policy; an agent gets the
        // model's text itself and is told to call again.
        ApiError::AnswerNotAsAsked { why, metadata } => format!(
            "The model's answer {why}. The call was billed; call the tool again to ask once \
             more. The model's answer was: {}",
            metadata
                .get("raw")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ),
        // A maker is offered the asynchronous pattern, which a tool call does not have.
        ApiError::UpstreamTimeout(after) => format!(
            "OpenRouter did not answer within {}.{}",
            spelling::count(after.as_secs().max(1), "second"),
            if tool == Some(Tool::Chat) {
                " Try a faster model or a lower max_tokens."
            } else {
                " Try again later."
            }
        ),
        // The actions' words say "field"; a tool has arguments.
        ApiError::InvalidInput { .. } => {
            body.error.message.replace("The field `", "The argument `")
        }
        _ => body.error.message,
    };
    let mut text = format!("Error {}: {}", body.error.code, message.trim_end());
    // The limit's own words say how long to wait; OpenRouter's and the service's busy answers
    // say it in `Retry-After`, which a tool result has no header for.
    if let Some(seconds) = error.retry_after()
        && !matches!(error, ApiError::RateLimited { .. })
    {
        let wait = format!("Try again in {}", spelling::count(seconds.max(1), "second"));
        if text.contains("Try again in a moment") {
            text = text.replace("Try again in a moment", &wait);
        } else {
            if !text.ends_with(['.', '!', '?']) {
                text.push('.');
            }
            text.push_str(&format!(" {wait}."));
        }
    }
    json!({"content": [{"type": "text", "text": text}], "isError": true})
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::StatusCode;

    fn text(result: &Value) -> &str {
        assert_eq!(result["isError"], true);
        result["content"][0]["text"].as_str().unwrap()
    }

    #[test]
    fn a_wait_in_a_moment_becomes_one_in_seconds() {
        let result = failure(Some(Tool::Chat), &ApiError::Busy);
        let text = text(&result);
        assert!(text.starts_with("Error 503: "), "{text}");
        assert!(text.contains("Try again in 1 second."), "{text}");
        assert!(!text.contains("a moment"), "{text}");
    }

    #[test]
    fn openrouters_words_end_in_a_full_stop_before_the_wait() {
        let error = ApiError::Upstream {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: "Rate limited".to_owned(),
            metadata: None,
            retry_after: Some(37),
        };
        assert_eq!(
            text(&failure(Some(Tool::Chat), &error)),
            "Error 429: Rate limited. Try again in 37 seconds."
        );
    }

    #[test]
    fn a_timeout_suggests_a_faster_model_only_to_chat() {
        let error = ApiError::UpstreamTimeout(std::time::Duration::from_secs(110));
        assert!(text(&failure(Some(Tool::Chat), &error)).contains("faster model"));
        let other = failure(Some(Tool::GetCredits), &error);
        assert!(!text(&other).contains("model"), "{}", text(&other));
    }

    #[test]
    fn an_actions_field_is_an_argument_to_an_agent() {
        let error = ApiError::invalid("id", "The field `id` must be a generation id.");
        let text = failure(Some(Tool::GetGeneration), &error);
        assert_eq!(
            self::text(&text),
            "Error 400: The argument `id` must be a generation id."
        );
    }
}
