//! Received messages after the fact: `mailgate messages list|show|retry`
//! (the quarantine, and filing a rejected message again with the current
//! configuration) and `mailgate import mbox|maildir` (old mail filed in
//! bulk, its replies recorded but not sent).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::commands::{exit, open_store, store_failure};
use crate::config::Settings;
use crate::intake::{self, MailboxDefaults};
use crate::store::{Filed, Inbound, MessageRecord, Retry, SourceKind, Store, StoreError};

/// The outcomes `messages list --status` accepts; `quarantined` is
/// `rejected` (rejected messages are what sources move to quarantine).
pub const STATUSES: &[&str] = &[
    "quarantined",
    "rejected",
    "ignored",
    "duplicate",
    "ticket",
    "comment",
];

/// The outbox reason of the mail an import records without sending.
pub const IMPORTED: &str = "imported";

/// The stored outcome a `--status` value names.
pub fn outcome_of_status(status: &str) -> &str {
    if status == "quarantined" {
        "rejected"
    } else {
        status
    }
}

async fn store_for(settings: &Settings) -> Result<Store, u8> {
    open_store(settings).await.map_err(|e| {
        eprintln!("mailgate: {e}");
        store_failure(&e)
    })
}

/// Prints a storage failure and gives its exit status (65 for an unknown
/// message).
fn failed(error: &StoreError) -> u8 {
    eprintln!("mailgate: {error}");
    match error {
        StoreError::NotFound(_) | StoreError::Invalid(_) => exit::DATAERR,
        e => store_failure(e),
    }
}

/// `2025-03-01T10:00:00.123Z` as `2025-03-01 10:00:00`.
fn short_time(at: &str) -> String {
    at.get(..19).unwrap_or(at).replace('T', " ")
}

fn place(m: &MessageRecord) -> String {
    match &m.mailbox {
        Some(mailbox) => format!("{}/{mailbox}", m.source),
        None => m.source.clone(),
    }
}

