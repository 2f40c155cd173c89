//! Received messages for operators (`mailgate messages`): listing, one
//! message with its retry history, filing a quarantined (rejected) message
//! again, and a store whose mail is kept but not sent (`mailgate import`).

use std::sync::Arc;

use super::sql;

use super::{
    ConversationEvent, CreatedTicket, Filed, OutgoingMail, ReplyPlanner, Store, StoreError,
    ThreadContext, now,
};
use crate::intake::{Decision, MessageFacts, NewTicket};

/// One received message as `mailgate messages` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: i64,
    pub received_at: String,
    pub source: String,
    pub mailbox: Option<String>,
    pub message_id: Option<String>,
    pub size: i64,
    pub outcome: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub ticket: Option<String>,
    pub duplicate_of: Option<i64>,
    /// When it was last filed again (`messages retry`).
    pub retried_at: Option<String>,
}

/// One retry of a message: what it was, what it became.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct RetryRecord {
    pub retried_at: String,
    pub old_outcome: String,
    pub old_reason: Option<String>,
    pub old_detail: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub ticket: Option<String>,
}

/// What [`Store::refile`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Filed again; `was` is the reason it had been rejected for.
    Refiled { filed: Filed, was: Option<String> },
    /// The message is not (or no longer) rejected: an earlier or concurrent
    /// retry filed it, or it never was quarantined. Nothing was written.
    NotQuarantined {
        outcome: String,
        ticket: Option<String>,
    },
}

const MESSAGE_ROWS: &str = "SELECT m.id, m.received_at, m.source, m.mailbox, m.message_id, m.size,
        m.outcome, m.reason, m.detail, t.key AS ticket, m.duplicate_of, m.retried_at
     FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id";

impl Store {
    /// Received messages, newest first, optionally of one outcome and at
    /// most `limit` of them.
    pub async fn messages(
        &self,
        outcome: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        Ok(sqlx::query_as::<_, MessageRecord>(&format!(
            "{MESSAGE_ROWS} WHERE ($1 IS NULL OR m.outcome = $1) ORDER BY m.id DESC LIMIT $2"
        ))
        .bind(outcome)
        .bind(limit.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?)
    }

    /// One received message.
    pub async fn message(&self, id: i64) -> Result<MessageRecord, StoreError> {
        sqlx::query_as::<_, MessageRecord>(&format!("{MESSAGE_ROWS} WHERE m.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no message {id}")))
    }

    /// The retries of a message, oldest first.
    pub async fn message_retries(&self, id: i64) -> Result<Vec<RetryRecord>, StoreError> {
        Ok(sqlx::query_as::<_, RetryRecord>(
            "SELECT r.retried_at, r.old_outcome, r.old_reason, r.old_detail, r.outcome, r.reason,
                    t.key AS ticket
             FROM inbound_retries r LEFT JOIN tickets t ON t.id = r.ticket_id
             WHERE r.inbound_message_id = $1 ORDER BY r.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Files a rejected message again with a new decision, in one
    /// transaction, on its own inbound row: the row takes the new outcome
    /// (and its ticket), and the retry is recorded in `inbound_retries`.
    ///
    /// Duplicate detection is not applied: the row is the message's own
    /// first copy (a rejected message was not a duplicate, and later copies
    /// point at it). The filing itself is `file_message`'s: threading, the
    /// sender policy, tickets, comments and their mail.
    ///
    /// Exactly once: the row is claimed with `UPDATE … WHERE outcome =
    /// 'rejected'` first, which holds its lock (PostgreSQL) or the write
    /// lock (SQLite) until commit; a concurrent retry then finds it filed
    /// and gets [`Retry::NotQuarantined`].
    pub async fn refile(&self, inbound_id: i64, decision: &Decision) -> Result<Retry, StoreError> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let claimed = sql::query(
            "UPDATE inbound_messages SET retried_at = $2 WHERE id = $1 AND outcome = 'rejected'
             RETURNING reason, detail",
        )
        .bind(inbound_id)
        .bind(&at)
        .fetch_optional(&mut tx)
        .await?;
        let Some(claimed) = claimed else {
            let row = sql::query(
                "SELECT m.outcome, t.key FROM inbound_messages m
                 LEFT JOIN tickets t ON t.id = m.ticket_id WHERE m.id = $1",
            )
            .bind(inbound_id)
            .fetch_optional(&mut tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no message {inbound_id}")))?;
            return Ok(Retry::NotQuarantined {
                outcome: row.try_get(0)?,
                ticket: row.try_get(1)?,
            });
        };
        let old_reason: Option<String> = claimed.try_get(0)?;
        let old_detail: Option<String> = claimed.try_get(1)?;

        let plan = self.plan_filing(&mut tx, decision).await?;
        let (outcome, reason, detail) = plan.outcome();
        let (reason, detail) = (reason.map(str::to_owned), detail.map(str::to_owned));
        // A message rejected unread (too large) had no Message-ID recorded:
        // with it, replies thread to its ticket and copies are recognised.
        sql::query(
            "UPDATE inbound_messages SET outcome = $2, reason = $3, detail = $4,
                 message_id = COALESCE(message_id, $5)
             WHERE id = $1",
        )
        .bind(inbound_id)
        .bind(outcome)
        .bind(reason.as_deref())
        .bind(detail.as_deref())
        .bind(decision.message.message_id.as_ref().map(|m| m.as_str()))
        .execute(&mut tx)
        .await?;
        let filed = self.carry_out(&mut tx, plan, inbound_id, decision).await?;
        sql::query(
            "INSERT INTO inbound_retries (inbound_message_id, old_outcome, old_reason, old_detail,
                 outcome, reason, ticket_id, retried_at)
             SELECT id, 'rejected', $2, $3, outcome, reason, ticket_id, $4
             FROM inbound_messages WHERE id = $1",
        )
        .bind(inbound_id)
        .bind(old_reason.as_deref())
        .bind(old_detail.as_deref())
        .bind(&at)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(Retry::Refiled {
            filed,
            was: old_reason,
        })
    }

    /// The same store, with every mail its filing plans kept in the outbox
    /// as `suppressed` with this reason instead of being sent (mail already
    /// suppressed keeps its own reason). For importing old mail: the
    /// record shows what would have been sent, nobody is mailed again.
    pub fn with_replies_suppressed(mut self, reason: &str) -> Self {
        if let Some(inner) = self.replies.take() {
            self.replies = Some(Arc::new(Suppressing {
                inner,
                reason: reason.to_owned(),
            }));
        }
        self
    }
}

/// A planner whose every mail is suppressed.
struct Suppressing {
    inner: Arc<dyn ReplyPlanner>,
    reason: String,
}

impl Suppressing {
    fn mark(&self, mut mail: OutgoingMail) -> OutgoingMail {
        mail.suppressed.get_or_insert_with(|| self.reason.clone());
        mail
    }
}

impl ReplyPlanner for Suppressing {
    fn plan(&self, created: &CreatedTicket<'_>) -> Vec<OutgoingMail> {
        let mails = self.inner.plan(created);
        mails.into_iter().map(|m| self.mark(m)).collect()
    }

    fn unregistered(&self, ticket: &NewTicket, message: &MessageFacts) -> Option<OutgoingMail> {
        self.inner
            .unregistered(ticket, message)
            .map(|m| self.mark(m))
    }

    fn conversation(
        &self,
        ticket: &ThreadContext,
        event: &ConversationEvent<'_>,
    ) -> Vec<OutgoingMail> {
        let mails = self.inner.conversation(ticket, event);
        mails.into_iter().map(|m| self.mark(m)).collect()
    }
}
