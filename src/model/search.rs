//! What a full-text search asks for, and the snippet shown beside a hit.
//!
//! A search is a list of words, each matching the words of a ticket that
//! begin with it, all of them required (`export planté` finds "l'export
//! a planté" and "exports plantés"). Words are folded as the indexes fold
//! them: lower case, accents dropped (SQLite's `unicode61
//! remove_diacritics`, PostgreSQL's `mailgate_fold` in migration 0010).
//! Only letters and digits reach the index's query language, so nothing a
//! user types can be read as an operator.

use super::text;

/// At most this many words are searched for; more only slow the query.
const MAX_TERMS: usize = 8;
/// Longer words are cut: no indexed word is longer in practice.
const MAX_TERM_CHARS: usize = 40;

/// The folded words of a search, in order, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    /// The words of `text`; `None` when it has none (only punctuation).
    pub fn parse(text: &str) -> Option<SearchTerms> {
        let mut terms: Vec<String> = Vec::new();
        let folded = fold_word(text);
        for (_, word) in words(&folded) {
            let word = text::truncate_chars(word, MAX_TERM_CHARS).to_owned();
            if !terms.contains(&word) && terms.len() < MAX_TERMS {
                terms.push(word);
            }
        }
        (!terms.is_empty()).then_some(SearchTerms(terms))
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// The query in SQLite FTS5's language: every word a quoted prefix.
    pub fn fts5(&self) -> String {
        self.0
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The query in PostgreSQL's `to_tsquery` language: prefixes, all
    /// required.
    pub fn tsquery(&self) -> String {
        self.0
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// About `width` characters of the text of `texts` that holds the most
    /// of the terms (the first of those), around its first matching word,
    /// with `…` where text was cut; `None` when no text holds one (the hit
    /// came from a word the index reads differently).
    pub fn snippet<'a>(
        &self,
        texts: impl IntoIterator<Item = &'a str>,
        width: usize,
    ) -> Option<String> {
        let mut best: Option<(usize, &str, usize)> = None;
        for text in texts {
            let mut found = vec![false; self.0.len()];
            let mut first = None;
            for (at, word) in words(text) {
                let folded = fold_word(word);
                for (i, term) in self.0.iter().enumerate() {
                    if folded.starts_with(term.as_str()) {
                        found[i] = true;
                        first.get_or_insert(at);
                    }
                }
            }
            let count = found.iter().filter(|f| **f).count();
            if let Some(at) = first
                && best.is_none_or(|(most, _, _)| count > most)
            {
                best = Some((count, text, at));
            }
        }
        best.map(|(_, text, at)| window(text, at, width))
    }
}

/// Folds like the indexes: `text::fold`, and the letters that do not
/// decompose spelled out as the PostgreSQL side does.
fn fold_word(text: &str) -> String {
    text::fold(text)
        .replace('œ', "oe")
        .replace('æ', "ae")
        .replace('ß', "ss")
}

/// The words of `text` (runs of letters and digits) with their byte
/// offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while let Some(&(_, c)) = rest.peek() {
            if c.is_alphanumeric() {
                break;
            }
            rest.next();
        }
        let (start, _) = *rest.peek()?;
        let mut end = start;
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            rest.next();
        }
        Some((start, &text[start..end]))
    })
}

/// `width` characters of `text` on one line, starting a little before the
/// byte offset `at`.
fn window(text: &str, at: usize, width: usize) -> String {
    let lead = width / 4;
    let before: Vec<(usize, char)> = text[..at].char_indices().collect();
    let start = before.len().saturating_sub(lead);
    let from = before.get(start).map_or(at, |(i, _)| *i);
    let shown = text::truncate_chars(&text[from..], width);
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(&text::collapse_whitespace(shown));
    if from + shown.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_deduplicated_and_stripped_of_operators() {
        let terms = SearchTerms::parse("Export PLANTÉ \"export\" OR -œuvre*").unwrap();
        assert_eq!(terms.words(), ["export", "plante", "or", "oeuvre"]);
        assert_eq!(terms.fts5(), "\"export\"* \"plante\"* \"or\"* \"oeuvre\"*");
        assert_eq!(terms.tsquery(), "export:* & plante:* & or:* & oeuvre:*");
        assert_eq!(SearchTerms::parse(" ¿*?! \"\" "), None);
    }

    #[test]
    fn a_long_search_is_cut() {
        let text = (0..20)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(SearchTerms::parse(&text).unwrap().words().len(), MAX_TERMS);
        let long = "a".repeat(100);
        assert_eq!(
            SearchTerms::parse(&long).unwrap().words()[0].len(),
            MAX_TERM_CHARS
        );
    }

    #[test]
    fn the_snippet_comes_from_the_first_text_that_matches() {
        let terms = SearchTerms::parse("plante").unwrap();
        let summary = "Question sur la facture";
        let description = "Bonjour,\n\nDepuis la mise à jour d'hier, l'export a planté \
             trois fois de suite sur le poste de Marie, avec le même message.";
        let snippet = terms.snippet([summary, description], 40).unwrap();
        assert!(snippet.contains("planté"), "{snippet}");
        assert!(
            snippet.starts_with('…') && snippet.ends_with('…'),
            "{snippet}"
        );
        assert!(!snippet.contains('\n'), "{snippet}");
        assert!(snippet.chars().count() <= 42, "{snippet}");

        assert_eq!(terms.snippet([summary], 40), None);
        // The text with more of the words wins over an earlier one.
        let terms = SearchTerms::parse("export vide").unwrap();
        let snippet = terms
            .snippet(["Export planté", "Hier, l'export CSV est vide."], 40)
            .unwrap();
        assert_eq!(snippet, "Hier, l'export CSV est vide.");
        // A short text is shown whole.
        let terms = SearchTerms::parse("plante").unwrap();
        assert_eq!(
            terms.snippet(["Ça plante"], 40).as_deref(),
            Some("Ça plante")
        );
    }
}
