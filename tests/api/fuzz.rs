//! Property tests over the service's two edges, our stand-in for `cargo fuzz` on the stable
//! toolchain: request parsing (`requests`, with the near-valid bodies of `bodies`: arbitrary
//! bytes, arbitrary JSON, near-valid ChatCompletion and Completion bodies, arbitrary query
//! strings and path segments), response flattening (`flattening`: arbitrary upstream JSON and
//! the mutations of the real captures and the spec's examples that `captures` makes), and the
//! reading of upstream answers (`interpret`: every status from 100 to 599, any body).
//!
//! Each property runs a bounded number of cases (1,024 or 2,048) so that the whole module takes
//! a few seconds in a debug build. For a longer run, set `PROPTEST_CASES`, which every property
//! here then uses instead: `PROPTEST_CASES=20000 cargo test --test api fuzz` (about two minutes
//! on two cores). A failure prints the shrunk, minimal input; nothing is written to the source
//! tree.

mod bodies;
mod captures;
mod flattening;
mod interpret;
mod requests;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::{Number, Value, json};

/// The bounded run for CI, or `PROPTEST_CASES` when set.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_time: 10_000,
        ..ProptestConfig::default()
    }
}

type Case = Result<(), TestCaseError>;

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// Words the service gives meaning to, so random values hit its branches.
const WORDS: &[&str] = &[
    "",
    " ",
    "null",
    "user",
    "assistant",
    "system",
    "tool",
    "bot",
    "text",
    "json_object",
    "json_schema",
    "none",
    "auto",
    "required",
    "function",
    "get_weather",
    "openai/gpt-4o-mini",
    "gen-1",
    "price",
    "deny",
    "high",
    "xhigh",
    "0.5",
    "1e400",
    "-1",
    "{}",
    "[]",
    "{\"type\":\"object\"}",
    "web",
    "stop",
    "tool_calls",
];

/// Field names of the requests and of upstream answers, so random objects hit known keys.
const NAMES: &[&str] = &[
    "content",
    "role",
    "model",
    "system",
    "messages",
    "image_url",
    "max_tokens",
    "temperature",
    "stop",
    "provider",
    "reasoning",
    "extra",
    "response_format",
    "json_schema",
    "tools",
    "tool_choice",
    "web_search",
    "prompt",
    "stream",
    "plugins",
    "id",
    "choices",
    "message",
    "delta",
    "text",
    "tool_calls",
    "function",
    "name",
    "arguments",
    "index",
    "finish_reason",
    "usage",
    "data",
    "error",
    "code",
    "message",
    "metadata",
    "endpoints",
    "pricing",
    "architecture",
    "total_credits",
    "total_usage",
    "remaining",
    "provider_responses",
    "other",
];

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "(?s).{0,12}",
        2 => "[a-z_]{1,10}",
        1 => "[\\x00-\\x1f\\x7f\"\\\\\u{FFFD}\u{202E} ]{0,4}",
        2 => select(WORDS).prop_map(str::to_owned),
    ]
    .boxed()
}

fn key() -> BoxedStrategy<String> {
    prop_oneof![3 => select(NAMES).prop_map(str::to_owned), 1 => text()].boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-3i64..30).prop_map(Value::from),
        (-3.0f64..3.0).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        select(vec![
            0.0,
            -0.0,
            1e308,
            -1e308,
            1e303,
            5e-324,
            2.000_000_1,
            1e19,
            4_294_967_296.0
        ])
        .prop_map(Value::from),
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        2 => number(),
        3 => text().prop_map(Value::from),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn json_value() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..5)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
        .boxed()
}

fn json_object() -> BoxedStrategy<Value> {
    prop::collection::vec((key(), json_value()), 0..5)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
        .boxed()
}

type Member = Option<(String, Value)>;

/// A member that is there with `probability`: mostly a valid value, sometimes `null` or `""`
/// (which count as absent), a wrong value, or a value of any type.
fn member(
    name: &'static str,
    probability: f64,
    valid: BoxedStrategy<Value>,
    wrong: BoxedStrategy<Value>,
) -> BoxedStrategy<Member> {
    let value = prop_oneof![
        16 => valid,
        1 => Just(Value::Null),
        1 => Just(json!("")),
        1 => wrong,
        1 => json_value(),
    ];
    prop::option::weighted(probability, value.prop_map(move |v| (name.to_owned(), v))).boxed()
}

/// A member that is there four times in ten, mostly with a plausible value.
fn field(name: &'static str, plausible: BoxedStrategy<Value>) -> BoxedStrategy<Member> {
    member(name, 0.4, plausible, json_value())
}

/// An object of these members, now and then with a stray one.
fn object_of(members: Vec<BoxedStrategy<Member>>) -> BoxedStrategy<Value> {
    (members, prop::option::weighted(0.03, (key(), json_value())))
        .prop_map(|(members, stray)| {
            Value::Object(members.into_iter().flatten().chain(stray).collect())
        })
        .boxed()
}

fn one_of(words: &'static [&'static str]) -> BoxedStrategy<Value> {
    select(words).prop_map(Value::from).boxed()
}

fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::from).boxed()
}

fn string() -> BoxedStrategy<Value> {
    text().prop_map(Value::from).boxed()
}

fn strings() -> BoxedStrategy<Value> {
    prop::collection::vec(text(), 0..5)
        .prop_map(|items| json!(items))
        .boxed()
}

/// Where the first `null` in a value is, if any.
fn null_at(value: &Value, here: &str) -> Option<String> {
    match value {
        Value::Null => Some(here.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| null_at(v, &format!("{here}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| null_at(v, &format!("{here}.{k}"))),
        _ => None,
    }
}
