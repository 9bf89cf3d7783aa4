//! Configuration (DESIGN §7): built-in defaults → one TOML file → `COMMENTGUARD_<SECTION>__<KEY>` environment
//! overrides → command-line flags, then [`Config::validate`] with exact, path-qualified messages.
//!
//! Invariant: a `Config` that passed `validate` can be compiled into a runtime without further checks, so a bad file
//! given to SIGHUP is refused before anything is swapped.

pub mod abuse;
pub mod error;
pub mod ratelimit;
pub mod webhook;

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf};

/// Environment variables with this prefix override scalar keys; `__` separates levels.
pub const ENV_PREFIX: &str = "COMMENTGUARD_";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub spam: SpamConfig,
    /// `[ratelimit]`: the limiter's Redis and memory bounds (per-site limits live in `[sites.policy.rate_limits]`).
    pub ratelimit: crate::config::ratelimit::RateLimitConfig,
    pub sites: Vec<SiteConfig>,
    pub moderators: Vec<ModeratorConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// gRPC address (also `serve --listen`).
    pub listen: String,
    /// Prometheus `/metrics`; empty string disables the endpoint.
    pub metrics_listen: String,
    /// `human` or `json`.
    pub log_format: LogFormat,
    /// Largest gRPC message the server decodes; bigger requests are refused before any handler runs.
    pub max_message_bytes: usize,
    /// A gRPC connection with no open RPC for this long is closed (like gRPC's `MAX_CONNECTION_IDLE`): bytes alone
    /// (pings, half a header) do not keep it open, so idle and stalled clients cannot hold sockets forever.
    pub idle_timeout_ms: u64,
    /// Open gRPC connections beyond this are accepted and closed at once (counted in
    /// `commentguard_connections_refused_total`); a closed one frees its place.
    pub max_connections: usize,
    /// HTTP/2 PING every this often on each gRPC connection; a peer that does not answer within
    /// `keepalive_timeout_ms` is dropped, so a vanished client does not hold an open stream. 0 turns pings off.
    pub keepalive_interval_ms: u64,
    pub keepalive_timeout_ms: u64,
    /// A `/metrics` client must send its request headers within this long (also bounds an idle keep-alive
    /// connection), so slow or stalled clients cannot pile up.
    pub metrics_header_timeout_ms: u64,
    /// A SIGHUP whose file has no sites (or no moderators) while some are running is refused unless this is true in
    /// that file: an empty or truncated file would otherwise lock every tenant out while health says SERVING.
    pub allow_empty_reload: bool,
    /// After SIGTERM, health says NOT_SERVING for this long before the listener closes, so load balancers move away.
    pub shutdown_grace_ms: u64,
    /// After the listener closes, in-flight requests get this long to finish; open streams are then cut.
    pub drain_timeout_ms: u64,
    /// An idle `WatchDecisions` stream gets a heartbeat this often, so proxies keep it open.
    pub heartbeat_ms: u64,
    /// Open `WatchDecisions` streams per site; more are refused with RESOURCE_EXHAUSTED.
    pub max_watchers_per_site: usize,
    /// Decision-stream reads (watcher catch-up, `ListDecisions`) running at once in this process, all sites.
    pub watch_catchup_concurrency: usize,
    /// The same, per site: one site's readers never take every slot, so they cannot starve another site.
    pub watch_catchup_concurrency_per_site: usize,
    /// HTTP/JSON door for hosts that cannot speak gRPC (`crate::http_api`); empty (the default) leaves it off.
    pub http_listen: String,
    /// An HTTP/JSON client must send a request's headers within this long; `idle_timeout_ms` and `max_connections`
    /// bound its connections as they bound gRPC's (each listener has its own `max_connections`).
    pub http_header_timeout_ms: u64,
    /// The moderator console (`crate::console`: the browser UI and its JSON review API); empty (the default) leaves
    /// it off. Its connections are bounded as the HTTP/JSON door's are (`http_header_timeout_ms` included).
    pub console_listen: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:50051".into(),
            metrics_listen: "127.0.0.1:9464".into(),
            log_format: LogFormat::Human,
            max_message_bytes: 1024 * 1024,
            idle_timeout_ms: 300_000,
            max_connections: 10_000,
            keepalive_interval_ms: 30_000,
            keepalive_timeout_ms: 10_000,
            metrics_header_timeout_ms: 5_000,
            allow_empty_reload: false,
            shutdown_grace_ms: 0,
            drain_timeout_ms: 10_000,
            heartbeat_ms: 15_000,
            max_watchers_per_site: 100,
            watch_catchup_concurrency: 4,
            watch_catchup_concurrency_per_site: 2,
            http_listen: String::new(),
            http_header_timeout_ms: 5_000,
            console_listen: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Absent: the embedded in-memory store (nothing survives a restart).
    pub redis_url: Option<String>,
    /// Secret that keys the pseudonyms of authors and IPs in the store (HMAC). Set it in production and keep it
    /// stable: changing it starts every reputation afresh. Absent: a random one per process (memory store) or a
    /// fixed, publicly known one with a warning (Redis).
    pub pseudonym_secret: Option<String>,
    /// `primary`: answer once the primary applied the write (durable with `appendonly yes`); `replica`: also wait
    /// for one replica (`WAIT`).
    pub durability: DurabilityConfig,
    /// Bound on every Redis command and connection attempt; a request never hangs longer on a dead Redis.
    pub timeout_ms: u64,
    /// With `durability = "replica"`: how long to wait for the replica before answering UNAVAILABLE.
    pub replica_wait_ms: u64,
    /// How often health probes the store; NOT_SERVING while it does not answer.
    pub health_interval_ms: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            redis_url: None,
            pseudonym_secret: None,
            durability: DurabilityConfig::Primary,
            timeout_ms: 1000,
            replica_wait_ms: 500,
            health_interval_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum DurabilityConfig {
    #[default]
    Primary,
    Replica,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SpamConfig {
    /// Absent: the base model shipped in the binary.
    pub model_path: Option<PathBuf>,
    /// Learn each site's spam model from its moderators' decisions (sites opt out with `policy.spam_learning`).
    pub learn: bool,
    /// How often each replica looks for new moderator feedback to learn.
    pub learn_interval_ms: u64,
    /// How often each replica checks whether a site's learned model changed, and reloads it.
    pub reload_interval_ms: u64,
    /// Feedback claimed by a replica that has not learned it after this long is taken over by another.
    pub feedback_claim_timeout_ms: u64,
    /// A learned version becomes a snapshot (to revert to) when the newest snapshot is at least this old.
    pub snapshot_every_secs: u64,
    /// Snapshots kept per site.
    pub keep_snapshots: usize,
    /// Past this many distinct features in a site's delta, features it saw only once are dropped.
    pub max_delta_features: usize,
}

impl Default for SpamConfig {
    fn default() -> Self {
        SpamConfig {
            model_path: None,
            learn: true,
            learn_interval_ms: 1000,
            reload_interval_ms: 2000,
            feedback_claim_timeout_ms: 60_000,
            snapshot_every_secs: 3600,
            keep_snapshots: 24,
            max_delta_features: 1_000_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub id: String,
    /// Hex SHA-256 of each valid API key; a list so keys rotate with overlap.
    pub api_key_sha256: Vec<String>,
    /// ISO 3166 region for phone numbers written without a country code.
    #[serde(default = "default_region")]
    pub default_region: String,
    #[serde(default)]
    pub policy: PolicyConfig,
    /// `[sites.webhook]`: signed delivery of the site's decision events (absent: none).
    #[serde(default)]
    pub webhook: Option<crate::config::webhook::WebhookConfig>,
}

fn default_region() -> String {
    "PK".into()
}

/// What the policy does with a finding of one PII type.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PiiAction {
    Allow,
    Redact,
    Hold,
    Reject,
}

/// A site's policy (`[sites.policy]`). Defaults are safe for a news site: a clean comment from a new reader is
/// approved at once; pre-moderation and first-time-author hold are opt-in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// REJECT (`policy.blocked_word`); matched whole-word on normalised text.
    pub blocked_words: Vec<String>,
    /// HOLD (`policy.suspect_word`).
    pub suspect_words: Vec<String>,
    /// More links than this → `spam.links`. Links to `allowed_domains` do not count.
    pub max_links: u32,
    /// Domains whose links REJECT a comment (`spam.blocked_domain`): a link, bare domain or obfuscated address
    /// (`example[.]com`) in the body, or the author's website field, on the domain or any subdomain of it. Written as
    /// `example.com` (`*.example.com` and `.example.com` mean the same); compared without letter case or `www.`.
    pub blocked_domains: Vec<String>,
    /// Domains (and their subdomains) readers may link to: such links are no spam evidence and do not count against
    /// `max_links`, and an author website there is no signal. A domain may not be on both lists; where a host
    /// matches both, the more specific entry wins.
    pub allowed_domains: Vec<String>,
    /// Every comment is held (`policy.premoderation`).
    pub premoderation: bool,
    /// An author's first comment is held (`policy.first_time_author`).
    pub hold_first_time_authors: bool,
    /// Spam score at or above which a comment is held.
    pub spam_hold_threshold: f64,
    /// Spam score at or above which a comment is rejected.
    pub spam_reject_threshold: f64,
    /// A form submitted faster than this (ms) raises `spam.too_fast`.
    pub min_time_to_submit_ms: u32,
    /// Largest accepted body in UTF-8 bytes.
    pub max_body_bytes: usize,
    /// Records, queue entries and decision events are kept this many days.
    pub retention_days: u32,
    /// Moderators' decisions teach this site's spam model (with `spam.learn`).
    pub spam_learning: bool,
    /// Near copies of a comment (twelve words or more) posted within this many seconds count as a campaign
    /// (`spam.duplicate`); 0 turns the check off.
    pub duplicate_window_secs: u32,
    /// Action per PII type, keyed by finding code (`"pii.phone" = "redact"`); unlisted types use the defaults.
    pub pii_actions: BTreeMap<String, PiiAction>,
    /// How each PII type is masked where it is redacted: `label` (`[phone removed]`, the default),
    /// `partial_mask` (`j***@example.com`, `•••• 4242`) or `remove`.
    pub pii_redaction: BTreeMap<String, crate::analysis::pii::redact::RedactionStyle>,
    /// After this many distinct readers report a published comment, it is hidden pending review.
    pub report_hide_threshold: u32,
    /// Longest lease a moderator may take on a review item (seconds); longer requests are capped to it.
    pub max_lease_secs: u32,
    /// Addresses and CIDR ranges whose comments are REJECTED (`policy.banned`) without being stored.
    pub banned_ips: Vec<String>,
    /// Account ids, or emails in any letter case, whose comments are REJECTED (`policy.banned`) without being stored.
    pub banned_authors: Vec<String>,
    /// `[sites.policy.abuse]`: action and thresholds per abuse category, learning, the external classifier.
    pub abuse: abuse::AbusePolicyConfig,
    /// `[sites.policy.rate_limits]`: rate limits, flood and surge control (see `ratelimit::config`).
    pub rate_limits: crate::config::ratelimit::RateLimitPolicy,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            blocked_words: Vec::new(),
            suspect_words: Vec::new(),
            max_links: 3,
            blocked_domains: Vec::new(),
            allowed_domains: Vec::new(),
            premoderation: false,
            hold_first_time_authors: false,
            spam_hold_threshold: 0.5,
            spam_reject_threshold: 0.9,
            min_time_to_submit_ms: 3000,
            max_body_bytes: 16 * 1024,
            retention_days: 30,
            duplicate_window_secs: 6 * 3600,
            spam_learning: true,
            pii_actions: BTreeMap::new(),
            pii_redaction: BTreeMap::new(),
            report_hide_threshold: 3,
            max_lease_secs: 3600,
            banned_ips: Vec::new(),
            banned_authors: Vec::new(),
            abuse: Default::default(),
            rate_limits: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModeratorConfig {
    pub id: String,
    pub token_sha256: String,
    pub sites: Vec<String>,
    #[serde(default)]
    pub role: Role,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Moderator,
    Admin,
}

/// Command-line values that win over the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub redis_url: Option<String>,
    pub log_format: Option<LogFormat>,
}

pub use crate::config::error::ConfigError;
use crate::config::error::Problems;

impl Config {
    /// Loads defaults, then `file` (if any), then the environment, then `overrides`, and validates the result.
    pub fn load(file: Option<&std::path::Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        // Only `COMMENTGUARD_<SECTION>__<KEY>` names are configuration: every top-level key is a section, and the
        // same prefix also names secrets read through `secret_env` (e.g. `COMMENTGUARD_WEBHOOK_SECRET_NEWS`) and test
        // switches, which must not be refused as unknown keys.
        let env = Env::prefixed(ENV_PREFIX).filter(|key| key.as_str().contains("__")).split("__");
        Self::load_from(file, env, overrides)
    }

    /// As [`Config::load`] with an explicit environment provider (tests pass their own).
    pub fn load_from(file: Option<&std::path::Path>, env: Env, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            let bytes = std::fs::read(path).map_err(|e| {
                ConfigError::new(match e.kind() {
                    std::io::ErrorKind::NotFound => format!("config file {} does not exist", path.display()),
                    _ => format!("config file {}: cannot be read: {e}", path.display()),
                })
            })?;
            let text = crate::config::error::toml_text(bytes, &format!("config file {}", path.display()))?;
            fig = fig.merge(Toml::string(&text));
        }
        fig = fig.merge(env);
        if let Some(listen) = &overrides.listen {
            fig = fig.merge(("server.listen", listen));
        }
        if let Some(url) = &overrides.redis_url {
            fig = fig.merge(("store.redis_url", url));
        }
        if let Some(format) = overrides.log_format {
            fig = fig.merge(("server.log_format", format));
        }
        let config: Config = fig.extract().map_err(crate::config::error::from_figment)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML string without environment or file (used by tests and `check`).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let text = crate::config::error::toml_text(text.as_bytes().to_vec(), "configuration")?;
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(&text))
            .extract()
            .map_err(crate::config::error::from_figment)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks everything serde cannot: formats, ranges, references between sections. Every problem is reported,
    /// each naming its exact key (`sites[1].api_key_sha256[0]: …`), so one edit fixes them all.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Problems::default();
        self.validate_server(&mut p);
        if let Some(url) = &self.store.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://"))
        {
            p.add("store.redis_url: must start with redis://, rediss:// or unix://");
        }
        if !(10..=60_000).contains(&self.store.timeout_ms) {
            p.add("store.timeout_ms: must be between 10 and 60000");
        }
        if !(10..=60_000).contains(&self.store.health_interval_ms) {
            p.add("store.health_interval_ms: must be between 10 and 60000");
        }
        self.ratelimit.validate(&mut p);
        let limiter_redis = self.ratelimit.redis_url.is_some() || self.store.redis_url.is_some();
        if let Some(path) = &self.spam.model_path
            && let Err(e) = crate::analysis::spam::SpamModel::load(path)
        {
            p.add(format!("spam.model_path: cannot load {}: {e}", path.display()));
        }
        let spam = &self.spam;
        for (key, value) in [
            ("learn_interval_ms", spam.learn_interval_ms),
            ("reload_interval_ms", spam.reload_interval_ms),
            ("feedback_claim_timeout_ms", spam.feedback_claim_timeout_ms),
        ] {
            if !(10..=3_600_000).contains(&value) {
                p.add(format!("spam.{key}: must be between 10 and 3600000"));
            }
        }
        if spam.keep_snapshots == 0 {
            p.add("spam.keep_snapshots: must be at least 1");
        }
        if spam.max_delta_features < 1000 {
            p.add("spam.max_delta_features: must be at least 1000");
        }
        let mut ids = std::collections::HashSet::new();
        let mut key_hashes = std::collections::HashMap::new();
        for (i, site) in self.sites.iter().enumerate() {
            if !is_identifier(&site.id) {
                p.add(format!("sites[{i}].id: {:?} must be 1-64 characters of a-z, 0-9, '-', '_' or '.'", site.id));
            }
            if !ids.insert(site.id.as_str()) {
                p.add(format!("sites[{i}].id: {:?} is listed twice", site.id));
            }
            if site.api_key_sha256.is_empty() {
                p.add(format!("sites[{i}].api_key_sha256: at least one key hash is required"));
            }
            for (k, h) in site.api_key_sha256.iter().enumerate() {
                if !is_sha256_hex(h) {
                    p.add(format!("sites[{i}].api_key_sha256[{k}]: expected 64 hexadecimal characters"));
                } else if let Some(other) = key_hashes.insert(h.to_ascii_lowercase(), site.id.as_str()) {
                    p.add(format!("sites[{i}].api_key_sha256[{k}]: the same key is already used by site {other:?}"));
                }
            }
            if site.default_region.parse::<phonenumber::country::Id>().is_err() {
                p.add(format!(
                    "sites[{i}].default_region: {:?} is not an ISO 3166 region code such as \"PK\"",
                    site.default_region
                ));
            }
            site.policy.validate(&format!("sites[{i}].policy"), &mut p);
            crate::config::ratelimit::validate_site(&site.policy, &format!("sites[{i}].policy"), limiter_redis, &mut p);
            if let Some(webhook) = &site.webhook {
                webhook.validate(&format!("sites[{i}].webhook"), &mut p);
            }
        }
        let mut mod_ids = std::collections::HashSet::new();
        for (i, m) in self.moderators.iter().enumerate() {
            if !is_identifier(&m.id) {
                p.add(format!("moderators[{i}].id: {:?} must be 1-64 characters of a-z, 0-9, '-', '_' or '.'", m.id));
            }
            if !mod_ids.insert(m.id.as_str()) {
                p.add(format!("moderators[{i}].id: {:?} is listed twice", m.id));
            }
            if !is_sha256_hex(&m.token_sha256) {
                p.add(format!("moderators[{i}].token_sha256: expected 64 hexadecimal characters"));
            }
            if m.sites.is_empty() {
                p.add(format!("moderators[{i}].sites: at least one site is required"));
            }
            for (k, s) in m.sites.iter().enumerate() {
                if !ids.contains(s.as_str()) {
                    p.add(format!("moderators[{i}].sites[{k}]: unknown site {s:?}"));
                }
            }
        }
        p.into_result()
    }

    fn validate_server(&self, p: &mut Problems) {
        let s = &self.server;
        if s.listen.parse::<SocketAddr>().is_err() {
            p.add(format!("server.listen: {:?} is not an address like 127.0.0.1:50051", s.listen));
        }
        if !s.http_listen.is_empty() && s.http_listen.parse::<SocketAddr>().is_err() {
            p.add(format!(
                "server.http_listen: {:?} is not an address like 127.0.0.1:8080 (empty disables the HTTP/JSON door)",
                s.http_listen
            ));
        }
        if !s.console_listen.is_empty() && s.console_listen.parse::<SocketAddr>().is_err() {
            p.add(format!(
                "server.console_listen: {:?} is not an address like 127.0.0.1:8081 (empty disables the console)",
                s.console_listen
            ));
        }
        if !s.metrics_listen.is_empty() && s.metrics_listen.parse::<SocketAddr>().is_err() {
            p.add(format!(
                "server.metrics_listen: {:?} is not an address like 127.0.0.1:9464 (empty disables metrics)",
                s.metrics_listen
            ));
        }
        if !(10..=3_600_000).contains(&s.heartbeat_ms) {
            p.add("server.heartbeat_ms: must be between 10 and 3600000");
        }
        if !(1024..=64 * 1024 * 1024).contains(&s.max_message_bytes) {
            p.add("server.max_message_bytes: must be between 1024 and 67108864");
        }
        for (key, value, min, max) in [
            ("idle_timeout_ms", s.idle_timeout_ms, 100, 86_400_000),
            ("keepalive_timeout_ms", s.keepalive_timeout_ms, 100, 600_000),
            ("metrics_header_timeout_ms", s.metrics_header_timeout_ms, 100, 600_000),
            ("http_header_timeout_ms", s.http_header_timeout_ms, 100, 600_000),
        ] {
            if !(min..=max).contains(&value) {
                p.add(format!("server.{key}: must be between {min} and {max}"));
            }
        }
        if s.keepalive_interval_ms != 0 && !(100..=86_400_000).contains(&s.keepalive_interval_ms) {
            p.add("server.keepalive_interval_ms: must be between 100 and 86400000 (0 turns pings off)");
        }
        if !(1..=1_000_000).contains(&s.max_connections) {
            p.add("server.max_connections: must be between 1 and 1000000");
        }
        self.validate_watch_limits(p);
    }
}

