//! What the contract allows for a case (sections 4, 5 and 7), and the checks of what the
//! service answered against it. Where HTTP libraries may differ on a lie (a status line or head
//! some parse and some refuse), both readings are allowed; the contract's own rules are not
//! softened.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use super::KEY;
use super::cases::{Action, Case, Extra, Status};
use super::upstream::Seen;
use super::wire::Framing;

/// What an HTTP client can read of the upstream answer.
#[derive(Clone, Debug)]
enum Read {
    /// No answer head: the connection closed (or the head is not HTTP), or nothing came in time.
    NoHead { timeout: bool },
    /// A head with this final status, and the body as read.
    Head { status: u16, body: Body },
}

#[derive(Clone, Debug)]
enum Body {
    /// Read whole: exactly these bytes.
    Whole(Vec<u8>),
    /// The framing promised more than came, or is broken: reading fails.
    Cut,
    /// Framing that is ambiguous (`Content-Length` with chunked, two lengths): never to be handed
    /// on as complete.
    Ambiguous(Vec<u8>),
    /// Half the body, then silence.
    Stalled,
}

/// What the service answered.
#[derive(Debug)]
pub struct Observed {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The body, or why reading it failed (a cut connection).
    pub body: Result<Vec<u8>, String>,
    pub elapsed: Duration,
    pub upstream: Vec<Seen>,
}

/// A broken rule: `kind` names the rule and the situation (cases failing alike share it).
#[derive(Debug)]
pub struct Failure {
    pub kind: String,
    pub detail: String,
}

fn fail(failures: &mut Vec<Failure>, kind: impl Into<String>, detail: impl Into<String>) {
    failures.push(Failure {
        kind: kind.into(),
        detail: detail.into(),
    });
}

impl Case {
    /// The final status in the head, and whether HTTP libraries may disagree about the head.
    fn head(&self) -> (Option<u16>, bool) {
        let doubtful = matches!(self.extra, Extra::Many(150) | Extra::NonAsciiName);
        match self.status {
            Status::Code(code) => (Some(code), doubtful),
            Status::Informational(_) => (Some(200), doubtful),
            Status::Line(_, code) => (code, true),
        }
    }

    fn read(&self) -> Read {
        match self.framing {
            Framing::CloseFirst => return Read::NoHead { timeout: false },
            Framing::Hang => return Read::NoHead { timeout: true },
            _ => {}
        }
        let (status, _) = self.head();
        let Some(status) = status else {
            return Read::NoHead { timeout: false };
        };
        let (body, ..) = self.body();
        let body = match self.framing {
            _ if matches!(status, 204 | 304) => Body::Whole(Vec::new()),
            // Half of nothing is all of it: the answer is whole before the silence.
            Framing::Stall if body.is_empty() => Body::Whole(body),
            Framing::Length | Framing::Chunked | Framing::CloseDelimited => Body::Whole(body),
            Framing::ShorterLength => Body::Whole(body[..body.len() / 2].to_vec()),
            Framing::LengthAndChunked | Framing::TwoLengths => Body::Ambiguous(body),
            Framing::Stall => Body::Stalled,
            _ => Body::Cut,
        };
        Read::Head { status, body }
    }

    fn gets(&self) -> bool {
        self.action.method() == "GET"
    }

    /// The statuses a connector action may answer with.
    fn connector_statuses(&self) -> BTreeSet<u16> {
        let (_, doubtful) = self.head();
        let mut allowed = match self.read() {
            Read::NoHead { timeout: true } => [504].into(),
            Read::NoHead { timeout: false } => [502].into(),
            Read::Head { status: 101, .. } => [502].into(),
            Read::Head {
                body: Body::Cut, ..
            } => [502].into(),
            Read::Head {
                body: Body::Stalled,
                ..
            } => [504].into(),
            Read::Head {
                status,
                body: Body::Ambiguous(bytes),
            } => {
                let mut allowed = self.statuses_for(status, &bytes);
                allowed.insert(502);
                allowed
            }
            Read::Head {
                status,
                body: Body::Whole(bytes),
            } => self.statuses_for(status, &bytes),
        };
        if doubtful {
            allowed.insert(502);
            if let (Some(status), false) = (self.head().0, self.framing.headless()) {
                allowed.extend(self.statuses_for(status, &self.body().0));
            }
        }
        allowed
    }

