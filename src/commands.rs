//! The command-line actions, each a function from parsed arguments and
//! settings to an exit status. `main.rs` only parses and dispatches.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::config::Settings;
use crate::intake::{self, Decision, MailboxDefaults};
use crate::store::{Filed, Inbound, SourceKind, Store, StoreError, TicketRecord};

/// Exit statuses from sysexits.h, which MTAs understand.
pub mod exit {
    pub const OK: u8 = 0;
    /// The input cannot be used (rejected message).
    /// The command was used wrongly (EX_USAGE).
    pub const USAGE: u8 = 64;
    pub const DATAERR: u8 = 65;
    /// An input file cannot be read.
    pub const NOINPUT: u8 = 66;
    /// Something else went wrong in mailgate itself.
    pub const SOFTWARE: u8 = 70;
    /// Try again later (database unavailable): nothing was lost.
    pub const TEMPFAIL: u8 = 75;
    /// The configuration is invalid.
    pub const CONFIG: u8 = 78;
}

/// Opens the store named by the settings; every ticket it files writes its
/// replies to the outbox in the same transaction.
pub async fn open_store(settings: &Settings) -> Result<Store, StoreError> {
    // Templates first: a broken override is a configuration error, found
    // before connecting.
    let replies = replies_for(settings)?;
    let store = Store::open(&settings.database.url, &settings.tickets.key_prefix).await?;
    Ok(apply_settings(store, settings, replies))
}

/// The same store (the same connections) with the templates, policies and
/// limits of new settings: what a reload changes.
pub fn reconfigure_store(store: &Store, settings: &Settings) -> Result<Store, StoreError> {
    let replies = replies_for(settings)?;
    Ok(apply_settings(store.clone(), settings, replies))
}

fn replies_for(settings: &Settings) -> Result<crate::outbox::Replies, StoreError> {
    let templates = match &settings.templates_dir {
        Some(dir) => crate::outbox::render::Templates::load(dir)
            .map_err(|e| StoreError::Config(format!("outbox.templates: {e}")))?,
        None => crate::outbox::render::Templates::builtin(),
    };
    Ok(crate::outbox::Replies {
        templates: std::sync::Arc::new(templates),
        from: settings.from_address(),
        from_name: settings.from_name.clone(),
        team_address: settings.tickets.team_address.clone(),
        tracking_base: settings.tickets.tracking_url.clone(),
        vocabulary: settings.intake.vocabulary.clone(),
        default_language: settings.default_language,
        no_reply_patterns: settings.no_reply_patterns.clone(),
        team_replies_through_us: !settings.tickets.conversations.team_addresses.is_empty(),
        confirm_follow_ups: settings.tickets.confirm_follow_ups,
        reopen_days: settings.tickets.conversations.reopen_window.num_days(),
    })
}

fn apply_settings(store: Store, settings: &Settings, replies: crate::outbox::Replies) -> Store {
    store
        .with_replies(std::sync::Arc::new(replies), settings.auto_reply_limit)
        .with_conversations(settings.tickets.conversations.clone())
        .with_admission(crate::store::Admission {
            policy: Some(settings.sender_policy),
            allowed_domains: settings.allowed_domains.clone(),
        })
}

/// Exit status for a storage failure: retry later or give up.
pub fn store_failure(error: &StoreError) -> u8 {
    match error {
        StoreError::Config(_) => exit::CONFIG,
        e if e.is_transient() => exit::TEMPFAIL,
        // An unexpected database error may be a passing one too; an MTA that
        // retries loses nothing, one that bounces loses the message.
        _ => exit::TEMPFAIL,
    }
}

/// One message to ingest and where it came from.
struct Input {
    label: String,
    source: SourceKind,
    raw: Result<Vec<u8>, std::io::Error>,
}

