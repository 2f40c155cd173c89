//! The rules on messages and mail: raw bytes of received messages and
//! bodies of outgoing mail replaced by the empty content, and the
//! quarantine (rejected and ignored messages on no ticket) deleted. Each
//! function does one batch, in the caller's transaction.

use super::{BATCH, Batch, EMPTY_CONTENT};
use crate::store::erasure::chunks::{change, ids_of, select_ids};
use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError};

impl Store {
    /// `raw_messages`: received messages older than `cutoff` keep their row
    /// (outcome, Message-ID, body hash: a copy received again is still
    /// recognised) and point at the empty content; their raw bytes are
    /// collected afterwards unless something else refers to them.
    pub(super) async fn remove_raws(
        tx: &mut WriteTx,
        cutoff: &str,
        at: &str,
    ) -> Result<Batch, StoreError> {
        let ids = ids_of(
            &sql::query(
                "SELECT id FROM inbound_messages
                 WHERE raw_removed_at IS NULL AND received_at < $1 AND raw_sha256 <> $2
                 ORDER BY id LIMIT $3",
            )
            .bind(cutoff)
            .bind(EMPTY_CONTENT)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?,
        )?;
        change(
            tx,
            "UPDATE inbound_messages SET raw_sha256 = $1, raw_removed_at = $2 WHERE id IN ({ids})",
            &[EMPTY_CONTENT.into(), at.into()],
            &ids,
        )
        .await?;
        Ok(Batch::of(ids.len(), 0))
    }

    /// `outgoing_mail`: mail no longer pending (sent, failed, suppressed)
    /// written before `cutoff` keeps its row (recipients, status, times)
    /// and points at the empty content. Pending mail is never touched,
    /// nor mail a sender holds a claim on.
    pub(super) async fn remove_bodies(
        tx: &mut WriteTx,
        cutoff: &str,
        at: &str,
    ) -> Result<Batch, StoreError> {
        let ids = ids_of(
            &sql::query(
                "SELECT id FROM outbox
                 WHERE body_removed_at IS NULL AND status IN ('sent', 'failed', 'suppressed')
                   AND created_at < $1 AND raw_sha256 <> $2
                 ORDER BY id LIMIT $3",
            )
            .bind(cutoff)
            .bind(EMPTY_CONTENT)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?,
        )?;
        // Checked again in the update: `outbox retry` may have queued one
        // since (on PostgreSQL, between the two statements).
        let changed = change(
            tx,
            "UPDATE outbox SET raw_sha256 = $1, body_removed_at = $2
             WHERE status <> 'pending' AND id IN ({ids})",
            &[EMPTY_CONTENT.into(), at.into()],
            &ids,
        )
        .await?;
        Ok(Batch {
            more: ids.len() as i64 >= BATCH,
            ..Batch::of(usize::try_from(changed).unwrap_or(usize::MAX), 0)
        })
    }

    /// `quarantine`: rejected and ignored messages received before
    /// `cutoff`, on no ticket, deleted with their copies and retries; their
    /// raw bytes are collected afterwards. Counts the messages deleted.
    pub(super) async fn empty_quarantine(
        tx: &mut WriteTx,
        cutoff: &str,
    ) -> Result<Batch, StoreError> {
        let firsts = ids_of(
            &sql::query(
                "SELECT id FROM inbound_messages
                 WHERE outcome IN ('rejected', 'ignored') AND ticket_id IS NULL
                   AND duplicate_of IS NULL AND received_at < $1
                 ORDER BY id LIMIT $2",
            )
            .bind(cutoff)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?,
        )?;
        let mut doomed = select_ids(
            tx,
            "SELECT id FROM inbound_messages WHERE duplicate_of IN ({ids})",
            &[],
            &firsts,
        )
        .await?;
        doomed.extend(&firsts);
        let deleted = Self::delete_messages(tx, &doomed).await?;
        Ok(Batch {
            more: firsts.len() as i64 >= BATCH,
            ..Batch::of(usize::try_from(deleted).unwrap_or(usize::MAX), 0)
        })
    }
}
