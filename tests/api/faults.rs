//! Upstream faults: for each, what the caller gets (status and message, within the deadline),
//! whether the call was retried, and that the service stays healthy for the next call.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{TestApp, assert_error, read, spawn_app, spawn_app_with};
use openrouter_simulator::Reply;

const CHAT: &str = "/connector/v1/chat/completions";
const MODELS: &str = "/connector/v1/models";

/// The service still answers health and a normal call after a fault.
async fn still_healthy(app: &TestApp) {
    assert_eq!(
        app.http
            .get(app.url("/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, body) = read(app.post(CHAT, &json!({"content": "after the fault"})).await).await;
    assert_eq!(status, 200, "the next call succeeds: {body}");
}

#[tokio::test]
async fn an_upstream_500_on_a_generation_is_a_502_and_is_not_retried() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::error(500, "Internal Server Error"),
    );

    let (status, body) = read(app.post(CHAT, &json!({"content": "x"})).await).await;

    assert!(assert_error(status, &body, 502).contains("Internal Server Error"));
    assert_eq!(
        app.sim.request_count(),
        1,
        "a POST that reached upstream is never sent twice"
    );
    still_healthy(&app).await;
}

#[tokio::test]
async fn an_upstream_502_on_a_get_is_retried_and_a_lasting_one_is_a_502() {
    let app = spawn_app().await;
    app.sim
        .enqueue("GET", "/models", Reply::error(502, "Bad gateway"));

    let (status, _) = read(app.get(MODELS).await).await;
    assert_eq!(status, 200, "one 502 then success");
    assert_eq!(app.sim.request_count(), 2);

    app.enqueue_every_attempt("GET", "/models", Reply::error(502, "Bad gateway"));
    let (status, body) = read(app.get(MODELS).await).await;
    assert!(assert_error(status, &body, 502).contains("Bad gateway"));
    assert_eq!(
        app.sim.request_count(),
        5,
        "three attempts for the lasting one"
    );
    still_healthy(&app).await;
}

#[tokio::test]
async fn an_upstream_503_with_a_short_retry_after_is_waited_out_on_a_get() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/models",
        Reply::error(503, "Overloaded").with_header("Retry-After", "1"),
    );
    let started = Instant::now();

    let (status, _) = read(app.get(MODELS).await).await;

    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "it waited the stated second"
    );
    assert_eq!(app.sim.request_count(), 2);
}

#[tokio::test]
async fn an_upstream_503_with_a_long_retry_after_is_passed_on_at_once() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/models",
        Reply::error(503, "Down for maintenance").with_header("Retry-After", "120"),
    );

    let (status, body) = read(app.get(MODELS).await).await;

    assert!(assert_error(status, &body, 502).contains("Down for maintenance"));
    assert_eq!(app.sim.request_count(), 1);
}

#[tokio::test]
async fn an_upstream_503_on_a_generation_is_a_502_and_is_not_retried() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::error(503, "Overloaded").with_header("Retry-After", "1"),
    );

    let (status, body) = read(app.post(CHAT, &json!({"content": "x"})).await).await;

    assert_error(status, &body, 502);
    assert_eq!(app.sim.request_count(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_post_then_a_502() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = spawn_app_with(|s| {
        s.openrouter_base_url = format!("http://{closed}/api/v1").parse().unwrap()
    })
    .await;
    let started = Instant::now();

    let (status, body) = read(app.post(CHAT, &json!({"content": "x"})).await).await;

    assert!(assert_error(status, &body, 502).contains("Could not connect"));
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "two backoffs were waited"
    );
    assert_eq!(
        app.http
            .get(app.url("/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_reset_mid_body_is_a_502_sent_once() {
    let app = spawn_app().await;
    let body = json!({"id": "gen-1", "choices": [], "pad": "x".repeat(4096)});
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(200, body).reset_after(512),
    );

    let (status, body) = read(app.post(CHAT, &json!({"content": "x"})).await).await;

    assert!(assert_error(status, &body, 502).contains("broke"));
    assert_eq!(app.sim.request_count(), 1);
    still_healthy(&app).await;
}

#[tokio::test]
async fn a_hang_and_a_slow_drip_both_end_with_a_504_at_the_deadline() {
    let app = spawn_app_with(|s| s.upstream_timeout = std::time::Duration::from_secs(1)).await;
    app.sim.enqueue("POST", "/chat/completions", Reply::hang());
    let drip = json!({"id": "gen-1", "choices": [{"message": {"content": "slow"}}]});
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(200, drip).drip(Duration::from_millis(50)),
    );

    for fault in ["hang", "drip"] {
        let started = Instant::now();
        let (status, body) = read(app.post(CHAT, &json!({"content": "x"})).await).await;
        assert!(
            assert_error(status, &body, 504).contains("did not answer"),
            "{fault}"
        );
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(4),
            "{fault}: {took:?}"
        );
    }
    still_healthy(&app).await;
}

#[tokio::test]
async fn a_body_that_is_not_json_or_is_truncated_is_a_502() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::raw(200, "text/html", "<html>upstream error page</html>"),
    );
    let whole = json!({"id": "gen-1", "choices": [{"message": {"content": "x".repeat(1000)}}]});
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(200, whole).truncate_after(300),
    );

    for fault in ["not JSON", "truncated"] {
        let (status, body) = read(app.post(CHAT, &json!({"content": "x"})).await).await;
        assert_error(status, &body, 502);
        let _ = fault;
    }
    still_healthy(&app).await;
}

#[tokio::test]
async fn an_enormous_body_is_refused_with_a_502_not_buffered_without_bound() {
    let app = spawn_app().await;
    let enormous = vec![b' '; openrouter_connector::openrouter::MAX_UPSTREAM_BODY_BYTES + 1024];
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::raw(200, "application/json", enormous),
    );

    let (status, body) = read(app.post(CHAT, &json!({"content": "x"})).await).await;

    assert!(assert_error(status, &body, 502).contains("larger than"));
    still_healthy(&app).await;
}

#[tokio::test]
async fn an_enormous_declared_length_is_refused_at_once_not_waited_for() {
    let app = spawn_app().await;
    // The head promises a petabyte; one byte follows, then nothing.
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::raw(200, "application/json", "{").with_header("Content-Length", "1000000000000000"),
    );

    let started = Instant::now();
    let (status, body) = read(app.post(CHAT, &json!({"content": "x"})).await).await;

    assert!(assert_error(status, &body, 502).contains("larger than"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    still_healthy(&app).await;
}

#[tokio::test]
async fn a_generation_record_not_written_yet_is_waited_for() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/generation",
        Reply::error(404, "Generation not found"),
    );

    let (status, body) = read(app.get("/connector/v1/generation?id=gen-1").await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(app.sim.request_count(), 2);
}

#[tokio::test]
async fn calls_beyond_max_concurrent_upstream_get_a_503_with_retry_after() {
    let app = spawn_app_with(|s| s.max_concurrent_upstream = 1).await;
    app.sim.enqueue("POST", "/chat/completions", Reply::hang());
    let held = app
        .http
        .post(app.url(CHAT))
        .bearer_auth(crate::helpers::KEY)
        .json(&json!({"content": "holds the only slot"}))
        .send();
    let first = tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(4), held).await;
    });
    assert!(app.sim.wait_for_requests(1, Duration::from_secs(5)).await);

    let response = app.post(CHAT, &json!({"content": "x"})).await;

    assert_eq!(response.headers()["retry-after"], "1");
    let (status, body) = read(response).await;
    assert_error(status, &body, 503);
    first.abort();
}
