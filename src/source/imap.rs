//! IMAP mailboxes: connect (TLS, STARTTLS or loopback plain text), log in,
//! file every message of the folder, then move, flag or delete it on the
//! server; wait for more with IDLE (RFC 2177) or by polling; reconnect with
//! back-off when anything fails.

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use futures::TryStreamExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::rustls;
use tracing::{Instrument, debug, info, info_span, warn};

use super::oauth::{TokenSource, xoauth2_response};
use super::{Backoff, Context, initial};
use crate::config::{ImapAuth, Initial, MailboxSettings, PostAction, Secret};
use crate::intake;
use crate::model::TlsMode;
use crate::service::sleep_or_shutdown;
use crate::store::{Filed, Inbound, RawDigest, SourceKind, StoreError};
use crate::tls::Transport;

/// Messages filed per transaction and moved per command.
const BATCH: usize = 50;
/// At most this many bytes of messages fetched at once, so that a batch of
/// large messages is not held in memory all together.
const BATCH_BYTES: usize = 4 << 20;
/// Sizes asked for at once. The IMAP library keeps each answer with the
/// buffer it was read into: asked for 10,000 messages at once, the sizes
/// held about 60 MB until the first batches were filed.
const SIZES_PER_FETCH: usize = 500;
/// After a drain that found mail, the folder is checked every `BUSY_CHECK`
/// for this long instead of waiting in IDLE: Dovecot holds IDLE
/// notifications back for half a second to combine changes, which would
/// make every message of a steady stream wait that long.
const BUSY_FOR: Duration = Duration::from_secs(5);
const BUSY_CHECK: Duration = Duration::from_millis(50);
/// RFC 2177 3.: clients should re-issue IDLE at least every 29 minutes.
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);
/// Re-issue IDLE after this long without a word from the server, so that a
/// dead connection is noticed by the NOOP that follows.
const IDLE_SILENCE: Duration = Duration::from_secs(5 * 60);

pub type Session = async_imap::Session<Transport>;

/// Why a mailbox could not be processed. Every kind ends the session; the
/// mailbox loop reconnects after a back-off.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("cannot connect to {0}")]
    Connect(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("login refused: {0} (check username and password)")]
    Auth(String),
    #[error("IMAP: {0}")]
    Protocol(String),
    #[error("no answer from the server within {0:?} ({1})")]
    Timeout(Duration, &'static str),
    #[error("the server refused IDLE ({0}); polling instead")]
    IdleRefused(String),
    #[error("storing failed, messages left on the server: {0}")]
    Store(#[from] StoreError),
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        ImapError::Protocol(e.to_string())
    }
}

/// Runs a network step with the mailbox's time limit.
async fn timed<T, E: Into<ImapError>>(
    limit: Duration,
    what: &'static str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(ImapError::Timeout(limit, what)),
    }
}

async fn tls_handshake(m: &MailboxSettings, tcp: TcpStream) -> Result<Transport, ImapError> {
    let name = rustls::pki_types::ServerName::try_from(m.host.clone())
        .map_err(|e| ImapError::Tls(format!("host {:?}: {e}", m.host)))?;
    let stream = timed(m.timeout, "TLS handshake", async {
        if m.tls_insecure {
            warn!(mailbox = %m.name, "tls_insecure = true: the server certificate is NOT verified");
        }
        crate::tls::connector(m.ca_file.as_deref(), m.tls_insecure)
            .map_err(ImapError::Tls)?
            .connect(name, tcp)
            .await
            .map_err(|e| ImapError::Tls(e.to_string()))
    })
    .await?;
    Ok(Transport::Tls(Box::new(stream)))
}

/// AUTHENTICATE PLAIN (RFC 4616): one message, authorization identity empty.
struct PlainAuth<'a> {
    username: &'a str,
    password: &'a str,
}

impl async_imap::Authenticator for PlainAuth<'_> {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        format!("\0{}\0{}", self.username, self.password).into_bytes()
    }
}

/// AUTHENTICATE XOAUTH2: the token in the first answer; an empty answer to
/// the error challenge a server sends on failure, so it can say NO.
struct XOAuth2 {
    response: Option<String>,
}

impl async_imap::Authenticator for XOAuth2 {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        self.response.take().unwrap_or_default()
    }
}

