//! Local folders: a Maildir (`new/`, `cur/`) delivered by a local MTA, or a
//! plain folder where people drop `*.eml` files. Each message is filed, then
//! moved into the processed folder (or the quarantine folder when rejected);
//! a crash between the two only leaves a file that the next scan finds to be
//! a duplicate.

use std::path::{Path, PathBuf};

use tokio::sync::watch;
use tracing::{info, warn};

use super::Context;
use crate::config::MaildirSettings;
use crate::service::sleep_or_shutdown;
use crate::store::{Filed, Inbound, SourceKind, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MaildirError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("storing failed, messages left in place: {0}")]
    Store(#[from] StoreError),
}

/// Whether `dir` is a Maildir (it has `new/` or `cur/`) rather than a
/// folder of `*.eml` files.
pub fn is_maildir(dir: &Path) -> bool {
    dir.join("new").is_dir() || dir.join("cur").is_dir()
}

/// The message files waiting in a folder, by path: a Maildir's `cur/`
/// then `new/` (those of the two that exist), each by name, which starts
/// with the delivery time; or the `*.eml` files of a plain folder. Hidden
/// files are skipped. What the daemon, `mailgate ingest` and `mailgate
/// import maildir` read.
pub fn message_files(dir: &Path) -> Result<Vec<PathBuf>, MaildirError> {
    let maildir = is_maildir(dir);
    let folders: Vec<PathBuf> = if maildir {
        ["new", "cur"]
            .iter()
            .map(|f| dir.join(f))
            .filter(|f| f.is_dir())
            .collect()
    } else {
        vec![dir.to_owned()]
    };
    let mut files = Vec::new();
    for folder in folders {
        let entries =
            std::fs::read_dir(&folder).map_err(|e| MaildirError::Io(folder.clone(), e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let eml = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("eml"));
            if path.is_file() && !name.starts_with('.') && (maildir || eml) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn move_into(file: &Path, folder: &Path) -> Result<(), MaildirError> {
    std::fs::create_dir_all(folder).map_err(|e| MaildirError::Io(folder.to_owned(), e))?;
    let target = folder.join(file.file_name().unwrap_or_default());
    std::fs::rename(file, &target).map_err(|e| MaildirError::Io(target, e))
}

/// Files every message waiting in the folder. Returns how many.
pub async fn drain(ctx: &Context, settings: &MaildirSettings) -> Result<usize, MaildirError> {
    let mut count = 0;
    for file in message_files(&settings.path)? {
        let raw = match std::fs::read(&file) {
            Ok(raw) => raw,
            // Taken by someone else meanwhile (a second reader, a user).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(MaildirError::Io(file, e)),
        };
        let inbound = Inbound {
            source: SourceKind::Maildir,
            mailbox: Some(&settings.name),
            uidvalidity: None,
            uid: None,
            raw: &raw,
            digest: None,
        };
        let filed = ctx
            .file(&settings.name, inbound, &settings.defaults)
            .await?;
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        match &filed {
            Filed::Ticket { key } => {
                info!(maildir = %settings.name, file = %name, ticket = %key, "ticket created");
            }
            other => info!(maildir = %settings.name, file = %name, outcome = ?other, "filed"),
        }
        let target = match filed {
            Filed::Rejected { .. } | Filed::AlreadyStored { rejected: true, .. } => {
                &settings.quarantine_path
            }
            _ => &settings.processed_path,
        };
        move_into(&file, target)?;
        count += 1;
        let bytes = raw.len();
        drop(raw);
        crate::memory::released(bytes);
    }
    crate::memory::trim();
    Ok(count)
}

/// Watches the folder until shutdown; with `once`, drains it and returns.
pub async fn run(
    ctx: Context,
    settings: MaildirSettings,
    mut shutdown: watch::Receiver<bool>,
    once: bool,
) -> Result<(), MaildirError> {
    std::fs::create_dir_all(&settings.path)
        .map_err(|e| MaildirError::Io(settings.path.clone(), e))?;
    let mut failing = false;
    let monitor = &ctx.monitor;
    monitor.register(&settings.name, settings.poll_interval);
    let result = loop {
        monitor.expect_beat(&settings.name, settings.poll_interval);
        match drain(&ctx, &settings).await {
            Ok(_) => {
                if failing {
                    info!(maildir = %settings.name, "working again");
                    failing = false;
                }
                monitor.connected(&settings.name);
                monitor.drained(&settings.name);
            }
            Err(e) if once => break Err(e),
            Err(e) => {
                if !failing {
                    warn!(maildir = %settings.name, error = %e, "cannot process the folder; retrying");
                }
                monitor.disconnected(&settings.name, &e.to_string());
                failing = true;
            }
        }
        if once || sleep_or_shutdown(settings.poll_interval, &mut shutdown).await {
            break Ok(());
        }
    };
    monitor.remove(&settings.name);
    result
}
