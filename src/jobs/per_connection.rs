//! `MAX_JOBS_PER_CONNECTION`: how many calls of one connection carrying `Prefer: respond-async`
//! are in flight at once in this process, counted from the moment one is accepted until its
//! answer (synchronous or the job's) is recorded. A slot is a guard: dropping it frees it, so a
//! caller who leaves, an error, a panic or a finished job all give it back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::ConnectionId;

/// The counts of async calls in flight, by connection.
#[derive(Debug)]
pub struct AsyncCalls {
    limit: usize,
    in_flight: Mutex<HashMap<ConnectionId, usize>>,
}

/// One async call in flight; its slot is given back on drop.
#[derive(Debug)]
pub struct AsyncSlot {
    calls: Arc<AsyncCalls>,
    owner: ConnectionId,
}

impl AsyncCalls {
    /// At most `limit` calls per connection.
    pub fn new(limit: usize) -> Arc<AsyncCalls> {
        Arc::new(AsyncCalls {
            limit,
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A slot for one more call of `owner`, or `None` when it has `limit` in flight (or the
    /// count cannot be read: refusing one call beats running unbounded).
    pub fn admit(self: &Arc<Self>, owner: ConnectionId) -> Option<AsyncSlot> {
        let mut in_flight = self.in_flight.lock().ok()?;
        let count = in_flight.entry(owner).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(AsyncSlot {
            calls: self.clone(),
            owner,
        })
    }

    /// Calls of `owner` in flight.
    #[cfg(test)]
    fn count(&self, owner: ConnectionId) -> usize {
        self.in_flight
            .lock()
            .map(|in_flight| in_flight.get(&owner).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for AsyncSlot {
    fn drop(&mut self) {
        if let Ok(mut in_flight) = self.calls.in_flight.lock()
            && let Some(count) = in_flight.get_mut(&self.owner)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // Idle connections leave nothing behind: memory stays bounded by those in flight.
                in_flight.remove(&self.owner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ApiKey;

    #[test]
    fn a_connection_gets_its_limit_and_a_slot_back_when_one_ends() {
        let calls = AsyncCalls::new(2);
        let one = ApiKey::parse("sk-or-one").unwrap().connection_id();
        let other = ApiKey::parse("sk-or-other").unwrap().connection_id();
        let first = calls.admit(one).unwrap();
        let _second = calls.admit(one).unwrap();
        assert!(calls.admit(one).is_none(), "the third is refused");
        assert!(
            calls.admit(other).is_some(),
            "another connection is not held back"
        );
        drop(first);
        assert_eq!(calls.count(one), 1);
        assert!(calls.admit(one).is_some());
    }
}
