//! The daemon's scheduled jobs: tickets that went quiet are reminded,
//! resolved and closed (`[tickets]` quiet rules) every `QUIET_EVERY`; every
//! `MAINTENANCE_CHECK` the database is maintained (`[retention]`, contents
//! collected) when its last run is a day old. The store is the live one,
//! so a reload's new rules apply from the next round; on PostgreSQL one
//! instance at a time does the work (see `store/quiet.rs` and
//! `store/retention/`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use crate::source::Live;
use crate::store::Store;

/// How often quiet tickets are looked for: the rules count in days, so a
/// step is at most this late.
const QUIET_EVERY: Duration = Duration::from_secs(300);

/// How often the daemon asks whether maintenance is due (once a day, see
/// `store::MAINTAIN_EVERY`): a run is at most this late.
const MAINTENANCE_CHECK: Duration = Duration::from_secs(3600);

/// Runs the jobs until `stop` turns true.
pub(super) async fn run(live: watch::Receiver<Arc<Live>>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(QUIET_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut maintenance = tokio::time::interval(MAINTENANCE_CHECK);
    maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {
                let store = live.borrow().store.clone();
                quiet_tickets(&store).await;
            }
            _ = maintenance.tick() => {
                let store = live.borrow().store.clone();
                maintain(&store).await;
            }
        }
    }
}

/// One round of the quiet-ticket rules, logged.
pub(super) async fn quiet_tickets(store: &Store) {
    match store.quiet_tickets(chrono::Utc::now()).await {
        Ok(report) if report.reminded + report.resolved + report.closed > 0 => info!(
            reminded = report.reminded,
            resolved = report.resolved,
            closed = report.closed,
            "quiet tickets"
        ),
        Ok(_) => {}
        Err(e) => warn!(error = %e, "quiet tickets not processed; trying again next round"),
    }
}

/// Maintenance when due, logged.
pub(super) async fn maintain(store: &Store) {
    match store.maintain_if_due(chrono::Utc::now()).await {
        Ok(Some(report)) => info!(
            raw_messages = report.counts.raw_messages,
            outgoing_mail = report.counts.outgoing_mail,
            quarantine = report.counts.quarantine,
            closed_tickets = report.counts.closed_tickets,
            contents = report.counts.contents,
            bytes_reclaimed = report.bytes_reclaimed,
            "maintenance"
        ),
        Ok(None) => {}
        Err(e) => warn!(error = %e, "maintenance not done; trying again next hour"),
    }
}
