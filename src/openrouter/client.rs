//! `OpenRouterClient`: the one place that knows OpenRouter's URLs, headers, the Bearer scheme and
//! timeouts. One pooled `reqwest::Client` serves the whole process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use crate::domain::ApiKey;
use crate::error::ApiError;
use crate::request_id::X_REQUEST_ID;

use super::caller::Caller;
use crate::settings::Settings;

/// The most bytes read from one upstream answer; a larger one is a `502`, not an out-of-memory.
pub const MAX_UPSTREAM_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The `User-Agent` sent upstream when the caller's own is not passed on.
pub(super) const USER_AGENT: &str = concat!("openrouter-connector/", env!("CARGO_PKG_VERSION"));

/// The most room made for an answer up front, whatever its `Content-Length` says.
const PRESIZED_BODY_BYTES: u64 = 4 * 1024 * 1024;

/// Calls OpenRouter on behalf of one caller at a time.
///
/// Its connection pools belong to the thread that built it: each worker builds its own
/// ([`OpenRouterClient::for_this_worker`]), so a call never waits on a connection that another
/// thread drives. The upstream slots (`MAX_CONCURRENT_UPSTREAM`) are shared by all.
#[derive(Clone)]
pub struct OpenRouterClient {
    pub(super) http: reqwest::Client,
    /// The pass-through's own client (see `passthrough::upstream`).
    pub(super) pass: super::passthrough::PassClient,
    pub(super) base: Url,
    /// The base URL as text, without a trailing slash, query or fragment.
    pub(super) passthrough_base: String,
    tls: Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
    pub(super) attribution: HeaderMap,
    pub(super) timeout: Duration,
    pub(super) permits: Arc<tokio::sync::Semaphore>,
    pub(super) generation_wait: Duration,
}

/// What came back from upstream, before it is read as JSON.
#[derive(Debug)]
pub struct Upstream {
    /// Upstream's status.
    pub status: StatusCode,
    /// Upstream's headers.
    pub headers: HeaderMap,
    /// Upstream's whole body.
    pub body: Bytes,
}

/// Why an attempt failed before an answer was read.
#[derive(Debug)]
pub(super) enum Failure {
    /// The transport failed: connecting, sending, or reading the answer.
    Transport(reqwest::Error),
    /// The attempt was refused without a retry making sense.
    Refused(ApiError),
}

/// Why the upstream client cannot be built from the settings.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// An attribution header's value cannot be sent.
    #[error("the {0} header's value cannot be sent as an HTTP header")]
    HeaderValue(&'static str),
    /// The HTTP client (TLS roots, resolver) cannot be built.
    #[error("could not build the HTTP client: {0}")]
    Build(reqwest::Error),
    /// The TLS configuration (the platform's certificate verifier) cannot be built.
    #[error("could not set up TLS: {0}")]
    Tls(rustls::Error),
}

