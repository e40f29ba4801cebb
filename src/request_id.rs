//! The outermost middleware: gives every request an id (the caller's `X-Request-Id` when it is
//! safe, else a new one), logs the request once when its answer's head is ready, and returns the
//! id in the response.
//!
//! One line per request, with every field in it (id, method, path, connection, status, time,
//! and the error for a refused or failed call), instead of a span whose fields the JSON
//! formatter would serialise at its start, again at each record, and parse back for every event
//! inside it: on the pass-through that was a fifth of the service's CPU per call. The rare
//! events logged deeper down (retries, upstream failures, a stream cut short) carry
//! `request_id` themselves.

use std::time::Instant;

use actix_web::HttpResponse;
use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest};
use std::future::{Ready, ready};

use crate::domain::ConnectionId;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::routes::{self, McpMessage};

/// The header that carries the request id, both ways and upstream.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of one request, as logged, returned, and sent upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The caller's id when it is at most 128 letters, digits, `.`, `_` or `-`; else a new one.
    pub fn from_caller(offered: Option<&str>) -> RequestId {
        match offered {
            Some(id) if is_safe(id) => RequestId(id.to_owned()),
            // A request id must be unique, not secret: a fast thread-local generator instead
            // of a `getrandom` system call per request.
            _ => RequestId(
                uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes())
                    .into_uuid()
                    .to_string(),
            ),
        }
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_safe(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl FromRequest for RequestId {
    type Error = Error;
    type Future = Ready<Result<RequestId, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.extensions().get::<RequestId>().cloned();
        ready(Ok(id.unwrap_or_else(|| RequestId::from_caller(None))))
    }
}

/// Middleware body: see the module documentation.
pub async fn assign<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let offered = req
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok());
    let id = RequestId::from_caller(offered);
    let header = HeaderValue::from_str(id.as_str()).ok();
    let started = Instant::now();
    let mut unanswered = Unanswered {
        armed: true,
        request_id: id.clone(),
        method: req.method().clone(),
        path: req.path().to_owned(),
        started,
    };
    req.extensions_mut().insert(id);
    let response = next.call(req).await;
    // Answered, or refused by a layer below: either way, `request finished` says so.
    unanswered.armed = false;
    let response = response?;
    log_finished(&response, started);

    let mut response = in_error_shape(response);
    if let Some(value) = header {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    Ok(response)
}

/// An error answered with an empty body by a service of actix-web or a library (an unknown
/// Swagger UI asset's `404`, say) gets the contract's error body, its headers (such as
/// `Allow`) kept: every error after routing has one shape (contract section 5).
fn in_error_shape<B: MessageBody>(response: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    let status = response.status();
    let empty = matches!(
        response.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    );
    // The pass-through hands on OpenRouter's answers unchanged, an empty `404` included.
    let passed_through =
        || routes::operation_of(response.request()) == routes::PASS_THROUGH.operation_id;
    if !(status.is_client_error() || status.is_server_error()) || !empty || passed_through() {
        return response.map_into_left_body();
    }
    let body = match status.as_u16() {
        // The service's own words for an unknown path, as its default route answers.
        404 => ApiError::NotFound.body(),
        code => ErrorBody {
            error: ErrorDetail {
                code,
                message: match code {
                    405 => "This path does not accept that method.".to_owned(),
                    _ => format!(
                        "The request was refused: {}.",
                        status.canonical_reason().unwrap_or("error")
                    ),
                },
                metadata: None,
            },
        },
    };
    let (req, old) = response.into_parts();
    let mut shaped = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            shaped.append_header((name.clone(), value.clone()));
        }
    }
    ServiceResponse::new(req, shaped.json(body)).map_into_right_body()
}

/// The request's line: `warn` for a `5xx`, else `info`.
/// A request being served, logged as abandoned if its handling is dropped before an answer:
/// actix-web drops it when the caller's connection breaks mid-request (a chunked body with a bad
/// chunk size, a caller that hangs up), and the call may have reached upstream by then.
struct Unanswered {
    /// Whether dropping it logs: until an answer (or an error) came back.
    armed: bool,
    request_id: RequestId,
    method: actix_web::http::Method,
    path: String,
    started: Instant,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        tracing::warn!(
            request_id = self.request_id.as_str(),
            method = self.method.as_str(),
            path = self.path,
            elapsed_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            "request abandoned: the connection ended before an answer"
        );
    }
}

fn log_finished<B>(response: &ServiceResponse<B>, started: Instant) {
    let status = response.status();
    let request = response.request();
    let extensions = request.extensions();
    let request_id = extensions.get::<RequestId>().map(RequestId::as_str);
    let connection = extensions
        .get::<ConnectionId>()
        .map(tracing::field::display);
    // The error's kind and field, never the values the caller sent (see `ApiError::for_log`).
    let error = response
        .response()
        .error()
        .map(|error| match error.as_error::<ApiError>() {
            Some(error) => error.for_log(),
            None => "refused by the HTTP layer".to_owned(),
        });
    // An MCP message's method, tool and outcome; its tool error's kind, where the HTTP answer
    // was a success.
    let mcp = extensions.get::<McpMessage>();
    let mcp_method = mcp.map(|message| message.method);
    let tool = mcp.and_then(|message| message.tool);
    let mcp_outcome = mcp.map(|message| message.outcome.as_str());
    let error = error
        .as_deref()
        .or(mcp.and_then(|message| message.error.as_deref()));
    macro_rules! finished {
        ($level:expr) => {
            tracing::event!(
                $level,
                request_id,
                method = request.method().as_str(),
                path = request.path(),
                connection,
                mcp_method,
                tool,
                mcp_outcome,
                status = status.as_u16(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                error,
                "request finished"
            )
        };
    }
    if status.is_server_error() {
        finished!(tracing::Level::WARN);
    } else {
        finished!(tracing::Level::INFO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_safe_caller_id_is_kept() {
        assert_eq!(
            RequestId::from_caller(Some("flow-run_1.2")).as_str(),
            "flow-run_1.2"
        );
    }

    #[test]
    fn an_unsafe_or_long_caller_id_is_replaced() {
        for offered in ["has space", "semi;colon", "", &"a".repeat(129)] {
            let id = RequestId::from_caller(Some(offered));
            assert_ne!(id.as_str(), offered);
            assert_eq!(id.as_str().len(), 36);
            assert_eq!(
                uuid::Uuid::parse_str(id.as_str())
                    .unwrap()
                    .get_version_num(),
                4
            );
        }
    }

    #[test]
    fn new_ids_do_not_repeat() {
        let ids: std::collections::HashSet<String> = (0..10_000)
            .map(|_| RequestId::from_caller(None).0)
            .collect();
        assert_eq!(ids.len(), 10_000);
    }
}
