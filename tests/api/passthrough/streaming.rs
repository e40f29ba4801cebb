//! Streams through the pass-through: real SSE captures replayed byte for byte, the first event
//! before upstream sends the rest, a caller that goes away cancelling upstream, and stalled
//! answers ended by the idle timeout.

use std::time::Duration;

use bytes::Bytes;
use openrouter_simulator::{Gate, Reply};
use serde_json::Value;

use super::{MINIMAX_STREAM, PATIENCE, XAI_STREAM, post_chat, rest_of, within};
use crate::helpers::{capture, spawn_app, spawn_app_with};

#[tokio::test]
async fn streamed_chats_replay_the_real_captures_byte_for_byte() {
    let app = spawn_app().await;
    for file in [XAI_STREAM, MINIMAX_STREAM] {
        let events = capture(file);
        app.sim
            .enqueue("POST", "/chat/completions", Reply::sse(events.clone()));
        let mut response = post_chat(&app).await;
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-cache");
        assert!(!response.headers().contains_key("content-length"));
        assert_eq!(rest_of(&mut response).await, events, "{file}");
    }
}

#[tokio::test]
async fn the_first_event_arrives_while_upstream_still_holds_back_the_rest() {
    let app = spawn_app().await;
    let events = capture(XAI_STREAM);
    let gate = Gate::new();
    let reply = Reply::sse(events.clone()).hold_after_first_chunk(gate.clone());
    app.sim.enqueue("POST", "/chat/completions", reply);

    let mut response = post_chat(&app).await;
    let first = within(response.chunk())
        .await
        .unwrap()
        .expect("a first chunk");

    assert!(!gate.is_open());
    assert_eq!(first, Bytes::from_static(b": OPENROUTER PROCESSING\n\n"));
    gate.open();
    let mut all = first.to_vec();
    all.extend(rest_of(&mut response).await);
    assert_eq!(all, events);
}

#[tokio::test]
async fn a_caller_that_goes_away_mid_stream_cancels_the_upstream_request() {
    let app = spawn_app().await;
    let events = ": OPENROUTER PROCESSING\n\n".repeat(400);
    let reply = Reply::sse(events).chunk_delay(Duration::from_millis(20));
    app.sim.enqueue("POST", "/chat/completions", reply);

    let mut response = post_chat(&app).await;
    within(response.chunk())
        .await
        .unwrap()
        .expect("a first chunk");
    drop(response);

    assert!(app.sim.wait_for_disconnects(1, PATIENCE).await);
}

#[tokio::test]
async fn a_caller_that_goes_away_while_upstream_is_silent_cancels_the_upstream_request() {
    let app = spawn_app().await;
    let gate = Gate::new();
    let reply = Reply::sse(capture(XAI_STREAM)).hold_after_first_chunk(gate.clone());
    app.sim.enqueue("POST", "/chat/completions", reply);

    let mut response = post_chat(&app).await;
    within(response.chunk())
        .await
        .unwrap()
        .expect("a first chunk");
    drop(response);

    assert!(app.sim.wait_for_disconnects(1, PATIENCE).await);
    assert!(!gate.is_open());
}

#[tokio::test]
async fn a_stalled_stream_ends_with_an_sse_error_event_after_the_idle_timeout() {
    let app = spawn_app_with(|s| s.stream_idle_timeout = std::time::Duration::from_secs(1)).await;
    let gate = Gate::new();
    let reply =
        Reply::sse("data: {\"id\":\"gen-1\"}\n\ndata: [DONE]\n\n").hold_after_first_chunk(gate);
    app.sim.enqueue("POST", "/chat/completions", reply);

    let mut response = post_chat(&app).await;
    let body = String::from_utf8(rest_of(&mut response).await).unwrap();

    let last = body
        .strip_prefix("data: {\"id\":\"gen-1\"}\n\ndata: ")
        .expect(&body);
    let last = last.strip_suffix("\n\n").expect(&body);
    let event: Value = serde_json::from_str(last).unwrap();
    assert_eq!(event["error"]["code"], 504, "{event}");
    let message = event["error"]["message"].as_str().unwrap();
    assert!(message.contains("no data for 1 second,"), "{message}");
    assert_eq!(event["choices"][0]["finish_reason"], "error");
    assert!(app.sim.wait_for_disconnects(1, PATIENCE).await);
}

#[tokio::test]
async fn a_stalled_json_answer_is_cut_off_after_the_idle_timeout() {
    let app = spawn_app_with(|s| {
        s.stream_idle_timeout = std::time::Duration::from_secs(1);
        s.upstream_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let reply = Reply::raw(200, "application/json", "{\"data\": []}").drip(Duration::from_secs(30));
    app.sim.enqueue("GET", "/models", reply);

    let response = within(app.get("/api/v1/models")).await;

    assert_eq!(response.status(), 200);
    assert!(
        within(response.bytes()).await.is_err(),
        "a cut body is not a complete one"
    );
    assert!(app.sim.wait_for_disconnects(1, PATIENCE).await);
}