/// `mailgate messages list`.
pub async fn messages_list(
    settings: &Settings,
    status: Option<&str>,
    limit: Option<i64>,
    as_json: bool,
) -> u8 {
    let store = match store_for(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let messages = match store.messages(status.map(outcome_of_status), limit).await {
        Ok(m) => m,
        Err(e) => return failed(&e),
    };
    let mut out = std::io::stdout().lock();
    if as_json {
        for m in &messages {
            let _ = writeln!(out, "{}", serde_json::to_string(m).unwrap_or_default());
        }
    } else {
        let _ = writeln!(
            out,
            "{:>6} {:<19} {:<20} {:<9} {:<20} {:<10} {:>9}",
            "ID", "RECEIVED", "SOURCE", "OUTCOME", "REASON", "TICKET", "SIZE"
        );
        for m in &messages {
            let _ = writeln!(
                out,
                "{:>6} {:<19} {:<20} {:<9} {:<20} {:<10} {:>9}",
                m.id,
                short_time(&m.received_at),
                place(m),
                m.outcome,
                m.reason.as_deref().unwrap_or("-"),
                m.ticket.as_deref().unwrap_or("-"),
                m.size
            );
        }
        let _ = writeln!(out, "{} message(s)", messages.len());
    }
    store.close().await;
    exit::OK
}

/// The defaults a message is decided with: those of the mailbox it came
/// from, when that is still configured.
fn defaults_for(settings: &Settings, mailbox: Option<&str>) -> MailboxDefaults {
    mailbox
        .and_then(|name| settings.source_defaults(name))
        .cloned()
        .unwrap_or_default()
}

/// Why a rejected message cannot be decided again from what was kept: an
/// IMAP message over `max_message_size` is quarantined with only its
/// header downloaded.
fn header_only(m: &MessageRecord, raw: &[u8]) -> Option<String> {
    let real_size: usize = m
        .detail
        .as_deref()
        .filter(|_| m.reason.as_deref() == Some("too-large"))?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    (real_size > raw.len()).then(|| {
        format!(
            "only its header was kept ({real_size} bytes on the server, over intake.max_message_size); \
             move it from the quarantine folder back to {} to have it fetched whole",
            m.mailbox.as_deref().unwrap_or("the inbox")
        )
    })
}

/// `mailgate messages show ID [--raw|--json]`.
pub async fn messages_show(settings: &Settings, id: i64, raw_only: bool, as_json: bool) -> u8 {
    let store = match store_for(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let status = show(settings, &store, id, raw_only, as_json).await;
    store.close().await;
    status
}

async fn show(settings: &Settings, store: &Store, id: i64, raw_only: bool, as_json: bool) -> u8 {
    let (m, raw, retries) = match async {
        Ok::<_, StoreError>((
            store.message(id).await?,
            store.inbound_raw(id).await?,
            store.message_retries(id).await?,
        ))
    }
    .await
    {
        Ok(found) => found,
        Err(e) => return failed(&e),
    };
    let mut out = std::io::stdout().lock();
    if raw_only {
        return match out.write_all(&raw).and_then(|()| out.flush()) {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("mailgate: standard output: {e}");
                exit::SOFTWARE
            }
        };
    }
    let decision = intake::decide(
        &raw,
        &settings.intake,
        &defaults_for(settings, m.mailbox.as_deref()),
    );
    let cannot_retry = header_only(&m, &raw);
    if as_json {
        let value = json!({
            "message": m,
            "retries": retries,
            "decision_now": decision,
            "header_only": cannot_retry.is_some(),
        });
        let _ = writeln!(out, "{value}");
        return exit::OK;
    }
    let _ = writeln!(out, "Message {}  received {}", m.id, m.received_at);
    let _ = writeln!(out, "Source:      {}", place(&m));
    let _ = writeln!(out, "Size:        {} bytes", m.size);
    let outcome = match &m.reason {
        Some(reason) => format!("{} ({reason})", m.outcome),
        None => m.outcome.clone(),
    };
    let _ = writeln!(out, "Outcome:     {outcome}");
    if let Some(detail) = &m.detail {
        let _ = writeln!(out, "Detail:      {detail}");
    }
    if let Some(ticket) = &m.ticket {
        let _ = writeln!(out, "Ticket:      {ticket}");
    }
    if let Some(of) = m.duplicate_of {
        let _ = writeln!(out, "Duplicate of message {of}");
    }
    for r in &retries {
        let _ = writeln!(
            out,
            "Retried:     {}: {} ({}) → {}{}",
            r.retried_at,
            r.old_outcome,
            r.old_reason.as_deref().unwrap_or("-"),
            r.outcome,
            r.ticket
                .as_deref()
                .or(r.reason.as_deref())
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        );
    }

    // The header block only: a large body is not worth parsing here.
    let head = intake::parse::body_offset(&raw).map_or(&raw[..], |at| &raw[..at]);
    let parsed = intake::parse::parse(head);
    let people = |list: &[intake::Person]| {
        list.iter()
            .map(|p| match &p.name {
                Some(name) => format!("{name} <{}>", p.email),
                None => p.email.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out);
    for (label, value) in [
        ("From", Some(people(&parsed.from))),
        ("To", Some(people(&parsed.to))),
        ("Cc", Some(people(&parsed.cc))),
        ("Subject", parsed.subject.clone()),
        ("Date", parsed.date.clone()),
        (
            "Message-ID",
            parsed
                .message_id
                .as_ref()
                .map(|i| format!("<{}>", i.as_str())),
        ),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            let _ = writeln!(out, "{:<12} {value}", format!("{label}:"));
        }
    }
    let _ = writeln!(out);
    match (&cannot_retry, m.outcome.as_str()) {
        (Some(why), _) => {
            let _ = writeln!(out, "Cannot be retried: {why}.");
        }
        (None, "rejected") => {
            let _ = writeln!(
                out,
                "What intake decides now (`mailgate messages retry {}` files this):",
                m.id
            );
        }
        (None, _) => {
            let _ = writeln!(out, "What intake decides now:");
        }
    }
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&decision).unwrap_or_default()
    );
    exit::OK
}

/// Which messages `messages retry` files again.
#[derive(Debug, Clone, Copy)]
pub enum RetryTarget {
    One(i64),
    AllQuarantined,
}

