//! The connector actions, one file each, plus health; and the routing table that mounts them
//! with a `405` (and `Allow`) for a wrong method and a `404` in the contract's shape elsewhere.

pub mod chat_completion;
pub mod completion;
pub mod flat;
pub mod forms;
pub mod get_credits;
pub mod get_generation;
pub mod get_job;
pub mod health;
pub mod input;
pub mod list_model_endpoints;
pub mod list_models;
pub mod messages;
pub mod models;
pub mod options;
pub mod passthrough;

use actix_web::{Resource, Route, web};

use crate::error::ApiError;

/// Mounts every action and health route.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(only(
            "/connector/v1/completions",
            "POST",
            web::post().to(completion::completion),
        ))
        .service(only(
            "/connector/v1/chat/completions",
            "POST",
            web::post().to(chat_completion::chat_completion),
        ))
        .service(only(
            "/connector/v1/models",
            "GET",
            web::get().to(list_models::list_models),
        ))
        .service(only(
            "/connector/v1/models/{author}/{slug}/endpoints",
            "GET",
            web::get().to(list_model_endpoints::list_model_endpoints),
        ))
        .service(only(
            "/connector/v1/credits",
            "GET",
            web::get().to(get_credits::get_credits),
        ))
        .service(only(
            "/connector/v1/generation",
            "GET",
            web::get().to(get_generation::get_generation),
        ))
        .service(only(
            "/connector/v1/jobs/{id}",
            "GET",
            web::get().to(get_job::get_job),
        ))
        .service(only("/health/live", "GET", web::get().to(health::live)))
        .service(only("/health/ready", "GET", web::get().to(health::ready)))
        .route("/api/v1/{rest:.*}", web::to(passthrough::passthrough));
}

/// A resource answering one method, and `405` with `Allow` to any other.
fn only(path: &str, allow: &'static str, route: Route) -> Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(move || async move {
            Err::<String, _>(ApiError::MethodNotAllowed { allow })
        }))
}

/// The answer for a path no route matches.
pub async fn not_found() -> Result<String, ApiError> {
    Err(ApiError::NotFound)
}
