//! List Models' fast reader answers byte for byte what the `Value` path answers, on the
//! simulator's catalogue, the captures and mutations of them, and gives way on everything else.

use proptest::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[cfg(feature = "timings")]
use super::fast_checks::timed;
use super::fast_checks::{answer, capture, config, mutated, seen, simulator_models, spliced};
use super::list_models::checked_model_list;
use super::models_fast::flat_model_list;
use crate::error::ApiError;
use crate::openrouter::OpenRouterClient;

/// What the action answers for an upstream `status` and `body`, the fast way.
fn fast(status: u16, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    OpenRouterClient::read_models(answer(status, body), flat_model_list, checked_model_list)
}

/// What the action answered before the fast reader: the `Value` path alone.
fn value_path(status: u16, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    OpenRouterClient::read_models(answer(status, body), |_| None, checked_model_list)
}

/// The fast reader reads `body` itself, and answers what the `Value` path does.
fn assert_read_fast_and_same(body: &[u8]) {
    let flat = flat_model_list(body).expect("the fast reader reads this answer");
    let expected = value_path(200, body).expect("the Value path answers 200");
    assert_eq!(
        String::from_utf8(flat).unwrap(),
        String::from_utf8(expected).unwrap()
    );
}

/// Whatever the fast reader does with `body`, the caller sees what the `Value` path answers.
fn assert_same_answer(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    let fast = seen(fast(status, body));
    let expected = seen(value_path(status, body));
    prop_assert_eq!(fast, expected, "{}", String::from_utf8_lossy(body));
    Ok(())
}

/// The SHA-256 of what `GET /connector/v1/models` answered before the fast reader, in front of
/// `openrouter-simulator --models 350` (the release binaries of commit 75f5e4e): 282,523 bytes.
const SIMULATOR_350_FLAT_SHA256: &str =
    "570ea81903d3e1a55774081703aa43ea6fc8513e59792765962cd398616c56ca";

#[tokio::test]
async fn the_simulators_350_models_are_answered_as_before() {
    let body = simulator_models(350).await;
    assert_read_fast_and_same(&body);
    let flat = fast(200, &body).unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&flat)),
        SIMULATOR_350_FLAT_SHA256,
        "the flat list of the simulator's 350 models changed (or the simulator's catalogue did)"
    );
}

/// A captured or documented model list, pretty-printed as captured and compact.
fn captured_lists() -> Vec<Vec<u8>> {
    let entry: Value =
        serde_json::from_slice(&capture("models/real_model_entry_x-ai_grok-4.20.json")).unwrap();
    let example = capture("spec-examples/models.200.json.default.json");
    let example_value: Value = serde_json::from_slice(&example).unwrap();
    let both = json!({"data": [entry.clone(), example_value["data"][0].clone()]});
    vec![
        serde_json::to_vec_pretty(&json!({"data": [entry.clone()]})).unwrap(),
        serde_json::to_vec(&json!({"data": [entry]})).unwrap(),
        example,
        serde_json::to_vec(&example_value).unwrap(),
        serde_json::to_vec(&both).unwrap(),
    ]
}

#[test]
fn the_captured_models_are_answered_as_before() {
    for body in captured_lists() {
        assert_read_fast_and_same(&body);
    }
}

#[test]
fn text_the_value_path_rewrites_is_rewritten_the_same() {
    for body in [
        // Escapes that `serde_json` writes otherwise, numbers it writes otherwise.
        r#"{"data":[{"id":"a\/b\u00e9\ud83d\ude00","name":"\u0041","created":1e3,"context_length":-0,"x":[1.50,2E-2,-0.0,100000000000000000000]}]}"#,
        // Whole numbers about where `serde_json` stops keeping their digits; names with escapes.
        r#"{"data":[{"id":"m","created":999999999999999999,"context_length":-999999999999999999,"x":[1000000000000000000,-9223372036854775808,-9223372036854775809,18446744073709551615,18446744073709551616,0,-1,10]}],"\u0064ata2":{"\u0069d":1}}"#,
        r#"{"d\u0061ta":[{"\u0069d":"escaped names are still known","supported_p\u0061rameters":["\t"]}]}"#,
        // `null`s at every depth, blanks everywhere.
        "{ \"data\" : [ { \"id\" : \"m\" , \"name\" : null , \"pricing\" : { \"prompt\" : null , \"z\" : [ null , { \"q\" : null } ] } , \"supported_parameters\" : [ null , \"tools\" , null ] , \"architecture\" : { \"input_modalities\" : null , \"instruct_type\" : null } , \"top_provider\" : { } , \"extra\" : null } ] , \"more\" : null , \"kept\" : { \"n\" : null } } \n",
        // Members in another order; unknown members before and after `data`.
        r#"{"first":1,"data":[{"supported_parameters":["a"],"other":{"b":2},"id":"m","top_provider":{"is_moderated":false,"max_completion_tokens":5.0}}],"error":{"code":500}}"#,
        r#"{"data":[]}"#,
    ] {
        assert_read_fast_and_same(body.as_bytes());
    }
}

