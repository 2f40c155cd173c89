//! The languages customers read: French and English.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Fr, Language::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    /// A language tag as mail headers, browsers and people write it: `fr`,
    /// `fr-CA`, `en_GB`, any case.
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

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_with_regions_and_underscores() {
        assert_eq!(Language::parse("fr-CA"), Some(Language::Fr));
        assert_eq!(Language::parse("en_GB"), Some(Language::En));
        assert_eq!(Language::parse(" EN "), Some(Language::En));
        assert_eq!(Language::parse("de"), None);
        assert_eq!(Language::parse("french"), None);
    }
}
