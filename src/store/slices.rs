//! Contents kept as their place in a raw message (migration 0019,
//! `model::slice`): written when an attachment is filed, read back
//! decoded, and given their own bytes again before the raw message that
//! holds them is deleted, so that deleting a message never takes an
//! attachment that something else still refers to.

use std::collections::BTreeSet;

use sqlx::Row as _;

use super::blobs::BLOB_CHUNK;
use super::erasure::chunks::each_chunk;
use super::retention::EMPTY_CONTENT;
use super::sql::{self, WriteTx};
use super::{Store, StoreError, now};
use crate::intake::Attachment;
use crate::model::slice::{self, Place, TransferEncoding};

/// Where a stored content lies in another (the columns `source_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Source {
    pub sha256: String,
    pub offset: i64,
    pub length: i64,
    pub encoding: TransferEncoding,
}

impl Source {
    /// From the columns `source_sha256, source_offset, source_length,
    /// source_encoding`; `None` for a content kept whole.
    pub(super) fn from_columns(
        sha256: Option<String>,
        offset: Option<i64>,
        length: Option<i64>,
        encoding: Option<String>,
    ) -> Result<Option<Source>, StoreError> {
        let Some(sha256) = sha256 else {
            return Ok(None);
        };
        let (Some(offset), Some(length), Some(encoding)) = (offset, length, encoding) else {
            return Err(StoreError::Other(format!(
                "content in {sha256}: its place is incomplete"
            )));
        };
        let encoding = TransferEncoding::parse(&encoding).ok_or_else(|| {
            StoreError::Other(format!(
                "content in {sha256}: unknown encoding {encoding:?}"
            ))
        })?;
        Ok(Some(Source {
            sha256,
            offset,
            length,
            encoding,
        }))
    }
}

/// The chunks (`blob_chunks.seq`, first and last) that hold bytes
/// `offset..offset + length` of a chunked content, and where in the first
/// one those bytes begin.
fn chunk_span(offset: i64, length: i64) -> (i64, i64, usize) {
    let chunk = BLOB_CHUNK as i64;
    let first = offset / chunk;
    let last = (offset + length - 1).max(offset) / chunk;
    (
        first,
        last,
        usize::try_from(offset - first * chunk).unwrap_or(0),
    )
}

/// The statement that reads bytes of a content kept whole in its row:
/// `substr` counts from 1 on both backends (PostgreSQL's takes `integer`).
const RANGE_OF_ROW: &str = "SELECT size, substr(content, CAST($2 AS INTEGER), CAST($3 AS INTEGER))
     FROM blobs WHERE sha256 = $1";
const RANGE_OF_CHUNKS: &str =
    "SELECT content FROM blob_chunks WHERE sha256 = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq";

/// The bytes a slice stands for, checked against the size and digest it
/// was filed with: a wrong byte is an error, never a download.
fn decoded(
    sha256: &str,
    size: i64,
    source: &Source,
    encoded: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let content = slice::decode(source.encoding, encoded);
    if content.len() as i64 != size || crate::intake::sha256_hex(&content) != sha256 {
        return Err(StoreError::Other(format!(
            "content {sha256}: its place in {} gives other bytes",
            source.sha256
        )));
    }
    Ok(content)
}

/// Cuts the bytes wanted out of the chunks read.
fn cut(mut joined: Vec<u8>, skip: usize, length: i64) -> Vec<u8> {
    joined.drain(..skip.min(joined.len()));
    joined.truncate(usize::try_from(length).unwrap_or(0));
    joined
}

