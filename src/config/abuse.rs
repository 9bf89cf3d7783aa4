//! `[sites.policy.abuse]`: what a site does with each abuse category's score, whether its moderators teach its
//! abuse model, and its optional external classifier (`[sites.policy.abuse.external]`).
//!
//! `crate::config` owns loading; this module owns the types, their per-category defaults and their checks, with
//! messages that name the exact key like every other message of `Config::validate`.
//!
//! Every key of a category is optional: an absent one takes the category's default ([`CategoryRule::default_for`]),
//! so `profanity = { hold_at = 0.7 }` changes the threshold and keeps profanity's default action (allow).

use super::error::Problems;
use serde::{Deserialize, Serialize};

/// What a category's score does to the verdict.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AbuseAction {
    /// Never changes the verdict (the finding is still reported, for the host to show or sort by).
    Allow,
    /// At `hold_at` or above the comment waits for a moderator; at `reject_at` or above it is rejected.
    Hold,
    /// At `hold_at` or above the comment is rejected.
    Reject,
}

/// One category's keys as written; `None` = the category's default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CategoryConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<AbuseAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_at: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_at: Option<f64>,
}

/// A category's resolved rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoryRule {
    pub action: AbuseAction,
    /// The score at which the action applies (and at which the category becomes a finding).
    pub hold_at: f64,
    /// With action `hold`: the score at which the comment is rejected instead; 1 turns that off (an external
    /// classifier may answer exactly 1.0, so "1" must mean "never", not "only when certain").
    pub reject_at: f64,
}

impl CategoryRule {
    /// Defaults for a news site (issue 13): threats and identity attacks are held and rejected at high confidence,
    /// insults and sexual harassment held (rejected only at high confidence, like every held category), profanity
    /// allowed. `index` is the category's position in `analysis::abuse::Category::ALL`.
    pub fn default_for(index: usize) -> CategoryRule {
        let action = if index == PROFANITY { AbuseAction::Allow } else { AbuseAction::Hold };
        CategoryRule { action, hold_at: 0.5, reject_at: 0.9 }
    }
}

/// Position of profanity in `Category::ALL` / [`AbusePolicyConfig::categories`].
const PROFANITY: usize = 4;

/// When the external classifier does not answer (timeout, over the concurrency cap, an error or an unreadable
/// answer).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Decide on the built-in scores alone (counted in `commentguard_abuse_external_failures_total`).
    #[default]
    Open,
    /// Hold the comment for a moderator with reason `abuse.external_unavailable`.
    Closed,
}

/// `[sites.policy.abuse.external]`: an HTTP endpoint the site runs itself (see README, "External classifier").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ExternalConfig {
    /// `http://host:port/path`: plain HTTP to an endpoint next to the service (the body leaves the process redacted,
    /// but it is still a reader's text: keep it on the site's own network).
    pub url: String,
    /// Whole request, connect included; past it the comment is decided per `on_failure`.
    pub timeout_ms: u64,
    /// Requests in flight to the endpoint from this process; one more fails at once (never queues).
    pub max_concurrency: usize,
    pub on_failure: OnFailure,
}

impl Default for ExternalConfig {
    fn default() -> Self {
        ExternalConfig { url: String::new(), timeout_ms: 200, max_concurrency: 32, on_failure: OnFailure::Open }
    }
}

/// `[sites.policy.abuse]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AbusePolicyConfig {
    pub threat: CategoryConfig,
    pub identity_attack: CategoryConfig,
    pub insult: CategoryConfig,
    pub sexual: CategoryConfig,
    pub profanity: CategoryConfig,
    /// Moderators' `REJECT_ABUSE` decisions (and approvals) teach this site's abuse model (with `spam.learn`).
    pub learning: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalConfig>,
}

impl Default for AbusePolicyConfig {
    fn default() -> Self {
        AbusePolicyConfig {
            threat: CategoryConfig::default(),
            identity_attack: CategoryConfig::default(),
            insult: CategoryConfig::default(),
            sexual: CategoryConfig::default(),
            profanity: CategoryConfig::default(),
            learning: true,
            external: None,
        }
    }
}

