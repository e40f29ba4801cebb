//! Minimal HTTP/1.1 request parsing: request line, headers and bodies (`Content-Length` or chunked).

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest accepted request line plus header section, in bytes.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Largest accepted request body, in bytes: above the connector's 32 MiB limits, since the
/// body it sends upstream for a request at its limit is a few bytes larger (a data URL's prefix).
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;
/// Longest accepted chunk-size or trailer line of a chunked body.
const MAX_LINE: usize = 8 * 1024;

/// One parsed request, before it is recorded.
#[derive(Debug)]
pub(crate) struct Request {
    /// Method as sent (e.g. `POST`).
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Query string without the `?`, when there was one.
    pub query: Option<String>,
    /// Header names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Decoded body.
    pub body: Bytes,
    /// Whether the client allows another request on this connection.
    pub keep_alive: bool,
}

/// Why a request could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The socket failed or closed mid-request: nothing can be answered.
    Closed,
    /// The request is malformed: answer with this status and message, then close.
    Bad(u16, &'static str),
}

impl From<std::io::Error> for ReadError {
    fn from(_: std::io::Error) -> Self {
        ReadError::Closed
    }
}

/// Reads more bytes into `buf`; a closed socket is an error here.
async fn fill(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<(), ReadError> {
    buf.reserve(16 * 1024);
    match stream.read_buf(buf).await? {
        0 => Err(ReadError::Closed),
        _ => Ok(()),
    }
}

/// Finds the end of the header section: returns (head length, bytes to consume).
fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf.get(i + 1) == Some(&b'\n') {
                return Some((i, i + 2));
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                return Some((i, i + 3));
            }
        }
        i += 1;
    }
    None
}

/// Whether `s` is a non-empty RFC 9110 token.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Reads one request from `stream`, using and refilling `buf`; `Ok(None)` on a clean close between requests.
pub(crate) async fn read_request(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
) -> Result<Option<Request>, ReadError> {
    loop {
        // Ignore empty lines before a request line (RFC 9112 section 2.2).
        while buf.first().is_some_and(|b| *b == b'\r' || *b == b'\n') {
            let _ = buf.split_to(1);
        }
        if let Some((head_len, consumed)) = find_head_end(buf) {
            if head_len > MAX_HEAD {
                return Err(ReadError::Bad(431, "Request header fields too large"));
            }
            let head = buf.split_to(consumed);
            let mut request = parse_head(&head[..head_len])?;
            request.body = read_body(stream, buf, &request.headers).await?;
            return Ok(Some(request));
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Bad(431, "Request header fields too large"));
        }
        buf.reserve(16 * 1024);
        if stream.read_buf(buf).await? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(ReadError::Closed)
            };
        }
    }
}

/// Parses the request line and headers (without the terminating blank line).
fn parse_head(head: &[u8]) -> Result<Request, ReadError> {
    let text =
        std::str::from_utf8(head).map_err(|_| ReadError::Bad(400, "Request head is not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(400, "Malformed request line"));
    };
    if !is_token(method) {
        return Err(ReadError::Bad(400, "Malformed method"));
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(ReadError::Bad(400, "Unsupported HTTP version")),
    };
    let target = strip_absolute_form(target);
    if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(ReadError::Bad(400, "Malformed request target"));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Bad(400, "Malformed header line"));
        };
        if !is_token(name) {
            return Err(ReadError::Bad(400, "Malformed header name"));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let connection = header_tokens(&headers, "connection");
    let keep_alive = if http10 {
        connection.iter().any(|t| t == "keep-alive")
    } else {
        !connection.iter().any(|t| t == "close")
    };
    Ok(Request {
        method: method.to_string(),
        path,
        query,
        headers,
        body: Bytes::new(),
        keep_alive,
    })
}

/// Turns `http://host/path` into `/path`; other targets are returned unchanged.
fn strip_absolute_form(target: &str) -> &str {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            return rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    target
}

/// All comma-separated, lowercased tokens of every header named `name`.
fn header_tokens(headers: &[(String, String)], name: &str) -> Vec<String> {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Reads the body framed as the headers say.
async fn read_body(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    headers: &[(String, String)],
) -> Result<Bytes, ReadError> {
    let codings = header_tokens(headers, "transfer-encoding");
    let lengths: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v.as_str())
        .collect();
    let expects_continue = header_tokens(headers, "expect")
        .iter()
        .any(|t| t == "100-continue");
    if !codings.is_empty() {
        if codings.last().map(String::as_str) != Some("chunked") || !lengths.is_empty() {
            return Err(ReadError::Bad(400, "Unsupported transfer-encoding"));
        }
        if expects_continue && buf.is_empty() {
            stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        return read_chunked(stream, buf).await;
    }
    let mut length: Option<usize> = None;
    for raw in lengths {
        let parsed = raw
            .parse::<usize>()
            .map_err(|_| ReadError::Bad(400, "Malformed content-length"))?;
        if length.is_some_and(|l| l != parsed) {
            return Err(ReadError::Bad(400, "Conflicting content-length"));
        }
        length = Some(parsed);
    }
    let length = length.unwrap_or(0);
    if length > MAX_BODY {
        return Err(ReadError::Bad(413, "Request body too large"));
    }
    if length > 0 && expects_continue && buf.is_empty() {
        stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    while buf.len() < length {
        fill(stream, buf).await?;
    }
    Ok(buf.split_to(length).freeze())
}

/// Reads one CRLF- or LF-terminated line, without its terminator.
async fn read_line(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<Bytes, ReadError> {
    loop {
        if let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let mut line = buf.split_to(i + 1);
            line.truncate(i);
            if line.last() == Some(&b'\r') {
                line.truncate(i - 1);
            }
            return Ok(line.freeze());
        }
        if buf.len() > MAX_LINE {
            return Err(ReadError::Bad(400, "Chunk line too long"));
        }
        fill(stream, buf).await?;
    }
}

/// Decodes a chunked body, discarding chunk extensions and trailers.
async fn read_chunked(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<Bytes, ReadError> {
    let mut body = BytesMut::new();
    loop {
        let line = read_line(stream, buf).await?;
        let size_text = std::str::from_utf8(&line)
            .ok()
            .and_then(|l| l.split(';').next())
            .map(str::trim)
            .unwrap_or_default();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Bad(400, "Malformed chunk size"))?;
        if size == 0 {
            while !read_line(stream, buf).await?.is_empty() {}
            return Ok(body.freeze());
        }
        if body.len().saturating_add(size) > MAX_BODY {
            return Err(ReadError::Bad(413, "Request body too large"));
        }
        while buf.len() < size {
            fill(stream, buf).await?;
        }
        body.extend_from_slice(&buf.split_to(size));
        if !read_line(stream, buf).await?.is_empty() {
            return Err(ReadError::Bad(400, "Malformed chunk terminator"));
        }
    }
}

/// The standard reason phrase of a status code, or an empty string.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Decodes `%XX` escapes; invalid escapes are kept as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