impl PolicyConfig {
    fn validate(&self, at: &str, p: &mut Problems) {
        self.abuse.validate(&format!("{at}.abuse"), p);
        for (name, list) in [("blocked_words", &self.blocked_words), ("suspect_words", &self.suspect_words)] {
            for (k, w) in list.iter().enumerate() {
                if w.trim().is_empty() {
                    p.add(format!("{at}.{name}[{k}]: must not be blank"));
                }
            }
        }
        let mut blocked = std::collections::HashMap::new();
        for (name, list) in [("blocked_domains", &self.blocked_domains), ("allowed_domains", &self.allowed_domains)] {
            for (k, d) in list.iter().enumerate() {
                let Some(domain) = crate::analysis::domains::canonical(d) else {
                    p.add(format!("{at}.{name}[{k}]: {d:?} is not a domain name"));
                    continue;
                };
                if name == "blocked_domains" {
                    blocked.entry(domain).or_insert(k);
                } else if let Some(b) = blocked.get(&domain) {
                    p.add(format!("{at}.{name}[{k}]: {d:?} is also listed in blocked_domains[{b}]"));
                }
            }
        }
        let mut in_range = true;
        for (name, v) in
            [("spam_hold_threshold", self.spam_hold_threshold), ("spam_reject_threshold", self.spam_reject_threshold)]
        {
            if !(0.0..=1.0).contains(&v) {
                p.add(format!("{at}.{name}: must be between 0 and 1"));
                in_range = false;
            }
        }
        // Compared only when both are valid: one wrong number is one problem.
        if in_range && self.spam_hold_threshold > self.spam_reject_threshold {
            p.add(format!("{at}.spam_hold_threshold: must not be above spam_reject_threshold"));
        }
        if !(64..=1024 * 1024).contains(&self.max_body_bytes) {
            p.add(format!("{at}.max_body_bytes: must be between 64 and 1048576"));
        }
        if self.report_hide_threshold == 0 {
            p.add(format!("{at}.report_hide_threshold: must be at least 1"));
        }
        if !(10..=86_400).contains(&self.max_lease_secs) {
            p.add(format!("{at}.max_lease_secs: must be between 10 and 86400"));
        }
        if !(1..=3650).contains(&self.retention_days) {
            p.add(format!("{at}.retention_days: must be between 1 and 3650"));
        }
        for (name, codes) in [
            ("pii_actions", self.pii_actions.keys().collect::<Vec<_>>()),
            ("pii_redaction", self.pii_redaction.keys().collect()),
        ] {
            for code in codes {
                let known = crate::findings::lookup(code).is_some_and(|c| c.category == crate::domain::Category::Pii);
                if !known {
                    p.add(format!("{at}.{name}: {code:?} is not a pii.* finding code"));
                }
            }
        }
    }
}

