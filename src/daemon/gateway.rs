//! The long-running gateway: starts the sources, the outbox worker and the
//! listeners, keeps systemd told, and stops everything in order.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::config::Settings;
use crate::exit;
use crate::lease::Leases;
use crate::outbox::{self, send::Mailer};
use crate::service::{self, Monitor, notify};
use crate::source::{Context, Live};
use crate::store::Store;

use super::sources::{
    RunningSource, SourceResult, SourceSpec, sources_of, spawn_leased_source, spawn_source,
};
use super::{SHUTDOWN_GRACE, STATUS_EVERY, next_signal, outbox_fingerprint, signal_stream};

/// The long-running gateway.
pub(super) struct Daemon {
    pub(super) settings: Settings,
    pub(super) config_path: Option<PathBuf>,
    pub(super) base_store: Store,
    pub(super) live: watch::Sender<Arc<Live>>,
    pub(super) monitor: Arc<Monitor>,
    pub(super) tasks: JoinSet<SourceResult>,
    pub(super) running: BTreeMap<String, RunningSource>,
    /// Sources stopped by a reload and not finished yet: their end is
    /// expected.
    pub(super) retiring: Vec<String>,
    pub(super) outbox: Option<(String, watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
    pub(super) servers: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The scheduled jobs (`jobs.rs`).
    pub(super) jobs: Option<tokio::task::JoinHandle<()>>,
    /// The webhook sender, when webhooks are configured.
    pub(super) webhooks: Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
    pub(super) shutdown: watch::Sender<bool>,
    pub(super) failed_start: Option<u8>,
    /// With PostgreSQL: the mailboxes this instance may watch now.
    pub(super) leases: Option<Leases>,
    /// SIGTERM and SIGHUP, caught from the start: "mailgate running" and
    /// systemd's READY come before `run_until_stopped`, and a signal sent
    /// in between would otherwise kill the process with its default action.
    term: Option<tokio::signal::unix::Signal>,
    hangup: Option<tokio::signal::unix::Signal>,
}

impl Daemon {
    pub(super) async fn start(
        settings: Settings,
        config_path: Option<PathBuf>,
        store: Store,
        mailer: Mailer,
    ) -> Daemon {
        let monitor = Arc::new(Monitor::default());
        let metrics = service::install_metrics();
        let (live, live_rx) = watch::channel(Arc::new(Live {
            store: store.clone(),
            rules: Arc::new(settings.intake.clone()),
        }));
        let (shutdown, _) = watch::channel(false);
        use tokio::signal::unix::SignalKind;
        let term = signal_stream(SignalKind::terminate()).await;
        let hangup = signal_stream(SignalKind::hangup()).await;
        let mut daemon = Daemon {
            settings,
            config_path,
            base_store: store.clone(),
            live,
            monitor: Arc::clone(&monitor),
            tasks: JoinSet::new(),
            running: BTreeMap::new(),
            retiring: Vec::new(),
            outbox: None,
            servers: Vec::new(),
            jobs: None,
            webhooks: None,
            shutdown,
            failed_start: None,
            leases: None,
            term,
            hangup,
        };
        if store.backend() == crate::store::Backend::Postgres {
            match Leases::new(
                &daemon.settings.database.url,
                store.instance(),
                daemon.settings.database.lease_timeout,
            ) {
                Ok(leases) => {
                    info!(instance = %store.instance(), lease_timeout = ?daemon.settings.database.lease_timeout,
                        "PostgreSQL: mailboxes are shared with other instances under leases");
                    tokio::spawn(leases.clone().keep(daemon.shutdown.subscribe()));
                    daemon.leases = Some(leases);
                }
                Err(e) => {
                    error!(error = %e, "cannot set up mailbox leases");
                    daemon.failed_start = Some(exit::CONFIG);
                    return daemon;
                }
            }
        }
        // The listeners first: a wrong address stops `run` before anything
        // else starts. An address in use is most often the previous
        // instance still stopping, which a restart later fixes (75); any
        // other failure needs the configuration changed (78).
        let public = crate::web::router(Arc::new(daemon.settings.clone()), store.clone());
        let ops = crate::web::ops::router(store.clone(), monitor, metrics, daemon.leases.clone());
        for (key, address, app) in [
            ("http.listen", daemon.settings.http_listen, public),
            ("http.ops_listen", daemon.settings.ops_listen, ops),
        ] {
            match crate::web::bind(address).await {
                Ok(listener) => {
                    let bound = listener.local_addr().map_or(address, |a| a);
                    info!(listen = %bound, key, "HTTP listening");
                    daemon.servers.push(tokio::spawn(crate::web::serve(
                        listener,
                        app,
                        daemon.settings.http_limits,
                        daemon.shutdown.subscribe(),
                    )));
                }
                Err(e) => {
                    error!(listen = %address, error = %e, "cannot listen for HTTP ({key})");
                    eprintln!("mailgate: cannot listen on {address} ({key}): {e}");
                    daemon.failed_start = Some(if e.kind() == std::io::ErrorKind::AddrInUse {
                        exit::TEMPFAIL
                    } else {
                        exit::CONFIG
                    });
                    return daemon;
                }
            }
        }
        let ctx = Context::new(live_rx, Arc::clone(&daemon.monitor));
        let sources = sources_of(&daemon.settings);
        daemon.start_sources(sources, &ctx);
        daemon.start_outbox(mailer);
        daemon.start_webhooks();
        daemon.jobs = Some(tokio::spawn(super::jobs::run(
            daemon.live.subscribe(),
            daemon.shutdown.subscribe(),
        )));
        info!(sources = daemon.running.len(), "mailgate running");
        notify::ready(&daemon.status_line().await);
        daemon
    }

