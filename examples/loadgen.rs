//! Load generator for a running `commentguard serve`:
//!
//! ```sh
//! COMMENTGUARD_LOADGEN_KEY=cg_dev_... cargo run --release --example loadgen -- --addr http://127.0.0.1:50051
//! ```
//!
//! `--clients` tasks send `SubmitComment` with varied, realistic bodies (English, Roman Urdu, Urdu script; links,
//! emails, phone numbers, spam) and unique comment ids, while `--health-clients` tasks send
//! `grpc.health.v1.Health/Check` to the same server over the same connections. Both are measured in the same run, so
//! the report shows what moderation costs next to what the bare gRPC stack costs under the same load.
//!
//! Closed loop by default: each client sends its next request only when the previous one has answered. The figures
//! are latency at this concurrency, not at a fixed arrival rate. With `--rate R` the SubmitComment clients send R
//! requests per second in all, each on its own fixed schedule (open loop), and a request's latency is counted from
//! when it was due, not when it was sent: a server that falls behind shows it in the percentiles (no coordinated
//! omission). The loadgen shares the machine with the server when both run locally; on few cores it competes for
//! CPU and that shows in the figures.
//!
//! Safety: only the `--addr` given is ever contacted, and it must be a loopback address. The run stops by itself
//! after warmup + duration; every request has a deadline, so a stalled server cannot hold it open. Failed requests
//! are counted by gRPC code and never retried.

use anyhow::{Context as _, bail};
use clap::Parser;
use commentguard::pb::{self, moderation_service_client::ModerationServiceClient};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tonic::Status;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// Every request gets this deadline (sent as `grpc-timeout` and enforced here); past it, the request counts as
/// DEADLINE_EXCEEDED. Bounds how long the run can outlast `--duration`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for each HTTP/2 connection before giving up on the run.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Histogram range in µs: 1 µs to 60 s, 3 significant figures (reported values are within 0.1%).
const HISTOGRAM_MAX_US: u64 = 60_000_000;

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Load a running commentguard (loopback only) with SubmitComment and Health.Check, report latencies"
)]
struct Args {
    /// Server URL; must be a loopback address.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    addr: String,
    /// Site API key (`serve` in dev mode prints one).
    #[arg(long, env = "COMMENTGUARD_LOADGEN_KEY", hide_env_values = true)]
    key: String,
    /// Concurrent SubmitComment clients (0: Health.Check only, the bare gRPC stack's reference figure).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(0..=4096))]
    clients: u32,
    /// Concurrent Health.Check clients, during the same run.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=1024))]
    health_clients: u32,
    /// Measured seconds, after the warmup.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration: u64,
    /// Seconds of load before measuring (not recorded): connections, caches and allocators settle.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=600))]
    warmup: u64,
    /// HTTP/2 connections to spread the clients over.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    connections: u32,
    /// Seed of the body generator; random (and printed) when absent, so any run can be repeated.
    #[arg(long)]
    seed: Option<u64>,
    /// SubmitComment requests per second in all (open loop, spread evenly over the clients); absent: closed loop.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rate: Option<u32>,
    /// Add a few random words to every body, so comments are rarely near copies of each other (a site's ordinary
    /// traffic). Without it ~3 in 4 bodies share a template closely enough to be held as a campaign, which loads
    /// the review queue as a spam wave would.
    #[arg(long)]
    distinct: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let endpoint = loopback_endpoint(&args.addr)?;
    let key = bearer(&args.key)?;
    let seed = args.seed.unwrap_or_else(|| rand::rng().random());
    println!("command: {}", command_line());
    println!(
        "target {}  clients {}  health-clients {}  connections {}  warmup {} s  duration {} s  seed {seed}  rate {}",
        args.addr,
        args.clients,
        args.health_clients,
        args.connections,
        args.warmup,
        args.duration,
        args.rate.map_or("closed loop".to_owned(), |r| format!("{r} req/s"))
    );
    // Each client's gap between sends, for an open loop.
    let gap = args.rate.map(|r| Duration::from_secs_f64(f64::from(args.clients) / f64::from(r)));

