//! The process's SQLite writer: one connection of our own, with the
//! settings every SQLite connection of the process shares, and the thread
//! that checkpoints its write-ahead log outside commits.

use crate::store::StoreError;

/// What every SQLite connection of the process sets, the pool's (sqlx)
/// and the writer's: WAL lets readers run beside the writer, and `FULL`
/// makes a commit durable before we act on it (a message is marked done
/// on the server only after that).
pub(in crate::store) const SQLITE_CONNECTION: [&str; 4] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
];

/// The process's SQLite writer: its connection, and the thread that
/// checkpoints the write-ahead log beside it.
///
/// SQLite's own checkpoints run inside a commit once the log is long
/// (`wal_autocheckpoint`), and copying it into the database made every
/// tenth commit of an ingest ten times slower. A checkpoint of its own
/// connection (PASSIVE: it never blocks the writer) runs after commits
/// instead, one at a time, so the log stays short; SQLite's stays as a
/// safety net at a higher mark. The log file kept its largest
/// size (200 MB after 1,000 messages) for as long as the process ran: it
/// is cut back to 64 MB when it starts over (`journal_size_limit`), and to
/// nothing once writing has stopped for a few seconds.
pub(in crate::store) struct SqliteWriter {
    pub(super) conn: rusqlite::Connection,
    checkpoint: std::sync::mpsc::SyncSender<()>,
    /// Settings a transaction changed for itself, put back once it ends
    /// (committed, rolled back or dropped) and before the writer goes to
    /// the next one: some pragmas are no-ops inside a transaction.
    pub(super) after_transaction: Option<String>,
}

/// The connections' busy_timeout (`SQLITE_CONNECTION`), as a duration.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long one try at cutting the log waits for readers and writers.
const TRUNCATE_TRY: std::time::Duration = std::time::Duration::from_millis(200);

/// How long writing must have stopped before the log file is truncated.
const QUIET_BEFORE_TRUNCATE: std::time::Duration = std::time::Duration::from_secs(5);

