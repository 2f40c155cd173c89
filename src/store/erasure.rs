//! Erasing a person's data on request (GDPR article 17, `mailgate
//! customers forget`): what is theirs is found (`footprint`), deleted or
//! overwritten with a pseudonym in one transaction, logged without
//! personal data, and on SQLite wiped from the file and its log.

use std::collections::{BTreeMap, BTreeSet};

use super::sql::{self, WriteTx};
use super::{Store, StoreError, now};

/// What becomes of the tickets the person reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TicketsOnErasure {
    /// Kept for the team's statistics (key, status, fields, times), with
    /// the texts the person wrote replaced by `[erased]`.
    #[default]
    Anonymise,
    /// Deleted with everything hanging off them (comments of anyone,
    /// history, messages, attachments, mail).
    Delete,
}

impl TicketsOnErasure {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketsOnErasure::Anonymise => "anonymise",
            TicketsOnErasure::Delete => "delete",
        }
    }
}

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

/// Everything stored about one address, found the same way for export and
/// erasure.
#[derive(Debug, Clone, Default)]
pub(super) struct Footprint {
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

/// Ids (or digests) bound per statement: far below both backends' limits
/// on arguments, and PostgreSQL plans a short `IN` list well.
const IDS_PER_STATEMENT: usize = 500;

/// Arguments of a statement run once per chunk of ids.
fn ints(ids: &[i64]) -> Vec<sql::Arg<'static>> {
    ids.iter().map(|id| sql::Arg::from(*id)).collect()
}

