//! The rate-limit scenarios run both in process (`tests/api/rate_limit.rs`) and over a real
//! Redis (`tests/infra/rate_limit.rs`): one file, included by both test targets.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{KEY, TestApp, assert_error, read};
use openrouter_connector::settings::Settings;

pub const CREDITS: &str = "/connector/v1/credits";

/// A limit that does not refill during a test: exact counts.
pub fn slow(burst: u32) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.rate_limit_per_minute = 1;
        s.rate_limit_burst = burst;
    }
}

pub async fn call(app: &TestApp, key: &str) -> reqwest::Response {
    app.http
        .get(app.url(CREDITS))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

/// Sends `n` calls at once with one key; returns (admitted, refused responses' Retry-After).
pub async fn burst(app: &TestApp, key: &str, n: usize) -> (usize, Vec<reqwest::Response>) {
    let responses = join_all((0..n).map(|_| call(app, key))).await;
    let (admitted, refused): (Vec<_>, Vec<_>) =
        responses.into_iter().partition(|r| r.status() == 200);
    (admitted.len(), refused)
}

pub async fn exactly_the_burst_is_admitted(app: TestApp) {
    let (admitted, refused) = burst(&app, KEY, 150).await;

    assert_eq!(admitted, 100);
    assert_eq!(refused.len(), 50);
    for response in refused {
        assert_eq!(response.status(), 429);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert_eq!(response.headers()["x-ratelimit-limit"], "1");
        assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
        assert_eq!(
            response.headers()["x-ratelimit-reset"].to_str().unwrap(),
            retry_after.to_string()
        );
        let (status, body) = read(response).await;
        assert!(assert_error(status, &body, 429).contains("Wait"));
        assert_eq!(
            body["error"]["metadata"]["retry_after_seconds"],
            retry_after
        );
    }
    assert_eq!(
        app.sim.request_count(),
        100,
        "refused calls never reach upstream"
    );
    let (admitted, _) = burst(&app, "sk-or-v1-another-connection", 5).await;
    assert_eq!(admitted, 5, "a second key is unaffected");
}

pub async fn a_call_after_the_stated_retry_after_succeeds(app: TestApp) {
    assert_eq!(call(&app, KEY).await.status(), 200);
    assert_eq!(call(&app, KEY).await.status(), 200);
    let refused = call(&app, KEY).await;
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(wait, 1, "one call comes back every second at 60 per minute");

    tokio::time::sleep(Duration::from_secs(wait)).await;

    assert_eq!(call(&app, KEY).await.status(), 200);
}

pub async fn calls_without_a_key_are_not_counted_but_bad_bodies_are(app: TestApp) {
    for _ in 0..5 {
        assert_eq!(
            app.http
                .get(app.url(CREDITS))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    }
    let allowed = call(&app, KEY).await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["x-ratelimit-limit"], "1");
    assert_eq!(allowed.headers()["x-ratelimit-remaining"], "1");
    let bad = app
        .post("/connector/v1/chat/completions", &json!({"temprature": 1}))
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.headers()["x-ratelimit-remaining"], "0", "a 400 counts");
    assert_eq!(call(&app, KEY).await.status(), 429);
}