/// Expands the paths of `ingest`: a file is one message; a Maildir (a folder
/// with `new/` or `cur/`) gives the files in both; any other folder gives its
/// `*.eml` files. `-` or nothing at all reads standard input.
fn inputs(paths: &[PathBuf]) -> Vec<Input> {
    if paths.is_empty() || paths.iter().any(|p| p.as_os_str() == "-") && paths.len() == 1 {
        let mut raw = Vec::new();
        let result = std::io::stdin().lock().read_to_end(&mut raw).map(|_| raw);
        return vec![Input {
            label: "-".into(),
            source: SourceKind::Stdin,
            raw: result,
        }];
    }
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let maildir = path.join("new").is_dir() || path.join("cur").is_dir();
            let folders: Vec<PathBuf> = if maildir {
                vec![path.join("new"), path.join("cur")]
            } else {
                vec![path.clone()]
            };
            for folder in folders {
                let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_file())
                    .filter(|p| {
                        let hidden = p
                            .file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with('.'));
                        let eml = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"));
                        !hidden && (maildir || eml)
                    })
                    .collect();
                files.sort();
                out.extend(files.into_iter().map(|f| file_input(&f, maildir)));
            }
        } else {
            out.push(file_input(path, false));
        }
    }
    out
}

fn file_input(path: &Path, maildir: bool) -> Input {
    Input {
        label: path.display().to_string(),
        source: if maildir {
            SourceKind::Maildir
        } else {
            SourceKind::File
        },
        raw: std::fs::read(path),
    }
}

fn describe(filed: &Filed) -> String {
    match filed {
        Filed::Ticket { key } => format!("{key} created"),
        Filed::Comment { key } => format!("comment on {key}"),
        Filed::Ignored { reason } => format!("ignored ({reason})"),
        Filed::Rejected { reason } => format!("rejected ({reason})"),
        Filed::Duplicate { of_message, ticket } => match ticket {
            Some(key) => format!("duplicate of message {of_message} ({key})"),
            None => format!("duplicate of message {of_message}"),
        },
        Filed::AlreadyStored { ticket, .. } => format!(
            "already stored ({})",
            ticket.as_deref().unwrap_or("no ticket")
        ),
    }
}

/// `mailgate ingest`: files each message and prints one line per message.
/// The exit status is the worst of the messages': 75 when the database was
/// unavailable (the MTA retries), 65 when a message was rejected (the MTA
/// bounces it, so the sender learns why), 66 for an unreadable file.
pub async fn ingest(
    settings: &Settings,
    paths: &[PathBuf],
    mailbox: Option<&str>,
    dry_run: bool,
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
    let store = if dry_run {
        None
    } else {
        match open_store(settings).await {
            Ok(store) => Some(store),
            Err(e) => {
                eprintln!("mailgate: {e}");
                return store_failure(&e);
            }
        }
    };
    let mut status = exit::OK;
    let mut stdout = std::io::stdout().lock();
    for input in inputs(paths) {
        let raw = match input.raw {
            Ok(raw) => raw,
            Err(e) => {
                eprintln!("mailgate: cannot read {}: {e}", input.label);
                status = status.max(exit::NOINPUT);
                continue;
            }
        };
        let decision: Decision = intake::decide(&raw, &settings.intake, &defaults);
        let Some(store) = &store else {
            let mut value = serde_json::to_value(&decision).unwrap_or_default();
            value["input"] = json!(input.label);
            let _ = writeln!(stdout, "{value}");
            continue;
        };
        let inbound = Inbound {
            source: input.source,
            mailbox,
            uidvalidity: None,
            uid: None,
            raw: &raw,
            digest: None,
        };
        match store.file_message(&inbound, &decision).await {
            Ok(filed) => {
                let _ = writeln!(stdout, "{}: {}", input.label, describe(&filed));
                if matches!(filed, Filed::Rejected { .. }) {
                    status = status.max(exit::DATAERR);
                }
            }
            Err(e) => {
                eprintln!("mailgate: {}: not filed, {e}", input.label);
                status = status.max(store_failure(&e));
            }
        }
    }
    if let Some(store) = store {
        store.close().await;
    }
    status
}

/// The JSON of a ticket, as documented in README.md. `comments` is a count
/// in lists and an array in `tickets show`.
pub fn ticket_json(settings: &Settings, ticket: &TicketRecord, full: bool) -> serde_json::Value {
    let public: Vec<_> = ticket
        .comments
        .iter()
        .filter(|c| c.visibility == "public")
        .collect();
    json!({
        "key": ticket.key,
        "summary": ticket.summary,
        "description": ticket.description,
        "severity": ticket.severity,
        "products": ticket.products,
        "request_type": ticket.request_type,
        "reporter": ticket.reporter_email,
        "reporter_name": ticket.reporter_name,
        "reply_to": ticket.reply_to,
        "watchers": ticket.watchers,
        "status": ticket.status,
        "language": ticket.language,
        "unrecognized": ticket.unrecognized,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "attachments": ticket.attachments,
        "comments": if full { json!(ticket.comments) } else { json!(public.len()) },
        "history": if full { json!(ticket.events) } else { json!(ticket.events.len()) },
        "follows": ticket.follows,
        "replies": ticket.replies,
        "tracking_url": settings.tracking_url(&ticket.tracking_token),
    })
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        format!("{}…", intake::text::truncate_chars(text, width - 1))
    }
}

