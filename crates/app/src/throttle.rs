//! Sign-in throttling with backoff, held in the database so every server process counts the
//! same attempts.
//!
//! Every attempt is counted *before* its password is checked, in one unit of work that locks
//! the keys' runs, decides and counts together: concurrent guesses, on one server or several,
//! cannot slip past the limit. Past a key's free attempts, each further one must wait twice as
//! long after the last failure as the one before (1 s, 2 s, 4 s… up to [`MAX_WAIT`]): the right
//! password is slowed, never refused for good, and a run fades after [`WINDOW`] without an
//! attempt. Faded runs are pruned now and then, so the table holds at most the keys of the
//! last [`WINDOW`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rollcall_store::ThrottleRun;

use crate::{App, AppError};

/// Free failed attempts for one account from one address.
pub const PAIR_FAILURES: u32 = 5;
/// Free failed attempts for one account from every address together (a spray from many
/// addresses slows down; one mistyping person does not slow down the others).
pub const ACCOUNT_FAILURES: u32 = 20;
/// Free failed attempts from one address for every account (a school behind one NAT).
pub const CLIENT_FAILURES: u32 = 50;
/// A run of failures is forgotten once this long has passed without another attempt: longer
/// than [`MAX_WAIT`], so waiting out the longest wait does not give the free attempts back.
pub const WINDOW: Duration = Duration::from_hours(1);
/// The longest a key waits between attempts.
pub const MAX_WAIT: Duration = Duration::from_mins(15);
/// Faded runs are pruned once every this many attempts of a process.
const PRUNE_EVERY: u64 = 256;

/// One process's count of attempts, to prune now and then.
#[derive(Debug, Default)]
pub struct Throttle {
    attempts: AtomicU64,
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// How long a key with `failures` past failures waits after the last one.
fn wait_after(failures: i64, free: u32) -> Duration {
    let past = failures - i64::from(free);
    if past < 0 {
        return Duration::ZERO;
    }
    let doublings = u32::try_from(past.min(16)).unwrap_or(16);
    Duration::from_secs(1u64 << doublings).min(MAX_WAIT)
}

/// A run as it stands at `now`: a faded one counts nothing.
fn current(run: &ThrottleRun, now: i64) -> i64 {
    if now.saturating_sub(run.last_at) >= micros(WINDOW) {
        0
    } else {
        run.failures
    }
}

/// Decides an attempt on locked runs: `Err` with the longest wait among them, or the runs
/// with this attempt counted. `free` gives each key's free failures.
fn count(
    runs: &[ThrottleRun],
    free: impl Fn(&str) -> u32,
    now: i64,
) -> Result<Vec<ThrottleRun>, Duration> {
    let mut wait = Duration::ZERO;
    for run in runs {
        let failures = current(run, now);
        let ready = run
            .last_at
            .saturating_add(micros(wait_after(failures, free(&run.key))));
        if failures > 0 && ready > now {
            let left = u64::try_from(ready - now).unwrap_or(0);
            wait = wait.max(Duration::from_micros(left));
        }
    }
    if !wait.is_zero() {
        return Err(wait);
    }
    Ok(runs
        .iter()
        .map(|run| ThrottleRun {
            key: run.key.clone(),
            failures: current(run, now) + 1,
            last_at: now,
        })
        .collect())
}

/// After a right password: the first key's run ends (the account from that address); the
/// others keep their count less this attempt.
fn forgive(runs: &[ThrottleRun], first: &str) -> Vec<ThrottleRun> {
    runs.iter()
        .map(|run| ThrottleRun {
            key: run.key.clone(),
            failures: if run.key == first {
                0
            } else {
                (run.failures - 1).max(0)
            },
            last_at: run.last_at,
        })
        .collect()
}

impl App {
    /// Counts a sign-in attempt for every key, or refuses it with
    /// [`AppError::Throttled`] and counts nothing. Each key comes with its free failures.
    pub(crate) async fn throttle_attempt(&self, keys: &[(&str, u32)]) -> Result<(), AppError> {
        let now = self.now().timestamp_micros();
        let names: Vec<&str> = keys.iter().map(|(key, _)| *key).collect();
        let free = |key: &str| {
            keys.iter()
                .find(|(k, _)| *k == key)
                .map_or(0, |(_, free)| *free)
        };
        let mut uow = self.store.begin().await?;
        let runs = uow.lock_throttle_runs(&names).await?;
        let counted = match count(&runs, free, now) {
            Ok(counted) => counted,
            Err(wait) => {
                // Rounded up: coming back after the time said is never too early.
                let secs = u64::try_from(wait.as_millis().div_ceil(1000)).unwrap_or(u64::MAX);
                return Err(AppError::Throttled {
                    retry_after_secs: secs.max(1),
                });
            }
        };
        uow.put_throttle_runs(&counted).await?;
        uow.commit().await?;
        if self.throttle.attempts.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            // In a unit of work of its own, holding none of this attempt's rows.
            let mut uow = self.store.begin().await?;
            let pruned = uow.prune_throttle_runs(now - micros(WINDOW)).await?;
            uow.commit().await?;
            tracing::debug!(pruned, "faded sign-in throttle runs pruned");
        }
        Ok(())
    }