impl std::fmt::Debug for OpenRouterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenRouterClient")
            .field("base", &self.base.as_str())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OpenRouterClient {
    /// Builds the client from settings (base URL, timeouts, attribution headers).
    pub fn new(settings: &Settings) -> Result<OpenRouterClient, ClientError> {
        let base = settings.openrouter_base_url.clone();
        let mut attribution = HeaderMap::new();
        for (name, value) in [
            ("http-referer", &settings.app_referer),
            ("x-title", &settings.app_title),
        ] {
            if let Some(value) = value {
                let value =
                    HeaderValue::from_str(value).map_err(|_| ClientError::HeaderValue(name))?;
                attribution.insert(name, value);
            }
        }
        let tls = Arc::new(tls_config()?);
        let connect_timeout = settings.upstream_connect_timeout;
        let mut passthrough_base = base.clone();
        passthrough_base.set_query(None);
        passthrough_base.set_fragment(None);
        let passthrough_base = passthrough_base.as_str().trim_end_matches('/').to_owned();
        Ok(OpenRouterClient {
            http: http_client(&tls, connect_timeout)?,
            pass: super::passthrough::pass_client(&tls, connect_timeout),
            base,
            passthrough_base,
            tls,
            connect_timeout,
            attribution,
            timeout: settings.upstream_timeout,
            permits: Arc::new(tokio::sync::Semaphore::new(
                settings.max_concurrent_upstream,
            )),
            generation_wait: settings.generation_wait,
        })
    }

    /// The same client with pools of its own, for the worker thread that calls this: the
    /// settings and the upstream slots are shared, the connections are not.
    pub fn for_this_worker(&self) -> Result<OpenRouterClient, ClientError> {
        Ok(OpenRouterClient {
            http: http_client(&self.tls, self.connect_timeout)?,
            pass: super::passthrough::pass_client(&self.tls, self.connect_timeout),
            ..self.clone()
        })
    }

    /// The same client with another overall deadline (a job's `JOB_TIMEOUT_SECS`).
    pub fn with_timeout(&self, timeout: Duration) -> OpenRouterClient {
        OpenRouterClient {
            timeout,
            ..self.clone()
        }
    }

    /// The URL of `segments` below the base URL, each segment percent-encoded (so a `/` inside a
    /// segment cannot reach another upstream path), with `query` pairs appended.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// One attempt: sends the call (with `body`, JSON, if any) and reads the whole answer, within
    /// `deadline`.
    pub(super) async fn attempt(
        &self,
        caller: Caller<'_>,
        method: Method,
        url: Url,
        body: Option<&Bytes>,
        deadline: Instant,
    ) -> Result<Upstream, Failure> {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut request = self
            .http
            .request(method, url)
            .timeout(left.max(Duration::from_millis(1)))
            .headers(self.attribution.clone())
            .header(ACCEPT, "application/json")
            .header(X_REQUEST_ID.as_str(), caller.request_id.as_str())
            .header(AUTHORIZATION, bearer(caller.key).map_err(Failure::Refused)?);
        if let Some(body) = body {
            // The caller's bytes themselves (a `Bytes` clone shares them): a retry sends them
            // again without writing or copying the body anew.
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let started = Instant::now();
        let mut response = request.send().await.map_err(Failure::Transport)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        // Sized once from the declared length (a lying one is capped, and the limit below
        // still holds): a model list of 380 KB would otherwise be copied as it grows.
        let declared = response.content_length().unwrap_or(0);
        if declared > MAX_UPSTREAM_BODY_BYTES as u64 {
            // Refused before a byte is read: waiting for the body would hold the call for
            // nothing (or until the deadline, if upstream then stalls).
            return Err(Failure::Refused(too_large()));
        }
        let mut body = BytesMut::with_capacity(declared.min(PRESIZED_BODY_BYTES) as usize);
        while let Some(chunk) = response.chunk().await.map_err(Failure::Transport)? {
            if body.len() + chunk.len() > MAX_UPSTREAM_BODY_BYTES {
                return Err(Failure::Refused(too_large()));
            }
            body.extend_from_slice(&chunk);
        }
        caller.stats.record(status.as_u16(), started.elapsed());
        tracing::debug!(
            request_id = %caller.request_id.as_str(),
            upstream_status = status.as_u16(),
            upstream_ms = started.elapsed().as_secs_f64() * 1000.0,
            "upstream answered"
        );
        Ok(Upstream {
            status,
            headers,
            body: redact_echoed_key(status, body, caller.key),
        })
    }

    /// The contract's error for a transport failure: `504` past the deadline, else `502`.
    pub(super) fn transport(&self, caller: Caller<'_>, error: reqwest::Error) -> ApiError {
        if error.is_timeout() {
            return ApiError::UpstreamTimeout(self.timeout);
        }
        // Without the URL: its path and query carry request values (a model id, a generation id).
        let connect = error.is_connect();
        self.transport_failure(caller, connect, &error.without_url())
    }

    /// The contract's `502` for a transport failure (`connect`: no connection was made), with
    /// a warning that names the error (which must not carry the URL).
    pub(super) fn transport_failure(
        &self,
        caller: Caller<'_>,
        connect: bool,
        error: &dyn std::fmt::Display,
    ) -> ApiError {
        let host = self.base.host_str().unwrap_or("OpenRouter");
        let what = if connect {
            format!("Could not connect to OpenRouter at {host}. Try again in a moment.")
        } else {
            format!(
                "The connection to OpenRouter at {host} broke before its answer was complete. Try again."
            )
        };
        tracing::warn!(
            request_id = %caller.request_id.as_str(),
            error = %error,
            "upstream transport failure"
        );
        ApiError::upstream_failed(what)
    }
}

/// The `502` for an answer over [`MAX_UPSTREAM_BODY_BYTES`], declared or sent.
fn too_large() -> ApiError {
    ApiError::upstream_failed(format!(
        "OpenRouter sent an answer larger than {MAX_UPSTREAM_BODY_BYTES} bytes."
    ))
}

/// TLS as reqwest sets it up by default: aws-lc-rs, the platform's certificate verifier.
fn tls_config() -> Result<rustls::ClientConfig, ClientError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(ClientError::Tls)?
        .with_platform_verifier()
        .map_err(ClientError::Tls)?
        .with_no_client_auth())
}

