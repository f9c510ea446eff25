//! Passwords: a policy for new ones, argon2id hashes for stored ones, generated temporary ones.

use std::fmt;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash as ParsedHash};
use rand::Rng;

use crate::error::FieldError;

const MIN_LENGTH: usize = 10;
const MAX_LENGTH: usize = 128;
const MIN_DISTINCT_CHARS: usize = 5;

/// A plaintext password that meets the policy. Never printed by `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks the policy: 10 to 128 characters, at least 5 different ones, not the login itself.
    ///
    /// `field` names the field in the error (`password`, `temporary_password`); `logins` are the
    /// user's username and e-mail, which a password may not contain.
    pub fn parse(raw: &str, field: &str, logins: &[&str]) -> Result<Self, FieldError> {
        let length = raw.chars().count();
        if length < MIN_LENGTH {
            return Err(FieldError::new(
                field,
                format!("is too short: use at least {MIN_LENGTH} characters"),
            ));
        }
        if length > MAX_LENGTH {
            return Err(FieldError::new(
                field,
                format!("is too long: use at most {MAX_LENGTH} characters"),
            ));
        }
        let mut distinct: Vec<char> = raw.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < MIN_DISTINCT_CHARS {
            return Err(FieldError::new(
                field,
                "is too weak: use more different characters",
            ));
        }
        let lowered = raw.to_lowercase();
        for login in logins.iter().filter(|login| login.len() >= 3) {
            let local = login.split('@').next().unwrap_or(login).to_lowercase();
            if local.len() >= 3 && lowered.contains(&local) {
                return Err(FieldError::new(
                    field,
                    "is too weak: it must not contain the username or e-mail",
                ));
            }
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// An argon2id hash in PHC string form, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Hashes with argon2id and a fresh salt. Costs tens of milliseconds by design.
    pub fn new(password: &Password) -> Self {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            // Hashing only fails on invalid parameters or salt, both fixed here.
            .map_or_else(
                |err| unreachable!("argon2 with default parameters failed: {err}"),
                |hash| hash.to_string(),
            );
        Self(hash)
    }

    /// Wraps a hash read back from storage.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Does `candidate` match? A malformed stored hash matches nothing.
    pub fn verify(&self, candidate: &str) -> bool {
        self.verify_in(candidate, &mut HashMemory::default())
    }

    /// [`PasswordHash::verify`] in memory the caller keeps: a thread that checks passwords all
    /// day reuses one buffer instead of asking the allocator for 19 MiB each time (which the
    /// allocator then holds on to).
    pub fn verify_in(&self, candidate: &str, memory: &mut HashMemory) -> bool {
        let Ok(parsed) = ParsedHash::new(&self.0) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(params)) = (
            argon2::Algorithm::try_from(parsed.algorithm),
            argon2::Params::try_from(&parsed),
        ) else {
            return false;
        };
        let version = match parsed.version.map(argon2::Version::try_from) {
            None => argon2::Version::default(),
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        memory
            .0
            .resize(params.block_count(), argon2::Block::default());
        let mut computed = vec![0u8; expected.len()];
        let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            candidate.as_bytes(),
            salt,
            &mut computed,
            &mut memory.0[..],
        );
        hashed.is_ok() && crate::token::same_bytes(&computed, expected.as_bytes())
    }
}

/// Working memory for password checks, kept between them (see [`PasswordHash::verify_in`]).
#[derive(Default)]
pub struct HashMemory(Vec<argon2::Block>);

impl fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashMemory({} blocks)", self.0.len())
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A generated password for an admin to pass on; the user must change it at next sign-in.
pub struct TemporaryPassword;

impl TemporaryPassword {
    /// Three groups of four characters from an alphabet without look-alikes: `kq7m-x3pd-9hwt`.
    pub fn generate() -> Password {
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
        let mut rng = rand::thread_rng();
        let mut out = String::with_capacity(14);
        for group in 0..3 {
            if group > 0 {
                out.push('-');
            }
            for _ in 0..4 {
                out.push(char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]));
            }
        }
        // Regenerate in the vanishingly rare case the policy refuses (too few distinct chars).
        Password::parse(&out, "temporary_password", &[]).unwrap_or_else(|_| Self::generate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let password = Password::parse("correct horse battery", "password", &[]).unwrap();
        let hash = PasswordHash::new(&password);
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(hash.verify("correct horse battery"));
        assert!(!hash.verify("correct horse batterY"));
        assert!(!PasswordHash::from_stored("garbage".into()).verify("garbage"));
    }

    #[test]
    fn reused_memory_checks_hashes_of_any_parameters_as_argon2_does() {
        use argon2::PasswordHasher as _;
        let mut memory = HashMemory::default();
        let salt = SaltString::generate(&mut OsRng);
        let params = argon2::Params::new(64, 2, 1, Some(24)).unwrap();
        for (algorithm, version) in [
            (argon2::Algorithm::Argon2i, argon2::Version::V0x10),
            (argon2::Algorithm::Argon2id, argon2::Version::V0x13),
        ] {
            let other = Argon2::new(algorithm, version, params.clone())
                .hash_password(b"from another system", &salt)
                .unwrap()
                .to_string();
            let hash = PasswordHash::from_stored(other);
            assert!(
                hash.verify_in("from another system", &mut memory),
                "{algorithm}"
            );
            assert!(
                !hash.verify_in("from another systen", &mut memory),
                "{algorithm}"
            );
        }
        let ours = PasswordHash::new(&Password::parse("correct horse battery", "p", &[]).unwrap());
        assert!(
            ours.verify_in("correct horse battery", &mut memory),
            "after smaller ones"
        );
        assert!(!ours.verify_in("correct horse", &mut memory));
    }

    #[test]
    fn weak_passwords_are_refused_with_the_field_named() {
        for (raw, why) in [
            ("short1!", "too short"),
            ("aaaaaaaaaaaa", "too weak"),
            ("xx-ada.lovelace-xx", "must not contain"),
        ] {
            let err = Password::parse(raw, "new_password", &["ada.lovelace"]).unwrap_err();
            assert_eq!(err.field, "new_password");
            assert!(err.message.contains(why), "{raw}: {}", err.message);
        }
    }

    #[test]
    fn generated_temporary_passwords_meet_the_policy_and_differ() {
        let a = TemporaryPassword::generate();
        let b = TemporaryPassword::generate();
        assert_eq!(a.expose().len(), 14);
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let password = Password::parse("correct horse battery", "password", &[]).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
        assert!(!format!("{:?}", PasswordHash::new(&password)).contains("argon2"));
    }
}
