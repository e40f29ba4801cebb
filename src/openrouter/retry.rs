//! Retries, all inside one deadline. Idempotent GETs are retried a few times with jittered
//! backoff on connection failures and on upstream `502`/`503` (honouring a short
//! `Retry-After`); a POST is retried only when the connection was refused, which proves it never
//! reached upstream, so no generation is ever run (or billed) twice. Get Generation also waits
//! out the few seconds OpenRouter takes to write a generation's record.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::{Method, Url};

use super::caller::Caller;
use super::client::{Failure, OpenRouterClient, Upstream};
use crate::error::ApiError;

/// Retries after the first attempt, at most.
const MAX_RETRIES: u32 = 2;
/// The first backoff; it doubles, with ±50% jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// An upstream `Retry-After` up to this long is waited out; a longer one is passed on.
const SHORT_RETRY_AFTER: Duration = Duration::from_secs(2);
/// How often Get Generation asks again while the record is not written yet.
const NOT_FOUND_EVERY: Duration = Duration::from_millis(500);
/// How long a call may wait for a free upstream slot before the service answers `503`.
const SLOT_WAIT: Duration = Duration::from_secs(1);

/// Which retries are safe for a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// A POST that runs a model: retried only when the connection was refused.
    OnlyIfRefused,
    /// An idempotent GET.
    Idempotent,
    /// An idempotent GET whose `404` may only mean "not written yet".
    IdempotentWaitingForRecord,
}

impl OpenRouterClient {
    /// The deadline of a call starting now: the upstream timeout from now.
    pub fn deadline(&self) -> Instant {
        crate::domain::deadline::after(Instant::now(), self.timeout)
    }

    /// Sends a call (with `body`, JSON, if any) under `policy`, within the upstream timeout.
    pub async fn send(
        &self,
        caller: Caller<'_>,
        method: Method,
        url: Url,
        body: Option<&Bytes>,
        policy: Retry,
    ) -> Result<Upstream, ApiError> {
        self.send_before(caller, method, url, body, policy, self.deadline())
            .await
    }

    /// Sends a call under `policy`, answered before `deadline` (shared by the calls of one
    /// action, such as Completion's fallback).
    pub async fn send_before(
        &self,
        caller: Caller<'_>,
        method: Method,
        url: Url,
        body: Option<&Bytes>,
        policy: Retry,
        deadline: Instant,
    ) -> Result<Upstream, ApiError> {
        let started = Instant::now();
        let _slot = tokio::time::timeout(SLOT_WAIT, self.permits.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(ApiError::Busy)?;
        let mut retries = 0;
        loop {
            let outcome = self
                .attempt(caller, method.clone(), url.clone(), body, deadline)
                .await;
            let wait = match &outcome {
                Err(Failure::Transport(error)) if was_refused(error) => Some(backoff(retries)),
                Err(Failure::Transport(error))
                    if policy != Retry::OnlyIfRefused && error.is_connect() =>
                {
                    Some(backoff(retries))
                }
                Ok(answer)
                    if policy != Retry::OnlyIfRefused
                        && matches!(answer.status.as_u16(), 502 | 503) =>
                {
                    match retry_after(answer) {
                        Some(wait) if wait <= SHORT_RETRY_AFTER => Some(wait),
                        Some(_) => None,
                        None => Some(backoff(retries)),
                    }
                }
                Ok(answer)
                    if policy == Retry::IdempotentWaitingForRecord
                        && answer.status.as_u16() == 404
                        && started.elapsed() + NOT_FOUND_EVERY <= self.generation_wait =>
                {
                    retries = 0;
                    Some(NOT_FOUND_EVERY)
                }
                _ => None,
            };
            match wait {
                Some(wait)
                    if retries < MAX_RETRIES
                        && Instant::now()
                            .checked_add(wait)
                            .is_some_and(|at| at < deadline) =>
                {
                    tracing::info!(
                        request_id = %caller.request_id.as_str(),
                        retry = retries + 1,
                        wait_ms = wait.as_millis() as u64,
                        "retrying upstream call"
                    );
                    tokio::time::sleep(wait).await;
                    retries += 1;
                }
                _ => {
                    return outcome.map_err(|failure| match failure {
                        Failure::Transport(error) => self.transport(caller, error),
                        Failure::Refused(error) => error,
                    });
                }
            }
        }
    }
}

/// Whether the connection was refused: the request provably never reached upstream.
fn was_refused(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = current.source();
    }
    false
}

/// The backoff before retry `n` (0-based): 200 ms doubling, each ±50% at random.
fn backoff(n: u32) -> Duration {
    let base = FIRST_BACKOFF.as_millis() as u64 * 2u64.pow(n.min(8));
    Duration::from_millis(base / 2 + fastrand::u64(0..=base))
}

fn retry_after(answer: &Upstream) -> Option<Duration> {
    super::retry_after::from_headers(&answer.headers, SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_its_jitter() {
        for n in 0..3 {
            let wait = backoff(n);
            let base = FIRST_BACKOFF * 2u32.pow(n);
            assert!(wait >= base / 2 && wait <= base * 3 / 2, "{n}: {wait:?}");
        }
    }
}
