//! What the tests of the fast readers share: upstream answers made from bytes, the captures, the
//! simulator's catalogue, upstream answers mutated at random, and a stopwatch.

#[cfg(feature = "timings")]
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::openrouter::Upstream;

/// An upstream answer with no headers.
pub fn answer(status: u16, body: &[u8]) -> Upstream {
    Upstream {
        status: reqwest::StatusCode::from_u16(status).unwrap(),
        headers: HeaderMap::new(),
        body: body.to_vec().into(),
    }
}

/// What a caller would see of a read: the flat text, or the error's status, `Retry-After` and
/// body.
pub fn seen(read: Result<Vec<u8>, ApiError>) -> String {
    use actix_web::ResponseError;
    match read {
        Ok(flat) => String::from_utf8(flat).unwrap(),
        Err(error) => {
            let response = error.error_response();
            format!(
                "{} {:?} {}",
                error.status_code(),
                response.headers().get("retry-after"),
                serde_json::to_string(&error.body()).unwrap()
            )
        }
    }
}

/// The bytes of a file of `tests/api/fixtures/openrouter-captures`.
pub fn capture(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/fixtures/openrouter-captures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("capture {} missing: {e}", full.display()))
}

/// The simulator's `GET /models` body with `count` models, as it sends it.
pub async fn simulator_models(count: usize) -> bytes::Bytes {
    let sim = openrouter_simulator::Simulator::start_with(openrouter_simulator::SimulatorOptions {
        model_count: count,
        ..Default::default()
    })
    .await
    .unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/models", sim.base_url()))
        .bearer_auth("sk-or-v1-fast-reader-tests")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap()
}

/// How long a piece of work took over several runs.
#[cfg(feature = "timings")]
pub struct Timing {
    /// The median run.
    pub median: Duration,
    /// The fastest run (the least disturbed by whatever else the machine does).
    pub fastest: Duration,
}

#[cfg(feature = "timings")]
impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "median {:?} (fastest {:?})", self.median, self.fastest)
    }
}

#[cfg(feature = "timings")]
/// The time of `runs` calls of `work`, after a few to warm up.
pub fn timed(runs: usize, mut work: impl FnMut()) -> Timing {
    for _ in 0..3 {
        work();
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    times.sort();
    Timing {
        median: times[runs / 2],
        fastest: times[0],
    }
}

/// Values a mutation puts in: every JSON type, `null`s inside, strings that need escapes,
/// numbers `serde_json` writes otherwise than they may be read.
fn leaf() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!(null),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(7),
        json!(1.5),
        json!(1000.0),
        json!(-0.0),
        json!(1e300),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(""),
        json!("text"),
        json!("é \u{1F600} \u{7f}"),
        json!("quote \" backslash \\ newline \n tab \t nul \u{0}"),
        json!([]),
        json!([null]),
        json!([null, "x", null]),
        json!(["x", 1]),
        json!({}),
        json!({"a": null}),
        json!({"a": {"b": null, "c": [null, 1, {"d": null}]}, "e": "f"}),
        json!([{"type": "text", "text": "part"}, {"type": "image_url"}]),
        json!([{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]),
        json!({"name": "f", "arguments": {"x": 1, "y": null}}),
    ])
}

fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// The `n`-th node of `value`, in document order.
fn nth<'v>(value: &'v mut Value, n: &mut usize) -> Option<&'v mut Value> {
    if *n == 0 {
        return Some(value);
    }
    *n -= 1;
    match value {
        Value::Array(items) => items.iter_mut().find_map(|item| nth(item, n)),
        Value::Object(map) => map.values_mut().find_map(|item| nth(item, n)),
        _ => None,
    }
}

