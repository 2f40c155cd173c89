//! Contents no row refers to any more (raw messages, attachments, mail
//! bodies: `blobs` and their chunks) deleted, safely beside filing; and
//! after a run, the SQLite file's log cut and the file rewritten when that
//! is cheap.
//!
//! Filing on PostgreSQL stores contents ahead of the transaction that
//! refers to them (`store_contents_ahead`): until it commits, they look
//! unreferenced. So only contents older than [`GRACE`] are candidates, and
//! on PostgreSQL each is locked (`FOR UPDATE SKIP LOCKED`: one a filing
//! is referring to right now is skipped) and its references looked for
//! again with a fresh snapshot before it goes; once locked, no filing can
//! refer to it until the collection commits. Filing, for its part, holds
//! a content it finds stored (`FOR KEY SHARE`) and dates anew one stored
//! ahead long after it was first stored (`blobs.rs`), so that an old
//! content coming back is either kept or stored again, never lost between
//! the two. On SQLite the collection's
//! transaction holds the one writer, so nothing is filed meanwhile.

use super::{Batch, EMPTY_CONTENT};
use crate::store::erasure::chunks::each_chunk;
use crate::store::sql::{self, WriteTx};
use crate::store::{Backend, Store, StoreError};

/// Contents stored more recently than this are never collected.
pub(super) const GRACE: chrono::Duration = chrono::Duration::hours(1);

/// Contents taken per transaction.
const CONTENTS_BATCH: i64 = 500;

/// The SQLite file is rewritten (`VACUUM`) after a run only when at
/// least this share of its pages are free and it is no larger than
/// `VACUUM_AT_MOST`: `VACUUM` copies the whole file, holding the writer.
const VACUUM_FREE_SHARE: f64 = 0.25;
const VACUUM_AT_MOST: u64 = 512 << 20;

/// What became of the SQLite file after a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileCompaction {
    /// The database file and its log, in bytes, before the run.
    pub bytes_before: u64,
    /// The same after the log was cut (and the file rewritten).
    pub bytes_after: u64,
    /// The log was copied into the file and cut to nothing.
    pub log_truncated: bool,
    /// The file was rewritten without its free pages.
    pub vacuumed: bool,
}

/// Whether a file of `pages` pages of `page_size` bytes, `free` of them
/// unused, is worth rewriting now.
fn worth_vacuuming(pages: i64, free: i64, page_size: i64) -> bool {
    let bytes = u64::try_from(pages.saturating_mul(page_size)).unwrap_or(u64::MAX);
    pages > 0 && free as f64 >= pages as f64 * VACUUM_FREE_SHARE && bytes <= VACUUM_AT_MOST
}

