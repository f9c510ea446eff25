//! Sign-in throttling with backoff. Every attempt is counted *before* its password is checked
//! (one lock takes the decision and the count together), so concurrent guesses cannot slip
//! past the limit. Past a key's free attempts, each further one must wait twice as long after
//! the last failure as the one before (1 s, 2 s, 4 s… up to [`MAX_WAIT`]): the right password
//! is slowed, never refused for good, and a failure run fades after [`WINDOW`] without one.
//!
//! Kept in memory: it protects one process. Behind a load balancer each process counts its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Free failed attempts for one account from one address.
pub const PAIR_FAILURES: u32 = 5;
/// Free failed attempts for one account from every address together (a spray from many
/// addresses slows down; one mistyping person does not slow down the others).
pub const ACCOUNT_FAILURES: u32 = 20;
/// Free failed attempts from one address for every account (a school behind one NAT).
pub const CLIENT_FAILURES: u32 = 50;
/// A run of failures is forgotten once this long has passed without another.
pub const WINDOW: Duration = Duration::from_mins(15);
/// The longest a key waits between attempts.
pub const MAX_WAIT: Duration = Duration::from_mins(15);
/// Keys kept at most; past it, runs that have faded are dropped first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Run {
    failures: u32,
    last: Instant,
}

#[derive(Debug, Default)]
pub struct Throttle {
    runs: Mutex<HashMap<String, Run>>,
}

/// How long a key with `failures` past failures waits after the last one.
fn wait_after(failures: u32, free: u32) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let doublings = (failures - free).min(16);
    Duration::from_secs(1u64 << doublings).min(MAX_WAIT)
}

impl Throttle {
    /// Counts an attempt for every key, or refuses it with the longest wait among them. Each
    /// key comes with its number of free failures. A counted attempt that succeeds is taken
    /// back with [`Throttle::succeeded`].
    pub fn attempt(&self, keys: &[(&str, u32)]) -> Result<(), Duration> {
        let mut runs = self
            .runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let mut wait = Duration::ZERO;
        for (key, free) in keys {
            if let Some(run) = runs.get(*key)
                && now.duration_since(run.last) < WINDOW
            {
                let ready = run.last + wait_after(run.failures, *free);
                wait = wait.max(ready.saturating_duration_since(now));
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        if runs.len() >= MAX_KEYS {
            runs.retain(|_, run| now.duration_since(run.last) < WINDOW);
        }
        for (key, _) in keys {
            let run = runs.entry((*key).to_owned()).or_insert(Run {
                failures: 0,
                last: now,
            });
            if now.duration_since(run.last) >= WINDOW {
                run.failures = 0;
            }
            run.failures += 1;
            run.last = now;
        }
        Ok(())
    }

    /// The attempt was right: the first key's run ends (the account from that address); the
    /// others keep their count less this attempt.
    pub fn succeeded(&self, keys: &[&str]) {
        let mut runs = self
            .runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (i, key) in keys.iter().enumerate() {
            if i == 0 {
                runs.remove(*key);
            } else if let Some(run) = runs.get_mut(*key) {
                run.failures = run.failures.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_attempts_then_waits_that_double() {
        let throttle = Throttle::default();
        for _ in 0..3 {
            assert!(throttle.attempt(&[("ada", 3)]).is_ok());
        }
        let wait = throttle
            .attempt(&[("ada", 3)])
            .expect_err("past the free attempts");
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(
            throttle.attempt(&[("grace", 3)]).is_ok(),
            "other keys are not affected"
        );
        assert_eq!(wait_after(3, 3), Duration::from_secs(1));
        assert_eq!(wait_after(5, 3), Duration::from_secs(4));
        assert_eq!(wait_after(60, 3), MAX_WAIT);
    }

    #[test]
    fn a_refused_attempt_counts_nothing_and_success_ends_the_run() {
        let throttle = Throttle::default();
        for _ in 0..2 {
            throttle
                .attempt(&[("pair", 2), ("client", 10)])
                .unwrap_or_default();
        }
        assert!(throttle.attempt(&[("pair", 2), ("client", 10)]).is_err());
        assert!(
            throttle.attempt(&[("other", 2), ("client", 10)]).is_ok(),
            "client still free"
        );
        throttle.succeeded(&["pair", "client"]);
        assert!(throttle.attempt(&[("pair", 2)]).is_ok(), "the run ended");
    }
}
