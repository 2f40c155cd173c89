//! The states a ticket, an outgoing mail and a received message go
//! through, and where a message came from.

use super::Language;
use crate::closed_set;

closed_set! {
    /// Where a ticket stands. `held` is a ticket from an unknown sender
    /// waiting for the team under `senders.policy = "hold"`; `merged`, one
    /// whose conversation went on in another (`tickets merge`), for good.
    pub enum TicketStatus ("status") {
        Open = "open",
        /// Waiting for the customer's answer.
        Pending = "pending",
        Resolved = "resolved",
        Closed = "closed",
        Held = "held",
        Merged = "merged",
    }
}

impl TicketStatus {
    /// The statuses the team sets by hand (`tickets status`, the API).
    pub const SETTABLE: &'static [TicketStatus] = &[
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    /// The status as customers read it, capitalised as a heading or a
    /// badge shows it (`Waiting for your reply`, `Résolue`).
    pub fn label(self, language: Language) -> &'static str {
        use Language::{En, Fr};
        use TicketStatus::{Closed, Held, Merged, Open, Pending, Resolved};
        match (language, self) {
            (En, Open) => "Open",
            (En, Pending) => "Waiting for your reply",
            (En, Resolved) => "Resolved",
            (En, Closed) => "Closed",
            (En, Held) => "Awaiting approval",
            (En, Merged) => "Merged into another request",
            (Fr, Open) => "Ouverte",
            (Fr, Pending) => "En attente de votre réponse",
            (Fr, Resolved) => "Résolue",
            (Fr, Closed) => "Fermée",
            (Fr, Held) => "En attente de validation",
            (Fr, Merged) => "Fusionnée avec une autre demande",
        }
    }

    /// The label inside a sentence (`is now waiting for your reply`).
    pub fn label_in_sentence(self, language: Language) -> String {
        let label = self.label(language);
        let mut chars = label.chars();
        chars.next().map_or_else(String::new, |first| {
            first.to_lowercase().chain(chars).collect()
        })
    }

    /// Whether a customer's follow-up reopens the ticket (and the team is
    /// told it was reopened: not for `pending`, which merely waited).
    pub fn reopened_by_follow_up(self) -> Option<bool> {
        match self {
            TicketStatus::Resolved | TicketStatus::Closed => Some(true),
            TicketStatus::Pending => Some(false),
            // Mail to a merged ticket goes to the one it was merged into.
            TicketStatus::Open | TicketStatus::Held | TicketStatus::Merged => None,
        }
    }
}

closed_set! {
    /// Where an outgoing mail stands.
    pub enum OutboxStatus ("outbox status") {
        /// Waiting to be sent, or to be tried again.
        Pending = "pending",
        Sent = "sent",
        /// Given up: a permanent failure, or too long transient ones.
        Failed = "failed",
        /// Kept and never sent (a robot, the per-sender limit, an import).
        Suppressed = "suppressed",
    }
}

closed_set! {
    /// What a received message became.
    pub enum InboundOutcome ("outcome") {
        Ticket = "ticket",
        /// A follow-up added to its ticket.
        Comment = "comment",
        /// A robot's mail: kept, never answered.
        Ignored = "ignored",
        /// Refused (too large, no sender, an unregistered sender): kept in
        /// quarantine.
        Rejected = "rejected",
        /// Received before: nothing new was created.
        Duplicate = "duplicate",
    }
}

closed_set! {
    /// Who may see a comment.
    pub enum Visibility ("visibility") {
        /// Mailed and shown to the customer.
        Public = "public",
        /// The team's note: never mailed nor shown to the customer.
        Internal = "internal",
    }
}

closed_set! {
    /// Who wrote a comment.
    pub enum AuthorRole ("author role") {
        Customer = "customer",
        Team = "team",
    }
}

closed_set! {
    /// Where a received message came from.
    pub enum SourceKind ("source") {
        File = "file",
        Stdin = "stdin",
        Imap = "imap",
        Maildir = "maildir",
        Portal = "portal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Named;

    #[test]
    fn string_forms_round_trip() {
        for status in TicketStatus::ALL {
            assert_eq!(status.as_str().parse::<TicketStatus>(), Ok(*status));
        }
        for outcome in InboundOutcome::ALL {
            assert_eq!(InboundOutcome::parse(outcome.as_str()), Some(*outcome));
        }
        let wrong = "Open".parse::<TicketStatus>().unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "\"Open\" is not one of open, pending, resolved, closed, held, merged"
        );
        assert_eq!(
            serde_json::to_string(&OutboxStatus::Suppressed).unwrap(),
            "\"suppressed\""
        );
        assert_eq!(
            serde_json::from_str::<Visibility>("\"internal\"").unwrap(),
            Visibility::Internal
        );
        assert!(serde_json::from_str::<Visibility>("\"secret\"").is_err());
    }

    #[test]
    fn one_label_per_status_and_language() {
        assert_eq!(
            TicketStatus::Pending.label(Language::En),
            "Waiting for your reply"
        );
        assert_eq!(
            TicketStatus::Pending.label_in_sentence(Language::Fr),
            "en attente de votre réponse"
        );
        assert_eq!(
            TicketStatus::Resolved.label_in_sentence(Language::En),
            "resolved"
        );
        for status in TicketStatus::ALL {
            for language in [Language::En, Language::Fr] {
                assert!(!status.label(language).is_empty());
            }
        }
    }
}