impl Store {
    /// Stores an attachment's content: as its place in the raw message of
    /// `inbound_id` when it has one there, else whole.
    pub(super) async fn put_attachment_content(
        tx: &mut WriteTx,
        attachment: &Attachment,
        inbound_id: Option<i64>,
    ) -> Result<(), StoreError> {
        let (Some(place), Some(inbound_id)) = (attachment.place, inbound_id) else {
            return Self::put_blob(tx, &attachment.sha256, &attachment.data).await;
        };
        if Self::held_if_stored(tx, &attachment.sha256).await? {
            return Ok(());
        }
        let inserted = sql::query(
            "INSERT INTO blobs (sha256, size, content, created_at,
                 source_sha256, source_offset, source_length, source_encoding)
             SELECT $1, $2, $3, $4, raw_sha256, $5, $6, $7
             FROM inbound_messages WHERE id = $8 AND raw_sha256 <> $9
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(attachment.sha256.as_str())
        .bind(attachment.data.len() as i64)
        .bind(&[][..])
        .bind(now())
        .bind(i64::try_from(place.offset).unwrap_or(i64::MAX))
        .bind(i64::try_from(place.length).unwrap_or(i64::MAX))
        .bind(place.encoding.as_str())
        .bind(inbound_id)
        .bind(EMPTY_CONTENT)
        .execute(&mut *tx)
        .await?;
        if inserted == 0 {
            // Stored meanwhile (kept as it is), or its message has no raw.
            Self::put_blob(tx, &attachment.sha256, &attachment.data).await?;
        }
        Ok(())
    }

    /// Keeps a content stored whole (a file the team sent, say) as its
    /// place in another stored content (`source`, the mail that carries
    /// it) instead. One that is a slice already, or that is not stored,
    /// stays as it is.
    pub(super) async fn keep_as_place(
        tx: &mut WriteTx,
        sha256: &str,
        size: usize,
        source: &str,
        place: Place,
    ) -> Result<(), StoreError> {
        let changed = sql::query(
            "UPDATE blobs SET content = $3, source_sha256 = $4, source_offset = $5,
                 source_length = $6, source_encoding = $7
             WHERE sha256 = $1 AND size = $2 AND source_sha256 IS NULL AND sha256 <> $4",
        )
        .bind(sha256)
        .bind(size as i64)
        .bind(&[][..])
        .bind(source)
        .bind(i64::try_from(place.offset).unwrap_or(i64::MAX))
        .bind(i64::try_from(place.length).unwrap_or(i64::MAX))
        .bind(place.encoding.as_str())
        .execute(&mut *tx)
        .await?;
        if changed > 0 && size > BLOB_CHUNK {
            sql::query("DELETE FROM blob_chunks WHERE sha256 = $1")
                .bind(sha256)
                .execute(tx)
                .await?;
        }
        Ok(())
    }

    /// The content of a stored slice, read through the pool.
    pub(super) async fn read_slice(
        &self,
        sha256: &str,
        size: i64,
        source: &Source,
    ) -> Result<Vec<u8>, StoreError> {
        let row = sqlx::query(RANGE_OF_ROW)
            .bind(source.sha256.as_str())
            .bind(source.offset + 1)
            .bind(source.length)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no content {}", source.sha256)))?;
        let whole: i64 = row.try_get(0)?;
        // SQLite gives NULL for a piece of an empty (chunked) content.
        let mut encoded: Vec<u8> = row.try_get::<Option<Vec<u8>>, _>(1)?.unwrap_or_default();
        if (encoded.len() as i64) < source.length.min(whole - source.offset) {
            let (first, last, skip) = chunk_span(source.offset, source.length);
            let mut joined = Vec::new();
            for row in sqlx::query(RANGE_OF_CHUNKS)
                .bind(source.sha256.as_str())
                .bind(first)
                .bind(last)
                .fetch_all(&self.pool)
                .await?
            {
                joined.extend_from_slice(&row.try_get::<Vec<u8>, _>(0)?);
            }
            encoded = cut(joined, skip, source.length);
        }
        decoded(sha256, size, source, &encoded)
    }

    /// The same, inside a write transaction.
    pub(super) async fn read_slice_in(
        tx: &mut WriteTx,
        sha256: &str,
        size: i64,
        source: &Source,
    ) -> Result<Vec<u8>, StoreError> {
        let row = sql::query(RANGE_OF_ROW)
            .bind(source.sha256.as_str())
            .bind(source.offset + 1)
            .bind(source.length)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no content {}", source.sha256)))?;
        let whole: i64 = row.try_get(0)?;
        let mut encoded: Vec<u8> = row.try_get::<Option<Vec<u8>>>(1)?.unwrap_or_default();
        if (encoded.len() as i64) < source.length.min(whole - source.offset) {
            let (first, last, skip) = chunk_span(source.offset, source.length);
            let mut joined = Vec::new();
            for row in sql::query(RANGE_OF_CHUNKS)
                .bind(source.sha256.as_str())
                .bind(first)
                .bind(last)
                .fetch_all(&mut *tx)
                .await?
            {
                joined.extend_from_slice(&row.try_get::<Vec<u8>>(0)?);
            }
            encoded = cut(joined, skip, source.length);
        }
        decoded(sha256, size, source, &encoded)
    }

