//! `mailgate`: parses the command line and exits with the status of the
//! command (`mailgate::cli`).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    mailgate::memory::limit_malloc_arenas();
    let cli = mailgate::cli::Cli::parse();
    ExitCode::from(mailgate::cli::main(cli))
}
