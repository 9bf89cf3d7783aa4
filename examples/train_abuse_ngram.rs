//! Trains the abuse detector's n-gram model (`src/analysis/abuse/ngram.rs`) and writes
//! `src/analysis/abuse/ngram_model.bin`:
//!
//! ```text
//! cargo run --release --example train_abuse_ngram            # writes the model, prints out-of-fold figures
//! cargo run --release --example train_abuse_ngram -- --check # trains, compares with the file, writes nothing
//! cargo run --release --example train_abuse_ngram -- --holdout fresh21.jsonl,fresh22.jsonl  # see below
//! cargo run --release --example train_abuse_ngram -- --margins  # see below
//! ```
//!
//! `--margins`: the whole detector's precision and recall on every labelled text, its n-gram scores out of fold by
//! groups of files (so by writers the model has not read), at margins 0.4–2.0 (`margin_sweep`). Tenth session, 23,183
//! texts, 2^15 buckets: threat 0.951 / 0.722 at the then margin 1.5, 0.936 / 0.768 at 0.8 (1.5 was also the smallest
//! margin with precision ≥ 0.95, the issue's target); identity attacks, insults and swearing stay under 0.95 precision
//! at every margin on these hard-negative-rich files (the lexicons' own false holds, which no margin removes). The
//! same check chose the bucket count (below).
//!
//! `--holdout`: trains without the named training files and prints the model's precision and recall on them (alone,
//! at the shipped margins and by margin), writing nothing — a check of a change to the features or settings on
//! writers the model has not read, without spending the validation sets. Ninth session, `fresh21`–`fresh25` held
//! back (2,403 texts by five new writers): at the margins threat 0.975 / 0.746, identity 0.955 / 0.765, insult
//! 0.963 / 0.577, sexual 0.957 / 0.657, profanity 0.981 / 0.775. Word pairs two apart as a fourth feature family did
//! worse in every category (threat 0.966 / 0.723, insult 0.957 / 0.555: more keys in the same buckets). Lower
//! margins trade precision for recall about evenly in the whole detector on those files (threat margin 1.2 → 0.8:
//! 8 more threats held, 5 more false holds; → 0.5: 16 and 9, clean held 2.9% → 3.3%). With `fresh26`–`fresh30`
//! held back (the model trained on everything else) the trade was better: threat margin 1.5 → 0.8 held 17 more
//! threats for 3 more false holds (precision 0.960 → 0.950, recall 0.731 → 0.795). The hard-negative rule stays for
//! now — a lower threat margin holds the hand-written "We will beat you in the semis, mark my words" — but it is the
//! clearest lever on threat recall.
//!
//! Training texts: `tests/fixtures/abuse/` [`TRAINING`]. Never the validation sets `blind10.jsonl`–
//! `blind13.jsonl`, never `heldout.jsonl` (not even opened). `blind4.jsonl` (the settings were chosen on it) and
//! `blind5.jsonl` were validation sets until the sixth session, `blind6.jsonl` and `blind7.jsonl` until the seventh,
//! `blind8.jsonl` and `blind9.jsonl` until the eighth, and are trained on since. Background
//! non-abusive texts: every other text of the YouTube and SMS spam collections (`../shared/data`) that the lexicons
//! hold for nothing (see `background_texts`); `NGRAM_BACKGROUND=0` leaves them out.
//!
//! Per category, a logistic regression over the hashed features of `ngram::for_each_bucket` (counts scaled by
//! 1/√max(n, floor)), classes weighted to balance (as scikit-learn's `class_weight="balanced"`), trained by AdaGrad with an L2
//! penalty for `NGRAM_EPOCHS` passes in an order fixed by a seeded shuffle. Weights are quantised to `i8`.
//!
//! Calibration: the texts are split in [`FOLDS`] folds; each fold is scored by a model trained on the others, and a
//! one-dimensional logistic fit of the labels on those out-of-fold log-odds (negatives weighted `NEG_WEIGHT_DEFAULT`, so
//! 0.5 is reached only where the n-gram model is precise) gives each category's `a`, `b`. The final model is trained
//! on every text. Everything is deterministic: the same files give the same bytes.
//!
//! The `*_DEFAULT` constants are the shipped settings; `NGRAM_BITS`, `NGRAM_EPOCHS`, `NGRAM_RATE`, `NGRAM_L2`,
//! `NGRAM_FLOOR`, `NGRAM_NEG_WEIGHT`, `NGRAM_BACKGROUND_WEIGHT`, `NGRAM_IDF` override them and `NGRAM_OUT` the output path, for experiments.
//! They were chosen on the out-of-fold figures and the holds on the untrained half of the chat collections (L2
//! 3e-3 and negative weight 1.5 over 1e-4..3e-2 and 1..3; IDF scaling, 60 epochs and 2^14..2^20 buckets did no
//! better; 2^15 rather than 2^16 for half the file and cache footprint at the same figures — on random folds). The
//! tenth session's grouped check (`--margins`, 23,183 texts) showed the buckets' collisions costing recall on unseen
//! writers at every margin: threat at margin 1.5, 2^15 0.951 / 0.722, 2^16 0.953 / 0.744, 2^17 0.955 / 0.762, 2^18
//! 0.956 / 0.772, 2^20 0.957 / 0.788, the other categories alike; 2^17 (640 KiB: within a core's L2 cache on current
//! servers, the bench unchanged) gains most of it. Retrained at 2^17 the hard-negative rule set the threat margin
//! to 0.8 (the semis sentence at 0.59): grouped 0.947 / 0.807. L2 1e-3, 40 epochs and negative weights 1.0 and 2.5
//! moved along the same precision / recall curve.

