//! The OpenRouter-compatible pass-through: `/api/v1/{rest}`, any method, forwarded to
//! `{base}/{rest}` with the same key handling and rate limit as the connector actions, and
//! OpenRouter's answer streamed back unchanged as it arrives (contract section 7).

use std::cell::Cell;
use std::rc::Rc;

use actix_web::body::{BodyStream, SizedStream};
use actix_web::http::header::{self, HeaderMap as CallerHeaders};
use actix_web::http::{Method as CallerMethod, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::mpsc;

use crate::connection::{API_KEY_HEADER, Connection};
use crate::error::{ApiError, ErrorBody};
use crate::metrics;
use crate::openrouter::{Caller, Forward, ForwardBody, Streamed, UploadAborted};
use crate::request_id::RequestId;
use crate::routes;
use crate::state::{AppState, Limits};

/// Request body chunks buffered on their way upstream.
const UPLOAD_QUEUE: usize = 8;
/// A body whose `Content-Length` is at most this is read whole before the call goes upstream,
/// as nginx buffers request bodies: one write upstream, and no task or queue for the call.
/// Larger and chunked bodies stream upstream as they arrive.
const BUFFERED_BODY_BYTES: u64 = 64 * 1024;

/// Forwards any call under `/api/v1/` to OpenRouter and streams its answer back.
///
/// Any method is forwarded (`GET` for models, credits, generation and key; `POST` for chat
/// completions, completions, embeddings and files; and the rest), with its path, query, body and
/// headers, except hop-by-hop headers and the caller's own key header: OpenRouter always gets
/// the key as `Authorization: Bearer`. OpenRouter's status, headers and body come back
/// unchanged, Server-Sent Events chunk by chunk as they arrive. A stream silent for
/// `STREAM_IDLE_TIMEOUT_SECS` ends with an SSE error event. Counts against the connection's
/// rate limit like a connector action.
#[utoipa::path(
    method(get, head, post, put, patch, delete, options),
    path = routes::PASS_THROUGH.path,
    operation_id = routes::PASS_THROUGH.operation_id,
    tag = "OpenRouter-compatible API",
    params(
        ("rest" = String, Path, description = "The OpenRouter API path, e.g. `chat/completions`, `models`, `credits`, `generation` or `key`."),
    ),
    request_body(
        content = Option<serde_json::Value>,
        description = "OpenRouter's request body, forwarded unchanged (any content type, up to `PASSTHROUGH_MAX_BODY_BYTES`).",
    ),
    responses(
        (status = 200, description = "OpenRouter's answer, unchanged: JSON, or Server-Sent Events when the request asked for `stream`.", content(
            (serde_json::Value = "application/json"),
            (String = "text/event-stream"),
        )),
        (status = 401, description = "No OpenRouter key, or OpenRouter refused it.", body = ErrorBody),
        (status = 413, description = "The request body is larger than `PASSTHROUGH_MAX_BODY_BYTES`.", body = ErrorBody),
        (status = 429, description = "Too many calls on this connection; wait `Retry-After` seconds.", body = ErrorBody),
        (status = 502, description = "OpenRouter could not be reached or broke the connection.", body = ErrorBody),
        (status = 503, description = "The service is at `MAX_CONCURRENT_UPSTREAM` calls or restarting; retry after `Retry-After` seconds.", body = ErrorBody),
        (status = 504, description = "OpenRouter did not start answering in time.", body = ErrorBody),
        (status = "default", description = "Any other status is OpenRouter's own answer (such as 400, 402, 403 or 404), passed through unchanged."),
    ),
    security(("api_key" = []))
)]
pub async fn passthrough(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Before anything else: a method OpenRouter's API does not use never goes upstream.
    let forwarded_method = method(req.method())?;
    let limits = state.limits;
    let declared = declared_length(req.headers());
    if declared.is_some_and(|length| length > limits.passthrough_body_bytes as u64) {
        return Err(ApiError::PayloadTooLarge {
            limit: limits.passthrough_body_bytes,
        });
    }
    let connection = Connection::open(&req, &state).await?;
    let request_id = RequestId::extract(&req)
        .await
        .unwrap_or_else(|_| RequestId::from_caller(None));
    let upload = Upload::start(req.headers(), declared, payload, limits).await?;
    let forward = Forward {
        method: forwarded_method,
        path: forwarded_path(&req),
        query: req.query_string(),
        headers: forwarded_headers(req.headers()),
        body: upload.body,
        upload_ended: upload.ended,
    };
    let stats = metrics::upstream_stats(&req);
    let caller = Caller {
        key: connection.key(),
        request_id: &request_id,
        stats: &stats,
    };
    match state
        .client
        .forward(caller, forward, limits.stream_idle)
        .await
    {
        Ok(streamed) => Ok(respond(streamed, req.method() == CallerMethod::HEAD)),
        Err(error) => Err(upload.failure.get().map_or(error, ApiError::from)),
    }
}