/// The actions' client, over `tls`.
fn http_client(
    tls: &Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(rustls::ClientConfig::clone(tls))
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .user_agent(USER_AGENT)
        .build()
        .map_err(ClientError::Build)
}

/// The shortest key whose echo is redacted: a shorter one (never a real OpenRouter key, which is
/// 70-odd characters) would match ordinary words of an answer.
const SHORTEST_REDACTED_KEY: usize = 8;

/// What replaces the caller's key where upstream echoes it back.
const REDACTED: &str = "[redacted key]";

/// `body` with the caller's key replaced wherever upstream echoed it, written plainly or hidden
/// by JSON escapes, so it never reaches the caller's answer or a log line.
fn redact_echoed_key(status: StatusCode, body: BytesMut, key: &ApiKey) -> Bytes {
    let key = key_text(key);
    if key.len() < SHORTEST_REDACTED_KEY {
        return body.freeze();
    }
    redact_escaped_key(status, redact_key(body, key.as_bytes()), key)
}

/// `body` with every occurrence of the caller's key replaced, so that an upstream answer that
/// echoes the key (in an error message, say) never reaches the caller's answer or a log line.
fn redact_key(body: BytesMut, key: &[u8]) -> Bytes {
    if memchr::memmem::find(&body, key).is_none() {
        return body.freeze();
    }
    let mut redacted = BytesMut::with_capacity(body.len());
    let mut from = 0;
    for at in memchr::memmem::find_iter(&body, key) {
        if at < from {
            continue;
        }
        redacted.extend_from_slice(&body[from..at]);
        redacted.extend_from_slice(REDACTED.as_bytes());
        from = at + key.len();
    }
    redacted.extend_from_slice(&body[from..]);
    redacted.freeze()
}

/// The largest successful body searched for a key hidden by JSON escapes (`sk\u002dor…`); an
/// error body is always searched. A 200 carrying an error object is small; a model list is not,
/// and holds no key.
const ESCAPED_SEARCH_BYTES: usize = 64 * 1024;

