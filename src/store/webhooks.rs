//! The webhook deliverer's state in the store (`crate::webhooks`): each site's delivered cursor and the lease that
//! makes one process, among replicas, the site's only deliverer.
//!
//! Invariant: the cursor only moves under the lease. `save_webhook_cursor` writes only if the caller still holds
//! the lease, in the same atomic step (Redis: one Lua script; memory: one lock), so a deliverer that lost its lease
//! (paused, partitioned) cannot move the cursor of the one that took over — at worst it delivered a batch twice,
//! which at-least-once allows.
//!
//! Redis keys: `cg:{site}:webhook:cursor` (a plain string, the last delivered stream id) and
//! `cg:{site}:webhook:lease` (the owner's id, with a TTL).

use super::{StoreError, StreamId};
use async_trait::async_trait;
use std::time::Duration;

#[async_trait]
pub trait WebhookState: Send + Sync + 'static {
    /// Takes the site's delivery lease for `owner`, or renews it if `owner` holds it, for `ttl`. `false`: another
    /// owner holds it.
    async fn webhook_lease(&self, site: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives the lease up if `owner` holds it (a clean stop lets another replica take over at once).
    async fn release_webhook_lease(&self, site: &str, owner: &str) -> Result<(), StoreError>;

    /// The last delivered position; `None` before the site's first delivery.
    async fn webhook_cursor(&self, site: &str) -> Result<Option<StreamId>, StoreError>;

    /// Records `cursor` as delivered if `owner` still holds the lease (`false`: it does not, nothing written).
    async fn save_webhook_cursor(&self, site: &str, owner: &str, cursor: StreamId) -> Result<bool, StoreError>;
}
