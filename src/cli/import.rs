//! `mailgate import mbox FILE|maildir DIR`: old mail filed in bulk,
//! nothing moved, messages filed before recognised; the mail filing plans
//! is recorded as suppressed unless `--send-replies`.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::counts::Counts;
use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::intake::{self, MailboxDefaults};
use crate::source::maildir;
use crate::source::mbox::Mbox;
use crate::store::{Filed, Inbound, SourceKind, Store, StoreError};

/// The outbox reason of the mail an import records without sending.
const IMPORTED: &str = "imported";

#[derive(clap::Subcommand)]
pub(super) enum ImportCmd {
    /// An mbox file (mboxo or mboxrd, LF or CRLF).
    Mbox {
        file: PathBuf,
        #[command(flatten)]
        options: ImportOptions,
    },
    /// A Maildir: the messages in cur/ and new/.
    Maildir {
        dir: PathBuf,
        #[command(flatten)]
        options: ImportOptions,
    },
}

// Flattened into both `import` commands.
#[derive(clap::Args)]
pub(super) struct ImportOptions {
    /// Apply the defaults of this configured mailbox (product, severity,
    /// request type) and record it as the messages' mailbox.
    #[arg(long)]
    mailbox: Option<String>,
    /// Send the confirmations and notifications of the imported messages
    /// (by default they are recorded as suppressed, "imported").
    #[arg(long)]
    send_replies: bool,
}

/// What `mailgate import` reads.
#[derive(Debug, Clone, Copy)]
enum ImportSource<'a> {
    Mbox(&'a Path),
    Maildir(&'a Path),
}

pub(super) async fn execute(settings: &Settings, command: &ImportCmd) -> u8 {
    let (source, options) = match command {
        ImportCmd::Mbox { file, options } => (ImportSource::Mbox(file), options),
        ImportCmd::Maildir { dir, options } => (ImportSource::Maildir(dir), options),
    };
    import(
        settings,
        source,
        options.mailbox.as_deref(),
        options.send_replies,
    )
    .await
}

/// A progress bar on a terminal, nothing otherwise.
fn progress(length: u64, bytes: bool) -> ProgressBar {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let template = if bytes {
        "{bar:40} {bytes}/{total_bytes} {msg}"
    } else {
        "{bar:40} {pos}/{len} {msg}"
    };
    ProgressBar::new(length).with_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    )
}

/// Files messages one by one and counts what became of them.
struct Importer<'a> {
    settings: &'a Settings,
    store: &'a Store,
    source: SourceKind,
    mailbox: Option<&'a str>,
    defaults: MailboxDefaults,
    bar: ProgressBar,
    counts: Counts,
    status: u8,
}

impl Importer<'_> {
    /// Files one message; false when the import must stop (the database
    /// is unavailable).
    async fn file(&mut self, label: &str, raw: &[u8]) -> bool {
        let decision = intake::decide(raw, &self.settings.intake, &self.defaults);
        let inbound = Inbound {
            source: self.source,
            mailbox: self.mailbox,
            uidvalidity: None,
            uid: None,
            raw,
            digest: None,
        };
        match self.store.file_message(&inbound, &decision).await {
            Ok(filed) => {
                if let Filed::Rejected { reason, .. } = &filed {
                    self.bar
                        .suspend(|| eprintln!("mailgate: {label}: rejected ({reason})"));
                    self.status = self.status.max(exit::DATAERR);
                }
                self.counts.add(&filed);
                self.bar.set_message(format!(
                    "{} ticket(s), {} rejected",
                    self.counts.tickets, self.counts.rejected
                ));
                true
            }
            Err(e) => {
                self.bar
                    .suspend(|| eprintln!("mailgate: {label}: not filed, {e}"));
                self.counts.errors += 1;
                self.status = self.status.max(store_failure(&e));
                !matches!(e, StoreError::Unavailable(_))
            }
        }
    }

    fn read_error(&mut self, label: &str, error: &std::io::Error) {
        self.bar
            .suspend(|| eprintln!("mailgate: cannot read {label}: {error}"));
        self.counts.errors += 1;
        self.status = self.status.max(exit::NOINPUT);
    }
}