    /// Section 5's table for an answer read whole.
    fn statuses_for(&self, status: u16, bytes: &[u8]) -> BTreeSet<u16> {
        let mut allowed = BTreeSet::new();
        match status {
            200..=299 => {
                let encoded = self.body().2.is_some();
                match serde_json::from_slice::<Value>(bytes) {
                    Ok(value) if value["error"].is_object() => {
                        allowed.extend(from_error_code(&value["error"]["code"]));
                    }
                    Ok(value) if usable(self.action, &value) && status == 200 && !encoded => {
                        allowed.insert(200);
                    }
                    // A 2xx other than 200 with a usable body; a gzip label over plain JSON:
                    // the contract does not say; either reading is allowed.
                    Ok(value) if usable(self.action, &value) => {
                        allowed.extend([200, 502]);
                    }
                    _ => {
                        allowed.insert(502);
                    }
                }
                if matches!(status, 204 | 205) {
                    allowed = [502].into();
                }
            }
            400..=429 => {
                allowed.insert(status);
                if self.action == Action::Completion && matches!(status, 404 | 405) {
                    allowed.insert(502);
                }
            }
            430..=499 => {
                allowed.extend([status, 502]);
            }
            500..=999 => {
                allowed.extend([502, 503]);
                if self.gets() && matches!(status, 502 | 503) {
                    // Retried within the deadline; the last retry may meet it.
                    allowed.insert(504);
                }
            }
            _ => {
                allowed.insert(502);
            }
        }
        allowed
    }

    /// Checks what the service answered against the contract; an empty list when it holds.
    pub fn check(&self, seen: &Observed) -> Vec<Failure> {
        let mut failures = Vec::new();
        let passed_on = !self.action.connector() && self.head().0 == Some(seen.status);
        if seen.status == 500 && !passed_on {
            fail(
                &mut failures,
                "answered 500",
                "the service itself never answers 500",
            );
        }
        if seen.elapsed > Duration::from_secs(5) {
            fail(&mut failures, "slow", format!("took {:?}", seen.elapsed));
        }
        self.check_upstream(seen, &mut failures);
        if self.action.connector() {
            self.check_connector(seen, &mut failures);
        } else {
            self.check_passthrough(seen, &mut failures);
        }
        failures
    }

    fn check_upstream(&self, seen: &Observed, failures: &mut Vec<Failure>) {
        let count = seen.upstream.len();
        let most = match self.action {
            Action::Completion => 2,
            _ if self.gets() => 3,
            _ => 1,
        };
        if count == 0 || count > most {
            let kind = format!("upstream called {count} times ({:?})", self.action);
            fail(failures, kind, format!("expected 1..={most}"));
        }
        for request in &seen.upstream {
            if request.method != self.action.method() {
                fail(
                    failures,
                    "upstream got another method",
                    request.method.clone(),
                );
            }
            if request.target.contains("redirected") {
                fail(failures, "followed a redirect", request.target.clone());
            }
            let bearer = format!("authorization: bearer {}", KEY.to_ascii_lowercase());
            if !request.head.to_ascii_lowercase().contains(&bearer) {
                fail(failures, "key not sent as Bearer", request.head.clone());
            }
        }
    }