    /// Takes back a counted attempt whose password was right (see [`forgive`]).
    pub(crate) async fn throttle_succeeded(&self, keys: &[&str]) -> Result<(), AppError> {
        let Some(first) = keys.first() else {
            return Ok(());
        };
        let mut uow = self.store.begin().await?;
        let runs = uow.lock_throttle_runs(keys).await?;
        uow.put_throttle_runs(&forgive(&runs, first)).await?;
        Ok(uow.commit().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000;

    fn run(key: &str, failures: i64, last_at: i64) -> ThrottleRun {
        ThrottleRun {
            key: key.to_owned(),
            failures,
            last_at,
        }
    }

    #[test]
    fn free_attempts_then_waits_that_double() {
        let mut runs = vec![run("ada", 0, 0)];
        let now = 100 * SECOND;
        for _ in 0..3 {
            runs = count(&runs, |_| 3, now).expect("free attempt");
        }
        assert_eq!(runs[0].failures, 3);
        let wait = count(&runs, |_| 3, now).expect_err("past the free attempts");
        assert_eq!(wait, Duration::from_secs(1));
        let later = count(&runs, |_| 3, now + SECOND).expect("the wait is over");
        assert_eq!(later[0].failures, 4);
        assert_eq!(
            count(&later, |_| 3, now + 2 * SECOND).expect_err("now two seconds"),
            Duration::from_secs(1),
            "two seconds after the last attempt, one of them already gone"
        );
        assert_eq!(wait_after(3, 3), Duration::from_secs(1));
        assert_eq!(wait_after(5, 3), Duration::from_secs(4));
        assert_eq!(wait_after(60, 3), MAX_WAIT);
        assert_eq!(wait_after(i64::MAX, 3), MAX_WAIT);
    }

    #[test]
    fn the_longest_wait_of_any_key_holds_and_a_refusal_counts_nothing() {
        let now = 100 * SECOND;
        let runs = vec![run("client", 1, now), run("pair", 4, now)];
        let free = |key: &str| if key == "pair" { 2 } else { 10 };
        assert_eq!(
            count(&runs, free, now).expect_err("the pair is past its free attempts"),
            Duration::from_secs(4)
        );
    }

    #[test]
    fn a_run_fades_after_the_window() {
        let now = 10_000 * SECOND;
        let runs = vec![run("ada", 40, now - micros(WINDOW))];
        let counted = count(&runs, |_| 3, now).expect("faded");
        assert_eq!(counted[0].failures, 1, "a faded run starts again");
    }

    #[test]
    fn success_ends_the_pairs_run_and_takes_one_off_the_others() {
        let runs = vec![run("account", 7, 5), run("pair", 3, 5), run("client", 0, 5)];
        let forgiven = forgive(&runs, "pair");
        assert_eq!(
            forgiven,
            vec![run("account", 6, 5), run("pair", 0, 5), run("client", 0, 5)]
        );
    }
}
