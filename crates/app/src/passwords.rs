//! Password hashing and checking, bounded. Each argon2 run takes about 19 MiB and tens of
//! milliseconds on purpose; left unbounded, a flood of sign-ins takes the memory and every
//! core of the machine. At most one run per core happens at once, process-wide; a sign-in that
//! cannot get a turn within [`SIGN_IN_WAIT`] is told to come back ([`AppError::Busy`]).
//!
//! The runs happen on threads of their own, one per turn, rather than on tokio's blocking
//! pool: the allocator keeps a freed 19 MiB buffer in the arena of the thread that freed it, so
//! runs spread over the pool's hundreds of threads would hold hundreds of such buffers. On a
//! few threads of their own they reuse the same few.

use std::num::NonZero;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use rollcall_domain::{HashMemory, Password, PasswordHash, TemporaryPassword};
use tokio::sync::Semaphore;

use crate::AppError;

/// How long a password check waits for a turn before the caller is asked to retry.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(2);

/// Argon2 runs allowed at once: one per core.
pub fn slots() -> usize {
    std::thread::available_parallelism().map_or(2, NonZero::get)
}

static TURNS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(slots()));

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' queue: a job sent here runs on one of [`slots`] threads.
static HASHERS: LazyLock<Mutex<Sender<Job>>> = LazyLock::new(|| {
    let (jobs, queue) = channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..slots() {
        let queue = Arc::clone(&queue);
        std::thread::Builder::new()
            .name(format!("password-{i}"))
            .spawn(move || {
                loop {
                    // One thread waits on the queue while the others wait for the lock.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            })
            .expect("the operating system starts the password-hashing threads");
    }
    Mutex::new(jobs)
});

/// A hash no password matches, checked when the login names nobody: an unknown login costs
/// one verification, like a real one, so timing does not tell who exists.
static DECOY: LazyLock<PasswordHash> =
    LazyLock::new(|| PasswordHash::new(&TemporaryPassword::generate()));

/// Computes the decoy now rather than during the first sign-in of an unknown login.
pub fn prepare() {
    LazyLock::force(&HASHERS);
    LazyLock::force(&DECOY);
}

/// Runs `work` on a hashing thread once a turn is free: waiting at most `wait`, or as long as
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
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _turn = turn;
        let _ = done.send(work());
    });
    HASHERS
        .lock()
        .map_err(|_| AppError::internal("queueing a password check", Stopped))?
        .send(job)
        .map_err(|_| AppError::internal("queueing a password check", Stopped))?;
    result
        .await
        .map_err(|err| AppError::internal("checking a password", err))
}

/// The hashing threads are gone (one panicked while holding the queue).
#[derive(Debug, thiserror::Error)]
#[error("the password-hashing threads have stopped")]
struct Stopped;

/// Hashes a new password (waits for a turn as long as it takes).
pub async fn hash(password: Password) -> Result<PasswordHash, AppError> {
    in_turn(None, move || PasswordHash::new(&password)).await
}

/// Does `candidate` match `hash`? With no hash (no such account, or no password), the decoy is
/// checked instead and the answer is no.
pub async fn verify(hash: Option<PasswordHash>, candidate: String) -> Result<bool, AppError> {
    thread_local! {
        /// Each hashing thread's one working buffer.
        static MEMORY: std::cell::RefCell<HashMemory> = std::cell::RefCell::default();
    }
    in_turn(Some(SIGN_IN_WAIT), move || {
        MEMORY.with_borrow_mut(|memory| {
            if let Some(hash) = hash {
                hash.verify_in(&candidate, memory)
            } else {
                let _ = DECOY.verify_in(&candidate, memory);
                false
            }
        })
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
