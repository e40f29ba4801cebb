//! Liveness and readiness, for load balancers and orchestrators; no key, not rate limited.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::routes;
use crate::state::AppState;

/// The service's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the service can serve; otherwise why not.
    pub status: &'static str,
}

/// Liveness
///
/// Answers `200` while the process runs.
#[utoipa::path(get, path = routes::LIVE.path, operation_id = routes::LIVE.operation_id, tag = "Service",
    responses((status = 200, description = "The process is alive.", body = Health)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness
///
/// Answers `200` when the service can take calls; `503` while it drains for shutdown, or while a
/// configured Redis is unreachable and the rate limiter fails closed.
#[utoipa::path(get, path = routes::READY.path, operation_id = routes::READY.operation_id, tag = "Service",
    responses(
        (status = 200, description = "The service takes calls.", body = Health),
        (status = 503, description = "The service cannot take calls now.", body = Health),
    ))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.lifecycle.is_draining() {
        return HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .json(Health {
                status: "draining: the service is shutting down",
            });
    }
    if state.limiter.is_ready().await {
        HttpResponse::Ok().json(Health { status: "ok" })
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .json(Health {
                status: "unavailable: the rate limiter's Redis is unreachable",
            })
    }
}

/// `GET /metrics`: the metrics in Prometheus text format (no key, not rate limited).
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