use commentguard::analysis::abuse::ngram::{self, CATEGORIES, NgramModel};
use commentguard::analysis::abuse::{self, AbuseModel, Category};
use commentguard::analysis::normalize::Normalized;
use commentguard::commands::train;
use std::path::Path;

/// The labelled training files: every development set (`fresh2.jsonl`'s batch B, once kept aside, has been read
/// too often to validate anything).
const TRAINING: [&str; 43] = [
    "corpus.jsonl",
    "fresh.jsonl",
    "fresh2.jsonl",
    "fresh3.jsonl",
    "fresh4.jsonl",
    "blind3.jsonl",
    "fresh5.jsonl",
    "fresh6.jsonl",
    "fresh7.jsonl",
    "fresh8.jsonl",
    "fresh9.jsonl",
    "fresh10.jsonl",
    "fresh11.jsonl",
    "fresh12.jsonl",
    "fresh13.jsonl",
    "fresh14.jsonl",
    "fresh15.jsonl",
    "fresh16.jsonl",
    "fresh17.jsonl",
    "blind4.jsonl",
    "blind5.jsonl",
    "fresh18.jsonl",
    "fresh19.jsonl",
    "fresh20.jsonl",
    "fresh21.jsonl",
    "fresh22.jsonl",
    "fresh23.jsonl",
    "fresh24.jsonl",
    "fresh25.jsonl",
    "fresh26.jsonl",
    "fresh27.jsonl",
    "fresh28.jsonl",
    "fresh29.jsonl",
    "fresh30.jsonl",
    "fresh31.jsonl",
    "fresh32.jsonl",
    "fresh33.jsonl",
    "fresh34.jsonl",
    "fresh35.jsonl",
    "blind6.jsonl",
    "blind7.jsonl",
    "blind8.jsonl",
    "blind9.jsonl",
];
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/abuse");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");
const OUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/analysis/abuse/ngram_model.bin");