    let channels = connect_all(&endpoint, args.connections).await?;
    let window = Window::starting_now(Duration::from_secs(args.warmup), Duration::from_secs(args.duration));
    let run_id = run_id();
    let submit_tasks: Vec<_> = (0..args.clients)
        .map(|i| {
            let generator = BodyGen::new(seed, i).distinct(args.distinct);
            let prefix = format!("lg-{run_id}-{i}");
            // Clients start spread over one gap, so an open loop does not send in bursts.
            let offset = gap.map(|g| g.mul_f64(f64::from(i) / f64::from(args.clients)));
            let pacing = gap.zip(offset).map(|(gap, offset)| Pacing { gap, offset });
            tokio::spawn(submit_client(pick(&channels, i), key.clone(), window, generator, prefix, pacing))
        })
        .collect();
    let health_tasks: Vec<_> = (0..args.health_clients)
        .map(|i| tokio::spawn(health_client(pick(&channels, args.clients + i), window)))
        .collect();

    let submit = join_stats(submit_tasks).await?;
    let health = join_stats(health_tasks).await?;
    let seconds = window.measured.as_secs_f64();
    print_report("SubmitComment", "verdicts", &submit, seconds);
    print_report("Health.Check", "statuses", &health, seconds);
    print_body_summary(&submit);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Setup

/// Parses `--addr` and refuses anything but a loopback host: this tool generates load and must never be pointed at a
/// shared or production service by a typo.
fn loopback_endpoint(addr: &str) -> anyhow::Result<Endpoint> {
    let endpoint =
        Endpoint::from_shared(addr.to_owned()).with_context(|| format!("--addr {addr:?} is not a valid URL"))?;
    let host = endpoint.uri().host().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("--addr {addr:?}: only loopback addresses (127.0.0.0/8, ::1, localhost) may be loaded");
    }
    Ok(endpoint.connect_timeout(CONNECT_TIMEOUT).tcp_nodelay(true))
}

/// The `authorization` metadata value, built once: a key that is not valid metadata fails here, not per request.
fn bearer(key: &str) -> anyhow::Result<AsciiMetadataValue> {
    format!("Bearer {key}").parse().context("--key must be printable ASCII")
}

/// Opens `n` separate HTTP/2 connections (each `connect` is its own TCP connection; clones of a channel share it).
async fn connect_all(endpoint: &Endpoint, n: u32) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::new();
    for i in 0..n {
        let channel =
            endpoint.connect().await.with_context(|| format!("connecting to {} (connection {i})", endpoint.uri()))?;
        channels.push(channel);
    }
    Ok(channels)
}

/// Client `i`'s connection: round robin, so submit and health clients are mixed on every connection.
fn pick(channels: &[Channel], i: u32) -> Channel {
    channels[i as usize % channels.len()].clone()
}

/// Makes comment ids unique across runs against the same server (the ids are the idempotency key; a repeated id
/// would be answered from the store as a replay or refused as ALREADY_EXISTS instead of being moderated).
fn run_id() -> String {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!("{ms:x}")
}

/// The command line as invoked, with the value of `--key` masked (it is a credential; prefer the environment).
fn command_line() -> String {
    let mut out = Vec::new();
    let mut mask_next = false;
    for arg in std::env::args() {
        if mask_next {
            out.push("***".to_owned());
            mask_next = false;
        } else if arg == "--key" {
            out.push(arg);
            mask_next = true;
        } else if arg.starts_with("--key=") {
            out.push("--key=***".to_owned());
        } else {
            out.push(shell_quote(&arg));
        }
    }
    out.join(" ")
}

/// Quotes an argument for a POSIX shell when it needs it, so the printed line can be pasted back.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain { arg.to_owned() } else { format!("'{}'", arg.replace('\'', r"'\''")) }
}

// ---------------------------------------------------------------------------------------------------------------
// The run

