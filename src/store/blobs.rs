//! Contents (raw messages, attachments, outgoing mail) stored once by
//! their SHA-256: written in chunks when large, in multi-row inserts when
//! many, ahead of filing on PostgreSQL, and read back whole.

use std::collections::HashSet;

use sqlx::Row;

use super::slices::Source;
use super::sql::{self, Durability, WriteTx};
use super::{Store, StoreError, now};

/// Contents larger than this are stored in chunks of this size (see
/// migration 0007).
pub(super) const BLOB_CHUNK: usize = 1 << 20;

/// At most this many digests of contents stored ahead are remembered.
const STORED_AHEAD_KEPT: usize = 10_000;

/// Contents stored ahead that were first stored longer ago than this are
/// dated anew (`refresh_old_contents`): well inside the collection's grace
/// period of an hour, so that none is collected before its filing commits.
const REFRESH_OLDER_THAN: chrono::Duration = chrono::Duration::minutes(20);

/// Contents larger than this are looked up before being stored.
const LOOK_BEFORE_SENDING: usize = 16 << 10;

/// A content's row: its size, its bytes (empty when chunked or a slice),
/// and where it lies when it is a slice (see `slices.rs`).
const CONTENT_ROW: &str = "SELECT size, content, source_sha256, source_offset, source_length,
         source_encoding
     FROM blobs WHERE sha256 = $1";

/// At most this many contents in one insert (4 arguments each; SQLite
/// allows 32,766 in a statement).
const BLOBS_PER_INSERT: usize = 256;

impl Store {
    pub(super) async fn put_blob(
        tx: &mut WriteTx,
        sha256: &str,
        content: &[u8],
    ) -> Result<(), StoreError> {
        // Large contents are often stored already (ahead of filing, see
        // `store_contents_ahead`, or by an earlier copy): asking costs less
        // than sending them again.
        if content.len() > LOOK_BEFORE_SENDING && Self::held_if_stored(tx, sha256).await? {
            return Ok(());
        }
        Self::insert_blob(tx, sha256, content).await
    }

    /// Which of these contents are stored already, held on PostgreSQL as
    /// by `held_if_stored`: one statement for them all.
    pub(super) async fn held_if_stored_all(
        tx: &mut WriteTx,
        digests: &[&str],
    ) -> Result<HashSet<String>, StoreError> {
        if digests.is_empty() {
            return Ok(HashSet::new());
        }
        let text = format!(
            "SELECT sha256 FROM blobs WHERE sha256 IN ({}){}",
            sql::placeholders(1, digests.len()),
            if tx.is_postgres() {
                " FOR KEY SHARE"
            } else {
                ""
            }
        );
        let mut query = sql::query(&text);
        for sha256 in digests {
            query = query.bind(*sha256);
        }
        (query.fetch_all(tx).await?.iter())
            .map(|row| row.try_get::<String>(0))
            .collect()
    }

    /// Whether a content is stored already; on PostgreSQL the look-up also
    /// holds it (`FOR KEY SHARE`, as the foreign key check would) until
    /// this transaction commits: a collection of unreferenced contents
    /// that locked it first is waited for, and the content, gone by then,
    /// is stored again by the caller; one that comes later skips it (see
    /// `retention/collect.rs`).
    pub(super) async fn held_if_stored(tx: &mut WriteTx, sha256: &str) -> Result<bool, StoreError> {
        let held = if tx.is_postgres() {
            "SELECT 1 FROM blobs WHERE sha256 = $1 FOR KEY SHARE"
        } else {
            "SELECT 1 FROM blobs WHERE sha256 = $1"
        };
        Ok(sql::query(held)
            .bind(sha256)
            .fetch_optional(tx)
            .await?
            .is_some())
    }