    pub(super) fn context(&self) -> Context {
        Context::new(self.live.subscribe(), Arc::clone(&self.monitor))
    }

    pub(super) fn start_sources(&mut self, sources: BTreeMap<String, SourceSpec>, ctx: &Context) {
        for (key, spec) in sources {
            let (stop, stop_rx) = watch::channel(false);
            self.running.insert(
                key.clone(),
                RunningSource {
                    fingerprint: spec.fingerprint(),
                    stop,
                },
            );
            match &self.leases {
                Some(leases) => spawn_leased_source(
                    &mut self.tasks,
                    key,
                    spec,
                    ctx.clone(),
                    stop_rx,
                    leases.clone(),
                ),
                None => spawn_source(&mut self.tasks, key, spec, ctx.clone(), stop_rx, false),
            }
        }
    }

    pub(super) fn start_outbox(&mut self, mailer: Mailer) {
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(outbox::send::run(
            self.base_store.clone(),
            mailer,
            self.settings.outbox.clone(),
            stop_rx,
        ));
        self.outbox = Some((outbox_fingerprint(&self.settings), stop, task));
    }

    /// The webhook sender, with the current settings; none without
    /// webhooks.
    pub(super) fn start_webhooks(&mut self) {
        if self.settings.webhooks.is_empty() {
            return;
        }
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(outbox::webhooks::run(
            self.base_store.clone(),
            outbox::webhooks::Webhooks::new(self.settings.webhooks.clone()),
            self.settings.outbox.clone(),
            stop_rx,
        ));
        self.webhooks = Some((stop, task));
    }

    /// Stops the webhook sender after the request in hand.
    pub(super) async fn stop_webhooks(&mut self) {
        if let Some((stop, task)) = self.webhooks.take() {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
        }
    }

    /// One line for `systemctl status`: sources connected, mail waiting to
    /// go, whether the last reload worked.
    pub(super) async fn status_line(&self) -> String {
        let (connected, total) = self.monitor.connected_count();
        let pending = match self.base_store.outbox_stats().await {
            Ok((counts, _)) => counts
                .iter()
                .find(|(s, _)| s == "pending")
                .map_or(0, |(_, n)| *n)
                .to_string(),
            Err(_) => "? (database unavailable)".into(),
        };
        let stuck = self.monitor.stuck();
        let mut line = format!("{connected}/{total} sources working, {pending} replies pending");
        if !stuck.is_empty() {
            line.push_str(&format!(", stuck: {}", stuck.join(", ")));
        }
        line
    }

    pub(super) async fn run_until_stopped(mut self) -> u8 {
        if let Some(status) = self.failed_start {
            return status;
        }
        let (mut term, mut hangup) = (self.term.take(), self.hangup.take());
        let watchdog = notify::watchdog_period();
        let mut watchdog_tick =
            tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
        let mut status_tick = tokio::time::interval(STATUS_EVERY);
        let mut status = exit::OK;
        let mut stuck_reported = false;
        loop {
            tokio::select! {
                () = next_signal(&mut term) => { info!("SIGTERM: shutting down"); break; }
                _ = tokio::signal::ctrl_c() => { info!("SIGINT: shutting down"); break; }
                () = next_signal(&mut hangup) => self.reload().await,
                _ = watchdog_tick.tick(), if watchdog.is_some() => {
                    let stuck = self.monitor.stuck();
                    if stuck.is_empty() {
                        notify::watchdog();
                        stuck_reported = false;
                    } else if !stuck_reported {
                        error!(sources = ?stuck, "sources stuck past their time limits: no longer feeding the watchdog");
                        stuck_reported = true;
                    }
                }
                _ = status_tick.tick() => notify::status(&self.status_line().await),
                Some(finished) = self.tasks.join_next() => {
                    let (key, result) = match finished {
                        Ok(done) => done,
                        Err(e) => (String::from("?"), Err(e.to_string())),
                    };
                    if let Some(at) = self.retiring.iter().position(|k| *k == key) {
                        self.retiring.remove(at);
                        info!(source = %key, "source stopped");
                        continue;
                    }
                    // Sources only end by themselves on a fatal error: stop
                    // with a failure status, for systemd to restart us.
                    error!(source = %key, error = ?result.err(), "a source stopped by itself");
                    status = exit::SOFTWARE;
                    break;
                }
            }
        }
        notify::stopping();
        self.stop().await;
        status
    }

    pub(super) async fn stop(mut self) {
        for r in self.running.values() {
            let _ = r.stop.send(true);
        }
        let _ = self.shutdown.send(true);
        let tasks = &mut self.tasks;
        let finish = async {
            while let Some(result) = tasks.join_next().await {
                match result {
                    Ok((_, Ok(()))) => {}
                    Ok((key, Err(e))) => {
                        warn!(source = %key, error = %e, "source stopped with an error");
                    }
                    Err(e) => error!(error = %e, "source task failed"),
                }
            }
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, finish).await.is_err() {
            warn!("sources did not stop within {SHUTDOWN_GRACE:?}; exiting anyway");
        }
        if let Some(jobs) = self.jobs.take() {
            // A round in progress rolls back if it cannot finish.
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, jobs).await;
        }
        if let Some((_, stop, task)) = self.outbox.take() {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
        }
        self.stop_webhooks().await;
        for server in self.servers.drain(..) {
            // Requests in progress may finish.
            match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => error!(error = %e, "an HTTP server failed"),
                Ok(Err(e)) => error!(error = %e, "an HTTP server task failed"),
                Err(_) => {
                    warn!("HTTP requests still running after {SHUTDOWN_GRACE:?}; exiting anyway");
                }
            }
        }
    }
}

pub(super) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
