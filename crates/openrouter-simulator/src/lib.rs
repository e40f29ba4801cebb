//! A local OpenRouter API simulator: a small real HTTP/1.1 server for tests and benchmarks.
//!
//! Unanswered routes get OpenRouter-shaped default answers (see `canned`); tests script
//! other answers, including misbehaving ones, with [`Simulator::enqueue`] and [`Reply`].

mod canned;
mod catalog;
mod chat;
mod conn;
mod forms;
mod http;
mod recorded;
mod reply;
mod send;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use forms::PNG_BASE64;
pub use recorded::RecordedRequest;
pub use reply::{Gate, Reply};

/// Settings for [`Simulator::start_with`].
#[derive(Clone, Debug)]
pub struct SimulatorOptions {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Number of models `GET /models` lists.
    pub model_count: usize,
    /// Pause between the chunks of default streamed answers.
    pub sse_chunk_delay: Duration,
    /// Whether default answers require `Authorization: Bearer <token>` (401 otherwise).
    pub require_auth: bool,
    /// When not empty, the only keys default answers accept; any other gets OpenRouter's 401
    /// `User not found.`, as a revoked or mistyped key does.
    pub valid_keys: Vec<String>,
    /// Whether default answers refuse a model outside the catalogue, as OpenRouter does (`400
    /// … is not a valid model ID`; `404` for its endpoints).
    pub known_models_only: bool,
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        SimulatorOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            model_count: 5,
            sse_chunk_delay: Duration::ZERO,
            require_auth: true,
            valid_keys: Vec::new(),
            known_models_only: true,
        }
    }
}

/// State shared by the handle and every connection task.
pub(crate) struct State {
    pub(crate) options: SimulatorOptions,
    queues: Mutex<HashMap<(String, String), VecDeque<Reply>>>,
    requests: Mutex<Vec<RecordedRequest>>,
    recording: AtomicBool,
    count: watch::Sender<usize>,
    disconnects: AtomicUsize,
    pub(crate) models_body: Bytes,
}

/// Locks a mutex, ignoring poisoning (a panicking test must not break the simulator).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl State {
    /// Records a request and wakes whoever waits for requests.
    pub(crate) fn record(&self, request: RecordedRequest) {
        if self.recording.load(Ordering::SeqCst) {
            lock(&self.requests).push(request);
        }
        self.count.send_modify(|n| *n += 1);
    }

    /// Takes the next queued reply for this method and API path, if any.
    pub(crate) fn dequeue(&self, method: &str, path: &str) -> Option<Reply> {
        let key = (method.to_ascii_uppercase(), path.to_string());
        lock(&self.queues)
            .get_mut(&key)
            .and_then(VecDeque::pop_front)
    }

    /// Counts one client that closed before its reply was complete.
    pub(crate) fn note_disconnect(&self) {
        self.disconnects.fetch_add(1, Ordering::SeqCst);
    }
}

/// A running simulator; dropping it stops the server and every open connection.
pub struct Simulator {
    addr: SocketAddr,
    state: Arc<State>,
    accept_task: JoinHandle<()>,
}

impl Simulator {
    /// Starts a simulator on `127.0.0.1` with a free port and default options.
    pub async fn start() -> std::io::Result<Simulator> {
        Simulator::start_with(SimulatorOptions::default()).await
    }

    /// Starts a simulator with the given options.
    pub async fn start_with(options: SimulatorOptions) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind(options.bind).await?;
        let addr = listener.local_addr()?;
        let models_body = catalog::models_body(options.model_count);
        let state = Arc::new(State {
            options,
            queues: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            recording: AtomicBool::new(true),
            count: watch::Sender::new(0),
            disconnects: AtomicUsize::new(0),
            models_body,
        });
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&state)));
        tracing::debug!(%addr, "openrouter simulator listening");
        Ok(Simulator {
            addr,
            state,
            accept_task,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base URL, e.g. `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// Queues `reply` for the next request to `method` and `path` (relative to `/api/v1`, without query).
    ///
    /// Replies for the same route are served first in, first out; once the queue is empty the
    /// default answers resume. Queued replies are served whether or not the request is authenticated.
    pub fn enqueue(&self, method: &str, path: &str, reply: Reply) {
        let key = (method.to_ascii_uppercase(), path.to_string());
        lock(&self.state.queues)
            .entry(key)
            .or_default()
            .push_back(reply);
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// The most recent request, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.state.requests).last().cloned()
    }

    /// The number of requests received so far (counted even while recording is off).
    pub fn request_count(&self) -> usize {
        *self.state.count.borrow()
    }

    /// Turns keeping full requests on or off (on by default); long benchmark runs turn it off
    /// so memory stays flat. Requests are still counted.
    pub fn set_recording(&self, on: bool) {
        self.state.recording.store(on, Ordering::SeqCst);
    }

    /// Forgets the recorded requests (the count is kept).
    pub fn clear_requests(&self) {
        lock(&self.state.requests).clear();
    }

    /// Waits until at least `n` requests have arrived; returns false if `timeout` passes first.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let mut rx = self.state.count.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|count| *count >= n))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The number of replies the client abandoned by closing the connection before the
    /// reply was complete (streams, delayed, dripped, held and hanging replies).
    pub fn disconnects(&self) -> usize {
        self.state.disconnects.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` disconnects were seen; returns false if `timeout` passes first.
    pub async fn wait_for_disconnects(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.disconnects() < n {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection task.
        self.accept_task.abort();
    }
}

/// Accepts connections and serves each in a task owned by a JoinSet.
async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(conn::serve(Arc::clone(&state), stream));
                }
                Err(err) => {
                    tracing::warn!(%err, "simulator accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
