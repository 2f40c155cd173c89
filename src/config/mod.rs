//! Settings: built-in defaults, then the TOML file, then `MAILGATE__SECTION__KEY`
//! environment variables. The file is read into [`RawSettings`] (`raw.rs`:
//! plain strings where a value has rules), then [`validate`] checks it
//! section by section (one module each) into [`Settings`], reporting every
//! problem at once, each naming its key.

mod checker;
mod database;
mod http;
mod intake;
mod mailboxes;
mod maildirs;
mod outbox;
mod portal;
mod raw;
mod retention;
mod routes;
mod secret;
mod senders;
mod smtp;
#[cfg(test)]
mod tests;
mod tickets;
mod vocabulary;
mod webhooks;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use checker::parse_byte_size;
pub use database::{DatabaseSettings, redact_url};
pub use http::{ApiToken, ConnectionLimits};
pub use intake::{IntakeRules, MailboxDefaults, SpamRules};
pub use mailboxes::{ImapAuth, Initial, MailboxSettings, PostAction, TokenSourceSettings};
pub use maildirs::MaildirSettings;
pub use outbox::OutboxSettings;
pub use portal::{PortalSettings, RawPortal};
pub use raw::*;
pub use retention::RetentionRules;
pub use routes::{DEFAULT_QUEUE, Route, RouteFacts, Routes};
pub use secret::Secret;
pub use smtp::SmtpSettings;
pub use tickets::{ConversationRules, QuietRules, TicketSettings};
pub use webhooks::WebhookSettings;

use crate::model::{Language, SenderPolicy};

/// The commented example configuration, printed by `mailgate config example`.
pub const EXAMPLE: &str = include_str!("../../config/mailgate.example.toml");

/// Where `--config` points when not given.
pub const DEFAULT_PATH: &str = "config/mailgate.toml";

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
    /// The limits of both listeners (`http.max_connections`, …).
    pub http_limits: ConnectionLimits,
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
    pub default_language: Language,
    /// A folder whose templates replace the built-in ones by name.
    pub templates_dir: Option<PathBuf>,
    pub mailboxes: Vec<MailboxSettings>,
    /// Local folders to watch. With no mailbox and no maildir configured,
    /// `data/inbox` is watched.
    pub maildirs: Vec<MaildirSettings>,
    /// The customer portal (`/portal/`).
    pub portal: PortalSettings,
    /// Which team each new ticket goes to (`[[routes]]`).
    pub routes: Routes,
    /// Where events on tickets are POSTed (`[[webhooks]]`).
    pub webhooks: Vec<WebhookSettings>,
    /// How long what is stored is kept (`[retention]`).
    pub retention: RetentionRules,
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

/// Checks everything and builds the settings, or lists every problem.
/// `base` is the folder of the configuration file, for relative `*_file`
/// paths.
pub fn validate(raw: RawSettings, base: Option<&Path>) -> Result<Settings, Vec<Problem>> {
    let mut c = checker::Checker::default();
    let database = database::database(&mut c, &raw.database);
    let max_message_size = intake::max_message_size(&mut c, &raw.intake);
    let spam = intake::spam_rules(&mut c, &raw.intake);
    let trusted_authserv_ids = intake::trusted_authserv_ids(&mut c, &raw.intake);
    let tickets = tickets::tickets(&mut c, &raw.tickets);
    let http = http::http(&mut c, &raw.http);
    if let Some(level) = &raw.log.level
        && tracing_subscriber::EnvFilter::try_new(level).is_err()
    {
        c.problem(
            "log.level",
            format!("{level:?} is not a log filter like \"info\" or \"mailgate=debug,info\""),
        );
    }
    let senders = senders::senders(&mut c, &raw.senders);
    let vocabulary = vocabulary::vocabulary(&mut c, &raw);
    let smtp = raw.smtp.as_ref().map(|s| smtp::smtp(&mut c, s, base));
    let outbox = outbox::outbox(&mut c, &raw.outbox);
    let portal = portal::portal(&mut c, &raw.portal);
    let mut names = HashSet::new();
    let mailboxes = mailboxes::mailboxes(&mut c, &raw.mailboxes, &vocabulary, &mut names, base);
    let maildirs = maildirs::maildirs(&mut c, &raw.maildirs, &vocabulary, &mut names);
    let sources: Vec<String> = (mailboxes.iter().map(|m| m.name.clone()))
        .chain(maildirs.iter().map(|m| m.name.clone()))
        .collect();
    let routes = routes::routes(&mut c, &raw.routes, &vocabulary, &sources);
    let webhooks = webhooks::webhooks(&mut c, &raw.webhooks, base);
    let retention = retention::retention(&mut c, &raw.retention);

    let mut own_addresses = intake::own_addresses(&mut c, &raw.intake);
    own_addresses.extend(mailboxes.iter().filter_map(|m| m.address.clone()));
    own_addresses.extend(smtp.iter().map(|s| s.from.clone()));
    own_addresses.extend(tickets.team_address.clone());
    own_addresses.extend(routes.team_addresses().map(str::to_owned));
    // Configuration order is kept: the first one signs our mail when there is
    // no [smtp] from.
    let mut seen = HashSet::new();
    own_addresses.retain(|a| seen.insert(a.clone()));

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Settings {
        database,
        intake: IntakeRules {
            vocabulary,
            key_prefix: tickets.key_prefix.clone(),
            own_addresses,
            max_message_size,
            spam,
            trusted_authserv_ids,
        },
        tickets,
        log_level: raw.log.level.clone(),
        http_listen: http.listen,
        ops_listen: http.ops_listen,
        http_limits: http.limits,
        api_tokens: http.api_tokens,
        sender_policy: senders.policy,
        allowed_domains: senders.allowed_domains,
        no_reply_patterns: senders.no_reply_patterns,
        auto_reply_limit: senders.auto_reply_limit,
        smtp,
        outbox: outbox.retries,
        outbox_directory: outbox.directory,
        from_name: outbox.from_name,
        default_language: outbox.language,
        templates_dir: outbox.templates,
        mailboxes,
        maildirs,
        portal,
        routes,
        webhooks,
        retention,
    })
}
