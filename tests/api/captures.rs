//! Real OpenRouter captures and the spec's examples, served byte for byte by the simulator and
//! read back through the service: each comes out as the contract says (flat, no nulls, nothing
//! upstream said lost; errors with upstream's status and message, 5xx as 502), never a 500.
//! The four GET actions are in `captures/get_actions.rs`, chat and legacy completions in
//! `captures/completions.rs`; the captures are in `tests/api/fixtures/openrouter-captures/`.

mod completions;
mod get_actions;

use std::fs;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{capture, captures_dir, passes_on_message, read};
use crate::json_diff::{missing, null_paths, same};

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
        for path in null_paths(value) {
            self.0.push(format!("{file}: a null at {path}"));
        }
    }

    /// Records every non-null member of `expected` that `actual` lacks or holds differently.
    fn contains(&mut self, file: &str, actual: &Value, expected: &Value) {
        for line in missing(actual, expected) {
            self.0.push(format!("{file}: {line}"));
        }
    }

    fn assert_none(self) {
        assert!(self.0.is_empty(), "\n{}", self.0.join("\n"));
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
        findings.check(passes_on_message(status, message, ours), || {
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
