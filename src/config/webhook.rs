//! `[sites.webhook]`: signed delivery of a site's decision events to an HTTP endpoint of the host (see
//! `crate::webhooks`). Written after the site's `[[sites]]` entry:
//!
//! ```toml
//! [sites.webhook]
//! url = "https://news.example/wp-json/commentguard/v1/decisions"   # or http:// on a private network
//! # ca_file = "/etc/commentguard/internal-ca.pem"   # https only: trust these roots instead of Mozilla's
//! secret_env = "COMMENTGUARD_WEBHOOK_SECRET_NEWS"   # or: secret = "…" (at least 16 bytes)
//! timeout_ms = 5000
//! max_attempts = 0          # 0: retry forever; N: suspend the site's delivery after N failed attempts of a batch
//! initial_backoff_ms = 1000
//! max_backoff_ms = 300000
//! max_batch = 50
//! ```
//!
//! Invariant: the secret never reaches a log, a `Debug` string or an error message; errors name the key (and, for
//! `secret_env`, the variable's name), never its value.

use crate::config::error::Problems;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

/// Where a webhook delivers: `url` taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    /// The url's port, else 443 for https and 80 for http.
    pub port: u16,
    /// Path and query.
    pub path: String,
    pub https: bool,
}

/// A site's webhook. `Debug` prints `secret` as `"<redacted>"`.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// `https://host[:port]/path` (or `http://` on a private network) that receives POSTs of the site's decision
    /// events.
    pub url: String,
    /// For an `https://` url: a PEM file of the CA certificates to trust instead of the Mozilla roots compiled into
    /// the binary (a receiver behind an internal CA, or a self-signed one).
    pub ca_file: Option<String>,
    /// Name of the environment variable holding the signing secret (keeps the secret out of the file).
    pub secret_env: Option<String>,
    /// The signing secret itself (when `secret_env` is not used).
    pub secret: Option<String>,
    /// One delivery attempt (connect, send, answer) may take this long.
    pub timeout_ms: u64,
    /// 0: a failing batch is retried forever (at `max_backoff_ms`). N > 0: after N failed attempts of one batch the
    /// site's delivery is suspended (logged, `commentguard_webhook_suspended` = 1) until a reload changes this table
    /// or the process restarts; the cursor stays, so nothing is skipped.
    pub max_attempts: u32,
    /// The first retry waits about this long; each further one twice as long (with jitter), up to `max_backoff_ms`.
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// Events per POST at most (a backlog is delivered in batches, in order).
    pub max_batch: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            url: String::new(),
            ca_file: None,
            secret_env: None,
            secret: None,
            timeout_ms: 5_000,
            max_attempts: 0,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 300_000,
            max_batch: 50,
        }
    }
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("ca_file", &self.ca_file)
            .field("secret_env", &self.secret_env)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("timeout_ms", &self.timeout_ms)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("max_backoff_ms", &self.max_backoff_ms)
            .field("max_batch", &self.max_batch)
            .finish()
    }
}

/// Shortest accepted secret, in bytes.
pub const MIN_SECRET_BYTES: usize = 16;

impl WebhookConfig {
    /// The signing secret: from `secret_env`'s variable or `secret`. The error names the key, never the value.
    pub fn resolve_secret(&self) -> Result<Vec<u8>, String> {
        let secret = match (&self.secret_env, &self.secret) {
            (Some(_), Some(_)) => return Err("secret_env: set secret_env or secret, not both".into()),
            (None, None) => return Err("secret_env: a signing secret is required (secret_env or secret)".into()),
            (Some(var), None) => std::env::var(var)
                .map_err(|_| format!("secret_env: environment variable {var:?} is not set (or not UTF-8)"))?,
            (None, Some(s)) => s.clone(),
        };
        if secret.len() < MIN_SECRET_BYTES {
            let key = if self.secret_env.is_some() { "secret_env" } else { "secret" };
            return Err(format!("{key}: the secret must be at least {MIN_SECRET_BYTES} bytes"));
        }
        Ok(secret.into_bytes())
    }