/// Opens an authenticated session. `tokens` gives XOAUTH2 access tokens.
pub async fn connect(
    m: &MailboxSettings,
    tokens: Option<&TokenSource>,
) -> Result<Session, ImapError> {
    let address = format!("{}:{}", m.host, m.port);
    let tcp = timed(m.timeout, "connect", async {
        TcpStream::connect(&address)
            .await
            .map_err(|e| ImapError::Connect(format!("{address}: {e}")))
    })
    .await?;
    let transport = match m.tls {
        TlsMode::Implicit => tls_handshake(m, tcp).await?,
        TlsMode::None | TlsMode::StartTls => Transport::Plain(tcp),
    };
    let mut client = async_imap::Client::new(transport);
    let greeting = timed(m.timeout, "greeting", async {
        client
            .read_response()
            .await
            .map_err(|e| ImapError::Protocol(e.to_string()))
    })
    .await?;
    if greeting.is_none() {
        return Err(ImapError::Protocol(
            "connection closed before the greeting".into(),
        ));
    }
    if m.tls == TlsMode::StartTls {
        timed(
            m.timeout,
            "STARTTLS",
            client.run_command_and_check_ok("STARTTLS", None),
        )
        .await?;
        let Transport::Plain(tcp) = client.into_inner() else {
            return Err(ImapError::Tls("STARTTLS on a TLS stream".into()));
        };
        client = async_imap::Client::new(tls_handshake(m, tcp).await?);
    }
    let password = m
        .password
        .as_ref()
        .map(crate::config::Secret::expose)
        .unwrap_or_default();
    let token = match (m.auth, tokens) {
        (ImapAuth::XOAuth2, Some(tokens)) => Some(
            tokens
                .access_token()
                .await
                .map_err(|e| ImapError::Auth(format!("no OAuth access token: {e}")))?,
        ),
        (ImapAuth::XOAuth2, None) => {
            return Err(ImapError::Auth("XOAUTH2 without a token source".into()));
        }
        _ => None,
    };
    let login = async {
        match m.auth {
            ImapAuth::XOAuth2 => {
                let response = xoauth2_response(
                    &m.username,
                    token.as_ref().map(Secret::expose).unwrap_or_default(),
                );
                client
                    .authenticate(
                        "XOAUTH2",
                        XOAuth2 {
                            response: Some(response),
                        },
                    )
                    .await
            }
            ImapAuth::Login => client.login(&m.username, password).await,
            ImapAuth::Plain => {
                client
                    .authenticate(
                        "PLAIN",
                        PlainAuth {
                            username: &m.username,
                            password,
                        },
                    )
                    .await
            }
        }
        .map_err(|(e, _)| match e {
            async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
                ImapError::Auth(text)
            }
            other => ImapError::Protocol(other.to_string()),
        })
    };
    timed(m.timeout, "login", login).await
}

/// Quotes a mailbox name for commands that do not quote it themselves.
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `1:3,7,9:10` from sorted UIDs.
pub fn uid_set(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = uids.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end = iter.next().unwrap_or(end);
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
    }
    parts.join(",")
}

/// What the server can do, read once per session.
#[derive(Debug, Clone, Copy)]
struct Capabilities {
    idle: bool,
    mv: bool,
    uidplus: bool,
}

/// A logged-in mailbox being worked on.
struct Worker<'a> {
    ctx: &'a Context,
    m: &'a MailboxSettings,
    session: Session,
    caps: Capabilities,
    /// Until when mail is taken to be still arriving (see `BUSY_FOR`).
    busy_until: Option<std::time::Instant>,
    /// The UIDVALIDITY the mailbox's start was read for, and its first UID
    /// that is not initial (see `initial`).
    start: Option<(u32, u32)>,
}

