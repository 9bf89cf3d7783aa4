//! `commentguard`: parse the command line and hand over to `cli`.

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of glibc malloc: a request allocates many small short-lived buffers (protobuf, JSON, Redis
/// replies) across two worker threads, where glibc's arenas measured ~10% of the service's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = commentguard::commands::Cli::parse();
    match commentguard::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("commentguard: {e:#}");
            ExitCode::FAILURE
        }
    }
}
