//! The bytes an adversarial answer is made of: framings sound and lying, a gzip bomb, and a
//! small reader of raw HTTP answers for the hostile-client tests.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::upstream::{Answer, find};

/// How the body is delimited, or how the connection misbehaves instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length` exactly the body's length.
    Length,
    /// `Transfer-Encoding: chunked`, in a few chunks, with the last `0` chunk.
    Chunked,
    /// Neither: the body ends when the connection closes (valid for a response).
    CloseDelimited,
    /// `Content-Length` 100 bytes more than the body, then close.
    LongerLength,
    /// `Content-Length` half the body, the whole body written, then close.
    ShorterLength,
    /// `Content-Length` and `Transfer-Encoding: chunked` together.
    LengthAndChunked,
    /// Two `Content-Length` headers with different values.
    TwoLengths,
    /// A chunk size that is not hexadecimal.
    BrokenChunkSize,
    /// A chunk size larger than the bytes that follow, then close.
    ChunkTooLong,
    /// Chunks without the terminating `0` chunk, then close.
    NoLastChunk,
    /// The head and half the body, then silence with the connection open.
    Stall,
    /// The connection closed before any byte of an answer.
    CloseFirst,
    /// No answer at all, the connection held open.
    Hang,
}

impl Framing {
    /// Whether no HTTP answer head arrives at all.
    pub fn headless(self) -> bool {
        matches!(self, Framing::CloseFirst | Framing::Hang)
    }
}

/// The answer: `head` (status lines and header lines, each ending `\r\n`), then the framing's
/// own header lines, the blank line, and `body` framed as `framing` says.
pub fn answer(head: &[u8], body: &[u8], framing: Framing) -> Answer {
    let mut bytes = head.to_vec();
    let n = body.len();
    let mut hang = false;
    let mut framed = |headers: String, payload: Vec<u8>| {
        bytes.extend_from_slice(headers.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&payload);
    };
    match framing {
        Framing::CloseFirst => return Answer::default(),
        Framing::Hang => {
            return Answer {
                bytes: Vec::new(),
                hang: true,
            };
        }
        Framing::Length => framed(format!("Content-Length: {n}\r\n"), body.to_vec()),
        Framing::Chunked => framed(te(), chunks(body, true)),
        Framing::CloseDelimited => framed(String::new(), body.to_vec()),
        Framing::LongerLength => framed(format!("Content-Length: {}\r\n", n + 100), body.to_vec()),
        Framing::ShorterLength => framed(format!("Content-Length: {}\r\n", n / 2), body.to_vec()),
        Framing::LengthAndChunked => {
            framed(
                format!("Content-Length: {n}\r\n{}", te()),
                chunks(body, true),
            );
        }
        Framing::TwoLengths => framed(
            format!("Content-Length: {n}\r\nContent-Length: {}\r\n", n + 7),
            body.to_vec(),
        ),
        Framing::BrokenChunkSize => {
            let mut payload = b"zz\r\n".to_vec();
            payload.extend_from_slice(body);
            payload.extend_from_slice(b"\r\n0\r\n\r\n");
            framed(te(), payload);
        }
        Framing::ChunkTooLong => {
            let mut payload = format!("{:x}\r\n", n + 4096).into_bytes();
            payload.extend_from_slice(body);
            framed(te(), payload);
        }
        Framing::NoLastChunk => framed(te(), chunks(body, false)),
        Framing::Stall => {
            hang = true;
            framed(format!("Content-Length: {n}\r\n"), body[..n / 2].to_vec());
        }
    }
    Answer { bytes, hang }
}

fn te() -> String {
    "Transfer-Encoding: chunked\r\n".to_owned()
}

/// `body` in up to three chunks, with or without the terminating `0` chunk.
fn chunks(body: &[u8], last: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 64);
    let size = body.len().div_ceil(3).max(1);
    for piece in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    if last {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    out
}

/// How many zero bytes the gzip bomb inflates to.
pub const BOMB_INFLATED: usize = 16 * 1024 * 1024;

/// A valid gzip member (about 100 KB) that inflates to `BOMB_INFLATED` zero bytes: one fixed
/// Huffman block of a literal 0 and then 258-byte copies at distance 1.
pub fn gzip_bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        let mut bits = Bits::default();
        bits.put(1, 1); // BFINAL
        bits.put(1, 2); // BTYPE 01: fixed Huffman
        bits.code(0x30, 8); // literal 0
        let copies = (BOMB_INFLATED - 1) / 258;
        for _ in 0..copies {
            bits.code(0xC5, 8); // length symbol 285: 258 bytes
            bits.code(0, 5); // distance code 0: distance 1
        }
        for _ in 0..(BOMB_INFLATED - 1 - copies * 258) {
            bits.code(0x30, 8);
        }
        bits.code(0, 7); // end of block (256)
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        out.extend_from_slice(&bits.finish());
        out.extend_from_slice(&crc32_of_zeros(BOMB_INFLATED).to_le_bytes());
        out.extend_from_slice(&(BOMB_INFLATED as u32).to_le_bytes());
        out
    })
}

#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    count: u32,
}

impl Bits {
    /// `n` bits of `value`, least significant first (deflate's header fields).
    fn put(&mut self, value: u64, n: u32) {
        self.acc |= value << self.count;
        self.count += n;
        while self.count >= 8 {
            self.out.push((self.acc & 0xff) as u8);
            self.acc >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code of `n` bits, most significant first.
    fn code(&mut self, code: u64, n: u32) {
        let reversed = (0..n).fold(0, |acc, i| acc | (((code >> i) & 1) << (n - 1 - i)));
        self.put(reversed, n);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.out.push((self.acc & 0xff) as u8);
        }
        self.out
    }
}

fn crc32_of_zeros(n: usize) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|i| {
            (0..8).fold(i, |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    let mut crc = !0u32;
    for _ in 0..n {
        crc = table[(crc & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// A raw answer read from the service: `None` when it closed without a status line.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

/// Writes `request` to the service as it is and reads until it closes (or 5 s pass): the answer
/// if one came, `None` if the connection closed (or reset) without one.
pub async fn raw_call(port: u16, request: &[u8]) -> Option<RawAnswer> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // The service may answer and close before it has read all of an oversized request.
    let _ = stream.write_all(request).await;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    let read = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    bytes.extend_from_slice(&chunk[..n]);
                    if complete(&bytes) {
                        break;
                    }
                }
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
    let end = find(&bytes, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(RawAnswer {
        status,
        head,
        body: bytes[end + 4..].to_vec(),
    })
}

/// Whether `bytes` hold a whole answer with a `Content-Length` (so a kept-alive connection need
/// not be waited out).
fn complete(bytes: &[u8]) -> bool {
    let Some(end) = find(bytes, b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    head.lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .is_some_and(|length| bytes.len() >= end + 4 + length)
}
