//! The generated cases: an action called on the service, and the upstream answer it meets
//! (status × odd headers × body shape × framing). Each case is made from the seed and its own
//! index alone, so any one can be run again by itself (`HOSTILE_CASE=<index>`).

use std::fmt;

use serde_json::{Value, json};

use super::KEY;
use super::wire::{self, Framing};
use crate::hostile::upstream::Answer;

/// What the case calls on the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Chat,
    Completion,
    Models,
    Endpoints,
    Credits,
    Generation,
    PassChat,
    PassStream,
    PassModels,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Chat,
        Action::Completion,
        Action::Models,
        Action::Endpoints,
        Action::Credits,
        Action::Generation,
        Action::PassChat,
        Action::PassStream,
        Action::PassModels,
    ];

    pub fn method(self) -> &'static str {
        match self {
            Action::Chat | Action::Completion | Action::PassChat | Action::PassStream => "POST",
            _ => "GET",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Action::Chat => "/connector/v1/chat/completions",
            Action::Completion => "/connector/v1/completions",
            Action::Models => "/connector/v1/models",
            Action::Endpoints => "/connector/v1/models/openai/gpt-4o/endpoints",
            Action::Credits => "/connector/v1/credits",
            Action::Generation => "/connector/v1/generation?id=gen-1",
            Action::PassChat | Action::PassStream => "/api/v1/chat/completions",
            Action::PassModels => "/api/v1/models",
        }
    }

    pub fn body(self) -> Option<Value> {
        let messages = json!([{"role": "user", "content": "hi"}]);
        match self {
            Action::Chat => Some(json!({"content": "hi"})),
            Action::Completion => Some(json!({"prompt": "hi"})),
            Action::PassChat => Some(json!({"model": "openai/gpt-4o", "messages": messages})),
            Action::PassStream => {
                Some(json!({"model": "openai/gpt-4o", "messages": messages, "stream": true}))
            }
            _ => None,
        }
    }

    /// One of the six connector actions (not the pass-through).
    pub fn connector(self) -> bool {
        !matches!(
            self,
            Action::PassChat | Action::PassStream | Action::PassModels
        )
    }

    /// The answer upstream gives when all is well.
    pub fn usable(self) -> Value {
        match self {
            Action::Chat | Action::PassChat | Action::PassStream => json!({
                "id": "gen-1", "object": "chat.completion", "model": "openai/gpt-4o",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
            Action::Completion => json!({
                "id": "gen-1", "object": "text_completion", "model": "openai/gpt-4o",
                "choices": [{"index": 0, "text": "hi", "finish_reason": "stop"}]}),
            Action::Models | Action::PassModels => json!({"data": [{
                "id": "openai/gpt-4o", "name": "GPT-4o", "created": 1, "context_length": 128000,
                "pricing": {"prompt": "0.0000025", "completion": "0.00001"}}]}),
            Action::Endpoints => json!({"data": {
                "id": "openai/gpt-4o", "name": "GPT-4o", "created": 1, "description": "d",
                "endpoints": [{"name": "OpenAI | openai/gpt-4o", "provider_name": "OpenAI",
                               "context_length": 128000}]}}),
            Action::Credits => json!({"data": {"total_credits": 10.5, "total_usage": 2.25}}),
            Action::Generation => json!({"data": {
                "id": "gen-1", "model": "openai/gpt-4o", "total_cost": 0.001}}),
        }
    }

    /// Another action, whose usable answer is the wrong shape here.
    fn other(self) -> Action {
        match self {
            Action::Chat | Action::PassChat | Action::PassStream => Action::Credits,
            Action::Completion => Action::Models,
            Action::Models | Action::PassModels => Action::Generation,
            Action::Endpoints => Action::Models,
            Action::Credits => Action::Generation,
            Action::Generation => Action::Chat,
        }
    }
}

/// The status line(s) upstream sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// `HTTP/1.1 <code> <reason>`.
    Code(u16),
    /// An informational answer (`100`, `103`) and then `200`.
    Informational(u16),
    /// A raw status line, and the status an HTTP client may read from it (`None`: none).
    Line(&'static str, Option<u16>),
}

/// An odd header (or a few) added to the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extra {
    Plain,
    /// A 60 KB header value.
    Huge,
    /// This many extra headers.
    Many(usize),
    /// A header value with bytes that are not ASCII.
    NonAsciiValue,
    /// A header name with bytes that are not ASCII.
    NonAsciiName,
    /// `Content-Type` twice, disagreeing.
    TwoContentTypes,
    RetryAfter(&'static str),
    /// A header that echoes the caller's key.
    KeyInHeader,
}

/// The body upstream sends (before framing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Usable,
    /// The usable answer of another action.
    OtherAction,
    EmptyArray,
    Null,
    EmptyObject,
    Text,
    ChoicesNull,
    ChoicesEmptyItem,
    DataNull,
    DataString,
    /// Arrays nested 100,000 deep.
    DeepArray,
    /// The usable answer with a 1 MiB string in it.
    LongString,
    /// The usable answer with bytes that are not UTF-8 inside a string.
    InvalidUtf8,
    /// The first half of the usable answer.
    Truncated,
    /// An OpenRouter error object with this `code` (`0`: the string `"oops"`).
    ErrorObject(u16),
    /// An error object echoing the caller's key in `message` and `metadata.raw`.
    KeyEcho,
    Empty,
    Html,
    /// Server-Sent Events (a streamed chat answer).
    Sse,
    /// `Content-Encoding: gzip` over a body that inflates to 16 MiB.
    GzipBomb,
    /// `Content-Encoding: gzip` over a body that is not gzip.
    NotGzip,
}

