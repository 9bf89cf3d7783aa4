//! Webhook delivery state on Redis (`store::webhooks`): the cursor is a plain key, the lease a key with a TTL; the
//! steps that compare the lease's owner run as Lua scripts so the check and the write are one step.

use super::scripts::{WEBHOOK_CURSOR, WEBHOOK_LEASE, WEBHOOK_RELEASE};
use super::{RedisStore, StoreError, err, read_err};
use crate::store::webhooks::WebhookState;
use crate::store::{StreamId, keys};
use async_trait::async_trait;
use std::time::Duration;

#[async_trait]
impl WebhookState for RedisStore {
    async fn webhook_lease(&self, site: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let held: i64 = WEBHOOK_LEASE
            .key(keys::webhook_lease(site))
            .arg(owner)
            .arg(ttl.as_millis().max(1) as u64)
            .invoke_async(&mut conn)
            .await
            .map_err(err("webhook lease"))?;
        Ok(held == 1)
    }

    async fn release_webhook_lease(&self, site: &str, owner: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: i64 = WEBHOOK_RELEASE
            .key(keys::webhook_lease(site))
            .arg(owner)
            .invoke_async(&mut conn)
            .await
            .map_err(err("webhook release"))?;
        Ok(())
    }

    async fn webhook_cursor(&self, site: &str) -> Result<Option<StreamId>, StoreError> {
        let mut conn = self.conn.clone();
        let cursor: Option<String> = redis::cmd("GET")
            .arg(keys::webhook_cursor(site))
            .query_async(&mut conn)
            .await
            .map_err(read_err("webhook cursor"))?;
        match cursor {
            None => Ok(None),
            Some(text) => StreamId::parse(&text)
                .map(Some)
                .ok_or_else(|| StoreError::not_applied("redis webhook cursor: not a stream id")),
        }
    }

    async fn save_webhook_cursor(&self, site: &str, owner: &str, cursor: StreamId) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let saved: i64 = WEBHOOK_CURSOR
            .key(keys::webhook_lease(site))
            .key(keys::webhook_cursor(site))
            .arg(owner)
            .arg(cursor.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(err("webhook cursor save"))?;
        Ok(saved == 1)
    }
}