/// When requests count. Requests that start during the warmup are sent but not recorded; no request starts after
/// the end, so the run stops by itself once the last in-flight request answers (or times out).
#[derive(Debug, Clone, Copy)]
struct Window {
    measure_from: Instant,
    end: Instant,
    measured: Duration,
}

impl Window {
    fn starting_now(warmup: Duration, measured: Duration) -> Window {
        let measure_from = Instant::now() + warmup;
        Window { measure_from, end: measure_from + measured, measured }
    }

    fn is_open(&self, now: Instant) -> bool {
        now < self.end
    }

    fn is_measured(&self, started: Instant) -> bool {
        started >= self.measure_from
    }
}

/// What one RPC saw. Each client keeps its own and they are merged at the end: no shared state on the hot path.
struct Stats {
    /// Latency of successful requests, µs.
    latency_us: Histogram<u64>,
    /// Failed requests by gRPC code name.
    errors: BTreeMap<&'static str, u64>,
    /// Successful answers by verdict (SubmitComment) or serving status (Health.Check).
    outcomes: BTreeMap<&'static str, u64>,
    /// Requests sent during the warmup, not recorded anywhere else.
    warmup_requests: u64,
    /// SubmitComment only: body bytes of recorded requests, and answers marked `replayed` (should stay 0: ids are
    /// unique, so a replay means the server mixed up comments).
    body_bytes: u64,
    replayed: u64,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            latency_us: Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, 3)
                .expect("constant histogram bounds are valid"),
            errors: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            warmup_requests: 0,
            body_bytes: 0,
            replayed: 0,
        }
    }

    /// Records one finished request that started at `started` and took `elapsed`; returns whether it was in the
    /// measured window.
    fn record(
        &mut self,
        window: &Window,
        started: Instant,
        elapsed: Duration,
        result: Result<&'static str, Status>,
    ) -> bool {
        if !window.is_measured(started) {
            self.warmup_requests += 1;
            return false;
        }
        match result {
            Ok(outcome) => {
                let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
                self.latency_us.saturating_record(us.max(1));
                *self.outcomes.entry(outcome).or_default() += 1;
            }
            Err(status) => *self.errors.entry(commentguard::telemetry::code_name(status.code())).or_default() += 1,
        }
        true
    }

    fn merge(&mut self, other: Stats) {
        self.latency_us.add(&other.latency_us).expect("histograms share the same bounds");
        for (name, n) in other.errors {
            *self.errors.entry(name).or_default() += n;
        }
        for (name, n) in other.outcomes {
            *self.outcomes.entry(name).or_default() += n;
        }
        self.warmup_requests += other.warmup_requests;
        self.body_bytes += other.body_bytes;
        self.replayed += other.replayed;
    }

    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn requests(&self) -> u64 {
        self.latency_us.len() + self.error_count()
    }
}

/// Waits for every client and merges what they saw. A panicked client is a bug in this tool: the run fails.
async fn join_stats(tasks: Vec<tokio::task::JoinHandle<Stats>>) -> anyhow::Result<Stats> {
    let mut total = Stats::new();
    for task in tasks {
        total.merge(task.await.context("a client task failed")?);
    }
    Ok(total)
}

/// Adds the bearer key and a deadline the server can see.
fn authed<T>(message: T, key: &AsciiMetadataValue) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(REQUEST_TIMEOUT);
    request.metadata_mut().insert("authorization", key.clone());
    request
}

/// Bounds one call on the client side as well: the server may be too busy to honour `grpc-timeout`.
async fn bounded<T>(call: impl Future<Output = Result<T, Status>>) -> Result<T, Status> {
    tokio::time::timeout(REQUEST_TIMEOUT, call)
        .await
        .unwrap_or_else(|_| Err(Status::deadline_exceeded("loadgen: no answer in time")))
}

/// An open-loop client's schedule: its first send is `offset` after the start, then one every `gap`.
#[derive(Debug, Clone, Copy)]
struct Pacing {
    gap: Duration,
    offset: Duration,
}

