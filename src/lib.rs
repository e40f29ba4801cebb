//! `openrouter-connector`: a service that lets Microsoft Power Platform use every model on
//! OpenRouter through six flat, flow-friendly connector actions.
//!
//! A request travels one way and comes back the same way:
//! middleware (request id, tracing) → [`connection::Connection`] (key, 401) →
//! an action in [`actions`] (flat request → OpenRouter request) → [`openrouter::OpenRouterClient`]
//! → a tolerant parse of OpenRouter's answer → a flat response, or an [`error::ApiError`] in
//! OpenRouter's error shape.

pub mod actions;
pub mod body_budget;
pub mod connection;
pub mod connector;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod lifecycle;
pub mod mcp;
pub mod metrics;
pub mod openapi;
pub mod openrouter;
pub mod rate_limit;
pub mod redis_connection;
pub mod request_id;
pub mod routes;
pub mod schema;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
