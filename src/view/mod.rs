//! The JSON views of tickets, as documented in README.md: what `mailgate
//! tickets list|search|show --json` prints and what the team API answers;
//! and in `filter.rs`, the filters of a list as the team writes them.

pub mod filter;

use serde_json::json;

use crate::config::Settings;
use crate::model::{SearchTerms, Visibility};
use crate::store::TicketRecord;

/// Characters of text shown around the first word a search found.
const SNIPPET_CHARS: usize = 160;

/// Where a search's words appear in a ticket: a line of its text, from
/// the summary, the description, a comment or an attachment's name, in
/// that order.
pub fn snippet(ticket: &TicketRecord, terms: &SearchTerms) -> Option<String> {
    let texts = [ticket.summary.as_str(), ticket.description.as_str()]
        .into_iter()
        .chain(ticket.comments.iter().map(|c| c.body.as_str()))
        .chain(ticket.attachments.iter().map(|a| a.filename.as_str()));
    terms.snippet(texts, SNIPPET_CHARS)
}

/// A ticket of a search's page: the list's JSON with its `snippet`.
pub fn hit_json(
    settings: &Settings,
    ticket: &TicketRecord,
    terms: &SearchTerms,
) -> serde_json::Value {
    let mut value = ticket_json(settings, ticket, false);
    value["snippet"] = json!(snippet(ticket, terms));
    value
}

/// The JSON of a ticket, as documented in README.md. `comments` is a count
/// in lists and an array in `tickets show`.
pub fn ticket_json(settings: &Settings, ticket: &TicketRecord, full: bool) -> serde_json::Value {
    let public: Vec<_> = ticket
        .comments
        .iter()
        .filter(|c| c.visibility == Visibility::Public)
        .collect();
    json!({
        "key": ticket.key,
        "summary": ticket.summary,
        "description": ticket.description,
        "severity": ticket.severity,
        "products": ticket.products,
        "request_type": ticket.request_type,
        "reporter": ticket.reporter_email,
        "reporter_name": ticket.reporter_name,
        "reply_to": ticket.reply_to,
        "watchers": ticket.watchers,
        "status": ticket.status,
        "language": ticket.language,
        "unrecognized": ticket.unrecognized,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "attachments": ticket.attachments,
        "comments": if full { json!(ticket.comments) } else { json!(public.len()) },
        "history": if full { json!(ticket.events) } else { json!(ticket.events.len()) },
        "follows": ticket.follows,
        "queue": ticket.queue.as_deref().unwrap_or(crate::config::DEFAULT_QUEUE),
        "assignee": ticket.assignee,
        "merged_into": ticket.merged_into,
        "replies": ticket.replies,
        "tracking_url": settings.tracking_url(&ticket.tracking_token),
    })
}
