//! Merging: two tickets about one problem become one. The source's
//! request, comments, attachments, watchers and received messages move to
//! the target; the source turns `merged` and points to it, so that mail
//! which later threads to the source is filed on the target; its customer
//! is told once, by one mail.

use crate::model::{TicketStatus, WebhookEvent};
use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError, now};

use super::ConversationEvent;
use super::changes::NewEvent;

/// A merge's outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Merged {
    pub source: String,
    pub target: String,
    /// Comments moved, the source's own request counted.
    pub comments: usize,
    pub attachments: usize,
    /// People who now watch the target (the source's reporter among them).
    pub watchers_added: usize,
    pub messages: usize,
    /// Mails queued: the one telling the source's customer.
    pub mails: usize,
}

/// How far a chain of merges is followed. A merge refuses a merged target,
/// so chains are one link long unless a database was edited by hand.
pub(super) const MERGE_HOPS: usize = 8;

impl Store {
    /// Merges `source` into `target` (ticket keys), as `actor`.
    pub async fn merge_tickets(
        &self,
        source: &str,
        target: &str,
        actor: &str,
    ) -> Result<Merged, StoreError> {
        let mut tx = self.begin_write().await?;
        let (source_id, source_key, source_status) = self.ticket_by_key(&mut tx, source).await?;
        let (target_id, target_key, target_status) = self.ticket_by_key(&mut tx, target).await?;
        if source_id == target_id {
            return Err(StoreError::Invalid(format!(
                "{source_key} cannot be merged into itself"
            )));
        }
        for (key, status) in [(&source_key, source_status), (&target_key, target_status)] {
            if status == TicketStatus::Merged {
                let into = self.merged_into_key(&mut tx, key).await?;
                return Err(StoreError::Invalid(format!(
                    "{key} was already merged into {into}"
                )));
            }
        }
        let at = now();
        // The source's status changes first, so that the mail telling its
        // customer says it, and while its watchers are still its own.
        sql::query(
            "UPDATE tickets SET status = 'merged', merged_into = $2, status_changed_at = $3,
                 updated_at = $3 WHERE id = $1",
        )
        .bind(source_id)
        .bind(target_id)
        .bind(&at)
        .execute(&mut tx)
        .await?;
        let target_context = self.thread_context(&mut tx, target_id).await?;
        let event = ConversationEvent::Merged {
            into: &target_context,
        };
        let mails = self
            .plan_conversation_counted(&mut tx, source_id, &event)
            .await?;

        // The source's request becomes one more comment on the target.
        self.move_request(&mut tx, source_id, target_id).await?;
        let comments = 1 + sql::query("UPDATE comments SET ticket_id = $2 WHERE ticket_id = $1")
            .bind(source_id)
            .bind(target_id)
            .execute(&mut tx)
            .await?;
        let attachments = sql::query("UPDATE attachments SET ticket_id = $2 WHERE ticket_id = $1")
            .bind(source_id)
            .bind(target_id)
            .execute(&mut tx)
            .await?;
        let messages =
            sql::query("UPDATE inbound_messages SET ticket_id = $2 WHERE ticket_id = $1")
                .bind(source_id)
                .bind(target_id)
                .execute(&mut tx)
                .await?;
        let watchers_added = self.move_watchers(&mut tx, source_id, target_id).await?;
        sql::query("UPDATE tickets SET updated_at = $2 WHERE id = $1")
            .bind(target_id)
            .bind(&at)
            .execute(&mut tx)
            .await?;

        for (ticket_id, kind, old, new) in [
            (
                source_id,
                "merged",
                Some(source_status.as_str()),
                target_key.as_str(),
            ),
            (target_id, "merged-from", None, source_key.as_str()),
        ] {
            let event = NewEvent {
                ticket_id,
                kind,
                field: None,
                old,
                new: Some(new),
                detail: None,
                actor,
                public: true,
            };
            Self::record_event(&mut tx, &event).await?;
        }
        let details = serde_json::json!({
            "into": target_key,
            "previous_status": source_status.as_str(),
            "actor": actor,
        });
        self.queue_webhooks(&mut tx, source_id, WebhookEvent::TicketMerged, details)
            .await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Ok(Merged {
            source: source_key,
            target: target_key,
            comments: count(comments),
            attachments: count(attachments),
            watchers_added,
            messages: count(messages),
            mails,
        })
    }

