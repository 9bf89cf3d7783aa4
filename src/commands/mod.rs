//! The command line (DESIGN §6): `serve`, `check`, `train`, and `model` (a site's learned spam model).

pub mod check;
pub mod model;
pub mod serve;
pub mod train;

use crate::config::{Config, LogFormat, Overrides};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "commentguard", version, about = "Comment moderation service: PII, spam and policy checks over gRPC")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gRPC service (embedded in-memory store unless a Redis URL is configured).
    Serve {
        /// TOML configuration file; without one, dev mode with printed demo credentials.
        #[arg(long)]
        config: Option<PathBuf>,
        /// gRPC listen address (overrides server.listen).
        #[arg(long)]
        listen: Option<String>,
        /// Redis URL (overrides store.redis_url).
        #[arg(long)]
        redis_url: Option<String>,
        /// Log format (overrides server.log_format).
        #[arg(long, value_enum)]
        log_format: Option<LogFormatArg>,
    },
    /// Analyse comments offline (JSON Lines in, one JSON verdict per line out).
    Check(check::CheckArgs),
    /// Train the spam model from labelled JSON Lines (creates MODEL, or updates it if it exists).
    Train(train::TrainArgs),
    /// A site's learned spam model in Redis: status, revert to a snapshot, export.
    Model(model::ModelArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormatArg {
    Human,
    Json,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config, listen, redis_url, log_format } => {
            let log_format = log_format.map(|f| match f {
                LogFormatArg::Human => LogFormat::Human,
                LogFormatArg::Json => LogFormat::Json,
            });
            let overrides = Overrides { listen, redis_url, log_format };
            let cfg = Config::load(config.as_deref(), &overrides)?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(serve::serve(cfg, config, overrides))
        }
        Command::Check(args) => check::run(args),
        Command::Train(args) => train::run(args),
        Command::Model(args) => model::run(args),
    }
}
