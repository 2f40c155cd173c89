//! Creating a ticket inside its filing transaction: its number and key,
//! the customer, products, watchers, unrecognised values, attachments,
//! and the mail the planner decides on.

use super::conversation::NewEvent;
use super::replies::CreatedTicket;
use super::sql::{self, WriteTx};
use super::{Backend, Store, StoreError, now, tracking_token};
use crate::config::{DEFAULT_QUEUE, RouteFacts};
use crate::intake::{Attachment, MessageFacts, NewTicket};
use crate::model::{TicketKey, TicketStatus, WebhookEvent};

/// How a new ticket is being filed.
pub(super) struct Filing<'a> {
    /// The received message it comes from.
    pub inbound_id: i64,
    /// The source's name, for `[[routes]]` `mailbox`.
    pub mailbox: Option<&'a str>,
    /// `open`, or `held`.
    pub status: TicketStatus,
    /// The old ticket it continues.
    pub follows: Option<i64>,
}

/// At most this many rows in one multi-row insert (4 arguments each at
/// most; SQLite allows 32,766 in a statement).
const ROWS_PER_INSERT: usize = 500;

/// The values of a new ticket's row.
struct NewTicketRow<'a> {
    token: &'a str,
    ticket: &'a NewTicket,
    language: Option<&'a str>,
    at: &'a str,
    status: TicketStatus,
    follows: Option<i64>,
    queue: Option<&'a str>,
    assignee: Option<&'a str>,
    /// The received message it comes from, linked to it.
    inbound_id: i64,
}

/// A customer first seen without a name or language gets them later.
const UPSERT_CUSTOMER: &str = "INSERT INTO customers (email, name, language, created_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (email) DO UPDATE SET name = COALESCE(customers.name, excluded.name),
         language = COALESCE(customers.language, excluded.language)
     RETURNING id, language";

impl Store {
    /// The ticket's row on SQLite: the customer, the number, the row and
    /// its message's link, one statement each (a statement costs
    /// microseconds there). Its id, number and the customer's language.
    async fn insert_ticket_in_steps(
        &self,
        tx: &mut WriteTx,
        row: &NewTicketRow<'_>,
    ) -> Result<(i64, i64, Option<String>), StoreError> {
        let ticket = row.ticket;
        let customer = sql::query(UPSERT_CUSTOMER)
            .bind(&ticket.reporter.email)
            .bind(ticket.reporter.name.as_deref())
            .bind(row.language)
            .bind(row.at)
            .fetch_one(&mut *tx)
            .await?;
        let customer_language: Option<String> = customer.try_get(1)?;
        let customer_id: i64 = customer.try_get(0)?;
        let number: i64 = sql::query(
            "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number' RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let key =
            TicketKey::new(&self.key_prefix, u64::try_from(number).unwrap_or_default()).to_string();
        let ticket_id: i64 = sql::query(
            "INSERT INTO tickets (key, number, tracking_token, status, summary, description, severity,
                 request_type, customer_id, reporter_email, reporter_name, reply_to, language,
                 created_at, updated_at, follows_ticket_id, queue, assignee)
             VALUES ($1, $2, $3, $14, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $15, $16, $17)
             RETURNING id",
        )
        .bind(&key)
        .bind(number)
        .bind(row.token)
        .bind(&ticket.summary)
        .bind(&ticket.description)
        .bind(&ticket.severity)
        .bind(&ticket.request_type)
        .bind(customer_id)
        .bind(&ticket.reporter.email)
        .bind(ticket.reporter.name.as_deref())
        .bind(ticket.reply_to.as_ref().map(|p| p.email.as_str()))
        .bind(row.language)
        .bind(row.at)
        .bind(row.status.as_str())
        .bind(row.follows)
        .bind(row.queue)
        .bind(row.assignee)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        Self::link_inbound(tx, row.inbound_id, ticket_id).await?;
        Ok((ticket_id, number, customer_language))
    }

