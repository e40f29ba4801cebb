//! Reading an upstream answer: a JSON value on success, or the contract's error for every other
//! outcome (4xx passed through, 5xx and bodies that are not the JSON promised as `502`, and a
//! `200` that carries an OpenRouter error object treated as that error).

use actix_web::http::StatusCode;
use serde_json::{Map, Value};

use std::time::{Duration, SystemTime};

use super::Upstream;
use super::retry_after;
use crate::error::ApiError;

/// Upstream's JSON body, or the error the answer stands for.
pub fn interpret(answer: Upstream) -> Result<Value, ApiError> {
    let parsed: Option<Value> = serde_json::from_slice(&answer.body).ok();
    if !answer.status.is_success() {
        let error = parsed.as_ref().and_then(error_object);
        return Err(map_error(answer.status.as_u16(), error, &answer));
    }
    let Some(value) = parsed else {
        return Err(ApiError::UpstreamFailed {
            message: "OpenRouter answered with a body that is not JSON. Try again; if it \
                      persists, OpenRouter may be having trouble."
                .to_owned(),
            metadata: Some(status_metadata(answer.status.as_u16(), &answer.body)),
            retry_after: None,
            quotes_upstream: false,
        });
    };
    if let Some(error) = error_object(&value) {
        let code = error_code(error).unwrap_or(502);
        return Err(map_error(code, Some(error), &answer));
    }
    Ok(value)
}

/// True when upstream answered `404` or `405` without an OpenRouter error body: the route itself
/// is gone, so nothing ran.
pub fn is_route_missing(answer: &Upstream) -> bool {
    matches!(answer.status.as_u16(), 404 | 405)
        && serde_json::from_slice::<Value>(&answer.body)
            .ok()
            .as_ref()
            .and_then(error_object)
            .is_none()
}

/// The `error` member when a body is an OpenRouter error object (not a completion that merely
/// carries an error inside a choice).
fn error_object(value: &Value) -> Option<&Map<String, Value>> {
    let object = value.as_object()?;
    if object.contains_key("choices") || object.contains_key("data") {
        return None;
    }
    object.get("error")?.as_object()
}

/// `error.code` when it is a number, else `error.http_status` (the docs' availability errors).
fn error_code(error: &Map<String, Value>) -> Option<u16> {
    ["code", "http_status"]
        .iter()
        .filter_map(|name| error.get(*name)?.as_u64())
        .find_map(|code| u16::try_from(code).ok())
}

fn map_error(code: u16, error: Option<&Map<String, Value>>, answer: &Upstream) -> ApiError {
    let message = error
        .and_then(|error| error.get("message")?.as_str())
        .filter(|message| !message.trim().is_empty())
        .map(str::to_owned);
    match code {
        400..=429 => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
            let metadata = error.map(passthrough_metadata).filter(|m| !m.is_empty());
            // A 429 always says when to come back: upstream's wait, else a second.
            let retry_after = (code == 429).then(|| {
                retry_after::whole_seconds_to_pass_on(
                    upstream_wait(answer, metadata.as_ref()).unwrap_or(Duration::ZERO),
                )
            });
            // The caller reads one wait: the header's, in the metadata too.
            let metadata = match (retry_after, metadata) {
                (Some(seconds), Some(mut metadata))
                    if metadata.contains_key("retry_after_seconds") =>
                {
                    metadata.insert("retry_after_seconds".to_owned(), Value::from(seconds));
                    Some(metadata)
                }
                (_, metadata) => metadata,
            };
            let message = message.unwrap_or_else(|| {
                format!(
                    "OpenRouter refused the call with {code} {}.",
                    status.canonical_reason().unwrap_or("")
                )
            });
            // OpenRouter's own words for a bad key ("User not found.") do not say what to do.
            let message = if code == 401 {
                format!(
                    "OpenRouter did not accept this API key ({}). Check the connection's key: \
                     paste it exactly as OpenRouter shows it (it starts with sk-or-), without \
                     quotes or the word Bearer, or create a new one at https://openrouter.ai/keys.",
                    message.trim_end_matches('.')
                )
            } else {
                message
            };
            ApiError::Upstream {
                status,
                message,
                metadata,
                retry_after,
            }
        }
        _ => {
            let mut metadata = error.map(passthrough_metadata).unwrap_or_default();
            metadata.insert("upstream_status".to_owned(), Value::from(code));
            // The caller reads one wait: the one passed on in `Retry-After`, or none.
            let retry_after =
                upstream_wait(answer, Some(&metadata)).map(retry_after::whole_seconds_to_pass_on);
            match retry_after {
                Some(seconds) => {
                    metadata.insert("retry_after_seconds".to_owned(), Value::from(seconds));
                }
                None => {
                    metadata.remove("retry_after_seconds");
                }
            }
            if error.is_none() {
                metadata.extend(status_metadata(code, &answer.body));
            }
            let quotes_upstream = message.is_some();
            let message = match message {
                Some(message) => format!("OpenRouter failed: {message}"),
                None => format!(
                    "OpenRouter failed with status {code}. Try again in a moment; if it \
                     persists, pick another model or provider."
                ),
            };
            ApiError::UpstreamFailed {
                message,
                metadata: Some(metadata),
                // Upstream named a wait on its failure: the caller's retry policy should know.
                retry_after,
                quotes_upstream,
            }
        }
    }
}

