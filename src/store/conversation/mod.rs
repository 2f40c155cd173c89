//! Conversations: which ticket a message continues, follow-ups as comments,
//! reopening, field changes by the reporter, the team's replies, notes and
//! status changes, watchers, and bounces of our own mail. Every change is recorded in
//! the ticket's history and the mail it causes is queued in the same
//! transaction.
//!
//! This file holds what callers see of it: the events the reply planner is
//! told of, the context it gets, and what the team's actions take and return.

mod actions;
mod changes;
mod comments;
mod follow_up;
mod mail;
mod merge;
mod threading;
mod watchers;

use crate::intake::{Attachment, Field, Person};
use crate::model::TicketStatus;

pub(in crate::store) use changes::NewEvent;
pub use merge::Merged;
pub use threading::ThreadVia;
pub(in crate::store) use threading::{Continuation, Thread};
pub use watchers::WatcherChange;

/// A change of one field, as recorded and as told to the team.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    pub field: Field,
    pub old: String,
    pub new: String,
}

/// A ticket as the mail about it needs it.
#[derive(Debug, Clone)]
pub struct ThreadContext {
    pub key: String,
    pub tracking_token: String,
    pub summary: String,
    pub status: TicketStatus,
    pub severity: String,
    pub products: Vec<String>,
    pub request_type: String,
    pub reporter: Person,
    /// Watchers' addresses.
    pub watchers: Vec<String>,
    /// The customer's language, when known.
    pub language: Option<crate::model::Language>,
    /// Message-IDs of the conversation, oldest first, for References.
    pub references: Vec<String>,
    /// The customer's latest message, for In-Reply-To.
    pub last_customer_message: Option<String>,
    /// Its queue (`[[routes]]` name, or `default`).
    pub queue: String,
    /// Where mail to the team about it goes: its queue's address.
    pub team_address: Option<String>,
    /// The team member it is assigned to.
    pub assignee: Option<String>,
}

/// Something that happened on a ticket that may send mail.
#[derive(Debug, Clone, Copy)]
pub enum ConversationEvent<'a> {
    /// Someone in the thread wrote (by email).
    FollowUp {
        author: &'a Person,
        text: &'a str,
        attachments: &'a [Attachment],
        changes: &'a [FieldChange],
        reopened: bool,
        /// The follow-up's own Message-ID.
        message_id: Option<&'a str>,
    },
    /// The team answered in public.
    TeamReply {
        author: &'a str,
        text: &'a str,
        attachments: &'a [Attachment],
    },
    StatusChanged {
        from: TicketStatus,
        to: TicketStatus,
        message: Option<&'a str>,
    },
    /// A step taken on a ticket nobody answered (`[tickets]` quiet rules).
    Quiet {
        step: QuietStep,
        /// Days until the next step, when one is configured: the reminder
        /// says when the ticket will be resolved, the resolution when it
        /// will be closed.
        next_in_days: Option<i64>,
    },
    /// The ticket was merged into `into` (`tickets merge`): its
    /// customer is told where the conversation goes on.
    Merged { into: &'a ThreadContext },
    /// The ticket was given to someone (`None`: to nobody).
    Assigned {
        assignee: Option<&'a str>,
        /// Who did it: an address, `api:NAME`, `cli`.
        actor: &'a str,
    },
}

/// What happens to a ticket that went quiet, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuietStep {
    /// The customer of a pending ticket is reminded that we wait for them.
    Reminder,
    /// A pending ticket is resolved.
    AutoResolved,
    /// A resolved ticket is closed.
    AutoClosed,
}

impl QuietStep {
    /// The name of its mail's template and outbox kind.
    pub fn as_str(self) -> &'static str {
        match self {
            QuietStep::Reminder => "reminder",
            QuietStep::AutoResolved => "auto-resolved",
            QuietStep::AutoClosed => "auto-closed",
        }
    }
}

/// A team action's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDone {
    pub key: String,
    /// Mails queued.
    pub mails: usize,
}

/// The fields a team member sets (`PATCH /api/tickets/KEY`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldUpdate {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub products: Option<Vec<String>>,
    pub request_type: Option<String>,
}
