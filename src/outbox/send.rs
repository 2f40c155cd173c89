//! Delivering the outbox: SMTP over a few connections kept open and used
//! at once, or `.eml` files in a folder when no SMTP server is configured.
//! A transient failure (4xx, connection refused, timeout) is tried again
//! later with exponential back-off; a permanent one (5xx) stops at once.
//! Either way the outcome stays on the row.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::config::{OutboxSettings, SmtpSettings};
use crate::model::TlsMode;
use crate::service::names;
use crate::service::sleep_or_shutdown;
use crate::store::{Attempt, ClaimedMail, OutboxRow, Store, StoreError};
use crate::tls::Transport;

/// Limit on each step of an SMTP conversation.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a sender may hold the rows it claimed. Far more than a claim
/// takes to send (a few rows per connection, each step time-limited), so
/// that a claim only lapses when its sender is gone.
const CLAIM_LEASE: Duration = Duration::from_secs(300);
/// Rows claimed at once, per connection.
const CLAIM_PER_CONNECTION: i64 = 16;
/// Outcomes recorded per transaction, at most: a crash loses the record of
/// at most this many deliveries, which are then sent again.
const RECORD_BATCH: usize = 16;

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    Smtp(Arc<SmtpPool>),
    /// Each message written as `<Message-ID>.eml` into the folder.
    Files(PathBuf),
}

/// Why a message was not delivered.
#[derive(Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    fn transient(message: impl Into<String>) -> Self {
        SendError {
            permanent: false,
            message: message.into(),
        }
    }

    fn permanent(message: impl Into<String>) -> Self {
        SendError {
            permanent: true,
            message: message.into(),
        }
    }

    /// A 5xx answer is permanent; a 4xx, a network failure or a timeout is
    /// not.
    fn from_smtp(e: &lettre::transport::smtp::Error) -> Self {
        SendError {
            permanent: e.is_permanent(),
            message: e.to_string(),
        }
    }
}

/// Connections to the SMTP server, kept open between messages.
pub struct SmtpPool {
    settings: SmtpSettings,
    hello: ClientId,
    implicit_tls: Option<tokio_rustls::TlsConnector>,
    idle: Mutex<Vec<AsyncSmtpConnection>>,
}

