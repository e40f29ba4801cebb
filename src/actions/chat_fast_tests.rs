//! Chat Completion's fast reader answers byte for byte what the `Value` path answers, on the
//! captures, the simulator's answers, answers made to show every rule, and mutations of them;
//! and gives way on everything else.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::chat_answer::ChatCompletionResponse;
use super::chat_fast::flat_chat;
#[cfg(feature = "timings")]
use super::fast_checks::timed;
use super::fast_checks::{answer, capture, config, mutated, seen};
use crate::error::ApiError;
use crate::openrouter::OpenRouterClient;

/// The flat answer's text, as the action writes it.
fn written(read: Result<ChatCompletionResponse, ApiError>) -> Result<Vec<u8>, ApiError> {
    read.map(|flat| serde_json::to_vec(&flat).unwrap())
}

fn fast(status: u16, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    written(OpenRouterClient::read_chat(
        answer(status, body),
        flat_chat,
        |value| Ok(ChatCompletionResponse::from_upstream(value)),
    ))
}

/// What the action answered before the fast reader: the `Value` path alone.
fn value_path(status: u16, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    written(OpenRouterClient::read_chat(
        answer(status, body),
        |_| None,
        |value| Ok(ChatCompletionResponse::from_upstream(value)),
    ))
}

fn assert_read_fast_and_same(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let flat = flat_chat(body).unwrap_or_else(|| panic!("the fast reader reads {text}"));
    let expected = value_path(200, body).expect("the Value path answers 200");
    assert_eq!(
        String::from_utf8(serde_json::to_vec(&flat).unwrap()).unwrap(),
        String::from_utf8(expected).unwrap(),
        "{text}"
    );
}

fn assert_same_answer(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    let fast = seen(fast(status, body));
    let expected = seen(value_path(status, body));
    prop_assert_eq!(fast, expected, "{}", String::from_utf8_lossy(body));
    Ok(())
}

const CAPTURES: &[&str] = &[
    "chat-completions/nonstream_gemini-2.5-flash_google.response.json",
    "chat-completions/nonstream_models-fallback_provider-only_xai.response.json",
    "chat-completions/nonstream_reasoning-usage_gpt-5-mini.0.response.json",
    "chat-completions/nonstream_reasoning-usage_gpt-5-mini.1.response.json",
    "chat-completions/nonstream_tool-calls_mistral.response.json",
    "spec-examples/chat_completions.200.json.default.json",
];

#[test]
fn the_captured_chat_answers_are_answered_as_before() {
    for path in CAPTURES {
        let body = capture(path);
        assert_read_fast_and_same(&body);
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_read_fast_and_same(&serde_json::to_vec(&value).unwrap());
    }
}

/// The simulator's answers to a plain message, a call of a tool, and content parts.
async fn simulator_answers() -> Vec<bytes::Bytes> {
    let sim = openrouter_simulator::Simulator::start().await.unwrap();
    let tools = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]);
    let mut answers = Vec::new();
    for request in [
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi é \"there\""}]}),
        json!({"messages": [{"role": "user", "content": "use the tool"}], "tools": tools}),
        json!({"messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": "required"}),
        json!({"model": "x-ai/grok-4", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
    ] {
        let response = reqwest::Client::new()
            .post(format!("{}/chat/completions", sim.base_url()))
            .bearer_auth("sk-or-v1-fast-reader-tests")
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        answers.push(response.bytes().await.unwrap());
    }
    answers
}

#[tokio::test]
async fn the_simulators_chat_answers_are_answered_as_before() {
    let answers = simulator_answers().await;
    assert!(
        answers
            .iter()
            .any(|body| memchr::memmem::find(body, b"tool_calls").is_some())
    );
    for body in answers {
        assert_read_fast_and_same(&body);
    }
}

/// Answers made to show each rule of the flattening: several choices, content parts, tool calls
/// in every form, reasoning, annotations, usage details, members the flat answer writes itself,
/// values of other types than usual, and unknown members where the order they are left in
/// differs from upstream's.
const MADE: &[&str] = &[
    r#"{"id":"gen-1","choices":[{"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"stop"},{"index":1,"message":{"content":[{"type":"text","text":"b"},{"type":"image_url","image_url":{"url":"u"}},{"type":"text","text":null},{"type":"text","text":"c"}]},"finish_reason":"length"}]}"#,
    r#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},{"id":7,"function":{"name":"g","arguments":{"x":[1,null,2.50],"y":null}}},{"name":"flat","arguments":"{}"},{"type":null,"function":null}]},"finish_reason":"tool_calls"}]}"#,
    r#"{"z":1,"choices":[{"logprobs":null,"a":1,"message":{"role":"assistant","content":"x","annotations":[{"type":"url_citation","url_citation":{"url":"https://e","title":null}}],"reasoning":"r","refusal":null,"reasoning_details":[{"type":"reasoning.text","text":"t","format":null}],"images":[]},"b":2,"finish_reason":"stop","native_finish_reason":"end_turn","index":0,"c":3}],"y":2,"usage":{"prompt_tokens":10,"completion_tokens":20.0,"total_tokens":30,"cost":0,"is_byok":false,"prompt_tokens_details":{"cached_tokens":4.7,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":18446744073709551615},"cost_details":{"upstream_inference_cost":1e-7}},"x":3,"system_fingerprint":"","provider":"P","model":"m","created":1.0e9,"id":"gen"}"#,
    r#"{"choices":[{"role":"choice-level","content":"dropped","tool_calls":"dropped","text":"kept","message":{"index":9,"finish_reason":"message-level","role":42,"content":"","refusal":true,"reasoning":1.25,"text":"not kept","extra":{"n":null}},"finish_reason":["not","text"],"index":"0"}],"created":"soon","usage":{"prompt_tokens":"1","cost":"0.1"},"system_fingerprint":"fp_1","role":"top","content":"top","choices_extra":null}"#,
    r#"{"id":"gen-\u00e9\/\ud83d\ude00","object":"chat.completion","choices":[{"message":{"content":"line\nbreak \"quoted\" \u0001"},"index":-1}],"usage":{"prompt_tokens":-5,"total_tokens":1e30}}"#,
    r#"{"choices":[{"message":{}},{"message":{"role":null}}],"error":{"message":"kept beside choices"}}"#,
];

