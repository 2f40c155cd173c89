//! The outbox queue: mail written with what caused it, claimed by the
//! sender workers, and the outcome of every attempt.

use std::time::Duration;

use sqlx::Row;

use super::blobs::BLOB_CHUNK;
use super::sql::{self, Durability, WriteTx};
use super::{Backend, Store, StoreError, now, tracking_token};
use crate::intake::sha256_hex;
use crate::model::OutboxStatus;

/// A message to send, rendered completely before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// `confirmation`, `notification`, …
    pub kind: String,
    /// Without angle brackets.
    pub message_id: String,
    /// Envelope sender and recipients.
    pub sender: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    /// An automatic answer (RFC 3834), subject to the per-sender limit.
    pub automatic: bool,
    /// Why it must not be sent, decided by the planner (kept, not sent).
    pub suppressed: Option<String>,
}

/// A pending outgoing message, as the sender worker sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub message_id: String,
    pub sender: String,
    pub recipients: String,
    pub raw_sha256: String,
    #[sqlx(try_from = "String")]
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub ticket: Option<String>,
    /// When retention removed its body (`retention.outgoing_mail`).
    pub body_removed_at: Option<String>,
}

/// The columns of an [`OutboxRow`], with the ticket's key.
const OUTBOX_ROWS: &str =
    "SELECT o.id, o.kind, o.message_id, o.sender, o.recipients, o.raw_sha256, o.status,
        o.attempts, o.last_error, o.created_at, t.key AS ticket, o.body_removed_at
     FROM outbox o LEFT JOIN tickets t ON t.id = o.ticket_id";

/// Outgoing mail larger than this is looked into for the files it carries
/// (see `enqueue`): confirmations and notifications are smaller.
const LOOK_FOR_FILES_OVER: usize = 16 << 10;

/// Writing the outbox, inside the transaction that decided the mail.
impl Store {
    /// Writes mails to the outbox: their contents (`put_blobs`), then their
    /// rows in one statement (a new ticket queues two mails; on PostgreSQL
    /// every statement is a round trip).
    pub(super) async fn enqueue(
        tx: &mut WriteTx,
        ticket_id: Option<i64>,
        mails: &[OutgoingMail],
        at: &str,
    ) -> Result<(), StoreError> {
        if mails.is_empty() {
            return Ok(());
        }
        let shas: Vec<String> = mails.iter().map(|m| sha256_hex(&m.raw)).collect();
        let contents: Vec<(&str, &[u8])> = (shas.iter().zip(mails))
            .map(|(sha, mail)| (sha.as_str(), &mail.raw[..]))
            .collect();
        Self::put_blobs(tx, &contents).await?;
        for (mail, sha) in mails.iter().zip(&shas) {
            // A team reply carries its files, stored on the ticket already:
            // they are kept as their places in it instead.
            if mail.raw.len() > LOOK_FOR_FILES_OVER {
                for (file, size, place) in crate::intake::parse::files_in_place(&mail.raw) {
                    Self::keep_as_place(tx, &file, size, sha, place).await?;
                }
            }
        }
        let text = format!(
            "INSERT INTO outbox (ticket_id, kind, message_id, sender, recipients, raw_sha256, status,
                 attempts, next_attempt_at, last_error, automatic, created_at)
             VALUES {}",
            sql::value_rows(mails.len(), 12)
        );
        let mut query = sql::query(&text);
        for (mail, sha) in mails.iter().zip(&shas) {
            query = query
                .bind(ticket_id)
                .bind(&mail.kind)
                .bind(&mail.message_id)
                .bind(&mail.sender)
                .bind(mail.recipients.join(","))
                .bind(sha.as_str())
                .bind(if mail.suppressed.is_some() {
                    OutboxStatus::Suppressed.as_str()
                } else {
                    OutboxStatus::Pending.as_str()
                })
                .bind(0i64)
                .bind(at)
                .bind(mail.suppressed.as_deref())
                .bind(i64::from(mail.automatic))
                .bind(at);
        }
        query.execute(&mut *tx).await?;
        let counted = tx.automatic_mail();
        for mail in mails
            .iter()
            .filter(|m| m.automatic && m.suppressed.is_none())
        {
            if let Some(n) = counted.get_mut(&mail.recipients.join(",")) {
                *n += 1;
            }
        }
        Ok(())
    }
}

