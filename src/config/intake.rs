//! `[intake]`: the rules intake decides with (the vocabulary, our own
//! addresses, the size limit), and the defaults a source gives its tickets.

use super::ByteSizeText;
use super::checker::{Checker, parse_byte_size};
use super::raw::RawIntake;
use crate::model::{Language, SpamPolicy, Vocabulary};

/// The rules intake applies, built once from the configuration.
#[derive(Debug, Clone)]
pub struct IntakeRules {
    pub vocabulary: Vocabulary,
    pub key_prefix: String,
    /// Our own addresses, lower case: never a reporter nor a watcher.
    pub own_addresses: Vec<String>,
    pub max_message_size: usize,
    pub spam: SpamRules,
    /// The authserv-ids of our own receiving servers, lower case: only
    /// their `Authentication-Results` headers are read.
    pub trusted_authserv_ids: Vec<String>,
}

/// How the receiving server's spam verdicts are honoured (`intake.spam`).
#[derive(Debug, Clone, Copy)]
pub struct SpamRules {
    pub policy: SpamPolicy,
    /// The Exchange spam confidence level from which a message is spam.
    pub scl_level: u8,
}

impl Default for SpamRules {
    /// Spam is kept out; SCL 5 is Exchange's own junk threshold.
    fn default() -> Self {
        SpamRules {
            policy: SpamPolicy::Ignore,
            scl_level: 5,
        }
    }
}

impl IntakeRules {
    /// Whether an address is ours, plus-addressed variants included
    /// (`support+atlas@example.com` is `support@example.com`).
    pub fn is_own_address(&self, email: &str) -> bool {
        let base = match email.split_once('@') {
            Some((local, domain)) => {
                format!("{}@{domain}", local.split('+').next().unwrap_or(local))
            }
            None => email.to_owned(),
        };
        self.own_addresses
            .iter()
            .any(|own| own == email || *own == base)
    }
}

/// Field values a mailbox gives the tickets it receives, weaker than
/// anything the customer wrote.
#[derive(Debug, Clone, Default)]
pub struct MailboxDefaults {
    pub severity: Option<String>,
    pub products: Vec<String>,
    pub request_type: Option<String>,
    /// The language of replies when the message does not tell.
    pub language: Option<Language>,
}

/// `intake.max_message_size`, in bytes.
pub(super) fn max_message_size(c: &mut Checker, raw: &RawIntake) -> usize {
    let size = match &raw.max_message_size {
        ByteSizeText::Bytes(n) => Some(*n),
        ByteSizeText::Text(t) => parse_byte_size(t),
    };
    match size {
        Some(n) if n >= 1024 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => {
            c.problem(
                "intake.max_message_size",
                "must be a size of at least 1KiB, like \"25MiB\"",
            );
            0
        }
    }
}

/// `intake.own_addresses`, lower case, in the order written.
pub(super) fn own_addresses(c: &mut Checker, raw: &RawIntake) -> Vec<String> {
    (raw.own_addresses.iter().enumerate())
        .filter_map(|(i, address)| c.address(format!("intake.own_addresses[{i}]"), address))
        .collect()
}

/// `intake.spam` and `intake.spam_scl_level`.
pub(super) fn spam_rules(c: &mut Checker, raw: &RawIntake) -> SpamRules {
    let policy = c.named("intake.spam", &raw.spam, SpamPolicy::Ignore);
    let scl_level = if let Ok(level @ 0..=9) = u8::try_from(raw.spam_scl_level) {
        level
    } else {
        c.problem(
            "intake.spam_scl_level",
            "must be an Exchange spam confidence level from 0 to 9",
        );
        5
    };
    SpamRules { policy, scl_level }
}

/// `intake.trusted_authserv_ids`: host-name-like ids, lower case, once each.
pub(super) fn trusted_authserv_ids(c: &mut Checker, raw: &RawIntake) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for (i, id) in raw.trusted_authserv_ids.iter().enumerate() {
        let id = id.trim().to_ascii_lowercase();
        let valid = !id.is_empty()
            && id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_'));
        if !valid {
            c.problem(
                format!("intake.trusted_authserv_ids[{i}]"),
                "must be the id your receiving server writes first in Authentication-Results, e.g. \"mx.example.com\"",
            );
        } else if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}
