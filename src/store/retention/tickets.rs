//! `closed_tickets`: tickets closed for longer than the rule says are
//! anonymised (kept for the team's figures: key, status, fields, times) or
//! deleted with everything hanging off them, as `customers forget` does
//! for a person's tickets and with the same helpers.

use super::{BATCH, Batch};
use crate::store::erasure::chunks::{change, ids_of};
use crate::store::sql::{self, WriteTx};
use crate::store::{ERASED, Store, StoreError, TicketsOnErasure};

/// Who an anonymised ticket was reported by, and who wrote its comments.
pub const ANONYMISED: &str = "anonymised@invalid";

impl Store {
    /// One batch of tickets closed before `cutoff`, anonymised or deleted.
    /// A ticket with mail or a webhook delivery still pending waits for
    /// them to go. Counts the tickets.
    pub(super) async fn retire_tickets(
        tx: &mut WriteTx,
        cutoff: &str,
        at: &str,
        mode: TicketsOnErasure,
    ) -> Result<Batch, StoreError> {
        let not_anonymised = match mode {
            TicketsOnErasure::Anonymise => " AND t.anonymised_at IS NULL",
            // Anonymised earlier, under the other mode: deleted now.
            TicketsOnErasure::Delete => "",
        };
        let ids = ids_of(
            &sql::query(format!(
                "SELECT t.id FROM tickets t
                 WHERE t.status = 'closed' AND COALESCE(t.status_changed_at, t.updated_at) < $1{not_anonymised}
                   AND NOT EXISTS (SELECT 1 FROM outbox o
                                   WHERE o.ticket_id = t.id AND o.status = 'pending')
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries w
                                   WHERE w.ticket_id = t.id AND w.status = 'pending')
                 ORDER BY t.id LIMIT $2"
            ))
            .bind(cutoff)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?,
        )?;
        if ids.is_empty() {
            return Ok(Batch::default());
        }
        // What the customer and the team wrote and sent goes either way:
        // the messages (raw bytes collected afterwards), the files, the
        // mail and what webhooks were told.
        let messages = Self::messages_on_tickets(tx, &ids).await?;
        for sql in [
            "DELETE FROM attachments WHERE ticket_id IN ({ids})",
            "DELETE FROM outbox WHERE ticket_id IN ({ids})",
            "DELETE FROM webhook_deliveries WHERE ticket_id IN ({ids})",
        ] {
            change(tx, sql, &[], &ids).await?;
        }
        let n = match mode {
            TicketsOnErasure::Delete => {
                Self::delete_ticket_parts(tx, &ids).await?;
                Self::delete_messages(tx, &messages).await?;
                Self::delete_tickets_themselves(tx, &ids).await?
            }
            TicketsOnErasure::Anonymise => {
                Self::delete_messages(tx, &messages).await?;
                Self::anonymise_tickets(tx, &ids, at).await?
            }
        };
        Ok(Batch {
            more: ids.len() as i64 >= BATCH,
            ..Batch::of(usize::try_from(n).unwrap_or(usize::MAX), 0)
        })
    }

    /// Replaces what names or quotes people on these tickets: reporter,
    /// texts, comments, watchers, unrecognised values, and addresses in
    /// their history. The reporter becomes [`ANONYMISED`], whose customer
    /// row all anonymised tickets share.
    async fn anonymise_tickets(tx: &mut WriteTx, ids: &[i64], at: &str) -> Result<u64, StoreError> {
        let customer = Self::anonymised_customer(tx, at).await?;
        change(
            tx,
            "DELETE FROM ticket_watchers WHERE ticket_id IN ({ids})",
            &[],
            ids,
        )
        .await?;
        for sql in [
            "UPDATE ticket_unrecognized SET value = $2 WHERE ticket_id IN ({ids})",
            "UPDATE comments SET author_email = $1, author_name = NULL, body = $2
             WHERE ticket_id IN ({ids})",
            // Field changes of closed sets (status, severity) stay; what
            // may hold an address or a person's words does not.
            "UPDATE ticket_events SET
                 actor = CASE WHEN actor LIKE '%@%' THEN $1 ELSE actor END,
                 old_value = CASE WHEN old_value LIKE '%@%' OR field IN ('summary', 'description')
                                  THEN $2 ELSE old_value END,
                 new_value = CASE WHEN new_value LIKE '%@%' OR field IN ('summary', 'description')
                                  THEN $2 ELSE new_value END,
                 detail = NULL
             WHERE ticket_id IN ({ids})",
        ] {
            change(tx, sql, &[ANONYMISED.into(), ERASED.into()], ids).await?;
        }
        change(
            tx,
            "UPDATE tickets SET reporter_email = $1, reporter_name = NULL, reply_to = NULL,
                 summary = $2, description = $2, customer_id = $3, anonymised_at = $4
             WHERE id IN ({ids})",
            &[ANONYMISED.into(), ERASED.into(), customer.into(), at.into()],
            ids,
        )
        .await
    }

    /// The customer row of anonymised tickets, made when first needed.
    async fn anonymised_customer(tx: &mut WriteTx, at: &str) -> Result<i64, StoreError> {
        sql::query(
            "INSERT INTO customers (email, created_at) VALUES ($1, $2)
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(ANONYMISED)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sql::query("SELECT id FROM customers WHERE email = $1")
            .bind(ANONYMISED)
            .fetch_one(tx)
            .await?
            .try_get(0)
    }
}
