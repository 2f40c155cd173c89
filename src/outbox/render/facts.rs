//! What the templates are given: the facts of a ticket and of a
//! conversation's event, the files sent, the envelope.

use serde::Serialize;

use std::time::SystemTime;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AttachmentLine {
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnrecognizedLine {
    pub field: String,
    pub value: String,
    /// The names the customer could have written.
    pub accepted: Vec<String>,
}

/// A field the customer changed, in the words of the mail's language.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChangeLine {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// What the templates show of a ticket. `severity`, `products` and
/// `request_type` are the labels in the mail's language; the `_name` fields
/// are the canonical names (headers for mail filters use them).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TicketFacts {
    pub key: String,
    pub summary: String,
    pub description: String,
    pub severity: String,
    pub products: Vec<String>,
    pub request_type: String,
    pub severity_name: String,
    pub product_names: Vec<String>,
    pub reporter: String,
    pub reporter_name: Option<String>,
    pub watchers: Vec<String>,
    pub attachments: Vec<AttachmentLine>,
    pub unrecognized: Vec<UnrecognizedLine>,
    pub tracking_url: String,
    /// The customer portal's address, when the portal is on.
    pub portal_url: Option<String>,
    /// The line that ties replies to the ticket when headers and subject
    /// are lost (see `intake::thread`).
    pub marker: String,
    /// For the team: the queue it was routed to, and its assignee.
    pub queue: String,
    pub assignee: Option<String>,
}

/// What the templates of a conversation's mail show: the ticket now, and
/// what just happened.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConversationFacts {
    pub key: String,
    pub summary: String,
    pub status: String,
    /// The status in the mail's language.
    pub status_label: String,
    pub severity: String,
    pub products: Vec<String>,
    pub request_type: String,
    pub severity_name: String,
    pub product_names: Vec<String>,
    pub reporter: String,
    pub reporter_name: Option<String>,
    pub watchers: Vec<String>,
    pub tracking_url: String,
    /// The customer portal's address, when the portal is on.
    pub portal_url: Option<String>,
    pub marker: String,
    /// Who wrote, and what.
    pub author: String,
    pub text: String,
    pub attachments: Vec<AttachmentLine>,
    pub changes: Vec<ChangeLine>,
    pub reopened: bool,
    pub reopen_days: i64,
    /// For the team: the ticket's queue and assignee.
    pub queue: String,
    pub assignee: Option<String>,
    /// Quiet tickets: days until the next automatic step, if any.
    pub next_in_days: Option<i64>,
    /// A merged ticket: the one it was merged into, and its tracking page.
    pub into_key: Option<String>,
    pub into_summary: Option<String>,
    pub into_tracking_url: Option<String>,
}

/// What the notice to the sender of a message refused as too large shows.
/// No ticket was made: there is no key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OversizeFacts {
    pub reporter: String,
    pub reporter_name: Option<String>,
    /// The refused message's subject, when it had one.
    pub summary: Option<String>,
    /// Its size and the limit, for people (`31 MB`, `31 Mo`).
    pub size: String,
    pub limit: String,
}

/// A file sent with a team reply.
pub struct FileToSend<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
}

/// Who sends, and how the message threads.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub from: &'a str,
    pub from_name: Option<&'a str>,
    /// Our Message-ID for this message, without angle brackets.
    pub message_id: &'a str,
    /// The customer's Message-ID this answers, as they sent it.
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [String],
    pub date: SystemTime,
}
