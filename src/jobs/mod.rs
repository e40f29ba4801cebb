//! Long generations (contract section 4.7). A Completion or Chat Completion that carries
//! `Prefer: respond-async` and is not answered within `ASYNC_AFTER_SECS` becomes a job: the
//! caller gets `202 Accepted` with a `Location` to poll, the generation goes on (bounded by
//! `JOB_TIMEOUT_SECS`), and a poll answers `202` until it ends, then exactly what the
//! synchronous call would have answered, for `JOB_TTL_SECS`. Jobs live in memory, or in Redis
//! when `REDIS_URL` is set so that any replica answers the poll.

mod outcome;
mod per_connection;
mod store;

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::header::{HeaderValue, LOCATION, RETRY_AFTER};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde::Serialize;
use tokio::sync::Notify;

pub use outcome::Outcome;
use per_connection::{AsyncCalls, AsyncSlot};
pub use store::{JobState, JobStore};

use crate::domain::{ConnectionId, PublicUrl};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::openrouter::{OpenRouterClient, OwnedCaller};
use crate::request_id::RequestId;

/// How long a poller is told to wait between polls.
pub const POLL_AFTER_SECS: u64 = 5;

/// A job's id: 256 bits from the operating system's secure random source, as 64 hex digits.
/// Whoever holds it may poll the job, so it must not be guessable.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JobId(String);

impl JobId {
    fn new() -> JobId {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        JobId(hex::encode(bytes))
    }

    /// Parses an id from a poll URL.
    pub fn parse(text: &str) -> Option<JobId> {
        (text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| JobId(text.to_owned()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The job service.
pub struct Jobs {
    store: JobStore,
    async_after: Duration,
    job_timeout: Duration,
    public_base_url: Option<PublicUrl>,
    spawner: tokio::runtime::Handle,
    running: Mutex<HashSet<JobId>>,
    idle: Notify,
    metrics: Arc<Metrics>,
    async_calls: Arc<AsyncCalls>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs").field("store", &self.store).finish()
    }
}

/// Aborts a generation's task when dropped, unless defused: until the caller has its `202`,
/// leaving cancels the generation.
struct AbortOnDrop(Option<tokio::task::AbortHandle>);

impl AbortOnDrop {
    /// From now on the task runs on its own (a job).
    fn defuse(mut self) {
        self.0 = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// Whether the request asks for the asynchronous pattern (`Prefer: respond-async`).
pub fn prefers_async(req: &HttpRequest) -> bool {
    req.headers()
        .get_all("prefer")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|preference| preference.trim().eq_ignore_ascii_case("respond-async"))
}

impl Jobs {
    /// The job service. Jobs run on the runtime this is built on, so they outlive the worker
    /// that accepted them and can be waited for (or failed) at shutdown.
    pub fn new(
        store: JobStore,
        async_after: Duration,
        job_timeout: Duration,
        public_base_url: Option<PublicUrl>,
        metrics: Arc<Metrics>,
        max_per_connection: usize,
    ) -> Jobs {
        Jobs {
            store,
            async_after,
            job_timeout,
            public_base_url,
            spawner: tokio::runtime::Handle::current(),
            running: Mutex::new(HashSet::new()),
            idle: Notify::new(),
            metrics,
            async_calls: AsyncCalls::new(max_per_connection),
        }
    }

    /// Answers a generation: synchronously, or, when the caller prefers it and the answer takes
    /// longer than `ASYNC_AFTER_SECS`, with `202` and a job to poll.
    pub async fn answer<T, F, Fut>(
        self: Arc<Self>,
        req: &HttpRequest,
        owner: ConnectionId,
        caller: OwnedCaller,
        client: Arc<OpenRouterClient>,
        work: F,
    ) -> Result<HttpResponse, ApiError>
    where
        T: Serialize + Send + 'static,
        F: FnOnce(Arc<OpenRouterClient>, OwnedCaller) -> Fut,
        Fut: Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        if !prefers_async(req) {
            let answer = work(client, caller).await?;
            return Ok(HttpResponse::Ok().json(answer));
        }
        // Counted from acceptance until its answer is recorded, whether or not it becomes a job.
        let slot = self.async_calls.admit(owner).ok_or(ApiError::TooManyJobs {
            limit: self.async_calls.limit(),
            retry_after: POLL_AFTER_SECS,
        })?;
        // Answers read before the `202` are counted with the request; those after, by the job.
        let stats = caller.stats().clone();
        let generation = work(Arc::new(client.with_timeout(self.job_timeout)), caller);
        // Until the `202` is sent, a caller who leaves (actix-web drops this future) cancels the
        // generation, as a synchronous caller would.
        let mut handle = self.spawner.spawn(async move {
            generation.await.and_then(|answer| {
                serde_json::to_value(answer).map_err(|error| {
                    ApiError::upstream_failed(format!("unreadable answer: {error}"))
                })
            })
        });
        let cancel = AbortOnDrop(Some(handle.abort_handle()));
        if let Ok(joined) = tokio::time::timeout(self.async_after, &mut handle).await {
            let answer = joined
                .map_err(|_| ApiError::upstream_failed("The generation stopped unexpectedly."))??;
            return Ok(HttpResponse::Ok().json(answer));
        }
        let id = JobId::new();
        if let Err(error) = self.store.put(&id, owner, &JobState::Running).await {
            tracing::warn!(%error, "could not record an async job");
            return Err(ApiError::JobStoreUnavailable);
        }
        self.started(&id);
        let location = self.location(req, &id);
        let jobs = self.clone();
        let job = id.clone();
        cancel.defuse();
        self.spawner.spawn(async move {
            // The connection's slot is held until the job's answer is recorded.
            let _slot: AsyncSlot = slot;
            let outcome = match handle.await {
                Ok(result) => Outcome::of(result),
                Err(_) => Outcome::of(Err(ApiError::upstream_failed(
                    "The generation stopped unexpectedly.",
                ))),
            };
            jobs.metrics.record_upstream(&stats.take());
            if let Err(error) = jobs.store.put(&job, owner, &JobState::Done(outcome)).await {
                tracing::warn!(%error, "could not record an async job's answer");
            }
            jobs.finished(&job);
        });
        {
            let extensions = req.extensions();
            tracing::info!(
                request_id = extensions.get::<RequestId>().map(RequestId::as_str),
                job = %id.as_str().get(..8).unwrap_or_default(),
                "answer not ready; running as a job"
            );
        }
        Ok(HttpResponse::Accepted()
            .insert_header((LOCATION, location))
            .insert_header((RETRY_AFTER, POLL_AFTER_SECS))
            .finish())
    }

    /// What a poll of job `id` answers; `poller` is the connection of the key the poll carried.
    pub async fn poll(
        &self,
        req: &HttpRequest,
        id: &JobId,
        poller: Option<ConnectionId>,
    ) -> HttpResponse {
        let found = match self.store.get(id).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "could not read an async job");
                return HttpResponse::from_error(ApiError::JobStoreUnavailable);
            }
        };
        match found {
            Some((owner, _)) if poller.is_some_and(|poller| poller != owner) => {
                HttpResponse::from_error(ApiError::JobNotFound)
            }
            Some((_, JobState::Running)) => HttpResponse::Accepted()
                .insert_header((LOCATION, self.location(req, id)))
                .insert_header((RETRY_AFTER, POLL_AFTER_SECS))
                .finish(),
            Some((_, JobState::Done(outcome))) => outcome.response(),
            None => HttpResponse::from_error(ApiError::JobNotFound),
        }
    }

