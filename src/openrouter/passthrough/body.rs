//! The body of a pass-through answer: OpenRouter's chunks as they arrive, with an idle timeout
//! between them instead of an overall deadline. A plain SSE stream that goes quiet or breaks is
//! ended with an error event shaped like OpenRouter's own mid-stream errors; any other body is
//! cut, so the caller never takes a partial answer for a whole one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

use crate::domain::spelling;

/// Why an upstream body ended before it was complete.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Upstream sent nothing for the idle timeout.
    #[error("OpenRouter sent no data for {} seconds", .0.as_secs())]
    Idle(Duration),
    /// The connection to upstream broke mid-body.
    #[error("the connection to OpenRouter broke mid-body: {0}")]
    Broken(#[source] hyper::Error),
}

/// An upstream body, read chunk by chunk; dropping it drops the upstream connection, which
/// cancels the upstream request.
pub struct StreamedBody {
    chunks: Pin<Box<dyn Stream<Item = Result<Bytes, hyper::Error>> + Send>>,
    timer: Pin<Box<Sleep>>,
    deadline: Instant,
    idle: Duration,
    ending: Option<SseEnding>,
    finished: bool,
    /// The request's id, for what is logged after the handler returned.
    request_id: String,
    /// The upstream slot (`MAX_CONCURRENT_UPSTREAM`) this call holds until its body is done.
    _slot: OwnedSemaphorePermit,
}

impl std::fmt::Debug for StreamedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamedBody")
            .field("idle", &self.idle)
            .field("sse", &self.ending.is_some())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Stream for StreamedBody {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        match this.chunks.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                // Moving the deadline is a store; the timer is re-armed only when it fires.
                this.deadline = crate::domain::deadline::after_tokio(Instant::now(), this.idle);
                if let Some(ending) = &mut this.ending {
                    ending.tail.remember(&chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(error))) => {
                tracing::warn!(
                    request_id = %this.request_id,
                    error = %error,
                    "upstream body broke mid-stream"
                );
                Poll::Ready(this.end(BodyError::Broken(error)))
            }
            Poll::Ready(None) => {
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Pending => loop {
                match this.timer.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) if Instant::now() < this.deadline => {
                        let deadline = this.deadline;
                        this.timer.as_mut().reset(deadline);
                    }
                    Poll::Ready(()) => {
                        let idle_secs = this.idle.as_secs();
                        tracing::warn!(
                            request_id = %this.request_id,
                            idle_secs,
                            "upstream went idle; stream ended"
                        );
                        return Poll::Ready(this.end(BodyError::Idle(this.idle)));
                    }
                }
            },
        }
    }
}

impl StreamedBody {
    /// A body read from `chunks`, silent at most until `first_deadline` for its first chunk and
    /// `idle` between the next ones; an SSE stream (`sse`) ends with an error event of its own,
    /// whose id is the request's. `slot` is released when the body is dropped.
    pub(super) fn new(
        chunks: impl Stream<Item = Result<Bytes, hyper::Error>> + Send + 'static,
        first_deadline: Instant,
        idle: Duration,
        request_id: String,
        sse: bool,
        slot: OwnedSemaphorePermit,
    ) -> StreamedBody {
        StreamedBody {
            chunks: Box::pin(chunks),
            timer: Box::pin(tokio::time::sleep_until(first_deadline)),
            deadline: first_deadline,
            idle,
            ending: sse.then(|| SseEnding {
                id: request_id.clone(),
                tail: Tail::default(),
            }),
            finished: false,
            request_id,
            _slot: slot,
        }
    }

    /// Whether this is a Server-Sent Events stream, which may end with an event of its own.
    pub fn is_event_stream(&self) -> bool {
        self.ending.is_some()
    }

    /// Ends the body: an SSE stream with a last error event, any other body with an error (so
    /// the caller sees a cut answer, not a complete one).
    fn end(&mut self, why: BodyError) -> Option<Result<Bytes, BodyError>> {
        self.finished = true;
        match &self.ending {
            Some(ending) => Some(Ok(ending.event(&why))),
            None => Some(Err(why)),
        }
    }
}

/// What an SSE stream needs to end itself cleanly: an id for its error event, and the last
/// bytes it passed on, to finish an event left open.
struct SseEnding {
    id: String,
    tail: Tail,
}

impl SseEnding {
    /// The error event, after whatever ends an event upstream left open.
    fn event(&self, why: &BodyError) -> Bytes {
        let (code, message) = match why {
            BodyError::Idle(idle) => (
                504,
                format!(
                    "OpenRouter sent no data for {}, so openrouter-connector ended the stream \
                     (STREAM_IDLE_TIMEOUT_SECS). Try again, or try another model.",
                    spelling::count(idle.as_secs(), "second")
                ),
            ),
            BodyError::Broken(_) => (
                502,
                "The connection to OpenRouter broke before the stream was complete. Try again."
                    .to_owned(),
            ),
        };
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let chunk = serde_json::json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": "",
            "error": {"code": code, "message": message},
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
        });
        let mut event = self.tail.event_end().to_vec();
        event.extend_from_slice(b"data: ");
        event.extend_from_slice(chunk.to_string().as_bytes());
        event.extend_from_slice(b"\n\n");
        Bytes::from(event)
    }
}

/// The last three bytes of an SSE stream: enough to tell whether its last event is complete.
#[derive(Debug, Default)]
struct Tail {
    bytes: [u8; 3],
    len: usize,
}

impl Tail {
    fn remember(&mut self, chunk: &[u8]) {
        let keep = chunk.len().min(3);
        self.bytes.copy_within(keep.., 0);
        self.bytes[3 - keep..].copy_from_slice(&chunk[chunk.len() - keep..]);
        self.len = (self.len + keep).min(3);
    }

    /// What to write so that the next bytes start a new event.
    fn event_end(&self) -> &'static [u8] {
        let tail = &self.bytes[3 - self.len..];
        let ended = [&b"\n\n"[..], b"\r\r", b"\n\r\n", b"\n\r"];
        if tail.is_empty() || ended.iter().any(|end| tail.ends_with(end)) {
            b""
        } else if tail.ends_with(b"\n") {
            b"\n"
        } else {
            b"\n\n"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail_after(chunks: &[&[u8]]) -> Tail {
        let mut tail = Tail::default();
        for chunk in chunks {
            tail.remember(chunk);
        }
        tail
    }

    #[test]
    fn a_complete_event_needs_nothing_before_the_next() {
        let cases: [&[&[u8]]; 5] = [
            &[],
            &[b"data: 1\n\n"],
            &[b"data: 1\r\n\r\n"],
            &[b": x\n", b"\n"],
            &[b"data: 1\r", b"\r"],
        ];
        for chunks in cases {
            assert_eq!(tail_after(chunks).event_end(), b"", "{chunks:?}");
        }
    }

    #[test]
    fn an_open_event_is_ended_before_the_next() {
        assert_eq!(tail_after(&[b"data: 1\n"]).event_end(), b"\n");
        assert_eq!(tail_after(&[b"data: 1\r\n"]).event_end(), b"\n");
        assert_eq!(tail_after(&[b"data: {\"a\""]).event_end(), b"\n\n");
        assert_eq!(tail_after(&[b"data: 1\r"]).event_end(), b"\n\n");
        assert_eq!(tail_after(&[b"\n\n", b"d"]).event_end(), b"\n\n");
    }
}
