//! How `/mcp` answers over HTTP: as `application/json`, or as one Server-Sent Event when the
//! client's `Accept` prefers `text/event-stream`; and which web pages may call it at all.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, http::header::ContentType};
use actix_web::{HttpResponse, web};
use serde_json::Value;

use super::PublicOrigin;
use crate::domain::PublicUrl;
use crate::error::ApiError;

/// A JSON-RPC answer (or batch of them) with status 200, in the form the client prefers.
pub fn answer(req: &HttpRequest, body: &Value) -> HttpResponse {
    let text = serde_json::to_string(body).unwrap_or_default();
    // Several `Accept` headers make one list (RFC 9110, 5.3).
    let accept: Vec<&str> = (req.headers().get_all(header::ACCEPT))
        .filter_map(|value| value.to_str().ok())
        .collect();
    let accept = (!accept.is_empty()).then(|| accept.join(","));
    if prefers_event_stream(accept.as_deref()) {
        // One event, then the stream ends: the answer is complete when it arrives.
        return HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header(CacheControl(vec![CacheDirective::NoCache]))
            .body(format!("event: message\ndata: {text}\n\n"));
    }
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(text)
}

/// Whether `accept` ranks `text/event-stream` above `application/json` (wildcards count; no
/// header, or a tie, is JSON).
pub fn prefers_event_stream(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    // (specificity, quality) of the most specific range that covers each type.
    let (mut json, mut events) = ((0_u8, 0.0_f32), (0_u8, 0.0_f32));
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|parameter| parameter.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q))
            .unwrap_or(1.0);
        let (for_json, for_events) = match media.as_str() {
            "application/json" => (3, 0),
            "text/event-stream" => (0, 3),
            "application/*" => (2, 0),
            "text/*" => (0, 2),
            "*/*" => (1, 1),
            _ => (0, 0),
        };
        keep_most_specific(&mut json, for_json, quality);
        keep_most_specific(&mut events, for_events, quality);
    }
    events.1 > json.1
}

/// The most specific range covering a type gives its quality (RFC 9110, 12.5.1).
fn keep_most_specific(kept: &mut (u8, f32), specificity: u8, quality: f32) {
    if specificity == 0 || specificity < kept.0 {
        return;
    }
    if specificity > kept.0 {
        *kept = (specificity, quality);
    } else {
        kept.1 = kept.1.max(quality);
    }
}

/// A `403` for a web page of another origin (MCP asks servers to check `Origin`, against DNS
/// rebinding): only pages on this machine (`localhost`, `127.0.0.1`, `[::1]`, any port and
/// scheme) and of the deployment's `PUBLIC_BASE_URL` (its scheme, host and port) may call;
/// clients that are not browsers send no `Origin`. Every `Origin` header given must pass.
pub fn refuse_foreign_origin(req: &HttpRequest) -> Result<(), ApiError> {
    let public = req
        .app_data::<web::Data<PublicOrigin>>()
        .and_then(|origin| origin.0.as_ref());
    for origin in req.headers().get_all(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !(is_local(origin) || public.is_some_and(|public| is_public(origin, public))) {
            return Err(ApiError::ForeignOrigin);
        }
    }
    Ok(())
}

/// `(scheme, host[:port])` of an origin, lower-cased and without a default port; `None` for
/// what is not a well-formed http(s) origin (user info, a path, a port that is not a number up
/// to 65535, unbalanced brackets).
fn normalised(origin: &str) -> Option<(String, String)> {
    let origin = origin.trim().to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    if authority.is_empty() || authority.contains(['@', '/', '?', '#', ' ']) {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, rest) = v6.split_once(']')?;
            let port = match rest {
                "" => None,
                rest => Some(rest.strip_prefix(':')?),
            };
            (format!("[{host}]"), port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        },
    };
    let port = match port {
        None => None,
        Some(port) => {
            let number: u16 = port
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| port.parse().ok())
                .flatten()?;
            (number.to_string() != default_port).then(|| number.to_string())
        }
    };
    if host.is_empty() || host.contains([']', '[']) && !host.starts_with('[') {
        return None;
    }
    let authority = match port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    Some((scheme.to_owned(), authority))
}

fn is_local(origin: &str) -> bool {
    let Some((_, authority)) = normalised(origin) else {
        return false;
    };
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

fn is_public(origin: &str, public: &PublicUrl) -> bool {
    let ours = normalised(&format!("{}://{}", public.scheme(), public.host()));
    ours.is_some() && normalised(origin) == ours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_the_answer_without_accept_on_a_tie_and_for_wildcards() {
        for accept in [
            None,
            Some("application/json, text/event-stream"),
            Some("*/*"),
            Some("text/html"),
            Some("text/event-stream;q=0.5, application/json"),
        ] {
            assert!(!prefers_event_stream(accept), "{accept:?}");
        }
    }

    #[test]
    fn an_event_stream_is_the_answer_when_accept_ranks_it_first() {
        for accept in [
            "text/event-stream",
            "text/event-stream, application/json;q=0.9",
            "application/json;q=0, text/*",
            "text/event-stream, */*;q=0.1",
        ] {
            assert!(prefers_event_stream(Some(accept)), "{accept}");
        }
    }

    #[test]
    fn an_origin_is_read_only_when_well_formed() {
        for (origin, read) in [
            (
                "https://Agents.Example.com:443",
                Some(("https", "agents.example.com")),
            ),
            ("http://localhost:8080", Some(("http", "localhost:8080"))),
            ("http://[::1]:80", Some(("http", "[::1]"))),
            ("http://127.0.0.1:80@evil.com", None),
            ("http://[::1]@evil.com", None),
            ("http://[::1", None),
            ("http://[::1]]", None),
            ("http://localhost:80:80", None),
            ("http://localhost:99999", None),
            ("http://localhost:+80", None),
            ("http://localhost:-1", None),
            ("http://localhost/", None),
            ("ftp://localhost", None),
            ("null", None),
        ] {
            let expected = read.map(|(s, a): (&str, &str)| (s.to_owned(), a.to_owned()));
            assert_eq!(normalised(origin), expected, "{origin}");
        }
    }
}
