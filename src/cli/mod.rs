//! The command line: the top-level arguments and options, and the dispatch
//! to the command families (one module each, with its clap arguments beside
//! the code that runs it). `src/main.rs` parses and exits with what
//! [`main`] returns.

mod api_token;
pub mod check;
mod config;
mod counts;
mod customers;
mod gdpr;
mod import;
mod ingest;
mod logging;
mod maintain;
mod messages;
mod migrate;
mod outbox;
mod retry;
mod run;
mod team;
mod tickets;
mod webhooks;
mod zip;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::exit::{self, store_failure};
use crate::intake::MailboxDefaults;
use crate::store::Store;
use logging::{LogFormat, init_logging};

#[derive(Parser)]
#[command(
    name = "mailgate",
    version,
    about = "Turns email sent to a support address into tickets"
)]
pub struct Cli {
    /// Configuration file [default: config/mailgate.toml when present, else
    /// built-in defaults]. MAILGATE__SECTION__KEY variables override it.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// Log format on standard error. Levels come from RUST_LOG, else
    /// log.level in the configuration (default info for run, warn
    /// otherwise).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: watch every configured IMAP mailbox and maildir
    /// (data/inbox when none is configured), send replies, serve the
    /// tracking page (http.listen) and health and metrics (http.ops_listen)
    /// until SIGTERM or SIGINT. SIGHUP reloads the configuration and
    /// templates; an invalid one is refused and the running one stays.
    /// Speaks sd_notify under systemd (Type=notify, watchdog).
    Run(run::RunArgs),
    /// File messages as tickets: files, Maildir or plain folders (their *.eml
    /// files), or standard input ("-" or nothing).
    ///
    /// Exit status, for MTAs (the worst message's): 0 filed (ticket, comment,
    /// ignored robot, duplicate) or refused with an answer from mailgate (the
    /// registered policy's reply; the one notice to the sender of a message
    /// too large read from a file or folder); 65 refused and not answered,
    /// so that the MTA bounces it (too large on standard input, where that
    /// bounce is the sender's notice; empty, no sender, spam,
    /// unauthenticated); 66 unreadable file; 75 database unavailable (retry
    /// later); 78 invalid configuration.
    Ingest(ingest::IngestArgs),
    /// List and show tickets.
    Tickets {
        #[command(subcommand)]
        action: tickets::TicketsAction,
    },
    /// Registered customers (who may open tickets under senders.policy =
    /// "registered").
    Customers {
        #[command(subcommand)]
        action: customers::CustomersCmd,
    },
    /// Received messages: list them, show one, file quarantined ones again.
    Messages {
        #[command(subcommand)]
        action: messages::MessagesAction,
    },
    /// The mail mailgate sends: list it, queue failed mail again.
    Outbox {
        #[command(subcommand)]
        action: outbox::OutboxAction,
    },
    /// What was told to the [[webhooks]]: list it, queue failed deliveries
    /// again.
    Webhooks {
        #[command(subcommand)]
        action: webhooks::WebhooksAction,
    },
    /// File every message of an mbox file or a Maildir (old mail, a mailbox
    /// export). Nothing is moved; messages filed before are recognised, so
    /// running it again files nothing new. The mail it would send
    /// (confirmations, notifications) is recorded as suppressed unless
    /// --send-replies. Exit status: 0, 65 a message was rejected (or the
    /// file is not an mbox), 66 unreadable input, 75 database unavailable.
    Import {
        #[command(subcommand)]
        source: import::ImportCmd,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Apply the [retention] rules now and delete contents no row refers
    /// to any more (the daemon does this once a day); print what was
    /// removed, by rule, and the bytes reclaimed. Exit status: 0, 75 when
    /// another instance is maintaining the database or it is unavailable.
    Maintain(maintain::MaintainArgs),
    /// Check the configuration, the database, the mailboxes and the SMTP
    /// server; ✓ or ✗ per item.
    ///
    /// Everything is used as `run` would: the database (opened as `run` does:
    /// a SQLite file is created, migrations applied), each IMAP mailbox
    /// (connection, TLS, login, IDLE, MOVE and UIDPLUS, folders), each local
    /// folder, the SMTP server (connection, EHLO, STARTTLS, AUTH). One line
    /// per item: ✓ works, ! works with a limitation (a missing IMAP
    /// capability: mailgate polls or copies instead; a processed or
    /// quarantine folder that `run` creates at start), ✗ fails, with a hint.
    /// Nothing is changed on IMAP servers unless --create-folders.
    ///
    /// Exit status: 0 when nothing failed (warnings allowed), 1 when
    /// something failed, 78 invalid configuration (every problem listed,
    /// nothing else checked).
    Check(check::Options),
    /// Make a bearer token for the team API and print the configuration
    /// lines that accept it.
    ApiToken(api_token::ApiTokenArgs),
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        action: config::ConfigAction,
    },
}