/// log2 of the number of buckets.
const BITS_DEFAULT: u8 = 17;
const EPOCHS_DEFAULT: usize = 30;
const RATE_DEFAULT: f64 = 0.5;
const L2_DEFAULT: f64 = 3e-3;
/// The length floor of the 1/√n scaling (see `ngram`).
const FLOOR_DEFAULT: f32 = 32.0;
const FOLDS: usize = 5;
const NEG_WEIGHT_DEFAULT: f64 = 1.5;
/// A background text's weight in the loss. The rule: the smallest round weight at which the real data's holds stay
/// within their bounds (`tests/abuse_eval.rs`), chosen on that, never on the validation figures. History: with 7,341
/// labelled texts (fourth session) the chat pulled the model away from news-comment abuse (validation threat recall
/// 0.73 at 1, 0.76 at 0.3–0.75) and 0.75 was the rule's value; with 10,387 (fifth) the validation figures were the
/// same from 0.75 to 1, threat-heavy new files made lower weights hold SMS plans and wishes ("I will be ready to
/// fight with anyone for her") and 1 was kept; with 14,072 (sixth: `fresh18`–`fresh20`, `blind4`, `blind5`) weight 1
/// held 37 SMS messages in a category other than profanity, over the bound of 35, and 1.5 holds 31 (2 as well); with
/// 15,026 (seventh: `blind6`, `blind7`, and the insult margin down to 1.1 by its rule) 1.5 held 36 and 2 holds 34;
/// with 20,730 (ninth: `fresh21`–`fresh30`) 2 holds 30, with 23,183 (tenth: `fresh31`–`fresh35`) 31.
const BACKGROUND_WEIGHT_DEFAULT: f64 = 2.0;
const SEED: u64 = 0x5eed_ab05_e000_0001;
/// Weights are clipped at this quantile of their magnitudes before quantising (a handful of extreme weights would
/// otherwise take the whole `i8` range).
const CLIP_QUANTILE: f64 = 0.9995;

struct Sample {
    /// How much the sample counts in the loss: 1 for labelled texts, [`background_weight`] for background ones.
    weight: f64,
    /// (bucket, value), buckets distinct.
    x: Vec<(u32, f32)>,
    y: [bool; CATEGORIES],
    text: String,
    /// The labelled comment as written and its training file (index in [`TRAINING`]); `None` for background chat.
    source: Option<(usize, String)>,
}

fn load(name: &str) -> Vec<Sample> {
    let file = TRAINING.iter().position(|f| *f == name);
    let path = Path::new(FIXTURES).join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let mut y = [false; CATEGORIES];
            for l in v["labels"].as_array().expect("labels") {
                let c = Category::from_name(l.as_str().expect("a label")).expect("a known label");
                y[c.index()] = true;
            }
            // A non-abusive text is read as a scan reads it (without its quotes and idioms: "he wrote '…', I
            // reported it" teaches that the frame is harmless). An abusive one is read whole: its label may be for
            // the quoted words ('"journalist" sahab, ab tumhari baari'), and cut out they would teach that the frame
            // words are abuse.
            let body = v["text"].as_str().expect("a text");
            let folded = abuse::folded(&Normalized::new(body));
            let folded = if y.iter().any(|&a| a) {
                folded.as_str().to_string()
            } else {
                abuse::ngram_text(&folded).into_owned()
            };
            let source = file.map(|f| (f, body.to_string()));
            Sample { weight: 1.0, x: features(&folded, bits(), floor()), y, text: folded, source }
        })
        .collect()
}

fn features(text: &str, bits: u8, floor: f32) -> Vec<(u32, f32)> {
    let mut b = Vec::new();
    let n = ngram::for_each_bucket(text, bits, |k| b.push(k as u32));
    b.sort_unstable();
    let norm = 1.0 / (n as f32).max(floor).max(1.0).sqrt();
    let mut x: Vec<(u32, f32)> = Vec::new();
    for k in b {
        match x.last_mut() {
            Some((last, v)) if *last == k => *v += norm,
            _ => x.push((k, norm)),
        }
    }
    x
}

/// Ordinary chat as non-abusive examples: every other text (even positions) of the YouTube and SMS spam
/// collections (`../shared/data`) that the lexicon detector holds for nothing. The labelled corpus is news-site
/// comments; without these the model reads `subscribe to my channel` or `:)` as abuse, having never seen chat. The
/// odd positions are never trained on: they measure the holds on unseen chat.
fn background_texts() -> Vec<Sample> {
    let data = Path::new(DATA);
    let mut texts: Vec<String> = Vec::new();
    match train::read_youtube(&data.join("youtube-spam")) {
        Ok(v) => texts.extend(v.into_iter().step_by(2).map(|t| t.body)),
        Err(e) => println!("no YouTube background: {e}"),
    }
    match train::read_sms(&data.join("sms-spam/SMSSpamCollection")) {
        Ok(v) => texts.extend(v.into_iter().step_by(2).map(|t| t.body)),
        Err(e) => println!("no SMS background: {e}"),
    }
    texts
        .into_iter()
        .filter_map(|body| {
            let norm = Normalized::new(&body);
            let mut a = abuse::assess(&norm);
            a.ngram = None;
            if abuse::score(&a, &AbuseModel::BASE).scores.max() >= abuse::HOLD {
                return None;
            }
            let folded = abuse::ngram_text(&abuse::folded(&norm)).into_owned();
            Some(Sample {
                weight: background_weight(),
                x: features(&folded, bits(), floor()),
                y: [false; CATEGORIES],
                text: folded,
                source: None,
            })
        })
        .collect()
}

