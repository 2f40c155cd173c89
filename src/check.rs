//! `mailgate check`: the configuration, then everything it points at, the
//! way `mailgate run` would use it: the database, each IMAP mailbox (connect,
//! TLS, login, capabilities, folders), each local folder and the SMTP server
//! (connect, EHLO, STARTTLS, AUTH). One line per item: `✓` passed, `!` works
//! but with a limitation (does not fail the run), `✗` failed, with a hint.
//!
//! Exit status: 0 when nothing failed (warnings allowed), 1 when something
//! did, 78 when the configuration is invalid (nothing else is checked then).
//!
//! The check changes nothing on IMAP servers unless `--create-folders` is
//! given; like `run`, it opens the database (a SQLite file is created and
//! pending migrations are applied) and may refresh an OAuth token (a rotated
//! refresh token is saved). The network parts are thin; the verdicts and
//! hints are pure functions tested below without a network.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::TryStreamExt;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use serde::Serialize;

use crate::commands::{exit, redact_url};
use crate::config::{
    self, ConfigError, ImapAuth, MailboxSettings, MaildirSettings, PostAction, Settings,
    SmtpSettings, TlsMode,
};
use crate::source::imap::{self, ImapError, Session};
use crate::source::oauth::{OAuthError, TokenSource};
use crate::store::{Store, StoreError};

/// Exit status when at least one item failed.
pub const FAILED: u8 = 1;

/// Limit on each SMTP step, as the daemon's transport (`outbox::send`).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Limit on opening the database (its pool waits 10 s for a connection).
const DATABASE_TIMEOUT: Duration = Duration::from_secs(30);

/// What `mailgate check` was asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// One JSON document on standard output instead of lines.
    pub json: bool,
    /// Create missing processed and quarantine folders on IMAP servers.
    pub create_folders: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Works.
    Pass,
    /// Works, with a limitation worth knowing; does not fail the check.
    Warn,
    /// Will not work.
    Fail,
}

/// One checked item: `✓ mailbox support: logged in as support (LOGIN)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub status: Status,
    /// What was checked: `database sqlite://…`, `mailbox support`.
    pub subject: String,
    /// What was found.
    pub text: String,
    /// What to do about it (warnings and failures).
    pub hint: Option<String>,
}

impl Item {
    pub fn pass(subject: &str, text: impl Into<String>) -> Item {
        Item {
            status: Status::Pass,
            subject: subject.to_owned(),
            text: text.into(),
            hint: None,
        }
    }
    pub fn warn(subject: &str, text: impl Into<String>, hint: impl Into<String>) -> Item {
        Item {
            status: Status::Warn,
            subject: subject.to_owned(),
            text: text.into(),
            hint: Some(hint.into()),
        }
    }
    pub fn fail(subject: &str, text: impl Into<String>, hint: Option<String>) -> Item {
        Item {
            status: Status::Fail,
            subject: subject.to_owned(),
            text: text.into(),
            hint,
        }
    }
}

/// One line: mark, subject, what was found, then ` — ` and the hint.
/// Only the mark is coloured, and only when `colour` (a terminal).
pub fn format_item(item: &Item, colour: bool) -> String {
    let (mark, code) = match item.status {
        Status::Pass => ("✓", "32"),
        Status::Warn => ("!", "33"),
        Status::Fail => ("✗", "31"),
    };
    let mut line = if colour {
        format!("\x1b[1;{code}m{mark}\x1b[0m")
    } else {
        mark.to_owned()
    };
    line.push(' ');
    line.push_str(&item.subject);
    line.push_str(": ");
    line.push_str(&item.text);
    if let Some(hint) = &item.hint {
        line.push_str(" — ");
        line.push_str(hint);
    }
    line
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// A line per item as soon as it is known.
    Text { colour: bool },
    /// One JSON document at the end.
    Json,
}

/// The items found so far, printed as they come in text mode.
#[derive(Debug)]
pub struct Report {
    items: Vec<Item>,
    output: Output,
}

impl Report {
    fn new(output: Output) -> Report {
        Report {
            items: Vec::new(),
            output,
        }
    }

    fn push(&mut self, item: Item) {
        if let Output::Text { colour } = self.output {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", format_item(&item, colour));
            let _ = out.flush();
        }
        self.items.push(item);
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    fn count(&self, status: Status) -> usize {
        self.items.iter().filter(|i| i.status == status).count()
    }

    /// 0 when nothing failed, warnings included.
    pub fn exit_status(&self) -> u8 {
        if self.count(Status::Fail) > 0 {
            FAILED
        } else {
            exit::OK
        }
    }

    /// `all 9 checks passed (1 warning)`, `2 of 9 checks failed`.
    pub fn summary(&self) -> String {
        let (failed, warned) = (self.count(Status::Fail), self.count(Status::Warn));
        let total = self.items.len();
        let warnings = match warned {
            0 => String::new(),
            1 => " (1 warning)".to_owned(),
            n => format!(" ({n} warnings)"),
        };
        if failed == 0 {
            format!("all {total} checks passed{warnings}")
        } else {
            format!("{failed} of {total} checks failed{warnings}")
        }
    }

    /// Prints the summary (or the JSON document) and returns `status`.
    fn finish(self, status: u8, summary: String) -> u8 {
        match self.output {
            Output::Text { .. } => println!("{summary}"),
            Output::Json => {
                let doc = serde_json::json!({
                    "ok": status == exit::OK,
                    "exit_status": status,
                    "summary": summary,
                    "checks": self.items,
                });
                println!("{doc}");
            }
        }
        status
    }
}

/// `mailgate check`: loads the configuration from `path` (as every command
/// does), then checks what it names. Returns the exit status.
pub fn main(path: Option<&Path>, options: Options) -> u8 {
    let output = if options.json {
        Output::Json
    } else {
        let colour = std::io::IsTerminal::is_terminal(&std::io::stdout())
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Output::Text { colour }
    };
    let mut report = Report::new(output);
    let settings = match config::load(path, None) {
        Ok(settings) => settings,
        Err(e) => {
            let n = config_items(&e, path).into_iter().fold(0, |n, item| {
                report.push(item);
                n + 1
            });
            let summary = format!(
                "the configuration has {n} problem{}: nothing else was checked",
                if n == 1 { "" } else { "s" }
            );
            return report.finish(exit::CONFIG, summary);
        }
    };
    report.push(Item::pass("configuration", config_source(path)));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailgate: cannot start the async runtime: {e}");
            return exit::SOFTWARE;
        }
    };
    runtime.block_on(check_all(&settings, options, &mut report));
    let (status, summary) = (report.exit_status(), report.summary());
    report.finish(status, summary)
}

