//! Configuration of bans, rate limits, flood and surge control: the per-site `[sites.policy.rate_limits]` table,
//! the per-site ban lists (`banned_ips`, `banned_authors`) and the process-wide `[ratelimit]` section.
//!
//! `crate::config` owns loading; this module owns the types and their checks, with messages that name the exact key
//! like every other message of `Config::validate`.
//!
//! Defaults are limits a person typing comments never meets but a script meets within seconds (DESIGN §7): see
//! [`Default for RateLimitPolicy`](RateLimitPolicy) and [`LimitDefaults`].

use crate::config::PolicyConfig;
use crate::config::error::Problems;
use serde::{Deserialize, Serialize};

/// `[ratelimit]`: settings shared by every site of the process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Redis holding the cluster-wide limits (limits in mode `redis` or `both`). Absent: the store's
    /// `store.redis_url`. A separate URL keeps limiter traffic off the store's primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<String>,
    /// Bound on connecting and on each limiter round trip. Short on purpose: when the limiter's Redis is slow the
    /// site's `on_redis_error` choice applies after this long, instead of requests piling up.
    pub timeout_ms: u64,
    /// Cap on the keys (addresses, authors, threads) one local limiter of one site keeps. Past it the keys closest
    /// to a full refill are evicted, so new keys are never locked out; each key costs ~20–40 bytes.
    pub max_keys_per_limiter: usize,
    /// How often fully refilled keys are dropped and their memory given back.
    pub housekeeping_interval_ms: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            redis_url: None,
            timeout_ms: 100,
            max_keys_per_limiter: 1_000_000,
            housekeeping_interval_ms: 10_000,
        }
    }
}

impl RateLimitConfig {
    pub fn validate(&self, p: &mut Problems) {
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://"))
        {
            p.add("ratelimit.redis_url: must start with redis://, rediss:// or unix://");
        }
        if !(5..=10_000).contains(&self.timeout_ms) {
            p.add("ratelimit.timeout_ms: must be between 5 and 10000");
        }
        if !(1_000..=100_000_000).contains(&self.max_keys_per_limiter) {
            p.add("ratelimit.max_keys_per_limiter: must be between 1000 and 100000000");
        }
        if !(100..=3_600_000).contains(&self.housekeeping_interval_ms) {
            p.add("ratelimit.housekeeping_interval_ms: must be between 100 and 3600000");
        }
    }
}

/// Where a limit is enforced.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LimitMode {
    /// In this process only (governor): cheapest; with N replicas behind a balancer the effective limit is up to N×.
    #[default]
    Local,
    /// Shared by every replica through one Redis GCRA script per request.
    Redis,
    /// Local first as a cheap filter (a flood is refused without a round trip), then Redis.
    Both,
}

impl LimitMode {
    pub fn uses_redis(self) -> bool {
        matches!(self, LimitMode::Redis | LimitMode::Both)
    }
}

/// What happens to limits in mode `redis`/`both` when the limiter's Redis does not answer in time.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum RedisFailure {
    /// Fall back to this process's local limits (comments keep flowing, limits become per replica).
    #[default]
    Open,
    /// Refuse with `UNAVAILABLE` (the comment was not accepted; the caller retries with the same comment id).
    Closed,
}

/// One limit: `per_minute` comments per key, in bursts of up to `burst`. Unset fields take the limit's default
/// ([`LimitDefaults`]); `per_minute = 0` switches the limit off; `mode` unset follows the table's `mode`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_minute: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<LimitMode>,
}

/// Built-in rate and burst of each limit.
#[derive(Debug, Clone, Copy)]
pub struct LimitDefaults {
    pub per_minute: u32,
    pub burst: u32,
}

/// Per address (an IPv4 address or an IPv6 prefix): a household or office shares one.
pub const IP_DEFAULT: LimitDefaults = LimitDefaults { per_minute: 10, burst: 5 };
/// Per author (account id, else email): nobody writes more than a comment every ten seconds for long.
pub const AUTHOR_DEFAULT: LimitDefaults = LimitDefaults { per_minute: 6, burst: 4 };
/// Per thread: a hard ceiling well above a busy article's rate (surge control holds before this refuses).
pub const THREAD_DEFAULT: LimitDefaults = LimitDefaults { per_minute: 120, burst: 60 };
/// Per site: a last line against a distributed script; raise it for very large sites.
pub const SITE_DEFAULT: LimitDefaults = LimitDefaults { per_minute: 3000, burst: 600 };
/// Surge threshold per thread: past this rate new comments on the thread are held for review.
pub const SURGE_DEFAULT: LimitDefaults = LimitDefaults { per_minute: 30, burst: 30 };

impl LimitConfig {
    /// `(per_minute, burst, mode)` with defaults applied; `None` when the limit is off.
    pub fn resolve(&self, defaults: LimitDefaults, mode: LimitMode) -> Option<(u32, u32, LimitMode)> {
        let per_minute = self.per_minute.unwrap_or(defaults.per_minute);
        (per_minute > 0).then(|| (per_minute, self.burst.unwrap_or(defaults.burst).max(1), self.mode.unwrap_or(mode)))
    }
}