/// Upstream's `metadata`, plus any other member of its error object besides `code` and
/// `message` (such as `error_type` or `availability`), so nothing upstream said is lost.
fn passthrough_metadata(error: &Map<String, Value>) -> Map<String, Value> {
    let mut metadata = match error.get("metadata") {
        Some(Value::Object(metadata)) => metadata.clone(),
        _ => Map::new(),
    };
    for (name, value) in error {
        if !matches!(name.as_str(), "code" | "message" | "metadata") && !value.is_null() {
            metadata
                .entry(name.clone())
                .or_insert_with(|| value.clone());
        }
    }
    metadata
}

fn status_metadata(code: u16, body: &[u8]) -> Map<String, Value> {
    let text = String::from_utf8_lossy(body);
    let excerpt: String = text.trim().chars().take(200).collect();
    let mut metadata = Map::new();
    metadata.insert("upstream_status".to_owned(), Value::from(code));
    if !excerpt.is_empty() {
        metadata.insert("raw".to_owned(), Value::from(excerpt));
    }
    metadata
}

/// The wait upstream named: its `Retry-After` header (seconds or a date), else its
/// `metadata.retry_after_seconds`; `None` when neither is a usable wait.
fn upstream_wait(answer: &Upstream, metadata: Option<&Map<String, Value>>) -> Option<Duration> {
    retry_after::from_headers(&answer.headers, SystemTime::now()).or_else(|| {
        metadata?
            .get("retry_after_seconds")?
            .as_f64()
            .and_then(retry_after::from_seconds)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
    use serde_json::json;

    fn answer(status: u16, body: &str) -> Upstream {
        Upstream {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.to_owned().into(),
        }
    }

    #[test]
    fn a_padded_success_body_is_read() {
        let value = interpret(answer(200, "\n   \n  {\"id\":\"gen-1\"}")).unwrap();
        assert_eq!(value, json!({"id": "gen-1"}));
    }

    #[test]
    fn a_4xx_passes_through_with_message_and_metadata() {
        let body = r#"{"error":{"code":403,"message":"Flagged","metadata":{"reasons":["x"]}},"user_id":"u"}"#;
        let error = interpret(answer(403, body)).unwrap_err();
        assert_eq!(error.status_code().as_u16(), 403);
        let body = serde_json::to_value(error.body()).unwrap();
        assert_eq!(body["error"]["message"], "Flagged");
        assert_eq!(body["error"]["metadata"]["reasons"], json!(["x"]));
    }

    #[test]
    fn a_5xx_becomes_502_with_upstreams_message() {
        let error = interpret(answer(
            503,
            r#"{"error":{"code":503,"message":"Overloaded"}}"#,
        ))
        .unwrap_err();
        assert_eq!(error.status_code().as_u16(), 502);
        assert!(error.to_string().contains("Overloaded"));
    }

    #[test]
    fn a_200_carrying_an_error_object_is_that_error() {
        let error = interpret(answer(
            200,
            r#"{"error":{"code":402,"message":"No credits"}}"#,
        ))
        .unwrap_err();
        assert_eq!(error.status_code().as_u16(), 402);
        let error = interpret(answer(
            200,
            r#"{"error":{"code":"server_error","message":"x"}}"#,
        ))
        .unwrap_err();
        assert_eq!(error.status_code().as_u16(), 502);
    }

    #[test]
    fn an_availability_error_without_code_uses_http_status() {
        let body = r#"{"error":{"message":"gone","error_type":"not_found","http_status":404,"availability":{"code":"model_deprecated"}}}"#;
        let error = interpret(answer(200, body)).unwrap_err();
        assert_eq!(error.status_code().as_u16(), 404);
        let body = serde_json::to_value(error.body()).unwrap();
        assert_eq!(
            body["error"]["metadata"]["availability"]["code"],
            "model_deprecated"
        );
    }

    #[test]
    fn a_body_that_is_not_json_is_a_502() {
        let error = interpret(answer(200, "<html>oops")).unwrap_err();
        assert_eq!(error.status_code().as_u16(), 502);
    }

    #[test]
    fn a_429_takes_retry_after_from_the_header_or_the_metadata() {
        let mut with_header = answer(429, r#"{"error":{"code":429,"message":"slow down"}}"#);
        with_header
            .headers
            .insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert!(matches!(
            interpret(with_header),
            Err(ApiError::Upstream {
                retry_after: Some(7),
                ..
            })
        ));
        let body =
            r#"{"error":{"code":429,"message":"m","metadata":{"retry_after_seconds":16.007}}}"#;
        assert!(matches!(
            interpret(answer(429, body)),
            Err(ApiError::Upstream {
                retry_after: Some(17),
                ..
            })
        ));
    }

    #[test]
    fn a_bare_404_is_a_missing_route_but_an_openrouter_404_is_not() {
        assert!(is_route_missing(&answer(404, "Not Found")));
        assert!(is_route_missing(&answer(405, "")));
        assert!(!is_route_missing(&answer(
            404,
            r#"{"error":{"code":404,"message":"No endpoints"}}"#
        )));
    }
}
