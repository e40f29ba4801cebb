//! The OpenRouter-compatible pass-through `/api/v1/*`: upstream's bytes, status and headers come
//! back unchanged, bodies of any kind pass untouched both ways, and the service's own errors
//! (`502`, `504`, `413`) have the contract's shape. Keys, limits and headers are tested in
//! `passthrough/access.rs`, streams in `passthrough/streaming.rs`.

mod access;
mod streaming;

use std::time::Duration;

use bytes::Bytes;
use openrouter_simulator::Reply;
use serde_json::{Value, json};

use crate::helpers::{KEY, TestApp, assert_error, capture, read, spawn_app, spawn_app_with};

const XAI_STREAM: &str = "chat-completions/stream_models-fallback_xai.response.sse";
const MINIMAX_STREAM: &str = "chat-completions/stream_midstream-error_minimax.response.sse";
const PATIENCE: Duration = Duration::from_secs(10);

/// A chat request asking for a stream.
fn streamed_chat() -> Value {
    json!({"model": "x-ai/grok-4", "stream": true, "messages": [{"role": "user", "content": "Hi"}]})
}

/// Posts [`streamed_chat`] to the pass-through.
async fn post_chat(app: &TestApp) -> reqwest::Response {
    within(app.post("/api/v1/chat/completions", &streamed_chat())).await
}

/// Awaits `future`, failing the test rather than hanging past [`PATIENCE`].
async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .expect("no hang")
}

/// Reads the rest of a body, or fails the test if it does not end in time.
async fn rest_of(response: &mut reqwest::Response) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = within(response.chunk()).await.expect("a complete body") {
        all.extend_from_slice(&chunk);
    }
    all
}

/// Bytes that no compressor or text decoder would leave alone.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect()
}

#[tokio::test]
async fn non_streamed_answers_come_back_byte_for_byte() {
    let app = spawn_app().await;
    let cases = [
        (
            "POST",
            "/chat/completions",
            "completions/nonstream_llama-3.1-405b_google.response.raw.txt",
        ),
        (
            "GET",
            "/models",
            "spec-examples/models.200.json.default.json",
        ),
        ("GET", "/credits", "credits/real_shape.json"),
        (
            "GET",
            "/generation",
            "generation/real_partial_with-provider-fallback.json",
        ),
        ("GET", "/key", "spec-examples/key.200.json.default.json"),
    ];
    for (method, path, file) in cases {
        let bytes = capture(file);
        let reply =
            Reply::raw(200, "application/json", bytes.clone()).with_header("X-Upstream", "kept");
        app.sim.enqueue(method, path, reply);
        let request = app
            .http
            .request(
                method.parse().unwrap(),
                app.url(&format!("/api/v1{path}?id=gen-1")),
            )
            .bearer_auth(KEY);
        let request = if method == "POST" {
            request.json(&streamed_chat())
        } else {
            request
        };
        let response = within(request.send()).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
        assert_eq!(
            response.headers()["content-length"],
            bytes.len().to_string().as_str()
        );
        assert_eq!(response.headers()["x-upstream"], "kept", "{path}");
        assert!(response.headers().contains_key("x-request-id"), "{path}");
        assert_eq!(within(response.bytes()).await.unwrap(), bytes, "{path}");
        let upstream = app.sim.last_request().unwrap();
        assert_eq!(
            (upstream.method.as_str(), upstream.api_path()),
            (method, path)
        );
    }
}

