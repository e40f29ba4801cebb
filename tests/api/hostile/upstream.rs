//! The adversarial upstream: a raw-socket HTTP/1.1 server on a free loopback port that answers
//! each request with exactly the bytes it was told to write, then closes (or holds the connection
//! open without a word). Unlike the simulator it can lie about framing, send bytes that are not
//! HTTP at all, and close before any byte.
//!
//! Answers are programmed per request id: the service sends the caller's `X-Request-Id` upstream,
//! so each case's answer is found by the id its call carried (and calls in parallel never see each
//! other's answers); a request without a known id gets the default answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The longest request head read; a longer one is answered as it is.
const MAX_HEAD: usize = 1024 * 1024;
/// How long a hanging answer holds its connection: far past the service's test timeout.
const HANG: Duration = Duration::from_secs(3);

/// What to write once a request has been read.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    /// The bytes written, all of them, as they are (head and body).
    pub bytes: Vec<u8>,
    /// After writing: hold the connection open for a while, saying nothing more.
    pub hang: bool,
}

/// One request as the upstream read it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub request_id: Option<String>,
    pub method: String,
    pub target: String,
    /// The whole request head, as text (lossy), for checks on what was forwarded.
    pub head: String,
}

#[derive(Default)]
struct State {
    answers: HashMap<String, Answer>,
    default: Answer,
    seen: Vec<Seen>,
}

/// A running adversarial upstream.
#[derive(Clone)]
pub struct HostileUpstream {
    pub address: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl HostileUpstream {
    /// Starts listening on `127.0.0.1:0`; it serves until the runtime ends.
    pub async fn start() -> HostileUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, Arc::clone(&shared)));
            }
        });
        HostileUpstream { address, state }
    }

    /// The base URL to give the service as `OPENROUTER_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.address)
    }

    /// Programs the answer to requests carrying `X-Request-Id: request_id`.
    pub fn program(&self, request_id: &str, answer: Answer) {
        let mut state = self.state.lock().unwrap();
        state.answers.insert(request_id.to_owned(), answer);
    }

    /// Programs the answer to requests without a known request id.
    pub fn program_default(&self, answer: Answer) {
        self.state.lock().unwrap().default = answer;
    }

    /// Forgets a case's answer and returns the requests that carried its id.
    pub fn finish(&self, request_id: &str) -> Vec<Seen> {
        let mut state = self.state.lock().unwrap();
        state.answers.remove(request_id);
        let (mine, rest) = std::mem::take(&mut state.seen)
            .into_iter()
            .partition(|seen| seen.request_id.as_deref() == Some(request_id));
        state.seen = rest;
        mine
    }

    /// Every request seen and not yet claimed by `finish`.
    pub fn unclaimed(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let Some(seen) = read_request(&mut stream).await else {
        return;
    };
    let answer = {
        let mut state = state.lock().unwrap();
        let answer = seen
            .request_id
            .as_ref()
            .and_then(|id| state.answers.get(id))
            .unwrap_or(&state.default)
            .clone();
        state.seen.push(seen);
        answer
    };
    // The service may have gone (its own timeout): a failed write is not our concern.
    let _ = stream.write_all(&answer.bytes).await;
    let _ = stream.flush().await;
    if answer.hang {
        tokio::time::sleep(HANG).await;
    }
    let _ = stream.shutdown().await;
}

/// Reads one request, head and body, so that closing afterwards never resets the connection.
async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buffer = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > MAX_HEAD || !read_more(stream, &mut buffer).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let header = |name: &str| {
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let request_id = header("x-request-id");
    if header("transfer-encoding").is_some_and(|te| te.to_ascii_lowercase().contains("chunked")) {
        while !buffer[head_end..].ends_with(b"0\r\n\r\n") {
            if !read_more(stream, &mut buffer).await {
                break;
            }
        }
    } else if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while buffer.len() < head_end + length {
            if !read_more(stream, &mut buffer).await {
                break;
            }
        }
    }
    Some(Seen {
        request_id,
        method,
        target,
        head,
    })
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await {
        Ok(Ok(n)) if n > 0 => {
            buffer.extend_from_slice(&chunk[..n]);
            true
        }
        _ => false,
    }
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