    /// The same on PostgreSQL in one statement, where each statement is a
    /// round trip to the server: four of them were a third of a new
    /// ticket's. The key is made as `TicketKey` writes it (`PREFIX-N`).
    async fn insert_ticket_at_once(
        &self,
        tx: &mut WriteTx,
        row: &NewTicketRow<'_>,
    ) -> Result<(i64, i64, Option<String>), StoreError> {
        let ticket = row.ticket;
        let inserted = sql::query(format!(
            "WITH customer AS ({UPSERT_CUSTOMER}),
             numbered AS (SELECT nextval('ticket_number') AS number),
             ticket AS (
                 INSERT INTO tickets (key, number, tracking_token, status, summary, description,
                     severity, request_type, customer_id, reporter_email, reporter_name, reply_to,
                     language, created_at, updated_at, follows_ticket_id, queue, assignee)
                 SELECT $5 || '-' || numbered.number, numbered.number, $6, $7, $8, $9, $10, $11,
                     customer.id, $1, $2, $12, $3, $4, $4, $13, $14, $15
                 FROM customer, numbered
                 RETURNING id, number
             ),
             linked AS (
                 UPDATE inbound_messages SET ticket_id = (SELECT id FROM ticket) WHERE id = $16
             )
             SELECT ticket.id, ticket.number, customer.language FROM ticket, customer"
        ))
        .bind(&ticket.reporter.email)
        .bind(ticket.reporter.name.as_deref())
        .bind(row.language)
        .bind(row.at)
        .bind(self.key_prefix.as_str())
        .bind(row.token)
        .bind(row.status.as_str())
        .bind(&ticket.summary)
        .bind(&ticket.description)
        .bind(&ticket.severity)
        .bind(&ticket.request_type)
        .bind(ticket.reply_to.as_ref().map(|p| p.email.as_str()))
        .bind(row.follows)
        .bind(row.queue)
        .bind(row.assignee)
        .bind(row.inbound_id)
        .fetch_one(tx)
        .await?;
        Ok((
            inserted.try_get(0)?,
            inserted.try_get(1)?,
            inserted.try_get(2)?,
        ))
    }

