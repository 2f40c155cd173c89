//! Storage: the only place with SQL. One implementation over sqlx's `Any`
//! driver serves SQLite and PostgreSQL; the backend is picked once from the
//! URL scheme and the few statements that differ (identity columns, the
//! ticket-number sequence) are chosen by [`Backend`]. Every message is filed
//! in one transaction.

mod batch;
mod conversation;
mod messages;
mod models;
mod sql;

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use rand::RngCore;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

use batch::BatchLookup;
use sql::{Durability, WriteTx};

use crate::intake::{
    Attachment, Decision, MessageFacts, NewTicket, Outcome, TicketKey, sha256_hex,
};

use conversation::Continuation;
pub use conversation::{
    ActionDone, ConversationEvent, ConversationRules, FieldChange, FieldChangePolicy, FieldUpdate,
    STATUSES, ThreadContext, ThreadVia,
};
pub use messages::{MessageRecord, Retry, RetryRecord};
pub use models::{
    AttachmentRecord, CommentRecord, EventRecord, InboundRecord, ReplyRecord, TicketRecord,
};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "database.url {url:?} must start with sqlite: or postgres://"
            )))
        }
    }
}

/// A storage failure, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    /// Another writer got there first (a unique key); trying again resolves it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or is busy: try again later, nothing
    /// was written.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database configuration: {0}")]
    Config(String),
    /// The request itself is wrong (an unknown status); nothing was written.
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Other(String),
}

impl StoreError {
    /// Whether the same operation may succeed later (an MTA should retry).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Conflict(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound(error.to_string()),
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
            sqlx::Error::Database(db) => {
                classify_database_error(&db.code().unwrap_or_default(), error.to_string())
            }
            _ => StoreError::Other(error.to_string()),
        }
    }
}

/// What a database's error code means for the caller (SQLite's extended
/// result codes, PostgreSQL's SQLSTATEs).
fn classify_database_error(code: &str, message: String) -> StoreError {
    if matches!(code, "2067" | "1555" | "23505") {
        // SQLite CONSTRAINT_UNIQUE and _PRIMARYKEY, PostgreSQL
        // unique_violation.
        StoreError::Conflict(message)
    } else if matches!(code, "5" | "6" | "261" | "262" | "517" | "14")
        || code.starts_with("08")
        || code.starts_with("57P")
        || code.starts_with("53")
        || code == "40001"
        || code == "40P01"
    {
        // SQLite BUSY/LOCKED/CANTOPEN; PostgreSQL connection
        // exceptions, shutdown, resources, serialization.
        StoreError::Unavailable(message)
    } else {
        StoreError::Other(message)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        match error {
            sqlx::migrate::MigrateError::Execute(e) => e.into(),
            other => StoreError::Other(other.to_string()),
        }
    }
}

/// Where an inbound message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    File,
    Stdin,
    Imap,
    Maildir,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Stdin => "stdin",
            SourceKind::Imap => "imap",
            SourceKind::Maildir => "maildir",
        }
    }
}

/// A received message as the source knows it.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    pub source: SourceKind,
    pub mailbox: Option<&'a str>,
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
    pub raw: &'a [u8],
    /// The raw message's digests when computed already (a batch has them
    /// computed on every core while the previous one is filed); filing
    /// computes them otherwise.
    pub digest: Option<&'a RawDigest>,
}

/// What identifies a raw message: the SHA-256 of its bytes (also its
/// content's key), and that of its body, which the same message delivered
/// by two routes shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDigest {
    pub raw_sha256: String,
    pub body_sha256: String,
}

impl RawDigest {
    pub fn of(raw: &[u8]) -> Self {
        RawDigest {
            raw_sha256: sha256_hex(raw),
            body_sha256: sha256_hex(body_of(raw)),
        }
    }
}

/// The Message-ID a message is recognised by when delivered twice.
fn message_id_of(decision: &Decision) -> Option<String> {
    decision
        .message
        .message_id
        .as_ref()
        .map(|m| m.as_str().to_owned())
}

/// What filing a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    Ticket {
        key: String,
    },
    /// A follow-up, added to its ticket.
    Comment {
        key: String,
    },
    Ignored {
        reason: String,
    },
    Rejected {
        reason: String,
    },
    /// The same message was received before; nothing new was created.
    Duplicate {
        of_message: i64,
        ticket: Option<String>,
    },
    /// This very IMAP message (mailbox, UIDVALIDITY, UID) is already stored:
    /// only its post-action is left to do (quarantine when it was rejected).
    AlreadyStored {
        ticket: Option<String>,
        rejected: bool,
    },
}

/// A ticket just created, inside its filing transaction.
pub struct CreatedTicket<'a> {
    pub key: &'a str,
    pub tracking_token: &'a str,
    /// `open`, or `held` under the `hold` policy.
    pub status: &'a str,
    pub ticket: &'a NewTicket,
    pub message: &'a MessageFacts,
    /// The language recorded for the customer, which wins over the
    /// message's.
    pub customer_language: Option<crate::intake::Language>,
}

/// A message to send, rendered completely before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// `confirmation`, `notification`, …
    pub kind: String,
    /// Without angle brackets.
    pub message_id: String,
    /// Envelope sender and recipients.
    pub sender: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    /// An automatic answer (RFC 3834), subject to the per-sender limit.
    pub automatic: bool,
    /// Why it must not be sent, decided by the planner (kept, not sent).
    pub suppressed: Option<String>,
}

/// Decides which mail a new ticket sends. Called inside the filing
/// transaction, so the rows are written with the ticket or not at all.
pub trait ReplyPlanner: Send + Sync {
    fn plan(&self, created: &CreatedTicket<'_>) -> Vec<OutgoingMail>;

    /// The answer to a sender refused by the `registered` policy.
    fn unregistered(&self, _ticket: &NewTicket, _message: &MessageFacts) -> Option<OutgoingMail> {
        None
    }

    /// The mail something that happened on a ticket sends.
    fn conversation(
        &self,
        _ticket: &ThreadContext,
        _event: &ConversationEvent<'_>,
    ) -> Vec<OutgoingMail> {
        Vec::new()
    }
}

/// Who may open tickets (`senders.policy`).
#[derive(Debug, Clone, Default)]
pub struct Admission {
    pub policy: Option<crate::config::SenderPolicy>,
    /// Domains whose every address counts as registered, lower case.
    pub allowed_domains: Vec<String>,
}

/// What the policy says of one sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admitted {
    Open,
    Held,
    Refused,
}

