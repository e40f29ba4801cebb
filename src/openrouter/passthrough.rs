//! The pass-through's upstream side: one call forwarded to `{base}/{path}` as the caller made
//! it, and OpenRouter's answer streamed back chunk by chunk. A streamed answer has no overall
//! deadline, only an idle one between chunks; an SSE stream that goes quiet is ended with an
//! error event shaped like OpenRouter's own mid-stream errors.

mod body;
mod upstream;

use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue,
    USER_AGENT,
};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;

use super::client::{OpenRouterClient, bearer};
use crate::domain::deadline;
use crate::error::ApiError;
use crate::openrouter::Caller;

pub use body::{BodyError, StreamedBody};
pub(super) use upstream::client as pass_client;
pub use upstream::{ForwardBody, PassClient};

/// `X-Request-Id`, as the upstream client spells header names.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long a call may wait for a free upstream slot before the service answers `503`, as for
/// the connector actions.
const SLOT_WAIT: Duration = Duration::from_secs(1);

/// One call to forward unchanged.
#[derive(Debug)]
pub struct Forward<'a> {
    /// The caller's method.
    pub method: Method,
    /// The path below the base URL, as the caller sent it (still percent-encoded).
    pub path: &'a str,
    /// The query string without its `?`; empty when there is none.
    pub query: &'a str,
    /// The caller's end-to-end headers, without its credentials or hop-by-hop headers.
    pub headers: HeaderMap,
    /// The caller's body.
    pub body: ForwardBody,
    /// For a body still streaming up when the call starts: when it ended (`None` until then).
    /// Upstream's time to answer counts from then, not from the call's start.
    pub upload_ended: Option<Rc<Cell<Option<std::time::Instant>>>>,
}

/// OpenRouter's answer: its status and headers, and its body still to be read.
#[derive(Debug)]
pub struct Streamed {
    /// Upstream's status.
    pub status: StatusCode,
    /// Upstream's headers, as received.
    pub headers: HeaderMap,
    /// Upstream's body, chunk by chunk as it arrives.
    pub body: StreamedBody,
}