    /// The key of the ticket a merged one was merged into.
    pub(in crate::store) async fn merged_into_key(
        &self,
        tx: &mut WriteTx,
        key: &str,
    ) -> Result<String, StoreError> {
        let row = sql::query(
            "SELECT t.key FROM tickets s JOIN tickets t ON t.id = s.merged_into WHERE s.key = $1",
        )
        .bind(key)
        .fetch_optional(tx)
        .await?;
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => "another ticket".to_owned(),
        })
    }

    /// The source's own request (its summary and description, with the
    /// files that came with it) becomes a public comment on the target, by
    /// its reporter and dated when it was written, so that the target's
    /// thread tells the whole story.
    async fn move_request(
        &self,
        tx: &mut WriteTx,
        source_id: i64,
        target_id: i64,
    ) -> Result<(), StoreError> {
        let row = sql::query(
            "SELECT key, summary, description, reporter_email, reporter_name, created_at,
                    (SELECT MIN(id) FROM inbound_messages WHERE ticket_id = tickets.id)
             FROM tickets WHERE id = $1",
        )
        .bind(source_id)
        .fetch_one(&mut *tx)
        .await?;
        let key: String = row.try_get(0)?;
        let summary: String = row.try_get(1)?;
        let description: String = row.try_get(2)?;
        let body = format!("[{key}] {summary}\n\n{description}");
        let created_at: String = row.try_get(5)?;
        let comment_id: i64 = sql::query(
            "INSERT INTO comments (ticket_id, inbound_message_id, author_email, author_name, body,
                 visibility, author_role, created_at)
             VALUES ($1, $2, $3, $4, $5, 'public', 'customer', $6) RETURNING id",
        )
        .bind(target_id)
        .bind(row.try_get::<Option<i64>>(6)?)
        .bind(row.try_get::<String>(3)?)
        .bind(row.try_get::<Option<String>>(4)?)
        .bind(&body)
        .bind(&created_at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        sql::query(
            "UPDATE attachments SET comment_id = $2 WHERE ticket_id = $1 AND comment_id IS NULL",
        )
        .bind(source_id)
        .bind(comment_id)
        .execute(tx)
        .await?;
        Ok(())
    }

    /// The source's watchers, and its reporter, watch the target (unless
    /// they report it already). Returns how many were added.
    async fn move_watchers(
        &self,
        tx: &mut WriteTx,
        source_id: i64,
        target_id: i64,
    ) -> Result<usize, StoreError> {
        let rows = sql::query(
            "SELECT email, name FROM ticket_watchers WHERE ticket_id = $1
             UNION ALL
             SELECT reporter_email, reporter_name FROM tickets WHERE id = $1",
        )
        .bind(source_id)
        .fetch_all(&mut *tx)
        .await?;
        let target_reporter: String =
            sql::query("SELECT reporter_email FROM tickets WHERE id = $1")
                .bind(target_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        let mut added = 0;
        for row in rows {
            let email: String = row.try_get(0)?;
            if email.eq_ignore_ascii_case(&target_reporter) {
                continue;
            }
            added += sql::query(
                "INSERT INTO ticket_watchers (ticket_id, email, name) VALUES ($1, $2, $3)
                 ON CONFLICT (ticket_id, email) DO NOTHING",
            )
            .bind(target_id)
            .bind(&email)
            .bind(row.try_get::<Option<String>>(1)?)
            .execute(&mut *tx)
            .await?;
        }
        sql::query("DELETE FROM ticket_watchers WHERE ticket_id = $1")
            .bind(source_id)
            .execute(tx)
            .await?;
        Ok(usize::try_from(added).unwrap_or(usize::MAX))
    }

    /// The ticket mail to `ticket_id` belongs on: itself, or the one it was
    /// merged into, following the chain.
    pub(in crate::store) async fn merge_target(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
    ) -> Result<i64, StoreError> {
        let mut id = ticket_id;
        for _ in 0..MERGE_HOPS {
            let next: Option<i64> = sql::query("SELECT merged_into FROM tickets WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            match next {
                Some(next) => id = next,
                None => break,
            }
        }
        Ok(id)
    }
}
