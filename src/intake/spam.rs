//! The spam verdicts that the receiving mail server's filter wrote into the
//! header: SpamAssassin, rspamd and Exchange.
//!
//! Only a "spam" verdict counts. Anyone can write these headers, but a
//! sender who forges "not spam" gains nothing (the message is read as if no
//! filter had spoken), and one who forges "spam" only keeps their own
//! message out. So every copy of a header is read, whichever hop wrote it.

use serde::Serialize;

use super::parse::ParsedMail;
use crate::closed_set;

closed_set! {
    /// The filter whose verdict it is.
    pub enum SpamFilter ("spam filter") {
        SpamAssassin = "spamassassin",
        Rspamd = "rspamd",
        Exchange = "exchange",
    }
}

/// A filter said the message is spam.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpamVerdict {
    pub filter: SpamFilter,
    /// The header that says so, as written (`X-Spam-Status: Yes, score=7.1`).
    pub detail: String,
}

/// The first spam verdict in the header, if any. `scl_level`: the Exchange
/// spam confidence level (0–9) from which a message is spam; Exchange's own
/// junk threshold is 5, and -1 marks a trusted sender.
pub fn verdict(mail: &ParsedMail, scl_level: u8) -> Option<SpamVerdict> {
    mail.headers.iter().find_map(|(name, value)| {
        let filter = header_verdict(name, value.trim(), scl_level)?;
        Some(SpamVerdict {
            filter,
            detail: format!("{}: {}", display_name(name), cut(value.trim(), 200)),
        })
    })
}

fn header_verdict(name: &str, value: &str, scl_level: u8) -> Option<SpamFilter> {
    let first_word = |v: &str| {
        v.split([',', ' ', '\t', ';'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    match name {
        // SpamAssassin: `X-Spam-Flag: YES`, `X-Spam-Status: Yes, score=…`.
        "x-spam-flag" | "x-spam-status" if first_word(value) == "yes" => {
            Some(SpamFilter::SpamAssassin)
        }
        // rspamd: `X-Spam: Yes`, and the action it chose. "soft reject" is
        // greylisting, not a verdict; "no action" and "greylist" neither.
        "x-spam" if first_word(value) == "yes" => Some(SpamFilter::Rspamd),
        "x-rspamd-action"
            if matches!(
                value.to_ascii_lowercase().as_str(),
                "reject" | "add header" | "rewrite subject"
            ) =>
        {
            Some(SpamFilter::Rspamd)
        }
        // Exchange's spam confidence level: -1 (trusted) to 9.
        "x-ms-exchange-organization-scl" => match value.parse::<i8>() {
            Ok(scl) if scl >= 0 && scl.unsigned_abs() >= scl_level => Some(SpamFilter::Exchange),
            _ => None,
        },
        _ => None,
    }
}

/// The header's name as filters write it, for the recorded detail.
fn display_name(lower: &str) -> &'static str {
    match lower {
        "x-spam-flag" => "X-Spam-Flag",
        "x-spam-status" => "X-Spam-Status",
        "x-spam" => "X-Spam",
        "x-rspamd-action" => "X-Rspamd-Action",
        _ => "X-MS-Exchange-Organization-SCL",
    }
}

fn cut(text: &str, chars: usize) -> &str {
    text.char_indices()
        .nth(chars)
        .map_or(text, |(end, _)| &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::parse;

    fn filter_of(headers: &str) -> Option<SpamFilter> {
        let raw = format!("From: a@example.com\n{headers}\nSubject: x\n\nbody\n");
        verdict(&parse(raw.as_bytes()), 5).map(|v| v.filter)
    }

    #[test]
    fn spam_verdicts_of_each_filter() {
        use SpamFilter::{Exchange, Rspamd, SpamAssassin};
        for (headers, expected) in [
            ("X-Spam-Flag: YES", Some(SpamAssassin)),
            ("X-Spam-Flag: yes", Some(SpamAssassin)),
            ("X-Spam-Flag: NO", None),
            (
                "X-Spam-Status: Yes, score=7.3 required=5.0 tests=BAYES_99",
                Some(SpamAssassin),
            ),
            ("X-Spam-Status: No, score=1.2 required=5.0", None),
            ("X-Spam: Yes", Some(Rspamd)),
            ("X-Spam: No", None),
            ("X-Rspamd-Action: add header", Some(Rspamd)),
            ("X-Rspamd-Action: rewrite subject", Some(Rspamd)),
            ("X-Rspamd-Action: reject", Some(Rspamd)),
            ("X-Rspamd-Action: no action", None),
            ("X-Rspamd-Action: soft reject", None),
            ("X-Rspamd-Action: greylist", None),
            ("X-MS-Exchange-Organization-SCL: 5", Some(Exchange)),
            ("X-MS-Exchange-Organization-SCL: 9", Some(Exchange)),
            ("X-MS-Exchange-Organization-SCL: 4", None),
            ("X-MS-Exchange-Organization-SCL: -1", None),
            ("X-MS-Exchange-Organization-SCL: high", None),
            ("X-Spam-Score: 12.0", None),
            ("", None),
        ] {
            assert_eq!(filter_of(headers), expected, "{headers:?}");
        }
    }

    #[test]
    fn a_forged_not_spam_does_not_hide_a_real_verdict() {
        // The sender wrote "No"; our server's filter, above it, said "Yes".
        let headers = "X-Spam-Status: Yes, score=9.9\nX-Spam-Status: No, score=-5";
        assert_eq!(filter_of(headers), Some(SpamFilter::SpamAssassin));
        let raw = format!("From: a@example.com\n{headers}\n\nbody\n");
        let found = verdict(&parse(raw.as_bytes()), 5).unwrap();
        assert_eq!(found.detail, "X-Spam-Status: Yes, score=9.9");
    }

    #[test]
    fn the_exchange_level_is_configurable() {
        let raw = "From: a@example.com\nX-MS-Exchange-Organization-SCL: 7\n\nbody\n";
        let mail = parse(raw.as_bytes());
        assert!(verdict(&mail, 7).is_some());
        assert!(verdict(&mail, 8).is_none());
    }
}
