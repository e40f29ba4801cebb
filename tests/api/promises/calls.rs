//! Calls that once held slots for nobody, logged what a caller typed, answered the service's
//! own errors without a body, forwarded `TRACE`, or read `" gen-1"` as `gen-1`.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{KEY, TestApp, assert_error, read, spawn_app_with};
use crate::logged::LoggedService;
use openrouter_simulator::{Reply, Simulator};

const CHAT: &str = "/connector/v1/chat/completions";

/// A Chat Completion that prefers the asynchronous pattern.
fn async_chat(app: &TestApp, content: &str) -> reqwest::RequestBuilder {
    app.http
        .post(app.url(CHAT))
        .bearer_auth(KEY)
        .header("Prefer", "respond-async")
        .json(&json!({"content": content}))
}

#[tokio::test]
async fn async_callers_who_leave_before_their_202_give_their_upstream_slots_back() {
    let app = spawn_app_with(|s| {
        s.max_concurrent_upstream = 3;
        s.async_after = Duration::from_secs(30);
    })
    .await;
    for _ in 0..3 {
        app.sim.enqueue("POST", "/chat/completions", Reply::hang());
    }
    let mut leaving = Vec::new();
    for _ in 0..3 {
        let call = async_chat(&app, "long")
            .timeout(Duration::from_millis(500))
            .send();
        leaving.push(tokio::spawn(call));
    }
    for call in leaving {
        assert!(
            call.await.unwrap().is_err(),
            "the caller gave up after 0.5 s"
        );
    }
    assert!(
        app.sim
            .wait_for_disconnects(3, Duration::from_secs(5))
            .await,
        "each generation was cancelled upstream"
    );
    let (status, body) = read(app.post(CHAT, &json!({"content": "next"})).await).await;
    assert_eq!(status, 200, "the slots were given back: {body}");
}

