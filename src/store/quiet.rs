//! Tickets that went quiet (`[tickets]` `pending_reminder_after`,
//! `auto_resolve_pending_after`, `auto_close_resolved_after`): the customer
//! of a pending ticket is reminded once, a pending ticket is then resolved,
//! a resolved one closed. Each step counts from the ticket's last change of
//! status, so anything that changes it (a customer's reply reopens the
//! ticket) starts the count again.
//!
//! The clock is the caller's (`now`), for tests and for `run --once`. Every
//! change is conditional on the state it was chosen in, and on PostgreSQL a
//! transaction-scoped advisory lock lets one instance at a time work, so
//! that several instances never remind or close twice.

use chrono::{DateTime, Utc};

use super::conversation::{ConversationEvent, NewEvent, QuietStep};
use super::sql::{self, WriteTx};
use super::{Backend, Store, StoreError, stored_time};
use crate::model::TicketStatus;

/// Advisory lock key of the quiet-ticket job (any other job's differs).
const QUIET_LOCK: i64 = 0x6d67_7169_6574;

/// Tickets taken per transaction: a backlog after a long outage is worked
/// through in bounded steps.
const BATCH: i64 = 200;

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct QuietReport {
    pub reminded: usize,
    pub resolved: usize,
    pub closed: usize,
    /// Another instance was running it: this one did nothing.
    pub skipped: bool,
}

/// The whole days of a step, for the customer's mail.
fn days(duration: chrono::Duration) -> i64 {
    duration.num_days().max(1)
}

impl Store {
    /// Applies the quiet-ticket rules as of `now`; nothing when none is
    /// configured.
    pub async fn quiet_tickets(&self, now: DateTime<Utc>) -> Result<QuietReport, StoreError> {
        let rules = self.conversations.quiet;
        let mut report = QuietReport::default();
        if !rules.any() {
            return Ok(report);
        }
        // Resolving first: a ticket due for both gets no reminder.
        if let Some(after) = rules.auto_resolve_pending_after {
            let next = rules.auto_close_resolved_after.map(days);
            match self
                .quiet_step(now, after, QuietStep::AutoResolved, next)
                .await?
            {
                Some(n) => report.resolved = n,
                None => return Ok(QuietReport::skipped()),
            }
        }
        if let Some(after) = rules.pending_reminder_after {
            let next = rules
                .auto_resolve_pending_after
                .map(|resolve| days(resolve - after));
            match self
                .quiet_step(now, after, QuietStep::Reminder, next)
                .await?
            {
                Some(n) => report.reminded = n,
                None => {
                    return Ok(QuietReport {
                        skipped: true,
                        ..report
                    });
                }
            }
        }
        if let Some(after) = rules.auto_close_resolved_after {
            match self
                .quiet_step(now, after, QuietStep::AutoClosed, None)
                .await?
            {
                Some(n) => report.closed = n,
                None => {
                    return Ok(QuietReport {
                        skipped: true,
                        ..report
                    });
                }
            }
        }
        Ok(report)
    }

    /// Takes one step on every ticket due for it, a batch per transaction;
    /// `None` when another instance holds the job.
    async fn quiet_step(
        &self,
        now: DateTime<Utc>,
        after: chrono::Duration,
        step: QuietStep,
        next_in_days: Option<i64>,
    ) -> Result<Option<usize>, StoreError> {
        let at = stored_time(now);
        let cutoff = stored_time(now - after);
        let from = match step {
            QuietStep::Reminder | QuietStep::AutoResolved => TicketStatus::Pending,
            QuietStep::AutoClosed => TicketStatus::Resolved,
        };
        let mut done = 0;
        loop {
            let mut tx = self.begin_write().await?;
            if !self.hold_job_lock(&mut tx, QUIET_LOCK).await? {
                return Ok(None);
            }
            let due = Self::due(&mut tx, step, from, &cutoff).await?;
            let mut taken = 0;
            for id in &due {
                if self
                    .take_step(&mut tx, *id, step, from, &at, next_in_days)
                    .await?
                {
                    taken += 1;
                }
            }
            tx.commit().await?;
            if taken > 0 {
                self.outbox_ready.notify_one();
            }
            done += taken;
            // A short batch was the last; a batch of which nothing could be
            // taken would come back the same.
            if (due.len() as i64) < BATCH || taken == 0 {
                return Ok(Some(done));
            }
        }
    }

    /// PostgreSQL: this instance's turn at the job of advisory lock `key`
    /// (each job has its own), until the transaction ends. SQLite has one
    /// instance.
    pub(super) async fn hold_job_lock(
        &self,
        tx: &mut WriteTx,
        key: i64,
    ) -> Result<bool, StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(true);
        }
        let row = sql::query(
            "SELECT (CASE WHEN pg_try_advisory_xact_lock($1) THEN 1 ELSE 0 END)::bigint",
        )
        .bind(key)
        .fetch_one(tx)
        .await?;
        Ok(row.try_get::<i64>(0)? == 1)
    }

    /// Tickets in `from` since before `cutoff`; for reminders, those not
    /// reminded since that change.
    async fn due(
        tx: &mut WriteTx,
        step: QuietStep,
        from: TicketStatus,
        cutoff: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let not_reminded = if step == QuietStep::Reminder {
            " AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id
                   AND e.kind = 'reminder'
                   AND e.created_at >= COALESCE(t.status_changed_at, t.created_at))"
        } else {
            ""
        };
        let text = format!(
            "SELECT t.id FROM tickets t
             WHERE t.status = $1 AND COALESCE(t.status_changed_at, t.created_at) <= $2{not_reminded}
             ORDER BY t.id LIMIT $3"
        );
        let rows = sql::query(&text)
            .bind(from.as_str())
            .bind(cutoff)
            .bind(BATCH)
            .fetch_all(tx)
            .await?;
        rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()
    }

    /// One step on one ticket, if it is still in `from`: the status change
    /// or the reminder in its history (actor `system`), and the mail.
    async fn take_step(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        step: QuietStep,
        from: TicketStatus,
        at: &str,
        next_in_days: Option<i64>,
    ) -> Result<bool, StoreError> {
        let to = match step {
            QuietStep::Reminder => None,
            QuietStep::AutoResolved => Some(TicketStatus::Resolved),
            QuietStep::AutoClosed => Some(TicketStatus::Closed),
        };
        let event = match to {
            Some(to) => {
                let changed = sql::query(
                    "UPDATE tickets SET status = $2, status_changed_at = $3, updated_at = $3
                     WHERE id = $1 AND status = $4",
                )
                .bind(ticket_id)
                .bind(to.as_str())
                .bind(at)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?;
                if changed == 0 {
                    return Ok(false);
                }
                NewEvent {
                    ticket_id,
                    kind: "status",
                    field: Some("status"),
                    old: Some(from.as_str()),
                    new: Some(to.as_str()),
                    detail: Some("nobody answered"),
                    actor: "system",
                    public: true,
                }
            }
            None => NewEvent {
                ticket_id,
                kind: "reminder",
                field: None,
                old: None,
                new: None,
                detail: Some("the customer was reminded"),
                actor: "system",
                public: false,
            },
        };
        Self::record_event_at(tx, &event, at).await?;
        if let Some(to) = to {
            self.status_webhook(tx, ticket_id, from, to, "system")
                .await?;
        }
        let mail = ConversationEvent::Quiet { step, next_in_days };
        self.plan_conversation_counted(tx, ticket_id, &mail).await?;
        Ok(true)
    }
}

impl QuietReport {
    fn skipped() -> Self {
        QuietReport {
            skipped: true,
            ..QuietReport::default()
        }
    }
}
