//! `spawn_app()`: the service on port 0 against a simulator on port 0, and small helpers to call
//! it and read what reached upstream.

use std::path::PathBuf;

use openrouter_connector::settings::{LogFormat, Settings};
use openrouter_connector::startup::Application;
use openrouter_simulator::{RecordedRequest, Reply, Simulator};
use reqwest::StatusCode;
use serde_json::Value;

/// The key tests call with.
pub const KEY: &str = "sk-or-v1-test0123456789abcdef";

/// A running service and the simulator behind it.
pub struct TestApp {
    pub address: String,
    pub sim: Simulator,
    pub http: reqwest::Client,
}

/// Starts the service with default settings in front of a fresh simulator.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the service with settings changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        openrouter_connector::telemetry::init(LogFormat::Pretty, "debug");
    }
    let sim = Simulator::start().await.expect("simulator starts");
    let mut settings =
        Settings::for_upstream(&sim.base_url()).expect("the simulator has a base URL");
    settings.workers = Some(1);
    configure(&mut settings);
    let app = Application::build(&settings).await.expect("service builds");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp { address, sim, http }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// POSTs JSON with the test key as a Bearer token.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(KEY)
            .json(body)
            .send()
            .await
            .expect("the service answers")
    }

    /// GETs with the test key as a Bearer token.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("the service answers")
    }

    /// Queues `reply` for the first attempt and for each retry an idempotent GET may make, so
    /// the caller sees it whatever the retry policy.
    pub fn enqueue_every_attempt(&self, method: &str, path: &str, reply: Reply) {
        for _ in 0..3 {
            self.sim.enqueue(method, path, reply.clone());
        }
    }

    /// The one request upstream received; fails when there was not exactly one.
    pub fn only_upstream_request(&self) -> RecordedRequest {
        let requests = self.sim.requests();
        assert_eq!(requests.len(), 1, "upstream requests: {requests:#?}");
        requests.into_iter().next().unwrap()
    }
}

/// The status and JSON body of a response.
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("a body");
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

/// Asserts the contract's error shape with this status, and returns the message.
pub fn assert_error(status: StatusCode, body: &Value, expected: u16) -> String {
    assert_eq!(status.as_u16(), expected, "{body}");
    assert_eq!(body["error"]["code"], expected, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "an error needs a message: {body}");
    message.to_owned()
}

/// Whether `ours` passes on `upstream`'s error message: word for word, except a `401`, whose
/// message keeps upstream's words and says what to do about the key.
pub fn passes_on_message(status: u16, upstream: &str, ours: &str) -> bool {
    if status == 401 {
        ours.contains(&format!("({})", upstream.trim_end_matches('.')))
            && ours.contains("Check the connection's key")
    } else {
        ours == upstream
    }
}

/// Asserts that no `null` appears anywhere in a value.
pub fn assert_no_nulls(value: &Value) {
    match value {
        Value::Null => panic!("a null in a flat response"),
        Value::Array(items) => items.iter().for_each(assert_no_nulls),
        Value::Object(map) => map.values().for_each(assert_no_nulls),
        _ => {}
    }
}

/// The fixtures the tests replay or compare against (see `tests/api/fixtures/README.md`).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures")
}

/// The folder of real OpenRouter captures and the spec's examples, kept as test fixtures.
pub fn captures_dir() -> PathBuf {
    fixtures_dir().join("openrouter-captures")
}

/// The bytes of one capture file.
pub fn capture(path: &str) -> Vec<u8> {
    let full = captures_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("capture {} missing: {e}", full.display()))
}

/// One capture file as JSON.
pub fn capture_json(path: &str) -> Value {
    serde_json::from_slice(&capture(path)).unwrap()
}
