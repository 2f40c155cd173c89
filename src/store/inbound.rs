//! Received messages as operators read them (`mailgate messages`): the
//! list, one message with its retries, and its raw bytes.

use sqlx::Row;

use super::{RawRemoved, Store, StoreError};
use crate::model::InboundOutcome;

/// One received message as `mailgate messages` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: i64,
    pub received_at: String,
    pub source: String,
    pub mailbox: Option<String>,
    pub message_id: Option<String>,
    pub size: i64,
    #[sqlx(try_from = "String")]
    pub outcome: InboundOutcome,
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub ticket: Option<String>,
    pub duplicate_of: Option<i64>,
    /// When it was last filed again (`messages retry`).
    pub retried_at: Option<String>,
    /// When retention removed its raw bytes (`retention.raw_messages`).
    pub raw_removed_at: Option<String>,
}

/// One retry of a message: what it was, what it became.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct RetryRecord {
    pub retried_at: String,
    #[sqlx(try_from = "String")]
    pub old_outcome: InboundOutcome,
    pub old_reason: Option<String>,
    pub old_detail: Option<String>,
    #[sqlx(try_from = "String")]
    pub outcome: InboundOutcome,
    pub reason: Option<String>,
    pub ticket: Option<String>,
}

const MESSAGE_ROWS: &str = "SELECT m.id, m.received_at, m.source, m.mailbox, m.message_id, m.size,
        m.outcome, m.reason, m.detail, t.key AS ticket, m.duplicate_of, m.retried_at,
        m.raw_removed_at
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

    /// Quarantined messages, oldest first, a page at a time: the ids after
    /// `after` and at most `upto`, at most `limit` of them (`messages
    /// retry --all-quarantined` walks them without holding them all).
    pub async fn quarantined_ids(
        &self,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT id FROM inbound_messages WHERE outcome = $1 AND id > $2 AND id <= $3
             ORDER BY id LIMIT $4",
        )
        .bind(crate::model::InboundOutcome::Rejected.as_str())
        .bind(after)
        .bind(upto)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The newest received message's id (0 when there is none).
    pub async fn newest_message_id(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM inbound_messages",
        )
        .fetch_one(&self.pool)
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

    /// Received messages, newest first, optionally of one outcome.
    pub async fn list_inbound(
        &self,
        outcome: Option<&str>,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        // The same rows as `mailgate messages`, without a limit.
        self.messages(outcome, None).await
    }

    /// The raw bytes of a received message; [`StoreError::Invalid`] saying
    /// so when retention removed them.
    pub async fn inbound_raw(&self, id: i64) -> Result<Vec<u8>, StoreError> {
        let row =
            sqlx::query("SELECT raw_sha256, raw_removed_at FROM inbound_messages WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("no message {id}")))?;
        if let Some(at) = row.try_get::<Option<String>, _>(1)? {
            return Err(StoreError::Invalid(RawRemoved { id, at }.to_string()));
        }
        let sha: String = row.try_get(0)?;
        self.blob(&sha).await
    }
}