impl Worker<'_> {
    async fn ensure_folder(&mut self, folder: &str) -> Result<(), ImapError> {
        let t = self.m.timeout;
        let exists = timed(t, "LIST", async {
            let names: Vec<_> = self
                .session
                .list(Some(""), Some(&quoted(folder)))
                .await?
                .try_collect()
                .await?;
            Ok::<_, async_imap::error::Error>(!names.is_empty())
        })
        .await?;
        if !exists {
            info!(mailbox = %self.m.name, folder, "creating missing folder");
            timed(t, "CREATE", self.session.create(folder)).await?;
        }
        Ok(())
    }

    /// Files every message waiting in the folder. Returns how many.
    ///
    /// The messages that were there before mailgate first watched the
    /// mailbox (`initial`) are left alone (`new`) or filed first without
    /// their mail being sent (`silent`).
    async fn drain(&mut self) -> Result<usize, ImapError> {
        let t = self.m.timeout;
        let selected = timed(t, "SELECT", self.session.select(&self.m.folder)).await?;
        let validity = selected.uid_validity.unwrap_or(0);
        let first_uid = self.first_uid(validity, selected.uid_next).await?;
        let mut query = match self.m.post_action {
            PostAction::Seen => "UNSEEN UNDELETED",
            PostAction::Move | PostAction::Delete => "UNDELETED",
        }
        .to_owned();
        if self.m.initial == Initial::New && first_uid > 1 {
            // Not even listed: a folder of 5,000 old messages costs nothing.
            query.push_str(&format!(" UID {first_uid}:*"));
        }
        let mut uids: Vec<u32> = timed(t, "UID SEARCH", self.session.uid_search(&query))
            .await?
            .into_iter()
            .collect();
        uids.sort_unstable();
        let (silent, loud) = initial::split(&uids, self.m.initial, first_uid);
        let Some(&first) = silent.first().or(loud.first()) else {
            return Ok(0);
        };
        self.note_oldest_waiting(first).await?;
        self.ctx.monitor.expect_beat(&self.m.name, t * 4);
        let mut sizes: HashMap<u32, u32> = HashMap::with_capacity(uids.len());
        for some in silent
            .chunks(SIZES_PER_FETCH)
            .chain(loud.chunks(SIZES_PER_FETCH))
        {
            let fetched = fetch(&mut self.session, t, some, "(UID RFC822.SIZE)").await?;
            sizes.extend((fetched.iter()).filter_map(|f| Some((f.uid?, f.size.unwrap_or(0)))));
        }
        let mut filed = 0;
        if !silent.is_empty() {
            info!(mailbox = %self.m.name, messages = silent.len(), "initial = \"silent\": filing the mail found at the first watch without sending its mail");
            let ctx = self.ctx.silenced(initial::SILENT_REASON);
            filed += self.file_uids(&ctx, validity, &silent, &sizes).await?;
        }
        if !loud.is_empty() {
            filed += self.file_uids(self.ctx, validity, &loud, &sizes).await?;
        }
        crate::memory::trim();
        Ok(filed)
    }

    /// The first UID that is not initial, recorded in the database at the
    /// first SELECT ever; asked once per session and UIDVALIDITY.
    async fn first_uid(&mut self, validity: u32, uid_next: Option<u32>) -> Result<u32, ImapError> {
        if let Some((known, first_uid)) = self.start
            && known == validity
        {
            return Ok(first_uid);
        }
        let uid_next = match uid_next {
            Some(next) => next,
            // RFC 3501 6.3.1 requires UIDNEXT in the answer to SELECT; a
            // server without it gets the highest UID there, plus one.
            None => timed(self.m.timeout, "UID SEARCH", self.session.uid_search("ALL"))
                .await?
                .into_iter()
                .max()
                .map_or(1, |max| max.saturating_add(1)),
        };
        let start = self
            .ctx
            .store()
            .mailbox_start(&self.m.name, validity, uid_next)
            .await?;
        if start.recorded {
            info!(mailbox = %self.m.name, initial = self.m.initial.as_str(), first_uid = start.first_uid, "first watch of the mailbox recorded");
        }
        self.start = Some((validity, start.first_uid));
        Ok(start.first_uid)
    }

    /// Files these messages (sorted UIDs, with their sizes) through `ctx`:
    /// those over `max_message_size` from their header, the others in
    /// batches. Returns how many were filed.
    ///
    /// Batches go through a pipeline: while one batch is filed (one
    /// transaction), the next is fetched and parsed; a batch gets its
    /// post-action (one command) only once its transaction is committed.
    async fn file_uids(
        &mut self,
        ctx: &Context,
        validity: u32,
        uids: &[u32],
        sizes: &HashMap<u32, u32>,
    ) -> Result<usize, ImapError> {
        let t = self.m.timeout;
        let max = ctx.rules().max_message_size;
        // A message gone since the SEARCH has no size: it is left alone.
        let (oversize, normal): (Vec<u32>, Vec<u32>) = uids
            .iter()
            .filter(|u| sizes.contains_key(u))
            .partition(|u| sizes[u] as usize > max);
        let mut filed = self.file_oversize(ctx, validity, &oversize, sizes).await?;

        let batches = batches(&normal, sizes, BATCH, BATCH_BYTES);
        let m = self.m;
        // Each batch is filed by its own task: a SQLite transaction holds
        // its thread (see `Store::file_messages`), and meanwhile the next
        // batch is fetched and decided, then the previous one's
        // post-action is applied.
        let start_filing = |batch: Prepared| {
            let (ctx, m) = (ctx.clone(), m.clone());
            tokio::spawn(async move {
                let outcome = file_prepared(&ctx, &m, validity, &batch).await;
                (batch, outcome)
            })
        };
        let mut filing = match batches.first() {
            Some(batch) => Some(start_filing(
                prepare(&mut self.session, ctx, m, batch).await?,
            )),
            None => None,
        };
        let mut next_batch = batches.iter().skip(1);
        while let Some(task) = filing.take() {
            // Filing and fetching are each time-limited steps.
            ctx.monitor.expect_beat(&m.name, t * 6);
            let (next, next_failure) = match next_batch.next() {
                Some(batch) => match prepare(&mut self.session, ctx, m, batch).await {
                    Ok(next) => (Some(next), None),
                    Err(e) => (None, Some(e)),
                },
                None => (None, None),
            };
            let (mut current, outcome) = task
                .await
                .map_err(|e| StoreError::Other(format!("filing task failed: {e}")))?;
            // What was committed from a cut-off answer gets its
            // post-action on the next connection, as an already-stored
            // message.
            if let Some(e) = current.incomplete.take() {
                return Err(outcome.failure.map_or(e, Into::into));
            }
            if outcome.failure.is_none() {
                filing = next.map(start_filing);
            }
            // Only what is committed gets its post-action; the rest stays
            // in the folder for the next round.
            self.post_action(&outcome.done).await?;
            self.move_to(&outcome.quarantine, &m.quarantine_folder)
                .await?;
            filed += outcome.done.len() + outcome.quarantine.len();
            let bytes = (current.messages.iter())
                .map(|f| f.body().map_or(0, <[u8]>::len))
                .sum();
            drop(current);
            crate::memory::released(bytes);
            if let Some(e) = outcome.failure.map(ImapError::from).or(next_failure) {
                return Err(e);
            }
        }
        Ok(filed)
    }

    /// Messages over `max_message_size`: only their header is downloaded
    /// and kept, and they go to quarantine.
    async fn file_oversize(
        &mut self,
        ctx: &Context,
        validity: u32,
        uids: &[u32],
        sizes: &HashMap<u32, u32>,
    ) -> Result<usize, ImapError> {
        if uids.is_empty() {
            return Ok(0);
        }
        let mut quarantine = Vec::new();
        let mut failure = None;
        for f in fetch(
            &mut self.session,
            self.m.timeout,
            uids,
            "(UID BODY.PEEK[HEADER])",
        )
        .await?
        {
            let (Some(uid), Some(header)) = (f.uid, f.header()) else {
                continue;
            };
            let size = sizes.get(&uid).copied().unwrap_or(0) as usize;
            let started = std::time::Instant::now();
            let decision = intake::decide_oversize(header, size, &ctx.rules(), &self.m.defaults);
            let inbound = inbound(self.m, validity, uid, header, None);
            match ctx
                .file_decided(&self.m.name, &inbound, &decision, started)
                .await
            {
                Ok(filed) => {
                    warn!(mailbox = %self.m.name, uid, size, "message over max_message_size: quarantined undownloaded");
                    note(&self.m.name, uid, &filed);
                    quarantine.push(uid);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.move_to(&quarantine, &self.m.quarantine_folder).await?;
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(quarantine.len()),
        }
    }

    /// How long the oldest waiting message (the lowest UID) has been in the
    /// folder, by its INTERNALDATE, for the metrics.
    async fn note_oldest_waiting(&mut self, uid: u32) -> Result<(), ImapError> {
        let fetched = fetch(
            &mut self.session,
            self.m.timeout,
            &[uid],
            "(UID INTERNALDATE)",
        )
        .await?;
        if let Some(date) = fetched
            .first()
            .and_then(async_imap::types::Fetch::internal_date)
        {
            let age = (chrono::Utc::now() - date.with_timezone(&chrono::Utc))
                .to_std()
                .unwrap_or_default();
            self.ctx.monitor.oldest_waiting(&self.m.name, age);
        }
        Ok(())
    }

    async fn post_action(&mut self, uids: &[u32]) -> Result<(), ImapError> {
        match self.m.post_action {
            PostAction::Move => self.move_to(uids, &self.m.processed_folder.clone()).await,
            PostAction::Seen => self.add_flag(uids, "\\Seen").await,
            PostAction::Delete => {
                self.add_flag(uids, "\\Deleted").await?;
                self.expunge(uids).await
            }
        }
    }

    async fn add_flag(&mut self, uids: &[u32], flag: &str) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        let query = format!("+FLAGS.SILENT ({flag})");
        timed(self.m.timeout, "UID STORE", async {
            self.session
                .uid_store(&set, &query)
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        Ok(())
    }

    async fn expunge(&mut self, uids: &[u32]) -> Result<(), ImapError> {
        let set = uid_set(uids);
        let uidplus = self.caps.uidplus;
        timed(self.m.timeout, "EXPUNGE", async {
            // Without UIDPLUS a plain EXPUNGE also removes messages another
            // client flagged \Deleted; that is the best such a server offers.
            if uidplus {
                self.session
                    .uid_expunge(&set)
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            } else {
                self.session.expunge().await?.try_collect::<Vec<_>>().await
            }
        })
        .await?;
        Ok(())
    }

    async fn move_to(&mut self, uids: &[u32], folder: &str) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        if self.caps.mv {
            timed(
                self.m.timeout,
                "UID MOVE",
                self.session.uid_mv(&set, folder),
            )
            .await?;
            return Ok(());
        }
        timed(
            self.m.timeout,
            "UID COPY",
            self.session.uid_copy(&set, folder),
        )
        .await?;
        self.add_flag(uids, "\\Deleted").await?;
        self.expunge(uids).await
    }

    /// Waits for new mail: IDLE when the server offers it and it is wanted,
    /// else the poll interval. Returns true when shutting down.
    async fn wait(
        mut self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(Self, bool), ImapError> {
        let monitor = &self.ctx.monitor;
        if self
            .busy_until
            .is_some_and(|until| std::time::Instant::now() < until)
        {
            monitor.expect_beat(&self.m.name, BUSY_CHECK + self.m.timeout);
            let stop = sleep_or_shutdown(BUSY_CHECK, shutdown).await;
            return Ok((self, stop));
        }
        if !(self.m.idle && self.caps.idle) {
            monitor.expect_beat(&self.m.name, self.m.poll_interval + self.m.timeout);
            let stop = sleep_or_shutdown(self.m.poll_interval, shutdown).await;
            if !stop {
                timed(self.m.timeout, "NOOP", self.session.noop()).await?;
            }
            return Ok((self, stop));
        }
        let t = self.m.timeout;
        let mut idle = self.session.idle();
        timed(t, "IDLE", async {
            idle.init().await.map_err(|e| match e {
                // The server advertised IDLE but refuses it (async-imap
                // reports a tagged BAD as a refused connection): poll from
                // now on.
                async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
                    ImapError::IdleRefused(text)
                }
                async_imap::error::Error::Io(io)
                    if io.kind() == io::ErrorKind::ConnectionRefused =>
                {
                    ImapError::IdleRefused(io.to_string())
                }
                other => other.into(),
            })
        })
        .await
        .map_err(|e| match e {
            // A NO to IDLE is not recognised by async-imap, which then waits
            // for a continuation that never comes.
            ImapError::Timeout(_, "IDLE") => ImapError::IdleRefused("no answer to IDLE".into()),
            other => other,
        })?;
        let mut stop = false;
        monitor.expect_beat(&self.m.name, IDLE_RENEW + t * 2);
        monitor.idling(&self.m.name, true);
        {
            let (wait, _interrupt) = idle.wait_with_timeout(IDLE_SILENCE);
            tokio::select! {
                result = tokio::time::timeout(IDLE_RENEW, wait) => match result {
                    Ok(Ok(IdleResponse::NewData(_))) => debug!(mailbox = %self.m.name, "IDLE: new data"),
                    Ok(Ok(_)) | Err(_) => debug!(mailbox = %self.m.name, "IDLE: renewing"),
                    Ok(Err(e)) => return Err(e.into()),
                },
                _ = shutdown.changed() => stop = true,
            }
        }
        self.ctx.monitor.idling(&self.m.name, false);
        self.session = timed(t, "DONE", idle.done()).await?;
        Ok((self, stop))
    }
}

fn inbound<'r>(
    m: &'r MailboxSettings,
    validity: u32,
    uid: u32,
    raw: &'r [u8],
    digest: Option<&'r RawDigest>,
) -> Inbound<'r> {
    Inbound {
        source: SourceKind::Imap,
        mailbox: Some(&m.name),
        uidvalidity: Some(validity),
        uid: Some(uid),
        raw,
        digest,
    }
}

