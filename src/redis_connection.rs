//! One lazily opened, self-reconnecting Redis connection, shared by the rate limiter and the
//! job store. Nothing connects until the first use, so the service starts while Redis is down;
//! the connection manager reconnects by itself once it is back.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

/// What went wrong with Redis.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// `REDIS_URL` cannot be used.
    #[error("REDIS_URL: {0}")]
    Url(#[source] redis::RedisError),
    /// Built outside a Tokio runtime.
    #[error("a Redis connection needs a Tokio runtime")]
    NoRuntime,
    /// No connection could be opened.
    #[error("Redis is unreachable: {0}")]
    Unreachable(String),
    /// Redis did not answer within the bound.
    #[error("Redis did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// Redis answered with an error.
    #[error("Redis failed: {0}")]
    Failed(#[source] redis::RedisError),
}

/// A Redis at one URL.
pub struct SharedRedis {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    timeout: Duration,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for SharedRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRedis")
            .field("connected", &self.connection.initialized())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SharedRedis {
    /// A Redis at `url`, each round trip bounded by `timeout`. The connection's driver task will
    /// run on the runtime this is called on (the main one), so it outlives the HTTP workers and
    /// jobs can still be recorded while the service shuts down.
    pub fn new(url: &str, timeout: Duration) -> Result<SharedRedis, RedisError> {
        let client = redis::Client::open(url).map_err(RedisError::Url)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| RedisError::NoRuntime)?;
        Ok(SharedRedis {
            client,
            connection: OnceCell::new(),
            timeout,
            runtime,
        })
    }

    /// The round-trip bound (`REDIS_TIMEOUT_MS`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connection, opened on first use.
    pub async fn connection(&self) -> Result<ConnectionManager, RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let client = self.client.clone();
        let runtime = self.runtime.clone();
        self.connection
            .get_or_try_init(|| async move {
                runtime
                    .spawn(ConnectionManager::new_with_config(client, config))
                    .await
                    .map_err(|_| "the connecting task stopped".to_owned())?
                    .map_err(|error| error.to_string())
            })
            .await
            .cloned()
            .map_err(RedisError::Unreachable)
    }

    /// Whether Redis answers a PING in time.
    pub async fn is_healthy(&self) -> bool {
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
