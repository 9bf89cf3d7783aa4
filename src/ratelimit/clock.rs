//! The limiter's clock: monotonic in production, governor's `FakeRelativeClock` in tests, so refill, flood and
//! surge cool-down are tested by advancing time instead of sleeping. One enum rather than a type parameter keeps
//! `App` free of generics.

use governor::clock::Clock;
pub use governor::clock::FakeRelativeClock;
use governor::nanos::Nanos;
use std::time::Instant;

#[derive(Debug, Clone)]
pub enum RateClock {
    /// Nanoseconds since the clock was made (a monotonic reading: wall-clock steps cannot refill a bucket).
    Monotonic(Instant),
    /// Moves only when the test calls `advance` on (a clone of) the `FakeRelativeClock`.
    Fake(FakeRelativeClock),
}

impl RateClock {
    pub fn monotonic() -> RateClock {
        RateClock::Monotonic(Instant::now())
    }

    /// A clock driven by `fake`; clones of a `FakeRelativeClock` share their time, so the test keeps one.
    pub fn fake(fake: &FakeRelativeClock) -> RateClock {
        RateClock::Fake(fake.clone())
    }
}

impl Clock for RateClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match self {
            RateClock::Monotonic(origin) => Nanos::from(origin.elapsed()),
            RateClock::Fake(fake) => fake.now(),
        }
    }
}