/// One SubmitComment client: sends, waits for the answer, sends the next, until the window closes. With `pacing`,
/// each request waits for its due time (unless late) and its latency counts from then.
async fn submit_client(
    channel: Channel,
    key: AsciiMetadataValue,
    window: Window,
    mut generator: BodyGen,
    id_prefix: String,
    pacing: Option<Pacing>,
) -> Stats {
    let mut client = ModerationServiceClient::new(channel);
    let mut stats = Stats::new();
    let first_due = Instant::now() + pacing.map_or(Duration::ZERO, |p| p.offset);
    for seq in 0u64.. {
        let request = generator.request(format!("{id_prefix}-{seq}"));
        let body_bytes = request.body.len() as u64;
        let started = match pacing {
            Some(p) => {
                let due = first_due + p.gap.saturating_mul(u32::try_from(seq).unwrap_or(u32::MAX));
                tokio::time::sleep_until(due.into()).await;
                due
            }
            None => Instant::now(),
        };
        if !window.is_open(started) {
            break;
        }
        let result = bounded(client.submit_comment(authed(request, &key))).await;
        let elapsed = started.elapsed();
        let outcome = result.map(|response| {
            let answer = response.into_inner();
            stats.replayed += u64::from(answer.replayed);
            verdict_name(answer.verdict)
        });
        if stats.record(&window, started, elapsed, outcome) {
            stats.body_bytes += body_bytes;
        }
    }
    stats
}

/// One Health.Check client (overall status, `service: ""`), same loop as the submit clients.
async fn health_client(channel: Channel, window: Window) -> Stats {
    let mut client = HealthClient::new(channel);
    let mut stats = Stats::new();
    loop {
        let started = Instant::now();
        if !window.is_open(started) {
            break;
        }
        let mut request = tonic::Request::new(HealthCheckRequest::default());
        request.set_timeout(REQUEST_TIMEOUT);
        let result = bounded(client.check(request)).await;
        let elapsed = started.elapsed();
        let outcome = result.map(|response| serving_name(response.into_inner().status));
        stats.record(&window, started, elapsed, outcome);
    }
    stats
}

fn verdict_name(verdict: i32) -> &'static str {
    match pb::Verdict::try_from(verdict) {
        Ok(pb::Verdict::Approved) => "APPROVED",
        Ok(pb::Verdict::PendingReview) => "PENDING_REVIEW",
        Ok(pb::Verdict::Rejected) => "REJECTED",
        Ok(pb::Verdict::Unspecified) => "UNSPECIFIED",
        Err(_) => "UNKNOWN_VALUE",
    }
}

fn serving_name(status: i32) -> &'static str {
    ServingStatus::try_from(status).map_or("UNKNOWN_VALUE", |s| s.as_str_name())
}

// ---------------------------------------------------------------------------------------------------------------
// Report

fn print_report(rpc: &str, outcome_label: &str, stats: &Stats, seconds: f64) {
    let h = &stats.latency_us;
    println!();
    println!("{rpc}");
    println!(
        "  requests   {}  (ok {}, errors {}; {} more during warmup, not recorded)",
        stats.requests(),
        h.len(),
        stats.error_count(),
        stats.warmup_requests
    );
    println!("  errors     {}", counts(&stats.errors));
    println!("  rate       {:.1} req/s", stats.requests() as f64 / seconds);
    if h.is_empty() {
        println!("  latency    (no successful requests)");
    } else {
        println!(
            "  latency µs p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            h.value_at_quantile(0.50),
            h.value_at_quantile(0.90),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max()
        );
    }
    println!("  {outcome_label:<10} {}", counts(&stats.outcomes));
}

fn print_body_summary(submit: &Stats) {
    if let Some(mean) = submit.body_bytes.checked_div(submit.requests()) {
        println!();
        println!(
            "SubmitComment bodies: mean {mean} bytes over {} templates; replayed answers {} (expected 0)",
            TEMPLATES.len(),
            submit.replayed
        );
    }
}

