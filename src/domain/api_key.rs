//! `ApiKey`: a caller's OpenRouter key, kept secret.

use std::fmt;

use sha2::{Digest, Sha256};

use super::ConnectionId;

/// A caller's OpenRouter API key. It has no `Display`, its `Debug` is redacted, and its text is
/// read in exactly one place: where the upstream `Authorization` header is set.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

/// Why a header value is not a usable key.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyError {
    /// Nothing but white space.
    Empty,
    /// Characters that cannot travel in an HTTP header (spaces, control characters, non-ASCII).
    NotPrintable,
    /// The key in quotes, as copied from a JSON file or a script.
    Quoted,
    /// The scheme word twice (`Bearer Bearer sk-…`): the connection's key field holds
    /// `Bearer sk-…` while the connector adds `Bearer` itself.
    SchemeTwice,
}

/// Quotation marks a key is pasted in: straight, typographic, guillemets and backticks.
const QUOTES: &[char] = &[
    '"', '\'', '`', '\u{201c}', '\u{201d}', '\u{2018}', '\u{2019}', '\u{ab}', '\u{bb}', '\u{2039}',
    '\u{203a}',
];

impl ApiKey {
    /// Parses a key as it came in a header, after any `Bearer ` scheme word was removed.
    pub fn parse(text: &str) -> Result<ApiKey, KeyError> {
        let key = text.trim();
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        let quote = |c: Option<char>| c.is_some_and(|c| QUOTES.contains(&c));
        if quote(key.chars().next()) || quote(key.chars().next_back()) {
            return Err(KeyError::Quoted);
        }
        let scheme_left = key.eq_ignore_ascii_case("bearer")
            || key
                .get(..7)
                .is_some_and(|word| word.eq_ignore_ascii_case("bearer "));
        if scheme_left {
            return Err(KeyError::SchemeTwice);
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(KeyError::NotPrintable);
        }
        Ok(ApiKey(key.to_owned()))
    }

    /// The connection this key stands for, named by a hash of the key.
    pub fn connection_id(&self) -> ConnectionId {
        ConnectionId::from_digest(&Sha256::digest(self.0.as_bytes()))
    }

    /// The key's text. Call it only to build the upstream `Authorization` header.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_trimmed() {
        let padded = ApiKey::parse("  sk-or-v1-abc ").unwrap();
        assert_eq!(padded, ApiKey::parse("sk-or-v1-abc").unwrap());
    }

    #[test]
    fn an_empty_key_is_rejected() {
        assert_eq!(ApiKey::parse("   "), Err(KeyError::Empty));
    }

    #[test]
    fn a_key_with_inner_spaces_or_unicode_is_rejected() {
        assert_eq!(ApiKey::parse("sk or"), Err(KeyError::NotPrintable));
        assert_eq!(ApiKey::parse("sk-ключ"), Err(KeyError::NotPrintable));
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let key = ApiKey::parse("sk-or-v1-secret").unwrap();
        assert!(!format!("{key:?}").contains("secret"));
    }

    #[test]
    fn a_key_in_quotes_is_refused_as_quoted() {
        assert_eq!(ApiKey::parse("\"sk-or-v1-abc\""), Err(KeyError::Quoted));
        assert_eq!(ApiKey::parse("'sk-or-v1-abc'"), Err(KeyError::Quoted));
        assert_eq!(
            ApiKey::parse("\u{201c}sk-or-v1-abc\u{201d}"),
            Err(KeyError::Quoted)
        );
        assert_eq!(ApiKey::parse("`sk-or-v1-abc`"), Err(KeyError::Quoted));
    }

    #[test]
    fn bearer_left_in_the_key_is_refused_as_the_scheme_twice() {
        assert_eq!(
            ApiKey::parse("Bearer sk-or-v1-abc"),
            Err(KeyError::SchemeTwice)
        );
        assert_eq!(
            ApiKey::parse("bearer  sk-or-v1-abc"),
            Err(KeyError::SchemeTwice)
        );
    }
}