    fn check_connector(&self, seen: &Observed, failures: &mut Vec<Failure>) {
        let allowed = self.connector_statuses();
        if !allowed.contains(&seen.status) {
            let kind = if seen.status == 200 {
                format!(
                    "connector 200 made from a wrong-shape body ({:?})",
                    self.action
                )
            } else {
                let upstream = self.head().0;
                format!(
                    "connector {} where {allowed:?} is due (upstream {upstream:?})",
                    seen.status
                )
            };
            fail(failures, kind, body_text(seen));
        }
        let body = match &seen.body {
            Ok(body) => body,
            Err(error) => {
                fail(failures, "connector body cut", error.clone());
                return;
            }
        };
        check_length(seen, body, failures);
        match seen.headers.get("x-request-id") {
            None => fail(failures, "no X-Request-Id", ""),
            Some(id) if id != &*request_id(self.index) => {
                fail(failures, "another X-Request-Id", format!("{id:?}"));
            }
            Some(_) => {}
        }
        let text = String::from_utf8_lossy(body);
        let headers = format!("{:?}", seen.headers);
        if text.contains(KEY) || headers.contains(KEY) {
            fail(
                failures,
                "connector echoed the key",
                text.chars().take(300).collect::<String>(),
            );
        }
        match serde_json::from_slice::<Value>(body) {
            Err(_) => fail(failures, "connector body not JSON", body_text(seen)),
            Ok(value) if seen.status == 200 => {
                if !value.is_object() || has_null(&value) {
                    fail(
                        failures,
                        "200 not a flat object without nulls",
                        body_text(seen),
                    );
                }
            }
            Ok(value) => {
                let message = value["error"]["message"].as_str().unwrap_or_default();
                if value["error"]["code"] != seen.status || message.is_empty() {
                    fail(failures, "error shape", body_text(seen));
                }
            }
        }
        self.check_retry_after(seen, failures);
    }

    /// Section 5 on `Retry-After`: upstream's is read in either form and whatever its size; a
    /// `429` always carries one of at least 1 s; a `502`/`503` from an upstream `5xx` (and a `429`
    /// from upstream's) passes on a wait longer than the service's own (2 s); what the service
    /// sends is whole seconds.
    fn check_retry_after(&self, seen: &Observed, failures: &mut Vec<Failure>) {
        let sent = seen
            .headers
            .get("retry-after")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let seconds = sent.as_deref().and_then(|v| v.parse::<u64>().ok());
        if let Some(text) = &sent
            && seconds.is_none_or(|s| s < 1)
        {
            let kind = format!(
                "connector Retry-After not whole seconds >= 1 ({})",
                seen.status
            );
            fail(failures, kind, format!("{text:?}; {self}"));
        }
        if seen.status == 429 && sent.is_none() {
            fail(failures, "429 without Retry-After", format!("{self}"));
        }
        let upstream = self.head().0.unwrap_or_default();
        let named = match self.extra {
            Extra::RetryAfter(value) => named_wait(value),
            _ => None,
        };
        if let Some(named) = named
            && named > 2
            && (upstream == 429 || (500..=599).contains(&upstream))
            && matches!(
                self.framing,
                Framing::Length | Framing::Chunked | Framing::CloseDelimited
            )
            && matches!(seen.status, 429 | 502 | 503)
            && seconds.is_none_or(|s| s < named.min(120))
        {
            let kind = format!(
                "upstream's long Retry-After not passed on ({} from upstream {upstream})",
                seen.status
            );
            fail(failures, kind, format!("sent {sent:?}; {self}"));
        }
    }

