//! How much memory the connector actions' request bodies may hold at once
//! (`BODY_MEMORY_BYTES`). A body of 32 MiB is held about twice while its call runs, so a few
//! large files at once would take a container past its memory limit, and the kernel would stop
//! the process with every call in flight. Each body reserves its size from one budget as it is
//! read and gives it back when its call ends; a body that finds no room within a second is a
//! `503` with `Retry-After`, which Power Automate retries by itself.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// The budget's unit: reservations are counted in KiB, so that 4 GiB fit in the semaphore's
/// `u32` permits.
const UNIT: usize = 1024;

/// How long a body waits for room before its call is a `503`.
const WAIT: Duration = Duration::from_secs(1);

/// The bytes all bodies being read or worked on may hold together.
#[derive(Clone, Debug)]
pub struct BodyBudget {
    units: Arc<Semaphore>,
    total: u32,
}

/// Room held in the budget by one body, given back when dropped (when its call ends).
#[derive(Debug, Default)]
pub struct BodyReservation {
    held: Option<OwnedSemaphorePermit>,
}

impl BodyBudget {
    /// A budget of `bytes` (at least one unit).
    pub fn new(bytes: usize) -> BodyBudget {
        let total = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .max(1);
        BodyBudget {
            units: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Grows `reservation` to cover `bytes`, waiting up to a second for room; a `503` when
    /// there is none.
    pub async fn reserve(
        &self,
        reservation: &mut BodyReservation,
        bytes: usize,
    ) -> Result<(), ApiError> {
        let wanted = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .min(self.total);
        let held = reservation
            .held
            .as_ref()
            .map_or(0, |permit| permit.num_permits());
        let more = (wanted as usize).saturating_sub(held);
        if more == 0 {
            return Ok(());
        }
        let more = u32::try_from(more).unwrap_or(u32::MAX);
        let permit = tokio::time::timeout(WAIT, self.units.clone().acquire_many_owned(more))
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(ApiError::BodiesBusy)?;
        match &mut reservation.held {
            Some(existing) => existing.merge(permit),
            None => reservation.held = Some(permit),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn room_taken_by_a_body_comes_back_when_its_reservation_ends() {
        let budget = BodyBudget::new(10 * UNIT);
        let mut first = BodyReservation::default();
        budget.reserve(&mut first, 6 * UNIT).await.unwrap();
        let mut second = BodyReservation::default();
        assert!(matches!(
            budget.reserve(&mut second, 6 * UNIT).await,
            Err(ApiError::BodiesBusy)
        ));
        budget.reserve(&mut second, 4 * UNIT).await.unwrap();
        drop(first);
        budget.reserve(&mut second, 10 * UNIT).await.unwrap();
        assert_eq!(budget.units.available_permits(), 0);
        drop(second);
        assert_eq!(budget.units.available_permits(), 10);
    }

    #[tokio::test]
    async fn a_body_larger_than_the_budget_takes_all_of_it_rather_than_waiting_forever() {
        let budget = BodyBudget::new(UNIT);
        let mut huge = BodyReservation::default();
        budget.reserve(&mut huge, 100 * UNIT).await.unwrap();
        assert_eq!(budget.units.available_permits(), 0);
    }
}
