//! Retention and reclaiming space (`[retention]`, `mailgate maintain`, the
//! daemon once a day): raw messages and outgoing mail bodies removed after
//! a while, the quarantine emptied, closed tickets anonymised or deleted,
//! then the contents no row refers to any more collected.
//!
//! A row whose content goes keeps its foreign key: it points at the empty
//! content ([`EMPTY_CONTENT`], stored by migration 0015, never collected)
//! and records when. Each rule works in batches of its own transaction, so
//! that filing waits for one batch at most; a dry run does the same work in
//! one transaction and rolls it back. The clock is the caller's (`now`),
//! for tests; only the collection's grace period also heeds the real one.
//!
//! This file holds the run: claiming it (one instance at a time), its
//! steps, and its record in `maintenance_runs`. `rules.rs` holds the rules
//! on messages and mail, `tickets.rs` the one on closed tickets,
//! `collect.rs` the collection and the SQLite file.

mod collect;
mod rules;
mod tickets;

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::sql::{self, WriteTx};
use super::{Store, StoreError, stored_time};

pub use collect::FileCompaction;

/// The SHA-256 of nothing: what removed contents are replaced by.
pub const EMPTY_CONTENT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Advisory lock key of maintenance (the quiet-ticket job's differs).
const MAINTAIN_LOCK: i64 = 0x6d67_7265_746e;

/// Rows taken per transaction.
const BATCH: i64 = 500;

/// A run started longer ago than this and not finished is taken for one
/// whose instance died: another may start.
const RUN_LAPSES: chrono::Duration = chrono::Duration::hours(6);

/// The daemon maintains the database when the last finished run is older
/// than this.
pub const MAINTAIN_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// Rows removed, by rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RuleCounts {
    /// Received messages whose raw bytes went (`raw_messages`).
    pub raw_messages: u64,
    /// Outgoing mail whose body went (`outgoing_mail`).
    pub outgoing_mail: u64,
    /// Rejected and ignored messages deleted (`quarantine`).
    pub quarantine: u64,
    /// Closed tickets anonymised or deleted (`closed_tickets`).
    pub closed_tickets: u64,
    /// Contents deleted (referred to by no row).
    pub contents: u64,
}

/// What a maintenance run did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MaintenanceReport {
    pub dry_run: bool,
    /// Why nothing was done: another instance is at it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Its row in `maintenance_runs`; none for a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    pub counts: RuleCounts,
    /// What became of closed tickets: `anonymise` or `delete`.
    pub closed_tickets_mode: &'static str,
    /// The sizes of the contents deleted.
    pub bytes_reclaimed: u64,
    /// SQLite only, not for a dry run: the file before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileCompaction>,
}

/// What `messages show` says of a message whose raw bytes retention
/// removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRemoved {
    pub id: i64,
    /// When (as stored).
    pub at: String,
}

impl std::fmt::Display for RawRemoved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "raw message {} was removed on {} by the retention rule raw_messages",
            self.id,
            self.at.get(..19).unwrap_or(&self.at).replace('T', " ")
        )
    }
}

/// One step of a run, in the order they run: the rules first, so that
/// the collection finds what they freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    RawMessages,
    OutgoingMail,
    Quarantine,
    ClosedTickets,
    Contents,
}

impl Step {
    const ALL: [Step; 5] = [
        Step::RawMessages,
        Step::OutgoingMail,
        Step::Quarantine,
        Step::ClosedTickets,
        Step::Contents,
    ];

    /// Steps that delete rows run with foreign keys checked by hand on
    /// SQLite (`begin_erasure`): the tables whose rows may refer to what
    /// they delete. Steps that only point rows at the empty content run
    /// with the keys enforced.
    fn checked_tables(self) -> Option<&'static [&'static str]> {
        match self {
            Step::RawMessages | Step::OutgoingMail => None,
            Step::Quarantine => Some(&[
                "inbound_messages",
                "inbound_retries",
                "comments",
                "attachments",
            ]),
            Step::ClosedTickets => Some(&[
                "tickets",
                "ticket_products",
                "ticket_watchers",
                "ticket_unrecognized",
                "ticket_events",
                "comments",
                "attachments",
                "inbound_messages",
                "inbound_retries",
                "outbox",
                "webhook_deliveries",
            ]),
            Step::Contents => Some(&["blob_chunks", "inbound_messages", "attachments", "outbox"]),
        }
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default)]
struct Batch {
    rows: u64,
    bytes: u64,
    /// A full batch: there may be more.
    more: bool,
}

impl Batch {
    fn of(rows: usize, bytes: u64) -> Self {
        Batch {
            rows: rows as u64,
            bytes,
            more: rows as i64 >= BATCH,
        }
    }
}

/// Whether a run may start.
enum Claim {
    Run(i64),
    Busy(String),
    NotDue,
}

