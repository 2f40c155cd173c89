//! Comments on a ticket: written with their attachments, and the team's
//! public replies, which also send mail.

use crate::intake::{Attachment, Person};
use crate::model::WebhookEvent;
use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError, now};

use super::ConversationEvent;

/// Who wrote a comment.
#[derive(Debug, Clone, Copy)]
pub(super) struct Author<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
}

impl<'a> Author<'a> {
    /// The sender of a message.
    pub(super) fn of(person: &'a Person) -> Self {
        Author {
            email: &person.email,
            name: person.name.as_deref(),
        }
    }

    /// Someone known by address only (the CLI and the API give no name).
    pub(super) fn address(email: &'a str) -> Self {
        Author { email, name: None }
    }
}

/// A comment to write on a ticket.
pub(super) struct NewComment<'a> {
    pub ticket_id: i64,
    /// The message it came in, when it came by email.
    pub inbound_id: Option<i64>,
    pub author: Author<'a>,
    /// `customer` or `team`.
    pub role: &'a str,
    /// `public` or `internal`.
    pub visibility: &'a str,
    pub body: &'a str,
    pub attachments: &'a [Attachment],
    pub at: &'a str,
}

impl Store {
    /// Writes a comment with its attachments, touches its ticket, and links
    /// the message it came in to the ticket.
    pub(super) async fn insert_comment(
        &self,
        tx: &mut WriteTx,
        comment: &NewComment<'_>,
    ) -> Result<i64, StoreError> {
        let NewComment {
            ticket_id,
            inbound_id,
            author,
            role,
            visibility,
            body,
            attachments,
            at,
        } = *comment;
        let comment_id: i64 = sql::query(
            "INSERT INTO comments (ticket_id, inbound_message_id, author_email, author_name, body,
                 visibility, author_role, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(ticket_id)
        .bind(inbound_id)
        .bind(author.email)
        .bind(author.name)
        .bind(body)
        .bind(visibility)
        .bind(role)
        .bind(at)
        .fetch_one(tx)
        .await?
        .try_get(0)?;
        for attachment in attachments {
            self.add_attachment(tx, ticket_id, Some(comment_id), inbound_id, attachment, at)
                .await?;
        }
        sql::query("UPDATE tickets SET updated_at = $2 WHERE id = $1")
            .bind(ticket_id)
            .bind(at)
            .execute(tx)
            .await?;
        if let Some(inbound_id) = inbound_id {
            Self::link_inbound(tx, inbound_id, ticket_id).await?;
        }
        let files: Vec<&str> = attachments.iter().map(|a| a.filename.as_str()).collect();
        let details = serde_json::json!({"comment": {
            "id": comment_id,
            "author": author.email,
            "author_name": author.name,
            "role": role,
            "visibility": visibility,
            "body": body,
            "attachments": files,
            "created_at": at,
        }});
        self.queue_webhooks(tx, ticket_id, WebhookEvent::CommentCreated, details)
            .await?;
        Ok(comment_id)
    }

    /// A public comment by the team and the mail it sends; how many mails
    /// will be sent.
    pub(super) async fn post_team_reply(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        inbound_id: Option<i64>,
        author: Author<'_>,
        text: &str,
        attachments: &[Attachment],
    ) -> Result<usize, StoreError> {
        let at = now();
        let comment = NewComment {
            ticket_id,
            inbound_id,
            author,
            role: "team",
            visibility: "public",
            body: text,
            attachments,
            at: &at,
        };
        self.insert_comment(tx, &comment).await?;
        let event = ConversationEvent::TeamReply {
            author: author.email,
            text,
            attachments,
        };
        self.plan_conversation_counted(tx, ticket_id, &event).await
    }
}
