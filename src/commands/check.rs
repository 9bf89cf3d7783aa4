//! `commentguard check` (DESIGN §6): offline analysis for backtesting a policy on exported comments. Every line goes
//! through the same `intake::submit` as the service, against an embedded store, in input order — so duplicate,
//! first-time and reputation signals behave as they would have live.

use crate::clock::SystemClock;
use crate::config::{Config, SiteConfig};
use crate::domain::Verdict;
use crate::domain::{AuthorRecord, Comment};
use crate::intake::{self, Submission};
use crate::offsets::{self, OffsetUnit};
use crate::pseudonym::Pseudonymizer;
use crate::store::memory::MemoryStore;
use crate::tenants::Tenants;
use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// JSON Lines input; `-` or absent reads standard input.
    pub file: Option<PathBuf>,
    /// Config file whose site policy to apply (with --site).
    #[arg(long, requires = "site")]
    pub config: Option<PathBuf>,
    /// Site id in the config file.
    #[arg(long, requires = "config")]
    pub site: Option<String>,
    /// Spam model file (default: the model shipped in the binary).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Unit of span offsets: utf8, utf16 or code-point.
    #[arg(long, default_value = "utf8")]
    pub offsets: String,
}

/// One input line. `author` is an object like the API's `Author`, or a plain string taken as the account id.
#[derive(Debug, Deserialize)]
struct Line {
    id: String,
    body: String,
    #[serde(default)]
    author: Option<AuthorField>,
    #[serde(default)]
    language: String,
    #[serde(default)]
    thread_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AuthorField {
    Account(String),
    Full {
        #[serde(default)]
        account_id: String,
        #[serde(default)]
        display_name: String,
        #[serde(default)]
        email: String,
        #[serde(default)]
        website_url: String,
        #[serde(default)]
        ip: String,
    },
}

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let Some(unit) = OffsetUnit::parse(&args.offsets) else {
        bail!("--offsets must be utf8, utf16 or code-point, not {:?}", args.offsets);
    };
    let model = match &args.model {
        Some(path) => Some(Arc::new(
            crate::analysis::spam::SpamModel::load(path)
                .with_context(|| format!("loading the spam model {}", path.display()))?,
        )),
        None => None,
    };
    let site_config = match (&args.config, &args.site) {
        (Some(path), Some(id)) => {
            let config = Config::load(Some(path), &Default::default())?;
            config.sites.into_iter().find(|s| &s.id == id).with_context(|| format!("no site {id:?} in the config"))?
        }
        _ => SiteConfig {
            id: "check".into(),
            api_key_sha256: Vec::new(),
            default_region: "PK".into(),
            policy: Default::default(),
            webhook: None,
        },
    };
    let tenants = Tenants::offline(&Config { sites: vec![site_config], ..Default::default() })?;
    let mut site = tenants.sites.first().context("site")?.clone();
    drop(tenants);
    if let Some(model) = model {
        // `tenants` is gone, so this is the only handle on the site.
        let mut owned = Arc::try_unwrap(site).map_err(|_| anyhow::anyhow!("site still shared"))?;
        owned.rules = owned.rules.with_spam_model(model);
        site = Arc::new(owned);
    }

    let input: Box<dyn BufRead> = match args.file.as_deref() {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?,
        )),
    };
    crate::analysis::pii::warm_up();
    let store = MemoryStore::new(Arc::new(SystemClock));
    let keys = Pseudonymizer::new(b"commentguard-check");
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (started, mut count, mut bytes) = (Instant::now(), 0u64, 0u64);
    let mut counts = [0u64; 3];
    for (n, line) in input.lines().enumerate() {
        let line = line.context("reading input")?;
        if line.trim().is_empty() {
            continue;
        }
        let result = match serde_json::from_str::<Line>(&line) {
            Err(e) => error_line(&line, n, &format!("malformed line: {e}")),
            Ok(l) => {
                bytes += l.body.len() as u64;
                let id = l.id.clone();
                let sub = submission(l);
                match runtime.block_on(intake::submit(
                    &store,
                    &keys,
                    None,
                    &site,
                    &crate::learning::SiteModels::base(&site),
                    sub.clone(),
                )) {
                    Ok(accepted) => {
                        count += 1;
                        counts[accepted.answer.verdict as usize] += 1;
                        verdict_line(&id, &sub.comment.body, &accepted.answer, unit)
                    }
                    Err(e) => json!({"id": id, "error": e.to_string()}),
                }
            }
        };
        serde_json::to_writer(&mut out, &result)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "checked {count} comments in {secs:.3} s ({:.0} comments/s, {:.2} MB/s): {} approved, {} pending review, {} rejected",
        count as f64 / secs,
        bytes as f64 / secs / 1e6,
        counts[Verdict::Approved as usize],
        counts[Verdict::PendingReview as usize],
        counts[Verdict::Rejected as usize],
    );
    Ok(())
}

fn submission(l: Line) -> Submission {
    let author = match l.author {
        None => AuthorRecord::default(),
        Some(AuthorField::Account(account_id)) => AuthorRecord { account_id, ..Default::default() },
        Some(AuthorField::Full { account_id, display_name, email, website_url, ip }) => {
            AuthorRecord { account_id, display_name, email, website_url, ip, ..Default::default() }
        }
    };
    Submission {
        comment: Comment {
            comment_id: l.id,
            thread_id: l.thread_id,
            language: l.language,
            author,
            body: l.body,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn verdict_line(id: &str, body: &str, a: &crate::domain::Answer, unit: OffsetUnit) -> Value {
    let findings: Vec<Value> = a
        .findings
        .iter()
        .map(|f| {
            let spans: Vec<Value> = offsets::convert(body, &f.spans, unit)
                .into_iter()
                .map(|(start, end)| json!({"start": start, "end": end}))
                .collect();
            json!({"code": f.code, "category": f.category.as_str(), "score": f.score, "spans": spans})
        })
        .collect();
    json!({
        "id": id,
        "verdict": a.verdict.as_str(),
        "spam_score": a.spam_score,
        "abuse_scores": a.abuse,
        "findings": findings,
        "redacted_body": a.redacted_body,
    })
}

/// A line that could not be parsed still gets an answer, with its id when one can be recovered.
fn error_line(line: &str, n: usize, message: &str) -> Value {
    let id = serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| format!("line {}", n + 1));
    json!({"id": id, "error": message})
}