    pub(super) async fn create_ticket(
        &self,
        tx: &mut WriteTx,
        ticket: &NewTicket,
        message: &MessageFacts,
        filing: Filing<'_>,
    ) -> Result<String, StoreError> {
        let Filing {
            inbound_id,
            mailbox,
            status,
            follows,
        } = filing;
        let route = self.routes.pick(&RouteFacts {
            products: &ticket.products,
            request_type: &ticket.request_type,
            severity: &ticket.severity,
            mailbox,
            recipients: &message.recipients,
        });
        let queue = route.map(|r| r.name.as_str());
        let assignee = route.and_then(|r| r.assignee.as_deref());
        let at = now();
        let token = tracking_token();
        let language = ticket.language.map(crate::model::Language::as_str);
        let row = NewTicketRow {
            token: &token,
            ticket,
            language,
            at: &at,
            status,
            follows,
            queue,
            assignee,
            inbound_id,
        };
        let (ticket_id, number, customer_language) = match self.backend {
            Backend::Sqlite => self.insert_ticket_in_steps(tx, &row).await?,
            Backend::Postgres => self.insert_ticket_at_once(tx, &row).await?,
        };
        let key =
            TicketKey::new(&self.key_prefix, u64::try_from(number).unwrap_or_default()).to_string();

        Self::insert_products(tx, ticket_id, &ticket.products).await?;
        // Watchers and unrecognised values in one statement each (on
        // PostgreSQL a statement is a round trip), at most `ROWS_PER_INSERT`
        // rows in one: a message may copy thousands of addresses.
        for watchers in ticket.watchers.chunks(ROWS_PER_INSERT) {
            let text = format!(
                "INSERT INTO ticket_watchers (ticket_id, email, name) VALUES {}
                 ON CONFLICT (ticket_id, email) DO NOTHING",
                sql::value_rows(watchers.len(), 3)
            );
            let mut query = sql::query(&text);
            for watcher in watchers {
                query = (query.bind(ticket_id))
                    .bind(&watcher.email)
                    .bind(watcher.name.as_deref());
            }
            query.execute(&mut *tx).await?;
        }
        for values in ticket.unrecognized.chunks(ROWS_PER_INSERT) {
            let text = format!(
                "INSERT INTO ticket_unrecognized (ticket_id, field, value, source) VALUES {}",
                sql::value_rows(values.len(), 4)
            );
            let mut query = sql::query(&text);
            for u in values {
                query = (query.bind(ticket_id))
                    .bind(u.field.as_str())
                    .bind(&u.value)
                    .bind(u.source.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        for attachment in &ticket.attachments {
            self.add_attachment(tx, ticket_id, None, Some(inbound_id), attachment, &at)
                .await?;
        }
        if let Some(route) = route.filter(|r| r.assignee.is_some()) {
            let detail = format!("route {}", route.name);
            let event = NewEvent {
                ticket_id,
                kind: "assignee",
                field: Some("assignee"),
                old: None,
                new: assignee,
                detail: Some(&detail),
                actor: "mailgate",
                public: false,
            };
            Self::record_event(tx, &event).await?;
        }
        self.queue_webhooks(
            tx,
            ticket_id,
            WebhookEvent::TicketCreated,
            serde_json::json!({"description": ticket.description}),
        )
        .await?;
        if assignee.is_some() {
            self.assignment_webhook(tx, ticket_id, None, assignee, "mailgate")
                .await?;
        }
        if let Some(planner) = &self.replies {
            let created = CreatedTicket {
                key: &key,
                tracking_token: &token,
                status,
                ticket,
                message,
                customer_language: customer_language
                    .as_deref()
                    .and_then(crate::model::Language::parse),
                queue: queue.unwrap_or(DEFAULT_QUEUE),
                team_address: self.queue_team_address(queue),
                assignee,
            };
            let mails = planner.plan(&created);
            self.enqueue_planned(tx, Some(ticket_id), mails).await?;
        }
        Ok(key)
    }

    /// Records which ticket a received message went to.
    pub(super) async fn link_inbound(
        tx: &mut WriteTx,
        inbound_id: i64,
        ticket_id: i64,
    ) -> Result<(), StoreError> {
        sql::query("UPDATE inbound_messages SET ticket_id = $1 WHERE id = $2")
            .bind(ticket_id)
            .bind(inbound_id)
            .execute(tx)
            .await?;
        Ok(())
    }

    pub(super) async fn add_attachment(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        comment_id: Option<i64>,
        inbound_id: Option<i64>,
        attachment: &Attachment,
        at: &str,
    ) -> Result<(), StoreError> {
        if !self.take_stored_ahead(&attachment.sha256) {
            Self::put_attachment_content(tx, attachment, inbound_id).await?;
        }
        sql::query(
            "INSERT INTO attachments (ticket_id, comment_id, inbound_message_id, filename, content_type,
                 size, sha256, content_id, inline, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(ticket_id)
        .bind(comment_id)
        .bind(inbound_id)
        .bind(&attachment.filename)
        .bind(&attachment.content_type)
        .bind(attachment.size as i64)
        .bind(&attachment.sha256)
        .bind(attachment.content_id.as_deref())
        .bind(i64::from(attachment.inline))
        .bind(at)
        .execute(tx)
        .await?;
        Ok(())
    }

    /// A ticket's products, in their order (the ticket has none yet).
    pub(super) async fn insert_products(
        tx: &mut WriteTx,
        ticket_id: i64,
        products: &[String],
    ) -> Result<(), StoreError> {
        for (position, product) in products.iter().enumerate() {
            sql::query(
                "INSERT INTO ticket_products (ticket_id, position, product) VALUES ($1, $2, $3)",
            )
            .bind(ticket_id)
            .bind(position as i64)
            .bind(product)
            .execute(tx)
            .await?;
        }
        Ok(())
    }
}