/// `NAME n, NAME n` or `none`.
fn counts(map: &BTreeMap<&'static str, u64>) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    map.iter().map(|(name, n)| format!("{name} {n}")).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------------------------
// Bodies

/// What a template is, which decides the form signals sent with it: people take seconds to type, spam bots submit
/// at once or fill the hidden honeypot field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An ordinary comment, possibly with a few links or an email/phone number.
    Person,
    /// Spam: many links, money, contact me on WhatsApp.
    Spam,
}

/// A hand-written comment; `{name}`, `{city}`, `{n}`, `{phone}`, `{email}` and `{url}` are filled per request.
struct Template {
    kind: Kind,
    /// BCP 47 hint sent as `language`.
    language: &'static str,
    text: &'static str,
}

const fn person(language: &'static str, text: &'static str) -> Template {
    Template { kind: Kind::Person, language, text }
}

const fn spam(language: &'static str, text: &'static str) -> Template {
    Template { kind: Kind::Spam, language, text }
}

const TEMPLATES: &[Template] = &[
    // English
    person(
        "en",
        "Great reporting, thank you! I have been following this story since it broke and this is the clearest \
         account I have read so far.",
    ),
    person(
        "en",
        "I disagree with the author on one point: the budget numbers in paragraph {n} do not add up once you include \
         the provincial share. Otherwise a solid piece.",
    ),
    person(
        "en",
        "My father worked at the {city} port for {n} years and he says exactly the same thing. Nobody listens to the \
         workers until something goes wrong.",
    ),
    person(
        "en",
        "Could you please publish the full report as a PDF? The summary is useful but I would like to read the \
         methodology myself.",
    ),
    person(
        "en",
        "This is the third article this week about load shedding in {city}. When will the ministry actually answer \
         these questions?",
    ),
    person("en", "Thanks {name}, well written. A small correction: the bridge opened in 2019, not 2017."),
    person(
        "en",
        "Honestly the comments here are better than the article. Good discussion everyone, let's keep it civil.",
    ),
    person(
        "en",
        "As a teacher in {city} for more than {n} years, I can tell you that the problem is not the syllabus but the \
         number of students in each class. When you have seventy children in one room and no fans in June, no \
         curriculum reform is going to help. Fix the buildings, hire more teachers, pay them on time, and then we \
         can talk about textbooks. Until then these announcements are just for the cameras.",
    ),
    person("en", "The photo caption is wrong, that is the old stadium in {city}. Please fix it."),
    person("en", "Who else read this twice to make sure it was real? I still cannot believe the council approved it."),
    // Roman Urdu
    person("ur-Latn", "bhai ye article bohat acha hai, sahi baat ki"),
    person("ur-Latn", "yaar {name} ne bilkul theek kaha, {city} mein halaat bohat kharab hain aur koi sunta hi nahi"),
    person("ur-Latn", "MashaAllah bohat zabardast likha hai, aisi reporting ki zaroorat hai. Allah aap ko khush rakhe"),
    person("ur-Latn", "mujhe nahi lagta ke ye policy kaam karegi, pichle {n} saal se yehi sun rahe hain"),
    person(
        "ur-Latn",
        "kya koi bata sakta hai ke form kahan se milega? website pe kuch nahi likha aur office wale phone nahi uthate",
    ),
    person("ur-Latn", "sahi keh rahe ho bhai, petrol ki qeemat phir barh gayi aur tankhwa wahi ki wahi"),
    person("ur-Latn", "ye to kamaal ho gaya, {city} ki team ne aakhir kar jeet hi liya. bohat mubarak ho sab ko!"),
    person("ur-Latn", "aap log sirf negative khabrein kyun dete ho? kabhi achi cheezon ke baare mein bhi likho"),
    // Urdu script
    person("ur", "بہت اچھا مضمون ہے، شکریہ"),
    person("ur", "آپ نے بالکل صحیح لکھا ہے۔ ہمارے شہر میں پانی کا مسئلہ ہر سال بڑھتا جا رہا ہے اور حکومت خاموش ہے۔"),
    person("ur", "اللہ آپ کو جزائے خیر دے، ایسی رپورٹنگ کی بہت ضرورت ہے۔"),
    person("ur", "میں اس بات سے متفق نہیں ہوں۔ پچھلے {n} سال سے یہی وعدے سن رہے ہیں لیکن کچھ نہیں بدلا۔"),
    person("ur", "کیا کوئی بتا سکتا ہے کہ درخواست جمع کروانے کی آخری تاریخ کیا ہے؟"),
    person("ur", "زبردست! بچوں کی تعلیم پر اس طرح کی خبریں اور بھی آنی چاہئیں۔"),
    person(
        "ur",
        "میرے والد صاحب نے ساری زندگی محکمہ تعلیم میں گزاری۔ وہ کہتے تھے کہ جب تک اساتذہ کو عزت اور مناسب تنخواہ \
         نہیں ملے گی، نظام نہیں بدلے گا۔ آج یہ مضمون پڑھ کر ان کی بات یاد آ گئی۔",
    ),
    // With links (within the default limit of three)
    person("en", "Here is the original source if anyone wants it: {url}"),
    person("en", "Similar story from last year: {url} and the follow-up {url}"),
    person("ur-Latn", "bhai full video yahan hai {url} dekh lo"),
    person("en", "The official notice is on the ministry site {url}, not what the article says."),
    // Personal data: emails and phone numbers are redacted, a card or CNIC holds the comment
    person("en", "call me at {phone}, I have the documents you mentioned"),
    person("en", "mail me {email} if you need the photos from the protest"),
    person("en", "Anyone selling a used bike in {city}? Contact {phone} after 6pm."),
    person("ur-Latn", "mujhe bhi job chahiye, mera number {phone} hai, please contact karein"),
    person("ur", "میرا ای میل {email} ہے، مجھے بھی تفصیلات بھیج دیں"),
    person("en", "I paid with my card 4111 1111 1111 1111 and still no refund from {name} Travels after {n} days!"),
    person("ur-Latn", "mera CNIC 35202-1234567-1 hai, phir bhi registration nahi ho rahi, koi madad kare"),
    // Spam
    spam("ur-Latn", "Earn $500 daily from home, whatsapp karo {phone}. No investment! {url} {url} {url} {url}"),
    spam("ur-Latn", "Ghar baithe paise kamayein! Rozana {n}000 rupay. Register now {url} {url} {url} {url} {url}"),
    spam("en", "CHEAP FOLLOWERS LIKES VIEWS best price {url} {url} {url} {url} {url} {url} contact {email}"),
    spam("en", "Congratulations! You have won an iPhone 15. Claim here {url} before midnight."),
    spam("en", "Crypto signals group, 300% profit guaranteed, join {url} {url} {url} {url} or DM {phone}"),
];

