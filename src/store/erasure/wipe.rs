//! The SQLite file wiped after an erasure: the search index merged (so
//! that no entry of the erased texts stays in it), its log copied in and
//! cut, and the file rewritten when the address lingers in its free pages.

use crate::store::sql;
use crate::store::{Store, StoreError};

use super::FileWipe;

impl Store {
    /// After an erasure on SQLite: the search index merged whole (see
    /// [`purge_search_index`]), the log copied into the file and cut, then
    /// the file searched for the address; found (in free space the
    /// erasure did not write), the file is rewritten (`VACUUM`). Runs on
    /// the caller's thread, a command's: `VACUUM` takes as long as copying
    /// the file.
    pub(super) fn wipe_file(
        writer: &sql::SqliteWriter,
        email: &str,
    ) -> Result<FileWipe, StoreError> {
        purge_search_index(writer)?;
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

/// Merges the search index into one segment, which drops every entry
/// marked deleted (migration 0018: a deleted row's entries are marked, not
/// removed, and stay in older segments until a merge), with
/// `secure_delete` on so that the freed pages are overwritten. Takes as
/// long as rewriting the index: for an erasure, or a retention run that
/// anonymised or deleted tickets, not for every deletion.
pub(in crate::store) fn purge_search_index(writer: &sql::SqliteWriter) -> Result<(), StoreError> {
    let before = writer.pragma("secure_delete")?;
    let merged = writer.run(
        "PRAGMA secure_delete = ON; INSERT INTO ticket_search (ticket_search) VALUES ('optimize');",
    );
    writer.run(&format!("PRAGMA secure_delete = {before}"))?;
    merged
}

/// The log copied into the file and cut to nothing, tried for a few
/// seconds (see `truncate_log_within`).
fn truncate_log(writer: &sql::SqliteWriter) -> Result<bool, StoreError> {
    writer.truncate_log_within(std::time::Duration::from_secs(5))
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
}
