//! `mailgate run [--once]`: the gateway itself (see `crate::daemon`).

use std::path::PathBuf;

use crate::config::Settings;

// The help of `run` is the doc comment of `Command::Run`.
#[derive(clap::Args)]
pub(super) struct RunArgs {
    /// Process everything waiting in every source, then exit: 0 when all
    /// were processed, 75 when one could not be (messages stay there).
    #[arg(long)]
    once: bool,
}

pub(super) async fn execute(args: &RunArgs, settings: Settings, config: Option<PathBuf>) -> u8 {
    crate::daemon::run(settings, config, args.once).await
}