const NAMES: &[&str] =
    &["Ali", "Ayesha", "Bilal", "Sara", "Hamza", "Fatima", "Usman", "Zainab", "John", "Maria", "Imran", "Nadia"];
const CITIES: &[&str] =
    &["Lahore", "Karachi", "Islamabad", "Peshawar", "Quetta", "Multan", "Faisalabad", "London", "Toronto", "Dubai"];
const DOMAINS: &[&str] = &["www.example.com", "news.example.org", "example.net", "bit.example", "video.example.pk"];
/// Prepended or appended at random so the same template rarely yields the same body twice.
const OPENERS: &[&str] =
    &["", "", "", "Salam, ", "Sir, ", "Assalam o Alaikum. ", "Well, ", "Update: ", "السلام علیکم، "];
const CLOSERS: &[&str] = &["", "", "", " Thanks.", " shukriya", " 👍", " JazakAllah", " (edited)", " شکریہ"];
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
];

/// Words added per body with `--distinct`.
const DISTINCT_WORDS: usize = 16;

/// Everyday comment words (English and Roman Urdu), none of them a rule's or a detector's trigger.
const VOCABULARY: &[&str] = &[
    "budget", "school", "road", "water", "price", "tax", "match", "team", "city", "village", "market", "doctor",
    "hospital", "teacher", "student", "farmer", "wheat", "rain", "summer", "winter", "train", "bus", "fuel", "bill",
    "court", "judge", "assembly", "election", "vote", "party", "policy", "report", "reporter", "editor", "column",
    "history", "future", "children", "family", "mosque", "bazaar", "street", "traffic", "bridge", "canal", "dam",
    "cricket", "hockey", "stadium", "ticket", "season", "museum", "library", "garden", "river", "mountain", "valley",
    "budget", "salary", "pension", "rent", "loan", "bank", "rupee", "dollar", "export", "import", "factory", "mehngai",
    "bijli", "pani", "sarak", "sheher", "gaon", "bazar", "kisan", "mazdoor", "talib", "ustad", "hukumat", "adalat",
    "intikhab", "qanoon", "sehat", "taleem", "zameen", "fasal", "barish", "garmi", "sardi", "safar", "rasta", "khabar",
    "akhbar", "mulk", "qaum", "sawal", "jawab", "waqt", "din", "raat", "subah", "shaam",
];

