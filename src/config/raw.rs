//! The configuration file as written: every section with its built-in
//! defaults, plain strings where a value has rules (durations, sizes,
//! closed sets), checked and typed by the section modules.

use std::path::PathBuf;

use serde::Deserialize;

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
    pub portal: super::portal::RawPortal,
    pub mailboxes: Vec<RawMailbox>,
    pub maildirs: Vec<RawMaildir>,
    pub routes: Vec<super::routes::RawRoute>,
    pub webhooks: Vec<super::webhooks::RawWebhook>,
    pub retention: RawRetention,
    pub severities: Option<Vec<RawTerm>>,
    pub products: Vec<RawTerm>,
    pub request_types: Option<Vec<RawTerm>>,
}

/// `[retention]` as written: durations, all unset by default (everything
/// is kept).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default, deny_unknown_fields)]
pub struct RawRetention {
    pub raw_messages: Option<String>,
    pub outgoing_mail: Option<String>,
    pub quarantine: Option<String>,
    pub closed_tickets: Option<String>,
    pub closed_tickets_mode: Option<String>,
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
    pub spam: String,
    pub spam_scl_level: i64,
    pub trusted_authserv_ids: Vec<String>,
}

impl Default for RawIntake {
    fn default() -> Self {
        RawIntake {
            max_message_size: ByteSizeText::Text("25MiB".into()),
            own_addresses: Vec::new(),
            spam: "ignore".into(),
            spam_scl_level: 5,
            trusted_authserv_ids: Vec::new(),
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
    pub team_language: Option<String>,
    pub pending_reminder_after: Option<String>,
    pub auto_resolve_pending_after: Option<String>,
    pub auto_close_resolved_after: Option<String>,
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
            team_language: None,
            pending_reminder_after: None,
            auto_resolve_pending_after: None,
            auto_close_resolved_after: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawHttp {
    pub listen: String,
    pub ops_listen: String,
    pub api_tokens: Vec<RawApiToken>,
    pub max_connections: usize,
    pub header_timeout: String,
    pub request_timeout: String,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            listen: "127.0.0.1:8080".into(),
            ops_listen: "127.0.0.1:8081".into(),
            api_tokens: Vec::new(),
            max_connections: 256,
            header_timeout: "10s".into(),
            request_timeout: "2m".into(),
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
    #[serde(default = "default_initial")]
    pub initial: String,
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

/// A source's default fields as written, for either kind of source.
pub struct DefaultsText<'a> {
    pub severity: Option<&'a String>,
    pub products: &'a [String],
    pub request_type: Option<&'a String>,
    pub language: Option<&'a String>,
}

impl RawMailbox {
    pub fn defaults(&self) -> DefaultsText<'_> {
        DefaultsText {
            severity: self.default_severity.as_ref(),
            products: &self.default_products,
            request_type: self.default_request_type.as_ref(),
            language: self.default_language.as_ref(),
        }
    }
}

impl RawMaildir {
    pub fn defaults(&self) -> DefaultsText<'_> {
        DefaultsText {
            severity: self.default_severity.as_ref(),
            products: &self.default_products,
            request_type: self.default_request_type.as_ref(),
            language: self.default_language.as_ref(),
        }
    }
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
fn default_initial() -> String {
    "all".into()
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
    /// `labels = { fr = "Haute", en = "High" }`.
    #[serde(default)]
    pub labels: RawLabels,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLabels {
    pub fr: Option<String>,
    pub en: Option<String>,
}