    /// Where to deliver, or why the url is not somewhere we can deliver to.
    pub fn target(&self) -> Result<Endpoint, String> {
        let uri: tonic::codegen::http::Uri =
            self.url.parse().map_err(|_| "url: not a URL like https://host/path".to_string())?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("url: must start with https:// or http://".into()),
        };
        let host = uri.host().filter(|h| !h.is_empty()).ok_or("url: a host is required")?;
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err("url: must not carry credentials (user:password@); the signature authenticates".into());
        }
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        Ok(Endpoint {
            host: host.trim_matches(['[', ']']).to_string(),
            port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
            path: path.to_string(),
            https,
        })
    }

    /// The CA certificates of `ca_file` (`None` without one: the compiled-in Mozilla roots apply).
    pub fn trusted_roots(&self) -> Result<Option<Vec<CertificateDer<'static>>>, String> {
        let Some(path) = &self.ca_file else { return Ok(None) };
        let pem = std::fs::read(path).map_err(|e| format!("ca_file: {path:?} cannot be read ({})", e.kind()))?;
        let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("ca_file: {path:?} is not a PEM file of certificates"))?;
        if certs.is_empty() {
            return Err(format!("ca_file: {path:?} holds no certificate"));
        }
        Ok(Some(certs))
    }

    pub(crate) fn validate(&self, at: &str, p: &mut Problems) {
        match self.target() {
            Err(e) => p.add(format!("{at}.{e}")),
            Ok(endpoint) if !endpoint.https && self.ca_file.is_some() => {
                p.add(format!("{at}.ca_file: only for an https:// url"))
            }
            Ok(_) => {}
        }
        if let Err(e) = self.trusted_roots() {
            p.add(format!("{at}.{e}"));
        }
        if let Err(e) = self.resolve_secret() {
            p.add(format!("{at}.{e}"));
        }
        if !(100..=600_000).contains(&self.timeout_ms) {
            p.add(format!("{at}.timeout_ms: must be between 100 and 600000"));
        }
        if !(1..=3_600_000).contains(&self.initial_backoff_ms) {
            p.add(format!("{at}.initial_backoff_ms: must be between 1 and 3600000"));
        }
        if !(self.initial_backoff_ms..=86_400_000).contains(&self.max_backoff_ms) {
            p.add(format!("{at}.max_backoff_ms: must be between initial_backoff_ms and 86400000"));
        }
        if !(1..=1000).contains(&self.max_batch) {
            p.add(format!("{at}.max_batch: must be between 1 and 1000"));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, sha256_hex};

    fn error_of(webhook: &str) -> Vec<String> {
        let text =
            format!("[[sites]]\nid = \"n\"\napi_key_sha256 = [\"{}\"]\n[sites.webhook]\n{webhook}", sha256_hex("k"));
        Config::from_toml(&text).map(|_| Vec::new()).unwrap_or_else(|e| e.problems().to_vec())
    }

    #[test]
    fn a_webhook_parses_and_its_secret_never_shows() {
        let text = format!(
            "[[sites]]\nid = \"n\"\napi_key_sha256 = [\"{}\"]\n[sites.webhook]\nurl = \"http://127.0.0.1:8080/hook?x=1\"\n\
             secret = \"a-very-secret-value-123\"\nmax_attempts = 5\n",
            sha256_hex("k")
        );
        let config = Config::from_toml(&text).expect("valid");
        let hook = config.sites[0].webhook.as_ref().expect("webhook");
        let endpoint = hook.target().expect("a target");
        assert_eq!((endpoint.host.as_str(), endpoint.port, endpoint.path.as_str()), ("127.0.0.1", 8080, "/hook?x=1"));
        assert!(!endpoint.https);
        let https = super::WebhookConfig { url: "https://news.example/wp-json/cg?x=1".into(), ..Default::default() };
        let endpoint = https.target().expect("an https target");
        assert_eq!((endpoint.host.as_str(), endpoint.port, endpoint.https), ("news.example", 443, true));
        assert_eq!(https.trusted_roots(), Ok(None), "without ca_file the compiled-in roots apply");
        assert_eq!(hook.max_attempts, 5);
        assert_eq!(hook.timeout_ms, 5000, "defaults fill the rest");
        assert!(!format!("{config:?}").contains("a-very-secret"), "Debug never shows the secret");
    }

    #[test]
    fn problems_name_the_key_never_the_secret() {
        assert_eq!(
            error_of("url = \"http://x.example/h\"\nsecret = \"0123456789abcdef\"\nca_file = \"/etc/hosts\""),
            [
                "sites[0].webhook.ca_file: only for an https:// url",
                "sites[0].webhook.ca_file: \"/etc/hosts\" holds no certificate"
            ]
        );
        assert_eq!(
            error_of("url = \"https://x.example/h\"\nsecret = \"0123456789abcdef\"\nca_file = \"/surely/missing.pem\""),
            ["sites[0].webhook.ca_file: \"/surely/missing.pem\" cannot be read (entity not found)"]
        );
        assert_eq!(
            error_of("url = \"http://x.example/h\"\nsecret = \"short-secret\""),
            ["sites[0].webhook.secret: the secret must be at least 16 bytes"]
        );
        assert_eq!(
            error_of("url = \"http://x.example/h\""),
            ["sites[0].webhook.secret_env: a signing secret is required (secret_env or secret)"]
        );
        assert_eq!(
            error_of("url = \"http://x.example/h\"\nsecret_env = \"CG_TEST_SURELY_UNSET_VARIABLE\""),
            [
                "sites[0].webhook.secret_env: environment variable \"CG_TEST_SURELY_UNSET_VARIABLE\" is not set (or not UTF-8)"
            ]
        );
        assert_eq!(
            error_of("url = \"http://u:p@x.example/h\"\nsecret = \"0123456789abcdef\""),
            ["sites[0].webhook.url: must not carry credentials (user:password@); the signature authenticates"]
        );
        let all = error_of(
            "url = \"ftp://x\"\nsecret = \"0123456789abcdef\"\ntimeout_ms = 1\ninitial_backoff_ms = 10\n\
             max_backoff_ms = 5\nmax_batch = 0",
        );
        assert_eq!(
            all,
            [
                "sites[0].webhook.url: must start with https:// or http://",
                "sites[0].webhook.timeout_ms: must be between 100 and 600000",
                "sites[0].webhook.max_backoff_ms: must be between initial_backoff_ms and 86400000",
                "sites[0].webhook.max_batch: must be between 1 and 1000",
            ]
        );
        assert!(error_of("url = \"http://x/\"\nsecret = \"0123456789abcdef\"\nbogus = 1")[0].contains("bogus"));
    }
}