/// Where the configuration came from, for the first line.
fn config_source(path: Option<&Path>) -> String {
    match path {
        Some(path) => format!("{} is valid", path.display()),
        None if Path::new(config::DEFAULT_PATH).is_file() => {
            format!("{} is valid", config::DEFAULT_PATH)
        }
        None => "no file: built-in defaults and MAILGATE__… variables".to_owned(),
    }
}

/// A `✗` per configuration problem, each naming its key.
pub fn config_items(error: &ConfigError, path: Option<&Path>) -> Vec<Item> {
    match error {
        ConfigError::Invalid(problems) => problems
            .iter()
            .map(|p| Item::fail(&format!("config {}", p.key), p.message.clone(), None))
            .collect(),
        ConfigError::Read(e) => {
            let subject = match path {
                Some(path) => format!("config {}", path.display()),
                None => "config".to_owned(),
            };
            vec![Item::fail(
                &subject,
                format!("cannot read it: {e}"),
                Some("fix the file (TOML syntax, known keys, value types)".to_owned()),
            )]
        }
    }
}

/// Everything after the configuration, in the order `run` uses it.
pub async fn check_all(settings: &Settings, options: Options, report: &mut Report) {
    check_database(settings, report).await;
    if let Some(dir) = &settings.templates_dir {
        let subject = format!("templates {}", dir.display());
        match crate::outbox::render::Templates::load(dir) {
            Ok(_) => report.push(Item::pass(&subject, "every template renders")),
            Err(e) => report.push(Item::fail(
                &subject,
                e.to_string(),
                Some("fix the template, or remove the file to use the built-in one".into()),
            )),
        }
    }
    for m in &settings.mailboxes {
        check_mailbox(m, options, report).await;
    }
    if settings.maildirs.is_empty() && settings.mailboxes.is_empty() {
        for item in maildir_items(&crate::daemon::default_inbox()) {
            report.push(item);
        }
    }
    for d in &settings.maildirs {
        for item in maildir_items(d) {
            report.push(item);
        }
    }
    match &settings.smtp {
        Some(smtp) => check_smtp(smtp, report).await,
        None => report.push(outbox_item(&settings.outbox_directory)),
    }
}

// ---------------------------------------------------------------------------
// Database.

async fn check_database(settings: &Settings, report: &mut Report) {
    let subject = format!("database {}", redact_url(&settings.database.url));
    let opened = tokio::time::timeout(
        DATABASE_TIMEOUT,
        Store::open(&settings.database.url, &settings.tickets.key_prefix),
    )
    .await;
    match opened {
        Ok(Ok(store)) => {
            store.close().await;
            report.push(Item::pass(&subject, "connected, schema up to date"));
        }
        Ok(Err(e)) => report.push(Item::fail(&subject, e.to_string(), database_hint(&e))),
        Err(_) => report.push(Item::fail(
            &subject,
            format!(
                "no answer within {}",
                humantime::format_duration(DATABASE_TIMEOUT)
            ),
            Some("check database.url (host and port) and that the server runs".into()),
        )),
    }
}

/// What to do about a database that cannot be opened.
pub fn database_hint(error: &StoreError) -> Option<String> {
    let text = error.to_string().to_lowercase();
    let hint = if text.contains("password authentication failed")
        || text.contains("authentication failed")
    {
        "wrong database username or password (database.url)"
    } else if text.contains("connection refused") {
        "nothing answers at the host and port of database.url: is the server running?"
    } else if text.contains("does not exist") && text.contains("database") {
        "the database does not exist: create it (createdb), then run again"
    } else if text.contains("unable to open database file")
        || text.contains("cannot create the folder")
        || text.contains("readonly")
        || text.contains("permission denied")
    {
        "the SQLite file or its folder cannot be written: check the path and permissions"
    } else if text.contains("previously applied but is missing")
        || text.contains("was previously applied")
    {
        "the database was upgraded by a newer mailgate: run that version"
    } else {
        match error {
            StoreError::Config(_) => "check database.url",
            StoreError::Unavailable(_) => "the database cannot be reached: check database.url",
            _ => return None,
        }
    };
    Some(hint.to_owned())
}

// ---------------------------------------------------------------------------
// IMAP.

/// Where a connection attempt stopped: before the server accepted the
/// connection (TCP, TLS, greeting, STARTTLS) or at the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapStage {
    Connect,
    Login,
}