#[tokio::test]
async fn past_max_jobs_per_connection_an_async_call_is_a_429_before_any_upstream_call() {
    let app = spawn_app_with(|s| {
        s.max_jobs_per_connection = 2;
        s.async_after = Duration::from_millis(200);
    })
    .await;
    for _ in 0..2 {
        app.sim.enqueue(
            "POST",
            "/chat/completions",
            Reply::json(200, json!({"choices": [{"message": {"content": "x"}}]}))
                .delay(Duration::from_secs(3)),
        );
    }
    for _ in 0..2 {
        let accepted = async_chat(&app, "long").send().await.unwrap();
        assert_eq!(accepted.status(), 202);
    }
    let refused = async_chat(&app, "one too many").send().await.unwrap();
    assert!(refused.headers().contains_key("retry-after"));
    let (status, body) = read(refused).await;
    assert!(assert_error(status, &body, 429).contains("2 long generations"));
    assert_eq!(app.sim.request_count(), 2, "the third never went upstream");
    // A synchronous call of the same connection is not held back.
    let (status, _) = read(app.post(CHAT, &json!({"content": "sync"})).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn log_lines_name_fields_never_the_values_sent_and_never_an_echoed_key() {
    let sim = Simulator::start().await.unwrap();
    let service = LoggedService::start(sim.base_url(), "trace", "promises-log");
    let http = reqwest::Client::new();
    let url = format!("{}{CHAT}", service.base);
    let secret = "MY-CONFIDENTIAL-PROMPT-TEXT";
    for body in [
        json!({"content": "hi", "temperature": secret}),
        json!({"content": "hi", "role": secret}),
        json!({"content": "hi", "response_format": secret}),
        json!({"content": "hi", "messages": [{"role": secret, "content": "x"}]}),
        json!({"content": "hi", "MY CONFIDENTIAL FIELD": 1}),
        // A made-up name in letters and dashes is the caller's as much as a value is.
        json!({"content": "hi", "MY-CONFIDENTIAL-NAME": 1}),
    ] {
        let response = http
            .post(&url)
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
    }
    // Upstream echoes the key, plainly and hidden by JSON escapes, and quotes the prompt.
    let escaped: String = KEY
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    for body in [
        format!(
            r#"{{"error":{{"code":400,"message":"Bad key {KEY}","metadata":{{"raw":"{KEY}"}}}}}}"#
        ),
        format!(r#"{{"error":{{"code":401,"message":"Invalid key {escaped}"}}}}"#),
        format!(r#"{{"error":{{"code":403,"message":"Input flagged: {secret}"}}}}"#),
    ] {
        sim.enqueue(
            "POST",
            "/chat/completions",
            Reply::raw(400, "application/json", body.clone()),
        );
        let echoed = http
            .post(&url)
            .bearer_auth(KEY)
            .json(&json!({"content": "hi"}))
            .send()
            .await
            .unwrap();
        assert!(echoed.status().is_client_error(), "{body}");
        let answer = echoed.text().await.unwrap();
        assert!(
            !answer.contains(KEY),
            "the key is not echoed to the caller: {answer}"
        );
    }
    let lines = service.stop_and_read();
    assert!(
        lines.contains("invalid input in field `temperature`"),
        "{lines}"
    );
    assert!(
        !lines.contains(secret),
        "a value the caller sent was logged:\n{lines}"
    );
    assert!(
        !lines.contains("CONFIDENTIAL"),
        "a field name the caller made up was logged:\n{lines}"
    );
    assert!(lines.contains("a name the action does not know"), "{lines}");
    assert!(!lines.contains(KEY), "the key was logged:\n{lines}");
    assert!(
        lines.contains("OpenRouter refused the call with 400"),
        "{lines}"
    );
}

#[tokio::test]
async fn the_service_s_own_errors_after_routing_have_the_error_shape_and_a_request_id() {
    let app = spawn_app_with(|_| {}).await;
    for (method, path, status) in [
        (reqwest::Method::GET, "/swagger-ui/no-such-asset.js", 404),
        (reqwest::Method::POST, "/metrics", 405),
        (reqwest::Method::POST, "/openapi.json", 405),
        (reqwest::Method::POST, "/swagger-ui/", 405),
        (reqwest::Method::DELETE, "/health/live", 405),
    ] {
        let response = app
            .http
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert!(
            response.headers().contains_key("x-request-id"),
            "{method} {path}"
        );
        if status == 405 {
            assert_eq!(response.headers()["allow"], "GET", "{method} {path}");
        }
        let (got, body) = read(response).await;
        assert_error(got, &body, status);
    }
}

#[tokio::test]
async fn trace_connect_and_unknown_methods_on_the_pass_through_are_405s_never_forwarded() {
    let app = spawn_app_with(|_| {}).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    for method in ["TRACE", "CONNECT", "PROPFIND", "FOO"] {
        // Raw, since HTTP clients treat CONNECT as a tunnel.
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let request = format!(
            "{method} /api/v1/models HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {KEY}\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        assert!(answer.starts_with("http/1.1 405"), "{method}: {answer}");
        assert!(
            answer.contains("allow: get, head, post, put, patch, delete, options"),
            "{method}: {answer}"
        );
        assert!(answer.contains("\"code\":405"), "{method}: {answer}");
        assert!(answer.contains("x-request-id"), "{method}: {answer}");
    }
    assert_eq!(app.sim.request_count(), 0, "nothing reached upstream");
}

#[tokio::test]
async fn blanks_in_ids_and_path_segments_are_refused_not_trimmed() {
    let app = spawn_app_with(|_| {}).await;
    for (path, field) in [
        ("/connector/v1/generation?id=%C2%A0gen-1", "id"),
        ("/connector/v1/generation?id=gen-1%20", "id"),
        (
            "/connector/v1/models/%C2%A0openai/gpt-4o/endpoints",
            "author",
        ),
        ("/connector/v1/models/openai/gpt-4o%09/endpoints", "slug"),
    ] {
        let (status, body) = read(app.get(path).await).await;
        assert_error(status, &body, 400);
        assert_eq!(body["error"]["metadata"]["field"], field, "{path}");
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn a_query_parameter_given_twice_is_a_400_naming_it() {
    let app = spawn_app_with(|_| {}).await;
    for (path, field) in [
        ("/connector/v1/generation?id=gen-1&id=gen-2", "id"),
        ("/connector/v1/models?category=a&category=b", "category"),
    ] {
        let (status, body) = read(app.get(path).await).await;
        assert!(
            assert_error(status, &body, 400).contains("more than once"),
            "{path}"
        );
        assert_eq!(body["error"]["metadata"]["field"], field, "{path}");
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn model_ids_and_provider_slugs_with_blanks_are_refused_not_trimmed() {
    let app = spawn_app_with(|_| {}).await;
    for (path, body, field) in [
        (
            CHAT,
            json!({"content": "hi", "model": "openai/gpt-4o-mini\u{a0}"}),
            "model",
        ),
        (
            CHAT,
            json!({"content": "hi", "model": " openai/gpt-4o-mini"}),
            "model",
        ),
        (
            "/connector/v1/completions",
            json!({"prompt": "hi", "model": "openai/gpt-4o-mini\t"}),
            "model",
        ),
        (
            CHAT,
            json!({"content": "hi", "models": ["a/b", "c/d\u{3000}"]}),
            "models[1]",
        ),
        (
            CHAT,
            json!({"content": "hi", "provider": {"order": ["openai "]}}),
            "provider.order",
        ),
    ] {
        let (status, answer) = read(app.post(path, &body).await).await;
        assert_error(status, &answer, 400);
        assert_eq!(answer["error"]["metadata"]["field"], field, "{body}");
    }
    assert_eq!(app.sim.request_count(), 0, "nothing reached upstream");
}

#[tokio::test]
async fn a_request_pipelined_after_a_pass_through_head_is_answered_too() {
    let app = spawn_app_with(|_| {}).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let requests = format!(
        "HEAD /api/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\r\n\
         GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(requests.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(
        answer.matches("HTTP/1.1 200").count(),
        2,
        "both answered: {answer}"
    );
    assert!(answer.ends_with("{\"status\":\"ok\"}"), "{answer}");
}

#[tokio::test]
async fn a_call_whose_connection_breaks_mid_upload_still_leaves_a_log_line() {
    let sim = Simulator::start().await.unwrap();
    let service = LoggedService::start(sim.base_url(), "info", "abandoned-log");
    let mut stream = tokio::net::TcpStream::connect(service.base.trim_start_matches("http://"))
        .await
        .unwrap();
    // A chunked upload whose second chunk size is not a number: actix-web drops the call.
    let head = format!(
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\
         X-Request-Id: broken-upload-1\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n5\r\n{{\"a\":\r\nzz\r\n1\r\n}}\r\n0\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    drop(stream);

    let log = service.stop_and_read();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|line: &serde_json::Value| line["request_id"] == "broken-upload-1")
        .collect();
    assert!(
        lines.iter().any(|line| {
            let message = line["message"].as_str().unwrap_or_default();
            message == "request finished" || message.starts_with("request abandoned")
        }),
        "no line says what became of the call: {log}"
    );
}

#[tokio::test]
async fn a_slow_but_steady_upload_is_not_counted_as_upstreams_delay() {
    let app = spawn_app_with(|s| {
        s.upstream_timeout = Duration::from_millis(600);
        s.stream_idle_timeout = Duration::from_secs(5);
    })
    .await;
    let body = serde_json::to_vec(&json!({
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "x".repeat(70 * 1024)}],
    }))
    .unwrap();
    // Ten pieces 150 ms apart: the upload takes 1.5 s, well past the 0.6 s upstream timeout,
    // and is never silent for long.
    let pieces: Vec<Vec<u8>> = body
        .chunks(body.len() / 10 + 1)
        .map(<[u8]>::to_vec)
        .collect();
    let stream = futures_util::stream::iter(pieces).then(|piece| async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        Ok::<_, std::io::Error>(piece)
    });
    let response = app
        .http
        .post(app.url("/api/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();

    let (status, answer) = read(response).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(app.sim.request_count(), 1);
}