/// SplitMix64: a fixed, dependency-free generator, so the order (and the file) never depends on a crate version.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Dense f64 weights per category, AdaGrad logistic regression on `idx`.
fn train(samples: &[Sample], idx: &[usize], seed: u64, idf: &[f64]) -> NgramModel {
    let (l2, rate) = (l2(), rate());
    let nb = 1usize << bits();
    let mut w = vec![0.0f64; nb * CATEGORIES];
    let mut g2 = vec![1e-8f64; nb * CATEGORIES];
    let mut bias = [0.0f64; CATEGORIES];
    let mut gb2 = [1e-8f64; CATEGORIES];
    let n = idx.len() as f64;
    let pos: [f64; CATEGORIES] = std::array::from_fn(|c| idx.iter().filter(|&&i| samples[i].y[c]).count() as f64);
    let cw: [(f64, f64); CATEGORIES] =
        std::array::from_fn(|c| (n / (2.0 * pos[c].max(1.0)), n / (2.0 * (n - pos[c]).max(1.0))));
    let mut order = idx.to_vec();
    let mut rng = SplitMix(seed);
    for _ in 0..epochs() {
        rng.shuffle(&mut order);
        for &i in &order {
            let s = &samples[i];
            for c in 0..CATEGORIES {
                let z = bias[c] + s.x.iter().map(|&(k, v)| w[k as usize * CATEGORIES + c] * f64::from(v)).sum::<f64>();
                let p = 1.0 / (1.0 + (-z).exp());
                let (err, weight) = if s.y[c] { (p - 1.0, cw[c].0) } else { (p, cw[c].1) };
                let weight = weight * s.weight;
                let g = err * weight;
                gb2[c] += g * g;
                bias[c] -= rate * g / gb2[c].sqrt();
                for &(k, v) in &s.x {
                    let j = k as usize * CATEGORIES + c;
                    let gj = g * f64::from(v) + l2 * w[j];
                    g2[j] += gj * gj;
                    w[j] -= rate * gj / g2[j].sqrt();
                }
            }
        }
    }
    for (j, x) in w.iter_mut().enumerate() {
        *x *= idf[j / CATEGORIES];
    }
    quantise(&w, bias)
}

fn quantise(w: &[f64], bias: [f64; CATEGORIES]) -> NgramModel {
    let mut mags: Vec<f64> = w.iter().map(|x| x.abs()).filter(|&x| x > 0.0).collect();
    mags.sort_by(f64::total_cmp);
    let clip = mags.get(((mags.len() as f64 - 1.0) * CLIP_QUANTILE) as usize).copied().unwrap_or(1.0).max(1e-6);
    let scale = clip / 127.0;
    NgramModel {
        bits: bits(),
        scale: scale as f32,
        floor: floor(),
        bias: bias.map(|b| b as f32),
        a: [1.0; CATEGORIES],
        b: [0.0; CATEGORIES],
        weights: w.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect(),
    }
}

/// One-dimensional logistic fit of `y` on `x` (negatives weighted `neg_weight()`): (a, b).
fn calibrate(points: &[(f64, bool)]) -> (f64, f64) {
    let (mut a, mut b) = (1.0, 0.0);
    let neg_weight = neg_weight();
    let n: f64 = points.iter().map(|(_, y)| if *y { 1.0 } else { neg_weight }).sum();
    for _ in 0..20000 {
        let (mut ga, mut gb) = (0.0, 0.0);
        for &(x, y) in points {
            let p = 1.0 / (1.0 + (-(a * x + b)).exp());
            let (err, wt) = if y { (p - 1.0, 1.0) } else { (p, neg_weight) };
            ga += wt * err * x;
            gb += wt * err;
        }
        a -= 0.5 * ga / n;
        b -= 0.5 * gb / n;
    }
    (a, b)
}

