//! Message-IDs in canonical form, so that the ids in `In-Reply-To` and
//! `References` compare equal to the ones we stored, whatever the client did
//! to the angle brackets, white space or the case of the domain.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    /// The canonical form of a Message-ID: without angle brackets and white
    /// space, the domain (right of `@`, RFC 5322 3.6.4 `id-right`) in lower
    /// case. The left part is kept as is: it is case-sensitive. Returns
    /// `None` for text that cannot be an id.
    pub fn parse(text: &str) -> Option<Self> {
        let bare: String = text
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if bare.is_empty() || bare.len() > 998 || bare.contains(['<', '>']) {
            return None;
        }
        let canonical = match bare.rsplit_once('@') {
            Some((left, right)) if !left.is_empty() => format!("{left}@{}", right.to_lowercase()),
            _ => bare,
        };
        Some(MessageId(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (input, expected) in [
            ("<abc@Example.COM>", Some("abc@example.com")),
            ("abc@example.com", Some("abc@example.com")),
            (" < ABC@example.com > ", Some("ABC@example.com")),
            ("<a b@example.com>", Some("ab@example.com")),
            ("<no-at-sign>", Some("no-at-sign")),
            ("<>", None),
            ("", None),
        ] {
            assert_eq!(
                MessageId::parse(input).as_ref().map(MessageId::as_str),
                expected,
                "{input:?}"
            );
        }
    }
}
