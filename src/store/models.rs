//! What the store returns: plain records, serialisable as the JSON of
//! `mailgate tickets … --json`.

use serde::Serialize;

use crate::model::{AuthorRole, OutboxStatus, TicketStatus, Visibility};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AttachmentRecord {
    #[serde(skip)]
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// The comment it came with; none for the ticket's first message.
    #[serde(skip)]
    pub comment_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CommentRecord {
    #[serde(skip)]
    pub id: i64,
    pub author_email: String,
    pub author_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub author_role: AuthorRole,
    pub body: String,
    #[sqlx(try_from = "String")]
    pub visibility: Visibility,
    pub created_at: String,
}

/// A flag stored as 0/1, the same on both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl From<i64> for Flag {
    fn from(value: i64) -> Self {
        Flag(value != 0)
    }
}

/// An entry of a ticket's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EventRecord {
    /// `status`, `field`, `delivery-failure`, `follow-up`, `assignee`,
    /// `watcher`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub actor: String,
    #[sqlx(try_from = "i64")]
    pub public: Flag,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Watcher {
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct UnrecognizedRecord {
    pub field: String,
    pub value: String,
    pub source: String,
}

/// An outgoing message about a ticket and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ReplyRecord {
    pub kind: String,
    #[serde(rename = "to")]
    pub recipients: String,
    #[sqlx(try_from = "String")]
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// A ticket with everything attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRecord {
    pub id: i64,
    pub key: String,
    pub tracking_token: String,
    pub status: TicketStatus,
    pub summary: String,
    pub description: String,
    pub severity: String,
    pub products: Vec<String>,
    pub request_type: String,
    pub reporter_email: String,
    pub reporter_name: Option<String>,
    pub reply_to: Option<String>,
    pub language: Option<String>,
    pub watchers: Vec<Watcher>,
    pub unrecognized: Vec<UnrecognizedRecord>,
    pub attachments: Vec<AttachmentRecord>,
    pub comments: Vec<CommentRecord>,
    pub events: Vec<EventRecord>,
    /// The ticket this one continues (a follow-up to a long-closed ticket).
    pub follows: Option<String>,
    /// The `[[routes]]` queue it was filed in; `None`: the default queue.
    pub queue: Option<String>,
    /// The team member it is assigned to.
    pub assignee: Option<String>,
    /// The ticket it was merged into (status `merged`).
    pub merged_into: Option<String>,
    /// The mail sent (or held back) about it.
    pub replies: Vec<ReplyRecord>,
    pub created_at: String,
    pub updated_at: String,
}

impl TicketRecord {
    /// Attachments the customer may see: the first message's and those of
    /// public comments.
    pub fn public_attachments(&self) -> impl Iterator<Item = &AttachmentRecord> {
        self.attachments.iter().filter(|a| {
            a.comment_id.is_none_or(|id| {
                self.comments
                    .iter()
                    .any(|c| c.id == id && c.visibility == Visibility::Public)
            })
        })
    }
}
