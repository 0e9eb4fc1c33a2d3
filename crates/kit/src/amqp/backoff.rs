//! Exponential backoff between reconnection attempts, interrupted by shutdown.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

const FIRST: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_secs(5);

pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Self { next: FIRST }
    }

    pub(crate) fn reset(&mut self) {
        self.next = FIRST;
    }

    /// Sleeps for the next delay; returns true if shutdown was requested meanwhile.
    pub(crate) async fn sleep(&mut self, shutdown: &CancellationToken) -> bool {
        let wait = self.next;
        self.next = (self.next * 2).min(MAX);
        tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = tokio::time::sleep(wait) => false,
        }
    }
}
