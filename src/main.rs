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

    /// Log format on standard error. Levels come from RUST_LOG (default warn).
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
    /// (data/inbox when none is configured) until SIGTERM or SIGINT.
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
    /// Create or upgrade the database schema.
    Migrate,
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
enum ConfigAction {
    /// Print the commented example configuration.
    Example,
    /// Check the configuration and print every problem.
    Check,
}

/// Logs go to standard error: `info` for the daemon, `warn` for the
/// one-shot commands whose output is their standard output.
fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // html5ever reports markup it renders imperfectly at warn level:
        // customers' HTML is what it is, operators cannot act on it.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!("{default_level},html5ever=error"))
        });
    // Colours only on a terminal: journald and log files get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if matches!(cli.command, Command::Run { .. }) {
        "info"
    } else {
        "warn"
    };
    init_logging(cli.log_format, level);

    if let Command::Config {
        action: ConfigAction::Example,
    } = cli.command
    {
        print!("{}", config::EXAMPLE);
        return ExitCode::SUCCESS;
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
            Command::Run { once } => mailgate::daemon::run(settings.clone(), *once).await,
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
            Command::Config { .. } | Command::ApiToken { .. } => exit::OK,
        }
    });
    ExitCode::from(status)
}
