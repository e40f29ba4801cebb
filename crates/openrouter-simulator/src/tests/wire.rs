//! Wire-level tests: keep-alive, request framing, queueing, recording and byte-exact replies.

use std::time::Duration;

use serde_json::json;

use super::{Client, call, request_bytes};
use crate::{Reply, Simulator, SimulatorOptions};

#[tokio::test]
async fn keep_alive_serves_two_requests_on_one_connection() {
    let sim = Simulator::start().await.unwrap();
    let mut client = Client::connect(sim.addr()).await;
    let first = client.request("GET", "/api/v1/credits", "").await;
    let second = client.request("GET", "/api/v1/key", "").await;
    assert_eq!(first.status, 200);
    assert_eq!(second.status, 200);
    assert_eq!(first.json()["data"]["total_credits"], 610);
    assert!(second.json()["data"]["label"].is_string());
    assert_eq!(sim.request_count(), 2);
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let sim = Simulator::start().await.unwrap();
    let mut client = Client::connect(sim.addr()).await;
    let mut both = request_bytes("GET", "/api/v1/credits", "");
    both.extend(request_bytes("GET", "/api/v1/nope", ""));
    client.send_raw(&both).await;
    assert_eq!(client.read_response().await.unwrap().status, 200);
    assert_eq!(client.read_response().await.unwrap().status, 404);
}

#[tokio::test]
async fn chunked_request_body_is_decoded() {
    let sim = Simulator::start().await.unwrap();
    let mut client = Client::connect(sim.addr()).await;
    let body = r#"{"model":"x-ai/grok-4","messages":[{"role":"user","content":"hi there"}]}"#;
    let (a, b) = body.split_at(20);
    let raw = format!(
        "POST /api/v1/chat/completions HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer k\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x};ext=1\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\nX-Trailer: t\r\n\r\n",
        a.len(),
        b.len()
    );
    client.send_raw(raw.as_bytes()).await;
    let response = client.read_response().await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json()["choices"][0]["message"]["content"],
        "Echo: hi there"
    );
    assert_eq!(sim.last_request().unwrap().body, body.as_bytes());
    // The connection is still usable afterwards.
    assert_eq!(
        client.request("GET", "/api/v1/credits", "").await.status,
        200
    );
}

#[tokio::test]
async fn queued_replies_are_fifo_then_defaults_resume() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue("GET", "/credits", Reply::json(500, json!({"n": 1})));
    sim.enqueue("get", "/credits", Reply::json(429, json!({"n": 2})));
    sim.enqueue("POST", "/credits", Reply::json(418, json!({})));
    let mut client = Client::connect(sim.addr()).await;
    let first = client.request("GET", "/api/v1/credits?x=1", "").await;
    let second = client.request("GET", "/api/v1/credits", "").await;
    let third = client.request("GET", "/api/v1/credits", "").await;
    assert_eq!((first.status, first.json()["n"].clone()), (500, json!(1)));
    assert_eq!((second.status, second.json()["n"].clone()), (429, json!(2)));
    assert_eq!(third.status, 200);
    assert_eq!(third.json()["data"]["total_usage"], 321.725553332);
}

#[tokio::test]
async fn raw_bytes_arrive_byte_exact() {
    let sim = Simulator::start().await.unwrap();
    let body = b"\n         \n\n         \n{\"a\": 1,\r\n \"b\":\t[]}  ".to_vec();
    sim.enqueue(
        "POST",
        "/completions",
        Reply::raw(200, "application/json", body.clone()).with_header("X-Extra", "yes"),
    );
    let response = call(sim.addr(), "POST", "/api/v1/completions", "{}").await;
    assert_eq!(response.body, body);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("x-extra"), Some("yes"));
}

#[tokio::test]
async fn sse_bytes_arrive_exactly_and_as_separate_chunks() {
    let sim = Simulator::start().await.unwrap();
    let events =
        ": OPENROUTER PROCESSING\n\ndata: {\"a\":1}\n\ndata: {\"b\":2}\r\n\r\ndata: [DONE]\n\n";
    sim.enqueue("POST", "/chat/completions", Reply::sse(events));
    let response = call(sim.addr(), "POST", "/api/v1/chat/completions", "{}").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(response.body, events.as_bytes());
    let chunks: Vec<&[u8]> = response.chunks.iter().map(Vec::as_slice).collect();
    assert_eq!(
        chunks,
        [
            &b": OPENROUTER PROCESSING\n\n"[..],
            b"data: {\"a\":1}\n\n",
            b"data: {\"b\":2}\r\n\r\n",
            b"data: [DONE]\n\n"
        ]
    );
}

#[tokio::test]
async fn requests_are_recorded_with_lowercased_header_names() {
    let sim = Simulator::start().await.unwrap();
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(
            b"GET /api/v1/models?category=programming&x=a%20b HTTP/1.1\r\nHost: sim\r\n\
              Authorization: Bearer sk-1\r\nX-Title:  My App \r\nHTTP-Referer: https://e.x\r\n\r\n",
        )
        .await;
    assert_eq!(client.read_response().await.unwrap().status, 200);
    assert!(sim.wait_for_requests(1, Duration::from_secs(1)).await);
    let recorded = sim.last_request().unwrap();
    assert_eq!(recorded.method, "GET");
    assert_eq!(recorded.path, "/api/v1/models");
    assert_eq!(
        recorded.query.as_deref(),
        Some("category=programming&x=a%20b")
    );
    assert_eq!(recorded.query_param("x").as_deref(), Some("a b"));
    let names: Vec<&str> = recorded.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["host", "authorization", "x-title", "http-referer"]);
    assert_eq!(recorded.header("X-TITLE"), Some("My App"));
    assert_eq!(recorded.json(), serde_json::Value::Null);
    assert_eq!(sim.requests().len(), 1);
}