/// The outbox, for the sender worker.
impl Store {
    /// Every outgoing message, newest first.
    pub async fn list_outbox(&self) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(
            sqlx::query_as::<_, OutboxRow>(&format!("{OUTBOX_ROWS} ORDER BY o.id DESC"))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Mail that was given up on, queued to be sent again now (`mailgate
    /// outbox retry`): the one with `id`, or all of it. How many were.
    /// Its attempts stay counted; a transient failure past the retry period
    /// gives it up again after this one try. Mail whose body retention
    /// removed cannot be sent again and is left as it is.
    pub async fn requeue_failed(&self, id: Option<i64>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $1, claim = NULL,
                 claimed_until = NULL
             WHERE status = 'failed' AND body_removed_at IS NULL AND ($2 IS NULL OR id = $2)",
        )
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// How many outgoing messages are in each status, and when the oldest
    /// pending one was written.
    pub async fn outbox_stats(&self) -> Result<(Vec<(String, i64)>, Option<String>), StoreError> {
        let counts = sqlx::query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<Vec<(String, i64)>, sqlx::Error>>()?;
        let oldest = sqlx::query("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok((counts, oldest))
    }

    /// Claims up to `limit` due messages for this sender until `lease` has
    /// passed, oldest first. Rows another sender holds are skipped
    /// (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite has one writer at a
    /// time anyway), so no message is handed to two senders. The claim's
    /// commit does not wait for the disk: a claim lost with the machine
    /// only lets the message be claimed again.
    pub async fn claim_outbox(
        &self,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        let now = now();
        let until = super::stored_time(
            chrono::Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default(),
        );
        // The instance first: another instance sees whether the claimer
        // is still alive.
        let claim = format!("{} {}", self.instance, tracking_token());
        let (lock, dead_claimer) = match self.backend {
            Backend::Postgres => (
                "FOR UPDATE SKIP LOCKED",
                "OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                     WHERE a.application_name = 'mailgate ' || split_part(claim, ' ', 1))",
            ),
            Backend::Sqlite => ("", ""),
        };
        let mut tx = self.begin_write_with(Durability::Deferred).await?;
        sql::query(format!(
            "UPDATE outbox SET claim = $1, claimed_until = $2 WHERE id IN (
                 SELECT id FROM outbox
                 WHERE status = 'pending' AND next_attempt_at <= $3
                   AND (claimed_until IS NULL OR claimed_until < $3 {dead_claimer})
                 ORDER BY id LIMIT $4 {lock})"
        ))
        .bind(&claim)
        .bind(&until)
        .bind(&now)
        .bind(limit)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        let rows = sqlx::query_as::<_, OutboxRow>(&format!(
            "{OUTBOX_ROWS} WHERE o.claim = $1 ORDER BY o.id"
        ))
        .bind(&claim)
        .fetch_all(&self.pool)
        .await?;
        // The contents in one query rather than one per mail; chunked
        // ones (over BLOB_CHUNK) and slices (a mail the team attached to
        // another, see `slices.rs`) are left to be read when sent.
        let contents: std::collections::HashMap<String, Vec<u8>> = sqlx::query(
            "SELECT sha256, content FROM blobs
             WHERE sha256 IN (SELECT raw_sha256 FROM outbox WHERE claim = $1) AND size <= $2
               AND source_sha256 IS NULL",
        )
        .bind(&claim)
        .bind(BLOB_CHUNK as i64)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, _>>()?;
        let mut contents = contents;
        Ok(rows
            .into_iter()
            .map(|row| ClaimedMail {
                // Taken, not copied: a second mail of the same contents (if
                // ever) reads them when sent, as chunked ones do.
                raw: contents.remove(&row.raw_sha256),
                row,
            })
            .collect())
    }

    /// Ends every claim at once: only when no other sender can be running
    /// (a SQLite database, which one instance holds).
    pub async fn release_outbox_claims(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE outbox SET claim = NULL, claimed_until = NULL WHERE claim IS NOT NULL",
        )
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Records the outcome of attempts, in one transaction, and ends their
    /// claims. The commit does not wait for the disk (the filer's commits
    /// do, and take it along): an outcome lost with the machine means a
    /// mail sent twice, as when the process is killed between sending and
    /// recording, never a mail lost.
    pub async fn record_attempts(&self, attempts: &[(i64, Attempt)]) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write_with(Durability::Deferred).await?;
        for (id, attempt) in attempts {
            let query = match attempt {
                Attempt::Sent => sql::query(
                    "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2,
                         last_error = NULL, claim = NULL, claimed_until = NULL WHERE id = $1",
                )
                .bind(*id)
                .bind(now()),
                Attempt::Failed { error, retry_at } => {
                    let (status, next) = match retry_at {
                        Some(at) => (OutboxStatus::Pending.as_str(), super::stored_time(*at)),
                        None => (OutboxStatus::Failed.as_str(), now()),
                    };
                    sql::query(
                        "UPDATE outbox SET status = $2, attempts = attempts + 1, next_attempt_at = $3,
                             last_error = $4, claim = NULL, claimed_until = NULL WHERE id = $1",
                    )
                    .bind(*id)
                    .bind(status)
                    .bind(next)
                    .bind(error.clone())
                }
            };
            query.execute(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A mail claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMail {
    pub row: OutboxRow,
    /// Its content when small enough to come with the claim; a large one
    /// is read when it is sent ([`Store::blob`]).
    pub raw: Option<Vec<u8>>,
}

/// What one attempt to send a message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// Not sent: tried again at `retry_at`, or given up (`None`).
    Failed {
        error: String,
        retry_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}
