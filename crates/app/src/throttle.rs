//! Sign-in throttling: too many failures for one account, or from one client address, within a
//! window, and further attempts are refused until the window has passed.
//!
//! Kept in memory: it protects one process. Behind a load balancer each process counts its own,
//! which still bounds guessing to a small multiple.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per account within the window.
pub const ACCOUNT_FAILURES: usize = 5;
/// Failures allowed per client address within the window (several people may share one).
pub const CLIENT_FAILURES: usize = 20;
pub const WINDOW: Duration = Duration::from_mins(15);

#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    /// How long until `key` may try again, if it is blocked now.
    pub fn blocked_for(&self, key: &str, limit: usize) -> Option<Duration> {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let entry = failures.get_mut(key)?;
        entry.retain(|at| now.duration_since(*at) < WINDOW);
        if entry.len() < limit {
            return None;
        }
        entry
            .first()
            .map(|oldest| WINDOW.saturating_sub(now.duration_since(*oldest)))
    }

    pub fn record_failure(&self, key: &str) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Keep the map from growing without bound under a spray of distinct keys.
        if failures.len() > 100_000 {
            let now = Instant::now();
            failures.retain(|_, v| v.last().is_some_and(|at| now.duration_since(*at) < WINDOW));
        }
        failures
            .entry(key.to_owned())
            .or_default()
            .push(Instant::now());
    }

    pub fn clear(&self, key: &str) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_blocked_after_its_limit_and_cleared_on_success() {
        let throttle = Throttle::default();
        for _ in 0..3 {
            assert!(throttle.blocked_for("ada", 3).is_none());
            throttle.record_failure("ada");
        }
        let wait = throttle.blocked_for("ada", 3).expect("blocked");
        assert!(wait <= WINDOW && wait > Duration::from_mins(1));
        assert!(
            throttle.blocked_for("grace", 3).is_none(),
            "other keys are not affected"
        );
        throttle.clear("ada");
        assert!(throttle.blocked_for("ada", 3).is_none());
    }
}
