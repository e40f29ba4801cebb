//! Real OpenRouter captures and the spec's examples, served byte for byte by the simulator and
//! read back through the service: each comes out as the contract says (flat, no nulls, nothing
//! upstream said lost; errors with upstream's status and message, 5xx as 502), never a 500.

use std::fs;

use openrouter_simulator::Reply;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, capture, captures_dir, read, spawn_app_with};

/// What went wrong across a whole table of captures, reported together.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    fn equal(&mut self, file: &str, what: &str, actual: &Value, expected: &Value) {
        self.check(same(actual, expected), || {
            format!("{file}: {what} is {actual}, expected {expected}")
        });
    }

    /// Records every `null` in `value`, by its path.
    fn no_nulls(&mut self, file: &str, value: &Value) {
        let mut paths = Vec::new();
        null_paths(value, "$", &mut paths);
        for path in paths {
            self.0.push(format!("{file}: a null at {path}"));
        }
    }

    /// Records every non-null member of `expected` that `actual` lacks or holds differently.
    fn contains(&mut self, file: &str, actual: &Value, expected: &Value) {
        let mut missing = Vec::new();
        missing_from(actual, &without_nulls(expected.clone()), "$", &mut missing);
        for line in missing {
            self.0.push(format!("{file}: {line}"));
        }
    }

    fn assert_none(self) {
        assert!(self.0.is_empty(), "\n{}", self.0.join("\n"));
    }
}

/// Equal, with numbers compared by value (`610` and `610.0` are the same credit).
fn same(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && b.iter().all(|(k, v)| a.get(k).is_some_and(|x| same(x, v)))
        }
        _ => actual == expected,
    }
}

/// A value with every `null` removed, at any depth.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|v| !v.is_null())
                .map(without_nulls)
                .collect(),
        ),
        other => other,
    }
}

/// Where `actual` fails to hold all of `expected`: objects may have more members, arrays must
/// have the same length, scalars must be equal.
fn missing_from(actual: &Value, expected: &Value, path: &str, out: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (name, value) in e {
                let inner = format!("{path}.{name}");
                match a.get(name) {
                    Some(found) => missing_from(found, value, &inner, out),
                    None => out.push(format!("{inner} is missing (upstream: {value})")),
                }
            }
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            for (index, (found, value)) in a.iter().zip(e).enumerate() {
                missing_from(found, value, &format!("{path}[{index}]"), out);
            }
        }
        _ if same(actual, expected) => {}
        _ => out.push(format!("{path} is {actual}, upstream sent {expected}")),
    }
}

fn null_paths(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Null => out.push(path.to_owned()),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                null_paths(item, &format!("{path}[{index}]"), out);
            }
        }
        Value::Object(map) => {
            for (name, item) in map {
                null_paths(item, &format!("{path}.{name}"), out);
            }
        }
        _ => {}
    }
}

/// The files of one capture folder whose names start with `prefix` and end with `suffix`, sorted.
fn files(folder: &str, prefix: &str, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(captures_dir().join(folder))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix) && name.ends_with(suffix))
        .map(|name| format!("{folder}/{name}"))
        .collect();
    names.sort();
    names
}

/// The status a capture was answered with: the number after the endpoint in a spec example's
/// name (`credits.403.json.default.json`), the number a real error's name starts with
/// (`429_provider-returned-error_google.response.json`), or else the body's `error.code`, or
/// `error.http_status` (the docs' availability errors), or 200 when the body is no error.
fn status_of(file: &str) -> u16 {
    let name = file.rsplit('/').next().unwrap();
    if let Some(code) = name.split('.').nth(1).and_then(|part| part.parse().ok()) {
        return code;
    }
    if let Some(code) = name.split('_').next().and_then(|part| part.parse().ok()) {
        return code;
    }
    let body: Value = serde_json::from_slice(&capture(file)).unwrap();
    let error = &body["error"];
    error["code"]
        .as_u64()
        .or_else(|| error["http_status"].as_u64())
        .map_or(200, |code| u16::try_from(code).unwrap())
}

fn json_of(file: &str) -> Value {
    serde_json::from_slice(&capture(file)).unwrap()
}

/// What a call answered: status, `Retry-After` and JSON body.
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

async fn answer(response: reqwest::Response) -> Answer {
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    let (status, body) = read(response).await;
    Answer {
        status,
        retry_after,
        body,
    }
}

