//! Where jobs live: in this process, or in Redis (so any replica answers a poll). A job is
//! kept `JOB_TIMEOUT_SECS` plus `JOB_TTL_SECS` while it runs and `JOB_TTL_SECS` once done;
//! then it is gone and a poll answers `404`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{JobId, Outcome};
use crate::domain::ConnectionId;
use crate::redis_connection::{RedisError, SharedRedis};

/// Why a job could not be recorded or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis failed.
    #[error(transparent)]
    Redis(#[from] RedisError),
    /// The in-memory table was poisoned by a panic elsewhere.
    #[error("the job table is poisoned")]
    Poisoned,
    /// A record could not be written or read as JSON.
    #[error("a job record is unreadable: {0}")]
    Record(#[from] serde_json::Error),
    /// A record names no valid owner.
    #[error("a job record names no valid owner")]
    BadOwner,
}

const KEY_PREFIX: &str = "openrouter-connector:job:";

/// A job's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobState {
    /// The generation goes on.
    Running,
    /// The generation ended with this answer.
    Done(Outcome),
}

#[derive(Serialize, Deserialize)]
struct Record {
    owner: String,
    #[serde(flatten)]
    state: JobState,
}

/// The store of jobs.
#[derive(Debug)]
pub enum JobStore {
    /// In this process.
    Memory {
        /// Jobs by id, with their owner, state and expiry.
        jobs: Mutex<HashMap<JobId, (ConnectionId, JobState, Instant)>>,
        /// How long a running job is kept.
        running_ttl: Duration,
        /// How long a finished job is kept.
        done_ttl: Duration,
    },
    /// In Redis.
    Redis {
        /// The Redis.
        redis: Arc<SharedRedis>,
        /// How long a running job is kept.
        running_ttl: Duration,
        /// How long a finished job is kept.
        done_ttl: Duration,
    },
}

impl JobStore {
    /// A store in this process.
    pub fn memory(job_timeout: Duration, ttl: Duration) -> JobStore {
        JobStore::Memory {
            jobs: Mutex::new(HashMap::new()),
            running_ttl: job_timeout + ttl,
            done_ttl: ttl,
        }
    }

    /// A store in Redis.
    pub fn redis(redis: Arc<SharedRedis>, job_timeout: Duration, ttl: Duration) -> JobStore {
        JobStore::Redis {
            redis,
            running_ttl: job_timeout + ttl,
            done_ttl: ttl,
        }
    }

    /// Records a job's state.
    pub async fn put(
        &self,
        id: &JobId,
        owner: ConnectionId,
        state: &JobState,
    ) -> Result<(), StoreError> {
        match self {
            JobStore::Memory {
                jobs,
                running_ttl,
                done_ttl,
            } => {
                let ttl = if *state == JobState::Running {
                    *running_ttl
                } else {
                    *done_ttl
                };
                let now = Instant::now();
                let mut jobs = jobs.lock().map_err(|_| StoreError::Poisoned)?;
                jobs.retain(|_, (_, _, expires)| *expires > now);
                jobs.insert(
                    id.clone(),
                    (
                        owner,
                        state.clone(),
                        crate::domain::deadline::after(now, ttl),
                    ),
                );
                Ok(())
            }
            JobStore::Redis {
                redis,
                running_ttl,
                done_ttl,
            } => {
                let ttl = if *state == JobState::Running {
                    *running_ttl
                } else {
                    *done_ttl
                };
                let record = Record {
                    owner: owner.to_string(),
                    state: state.clone(),
                };
                let json = serde_json::to_string(&record)?;
                let mut connection = redis.connection().await?;
                let command = redis::cmd("SET")
                    .arg(format!("{KEY_PREFIX}{}", id.as_str()))
                    .arg(json)
                    .arg("PX")
                    .arg(ttl.as_millis() as u64)
                    .to_owned();
                let write = command.query_async::<()>(&mut connection);
                let bound = redis.timeout() * 10;
                Ok(tokio::time::timeout(bound, write)
                    .await
                    .map_err(|_| RedisError::Timeout(bound))?
                    .map_err(RedisError::Failed)?)
            }
        }
    }

    /// A job's owner and state, or `None` when there is no such job (or it expired).
    pub async fn get(&self, id: &JobId) -> Result<Option<(ConnectionId, JobState)>, StoreError> {
        match self {
            JobStore::Memory { jobs, .. } => {
                let jobs = jobs.lock().map_err(|_| StoreError::Poisoned)?;
                Ok(jobs
                    .get(id)
                    .filter(|(_, _, expires)| *expires > Instant::now())
                    .map(|(owner, state, _)| (*owner, state.clone())))
            }
            JobStore::Redis { redis, .. } => {
                let mut connection = redis.connection().await?;
                let command = redis::cmd("GET")
                    .arg(format!("{KEY_PREFIX}{}", id.as_str()))
                    .to_owned();
                let read = command.query_async::<Option<String>>(&mut connection);
                let bound = redis.timeout() * 10;
                let json = tokio::time::timeout(bound, read)
                    .await
                    .map_err(|_| RedisError::Timeout(bound))?
                    .map_err(RedisError::Failed)?;
                let Some(json) = json else { return Ok(None) };
                let record: Record = serde_json::from_str(&json)?;
                let owner = ConnectionId::parse(&record.owner).ok_or(StoreError::BadOwner)?;
                Ok(Some((owner, record.state)))
            }
        }
    }

    /// Whether the store can answer.
    pub async fn is_healthy(&self) -> bool {
        match self {
            JobStore::Memory { .. } => true,
            JobStore::Redis { redis, .. } => redis.is_healthy().await,
        }
    }
}
