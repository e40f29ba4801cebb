//! Upstream answers that once bent or broke the service: an absurd `Retry-After`, a `200` of
//! the wrong shape, ambiguous framing, a `101`, a fallback that took a second deadline, and
//! waits upstream named that never reached the caller.

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use super::RawUpstream;
use crate::helpers::{TestApp, assert_error, read, spawn_app, spawn_app_with};
use openrouter_simulator::Reply;

const CHAT: &str = "/connector/v1/chat/completions";

async fn alive(app: &TestApp) {
    let live = app.http.get(app.url("/health/live")).send().await.unwrap();
    assert_eq!(live.status(), 200, "the service still answers");
}

#[tokio::test]
async fn a_retry_after_too_large_for_a_duration_is_a_502_not_a_dead_process() {
    let app = spawn_app().await;
    for value in ["1e20", "18446744073709551616", "99999999999999999999999"] {
        app.enqueue_every_attempt(
            "GET",
            "/models",
            Reply::error(503, "Overloaded").with_header("Retry-After", value),
        );
        let response = app.get("/connector/v1/models").await;
        let retry_after = response.headers().get("retry-after").cloned();
        let (status, body) = read(response).await;
        assert!(
            assert_error(status, &body, 502).contains("Overloaded"),
            "{value}"
        );
        assert_eq!(
            retry_after.unwrap(),
            "86400",
            "{value}: the wait is passed on, capped at a day"
        );
        app.sim.clear_requests();
    }
    alive(&app).await;
}

#[tokio::test]
async fn a_200_of_the_wrong_shape_is_a_502_never_a_success_of_made_up_values() {
    let app = spawn_app().await;
    let cases = [
        ("POST", "/chat/completions", CHAT, json!([])),
        ("POST", "/chat/completions", CHAT, json!(null)),
        ("POST", "/chat/completions", CHAT, json!({})),
        ("POST", "/chat/completions", CHAT, json!({"choices": null})),
        ("POST", "/chat/completions", CHAT, json!({"choices": [{}]})),
        (
            "POST",
            "/completions",
            "/connector/v1/completions",
            json!({"id": "x"}),
        ),
        ("GET", "/credits", "/connector/v1/credits", json!({})),
        (
            "GET",
            "/credits",
            "/connector/v1/credits",
            json!({"data": {}}),
        ),
        (
            "GET",
            "/models",
            "/connector/v1/models",
            json!({"data": null}),
        ),
        ("GET", "/models", "/connector/v1/models", json!([1, 2, 3])),
        (
            "GET",
            "/models/openai/gpt-4o-mini/endpoints",
            "/connector/v1/models/openai/gpt-4o-mini/endpoints",
            json!({"data": "x"}),
        ),
        (
            "GET",
            "/generation",
            "/connector/v1/generation?id=gen-1",
            json!({}),
        ),
        // Found by the red team: values made up from the wrong types inside a usable envelope.
        (
            "POST",
            "/chat/completions",
            CHAT,
            json!({"choices": [{"message": {"content": 5}}]}),
        ),
        (
            "POST",
            "/chat/completions",
            CHAT,
            json!({"choices": [{"message": {"tool_calls": [1, null, "x"]}}]}),
        ),
        (
            "POST",
            "/chat/completions",
            CHAT,
            json!({"choices": [{"message": {"content": "ok"}}, null, 5]}),
        ),
        (
            "GET",
            "/models",
            "/connector/v1/models",
            json!({"data": [{}]}),
        ),
        (
            "POST",
            "/chat/completions",
            CHAT,
            json!({"choices": [{"message": {"content": [1, null]}}]}),
        ),
        (
            "POST",
            "/chat/completions",
            CHAT,
            json!({"choices": [{"message": {"tool_calls": [{"id": "1", "function": 5}]}}]}),
        ),
        (
            "GET",
            "/models/openai/gpt-4o-mini/endpoints",
            "/connector/v1/models/openai/gpt-4o-mini/endpoints",
            json!({"data": {"total_credits": 1, "total_usage": 0}}),
        ),
        (
            "GET",
            "/generation",
            "/connector/v1/generation?id=gen-1",
            json!({"data": {}}),
        ),
    ];
    for (method, upstream, ours, body) in cases {
        app.enqueue_every_attempt(method, upstream, Reply::json(200, body.clone()));
        let response = if method == "POST" {
            let input = if ours == CHAT {
                json!({"content": "hi"})
            } else {
                json!({"prompt": "hi"})
            };
            app.post(ours, &input).await
        } else {
            app.get(ours).await
        };
        let (status, answer) = read(response).await;
        let message = assert_error(status, &answer, 502);
        assert!(message.contains("without"), "{ours} {body}: {message}");
        app.sim.clear_requests();
    }
    alive(&app).await;
}