/// Runs one step of the SMTP conversation with its time limit.
async fn step<T>(
    what: &str,
    fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, SendError> {
    match tokio::time::timeout(SMTP_TIMEOUT, fut).await {
        Ok(result) => result.map_err(|e| SendError::from_smtp(&e)),
        Err(_) => Err(SendError::transient(format!(
            "{what}: no answer within {SMTP_TIMEOUT:?}"
        ))),
    }
}

impl SmtpPool {
    pub fn new(settings: &SmtpSettings) -> Result<Self, String> {
        let implicit_tls = match settings.tls {
            TlsMode::Implicit => {
                Some(crate::tls::connector(None, false).map_err(|e| format!("smtp: {e}"))?)
            }
            TlsMode::StartTls | TlsMode::None => None,
        };
        Ok(SmtpPool {
            settings: settings.clone(),
            hello: ClientId::default(),
            implicit_tls,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// A new connection, greeted, encrypted and logged in as configured.
    async fn open(&self) -> Result<AsyncSmtpConnection, SendError> {
        let s = &self.settings;
        let mut conn = self.connect().await?;
        if s.tls == TlsMode::StartTls {
            let tls = TlsParameters::new(s.host.clone()).map_err(|e| SendError::from_smtp(&e))?;
            step("STARTTLS", conn.starttls(tls, &self.hello)).await?;
        }
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            let credentials = Credentials::new(user.clone(), password.expose().to_owned());
            step("AUTH", conn.auth(DEFAULT_MECHANISMS, &credentials)).await?;
        }
        Ok(conn)
    }

    /// A new connection, greeted (EHLO): TCP, then TLS at once with `tls =
    /// "implicit"`. The first step of `open`; `mailgate check` connects
    /// with it too, then takes STARTTLS and AUTH one at a time.
    pub async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let s = &self.settings;
        let address = format!("{}:{}", s.host, s.port);
        let tcp = match tokio::time::timeout(SMTP_TIMEOUT, TcpStream::connect(&address)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => return Err(SendError::transient(format!("connect {address}: {e}"))),
            Err(_) => {
                return Err(SendError::transient(format!(
                    "connect {address}: timed out"
                )));
            }
        };
        // The client writes a message and its final dot separately, then
        // waits for the answer: with Nagle's algorithm the dot waits for the
        // server's delayed ACK, 40 ms per message.
        let _ = tcp.set_nodelay(true);
        let conn = match &self.implicit_tls {
            Some(tls) => {
                let name = tokio_rustls::rustls::pki_types::ServerName::try_from(s.host.clone())
                    .map_err(|e| SendError::permanent(format!("host {:?}: {e}", s.host)))?;
                let stream = match tokio::time::timeout(SMTP_TIMEOUT, tls.connect(name, tcp)).await
                {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => return Err(SendError::transient(format!("TLS: {e}"))),
                    Err(_) => return Err(SendError::transient("TLS: timed out")),
                };
                step(
                    "greeting",
                    AsyncSmtpConnection::connect_with_transport(
                        Box::new(Transport::Tls(Box::new(stream))),
                        &self.hello,
                    ),
                )
                .await?
            }
            None => {
                step(
                    "greeting",
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello),
                )
                .await?
            }
        };
        Ok(conn)
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < self.settings.connections {
            idle.push(conn);
        }
    }

    async fn send(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        // A connection kept from before may have been closed by the server
        // meanwhile: a failure on it that is not an SMTP answer is tried
        // once more on a new connection.
        if let Some(mut conn) = self.take_idle() {
            match step("DATA", conn.send(envelope, raw)).await {
                Ok(_) => {
                    self.put_back(conn);
                    return Ok(());
                }
                Err(e) if e.permanent || !conn.has_broken() => {
                    self.put_back(conn);
                    return Err(e);
                }
                Err(e) => {
                    debug!(error = %e.message, "kept SMTP connection failed; opening a new one");
                }
            }
        }
        let mut conn = self.open().await?;
        let sent = step("DATA", conn.send(envelope, raw)).await;
        self.put_back(conn);
        sent.map(|_| ())
    }

    /// Says goodbye on the connections kept open.
    pub async fn close_idle(&self) {
        let idle: Vec<_> = std::mem::take(
            &mut *self
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for mut conn in idle {
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.quit()).await;
        }
    }
}

impl Mailer {
    pub fn smtp(settings: &SmtpSettings) -> Result<Self, String> {
        Ok(Mailer::Smtp(Arc::new(SmtpPool::new(settings)?)))
    }

    /// Messages sent at once.
    fn concurrency(&self) -> usize {
        match self {
            Mailer::Smtp(pool) => pool.settings.connections,
            Mailer::Files(_) => 1,
        }
    }

    async fn send(&self, row: &OutboxRow, raw: &[u8]) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(pool) => {
                let sender = row
                    .sender
                    .parse()
                    .map_err(|e| SendError::permanent(format!("sender {:?}: {e}", row.sender)))?;
                let recipients = row
                    .recipients
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| SendError::permanent(format!("recipient: {e}")))?;
                let envelope = Envelope::new(Some(sender), recipients)
                    .map_err(|e| SendError::permanent(e.to_string()))?;
                pool.send(&envelope, raw).await
            }
            Mailer::Files(dir) => {
                let write = || -> std::io::Result<()> {
                    std::fs::create_dir_all(dir)?;
                    let name: String = row
                        .message_id
                        .chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                                c
                            } else {
                                '_'
                            }
                        })
                        .collect();
                    let tmp = dir.join(format!(".{name}.tmp"));
                    std::fs::write(&tmp, raw)?;
                    std::fs::rename(&tmp, dir.join(format!("{name}.eml")))
                };
                write().map_err(|e| SendError::transient(format!("{}: {e}", dir.display())))
            }
        }
    }

    async fn close_idle(&self) {
        if let Mailer::Smtp(pool) = self {
            pool.close_idle().await;
        }
    }
}

/// When to try again after `attempts` failed attempts, or `None` when the
/// message has waited longer than `give_up_after` since it was written.
pub fn next_attempt(
    settings: &OutboxSettings,
    attempts: u32,
    created_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
    let wait = settings
        .retry_initial
        .saturating_mul(factor)
        .min(settings.retry_max);
    let next = now + chrono::Duration::from_std(wait).ok()?;
    let deadline = created_at + chrono::Duration::from_std(settings.give_up_after).ok()?;
    (next <= deadline).then_some(next)
}

/// What an attempt comes to, with its log line and counters.
fn attempt_outcome(
    row: &OutboxRow,
    result: Result<(), SendError>,
    settings: &OutboxSettings,
) -> Attempt {
    let ticket = row.ticket.as_deref().unwrap_or("-");
    let e = match result {
        Ok(()) => {
            metrics::counter!(names::OUTBOX_SENT, "kind" => row.kind.clone()).increment(1);
            info!(ticket, kind = %row.kind, to = %row.recipients, "mail sent");
            return Attempt::Sent;
        }
        Err(e) => e,
    };
    let created = chrono::DateTime::parse_from_rfc3339(&row.created_at)
        .map_or_else(|_| chrono::Utc::now(), |d| d.with_timezone(&chrono::Utc));
    let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
    let retry_at = if e.permanent {
        None
    } else {
        next_attempt(settings, attempts, created, chrono::Utc::now())
    };
    if let Some(at) = retry_at {
        metrics::counter!(names::OUTBOX_RETRIES).increment(1);
        warn!(ticket, kind = %row.kind, error = %e.message, retry_at = %at, "mail not sent; will retry");
    } else {
        metrics::counter!(names::OUTBOX_FAILED, "kind" => row.kind.clone()).increment(1);
        warn!(ticket, kind = %row.kind, error = %e.message, "mail not sent; giving up");
    }
    Attempt::Failed {
        error: e.message,
        retry_at,
    }
}

