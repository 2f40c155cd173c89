//! The team's actions, from the CLI and the API: a public reply, an
//! internal note, a status or field change, an assignment.

use crate::intake::Attachment;
use crate::model::{EmailAddress, TicketKey, TicketStatus, WebhookEvent};
use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError, now};

use super::changes::NewEvent;
use super::comments::{Author, NewComment};
use super::{ActionDone, ConversationEvent, FieldUpdate};

/// The team's actions, from the CLI and the API.
impl Store {
    /// A ticket by its key: id, key as stored, status.
    pub(super) async fn ticket_by_key(
        &self,
        tx: &mut WriteTx,
        key: &str,
    ) -> Result<(i64, String, TicketStatus), StoreError> {
        let parsed = TicketKey::parse(key)
            .ok_or_else(|| StoreError::NotFound(format!("{key:?} is not a ticket key")))?;
        let row = sql::query("SELECT id, key, status FROM tickets WHERE key = $1")
            .bind(parsed.to_string())
            .fetch_optional(tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no ticket {parsed}")))?;
        Ok((row.try_get(0)?, row.try_get(1)?, row.named(2)?))
    }

    /// The ticket a team action is on; a merged one is refused, naming
    /// the ticket to act on instead.
    pub(super) async fn ticket_for_action(
        &self,
        tx: &mut WriteTx,
        key: &str,
    ) -> Result<(i64, String, TicketStatus), StoreError> {
        let (id, key, status) = self.ticket_by_key(tx, key).await?;
        if status == TicketStatus::Merged {
            let into = self.merged_into_key(tx, &key).await?;
            return Err(StoreError::Invalid(format!(
                "{key} was merged into {into}: act on {into}"
            )));
        }
        Ok((id, key, status))
    }

    /// A public reply from the team: a comment, and a mail to the reporter
    /// and watchers, threaded.
    pub async fn team_reply(
        &self,
        key: &str,
        author: &str,
        text: &str,
        attachments: &[Attachment],
    ) -> Result<ActionDone, StoreError> {
        let mut tx = self.begin_write().await?;
        let (id, key, _) = self.ticket_for_action(&mut tx, key).await?;
        let mails = self
            .post_team_reply(
                &mut tx,
                id,
                None,
                Author::address(author),
                text,
                attachments,
            )
            .await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(ActionDone { key, mails })
    }

    /// An internal note: never sent, never shown to the customer.
    pub async fn add_note(
        &self,
        key: &str,
        author: &str,
        text: &str,
    ) -> Result<ActionDone, StoreError> {
        let mut tx = self.begin_write().await?;
        let (id, key, _) = self.ticket_for_action(&mut tx, key).await?;
        let note = NewComment {
            ticket_id: id,
            inbound_id: None,
            author: Author::address(author),
            role: "team",
            visibility: "internal",
            body: text,
            attachments: &[],
            at: &now(),
        };
        self.insert_comment(&mut tx, &note).await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(ActionDone { key, mails: 0 })
    }

    /// Changes a ticket's status (and tells the customer, with the
    /// message when one is given) and fields.
    pub async fn update_ticket(
        &self,
        key: &str,
        actor: &str,
        update: &FieldUpdate,
        message: Option<&str>,
    ) -> Result<ActionDone, StoreError> {
        let new_status = match &update.status {
            Some(status) => Some(
                TicketStatus::SETTABLE
                    .iter()
                    .copied()
                    .find(|s| s.as_str() == status)
                    .ok_or_else(|| {
                        StoreError::Invalid(format!(
                            "status {status:?}: expected one of {}",
                            settable_statuses()
                        ))
                    })?,
            ),
            None => None,
        };
        let mut tx = self.begin_write().await?;
        let (id, key, old_status) = self.ticket_for_action(&mut tx, key).await?;
        let stated = crate::intake::StatedFields {
            severity: update.severity.clone(),
            products: update.products.clone(),
            request_type: update.request_type.clone(),
        };
        self.apply_field_changes(&mut tx, id, &stated, actor)
            .await?;
        let mut mails = 0;
        if let Some(status) = new_status.filter(|s| *s != old_status) {
            self.change_status(&mut tx, id, old_status, status, actor)
                .await?;
            if let Some(text) = message {
                let comment = NewComment {
                    ticket_id: id,
                    inbound_id: None,
                    author: Author::address(actor),
                    role: "team",
                    visibility: "public",
                    body: text,
                    attachments: &[],
                    at: &now(),
                };
                self.insert_comment(&mut tx, &comment).await?;
            }
            let event = ConversationEvent::StatusChanged {
                from: old_status,
                to: status,
                message,
            };
            mails = self.plan_conversation_counted(&mut tx, id, &event).await?;
        }
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(ActionDone { key, mails })
    }
}

/// Assignment.
impl Store {
    /// Gives the ticket to `assignee` (an address; `None`: to nobody),
    /// recording it in the history and telling the new assignee by mail
    /// unless they did it themselves. Giving it to whoever has it already
    /// changes nothing.
    pub async fn assign_ticket(
        &self,
        key: &str,
        actor: &str,
        assignee: Option<&str>,
    ) -> Result<ActionDone, StoreError> {
        let assignee = assignee
            .map(|a| {
                EmailAddress::parse(a)
                    .map(EmailAddress::into_string)
                    .map_err(|e| StoreError::Invalid(format!("assignee {a:?}: {e}")))
            })
            .transpose()?;
        let mut tx = self.begin_write().await?;
        let (id, key, _) = self.ticket_for_action(&mut tx, key).await?;
        let old: Option<String> = sql::query("SELECT assignee FROM tickets WHERE id = $1")
            .bind(id)
            .fetch_one(&mut tx)
            .await?
            .try_get(0)?;
        if old == assignee {
            return Ok(ActionDone { key, mails: 0 });
        }
        sql::query("UPDATE tickets SET assignee = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(assignee.as_deref())
            .bind(now())
            .execute(&mut tx)
            .await?;
        let event = NewEvent {
            ticket_id: id,
            kind: "assignee",
            field: Some("assignee"),
            old: old.as_deref(),
            new: assignee.as_deref(),
            detail: None,
            actor,
            public: false,
        };
        Self::record_event(&mut tx, &event).await?;
        self.assignment_webhook(&mut tx, id, old.as_deref(), assignee.as_deref(), actor)
            .await?;
        let event = ConversationEvent::Assigned {
            assignee: assignee.as_deref(),
            actor,
        };
        let mails = self.plan_conversation_counted(&mut tx, id, &event).await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(ActionDone { key, mails })
    }
}

impl Store {
    /// `ticket.assigned` for the webhooks.
    pub(in crate::store) async fn assignment_webhook(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        previous: Option<&str>,
        assignee: Option<&str>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let details =
            serde_json::json!({"assignee": assignee, "previous": previous, "actor": actor});
        self.queue_webhooks(tx, ticket_id, WebhookEvent::TicketAssigned, details)
            .await
    }
}

/// `open, pending, resolved, closed`: what the team may set, for errors.
fn settable_statuses() -> String {
    TicketStatus::SETTABLE
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