impl Store {
    /// Applies the retention rules as of `now` and collects what no row
    /// refers to any more. A dry run writes nothing and says what a run
    /// would do. On PostgreSQL, one instance at a time: another finds the
    /// run taken and is `skipped`.
    pub async fn maintain(
        &self,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<MaintenanceReport, StoreError> {
        if dry_run {
            return self.run_steps(now, None).await;
        }
        match self.claim_run(now, false).await? {
            Claim::Run(id) => self.run_claimed(now, id).await,
            Claim::Busy(why) => Ok(self.skipped(why)),
            Claim::NotDue => unreachable!("claimed without a due check"),
        }
    }

    /// When the last run (not a dry run) finished, as stored, and the
    /// bytes it reclaimed; `None` before the first. For `mailgate check`.
    pub async fn last_maintenance(&self) -> Result<Option<(String, u64)>, StoreError> {
        let row = sqlx::query(
            "SELECT finished_at, bytes_reclaimed FROM maintenance_runs
             WHERE finished_at IS NOT NULL AND dry_run = 0
             ORDER BY finished_at DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let bytes: i64 = row.try_get(1)?;
            Ok((row.try_get(0)?, u64::try_from(bytes).unwrap_or(0)))
        })
        .transpose()
    }

    /// Maintains the database when the last finished run is a day old (or
    /// there is none) and no other instance is at it; `None` otherwise.
    pub async fn maintain_if_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<MaintenanceReport>, StoreError> {
        match self.claim_run(now, true).await? {
            Claim::Run(id) => Ok(Some(self.run_claimed(now, id).await?)),
            Claim::Busy(_) | Claim::NotDue => Ok(None),
        }
    }

    fn skipped(&self, why: String) -> MaintenanceReport {
        MaintenanceReport {
            dry_run: false,
            skipped: Some(why),
            run_id: None,
            counts: RuleCounts::default(),
            closed_tickets_mode: self.retention.closed_tickets_mode.as_str(),
            bytes_reclaimed: 0,
            file: None,
        }
    }

    /// Records a run as started by this instance, unless another one's is
    /// under way (or, with `due_only`, the last finished one is recent).
    /// On PostgreSQL under an advisory lock, so that two instances
    /// claiming at once cannot both succeed.
    async fn claim_run(&self, now: DateTime<Utc>, due_only: bool) -> Result<Claim, StoreError> {
        let mut tx = self.begin_write().await?;
        if !self.hold_job_lock(&mut tx, MAINTAIN_LOCK).await? {
            return Ok(Claim::Busy(
                "another instance is starting maintenance".into(),
            ));
        }
        let running = sql::query(
            "SELECT instance, started_at FROM maintenance_runs
             WHERE finished_at IS NULL AND dry_run = 0 AND started_at > $1
             ORDER BY id DESC LIMIT 1",
        )
        .bind(stored_time(now - RUN_LAPSES))
        .fetch_optional(&mut tx)
        .await?;
        if let Some(row) = running {
            let why = format!(
                "{} has been maintaining the database since {}",
                row.try_get::<String>(0)?,
                row.try_get::<String>(1)?
            );
            // Ended here, not dropped: a dropped transaction is rolled back
            // only when its connection is next used, and until then it
            // would hold the lock against the next claim.
            tx.commit().await?;
            return Ok(Claim::Busy(why));
        }
        if due_only {
            let last: Option<String> = sql::query(
                "SELECT MAX(finished_at) FROM maintenance_runs
                 WHERE finished_at IS NOT NULL AND dry_run = 0",
            )
            .fetch_one(&mut tx)
            .await?
            .try_get(0)?;
            if last.is_some_and(|last| last > stored_time(now - MAINTAIN_EVERY)) {
                tx.commit().await?;
                return Ok(Claim::NotDue);
            }
        }
        let id: i64 = sql::query(
            "INSERT INTO maintenance_runs (instance, started_at, dry_run, counts, bytes_reclaimed)
             VALUES ($1, $2, 0, '{}', 0) RETURNING id",
        )
        .bind(self.instance())
        .bind(stored_time(now))
        .fetch_one(&mut tx)
        .await?
        .try_get(0)?;
        tx.commit().await?;
        Ok(Claim::Run(id))
    }

    /// Runs a claimed run and records what it did; a run that failed is
    /// forgotten, so that the next check tries again.
    async fn run_claimed(
        &self,
        now: DateTime<Utc>,
        id: i64,
    ) -> Result<MaintenanceReport, StoreError> {
        let before = self.file_size();
        let done = self.run_steps(now, Some(id)).await;
        let mut tx = self.begin_write().await?;
        let mut report = match done {
            Ok(report) => report,
            Err(e) => {
                sql::query("DELETE FROM maintenance_runs WHERE id = $1")
                    .bind(id)
                    .execute(&mut tx)
                    .await?;
                tx.commit().await?;
                return Err(e);
            }
        };
        let counts = serde_json::to_string(&report.counts)
            .map_err(|e| StoreError::Other(format!("maintenance counts: {e}")))?;
        sql::query(
            "UPDATE maintenance_runs SET finished_at = $2, counts = $3, bytes_reclaimed = $4
             WHERE id = $1",
        )
        .bind(id)
        .bind(stored_time(now))
        .bind(counts)
        .bind(i64::try_from(report.bytes_reclaimed).unwrap_or(i64::MAX))
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        if report.counts.closed_tickets > 0 {
            self.purge_search().await;
        }
        report.file = self.compact_file(before, false).await;
        // PostgreSQL's statistics, for servers without autovacuum (see
        // `Store::autovacuum`); the run is recorded, so a failure is logged.
        if let Ok(Some(false)) = self.autovacuum().await
            && let Err(e) = self.analyze().await
        {
            tracing::warn!(error = %e, "ANALYZE after maintenance failed");
        }
        Ok(report)
    }

