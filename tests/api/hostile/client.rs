//! Hostile clients over raw sockets: ambiguous and malformed framing, an oversized head, and
//! methods the pass-through must not forward. The service answers with a 4xx (or closes the
//! connection), never 500, never forwards such a call upstream, and stays alive.

use super::KEY;
use super::property::start_service;
use super::upstream::{Answer, HostileUpstream};
use super::wire::{RawAnswer, raw_call};
use crate::servers::{ServiceProcess, TempDir};

struct Setup {
    upstream: HostileUpstream,
    service: ServiceProcess,
    _dir: TempDir,
}

async fn setup() -> Setup {
    let upstream = HostileUpstream::start().await;
    let body = r#"{"data":[]}"#;
    upstream.program_default(Answer {
        bytes: format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
        hang: false,
    });
    let dir = TempDir::new("hostile-client");
    let service = start_service(&upstream, &dir.0.join("service.log"));
    Setup {
        upstream,
        service,
        _dir: dir,
    }
}

impl Setup {
    async fn send(&self, head: &str, body: &[u8]) -> Option<RawAnswer> {
        let mut request = head.replace('\n', "\r\n").into_bytes();
        request.extend_from_slice(body);
        raw_call(self.service.port, &request).await
    }

    /// The service lives on, and no call reached upstream.
    async fn still_alive_and_upstream_untouched(&self) {
        let live = raw_call(
            self.service.port,
            b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(live.map(|a| a.status), Some(200), "the service still lives");
        let reached = self.upstream.unclaimed();
        assert!(reached.is_empty(), "reached upstream: {reached:?}");
    }
}

/// A 4xx from `allowed`, or a closed connection; never 500.
fn refused(answer: &Option<RawAnswer>, allowed: &[u16], what: &str) {
    if let Some(answer) = answer {
        assert!(
            allowed.contains(&answer.status),
            "{what}: {} where one of {allowed:?} (or a close) is due:\n{}",
            answer.status,
            answer.head
        );
    }
}

const CHAT: &str = "POST /connector/v1/chat/completions HTTP/1.1\nHost: x\nConnection: close\n\
                    Content-Type: application/json\n";

#[tokio::test]
async fn content_length_with_transfer_encoding_is_refused_not_guessed() {
    let setup = setup().await;
    let head = format!(
        "{CHAT}Authorization: Bearer {KEY}\nContent-Length: 5\nTransfer-Encoding: chunked\n\n"
    );
    let answer = setup
        .send(&head, b"11\r\n{\"content\":\"hi\"}\r\n0\r\n\r\n")
        .await;
    refused(&answer, &[400], "Content-Length with Transfer-Encoding");
    setup.still_alive_and_upstream_untouched().await;
}

#[tokio::test]
async fn a_content_length_that_is_not_one_number_is_refused() {
    let setup = setup().await;
    for lengths in [&["abc"][..], &["-16"], &["16", "17"], &["16, 17"], &["+16"]] {
        let declared: String = lengths
            .iter()
            .map(|l| format!("Content-Length: {l}\n"))
            .collect();
        let head = format!("{CHAT}Authorization: Bearer {KEY}\n{declared}\n");
        let answer = setup.send(&head, br#"{"content":"hi"}"#).await;
        refused(&answer, &[400], &format!("Content-Length {lengths:?}"));
    }
    setup.still_alive_and_upstream_untouched().await;
}

#[tokio::test]
async fn an_oversized_head_is_refused() {
    let setup = setup().await;
    let mut broken = Vec::new();
    // actix-web reads heads up to 128 KiB (its buffer), as nginx's default 4 x 8 KiB buffers
    // bound its own; past that, `431` or a close.
    for size in [256 * 1024, 1024 * 1024] {
        let head = format!(
            "GET /connector/v1/models HTTP/1.1\nHost: x\nConnection: close\n\
             Authorization: Bearer {KEY}\nX-Padding: {}\n\n",
            "p".repeat(size)
        );
        let answer = setup.send(&head, b"").await;
        if let Some(answer) = answer.filter(|a| ![400, 413, 431].contains(&a.status)) {
            broken.push(format!("a {size}-byte header: {}", answer.status));
        }
    }
    assert!(
        broken.is_empty(),
        "400, 413, 431 or a close is due: {broken:?}"
    );
    setup.still_alive_and_upstream_untouched().await;
}

#[tokio::test]
async fn trace_connect_and_unknown_methods_on_the_pass_through_are_405_and_never_forwarded() {
    let setup = setup().await;
    let mut broken = Vec::new();
    for method in ["TRACE", "CONNECT", "FOO"] {
        let head = format!(
            "{method} /api/v1/models HTTP/1.1\nHost: x\nConnection: close\n\
             Authorization: Bearer {KEY}\nX-Request-Id: hostile-{method}\n\n"
        );
        match setup.send(&head, b"").await {
            None => broken.push(format!("{method}: closed without an answer")),
            Some(answer) => {
                if let Err(why) = method_refused(&answer, method) {
                    broken.push(format!("{method}: {why}"));
                }
            }
        }
        if !setup
            .upstream
            .finish(&format!("hostile-{method}"))
            .is_empty()
        {
            broken.push(format!("{method}: forwarded upstream"));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
    setup.still_alive_and_upstream_untouched().await;
}

/// A `405` with `Allow` (naming `GET` and `POST`, not `method`), the contract's error shape and
/// `X-Request-Id`.
fn method_refused(answer: &RawAnswer, method: &str) -> Result<(), String> {
    if answer.status != 405 {
        return Err(format!("{} where 405 is due", answer.status));
    }
    let allow = answer.header("allow").unwrap_or_default();
    if !(allow.contains("GET") && allow.contains("POST")) || allow.contains(method) {
        return Err(format!("Allow {allow:?}"));
    }
    let body: serde_json::Value = serde_json::from_slice(&answer.body)
        .map_err(|_| format!("not JSON: {:?}", String::from_utf8_lossy(&answer.body)))?;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    if body["error"]["code"] != 405 || message.is_empty() {
        return Err(format!("not the error shape: {body}"));
    }
    if answer.header("x-request-id").is_none() {
        return Err("no X-Request-Id".to_owned());
    }
    Ok(())
}

#[tokio::test]
async fn an_unknown_method_on_a_connector_action_is_a_405_not_a_500() {
    let setup = setup().await;
    let head = format!(
        "FOO /connector/v1/models HTTP/1.1\nHost: x\nConnection: close\nAuthorization: Bearer {KEY}\n\n"
    );
    let answer = setup.send(&head, b"").await;
    refused(&answer, &[400, 405], "FOO on an action");
    if let Some(answer) = answer.filter(|a| a.status == 405) {
        assert!(
            answer.header("allow").is_some(),
            "a 405 names what is allowed"
        );
    }
    setup.still_alive_and_upstream_untouched().await;
}
