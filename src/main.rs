//! `commentguard`: parse the command line and hand over to `cli`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = commentguard::cli::Cli::parse();
    match commentguard::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("commentguard: {e:#}");
            ExitCode::FAILURE
        }
    }
}
