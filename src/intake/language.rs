//! The language a customer writes in, French or English, so that replies
//! can be written in it.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        let code = code.trim().to_ascii_lowercase();
        if code == "fr" || code.starts_with("fr-") || code.starts_with("fr_") {
            Some(Language::Fr)
        } else if code == "en" || code.starts_with("en-") || code.starts_with("en_") {
            Some(Language::En)
        } else {
            None
        }
    }
}

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
        assert_eq!(Language::parse("fr-CA"), Some(Language::Fr));
        assert_eq!(Language::parse("en_GB"), Some(Language::En));
        assert_eq!(Language::parse("de"), None);
    }
}
