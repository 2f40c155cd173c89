//! `mailgate check`: the configuration, then everything it points at, the
//! way `mailgate run` would use it: the database, each IMAP mailbox (connect,
//! TLS, login, capabilities, folders), each local folder and the SMTP server
//! (connect, EHLO, STARTTLS, AUTH). One line per item: `✓` passed, `!` works
//! but with a limitation (does not fail the run), `✗` failed, with a hint.
//!
//! Exit status: 0 when nothing failed (warnings allowed), 1 when something
//! did, 78 when the configuration is invalid (nothing else is checked then).
//!
//! The check changes nothing on IMAP servers unless `--create-folders` is
//! given; like `run`, it opens the database (a SQLite file is created and
//! pending migrations are applied) and may refresh an OAuth token (a rotated
//! refresh token is saved). The network parts are thin; the verdicts and
//! hints are pure functions, tested without a network in the module of
//! each dependency: `config.rs`, `database.rs`, `imap.rs` (with
//! `capabilities.rs` and `folders.rs`), `local.rs`, `smtp.rs`,
//! `retention.rs`; `report.rs` prints the items and gives the exit status.

mod capabilities;
mod config;
mod database;
mod folders;
mod hints;
mod imap;
mod local;
mod report;
mod retention;
mod smtp;

use std::path::Path;

use crate::config::Settings;
use crate::exit;

pub use capabilities::{Capabilities, capability_items};
pub use config::config_items;
pub use database::database_hint;
pub use folders::{Watched, missing_folder_hint, waiting_line};
pub use hints::tls_hint;
pub use imap::{ImapStage, imap_failure, server_says};
pub use local::{maildir_items, outbox_item};
use report::Output;
pub use report::{FAILED, Item, Report, Status, format_item};
pub use retention::{LastRun, retention_item};
pub use smtp::{SmtpStage, smtp_hint};

/// What `mailgate check` was asked for.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Options {
    /// One JSON document instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Create missing processed and quarantine folders on IMAP servers
    /// now (as `run` would at start) instead of reporting them.
    #[arg(long)]
    pub create_folders: bool,
}

/// `mailgate check`: loads the configuration from `path` (as every command
/// does), then checks what it names. Returns the exit status.
pub fn main(path: Option<&Path>, options: Options) -> u8 {
    let output = if options.json {
        Output::Json
    } else {
        let colour = std::io::IsTerminal::is_terminal(&std::io::stdout())
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Output::Text { colour }
    };
    let mut report = Report::new(output);
    let settings = match crate::config::load(path, None) {
        Ok(settings) => settings,
        Err(e) => {
            let n = config_items(&e, path).into_iter().fold(0, |n, item| {
                report.push(item);
                n + 1
            });
            let summary = format!(
                "the configuration has {n} problem{}: nothing else was checked",
                if n == 1 { "" } else { "s" }
            );
            return report.finish(exit::CONFIG, summary);
        }
    };
    report.push(Item::pass("configuration", config::config_source(path)));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailgate: cannot start the async runtime: {e}");
            return exit::SOFTWARE;
        }
    };
    runtime.block_on(check_all(&settings, options, &mut report));
    let (status, summary) = (report.exit_status(), report.summary());
    report.finish(status, summary)
}

/// Everything after the configuration, in the order `run` uses it.
pub async fn check_all(settings: &Settings, options: Options, report: &mut Report) {
    let store = database::check_database(settings, report).await;
    if let Some(dir) = &settings.templates_dir {
        let subject = format!("templates {}", dir.display());
        match crate::outbox::render::Templates::load(dir) {
            Ok(_) => report.push(Item::pass(&subject, "every template renders")),
            Err(e) => report.push(Item::fail(
                &subject,
                e.to_string(),
                Some("fix the template, or remove the file to use the built-in one".into()),
            )),
        }
    }
    report.push(senders_item(&settings.intake.trusted_authserv_ids));
    for m in &settings.mailboxes {
        let watched = match &store {
            Some(store) => match store.recorded_start(&m.name).await {
                Ok(Some(first_uid)) => Watched::Since(first_uid),
                Ok(None) => Watched::Never,
                Err(_) => Watched::Unknown,
            },
            None => Watched::Unknown,
        };
        imap::check_mailbox(m, options, watched, report).await;
    }
    let last = match &store {
        Some(store) => match store.last_maintenance().await {
            Ok(Some((at, bytes_reclaimed))) => LastRun::Finished {
                at,
                bytes_reclaimed,
            },
            Ok(None) => LastRun::Never,
            Err(_) => LastRun::Unknown,
        },
        None => LastRun::Unknown,
    };
    report.push(retention_item(&settings.retention, &last));
    if let Some(store) = store {
        store.close().await;
    }
    if settings.maildirs.is_empty() && settings.mailboxes.is_empty() {
        for item in maildir_items(&crate::daemon::default_inbox()) {
            report.push(item);
        }
    }
    for d in &settings.maildirs {
        for item in maildir_items(d) {
            report.push(item);
        }
    }
    match &settings.smtp {
        Some(smtp) => smtp::check_smtp(smtp, report).await,
        None => report.push(outbox_item(&settings.outbox_directory)),
    }
}

/// Whether From addresses are checked: without a trusted authserv-id, any
/// sender can write as a registered customer.
fn senders_item(trusted: &[String]) -> Item {
    if trusted.is_empty() {
        Item::warn(
            "senders",
            "not authenticated: From addresses are believed (no intake.trusted_authserv_ids)",
            "set intake.trusted_authserv_ids to the id your receiving server writes first in \
             Authentication-Results, so that forged senders are held and never answered",
        )
    } else {
        Item::pass(
            "senders",
            format!(
                "authenticated by the Authentication-Results of {}",
                trusted.join(", ")
            ),
        )
    }
}

/// The mailbox the tests of the IMAP items start from.
#[cfg(test)]
fn test_mailbox() -> crate::config::MailboxSettings {
    crate::config::MailboxSettings {
        name: "support".into(),
        address: None,
        host: "imap.example.com".into(),
        port: 993,
        tls: crate::model::TlsMode::Implicit,
        username: "support@example.com".into(),
        password: Some(crate::config::Secret::new("pw")),
        folder: "INBOX".into(),
        processed_folder: "Processed".into(),
        quarantine_folder: "Quarantine".into(),
        idle: true,
        poll_interval: std::time::Duration::from_secs(60),
        post_action: crate::config::PostAction::Move,
        initial: crate::config::Initial::All,
        auth: crate::config::ImapAuth::Login,
        ca_file: None,
        tls_insecure: false,
        timeout: std::time::Duration::from_secs(20),
        oauth: None,
        defaults: crate::intake::MailboxDefaults::default(),
    }
}
