//! `ConnectionId`: how a connection (one API key) is named in logs, metrics and limiter state.

use std::fmt;

/// The first 12 hex digits of the SHA-256 of a key: stable, short, and not the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId([u8; 6]);

impl ConnectionId {
    /// The id made of the first bytes of a key's SHA-256 digest.
    pub(super) fn from_digest(digest: &[u8]) -> ConnectionId {
        let mut id = [0u8; 6];
        for (slot, byte) in id.iter_mut().zip(digest) {
            *slot = *byte;
        }
        ConnectionId(id)
    }
}

impl ConnectionId {
    /// Reads an id back from its 12 hex digits (as a job store keeps it).
    pub fn parse(text: &str) -> Option<ConnectionId> {
        let bytes = hex::decode(text).ok()?;
        let id: [u8; 6] = bytes.try_into().ok()?;
        Some(ConnectionId(id))
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionId({self})")
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::ApiKey;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_id_is_twelve_hex_digits_of_the_sha256() {
        let key = ApiKey::parse("sk-or-v1-abc").unwrap();
        let expected = hex::encode(&Sha256::digest(b"sk-or-v1-abc")[..6]);
        assert_eq!(key.connection_id().to_string(), expected);
        assert_eq!(expected.len(), 12);
    }

    #[test]
    fn different_keys_have_different_ids() {
        let a = ApiKey::parse("a").unwrap().connection_id();
        let b = ApiKey::parse("b").unwrap().connection_id();
        assert_ne!(a, b);
    }
}
