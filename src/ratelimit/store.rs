//! A governor state store with a hard cap on keys.
//!
//! governor's own keyed stores grow with every new key until `retain_recent` runs, and expose no way to evict a
//! key. A flood of fresh addresses (random IPv6 prefixes are cheap) would grow them without bound between two
//! housekeeping runs, so the limiter keeps its state here instead:
//!
//! - keys are `u64` hashes (already randomly keyed per process, so an identity hash is safe and free);
//! - the map is split into shards, each behind its own mutex, so checks on different keys rarely contend;
//! - a shard that is full when a new key arrives evicts the eighth of its keys with the smallest theoretical arrival
//!   time (TAT) first. Those are the keys closest to a full refill, whose loss changes the fewest decisions: a
//!   flooder's exhausted bucket has the largest TAT and is evicted last. New keys are never locked out.
//!
//! Invariant: a stored value is the key's GCRA TAT in nanoseconds since the limiter's start, exactly what governor
//! hands to [`StateStore::measure_and_replace`]; an absent key is a full bucket.

use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes an already-random `u64` key to itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used for `u64` keys; fold anything else so the hasher stays total.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Shard = HashMap<u64, u64, BuildHasherDefault<KeyHasher>>;

/// See the module docs.
#[derive(Debug)]
pub struct BoundedStore {
    shards: Box<[Mutex<Shard>]>,
    /// Keys per shard before eviction.
    shard_cap: usize,
    /// Metric label of the limit this store belongs to.
    label: &'static str,
}

impl BoundedStore {
    /// A store holding at most about `max_keys` keys (rounded up to whole shards).
    pub fn new(max_keys: usize, label: &'static str) -> BoundedStore {
        let max_keys = max_keys.max(1);
        // Small stores get one shard so the cap is exact; large ones up to 64 to spread lock traffic.
        let shards = (max_keys / 4096).clamp(1, 64).next_power_of_two().min(64);
        let shard_cap = max_keys.div_ceil(shards);
        BoundedStore { shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(), shard_cap, label }
    }

    fn shard(&self, key: u64) -> &Mutex<Shard> {
        // The map's buckets use the low bits and its control bytes the top 7: pick shards by bits in between, so
        // every key of a shard still spreads over the shard's whole table.
        &self.shards[((key >> 32) as usize) & (self.shards.len() - 1)]
    }

    /// Removes at least an eighth of a full shard, smallest TAT first (ties broken arbitrarily).
    fn evict(&self, shard: &mut Shard) {
        let target = (shard.len() / 8).max(1);
        let mut tats: Vec<u64> = shard.values().copied().collect();
        let (_, &mut threshold, _) = tats.select_nth_unstable(target - 1);
        let mut removed = 0usize;
        shard.retain(|_, tat| {
            let evict = *tat < threshold;
            removed += usize::from(evict);
            !evict
        });
        if removed < target {
            shard.retain(|_, tat| {
                let evict = *tat == threshold && removed < target;
                removed += usize::from(evict);
                !evict
            });
        }
        metrics::counter!("commentguard_ratelimit_evictions_total", "limit" => self.label).increment(removed as u64);
    }
}

impl StateStore for BoundedStore {
    type Key = u64;

    fn measure_and_replace<T, F, E>(&self, key: &u64, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut shard = self.shard(*key).lock();
        if let Some(tat) = shard.get_mut(key) {
            let (outcome, next) = f(Some(Nanos::from(*tat)))?;
            *tat = next.as_u64();
            return Ok(outcome);
        }
        // A refused first request (possible only with a zero quota) stores nothing.
        let (outcome, next) = f(None)?;
        if shard.len() >= self.shard_cap {
            self.evict(&mut shard);
        }
        shard.insert(*key, next.as_u64());
        Ok(outcome)
    }
}

impl ShrinkableKeyedStateStore<u64> for BoundedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        let drop_below = drop_below.as_u64();
        for shard in self.shards.iter() {
            shard.lock().retain(|_, tat| *tat > drop_below);
        }
    }

    /// Gives memory back only when a shard's table is at most a quarter full, so a steady load does not reallocate
    /// its tables at every housekeeping run.
    fn shrink_to_fit(&self) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            if shard.len() < shard.capacity() / 4 {
                shard.shrink_to_fit();
            }
        }
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.lock().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(store: &BoundedStore, key: u64, tat: u64) {
        let r: Result<(), ()> = store.measure_and_replace(&key, |_| Ok(((), Nanos::from(tat))));
        assert!(r.is_ok());
    }

    #[test]
    fn a_full_store_evicts_the_smallest_tats_and_admits_new_keys() {
        let store = BoundedStore::new(100, "test");
        // Key 7 is the "flooder": far-future TAT.
        touch(&store, 7, 1_000_000);
        for k in 1000..1500u64 {
            touch(&store, k.wrapping_mul(0x9e37_79b9_7f4a_7c15), k);
        }
        assert!(store.len() <= 100, "cap holds: {}", store.len());
        assert!(store.shards[0].lock().contains_key(&7), "the largest TAT survives eviction");
        let newest = 1499u64.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        assert!(store.shards[0].lock().contains_key(&newest), "the newest key was admitted");
    }

    #[test]
    fn retain_recent_drops_refilled_keys_and_shrink_returns_memory() {
        let store = BoundedStore::new(10_000, "test");
        for k in 0..5000u64 {
            touch(&store, k << 32 | k, 10 + k % 2);
        }
        store.retain_recent(Nanos::from(10u64));
        assert_eq!(store.len(), 2500);
        store.retain_recent(Nanos::from(11u64));
        assert!(store.is_empty());
        store.shrink_to_fit();
        assert!(store.shards.iter().all(|s| s.lock().capacity() == 0));
    }
}