impl OpenRouterClient {
    /// Forwards one call and returns as soon as upstream's status line and headers arrive.
    /// The call holds one of the `MAX_CONCURRENT_UPSTREAM` slots until its body is done (`503`
    /// when none frees up within a second). Upstream gets the caller's key as
    /// `Authorization: Bearer`, the request id, and the attribution headers the caller did not
    /// set itself. The head must come within the upstream timeout (`504`); a transport failure
    /// before it is a `502`, and a request body that ended with [`UploadAborted`] a `400`. The
    /// body then has `idle` between chunks (a non-streamed answer has until the upstream timeout
    /// for its first chunk, if that is later).
    pub async fn forward(
        &self,
        caller: Caller<'_>,
        forward: Forward<'_>,
        idle: Duration,
    ) -> Result<Streamed, ApiError> {
        let uri = self.passthrough_uri(forward.path, forward.query)?;
        let mut headers = forward.headers;
        for (name, value) in &self.attribution {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        // What reqwest, which the actions use, sends when the caller says nothing.
        if !headers.contains_key(USER_AGENT) {
            headers.insert(
                USER_AGENT,
                HeaderValue::from_static(super::client::USER_AGENT),
            );
        }
        if !headers.contains_key(ACCEPT) {
            headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        }
        if let Ok(id) = HeaderValue::from_str(caller.request_id.as_str()) {
            headers.insert(REQUEST_ID, id);
        }
        headers.insert(AUTHORIZATION, bearer(caller.key)?);
        let bodiless = forward.method == Method::HEAD;
        let mut request = hyper::Request::new(forward.body.into_body());
        *request.method_mut() = forward.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        // A free slot is taken at once; only a full house waits (with a timer).
        let slot = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => tokio::time::timeout(SLOT_WAIT, Arc::clone(&self.permits).acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or(ApiError::Busy)?,
        };
        let started = Instant::now();
        let upload_ended = forward.upload_ended;
        let mut sending = std::pin::pin!(self.pass.request(request));
        let mut answer_by = deadline::after_tokio(started, self.timeout);
        let sent = loop {
            match tokio::time::timeout_at(answer_by, &mut sending).await {
                Ok(sent) => break sent,
                // A slow but steady upload is not upstream's delay: its clock starts at the end.
                Err(_) => match upload_ended.as_ref().map(|ended| ended.get()) {
                    Some(None) => answer_by = deadline::after_tokio(Instant::now(), self.timeout),
                    Some(Some(ended)) => {
                        let left = deadline::after(ended, self.timeout)
                            .saturating_duration_since(std::time::Instant::now());
                        if left.is_zero() {
                            return Err(ApiError::UpstreamTimeout(self.timeout));
                        }
                        answer_by = deadline::after_tokio(Instant::now(), left);
                    }
                    None => return Err(ApiError::UpstreamTimeout(self.timeout)),
                },
            }
        };
        let response = match sent {
            Ok(response) => response,
            Err(error) if aborted_by_caller(&error) => {
                return Err(ApiError::unreadable(
                    "The request body could not be read completely.",
                ));
            }
            Err(error) => {
                return Err(self.transport_failure(caller, error.is_connect(), &error));
            }
        };
        let (head, body) = response.into_parts();
        let status = head.status;
        let headers = head.headers;
        if let Some(fault) = framing_fault(status, &headers, bodiless) {
            tracing::warn!(
                request_id = %caller.request_id.as_str(),
                upstream_status = status.as_u16(),
                fault,
                "upstream answer refused for its framing"
            );
            return Err(ApiError::upstream_failed(format!(
                "OpenRouter's answer could not be passed on: {fault}. Nothing of it was sent; \
                 try again."
            )));
        }
        let sse = takes_our_event(&headers);
        let now = Instant::now();
        caller
            .stats
            .record(status.as_u16(), now.saturating_duration_since(started));
        let first_deadline = if sse {
            deadline::after_tokio(now, idle)
        } else {
            deadline::after_tokio(started, self.timeout).max(deadline::after_tokio(now, idle))
        };
        tracing::debug!(
            request_id = %caller.request_id.as_str(),
            upstream_status = status.as_u16(),
            upstream_head_ms = started.elapsed().as_secs_f64() * 1000.0,
            sse,
            "upstream answered"
        );
        let mut chunks = upstream::chunks(body);
        // A plain body's first chunk is read before anything is answered, so an answer whose
        // body breaks at once (a bad chunk size, nothing under its `Content-Length`) is a `502`
        // rather than a connection cut with nothing said. An event stream answers at once: its
        // end carries an error event of its own.
        let first = if sse {
            None
        } else {
            match tokio::time::timeout_at(first_deadline, chunks.next()).await {
                Ok(Some(Ok(chunk))) => Some(chunk),
                Ok(None) => None,
                Ok(Some(Err(error))) => return Err(self.transport_failure(caller, false, &error)),
                Err(_) => return Err(ApiError::UpstreamTimeout(self.timeout)),
            }
        };
        let chunks = futures_util::stream::iter(first.map(Ok)).chain(chunks);
        Ok(Streamed {
            status,
            headers,
            body: StreamedBody::new(
                chunks,
                first_deadline,
                idle,
                caller.request_id.as_str().to_owned(),
                sse,
                slot,
            ),
        })
    }

    /// `{base}/{path}?{query}` in one parse, refused (`404`) when dot segments would leave the
    /// base path or a backslash could be read as one by upstream.
    fn passthrough_uri(&self, path: &str, query: &str) -> Result<hyper::Uri, ApiError> {
        let path = without_dot_segments(path).ok_or(ApiError::NotFound)?;
        let base = self.passthrough_base.as_str();
        let mut text = String::with_capacity(base.len() + path.len() + query.len() + 2);
        text.push_str(base);
        text.push('/');
        text.push_str(&path);
        if !query.is_empty() {
            text.push('?');
            text.push_str(query);
        }
        hyper::Uri::try_from(text).map_err(|_| ApiError::NotFound)
    }
}

/// `path` with its dot segments (`.` and `..`, plainly or percent-encoded) resolved as RFC 3986
/// section 5.2.4 does; `None` when a `..` would climb above the base, or when the path holds a
/// backslash (which some servers read as `/`). The usual path has none and is borrowed.
fn without_dot_segments(path: &str) -> Option<Cow<'_, str>> {
    if path.contains('\\') {
        return None;
    }
    if !path
        .split('/')
        .any(|segment| dot_segment(segment).is_some())
    {
        return Some(Cow::Borrowed(path));
    }
    let segments: Vec<&str> = path.split('/').collect();
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    let last = segments.len().saturating_sub(1);
    for (at, segment) in segments.into_iter().enumerate() {
        match dot_segment(segment) {
            Some(Dot::Here) => {}
            Some(Dot::Up) => {
                kept.pop()?;
            }
            None => kept.push(segment),
        }
        // A path that ends in a dot segment ends in a slash.
        if at == last && dot_segment(segment).is_some() {
            kept.push("");
        }
    }
    Some(Cow::Owned(kept.join("/")))
}

/// A dot segment: `.` or `..`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dot {
    Here,
    Up,
}