    fn check_passthrough(&self, seen: &Observed, failures: &mut Vec<Failure>) {
        let (_, doubtful) = self.head();
        // A 502 or 504 is the service's own unless upstream said the same and it is upstream's
        // body that came back.
        let upstream_body = self.body().0;
        let ours = matches!(seen.status, 502 | 504)
            && (self.head().0 != Some(seen.status)
                || seen.body.as_ref().is_ok_and(|body| {
                    *body != upstream_body
                        && serde_json::from_slice::<Value>(body)
                            .is_ok_and(|v| v["error"]["code"] == seen.status)
                }));
        let own_error = |failures: &mut Vec<Failure>| {
            let value = seen
                .body
                .as_ref()
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(b).ok());
            let shaped = value.is_some_and(|v| v["error"]["code"] == seen.status);
            if !shaped || seen.headers.get("x-request-id").is_none() {
                fail(failures, "pass-through's own error shape", body_text(seen));
            }
        };
        let status_due = |failures: &mut Vec<Failure>, allowed: &[u16]| {
            let accepted = allowed.contains(&seen.status) || (doubtful && seen.status == 502);
            if !accepted {
                let kind = format!(
                    "pass-through {} where {allowed:?} is due ({:?})",
                    seen.status, self.framing
                );
                fail(failures, kind, format!("{self}"));
            }
        };
        match self.read() {
            Read::NoHead { timeout } => {
                let due = if timeout { 504 } else { 502 };
                let parsed = self
                    .head()
                    .0
                    .filter(|_| doubtful && !self.framing.headless());
                status_due(
                    failures,
                    &[Some(due), parsed]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>(),
                );
                if seen.status == due {
                    own_error(failures);
                }
            }
            Read::Head { status: 101, .. } => {
                status_due(failures, &[502]);
                if seen.status == 502 {
                    own_error(failures);
                }
            }
            Read::Head {
                status,
                body: Body::Whole(bytes),
            } => {
                let lied = self.framing == Framing::ShorterLength;
                if ours && (lied || doubtful) {
                    own_error(failures);
                    return;
                }
                status_due(failures, &[status]);
                match &seen.body {
                    Err(_) if lied => {}
                    Err(error) => fail(
                        failures,
                        "pass-through body cut on sound framing",
                        error.clone(),
                    ),
                    Ok(body) => {
                        check_length(seen, body, failures);
                        if seen.status == status && *body != bytes {
                            let kind = format!("pass-through body changed ({:?})", self.shape);
                            fail(
                                failures,
                                kind,
                                format!("{} bytes, not {}", body.len(), bytes.len()),
                            );
                        }
                    }
                }
            }
            Read::Head { status, body } => {
                if ours {
                    own_error(failures);
                    return;
                }
                status_due(failures, &[status, 502, 504]);
                // A stream that broke or went quiet may end with an SSE error event
                // (`finish_reason: error`), which no client takes for a whole answer.
                let error_event = matches!(&seen.body, Ok(b)
                    if String::from_utf8_lossy(b).contains("\"finish_reason\":\"error\""));
                let stream = seen
                    .headers
                    .get("content-type")
                    .is_some_and(|v| v.to_str().unwrap_or_default().contains("event-stream"));
                let broke = matches!(body, Body::Stalled | Body::Cut);
                if seen.body.is_ok() && !(broke && stream && error_event) {
                    let kind = format!(
                        "pass-through handed on a lying answer as complete ({:?})",
                        self.framing
                    );
                    fail(failures, kind, format!("status {}; {self}", seen.status));
                }
            }
        }
    }
}

/// The wait an upstream `Retry-After` names, in seconds, when it is one of the two forms
/// (saturating: a wait too long to count is the longest one); `None` when it is neither.
fn named_wait(value: &str) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse().unwrap_or(u64::MAX));
    }
    value.ends_with(" 9999 23:59:59 GMT").then_some(u64::MAX)
}

/// The `X-Request-Id` a case's call carries (and upstream sees).
pub fn request_id(index: u64) -> String {
    format!("hostile-case-{index}")
}

/// Section 5: an error object's `code` as if it were the status.
fn from_error_code(code: &Value) -> BTreeSet<u16> {
    match code.as_u64() {
        Some(code @ 400..=429) => [code as u16].into(),
        Some(code @ 430..=499) => [code as u16, 502].into(),
        _ => [502].into(),
    }
}

/// Whether an upstream `200` body is the answer the action needs (section 5).
pub fn usable(action: Action, value: &Value) -> bool {
    let first = &value["choices"][0];
    let data = &value["data"];
    match action {
        Action::Chat | Action::PassChat | Action::PassStream => first["message"].is_object(),
        Action::Completion => first["text"].is_string() || first["message"].is_object(),
        Action::Models | Action::PassModels => data.is_array(),
        Action::Endpoints | Action::Generation => {
            data.as_object().is_some_and(|data| !data.is_empty())
        }
        Action::Credits => data["total_credits"].is_number() && data["total_usage"].is_number(),
    }
}

fn check_length(seen: &Observed, body: &[u8], failures: &mut Vec<Failure>) {
    let declared = seen
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if let Some(declared) = declared
        && declared != body.len()
    {
        let detail = format!("Content-Length {declared}, {} bytes read", body.len());
        fail(failures, "Content-Length disagrees with the body", detail);
    }
}

fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(map) => map.values().any(has_null),
        _ => false,
    }
}

fn body_text(seen: &Observed) -> String {
    match &seen.body {
        Ok(body) => String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
        Err(error) => format!("(body cut: {error})"),
    }
}
