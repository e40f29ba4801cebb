//! Checked time arithmetic: an instant some time after another, saturating at a far future
//! instead of panicking ("overflow when adding duration to instant") on a huge duration.

use std::time::{Duration, Instant};

/// The furthest any deadline of the service lies: a year, beyond every setting's range.
const FURTHEST: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// `from + wait`, or `from` plus a year when `wait` is longer than that or would overflow.
pub fn after(from: Instant, wait: Duration) -> Instant {
    from.checked_add(wait.min(FURTHEST))
        .or_else(|| from.checked_add(Duration::from_secs(60)))
        .unwrap_or(from)
}

/// [`after`] for tokio's instants.
pub fn after_tokio(from: tokio::time::Instant, wait: Duration) -> tokio::time::Instant {
    tokio::time::Instant::from_std(after(from.into_std(), wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_wait_saturates_instead_of_panicking() {
        let now = Instant::now();
        assert_eq!(after(now, Duration::MAX), after(now, FURTHEST));
        assert!(after(now, Duration::MAX) > now);
        assert_eq!(
            after(now, Duration::from_secs(3)),
            now + Duration::from_secs(3)
        );
        let tokio_now = tokio::time::Instant::now();
        assert!(after_tokio(tokio_now, Duration::MAX) > tokio_now);
    }
}
