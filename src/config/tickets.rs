//! `[tickets]`: keys, the tracking link, the team, and how conversations
//! behave.

use std::time::Duration;

use super::checker::Checker;
use super::raw::RawTickets;
use crate::model::{EmailAddress, FieldChangePolicy, Language, valid_prefix};

#[derive(Debug, Clone)]
pub struct TicketSettings {
    pub key_prefix: String,
    pub tracking_url: String,
    pub team_address: Option<String>,
    pub confirm_follow_ups: bool,
    pub conversations: ConversationRules,
    /// The language of mail to the team; `None`: `outbox.language`.
    pub team_language: Option<Language>,
}

/// How conversations behave, from `[tickets]`.
#[derive(Debug, Clone)]
pub struct ConversationRules {
    /// Support agents: their replies to a ticket's mail are team replies.
    /// Addresses, or `@domain` for a whole domain; lower case.
    pub team_addresses: Vec<String>,
    pub allow_field_changes: FieldChangePolicy,
    /// A follow-up to a ticket closed for longer opens a new ticket.
    pub reopen_window: chrono::Duration,
}

impl Default for ConversationRules {
    fn default() -> Self {
        ConversationRules {
            team_addresses: Vec::new(),
            allow_field_changes: FieldChangePolicy::Reporter,
            reopen_window: chrono::Duration::days(30),
        }
    }
}

pub(super) fn tickets(c: &mut Checker, raw: &RawTickets) -> TicketSettings {
    let key_prefix = raw.key_prefix.trim().to_owned();
    if !valid_prefix(&key_prefix) {
        c.problem(
            "tickets.key_prefix",
            format!("{key_prefix:?} must be an upper-case letter then up to 9 letters or digits"),
        );
    }
    match url::Url::parse(&raw.tracking_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => c.problem("tickets.tracking_url", "must be an http:// or https:// URL"),
    }
    let team_address =
        (raw.team_address.as_ref()).and_then(|a| c.address("tickets.team_address", a));
    let mut team_addresses = Vec::new();
    for (i, entry) in raw.team_addresses.iter().enumerate() {
        let entry = entry.trim().to_lowercase();
        let valid = match entry.strip_prefix('@') {
            Some(domain) => EmailAddress::is_valid(&format!("x@{domain}")),
            None => EmailAddress::is_valid(&entry),
        };
        if valid {
            team_addresses.push(entry);
        } else {
            c.problem(
                format!("tickets.team_addresses[{i}]"),
                format!("{entry:?} is not an address nor an @domain"),
            );
        }
    }
    let allow_field_changes = c.named(
        "tickets.allow_field_changes",
        &raw.allow_field_changes,
        FieldChangePolicy::Reporter,
    );
    let reopen_window = c.duration(
        "tickets.reopen_window",
        &raw.reopen_window,
        Duration::from_secs(30 * 86_400),
    );
    TicketSettings {
        key_prefix,
        tracking_url: raw.tracking_url.clone(),
        team_address,
        confirm_follow_ups: raw.confirm_follow_ups,
        team_language: (raw.team_language.as_ref())
            .and_then(|l| c.language("tickets.team_language", l)),
        conversations: ConversationRules {
            team_addresses,
            allow_field_changes,
            reopen_window: chrono::Duration::from_std(reopen_window)
                .unwrap_or(chrono::Duration::days(30)),
        },
    }
}
