//! Every row of contract section 5, through Chat Completion (the GET actions' rows are in their
//! own files).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{
    assert_error, capture_json, passes_on_message, read, spawn_app, spawn_app_with,
};
use openrouter_simulator::Reply;

const PATH: &str = "/connector/v1/chat/completions";

#[tokio::test]
async fn no_key_is_a_401_saying_where_to_put_it_and_nothing_goes_upstream() {
    let app = spawn_app().await;
    for header in [
        None,
        Some(("authorization", "Bearer ")),
        Some(("api_key", "")),
    ] {
        let mut request = app.http.post(app.url(PATH)).json(&json!({"content": "x"}));
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let (status, body) = read(request.send().await.unwrap()).await;
        let message = assert_error(status, &body, 401);
        assert!(message.contains("Authorization"), "{message}");
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn upstream_4xx_pass_through_with_message_and_metadata() {
    let app = spawn_app().await;
    for (status, file) in [
        (401, "spec-examples/chat_completions.401.json.default.json"),
        (402, "spec-examples/chat_completions.402.json.default.json"),
        (
            403,
            "spec-examples/chat_completions.403.json.guardrail-blocked.json",
        ),
        (404, "errors/404_no-endpoints-found.response.json"),
        (408, "spec-examples/chat_completions.408.json.default.json"),
        (413, "spec-examples/chat_completions.413.json.default.json"),
        (422, "spec-examples/chat_completions.422.json.default.json"),
    ] {
        let upstream = capture_json(file);
        app.sim.enqueue(
            "POST",
            "/chat/completions",
            Reply::json(status, upstream.clone()),
        );
        let (got, body) = read(app.post(PATH, &json!({"content": "x"})).await).await;
        let message = assert_error(got, &body, status);
        let said = upstream["error"]["message"].as_str().unwrap();
        assert!(
            passes_on_message(status, said, &message),
            "{file}: {message}"
        );
        if let Some(metadata) = upstream["error"].get("metadata") {
            assert_eq!(&body["error"]["metadata"], metadata, "{file}");
        }
    }
}

#[tokio::test]
async fn moderation_reasons_and_flagged_input_reach_the_maker() {
    let app = spawn_app().await;
    let upstream = json!({"error": {"code": 403, "message": "Your input was flagged", "metadata": {"reasons": ["violence"], "flagged_input": "...", "provider_name": "OpenAI", "model_slug": "openai/gpt-4o"}}});
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(403, upstream.clone()),
    );

    let (status, body) = read(app.post(PATH, &json!({"content": "x"})).await).await;

    assert_error(status, &body, 403);
    assert_eq!(body["error"]["metadata"], upstream["error"]["metadata"]);
}

#[tokio::test]
async fn an_upstream_429_passes_through_with_retry_after() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(
            429,
            capture_json("errors/429_provider-returned-error_venice_retry-after.json"),
        ),
    );
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(
            429,
            capture_json("errors/429_provider-returned-error_google.response.json"),
        )
        .with_header("Retry-After", "3"),
    );

    let response = app.post(PATH, &json!({"content": "x"})).await;
    assert_eq!(response.headers()["retry-after"], "17");
    let (status, body) = read(response).await;
    assert_eq!(assert_error(status, &body, 429), "Provider returned error");
    assert_eq!(body["error"]["metadata"]["provider_name"], "Venice");

    let response = app.post(PATH, &json!({"content": "x"})).await;
    assert_eq!(response.headers()["retry-after"], "3");
    let (status, body) = read(response).await;
    assert_error(status, &body, 429);
    assert!(
        body["error"]["metadata"]["raw"]
            .as_str()
            .unwrap()
            .contains("rate-limited")
    );
}

#[tokio::test]
async fn upstream_5xx_become_502_with_upstreams_message() {
    let app = spawn_app().await;
    for status in [500, 502, 503, 524, 529] {
        app.sim.enqueue(
            "POST",
            "/chat/completions",
            Reply::json(
                status,
                json!({"error": {"code": status, "message": "Provider returned error"}}),
            ),
        );
        let (got, body) = read(app.post(PATH, &json!({"content": "x"})).await).await;
        let message = assert_error(got, &body, 502);
        assert!(message.contains("Provider returned error"), "{message}");
        assert_eq!(body["error"]["metadata"]["upstream_status"], status);
    }
}

#[tokio::test]
async fn a_200_carrying_an_error_object_is_that_error() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(
            200,
            json!({"error": {"code": 402, "message": "Insufficient credits"}}),
        ),
    );
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(
            200,
            json!({"error": {"code": "server_error", "message": "Provider disconnected"}}),
        ),
    );

    let (status, body) = read(app.post(PATH, &json!({"content": "x"})).await).await;
    assert_eq!(assert_error(status, &body, 402), "Insufficient credits");
    let (status, body) = read(app.post(PATH, &json!({"content": "x"})).await).await;
    assert!(assert_error(status, &body, 502).contains("Provider disconnected"));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_502() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::raw(200, "text/html", "<html>Bad gateway</html>"),
    );
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::raw(200, "application/json", "{\"id\": \"gen-1\", \"choi"),
    );

    for _ in 0..2 {
        let (status, body) = read(app.post(PATH, &json!({"content": "x"})).await).await;
        assert_error(status, &body, 502);
    }
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = spawn_app_with(|s| {
        s.openrouter_base_url = format!("http://{closed}/api/v1").parse().unwrap()
    })
    .await;

    let (status, body) = read(app.post(PATH, &json!({"content": "x"})).await).await;

    assert!(assert_error(status, &body, 502).contains("Could not connect"));
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_a_502() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(
            200,
            json!({"id": "gen-1", "choices": [], "padding": "x".repeat(2000)}),
        )
        .reset_after(100),
    );

    let (status, body) = read(app.post(PATH, &json!({"content": "x"})).await).await;

    assert_error(status, &body, 502);
}

#[tokio::test]
async fn an_upstream_that_never_answers_is_a_504_within_the_timeout() {
    let app = spawn_app_with(|s| s.upstream_timeout = std::time::Duration::from_secs(1)).await;
    app.sim.enqueue("POST", "/chat/completions", Reply::hang());

    let started = Instant::now();
    let (status, body) = read(app.post(PATH, &json!({"content": "x"})).await).await;

    assert!(assert_error(status, &body, 504).contains("within 1 second."));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_before_the_key_is_checked() {
    let app = spawn_app_with(|s| s.max_body_bytes = 1024).await;
    let big = json!({"content": "x".repeat(2000)});

    let (status, body) = read(
        app.http
            .post(app.url(PATH))
            .json(&big)
            .send()
            .await
            .unwrap(),
    )
    .await;

    assert_error(status, &body, 413);
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_a_413_too() {
    let app = spawn_app_with(|s| s.max_body_bytes = 1024).await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..8).map(|_| Ok(vec![b' '; 512])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));

    let response = app
        .http
        .post(app.url(PATH))
        .bearer_auth(crate::helpers::KEY)
        .body(body)
        .send()
        .await
        .unwrap();

    let (status, body) = read(response).await;
    assert_error(status, &body, 413);
}

#[tokio::test]
async fn a_wrong_method_is_a_405_with_allow_and_an_unknown_path_a_404() {
    let app = spawn_app().await;

    let response = app.get(PATH).await;
    assert_eq!(response.headers()["allow"], "POST");
    let (status, body) = read(response).await;
    assert_error(status, &body, 405);

    let (status, body) = read(app.get("/connector/v1/nothing-here").await).await;
    assert_error(status, &body, 404);
    assert_eq!(app.sim.request_count(), 0);
}
