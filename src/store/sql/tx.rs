//! Write transactions on either backend: begun with the durability their
//! commit promises, committed, or rolled back when dropped.

use std::collections::HashMap;

use sqlx::{Any, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::sqlite::{SqliteWriter, from_sqlite};
use crate::store::StoreError;

/// A write transaction, committed with [`WriteTx::commit`] and rolled back
/// when dropped without it; with what it has counted of automatic mail
/// (see [`WriteTx::automatic_mail`]).
pub(in crate::store) struct WriteTx(pub(super) Inner, HashMap<String, i64>);

pub(super) enum Inner {
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
pub(in crate::store) enum Durability {
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
    pub(in crate::store) fn sqlite(
        mut writer: OwnedMutexGuard<SqliteWriter>,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        // The level is set outside the transaction, as SQLite requires;
        // in WAL mode NORMAL skips the commit's fsync only.
        if let Err(e) = writer.conn.execute_batch(match durability {
            Durability::Flushed => "PRAGMA synchronous = FULL; BEGIN IMMEDIATE",
            Durability::Deferred => "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE",
        }) {
            // Not begun: what `sqlite_with` changed goes back now.
            writer.restore_settings();
            return Err(from_sqlite(e));
        }
        let changes = writer.conn.total_changes();
        Ok(WriteTx(Inner::Sqlite(writer, changes), HashMap::new()))
    }

    /// Begins on SQLite with settings of its own (`before`, run outside
    /// the transaction as pragmas such as `foreign_keys` require), put
    /// back by `after` once it ends, whichever way.
    pub(in crate::store) fn sqlite_with(
        mut writer: OwnedMutexGuard<SqliteWriter>,
        before: &str,
        after: String,
    ) -> Result<Self, StoreError> {
        writer.after_transaction = Some(after);
        if let Err(e) = writer.conn.execute_batch(before) {
            writer.restore_settings();
            return Err(from_sqlite(e));
        }
        Self::sqlite(writer, Durability::Flushed)
    }

    pub(in crate::store) async fn postgres(
        mut tx: Transaction<'static, Any>,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        if durability == Durability::Deferred {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await?;
        }
        Ok(WriteTx(Inner::Postgres(tx), HashMap::new()))
    }

    /// Automatic mail queued within the hour, by recipient, as this
    /// transaction counted it: filled for a whole batch in one query and
    /// kept up as mail is queued (`store/replies.rs`), instead of one
    /// query per mail. Only for the transaction's life.
    pub(in crate::store) fn automatic_mail(&mut self) -> &mut HashMap<String, i64> {
        &mut self.1
    }

    /// Whether this is a PostgreSQL transaction (row locks, `SKIP LOCKED`).
    pub(in crate::store) fn is_postgres(&self) -> bool {
        matches!(self.0, Inner::Postgres(_))
    }

    pub(in crate::store) async fn commit(mut self) -> Result<(), StoreError> {
        match std::mem::replace(&mut self.0, Inner::Done) {
            Inner::Sqlite(mut writer, changes) => {
                if let Err(e) = writer.conn.execute_batch("COMMIT") {
                    // A failed COMMIT may leave the transaction open.
                    let _ = writer.conn.execute_batch("ROLLBACK");
                    writer.restore_settings();
                    return Err(from_sqlite(e));
                }
                writer.restore_settings();
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
        if let Inner::Sqlite(writer, _) = &mut self.0 {
            if !writer.conn.is_autocommit() {
                // Not committed: an error or a cancelled future.
                let _ = writer.conn.execute_batch("ROLLBACK");
            }
            writer.restore_settings();
        }
    }
}

pub(super) fn ended() -> StoreError {
    StoreError::Other("statement after the end of its transaction".into())
}
