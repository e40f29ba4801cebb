//! Everything that knows OpenRouter's wire: the one HTTP client, one method per resource, and
//! the reading of its answers.

mod answer;
mod caller;
mod client;
mod passthrough;
mod resources;
mod retry;
mod retry_after;
mod shape;

pub use answer::{interpret, is_route_missing};
pub use caller::{Caller, OwnedCaller, UpstreamAnswer, UpstreamStats};
pub use client::{ClientError, MAX_UPSTREAM_BODY_BYTES, OpenRouterClient, Upstream};
pub use passthrough::{BodyError, Forward, ForwardBody, Streamed, StreamedBody, UploadAborted};
pub use retry::Retry;
