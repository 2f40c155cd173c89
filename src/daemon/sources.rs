//! The sources the configuration names, each run in a task of its own,
//! under a lease when several instances share the mailboxes.

use std::collections::BTreeMap;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::info;

use crate::config::{MaildirSettings, Settings};
use crate::lease::Leases;
use crate::source::{self, Context};

use super::default_inbox;

/// A source as configured: what the daemon starts, stops and compares on
/// reload.
#[derive(Debug, Clone)]
pub(super) enum SourceSpec {
    Imap(Box<crate::config::MailboxSettings>),
    Maildir(Box<MaildirSettings>),
}

impl SourceSpec {
    /// Everything that, changed, needs the source restarted.
    pub(super) fn fingerprint(&self) -> String {
        format!("{self:?}")
    }
}

/// The sources of a configuration, by name (`imap:NAME`, `maildir:NAME`).
pub(super) fn sources_of(settings: &Settings) -> BTreeMap<String, SourceSpec> {
    let mut sources = BTreeMap::new();
    for m in &settings.mailboxes {
        sources.insert(
            format!("imap:{}", m.name),
            SourceSpec::Imap(Box::new(m.clone())),
        );
    }
    let mut maildirs = settings.maildirs.clone();
    if maildirs.is_empty() && settings.mailboxes.is_empty() {
        let inbox = default_inbox();
        info!(path = %inbox.path.display(), "no mailbox configured: watching the inbox folder");
        maildirs.push(inbox);
    }
    for d in maildirs {
        sources.insert(
            format!("maildir:{}", d.name),
            SourceSpec::Maildir(Box::new(d)),
        );
    }
    sources
}

pub(super) type SourceResult = (String, Result<(), String>);

pub(super) fn spawn_source(
    tasks: &mut JoinSet<SourceResult>,
    key: String,
    spec: SourceSpec,
    ctx: Context,
    stop: watch::Receiver<bool>,
    once: bool,
) {
    tasks.spawn(async move {
        let result = run_source(spec, ctx, stop, once).await;
        (key, result)
    });
}

async fn run_source(
    spec: SourceSpec,
    ctx: Context,
    stop: watch::Receiver<bool>,
    once: bool,
) -> Result<(), String> {
    match spec {
        SourceSpec::Imap(m) => source::imap::run(ctx, *m, stop, once)
            .await
            .map_err(|e| e.to_string()),
        SourceSpec::Maildir(d) => source::maildir::run(ctx, *d, stop, once)
            .await
            .map_err(|e| e.to_string()),
    }
}

/// A source watched only while this instance holds its lease: it starts
/// when the lease is taken and stops (after the message in hand) when the
/// lease is lost, until `stop`.
pub(super) fn spawn_leased_source(
    tasks: &mut JoinSet<SourceResult>,
    key: String,
    spec: SourceSpec,
    ctx: Context,
    mut stop: watch::Receiver<bool>,
    leases: Leases,
) {
    tasks.spawn(async move {
        let mut held = leases.want(&key);
        let result = loop {
            tokio::select! {
                _ = held.wait_for(|h| *h) => {}
                _ = stop.wait_for(|s| *s) => break Ok(()),
            }
            info!(source = %key, "lease held: starting");
            let (source_stop, source_stop_rx) = watch::channel(false);
            let mut source =
                std::pin::pin!(run_source(spec.clone(), ctx.clone(), source_stop_rx, false));
            let ended = tokio::select! {
                result = &mut source => Some(result),
                _ = held.wait_for(|h| !*h) => None,
                _ = stop.wait_for(|s| *s) => None,
            };
            let result = if let Some(result) = ended {
                result
            } else {
                let _ = source_stop.send(true);
                source.await
            };
            if *stop.borrow() {
                break result;
            }
            if result.is_err() {
                // A source that stops by itself stops the instance, as
                // without leases.
                break result;
            }
            info!(source = %key, "lease lost: stopped; another instance takes over");
        };
        leases.forget(&key);
        (key, result)
    });
}

/// A running source and the switch that stops it.
pub(super) struct RunningSource {
    pub(super) fingerprint: String,
    pub(super) stop: watch::Sender<bool>,
}
