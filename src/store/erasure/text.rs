//! Byte and text helpers of erasure, pure: whether a message is the
//! person's, whether bytes mention an address, and an address replaced in
//! any case.

/// Whether a raw message's header names this address as its author
/// (From, Sender or Reply-To). Only the header is parsed.
pub(super) fn sent_by(raw: &[u8], email: &str) -> bool {
    let head = &raw[..crate::intake::parse::body_offset(raw).unwrap_or(raw.len())];
    let mail = crate::intake::parse::parse(head);
    (mail.from.iter())
        .chain(&mail.sender)
        .chain(&mail.reply_to)
        .any(|p| p.email == email)
}

/// Whether `haystack` holds `needle` (lower case ASCII), in any case.
pub(super) fn mentions(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// `text` with every occurrence of `needle` (lower case ASCII), in any
/// case, replaced.
pub(super) fn replace_ignoring_case(text: &str, needle: &str, with: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    // ASCII lower-casing keeps every byte where it was.
    while let Some(at) = lower[rest..].find(needle) {
        out.push_str(&text[rest..rest + at]);
        out.push_str(with);
        rest += at + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_replaced_in_any_case_and_nothing_else_moves() {
        assert_eq!(
            replace_ignoring_case(
                "Écrit par Marie <MARIE@acme.fr>, cc marie@acme.fr.",
                "marie@acme.fr",
                "erased-3@invalid"
            ),
            "Écrit par Marie <erased-3@invalid>, cc erased-3@invalid."
        );
        assert_eq!(
            replace_ignoring_case("none here", "marie@acme.fr", "x"),
            "none here"
        );
        assert!(mentions(b"To: Marie@Acme.FR\r\n", b"marie@acme.fr"));
        assert!(!mentions(b"To: paul@acme.fr", b"marie@acme.fr"));
    }

    #[test]
    fn a_message_is_theirs_by_from_sender_or_reply_to() {
        let raw = b"From: Paul <paul@acme.fr>\nReply-To: Marie <Marie@acme.fr>\nSubject: x\n\nFrom: other@x.fr\n";
        assert!(sent_by(raw, "marie@acme.fr"));
        assert!(sent_by(raw, "paul@acme.fr"));
        assert!(!sent_by(raw, "other@x.fr"), "the body is not read");
    }
}
