//! `mailgate customers export|forget`: a person's data written out for
//! them (GDPR article 15) or erased (article 17). The store finds and
//! erases; here the folder is written and the counts printed.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::store::{Backend, CustomerExport, Erasure, Store, StoreError, TicketsOnErasure};

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
    what mailgate made of each (ticket, comment, rejected, ...).

mail.json, mail/ID.eml
    The mail sent (or queued, or held back) to the person: envelope, status,
    attempts, and the message itself as sent.

All times are UTC (RFC 3339).
";

/// `mailgate customers export EMAIL --out PATH`.
pub(super) async fn export(settings: &Settings, store: &Store, email: &str, out: &Path) -> u8 {
    if let Ok(mut entries) = std::fs::read_dir(out)
        && entries.next().is_some()
    {
        eprintln!(
            "mailgate: {} exists and is not empty; give a new folder",
            out.display()
        );
        return exit::USAGE;
    }
    let data = match store.export_customer(email).await {
        Ok(data) => data,
        Err(e) => return store_error(&e),
    };
    match write_export(settings, store, &data, out).await {
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

enum Failure {
    Store(StoreError),
    Io(PathBuf, std::io::Error),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// Writes a file, creating its folder; counts it.
fn put(path: &Path, bytes: &[u8], files: &mut usize) -> Result<(), Failure> {
    let fail = |e| Failure::Io(path.to_owned(), e);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, bytes).map_err(fail)?;
    *files += 1;
    Ok(())
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

/// The folder's files; how many.
async fn write_export(
    settings: &Settings,
    store: &Store,
    data: &CustomerExport,
    out: &Path,
) -> Result<usize, Failure> {
    let mut files = 0;
    put(&out.join("README.txt"), README.as_bytes(), &mut files)?;
    let customer = json!({
        "email": data.email,
        "customer": data.customer,
        "portal": {
            "consents": data.consents,
            "sign_in_links": data.sign_in_links,
            "sessions": data.sessions,
        },
    });
    put(&out.join("customer.json"), &pretty(&customer), &mut files)?;

    for exported in &data.tickets {
        let ticket = &exported.ticket;
        let folder = out.join("tickets").join(file_name(&ticket.key));
        let mut value = crate::view::ticket_json(settings, ticket, true);
        value["roles"] = json!(exported.roles);
        let mut paths = Vec::new();
        for (n, attachment) in ticket.attachments.iter().enumerate() {
            let name = format!("{}-{}", n + 1, file_name(&attachment.filename));
            let content = store.blob(&attachment.sha256).await?;
            put(
                &folder.join("attachments").join(&name),
                &content,
                &mut files,
            )?;
            paths.push(format!("attachments/{name}"));
        }
        value["attachment_files"] = json!(paths);
        put(&folder.join("ticket.json"), &pretty(&value), &mut files)?;
    }

    let mut messages = Vec::new();
    for message in &data.messages {
        let file = format!("messages/{}.eml", message.record.id);
        put(
            &out.join(&file),
            &store.blob(&message.raw_sha256).await?,
            &mut files,
        )?;
        let mut value = json!(message);
        value["file"] = json!(file);
        messages.push(value);
    }
    put(
        &out.join("messages.json"),
        &pretty(&json!(messages)),
        &mut files,
    )?;

    let mut mail = Vec::new();
    for row in &data.mail {
        let file = format!("mail/{}.eml", row.id);
        put(
            &out.join(&file),
            &store.blob(&row.raw_sha256).await?,
            &mut files,
        )?;
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
        }));
    }
    put(&out.join("mail.json"), &pretty(&json!(mail)), &mut files)?;
    Ok(files)
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