/// The stage, text and hint for a failed `imap::connect`.
pub fn imap_failure(m: &MailboxSettings, error: &ImapError) -> (ImapStage, String, Option<String>) {
    let address = format!("{}:{}", m.host, m.port);
    match error {
        ImapError::Connect(text) => (
            ImapStage::Connect,
            format!("cannot connect to {text}"),
            Some(connect_hint(
                text,
                &m.host,
                m.port,
                "IMAP: 993 with tls = \"implicit\", 143 with \"starttls\" or \"none\"",
            )),
        ),
        ImapError::Tls(text) => (
            ImapStage::Connect,
            format!("TLS with {address} failed: {text}"),
            Some(tls_hint(
                text,
                &m.host,
                "set ca_file or fix the server certificate",
            )),
        ),
        ImapError::Timeout(limit, what) => {
            let text = format!(
                "no answer from {address} within {} ({what})",
                humantime::format_duration(*limit)
            );
            let hint = match (*what, m.tls) {
                ("login", _) => {
                    return (
                        ImapStage::Login,
                        text,
                        Some("the server took the connection but not the login: try again, or raise timeout".into()),
                    );
                }
                ("greeting", TlsMode::None | TlsMode::StartTls) => {
                    "the server says nothing: a TLS port? then set tls = \"implicit\""
                }
                ("TLS handshake", _) => {
                    "no TLS answer: if the port speaks plain IMAP, set tls = \"starttls\""
                }
                _ => "check host, port and firewalls, or raise timeout",
            };
            (ImapStage::Connect, text, Some(hint.to_owned()))
        }
        ImapError::Auth(text) if text.starts_with("no OAuth access token") => {
            (ImapStage::Login, text.clone(), None)
        }
        ImapError::Auth(text) => {
            let hint = if m.auth == ImapAuth::XOAuth2 {
                format!(
                    "token refused: the access token is not valid for {} (wrong user, expired, or without the IMAP scope)",
                    m.username
                )
            } else {
                format!("wrong username or password (username {})", m.username)
            };
            (
                ImapStage::Login,
                format!("login refused: {}", server_says(text)),
                Some(hint),
            )
        }
        ImapError::Protocol(text) if m.tls == TlsMode::StartTls && text.contains("STARTTLS") => (
            ImapStage::Connect,
            format!("STARTTLS refused: {text}"),
            Some("the server offers no STARTTLS: use its TLS port with tls = \"implicit\"".into()),
        ),
        other => (
            ImapStage::Connect,
            server_says(&other.to_string()),
            Some(format!(
                "{address} does not behave like an IMAP server: check host, port and tls"
            )),
        ),
    }
}

/// What to do when nothing answers at host:port.
fn connect_hint(text: &str, host: &str, port: u16, ports: &str) -> String {
    let text = text.to_lowercase();
    if text.contains("refused") {
        format!("nothing listens on {host}:{port}: check host and port ({ports})")
    } else if text.contains("lookup") || text.contains("not known") || text.contains("resolve") {
        format!("host name {host} not found: check host")
    } else {
        format!("{host}:{port} cannot be reached: check host, port and firewalls")
    }
}

/// What to do about a failed TLS handshake. `remedy` says how to trust a
/// private CA where this connection can (`ca_file` for IMAP).
pub fn tls_hint(text: &str, host: &str, remedy: &str) -> String {
    let lower = text.to_lowercase();
    if lower.contains("unknownissuer")
        || lower.contains("unknown issuer")
        || lower.contains("unknownca")
    {
        format!("certificate not trusted: {remedy}")
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        format!(
            "the certificate is not issued for {host}: connect with the name on the certificate, or fix the certificate"
        )
    } else if lower.contains("expired") {
        "the server certificate has expired: renew it".to_owned()
    } else if lower.contains("not valid yet") || lower.contains("notvalidyet") {
        "the server certificate is not valid yet: check the clocks".to_owned()
    } else if lower.contains("ca_file") {
        "ca_file must hold PEM certificates".to_owned()
    } else if lower.contains("corrupt message")
        || lower.contains("invalidcontenttype")
        || lower.contains("wrong version")
        || lower.contains("invalidmessage")
    {
        "the server does not speak TLS on this port: check tls and port".to_owned()
    } else {
        "check tls and port, and the server certificate".to_owned()
    }
}

async fn check_mailbox(m: &MailboxSettings, options: Options, report: &mut Report) {
    let subject = format!("mailbox {}", m.name);
    let tokens = m.oauth.clone().map(TokenSource::new);
    if let Some(tokens) = &tokens {
        match tokio::time::timeout(m.timeout, tokens.access_token()).await {
            Ok(Ok(_)) => report.push(Item::pass(&subject, "OAuth access token obtained")),
            Ok(Err(e)) => {
                report.push(Item::fail(
                    &subject,
                    format!("no OAuth access token: {e}"),
                    oauth_hint(&e),
                ));
                return;
            }
            Err(_) => {
                report.push(Item::fail(
                    &subject,
                    format!(
                        "no OAuth access token within {}",
                        humantime::format_duration(m.timeout)
                    ),
                    Some("the token endpoint or command does not answer".into()),
                ));
                return;
            }
        }
    }
    let transport = match m.tls {
        TlsMode::Implicit => "TLS",
        TlsMode::StartTls => "STARTTLS",
        TlsMode::None => "plain text",
    };
    let connected = Item::pass(
        &subject,
        format!("connected to {}:{} ({transport})", m.host, m.port),
    );
    let mut session = match imap::connect(m, tokens.as_ref()).await {
        Ok(session) => {
            report.push(connected);
            let how = match m.auth {
                ImapAuth::Login => "LOGIN",
                ImapAuth::Plain => "AUTHENTICATE PLAIN",
                ImapAuth::XOAuth2 => "AUTHENTICATE XOAUTH2",
            };
            report.push(Item::pass(
                &subject,
                format!("logged in as {} ({how})", m.username),
            ));
            session
        }
        Err(e) => {
            let (stage, text, hint) = imap_failure(m, &e);
            if stage == ImapStage::Login {
                report.push(connected);
            }
            report.push(Item::fail(&subject, text, hint));
            return;
        }
    };
    if m.tls_insecure && m.tls != TlsMode::None {
        report.push(Item::warn(
            &subject,
            "the server certificate is NOT verified (tls_insecure = true)",
            "anyone on the path can read the password: set ca_file instead",
        ));
    }
    let t = m.timeout;
    let caps = match tokio::time::timeout(t, session.capabilities()).await {
        Ok(Ok(caps)) => Capabilities {
            idle: caps.has_str("IDLE"),
            mv: caps.has_str("MOVE"),
            uidplus: caps.has_str("UIDPLUS"),
        },
        Ok(Err(e)) => {
            report.push(Item::fail(
                &subject,
                format!("CAPABILITY failed: {e}"),
                None,
            ));
            return;
        }
        Err(_) => {
            report.push(Item::fail(
                &subject,
                "no answer to CAPABILITY",
                Some("raise timeout".into()),
            ));
            return;
        }
    };
    for item in capability_items(m, caps) {
        report.push(item);
    }
    check_folders(m, options, &mut session, report).await;
    let _ = tokio::time::timeout(t, session.logout()).await;
}

