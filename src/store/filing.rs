//! Filing received messages: one in its own transaction, or a batch in
//! one; recognising a message stored before (same UID) or received before
//! (same bytes, or same Message-ID and body); and what filing did.

use super::batch::{self, BatchLookup};
use super::plan::Plan;
use super::sql::{self, WriteTx};
use super::{Store, StoreError, now};
use crate::intake::{Decision, sha256_hex};
use crate::model::InboundOutcome;

/// Where an inbound message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    File,
    Stdin,
    Imap,
    Maildir,
    /// Written in the customer portal (`/portal/`).
    Portal,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Stdin => "stdin",
            SourceKind::Imap => "imap",
            SourceKind::Maildir => "maildir",
            SourceKind::Portal => "portal",
        }
    }
}

/// A received message as the source knows it.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    pub source: SourceKind,
    pub mailbox: Option<&'a str>,
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
    pub raw: &'a [u8],
    /// The raw message's digests when computed already (a batch has them
    /// computed on every core while the previous one is filed); filing
    /// computes them otherwise.
    pub digest: Option<&'a RawDigest>,
}

/// What identifies a raw message: the SHA-256 of its bytes (also its
/// content's key), and that of its body, which the same message delivered
/// by two routes shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDigest {
    pub raw_sha256: String,
    pub body_sha256: String,
}

impl RawDigest {
    pub fn of(raw: &[u8]) -> Self {
        RawDigest {
            raw_sha256: sha256_hex(raw),
            body_sha256: sha256_hex(body_of(raw)),
        }
    }
}

/// The Message-ID a message is recognised by when delivered twice.
fn message_id_of(decision: &Decision) -> Option<String> {
    decision
        .message
        .message_id
        .as_ref()
        .map(|m| m.as_str().to_owned())
}

/// What filing a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    Ticket {
        key: String,
    },
    /// A follow-up, added to its ticket.
    Comment {
        key: String,
    },
    Ignored {
        reason: String,
    },
    Rejected {
        reason: String,
        /// Its sender was answered by us: the `registered` policy's
        /// polite reply, or the notice of a message too large (queued, if
        /// perhaps held back by the hourly limit or a no-reply address).
        answered: bool,
    },
    /// The same message was received before; nothing new was created.
    Duplicate {
        of_message: i64,
        ticket: Option<String>,
    },
    /// This very IMAP message (mailbox, UIDVALIDITY, UID) is already stored:
    /// only its post-action is left to do (quarantine when it was rejected).
    AlreadyStored {
        ticket: Option<String>,
        rejected: bool,
    },
}

/// One line for people: what `mailgate ingest` prints after each message.
impl std::fmt::Display for Filed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filed::Ticket { key } => write!(f, "{key} created"),
            Filed::Comment { key } => write!(f, "comment on {key}"),
            Filed::Ignored { reason } => write!(f, "ignored ({reason})"),
            Filed::Rejected {
                reason,
                answered: false,
            } => write!(f, "rejected ({reason})"),
            Filed::Rejected {
                reason,
                answered: true,
            } => write!(f, "rejected ({reason}), sender answered"),
            Filed::Duplicate { of_message, ticket } => match ticket {
                Some(key) => write!(f, "duplicate of message {of_message} ({key})"),
                None => write!(f, "duplicate of message {of_message}"),
            },
            Filed::AlreadyStored { ticket, .. } => write!(
                f,
                "already stored ({})",
                ticket.as_deref().unwrap_or("no ticket")
            ),
        }
    }
}

/// The bytes after the header block: the same message delivered to two
/// mailboxes differs in its trace headers but not in its body.
fn body_of(raw: &[u8]) -> &[u8] {
    crate::intake::parse::body_offset(raw).map_or(raw, |at| &raw[at..])
}

/// Runs a future that blocks its thread (a SQLite transaction) where the
/// async runtime's other tasks do not wait for it: on a multi-threaded
/// runtime, this worker's tasks move to another thread meanwhile.
async fn off_runtime<F: std::future::Future>(future: F) -> F::Output {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(future))
        }
        _ => future.await,
    }
}

impl Store {
    /// Files a message and what intake decided about it, in one transaction:
    /// the inbound record with its raw bytes, and the ticket with its
    /// products, watchers, unrecognised values and attachments. A message
    /// received before is recorded as a duplicate and creates nothing.
    pub async fn file_message(
        &self,
        inbound: &Inbound<'_>,
        decision: &Decision,
    ) -> Result<Filed, StoreError> {
        let mut tx = self.begin_write().await?;
        let filed = self.file_in(&mut tx, inbound, decision, None).await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(filed)
    }

