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
//!
//! Here: a statement and its arguments, run on either backend. `tx.rs`
//! holds the transaction, `row.rs` the rows read back, `sqlite.rs` the
//! process's SQLite writer.

mod row;
mod sqlite;
mod tx;

use std::borrow::Cow;

use rusqlite::types::Value;
use sqlx::Any;

use super::StoreError;

pub(super) use row::Row;
use row::RowInner;
use sqlite::from_sqlite;
pub(super) use sqlite::{SQLITE_CONNECTION, SqliteWriter};
pub(super) use tx::{Durability, WriteTx};
use tx::{Inner, ended};

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

    #[tokio::test]
    async fn settings_of_a_transaction_are_put_back_however_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SqliteWriter::open(&dir.path().join("t.db")).unwrap();
        let writer = Arc::new(tokio::sync::Mutex::new(writer));
        for commit in [true, false] {
            let mut tx = WriteTx::sqlite_with(
                Arc::clone(&writer).lock_owned().await,
                "PRAGMA foreign_keys = OFF",
                "PRAGMA foreign_keys = ON".into(),
            )
            .unwrap();
            let on: i64 = query("PRAGMA foreign_keys")
                .fetch_one(&mut tx)
                .await
                .unwrap()
                .try_get(0)
                .unwrap();
            assert_eq!(on, 0, "off for the transaction");
            if commit {
                tx.commit().await.unwrap();
            } else {
                drop(tx);
            }
            assert_eq!(writer.lock().await.pragma("foreign_keys").unwrap(), 1);
        }
    }

    #[test]
    fn placeholders_for_lists_and_rows() {
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows(0, 3), "");
    }
}
