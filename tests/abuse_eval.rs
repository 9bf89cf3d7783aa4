//! Measured quality of abuse detection (`src/analysis/abuse`), with the targets asserted:
//!
//! 1. **Dev corpus** (`tests/fixtures/abuse/corpus.jsonl`, the set the lexicons and weights were tuned on): per
//!    category precision and recall at the hold threshold (score ≥ 0.5), per language too, and the share of
//!    non-abusive comments held (any category ≥ 0.5). Asserted: threat and identity-attack recall ≥ 0.95, every
//!    category's precision ≥ 0.95, non-abusive held ≤ 2%.
//! 2. **Second dev set** (`tests/fixtures/abuse/fresh.jsonl`): new wording written after the first round of tuning,
//!    measured once blind, then tuned on; figures printed, misses listed with `ABUSE_EVAL_ERRORS=1`.
//!    The third dev set (`tests/fixtures/abuse/fresh2.jsonl`, both batches trained on now) printed like the second.
//!    `blind3.jsonl`–`blind9.jsonl` (validation sets until newer ones were written) printed like the second; the
//!    validation sets (`tests/fixtures/abuse/blind10.jsonl`–`blind13.jsonl`): figures only, never trained or
//!    tuned on.
//! 3. **Held-out set** (`tests/fixtures/abuse/heldout.jsonl`, never used for tuning): the same figures, printed
//!    only — it measures generalisation; no text of it is ever printed.
//! 4. **Real data**: every comment of the YouTube Spam Collection and every message of the SMS Spam Collection
//!    (`../shared/data`): how many would be held for abuse, per category. Asserted against [`REAL_DATA_BOUNDS`]
//!    (see there for what the holds are, read one by one).
//!
//! The corpus README (tests/fixtures/abuse/README.md) gives the schema and the labelling rules. Without the corpus
//! directory or the shared data, the parts that need them print why they are skipped. Run with `--nocapture` to see
//! the tables; `ABUSE_EVAL_ERRORS=1` also lists the dev corpus's misclassified comments.

use commentguard::analysis::abuse::{self, AbuseModel, Category, model};
use commentguard::analysis::normalize::Normalized;
use commentguard::commands::train;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/abuse");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

/// Real-data bounds per set: (name, most texts held in any category, most held in a category other than
/// profanity). Every hold was read (`ABUSE_EVAL_ERRORS=1` lists them). After the construction pass (commit 651f081,
/// 2026-12-04) one YouTube comment held for swearing is held as sexual too (78 of 1956, 21 other than profanity:
/// "her outfit was so fucking sexy") and SMS holds three more (118 of 5574, 28 other than profanity: "hot XXX pics" adult spam twice and "alone U
/// wanna cum over 2nite" chat spam). Measured before it, 2026-12-04: YouTube 78 of 1956
/// held, 58 for swearing alone, all real ("fuck", "shit", "piece of shit", "bitch"); the other 20 are slurs
/// ("nigger fools", "gook", "terrorist muslims"), name-calling ("you are all sheep", "she is a fool … idiots", "fuck
/// you Eminem") and sexual remarks ("sit on my face", "her boobs", "old whore", "nice tits"), two of them doubtful
/// ("Stupid people… 2 billion visits", "Dumb Guy: …"). SMS 115 of 5574, 90 for swearing alone; the other 25 are
/// sexting and adult spam ("horny", "your pussy", "sexy singles", "juicy booty"), friends' name-calling ("u weirdo",
/// "u dumb", "jerk") and two false holds ("anyone going slower than you is an idiot", "u really pig leh"). The
/// bounds leave a little room above those counts, so a change that starts holding ordinary messages fails here.
/// Fifth session, after the n-gram model read `fresh9`–`fresh17`: YouTube 78 held, 23 other than profanity; SMS 119
/// held, 30 other than profanity ("use your brain dear" no longer held, three times; one new false hold, "Thank god
/// they are in bed!" as an identity attack at 0.51). Sixth session, after `fresh18`–`fresh20`, `blind4`, `blind5`
/// (chat weighed 1.5): YouTube 79 / 24, SMS 119 / 31. Seventh, after `blind6`, `blind7` (chat weighed 2, threat and
/// insult margins 1.1): YouTube 79 / 25, SMS 122 / 34 (insults 19: "use your brain dear" back, thrice). Eighth, after
/// `blind8`, `blind9` and the eighth session's constructions (threat margin 1.2, insult 0.8): YouTube 80 / 25, SMS
/// 121 / 33. Ninth, after `fresh21`–`fresh30` (threat margin 1.5): YouTube 80 / 26, SMS 119 / 30.
/// Tenth, after `fresh31`–`fresh35` (sexual margin 1.2): YouTube 80 / 26, SMS 119 / 31; with 2^17 buckets (threat
/// margin 0.8): YouTube 80 / 24, SMS 119 / 32.
const REAL_DATA_BOUNDS: &[(&str, usize, usize)] =
    &[("YouTube Spam Collection", 85, 30), ("SMS Spam Collection", 125, 35)];