/// Builds requests for one client from its own seeded RNG: the same `--seed` gives the same sequence of bodies.
struct BodyGen {
    rng: StdRng,
    /// Append [`DISTINCT_WORDS`] random words to each body (`--distinct`).
    distinct: bool,
}

impl BodyGen {
    /// Client `client`'s generator: seeded from the run seed and the client number, so clients differ.
    fn new(seed: u64, client: u32) -> BodyGen {
        let stream = u64::from(client).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        BodyGen { rng: StdRng::seed_from_u64(seed ^ stream), distinct: false }
    }

    fn distinct(self, distinct: bool) -> BodyGen {
        BodyGen { distinct, ..self }
    }

    fn request(&mut self, comment_id: String) -> pb::SubmitCommentRequest {
        let template = TEMPLATES.choose(&mut self.rng).expect("TEMPLATES is not empty");
        pb::SubmitCommentRequest {
            comment_id,
            thread_id: format!("article-{}", self.rng.random_range(1..=500)),
            author: Some(self.author()),
            body: self.body(template),
            language: template.language.to_owned(),
            signals: Some(self.signals(template.kind)),
            ..Default::default()
        }
    }

    fn body(&mut self, template: &Template) -> String {
        let opener = self.pick(OPENERS);
        let closer = self.pick(CLOSERS);
        let text = self.fill(template.text);
        if !self.distinct {
            return format!("{opener}{text}{closer}");
        }
        let words: Vec<&str> = (0..DISTINCT_WORDS).map(|_| self.pick(VOCABULARY)).collect();
        format!("{opener}{text} {}{closer}", words.join(" "))
    }

