//! `[[mailboxes]]`: IMAP mailboxes, with their connection, folders, what
//! is done with a filed message, and XOAUTH2 token sources.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Secret;
use super::checker::{Checker, is_loopback_host};
use super::intake::MailboxDefaults;
use super::raw::RawMailbox;
use super::secret::resolve_secret_path;
use super::smtp::PLAINTEXT_REFUSED;
use crate::closed_set;
use crate::model::{TlsMode, Vocabulary};

closed_set! {
    /// What is done on the server with a message once it is safely stored.
    pub enum PostAction ("post_action") {
        /// Moved to `processed_folder`.
        Move = "move",
        /// Flagged `\Seen` and left in place; only unseen messages are fetched.
        Seen = "seen",
        /// Deleted and expunged.
        Delete = "delete",
    }
}

closed_set! {
    /// What is done with the mail already in a mailbox the first time
    /// mailgate watches it (the messages under the UIDNEXT of that first
    /// SELECT, remembered in the database).
    pub enum Initial ("initial") {
        /// Filed and answered like any new mail.
        All = "all",
        /// Filed, but every mail their filing plans is kept in the outbox
        /// as suppressed, not sent.
        Silent = "silent",
        /// Left untouched on the server: no ticket, no post-action. Only
        /// what arrives later is taken.
        New = "new",
    }
}

closed_set! {
    /// How mailgate logs in.
    pub enum ImapAuth ("auth") {
        /// The LOGIN command.
        Login = "login",
        /// AUTHENTICATE PLAIN (RFC 4616).
        Plain = "plain",
        /// AUTHENTICATE XOAUTH2 with an OAuth 2.0 access token (Microsoft
        /// 365, Gmail).
        XOAuth2 = "xoauth2",
    }
}

/// Where a mailbox gets its XOAUTH2 access token.
#[derive(Debug, Clone)]
pub enum TokenSourceSettings {
    /// The refresh-token grant (RFC 6749 6.).
    Refresh {
        token_url: String,
        client_id: String,
        client_secret: Option<Secret>,
        refresh_token_file: PathBuf,
        scope: Option<String>,
    },
    /// A file kept up to date by something else, read at every connection.
    File(PathBuf),
    /// A command (`sh -c`) that prints a token.
    Command(String),
}

#[derive(Debug, Clone)]
pub struct MailboxSettings {
    pub name: String,
    pub address: Option<String>,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: Option<Secret>,
    pub folder: String,
    pub processed_folder: String,
    pub quarantine_folder: String,
    pub idle: bool,
    pub poll_interval: Duration,
    pub post_action: PostAction,
    /// What becomes of the mail found there at the first watch.
    pub initial: Initial,
    pub auth: ImapAuth,
    pub ca_file: Option<PathBuf>,
    pub tls_insecure: bool,
    /// Limit on every network operation; a server silent for longer is
    /// taken for gone.
    pub timeout: Duration,
    /// Where XOAUTH2 access tokens come from (`auth = "xoauth2"` only).
    pub oauth: Option<TokenSourceSettings>,
    pub defaults: MailboxDefaults,
}

/// Every mailbox; `names` collects the source names, which maildirs share.
pub(super) fn mailboxes(
    c: &mut Checker,
    raw: &[RawMailbox],
    vocabulary: &Vocabulary,
    names: &mut HashSet<String>,
    base: Option<&Path>,
) -> Vec<MailboxSettings> {
    (raw.iter().enumerate())
        .map(|(i, m)| mailbox(c, i, m, vocabulary, names, base))
        .collect()
}

