//! Logging on standard error: the level from `RUST_LOG`, else the
//! configuration, else the command's default; text or JSON; credentials
//! that libraries trace dropped whatever the level.

use clap::ValueEnum;

#[derive(Clone, Copy, ValueEnum)]
pub(super) enum LogFormat {
    Text,
    Json,
}

/// Logs go to standard error: `info` for the daemon, `warn` for the
/// one-shot commands whose output is their standard output.
/// Logging: `RUST_LOG` when set, else `log.level` from the configuration,
/// else `default_level`.
pub(super) fn init_logging(format: LogFormat, default_level: &str, configured: Option<&str>) {
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
