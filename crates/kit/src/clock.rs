//! Time as a dependency: production reads the system clock, tests move a manual one (session
//! expiry, capture windows). [`now`] is the moment a service's calendar rules act on: the system
//! clock, moved by `CLOCK_OFFSET_SECONDS` when that is set (a rehearsal of the electoral
//! calendar on a copy of the system, and the end-to-end test that walks one).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock {
    micros: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn at(start: DateTime<Utc>) -> Self {
        Self {
            micros: Arc::new(AtomicI64::new(start.timestamp_micros())),
        }
    }

    pub fn advance(&self, by: Duration) {
        self.micros
            .fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.micros.load(Ordering::SeqCst)).unwrap_or_default()
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// The system clock moved by `CLOCK_OFFSET_SECONDS` (whole seconds, may be negative; unset or
/// unreadable: not moved). Read once, at first use, and logged then when it moves the clock.
pub fn now() -> DateTime<Utc> {
    static OFFSET: OnceLock<Duration> = OnceLock::new();
    let offset = OFFSET.get_or_init(|| {
        let seconds = std::env::var("CLOCK_OFFSET_SECONDS")
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0);
        if seconds != 0 {
            tracing::warn!(
                seconds,
                "the calendar clock is moved (CLOCK_OFFSET_SECONDS)"
            );
        }
        Duration::seconds(seconds)
    });
    Utc::now() + *offset
}
