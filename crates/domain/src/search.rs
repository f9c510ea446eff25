//! Word-prefix search, ignoring case and accents, defined once for every store.
//!
//! A user is indexed under *terms*: each word of their given and family names (and the whole
//! name, so "Lovelace-Byron" is found by "lovelace", "byron" and "lovelace-b"), their username
//! and their e-mail. A term keeps only ASCII letters and digits after transliteration, so
//! "Zoë" is `zoe` and "O'Brien" is `obrien`. A query matches when every word typed, reduced the
//! same way, is a prefix of at least one term.

use crate::error::FieldError;

/// The key names sort by: the name's search term ("Ørsted" → `orsted`, "O'Brien" → `obrien`).
/// Sorting by the term itself puts everyone whose name begins with a typed word side by side,
/// which is what lets a store seek straight to them.
pub fn sort_key(text: &str) -> String {
    term(text)
}

/// The searchable form of one word: transliterated, lower-case, letters and digits only.
pub fn term(word: &str) -> String {
    deunicode::deunicode(word)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Every term a user is found by, deduplicated, in a stable order.
pub fn terms(given_name: &str, family_name: &str, logins: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for name in [given_name, family_name] {
        out.push(term(name));
        out.extend(
            name.split(|c: char| c.is_whitespace() || c == '-')
                .map(term),
        );
    }
    out.extend(logins.iter().map(|login| term(login)));
    out.retain(|t| !t.is_empty());
    let mut seen = std::collections::HashSet::new();
    out.retain(|t| seen.insert(t.clone()));
    out
}

/// The terms joined as ` a b c ` (leading and trailing space), for substring checks of ` word`.
pub fn search_text(terms: &[String]) -> String {
    let mut text = String::with_capacity(terms.iter().map(|t| t.len() + 1).sum::<usize>() + 1);
    for t in terms {
        text.push(' ');
        text.push_str(t);
    }
    text.push(' ');
    text
}

/// At most this many words of a query count; the rest are ignored.
pub const MAX_QUERY_WORDS: usize = 6;
/// Each query word is cut to this many characters.
pub const MAX_WORD_LENGTH: usize = 64;

/// The words of a query as prefixes to look for, deduplicated; empty when nothing searchable
/// was typed (so the query lists everyone).
pub fn query_words(query: &str) -> Vec<String> {
    let mut words: Vec<String> = query
        .split_whitespace()
        .map(|w| term(w).chars().take(MAX_WORD_LENGTH).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect();
    words.sort();
    words.dedup();
    // A word that is a prefix of another adds nothing: "ada adam" needs only "adam".
    let snapshot = words.clone();
    words.retain(|w| {
        !snapshot
            .iter()
            .any(|other| other != w && other.starts_with(w.as_str()))
    });
    words.truncate(MAX_QUERY_WORDS);
    words
}

/// The words of a typed search. A blank one is no search (everyone is listed); one with
/// nothing searchable in it (`%`, `*`, a zero-width space) is refused rather than silently
/// listing everyone.
pub fn parse_query(query: &str) -> Result<Vec<String>, FieldError> {
    if query.trim().is_empty() {
        return Ok(Vec::new());
    }
    let words = query_words(query);
    if words.is_empty() {
        return Err(FieldError::new(
            "q",
            "has no letter or digit to search for; leave it empty to list everyone",
        ));
    }
    Ok(words)
}

/// Does a user with these terms match every word? The reference every store must agree with.
pub fn matches(terms: &[String], words: &[String]) -> bool {
    words
        .iter()
        .all(|word| terms.iter().any(|t| t.starts_with(word.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_terms(given: &str, family: &str, logins: &[&str]) -> Vec<String> {
        terms(given, family, logins)
    }

    #[test]
    fn a_search_needs_something_to_search_for() {
        assert_eq!(
            parse_query("  ").unwrap(),
            Vec::<String>::new(),
            "blank: no search"
        );
        assert_eq!(parse_query("Zoë %").unwrap(), ["zoe"]);
        for nothing in ["%", "_", "\\", "*", "\u{200B}", "% * _"] {
            let err = parse_query(nothing).unwrap_err();
            assert_eq!(err.field, "q", "{nothing:?}");
        }
    }

    #[test]
    fn every_word_must_prefix_some_field() {
        let t = user_terms("Ada", "Lovelace", &["ada.l", "ada@example.org"]);
        assert!(matches(&t, &query_words("ada love")));
        assert!(matches(&t, &query_words("LOVE ada")));
        assert!(matches(&t, &query_words("ada@ex")));
        assert!(!matches(&t, &query_words("ada byron")));
        assert!(
            !matches(&t, &query_words("velace")),
            "infix is not a prefix"
        );
    }

    #[test]
    fn accents_and_case_are_ignored_both_ways() {
        let t = user_terms("Zoë", "Ørsted-Ñúñez", &[]);
        assert!(matches(&t, &query_words("zoe")));
        assert!(matches(&t, &query_words("ZOË")));
        assert!(matches(&t, &query_words("orsted")));
        assert!(
            matches(&t, &query_words("nunez")),
            "each part of a hyphenated name"
        );
        assert!(
            matches(&t, &query_words("orsted-n")),
            "the whole hyphenated name"
        );
    }

    #[test]
    fn queries_without_searchable_characters_list_everyone() {
        assert!(query_words("  -- @@ ").is_empty());
        assert!(matches(&user_terms("A", "B", &[]), &[]));
    }

    #[test]
    fn redundant_and_repeated_words_collapse() {
        assert_eq!(query_words("ada Adam ada"), vec!["adam".to_owned()]);
    }

    #[test]
    fn search_text_brackets_every_term_with_spaces() {
        let t = user_terms("Mary Ann", "Smith", &["msmith"]);
        assert_eq!(search_text(&t), " maryann mary ann smith msmith ");
    }
}