fn oauth_hint(error: &OAuthError) -> Option<String> {
    Some(
        match error {
            OAuthError::Refused(_) => return None,
            OAuthError::Endpoint(_) => {
                "the token endpoint cannot be reached: check oauth_token_url"
            }
            OAuthError::File(..) => "the token file cannot be read: check the path and permissions",
            OAuthError::Command(_) => "run oauth_access_token_command by hand to see why it fails",
        }
        .to_owned(),
    )
}

/// What the server advertises after login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub idle: bool,
    pub mv: bool,
    pub uidplus: bool,
}

/// IDLE, MOVE and UIDPLUS, each `✓` or `!` with what mailgate does without
/// it (see `source::imap`: polling, COPY + EXPUNGE, plain EXPUNGE). Missing
/// capabilities are warnings: mailgate works without them.
pub fn capability_items(m: &MailboxSettings, caps: Capabilities) -> Vec<Item> {
    let subject = format!("mailbox {}", m.name);
    let poll = humantime::format_duration(m.poll_interval);
    let idle = match (caps.idle, m.idle) {
        (true, true) => Item::pass(&subject, "IDLE: new mail is fetched as soon as it arrives"),
        (true, false) => Item::pass(
            &subject,
            format!("IDLE offered, not used (idle = false): polls every {poll}"),
        ),
        (false, true) => Item::warn(
            &subject,
            "no IDLE",
            format!("mailgate polls every {poll} (poll_interval)"),
        ),
        (false, false) => Item::pass(
            &subject,
            format!("no IDLE, not used (idle = false): polls every {poll}"),
        ),
    };
    let moving = m.post_action == PostAction::Move;
    let mv = match (caps.mv, moving) {
        (true, _) => Item::pass(&subject, "MOVE"),
        (false, true) => Item::warn(
            &subject,
            "no MOVE",
            format!(
                "processed mail goes to {} by UID COPY, then \\Deleted and EXPUNGE",
                m.processed_folder
            ),
        ),
        (false, false) => Item::pass(&subject, "no MOVE, not needed with this post_action"),
    };
    let expunges = m.post_action == PostAction::Delete || (moving && !caps.mv);
    let uidplus = match (caps.uidplus, expunges) {
        (true, _) => Item::pass(&subject, "UIDPLUS"),
        (false, true) => Item::warn(
            &subject,
            "no UIDPLUS",
            "a plain EXPUNGE also removes messages another client flagged \\Deleted in the folder",
        ),
        (false, false) => Item::pass(&subject, "no UIDPLUS, not needed (nothing is expunged)"),
    };
    vec![idle, mv, uidplus]
}

/// What the server said, out of async-imap's renderings of a NO or BAD
/// (`code: …, info: Some("…")`, `outcome: Outcome { …, information:
/// Some("…") }`); other text as it is.
pub fn server_says(text: &str) -> String {
    let found = ["info: Some(\"", "information: Some(\""]
        .iter()
        .find_map(|start| text.find(start).map(|at| at + start.len()));
    let Some(at) = found else {
        return text.to_owned();
    };
    let rest = &text[at..];
    let said = rest.rfind("\")").map_or(rest, |end| &rest[..end]);
    said.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// Quotes a mailbox name for LIST, as `source::imap` does.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

async fn folder_exists(session: &mut Session, folder: &str, t: Duration) -> Result<bool, String> {
    let listed = tokio::time::timeout(t, async {
        let names: Vec<_> = session
            .list(Some(""), Some(&quoted(folder)))
            .await?
            .try_collect()
            .await?;
        Ok::<_, async_imap::error::Error>(!names.is_empty())
    })
    .await;
    match listed {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("no answer to LIST".to_owned()),
    }
}

/// The server's folders, for the hint when the watched one is missing.
async fn folder_names(session: &mut Session, t: Duration) -> Vec<String> {
    let listed = tokio::time::timeout(t, async {
        let names: Vec<_> = session
            .list(Some(""), Some("*"))
            .await?
            .try_collect()
            .await?;
        Ok::<_, async_imap::error::Error>(names.iter().map(|n| n.name().to_owned()).collect())
    })
    .await;
    match listed {
        Ok(Ok(names)) => names,
        _ => Vec::new(),
    }
}

async fn check_folders(
    m: &MailboxSettings,
    options: Options,
    session: &mut Session,
    report: &mut Report,
) {
    let subject = format!("mailbox {}", m.name);
    let t = m.timeout;
    match tokio::time::timeout(t, session.examine(&m.folder)).await {
        Ok(Ok(mailbox)) => report.push(Item::pass(
            &subject,
            format!("folder {}: {} message(s) waiting", m.folder, mailbox.exists),
        )),
        Ok(Err(e)) => {
            let names = folder_names(session, t).await;
            report.push(Item::fail(
                &subject,
                format!(
                    "folder {} cannot be opened: {}",
                    m.folder,
                    server_says(&e.to_string())
                ),
                Some(missing_folder_hint(&names)),
            ));
        }
        Err(_) => report.push(Item::fail(
            &subject,
            format!("no answer to EXAMINE {}", m.folder),
            Some("raise timeout".into()),
        )),
    }
    let mut needed = Vec::new();
    if m.post_action == PostAction::Move {
        needed.push(("processed_folder", &m.processed_folder));
    }
    needed.push(("quarantine_folder", &m.quarantine_folder));
    for (key, folder) in needed {
        match folder_exists(session, folder, t).await {
            Ok(true) => report.push(Item::pass(&subject, format!("folder {folder} exists ({key})"))),
            Ok(false) if options.create_folders => {
                match tokio::time::timeout(t, session.create(folder)).await {
                    Ok(Ok(())) => report.push(Item::pass(&subject, format!("folder {folder} created ({key})"))),
                    Ok(Err(e)) => report.push(Item::fail(
                        &subject,
                        format!(
                            "folder {folder} cannot be created: {}",
                            server_says(&e.to_string())
                        ),
                        Some(format!("some servers want folders under INBOX (\"INBOX.{folder}\" or \"INBOX/{folder}\"): set {key}")),
                    )),
                    Err(_) => report.push(Item::fail(&subject, format!("no answer to CREATE {folder}"), None)),
                }
            }
            Ok(false) => report.push(Item::warn(
                &subject,
                format!("folder {folder} missing ({key})"),
                "`mailgate run` creates it at start; `mailgate check --create-folders` creates it now",
            )),
            Err(e) => report.push(Item::fail(&subject, format!("LIST {folder} failed: {e}"), None)),
        }
    }
}

/// `folder missing: …`, with the server's folders when they are few.
pub fn missing_folder_hint(names: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut hint = "folder missing: check folder (names are case-sensitive)".to_owned();
    if !names.is_empty() {
        let mut shown: Vec<&str> = names.iter().take(SHOWN).map(String::as_str).collect();
        if names.len() > SHOWN {
            shown.push("…");
        }
        hint.push_str("; the server has: ");
        hint.push_str(&shown.join(", "));
    }
    hint
}

// ---------------------------------------------------------------------------
// Local folders.

/// Whether `dir` takes new files: a probe file is written and removed.
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".mailgate-check.{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// The nearest folder that exists, `path` itself included.
fn existing_ancestor(path: &Path) -> Option<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    absolute
        .ancestors()
        .find(|p| p.is_dir())
        .map(Path::to_owned)
}