fn describe(filed: &Filed) -> String {
    match filed {
        Filed::Ticket { key } => format!("{key} created"),
        Filed::Comment { key } => format!("comment on {key}"),
        Filed::Ignored { reason } => format!("ignored ({reason})"),
        Filed::Rejected { reason } => format!("rejected again ({reason})"),
        Filed::Duplicate { of_message, .. } => format!("duplicate of message {of_message}"),
        Filed::AlreadyStored { .. } => "already stored".into(),
    }
}

/// What retrying one message came to.
enum Retried {
    Filed(Filed),
    /// Already filed, unknown, or only its header kept.
    Refused,
    /// The database failed; the status to exit with.
    Failed(u8),
}

async fn retry_one(settings: &Settings, store: &Store, id: i64) -> Retried {
    let m = match store.message(id).await {
        Ok(m) => m,
        Err(e) => {
            let status = failed(&e);
            return if status == exit::DATAERR {
                Retried::Refused
            } else {
                Retried::Failed(status)
            };
        }
    };
    let not_quarantined = |outcome: &str, ticket: Option<&str>| {
        eprintln!(
            "mailgate: message {id} is not quarantined: it was filed already ({outcome}{})",
            ticket.map(|t| format!(" {t}")).unwrap_or_default()
        );
        Retried::Refused
    };
    if m.outcome != "rejected" {
        return not_quarantined(&m.outcome, m.ticket.as_deref());
    }
    let raw = match store.inbound_raw(id).await {
        Ok(raw) => raw,
        Err(e) => return Retried::Failed(failed(&e)),
    };
    if let Some(why) = header_only(&m, &raw) {
        eprintln!("mailgate: message {id} cannot be retried: {why}");
        return Retried::Refused;
    }
    let decision = intake::decide(
        &raw,
        &settings.intake,
        &defaults_for(settings, m.mailbox.as_deref()),
    );
    match store.refile(id, &decision).await {
        Ok(Retry::Refiled { filed, was }) => {
            println!(
                "message {id}: {} (was rejected: {})",
                describe(&filed),
                was.as_deref().unwrap_or("-")
            );
            Retried::Filed(filed)
        }
        Ok(Retry::NotQuarantined { outcome, ticket }) => {
            not_quarantined(&outcome, ticket.as_deref())
        }
        Err(e) => Retried::Failed(failed(&e)),
    }
}

/// `mailgate messages retry ID|--all-quarantined`: each message decided
/// again from its stored bytes with the current configuration and filed
/// on its own record. 0 when every one was filed, 65 when one stays
/// quarantined (rejected again, or it could not be retried) or was not
/// quarantined at all, 75 when the database failed.
pub async fn messages_retry(settings: &Settings, target: RetryTarget) -> u8 {
    let store = match store_for(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let ids: Vec<i64> = match target {
        RetryTarget::One(id) => vec![id],
        RetryTarget::AllQuarantined => match store.messages(Some("rejected"), None).await {
            // Oldest first, in the order they arrived.
            Ok(messages) => messages.iter().rev().map(|m| m.id).collect(),
            Err(e) => {
                store.close().await;
                return failed(&e);
            }
        },
    };
    let mut status = exit::OK;
    let mut counts = Counts::default();
    for id in ids {
        match retry_one(settings, &store, id).await {
            Retried::Filed(filed) => {
                if matches!(filed, Filed::Rejected { .. }) {
                    status = status.max(exit::DATAERR);
                }
                counts.add(&filed);
            }
            Retried::Refused => {
                status = status.max(exit::DATAERR);
                counts.skipped += 1;
            }
            Retried::Failed(failure) => {
                status = status.max(failure);
                counts.errors += 1;
                break;
            }
        }
    }
    if matches!(target, RetryTarget::AllQuarantined) {
        println!("{} retried: {}", counts.total(), counts.summary());
    }
    store.close().await;
    status
}

/// What a batch came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Counts {
    tickets: usize,
    comments: usize,
    ignored: usize,
    rejected: usize,
    duplicates: usize,
    skipped: usize,
    errors: usize,
}