#[tokio::test]
async fn the_default_model_list_is_what_the_simulator_sends() {
    let app = spawn_app().await;
    let direct = app
        .http
        .get(format!("{}/models", app.sim.base_url()))
        .bearer_auth(KEY);
    let direct = within(direct.send()).await.unwrap().bytes().await.unwrap();
    let through = within(app.get("/api/v1/models"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(through, direct);
}

#[tokio::test]
async fn upstream_silent_before_its_status_line_is_a_504() {
    let app = spawn_app_with(|s| s.upstream_timeout = std::time::Duration::from_secs(1)).await;
    app.sim.enqueue("POST", "/chat/completions", Reply::hang());

    let (status, body) = read(post_chat(&app).await).await;

    assert_error(status, &body, 504);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502() {
    let app =
        spawn_app_with(|s| s.openrouter_base_url = "http://127.0.0.1:1/api/v1".parse().unwrap())
            .await;

    let (status, body) = read(within(app.get("/api/v1/models")).await).await;

    assert_error(status, &body, 502);
}

#[tokio::test]
async fn binary_bodies_pass_untouched_both_ways() {
    let app = spawn_app().await;
    let upload = noise(1024 * 1024);
    let download = noise(3 * 1024 * 1024 + 7);
    app.sim
        .enqueue("POST", "/files", Reply::json(200, json!({"id": "file-1"})));
    app.sim.enqueue(
        "GET",
        "/files/file-1/content",
        Reply::raw(200, "application/octet-stream", download.clone()),
    );

    let request = app.http.post(app.url("/api/v1/files")).bearer_auth(KEY);
    let request = request
        .header("content-type", "application/octet-stream")
        .body(upload.clone());
    let uploaded = within(request.send()).await.unwrap();
    let downloaded = within(app.get("/api/v1/files/file-1/content")).await;

    assert_eq!(uploaded.status(), 200);
    let upstream = app.sim.requests().remove(0);
    assert_eq!(
        upstream.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(upstream.header("content-length"), Some("1048576"));
    assert!(
        upstream.body == upload,
        "the uploaded bytes changed on the way"
    );
    assert_eq!(
        downloaded.headers()["content-type"],
        "application/octet-stream"
    );
    assert!(
        within(downloaded.bytes()).await.unwrap() == download,
        "the download changed"
    );
}

#[tokio::test]
async fn a_body_without_a_length_is_streamed_upstream_whole() {
    let app = spawn_app().await;
    let upload = noise(600 * 1024);
    let pieces: Vec<Result<Bytes, std::io::Error>> = upload
        .chunks(64 * 1024)
        .map(|piece| Ok(Bytes::copy_from_slice(piece)))
        .collect();
    app.sim
        .enqueue("POST", "/files", Reply::json(200, json!({"id": "file-2"})));

    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(pieces));
    let request = app
        .http
        .post(app.url("/api/v1/files"))
        .bearer_auth(KEY)
        .body(body);
    let response = within(request.send()).await.unwrap();

    assert_eq!(response.status(), 200);
    assert!(
        app.only_upstream_request().body == upload,
        "the streamed body changed"
    );
}

/// Sends a POST to `/api/v1/files` declaring `length` bytes, writes `pieces` with `pause`
/// between them over a raw connection, and returns the status line.
async fn post_in_pieces(app: &TestApp, length: usize, pieces: &[&[u8]], pause: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /api/v1/files HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {KEY}\r\n\
         content-type: application/octet-stream\r\ncontent-length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for piece in pieces {
        tokio::time::sleep(pause).await;
        stream.write_all(piece).await.unwrap();
    }
    let mut answer = vec![0; 4096];
    let read = within(stream.read(&mut answer)).await.unwrap();
    String::from_utf8_lossy(&answer[..read])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_small_body_sent_in_pieces_reaches_upstream_whole_and_once() {
    let app = spawn_app_with(|s| s.stream_idle_timeout = std::time::Duration::from_secs(2)).await;
    let upload = noise(3000);
    app.sim
        .enqueue("POST", "/files", Reply::json(200, json!({"id": "file-3"})));
    let pieces: Vec<&[u8]> = upload.chunks(1000).collect();

    let status = post_in_pieces(&app, upload.len(), &pieces, Duration::from_millis(300)).await;

    assert_eq!(status, "HTTP/1.1 200 OK");
    let upstream = app.only_upstream_request();
    assert!(upstream.body == upload, "the body changed on the way");
    assert_eq!(upstream.header("content-length"), Some("3000"));
}

#[tokio::test]
async fn a_small_body_that_stalls_is_a_408_and_never_reaches_upstream() {
    let app = spawn_app_with(|s| s.stream_idle_timeout = std::time::Duration::from_secs(1)).await;
    let upload = noise(3000);

    let status = post_in_pieces(&app, upload.len(), &[&upload[..1000]], Duration::ZERO).await;

    assert_eq!(status, "HTTP/1.1 408 Request Timeout");
    assert_eq!(app.sim.request_count(), 0, "nothing went upstream");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_with_or_without_a_length() {
    let app = spawn_app_with(|s| s.passthrough_max_body_bytes = 64 * 1024).await;
    let big = noise(100 * 1024);

    let declared = app
        .http
        .post(app.url("/api/v1/files"))
        .bearer_auth(KEY)
        .body(big.clone());
    let (status, body) = read(within(declared.send()).await.unwrap()).await;
    assert_error(status, &body, 413);
    assert_eq!(
        app.sim.request_count(),
        0,
        "a declared length is checked first"
    );

    let pieces: Vec<Result<Bytes, std::io::Error>> = big
        .chunks(16 * 1024)
        .map(|piece| Ok(Bytes::copy_from_slice(piece)))
        .collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(pieces));
    let streamed = app
        .http
        .post(app.url("/api/v1/files"))
        .bearer_auth(KEY)
        .body(body);
    let (status, body) = read(within(streamed.send()).await.unwrap()).await;
    assert_error(status, &body, 413);
}

#[tokio::test]
async fn upstream_errors_come_back_unchanged() {
    let app = spawn_app().await;
    for (status, file) in [
        (402, "spec-examples/chat_completions.402.json.default.json"),
        (429, "spec-examples/chat_completions.429.json.default.json"),
        (500, "spec-examples/chat_completions.500.json.default.json"),
        (404, "errors/404_no-endpoints-found.response.json"),
    ] {
        let bytes = capture(file);
        let reply =
            Reply::raw(status, "application/json", bytes.clone()).with_header("Retry-After", "7");
        app.sim.enqueue("POST", "/chat/completions", reply);

        let response = post_chat(&app).await;

        assert_eq!(response.status().as_u16(), status, "{file}");
        assert_eq!(response.headers()["retry-after"], "7", "{file}");
        assert_eq!(within(response.bytes()).await.unwrap(), bytes, "{file}");
    }
}

#[tokio::test]
async fn a_head_request_gets_upstreams_length_and_no_body() {
    let app = spawn_app().await;
    let full = within(app.get("/api/v1/models"))
        .await
        .bytes()
        .await
        .unwrap();

    let request = app.http.head(app.url("/api/v1/models")).bearer_auth(KEY);
    let response = within(request.send()).await.unwrap();

    assert_eq!(response.status(), 200);
    let length = response.headers()["content-length"].to_str().unwrap();
    assert_eq!(length, full.len().to_string());
    assert!(within(response.bytes()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_204_from_upstream_comes_back_without_a_body() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "DELETE",
        "/keys/abc",
        Reply::raw(204, "application/json", ""),
    );

    let request = app
        .http
        .delete(app.url("/api/v1/keys/abc"))
        .bearer_auth(KEY);
    let response = within(request.send()).await.unwrap();

    assert_eq!(response.status(), 204);
    assert!(!response.headers().contains_key("transfer-encoding"));
    assert!(within(response.bytes()).await.unwrap().is_empty());
    assert_eq!(within(app.get("/api/v1/credits")).await.status(), 200);
}
