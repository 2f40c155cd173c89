//! A person's footprint: everything stored about one address, found the
//! same way for export and erasure.

use std::collections::BTreeSet;

use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError};

use super::chunks::{each_chunk, ids_of, ints, select_ids, sorted};
use super::text::sent_by;

/// Everything stored about one address, found the same way for export and
/// erasure.
#[derive(Debug, Clone, Default)]
pub(in crate::store) struct Footprint {
    pub customer_id: Option<i64>,
    /// Tickets they reported, watch, or commented on (by id).
    pub reported: Vec<i64>,
    pub watched: Vec<i64>,
    pub commented: Vec<i64>,
    /// The comments they wrote.
    pub comments: Vec<i64>,
    /// The messages they sent (with every copy received again).
    pub messages: Vec<i64>,
    /// The mail sent to them.
    pub mail: Vec<i64>,
    /// Portal records: sessions, sign-in links, consents.
    pub portal: [i64; 3],
}

impl Footprint {
    pub fn is_empty(&self) -> bool {
        self.customer_id.is_none()
            && self.reported.is_empty()
            && self.watched.is_empty()
            && self.commented.is_empty()
            && self.messages.is_empty()
            && self.mail.is_empty()
            && self.portal.iter().all(|n| *n == 0)
    }

    /// Every ticket they are on, once.
    pub fn tickets(&self) -> Vec<i64> {
        let all: BTreeSet<i64> = (self.reported.iter())
            .chain(&self.watched)
            .chain(&self.commented)
            .copied()
            .collect();
        all.into_iter().collect()
    }
}

impl Store {
    /// Finds what is stored about an address, in a transaction that
    /// writes nothing (export rolls it back).
    pub(in crate::store) async fn footprint(
        tx: &mut WriteTx,
        email: &str,
    ) -> Result<Footprint, StoreError> {
        let mut found = Footprint {
            customer_id: sql::query("SELECT id FROM customers WHERE email = $1")
                .bind(email)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?,
            ..Footprint::default()
        };
        found.reported = ids_of(
            &sql::query(
                "SELECT id FROM tickets WHERE reporter_email = $1 OR customer_id = $2 ORDER BY id",
            )
            .bind(email)
            .bind(found.customer_id.unwrap_or(-1))
            .fetch_all(&mut *tx)
            .await?,
        )?;
        found.watched = ids_of(
            &sql::query(
                "SELECT ticket_id FROM ticket_watchers WHERE email = $1 ORDER BY ticket_id",
            )
            .bind(email)
            .fetch_all(&mut *tx)
            .await?,
        )?;
        let comments = sql::query(
            "SELECT id, ticket_id, inbound_message_id FROM comments WHERE author_email = $1 ORDER BY id",
        )
        .bind(email)
        .fetch_all(&mut *tx)
        .await?;
        let mut messages = BTreeSet::new();
        let mut commented = BTreeSet::new();
        for row in &comments {
            found.comments.push(row.try_get(0)?);
            commented.insert(row.try_get::<i64>(1)?);
            messages.extend(row.try_get::<Option<i64>>(2)?);
        }
        found.commented = commented.into_iter().collect();

        // Messages on tickets they reported are theirs (the first one, a
        // bounce of mail to them), unless someone else's comment came in
        // them.
        let others = "SELECT c.inbound_message_id FROM comments c
             WHERE c.inbound_message_id = m.id AND c.author_email <> $1";
        let on_reported = format!(
            "SELECT m.id FROM inbound_messages m WHERE m.ticket_id IN ({{ids}})
             AND m.duplicate_of IS NULL AND NOT EXISTS ({others})"
        );
        messages.extend(select_ids(tx, &on_reported, &[email.into()], &found.reported).await?);
        // Anywhere else (a ticket they watch, the quarantine) their
        // messages are known by their header.
        let elsewhere: Vec<i64> = found
            .watched
            .iter()
            .chain(&found.commented)
            .filter(|id| found.reported.binary_search(id).is_err())
            .copied()
            .collect();
        let mut candidates = sql::query(
            "SELECT id, raw_sha256 FROM inbound_messages WHERE ticket_id IS NULL AND duplicate_of IS NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        let elsewhere_rows = format!(
            "SELECT m.id, m.raw_sha256 FROM inbound_messages m WHERE m.ticket_id IN ({{ids}})
             AND m.duplicate_of IS NULL AND NOT EXISTS ({others})"
        );
        let (rows, _) = each_chunk(
            tx,
            &elsewhere_rows,
            &[email.into()],
            &ints(&sorted(elsewhere)),
        )
        .await?;
        candidates.extend(rows);
        for row in candidates {
            let id: i64 = row.try_get(0)?;
            if messages.contains(&id) {
                continue;
            }
            let raw = Self::blob_in(tx, &row.try_get::<String>(1)?).await?;
            if sent_by(&raw, email) {
                messages.insert(id);
            }
        }
        // Every copy received again is the same message.
        let first: Vec<i64> = messages.iter().copied().collect();
        messages.extend(
            select_ids(
                tx,
                "SELECT id FROM inbound_messages WHERE duplicate_of IN ({ids})",
                &[],
                &first,
            )
            .await?,
        );
        found.messages = messages.into_iter().collect();

        // Mail is sent to a comma-separated list: LIKE finds candidates,
        // the list decides.
        for row in
            sql::query("SELECT id, recipients FROM outbox WHERE recipients LIKE $1 ORDER BY id")
                .bind(format!("%{email}%"))
                .fetch_all(&mut *tx)
                .await?
        {
            let recipients: String = row.try_get(1)?;
            if recipients
                .split(',')
                .any(|r| r.trim().eq_ignore_ascii_case(email))
            {
                found.mail.push(row.try_get(0)?);
            }
        }
        for (i, table) in ["portal_sessions", "portal_login_tokens", "portal_consents"]
            .iter()
            .enumerate()
        {
            found.portal[i] = sql::query(format!("SELECT COUNT(*) FROM {table} WHERE email = $1"))
                .bind(email)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        }
        Ok(found)
    }
}
