//! What ties a message to a conversation we already have, beyond its
//! headers: the marker that every mail we send carries in its body, and the
//! original message a bounce returns.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::message_id::MessageId;
use crate::model::TicketKey;

/// A marker found in a message: `[ref:SUP-42:3f9a0c12d4]`. The code is
/// derived from the ticket's tracking token, so a marker proves that its
/// writer had one of our mails about that ticket (40 bits cannot be guessed
/// by mail), while telling nothing about the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Marker {
    pub key: String,
    pub code: String,
}

/// Hex digits of the marker code.
const CODE_LEN: usize = 10;

/// The code of a ticket's marker: a hash of its tracking token.
pub fn marker_code(tracking_token: &str) -> String {
    let digest = Sha256::digest(format!("mailgate marker\0{tracking_token}").as_bytes());
    hex::encode(digest)[..CODE_LEN].to_owned()
}

/// The marker line put in every mail about a ticket.
pub fn marker(key: &str, tracking_token: &str) -> String {
    format!("[ref:{key}:{}]", marker_code(tracking_token))
}

/// Markers in a text (quoted history included, where clients leave them),
/// first seen first, without repeats.
pub fn find_markers(text: &str) -> Vec<Marker> {
    static MARKER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\[ref:([A-Za-z][A-Za-z0-9]{0,9}-[1-9][0-9]{0,17}):([0-9a-f]{10})\]")
            .expect("valid regex")
    });
    let mut found: Vec<Marker> = Vec::new();
    for capture in MARKER.captures_iter(text) {
        let Some(key) = TicketKey::parse(&capture[1]) else {
            continue;
        };
        let marker = Marker {
            key: key.to_string(),
            code: capture[2].to_owned(),
        };
        if !found.contains(&marker) {
            found.push(marker);
        }
        if found.len() == 10 {
            break;
        }
    }
    found
}

/// Public mail providers: sharing one of these domains says nothing about
/// working together.
const PUBLIC_PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "outlook.fr",
    "hotmail.com",
    "hotmail.fr",
    "live.com",
    "live.fr",
    "msn.com",
    "yahoo.com",
    "yahoo.fr",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.com",
    "gmx.fr",
    "gmx.de",
    "gmx.net",
    "web.de",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "sfr.fr",
    "neuf.fr",
    "laposte.net",
    "bbox.fr",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "tutanota.com",
    "yandex.ru",
    "mail.ru",
    "zoho.com",
    "qq.com",
    "163.com",
    "fastmail.com",
];

fn domain(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, d)| d)
}

/// Whether two addresses share an organisation's own domain (not a public
/// provider's), so one may write into the other's ticket by naming it.
pub fn same_organisation_domain(a: &str, b: &str) -> bool {
    let (da, db) = (domain(a), domain(b));
    !da.is_empty() && da.eq_ignore_ascii_case(db) && !PUBLIC_PROVIDERS.contains(&da)
}

/// Whether an address is a support agent's: listed as is, or under a listed
/// `@domain`. Entries are lower case.
pub fn is_team_address(email: &str, team: &[String]) -> bool {
    team.iter().any(|entry| match entry.strip_prefix('@') {
        Some(d) => domain(email) == d,
        None => entry == email,
    })
}