/// Sends claimed rows, several at once, and records their outcomes in
/// small batches as they come. Returns how many were delivered.
///
/// Each send is a task of its own that holds no database connection: the
/// sends go on while outcomes are recorded, and recording (which waits for
/// the database's writer) never waits for a send that waits for it.
async fn deliver(
    store: &Store,
    mailer: &Mailer,
    settings: &OutboxSettings,
    rows: Vec<ClaimedMail>,
) -> Result<usize, StoreError> {
    let mut waiting = rows.into_iter();
    let mut sending = tokio::task::JoinSet::new();
    let mut outcomes = Vec::new();
    let mut delivered = 0;
    let task_failed =
        |e: tokio::task::JoinError| StoreError::Other(format!("send task failed: {e}"));
    start_sends(store, mailer, settings, &mut waiting, &mut sending).await?;
    while let Some(done) = sending.join_next().await {
        outcomes.push(done.map_err(task_failed)?);
        while let Some(done) = sending.try_join_next() {
            outcomes.push(done.map_err(task_failed)?);
        }
        // The connections work while the outcomes are recorded.
        start_sends(store, mailer, settings, &mut waiting, &mut sending).await?;
        // Nothing is left unrecorded: when no send is under way, none is
        // waiting either.
        if outcomes.len() >= RECORD_BATCH || sending.is_empty() {
            delivered += outcomes.iter().filter(|(_, a)| *a == Attempt::Sent).count();
            store.record_attempts(&outcomes).await?;
            outcomes.clear();
        }
    }
    Ok(delivered)
}

/// Starts sends until every connection is busy or no row is left.
async fn start_sends(
    store: &Store,
    mailer: &Mailer,
    settings: &OutboxSettings,
    waiting: &mut impl Iterator<Item = ClaimedMail>,
    sending: &mut tokio::task::JoinSet<(i64, Attempt)>,
) -> Result<(), StoreError> {
    while sending.len() < mailer.concurrency() {
        let Some(ClaimedMail { row, raw }) = waiting.next() else {
            break;
        };
        let raw = match raw {
            Some(raw) => raw,
            None => store.blob(&row.raw_sha256).await?,
        };
        let (mailer, settings) = (mailer.clone(), settings.clone());
        sending.spawn(async move {
            let result = mailer.send(&row, &raw).await;
            (row.id, attempt_outcome(&row, result, &settings))
        });
    }
    Ok(())
}

/// Sends every message that is due. Returns how many were delivered.
pub async fn flush(
    store: &Store,
    mailer: &Mailer,
    settings: &OutboxSettings,
) -> Result<usize, StoreError> {
    let mut delivered = 0;
    loop {
        let limit = CLAIM_PER_CONNECTION * mailer.concurrency() as i64;
        let rows = store.claim_outbox(limit, CLAIM_LEASE).await?;
        if rows.is_empty() {
            return Ok(delivered);
        }
        delivered += deliver(store, mailer, settings, rows).await?;
    }
}

/// Sends due mail as soon as it is written (the store says when), and
/// otherwise every second, until shutdown. Connections left idle for a
/// while are closed.
pub async fn run(
    store: Store,
    mailer: Mailer,
    settings: OutboxSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let ready = store.outbox_ready();
    let mut quiet = Duration::ZERO;
    loop {
        match flush(&store, &mailer, &settings).await {
            Ok(0) => quiet += Duration::from_secs(1),
            Ok(_) => quiet = Duration::ZERO,
            Err(e) => warn!(error = %e, "outbox not flushed"),
        }
        if quiet >= Duration::from_secs(30) {
            mailer.close_idle().await;
            quiet = Duration::ZERO;
        }
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            () = ready.notified() => {}
            stop = sleep_or_shutdown(Duration::from_secs(1), &mut shutdown) => if stop { break },
        }
    }
    mailer.close_idle().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_give_up_after_the_deadline() {
        let settings = OutboxSettings {
            retry_initial: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(48 * 3600),
        };
        let created = chrono::Utc::now();
        let wait = |attempts, now| {
            next_attempt(&settings, attempts, created, now).map(|t| (t - now).num_seconds())
        };
        assert_eq!(wait(1, created), Some(60));
        assert_eq!(wait(2, created), Some(120));
        assert_eq!(wait(4, created), Some(480));
        assert_eq!(wait(10, created), Some(3600));
        assert_eq!(wait(40, created), Some(3600));
        assert_eq!(
            wait(
                5,
                created + chrono::Duration::hours(47) + chrono::Duration::minutes(59)
            ),
            None
        );
    }
}
