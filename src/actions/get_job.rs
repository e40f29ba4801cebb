//! Polling a long generation (contract section 4.7): `202` while it runs, then exactly what
//! the synchronous call would have answered. No key is needed (the id is the secret), a key of
//! another connection gets `404`, and polls are not rate limited.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::connection::Connection;
use crate::error::{ApiError, ErrorBody};
use crate::jobs::JobId;
use crate::routes;
use crate::state::AppState;

/// Poll a long generation
///
/// Answers `202 Accepted` while the generation started with `Prefer: respond-async` runs, then
/// exactly what Completion or Chat Completion would have answered. Power Automate and Logic
/// Apps follow this by themselves.
#[utoipa::path(
    get,
    path = routes::GET_JOB.path,
    operation_id = routes::GET_JOB.operation_id,
    tag = "Service",
    params(("id" = String, Path, description = "The job's id, from the `Location` of the `202`.")),
    responses(
        (status = 200, description = "The generation's answer, as the action would have given it."),
        (status = 202, description = "Still running: poll again after `Retry-After` seconds.",
            headers(("Location" = String, description = "The URL to poll."), ("Retry-After" = u64, description = "Seconds to wait before polling."))),
        (status = 404, description = "No such job: a wrong id, another connection's job, or an expired answer.", body = ErrorBody),
        (status = 503, description = "The job store (Redis) is unreachable.", body = ErrorBody),
    )
)]
pub async fn get_job(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(id) = JobId::parse(&id) else {
        return HttpResponse::from_error(ApiError::JobNotFound);
    };
    let poller = match Connection::from_headers(req.headers()) {
        Ok(connection) => Some(connection.id()),
        Err(ApiError::MissingKey) => None,
        Err(_) => return HttpResponse::from_error(ApiError::JobNotFound),
    };
    state.jobs.poll(&req, &id, poller).await
}
