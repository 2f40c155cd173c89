//! `mailgate config example|check`: the commented example configuration,
//! and checking the configuration alone.

use crate::exit;

#[derive(clap::Subcommand)]
pub(super) enum ConfigAction {
    /// Print the commented example configuration.
    Example,
    /// Check the configuration and print every problem.
    Check,
}

/// `mailgate config example`.
pub(super) fn example() -> u8 {
    print!("{}", crate::config::EXAMPLE);
    exit::OK
}

/// `mailgate config check`, once the configuration has loaded (its
/// problems are printed by the loading).
pub(super) fn check() -> u8 {
    println!("configuration is valid");
    exit::OK
}