/// Runs `template` once per chunk of `ids`: `lead` binds `$1…`, the
/// chunk the placeholders after them, which replace `{ids}`. The rows, or
/// the count of rows changed.
async fn each_chunk(
    tx: &mut WriteTx,
    template: &str,
    lead: &[sql::Arg<'_>],
    ids: &[sql::Arg<'_>],
) -> Result<(Vec<sql::Row>, u64), StoreError> {
    let (mut rows, mut changed) = (Vec::new(), 0);
    let select = template.trim_start().starts_with("SELECT");
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let text = template.replace("{ids}", &sql::placeholders(lead.len() + 1, chunk.len()));
        let mut query = sql::query(text);
        for arg in lead.iter().chain(chunk) {
            query = query.bind(arg.clone());
        }
        if select {
            rows.extend(query.fetch_all(tx).await?);
        } else {
            changed += query.execute(tx).await?;
        }
    }
    Ok((rows, changed))
}

/// The first column of every row, as ids.
fn ids_of(rows: &[sql::Row]) -> Result<Vec<i64>, StoreError> {
    rows.iter().map(|r| r.try_get::<i64>(0)).collect()
}

async fn select_ids(
    tx: &mut WriteTx,
    template: &str,
    lead: &[sql::Arg<'_>],
    ids: &[i64],
) -> Result<Vec<i64>, StoreError> {
    let (rows, _) = each_chunk(tx, template, lead, &ints(ids)).await?;
    ids_of(&rows)
}

async fn change(
    tx: &mut WriteTx,
    template: &str,
    lead: &[sql::Arg<'_>],
    ids: &[i64],
) -> Result<u64, StoreError> {
    Ok(each_chunk(tx, template, lead, &ints(ids)).await?.1)
}

fn sorted(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    ids.into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Whether a raw message's header names this address as its author
/// (From, Sender or Reply-To). Only the header is parsed.
fn sent_by(raw: &[u8], email: &str) -> bool {
    let head = &raw[..crate::intake::parse::body_offset(raw).unwrap_or(raw.len())];
    let mail = crate::intake::parse::parse(head);
    (mail.from.iter())
        .chain(&mail.sender)
        .chain(&mail.reply_to)
        .any(|p| p.email == email)
}

/// Whether `haystack` holds `needle` (lower case ASCII), in any case.
fn mentions(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// `text` with every occurrence of `needle` (lower case ASCII), in any
/// case, replaced.
fn replace_ignoring_case(text: &str, needle: &str, with: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    // ASCII lower-casing keeps every byte where it was.
    while let Some(at) = lower[rest..].find(needle) {
        out.push_str(&text[rest..rest + at]);
        out.push_str(with);
        rest += at + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

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

impl Store {
    /// Finds what is stored about an address, in a transaction that
    /// writes nothing (export rolls it back).
    pub(super) async fn footprint(tx: &mut WriteTx, email: &str) -> Result<Footprint, StoreError> {
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
        if erased.is_ok() && self.sqlite_writer.is_some() {
            // Foreign keys were not enforced (`begin_erasure`).
            let broken = sql::query("PRAGMA foreign_key_check")
                .fetch_all(&mut tx)
                .await?;
            if let Some(row) = broken.first() {
                erased = Err(StoreError::Other(format!(
                    "the erasure would leave {} row(s) referring to deleted ones (first in {}); nothing was changed",
                    broken.len(),
                    row.try_get::<String>(0)?
                )));
            }
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
        if delete {
            let reported = &found.reported;
            for sql in [
                "UPDATE tickets SET follows_ticket_id = NULL WHERE follows_ticket_id IN ({ids})",
                "UPDATE inbound_retries SET ticket_id = NULL WHERE ticket_id IN ({ids})",
                "DELETE FROM ticket_events WHERE ticket_id IN ({ids})",
                "DELETE FROM ticket_products WHERE ticket_id IN ({ids})",
                "DELETE FROM ticket_watchers WHERE ticket_id IN ({ids})",
                "DELETE FROM ticket_unrecognized WHERE ticket_id IN ({ids})",
            ] {
                change(tx, sql, &[], reported).await?;
            }
            let n = change(
                tx,
                "DELETE FROM comments WHERE ticket_id IN ({ids})",
                &[],
                reported,
            )
            .await?;
            counts.insert("comments_deleted", n);
        }

        // Messages: what refers to them first, copies before first copies.
        for sql in [
            "UPDATE comments SET inbound_message_id = NULL WHERE inbound_message_id IN ({ids})",
            "UPDATE attachments SET inbound_message_id = NULL WHERE inbound_message_id IN ({ids})",
            "DELETE FROM inbound_retries WHERE inbound_message_id IN ({ids})",
            "DELETE FROM inbound_messages WHERE duplicate_of IS NOT NULL AND id IN ({ids})",
        ] {
            change(tx, sql, &[], &doomed.messages).await?;
        }
        let copies = change(
            tx,
            "DELETE FROM inbound_messages WHERE id IN ({ids})",
            &[],
            &doomed.messages,
        )
        .await?;
        counts.insert("messages", doomed.messages.len() as u64);
        debug_assert!(copies <= doomed.messages.len() as u64);

        let erased: &[sql::Arg<'_>] = &[pseudonym.as_str().into(), ERASED.into()];
        if delete {
            let n = change(
                tx,
                "DELETE FROM tickets WHERE id IN ({ids})",
                &[],
                &found.reported,
            )
            .await?;
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

/// What an erasure deletes, by id.
#[derive(Debug, Default)]
struct Doomed {
    messages: Vec<i64>,
    attachments: Vec<i64>,
    mail: Vec<i64>,
}

impl Store {
    /// The rows an erasure deletes: their messages, the attachments they
    /// sent, the mail sent to them or about their requests or naming them;
    /// with `delete`, also everything of the tickets they reported.
    async fn doomed(
        tx: &mut WriteTx,
        email: &str,
        found: &Footprint,
        delete: bool,
    ) -> Result<Doomed, StoreError> {
        let reported = &found.reported;
        let mut messages: BTreeSet<i64> = found.messages.iter().copied().collect();
        if delete {
            let on_tickets = select_ids(
                tx,
                "SELECT id FROM inbound_messages WHERE ticket_id IN ({ids})",
                &[],
                reported,
            )
            .await?;
            messages.extend(
                select_ids(
                    tx,
                    "SELECT id FROM inbound_messages WHERE duplicate_of IN ({ids})",
                    &[],
                    &on_tickets,
                )
                .await?,
            );
            messages.extend(on_tickets);
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

    /// The contents (by digest) of the rows about to go.
    async fn contents_of(tx: &mut WriteTx, doomed: &Doomed) -> Result<Vec<String>, StoreError> {
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
    async fn delete_unreferenced(
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
        let unreferenced: Vec<sql::Arg<'_>> = (contents.iter())
            .filter(|sha| !kept.contains(*sha))
            .map(sql::Arg::from)
            .collect();
        each_chunk(
            tx,
            "DELETE FROM blob_chunks WHERE sha256 IN ({ids})",
            &[],
            &unreferenced,
        )
        .await?;
        Ok(each_chunk(
            tx,
            "DELETE FROM blobs WHERE sha256 IN ({ids})",
            &[],
            &unreferenced,
        )
        .await?
        .1)
    }

    /// Replaces the address by the pseudonym in free text (`MENTIONS`),
    /// whatever its case; how many values changed.
    async fn replace_mentions(
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

    /// After an erasure on SQLite: the log copied into the file and cut,
    /// then the file searched for the address; found (in free space the
    /// erasure did not write), the file is rewritten (`VACUUM`). Runs on
    /// the caller's thread, a command's: `VACUUM` takes as long as copying
    /// the file.
    fn wipe_file(writer: &sql::SqliteWriter, email: &str) -> Result<FileWipe, StoreError> {
        let mut wipe = FileWipe {
            log_truncated: truncate_log(writer)?,
            vacuumed: false,
            address_left: false,
            failed: None,
        };
        let Some(file) = writer.file() else {
            return Ok(wipe);
        };
        if file_mentions(&file, email)? {
            writer.run("VACUUM")?;
            wipe.vacuumed = true;
            wipe.log_truncated = truncate_log(writer)?;
            wipe.address_left = file_mentions(&file, email)?;
        }
        Ok(wipe)
    }
}

/// The log copied into the file and cut to nothing, tried again for a
/// while: the checkpoint thread, woken by the erasure's commit, or another
/// process's, may be copying it at the same moment, and then SQLite says
/// busy at once.
fn truncate_log(writer: &sql::SqliteWriter) -> Result<bool, StoreError> {
    for _ in 0..40 {
        if writer.truncate_log()? {
            return Ok(true);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok(false)
}

/// Whether a file holds `email` in any case, read a few megabytes at a time.
fn file_mentions(path: &std::path::Path, email: &str) -> Result<bool, StoreError> {
    file_mentions_by(path, email, 8 << 20)
}

fn file_mentions_by(path: &std::path::Path, email: &str, chunk: usize) -> Result<bool, StoreError> {
    use std::io::Read;
    let unreadable =
        |e: std::io::Error| StoreError::Other(format!("cannot read {}: {e}", path.display()));
    let pattern = regex::bytes::Regex::new(&format!("(?i){}", regex::escape(email)))
        .map_err(|e| StoreError::Other(format!("address pattern: {e}")))?;
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut buffer = vec![0u8; chunk.max(email.len())];
    // What a match cut by the end of a read needs from the one before.
    let overlap = email.len().saturating_sub(1);
    let mut kept = 0;
    loop {
        let read = file.read(&mut buffer[kept..]).map_err(unreadable)?;
        if read == 0 {
            return Ok(false);
        }
        let filled = kept + read;
        if pattern.is_match(&buffer[..filled]) {
            return Ok(true);
        }
        kept = overlap.min(filled);
        buffer.copy_within(filled - kept..filled, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_replaced_in_any_case_and_nothing_else_moves() {
        assert_eq!(
            replace_ignoring_case(
                "Écrit par Marie <MARIE@acme.fr>, cc marie@acme.fr.",
                "marie@acme.fr",
                "erased-3@invalid"
            ),
            "Écrit par Marie <erased-3@invalid>, cc erased-3@invalid."
        );
        assert_eq!(
            replace_ignoring_case("none here", "marie@acme.fr", "x"),
            "none here"
        );
        assert!(mentions(b"To: Marie@Acme.FR\r\n", b"marie@acme.fr"));
        assert!(!mentions(b"To: paul@acme.fr", b"marie@acme.fr"));
    }

    #[test]
    fn a_file_is_searched_across_the_ends_of_its_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        for at in 0..40 {
            let mut bytes = vec![b'.'; 64];
            bytes.splice(at..at, b"M@A.FR".iter().copied());
            std::fs::write(&path, &bytes).unwrap();
            assert!(file_mentions_by(&path, "m@a.fr", 16).unwrap(), "at {at}");
        }
        std::fs::write(&path, vec![b'.'; 100]).unwrap();
        assert!(!file_mentions_by(&path, "m@a.fr", 16).unwrap());
    }

    #[test]
    fn a_message_is_theirs_by_from_sender_or_reply_to() {
        let raw = b"From: Paul <paul@acme.fr>\nReply-To: Marie <Marie@acme.fr>\nSubject: x\n\nFrom: other@x.fr\n";
        assert!(sent_by(raw, "marie@acme.fr"));
        assert!(sent_by(raw, "paul@acme.fr"));
        assert!(!sent_by(raw, "other@x.fr"), "the body is not read");
    }
}