#[cfg(unix)]
fn device(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(existing_ancestor(path)?)
        .ok()
        .map(|m| m.dev())
}

#[cfg(not(unix))]
fn device(_: &Path) -> Option<u64> {
    None
}

/// A folder mailgate writes into, created when missing (by `run` at start
/// for the watched folder, at first use for the others).
fn local_folder_item(subject: &str, what: &str, path: &Path, when_missing: &str) -> Item {
    let shown = path.display();
    if path.is_dir() {
        return match writable(path) {
            Ok(()) => Item::pass(subject, format!("{what} {shown} is writable")),
            Err(e) => Item::fail(
                subject,
                format!("{what} {shown} is not writable: {e}"),
                Some("give the user running mailgate write access".into()),
            ),
        };
    }
    if path.exists() {
        return Item::fail(subject, format!("{what} {shown} is not a folder"), None);
    }
    match existing_ancestor(path) {
        Some(parent) => match writable(&parent) {
            Ok(()) => Item::pass(subject, format!("{what} {shown} missing: {when_missing}")),
            Err(e) => Item::fail(
                subject,
                format!(
                    "{what} {shown} missing and {} is not writable: {e}",
                    parent.display()
                ),
                Some("create it, or give the user running mailgate write access".into()),
            ),
        },
        None => Item::fail(subject, format!("{what} {shown} cannot be created"), None),
    }
}

/// The watched folder, then where its messages go: each must be writable
/// (or creatable), and on the same file system, since messages are moved
/// with a rename.
pub fn maildir_items(d: &MaildirSettings) -> Vec<Item> {
    let subject = format!("maildir {}", d.name);
    let mut items = Vec::new();
    let watched = local_folder_item(
        &subject,
        "folder",
        &d.path,
        "`mailgate run` creates it at start",
    );
    let watched_ok = watched.status == Status::Pass;
    if watched_ok && d.path.is_dir() {
        let maildir = d.path.join("new").is_dir() || d.path.join("cur").is_dir();
        let kind = if maildir {
            "Maildir"
        } else {
            "folder of .eml files"
        };
        items.push(Item::pass(
            &subject,
            format!("{} is a {kind}, writable", d.path.display()),
        ));
    } else {
        items.push(watched);
    }
    for (what, path) in [
        ("processed_path", &d.processed_path),
        ("quarantine_path", &d.quarantine_path),
    ] {
        let item = local_folder_item(&subject, what, path, "created at first use");
        if item.status == Status::Pass
            && let (Some(a), Some(b)) = (device(&d.path), device(path))
            && a != b
        {
            items.push(Item::fail(
                &subject,
                format!("{what} {} is on another file system than {}", path.display(), d.path.display()),
                Some("messages are moved with a rename, which fails across file systems: keep both on one".into()),
            ));
            continue;
        }
        items.push(item);
    }
    items
}

/// Without `[smtp]`: where mail is written instead.
pub fn outbox_item(dir: &Path) -> Item {
    let mut item = local_folder_item("outbox", "folder", dir, "created at the first mail");
    if item.status == Status::Pass {
        item.subject = "smtp".to_owned();
        item.text = format!(
            "no SMTP server: mail is written to {} as .eml files",
            dir.display()
        );
    }
    item
}

// ---------------------------------------------------------------------------
// SMTP.

/// The step of an SMTP session that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpStage {
    /// TCP, implicit TLS, greeting and EHLO.
    Connect,
    StartTls,
    Auth,
}

