//! Certificates of completion, each with a verification code anyone can check: the public page
//! shows only the learner's name, the course and the date.

use std::fmt;

use rand::Rng;

use crate::Timestamp;
use crate::ids::{CertificateId, CourseId, OrgId, UserId};

/// Letters of a code: Crockford's base 32 (no I, L, O or U, so nothing reads as something else).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a code: 80 random bits, beyond guessing.
const LENGTH: usize = 16;

/// A certificate's verification code, shown in groups of four: `7K2M-Q9XD-4TRA-0PZ8`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerificationCode(String);

impl VerificationCode {
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        Self(
            (0..LENGTH)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect(),
        )
    }

    /// A code as someone typed it: case, spaces and dashes do not matter, and the letters
    /// base 32 leaves out read as the digits they look like (`O` as 0, `I` and `L` as 1).
    /// `None` when it cannot be a code.
    pub fn parse(typed: &str) -> Option<Self> {
        let code: String = typed
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            })
            .collect();
        (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(Self(code))
    }

    /// The code as stored and compared: sixteen characters, no dashes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, chunk) in self.0.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            f.write_str(std::str::from_utf8(chunk).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

/// A certificate: issued once per completion, with the names as they were that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub id: CertificateId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub code: VerificationCode,
    pub issued_at: Timestamp,
    pub learner_name: String,
    pub course_title: String,
}

impl Certificate {
    pub fn issue(
        org_id: OrgId,
        user_id: UserId,
        course_id: CourseId,
        learner_name: &str,
        course_title: &str,
        at: Timestamp,
    ) -> Self {
        Self {
            id: CertificateId::new(),
            org_id,
            user_id,
            course_id,
            code: VerificationCode::generate(),
            issued_at: at,
            learner_name: learner_name.to_owned(),
            course_title: course_title.to_owned(),
        }
    }
}