/// `body` with the caller's key replaced inside JSON strings that spell it with escapes, which
/// the byte search of [`redact_key`] cannot see: the strings are read, redacted and written
/// again. Bodies without a `\u` escape, or that are not JSON, are left as they are.
fn redact_escaped_key(status: StatusCode, body: Bytes, key: &str) -> Bytes {
    // A 200 may carry an error object of any size: it opens with `"error"`.
    let opens_with_error =
        memchr::memmem::find(&body[..body.len().min(64)], b"\"error\"").is_some();
    let searched = !status.is_success() || body.len() <= ESCAPED_SEARCH_BYTES || opens_with_error;
    if !searched || memchr::memmem::find(&body, b"\\u").is_none() {
        return body;
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    if !redact_strings(&mut value, key) {
        return body;
    }
    serde_json::to_vec(&value).map_or(body, Bytes::from)
}

/// Replaces `key` in every string of `value`, member names included; whether any was.
fn redact_strings(value: &mut Value, key: &str) -> bool {
    match value {
        Value::String(text) if text.contains(key) => {
            *text = text.replace(key, REDACTED);
            true
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |found, item| redact_strings(item, key) | found),
        Value::Object(map) => {
            let in_values = map
                .values_mut()
                .fold(false, |found, item| redact_strings(item, key) | found);
            if !map.keys().any(|name| name.contains(key)) {
                return in_values;
            }
            // Renamed in place of the old names, so the members keep their order.
            *map = std::mem::take(map)
                .into_iter()
                .map(|(name, item)| (name.replace(key, REDACTED), item))
                .collect();
            true
        }
        _ => false,
    }
}

/// The only place a key's text is read: for the upstream `Authorization` header, and to find
/// where upstream echoed it.
fn key_text(key: &ApiKey) -> &str {
    key.expose_secret()
}

/// The upstream `Authorization` header.
pub(super) fn bearer(key: &ApiKey) -> Result<HeaderValue, ApiError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", key_text(key))).map_err(|_| {
        ApiError::MalformedKey("The OpenRouter API key cannot be sent in a header.")
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_echoed_key_is_redacted_everywhere_in_the_body() {
        let key = b"sk-or-v1-0123456789";
        let body = bytes::BytesMut::from(
            &br#"{"error":{"message":"bad key sk-or-v1-0123456789","metadata":{"raw":"sk-or-v1-0123456789sk-or-v1-0123456789"}}}"#[..],
        );
        let redacted = super::redact_key(body, key);
        assert!(memchr::memmem::find(&redacted, key).is_none());
        assert_eq!(
            memchr::memmem::find_iter(&redacted, b"[redacted key]").count(),
            3
        );
        assert!(serde_json::from_slice::<serde_json::Value>(&redacted).is_ok());
        let escaped = Bytes::from_static(
            br#"{"error":{"message":"Invalid key sk\u002dor\u002dv1\u002d0123456789"}}"#,
        );
        let redacted =
            super::redact_escaped_key(StatusCode::UNAUTHORIZED, escaped, "sk-or-v1-0123456789");
        let text = String::from_utf8(redacted.to_vec()).unwrap();
        assert!(
            text.contains("[redacted key]") && !text.contains("0123456789"),
            "{text}"
        );
        let as_a_name = Bytes::from_static(
            br#"{"choices":[],"sk\u002dor\u002dv1\u002d0123456789":1,"metadata":{"x sk\u002dor\u002dv1\u002d0123456789":{"sk-or-v1-0123456789":2}}}"#,
        );
        let redacted = super::redact_escaped_key(StatusCode::OK, as_a_name, "sk-or-v1-0123456789");
        let text = String::from_utf8(redacted.to_vec()).unwrap();
        assert!(!text.contains("0123456789"), "{text}");
        assert_eq!(text.matches("[redacted key]").count(), 3, "{text}");
        let untouched = bytes::BytesMut::from(&b"{}"[..]);
        assert_eq!(&super::redact_key(untouched, key)[..], b"{}");
    }

    use super::*;

    fn client(base: &str) -> OpenRouterClient {
        OpenRouterClient::new(&Settings::for_upstream(base).unwrap()).unwrap()
    }

    #[test]
    fn segments_are_appended_below_the_base_path() {
        let url = client("http://h/api/v1/").url(&["models"], &[]);
        assert_eq!(url.as_str(), "http://h/api/v1/models");
    }

    #[test]
    fn a_slash_inside_a_segment_is_encoded() {
        let url = client("http://h/api/v1").url(&["models", "a/b", "c:free", "endpoints"], &[]);
        assert_eq!(
            url.as_str(),
            "http://h/api/v1/models/a%2Fb/c:free/endpoints"
        );
    }

    #[test]
    fn query_pairs_are_encoded() {
        let url = client("http://h/api/v1").url(&["generation"], &[("id", "gen-1&x=2")]);
        assert_eq!(url.as_str(), "http://h/api/v1/generation?id=gen-1%26x%3D2");
    }
}