/// `mailgate import mbox FILE` / `mailgate import maildir DIR`: files
/// every message (nothing is moved or changed), recognising those filed
/// before, with a summary at the end. The mail filing plans (confirmations,
/// notifications) is recorded as suppressed ("imported") unless
/// `send_replies`. Exit status: 0, 65 when a message was rejected (or the
/// file is not an mbox), 66 for an unreadable file, 75 when the database is
/// unavailable (what was filed stays filed: run it again).
async fn import(
    settings: &Settings,
    source: ImportSource<'_>,
    mailbox: Option<&str>,
    send_replies: bool,
) -> u8 {
    let defaults = match super::mailbox_defaults(settings, mailbox) {
        Ok(defaults) => defaults,
        Err(status) => return status,
    };
    // Read the input before touching the database: a wrong path is 66.
    enum Opened {
        Mbox(std::fs::File, u64),
        Maildir(Vec<PathBuf>),
    }
    let (path, opened) = match source {
        ImportSource::Mbox(path) => (
            path,
            std::fs::File::open(path)
                .and_then(|f| {
                    let length = f.metadata()?.len();
                    Ok(Opened::Mbox(f, length))
                })
                .map_err(|e| format!("{}: {e}", path.display())),
        ),
        ImportSource::Maildir(path) if !maildir::is_maildir(path) => (
            path,
            Err(format!(
                "{}: not a Maildir: no cur/ or new/ folder",
                path.display()
            )),
        ),
        ImportSource::Maildir(path) => (
            path,
            maildir::message_files(path)
                .map(Opened::Maildir)
                .map_err(|e| e.to_string()),
        ),
    };
    let opened = match opened {
        Ok(opened) => opened,
        Err(why) => {
            eprintln!("mailgate: cannot read {why}");
            return exit::NOINPUT;
        }
    };
    let store = match super::open_store(settings).await {
        Ok(store) if send_replies => store,
        Ok(store) => store.with_replies_suppressed(IMPORTED),
        Err(status) => return status,
    };
    let mut importer = Importer {
        settings,
        store: &store,
        source: match source {
            ImportSource::Mbox(_) => SourceKind::File,
            ImportSource::Maildir(_) => SourceKind::Maildir,
        },
        mailbox,
        defaults,
        bar: ProgressBar::hidden(),
        counts: Counts::default(),
        status: exit::OK,
    };
    let shown = path.display().to_string();
    match opened {
        Opened::Mbox(file, length) => {
            importer.bar = progress(length, true);
            let mut mbox = Mbox::new(std::io::BufReader::new(file));
            let mut number = 0;
            while let Some(message) = mbox.next() {
                number += 1;
                let label = format!("{shown} message {number}");
                let go_on = match message {
                    Ok(raw) => importer.file(&label, &raw).await,
                    Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                        eprintln!("mailgate: {shown}: {e}");
                        importer.status = importer.status.max(exit::DATAERR);
                        false
                    }
                    Err(e) => {
                        importer.read_error(&label, &e);
                        false
                    }
                };
                importer.bar.set_position(mbox.position);
                if !go_on {
                    break;
                }
            }
        }
        Opened::Maildir(files) => {
            importer.bar = progress(files.len() as u64, false);
            for file in files {
                let label = file.display().to_string();
                let go_on = match std::fs::read(&file) {
                    Ok(raw) => importer.file(&label, &raw).await,
                    // Taken by a mail client meanwhile.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                    Err(e) => {
                        importer.read_error(&label, &e);
                        true
                    }
                };
                importer.bar.inc(1);
                if !go_on {
                    break;
                }
            }
        }
    }
    importer.bar.finish_and_clear();
    let counts = importer.counts.clone();
    let status = importer.status;
    println!(
        "{shown}: {} message(s): {}{}",
        counts.total(),
        counts.summary(),
        if send_replies || counts.tickets + counts.comments == 0 {
            ""
        } else {
            "; replies recorded as suppressed (--send-replies sends them)"
        }
    );
    if status == exit::TEMPFAIL {
        eprintln!(
            "mailgate: stopped: the database failed; run the import again (what was filed is recognised)"
        );
    }
    store.close().await;
    status
}
