//! Follow-ups by email filed as comments (a team member's as a team reply
//! or note), with the reopening, field changes and watchers they bring, and
//! bounces of our own mail recorded on what they return.

use crate::intake::{MessageFacts, NewTicket};
use crate::model::{FieldChangePolicy, TicketStatus};
use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError, now};

use super::comments::{Author, NewComment};
use super::{ConversationEvent, NewEvent, Thread};

impl Store {
    /// Files a follow-up as a comment: a team member's reply is a team reply
    /// (or an internal note with `#note`); anyone else's reopens a resolved
    /// or waiting ticket, may change fields, and is told to the team. The
    /// people it was sent to become watchers (not for a note, which is the
    /// team's own), after its mail is planned: they have this message
    /// already, and get the next ones.
    pub(in crate::store) async fn add_follow_up(
        &self,
        tx: &mut WriteTx,
        thread: &Thread,
        inbound_id: i64,
        ticket: &NewTicket,
        message: &MessageFacts,
    ) -> Result<(), StoreError> {
        let author = &ticket.reporter;
        let at = now();
        if self.is_team(&author.email) {
            let (internal, text) = match ticket.reply.trim_start().strip_prefix("#note") {
                Some(rest) => (true, crate::intake::body::tidy(rest)),
                None => (false, ticket.reply.clone()),
            };
            if internal {
                let note = NewComment {
                    ticket_id: thread.ticket_id,
                    inbound_id: Some(inbound_id),
                    author: Author::of(author),
                    role: "team",
                    visibility: "internal",
                    body: &text,
                    attachments: &ticket.attachments,
                    at: &at,
                };
                self.insert_comment(tx, &note).await?;
                return Ok(());
            }
            self.post_team_reply(
                tx,
                thread.ticket_id,
                Some(inbound_id),
                Author::of(author),
                &text,
                &ticket.attachments,
            )
            .await?;
            self.watch_from_follow_up(tx, thread.ticket_id, &ticket.watchers, &author.email)
                .await?;
            return Ok(());
        }

        let comment = NewComment {
            ticket_id: thread.ticket_id,
            inbound_id: Some(inbound_id),
            author: Author::of(author),
            role: "customer",
            visibility: "public",
            body: &ticket.reply,
            attachments: &ticket.attachments,
            at: &at,
        };
        self.insert_comment(tx, &comment).await?;
        let reopened = match thread.status.reopened_by_follow_up() {
            Some(reopened) => {
                self.change_status(
                    tx,
                    thread.ticket_id,
                    thread.status,
                    TicketStatus::Open,
                    &author.email,
                )
                .await?;
                reopened
            }
            None => false,
        };
        let changes = if self
            .may_change_fields(tx, thread.ticket_id, &author.email)
            .await?
        {
            self.apply_field_changes(tx, thread.ticket_id, &ticket.reply_fields, &author.email)
                .await?
        } else {
            Vec::new()
        };
        let event = ConversationEvent::FollowUp {
            author,
            text: &ticket.reply,
            attachments: &ticket.attachments,
            changes: &changes,
            reopened,
            message_id: message
                .message_id
                .as_ref()
                .map(crate::intake::message_id::MessageId::as_str),
        };
        self.plan_conversation(tx, thread.ticket_id, &event).await?;
        self.watch_from_follow_up(tx, thread.ticket_id, &ticket.watchers, &author.email)
            .await?;
        Ok(())
    }

    async fn may_change_fields(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        email: &str,
    ) -> Result<bool, StoreError> {
        Ok(match self.conversations.allow_field_changes {
            FieldChangePolicy::Nobody => false,
            FieldChangePolicy::Reporter => {
                let reporter: String =
                    sql::query("SELECT reporter_email FROM tickets WHERE id = $1")
                        .bind(ticket_id)
                        .fetch_one(tx)
                        .await?
                        .try_get(0)?;
                reporter == email
            }
            FieldChangePolicy::Participants => self.belongs_to(tx, ticket_id, email).await?,
        })
    }

    /// Records a bounce of one of our mails on the row it returns and on
    /// its ticket. Returns the ticket's id, when the bounce is about one.
    pub(in crate::store) async fn record_bounce(
        &self,
        tx: &mut WriteTx,
        inbound_id: i64,
        bounce: &crate::intake::BounceFacts,
    ) -> Result<Option<i64>, StoreError> {
        for id in &bounce.original_ids {
            let row = sql::query("SELECT id, ticket_id, kind FROM outbox WHERE message_id = $1")
                .bind(id.as_str())
                .fetch_optional(tx)
                .await?;
            let Some(row) = row else { continue };
            let outbox_id: i64 = row.try_get(0)?;
            let ticket_id: Option<i64> = row.try_get(1)?;
            let kind: String = row.try_get(2)?;
            let summary = bounce.summary();
            sql::query("UPDATE outbox SET bounced_at = $2, last_error = $3 WHERE id = $1")
                .bind(outbox_id)
                .bind(now())
                .bind(&summary)
                .execute(tx)
                .await?;
            if let Some(ticket_id) = ticket_id {
                let detail = format!("{kind}: {summary}");
                let event = NewEvent {
                    ticket_id,
                    kind: "delivery-failure",
                    field: None,
                    old: None,
                    new: None,
                    detail: Some(&detail),
                    actor: "mailgate",
                    public: false,
                };
                Self::record_event(tx, &event).await?;
                Self::link_inbound(tx, inbound_id, ticket_id).await?;
            }
            return Ok(ticket_id);
        }
        Ok(None)
    }
}
