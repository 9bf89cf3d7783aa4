//! Who is calling: `authorization: Bearer <secret>` → a site (ModerationService) or a moderator (ReviewService).
//!
//! Only SHA-256 hashes of secrets are configured. The presented secret is hashed and compared with EVERY configured
//! hash in constant time (no early exit), so response timing says nothing about which hashes exist or how close a
//! guess came.

use crate::error::Error;
use crate::tenants::{Moderator, Site, Tenants};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tonic::codegen::http::{Extensions, HeaderMap};

/// The authenticated site of a ModerationService request, put in the request's extensions by `api::authn` before
/// the body is decoded.
#[derive(Debug, Clone)]
pub struct SiteCaller(pub Arc<Site>);

/// The authenticated moderator of a ReviewService request (see [`SiteCaller`]).
#[derive(Debug, Clone)]
pub struct ModeratorCaller(pub Arc<Moderator>);

/// The site `api::authn` authenticated for this request. Absent only if a service was mounted without the layer,
/// which must fail closed.
pub fn site_of(extensions: &Extensions) -> Result<Arc<Site>, Error> {
    extensions.get::<SiteCaller>().map(|c| c.0.clone()).ok_or(Error::Unauthenticated("missing authorization"))
}

/// The moderator `api::authn` authenticated for this request (see [`site_of`]).
pub fn moderator_of(extensions: &Extensions) -> Result<Arc<Moderator>, Error> {
    extensions.get::<ModeratorCaller>().map(|c| c.0.clone()).ok_or(Error::Unauthenticated("missing authorization"))
}

/// The bearer secret of a request, or `UNAUTHENTICATED`.
fn bearer(headers: &HeaderMap) -> Result<&str, Error> {
    let value = headers
        .get("authorization")
        .ok_or(Error::Unauthenticated("missing authorization metadata"))?
        .to_str()
        .map_err(|_| Error::Unauthenticated("authorization metadata is not text"))?;
    let secret = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or(Error::Unauthenticated("authorization must be `Bearer <key>`"))?
        .trim();
    if secret.is_empty() {
        return Err(Error::Unauthenticated("empty bearer key"));
    }
    Ok(secret)
}

/// Scans all candidates without short-circuiting and returns the one whose hash matches.
fn find_constant_time<'a, T>(digest: &[u8], candidates: impl Iterator<Item = (&'a [u8; 32], T)>) -> Option<T> {
    let mut found = None;
    for (hash, item) in candidates {
        if bool::from(hash.ct_eq(digest)) {
            found = Some(item);
        }
    }
    found
}

/// The site a request's API key belongs to; any of a site's keys works (rotation with overlap).
pub fn site(headers: &HeaderMap, tenants: &Tenants) -> Result<Arc<Site>, Error> {
    let digest = Sha256::digest(bearer(headers)?.as_bytes());
    let candidates = tenants.sites.iter().flat_map(|s| s.key_hashes.iter().map(move |h| (h, s)));
    find_constant_time(&digest, candidates).cloned().ok_or(Error::Unauthenticated("unknown API key"))
}

/// The moderator a request's token belongs to.
pub fn moderator(headers: &HeaderMap, tenants: &Tenants) -> Result<Arc<Moderator>, Error> {
    let digest = Sha256::digest(bearer(headers)?.as_bytes());
    let candidates = tenants.moderators.iter().map(|m| (&m.token_hash, m));
    find_constant_time(&digest, candidates).cloned().ok_or(Error::Unauthenticated("unknown moderator token"))
}

/// The moderator may act on `site_id`, else `PERMISSION_DENIED` (also for sites that do not exist, so a moderator
/// cannot probe which sites are configured).
pub fn require_site(moderator: &Moderator, site_id: &str) -> Result<(), Error> {
    if moderator.sites.contains(site_id) {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!("moderator may not review site {site_id:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, sha256_hex};

    fn tenants() -> Tenants {
        let text = format!(
            "[[sites]]\nid = \"a\"\napi_key_sha256 = [\"{}\", \"{}\"]\n[[sites]]\nid = \"b\"\napi_key_sha256 = [\"{}\"]\n\
             [[moderators]]\nid = \"m\"\ntoken_sha256 = \"{}\"\nsites = [\"a\"]\n",
            sha256_hex("old-a"),
            sha256_hex("new-a"),
            sha256_hex("key-b"),
            sha256_hex("tok")
        );
        Tenants::offline(&Config::from_toml(&text).expect("valid")).expect("tenants")
    }

    fn md(auth: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert("authorization", auth.parse().expect("ascii"));
        m
    }

    #[test]
    fn keys_decide_the_site_and_rotate() {
        let t = tenants();
        assert_eq!(site(&md("Bearer old-a"), &t).map(|s| s.id.clone()).ok(), Some("a".into()));
        assert_eq!(site(&md("Bearer new-a"), &t).map(|s| s.id.clone()).ok(), Some("a".into()));
        assert_eq!(site(&md("Bearer key-b"), &t).map(|s| s.id.clone()).ok(), Some("b".into()));
        assert!(matches!(site(&md("Bearer nope"), &t), Err(Error::Unauthenticated(_))));
        assert!(matches!(site(&md("Basic old-a"), &t), Err(Error::Unauthenticated(_))));
        assert!(matches!(site(&HeaderMap::new(), &t), Err(Error::Unauthenticated(_))));
    }

    #[test]
    fn moderators_are_limited_to_their_sites() {
        let t = tenants();
        let m = moderator(&md("Bearer tok"), &t).expect("known token");
        assert!(require_site(&m, "a").is_ok());
        assert!(matches!(require_site(&m, "b"), Err(Error::PermissionDenied(_))));
        assert!(
            matches!(moderator(&md("Bearer old-a"), &t), Err(Error::Unauthenticated(_))),
            "site keys are not tokens"
        );
    }
}
