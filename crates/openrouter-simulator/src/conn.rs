//! One client connection: read requests, record them, pick a reply and send it, until closed.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::State;
use super::canned;
use super::http::{ReadError, read_request};
use super::recorded::RecordedRequest;
use super::reply::Reply;
use super::send::{Outcome, send};

/// Serves requests on `stream` until the client closes it or a reply ends the connection.
pub(crate) async fn serve(state: Arc<State>, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = BytesMut::with_capacity(16 * 1024);
    loop {
        let request = match read_request(&mut stream, &mut buf).await {
            Ok(Some(request)) => request,
            Ok(None) | Err(ReadError::Closed) => return,
            Err(ReadError::Bad(status, message)) => {
                tracing::debug!(status, message, "simulator rejected a malformed request");
                let reply = canned::error(status, message);
                let _ = send(&mut stream, &mut buf, reply, false, false).await;
                let _ = stream.shutdown().await;
                // Lingering close: closing with unread input would send RST and could
                // destroy the error response before the client reads it.
                let _ = tokio::time::timeout(Duration::from_millis(500), drain(&mut stream)).await;
                return;
            }
        };
        let recorded = RecordedRequest {
            method: request.method,
            path: request.path,
            query: request.query,
            headers: request.headers,
            body: request.body,
        };
        let reply = choose(&state, &recorded);
        let head_only = recorded.method == "HEAD";
        state.record(recorded);
        match send(&mut stream, &mut buf, reply, head_only, request.keep_alive).await {
            Outcome::KeepAlive => {}
            Outcome::Close => {
                let _ = stream.shutdown().await;
                return;
            }
            Outcome::Reset => return,
            Outcome::Disconnected => {
                state.note_disconnect();
                return;
            }
        }
    }
}

/// Reads and discards input until the client closes its side.
async fn drain(stream: &mut TcpStream) {
    let mut scratch = [0u8; 8192];
    while let Ok(n) = stream.read(&mut scratch).await {
        if n == 0 {
            return;
        }
    }
}

/// The queued reply for this route, or else the default answer.
fn choose(state: &State, request: &RecordedRequest) -> Reply {
    state
        .dequeue(&request.method, request.api_path())
        .unwrap_or_else(|| canned::answer(state, request))
}
