//! A site's limits compiled from its validated policy: quotas as governor [`Quota`]s and Redis GCRA parameters,
//! ban and exemption lists as address sets. Rebuilt on every reload; compiling cannot fail because
//! `config::validate` already checked every entry (an entry that still does not parse is skipped).

use super::bans::{Bans, NetSet};
use crate::config::PolicyConfig;
use crate::config::ratelimit::{LimitMode, RateLimitPolicy, RedisFailure};
use governor::Quota;
use std::collections::HashSet;
use std::num::NonZeroU32;
use std::time::Duration;

/// The limits a comment passes, in the order they are checked: narrowest key first, so a request refused on its
/// own key (its author, its address) never consumes a quota it shares with others (its thread, its site).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// One comment per `flood_seconds` per author (guests: per address).
    Flood,
    Author,
    Ip,
    Thread,
    Site,
}

impl Kind {
    /// Check order, narrowest first.
    pub const ORDER: [Kind; 5] = [Kind::Flood, Kind::Author, Kind::Ip, Kind::Thread, Kind::Site];

    /// Metric label and `QuotaFailure` subject: a closed set, never personal data.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Flood => "flood",
            Kind::Author => "author",
            Kind::Ip => "ip",
            Kind::Thread => "thread",
            Kind::Site => "site",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    fn per(self) -> &'static str {
        match self {
            Kind::Flood | Kind::Author => "author",
            Kind::Ip => "address",
            Kind::Thread => "thread",
            Kind::Site => "site",
        }
    }
}

/// One compiled limit: GCRA with emission interval `interval` and room for `burst` cells at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub interval: Duration,
    pub burst: NonZeroU32,
    pub mode: LimitMode,
    /// What the caller reads in `QuotaFailure.description`.
    per_minute: u32,
}

impl Spec {
    fn per_minute(per_minute: u32, burst: u32, mode: LimitMode) -> Option<Spec> {
        let per_minute = NonZeroU32::new(per_minute)?;
        let interval = Duration::from_secs(60) / per_minute.get();
        Some(Spec {
            interval,
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
            mode,
            per_minute: per_minute.get(),
        })
    }

    fn flood(seconds: u32, mode: LimitMode) -> Option<Spec> {
        (seconds > 0).then(|| Spec {
            interval: Duration::from_secs(u64::from(seconds)),
            burst: NonZeroU32::MIN,
            mode,
            per_minute: 0,
        })
    }

    pub fn quota(&self) -> Quota {
        // `interval` is at least 60 µs (1,000,000 per minute at most), so `with_period` never sees zero.
        Quota::with_period(self.interval).unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX)).allow_burst(self.burst)
    }

    /// GCRA burst tolerance: how far the theoretical arrival time may run ahead of now.
    pub fn tolerance(&self) -> Duration {
        self.interval * (self.burst.get() - 1)
    }

    /// Human text for `QuotaFailure.description`, e.g. "10 comments per minute per address".
    pub fn describe(&self, kind: Kind) -> String {
        if kind == Kind::Flood {
            let s = self.interval.as_secs();
            return format!("one comment every {s} second{} per author", if s == 1 { "" } else { "s" });
        }
        let n = self.per_minute;
        format!("{n} comment{} per minute per {}", if n == 1 { "" } else { "s" }, kind.per())
    }
}

/// Everything the limiter needs to know about one site.
#[derive(Debug)]
pub struct SiteSettings {
    /// `rate_limits.enabled`: when false only bans apply.
    pub enabled: bool,
    /// Indexed by [`Kind::index`]; `None` = that limit is off.
    pub limits: [Option<Spec>; 5],
    pub surge: Option<Spec>,
    pub surge_cooldown: Duration,
    pub ipv6_prefix: u8,
    pub on_redis_error: RedisFailure,
    pub exempt_accounts: HashSet<String>,
    pub exempt_ips: NetSet,
    pub bans: Bans,
}

impl SiteSettings {
    pub fn compile(policy: &PolicyConfig) -> SiteSettings {
        let r: &RateLimitPolicy = &policy.rate_limits;
        let spec = |name: &str| {
            let (_, limit, defaults) = r.limits().into_iter().find(|(n, _, _)| *n == name)?;
            let (per_minute, burst, mode) = limit.resolve(defaults, r.mode)?;
            Spec::per_minute(per_minute, burst, mode)
        };
        let limits = [Spec::flood(r.flood_seconds, r.mode), spec("author"), spec("ip"), spec("thread"), spec("site")];
        SiteSettings {
            enabled: r.enabled,
            limits,
            surge: spec("surge"),
            surge_cooldown: Duration::from_secs(u64::from(r.surge_cooldown_secs)),
            ipv6_prefix: r.ipv6_prefix.clamp(16, 128),
            on_redis_error: r.on_redis_error,
            exempt_accounts: r.exempt_accounts.iter().map(|a| a.trim().to_string()).collect(),
            exempt_ips: NetSet::parse(&r.exempt_ips),
            bans: Bans::compile(&policy.banned_ips, &policy.banned_authors),
        }
    }

    pub fn limit(&self, kind: Kind) -> Option<&Spec> {
        self.limits[kind.index()].as_ref()
    }

    /// Whether any limit (or surge control) runs through Redis.
    pub fn uses_redis(&self) -> bool {
        self.limits.iter().chain([&self.surge]).flatten().any(|s| s.mode.uses_redis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_compile_to_the_documented_limits() {
        let s = SiteSettings::compile(&PolicyConfig::default());
        let ip = s.limit(Kind::Ip).expect("ip limit on by default");
        assert_eq!((ip.interval, ip.burst.get()), (Duration::from_secs(6), 5));
        assert_eq!(ip.describe(Kind::Ip), "10 comments per minute per address");
        assert_eq!(ip.tolerance(), Duration::from_secs(24));
        let flood = s.limit(Kind::Flood).expect("flood control on by default");
        assert_eq!(flood.describe(Kind::Flood), "one comment every 5 seconds per author");
        assert_eq!(
            s.limit(Kind::Site).map(|l| l.describe(Kind::Site)).as_deref(),
            Some("3000 comments per minute per site")
        );
        assert!(!s.uses_redis());
    }

    #[test]
    fn zero_switches_a_limit_off() {
        let mut p = PolicyConfig::default();
        p.rate_limits.flood_seconds = 0;
        p.rate_limits.thread.per_minute = Some(0);
        let s = SiteSettings::compile(&p);
        assert!(s.limit(Kind::Flood).is_none() && s.limit(Kind::Thread).is_none());
        assert!(s.limit(Kind::Ip).is_some());
    }
}
