//! Webhook delivery state in the memory store (`store::webhooks`), with the Redis store's semantics: the lease
//! expires on the store's clock, and the cursor is saved only under the lease, in one step under one lock.

use super::MemoryStore;
use crate::store::webhooks::WebhookState;
use crate::store::{StoreError, StreamId};
use async_trait::async_trait;
use std::time::Duration;

/// One site's webhook state.
#[derive(Debug, Default)]
pub(super) struct Delivery {
    cursor: Option<StreamId>,
    /// Owner and expiry (ms on the store's clock).
    lease: Option<(String, u64)>,
}

impl Delivery {
    fn holder(&self, now_ms: u64) -> Option<&str> {
        self.lease.as_ref().filter(|(_, until)| *until > now_ms).map(|(owner, _)| owner.as_str())
    }
}

#[async_trait]
impl WebhookState for MemoryStore {
    async fn webhook_lease(&self, site: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let mut all = self.webhooks.lock();
        let d = all.entry(site.to_string()).or_default();
        match d.holder(now) {
            Some(holder) if holder != owner => Ok(false),
            _ => {
                d.lease = Some((owner.to_string(), now + ttl.as_millis().max(1) as u64));
                Ok(true)
            }
        }
    }

    async fn release_webhook_lease(&self, site: &str, owner: &str) -> Result<(), StoreError> {
        let mut all = self.webhooks.lock();
        if let Some(d) = all.get_mut(site)
            && d.lease.as_ref().is_some_and(|(o, _)| o == owner)
        {
            d.lease = None;
        }
        Ok(())
    }

    async fn webhook_cursor(&self, site: &str) -> Result<Option<StreamId>, StoreError> {
        Ok(self.webhooks.lock().get(site).and_then(|d| d.cursor))
    }

    async fn save_webhook_cursor(&self, site: &str, owner: &str, cursor: StreamId) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let mut all = self.webhooks.lock();
        let d = all.entry(site.to_string()).or_default();
        if d.holder(now) != Some(owner) {
            return Ok(false);
        }
        d.cursor = Some(cursor);
        Ok(true)
    }
}