impl AbusePolicyConfig {
    /// The categories as written, with their key names, in `Category::ALL` order.
    pub fn categories(&self) -> [(&'static str, &CategoryConfig); 5] {
        [
            ("threat", &self.threat),
            ("identity_attack", &self.identity_attack),
            ("insult", &self.insult),
            ("sexual", &self.sexual),
            ("profanity", &self.profanity),
        ]
    }

    /// Every category's rule, defaults applied, in `Category::ALL` order.
    pub fn rules(&self) -> [CategoryRule; 5] {
        let written = self.categories();
        std::array::from_fn(|i| {
            let d = CategoryRule::default_for(i);
            let c = written[i].1;
            CategoryRule {
                action: c.action.unwrap_or(d.action),
                hold_at: c.hold_at.unwrap_or(d.hold_at),
                // A site that raises hold_at above the default reject_at has not asked to reject below it.
                reject_at: c.reject_at.unwrap_or(d.reject_at.max(c.hold_at.unwrap_or(d.hold_at))),
            }
        })
    }

    /// Checks ranges and the external endpoint; `at` is the table's path (`sites[0].policy.abuse`).
    pub fn validate(&self, at: &str, p: &mut Problems) {
        let rules = self.rules();
        for (i, (name, written)) in self.categories().into_iter().enumerate() {
            let mut in_range = true;
            for (key, v) in [("hold_at", written.hold_at), ("reject_at", written.reject_at)] {
                if let Some(v) = v
                    && !(v > 0.0 && v <= 1.0)
                {
                    p.add(format!("{at}.{name}.{key}: must be above 0 and at most 1"));
                    in_range = false;
                }
            }
            // Compared only when both are valid and one was written: one wrong number is one problem.
            let r = rules[i];
            if in_range && r.action == AbuseAction::Hold && written.reject_at.is_some() && r.reject_at < r.hold_at {
                p.add(format!("{at}.{name}.reject_at: must not be below hold_at ({})", r.hold_at));
            }
        }
        if let Some(e) = &self.external {
            e.validate(&format!("{at}.external"), p);
        }
    }
}

impl ExternalConfig {
    fn validate(&self, at: &str, p: &mut Problems) {
        match self.url.parse::<hyper::Uri>() {
            Ok(uri) if uri.scheme_str() == Some("http") && uri.host().is_some_and(|h| !h.is_empty()) => {
                if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
                    p.add(format!("{at}.url: must not carry credentials"));
                }
            }
            Ok(uri) if uri.scheme_str() == Some("https") => p.add(format!(
                "{at}.url: must be http:// (a site-run endpoint next to the service; https is not supported)"
            )),
            _ => p.add(format!("{at}.url: must be an http:// URL such as http://127.0.0.1:8080/score")),
        }
        if !(1..=10_000).contains(&self.timeout_ms) {
            p.add(format!("{at}.timeout_ms: must be between 1 and 10000"));
        }
        if !(1..=4096).contains(&self.max_concurrency) {
            p.add(format!("{at}.max_concurrency: must be between 1 and 4096"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, sha256_hex};

    fn site(policy: &str) -> String {
        format!("[[sites]]\nid = \"n\"\napi_key_sha256 = [\"{}\"]\n[sites.policy.abuse]\n{policy}", sha256_hex("n"))
    }

    fn problems(policy: &str) -> Vec<String> {
        match Config::from_toml(&site(policy)) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().to_vec(),
        }
    }

    #[test]
    fn defaults_are_a_news_sites() {
        let rules = AbusePolicyConfig::default().rules();
        let actions: Vec<AbuseAction> = rules.iter().map(|r| r.action).collect();
        use AbuseAction::*;
        assert_eq!(actions, [Hold, Hold, Hold, Hold, Allow]);
        assert!(rules.iter().all(|r| r.hold_at == 0.5 && r.reject_at == 0.9));
        assert!(AbusePolicyConfig::default().learning);
        assert_eq!(AbusePolicyConfig::default().external, None);
    }

    #[test]
    fn a_partial_category_keeps_its_other_defaults() {
        let c = Config::from_toml(&site(
            "profanity = { hold_at = 0.7 }\nthreat = { action = \"allow\" }\n[sites.policy.abuse.insult]\naction = \"reject\"\nhold_at = 0.8",
        ))
        .expect("valid");
        let rules = c.sites[0].policy.abuse.rules();
        assert_eq!(rules[4], CategoryRule { action: AbuseAction::Allow, hold_at: 0.7, reject_at: 0.9 });
        assert_eq!(rules[0].action, AbuseAction::Allow);
        assert_eq!(rules[2], CategoryRule { action: AbuseAction::Reject, hold_at: 0.8, reject_at: 0.9 });
        assert_eq!(rules[1], CategoryRule::default_for(1));
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        assert_eq!(
            problems(
                "threat = { hold_at = 0, reject_at = 1.5 }\ninsult = { hold_at = 0.8, reject_at = 0.6 }\n\
                 sexual = { action = \"reject\", hold_at = 0.8, reject_at = 0.6 }"
            ),
            [
                "sites[0].policy.abuse.threat.hold_at: must be above 0 and at most 1",
                "sites[0].policy.abuse.threat.reject_at: must be above 0 and at most 1",
                "sites[0].policy.abuse.insult.reject_at: must not be below hold_at (0.8)",
            ],
            "reject_at is not compared for action = reject, which rejects at hold_at"
        );
        assert_eq!(
            problems(
                "[sites.policy.abuse.external]\nurl = \"https://classifier.example/score\"\ntimeout_ms = 0\nmax_concurrency = 0"
            ),
            [
                "sites[0].policy.abuse.external.url: must be http:// (a site-run endpoint next to the service; https is not supported)",
                "sites[0].policy.abuse.external.timeout_ms: must be between 1 and 10000",
                "sites[0].policy.abuse.external.max_concurrency: must be between 1 and 4096",
            ]
        );
        for bad in ["", "127.0.0.1:8080/score", "ftp://x/y", "http:///nohost"] {
            assert_eq!(
                problems(&format!("[sites.policy.abuse.external]\nurl = \"{bad}\"")),
                ["sites[0].policy.abuse.external.url: must be an http:// URL such as http://127.0.0.1:8080/score"],
                "{bad:?}"
            );
        }
        assert_eq!(
            problems("[sites.policy.abuse.external]\nurl = \"http://user:pw@10.0.0.1/score\""),
            ["sites[0].policy.abuse.external.url: must not carry credentials"]
        );
        let unknown = problems("threat = { action = \"shout\" }");
        assert_eq!(unknown.len(), 1);
        assert!(unknown[0].contains("policy.abuse.threat.action: unknown value"), "{unknown:?}");
        let unknown = problems("bogus = 1");
        assert!(unknown[0].contains("bogus"), "{unknown:?}");
    }

    #[test]
    fn a_valid_external_endpoint_parses_with_defaults() {
        let c = Config::from_toml(&site(
            "learning = false\n[sites.policy.abuse.external]\nurl = \"http://127.0.0.1:9/score\"",
        ))
        .expect("valid");
        let a = &c.sites[0].policy.abuse;
        assert!(!a.learning);
        let e = a.external.as_ref().expect("external");
        assert_eq!((e.timeout_ms, e.max_concurrency, e.on_failure), (200, 32, OnFailure::Open));
    }
}