/// Checks an error answer against the upstream error body it came from, served with `status`.
fn check_error(findings: &mut Findings, file: &str, status: u16, upstream: &Value, got: &Answer) {
    let error = &upstream["error"];
    let message = error["message"].as_str().unwrap_or_default();
    let ours = got.body["error"]["message"].as_str().unwrap_or_default();
    if status <= 429 {
        findings.check(got.status.as_u16() == status, || {
            format!("{file}: status {} for upstream {status}", got.status)
        });
        findings.equal(
            file,
            "error.code",
            &got.body["error"]["code"],
            &json!(status),
        );
        findings.check(ours == message, || {
            format!("{file}: message {ours:?}, upstream said {message:?}")
        });
        if let Some(metadata) = error.get("metadata").filter(|m| !m.is_null()) {
            findings.contains(file, &got.body["error"]["metadata"], metadata);
        }
        if let Some(seconds) = error["metadata"]["retry_after_seconds"].as_f64() {
            let expected = (seconds.ceil() as u64).max(1).to_string();
            findings.check(got.retry_after.as_deref() == Some(&expected), || {
                format!(
                    "{file}: Retry-After {:?}, expected {expected}",
                    got.retry_after
                )
            });
        }
    } else {
        findings.check(got.status == StatusCode::BAD_GATEWAY, || {
            format!("{file}: status {} for upstream {status}", got.status)
        });
        findings.equal(file, "error.code", &got.body["error"]["code"], &json!(502));
        findings.check(ours.contains(message), || {
            format!("{file}: message {ours:?} does not carry upstream's {message:?}")
        });
    }
}

// ---------------------------------------------------------------- the four GET actions

/// One GET action: where its captures are named, where the service serves it, where it calls.
struct GetAction {
    spec_prefix: &'static str,
    path: &'static str,
    upstream: &'static str,
}

const MODELS: GetAction = GetAction {
    spec_prefix: "models.",
    path: "/connector/v1/models",
    upstream: "/models",
};
const ENDPOINTS: GetAction = GetAction {
    spec_prefix: "models_author_slug_endpoints.",
    path: "/connector/v1/models/openai/gpt-4/endpoints",
    upstream: "/models/openai/gpt-4/endpoints",
};
const CREDITS: GetAction = GetAction {
    spec_prefix: "credits.",
    path: "/connector/v1/credits",
    upstream: "/credits",
};
const GENERATION: GetAction = GetAction {
    spec_prefix: "generation.",
    path: "/connector/v1/generation?id=gen-3bhGkxlo4XFrqiabUM7NDtwDzWwG",
    upstream: "/generation",
};

/// Serves `body` for the action with `status`, calls the action, and returns the answer.
async fn serve_get(app: &TestApp, action: &GetAction, status: u16, body: Vec<u8>) -> Answer {
    let reply = Reply::raw(status, "application/json", body);
    if matches!(status, 502 | 503) {
        // Idempotent GETs retry these: the answer must hold on every attempt.
        app.enqueue_every_attempt("GET", action.upstream, reply);
    } else {
        app.sim.enqueue("GET", action.upstream, reply);
    }
    answer(app.get(action.path).await).await
}

/// Serves each success capture and checks the flat answer holds every non-null member of what
/// the contract says comes out (`data` for ListModels, `data`'s content for the others).
async fn check_get_successes(action: &GetAction, extra: &[(&str, Vec<u8>)]) -> Findings {
    let app = spawn_app_with(|s| s.generation_wait_secs = 0).await;
    let mut findings = Findings::default();
    let mut cases: Vec<(String, Vec<u8>)> = files("spec-examples", action.spec_prefix, ".json")
        .into_iter()
        .filter(|file| status_of(file) == 200)
        .map(|file| {
            let bytes = capture(&file);
            (file, bytes)
        })
        .collect();
    cases.extend(
        extra
            .iter()
            .map(|(name, bytes)| ((*name).to_owned(), bytes.clone())),
    );
    findings.check(cases.len() > extra.len(), || {
        format!("no spec success example for {}", action.spec_prefix)
    });
    for (file, bytes) in cases {
        let upstream: Value = serde_json::from_slice(&bytes).unwrap();
        let got = serve_get(&app, action, 200, bytes).await;
        findings.check(got.status == StatusCode::OK, || {
            format!("{file}: status {}: {}", got.status, got.body)
        });
        findings.no_nulls(&file, &got.body);
        if action.upstream == "/models" {
            findings.contains(&file, &got.body, &json!({"data": upstream["data"]}));
        } else {
            findings.check(got.body.get("data").is_none(), || {
                format!("{file}: `data` was not unwrapped")
            });
            findings.contains(&file, &got.body, &upstream["data"]);
        }
        if action.upstream == "/credits" {
            let credits = upstream["data"]["total_credits"].as_f64().unwrap();
            let usage = upstream["data"]["total_usage"].as_f64().unwrap();
            let remaining = ((credits - usage) * 1e6).round() / 1e6;
            findings.equal(
                &file,
                "remaining",
                &got.body["remaining"],
                &json!(remaining),
            );
        }
    }
    findings
}