async fn fetch(
    session: &mut Session,
    limit: Duration,
    uids: &[u32],
    items: &str,
) -> Result<Vec<async_imap::types::Fetch>, ImapError> {
    let set = uid_set(uids);
    timed(limit, "UID FETCH", async {
        session
            .uid_fetch(&set, items)
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await
}

/// A batch fetched and decided, waiting to be filed.
struct Prepared {
    messages: Vec<async_imap::types::Fetch>,
    decisions: Vec<(intake::Decision, RawDigest)>,
    /// The server sent fewer messages than asked for.
    incomplete: Option<ImapError>,
    fetched_at: std::time::Instant,
}

/// Fetches a batch and decides its messages (on every core).
async fn prepare(
    session: &mut Session,
    ctx: &Context,
    m: &MailboxSettings,
    uids: &[u32],
) -> Result<Prepared, ImapError> {
    let started = std::time::Instant::now();
    let fetched = fetch(session, m.timeout, uids, "(UID BODY.PEEK[])").await?;
    let fetched_at = std::time::Instant::now();
    // A server that says BYE in the middle of a FETCH answer ends the
    // stream early without an error from the IMAP library.
    let fetched: Vec<_> = fetched
        .into_iter()
        .filter(|f| f.uid.is_some() && f.body().is_some())
        .collect();
    let incomplete = (fetched.len() < uids.len()).then(|| {
        ImapError::Protocol(format!(
            "the server sent {} of the {} messages asked for (connection closed?)",
            fetched.len(),
            uids.len()
        ))
    });
    let (messages, decisions) = ctx
        .decide_all(fetched, |f| f.body().unwrap_or_default(), &m.defaults)
        .await?;
    let decided_at = std::time::Instant::now();
    let contents: Vec<(&str, &[u8])> = messages
        .iter()
        .zip(&decisions)
        .flat_map(|(f, (decision, digest))| {
            let raw = (digest.raw_sha256.as_str(), f.body().unwrap_or_default());
            let attachments = match &decision.outcome {
                intake::Outcome::Ticket { ticket } => &ticket.attachments[..],
                _ => &[],
            };
            // One found in its raw message is stored as its place there,
            // when filed.
            let whole = attachments.iter().filter(|a| a.place.is_none());
            std::iter::once(raw).chain(whole.map(|a| (a.sha256.as_str(), &a.data[..])))
        })
        .collect();
    // Filing does it if this fails.
    if let Err(e) = ctx.store().store_contents_ahead(&contents).await {
        debug!(mailbox = %m.name, error = %e, "contents not stored ahead");
    }
    debug!(
        mailbox = %m.name,
        messages = messages.len(),
        fetch_ms = (fetched_at - started).as_millis() as u64,
        decide_ms = (decided_at - fetched_at).as_millis() as u64,
        store_ahead_ms = decided_at.elapsed().as_millis() as u64,
        "batch fetched and decided"
    );
    Ok(Prepared {
        messages,
        decisions,
        incomplete,
        fetched_at,
    })
}

/// What filing a batch came to: the UIDs to mark done, those to
/// quarantine, and the error that stopped it.
struct BatchOutcome {
    done: Vec<u32>,
    quarantine: Vec<u32>,
    failure: Option<StoreError>,
}

/// Files a prepared batch in one transaction.
async fn file_prepared(
    ctx: &Context,
    m: &MailboxSettings,
    validity: u32,
    batch: &Prepared,
) -> BatchOutcome {
    let messages: Vec<_> = batch
        .messages
        .iter()
        .zip(&batch.decisions)
        .map(|(f, (decision, digest))| {
            let uid = f.uid.unwrap_or_default();
            let raw = f.body().unwrap_or_default();
            (inbound(m, validity, uid, raw, Some(digest)), decision)
        })
        .collect();
    let (filed, failure) = ctx.file_all(&m.name, &messages, batch.fetched_at).await;
    debug!(
        mailbox = %m.name,
        messages = messages.len(),
        filed = filed.len(),
        ms = batch.fetched_at.elapsed().as_millis() as u64,
        "batch decided and filed"
    );
    let mut outcome = BatchOutcome {
        done: Vec::new(),
        quarantine: Vec::new(),
        failure,
    };
    for ((inbound, _), filed) in messages.iter().zip(filed) {
        let uid = inbound.uid.unwrap_or_default();
        note(&m.name, uid, &filed);
        match filed {
            Filed::Rejected { .. } | Filed::AlreadyStored { rejected: true, .. } => {
                outcome.quarantine.push(uid);
            }
            _ => outcome.done.push(uid),
        }
    }
    outcome
}

/// Consecutive batches of `uids`, each at most `count` messages whose sizes
/// add up to at most `bytes` (a larger message makes a batch of its own).
fn batches(uids: &[u32], sizes: &HashMap<u32, u32>, count: usize, bytes: usize) -> Vec<Vec<u32>> {
    let mut groups = Vec::new();
    let (mut start, mut total) = (0, 0usize);
    for (i, uid) in uids.iter().enumerate() {
        let size = sizes.get(uid).copied().unwrap_or(0) as usize;
        if i > start && (total + size > bytes || i - start == count) {
            groups.push(uids[start..i].to_vec());
            (start, total) = (i, 0);
        }
        total += size;
    }
    if start < uids.len() {
        groups.push(uids[start..].to_vec());
    }
    groups
}

fn note(mailbox: &str, uid: u32, filed: &Filed) {
    match filed {
        Filed::Ticket { key } => info!(mailbox, uid, ticket = %key, "ticket created"),
        Filed::Comment { key } => info!(mailbox, uid, ticket = %key, "comment added"),
        Filed::Ignored { reason } => info!(mailbox, uid, reason, "ignored"),
        Filed::Rejected { reason, .. } => warn!(mailbox, uid, reason, "rejected: quarantined"),
        Filed::Duplicate { of_message, .. } => {
            info!(mailbox, uid, of_message, "duplicate of a stored message");
        }
        Filed::AlreadyStored { .. } => {
            info!(mailbox, uid, "already stored: completing its post-action");
        }
    }
}

/// One connected session: prepare folders, then drain and wait until
/// shutdown (or once, with `once`).
async fn session(
    ctx: &Context,
    m: &MailboxSettings,
    shutdown: &mut watch::Receiver<bool>,
    once: bool,
    health: &mut Health,
    tokens: Option<&TokenSource>,
) -> Result<(), ImapError> {
    let mut session = match connect(m, tokens).await {
        Err(ImapError::Auth(e)) => {
            // A refused token may have been revoked early: fetch a new one
            // next time.
            if let Some(tokens) = tokens {
                tokens.invalidate().await;
            }
            return Err(ImapError::Auth(e));
        }
        other => other?,
    };
    let caps = timed(m.timeout, "CAPABILITY", session.capabilities()).await?;
    let caps = Capabilities {
        idle: caps.has_str("IDLE") && !health.idle_refused,
        mv: caps.has_str("MOVE"),
        uidplus: caps.has_str("UIDPLUS"),
    };
    let mode = if m.idle && caps.idle { "idle" } else { "poll" };
    info!(mailbox = %m.name, host = %m.host, mode, r#move = caps.mv, uidplus = caps.uidplus, "connected");
    ctx.monitor.connected(&m.name);
    if let Some(expiry) = tokens.and_then(TokenSource::expiry_unix) {
        metrics::gauge!(crate::service::names::TOKEN_EXPIRY, "mailbox" => m.name.clone())
            .set(expiry as f64);
    }
    let mut worker = Worker {
        ctx,
        m,
        session,
        caps,
        busy_until: None,
        start: None,
    };
    if m.post_action == PostAction::Move {
        worker.ensure_folder(&m.processed_folder).await?;
    }
    worker.ensure_folder(&m.quarantine_folder).await?;
    loop {
        let filed = worker.drain().await?;
        health.ok(&m.name);
        ctx.monitor.drained(&m.name);
        if filed > 0 {
            info!(mailbox = %m.name, filed, "folder drained");
            worker.busy_until = Some(std::time::Instant::now() + BUSY_FOR);
        }
        if once || *shutdown.borrow() {
            break;
        }
        let (next, stop) = worker.wait(shutdown).await?;
        worker = next;
        if stop {
            break;
        }
    }
    let _ = timed(m.timeout, "LOGOUT", worker.session.logout()).await;
    Ok(())
}

/// Connection state of a mailbox, logged once per change rather than at
/// every retry.
struct Health {
    backoff: Backoff,
    failing: bool,
    /// The server refused IDLE once: this mailbox polls from then on.
    idle_refused: bool,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(300)),
            failing: false,
            idle_refused: false,
        }
    }
}