    /// Every step, batch after batch: in a transaction per batch, or for
    /// a dry run (`run` is `None`) all in one rolled back at the end.
    async fn run_steps(
        &self,
        now: DateTime<Utc>,
        run: Option<i64>,
    ) -> Result<MaintenanceReport, StoreError> {
        let dry_run = run.is_none();
        let mut dry = if dry_run {
            Some(self.begin_erasure().await?)
        } else {
            None
        };
        let mut counts = RuleCounts::default();
        let mut bytes = 0;
        for step in Step::ALL {
            let Some(cutoff) = self.cutoff(step, now) else {
                continue;
            };
            loop {
                let batch = if let Some(tx) = dry.as_mut() {
                    self.batch(tx, step, now, &cutoff).await?
                } else {
                    let mut tx = match step.checked_tables() {
                        Some(_) => self.begin_erasure().await?,
                        None => self.begin_write().await?,
                    };
                    let batch = self.batch(&mut tx, step, now, &cutoff).await?;
                    if let Some(tables) = step.checked_tables() {
                        self.check_foreign_keys(&mut tx, "maintenance", Some(tables))
                            .await?;
                    }
                    tx.commit().await?;
                    batch
                };
                *counts.of(step) += batch.rows;
                bytes += batch.bytes;
                if !batch.more {
                    break;
                }
            }
        }
        if let Some(mut tx) = dry {
            // What the run would leave is checked as the run checks it.
            self.check_foreign_keys(&mut tx, "maintenance", None)
                .await?;
            drop(tx);
        }
        Ok(MaintenanceReport {
            dry_run,
            skipped: None,
            run_id: run,
            counts,
            closed_tickets_mode: self.retention.closed_tickets_mode.as_str(),
            bytes_reclaimed: bytes,
            file: None,
        })
    }

    /// Rows older than the returned time are the step's; `None` when its
    /// rule is unset. Contents count from the real clock as well: a
    /// content stored ahead of a filing not yet committed is never taken,
    /// whatever `now` the caller says.
    fn cutoff(&self, step: Step, now: DateTime<Utc>) -> Option<String> {
        let rules = &self.retention;
        let after = match step {
            Step::RawMessages => rules.raw_messages?,
            Step::OutgoingMail => rules.outgoing_mail?,
            Step::Quarantine => rules.quarantine?,
            Step::ClosedTickets => rules.closed_tickets?,
            Step::Contents => return Some(stored_time(now.min(Utc::now()) - collect::GRACE)),
        };
        Some(stored_time(now - after))
    }

    async fn batch(
        &self,
        tx: &mut WriteTx,
        step: Step,
        now: DateTime<Utc>,
        cutoff: &str,
    ) -> Result<Batch, StoreError> {
        let at = stored_time(now);
        match step {
            Step::RawMessages => Self::remove_raws(tx, cutoff, &at).await,
            Step::OutgoingMail => Self::remove_bodies(tx, cutoff, &at).await,
            Step::Quarantine => Self::empty_quarantine(tx, cutoff).await,
            Step::ClosedTickets => {
                Self::retire_tickets(tx, cutoff, &at, self.retention.closed_tickets_mode).await
            }
            Step::Contents => self.collect_contents(tx, cutoff).await,
        }
    }
}

impl RuleCounts {
    fn of(&mut self, step: Step) -> &mut u64 {
        match step {
            Step::RawMessages => &mut self.raw_messages,
            Step::OutgoingMail => &mut self.outgoing_mail,
            Step::Quarantine => &mut self.quarantine,
            Step::ClosedTickets => &mut self.closed_tickets,
            Step::Contents => &mut self.contents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_content_is_the_digest_of_nothing() {
        assert_eq!(crate::intake::sha256_hex(b""), EMPTY_CONTENT);
    }

    #[test]
    fn a_removed_raw_says_when_and_why() {
        let removed = RawRemoved {
            id: 12,
            at: "2027-03-01T04:05:06.789Z".into(),
        };
        assert_eq!(
            removed.to_string(),
            "raw message 12 was removed on 2027-03-01 04:05:06 by the retention rule raw_messages"
        );
    }

    #[test]
    fn a_full_batch_asks_for_more() {
        assert!(Batch::of(500, 0).more);
        assert!(!Batch::of(499, 0).more);
    }
}
