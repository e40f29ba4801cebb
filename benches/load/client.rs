//! A minimal HTTP/1.1 client over raw TCP: one request at a time per connection, keep-alive,
//! `Content-Length`, chunked and read-to-close bodies. It costs the load generator far less CPU
//! than a full client (on 2 cores, every microsecond it spends is taken from the system under
//! test) and notes when the first body byte and the last byte arrived.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// One open connection and its read buffer.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    /// When the last answer on it completed (idle connections past a few seconds are dropped:
    /// actix closes keep-alive connections idle for 5 s).
    pub last_used: Instant,
    /// Answers read on it so far.
    uses: u64,
}

/// One answer.
pub struct Answer {
    pub status: u16,
    /// When the request started to be written.
    pub written: Instant,
    /// When the first body byte arrived (the end of the head when there is no body).
    pub first_byte: Instant,
    /// When the last byte arrived.
    pub done: Instant,
    /// Whether the connection may carry another request.
    pub keep_alive: bool,
}

/// Why an exchange failed.
#[derive(Debug)]
pub enum Failure {
    /// A reused connection was closed by the server before any byte of the answer: the request
    /// may be retried once on a new connection, as HTTP clients do.
    Stale,
    /// The socket failed.
    Io(io::ErrorKind),
    /// The answer was not HTTP/1.1 as expected.
    Bad(&'static str),
    /// No answer within the request timeout.
    Timeout,
}

impl Failure {
    /// A short name for the error table.
    pub fn name(&self) -> String {
        match self {
            Failure::Stale => "closed before answering".to_owned(),
            Failure::Io(kind) => format!("io: {kind}"),
            Failure::Bad(what) => (*what).to_owned(),
            Failure::Timeout => "timeout".to_owned(),
        }
    }
}

impl Conn {
    /// Connects with `TCP_NODELAY`.
    pub async fn open(addr: SocketAddr) -> Result<Conn, Failure> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| Failure::Io(e.kind()))?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            last_used: Instant::now(),
            uses: 0,
        })
    }

    /// Sends one whole request and reads its whole answer; the body is discarded unless `sink`
    /// is given.
    pub async fn call(
        &mut self,
        request: &[u8],
        mut sink: Option<&mut Vec<u8>>,
    ) -> Result<Answer, Failure> {
        let reused = self.uses > 0;
        let written = Instant::now();
        if let Err(e) = self.stream.write_all(request).await {
            return Err(if reused {
                Failure::Stale
            } else {
                Failure::Io(e.kind())
            });
        }
        self.buf.clear();
        let head_len = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(Failure::Bad("response head too large"));
            }
            self.buf.reserve(16 * 1024);
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) if self.buf.is_empty() && reused => return Err(Failure::Stale),
                Ok(0) => return Err(Failure::Bad("closed mid-head")),
                Ok(_) => {}
                Err(_) if self.buf.is_empty() && reused => return Err(Failure::Stale),
                Err(e) => return Err(Failure::Io(e.kind())),
            }
        };
        let head = parse_head(&self.buf[..head_len])?;
        self.buf.advance(head_len);
        let mut first = None;
        let mut close = head.close;
        if head.chunked {
            self.read_chunked(&mut first, &mut sink).await?;
        } else if let Some(length) = head.length {
            self.read_length(length, &mut first, &mut sink).await?;
        } else if head.status == 204 || head.status == 304 {
        } else {
            self.read_to_close(&mut first, &mut sink).await?;
            close = true;
        }
        let done = Instant::now();
        self.uses += 1;
        self.last_used = done;
        Ok(Answer {
            status: head.status,
            written,
            first_byte: first.unwrap_or(done),
            done,
            keep_alive: !close,
        })
    }

    async fn fill(&mut self) -> Result<(), Failure> {
        self.buf.reserve(64 * 1024);
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) => Err(Failure::Bad("closed mid-body")),
            Ok(_) => Ok(()),
            Err(e) => Err(Failure::Io(e.kind())),
        }
    }

    /// Takes up to `n` body bytes from the buffer, noting the first one's arrival.
    fn take(
        &mut self,
        n: usize,
        first: &mut Option<Instant>,
        sink: &mut Option<&mut Vec<u8>>,
    ) -> usize {
        let n = n.min(self.buf.len());
        if n > 0 {
            first.get_or_insert_with(Instant::now);
            if let Some(sink) = sink.as_mut() {
                sink.extend_from_slice(&self.buf[..n]);
            }
            self.buf.advance(n);
        }
        n
    }

    async fn read_length(
        &mut self,
        length: usize,
        first: &mut Option<Instant>,
        sink: &mut Option<&mut Vec<u8>>,
    ) -> Result<(), Failure> {
        let mut remaining = length;
        loop {
            remaining -= self.take(remaining, first, sink);
            if remaining == 0 {
                return Ok(());
            }
            self.fill().await?;
        }
    }

    async fn read_to_close(
        &mut self,
        first: &mut Option<Instant>,
        sink: &mut Option<&mut Vec<u8>>,
    ) -> Result<(), Failure> {
        loop {
            self.take(usize::MAX, first, sink);
            self.buf.reserve(64 * 1024);
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(Failure::Io(e.kind())),
            }
        }
    }

    /// One CRLF-terminated line, without its terminator, consumed from the buffer.
    async fn line(&mut self) -> Result<BytesMut, Failure> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let mut line = self.buf.split_to(i + 2);
                line.truncate(i);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(Failure::Bad("chunk line too long"));
            }
            self.fill().await?;
        }
    }

    async fn read_chunked(
        &mut self,
        first: &mut Option<Instant>,
        sink: &mut Option<&mut Vec<u8>>,
    ) -> Result<(), Failure> {
        loop {
            let line = self.line().await?;
            let size_text = line[..].split(|b| *b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size_text)
                .ok()
                .and_then(|t| usize::from_str_radix(t.trim(), 16).ok())
                .ok_or(Failure::Bad("bad chunk size"))?;
            if size == 0 {
                while !self.line().await?.is_empty() {}
                return Ok(());
            }
            self.read_length(size, first, sink).await?;
            if !self.line().await?.is_empty() {
                return Err(Failure::Bad("bad chunk end"));
            }
        }
    }
}

