//! The Redis store: the same GCRA as the in-process one, as one atomic Lua script, so N
//! replicas sharing a Redis admit one limit per connection, not N. Keys expire on their own.
//! Every Redis round trip is bounded by `REDIS_TIMEOUT_MS`; the connection manager reconnects
//! by itself when Redis comes back.

use std::sync::Arc;
use std::time::Duration;

use super::{Decision, LimiterStore, Quota, StoreError};
use crate::domain::ConnectionId;
use crate::redis_connection::{RedisError, SharedRedis};

const KEY_PREFIX: &str = "openrouter-connector:rate:";

/// Limiter state in Redis, shared by every replica.
#[derive(Debug)]
pub struct RedisStore {
    redis: Arc<SharedRedis>,
    script: redis::Script,
    quota: Quota,
}

impl RedisStore {
    /// A store on `redis`.
    pub fn new(redis: Arc<SharedRedis>, quota: Quota) -> RedisStore {
        RedisStore {
            redis,
            script: redis::Script::new(include_str!("gcra.lua")),
            quota,
        }
    }

    async fn run(&self, id: ConnectionId) -> Result<Decision, StoreError> {
        let mut connection = self.redis.connection().await?;
        let period_us = self.quota.period().as_micros() as u64;
        let (allowed, value): (i64, i64) = self
            .script
            .key(format!("{KEY_PREFIX}{id}"))
            .arg(period_us)
            .arg(self.quota.burst)
            .invoke_async(&mut connection)
            .await
            .map_err(RedisError::Failed)?;
        let value = u64::try_from(value).unwrap_or(0);
        Ok(if allowed == 1 {
            Decision::Allowed {
                remaining: u32::try_from(value).unwrap_or(u32::MAX),
            }
        } else {
            Decision::Refused {
                wait: Duration::from_micros(value),
            }
        })
    }
}

impl LimiterStore for RedisStore {
    async fn charge(&self, id: ConnectionId) -> Result<Decision, StoreError> {
        let timeout = self.redis.timeout();
        tokio::time::timeout(timeout, self.run(id))
            .await
            .map_err(|_| StoreError(RedisError::Timeout(timeout)))?
    }

    async fn is_healthy(&self) -> bool {
        self.redis.is_healthy().await
    }
}
