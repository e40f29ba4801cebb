//! The pass-through's HTTP client: hyper's pooled client (`hyper-util`), one per worker thread.
//!
//! The connector actions go through `reqwest`; the pass-through does not, because it does no
//! work of its own that reqwest's layers help with, and they cost it: the redirect layer parses
//! every URL again, a default-header merge rebuilds every header map, and a client shared by all
//! workers hands each request to the thread that opened its pooled connection. Here the caller's
//! path becomes the upstream URI in one parse, headers go as they are, and each worker keeps
//! its own pool, as each nginx worker keeps its own keep-alive connections.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyDataStream, Either, Full, StreamBody};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::UploadAborted;

/// Idle upstream connections a worker keeps open for the next calls (nginx's `keepalive`
/// directive); connections beyond these close when their call ends, so a burst of thousands of
/// calls does not leave thousands of connections and their buffers behind.
const IDLE_PER_WORKER: usize = 64;

/// How long an idle upstream connection stays in the pool.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The caller's body as it streams upstream, chunk by chunk.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, UploadAborted>> + Send>>;

/// A request body: whole (possibly empty), or streamed.
pub type Body = Either<Full<Bytes>, StreamBody<Frames>>;

/// Streamed chunks as HTTP body frames.
pub type Frames = futures_util::stream::Map<Chunks, fn(Result<Bytes, UploadAborted>) -> DataFrame>;

/// One body frame, or why the caller's body was given up.
type DataFrame = Result<hyper::body::Frame<Bytes>, UploadAborted>;

/// The caller's body, for the upstream request.
#[derive(Default)]
pub enum ForwardBody {
    /// No body.
    #[default]
    Empty,
    /// A body read whole first.
    Whole(Bytes),
    /// A body that streams as the caller sends it.
    Streamed(Chunks),
}

impl std::fmt::Debug for ForwardBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForwardBody::Empty => f.write_str("Empty"),
            ForwardBody::Whole(bytes) => write!(f, "Whole({} bytes)", bytes.len()),
            ForwardBody::Streamed(_) => f.write_str("Streamed"),
        }
    }
}

impl ForwardBody {
    /// The body hyper sends.
    pub fn into_body(self) -> Body {
        match self {
            ForwardBody::Empty => Either::Left(Full::new(Bytes::new())),
            ForwardBody::Whole(bytes) => Either::Left(Full::new(bytes)),
            ForwardBody::Streamed(chunks) => {
                let frame: fn(Result<Bytes, UploadAborted>) -> DataFrame =
                    |chunk| chunk.map(hyper::body::Frame::data);
                Either::Right(StreamBody::new(chunks.map(frame)))
            }
        }
    }
}

/// A worker's pooled upstream client.
pub type PassClient = Client<HttpsConnector<HttpConnector>, Body>;

/// A new pooled client over `tls`, connecting within `connect_timeout`.
pub fn client(tls: &Arc<rustls::ClientConfig>, connect_timeout: Duration) -> PassClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(rustls::ClientConfig::clone(tls))
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_max_idle_per_host(IDLE_PER_WORKER)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .build(https)
}

/// Upstream's body as a stream of data chunks.
pub fn chunks(body: Incoming) -> impl Stream<Item = Result<Bytes, hyper::Error>> + Send {
    BodyDataStream::new(body)
}