/// The command line (see the module docs; training settings are environment variables, for experiments).
#[derive(clap::Parser)]
struct Args {
    /// Train and compare with the shipped file; write nothing.
    #[arg(long)]
    check: bool,
    /// Train without these training files (comma-separated) and report the model on them; write nothing.
    #[arg(long, value_delimiter = ',', value_parser = training_file)]
    holdout: Vec<String>,
    /// The whole detector on unseen writers by margin (`margin_sweep`); write nothing.
    #[arg(long, conflicts_with_all = ["check", "holdout"])]
    margins: bool,
}

/// A `--holdout` value: one of [`TRAINING`].
fn training_file(name: &str) -> Result<String, String> {
    TRAINING.contains(&name).then(|| name.to_string()).ok_or_else(|| format!("{name} is not a training file"))
}

fn main() {
    let Args { check, holdout: held_back, margins } = clap::Parser::parse();
    let mut samples: Vec<Sample> =
        TRAINING.iter().filter(|f| !held_back.iter().any(|h| h == *f)).flat_map(|f| load(f)).collect();
    let labelled = samples.len();
    if background() {
        samples.extend(background_texts());
    }
    println!("{labelled} labelled + {} background texts, 2^{} buckets", samples.len() - labelled, bits());

    // Inverse document frequency per bucket (smoothed, as scikit-learn's): the inputs are scaled by it while
    // training, so the L2 penalty favours rare, telling n-grams less than a flat penalty would; the shipped weights
    // have it multiplied in, so the runtime needs no table.
    let idf: Vec<f64> = if use_idf() {
        let mut df = vec![0u32; 1 << bits()];
        for s in &samples {
            for &(k, _) in &s.x {
                df[k as usize] += 1;
            }
        }
        let n = samples.len() as f64;
        df.iter().map(|&d| ((1.0 + n) / (1.0 + f64::from(d))).ln() + 1.0).collect()
    } else {
        vec![1.0; 1 << bits()]
    };
    for s in &mut samples {
        for (k, v) in &mut s.x {
            *v *= idf[*k as usize] as f32;
        }
    }
    if margins {
        margin_sweep(&samples, &idf);
        return;
    }
    let mut all: Vec<usize> = (0..samples.len()).collect();
    SplitMix(SEED).shuffle(&mut all);
    let mut oof = vec![[0.0f64; CATEGORIES]; samples.len()];
    for f in 0..FOLDS {
        let train_idx: Vec<usize> = all.iter().enumerate().filter(|(k, _)| k % FOLDS != f).map(|(_, &i)| i).collect();
        let m = train(&samples, &train_idx, SEED ^ f as u64, &idf);
        for (_, &i) in all.iter().enumerate().filter(|(k, _)| k % FOLDS == f) {
            oof[i] = m.raw(&samples[i].text);
        }
    }
    let mut model = train(&samples, &all, SEED, &idf);
    println!("out-of-fold (n-gram model alone, calibrated, p >= 0.5):");
    for c in Category::ALL {
        let i = c.index();
        let points: Vec<(f64, bool)> = samples.iter().zip(&oof).map(|(s, o)| (o[i], s.y[i])).collect();
        let (a, b) = calibrate(&points);
        model.a[i] = a as f32;
        model.b[i] = b as f32;
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for &(x, y) in &points {
            match (a * x + b >= 0.0, y) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
        }
        println!(
            "  {:<16} a {a:.3} b {b:.3}  P {:.3} R {:.3} (tp {tp} fp {fp} fn {fn_})",
            c.name(),
            tp as f64 / (tp + fp).max(1) as f64,
            tp as f64 / (tp + fn_).max(1) as f64
        );
    }
    let clean_held = samples
        .iter()
        .zip(&oof)
        .filter(|(s, o)| {
            !s.y.iter().any(|&y| y) && (0..CATEGORIES).any(|c| model.a[c] as f64 * o[c] + model.b[c] as f64 >= 0.0)
        })
        .count();
    println!(
        "  clean held out-of-fold: {clean_held} of {}",
        samples.iter().filter(|s| !s.y.iter().any(|&y| y)).count()
    );
    if !held_back.is_empty() {
        report_held_back(&model, &held_back);
        return;
    }
    let bytes = model.encode();
    if check {
        let same = std::fs::read(OUT).is_ok_and(|old| old == bytes);
        println!("{OUT}: {}", if same { "identical" } else { "DIFFERS" });
        std::process::exit(if same { 0 } else { 1 });
    }
    let out = std::env::var("NGRAM_OUT").unwrap_or_else(|_| OUT.to_string());
    std::fs::write(&out, &bytes).unwrap_or_else(|e| panic!("writing {out}: {e}"));
    println!("wrote {out} ({} bytes)", bytes.len());
}

