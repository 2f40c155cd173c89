//! `mailgate run`: every source in its own task, the outbox worker, the
//! tracking page and the operators' listener, until SIGTERM or SIGINT;
//! SIGHUP reloads the configuration. Or once through every source with
//! `--once`.
//!
//! Under systemd (`Type=notify`) it says READY=1 once the database is
//! migrated and the sources started, keeps STATUS= up to date, feeds the
//! watchdog only while every source keeps its heartbeat, and brackets a
//! reload with RELOADING=1 / READY=1.

mod gateway;
mod jobs;
mod reload;
mod sources;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::config::{MaildirSettings, Settings};
use crate::exit::{self, store_failure};
use crate::intake::MailboxDefaults;
use crate::outbox::{self, send::Mailer};
use crate::source::Context;
use crate::store::Store;
use crate::wiring::open_store;

use gateway::Daemon;
use sources::{sources_of, spawn_source};

/// How long a shutdown may take: the message in hand is finished, sessions
/// are logged out.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How often STATUS= is refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// The folder watched when nothing is configured, so that a newcomer can
/// drop `.eml` files there and see tickets appear.
pub fn default_inbox() -> MaildirSettings {
    let path = PathBuf::from("data/inbox");
    MaildirSettings {
        name: "inbox".into(),
        processed_path: path.join("processed"),
        quarantine_path: path.join("quarantine"),
        path,
        poll_interval: Duration::from_secs(1),
        defaults: MailboxDefaults::default(),
    }
}

async fn signal_stream(
    kind: tokio::signal::unix::SignalKind,
) -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).ok()
}

async fn next_signal(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

fn mailer_for(settings: &Settings) -> Result<Mailer, String> {
    if let Some(smtp) = &settings.smtp {
        Mailer::smtp(smtp).map_err(|e| e.clone())
    } else {
        info!(folder = %settings.outbox_directory.display(), "no [smtp] configured: outgoing mail is written as files");
        Ok(Mailer::Files(settings.outbox_directory.clone()))
    }
}

/// What changing these settings needs: the outbox worker restarted.
// Debug prints every field, which is what a fingerprint must cover.
#[allow(clippy::unnecessary_debug_formatting)]
fn outbox_fingerprint(settings: &Settings) -> String {
    format!(
        "{:?} {:?} {:?}",
        settings.smtp, settings.outbox, settings.outbox_directory
    )
}

/// Runs the gateway. Returns the exit status: 0; 75 when `--once` could not
/// process every source (the messages stay where they are) or a listener's
/// address is in use; 78 for a configuration that cannot work; 70 when a
/// source stopped by itself (systemd restarts the service).
pub async fn run(settings: Settings, config_path: Option<PathBuf>, once: bool) -> u8 {
    // Held until the process ends: one instance per SQLite file.
    let _instance = match claim_sqlite_file(&settings.database.url) {
        Ok(lock) => lock,
        Err(message) => {
            error!("{message}");
            eprintln!("mailgate: {message}");
            return exit::TEMPFAIL;
        }
    };
    let store = match open_store(&settings).await {
        Ok(store) => store,
        Err(e) => {
            error!(error = %e, "cannot open the database");
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let mailer = match mailer_for(&settings) {
        Ok(mailer) => mailer,
        Err(e) => {
            eprintln!("mailgate: {e}");
            return exit::CONFIG;
        }
    };
    if store.backend() == crate::store::Backend::Sqlite {
        // Claims left by a sender that died with this process: with SQLite
        // no other instance can be sending them.
        match store.release_outbox_claims().await {
            Ok(0) => {}
            Ok(n) => info!(
                messages = n,
                "outgoing mail claimed before a crash is sent again"
            ),
            Err(e) => warn!(error = %e, "outbox claims not released"),
        }
    }
    let status = if once {
        run_once(&settings, &store, &mailer).await
    } else {
        Daemon::start(settings, config_path, store.clone(), mailer)
            .await
            .run_until_stopped()
            .await
    };
    store.close().await;
    status
}

/// SQLite serves one instance: a second `run` on the same file would watch
/// the same mailboxes without leases and send the same outbox. The lock
/// (`FILE.lock`, beside the database) is released by the system when the
/// process ends, however it ends.
fn claim_sqlite_file(url: &str) -> Result<Option<std::fs::File>, String> {
    let Some(db) = crate::store::sqlite_file(url) else {
        return Ok(None);
    };
    let mut name = db.clone().into_os_string();
    name.push(".lock");
    let path = PathBuf::from(name);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another mailgate is already running on {} (it holds {}); SQLite serves one \
             instance: stop it first, or use PostgreSQL to run several",
            db.display(),
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// `run --once`: every source through what is waiting, then the outbox.
async fn run_once(settings: &Settings, store: &Store, mailer: &Mailer) -> u8 {
    let ctx = Context::fixed(store.clone(), Arc::new(settings.intake.clone()));
    let (_stop, stop_rx) = watch::channel(false);
    // Replies go out while the sources work; what is left is flushed below.
    let (stop_outbox, outbox_stop_rx) = watch::channel(false);
    let sender = tokio::spawn(outbox::send::run(
        store.clone(),
        mailer.clone(),
        settings.outbox.clone(),
        outbox_stop_rx,
    ));
    let mut tasks = JoinSet::new();
    for (key, spec) in sources_of(settings) {
        spawn_source(&mut tasks, key, spec, ctx.clone(), stop_rx.clone(), true);
    }
    info!(sources = tasks.len(), "processing what is waiting");
    let mut failures = 0;
    // Every network step has its own time limit: a backlog takes as long as
    // it takes.
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok((_, Ok(()))) => {}
            Ok((key, Err(e))) => {
                warn!(source = %key, error = %e, "source not processed");
                failures += 1;
            }
            Err(e) => {
                error!(error = %e, "source task failed");
                failures += 1;
            }
        }
    }
    // Quiet tickets as of now, their mail sent with the rest.
    jobs::quiet_tickets(store).await;
    let _ = stop_outbox.send(true);
    let _ = sender.await;
    // Everything filed now has its replies written: send them.
    if let Err(e) = outbox::send::flush(store, mailer, &settings.outbox).await {
        warn!(error = %e, "outbox not flushed");
        failures += 1;
    }
    if !settings.webhooks.is_empty() {
        let hooks = outbox::webhooks::Webhooks::new(settings.webhooks.clone());
        if let Err(e) =
            outbox::webhooks::flush(store, &hooks, &settings.outbox, chrono::Utc::now()).await
        {
            warn!(error = %e, "webhooks not sent");
            failures += 1;
        }
    }
    if failures > 0 {
        exit::TEMPFAIL
    } else {
        exit::OK
    }
}
