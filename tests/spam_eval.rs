//! Measured quality of spam detection, with thresholds asserted:
//!
//! 1. **YouTube Spam Collection, leave-one-video-out**: train on four videos (weights fitted on held-out folds of
//!    those four only), test on the fifth. Precision / recall / F1 / accuracy / ROC AUC at `spam_score >= 0.5`, and
//!    the precision of what would be REJECTED (`>= 0.9`), per fold and mean — next to a plain multinomial naive
//!    Bayes baseline on the same folds.
//! 2. **SMS Spam Collection**: de-duplicated, seeded 50/50 split, same figures (out of domain: SMS, not comments).
//! 3. **Roman Urdu / Urdu probe set** (`tests/fixtures/spam/roman_urdu_probe.jsonl`, written for this project): the
//!    shipped base model, and rules alone.
//! 4. The committed base model is exactly what the documented command regenerates.
//!
//! Texts are de-duplicated before any split (the YouTube collection repeats copy-pasted spam across videos; a split
//! that kept the copies would test on training data). Only the comment text is used: the other columns leak the label.
//! The data lives outside the repository (`../shared/data`); without it, parts 1, 2 and 4 print why they are skipped.
//! Run with `--nocapture` to see the tables.

mod common;

use commentguard::analysis::normalize::Normalized;
use commentguard::analysis::spam::combine;
use commentguard::analysis::spam::fit::{self, Item, Prepared};
use commentguard::analysis::spam::model::{Counts, SpamModel};
use commentguard::analysis::spam::{self, tokens};
use commentguard::commands::train::{self as trainer, Labelled};
use std::collections::HashMap;
use std::path::PathBuf;

fn data(sub: &str) -> Option<PathBuf> {
    common::data::shared(sub)
}

/// Figures of one test set at the hold (0.5) and reject (0.9) thresholds.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    precision: f64,
    recall: f64,
    f1: f64,
    accuracy: f64,
    auc: f64,
    /// Precision of scores >= 0.9, and how many spam they catch.
    reject_precision: f64,
    reject_recall: f64,
    n: usize,
}

fn figures(scores: &[f64], labels: &[bool]) -> Figures {
    let (mut tp, mut fp, mut tn, mut fn_) = (0f64, 0f64, 0f64, 0f64);
    let (mut rtp, mut rfp) = (0f64, 0f64);
    for (&s, &y) in scores.iter().zip(labels) {
        match (s >= 0.5, y) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, false) => tn += 1.0,
            (false, true) => fn_ += 1.0,
        }
        if s >= 0.9 {
            if y { rtp += 1.0 } else { rfp += 1.0 }
        }
    }
    let div = |a: f64, b: f64| if b == 0.0 { 1.0 } else { a / b };
    let precision = div(tp, tp + fp);
    let recall = div(tp, tp + fn_);
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    Figures {
        precision,
        recall,
        f1,
        accuracy: div(tp + tn, tp + tn + fp + fn_),
        auc: auc(scores, labels),
        reject_precision: div(rtp, rtp + rfp),
        reject_recall: div(rtp, tp + fn_),
        n: scores.len(),
    }
}

