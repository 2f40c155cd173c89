//! Erasing a person's data on request (GDPR article 17, `mailgate
//! customers forget`): what is theirs is found (`footprint`), deleted or
//! overwritten with a pseudonym in one transaction, logged without
//! personal data, and on SQLite wiped from the file and its log.
//!
//! This file holds what callers see of it and the transaction itself;
//! `footprint.rs` finds the person's rows, `doomed.rs` what goes with them,
//! `wipe.rs` wipes the SQLite file, `chunks.rs` and `text.rs` help.

pub(super) mod chunks;
mod doomed;
mod footprint;
mod text;
mod wipe;

pub(in crate::store) use wipe::purge_search_index;

use std::collections::BTreeMap;

use super::sql::{self, WriteTx};
use super::{Store, StoreError, now};

use chunks::{change, select_ids};

pub use crate::model::TicketsOnErasure;

/// What stands in place of a text the person wrote.
pub const ERASED: &str = "[erased]";

/// An erasure to run.
#[derive(Debug, Clone)]
pub struct Erasure<'a> {
    pub email: &'a str,
    pub tickets: TicketsOnErasure,
    /// Who asks: the OS user, `cli`, or `api:NAME`. Logged.
    pub actor: &'a str,
    /// Count only: the transaction is rolled back.
    pub dry_run: bool,
}

/// What an erasure did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErasureReport {
    /// The erasure log's row; none for a dry run.
    pub log_id: Option<i64>,
    /// What the person is called from now on.
    pub pseudonym: String,
    /// Rows by kind (see `Counts`).
    pub counts: BTreeMap<&'static str, u64>,
    /// SQLite only: what became of the file (none on PostgreSQL and for
    /// a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileWipe>,
}

/// On SQLite, whether the database file and its log were wiped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileWipe {
    /// The log was copied into the file and cut to nothing.
    pub log_truncated: bool,
    /// The address was still in the file after the erasure (in free space
    /// of pages written before it, which `secure_delete` does not reach),
    /// so the file was rewritten with `VACUUM`.
    pub vacuumed: bool,
    /// The address is still somewhere in the file: in a message or a mail
    /// of someone else that names it, which is their data and stays.
    pub address_left: bool,
    /// Why the file could not be wiped (the erasure itself is committed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// Rows removed or rewritten, by kind, as logged and printed.
type Counts = BTreeMap<&'static str, u64>;

/// Erasure (`mailgate customers forget`).
impl Store {
    /// Erases what is stored about an address in one transaction (see
    /// README.md, "Customers' data"). [`StoreError::NotFound`] when nothing
    /// is. A dry run does the same and rolls it back, so its counts are
    /// exactly those of the real one.
    pub async fn forget_customer(
        &self,
        erasure: &Erasure<'_>,
    ) -> Result<ErasureReport, StoreError> {
        let email = erasure.email.trim().to_lowercase();
        let mut tx = self.begin_erasure().await?;
        let mut erased = Self::erase(&mut tx, &email, erasure).await;
        if erased.is_ok()
            && let Err(e) = self.check_foreign_keys(&mut tx, "erasure", None).await
        {
            erased = Err(e);
        }
        let done = match erased {
            Ok(report) if !erasure.dry_run => tx.commit().await.map(|()| report),
            other => {
                drop(tx);
                other
            }
        };
        let mut report = done?;
        if erasure.dry_run {
            report.log_id = None;
        } else if let Some(writer) = &self.sqlite_writer {
            // The erasure is committed: a wipe that fails (the file busy
            // for longer than busy_timeout) is reported, not an error.
            let writer = writer.lock().await;
            report.file = Some(
                Self::wipe_file(&writer, &email).unwrap_or_else(|e| FileWipe {
                    log_truncated: false,
                    vacuumed: false,
                    address_left: true,
                    failed: Some(e.to_string()),
                }),
            );
        }
        Ok(report)
    }

