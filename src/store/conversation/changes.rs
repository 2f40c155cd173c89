//! Changes to a ticket's fields and status, each recorded in its history
//! (`ticket_events`).

use crate::intake::Field;
use crate::model::{TicketStatus, WebhookEvent};
use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError, now};

use super::FieldChange;

/// An entry to add to a ticket's history (`ticket_events`).
pub(in crate::store) struct NewEvent<'a> {
    pub ticket_id: i64,
    /// `status`, `field`, `delivery-failure`, `follow-up`, `assignee`,
    /// `watcher`.
    pub kind: &'a str,
    /// The field changed, for `status` and `field`.
    pub field: Option<&'a str>,
    pub old: Option<&'a str>,
    pub new: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// Who did it: an address, or `mailgate`.
    pub actor: &'a str,
    /// Whether the customer sees it on the tracking page.
    pub public: bool,
}

impl Store {
    /// Sets the fields given that differ from the ticket's, recording each
    /// change.
    pub(super) async fn apply_field_changes(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        fields: &crate::intake::StatedFields,
        actor: &str,
    ) -> Result<Vec<FieldChange>, StoreError> {
        let current = sql::query("SELECT severity, request_type FROM tickets WHERE id = $1")
            .bind(ticket_id)
            .fetch_one(tx)
            .await?;
        let severity: String = current.try_get(0)?;
        let request_type: String = current.try_get(1)?;
        let products = self.products(tx, ticket_id).await?;
        let mut changes = Vec::new();
        let at = now();
        let single = [
            (Field::Severity, severity, &fields.severity),
            (Field::RequestType, request_type, &fields.request_type),
        ];
        for (field, old, new) in single {
            let Some(new) = new.as_ref().filter(|n| **n != old) else {
                continue;
            };
            let sql = match field {
                Field::Severity => {
                    "UPDATE tickets SET severity = $2, updated_at = $3 WHERE id = $1"
                }
                _ => "UPDATE tickets SET request_type = $2, updated_at = $3 WHERE id = $1",
            };
            sql::query(sql)
                .bind(ticket_id)
                .bind(new)
                .bind(&at)
                .execute(tx)
                .await?;
            changes.push(FieldChange {
                field,
                old,
                new: new.clone(),
            });
        }
        if let Some(new) = fields.products.as_ref().filter(|p| **p != products) {
            sql::query("DELETE FROM ticket_products WHERE ticket_id = $1")
                .bind(ticket_id)
                .execute(tx)
                .await?;
            Self::insert_products(tx, ticket_id, new).await?;
            changes.push(FieldChange {
                field: Field::Products,
                old: products.join(", "),
                new: new.join(", "),
            });
        }
        for change in &changes {
            let event = NewEvent {
                ticket_id,
                kind: "field",
                field: Some(change.field.as_str()),
                old: Some(&change.old),
                new: Some(&change.new),
                detail: None,
                actor,
                public: true,
            };
            Self::record_event(tx, &event).await?;
        }
        Ok(changes)
    }

    pub(super) async fn products(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
    ) -> Result<Vec<String>, StoreError> {
        sql::query("SELECT product FROM ticket_products WHERE ticket_id = $1 ORDER BY position")
            .bind(ticket_id)
            .fetch_all(tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect()
    }

    pub(super) async fn change_status(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        from: TicketStatus,
        to: TicketStatus,
        actor: &str,
    ) -> Result<(), StoreError> {
        let at = now();
        sql::query(
            "UPDATE tickets SET status = $2, status_changed_at = $3, updated_at = $3 WHERE id = $1",
        )
        .bind(ticket_id)
        .bind(to.as_str())
        .bind(&at)
        .execute(tx)
        .await?;
        let event = NewEvent {
            ticket_id,
            kind: "status",
            field: Some("status"),
            old: Some(from.as_str()),
            new: Some(to.as_str()),
            detail: None,
            actor,
            public: true,
        };
        Self::record_event(tx, &event).await?;
        self.status_webhook(tx, ticket_id, from, to, actor).await
    }

    /// `status.changed` for the webhooks.
    pub(in crate::store) async fn status_webhook(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        from: TicketStatus,
        to: TicketStatus,
        actor: &str,
    ) -> Result<(), StoreError> {
        let details = serde_json::json!({"from": from.as_str(), "to": to.as_str(), "actor": actor});
        self.queue_webhooks(tx, ticket_id, WebhookEvent::StatusChanged, details)
            .await
    }

    /// Adds an entry to a ticket's history.
    pub(in crate::store) async fn record_event(
        tx: &mut WriteTx,
        event: &NewEvent<'_>,
    ) -> Result<(), StoreError> {
        Self::record_event_at(tx, event, &now()).await
    }

    /// Adds an entry to a ticket's history, dated `at` (stored form).
    pub(in crate::store) async fn record_event_at(
        tx: &mut WriteTx,
        event: &NewEvent<'_>,
        at: &str,
    ) -> Result<(), StoreError> {
        sql::query(
            "INSERT INTO ticket_events (ticket_id, kind, field, old_value, new_value, detail, actor, public, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(event.ticket_id)
        .bind(event.kind)
        .bind(event.field)
        .bind(event.old)
        .bind(event.new)
        .bind(event.detail)
        .bind(event.actor)
        .bind(i64::from(event.public))
        .bind(at)
        .execute(tx)
        .await?;
        Ok(())
    }
}
