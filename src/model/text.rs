//! Small text helpers: folding for comparisons (the vocabulary, keyword
//! labels) and cutting on character boundaries.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Language;

/// Folds text for comparison: Unicode compatibility decomposition, accents
/// dropped, lower case, every run of white space (non-breaking included)
/// turned into one space, trimmed. `Gravité : HAUTE` and `gravite : haute`
/// fold to the same string.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Collapses every run of white space (including non-breaking spaces, tabs
/// and line breaks) into one ASCII space and trims the ends.
pub fn collapse_whitespace(text: &str) -> String {
    text.split(char::is_whitespace)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The longest prefix of `text` that is at most `max_chars` characters long.
pub fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((idx, _)) => &text[..idx],
        None => text,
    }
}

/// The longest prefix of `text` that fits in `max_bytes` bytes without
/// splitting a character.
pub fn truncate_bytes(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A size for people: `812 B`, `12 KB`, `3.4 MB` (`3,4 Mo` in French).
pub fn human_size(bytes: i64, language: Language) -> String {
    let units = match language {
        Language::En => ["B", "KB", "MB", "GB"],
        Language::Fr => ["o", "ko", "Mo", "Go"],
    };
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let text = if unit == 0 || value >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    let text = match language {
        Language::Fr => text.replace('.', ","),
        Language::En => text,
    };
    format!("{text} {}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_ignores_case_accents_and_spacing() {
        for (input, expected) in [
            ("Gravité : HAUTE", "gravite : haute"),
            ("  Nouvelle\u{a0}fonctionnalité ", "nouvelle fonctionnalite"),
            ("ÉVOLUTION", "evolution"),
            ("Priorité\t:\n P1", "priorite : p1"),
            ("", ""),
            ("ﬁn", "fin"),
        ] {
            assert_eq!(fold(input), expected, "fold({input:?})");
        }
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate_chars("éàü", 2), "éà");
        assert_eq!(truncate_chars("ab", 5), "ab");
        assert_eq!(truncate_bytes("éàü", 3), "é");
        assert_eq!(truncate_bytes("éàü", 4), "éà");
        assert_eq!(truncate_bytes("abc", 10), "abc");
    }

    #[test]
    fn collapse_whitespace_joins_words_with_single_spaces() {
        assert_eq!(collapse_whitespace(" a \t b\u{a0}\u{a0}c\n"), "a b c");
    }
}
