//! What a generated set is made of: the shares of attachments, HTML-only
//! bodies, robots, replies and broken senders, and the named mixes.

use serde::Serialize;

/// What a generated set is made of. Shares are of the whole set and are
/// met exactly (rounded), not drawn message by message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mix {
    /// Customers' messages (tickets and replies) with at least one
    /// attachment.
    pub attachments: f64,
    /// Customers' messages with an HTML body and no text alternative.
    pub html_only: f64,
    /// Auto-replies and bounces (three to two).
    pub robots: f64,
    /// Replies to an earlier message of the set, to be filed as comments.
    pub replies: f64,
    /// Messages without any sender address, to be rejected.
    pub no_sender: f64,
    /// Customers writing in French (the others write in English).
    pub french: f64,
    /// Attachment sizes, in bytes, drawn log-uniformly in this range.
    pub min_attachment: usize,
    pub max_attachment: usize,
}

impl Mix {
    /// The benchmark's mix: ~20% with attachments of 2 KiB to 2 MiB, ~5%
    /// HTML-only, ~5% robots, ~10% replies, French and English half and half.
    pub fn standard() -> Self {
        Mix {
            attachments: 0.20,
            html_only: 0.05,
            robots: 0.05,
            replies: 0.10,
            no_sender: 0.0,
            french: 0.5,
            min_attachment: 2 * 1024,
            max_attachment: 2 * 1024 * 1024,
        }
    }

    /// The standard mix with attachments of at most 64 KiB: quick runs.
    pub fn light() -> Self {
        Mix {
            max_attachment: 64 * 1024,
            ..Mix::standard()
        }
    }

    /// The standard mix plus 2% of messages without a sender (rejected).
    pub fn chaos() -> Self {
        Mix {
            no_sender: 0.02,
            ..Mix::standard()
        }
    }

    /// The names [`Mix::named`] knows.
    pub const NAMES: &'static [&'static str] = &["standard", "light", "chaos"];

    pub fn named(name: &str) -> Option<Self> {
        match name {
            "standard" => Some(Mix::standard()),
            "light" => Some(Mix::light()),
            "chaos" => Some(Mix::chaos()),
            _ => None,
        }
    }
}

impl Default for Mix {
    fn default() -> Self {
        Mix::standard()
    }
}
