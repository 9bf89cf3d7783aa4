//! Rate-limiter cost and memory (`cargo bench --bench ratelimit`).
//!
//! One site with the default limits (all local), except that the thread and site ceilings are raised so that every
//! request takes the full admit path through all five limits (flood, author, address, thread, site) plus surge
//! control. Time is governor's `FakeRelativeClock`, so the run is deterministic and "settling" is instant.
//!
//! 1. 1,000,000 requests, each from a distinct IPv4 address AND a distinct author (the worst case: three limiters
//!    gain a key per request), over 10,000 threads: mean cost per check (new keys), then peak RSS (VmHWM).
//! 2. The same 1,000,000 subjects again after an hour: mean cost per check on existing keys.
//! 3. One address hammering its exhausted bucket: mean cost of a refusal.
//! 4. Housekeeping (`retain_recent` + `shrink_to_fit`) after the buckets refilled: settled RSS.
//!
//! Targets: < 1 µs per local check, < 150 MB peak, < 40 MB settled. Without `--bench` (as `cargo test
//! --all-targets` runs it) a 20,000-request smoke run checks only that it works.

use commentguard::config::{Config, sha256_hex};
use commentguard::pseudonym::Pseudonymizer;
use commentguard::ratelimit::{FakeRelativeClock, Limiter, RateClock, SiteLimits, Subject};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Runs a check that needs no Redis: local limits complete on the first poll.
fn check_now(limiter: &Limiter, site: &SiteLimits, subject: &Subject<'_>) -> bool {
    let mut future = pin!(limiter.check("bench", site, subject));
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result.is_ok(),
        Poll::Pending => panic!("a local-only check never waits"),
    }
}

/// `VmRSS` or `VmHWM` of this process in MiB (Linux).
fn memory_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// Many short strings in one buffer: a `Vec<String>` of a million addresses would itself cost ~50 MB of RSS and
/// drown the limiter's own figure.
struct Arena {
    text: String,
    ends: Vec<u32>,
}

impl Arena {
    fn new(n: u32, item: impl Fn(u32) -> String) -> Arena {
        let mut arena = Arena { text: String::new(), ends: Vec::with_capacity(n as usize) };
        for i in 0..n {
            arena.text.push_str(&item(i));
            arena.ends.push(arena.text.len() as u32);
        }
        arena
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

struct Subjects {
    ips: Arena,
    accounts: Arena,
    threads: Arena,
}

impl Subjects {
    fn new(n: u32) -> Subjects {
        Subjects {
            // 10.0.0.0/8 onwards: n distinct addresses.
            ips: Arena::new(n, |i| std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string()),
            accounts: Arena::new(n, |i| format!("acct-{i}")),
            threads: Arena::new(10_000, |i| format!("article-{i}")),
        }
    }

    fn get(&self, i: usize) -> Subject<'_> {
        Subject {
            ip: self.ips.get(i),
            account_id: self.accounts.get(i),
            email: "",
            thread_id: self.threads.get(i % self.threads.len()),
        }
    }
}

fn pass(limiter: &Limiter, site: &SiteLimits, subjects: &Subjects) -> (Duration, usize) {
    let started = Instant::now();
    let mut admitted = 0;
    for i in 0..subjects.ips.len() {
        admitted += usize::from(check_now(limiter, site, black_box(&subjects.get(i))));
    }
    (started.elapsed(), admitted)
}

fn per_check(elapsed: Duration, n: usize) -> String {
    format!("{:.0} ns", elapsed.as_nanos() as f64 / n as f64)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: u32 = if full { 1_000_000 } else { 20_000 };
    let config = Config::from_toml(&format!(
        "[[sites]]\nid = \"bench\"\napi_key_sha256 = [\"{}\"]\n[sites.policy.rate_limits]\n\
         thread = {{ per_minute = 1000000, burst = 1000000 }}\nsite = {{ per_minute = 1000000, burst = 1000000 }}\n",
        sha256_hex("bench")
    ))
    .expect("bench config is valid");
    let clock = FakeRelativeClock::default();
    let limiter = Limiter::new(&config, Pseudonymizer::new(b"bench"), RateClock::fake(&clock)).expect("limiter");
    let site = limiter.compile(&config.sites[0].policy, None);
    let subjects = Subjects::new(n);
    let baseline = memory_mib("VmRSS:");
    println!("{n} distinct addresses and authors over 10,000 threads; RSS with the inputs built: {baseline:.1} MiB");

    let (elapsed, admitted) = pass(&limiter, &site, &subjects);
    assert_eq!(admitted, n as usize, "every request takes the admit path");
    let keys = site.key_counts();
    println!("new keys:       {} per check ({admitted} admitted)", per_check(elapsed, n as usize));
    println!(
        "keys held:      flood {} author {} ip {} thread {} site {} surge {}",
        keys[0], keys[1], keys[2], keys[3], keys[4], keys[5]
    );
    println!(
        "peak RSS:       {:.1} MiB (VmHWM; {:.1} MiB above the start)",
        memory_mib("VmHWM:"),
        memory_mib("VmHWM:") - baseline
    );

    clock.advance(Duration::from_secs(3600));
    let (elapsed, _) = pass(&limiter, &site, &subjects);
    println!("existing keys:  {} per check", per_check(elapsed, n as usize));

    // A working set that fits in cache: 10,000 readers commenting every 10 s (all admitted).
    let (mut elapsed, mut checks) = (Duration::ZERO, 0usize);
    for _ in 0..if full { 100 } else { 2 } {
        clock.advance(Duration::from_secs(10));
        let started = Instant::now();
        for i in 0..10_000usize.min(n as usize) {
            checks += usize::from(check_now(&limiter, &site, black_box(&subjects.get(i))));
        }
        elapsed += started.elapsed();
    }
    println!("hot 10k keys:   {} per check", per_check(elapsed, checks));

    let hammer = Subject { ip: "203.0.113.7", account_id: "troll", email: "", thread_id: "article-0" };
    let refusals = 200_000usize.min(n as usize);
    let started = Instant::now();
    let mut refused = 0;
    for _ in 0..refusals {
        refused += usize::from(!check_now(&limiter, &site, black_box(&hammer)));
    }
    println!("refusal:        {} per check ({refused} refused)", per_check(started.elapsed(), refusals));

    // The inputs are the bench's, not the limiter's: give them back before measuring what the limiter keeps.
    drop(subjects);
    clock.advance(Duration::from_secs(3600));
    let started = Instant::now();
    commentguard::ratelimit::housekeeping(std::slice::from_ref(&site));
    println!(
        "housekeeping:   {:.1} ms; keys left {:?}; settled RSS {:.1} MiB",
        started.elapsed().as_secs_f64() * 1e3,
        site.key_counts(),
        memory_mib("VmRSS:")
    );
}
