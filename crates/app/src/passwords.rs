//! Password hashing and checking, bounded. Each argon2 run takes about 19 MiB and tens of
//! milliseconds on purpose; left unbounded, a flood of sign-ins takes the memory and every
//! core of the machine. At most one run per core happens at once, process-wide; a sign-in that
//! cannot get a turn within [`SIGN_IN_WAIT`] is told to come back ([`AppError::Busy`]).

use std::num::NonZero;
use std::sync::LazyLock;
use std::time::Duration;

use rollcall_domain::{Password, PasswordHash, TemporaryPassword};
use tokio::sync::Semaphore;

use crate::AppError;

/// How long a password check waits for a turn before the caller is asked to retry.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(2);

/// Argon2 runs allowed at once: one per core.
pub fn slots() -> usize {
    std::thread::available_parallelism().map_or(2, NonZero::get)
}

static TURNS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(slots()));

/// A hash no password matches, checked when the login names nobody: an unknown login costs
/// one verification, like a real one, so timing does not tell who exists.
static DECOY: LazyLock<PasswordHash> =
    LazyLock::new(|| PasswordHash::new(&TemporaryPassword::generate()));

/// Computes the decoy now rather than during the first sign-in of an unknown login.
pub fn prepare() {
    LazyLock::force(&DECOY);
}

/// Runs `work` on the blocking pool once a turn is free: waiting at most `wait`, or as long as
/// it takes when `None` (an admin's own action, already authenticated).
async fn in_turn<T: Send + 'static>(
    wait: Option<Duration>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let turn = match wait {
        Some(wait) => tokio::time::timeout(wait, TURNS.acquire())
            .await
            .map_err(|_| AppError::Busy {
                retry_after_secs: wait.as_secs().max(1),
            })?,
        None => TURNS.acquire().await,
    }
    .map_err(|err| AppError::internal("waiting for a password check", err))?;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .map_err(|err| AppError::internal("checking a password", err))
}

/// Hashes a new password (waits for a turn as long as it takes).
pub async fn hash(password: Password) -> Result<PasswordHash, AppError> {
    in_turn(None, move || PasswordHash::new(&password)).await
}

/// Does `candidate` match `hash`? With no hash (no such account, or no password), the decoy is
/// checked instead and the answer is no.
pub async fn verify(hash: Option<PasswordHash>, candidate: String) -> Result<bool, AppError> {
    in_turn(Some(SIGN_IN_WAIT), move || {
        if let Some(hash) = hash {
            hash.verify(&candidate)
        } else {
            let _ = DECOY.verify(&candidate);
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_check_that_cannot_get_a_turn_is_told_to_come_back() {
        let all = u32::try_from(slots()).unwrap_or(u32::MAX);
        let held = TURNS
            .acquire_many(all)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let started = std::time::Instant::now();
        let refused = verify(None, "anything".into()).await;
        assert!(
            matches!(
                refused,
                Err(AppError::Busy {
                    retry_after_secs: 2
                })
            ),
            "{refused:?}"
        );
        assert!(
            started.elapsed() >= SIGN_IN_WAIT,
            "it waited its turn first"
        );
        drop(held);
        assert!(
            !verify(None, "anything".into()).await.unwrap_or(true),
            "then it runs"
        );
    }
}