/// The path below `/api/v1/` as the caller sent it, percent-encoding and all.
fn forwarded_path(req: &HttpRequest) -> &str {
    req.path()
        .strip_prefix("/api/v1/")
        .or_else(|| req.match_info().get("rest"))
        .unwrap_or_default()
}

/// The caller's method, as the upstream client spells it: only the methods OpenRouter's API
/// uses; `TRACE`, `CONNECT` and any other are a `405` (contract section 7).
fn method(method: &CallerMethod) -> Result<reqwest::Method, ApiError> {
    let forwarded = match method.as_str() {
        "GET" => reqwest::Method::GET,
        "HEAD" => reqwest::Method::HEAD,
        "POST" => reqwest::Method::POST,
        "PUT" => reqwest::Method::PUT,
        "PATCH" => reqwest::Method::PATCH,
        "DELETE" => reqwest::Method::DELETE,
        "OPTIONS" => reqwest::Method::OPTIONS,
        _ => {
            return Err(ApiError::MethodNotAllowed {
                allow: routes::Methods::Forwarded.allow(),
            });
        }
    };
    Ok(forwarded)
}

/// The body length the caller declared in `Content-Length`, if any.
fn declared_length(headers: &CallerHeaders) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse().ok())
}

/// Headers that belong to one connection and are never forwarded (RFC 9110 section 7.6.1),
/// plus `Host`.
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "te"
            | "trailer"
            | "trailers"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    ) || name.starts_with("proxy-")
}

/// Whether `name` is listed in a `Connection` header, which makes it hop-by-hop too.
fn listed_in_connection<'a>(mut values: impl Iterator<Item = &'a [u8]>, name: &str) -> bool {
    values.any(|value| {
        value
            .split(|byte| *byte == b',')
            .any(|token| token.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
    })
}

/// The caller's headers to send upstream: not hop-by-hop, not its key (the client sets
/// `Authorization` itself), not `Expect`, not its request id (the client sends the checked one).
fn forwarded_headers(headers: &CallerHeaders) -> HeaderMap {
    let mut forwarded = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let name = name.as_str();
        let skipped = is_hop_by_hop(name)
            || matches!(name, "authorization" | "expect" | "x-request-id")
            || name == API_KEY_HEADER
            || listed_in_connection(
                headers
                    .get_all(header::CONNECTION)
                    .map(|value| value.as_bytes()),
                name,
            );
        if skipped {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            forwarded.append(name, value);
        }
    }
    forwarded
}

