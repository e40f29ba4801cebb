//! The Redis store: the same GCRA as the in-process one, as one atomic Lua script, so N
//! replicas sharing a Redis admit one limit per connection, not N. Keys expire on their own.
//! Every Redis round trip is bounded by `REDIS_TIMEOUT_MS`; the connection manager reconnects
//! by itself when Redis comes back.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::{Decision, LimiterStore, Quota, StoreError};
use crate::domain::ConnectionId;

const KEY_PREFIX: &str = "openrouter-connector:rate:";

/// Limiter state in Redis, shared by every replica.
pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    script: redis::Script,
    quota: Quota,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("connected", &self.connection.initialized())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisStore {
    /// A store on the Redis at `url`; nothing is connected until the first call, so the
    /// service starts (unready) while Redis is down.
    pub fn new(url: &str, quota: Quota, timeout: Duration) -> Result<RedisStore, String> {
        let client = redis::Client::open(url).map_err(|error| format!("REDIS_URL: {error}"))?;
        Ok(RedisStore {
            client,
            connection: OnceCell::new(),
            script: redis::Script::new(include_str!("gcra.lua")),
            quota,
            timeout,
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        self.connection
            .get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config))
            .await
            .cloned()
            .map_err(|error| StoreError(format!("Redis is unreachable: {error}")))
    }

    async fn run(&self, id: ConnectionId) -> Result<Decision, StoreError> {
        let mut connection = self.connection().await?;
        let period_us = self.quota.period().as_micros() as u64;
        let (allowed, value): (i64, i64) = self
            .script
            .key(format!("{KEY_PREFIX}{id}"))
            .arg(period_us)
            .arg(self.quota.burst)
            .invoke_async(&mut connection)
            .await
            .map_err(|error| StoreError(format!("Redis failed: {error}")))?;
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
        tokio::time::timeout(self.timeout, self.run(id))
            .await
            .map_err(|_| {
                StoreError(format!(
                    "Redis did not answer within {} ms",
                    self.timeout.as_millis()
                ))
            })?
    }

    async fn is_healthy(&self) -> bool {
        let ping = async {
            let mut connection = self.connection().await.ok()?;
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .ok()
        };
        matches!(
            tokio::time::timeout(self.timeout * 4, ping).await,
            Ok(Some(_))
        )
    }
}