fn mailbox(
    c: &mut Checker,
    i: usize,
    m: &RawMailbox,
    vocabulary: &Vocabulary,
    names: &mut HashSet<String>,
    base: Option<&Path>,
) -> MailboxSettings {
    let key = |field: &str| format!("mailboxes[{i}].{field}");
    if m.name.trim().is_empty() || !names.insert(m.name.clone()) {
        c.problem(
            key("name"),
            format!("{:?} must be a non-empty name used once", m.name),
        );
    }
    let tls = c.named(&key("tls"), &m.tls, TlsMode::Implicit);
    if tls == TlsMode::None && !m.allow_plaintext && !is_loopback_host(&m.host) {
        c.problem(key("tls"), PLAINTEXT_REFUSED);
    }
    let poll_interval = c.duration(
        key("poll_interval"),
        &m.poll_interval,
        Duration::from_secs(60),
    );
    let timeout = c.duration(key("timeout"), &m.timeout, Duration::from_secs(60));
    let password = c.secret(
        &key("password"),
        m.password.as_ref(),
        m.password_file.as_ref(),
        base,
    );
    let post_action = c.named(&key("post_action"), &m.post_action, PostAction::Move);
    let initial = c.named(&key("initial"), &m.initial, Initial::All);
    let auth = c.named(&key("auth"), &m.auth, ImapAuth::Login);
    if auth != ImapAuth::XOAuth2 && m.password.is_none() && m.password_file.is_none() {
        c.problem(key("password"), "a password or password_file is required");
    }
    let oauth = (auth == ImapAuth::XOAuth2)
        .then(|| oauth(c, &key(""), m, base))
        .flatten();
    let ca_file = m.ca_file.as_ref().map(|p| match base {
        Some(base) if p.is_relative() => base.join(p),
        _ => p.clone(),
    });
    if let Some(path) = &ca_file
        && !path.is_file()
    {
        c.problem(
            key("ca_file"),
            format!("{} is not a readable file", path.display()),
        );
    }
    let defaults = c.defaults(&format!("mailboxes[{i}]"), vocabulary, &m.defaults());
    MailboxSettings {
        name: m.name.clone(),
        address: m.address.as_ref().map(|a| a.to_lowercase()),
        host: m.host.clone(),
        port: m
            .port
            .unwrap_or(if tls == TlsMode::Implicit { 993 } else { 143 }),
        tls,
        username: m.username.clone(),
        password,
        folder: m.folder.clone(),
        processed_folder: m.processed_folder.clone(),
        quarantine_folder: m.quarantine_folder.clone(),
        idle: m.idle,
        poll_interval,
        post_action,
        initial,
        auth,
        ca_file,
        tls_insecure: m.tls_insecure,
        timeout,
        oauth,
        defaults,
    }
}

/// The token source of an XOAUTH2 mailbox: the refresh grant, a token
/// file, or a token command; exactly one.
fn oauth(
    c: &mut Checker,
    prefix: &str,
    m: &RawMailbox,
    base: Option<&Path>,
) -> Option<TokenSourceSettings> {
    let relative = |p: &PathBuf| resolve_secret_path(p, base);
    let refresh = m.oauth_refresh_token_file.is_some() || m.oauth_token_url.is_some();
    let sources = usize::from(refresh)
        + usize::from(m.oauth_access_token_file.is_some())
        + usize::from(m.oauth_access_token_command.is_some());
    if sources != 1 {
        c.problem(
            format!("{prefix}oauth_refresh_token_file"),
            "auth = \"xoauth2\" needs exactly one of: oauth_token_url + oauth_client_id + oauth_refresh_token_file, oauth_access_token_file, oauth_access_token_command",
        );
        return None;
    }
    if let Some(path) = &m.oauth_access_token_file {
        return Some(TokenSourceSettings::File(relative(path)));
    }
    if let Some(command) = &m.oauth_access_token_command {
        return Some(TokenSourceSettings::Command(command.clone()));
    }
    let (Some(token_url), Some(client_id), Some(file)) = (
        &m.oauth_token_url,
        &m.oauth_client_id,
        &m.oauth_refresh_token_file,
    ) else {
        c.problem(
            format!("{prefix}oauth_token_url"),
            "the refresh grant needs oauth_token_url, oauth_client_id and oauth_refresh_token_file",
        );
        return None;
    };
    if url::Url::parse(token_url).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
        c.problem(
            format!("{prefix}oauth_token_url"),
            "must be an http:// or https:// URL",
        );
    }
    let refresh_token_file = relative(file);
    if !refresh_token_file.is_file() {
        c.problem(
            format!("{prefix}oauth_refresh_token_file"),
            format!("{} is not a readable file", refresh_token_file.display()),
        );
    }
    let client_secret = c.secret(
        &format!("{prefix}oauth_client_secret"),
        m.oauth_client_secret.as_ref(),
        m.oauth_client_secret_file.as_ref(),
        base,
    );
    Some(TokenSourceSettings::Refresh {
        token_url: token_url.clone(),
        client_id: client_id.clone(),
        client_secret,
        refresh_token_file,
        scope: m.oauth_scope.clone(),
    })
}