    /// Files several messages in one transaction, so that a batch costs one
    /// durable commit instead of one per message (the commit's fsync is
    /// most of the cost of filing). Returns what was filed for a prefix of
    /// `messages`, and the error that stopped there, if any: everything
    /// returned is committed. When one message of the batch fails, the
    /// batch is rolled back and its messages are filed one by one, so a bad
    /// message costs only itself.
    pub async fn file_messages(
        &self,
        messages: &[(Inbound<'_>, &Decision)],
    ) -> (Vec<Filed>, Option<StoreError>) {
        if messages.len() > 1 {
            let batch = async {
                let waiting = std::time::Instant::now();
                let mut tx = self.begin_write().await?;
                let writing = std::time::Instant::now();
                // Every message with its digests, computed here if need be.
                let computed: Vec<Option<RawDigest>> = messages
                    .iter()
                    .map(|(inbound, _)| {
                        inbound.digest.is_none().then(|| RawDigest::of(inbound.raw))
                    })
                    .collect();
                let messages: Vec<(Inbound<'_>, &Decision)> = messages
                    .iter()
                    .zip(&computed)
                    .map(|((inbound, decision), computed)| {
                        let digest = inbound.digest.or(computed.as_ref());
                        (Inbound { digest, ..*inbound }, *decision)
                    })
                    .collect();
                let keys: Vec<_> = messages
                    .iter()
                    .filter_map(|(inbound, decision)| {
                        Some((inbound, inbound.digest?, message_id_of(decision)))
                    })
                    .collect();
                let mut lookup = BatchLookup::new(&mut tx, &keys).await?;
                // The raw messages in a few multi-row statements rather than
                // one each (on PostgreSQL, a round trip each).
                // Those stored ahead (`store_contents_ahead`) are not sent
                // again.
                let raws: Vec<(&str, &[u8])> = (messages.iter())
                    .filter_map(|(inbound, _)| {
                        Some((inbound.digest?.raw_sha256.as_str(), inbound.raw))
                    })
                    .collect();
                let unsent: Vec<(&str, &[u8])> = (raws.iter().copied())
                    .filter(|(sha, _)| !self.take_stored_ahead(sha))
                    .collect();
                // Those stored already are held first, as `put_blob` holds
                // them: a collection running beside cannot take them away.
                let digests: Vec<&str> = unsent.iter().map(|(sha, _)| *sha).collect();
                let held = Self::held_if_stored_all(&mut tx, &digests).await?;
                let unsent: Vec<(&str, &[u8])> = (unsent.into_iter())
                    .filter(|(sha, _)| !held.contains(*sha))
                    .collect();
                Self::put_blobs(&mut tx, &unsent).await?;
                lookup.raws_stored(raws.iter().map(|(sha, _)| (*sha).to_owned()));
                // The automatic mail their senders got within the hour, in
                // one query rather than one per confirmation.
                let senders: Vec<&str> = (messages.iter())
                    .filter_map(|(_, decision)| {
                        Some(decision.message.from.as_ref()?.email.as_str())
                    })
                    .collect();
                Self::count_automatic_mail(&mut tx, &senders).await?;
                let mut filed = Vec::with_capacity(messages.len());
                for (inbound, decision) in &messages {
                    filed.push(
                        self.file_in(&mut tx, inbound, decision, Some(&mut lookup))
                            .await?,
                    );
                }
                let committing = std::time::Instant::now();
                tx.commit().await?;
                tracing::debug!(
                    messages = filed.len(),
                    wait_ms = (writing - waiting).as_millis() as u64,
                    write_ms = (committing - writing).as_millis() as u64,
                    commit_ms = committing.elapsed().as_millis() as u64,
                    "batch committed"
                );
                self.outbox_ready.notify_one();
                Ok::<_, StoreError>(filed)
            };
            // A SQLite batch runs synchronously for tens of milliseconds
            // (its commit waits for the disk): off the runtime's workers.
            let batch = if self.sqlite_writer.is_some() {
                off_runtime(batch).await
            } else {
                batch.await
            };
            match batch {
                Ok(filed) => return (filed, None),
                // Nothing can be filed while the database is away.
                Err(e @ StoreError::Unavailable(_)) => return (Vec::new(), Some(e)),
                Err(e) => {
                    tracing::debug!(error = %e, "batch not filed; filing its messages one by one");
                }
            }
        }
        let mut filed = Vec::with_capacity(messages.len());
        for (inbound, decision) in messages {
            match self.file_message(inbound, decision).await {
                Ok(f) => filed.push(f),
                Err(e) => return (filed, Some(e)),
            }
        }
        (filed, None)
    }

    /// Files one message in `tx`. In a batch, `lookup` answers what the
    /// database held before it (see `batch.rs`).
    async fn file_in(
        &self,
        tx: &mut WriteTx,
        inbound: &Inbound<'_>,
        decision: &Decision,
        lookup: Option<&mut BatchLookup>,
    ) -> Result<Filed, StoreError> {
        let computed;
        let digest = if let Some(digest) = inbound.digest {
            digest
        } else {
            computed = RawDigest::of(inbound.raw);
            &computed
        };

        let raw_with_the_batch =
            (lookup.as_deref()).is_some_and(|l| l.raw_stored(&digest.raw_sha256));
        let stored = match lookup.as_deref().and_then(|l| l.stored(inbound)) {
            Some(stored) => stored,
            None => Self::stored_uid(tx, inbound).await?,
        };
        if let Some((ticket, rejected)) = stored {
            return Ok(Filed::AlreadyStored { ticket, rejected });
        }

        let message_id = message_id_of(decision);
        let earlier = match lookup
            .as_deref()
            .and_then(|l| l.earlier(digest, message_id.as_deref()))
        {
            Some(earlier) => earlier,
            None => Self::first_copy(tx, digest, message_id.as_deref()).await?,
        };
        if let Some(lookup) = lookup {
            lookup.filed(digest, message_id.as_deref());
        }
        let RawDigest {
            raw_sha256,
            body_sha256,
        } = digest;

        if !raw_with_the_batch && !self.take_stored_ahead(raw_sha256) {
            Self::put_blob(tx, raw_sha256, inbound.raw).await?;
        }
        let duplicate_of = earlier.as_ref().map(|(id, _)| *id);
        let plan = match earlier {
            Some((of_message, ticket)) => Plan::Duplicate { of_message, ticket },
            None => self.plan_filing(tx, decision).await?,
        };
        let (outcome, reason, detail) = plan.outcome();
        let inbound_id: i64 = sql::query(
            "INSERT INTO inbound_messages (source, mailbox, uidvalidity, uid, message_id, raw_sha256,
                 body_sha256, size, outcome, reason, detail, duplicate_of, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(inbound.source.as_str())
        .bind(inbound.mailbox)
        .bind(inbound.uidvalidity.map(i64::from))
        .bind(inbound.uid.map(i64::from))
        .bind(message_id.as_deref())
        .bind(raw_sha256)
        .bind(body_sha256)
        .bind(inbound.raw.len() as i64)
        .bind(outcome.as_str())
        .bind(reason)
        .bind(detail)
        .bind(duplicate_of)
        .bind(now())
        .fetch_one(tx)
        .await?
        .try_get(0)?;

        self.carry_out(
            tx,
            plan,
            inbound_id,
            inbound.mailbox,
            decision,
            Some(inbound.source),
        )
        .await
    }

    /// The ticket and rejection of a message stored before under the same
    /// UID.
    async fn stored_uid(
        tx: &mut WriteTx,
        inbound: &Inbound<'_>,
    ) -> Result<Option<(Option<String>, bool)>, StoreError> {
        let (Some(mailbox), Some(validity), Some(uid)) =
            (inbound.mailbox, inbound.uidvalidity, inbound.uid)
        else {
            return Ok(None);
        };
        let row = sql::query(
            "SELECT t.key, m.outcome FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id
             WHERE m.mailbox = $1 AND m.uidvalidity = $2 AND m.uid = $3",
        )
        .bind(mailbox)
        .bind(i64::from(validity))
        .bind(i64::from(uid))
        .fetch_optional(tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let outcome: InboundOutcome = row.named(1)?;
        Ok(Some((row.try_get(0)?, outcome == InboundOutcome::Rejected)))
    }

    /// The first copy of a message received before (same bytes, or same
    /// Message-ID and body), with its ticket.
    async fn first_copy(
        tx: &mut WriteTx,
        digest: &RawDigest,
        message_id: Option<&str>,
    ) -> Result<batch::Earlier, StoreError> {
        // Two look-ups, one per index: PostgreSQL planned the OR as a scan
        // of every first copy, once per message filed.
        let row = sql::query(
            "SELECT m.id, t.key FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id
             WHERE m.id = (SELECT MIN(id) FROM (
                 SELECT id FROM inbound_messages
                   WHERE duplicate_of IS NULL AND raw_removed_at IS NULL AND raw_sha256 = $1
                 UNION ALL
                 SELECT id FROM inbound_messages
                   WHERE duplicate_of IS NULL AND message_id = $2 AND body_sha256 = $3) AS firsts)",
        )
        .bind(&digest.raw_sha256)
        .bind(message_id)
        .bind(&digest.body_sha256)
        .fetch_optional(tx)
        .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
    }
}