/// What the head says about the body and the connection.
struct Head {
    status: u16,
    length: Option<usize>,
    chunked: bool,
    close: bool,
}

fn parse_head(head: &[u8]) -> Result<Head, Failure> {
    let text = std::str::from_utf8(head).map_err(|_| Failure::Bad("head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split(' ');
    let version = parts.next().unwrap_or_default();
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or(Failure::Bad("bad status line"))?;
    if !version.starts_with("HTTP/1.") || status < 200 {
        return Err(Failure::Bad("bad status line"));
    }
    let mut parsed = Head {
        status,
        length: None,
        chunked: false,
        close: version == "HTTP/1.0",
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            parsed.length = Some(
                value
                    .parse()
                    .map_err(|_| Failure::Bad("bad content-length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            parsed.chunked = value.to_ascii_lowercase().ends_with("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            if value.contains("close") {
                parsed.close = true;
            } else if value.contains("keep-alive") {
                parsed.close = false;
            }
        }
    }
    Ok(parsed)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A request's bytes: `method path`, `Host`, the key as `Authorization: Bearer`, and a JSON body.
pub fn request(
    method: &str,
    path: &str,
    host: SocketAddr,
    key: Option<&str>,
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.map_or(0, <[u8]>::len));
    out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n").as_bytes());
    if let Some(key) = key {
        out.extend_from_slice(format!("Authorization: Bearer {key}\r\n").as_bytes());
    }
    if let Some(body) = body {
        out.extend_from_slice(
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    if let Some(body) = body {
        out.extend_from_slice(body);
    }
    out
}

/// One `GET` on a new connection, body kept: for readiness checks and `/metrics`.
pub async fn get(addr: SocketAddr, path: &str) -> Result<(u16, Vec<u8>), Failure> {
    let mut conn = Conn::open(addr).await?;
    let mut body = Vec::new();
    let answer = conn
        .call(&request("GET", path, addr, None, None), Some(&mut body))
        .await?;
    Ok((answer.status, body))
}
