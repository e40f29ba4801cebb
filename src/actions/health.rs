//! Liveness and readiness, for load balancers and orchestrators; no key, not rate limited.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

/// The service's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the service can serve.
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
/// Answers `200` when the service can take calls.
#[utoipa::path(get, path = "/health/ready", operation_id = "Ready", tag = "Service",
    responses((status = 200, description = "The service takes calls.", body = Health)))]
pub async fn ready() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}
