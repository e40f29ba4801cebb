//! `MAX_BODY_BYTES` at its published default, 32 MiB (contract 4.8 and 8): a Chat Completion
//! body of exactly that size, a PDF of about 24 MiB in base64, reaches upstream byte for byte;
//! one byte more is a `413` in the contract's shape, declared or sent.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{KEY, assert_error, read, spawn_app};

const PATH: &str = "/connector/v1/chat/completions";

/// The default `MAX_BODY_BYTES`.
const LIMIT: usize = 32 * 1024 * 1024;

/// A PDF of `length` bytes: a header, then bytes of every value.
fn pdf(length: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let mut state = 0x2545_4F46_u32;
    while bytes.len() < length {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        bytes.push((state >> 24) as u8);
    }
    bytes
}

#[tokio::test]
async fn a_body_of_exactly_the_default_limit_with_a_24_mib_file_reaches_upstream_byte_for_byte() {
    let app = spawn_app().await;
    // As large a file as the body allows, beside the JSON around it.
    let file = pdf((LIMIT - 256) / 4 * 3);
    let base64 = STANDARD.encode(&file);
    let mut body = format!(
        r#"{{"content":"Summarise this.","files":[{{"$content-type":"application/pdf","$content":"{base64}"}}]}}"#
    );
    assert!(file.len() > 23 * 1024 * 1024 && body.len() <= LIMIT);
    body.push_str(&" ".repeat(LIMIT - body.len()));

    let response = app
        .http
        .post(app.url(PATH))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();

    let (status, answer) = read(response).await;
    assert_eq!(status, 200, "{answer}");
    let expected = format!(
        r#"{{"messages":[{{"role":"user","content":[{{"type":"text","text":"Summarise this."}},{{"type":"file","file":{{"filename":"document.pdf","file_data":"data:application/pdf;base64,{base64}"}}}}]}}],"stream":false}}"#
    );
    let sent = app.only_upstream_request();
    assert!(
        sent.body == expected.as_bytes(),
        "the upstream body differs: {} bytes sent, {} expected",
        sent.body.len(),
        expected.len()
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn one_byte_over_the_default_limit_is_a_413_declared_or_sent() {
    let app = spawn_app().await;

    // Declared: refused from the head, before the body is read.
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {KEY}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{{\"content\":\"",
        LIMIT + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.unwrap_or(0);
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer);
        if read == 0
            || text
                .split_once("\r\n\r\n")
                .is_some_and(|(_, b)| b.ends_with('}'))
        {
            break;
        }
    }
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("x-request-id:"),
        "{head}"
    );
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_error(reqwest::StatusCode::PAYLOAD_TOO_LARGE, &body, 413);

    // Sent without a length: refused once the bytes read pass the limit.
    let chunk = Bytes::from(vec![b' '; 1024 * 1024]);
    let mut pieces: Vec<Result<Bytes, std::io::Error>> = (0..LIMIT / chunk.len())
        .map(|_| Ok(chunk.clone()))
        .collect();
    pieces.push(Ok(Bytes::from_static(b" ")));
    let streamed = app
        .http
        .post(app.url(PATH))
        .bearer_auth(KEY)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            pieces,
        )))
        .send()
        .await
        .unwrap();
    let (status, body) = read(streamed).await;
    assert_error(status, &body, 413);
    assert_eq!(app.sim.request_count(), 0);
}

/// A Chat Completion body of about `bytes` bytes.
fn chat_of(bytes: usize) -> serde_json::Value {
    serde_json::json!({"content": "x".repeat(bytes)})
}

#[tokio::test]
async fn a_body_that_finds_no_room_in_body_memory_bytes_is_a_503_and_its_room_comes_back() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.max_body_bytes = 1024 * 1024;
        s.body_memory_bytes = Some(1024 * 1024);
    })
    .await;
    // The first call holds its 800 KB while OpenRouter takes two seconds to answer.
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        openrouter_simulator::Reply::json(
            200,
            serde_json::json!({"id": "gen-1", "choices": [{"message": {"role": "assistant", "content": "ok"}}]}),
        )
        .delay(std::time::Duration::from_secs(2)),
    );
    let first = {
        let (http, url) = (app.http.clone(), app.url(PATH));
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(KEY)
                .json(&chat_of(800_000))
                .send()
                .await
        })
    };
    assert!(
        app.sim
            .wait_for_requests(1, std::time::Duration::from_secs(5))
            .await
    );

    let response = app.post(PATH, &chat_of(800_000)).await;
    assert!(response.headers().contains_key("retry-after"));
    let (status, body) = read(response).await;
    let message = assert_error(status, &body, 503);
    assert!(message.contains("BODY_MEMORY_BYTES"), "{message}");
    let (status, body) = read(app.post(PATH, &chat_of(1_000)).await).await;
    assert_eq!(status, 200, "a small body still finds room: {body}");

    let (status, _) = read(first.await.unwrap().unwrap()).await;
    assert_eq!(status, 200);
    let (status, body) = read(app.post(PATH, &chat_of(800_000)).await).await;
    assert_eq!(status, 200, "the first call's room came back: {body}");
    assert_eq!(
        app.sim.request_count(),
        3,
        "the refused body never went upstream"
    );
}

#[tokio::test]
async fn body_memory_bytes_below_max_body_bytes_is_refused_at_start() {
    let sim = openrouter_simulator::Simulator::start().await.unwrap();
    let mut settings =
        openrouter_connector::settings::Settings::for_upstream(&sim.base_url()).unwrap();
    settings.body_memory_bytes = Some(settings.max_body_bytes - 1);
    let error = openrouter_connector::startup::Application::build(&settings)
        .await
        .err()
        .expect("the service refuses to start");
    assert!(error.to_string().contains("BODY_MEMORY_BYTES"), "{error}");
}

#[tokio::test]
async fn a_length_only_declared_takes_no_room_from_the_bodies_that_arrive() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.max_body_bytes = 1024 * 1024;
        s.body_memory_bytes = Some(1024 * 1024);
    })
    .await;
    // Two uploads, without a key, that declare the largest body and then stall.
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
            1024 * 1024
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stalled.push(stream);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let (status, body) = read(app.post(PATH, &chat_of(800_000)).await).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = read(app.post(PATH, &chat_of(1_000)).await).await;
    assert_eq!(status, 200, "{body}");
    drop(stalled);
}
