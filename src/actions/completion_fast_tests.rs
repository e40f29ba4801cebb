//! Completion's fast reader answers byte for byte what the `Value` path answers, for answers of
//! `/completions` and of its `/chat/completions` fallback, and gives way on everything else.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::completion::CompletionResponse;
use super::completion_fast::flat_completion;
#[cfg(feature = "timings")]
use super::fast_checks::timed;
use super::fast_checks::{answer, capture, config, mutated, seen};
use crate::error::ApiError;
use crate::openrouter::OpenRouterClient;

fn read(
    status: u16,
    body: &[u8],
    through_chat: bool,
    fast: impl FnOnce(&[u8], bool) -> Option<CompletionResponse>,
) -> Result<Vec<u8>, ApiError> {
    OpenRouterClient::read_completion(answer(status, body), through_chat, fast, |value| {
        Ok(CompletionResponse::from_upstream(value))
    })
    .map(|flat| serde_json::to_vec(&flat).unwrap())
}

fn assert_same_answer(status: u16, body: &[u8], through_chat: bool) -> Result<(), TestCaseError> {
    let fast = seen(read(status, body, through_chat, flat_completion));
    let expected = seen(read(status, body, through_chat, |_, _| None));
    prop_assert_eq!(fast, expected, "{}", String::from_utf8_lossy(body));
    Ok(())
}

fn assert_read_fast_and_same(body: &[u8], through_chat: bool) {
    let text = String::from_utf8_lossy(body);
    assert!(
        flat_completion(body, through_chat).is_some(),
        "the fast reader reads {text}"
    );
    assert!(read(200, body, through_chat, |_, _| None).is_ok(), "{text}");
    assert_same_answer(200, body, through_chat).unwrap();
}

const LEGACY: &str = "completions/nonstream_llama-3.1-405b_google.response.raw.txt";

const CHAT_CAPTURES: &[&str] = &[
    "chat-completions/nonstream_gemini-2.5-flash_google.response.json",
    "chat-completions/nonstream_reasoning-usage_gpt-5-mini.0.response.json",
    "chat-completions/nonstream_tool-calls_mistral.response.json",
];

/// Legacy answers made to show each rule: a `text` of another type, a message instead of a
/// text, choice members the flat answer writes itself, unknown members whose order changes.
const MADE: &[&str] = &[
    r#"{"id":"g","choices":[{"text":"a","index":0,"finish_reason":"stop","logprobs":null,"x":1},{"text":5,"message":{"content":"m"},"index":1.0}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"extra_properties":{"google":{"traffic_type":"ON_DEMAND"}}},"system_fingerprint":""}"#,
    r#"{"z":0,"choices":[{"a":1,"message":{"role":"assistant","content":[{"type":"text","text":"p"},{"type":"text","text":"q"}],"annotations":[],"index":7,"text":"t","b":2},"c":3,"native_finish_reason":"eos","text":{"not":"text"}}],"y":1,"created":1e9,"text":"top","model":"m"}"#,
];

#[tokio::test]
async fn captured_simulated_and_made_answers_are_answered_as_before() {
    let legacy = capture(LEGACY);
    assert_read_fast_and_same(&legacy, false);
    for path in CHAT_CAPTURES {
        // A chat answer may come from either route.
        assert_read_fast_and_same(&capture(path), true);
        assert_read_fast_and_same(&capture(path), false);
    }
    for body in MADE {
        assert_read_fast_and_same(body.as_bytes(), false);
    }
    let sim = openrouter_simulator::Simulator::start().await.unwrap();
    for (path, request, through_chat) in [
        ("completions", json!({"prompt": "Once upon a time"}), false),
        (
            "chat/completions",
            json!({"messages": [{"role": "user", "content": "Once"}]}),
            true,
        ),
    ] {
        let body = reqwest::Client::new()
            .post(format!("{}/{path}", sim.base_url()))
            .bearer_auth("sk-or-v1-fast-reader-tests")
            .json(&request)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_read_fast_and_same(&body, through_chat);
    }
}

#[test]
fn the_fast_reader_gives_way_where_only_the_value_path_can_answer() {
    let cases: &[(&str, bool)] = &[
        // A legacy answer without a message is no chat answer.
        (r#"{"choices":[{"text":"a"}]}"#, true),
        (r#"{"choices":[{"text":null}]}"#, false),
        (r#"{"choices":[{"text":"a","text":"b"}]}"#, false),
        (r#"{"choices":[]}"#, false),
        (r#"{"choices":[{"message":{"content":5}}]}"#, false),
        (r#"{"error":{"code":404,"message":"No endpoints"}}"#, false),
        ("Not Found", false),
    ];
    for (body, through_chat) in cases {
        assert!(
            flat_completion(body.as_bytes(), *through_chat).is_none(),
            "{body}"
        );
        for status in [200, 404, 429, 502] {
            assert_same_answer(status, body.as_bytes(), *through_chat).unwrap();
        }
    }
}

const NAMES: &[&str] = &[
    "id",
    "model",
    "provider",
    "created",
    "choices",
    "usage",
    "text",
    "index",
    "message",
    "role",
    "content",
    "finish_reason",
    "native_finish_reason",
    "logprobs",
    "prompt_tokens",
    "cost",
    "error",
    "brand_new_field",
];

fn mutated_answers() -> BoxedStrategy<(Vec<u8>, bool)> {
    let mut bases: Vec<Value> = vec![serde_json::from_slice(&capture(LEGACY)).unwrap()];
    bases.extend(
        CHAT_CAPTURES
            .iter()
            .map(|path| serde_json::from_slice(&capture(path)).unwrap()),
    );
    bases.extend(MADE.iter().map(|text| serde_json::from_str(text).unwrap()));
    let bodies = prop::strategy::Union::new(bases.into_iter().map(|base| mutated(base, NAMES)));
    (bodies, any::<bool>()).boxed()
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn mutated_completion_answers_get_the_answer_the_value_path_gives(
        (body, through_chat) in mutated_answers()
    ) {
        assert_same_answer(200, &body, through_chat)?;
    }
}

/// `cargo test --release --features timings --lib completion_timing -- --nocapture` (printed, not
/// asserted).
#[test]
#[cfg(feature = "timings")]
fn completion_timing() {
    let body = capture(LEGACY);
    let runs = 2000;
    let before = timed(runs, || {
        read(200, &body, false, |_, _| None).unwrap();
    });
    let after = timed(runs, || {
        read(200, &body, false, flat_completion).unwrap();
    });
    println!(
        "Completion, {LEGACY} ({} bytes): Value path {before}, fast reader {after} (of {runs})",
        body.len()
    );
}
