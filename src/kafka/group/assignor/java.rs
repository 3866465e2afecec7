//! The few Java behaviours the assignors' results depend on: `String.compareTo`,
//! `String.hashCode`, `TopicPartition.hashCode` and the iteration order of `java.util.HashMap`
//! (and `HashSet`, which is a `HashMap` underneath).
//!
//! Followed: `java.util.HashMap` (OpenJDK 8 to 25): `hash()` spreads the key's hash as
//! `h ^ (h >>> 16)`, a key lives in bucket `hash & (capacity - 1)`, and iteration walks the
//! buckets in ascending order, each bucket from its head. `putVal` appends a new key to its
//! bucket, allocates 16 buckets on the first call and doubles the table once the size passes 3/4
//! of the capacity; `computeIfAbsent` puts a new key at the head of its bucket and doubles the
//! table at the start of a call when the size is already past 3/4. Both double a table of fewer
//! than 64 buckets instead of turning a long bucket into a tree (`treeifyBin`). A tree bucket (9+
//! colliding keys in 64+ buckets) iterates in an order this type does not model; that takes
//! dozens of colliding keys, far beyond a teaching group.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// `String.compareTo`: lexicographic over UTF-16 code units (byte order for ASCII).
pub fn compare(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `String.hashCode`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// `TopicPartition.hashCode`: `31 * (31 + partition) + topic.hashCode()`, wrapping.
pub fn topic_partition_hash(topic_hash: i32, partition: u32) -> i32 {
    let partition = partition as i32;
    31i32
        .wrapping_add(partition)
        .wrapping_mul(31)
        .wrapping_add(topic_hash)
}

/// Buckets a new `HashMap` allocates on its first `put` (`DEFAULT_INITIAL_CAPACITY`).
const INITIAL_CAPACITY: usize = 16;
/// `TREEIFY_THRESHOLD`: how long a bucket may grow before it is treeified.
const TREEIFY_THRESHOLD: usize = 8;
/// Below this many buckets, treeifying resizes the table instead (`MIN_TREEIFY_CAPACITY`).
const MIN_TREEIFY_CAPACITY: usize = 64;

/// A key of a [`JavaHashSet`] with its spread hash and its place in its bucket: appended keys
/// count up from 1, keys put at the head count down from -1.
#[derive(Clone, Debug)]
struct Slot<K> {
    key: K,
    spread: u32,
    place: i64,
}

/// The key set of a `java.util.HashMap` filled with `put` or `computeIfAbsent` and emptied with
/// `remove`: it keeps exactly the state that decides Java's iteration order.
#[derive(Clone, Debug)]
pub struct JavaHashSet<K> {
    slots: Vec<Slot<K>>,
    /// Bucket count; 0 until the first insert, as Java allocates the table lazily.
    capacity: usize,
    /// Insertions so far.
    inserted: i64,
}

impl<K: PartialEq> JavaHashSet<K> {
    /// An empty set, as `new HashMap<>()`.
    pub fn new() -> JavaHashSet<K> {
        JavaHashSet {
            slots: Vec::new(),
            capacity: 0,
            inserted: 0,
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// True if `key` is in the set.
    pub fn contains(&self, key: &K) -> bool {
        self.slots.iter().any(|s| s.key == *key)
    }

    /// `put(key, ...)` for a key whose Java `hashCode()` is `hash`; a key already present keeps
    /// its place. Returns true if the key was new.
    pub fn insert(&mut self, key: K, hash: i32) -> bool {
        if self.contains(&key) {
            return false;
        }
        if self.capacity == 0 {
            self.capacity = INITIAL_CAPACITY;
        }
        let before = self.add(key, hash, false);
        // putVal: a bucket that had 8 keys is treeified, which doubles a small table instead;
        // then the size check may double it again.
        if before >= TREEIFY_THRESHOLD && self.capacity < MIN_TREEIFY_CAPACITY {
            self.capacity *= 2;
        }
        if self.slots.len() > self.threshold() {
            self.capacity *= 2;
        }
        true
    }

    /// `computeIfAbsent(key, ...)` for a key whose Java `hashCode()` is `hash`: the table may
    /// double first (even when the key is present), then a new key goes to the head of its
    /// bucket. Returns true if the key was new.
    pub fn compute_if_absent(&mut self, key: K, hash: i32) -> bool {
        if self.capacity == 0 {
            self.capacity = INITIAL_CAPACITY;
        } else if self.slots.len() > self.threshold() {
            self.capacity *= 2;
        }
        if self.contains(&key) {
            return false;
        }
        let before = self.add(key, hash, true);
        // Here a bucket that had 7 keys is treeified: a small table doubles instead.
        if before >= TREEIFY_THRESHOLD - 1 && self.capacity < MIN_TREEIFY_CAPACITY {
            self.capacity *= 2;
        }
        true
    }

    /// Adds a key at the tail or the head of its bucket; returns how many keys the bucket held.
    fn add(&mut self, key: K, hash: i32, at_head: bool) -> usize {
        let spread = spread(hash);
        let bucket = self.bucket(spread);
        let before = self
            .slots
            .iter()
            .filter(|s| self.bucket(s.spread) == bucket)
            .count();
        self.inserted += 1;
        let place = if at_head { -self.inserted } else { self.inserted };
        self.slots.push(Slot { key, spread, place });
        before
    }

    /// `HashMap.threshold`: the size past which the table doubles.
    fn threshold(&self) -> usize {
        self.capacity / 4 * 3
    }

    /// `remove(key)`: the other keys keep their order. Returns true if the key was there.
    pub fn remove(&mut self, key: &K) -> bool {
        let before = self.slots.len();
        self.slots.retain(|s| s.key != *key);
        self.slots.len() != before
    }

    /// The first key Java's iterator returns.
    pub fn first(&self) -> Option<&K> {
        self.slots
            .iter()
            .min_by_key(|s| (self.bucket(s.spread), s.place))
            .map(|s| &s.key)
    }

    /// The keys in Java's iteration order.
    pub fn iter_order(&self) -> Vec<&K> {
        let mut slots: Vec<&Slot<K>> = self.slots.iter().collect();
        slots.sort_by_key(|s| (self.bucket(s.spread), s.place));
        slots.into_iter().map(|s| &s.key).collect()
    }

    fn bucket(&self, spread: u32) -> usize {
        spread as usize & (self.capacity - 1)
    }
}

impl<K: PartialEq> Default for JavaHashSet<K> {
    fn default() -> Self {
        JavaHashSet::new()
    }
}

/// `HashMap.hash`: the high half folded into the low half.
fn spread(hash: i32) -> u32 {
    let h = hash as u32;
    h ^ (h >> 16)
}

/// The order a `HashMap<String, _>` filled with `put` in the order of `keys` iterates them, as
/// indices into `keys` (a repeated key keeps its first place).
pub fn string_map_order<S: AsRef<str>>(keys: &[S]) -> Vec<usize> {
    let mut set = JavaHashSet::new();
    for (i, first) in first_occurrences(keys) {
        set.insert(first, string_hash(keys[i].as_ref()));
    }
    set.iter_order().into_iter().copied().collect()
}

/// The order a `HashMap<String, _>` filled by `computeIfAbsent` for each of `keys` in turn (as
/// Kafka's `CollectionUtils.groupPartitionsByTopic` does) iterates them, as indices into `keys`
/// of each key's first occurrence.
pub fn grouping_order<S: AsRef<str>>(keys: &[S]) -> Vec<usize> {
    let mut set = JavaHashSet::new();
    for (i, first) in first_occurrences(keys) {
        set.compute_if_absent(first, string_hash(keys[i].as_ref()));
    }
    set.iter_order().into_iter().copied().collect()
}

/// For each key in turn: its index, and the index of its first occurrence.
fn first_occurrences<S: AsRef<str>>(keys: &[S]) -> Vec<(usize, usize)> {
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    keys.iter()
        .enumerate()
        .map(|(i, k)| (i, *first.entry(k.as_ref()).or_insert(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        // "Aa" and "BB" are Java's classic colliding pair.
        assert_eq!(string_hash("Aa"), 2112);
        assert_eq!(string_hash("BB"), 2112);
        // jshell> "consumer1".hashCode()
        assert_eq!(string_hash("consumer1"), -421_004_549);
        // Wraps like Java's int arithmetic (jshell> "orders-and-payments".hashCode()).
        assert_eq!(string_hash("orders-and-payments"), 1_372_821_579);
    }

    #[test]
    fn compare_is_utf16_order() {
        assert_eq!(compare("consumer10", "consumer2"), Ordering::Less);
        assert_eq!(compare("a", "a"), Ordering::Equal);
        // U+FF21 sorts before U+1F600 in UTF-8 byte order but after its surrogate pair in UTF-16.
        assert_eq!("\u{ff21}".cmp("\u{1f600}"), Ordering::Less);
        assert_eq!(compare("\u{ff21}", "\u{1f600}"), Ordering::Greater);
    }

    /// §8.1: `consumer1`..`consumer4` fall in buckets 12, 11, 10, 9, so a HashMap iterates them
    /// as 4, 3, 2, 1.
    #[test]
    fn consumers_iterate_in_reverse_as_in_java() {
        let keys = ["consumer1", "consumer2", "consumer3", "consumer4"];
        assert_eq!(string_map_order(&keys), vec![3, 2, 1, 0]);
    }

    #[test]
    fn colliding_keys_keep_insertion_order() {
        assert_eq!(string_map_order(&["BB", "Aa"]), vec![0, 1]);
        assert_eq!(string_map_order(&["Aa", "BB"]), vec![0, 1]);
    }

    /// `computeIfAbsent` puts a new key first in its bucket: "Aa" and "BB" (one hash) group as
    /// BB, Aa; a plain `put` keeps them as Aa, BB.
    #[test]
    fn compute_if_absent_puts_new_keys_first() {
        assert_eq!(grouping_order(&["Aa", "Aa", "BB"]), vec![2, 0]);
        assert_eq!(string_map_order(&["Aa", "Aa", "BB"]), vec![0, 2]);
    }

    #[test]
    fn compute_if_absent_doubles_on_the_call_after_the_threshold() {
        let mut set = JavaHashSet::new();
        for k in 0..13 {
            set.compute_if_absent(k, k);
        }
        assert_eq!(set.capacity, 16);
        set.compute_if_absent(0, 0);
        assert_eq!(set.capacity, 32);
    }

    #[test]
    fn the_table_doubles_past_three_quarters() {
        let mut set = JavaHashSet::new();
        for k in 0..12 {
            set.insert(k, k);
        }
        assert_eq!(set.capacity, 16);
        set.insert(12, 12);
        assert_eq!(set.capacity, 32);
        // Keys 0 and 16 share bucket 0 of 16 buckets, but not of 32.
        let mut small = JavaHashSet::new();
        small.insert(16, 16);
        small.insert(0, 0);
        assert_eq!(small.first(), Some(&16));
        for k in 1..12 {
            small.insert(k, k);
        }
        assert_eq!(small.first(), Some(&0));
    }

    #[test]
    fn a_long_bucket_doubles_a_small_table() {
        let mut set = JavaHashSet::new();
        for k in 0..8 {
            set.insert(k, k * 16);
        }
        assert_eq!(set.capacity, 16);
        set.insert(8, 8 * 16);
        assert_eq!(set.capacity, 32);
    }

    #[test]
    fn removing_keeps_the_order_of_the_rest() {
        let mut set = JavaHashSet::new();
        set.insert("x", 5);
        set.insert("y", 5);
        set.insert("z", 5);
        assert!(set.remove(&"x"));
        assert_eq!(set.first(), Some(&"y"));
        set.insert("x", 5);
        assert_eq!(set.iter_order(), vec![&"y", &"z", &"x"]);
    }

    #[test]
    fn topic_partition_hash_matches_java() {
        // jshell> new TopicPartition("topic", 0).hashCode()
        assert_eq!(topic_partition_hash(string_hash("topic"), 0), 110_547_184);
    }
}
