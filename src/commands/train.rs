//! `commentguard train` (DESIGN §6): builds or updates a spam model file from labelled comments.
//!
//! ```text
//! commentguard train --input FILE.jsonl [--input MORE.jsonl] --model MODEL
//! commentguard train --youtube-csv DIR_OR_FILE --fresh --min-count 2 --model MODEL
//! ```
//!
//! * `--input` lines are `{"body": "...", "label": "spam"|"ham"}`; a malformed line stops the run with its number
//!   (a model silently trained on half a file is worse than none).
//! * `--youtube-csv` reads the YouTube Spam Collection's CSV files (CONTENT and CLASS columns only — the other
//!   columns leak the label, see `../shared/data/youtube-spam/README.md`), one group per file (video).
//! * MODEL is updated when it exists; otherwise the new model starts from the base model shipped in the binary.
//!   `--fresh` starts from an empty model instead (how the base model itself is made, see `analysis::spam`).
//! * Identical bodies are trained once (the first label wins), so copy-pasted spam does not count many times and
//!   the held-out folds of the calibration stay honest.
//!
//! The calibration is refitted on held-out folds (`analysis::spam::fit`): by video for the YouTube files, by a hash
//! of the body (5 folds) for JSON Lines.

use crate::analysis::spam::fit::{self, Item, Prepared};
use crate::analysis::spam::{self, SpamModel};
use anyhow::{Context as _, bail};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Labelled JSON Lines: {"body": "...", "label": "spam"|"ham"} (repeatable).
    #[arg(long)]
    pub input: Vec<PathBuf>,
    /// YouTube Spam Collection CSV file, or a directory of them (repeatable).
    #[arg(long)]
    pub youtube_csv: Vec<PathBuf>,
    /// Model file to create or update.
    #[arg(long)]
    pub model: PathBuf,
    /// Start from an empty model, ignoring an existing MODEL and the base model.
    #[arg(long)]
    pub fresh: bool,
    /// Drop features seen in fewer comments than this (keeps the file small).
    #[arg(long, default_value_t = 1)]
    pub min_count: u32,
}

/// One labelled comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    pub body: String,
    pub spam: bool,
    /// Fold of the calibration (a video, or a hash fold).
    pub group: u32,
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    if args.input.is_empty() && args.youtube_csv.is_empty() {
        bail!("nothing to train on: give --input FILE.jsonl or --youtube-csv DIR");
    }
    let mut examples = Vec::new();
    for path in &args.input {
        examples.extend(read_jsonl(path)?);
    }
    for path in &args.youtube_csv {
        examples.extend(read_youtube(path)?);
    }
    let examples = dedup(examples);
    let start = if args.fresh {
        None
    } else if args.model.exists() {
        Some(SpamModel::load(&args.model).with_context(|| format!("loading {}", args.model.display()))?)
    } else {
        None
    };
    let start_ref = match (&start, args.fresh) {
        (Some(m), _) => Some(m),
        (None, false) => Some(spam::base_model()),
        (None, true) => None,
    };
    let model = train(&examples, start_ref, args.min_count);
    model.save(&args.model).with_context(|| format!("writing {}", args.model.display()))?;
    let spam_n = examples.iter().filter(|e| e.spam).count();
    let c = model.calibration();
    eprintln!(
        "trained on {} comments ({} spam, {} ham); model: {} spam + {} ham comments, {} features, {} bytes",
        examples.len(),
        spam_n,
        examples.len() - spam_n,
        model.counts().docs[1],
        model.counts().docs[0],
        model.counts().entries.len(),
        model.to_bytes().len(),
    );
    let weights: Vec<String> = spam::combine::NAMES.iter().zip(c.weights).map(|(n, w)| format!("{n}={w:.3}")).collect();
    eprintln!("calibration: bias={:.3} {}", c.bias, weights.join(" "));
    Ok(())
}

/// Trains `examples` on top of `start` (see `analysis::spam::fit`). Deterministic.
pub fn train(examples: &[Labelled], start: Option<&SpamModel>, min_count: u32) -> SpamModel {
    let prepared: Vec<Prepared> = examples.iter().map(|e| Prepared::new(&e.body)).collect();
    let items: Vec<Item<'_>> =
        prepared.iter().zip(examples).map(|(p, e)| Item { prepared: p, spam: e.spam, group: e.group }).collect();
    fit::train(&items, start, min_count)
}

/// The base model exactly as shipped: the YouTube collection in `dir`, from scratch, features seen at least twice.
pub fn base_model_from(dir: &Path) -> anyhow::Result<SpamModel> {
    Ok(train(&dedup(read_youtube(dir)?), None, 2))
}

/// Keeps the first of identical bodies.
pub fn dedup(examples: Vec<Labelled>) -> Vec<Labelled> {
    let mut seen = HashSet::new();
    examples.into_iter().filter(|e| seen.insert(e.body.clone())).collect()
}

#[derive(Deserialize)]
struct Line {
    body: String,
    label: String,
}

/// The SMS Spam Collection's format: one `ham|spam<TAB>text` per line (lines without a tab are skipped).
pub fn read_sms(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(label, body)| Labelled { body: body.to_string(), spam: label == "spam", group: 0 })
        .collect())
}

