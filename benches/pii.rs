//! PII engine throughput and latency, normalisation included (`cargo bench --bench pii`).
//!
//! Four workloads, each timed per comment into an HDR histogram, on one thread:
//! 1. a PII-dense mix of ~150-byte comments (most carry an email, phone, card or IBAN; Latin, Urdu, Arabic and
//!    Devanagari scripts) — target ≥ 50,000 comments/s per core;
//! 2. clean Latin prose in 2 KiB comments — target ≥ 100 MB/s;
//! 3. clean Urdu prose in 2 KiB comments — target ≥ 50 MB/s;
//! 4. 2 KiB comments with a few PII items among prose — target p99 < 50 µs.
//!
//! Inputs are generated from a fixed seed, so runs are comparable.

mod common;

use commentguard::analysis::normalize::Normalized;
use commentguard::analysis::pii::{PiiConfig, detect, warm_up};
use common::Rng;
use hdrhistogram::Histogram;
use std::hint::black_box;
use std::time::{Duration, Instant};

const LATIN: &[&str] = &[
    "the",
    "council",
    "approved",
    "a",
    "new",
    "budget",
    "for",
    "schools",
    "and",
    "roads",
    "after",
    "long",
    "debate",
    "residents",
    "said",
    "they",
    "were",
    "happy",
    "with",
    "result",
    "but",
    "some",
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
    "thanks",
    "sharing",
    "I",
    "disagree",
    "strongly",
    "government",
    "should",
    "focus",
    "on",
    "health",
    "care",
    "instead",
    "of",
    "building",
    "more",
    "stadiums",
];
const URDU: &[&str] = &[
    "حکومت",
    "نے",
    "نیا",
    "بجٹ",
    "منظور",
    "کیا",
    "اور",
    "سکولوں",
    "کے",
    "لیے",
    "رقم",
    "رکھی",
    "گئی",
    "عوام",
    "خوش",
    "ہیں",
    "لیکن",
    "کچھ",
    "لوگ",
    "ٹیکس",
    "سے",
    "پریشان",
    "یہ",
    "مضمون",
    "بہت",
    "اچھا",
    "ہے",
    "شکریہ",
];

fn prose(rng: &mut Rng, words: &[&str], bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 32);
    while s.len() < bytes {
        s.push_str(rng.pick(words));
        s.push(if rng.below(12) == 0 { '.' } else { ' ' });
        if s.ends_with('.') {
            s.push(' ');
        }
    }
    s
}

/// A valid card number with a Luhn check digit.
fn card(rng: &mut Rng) -> String {
    let mut d: Vec<u32> = std::iter::once(4).chain((0..14).map(|_| rng.below(10) as u32)).collect();
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 0 { if x * 2 > 9 { x * 2 - 9 } else { x * 2 } } else { x })
        .sum();
    d.push((10 - sum % 10) % 10);
    let s: String = d.iter().map(|x| char::from_digit(*x, 10).unwrap_or('0')).collect();
    format!("{} {} {} {}", &s[..4], &s[4..8], &s[8..12], &s[12..])
}

fn pii_item(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("03{}-{}", rng.pick(&["00", "21", "33", "45"]), rng.digits(7)),
        1 => format!("+92 3{}{} {}", rng.below(5), rng.below(10), rng.digits(7)),
        2 => format!("{}{}@{}", rng.pick(&["ali", "sara", "john", "fatima"]), rng.below(100), "gmail.com"),
        3 => card(rng),
        4 => rng.pick(&["PK36SCBL0000001123456702", "DE89 3704 0044 0532 0130 00", "GB29NWBK60161331926819"]).into(),
        _ => format!("{} at yahoo dot com", rng.pick(&["bilal", "ayesha", "omar"])),
    }
}

fn dense_comment(rng: &mut Rng) -> String {
    let item = pii_item(rng);
    let t = match rng.below(6) {
        0 => format!(
            "mera number {item} hai, rabta karein. bhai jaldi reply karna, shukriya aur sab ko salaam, Allah hafiz dosto"
        ),
        1 => format!("میرا رابطہ {item} ہے، براہ کرم جلدی جواب دیں۔ شکریہ اور سب کو سلام"),
        2 => format!(
            "Great article! Contact me at {item} for more details about the offer, thanks a lot and keep writing."
        ),
        3 => format!("اتصل بي على {item} من فضلك، شكرا جزيلا لكم على المقال الرائع والمفيد"),
        4 => format!("Bahut badhiya video, mujhe {item} par message karo bhai. धन्यवाद दोस्तों, फिर मिलेंगे"),
        _ => {
            "Totally agree with the author here, the council should fix the roads before the monsoon rains come again."
                .into()
        }
    };
    let t = if rng.below(3) == 0 { format!("{t} {}", pii_item(rng)) } else { t };
    // Pad towards ~150 bytes with an everyday sign-off.
    if t.len() < 140 {
        format!("{t} {}", rng.pick(&["Regards.", "Thanks!", "بہت شکریہ", "Cheers, see you soon."]))
    } else {
        t
    }
}

/// Times `detect` (with normalisation) per input; returns the histogram, the wall time and the findings found.
fn measure(inputs: &[String], rounds: usize) -> (Histogram<u64>, Duration, usize) {
    let cfg = PiiConfig::default();
    let mut findings = 0;
    let (hist, wall) = common::time_each(inputs, rounds, |text| {
        findings += black_box(detect(text, &Normalized::new(text), &cfg)).len();
    });
    (hist, wall, findings)
}

fn report(name: &str, inputs: &[String], rounds: usize) {
    let rounds = common::rounds(rounds);
    let bytes: usize = inputs.iter().map(String::len).sum::<usize>() * rounds;
    let (h, wall, findings) = measure(inputs, rounds);
    let n = (inputs.len() * rounds) as f64;
    let secs = wall.as_secs_f64();
    println!(
        "{name:<34} {:>9.0} comments/s {:>8.1} MB/s   p50 {:>6.1} µs  p99 {:>6.1} µs  p99.9 {:>6.1} µs   ({} findings, avg {:.0} B)",
        n / secs,
        bytes as f64 / secs / 1e6,
        h.value_at_quantile(0.50) as f64 / 1e3,
        h.value_at_quantile(0.99) as f64 / 1e3,
        h.value_at_quantile(0.999) as f64 / 1e3,
        findings,
        bytes as f64 / n,
    );
}

fn main() {
    let t = Instant::now();
    warm_up();
    println!("warm_up: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);

    let mut rng = Rng(0x5eed_2026);
    let dense: Vec<String> = (0..2000).map(|_| dense_comment(&mut rng)).collect();
    let latin: Vec<String> = (0..200).map(|_| prose(&mut rng, LATIN, 2048)).collect();
    let urdu: Vec<String> = (0..200).map(|_| prose(&mut rng, URDU, 2048)).collect();
    let mixed_2k: Vec<String> = (0..500)
        .map(|_| {
            let mut s = prose(&mut rng, LATIN, 1900);
            for _ in 0..3 {
                let at = s.len() * (1 + rng.below(8)) / 10;
                let at = (0..=at).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                s.insert_str(at, &format!(" {} ", pii_item(&mut rng)));
            }
            s
        })
        .collect();

    // One untimed pass each, so caches and lazily built tables are warm.
    for set in [&dense, &latin, &urdu, &mixed_2k] {
        let _ = measure(set, 1);
    }
    report("PII-dense ~150 B comments", &dense, 25);
    report("clean Latin 2 KiB", &latin, 25);
    report("clean Urdu 2 KiB", &urdu, 25);
    report("2 KiB with 3 PII items", &mixed_2k, 10);
}