impl Config {
    /// `[server]`'s decision-delivery bounds: each at least 1, and a site's share no more than the whole.
    fn validate_watch_limits(&self, p: &mut Problems) {
        let s = &self.server;
        if !(1..=100_000).contains(&s.max_watchers_per_site) {
            p.add("server.max_watchers_per_site: must be between 1 and 100000");
        }
        if !(1..=1024).contains(&s.watch_catchup_concurrency) {
            p.add("server.watch_catchup_concurrency: must be between 1 and 1024");
        }
        if !(1..=s.watch_catchup_concurrency).contains(&s.watch_catchup_concurrency_per_site) {
            p.add("server.watch_catchup_concurrency_per_site: must be between 1 and server.watch_catchup_concurrency");
        }
    }
}

fn is_identifier(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Hex SHA-256 of a secret, as written in `api_key_sha256` / `token_sha256`.
pub fn sha256_hex(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(id: &str) -> String {
        format!("[[sites]]\nid = \"{id}\"\napi_key_sha256 = [\"{}\"]\n", sha256_hex(id))
    }

    #[test]
    fn defaults_are_valid_and_match_the_design() {
        let c = Config::from_toml("").expect("empty config is valid");
        assert_eq!(c.server.listen, "127.0.0.1:50051");
        assert_eq!(c.server.metrics_listen, "127.0.0.1:9464");
        assert_eq!(c.store.redis_url, None);
        assert_eq!((c.server.http_listen.as_str(), c.server.console_listen.as_str()), ("", ""), "both off");
    }

    #[test]
    fn listen_addresses_are_checked() {
        assert_eq!(
            error_of("[server]\nconsole_listen = \"localhost\""),
            "server.console_listen: \"localhost\" is not an address like 127.0.0.1:8081 (empty disables the console)"
        );
        assert!(Config::from_toml("[server]\nconsole_listen = \"127.0.0.1:8081\"").is_ok());
    }

    #[test]
    fn a_full_site_parses() {
        let text = format!(
            "{}default_region = \"GB\"\n[sites.policy]\nblocked_words = [\"casino\"]\nmax_links = 1\n\
             pii_actions = {{ \"pii.phone\" = \"hold\" }}\nblocked_domains = [\"*.Spam.example\"]\n\
             allowed_domains = [\"dawn.com\", \"ourpaper.spam.example\"]\n",
            site("news")
        );
        let c = Config::from_toml(&text).expect("valid");
        assert_eq!(c.sites[0].default_region, "GB");
        assert_eq!(c.sites[0].policy.max_links, 1);
        assert_eq!(c.sites[0].policy.pii_actions.get("pii.phone"), Some(&PiiAction::Hold));
        assert_eq!(c.sites[0].policy.blocked_domains, vec!["*.Spam.example"]);
        assert_eq!(c.sites[0].policy.allowed_domains.len(), 2);
    }

    fn error_of(text: &str) -> String {
        Config::from_toml(text).expect_err("must be refused").to_string()
    }

    #[test]
    fn errors_name_the_exact_key() {
        let both = Config::from_toml("[[sites]]\nid = \"News\"\napi_key_sha256 = []").expect_err("refused");
        assert_eq!(
            both.problems(),
            [
                "sites[0].id: \"News\" must be 1-64 characters of a-z, 0-9, '-', '_' or '.'",
                "sites[0].api_key_sha256: at least one key hash is required"
            ],
            "every problem, not just the first"
        );
        assert_eq!(
            error_of("[[sites]]\nid = \"n\"\napi_key_sha256 = [\"abc\"]"),
            "sites[0].api_key_sha256[0]: expected 64 hexadecimal characters"
        );
        assert_eq!(
            error_of(&format!("{}[sites.policy]\nspam_hold_threshold = 1.5", site("n"))),
            "sites[0].policy.spam_hold_threshold: must be between 0 and 1"
        );
        assert_eq!(
            error_of(&format!("{}{}", site("a"), site("a"))),
            "2 problems in the configuration:\n  sites[1].id: \"a\" is listed twice\n  \
             sites[1].api_key_sha256[0]: the same key is already used by site \"a\""
        );
        assert_eq!(
            error_of(&format!(
                "{}[[moderators]]\nid = \"m\"\ntoken_sha256 = \"{}\"\nsites = [\"zzz\"]",
                site("a"),
                sha256_hex("t")
            )),
            "moderators[0].sites[0]: unknown site \"zzz\""
        );
        assert_eq!(
            error_of("[server]\nlisten = \"nope\""),
            "server.listen: \"nope\" is not an address like 127.0.0.1:50051"
        );
        assert!(error_of("[server]\nbogus = 1").contains("bogus"), "unknown keys are refused");
        assert!(error_of("[spam]\nmodel_path = \"/nonexistent/model\"").starts_with("spam.model_path: cannot load"));
        assert_eq!(error_of("[spam]\nlearn_interval_ms = 0"), "spam.learn_interval_ms: must be between 10 and 3600000");
        assert_eq!(error_of("[spam]\nkeep_snapshots = 0"), "spam.keep_snapshots: must be at least 1");
        assert_eq!(
            error_of(&format!("{}[sites.policy]\npii_actions = {{ \"spam.links\" = \"hold\" }}", site("n"))),
            "sites[0].policy.pii_actions: \"spam.links\" is not a pii.* finding code"
        );
        let policy = |keys: &str| error_of(&format!("{}[sites.policy]\n{keys}", site("n")));
        for (keys, message) in [
            (
                r#"blocked_domains = ["example.com", "http://x/y"]"#,
                r#"sites[0].policy.blocked_domains[1]: "http://x/y" is not a domain name"#,
            ),
            (r#"blocked_domains = ["com"]"#, r#"sites[0].policy.blocked_domains[0]: "com" is not a domain name"#),
            (
                r#"blocked_domains = ["example.com/path"]"#,
                r#"sites[0].policy.blocked_domains[0]: "example.com/path" is not a domain name"#,
            ),
            (
                r#"allowed_domains = ["ok.example", "example.com:8080"]"#,
                r#"sites[0].policy.allowed_domains[1]: "example.com:8080" is not a domain name"#,
            ),
            (
                r#"allowed_domains = ["exa mple.com"]"#,
                r#"sites[0].policy.allowed_domains[0]: "exa mple.com" is not a domain name"#,
            ),
            (
                r#"allowed_domains = ["203.0.113.7"]"#,
                r#"sites[0].policy.allowed_domains[0]: "203.0.113.7" is not a domain name"#,
            ),
            (
                "blocked_domains = [\"a.example\", \"*.Example.com\"]\n\
                 allowed_domains = [\"dawn.com\", \"www.example.COM.\"]",
                r#"sites[0].policy.allowed_domains[1]: "www.example.COM." is also listed in blocked_domains[1]"#,
            ),
        ] {
            assert_eq!(policy(keys), message, "{keys}");
        }
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error type
    fn environment_overrides_scalar_keys_and_flags_win() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("COMMENTGUARD_SERVER__LISTEN", "127.0.0.1:6000");
            jail.set_env("COMMENTGUARD_STORE__REDIS_URL", "redis://127.0.0.1:7000/0");
            // Same prefix, not configuration: a secret named by `secret_env` and a test switch.
            jail.set_env("COMMENTGUARD_WEBHOOK_SECRET_NEWS", "a-secret-of-sixteen-bytes");
            jail.set_env("COMMENTGUARD_REQUIRE_DATA", "1");
            jail.create_file("c.toml", "[server]\nlisten = \"127.0.0.1:5000\"\n")?;
            let path = std::path::Path::new("c.toml");
            let c = Config::load(Some(path), &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.server.listen, "127.0.0.1:6000");
            assert_eq!(c.store.redis_url.as_deref(), Some("redis://127.0.0.1:7000/0"));
            let flags = Overrides { listen: Some("127.0.0.1:7001".into()), ..Default::default() };
            let c = Config::load(Some(path), &flags).map_err(|e| e.to_string())?;
            assert_eq!(c.server.listen, "127.0.0.1:7001");
            Ok(())
        });
    }

    #[test]
    fn watch_limits_are_checked() {
        assert_eq!(
            error_of("[server]\nmax_watchers_per_site = 0"),
            "server.max_watchers_per_site: must be between 1 and 100000"
        );
        let zero = Config::from_toml("[server]\nwatch_catchup_concurrency = 0").expect_err("refused");
        assert_eq!(
            zero.problems(),
            [
                "server.watch_catchup_concurrency: must be between 1 and 1024",
                "server.watch_catchup_concurrency_per_site: must be between 1 and server.watch_catchup_concurrency",
            ]
        );
        assert_eq!(
            error_of("[server]\nwatch_catchup_concurrency = 2\nwatch_catchup_concurrency_per_site = 3"),
            "server.watch_catchup_concurrency_per_site: must be between 1 and server.watch_catchup_concurrency"
        );
    }
}
