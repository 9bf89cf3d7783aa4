//! gRPC services: thin handlers that validate, authenticate, and hand over to the transport-independent flow
//! (`intake`) or the store. One file per service; conversions and validation beside them.

pub mod convert;
pub mod decisions;
pub mod masking;
pub mod moderation;
pub mod review;
pub mod validate;

use crate::clock::Clock;
use crate::intake::Pseudonymizer;
use crate::store::Store;
use crate::tenants::Tenants;
use arc_swap::ArcSwap;
use std::sync::Arc;

/// What every handler shares. `tenants` is swapped whole on SIGHUP.
#[derive(Debug)]
pub struct App {
    pub tenants: ArcSwap<Tenants>,
    pub store: Arc<dyn Store>,
    pub keys: Pseudonymizer,
    pub clock: Arc<dyn Clock>,
    /// Bans, rate limits, flood and surge control; reloaded with `tenants` on SIGHUP.
    pub limiter: Arc<crate::ratelimit::Limiter>,
    /// Each site's spam model with what its moderators taught it; refreshed by `learning`.
    pub models: crate::learning::Models,
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.name())
    }
}