#[derive(Debug, Deserialize)]
struct Item {
    id: String,
    text: String,
    labels: Vec<String>,
    lang: String,
    #[allow(dead_code)] // part of the schema; handy when slicing by hand
    kind: String,
}

fn load(name: &str) -> Option<Vec<Item>> {
    let dir = Path::new(FIXTURES);
    if !dir.is_dir() {
        println!("SKIPPED: {} is absent", dir.display());
        return None;
    }
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let items: Vec<Item> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1)))
        .collect();
    for it in &items {
        for l in &it.labels {
            assert!(Category::from_name(l).is_some(), "{}: unknown label {l}", it.id);
        }
    }
    Some(items)
}

/// Counts for one slice (a file, or one language of it).
#[derive(Debug, Default, Clone)]
struct Counts {
    /// Per category: true positives, false positives, false negatives.
    tp: [usize; 5],
    fp: [usize; 5],
    fn_: [usize; 5],
    abusive: usize,
    clean: usize,
    clean_held: usize,
    abusive_held: usize,
}

impl Counts {
    fn add(&mut self, labels: &[Category], held: &[Category]) {
        for c in Category::ALL {
            let (y, p) = (labels.contains(&c), held.contains(&c));
            let i = c.index();
            match (y, p) {
                (true, true) => self.tp[i] += 1,
                (false, true) => self.fp[i] += 1,
                (true, false) => self.fn_[i] += 1,
                (false, false) => {}
            }
        }
        if labels.is_empty() {
            self.clean += 1;
            self.clean_held += usize::from(!held.is_empty());
        } else {
            self.abusive += 1;
            self.abusive_held += usize::from(!held.is_empty());
        }
    }

    fn precision(&self, c: Category) -> f64 {
        let i = c.index();
        ratio(self.tp[i], self.tp[i] + self.fp[i])
    }

    fn recall(&self, c: Category) -> f64 {
        let i = c.index();
        ratio(self.tp[i], self.tp[i] + self.fn_[i])
    }

    fn clean_held_share(&self) -> f64 {
        if self.clean == 0 { 0.0 } else { self.clean_held as f64 / self.clean as f64 }
    }
}

/// 1 when there is nothing to count (no prediction: precision is vacuous).
fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Evaluates `items` with `model` and prints the table under `title`; the misclassified comments too when `misses`
/// and `ABUSE_EVAL_ERRORS` is set (never for the sets measured blind).
fn figures(title: &str, items: &[Item], model: &AbuseModel, misses: bool) -> Counts {
    let errors = misses && std::env::var_os("ABUSE_EVAL_ERRORS").is_some();
    let (all, by_lang) = evaluate(items, model, errors);
    table(title, &all, &by_lang);
    all
}

/// Scans every item: (whole file, per language), plus the dev file's errors when asked.
fn evaluate(items: &[Item], model: &AbuseModel, errors: bool) -> (Counts, BTreeMap<String, Counts>) {
    let mut all = Counts::default();
    let mut by_lang: BTreeMap<String, Counts> = BTreeMap::new();
    for it in items {
        let labels: Vec<Category> = it.labels.iter().filter_map(|l| Category::from_name(l)).collect();
        let report = abuse::scan_with(&Normalized::new(&it.text), model);
        let held: Vec<Category> = report.scores.held().collect();
        all.add(&labels, &held);
        by_lang.entry(it.lang.clone()).or_default().add(&labels, &held);
        let mut sorted = labels.clone();
        sorted.sort();
        if errors && sorted != held {
            let scores: Vec<String> =
                report.scores.iter().filter(|(_, s)| *s >= 0.05).map(|(c, s)| format!("{}={s:.2}", c.name())).collect();
            println!("  {} [{}] labels {:?} scores {} | {}", it.id, it.lang, it.labels, scores.join(" "), it.text);
        }
    }
    (all, by_lang)
}

