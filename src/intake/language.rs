//! Which language a customer writes in, French or English, told from the
//! words of their message, so that replies can be written in it.

use crate::model::Language;

/// Words frequent in one language and rare in the other.
const FRENCH: &[&str] = &[
    "le",
    "la",
    "les",
    "des",
    "du",
    "est",
    "une",
    "pour",
    "dans",
    "pas",
    "que",
    "qui",
    "sur",
    "avec",
    "nous",
    "vous",
    "je",
    "bonjour",
    "merci",
    "mais",
    "sont",
    "cordialement",
    "depuis",
    "cette",
    "très",
    "aussi",
    "avons",
    "problème",
    "ne",
    "au",
    "aux",
    "et",
];
const ENGLISH: &[&str] = &[
    "the", "is", "are", "and", "to", "of", "for", "with", "we", "you", "not", "this", "that",
    "have", "has", "it", "on", "in", "hello", "thanks", "thank", "regards", "please", "since",
    "our", "be", "can", "cannot", "when", "from", "issue",
];

/// Detects French or English from text by counting frequent words; `None`
/// when the text says too little to tell.
pub fn detect(text: &str) -> Option<Language> {
    let (mut fr, mut en) = (0usize, 0usize);
    for word in text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .take(2000)
    {
        let lower = word.to_lowercase();
        fr += usize::from(FRENCH.contains(&lower.as_str()));
        en += usize::from(ENGLISH.contains(&lower.as_str()));
    }
    match (fr, en) {
        (f, e) if f >= 2 && f > e => Some(Language::Fr),
        (f, e) if e >= 2 && e > f => Some(Language::En),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_french_and_english() {
        assert_eq!(
            detect("Bonjour, le module ne fonctionne pas depuis hier."),
            Some(Language::Fr)
        );
        assert_eq!(
            detect("Hello, the export is broken since yesterday."),
            Some(Language::En)
        );
        assert_eq!(detect("Atlas 4.2"), None);
    }
}