impl Store {
    /// One batch of contents stored before `cutoff` that no row refers
    /// to, deleted with their chunks; counts them and their bytes.
    pub(super) async fn collect_contents(
        &self,
        tx: &mut WriteTx,
        cutoff: &str,
    ) -> Result<Batch, StoreError> {
        let candidates: Vec<String> = match self.backend {
            // Set differences: SQLite has no index on the columns that
            // refer to contents (see migration 0011), so one pass over each
            // table beats a look-up per content.
            Backend::Sqlite => sql::query(
                "SELECT sha256 FROM blobs WHERE created_at < $1 AND sha256 <> $2
                 EXCEPT SELECT raw_sha256 FROM inbound_messages
                 EXCEPT SELECT sha256 FROM attachments
                 EXCEPT SELECT raw_sha256 FROM outbox
                 LIMIT $3",
            ),
            Backend::Postgres => sql::query(
                "SELECT b.sha256 FROM blobs b
                 WHERE b.created_at < $1 AND b.sha256 <> $2
                   AND NOT EXISTS (SELECT 1 FROM inbound_messages m WHERE m.raw_sha256 = b.sha256)
                   AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = b.sha256)
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.raw_sha256 = b.sha256)
                 ORDER BY b.sha256 LIMIT $3
                 FOR UPDATE OF b SKIP LOCKED",
            ),
        }
        .bind(cutoff)
        .bind(EMPTY_CONTENT)
        .bind(CONTENTS_BATCH)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get::<String>(0))
        .collect::<Result<_, _>>()?;
        let full = candidates.len() as i64 >= CONTENTS_BATCH;
        let args: Vec<sql::Arg<'_>> = candidates.iter().map(sql::Arg::from).collect();
        // Locked now: a reference committed after the statement above
        // began is seen here (a new snapshot), and none can come later.
        let (rows, _) = each_chunk(
            tx,
            "SELECT b.sha256, CASE WHEN b.source_sha256 IS NULL THEN b.size ELSE 0 END
             FROM blobs b WHERE b.sha256 IN ({ids})
               AND NOT EXISTS (SELECT 1 FROM inbound_messages m WHERE m.raw_sha256 = b.sha256)
               AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = b.sha256)
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.raw_sha256 = b.sha256)",
            &[],
            if self.backend == Backend::Postgres {
                &args
            } else {
                &[]
            },
        )
        .await?;
        let (doomed, bytes): (Vec<String>, u64) = match self.backend {
            Backend::Postgres => {
                let mut bytes = 0u64;
                let mut doomed = Vec::with_capacity(rows.len());
                for row in &rows {
                    doomed.push(row.try_get::<String>(0)?);
                    bytes += u64::try_from(row.try_get::<i64>(1)?).unwrap_or(0);
                }
                (doomed, bytes)
            }
            Backend::Sqlite => {
                let (rows, _) = each_chunk(
                    tx,
                    "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs
                     WHERE source_sha256 IS NULL AND sha256 IN ({ids})",
                    &[],
                    &args,
                )
                .await?;
                let mut bytes = 0u64;
                for row in &rows {
                    bytes += u64::try_from(row.try_get::<i64>(0)?).unwrap_or(0);
                }
                (candidates.clone(), bytes)
            }
        };
        let deleted = Self::delete_contents(tx, &doomed).await?;
        Ok(Batch {
            rows: deleted,
            bytes,
            more: full,
        })
    }

    /// The sizes of every stored content (`mailgate_stored_bytes`), slices
    /// left out (their bytes are their message's): one sum over the
    /// contents' rows, whose size column comes before the content, so the
    /// contents themselves are not read.
    pub async fn stored_bytes(&self) -> Result<i64, StoreError> {
        use sqlx::Row;
        Ok(sqlx::query(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs
                 WHERE source_sha256 IS NULL",
        )
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?)
    }

    /// SQLite: the bytes of the database file and its log.
    pub(super) fn file_size(&self) -> Option<u64> {
        let writer = self.sqlite_writer.as_ref()?;
        let file = writer.try_lock().ok()?.file()?;
        Some(sizes(&file))
    }

    /// SQLite: the file rewritten without its free pages whatever its
    /// size (`mailgate maintain --vacuum`), then its log cut. Takes as
    /// long as copying the file, and filing waits meanwhile. `before` is
    /// the size to report as the starting one (the run's, when it came
    /// first). `None` on PostgreSQL.
    pub async fn rewrite_file(&self, before: Option<u64>) -> Option<FileCompaction> {
        self.compact_file(before, true).await
    }

    /// SQLite, after a run that anonymised or deleted tickets: the search
    /// index merged, so that their old entries go (see `erasure/wipe.rs`).
    /// The run is committed: a failure here is logged.
    pub(super) async fn purge_search(&self) {
        let Some(writer) = self.sqlite_writer.as_ref() else {
            return;
        };
        let writer = writer.lock().await;
        if let Err(e) = crate::store::erasure::purge_search_index(&writer) {
            tracing::warn!(error = %e, "the search index was not merged after maintenance");
        }
    }

    /// SQLite, after a run: the log copied into the file and cut, then the
    /// file rewritten when enough of it is free and it is small enough for
    /// that to be quick (or `always`). The run is committed: a failure
    /// here is logged.
    pub(super) async fn compact_file(
        &self,
        before: Option<u64>,
        always: bool,
    ) -> Option<FileCompaction> {
        let writer = self.sqlite_writer.as_ref()?;
        let writer = writer.lock().await;
        let file = writer.file()?;
        let before = before.unwrap_or_else(|| sizes(&file));
        let mut vacuumed = false;
        let worth = (|| {
            Ok::<_, StoreError>(
                always
                    || worth_vacuuming(
                        writer.pragma("page_count")?,
                        writer.pragma("freelist_count")?,
                        writer.pragma("page_size")?,
                    ),
            )
        })();
        match worth {
            Ok(true) => match writer.run("VACUUM") {
                Ok(()) => vacuumed = true,
                Err(e) => tracing::warn!(error = %e, "VACUUM after maintenance failed"),
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the SQLite file's free pages"),
        }
        // Bounded: filing waits for the writer meanwhile. After a VACUUM
        // the log holds the whole file, and the checkpoint thread may be
        // copying it for seconds (a 1.2 GB file was left with a 1.2 GB log
        // under the 2 s limit): the VACUUM held the writer longer already.
        let limit = std::time::Duration::from_secs(if vacuumed { 30 } else { 2 });
        let log_truncated = match writer.truncate_log_within(limit) {
            Ok(cut) => cut,
            Err(e) => {
                tracing::warn!(error = %e, "the SQLite log was not cut after maintenance");
                false
            }
        };
        Some(FileCompaction {
            bytes_before: before,
            bytes_after: sizes(&file),
            log_truncated,
            vacuumed,
        })
    }
}

/// The bytes of a SQLite file and its write-ahead log.
fn sizes(file: &std::path::Path) -> u64 {
    let log = std::path::PathBuf::from(format!("{}-wal", file.display()));
    [file, log.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_rewritten_when_a_quarter_is_free_and_it_is_small() {
        assert!(worth_vacuuming(1000, 250, 16384));
        assert!(!worth_vacuuming(1000, 249, 16384));
        assert!(!worth_vacuuming(0, 0, 16384));
        // 1 GiB: too long to copy while holding the writer.
        assert!(!worth_vacuuming(65536, 60000, 16384));
    }
}