/// A pending outgoing message, as the sender worker sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub message_id: String,
    pub sender: String,
    pub recipients: String,
    pub raw_sha256: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub ticket: Option<String>,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    key_prefix: String,
    replies: Option<std::sync::Arc<dyn ReplyPlanner>>,
    /// Automatic mails one address may get per hour.
    auto_reply_limit: i64,
    admission: Admission,
    conversations: ConversationRules,
    /// Woken after a commit that may have written outgoing mail, so that
    /// the sender does not wait for its next round.
    outbox_ready: std::sync::Arc<tokio::sync::Notify>,
    /// SQLite: the process's one writing connection (see `sql.rs`), held
    /// by each write transaction in turn.
    sqlite_writer: Option<std::sync::Arc<tokio::sync::Mutex<sql::SqliteWriter>>>,
    /// This process among the instances sharing the database.
    instance: std::sync::Arc<str>,
    /// Contents committed by `store_contents_ahead` (raw messages,
    /// attachments) that no filing has referred to yet: filing does not
    /// send them again.
    stored_ahead: std::sync::Arc<std::sync::Mutex<HashSet<String>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("key_prefix", &self.key_prefix)
            .field("replies", &self.replies.is_some())
            .finish()
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs a future that blocks its thread (a SQLite transaction) where the
/// async runtime's other tasks do not wait for it: on a multi-threaded
/// runtime, this worker's tasks move to another thread meanwhile.
async fn off_runtime<F: std::future::Future>(future: F) -> F::Output {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(future))
        }
        _ => future.await,
    }
}

/// Contents larger than this are stored in chunks of this size (see
/// migration 0007).
const BLOB_CHUNK: usize = 1 << 20;

/// At most this many digests of contents stored ahead are remembered.
const STORED_AHEAD_KEPT: usize = 10_000;

/// Contents larger than this are looked up before being stored.
const LOOK_BEFORE_SENDING: usize = 16 << 10;

/// At most this many contents in one insert (4 arguments each; SQLite
/// allows 32,766 in a statement).
const BLOBS_PER_INSERT: usize = 256;

/// A name for this process among instances sharing a database: host, pid
/// and a random part (a pid can come back after a reboot).
fn instance_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
        // PostgreSQL keeps 63 bytes of an application_name.
        .take(30)
        .collect();
    let mut random = [0u8; 3];
    rand::rngs::OsRng.fill_bytes(&mut random);
    format!(
        "{}-{}-{}",
        if host.is_empty() { "host" } else { &host },
        std::process::id(),
        hex::encode(random)
    )
}

/// A tracking token: 160 random bits from the OS generator, in hex. Not
/// derived from anything, so it cannot be guessed from a ticket key.
fn tracking_token() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The bytes after the header block: the same message delivered to two
/// mailboxes differs in its trace headers but not in its body.
fn body_of(raw: &[u8]) -> &[u8] {
    crate::intake::parse::body_offset(raw).map_or(raw, |at| &raw[at..])
}

