//! The per-connection limit of contract section 3: a GCRA limiter (burst `RATE_LIMIT_BURST`,
//! one call back every `60 s / RATE_LIMIT_PER_MINUTE`), kept in process by `governor` or, with
//! `REDIS_URL`, in Redis so that every replica shares one limit per connection.

pub mod headers;
mod in_process;
mod redis_store;

use std::future::Future;
use std::time::Duration;

pub use headers::add_headers;
pub use in_process::InProcessStore;
pub use redis_store::RedisStore;

use crate::domain::ConnectionId;
use crate::redis_connection::RedisError;

/// The limit: how many calls at once, and how fast they come back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Calls per 60 seconds on average (`RATE_LIMIT_PER_MINUTE`).
    pub per_minute: u32,
    /// Calls allowed at once (`RATE_LIMIT_BURST`).
    pub burst: u32,
}

impl Quota {
    /// The time one call takes to come back: 60 s divided by `per_minute`.
    pub fn period(&self) -> Duration {
        Duration::from_nanos(60_000_000_000 / u64::from(self.per_minute.max(1)))
    }
}

/// What a store says about one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The call may go; `remaining` more could go at once after it.
    Allowed {
        /// Calls this connection could still make at once.
        remaining: u32,
    },
    /// The call must wait this long.
    Refused {
        /// Time until the next call is allowed.
        wait: Duration,
    },
}

/// A store could not decide (Redis unreachable or too slow).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StoreError(#[from] pub RedisError);

/// Where limiter state lives.
pub trait LimiterStore: Send + Sync {
    /// Charges one call to a connection.
    fn charge(&self, id: ConnectionId)
    -> impl Future<Output = Result<Decision, StoreError>> + Send;
    /// Whether the store can answer now.
    fn is_healthy(&self) -> impl Future<Output = bool> + Send;
}

/// The configured store.
#[derive(Debug)]
pub enum Store {
    /// `governor`, in this process.
    InProcess(InProcessStore),
    /// Redis, shared by every replica.
    Redis(Box<RedisStore>),
}

/// What was admitted, for the `X-RateLimit-*` headers of an allowed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    /// `RATE_LIMIT_PER_MINUTE`.
    pub limit: u32,
    /// Calls this connection could still make at once; unknown when Redis failed open.
    pub remaining: Option<u32>,
}

/// The limiter every action and the pass-through charge before calling upstream.
#[derive(Debug)]
pub struct RateLimiter {
    store: Store,
    quota: Quota,
    fail_open: bool,
}

/// Why the limiter refused a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The connection is over its limit.
    #[error("over the limit of {limit} calls per minute")]
    OverLimit {
        /// Calls per minute allowed.
        limit: u32,
        /// Time until the next call is allowed.
        wait: Duration,
    },
    /// The store (Redis) cannot answer and the limiter fails closed.
    #[error("the rate limiter's Redis is unreachable")]
    StoreUnavailable,
}

impl RateLimiter {
    /// A limiter over `store`; with `fail_open`, calls go through when the store cannot answer.
    pub fn new(store: Store, quota: Quota, fail_open: bool) -> RateLimiter {
        RateLimiter {
            store,
            quota,
            fail_open,
        }
    }

    /// Charges one call: `429` over the limit, `503` when the store cannot answer and the
    /// limiter fails closed.
    pub async fn charge(&self, id: ConnectionId) -> Result<Admission, Refusal> {
        let decision = match &self.store {
            Store::InProcess(store) => store.charge(id).await,
            Store::Redis(store) => store.charge(id).await,
        };
        match decision {
            Ok(Decision::Allowed { remaining }) => Ok(Admission {
                limit: self.quota.per_minute,
                remaining: Some(remaining),
            }),
            Ok(Decision::Refused { wait }) => {
                // The request's own line says 429 and why; this detail is for debugging.
                tracing::debug!(connection = %id, wait_ms = wait.as_millis() as u64, "rate limited");
                Err(Refusal::OverLimit {
                    limit: self.quota.per_minute,
                    wait,
                })
            }
            Err(error) if self.fail_open => {
                tracing::warn!(%error, "rate limiter store unavailable; failing open");
                Ok(Admission {
                    limit: self.quota.per_minute,
                    remaining: None,
                })
            }
            Err(error) => {
                tracing::warn!(%error, "rate limiter store unavailable; failing closed");
                Err(Refusal::StoreUnavailable)
            }
        }
    }

    /// Whether the service can take calls as far as the limiter goes: an unreachable Redis
    /// makes the service unready unless it fails open.
    pub async fn is_ready(&self) -> bool {
        match &self.store {
            Store::InProcess(_) => true,
            Store::Redis(store) => self.fail_open || store.is_healthy().await,
        }
    }

    /// The in-process store, when that is the store (for the idle-key sweeper).
    pub fn in_process(&self) -> Option<&InProcessStore> {
        match &self.store {
            Store::InProcess(store) => Some(store),
            Store::Redis(_) => None,
        }
    }
}

/// Whole seconds, rounded up, at least 1: what `Retry-After` and `X-RateLimit-Reset` say.
pub fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_nanos().div_ceil(1_000_000_000) as u64;
    seconds.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_quota_gives_one_call_back_every_600_ms() {
        let quota = Quota {
            per_minute: 100,
            burst: 100,
        };
        assert_eq!(quota.period(), Duration::from_millis(600));
    }

    #[test]
    fn waits_round_up_to_whole_seconds_and_never_to_zero() {
        assert_eq!(whole_seconds(Duration::from_millis(600)), 1);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(3)), 3);
    }
}