/// `mailgate tickets list`.
pub async fn tickets_list(settings: &Settings, status: Option<&str>, as_json: bool) -> u8 {
    let store = match open_store(settings).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let tickets = match store.list_tickets(status).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let mut out = std::io::stdout().lock();
    if as_json {
        for ticket in &tickets {
            let _ = writeln!(out, "{}", ticket_json(settings, ticket, false));
        }
    } else {
        let _ = writeln!(
            out,
            "{:<10} {:<8} {:<9} {:<16} {:<28} SUMMARY",
            "KEY", "STATUS", "SEVERITY", "PRODUCTS", "REPORTER"
        );
        for t in &tickets {
            let _ = writeln!(
                out,
                "{:<10} {:<8} {:<9} {:<16} {:<28} {}",
                t.key,
                t.status,
                t.severity,
                cut(&t.products.join(","), 16),
                cut(&t.reporter_email, 28),
                cut(&t.summary, 60)
            );
        }
        let _ = writeln!(out, "{} ticket(s)", tickets.len());
    }
    store.close().await;
    exit::OK
}

/// `mailgate tickets show KEY`.
pub async fn tickets_show(settings: &Settings, key: &str, as_json: bool) -> u8 {
    let store = match open_store(settings).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let ticket = match store.ticket(key).await {
        Ok(t) => t,
        Err(StoreError::NotFound(why)) => {
            eprintln!("mailgate: {why}");
            return exit::DATAERR;
        }
        Err(e) => {
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let mut out = std::io::stdout().lock();
    if as_json {
        let _ = writeln!(out, "{}", ticket_json(settings, &ticket, true));
    } else {
        let _ = writeln!(out, "{}  {}", ticket.key, ticket.summary);
        let _ = writeln!(out, "Status:       {}", ticket.status);
        let _ = writeln!(out, "Severity:     {}", ticket.severity);
        let _ = writeln!(out, "Products:     {}", ticket.products.join(", "));
        let _ = writeln!(out, "Request type: {}", ticket.request_type);
        let reporter = match &ticket.reporter_name {
            Some(name) => format!("{name} <{}>", ticket.reporter_email),
            None => ticket.reporter_email.clone(),
        };
        let _ = writeln!(out, "Reporter:     {reporter}");
        if !ticket.watchers.is_empty() {
            let watchers: Vec<_> = ticket.watchers.iter().map(|w| w.email.as_str()).collect();
            let _ = writeln!(out, "Watchers:     {}", watchers.join(", "));
        }
        for u in &ticket.unrecognized {
            let _ = writeln!(
                out,
                "Unrecognised: {} {:?} (from the {})",
                u.field, u.value, u.source
            );
        }
        let _ = writeln!(out, "Created:      {}", ticket.created_at);
        let _ = writeln!(
            out,
            "Tracking:     {}",
            settings.tracking_url(&ticket.tracking_token)
        );
        for a in &ticket.attachments {
            let _ = writeln!(
                out,
                "Attachment:   {} ({}, {} bytes, sha256 {})",
                a.filename, a.content_type, a.size, a.sha256
            );
        }
        let _ = writeln!(out, "\n{}", ticket.description);
        if let Some(follows) = &ticket.follows {
            let _ = writeln!(out, "\n(continues {follows})");
        }
        for c in &ticket.comments {
            let _ = writeln!(
                out,
                "\n--- {} {} ({}, {})\n{}",
                c.created_at, c.author_email, c.author_role, c.visibility, c.body
            );
        }
        if !ticket.events.is_empty() {
            let _ = writeln!(out, "\nHistory:");
        }
        for e in &ticket.events {
            let change = match (&e.field, &e.old_value, &e.new_value) {
                (Some(field), Some(old), Some(new)) => format!("{field}: {old} → {new}"),
                (_, _, Some(new)) => new.clone(),
                _ => String::new(),
            };
            let detail = e.detail.as_deref().unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} {} {} {change} {detail} ({})",
                e.created_at,
                e.kind,
                e.actor,
                if e.public.0 { "public" } else { "internal" }
            );
        }
    }
    store.close().await;
    exit::OK
}

