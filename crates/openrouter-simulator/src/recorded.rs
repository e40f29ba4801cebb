//! Requests as the simulator received and recorded them.

use bytes::Bytes;

/// One request the simulator received, recorded before it was answered.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Method as sent, e.g. `POST`.
    pub method: String,
    /// Full path as sent, without the query, e.g. `/api/v1/chat/completions`.
    pub path: String,
    /// Query string without the leading `?`, when the request had one.
    pub query: Option<String>,
    /// Headers in the order received, names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Body after removing any chunked transfer encoding.
    pub body: Bytes,
}

impl RecordedRequest {
    /// Returns the first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Parses the body as JSON, or returns `Value::Null` when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// Returns the value of query parameter `name` (percent-decoded), when present.
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_param(self.query.as_deref()?, name)
    }

    /// Returns the path relative to `/api/v1`, or the full path when it lies outside it.
    pub fn api_path(&self) -> &str {
        match self.path.strip_prefix("/api/v1") {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => &self.path,
        }
    }

    /// Whether the request carries `Authorization: Bearer <non-empty token>`.
    pub fn has_bearer(&self) -> bool {
        self.header("authorization").is_some_and(|v| {
            let mut parts = v.splitn(2, ' ');
            let scheme = parts.next().unwrap_or_default();
            let token = parts.next().unwrap_or_default().trim();
            scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()
        })
    }
}

/// Finds parameter `name` in a query string, decoding `+` and `%XX`.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| super::http::percent_decode(&s.replace('+', " "));
        (decode(k) == name).then(|| decode(v))
    })
}
