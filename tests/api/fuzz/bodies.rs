//! Near-valid request bodies: the contract's fields of ChatCompletion and Completion, mostly
//! with valid values, mixed with wrong values, blanks and values of any type.

use bytes::Bytes;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::{
    Member, boolean, json_object, json_value, member, number, object_of, one_of, string, strings,
    text,
};

/// A member sent one time in four.
fn opt(
    name: &'static str,
    valid: BoxedStrategy<Value>,
    wrong: BoxedStrategy<Value>,
) -> BoxedStrategy<Member> {
    member(name, 0.25, valid, wrong)
}

fn nonblank() -> BoxedStrategy<String> {
    prop_oneof![3 => "[A-Za-z][A-Za-z0-9 ,.!?]{0,19}", 1 => "[A-Za-z]\\PC{0,8}"].boxed()
}

fn words() -> BoxedStrategy<Value> {
    prop::collection::vec(nonblank(), 0..4)
        .prop_map(|items| json!(items))
        .boxed()
}

fn whole(low: i64, high: i64) -> BoxedStrategy<Value> {
    (low..=high).prop_map(Value::from).boxed()
}

fn ranged(low: f64, high: f64) -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (low..=high).prop_map(Value::from),
        1 => select(vec![low, high]).prop_map(Value::from),
    ]
    .boxed()
}

/// Numbers just outside `low..=high`, and any number.
fn outside(low: f64, high: f64) -> BoxedStrategy<Value> {
    prop_oneof![
        (high + 1e-9..high + 10.0).prop_map(Value::from),
        (low - 10.0..low - 1e-9).prop_map(Value::from),
        number(),
        text().prop_map(Value::from),
    ]
    .boxed()
}

fn negative() -> BoxedStrategy<Value> {
    (-10.0f64..-1e-9).prop_map(Value::from).boxed()
}

fn model() -> BoxedStrategy<Value> {
    prop_oneof![
        one_of(&[
            "openai/gpt-4o-mini",
            "x-ai/grok-4",
            "google/gemini-2.5-flash:free"
        ]),
        "[a-z]{1,8}/[a-z0-9.:-]{1,12}".prop_map(Value::from),
    ]
    .boxed()
}

fn price() -> BoxedStrategy<Value> {
    prop_oneof![
        ranged(0.0, 10.0),
        "[0-9]{1,3}(\\.[0-9]{1,3})?".prop_map(Value::from)
    ]
    .boxed()
}

fn provider() -> BoxedStrategy<Value> {
    let wrong_words = || prop_oneof![string(), Just(json!([" "])).boxed(), number()].boxed();
    object_of(vec![
        opt("order", words(), wrong_words()),
        opt("only", words(), wrong_words()),
        opt("ignore", words(), wrong_words()),
        opt("allow_fallbacks", boolean(), string()),
        opt("require_parameters", boolean(), string()),
        opt(
            "data_collection",
            one_of(&["allow", "deny"]),
            one_of(&["maybe", "ALLOW"]),
        ),
        opt("zdr", boolean(), number()),
        opt(
            "sort",
            one_of(&["price", "throughput", "latency"]),
            one_of(&["cheapest"]),
        ),
        opt("quantizations", words(), wrong_words()),
        opt(
            "max_price",
            object_of(vec![
                opt("prompt", price(), negative()),
                opt("completion", price(), one_of(&["free", "-1", "NaN", "inf"])),
                opt("request", price(), negative()),
                opt("image", price(), string()),
            ]),
            string(),
        ),
        opt("enforce_distillable_text", boolean(), json_value()),
    ])
}

fn reasoning() -> BoxedStrategy<Value> {
    object_of(vec![
        opt(
            "effort",
            one_of(&["none", "minimal", "low", "medium", "high", "xhigh"]),
            one_of(&["extreme", "HIGH"]),
        ),
        opt("max_tokens", whole(1, 5000), whole(-3, 0)),
        opt("exclude", boolean(), string()),
        opt("enabled", boolean(), json_value()),
    ])
}

/// `extra`, with keys that collide with named and mapped fields.
fn extra() -> BoxedStrategy<Value> {
    const KEYS: &[&str] = &[
        "stream",
        "messages",
        "prompt",
        "temperature",
        "model",
        "plugins",
        "tools",
        "n",
        "foo",
        "response_format",
        "max_tokens",
        "content",
        "extra",
        "web_search",
    ];
    prop::collection::vec((select(KEYS).prop_map(str::to_owned), json_value()), 0..4)
        .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
        .boxed()
}