/// Upstream's answer as the caller's response: status, end-to-end headers, and the body
/// streamed with upstream's `Content-Length` when it sent one. An answer to `HEAD` has no body:
/// upstream's `Content-Length` is declared and nothing sent, so the connection stays in step
/// for the next request on it.
fn respond(streamed: Streamed, to_head: bool) -> HttpResponse {
    let status = StatusCode::from_u16(streamed.status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = HttpResponse::build(status);
    let connection = &streamed.headers;
    for (name, value) in &streamed.headers {
        let name = name.as_str();
        let skipped = is_hop_by_hop(name)
            || name == "content-length"
            || listed_in_connection(
                connection
                    .get_all(reqwest::header::CONNECTION)
                    .iter()
                    .map(|value| value.as_bytes()),
                name,
            );
        if !skipped {
            response.append_header((name, value.as_bytes()));
        }
    }
    if status.is_informational() || matches!(status.as_u16(), 204 | 304) {
        return response.finish();
    }
    // An SSE stream may get an error event of ours at its end, so it never declares a length.
    let length = streamed
        .headers
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|_| !streamed.body.is_event_stream());
    if to_head {
        // A stream of nothing: actix-web then writes the `Content-Length` set here (a sized
        // body would be checked against it, a finished one declare 0).
        if let Some(length) = length {
            response.no_chunking(length);
        }
        let nothing = futures_util::stream::empty::<Result<Bytes, std::convert::Infallible>>();
        return response.body(BodyStream::new(nothing));
    }
    match length {
        Some(length) => response.body(SizedStream::new(length, streamed.body)),
        None => response.body(BodyStream::new(streamed.body)),
    }
}

/// Why the caller's body did not reach upstream whole.
#[derive(Clone, Copy, Debug)]
enum UploadFailure {
    /// It was over the limit (without a `Content-Length` saying so beforehand).
    TooLarge(usize),
    /// It could not be read to its end.
    Broken,
    /// The caller sent nothing for the idle timeout.
    Slow,
}

impl From<UploadFailure> for ApiError {
    fn from(failure: UploadFailure) -> ApiError {
        match failure {
            UploadFailure::TooLarge(limit) => ApiError::PayloadTooLarge { limit },
            UploadFailure::Broken => {
                ApiError::unreadable("The request body could not be read completely.")
            }
            UploadFailure::Slow => ApiError::SlowBody,
        }
    }
}

/// The caller's body on its way upstream, chunk by chunk, and how reading it failed, if it did.
struct Upload {
    body: ForwardBody,
    failure: Rc<Cell<Option<UploadFailure>>>,
    /// For a body that streams upstream: when its last byte was read (`None` until then).
    ended: Option<Rc<Cell<Option<std::time::Instant>>>>,
}

impl Upload {
    /// Starts moving the body upstream. A small body with a declared length is read whole
    /// first (failing here when it cannot be). Any other body streams: the caller's payload
    /// lives on this worker's thread, so a local task reads it and hands the chunks to the HTTP
    /// client through a small queue.
    async fn start(
        headers: &CallerHeaders,
        declared: Option<u64>,
        payload: web::Payload,
        limits: Limits,
    ) -> Result<Upload, ApiError> {
        let failure = Rc::new(Cell::new(None));
        let chunked = headers
            .get(header::TRANSFER_ENCODING)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"chunked"));
        let has_body = match declared {
            Some(length) => length > 0,
            None => chunked,
        };
        if !has_body {
            return Ok(Upload {
                body: ForwardBody::Empty,
                failure,
                ended: None,
            });
        }
        if let Some(length) = declared.filter(|length| *length <= BUFFERED_BODY_BYTES) {
            let body = read_whole(payload, length as usize, limits).await?;
            return Ok(Upload {
                body: ForwardBody::Whole(body),
                failure,
                ended: None,
            });
        }
        let (sender, receiver) = mpsc::channel(UPLOAD_QUEUE);
        let ended = Rc::new(Cell::new(None));
        actix_web::rt::spawn(pump(
            payload,
            sender,
            limits,
            Rc::clone(&failure),
            Rc::clone(&ended),
        ));
        let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        });
        Ok(Upload {
            body: ForwardBody::Streamed(Box::pin(chunks)),
            failure,
            ended: Some(ended),
        })
    }
}

