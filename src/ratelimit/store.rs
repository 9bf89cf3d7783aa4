//! A governor state store with a hard cap on keys.
//!
//! governor's own keyed stores grow with every new key until `retain_recent` runs, and expose no way to evict a
//! key. A flood of fresh addresses (random IPv6 prefixes are cheap) would grow them without bound between two
//! housekeeping runs, so the limiter keeps its state here instead:
//!
//! - keys are `u64` hashes, already randomly keyed per process, so they index the table directly;
//! - each shard is an open-addressing table of 16-byte `(key, TAT)` slots with linear probing: a lookup usually
//!   touches ONE cache line, which matters when a million keys are in play and every lookup misses the cache;
//! - the table is split into shards, each behind its own mutex, so checks on different keys rarely contend;
//! - a shard that is full when a new key arrives evicts the eighth of its keys with the smallest theoretical arrival
//!   time (TAT) first. Those are the keys closest to a full refill, whose loss changes the fewest decisions: a
//!   flooder's exhausted bucket has the largest TAT and is evicted last. New keys are never locked out.
//!
//! Invariant: a stored TAT is nanoseconds since the limiter's start, exactly what governor hands to
//! [`StateStore::measure_and_replace`]; an absent key is a full bucket.

use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;
use parking_lot::Mutex;

/// Marks an empty slot; a real key 0 is stored as 1 (a 2^-64 chance of sharing a bucket with key 1).
const EMPTY: u64 = 0;

/// Open addressing with linear probing and backward-shift deletion (no tombstones, so probe sequences never rot).
///
/// Invariant: `slots.len()` is 0 or a power of two, and `len <= slots.len() * 3 / 4` so every probe ends at an
/// empty slot. Every key sits at or after its home slot (`key & mask`) with no empty slot in between.
#[derive(Debug, Default)]
struct Table {
    slots: Vec<(u64, u64)>,
    len: usize,
}

