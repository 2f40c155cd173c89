//! Settings: built-in defaults, then the TOML file, then `MAILGATE__SECTION__KEY`
//! environment variables. The file is read into [`RawSettings`] (plain
//! strings where a value has rules), then one validation pass turns it into
//! [`Settings`] or reports every problem at once, each naming its key.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::intake::ticket_key::valid_prefix;
use crate::intake::{IntakeRules, MailboxDefaults, Term, Terms, Vocabulary};

/// The commented example configuration, printed by `mailgate config example`.
pub const EXAMPLE: &str = include_str!("../config/mailgate.example.toml");

/// Where `--config` points when not given.
pub const DEFAULT_PATH: &str = "config/mailgate.toml";

/// A password or token: never shown by `Debug` or in logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

// ---------------------------------------------------------------------------
// The file as written.

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RawSettings {
    pub database: RawDatabase,
    pub intake: RawIntake,
    pub tickets: RawTickets,
    pub http: RawHttp,
    pub senders: RawSenders,
    pub log: RawLog,
    pub smtp: Option<RawSmtp>,
    pub outbox: RawOutbox,
    pub mailboxes: Vec<RawMailbox>,
    pub maildirs: Vec<RawMaildir>,
    pub severities: Option<Vec<RawTerm>>,
    pub products: Vec<RawTerm>,
    pub request_types: Option<Vec<RawTerm>>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawDatabase {
    pub url: String,
    #[serde(default = "default_lease_timeout")]
    pub lease_timeout: String,
}

fn default_lease_timeout() -> String {
    "30s".into()
}

impl Default for RawDatabase {
    fn default() -> Self {
        RawDatabase {
            url: "sqlite://data/mailgate.db".into(),
            lease_timeout: default_lease_timeout(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawIntake {
    pub max_message_size: ByteSizeText,
    pub own_addresses: Vec<String>,
}

impl Default for RawIntake {
    fn default() -> Self {
        RawIntake {
            max_message_size: ByteSizeText::Text("25MiB".into()),
            own_addresses: Vec::new(),
        }
    }
}

/// A size written as a number of bytes or as text with a unit (`25MiB`).
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum ByteSizeText {
    Bytes(u64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTickets {
    pub key_prefix: String,
    pub tracking_url: String,
    pub team_address: Option<String>,
    pub team_addresses: Vec<String>,
    pub default_severity: String,
    pub default_request_type: String,
    pub confirm_follow_ups: bool,
    pub allow_field_changes: String,
    pub reopen_window: String,
}

impl Default for RawTickets {
    fn default() -> Self {
        RawTickets {
            key_prefix: "SUP".into(),
            tracking_url: "http://127.0.0.1:8080".into(),
            team_address: None,
            team_addresses: Vec::new(),
            default_severity: "medium".into(),
            default_request_type: "support".into(),
            confirm_follow_ups: false,
            allow_field_changes: "reporter".into(),
            reopen_window: "30days".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawHttp {
    pub listen: String,
    pub ops_listen: String,
    pub api_tokens: Vec<RawApiToken>,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            listen: "127.0.0.1:8080".into(),
            ops_listen: "127.0.0.1:8081".into(),
            api_tokens: Vec::new(),
        }
    }
}

/// A bearer token of the team API, kept as its SHA-256 (`mailgate
/// api-token NAME` makes one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApiToken {
    pub name: String,
    pub sha256: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RawLog {
    /// A filter like `info` or `mailgate=debug,info`; `RUST_LOG` wins.
    pub level: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSenders {
    pub policy: String,
    pub allowed_domains: Vec<String>,
    pub no_reply_patterns: Vec<String>,
    pub auto_reply_limit: u32,
}

impl Default for RawSenders {
    fn default() -> Self {
        RawSenders {
            policy: "open".into(),
            allowed_domains: Vec::new(),
            no_reply_patterns: [
                "mailer-daemon",
                "postmaster",
                "no-reply",
                "noreply",
                "donotreply",
                "do-not-reply",
                "bounce",
            ]
            .map(String::from)
            .to_vec(),
            auto_reply_limit: 10,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawOutbox {
    pub retry_initial: String,
    pub retry_max: String,
    pub give_up_after: String,
    pub directory: PathBuf,
    pub from_name: Option<String>,
    pub language: String,
    pub templates: Option<PathBuf>,
}

impl Default for RawOutbox {
    fn default() -> Self {
        RawOutbox {
            retry_initial: "1m".into(),
            retry_max: "1h".into(),
            give_up_after: "48h".into(),
            directory: PathBuf::from("data/outbox"),
            from_name: None,
            language: "en".into(),
            templates: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default = "default_tls")]
    pub tls: String,
    #[serde(default)]
    pub allow_plaintext: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    pub from: String,
    #[serde(default = "default_smtp_connections")]
    pub connections: usize,
}

fn default_smtp_connections() -> usize {
    4
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMailbox {
    pub name: String,
    pub address: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    #[serde(default = "default_tls")]
    pub tls: String,
    #[serde(default)]
    pub allow_plaintext: bool,
    pub username: String,
    pub password: Option<String>,
    pub password_file: Option<PathBuf>,
    #[serde(default = "default_folder")]
    pub folder: String,
    #[serde(default = "default_processed")]
    pub processed_folder: String,
    #[serde(default = "default_quarantine")]
    pub quarantine_folder: String,
    #[serde(default = "default_true")]
    pub idle: bool,
    #[serde(default = "default_poll")]
    pub poll_interval: String,
    #[serde(default = "default_post_action")]
    pub post_action: String,
    #[serde(default = "default_auth")]
    pub auth: String,
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub tls_insecure: bool,
    #[serde(default = "default_timeout")]
    pub timeout: String,
    pub oauth_token_url: Option<String>,
    pub oauth_client_id: Option<String>,
    pub oauth_client_secret: Option<String>,
    pub oauth_client_secret_file: Option<PathBuf>,
    pub oauth_refresh_token_file: Option<PathBuf>,
    pub oauth_scope: Option<String>,
    pub oauth_access_token_file: Option<PathBuf>,
    pub oauth_access_token_command: Option<String>,
    pub default_severity: Option<String>,
    #[serde(default)]
    pub default_products: Vec<String>,
    pub default_request_type: Option<String>,
    pub default_language: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaildir {
    pub name: String,
    pub path: PathBuf,
    pub processed_path: Option<PathBuf>,
    pub quarantine_path: Option<PathBuf>,
    #[serde(default = "default_maildir_poll")]
    pub poll_interval: String,
    pub default_severity: Option<String>,
    #[serde(default)]
    pub default_products: Vec<String>,
    pub default_request_type: Option<String>,
    pub default_language: Option<String>,
}

fn default_tls() -> String {
    "implicit".into()
}
fn default_folder() -> String {
    "INBOX".into()
}
fn default_processed() -> String {
    "Processed".into()
}
fn default_quarantine() -> String {
    "Quarantine".into()
}
fn default_true() -> bool {
    true
}
fn default_poll() -> String {
    "60s".into()
}
fn default_maildir_poll() -> String {
    "1s".into()
}
fn default_post_action() -> String {
    "move".into()
}
fn default_auth() -> String {
    "login".into()
}
fn default_timeout() -> String {
    "60s".into()
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawTerm {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

// ---------------------------------------------------------------------------
// Validated settings.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Implicit,
    StartTls,
    None,
}

/// What is done on the server with a message once it is safely stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostAction {
    /// Moved to `processed_folder`.
    Move,
    /// Flagged `\Seen` and left in place; only unseen messages are fetched.
    Seen,
    /// Deleted and expunged.
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapAuth {
    /// The LOGIN command.
    Login,
    /// AUTHENTICATE PLAIN (RFC 4616).
    Plain,
    /// AUTHENTICATE XOAUTH2 with an OAuth 2.0 access token (Microsoft 365,
    /// Gmail).
    XOAuth2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderPolicy {
    Open,
    Registered,
    Hold,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    /// PostgreSQL: how soon another instance takes over the mailboxes of
    /// one that died or lost the database.
    pub lease_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct TicketSettings {
    pub key_prefix: String,
    pub tracking_url: String,
    pub team_address: Option<String>,
    pub confirm_follow_ups: bool,
    pub conversations: crate::store::ConversationRules,
}

/// A team API token: who it is, and the SHA-256 of the secret.
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub name: String,
    pub sha256: [u8; 32],
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    /// Messages sent at once, each over its own connection.
    pub connections: usize,
}

/// How outgoing mail is retried, and where it goes without SMTP.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    pub retry_initial: Duration,
    pub retry_max: Duration,
    pub give_up_after: Duration,
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
    pub auth: ImapAuth,
    pub ca_file: Option<PathBuf>,
    pub tls_insecure: bool,
    /// Limit on every network operation; a server silent for longer is
    /// taken for gone.
    pub timeout: Duration,
    /// Where XOAUTH2 access tokens come from (`auth = "xoauth2"` only).
    pub oauth: Option<crate::source::oauth::TokenSourceSettings>,
    pub defaults: MailboxDefaults,
}

/// A local folder watched for messages: a Maildir (`new/`, `cur/`) or a
/// plain folder of `*.eml` files.
#[derive(Debug, Clone)]
pub struct MaildirSettings {
    pub name: String,
    pub path: PathBuf,
    pub processed_path: PathBuf,
    pub quarantine_path: PathBuf,
    pub poll_interval: Duration,
    pub defaults: MailboxDefaults,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub intake: IntakeRules,
    pub tickets: TicketSettings,
    /// The log filter of the configuration (`log.level`).
    pub log_level: Option<String>,
    pub http_listen: SocketAddr,
    /// `/healthz`, `/readyz`, `/metrics`.
    pub ops_listen: SocketAddr,
    pub api_tokens: Vec<ApiToken>,
    pub sender_policy: SenderPolicy,
    pub allowed_domains: Vec<String>,
    /// Fragments of local parts that never get an automatic mail.
    pub no_reply_patterns: Vec<String>,
    /// Automatic mails one address may get per hour.
    pub auto_reply_limit: u32,
    pub smtp: Option<SmtpSettings>,
    pub outbox: OutboxSettings,
    /// Without SMTP, outgoing mail is written here as `.eml` files.
    pub outbox_directory: PathBuf,
    /// Display name on outgoing mail.
    pub from_name: Option<String>,
    /// Language of replies when the customer's is unknown.
    pub default_language: crate::intake::Language,
    /// A folder whose templates replace the built-in ones by name.
    pub templates_dir: Option<PathBuf>,
    pub mailboxes: Vec<MailboxSettings>,
    /// Local folders to watch. With no mailbox and no maildir configured,
    /// `data/inbox` is watched.
    pub maildirs: Vec<MaildirSettings>,
}

impl Settings {
    /// The address our mail comes from: `smtp.from`, else the first of our
    /// own addresses, else a local placeholder (mail then only goes to the
    /// outbox folder anyway).
    pub fn from_address(&self) -> String {
        self.smtp
            .as_ref()
            .map(|s| s.from.clone())
            .or_else(|| self.intake.own_addresses.first().cloned())
            .unwrap_or_else(|| "mailgate@localhost".to_owned())
    }

    /// The tracking page of a ticket.
    pub fn tracking_url(&self, token: &str) -> String {
        format!(
            "{}/t/{token}",
            self.tickets.tracking_url.trim_end_matches('/')
        )
    }

    /// The defaults of a configured mailbox or maildir, by name.
    pub fn source_defaults(&self, name: &str) -> Option<&MailboxDefaults> {
        self.mailboxes
            .iter()
            .find(|m| m.name == name)
            .map(|m| &m.defaults)
            .or_else(|| {
                self.maildirs
                    .iter()
                    .find(|m| m.name == name)
                    .map(|m| &m.defaults)
            })
    }
}

/// One problem in the configuration, with the key it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration: {0}")]
    Read(#[from] config::ConfigError),
    #[error("the configuration has {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// Loads the settings. `path` is the `--config` argument: an explicit path
/// must exist; without one, `config/mailgate.toml` is read when present.
/// `env` replaces the process environment (for tests).
pub fn load(
    path: Option<&Path>,
    env: Option<HashMap<String, String>>,
) -> Result<Settings, ConfigError> {
    let mut builder = config::Config::builder();
    match path {
        Some(path) => builder = builder.add_source(config::File::from(path).required(true)),
        None => {
            builder = builder.add_source(config::File::with_name(DEFAULT_PATH).required(false));
        }
    }
    let environment = config::Environment::with_prefix("MAILGATE")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .with_list_parse_key("intake.own_addresses")
        .with_list_parse_key("senders.allowed_domains")
        .with_list_parse_key("senders.no_reply_patterns")
        .source(env);
    let raw: RawSettings = builder.add_source(environment).build()?.try_deserialize()?;
    validate(raw, path.and_then(Path::parent)).map_err(ConfigError::Invalid)
}

/// Parses `25MiB`, `10 MB`, `512k`, `1000`.
pub fn parse_byte_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    fn tls(&mut self, key: &str, value: &str) -> TlsMode {
        match value {
            "implicit" => TlsMode::Implicit,
            "starttls" => TlsMode::StartTls,
            "none" => TlsMode::None,
            other => {
                self.problem(
                    key,
                    format!("{other:?} is not one of implicit, starttls, none"),
                );
                TlsMode::Implicit
            }
        }
    }

    /// A password given inline or read from a file (`*_file` keys), or from
    /// `$CREDENTIALS_DIRECTORY` when the path is relative and systemd
    /// provides credentials.
    fn secret(
        &mut self,
        key: &str,
        inline: Option<&String>,
        file: Option<&PathBuf>,
        base: Option<&Path>,
    ) -> Option<Secret> {
        match (inline, file) {
            (Some(_), Some(_)) => {
                self.problem(key, format!("give either {key} or {key}_file, not both"));
                None
            }
            (Some(value), None) => Some(Secret::new(value.clone())),
            (None, Some(path)) => {
                let resolved = resolve_secret_path(path, base);
                match std::fs::read_to_string(&resolved) {
                    Ok(text) => Some(Secret::new(text.trim_end_matches(['\n', '\r']).to_owned())),
                    Err(e) => {
                        self.problem(
                            format!("{key}_file"),
                            format!("cannot read {}: {e}", resolved.display()),
                        );
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }

    fn terms(&mut self, key: &str, terms: &[RawTerm]) {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (i, term) in terms.iter().enumerate() {
            if term.name.trim().is_empty() {
                self.problem(format!("{key}[{i}].name"), "must not be empty");
            }
            for word in std::iter::once(&term.name).chain(&term.aliases) {
                let folded = crate::intake::vocabulary::term_key(word);
                if let Some(other) = seen.insert(folded, &term.name)
                    && other != term.name
                {
                    self.problem(
                        format!("{key}[{i}]"),
                        format!("{word:?} names both {other:?} and {:?}", term.name),
                    );
                }
            }
        }
    }
}

impl Checker {
    fn duration(&mut self, key: String, text: &str, fallback: Duration) -> Duration {
        humantime::parse_duration(text).unwrap_or_else(|_| {
            self.problem(key, format!("{text:?} is not a duration like \"60s\""));
            fallback
        })
    }

    /// Checks a source's default field values against the vocabulary.
    fn defaults(
        &mut self,
        prefix: &str,
        vocabulary: &Vocabulary,
        severity: Option<&String>,
        products: &[String],
        request_type: Option<&String>,
        language: Option<&String>,
    ) -> MailboxDefaults {
        if let Some(sev) = severity
            && vocabulary.severities.exact(sev).is_none()
        {
            self.problem(
                format!("{prefix}.default_severity"),
                format!("{sev:?} is not a configured severity"),
            );
        }
        for product in products {
            if vocabulary.products.exact(product).is_none() {
                self.problem(
                    format!("{prefix}.default_products"),
                    format!("{product:?} is not a configured product"),
                );
            }
        }
        if let Some(rt) = request_type
            && vocabulary.request_types.exact(rt).is_none()
        {
            self.problem(
                format!("{prefix}.default_request_type"),
                format!("{rt:?} is not a configured request type"),
            );
        }
        let language = language.and_then(|l| {
            let parsed = crate::intake::Language::parse(l);
            if parsed.is_none() {
                self.problem(
                    format!("{prefix}.default_language"),
                    format!("{l:?} is not one of en, fr"),
                );
            }
            parsed
        });
        MailboxDefaults {
            severity: severity.cloned(),
            products: products.to_vec(),
            request_type: request_type.cloned(),
            language,
        }
    }
}

impl Checker {
    /// The token source of an XOAUTH2 mailbox: the refresh grant, a token
    /// file, or a token command; exactly one.
    fn oauth(
        &mut self,
        prefix: &str,
        m: &RawMailbox,
        base: Option<&Path>,
    ) -> Option<crate::source::oauth::TokenSourceSettings> {
        use crate::source::oauth::TokenSourceSettings;
        let relative = |p: &PathBuf| resolve_secret_path(p, base);
        let refresh = m.oauth_refresh_token_file.is_some() || m.oauth_token_url.is_some();
        let sources = usize::from(refresh)
            + usize::from(m.oauth_access_token_file.is_some())
            + usize::from(m.oauth_access_token_command.is_some());
        if sources != 1 {
            self.problem(
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
            self.problem(
                format!("{prefix}oauth_token_url"),
                "the refresh grant needs oauth_token_url, oauth_client_id and oauth_refresh_token_file",
            );
            return None;
        };
        if url::Url::parse(token_url).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
            self.problem(
                format!("{prefix}oauth_token_url"),
                "must be an http:// or https:// URL",
            );
        }
        let refresh_token_file = relative(file);
        if !refresh_token_file.is_file() {
            self.problem(
                format!("{prefix}oauth_refresh_token_file"),
                format!("{} is not a readable file", refresh_token_file.display()),
            );
        }
        let client_secret = self.secret(
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
}

fn resolve_secret_path(path: &Path, base: Option<&Path>) -> PathBuf {
    if path.is_absolute() {
        return path.to_owned();
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let candidate = Path::new(&dir).join(path);
        if candidate.exists() {
            return candidate;
        }
    }
    match base {
        Some(base) => base.join(path),
        None => path.to_owned(),
    }
}

fn to_terms(raw: &[RawTerm]) -> Vec<Term> {
    raw.iter()
        .map(|t| Term {
            name: t.name.trim().to_owned(),
            aliases: t.aliases.clone(),
        })
        .collect()
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn valid_email(text: &str) -> bool {
    let mut parts = text.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') || d == "localhost")
        && !text.chars().any(char::is_whitespace)
}

/// Checks everything and builds the settings, or lists every problem.
/// `base` is the folder of the configuration file, for relative `*_file`
/// paths.
pub fn validate(raw: RawSettings, base: Option<&Path>) -> Result<Settings, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
    };

    let url = raw.database.url.trim().to_owned();
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        c.problem(
            "database.url",
            format!("{url:?} must start with sqlite: or postgres://"),
        );
    }
    let lease_timeout = c.duration(
        "database.lease_timeout".into(),
        &raw.database.lease_timeout,
        Duration::from_secs(30),
    );
    if lease_timeout < Duration::from_secs(6) {
        c.problem(
            "database.lease_timeout",
            "must be at least 6s (leases are renewed every sixth of it)",
        );
    }

    let max_message_size = match &raw.intake.max_message_size {
        ByteSizeText::Bytes(n) => Some(*n),
        ByteSizeText::Text(t) => parse_byte_size(t),
    };
    let max_message_size = match max_message_size {
        Some(n) if n >= 1024 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => {
            c.problem(
                "intake.max_message_size",
                "must be a size of at least 1KiB, like \"25MiB\"",
            );
            0
        }
    };

    let prefix = raw.tickets.key_prefix.trim().to_owned();
    if !valid_prefix(&prefix) {
        c.problem(
            "tickets.key_prefix",
            format!("{prefix:?} must be an upper-case letter then up to 9 letters or digits"),
        );
    }
    match url::Url::parse(&raw.tickets.tracking_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => c.problem("tickets.tracking_url", "must be an http:// or https:// URL"),
    }
    if let Some(team) = &raw.tickets.team_address
        && !valid_email(team)
    {
        c.problem(
            "tickets.team_address",
            format!("{team:?} is not an email address"),
        );
    }

    let mut team_addresses = Vec::new();
    for (i, entry) in raw.tickets.team_addresses.iter().enumerate() {
        let entry = entry.trim().to_lowercase();
        let valid = match entry.strip_prefix('@') {
            Some(domain) => !domain.is_empty() && domain.contains('.') && !domain.contains('@'),
            None => valid_email(&entry),
        };
        if valid {
            team_addresses.push(entry);
        } else {
            c.problem(
                format!("tickets.team_addresses[{i}]"),
                format!("{entry:?} is not an address nor an @domain"),
            );
        }
    }
    let allow_field_changes = match raw.tickets.allow_field_changes.as_str() {
        "none" => crate::store::FieldChangePolicy::Nobody,
        "reporter" => crate::store::FieldChangePolicy::Reporter,
        "participants" => crate::store::FieldChangePolicy::Participants,
        other => {
            c.problem(
                "tickets.allow_field_changes",
                format!("{other:?} is not one of none, reporter, participants"),
            );
            crate::store::FieldChangePolicy::Reporter
        }
    };
    let reopen_window = c.duration(
        "tickets.reopen_window".into(),
        &raw.tickets.reopen_window,
        Duration::from_secs(30 * 86_400),
    );
    let mut api_tokens = Vec::new();
    for (i, token) in raw.http.api_tokens.iter().enumerate() {
        let mut sha256 = [0u8; 32];
        if token.name.trim().is_empty() {
            c.problem(format!("http.api_tokens[{i}].name"), "must not be empty");
        }
        match hex::decode_to_slice(token.sha256.trim(), &mut sha256) {
            Ok(()) => api_tokens.push(ApiToken {
                name: token.name.trim().to_owned(),
                sha256,
            }),
            Err(_) => c.problem(
                format!("http.api_tokens[{i}].sha256"),
                "must be 64 hex digits, the SHA-256 of the token (see `mailgate api-token`)",
            ),
        }
    }

    let http_listen = raw.http.listen.parse().unwrap_or_else(|_| {
        c.problem(
            "http.listen",
            format!("{:?} is not an address:port", raw.http.listen),
        );
        SocketAddr::from(([127, 0, 0, 1], 8080))
    });

    if let Some(level) = &raw.log.level
        && tracing_subscriber::EnvFilter::try_new(level).is_err()
    {
        c.problem(
            "log.level",
            format!("{level:?} is not a log filter like \"info\" or \"mailgate=debug,info\""),
        );
    }
    let ops_listen = raw.http.ops_listen.parse().unwrap_or_else(|_| {
        c.problem(
            "http.ops_listen",
            format!("{:?} is not an address:port", raw.http.ops_listen),
        );
        SocketAddr::from(([127, 0, 0, 1], 8081))
    });

    let sender_policy = match raw.senders.policy.as_str() {
        "open" => SenderPolicy::Open,
        "registered" => SenderPolicy::Registered,
        "hold" => SenderPolicy::Hold,
        other => {
            c.problem(
                "senders.policy",
                format!("{other:?} is not one of open, registered, hold"),
            );
            SenderPolicy::Open
        }
    };

    let severities = raw
        .severities
        .as_deref()
        .map(to_terms)
        .unwrap_or_else(Vocabulary::default_severities);
    let request_types = raw
        .request_types
        .as_deref()
        .map(to_terms)
        .unwrap_or_else(Vocabulary::default_request_types);
    for (key, terms) in [
        ("severities", raw.severities.as_deref()),
        ("request_types", raw.request_types.as_deref()),
        ("products", Some(raw.products.as_slice())),
    ] {
        if let Some(terms) = terms {
            c.terms(key, terms);
        }
    }
    let vocabulary = Vocabulary {
        severities: Terms::new(severities),
        products: Terms::new(to_terms(&raw.products)),
        request_types: Terms::new(request_types),
        default_severity: raw.tickets.default_severity.clone(),
        default_request_type: raw.tickets.default_request_type.clone(),
    };
    if vocabulary
        .severities
        .exact(&raw.tickets.default_severity)
        .is_none()
    {
        c.problem(
            "tickets.default_severity",
            format!(
                "{:?} is not a configured severity",
                raw.tickets.default_severity
            ),
        );
    }
    if vocabulary
        .request_types
        .exact(&raw.tickets.default_request_type)
        .is_none()
    {
        c.problem(
            "tickets.default_request_type",
            format!(
                "{:?} is not a configured request type",
                raw.tickets.default_request_type
            ),
        );
    }

    let smtp = raw.smtp.as_ref().map(|s| {
        let tls = c.tls("smtp.tls", &s.tls);
        if tls == TlsMode::None && !s.allow_plaintext && !is_loopback_host(&s.host) {
            c.problem("smtp.tls", "\"none\" sends passwords in clear: allowed only for a loopback host or with allow_plaintext = true");
        }
        if !valid_email(&s.from) {
            c.problem("smtp.from", format!("{:?} is not an email address", s.from));
        }
        if !(1..=64).contains(&s.connections) {
            c.problem("smtp.connections", format!("{} is not between 1 and 64", s.connections));
        }
        SmtpSettings {
            host: s.host.clone(),
            port: s.port.unwrap_or(match tls {
                TlsMode::Implicit => 465,
                TlsMode::StartTls => 587,
                TlsMode::None => 25,
            }),
            tls,
            username: s.username.clone(),
            password: c.secret("smtp.password", s.password.as_ref(), s.password_file.as_ref(), base),
            from: s.from.to_lowercase(),
            connections: s.connections,
        }
    });

    let outbox = OutboxSettings {
        retry_initial: c.duration(
            "outbox.retry_initial".into(),
            &raw.outbox.retry_initial,
            Duration::from_secs(60),
        ),
        retry_max: c.duration(
            "outbox.retry_max".into(),
            &raw.outbox.retry_max,
            Duration::from_secs(3600),
        ),
        give_up_after: c.duration(
            "outbox.give_up_after".into(),
            &raw.outbox.give_up_after,
            Duration::from_secs(48 * 3600),
        ),
    };
    let default_language =
        crate::intake::Language::parse(&raw.outbox.language).unwrap_or_else(|| {
            c.problem(
                "outbox.language",
                format!("{:?} is not one of en, fr", raw.outbox.language),
            );
            crate::intake::Language::En
        });

    let mut names = HashSet::new();
    let mut mailboxes = Vec::new();
    for (i, m) in raw.mailboxes.iter().enumerate() {
        let key = |field: &str| format!("mailboxes[{i}].{field}");
        if m.name.trim().is_empty() || !names.insert(m.name.clone()) {
            c.problem(
                key("name"),
                format!("{:?} must be a non-empty name used once", m.name),
            );
        }
        let tls = c.tls(&key("tls"), &m.tls);
        if tls == TlsMode::None && !m.allow_plaintext && !is_loopback_host(&m.host) {
            c.problem(key("tls"), "\"none\" sends passwords in clear: allowed only for a loopback host or with allow_plaintext = true");
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
        let post_action = match m.post_action.as_str() {
            "move" => PostAction::Move,
            "seen" => PostAction::Seen,
            "delete" => PostAction::Delete,
            other => {
                c.problem(
                    key("post_action"),
                    format!("{other:?} is not one of move, seen, delete"),
                );
                PostAction::Move
            }
        };
        let auth = match m.auth.as_str() {
            "login" => ImapAuth::Login,
            "plain" => ImapAuth::Plain,
            "xoauth2" => ImapAuth::XOAuth2,
            other => {
                c.problem(
                    key("auth"),
                    format!("{other:?} is not one of login, plain, xoauth2"),
                );
                ImapAuth::Login
            }
        };
        if auth != ImapAuth::XOAuth2 && m.password.is_none() && m.password_file.is_none() {
            c.problem(key("password"), "a password or password_file is required");
        }
        let oauth = (auth == ImapAuth::XOAuth2)
            .then(|| c.oauth(&key(""), m, base))
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
        let defaults = c.defaults(
            &format!("mailboxes[{i}]"),
            &vocabulary,
            m.default_severity.as_ref(),
            &m.default_products,
            m.default_request_type.as_ref(),
            m.default_language.as_ref(),
        );
        mailboxes.push(MailboxSettings {
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
            auth,
            ca_file,
            tls_insecure: m.tls_insecure,
            timeout,
            oauth,
            defaults,
        });
    }

    let mut maildirs = Vec::new();
    for (i, d) in raw.maildirs.iter().enumerate() {
        let key = |field: &str| format!("maildirs[{i}].{field}");
        if d.name.trim().is_empty() || !names.insert(d.name.clone()) {
            c.problem(
                key("name"),
                format!(
                    "{:?} must be a non-empty name used once (mailboxes included)",
                    d.name
                ),
            );
        }
        let poll_interval = c.duration(
            key("poll_interval"),
            &d.poll_interval,
            Duration::from_secs(1),
        );
        let defaults = c.defaults(
            &format!("maildirs[{i}]"),
            &vocabulary,
            d.default_severity.as_ref(),
            &d.default_products,
            d.default_request_type.as_ref(),
            d.default_language.as_ref(),
        );
        maildirs.push(MaildirSettings {
            name: d.name.clone(),
            processed_path: d
                .processed_path
                .clone()
                .unwrap_or_else(|| d.path.join("processed")),
            quarantine_path: d
                .quarantine_path
                .clone()
                .unwrap_or_else(|| d.path.join("quarantine")),
            path: d.path.clone(),
            poll_interval,
            defaults,
        });
    }

    let mut own_addresses: Vec<String> = raw
        .intake
        .own_addresses
        .iter()
        .map(|a| a.trim().to_lowercase())
        .collect();
    for (i, address) in own_addresses.iter().enumerate() {
        if !valid_email(address) {
            c.problem(
                format!("intake.own_addresses[{i}]"),
                format!("{address:?} is not an email address"),
            );
        }
    }
    own_addresses.extend(mailboxes.iter().filter_map(|m| m.address.clone()));
    own_addresses.extend(smtp.iter().map(|s| s.from.clone()));
    own_addresses.extend(raw.tickets.team_address.iter().map(|a| a.to_lowercase()));
    // Configuration order is kept: the first one signs our mail when there is
    // no [smtp] from.
    let mut seen = HashSet::new();
    own_addresses.retain(|a| seen.insert(a.clone()));

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Settings {
        database: DatabaseSettings { url, lease_timeout },
        intake: IntakeRules {
            vocabulary,
            key_prefix: prefix.clone(),
            own_addresses,
            max_message_size,
        },
        tickets: TicketSettings {
            key_prefix: prefix,
            tracking_url: raw.tickets.tracking_url.clone(),
            team_address: raw.tickets.team_address.as_ref().map(|a| a.to_lowercase()),
            confirm_follow_ups: raw.tickets.confirm_follow_ups,
            conversations: crate::store::ConversationRules {
                team_addresses,
                allow_field_changes,
                reopen_window: chrono::Duration::from_std(reopen_window)
                    .unwrap_or(chrono::Duration::days(30)),
            },
        },
        log_level: raw.log.level.clone(),
        http_listen,
        ops_listen,
        api_tokens,
        sender_policy,
        allowed_domains: raw
            .senders
            .allowed_domains
            .iter()
            .map(|d| d.to_lowercase())
            .collect(),
        no_reply_patterns: raw
            .senders
            .no_reply_patterns
            .iter()
            .map(|p| p.trim().to_lowercase())
            .collect(),
        auto_reply_limit: raw.senders.auto_reply_limit,
        smtp,
        outbox,
        outbox_directory: raw.outbox.directory.clone(),
        from_name: raw.outbox.from_name.clone(),
        default_language,
        templates_dir: raw.outbox.templates.clone(),
        mailboxes,
        maildirs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<Settings, Vec<Problem>> {
        let raw: RawSettings = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        validate(raw, None)
    }

    #[test]
    fn no_configuration_at_all_works() {
        let s = validate(RawSettings::default(), None).unwrap();
        assert_eq!(s.database.url, "sqlite://data/mailgate.db");
        assert_eq!(s.intake.max_message_size, 25 * 1024 * 1024);
        assert_eq!(s.intake.key_prefix, "SUP");
        assert_eq!(s.intake.vocabulary.severities.exact("haute"), Some("high"));
        assert_eq!(s.tracking_url("abc"), "http://127.0.0.1:8080/t/abc");
    }

    #[test]
    fn the_example_file_is_valid() {
        let s = from_toml(EXAMPLE).unwrap();
        assert!(!s.intake.vocabulary.products.terms().is_empty());
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_key() {
        let problems = from_toml(
            r#"
            [database]
            url = "mysql://x"
            [tickets]
            key_prefix = "sup"
            tracking_url = "ftp://x"
            default_severity = "apocalyptic"
            [intake]
            max_message_size = "huge"
            [senders]
            policy = "everyone"
            [[mailboxes]]
            name = "support"
            host = "imap.example.com"
            tls = "none"
            username = "u"
            poll_interval = "often"
            [[products]]
            name = "Atlas"
            aliases = ["nova"]
            [[products]]
            name = "Nova"
            "#,
        )
        .unwrap_err();
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        for key in [
            "database.url",
            "tickets.key_prefix",
            "tickets.tracking_url",
            "tickets.default_severity",
            "intake.max_message_size",
            "senders.policy",
            "mailboxes[0].tls",
            "mailboxes[0].poll_interval",
            "mailboxes[0].password",
            "products[1]",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(
            &path,
            "[tickets]\nkey_prefix = \"HELP\"\n[database]\nurl = \"sqlite://a.db\"\n",
        )
        .unwrap();
        let env = HashMap::from([
            (
                "MAILGATE__DATABASE__URL".to_owned(),
                "sqlite://b.db".to_owned(),
            ),
            (
                "MAILGATE__INTAKE__OWN_ADDRESSES".to_owned(),
                "a@x.fr,B@x.fr".to_owned(),
            ),
            (
                "MAILGATE__INTAKE__MAX_MESSAGE_SIZE".to_owned(),
                "2048".to_owned(),
            ),
        ]);
        let s = load(Some(&path), Some(env)).unwrap();
        assert_eq!(s.database.url, "sqlite://b.db");
        assert_eq!(s.intake.key_prefix, "HELP");
        assert_eq!(s.intake.own_addresses, ["a@x.fr", "b@x.fr"]);
        assert_eq!(s.intake.max_message_size, 2048);
    }

    #[test]
    fn secrets_come_from_files_and_never_show_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "hunter2\n").unwrap();
        let raw: RawSettings = config::Config::builder()
            .add_source(config::File::from_str(
                "[[mailboxes]]\nname = \"s\"\nhost = \"127.0.0.1\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"pw\"\n",
                config::FileFormat::Toml,
            ))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        let s = validate(raw, Some(dir.path())).unwrap();
        let password = s.mailboxes[0].password.as_ref().unwrap();
        assert_eq!(password.expose(), "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn byte_sizes() {
        for (text, expected) in [
            ("25MiB", Some(25 << 20)),
            ("10 MB", Some(10_000_000)),
            ("512k", Some(512_000)),
            ("1000", Some(1000)),
            ("lots", None),
            ("5 parsecs", None),
        ] {
            assert_eq!(parse_byte_size(text), expected, "{text}");
        }
    }
}
