//! Write transactions: one way to run a statement inside one, whatever the
//! backend, so that filing is written once.
//!
//! PostgreSQL goes through sqlx, as reads do. SQLite writes go through one
//! connection of our own, used directly on the caller's thread: sqlx runs
//! every SQLite statement on a worker thread behind a channel, and the two
//! thread switches per statement were most of the cost of filing a message
//! (about fifteen statements each; see bench/README.md). A SQLite statement
//! here costs microseconds, so the transaction runs synchronously; the one
//! long caller (a batch of messages) steps off the async runtime for it
//! (`Store::file_messages`).
//!
//! Statements are written once, with `$1`-style parameters, which both
//! backends accept: SQLite reads `$N` as a named parameter, bound here by
//! its name.

use std::borrow::Cow;

use rusqlite::types::Value;
use sqlx::{Any, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::StoreError;

/// A statement and its arguments, `$1` first.
pub(super) struct Query<'q> {
    sql: Cow<'q, str>,
    args: Vec<Arg<'q>>,
}

/// A statement to run in a write transaction.
pub(super) fn query<'q>(sql: impl Into<Cow<'q, str>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// `$first, $first+1, ...` for `count` parameters: an `IN` list.
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, ..., $columns), ($columns+1, ...), ...`: the `VALUES` of a
/// multi-row insert, bound row after row.
pub(super) fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(row * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One argument. NULLs keep their type: PostgreSQL checks it against the
/// column's.
#[derive(Debug, Clone)]
pub(super) enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<Cow<'a, str>>),
    Blob(Option<&'a [u8]>),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(Cow::Borrowed(v)))
    }
}
impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Some(Cow::Owned(v)))
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v.map(Cow::Borrowed))
    }
}
impl From<Option<String>> for Arg<'_> {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v.map(Cow::Owned))
    }
}
impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Blob(Some(v))
    }
}

impl<'q> Query<'q> {
    pub(super) fn bind(mut self, arg: impl Into<Arg<'q>>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Runs a statement that returns no rows; the number of rows changed.
    pub(super) async fn execute(self, tx: &mut WriteTx) -> Result<u64, StoreError> {
        match &mut tx.0 {
            Inner::Sqlite(writer, _) => {
                let mut statement = self.prepare(&writer.conn)?;
                Ok(statement.raw_execute().map_err(from_sqlite)? as u64)
            }
            Inner::Postgres(tx) => Ok(self.sqlx().execute(&mut **tx).await?.rows_affected()),
            Inner::Done => Err(ended()),
        }
    }

    pub(super) async fn fetch_all(self, tx: &mut WriteTx) -> Result<Vec<Row>, StoreError> {
        match &mut tx.0 {
            Inner::Sqlite(writer, _) => {
                let mut statement = self.prepare(&writer.conn)?;
                let columns = statement.column_count();
                let mut rows = statement.raw_query();
                let mut out = Vec::new();
                while let Some(row) = rows.next().map_err(from_sqlite)? {
                    let values = (0..columns)
                        .map(|i| row.get::<_, Value>(i))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(from_sqlite)?;
                    out.push(Row(RowInner::Sqlite(values)));
                }
                Ok(out)
            }
            Inner::Postgres(tx) => Ok(self
                .sqlx()
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(|r| Row(RowInner::Any(r)))
                .collect()),
            Inner::Done => Err(ended()),
        }
    }

    pub(super) async fn fetch_optional(self, tx: &mut WriteTx) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(tx).await?.into_iter().next())
    }

    /// The first row; [`StoreError::NotFound`] when there is none.
    pub(super) async fn fetch_one(self, tx: &mut WriteTx) -> Result<Row, StoreError> {
        self.fetch_optional(tx)
            .await?
            .ok_or_else(|| StoreError::NotFound("no rows returned by a query".into()))
    }

    /// The cached prepared statement with every `$N` bound to argument N.
    fn prepare<'c>(
        &self,
        conn: &'c rusqlite::Connection,
    ) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
        let mut statement = conn.prepare_cached(&self.sql).map_err(from_sqlite)?;
        for index in 1..=statement.parameter_count() {
            let arg = statement
                .parameter_name(index)
                .and_then(|name| name.strip_prefix('$'))
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| self.args.get(n.checked_sub(1)?))
                .ok_or_else(|| {
                    StoreError::Other(format!(
                        "parameter {index} of {:?} has no argument",
                        self.sql
                    ))
                })?;
            match arg {
                Arg::Int(v) => statement.raw_bind_parameter(index, v),
                Arg::Text(v) => statement.raw_bind_parameter(index, v.as_deref()),
                Arg::Blob(v) => statement.raw_bind_parameter(index, v),
            }
            .map_err(from_sqlite)?;
        }
        Ok(statement)
    }

    fn sqlx(&self) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments<'_>> {
        let mut query = sqlx::query(&self.sql);
        for arg in &self.args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.as_deref()),
                Arg::Blob(v) => query.bind(*v),
            };
        }
        query
    }
}

/// A row a statement returned.
pub(super) struct Row(RowInner);

enum RowInner {
    Any(sqlx::any::AnyRow),
    Sqlite(Vec<Value>),
}

impl Row {
    /// Column `index`, as `T`.
    pub(super) fn try_get<T: Column>(&self, index: usize) -> Result<T, StoreError> {
        match &self.0 {
            RowInner::Any(row) => Ok(sqlx::Row::try_get(row, index)?),
            RowInner::Sqlite(values) => {
                let value = values.get(index).ok_or_else(|| {
                    StoreError::Other(format!("no column {index} in a row of {}", values.len()))
                })?;
                T::from_sqlite(value).ok_or_else(|| {
                    StoreError::Other(format!(
                        "column {index} holds {:?}, not {}",
                        value.data_type(),
                        std::any::type_name::<T>()
                    ))
                })
            }
        }
    }
}

/// A type a column is read as.
pub(super) trait Column: Sized + for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> {
    fn from_sqlite(value: &Value) -> Option<Self>;
}

impl Column for i64 {
    fn from_sqlite(value: &Value) -> Option<Self> {
        match value {
            Value::Integer(v) => Some(*v),
            _ => None,
        }
    }
}

impl Column for String {
    fn from_sqlite(value: &Value) -> Option<Self> {
        match value {
            Value::Text(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl Column for Vec<u8> {
    fn from_sqlite(value: &Value) -> Option<Self> {
        match value {
            Value::Blob(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl<T: Column> Column for Option<T> {
    fn from_sqlite(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_sqlite(other).map(Some),
        }
    }
}

/// A write transaction, committed with [`WriteTx::commit`] and rolled back
/// when dropped without it.
pub(super) struct WriteTx(Inner);

enum Inner {
    /// The process's SQLite writer, held for the transaction: writers of
    /// one process queue on its lock instead of SQLite's busy handler.
    /// With the connection's count of changed rows when it began.
    Sqlite(OwnedMutexGuard<SqliteWriter>, u64),
    Postgres(Transaction<'static, Any>),
    /// Committed.
    Done,
}

/// What a commit promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Durability {
    /// On disk when the commit returns: anything acted on afterwards (a
    /// message marked done on the server) can rely on it.
    Flushed,
    /// Survives the process being killed, not the machine losing power:
    /// for bookkeeping whose loss costs at most an attempt made again (the
    /// sender's claims and outcomes). Its commit does not wait for the
    /// disk, and the next flushed commit takes it to disk too.
    Deferred,
}

impl WriteTx {
    /// Begins on SQLite with `BEGIN IMMEDIATE`: a deferred transaction
    /// that reads then writes cannot wait for another process's writer and
    /// fails at once, where this one waits (busy_timeout) for its turn.
    pub(super) fn sqlite(
        writer: OwnedMutexGuard<SqliteWriter>,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        // The level is set outside the transaction, as SQLite requires;
        // in WAL mode NORMAL skips the commit's fsync only.
        writer
            .conn
            .execute_batch(match durability {
                Durability::Flushed => "PRAGMA synchronous = FULL; BEGIN IMMEDIATE",
                Durability::Deferred => "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE",
            })
            .map_err(from_sqlite)?;
        let changes = writer.conn.total_changes();
        Ok(WriteTx(Inner::Sqlite(writer, changes)))
    }

    pub(super) async fn postgres(
        mut tx: Transaction<'static, Any>,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        if durability == Durability::Deferred {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await?;
        }
        Ok(WriteTx(Inner::Postgres(tx)))
    }

    pub(super) async fn commit(mut self) -> Result<(), StoreError> {
        match std::mem::replace(&mut self.0, Inner::Done) {
            Inner::Sqlite(writer, changes) => {
                if let Err(e) = writer.conn.execute_batch("COMMIT") {
                    // A failed COMMIT may leave the transaction open.
                    let _ = writer.conn.execute_batch("ROLLBACK");
                    return Err(from_sqlite(e));
                }
                // Most of the sender's rounds change nothing.
                if writer.conn.total_changes() > changes {
                    writer.wrote();
                }
                Ok(())
            }
            Inner::Postgres(tx) => Ok(tx.commit().await?),
            Inner::Done => Ok(()),
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Inner::Sqlite(writer, _) = &self.0
            && !writer.conn.is_autocommit()
        {
            // Not committed: an error or a cancelled future.
            let _ = writer.conn.execute_batch("ROLLBACK");
        }
    }
}

/// What every SQLite connection of the process sets, the pool's (sqlx)
/// and the writer's: WAL lets readers run beside the writer, and `FULL`
/// makes a commit durable before we act on it (a message is marked done
/// on the server only after that).
pub(super) const SQLITE_CONNECTION: [&str; 4] = [
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
pub(super) struct SqliteWriter {
    conn: rusqlite::Connection,
    checkpoint: std::sync::mpsc::SyncSender<()>,
}

/// How long writing must have stopped before the log file is truncated.
const QUIET_BEFORE_TRUNCATE: std::time::Duration = std::time::Duration::from_secs(5);

impl SqliteWriter {
    /// Opens the writer on a database the pool has migrated. Same
    /// durability as the pool's connections: WAL, and `FULL` so a commit
    /// is on disk before we act on it.
    pub(super) fn open(path: &std::path::Path) -> Result<Self, StoreError> {
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
        Ok(SqliteWriter { conn, checkpoint })
    }

    /// Asks for a checkpoint after a commit; one already asked for does.
    fn wrote(&self) {
        let _ = self.checkpoint.try_send(());
    }
}

fn ended() -> StoreError {
    StoreError::Other("statement after the end of its transaction".into())
}

fn from_sqlite(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(e, _) => {
            super::classify_database_error(&e.extended_code.to_string(), error.to_string())
        }
        _ => StoreError::Other(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    async fn begin(writer: &Arc<tokio::sync::Mutex<SqliteWriter>>) -> WriteTx {
        WriteTx::sqlite(Arc::clone(writer).lock_owned().await, Durability::Flushed).unwrap()
    }

    #[tokio::test]
    async fn sqlite_binds_dollar_parameters_by_number_and_rolls_back_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SqliteWriter::open(&dir.path().join("t.db")).unwrap();
        writer
            .conn
            .execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c TEXT, d BLOB)")
            .unwrap();
        let writer = Arc::new(tokio::sync::Mutex::new(writer));

        let mut tx = begin(&writer).await;
        // $3 comes first and $1 twice: SQLite numbers them 1, 2, 2 by
        // appearance, so binding by position would be wrong.
        query("INSERT INTO t (a, b, c, d) VALUES ($3, $1, $1 || $2, $4)")
            .bind("x")
            .bind(None::<&str>)
            .bind(7)
            .bind(&b"\x00\xff"[..])
            .execute(&mut tx)
            .await
            .unwrap();
        let row = query("SELECT a, b, c, d FROM t WHERE b = $1")
            .bind("x")
            .fetch_one(&mut tx)
            .await
            .unwrap();
        assert_eq!(row.try_get::<i64>(0).unwrap(), 7);
        assert_eq!(row.try_get::<String>(1).unwrap(), "x");
        assert_eq!(row.try_get::<Option<String>>(2).unwrap(), None);
        assert_eq!(row.try_get::<Vec<u8>>(3).unwrap(), b"\x00\xff");
        assert!(row.try_get::<String>(0).is_err(), "an integer is not text");
        let missing = query("SELECT $2").bind(1).fetch_one(&mut tx).await;
        assert!(
            matches!(&missing, Err(StoreError::Other(e)) if e.contains("no argument")),
            "{:?}",
            missing.err()
        );
        drop(tx);

        let mut tx = begin(&writer).await;
        let count: i64 = query("SELECT COUNT(*) FROM t")
            .fetch_one(&mut tx)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(count, 0, "the dropped transaction was rolled back");
        query("INSERT INTO t (a) VALUES ($1)")
            .bind(1)
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = begin(&writer).await;
        let rows = query("SELECT a FROM t").fetch_all(&mut tx).await.unwrap();
        assert_eq!(rows.len(), 1, "the committed row stays");
    }

    #[test]
    fn placeholders_for_lists_and_rows() {
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows(0, 3), "");
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
}