/// Where a redirect points.
pub const LOCATIONS: [&str; 4] = [
    "SELF/redirected",
    "http://127.0.0.1:1/elsewhere",
    "https://openrouter.ai.evil.example/api/v1/chat/completions",
    "/api/v1/credits",
];

/// One generated case.
#[derive(Clone, Debug)]
pub struct Case {
    pub index: u64,
    pub action: Action,
    pub status: Status,
    pub extra: Extra,
    pub shape: Shape,
    pub framing: Framing,
    pub location: &'static str,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "case #{}: {:?} {} {} <- status {:?} | headers {:?} | body {:?} | framing {:?}",
            self.index,
            self.action,
            self.action.method(),
            self.action.path(),
            self.status,
            self.extra,
            self.shape,
            self.framing
        )?;
        if self.redirect() {
            write!(f, " | Location {}", self.location)?;
        }
        Ok(())
    }
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, weighted: &[(u32, T)]) -> T {
    let total: u32 = weighted.iter().map(|(w, _)| w).sum();
    let mut at = rng.u32(0..total);
    for &(weight, item) in weighted {
        if at < weight {
            return item;
        }
        at -= weight;
    }
    weighted[weighted.len() - 1].1
}

const RETRY_AFTERS: [&str; 14] = [
    "1e20",
    "18446744073709551616",
    "-5",
    "abc",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "0",
    "",
    "99999999999999999999999",
    "1",
    "0.5",
    "120",
    " 7 ",
    "NaN",
];

const LINES: [(&str, Option<u16>); 9] = [
    ("HTTP/1.1 999 Odd", Some(999)),
    ("HTTP/1.1 600 Six Hundred", Some(600)),
    ("HTTP/1.1 000 Zero", None),
    ("HTTP/1.1 1000 Too Long", None),
    ("HTTP/1.1 abc Letters", None),
    ("HTTP/1.0 200 OK", Some(200)),
    ("HTTP/1.1 200", Some(200)),
    ("HTTP/1.1 99 Low", None),
    ("HTTP/2 200 OK", None),
];

const CODES: [u16; 26] = [
    201, 204, 301, 302, 304, 307, 308, 400, 401, 402, 403, 404, 405, 408, 413, 418, 422, 429, 431,
    451, 500, 502, 503, 504, 599, 101,
];

const ERROR_CODES: [u16; 10] = [400, 401, 402, 403, 404, 429, 500, 503, 999, 0];

