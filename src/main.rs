//! `mailgate`: arguments, logging, configuration, then the command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use mailgate::commands::{self, exit};
use mailgate::config;

#[derive(Parser)]
#[command(
    name = "mailgate",
    version,
    about = "Turns email sent to a support address into tickets"
)]
struct Cli {
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

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway: watch every configured IMAP mailbox and maildir
    /// (data/inbox when none is configured), send replies, serve the
    /// tracking page (http.listen) and health and metrics (http.ops_listen)
    /// until SIGTERM or SIGINT. SIGHUP reloads the configuration and
    /// templates; an invalid one is refused and the running one stays.
    /// Speaks sd_notify under systemd (Type=notify, watchdog).
    Run {
        /// Process everything waiting in every source, then exit: 0 when all
        /// were processed, 75 when one could not be (messages stay there).
        #[arg(long)]
        once: bool,
    },
    /// File messages as tickets: files, Maildir or plain folders (their *.eml
    /// files), or standard input ("-" or nothing). Exit status for MTAs: 0
    /// done, 65 rejected message, 66 unreadable file, 75 database
    /// unavailable (retry later).
    Ingest {
        /// Messages to file.
        paths: Vec<PathBuf>,
        /// Apply the defaults of this configured mailbox (product, severity,
        /// request type).
        #[arg(long)]
        mailbox: Option<String>,
        /// Print each decision as JSON and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List and show tickets.
    Tickets {
        #[command(subcommand)]
        action: TicketsAction,
    },
    /// Registered customers (who may open tickets under senders.policy =
    /// "registered").
    Customers {
        #[command(subcommand)]
        action: CustomersCmd,
    },
    /// Received messages: list them, show one, file quarantined ones again.
    Messages {
        #[command(subcommand)]
        action: MessagesAction,
    },
    /// File every message of an mbox file or a Maildir (old mail, a mailbox
    /// export). Nothing is moved; messages filed before are recognised, so
    /// running it again files nothing new. The mail it would send
    /// (confirmations, notifications) is recorded as suppressed unless
    /// --send-replies. Exit status: 0, 65 a message was rejected (or the
    /// file is not an mbox), 66 unreadable input, 75 database unavailable.
    Import {
        #[command(subcommand)]
        source: ImportCmd,
    },
    /// Create or upgrade the database schema.
    Migrate,
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
    Check {
        /// One JSON document instead of lines.
        #[arg(long)]
        json: bool,
        /// Create missing processed and quarantine folders on IMAP servers
        /// now (as `run` would at start) instead of reporting them.
        #[arg(long)]
        create_folders: bool,
    },
    /// Make a bearer token for the team API and print the configuration
    /// lines that accept it.
    ApiToken {
        /// Who will use it (a tool, a person), recorded as `api:NAME`.
        name: String,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Subcommand)]
enum TicketsAction {
    /// Tickets, newest first: a table, or one JSON object per line.
    List {
        #[arg(long)]
        json: bool,
        /// Only tickets with this status (open, pending, resolved, closed).
        #[arg(long)]
        status: Option<String>,
    },
    /// One ticket with its comments, attachments and history.
    Show {
        /// Ticket key, e.g. SUP-42.
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Answer the customer: a public reply mailed to the reporter and
    /// watchers, threaded, and shown on the tracking page.
    Reply {
        key: String,
        #[command(flatten)]
        text: ActionText,
        /// A file to send with the reply (repeatable).
        #[arg(long, value_name = "FILE")]
        attach: Vec<PathBuf>,
        #[command(flatten)]
        author: Author,
    },
    /// Change the status (open, pending, resolved, closed); the customer is
    /// told by mail, with the message when one is given.
    Status {
        key: String,
        #[arg(value_parser = ["open", "pending", "resolved", "closed"])]
        status: String,
        #[arg(long, short)]
        message: Option<String>,
        #[command(flatten)]
        author: Author,
    },
    /// An internal note: never mailed, never shown to the customer.
    Note {
        key: String,
        #[command(flatten)]
        text: ActionText,
        #[command(flatten)]
        author: Author,
    },
}

#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct ActionText {
    /// The text.
    #[arg(long, short)]
    message: Option<String>,
    /// Read the text from a file ("-" for standard input).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
}

#[derive(clap::Args)]
struct Author {
    /// Who acts, recorded in the history [default: $MAILGATE_AGENT, else
    /// "cli:$USER"].
    #[arg(long = "as", value_name = "EMAIL", env = "MAILGATE_AGENT")]
    author: Option<String>,
}

impl Author {
    fn name(&self) -> String {
        self.author.clone().unwrap_or_else(|| {
            format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            )
        })
    }
}

