//! What the running gateway knows of itself, for the people and programs
//! that watch it: each source's state (for `/readyz`, the systemd watchdog
//! and `STATUS=`), the Prometheus metrics, and the sd_notify messages.
//!
//! Sources report into one shared [`Monitor`]; nothing here does I/O but
//! the notify socket.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use metrics::{counter, gauge, histogram};

use crate::store::Filed;

/// Metric names, in one place so the dashboard and the docs can trust them.
pub mod names {
    pub const FETCHED: &str = "mailgate_messages_fetched_total";
    pub const FILED: &str = "mailgate_messages_filed_total";
    pub const TICKETS: &str = "mailgate_tickets_created_total";
    pub const SENDER_AUTH: &str = "mailgate_sender_authentication_total";
    pub const PROCESSING: &str = "mailgate_message_processing_seconds";
    pub const OUTBOX_SENT: &str = "mailgate_outbox_sent_total";
    pub const OUTBOX_FAILED: &str = "mailgate_outbox_failed_total";
    pub const OUTBOX_RETRIES: &str = "mailgate_outbox_retries_total";
    pub const OUTBOX_MESSAGES: &str = "mailgate_outbox_messages";
    pub const OUTBOX_OLDEST: &str = "mailgate_outbox_oldest_pending_seconds";
    pub const CONNECTED: &str = "mailgate_mailbox_connected";
    pub const LAST_SUCCESS: &str = "mailgate_mailbox_last_success_timestamp_seconds";
    pub const OLDEST_WAITING: &str = "mailgate_mailbox_oldest_waiting_seconds";
    pub const TOKEN_EXPIRY: &str = "mailgate_oauth_token_expiry_timestamp_seconds";
    pub const UP: &str = "mailgate_up";
    /// 1 while this instance holds the lease of a source (PostgreSQL).
    pub const LEASE_HELD: &str = "mailgate_lease_held";
    /// The sizes of every stored content (raw messages, attachments, mail).
    pub const STORED_BYTES: &str = "mailgate_stored_bytes";
}

/// One source as the monitor sees it.
#[derive(Debug, Clone)]
struct SourceState {
    /// How often it is expected to succeed when polling.
    interval: Duration,
    connected: bool,
    /// Waiting in IDLE: mail is seen at once, no polling success expected.
    idling: bool,
    last_success: Option<Instant>,
    last_error: Option<String>,
    /// The time by which the source must report again, or it is stuck.
    beat_by: Instant,
}

/// The state of every running source.
#[derive(Debug, Default)]
pub struct Monitor {
    sources: Mutex<BTreeMap<String, SourceState>>,
}

