//! Ticket keys: `PREFIX-N`, the name customers and agents use for a ticket.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TicketKey {
    prefix: String,
    number: u64,
}

/// A prefix is an upper-case letter then up to nine letters or digits, so a
/// key is never confused with a list tag or a version number.
pub fn valid_prefix(prefix: &str) -> bool {
    static PREFIX: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[A-Z][A-Z0-9]{0,9}$").expect("valid regex"));
    PREFIX.is_match(prefix)
}

impl TicketKey {
    pub fn new(prefix: &str, number: u64) -> Self {
        TicketKey {
            prefix: prefix.to_owned(),
            number,
        }
    }

    /// Parses `SUP-42` (case-insensitively for the prefix, which is stored in
    /// upper case).
    pub fn parse(text: &str) -> Option<Self> {
        let (prefix, number) = text.trim().rsplit_once('-')?;
        let prefix = prefix.to_ascii_uppercase();
        if !valid_prefix(&prefix) || number.is_empty() || number.len() > 18 {
            return None;
        }
        if !number.bytes().all(|b| b.is_ascii_digit()) || number.starts_with('0') {
            return None;
        }
        Some(TicketKey {
            prefix,
            number: number.parse().ok()?,
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn number(&self) -> u64 {
        self.number
    }
}

impl fmt::Display for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.prefix, self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let key = TicketKey::parse("sup-42").unwrap();
        assert_eq!(key.to_string(), "SUP-42");
        assert_eq!(key.number(), 42);
        for bad in [
            "SUP-",
            "-42",
            "SUP-042",
            "SUP-4x",
            "1SUP-4",
            "SUP 4",
            "VERYLONGPREFIX-1",
        ] {
            assert!(TicketKey::parse(bad).is_none(), "{bad}");
        }
    }
}
