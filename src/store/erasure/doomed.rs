//! What an erasure takes with the person's rows: the messages, attachments
//! and mail that go, the contents no row refers to any more, and the
//! address replaced by the pseudonym wherever free text mentions it.

use std::collections::BTreeSet;

use crate::store::sql::{self, WriteTx};
use crate::store::{Store, StoreError};

use super::chunks::{each_chunk, ints, select_ids, sorted};
use super::footprint::Footprint;
use super::text::{mentions, replace_ignoring_case};

/// The columns that may mention an address in free text, each with its
/// table's key: the address is replaced by the pseudonym wherever it
/// appears, also in what other people wrote.
const MENTIONS: [(&str, &str); 10] = [
    ("tickets", "summary"),
    ("tickets", "description"),
    ("tickets", "reply_to"),
    ("comments", "body"),
    ("ticket_events", "actor"),
    ("ticket_events", "old_value"),
    ("ticket_events", "new_value"),
    ("ticket_events", "detail"),
    ("inbound_messages", "detail"),
    ("outbox", "last_error"),
];

/// What an erasure deletes, by id.
#[derive(Debug, Default)]
pub(super) struct Doomed {
    pub(super) messages: Vec<i64>,
    pub(super) attachments: Vec<i64>,
    pub(super) mail: Vec<i64>,
}

impl Store {
    /// The rows an erasure deletes: their messages, the attachments they
    /// sent, the mail sent to them or about their requests or naming them;
    /// with `delete`, also everything of the tickets they reported.
    pub(super) async fn doomed(
        tx: &mut WriteTx,
        email: &str,
        found: &Footprint,
        delete: bool,
    ) -> Result<Doomed, StoreError> {
        let reported = &found.reported;
        let mut messages: BTreeSet<i64> = found.messages.iter().copied().collect();
        if delete {
            messages.extend(Self::messages_on_tickets(tx, reported).await?);
        }
        let messages = sorted(messages);

        let mut attachments = BTreeSet::new();
        for (sql, ids) in [
            (
                "SELECT id FROM attachments WHERE inbound_message_id IN ({ids})",
                &messages,
            ),
            (
                "SELECT id FROM attachments WHERE comment_id IN ({ids})",
                &found.comments,
            ),
            // A ticket's first message's files have no comment.
            (
                if delete {
                    "SELECT id FROM attachments WHERE ticket_id IN ({ids})"
                } else {
                    "SELECT id FROM attachments WHERE comment_id IS NULL AND ticket_id IN ({ids})"
                },
                reported,
            ),
        ] {
            attachments.extend(select_ids(tx, sql, &[], ids).await?);
        }

        let mut mail: BTreeSet<i64> = found.mail.iter().copied().collect();
        // Everything sent about their requests carries their words.
        mail.extend(
            select_ids(
                tx,
                "SELECT id FROM outbox WHERE ticket_id IN ({ids})",
                &[],
                reported,
            )
            .await?,
        );
        // Mail about other tickets they are on (a team notification of
        // their comment) when it names them.
        let others: Vec<i64> = (found.tickets().into_iter())
            .filter(|id| reported.binary_search(id).is_err())
            .collect();
        let (rows, _) = each_chunk(
            tx,
            "SELECT id, raw_sha256 FROM outbox WHERE ticket_id IN ({ids})",
            &[],
            &ints(&others),
        )
        .await?;
        for row in rows {
            let id: i64 = row.try_get(0)?;
            if !mail.contains(&id)
                && mentions(
                    &Self::blob_in(tx, &row.try_get::<String>(1)?).await?,
                    email.as_bytes(),
                )
            {
                mail.insert(id);
            }
        }
        Ok(Doomed {
            messages,
            attachments: sorted(attachments),
            mail: sorted(mail),
        })
    }

    /// The messages filed on these tickets, with every copy of them.
    pub(in crate::store) async fn messages_on_tickets(
        tx: &mut WriteTx,
        tickets: &[i64],
    ) -> Result<Vec<i64>, StoreError> {
        let on_tickets = select_ids(
            tx,
            "SELECT id FROM inbound_messages WHERE ticket_id IN ({ids})",
            &[],
            tickets,
        )
        .await?;
        let mut messages: BTreeSet<i64> = select_ids(
            tx,
            "SELECT id FROM inbound_messages WHERE duplicate_of IN ({ids})",
            &[],
            &on_tickets,
        )
        .await?
        .into_iter()
        .collect();
        messages.extend(on_tickets);
        Ok(sorted(messages))
    }

    /// The contents (by digest) of the rows about to go.
    pub(super) async fn contents_of(
        tx: &mut WriteTx,
        doomed: &Doomed,
    ) -> Result<Vec<String>, StoreError> {
        let mut contents = BTreeSet::new();
        for (sql, ids) in [
            (
                "SELECT raw_sha256 FROM inbound_messages WHERE id IN ({ids})",
                &doomed.messages,
            ),
            (
                "SELECT sha256 FROM attachments WHERE id IN ({ids})",
                &doomed.attachments,
            ),
            (
                "SELECT raw_sha256 FROM outbox WHERE id IN ({ids})",
                &doomed.mail,
            ),
        ] {
            let (rows, _) = each_chunk(tx, sql, &[], &ints(ids)).await?;
            for row in rows {
                contents.insert(row.try_get::<String>(0)?);
            }
        }
        Ok(contents.into_iter().collect())
    }

    /// Deletes those of `contents` that no row refers to any more (the
    /// same attachment sent by someone else stays); how many.
    pub(super) async fn delete_unreferenced(
        tx: &mut WriteTx,
        contents: Vec<String>,
    ) -> Result<u64, StoreError> {
        let args: Vec<sql::Arg<'_>> = contents.iter().map(sql::Arg::from).collect();
        let (rows, _) = each_chunk(
            tx,
            "SELECT raw_sha256 FROM inbound_messages WHERE raw_sha256 IN ({ids})
             UNION SELECT sha256 FROM attachments WHERE sha256 IN ({ids})
             UNION SELECT raw_sha256 FROM outbox WHERE raw_sha256 IN ({ids})",
            &[],
            &args,
        )
        .await?;
        let kept: BTreeSet<String> = rows
            .iter()
            .map(|r| r.try_get::<String>(0))
            .collect::<Result<_, _>>()?;
        let unreferenced: Vec<String> = (contents.into_iter())
            .filter(|sha| !kept.contains(sha))
            .collect();
        Self::delete_contents(tx, &unreferenced).await
    }

    /// Replaces the address by the pseudonym in free text (`MENTIONS`),
    /// whatever its case; how many values changed.
    pub(super) async fn replace_mentions(
        tx: &mut WriteTx,
        email: &str,
        pseudonym: &str,
    ) -> Result<u64, StoreError> {
        let mut changed = 0;
        let pattern = format!("%{email}%");
        for (table, column) in MENTIONS {
            let rows = sql::query(format!(
                "SELECT id, {column} FROM {table} WHERE LOWER({column}) LIKE $1"
            ))
            .bind(pattern.as_str())
            .fetch_all(&mut *tx)
            .await?;
            for row in rows {
                let text: String = row.try_get(1)?;
                let replaced = replace_ignoring_case(&text, email, pseudonym);
                if replaced != text {
                    sql::query(format!("UPDATE {table} SET {column} = $1 WHERE id = $2"))
                        .bind(replaced)
                        .bind(row.try_get::<i64>(0)?)
                        .execute(tx)
                        .await?;
                    changed += 1;
                }
            }
        }
        Ok(changed)
    }
}