/// Reads a body of about `length` bytes whole, with the idle timeout between chunks. A body
/// that came in one chunk (the usual case) is kept without a copy.
async fn read_whole(
    mut payload: web::Payload,
    length: usize,
    limits: Limits,
) -> Result<Bytes, UploadFailure> {
    let mut first: Option<Bytes> = None;
    let mut joined = bytes::BytesMut::new();
    loop {
        let chunk = match tokio::time::timeout(limits.stream_idle, payload.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(Some(Err(_))) => return Err(UploadFailure::Broken),
            Ok(None) if joined.is_empty() => return Ok(first.unwrap_or_default()),
            Ok(None) => return Ok(joined.freeze()),
            Err(_) => return Err(UploadFailure::Slow),
        };
        let read = first.as_ref().map_or(0, Bytes::len) + joined.len() + chunk.len();
        if read > limits.passthrough_body_bytes {
            return Err(UploadFailure::TooLarge(limits.passthrough_body_bytes));
        }
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            Some(earlier) => {
                joined.reserve(length.max(read));
                joined.extend_from_slice(&earlier);
                joined.extend_from_slice(&chunk);
            }
            None => joined.extend_from_slice(&chunk),
        }
    }
}

/// Reads the caller's body into the queue, stopping with an error past the size limit or
/// after the idle timeout without a byte.
async fn pump(
    mut payload: web::Payload,
    sender: mpsc::Sender<Result<Bytes, UploadAborted>>,
    limits: Limits,
    failure: Rc<Cell<Option<UploadFailure>>>,
    ended: Rc<Cell<Option<std::time::Instant>>>,
) {
    // Whichever way it ends, upstream's clock for its answer starts then.
    struct EndsClock(Rc<Cell<Option<std::time::Instant>>>);
    impl Drop for EndsClock {
        fn drop(&mut self) {
            self.0.set(Some(std::time::Instant::now()));
        }
    }
    let _clock = EndsClock(ended);
    let limit = limits.passthrough_body_bytes;
    let mut sent = 0usize;
    loop {
        let item = match tokio::time::timeout(limits.stream_idle, payload.next()).await {
            Ok(None) => return,
            Ok(Some(Ok(chunk))) if sent + chunk.len() <= limit => {
                sent += chunk.len();
                Ok(chunk)
            }
            Ok(Some(Ok(_))) => Err(UploadFailure::TooLarge(limit)),
            Ok(Some(Err(_))) => Err(UploadFailure::Broken),
            Err(_) => Err(UploadFailure::Slow),
        };
        let item = item.map_err(|why| {
            failure.set(Some(why));
            UploadAborted
        });
        let stop = item.is_err();
        if sender.send(item).await.is_err() || stop {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName as Name, HeaderValue as Value};

    fn caller(pairs: &[(&'static str, &'static str)]) -> CallerHeaders {
        let mut headers = CallerHeaders::new();
        for (name, value) in pairs {
            headers.append(Name::from_static(name), Value::from_static(value));
        }
        headers
    }

    #[test]
    fn hop_by_hop_headers_and_keys_are_not_forwarded() {
        let headers = forwarded_headers(&caller(&[
            ("connection", "keep-alive, x-secret-hop"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic x"),
            ("te", "trailers"),
            ("upgrade", "h2c"),
            ("host", "example.com"),
            ("x-secret-hop", "1"),
            ("authorization", "Bearer sk-or-1"),
            ("api_key", "sk-or-1"),
            ("expect", "100-continue"),
            ("content-type", "application/json"),
            ("accept", "text/event-stream"),
            ("x-title", "My app"),
        ]));
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["accept", "content-type", "x-title"]);
    }

    #[test]
    fn a_header_named_in_connection_is_hop_by_hop_in_any_case() {
        let values = [&b"Keep-Alive, X-Custom"[..]];
        assert!(listed_in_connection(values.into_iter(), "x-custom"));
        assert!(!listed_in_connection(values.into_iter(), "x-other"));
    }
}
