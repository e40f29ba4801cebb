//! Scripted replies: what to answer and how to misbehave while answering.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Notify;

/// A latch a test opens to release a held stream (see [`Reply::hold_after_first_chunk`]).
#[derive(Clone, Default)]
pub struct Gate(Arc<GateInner>);

#[derive(Default)]
struct GateInner {
    open: AtomicBool,
    notify: Notify,
}

impl Gate {
    /// Creates a closed gate.
    pub fn new() -> Gate {
        Gate::default()
    }

    /// Opens the gate, releasing every stream waiting on it now or later.
    pub fn open(&self) {
        self.0.open.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether [`Gate::open`] has been called.
    pub fn is_open(&self) -> bool {
        self.0.open.load(Ordering::SeqCst)
    }

    /// Waits until the gate is open.
    pub(crate) async fn wait(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_open() {
                return;
            }
            notified.await;
        }
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("open", &self.is_open())
            .finish()
    }
}

/// What a reply sends after its head.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// One body sent with `Content-Length`.
    Full(Bytes),
    /// Pieces sent as separate chunks with chunked transfer encoding.
    Chunks(Vec<Bytes>),
    /// Nothing at all, ever.
    Hang,
}

/// How a reply ends early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cut {
    /// After N body bytes, reset the connection (RST).
    Reset(usize),
    /// After N body bytes, close the connection cleanly (FIN).
    Truncate(usize),
}

/// A scripted answer for one request, built with the constructors below and chainable modifiers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    pub(crate) delay: Duration,
    pub(crate) chunk_delay: Duration,
    pub(crate) drip: Option<Duration>,
    pub(crate) cut: Option<Cut>,
    pub(crate) gate: Option<Gate>,
}

impl Reply {
    /// Builds a reply from its parts with no modifiers.
    fn new(status: u16, content_type: Option<&str>, body: Body) -> Reply {
        Reply {
            status,
            content_type: content_type.map(str::to_string),
            headers: Vec::new(),
            body,
            delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            drip: None,
            cut: None,
            gate: None,
        }
    }

    /// Answers `status` with `body` as compact JSON and `Content-Type: application/json`.
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        Reply::new(
            status,
            Some("application/json"),
            Body::Full(Bytes::from(bytes)),
        )
    }

    /// Answers `status` with exactly these bytes and this content type.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply::new(status, Some(content_type), Body::Full(body.into()))
    }

    /// Answers 200 `text/event-stream`, writing each SSE event (split after blank lines) as its own chunk.
    pub fn sse(events: impl Into<Bytes>) -> Reply {
        Reply::new(
            200,
            Some("text/event-stream"),
            Body::Chunks(split_events(events.into())),
        )
        .with_header("Cache-Control", "no-cache")
    }

    /// Answers `status` with an OpenRouter error body `{"error":{"code":status,"message":message}}`.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            serde_json::json!({"error": {"code": status, "message": message}}),
        )
    }

    /// Reads the request and never answers; the socket stays open until the client closes it.
    pub fn hang() -> Reply {
        Reply::new(0, None, Body::Hang)
    }

    /// Sets a response header, replacing an earlier one of the same name; a `Content-Length`,
    /// `Transfer-Encoding` or `Connection` given here replaces the one the simulator would write
    /// (the body is then sent unframed, exactly as given).
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if name.eq_ignore_ascii_case("content-type") {
            self.content_type = Some(value.to_string());
        } else {
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            self.headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// Waits this long before sending the status line.
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    /// For streamed bodies, waits this long between chunks.
    pub fn chunk_delay(mut self, d: Duration) -> Reply {
        self.chunk_delay = d;
        self
    }

    /// Sends the body one byte at a time, waiting `every` between bytes (the head goes at once).
    pub fn drip(mut self, every: Duration) -> Reply {
        self.drip = Some(every);
        self
    }

    /// Sends the head (declaring the full length) and the first `body_bytes` body bytes, then resets the connection.
    pub fn reset_after(mut self, body_bytes: usize) -> Reply {
        self.cut = Some(Cut::Reset(body_bytes));
        self
    }

    /// Declares the full length, sends `body_bytes` body bytes, then closes the connection cleanly.
    pub fn truncate_after(mut self, body_bytes: usize) -> Reply {
        self.cut = Some(Cut::Truncate(body_bytes));
        self
    }

    /// For streamed bodies, sends the first chunk and then waits until `gate` is opened.
    pub fn hold_after_first_chunk(mut self, gate: Gate) -> Reply {
        self.gate = Some(gate);
        self
    }

    /// Returns the HTTP status this reply answers with (0 for [`Reply::hang`]).
    pub fn status(&self) -> u16 {
        self.status
    }
}

/// Splits an SSE text after every blank line, so that concatenating the pieces gives the input back.
pub(crate) fn split_events(all: Bytes) -> Vec<Bytes> {
    let mut events = Vec::new();
    let mut rest = all;
    loop {
        let end = rest.windows(2).enumerate().find_map(|(i, w)| match w {
            b"\n\n" => Some(i + 2),
            b"\n\r" if rest.get(i + 2) == Some(&b'\n') => Some(i + 3),
            _ => None,
        });
        match end {
            Some(end) if end < rest.len() => events.push(rest.split_to(end)),
            _ => {
                if !rest.is_empty() {
                    events.push(rest);
                }
                return events;
            }
        }
    }
}
