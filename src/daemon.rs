//! `mailgate run`: every source in its own task until SIGTERM or SIGINT, or
//! once through everything with `--once`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::commands::{exit, open_store, store_failure};
use crate::config::{MaildirSettings, Settings};
use crate::intake::MailboxDefaults;
use crate::outbox::{self, send::Mailer};
use crate::source::{self, Context};

/// How long a shutdown may take: the message in hand is finished, sessions
/// are logged out.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

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

async fn terminate_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = tokio::signal::ctrl_c() => {},
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the gateway. Returns the exit status: 0, or 75 when `--once` could
/// not process every source (the messages stay where they are).
pub async fn run(settings: Settings, once: bool) -> u8 {
    let store = match open_store(&settings).await {
        Ok(store) => store,
        Err(e) => {
            error!(error = %e, "cannot open the database");
            eprintln!("mailgate: {e}");
            return store_failure(&e);
        }
    };
    let ctx = Context {
        store: store.clone(),
        rules: Arc::new(settings.intake.clone()),
    };
    let mailer = match &settings.smtp {
        Some(smtp) => match Mailer::smtp(smtp) {
            Ok(mailer) => mailer,
            Err(e) => {
                eprintln!("mailgate: {e}");
                return exit::CONFIG;
            }
        },
        None => {
            info!(folder = %settings.outbox_directory.display(), "no [smtp] configured: outgoing mail is written as files");
            Mailer::Files(settings.outbox_directory.clone())
        }
    };
    let (stop, shutdown) = watch::channel(false);
    // The tracking page and team API, bound before any source starts. A
    // failed bind ends `run` at once: an address already in use is most
    // often the previous instance still stopping, which a restart later
    // fixes (75, TEMPFAIL); any other failure (an address that is not this
    // machine's, a port that needs privileges) needs the configuration
    // changed (78, CONFIG).
    let web = if once {
        None
    } else {
        match crate::web::bind(settings.http_listen).await {
            Ok(listener) => {
                info!(listen = %settings.http_listen, "tracking page and team API listening");
                Some(tokio::spawn(crate::web::serve(
                    Arc::new(settings.clone()),
                    store.clone(),
                    listener,
                    shutdown.clone(),
                )))
            }
            Err(e) => {
                error!(listen = %settings.http_listen, error = %e, "cannot listen for HTTP (http.listen)");
                eprintln!(
                    "mailgate: cannot listen on {} (http.listen): {e}",
                    settings.http_listen
                );
                store.close().await;
                return if e.kind() == std::io::ErrorKind::AddrInUse {
                    exit::TEMPFAIL
                } else {
                    exit::CONFIG
                };
            }
        }
    };
    let mut tasks: JoinSet<Result<(), String>> = JoinSet::new();

    for mailbox in settings.mailboxes.clone() {
        let (ctx, shutdown) = (ctx.clone(), shutdown.clone());
        tasks.spawn(async move {
            source::imap::run(ctx, mailbox, shutdown, once)
                .await
                .map_err(|e| e.to_string())
        });
    }
    let mut maildirs = settings.maildirs.clone();
    if maildirs.is_empty() && settings.mailboxes.is_empty() {
        let inbox = default_inbox();
        info!(path = %inbox.path.display(), "no mailbox configured: watching the inbox folder");
        maildirs.push(inbox);
    }
    for maildir in maildirs {
        let (ctx, shutdown) = (ctx.clone(), shutdown.clone());
        tasks.spawn(async move {
            source::maildir::run(ctx, maildir, shutdown, once)
                .await
                .map_err(|e| e.to_string())
        });
    }
    info!(sources = tasks.len(), once, "mailgate running");
    let sender = (!once).then(|| {
        tokio::spawn(outbox::send::run(
            store.clone(),
            mailer.clone(),
            settings.outbox.clone(),
            shutdown.clone(),
        ))
    });

    let mut failures = 0;
    if !once {
        tokio::select! {
            () = terminate_signal() => info!("shutting down"),
            // Sources only end by themselves on a fatal error.
            Some(result) = tasks.join_next() => {
                if let Ok(Err(e)) | Err(e) = result.map_err(|e| e.to_string()) {
                    error!(error = %e, "a source stopped");
                }
            }
        }
        let _ = stop.send(true);
    }
    let finish = async {
        while let Some(result) = tasks.join_next().await {
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    warn!(error = %e, "source not processed");
                    failures += 1;
                }
                Err(e) => {
                    error!(error = %e, "source task failed");
                    failures += 1;
                }
            }
        }
    };
    if once {
        // Every network step has its own time limit: a backlog takes as
        // long as it takes.
        finish.await;
    } else if tokio::time::timeout(SHUTDOWN_GRACE, finish).await.is_err() {
        warn!("sources did not stop within {SHUTDOWN_GRACE:?}; exiting anyway");
    }
    if once {
        // Everything filed now has its replies written: send them.
        if let Err(e) = outbox::send::flush(&store, &mailer, &settings.outbox).await {
            warn!(error = %e, "outbox not flushed");
            failures += 1;
        }
    } else if let Some(sender) = sender {
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, sender).await;
    }
    if let Some(web) = web {
        // Stopped by the same `shutdown`; requests in progress may finish.
        match tokio::time::timeout(SHUTDOWN_GRACE, web).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => error!(error = %e, "the HTTP server failed"),
            Ok(Err(e)) => error!(error = %e, "the HTTP server task failed"),
            Err(_) => warn!("HTTP requests still running after {SHUTDOWN_GRACE:?}; exiting anyway"),
        }
    }
    store.close().await;
    if once && failures > 0 {
        exit::TEMPFAIL
    } else {
        exit::OK
    }
}
