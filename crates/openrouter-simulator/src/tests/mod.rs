//! Tests of the simulator over real sockets, with a tiny raw HTTP/1.1 client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers outside #[test] functions fail loudly"
)]

mod defaults;
mod faults;
mod models;
mod wire;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A parsed response as the client saw it.
#[derive(Debug, Default)]
pub(super) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The chunks of a chunked body, in order (empty for `Content-Length` bodies).
    pub chunks: Vec<Vec<u8>>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// A raw client over one TCP connection.
pub(super) struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads more bytes; Ok(0) at EOF.
    async fn fill(&mut self) -> std::io::Result<usize> {
        let mut scratch = [0u8; 8192];
        let n = self.stream.read(&mut scratch).await?;
        self.buf.extend_from_slice(&scratch[..n]);
        Ok(n)
    }

    async fn line(&mut self) -> std::io::Result<String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).take(i).collect();
                return Ok(String::from_utf8(line).unwrap());
            }
            if self.fill().await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    async fn exact(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads the status line and headers.
    pub async fn read_head(&mut self) -> std::io::Result<Response> {
        let status_line = self.line().await?;
        let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut response = Response {
            status,
            ..Response::default()
        };
        loop {
            let line = self.line().await?;
            if line.is_empty() {
                return Ok(response);
            }
            let (n, v) = line.split_once(':').unwrap();
            response.headers.push((n.to_string(), v.trim().to_string()));
        }
    }

    /// Reads one chunk of a chunked body; None for the last (empty) chunk.
    pub async fn read_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let size = usize::from_str_radix(&self.line().await?, 16).unwrap();
        if size == 0 {
            assert_eq!(self.line().await?, "");
            return Ok(None);
        }
        let data = self.exact(size).await?;
        assert_eq!(self.exact(2).await?, b"\r\n");
        Ok(Some(data))
    }

    /// Reads a full response: `Content-Length`, chunked, or up to EOF.
    pub async fn read_response(&mut self) -> std::io::Result<Response> {
        let mut response = self.read_head().await?;
        if response.header("transfer-encoding") == Some("chunked") {
            while let Some(chunk) = self.read_chunk().await? {
                response.body.extend_from_slice(&chunk);
                response.chunks.push(chunk);
            }
        } else if let Some(len) = response.header("content-length") {
            response.body = self.exact(len.parse().unwrap()).await?;
        } else {
            while self.fill().await? > 0 {}
            response.body = std::mem::take(&mut self.buf);
        }
        Ok(response)
    }

    /// Reads whatever arrives until EOF or an error, returning the bytes and the error.
    pub async fn read_to_end(&mut self) -> (Vec<u8>, Option<std::io::Error>) {
        loop {
            match self.fill().await {
                Ok(0) => return (std::mem::take(&mut self.buf), None),
                Ok(_) => {}
                Err(e) => return (std::mem::take(&mut self.buf), Some(e)),
            }
        }
    }

    /// Whether any byte arrives within `wait`.
    pub async fn receives_within(&mut self, wait: Duration) -> bool {
        if !self.buf.is_empty() {
            return true;
        }
        matches!(tokio::time::timeout(wait, self.fill()).await, Ok(Ok(n)) if n > 0)
    }

    /// Sends an authenticated request with a `Content-Length` body and reads the response.
    pub async fn request(&mut self, method: &str, path: &str, body: &str) -> Response {
        self.send_raw(&request_bytes(method, path, body)).await;
        self.read_response().await.unwrap()
    }
}

/// An authenticated request with a `Content-Length` body.
pub(super) fn request_bytes(method: &str, path: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer sk-or-test\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends one authenticated request on a fresh connection and reads the response.
pub(super) async fn call(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    Client::connect(addr)
        .await
        .request(method, path, body)
        .await
}