#[test]
fn answers_made_to_show_each_rule_are_answered_as_before() {
    for body in MADE {
        assert_read_fast_and_same(body.as_bytes());
    }
}

#[test]
fn the_fast_reader_gives_way_where_only_the_value_path_can_answer() {
    for body in [
        r#"{"choices":[{"message":{"content":"a","content":"b"}}]}"#,
        r#"{"choices":[{"message":{"content":"a"},"x":1,"x":null}]}"#,
        r#"{"id":"a","id":"b","choices":[{"message":{}}]}"#,
        r#"{"choices":[{"message":{"content":"a","annotations":[{"u":1,"u":2}]}}]}"#,
        r#"{"choices":[]}"#,
        r#"{"choices":null}"#,
        r#"{"choices":[null]}"#,
        r#"{"choices":[{}]}"#,
        r#"{"choices":[{"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"message":"hi"}]}"#,
        r#"{"choices":[{"message":{"content":5}}]}"#,
        r#"{"choices":[{"message":{"content":[null]}}]}"#,
        r#"{"choices":[{"message":{"content":[{"text":{"x":1}}]}}]}"#,
        r#"{"choices":[{"message":{"tool_calls":{}}}]}"#,
        r#"{"choices":[{"message":{"tool_calls":[null]}}]}"#,
        r#"{"choices":[{"message":{"tool_calls":[{"function":"f"}]}}]}"#,
        r#"{"error":{"code":429,"message":"slow down","metadata":{"retry_after_seconds":3}}}"#,
        r#"{"error":{"code":"server_error","message":"Boom"}}"#,
        r#"[]"#,
        r#"{"choices":[{"message":{}}]} x"#,
        "<html>",
    ] {
        assert!(flat_chat(body.as_bytes()).is_none(), "{body}");
        for status in [200, 400, 402, 429, 500, 503] {
            assert_same_answer(status, body.as_bytes()).unwrap();
        }
    }
}

/// The names a mutation adds or removes: the flat answer's own, and some it does not know.
const NAMES: &[&str] = &[
    "id",
    "model",
    "provider",
    "created",
    "object",
    "choices",
    "usage",
    "system_fingerprint",
    "index",
    "message",
    "delta",
    "role",
    "content",
    "reasoning",
    "refusal",
    "finish_reason",
    "native_finish_reason",
    "tool_calls",
    "function",
    "name",
    "arguments",
    "type",
    "text",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "cached_tokens",
    "reasoning_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
    "annotations",
    "logprobs",
    "error",
    "brand_new_field",
];

fn mutated_answers() -> BoxedStrategy<Vec<u8>> {
    let mut bases: Vec<Value> = CAPTURES
        .iter()
        .map(|path| serde_json::from_slice(&capture(path)).unwrap())
        .collect();
    bases.extend(MADE.iter().map(|text| serde_json::from_str(text).unwrap()));
    prop::strategy::Union::new(bases.into_iter().map(|base| mutated(base, NAMES))).boxed()
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn mutated_chat_answers_get_the_answer_the_value_path_gives(body in mutated_answers()) {
        assert_same_answer(200, &body)?;
    }
}

/// `cargo test --release --features timings --lib chat_timing -- --nocapture`: what reading and writing
/// a chat answer costs each way (printed, not asserted).
#[test]
#[cfg(feature = "timings")]
fn chat_timing() {
    for path in [
        "chat-completions/nonstream_tool-calls_mistral.response.json",
        "chat-completions/nonstream_gemini-2.5-flash_google.response.json",
        "chat-completions/nonstream_reasoning-usage_gpt-5-mini.0.response.json",
    ] {
        let value: Value = serde_json::from_slice(&capture(path)).unwrap();
        let body = serde_json::to_vec(&value).unwrap();
        let runs = 2000;
        let before = timed(runs, || {
            value_path(200, &body).unwrap();
        });
        let after = timed(runs, || {
            fast(200, &body).unwrap();
        });
        println!(
            "Chat Completion, {path} ({} bytes): Value path {before}, fast reader {after} (of {runs})",
            body.len()
        );
    }
}

/// `cargo test --release --features timings --lib chat_request_timing -- --nocapture`: what building the
/// upstream body of a typical request as a `Value` and writing it costs (printed, not asserted).
#[test]
#[cfg(feature = "timings")]
fn chat_request_timing() {
    use super::chat_answer::ChatCompletionRequest;
    use super::input::ActionInput;
    let request = actix_web::test::TestRequest::post().to_http_request();
    let body = json!({
        "model": "openai/gpt-4o-mini", "system": "Answer in one sentence.",
        "content": "What is Power Automate?", "temperature": 0.3, "max_tokens": 256,
        "provider": {"order": ["openai", "azure"], "allow_fallbacks": false},
        "tools": [{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        "extra": {"top_k": 40}
    });
    let input = ChatCompletionRequest::parse(&request, body.to_string().into()).unwrap();
    let runs = 2000;
    let built = timed(runs, || {
        input.to_upstream().to_bytes().unwrap();
    });
    println!("Chat Completion request: upstream body written: {built} (of {runs})");
}
