//! The mail a conversation sends: the planner is asked with everything
//! mail about the ticket needs (its thread of Message-IDs included), and
//! what it decides is queued.

use crate::config::DEFAULT_QUEUE;
use crate::intake::Person;
use crate::store::sql::{self, WriteTx};
use crate::store::{OutgoingMail, Store, StoreError};

use super::{ConversationEvent, ThreadContext};

impl Store {
    pub(super) async fn plan_conversation(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        event: &ConversationEvent<'_>,
    ) -> Result<(), StoreError> {
        self.plan_conversation_counted(tx, ticket_id, event)
            .await
            .map(|_| ())
    }

    /// Asks the planner for the mail an event sends and queues it.
    pub(in crate::store) async fn plan_conversation_counted(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        event: &ConversationEvent<'_>,
    ) -> Result<usize, StoreError> {
        let Some(planner) = self.replies.clone() else {
            return Ok(0);
        };
        let context = self.thread_context(tx, ticket_id).await?;
        let mails: Vec<OutgoingMail> = planner.conversation(&context, event);
        self.enqueue_planned(tx, Some(ticket_id), mails).await
    }

    /// Everything mail about a ticket needs.
    pub(super) async fn thread_context(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
    ) -> Result<ThreadContext, StoreError> {
        let row = sql::query(
            "SELECT t.key, t.tracking_token, t.summary, t.status, t.severity, t.request_type,
                    t.reporter_email, t.reporter_name, COALESCE(c.language, t.language),
                    t.queue, t.assignee
             FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.id = $1",
        )
        .bind(ticket_id)
        .fetch_one(tx)
        .await?;
        let watchers =
            sql::query("SELECT email FROM ticket_watchers WHERE ticket_id = $1 ORDER BY email")
                .bind(ticket_id)
                .fetch_all(tx)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<Vec<String>, _>>()?;
        let products = self.products(tx, ticket_id).await?;
        // The thread: every message in and out, in order of time.
        let messages = sql::query(
            "SELECT message_id, received_at AS at, 'in' AS direction FROM inbound_messages
               WHERE ticket_id = $1 AND message_id IS NOT NULL AND duplicate_of IS NULL
             UNION ALL
             SELECT message_id, created_at AS at, 'out' AS direction FROM outbox
               WHERE ticket_id = $1 AND kind IN ('confirmation', 'reply', 'status')
             ORDER BY at",
        )
        .bind(ticket_id)
        .fetch_all(tx)
        .await?;
        let mut references = Vec::new();
        let mut last_customer_message = None;
        for message in &messages {
            let id: String = message.try_get(0)?;
            let direction: String = message.try_get(2)?;
            if direction == "in" {
                last_customer_message = Some(id.clone());
            }
            references.push(id);
        }
        // The root and the latest few: enough for every client to thread,
        // short enough for header limits.
        if references.len() > 10 {
            let tail = references.split_off(references.len() - 9);
            references.truncate(1);
            references.extend(tail);
        }
        let queue: Option<String> = row.try_get(9)?;
        let queue = queue.as_deref();
        Ok(ThreadContext {
            key: row.try_get(0)?,
            tracking_token: row.try_get(1)?,
            summary: row.try_get(2)?,
            status: row.named(3)?,
            severity: row.try_get(4)?,
            request_type: row.try_get(5)?,
            reporter: Person {
                email: row.try_get(6)?,
                name: row.try_get(7)?,
            },
            watchers,
            products,
            language: row
                .try_get::<Option<String>>(8)?
                .as_deref()
                .and_then(crate::model::Language::parse),
            references,
            last_customer_message,
            queue: queue.unwrap_or(DEFAULT_QUEUE).to_owned(),
            team_address: self.queue_team_address(queue).map(str::to_owned),
            assignee: row.try_get(10)?,
        })
    }
}