#[test]
fn the_fast_reader_gives_way_where_only_the_value_path_can_answer() {
    for body in [
        // A name given twice: the `Value` path keeps the last value where the first stood.
        r#"{"data":[{"id":"a","name":"x","name":"y"}]}"#,
        r#"{"data":[{"id":"a","x":1,"x":null}]}"#,
        r#"{"data":[{"id":"a","x":{"y":1,"y":2}}]}"#,
        r#"{"data":[],"data":[{"id":"b"}]}"#,
        // Shapes the `Value` path refuses with a 502, or decodes otherwise.
        r#"{"data":[{"id":5}]}"#,
        r#"{"data":[{"name":"no id"}]}"#,
        r#"{"data":[null]}"#,
        r#"{"data":null}"#,
        r#"{"data":{}}"#,
        r#"{}"#,
        r#"[]"#,
        r#"{"data":[{"id":"a","pricing":{"prompt":0.1}}]}"#,
        r#"{"data":[{"id":"a","supported_parameters":"tools"}]}"#,
        r#"{"data":[{"id":"a","supported_parameters":["tools",1]}]}"#,
        r#"{"data":[{"id":"a","created":"1721260800"}]}"#,
        r#"{"data":[{"id":"a","top_provider":[]}]}"#,
        r#"{"error":{"code":402,"message":"Insufficient credits"}}"#,
        // Not one JSON text.
        r#"{"data":[]} {}"#,
        "<html>Bad gateway</html>",
        "",
    ] {
        assert_eq!(flat_model_list(body.as_bytes()), None, "{body}");
        for status in [200, 429, 503] {
            assert_same_answer(status, body.as_bytes()).unwrap();
        }
    }
}

/// The names a mutation adds or removes: List Models' own, and some it does not know.
const NAMES: &[&str] = &[
    "id",
    "name",
    "description",
    "created",
    "context_length",
    "pricing",
    "architecture",
    "top_provider",
    "supported_parameters",
    "prompt",
    "completion",
    "request",
    "image",
    "modality",
    "input_modalities",
    "output_modalities",
    "tokenizer",
    "instruct_type",
    "max_completion_tokens",
    "is_moderated",
    "data",
    "error",
    "brand_new_field",
];

fn mutated_lists() -> BoxedStrategy<Vec<u8>> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let simulator: Value = serde_json::from_slice(&runtime.block_on(simulator_models(6))).unwrap();
    let mut lists = vec![simulator];
    for body in captured_lists() {
        lists.push(serde_json::from_slice(&body).unwrap());
    }
    prop::strategy::Union::new(lists.into_iter().map(|list| mutated(list, NAMES))).boxed()
}

/// The same lists, changed byte by byte.
fn spliced_lists() -> BoxedStrategy<Vec<u8>> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let simulator: Value = serde_json::from_slice(&runtime.block_on(simulator_models(3))).unwrap();
    let mut lists = vec![simulator];
    for body in captured_lists() {
        lists.push(serde_json::from_slice(&body).unwrap());
    }
    prop::strategy::Union::new(lists.into_iter().map(spliced)).boxed()
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn mutated_model_lists_get_the_answer_the_value_path_gives(body in mutated_lists()) {
        assert_same_answer(200, &body)?;
    }

    #[test]
    fn model_lists_changed_byte_by_byte_get_the_answer_the_value_path_gives(
        body in spliced_lists()
    ) {
        assert_same_answer(200, &body)?;
    }
}

/// `cargo test --release --features timings --lib list_models_timing -- --nocapture`: what reading the
/// simulator's 350 models costs each way (printed, not asserted).
#[tokio::test]
#[cfg(feature = "timings")]
async fn list_models_timing() {
    let body = simulator_models(350).await;
    let runs = 200;
    let before = timed(runs, || {
        value_path(200, &body).unwrap();
    });
    let after = timed(runs, || {
        fast(200, &body).unwrap();
    });
    println!(
        "List Models, {} upstream bytes of 350 models: Value path {}, fast reader {} (of {runs})",
        body.len(),
        before,
        after
    );
}

/// The same, for what `serde_json` itself takes: skimming the answer, reading it as a `Value`
/// or a `Loose`, writing a `Value`.
#[tokio::test]
#[cfg(feature = "timings")]
async fn list_models_timing_parts() {
    let body = simulator_models(350).await;
    let runs = 200;
    let scan = timed(runs, || {
        serde_json::from_slice::<serde::de::IgnoredAny>(&body).unwrap();
    });
    let loose = timed(runs, || {
        serde_json::from_slice::<super::loose::Loose>(&body).unwrap();
    });
    let value = timed(runs, || {
        serde_json::from_slice::<Value>(&body).unwrap();
    });
    let parsed: Value = serde_json::from_slice(&body).unwrap();
    let write_value = timed(runs, || {
        serde_json::to_vec(&parsed).unwrap();
    });
    let flat = flat_model_list(&body).unwrap();
    let parse_flat = timed(runs, || {
        serde_json::from_slice::<Value>(&flat).unwrap();
    });
    println!(
        "scan {scan}; loose {loose}; value {value}; write-value {write_value}; value-of-flat {parse_flat}"
    );
}
