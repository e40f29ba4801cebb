//! Submitting and polling long generations, for the job tests in process (`tests/api/jobs.rs`)
//! and over a real Redis (`tests/infra/jobs.rs`): one file, included by both test targets.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use openrouter_simulator::Reply;

pub const CHAT: &str = "/connector/v1/chat/completions";

pub fn slow_answer(after: Duration) -> Reply {
    Reply::json(200, json!({"id": "gen-slow", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "a long answer"}, "finish_reason": "stop"}]}))
        .delay(after)
}

pub async fn submit(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    http.post(format!("{base}{path}"))
        .bearer_auth(key)
        .header("Prefer", "respond-async")
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn poll_until_done(http: &reqwest::Client, location: &str) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = http.get(location).send().await.unwrap();
        if response.status() != 202 {
            return response;
        }
        assert!(response.headers().contains_key("retry-after"));
        assert!(Instant::now() < deadline, "the job never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
