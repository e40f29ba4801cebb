//! The `X-RateLimit-*` headers of an allowed call, added on the way out from the admission the
//! `Connection` extractor recorded. Refused calls get theirs from the `429` itself.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use super::Admission;

/// `X-RateLimit-Limit`: calls per minute.
pub const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// `X-RateLimit-Remaining`: calls that could still go at once.
pub const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `X-RateLimit-Reset`: seconds until the next call is allowed.
pub const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Middleware body: see the module documentation.
pub async fn add_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    let admission = response.request().extensions().get::<Admission>().copied();
    if let Some(admission) = admission {
        let headers = response.headers_mut();
        if !headers.contains_key(LIMIT) {
            headers.insert(LIMIT, HeaderValue::from(admission.limit));
        }
        if let Some(remaining) = admission.remaining
            && !headers.contains_key(REMAINING)
        {
            headers.insert(REMAINING, HeaderValue::from(remaining));
        }
    }
    Ok(response)
}