/// The fields of 4.1 and 4.2 that both requests share.
fn option_fields() -> Vec<BoxedStrategy<Member>> {
    vec![
        opt(
            "model",
            model(),
            prop_oneof![string(), " a/b".prop_map(Value::from)].boxed(),
        ),
        opt(
            "max_tokens",
            whole(1, 100_000),
            prop_oneof![whole(-2, 0), number()].boxed(),
        ),
        opt("temperature", ranged(0.0, 2.0), outside(0.0, 2.0)),
        opt("top_p", ranged(0.0, 1.0), outside(0.0, 1.0)),
        opt(
            "top_k",
            whole(0, 100),
            prop_oneof![whole(-3, -1), number()].boxed(),
        ),
        opt("min_p", ranged(0.0, 1.0), outside(0.0, 1.0)),
        opt("top_a", ranged(0.0, 1.0), outside(0.0, 1.0)),
        opt("frequency_penalty", ranged(-2.0, 2.0), outside(-2.0, 2.0)),
        opt("presence_penalty", ranged(-2.0, 2.0), outside(-2.0, 2.0)),
        opt("repetition_penalty", ranged(1e-6, 2.0), outside(0.0, 2.0)),
        opt(
            "seed",
            whole(i64::MIN, i64::MAX),
            prop_oneof![ranged(0.1, 0.9), string()].boxed(),
        ),
        opt(
            "stop",
            prop_oneof![
                string(),
                prop::collection::vec(text(), 0..=4).prop_map(|s| json!(s))
            ]
            .boxed(),
            prop::collection::vec(text(), 5..7)
                .prop_map(|s| json!(s))
                .boxed(),
        ),
        opt("logprobs", boolean(), string()),
        opt(
            "top_logprobs",
            whole(0, 20),
            prop_oneof![whole(21, 30), whole(-2, -1)].boxed(),
        ),
        opt("user", string(), number()),
        opt("models", words(), Just(json!(["a", " "])).boxed()),
        opt("provider", provider(), json_value()),
        opt("transforms", words(), Just(json!([""])).boxed()),
        opt("reasoning", reasoning(), json_value()),
        opt("extra", extra(), prop_oneof![number(), strings()].boxed()),
        member("temprature", 0.02, ranged(0.0, 2.0), ranged(0.0, 2.0)),
    ]
}

fn tool_call() -> BoxedStrategy<Value> {
    object_of(vec![
        member(
            "id",
            0.9,
            nonblank().prop_map(Value::from).boxed(),
            number(),
        ),
        member("type", 0.5, one_of(&["function"]), string()),
        member(
            "name",
            0.9,
            nonblank().prop_map(Value::from).boxed(),
            number(),
        ),
        member(
            "arguments",
            0.9,
            prop_oneof![one_of(&["{}", "{\"city\":\"Paris\"}"]), json_object()].boxed(),
            number(),
        ),
    ])
}

fn content_parts() -> BoxedStrategy<Value> {
    prop::collection::vec(
        prop_oneof![
            nonblank().prop_map(|text| json!({"type": "text", "text": text})),
            Just(json!({"type": "image_url", "image_url": {"url": "https://example.com/a.png"}})),
        ],
        1..3,
    )
    .prop_map(Value::Array)
    .boxed()
}

/// An earlier turn: valid ones of each role, and now and then anything shaped like one.
fn message() -> BoxedStrategy<Value> {
    let content = || prop_oneof![3 => string(), 1 => content_parts()];
    let anything = object_of(vec![
        member(
            "role",
            0.9,
            one_of(&["user", "system", "assistant", "tool"]),
            one_of(&["bot"]),
        ),
        member("content", 0.7, content().boxed(), json_value()),
        opt(
            "tool_calls",
            prop::collection::vec(tool_call(), 0..3)
                .prop_map(Value::Array)
                .boxed(),
            json_value(),
        ),
        opt("tool_call_id", string(), number()),
        opt("name", string(), number()),
    ]);
    prop_oneof![
        3 => (one_of(&["user", "system", "assistant"]), content())
            .prop_map(|(role, content)| json!({"role": role, "content": content})),
        1 => (nonblank(), string())
            .prop_map(|(id, content)| json!({"role": "tool", "tool_call_id": id, "content": content})),
        1 => prop::collection::vec(tool_call(), 1..3)
            .prop_map(|calls| json!({"role": "assistant", "tool_calls": calls})),
        1 => anything,
    ]
    .boxed()
}

