//! `mailgate ingest [PATHS…]`: files messages given as files, Maildir or
//! plain folders, or standard input, one line per message, with the exit
//! status an MTA understands.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::config::Settings;
use crate::exit::{self, store_failure};
use rayon::prelude::*;

use crate::intake::{self, Decision, MailboxDefaults};
use crate::source::maildir;
use crate::store::{Filed, Inbound, RawDigest, SourceKind, StoreError};

// The help of `ingest` is the doc comment of `Command::Ingest`.
#[derive(clap::Args)]
pub(super) struct IngestArgs {
    /// Messages to file.
    paths: Vec<PathBuf>,
    /// Apply the defaults of this configured mailbox (product, severity,
    /// request type).
    #[arg(long)]
    mailbox: Option<String>,
    /// Print each decision as JSON and write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// One message to ingest and where it came from.
struct Input {
    label: String,
    source: SourceKind,
    /// Where its bytes are, or why it cannot be read.
    bytes: Bytes,
}

/// A message's bytes: standard input is read at once (it is one
/// message); a file only when its turn comes, so that ingesting a folder
/// holds one message at a time, however many it has.
enum Bytes {
    Read(Result<Vec<u8>, String>),
    File(PathBuf),
}

impl Input {
    fn read(self) -> Result<Vec<u8>, String> {
        match self.bytes {
            Bytes::Read(result) => result,
            Bytes::File(path) => std::fs::read(&path).map_err(|e| e.to_string()),
        }
    }
}

/// Expands the paths of `ingest`: a file is one message; a folder gives
/// its messages as the daemon lists them (`source::maildir`: a Maildir's
/// `cur/` and `new/`, any other folder's `*.eml` files). `-` or nothing at
/// all reads standard input.
fn inputs(paths: &[PathBuf]) -> Vec<Input> {
    if paths.is_empty() || paths.iter().any(|p| p.as_os_str() == "-") && paths.len() == 1 {
        let mut raw = Vec::new();
        let result = std::io::stdin().lock().read_to_end(&mut raw).map(|_| raw);
        return vec![Input {
            label: "-".into(),
            source: SourceKind::Stdin,
            bytes: Bytes::Read(result.map_err(|e| e.to_string())),
        }];
    }
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(file_input(path, SourceKind::File));
            continue;
        }
        let source = if maildir::is_maildir(path) {
            SourceKind::Maildir
        } else {
            SourceKind::File
        };
        match maildir::message_files(path) {
            Ok(files) => out.extend(files.iter().map(|f| file_input(f, source))),
            Err(maildir::MaildirError::Io(folder, e)) => out.push(Input {
                label: folder.display().to_string(),
                source,
                bytes: Bytes::Read(Err(e.to_string())),
            }),
            Err(e) => out.push(Input {
                label: path.display().to_string(),
                source,
                bytes: Bytes::Read(Err(e.to_string())),
            }),
        }
    }
    out
}

fn file_input(path: &Path, source: SourceKind) -> Input {
    Input {
        label: path.display().to_string(),
        source,
        bytes: Bytes::File(path.to_owned()),
    }
}

/// The exit status for a message filed: 65 for a refusal nobody has
/// answered (an MTA bounces it, so that the sender learns why), 0 for
/// everything else, a refusal answered by mailgate included, so that its
/// sender does not get a bounce as well.
fn exit_status(filed: &Filed) -> u8 {
    match filed {
        Filed::Rejected {
            answered: false, ..
        } => exit::DATAERR,
        _ => exit::OK,
    }
}

/// Messages filed in one transaction: a batch costs one durable commit
/// instead of one per message (the commit's fsync, and on SQLite the
/// log's checkpoint, are most of the cost of filing one message).
const BATCH_MESSAGES: usize = 64;

/// A batch is filed once its messages hold this many bytes, so that memory
/// stays bounded whatever the folder's size.
const BATCH_BYTES: usize = 16 << 20;

/// On PostgreSQL without autovacuum, the statistics are refreshed
/// (`ANALYZE`) once this many messages are filed, then every
/// `ANALYZE_EVERY`: plans made on nearly empty tables would otherwise stay
/// (see `Store::autovacuum`).
const ANALYZE_FIRST: usize = 1_000;
const ANALYZE_EVERY: usize = 20_000;

/// A message read, waiting for its batch to be decided.
struct Gathered {
    label: String,
    source: SourceKind,
    raw: Vec<u8>,
}

/// A message read and decided, with its digests, waiting for its batch to
/// be filed.
struct Decided {
    label: String,
    source: SourceKind,
    raw: Vec<u8>,
    decision: Decision,
    digest: RawDigest,
}

/// Decides a batch's messages on every core (rayon's threads: a message
/// with a large attachment takes as long as dozens of plain ones), in
/// order; reading them stays sequential, as the files come.
fn decide_batch(
    batch: Vec<Gathered>,
    settings: &Settings,
    defaults: &MailboxDefaults,
) -> Vec<Decided> {
    batch
        .into_par_iter()
        .map(|m| Decided {
            decision: intake::decide(&m.raw, &settings.intake, defaults),
            digest: RawDigest::of(&m.raw),
            label: m.label,
            source: m.source,
            raw: m.raw,
        })
        .collect()
}

