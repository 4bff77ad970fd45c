//! Faults on demand (latency, random 500s, a rate limit) and the request counters.

use std::collections::BTreeMap;
use std::time::Instant;

use rand::RngExt;
use serde::{Deserialize, Serialize};

/// Request counts, as `GET /__admin/stats` shows them.
///
/// Every API request that reached the emulator's API handler is counted in
/// `total` and under its operation in `by_operation` (unknown paths as
/// `unknown`), whether it was then faulted, rate-limited, refused or served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// All API requests.
    pub total: u64,
    /// Requests per operation (`list_connections`, `connection_action`, `delete_endpoint`, ...).
    pub by_operation: BTreeMap<String, u64>,
    /// Requests answered 500 `EndPoint.0001` by the fault rate.
    pub faulted: u64,
    /// Requests answered 400 `EndPoint.0022` by the rate limit.
    pub rate_limited: u64,
    /// Requests refused with 401 `APIGW.0301`.
    pub unauthorized: u64,
}

impl Stats {
    /// Counts one request of `operation`.
    pub(crate) fn count(&mut self, operation: &str) {
        self.total += 1;
        *self.by_operation.entry(operation.to_owned()).or_default() += 1;
    }
}

/// A token bucket: `rate` tokens per second, holding at most `max(rate, 1)`.
#[derive(Debug)]
pub(crate) struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket for `rate` requests per second.
    pub fn full(rate: Option<f64>) -> Self {
        Self {
            tokens: rate.unwrap_or(1.0).max(1.0),
            last: Instant::now(),
        }
    }

    /// Takes a token when one is left.
    pub fn take(&mut self, rate: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * rate).min(rate.max(1.0));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Whether this request is one of the `fault_rate` share that fails.
pub(crate) fn roll(fault_rate: f64) -> bool {
    fault_rate > 0.0 && rand::rng().random::<f64>() < fault_rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_a_burst_of_rate_then_refills() {
        let start = Instant::now();
        let mut b = Bucket::full(Some(3.0));
        assert!((0..3).all(|_| b.take(3.0, start)));
        assert!(!b.take(3.0, start));
        assert!(b.take(3.0, start + Duration::from_millis(400)));
    }

    #[test]
    fn roll_never_fails_at_zero_and_always_at_one() {
        assert!((0..100).all(|_| !roll(0.0)));
        assert!((0..100).all(|_| roll(1.0)));
    }
}
