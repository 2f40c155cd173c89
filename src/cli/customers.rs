//! `mailgate customers add|import|list|remove`: the registered customers
//! (who may open tickets under `senders.policy = "registered"`), one at a
//! time or from a CSV file. `export` and `forget` (a person's data, GDPR
//! articles 15 and 17) are in `gdpr.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::model::{EmailAddress, Language};
use crate::store::{Store, TicketsOnErasure};

#[derive(clap::Subcommand)]
pub(super) enum CustomersCmd {
    /// Register a customer (or update one).
    Add {
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        org: Option<String>,
        /// Language of the mail they get: en or fr.
        #[arg(long)]
        lang: Option<String>,
    },
    /// Register every row of a CSV file with a header line:
    /// email,name,organisation,language (only email is required).
    Import { file: PathBuf },
    /// Registered customers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Unregister a customer; their tickets stay.
    Remove { email: String },
    /// Write everything stored about an address into a new folder or .zip (GDPR
    /// article 15): their record and portal consents, the tickets they
    /// reported, watch or commented on with every public and internal
    /// item, the raw messages they sent, the attachments, the mail sent to
    /// them; JSON and the files, described by README.txt. Reads only.
    Export {
        email: String,
        /// The folder to create (it may exist if empty), or, when PATH
        /// ends in `.zip`, the archive to create (stored, not compressed).
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
    /// Erase an address's data (GDPR article 17), in one transaction: their
    /// raw messages, attachments, the mail sent to them, their portal
    /// sessions, sign-in links and consents are deleted, pending mail to
    /// them cancelled, their address and name replaced everywhere by
    /// erased-N@invalid; the erasure is logged without personal data. On
    /// SQLite the file and its log are wiped too (secure_delete, a
    /// checkpoint, VACUUM when needed).
    Forget {
        email: String,
        /// Print what would be removed; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// What becomes of the tickets they reported: kept with the texts
        /// they wrote replaced by [erased] (for the team's figures), or
        /// deleted with everything on them.
        #[arg(long, value_enum, default_value_t = TicketsOnErasure::Anonymise)]
        tickets: TicketsOnErasure,
    },
}

/// `mailgate customers …`.
pub(super) async fn execute(settings: &Settings, action: &CustomersCmd) -> u8 {
    let store = match super::open_store(settings).await {
        Ok(store) => store,
        Err(status) => return status,
    };
    let status = match action {
        CustomersCmd::Add {
            email,
            name,
            org,
            lang,
        } => {
            add(
                &store,
                email,
                name.as_deref(),
                org.as_deref(),
                lang.as_deref(),
            )
            .await
        }
        CustomersCmd::Import { file } => import_customers(&store, file).await,
        CustomersCmd::List { json } => list(&store, *json).await,
        CustomersCmd::Remove { email } => remove(&store, email).await,
        CustomersCmd::Export { email, out } => {
            super::gdpr::export(settings, &store, email, out).await
        }
        CustomersCmd::Forget {
            email,
            dry_run,
            tickets,
        } => super::gdpr::forget(&store, email, *tickets, *dry_run).await,
    };
    store.close().await;
    status
}

/// `mailgate customers add EMAIL [--name] [--org] [--lang]`.
async fn add(
    store: &Store,
    email: &str,
    name: Option<&str>,
    organisation: Option<&str>,
    language: Option<&str>,
) -> u8 {
    if !EmailAddress::is_valid(email) {
        eprintln!("mailgate: {email:?} is not an email address");
        return exit::DATAERR;
    }
    if language.is_some_and(|l| Language::parse(l).is_none()) {
        eprintln!("mailgate: --lang must be en or fr");
        return exit::DATAERR;
    }
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

/// `mailgate customers list [--json]`.
async fn list(store: &Store, json: bool) -> u8 {
    match store.registered_customers().await {
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
    }
}

/// `mailgate customers remove EMAIL`.
async fn remove(store: &Store, email: &str) -> u8 {
    match store.unregister_customer(email).await {
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
    }
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
        Ok(h) => h.iter().map(str::to_ascii_lowercase).collect(),
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
        if !EmailAddress::is_valid(email) || language.is_some_and(|l| Language::parse(l).is_none())
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
