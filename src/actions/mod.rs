//! The connector actions, one file each, plus health; and the routing table that mounts them
//! with a `405` (and `Allow`) for a wrong method and a `404` in the contract's shape elsewhere.

pub mod chat_answer;
pub mod chat_completion;
mod chat_fast;
pub mod chat_upstream;
pub mod completion;
mod completion_fast;
pub mod files;
pub mod flat;
mod flat_fast;
pub mod forms;
pub mod get_credits;
pub mod get_generation;
pub mod get_job;
pub mod get_output_schema;
pub mod health;
pub mod images;
pub mod input;
mod json_scan;
pub mod list_model_endpoints;
pub mod list_models;
mod loose;
pub mod messages;
pub mod models;
mod models_fast;
pub mod options;
pub mod passthrough;
pub mod structured;

#[cfg(test)]
mod chat_fast_tests;
#[cfg(test)]
mod completion_fast_tests;
#[cfg(test)]
mod fast_checks;
#[cfg(test)]
mod models_fast_tests;

use actix_web::{HttpRequest, web};

use crate::error::ApiError;
use crate::routes::{self, mount};

/// Mounts every action and health route, each at its path of the route table.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(mount(routes::COMPLETION, completion::completion))
        .service(mount(
            routes::CHAT_COMPLETION,
            chat_completion::chat_completion,
        ))
        .service(mount(routes::LIST_MODELS, list_models::list_models))
        .service(mount(
            routes::LIST_MODEL_ENDPOINTS,
            list_model_endpoints::list_model_endpoints,
        ))
        .service(mount(routes::GET_CREDITS, get_credits::get_credits))
        .service(mount(
            routes::GET_GENERATION,
            get_generation::get_generation,
        ))
        .service(mount(
            routes::GET_OUTPUT_SCHEMA,
            get_output_schema::get_output_schema,
        ))
        .service(mount(routes::GET_JOB, get_job::get_job))
        .service(mount(routes::LIVE, health::live))
        .service(mount(routes::READY, health::ready))
        .service(
            web::resource(routes::PASS_THROUGH_PATTERN)
                .app_data(routes::Operation(routes::PASS_THROUGH.operation_id))
                .route(web::route().to(passthrough::passthrough)),
        );
}

/// The answer for a path no route matches; a model's endpoints asked for by a bare slug
/// (`/connector/v1/models/gpt-4o-mini/endpoints`) is told that ids are `author/slug`.
pub async fn not_found(req: HttpRequest) -> Result<String, ApiError> {
    let Some(model) = req
        .path()
        .trim_end_matches('/')
        .strip_prefix("/connector/v1/models/")
    else {
        return Err(ApiError::NotFound);
    };
    let segments: Vec<&str> = model.split('/').collect();
    match segments.as_slice() {
        // `models/gpt-4o-mini/endpoints`: a slug without its author.
        [slug, "endpoints"] if !slug.is_empty() => Err(ApiError::NotAModelPath),
        // `models/openai/gpt-4o-mini`: the model's own path, which has no action.
        [author, slug] if !author.is_empty() && !slug.is_empty() => Err(ApiError::NotAModelPath),
        _ => Err(ApiError::NotFound),
    }
}