    /// Replaces each `{placeholder}` with a fresh random value.
    fn fill(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 64);
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(len) = rest[open..].find('}') else {
                break;
            };
            let value = self.placeholder(&rest[open + 1..open + len]);
            out.push_str(&value);
            rest = &rest[open + len + 1..];
        }
        out.push_str(rest);
        out
    }

    fn placeholder(&mut self, name: &str) -> String {
        match name {
            "name" => self.pick(NAMES).to_owned(),
            "city" => self.pick(CITIES).to_owned(),
            "n" => self.rng.random_range(2..=99).to_string(),
            "phone" => self.phone(),
            "email" => self.email(),
            "url" => self.url(),
            other => panic!("template placeholder {{{other}}} has no generator"),
        }
    }

    /// A Pakistani mobile number in one of the ways people write it.
    fn phone(&mut self) -> String {
        let network = self.rng.random_range(300..=349);
        let line = self.rng.random_range(1_000_000..=9_999_999);
        match self.rng.random_range(0..3) {
            0 => format!("0{network}-{line}"),
            1 => format!("+92 {network} {line}"),
            _ => format!("0{network}{line}"),
        }
    }

    fn email(&mut self) -> String {
        let name = self.pick(NAMES).to_lowercase();
        let n = self.rng.random_range(1..=999);
        format!("{name}.khan{n}@example.com")
    }

    fn url(&mut self) -> String {
        let domain = self.pick(DOMAINS);
        let n = self.rng.random_range(1..=99_999);
        format!("https://{domain}/p/{n}")
    }

    /// Documentation addresses only (203.0.113.0/24, 2001:db8::/64); most authors signed in, some guests.
    fn author(&mut self) -> pb::Author {
        let ip = if self.rng.random_bool(0.6) {
            format!("203.0.113.{}", self.rng.random_range(1..=254))
        } else {
            let [a, b, c, d] = self.rng.random::<[u16; 4]>();
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, a, b, c, d).to_string()
        };
        let signed_in = self.rng.random_bool(0.7);
        pb::Author {
            account_id: if signed_in { format!("acct-{}", self.rng.random_range(1..=100_000)) } else { String::new() },
            display_name: self.pick(NAMES).to_owned(),
            email: if signed_in { self.email() } else { String::new() },
            ip,
            user_agent: self.pick(USER_AGENTS).to_owned(),
            ..Default::default()
        }
    }

    /// People take seconds to minutes (a few paste and are fast); bots submit instantly or fill the honeypot.
    fn signals(&mut self, kind: Kind) -> pb::ClientSignals {
        let (honeypot_filled, ms) = match kind {
            Kind::Person if self.rng.random_bool(0.03) => (false, self.rng.random_range(800..3000)),
            Kind::Person => (false, self.rng.random_range(4_000..240_000)),
            Kind::Spam => match self.rng.random_range(0..3) {
                0 => (true, 0),
                1 => (false, 0),
                _ => (false, self.rng.random_range(300..1500)),
            },
        };
        pb::ClientSignals { honeypot_filled, time_to_submit_ms: Some(ms), referrer: String::new() }
    }

    fn pick(&mut self, items: &[&'static str]) -> &'static str {
        items.choose(&mut self.rng).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_filled_varied_and_sized_like_comments() {
        let mut generator = BodyGen::new(7, 0);
        let mut seen = std::collections::HashSet::new();
        for i in 0..2000 {
            let request = generator.request(format!("c-{i}"));
            let body = &request.body;
            assert!(!body.contains('{') && !body.contains('}'), "{body}");
            assert!((40..=700).contains(&body.len()), "{} bytes: {body}", body.len());
            let ip = &request.author.as_ref().expect("author is set").ip;
            assert!(ip.parse::<IpAddr>().is_ok(), "{ip}");
            seen.insert(body.clone());
        }
        assert!(seen.len() > 1500, "only {} distinct bodies", seen.len());
    }

    #[test]
    fn distinct_bodies_are_rarely_near_copies_and_templated_ones_often_are() {
        use commentguard::analysis::normalize::Normalized;
        use commentguard::analysis::spam::duplicates::{MIN_SHARED_BANDS, sketch};
        // Of 300 bodies, the share that is a near copy of an earlier one (what the service would hold).
        let near_share = |distinct: bool| {
            let mut generator = BodyGen::new(11, 0).distinct(distinct);
            let mut sketches = Vec::new();
            let mut near = 0;
            for i in 0..300 {
                let body = generator.request(format!("c-{i}")).body;
                let Some(s) = sketch(Normalized::new(&body).as_str()) else { continue };
                near += usize::from(sketches.iter().any(|o| s.shared_bands(o) >= MIN_SHARED_BANDS));
                sketches.push(s);
            }
            near as f64 / 300.0
        };
        let (templated, distinct) = (near_share(false), near_share(true));
        assert!(templated > 0.5, "templated bodies: {templated}");
        assert!(distinct < 0.1, "distinct bodies: {distinct}");
    }

    #[test]
    fn same_seed_same_bodies() {
        let run = |seed| {
            let mut generator = BodyGen::new(seed, 3);
            (0..50).map(|i| generator.request(format!("c-{i}")).body).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in ["http://127.0.0.1:50051", "http://[::1]:50051", "http://localhost:1"] {
            assert!(loopback_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in ["http://10.0.0.1:50051", "http://example.com:50051", "not a url"] {
            assert!(loopback_endpoint(bad).is_err(), "{bad}");
        }
    }
}