    /// Inserts contents not known to be stored (a copy stored meanwhile is
    /// left as it is); over `BLOB_CHUNK`, in chunks.
    async fn insert_blob(tx: &mut WriteTx, sha256: &str, content: &[u8]) -> Result<(), StoreError> {
        let chunked = content.len() > BLOB_CHUNK;
        // On PostgreSQL the content, when stored already, is held as in
        // `put_blob`, in the same statement.
        let insert = if tx.is_postgres() {
            "INSERT INTO blobs (sha256, size, content, created_at)
             SELECT $1, $2, $3, $4
             WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = $1 FOR KEY SHARE)
             ON CONFLICT (sha256) DO NOTHING"
        } else {
            "INSERT INTO blobs (sha256, size, content, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (sha256) DO NOTHING"
        };
        let inserted = sql::query(insert)
            .bind(sha256)
            .bind(content.len() as i64)
            .bind(if chunked { &[][..] } else { content })
            .bind(now())
            .execute(tx)
            .await?;
        if inserted == 1 && chunked {
            Self::insert_chunks(tx, sha256, content).await?;
        }
        Ok(())
    }

    /// The chunks of a content whose row keeps only its size.
    pub(super) async fn insert_chunks(
        tx: &mut WriteTx,
        sha256: &str,
        content: &[u8],
    ) -> Result<(), StoreError> {
        for (seq, chunk) in content.chunks(BLOB_CHUNK).enumerate() {
            sql::query("INSERT INTO blob_chunks (sha256, seq, content) VALUES ($1, $2, $3)")
                .bind(sha256)
                .bind(seq as i64)
                .bind(chunk)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }

    /// Stores several contents (`(sha256, bytes)`) with as few statements
    /// as it takes: on PostgreSQL each one is a round trip, and a batch of
    /// 50 messages has about 60 contents. Those over `LOOK_BEFORE_SENDING`
    /// are looked up together first; those over `BLOB_CHUNK` go one by one
    /// (`insert_blob`), the rest in multi-row inserts of at most
    /// `BLOBS_PER_INSERT` rows or `BLOB_CHUNK` bytes.
    pub(super) async fn put_blobs(
        tx: &mut WriteTx,
        contents: &[(&str, &[u8])],
    ) -> Result<(), StoreError> {
        let mut seen = HashSet::new();
        let mut contents: Vec<(&str, &[u8])> = (contents.iter().copied())
            .filter(|(sha256, _)| seen.insert(*sha256))
            .collect();
        let looked_up: Vec<&str> = (contents.iter())
            .filter(|(_, content)| content.len() > LOOK_BEFORE_SENDING)
            .map(|(sha256, _)| *sha256)
            .collect();
        let stored = Self::held_if_stored_all(tx, &looked_up).await?;
        contents.retain(|(sha256, _)| !stored.contains(*sha256));
        let (small, large): (Vec<_>, Vec<_>) = contents
            .into_iter()
            .partition(|(_, content)| content.len() <= BLOB_CHUNK);
        // Looked up above already.
        for (sha256, content) in large {
            Self::insert_blob(tx, sha256, content).await?;
        }
        let at = now();
        let mut rest = &small[..];
        while !rest.is_empty() {
            let mut bytes = 0;
            let rows = (rest.iter())
                .take(BLOBS_PER_INSERT)
                .take_while(|(_, content)| {
                    bytes += content.len();
                    bytes <= BLOB_CHUNK
                })
                .count()
                .max(1);
            let (group, after) = rest.split_at(rows);
            let text = format!(
                "INSERT INTO blobs (sha256, size, content, created_at) VALUES {}
                 ON CONFLICT (sha256) DO NOTHING",
                sql::value_rows(group.len(), 4)
            );
            let mut query = sql::query(&text);
            for (sha256, content) in group {
                query = query
                    .bind(*sha256)
                    .bind(content.len() as i64)
                    .bind(*content)
                    .bind(at.as_str());
            }
            query.execute(&mut *tx).await?;
            rest = after;
        }
        Ok(())
    }

    /// Stores the contents of messages about to be filed (raw messages,
    /// attachments: `(sha256, bytes)`) in a transaction of their own, so
    /// that the server writes them while the previous batch is being filed.
    /// Only on PostgreSQL, whose server works for each connection on its
    /// own core; SQLite's one writer would only do the same work earlier.
    ///
    /// The commit does not wait for the disk: the filing transaction that
    /// refers to these contents commits after it, durably, and PostgreSQL's
    /// log is flushed in order. Contents whose message is never filed stay
    /// unreferenced (nothing refers to them; a later copy reuses them).
    pub async fn store_contents_ahead(&self, contents: &[(&str, &[u8])]) -> Result<(), StoreError> {
        if self.sqlite_writer.is_some() || contents.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write_with(Durability::Deferred).await?;
        Self::refresh_old_contents(&mut tx, contents).await?;
        Self::put_blobs(&mut tx, contents).await?;
        tx.commit().await?;
        let mut stored = self
            .stored_ahead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Messages never filed would leave their digests here.
        if stored.len() > STORED_AHEAD_KEPT {
            stored.clear();
        }
        stored.extend(contents.iter().map(|(sha256, _)| (*sha256).to_owned()));
        Ok(())
    }

    /// Contents stored ahead are referred to only once their filing
    /// commits, later: until then the collection's grace period (counted
    /// from `created_at`) is all that keeps them. One stored long ago and
    /// referred to by nothing any more (its message deleted by retention,
    /// say) would have none, so it is dated anew. The update waits for a
    /// collection that holds the content; the content, deleted by then, is
    /// stored again by `put_blobs`.
    async fn refresh_old_contents(
        tx: &mut WriteTx,
        contents: &[(&str, &[u8])],
    ) -> Result<(), StoreError> {
        let mut digests: Vec<&str> = contents.iter().map(|(sha256, _)| *sha256).collect();
        // One order for every instance: two updates cannot wait on each other.
        digests.sort_unstable();
        digests.dedup();
        let text = format!(
            "UPDATE blobs SET created_at = $1 WHERE created_at < $2 AND sha256 IN ({})",
            sql::placeholders(3, digests.len())
        );
        let stale = super::stored_time(chrono::Utc::now() - REFRESH_OLDER_THAN);
        let mut query = sql::query(&text).bind(now()).bind(stale);
        for sha256 in digests {
            query = query.bind(sha256);
        }
        query.execute(tx).await?;
        Ok(())
    }

    /// Whether these contents were stored ahead (and are no longer noted).
    pub(super) fn take_stored_ahead(&self, sha256: &str) -> bool {
        self.stored_ahead
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(sha256)
    }

    /// The content of a stored file or raw message, read in a write
    /// transaction (erasure looks at what it is about to delete).
    pub(super) async fn blob_in(tx: &mut WriteTx, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let row = sql::query(CONTENT_ROW)
            .bind(sha256)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no content {sha256}")))?;
        let size: i64 = row.try_get(0)?;
        let mut content: Vec<u8> = row.try_get(1)?;
        if let Some(source) = Source::from_columns(
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
            row.try_get(5)?,
        )? {
            return Self::read_slice_in(tx, sha256, size, &source).await;
        }
        if content.len() as i64 != size {
            content.clear();
            for row in sql::query("SELECT content FROM blob_chunks WHERE sha256 = $1 ORDER BY seq")
                .bind(sha256)
                .fetch_all(tx)
                .await?
            {
                content.extend_from_slice(&row.try_get::<Vec<u8>>(0)?);
            }
        }
        Ok(content)
    }

    /// The content of a stored file or raw message.
    pub async fn blob(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let row = sqlx::query(CONTENT_ROW)
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no content {sha256}")))?;
        let size: i64 = row.try_get(0)?;
        let content: Vec<u8> = row.try_get(1)?;
        if let Some(source) = Source::from_columns(
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
            row.try_get(5)?,
        )? {
            return self.read_slice(sha256, size, &source).await;
        }
        if content.len() as i64 == size {
            return Ok(content);
        }
        let mut content = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut chunks =
            sqlx::query("SELECT content FROM blob_chunks WHERE sha256 = $1 ORDER BY seq")
                .bind(sha256)
                .fetch(&self.pool);
        while let Some(row) = futures::TryStreamExt::try_next(&mut chunks).await? {
            content.extend_from_slice(&row.try_get::<Vec<u8>, _>(0)?);
        }
        if content.len() as i64 != size {
            return Err(StoreError::Other(format!(
                "content {sha256}: {} of {size} bytes stored",
                content.len()
            )));
        }
        Ok(content)
    }
}