impl Health {
    fn ok(&mut self, mailbox: &str) {
        self.backoff.reset();
        if self.failing {
            info!(mailbox, "mailbox working again");
            self.failing = false;
        }
    }

    /// Records a failure and returns how long to wait before trying again.
    fn failed(&mut self, mailbox: &str, error: &ImapError) -> Duration {
        let mut wait = self.backoff.next_wait();
        // A refused login is retried slowly (a server may lock the account
        // after repeated failures); a server that is away is tried at least
        // every minute, so that the mailbox works again soon after it is back.
        if !matches!(error, ImapError::Auth(_)) {
            wait = wait.min(Duration::from_secs(60));
        }
        if self.failing {
            debug!(mailbox, %error, ?wait, "still failing");
        } else {
            warn!(mailbox, %error, ?wait, "mailbox failing; retrying with back-off");
            self.failing = true;
        }
        wait
    }
}

/// Watches one mailbox until shutdown. With `once`, processes what is there
/// and returns, with the error if the mailbox could not be processed.
pub async fn run(
    ctx: Context,
    m: MailboxSettings,
    mut shutdown: watch::Receiver<bool>,
    once: bool,
) -> Result<(), ImapError> {
    let span = info_span!("mailbox", mailbox = %m.name);
    async move {
        let mut health = Health::default();
        let tokens = m.oauth.clone().map(TokenSource::new);
        ctx.monitor.register(&m.name, m.poll_interval);
        let result = loop {
            ctx.monitor.expect_beat(&m.name, m.timeout * 4);
            let result = session(&ctx, &m, &mut shutdown, once, &mut health, tokens.as_ref()).await;
            if let Err(e) = &result {
                ctx.monitor.disconnected(&m.name, &e.to_string());
            }
            match result {
                Ok(()) => break Ok(()),
                Err(e) if once => {
                    warn!(mailbox = %m.name, error = %e, "mailbox not processed");
                    break Err(e);
                }
                Err(ImapError::IdleRefused(text)) => {
                    warn!(mailbox = %m.name, response = %text, "the server refused IDLE; polling every {:?}", m.poll_interval);
                    health.idle_refused = true;
                }
                Err(e) => {
                    let wait = health.failed(&m.name, &e);
                    ctx.monitor.expect_beat(&m.name, wait);
                    if sleep_or_shutdown(wait, &mut shutdown).await {
                        break Ok(());
                    }
                }
            }
        };
        ctx.monitor.remove(&m.name);
        result
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn batches_are_bounded_in_count_and_bytes() {
        let sizes: HashMap<u32, u32> = [(1, 5), (2, 5), (3, 5), (4, 20), (5, 1)].into();
        let uids = [1, 2, 3, 4, 5];
        assert_eq!(
            batches(&uids, &sizes, 50, 10),
            vec![vec![1, 2], vec![3], vec![4], vec![5]]
        );
        assert_eq!(batches(&uids, &sizes, 50, 100), vec![uids.to_vec()]);
        assert_eq!(
            batches(&uids, &sizes, 2, 100),
            vec![vec![1, 2], vec![3, 4], vec![5]]
        );
        assert!(batches(&[], &sizes, 50, 10).is_empty());
    }

    #[test]
    fn mailbox_names_are_quoted() {
        assert_eq!(quoted("Processed"), "\"Processed\"");
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
