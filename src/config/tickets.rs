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
    /// What becomes of tickets nobody answers.
    pub quiet: QuietRules,
}

/// Tickets that went quiet (`[tickets]`): each step counts from the last
/// change of status, so a reply from the customer, which reopens the
/// ticket, cancels the countdown. Unset steps never happen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuietRules {
    /// A pending ticket's customer is reminded once after this long.
    pub pending_reminder_after: Option<chrono::Duration>,
    /// A pending ticket is resolved after this long.
    pub auto_resolve_pending_after: Option<chrono::Duration>,
    /// A resolved ticket is closed after this long.
    pub auto_close_resolved_after: Option<chrono::Duration>,
}

impl QuietRules {
    /// Whether any step is configured.
    pub fn any(&self) -> bool {
        self.pending_reminder_after.is_some()
            || self.auto_resolve_pending_after.is_some()
            || self.auto_close_resolved_after.is_some()
    }
}

impl Default for ConversationRules {
    fn default() -> Self {
        ConversationRules {
            team_addresses: Vec::new(),
            allow_field_changes: FieldChangePolicy::Reporter,
            reopen_window: chrono::Duration::days(30),
            quiet: QuietRules::default(),
        }
    }
}

fn quiet_rules(c: &mut Checker, raw: &RawTickets) -> QuietRules {
    let mut step = |key: &str, text: &Option<String>| {
        let text = text.as_ref()?;
        let key = format!("tickets.{key}");
        let before = c.problems.len();
        let duration = c.duration(key.clone(), text, Duration::ZERO);
        if c.problems.len() > before {
            return None;
        }
        if duration.is_zero() {
            c.problem(key, "must be longer than zero");
            return None;
        }
        chrono::Duration::from_std(duration).ok()
    };
    let rules = QuietRules {
        pending_reminder_after: step("pending_reminder_after", &raw.pending_reminder_after),
        auto_resolve_pending_after: step(
            "auto_resolve_pending_after",
            &raw.auto_resolve_pending_after,
        ),
        auto_close_resolved_after: step(
            "auto_close_resolved_after",
            &raw.auto_close_resolved_after,
        ),
    };
    if let (Some(remind), Some(resolve)) = (
        rules.pending_reminder_after,
        rules.auto_resolve_pending_after,
    ) && remind >= resolve
    {
        c.problem(
            "tickets.pending_reminder_after",
            "must be shorter than tickets.auto_resolve_pending_after, or the reminder never goes",
        );
    }
    rules
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
            quiet: quiet_rules(c, raw),
        },
    }
}