#[derive(Subcommand)]
enum CustomersCmd {
    /// Register a customer (or update one).
    Add {
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        org: Option<String>,
        /// Language of the mail they get: en or fr.
        #[arg(long)]
        lang: Option<String>,
    },
    /// Register every row of a CSV file with a header line:
    /// email,name,organisation,language (only email is required).
    Import { file: PathBuf },
    /// Registered customers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Unregister a customer; their tickets stay.
    Remove { email: String },
}

#[derive(Subcommand)]
enum MessagesAction {
    /// Received messages, newest first: id, date, source, outcome, reason,
    /// ticket, size; or one JSON object per line.
    List {
        /// Only messages with this outcome. "quarantined" means "rejected":
        /// the messages sources move to their quarantine folder.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(mailgate::replay::STATUSES))]
        status: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<i64>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// One message: the decision it got, its headers and what intake
    /// decides now (what a retry would file); or its raw bytes.
    Show {
        id: i64,
        /// The message exactly as stored, on standard output.
        #[arg(long, conflicts_with = "json")]
        raw: bool,
        /// One JSON object: the record, its retries, the decision now.
        #[arg(long)]
        json: bool,
    },
    /// File a quarantined (rejected) message again, decided afresh with the
    /// current configuration, on its own record. Exit status: 0, 65 when a
    /// message is rejected again or is not quarantined (already filed), 75
    /// database unavailable.
    Retry {
        #[arg(
            required_unless_present = "all_quarantined",
            conflicts_with = "all_quarantined"
        )]
        id: Option<i64>,
        /// Every quarantined message, oldest first.
        #[arg(long)]
        all_quarantined: bool,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// An mbox file (mboxo or mboxrd, LF or CRLF).
    Mbox {
        file: PathBuf,
        #[command(flatten)]
        options: ImportOptions,
    },
    /// A Maildir: the messages in cur/ and new/.
    Maildir {
        dir: PathBuf,
        #[command(flatten)]
        options: ImportOptions,
    },
}

#[derive(clap::Args)]
struct ImportOptions {
    /// Apply the defaults of this configured mailbox (product, severity,
    /// request type) and record it as the messages' mailbox.
    #[arg(long)]
    mailbox: Option<String>,
    /// Send the confirmations and notifications of the imported messages
    /// (by default they are recorded as suppressed, "imported").
    #[arg(long)]
    send_replies: bool,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Print the commented example configuration.
    Example,
    /// Check the configuration and print every problem.
    Check,
}

/// Logs go to standard error: `info` for the daemon, `warn` for the
/// one-shot commands whose output is their standard output.
/// Logging: `RUST_LOG` when set, else `log.level` from the configuration,
/// else `default_level`.
fn init_logging(format: LogFormat, default_level: &str, configured: Option<&str>) {
    use tracing_subscriber::filter::filter_fn;
    use tracing_subscriber::prelude::*;

    let levels = tracing_subscriber::EnvFilter::try_from_default_env()
        // html5ever reports markup it renders imperfectly at warn level:
        // customers' HTML is what it is, operators cannot act on it.
        .unwrap_or_else(|_| {
            let level = configured.unwrap_or(default_level);
            tracing_subscriber::EnvFilter::new(format!("{level},html5ever=error"))
        });
    // async-imap traces every command it sends, LOGIN and AUTHENTICATE with
    // their credentials included: those events are dropped whatever
    // RUST_LOG asks, span-scoped directives included
    // (tests/security/logs.rs checks).
    let no_credentials = filter_fn(|meta| {
        !(meta.target().starts_with("async_imap::imap_stream")
            && *meta.level() == tracing::Level::TRACE)
    });
    // Global filters, not per-layer ones: sqlx asks whether its statement
    // events are enabled without then sending one, and a per-layer filter
    // left that answer standing for the next event of the thread, which was
    // dropped (the first event after most queries: warnings included).
    // Colours only on a terminal: journald and log files get plain text.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(levels)
            .with(no_credentials)
            .with(layer)
            .init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(levels)
            .with(no_credentials)
            .with(layer.json())
            .init(),
    }
}