/// ROC AUC by the rank-sum (Mann-Whitney) statistic, ties counted half.
fn auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        for k in i..=j {
            ranks[idx[k]] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&y| y).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 1.0;
    }
    let sum: f64 = ranks.iter().zip(labels).filter(|(_, y)| **y).map(|(r, _)| r).sum();
    (sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

fn header(title: &str) {
    println!("\n{title}");
    println!(
        "{:<22} {:>5} {:>9} {:>7} {:>7} {:>8} {:>7} {:>9} {:>9}",
        "fold", "n", "precision", "recall", "F1", "accuracy", "AUC", "rej.prec", "rej.recall"
    );
}

fn row(name: &str, f: &Figures) {
    println!(
        "{:<22} {:>5} {:>9.4} {:>7.4} {:>7.4} {:>8.4} {:>7.4} {:>9.4} {:>9.4}",
        name, f.n, f.precision, f.recall, f.f1, f.accuracy, f.auc, f.reject_precision, f.reject_recall
    );
}

fn mean(fs: &[Figures]) -> Figures {
    let k = fs.len().max(1) as f64;
    let m = |g: fn(&Figures) -> f64| fs.iter().map(g).sum::<f64>() / k;
    Figures {
        precision: m(|f| f.precision),
        recall: m(|f| f.recall),
        f1: m(|f| f.f1),
        accuracy: m(|f| f.accuracy),
        auc: m(|f| f.auc),
        reject_precision: m(|f| f.reject_precision),
        reject_recall: m(|f| f.reject_recall),
        n: fs.iter().map(|f| f.n).sum(),
    }
}

/// The baseline: plain multinomial naive Bayes over word counts (the same normalised words), Laplace smoothing,
/// class priors from the training set. Returns the posterior probability of spam per test text.
struct Baseline {
    counts: HashMap<u64, [f64; 2]>,
    totals: [f64; 2],
    docs: [f64; 2],
}

impl Baseline {
    fn words(text: &str) -> Vec<u64> {
        let norm = Normalized::new(text);
        let mut v = Vec::new();
        tokens::for_each_word(norm.as_str(), |r, k| {
            if r.is_some() {
                v.push(k)
            }
        });
        v
    }

    fn train(examples: &[(&[u64], bool)]) -> Baseline {
        let mut b = Baseline { counts: HashMap::new(), totals: [0.0; 2], docs: [0.0; 2] };
        for &(words, spam) in examples {
            let c = usize::from(spam);
            b.docs[c] += 1.0;
            for &w in words {
                b.counts.entry(w).or_default()[c] += 1.0;
                b.totals[c] += 1.0;
            }
        }
        b
    }

    fn probability(&self, words: &[u64]) -> f64 {
        let v = self.counts.len() as f64;
        let mut logit = (self.docs[1] / self.docs[0]).ln();
        for w in words {
            let c = self.counts.get(w).copied().unwrap_or([0.0; 2]);
            logit += ((c[1] + 1.0) / (self.totals[1] + v)).ln() - ((c[0] + 1.0) / (self.totals[0] + v)).ln();
        }
        combine::sigmoid(logit)
    }
}

/// Trains ours and the baseline on `train`, scores `test`; returns (ours, baseline) scores.
fn train_and_score(
    all: &[Labelled],
    prepared: &[Prepared],
    words: &[Vec<u64>],
    train: &[usize],
    test: &[usize],
) -> (Vec<f64>, Vec<f64>) {
    let items: Vec<Item<'_>> =
        train.iter().map(|&i| Item { prepared: &prepared[i], spam: all[i].spam, group: all[i].group }).collect();
    let model = fit::train(&items, None, 2);
    let ours: Vec<f64> = test.iter().map(|&i| prepared[i].probability(&model)).collect();
    if std::env::var_os("SPAM_EVAL_VERBOSE").is_some() {
        println!("calibration {:?}", model.calibration());
        for (k, &i) in test.iter().enumerate() {
            if (ours[k] >= 0.5) != all[i].spam {
                println!(
                    "  MISS {} {:.3} {:?}",
                    all[i].spam,
                    ours[k],
                    all[i].body.chars().take(140).collect::<String>()
                );
            }
        }
    }
    let base_examples: Vec<(&[u64], bool)> = train.iter().map(|&i| (words[i].as_slice(), all[i].spam)).collect();
    let baseline = Baseline::train(&base_examples);
    let theirs = test.iter().map(|&i| baseline.probability(&words[i])).collect();
    (ours, theirs)
}

#[test]
fn youtube_leave_one_video_out() {
    let Some(dir) = data("youtube-spam") else { return };
    let all = trainer::dedup(trainer::read_youtube(&dir).expect("reads the collection"));
    let prepared: Vec<Prepared> = all.iter().map(|e| Prepared::new(&e.body)).collect();
    let words: Vec<Vec<u64>> = all.iter().map(|e| Baseline::words(&e.body)).collect();
    let videos = ["Psy", "KatyPerry", "LMFAO", "Eminem", "Shakira"];
    // Ablation: the phrase lists were written knowing the spam genres of this collection (self-promotion,
    // engagement bait, money schemes), so the same pipeline without them shows what they add here.
    let no_phrases: Vec<Prepared> = prepared
        .iter()
        .map(|p| {
            let mut p = p.clone();
            p.rules[combine::PHRASE] = 0.0;
            p
        })
        .collect();
    let (mut ours, mut theirs, mut ablated) = (Vec::new(), Vec::new(), Vec::new());
    for (v, name) in videos.iter().enumerate() {
        let train: Vec<usize> = (0..all.len()).filter(|&i| all[i].group != v as u32).collect();
        let test: Vec<usize> = (0..all.len()).filter(|&i| all[i].group == v as u32).collect();
        let labels: Vec<bool> = test.iter().map(|&i| all[i].spam).collect();
        let (o, t) = train_and_score(&all, &prepared, &words, &train, &test);
        ours.push((name, figures(&o, &labels)));
        theirs.push((name, figures(&t, &labels)));
        let (a, _) = train_and_score(&all, &no_phrases, &words, &train, &test);
        ablated.push((name, figures(&a, &labels)));
    }
    println!("\nYouTube Spam Collection, leave-one-video-out, {} distinct texts", all.len());
    for (title, set) in [
        ("ours (calibrated Bayes + rules)", &ours),
        ("baseline (plain multinomial NB)", &theirs),
        ("ours without the phrase lists", &ablated),
    ] {
        header(title);
        for (name, f) in set.iter() {
            row(name, f);
        }
        row("mean", &mean(&set.iter().map(|(_, f)| *f).collect::<Vec<_>>()));
    }
    let m = mean(&ours.iter().map(|(_, f)| *f).collect::<Vec<_>>());
    let b = mean(&theirs.iter().map(|(_, f)| *f).collect::<Vec<_>>());
    println!("mean F1: ours {:.4}, baseline {:.4} ({:+.4})", m.f1, b.f1, m.f1 - b.f1);
    assert!(m.f1 >= 0.93, "mean F1 {:.4} below 0.93", m.f1);
    assert!(m.reject_precision >= 0.98, "precision of REJECTED {:.4} below 0.98", m.reject_precision);
    assert!(m.f1 > b.f1, "ours must beat the baseline");
}

#[test]
fn sms_split_half() {
    let Some(dir) = data("sms-spam") else { return };
    let mut all = trainer::dedup(trainer::read_sms(&dir.join("SMSSpamCollection")).expect("reads the collection"));
    common::shuffle(&mut all, 20_240_601);
    for e in all.iter_mut() {
        e.group = fit::hash_group(&e.body, 5);
    }
    let half = all.len() / 2;
    let prepared: Vec<Prepared> = all.iter().map(|e| Prepared::new(&e.body)).collect();
    let words: Vec<Vec<u64>> = all.iter().map(|e| Baseline::words(&e.body)).collect();
    let train: Vec<usize> = (0..half).collect();
    let test: Vec<usize> = (half..all.len()).collect();
    let labels: Vec<bool> = test.iter().map(|&i| all[i].spam).collect();
    let (o, t) = train_and_score(&all, &prepared, &words, &train, &test);
    let (ours, theirs) = (figures(&o, &labels), figures(&t, &labels));
    let spam = all.iter().filter(|e| e.spam).count();
    println!("\nSMS Spam Collection, {} distinct texts ({spam} spam), seeded 50/50 split", all.len());
    header("train on half, test on the other half");
    row("ours", &ours);
    row("baseline", &theirs);
    assert!(ours.f1 >= 0.9, "SMS F1 {:.4} below 0.9", ours.f1);
    assert!(ours.reject_precision >= 0.97, "SMS precision of REJECTED {:.4}", ours.reject_precision);
}

#[test]
fn roman_urdu_probe_set() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/spam/roman_urdu_probe.jsonl");
    let probe = trainer::read_jsonl(std::path::Path::new(path)).expect("reads the probe set");
    let base = spam::base_model();
    // Rules alone: the base model's calibration and comment counts (so the same site prior applies) but no
    // features, so every Bayes input is 0.
    let rules_only = SpamModel::new(Counts { docs: base.counts().docs, ..Counts::default() }, *base.calibration());
    let verbose = std::env::var_os("SPAM_EVAL_VERBOSE").is_some();
    println!("\nRoman Urdu / Urdu / Hindi probe set: {} comments", probe.len());
    println!(
        "{:<24} {:>10} {:>10} {:>12} {:>12} {:>12}",
        "", "spam >=0.5", "spam >=0.9", "ham >=0.5", "ham >=0.9", "ham max"
    );
    let mut results = Vec::new();
    for (name, model) in [("base model (shipped)", base), ("rules only", &rules_only)] {
        let scored: Vec<(f64, bool, &str)> =
            probe.iter().map(|e| (spam::text_score(&e.body, model), e.spam, e.body.as_str())).collect();
        let count = |spam: bool, t: f64| scored.iter().filter(|(s, y, _)| *y == spam && *s >= t).count();
        let (n_spam, n_ham) = (scored.iter().filter(|s| s.1).count(), scored.iter().filter(|s| !s.1).count());
        let ham_max = scored.iter().filter(|s| !s.1).map(|s| s.0).fold(0.0, f64::max);
        println!(
            "{:<24} {:>6}/{:<3} {:>6}/{:<3} {:>8}/{:<3} {:>8}/{:<3} {:>12.3}",
            name,
            count(true, 0.5),
            n_spam,
            count(true, 0.9),
            n_spam,
            count(false, 0.5),
            n_ham,
            count(false, 0.9),
            n_ham,
            ham_max
        );
        if verbose {
            for (s, y, body) in &scored {
                if (*s >= 0.5) != *y {
                    println!("  MISS {y} {s:.3} {body}");
                }
            }
        }
        results.push((count(true, 0.5) as f64 / n_spam as f64, count(false, 0.5)));
    }
    let (base_recall, base_fp) = results[0];
    let (rules_recall, rules_fp) = results[1];
    assert!(rules_recall >= 0.8, "rules alone catch {:.0}% of the probe spam", rules_recall * 100.0);
    assert!(base_recall >= 0.8, "the base model catches {:.0}% of the probe spam", base_recall * 100.0);
    assert_eq!(rules_fp, 0, "rules alone hold probe ham");
    assert_eq!(base_fp, 0, "the base model holds probe ham");
}

#[test]
fn committed_base_model_is_reproducible() {
    let Some(dir) = data("youtube-spam") else { return };
    let rebuilt = trainer::base_model_from(&dir).expect("trains");
    let shipped = include_bytes!("../src/analysis/spam/base_model.bin");
    assert!(
        rebuilt.to_bytes() == shipped.as_slice(),
        "src/analysis/spam/base_model.bin is stale: regenerate it with the command in src/analysis/spam/mod.rs"
    );
    assert_eq!(spam::base_model().counts(), rebuilt.counts());
}
