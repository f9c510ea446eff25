//! A large, varied population and the search queries a person would type against it.

use anyhow::{Result, anyhow};
use chrono::Duration;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rollcall_domain::{
    Actor, Attributes, AuditEvent, Email, NewUser, OrgId, PersonName, Role, Source, Status,
    StatusChange, User, Username, search,
};

const GIVEN: &[&str] = &[
    "Ada",
    "Adam",
    "Aisha",
    "Alejandro",
    "Amara",
    "Amélie",
    "Ana",
    "Anders",
    "Aoife",
    "Arjun",
    "Ava",
    "Benjamin",
    "Björn",
    "Camille",
    "Carlos",
    "Chen",
    "Chloé",
    "Chiara",
    "Daniel",
    "Dmitri",
    "Elif",
    "Elena",
    "Élodie",
    "Emma",
    "Ethan",
    "Fatima",
    "François",
    "Freya",
    "Gabriel",
    "Grace",
    "Hana",
    "Hannah",
    "Henrik",
    "Ibrahim",
    "Inès",
    "Isabella",
    "Jack",
    "Jakub",
    "James",
    "Jana",
    "João",
    "Jonas",
    "José",
    "Kai",
    "Kenji",
    "Laila",
    "Lars",
    "Léa",
    "Leila",
    "Liam",
    "Lucía",
    "Luka",
    "Maja",
    "Malik",
    "María",
    "Mateo",
    "Maya",
    "Mei",
    "Mia",
    "Mohammed",
    "Nadia",
    "Noah",
    "Nora",
    "Oliver",
    "Olivia",
    "Omar",
    "Oskar",
    "Priya",
    "Rafael",
    "Ravi",
    "Renée",
    "Ruth",
    "Sakura",
    "Samuel",
    "Santiago",
    "Sara",
    "Siobhán",
    "Sofia",
    "Søren",
    "Tariq",
    "Thomas",
    "Valentina",
    "Wei",
    "William",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoë",
    "Zoltán",
];

/// Family names are built from syllables: tens of thousands of them, as in a real district.
const HEADS: &[&str] = &[
    "Al", "Ber", "Cas", "Dal", "Ed", "Fal", "Gar", "Hal", "Ib", "Jor", "Kal", "Lor", "Mar", "Nor",
    "Ol", "Per", "Quin", "Ros", "Sal", "Tor", "Ul", "Val", "Wal", "Yor", "Zel", "Ør", "Mü", "Ng",
    "Ó", "Św",
];
const MIDS: &[&str] = &[
    "", "a", "e", "i", "o", "u", "an", "en", "in", "ar", "el", "or", "ber", "ven",
];
const TAILS: &[&str] = &[
    "son", "sen", "ez", "ski", "ova", "er", "man", "ton", "ley", "well", "stein", "berg", "ard",
    "ini", "oux", "ić", "sted", "ford", "wood", "dóttir",
];

fn family(rng: &mut StdRng) -> String {
    let pick = |rng: &mut StdRng, items: &[&'static str]| *items.choose(rng).unwrap_or(&"");
    format!(
        "{}{}{}",
        pick(rng, HEADS),
        pick(rng, MIDS),
        pick(rng, TAILS)
    )
}

/// `n` users with their created events: mostly students, ~5% inactive, ~3% archived,
/// 70% with an e-mail, created over the past year.
pub fn generate(
    rng: &mut StdRng,
    org: OrgId,
    n: usize,
    actor: &Actor,
) -> Result<Vec<(User, AuditEvent)>> {
    let start = chrono::Utc::now() - Duration::days(365);
    let err = |e: rollcall_domain::FieldError| anyhow!("{e}");
    (0..n)
        .map(|i| {
            let given = *GIVEN.choose(rng).unwrap_or(&"Ada");
            let family = family(rng);
            let login = format!("{}.{}{i}", search::term(given), search::term(&family));
            let role = match rng.gen_range(0..100) {
                0..=87 => Role::Student,
                88..=95 => Role::Teacher,
                96..=98 => Role::Staff,
                _ => Role::Admin,
            };
            let new = NewUser {
                username: Some(Username::parse(&login).map_err(err)?),
                email: rng
                    .gen_bool(0.7)
                    .then(|| Email::parse(&format!("{login}@district.example")))
                    .transpose()
                    .map_err(err)?,
                given_name: PersonName::parse(given, "given_name").map_err(err)?,
                family_name: PersonName::parse(&family, "family_name").map_err(err)?,
                role,
                source: Source::parse("sis").map_err(err)?,
                external_id: None,
                prevent_archiving: None,
                password: None,
                must_change_password: false,
                attributes: Attributes::parse(
                    [("grade".to_owned(), rng.gen_range(1..=12).to_string())].into(),
                )
                .map_err(err)?,
            };
            let at = start + Duration::seconds(rng.gen_range(0..365 * 86_400));
            let (user, event) = User::create(org, new, actor, at).map_err(err)?;
            let to = match rng.gen_range(0..100) {
                0..=4 => Status::Inactive,
                5..=7 => Status::Archived,
                _ => return Ok((user, event)),
            };
            // Others leave through a transition, as in life; the load keeps one event per
            // user (the creation) so that rows/s counts users, in the baseline as here.
            let change = StatusChange {
                to,
                reason: None,
                temporary_password: None,
            };
            let moved = user
                .change_status(change, actor, at)
                .map_err(|e| anyhow!("{e}"))?;
            Ok((moved.user, event))
        })
        .collect()
}

fn prefix(rng: &mut StdRng, word: &str, shortest: usize, longest: usize) -> String {
    let folded = search::term(word);
    let n = rng.gen_range(shortest..=longest).min(folded.len());
    folded.chars().take(n).collect()
}

/// A query as typed: half one word (a prefix of a given or family name), half two words
/// (prefixes of both).
pub fn query(rng: &mut StdRng, rows: &[(User, AuditEvent)]) -> String {
    let (user, _) = &rows[rng.gen_range(0..rows.len())];
    let given = user.given_name().as_str();
    let family = user.family_name().as_str();
    match rng.gen_range(0..4) {
        0 => prefix(rng, given, 2, 5),
        1 => prefix(rng, family, 2, 5),
        _ => format!("{} {}", prefix(rng, given, 1, 4), prefix(rng, family, 2, 5)),
    }
}