fn main() -> ExitCode {
    mailgate::memory::limit_malloc_arenas();
    let cli = Cli::parse();
    let level = if matches!(cli.command, Command::Run { .. }) {
        "info"
    } else {
        "warn"
    };
    // Commands that read the configuration their own way log at the default
    // level; the others once the configuration says which.
    if matches!(
        cli.command,
        Command::Config {
            action: ConfigAction::Example
        } | Command::Check { .. }
            | Command::ApiToken { .. }
    ) {
        init_logging(cli.log_format, level, None);
    }

    if let Command::Config {
        action: ConfigAction::Example,
    } = cli.command
    {
        print!("{}", config::EXAMPLE);
        return ExitCode::SUCCESS;
    }
    if let Command::Check {
        json,
        create_folders,
    } = cli.command
    {
        let options = mailgate::check::Options {
            json,
            create_folders,
        };
        return ExitCode::from(mailgate::check::main(cli.config.as_deref(), options));
    }
    if let Command::ApiToken { name } = &cli.command {
        return ExitCode::from(commands::api_token(name));
    }
    let settings = match config::load(cli.config.as_deref(), None) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("mailgate: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    init_logging(cli.log_format, level, settings.log_level.as_deref());
    if let Command::Config {
        action: ConfigAction::Check,
    } = cli.command
    {
        println!("configuration is valid");
        return ExitCode::SUCCESS;
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailgate: cannot start the async runtime: {e}");
            return ExitCode::from(exit::SOFTWARE);
        }
    };
    let status = runtime.block_on(async {
        match &cli.command {
            Command::Run { once } => {
                mailgate::daemon::run(settings.clone(), cli.config.clone(), *once).await
            }
            Command::Ingest {
                paths,
                mailbox,
                dry_run,
            } => commands::ingest(&settings, paths, mailbox.as_deref(), *dry_run).await,
            Command::Tickets {
                action: TicketsAction::List { json, status },
            } => commands::tickets_list(&settings, status.as_deref(), *json).await,
            Command::Tickets {
                action: TicketsAction::Show { key, json },
            } => commands::tickets_show(&settings, key, *json).await,
            Command::Tickets {
                action:
                    TicketsAction::Reply {
                        key,
                        text,
                        attach,
                        author,
                    },
            } => match commands::action_text(text.message.as_deref(), text.file.as_deref()) {
                Ok(text) => {
                    let action = commands::TeamAction::Reply {
                        text,
                        attachments: attach,
                    };
                    commands::team_action(&settings, key, &author.name(), action).await
                }
                Err(why) => {
                    eprintln!("mailgate: {why}");
                    exit::USAGE
                }
            },
            Command::Tickets {
                action: TicketsAction::Note { key, text, author },
            } => match commands::action_text(text.message.as_deref(), text.file.as_deref()) {
                Ok(text) => {
                    let action = commands::TeamAction::Note { text };
                    commands::team_action(&settings, key, &author.name(), action).await
                }
                Err(why) => {
                    eprintln!("mailgate: {why}");
                    exit::USAGE
                }
            },
            Command::Tickets {
                action:
                    TicketsAction::Status {
                        key,
                        status,
                        message,
                        author,
                    },
            } => {
                let action = commands::TeamAction::Status {
                    status,
                    message: message.as_deref().map(mailgate::intake::body::tidy),
                };
                commands::team_action(&settings, key, &author.name(), action).await
            }
            Command::Messages { action } => match action {
                MessagesAction::List {
                    status,
                    limit,
                    json,
                } => {
                    mailgate::replay::messages_list(&settings, status.as_deref(), *limit, *json)
                        .await
                }
                MessagesAction::Show { id, raw, json } => {
                    mailgate::replay::messages_show(&settings, *id, *raw, *json).await
                }
                MessagesAction::Retry {
                    id,
                    all_quarantined,
                } => {
                    let target = match id {
                        Some(id) if !*all_quarantined => mailgate::replay::RetryTarget::One(*id),
                        _ => mailgate::replay::RetryTarget::AllQuarantined,
                    };
                    mailgate::replay::messages_retry(&settings, target).await
                }
            },
            Command::Import { source } => {
                let (source, options) = match source {
                    ImportCmd::Mbox { file, options } => {
                        (mailgate::replay::ImportSource::Mbox(file), options)
                    }
                    ImportCmd::Maildir { dir, options } => {
                        (mailgate::replay::ImportSource::Maildir(dir), options)
                    }
                };
                mailgate::replay::import(
                    &settings,
                    source,
                    options.mailbox.as_deref(),
                    options.send_replies,
                )
                .await
            }
            Command::Migrate => commands::migrate(&settings).await,
            Command::Customers { action } => {
                use commands::CustomersAction as A;
                let action = match action {
                    CustomersCmd::Add {
                        email,
                        name,
                        org,
                        lang,
                    } => A::Add {
                        email,
                        name: name.as_deref(),
                        organisation: org.as_deref(),
                        language: lang.as_deref(),
                    },
                    CustomersCmd::Import { file } => A::Import { file },
                    CustomersCmd::List { json } => A::List { json: *json },
                    CustomersCmd::Remove { email } => A::Remove { email },
                };
                commands::customers(&settings, action).await
            }
            Command::Config { .. } | Command::ApiToken { .. } | Command::Check { .. } => exit::OK,
        }
    });
    ExitCode::from(status)
}