impl Case {
    /// The case `index` of the run seeded with `seed`.
    pub fn generate(seed: u64, index: u64) -> Case {
        let mut rng = fastrand::Rng::with_seed(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let action = Action::ALL[rng.usize(..Action::ALL.len())];
        let retry_after = RETRY_AFTERS[rng.usize(..RETRY_AFTERS.len())];
        let informational = if rng.bool() { 100 } else { 103 };
        let extra = pick(
            &mut rng,
            &[
                (30, Extra::Plain),
                (2, Extra::Huge),
                (1, Extra::Many(60)),
                (1, Extra::Many(150)),
                (2, Extra::NonAsciiValue),
                (1, Extra::NonAsciiName),
                (2, Extra::TwoContentTypes),
                (8, Extra::RetryAfter(retry_after)),
                (2, Extra::KeyInHeader),
            ],
        );
        let code = CODES[rng.usize(..CODES.len())];
        let retry_code = [429, 503, 502, 500][rng.usize(..4)];
        let line = LINES[rng.usize(..LINES.len())];
        let status = if matches!(extra, Extra::RetryAfter(_)) && rng.u8(..10) < 7 {
            Status::Code(retry_code)
        } else {
            pick(
                &mut rng,
                &[
                    (40, Status::Code(200)),
                    (25, Status::Code(code)),
                    (3, Status::Informational(informational)),
                    (3, Status::Line(line.0, line.1)),
                ],
            )
        };
        let error_code = ERROR_CODES[rng.usize(..ERROR_CODES.len())];
        let shape = pick(
            &mut rng,
            &[
                (30, Shape::Usable),
                (3, Shape::OtherAction),
                (2, Shape::EmptyArray),
                (2, Shape::Null),
                (2, Shape::EmptyObject),
                (2, Shape::Text),
                (2, Shape::ChoicesNull),
                (2, Shape::ChoicesEmptyItem),
                (2, Shape::DataNull),
                (2, Shape::DataString),
                (1, Shape::DeepArray),
                (1, Shape::LongString),
                (2, Shape::InvalidUtf8),
                (2, Shape::Truncated),
                (6, Shape::ErrorObject(error_code)),
                (3, Shape::KeyEcho),
                (2, Shape::Empty),
                (1, Shape::Html),
                (2, Shape::Sse),
                (1, Shape::GzipBomb),
                (1, Shape::NotGzip),
            ],
        );
        let framing = pick(
            &mut rng,
            &[
                (40, Framing::Length),
                (12, Framing::Chunked),
                (6, Framing::CloseDelimited),
                (2, Framing::LongerLength),
                (2, Framing::ShorterLength),
                (2, Framing::LengthAndChunked),
                (2, Framing::TwoLengths),
                (2, Framing::BrokenChunkSize),
                (2, Framing::ChunkTooLong),
                (2, Framing::NoLastChunk),
                (1, Framing::Stall),
                (2, Framing::CloseFirst),
                (1, Framing::Hang),
            ],
        );
        Case {
            index,
            action,
            status,
            extra,
            shape,
            framing,
            location: LOCATIONS[rng.usize(..LOCATIONS.len())],
        }
    }

    pub fn redirect(&self) -> bool {
        matches!(self.status, Status::Code(301 | 302 | 307 | 308))
    }

    /// The body upstream sends (before framing), its content type and content encoding.
    pub fn body(&self) -> (Vec<u8>, &'static str, Option<&'static str>) {
        let usable = if self.action == Action::PassStream && self.shape == Shape::Usable {
            return (sse(), "text/event-stream", None);
        } else {
            self.action.usable()
        };
        let json = |value: Value| (value.to_string().into_bytes(), "application/json", None);
        let text = usable.to_string();
        match self.shape {
            Shape::Usable => json(usable),
            Shape::OtherAction => json(self.action.other().usable()),
            Shape::EmptyArray => json(json!([])),
            Shape::Null => json(Value::Null),
            Shape::EmptyObject => json(json!({})),
            Shape::Text => json(json!("text")),
            Shape::ChoicesNull => json(json!({"choices": null})),
            Shape::ChoicesEmptyItem => json(json!({"choices": [{}]})),
            Shape::DataNull => json(json!({"data": null})),
            Shape::DataString => json(json!({"data": "x"})),
            Shape::DeepArray => {
                let mut deep = "[".repeat(100_000).into_bytes();
                deep.extend_from_slice("]".repeat(100_000).as_bytes());
                (deep, "application/json", None)
            }
            Shape::LongString => {
                let mut value = usable;
                let long = "x\u{e9}\\\"\u{1F600}".repeat(1024 * 1024 / 8);
                value["padding"] = Value::String(long);
                json(value)
            }
            Shape::InvalidUtf8 => {
                let mut bytes = b"{\"note\":\"\xff\xfe\xc3(\",".to_vec();
                bytes.extend_from_slice(&text.as_bytes()[1..]);
                (bytes, "application/json", None)
            }
            Shape::Truncated => (
                text.as_bytes()[..text.len() / 2].to_vec(),
                "application/json",
                None,
            ),
            Shape::ErrorObject(code) => {
                let code = if code == 0 {
                    json!("oops")
                } else {
                    json!(code)
                };
                json(
                    json!({"error": {"code": code, "message": "Upstream says no.",
                                      "metadata": {"provider_name": "Hostile"}}}),
                )
            }
            Shape::KeyEcho => json(json!({"error": {
                "code": self.error_code_for_echo(),
                "message": format!("Invalid API key {KEY} (Authorization: Bearer {KEY})"),
                "metadata": {"raw": format!("{{\"authorization\":\"Bearer {KEY}\"}}"),
                             "provider_name": "Hostile"}}})),
            Shape::Empty => (Vec::new(), "application/json", None),
            Shape::Html => (
                b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
                "text/html",
                None,
            ),
            Shape::Sse => (sse(), "text/event-stream", None),
            Shape::GzipBomb => (wire::gzip_bomb().to_vec(), "application/json", Some("gzip")),
            Shape::NotGzip => (text.into_bytes(), "application/json", Some("gzip")),
        }
    }

    /// The `code` of an echoing error body: the status when it is an error, else `401`.
    pub fn error_code_for_echo(&self) -> u16 {
        match self.status {
            Status::Code(code) if code >= 400 => code,
            _ => 401,
        }
    }

    /// The bytes upstream writes for this case, `self_base` being its own `http://host:port`.
    pub fn answer(&self, self_base: &str) -> Answer {
        let mut head = Vec::new();
        match self.status {
            Status::Code(code) => {
                head.extend(format!("HTTP/1.1 {code} {}\r\n", reason(code)).bytes())
            }
            Status::Informational(code) => {
                head.extend(format!("HTTP/1.1 {code} {}\r\n", reason(code)).bytes());
                if code == 103 {
                    head.extend(b"Link: </style.css>; rel=preload\r\n");
                }
                head.extend(b"\r\nHTTP/1.1 200 OK\r\n");
            }
            Status::Line(line, _) => head.extend(format!("{line}\r\n").bytes()),
        }
        let (body, content_type, encoding) = self.body();
        head.extend(format!("Content-Type: {content_type}\r\nConnection: close\r\n").bytes());
        head.extend(format!("X-Hostile-Case: {}\r\n", self.index).bytes());
        if let Some(encoding) = encoding {
            head.extend(format!("Content-Encoding: {encoding}\r\n").bytes());
        }
        if self.redirect() {
            let location = self.location.replace("SELF", self_base);
            head.extend(format!("Location: {location}\r\n").bytes());
        }
        match self.extra {
            Extra::Plain => {}
            Extra::Huge => head.extend(format!("X-Huge: {}\r\n", "h".repeat(60 * 1024)).bytes()),
            Extra::Many(n) => {
                (0..n).for_each(|i| head.extend(format!("X-Many-{i}: {i}\r\n").bytes()))
            }
            Extra::NonAsciiValue => head.extend(b"X-Odd: caf\xe9 \xff\xfe \xe2\x82\xac\r\n"),
            Extra::NonAsciiName => head.extend(b"X-\xc3\xbcml\xc3\xa4ut: 1\r\n"),
            Extra::TwoContentTypes => head.extend(b"Content-Type: text/html; charset=latin1\r\n"),
            Extra::RetryAfter(value) => head.extend(format!("Retry-After: {value}\r\n").bytes()),
            Extra::KeyInHeader => head.extend(format!("X-Echo: Bearer {KEY}\r\n").bytes()),
        }
        wire::answer(&head, &body, self.framing)
    }
}

fn sse() -> Vec<u8> {
    let chunk = json!({"id": "gen-1", "object": "chat.completion.chunk", "model": "openai/gpt-4o",
                       "choices": [{"index": 0, "delta": {"content": "hi"}}]});
    format!(": OPENROUTER PROCESSING\n\ndata: {chunk}\n\ndata: [DONE]\n\n").into_bytes()
}

fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        103 => "Early Hints",
        200 => "OK",
        204 => "No Content",
        301 | 308 => "Moved",
        302 | 307 => "Found",
        304 => "Not Modified",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        _ => "Hostile",
    }
}