#[tokio::test]
async fn wait_for_requests_times_out_when_nothing_arrives() {
    let sim = Simulator::start().await.unwrap();
    assert!(!sim.wait_for_requests(1, Duration::from_millis(50)).await);
    assert!(sim.wait_for_requests(0, Duration::from_millis(50)).await);
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let sim = Simulator::start().await.unwrap();
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(
            b"GET /api/v1/credits HTTP/1.1\r\nAuthorization: Bearer k\r\nConnection: close\r\n\r\n",
        )
        .await;
    let response = client.read_response().await.unwrap();
    assert_eq!(response.header("connection"), Some("close"));
    let (rest, err) = client.read_to_end().await;
    assert!(rest.is_empty() && err.is_none());
}

#[tokio::test]
async fn garbage_gets_400_and_the_server_keeps_serving() {
    let sim = Simulator::start().await.unwrap();
    for garbage in [
        &b"\x00\x01\x02 garbage\r\n\r\n"[..],
        b"GET /x HTTP/9.9\r\n\r\n",
        b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
        b"\xff\xfe\r\n\r\n",
    ] {
        let mut client = Client::connect(sim.addr()).await;
        client.send_raw(garbage).await;
        let response = client.read_response().await.unwrap();
        assert_eq!(response.status, 400, "for {garbage:?}");
        assert_eq!(response.json()["error"]["code"], 400);
        let (_, err) = client.read_to_end().await;
        assert!(err.is_none(), "closed cleanly");
    }
    assert_eq!(sim.request_count(), 0);
    assert_eq!(
        call(sim.addr(), "GET", "/api/v1/credits", "").await.status,
        200
    );
}

#[tokio::test]
async fn oversized_head_is_rejected() {
    let sim = Simulator::start().await.unwrap();
    let mut client = Client::connect(sim.addr()).await;
    let mut raw = b"GET /api/v1/credits HTTP/1.1\r\n".to_vec();
    raw.extend(std::iter::repeat_n(b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 2000).flatten());
    client.send_raw(&raw).await;
    assert_eq!(client.read_response().await.unwrap().status, 431);
}

#[tokio::test]
async fn binds_where_asked() {
    let options = SimulatorOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..SimulatorOptions::default()
    };
    let sim = Simulator::start_with(options).await.unwrap();
    assert!(sim.addr().ip().is_loopback());
    assert_eq!(
        sim.base_url(),
        format!("http://127.0.0.1:{}/api/v1", sim.addr().port())
    );
}

#[tokio::test]
async fn random_garbage_never_kills_the_server() {
    let sim = Simulator::start().await.unwrap();
    for i in 0..40 {
        let mut noise: Vec<u8> = (0..1 + i % 4)
            .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
            .collect();
        if i % 2 == 0 {
            noise.splice(
                0..0,
                b"POST /api/v1/chat/completions HTTP/1.1\r\n"
                    .iter()
                    .copied(),
            );
        }
        noise.extend_from_slice(b"\r\n\r\n");
        let mut client = Client::connect(sim.addr()).await;
        client.send_raw(&noise).await;
        // Whatever comes back (400, 401, nothing), the server must not die.
        let _ = tokio::time::timeout(Duration::from_millis(200), client.read_to_end()).await;
    }
    assert_eq!(
        call(sim.addr(), "GET", "/api/v1/credits", "").await.status,
        200
    );
}

#[tokio::test]
async fn recording_can_be_turned_off_and_cleared() {
    let sim = Simulator::start().await.unwrap();
    call(sim.addr(), "GET", "/api/v1/credits", "").await;
    sim.set_recording(false);
    call(sim.addr(), "GET", "/api/v1/credits", "").await;
    assert_eq!(sim.request_count(), 2);
    assert_eq!(sim.requests().len(), 1);
    sim.clear_requests();
    assert!(sim.last_request().is_none());
    assert_eq!(sim.request_count(), 2);
}

#[tokio::test]
async fn error_replies_and_header_overrides() {
    let sim = Simulator::start().await.unwrap();
    let reply = Reply::error(429, "Rate limit exceeded")
        .with_header("Retry-After", "1")
        .with_header("retry-after", "7")
        .with_header("Content-Type", "application/problem+json");
    assert_eq!(reply.status(), 429);
    sim.enqueue("POST", "/chat/completions", reply);
    let response = call(sim.addr(), "POST", "/api/v1/chat/completions", "{}").await;
    assert_eq!(response.status, 429);
    assert_eq!(
        response.json(),
        json!({"error": {"code": 429, "message": "Rate limit exceeded"}})
    );
    let retry: Vec<&str> = response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("retry-after"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(retry, ["7"]);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
}