/// What a bounce says about the message it returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BounceFacts {
    /// Message-IDs of the returned message (its header block, or the
    /// bounce's own In-Reply-To and References).
    pub original_ids: Vec<MessageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The DSN status (`5.1.1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
}

impl BounceFacts {
    /// One line for people: `marie@acme.fr: 5.1.1 user unknown`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.recipient {
            parts.push(format!("{r}:"));
        }
        if let Some(s) = &self.status {
            parts.push(s.clone());
        }
        if let Some(d) = &self.diagnostic {
            parts.push(d.clone());
        }
        if parts.is_empty() {
            "delivery failed".to_owned()
        } else {
            parts.join(" ")
        }
    }
}

/// Reads a bounce: the fields of its delivery-status part (RFC 3464) and the
/// Message-ID of the message it returns. Bounces are scanned as text rather
/// than parsed, because many are not well-formed reports: Exchange and
/// old MTAs paste the returned header block into the text part.
pub fn bounce_facts(
    body: &str,
    in_reply_to: &[MessageId],
    references: &[MessageId],
) -> BounceFacts {
    static FIELD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?im)^(message-id|final-recipient|original-recipient|status|diagnostic-code)[ \t]*:[ \t]*(.+?)\s*$",
        )
        .expect("valid regex")
    });
    let mut facts = BounceFacts::default();
    // Longer values are not fields. Checked here rather than as `.{1,500}`
    // in the regex, whose automaton that made many times larger.
    const MAX_VALUE_CHARS: usize = 500;
    for capture in FIELD.captures_iter(body) {
        if capture[2].chars().count() > MAX_VALUE_CHARS {
            continue;
        }
        let value = capture[2].trim();
        match capture[1].to_ascii_lowercase().as_str() {
            "message-id" => {
                if let Some(id) = MessageId::parse(value)
                    && !facts.original_ids.contains(&id)
                    && facts.original_ids.len() < 10
                {
                    facts.original_ids.push(id);
                }
            }
            "final-recipient" | "original-recipient" if facts.recipient.is_none() => {
                // `rfc822; marie@acme.fr`
                let address = value.rsplit(';').next().unwrap_or(value).trim();
                facts.recipient = Some(address.to_lowercase());
            }
            "status" if facts.status.is_none() => facts.status = Some(value.to_owned()),
            "diagnostic-code" if facts.diagnostic.is_none() => {
                let text = value.split_once(';').map_or(value, |(_, t)| t).trim();
                facts.diagnostic = Some(crate::model::text::truncate_chars(text, 300).to_owned());
            }
            _ => {}
        }
    }
    for id in in_reply_to.iter().chain(references) {
        if !facts.original_ids.contains(id) {
            facts.original_ids.push(id.clone());
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_in_quoted_text_and_checked_by_code() {
        let token = "00112233445566778899aabbccddeeff00112233";
        let line = marker("SUP-42", token);
        assert_eq!(line.len(), "[ref:SUP-42:]".len() + CODE_LEN);
        let text = format!("Thanks!\n\n> Your ticket\n> {line}\n> {line}\n[ref:sup-7:zzzzzzzzzz]");
        let found = find_markers(&text);
        assert_eq!(
            found,
            vec![Marker {
                key: "SUP-42".into(),
                code: marker_code(token)
            }]
        );
        assert_ne!(marker_code(token), marker_code("another token"));
        assert!(!token.contains(&marker_code(token)));
    }

    #[test]
    fn organisations_are_told_by_domain_except_public_providers() {
        assert!(same_organisation_domain("marie@acme.fr", "paul@acme.fr"));
        assert!(!same_organisation_domain("marie@acme.fr", "paul@acme.com"));
        assert!(!same_organisation_domain(
            "marie@gmail.com",
            "paul@gmail.com"
        ));
        assert!(!same_organisation_domain("nobody", "nobody"));
        let team = vec![
            "alice@vendor.example".to_owned(),
            "@support.vendor.example".to_owned(),
        ];
        assert!(is_team_address("alice@vendor.example", &team));
        assert!(is_team_address("bob@support.vendor.example", &team));
        assert!(!is_team_address("bob@vendor.example", &team));
        assert!(!is_team_address("eve@evilsupport.vendor.example", &team));
    }

    #[test]
    fn bounce_facts_come_from_the_report_and_the_returned_headers() {
        let body = "This is the mail system at host mx.example.\n\n\
            --b\nContent-Type: message/delivery-status\n\n\
            Reporting-MTA: dns; mx.example\n\n\
            Final-Recipient: rfc822; Marie@Acme.fr\n\
            Action: failed\nStatus: 5.1.1\n\
            Diagnostic-Code: smtp; 550 5.1.1 <marie@acme.fr>: user unknown\n\n\
            --b\nContent-Type: text/rfc822-headers\n\n\
            From: Support <support@example.com>\n\
            Message-ID: <sup-1.confirmation.abc@Example.com>\n";
        let facts = bounce_facts(body, &[], &[]);
        assert_eq!(
            facts.original_ids,
            vec![MessageId::parse("sup-1.confirmation.abc@example.com").unwrap()]
        );
        assert_eq!(facts.recipient.as_deref(), Some("marie@acme.fr"));
        assert_eq!(facts.status.as_deref(), Some("5.1.1"));
        assert_eq!(
            facts.summary(),
            "marie@acme.fr: 5.1.1 550 5.1.1 <marie@acme.fr>: user unknown"
        );
        // A value over 500 characters is not a field; the next line still is.
        let long = format!("Status: {}\nStatus: 4.4.1\n", "5".repeat(501));
        assert_eq!(
            bounce_facts(&long, &[], &[]).status.as_deref(),
            Some("4.4.1")
        );
        let bare = bounce_facts("no report here", &[MessageId::parse("<a@b>").unwrap()], &[]);
        assert_eq!(bare.original_ids.len(), 1);
        assert_eq!(bare.summary(), "delivery failed");
    }
}
