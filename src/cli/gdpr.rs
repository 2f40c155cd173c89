//! `mailgate customers export|forget`: a person's data written out for
//! them (GDPR article 15) or erased (article 17). The store finds and
//! erases; here the folder or archive is written and the counts printed.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::store::{Backend, CustomerExport, Erasure, Store, StoreError, TicketsOnErasure};

use super::zip::ZipWriter;

/// What the export folder holds, written into it as README.txt.
const README: &str = "\
Data stored by mailgate about one email address
===============================================

customer.json
    The address, the customer record (name, organisation, language, whether
    registered, when created; null when there is none) and the customer
    portal's records: terms accepted (version, time, client IP address),
    sign-in links asked for (times, client IP address) and sessions (times).

tickets/KEY/ticket.json
    Each ticket the person reported, watches or commented on (\"roles\"),
    with every item about it: description, fields, watchers, all comments
    (public and the team's internal notes), the history of changes, the
    list of attachments and of mail sent about it.
tickets/KEY/attachments/N-NAME
    The files of that ticket, N being their position in \"attachments\".

messages.json, messages/ID.eml
    The messages the person sent, as received (raw bytes, RFC 5322), and
    what mailgate made of each (ticket, comment, rejected, ...). A message
    whose raw bytes were removed under the retention rules has no file:
    its \"raw_removed_at\" says when.

mail.json, mail/ID.eml
    The mail sent (or queued, or held back) to the person: envelope, status,
    attempts, and the message itself as sent (none when the retention
    rules removed it: \"body_removed_at\" says when).

All times are UTC (RFC 3339).
";

/// `mailgate customers export EMAIL --out PATH`: a folder, or an archive
/// when PATH ends in `.zip`.
pub(super) async fn export(settings: &Settings, store: &Store, email: &str, out: &Path) -> u8 {
    let zip = is_zip(out);
    let taken = if zip {
        out.exists()
    } else {
        std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some())
    };
    if taken {
        eprintln!(
            "mailgate: {} exists{}; give a new {}",
            out.display(),
            if zip { "" } else { " and is not empty" },
            if zip { "file" } else { "folder" }
        );
        return exit::USAGE;
    }
    let data = match store.export_customer(email).await {
        Ok(data) => data,
        Err(e) => return store_error(&e),
    };
    let written = async {
        let mut sink = Sink::open(out, zip)?;
        write_export(settings, store, &data, &mut sink).await?;
        sink.finish()
    };
    match written.await {
        Ok(files) => {
            println!(
                "{}: {} ticket(s), {} message(s), {} mail(s), {files} file(s) written to {}",
                data.email,
                data.tickets.len(),
                data.messages.len(),
                data.mail.len(),
                out.display()
            );
            exit::OK
        }
        Err(Failure::Store(e)) => store_error(&e),
        Err(Failure::Io(path, e)) => {
            eprintln!("mailgate: cannot write {}: {e}", path.display());
            exit::CANTCREAT
        }
    }
}

fn is_zip(out: &Path) -> bool {
    out.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

enum Failure {
    Store(StoreError),
    Io(PathBuf, std::io::Error),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// Where the export's files go, one at a time (only the file being
/// written is in memory): a folder, or an archive written into
/// `NAME.zip.partial` and renamed when whole, so that a failed export
/// leaves nothing that looks complete.
enum Sink {
    Folder {
        root: PathBuf,
        files: usize,
    },
    Zip {
        /// Taken by `finish`.
        archive: Option<ZipWriter<BufWriter<File>>>,
        partial: PathBuf,
        path: PathBuf,
    },
}

impl Sink {
    fn open(out: &Path, zip: bool) -> Result<Sink, Failure> {
        if !zip {
            return Ok(Sink::Folder {
                root: out.to_owned(),
                files: 0,
            });
        }
        let partial = PathBuf::from(format!("{}.partial", out.display()));
        let file = File::create(&partial).map_err(|e| Failure::Io(partial.clone(), e))?;
        Ok(Sink::Zip {
            archive: Some(ZipWriter::new(BufWriter::new(file), chrono::Utc::now())),
            partial,
            path: out.to_owned(),
        })
    }

    /// Writes a file under `name` (a relative path with `/`).
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), Failure> {
        match self {
            Sink::Folder { root, files } => {
                let path = root.join(name);
                let fail = |e| Failure::Io(path.clone(), e);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(fail)?;
                }
                std::fs::write(&path, bytes).map_err(fail)?;
                *files += 1;
                Ok(())
            }
            Sink::Zip {
                archive: Some(archive),
                partial,
                ..
            } => archive
                .add(name, bytes)
                .map_err(|e| Failure::Io(partial.clone(), e)),
            Sink::Zip { archive: None, .. } => unreachable!("written to after finish"),
        }
    }

    /// Ends the export; how many files it holds.
    fn finish(mut self) -> Result<usize, Failure> {
        match &mut self {
            Sink::Folder { files, .. } => Ok(*files),
            Sink::Zip {
                archive,
                partial,
                path,
            } => {
                let fail = |e| Failure::Io(partial.clone(), e);
                let Some(archive) = archive.take() else {
                    unreachable!("finished twice")
                };
                let (out, files) = archive.finish().map_err(fail)?;
                let file = out.into_inner().map_err(|e| fail(e.into_error()))?;
                file.sync_all().map_err(fail)?;
                std::fs::rename(&*partial, &*path).map_err(|e| Failure::Io(path.clone(), e))?;
                Ok(files)
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Not finished (an error): no half archive is left behind.
        if let Sink::Zip {
            archive: Some(_),
            partial,
            ..
        } = self
        {
            let _ = std::fs::remove_file(partial);
        }
    }
}

fn pretty(value: &serde_json::Value) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(value).unwrap_or_default();
    text.push(b'\n');
    text
}

/// A stored file name as one harmless path component.
fn file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// The export's files.
async fn write_export(
    settings: &Settings,
    store: &Store,
    data: &CustomerExport,
    sink: &mut Sink,
) -> Result<(), Failure> {
    sink.put("README.txt", README.as_bytes())?;
    let customer = json!({
        "email": data.email,
        "customer": data.customer,
        "portal": {
            "consents": data.consents,
            "sign_in_links": data.sign_in_links,
            "sessions": data.sessions,
        },
    });
    sink.put("customer.json", &pretty(&customer))?;

    for exported in &data.tickets {
        let ticket = &exported.ticket;
        let folder = format!("tickets/{}", file_name(&ticket.key));
        let mut value = crate::view::ticket_json(settings, ticket, true);
        value["roles"] = json!(exported.roles);
        let mut paths = Vec::new();
        for (n, attachment) in ticket.attachments.iter().enumerate() {
            let name = format!("{}-{}", n + 1, file_name(&attachment.filename));
            let content = store.blob(&attachment.sha256).await?;
            sink.put(&format!("{folder}/attachments/{name}"), &content)?;
            paths.push(format!("attachments/{name}"));
        }
        value["attachment_files"] = json!(paths);
        sink.put(&format!("{folder}/ticket.json"), &pretty(&value))?;
    }

    let mut messages = Vec::new();
    for message in &data.messages {
        let mut value = json!(message);
        // Removed by retention: listed as such, no empty file.
        if message.record.raw_removed_at.is_none() {
            let file = format!("messages/{}.eml", message.record.id);
            sink.put(&file, &store.blob(&message.raw_sha256).await?)?;
            value["file"] = json!(file);
        } else {
            value["file"] = serde_json::Value::Null;
            value["raw_removed"] = json!(true);
        }
        messages.push(value);
    }
    sink.put("messages.json", &pretty(&json!(messages)))?;

    let mut mail = Vec::new();
    for row in &data.mail {
        let file = if row.body_removed_at.is_none() {
            let file = format!("mail/{}.eml", row.id);
            sink.put(&file, &store.blob(&row.raw_sha256).await?)?;
            Some(file)
        } else {
            None
        };
        mail.push(json!({
            "id": row.id,
            "kind": row.kind,
            "message_id": row.message_id,
            "sender": row.sender,
            "recipients": row.recipients,
            "status": row.status,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "created_at": row.created_at,
            "ticket": row.ticket,
            "file": file,
            "body_removed_at": row.body_removed_at,
        }));
    }
    sink.put("mail.json", &pretty(&json!(mail)))?;
    Ok(())
}

/// Who runs the command, for the erasure log: the OS user, else `cli`.
fn actor() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|user| !user.trim().is_empty())
        .unwrap_or_else(|| "cli".to_owned())
}

/// `mailgate customers forget EMAIL [--dry-run] [--tickets anonymise|delete]`.
pub(super) async fn forget(
    store: &Store,
    email: &str,
    tickets: TicketsOnErasure,
    dry_run: bool,
) -> u8 {
    let actor = actor();
    let erasure = Erasure {
        email,
        tickets,
        actor: &actor,
        dry_run,
    };
    let started = std::time::Instant::now();
    let report = match store.forget_customer(&erasure).await {
        Ok(report) => report,
        Err(e) => return store_error(&e),
    };
    let email = email.trim().to_lowercase();
    if dry_run {
        println!(
            "dry run, nothing changed: erasing {email} (tickets: {}) would remove or rewrite",
            tickets.as_str()
        );
    } else {
        println!(
            "{email} erased, now {} (tickets: {}; erasure log {}; {} ms)",
            report.pseudonym,
            tickets.as_str(),
            report.log_id.unwrap_or_default(),
            started.elapsed().as_millis()
        );
    }
    for (kind, count) in &report.counts {
        println!("  {kind:<24} {count}");
    }
    if !dry_run && store.backend() == Backend::Postgres {
        println!(
            "  database: rows deleted; PostgreSQL keeps their old versions in the table files \
             until VACUUM lets new rows overwrite them (VACUUM FULL rewrites the tables)"
        );
    }
    if let Some(file) = &report.file {
        if let Some(why) = &file.failed {
            eprintln!(
                "mailgate: WARNING: erased in the database, but its file could not be wiped ({why}); \
                 old copies may stay in it until `mailgate run` is stopped and the file is \
                 rewritten with `sqlite3 FILE VACUUM`"
            );
        } else {
            println!(
                "  database file: log {}{}",
                if file.log_truncated {
                    "copied and cut to nothing"
                } else {
                    "NOT cut to nothing yet (another process is reading it; `mailgate run` cuts it once writing stops)"
                },
                if file.vacuumed {
                    ", rewritten (VACUUM)"
                } else {
                    ""
                }
            );
        }
        if file.address_left && file.failed.is_none() {
            println!(
                "  the address is still in the file, in messages or mail of other people that name it"
            );
        }
    }
    exit::OK
}

/// Says what went wrong; the exit status.
fn store_error(e: &StoreError) -> u8 {
    eprintln!("mailgate: {e}");
    match e {
        StoreError::NotFound(_) => exit::DATAERR,
        e => store_failure(e),
    }
}