/// Opens the store for a one-shot command, or says why not and gives the
/// exit status.
async fn store_for_command(settings: &Settings) -> Result<Store, u8> {
    open_store(settings).await.map_err(|e| {
        eprintln!("mailgate: {e}");
        store_failure(&e)
    })
}

/// The exit status of a team action, with its message.
fn action_status(result: Result<crate::store::ActionDone, StoreError>, what: &str) -> u8 {
    match result {
        Ok(done) => {
            println!("{}: {what}, {} mail(s) queued", done.key, done.mails);
            exit::OK
        }
        Err(StoreError::NotFound(why)) | Err(StoreError::Invalid(why)) => {
            eprintln!("mailgate: {why}");
            exit::DATAERR
        }
        Err(e) => {
            eprintln!("mailgate: {e}");
            store_failure(&e)
        }
    }
}

/// Reads the text of a team action: `--message`, or `--file` (`-` for
/// standard input).
pub fn action_text(message: Option<&str>, file: Option<&Path>) -> Result<String, String> {
    match (message, file) {
        (Some(text), None) => Ok(text.to_owned()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("standard input: {e}"))?;
            Ok(text)
        }
        (None, Some(path)) => {
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
        }
        _ => Err("give the text with --message or --file".into()),
    }
    .and_then(|text| {
        let text = intake::body::tidy(&text);
        if text.is_empty() {
            Err("the text is empty".into())
        } else {
            Ok(text)
        }
    })
}

/// A file to send with a reply, read whole.
fn attachment_from_file(path: &Path) -> Result<intake::Attachment, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let filename = intake::attachments::safe_filename(&name).unwrap_or_else(|| "attachment".into());
    let content_type = intake::attachments::content_type_for(&filename).to_owned();
    Ok(intake::Attachment::new(filename, content_type, data))
}

/// A team action from the command line.
pub enum TeamAction<'a> {
    Reply {
        text: String,
        attachments: &'a [PathBuf],
    },
    Note {
        text: String,
    },
    Status {
        status: &'a str,
        message: Option<String>,
    },
}