    async fn erase(
        tx: &mut WriteTx,
        email: &str,
        erasure: &Erasure<'_>,
    ) -> Result<ErasureReport, StoreError> {
        let found = Self::footprint(tx, email).await?;
        if found.is_empty() {
            return Err(StoreError::NotFound(format!(
                "nothing is stored about {email}"
            )));
        }
        let log_id: i64 = sql::query(
            "INSERT INTO erasure_log (erased_at, actor, mode, counts) VALUES ($1, $2, $3, '{}')
             RETURNING id",
        )
        .bind(now())
        .bind(erasure.actor)
        .bind(erasure.tickets.as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let pseudonym = format!("erased-{log_id}@invalid");
        let delete = erasure.tickets == TicketsOnErasure::Delete;
        let mut counts = Counts::new();

        for (kind, table) in [
            ("portal_sessions", "portal_sessions"),
            ("portal_sign_in_links", "portal_login_tokens"),
            ("portal_consents", "portal_consents"),
        ] {
            let n = sql::query(format!("DELETE FROM {table} WHERE email = $1"))
                .bind(email)
                .execute(tx)
                .await?;
            counts.insert(kind, n);
        }

        let doomed = Self::doomed(tx, email, &found, delete).await?;
        counts.insert(
            "mail_pending_cancelled",
            select_ids(
                tx,
                "SELECT id FROM outbox WHERE status = 'pending' AND id IN ({ids})",
                &[],
                &doomed.mail,
            )
            .await?
            .len() as u64,
        );
        let contents = Self::contents_of(tx, &doomed).await?;

        let n = change(
            tx,
            "DELETE FROM attachments WHERE id IN ({ids})",
            &[],
            &doomed.attachments,
        )
        .await?;
        counts.insert("attachments", n);
        let n = change(
            tx,
            "DELETE FROM outbox WHERE id IN ({ids})",
            &[],
            &doomed.mail,
        )
        .await?;
        counts.insert("mail", n);
        // Webhook bodies carry the ticket's facts and the comments' text:
        // those about their tickets, or naming them, go (pending ones are
        // not sent).
        let mut n = change(
            tx,
            "DELETE FROM webhook_deliveries WHERE ticket_id IN ({ids})",
            &[],
            &found.reported,
        )
        .await?;
        n += sql::query("DELETE FROM webhook_deliveries WHERE LOWER(body) LIKE $1")
            .bind(format!("%{email}%"))
            .execute(tx)
            .await?;
        counts.insert("webhook_deliveries", n);
        if delete {
            let n = Self::delete_ticket_parts(tx, &found.reported).await?;
            counts.insert("comments_deleted", n);
        }
        Self::delete_messages(tx, &doomed.messages).await?;
        counts.insert("messages", doomed.messages.len() as u64);

        let erased: &[sql::Arg<'_>] = &[pseudonym.as_str().into(), ERASED.into()];
        if delete {
            let n = Self::delete_tickets_themselves(tx, &found.reported).await?;
            counts.insert("tickets_deleted", n);
        } else {
            // Key, status, fields and times stay for the team's figures.
            let n = change(
                tx,
                "UPDATE tickets SET reporter_email = $1, reporter_name = NULL, reply_to = NULL,
                     summary = $2, description = $2
                 WHERE id IN ({ids})",
                erased,
                &found.reported,
            )
            .await?;
            counts.insert("tickets_anonymised", n);
            change(
                tx,
                "UPDATE ticket_unrecognized SET value = $2 WHERE ticket_id IN ({ids})",
                erased,
                &found.reported,
            )
            .await?;
        }
        let n = sql::query(
            "UPDATE comments SET author_email = $1, author_name = NULL, body = $2
             WHERE author_email = $3",
        )
        .bind(pseudonym.as_str())
        .bind(ERASED)
        .bind(email)
        .execute(tx)
        .await?;
        counts.insert("comments_erased", n);
        let n = sql::query("UPDATE ticket_watchers SET email = $1, name = NULL WHERE email = $2")
            .bind(pseudonym.as_str())
            .bind(email)
            .execute(tx)
            .await?;
        counts.insert("watchers", n);
        if let Some(id) = found.customer_id {
            let referenced: i64 = sql::query("SELECT COUNT(*) FROM tickets WHERE customer_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            // Nothing refers to the row any more: it goes.
            let n = if referenced == 0 {
                sql::query("DELETE FROM customers WHERE id = $1")
                    .bind(id)
                    .execute(tx)
                    .await?
            } else {
                sql::query(
                    "UPDATE customers SET email = $1, name = NULL, organisation = NULL,
                         language = NULL, registered = 0
                     WHERE id = $2",
                )
                .bind(pseudonym.as_str())
                .bind(id)
                .execute(tx)
                .await?
            };
            counts.insert("customer", n);
        }
        counts.insert(
            "mentions",
            Self::replace_mentions(tx, email, &pseudonym).await?,
        );
        counts.insert("contents", Self::delete_unreferenced(tx, contents).await?);

        let logged = serde_json::to_string(&counts)
            .map_err(|e| StoreError::Other(format!("erasure counts: {e}")))?;
        sql::query("UPDATE erasure_log SET counts = $1 WHERE id = $2")
            .bind(logged)
            .bind(log_id)
            .execute(tx)
            .await?;
        Ok(ErasureReport {
            log_id: Some(log_id),
            pseudonym,
            counts,
            file: None,
        })
    }
}

/// What erasure and retention share: rows of tickets and messages deleted
/// with what refers to them, and the foreign keys checked afterwards.
impl Store {
    /// Deletes what hangs off tickets about to be deleted (history,
    /// products, watchers, unrecognised values, comments) and unlinks what
    /// only points at them; how many comments went.
    pub(in crate::store) async fn delete_ticket_parts(
        tx: &mut WriteTx,
        tickets: &[i64],
    ) -> Result<u64, StoreError> {
        for sql in [
            "UPDATE tickets SET follows_ticket_id = NULL WHERE follows_ticket_id IN ({ids})",
            "UPDATE inbound_retries SET ticket_id = NULL WHERE ticket_id IN ({ids})",
            "DELETE FROM ticket_events WHERE ticket_id IN ({ids})",
            "DELETE FROM ticket_products WHERE ticket_id IN ({ids})",
            "DELETE FROM ticket_watchers WHERE ticket_id IN ({ids})",
            "DELETE FROM ticket_unrecognized WHERE ticket_id IN ({ids})",
        ] {
            change(tx, sql, &[], tickets).await?;
        }
        change(
            tx,
            "DELETE FROM comments WHERE ticket_id IN ({ids})",
            &[],
            tickets,
        )
        .await
    }

    /// Deletes the ticket rows (after `delete_ticket_parts` and their
    /// messages, attachments and mail); how many.
    pub(in crate::store) async fn delete_tickets_themselves(
        tx: &mut WriteTx,
        tickets: &[i64],
    ) -> Result<u64, StoreError> {
        change(tx, "DELETE FROM tickets WHERE id IN ({ids})", &[], tickets).await
    }

    /// Deletes received messages (with every copy of them among `ids`):
    /// what refers to them first, copies before first copies; how many.
    pub(in crate::store) async fn delete_messages(
        tx: &mut WriteTx,
        ids: &[i64],
    ) -> Result<u64, StoreError> {
        for sql in [
            "UPDATE comments SET inbound_message_id = NULL WHERE inbound_message_id IN ({ids})",
            "UPDATE attachments SET inbound_message_id = NULL WHERE inbound_message_id IN ({ids})",
            "DELETE FROM inbound_retries WHERE inbound_message_id IN ({ids})",
            "DELETE FROM inbound_messages WHERE duplicate_of IS NOT NULL AND id IN ({ids})",
        ] {
            change(tx, sql, &[], ids).await?;
        }
        change(
            tx,
            "DELETE FROM inbound_messages WHERE id IN ({ids})",
            &[],
            ids,
        )
        .await
    }

    /// SQLite, in a transaction of `begin_erasure` (foreign keys not
    /// enforced): fails when a row refers to one deleted, so that the
    /// caller rolls back. `tables` limits the check to rows of these
    /// tables (all when `None`). PostgreSQL enforces the keys itself.
    pub(in crate::store) async fn check_foreign_keys(
        &self,
        tx: &mut WriteTx,
        what: &str,
        tables: Option<&[&str]>,
    ) -> Result<(), StoreError> {
        if self.sqlite_writer.is_none() {
            return Ok(());
        }
        let statements: Vec<String> = match tables {
            None => vec!["PRAGMA foreign_key_check".to_owned()],
            Some(tables) => (tables.iter())
                .map(|t| format!("PRAGMA foreign_key_check({t})"))
                .collect(),
        };
        for statement in statements {
            let broken = sql::query(statement).fetch_all(&mut *tx).await?;
            if let Some(row) = broken.first() {
                return Err(StoreError::Other(format!(
                    "the {what} would leave {} row(s) referring to deleted ones (first in {}); nothing was changed",
                    broken.len(),
                    row.try_get::<String>(0)?
                )));
            }
        }
        Ok(())
    }
}
