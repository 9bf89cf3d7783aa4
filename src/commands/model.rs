//! `commentguard model`: an operator's view of a site's learned spam model in Redis — its version and snapshots,
//! reverting to a snapshot (or to the base model), and exporting base + delta as a model file for
//! `commentguard check --model` backtests. Replicas pick a revert up within `spam.reload_interval_ms`.

use crate::clock::SystemClock;
use crate::config::{Config, Overrides};
use crate::learning::delta::Delta;
use crate::store::ModelStore;
use crate::store::learning::{RevertOutcome, SnapshotKind};
use crate::store::redis::RedisStore;
use crate::tenants::Tenants;
use anyhow::{Context as _, bail};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// The service's configuration file (sites, store, spam model).
    #[arg(long)]
    pub config: PathBuf,
    /// Redis URL (overrides store.redis_url).
    #[arg(long)]
    pub redis_url: Option<String>,
    /// The site whose model to inspect or change.
    #[arg(long)]
    pub site: String,
    #[command(subcommand)]
    pub action: ModelAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum ModelAction {
    /// The learned delta's version and size, and the snapshots one may revert to.
    Status,
    /// Install a snapshot's delta as the site's current model (0: the base model alone).
    Revert {
        #[arg(long)]
        to: u64,
    },
    /// Write the site's current model (base + learned delta) to a model file.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(args: ModelArgs) -> anyhow::Result<()> {
    let overrides = Overrides { redis_url: args.redis_url.clone(), ..Default::default() };
    let config = Config::load(Some(&args.config), &overrides)?;
    let Some(url) = config.store.redis_url.clone() else {
        bail!("the learned models live in Redis: set store.redis_url (the embedded store lives and dies with `serve`)");
    };
    let tenants = Tenants::offline(&config)?;
    let site = tenants.site(&args.site).with_context(|| format!("no site {:?} in the configuration", args.site))?;
    let options = crate::store::redis::RedisOptions::from_config(&url, &config);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        // Inside the runtime: the connection manager spawns its reconnect task on it.
        let store = RedisStore::connect(&options, Arc::new(SystemClock))?;
        match args.action {
            ModelAction::Status => {
                let stored = store.model_delta(&site.id).await?;
                let delta = Delta::from_bytes(&stored.bytes)?;
                println!(
                    "site {}: learned version {}, {} ham and {} spam comments, {} features, {} bytes",
                    site.id,
                    stored.version,
                    delta.spam.docs[0],
                    delta.spam.docs[1],
                    delta.spam.entries.len(),
                    stored.bytes.len()
                );
                let [approved, rejected @ ..] = delta.abuse.docs;
                println!(
                    "  abuse: {approved} approved; rejected as threat {}, identity attack {}, insult {}, sexual {}, \
                     profanity {}; {} words",
                    rejected[0],
                    rejected[1],
                    rejected[2],
                    rejected[3],
                    rejected[4],
                    delta.abuse.entries.len()
                );
                println!("snapshots (revert with `--to VERSION`; 0 is the base model alone):");
                for s in store.model_snapshots(&site.id).await? {
                    let kind = match s.kind {
                        SnapshotKind::Learned => "learned".to_string(),
                        SnapshotKind::Reverted { from } => format!("reverted to {from}"),
                    };
                    println!(
                        "  version {:>6}  at {} ms  {} ham, {} spam  ({kind})",
                        s.version, s.taken_at_ms, s.docs[0], s.docs[1]
                    );
                }
            }
            ModelAction::Revert { to } => match store.revert_model(&site.id, to, config.spam.keep_snapshots).await? {
                RevertOutcome::Reverted(v) => println!("site {}: now version {v} (the delta of version {to})", site.id),
                RevertOutcome::Unknown => bail!("site {}: no snapshot of version {to} is kept", site.id),
            },
            ModelAction::Export { out } => {
                // The spam model only: `check --model` reads spam models (the abuse counts stay in Redis).
                let stored = store.model_delta(&site.id).await?;
                let delta = Delta::from_bytes(&stored.bytes)?;
                site.rules.spam_model.with_delta(&delta.spam).save(&out)?;
                println!("site {}: version {} (spam model) written to {}", site.id, stored.version, out.display());
            }
        }
        Ok(())
    })
}