fn table(title: &str, all: &Counts, by_lang: &BTreeMap<String, Counts>) {
    println!("\n{title}: {} abusive, {} non-abusive", all.abusive, all.clean);
    println!("  {:<16} {:>9} {:>9} {:>6} {:>6} {:>6}", "category", "precision", "recall", "tp", "fp", "fn");
    for c in Category::ALL {
        let i = c.index();
        println!(
            "  {:<16} {:>9.3} {:>9.3} {:>6} {:>6} {:>6}",
            c.name(),
            all.precision(c),
            all.recall(c),
            all.tp[i],
            all.fp[i],
            all.fn_[i]
        );
    }
    println!(
        "  non-abusive held: {:.1}% ({} of {}); abusive held in some category: {:.1}%",
        100.0 * all.clean_held_share(),
        all.clean_held,
        all.clean,
        100.0 * ratio(all.abusive_held, all.abusive)
    );
    println!("  per language (precision/recall per category; non-abusive held):");
    let head: Vec<String> = Category::ALL.iter().map(|c| format!("{:>15}", c.name())).collect();
    println!("  {:<8} {} {:>12}", "lang", head.join(" "), "clean held");
    for (lang, c) in by_lang {
        let cells: Vec<String> = Category::ALL
            .iter()
            .map(|&k| {
                let i = k.index();
                if c.tp[i] + c.fp[i] + c.fn_[i] == 0 {
                    format!("{:>15}", "-")
                } else {
                    format!("{:>15}", format!("{:.2}/{:.2}", c.precision(k), c.recall(k)))
                }
            })
            .collect();
        println!("  {:<8} {} {:>7.1}% of {}", lang, cells.join(" "), 100.0 * c.clean_held_share(), c.clean);
    }
}

#[test]
fn dev_corpus_meets_the_targets() {
    let Some(items) = load("corpus.jsonl") else { return };
    let all = figures("dev corpus (corpus.jsonl)", &items, &AbuseModel::BASE, true);
    assert!(all.abusive >= 400 && all.clean >= 800, "the corpus is smaller than the issue asks");
    let mut failed = Vec::new();
    for c in [Category::Threat, Category::IdentityAttack] {
        if all.recall(c) < 0.95 {
            failed.push(format!("{} recall {:.3} < 0.95", c.name(), all.recall(c)));
        }
    }
    for c in Category::ALL {
        if all.precision(c) < 0.95 {
            failed.push(format!("{} precision {:.3} < 0.95", c.name(), all.precision(c)));
        }
    }
    if all.clean_held_share() > 0.02 {
        failed.push(format!("non-abusive held {:.1}% > 2%", 100.0 * all.clean_held_share()));
    }
    assert!(failed.is_empty(), "targets missed on the dev corpus: {failed:?}");
}

/// Measures one labelled file: prints its figures — and, for a development set (`misses`) with
/// `ABUSE_EVAL_ERRORS=1`, its misclassified comments; a validation or held-out set never prints a text — and checks
/// that it still holds at least `min` (abusive, non-abusive) comments, as written.
fn measure(file: &str, title: &str, misses: bool, min: (usize, usize)) {
    let Some(items) = load(file) else { return };
    let all = figures(&format!("{title} ({file})"), &items, &AbuseModel::BASE, misses);
    assert!(
        all.abusive >= min.0 && all.clean >= min.1,
        "{file} is smaller than written: {} abusive, {} clean",
        all.abusive,
        all.clean
    );
}

/// The second development set (`fresh.jsonl`): written after the dev corpus with new wording, first measured blind
/// (before any change for it), then tuned on like the dev corpus. Figures and, with `ABUSE_EVAL_ERRORS=1`, its
/// misclassified comments.
#[test]
fn fresh_set_figures() {
    measure("fresh.jsonl", "second dev set", true, (1, 1));
}

/// The third development set (`fresh2.jsonl`), written in two batches at once: batch A (u0001-u0226) measured
/// blind and then tuned on, batch B (u0227-u0330) kept aside as a validation set until `blind3.jsonl` replaced it;
/// both are trained on now. Figures and, with `ABUSE_EVAL_ERRORS=1`, its misclassified comments.
#[test]
fn fresh2_set_figures() {
    measure("fresh2.jsonl", "third dev set", true, (150, 60));
}

