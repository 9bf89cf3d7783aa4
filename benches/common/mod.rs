//! What the hand-rolled benches share: a reproducible generator, the number of rounds, and per-item timing into an
//! HDR histogram. (Not a bench target itself: Cargo only discovers `benches/*.rs`.)

#![allow(dead_code)] // each bench uses a different part

use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// SplitMix64: the benches need no `rand` and stay reproducible.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    pub fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
}

/// `full` under `cargo bench`; one round when `cargo test --all-targets` runs the binary just to prove it works.
pub fn rounds(full: usize) -> usize {
    if std::env::args().any(|a| a == "--bench") { full } else { 1 }
}

/// Runs `f` once per input, `rounds` times over the set, timing each call; returns the histogram of nanoseconds
/// and the total wall time.
pub fn time_each<T>(inputs: &[T], rounds: usize, mut f: impl FnMut(&T)) -> (Histogram<u64>, Duration) {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
    let start = Instant::now();
    for _ in 0..rounds {
        for input in inputs {
            let t = Instant::now();
            f(input);
            let _ = hist.record((t.elapsed().as_nanos() as u64).max(1));
        }
    }
    (hist, start.elapsed())
}