/// What to do about a failed SMTP step; `text` is lettre's error with its
/// sources.
pub fn smtp_hint(s: &SmtpSettings, stage: SmtpStage, text: &str) -> String {
    let lower = text.to_lowercase();
    let tls_failure = lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("tls")
        || lower.contains("corrupt message")
        || lower.contains("invalidcontenttype");
    match stage {
        SmtpStage::Auth if lower.contains("no compatible authentication mechanism") => {
            if s.tls == TlsMode::None {
                "the server offers no AUTH PLAIN or LOGIN here; many offer it only after STARTTLS: set smtp.tls = \"starttls\"".to_owned()
            } else {
                "the server offers no AUTH PLAIN or LOGIN".to_owned()
            }
        }
        SmtpStage::Auth if lower.contains("(535") || lower.contains("(534") || lower.contains("(530") => {
            format!("wrong SMTP username or password (username {})", s.username.as_deref().unwrap_or(""))
        }
        SmtpStage::Auth if lower.contains("transient") => {
            "the server refused AUTH for now: try again later".to_owned()
        }
        SmtpStage::Auth => format!(
            "AUTH failed: check smtp.username and smtp.password (username {})",
            s.username.as_deref().unwrap_or("")
        ),
        SmtpStage::StartTls if lower.contains("starttls is not supported") => {
            "the server does not offer STARTTLS: check smtp.port, or use tls = \"implicit\" with port 465".to_owned()
        }
        _ if tls_failure && !lower.contains("connection refused") => tls_hint(
            text,
            &s.host,
            "add its CA to the system's trusted certificates, or fix the server certificate",
        ),
        _ if lower.contains("timed out") || lower.contains("no answer") => {
            if s.tls == TlsMode::Implicit {
                "no answer: if this port speaks plain SMTP, set smtp.tls = \"starttls\" (587) or check the port".to_owned()
            } else {
                format!("no answer from {}:{}: a TLS port? then set smtp.tls = \"implicit\"; else check host, port and firewalls", s.host, s.port)
            }
        }
        _ => connect_hint(
            text,
            &s.host,
            s.port,
            "SMTP: 465 with tls = \"implicit\", 587 with \"starttls\", 25 with \"none\"",
        ),
    }
}

/// The error with its sources: `Connection error: …: …`.
fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = e.source();
    }
    text
}

/// Runs an SMTP step with the daemon's limit.
async fn smtp_step<T>(
    fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(SMTP_TIMEOUT, fut).await {
        Ok(result) => result.map_err(|e| error_text(&e)),
        Err(_) => Err(format!(
            "no answer within {}",
            humantime::format_duration(SMTP_TIMEOUT)
        )),
    }
}

