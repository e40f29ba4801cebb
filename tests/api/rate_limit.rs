//! The per-connection limit of contract section 3 in process; over a real Redis, and on two
//! replicas behind nginx, in the `infra` test target (`tests/infra/rate_limit.rs`).

use std::time::Instant;

use crate::helpers::{KEY, spawn_app_with};
use serde_json::json;

#[path = "../infra/shared/rate_limit.rs"]
mod scenarios;
use scenarios::{
    a_call_after_the_stated_retry_after_succeeds, burst, call,
    calls_without_a_key_are_not_counted_but_bad_bodies_are, exactly_the_burst_is_admitted, slow,
};

#[tokio::test]
async fn in_process_a_burst_of_150_admits_exactly_the_burst() {
    exactly_the_burst_is_admitted(spawn_app_with(slow(100)).await).await;
}

#[tokio::test]
async fn in_process_a_call_after_the_stated_retry_after_succeeds() {
    let app = spawn_app_with(|s| {
        s.rate_limit_per_minute = 60;
        s.rate_limit_burst = 2;
    })
    .await;
    a_call_after_the_stated_retry_after_succeeds(app).await;
}

#[tokio::test]
async fn in_process_calls_without_a_key_are_not_counted() {
    calls_without_a_key_are_not_counted_but_bad_bodies_are(spawn_app_with(slow(2)).await).await;
}

#[tokio::test]
async fn a_body_over_the_limit_does_not_count() {
    let app = spawn_app_with(|s| {
        slow(1)(s);
        s.max_body_bytes = 100;
    })
    .await;
    let big = app
        .post(
            "/connector/v1/chat/completions",
            &json!({"content": "x".repeat(200)}),
        )
        .await;
    assert_eq!(big.status(), 413);
    assert_eq!(call(&app, KEY).await.status(), 200);
}

#[tokio::test]
async fn the_published_default_admits_100_at_once_then_one_every_600_ms() {
    let app = spawn_app_with(|_| {}).await;
    let started = Instant::now();

    let (admitted, refused) = burst(&app, KEY, 150).await;

    // Calls that arrive while the burst is sent may find a call replenished (one per 600 ms).
    let replenished = started.elapsed().as_millis() as usize / 600;
    assert!(
        (100..=100 + replenished).contains(&admitted),
        "{admitted} admitted in {:?}",
        started.elapsed()
    );
    assert!(
        refused.iter().all(|r| r.headers()["retry-after"] == "1"),
        "600 ms round up to 1 s"
    );
    assert!(
        refused
            .iter()
            .all(|r| r.headers()["x-ratelimit-limit"] == "100")
    );
}