/// Slack added to every heartbeat deadline.
const BEAT_SLACK: Duration = Duration::from_secs(60);

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Monitor {
    fn with<R>(&self, name: &str, f: impl FnOnce(&mut SourceState) -> R) -> Option<R> {
        let mut sources = self
            .sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sources.get_mut(name).map(f)
    }

    /// A source starts; it must report within `interval` plus slack.
    pub fn register(&self, name: &str, interval: Duration) {
        let mut sources = self
            .sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sources.insert(
            name.to_owned(),
            SourceState {
                interval,
                connected: false,
                idling: false,
                last_success: None,
                last_error: None,
                beat_by: Instant::now() + interval + BEAT_SLACK,
            },
        );
        gauge!(names::CONNECTED, "mailbox" => name.to_owned()).set(0.0);
    }

    /// A source stopped for good (removed by a reload, or shutdown).
    pub fn remove(&self, name: &str) {
        let mut sources = self
            .sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sources.remove(name);
        gauge!(names::CONNECTED, "mailbox" => name.to_owned()).set(0.0);
    }

    /// The source will report again within `within` (plus slack): before a
    /// long wait (IDLE, a poll interval) or a network step.
    pub fn expect_beat(&self, name: &str, within: Duration) {
        self.with(name, |s| s.beat_by = Instant::now() + within + BEAT_SLACK);
    }

    pub fn connected(&self, name: &str) {
        self.with(name, |s| {
            s.connected = true;
            s.last_error = None;
        });
        gauge!(names::CONNECTED, "mailbox" => name.to_owned()).set(1.0);
    }

    pub fn disconnected(&self, name: &str, error: &str) {
        self.with(name, |s| {
            s.connected = false;
            s.idling = false;
            s.last_error = Some(error.to_owned());
        });
        gauge!(names::CONNECTED, "mailbox" => name.to_owned()).set(0.0);
    }

    /// Everything waiting was processed.
    pub fn drained(&self, name: &str) {
        self.with(name, |s| s.last_success = Some(Instant::now()));
        gauge!(names::LAST_SUCCESS, "mailbox" => name.to_owned()).set(unix_now());
        gauge!(names::OLDEST_WAITING, "mailbox" => name.to_owned()).set(0.0);
    }

    pub fn idling(&self, name: &str, idling: bool) {
        self.with(name, |s| s.idling = idling);
    }

    /// The oldest message found waiting, by its arrival time.
    pub fn oldest_waiting(&self, name: &str, age: Duration) {
        gauge!(names::OLDEST_WAITING, "mailbox" => name.to_owned()).set(age.as_secs_f64());
    }

    /// Why the gateway is not ready, one reason per source; empty when it
    /// is. A source is ready when it is in IDLE, or processed its folder
    /// within three times its interval.
    pub fn not_ready(&self) -> Vec<String> {
        let sources = self
            .sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        sources
            .iter()
            .filter_map(|(name, s)| {
                let fresh = s
                    .last_success
                    .is_some_and(|at| now.duration_since(at) <= s.interval * 3);
                if (s.connected && s.idling) || fresh {
                    return None;
                }
                Some(match (&s.last_error, s.last_success) {
                    (Some(e), _) => format!("mailbox {name}: {e}"),
                    (None, None) => format!("mailbox {name}: not processed yet"),
                    (None, Some(at)) => format!(
                        "mailbox {name}: last processed {}s ago",
                        now.duration_since(at).as_secs()
                    ),
                })
            })
            .collect()
    }

    /// Sources that missed their heartbeat: stuck beyond their own time
    /// limits. The watchdog is fed only when this is empty.
    pub fn stuck(&self) -> Vec<String> {
        let sources = self
            .sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        sources
            .iter()
            .filter(|(_, s)| now > s.beat_by)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// (connected, total) sources.
    pub fn connected_count(&self) -> (usize, usize) {
        let sources = self
            .sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (
            sources.values().filter(|s| s.connected).count(),
            sources.len(),
        )
    }
}

/// Counts a message filed, by outcome, and how long it took.
pub fn record_filed(source: &str, filed: &Filed, took: Duration) {
    let source = source.to_owned();
    counter!(names::FETCHED, "mailbox" => source.clone()).increment(1);
    let (outcome, reason) = match filed {
        Filed::Ticket { .. } => ("ticket", String::new()),
        Filed::Comment { .. } => ("comment", String::new()),
        Filed::Ignored { reason } => ("ignored", reason.clone()),
        Filed::Rejected { reason, .. } => ("rejected", reason.clone()),
        Filed::Duplicate { .. } => ("duplicate", String::new()),
        Filed::AlreadyStored { .. } => ("already-stored", String::new()),
    };
    counter!(names::FILED, "mailbox" => source, "outcome" => outcome, "reason" => reason)
        .increment(1);
    if matches!(filed, Filed::Ticket { .. }) {
        counter!(names::TICKETS).increment(1);
    }
    histogram!(names::PROCESSING).record(took.as_secs_f64());
}

/// Counts what the trusted receiving servers said of a message's From
/// address (`intake.trusted_authserv_ids`), by verdict; nothing when they
/// said nothing.
pub fn record_sender_auth(decision: &crate::intake::Decision) {
    if let Some(checked) = &decision.message.sender_auth {
        counter!(names::SENDER_AUTH, "verdict" => checked.verdict.as_str()).increment(1);
    }
}

/// The Prometheus recorder, installed once per process; its handle renders
/// `/metrics`. `None` when another recorder is installed already.
pub fn install_metrics() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(names::PROCESSING.to_owned()),
            &[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ],
        )
        .ok()?
        .install_recorder()
        .ok()?;
    gauge!(names::UP).set(1.0);
    Some(handle)
}