    /// Waits until no job of this process runs, or `within` passes; then records every job
    /// still running as failed with `503`, so none is left pending.
    pub async fn drain(&self, within: Duration) {
        let deadline = crate::domain::deadline::after_tokio(tokio::time::Instant::now(), within);
        loop {
            let idle = self.idle.notified();
            if self.running_ids().is_empty() {
                return;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                break;
            }
        }
        for id in self.running_ids() {
            let outcome = Outcome::of(Err(ApiError::Interrupted));
            if let Ok(Some((owner, _))) = self.store.get(&id).await {
                let _ = self.store.put(&id, owner, &JobState::Done(outcome)).await;
            }
            self.finished(&id);
        }
    }

    /// Whether the job store can answer (Redis reachable).
    pub async fn is_ready(&self) -> bool {
        self.store.is_healthy().await
    }

    fn running_ids(&self) -> Vec<JobId> {
        self.running
            .lock()
            .map(|running| running.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn started(&self, id: &JobId) {
        if let Ok(mut running) = self.running.lock() {
            running.insert(id.clone());
        }
        self.metrics.job_running(1);
    }

    fn finished(&self, id: &JobId) {
        let removed = self
            .running
            .lock()
            .map(|mut running| running.remove(id))
            .unwrap_or(false);
        if removed {
            self.metrics.job_running(-1);
        }
        self.idle.notify_waiters();
    }

    fn location(&self, req: &HttpRequest, id: &JobId) -> HeaderValue {
        let base = self
            .public_base_url
            .clone()
            .or_else(|| PublicUrl::from_request(req))
            .map(|deployment| deployment.base_url())
            .unwrap_or_default();
        let url = format!("{base}/connector/v1/jobs/{}", id.as_str());
        HeaderValue::from_str(&url)
            .unwrap_or_else(|_| HeaderValue::from_static("/connector/v1/jobs"))
    }
}
