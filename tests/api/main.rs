//! Black-box tests: the real service on a free port, in front of the OpenRouter simulator.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly"
)]

mod architecture;
mod body_limit;
mod captures;
mod chat_completion;
mod completion;
mod connector;
mod contract;
mod deploy;
mod errors;
mod faults;
mod fuzz;
mod get_credits;
mod get_generation;
mod helpers;
mod hostile;
mod jobs;
mod json_diff;
mod list_model_endpoints;
mod list_models;
mod logged;
mod mcp_client;
mod mcp_connector;
mod mcp_protocol;
mod mcp_red_team;
mod mcp_tools;
mod newcomer;
mod operations;
mod output_schema;
mod passthrough;
mod promises;
mod rate_limit;
mod robustness;
mod servers;
mod structured_output;