/// Reads labelled JSON Lines; blank lines are skipped, anything else malformed is an error naming the line.
pub fn read_jsonl(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let l: Line =
            serde_json::from_str(line).with_context(|| format!("{} line {}: malformed", path.display(), n + 1))?;
        let spam = match l.label.as_str() {
            "spam" => true,
            "ham" => false,
            other => bail!("{} line {}: label must be \"spam\" or \"ham\", not {other:?}", path.display(), n + 1),
        };
        out.push(Labelled { group: fit::hash_group(&l.body, 5), body: l.body, spam });
    }
    Ok(out)
}

/// Reads the YouTube Spam Collection: a CSV file or every `*.csv` in a directory (sorted by name; the group is the
/// file's position). Bodies are cleaned with [`youtube_text`].
pub fn read_youtube(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("listing {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    if files.is_empty() {
        bail!("no .csv files in {}", path.display());
    }
    let mut out = Vec::new();
    for (group, file) in files.iter().enumerate() {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let rows = parse_csv(&text);
        let header = rows.first().with_context(|| format!("{}: empty", file.display()))?;
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        let (Some(content), Some(class)) = (col("CONTENT"), col("CLASS")) else {
            bail!("{}: needs CONTENT and CLASS columns", file.display());
        };
        for row in rows.iter().skip(1) {
            let (Some(body), Some(label)) = (row.get(content), row.get(class)) else { continue };
            let body = youtube_text(body);
            if body.trim().is_empty() {
                continue;
            }
            out.push(Labelled { body, spam: label.trim() == "1", group: group as u32 });
        }
    }
    Ok(out)
}

/// RFC 4180 CSV: commas, double-quoted fields with `""` escapes and line breaks inside quotes. Never fails: an
/// unterminated quote runs to the end of the input (which is what the collection's one malformed record needs: the
/// record is kept as parsed, labelled spam, as the dataset's README counts it).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The YouTube API's HTML as plain text: tags dropped (`<br />` becomes a line break, a link keeps its text), then
/// entities decoded (`&#39;`, `&quot;`, `&amp;`, `&lt;`, numeric), and U+FEFF removed (it leaks the label).
pub fn youtube_text(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let is_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/');
        match (is_tag, after.find('>')) {
            (true, Some(close)) => {
                let tag = after[..close].trim_start_matches('/').to_ascii_lowercase();
                if tag.starts_with("br") || tag.starts_with('p') {
                    text.push('\n');
                }
                rest = &after[close + 1..];
            }
            _ => {
                text.push('<');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    decode_entities(&text).replace('\u{FEFF}', "")
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let end = after.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &after[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{A0}'),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let v = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(v)
                }
            }?;
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_commas_and_newlines() {
        let rows = parse_csv("A,B\n\"x, y\",\"say \"\"hi\"\"\nthere\"\r\nlast,1");
        assert_eq!(rows, vec![vec!["A", "B"], vec!["x, y", "say \"hi\"\nthere"], vec!["last", "1"]]);
        assert_eq!(parse_csv("a,\"open\n"), vec![vec!["a", "open\n"]]);
    }

    #[test]
    fn youtube_html_to_text() {
        assert_eq!(youtube_text("I&#39;m &quot;here&quot; &lt;3<br />next\u{FEFF}"), "I'm \"here\" <3\nnext");
        assert_eq!(
            youtube_text("see <a href=\"http://x.example/a\">http://x.example/a</a> now"),
            "see http://x.example/a now"
        );
        assert_eq!(youtube_text("a < b & c &bogus; &#xZZ;"), "a < b & c &bogus; &#xZZ;");
    }

    #[test]
    fn jsonl_labels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "{\"body\":\"buy now\",\"label\":\"spam\"}\n\n{\"body\":\"nice\",\"label\":\"ham\"}\n")
            .expect("write");
        let ex = read_jsonl(&path).expect("reads");
        assert_eq!(ex.len(), 2);
        assert!(ex[0].spam && !ex[1].spam);
        std::fs::write(&path, "{\"body\":\"x\",\"label\":\"maybe\"}\n").expect("write");
        assert!(read_jsonl(&path).unwrap_err().to_string().contains("line 1"));
    }

    #[test]
    fn train_creates_then_updates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in.jsonl");
        let model = dir.path().join("model");
        std::fs::write(
            &input,
            "{\"body\":\"ghar baithe kamao\",\"label\":\"spam\"}\n{\"body\":\"acha match\",\"label\":\"ham\"}\n",
        )
        .expect("write");
        let args = || TrainArgs {
            input: vec![input.clone()],
            youtube_csv: vec![],
            model: model.clone(),
            fresh: true,
            min_count: 1,
        };
        run(args()).expect("creates");
        assert_eq!(SpamModel::load(&model).expect("loads").counts().docs, [1, 1]);
        run(TrainArgs { fresh: false, ..args() }).expect("updates");
        assert_eq!(SpamModel::load(&model).expect("loads").counts().docs, [2, 2]);
    }
}
