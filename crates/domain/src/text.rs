//! Text as people type it, made safe to store and show: normalised to NFC, and refused when it
//! holds characters that control terminals or reorder what a reader sees.
//!
//! Every field that takes free text goes through one of these checks, so a name, a reason or a
//! cursor never carries a NUL to the database or an escape sequence to a terminal.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::error::FieldError;

/// Characters that override or embed a text direction (U+202A–U+202E, U+2066–U+2069): they
/// make `moc.elpmaxe` read as `example.com`.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no space and show nothing (zero-width space, word joiner, invisible
/// operators, byte-order mark, soft hyphen).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// How a character is named in an error: `U+0000`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// `raw` trimmed and in NFC (the composed form: an `é` typed as `e` and a combining accent is
/// stored as the one character), or why it is refused: control characters, and text-direction
/// overrides. `keep_lines` lets line breaks and tabs through (a reason may have several lines;
/// `\r\n` becomes `\n`).
pub fn clean(raw: &str, field: &str, keep_lines: bool) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    // Sized to the input, which an import holds five of for each of a million rows: exactly for
    // ASCII (its own NFC), and about right for the rest.
    let text = if trimmed.is_ascii() {
        trimmed.to_owned()
    } else {
        let mut text = String::with_capacity(trimmed.len());
        text.extend(trimmed.nfc());
        text
    };
    let text = if keep_lines {
        text.replace("\r\n", "\n")
    } else {
        text
    };
    let allowed = |c: char| keep_lines && matches!(c, '\n' | '\t');
    if let Some(c) = text.chars().find(|&c| c.is_control() && !allowed(c)) {
        return Err(FieldError::new(
            field,
            format!(
                "must not contain control characters (found {})",
                code_point(c)
            ),
        ));
    }
    if let Some(c) = text.chars().find(|&c| is_bidi_control(c)) {
        return Err(FieldError::new(
            field,
            format!(
                "must not contain characters that override the text direction (found {})",
                code_point(c)
            ),
        ));
    }
    Ok(text)
}

/// A name as a person would write it: [`clean`], free of invisible characters, and holding at
/// least one letter that shows (a combining mark alone does not). A lone `-` or `.` is let
/// through: rosters write it for the name a person with one name does not have.
pub fn clean_name(raw: &str, field: &str) -> Result<String, FieldError> {
    let name = clean(raw, field, false)?;
    if let Some(c) = name.chars().find(|&c| is_invisible(c)) {
        return Err(FieldError::new(
            field,
            format!(
                "must not contain invisible characters (found {})",
                code_point(c)
            ),
        ));
    }
    if !name.is_empty()
        && !matches!(name.as_str(), "-" | ".")
        && !name
            .chars()
            .any(|c| c.is_alphabetic() && !is_combining_mark(c))
    {
        return Err(FieldError::new(field, "must contain at least one letter"));
    }
    Ok(name)
}

/// The form a typed username or e-mail is looked up by: trimmed, NFC, lower case (as
/// [`crate::Username::key`] and [`crate::Email::key`] store them).
pub fn login_key(login: &str) -> String {
    login.trim().nfc().collect::<String>().to_lowercase()
}

/// What an identifier looks like, ignoring case and width: two usernames with the same skeleton
/// look alike (`admin`, `аdmin` with a Cyrillic `а`, full-width `ａｄｍｉｎ`, `ADMIN`). Each
/// character outside ASCII is replaced by its UTS #39 prototype; ASCII characters stay as they
/// are (lower-cased), so the plain names rosters generate (`jhall`, `jhal1`, `modern`, `modem`)
/// stay distinct from each other, while a look-alike from another script matches the plain
/// name it imitates.
pub fn skeleton(text: &str) -> String {
    let folded: String = text.nfkc().collect::<String>().to_lowercase();
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let prototype: String =
                unicode_security::skeleton(c.encode_utf8(&mut [0; 4])).collect();
            out.push_str(&prototype.to_lowercase());
        }
    }
    out
}

/// Shows text on a terminal as it is, except that control and direction characters are written
/// as escapes (`\u{1b}`), so stored text cannot move the cursor or recolour the screen.
pub fn escape_for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_bidi_control(c) || is_invisible(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_composed_and_control_characters_are_named() {
        assert_eq!(clean("  Zoe\u{0301} ", "given_name", false).unwrap(), "Zoé");
        let err = clean("a\0b", "reason", true).unwrap_err();
        assert_eq!(err.field, "reason");
        assert!(err.message.contains("U+0000"), "{err}");
        assert!(clean("one\u{1b}[2J", "reason", true).is_err());
        assert_eq!(
            clean("line\r\nnext\tx", "reason", true).unwrap(),
            "line\nnext\tx"
        );
        assert!(clean("line\nnext", "given_name", false).is_err());
        let err = clean("gpj.\u{202E}exe", "family_name", false).unwrap_err();
        assert!(err.message.contains("U+202E"), "{err}");
    }

    #[test]
    fn a_name_needs_a_letter_that_shows() {
        assert_eq!(clean_name("Ōtsuka", "family_name").unwrap(), "Ōtsuka");
        assert_eq!(
            clean_name("O'Brien-Smith", "family_name").unwrap(),
            "O'Brien-Smith"
        );
        assert_eq!(clean_name("李", "family_name").unwrap(), "李");
        assert_eq!(
            clean_name(".", "family_name").unwrap(),
            ".",
            "a roster's one-name marker"
        );
        for bad in ["\u{0301}\u{0301}", "\u{200B}", "--", "42", "a\u{200B}b"] {
            assert!(clean_name(bad, "given_name").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn look_alike_identifiers_share_a_skeleton() {
        let admin = skeleton("admin");
        assert_eq!(skeleton("\u{0430}dmin"), admin, "Cyrillic a");
        assert_eq!(skeleton("ａｄｍｉｎ"), admin, "full width");
        assert_eq!(skeleton("ADMIN"), admin, "case");
        assert_ne!(skeleton("admin2"), admin);
        assert_ne!(skeleton("maria"), skeleton("mario"));
        assert_ne!(
            skeleton("jhall"),
            skeleton("jhal1"),
            "plain names stay apart"
        );
        assert_ne!(skeleton("modern"), skeleton("modem"));
        assert_eq!(
            skeleton("jh\u{0430}l1"),
            skeleton("jhal1"),
            "a Cyrillic a among them"
        );
    }

    #[test]
    fn terminals_see_escapes_not_control_characters() {
        assert_eq!(
            escape_for_terminal("ok\u{1b}[31mred\u{202E}"),
            "ok\\u{1b}[31mred\\u{202e}"
        );
        assert_eq!(escape_for_terminal("Zoé 李"), "Zoé 李");
    }
}