/// `blind3.jsonl`: written without reading any other corpus file and first the validation set (never trained on,
/// its aggregate figures chose the n-gram model's settings); once `blind4.jsonl` was written, a development set
/// whose misses were read. Figures and, with `ABUSE_EVAL_ERRORS=1`, its misclassified comments.
#[test]
fn blind3_figures() {
    measure("blind3.jsonl", "fourth dev set", true, (100, 150));
}

/// `blind4.jsonl`: written without reading any other corpus file and the validation set of the fourth and fifth
/// sessions (never trained or tuned on); since the sixth session, when `blind6.jsonl` and `blind7.jsonl` were
/// written, a development set whose misses were read. Figures and, with `ABUSE_EVAL_ERRORS=1`, its misclassified
/// comments.
#[test]
fn blind4_figures() {
    measure("blind4.jsonl", "fifth dev set", true, (100, 150));
}

/// `blind5.jsonl` (fifth session): written like `blind4.jsonl` without reading any corpus file, and a validation set
/// until `blind6.jsonl` and `blind7.jsonl` were written (never trained or tuned on; its first figures are in the
/// fixture README); since then a development set whose misses were read. Figures and, with `ABUSE_EVAL_ERRORS=1`,
/// its misclassified comments.
#[test]
fn blind5_figures() {
    measure("blind5.jsonl", "sixth dev set", true, (200, 200));
}

/// `blind6.jsonl` and `blind7.jsonl` (sixth session): written without reading any corpus file — comment sections
/// under invented news articles, and threads on video, social and community pages — and the validation sets of the
/// sixth session (never trained or tuned on; their first figures are in the fixture README); since the seventh
/// session, when `blind8.jsonl` and `blind9.jsonl` were written, development sets whose misses were read. Figures
/// and, with `ABUSE_EVAL_ERRORS=1`, their misclassified comments.
#[test]
fn blind6_figures() {
    measure("blind6.jsonl", "seventh dev set", true, (200, 200));
}

#[test]
fn blind7_figures() {
    measure("blind7.jsonl", "eighth dev set", true, (200, 200));
}

/// `blind8.jsonl` and `blind9.jsonl` (seventh session): written without reading any corpus file — comment sections
/// under invented articles of a Pakistani news site, and replies under news posts on social media — and the
/// validation sets of the seventh session; since the eighth, when `blind10.jsonl` and `blind11.jsonl` were written,
/// development sets whose misses were read. Figures and, with `ABUSE_EVAL_ERRORS=1`, their misclassified comments.
#[test]
fn blind8_figures() {
    measure("blind8.jsonl", "ninth dev set", true, (200, 200));
}

#[test]
fn blind9_figures() {
    measure("blind9.jsonl", "tenth dev set", true, (200, 200));
}

/// The validation sets of the eighth session (`blind10.jsonl`, `blind11.jsonl`): written without reading any corpus
/// file — comments under opinion columns, sports and entertainment pages and an election-night live blog, and the
/// city pages and Urdu edition of a Pakistani news site with a Hindi site's border stories — never trained or tuned
/// on; figures only, no text printed. Their first figures, on the model as it was when they were written, are in the
/// fixture README.
#[test]
fn blind10_figures() {
    measure("blind10.jsonl", "validation set", false, (200, 200));
}

#[test]
fn blind11_figures() {
    measure("blind11.jsonl", "validation set", false, (200, 200));
}

/// The validation sets written at the end of the ninth session (`blind12.jsonl`, `blind13.jsonl`): without reading
/// any corpus file — a national news site's comment sections over one ordinary week, and a regional network's city,
/// provincial, showbiz and religion desks with a Hindi partner site — never trained or tuned on; figures only, no
/// text printed. Their first figures, on the model as it was when they were written, are in the fixture README.
#[test]
fn blind12_figures() {
    measure("blind12.jsonl", "validation set", false, (200, 200));
}

#[test]
fn blind13_figures() {
    measure("blind13.jsonl", "validation set", false, (200, 200));
}

#[test]
fn heldout_figures() {
    // Figures only: the held-out set measures generalisation and is never tuned on, so no text is printed.
    measure("heldout.jsonl", "held-out set", false, (1, 1));
}

fn data(sub: &str) -> Option<PathBuf> {
    let p = PathBuf::from(DATA).join(sub);
    if p.exists() {
        Some(p)
    } else {
        println!("SKIPPED: {} is absent (the shared data sets live next to the repository)", p.display());
        None
    }
}