fn bits() -> u8 {
    param("NGRAM_BITS", BITS_DEFAULT)
}

fn epochs() -> usize {
    param("NGRAM_EPOCHS", EPOCHS_DEFAULT)
}

fn rate() -> f64 {
    param("NGRAM_RATE", RATE_DEFAULT)
}

fn l2() -> f64 {
    param("NGRAM_L2", L2_DEFAULT)
}

fn floor() -> f32 {
    param("NGRAM_FLOOR", FLOOR_DEFAULT)
}

fn background_weight() -> f64 {
    param("NGRAM_BACKGROUND_WEIGHT", BACKGROUND_WEIGHT_DEFAULT)
}

fn neg_weight() -> f64 {
    param("NGRAM_NEG_WEIGHT", NEG_WEIGHT_DEFAULT)
}

/// A training parameter: its default (what the shipped file was made with) unless `var` overrides it, for
/// experiments.
fn param<T: std::str::FromStr>(var: &str, default: T) -> T {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn background() -> bool {
    param("NGRAM_BACKGROUND", 1u8) == 1
}

fn use_idf() -> bool {
    param("NGRAM_IDF", 0u8) == 1
}

/// `--margins`: the whole detector on writers the n-gram model has not read, by margin. The training files are dealt
/// into [`FOLDS`] groups, file by file; each group is scored by a model trained without it (the background chat
/// always in) and those grouped out-of-fold scores are calibrated as the shipped model's are; then every labelled
/// comment is scanned as `abuse::score` scans it, its n-gram log-odds replaced by that score less each margin. Every
/// training file was written by its own writer, so this is the margins' effect on unseen writers, measured on all
/// the labelled texts at once instead of on one held-back round. Writes nothing.
fn margin_sweep(samples: &[Sample], idf: &[f64]) {
    let group = |s: &Sample| s.source.as_ref().map(|(f, _)| f % FOLDS);
    let mut raw = vec![[0.0f64; CATEGORIES]; samples.len()];
    for g in 0..FOLDS {
        let train_idx: Vec<usize> = (0..samples.len()).filter(|&i| group(&samples[i]) != Some(g)).collect();
        let m = train(samples, &train_idx, SEED ^ (0x4d00 + g as u64), idf);
        for (i, s) in samples.iter().enumerate().filter(|(_, s)| group(s) == Some(g)) {
            let (_, body) = s.source.as_ref().expect("a grouped sample is labelled");
            raw[i] = m.raw(&abuse::ngram_text(&abuse::folded(&Normalized::new(body))));
        }
    }
    let labelled: Vec<usize> = (0..samples.len()).filter(|&i| samples[i].source.is_some()).collect();
    let cal: Vec<(f64, f64)> = (0..CATEGORIES)
        .map(|c| calibrate(&labelled.iter().map(|&i| (raw[i][c], samples[i].y[c])).collect::<Vec<_>>()))
        .collect();
    let assessed: Vec<abuse::Assessment> = labelled
        .iter()
        .map(|&i| abuse::assess(&Normalized::new(&samples[i].source.as_ref().expect("labelled").1)))
        .collect();
    println!(
        "{} labelled texts in {FOLDS} groups of files; whole detector, grouped out-of-fold n-gram scores",
        labelled.len()
    );
    println!("  margin  {}  clean held", Category::ALL.map(|c| format!("{:<15}", c.name())).join(" "));
    let mut chosen: [Option<f64>; CATEGORIES] = [None; CATEGORIES];
    for tenth in 4..=20 {
        let margin = f64::from(tenth) / 10.0;
        let (mut tp, mut fp, mut fn_) = ([0u32; CATEGORIES], [0u32; CATEGORIES], [0u32; CATEGORIES]);
        let (mut clean, mut clean_held) = (0u32, 0u32);
        for (&i, a) in labelled.iter().zip(&assessed) {
            let mut a = a.clone();
            // The scan's own opinion is kept where it has none (a reported quote) or is barred (a list of groups).
            a.ngram = a.ngram.map(|shipped| {
                std::array::from_fn(|c| {
                    let (slope, offset) = cal[c];
                    let shift = margin - abuse::NGRAM_MARGIN[c];
                    if shipped[c] == f64::NEG_INFINITY { shipped[c] } else { slope * raw[i][c] + offset - shift }
                })
            });
            let report = abuse::score(&a, &AbuseModel::BASE);
            let y = samples[i].y;
            let mut any = false;
            for c in Category::ALL {
                let (k, held) = (c.index(), report.scores.get(c) >= abuse::HOLD);
                any |= held;
                tp[k] += u32::from(held && y[k]);
                fp[k] += u32::from(held && !y[k]);
                fn_[k] += u32::from(!held && y[k]);
            }
            if !y.iter().any(|&l| l) {
                clean += 1;
                clean_held += u32::from(any);
            }
        }
        let cells: Vec<String> = (0..CATEGORIES)
            .map(|k| {
                let p = ratio(tp[k], tp[k] + fp[k]);
                if p >= 0.95 && chosen[k].is_none() {
                    chosen[k] = Some(margin);
                }
                format!("{:.3}/{:.3}    ", p, ratio(tp[k], tp[k] + fn_[k]))
            })
            .collect();
        println!("  {margin:.1}     {} {:.1}%", cells.join(" "), 100.0 * ratio(clean_held, clean));
    }
    for c in Category::ALL {
        let k = c.index();
        let at = chosen[k].map_or("none up to 2.0".to_string(), |m| format!("{m:.1}"));
        println!(
            "  {:<16} shipped margin {:.1}; smallest with precision >= 0.95: {at}",
            c.name(),
            abuse::NGRAM_MARGIN[k]
        );
    }
}

/// `a / b`, 0 when `b` is 0 (a precision or recall with nothing to count).
fn ratio(a: u32, b: u32) -> f64 {
    f64::from(a) / f64::from(b.max(1))
}

/// The calibrated model's precision and recall on the held-back files, per category, at probability 0.5 and at the
/// shipped margins (where it could raise a category on its own).
fn report_held_back(model: &NgramModel, files: &[String]) {
    let samples: Vec<Sample> = files.iter().flat_map(|f| load(f)).collect();
    println!("held back: {} ({} texts), n-gram model alone", files.join(", "), samples.len());
    let logits: Vec<[f64; CATEGORIES]> = samples.iter().map(|s| model.logits(&s.text)).collect();
    // (true positives, false positives, positives) of category `i` held at `margin`.
    let counts = |i: usize, margin: f64| {
        samples.iter().zip(&logits).fold((0u32, 0u32, 0u32), |(tp, fp, pos), (s, l)| {
            let held = l[i] >= margin;
            (tp + u32::from(held && s.y[i]), fp + u32::from(held && !s.y[i]), pos + u32::from(s.y[i]))
        })
    };
    let mut total = [0.0f64; 2];
    for (label, margin) in [("p >= 0.5", [0.0; CATEGORIES]), ("at margins", abuse::NGRAM_MARGIN)] {
        for c in Category::ALL {
            let (tp, fp, pos) = counts(c.index(), margin[c.index()]);
            let (p, r) = (ratio(tp, tp + fp), ratio(tp, pos));
            println!("  {label:<11} {:<16} P {p:.3} R {r:.3} (tp {tp} fp {fp} fn {})", c.name(), pos - tp);
            if label == "at margins" {
                total[0] += p;
                total[1] += r;
            }
        }
    }
    println!("  mean at margins: P {:.3} R {:.3}", total[0] / 5.0, total[1] / 5.0);
    println!("  precision / recall by margin:");
    for tenth in 0..=14 {
        let margin = f64::from(tenth) / 10.0;
        let cells: Vec<String> = Category::ALL
            .iter()
            .map(|c| {
                let (tp, fp, pos) = counts(c.index(), margin);
                format!("{:.3}/{:.3}", ratio(tp, tp + fp), ratio(tp, pos))
            })
            .collect();
        println!("    {margin:.1}  {}", cells.join("  "));
    }
}