/// Runs the command: logging, configuration, runtime, then the command.
/// Returns the exit status.
pub fn main(cli: Cli) -> u8 {
    let level = if matches!(cli.command, Command::Run(_)) {
        "info"
    } else {
        "warn"
    };
    // Commands that read the configuration their own way log at the default
    // level; the others once the configuration says which.
    match &cli.command {
        Command::Config {
            action: config::ConfigAction::Example,
        } => {
            init_logging(cli.log_format, level, None);
            return config::example();
        }
        Command::Check(options) => {
            init_logging(cli.log_format, level, None);
            return check::main(cli.config.as_deref(), *options);
        }
        Command::ApiToken(args) => {
            init_logging(cli.log_format, level, None);
            return api_token::execute(args);
        }
        _ => {}
    }
    let settings = match crate::config::load(cli.config.as_deref(), None) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("mailgate: {e}");
            return exit::CONFIG;
        }
    };
    init_logging(cli.log_format, level, settings.log_level.as_deref());
    if let Command::Config {
        action: config::ConfigAction::Check,
    } = cli.command
    {
        return config::check();
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailgate: cannot start the async runtime: {e}");
            return exit::SOFTWARE;
        }
    };
    runtime.block_on(execute(&cli, settings))
}

/// The commands that run with the configuration loaded, on the runtime.
async fn execute(cli: &Cli, settings: Settings) -> u8 {
    match &cli.command {
        Command::Run(args) => run::execute(args, settings, cli.config.clone()).await,
        Command::Ingest(args) => ingest::execute(&settings, args).await,
        Command::Tickets { action } => tickets::execute(&settings, action).await,
        Command::Customers { action } => customers::execute(&settings, action).await,
        Command::Messages { action } => messages::execute(&settings, action).await,
        Command::Outbox { action } => outbox::execute(&settings, action).await,
        Command::Webhooks { action } => webhooks::execute(&settings, action).await,
        Command::Import { source } => import::execute(&settings, source).await,
        Command::Migrate => migrate::execute(&settings).await,
        Command::Maintain(args) => maintain::execute(&settings, args).await,
        Command::Config { .. } | Command::ApiToken(_) | Command::Check(_) => exit::OK,
    }
}

/// Opens the store for a one-shot command, or says why not and gives the
/// exit status.
async fn open_store(settings: &Settings) -> Result<Store, u8> {
    crate::wiring::open_store(settings).await.map_err(|e| {
        eprintln!("mailgate: {e}");
        store_failure(&e)
    })
}

/// The defaults of `--mailbox NAME` (product, severity, request type), or
/// says that no mailbox has that name and gives the exit status.
fn mailbox_defaults(settings: &Settings, mailbox: Option<&str>) -> Result<MailboxDefaults, u8> {
    match mailbox {
        Some(name) => {
            if let Some(defaults) = settings.source_defaults(name) {
                Ok(defaults.clone())
            } else {
                eprintln!("mailgate: no mailbox named {name:?} in the configuration");
                Err(exit::CONFIG)
            }
        }
        None => Ok(MailboxDefaults::default()),
    }
}
