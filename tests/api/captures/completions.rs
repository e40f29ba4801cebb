//! ChatCompletion and the legacy Completion on the chat captures, the padded legacy capture and
//! every chat error capture (real, docs and spec): flat answers with every upstream field kept;
//! errors with upstream's status, message and metadata (and `Retry-After`), or a 502.

use openrouter_simulator::Reply;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Answer, Findings, answer, check_error, files, json_of, status_of};
use crate::helpers::{TestApp, capture, read, spawn_app_with};

const CHAT: &str = "/connector/v1/chat/completions";

async fn serve_chat(app: &TestApp, status: u16, body: Vec<u8>) -> Answer {
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::raw(status, "application/json", body),
    );
    answer(app.post(CHAT, &json!({"content": "hi"})).await).await
}

/// Checks a flat chat answer against the upstream completion it came from.
fn check_chat(findings: &mut Findings, file: &str, upstream: &Value, got: &Answer) {
    findings.check(got.status == StatusCode::OK, || {
        format!("{file}: status {}: {}", got.status, got.body)
    });
    let flat = &got.body;
    findings.no_nulls(file, flat);
    for name in ["id", "model", "provider", "system_fingerprint"] {
        match upstream.get(name).filter(|v| !v.is_null()) {
            Some(value) => findings.equal(file, name, &flat[name], value),
            // `id` and `model` are always there for a flow, "" when upstream left them out.
            None => findings.check(
                flat.get(name)
                    .is_none_or(|v| v == "" && matches!(name, "id" | "model")),
                || format!("{file}: `{name}` appeared from nowhere: {}", flat[name]),
            ),
        }
    }
    let first = &upstream["choices"][0];
    let message = &first["message"];
    let content = message["content"].as_str().unwrap_or_default();
    findings.equal(file, "content", &flat["content"], &json!(content));
    for name in ["finish_reason", "native_finish_reason"] {
        if let Some(value) = first.get(name).filter(|v| !v.is_null()) {
            findings.equal(file, name, &flat[name], value);
        }
    }
    if let Some(reasoning) = message.get("reasoning").filter(|v| !v.is_null()) {
        findings.equal(file, "reasoning", &flat["reasoning"], reasoning);
    }
    let calls: Vec<Value> = message["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .map(|call| {
                    json!({
                        "id": call["id"],
                        "type": call["type"],
                        "name": call["function"]["name"],
                        "arguments": call["function"]["arguments"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    findings.equal(
        file,
        "tool_calls",
        &flat["tool_calls"],
        &Value::Array(calls),
    );
    let upstream_choices = upstream["choices"].as_array().map_or(0, Vec::len);
    findings.check(
        flat["choices"].as_array().map(Vec::len) == Some(upstream_choices),
        || {
            format!(
                "{file}: choices {} for {upstream_choices} upstream",
                flat["choices"]
            )
        },
    );
    check_usage(findings, file, &upstream["usage"], &flat["usage"]);
}

/// Checks the flat `usage` against upstream's, with the two nested counts lifted.
fn check_usage(findings: &mut Findings, file: &str, upstream: &Value, flat: &Value) {
    for name in ["prompt_tokens", "completion_tokens", "total_tokens", "cost"] {
        if let Some(value) = upstream.get(name).filter(|v| !v.is_null()) {
            findings.equal(file, &format!("usage.{name}"), &flat[name], value);
        }
    }
    let lifted = [
        (
            "cached_tokens",
            &upstream["prompt_tokens_details"]["cached_tokens"],
        ),
        (
            "reasoning_tokens",
            &upstream["completion_tokens_details"]["reasoning_tokens"],
        ),
    ];
    for (name, value) in lifted {
        if !value.is_null() {
            findings.equal(file, &format!("usage.{name}"), &flat[name], value);
        }
    }
}

#[tokio::test]
async fn every_chat_completion_capture_comes_out_flat() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    let mut findings = Findings::default();
    let mut cases = files("chat-completions", "nonstream_", ".response.json");
    cases.push("spec-examples/chat_completions.200.json.default.json".to_owned());
    cases.push("errors/docs-errors_block08.json".to_owned());
    assert_eq!(cases.len(), 7, "{cases:#?}");

    for file in cases {
        let upstream = json_of(&file);

        // Act
        let got = serve_chat(&app, 200, capture(&file)).await;

        // Assert
        check_chat(&mut findings, &file, &upstream, &got);
    }
    findings.assert_none();
}

#[tokio::test]
async fn a_tool_call_capture_gives_flat_tool_calls_and_empty_content() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    let file = "chat-completions/nonstream_tool-calls_mistral.response.json";

    // Act
    let got = serve_chat(&app, 200, capture(file)).await;

    // Assert
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body["content"], "");
    assert_eq!(got.body["finish_reason"], "tool_calls");
    assert_eq!(
        got.body["tool_calls"],
        json!([{
            "id": "3sniiMddS",
            "type": "function",
            "name": "divide",
            "arguments": "{\"numerator\": 123, \"denominator\": 456, \"on_inf\": \"infinity\"}"
        }])
    );
    assert_eq!(got.body["choices"][0]["tool_calls"], got.body["tool_calls"]);
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.method, "POST");
    assert_eq!(upstream.path, "/api/v1/chat/completions");
    assert_eq!(upstream.json()["stream"], false);
}