/// `[sites.policy.rate_limits]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitPolicy {
    /// `false` switches off every rate limit, flood and surge control of the site (bans still apply). For load
    /// tests, or a host that limits on its own.
    pub enabled: bool,
    /// Default mode of every limit below (each may override it).
    pub mode: LimitMode,
    /// When the limiter's Redis does not answer: `open` (local limits) or `closed` (`UNAVAILABLE`).
    pub on_redis_error: RedisFailure,
    pub ip: LimitConfig,
    pub author: LimitConfig,
    pub thread: LimitConfig,
    pub site: LimitConfig,
    /// Surge control: a thread past this rate has its new comments held (`policy.surge`) instead of refused.
    pub surge: LimitConfig,
    /// How long a thread stays in surge once it passed the threshold.
    pub surge_cooldown_secs: u32,
    /// Flood control: the same author (or, for guests, the same address) cannot post again within this many
    /// seconds. 0 switches it off.
    pub flood_seconds: u32,
    /// IPv6 addresses are limited per prefix of this length: one subscriber usually holds a whole /64.
    pub ipv6_prefix: u8,
    /// Account ids never limited (staff, trusted members).
    pub exempt_accounts: Vec<String>,
    /// Addresses or CIDR ranges never limited (the site's own servers, the newsroom).
    pub exempt_ips: Vec<String>,
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        RateLimitPolicy {
            enabled: true,
            mode: LimitMode::Local,
            on_redis_error: RedisFailure::Open,
            ip: LimitConfig::default(),
            author: LimitConfig::default(),
            thread: LimitConfig::default(),
            site: LimitConfig::default(),
            surge: LimitConfig::default(),
            surge_cooldown_secs: 600,
            flood_seconds: 5,
            ipv6_prefix: 64,
            exempt_accounts: Vec::new(),
            exempt_ips: Vec::new(),
        }
    }
}

impl RateLimitPolicy {
    /// The named limits with their defaults, in the order they are checked (narrowest first).
    pub fn limits(&self) -> [(&'static str, &LimitConfig, LimitDefaults); 5] {
        [
            ("author", &self.author, AUTHOR_DEFAULT),
            ("ip", &self.ip, IP_DEFAULT),
            ("thread", &self.thread, THREAD_DEFAULT),
            ("site", &self.site, SITE_DEFAULT),
            ("surge", &self.surge, SURGE_DEFAULT),
        ]
    }

    /// Whether any limit of this table needs the limiter's Redis.
    pub fn uses_redis(&self) -> bool {
        self.enabled
            && (self.limits().iter().any(|(_, l, d)| l.resolve(*d, self.mode).is_some_and(|(_, _, m)| m.uses_redis()))
                || (self.flood_seconds > 0 && self.mode.uses_redis()))
    }
}

/// Parses a ban or exemption entry: an address (`203.0.113.7`, `2001:db8::1`) or a CIDR range (`203.0.113.0/24`).
pub fn parse_net(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<std::net::IpAddr>() {
        return Some(ipnet::IpNet::from(ip.to_canonical()));
    }
    let net = entry.parse::<ipnet::IpNet>().ok()?.trunc();
    // An IPv4-mapped range (::ffff:a.b.c.d/n≥96) is the IPv4 range it names: addresses are canonicalised too.
    match net {
        ipnet::IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok().map(ipnet::IpNet::V4),
            None => Some(net),
        },
        _ => Some(net),
    }
}

/// Checks a site's ban lists and rate-limit table. `redis_available`: a limiter Redis is configured
/// (`ratelimit.redis_url` or `store.redis_url`).
pub fn validate_site(policy: &PolicyConfig, at: &str, redis_available: bool, p: &mut Problems) {
    for (k, entry) in policy.banned_ips.iter().enumerate() {
        if parse_net(entry).is_none() {
            p.add(format!("{at}.banned_ips[{k}]: {entry:?} is not an IP address or CIDR range such as 203.0.113.0/24"));
        }
    }
    for (k, entry) in policy.banned_authors.iter().enumerate() {
        if entry.trim().is_empty() {
            p.add(format!("{at}.banned_authors[{k}]: must not be blank"));
        }
    }
    let r = &policy.rate_limits;
    let at = format!("{at}.rate_limits");
    let needs_redis = |mode: LimitMode, key: &str, p: &mut Problems| {
        if !redis_available && r.enabled && mode.uses_redis() {
            p.add(format!(
                "{at}.{key}: {:?} needs a Redis: set ratelimit.redis_url or store.redis_url",
                mode_name(mode)
            ));
        }
    };
    needs_redis(r.mode, "mode", p);
    for (name, limit, _) in r.limits() {
        if limit.per_minute.is_some_and(|n| n > 1_000_000) {
            p.add(format!("{at}.{name}.per_minute: must be at most 1000000 (0 switches the limit off)"));
        }
        if limit.burst.is_some_and(|b| !(1..=1_000_000).contains(&b)) {
            p.add(format!("{at}.{name}.burst: must be between 1 and 1000000"));
        }
        if let Some(mode) = limit.mode {
            needs_redis(mode, &format!("{name}.mode"), p);
        }
    }
    if r.flood_seconds > 86_400 {
        p.add(format!("{at}.flood_seconds: must be at most 86400 (0 switches flood control off)"));
    }
    if !(1..=86_400).contains(&r.surge_cooldown_secs) {
        p.add(format!("{at}.surge_cooldown_secs: must be between 1 and 86400"));
    }
    if !(16..=128).contains(&r.ipv6_prefix) {
        p.add(format!("{at}.ipv6_prefix: must be between 16 and 128"));
    }
    for (k, entry) in r.exempt_ips.iter().enumerate() {
        if parse_net(entry).is_none() {
            p.add(format!("{at}.exempt_ips[{k}]: {entry:?} is not an IP address or CIDR range such as 203.0.113.0/24"));
        }
    }
    for (k, entry) in r.exempt_accounts.iter().enumerate() {
        if entry.trim().is_empty() {
            p.add(format!("{at}.exempt_accounts[{k}]: must not be blank"));
        }
    }
}

fn mode_name(mode: LimitMode) -> &'static str {
    match mode {
        LimitMode::Local => "local",
        LimitMode::Redis => "redis",
        LimitMode::Both => "both",
    }
}
