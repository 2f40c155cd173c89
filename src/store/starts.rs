//! When mailgate first watched each IMAP mailbox (migration 0016): the
//! UIDNEXT of that first SELECT, below which messages were there before,
//! for `[[mailboxes]] initial`. Recorded once across instances.

use sqlx::Row as _;

use super::sql;
use super::{Store, StoreError, now};

/// Where a mailbox's mail begins for mailgate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxStart {
    /// Messages under this UID were in the folder before mailgate first
    /// watched it; 0 when none counts as such any more.
    pub first_uid: u32,
    /// This call recorded the start: the folder is watched for the first
    /// time.
    pub recorded: bool,
}

impl Store {
    /// The start of `mailbox`, recorded now from this SELECT's UIDVALIDITY
    /// and UIDNEXT when it has none. A mailbox with messages filed already
    /// (by a version that did not record starts) is started with nothing
    /// initial. When the UIDVALIDITY is not the recorded one, the UIDs were
    /// renumbered and say nothing of what came when: the start is kept,
    /// with nothing initial from then on.
    pub async fn mailbox_start(
        &self,
        mailbox: &str,
        uidvalidity: u32,
        uid_next: u32,
    ) -> Result<MailboxStart, StoreError> {
        let mut tx = self.begin_write().await?;
        let validity = i64::from(uidvalidity);
        let filed_before = sql::query(
            "SELECT 1 FROM inbound_messages WHERE mailbox = $1 AND source = 'imap' LIMIT 1",
        )
        .bind(mailbox)
        .fetch_optional(&mut tx)
        .await?
        .is_some();
        let first = if filed_before { 0 } else { i64::from(uid_next) };
        // Another instance may record it at the same moment: the first
        // insert wins and both read its row.
        let recorded = sql::query(
            "INSERT INTO mailbox_starts (mailbox, uidvalidity, first_uid, started_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (mailbox) DO NOTHING",
        )
        .bind(mailbox)
        .bind(validity)
        .bind(first)
        .bind(now())
        .execute(&mut tx)
        .await?
            == 1;
        let renumbered = sql::query(
            "UPDATE mailbox_starts SET uidvalidity = $2, first_uid = 0
             WHERE mailbox = $1 AND (uidvalidity IS NULL OR uidvalidity <> $2)",
        )
        .bind(mailbox)
        .bind(validity)
        .execute(&mut tx)
        .await?;
        if renumbered > 0 {
            tracing::info!(
                mailbox,
                uidvalidity,
                "UIDVALIDITY is not the recorded one: nothing in the folder counts as initial"
            );
        }
        let first_uid: i64 = sql::query("SELECT first_uid FROM mailbox_starts WHERE mailbox = $1")
            .bind(mailbox)
            .fetch_one(&mut tx)
            .await?
            .try_get(0)?;
        tx.commit().await?;
        Ok(MailboxStart {
            first_uid: u32::try_from(first_uid).unwrap_or(u32::MAX),
            recorded,
        })
    }

    /// The first UID of `mailbox` that is not initial, when mailgate has
    /// watched it before (for `mailgate check`); 0 when it filed messages
    /// from it without recording a start. `None`: never watched.
    pub async fn recorded_start(&self, mailbox: &str) -> Result<Option<u32>, StoreError> {
        let row = sqlx::query("SELECT first_uid FROM mailbox_starts WHERE mailbox = $1")
            .bind(mailbox)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = row {
            let first_uid: i64 = row.try_get(0)?;
            return Ok(Some(u32::try_from(first_uid).unwrap_or(u32::MAX)));
        }
        let filed = sqlx::query(
            "SELECT 1 FROM inbound_messages WHERE mailbox = $1 AND source = 'imap' LIMIT 1",
        )
        .bind(mailbox)
        .fetch_optional(&self.pool)
        .await?;
        Ok(filed.map(|_| 0))
    }
}
