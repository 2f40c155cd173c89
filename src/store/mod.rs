//! Storage: the only place with SQL. One implementation over sqlx's `Any`
//! driver serves SQLite and PostgreSQL; the backend is picked once from the
//! URL scheme and the few statements that differ (identity columns, the
//! ticket-number sequence) are chosen by [`Backend`]. Every message is filed
//! in one transaction.
//!
//! This file holds the [`Store`] and how it is configured; each other file
//! does one job (see ARCHITECTURE.md for the map).

mod backend;
mod batch;
mod blobs;
mod conversation;
mod create;
mod customers;
mod erasure;
mod error;
mod export;
mod filing;
mod inbound;
mod leases;
mod lists;
mod models;
mod outbox;
mod plan;
mod portal;
mod quiet;
mod refile;
mod replies;
mod retention;
mod slices;
mod sql;
mod starts;
mod tickets;
mod webhooks;

use std::collections::HashSet;
use std::sync::Arc;

use rand::RngCore;
use sqlx::AnyPool;

use crate::config::{ConversationRules, RetentionRules, Routes};

pub use backend::{Backend, sqlite_file};
pub use conversation::{
    ActionDone, ConversationEvent, FieldChange, FieldUpdate, Merged, QuietStep, ThreadContext,
    ThreadVia, WatcherChange,
};
pub use customers::{Admission, CustomerRecord};
pub use erasure::{ERASED, Erasure, ErasureReport, FileWipe, TicketsOnErasure};
pub use error::StoreError;
pub use export::{
    ConsentRecord, CustomerData, CustomerExport, ExportedMessage, ExportedTicket, SessionRecord,
    SignInRecord, TicketRole,
};
pub use filing::{Filed, Inbound, RawDigest, SourceKind};
pub use inbound::{MessageRecord, RetryRecord};
pub use leases::{LeaseError, LeaseSession, LeaseTarget};
pub use lists::{AssigneeFilter, Cursor, MAX_PAGE, TicketFilter, TicketPage};
pub use models::{AttachmentRecord, CommentRecord, EventRecord, ReplyRecord, TicketRecord};
pub use outbox::{Attempt, ClaimedMail, OutboxRow, OutgoingMail};
pub use plan::UNREGISTERED;
pub use portal::{LoginLink, LoginQueued, PortalSession, PortalTicket, StatusFilter};
pub use quiet::QuietReport;
pub use refile::Retry;
pub use replies::{CreatedTicket, ReplyPlanner};
pub use retention::{
    EMPTY_CONTENT, FileCompaction, MAINTAIN_EVERY, MaintenanceReport, RawRemoved, RuleCounts,
};
pub use starts::MailboxStart;
pub use webhooks::{Delivery, DeliveryAttempt, Subscription};

/// The database, and what filing applies on top of it (reply planner,
/// sender policy, threading rules). Clones share the pool and the writer.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    key_prefix: String,
    replies: Option<Arc<dyn ReplyPlanner>>,
    /// Automatic mails one address may get per hour.
    auto_reply_limit: i64,
    admission: Admission,
    conversations: ConversationRules,
    /// How long what is stored is kept (`[retention]`).
    retention: RetentionRules,
    /// Which queue, team address and assignee a new ticket gets.
    routes: Arc<Routes>,
    /// The default queue's team address (`tickets.team_address`).
    team_address: Option<Arc<str>>,
    /// Which events each webhook is told of.
    webhooks: Arc<Vec<webhooks::Subscription>>,
    /// Woken when a webhook delivery may have been queued.
    webhooks_ready: Arc<tokio::sync::Notify>,
    /// Fragments of robots' local parts (`senders.no_reply_patterns`),
    /// lower case: never made watchers from a follow-up's Cc.
    robot_patterns: Arc<[String]>,
    /// Woken after a commit that may have written outgoing mail, so that
    /// the sender does not wait for its next round.
    outbox_ready: Arc<tokio::sync::Notify>,
    /// SQLite: the process's one writing connection (see `sql/sqlite.rs`),
    /// held by each write transaction in turn.
    sqlite_writer: Option<Arc<tokio::sync::Mutex<sql::SqliteWriter>>>,
    /// This process among the instances sharing the database.
    instance: Arc<str>,
    /// Contents committed by `store_contents_ahead` (raw messages,
    /// attachments) that no filing has referred to yet: filing does not
    /// send them again.
    stored_ahead: Arc<std::sync::Mutex<HashSet<String>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("key_prefix", &self.key_prefix)
            .field("replies", &self.replies.is_some())
            .finish_non_exhaustive()
    }
}

/// The time now, as stored (see [`stored_time`]).
fn now() -> String {
    stored_time(chrono::Utc::now())
}

/// A time as stored: RFC 3339 in UTC, to the millisecond, so that stored
/// times compare as text.
fn stored_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A tracking token: 160 random bits from the OS generator, in hex. Not
/// derived from anything, so it cannot be guessed from a ticket key.
fn tracking_token() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// How a store is configured, and what it says of itself.
impl Store {
    /// The same store, planning replies for every new ticket it files.
    /// At most `per_hour` automatic mails go to one address in an hour;
    /// beyond that, tickets are still created and the mail is kept as
    /// suppressed.
    pub fn with_replies(mut self, planner: Arc<dyn ReplyPlanner>, per_hour: u32) -> Self {
        self.replies = Some(planner);
        self.auto_reply_limit = i64::from(per_hour);
        self
    }

    /// The same store, routing new tickets by these routes (`[[routes]]`),
    /// whose queues' team addresses its mail goes to; the default queue's
    /// is `team_address` (`tickets.team_address`).
    pub fn with_routes(mut self, routes: Routes, team_address: Option<&str>) -> Self {
        self.routes = Arc::new(routes);
        self.team_address = team_address.map(Arc::from);
        self
    }

    /// Where mail to the team about a ticket of `queue` goes.
    fn queue_team_address(&self, queue: Option<&str>) -> Option<&str> {
        self.routes
            .team_address(queue, self.team_address.as_deref())
    }

    /// The same store, never making watchers of addresses whose local part
    /// holds one of these fragments (`senders.no_reply_patterns`).
    pub fn with_robot_patterns(mut self, patterns: &[String]) -> Self {
        self.robot_patterns = patterns.iter().map(|p| p.to_lowercase()).collect();
        self
    }

    /// The same store, applying this sender policy to new tickets.
    pub fn with_admission(mut self, admission: Admission) -> Self {
        self.admission = admission;
        self
    }

    /// The same store, threading follow-ups by these rules.
    pub fn with_conversations(mut self, rules: ConversationRules) -> Self {
        self.conversations = rules;
        self
    }

    /// The same store, applying these retention rules when maintained.
    pub fn with_retention(mut self, rules: RetentionRules) -> Self {
        self.retention = rules;
        self
    }

    /// The retention rules in effect.
    pub fn retention(&self) -> &RetentionRules {
        &self.retention
    }

    /// The same store, with every mail its filing plans kept in the outbox
    /// as `suppressed` with this reason instead of being sent (mail already
    /// suppressed keeps its own reason). For importing old mail: the
    /// record shows what would have been sent, nobody is mailed again.
    pub fn with_replies_suppressed(mut self, reason: &str) -> Self {
        if let Some(inner) = self.replies.take() {
            self.replies = Some(Arc::new(replies::Suppressing {
                inner,
                reason: reason.to_owned(),
            }));
        }
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This process's name among the instances sharing the database.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Woken whenever outgoing mail may have been written.
    pub fn outbox_ready(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.outbox_ready)
    }
}
