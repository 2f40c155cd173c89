//! Filing a quarantined (rejected) message again with a new decision, on
//! its own inbound row, exactly once.

use super::sql;
use super::{Filed, Store, StoreError, now};
use crate::intake::Decision;

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

impl Store {
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
             RETURNING reason, detail, mailbox",
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
        let mailbox: Option<String> = claimed.try_get(2)?;

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
        .bind(outcome.as_str())
        .bind(reason.as_deref())
        .bind(detail.as_deref())
        .bind(
            decision
                .message
                .message_id
                .as_ref()
                .map(super::super::intake::message_id::MessageId::as_str),
        )
        .execute(&mut tx)
        .await?;
        let filed = self
            .carry_out(
                &mut tx,
                plan,
                inbound_id,
                mailbox.as_deref(),
                decision,
                None,
            )
            .await?;
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
}