/// sd_notify messages to systemd; nothing when not started by systemd
/// (`NOTIFY_SOCKET` unset).
pub mod notify {
    use sd_notify::NotifyState;
    use tracing::debug;

    fn send(states: &[NotifyState<'_>]) {
        if let Err(e) = sd_notify::notify(states) {
            debug!(error = %e, "sd_notify failed");
        }
    }

    pub fn ready(status: &str) {
        send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// RELOADING=1 with the time of the reload, which systemd 253 and newer
    /// require.
    pub fn reloading() {
        match NotifyState::monotonic_usec_now() {
            Ok(now) => send(&[NotifyState::Reloading, now]),
            Err(_) => send(&[NotifyState::Reloading]),
        }
    }

    pub fn stopping() {
        send(&[NotifyState::Stopping]);
    }

    pub fn status(line: &str) {
        send(&[NotifyState::Status(line)]);
    }

    pub fn watchdog() {
        send(&[NotifyState::Watchdog]);
    }

    /// Half the watchdog interval systemd asked for, if it asked.
    pub fn watchdog_period() -> Option<std::time::Duration> {
        sd_notify::watchdog_enabled().map(|interval| interval / 2)
    }
}

/// Waits for `duration` or until shutdown is asked; true when shutting down.
pub async fn sleep_or_shutdown(
    duration: Duration,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(duration) => false,
        _ = shutdown.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_uses_only_metrics_that_exist() {
        let known = [
            names::FETCHED,
            names::FILED,
            names::TICKETS,
            names::SENDER_AUTH,
            names::PROCESSING,
            names::OUTBOX_SENT,
            names::OUTBOX_FAILED,
            names::OUTBOX_RETRIES,
            names::OUTBOX_MESSAGES,
            names::OUTBOX_OLDEST,
            names::CONNECTED,
            names::LAST_SUCCESS,
            names::OLDEST_WAITING,
            names::TOKEN_EXPIRY,
            names::UP,
            names::LEASE_HELD,
            names::STORED_BYTES,
        ];
        let dashboard = include_str!("../deploy/grafana-dashboard.json");
        let used = regex::Regex::new(r"mailgate_[a-z_]+").unwrap();
        let mut count = 0;
        for name in used.find_iter(dashboard) {
            let name = name.as_str().trim_end_matches("_bucket");
            assert!(
                known.contains(&name),
                "the dashboard uses {name}, which is not recorded"
            );
            count += 1;
        }
        assert!(count >= 10);
    }

    #[test]
    fn readiness_needs_idle_or_a_recent_drain() {
        let monitor = Monitor::default();
        monitor.register("a", Duration::from_secs(60));
        monitor.register("b", Duration::from_secs(60));
        assert_eq!(monitor.not_ready().len(), 2);
        monitor.connected("a");
        monitor.idling("a", true);
        monitor.drained("b");
        assert!(monitor.not_ready().is_empty());
        monitor.disconnected("a", "connection refused");
        assert_eq!(monitor.not_ready(), ["mailbox a: connection refused"]);
        monitor.remove("a");
        assert!(monitor.not_ready().is_empty());
        assert_eq!(monitor.connected_count(), (0, 1));
    }

    #[test]
    fn a_source_that_misses_its_beat_is_stuck() {
        let monitor = Monitor::default();
        monitor.register("a", Duration::from_secs(1));
        assert!(monitor.stuck().is_empty());
        monitor.with("a", |s| {
            s.beat_by = Instant::now().checked_sub(Duration::from_secs(1)).unwrap();
        });
        assert_eq!(monitor.stuck(), ["a"]);
        monitor.expect_beat("a", Duration::from_secs(5));
        assert!(monitor.stuck().is_empty());
    }
}