/// `mailgate tickets reply|note|status`.
pub async fn team_action(
    settings: &Settings,
    key: &str,
    author: &str,
    action: TeamAction<'_>,
) -> u8 {
    let store = match store_for_command(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let status = match action {
        TeamAction::Reply { text, attachments } => {
            let files: Result<Vec<_>, _> = attachments
                .iter()
                .map(|p| attachment_from_file(p))
                .collect();
            match files {
                Ok(files) => action_status(
                    store.team_reply(key, author, &text, &files).await,
                    "reply posted",
                ),
                Err(why) => {
                    eprintln!("mailgate: {why}");
                    exit::NOINPUT
                }
            }
        }
        TeamAction::Note { text } => {
            action_status(store.add_note(key, author, &text).await, "note added")
        }
        TeamAction::Status { status, message } => {
            let update = crate::store::FieldUpdate {
                status: Some(status.to_owned()),
                ..Default::default()
            };
            action_status(
                store
                    .update_ticket(key, author, &update, message.as_deref())
                    .await,
                &format!("status {status}"),
            )
        }
    };
    store.close().await;
    status
}

/// `mailgate api-token NAME`: a new random token for the team API, and the
/// configuration lines that accept it (only its SHA-256 is stored).
pub fn api_token(name: &str) -> u8 {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let token = format!("mg_{}", hex::encode(secret));
    let hash = intake::sha256_hex(token.as_bytes());
    println!("Token (give it to the tool; it is shown only once):\n\n  {token}\n");
    println!(
        "Add to the configuration:\n\n[[http.api_tokens]]\nname = {name:?}\nsha256 = \"{hash}\""
    );
    exit::OK
}

/// `mailgate migrate`.
pub async fn migrate(settings: &Settings) -> u8 {
    match open_store(settings).await {
        Ok(store) => {
            println!(
                "database {} is up to date",
                redact_url(&settings.database.url)
            );
            store.close().await;
            exit::OK
        }
        Err(e) => {
            eprintln!("mailgate: {e}");
            store_failure(&e)
        }
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// `mailgate customers …`.
pub enum CustomersAction<'a> {
    Add {
        email: &'a str,
        name: Option<&'a str>,
        organisation: Option<&'a str>,
        language: Option<&'a str>,
    },
    Import {
        file: &'a Path,
    },
    List {
        json: bool,
    },
    Remove {
        email: &'a str,
    },
}

fn valid_customer_email(email: &str) -> bool {
    let email = email.trim();
    email
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !email.contains(char::is_whitespace)
}

pub async fn customers(settings: &Settings, action: CustomersAction<'_>) -> u8 {
    let store = match open_store(settings).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let status = match action {
        CustomersAction::Add {
            email,
            name,
            organisation,
            language,
        } => {
            if !valid_customer_email(email) {
                eprintln!("mailgate: {email:?} is not an email address");
                exit::DATAERR
            } else if language.is_some_and(|l| intake::Language::parse(l).is_none()) {
                eprintln!("mailgate: --lang must be en or fr");
                exit::DATAERR
            } else {
                match store
                    .register_customer(email, name, organisation, language)
                    .await
                {
                    Ok(()) => {
                        println!("{} registered", email.trim().to_lowercase());
                        exit::OK
                    }
                    Err(e) => {
                        eprintln!("mailgate: {e}");
                        store_failure(&e)
                    }
                }
            }
        }
        CustomersAction::Import { file } => import_customers(&store, file).await,
        CustomersAction::List { json } => match store.registered_customers().await {
            Ok(customers) => {
                let mut out = std::io::stdout().lock();
                for c in &customers {
                    let _ = if json {
                        writeln!(out, "{}", serde_json::to_string(c).unwrap_or_default())
                    } else {
                        writeln!(
                            out,
                            "{:<36} {:<24} {:<20} {}",
                            c.email,
                            c.name.as_deref().unwrap_or("-"),
                            c.organisation.as_deref().unwrap_or("-"),
                            c.language.as_deref().unwrap_or("-")
                        )
                    };
                }
                exit::OK
            }
            Err(e) => {
                eprintln!("mailgate: {e}");
                store_failure(&e)
            }
        },
        CustomersAction::Remove { email } => match store.unregister_customer(email).await {
            Ok(true) => {
                println!(
                    "{} unregistered (their tickets stay)",
                    email.trim().to_lowercase()
                );
                exit::OK
            }
            Ok(false) => {
                eprintln!("mailgate: {email} is not a registered customer");
                exit::DATAERR
            }
            Err(e) => {
                eprintln!("mailgate: {e}");
                store_failure(&e)
            }
        },
    };
    store.close().await;
    status
}

/// Imports `email,name,organisation,language` rows (a header line naming
/// the columns; only `email` is required). Every bad row is reported with
/// its line number; the good ones are imported.
async fn import_customers(store: &Store, file: &Path) -> u8 {
    let mut reader = match csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(file)
    {
        Ok(reader) => reader,
        Err(e) => {
            eprintln!("mailgate: {}: {e}", file.display());
            return exit::NOINPUT;
        }
    };
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.to_ascii_lowercase()).collect(),
        Err(e) => {
            eprintln!("mailgate: {}: {e}", file.display());
            return exit::DATAERR;
        }
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let Some(email_at) = column("email") else {
        eprintln!(
            "mailgate: {}: no \"email\" column in the header line",
            file.display()
        );
        return exit::DATAERR;
    };
    let (name_at, org_at, lang_at) = (
        column("name"),
        column("organisation").or(column("organization")),
        column("language"),
    );
    let (mut imported, mut bad) = (0, 0);
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                eprintln!("mailgate: line {line}: {e}");
                bad += 1;
                continue;
            }
        };
        let get = |at: Option<usize>| at.and_then(|a| record.get(a)).filter(|v| !v.is_empty());
        let email = get(Some(email_at)).unwrap_or_default();
        let language = get(lang_at);
        if !valid_customer_email(email)
            || language.is_some_and(|l| intake::Language::parse(l).is_none())
        {
            eprintln!("mailgate: line {line}: {email:?} skipped (bad email or language)");
            bad += 1;
            continue;
        }
        if let Err(e) = store
            .register_customer(email, get(name_at), get(org_at), language)
            .await
        {
            eprintln!("mailgate: line {line}: {e}");
            return store_failure(&e);
        }
        imported += 1;
    }
    println!("{imported} customer(s) registered, {bad} line(s) skipped");
    if bad > 0 { exit::DATAERR } else { exit::OK }
}
