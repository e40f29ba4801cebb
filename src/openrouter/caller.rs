//! Who calls OpenRouter: the caller's key and request id, and where the answers it gets are
//! counted. The stats travel with the caller, so an async job that outlives its request is
//! measured like a synchronous call.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::domain::ApiKey;
use crate::request_id::RequestId;

/// Who is calling, under which request id, and where its upstream answers are counted.
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    /// The caller's key, sent as `Authorization: Bearer`.
    pub key: &'a ApiKey,
    /// The request id, sent as `X-Request-Id`.
    pub request_id: &'a RequestId,
    /// Where each answer read from upstream is recorded.
    pub stats: &'a UpstreamStats,
}

/// A caller that can outlive its request: what a job needs to call upstream.
#[derive(Clone, Debug)]
pub struct OwnedCaller {
    key: ApiKey,
    request_id: RequestId,
    stats: UpstreamStats,
}

impl OwnedCaller {
    /// Takes a caller's key, request id and stats.
    pub fn new(key: ApiKey, request_id: RequestId, stats: UpstreamStats) -> OwnedCaller {
        OwnedCaller {
            key,
            request_id,
            stats,
        }
    }

    /// The caller, as the upstream client takes it.
    pub fn caller(&self) -> Caller<'_> {
        Caller {
            key: &self.key,
            request_id: &self.request_id,
            stats: &self.stats,
        }
    }

    /// Where this caller's upstream answers are counted.
    pub fn stats(&self) -> &UpstreamStats {
        &self.stats
    }
}

/// One answer read from upstream: its status and how long it took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpstreamAnswer {
    /// Upstream's status code.
    pub status: u16,
    /// From sending the request to reading the answer's head (or whole body, for JSON).
    pub elapsed: Duration,
}

/// The upstream answers of one call, gathered while it runs (shared by clones: a job's copy
/// records into the same list as the request that started it).
#[derive(Clone, Debug, Default)]
pub struct UpstreamStats(Arc<Mutex<Vec<UpstreamAnswer>>>);

impl UpstreamStats {
    /// Records one answer.
    pub fn record(&self, status: u16, elapsed: Duration) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(UpstreamAnswer { status, elapsed });
    }

    /// Takes the answers recorded so far, leaving none (so nothing is counted twice).
    pub fn take(&self) -> Vec<UpstreamAnswer> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
