//! Misbehaviour tests: hang, drip, delay, reset, truncate, held streams and client disconnects.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use super::{Client, request_bytes};
use crate::{Gate, Reply, Simulator};

const BODY: &str = r#"{"data":{"total_credits":1,"total_usage":0}}"#;

#[tokio::test]
async fn hang_sends_nothing_and_counts_the_disconnect() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue("POST", "/chat/completions", Reply::hang());
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("POST", "/api/v1/chat/completions", "{}"))
        .await;
    assert!(sim.wait_for_requests(1, Duration::from_secs(1)).await);
    assert!(!client.receives_within(Duration::from_millis(300)).await);
    assert_eq!(sim.disconnects(), 0);
    drop(client);
    assert!(sim.wait_for_disconnects(1, Duration::from_secs(1)).await);
}

#[tokio::test]
async fn dropping_the_simulator_closes_hanging_connections() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue("GET", "/credits", Reply::hang());
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("GET", "/api/v1/credits", ""))
        .await;
    assert!(sim.wait_for_requests(1, Duration::from_secs(1)).await);
    drop(sim);
    let ended = tokio::time::timeout(Duration::from_secs(1), client.read_to_end()).await;
    assert!(ended.unwrap().0.is_empty());
}

#[tokio::test]
async fn reset_after_sends_n_bytes_then_resets() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue(
        "GET",
        "/credits",
        Reply::raw(200, "application/json", BODY).reset_after(10),
    );
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("GET", "/api/v1/credits", ""))
        .await;
    let head = client.read_head().await.unwrap();
    assert_eq!(
        head.header("content-length"),
        Some(BODY.len().to_string().as_str())
    );
    let (got, err) = client.read_to_end().await;
    assert_eq!(got, &BODY.as_bytes()[..10]);
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
}

#[tokio::test]
async fn reset_after_mid_stream() {
    let sim = Simulator::start().await.unwrap();
    let events = "data: one\n\ndata: two\n\ndata: [DONE]\n\n";
    sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::sse(events).reset_after(15),
    );
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("POST", "/api/v1/chat/completions", "{}"))
        .await;
    client.read_head().await.unwrap();
    assert_eq!(
        client.read_chunk().await.unwrap().unwrap(),
        b"data: one\n\n"
    );
    let (got, err) = client.read_to_end().await;
    assert_eq!(got, b"b\r\ndata");
    assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
}

#[tokio::test]
async fn truncate_after_closes_cleanly_early() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue(
        "GET",
        "/credits",
        Reply::raw(200, "application/json", BODY).truncate_after(7),
    );
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("GET", "/api/v1/credits", ""))
        .await;
    let head = client.read_head().await.unwrap();
    assert_eq!(
        head.header("content-length"),
        Some(BODY.len().to_string().as_str())
    );
    let (got, err) = client.read_to_end().await;
    assert_eq!(got, &BODY.as_bytes()[..7]);
    assert!(err.is_none(), "clean FIN, got {err:?}");
}

#[tokio::test]
async fn hold_after_first_chunk_waits_for_the_gate() {
    let sim = Simulator::start().await.unwrap();
    let gate = Gate::new();
    let events = ": OPENROUTER PROCESSING\n\ndata: {\"x\":1}\n\ndata: [DONE]\n\n";
    sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::sse(events).hold_after_first_chunk(gate.clone()),
    );
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("POST", "/api/v1/chat/completions", "{}"))
        .await;
    client.read_head().await.unwrap();
    let first = client.read_chunk().await.unwrap().unwrap();
    assert_eq!(first, b": OPENROUTER PROCESSING\n\n");
    assert!(!client.receives_within(Duration::from_millis(200)).await);
    assert!(!gate.is_open());
    gate.open();
    assert!(gate.is_open());
    assert_eq!(
        client.read_chunk().await.unwrap().unwrap(),
        b"data: {\"x\":1}\n\n"
    );
    assert_eq!(
        client.read_chunk().await.unwrap().unwrap(),
        b"data: [DONE]\n\n"
    );
    assert_eq!(client.read_chunk().await.unwrap(), None);
    assert_eq!(sim.disconnects(), 0);
}

#[tokio::test]
async fn client_disconnect_during_held_stream_is_counted() {
    let sim = Simulator::start().await.unwrap();
    let gate = Gate::new();
    sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::sse("data: a\n\ndata: b\n\n").hold_after_first_chunk(gate.clone()),
    );
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("POST", "/api/v1/chat/completions", "{}"))
        .await;
    client.read_head().await.unwrap();
    client.read_chunk().await.unwrap();
    drop(client);
    assert!(sim.wait_for_disconnects(1, Duration::from_secs(1)).await);
    assert_eq!(sim.disconnects(), 1);
}

#[tokio::test]
async fn client_disconnect_during_paced_stream_is_counted() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::sse("data: a\n\ndata: b\n\ndata: c\n\n").chunk_delay(Duration::from_millis(100)),
    );
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("POST", "/api/v1/chat/completions", "{}"))
        .await;
    client.read_head().await.unwrap();
    client.read_chunk().await.unwrap();
    drop(client);
    assert!(sim.wait_for_disconnects(1, Duration::from_secs(1)).await);
}

#[tokio::test]
async fn chunk_delay_paces_the_stream() {
    let sim = Simulator::start().await.unwrap();
    let reply =
        Reply::sse("data: a\n\ndata: b\n\ndata: c\n\n").chunk_delay(Duration::from_millis(40));
    sim.enqueue("POST", "/chat/completions", reply);
    let started = Instant::now();
    let mut client = Client::connect(sim.addr()).await;
    let response = client
        .request("POST", "/api/v1/chat/completions", "{}")
        .await;
    assert_eq!(response.chunks.len(), 3);
    assert!(started.elapsed() >= Duration::from_millis(80));
}

#[tokio::test]
async fn drip_sends_one_byte_at_a_time_with_the_right_length() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue(
        "GET",
        "/credits",
        Reply::raw(200, "text/plain", "abcdef").drip(Duration::from_millis(15)),
    );
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("GET", "/api/v1/credits", ""))
        .await;
    let head = client.read_head().await.unwrap();
    assert_eq!(head.header("content-length"), Some("6"));
    let mut reads = Vec::new();
    while client.buf.len() < 6 {
        reads.push(client.fill().await.unwrap());
    }
    assert_eq!(client.buf, b"abcdef");
    assert!(reads.len() >= 4, "bytes came one at a time: {reads:?}");
    assert!(
        reads.iter().all(|n| *n == 1),
        "one byte per read: {reads:?}"
    );
    // The connection is kept alive after a drip.
    client.buf.clear();
    assert_eq!(
        client.request("GET", "/api/v1/credits", "").await.status,
        200
    );
}

#[tokio::test]
async fn drip_body_arrives_complete() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue(
        "GET",
        "/credits",
        Reply::raw(200, "text/plain", "xyz").drip(Duration::from_millis(20)),
    );
    let started = Instant::now();
    let mut client = Client::connect(sim.addr()).await;
    let response = client.request("GET", "/api/v1/credits", "").await;
    assert_eq!(response.text(), "xyz");
    assert!(started.elapsed() >= Duration::from_millis(40));
}

#[tokio::test]
async fn delay_waits_before_the_status_line() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue(
        "GET",
        "/credits",
        Reply::raw(200, "text/plain", "ok").delay(Duration::from_millis(150)),
    );
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(&request_bytes("GET", "/api/v1/credits", ""))
        .await;
    assert!(!client.receives_within(Duration::from_millis(80)).await);
    assert_eq!(client.read_response().await.unwrap().text(), "ok");
}
