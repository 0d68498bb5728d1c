//! A small, bounded, thread-safe map from 32-byte keys to verified results.
//!
//! Two generations: lookups that hit the older generation move the entry to the current one;
//! when the current generation is full it becomes the older one and the older one is dropped.
//! Recently used entries therefore survive, and the number of entries never exceeds the
//! capacity rounded up to an even number.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

pub(crate) struct BoundedCache<V> {
    /// Entries per generation; 0 disables the cache.
    generation_limit: usize,
    generations: Mutex<Generations<V>>,
    hits: AtomicU64,
}

struct Generations<V> {
    current: HashMap<[u8; 32], V>,
    previous: HashMap<[u8; 32], V>,
}

impl<V: Clone> BoundedCache<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        BoundedCache {
            generation_limit: capacity.div_ceil(2),
            generations: Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
            }),
            hits: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Generations<V>> {
        // The maps are consistent after any panic of a holder (each operation is a single
        // insert, remove or swap), so a poisoned lock is still usable.
        self.generations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// False when the capacity is 0: nothing is ever stored, so callers can skip computing
    /// keys.
    pub(crate) fn is_enabled(&self) -> bool {
        self.generation_limit > 0
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<V> {
        if !self.is_enabled() {
            return None;
        }
        let mut g = self.lock();
        let found = match g.current.get(key) {
            Some(v) => Some(v.clone()),
            None => match g.previous.remove(key) {
                Some(v) => {
                    let out = v.clone();
                    g.insert(*key, v, self.generation_limit);
                    Some(out)
                }
                None => None,
            },
        };
        drop(g);
        found
    }

    /// Counts a use of an entry (callers decide what a use is).
    pub(crate) fn record_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn insert(&self, key: [u8; 32], value: V) {
        if !self.is_enabled() {
            return;
        }
        self.lock().insert(key, value, self.generation_limit);
    }

    pub(crate) fn len(&self) -> usize {
        let g = self.lock();
        g.current.len() + g.previous.len()
    }

    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub(crate) fn clear(&self) {
        let mut g = self.lock();
        g.current = HashMap::new();
        g.previous = HashMap::new();
    }
}

impl<V> Generations<V> {
    fn insert(&mut self, key: [u8; 32], value: V, limit: usize) {
        if self.current.len() >= limit && !self.current.contains_key(&key) {
            self.previous = std::mem::take(&mut self.current);
        }
        self.previous.remove(&key);
        self.current.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> [u8; 32] {
        let mut k = [0; 32];
        k[..4].copy_from_slice(&i.to_le_bytes());
        k
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let cache = BoundedCache::new(10);
        for i in 0..1000 {
            cache.insert(key(i), i);
            assert!(cache.len() <= 10);
        }
        assert_eq!(cache.get(&key(999)), Some(999));
        assert_eq!(cache.get(&key(0)), None);
        cache.record_hit();
        assert_eq!(cache.hits(), 1);
    }

    #[test]
    fn recently_used_entries_survive_rotation() {
        let cache = BoundedCache::new(4);
        cache.insert(key(0), 0);
        for i in 1..100 {
            cache.insert(key(i), i);
            assert_eq!(cache.get(&key(0)), Some(0), "after {i} inserts");
        }
    }

    #[test]
    fn zero_capacity_disables_caching() {
        let cache = BoundedCache::new(0);
        assert!(!cache.is_enabled());
        cache.insert(key(1), 1);
        assert_eq!(cache.get(&key(1)), None);
        assert_eq!(cache.len(), 0);
        let cache = BoundedCache::new(1);
        assert!(cache.is_enabled());
        cache.insert(key(1), 1);
        assert_eq!(cache.get(&key(1)), Some(1));
        cache.clear();
        assert_eq!(cache.len(), 0);
    }
}