impl SqliteWriter {
    /// Opens the writer on a database the pool has migrated. Same
    /// durability as the pool's connections: WAL, and `FULL` so a commit
    /// is on disk before we act on it.
    pub(in crate::store) fn open(path: &std::path::Path) -> Result<Self, StoreError> {
        let conn = rusqlite::Connection::open(path).map_err(from_sqlite)?;
        for pragma in SQLITE_CONNECTION {
            conn.execute_batch(pragma).map_err(from_sqlite)?;
        }
        conn.execute_batch(
            "PRAGMA wal_autocheckpoint = 16384;
             PRAGMA journal_size_limit = 67108864;
             PRAGMA cache_size = -4096;",
        )
        .map_err(from_sqlite)?;
        // Every statement of filing stays prepared.
        conn.set_prepared_statement_cache_capacity(128);

        let checkpointer = rusqlite::Connection::open(path).map_err(from_sqlite)?;
        checkpointer
            .execute_batch("PRAGMA busy_timeout = 5000;")
            .map_err(from_sqlite)?;
        let (checkpoint, wanted) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                use std::sync::mpsc::RecvTimeoutError;
                let checkpoint = |mode: &str| {
                    let pragma = format!("PRAGMA wal_checkpoint({mode})");
                    if let Err(e) = checkpointer.query_row(&pragma, [], |_| Ok(())) {
                        tracing::debug!(error = %e, mode, "checkpoint not done");
                    }
                };
                // Once writing stops for a while, the log is emptied and
                // cut to nothing (TRUNCATE waits for readers, briefly).
                let mut truncate_when_quiet = false;
                loop {
                    let wake = if truncate_when_quiet {
                        wanted.recv_timeout(QUIET_BEFORE_TRUNCATE)
                    } else {
                        wanted.recv().map_err(|_| RecvTimeoutError::Disconnected)
                    };
                    match wake {
                        // Right after the commit: the log starts over
                        // only when a checkpoint has copied all of it before
                        // the next write begins; otherwise it grows until
                        // the writer's own autocheckpoint copies a quarter
                        // of a gigabyte inside a commit (stalls of 200 to
                        // 280 ms every 1,200 messages of a backlog). Commits
                        // made meanwhile share the next checkpoint.
                        Ok(()) => {
                            checkpoint("PASSIVE");
                            truncate_when_quiet = true;
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            checkpoint("TRUNCATE");
                            truncate_when_quiet = false;
                        }
                        // The writer was dropped with the last store.
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            })
            .map_err(|e| StoreError::Other(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(SqliteWriter {
            conn,
            checkpoint,
            after_transaction: None,
        })
    }

    /// Asks for a checkpoint after a commit; one already asked for does.
    pub(super) fn wrote(&self) {
        let _ = self.checkpoint.try_send(());
    }
}

/// What erasure asks of the writer outside its transaction.
impl SqliteWriter {
    /// Runs statements that return nothing (a pragma, `VACUUM`).
    pub(in crate::store) fn run(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(from_sqlite)
    }

    /// Copies the whole log into the database file and cuts the log to
    /// nothing, trying again for at most `limit`; false when a reader on
    /// an older snapshot or another process's writer kept part of it all
    /// that time.
    ///
    /// Each try waits `TRUNCATE_TRY` at most, not the connection's
    /// busy_timeout: a TRUNCATE checkpoint waits in the busy handler for
    /// every reader and writer, and 40 tries of 5 s once held the writer
    /// (and so all filing) for 200 s behind another process's lock. The
    /// checkpoint thread, woken by a commit, may also be copying the log
    /// at the same moment; the next try finds it done.
    pub(in crate::store) fn truncate_log_within(
        &self,
        limit: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let deadline = std::time::Instant::now() + limit;
        self.conn.busy_timeout(TRUNCATE_TRY).map_err(from_sqlite)?;
        let cut = loop {
            match self.truncate_log_once() {
                Ok(false) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                done => break done,
            }
        };
        self.conn.busy_timeout(BUSY_TIMEOUT).map_err(from_sqlite)?;
        cut
    }

    fn truncate_log_once(&self) -> Result<bool, StoreError> {
        let (busy, log, copied): (i64, i64, i64) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(from_sqlite)?;
        Ok(busy == 0 && log == copied)
    }

    /// The value of a pragma that has one (`secure_delete`).
    pub(in crate::store) fn pragma(&self, name: &str) -> Result<i64, StoreError> {
        self.conn
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .map_err(from_sqlite)
    }

    /// Puts back what `after_transaction` says, once.
    pub(super) fn restore_settings(&mut self) {
        if let Some(sql) = self.after_transaction.take()
            && let Err(e) = self.conn.execute_batch(&sql)
        {
            tracing::error!(error = %e, sql, "SQLite settings not put back");
        }
    }

    /// The database file.
    pub(in crate::store) fn file(&self) -> Option<std::path::PathBuf> {
        self.conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
    }
}

pub(super) fn from_sqlite(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(e, _) => crate::store::error::classify_database_error(
            &e.extended_code.to_string(),
            error.to_string(),
        ),
        _ => StoreError::Other(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{Durability, WriteTx, query};
    use super::*;

    async fn begin(writer: &Arc<tokio::sync::Mutex<SqliteWriter>>) -> WriteTx {
        WriteTx::sqlite(Arc::clone(writer).lock_owned().await, Durability::Flushed).unwrap()
    }

    #[tokio::test]
    async fn the_log_is_checkpointed_beside_the_writer_and_cut_once_writing_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let wal = dir.path().join("t.db-wal");
        let writer = SqliteWriter::open(&path).unwrap();
        writer
            .conn
            .execute_batch("CREATE TABLE t (d BLOB)")
            .unwrap();
        let writer = Arc::new(tokio::sync::Mutex::new(writer));
        let content = vec![7u8; 4 << 20];
        let mut tx = begin(&writer).await;
        query("INSERT INTO t (d) VALUES ($1)")
            .bind(&content[..])
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let written = std::fs::metadata(&wal).unwrap().len();
        assert!(written > 4 << 20, "the commit went to the log: {written}");
        // Checkpointed soon after the commit, then cut once quiet.
        let deadline = std::time::Instant::now() + QUIET_BEFORE_TRUNCATE * 3;
        while std::fs::metadata(&wal).map_or(0, |m| m.len()) > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the log is still {} bytes",
                std::fs::metadata(&wal).unwrap().len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let reader = rusqlite::Connection::open(&path).unwrap();
        let size: i64 = reader
            .query_row("SELECT length(d) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(size, 4 << 20, "the content is in the database file");
    }

    #[test]
    fn cutting_the_log_gives_up_in_its_limit_when_another_connection_pins_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = SqliteWriter::open(&path).unwrap();
        writer
            .conn
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        // Another process's writer lock (BEGIN EXCLUSIVE), as in the chaos
        // suite: each try waits for it, so only the limit ends the wait.
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let started = std::time::Instant::now();
        let cut = writer
            .truncate_log_within(std::time::Duration::from_millis(300))
            .unwrap();
        let waited = started.elapsed();
        assert!(!cut, "the log was cut under another connection's lock");
        // One try of the connection's busy_timeout alone would be 5 s.
        assert!(waited < BUSY_TIMEOUT, "waited {waited:?}");
        other.execute_batch("COMMIT").unwrap();
        assert!(
            writer
                .truncate_log_within(std::time::Duration::from_secs(5))
                .unwrap(),
            "the log was not cut once the lock went"
        );
        let timeout: i64 = writer
            .conn
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .unwrap();
        assert_eq!(timeout, 5000, "the writer's busy_timeout was not put back");
    }
}
