//! Liveness and readiness, for load balancers and orchestrators; no key, not rate limited.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::lifecycle::Lifecycle;
use crate::rate_limit::RateLimiter;

/// The service's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the service can serve; otherwise why not.
    pub status: &'static str,
}

/// Liveness
///
/// Answers `200` while the process runs.
#[utoipa::path(get, path = "/health/live", operation_id = "Live", tag = "Service",
    responses((status = 200, description = "The process is alive.", body = Health)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness
///
/// Answers `200` when the service can take calls; `503` while it drains for shutdown, or while a
/// configured Redis is unreachable and the rate limiter fails closed.
#[utoipa::path(get, path = "/health/ready", operation_id = "Ready", tag = "Service",
    responses(
        (status = 200, description = "The service takes calls.", body = Health),
        (status = 503, description = "The service cannot take calls now.", body = Health),
    ))]
pub async fn ready(
    limiter: web::Data<RateLimiter>,
    lifecycle: web::Data<Lifecycle>,
) -> HttpResponse {
    if lifecycle.is_draining() {
        return HttpResponse::ServiceUnavailable().json(Health {
            status: "draining: the service is shutting down",
        });
    }
    if limiter.is_ready().await {
        HttpResponse::Ok().json(Health { status: "ok" })
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .json(Health {
                status: "unavailable: the rate limiter's Redis is unreachable",
            })
    }
}