/// Whether `segment` is `.` or `..`, each dot written plainly or as `%2e` / `%2E`.
fn dot_segment(segment: &str) -> Option<Dot> {
    let mut rest = segment.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        if rest[0] == b'.' {
            rest = &rest[1..];
        } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"%2e") {
            rest = &rest[3..];
        } else {
            return None;
        }
        dots += 1;
    }
    match dots {
        1 => Some(Dot::Here),
        2 => Some(Dot::Up),
        _ => None,
    }
}

/// Why an upstream answer's framing makes it unsafe to hand on (RFC 9112 section 6.3): both a
/// `Content-Length` and a `Transfer-Encoding` (we choose the error over the chunked framing), or
/// a `101` (the pass-through never asks to switch protocols). An answer that has no body
/// whatever its headers say (to `HEAD`, a `204` or a `304`) has no framing to doubt.
fn framing_fault(
    status: reqwest::StatusCode,
    headers: &HeaderMap,
    to_head: bool,
) -> Option<&'static str> {
    if status == reqwest::StatusCode::SWITCHING_PROTOCOLS {
        return Some("it switched protocols (101), which was never asked for");
    }
    let bodiless = to_head || matches!(status.as_u16(), 204 | 304);
    if !bodiless
        && headers.contains_key(reqwest::header::CONTENT_LENGTH)
        && headers.contains_key(reqwest::header::TRANSFER_ENCODING)
    {
        return Some("it declared both a Content-Length and a Transfer-Encoding");
    }
    None
}

/// Whether an answer is a plain-text SSE stream, which an event of ours can end. A compressed
/// stream cannot take plain bytes at its end, so it is cut like any other body.
fn takes_our_event(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    let plain =
        text(CONTENT_ENCODING).is_none_or(|coding| coding.trim().eq_ignore_ascii_case("identity"));
    plain && text(CONTENT_TYPE).is_some_and(is_event_stream)
}

/// The error a caller's request body ends with when the caller's side gives up on it (too
/// large, broken, too slow); it aborts the upstream request without counting as a transport
/// failure.
#[derive(Debug, thiserror::Error)]
#[error("the caller's request body was refused or could not be read")]
pub struct UploadAborted;

/// Whether a failed send was aborted by the caller's body rather than by the transport.
fn aborted_by_caller(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<UploadAborted>() {
            return true;
        }
        source = current.source();
    }
    false
}

/// Whether a `Content-Type` is `text/event-stream`, whatever its parameters and letter case.
fn is_event_stream(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    fn client(base: &str) -> OpenRouterClient {
        OpenRouterClient::new(&Settings::for_upstream(base).unwrap()).unwrap()
    }

    #[test]
    fn the_path_and_query_go_below_the_base_as_sent() {
        let uri = client("http://h/api/v1")
            .passthrough_uri("models/a%2Fb/c:free/endpoints", "x=1&y=%20")
            .unwrap();
        assert_eq!(
            uri.to_string(),
            "http://h/api/v1/models/a%2Fb/c:free/endpoints?x=1&y=%20"
        );
        let uri = client("https://h/api/v1/?q=1")
            .passthrough_uri("models", "")
            .unwrap();
        assert_eq!(uri.to_string(), "https://h/api/v1/models");
    }

    #[test]
    fn dot_segments_cannot_leave_the_base_path() {
        let client = client("http://h/api/v1/");
        for path in [
            "../x",
            "a/../../x",
            "%2e%2e/x",
            "..",
            ".%2E",
            "a\\..\\..\\x",
            "./..",
        ] {
            assert!(client.passthrough_uri(path, "").is_err(), "{path}");
        }
        let resolved = |path| client.passthrough_uri(path, "").unwrap().to_string();
        assert_eq!(resolved("a/../b"), "http://h/api/v1/b");
        assert_eq!(resolved("./a/%2e/b"), "http://h/api/v1/a/b");
        assert_eq!(resolved("a/.."), "http://h/api/v1/");
        assert_eq!(resolved("a/b/."), "http://h/api/v1/a/b/");
        assert_eq!(resolved("a/..b/.c"), "http://h/api/v1/a/..b/.c");
    }

    #[test]
    fn event_stream_content_types_are_recognised() {
        assert!(is_event_stream("text/event-stream"));
        assert!(is_event_stream("Text/Event-Stream; charset=utf-8"));
        assert!(!is_event_stream("application/json"));
    }

    #[test]
    fn only_a_plain_event_stream_takes_an_event_of_ours() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        let sse = ("content-type", "text/event-stream");
        assert!(takes_our_event(&headers(&[sse])));
        assert!(takes_our_event(&headers(&[
            sse,
            ("content-encoding", "identity")
        ])));
        assert!(!takes_our_event(&headers(&[
            sse,
            ("content-encoding", "gzip")
        ])));
        assert!(!takes_our_event(&headers(&[(
            "content-type",
            "application/json"
        )])));
    }
}