impl Counts {
    fn add(&mut self, filed: &Filed) {
        match filed {
            Filed::Ticket { .. } => self.tickets += 1,
            Filed::Comment { .. } => self.comments += 1,
            Filed::Ignored { .. } => self.ignored += 1,
            Filed::Rejected { .. } => self.rejected += 1,
            Filed::Duplicate { .. } | Filed::AlreadyStored { .. } => self.duplicates += 1,
        }
    }

    fn total(&self) -> usize {
        self.tickets
            + self.comments
            + self.ignored
            + self.rejected
            + self.duplicates
            + self.skipped
            + self.errors
    }

    fn summary(&self) -> String {
        let mut text = format!(
            "{} ticket(s), {} comment(s), {} ignored, {} rejected, {} duplicate(s), {} error(s)",
            self.tickets, self.comments, self.ignored, self.rejected, self.duplicates, self.errors
        );
        if self.skipped > 0 {
            text.push_str(&format!(", {} skipped", self.skipped));
        }
        text
    }
}

// ---------------------------------------------------------------------------
// Import.

/// What `mailgate import` reads.
#[derive(Debug, Clone, Copy)]
pub enum ImportSource<'a> {
    Mbox(&'a Path),
    Maildir(&'a Path),
}

/// The messages of an mbox file, read one at a time (mboxo and mboxrd):
/// a message starts at a `From ` line at the start of the file or after an
/// empty line (or anywhere when it reads like a real `From sender date`
/// line); `>From `, `>>From `… lose one `>`; the empty line that ends each
/// message belongs to the file, not the message. LF and CRLF files; the
/// last message may lack its final line break.
pub struct Mbox<R> {
    reader: R,
    line: Vec<u8>,
    /// A separator was read: a message is open.
    open: bool,
    finished: bool,
    /// Bytes read so far, for progress.
    pub position: u64,
}

impl<R: BufRead> Mbox<R> {
    pub fn new(reader: R) -> Self {
        Mbox {
            reader,
            line: Vec::new(),
            open: false,
            finished: false,
            position: 0,
        }
    }
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// `From sender Mon Jan  1 10:00:00 2024` (asctime, as mbox writers put it).
fn reads_like_separator(line: &[u8]) -> bool {
    static SEPARATOR: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(
            r"^From \S+ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +\d{1,2}:\d{2}",
        )
        .expect("valid regex")
    });
    SEPARATOR.is_match(line)
}

/// `>From ` with any number of `>`.
fn is_escaped_from(line: &[u8]) -> bool {
    let quoted = line.iter().take_while(|&&b| b == b'>').count();
    quoted > 0 && line[quoted..].starts_with(b"From ")
}

/// A message without the empty line the mbox puts after it.
fn without_separator_line(mut message: Vec<u8>) -> Vec<u8> {
    if message.ends_with(b"\r\n\r\n") {
        message.truncate(message.len() - 2);
    } else if message.ends_with(b"\n\n") {
        message.truncate(message.len() - 1);
    }
    message
}

impl<R: BufRead> Iterator for Mbox<R> {
    type Item = std::io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let mut message = Vec::new();
        // After a separator line, or at the start of the file.
        let mut after_blank = true;
        loop {
            self.line.clear();
            let read = match self.reader.read_until(b'\n', &mut self.line) {
                Ok(read) => read,
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
            };
            self.position += read as u64;
            if read == 0 {
                self.finished = true;
                return self.open.then(|| Ok(without_separator_line(message)));
            }
            let line = &self.line[..];
            let separator = line.starts_with(b"From ")
                && (after_blank || !self.open || reads_like_separator(line));
            if separator {
                if self.open {
                    return Some(Ok(without_separator_line(message)));
                }
                self.open = true;
                after_blank = false;
                continue;
            }
            if !self.open {
                if is_blank(line) {
                    continue;
                }
                self.finished = true;
                return Some(Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "not an mbox file: it does not start with a \"From \" line",
                )));
            }
            after_blank = is_blank(line);
            if is_escaped_from(line) {
                message.extend_from_slice(&line[1..]);
            } else {
                message.extend_from_slice(line);
            }
        }
    }
}

