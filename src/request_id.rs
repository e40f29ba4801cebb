//! The outermost middleware: gives every request an id (the caller's `X-Request-Id` when it is
//! safe, else a new one), opens the request's tracing span, logs the outcome once, and returns
//! the id in the response.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest};
use std::future::{Ready, ready};
use tracing::Instrument;

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
            _ => RequestId(uuid::Uuid::new_v4().to_string()),
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
pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let offered = req
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok());
    let id = RequestId::from_caller(offered);
    let span = tracing::info_span!(
        "request",
        request_id = %id.as_str(),
        method = %req.method(),
        path = %req.path(),
        connection = tracing::field::Empty,
    );
    req.extensions_mut().insert(id.clone());
    let started = Instant::now();
    let outcome = next.call(req).instrument(span.clone()).await;
    let mut response = outcome?;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    Ok(response)
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
        }
    }
}