    /// Before `doomed` contents are deleted: every slice that lies in one of
    /// them and is not itself doomed gets its own bytes (the same
    /// attachment sent again by someone else, whose message stays). How
    /// many.
    pub(super) async fn keep_slices_of(
        tx: &mut WriteTx,
        doomed: &[String],
    ) -> Result<u64, StoreError> {
        let args: Vec<sql::Arg<'_>> = doomed.iter().map(sql::Arg::from).collect();
        let (rows, _) = each_chunk(
            tx,
            "SELECT sha256, size, source_sha256, source_offset, source_length, source_encoding
             FROM blobs WHERE source_sha256 IN ({ids})",
            &[],
            &args,
        )
        .await?;
        let doomed: BTreeSet<&str> = doomed.iter().map(String::as_str).collect();
        let mut kept = 0;
        for row in rows {
            let sha256: String = row.try_get(0)?;
            if doomed.contains(sha256.as_str()) {
                continue;
            }
            let size: i64 = row.try_get(1)?;
            let Some(source) = Source::from_columns(
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
                row.try_get(5)?,
            )?
            else {
                continue;
            };
            let content = Self::read_slice_in(tx, &sha256, size, &source).await?;
            let chunked = content.len() > BLOB_CHUNK;
            sql::query(
                "UPDATE blobs SET content = $2, source_sha256 = NULL, source_offset = NULL,
                     source_length = NULL, source_encoding = NULL
                 WHERE sha256 = $1",
            )
            .bind(sha256.as_str())
            .bind(if chunked { &[][..] } else { &content[..] })
            .execute(&mut *tx)
            .await?;
            if chunked {
                Self::insert_chunks(tx, &sha256, &content).await?;
            }
            kept += 1;
        }
        Ok(kept)
    }

    /// Deletes contents (and their chunks) that nothing refers to any more:
    /// slices first, after those that must stay are given their own bytes,
    /// so that no row is left pointing at a deleted one. How many rows.
    pub(super) async fn delete_contents(
        tx: &mut WriteTx,
        doomed: &[String],
    ) -> Result<u64, StoreError> {
        Self::keep_slices_of(tx, doomed).await?;
        let args: Vec<sql::Arg<'_>> = doomed.iter().map(sql::Arg::from).collect();
        each_chunk(
            tx,
            "DELETE FROM blob_chunks WHERE sha256 IN ({ids})",
            &[],
            &args,
        )
        .await?;
        let (_, slices) = each_chunk(
            tx,
            "DELETE FROM blobs WHERE source_sha256 IS NOT NULL AND sha256 IN ({ids})",
            &[],
            &args,
        )
        .await?;
        let (_, whole) =
            each_chunk(tx, "DELETE FROM blobs WHERE sha256 IN ({ids})", &[], &args).await?;
        Ok(slices + whole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chunks_of_a_range() {
        let chunk = BLOB_CHUNK as i64;
        assert_eq!(chunk_span(0, 10), (0, 0, 0));
        assert_eq!(chunk_span(chunk - 5, 10), (0, 1, BLOB_CHUNK - 5));
        assert_eq!(chunk_span(chunk, chunk), (1, 1, 0));
        assert_eq!(chunk_span(3 * chunk + 7, 2 * chunk), (3, 5, 7));
        assert_eq!(cut(b"0123456789".to_vec(), 3, 4), b"3456");
        assert_eq!(cut(b"0123".to_vec(), 9, 4), b"");
    }

    #[test]
    fn a_slice_that_gives_other_bytes_is_an_error() {
        let source = Source {
            sha256: "raw".into(),
            offset: 0,
            length: 8,
            encoding: TransferEncoding::Base64,
        };
        let right = crate::intake::sha256_hex(b"hello");
        assert_eq!(decoded(&right, 5, &source, b"aGVsbG8=").unwrap(), b"hello");
        assert!(decoded(&right, 5, &source, b"aGVsbE8=").is_err());
        assert!(decoded(&right, 6, &source, b"aGVsbG8=").is_err());
    }
}