/// The files of a Maildir (`cur/` and `new/`), by name.
fn maildir_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let folders: Vec<PathBuf> = ["cur", "new"]
        .iter()
        .map(|f| dir.join(f))
        .filter(|f| f.is_dir())
        .collect();
    if folders.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not a Maildir: no cur/ or new/ folder",
        ));
    }
    let mut files = Vec::new();
    for folder in folders {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if path.is_file() && !hidden {
                files.push(path);
            }
        }
    }
    // Maildir names start with the delivery time: by name is by arrival.
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
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
                if let Filed::Rejected { reason } = &filed {
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
pub async fn import(
    settings: &Settings,
    source: ImportSource<'_>,
    mailbox: Option<&str>,
    send_replies: bool,
) -> u8 {
    let defaults = match mailbox {
        Some(name) => match settings.source_defaults(name) {
            Some(defaults) => defaults.clone(),
            None => {
                eprintln!("mailgate: no mailbox named {name:?} in the configuration");
                return exit::CONFIG;
            }
        },
        None => MailboxDefaults::default(),
    };
    // Read the input before touching the database: a wrong path is 66.
    enum Opened {
        Mbox(std::fs::File, u64),
        Maildir(Vec<PathBuf>),
    }
    let (path, opened) = match source {
        ImportSource::Mbox(path) => (
            path,
            std::fs::File::open(path).and_then(|f| {
                let length = f.metadata()?.len();
                Ok(Opened::Mbox(f, length))
            }),
        ),
        ImportSource::Maildir(path) => (path, maildir_files(path).map(Opened::Maildir)),
    };
    let opened = match opened {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("mailgate: cannot read {}: {e}", path.display());
            return exit::NOINPUT;
        }
    };
    let store = match store_for(settings).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn split(mbox: &[u8]) -> Vec<Vec<u8>> {
        Mbox::new(mbox)
            .collect::<Result<Vec<_>, _>>()
            .expect("readable")
    }

    #[test]
    fn splits_on_from_lines_and_unescapes() {
        let mbox = b"From a@b.fr Mon Jan  1 10:00:00 2024\nFrom: a@b.fr\nSubject: one\n\nHello\n>From the start\n>>From deeper\n\nFrom c@d.fr Tue Jan  2 10:00:00 2024\nFrom: c@d.fr\n\nTwo\n\n";
        let messages = split(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0],
            b"From: a@b.fr\nSubject: one\n\nHello\nFrom the start\n>From deeper\n"
        );
        assert_eq!(messages[1], b"From: c@d.fr\n\nTwo\n");
    }

    #[test]
    fn crlf_and_a_last_message_without_line_break() {
        let mbox = b"From a@b.fr Mon Jan  1 10:00:00 2024\r\nFrom: a@b.fr\r\n\r\n>From here\r\n\r\nFrom x Mon Jan  1 10:00:00 2024\r\nFrom: c@d.fr\r\n\r\nlast";
        let messages = split(mbox);
        assert_eq!(
            messages,
            [
                b"From: a@b.fr\r\n\r\nFrom here\r\n".to_vec(),
                b"From: c@d.fr\r\n\r\nlast".to_vec()
            ]
        );
    }

    #[test]
    fn a_from_line_inside_a_paragraph_is_text_unless_it_is_a_real_separator() {
        let mbox = b"From a Mon Jan  1 10:00:00 2024\nFrom: a@b.fr\n\nline\nFrom me to you\nFrom b Tue Jan  2 10:00:00 2024\nFrom: b@b.fr\n\nx\n";
        let messages = split(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], b"From: a@b.fr\n\nline\nFrom me to you\n");
    }

    #[test]
    fn empty_files_and_files_that_are_not_mboxes() {
        assert!(split(b"").is_empty());
        assert!(split(b"\n\n").is_empty());
        let err = Mbox::new(&b"From: a@b.fr\n\nhi\n"[..])
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    }

    #[test]
    fn quarantined_is_rejected() {
        assert_eq!(outcome_of_status("quarantined"), "rejected");
        assert_eq!(outcome_of_status("ticket"), "ticket");
    }
}
