//! Spam engine latency and throughput (`cargo bench --bench spam`), model in memory, one thread.
//!
//! Workload: ~300-byte comments generated from a fixed seed — English and Roman Urdu news comments, Urdu-script
//! comments, and spam (phrases, links, shorteners, obfuscation, symbols) in about one in four. Each comment is timed
//! on its own into an HDR histogram:
//!
//! 1. `spam::assess` given the normalised text (the spam engine alone) — target p99 < 30 µs;
//! 2. normalisation + `spam::assess` (what a request pays for spam when nothing else shares the normalisation).
//!
//! Prints p50 / p99 / p99.9 and comments per second.

mod common;

use commentguard::analysis::normalize::Normalized;
use commentguard::analysis::spam::{self, SpamInput};
use common::Rng;
use hdrhistogram::Histogram;
use std::hint::black_box;
use std::time::{Duration, Instant};

const ENGLISH: &[&str] = &[
    "the",
    "council",
    "approved",
    "budget",
    "for",
    "schools",
    "and",
    "roads",
    "after",
    "a",
    "long",
    "debate",
    "residents",
    "said",
    "they",
    "were",
    "worried",
    "about",
    "taxes",
    "next",
    "year",
    "this",
    "article",
    "is",
    "well",
    "written",
    "government",
    "should",
    "focus",
    "on",
    "inflation",
    "security",
    "cricket",
    "team",
    "played",
    "badly",
    "IMF",
    "programme",
    "reform",
    "police",
    "election",
    "court",
    "ruling",
    "I",
    "disagree",
    "strongly",
    "agree",
];
const ROMAN_URDU: &[&str] = &[
    "hukumat",
    "ko",
    "chahiye",
    "ke",
    "mehngai",
    "kam",
    "kare",
    "awaam",
    "pareshan",
    "hai",
    "Babar",
    "Azam",
    "ne",
    "acha",
    "khela",
    "lekin",
    "team",
    "haar",
    "gayi",
    "bijli",
    "ka",
    "bill",
    "bohat",
    "zyada",
    "aaya",
    "siyasat",
    "mein",
    "sab",
    "ek",
    "jaise",
    "hain",
    "police",
    "kahan",
    "thi",
    "shuhada",
    "Allah",
    "maghfirat",
    "kare",
];
const URDU: &[&str] = &[
    "حکومت",
    "کو",
    "چاہیے",
    "کہ",
    "مہنگائی",
    "کم",
    "کرے",
    "عوام",
    "پریشان",
    "ہے",
    "بابر",
    "اعظم",
    "نے",
    "اچھا",
    "کھیلا",
    "لیکن",
    "ٹیم",
    "ہار",
    "گئی",
    "بجلی",
    "کا",
    "بل",
    "بہت",
    "زیادہ",
    "آیا",
    "سیاست",
    "میں",
    "سب",
];
const SPAM: &[&str] = &[
    "Ghar baithe paise kamayen, rozana 5000! WhatsApp karein 0300-1234567",
    "Check out my channel https://bit.ly/abc123 and subscribe!!!!!!",
    "💰💰💰 EARN $500 DAILY FROM HOME ✅✅✅ visit earnfast dot com",
    "best c\u{0430}sino bonus, play c a s i n o at bet9[.]com",
    "Bitcoin double karen 24 ghante mein, guaranteed profit. t.me/cryptopk",
    "بغیر سود کے قرضہ حاصل کریں، فوری رابطہ کریں",
];

fn comment(rng: &mut Rng) -> String {
    let kind = rng.below(4);
    let words = match kind {
        0 => ENGLISH,
        1 => ROMAN_URDU,
        2 => URDU,
        _ => ENGLISH,
    };
    let mut s = String::new();
    if kind == 3 {
        s.push_str(rng.pick(SPAM));
        s.push(' ');
    }
    while s.len() < 300 {
        s.push_str(rng.pick(words));
        s.push(if rng.below(9) == 0 { '.' } else { ' ' });
    }
    s
}

fn report(name: &str, h: &Histogram<u64>, n: usize, elapsed: Duration) {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{name:<40} p50 {:>6.1} µs  p99 {:>6.1} µs  p99.9 {:>6.1} µs  max {:>7.1} µs  {:>9.0} comments/s",
        us(0.5),
        us(0.99),
        us(0.999),
        h.max() as f64 / 1000.0,
        n as f64 / elapsed.as_secs_f64()
    );
}

fn main() {
    spam::warm_up();
    let model = spam::base_model();
    let mut rng = Rng(0x5eed);
    let comments: Vec<String> = (0..2000).map(|_| comment(&mut rng)).collect();
    let normalized: Vec<Normalized> = comments.iter().map(|c| Normalized::new(c)).collect();
    let input = SpamInput::default();
    let mean_len = comments.iter().map(String::len).sum::<usize>() / comments.len();
    println!(
        "{} comments, mean {} bytes, model of {} features",
        comments.len(),
        mean_len,
        model.counts().entries.len()
    );

    // Warm caches and branch predictors.
    for (c, n) in comments.iter().zip(&normalized) {
        black_box(spam::assess(c, n, &input, model));
    }

    let rounds = common::rounds(25);
    let both: Vec<(&String, &Normalized)> = comments.iter().zip(&normalized).collect();
    let (h, wall) = common::time_each(&both, rounds, |(c, n)| {
        black_box(spam::assess(black_box(c), n, &input, model));
    });
    report("spam::assess (normalised text given)", &h, rounds * comments.len(), wall);

    let (h, wall) = common::time_each(&comments, rounds, |c| {
        black_box(spam::assess(c, &Normalized::new(black_box(c)), &input, model));
    });
    report("normalise + spam::assess", &h, rounds * comments.len(), wall);

    // The near-copy sketch intake computes before the context fetch (normalisation included).
    let (h, wall) = common::time_each(&comments, rounds, |c| {
        black_box(spam::duplicates::sketch(Normalized::new(black_box(c)).as_str()));
    });
    report("near-copy sketch (normalise + MinHash)", &h, rounds * comments.len(), wall);

    // A replica's reload after a site learned: base + a delta of these 2,000 comments, index rebuilt.
    let delta = spam::fit::counts_of_bodies(comments.iter().enumerate().map(|(i, c)| (c.as_str(), i % 4 == 3)));
    let t = Instant::now();
    let learned = model.with_delta(&delta);
    println!(
        "reload base + delta ({} features) -> {} features in {:.1} ms",
        delta.entries.len(),
        learned.counts().entries.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );

    // By kind of comment: which ones are slow.
    for (name, pick) in [("  of which ham", false), ("  of which spam", true)] {
        let subset: Vec<(&String, &Normalized)> =
            both.iter().copied().filter(|(c, n)| (spam::assess(c, n, &input, model).score >= 0.5) == pick).collect();
        let (h, wall) = common::time_each(&subset, rounds, |(c, n)| {
            black_box(spam::assess(black_box(c), n, &input, model));
        });
        report(name, &h, rounds * subset.len(), wall);
    }

    let huge = "a".repeat(1 << 20);
    let t = Instant::now();
    let n = Normalized::new(&huge);
    black_box(spam::assess(&huge, &n, &input, model));
    println!("1 MiB of one repeated character: {:.1} ms (normalise + assess)", t.elapsed().as_secs_f64() * 1e3);
}
