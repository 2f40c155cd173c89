//! Messages over `intake.max_message_size`: decided from their header
//! alone (an IMAP source does not even download the rest), rejected as too
//! large, and whether a person can be told so.

use serde::Serialize;

use super::{Decision, IntakeRules, MailboxDefaults, Outcome, RejectReason, parse};
use crate::model::Language;

/// At most this much of a header is read: a header of megabytes is not
/// mail anyone writes, and reading it would undo the point of the limit.
const MAX_HEADER: usize = 256 * 1024;

/// What the sender of a message refused as too large is told: the limit,
/// in the language the header suggests. Only for a person who can be
/// answered: never a robot, spam, a From address that failed the trusted
/// servers' checks (the notice would go to the person it was forged from),
/// or a message without a sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OversizeNotice {
    /// `intake.max_message_size`, in bytes.
    pub limit: usize,
    /// From `Content-Language`, the subject's words or the mailbox; the
    /// customer's recorded language wins over it when the notice is written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
}

/// The header block of a raw message (without its blank line's end when
/// there is no body), at most `MAX_HEADER` (256 KiB) bytes.
pub fn header_of(raw: &[u8]) -> &[u8] {
    let end = parse::body_offset(raw).unwrap_or(raw.len());
    &raw[..end.min(MAX_HEADER)]
}

/// The decision for a message of `size` bytes, over the limit, from its
/// header: what the header says of it, rejected as too large, with the
/// notice its sender is owed if any.
pub fn decide_oversize(
    headers: &[u8],
    size: usize,
    rules: &IntakeRules,
    defaults: &MailboxDefaults,
) -> Decision {
    let headers = &headers[..headers.len().min(MAX_HEADER)];
    let mut decision = super::read(headers, rules, defaults);
    // Read as a message, the header is a ticket only when it names a sender
    // who is neither a robot nor spam; a held one (spam under `hold`, an
    // unverified From) is not answered either.
    let notice = match &decision.outcome {
        Outcome::Ticket { ticket } if ticket.held_for.is_none() => Some(OversizeNotice {
            limit: rules.max_message_size,
            language: ticket.language,
        }),
        _ => None,
    };
    decision.message.size = size;
    decision.outcome = Outcome::Rejected {
        reason: RejectReason::TooLarge,
        detail: format!(
            "{size} bytes, over the {} byte limit (intake.max_message_size)",
            rules.max_message_size
        ),
        notice,
    };
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::fields;

    fn rules(limit: usize) -> IntakeRules {
        IntakeRules {
            vocabulary: fields::tests::vocabulary(),
            key_prefix: "SUP".into(),
            own_addresses: vec!["support@acme.fr".into()],
            max_message_size: limit,
            spam: crate::config::SpamRules::default(),
            trusted_authserv_ids: vec!["mx.acme.fr".into()],
        }
    }

    fn notice(raw: &str) -> Option<OversizeNotice> {
        let body = "x".repeat(4096);
        let raw = format!("{raw}\n{body}\n");
        let decision =
            super::super::decide(raw.as_bytes(), &rules(1024), &MailboxDefaults::default());
        assert_eq!(decision.message.size, raw.len());
        match decision.outcome {
            Outcome::Rejected {
                reason: RejectReason::TooLarge,
                notice,
                ..
            } => notice,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_person_is_told_in_the_language_of_the_subject() {
        let told = notice("From: Marie <marie@client.fr>\nSubject: Les journaux de la semaine\n");
        assert_eq!(
            told,
            Some(OversizeNotice {
                limit: 1024,
                language: Some(Language::Fr),
            })
        );
        let told = notice("From: ann@client.com\nContent-Language: en\nSubject: Logs\n");
        assert_eq!(told.unwrap().language, Some(Language::En));
        let told = notice("From: ann@client.com\nSubject: 4.2\n");
        assert_eq!(told.unwrap().language, None);
    }

    #[test]
    fn robots_spam_forged_senders_and_nobody_are_not_told() {
        assert_eq!(
            notice("From: ann@client.com\nAuto-Submitted: auto-replied\nSubject: Away\n"),
            None
        );
        assert_eq!(
            notice("From: news@shop.example\nList-Id: <news.shop.example>\nSubject: Sale\n"),
            None
        );
        assert_eq!(
            notice("From: ann@client.com\nX-Spam-Flag: YES\nSubject: Win\n"),
            None
        );
        assert_eq!(
            notice(
                "Authentication-Results: mx.acme.fr; dmarc=fail header.from=client.com\n\
                 From: ann@client.com\nSubject: Invoice\n"
            ),
            None
        );
        assert_eq!(notice("Subject: nobody\n"), None);
    }

    #[test]
    fn the_header_read_is_bounded() {
        let raw = format!("From: a@b.fr\nX-Long: {}\n", "y".repeat(MAX_HEADER * 2));
        assert_eq!(header_of(raw.as_bytes()).len(), MAX_HEADER);
        let raw = b"From: a@b.fr\n\nbody";
        assert_eq!(header_of(raw), b"From: a@b.fr\n\n");
        let decision = decide_oversize(raw, 10_000, &rules(1024), &MailboxDefaults::default());
        assert_eq!(decision.message.size, 10_000);
        assert_eq!(
            decision.message.from.map(|p| p.email).as_deref(),
            Some("a@b.fr")
        );
    }
}
