//! `mailgate run`: every source in its own task, the outbox worker, the
//! tracking page and the operators' listener, until SIGTERM or SIGINT;
//! SIGHUP reloads the configuration. Or once through every source with
//! `--once`.
//!
//! Under systemd (`Type=notify`) it says READY=1 once the database is
//! migrated and the sources started, keeps STATUS= up to date, feeds the
//! watchdog only while every source keeps its heartbeat, and brackets a
//! reload with RELOADING=1 / READY=1.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::commands::{exit, open_store, reconfigure_store, store_failure};
use crate::config::{self, MaildirSettings, Settings};
use crate::intake::MailboxDefaults;
use crate::lease::Leases;
use crate::outbox::{self, send::Mailer};
use crate::service::{self, Monitor, notify};
use crate::source::{self, Context, Live};
use crate::store::Store;

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

/// A source as configured: what the daemon starts, stops and compares on
/// reload.
#[derive(Debug, Clone)]
enum SourceSpec {
    Imap(Box<crate::config::MailboxSettings>),
    Maildir(Box<MaildirSettings>),
}

impl SourceSpec {
    /// Everything that, changed, needs the source restarted.
    fn fingerprint(&self) -> String {
        format!("{self:?}")
    }
}

/// The sources of a configuration, by name (`imap:NAME`, `maildir:NAME`).
fn sources_of(settings: &Settings) -> BTreeMap<String, SourceSpec> {
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

type SourceResult = (String, Result<(), String>);

fn spawn_source(
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
fn spawn_leased_source(
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
            let result = match ended {
                Some(result) => result,
                None => {
                    let _ = source_stop.send(true);
                    source.await
                }
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
    match &settings.smtp {
        Some(smtp) => Mailer::smtp(smtp).map_err(|e| e.to_string()),
        None => {
            info!(folder = %settings.outbox_directory.display(), "no [smtp] configured: outgoing mail is written as files");
            Ok(Mailer::Files(settings.outbox_directory.clone()))
        }
    }
}

/// What changing these settings needs: the outbox worker restarted.
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
    let _ = stop_outbox.send(true);
    let _ = sender.await;
    // Everything filed now has its replies written: send them.
    if let Err(e) = outbox::send::flush(store, mailer, &settings.outbox).await {
        warn!(error = %e, "outbox not flushed");
        failures += 1;
    }
    if failures > 0 {
        exit::TEMPFAIL
    } else {
        exit::OK
    }
}

/// A running source and the switch that stops it.
struct RunningSource {
    fingerprint: String,
    stop: watch::Sender<bool>,
}

/// The long-running gateway.
struct Daemon {
    settings: Settings,
    config_path: Option<PathBuf>,
    base_store: Store,
    live: watch::Sender<Arc<Live>>,
    monitor: Arc<Monitor>,
    tasks: JoinSet<SourceResult>,
    running: BTreeMap<String, RunningSource>,
    /// Sources stopped by a reload and not finished yet: their end is
    /// expected.
    retiring: Vec<String>,
    outbox: Option<(String, watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
    servers: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    shutdown: watch::Sender<bool>,
    failed_start: Option<u8>,
    /// With PostgreSQL: the mailboxes this instance may watch now.
    leases: Option<Leases>,
}

impl Daemon {
    async fn start(
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
            shutdown,
            failed_start: None,
            leases: None,
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
        info!(sources = daemon.running.len(), "mailgate running");
        notify::ready(&daemon.status_line().await);
        daemon
    }

    fn context(&self) -> Context {
        Context::new(self.live.subscribe(), Arc::clone(&self.monitor))
    }

    fn start_sources(&mut self, sources: BTreeMap<String, SourceSpec>, ctx: &Context) {
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

    fn start_outbox(&mut self, mailer: Mailer) {
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(outbox::send::run(
            self.base_store.clone(),
            mailer,
            self.settings.outbox.clone(),
            stop_rx,
        ));
        self.outbox = Some((outbox_fingerprint(&self.settings), stop, task));
    }

    /// One line for `systemctl status`: sources connected, mail waiting to
    /// go, whether the last reload worked.
    async fn status_line(&self) -> String {
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

    async fn run_until_stopped(mut self) -> u8 {
        if let Some(status) = self.failed_start {
            return status;
        }
        use tokio::signal::unix::SignalKind;
        let mut term = signal_stream(SignalKind::terminate()).await;
        let mut hangup = signal_stream(SignalKind::hangup()).await;
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

    /// Re-reads the configuration and applies it: intake rules, templates,
    /// policies and limits at once; added sources start, removed ones stop
    /// after the message in hand, changed ones restart; the outbox worker
    /// restarts when SMTP or retry settings changed. An invalid
    /// configuration is refused and the running one stays.
    async fn reload(&mut self) {
        notify::reloading();
        info!("SIGHUP: reloading the configuration");
        let new = match config::load(self.config_path.as_deref(), None) {
            Ok(new) => new,
            Err(e) => {
                error!(errors = %e, "reload refused: the configuration is invalid; keeping the running one");
                notify::ready(&format!("reload refused: {}", first_line(&e.to_string())));
                return;
            }
        };
        let store = match reconfigure_store(&self.base_store, &new) {
            Ok(store) => store,
            Err(e) => {
                error!(error = %e, "reload refused; keeping the running configuration");
                notify::ready(&format!("reload refused: {e}"));
                return;
            }
        };
        let mailer = if outbox_fingerprint(&new) != outbox_fingerprint(&self.settings) {
            match mailer_for(&new) {
                Ok(mailer) => Some(mailer),
                Err(e) => {
                    error!(error = %e, "reload refused: smtp; keeping the running configuration");
                    notify::ready(&format!("reload refused: {e}"));
                    return;
                }
            }
        } else {
            None
        };
        for (key, what) in [
            (
                "database.url",
                new.database.url != self.settings.database.url,
            ),
            (
                "tickets.key_prefix",
                new.tickets.key_prefix != self.settings.tickets.key_prefix,
            ),
            ("http.listen", new.http_listen != self.settings.http_listen),
            (
                "http.ops_listen",
                new.ops_listen != self.settings.ops_listen,
            ),
        ] {
            if what {
                warn!(key, "changed, but only a restart applies it");
            }
        }
        let _ = self.live.send(Arc::new(Live {
            store,
            rules: Arc::new(new.intake.clone()),
        }));

        let wanted = sources_of(&new);
        let mut restart = BTreeMap::new();
        let stale: Vec<String> = self
            .running
            .iter()
            .filter(|(key, r)| {
                wanted
                    .get(*key)
                    .is_none_or(|spec| spec.fingerprint() != r.fingerprint)
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            if let Some(r) = self.running.remove(&key) {
                let _ = r.stop.send(true);
                self.retiring.push(key.clone());
                info!(source = %key, "stopping after the message in hand");
            }
        }
        for (key, spec) in wanted {
            if !self.running.contains_key(&key) {
                restart.insert(key, spec);
            }
        }
        let ctx = self.context();
        for key in restart.keys() {
            info!(source = %key, "starting");
        }
        self.start_sources(restart, &ctx);

        self.settings = new;
        if let Some(mailer) = mailer
            && let Some((_, stop, task)) = self.outbox.take()
        {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
            self.start_outbox(mailer);
            info!("outbox worker restarted with the new settings");
        }
        info!(sources = self.running.len(), "configuration reloaded");
        notify::ready(&self.status_line().await);
    }

    async fn stop(mut self) {
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
                        warn!(source = %key, error = %e, "source stopped with an error")
                    }
                    Err(e) => error!(error = %e, "source task failed"),
                }
            }
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, finish).await.is_err() {
            warn!("sources did not stop within {SHUTDOWN_GRACE:?}; exiting anyway");
        }
        if let Some((_, stop, task)) = self.outbox.take() {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
        }
        for server in self.servers.drain(..) {
            // Requests in progress may finish.
            match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => error!(error = %e, "an HTTP server failed"),
                Ok(Err(e)) => error!(error = %e, "an HTTP server task failed"),
                Err(_) => {
                    warn!("HTTP requests still running after {SHUTDOWN_GRACE:?}; exiting anyway")
                }
            }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
