//! SIGHUP: the configuration read again and applied to the running gateway.

use std::collections::BTreeMap;
use std::sync::Arc;

use tracing::{error, info, warn};

use crate::config::{self};
use crate::service::notify;
use crate::source::Live;
use crate::wiring::reconfigure_store;

use super::gateway::{Daemon, first_line};
use super::sources::sources_of;
use super::{SHUTDOWN_GRACE, mailer_for, outbox_fingerprint};

impl Daemon {
    /// Re-reads the configuration and applies it: intake rules, templates,
    /// policies and limits at once; added sources start, removed ones stop
    /// after the message in hand, changed ones restart; the outbox worker
    /// restarts when SMTP or retry settings changed. An invalid
    /// configuration is refused and the running one stays.
    pub(super) async fn reload(&mut self) {
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
        let mailer = if outbox_fingerprint(&new) == outbox_fingerprint(&self.settings) {
            None
        } else {
            match mailer_for(&new) {
                Ok(mailer) => Some(mailer),
                Err(e) => {
                    error!(error = %e, "reload refused: smtp; keeping the running configuration");
                    notify::ready(&format!("reload refused: {e}"));
                    return;
                }
            }
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
        // Webhooks hold secrets, which a fingerprint would have to copy:
        // their sender restarts on every reload, which costs nothing.
        self.stop_webhooks().await;
        self.start_webhooks();
        info!(sources = self.running.len(), "configuration reloaded");
        notify::ready(&self.status_line().await);
    }
}