impl Store {
    /// Connects and applies pending migrations. A SQLite file and its folder
    /// are created when missing.
    pub async fn open(url: &str, key_prefix: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let instance: std::sync::Arc<str> = instance_name().into();
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            // Every session says which instance it belongs to: claims of an
            // instance without any session left are those of a dead one.
            Backend::Postgres => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}application_name=mailgate%20{instance}")
            }
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Config(format!("database.url: {e}")))?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                // One writer at a time anyway; a few readers beside it.
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            // PostgreSQL: one session always open, which shows this instance
            // alive to the others (see `claim_outbox`).
            .min_connections(match backend {
                Backend::Sqlite => 0,
                Backend::Postgres => 1,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // The page size counts only for a new file, before
                        // it turns to WAL (see `sql::SQLITE_CONNECTION`).
                        conn.execute("PRAGMA page_size = 16384").await?;
                        for pragma in sql::SQLITE_CONNECTION {
                            conn.execute(pragma).await?;
                        }
                        conn.execute("PRAGMA wal_autocheckpoint = 4096").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Store {
            pool,
            backend,
            key_prefix: key_prefix.to_owned(),
            replies: None,
            auto_reply_limit: i64::MAX,
            admission: Admission::default(),
            conversations: ConversationRules::default(),
            outbox_ready: std::sync::Arc::default(),
            sqlite_writer: None,
            instance,
            stored_ahead: std::sync::Arc::default(),
        };
        store.migrate().await?;
        let sqlite_writer = match sqlite_file(&url) {
            Some(path) if backend == Backend::Sqlite => Some(std::sync::Arc::new(
                tokio::sync::Mutex::new(sql::SqliteWriter::open(&path)?),
            )),
            _ => None,
        };
        Ok(Store {
            sqlite_writer,
            ..store
        })
    }

    /// Starts a transaction that will write. On SQLite it holds the
    /// process's writer until it ends, so writers of this process queue
    /// here: SQLite's busy handler polls with sleeps of up to 100 ms, which
    /// made the sender and the filer slow each other down a hundredfold.
    async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        self.begin_write_with(Durability::Flushed).await
    }

    async fn begin_write_with(&self, durability: Durability) -> Result<WriteTx, StoreError> {
        match &self.sqlite_writer {
            Some(writer) => {
                WriteTx::sqlite(std::sync::Arc::clone(writer).lock_owned().await, durability)
            }
            None => WriteTx::postgres(self.pool.begin().await?, durability).await,
        }
    }

    /// The same store, planning replies for every new ticket it files.
    /// At most `per_hour` automatic mails go to one address in an hour;
    /// beyond that, tickets are still created and the mail is kept as
    /// suppressed.
    pub fn with_replies(
        mut self,
        planner: std::sync::Arc<dyn ReplyPlanner>,
        per_hour: u32,
    ) -> Self {
        self.replies = Some(planner);
        self.auto_reply_limit = i64::from(per_hour);
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

    async fn admitted(&self, tx: &mut WriteTx, email: &str) -> Result<Admitted, StoreError> {
        use crate::config::SenderPolicy;
        let policy = self.admission.policy.unwrap_or(SenderPolicy::Open);
        if policy == SenderPolicy::Open {
            return Ok(Admitted::Open);
        }
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
        let known = self.admission.allowed_domains.iter().any(|d| d == domain)
            || sql::query("SELECT 1 FROM customers WHERE email = $1 AND registered = 1")
                .bind(email)
                .fetch_optional(tx)
                .await?
                .is_some();
        Ok(match (known, policy) {
            (true, _) | (_, SenderPolicy::Open) => Admitted::Open,
            (false, SenderPolicy::Hold) => Admitted::Held,
            (false, SenderPolicy::Registered) => Admitted::Refused,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// This process's name among the instances sharing the database.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Woken whenever outgoing mail may have been written.
    pub fn outbox_ready(&self) -> std::sync::Arc<tokio::sync::Notify> {
        std::sync::Arc::clone(&self.outbox_ready)
    }

    /// Applies the migrations of this backend that are not applied yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn next_ticket_number(&self, tx: &mut WriteTx) -> Result<i64, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number' RETURNING value"
            }
            Backend::Postgres => "SELECT nextval('ticket_number')",
        };
        sql::query(sql).fetch_one(tx).await?.try_get(0)
    }

    async fn put_blob(tx: &mut WriteTx, sha256: &str, content: &[u8]) -> Result<(), StoreError> {
        // Large contents are often stored already (ahead of filing, see
        // `store_contents_ahead`, or by an earlier copy): asking costs less
        // than sending them again.
        if content.len() > LOOK_BEFORE_SENDING
            && sql::query("SELECT 1 FROM blobs WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(&mut *tx)
                .await?
                .is_some()
        {
            return Ok(());
        }
        Self::insert_blob(tx, sha256, content).await
    }

    /// Inserts contents not known to be stored (a copy stored meanwhile is
    /// left as it is); over `BLOB_CHUNK`, in chunks.
    async fn insert_blob(tx: &mut WriteTx, sha256: &str, content: &[u8]) -> Result<(), StoreError> {
        let chunked = content.len() > BLOB_CHUNK;
        let inserted = sql::query("INSERT INTO blobs (sha256, size, content, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha256)
            .bind(content.len() as i64)
            .bind(if chunked { &[][..] } else { content })
            .bind(now())
            .execute(tx)
            .await?;
        if inserted == 1 && chunked {
            for (seq, chunk) in content.chunks(BLOB_CHUNK).enumerate() {
                sql::query("INSERT INTO blob_chunks (sha256, seq, content) VALUES ($1, $2, $3)")
                    .bind(sha256)
                    .bind(seq as i64)
                    .bind(chunk)
                    .execute(tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Stores several contents (`(sha256, bytes)`) with as few statements
    /// as it takes: on PostgreSQL each one is a round trip, and a batch of
    /// 50 messages has about 60 contents. Those over `LOOK_BEFORE_SENDING`
    /// are looked up together first; those over `BLOB_CHUNK` go one by one
    /// (`insert_blob`), the rest in multi-row inserts of at most
    /// `BLOBS_PER_INSERT` rows or `BLOB_CHUNK` bytes.
    async fn put_blobs(tx: &mut WriteTx, contents: &[(&str, &[u8])]) -> Result<(), StoreError> {
        let mut seen = HashSet::new();
        let mut contents: Vec<(&str, &[u8])> = (contents.iter().copied())
            .filter(|(sha256, _)| seen.insert(*sha256))
            .collect();
        let looked_up: Vec<&str> = (contents.iter())
            .filter(|(_, content)| content.len() > LOOK_BEFORE_SENDING)
            .map(|(sha256, _)| *sha256)
            .collect();
        if !looked_up.is_empty() {
            let text = format!(
                "SELECT sha256 FROM blobs WHERE sha256 IN ({})",
                sql::placeholders(1, looked_up.len())
            );
            let mut query = sql::query(&text);
            for sha256 in &looked_up {
                query = query.bind(*sha256);
            }
            let stored: HashSet<String> = (query.fetch_all(&mut *tx).await?.iter())
                .map(|row| row.try_get::<String>(0))
                .collect::<Result<_, _>>()?;
            contents.retain(|(sha256, _)| !stored.contains(*sha256));
        }
        let (small, large): (Vec<_>, Vec<_>) = contents
            .into_iter()
            .partition(|(_, content)| content.len() <= BLOB_CHUNK);
        // Looked up above already.
        for (sha256, content) in large {
            Self::insert_blob(tx, sha256, content).await?;
        }
        let at = now();
        let mut rest = &small[..];
        while !rest.is_empty() {
            let mut bytes = 0;
            let rows = (rest.iter())
                .take(BLOBS_PER_INSERT)
                .take_while(|(_, content)| {
                    bytes += content.len();
                    bytes <= BLOB_CHUNK
                })
                .count()
                .max(1);
            let (group, after) = rest.split_at(rows);
            let text = format!(
                "INSERT INTO blobs (sha256, size, content, created_at) VALUES {}
                 ON CONFLICT (sha256) DO NOTHING",
                sql::value_rows(group.len(), 4)
            );
            let mut query = sql::query(&text);
            for (sha256, content) in group {
                query = query
                    .bind(*sha256)
                    .bind(content.len() as i64)
                    .bind(*content)
                    .bind(at.as_str());
            }
            query.execute(&mut *tx).await?;
            rest = after;
        }
        Ok(())
    }

    /// Stores the contents of messages about to be filed (raw messages,
    /// attachments: `(sha256, bytes)`) in a transaction of their own, so
    /// that the server writes them while the previous batch is being filed.
    /// Only on PostgreSQL, whose server works for each connection on its
    /// own core; SQLite's one writer would only do the same work earlier.
    ///
    /// The commit does not wait for the disk: the filing transaction that
    /// refers to these contents commits after it, durably, and PostgreSQL's
    /// log is flushed in order. Contents whose message is never filed stay
    /// unreferenced (nothing refers to them; a later copy reuses them).
    pub async fn store_contents_ahead(&self, contents: &[(&str, &[u8])]) -> Result<(), StoreError> {
        if self.sqlite_writer.is_some() || contents.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write_with(Durability::Deferred).await?;
        Self::put_blobs(&mut tx, contents).await?;
        tx.commit().await?;
        let mut stored = self.stored_ahead.lock().unwrap_or_else(|e| e.into_inner());
        // Messages never filed would leave their digests here.
        if stored.len() > STORED_AHEAD_KEPT {
            stored.clear();
        }
        stored.extend(contents.iter().map(|(sha256, _)| (*sha256).to_owned()));
        Ok(())
    }

    /// Whether these contents were stored ahead (and are no longer noted).
    fn take_stored_ahead(&self, sha256: &str) -> bool {
        self.stored_ahead
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(sha256)
    }

    /// Files a message and what intake decided about it, in one transaction:
    /// the inbound record with its raw bytes, and the ticket with its
    /// products, watchers, unrecognised values and attachments. A message
    /// received before is recorded as a duplicate and creates nothing.
    pub async fn file_message(
        &self,
        inbound: &Inbound<'_>,
        decision: &Decision,
    ) -> Result<Filed, StoreError> {
        let mut tx = self.begin_write().await?;
        let filed = self.file_in(&mut tx, inbound, decision, None).await?;
        tx.commit().await?;
        self.outbox_ready.notify_one();
        Ok(filed)
    }

    /// Files several messages in one transaction, so that a batch costs one
    /// durable commit instead of one per message (the commit's fsync is
    /// most of the cost of filing). Returns what was filed for a prefix of
    /// `messages`, and the error that stopped there, if any: everything
    /// returned is committed. When one message of the batch fails, the
    /// batch is rolled back and its messages are filed one by one, so a bad
    /// message costs only itself.
    pub async fn file_messages(
        &self,
        messages: &[(Inbound<'_>, &Decision)],
    ) -> (Vec<Filed>, Option<StoreError>) {
        if messages.len() > 1 {
            let batch = async {
                let waiting = std::time::Instant::now();
                let mut tx = self.begin_write().await?;
                let writing = std::time::Instant::now();
                // Every message with its digests, computed here if need be.
                let computed: Vec<Option<RawDigest>> = messages
                    .iter()
                    .map(|(inbound, _)| {
                        inbound.digest.is_none().then(|| RawDigest::of(inbound.raw))
                    })
                    .collect();
                let messages: Vec<(Inbound<'_>, &Decision)> = messages
                    .iter()
                    .zip(&computed)
                    .map(|((inbound, decision), computed)| {
                        let digest = inbound.digest.or(computed.as_ref());
                        (Inbound { digest, ..*inbound }, *decision)
                    })
                    .collect();
                let keys: Vec<_> = messages
                    .iter()
                    .filter_map(|(inbound, decision)| {
                        Some((inbound, inbound.digest?, message_id_of(decision)))
                    })
                    .collect();
                let mut lookup = BatchLookup::new(&mut tx, &keys).await?;
                let mut filed = Vec::with_capacity(messages.len());
                for (inbound, decision) in &messages {
                    filed.push(
                        self.file_in(&mut tx, inbound, decision, Some(&mut lookup))
                            .await?,
                    );
                }
                let committing = std::time::Instant::now();
                tx.commit().await?;
                tracing::debug!(
                    messages = filed.len(),
                    wait_ms = (writing - waiting).as_millis() as u64,
                    write_ms = (committing - writing).as_millis() as u64,
                    commit_ms = committing.elapsed().as_millis() as u64,
                    "batch committed"
                );
                self.outbox_ready.notify_one();
                Ok::<_, StoreError>(filed)
            };
            // A SQLite batch runs synchronously for tens of milliseconds
            // (its commit waits for the disk): off the runtime's workers.
            let batch = if self.sqlite_writer.is_some() {
                off_runtime(batch).await
            } else {
                batch.await
            };
            match batch {
                Ok(filed) => return (filed, None),
                // Nothing can be filed while the database is away.
                Err(e @ StoreError::Unavailable(_)) => return (Vec::new(), Some(e)),
                Err(e) => {
                    tracing::debug!(error = %e, "batch not filed; filing its messages one by one");
                }
            }
        }
        let mut filed = Vec::with_capacity(messages.len());
        for (inbound, decision) in messages {
            match self.file_message(inbound, decision).await {
                Ok(f) => filed.push(f),
                Err(e) => return (filed, Some(e)),
            }
        }
        (filed, None)
    }

    /// Files one message in `tx`. In a batch, `lookup` answers what the
    /// database held before it (see `batch.rs`).
    async fn file_in(
        &self,
        tx: &mut WriteTx,
        inbound: &Inbound<'_>,
        decision: &Decision,
        lookup: Option<&mut BatchLookup>,
    ) -> Result<Filed, StoreError> {
        let computed;
        let digest = match inbound.digest {
            Some(digest) => digest,
            None => {
                computed = RawDigest::of(inbound.raw);
                &computed
            }
        };

        let stored = match lookup.as_deref().and_then(|l| l.stored(inbound)) {
            Some(stored) => stored,
            None => Self::stored_uid(tx, inbound).await?,
        };
        if let Some((ticket, rejected)) = stored {
            return Ok(Filed::AlreadyStored { ticket, rejected });
        }

        let message_id = message_id_of(decision);
        let earlier = match lookup
            .as_deref()
            .and_then(|l| l.earlier(digest, message_id.as_deref()))
        {
            Some(earlier) => earlier,
            None => Self::first_copy(tx, digest, message_id.as_deref()).await?,
        };
        if let Some(lookup) = lookup {
            lookup.filed(digest, message_id.as_deref());
        }
        let RawDigest {
            raw_sha256,
            body_sha256,
        } = digest;

        if !self.take_stored_ahead(raw_sha256) {
            Self::put_blob(tx, raw_sha256, inbound.raw).await?;
        }
        let duplicate_of = earlier.as_ref().map(|(id, _)| *id);
        let plan = match earlier {
            Some((of_message, ticket)) => Plan::Duplicate { of_message, ticket },
            None => self.plan_filing(tx, decision).await?,
        };
        let (outcome, reason, detail) = plan.outcome();
        let inbound_id: i64 = sql::query(
            "INSERT INTO inbound_messages (source, mailbox, uidvalidity, uid, message_id, raw_sha256,
                 body_sha256, size, outcome, reason, detail, duplicate_of, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(inbound.source.as_str())
        .bind(inbound.mailbox)
        .bind(inbound.uidvalidity.map(i64::from))
        .bind(inbound.uid.map(i64::from))
        .bind(message_id.as_deref())
        .bind(raw_sha256)
        .bind(body_sha256)
        .bind(inbound.raw.len() as i64)
        .bind(outcome)
        .bind(reason)
        .bind(detail)
        .bind(duplicate_of)
        .bind(now())
        .fetch_one(tx)
        .await?
        .try_get(0)?;

        self.carry_out(tx, plan, inbound_id, decision).await
    }

    /// The ticket and rejection of a message stored before under the same
    /// UID.
    async fn stored_uid(
        tx: &mut WriteTx,
        inbound: &Inbound<'_>,
    ) -> Result<Option<(Option<String>, bool)>, StoreError> {
        let (Some(mailbox), Some(validity), Some(uid)) =
            (inbound.mailbox, inbound.uidvalidity, inbound.uid)
        else {
            return Ok(None);
        };
        let row = sql::query(
            "SELECT t.key, m.outcome FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id
             WHERE m.mailbox = $1 AND m.uidvalidity = $2 AND m.uid = $3",
        )
        .bind(mailbox)
        .bind(i64::from(validity))
        .bind(i64::from(uid))
        .fetch_optional(tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let outcome: String = row.try_get(1)?;
        Ok(Some((row.try_get(0)?, outcome == "rejected")))
    }

    /// The first copy of a message received before (same bytes, or same
    /// Message-ID and body), with its ticket.
    async fn first_copy(
        tx: &mut WriteTx,
        digest: &RawDigest,
        message_id: Option<&str>,
    ) -> Result<batch::Earlier, StoreError> {
        // Two look-ups, one per index: PostgreSQL planned the OR as a scan
        // of every first copy, once per message filed.
        let row = sql::query(
            "SELECT m.id, t.key FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id
             WHERE m.id = (SELECT MIN(id) FROM (
                 SELECT id FROM inbound_messages WHERE duplicate_of IS NULL AND raw_sha256 = $1
                 UNION ALL
                 SELECT id FROM inbound_messages
                   WHERE duplicate_of IS NULL AND message_id = $2 AND body_sha256 = $3) AS firsts)",
        )
        .bind(&digest.raw_sha256)
        .bind(message_id)
        .bind(&digest.body_sha256)
        .fetch_optional(tx)
        .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
    }

    /// What filing a message that is not a duplicate will do: a follow-up,
    /// a new ticket (open, held or refused by the sender policy), ignored or
    /// rejected. Also used to file a quarantined message again
    /// (`messages.rs`).
    async fn plan_filing<'d>(
        &self,
        tx: &mut WriteTx,
        decision: &'d Decision,
    ) -> Result<Plan<'d>, StoreError> {
        Ok(match &decision.outcome {
            Outcome::Ticket { ticket } => {
                let thread = self
                    .find_thread(tx, &decision.message, &ticket.reporter.email)
                    .await?;
                match thread {
                    Some(thread) if matches!(self.continuation(&thread), Continuation::Comment) => {
                        Plan::FollowUp(thread, ticket)
                    }
                    follows => match self.admitted(tx, &ticket.reporter.email).await? {
                        Admitted::Refused => Plan::Refused(ticket),
                        Admitted::Held => Plan::NewTicket(ticket, "held", follows),
                        Admitted::Open => Plan::NewTicket(ticket, "open", follows),
                    },
                }
            }
            Outcome::Ignored { reason, detail } => Plan::Ignored(reason.as_str(), detail),
            Outcome::Rejected { reason, detail } => Plan::Rejected(reason.as_str(), detail),
        })
    }

    /// Does what a plan says for a message whose inbound row is written:
    /// the ticket or comment with its mail, the bounce, the sender's notice.
    async fn carry_out(
        &self,
        tx: &mut WriteTx,
        plan: Plan<'_>,
        inbound_id: i64,
        decision: &Decision,
    ) -> Result<Filed, StoreError> {
        Ok(match plan {
            Plan::Duplicate { of_message, ticket } => Filed::Duplicate { of_message, ticket },
            Plan::Refused(ticket) => {
                if let Some(mail) = self
                    .replies
                    .as_ref()
                    .and_then(|p| p.unregistered(ticket, &decision.message))
                {
                    self.enqueue_planned(tx, None, vec![mail]).await?;
                }
                Filed::Rejected {
                    reason: UNREGISTERED.to_owned(),
                }
            }
            Plan::FollowUp(thread, ticket) => {
                self.add_follow_up(tx, &thread, inbound_id, ticket, &decision.message)
                    .await?;
                Filed::Comment { key: thread.key }
            }
            Plan::NewTicket(ticket, status, follows) => {
                // A ticket continuing an old one is described by what was
                // written now; the quoted history is the old ticket's.
                let continuing;
                let ticket = match &follows {
                    Some(_) if !ticket.reply.is_empty() => {
                        continuing = NewTicket {
                            description: ticket.reply.clone(),
                            ..ticket.clone()
                        };
                        &continuing
                    }
                    _ => ticket,
                };
                let key = self
                    .create_ticket(
                        tx,
                        ticket,
                        &decision.message,
                        inbound_id,
                        status,
                        follows.as_ref().map(|t| t.ticket_id),
                    )
                    .await?;
                if let Some(old) = follows {
                    Self::record_event(
                        tx,
                        old.ticket_id,
                        "follow-up",
                        None,
                        None,
                        Some(&key),
                        Some("a follow-up after the reopen window opened a new ticket"),
                        &ticket.reporter.email,
                        true,
                    )
                    .await?;
                }
                Filed::Ticket { key }
            }
            Plan::Ignored(reason, _) => {
                if let Some(bounce) = &decision.message.bounce {
                    self.record_bounce(tx, inbound_id, bounce).await?;
                }
                Filed::Ignored {
                    reason: reason.to_owned(),
                }
            }
            Plan::Rejected(reason, _) => Filed::Rejected {
                reason: reason.to_owned(),
            },
        })
    }

    async fn create_ticket(
        &self,
        tx: &mut WriteTx,
        ticket: &NewTicket,
        message: &MessageFacts,
        inbound_id: i64,
        status: &str,
        follows: Option<i64>,
    ) -> Result<String, StoreError> {
        let at = now();
        let token = tracking_token();
        let number = self.next_ticket_number(tx).await?;
        let key =
            TicketKey::new(&self.key_prefix, u64::try_from(number).unwrap_or_default()).to_string();
        let language = ticket.language.map(|l| l.as_str());

        // A customer first seen without a name or language gets them later.
        let customer_id = sql::query(
            "INSERT INTO customers (email, name, language, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (email) DO UPDATE SET name = COALESCE(customers.name, excluded.name),
                 language = COALESCE(customers.language, excluded.language)
             RETURNING id, language",
        )
        .bind(&ticket.reporter.email)
        .bind(ticket.reporter.name.as_deref())
        .bind(language)
        .bind(&at)
        .fetch_one(tx)
        .await?;
        let customer_language: Option<String> = customer_id.try_get(1)?;
        let customer_id: i64 = customer_id.try_get(0)?;

        let ticket_id: i64 = sql::query(
            "INSERT INTO tickets (key, number, tracking_token, status, summary, description, severity,
                 request_type, customer_id, reporter_email, reporter_name, reply_to, language,
                 created_at, updated_at, follows_ticket_id)
             VALUES ($1, $2, $3, $14, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $15)
             RETURNING id",
        )
        .bind(&key)
        .bind(number)
        .bind(&token)
        .bind(&ticket.summary)
        .bind(&ticket.description)
        .bind(&ticket.severity)
        .bind(&ticket.request_type)
        .bind(customer_id)
        .bind(&ticket.reporter.email)
        .bind(ticket.reporter.name.as_deref())
        .bind(ticket.reply_to.as_ref().map(|p| p.email.as_str()))
        .bind(language)
        .bind(&at)
        .bind(status)
        .bind(follows)
        .fetch_one(tx)
        .await?
        .try_get(0)?;

        for (position, product) in ticket.products.iter().enumerate() {
            sql::query(
                "INSERT INTO ticket_products (ticket_id, position, product) VALUES ($1, $2, $3)",
            )
            .bind(ticket_id)
            .bind(position as i64)
            .bind(product)
            .execute(tx)
            .await?;
        }
        for watcher in &ticket.watchers {
            sql::query(
                "INSERT INTO ticket_watchers (ticket_id, email, name) VALUES ($1, $2, $3)
                 ON CONFLICT (ticket_id, email) DO NOTHING",
            )
            .bind(ticket_id)
            .bind(&watcher.email)
            .bind(watcher.name.as_deref())
            .execute(tx)
            .await?;
        }
        for u in &ticket.unrecognized {
            sql::query("INSERT INTO ticket_unrecognized (ticket_id, field, value, source) VALUES ($1, $2, $3, $4)")
                .bind(ticket_id)
                .bind(u.field.as_str())
                .bind(&u.value)
                .bind(u.source.as_str())
                .execute(tx)
                .await?;
        }
        for attachment in &ticket.attachments {
            self.add_attachment(tx, ticket_id, None, Some(inbound_id), attachment, &at)
                .await?;
        }
        Self::link_inbound(tx, inbound_id, ticket_id).await?;
        if let Some(planner) = &self.replies {
            let created = CreatedTicket {
                key: &key,
                tracking_token: &token,
                status,
                ticket,
                message,
                customer_language: customer_language
                    .as_deref()
                    .and_then(crate::intake::Language::parse),
            };
            let mails = planner.plan(&created);
            self.enqueue_planned(tx, Some(ticket_id), mails).await?;
        }
        Ok(key)
    }

    /// The reason to hold back an automatic mail to these recipients, when
    /// one of them already got the limit within the last hour.
    async fn over_auto_reply_limit(
        &self,
        tx: &mut WriteTx,
        recipients: &[String],
        queued_with: &[OutgoingMail],
    ) -> Result<Option<String>, StoreError> {
        let since = (chrono::Utc::now() - chrono::Duration::hours(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        for recipient in recipients {
            let alongside = queued_with
                .iter()
                .filter(|m| {
                    m.automatic && m.suppressed.is_none() && m.recipients.join(",") == *recipient
                })
                .count() as i64;
            let count: i64 = alongside
                + sql::query(
                    "SELECT COUNT(*) FROM outbox WHERE recipients = $1 AND automatic = 1
                   AND status IN ('pending', 'sent') AND created_at >= $2",
                )
                .bind(recipient)
                .bind(&since)
                .fetch_one(tx)
                .await?
                .try_get::<i64>(0)?;
            if count >= self.auto_reply_limit {
                return Ok(Some(format!(
                    "{recipient} already got {count} automatic mails within the hour (senders.auto_reply_limit)"
                )));
            }
        }
        Ok(None)
    }

    /// Queues what a planner decided, holding back automatic mail over the
    /// per-address limit. Returns how many mails will be sent.
    async fn enqueue_planned(
        &self,
        tx: &mut WriteTx,
        ticket_id: Option<i64>,
        mut mails: Vec<OutgoingMail>,
    ) -> Result<usize, StoreError> {
        let at = now();
        for i in 0..mails.len() {
            if mails[i].automatic && mails[i].suppressed.is_none() {
                // The limit counts what is queued already, this call's
                // earlier mails included (they are written below).
                let earlier = &mails[..i];
                mails[i].suppressed = self
                    .over_auto_reply_limit(tx, &mails[i].recipients, earlier)
                    .await?;
            }
        }
        Self::enqueue(tx, ticket_id, &mails, &at).await?;
        Ok(mails.iter().filter(|m| m.suppressed.is_none()).count())
    }

    /// Writes mails to the outbox: their contents (`put_blobs`), then their
    /// rows in one statement (a new ticket queues two mails; on PostgreSQL
    /// every statement is a round trip).
    async fn enqueue(
        tx: &mut WriteTx,
        ticket_id: Option<i64>,
        mails: &[OutgoingMail],
        at: &str,
    ) -> Result<(), StoreError> {
        if mails.is_empty() {
            return Ok(());
        }
        let shas: Vec<String> = mails.iter().map(|m| sha256_hex(&m.raw)).collect();
        let contents: Vec<(&str, &[u8])> = (shas.iter().zip(mails))
            .map(|(sha, mail)| (sha.as_str(), &mail.raw[..]))
            .collect();
        Self::put_blobs(tx, &contents).await?;
        let text = format!(
            "INSERT INTO outbox (ticket_id, kind, message_id, sender, recipients, raw_sha256, status,
                 attempts, next_attempt_at, last_error, automatic, created_at)
             VALUES {}",
            sql::value_rows(mails.len(), 12)
        );
        let mut query = sql::query(&text);
        for (mail, sha) in mails.iter().zip(&shas) {
            query = query
                .bind(ticket_id)
                .bind(&mail.kind)
                .bind(&mail.message_id)
                .bind(&mail.sender)
                .bind(mail.recipients.join(","))
                .bind(sha.as_str())
                .bind(if mail.suppressed.is_some() {
                    "suppressed"
                } else {
                    "pending"
                })
                .bind(0i64)
                .bind(at)
                .bind(mail.suppressed.as_deref())
                .bind(i64::from(mail.automatic))
                .bind(at);
        }
        query.execute(tx).await?;
        Ok(())
    }

    /// Records which ticket a received message went to.
    async fn link_inbound(
        tx: &mut WriteTx,
        inbound_id: i64,
        ticket_id: i64,
    ) -> Result<(), StoreError> {
        sql::query("UPDATE inbound_messages SET ticket_id = $1 WHERE id = $2")
            .bind(ticket_id)
            .bind(inbound_id)
            .execute(tx)
            .await?;
        Ok(())
    }

    async fn add_attachment(
        &self,
        tx: &mut WriteTx,
        ticket_id: i64,
        comment_id: Option<i64>,
        inbound_id: Option<i64>,
        attachment: &Attachment,
        at: &str,
    ) -> Result<(), StoreError> {
        if !self.take_stored_ahead(&attachment.sha256) {
            Self::put_blob(tx, &attachment.sha256, &attachment.data).await?;
        }
        sql::query(
            "INSERT INTO attachments (ticket_id, comment_id, inbound_message_id, filename, content_type,
                 size, sha256, content_id, inline, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(ticket_id)
        .bind(comment_id)
        .bind(inbound_id)
        .bind(&attachment.filename)
        .bind(&attachment.content_type)
        .bind(attachment.size as i64)
        .bind(&attachment.sha256)
        .bind(attachment.content_id.as_deref())
        .bind(i64::from(attachment.inline))
        .bind(at)
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// What filing a message will do, decided before its inbound row is written.
enum Plan<'d> {
    /// Received before: the first copy and its ticket.
    Duplicate {
        of_message: i64,
        ticket: Option<String>,
    },
    /// Refused by the `registered` policy.
    Refused(&'d NewTicket),
    FollowUp(conversation::Thread, &'d NewTicket),
    /// A new ticket with its status, continuing a long-closed one.
    NewTicket(&'d NewTicket, &'static str, Option<conversation::Thread>),
    Ignored(&'d str, &'d String),
    Rejected(&'d str, &'d String),
}

impl Plan<'_> {
    /// The outcome, reason and detail recorded on the inbound row.
    fn outcome(&self) -> (&'static str, Option<&str>, Option<&str>) {
        match self {
            Plan::Duplicate { .. } => ("duplicate", None, None),
            Plan::Refused(_) => (
                "rejected",
                Some(UNREGISTERED),
                Some("the sender is not a registered customer (senders.policy = \"registered\")"),
            ),
            Plan::FollowUp(thread, _) => ("comment", Some(thread.via.as_str()), None),
            Plan::NewTicket(..) => ("ticket", None, None),
            Plan::Ignored(reason, detail) => ("ignored", Some(*reason), Some(detail.as_str())),
            Plan::Rejected(reason, detail) => ("rejected", Some(*reason), Some(detail.as_str())),
        }
    }
}

/// The reject reason of a sender refused by the `registered` policy.
pub const UNREGISTERED: &str = "unregistered-sender";

/// Makes `sqlite://PATH` create its file (and folder) when missing.
/// The file of a `sqlite:` URL.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = sqlite_file(url)
        .ok_or_else(|| StoreError::Config("database.url must name a SQLite file".into()))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create the folder {}: {e}",
                parent.display()
            ))
        })?;
    }
    Ok(if rest.contains("mode=") {
        format!("sqlite://{rest}")
    } else if rest.contains('?') {
        format!("sqlite://{rest}&mode=rwc")
    } else {
        format!("sqlite://{rest}?mode=rwc")
    })
}

/// Reading.
impl Store {
    /// Tickets, newest first, optionally of one status.
    pub async fn list_tickets(
        &self,
        status: Option<&str>,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM tickets WHERE ($1 IS NULL OR status = $1) ORDER BY number DESC",
        )
        .bind(status)
        .fetch_all(&self.pool)
        .await?;
        let mut tickets = Vec::with_capacity(rows.len());
        for row in rows {
            tickets.push(self.ticket_by_id(row.try_get(0)?).await?);
        }
        Ok(tickets)
    }

    /// A ticket by key (`SUP-42`, any case).
    pub async fn ticket(&self, key: &str) -> Result<TicketRecord, StoreError> {
        let key = TicketKey::parse(key)
            .ok_or_else(|| StoreError::NotFound(format!("{key:?} is not a ticket key")))?;
        let row = sqlx::query("SELECT id FROM tickets WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no ticket {key}")))?;
        self.ticket_by_id(row.try_get(0)?).await
    }

    async fn ticket_by_id(&self, id: i64) -> Result<TicketRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(
            "SELECT key, tracking_token, status, summary, description, severity, request_type,
                    reporter_email, reporter_name, reply_to, language, created_at, updated_at,
                    (SELECT f.key FROM tickets f WHERE f.id = tickets.follows_ticket_id)
             FROM tickets WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        let products = sqlx::query(
            "SELECT product FROM ticket_products WHERE ticket_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        let watchers = sqlx::query_as::<_, models::Watcher>(
            "SELECT email, name FROM ticket_watchers WHERE ticket_id = $1 ORDER BY email",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let unrecognized = sqlx::query_as::<_, models::UnrecognizedRecord>(
            "SELECT field, value, source FROM ticket_unrecognized WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let attachments = sqlx::query_as::<_, AttachmentRecord>(
            "SELECT id, filename, content_type, size, sha256, content_id, comment_id FROM attachments WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let comments = sqlx::query_as::<_, CommentRecord>(
            "SELECT id, author_email, author_name, author_role, body, visibility, created_at FROM comments WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let replies = sqlx::query_as::<_, ReplyRecord>(
            "SELECT kind, recipients, status, attempts, last_error, created_at, sent_at FROM outbox WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let events = Self::events(&mut conn, id).await?;
        Ok(TicketRecord {
            id,
            replies,
            events,
            follows: row.try_get(13)?,
            key: row.try_get(0)?,
            tracking_token: row.try_get(1)?,
            status: row.try_get(2)?,
            summary: row.try_get(3)?,
            description: row.try_get(4)?,
            severity: row.try_get(5)?,
            products,
            request_type: row.try_get(6)?,
            reporter_email: row.try_get(7)?,
            reporter_name: row.try_get(8)?,
            reply_to: row.try_get(9)?,
            language: row.try_get(10)?,
            watchers,
            unrecognized,
            attachments,
            comments,
            created_at: row.try_get(11)?,
            updated_at: row.try_get(12)?,
        })
    }

    /// The content of a stored file or raw message.
    pub async fn blob(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let row = sqlx::query("SELECT size, content FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no content {sha256}")))?;
        let size: i64 = row.try_get(0)?;
        let content: Vec<u8> = row.try_get(1)?;
        if content.len() as i64 == size {
            return Ok(content);
        }
        let mut content = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut chunks =
            sqlx::query("SELECT content FROM blob_chunks WHERE sha256 = $1 ORDER BY seq")
                .bind(sha256)
                .fetch(&self.pool);
        while let Some(row) = futures::TryStreamExt::try_next(&mut chunks).await? {
            content.extend_from_slice(&row.try_get::<Vec<u8>, _>(0)?);
        }
        if content.len() as i64 != size {
            return Err(StoreError::Other(format!(
                "content {sha256}: {} of {size} bytes stored",
                content.len()
            )));
        }
        Ok(content)
    }

    /// Received messages, newest first, optionally of one outcome.
    pub async fn list_inbound(
        &self,
        outcome: Option<&str>,
    ) -> Result<Vec<InboundRecord>, StoreError> {
        Ok(sqlx::query_as::<_, InboundRecord>(
            "SELECT m.id, m.source, m.mailbox, m.message_id, m.size, m.outcome, m.reason, m.detail,
                    t.key AS ticket, m.duplicate_of, m.received_at
             FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id
             WHERE ($1 IS NULL OR m.outcome = $1) ORDER BY m.id DESC",
        )
        .bind(outcome)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The raw bytes of a received message.
    pub async fn inbound_raw(&self, id: i64) -> Result<Vec<u8>, StoreError> {
        let row = sqlx::query("SELECT raw_sha256 FROM inbound_messages WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no message {id}")))?;
        let sha: String = row.try_get(0)?;
        self.blob(&sha).await
    }
}

/// The columns of an [`OutboxRow`], with the ticket's key.
const OUTBOX_ROWS: &str =
    "SELECT o.id, o.kind, o.message_id, o.sender, o.recipients, o.raw_sha256, o.status,
        o.attempts, o.last_error, o.created_at, t.key AS ticket
     FROM outbox o LEFT JOIN tickets t ON t.id = o.ticket_id";

/// The outbox, for the sender worker.
impl Store {
    /// Every outgoing message, newest first.
    pub async fn list_outbox(&self) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(
            sqlx::query_as::<_, OutboxRow>(&format!("{OUTBOX_ROWS} ORDER BY o.id DESC"))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// How many outgoing messages are in each status, and when the oldest
    /// pending one was written.
    pub async fn outbox_stats(&self) -> Result<(Vec<(String, i64)>, Option<String>), StoreError> {
        let counts = sqlx::query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<Vec<(String, i64)>, sqlx::Error>>()?;
        let oldest = sqlx::query("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok((counts, oldest))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Claims up to `limit` due messages for this sender until `lease` has
    /// passed, oldest first. Rows another sender holds are skipped
    /// (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite has one writer at a
    /// time anyway), so no message is handed to two senders. The claim's
    /// commit does not wait for the disk: a claim lost with the machine
    /// only lets the message be claimed again.
    pub async fn claim_outbox(
        &self,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        let now = now();
        let until = (chrono::Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default())
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        // The instance first: another instance sees whether the claimer
        // is still alive.
        let claim = format!("{} {}", self.instance, tracking_token());
        let (lock, dead_claimer) = match self.backend {
            Backend::Postgres => (
                "FOR UPDATE SKIP LOCKED",
                "OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                     WHERE a.application_name = 'mailgate ' || split_part(claim, ' ', 1))",
            ),
            Backend::Sqlite => ("", ""),
        };
        let mut tx = self.begin_write_with(Durability::Deferred).await?;
        sql::query(format!(
            "UPDATE outbox SET claim = $1, claimed_until = $2 WHERE id IN (
                 SELECT id FROM outbox
                 WHERE status = 'pending' AND next_attempt_at <= $3
                   AND (claimed_until IS NULL OR claimed_until < $3 {dead_claimer})
                 ORDER BY id LIMIT $4 {lock})"
        ))
        .bind(&claim)
        .bind(&until)
        .bind(&now)
        .bind(limit)
        .execute(&mut tx)
        .await?;
        tx.commit().await?;
        let rows = sqlx::query_as::<_, OutboxRow>(&format!(
            "{OUTBOX_ROWS} WHERE o.claim = $1 ORDER BY o.id"
        ))
        .bind(&claim)
        .fetch_all(&self.pool)
        .await?;
        // The contents in one query rather than one per mail; chunked
        // ones (over BLOB_CHUNK) are left to be read when sent.
        let contents: std::collections::HashMap<String, Vec<u8>> = sqlx::query(
            "SELECT sha256, content FROM blobs
             WHERE sha256 IN (SELECT raw_sha256 FROM outbox WHERE claim = $1) AND size <= $2",
        )
        .bind(&claim)
        .bind(BLOB_CHUNK as i64)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, _>>()?;
        let mut contents = contents;
        Ok(rows
            .into_iter()
            .map(|row| ClaimedMail {
                // Taken, not copied: a second mail of the same contents (if
                // ever) reads them when sent, as chunked ones do.
                raw: contents.remove(&row.raw_sha256),
                row,
            })
            .collect())
    }

    /// Ends every claim at once: only when no other sender can be running
    /// (a SQLite database, which one instance holds).
    pub async fn release_outbox_claims(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE outbox SET claim = NULL, claimed_until = NULL WHERE claim IS NOT NULL",
        )
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Records the outcome of attempts, in one transaction, and ends their
    /// claims. The commit does not wait for the disk (the filer's commits
    /// do, and take it along): an outcome lost with the machine means a
    /// mail sent twice, as when the process is killed between sending and
    /// recording, never a mail lost.
    pub async fn record_attempts(&self, attempts: &[(i64, Attempt)]) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write_with(Durability::Deferred).await?;
        for (id, attempt) in attempts {
            let query = match attempt {
                Attempt::Sent => sql::query(
                    "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2,
                         last_error = NULL, claim = NULL, claimed_until = NULL WHERE id = $1",
                )
                .bind(*id)
                .bind(now()),
                Attempt::Failed { error, retry_at } => {
                    let (status, next) = match retry_at {
                        Some(at) => (
                            "pending",
                            at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        ),
                        None => ("failed", now()),
                    };
                    sql::query(
                        "UPDATE outbox SET status = $2, attempts = attempts + 1, next_attempt_at = $3,
                             last_error = $4, claim = NULL, claimed_until = NULL WHERE id = $1",
                    )
                    .bind(*id)
                    .bind(status)
                    .bind(next)
                    .bind(error.clone())
                }
            };
            query.execute(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A mail claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMail {
    pub row: OutboxRow,
    /// Its content when small enough to come with the claim; a large one
    /// is read when it is sent ([`Store::blob`]).
    pub raw: Option<Vec<u8>>,
}

/// What one attempt to send a message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// Not sent: tried again at `retry_at`, or given up (`None`).
    Failed {
        error: String,
        retry_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// A registered customer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct CustomerRecord {
    pub email: String,
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub language: Option<String>,
    pub created_at: String,
}

/// Customers, for `mailgate customers`.
impl Store {
    /// Registers a customer, or updates one (given fields replace the old).
    pub async fn register_customer(
        &self,
        email: &str,
        name: Option<&str>,
        organisation: Option<&str>,
        language: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO customers (email, name, organisation, language, created_at, registered)
             VALUES ($1, $2, $3, $4, $5, 1)
             ON CONFLICT (email) DO UPDATE SET registered = 1,
                 name = COALESCE($2, customers.name),
                 organisation = COALESCE($3, customers.organisation),
                 language = COALESCE($4, customers.language)",
        )
        .bind(email.trim().to_lowercase())
        .bind(name)
        .bind(organisation)
        .bind(language)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Unregisters a customer; their tickets stay. False when unknown.
    pub async fn unregister_customer(&self, email: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE customers SET registered = 0 WHERE email = $1 AND registered = 1")
                .bind(email.trim().to_lowercase())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn registered_customers(&self) -> Result<Vec<CustomerRecord>, StoreError> {
        Ok(sqlx::query_as::<_, CustomerRecord>(
            "SELECT email, name, organisation, language, created_at FROM customers WHERE registered = 1 ORDER BY email",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