/// One change at one node.
fn edit(value: &mut Value, at: Index, kind: u8, leaf: Value, name: &str) {
    let mut n = at.index(count(value));
    let Some(node) = nth(value, &mut n) else {
        return;
    };
    match (kind, node) {
        (1, Value::Object(map)) => {
            map.insert(name.to_owned(), leaf);
        }
        (2, Value::Object(map)) => {
            let name = if map.contains_key(name) {
                Some(name.to_owned())
            } else {
                map.keys().next().cloned()
            };
            if let Some(name) = name {
                map.shift_remove(&name);
            }
        }
        // Moves a member to the end: upstream may write its members in any order.
        (3, Value::Object(map)) => {
            let name = map.keys().next().cloned();
            if let Some(name) = name
                && let Some(moved) = map.shift_remove(&name)
            {
                map.insert(name, moved);
            }
        }
        (4, Value::Array(items)) => items.push(leaf),
        (5, node) => *node = Value::Null,
        (_, node) => *node = leaf,
    }
}

/// `base` changed in one to four places (members added, removed, moved, replaced by values of
/// every type, `null`ed), written compact or pretty.
pub fn mutated(base: Value, names: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    let edits = prop::collection::vec(
        (
            any::<Index>(),
            0u8..7,
            leaf(),
            prop::sample::select(names.to_vec()),
        ),
        1..5,
    );
    (edits, any::<bool>())
        .prop_map(move |(edits, pretty)| {
            let mut value = base.clone();
            for (at, kind, leaf, name) in edits {
                edit(&mut value, at, kind, leaf, name);
            }
            if pretty {
                serde_json::to_vec_pretty(&value).unwrap()
            } else {
                serde_json::to_vec(&value).unwrap()
            }
        })
        .boxed()
}

/// The proptest settings: `PROPTEST_CASES` overrides `cases`; nothing is written to disk.
pub fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Pieces of JSON text a byte-level mutation puts in: every structural byte, blanks JSON allows
/// and some it does not, control characters, bytes that are not UTF-8, escapes (a lone
/// surrogate among them), numbers `serde_json` refuses or writes otherwise.
const PIECES: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"0",
    b"1",
    b"-",
    b"+",
    b".",
    b"e",
    b"E",
    b" ",
    b"\t",
    b"\n",
    b"\r",
    b"\x0b",
    b"\x00",
    b"\x01",
    b"\x1f",
    b"\x7f",
    b"\xff",
    b"\xc3",
    b"\xc3\xa9",
    b"u",
    b"n",
    b"t",
    b"/",
    b"\\u0061",
    b"\\u00e9",
    b"\\ud800",
    b"\\ud83d\\ude00",
    b"\\n",
    b"\\\"",
    b"\\x",
    b"1e400",
    b"-0",
    b"00",
    b"1.",
    b".5",
    b"01",
    b"1e",
    b"-",
    b"null",
    b"true",
    b"nul",
    b"\"data\"",
    b"\"id\":\"x\",",
    b"\"id\"",
    b"\xef\xbb\xbf",
];

/// One change of the text at one place.
fn splice(text: &mut Vec<u8>, at: Index, kind: u8, piece: &[u8], length: usize) {
    let at = at.index(text.len() + 1);
    let end = at.saturating_add(length).min(text.len());
    match kind {
        0 | 4 => {
            text.splice(at..at, piece.iter().copied());
        }
        1 | 5 => {
            text.splice(at..end, piece.iter().copied());
        }
        2 | 6 => {
            text.drain(at..end);
        }
        _ => text.truncate(at),
    }
}

/// `base` written compact or pretty, then changed byte by byte in one to three places: most
/// such texts are not JSON, or not what they were.
pub fn spliced(base: Value) -> BoxedStrategy<Vec<u8>> {
    let edits = prop::collection::vec(
        (
            any::<Index>(),
            0u8..7,
            prop::sample::select(PIECES.to_vec()),
            1usize..4,
        ),
        1..4,
    );
    (edits, any::<bool>())
        .prop_map(move |(edits, pretty)| {
            let mut text = if pretty {
                serde_json::to_vec_pretty(&base).unwrap()
            } else {
                serde_json::to_vec(&base).unwrap()
            };
            for (at, kind, piece, length) in edits {
                splice(&mut text, at, kind, piece, length);
            }
            text
        })
        .boxed()
}