/// Files each message and prints one line per message. The exit status is
/// the worst of the messages': 75 when the database was unavailable (the
/// MTA retries), 65 when a message was refused without an answer from
/// mailgate (see [`exit_status`]), 66 for an unreadable file.
pub(super) async fn execute(settings: &Settings, args: &IngestArgs) -> u8 {
    let mailbox = args.mailbox.as_deref();
    let defaults = match super::mailbox_defaults(settings, mailbox) {
        Ok(defaults) => defaults,
        Err(status) => return status,
    };
    let store = if args.dry_run {
        None
    } else {
        match super::open_store(settings).await {
            Ok(store) => Some(store),
            Err(status) => return status,
        }
    };
    let mut status = exit::OK;
    let mut stdout = std::io::stdout().lock();
    let mut batch: Vec<Gathered> = Vec::new();
    let mut batch_bytes = 0;
    let analyze = match &store {
        Some(store) => matches!(store.autovacuum().await, Ok(Some(false))),
        None => false,
    };
    let (mut filed, mut analyze_at) = (0, ANALYZE_FIRST);
    let mut inputs = inputs(&args.paths).into_iter().peekable();
    while let Some(input) = inputs.next() {
        let (label, source) = (input.label.clone(), input.source);
        match input.read() {
            Ok(raw) => {
                batch_bytes += raw.len();
                batch.push(Gathered { label, source, raw });
            }
            Err(e) => {
                eprintln!("mailgate: cannot read {label}: {e}");
                status = status.max(exit::NOINPUT);
            }
        }
        let full = batch.len() >= BATCH_MESSAGES || batch_bytes >= BATCH_BYTES;
        if batch.is_empty() || !(full || inputs.peek().is_none()) {
            continue;
        }
        let decided = decide_batch(std::mem::take(&mut batch), settings, &defaults);
        batch_bytes = 0;
        let Some(store) = &store else {
            for m in decided {
                let mut value = serde_json::to_value(&m.decision).unwrap_or_default();
                value["input"] = json!(m.label);
                let _ = writeln!(stdout, "{value}");
            }
            continue;
        };
        status = status.max(file_batch(store, mailbox, &decided, &mut stdout).await);
        filed += decided.len();
        if analyze && filed >= analyze_at {
            analyze_at = filed + ANALYZE_EVERY;
            if let Err(e) = store.analyze().await {
                eprintln!("mailgate: ANALYZE failed (filing goes on): {e}");
            }
        }
    }
    if let Some(store) = store {
        store.close().await;
    }
    status
}

/// Files a batch in one transaction and prints a line per message; the
/// worst exit status of its messages. `Store::file_messages` files what
/// precedes a message that fails (it retries the batch one by one): that
/// one is reported, and what follows it is filed as a batch again. While
/// the database is unavailable, every message left is reported as not
/// filed, without trying each (an MTA retries them all).
async fn file_batch(
    store: &crate::store::Store,
    mailbox: Option<&str>,
    batch: &[Decided],
    stdout: &mut impl Write,
) -> u8 {
    fn inbound<'a>(m: &'a Decided, mailbox: Option<&'a str>) -> Inbound<'a> {
        Inbound {
            source: m.source,
            mailbox,
            uidvalidity: None,
            uid: None,
            raw: &m.raw,
            digest: Some(&m.digest),
        }
    }
    let mut status = exit::OK;
    let mut rest = batch;
    while !rest.is_empty() {
        let messages: Vec<(Inbound<'_>, &Decision)> = rest
            .iter()
            .map(|m| (inbound(m, mailbox), &m.decision))
            .collect();
        let (filed, error) = store.file_messages(&messages).await;
        for (filed, m) in filed.iter().zip(rest) {
            let _ = writeln!(stdout, "{}: {filed}", m.label);
            status = status.max(exit_status(filed));
        }
        let Some(e) = error else { break };
        let first = filed.len().min(rest.len());
        let end = if matches!(e, StoreError::Unavailable(_)) {
            rest.len()
        } else {
            (first + 1).min(rest.len())
        };
        for m in &rest[first..end] {
            eprintln!("mailgate: {}: not filed, {e}", m.label);
        }
        status = status.max(store_failure(&e));
        if end == first {
            break;
        }
        rest = &rest[end..];
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unanswered_refusal_is_a_data_error() {
        let rejected = |answered| Filed::Rejected {
            reason: "too-large".into(),
            answered,
        };
        assert_eq!(exit_status(&rejected(false)), exit::DATAERR);
        assert_eq!(exit_status(&rejected(true)), exit::OK);
        let ticket = Filed::Ticket {
            key: "SUP-1".into(),
        };
        assert_eq!(exit_status(&ticket), exit::OK);
        let duplicate = Filed::Duplicate {
            of_message: 1,
            ticket: None,
        };
        assert_eq!(exit_status(&duplicate), exit::OK);
    }
}