/// Every text of the real sets, scanned: what would be held for abuse.
#[test]
fn real_data_holds_are_few() {
    let mut sets: Vec<(&str, Vec<train::Labelled>)> = Vec::new();
    if let Some(dir) = data("youtube-spam") {
        sets.push(("YouTube Spam Collection", train::read_youtube(&dir).expect("reads the YouTube collection")));
    }
    if let Some(dir) = data("sms-spam") {
        sets.push(("SMS Spam Collection", train::read_sms(&dir.join("SMSSpamCollection")).expect("reads the SMS set")));
    }
    let show = std::env::var_os("ABUSE_EVAL_ERRORS").is_some();
    for (name, texts) in sets {
        let mut per_category = [0usize; 5];
        let mut held = 0;
        let mut held_not_profanity = 0;
        for t in &texts {
            let report = abuse::scan(&Normalized::new(&t.body));
            let cats: Vec<Category> = report.scores.held().collect();
            for c in &cats {
                per_category[c.index()] += 1;
            }
            held_not_profanity += usize::from(cats.iter().any(|&c| c != Category::Profanity));
            if !cats.is_empty() {
                held += 1;
                if show {
                    let names: Vec<&str> = cats.iter().map(|c| c.name()).collect();
                    println!("  held {:?} max {:.2} | {}", names, report.scores.max(), t.body);
                }
            }
        }
        let by_cat: Vec<String> =
            Category::ALL.iter().map(|c| format!("{} {}", c.name(), per_category[c.index()])).collect();
        println!(
            "{name}: {held} of {} texts held for abuse, {held_not_profanity} in a category other than profanity ({})",
            texts.len(),
            by_cat.join(", ")
        );
        let &(_, max_held, max_not_profanity) =
            REAL_DATA_BOUNDS.iter().find(|(n, _, _)| *n == name).expect("a bound for every set");
        assert!(held <= max_held, "{name}: {held} held for abuse, bound {max_held}");
        assert!(
            held_not_profanity <= max_not_profanity,
            "{name}: {held_not_profanity} held for abuse other than profanity, bound {max_not_profanity}"
        );
    }
}

/// A check of [`AbuseModel::BASE`]'s hand-set weights: a logistic fit per category on the dev corpus (the features
/// of each comment's best candidate; negatives weighted 3× for precision; three rounds, since the best candidate
/// depends on the weights). Prints the fitted weights and their dev figures, and asserts the fit reaches the dev
/// targets too: the separation is in the features, not in a lucky choice of weights. Never run on the held-out set.
#[test]
fn refit_on_the_dev_corpus() {
    let Some(items) = load("corpus.jsonl") else { return };
    let data: Vec<(abuse::Assessment, Vec<Category>)> = items
        .iter()
        .map(|it| {
            let labels = it.labels.iter().filter_map(|l| Category::from_name(l)).collect();
            (abuse::assess(&Normalized::new(&it.text)), labels)
        })
        .collect();
    let mut fitted = AbuseModel::BASE;
    for _round in 0..3 {
        for c in Category::ALL {
            let i = c.index();
            let samples: Vec<(abuse::Features, bool)> = data
                .iter()
                .filter(|(a, _)| a.candidates.iter().any(|k| k.category == c))
                .map(|(a, labels)| (abuse::score(a, &fitted).features[i], labels.contains(&c)))
                .collect();
            fitted.weights[i] = model::fit(&samples, fitted.weights[i], 4000, 0.002, 3.0);
        }
    }
    println!("\nweights fitted on the dev corpus (bias; severity, structure, target, negated, mention, news, count):");
    for c in Category::ALL {
        let w = fitted.weights[c.index()];
        let ws: Vec<String> = w.w.iter().map(|x| format!("{x:.2}")).collect();
        println!("  {:<16} {:>6.2}; [{}]", c.name(), w.bias, ws.join(", "));
    }
    let all = figures("dev corpus with the fitted weights", &items, &fitted, false);
    for c in Category::ALL {
        assert!(all.precision(c) >= 0.95, "fitted {} precision {:.3}", c.name(), all.precision(c));
    }
    assert!(all.recall(Category::Threat) >= 0.95 && all.recall(Category::IdentityAttack) >= 0.95);
    assert!(all.clean_held_share() <= 0.02);
}
