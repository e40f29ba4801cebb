//! The in-process store: `governor`'s keyed GCRA limiter, with a sweep that drops connections
//! whose state is back to a full burst, so memory stays bounded however many keys arrive.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;

use super::{Decision, LimiterStore, Quota, StoreError};
use crate::domain::ConnectionId;

type Keyed = governor::RateLimiter<
    ConnectionId,
    DefaultKeyedStateStore<ConnectionId>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// Limiter state for every connection seen recently, in this process.
#[derive(Clone)]
pub struct InProcessStore {
    limiter: Arc<Keyed>,
    clock: DefaultClock,
}

impl std::fmt::Debug for InProcessStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessStore")
            .field("connections", &self.len())
            .finish()
    }
}

impl InProcessStore {
    /// A store enforcing `quota`.
    pub fn new(quota: Quota) -> InProcessStore {
        let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
        let governor_quota = governor::Quota::with_period(quota.period())
            .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let clock = DefaultClock::default();
        let limiter: Keyed = governor::RateLimiter::new(
            governor_quota,
            DefaultKeyedStateStore::default(),
            clock.clone(),
        );
        InProcessStore {
            limiter: Arc::new(limiter),
            clock,
        }
    }

    /// Drops every connection whose burst is full again (it would behave as a new one), and
    /// gives the memory back.
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// How many connections have state.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// Whether no connection has state.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }

    fn decide(&self, id: ConnectionId) -> Decision {
        match self.limiter.check_key(&id) {
            Ok(snapshot) => Decision::Allowed {
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => Decision::Refused {
                wait: not_until.wait_time_from(self.clock.now()),
            },
        }
    }
}

impl LimiterStore for InProcessStore {
    async fn charge(&self, id: ConnectionId) -> Result<Decision, StoreError> {
        Ok(self.decide(id))
    }

    async fn is_healthy(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ApiKey;
    use std::time::Duration;

    fn id(n: usize) -> ConnectionId {
        ApiKey::parse(&format!("sk-{n}")).unwrap().connection_id()
    }

    #[test]
    fn a_burst_is_admitted_then_the_next_call_waits_one_period() {
        let store = InProcessStore::new(Quota {
            per_minute: 100,
            burst: 3,
        });
        let remaining: Vec<_> = (0..3).map(|_| store.decide(id(1))).collect();
        assert_eq!(
            remaining,
            [2, 1, 0].map(|remaining| Decision::Allowed { remaining })
        );
        match store.decide(id(1)) {
            Decision::Refused { wait } => {
                assert!(
                    wait <= Duration::from_millis(600) && wait > Duration::from_millis(500),
                    "{wait:?}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            store.decide(id(2)),
            Decision::Allowed { remaining: 2 }
        ));
    }

    #[test]
    fn idle_connections_are_swept_away() {
        // One call back every millisecond: a used key is back to a full burst almost at once.
        let store = InProcessStore::new(Quota {
            per_minute: 60_000,
            burst: 1,
        });
        for n in 0..10_000 {
            store.decide(id(n));
        }
        assert_eq!(store.len(), 10_000);
        std::thread::sleep(Duration::from_millis(20));
        store.sweep();
        assert!(store.is_empty(), "{} left", store.len());
    }
}