impl Table {
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// `Ok(index)` of the key, or `Err(index)` of the empty slot where it would go. The table must not be empty.
    fn find(&self, key: u64) -> Result<usize, usize> {
        let mask = self.mask();
        let mut i = key as usize & mask;
        loop {
            match self.slots[i].0 {
                k if k == key => return Ok(i),
                EMPTY => return Err(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn get_mut(&mut self, key: u64) -> Option<&mut u64> {
        if self.len == 0 {
            return None;
        }
        let i = self.find(key).ok()?;
        Some(&mut self.slots[i].1)
    }

    fn insert_new(&mut self, key: u64, tat: u64) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.resize((self.slots.len() * 2).max(16));
        }
        if let Err(i) = self.find(key) {
            self.slots[i] = (key, tat);
            self.len += 1;
        }
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![(EMPTY, 0); slots]);
        self.len = 0;
        if slots == 0 {
            return;
        }
        for (key, tat) in old.into_iter().filter(|(k, _)| *k != EMPTY) {
            if let Err(i) = self.find(key) {
                self.slots[i] = (key, tat);
                self.len += 1;
            }
        }
    }

    /// Keeps the entries for which `keep(tat)` holds; deletes in place by shifting later entries of the probe run
    /// back, and re-examines the slot it refilled, so every entry is examined at least once.
    fn retain(&mut self, mut keep: impl FnMut(u64) -> bool) {
        if self.len == 0 {
            return;
        }
        let mask = self.mask();
        let mut i = 0;
        while i < self.slots.len() {
            let (key, tat) = self.slots[i];
            if key == EMPTY || keep(tat) {
                i += 1;
                continue;
            }
            self.len -= 1;
            // Backward shift: pull each following entry of the run into the hole unless its home lies strictly
            // after the hole (cyclically), where moving it would put it before its home.
            let mut hole = i;
            let mut j = (i + 1) & mask;
            while self.slots[j].0 != EMPTY {
                let home = self.slots[j].0 as usize & mask;
                let distance_to_j = j.wrapping_sub(home) & mask;
                let distance_to_hole = hole.wrapping_sub(home) & mask;
                if distance_to_hole <= distance_to_j {
                    self.slots[hole] = self.slots[j];
                    hole = j;
                }
                j = (j + 1) & mask;
            }
            self.slots[hole] = (EMPTY, 0);
        }
    }

    fn shrink(&mut self) {
        if self.len == 0 {
            self.slots = Vec::new();
        } else if self.len * 4 < self.slots.len() {
            // Smallest power of two that keeps the load at or under 3/4, with headroom to 1/2.
            self.resize((self.len * 2).next_power_of_two().max(16));
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct BoundedStore {
    shards: Box<[Mutex<Table>]>,
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
        BoundedStore { shards: (0..shards).map(|_| Mutex::new(Table::default())).collect(), shard_cap, label }
    }

    fn shard(&self, key: u64) -> &Mutex<Table> {
        // Tables index by the low bits: pick shards by higher ones, so each shard's keys spread over its table.
        &self.shards[((key >> 40) as usize) & (self.shards.len() - 1)]
    }

    /// Removes at least an eighth of a full shard, smallest TAT first (ties broken arbitrarily).
    fn evict(&self, table: &mut Table) {
        let target = (table.len / 8).max(1);
        let mut tats: Vec<u64> = table.slots.iter().filter(|(k, _)| *k != EMPTY).map(|(_, t)| *t).collect();
        let (_, &mut threshold, _) = tats.select_nth_unstable(target - 1);
        let before = table.len;
        table.retain(|tat| tat >= threshold);
        if before - table.len < target {
            // Ties at the threshold: drop just enough of them.
            let mut more = target - (before - table.len);
            table.retain(|tat| {
                let evict = tat == threshold && more > 0;
                more -= usize::from(evict);
                !evict
            });
        }
        let removed = before - table.len;
        metrics::counter!("commentguard_ratelimit_evictions_total", "limit" => self.label).increment(removed as u64);
    }
}

impl StateStore for BoundedStore {
    type Key = u64;

    fn measure_and_replace<T, F, E>(&self, key: &u64, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let key = (*key).max(1);
        let mut table = self.shard(key).lock();
        if let Some(tat) = table.get_mut(key) {
            let (outcome, next) = f(Some(Nanos::from(*tat)))?;
            *tat = next.as_u64();
            return Ok(outcome);
        }
        // A refused first request (possible only with a zero quota) stores nothing.
        let (outcome, next) = f(None)?;
        if table.len >= self.shard_cap {
            self.evict(&mut table);
        }
        table.insert_new(key, next.as_u64());
        Ok(outcome)
    }
}

impl ShrinkableKeyedStateStore<u64> for BoundedStore {
    fn retain_recent(&self, drop_below: Nanos) {
        let drop_below = drop_below.as_u64();
        for shard in self.shards.iter() {
            shard.lock().retain(|tat| tat > drop_below);
        }
    }

    /// Gives memory back only when a shard's table is at most a quarter full, so a steady load does not reallocate
    /// its tables at every housekeeping run.
    fn shrink_to_fit(&self) {
        for shard in self.shards.iter() {
            shard.lock().shrink();
        }
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len).sum()
    }

    fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.lock().len == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn touch(store: &BoundedStore, key: u64, tat: u64) {
        let r: Result<(), ()> = store.measure_and_replace(&key, |_| Ok(((), Nanos::from(tat))));
        assert!(r.is_ok());
    }

    fn tat(store: &BoundedStore, key: u64) -> Option<u64> {
        let key = key.max(1);
        store.shard(key).lock().get_mut(key).map(|t| *t)
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
        assert_eq!(tat(&store, 7), Some(1_000_000), "the largest TAT survives eviction");
        assert_eq!(tat(&store, 1499u64.wrapping_mul(0x9e37_79b9_7f4a_7c15)), Some(1499), "the newest key is in");
    }

    #[test]
    fn retain_recent_drops_refilled_keys_and_shrink_returns_memory() {
        let store = BoundedStore::new(10_000, "test");
        for k in 0..5000u64 {
            touch(&store, k << 40 | k, 10 + k % 2);
        }
        store.retain_recent(Nanos::from(10u64));
        assert_eq!(store.len(), 2500);
        assert!((0..5000u64).all(|k| tat(&store, k << 40 | k).is_some() == (k % 2 == 1)));
        store.retain_recent(Nanos::from(11u64));
        assert!(store.is_empty());
        store.shrink_to_fit();
        assert!(store.shards.iter().all(|s| s.lock().slots.is_empty()));
    }

    proptest! {
        /// The table agrees with a `HashMap` through inserts, updates, deletions (with colliding keys that share home
        /// slots and wrap around the end) and shrinking.
        #[test]
        fn table_matches_a_hashmap(ops in proptest::collection::vec((0u64..64, 0u64..8, any::<bool>()), 1..400)) {
            let mut table = Table::default();
            let mut model: HashMap<u64, u64> = HashMap::new();
            for (k, v, delete) in ops {
                // Keys whose homes crowd the last slots of a 16- or 32-slot table: long runs that wrap around.
                let key = (k << 59) | (k & 16) | (15 - k % 3);
                if delete {
                    table.retain(|tat| tat != v);
                    model.retain(|_, tat| *tat != v);
                    table.shrink();
                } else if let Some(t) = table.get_mut(key) {
                    *t = v;
                    model.insert(key, v);
                } else {
                    table.insert_new(key, v);
                    model.insert(key, v);
                }
                prop_assert_eq!(table.len, model.len());
                for (key, v) in &model {
                    prop_assert_eq!(table.get_mut(*key).map(|t| *t), Some(*v));
                }
            }
        }
    }
}
