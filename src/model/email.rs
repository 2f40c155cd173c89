//! Email addresses as mailgate keeps them: one plain `local@domain`, lower
//! case. The one check of what counts as an address, used by the
//! configuration, the command line, the API and intake.

use std::fmt;

/// A plain address (`alice@vendor.example`), lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

/// Why a text is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an email address")]
pub struct NotAnAddress(pub String);

/// Longest address (RFC 5321 4.5.3.1.3: a path is 256 octets with its
/// angle brackets) and longest local part (4.5.3.1.1).
const MAX_ADDRESS: usize = 254;
const MAX_LOCAL: usize = 64;

/// What a domain must look like.
#[derive(Clone, Copy)]
enum Domain {
    /// A dot in it.
    Dotted,
    /// A dot in it, or `localhost`.
    Qualified,
    /// Any host name.
    AnyHost,
}

impl EmailAddress {
    /// Checks and lower-cases an address someone configures or types,
    /// trimmed. A domain must have a dot (`localhost` excepted, for local
    /// set-ups); quoted local parts, comments and IP literals are not
    /// accepted.
    pub fn parse(text: &str) -> Result<Self, NotAnAddress> {
        Self::check(text, Domain::Qualified)
    }

    /// The check for an address a caller of the team API gives as the
    /// author of an action: a dot in the domain, `localhost` refused, since
    /// the address is shown to customers.
    pub fn parse_dotted(text: &str) -> Result<Self, NotAnAddress> {
        Self::check(text, Domain::Dotted)
    }

    /// The same check for an address a received message carries, which may
    /// name a host of the sender's own network without a dot
    /// (`root@mailhost`): such a sender still gets a ticket.
    pub fn parse_received(text: &str) -> Result<Self, NotAnAddress> {
        Self::check(text, Domain::AnyHost)
    }

    fn check(text: &str, domain_rule: Domain) -> Result<Self, NotAnAddress> {
        let text = text.trim();
        let refuse = || NotAnAddress(text.to_owned());
        let (local, domain) = text.rsplit_once('@').ok_or_else(refuse)?;
        let forbidden = |c: char| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | ':' | '"' | '\\' | '@'
                )
        };
        let qualified = match domain_rule {
            Domain::Dotted => domain.contains('.'),
            Domain::Qualified => domain.contains('.') || domain.eq_ignore_ascii_case("localhost"),
            Domain::AnyHost => !domain.is_empty(),
        };
        let domain_ok = qualified
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..");
        if text.len() > MAX_ADDRESS
            || local.is_empty()
            || local.len() > MAX_LOCAL
            || !domain_ok
            || local.contains(forbidden)
            || domain.contains(forbidden)
        {
            return Err(refuse());
        }
        Ok(EmailAddress(text.to_lowercase()))
    }

    /// Whether a text is an address ([`EmailAddress::parse`] accepts it).
    pub fn is_valid(text: &str) -> bool {
        Self::parse(text).is_ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for EmailAddress {
    type Err = NotAnAddress;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EmailAddress::parse(text)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The robot pattern (`senders.no_reply_patterns`: `noreply`,
/// `mailer-daemon`…) an address matches, if any: a fragment of its local
/// part, in any case.
pub fn no_reply_match<'p>(address: &str, patterns: &'p [String]) -> Option<&'p str> {
    let local = address
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    patterns
        .iter()
        .map(String::as_str)
        .find(|p| !p.is_empty() && local.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_addresses_and_lower_cases_them() {
        for (text, expected) in [
            ("alice@vendor.example", "alice@vendor.example"),
            (
                " Bob.Smith+atlas@Example.COM ",
                "bob.smith+atlas@example.com",
            ),
            ("mailgate@localhost", "mailgate@localhost"),
            ("o'neil@sub.domain.fr", "o'neil@sub.domain.fr"),
        ] {
            assert_eq!(
                EmailAddress::parse(text).unwrap().as_str(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_one_address() {
        for text in [
            "",
            "@localhost",
            "@example.com",
            "alice",
            "alice@",
            "alice@localhost.",
            "alice@host",
            "alice@.example.com",
            "alice@example..com",
            "alice@-example.com",
            "a@b@example.com",
            "alice smith@example.com",
            "<alice@example.com>",
            "alice@example.com, bob@example.com",
            "\"alice\"@example.com",
            "alice@[127.0.0.1]",
            "al\u{7}ice@example.com",
        ] {
            assert!(EmailAddress::parse(text).is_err(), "{text:?} accepted");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(EmailAddress::parse(&long_local).is_err());
        let long = format!("{}@{}.com", "a".repeat(60), "b".repeat(200));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn received_addresses_may_name_a_host_without_a_dot() {
        assert!(EmailAddress::parse("root@mailhost").is_err());
        assert_eq!(
            EmailAddress::parse_received("Root@MailHost")
                .unwrap()
                .as_str(),
            "root@mailhost"
        );
        for text in ["@mailhost", "root@", "a b@host", "root@host@x"] {
            assert!(EmailAddress::parse_received(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn parts() {
        let address = EmailAddress::parse("Support+Atlas@Example.com").unwrap();
        assert_eq!(address.local_part(), "support+atlas");
        assert_eq!(address.domain(), "example.com");
        assert_eq!(
            EmailAddress::parse("@localhost").unwrap_err().to_string(),
            "\"@localhost\" is not an email address"
        );
    }
}