/// Connect, EHLO, STARTTLS and AUTH, each on its own line, with the TLS
/// parameters, client name and mechanisms of the daemon's transport
/// (`Mailer::smtp`: lettre's `relay`/`starttls_relay` defaults).
async fn check_smtp(s: &SmtpSettings, report: &mut Report) {
    let subject = format!("smtp {}:{}", s.host, s.port);
    let hello = ClientId::default();
    let tls = match s.tls {
        TlsMode::None => None,
        TlsMode::Implicit | TlsMode::StartTls => match TlsParameters::new(s.host.clone()) {
            Ok(tls) => Some(tls),
            Err(e) => {
                report.push(Item::fail(
                    &subject,
                    format!("TLS set-up: {}", error_text(&e)),
                    None,
                ));
                return;
            }
        },
    };
    let implicit = if s.tls == TlsMode::Implicit {
        tls.clone()
    } else {
        None
    };
    let connected = smtp_step(AsyncSmtpConnection::connect_tokio1(
        (s.host.as_str(), s.port),
        Some(SMTP_TIMEOUT),
        &hello,
        implicit,
        None,
    ))
    .await;
    let mut conn = match connected {
        Ok(conn) => conn,
        Err(text) => {
            let hint = smtp_hint(s, SmtpStage::Connect, &text);
            report.push(Item::fail(
                &subject,
                format!("cannot connect: {text}"),
                Some(hint),
            ));
            return;
        }
    };
    let transport = if s.tls == TlsMode::Implicit {
        "TLS"
    } else {
        "plain text"
    };
    report.push(Item::pass(
        &subject,
        format!(
            "connected ({transport}), EHLO answered by {}",
            conn.server_info().name()
        ),
    ));
    if s.tls == TlsMode::StartTls {
        let Some(tls) = tls else { return };
        match smtp_step(conn.starttls(tls, &hello)).await {
            Ok(()) => report.push(Item::pass(&subject, "STARTTLS, certificate verified")),
            Err(text) => {
                let hint = smtp_hint(s, SmtpStage::StartTls, &text);
                report.push(Item::fail(
                    &subject,
                    format!("STARTTLS failed: {text}"),
                    Some(hint),
                ));
                return;
            }
        }
    }
    match (&s.username, &s.password) {
        (Some(user), Some(password)) => {
            let mechanism = conn.server_info().get_auth_mechanism(DEFAULT_MECHANISMS);
            let credentials = Credentials::new(user.clone(), password.expose().to_owned());
            match smtp_step(conn.auth(DEFAULT_MECHANISMS, &credentials)).await {
                Ok(_) => report.push(Item::pass(
                    &subject,
                    format!(
                        "AUTH {} as {user}",
                        mechanism.map(|m| m.to_string()).unwrap_or_default()
                    ),
                )),
                Err(text) => {
                    let hint = smtp_hint(s, SmtpStage::Auth, &text);
                    report.push(Item::fail(
                        &subject,
                        format!("AUTH refused: {text}"),
                        Some(hint),
                    ));
                }
            }
        }
        (Some(_), None) => report.push(Item::warn(
            &subject,
            "smtp.username without a password: mail is sent without AUTH",
            "set smtp.password or smtp.password_file",
        )),
        (None, _) => report.push(Item::pass(&subject, "no AUTH (smtp.username not set)")),
    }
    let _ = tokio::time::timeout(SMTP_TIMEOUT, conn.quit()).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::intake::MailboxDefaults;

    fn mailbox() -> MailboxSettings {
        MailboxSettings {
            name: "support".into(),
            address: None,
            host: "imap.example.com".into(),
            port: 993,
            tls: TlsMode::Implicit,
            username: "support@example.com".into(),
            password: Some(Secret::new("pw")),
            folder: "INBOX".into(),
            processed_folder: "Processed".into(),
            quarantine_folder: "Quarantine".into(),
            idle: true,
            poll_interval: Duration::from_secs(60),
            post_action: PostAction::Move,
            auth: ImapAuth::Login,
            ca_file: None,
            tls_insecure: false,
            timeout: Duration::from_secs(20),
            oauth: None,
            defaults: MailboxDefaults::default(),
        }
    }

    fn smtp() -> SmtpSettings {
        SmtpSettings {
            host: "smtp.example.com".into(),
            port: 587,
            tls: TlsMode::StartTls,
            username: Some("mailgate".into()),
            password: Some(Secret::new("pw")),
            from: "support@example.com".into(),
            connections: 4,
        }
    }

    #[test]
    fn lines_have_mark_subject_text_and_hint() {
        let item = Item::fail(
            "mailbox support",
            "login refused",
            Some("wrong username or password (username support@example.com)".into()),
        );
        assert_eq!(
            format_item(&item, false),
            "✗ mailbox support: login refused — wrong username or password (username support@example.com)"
        );
        assert_eq!(
            format_item(
                &Item::pass("database sqlite://x.db", "schema up to date"),
                false
            ),
            "✓ database sqlite://x.db: schema up to date"
        );
        assert_eq!(
            format_item(&Item::warn("mailbox a", "no IDLE", "polls"), false),
            "! mailbox a: no IDLE — polls"
        );
        let coloured = format_item(&item, true);
        assert!(
            coloured.starts_with("\x1b[1;31m✗\x1b[0m mailbox support"),
            "{coloured}"
        );
        assert_eq!(
            coloured.matches('\x1b').count(),
            2,
            "only the mark is coloured"
        );
    }

    #[test]
    fn warnings_pass_failures_fail() {
        let mut report = Report::new(Output::Json);
        report.push(Item::pass("a", "ok"));
        report.push(Item::warn("b", "meh", "fine"));
        assert_eq!(report.exit_status(), 0);
        assert_eq!(report.summary(), "all 2 checks passed (1 warning)");
        report.push(Item::fail("c", "broken", None));
        assert_eq!(report.exit_status(), FAILED);
        assert_eq!(report.summary(), "1 of 3 checks failed (1 warning)");
        let json = serde_json::to_value(report.items()).unwrap();
        assert_eq!(json[1]["status"], "warn");
        assert_eq!(json[2]["hint"], serde_json::Value::Null);
    }

    #[test]
    fn every_configuration_problem_is_an_item_with_its_key() {
        let error = ConfigError::Invalid(vec![
            config::Problem {
                key: "mailboxes[0].tls".into(),
                message: "\"ssl\" is not one of implicit, starttls, none".into(),
            },
            config::Problem {
                key: "database.url".into(),
                message: "bad".into(),
            },
        ]);
        let lines: Vec<String> = config_items(&error, None)
            .iter()
            .map(|i| format_item(i, false))
            .collect();
        assert_eq!(
            lines,
            [
                "✗ config mailboxes[0].tls: \"ssl\" is not one of implicit, starttls, none",
                "✗ config database.url: bad"
            ]
        );
    }

    #[test]
    fn imap_failures_say_where_and_what_to_do() {
        let m = mailbox();
        let (stage, text, hint) = imap_failure(
            &m,
            &ImapError::Auth(
                "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")".into(),
            ),
        );
        assert_eq!(stage, ImapStage::Login);
        assert_eq!(
            text,
            "login refused: [AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(
            hint.unwrap(),
            "wrong username or password (username support@example.com)"
        );

        let oauth = MailboxSettings {
            auth: ImapAuth::XOAuth2,
            ..mailbox()
        };
        let (_, _, hint) = imap_failure(&oauth, &ImapError::Auth("AUTHENTICATE failed".into()));
        assert!(hint.unwrap().starts_with("token refused"));

        let (stage, _, hint) = imap_failure(
            &m,
            &ImapError::Tls("invalid peer certificate: UnknownIssuer".into()),
        );
        assert_eq!(stage, ImapStage::Connect);
        assert_eq!(
            hint.unwrap(),
            "certificate not trusted: set ca_file or fix the server certificate"
        );

        let (_, _, hint) = imap_failure(
            &m,
            &ImapError::Connect("imap.example.com:993: Connection refused (os error 111)".into()),
        );
        assert!(
            hint.unwrap()
                .starts_with("nothing listens on imap.example.com:993")
        );

        let (_, _, hint) = imap_failure(
            &m,
            &ImapError::Connect("nowhere:993: failed to lookup address information".into()),
        );
        assert_eq!(
            hint.unwrap(),
            "host name imap.example.com not found: check host"
        );

        let plain = MailboxSettings {
            tls: TlsMode::None,
            ..mailbox()
        };
        let (_, text, hint) = imap_failure(
            &plain,
            &ImapError::Timeout(Duration::from_secs(20), "greeting"),
        );
        assert!(text.contains("within 20s (greeting)"), "{text}");
        assert!(hint.unwrap().contains("tls = \"implicit\""));

        let (stage, _, _) = imap_failure(&m, &ImapError::Timeout(Duration::from_secs(20), "login"));
        assert_eq!(stage, ImapStage::Login);
    }

    #[test]
    fn server_text_is_taken_out_of_async_imap_errors() {
        assert_eq!(
            server_says(
                "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")"
            ),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(
            server_says(
                "No Response: code: Some(TryCreate), info: Some(\"Mailbox doesn't exist: X\")"
            ),
            "Mailbox doesn't exist: X"
        );
        assert_eq!(
            server_says(
                "no response: outcome: Outcome { code: None, information: Some(\"Mailbox doesn't exist: Support\") }"
            ),
            "Mailbox doesn't exist: Support"
        );
        assert_eq!(server_says("connection lost"), "connection lost");
    }

    #[test]
    fn tls_failures_are_named() {
        for (error, start) in [
            (
                "invalid peer certificate: UnknownIssuer",
                "certificate not trusted",
            ),
            (
                "invalid peer certificate: certificate not valid for name \"x\"; certificate is only valid for y",
                "the certificate is not issued for h",
            ),
            (
                "invalid peer certificate: certificate expired: verification time 1",
                "the server certificate has expired",
            ),
            (
                "received corrupt message of type InvalidContentType",
                "the server does not speak TLS",
            ),
        ] {
            let hint = tls_hint(error, "h", "REMEDY");
            assert!(hint.starts_with(start), "{error} → {hint}");
        }
    }

    #[test]
    fn missing_capabilities_are_warnings_saying_what_happens_instead() {
        let m = mailbox();
        let all = Capabilities {
            idle: true,
            mv: true,
            uidplus: true,
        };
        assert!(
            capability_items(&m, all)
                .iter()
                .all(|i| i.status == Status::Pass)
        );

        let none = Capabilities {
            idle: false,
            mv: false,
            uidplus: false,
        };
        let items = capability_items(&m, none);
        assert!(items.iter().all(|i| i.status == Status::Warn));
        assert_eq!(
            items[0].hint.as_deref(),
            Some("mailgate polls every 1m (poll_interval)")
        );
        assert!(items[1].hint.as_deref().unwrap().contains("UID COPY"));

        // Flagging as seen needs neither MOVE nor UIDPLUS.
        let seen = MailboxSettings {
            post_action: PostAction::Seen,
            idle: false,
            ..mailbox()
        };
        assert!(
            capability_items(&seen, none)
                .iter()
                .all(|i| i.status == Status::Pass)
        );
        // Deleting expunges: UIDPLUS matters, MOVE does not.
        let delete = MailboxSettings {
            post_action: PostAction::Delete,
            ..mailbox()
        };
        let statuses: Vec<Status> = capability_items(&delete, none)
            .iter()
            .map(|i| i.status)
            .collect();
        assert_eq!(statuses, [Status::Warn, Status::Pass, Status::Warn]);
    }

    #[test]
    fn smtp_hints() {
        let s = smtp();
        assert_eq!(
            smtp_hint(
                &s,
                SmtpStage::Auth,
                "permanent error (535): 5.7.8 Authentication credentials invalid"
            ),
            "wrong SMTP username or password (username mailgate)"
        );
        let plain = SmtpSettings {
            tls: TlsMode::None,
            ..smtp()
        };
        assert!(
            smtp_hint(
                &plain,
                SmtpStage::Auth,
                "internal client error: No compatible authentication mechanism was found"
            )
            .contains("starttls")
        );
        assert!(
            smtp_hint(
                &s,
                SmtpStage::StartTls,
                "internal client error: STARTTLS is not supported on this server"
            )
            .starts_with("the server does not offer STARTTLS")
        );
        assert!(
            smtp_hint(
                &s,
                SmtpStage::StartTls,
                "Connection error: invalid peer certificate: UnknownIssuer"
            )
            .starts_with("certificate not trusted: add its CA")
        );
        assert!(
            smtp_hint(
                &s,
                SmtpStage::Connect,
                "Connection error: Connection refused (os error 111)"
            )
            .starts_with("nothing listens on smtp.example.com:587")
        );
    }

    #[test]
    fn database_hints() {
        let e = StoreError::Other(
            "error returned from database: password authentication failed for user \"x\"".into(),
        );
        assert_eq!(
            database_hint(&e).unwrap(),
            "wrong database username or password (database.url)"
        );
        let e = StoreError::Unavailable("Connection refused (os error 111)".into());
        assert!(database_hint(&e).unwrap().starts_with("nothing answers"));
    }

    #[test]
    fn local_folders_writable_creatable_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let d = MaildirSettings {
            name: "drop".into(),
            path: dir.path().join("in"),
            processed_path: dir.path().join("in/processed"),
            quarantine_path: dir.path().join("in/quarantine"),
            poll_interval: Duration::from_secs(1),
            defaults: MailboxDefaults::default(),
        };
        let items = maildir_items(&d);
        assert!(items.iter().all(|i| i.status == Status::Pass), "{items:?}");
        assert!(
            items[0]
                .text
                .contains("missing: `mailgate run` creates it at start")
        );

        std::fs::create_dir_all(d.path.join("new")).unwrap();
        let items = maildir_items(&d);
        assert!(
            items[0].text.ends_with("is a Maildir, writable"),
            "{items:?}"
        );
        assert!(items[1].text.contains("created at first use"));
        // No probe file is left behind.
        assert_eq!(std::fs::read_dir(&d.path).unwrap().count(), 1);

        std::fs::write(dir.path().join("file"), "x").unwrap();
        let item = outbox_item(&dir.path().join("file"));
        assert_eq!(item.status, Status::Fail);
        assert!(item.text.ends_with("is not a folder"));
        let item = outbox_item(&dir.path().join("outbox"));
        assert_eq!(item.status, Status::Pass);
        assert!(item.text.starts_with("no SMTP server: mail is written to "));
    }

    #[test]
    fn missing_folder_hints_list_the_servers_folders() {
        assert_eq!(
            missing_folder_hint(&["INBOX".into(), "Sent".into()]),
            "folder missing: check folder (names are case-sensitive); the server has: INBOX, Sent"
        );
        let many: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
        assert!(missing_folder_hint(&many).ends_with("f11, …"));
    }
}