fn tool() -> BoxedStrategy<Value> {
    let flat = object_of(vec![
        member(
            "name",
            0.95,
            "[A-Za-z0-9_-]{1,64}".prop_map(Value::from).boxed(),
            prop_oneof!["[A-Za-z0-9_-]{65,70}".prop_map(Value::from), string()].boxed(),
        ),
        opt("description", string(), number()),
        opt("parameters", json_object(), json_value()),
        opt("strict", boolean(), string()),
    ]);
    prop_oneof![
        3 => flat.clone(),
        1 => flat.prop_map(|function| json!({"type": "function", "function": function})),
    ]
    .boxed()
}

fn json_schema() -> BoxedStrategy<Value> {
    object_of(vec![
        member(
            "name",
            0.95,
            nonblank().prop_map(Value::from).boxed(),
            one_of(&[" ", ""]),
        ),
        member(
            "schema",
            0.95,
            prop_oneof![
                json_object(),
                json_object().prop_map(|v| Value::String(v.to_string()))
            ]
            .boxed(),
            prop_oneof![
                string(),
                json_value().prop_map(|v| Value::String(v.to_string()))
            ]
            .boxed(),
        ),
        opt("strict", boolean(), string()),
        opt("description", string(), number()),
    ])
}

/// A ChatCompletion body made of the contract's fields, mostly valid, with wrong values and
/// values of any type mixed in.
pub(super) fn chat_body() -> BoxedStrategy<Value> {
    let mut members = vec![
        member("content", 0.8, string(), number()),
        opt(
            "role",
            one_of(&["user", "system", "assistant"]),
            one_of(&["tool", "bot", "User"]),
        ),
        opt("system", string(), number()),
        opt(
            "messages",
            prop::collection::vec(message(), 0..4)
                .prop_map(Value::Array)
                .boxed(),
            json_value(),
        ),
        opt("image_url", string(), number()),
        opt(
            "response_format",
            prop_oneof![
                one_of(&["text", "json_object", "json_schema"]),
                Just(json!({"type": "json_object"})),
            ]
            .boxed(),
            prop_oneof![one_of(&["xml", "JSON"]), number()].boxed(),
        ),
        opt("json_schema", json_schema(), json_value()),
        opt(
            "tools",
            prop::collection::vec(tool(), 0..3)
                .prop_map(Value::Array)
                .boxed(),
            json_value(),
        ),
        opt(
            "tool_choice",
            prop_oneof![
                one_of(&["none", "auto", "required", "get_weather"]),
                Just(json!({"type": "function", "function": {"name": "f"}})),
            ]
            .boxed(),
            prop_oneof![one_of(&[" "]), number()].boxed(),
        ),
        opt("parallel_tool_calls", boolean(), string()),
        opt("web_search", boolean(), string()),
    ];
    members.extend(option_fields());
    object_of(members)
}

/// A Completion body made of the contract's fields, mostly valid, with wrong values and values
/// of any type mixed in.
pub(super) fn completion_body() -> BoxedStrategy<Value> {
    let mut members = vec![member(
        "prompt",
        0.95,
        nonblank().prop_map(Value::from).boxed(),
        prop_oneof![one_of(&[" ", "\n"]), number()].boxed(),
    )];
    members.extend(option_fields());
    object_of(members)
}

/// Bodies that are not near-valid: arbitrary bytes, arbitrary JSON, very deep JSON.
pub(super) fn any_body() -> BoxedStrategy<Bytes> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from),
        json_value().prop_map(|v| Bytes::from(v.to_string())),
        json_object().prop_map(|v| Bytes::from(v.to_string())),
        (1usize..3000, prop::bool::ANY).prop_map(|(depth, arrays)| {
            let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
            Bytes::from(format!("{}1{}", open.repeat(depth), close.repeat(depth)))
        }),
    ]
    .boxed()
}