#[tokio::test]
async fn a_pass_through_answer_with_both_content_length_and_chunking_is_a_502() {
    let upstream = RawUpstream::answering(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\
          Transfer-Encoding: chunked\r\n\r\n11\r\n{\"data\":[1,2,3]}\r\n0\r\n\r\n",
    )
    .await;
    let url = upstream.base_url.clone();
    let app = spawn_app_with(|s| s.openrouter_base_url = url.parse().unwrap()).await;
    let response = app.get("/api/v1/models").await;
    let (status, body) = read(response).await;
    let message = assert_error(status, &body, 502);
    assert!(message.contains("Content-Length"), "{message}");
    assert_eq!(upstream.request_count(), 1);
}

#[tokio::test]
async fn a_101_from_upstream_without_an_upgrade_asked_is_a_502() {
    let upstream =
        RawUpstream::answering(b"HTTP/1.1 101 Switching Protocols\r\nConnection: close\r\n\r\n")
            .await;
    let url = upstream.base_url.clone();
    let app = spawn_app_with(|s| s.openrouter_base_url = url.parse().unwrap()).await;
    let (status, body) = read(app.get("/api/v1/models").await).await;
    assert_error(status, &body, 502);
    alive(&app).await;
}

#[tokio::test]
async fn a_pass_through_body_shorter_than_its_content_length_is_cut_not_passed_as_whole() {
    let upstream = RawUpstream::answering(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"d",
    )
    .await;
    let url = upstream.base_url.clone();
    let app = spawn_app_with(|s| s.openrouter_base_url = url.parse().unwrap()).await;
    let response = app.get("/api/v1/models").await;
    if response.status() == 200 {
        assert!(
            response.bytes().await.is_err(),
            "a 200 whose body is cut must end in an error, not look complete"
        );
    } else {
        let (status, body) = read(response).await;
        assert_error(status, &body, 502);
    }
}

#[tokio::test]
async fn completion_s_fallback_gets_what_is_left_of_one_deadline_not_a_second_one() {
    let app = spawn_app_with(|s| s.upstream_timeout = Duration::from_millis(1500)).await;
    app.sim.enqueue(
        "POST",
        "/completions",
        Reply::raw(404, "text/plain", "Not Found").delay(Duration::from_millis(1000)),
    );
    app.sim.enqueue("POST", "/chat/completions", Reply::hang());
    let started = Instant::now();
    let (status, body) = read(
        app.post("/connector/v1/completions", &json!({"prompt": "hi"}))
            .await,
    )
    .await;
    let took = started.elapsed();
    assert_error(status, &body, 504);
    assert!(
        took < Duration::from_millis(2200),
        "one deadline of 1.5 s across both calls, not 1 s + 1.5 s: took {took:?}"
    );
    assert_eq!(app.sim.request_count(), 2, "the fallback was asked");
}

#[tokio::test]
async fn a_wait_upstream_named_on_a_5xx_or_a_429_reaches_the_caller() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::error(503, "Overloaded").with_header("Retry-After", "60"),
    );
    let response = app.post(CHAT, &json!({"content": "hi"})).await;
    assert_eq!(response.headers()["retry-after"], "60");
    let (status, body) = read(response).await;
    assert_error(status, &body, 502);

    let in_two_minutes = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::error(429, "Slow down").with_header("Retry-After", &in_two_minutes),
    );
    let response = app.post(CHAT, &json!({"content": "hi"})).await;
    let seconds: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (110..=121).contains(&seconds),
        "an HTTP date is a wait from now: {seconds}"
    );
    assert_error(response.status(), &read(response).await.1, 429);

    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(
            429,
            json!({"error": {"code": 429, "message": "m", "metadata": {"retry_after_seconds": -5}}}),
        ),
    );
    let response = app.post(CHAT, &json!({"content": "hi"})).await;
    assert_eq!(response.status(), 429);
    assert_eq!(
        response.headers()["retry-after"],
        "1",
        "a 429 always says when to come back, at least 1 s"
    );
}

#[tokio::test]
async fn an_empty_upstream_error_on_the_pass_through_is_handed_on_unchanged_not_reshaped() {
    let app = spawn_app().await;
    app.sim
        .enqueue("GET", "/models", Reply::raw(404, "text/plain", ""));
    let response = app.get("/api/v1/models").await;
    assert_eq!(response.status(), 404);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "upstream's empty body, as it came"
    );
}