#[tokio::test]
async fn every_model_list_capture_comes_out_with_every_upstream_field() {
    // Arrange
    let entry = json_of("models/real_model_entry_x-ai_grok-4.20.json");
    let wrapped = serde_json::to_vec(&json!({"data": [entry]})).unwrap();
    let real = [("models/real_model_entry_x-ai_grok-4.20.json", wrapped)];

    // Act
    let findings = check_get_successes(&MODELS, &real).await;

    // Assert
    findings.assert_none();
}

#[tokio::test]
async fn every_model_endpoints_capture_comes_out_unwrapped_with_every_upstream_field() {
    // Act
    let findings = check_get_successes(&ENDPOINTS, &[]).await;

    // Assert
    findings.assert_none();
}

#[tokio::test]
async fn every_credits_capture_comes_out_unwrapped_with_remaining() {
    // Arrange
    let real = [(
        "credits/real_shape.json",
        capture("credits/real_shape.json"),
    )];

    // Act
    let findings = check_get_successes(&CREDITS, &real).await;

    // Assert
    findings.assert_none();
}

#[tokio::test]
async fn every_generation_capture_comes_out_unwrapped_with_every_upstream_field() {
    // Arrange
    let file = "generation/real_partial_with-provider-fallback.json";
    let real = [(file, capture(file))];

    // Act
    let findings = check_get_successes(&GENERATION, &real).await;

    // Assert
    findings.assert_none();
}

#[tokio::test]
async fn every_spec_error_example_of_the_get_actions_keeps_its_status_and_message_or_is_a_502() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait_secs = 0).await;
    let mut findings = Findings::default();

    for action in [&MODELS, &ENDPOINTS, &CREDITS, &GENERATION] {
        let errors: Vec<String> = files("spec-examples", action.spec_prefix, ".json")
            .into_iter()
            .filter(|file| status_of(file) >= 400)
            .collect();
        findings.check(!errors.is_empty(), || {
            format!("no error examples for {}", action.spec_prefix)
        });
        for file in errors {
            let status = status_of(&file);
            let upstream = json_of(&file);

            // Act: served with its own status, then inside a 200.
            let as_is = serve_get(&app, action, status, capture(&file)).await;
            let inside_200 = serve_get(&app, action, 200, capture(&file)).await;

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
    }
    findings.assert_none();
}

// ---------------------------------------------------------------- chat and legacy completions

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
    let app = spawn_app_with(|s| s.generation_wait_secs = 0).await;
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
    let app = spawn_app_with(|s| s.generation_wait_secs = 0).await;
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
    let app = spawn_app_with(|s| s.generation_wait_secs = 0).await;
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
    let app = spawn_app_with(|s| s.generation_wait_secs = 0).await;
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
    let app = spawn_app_with(|s| s.generation_wait_secs = 0).await;
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
    let app = spawn_app_with(|s| s.generation_wait_secs = 0).await;
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
    let app = spawn_app_with(|s| s.generation_wait_secs = 0).await;
    let file = "errors/429_provider-returned-error_venice_retry-after.json";

    // Act
    let got = serve_chat(&app, 429, capture(file)).await;

    // Assert
    assert_eq!(got.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(got.retry_after.as_deref(), Some("17"));
    assert_eq!(got.body["error"]["message"], "Provider returned error");
    assert_eq!(got.body["error"]["metadata"]["provider_name"], "Venice");
}

#[test]
fn the_comparison_finds_a_dropped_or_changed_field_and_ignores_nulls_and_additions() {
    let upstream = json!({"a": 610, "b": null, "c": {"d": [1, {"e": "x"}]}, "f": "kept"});
    let mut findings = Findings::default();
    findings.contains(
        "ok",
        &json!({"a": 610.0, "c": {"d": [1, {"e": "x", "g": 2}]}, "f": "kept", "h": 1}),
        &upstream,
    );
    assert!(findings.0.is_empty(), "{:?}", findings.0);
    findings.contains("bad", &json!({"a": 611, "c": {"d": [1, {}]}}), &upstream);
    assert_eq!(findings.0.len(), 3, "{:?}", findings.0);
}
