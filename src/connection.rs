//! The `Connection` extractor: the only way a handler gets a caller's key. It reads the key from
//! the headers of contract section 2, names the connection by a hash of the key for the
//! request's log line, and charges the connection's rate limit: no handler can skip either.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::domain::{ApiKey, ConnectionId, api_key::KeyError};
use crate::error::ApiError;
use crate::state::AppState;

/// The header the published Independent Publisher connector sends the key in.
pub const API_KEY_HEADER: &str = "api_key";

/// One caller's connection: its key and the key's hash.
#[derive(Debug, Clone)]
pub struct Connection {
    key: ApiKey,
    id: ConnectionId,
}

impl Connection {
    /// Reads the key from `Authorization: Bearer <key>`, `Authorization: <key>` or
    /// `api_key: <key>`, in that order.
    pub fn from_headers(headers: &HeaderMap) -> Result<Connection, ApiError> {
        let key = key_text(headers).ok_or(ApiError::MissingKey)?;
        let key = ApiKey::parse(&key).map_err(|error| match error {
            KeyError::Empty => ApiError::MissingKey,
            KeyError::NotPrintable => ApiError::MalformedKey(
                "The OpenRouter API key contains spaces or characters that cannot be sent in a \
                 header. Paste the key exactly as OpenRouter shows it (it starts with sk-or-).",
            ),
            KeyError::Quoted => ApiError::MalformedKey(
                "The OpenRouter API key is in quotes. Paste it without the quotes (it starts with \
                 sk-or-).",
            ),
            KeyError::SchemeTwice => ApiError::MalformedKey(
                "The word Bearer came twice before the key. Remove `Bearer` from the connection's \
                 key (the connector adds it), or send `Authorization: Bearer sk-or-...` once.",
            ),
        })?;
        let id = key.connection_id();
        Ok(Connection { key, id })
    }

    /// The caller's key, for the upstream client.
    pub fn key(&self) -> &ApiKey {
        &self.key
    }

    /// The connection's name in logs, metrics and limiter state.
    pub fn id(&self) -> ConnectionId {
        self.id
    }
}

/// The key's text from the first header that holds one. A value that is not ASCII is read
/// as UTF-8 anyway, so that a key pasted with curly quotes is told so rather than missing.
fn key_text(headers: &HeaderMap) -> Option<Cow<'_, str>> {
    [AUTHORIZATION.as_str(), API_KEY_HEADER]
        .into_iter()
        .filter_map(|name| headers.get(name))
        .map(|value| match value.to_str() {
            // The usual case borrows; only a value that is not ASCII is copied.
            Ok(text) => Cow::Borrowed(strip_bearer(text)),
            Err(_) => {
                Cow::Owned(strip_bearer(&String::from_utf8_lossy(value.as_bytes())).to_owned())
            }
        })
        .find(|key| !key.trim().is_empty())
}

fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(char::is_whitespace) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ if value.eq_ignore_ascii_case("bearer") => "",
        _ => value,
    }
}

impl Connection {
    /// Reads the key (`401`), names the connection for the request's log line, and charges the
    /// limiter (`429`, or `503` when its Redis is unreachable and it fails closed). The
    /// admission is left in the request for the `X-RateLimit-*` headers.
    pub async fn open(req: &HttpRequest, state: &AppState) -> Result<Connection, ApiError> {
        if state.lifecycle.is_draining() {
            return Err(ApiError::Draining);
        }
        let connection = Connection::from_headers(req.headers())?;
        // Named in the request's log line (`request_id::assign`).
        req.extensions_mut().insert(connection.id);
        let admission = state.limiter.charge(connection.id).await?;
        req.extensions_mut().insert(admission);
        Ok(connection)
    }
}

impl Connection {
    /// Reads the key (`401`) and names the connection for the request's log line, without
    /// charging the limiter: only for the authenticated calls that never reach OpenRouter
    /// (contract section 3), through the actions' `UnchargedCall`.
    pub fn uncharged(req: &HttpRequest, state: &AppState) -> Result<Connection, ApiError> {
        if state.lifecycle.is_draining() {
            return Err(ApiError::Draining);
        }
        let connection = Connection::from_headers(req.headers())?;
        req.extensions_mut().insert(connection.id);
        Ok(connection)
    }
}

impl FromRequest for Connection {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Connection, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Connection::open(&req, &*AppState::of(&req)?).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    fn id_of(key: &str) -> ConnectionId {
        ApiKey::parse(key).unwrap().connection_id()
    }

    #[test]
    fn a_bearer_key_in_any_case_is_read() {
        for value in ["Bearer sk-1", "bearer sk-1", "BEARER   sk-1"] {
            let connection = Connection::from_headers(&headers(&[("authorization", value)]));
            assert_eq!(connection.unwrap().id(), id_of("sk-1"), "{value}");
        }
    }

    #[test]
    fn a_bare_key_in_authorization_is_read() {
        let connection = Connection::from_headers(&headers(&[("authorization", "sk-2")]));
        assert_eq!(connection.unwrap().id(), id_of("sk-2"));
    }

    #[test]
    fn the_api_key_header_is_read_when_authorization_is_absent() {
        let connection = Connection::from_headers(&headers(&[("api_key", "sk-3")]));
        assert_eq!(connection.unwrap().id(), id_of("sk-3"));
    }

    #[test]
    fn authorization_wins_over_api_key() {
        let both = headers(&[("authorization", "Bearer sk-a"), ("api_key", "sk-b")]);
        assert_eq!(Connection::from_headers(&both).unwrap().id(), id_of("sk-a"));
    }

    #[test]
    fn no_key_or_an_empty_one_is_missing() {
        for pairs in [
            &[][..],
            &[("authorization", "Bearer ")],
            &[("authorization", "bearer")],
        ] {
            let error = Connection::from_headers(&headers(pairs)).unwrap_err();
            assert!(matches!(error, ApiError::MissingKey), "{pairs:?}");
        }
    }

    #[test]
    fn a_basic_credential_is_not_taken_for_a_key() {
        let error = Connection::from_headers(&headers(&[("authorization", "Basic dXNlcg==")]));
        assert!(matches!(error, Err(ApiError::MalformedKey(_))));
    }
}
