//! Writing a [`Reply`] to the wire, including its delays, drips, holds and early cuts.

use std::future::Future;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::http::{MAX_HEAD, reason};
use super::reply::{Body, Cut, Reply};

/// How the connection continues after a reply.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The reply was sent and the connection may serve another request.
    KeepAlive,
    /// The reply ended and the connection must be closed (FIN).
    Close,
    /// The connection must be reset: linger is already set to zero, just drop the stream.
    Reset,
    /// The client went away before the reply was complete.
    Disconnected,
}

/// The client closed the connection or the socket failed.
struct Gone;

impl From<std::io::Error> for Gone {
    fn from(_: std::io::Error) -> Self {
        Gone
    }
}

/// Waits for `fut` while watching the socket: bytes the client sends meanwhile are kept in `buf`,
/// and a close or socket error ends the wait with [`Gone`].
async fn watch<F: Future>(stream: &mut TcpStream, buf: &mut BytesMut, fut: F) -> Result<(), Gone> {
    tokio::pin!(fut);
    let mut scratch = [0u8; 4096];
    loop {
        if buf.len() > 4 * MAX_HEAD {
            // The client is flooding us with pipelined data: stop reading, just wait.
            fut.await;
            return Ok(());
        }
        tokio::select! {
            _ = &mut fut => return Ok(()),
            read = stream.read(&mut scratch) => match read {
                Ok(0) | Err(_) => return Err(Gone),
                Ok(n) => buf.extend_from_slice(&scratch[..n]),
            },
        }
    }
}

/// Sleeps for `d` while watching the socket; a zero duration returns at once.
async fn pause(stream: &mut TcpStream, buf: &mut BytesMut, d: Duration) -> Result<(), Gone> {
    if d.is_zero() {
        return Ok(());
    }
    watch(stream, buf, tokio::time::sleep(d)).await
}

/// Reads and discards everything until the client closes the connection.
async fn hang(stream: &mut TcpStream) -> Outcome {
    let mut scratch = [0u8; 4096];
    loop {
        match stream.read(&mut scratch).await {
            Ok(0) | Err(_) => return Outcome::Disconnected,
            Ok(_) => {}
        }
    }
}

/// Whether the reply's own headers contain `name`.
fn has_header(reply: &Reply, name: &str) -> bool {
    reply
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Builds the status line and headers.
fn head(reply: &Reply, chunked: bool, length: usize, keep_alive: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    if let Some(ct) = &reply.content_type {
        out.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    let framed = has_header(reply, "content-length") || has_header(reply, "transfer-encoding");
    if !framed && reply.status != 204 && reply.status != 304 {
        if chunked {
            out.push_str("Transfer-Encoding: chunked\r\n");
        } else {
            out.push_str(&format!("Content-Length: {length}\r\n"));
        }
    }
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !has_header(reply, "connection") {
        out.push_str(if keep_alive {
            "Connection: keep-alive\r\n"
        } else {
            "Connection: close\r\n"
        });
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Sends `reply` for a request; `head_only` is true for `HEAD` requests.
pub(crate) async fn send(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    reply: Reply,
    head_only: bool,
    keep_alive: bool,
) -> Outcome {
    match send_inner(stream, buf, reply, head_only, keep_alive).await {
        Ok(outcome) => outcome,
        Err(Gone) => Outcome::Disconnected,
    }
}

async fn send_inner(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    reply: Reply,
    head_only: bool,
    keep_alive: bool,
) -> Result<Outcome, Gone> {
    let (chunks, chunked) = match &reply.body {
        Body::Hang => return Ok(hang(stream).await),
        Body::Full(b) => (vec![b.clone()], false),
        Body::Chunks(c) => (c.clone(), true),
    };
    pause(stream, buf, reply.delay).await?;
    let keep_alive = keep_alive
        && reply.cut.is_none()
        && !reply
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close"));
    let no_body = head_only || reply.status == 204 || reply.status == 304 || reply.status < 200;
    let length: usize = chunks.iter().map(Bytes::len).sum();
    let chunked = chunked && !has_header(&reply, "content-length");
    let mut head = head(&reply, chunked, length, keep_alive);
    if !no_body && !chunked && chunks.len() <= 1 && reply.drip.is_none() && reply.cut.is_none() {
        // The plain case: head and body in one write, as one packet on loopback.
        for chunk in &chunks {
            head.extend_from_slice(chunk);
        }
        stream.write_all(&head).await?;
        return Ok(if keep_alive {
            Outcome::KeepAlive
        } else {
            Outcome::Close
        });
    }
    stream.write_all(&head).await?;
    if no_body {
        return Ok(if keep_alive {
            Outcome::KeepAlive
        } else {
            Outcome::Close
        });
    }
    let mut budget = reply.cut.map(|c| match c {
        Cut::Reset(n) | Cut::Truncate(n) => n,
    });
    let mut first_byte = true;
    let mut cut_now = false;
    for (i, chunk) in chunks.iter().filter(|c| !c.is_empty()).enumerate() {
        if i == 1
            && let Some(gate) = &reply.gate
        {
            watch(stream, buf, gate.wait()).await?;
        }
        if i > 0 {
            pause(stream, buf, reply.chunk_delay).await?;
        }
        if budget == Some(0) {
            cut_now = true;
            break;
        }
        if chunked && reply.drip.is_none() && budget.is_none_or(|b| b >= chunk.len()) {
            // A whole chunk (size line, data, CRLF) in one write.
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(chunk);
            frame.extend_from_slice(b"\r\n");
            stream.write_all(&frame).await?;
            if let Some(b) = budget.as_mut() {
                *b -= chunk.len();
            }
            continue;
        }
        if chunked {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
        }
        let take = budget.map_or(chunk.len(), |b| b.min(chunk.len()));
        match reply.drip {
            Some(every) => {
                for byte in &chunk[..take] {
                    if !first_byte {
                        pause(stream, buf, every).await?;
                    }
                    first_byte = false;
                    stream.write_all(std::slice::from_ref(byte)).await?;
                }
            }
            None => stream.write_all(&chunk[..take]).await?,
        }
        if let Some(b) = budget.as_mut() {
            *b -= take;
            if *b == 0 {
                cut_now = true;
                break;
            }
        }
        if chunked {
            stream.write_all(b"\r\n").await?;
        }
    }
    if chunked && !cut_now {
        stream.write_all(b"0\r\n\r\n").await?;
    }
    stream.flush().await?;
    match reply.cut {
        Some(Cut::Reset(_)) => {
            // Give the peer a moment to take the bytes before the RST discards anything in flight.
            tokio::time::sleep(Duration::from_millis(20)).await;
            // `set_linger(Some(Duration::ZERO))` is deprecated in tokio 1.54; this is its replacement.
            stream.set_zero_linger()?;
            Ok(Outcome::Reset)
        }
        Some(Cut::Truncate(_)) => {
            let _ = stream.shutdown().await;
            Ok(Outcome::Close)
        }
        None if keep_alive => Ok(Outcome::KeepAlive),
        None => Ok(Outcome::Close),
    }
}
