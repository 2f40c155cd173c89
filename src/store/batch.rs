//! What the database already holds about a batch of messages to file:
//! which of its UIDs are stored, and which earlier first copies its
//! messages may duplicate. Two queries for the whole batch instead of two
//! per message; on PostgreSQL each query is a round trip, and these were
//! two of the dozen or so a new ticket costs.
//!
//! The answers hold for what was committed before the batch. A message
//! that shares a digest with one filed earlier in the same batch is looked
//! up on its own, inside the transaction (`Store::file_in`), so a batch
//! files exactly as its messages would one by one.

use std::collections::{HashMap, HashSet};

use super::sql::{self, WriteTx, placeholders};
use super::{Inbound, RawDigest, StoreError};

/// An earlier message that is not itself a duplicate.
struct FirstCopy {
    id: i64,
    ticket: Option<String>,
    raw_sha256: String,
    message_id: Option<String>,
    body_sha256: String,
}

pub(super) struct BatchLookup {
    /// The mailbox and UIDVALIDITY the UIDs below belong to.
    folder: Option<(String, u32)>,
    /// UIDs of the batch already stored: their ticket and whether they
    /// were rejected.
    stored: HashMap<u32, (Option<String>, bool)>,
    firsts: Vec<FirstCopy>,
    /// Digests of the messages filed so far in this batch.
    filed_raw: HashSet<String>,
    filed_ids: HashSet<(String, String)>,
    /// Raw messages of the batch stored together before it is filed
    /// (`Store::file_messages`).
    raws_stored: HashSet<String>,
}

/// An earlier message found for a message: its id and ticket.
pub(super) type Earlier = Option<(i64, Option<String>)>;

/// Lists are padded to a power of two by repeating their last value, so
/// that a handful of statements, not one per batch size, get prepared.
fn padded<T: Clone>(mut values: Vec<T>) -> Vec<T> {
    if let Some(last) = values.last().cloned() {
        values.resize(values.len().next_power_of_two(), last);
    }
    values
}

