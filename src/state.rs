//! The application state: built once at start-up from the settings, registered once in the App
//! (`startup.rs`), and read by every handler and extractor. Nothing on the request path falls
//! back to a default when it is missing: that is a start-up bug, answered loudly.

use crate::body_budget::BodyBudget;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, web};

use crate::error::ApiError;
use crate::jobs::Jobs;
use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::openrouter::OpenRouterClient;
use crate::rate_limit::RateLimiter;

/// Everything a request may need, shared by all workers.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The upstream client of this worker (its pools are the worker's own).
    pub client: Arc<OpenRouterClient>,
    /// The per-connection limiter.
    pub limiter: Arc<RateLimiter>,
    /// Long generations run as jobs.
    pub jobs: Arc<Jobs>,
    /// Serving or draining.
    pub lifecycle: Arc<Lifecycle>,
    /// The service's metrics.
    pub metrics: Arc<Metrics>,
    /// Body sizes and stream timeouts.
    pub limits: Limits,
    /// The memory the actions' request bodies may hold at once.
    pub bodies: BodyBudget,
}

/// Body sizes and stream timeouts, from the settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest body of a connector action (`MAX_BODY_BYTES`); larger is a `413`.
    pub body_bytes: usize,
    /// The largest body of the pass-through (`PASSTHROUGH_MAX_BODY_BYTES`).
    pub passthrough_body_bytes: usize,
    /// The longest silence of a streamed body, either way (`STREAM_IDLE_TIMEOUT_SECS`).
    pub stream_idle: Duration,
}

impl AppState {
    /// The state for the worker thread that calls this: its own upstream client (connection
    /// pools), everything else shared.
    pub fn for_this_worker(&self) -> Result<AppState, crate::openrouter::ClientError> {
        Ok(AppState {
            client: Arc::new(self.client.for_this_worker()?),
            ..self.clone()
        })
    }

    /// The state of the App that serves `req`.
    pub fn of(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
        req.app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or(ApiError::StateMissing)
    }
}