#[tokio::test]
async fn a_reasoning_capture_lifts_cached_and_reasoning_tokens() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    let file = "chat-completions/nonstream_models-fallback_provider-only_xai.response.json";

    // Act
    let got = serve_chat(&app, 200, capture(file)).await;

    // Assert
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body["provider"], "xAI");
    assert_eq!(got.body["native_finish_reason"], "completed");
    assert_eq!(got.body["usage"]["cost"], 0.00341325);
    assert_eq!(got.body["usage"]["cached_tokens"], 679);
    assert_eq!(got.body["usage"]["reasoning_tokens"], 121);
    assert_eq!(got.body["tool_calls"], json!([]));
}

#[tokio::test]
async fn the_padded_legacy_completion_capture_is_read_byte_exact() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    let file = "completions/nonstream_llama-3.1-405b_google.response.raw.txt";
    let bytes = capture(file);
    assert!(bytes.starts_with(b"\n"), "the capture keeps its padding");
    app.sim.enqueue(
        "POST",
        "/completions",
        Reply::raw(200, "application/json", bytes),
    );

    // Act
    let response = app
        .post("/connector/v1/completions", &json!({"prompt": "5 + 7 = "}))
        .await;
    let (status, body) = read(response).await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut findings = Findings::default();
    findings.no_nulls(file, &body);
    findings.assert_none();
    assert_eq!(body["id"], "gen-1764704027-YmgZuzDAKrAywxh1aHQW");
    assert_eq!(body["model"], "meta-llama/llama-3.1-405b-instruct");
    assert_eq!(body["provider"], "Google");
    assert_eq!(body["text"], "");
    assert_eq!(body["finish_reason"], "stop");
    assert_eq!(body["native_finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 41);
    assert_eq!(body["usage"]["completion_tokens"], 9);
    assert_eq!(body["usage"]["total_tokens"], 50);
    assert_eq!(
        body["usage"]["extra_properties"]["google"]["traffic_type"],
        "ON_DEMAND"
    );
    assert_eq!(body["choices"].as_array().unwrap().len(), 1);
    assert_eq!(body["choices"][0]["text"], "");
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.path, "/api/v1/completions");
    assert_eq!(upstream.json()["prompt"], "5 + 7 = ");
    assert_eq!(upstream.json()["stream"], false);
}

/// Every chat error capture: the real ones and the docs' (`errors/*.json`, less the one `200`
/// with choices) and the spec's (`chat_completions.4xx/5xx`).
fn chat_error_captures() -> Vec<String> {
    let mut cases: Vec<String> = files("errors", "", ".json")
        .into_iter()
        .filter(|file| !file.ends_with(".request.json"))
        .filter(|file| !file.ends_with("docs-errors_block08.json"))
        .collect();
    cases.extend(
        files("spec-examples", "chat_completions.", ".json")
            .into_iter()
            .filter(|file| status_of(file) >= 400),
    );
    cases
}

#[tokio::test]
async fn every_chat_error_capture_keeps_its_status_message_and_metadata_or_is_a_502() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    let mut findings = Findings::default();
    let cases = chat_error_captures();
    assert!(cases.len() >= 20, "{cases:#?}");

    for file in cases {
        let status = status_of(&file);
        let upstream = json_of(&file);

        // Act: served with its own status, then inside a 200.
        let as_is = serve_chat(&app, status, capture(&file)).await;
        let inside_200 = serve_chat(&app, 200, capture(&file)).await;

        // Assert
        check_error(&mut findings, &file, status, &upstream, &as_is);
        check_error(
            &mut findings,
            &format!("{file} (in a 200)"),
            status,
            &upstream,
            &inside_200,
        );
    }
    findings.assert_none();
}

#[tokio::test]
async fn the_guardrail_capture_keeps_the_matched_patterns() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    let file = "spec-examples/chat_completions.403.json.guardrail-blocked.json";

    // Act
    let got = serve_chat(&app, 403, capture(file)).await;

    // Assert
    assert_eq!(got.status, StatusCode::FORBIDDEN);
    assert_eq!(
        got.body["error"]["message"],
        "Request blocked: prompt injection patterns detected"
    );
    assert_eq!(
        got.body["error"]["metadata"]["patterns"],
        json!(["ignore all previous instructions"])
    );
}

#[tokio::test]
async fn a_real_429_capture_gets_retry_after_from_its_metadata() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    let file = "errors/429_provider-returned-error_venice_retry-after.json";

    // Act
    let got = serve_chat(&app, 429, capture(file)).await;

    // Assert
    assert_eq!(got.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(got.retry_after.as_deref(), Some("17"));
    assert_eq!(got.body["error"]["message"], "Provider returned error");
    assert_eq!(got.body["error"]["metadata"]["provider_name"], "Venice");
}