impl BatchLookup {
    /// Looks up a batch: `messages` with the digests of their raw bytes and
    /// their Message-IDs.
    pub(super) async fn new(
        tx: &mut WriteTx,
        messages: &[(&Inbound<'_>, &RawDigest, Option<String>)],
    ) -> Result<Self, StoreError> {
        let mut lookup = BatchLookup {
            folder: None,
            stored: HashMap::new(),
            firsts: Vec::new(),
            filed_raw: HashSet::new(),
            filed_ids: HashSet::new(),
            raws_stored: HashSet::new(),
        };
        // UIDs, when the whole batch comes from one folder.
        let folder = match messages.first() {
            Some((first, _, _)) => first.mailbox.zip(first.uidvalidity),
            None => None,
        };
        let uids: Option<Vec<u32>> = folder.and_then(|folder| {
            messages
                .iter()
                .map(|(m, _, _)| (m.mailbox.zip(m.uidvalidity) == Some(folder)).then_some(m.uid?))
                .collect()
        });
        if let (Some((mailbox, validity)), Some(uids)) = (folder, uids) {
            let uids = padded(uids);
            let text = format!(
                "SELECT m.uid, t.key, m.outcome FROM inbound_messages m
                 LEFT JOIN tickets t ON t.id = m.ticket_id
                 WHERE m.mailbox = $1 AND m.uidvalidity = $2 AND m.uid IN ({})",
                placeholders(3, uids.len())
            );
            let mut query = sql::query(&text).bind(mailbox).bind(i64::from(validity));
            for uid in &uids {
                query = query.bind(i64::from(*uid));
            }
            for row in query.fetch_all(tx).await? {
                let uid: i64 = row.try_get(0)?;
                let outcome: String = row.try_get(2)?;
                lookup.stored.insert(
                    u32::try_from(uid).unwrap_or_default(),
                    (row.try_get(1)?, outcome == "rejected"),
                );
            }
            lookup.folder = Some((mailbox.to_owned(), validity));
        }

        // First copies sharing a raw digest, or a Message-ID (the body is
        // compared below); two index look-ups, as in `Store::file_in`.
        let raws = padded(
            messages
                .iter()
                .map(|(_, d, _)| d.raw_sha256.as_str())
                .collect(),
        );
        let ids = padded(
            messages
                .iter()
                .filter_map(|(_, _, id)| id.as_deref())
                .collect(),
        );
        let columns = "SELECT m.id, t.key, m.raw_sha256, m.message_id, m.body_sha256
             FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id
             WHERE m.duplicate_of IS NULL";
        let mut text = format!(
            // The partial index of first copies holds those whose raw
            // bytes are kept (see migration 0015).
            "{columns} AND m.raw_removed_at IS NULL AND m.raw_sha256 IN ({})",
            placeholders(1, raws.len())
        );
        if !ids.is_empty() {
            text += &format!(
                " UNION ALL {columns} AND m.message_id IN ({})",
                placeholders(raws.len() + 1, ids.len())
            );
        }
        let mut query = sql::query(&text);
        for value in raws.iter().chain(&ids) {
            query = query.bind(*value);
        }
        for row in query.fetch_all(tx).await? {
            lookup.firsts.push(FirstCopy {
                id: row.try_get(0)?,
                ticket: row.try_get(1)?,
                raw_sha256: row.try_get(2)?,
                message_id: row.try_get(3)?,
                body_sha256: row.try_get(4)?,
            });
        }
        Ok(lookup)
    }

    /// Whether a message of the batch was stored before: `None` when the
    /// batch look-up does not cover it.
    // Three answers: not covered, covered and new, covered and stored.
    #[allow(clippy::option_option)]
    pub(super) fn stored(&self, inbound: &Inbound<'_>) -> Option<Option<(Option<String>, bool)>> {
        let (mailbox, validity) = self.folder.as_ref()?;
        if inbound.mailbox != Some(mailbox.as_str()) || inbound.uidvalidity != Some(*validity) {
            return None;
        }
        Some(self.stored.get(&inbound.uid?).cloned())
    }

    /// The earliest first copy this message duplicates: `None` when a
    /// message filed earlier in this batch may be it (look it up then).
    pub(super) fn earlier(&self, digest: &RawDigest, message_id: Option<&str>) -> Option<Earlier> {
        let id_body = message_id.map(|id| (id.to_owned(), digest.body_sha256.clone()));
        if self.filed_raw.contains(&digest.raw_sha256)
            || id_body.as_ref().is_some_and(|k| self.filed_ids.contains(k))
        {
            return None;
        }
        let first = self
            .firsts
            .iter()
            .filter(|f| {
                f.raw_sha256 == digest.raw_sha256
                    || (message_id.is_some()
                        && f.message_id.as_deref() == message_id
                        && f.body_sha256 == digest.body_sha256)
            })
            .min_by_key(|f| f.id);
        Some(first.map(|f| (f.id, f.ticket.clone())))
    }

    /// Notes a message filed in this batch.
    /// Notes raw messages stored for the whole batch at once.
    pub(super) fn raws_stored(&mut self, digests: impl IntoIterator<Item = String>) {
        self.raws_stored.extend(digests);
    }

    /// Whether this raw message was stored with the batch's.
    pub(super) fn raw_stored(&self, raw_sha256: &str) -> bool {
        self.raws_stored.contains(raw_sha256)
    }

    pub(super) fn filed(&mut self, digest: &RawDigest, message_id: Option<&str>) {
        self.filed_raw.insert(digest.raw_sha256.clone());
        if let Some(id) = message_id {
            self.filed_ids
                .insert((id.to_owned(), digest.body_sha256.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(raw: &str, body: &str) -> RawDigest {
        RawDigest {
            raw_sha256: raw.into(),
            body_sha256: body.into(),
        }
    }

    fn first(id: i64, ticket: &str, raw: &str, message_id: Option<&str>, body: &str) -> FirstCopy {
        FirstCopy {
            id,
            ticket: Some(ticket.into()),
            raw_sha256: raw.into(),
            message_id: message_id.map(Into::into),
            body_sha256: body.into(),
        }
    }

    #[test]
    fn the_earliest_first_copy_by_bytes_or_by_message_id_and_body() {
        let mut lookup = BatchLookup {
            folder: None,
            stored: HashMap::new(),
            firsts: vec![
                first(9, "SUP-9", "r9", Some("<a@x>"), "b1"),
                first(4, "SUP-4", "r4", Some("<a@x>"), "b1"),
                first(5, "SUP-5", "r5", Some("<c@x>"), "b5"),
            ],
            filed_raw: HashSet::new(),
            filed_ids: HashSet::new(),
            raws_stored: HashSet::new(),
        };
        let found = |l: &BatchLookup, d: &RawDigest, id: Option<&str>| l.earlier(d, id);
        // Same Message-ID and body: the earliest of the two.
        assert_eq!(
            found(&lookup, &digest("new", "b1"), Some("<a@x>")),
            Some(Some((4, Some("SUP-4".into()))))
        );
        // Same bytes.
        assert_eq!(
            found(&lookup, &digest("r5", "other"), None),
            Some(Some((5, Some("SUP-5".into()))))
        );
        // Same Message-ID, another body; no Message-ID at all.
        assert_eq!(
            found(&lookup, &digest("new", "b2"), Some("<a@x>")),
            Some(None)
        );
        assert_eq!(found(&lookup, &digest("new", "b1"), None), Some(None));
        // A copy of a message filed in this batch: not answered here.
        lookup.filed(&digest("n1", "nb"), Some("<n@x>"));
        assert_eq!(found(&lookup, &digest("n1", "zz"), None), None);
        assert_eq!(found(&lookup, &digest("n2", "nb"), Some("<n@x>")), None);
        assert_eq!(
            found(&lookup, &digest("n2", "nb"), Some("<m@x>")),
            Some(None)
        );
    }

    #[test]
    fn stored_uids_only_for_the_folder_looked_up() {
        let lookup = BatchLookup {
            folder: Some(("support".into(), 7)),
            stored: HashMap::from([(3, (Some("SUP-1".into()), false))]),
            firsts: Vec::new(),
            filed_raw: HashSet::new(),
            filed_ids: HashSet::new(),
            raws_stored: HashSet::new(),
        };
        let inbound = |mailbox, validity, uid| Inbound {
            source: super::super::SourceKind::Imap,
            mailbox: Some(mailbox),
            uidvalidity: Some(validity),
            uid: Some(uid),
            raw: b"",
            digest: None,
        };
        assert_eq!(
            lookup.stored(&inbound("support", 7, 3)),
            Some(Some((Some("SUP-1".into()), false)))
        );
        assert_eq!(lookup.stored(&inbound("support", 7, 4)), Some(None));
        assert_eq!(lookup.stored(&inbound("support", 8, 3)), None);
        assert_eq!(lookup.stored(&inbound("sales", 7, 3)), None);
    }

    #[test]
    fn lists_are_padded_to_a_power_of_two() {
        assert_eq!(padded(vec![1, 2, 3]), vec![1, 2, 3, 3]);
        assert_eq!(padded(vec![1, 2, 3, 4]), vec![1, 2, 3, 4]);
        assert_eq!(padded(Vec::<i32>::new()), Vec::<i32>::new());
    }
}
