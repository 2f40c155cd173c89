//! The JSON views of tickets, as documented in README.md: what `mailgate
//! tickets list|show --json` prints and what the team API answers.

use serde_json::json;

use crate::config::Settings;
use crate::model::Visibility;
use crate::store::TicketRecord;

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
        "replies": ticket.replies,
        "tracking_url": settings.tracking_url(&ticket.tracking_token),
    })
}
